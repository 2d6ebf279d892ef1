/* SPDX-License-Identifier: MIT */
/* Unit tests of the DAMON backends' pure parts (scanner/damon.h): the
 * intervals for a period, age conversion, the tried_regions reader on a
 * fixture tree, target diffing, regions placed on nodes by samples, the
 * kdamond record and claim on a fake DAMON sysfs, when a tenant's pass
 * is exact, and pids whose process changed left out of the targets or
 * written again. */
#include <check.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "damon.h"
#include "damon_owner.h"
#include "topology.h"
#include "unit.h"

START_TEST(test_intervals_for_period_1s) {
        DamonIntervals iv;

        damon_intervals_for_period(1000, &iv);
        ck_assert_uint_eq(iv.sample_us, 50000);
        ck_assert_uint_eq(iv.aggr_us, 500000);
        ck_assert_uint_eq(iv.update_us, 1000000);
}
END_TEST

START_TEST(test_intervals_for_period_short) {
        DamonIntervals iv;

        /* 10 ms: never below 1 ms sampling, aggregation >= one sample */
        damon_intervals_for_period(10, &iv);
        ck_assert_uint_eq(iv.sample_us, 1000);
        ck_assert_uint_ge(iv.aggr_us, iv.sample_us);
        damon_intervals_for_period(0, &iv); /* 0: the 1 s default */
        ck_assert_uint_eq(iv.aggr_us, 500000);
}
END_TEST

START_TEST(test_heat_age_accessed_is_zero) {
        ck_assert_uint_eq(damon_heat_age(1, 0, 500000, 1000000), 0);
        ck_assert_uint_eq(damon_heat_age(7, 100, 500000, 1000000), 0);
}
END_TEST

START_TEST(test_heat_age_idle_at_least_one) {
        /* idle for one aggregation of half a period: still age 1 */
        ck_assert_uint_eq(damon_heat_age(0, 0, 500000, 1000000), 1);
        /* age 1 -> 2 aggregations = 1 period; age 3 -> 4 = 2 periods */
        ck_assert_uint_eq(damon_heat_age(0, 1, 500000, 1000000), 1);
        ck_assert_uint_eq(damon_heat_age(0, 3, 500000, 1000000), 2);
        ck_assert_uint_eq(damon_heat_age(0, 9, 1000000, 1000000), 10);
}
END_TEST

START_TEST(test_heat_age_saturates) {
        ck_assert_uint_eq(damon_heat_age(0, 1000, 500000, 1000000), HEAT_MAX_AGE);
        ck_assert_uint_eq(damon_heat_age(0, UINT32_MAX, 500000, 1000000), HEAT_MAX_AGE);
        ck_assert_uint_eq(damon_heat_age(0, 0, 500000, 0), HEAT_MAX_AGE);
}
END_TEST

static void write_region(const char *scheme, int idx, const char *start, const char *end, const char *nr,
                         const char *age) {
        char p[256];

        snprintf(p, sizeof(p), "%s/tried_regions/%d/start", scheme, idx);
        unit_write_file(p, start);
        snprintf(p, sizeof(p), "%s/tried_regions/%d/end", scheme, idx);
        unit_write_file(p, end);
        snprintf(p, sizeof(p), "%s/tried_regions/%d/nr_accesses", scheme, idx);
        unit_write_file(p, nr);
        snprintf(p, sizeof(p), "%s/tried_regions/%d/age", scheme, idx);
        unit_write_file(p, age);
}

START_TEST(test_read_tried_regions_sorted) {
        char dir[256];
        DamonRegion *r = NULL;
        size_t n = 0;

        /* As 6.12 lists them: not in address order, total_bytes aside,
         * and directory 10 sorts before 2 by name. */
        unit_write_file("s/tried_regions/total_bytes", "12288\n");
        write_region("s", 0, "94709630009344\n", "94709708414976\n", "0\n", "6\n");
        write_region("s", 1, "140183213838336\n", "140183266152448\n", "0\n", "6\n");
        write_region("s", 2, "140183196401664\n", "140183197446144\n", "11\n", "3\n");
        write_region("s", 10, "4096\n", "8192\n", "2\n", "0\n");
        snprintf(dir, sizeof(dir), "%s/s/tried_regions", unit_tmproot());
        ck_assert_int_eq(damon_read_tried_regions(dir, &r, &n), 0);
        ck_assert_uint_eq(n, 4);
        ck_assert_uint_eq(r[0].start, 4096);
        ck_assert_uint_eq(r[0].nr_accesses, 2);
        ck_assert_uint_eq(r[1].start, 94709630009344ULL);
        ck_assert_uint_eq(r[1].age, 6);
        ck_assert_uint_eq(r[2].start, 140183196401664ULL);
        ck_assert_uint_eq(r[2].end, 140183197446144ULL);
        ck_assert_uint_eq(r[2].nr_accesses, 11);
        ck_assert_uint_eq(r[2].age, 3);
        ck_assert_uint_eq(r[3].start, 140183213838336ULL);
        free(r);
}
END_TEST

START_TEST(test_read_tried_regions_empty_and_missing) {
        char dir[256];
        DamonRegion *r = NULL;
        size_t n = 7;

        unit_write_file("e/tried_regions/total_bytes", "0\n");
        snprintf(dir, sizeof(dir), "%s/e/tried_regions", unit_tmproot());
        ck_assert_int_eq(damon_read_tried_regions(dir, &r, &n), 0);
        ck_assert_uint_eq(n, 0);
        free(r);
        snprintf(dir, sizeof(dir), "%s/none/tried_regions", unit_tmproot());
        ck_assert_int_eq(damon_read_tried_regions(dir, &r, &n), -ENOENT);
}
END_TEST

START_TEST(test_read_tried_regions_skips_bad) {
        char dir[256];
        DamonRegion *r = NULL;
        size_t n = 0;

        write_region("b", 0, "8192\n", "4096\n", "1\n", "1\n"); /* end <= start */
        write_region("b", 1, "0\n", "4096\n", "1\n", "1\n");
        unit_write_file("b/tried_regions/2/start", "4096\n"); /* vanished half-way */
        snprintf(dir, sizeof(dir), "%s/b/tried_regions", unit_tmproot());
        ck_assert_int_eq(damon_read_tried_regions(dir, &r, &n), 0);
        ck_assert_uint_eq(n, 1);
        ck_assert_uint_eq(r[0].end, 4096);
        free(r);
}
END_TEST

START_TEST(test_read_tried_regions_garbage) {
        char dir[256];
        DamonRegion *r = NULL;
        size_t n = 0;

        write_region("g", 0, "zero\n", "4096\n", "1\n", "1\n");
        snprintf(dir, sizeof(dir), "%s/g/tried_regions", unit_tmproot());
        ck_assert_int_eq(damon_read_tried_regions(dir, &r, &n), -EINVAL);
}
END_TEST

static const pid_t t1_pids[] = { 10, 11, 12 };
static const pid_t t2_pids[] = { 20, 11 };

