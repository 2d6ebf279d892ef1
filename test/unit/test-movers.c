/* SPDX-License-Identifier: MIT */
/* Unit tests of the movers' pure parts (migrate/mover.h): batching and THP
 * head selection, outcome accounting by errno, memory.numa_stat diffing,
 * DAMOS quota conversion and the /proc/iomem reader; and the move_pages
 * mover stopping, after a status query of this process's own pages, for
 * a pid that no longer names the process it was listed for. */
#include <check.h>
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "zoneinfo.h"
#include "mover.h"
#include "unit.h"
#include "util.h"

#define P MOVER_PAGE_SIZE
#define H MOVER_HUGE_SIZE
#define BASE UINT64_C(0x7f0000000000) /* 2 MiB aligned */

/* ---- move_units_fill ---------------------------------------------------- */

START_TEST(test_units_base_pages_batched) {
        MoveUnit u[4];
        uint64_t pos = BASE, budget = UINT64_MAX;
        bool capped;
        size_t n;

        /* 10 pages in batches of 4: 4, 4, 2 */
        n = move_units_fill(&pos, BASE + 10 * P, NULL, 0, &budget, NULL, u, 4, &capped);
        ck_assert_uint_eq(n, 4);
        ck_assert(!capped);
        ck_assert_uint_eq(u[0].addr, BASE);
        ck_assert_uint_eq(u[3].addr, BASE + 3 * P);
        ck_assert_uint_eq(u[3].pages, 1);
        ck_assert_uint_eq(pos, BASE + 4 * P);
        n = move_units_fill(&pos, BASE + 10 * P, NULL, 0, &budget, NULL, u, 4, &capped);
        ck_assert_uint_eq(n, 4);
        n = move_units_fill(&pos, BASE + 10 * P, NULL, 0, &budget, NULL, u, 4, &capped);
        ck_assert_uint_eq(n, 2);
        ck_assert_uint_eq(u[1].addr, BASE + 9 * P);
        ck_assert_uint_eq(pos, BASE + 10 * P);
        n = move_units_fill(&pos, BASE + 10 * P, NULL, 0, &budget, NULL, u, 4, &capped);
        ck_assert_uint_eq(n, 0);
}
END_TEST

START_TEST(test_units_unaligned_start_rounds_down) {
        MoveUnit u[2];
        uint64_t pos = BASE + 100, budget = UINT64_MAX;
        bool capped;

        ck_assert_uint_eq(move_units_fill(&pos, BASE + 2 * P, NULL, 0, &budget, NULL, u, 2, &capped), 2);
        ck_assert_uint_eq(u[0].addr, BASE);
}
END_TEST

START_TEST(test_units_thp_head_only) {
        /* 4 KiB pages, then a 4 MiB THP span (two THPs), then pages */
        MoveSpan huge[] = { { BASE + H, BASE + 3 * H } };
        MoveUnit u[1200];
        uint64_t pos = BASE + H - 2 * P, budget = UINT64_MAX, last = UINT64_MAX, pages = 0;
        bool capped;
        size_t n;

        n = move_units_fill(&pos, BASE + 3 * H + 3 * P, huge, 1, &budget, &last, u, 1200, &capped);
        ck_assert_uint_eq(n, 2 + 2 + 3);
        ck_assert_uint_eq(u[1].addr, BASE + H - P);
        ck_assert_uint_eq(u[2].addr, BASE + H);
        ck_assert_uint_eq(u[2].pages, MOVER_HUGE_PAGES);
        ck_assert_uint_eq(u[3].addr, BASE + 2 * H);
        ck_assert_uint_eq(u[3].pages, 512);
        ck_assert_uint_eq(u[4].addr, BASE + 3 * H);
        ck_assert_uint_eq(u[4].pages, 1);
        for (size_t i = 0; i < n; i++)
                pages += u[i].pages;
        ck_assert_uint_eq(pages, 2 + 1024 + 3);
}
END_TEST

