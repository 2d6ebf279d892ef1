/* SPDX-License-Identifier: MIT */
/* Annotation values and keys (config/policy.h), as read from the
 * trusted.tierd.KEY / user.tierd.KEY xattrs. Input "KEY\0VALUE":
 *  - every value parser runs on VALUE; a limit or quantity that parses
 *    prints back (limit_to_string, quantity_to_string) to a text that
 *    parses to the same value (the canonical grammar round trip);
 *  - policy_key_parse(KEY) and policy_spec_set(KEY, VALUE); a set spec,
 *    visited with policy_spec_foreach and set again key by key, gives a
 *    spec that visits to the same key=value list. */
#include "fuzz.h"

#include <errno.h>

#include "policy.h"

typedef struct Collect {
        char text[4096];
        size_t len;
        PolicySpec *into;       /* set each visited pair here too, if not NULL */
} Collect;

static int collect(const char *key, const char *value, void *userdata) {
        Collect *c = userdata;
        const char *why = NULL;
        int n;

        n = snprintf(c->text + c->len, sizeof(c->text) - c->len, "%s=%s\n", key, value);
        FUZZ_CHECK(n > 0 && (size_t) n < sizeof(c->text) - c->len);
        c->len += (size_t) n;
        if (c->into)
                FUZZ_CHECK(policy_spec_set(c->into, key, value, &why) == 0);
        return 0;
}

static void check_limit(const char *s) {
        const char *why = NULL;
        Limit l, l2;
        char buf[64];
        int r;

        r = policy_parse_limit(s, &l, &why);
        if (r < 0) {
                FUZZ_CHECK((r == -EINVAL || r == -ERANGE) && why);
                return;
        }
        limit_to_string(&l, buf, sizeof(buf));
        FUZZ_CHECK(policy_parse_limit(buf, &l2, &why) == 0);
        FUZZ_CHECK(l.kind == l2.kind);
        FUZZ_CHECK(l.kind != LIMIT_BYTES || l.bytes == l2.bytes);
        FUZZ_CHECK(l.kind != LIMIT_PERCENT || (l.permyriad == l2.permyriad && l.permyriad <= 10000));
}

static void check_quantity(const char *s) {
        const char *why = NULL;
        Quantity q, q2;
        char buf[64];
        int r;

        r = policy_parse_quantity(s, &q, &why);
        if (r < 0) {
                FUZZ_CHECK((r == -EINVAL || r == -ERANGE) && why);
                return;
        }
        FUZZ_CHECK(q.set);
        quantity_to_string(&q, buf, sizeof(buf));
        FUZZ_CHECK(policy_parse_quantity(buf, &q2, &why) == 0);
        FUZZ_CHECK(q2.set && q.unlimited == q2.unlimited);
        FUZZ_CHECK(q.unlimited || q.bytes == q2.bytes);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        _cleanup_free_ char *key = NULL;
        const char *why = NULL;
        char *value;
        uint64_t bytes;
        PolicyMode mode;
        PolicyKey k;
        int tier, r;

        if (fuzz_split(data, size, &key, &value) < 0)
                return 0;

        r = policy_parse_size(value, &bytes, &why);
        FUZZ_CHECK(r == 0 || ((r == -EINVAL || r == -ERANGE) && why));
        check_limit(value);
        check_quantity(value);
        r = policy_parse_mode(value, &mode, &why);
        FUZZ_CHECK(r == 0 || why);
        if (r == 0)
                FUZZ_CHECK(strcmp(policy_mode_to_string(mode), value) == 0);
        r = policy_parse_class_name(value, &why);
        FUZZ_CHECK(r == 0 || why);
        if (r == 0)
                FUZZ_CHECK(strlen(value) >= 1 && strlen(value) < POLICY_NAME_MAX);

        r = policy_key_parse(key, &k, &tier);
        FUZZ_CHECK(r == 0 || r == -EINVAL || r == -ERANGE);
        if (r == 0)
                FUZZ_CHECK(tier >= -1 && tier < POLICY_MAX_TIERS);

        {
                PolicySpec spec = { 0 }, again = { 0 };
                Collect c1 = { .into = &again }, c2 = { 0 };

                r = policy_spec_set(&spec, key, value, &why);
                FUZZ_CHECK(r == 0 || ((r == -EINVAL || r == -ERANGE || r == -ENOKEY) && why));
                if (r < 0)
                        return 0;
                FUZZ_CHECK(policy_spec_foreach(&spec, collect, &c1) == 0);
                FUZZ_CHECK(policy_spec_foreach(&again, collect, &c2) == 0);
                FUZZ_CHECK(c1.len > 0 && c1.len == c2.len && memcmp(c1.text, c2.text, c1.len) == 0);
        }
        return 0;
}