START_TEST(test_targets_first_list) {
        ScanTarget t[2] = {
                { .cgroup_path = "t1", .pids = t1_pids, .n_pids = 3 },
                { .cgroup_path = "t2", .pids = t2_pids, .n_pids = 2 },
        };
        DamonTargets old = { 0 }, next;
        bool changed;

        ck_assert_int_eq(damon_targets_next(&old, t, 2, NULL, NULL, &next, &changed), 0);
        ck_assert(changed);
        /* 11 is in both: it counts for the first tenant */
        ck_assert_uint_eq(next.n, 4);
        ck_assert_int_eq(next.pids[0], 10);
        ck_assert_int_eq(next.pids[1], 11);
        ck_assert_int_eq(next.pids[2], 12);
        ck_assert_int_eq(next.pids[3], 20);
        ck_assert_uint_eq(next.tenant[1], 0);
        ck_assert_uint_eq(next.tenant[3], 1);
        damon_targets_done(&next);
}
END_TEST

START_TEST(test_targets_same_is_unchanged) {
        ScanTarget t[1] = { { .cgroup_path = "t1", .pids = t1_pids, .n_pids = 3 } };
        DamonTargets a, b;
        bool changed;

        ck_assert_int_eq(damon_targets_next(&(DamonTargets) { 0 }, t, 1, NULL, NULL, &a, &changed), 0);
        ck_assert_int_eq(damon_targets_next(&a, t, 1, NULL, NULL, &b, &changed), 0);
        ck_assert(!changed);
        ck_assert_uint_eq(b.n, 3);
        damon_targets_done(&a);
        damon_targets_done(&b);
}
END_TEST

START_TEST(test_targets_keep_indexes) {
        pid_t old_pids[] = { 10, 11, 12, 13 };
        size_t old_tenant[] = { 0, 0, 0, 0 };
        DamonTargets old = { .pids = old_pids, .tenant = old_tenant, .n = 4 }, next;
        /* 11 exited, 14 is new, listed first */
        const pid_t now[] = { 14, 13, 12, 10 };
        ScanTarget t[1] = { { .cgroup_path = "t1", .pids = now, .n_pids = 4 } };
        bool changed;

        ck_assert_int_eq(damon_targets_next(&old, t, 1, NULL, NULL, &next, &changed), 0);
        ck_assert(changed);
        ck_assert_uint_eq(next.n, 4);
        ck_assert_int_eq(next.pids[0], 10);
        ck_assert_int_eq(next.pids[1], 14); /* the hole takes the new one */
        ck_assert_int_eq(next.pids[2], 12);
        ck_assert_int_eq(next.pids[3], 13);
        damon_targets_done(&next);
}
END_TEST

START_TEST(test_targets_compact_from_end) {
        pid_t old_pids[] = { 10, 11, 12, 13 };
        size_t old_tenant[] = { 0, 0, 1, 1 };
        DamonTargets old = { .pids = old_pids, .tenant = old_tenant, .n = 4 }, next;
        const pid_t a[] = { 10 }, b[] = { 13 };
        ScanTarget t[2] = {
                { .cgroup_path = "t1", .pids = a, .n_pids = 1 },
                { .cgroup_path = "t2", .pids = b, .n_pids = 1 },
        };
        bool changed;

        ck_assert_int_eq(damon_targets_next(&old, t, 2, NULL, NULL, &next, &changed), 0);
        ck_assert(changed);
        ck_assert_uint_eq(next.n, 2);
        ck_assert_int_eq(next.pids[0], 10);
        ck_assert_int_eq(next.pids[1], 13); /* moved from index 3 */
        ck_assert_uint_eq(next.tenant[1], 1);
        damon_targets_done(&next);
}
END_TEST

START_TEST(test_targets_tenant_change_only) {
        pid_t old_pids[] = { 10 };
        size_t old_tenant[] = { 0 };
        DamonTargets old = { .pids = old_pids, .tenant = old_tenant, .n = 1 }, next;
        const pid_t a[] = { 10 };
        ScanTarget t[2] = {
                { .cgroup_path = "t1", .pids = NULL, .n_pids = 0 },
                { .cgroup_path = "t2", .pids = a, .n_pids = 1 },
        };
        bool changed;

        ck_assert_int_eq(damon_targets_next(&old, t, 2, NULL, NULL, &next, &changed), 0);
        ck_assert(!changed); /* same pids: no commit, only the mapping */
        ck_assert_uint_eq(next.tenant[0], 1);
        damon_targets_done(&next);
}
END_TEST

START_TEST(test_targets_all_gone) {
        pid_t old_pids[] = { 10 };
        size_t old_tenant[] = { 0 };
        DamonTargets old = { .pids = old_pids, .tenant = old_tenant, .n = 1 }, next;
        ScanTarget t[1] = { { .cgroup_path = "t1" } };
        bool changed;

        ck_assert_int_eq(damon_targets_next(&old, t, 1, NULL, NULL, &next, &changed), 0);
        ck_assert(changed);
        ck_assert_uint_eq(next.n, 0);
        damon_targets_done(&next);
}
END_TEST

static Topology *two_tiers(void) {
        Topology *t = calloc(1, sizeof(*t));

        ck_assert_ptr_nonnull(t);
        t->n_nodes = 2;
        t->nodes[0] = (TopologyNode) { .id = 0, .has_cpus = true, .has_memory = true, .tier = 0 };
        t->nodes[1] = (TopologyNode) { .id = 1, .has_memory = true, .tier = 1 };
        t->n_tiers = 2;
        return t;
}

/* A process that exited is dropped without shifting the survivors (the
 * kernel pairs positions, damon_commit_targets()): the new process takes
 * its position. The old retry compacted the list (12 and 13 moved down). */
static pid_t dead_pid;
static bool alive_but_dead_pid(pid_t p) {
        return p != dead_pid;
}
START_TEST(test_targets_drop_keeps_positions) {
        pid_t old_pids[] = { 10, 11, 12, 13 };
        size_t old_tenant[] = { 0, 0, 1, 1 };
        DamonTargets old = { .pids = old_pids, .tenant = old_tenant, .n = 4 }, next;
        const pid_t a[] = { 10, 11 }, b[] = { 12, 13, 20 };
        ScanTarget t[2] = {
                { .cgroup_path = "t1", .pids = a, .n_pids = 2 },
                { .cgroup_path = "t2", .pids = b, .n_pids = 3 },
        };
        bool changed;

        ck_assert_int_eq(damon_targets_next(&old, t, 2, NULL, NULL, &next, &changed), 0);
        ck_assert(changed);
        ck_assert_uint_eq(next.n, 5);
        ck_assert_int_eq(next.pids[4], 20); /* appended */
        dead_pid = 11;
        ck_assert_int_eq(damon_targets_drop(&old, &next, alive_but_dead_pid), 0);
        ck_assert_uint_eq(next.n, 4);
        ck_assert_int_eq(next.pids[0], 10);
        ck_assert_int_eq(next.pids[1], 20); /* the freed position */
        ck_assert_int_eq(next.pids[2], 12);
        ck_assert_int_eq(next.pids[3], 13);
        ck_assert_uint_eq(next.tenant[1], 1);
        ck_assert_uint_eq(next.tenant[2], 1);
        damon_targets_done(&next);
}
END_TEST
/* Per-process state follows the pid: 11 moved from position 1 to 2, 10
 * stayed, 14 is new. The old remap kept a snapshot only at the same
 * position with the same pid (position 0 here). */
