/* SPDX-License-Identifier: MIT */
/* The heat model (core/heatmodel.c): coverage across periods and passes,
 * replacement of overlapping observations, expiry (exit, unmap, move), a
 * demotion contradicted by the next observation, the view's summary and
 * candidate order, the memory caps, byte-only summaries. Sizes in MiB
 * (M) or pages (P). */
#include <check.h>

#include "unit.h"

#include "heatmodel.h"
#include "scanner.h"
#include "util.h"

#define P UINT64_C(4096)
#define M (UINT64_C(1) << 20)
#define BASE UINT64_C(0x7f0000000000)
#define TEN 42 /* the tenant's cgroup id */

static ScanRange R(pid_t pid, int tier, int age, uint64_t start, uint64_t len) {
        return (ScanRange) { .kind = SCAN_RANGE_VADDR, .age = (uint8_t) age, .tier = (int8_t) tier,
                             .node = (int8_t) tier, .pid = pid, .start = start, .end = start + len,
                             .nr_accesses = age == 0 };
}

static HeatModel *model(const HeatModelOptions *o) {
        HeatModel *m = NULL;

        ck_assert_int_eq(heat_model_new(o, &m), 0);
        ck_assert_ptr_nonnull(m);
        return m;
}

static void resident(HeatModel *m, uint64_t tenant, uint64_t t0, uint64_t t1) {
        uint64_t r[HEAT_MAX_TIERS] = { t0, t1 };

        ck_assert_int_eq(heat_model_set_resident(m, tenant, r), 0);
}

static HeatCoverage coverage(const HeatModel *m, uint64_t tenant, int tier) {
        HeatCoverage c;

        ck_assert_int_eq(heat_model_coverage(m, tenant, tier, &c), 0);
        ck_assert(c.complete == heat_model_coverage_complete(m, tenant, tier));
        return c;
}

static void assert_entry(const HeatEntry *e, pid_t pid, uint64_t start, uint64_t end, int tier, int age,
                         unsigned flags) {
        ck_assert_int_eq(e->pid, pid);
        ck_assert_uint_eq(e->start, start);
        ck_assert_uint_eq(e->end, end);
        ck_assert_int_eq(e->tier, tier);
        ck_assert_int_eq(e->age, age);
        ck_assert_uint_eq(e->flags, flags);
}

/* The tenant: 128 MiB on tier 0, its 24 MiB hot set at 96-120 MiB;
 * the budget scans 32 MiB a period. Slice I of the pass. */
static void observe_slice(HeatModel *m, unsigned i, uint64_t now) {
        uint64_t s = BASE + i * 32 * M;
        ScanRange r[2];
        size_t n = 0;

        if (i == 3) {
                r[n++] = R(7, 0, 0, s, 24 * M);
                r[n++] = R(7, 0, 4, s + 24 * M, 8 * M);
        } else
                r[n++] = R(7, 0, 4, s, 32 * M);
        ck_assert_int_eq(heat_model_observe(m, TEN, r, n, now), 0);
}

START_TEST(test_heat_model_coverage_grows_then_completes) {
        _cleanup_(heat_model_freep) HeatModel *m = model(NULL);
        HeatView v;
        HeatCoverage c;

        resident(m, TEN, 128 * M, 0);
        ck_assert_int_eq(heat_model_pass_begin(m, TEN, 1000), 0);
        for (unsigned i = 0; i < 3; i++) {
                observe_slice(m, i, 1000 + i * 1000);
                c = coverage(m, TEN, 0);
                ck_assert_uint_eq(c.classified, (i + 1) * 32 * M);
                ck_assert_uint_eq(c.this_pass, (i + 1) * 32 * M);
                ck_assert_uint_eq(c.resident, 128 * M);
                ck_assert(c.pass_open);
                ck_assert(!c.complete);
        }
        /* what the old plan saw: 96 MiB cold, nothing hot; the model says
         * it is not the whole tenant */
        ck_assert_int_eq(heat_model_view(m, TEN, 2, 64, 0, &v), 0);
        ck_assert_uint_eq(v.heat.heat.bytes[0][4], 96 * M);
        ck_assert_uint_eq(v.heat.heat.bytes[0][0], 0);
        ck_assert(!v.coverage[0].complete);
        heat_view_done(&v);

        observe_slice(m, 3, 4000);
        ck_assert(!heat_model_coverage_complete(m, TEN, 0)); /* all seen, but the pass has not ended */
        ck_assert_int_eq(heat_model_pass_end(m, TEN, true, 4000), 0);
        c = coverage(m, TEN, 0);
        ck_assert(c.complete);
        ck_assert_uint_eq(c.classified, 128 * M);
        ck_assert_uint_eq(c.this_pass, 0);
        ck_assert_uint_eq(c.exact_passes, 1);
        ck_assert_uint_eq(c.exact_end_ms, 4000);

        /* the next pass: the model still holds the whole tenant, and
         * coverage stays complete while it runs */
        ck_assert_int_eq(heat_model_pass_begin(m, TEN, 5000), 0);
        observe_slice(m, 0, 5000);
        c = coverage(m, TEN, 0);
        ck_assert(c.complete);
        ck_assert_uint_eq(c.classified, 128 * M);
        ck_assert_uint_eq(c.this_pass, 32 * M);
        ck_assert_int_eq(heat_model_view(m, TEN, 2, 64, 0, &v), 0);
        ck_assert_uint_eq(v.heat.heat.bytes[0][0], 24 * M);
        ck_assert_uint_eq(v.heat.heat.bytes[0][4], 104 * M);
        ck_assert_uint_eq(v.heat.tracked_bytes, 128 * M);
        heat_view_done(&v);
}
END_TEST

