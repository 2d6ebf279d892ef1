/* SPDX-License-Identifier: MIT */
/* scanner.c's shared helpers (ranges, candidate picking) and the choice of
 * backend from a probe (core/scan.c). */
#include <check.h>

#include "unit.h"

#include "scan.h"
#include "scanner.h"
#include "util.h"

static ScanRange R(int tier, int age, uint64_t start, uint32_t acc) {
        return (ScanRange) { .kind = SCAN_RANGE_VADDR, .age = (uint8_t) age, .tier = (int8_t) tier, .node = (int8_t) tier,
                             .pid = 42, .start = start, .end = start + 4096, .nr_accesses = acc };
}

START_TEST(test_heat_add_range_grows) {
        TenantHeat h = { .cgroup_id = 7 };
        size_t alloc = 0;

        for (uint64_t i = 0; i < 1000; i++) {
                ScanRange r = R(0, (int) (i % 3), i * 4096, 0);

                ck_assert_int_eq(heat_add_range(&h, &r, &alloc), 0);
        }
        ck_assert_uint_eq(h.n_ranges, 1000);
        ck_assert_uint_ge(alloc, 1000);
        ck_assert_uint_eq(h.ranges[999].start, 999 * 4096);
        ck_assert_uint_eq(h.ranges[500].age, 500 % 3);
        tenant_heat_clear(&h);
        ck_assert_ptr_null(h.ranges);
        ck_assert_uint_eq(h.n_ranges, 0);
        ck_assert_uint_eq(h.cgroup_id, 7); /* kept */
}
END_TEST

START_TEST(test_pick_candidates_two_tiers) {
        /* Two tiers: cold candidates are aged ranges on tier 0, oldest
         * first; hot ones are age-0 ranges on tier 1, most accessed first;
         * unknown tiers are never candidates. */
        ScanRange all[] = {
                R(0, 0, 0x1000, 5),  /* hot on fast: neither */
                R(0, 3, 0x2000, 0),  /* cold on fast: cold #2 */
                R(0, 15, 0x3000, 0), /* coldest on fast: cold #1 */
                R(1, 0, 0x4000, 1),  /* hot on slow: hot #2 */
                R(1, 0, 0x5000, 9),  /* hotter on slow: hot #1 */
                R(1, 7, 0x6000, 0),  /* cold on slow(est): neither */
                R(-1, 9, 0x7000, 0), /* unknown tier: neither */
                R(0, 3, 0x0000, 0),  /* same age as 0x2000, lower address first */
                R(0, 0, 0x8000, 9),  /* hot on fast, accessed more than 0x1000: warm #2 */
        };
        TenantHeat h = { 0 };

        ck_assert_int_eq(heat_pick_candidates(&h, all, ELEMENTSOF(all), 2, 10), 0);
        ck_assert_uint_eq(h.n_cold, 3);
        ck_assert_uint_eq(h.cold[0].start, 0x3000);
        ck_assert_uint_eq(h.cold[1].start, 0x0000);
        ck_assert_uint_eq(h.cold[2].start, 0x2000);
        ck_assert_uint_eq(h.n_hot, 2);
        ck_assert_uint_eq(h.hot[0].start, 0x5000);
        ck_assert_uint_eq(h.hot[1].start, 0x4000);
        /* warm: accessed on the fast tier, least accessed first (what a
         * lower class gives up last) */
        ck_assert_uint_eq(h.n_warm, 2);
        ck_assert_uint_eq(h.warm[0].start, 0x1000);
        ck_assert_uint_eq(h.warm[1].start, 0x8000);
        tenant_heat_clear(&h);
        ck_assert_ptr_null(h.warm);
}
END_TEST

START_TEST(test_pick_candidates_bounded_and_single_tier) {
        ScanRange all[64];
        TenantHeat h = { 0 };

        for (int i = 0; i < 64; i++)
                all[i] = R(i % 2, i % 2 ? 0 : 1 + i % 15, (uint64_t) i * 4096, (uint32_t) i);
        ck_assert_int_eq(heat_pick_candidates(&h, all, 64, 2, 5), 0);
        ck_assert_uint_eq(h.n_cold, 5);
        ck_assert_uint_eq(h.n_hot, 5);
        ck_assert_uint_eq(h.n_warm, 0); /* tier 0 ranges are all aged here */
        for (size_t i = 1; i < h.n_cold; i++)
                ck_assert_uint_ge(h.cold[i - 1].age, h.cold[i].age);
        for (size_t i = 1; i < h.n_hot; i++)
                ck_assert_uint_ge(h.hot[i - 1].nr_accesses, h.hot[i].nr_accesses);
        /* One tier: nothing to promote to or demote from (and tier-1
         * ranges make no sense there: ignored, like unknown tiers). */
        ck_assert_int_eq(heat_pick_candidates(&h, all, 64, 1, 5), 0);
        ck_assert_uint_eq(h.n_cold, 0);
        ck_assert_uint_eq(h.n_hot, 0);
        ck_assert_uint_eq(h.n_warm, 0);
        /* Nothing scanned: empty, not an error. */
        ck_assert_int_eq(heat_pick_candidates(&h, NULL, 0, 2, 5), 0);
        ck_assert_uint_eq(h.n_cold + h.n_hot, 0);
        tenant_heat_clear(&h);
}
END_TEST