START_TEST(test_targets_map_by_pid) {
        pid_t old_pids[] = { 10, 11, 12 };
        pid_t new_pids[] = { 10, 14, 11 };
        size_t tn[] = { 0, 0, 0 };
        DamonTargets old = { .pids = old_pids, .tenant = tn, .n = 3 }, next = { .pids = new_pids, .tenant = tn, .n = 3 };
        size_t map[3];

        damon_targets_map(&old, &next, map);
        ck_assert_uint_eq(map[0], 0);
        ck_assert_uint_eq(map[1], SIZE_MAX);
        ck_assert_uint_eq(map[2], 1);
        damon_targets_map(&(DamonTargets) { 0 }, &next, map);
        ck_assert_uint_eq(map[0], SIZE_MAX);
}
END_TEST
/* Churn around long-lived processes: over many rounds of processes
 * coming and going, a survivor moves only when the list shrank below its
 * position, and then the number of moves is the least possible (the
 * survivors at or past the new count). Keeping the old order and
 * appending new processes would move every survivor after an exited one. */
START_TEST(test_targets_churn_positions) {
        DamonTargets cur = { 0 };
        uint64_t rng = 0x9e3779b97f4a7c15ULL;
        pid_t next_pid = 100;
        unsigned moves = 0, must = 0;

        for (int round = 0; round < 500; round++) {
                pid_t live[64];
                size_t n = 0, ten[64] = { 0 };
                DamonTargets next;
                bool changed;

                /* the long-lived ones (pids 1-3) always; each other one
                 * survives with probability 1/2; 0-7 new ones */
                for (size_t i = 0; i < cur.n; i++) {
                        rng ^= rng << 13, rng ^= rng >> 7, rng ^= rng << 17;
                        if (cur.pids[i] <= 3 || (rng & 1))
                                live[n++] = cur.pids[i];
                }
                for (pid_t p = 1; p <= 3; p++)
                        if (round == 0)
                                live[n++] = p;
                rng ^= rng << 13, rng ^= rng >> 7, rng ^= rng << 17;
                for (unsigned k = rng % 8; k > 0 && n < 64; k--)
                        live[n++] = next_pid++;
                ck_assert_int_eq(damon_targets_assign(&cur, live, ten, n, &next, &changed), 0);
                ck_assert_uint_eq(next.n, n);
                for (size_t i = 0; i < cur.n; i++) {
                        bool stays = false;

                        for (size_t j = 0; j < n; j++)
                                stays = stays || live[j] == cur.pids[i];
                        if (!stays)
                                continue;
                        if (i < n) {
                                ck_assert_msg(next.pids[i] == cur.pids[i], "round %d: pid %d left position %zu",
                                              round, (int) cur.pids[i], i);
                        } else {
                                must++;
                                moves++;
                        }
                }
                /* every listed process once */
                for (size_t j = 0; j < n; j++) {
                        unsigned seen = 0;

                        for (size_t i = 0; i < next.n; i++)
                                seen += next.pids[i] == live[j];
                        ck_assert_uint_eq(seen, 1);
                }
                damon_targets_done(&cur);
                cur = next;
        }
        ck_assert_uint_eq(moves, must);
        /* the long-lived ones kept the positions they got in round 0 */
        ck_assert_int_eq(cur.pids[0], 1);
        ck_assert_int_eq(cur.pids[1], 2);
        ck_assert_int_eq(cur.pids[2], 3);
        damon_targets_done(&cur);
}
END_TEST
START_TEST(test_target_settled) {
        DamonIntervals iv;

        damon_intervals_for_period(1000, &iv); /* aggregation 500 ms, update 1 s */
        /* placed when the kdamond started: own regions at once; from 750 ms
         * (the first data scan, one period later, minus the start's time) */
        ck_assert(!damon_target_settled(0, true, &iv));
        ck_assert(!damon_target_settled(749999, true, &iv));
        ck_assert(damon_target_settled(750000, true, &iv));
        ck_assert(damon_target_settled(990000, true, &iv));
        /* placed by a commit: its own regions from the next ops update, so
         * not in the scan one period later, but in the one after */
        ck_assert(!damon_target_settled(1000000, false, &iv));
        ck_assert(!damon_target_settled(1749999, false, &iv));
        ck_assert(damon_target_settled(1750000, false, &iv));
        ck_assert(damon_target_settled(1990000, false, &iv));
        ck_assert(damon_target_settled(UINT64_MAX / 2, false, &iv));
}
END_TEST

START_TEST(test_tenants_exact) {
        pid_t tp[] = { 10, 20, 30, 40, 50 };
        size_t tt[] = { 0, 0, 1, 1, 1 };
        const DamonTargets t = { .pids = tp, .tenant = tt, .n = 5 };
        bool ok[] = { true, true, true, false, true };
        /* tenant 2 lists 20 too (tenant 0's) and 60 (not monitored yet);
         * tenant 3 lists only 10 (tenant 0's); tenant 4 nothing */
        const pid_t p0[] = { 20, 10 }, p1[] = { 30, 40, 50 }, p2[] = { 20, 60 }, p3[] = { 10, 0 };
        const ScanTarget st[] = {
                { .cgroup_id = 1, .pids = p0, .n_pids = 2 },
                { .cgroup_id = 2, .pids = p1, .n_pids = 3 },
                { .cgroup_id = 3, .pids = p2, .n_pids = 2 },
                { .cgroup_id = 4, .pids = p3, .n_pids = 2 },
                { .cgroup_id = 5 },
        };
        bool exact[5];

        ck_assert_int_eq(damon_tenants_exact(&t, ok, st, 5, exact), 0);
        ck_assert(exact[0]);
        ck_assert(!exact[1]);           /* 40's aggregation is not settled */
        ck_assert(!exact[2]);           /* 60 is not monitored */
        ck_assert(exact[3]);            /* nothing of its own */
        ck_assert(exact[4]);            /* no processes */
        ok[3] = true;
        ck_assert_int_eq(damon_tenants_exact(&t, ok, st, 2, exact), 0);
        ck_assert(exact[1]);
        /* no targets at all: every tenant with a process is inexact */
        ck_assert_int_eq(damon_tenants_exact(&(DamonTargets) { 0 }, ok, st, 5, exact), 0);
        ck_assert(!exact[0]);
        ck_assert(exact[4]);
}
END_TEST

