/* SPDX-License-Identifier: MIT */
/* The pure parts of the idle page tracking backend: maps lines, pagemap
 * entries, idle bitmap word batching, the age update and the PFN -> node
 * map from /proc/zoneinfo (captured from the testbed's idle kernel), the
 * pagemap pieces, PAGEMAP_SCAN on this process's own sparse mapping (the
 * host kernel's; skipped before Linux 6.7), the per-tenant cursors and
 * what is left of a pass.
 *
 * And the backend itself over a fake machine (a temporary procfs and
 * sysfs of regular files: maps, pagemap, kpageflags, the idle bitmap),
 * where the logic, not the kernel, is under test: which pages each scan
 * visits for which tenant. A regular file as the idle bitmap reads back
 * what was written, so every page looks idle. With a CPU budget of 1 per
 * mille and a period of 1 ms every pacing check stops the scan, and a
 * check follows each batch: a scan visits one pagemap piece (16 MiB of
 * the fake mappings) and stops. */
#include <check.h>

#include "unit.h"
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include "heat.h"
#include "idle_page.h"
#include "pagemap.h"
#include "scanner.h"
#include "topology.h"
#include "zoneinfo.h"
#include "util.h"

START_TEST(test_maps_parse_line_sampled) {
        uint64_t s = 0, e = 0;

        ck_assert_int_eq(idle_maps_parse_line("7f5486ce3000-7f5486cf3000 rw-p 00000000 00:00 0 ", &s, &e), 1);
        ck_assert_uint_eq(s, 0x7f5486ce3000);
        ck_assert_uint_eq(e, 0x7f5486cf3000);
        ck_assert_int_eq(idle_maps_parse_line("00400000-00401000 r--p 00000000 00:02 153"
                                              "                                /usr/bin/busybox", &s, &e), 1);
        ck_assert_uint_eq(s, 0x400000);
        ck_assert_int_eq(idle_maps_parse_line("1cfd9000-1cffb000 rw-p 00000000 00:00 0     [heap]", &s, &e), 1);
        ck_assert_int_eq(idle_maps_parse_line("7fffdf43e000-7fffdf45f000 rw-p 00000000 00:00 0   [stack]", &s, &e), 1);
        ck_assert_int_eq(idle_maps_parse_line("7f0000000000-7f0000100000 rw-p 00000000 00:00 0   [anon:jemalloc]", &s, &e), 1);
        /* shared anonymous memory and POSIX shm are memory, not devices */
        ck_assert_int_eq(idle_maps_parse_line("7f0000000000-7f0000100000 rw-s 00000000 00:01 1031 /dev/zero (deleted)", &s, &e), 1);
        ck_assert_int_eq(idle_maps_parse_line("7f0000000000-7f0000100000 rw-s 00000000 00:19 4    /dev/shm/x", &s, &e), 1);
        /* a path with spaces */
        ck_assert_int_eq(idle_maps_parse_line("7f0000000000-7f0000001000 r--p 00000000 08:01 99   /tmp/a b c", &s, &e), 1);
}
END_TEST

START_TEST(test_maps_parse_line_skips_special) {
        uint64_t s = 7, e = 7;

        ck_assert_int_eq(idle_maps_parse_line("7f5486cf3000-7f5486cf7000 r--p 00000000 00:00 0     [vvar]", &s, &e), 0);
        ck_assert_int_eq(idle_maps_parse_line("7f5486cf7000-7f5486cf9000 r-xp 00000000 00:00 0     [vdso]", &s, &e), 0);
        ck_assert_int_eq(idle_maps_parse_line("ffffffffff600000-ffffffffff601000 --xp 00000000 00:00 0  [vsyscall]", &s, &e), 0);
        ck_assert_int_eq(idle_maps_parse_line("7f5486cf3000-7f5486cf7000 r--p 00000000 00:00 0     [vvar_vclock]", &s, &e), 0);
        ck_assert_int_eq(idle_maps_parse_line("7f5486cf3000-7f5486cf7000 r-xp 00000000 00:00 0     [uprobes]", &s, &e), 0);
        /* not readable: guard pages */
        ck_assert_int_eq(idle_maps_parse_line("7f0000000000-7f0000001000 ---p 00000000 00:00 0 ", &s, &e), 0);
        /* device memory */
        ck_assert_int_eq(idle_maps_parse_line("7f0000000000-7f0000100000 rw-s 00000000 00:05 321  /dev/dri/card0", &s, &e), 0);
        ck_assert_int_eq(idle_maps_parse_line("7f0000000000-7f0000100000 rw-s 100000000 00:05 9 /dev/mem", &s, &e), 0);
        /* hugetlb */
        ck_assert_int_eq(idle_maps_parse_line("7f0000000000-7f0000200000 rw-p 00000000 00:10 77  /anon_hugepage (deleted)", &s, &e), 0);
        ck_assert_uint_eq(s, 7); /* untouched when skipped */
        ck_assert_uint_eq(e, 7);
}
END_TEST

START_TEST(test_maps_parse_line_rejects_odd) {
        uint64_t s = 7, e = 7;

        ck_assert_int_eq(idle_maps_parse_line("", &s, &e), -EINVAL);
        ck_assert_int_eq(idle_maps_parse_line("garbage", &s, &e), -EINVAL);
        ck_assert_int_eq(idle_maps_parse_line("00400000 r--p 00000000 00:02 153 /bin/x", &s, &e), -EINVAL);
        ck_assert_int_eq(idle_maps_parse_line("00401000-00400000 r--p 00000000 00:02 153 /bin/x", &s, &e), -EINVAL);
        ck_assert_int_eq(idle_maps_parse_line("00400000-00400000 r--p 00000000 00:02 153 /bin/x", &s, &e), -EINVAL);
        ck_assert_int_eq(idle_maps_parse_line("00400001-00401000 r--p 00000000 00:02 153 /bin/x", &s, &e), -EINVAL);
        ck_assert_int_eq(idle_maps_parse_line("00400000-00401000 rw 00000000 00:02 153 /bin/x", &s, &e), -EINVAL);
        ck_assert_int_eq(idle_maps_parse_line("00400000-00401000 r--p 00000000 0002 153 /bin/x", &s, &e), -EINVAL);
        ck_assert_int_eq(idle_maps_parse_line("00400000-00401000 r--p 00000000 00:02", &s, &e), -EINVAL);
        ck_assert_int_eq(idle_maps_parse_line("zz400000-00401000 r--p 00000000 00:02 153 /bin/x", &s, &e), -EINVAL);
        ck_assert_uint_eq(s, 7);
}
END_TEST

START_TEST(test_pagemap_pfn_decoding) {
        uint64_t pfn = 0;

        ck_assert(pagemap_pfn(PAGEMAP_PRESENT | 0x12345, &pfn));
        ck_assert_uint_eq(pfn, 0x12345);
        /* soft-dirty (55), exclusive (56), file (61) bits are not part of the PFN */
        ck_assert(pagemap_pfn(PAGEMAP_PRESENT | (UINT64_C(1) << 55) | (UINT64_C(1) << 56) |
                                   (UINT64_C(1) << 61) | 0x7ffff, &pfn));
        ck_assert_uint_eq(pfn, 0x7ffff);
        ck_assert(pagemap_pfn(PAGEMAP_PRESENT | PAGEMAP_PFN_MASK, &pfn));
        ck_assert_uint_eq(pfn, PAGEMAP_PFN_MASK);
        pfn = 99;
        ck_assert(!pagemap_pfn(0, &pfn));                          /* not present */
        ck_assert(!pagemap_pfn(0x12345, &pfn));                    /* PFN bits without present */
        ck_assert(!pagemap_pfn(PAGEMAP_SWAPPED | 0x1234, &pfn));   /* swap entry: type/offset, not a PFN */
        ck_assert(!pagemap_pfn(PAGEMAP_PRESENT, &pfn));            /* PFN hidden (no CAP_SYS_ADMIN) */
        ck_assert_uint_eq(pfn, 99);
}
END_TEST

