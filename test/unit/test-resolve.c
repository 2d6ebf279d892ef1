/* SPDX-License-Identifier: MIT */
/* Resolution: rules, annotations, hierarchy, delegation, provenance. */
#include <check.h>

#include "unit.h"
#include <string.h>

#include "config.h"
#include "resolve.h"
#include "util.h"

static Config *cfg;
static Resolution *res;

static void setup(void) {
        char *err = NULL;

        ck_assert_int_eq(config_new_default(&cfg), 0);
        ck_assert_msg(config_apply_json(cfg, "test.json",
                                         "{\"rules\": ["
                                         " {\"match\": \"kubepods.slice/kubepods-besteffort.slice\", \"policy\": {\"class\": \"batch\"}},"
                                         " {\"match\": \"limited\", \"policy\": {\"tier0.max\": \"1G\"}},"
                                         " {\"match\": \"limited\", \"policy\": {\"tier0.low\": \"256M\"}},"
                                         " {\"match\": \"**/kubepods/pod*\", \"policy\": {\"class\": \"latency\"}},"
                                         " {\"match\": \"**/kubepods/besteffort\", \"policy\": {\"class\": \"scavenger\"}},"
                                         " {\"match\": \"**/fast\", \"policy\": {\"tier0.low\": \"8G\", \"tier0.max\": \"max\","
                                         "  \"promote.rate\": \"max\", \"demote.rate\": \"1G\", \"mode\": \"observe\"}},"
                                         " {\"match\": \"user.slice/user@*.service\", \"policy\": {\"tier0.low\": \"2G\", \"tier0.max\": \"4G\"}}"
                                         "]}",
                                         &err) == 0,
                      "config: %s", err ? err : "?");
        free(err);
        res = resolution_new(cfg, NULL, NULL);
        ck_assert_ptr_nonnull(res);
}

static void teardown(void) {
        res = resolution_free(res);
        cfg = config_free(cfg);
}

static void annotate(Annotations *a, bool trusted, const char *key, const char *value) {
        Annotation *x = &a->items[a->n++];

        *x = (Annotation) { .trusted = trusted };
        snprintf(x->key, sizeof(x->key), "%s", key);
        snprintf(x->value, sizeof(x->value), "%s", value);
}

static const char *class_name(const EffectivePolicy *p) {
        return cfg->classes[p->class_index].name;
}

START_TEST(test_resolve_defaults_and_builtin) {
        ResolveInput in[2] = {
                { .path = "", .parent = -1 },
                { .path = "a", .parent = 0, .usage = 1 << 20 },
        };
        EffectivePolicy out[2];

        ck_assert_int_eq(resolve_policies(res, in, 2, out), 0);
        ck_assert_str_eq(class_name(&out[1]), "standard");
        ck_assert_int_eq(out[1].mode, MODE_ENFORCE);
        ck_assert_uint_eq(out[1].tier_max[0].bytes, UINT64_MAX);
        ck_assert_uint_eq(out[1].tier_low[0].bytes, 0);
        ck_assert_int_eq(out[1].n_errors, 0);
        ck_assert(!out[1].delegated);
}
END_TEST

START_TEST(test_resolve_rule_class_is_inherited_by_children) {
        ResolveInput in[4] = {
                { .path = "", .parent = -1 },
                { .path = "kubepods.slice", .parent = 0 },
                { .path = "kubepods.slice/kubepods-besteffort.slice", .parent = 1 },
                { .path = "kubepods.slice/kubepods-besteffort.slice/pod1", .parent = 2 },
        };
        EffectivePolicy out[4];

        ck_assert_int_eq(resolve_policies(res, in, 4, out), 0);
        ck_assert_str_eq(class_name(&out[1]), "standard");
        ck_assert_str_eq(class_name(&out[2]), "batch");
        ck_assert_int_eq(out[2].class_origin.kind, ORIGIN_RULE);
        ck_assert_str_eq(class_name(&out[3]), "batch");
        ck_assert_int_eq(out[3].class_origin.kind, ORIGIN_RULE);
        ck_assert_ptr_nonnull(strstr(origin_where(res, &out[3].class_origin), "test.json"));
        /* the class's default quota applies, and says so */
        ck_assert_int_eq(out[3].promote_rate.origin.kind, ORIGIN_CLASS);
        ck_assert_str_eq(origin_where(res, &out[3].promote_rate.origin), "batch");
}
END_TEST