START_TEST(test_heat_model_coverage_change_and_inexact) {
        _cleanup_(heat_model_freep) HeatModel *m = model(NULL);

        /* an inexact pass (pages only armed) ends but does not count */
        resident(m, TEN, 128 * M, 0);
        ck_assert_int_eq(heat_model_pass_begin(m, TEN, 1000), 0);
        observe_slice(m, 0, 1000);
        ck_assert_int_eq(heat_model_pass_end(m, TEN, false, 1000), 0);
        ck_assert(!heat_model_coverage_complete(m, TEN, 0));
        ck_assert_uint_eq(coverage(m, TEN, 0).classified, 32 * M);

        /* a change during a pass: that pass does not count, the next does */
        ck_assert_int_eq(heat_model_pass_begin(m, TEN, 2000), 0);
        for (unsigned i = 0; i < 4; i++)
                observe_slice(m, i, 2000);
        ck_assert_int_eq(heat_model_changed(m, TEN), 0);
        ck_assert_int_eq(heat_model_pass_end(m, TEN, true, 2000), 0);
        ck_assert(!heat_model_coverage_complete(m, TEN, 0));
        ck_assert_int_eq(heat_model_pass_begin(m, TEN, 3000), 0);
        for (unsigned i = 0; i < 4; i++)
                observe_slice(m, i, 3000);
        ck_assert_int_eq(heat_model_pass_end(m, TEN, true, 3000), 0);
        ck_assert(heat_model_coverage_complete(m, TEN, 0));
        ck_assert(heat_model_coverage_complete(m, TEN, 1)); /* nothing there, all of it seen */

        /* a change between passes resets it too */
        ck_assert_int_eq(heat_model_changed(m, TEN), 0);
        ck_assert(!heat_model_coverage_complete(m, TEN, 0));
        ck_assert_uint_eq(coverage(m, TEN, 0).classified, 128 * M); /* the entries stay */

        /* a pass begun again while one is open abandons the first */
        ck_assert_int_eq(heat_model_pass_begin(m, TEN, 4000), 0);
        ck_assert_int_eq(heat_model_pass_begin(m, TEN, 4100), 0);
        ck_assert_uint_eq(coverage(m, TEN, 0).passes, 5);
        ck_assert_int_eq(heat_model_pass_end(m, TEN, true, 4200), 0);
        ck_assert_int_eq(heat_model_pass_end(m, TEN, true, 4200), -EINVAL);
        ck_assert_int_eq(heat_model_pass_end(m, 99, true, 4200), -EINVAL);
}
END_TEST

/* One exact pass over the whole tenant at NOW. */
static void full_pass(HeatModel *m, uint64_t now) {
        ck_assert_int_eq(heat_model_pass_begin(m, TEN, now), 0);
        for (unsigned i = 0; i < 4; i++)
                observe_slice(m, i, now);
        ck_assert_int_eq(heat_model_pass_end(m, TEN, true, now), 0);
}

START_TEST(test_heat_model_coverage_resident_growth) {
        _cleanup_(heat_model_freep) HeatModel *m = model(NULL);
        _cleanup_(heat_model_freep) HeatModel *lax = model(&(HeatModelOptions) { .ignore_growth = true });
        ScanRange r = R(7, 0, 4, BASE, 20 * M);
        HeatCoverage c;

        resident(m, TEN, 128 * M, 64 * M);
        full_pass(m, 1000);
        ck_assert(heat_model_coverage_complete(m, TEN, 0));
        ck_assert_uint_eq(coverage(m, TEN, 0).base, 128 * M);

        /* within the slack (12.5% of 128 MiB = 16 MiB) */
        resident(m, TEN, 144 * M, 64 * M);
        ck_assert(heat_model_coverage_complete(m, TEN, 0));
        /* past it: tier 0 is not complete, tier 1 still is */
        resident(m, TEN, 145 * M, 64 * M);
        c = coverage(m, TEN, 0);
        ck_assert(c.grown);
        ck_assert(!c.complete);
        ck_assert(heat_model_coverage_complete(m, TEN, 1));

        /* a pass begun after the growth completes it again */
        full_pass(m, 2000);
        ck_assert(heat_model_coverage_complete(m, TEN, 0));
        ck_assert_uint_eq(coverage(m, TEN, 0).base, 145 * M);

        /* tierd's own moves shift the base: 20 MiB demoted and 30 MiB
         * promoted do not read as growth */
        ck_assert_int_eq(heat_model_moved(m, TEN, &r, 1, 1, 20 * M), 0);
        ck_assert_uint_eq(coverage(m, TEN, 0).base, 125 * M);
        ck_assert_uint_eq(coverage(m, TEN, 1).base, 84 * M);
        ck_assert_int_eq(heat_model_moved_bytes(m, TEN, 1, 0, 30 * M), 0);
        resident(m, TEN, 155 * M, 54 * M);
        ck_assert(heat_model_coverage_complete(m, TEN, 0));
        ck_assert(heat_model_coverage_complete(m, TEN, 1));
        ck_assert_int_eq(heat_model_moved_bytes(m, TEN, 1, 9, M), -EINVAL);

        /* a tenant whose resident bytes were unknown when its pass began:
         * the base is taken when they are first given */
        ck_assert_int_eq(heat_model_pass_begin(m, 5, 100), 0);
        resident(m, 5, 10 * M, 0);
        resident(m, 5, 30 * M, 0);
        ck_assert_int_eq(heat_model_pass_end(m, 5, true, 200), 0);
        ck_assert(!heat_model_coverage_complete(m, 5, 0)); /* 20 MiB grown since */
        ck_assert_uint_eq(coverage(m, 5, 0).base, 10 * M);

        /* growth can be ignored */
        resident(lax, TEN, 128 * M, 0);
        full_pass(lax, 1000);
        resident(lax, TEN, 1024 * M, 0);
        ck_assert(heat_model_coverage_complete(lax, TEN, 0));
}
END_TEST