START_TEST(test_bitmap_words_group_sorted_pfns) {
        const uint64_t pfns[] = { 0, 1, 63, 64, 64, 200, 1000, 1001, 1087 };
        uint64_t words[ELEMENTSOF(pfns)], masks[ELEMENTSOF(pfns)];
        uint32_t slot[ELEMENTSOF(pfns)];
        size_t n = idle_bitmap_words(pfns, ELEMENTSOF(pfns), words, masks, slot);

        ck_assert_uint_eq(n, 5);
        ck_assert_uint_eq(words[0], 0);
        ck_assert_uint_eq(masks[0], (UINT64_C(1) << 0) | (UINT64_C(1) << 1) | (UINT64_C(1) << 63));
        ck_assert_uint_eq(words[1], 1);
        ck_assert_uint_eq(masks[1], 1); /* pfn 64, twice */
        ck_assert_uint_eq(words[2], 3);
        ck_assert_uint_eq(masks[2], UINT64_C(1) << (200 - 192));
        ck_assert_uint_eq(words[3], 15);
        ck_assert_uint_eq(masks[3], (UINT64_C(1) << (1000 - 960)) | (UINT64_C(1) << (1001 - 960)));
        ck_assert_uint_eq(words[4], 16);
        ck_assert_uint_eq(masks[4], UINT64_C(1) << (1087 - 1024));
        ck_assert_uint_eq(slot[0], 0);
        ck_assert_uint_eq(slot[2], 0);
        ck_assert_uint_eq(slot[3], 1);
        ck_assert_uint_eq(slot[4], 1);
        ck_assert_uint_eq(slot[5], 2);
        ck_assert_uint_eq(slot[8], 4);
        ck_assert_uint_eq(idle_bitmap_words(pfns, 0, words, masks, NULL), 0);
}
END_TEST

START_TEST(test_word_runs_consecutive_and_bounded) {
        const uint64_t words[] = { 0, 1, 3, 15, 16, 17, 18, 19, 40 };
        IdleRun runs[ELEMENTSOF(words)];
        size_t n = idle_word_runs(words, ELEMENTSOF(words), 0, runs);

        /* one pread/pwrite per run: [0,1] [3] [15..19] [40] */
        ck_assert_uint_eq(n, 4);
        ck_assert_uint_eq(runs[0].first, 0);
        ck_assert_uint_eq(runs[0].n, 2);
        ck_assert_uint_eq(runs[1].first, 2);
        ck_assert_uint_eq(runs[1].n, 1);
        ck_assert_uint_eq(runs[2].first, 3);
        ck_assert_uint_eq(runs[2].n, 5);
        ck_assert_uint_eq(runs[3].first, 8);
        ck_assert_uint_eq(runs[3].n, 1);
        /* at most 2 words a run */
        n = idle_word_runs(words, ELEMENTSOF(words), 2, runs);
        ck_assert_uint_eq(n, 6);
        ck_assert_uint_eq(runs[2].first, 3);
        ck_assert_uint_eq(runs[2].n, 2);
        ck_assert_uint_eq(runs[3].first, 5);
        ck_assert_uint_eq(runs[3].n, 2);
        ck_assert_uint_eq(runs[4].first, 7);
        ck_assert_uint_eq(runs[4].n, 1);
        ck_assert_uint_eq(idle_word_runs(words, 0, 0, runs), 0);
}
END_TEST

START_TEST(test_bitmap_batching_byte_offsets) {
        /* what the backend does with them: runs are 8-byte aligned, whole words */
        const uint64_t pfns[] = { 130, 131, 190, 191, 192, 4096 };
        uint64_t words[6], masks[6];
        IdleRun runs[6];
        size_t nw = idle_bitmap_words(pfns, 6, words, masks, NULL), nr = idle_word_runs(words, nw, 0, runs);

        ck_assert_uint_eq(nw, 3);
        ck_assert_uint_eq(nr, 2);
        ck_assert_uint_eq(words[runs[0].first] * 8, 16); /* words 2 and 3 at byte 16, 16 bytes */
        ck_assert_uint_eq(runs[0].n * 8, 16);
        ck_assert_uint_eq(words[runs[1].first] * 8, 512);
        ck_assert_uint_eq(masks[0], (UINT64_C(3) << 2) | (UINT64_C(3) << 62));
        ck_assert_uint_eq(masks[1], 1);
}
END_TEST

START_TEST(test_age_update) {
        ck_assert_uint_eq(idle_age_update(0, false, 1), 0);
        ck_assert_uint_eq(idle_age_update(7, false, 1), 0);      /* accessed: young again */
        ck_assert_uint_eq(idle_age_update(0, true, 1), 1);
        ck_assert_uint_eq(idle_age_update(3, true, 1), 4);
        ck_assert_uint_eq(idle_age_update(3, true, 0), 4);       /* a gap is at least one period */
        ck_assert_uint_eq(idle_age_update(3, true, 4), 7);       /* visited 4 periods later */
        ck_assert_uint_eq(idle_age_update(HEAT_MAX_AGE - 1, true, 1), HEAT_MAX_AGE);
        ck_assert_uint_eq(idle_age_update(HEAT_MAX_AGE, true, 1), HEAT_MAX_AGE); /* saturates */
        ck_assert_uint_eq(idle_age_update(10, true, 200), HEAT_MAX_AGE);
        ck_assert_uint_eq(idle_age_update(IDLE_AGE_ABSENT, true, 1), 1);
}
END_TEST

START_TEST(test_zoneinfo_testbed) {
        _cleanup_free_ char *text = NULL;
        _cleanup_free_ NodeSpan *spans = NULL;
        size_t n = 0;

        ck_assert_int_eq(read_full_file(FIXTURES, "idle_page/zoneinfo-idle", &text, NULL), 0);
        ck_assert_int_eq(zoneinfo_node_spans(text, &spans, &n), 0);
        /* node 0: DMA32 1..262144; node 1: DMA32 262144..524256; empty zones ignored */
        ck_assert_uint_eq(n, 2);
        ck_assert_uint_eq(spans[0].start, 1);
        ck_assert_uint_eq(spans[0].end, 262144);
        ck_assert_int_eq(spans[0].node, 0);
        ck_assert_uint_eq(spans[1].start, 262144);
        ck_assert_uint_eq(spans[1].end, 262144 + 262112);
        ck_assert_int_eq(spans[1].node, 1);
        ck_assert_int_eq(node_span_find(spans, n, 0), -1);
        ck_assert_int_eq(node_span_find(spans, n, 1), 0);
        ck_assert_int_eq(node_span_find(spans, n, 262143), 0);
        ck_assert_int_eq(node_span_find(spans, n, 262144), 1);
        ck_assert_int_eq(node_span_find(spans, n, 524255), 1);
        ck_assert_int_eq(node_span_find(spans, n, 524256), -1);
}
END_TEST

START_TEST(test_zoneinfo_overlap_and_merge) {
        /* node 0's Normal zone spans over node 1's memory (interleaved
         * memory): the overlap is unknown, not guessed */
        const char *text = "Node 0, zone      DMA\n  pages free 1\n        spanned  4095\n  start_pfn:           1\n"
                           "Node 0, zone   Normal\n        spanned  3000\n  start_pfn:           4096\n"
                           "Node 1, zone   Normal\n        spanned  2000\n  start_pfn:           6000\n"
                           "Node 1, zone  Movable\n        spanned  0\n"
                           "Node 2, zone   Normal\n        spanned  100\n  start_pfn:           10000\n";
        _cleanup_free_ NodeSpan *spans = NULL;
        size_t n = 0;

        ck_assert_int_eq(zoneinfo_node_spans(text, &spans, &n), 0);
        ck_assert_uint_eq(n, 4);
        /* DMA and Normal of node 0 merge: 1..6000 */
        ck_assert_uint_eq(spans[0].start, 1);
        ck_assert_uint_eq(spans[0].end, 6000);
        ck_assert_int_eq(spans[0].node, 0);
        ck_assert_uint_eq(spans[1].start, 6000);
        ck_assert_uint_eq(spans[1].end, 7096);
        ck_assert_int_eq(spans[1].node, -1);
        ck_assert_uint_eq(spans[2].start, 7096);
        ck_assert_uint_eq(spans[2].end, 8000);
        ck_assert_int_eq(spans[2].node, 1);
        ck_assert_int_eq(spans[3].node, 2);
        ck_assert_int_eq(node_span_find(spans, n, 5999), 0);
        ck_assert_int_eq(node_span_find(spans, n, 6500), -1);
        ck_assert_int_eq(node_span_find(spans, n, 7500), 1);
        ck_assert_int_eq(node_span_find(spans, n, 9000), -1); /* hole */
        ck_assert_int_eq(node_span_find(spans, n, 10099), 2);
        ck_assert_int_eq(zoneinfo_node_spans("nothing here\n", &spans, &n), -ENODATA);
}
END_TEST