START_TEST(test_resolve_trusted_wins_over_user_and_rule) {
        Annotations a = { 0 };
        ResolveInput in[2] = {
                { .path = "", .parent = -1 },
                { .path = "limited", .parent = 0, .annotations = &a },
        };
        EffectivePolicy out[2];

        annotate(&a, false, "tier0.max", "128M");
        annotate(&a, true, "tier0.max", "512M");
        ck_assert_int_eq(resolve_policies(res, in, 2, out), 0);
        ck_assert_uint_eq(out[1].tier_max[0].bytes, 512ull << 20);
        ck_assert_int_eq(out[1].tier_max[0].origin.kind, ORIGIN_TRUSTED);
        ck_assert_str_eq(origin_where(res, &out[1].tier_max[0].origin), "limited");
        /* without the trusted one, the (root-owned) user one beats the rule */
        a.n = 1;
        ck_assert_int_eq(resolve_policies(res, in, 2, out), 0);
        ck_assert_uint_eq(out[1].tier_max[0].bytes, 128ull << 20);
        ck_assert_int_eq(out[1].tier_max[0].origin.kind, ORIGIN_USER);
        a.n = 0;
        ck_assert_int_eq(resolve_policies(res, in, 2, out), 0);
        ck_assert_uint_eq(out[1].tier_max[0].bytes, 1ull << 30);
        ck_assert_int_eq(out[1].tier_max[0].origin.kind, ORIGIN_RULE);
}
END_TEST

START_TEST(test_resolve_child_clamped_to_ancestor) {
        Annotations pa = { 0 }, ca = { 0 };
        ResolveInput in[3] = {
                { .path = "", .parent = -1 },
                { .path = "p", .parent = 0, .annotations = &pa },
                { .path = "p/c", .parent = 1, .annotations = &ca, .usage = 8ull << 30 },
        };
        EffectivePolicy out[3];

        annotate(&pa, true, "tier0.max", "1G");
        annotate(&pa, true, "tier0.low", "1G");
        annotate(&pa, true, "promote.rate", "16M");
        annotate(&ca, true, "tier0.max", "4G");
        annotate(&ca, true, "tier0.low", "2G");
        annotate(&ca, true, "promote.rate", "max");
        ck_assert_int_eq(resolve_policies(res, in, 3, out), 0);
        ck_assert_uint_eq(out[2].tier_max[0].bytes, 1ull << 30);
        ck_assert_int_eq(out[2].tier_max[0].origin.kind, ORIGIN_TRUSTED);
        ck_assert_str_eq(origin_where(res, &out[2].tier_max[0].origin), "p");
        ck_assert_ptr_nonnull(strstr(origin_note(res, &out[2].tier_max[0].origin), "clamped"));
        ck_assert_uint_eq(out[2].tier_low[0].bytes, 1ull << 30);
        ck_assert(!out[2].promote_rate.value.unlimited);
        ck_assert_uint_eq(out[2].promote_rate.value.bytes, 16ull << 20);
        /* a grandchild without annotations inherits the clamp too */
}
END_TEST

START_TEST(test_resolve_percentage_of_usage) {
        Annotations a = { 0 };
        ResolveInput in[2] = {
                { .path = "", .parent = -1 },
                { .path = "x", .parent = 0, .annotations = &a, .usage = 400ull << 20 },
        };
        EffectivePolicy out[2];

        annotate(&a, true, "tier0.max", "25%");
        ck_assert_int_eq(resolve_policies(res, in, 2, out), 0);
        ck_assert_uint_eq(out[1].tier_max[0].bytes, 100ull << 20);
        ck_assert_int_eq(out[1].tier_max[0].spec.kind, LIMIT_PERCENT);
}
END_TEST