START_TEST(test_age_clamp) {
        /* 500 ms aggregations: a process placed 1.2 s ago has seen 2 end,
         * its regions are at most 1 aggregation old */
        ck_assert_uint_eq(damon_age_clamp(40, 1200000, 500000), 1);
        ck_assert_uint_eq(damon_age_clamp(0, 1200000, 500000), 0);
        ck_assert_uint_eq(damon_age_clamp(40, 100000, 500000), 0);
        ck_assert_uint_eq(damon_age_clamp(40, 60000000, 500000), 40);
        ck_assert_uint_eq(damon_age_clamp(7, UINT64_MAX, 500000), 7);
        ck_assert_uint_eq(damon_age_clamp(7, 0, 0), 7);
}
END_TEST
START_TEST(test_samples_spread) {
        DamonRegion r = { .start = 0x100000, .end = 0x100000 + 64 * 4096 };
        DamonRegion small = { .start = 0x1000, .end = 0x4000 };

        ck_assert_uint_eq(damon_region_nr_samples(&r), DAMON_NODE_SAMPLES);
        ck_assert_uint_eq(damon_region_nr_samples(&small), 3);
        /* page aligned, inside, increasing, one per chunk of 8 pages */
        for (size_t i = 0; i < DAMON_NODE_SAMPLES; i++) {
                uint64_t a = damon_region_sample_addr(&r, DAMON_NODE_SAMPLES, i);

                ck_assert_uint_eq(a % 4096, 0);
                ck_assert_uint_ge(a, r.start + i * 8 * 4096);
                ck_assert_uint_lt(a, r.start + (i + 1) * 8 * 4096);
        }
        for (size_t i = 0; i < 3; i++)
                ck_assert_uint_eq(damon_region_sample_addr(&small, 3, i), 0x1000 + i * 4096);
}
END_TEST

START_TEST(test_ranges_one_node) {
        Topology *topo = two_tiers();
        DamonRegion r = { .start = 0x100000, .end = 0x140000, .nr_accesses = 3, .age = 2 };
        int nodes[8] = { 1, 1, -2, 1, 1, 1, 1, 1 };
        ScanRange out[8];

        ck_assert_uint_eq(damon_region_ranges(&r, 42, 0, nodes, 8, topo, out), 1);
        ck_assert_int_eq(out[0].pid, 42);
        ck_assert_uint_eq(out[0].start, r.start);
        ck_assert_uint_eq(out[0].end, r.end);
        ck_assert_int_eq(out[0].node, 1);
        ck_assert_int_eq(out[0].tier, 1);
        ck_assert_uint_eq(out[0].nr_accesses, 3);
        ck_assert_uint_eq(out[0].kind, SCAN_RANGE_VADDR);
        free(topo);
}
END_TEST

START_TEST(test_ranges_not_resident) {
        Topology *topo = two_tiers();
        DamonRegion r = { .start = 0x100000, .end = 0x140000 };
        int nodes[8] = { -2, -2, -2, -2, -2, -2, -2, -2 };
        ScanRange out[8];

        ck_assert_uint_eq(damon_region_ranges(&r, 42, 4, nodes, 8, topo, out), 1);
        ck_assert_int_eq(out[0].node, -1);
        ck_assert_int_eq(out[0].tier, -1);
        ck_assert_uint_eq(out[0].age, 4);
        free(topo);
}
END_TEST

START_TEST(test_ranges_split_mixed) {
        Topology *topo = two_tiers();
        DamonRegion r = { .start = 0x100000, .end = 0x100000 + 64 * 4096 };
        /* chunks of 8 pages: 0 0 | 1 1 1 (one absent) | 0 0 0 */
        int nodes[8] = { 0, 0, 1, -14, 1, 0, 0, 0 };
        ScanRange out[8];
        size_t n = damon_region_ranges(&r, 7, 1, nodes, 8, topo, out);

        ck_assert_uint_eq(n, 3);
        ck_assert_uint_eq(out[0].start, r.start);
        ck_assert_uint_eq(out[0].end, r.start + 16 * 4096);
        ck_assert_int_eq(out[0].tier, 0);
        ck_assert_uint_eq(out[1].start, r.start + 16 * 4096);
        ck_assert_uint_eq(out[1].end, r.start + 40 * 4096);
        ck_assert_int_eq(out[1].node, 1);
        ck_assert_int_eq(out[1].tier, 1);
        ck_assert_uint_eq(out[2].end, r.end);
        ck_assert_int_eq(out[2].node, 0);
        for (size_t i = 0; i < n; i++)
                ck_assert_uint_eq(out[i].age, 1);
        free(topo);
}
END_TEST

START_TEST(test_ranges_unknown_node_no_tier) {
        DamonRegion r = { .start = 0x1000, .end = 0x3000 };
        int nodes[2] = { 5, 5 };
        ScanRange out[2];

        /* a node the topology does not know: node kept, tier unknown */
        ck_assert_uint_eq(damon_region_ranges(&r, 1, 0, nodes, 2, NULL, out), 1);
        ck_assert_int_eq(out[0].node, 5);
        ck_assert_int_eq(out[0].tier, -1);
}
END_TEST


/* ---- the kdamond record ------------------------------------------------ */

static const DamonOwner OWNER = { .tierd_pid = 321, .tierd_start = 4567, .boot_id = "0a1b-2c", .kdamond_pid = 99 };

START_TEST(test_owner_round_trip) {
        char buf[256];
        DamonOwner o;

        ck_assert_int_eq(damon_owner_format(&OWNER, buf, sizeof(buf)), 0);
        ck_assert_str_eq(buf, "tierd_pid=321 tierd_start=4567 boot_id=0a1b-2c kdamond_pid=99 user=scanner\n");
        ck_assert_int_eq(damon_owner_parse(buf, &o), 0);
        ck_assert_int_eq(o.tierd_pid, 321);
        ck_assert_uint_eq(o.tierd_start, 4567);
        ck_assert_str_eq(o.boot_id, "0a1b-2c");
        ck_assert_int_eq(o.kdamond_pid, 99);
        ck_assert_int_eq(o.user, DAMON_USER_SCANNER);
        /* the DAMOS mover's */
        {
                DamonOwner m = OWNER;

                m.user = DAMON_USER_MOVER;
                ck_assert_int_eq(damon_owner_format(&m, buf, sizeof(buf)), 0);
                ck_assert_str_eq(buf, "tierd_pid=321 tierd_start=4567 boot_id=0a1b-2c kdamond_pid=99 user=mover\n");
                ck_assert_int_eq(damon_owner_parse(buf, &o), 0);
                ck_assert_int_eq(o.user, DAMON_USER_MOVER);
        }
        /* too small a buffer is said, not truncated silently */
        ck_assert_int_eq(damon_owner_format(&OWNER, buf, 20), -ENOBUFS);
}
END_TEST

START_TEST(test_owner_parse_rejects) {
        static const char *const bad[] = {
                "",                                                             /* nothing */
                "tierd_pid=1 tierd_start=2 boot_id=x",                          /* kdamond_pid missing */
                "tierd_pid=1 tierd_start=2 boot_id=x kdamond_pid=3 extra=4",    /* unknown word */
                "tierd_pid=0 tierd_start=2 boot_id=x kdamond_pid=3",            /* pid 0 */
                "tierd_pid=-1 tierd_start=2 boot_id=x kdamond_pid=3",           /* negative */
                "tierd_pid=1 tierd_start=2x boot_id=x kdamond_pid=3",           /* not a number */
                "tierd_pid=1 tierd_start=2 boot_id= kdamond_pid=3",             /* empty value */
                "tierd_pid=1 tierd_start=2 boot_id kdamond_pid=3",              /* no '=' */
                "tierd_pid=1 tierd_start=2 boot_id=0123456789012345678901234567890123456789 kdamond_pid=3",
                "tierd_pid=1 tierd_start=2 boot_id=x kdamond_pid=3 user=daemon",        /* unknown user */
                "tierd_pid=1 tierd_start=2 boot_id=x kdamond_pid=3 user=",              /* empty user */
        };
        DamonOwner o;

        for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
                ck_assert_msg(damon_owner_parse(bad[i], &o) == -EINVAL, "accepted: '%s'", bad[i]);
        /* kdamond_pid 0: created, not started */
        ck_assert_int_eq(damon_owner_parse("kdamond_pid=0 boot_id=b tierd_start=0 tierd_pid=7\n", &o), 0);
        ck_assert_int_eq(o.kdamond_pid, 0);
        /* no user: a record of a tierd before the mover had one, the scanner's */
        ck_assert_int_eq(o.user, DAMON_USER_SCANNER);
}
END_TEST