START_TEST(test_piece_end_bounded_and_thp_aligned) {
        const uint64_t huge = 2u << 20, piece = (uint64_t) IDLE_PIECE_PAGES * IDLE_PAGE_SIZE;
        /* ranges starting on and off 2 MiB boundaries, short and long */
        const uint64_t ranges[][2] = {
                { 0x7f0000000000, 0x7f0000000000 + 64 * huge },
                { 0x7f0000001000, 0x7f0000001000 + 40 * huge + 0x5000 },
                { 0x7f00001ff000, 0x7f0000201000 },
                { 0x7f0000000000, 0x7f0000001000 },
                { 0x10000000000, 0x10000000000 + (UINT64_C(1) << 40) },
        };

        for (size_t k = 0; k < sizeof(ranges) / sizeof(ranges[0]); k++) {
                uint64_t va = ranges[k][0], end = ranges[k][1], n = 0;

                while (va < end && n++ < 1000) {
                        uint64_t e = idle_piece_end(va, end);

                        ck_assert_uint_gt(e, va);
                        ck_assert_uint_le(e, end);
                        ck_assert_uint_le(e - va, piece);
                        /* a piece ends on a 2 MiB boundary or at the range's end:
                         * no aligned 2 MiB block is split between two pieces */
                        ck_assert(e == end || e % huge == 0);
                        /* and is not needlessly short */
                        ck_assert(e == end || e - va > piece - huge);
                        va = e;
                }
        }
        ck_assert_uint_eq(idle_piece_end(0x7f0000000000, 0x7f0000000000 + 3 * huge), 0x7f0000000000 + 3 * huge);
        ck_assert_uint_eq(idle_piece_end(0x7f0000001000, UINT64_C(0x7f0000000000) + 64 * huge),
                          0x7f0000000000 + 8 * huge);
}
END_TEST

/* All the present ranges of [start, end), joined where a full buffer cut one. */
static size_t present_all(int fd, uint64_t start, uint64_t end, size_t max, PagemapRegion *out, size_t out_max,
                          int *ret_calls) {
        PagemapRegion vec[8];
        uint64_t at = start, next = 0;
        size_t n = 0;
        int calls = 0;

        ck_assert_uint_le(max, 8);
        while (at < end) {
                int r = pagemap_present(fd, at, end, vec, max, &next);

                ck_assert_int_ge(r, 0);
                ck_assert_uint_gt(next, at);
                calls++;
                for (int i = 0; i < r; i++) {
                        ck_assert_uint_ge(vec[i].start, at);
                        ck_assert_uint_le(vec[i].end, next);
                        ck_assert_uint_lt(vec[i].start, vec[i].end);
                        if (n > 0 && out[n - 1].end == vec[i].start)
                                out[n - 1].end = vec[i].end;
                        else {
                                ck_assert_uint_lt(n, out_max);
                                out[n++] = vec[i];
                        }
                }
                at = next;
        }
        *ret_calls = calls;
        return n;
}

/* Whether the page at PAGE is the shared zero page. A read fault on
 * private anonymous memory maps it on most kernels; some configurations
 * (seen: a 6.18 host kernel) give the reader a page of its own, which
 * pagemap_present() must then report like any other. */
static bool is_zero_page(int fd, uint64_t page) {
        PagemapRegion reg;
        PagemapScanArg a = {
                .size = sizeof(a),
                .start = page,
                .end = page + IDLE_PAGE_SIZE,
                .vec = (uint64_t) (uintptr_t) &reg,
                .vec_len = 1,
                .category_anyof_mask = PAGEMAP_IS_PFNZERO,
                .return_mask = PAGEMAP_IS_PFNZERO,
        };
        int n = ioctl(fd, _IOWR('f', 16, PagemapScanArg), &a);

        ck_assert_int_ge(n, 0);
        return n == 1;
}

START_TEST(test_pagemap_present_sparse_self) {
        const uint64_t pg = IDLE_PAGE_SIZE;
        uint64_t size = UINT64_C(1) << 40, base, next = 0;
        PagemapRegion got[16], one, want[5];
        struct timespec t0, t1;
        volatile char *m;
        int fd, r, calls = 0;
        size_t n, nw = 0;
        double ms;

        fd = open("/proc/self/pagemap", O_RDONLY | O_CLOEXEC);
        ck_assert_int_ge(fd, 0);
        m = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
        if (m == MAP_FAILED) {
                size = UINT64_C(1) << 36;
                m = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
        }
        ck_assert(m != MAP_FAILED);
        base = (uint64_t) (uintptr_t) m;
        ck_assert_int_eq(madvise((void *) m, size, MADV_NOHUGEPAGE), 0);
        r = pagemap_present(fd, base, base + size, &one, 1, &next);
        if (r == -ENOTTY || r == -EINVAL) {
                fprintf(stderr, "# skipped: no PAGEMAP_SCAN on this kernel (%s)\n", strerror(-r));
                munmap((void *) m, size);
                close(fd);
                return;
        }
        /* nothing present yet */
        ck_assert_int_eq(r, 0);
        ck_assert_uint_eq(next, base + size);

        m[0] = m[pg] = m[2 * pg] = 1;           /* pages 0-2 */
        m[100 * pg + 5] = 1;                    /* page 100 */
        (void) m[200 * pg];                     /* page 200: read, so the zero page (mostly): not reported */
        m[(1u << 20) * pg] = 1;                 /* 4 GiB in */
        m[size - 1] = 1;                        /* the last page */
        want[nw++] = (PagemapRegion) { base, base + 3 * pg, 0 };
        want[nw++] = (PagemapRegion) { base + 100 * pg, base + 101 * pg, 0 };
        if (!is_zero_page(fd, base + 200 * pg)) {
                fprintf(stderr, "# this kernel gave the read fault a page of its own, not the zero page\n");
                want[nw++] = (PagemapRegion) { base + 200 * pg, base + 201 * pg, 0 };
        }
        want[nw++] = (PagemapRegion) { base + (UINT64_C(1) << 20) * pg, base + ((UINT64_C(1) << 20) + 1) * pg, 0 };
        want[nw++] = (PagemapRegion) { base + size - pg, base + size, 0 };

        clock_gettime(CLOCK_MONOTONIC, &t0);
        n = present_all(fd, base, base + size, 8, got, 16, &calls);
        clock_gettime(CLOCK_MONOTONIC, &t1);
        ms = (double) (t1.tv_sec - t0.tv_sec) * 1e3 + (double) (t1.tv_nsec - t0.tv_nsec) / 1e6;
        ck_assert_uint_eq(n, nw);
        ck_assert_int_eq(calls, 1);
        for (size_t i = 0; i < nw; i++) {
                ck_assert_uint_eq(got[i].start, want[i].start);
                ck_assert_uint_eq(got[i].end, want[i].end);
        }
        /* the page tables are walked, not 2^28 pagemap entries */
        ck_assert_msg(ms < 1000, "PAGEMAP_SCAN over %llu GiB took %.1f ms", (unsigned long long) (size >> 30), ms);

        /* a buffer of one range: several calls, same ranges */
        n = present_all(fd, base, base + size, 1, got, 16, &calls);
        ck_assert_uint_eq(n, nw);
        ck_assert_int_ge(calls, (int) nw);
        for (size_t i = 0; i < nw; i++) {
                ck_assert_uint_eq(got[i].start, want[i].start);
                ck_assert_uint_eq(got[i].end, want[i].end);
        }

        /* from the middle of a range */
        n = present_all(fd, base + pg, base + 101 * pg, 8, got, 16, &calls);
        ck_assert_uint_eq(n, 2);
        ck_assert_uint_eq(got[0].start, base + pg);
        ck_assert_uint_eq(got[0].end, base + 3 * pg);
        ck_assert_uint_eq(got[1].start, base + 100 * pg);

        ck_assert_int_eq(pagemap_present(fd, base, base, &one, 1, &next), -EINVAL);
        munmap((void *) m, size);
        close(fd);
}
END_TEST


/* ---- per-tenant cursors and passes -------------------------------------- */

