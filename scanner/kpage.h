/* SPDX-License-Identifier: MIT */
/* Struct-page facts shared by the scanners that walk physical memory:
 * /proc/kpageflags bits, which pages count as unmapped LRU pages, whether
 * MGLRU hides read(2) accesses, and the table from a page's memcg
 * (/proc/kpagecgroup) to the tenant it belongs to. idle_page.c (physical
 * mode, the unmapped sweep) and damon.c (the paddr classification of
 * unmapped pages) use them. Kernel ABI facts from
 * Documentation/admin-guide/mm/pagemap.rst. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "scanner.h"

/* /proc/kpageflags bits (include/uapi/linux/kernel-page-flags.h) */
#define KPAGE_LRU 5
#define KPAGE_SLAB 7
#define KPAGE_BUDDY 10
#define KPAGE_MMAP 11
#define KPAGE_COMPOUND_HEAD 15
#define KPAGE_COMPOUND_TAIL 16
#define KPAGE_HUGE 17
#define KPAGE_NOPAGE 20
#define KPAGE_THP 22
#define KPAGE_OFFLINE 23
#define KPAGE_ZERO_PAGE 24
#define KPAGE_BIT(bit) (UINT64_C(1) << (bit))

/* Pages no scanner samples whatever else they are: not present, the zero
 * page, hugetlb, slab, free, offline. */
#define KPAGE_NEVER (KPAGE_BIT(KPAGE_NOPAGE) | KPAGE_BIT(KPAGE_ZERO_PAGE) | KPAGE_BIT(KPAGE_HUGE) | \
                     KPAGE_BIT(KPAGE_SLAB) | KPAGE_BIT(KPAGE_BUDDY) | KPAGE_BIT(KPAGE_OFFLINE))

/* Whether a page with kpageflags FLAGS is one the unmapped classification
 * counts: an LRU page no process maps (page cache, tmpfs, shmem, swap
 * cache), the head of its folio (its tail pages follow it), not one of
 * KPAGE_NEVER. */
bool kpage_unmapped_candidate(uint64_t flags);

/* From the text of /sys/kernel/mm/lru_gen/enabled ("0x0007\n"): whether
 * MGLRU is on (bit 0). Under MGLRU, folio_mark_accessed() -- read(2),
 * write(2) and sendfile of page cache and tmpfs -- counts references in
 * the folio's LRU bits and leaves PG_idle set (mm/swap.c, 6.12), so
 * neither idle page tracking nor DAMON's paddr operations (which test and
 * set PG_idle for a page no process maps, mm/damon/ops-common.c) see an
 * unmapped page read all the time. -EINVAL for text that is not a
 * number. */
int kpage_lru_gen_enabled(const char *text, bool *ret);

/* Reads <SYSFS_ROOT or /sys>/kernel/mm/lru_gen/enabled into *STATE (1 on,
 * 0 off or no MGLRU in this kernel; -1 before the first call) and says a
 * change at info level, once: "WHO: MGLRU is on (...): ... so SAMPLER
 * cannot tell their hot pages from cold ones; unmapped pages are not
 * classified while it is on" and "WHO: MGLRU is off now". Info, not a
 * warning: a fact of the kernel, and the scans' warnings are debug
 * (log_capture_errors()). */
void kpage_check_mglru(const char *sysfs_root, int *state, const char *who, const char *sampler);

/* The memcgs of the targets: a page's kpagecgroup word is the inode of
 * its memcg's directory (for a removed, offline memcg, the nearest online
 * ancestor's), and a target owns the memcgs of every directory of its
 * subtree; a memcg two targets list (nested tenants) is the deepest one's
 * (of equal depth, the first's). Sorted by inode. */
typedef struct KpageMemcg {
        uint64_t ino;
        uint32_t target;
} KpageMemcg;

typedef struct KpageMemcgs {
        KpageMemcg *ids;
        size_t n;
} KpageMemcgs;

/* Pure: sorts the N pairs of IDS by inode and keeps one per inode, the
 * one of the target whose cgroup_path (TARGETS) is longest; RET_HASH[t]
 * (N_TARGETS of them, may be NULL) is a hash of target t's set, to tell a
 * set that changed. Returns the number kept. */
size_t kpage_memcgs_settle(KpageMemcg *ids, size_t n, const ScanTarget *targets, size_t n_targets,
                           uint64_t *ret_hash);
/* The table for TARGETS from the directories under CGROUP_MOUNT (a cgroup
 * gone, or going while walked, gives what was found); RET_HASH as above.
 * Fails only with -ENOMEM. */
int kpage_memcgs_build(const char *cgroup_mount, const ScanTarget *targets, size_t n, KpageMemcgs *ret,
                       uint64_t *ret_hash);
/* The target owning memcg INO, -1 for none. */
int kpage_memcgs_target(const KpageMemcgs *m, uint64_t ino);
void kpage_memcgs_done(KpageMemcgs *m);

/* pread(2) of SIZE bytes at OFF that retries EINTR and short reads (the
 * /proc/kpage* files and the idle bitmap return what they can); returns
 * the bytes read, fewer at the end of the file or when a read fails after
 * some, -errno when the first read fails. */
ssize_t kpage_pread(int fd, void *buf, size_t size, uint64_t off);