START_TEST(test_units_thp_partly_in_range_moves_whole_once) {
        /* two ranges that both end/start inside the same THP */
        MoveSpan huge[] = { { BASE, BASE + H } };
        MoveUnit u[8];
        uint64_t pos = BASE + 100 * P, budget = UINT64_MAX, last = UINT64_MAX;
        bool capped;
        size_t n;

        n = move_units_fill(&pos, BASE + 200 * P, huge, 1, &budget, &last, u, 8, &capped);
        ck_assert_uint_eq(n, 1);
        ck_assert_uint_eq(u[0].addr, BASE); /* the head, outside the range */
        ck_assert_uint_eq(pos, BASE + 200 * P);
        pos = BASE + 300 * P;
        n = move_units_fill(&pos, BASE + 400 * P, huge, 1, &budget, &last, u, 8, &capped);
        ck_assert_uint_eq(n, 0); /* the same THP: not again */
        ck_assert_uint_eq(pos, BASE + 400 * P);
}
END_TEST

START_TEST(test_units_cap_stops_before_thp) {
        MoveSpan huge[] = { { BASE + H, BASE + 2 * H } };
        MoveUnit u[16];
        uint64_t pos = BASE + H - 4 * P, budget = 100;
        bool capped;
        size_t n;

        /* 4 pages fit, the THP (512) does not: stop there, capped */
        n = move_units_fill(&pos, BASE + 2 * H, huge, 1, &budget, NULL, u, 16, &capped);
        ck_assert_uint_eq(n, 4);
        ck_assert(capped);
        ck_assert_uint_eq(budget, 96);
        ck_assert_uint_eq(pos, BASE + H);
        /* base pages: the cap is exact */
        pos = BASE;
        budget = 3;
        n = move_units_fill(&pos, BASE + 10 * P, NULL, 0, &budget, NULL, u, 16, &capped);
        ck_assert_uint_eq(n, 3);
        ck_assert(capped);
        ck_assert_uint_eq(budget, 0);
}
END_TEST

START_TEST(test_units_batch_boundary_in_thp_span) {
        /* 3 THPs, batch of 2 units: 2 then 1, no THP twice or lost */
        MoveSpan huge[] = { { BASE, BASE + 3 * H } };
        MoveUnit u[2];
        uint64_t pos = BASE, budget = UINT64_MAX, last = UINT64_MAX;
        bool capped;

        ck_assert_uint_eq(move_units_fill(&pos, BASE + 3 * H, huge, 1, &budget, &last, u, 2, &capped), 2);
        ck_assert_uint_eq(u[1].addr, BASE + H);
        ck_assert_uint_eq(move_units_fill(&pos, BASE + 3 * H, huge, 1, &budget, &last, u, 2, &capped), 1);
        ck_assert_uint_eq(u[0].addr, BASE + 2 * H);
        ck_assert_uint_eq(move_units_fill(&pos, BASE + 3 * H, huge, 1, &budget, &last, u, 2, &capped), 0);
}
END_TEST

START_TEST(test_units_spans_lookup_several) {
        MoveSpan huge[] = { { BASE, BASE + H }, { BASE + 4 * H, BASE + 5 * H }, { BASE + 8 * H, BASE + 9 * H } };
        MoveUnit u[8];
        uint64_t pos = BASE + 4 * H + P, budget = UINT64_MAX;
        bool capped;

        ck_assert_uint_eq(move_units_fill(&pos, BASE + 5 * H + 2 * P, huge, 3, &budget, NULL, u, 8, &capped), 3);
        ck_assert_uint_eq(u[0].addr, BASE + 4 * H);
        ck_assert_uint_eq(u[0].pages, 512);
        ck_assert_uint_eq(u[1].addr, BASE + 5 * H);
        ck_assert_uint_eq(u[2].addr, BASE + 5 * H + P);
}
END_TEST

/* ---- accounting ---------------------------------------------------------- */