START_TEST(test_cursors_get_find_expire) {
        IdleCursors t = { 0 };
        IdleCursor *c;

        for (uint64_t id = 50; id > 0; id -= 5) {
                ck_assert_int_eq(idle_cursors_get(&t, id, &c), 0);
                ck_assert_uint_eq(c->cgroup_id, id);
                ck_assert_uint_eq(c->pass_gen, 0);
                c->given_gen = (uint32_t) id; /* "given" in scan ID */
        }
        ck_assert_uint_eq(t.n, 10);
        for (size_t i = 1; i < t.n; i++)
                ck_assert_uint_lt(t.c[i - 1].cgroup_id, t.c[i].cgroup_id);
        /* get finds, does not reset */
        ck_assert_int_eq(idle_cursors_get(&t, 25, &c), 0);
        ck_assert_uint_eq(c->given_gen, 25);
        ck_assert_uint_eq(t.n, 10);
        ck_assert_ptr_null(idle_cursors_find(&t, 26));
        ck_assert_ptr_nonnull(idle_cursors_find(&t, 50));
        /* scan 60, keep 20: given at 40 or later stays (60 - 40 = 20) */
        ck_assert_uint_eq(idle_cursors_expire(&t, 60, 20), 7);
        ck_assert_uint_eq(t.n, 3);
        ck_assert_uint_eq(t.c[0].cgroup_id, 40);
        ck_assert_uint_eq(t.c[2].cgroup_id, 50);
        /* across the wrap of the scan counter */
        t.c[0].given_gen = UINT32_MAX - 1;
        ck_assert_uint_eq(idle_cursors_expire(&t, 2, 20), 2);
        ck_assert_uint_eq(t.n, 1);
        ck_assert_uint_eq(t.c[0].cgroup_id, 40);
        ck_assert_uint_eq(idle_cursors_expire(&t, 100, 20), 1);
        ck_assert_uint_eq(t.n, 0);
        ck_assert_ptr_null(idle_cursors_find(&t, 40));
        idle_cursors_done(&t);
        idle_cursors_done(&t);
}
END_TEST

START_TEST(test_pass_todo) {
        /* scan 10; the pass began in scan 7 and stopped in pid 40 at 0x5000 */
        IdleCursor c = { .cgroup_id = 1, .pass_gen = 7, .pid = 40, .addr = 0x5000 };
        const pid_t pids[] = { 50, 40, 30, 20, 10, 60, 30, 0, -1, 70 };
        /* 50: seen in 8 (done), 40: 9 (the one it stopped in), 30: 5 (before the pass), 20: never,
         * 10: 10 (this scan: another target), 60: 7 (done), 30 again, 70: 6 */
        const uint32_t seen[] = { 8, 9, 5, 0, 10, 7, 5, 0, 0, 6 };
        IdleVisit v[10];
        size_t n;

        n = idle_pass_todo(pids, seen, 10, 10, &c, v);
        ck_assert_uint_eq(n, 4);
        ck_assert_int_eq(v[0].pid, 40);
        ck_assert_uint_eq(v[0].from, 0x5000);
        ck_assert_int_eq(v[1].pid, 20); /* a process that joined during the pass, below the cursor */
        ck_assert_uint_eq(v[1].from, 0);
        ck_assert_int_eq(v[2].pid, 30);
        ck_assert_int_eq(v[3].pid, 70);

        /* the cursor's process seen before the pass began: from its start */
        c.pass_gen = 10;
        n = idle_pass_todo(pids, seen, 10, 11, &c, v);
        ck_assert_uint_eq(n, 6); /* 10 was seen in 10, in the pass */
        ck_assert_int_eq(v[0].pid, 40);
        ck_assert_uint_eq(v[0].from, 0);
        ck_assert_int_eq(v[1].pid, 20);
        ck_assert_int_eq(v[2].pid, 30);
        ck_assert_int_eq(v[3].pid, 50);
        ck_assert_int_eq(v[5].pid, 70);

        /* a pass beginning now: everything not visited in this scan */
        c = (IdleCursor) { .cgroup_id = 1, .pass_gen = 10 };
        n = idle_pass_todo(pids, seen, 10, 10, &c, v);
        ck_assert_uint_eq(n, 6);
        ck_assert_int_eq(v[0].pid, 20);
        ck_assert_int_eq(v[1].pid, 30);
        ck_assert_int_eq(v[2].pid, 40);
        ck_assert_int_eq(v[3].pid, 50);
        ck_assert_int_eq(v[4].pid, 60);
        ck_assert_int_eq(v[5].pid, 70);
        ck_assert_uint_eq(idle_pass_todo(pids, seen, 0, 10, &c, v), 0);
}
END_TEST

/* ---- the backend over a fake machine ------------------------------------ */

#define FAKE_PIECE ((uint64_t) IDLE_PIECE_PAGES * IDLE_PAGE_SIZE)
#define FAKE_PFNS 0x20000u

static void fake_pwrite(const char *rel, const void *buf, size_t len, uint64_t off) {
        char path[1024];
        int fd;

        snprintf(path, sizeof(path), "%s/%s", unit_tmproot(), rel);
        if (access(path, F_OK) < 0)
                unit_write_file(rel, ""); /* the directories and the file */
        fd = open(path, O_WRONLY | O_CLOEXEC);
        ck_assert_int_ge(fd, 0);
        ck_assert_int_eq(pwrite(fd, buf, len, (off_t) off), (ssize_t) len);
        close(fd);
}

/* The files the backend opens at its start: the idle bitmap, kpageflags
 * (all PFNs, nothing on the LRU yet), zoneinfo (the testbed's: node 0 is
 * PFNs 1-262143) and this process's own pagemap, which it reads at the
 * address of a variable on its stack: present pages around ours. */
static void fake_machine(void) {
        _cleanup_free_ char *zoneinfo = NULL;
        _cleanup_free_ uint64_t *zero = calloc(FAKE_PFNS, sizeof(uint64_t));
        uint64_t self[1024], here = (uint64_t) (uintptr_t) &zoneinfo / IDLE_PAGE_SIZE;

        ck_assert_ptr_nonnull(zero);
        ck_assert_int_eq(read_full_file(FIXTURES, "idle_page/zoneinfo-idle", &zoneinfo, NULL), 0);
        unit_write_file("proc/zoneinfo", zoneinfo);
        fake_pwrite("sys/kernel/mm/page_idle/bitmap", zero, FAKE_PFNS / 8, 0);
        fake_pwrite("proc/kpageflags", zero, FAKE_PFNS * sizeof(uint64_t), 0);
        for (size_t i = 0; i < 1024; i++)
                self[i] = PAGEMAP_PRESENT | 1;
        fake_pwrite("proc/self/pagemap", self, sizeof(self), (here - 512) * 8);
}

/* Process PID with one mapping of PAGES present pages at START, on the
 * LRU at PFN0 onwards. */
static void fake_proc(pid_t pid, uint64_t start, uint64_t pages, uint64_t pfn0) {
        _cleanup_free_ uint64_t *pm = calloc(pages, sizeof(uint64_t)), *fl = calloc(pages, sizeof(uint64_t));
        char rel[64], maps[128];

        ck_assert_ptr_nonnull(pm);
        ck_assert_ptr_nonnull(fl);
        ck_assert_uint_le(pfn0 + pages, FAKE_PFNS);
        for (uint64_t i = 0; i < pages; i++) {
                pm[i] = PAGEMAP_PRESENT | (pfn0 + i);
                fl[i] = KPAGE_BIT(KPAGE_LRU);
        }
        snprintf(maps, sizeof(maps), "%llx-%llx rw-p 00000000 00:00 0 \n", (unsigned long long) start,
                 (unsigned long long) (start + pages * IDLE_PAGE_SIZE));
        snprintf(rel, sizeof(rel), "proc/%d/maps", (int) pid);
        unit_write_file(rel, maps);
        snprintf(rel, sizeof(rel), "proc/%d/pagemap", (int) pid);
        fake_pwrite(rel, pm, pages * sizeof(uint64_t), start / IDLE_PAGE_SIZE * 8);
        fake_pwrite("proc/kpageflags", fl, pages * sizeof(uint64_t), pfn0 * 8);
}

typedef struct Fake {
        const ScannerOps *ops;
        Scanner *s;
        Topology *topo;
        char *proc, *sys;
} Fake;

static void fake_open_with(Fake *f, uint32_t budget_permille, uint64_t period_ms, unsigned flags) {
        ScanOptions o = {
                .period_ms = period_ms,
                .cpu_budget_permille = budget_permille,
                .max_candidates = 16,
                .flags = HEAT_WANT_RANGES | flags,
        };

        ck_assert_int_eq(topology_load(FIXTURES "/vm-idle/sys", &f->topo), 0);
        ck_assert_int_ge(asprintf(&f->proc, "%s/proc", unit_tmproot()), 0);
        ck_assert_int_ge(asprintf(&f->sys, "%s/sys", unit_tmproot()), 0);
        o.procfs_root = f->proc;
        o.sysfs_root = f->sys;
        o.cgroup_mount = unit_tmproot();
        o.topology = f->topo;
        f->ops = scanner_find("idle_page");
        ck_assert_ptr_nonnull(f->ops);
        ck_assert_int_eq(f->ops->open(&o, &f->s), 0);
}

