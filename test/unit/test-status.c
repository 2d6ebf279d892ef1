/* SPDX-License-Identifier: MIT */
/* status.c: the snapshot's JSON form read back field for field, deep
 * copies, and the errors of a malformed status naming the field. */
#include <json-c/json.h>

#include "status.h"
#include "unit.h"
#include "util.h"

static void fill(StatusSnapshot *s) {
        *s = (StatusSnapshot) {
                .version = "0.1.0", .scanner = "bpf", .mover = "move_pages", .config_path = "/etc/tierd/tierd.json",
                .period_ms = 1000, .periods_total = 42, .time_ms = 123456789, .started_realtime_s = 1700000000,
                .scan_cpu_seconds_total = 1.25, .last_scan_ms = 37.5, .reloads_total = 3,
                .reload_failures_total = 1, .last_error = "reload failed: tierd.json: scanner: \"x\" \\ bad",
                .n_tiers = 2, .promoted_total = UINT64_C(1) << 40, .demoted_total = 7, .failed_total = 4096,
        };
        s->tiers[0] = (StatusTier) { .index = 0, .nodes = "0", .capacity = 512u << 20, .free = 100u << 20,
                                     .headroom = 16u << 20 };
        s->tiers[1] = (StatusTier) { .index = 1, .nodes = "1-3", .capacity = UINT64_C(3) << 30, .free = 1,
                                     .headroom = 32u << 20 };
        s->n_tenants = 2;
        s->tenants = calloc(2, sizeof(*s->tenants));
        ck_assert_ptr_nonnull(s->tenants);
        s->tenants[0] = (StatusTenant) {
                .cgroup = strdup("web.slice/app"), .class_name = "latency", .mode = "enforce",
                .namespace_ = "prod-eu", .pod = "shop-5d8f7c9b4-x2x7q", .container = "web",
                .tier_max = { 64u << 20, UINT64_MAX }, .tier_low = { 0, 5 }, .tier_bytes = { 1, 2 },
                .hot_bytes = 48u << 20, .cold_bytes = 200u << 20, .promote_tokens = 1000, .demote_tokens = UINT64_MAX,
                .promote_rate = 8u << 20, .demote_rate = UINT64_MAX, .planned_promote = 4096, .planned_demote = 8192,
                .promoted_total = 11, .demoted_total = 12, .failed_total = 13, .errors_total = 2,
                .tier_anon = { 1, 0 }, .tier_file = { 0, 2 }, .classified = { 7u << 20, 0 },
                .covered = { true, false }, .held_unscanned = 16u << 20,
                .tier_unmapped = { 0, 2 }, .unmapped_hot = { 3u << 20, 0 }, .unmapped_cold = { 0, 5u << 20 },
        };
        s->has_coverage = true;
        s->has_unmapped = true;
        s->tenants[1] = (StatusTenant) {
                .cgroup = strdup("batch/ünïcode \"q\""), .class_name = "batch", .mode = "observe",
                .tier_max = { UINT64_MAX, UINT64_MAX }, .tier_bytes = { UINT64_C(1) << 50, 0 },
                .promote_tokens = UINT64_MAX, .demote_tokens = 0, .promote_rate = UINT64_MAX, .demote_rate = 1,
                .errors_total = UINT64_MAX - 1,
        };
}