START_TEST(test_heat_summary_totals) {
        HeatSummary h = { 0 };
        uint64_t hot, cold;

        h.bytes[0][0] = 100;
        h.bytes[1][0] = 20;
        h.bytes[0][1] = 7;
        h.bytes[3][HEAT_MAX_AGE] = 5000;
        heat_summary_totals(&h, &hot, &cold);
        ck_assert_uint_eq(hot, 120);
        ck_assert_uint_eq(cold, 5007);
}
END_TEST

static void probe_all(Probe *p, bool usable) {
        memset(p, 0, sizeof(*p));
        for (int i = 0; i < _BACKEND_MAX; i++)
                p->backends[i].usable = usable;
        /* the bpf scanner also needs the damon:damon_aggregated tracepoint */
        p->n_tracepoints = 1;
        p->tracepoints[0] = (ProbeTracepoint) { .name = "damon:damon_aggregated", .present = usable };
}

START_TEST(test_candidates_auto_order) {
        static const char *const order[] = { "idle_page", "bpf", "damon", "lru_gen" };
        const ScannerOps *got[8];
        size_t n, want = 0;
        Probe p;

        probe_all(&p, true);
        ck_assert_int_eq(scan_backend_candidates(&p, "auto", got, ELEMENTSOF(got), &n), 0);
        for (size_t i = 0; i < ELEMENTSOF(order); i++) {
                if (!scanner_find(order[i]))
                        continue; /* not in this build */
                ck_assert_uint_gt(n, want);
                ck_assert_str_eq(got[want]->name, order[i]);
                want++;
        }
        ck_assert_uint_eq(n, want);
        ck_assert_int_eq(scan_backend_candidates(&p, NULL, got, ELEMENTSOF(got), &n), 0);
        ck_assert_uint_eq(n, want);
}
END_TEST

START_TEST(test_candidates_follow_the_probe) {
        const ScannerOps *got[8];
        size_t n;
        Probe p;

        probe_all(&p, false);
        ck_assert_int_eq(scan_backend_candidates(&p, "auto", got, ELEMENTSOF(got), &n), 0);
        ck_assert_uint_eq(n, 0);

        /* BPF usable but DAMON not: the bpf backend drives DAMON, so no. */
        p.backends[BACKEND_BPF].usable = true;
        ck_assert_int_eq(scan_backend_candidates(&p, "auto", got, ELEMENTSOF(got), &n), 0);
        ck_assert_uint_eq(n, 0);
        p.backends[BACKEND_DAMON].usable = true;
        p.tracepoints[0].present = true;
        ck_assert_int_eq(scan_backend_candidates(&p, "auto", got, ELEMENTSOF(got), &n), 0);
        if (scanner_find("damon")) {
                ck_assert_uint_eq(n, 2);
                ck_assert_str_eq(got[0]->name, "bpf");
                ck_assert_str_eq(got[1]->name, "damon");
        } else
                ck_assert_uint_eq(n, 0);
        /* MAX bounds the list. */
        ck_assert_int_eq(scan_backend_candidates(&p, "auto", got, 1, &n), 0);
        ck_assert_uint_le(n, 1);
        /* BPF and DAMON usable, but no damon:damon_aggregated tracepoint
         * (the BPF collector's migration counters do not need it; the bpf
         * scanner does): damon alone */
        p.tracepoints[0].present = false;
        ck_assert_int_eq(scan_backend_candidates(&p, "auto", got, ELEMENTSOF(got), &n), 0);
        if (scanner_find("damon")) {
                ck_assert_uint_eq(n, 1);
                ck_assert_str_eq(got[0]->name, "damon");
        }
}
END_TEST

START_TEST(test_candidates_forced) {
        const ScannerOps *got[8];
        size_t n = 99;
        Probe p;

        probe_all(&p, false);
        ck_assert_int_eq(scan_backend_candidates(&p, "no-such-backend", got, ELEMENTSOF(got), &n), -ENOENT);
        ck_assert_uint_eq(n, 0);
        /* A forced backend is tried even when the probe says no: its
         * open() gives the precise reason. */
        for (const ScannerOps *const *b = scanner_backends(); *b; b++) {
                ck_assert_int_eq(scan_backend_candidates(&p, (*b)->name, got, ELEMENTSOF(got), &n), 0);
                ck_assert_uint_eq(n, 1);
                ck_assert_ptr_eq(got[0], *b);
        }
}
END_TEST

int main(void) {
        Suite *s = suite_create("scanner");
        TCase *tc = tcase_create("core");

        tcase_add_test(tc, test_heat_add_range_grows);
        tcase_add_test(tc, test_pick_candidates_two_tiers);
        tcase_add_test(tc, test_heat_summary_totals);
        tcase_add_test(tc, test_pick_candidates_bounded_and_single_tier);
        tcase_add_test(tc, test_candidates_auto_order);
        tcase_add_test(tc, test_candidates_follow_the_probe);
        tcase_add_test(tc, test_candidates_forced);
        suite_add_tcase(s, tc);
        return unit_run(s);
}
