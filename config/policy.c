/* SPDX-License-Identifier: MIT */
/* The policy keys and their value grammar; see policy.h. Everything here is
 * pure: no I/O, no allocation except in policy_spec_foreach's callers. */
#include "policy.h"

#include <assert.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "util.h"

/* The reasons below are printed after the quoted value: "12Q" is not a size. */
#define WHY_NOT_SIZE "is not a size"
#define WHY_TOO_LARGE "is too large"

static_assert(POLICY_MAX_TIERS == 4, "update WHY_TIER_RANGE");
#define WHY_TIER_RANGE "is for a tier out of range (tiers are 0..3)"
#define WHY_UNKNOWN_KEY "is for an unknown key"

static bool is_digit(char c) {
        return c >= '0' && c <= '9';
}

static char lower(char c) {
        return c >= 'A' && c <= 'Z' ? (char) (c - 'A' + 'a') : c;
}

static const struct {
        const char *name;
        PolicyKey key;
} simple_keys[] = {
        { "class", KEY_CLASS },
        { "mode", KEY_MODE },
        { "promote.rate", KEY_PROMOTE_RATE },
        { "promote.burst", KEY_PROMOTE_BURST },
        { "demote.rate", KEY_DEMOTE_RATE },
        { "demote.burst", KEY_DEMOTE_BURST },
};

int policy_key_parse(const char *name, PolicyKey *ret_key, int *ret_tier) {
        const char *p, *dot;
        uint64_t idx = 0;
        PolicyKey key;

        for (size_t i = 0; i < ELEMENTSOF(simple_keys); i++)
                if (strcmp(name, simple_keys[i].name) == 0) {
                        if (ret_key)
                                *ret_key = simple_keys[i].key;
                        if (ret_tier)
                                *ret_tier = -1;
                        return 0;
                }

        /* tierN.max, tierN.low: N in decimal without leading zeros. */
        if (strncmp(name, "tier", 4) != 0)
                return -EINVAL;
        p = name + 4;
        dot = strchr(p, '.');
        if (!dot || dot == p || (p[0] == '0' && dot - p > 1))
                return -EINVAL;
        for (const char *q = p; q < dot; q++) {
                if (!is_digit(*q))
                        return -EINVAL;
                if (idx < POLICY_MAX_TIERS)
                        idx = idx * 10 + (uint64_t) (*q - '0');
        }
        if (strcmp(dot, ".max") == 0)
                key = KEY_TIER_MAX;
        else if (strcmp(dot, ".low") == 0)
                key = KEY_TIER_LOW;
        else
                return -EINVAL;
        if (idx >= POLICY_MAX_TIERS)
                return -ERANGE;
        if (ret_key)
                *ret_key = key;
        if (ret_tier)
                *ret_tier = (int) idx;
        return 0;
}

/* floor(frac / 10^ndigits * 2^shift), exactly, by binary long division:
 * frac < 10^ndigits <= 10^18 < 2^60, so the remainder never overflows. */
static uint64_t scale_fraction(uint64_t frac, uint64_t pow10, unsigned shift) {
        uint64_t q = 0, rem = frac;

        for (unsigned i = 0; i < shift; i++) {
                rem *= 2;
                q = q * 2 + rem / pow10;
                rem %= pow10;
        }
        return q;
}