START_TEST(test_resolve_delegated_user_cannot_raise) {
        Annotations ca = { 0 };
        ResolveInput in[4] = {
                { .path = "", .parent = -1 },
                { .path = "kubepods.slice", .parent = 0 },
                { .path = "kubepods.slice/kubepods-besteffort.slice", .parent = 1 },
                { .path = "kubepods.slice/kubepods-besteffort.slice/mine", .parent = 2, .owner = 1000,
                  .annotations = &ca, .usage = 1ull << 30 },
        };
        EffectivePolicy out[4];

        annotate(&ca, false, "class", "critical");
        annotate(&ca, false, "promote.rate", "max");
        annotate(&ca, false, "demote.rate", "1");
        annotate(&ca, false, "mode", "off");
        ck_assert_int_eq(resolve_policies(res, in, 4, out), 0);
        ck_assert(out[3].delegated);
        ck_assert_str_eq(class_name(&out[3]), "batch");
        ck_assert_ptr_nonnull(strstr(origin_note(res, &out[3].class_origin), "user.tierd.class=critical refused"));
        ck_assert(!out[3].promote_rate.value.unlimited);
        ck_assert_ptr_nonnull(strstr(origin_note(res, &out[3].promote_rate.origin), "refused"));
        ck_assert_int_ne(out[3].demote_rate.value.bytes, 1);
        ck_assert_ptr_nonnull(strstr(origin_note(res, &out[3].demote_rate.origin), "not delegable"));
        ck_assert_int_eq(out[3].mode, MODE_ENFORCE);
        ck_assert_ptr_nonnull(strstr(origin_note(res, &out[3].mode_origin), "refused"));
}
END_TEST

START_TEST(test_resolve_delegated_user_cannot_loosen_own_rule_limit) {
        Annotations ca = { 0 };
        ResolveInput in[2] = {
                { .path = "", .parent = -1 },
                { .path = "limited", .parent = 0, .owner = 1000, .annotations = &ca, .usage = 4ull << 30 },
        };
        EffectivePolicy out[2];

        annotate(&ca, false, "tier0.max", "max");
        annotate(&ca, false, "tier0.low", "2G");
        ck_assert_int_eq(resolve_policies(res, in, 2, out), 0);
        ck_assert_uint_eq(out[1].tier_max[0].bytes, 1ull << 30);
        ck_assert_int_eq(out[1].tier_max[0].origin.kind, ORIGIN_RULE);
        ck_assert_ptr_nonnull(strstr(origin_note(res, &out[1].tier_max[0].origin), "user.tierd.tier0.max=max refused"));
        ck_assert_uint_eq(out[1].tier_low[0].bytes, 256ull << 20);
        ck_assert_ptr_nonnull(strstr(origin_note(res, &out[1].tier_low[0].origin), "refused"));
}
END_TEST

START_TEST(test_resolve_delegated_user_may_tighten) {
        Annotations ca = { 0 };
        ResolveInput in[3] = {
                { .path = "", .parent = -1 },
                { .path = "kubepods.slice", .parent = 0 },
                { .path = "kubepods.slice/mine", .parent = 1, .owner = 1000, .annotations = &ca, .usage = 1ull << 30 },
        };
        EffectivePolicy out[3];

        annotate(&ca, false, "class", "scavenger");
        annotate(&ca, false, "tier0.max", "64M");
        annotate(&ca, false, "promote.rate", "1M");
        annotate(&ca, false, "mode", "enforce");
        ck_assert_int_eq(resolve_policies(res, in, 3, out), 0);
        ck_assert_str_eq(class_name(&out[2]), "scavenger");
        ck_assert_int_eq(out[2].class_origin.kind, ORIGIN_USER);
        ck_assert_uint_eq(out[2].tier_max[0].bytes, 64ull << 20);
        ck_assert_int_eq(out[2].tier_max[0].origin.kind, ORIGIN_USER);
        ck_assert_uint_eq(out[2].promote_rate.value.bytes, 1ull << 20);
        ck_assert_str_eq(origin_note(res, &out[2].tier_max[0].origin), "");
}
END_TEST