START_TEST(test_heat_model_observe_split_replace) {
        _cleanup_(heat_model_freep) HeatModel *m = model(NULL);
        const HeatEntry *e;
        size_t n;
        ScanRange first[] = { R(7, 0, 3, BASE, 100 * P), R(8, 0, 3, BASE, 100 * P) };
        ScanRange hole = R(7, 0, 0, BASE + 40 * P, 20 * P);
        ScanRange gone = R(7, -1, 2, BASE + 30 * P, 40 * P);
        ScanRange wide = R(7, 1, 1, BASE + 20 * P, 60 * P);
        ScanRange paddr = { .kind = SCAN_RANGE_PADDR, .tier = 0, .node = 0, .age = 5, .start = BASE, .end = BASE + P };
        /* one batch overlapping itself: the later start wins, then the longer */
        ScanRange self[] = { R(9, 0, 1, BASE, 10 * P), R(9, 0, 2, BASE + 5 * P, 10 * P),
                             R(9, 0, 3, BASE + 5 * P, 2 * P) };

        ck_assert_int_eq(heat_model_observe(m, TEN, first, 2, 100), 0);
        ck_assert_int_eq(heat_model_observe(m, TEN, &hole, 1, 200), 0);
        heat_model_entries(m, TEN, &e, &n);
        ck_assert_uint_eq(n, 4);
        assert_entry(&e[0], 7, BASE, BASE + 40 * P, 0, 3, 0);
        assert_entry(&e[1], 7, BASE + 40 * P, BASE + 60 * P, 0, 0, 0);
        assert_entry(&e[2], 7, BASE + 60 * P, BASE + 100 * P, 0, 3, 0);
        assert_entry(&e[3], 8, BASE, BASE + 100 * P, 0, 3, 0); /* another process: untouched */
        ck_assert_uint_eq(e[0].observed_ms, 100);
        ck_assert_uint_eq(e[1].observed_ms, 200);
        ck_assert_uint_eq(e[2].observed_ms, 100);

        /* an unknown tier erases what it covers */
        ck_assert_int_eq(heat_model_observe(m, TEN, &gone, 1, 300), 0);
        heat_model_entries(m, TEN, &e, &n);
        ck_assert_uint_eq(n, 3);
        assert_entry(&e[0], 7, BASE, BASE + 30 * P, 0, 3, 0);
        assert_entry(&e[1], 7, BASE + 70 * P, BASE + 100 * P, 0, 3, 0);

        /* one observation over several entries and a gap */
        ck_assert_int_eq(heat_model_observe(m, TEN, &wide, 1, 400), 0);
        heat_model_entries(m, TEN, &e, &n);
        ck_assert_uint_eq(n, 4);
        assert_entry(&e[0], 7, BASE, BASE + 20 * P, 0, 3, 0);
        assert_entry(&e[1], 7, BASE + 20 * P, BASE + 80 * P, 1, 1, 0);
        assert_entry(&e[2], 7, BASE + 80 * P, BASE + 100 * P, 0, 3, 0);

        /* physical addresses are another key than the same virtual ones */
        ck_assert_int_eq(heat_model_observe(m, TEN, &paddr, 1, 500), 0);
        heat_model_entries(m, TEN, &e, &n);
        ck_assert_uint_eq(n, 5);
        ck_assert_int_eq(e[4].kind, SCAN_RANGE_PADDR);
        assert_entry(&e[0], 7, BASE, BASE + 20 * P, 0, 3, 0);

        ck_assert_int_eq(heat_model_observe(m, 2, self, 3, 600), 0);
        heat_model_entries(m, 2, &e, &n);
        ck_assert_uint_eq(n, 2);
        assert_entry(&e[0], 9, BASE, BASE + 5 * P, 0, 1, 0);
        assert_entry(&e[1], 9, BASE + 5 * P, BASE + 15 * P, 0, 2, 0);

        /* adjacent equal observations are one entry */
        ck_assert_int_eq(heat_model_observe(m, 3, (ScanRange[]) { R(9, 0, 1, BASE, P), R(9, 0, 1, BASE + P, P) }, 2,
                                            700), 0);
        heat_model_entries(m, 3, &e, &n);
        ck_assert_uint_eq(n, 1);
        assert_entry(&e[0], 9, BASE, BASE + 2 * P, 0, 1, 0);

        /* bad ranges change nothing */
        ck_assert_int_eq(heat_model_observe(m, TEN, (ScanRange[]) { R(7, 0, 1, BASE, 0) }, 1, 800), -EINVAL);
        ck_assert_int_eq(heat_model_observe(m, TEN, (ScanRange[]) { R(7, 0, 16, BASE, P) }, 1, 800), -EINVAL);
        ck_assert_int_eq(heat_model_observe(m, TEN, (ScanRange[]) { R(7, HEAT_MAX_TIERS, 1, BASE, P) }, 1, 800),
                         -EINVAL);
        heat_model_entries(m, TEN, &e, &n);
        ck_assert_uint_eq(n, 5);
}
END_TEST

START_TEST(test_heat_model_expire_pid_exit) {
        _cleanup_(heat_model_freep) HeatModel *m = model(NULL);
        ScanRange r[] = { R(7, 0, 1, BASE, P), R(8, 0, 1, BASE, P), R(9, 0, 1, BASE, P),
                          { .kind = SCAN_RANGE_PADDR, .tier = 0, .age = 1, .start = 0, .end = P } };
        pid_t live[] = { 9, 7 };
        const HeatEntry *e;
        size_t n;

        ck_assert_int_eq(heat_model_observe(m, TEN, r, 4, 100), 0);
        ck_assert_int_eq(heat_model_expire_pids(m, TEN, live, 2), 0);
        heat_model_entries(m, TEN, &e, &n);
        ck_assert_uint_eq(n, 3);
        ck_assert_int_eq(e[0].pid, 7);
        ck_assert_int_eq(e[1].pid, 9);
        ck_assert_int_eq(e[2].kind, SCAN_RANGE_PADDR); /* not a process's */
        heat_model_drop_pid(m, TEN, 9);
        heat_model_entries(m, TEN, &e, &n);
        ck_assert_uint_eq(n, 2);
        ck_assert_int_eq(e[0].pid, 7);
        ck_assert_int_eq(heat_model_expire_pids(m, TEN, NULL, 0), 0);
        heat_model_entries(m, TEN, &e, &n);
        ck_assert_uint_eq(n, 1);
        ck_assert_uint_eq(coverage(m, TEN, 0).classified, P);
}
END_TEST