int policy_parse_size(const char *s, uint64_t *ret, const char **ret_why) {
        static const char units[] = "kmgtpe";
        uint64_t whole = 0, frac = 0, pow10 = 1, v;
        unsigned shift = 0;
        bool has_frac = false, overflow = false;
        const char *p = s;

        if (!is_digit(*p))
                goto not_size;
        for (; is_digit(*p); p++) {
                unsigned d = (unsigned) (*p - '0');

                /* Keep reading on overflow: a syntax error wins. */
                if (whole > (UINT64_MAX - d) / 10)
                        overflow = true;
                else
                        whole = whole * 10 + d;
        }
        if (*p == '.') {
                p++;
                if (!is_digit(*p))
                        goto not_size;
                for (; is_digit(*p); p++) {
                        if (pow10 == UINT64_C(1000000000000000000))
                                goto not_size; /* more than 18 decimals: not a size anyone means */
                        frac = frac * 10 + (uint64_t) (*p - '0');
                        pow10 *= 10;
                }
                has_frac = true;
        }

        if (*p && *p != 'b' && *p != 'B') {
                const char *u = strchr(units, lower(*p));

                if (!u)
                        goto not_size;
                shift = 10 * (unsigned) (u - units + 1);
                p++;
                if (lower(p[0]) == 'i' && lower(p[1]) == 'b')
                        p += 2;
                else if (lower(p[0]) == 'b')
                        p++;
        } else if (*p)
                p++; /* a plain "B" */
        if (*p)
                goto not_size;
        if (has_frac && shift == 0) {
                if (ret_why)
                        *ret_why = "is not a whole number of bytes (a fraction needs a unit)";
                return -EINVAL;
        }

        if (overflow || (shift > 0 && whole > (UINT64_MAX >> shift)))
                goto too_large;
        v = whole << shift;
        if (has_frac) {
                uint64_t f = scale_fraction(frac, pow10, shift);

                if (v > UINT64_MAX - f)
                        goto too_large;
                v += f;
        }
        *ret = v;
        return 0;

not_size:
        if (ret_why)
                *ret_why = WHY_NOT_SIZE;
        return -EINVAL;
too_large:
        if (ret_why)
                *ret_why = WHY_TOO_LARGE;
        return -ERANGE;
}

/* "12.5%" -> 1250; up to two decimals, 0..100. */
static int parse_percent(const char *s, uint32_t *ret, const char **ret_why) {
        uint64_t v = 0;
        unsigned decimals = 0;
        bool over = false;
        const char *p = s;

        if (!is_digit(*p))
                goto not_percent;
        for (; is_digit(*p); p++) {
                v = v * 10 + (uint64_t) (*p - '0');
                if (v > 100) {
                        over = true;
                        v = 101; /* keep it small; the value is rejected anyway */
                }
        }
        if (*p == '.') {
                p++;
                if (!is_digit(*p))
                        goto not_percent;
                for (; is_digit(*p); p++, decimals++)
                        if (decimals < 2)
                                v = v * 10 + (uint64_t) (*p - '0');
                if (decimals > 2) {
                        if (ret_why)
                                *ret_why = "has more than two decimals";
                        return -EINVAL;
                }
        }
        if (p[0] != '%' || p[1] != '\0')
                goto not_percent;
        for (; decimals < 2; decimals++)
                v *= 10;
        if (over || v > 10000) {
                if (ret_why)
                        *ret_why = "is above 100%";
                return -ERANGE;
        }
        *ret = (uint32_t) v;
        return 0;

not_percent:
        if (ret_why)
                *ret_why = "is not a percentage";
        return -EINVAL;
}

static bool ends_with_percent(const char *s) {
        size_t n = strlen(s);

        return n > 0 && s[n - 1] == '%';
}

int policy_parse_limit(const char *s, Limit *ret, const char **ret_why) {
        uint64_t bytes;
        uint32_t pm;
        int r;

        if (strcmp(s, "max") == 0) {
                *ret = (Limit) { .kind = LIMIT_MAX };
                return 0;
        }
        if (ends_with_percent(s)) {
                r = parse_percent(s, &pm, ret_why);
                if (r < 0)
                        return r;
                *ret = (Limit) { .kind = LIMIT_PERCENT, .permyriad = pm };
                return 0;
        }
        r = policy_parse_size(s, &bytes, ret_why);
        if (r < 0)
                return r;
        *ret = (Limit) { .kind = LIMIT_BYTES, .bytes = bytes };
        return 0;
}

int policy_parse_quantity(const char *s, Quantity *ret, const char **ret_why) {
        uint64_t bytes;
        int r;

        if (strcmp(s, "max") == 0) {
                *ret = (Quantity) { .set = true, .unlimited = true };
                return 0;
        }
        if (ends_with_percent(s)) {
                if (ret_why)
                        *ret_why = "is a percentage, but rates and bursts take a size or max";
                return -EINVAL;
        }
        r = policy_parse_size(s, &bytes, ret_why);
        if (r < 0)
                return r;
        *ret = (Quantity) { .set = true, .bytes = bytes };
        return 0;
}