START_TEST(test_leftover_ours) {
        DamonSeen on = { .boot_id = "0a1b-2c", .nr_kdamonds = 1, .on = true, .kdamond_pid = 99 };
        DamonSeen off = { .boot_id = "0a1b-2c", .nr_kdamonds = 1, .on = false, .shape_ours = true };
        DamonOwner unstarted = OWNER;
        const char *why = NULL;

        ck_assert(damon_leftover_is_ours(&OWNER, &on, &why));
        ck_assert_str_eq(why, "ours");
        /* stopped by itself after its processes exited, or never started */
        ck_assert(damon_leftover_is_ours(&OWNER, &off, NULL));
        unstarted.kdamond_pid = 0;
        ck_assert(damon_leftover_is_ours(&unstarted, &off, NULL));
}
END_TEST

/* A record of USER (named NAME) with its N kdamonds: it round-trips, N
 * kdamonds of a dead tierd are its leftover, N - 1 are not (the message
 * says WORD, "two kdamonds"), and neither is N of the plain scanner's. */
static void check_user_leftover(DamonUser user, const char *name, uint64_t n, const char *word) {
        DamonOwner o = OWNER, back;
        DamonSeen all = { .boot_id = "0a1b-2c", .nr_kdamonds = n, .on = true, .kdamond_pid = 99 };
        DamonSeen fewer = all;
        const char *why = NULL;
        char buf[256], line[64];

        o.user = user;
        ck_assert_uint_eq(damon_user_kdamonds(user), n);
        ck_assert_str_eq(damon_user_name(user), name);
        ck_assert_int_eq(damon_owner_format(&o, buf, sizeof(buf)), 0);
        snprintf(line, sizeof(line), " user=%s\n", name);
        ck_assert_ptr_nonnull(strstr(buf, line));
        ck_assert_int_eq(damon_owner_parse(buf, &back), 0);
        ck_assert_int_eq(back.user, user);
        ck_assert(damon_leftover_is_ours(&o, &all, &why));
        fewer.nr_kdamonds = n - 1;
        ck_assert(!damon_leftover_is_ours(&o, &fewer, &why));
        ck_assert_ptr_nonnull(strstr(why, word));
        ck_assert(!damon_leftover_is_ours(&OWNER, &all, &why));
}

/* The scanner with its paddr kdamond (kdamonds/1): two kdamonds, and
 * only two. */
START_TEST(test_leftover_scanner_paddr) {
        ck_assert_uint_eq(damon_user_kdamonds(DAMON_USER_SCANNER), 1);
        check_user_leftover(DAMON_USER_SCANNER_PADDR, "scanner+paddr", 2, "two kdamonds");
}
END_TEST

/* With the DAMOS kdamond of unmapped pages (kdamonds/2, created off with
 * the pair): three kdamonds, and only three; the record of the pair alone
 * still means two. */
START_TEST(test_leftover_scanner_paddr_damos) {
        DamonOwner pair = OWNER;
        DamonSeen three = { .boot_id = "0a1b-2c", .nr_kdamonds = 3, .on = true, .kdamond_pid = 99 };
        DamonSeen two = three;
        const char *why = NULL;

        check_user_leftover(DAMON_USER_SCANNER_PADDR_DAMOS, "scanner+paddr+damos", 3, "three kdamonds");
        pair.user = DAMON_USER_SCANNER_PADDR;
        two.nr_kdamonds = 2;
        ck_assert(!damon_leftover_is_ours(&pair, &three, &why));
        ck_assert(damon_leftover_is_ours(&pair, &two, &why));
}
END_TEST

START_TEST(test_leftover_not_ours) {
        const DamonSeen base = { .boot_id = "0a1b-2c", .nr_kdamonds = 1, .on = true, .kdamond_pid = 99 };
        DamonOwner unstarted = OWNER;
        DamonSeen s;
        const char *why;

        s = base, s.boot_id = "other-boot";
        ck_assert(!damon_leftover_is_ours(&OWNER, &s, &why));
        ck_assert_str_eq(why, "the record is of another boot");
        s = base, s.boot_id = NULL;
        ck_assert(!damon_leftover_is_ours(&OWNER, &s, &why));
        s = base, s.owner_alive = true;
        ck_assert(!damon_leftover_is_ours(&OWNER, &s, &why));
        ck_assert_str_eq(why, "the tierd that created it still runs");
        s = base, s.nr_kdamonds = 2;
        ck_assert(!damon_leftover_is_ours(&OWNER, &s, &why));
        ck_assert_str_eq(why, "there is not exactly one kdamond");
        /* someone else's kdamond, running, after tierd's went away */
        s = base, s.kdamond_pid = 100;
        ck_assert(!damon_leftover_is_ours(&OWNER, &s, &why));
        ck_assert_str_eq(why, "the running kdamond is not the recorded one");
        /* running, but the record says tierd never started one */
        unstarted.kdamond_pid = 0;
        ck_assert(!damon_leftover_is_ours(&unstarted, &base, &why));
        /* stopped, with a context that is not tierd's */
        s = base, s.on = false, s.kdamond_pid = 0, s.shape_ours = false;
        ck_assert(!damon_leftover_is_ours(&OWNER, &s, &why));
        ck_assert_str_eq(why, "the stopped kdamond's context is not tierd's");
}
END_TEST

/* the first line of REL under the temporary tree, "" when missing */
static const char *tmp_line(const char *rel) {
        static char buf[256];
        char path[512];
        FILE *f;

        buf[0] = '\0';
        snprintf(path, sizeof(path), "%s/%s", unit_tmproot(), rel);
        f = fopen(path, "r");
        if (!f)
                return buf;
        if (!fgets(buf, sizeof(buf), f))
                buf[0] = '\0';
        fclose(f);
        buf[strcspn(buf, "\n")] = '\0';
        return buf;
}