START_TEST(test_heat_model_expire_unmapped) {
        _cleanup_(heat_model_freep) HeatModel *m = model(NULL);
        ScanRange a = R(7, 0, 1, BASE, 10 * P), b = R(7, 0, 2, BASE + 100 * P, 10 * P), c = R(8, 0, 2, BASE, P);
        const HeatEntry *e;
        size_t n;

        ck_assert_int_eq(heat_model_pass_begin(m, TEN, 100), 0);
        ck_assert_int_eq(heat_model_observe(m, TEN, (ScanRange[]) { a, b, c }, 3, 100), 0);
        ck_assert_int_eq(heat_model_pass_end(m, TEN, true, 100), 0);

        /* pass 2 finds A and C again, B is unmapped: kept while the pass
         * runs (the scan may not have reached it), gone at its end */
        ck_assert_int_eq(heat_model_pass_begin(m, TEN, 200), 0);
        ck_assert_int_eq(heat_model_observe(m, TEN, &a, 1, 200), 0);
        heat_model_entries(m, TEN, &e, &n);
        ck_assert_uint_eq(n, 3);
        ck_assert_int_eq(heat_model_observe(m, TEN, &c, 1, 300), 0);
        ck_assert_int_eq(heat_model_pass_end(m, TEN, true, 300), 0);
        heat_model_entries(m, TEN, &e, &n);
        ck_assert_uint_eq(n, 2);
        assert_entry(&e[0], 7, BASE, BASE + 10 * P, 0, 1, 0);
        assert_entry(&e[1], 8, BASE, BASE + P, 0, 2, 0);
        ck_assert_uint_eq(e[0].pass, 2);

        /* a range half unmapped: the half not seen again goes */
        ck_assert_int_eq(heat_model_pass_begin(m, TEN, 400), 0);
        ck_assert_int_eq(heat_model_observe(m, TEN, (ScanRange[]) { R(7, 0, 1, BASE, 5 * P), c }, 2, 400), 0);
        ck_assert_int_eq(heat_model_pass_end(m, TEN, true, 400), 0);
        heat_model_entries(m, TEN, &e, &n);
        ck_assert_uint_eq(n, 2);
        assert_entry(&e[0], 7, BASE, BASE + 5 * P, 0, 1, 0);

        /* a pass that sees nothing of a tenant whose processes left */
        ck_assert_int_eq(heat_model_pass_begin(m, TEN, 500), 0);
        ck_assert_int_eq(heat_model_pass_end(m, TEN, true, 500), 0);
        heat_model_entries(m, TEN, &e, &n);
        ck_assert_uint_eq(n, 0);
}
END_TEST

START_TEST(test_heat_model_expire_moved) {
        _cleanup_(heat_model_freep) HeatModel *m = model(NULL);
        ScanRange all = R(7, 0, 4, BASE, 100 * P), moved = R(7, 0, 4, BASE + 20 * P, 30 * P);
        ScanRange phys = { .kind = SCAN_RANGE_PADDR, .tier = 0, .node = 0, .age = 4, .start = 0, .end = 100 * P };
        ScanRange phys_moved = phys;
        const HeatEntry *e;
        HeatView v;
        size_t n;

        ck_assert_int_eq(heat_model_observe(m, TEN, &all, 1, 100), 0);
        ck_assert_int_eq(heat_model_moved(m, TEN, &moved, 1, 3, 30 * P), 0);
        heat_model_entries(m, TEN, &e, &n);
        ck_assert_uint_eq(n, 3);
        assert_entry(&e[0], 7, BASE, BASE + 20 * P, 0, 4, 0);
        assert_entry(&e[1], 7, BASE + 20 * P, BASE + 50 * P, 1, 4, HEAT_ENTRY_MOVED | HEAT_ENTRY_DEMOTED);
        ck_assert_int_eq(e[1].node, 3);
        assert_entry(&e[2], 7, BASE + 50 * P, BASE + 100 * P, 0, 4, 0);

        /* not trusted: in no summary, no candidate; counted as unobserved */
        ck_assert_int_eq(heat_model_view(m, TEN, 2, 64, HEAT_WANT_RANGES, &v), 0);
        ck_assert_uint_eq(v.heat.heat.bytes[0][4], 70 * P);
        ck_assert_uint_eq(v.heat.heat.bytes[1][4], 0);
        ck_assert_uint_eq(v.heat.tracked_bytes, 70 * P);
        ck_assert_uint_eq(v.heat.n_cold, 2);
        ck_assert_uint_eq(v.heat.n_ranges, 2);
        ck_assert_uint_eq(v.coverage[1].unobserved, 30 * P);
        ck_assert_uint_eq(v.coverage[1].classified, 0);
        ck_assert_uint_eq(v.coverage[0].classified, 70 * P);
        heat_view_done(&v);

        /* observed again (cold): trusted, no flag */
        ck_assert_int_eq(heat_model_observe(m, TEN, (ScanRange[]) { R(7, 1, 1, BASE + 20 * P, 30 * P) }, 1, 200), 0);
        heat_model_entries(m, TEN, &e, &n);
        assert_entry(&e[1], 7, BASE + 20 * P, BASE + 50 * P, 1, 1, 0);
        ck_assert_uint_eq(coverage(m, TEN, 1).classified, 30 * P);

        /* physical ranges that moved are dropped: the pages are elsewhere */
        ck_assert_int_eq(heat_model_observe(m, 5, &phys, 1, 100), 0);
        phys_moved.start = 10 * P;
        phys_moved.end = 20 * P;
        ck_assert_int_eq(heat_model_moved(m, 5, &phys_moved, 1, 1, 10 * P), 0);
        heat_model_entries(m, 5, &e, &n);
        ck_assert_uint_eq(n, 2);
        ck_assert_uint_eq(e[0].end, 10 * P);
        ck_assert_uint_eq(e[1].start, 20 * P);
        ck_assert_int_eq(heat_model_moved(m, 5, &phys_moved, HEAT_MAX_TIERS, 1, 0), -EINVAL);
}
END_TEST

