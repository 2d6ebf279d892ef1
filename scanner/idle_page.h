/* SPDX-License-Identifier: MIT */
/* The idle page tracking backend (scanner/idle_page.c): its pure helpers,
 * exported for the unit tests. Kernel ABI facts used here come from
 * Documentation/admin-guide/mm/idle_page_tracking.rst and pagemap.rst. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define IDLE_PAGE_SIZE 4096u

/* /proc/PID/pagemap entry bits */
#define IDLE_PM_PFN_MASK ((UINT64_C(1) << 55) - 1)
#define IDLE_PM_PRESENT (UINT64_C(1) << 63)
#define IDLE_PM_SWAPPED (UINT64_C(1) << 62)

/* /proc/kpageflags bits (include/uapi/linux/kernel-page-flags.h) */
#define IDLE_KPF_LRU 5
#define IDLE_KPF_SLAB 7
#define IDLE_KPF_BUDDY 10
#define IDLE_KPF_COMPOUND_HEAD 15
#define IDLE_KPF_COMPOUND_TAIL 16
#define IDLE_KPF_HUGE 17
#define IDLE_KPF_NOPAGE 20
#define IDLE_KPF_THP 22
#define IDLE_KPF_OFFLINE 23
#define IDLE_KPF_ZERO_PAGE 24
#define IDLE_KPF(bit) (UINT64_C(1) << (bit))

/* Per-page age slot values besides the ages 0..HEAT_MAX_AGE. */
#define IDLE_AGE_COVERED 0xfe   /* part of a compound unit whose first page holds the age */
#define IDLE_AGE_ABSENT 0xff    /* not present / not trackable / not armed yet */

/* One line of /proc/PID/maps. Returns 1 with the range when the mapping is
 * to be sampled, 0 for mappings that are skipped (the special ones:
 * [vdso], [vvar], [vsyscall], ...; not readable; device mappings under
 * /dev/ other than /dev/zero and /dev/shm; hugetlb's /anon_hugepage, whose
 * pages are not on the LRU), -EINVAL for a line that is not a maps line. */
int idle_maps_parse_line(const char *line, uint64_t *ret_start, uint64_t *ret_end);

/* PAGEMAP_SCAN (Linux 6.7+; include/uapi/linux/fs.h, spelled out here for
 * older headers): an ioctl on /proc/PID/pagemap that returns the ranges of
 * pages in given categories and skips empty page tables whole, so a
 * sparse mapping of terabytes costs a few page table entries, not one
 * pagemap entry per page. */
typedef struct IdlePmRegion {
        uint64_t start, end;            /* end exclusive */
        uint64_t categories;            /* IDLE_PAGE_IS_* of the range, masked by return_mask */
} IdlePmRegion;

typedef struct IdlePmScanArg {
        uint64_t size;                  /* sizeof(IdlePmScanArg) */
        uint64_t flags;                 /* PM_SCAN_*: none here (they write-protect) */
        uint64_t start, end;
        uint64_t walk_end;              /* out: where the walk stopped, end when done */
        uint64_t vec, vec_len;          /* IdlePmRegion[vec_len] */
        uint64_t max_pages;             /* 0: no limit */
        uint64_t category_inverted, category_mask, category_anyof_mask, return_mask;
} IdlePmScanArg;

#define IDLE_PAGE_IS_PRESENT (UINT64_C(1) << 3)
#define IDLE_PAGE_IS_PFNZERO (UINT64_C(1) << 5)

/* The ranges of [START, END) (page-aligned) of the address space behind
 * the pagemap FD where pages other than the zero page are present, in
 * address order, at most MAX (> 0). Returns their number, with *ret_next
 * the address to continue from: END once the walk got there; before, when
 * REGIONS filled up (a range cut there continues at *ret_next: merge ranges
 * that touch). -ENOTTY or -EINVAL: the kernel lacks the ioctl (before
 * 6.7). */
int idle_pagemap_present(int fd, uint64_t start, uint64_t end, IdlePmRegion *regions, size_t max,
                         uint64_t *ret_next);

/* Pagemap is read in pieces: this is the end of the piece that starts at
 * VA in a range that ends at END. At most IDLE_PIECE_PAGES pages, and on a
 * 2 MiB boundary unless it is END: batches are processed between pieces
 * only, so a PMD-mapped THP (2 MiB, aligned) is never split between two
 * batches -- wherever the range starts. */
#define IDLE_PIECE_PAGES 4096u
uint64_t idle_piece_end(uint64_t va, uint64_t end);

/* A pagemap entry: true with the PFN when the page is present in RAM and
 * the PFN is shown (a zero PFN means the kernel hides PFNs: no
 * CAP_SYS_ADMIN). */
bool idle_pagemap_pfn(uint64_t entry, uint64_t *ret_pfn);

/* The bitmap is an array of u64 words, bit pfn % 64 of word pfn / 64, and
 * is read and written in whole words. From SORTED pfns (duplicates
 * allowed) to the distinct words (ret_words, ascending) with the bits of
 * those pfns (ret_masks); ret_slot[i] (may be NULL) is the index in
 * ret_words of pfns[i]'s word. The outputs have room for n. Returns the
 * number of words. */
size_t idle_bitmap_words(const uint64_t *sorted_pfns, size_t n, uint64_t *ret_words, uint64_t *ret_masks,
                         uint32_t *ret_slot);

typedef struct IdleRun {
        size_t first;           /* index into the words array */
        size_t n;               /* consecutive words: one pread/pwrite of n * 8 bytes at words[first] * 8 */
} IdleRun;

/* Groups ascending distinct word indexes into runs of consecutive words,
 * at most MAX words each (0: unbounded). ret has room for n. Returns the
 * number of runs. */
size_t idle_word_runs(const uint64_t *words, size_t n, size_t max, IdleRun *ret);

/* The age after a visit: 0 when the page was accessed (its idle bit was
 * cleared), else OLD + GAP (the periods since the last visit, at least 1)
 * saturating at HEAT_MAX_AGE. */
uint8_t idle_age_update(uint8_t old, bool idle, unsigned gap);

/* PFN -> NUMA node, from /proc/zoneinfo: each populated zone's
 * [start_pfn, start_pfn + spanned) belongs to its node. Zone spans of two
 * nodes can overlap on some machines (interleaved memory); such PFNs map
 * to -1 (unknown) rather than to a guess. */
typedef struct IdleNodeSpan {
        uint64_t start, end;    /* PFNs, end exclusive */
        int node;               /* -1: more than one node spans it */
} IdleNodeSpan;

/* Parses zoneinfo text into disjoint spans sorted by start. */
int idle_zoneinfo_parse(const char *text, IdleNodeSpan **ret, size_t *ret_n);
/* The node of PFN, -1 when no span (or an ambiguous one) covers it. */
int idle_pfn_node(const IdleNodeSpan *spans, size_t n, uint64_t pfn);