START_TEST(test_owner_claim_free_and_busy) {
        char admin[256], run[256], record[300];

        snprintf(admin, sizeof(admin), "%s/admin", unit_tmproot());
        snprintf(run, sizeof(run), "%s/run", unit_tmproot());
        snprintf(record, sizeof(record), "%s/kdamond", run);
        unit_write_file("run/.keep", "");
        /* no kdamond: the record (user=mover, no kdamond yet), then nr_kdamonds 1 */
        unit_write_file("admin/kdamonds/nr_kdamonds", "0\n");
        ck_assert_int_eq(damon_owner_claim(admin, run, NULL, DAMON_USER_MOVER, "damos: ", ""), 0);
        ck_assert_str_eq(tmp_line("admin/kdamonds/nr_kdamonds"), "1");
        ck_assert_ptr_nonnull(strstr(tmp_line("run/kdamond"), "user=mover"));
        /* a kdamond and no record of tierd's: someone else's, left alone */
        ck_assert_int_eq(unlink(record), 0);
        unit_write_file("admin/kdamonds/nr_kdamonds", "1\n");
        ck_assert_int_eq(damon_owner_claim(admin, run, NULL, DAMON_USER_SCANNER, "", ""), -EBUSY);
        ck_assert_str_eq(tmp_line("admin/kdamonds/nr_kdamonds"), "1");
        ck_assert_str_eq(tmp_line("run/kdamond"), "");
        /* the scanner with its paddr kdamond and the DAMOS one of unmapped
         * pages: three at once (nr_kdamonds is written only while none runs) */
        unit_write_file("admin/kdamonds/nr_kdamonds", "0\n");
        ck_assert_int_eq(damon_owner_claim(admin, run, NULL, DAMON_USER_SCANNER_PADDR_DAMOS, "", ""), 0);
        ck_assert_str_eq(tmp_line("admin/kdamonds/nr_kdamonds"), "3");
        ck_assert_ptr_nonnull(strstr(tmp_line("run/kdamond"), "user=scanner+paddr+damos"));
        ck_assert_int_eq(unlink(record), 0);
        /* no DAMON sysfs at all */
        snprintf(admin, sizeof(admin), "%s/none", unit_tmproot());
        ck_assert_int_eq(damon_owner_claim(admin, run, NULL, DAMON_USER_SCANNER, "", ""), -ENOENT);
}
END_TEST

/* /proc/PID/stat (field 22, the start time: START) and /proc/PID/cgroup
 * under the temporary tree. */
static void write_proc(pid_t pid, uint64_t start, const char *cgroup) {
        char path[64], buf[512];

        snprintf(path, sizeof(path), "proc/%d/stat", (int) pid);
        snprintf(buf, sizeof(buf), "%d (w) S 1 1 1 0 -1 0 0 0 0 0 0 0 0 0 20 0 1 0 %llu 0 0\n", (int) pid,
                 (unsigned long long) start);
        unit_write_file(path, buf);
        snprintf(path, sizeof(path), "proc/%d/cgroup", (int) pid);
        snprintf(buf, sizeof(buf), "0::/%s\n", cgroup);
        unit_write_file(path, buf);
}

START_TEST(test_targets_checked_identities) {
        /* t1 listed 10, 11, 12 with their identities; before the targets
         * are written 11's pid went to another process and 12 moved to
         * another cgroup: neither becomes a DAMON target. A target without
         * identities (or no procfs root) is not checked. */
        static const pid_t pids[] = { 10, 11, 12 };
        ProcIdent ids[3];
        char proc[256], mount[256];
        ScanTarget t[2] = {
                { .cgroup_path = "t1", .pids = pids, .idents = ids, .n_pids = 3 },
                { .cgroup_path = "t2", .pids = t2_pids, .n_pids = 2 },
        };
        DamonTargets next;
        bool changed;

        snprintf(proc, sizeof(proc), "%s/proc", unit_tmproot());
        snprintf(mount, sizeof(mount), "%s/cg", unit_tmproot());
        for (int i = 0; i < 3; i++) {
                write_proc(pids[i], 1000 + (uint64_t) i, "t1");
                ck_assert_int_eq(proc_ident_read(proc, pids[i], "t1", &ids[i]), 0);
        }
        ck_assert_int_eq(damon_targets_next(&(DamonTargets) { 0 }, t, 2, proc, mount, &next, &changed), 0);
        ck_assert_uint_eq(next.n, 4); /* 10, 11, 12 of t1, 20 of t2 */
        damon_targets_done(&next);

        write_proc(11, 7777, "t1");
        write_proc(12, 1002, "elsewhere");
        ck_assert_int_eq(damon_targets_next(&(DamonTargets) { 0 }, t, 2, proc, mount, &next, &changed), 0);
        /* 11 of t1 is out; t2 also lists 11, unchecked: it is t2's now */
        ck_assert_uint_eq(next.n, 3);
        ck_assert_int_eq(next.pids[0], 10);
        ck_assert_uint_eq(next.tenant[0], 0);
        ck_assert_int_eq(next.pids[1], 20);
        ck_assert_int_eq(next.pids[2], 11);
        ck_assert_uint_eq(next.tenant[2], 1);
        damon_targets_done(&next);

        ck_assert_int_eq(damon_targets_next(&(DamonTargets) { 0 }, t, 1, NULL, NULL, &next, &changed), 0);
        ck_assert_uint_eq(next.n, 3);
        damon_targets_done(&next);
}
END_TEST

START_TEST(test_targets_same_pid_another_process) {
        /* 11 kept its position since the list was written, but its number
         * went to another process meanwhile (another start time): the list
         * changed (DAMON follows the old process until it is written
         * again), and what tierd keeps for 11 does not follow the number.
         * Unknown start times (a list of `tierd scan`) change nothing. */
        static const pid_t pids[] = { 10, 11 };
        pid_t old_pids[] = { 10, 11 };
        size_t old_tenant[] = { 0, 0 };
        uint64_t old_starts[] = { 1000, 1001 };
        DamonTargets old = { .pids = old_pids, .tenant = old_tenant, .starts = old_starts, .n = 2 }, next;
        ProcIdent ids[2];
        ScanTarget t[1] = { { .cgroup_path = "t1", .pids = pids, .idents = ids, .n_pids = 2 } };
        char proc[256], mount[256];
        size_t map[2];
        bool changed;

        snprintf(proc, sizeof(proc), "%s/proc", unit_tmproot());
        snprintf(mount, sizeof(mount), "%s/cg", unit_tmproot());
        write_proc(10, 1000, "t1");
        write_proc(11, 1001, "t1");
        for (int i = 0; i < 2; i++)
                ck_assert_int_eq(proc_ident_read(proc, pids[i], "t1", &ids[i]), 0);
        ck_assert_int_eq(damon_targets_next(&old, t, 1, proc, mount, &next, &changed), 0);
        ck_assert(!changed);
        ck_assert_uint_eq(next.starts[1], 1001);
        damon_targets_map(&old, &next, map);
        ck_assert_uint_eq(map[1], 1);
        damon_targets_done(&next);

        write_proc(11, 4242, "t1");
        ck_assert_int_eq(proc_ident_read(proc, 11, "t1", &ids[1]), 0);
        ck_assert_int_eq(damon_targets_next(&old, t, 1, proc, mount, &next, &changed), 0);
        ck_assert(changed);
        ck_assert_uint_eq(next.n, 2);
        ck_assert_int_eq(next.pids[1], 11); /* the same position, to be written again */
        ck_assert_uint_eq(next.starts[1], 4242);
        damon_targets_map(&old, &next, map);
        ck_assert_uint_eq(map[0], 0);
        ck_assert_uint_eq(map[1], SIZE_MAX);
        damon_targets_done(&next);

        old.starts = NULL;
        ck_assert_int_eq(damon_targets_next(&old, t, 1, proc, mount, &next, &changed), 0);
        ck_assert(!changed);
        damon_targets_done(&next);
}
END_TEST