START_TEST(test_resolve_root_owned_user_annotation_is_operator) {
        Annotations ca = { 0 };
        ResolveInput in[3] = {
                { .path = "", .parent = -1 },
                { .path = "kubepods.slice", .parent = 0 },
                { .path = "kubepods.slice/kubepods-besteffort.slice", .parent = 1, .owner = 0, .annotations = &ca },
        };
        EffectivePolicy out[3];

        annotate(&ca, false, "class", "critical");
        ck_assert_int_eq(resolve_policies(res, in, 3, out), 0);
        ck_assert_str_eq(class_name(&out[2]), "critical");
}
END_TEST

/* The security report's case: uid 1000 owns user@1000.service, which the
 * operator made batch; the user creates kubepods/pod-x below it, which the
 * rule **\/kubepods/pod* would make latency. */
#define USER_TREE(ua, pa)                                                                                    \
        { .path = "", .parent = -1 }, { .path = "user.slice", .parent = 0 },                                \
        { .path = "user.slice/user@1000.service", .parent = 1, .owner = 1000, .annotations = (ua) },       \
        { .path = "user.slice/user@1000.service/kubepods", .parent = 2, .owner = 1000 },                   \
        { .path = "user.slice/user@1000.service/kubepods/pod-x", .parent = 3, .owner = 1000,              \
          .annotations = (pa), .usage = 1ull << 30 }

START_TEST(test_resolve_rule_in_delegated_subtree_cannot_raise_class) {
        Annotations ua = { 0 };
        ResolveInput in[] = { USER_TREE(&ua, NULL) };
        EffectivePolicy out[5];

        annotate(&ua, true, "class", "batch");
        ck_assert_int_eq(resolve_policies(res, in, 5, out), 0);
        ck_assert_str_eq(class_name(&out[4]), "batch");
        ck_assert_int_eq(out[4].class_origin.kind, ORIGIN_TRUSTED);
        ck_assert_str_eq(origin_where(res, &out[4].class_origin), "user.slice/user@1000.service");
        ck_assert_msg(strstr(origin_note(res, &out[4].class_origin),
                             "rule test.json: rules[3] class=latency refused: a rule in a delegated subtree (owner uid "
                             "1000) cannot raise its class above batch"),
                      "note: %s", origin_note(res, &out[4].class_origin));
        /* the same rule outside a delegated subtree applies */
        in[3].owner = in[4].owner = 0;
        in[2].owner = 0;
        ck_assert_int_eq(resolve_policies(res, in, 5, out), 0);
        ck_assert_str_eq(class_name(&out[4]), "latency");
        ck_assert_int_eq(out[4].class_origin.kind, ORIGIN_RULE);
}
END_TEST

START_TEST(test_resolve_rule_applies_in_full_to_the_delegation_root) {
        Annotations ua = { 0 };
        ResolveInput in[] = { USER_TREE(&ua, NULL) };
        EffectivePolicy out[5];

        ck_assert_int_eq(resolve_policies(res, in, 5, out), 0);
        /* user@1000.service was named by root in a root-owned slice */
        ck_assert(out[2].delegated);
        ck_assert_uint_eq(out[2].tier_low[0].bytes, 2ull << 30);
        ck_assert_int_eq(out[2].tier_low[0].origin.kind, ORIGIN_RULE);
        ck_assert_uint_eq(out[2].tier_max[0].bytes, 4ull << 30);
        /* without an annotation the pod inherits user.slice's standard,
         * and the rule's latency is refused all the same */
        ck_assert_str_eq(class_name(&out[4]), "standard");
        ck_assert_ptr_nonnull(strstr(origin_note(res, &out[4].class_origin), "class=latency refused"));
}
END_TEST

START_TEST(test_resolve_rule_in_delegated_subtree_may_tighten) {
        Annotations ua = { 0 };
        ResolveInput in[] = {
                { .path = "", .parent = -1 },
                { .path = "user.slice", .parent = 0 },
                { .path = "user.slice/user@1000.service", .parent = 1, .owner = 1000, .annotations = &ua },
                { .path = "user.slice/user@1000.service/kubepods", .parent = 2, .owner = 1000 },
                { .path = "user.slice/user@1000.service/kubepods/besteffort", .parent = 3, .owner = 1000 },
        };
        EffectivePolicy out[5];

        annotate(&ua, true, "class", "batch");
        ck_assert_int_eq(resolve_policies(res, in, 5, out), 0);
        ck_assert_str_eq(class_name(&out[4]), "scavenger");
        ck_assert_int_eq(out[4].class_origin.kind, ORIGIN_RULE);
        ck_assert_str_eq(origin_note(res, &out[4].class_origin), "");
}
END_TEST