START_TEST(test_heat_model_demoted_then_hot_first) {
        _cleanup_(heat_model_freep) HeatModel *m = model(NULL);
        ScanRange start[] = { R(7, 0, 3, BASE, 10 * P), R(7, 0, 2, BASE + 100 * P, 10 * P) };
        ScanRange hot1 = R(8, 1, 0, BASE, 4 * P);
        ScanRange d1 = start[0], d2 = start[1];
        ScanRange seen[3];
        const HeatEntry *e;
        HeatView v;
        size_t n;

        hot1.nr_accesses = 9; /* an ordinary hot range, much more accessed */
        ck_assert_int_eq(heat_model_observe(m, TEN, start, 2, 100), 0);
        ck_assert_int_eq(heat_model_observe(m, TEN, &hot1, 1, 100), 0);
        ck_assert_int_eq(heat_model_moved(m, TEN, &d1, 1, 1, 10 * P), 0);
        ck_assert_int_eq(heat_model_moved(m, TEN, &d2, 1, 1, 10 * P), 0);

        /* next observation: D1's second half hot (contradiction), D2 cold
         * (the demotion holds) */
        seen[0] = R(7, 1, 0, BASE, 10 * P);
        seen[1] = R(7, 1, 1, BASE + 100 * P, 10 * P);
        seen[2] = hot1;
        seen[0].start = BASE + 5 * P;
        ck_assert_int_eq(heat_model_observe(m, TEN, seen, 3, 200), 0);
        heat_model_entries(m, TEN, &e, &n);
        ck_assert_uint_eq(n, 4);
        assert_entry(&e[0], 7, BASE, BASE + 5 * P, 1, 3, HEAT_ENTRY_MOVED | HEAT_ENTRY_DEMOTED);
        assert_entry(&e[1], 7, BASE + 5 * P, BASE + 10 * P, 1, 0, HEAT_ENTRY_DEMOTED_THEN_HOT);
        assert_entry(&e[2], 7, BASE + 100 * P, BASE + 110 * P, 1, 1, 0);

        ck_assert_int_eq(heat_model_view(m, TEN, 2, 64, 0, &v), 0);
        ck_assert_uint_eq(v.n_demoted_then_hot, 1);
        ck_assert_uint_eq(v.heat.n_hot, 2);
        ck_assert_uint_eq(v.heat.hot[0].start, BASE + 5 * P); /* first, though less accessed */
        ck_assert_int_eq(v.heat.hot[0].pid, 7);
        ck_assert_int_eq(v.heat.hot[1].pid, 8);
        heat_view_done(&v);
        /* with room for one candidate, the contradiction is it */
        ck_assert_int_eq(heat_model_view(m, TEN, 2, 1, 0, &v), 0);
        ck_assert_uint_eq(v.heat.n_hot, 1);
        ck_assert_int_eq(v.heat.hot[0].pid, 7);
        heat_view_done(&v);

        /* hot again: it stays first; the first half, seen hot only now
         * (its first observation since the demotion), joins it */
        ck_assert_int_eq(heat_model_observe(m, TEN, (ScanRange[]) { R(7, 1, 0, BASE, 10 * P) }, 1, 300), 0);
        heat_model_entries(m, TEN, &e, &n);
        assert_entry(&e[0], 7, BASE, BASE + 10 * P, 1, 0, HEAT_ENTRY_DEMOTED_THEN_HOT);
        /* D2, confirmed cold, then hot: an ordinary hot range */
        ck_assert_int_eq(heat_model_observe(m, TEN, (ScanRange[]) { R(7, 1, 0, BASE + 100 * P, 10 * P) }, 1, 300), 0);
        heat_model_entries(m, TEN, &e, &n);
        assert_entry(&e[1], 7, BASE + 100 * P, BASE + 110 * P, 1, 0, 0);

        /* promoted: no longer a contradiction */
        d1.tier = 1;
        ck_assert_int_eq(heat_model_moved(m, TEN, &d1, 0, 0, 10 * P), 0);
        heat_model_entries(m, TEN, &e, &n);
        assert_entry(&e[0], 7, BASE, BASE + 10 * P, 0, 0, HEAT_ENTRY_MOVED);
        ck_assert_int_eq(heat_model_view(m, TEN, 2, 64, 0, &v), 0);
        ck_assert_uint_eq(v.n_demoted_then_hot, 0);
        heat_view_done(&v);
}
END_TEST

/* A deterministic generator for the bigger cases. */
static uint32_t lcg(uint32_t *s) {
        *s = *s * 1664525u + 1013904223u;
        return *s >> 8;
}

static ScanRange random_range(uint32_t *s) {
        ScanRange r = R((pid_t) (1 + lcg(s) % 3), (int) (lcg(s) % 4) - 1, (int) (lcg(s) % (HEAT_MAX_AGE + 1)),
                        BASE + (lcg(s) % 512) * P, (1 + lcg(s) % 16) * P);

        r.nr_accesses = r.age == 0 ? 1 + lcg(s) % 5 : 0;
        return r;
}

START_TEST(test_heat_model_summary_equals_entries) {
        _cleanup_(heat_model_freep) HeatModel *m = model(NULL);
        HeatSummary sum = { 0 };
        uint64_t tracked = 0;
        uint32_t seed = 1;
        const HeatEntry *e;
        HeatView v;
        size_t n;

        for (unsigned round = 0; round < 50; round++) {
                ScanRange r[20];

                for (unsigned i = 0; i < 20; i++)
                        r[i] = random_range(&seed);
                ck_assert_int_eq(heat_model_observe(m, TEN, r, 20, round), 0);
                if (round % 7 == 3)
                        ck_assert_int_eq(heat_model_moved(m, TEN, &r[0], 2, 2, 0), 0);
        }
        heat_model_entries(m, TEN, &e, &n);
        ck_assert_uint_gt(n, 50);
        for (size_t i = 0; i < n; i++) {
                ck_assert_uint_lt(e[i].start, e[i].end);
                if (i > 0 && e[i].kind == e[i - 1].kind && e[i].pid == e[i - 1].pid)
                        ck_assert_uint_le(e[i - 1].end, e[i].start); /* sorted, no overlap */
                if (!(e[i].flags & HEAT_ENTRY_MOVED)) {
                        sum.bytes[e[i].tier][e[i].age] += e[i].end - e[i].start;
                        tracked += e[i].end - e[i].start;
                }
        }
        ck_assert_int_eq(heat_model_view(m, TEN, 3, 1000, 0, &v), 0);
        ck_assert_mem_eq(&v.heat.heat, &sum, sizeof(sum));
        ck_assert_uint_eq(v.heat.tracked_bytes, tracked);
        ck_assert_uint_gt(tracked, 0);
        heat_view_done(&v);
}
END_TEST

