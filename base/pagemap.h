/* SPDX-License-Identifier: MIT */
/* /proc/PID/pagemap: entry bits and the PAGEMAP_SCAN ioctl, shared by the
 * idle page scanner (scanner/idle_page.c) and the move_pages mover
 * (migrate/move_pages.c). Kernel ABI facts from
 * Documentation/admin-guide/mm/pagemap.rst and include/uapi/linux/fs.h. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/ioctl.h>

/* /proc/PID/pagemap entry bits */
#define PAGEMAP_PFN_MASK ((UINT64_C(1) << 55) - 1)
#define PAGEMAP_PRESENT (UINT64_C(1) << 63)
#define PAGEMAP_SWAPPED (UINT64_C(1) << 62)

/* A pagemap entry: true with the PFN when the page is present in RAM and
 * the PFN is shown (a zero PFN means the kernel hides PFNs: no
 * CAP_SYS_ADMIN). */
bool pagemap_pfn(uint64_t entry, uint64_t *ret_pfn);

/* PAGEMAP_SCAN (Linux 6.7+; include/uapi/linux/fs.h, spelled out here for
 * older headers): an ioctl on /proc/PID/pagemap that returns the ranges of
 * pages in given categories and skips empty page tables whole, so a
 * sparse mapping of terabytes costs a few page table entries, not one
 * pagemap entry per page. */
typedef struct PagemapRegion {
        uint64_t start, end;            /* end exclusive */
        uint64_t categories;            /* PAGEMAP_IS_* of the range, masked by return_mask */
} PagemapRegion;

typedef struct PagemapScanArg {
        uint64_t size;                  /* sizeof(PagemapScanArg) */
        uint64_t flags;                 /* PM_SCAN_*: none here (they write-protect) */
        uint64_t start, end;
        uint64_t walk_end;              /* out: where the walk stopped, end when done */
        uint64_t vec, vec_len;          /* PagemapRegion[vec_len] */
        uint64_t max_pages;             /* 0: no limit */
        uint64_t category_inverted, category_mask, category_anyof_mask, return_mask;
} PagemapScanArg;

#define PAGEMAP_SCAN_IOCTL _IOWR('f', 16, PagemapScanArg)
#define PAGEMAP_IS_PRESENT (UINT64_C(1) << 3)
#define PAGEMAP_IS_PFNZERO (UINT64_C(1) << 5)
#define PAGEMAP_IS_HUGE (UINT64_C(1) << 6)

/* The ranges of [START, END) (page-aligned) of the address space behind
 * the pagemap FD where pages other than the zero page are present, in
 * address order, at most MAX (> 0). Returns their number, with *ret_next
 * the address to continue from: END once the walk got there; before, when
 * REGIONS filled up (a range cut there continues at *ret_next: merge ranges
 * that touch). -ENOTTY or -EINVAL: the kernel lacks the ioctl (before
 * 6.7). */
int pagemap_present(int fd, uint64_t start, uint64_t end, PagemapRegion *regions, size_t max, uint64_t *ret_next);