static void fake_open(Fake *f, uint32_t budget_permille, uint64_t period_ms) {
        fake_open_with(f, budget_permille, period_ms, 0);
}

static void fake_close(Fake *f) {
        f->ops->close(f->s);
        topology_free(f->topo);
        free(f->proc);
        free(f->sys);
}

static void fake_scan(Fake *f, const ScanTarget *t, size_t n, TenantHeat *out) {
        for (size_t i = 0; i < n; i++) {
                tenant_heat_clear(&out[i]);
                out[i].cgroup_id = t[i].cgroup_id;
        }
        ck_assert_int_eq(f->ops->scan(f->s, t, n, out), 0);
}

/* The piece (FAKE_PIECE from BASE) H's ranges lie in: -1 none; they must lie
 * in one. */
static int reported_piece(const TenantHeat *h, uint64_t base) {
        uint64_t lo = UINT64_MAX, hi = 0, bytes = 0;

        for (size_t i = 0; i < h->n_ranges; i++) {
                lo = h->ranges[i].start < lo ? h->ranges[i].start : lo;
                hi = h->ranges[i].end > hi ? h->ranges[i].end : hi;
                bytes += h->ranges[i].end - h->ranges[i].start;
        }
        if (h->n_ranges == 0)
                return -1;
        ck_assert_uint_ge(lo, base);
        ck_assert_uint_eq((lo - base) % FAKE_PIECE, 0);
        ck_assert_uint_eq(hi - lo, FAKE_PIECE);
        ck_assert_uint_eq(bytes, FAKE_PIECE);
        return (int) ((lo - base) / FAKE_PIECE);
}

#define A_BASE UINT64_C(0x10000000)
#define B_BASE UINT64_C(0x20000000)

/* Two tenants given in alternating orders, one piece per scan: each goes
 * on from its own cursor (keyed by its cgroup id), so each reports its
 * pieces in turn once it has armed them; an index into the targets would
 * move one tenant's cursor onto the other and restart them both. */
START_TEST(test_scan_fake_order_changes) {
        const pid_t pa[] = { 101 }, pb[] = { 201 };
        const ScanTarget a = { .cgroup_path = "a", .cgroup_id = 1001, .pids = pa, .n_pids = 1 };
        const ScanTarget b = { .cgroup_path = "b", .cgroup_id = 2001, .pids = pb, .n_pids = 1 };
        TenantHeat out[2] = { 0 };
        int last[2] = { -1, -1 }, reports[2] = { 0 };
        Fake f = { 0 };

        fake_machine();
        fake_proc(101, A_BASE, 4 * FAKE_PIECE / IDLE_PAGE_SIZE, 0x1000);
        fake_proc(201, B_BASE, 3 * FAKE_PIECE / IDLE_PAGE_SIZE, 0x10000);
        fake_open(&f, 1, 1);
        for (int k = 0; k < 40; k++) {
                const ScanTarget t[2] = { k % 2 ? b : a, k % 2 ? a : b };

                fake_scan(&f, t, 2, out);
                for (int i = 0; i < 2; i++) {
                        bool is_a = t[i].cgroup_id == a.cgroup_id;
                        int piece = reported_piece(&out[i], is_a ? A_BASE : B_BASE), *l = &last[is_a ? 0 : 1];

                        for (size_t j = 0; j < out[i].n_ranges; j++)
                                ck_assert_int_eq(out[i].ranges[j].pid, is_a ? 101 : 201);
                        if (piece < 0)
                                continue;
                        /* the piece after the last one reported, round and round */
                        if (*l >= 0)
                                ck_assert_msg(piece == (*l + 1) % (is_a ? 4 : 3), "scan %d: %s reports piece %d after %d",
                                              k, is_a ? "a" : "b", piece, *l);
                        *l = piece;
                        reports[is_a ? 0 : 1]++;
                }
        }
        /* a: armed in its first 4-5 turns of 20, then a piece a turn */
        ck_assert_int_ge(reports[0], 12);
        ck_assert_int_ge(reports[1], 12);
        for (int i = 0; i < 2; i++)
                tenant_heat_clear(&out[i]);
        fake_close(&f);
}
END_TEST

static uint64_t fake_pages(const Fake *f) {
        uint64_t bytes, pages;

        f->ops->memory(f->s, &bytes, &pages);
        return pages;
}

/* A tenant left out of some scans keeps its cursor and its processes'
 * state for IDLE_CURSOR_KEEP_SCANS scans, then loses both. */
START_TEST(test_scan_fake_cursor_kept_then_dropped) {
        const pid_t pa[] = { 101 }, pb[] = { 201 };
        const ScanTarget a = { .cgroup_path = "a", .cgroup_id = 1001, .pids = pa, .n_pids = 1 };
        const ScanTarget b = { .cgroup_path = "b", .cgroup_id = 2001, .pids = pb, .n_pids = 1 };
        const ScanTarget ab[2] = { a, b }, ba[2] = { b, a };
        TenantHeat out[2] = { 0 };
        int k, last_b = -1, piece;
        bool seen_a = false;
        Fake f = { 0 };

        fake_machine();
        fake_proc(101, A_BASE, 2 * FAKE_PIECE / IDLE_PAGE_SIZE, 0x1000);
        fake_proc(201, B_BASE, 3 * FAKE_PIECE / IDLE_PAGE_SIZE, 0x10000);
        fake_open(&f, 1, 1);
        /* alternating until both armed all their pages and report */
        for (k = 0; !seen_a || last_b < 0; k++) {
                ck_assert_int_lt(k, 20);
                fake_scan(&f, k % 2 ? ba : ab, 2, out);
                for (int i = 0; i < 2; i++) {
                        bool is_a = (k % 2 ? ba : ab)[i].cgroup_id == a.cgroup_id;

                        piece = reported_piece(&out[i], is_a ? A_BASE : B_BASE);
                        if (is_a)
                                seen_a = seen_a || piece >= 0;
                        else if (piece >= 0)
                                last_b = piece;
                }
        }
        ck_assert_uint_eq(fake_pages(&f), 5 * FAKE_PIECE / IDLE_PAGE_SIZE);
        /* a alone for a while: b's state stays */
        for (k = 0; k < IDLE_CURSOR_KEEP_SCANS; k++) {
                fake_scan(&f, &a, 1, out);
                ck_assert_uint_eq(fake_pages(&f), 5 * FAKE_PIECE / IDLE_PAGE_SIZE);
        }
        /* and b goes on where it was */
        fake_scan(&f, ba, 2, out);
        ck_assert_int_eq(reported_piece(&out[0], B_BASE), (last_b + 1) % 3);
        /* a alone for longer: b's cursor and state go */
        for (k = 0; k <= IDLE_CURSOR_KEEP_SCANS + 1; k++)
                fake_scan(&f, &a, 1, out);
        ck_assert_uint_eq(fake_pages(&f), 2 * FAKE_PIECE / IDLE_PAGE_SIZE);
        /* b comes back: its pages are armed again (nothing to report) from its first piece */
        for (k = 0; k < 3; k++) {
                fake_scan(&f, ba, 2, out);
                ck_assert_uint_eq(out[0].n_ranges, 0);
        }
        ck_assert_uint_eq(fake_pages(&f), 5 * FAKE_PIECE / IDLE_PAGE_SIZE);
        for (int i = 0; i < 2; i++)
                tenant_heat_clear(&out[i]);
        fake_close(&f);
}
END_TEST