START_TEST(test_resolve_rule_in_delegated_subtree_cannot_loosen) {
        ResolveInput in[] = {
                { .path = "", .parent = -1 },
                { .path = "user.slice", .parent = 0 },
                { .path = "user.slice/user@1000.service", .parent = 1, .owner = 1000 },
                { .path = "user.slice/user@1000.service/fast", .parent = 2, .owner = 1000, .usage = 16ull << 30 },
        };
        EffectivePolicy out[4];

        ck_assert_int_eq(resolve_policies(res, in, 4, out), 0);
        /* tier0.low: the parent protects 2G, fast itself nothing */
        ck_assert_uint_eq(out[3].tier_low[0].bytes, 0);
        ck_assert_ptr_nonnull(strstr(origin_note(res, &out[3].tier_low[0].origin), "tier0.low=8G refused"));
        ck_assert_uint_eq(out[3].tier_max[0].bytes, 4ull << 30);
        ck_assert(!out[3].promote_rate.value.unlimited);
        ck_assert_ptr_nonnull(strstr(origin_note(res, &out[3].promote_rate.origin), "promote.rate=max refused"));
        ck_assert_uint_eq(out[3].demote_rate.value.bytes, 512ull << 20);
        ck_assert_ptr_nonnull(strstr(origin_note(res, &out[3].demote_rate.origin), "not delegable"));
        ck_assert_int_eq(out[3].mode, MODE_ENFORCE);
        ck_assert_ptr_nonnull(strstr(origin_note(res, &out[3].mode_origin), "mode=observe refused"));
}
END_TEST

START_TEST(test_resolve_root_owned_cgroup_below_delegated_is_delegated) {
        Annotations ca = { 0 };
        ResolveInput in[] = {
                { .path = "", .parent = -1 },
                { .path = "d", .parent = 0, .owner = 1000 },
                { .path = "d/x", .parent = 1, .owner = 0, .annotations = &ca },
        };
        EffectivePolicy out[3];

        annotate(&ca, false, "class", "critical");
        ck_assert_int_eq(resolve_policies(res, in, 3, out), 0);
        ck_assert(out[2].delegated);
        ck_assert_int_eq(out[2].delegation_root, 1);
        ck_assert_str_eq(class_name(&out[2]), "standard");
        ck_assert_msg(strstr(origin_note(res, &out[2].class_origin), "a delegated cgroup (below delegated d)"), "note: %s",
                      origin_note(res, &out[2].class_origin));
}
END_TEST

/* A root-owned subtree that a rootful container manager (no user
 * namespaces) hands out: systemd's delegate xattr marks it. */