/* The unmapped pages of a chunk of 16 PFNs from 0x100: node 0 holds
 * 0x100..0x107, node 1 0x108 on. Regions: 0x100..0x103 accessed (hot),
 * 0x104..0x10b idle for 10 aggregations (cold), 0x10c.. not monitored.
 * Memcg 7 is target 0's, 9 target 1's, 5 nobody's. */
START_TEST(test_unmapped_classify) {
        Topology *topo = two_tiers();
        const uint64_t lru = KPAGE_BIT(KPAGE_LRU), head = lru | KPAGE_BIT(KPAGE_COMPOUND_HEAD),
                       tail = lru | KPAGE_BIT(KPAGE_COMPOUND_TAIL);
        const DamonRegion regions[] = {
                { .start = 0x100 * 4096, .end = 0x104 * 4096, .nr_accesses = 3, .age = 0 },
                { .start = 0x104 * 4096, .end = 0x10c * 4096, .nr_accesses = 0, .age = 10 },
        };
        const NodeSpan spans[] = { { .start = 0, .end = 0x108, .node = 0 }, { .start = 0x108, .end = 0x400, .node = 1 } };
        KpageMemcg ids[] = { { .ino = 7, .target = 0 }, { .ino = 9, .target = 1 } };
        const KpageMemcgs m = { .ids = ids, .n = 2 };
        uint64_t flags[16] = {
                lru,                            /* 0x100 t0 hot, node 0 */
                lru | KPAGE_BIT(KPAGE_MMAP),    /* 0x101 mapped: the processes' walk has it */
                KPAGE_BIT(KPAGE_SLAB),          /* 0x102 not LRU */
                lru,                            /* 0x103 memcg 5: no target's */
                head, tail, tail, tail,         /* 0x104 t1, a 4-page folio, cold, node 0 */
                lru,                            /* 0x108 t0 cold, node 1 */
                lru | KPAGE_BIT(KPAGE_NOPAGE),  /* 0x109 */
                lru,                            /* 0x10a t1 cold, node 1 */
                tail,                           /* 0x10b a tail without its head here: left out */
                lru, lru, 0, 0,                 /* 0x10c.. in no region */
        };
        uint64_t memcgs[16] = { 7, 7, 0, 5, 9, 9, 9, 9, 7, 7, 9, 9, 7, 9, 0, 0 };
        DamonUnmapped out[2] = { 0 };
        uint64_t got;

        got = damon_unmapped_classify(regions, 2, 0x100, flags, memcgs, 16, &m, spans, 2, topo, 500000, 1000000, out);
        ck_assert_uint_eq(got, 7 * 4096);
        ck_assert_uint_eq(out[0].hot[0], 4096);
        ck_assert_uint_eq(out[0].cold[0], 0);
        ck_assert_uint_eq(out[0].hot[1], 0);
        ck_assert_uint_eq(out[0].cold[1], 4096);
        ck_assert_uint_eq(out[1].hot[0], 0);
        ck_assert_uint_eq(out[1].cold[0], 4 * 4096);
        ck_assert_uint_eq(out[1].cold[1], 4096);
        ck_assert_uint_eq(out[1].hot[1], 0);

        /* a chunk that starts past every region classifies nothing */
        memset(out, 0, sizeof(out));
        ck_assert_uint_eq(damon_unmapped_classify(regions, 2, 0x10c, flags + 12, memcgs + 12, 4, &m, spans, 2, topo,
                                                  500000, 1000000, out), 0);
        ck_assert_uint_eq(out[0].hot[0] + out[0].cold[0] + out[0].hot[1] + out[0].cold[1], 0);
        /* a region idle for one aggregation only says nothing yet */
        {
                DamonRegion young[2] = { regions[0], regions[1] };

                young[1].age = 0;
                memset(out, 0, sizeof(out));
                ck_assert_uint_eq(damon_unmapped_classify(young, 2, 0x100, flags, memcgs, 16, &m, spans, 2, topo,
                                                          500000, 1000000, out), 4096);
                ck_assert_uint_eq(out[0].hot[0], 4096);
                ck_assert_uint_eq(out[1].cold[0] + out[0].cold[1] + out[1].cold[1], 0);
                /* nor for three (a page read every 0.3 s shows no access
                 * in two aggregations in a row one time in forty) */
                young[1].age = 2;
                memset(out, 0, sizeof(out));
                ck_assert_uint_eq(damon_unmapped_classify(young, 2, 0x100, flags, memcgs, 16, &m, spans, 2, topo,
                                                          500000, 1000000, out), 4096);
                /* four: cold */
                young[1].age = 3;
                memset(out, 0, sizeof(out));
                ck_assert_uint_eq(damon_unmapped_classify(young, 2, 0x100, flags, memcgs, 16, &m, spans, 2, topo,
                                                          500000, 1000000, out), 7 * 4096);
        }
        /* and without regions (none read yet) neither */
        ck_assert_uint_eq(damon_unmapped_classify(NULL, 0, 0x100, flags, memcgs, 16, &m, spans, 2, topo, 500000,
                                                  1000000, out), 0);
        topology_free(topo);
}
END_TEST

/* A sweep over three scans: a (id 10) and b (20) begin it; c (30) comes
 * in the second scan (in the next sweep, not this one); b is left out of
 * the second scan and a's memcgs change in the third -- only when the
 * sweep ends do the totals reach the heat, and only for the tenants it
 * covered whole. */