START_TEST(test_pass_exact) {
        const uint64_t M = UINT64_C(1) << 20;

        ck_assert(idle_pass_exact(0, 0, false));                /* nothing to visit */
        ck_assert(!idle_pass_exact(0, 0, true));
        ck_assert(!idle_pass_exact(64 * M, 0, false));          /* a first pass */
        ck_assert(!idle_pass_exact(M, 0, false));               /* ... of a small tenant too */
        ck_assert(idle_pass_exact(0, 64 * M, false));
        ck_assert(!idle_pass_exact(0, 64 * M, true));           /* a process could not be read */
        /* 1/32 of what was visited */
        ck_assert(idle_pass_exact(32 * M, 31 * 32 * M, false));
        ck_assert(!idle_pass_exact(32 * M + 4096, 31 * 32 * M, false));
        /* or 2 MiB and a quarter */
        ck_assert(idle_pass_exact(2 * M, 6 * M, false));
        ck_assert(!idle_pass_exact(2 * M + 4096, 6 * M, false));
        ck_assert(!idle_pass_exact(2 * M, 5 * M, false));
        ck_assert(idle_pass_exact(M / 4, 3 * M / 4, false));
        ck_assert(!idle_pass_exact(M / 4 + 4096, 3 * M / 4, false));
}
END_TEST

/* Budget 0: every scan is a whole pass; the first arms, the second is
 * exact and reports every page once. */
START_TEST(test_scan_fake_full_passes) {
        const pid_t pa[] = { 101, 102 };
        const ScanTarget a = { .cgroup_path = "a", .cgroup_id = 1001, .pids = pa, .n_pids = 2 };
        TenantHeat out = { 0 };
        uint64_t bytes = 0;
        Fake f = { 0 };

        fake_machine();
        fake_proc(101, A_BASE, 4096, 0x1000);
        fake_proc(102, B_BASE, 1024, 0x3000);
        fake_open(&f, 0, 0);
        fake_scan(&f, &a, 1, &out);
        ck_assert_uint_eq(out.pass & ~HEAT_PASS_VISITED, HEAT_PASS_BEGIN | HEAT_PASS_END);
        ck_assert_uint_eq(out.n_ranges, 0);
        fake_scan(&f, &a, 1, &out);
        ck_assert_uint_eq(out.pass & ~HEAT_PASS_VISITED, HEAT_PASS_BEGIN | HEAT_PASS_END | HEAT_PASS_EXACT);
        for (size_t i = 0; i < out.n_ranges; i++)
                bytes += out.ranges[i].end - out.ranges[i].start;
        ck_assert_uint_eq(bytes, 5120 * IDLE_PAGE_SIZE);
        ck_assert_uint_eq(out.tracked_bytes, bytes);
        /* a tenant without processes: an exact pass over nothing */
        {
                const ScanTarget e = { .cgroup_path = "e", .cgroup_id = 1002 };

                fake_scan(&f, &e, 1, &out);
                ck_assert_uint_eq(out.pass & ~HEAT_PASS_VISITED, HEAT_PASS_BEGIN | HEAT_PASS_END | HEAT_PASS_EXACT);
        }
        tenant_heat_clear(&out);
        fake_close(&f);
}
END_TEST

/* One tenant's passes over scans: flags well formed, and what an exact
 * pass reported. */
typedef struct PassLog {
        int open, begins, ends, exact_ends, longest;    /* longest: scans of a pass, begin to end */
        int began_at;
        uint64_t pass_bytes;                            /* reported in the pass under way */
        uint64_t exact_bytes;                           /* reported in the last exact pass */
        bool exact_overlap;
        ScanRange *seen;                                /* ranges of the pass under way */
        size_t n_seen;
} PassLog;

static void pass_log(PassLog *l, const TenantHeat *h, int scan) {
        if (h->pass & HEAT_PASS_BEGIN) {
                ck_assert_msg(!l->open, "scan %d: BEGIN while a pass is open", scan);
                l->open = 1;
                l->begins++;
                l->began_at = scan;
                l->pass_bytes = 0;
                l->n_seen = 0;
        } else
                ck_assert_msg(l->open || h->n_ranges == 0 || l->begins == 0,
                              "scan %d: ranges outside a pass", scan);
        for (size_t i = 0; i < h->n_ranges; i++) {
                const ScanRange *r = &h->ranges[i];

                for (size_t j = 0; j < l->n_seen; j++)
                        if (l->seen[j].pid == r->pid && l->seen[j].start < r->end && r->start < l->seen[j].end)
                                l->exact_overlap = true;
                l->seen = realloc(l->seen, (l->n_seen + 1) * sizeof(*l->seen));
                ck_assert_ptr_nonnull(l->seen);
                l->seen[l->n_seen++] = *r;
                l->pass_bytes += r->end - r->start;
        }
        if (h->pass & HEAT_PASS_END) {
                ck_assert_msg(l->open || l->begins == 0, "scan %d: END without BEGIN", scan);
                if (l->begins > 0 && scan - l->began_at + 1 > l->longest)
                        l->longest = scan - l->began_at + 1;
                l->open = 0;
                l->ends++;
                if (h->pass & HEAT_PASS_EXACT) {
                        l->exact_ends++;
                        l->exact_bytes = l->pass_bytes;
                        ck_assert_msg(!l->exact_overlap, "scan %d: a page reported twice in one pass", scan);
                }
                l->exact_overlap = false;
        } else
                ck_assert_msg(!(h->pass & HEAT_PASS_EXACT), "scan %d: EXACT without END", scan);
}

/* Paced: a pass over several scans begins once and ends once; the first
 * arms the pages and is not exact, the second reports each page once
 * and is. */
START_TEST(test_scan_fake_paced_passes) {
        const pid_t pa[] = { 101 };
        const ScanTarget a = { .cgroup_path = "a", .cgroup_id = 1001, .pids = pa, .n_pids = 1 };
        TenantHeat out = { 0 };
        PassLog l = { 0 };
        Fake f = { 0 };
        int k;

        fake_machine();
        fake_proc(101, A_BASE, 4 * FAKE_PIECE / IDLE_PAGE_SIZE, 0x1000);
        fake_open(&f, 1, 1);
        for (k = 0; k < 12; k++) {
                fake_scan(&f, &a, 1, &out);
                /* every scan gives the one tenant a turn, fragments too */
                ck_assert(out.pass & HEAT_PASS_VISITED);
                if (k == 0)
                        ck_assert_uint_eq(out.pass & ~HEAT_PASS_VISITED, HEAT_PASS_BEGIN);
                pass_log(&l, &out, k);
                if (l.ends == 1 && !(out.pass & HEAT_PASS_END))
                        ck_assert_uint_eq(l.exact_ends, 0);
        }
        ck_assert_int_eq(l.begins, l.ends + l.open);
        ck_assert_int_ge(l.ends, 2);
        ck_assert_int_ge(l.longest, 4); /* four pieces, one a scan */
        ck_assert_int_eq(l.exact_ends, l.ends - 1); /* all but the first */
        ck_assert_uint_eq(l.exact_bytes, 4 * FAKE_PIECE);
        free(l.seen);
        tenant_heat_clear(&out);
        fake_close(&f);
}
END_TEST

/* Two tenants in alternating orders: each has its own passes, begun and
 * ended once each, and an exact pass reports each of its pages once. */
START_TEST(test_scan_fake_order_passes) {
        const pid_t pa[] = { 101 }, pb[] = { 201 };
        const ScanTarget a = { .cgroup_path = "a", .cgroup_id = 1001, .pids = pa, .n_pids = 1 };
        const ScanTarget b = { .cgroup_path = "b", .cgroup_id = 2001, .pids = pb, .n_pids = 1 };
        TenantHeat out[2] = { 0 };
        PassLog l[2] = { 0 };
        Fake f = { 0 };

        fake_machine();
        fake_proc(101, A_BASE, 4 * FAKE_PIECE / IDLE_PAGE_SIZE, 0x1000);
        fake_proc(201, B_BASE, 3 * FAKE_PIECE / IDLE_PAGE_SIZE, 0x10000);
        fake_open(&f, 1, 1);
        for (int k = 0; k < 40; k++) {
                const ScanTarget t[2] = { k % 2 ? b : a, k % 2 ? a : b };

                fake_scan(&f, t, 2, out);
                for (int i = 0; i < 2; i++)
                        pass_log(&l[t[i].cgroup_id == a.cgroup_id ? 0 : 1], &out[i], k);
        }
        for (int i = 0; i < 2; i++) {
                ck_assert_int_ge(l[i].ends, 3);
                ck_assert_int_eq(l[i].exact_ends, l[i].ends - 1);
                ck_assert_uint_eq(l[i].exact_bytes, (i == 0 ? 4 : 3) * FAKE_PIECE);
                ck_assert_int_ge(l[i].longest, i == 0 ? 7 : 5); /* a piece every other scan */
                free(l[i].seen);
                tenant_heat_clear(&out[i]);
        }
        fake_close(&f);
}
END_TEST