static const char *const mode_names[] = {
        [MODE_UNSET] = "unset",
        [MODE_OFF] = "off",
        [MODE_OBSERVE] = "observe",
        [MODE_ENFORCE] = "enforce",
};

int policy_parse_mode(const char *s, PolicyMode *ret, const char **ret_why) {
        for (PolicyMode m = MODE_OFF; m <= MODE_ENFORCE; m++)
                if (strcmp(s, mode_names[m]) == 0) {
                        *ret = m;
                        return 0;
                }
        if (ret_why)
                *ret_why = "is not one of enforce, observe, off";
        return -EINVAL;
}

const char *policy_mode_to_string(PolicyMode m) {
        if ((unsigned) m >= ELEMENTSOF(mode_names))
                return "invalid";
        return mode_names[m];
}

int policy_parse_class_name(const char *s, const char **ret_why) {
        size_t n = strlen(s);

        if (n == 0) {
                if (ret_why)
                        *ret_why = "is not a class name: it is empty";
                return -EINVAL;
        }
        if (n >= POLICY_NAME_MAX) {
                if (ret_why)
                        *ret_why = "is too long for a class name (at most 63 characters)";
                return -ERANGE;
        }
        if (strspn(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-") != n) {
                if (ret_why)
                        *ret_why = "is not a class name (letters, digits, '_' and '-' only)";
                return -EINVAL;
        }
        return 0;
}

static Quantity *spec_quantity(PolicySpec *spec, PolicyKey key) {
        switch (key) {
        case KEY_PROMOTE_RATE:
                return &spec->promote_rate;
        case KEY_PROMOTE_BURST:
                return &spec->promote_burst;
        case KEY_DEMOTE_RATE:
                return &spec->demote_rate;
        case KEY_DEMOTE_BURST:
                return &spec->demote_burst;
        default:
                return NULL;
        }
}

int policy_spec_set(PolicySpec *spec, const char *key, const char *value, const char **ret_why) {
        PolicyKey k;
        PolicyMode mode;
        Quantity q;
        Limit l;
        int tier, r;

        r = policy_key_parse(key, &k, &tier);
        if (r < 0) {
                /* -ENOKEY: the key, not the value, is wrong. The reason
                 * reads well after either quoted ("tier9.max" or "1G"). */
                if (ret_why)
                        *ret_why = r == -ERANGE ? WHY_TIER_RANGE : WHY_UNKNOWN_KEY;
                return -ENOKEY;
        }

        switch (k) {
        case KEY_CLASS:
                r = policy_parse_class_name(value, ret_why);
                if (r < 0)
                        return r;
                snprintf(spec->class_name, sizeof(spec->class_name), "%s", value);
                return 0;
        case KEY_MODE:
                r = policy_parse_mode(value, &mode, ret_why);
                if (r < 0)
                        return r;
                spec->mode = mode;
                return 0;
        case KEY_PROMOTE_RATE:
        case KEY_PROMOTE_BURST:
        case KEY_DEMOTE_RATE:
        case KEY_DEMOTE_BURST:
                r = policy_parse_quantity(value, &q, ret_why);
                if (r < 0)
                        return r;
                *spec_quantity(spec, k) = q;
                return 0;
        case KEY_TIER_MAX:
        case KEY_TIER_LOW:
                r = policy_parse_limit(value, &l, ret_why);
                if (r < 0)
                        return r;
                if (k == KEY_TIER_MAX)
                        spec->tier_max[tier] = l;
                else
                        spec->tier_low[tier] = l;
                return 0;
        default:
                break;
        }
        if (ret_why)
                *ret_why = WHY_UNKNOWN_KEY;
        return -ENOKEY;
}

void policy_spec_overlay(PolicySpec *dst, const PolicySpec *src) {
        if (src->class_name[0])
                memcpy(dst->class_name, src->class_name, sizeof(dst->class_name));
        if (src->mode != MODE_UNSET)
                dst->mode = src->mode;
        if (src->promote_rate.set)
                dst->promote_rate = src->promote_rate;
        if (src->promote_burst.set)
                dst->promote_burst = src->promote_burst;
        if (src->demote_rate.set)
                dst->demote_rate = src->demote_rate;
        if (src->demote_burst.set)
                dst->demote_burst = src->demote_burst;
        for (int t = 0; t < POLICY_MAX_TIERS; t++) {
                if (src->tier_max[t].kind != LIMIT_UNSET)
                        dst->tier_max[t] = src->tier_max[t];
                if (src->tier_low[t].kind != LIMIT_UNSET)
                        dst->tier_low[t] = src->tier_low[t];
        }
}

static const char *bytes_to_string(uint64_t bytes, char *buf, size_t size) {
        static const char units[] = "KMGTPE";
        int u = -1;

        /* The largest unit that divides exactly; plain bytes otherwise. */
        if (bytes > 0)
                while (u + 1 < (int) strlen(units) && bytes % (UINT64_C(1) << (10 * (u + 2))) == 0)
                        u++;
        if (u < 0)
                snprintf(buf, size, "%" PRIu64, bytes);
        else
                snprintf(buf, size, "%" PRIu64 "%c", bytes >> (10 * (u + 1)), units[u]);
        return buf;
}

const char *limit_to_string(const Limit *l, char *buf, size_t size) {
        switch (l->kind) {
        case LIMIT_BYTES:
                return bytes_to_string(l->bytes, buf, size);
        case LIMIT_PERCENT: {
                uint32_t whole = l->permyriad / 100, hundredths = l->permyriad % 100;

                if (hundredths == 0)
                        snprintf(buf, size, "%" PRIu32 "%%", whole);
                else if (hundredths % 10 == 0)
                        snprintf(buf, size, "%" PRIu32 ".%" PRIu32 "%%", whole, hundredths / 10);
                else
                        snprintf(buf, size, "%" PRIu32 ".%02" PRIu32 "%%", whole, hundredths);
                return buf;
        }
        case LIMIT_MAX:
                snprintf(buf, size, "max");
                return buf;
        default:
                snprintf(buf, size, "unset");
                return buf;
        }
}

const char *quantity_to_string(const Quantity *q, char *buf, size_t size) {
        if (!q->set)
                snprintf(buf, size, "unset");
        else if (q->unlimited)
                snprintf(buf, size, "max");
        else
                bytes_to_string(q->bytes, buf, size);
        return buf;
}

int policy_spec_foreach(const PolicySpec *spec, PolicySpecVisit visit, void *userdata) {
        static const char *const qnames[] = { "promote.rate", "promote.burst", "demote.rate", "demote.burst" };
        const Quantity *qs[] = { &spec->promote_rate, &spec->promote_burst, &spec->demote_rate, &spec->demote_burst };
        char buf[32], key[16];
        int r;

        if (spec->class_name[0]) {
                r = visit("class", spec->class_name, userdata);
                if (r < 0)
                        return r;
        }
        if (spec->mode != MODE_UNSET) {
                r = visit("mode", policy_mode_to_string(spec->mode), userdata);
                if (r < 0)
                        return r;
        }
        for (size_t i = 0; i < ELEMENTSOF(qs); i++) {
                if (!qs[i]->set)
                        continue;
                r = visit(qnames[i], quantity_to_string(qs[i], buf, sizeof(buf)), userdata);
                if (r < 0)
                        return r;
        }
        for (int t = 0; t < POLICY_MAX_TIERS; t++) {
                if (spec->tier_max[t].kind != LIMIT_UNSET) {
                        snprintf(key, sizeof(key), "tier%d.max", t);
                        r = visit(key, limit_to_string(&spec->tier_max[t], buf, sizeof(buf)), userdata);
                        if (r < 0)
                                return r;
                }
                if (spec->tier_low[t].kind != LIMIT_UNSET) {
                        snprintf(key, sizeof(key), "tier%d.low", t);
                        r = visit(key, limit_to_string(&spec->tier_low[t], buf, sizeof(buf)), userdata);
                        if (r < 0)
                                return r;
                }
        }
        return 0;
}

uint64_t limit_resolve(const Limit *l, uint64_t usage) {
        switch (l->kind) {
        case LIMIT_BYTES:
                return l->bytes;
        case LIMIT_PERCENT:
                /* usage * p / 10000 rounded down, without overflowing. */
                return (usage / 10000) * l->permyriad + (usage % 10000) * l->permyriad / 10000;
        default:
                return UINT64_MAX;
        }
}