START_TEST(test_outcome_of_errno) {
        ck_assert_int_eq(move_outcome_of(1, 1, false), MOVE_MOVED);
        ck_assert_int_eq(move_outcome_of(1, 1, true), MOVE_ALREADY);
        ck_assert_int_eq(move_outcome_of(0, 1, false), MOVE_OTHER);
        ck_assert_int_eq(move_outcome_of(-EBUSY, 1, false), MOVE_BUSY);
        ck_assert_int_eq(move_outcome_of(-EACCES, 1, false), MOVE_ACCES);
        ck_assert_int_eq(move_outcome_of(-ENOENT, 1, true), MOVE_NOENT);
        ck_assert_int_eq(move_outcome_of(-EFAULT, 1, false), MOVE_FAULT);
        ck_assert_int_eq(move_outcome_of(-ENOMEM, 1, false), MOVE_NOMEM);
        ck_assert_int_eq(move_outcome_of(-EIO, 1, false), MOVE_OTHER);
        ck_assert_str_eq(move_outcome_to_string(MOVE_NOENT), "noent");
        ck_assert_ptr_null(move_outcome_to_string(_MOVE_OUTCOME_MAX));
}
END_TEST

START_TEST(test_account_query_then_move) {
        MoveUnit u[5] = { { BASE, 1, 0 }, { BASE + P, 1, 0 }, { BASE + H, 512, 0 }, { BASE + 2 * H, 1, 0 },
                          { BASE + 3 * H, 1, 0 } };
        int q[5] = { 1, 0, 0, -ENOENT, -EFAULT };
        MoveUnit todo[2] = { u[1], u[2] };
        int m[2] = { -EBUSY, 1 };
        MovePagesResult r = { 0 };

        /* query: already, (to move), (to move), noent, fault */
        move_account(&r, u, q, 5, 1, true);
        ck_assert_uint_eq(r.pages[MOVE_ALREADY], 1);
        ck_assert_uint_eq(r.pages[MOVE_NOENT], 1);
        ck_assert_uint_eq(r.pages[MOVE_FAULT], 1);
        ck_assert_uint_eq(r.pages[MOVE_OTHER], 0);
        ck_assert_uint_eq(r.bytes_moved, 0);
        /* move: busy, THP moved */
        move_account(&r, todo, m, 2, 1, false);
        ck_assert_uint_eq(r.pages[MOVE_MOVED], 512);
        ck_assert_uint_eq(r.thp_moved, 1);
        ck_assert_uint_eq(r.pages[MOVE_BUSY], 1);
        ck_assert_uint_eq(r.bytes_moved, 512 * P);
        /* failed: busy + fault, not noent (absent is nothing to move) */
        ck_assert_uint_eq(r.bytes_failed, 2 * P);
}
END_TEST

START_TEST(test_account_unset_is_other) {
        MoveUnit u[2] = { { BASE, 1, 0 }, { BASE + P, 1, 0 } };
        int s[2] = { 2, INT_MIN };
        MovePagesResult r = { 0 };

        move_account(&r, u, s, 2, 2, false);
        ck_assert_uint_eq(r.pages[MOVE_MOVED], 1);
        ck_assert_uint_eq(r.pages[MOVE_OTHER], 1);
        ck_assert_uint_eq(r.bytes_failed, P);
}
END_TEST

/* ---- numa_stat diffing --------------------------------------------------- */

static void numa(CgroupNumaStat *s, const char *text) {
        ck_assert_int_eq(cgroup_parse_numa_stat(text, s), 0);
}

START_TEST(test_diff_pure_demotion) {
        CgroupNumaStat b, a;
        ReclaimDiff d;

        numa(&b, "anon N0=104857600 N1=0\nfile N0=4096 N1=0\n");
        numa(&a, "anon N0=37748736 N1=67108864\nfile N0=4096 N1=0\n");
        reclaim_numa_diff(&b, &a, &d);
        ck_assert_int_eq(d.delta[0], -67108864);
        ck_assert_int_eq(d.delta[1], 67108864);
        ck_assert_uint_eq(d.moved_bytes, 67108864);
        ck_assert_uint_eq(d.freed_bytes, 0);
        ck_assert_uint_eq(d.grown_bytes, 0);
        ck_assert_uint_eq(d.nodes, 3);
}
END_TEST