START_TEST(test_resolve_delegate_xattr_marks_a_root_owned_subtree) {
        Annotations ca = { 0 }, ia = { 0 };
        ResolveInput in[] = {
                { .path = "", .parent = -1 },
                { .path = "ctr", .parent = 0, .annotations = &ca },
                { .path = "ctr/inner", .parent = 1, .annotations = &ia, .usage = 1ull << 30 },
                { .path = "ctr/inner/kubepods", .parent = 2 },
                { .path = "ctr/inner/kubepods/pod-y", .parent = 3 },
        };
        EffectivePolicy out[5];

        annotate(&ca, true, "class", "batch");
        annotate(&ca, true, "tier0.max", "256M");
        annotate(&ia, false, "class", "critical");
        annotate(&ia, false, "tier0.max", "1G");
        /* without the mark, root's user.tierd.* is the operator's */
        ck_assert_int_eq(resolve_policies(res, in, 5, out), 0);
        ck_assert(!out[2].delegated);
        ck_assert_str_eq(class_name(&out[2]), "critical");
        ck_assert_str_eq(class_name(&out[4]), "latency");

        ca.delegate = true;
        ck_assert_int_eq(resolve_policies(res, in, 5, out), 0);
        ck_assert(out[1].delegated && out[2].delegated && out[4].delegated);
        ck_assert_int_eq(out[4].delegation_root, 1);
        ck_assert_str_eq(class_name(&out[1]), "batch");
        ck_assert_str_eq(class_name(&out[2]), "batch");
        ck_assert_msg(strstr(origin_note(res, &out[2].class_origin),
                             "user.tierd.class=critical refused: a delegated cgroup (below delegated ctr)"),
                      "note: %s", origin_note(res, &out[2].class_origin));
        ck_assert_uint_eq(out[2].tier_max[0].bytes, 256ull << 20);
        ck_assert_ptr_nonnull(strstr(origin_note(res, &out[2].tier_max[0].origin), "user.tierd.tier0.max=1G refused"));
        ck_assert_str_eq(class_name(&out[4]), "batch");
        ck_assert_ptr_nonnull(strstr(origin_note(res, &out[4].class_origin), "class=latency refused"));

        /* the mark on the cgroup itself: its own user.* value only tightens */
        ca.delegate = false;
        ia.delegate = true;
        ck_assert_int_eq(resolve_policies(res, in, 5, out), 0);
        ck_assert(!out[1].delegated && out[2].delegated);
        ck_assert_str_eq(class_name(&out[2]), "batch");
        ck_assert_msg(strstr(origin_note(res, &out[2].class_origin), "a delegated cgroup (delegate xattr)"), "note: %s",
                      origin_note(res, &out[2].class_origin));
}
END_TEST

START_TEST(test_resolve_bad_values_reported_and_ignored) {
        Annotations ca = { 0 };
        ResolveInput in[2] = {
                { .path = "", .parent = -1 },
                { .path = "limited", .parent = 0, .annotations = &ca },
        };
        EffectivePolicy out[2];

        annotate(&ca, true, "tier0.max", "12Q");
        annotate(&ca, false, "class", "gold");
        annotate(&ca, true, "tier9.max", "1G");
        annotate(&ca, true, "mode", "enforce");
        ck_assert_int_eq(resolve_policies(res, in, 2, out), 0);
        ck_assert_int_eq(out[1].n_errors, 3);
        ck_assert_str_eq(resolve_error(res, &out[1], 0), "limited: trusted.tierd.tier0.max: \"12Q\" is not a size");
        /* trusted annotations are parsed first, then user ones */
        ck_assert_ptr_nonnull(strstr(resolve_error(res, &out[1], 1), "trusted.tierd.tier9.max"));
        ck_assert_ptr_nonnull(strstr(resolve_error(res, &out[1], 2), "limited: user.tierd.class: \"gold\" is not a class"));
        /* the bad key falls back (to the rule); the good one still applies */
        ck_assert_uint_eq(out[1].tier_max[0].bytes, 1ull << 30);
        ck_assert_int_eq(out[1].mode_origin.kind, ORIGIN_TRUSTED);
        ck_assert_str_eq(class_name(&out[1]), "standard");
}
END_TEST

START_TEST(test_resolve_rejects_non_preorder) {
        ResolveInput in[2] = {
                { .path = "a", .parent = 1 },
                { .path = "", .parent = -1 },
        };
        EffectivePolicy out[2];

        ck_assert_int_eq(resolve_policies(res, in, 2, out), -EINVAL);
}
END_TEST