/* A process that joins the tenant during a pass, with a lower pid than
 * the one the pass is in, is visited in that pass: the next pass has
 * nothing left to arm and is exact. A process whose maps cannot be read
 * (not gone: a directory) makes every pass inexact. */
START_TEST(test_scan_fake_join_and_fail) {
        const pid_t p1[] = { 101 }, p2[] = { 101, 50 }, p3[] = { 101, 50, 77 };
        ScanTarget a = { .cgroup_path = "a", .cgroup_id = 1001, .pids = p1, .n_pids = 1 };
        TenantHeat out = { 0 };
        PassLog l = { 0 };
        char path[1024];
        Fake f = { 0 };
        int k;

        fake_machine();
        fake_proc(101, A_BASE, 4 * FAKE_PIECE / IDLE_PAGE_SIZE, 0x1000);
        fake_proc(50, B_BASE, FAKE_PIECE / IDLE_PAGE_SIZE, 0x10000);
        fake_open(&f, 1, 1);
        for (k = 0; l.ends < 3; k++) {
                ck_assert_int_lt(k, 30);
                if (k == 2) {
                        ck_assert(l.open);
                        a.pids = p2; /* pid 50 joins while the pass is in 101 */
                        a.n_pids = 2;
                }
                fake_scan(&f, &a, 1, &out);
                pass_log(&l, &out, k);
        }
        ck_assert_int_eq(l.exact_ends, 2);
        ck_assert_uint_eq(l.exact_bytes, 5 * FAKE_PIECE);

        unit_write_file("proc/77/pagemap", "");
        snprintf(path, sizeof(path), "%s/proc/77/maps", unit_tmproot());
        ck_assert_int_eq(mkdir(path, 0755), 0); /* read(2) fails with EISDIR */
        a.pids = p3;
        a.n_pids = 3;
        for (int ends = l.ends; l.ends < ends + 2; k++) {
                ck_assert_int_lt(k, 60);
                fake_scan(&f, &a, 1, &out);
                pass_log(&l, &out, k);
        }
        ck_assert_int_eq(l.exact_ends, 2);
        free(l.seen);
        tenant_heat_clear(&out);
        fake_close(&f);
}
END_TEST

static uint64_t dir_ino(const char *rel) {
        char path[1024];
        struct stat st;

        snprintf(path, sizeof(path), "%s/%s", unit_tmproot(), rel);
        ck_assert_int_eq(stat(path, &st), 0);
        return (uint64_t) st.st_ino;
}

/* Physical mode: one pass from PFN 0 to the last for every target given
 * when it began; a target given later has fragments until the next pass;
 * a child cgroup created during a pass, or a scan that leaves a target
 * out, makes its pass inexact. */
START_TEST(test_scan_fake_physical_passes) {
        const ScanTarget a = { .cgroup_path = "cg/a", .cgroup_id = 1001 };
        const ScanTarget b = { .cgroup_path = "cg/b", .cgroup_id = 2001 };
        const ScanTarget both[2] = { a, b };
        _cleanup_free_ uint64_t *cg = calloc(FAKE_PFNS, sizeof(uint64_t));
        TenantHeat out[2] = { 0 };
        PassLog l[2] = { 0 };
        char path[1024];
        Fake f = { 0 };
        int k, first_end = -1;

        ck_assert_ptr_nonnull(cg);
        fake_machine();
        fake_proc(101, A_BASE, 2048, 0x1000);
        fake_proc(201, B_BASE, 2048, 0x10000);
        unit_write_file("cg/a/cgroup.procs", "");
        unit_write_file("cg/b/cgroup.procs", "");
        for (uint64_t i = 0; i < 2048; i++) {
                cg[0x1000 + i] = dir_ino("cg/a");
                cg[0x10000 + i] = dir_ino("cg/b");
        }
        fake_pwrite("proc/kpagecgroup", cg, FAKE_PFNS * sizeof(uint64_t), 0);
        fake_open_with(&f, 1, 1, HEAT_PHYSICAL);
        /* a alone: its first pass begins; b joins in the middle */
        fake_scan(&f, &a, 1, out);
        ck_assert_uint_eq(out[0].pass & ~HEAT_PASS_VISITED, HEAT_PASS_BEGIN);
        pass_log(&l[0], &out[0], 0);
        for (k = 1; first_end < 0; k++) {
                ck_assert_int_lt(k, 40);
                fake_scan(&f, both, 2, out);
                for (int i = 0; i < 2; i++)
                        pass_log(&l[i], &out[i], k);
                ck_assert_uint_eq(out[1].pass, 0); /* b is in no pass yet */
                if (out[0].pass & HEAT_PASS_END)
                        first_end = k;
        }
        ck_assert_int_ge(first_end, 8); /* 16 chunks of 8192 PFNs, one a scan */
        /* the second pass: both begin and end together, exact for a only
         * (b's pages were armed in a fragment, a's in the first pass) */
        for (; l[0].ends < 2; k++) {
                ck_assert_int_lt(k, 80);
                fake_scan(&f, both, 2, out);
                for (int i = 0; i < 2; i++)
                        pass_log(&l[i], &out[i], k);
                ck_assert_uint_eq(out[0].pass & (HEAT_PASS_BEGIN | HEAT_PASS_END),
                                  out[1].pass & (HEAT_PASS_BEGIN | HEAT_PASS_END));
        }
        ck_assert_int_eq(l[0].exact_ends, 1);
        ck_assert_uint_eq(l[0].exact_bytes, 2048 * IDLE_PAGE_SIZE);
        ck_assert_int_eq(l[1].begins, 1);
        ck_assert_int_eq(l[1].ends, 1);
        ck_assert_int_eq(l[1].exact_ends, 1);
        /* the third: a child of a appears in it; b is left out of a scan */
        for (int mid = 0; l[0].ends < 3; k++) {
                ck_assert_int_lt(k, 120);
                if (l[0].open && ++mid == 3) {
                        snprintf(path, sizeof(path), "%s/cg/a/child", unit_tmproot());
                        ck_assert_int_eq(mkdir(path, 0755), 0);
                        fake_scan(&f, &a, 1, out);
                        pass_log(&l[0], &out[0], k);
                        continue;
                }
                fake_scan(&f, both, 2, out);
                for (int i = 0; i < 2; i++)
                        pass_log(&l[i], &out[i], k);
        }
        ck_assert_int_eq(l[0].ends, 3);
        ck_assert_int_eq(l[0].exact_ends, 1);
        ck_assert_int_eq(l[1].ends, 2);
        ck_assert_int_eq(l[1].exact_ends, 1);
        for (int i = 0; i < 2; i++) {
                free(l[i].seen);
                tenant_heat_clear(&out[i]);
        }
        fake_close(&f);
}
END_TEST

/* The unmapped sweep of virtual mode (HEAT_UNMAPPED): tenant a has a
 * process with 2048 mapped pages (KPF_MMAP) and 1024 unmapped LRU pages of
 * its memcg (page cache), b 512 unmapped ones. The first sweep arms them,
 * the second reports each tenant's hot and cold bytes (256 of a's pages
 * accessed in between: their bits cleared), never the mapped pages,
 * which the processes' part reports as ranges. While MGLRU is on the
 * sweep classifies nothing. With a budget that stops every step, the
 * processes and the sweep both get on. */