static void assert_same_ranges(const ScanRange *a, const ScanRange *b, size_t n) {
        for (size_t i = 0; i < n; i++) {
                ck_assert_uint_eq(a[i].start, b[i].start);
                ck_assert_uint_eq(a[i].end, b[i].end);
                ck_assert_int_eq(a[i].age, b[i].age);
                ck_assert_int_eq(a[i].tier, b[i].tier);
                ck_assert_uint_eq(a[i].nr_accesses, b[i].nr_accesses);
        }
}

START_TEST(test_heat_model_candidates_match_pick) {
        _cleanup_(heat_model_freep) HeatModel *m = model(NULL);
        ScanRange r[60];
        TenantHeat ref = { 0 };
        uint32_t seed = 7;
        HeatView v;

        /* one process, ranges apart (no merging), every tier of three */
        for (unsigned i = 0; i < 60; i++) {
                r[i] = R(7, (int) (lcg(&seed) % 3), (int) (lcg(&seed) % 4), BASE + (59 - i) * 4 * P, P);
                r[i].nr_accesses = r[i].age == 0 ? lcg(&seed) % 4 : 0;
        }
        ck_assert_int_eq(heat_model_observe(m, TEN, r, 60, 100), 0);
        for (size_t max = 5; max <= 60; max += 55) {
                ck_assert_int_eq(heat_model_view(m, TEN, 3, max, 0, &v), 0);
                ck_assert_int_eq(heat_pick_candidates(&ref, r, 60, 3, max), 0);
                ck_assert_uint_eq(v.heat.n_cold, ref.n_cold);
                ck_assert_uint_eq(v.heat.n_hot, ref.n_hot);
                ck_assert_uint_eq(v.heat.n_warm, ref.n_warm);
                ck_assert_uint_gt(ref.n_cold, 0);
                ck_assert_uint_gt(ref.n_hot, 0);
                ck_assert_uint_gt(ref.n_warm, 0);
                assert_same_ranges(v.heat.cold, ref.cold, ref.n_cold);
                assert_same_ranges(v.heat.hot, ref.hot, ref.n_hot);
                assert_same_ranges(v.heat.warm, ref.warm, ref.n_warm);
                tenant_heat_clear(&ref);
                heat_view_done(&v);
        }

        /* the rules spelled out: tier 1 of two is the slowest */
        HeatModel *m2 = model(NULL);
        ScanRange x[] = { R(1, 0, 2, BASE, P), R(1, 0, 9, BASE + 2 * P, P), R(1, 0, 2, BASE + 4 * P, P),
                          R(1, 1, 0, BASE + 6 * P, P), R(1, 1, 0, BASE + 8 * P, P), R(1, 0, 0, BASE + 10 * P, P),
                          R(1, 0, 0, BASE + 12 * P, P), R(1, 1, 5, BASE + 14 * P, P) };

        x[4].nr_accesses = 3;
        x[5].nr_accesses = 2;
        ck_assert_int_eq(heat_model_observe(m2, TEN, x, 8, 100), 0);
        ck_assert_int_eq(heat_model_view(m2, TEN, 2, 10, 0, &v), 0);
        ck_assert_uint_eq(v.heat.n_cold, 3); /* tier 0, age >= 1, oldest first, then by address */
        ck_assert_uint_eq(v.heat.cold[0].start, BASE + 2 * P);
        ck_assert_uint_eq(v.heat.cold[1].start, BASE);
        ck_assert_uint_eq(v.heat.cold[2].start, BASE + 4 * P);
        ck_assert_uint_eq(v.heat.n_hot, 2); /* tier 1, age 0, most accessed first */
        ck_assert_uint_eq(v.heat.hot[0].start, BASE + 8 * P);
        ck_assert_uint_eq(v.heat.hot[1].start, BASE + 6 * P);
        ck_assert_uint_eq(v.heat.n_warm, 2); /* tier 0, age 0, least accessed first */
        ck_assert_uint_eq(v.heat.warm[0].start, BASE + 12 * P);
        ck_assert_uint_eq(v.heat.warm[1].start, BASE + 10 * P);
        heat_view_done(&v);
        /* a tier the machine lacks gives no candidates */
        ck_assert_int_eq(heat_model_view(m2, TEN, 1, 10, 0, &v), 0);
        ck_assert_uint_eq(v.heat.n_hot + v.heat.n_cold + v.heat.n_warm, 0);
        ck_assert_uint_eq(v.heat.tracked_bytes, 8 * P);
        heat_view_done(&v);
        ck_assert_int_eq(heat_model_view(m2, TEN, 0, 10, 0, &v), -EINVAL);
        heat_model_free(m2);
}
END_TEST

START_TEST(test_heat_model_memory_cap) {
        _cleanup_(heat_model_freep) HeatModel *m = model(&(HeatModelOptions) {
                .max_entries_tenant = 1000, .max_entries = 1500 });
        _cleanup_free_ ScanRange *r = calloc(10000, sizeof(*r));
        uint64_t hot_before, hot_after, cold_before, cold_after, mem;
        const HeatEntry *e;
        HeatView v;
        size_t n;

        ck_assert_ptr_nonnull(r);
        /* 10000 adjacent pages of alternating ages: coarsened, no byte lost,
         * none colder than observed */
        for (unsigned i = 0; i < 10000; i++)
                r[i] = R(7, 0, (int) (i % 3 == 0 ? 0 : 1 + i % 5), BASE + i * P, P);
        hot_before = 0;
        for (unsigned i = 0; i < 10000; i++)
                hot_before += r[i].age == 0 ? P : 0;
        cold_before = 10000 * P - hot_before;
        ck_assert_int_eq(heat_model_observe(m, TEN, r, 10000, 100), 0);
        heat_model_entries(m, TEN, &e, &n);
        ck_assert_uint_le(n, 1000);
        ck_assert_uint_ge(n, 900); /* only as coarse as needed */
        ck_assert_int_eq(heat_model_view(m, TEN, 2, 64, 0, &v), 0);
        ck_assert_uint_eq(v.heat.tracked_bytes, 10000 * P);
        heat_summary_totals(&v.heat.heat, &hot_after, &cold_after);
        ck_assert_uint_ge(hot_after, hot_before);
        ck_assert_uint_le(cold_after, cold_before);
        heat_view_done(&v);

        /* ranges apart cannot merge: the oldest observations go */
        for (unsigned i = 0; i < 800; i++)
                r[i] = R(8, 0, 1, BASE + i * 2 * P, P);
        ck_assert_int_eq(heat_model_observe(m, 2, r, 800, 100), 0);
        for (unsigned i = 0; i < 800; i++)
                r[i] = R(8, 0, 2, BASE + (2000 + i * 2) * P, P);
        ck_assert_int_eq(heat_model_observe(m, 2, r, 800, 200), 0);
        /* its own cap took it to 1000 (the 600 oldest went); the global
         * cap of 1500 then takes both tenants, 1000 each, down to the
         * equal share, 750: tenant 2 loses its 200 older entries and 50
         * of the newer, lowest addresses first */
        ck_assert_uint_eq(heat_model_n_entries(m), 1500);
        heat_model_entries(m, 2, &e, &n);
        ck_assert_uint_eq(n, 750);
        ck_assert_uint_eq(e[0].start, BASE + (2000 + 2 * 50) * P);
        for (size_t i = 0; i < n; i++)
                ck_assert_uint_eq(e[i].observed_ms, 200);
        heat_model_entries(m, TEN, &e, &n);
        ck_assert_uint_eq(n, 750);
        ck_assert_int_eq(heat_model_view(m, TEN, 2, 64, 0, &v), 0);
        ck_assert_uint_eq(v.heat.tracked_bytes, 10000 * P); /* merged, not dropped */
        heat_view_done(&v);

        /* the state's size follows the entries */
        mem = heat_model_memory(m);
        ck_assert_uint_ge(mem, heat_model_n_entries(m) * sizeof(HeatEntry));
        ck_assert_uint_le(mem, 2 * 1500 * sizeof(HeatEntry) + 64 * 1024);
        heat_model_drop(m, 2);
        ck_assert_uint_lt(heat_model_memory(m), mem);
}
END_TEST