START_TEST(test_diff_eviction_and_growth) {
        CgroupNumaStat b, a;
        ReclaimDiff d;

        /* 8 MiB left node 0, 2 MiB arrived on node 1: 2 moved, 6 freed */
        numa(&b, "anon N0=8388608 N1=0\nfile N0=8388608 N1=0\n");
        numa(&a, "anon N0=8388608 N1=2097152\nfile N0=0 N1=0\n");
        reclaim_numa_diff(&b, &a, &d);
        ck_assert_uint_eq(d.moved_bytes, 2097152);
        ck_assert_uint_eq(d.freed_bytes, 6291456);
        ck_assert_uint_eq(d.grown_bytes, 0);
        /* nothing left, 4 KiB arrived: growth only */
        numa(&a, "anon N0=8388608 N1=4096\nfile N0=8388608 N1=0\n");
        reclaim_numa_diff(&b, &a, &d);
        ck_assert_uint_eq(d.moved_bytes, 0);
        ck_assert_uint_eq(d.grown_bytes, 4096);
}
END_TEST

START_TEST(test_diff_nodes_union) {
        CgroupNumaStat b, a;
        ReclaimDiff d;

        numa(&b, "anon N0=4096\nfile N0=0\n");
        numa(&a, "anon N0=0 N2=4096\nfile N0=0 N2=0\n");
        reclaim_numa_diff(&b, &a, &d);
        ck_assert_uint_eq(d.nodes, 5);
        ck_assert_int_eq(d.delta[2], 4096);
        ck_assert_uint_eq(d.moved_bytes, 4096);
}
END_TEST

/* ---- DAMOS quota, iomem -------------------------------------------------- */

START_TEST(test_quota_plain) {
        uint64_t sz, ms;

        ck_assert_int_eq(damos_quota_for_rate(8 << 20, 1000, &sz, &ms), 0);
        ck_assert_uint_eq(sz, 8 << 20);
        ck_assert_uint_eq(ms, 1000);
        ck_assert_int_eq(damos_quota_for_rate(8 << 20, 250, &sz, &ms), 0);
        ck_assert_uint_eq(sz, 2 << 20);
        ck_assert_uint_eq(ms, 250);
        ck_assert_int_eq(damos_quota_for_rate(8 << 20, 0, &sz, &ms), 0); /* default window 1 s */
        ck_assert_uint_eq(ms, 1000);
}
END_TEST

START_TEST(test_quota_scale) {
        /* 256 MiB of 2 GiB: the quota is charged by the whole RAM, 8x */
        ck_assert_uint_eq(damos_quota_scale(1 << 20, 256 << 20, UINT64_C(2) << 30, 64), UINT64_C(8) << 20);
        ck_assert_uint_eq(damos_quota_scale(0, 256 << 20, UINT64_C(2) << 30, 64), 0);
        /* an empty tenant counts as one page: capped */
        ck_assert_uint_eq(damos_quota_scale(4096, 0, UINT64_C(2) << 30, 64), 64 * 4096);
        /* a tenant larger than RAM (counted over several tiers): 1x */
        ck_assert_uint_eq(damos_quota_scale(4096, UINT64_C(4) << 30, UINT64_C(2) << 30, 64), 4096);
        /* saturates */
        ck_assert_uint_eq(damos_quota_scale(UINT64_MAX / 2, 4096, UINT64_C(1) << 30, 64), UINT64_MAX);
}
END_TEST