static void assert_same(const StatusSnapshot *a, const StatusSnapshot *b) {
        ck_assert_str_eq(a->version, b->version);
        ck_assert_str_eq(a->scanner, b->scanner);
        ck_assert_str_eq(a->mover, b->mover);
        ck_assert_str_eq(a->config_path, b->config_path);
        ck_assert_str_eq(a->last_error, b->last_error);
        ck_assert_uint_eq(a->period_ms, b->period_ms);
        ck_assert_uint_eq(a->periods_total, b->periods_total);
        ck_assert_uint_eq(a->time_ms, b->time_ms);
        ck_assert_uint_eq(a->started_realtime_s, b->started_realtime_s);
        ck_assert_double_eq(a->scan_cpu_seconds_total, b->scan_cpu_seconds_total);
        ck_assert_double_eq(a->last_scan_ms, b->last_scan_ms);
        ck_assert_uint_eq(a->reloads_total, b->reloads_total);
        ck_assert_uint_eq(a->reload_failures_total, b->reload_failures_total);
        ck_assert_uint_eq(a->promoted_total, b->promoted_total);
        ck_assert_uint_eq(a->demoted_total, b->demoted_total);
        ck_assert_uint_eq(a->failed_total, b->failed_total);
        ck_assert_int_eq(a->n_tiers, b->n_tiers);
        for (int t = 0; t < a->n_tiers; t++) {
                ck_assert_int_eq(a->tiers[t].index, b->tiers[t].index);
                ck_assert_str_eq(a->tiers[t].nodes, b->tiers[t].nodes);
                ck_assert_uint_eq(a->tiers[t].capacity, b->tiers[t].capacity);
                ck_assert_uint_eq(a->tiers[t].free, b->tiers[t].free);
                ck_assert_uint_eq(a->tiers[t].headroom, b->tiers[t].headroom);
        }
        ck_assert_int_eq(a->has_coverage, b->has_coverage);
        ck_assert_int_eq(a->has_unmapped, b->has_unmapped);
        ck_assert_uint_eq(a->n_tenants, b->n_tenants);
        for (size_t i = 0; i < a->n_tenants; i++) {
                const StatusTenant *x = &a->tenants[i], *y = &b->tenants[i];

                ck_assert_str_eq(x->cgroup, y->cgroup);
                ck_assert_str_eq(x->namespace_, y->namespace_);
                ck_assert_str_eq(x->pod, y->pod);
                ck_assert_str_eq(x->container, y->container);
                ck_assert_str_eq(x->class_name, y->class_name);
                ck_assert_str_eq(x->mode, y->mode);
                for (int t = 0; t < a->n_tiers; t++) {
                        ck_assert_uint_eq(x->tier_max[t], y->tier_max[t]);
                        ck_assert_uint_eq(x->tier_low[t], y->tier_low[t]);
                        ck_assert_uint_eq(x->tier_bytes[t], y->tier_bytes[t]);
                        ck_assert_uint_eq(x->tier_anon[t], y->tier_anon[t]);
                        ck_assert_uint_eq(x->tier_file[t], y->tier_file[t]);
                        ck_assert_uint_eq(x->classified[t], y->classified[t]);
                        ck_assert_int_eq(x->covered[t], y->covered[t]);
                        ck_assert_uint_eq(x->tier_unmapped[t], y->tier_unmapped[t]);
                        ck_assert_uint_eq(x->unmapped_hot[t], y->unmapped_hot[t]);
                        ck_assert_uint_eq(x->unmapped_cold[t], y->unmapped_cold[t]);
                }
                ck_assert_uint_eq(x->held_unscanned, y->held_unscanned);
                ck_assert_uint_eq(x->hot_bytes, y->hot_bytes);
                ck_assert_uint_eq(x->cold_bytes, y->cold_bytes);
                ck_assert_uint_eq(x->promote_tokens, y->promote_tokens);
                ck_assert_uint_eq(x->demote_tokens, y->demote_tokens);
                ck_assert_uint_eq(x->promote_rate, y->promote_rate);
                ck_assert_uint_eq(x->demote_rate, y->demote_rate);
                ck_assert_uint_eq(x->planned_promote, y->planned_promote);
                ck_assert_uint_eq(x->planned_demote, y->planned_demote);
                ck_assert_uint_eq(x->promoted_total, y->promoted_total);
                ck_assert_uint_eq(x->demoted_total, y->demoted_total);
                ck_assert_uint_eq(x->failed_total, y->failed_total);
                ck_assert_uint_eq(x->errors_total, y->errors_total);
        }
}