START_TEST(test_sweep_passes) {
        const ScanTarget ab[] = { { .cgroup_path = "a", .cgroup_id = 10 }, { .cgroup_path = "b", .cgroup_id = 20 } };
        const ScanTarget ac[] = { { .cgroup_path = "a", .cgroup_id = 10 }, { .cgroup_path = "c", .cgroup_id = 30 } };
        const ScanTarget abc[] = { { .cgroup_path = "c", .cgroup_id = 30 }, { .cgroup_path = "b", .cgroup_id = 20 },
                                   { .cgroup_path = "a", .cgroup_id = 10 } };
        const uint64_t h_ab[] = { 1, 2 }, h_ac[] = { 1, 3 }, h_abc[] = { 3, 2, 1 }, h_abc2[] = { 3, 2, 9 };
        DamonUnmapped acc[3] = { 0 };
        TenantHeat out[3] = { 0 };
        DamonSweep w = { 0 };

        ck_assert_int_eq(damon_sweep_begin(&w, ab, 2, h_ab), 0);
        ck_assert(w.open);
        acc[0].hot[0] = 4096;
        acc[1].cold[1] = 8192;
        damon_sweep_add(&w, ab, 2, acc);
        w.pfn = 1000;

        damon_sweep_check(&w, ac, 2, h_ac); /* b left out */
        memset(acc, 0, sizeof(acc));
        acc[0].cold[0] = 4096;
        acc[1].hot[0] = 1 << 20; /* c: not in this sweep */
        damon_sweep_add(&w, ac, 2, acc);

        damon_sweep_end(&w, abc, 3, out);
        ck_assert(!w.open);
        ck_assert_uint_eq(w.n, 0);
        ck_assert_uint_eq(out[0].pass & HEAT_PASS_UNMAPPED, 0); /* c */
        ck_assert_uint_eq(out[1].pass & HEAT_PASS_UNMAPPED, 0); /* b: left out of a scan */
        ck_assert_uint_ne(out[2].pass & HEAT_PASS_UNMAPPED, 0); /* a */
        ck_assert_uint_eq(out[2].unmapped_hot[0], 4096);
        ck_assert_uint_eq(out[2].unmapped_cold[0], 4096);

        /* the next sweep: a's memcgs change on the way */
        memset(out, 0, sizeof(out));
        ck_assert_int_eq(damon_sweep_begin(&w, abc, 3, h_abc), 0);
        ck_assert_uint_eq(w.pfn, 0);
        damon_sweep_check(&w, abc, 3, h_abc2);
        memset(acc, 0, sizeof(acc));
        acc[0].hot[0] = 4096;
        damon_sweep_add(&w, abc, 3, acc);
        damon_sweep_end(&w, abc, 3, out);
        ck_assert_uint_ne(out[0].pass & HEAT_PASS_UNMAPPED, 0);
        ck_assert_uint_eq(out[0].unmapped_hot[0], 4096);
        ck_assert_uint_ne(out[1].pass & HEAT_PASS_UNMAPPED, 0); /* b: nothing unmapped, exactly */
        ck_assert_uint_eq(out[1].unmapped_hot[0] + out[1].unmapped_cold[1], 0);
        ck_assert_uint_eq(out[2].pass & HEAT_PASS_UNMAPPED, 0); /* a */

        /* a failed read: nobody's result */
        memset(out, 0, sizeof(out));
        ck_assert_int_eq(damon_sweep_begin(&w, abc, 3, h_abc), 0);
        damon_sweep_fail(&w);
        damon_sweep_end(&w, abc, 3, out);
        for (int i = 0; i < 3; i++)
                ck_assert_uint_eq(out[i].pass & HEAT_PASS_UNMAPPED, 0);
        damon_sweep_done(&w);
}
END_TEST

START_TEST(test_region_lower) {
        const DamonRegion r[] = { { .start = 0x1000, .end = 0x3000 }, { .start = 0x5000, .end = 0x6000 } };

        ck_assert_uint_eq(damon_region_lower(r, 2, 0), 0);
        ck_assert_uint_eq(damon_region_lower(r, 2, 0x2fff), 0);
        ck_assert_uint_eq(damon_region_lower(r, 2, 0x3000), 1); /* in the gap: the next one */
        ck_assert_uint_eq(damon_region_lower(r, 2, 0x5fff), 1);
        ck_assert_uint_eq(damon_region_lower(r, 2, 0x6000), 2);
        ck_assert_uint_eq(damon_region_lower(NULL, 0, 0x6000), 0);
}
END_TEST

/* A memcg two targets list is the deepest one's, whatever their order;
 * the hash of a target's set changes with the set. */
START_TEST(test_memcgs_settle_deepest) {
        const ScanTarget t[] = { { .cgroup_path = "a/b" }, { .cgroup_path = "a" } };
        KpageMemcg ids[] = { { 30, 1 }, { 20, 1 }, { 30, 0 }, { 10, 1 } };
        uint64_t hash[2], hash2[2];
        const KpageMemcgs m = { .ids = ids, .n = 3 };

        ck_assert_uint_eq(kpage_memcgs_settle(ids, 4, t, 2, hash), 3);
        ck_assert_uint_eq(ids[0].ino, 10);
        ck_assert_uint_eq(ids[2].ino, 30);
        ck_assert_int_eq(kpage_memcgs_target(&m, 30), 0);
        ck_assert_int_eq(kpage_memcgs_target(&m, 20), 1);
        ck_assert_int_eq(kpage_memcgs_target(&m, 10), 1);
        ck_assert_int_eq(kpage_memcgs_target(&m, 15), -1);
        ck_assert_uint_ne(hash[0], 0);
        ck_assert_uint_ne(hash[1], 0);

        KpageMemcg fewer[] = { { 30, 0 }, { 10, 1 } };
        ck_assert_uint_eq(kpage_memcgs_settle(fewer, 2, t, 2, hash2), 2);
        ck_assert_uint_eq(hash2[0], hash[0]);
        ck_assert_uint_ne(hash2[1], hash[1]);
}
END_TEST

static Suite *damon_suite(void) {
        Suite *s = suite_create("damon");
        TCase *tc = tcase_create("pure");
        TCase *fs = tcase_create("tried_regions");

        tcase_add_test(tc, test_intervals_for_period_1s);
        tcase_add_test(tc, test_unmapped_classify);
        tcase_add_test(tc, test_leftover_scanner_paddr);
        tcase_add_test(tc, test_leftover_scanner_paddr_damos);
        tcase_add_test(tc, test_region_lower);
        tcase_add_test(tc, test_sweep_passes);
        tcase_add_test(tc, test_memcgs_settle_deepest);
        tcase_add_test(tc, test_intervals_for_period_short);
        tcase_add_test(tc, test_heat_age_accessed_is_zero);
        tcase_add_test(tc, test_heat_age_idle_at_least_one);
        tcase_add_test(tc, test_heat_age_saturates);
        tcase_add_test(tc, test_targets_first_list);
        tcase_add_test(tc, test_targets_same_is_unchanged);
        tcase_add_test(tc, test_targets_keep_indexes);
        tcase_add_test(tc, test_targets_compact_from_end);
        tcase_add_test(tc, test_targets_tenant_change_only);
        tcase_add_test(tc, test_targets_all_gone);
        tcase_add_test(tc, test_targets_drop_keeps_positions);
        tcase_add_test(tc, test_targets_map_by_pid);
        tcase_add_test(tc, test_targets_churn_positions);
        tcase_add_test(tc, test_age_clamp);
        tcase_add_test(tc, test_target_settled);
        tcase_add_test(tc, test_tenants_exact);
        tcase_add_test(tc, test_samples_spread);
        tcase_add_test(tc, test_ranges_one_node);
        tcase_add_test(tc, test_ranges_not_resident);
        tcase_add_test(tc, test_ranges_split_mixed);
        tcase_add_test(tc, test_ranges_unknown_node_no_tier);
        tcase_add_test(tc, test_owner_round_trip);
        tcase_add_test(tc, test_owner_parse_rejects);
        tcase_add_test(tc, test_leftover_ours);
        tcase_add_test(tc, test_leftover_not_ours);
        suite_add_tcase(s, tc);

        tcase_add_checked_fixture(fs, unit_tmp_setup, unit_tmp_teardown);
        tcase_add_test(fs, test_read_tried_regions_sorted);
        tcase_add_test(fs, test_owner_claim_free_and_busy);
        tcase_add_test(fs, test_read_tried_regions_empty_and_missing);
        tcase_add_test(fs, test_read_tried_regions_skips_bad);
        tcase_add_test(fs, test_read_tried_regions_garbage);
        tcase_add_test(fs, test_targets_checked_identities);
        tcase_add_test(fs, test_targets_same_pid_another_process);
        suite_add_tcase(s, fs);
        return s;
}

int main(void) {
        return unit_run(damon_suite());
}