START_TEST(test_scale_next) {
        /* the first period: scale 1, a quarter moved: twice */
        ck_assert_uint_eq(damos_scale_next(0, 16 << 20, 4 << 20, true, 64), 2);
        /* half or more, up to all of it: kept */
        ck_assert_uint_eq(damos_scale_next(4, 16 << 20, 8 << 20, true, 64), 4);
        ck_assert_uint_eq(damos_scale_next(4, 16 << 20, 16 << 20, true, 64), 4);
        /* an odd number of bytes: half of 5 pages is 3 of them */
        ck_assert_uint_eq(damos_scale_next(4, 5 * 4096, 2 * 4096, true, 64), 8);
        ck_assert_uint_eq(damos_scale_next(4, 5 * 4096, 3 * 4096, true, 64), 4);
        /* three times the plan moved at scale 8: 8 / 3 */
        ck_assert_uint_eq(damos_scale_next(8, 16 << 20, 48 << 20, true, 64), 2);
        /* never below 1 */
        ck_assert_uint_eq(damos_scale_next(1, 16 << 20, 64 << 20, true, 64), 1);
        /* at most the cap, also from just below it */
        ck_assert_uint_eq(damos_scale_next(64, 16 << 20, 0, true, 64), 64);
        ck_assert_uint_eq(damos_scale_next(40, 16 << 20, 0, true, 64), 64);
        /* nothing moved before the regions are old enough: no lesson */
        ck_assert_uint_eq(damos_scale_next(2, 16 << 20, 0, false, 64), 2);
        ck_assert_uint_eq(damos_scale_next(2, 16 << 20, 1 << 20, false, 64), 4);
        /* nothing planned: kept */
        ck_assert_uint_eq(damos_scale_next(8, 0, 1 << 20, true, 64), 8);
        /* no overflow in scale * planned */
        ck_assert_uint_eq(damos_scale_next(64, UINT64_MAX / 2, UINT64_MAX, true, 64), 31);
}
END_TEST

START_TEST(test_quota_below_a_page_widens_window) {
        uint64_t sz, ms;

        /* 1000 B/s: one page per 4.096 s, rounded up to 4096 ms */
        ck_assert_int_eq(damos_quota_for_rate(1000, 1000, &sz, &ms), 0);
        ck_assert_uint_eq(sz, 4096);
        ck_assert_uint_eq(ms, 4096);
        /* 3000 B/s: ceil(4096000 / 3000) = 1366 ms */
        ck_assert_int_eq(damos_quota_for_rate(3000, 1000, &sz, &ms), 0);
        ck_assert_uint_eq(ms, 1366);
        ck_assert_uint_ge(sz * 1000 / ms, 2990);
        ck_assert_uint_le(sz * 1000 / ms, 3000);
}
END_TEST

START_TEST(test_quota_unlimited_zero_huge) {
        uint64_t sz = 1, ms = 0;

        ck_assert_int_eq(damos_quota_for_rate(DAMOS_RATE_UNLIMITED, 1000, &sz, &ms), 0);
        ck_assert_uint_eq(sz, 0);
        ck_assert_int_eq(damos_quota_for_rate(0, 1000, &sz, &ms), -EINVAL);
        /* no overflow near the top */
        ck_assert_int_eq(damos_quota_for_rate(UINT64_MAX - 1, 60000, &sz, &ms), 0);
        ck_assert_uint_gt(sz, UINT64_MAX / 1000);
}
END_TEST