START_TEST(test_heat_model_byte_only) {
        _cleanup_(heat_model_freep) HeatModel *m = model(NULL);
        HeatSummary h = { 0 }, h2 = { 0 };
        TenantHeat th = { .cgroup_id = TEN };
        HeatView v;

        h.bytes[0][0] = 10 * M;
        h.bytes[0][2] = 30 * M;
        h.bytes[1][1] = 5 * M;
        th.heat = h;
        resident(m, TEN, 40 * M, 5 * M);
        ck_assert_int_eq(heat_model_feed(m, &th, HEAT_FEED_BYTE_ONLY | HEAT_FEED_PASS_BEGIN | HEAT_FEED_PASS_END |
                                                      HEAT_FEED_EXACT, 1000), 0);
        ck_assert_int_eq(heat_model_view(m, TEN, 2, 64, HEAT_WANT_RANGES, &v), 0);
        ck_assert(v.byte_only);
        ck_assert_uint_eq(v.summary_ms, 1000);
        ck_assert_mem_eq(&v.heat.heat, &h, sizeof(h));
        ck_assert_uint_eq(v.heat.tracked_bytes, 45 * M);
        ck_assert_uint_eq(v.heat.n_cold + v.heat.n_hot + v.heat.n_warm + v.heat.n_ranges, 0);
        ck_assert_uint_eq(v.coverage[0].classified, 40 * M);
        ck_assert_uint_eq(v.coverage[1].classified, 5 * M);
        ck_assert(v.coverage[0].complete);
        heat_view_done(&v);

        /* the next replaces it */
        h2.bytes[1][0] = 7 * M;
        ck_assert_int_eq(heat_model_observe_bytes(m, TEN, &h2, 2000), 0);
        ck_assert_int_eq(heat_model_view(m, TEN, 2, 64, 0, &v), 0);
        ck_assert_mem_eq(&v.heat.heat, &h2, sizeof(h2));
        ck_assert_uint_eq(v.coverage[0].classified, 0);
        heat_view_done(&v);

        /* a pass that does not report it again drops it */
        ck_assert_int_eq(heat_model_pass_begin(m, TEN, 3000), 0);
        ck_assert_int_eq(heat_model_pass_end(m, TEN, true, 3000), 0);
        ck_assert_uint_eq(coverage(m, TEN, 1).classified, 0);

        /* ranges after bytes: the tenant is ranged now */
        ck_assert_int_eq(heat_model_observe_bytes(m, TEN, &h, 4000), 0);
        ck_assert_int_eq(heat_model_observe(m, TEN, (ScanRange[]) { R(7, 0, 1, BASE, P) }, 1, 4000), 0);
        ck_assert_int_eq(heat_model_view(m, TEN, 2, 64, 0, &v), 0);
        ck_assert(!v.byte_only);
        ck_assert_uint_eq(v.heat.tracked_bytes, P);
        heat_view_done(&v);
}
END_TEST

START_TEST(test_heat_model_tenants) {
        _cleanup_(heat_model_freep) HeatModel *m = model(NULL);
        ScanRange r = R(7, 0, 1, BASE, P);
        uint64_t keep[] = { 3, 1 };
        HeatCoverage c;
        HeatView v;
        const HeatEntry *e;
        size_t n;

        for (uint64_t id = 1; id <= 4; id++) {
                TenantHeat h = { .cgroup_id = id, .ranges = &r, .n_ranges = 1 };

                ck_assert_int_eq(heat_model_feed(m, &h, HEAT_FEED_PASS_BEGIN | HEAT_FEED_PASS_END |
                                                         HEAT_FEED_EXACT, 100), 0);
                ck_assert(heat_model_coverage_complete(m, id, 0));
        }
        ck_assert_uint_eq(heat_model_n_entries(m), 4);
        ck_assert_int_eq(heat_model_retain(m, keep, 2), 0);
        ck_assert_uint_eq(heat_model_n_entries(m), 2);
        heat_model_entries(m, 2, &e, &n);
        ck_assert_uint_eq(n, 0);
        ck_assert_ptr_null(e);
        ck_assert(!heat_model_coverage_complete(m, 2, 0));
        ck_assert(heat_model_coverage_complete(m, 3, 0));

        /* what an unknown tenant looks like */
        ck_assert_int_eq(heat_model_coverage(m, 4, 0, &c), 0);
        ck_assert(!c.complete && c.classified == 0 && c.passes == 0);
        ck_assert_int_eq(heat_model_coverage(m, 4, HEAT_MAX_TIERS, &c), -EINVAL);
        ck_assert_int_eq(heat_model_view(m, 4, 2, 64, 0, &v), 0);
        ck_assert_uint_eq(v.heat.cgroup_id, 4);
        ck_assert_uint_eq(v.heat.tracked_bytes + v.heat.n_cold, 0);
        heat_view_done(&v);

        ck_assert_int_eq(heat_model_retain(m, NULL, 0), 0);
        ck_assert_uint_eq(heat_model_n_entries(m), 0);
        heat_model_drop(m, 1);
        heat_model_drop(NULL, 1);
        heat_view_done(NULL);
        ck_assert_ptr_null(heat_model_free(NULL));
}
END_TEST