START_TEST(test_status_json_round_trip) {
        StatusSnapshot s, back;
        _cleanup_free_ char *error = NULL;
        json_object *o, *parsed, *t, *v;
        const char *text;

        fill(&s);
        o = status_snapshot_to_json(&s);
        ck_assert_ptr_nonnull(o);
        /* through text, as the socket carries it */
        text = json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN);
        ck_assert_ptr_null(strchr(text, '\n'));
        parsed = json_tokener_parse(text);
        ck_assert_ptr_nonnull(parsed);
        ck_assert_int_eq(status_snapshot_from_json(parsed, &back, &error), 0);
        ck_assert_ptr_null(error);
        assert_same(&s, &back);
        /* "none" is null in JSON, not a huge number */
        ck_assert(json_object_object_get_ex(parsed, "tenants", &t));
        ck_assert(json_object_object_get_ex(json_object_array_get_idx(t, 0), "demote_rate", &v));
        ck_assert_ptr_null(v);
        ck_assert(json_object_object_get_ex(json_object_array_get_idx(t, 0), "tier_max", &v));
        ck_assert_ptr_null(json_object_array_get_idx(v, 1));
        ck_assert_uint_eq(json_object_get_uint64(json_object_array_get_idx(v, 0)), 64u << 20);
        json_object_put(parsed);
        json_object_put(o);
        status_snapshot_done(&back);
        status_snapshot_done(&s);
        ck_assert_ptr_null(s.tenants);
        ck_assert_uint_eq(s.n_tenants, 0);
}
END_TEST

START_TEST(test_status_copy_is_deep) {
        StatusSnapshot s, c;

        fill(&s);
        ck_assert_int_eq(status_snapshot_copy(&s, &c), 0);
        assert_same(&s, &c);
        ck_assert_ptr_ne(c.tenants, s.tenants);
        ck_assert_ptr_ne(c.tenants[0].cgroup, s.tenants[0].cgroup);
        status_snapshot_done(&s); /* the copy outlives the original */
        ck_assert_str_eq(c.tenants[1].cgroup, "batch/ünïcode \"q\"");
        status_snapshot_done(&c);

        /* no tenants */
        s = (StatusSnapshot) { .n_tiers = 1 };
        ck_assert_int_eq(status_snapshot_copy(&s, &c), 0);
        ck_assert_ptr_null(c.tenants);
        ck_assert_uint_eq(c.n_tenants, 0);
        status_snapshot_done(&c);
        status_snapshot_done(NULL);
}
END_TEST

static void expect_parse_error(const char *json, const char *message) {
        _cleanup_free_ char *error = NULL;
        StatusSnapshot s;
        json_object *o = json_tokener_parse(json);

        ck_assert_ptr_nonnull(o);
        ck_assert_int_eq(status_snapshot_from_json(o, &s, &error), -EINVAL);
        ck_assert_ptr_nonnull(error);
        ck_assert_str_eq(error, message);
        json_object_put(o);
}

START_TEST(test_status_from_json_errors) {
        StatusSnapshot s;
        json_object *o, *t, *x;
        const char *text;

        fill(&s);
        o = status_snapshot_to_json(&s);
        status_snapshot_done(&s);
        /* a field removed, another of the wrong type, a tier array too short */
        json_object_object_del(o, "periods_total");
        text = json_object_to_json_string(o);
        expect_parse_error(text, "status.periods_total: missing");
        json_object_object_add(o, "periods_total", json_object_new_string("42"));
        expect_parse_error(json_object_to_json_string(o), "status.periods_total: is not an integer");
        json_object_object_add(o, "periods_total", json_object_new_uint64(42));
        ck_assert(json_object_object_get_ex(o, "tenants", &t));
        x = json_object_array_get_idx(t, 1);
        json_object_object_add(x, "tier_bytes", json_object_new_array());
        expect_parse_error(json_object_to_json_string(o),
                           "status.tier_bytes: missing or not an array of one value per tier");
        json_object_object_add(x, "tier_bytes", NULL);
        expect_parse_error(json_object_to_json_string(o),
                           "status.tier_bytes: missing or not an array of one value per tier");
        json_object_put(o);
        expect_parse_error("[]", "status: not an object");
}
END_TEST

int main(void) {
        Suite *s = suite_create("status");
        TCase *tc = tcase_create("core");

        tcase_add_test(tc, test_status_json_round_trip);
        tcase_add_test(tc, test_status_copy_is_deep);
        tcase_add_test(tc, test_status_from_json_errors);
        suite_add_tcase(s, tc);
        return unit_run(s);
}