START_TEST(test_node_ranges) {
        /* node 0's Normal zone spans over node 1's memory: the overlap
         * belongs to neither, so neither scheme skips it */
        const char *text = "Node 0, zone      DMA\n        spanned  4095\n  start_pfn:           1\n"
                           "Node 0, zone   Normal\n        spanned  3000\n  start_pfn:           4096\n"
                           "Node 1, zone   Normal\n        spanned  2000\n  start_pfn:           6000\n"
                           "Node 1, zone   Normal\n        spanned  100\n  start_pfn:           9000\n";
        _cleanup_free_ NodeSpan *spans = NULL;
        MoveSpan out[2];
        size_t n = 0;

        ck_assert_int_eq(zoneinfo_node_spans(text, &spans, &n), 0);
        ck_assert_int_eq(damos_node_ranges(spans, n, 0, out, 2), 1);
        ck_assert_uint_eq(out[0].start, 4096);
        ck_assert_uint_eq(out[0].end, 6000 * 4096);
        ck_assert_int_eq(damos_node_ranges(spans, n, 1, out, 2), 2);
        ck_assert_uint_eq(out[0].start, 7096ULL * 4096);
        ck_assert_uint_eq(out[0].end, 8000ULL * 4096);
        ck_assert_uint_eq(out[1].start, 9000ULL * 4096);
        ck_assert_uint_eq(out[1].end, 9100ULL * 4096);
        ck_assert_int_eq(damos_node_ranges(spans, n, 1, out, 1), -E2BIG);
        ck_assert_int_eq(damos_node_ranges(spans, n, 2, out, 2), 0);
        ck_assert_int_eq(damos_node_ranges(spans, n, -1, out, 2), 0); /* "several nodes" is no node */
}
END_TEST

START_TEST(test_iomem_system_ram) {
        const char *text =
                "00000000-00000fff : Reserved\n"
                "00001000-0009fbff : System RAM\n"
                "000f0000-000fffff : Reserved\n"
                "  000f0000-000fffff : System ROM\n"
                "00100000-3ffdffff : System RAM\n"
                "  01000000-01ffffff : Kernel code\n"
                "  02000000-021fffff : System RAM\n"
                "40000000-7fffffff : System RAM\n"
                "fd000000-fdffffff : PCI Bus 0000:00\n"
                "100000000-13fffffff : System RAM (hotplugged)\n";
        MoveSpan s[8];

        ck_assert_int_eq(damos_parse_iomem(text, s, 8), 3);
        ck_assert_uint_eq(s[0].start, 0x1000);
        ck_assert_uint_eq(s[0].end, 0x9fc00);
        ck_assert_uint_eq(s[1].start, 0x100000);
        ck_assert_uint_eq(s[1].end, 0x3ffe0000);
        ck_assert_uint_eq(s[2].end, 0x80000000);
        ck_assert_int_eq(damos_parse_iomem(text, s, 2), -E2BIG);
        /* a non-root reader sees zeros */
        ck_assert_int_eq(damos_parse_iomem("00000000-00000000 : System RAM\n", s, 8), 0);
        ck_assert_int_eq(damos_parse_iomem("", s, 8), 0);
}
END_TEST

START_TEST(test_split_ranges) {
        MoveSpan ram[] = { { 0x100000, 0x40000000 }, { 0x40000000, 0x80000000 } };
        MoveSpan out[256];
        uint64_t covered = 0;
        int n;

        n = damos_split_ranges(ram, 2, 100, out, 256);
        ck_assert_int_ge(n, 100);
        ck_assert_int_le(n, 102);
        for (int i = 0; i < n; i++) {
                ck_assert_uint_lt(out[i].start, out[i].end);
                ck_assert_uint_eq(out[i].start % P, 0);
                if (i > 0)
                        ck_assert_uint_le(out[i - 1].end, out[i].start);
                covered += out[i].end - out[i].start;
        }
        ck_assert_uint_eq(covered, 0x80000000 - 0x100000);
        ck_assert_uint_eq(out[n - 1].end, 0x80000000);
        /* no tail shorter than half a piece */
        ck_assert_uint_ge(out[n - 1].end - out[n - 1].start, (0x80000000 - 0x100000) / 100 / 2);
        /* one piece, and too many */
        ck_assert_int_eq(damos_split_ranges(ram, 1, 1, out, 256), 1);
        ck_assert_uint_eq(out[0].end, 0x40000000);
        ck_assert_int_eq(damos_split_ranges(ram, 2, 100, out, 10), -E2BIG);
}
END_TEST

/* ---- the identity check before a move ------------------------------------ */