START_TEST(test_resolve_compact) {
        enum { N = 2001 };
        _cleanup_free_ ResolveInput *in = calloc(N, sizeof(ResolveInput));
        _cleanup_free_ EffectivePolicy *out = calloc(N, sizeof(EffectivePolicy));
        _cleanup_free_ char *paths = calloc(N, 16);
        char buf[400];

        /* 12-byte origins and a policy of well under 1 KiB, whatever the
         * paths and notes (it was 12 KiB with 640-byte origins) */
        ck_assert_uint_le(sizeof(Origin), 12);
        ck_assert_uint_le(sizeof(EffectivePolicy), 768);

        /* "limited" (rule: tier0.max 1G) with 2000 children, each clamped
         * to it with the same note, and one with a bad annotation */
        ck_assert_ptr_nonnull(in);
        ck_assert_ptr_nonnull(out);
        in[0] = (ResolveInput) { .path = "limited", .parent = -1 };
        for (int i = 1; i < N; i++) {
                snprintf(paths + 16 * i, 16, "limited/c%d", i);
                in[i] = (ResolveInput) { .path = paths + 16 * i, .parent = 0 };
        }
        ck_assert_int_eq(resolve_policies(res, in, N, out), 0);
        for (int i = 1; i < N; i++) {
                ck_assert_uint_eq(out[i].tier_max[0].bytes, 1ull << 30);
                ck_assert_int_eq(out[i].tier_max[0].origin.kind, ORIGIN_RULE);
                ck_assert_uint_eq(out[i].tier_max[0].origin.note, out[1].tier_max[0].origin.note);
        }
        ck_assert_str_eq(origin_where(res, &out[N - 1].tier_max[0].origin), "test.json: rules[1]");
        ck_assert_str_eq(origin_to_string(res, &out[N - 1].tier_max[0].origin, buf, sizeof(buf)),
                         "rule test.json: rules[1]");
        ck_assert_ptr_nonnull(strstr(origin_note(res, &out[N - 1].tier_max[0].origin), "clamped to an ancestor's"));
        /* each distinct note once: the strings do not grow with the children */
        ck_assert_uint_le(resolution_strings_size(res), 16384);

        /* origins name a cgroup by index, the path comes from PATH_OF */
        {
                Annotations ca = { 0 };
                ResolveInput one = { .path = "x/y", .parent = -1, .annotations = &ca };
                EffectivePolicy p;

                annotate(&ca, true, "tier0.max", "2G");
                ck_assert_int_eq(resolve_one(res, &one, 7, NULL, &p), 0);
                ck_assert_int_eq(p.tier_max[0].origin.kind, ORIGIN_TRUSTED);
                ck_assert_uint_eq(p.tier_max[0].origin.where, 7);
                /* without PATH_OF: the input last given to resolve_policies() */
                ck_assert_str_eq(origin_where(res, &p.tier_max[0].origin), "limited/c7");
        }
}
END_TEST

int main(void) {
        Suite *s = suite_create("resolve");
        TCase *tc = tcase_create("resolve");

        tcase_add_checked_fixture(tc, setup, teardown);
        tcase_add_test(tc, test_resolve_defaults_and_builtin);
        tcase_add_test(tc, test_resolve_rule_class_is_inherited_by_children);
        tcase_add_test(tc, test_resolve_trusted_wins_over_user_and_rule);
        tcase_add_test(tc, test_resolve_child_clamped_to_ancestor);
        tcase_add_test(tc, test_resolve_percentage_of_usage);
        tcase_add_test(tc, test_resolve_delegated_user_cannot_raise);
        tcase_add_test(tc, test_resolve_delegated_user_cannot_loosen_own_rule_limit);
        tcase_add_test(tc, test_resolve_delegated_user_may_tighten);
        tcase_add_test(tc, test_resolve_root_owned_user_annotation_is_operator);
        tcase_add_test(tc, test_resolve_rule_in_delegated_subtree_cannot_raise_class);
        tcase_add_test(tc, test_resolve_rule_applies_in_full_to_the_delegation_root);
        tcase_add_test(tc, test_resolve_rule_in_delegated_subtree_may_tighten);
        tcase_add_test(tc, test_resolve_rule_in_delegated_subtree_cannot_loosen);
        tcase_add_test(tc, test_resolve_root_owned_cgroup_below_delegated_is_delegated);
        tcase_add_test(tc, test_resolve_delegate_xattr_marks_a_root_owned_subtree);
        tcase_add_test(tc, test_resolve_bad_values_reported_and_ignored);
        tcase_add_test(tc, test_resolve_rejects_non_preorder);
        tcase_add_test(tc, test_resolve_compact);
        suite_add_tcase(s, tc);
        return unit_run(s);
}