START_TEST(test_scan_fake_unmapped_sweep) {
        const pid_t pa[] = { 101 };
        const ScanTarget t[2] = {
                { .cgroup_path = "cg/a", .cgroup_id = 1001, .pids = pa, .n_pids = 1 },
                { .cgroup_path = "cg/b", .cgroup_id = 2001 },
        };
        _cleanup_free_ uint64_t *cg = calloc(FAKE_PFNS, sizeof(uint64_t));
        _cleanup_free_ uint64_t *fl = calloc(FAKE_PFNS, sizeof(uint64_t));
        uint64_t zero[4] = { 0 };
        TenantHeat out[2] = { 0 };
        Fake f = { 0 };
        int k, vends = 0, uends = 0;

        ck_assert_ptr_nonnull(cg);
        ck_assert_ptr_nonnull(fl);
        fake_machine();
        fake_proc(101, A_BASE, 2048, 0x1000);
        unit_write_file("cg/a/cgroup.procs", "");
        unit_write_file("cg/b/cgroup.procs", "");
        for (uint64_t i = 0; i < 2048; i++) {
                cg[0x1000 + i] = dir_ino("cg/a");
                fl[0x1000 + i] = KPAGE_BIT(KPAGE_LRU) | KPAGE_BIT(KPAGE_MMAP);
        }
        for (uint64_t i = 0; i < 1024; i++) {
                cg[0x8000 + i] = dir_ino("cg/a");
                fl[0x8000 + i] = KPAGE_BIT(KPAGE_LRU);
        }
        for (uint64_t i = 0; i < 512; i++) {
                cg[0x9000 + i] = dir_ino("cg/b");
                fl[0x9000 + i] = KPAGE_BIT(KPAGE_LRU);
        }
        fake_pwrite("proc/kpageflags", fl, FAKE_PFNS * sizeof(uint64_t), 0);
        fake_pwrite("proc/kpagecgroup", cg, FAKE_PFNS * sizeof(uint64_t), 0);
        unit_write_file("sys/kernel/mm/lru_gen/enabled", "0x0000\n");
        fake_open_with(&f, 0, 10000, HEAT_UNMAPPED);

        fake_scan(&f, t, 2, out);
        ck_assert_uint_eq(out[0].pass & HEAT_PASS_UNMAPPED, 0); /* all armed */
        /* 256 of a's unmapped pages accessed: PFNs 0x8000-0x80ff */
        fake_pwrite("sys/kernel/mm/page_idle/bitmap", zero, sizeof(zero), 0x8000 / 8);
        fake_scan(&f, t, 2, out);
        ck_assert_uint_ne(out[0].pass & HEAT_PASS_UNMAPPED, 0);
        ck_assert_uint_eq(out[0].unmapped_hot[0], 256 * IDLE_PAGE_SIZE);
        ck_assert_uint_eq(out[0].unmapped_cold[0], 768 * IDLE_PAGE_SIZE);
        ck_assert_uint_eq(out[0].unmapped_hot[1] + out[0].unmapped_cold[1], 0);
        ck_assert_uint_ne(out[1].pass & HEAT_PASS_UNMAPPED, 0);
        ck_assert_uint_eq(out[1].unmapped_hot[0], 0);
        ck_assert_uint_eq(out[1].unmapped_cold[0], 512 * IDLE_PAGE_SIZE);
        /* the mapped pages are the processes' part: ranges, as before */
        ck_assert_uint_eq(out[0].tracked_bytes, 2048 * IDLE_PAGE_SIZE);
        for (size_t i = 0; i < out[0].n_ranges; i++)
                ck_assert_int_eq(out[0].ranges[i].kind, SCAN_RANGE_VADDR);

        /* MGLRU on: nothing classified */
        unit_write_file("sys/kernel/mm/lru_gen/enabled", "0x0007\n");
        fake_scan(&f, t, 2, out);
        ck_assert_uint_eq(out[0].pass & HEAT_PASS_UNMAPPED, 0);
        ck_assert_uint_eq(out[0].unmapped_hot[0] + out[0].unmapped_cold[0], 0);
        ck_assert_uint_ne(out[0].pass & HEAT_PASS_END, 0); /* the processes still are */
        fake_close(&f);

        /* one step a scan: both parts get on */
        unit_write_file("sys/kernel/mm/lru_gen/enabled", "0x0000\n");
        fake_open_with(&f, 1, 1, HEAT_UNMAPPED);
        for (k = 0; k < 200 && (vends < 2 || uends < 1); k++) {
                fake_scan(&f, t, 2, out);
                vends += (out[0].pass & HEAT_PASS_END) != 0;
                uends += (out[0].pass & HEAT_PASS_UNMAPPED) != 0;
        }
        ck_assert_int_ge(vends, 2);
        ck_assert_int_ge(uends, 1);
        for (int i = 0; i < 2; i++)
                tenant_heat_clear(&out[i]);
        fake_close(&f);
}
END_TEST

START_TEST(test_unmapped_candidate_flags) {
        const uint64_t lru = KPAGE_BIT(KPAGE_LRU);

        /* page cache or tmpfs no process maps: a folio's head or a page */
        ck_assert(kpage_unmapped_candidate(lru));
        ck_assert(kpage_unmapped_candidate(lru | KPAGE_BIT(KPAGE_COMPOUND_HEAD) | KPAGE_BIT(KPAGE_THP)));
        /* mapped: the processes' part of the scan */
        ck_assert(!kpage_unmapped_candidate(lru | KPAGE_BIT(KPAGE_MMAP)));
        /* not on the LRU, a tail, kinds idle tracking cannot follow */
        ck_assert(!kpage_unmapped_candidate(0));
        ck_assert(!kpage_unmapped_candidate(lru | KPAGE_BIT(KPAGE_COMPOUND_TAIL)));
        ck_assert(!kpage_unmapped_candidate(lru | KPAGE_BIT(KPAGE_SLAB)));
        ck_assert(!kpage_unmapped_candidate(lru | KPAGE_BIT(KPAGE_HUGE)));
        ck_assert(!kpage_unmapped_candidate(lru | KPAGE_BIT(KPAGE_BUDDY)));
        ck_assert(!kpage_unmapped_candidate(lru | KPAGE_BIT(KPAGE_ZERO_PAGE)));
        ck_assert(!kpage_unmapped_candidate(KPAGE_BIT(KPAGE_NOPAGE)));
}
END_TEST

START_TEST(test_lru_gen_enabled_text) {
        bool on = false;

        /* the testbed kernels' text: 0x0007 with CONFIG_LRU_GEN_ENABLED */
        ck_assert_int_eq(kpage_lru_gen_enabled("0x0007\n", &on), 0);
        ck_assert(on);
        ck_assert_int_eq(kpage_lru_gen_enabled("0x0000\n", &on), 0);
        ck_assert(!on);
        ck_assert_int_eq(kpage_lru_gen_enabled("0x0006\n", &on), 0);
        ck_assert(!on);
        ck_assert_int_eq(kpage_lru_gen_enabled("1", &on), 0);
        ck_assert(on);
        ck_assert_int_eq(kpage_lru_gen_enabled("", &on), -EINVAL);
        ck_assert_int_eq(kpage_lru_gen_enabled("y\n", &on), -EINVAL);
        ck_assert_int_eq(kpage_lru_gen_enabled("0x7 junk", &on), -EINVAL);
        ck_assert_int_eq(kpage_lru_gen_enabled("-1", &on), -EINVAL);
}
END_TEST

static Suite *idle_page_suite(void) {
        Suite *s = suite_create("idle_page");
        TCase *tc = tcase_create("core");

        tcase_add_test(tc, test_maps_parse_line_sampled);
        tcase_add_test(tc, test_maps_parse_line_skips_special);
        tcase_add_test(tc, test_maps_parse_line_rejects_odd);
        tcase_add_test(tc, test_pagemap_pfn_decoding);
        tcase_add_test(tc, test_bitmap_words_group_sorted_pfns);
        tcase_add_test(tc, test_word_runs_consecutive_and_bounded);
        tcase_add_test(tc, test_bitmap_batching_byte_offsets);
        tcase_add_test(tc, test_age_update);
        tcase_add_test(tc, test_unmapped_candidate_flags);
        tcase_add_test(tc, test_lru_gen_enabled_text);
        tcase_add_test(tc, test_zoneinfo_testbed);
        tcase_add_test(tc, test_zoneinfo_overlap_and_merge);
        tcase_add_test(tc, test_piece_end_bounded_and_thp_aligned);
        tcase_add_test(tc, test_pagemap_present_sparse_self);
        tcase_add_test(tc, test_cursors_get_find_expire);
        tcase_add_test(tc, test_pass_todo);
        tcase_add_test(tc, test_pass_exact);
        suite_add_tcase(s, tc);

        tc = tcase_create("fake");
        tcase_add_checked_fixture(tc, unit_tmp_setup, unit_tmp_teardown);
        tcase_add_test(tc, test_scan_fake_order_changes);
        tcase_add_test(tc, test_scan_fake_cursor_kept_then_dropped);
        tcase_add_test(tc, test_scan_fake_full_passes);
        tcase_add_test(tc, test_scan_fake_paced_passes);
        tcase_add_test(tc, test_scan_fake_order_passes);
        tcase_add_test(tc, test_scan_fake_join_and_fail);
        tcase_add_test(tc, test_scan_fake_physical_passes);
        tcase_add_test(tc, test_scan_fake_unmapped_sweep);
        suite_add_tcase(s, tc);
        return s;
}

int main(void) {
        return unit_run(idle_page_suite());
}