START_TEST(test_move_pages_stops_for_another_process) {
        /* The range's pid (this process's) is listed with a start time the
         * procfs the check reads does not show any more: its number went
         * to another process. The mover asks where the pages are (a status
         * query, which moves nothing) and stops before the call that would
         * move them, as for a process gone: exited, nothing moved, 0. */
        static char buf[4 * P] __attribute__((aligned(4096)));
        char rel[64], line[256], proc[256];
        ProcIdent id = { .start_time = 1 };
        MovePagesResult res;
        MovePagesOptions o = { .no_thp = true };
        ScanRange r = {
                .kind = SCAN_RANGE_VADDR, .pid = getpid(), .start = (uintptr_t) buf,
                .end = (uintptr_t) buf + sizeof(buf),
        };
        int node, rr;

        rr = move_pages_query_self(&node);
        if (rr == -ENOSYS || rr == -EPERM)
                return; /* no NUMA migration here: nothing to check */
        ck_assert_int_eq(rr, 0);
        memset(buf, 1, sizeof(buf));
        unit_tmp_setup();
        snprintf(rel, sizeof(rel), "%d/stat", (int) getpid());
        snprintf(line, sizeof(line), "%d (test-movers) R 1 1 1 0 -1 0 0 0 0 0 0 0 0 0 20 0 1 0 2 0 0\n",
                 (int) getpid());
        unit_write_file(rel, line);
        snprintf(proc, sizeof(proc), "%s", unit_tmproot());
        o.node = node + 1; /* elsewhere: something to move */
        o.procfs_root = proc;
        o.ident = &id;
        rr = mover_move_pages(getpid(), &r, 1, &o, &res);
        unit_tmp_teardown();
        ck_assert_int_eq(rr, 0);
        ck_assert(res.exited);
        ck_assert_uint_eq(res.bytes_moved, 0);
        ck_assert_uint_eq(res.calls, 1);
        ck_assert_uint_eq(res.pages[MOVE_MOVED], 0);
}
END_TEST

static Suite *movers_suite(void) {
        Suite *s = suite_create("movers");
        TCase *tc = tcase_create("units");

        tcase_add_test(tc, test_units_base_pages_batched);
        tcase_add_test(tc, test_units_unaligned_start_rounds_down);
        tcase_add_test(tc, test_units_thp_head_only);
        tcase_add_test(tc, test_units_thp_partly_in_range_moves_whole_once);
        tcase_add_test(tc, test_units_cap_stops_before_thp);
        tcase_add_test(tc, test_units_batch_boundary_in_thp_span);
        tcase_add_test(tc, test_units_spans_lookup_several);
        suite_add_tcase(s, tc);
        tc = tcase_create("accounting");
        tcase_add_test(tc, test_outcome_of_errno);
        tcase_add_test(tc, test_account_query_then_move);
        tcase_add_test(tc, test_account_unset_is_other);
        suite_add_tcase(s, tc);
        tc = tcase_create("numa_diff");
        tcase_add_test(tc, test_diff_pure_demotion);
        tcase_add_test(tc, test_diff_eviction_and_growth);
        tcase_add_test(tc, test_diff_nodes_union);
        suite_add_tcase(s, tc);
        tc = tcase_create("damos");
        tcase_add_test(tc, test_quota_plain);
        tcase_add_test(tc, test_quota_below_a_page_widens_window);
        tcase_add_test(tc, test_quota_unlimited_zero_huge);
        tcase_add_test(tc, test_quota_scale);
        tcase_add_test(tc, test_scale_next);
        tcase_add_test(tc, test_node_ranges);
        tcase_add_test(tc, test_iomem_system_ram);
        tcase_add_test(tc, test_split_ranges);
        suite_add_tcase(s, tc);
        tc = tcase_create("identity");
        tcase_add_test(tc, test_move_pages_stops_for_another_process);
        suite_add_tcase(s, tc);
        return s;
}

int main(void) {
        return unit_run(movers_suite());
}