START_TEST(test_heat_model_unmapped_sweep) {
        /* a tenant with 8 MiB of mapped pages and a sweep of its unmapped
         * ones: 16 MiB hot, 48 MiB cold on tier 0, 4 MiB hot on tier 1;
         * they count in classified, are no ranges or candidates, follow
         * tierd's moves (a demotion takes the cold ones first, a
         * promotion the hot ones), and the next sweep replaces them */
        _cleanup_(heat_model_freep) HeatModel *m = model(NULL);
        ScanRange r = R(7, 0, 3, BASE, 8 * M);
        TenantHeat h = { .cgroup_id = TEN, .ranges = &r, .n_ranges = 1,
                         .unmapped_hot = { 16 * M, 4 * M }, .unmapped_cold = { 48 * M } };
        HeatCoverage c;
        HeatView v;

        resident(m, TEN, 72 * M, 4 * M);
        ck_assert_int_eq(heat_model_feed(m, &h, HEAT_FEED_PASS_BEGIN | HEAT_FEED_PASS_END | HEAT_FEED_EXACT |
                                                HEAT_FEED_UNMAPPED, 1000), 0);
        c = coverage(m, TEN, 0);
        ck_assert_uint_eq(c.unmapped_hot, 16 * M);
        ck_assert_uint_eq(c.unmapped_cold, 48 * M);
        ck_assert_uint_eq(c.unmapped_ms, 1000);
        ck_assert_uint_eq(c.classified, 72 * M);
        ck_assert_uint_eq(coverage(m, TEN, 1).classified, 4 * M);
        ck_assert_int_eq(heat_model_view(m, TEN, 2, 16, 0, &v), 0);
        ck_assert_uint_eq(v.heat.n_cold, 1);
        ck_assert_uint_eq(v.heat.cold[0].end - v.heat.cold[0].start, 8 * M);
        ck_assert_uint_eq(v.heat.tracked_bytes, 8 * M);
        ck_assert_uint_eq(v.coverage[0].unmapped_hot, 16 * M);
        heat_view_done(&v);

        /* 56 MiB demoted: the 48 cold, then 8 of the hot */
        ck_assert_int_eq(heat_model_unmapped_moved(m, TEN, 0, 1, 56 * M), 0);
        c = coverage(m, TEN, 0);
        ck_assert_uint_eq(c.unmapped_cold, 0);
        ck_assert_uint_eq(c.unmapped_hot, 8 * M);
        c = coverage(m, TEN, 1);
        ck_assert_uint_eq(c.unmapped_cold, 48 * M);
        ck_assert_uint_eq(c.unmapped_hot, 12 * M);
        /* 20 MiB promoted: the 12 hot, then 8 cold */
        ck_assert_int_eq(heat_model_unmapped_moved(m, TEN, 1, 0, 20 * M), 0);
        ck_assert_uint_eq(coverage(m, TEN, 0).unmapped_hot, 20 * M);
        ck_assert_uint_eq(coverage(m, TEN, 0).unmapped_cold, 8 * M);
        ck_assert_uint_eq(coverage(m, TEN, 1).unmapped_hot, 0);
        ck_assert_uint_eq(coverage(m, TEN, 1).unmapped_cold, 40 * M);
        ck_assert_int_eq(heat_model_unmapped_moved(m, TEN, 0, 4, M), -EINVAL);

        /* a scan without a sweep's end keeps them; the next sweep replaces */
        h.ranges = NULL;
        h.n_ranges = 0;
        ck_assert_int_eq(heat_model_feed(m, &h, HEAT_FEED_PASS_BEGIN, 2000), 0);
        ck_assert_uint_eq(coverage(m, TEN, 0).unmapped_hot, 20 * M);
        h.unmapped_hot[0] = 2 * M;
        h.unmapped_hot[1] = 0;
        h.unmapped_cold[0] = 0;
        ck_assert_int_eq(heat_model_feed(m, &h, HEAT_FEED_UNMAPPED, 3000), 0);
        c = coverage(m, TEN, 0);
        ck_assert_uint_eq(c.unmapped_hot, 2 * M);
        ck_assert_uint_eq(c.unmapped_cold, 0);
        ck_assert_uint_eq(c.unmapped_ms, 3000);
        ck_assert_uint_eq(coverage(m, TEN, 1).unmapped_cold, 0);
}
END_TEST

int main(void) {
        Suite *s = suite_create("heatmodel");
        TCase *tc = tcase_create("heatmodel");

        tcase_add_test(tc, test_heat_model_coverage_grows_then_completes);
        tcase_add_test(tc, test_heat_model_coverage_change_and_inexact);
        tcase_add_test(tc, test_heat_model_coverage_resident_growth);
        tcase_add_test(tc, test_heat_model_observe_split_replace);
        tcase_add_test(tc, test_heat_model_expire_pid_exit);
        tcase_add_test(tc, test_heat_model_expire_unmapped);
        tcase_add_test(tc, test_heat_model_expire_moved);
        tcase_add_test(tc, test_heat_model_demoted_then_hot_first);
        tcase_add_test(tc, test_heat_model_summary_equals_entries);
        tcase_add_test(tc, test_heat_model_candidates_match_pick);
        tcase_add_test(tc, test_heat_model_memory_cap);
        tcase_add_test(tc, test_heat_model_byte_only);
        tcase_add_test(tc, test_heat_model_tenants);
        tcase_add_test(tc, test_heat_model_unmapped_sweep);
        suite_add_tcase(s, tc);
        return unit_run(s);
}
