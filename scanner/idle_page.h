/* SPDX-License-Identifier: MIT */
/* The idle page tracking backend (scanner/idle_page.c): its pure helpers,
 * exported for the unit tests. Kernel ABI facts used here come from
 * Documentation/admin-guide/mm/idle_page_tracking.rst and pagemap.rst. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "heat.h"
#include "kpage.h"

#define IDLE_PAGE_SIZE 4096u

/* kpageflags bits and the unmapped candidates: kpage.h */

/* Per-page age slot values besides the ages 0..HEAT_MAX_AGE. */
#define IDLE_AGE_COVERED 0xfe   /* part of a compound unit whose first page holds the age */
#define IDLE_AGE_ABSENT 0xff    /* not present / not trackable / not armed yet */

/* One line of /proc/PID/maps. Returns 1 with the range when the mapping is
 * to be sampled, 0 for mappings that are skipped (the special ones:
 * [vdso], [vvar], [vsyscall], ...; not readable; device mappings under
 * /dev/ other than /dev/zero and /dev/shm; hugetlb's /anon_hugepage, whose
 * pages are not on the LRU), -EINVAL for a line that is not a maps line. */
int idle_maps_parse_line(const char *line, uint64_t *ret_start, uint64_t *ret_end);

/* Pagemap is read in pieces: this is the end of the piece that starts at
 * VA in a range that ends at END. At most IDLE_PIECE_PAGES pages, and on a
 * 2 MiB boundary unless it is END: batches are processed between pieces
 * only, so a PMD-mapped THP (2 MiB, aligned) is never split between two
 * batches -- wherever the range starts. */
#define IDLE_PIECE_PAGES 4096u
uint64_t idle_piece_end(uint64_t va, uint64_t end);

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


/* ---- per-tenant cursors and passes (scanner/idle_page.c's top) --------- */

/* A pass is exact (HEAT_PASS_EXACT) when nothing failed and the bytes it
 * only armed are at most 1/IDLE_EXACT_ARMED_DIV of the bytes it visited,
 * or at most IDLE_EXACT_ARMED_MIN and at most a quarter of them (small
 * tenants). Why a tolerance: a tenant that starts short-lived processes, or
 * grows its heap, all the time has pages visited for the first time in
 * every pass, and without one would never end a pass exactly, i.e. never
 * get complete coverage from the heat model (whose planner would then
 * never take hot bytes for a limit). Those pages are unclassified, as is
 * memory that appears after a pass began, which the heat model's growth
 * slack (12.5%, at least 4 MiB) tolerates already; this is a quarter of
 * that. A first pass, which arms everything, is never exact. */
#define IDLE_EXACT_ARMED_DIV 32
#define IDLE_EXACT_ARMED_MIN (UINT64_C(2) << 20)
bool idle_pass_exact(uint64_t armed_bytes, uint64_t classified_bytes, bool failed);

/* Scans a tenant may go without being given before its cursor, and the
 * tracking state of its processes, are dropped. */
#define IDLE_CURSOR_KEEP_SCANS 32

/* A tenant's share of the unmapped sweep (HEAT_UNMAPPED): one walk over
 * all PFNs, for every tenant given when it began, of the LRU pages its
 * memcgs hold that no process maps. */
typedef struct IdleSweep {
        uint32_t pass_gen;      /* the scan the sweep began in; 0: the tenant is in none */
        uint64_t armed;         /* bytes visited for the first time */
        uint64_t classified;    /* bytes classified */
        uint64_t ids_hash;      /* the tenant's memcg ids when the sweep began */
        uint64_t hot[HEAT_MAX_TIERS], cold[HEAT_MAX_TIERS]; /* classified bytes by tier */
        bool failed;            /* the memcg ids changed, or a scan left the tenant out */
} IdleSweep;

typedef struct IdleCursor {
        uint64_t cgroup_id;     /* the tenant (ScanTarget.cgroup_id) */
        uint32_t pass_gen;      /* the scan its open pass began in; 0: no pass open */
        uint32_t given_gen;     /* the last scan that was given the tenant */
        pid_t pid;              /* the process the open pass stopped in; 0: between two */
        uint64_t addr;          /* the address to go on from in it */
        /* what the open (or last) pass did, for HEAT_PASS_EXACT */
        uint64_t armed;         /* bytes visited for the first time: armed, not classified */
        uint64_t classified;    /* bytes classified */
        uint64_t ids_hash;      /* physical mode: the tenant's memcg ids when the pass began */
        bool failed;            /* something was not visited: a process's maps or pagemap could not be
                                 * read, or (physical) the memcg ids changed or a scan left it out */
        IdleSweep unmapped;     /* virtual mode with HEAT_UNMAPPED */
} IdleCursor;

/* Cursors sorted by cgroup id. */
typedef struct IdleCursors {
        IdleCursor *c;
        size_t n, alloc;
} IdleCursors;

IdleCursor *idle_cursors_find(const IdleCursors *t, uint64_t cgroup_id);
/* The cursor of CGROUP_ID, created (no pass open) when there is none.
 * Pointers into T are valid until the next call that adds or drops one. */
int idle_cursors_get(IdleCursors *t, uint64_t cgroup_id, IdleCursor **ret);
/* Drops the cursors not given for more than KEEP scans before scan GEN;
 * returns how many. */
size_t idle_cursors_expire(IdleCursors *t, uint32_t gen, uint32_t keep);
void idle_cursors_done(IdleCursors *t);

typedef struct IdleVisit {
        pid_t pid;
        uint64_t from;          /* the address to start at */
} IdleVisit;

/* What is left of the tenant's open pass C in scan GEN: the processes of
 * PIDS (the tenant's, in any order; duplicates and pids <= 0 ignored)
 * whose last visit (SEEN[i], the scan it began in, 0 never) was before
 * the pass began, and the one the pass stopped in (C->pid) from C->addr;
 * none visited in this scan already (another target listed it too). In
 * ascending pid order, the one the pass stopped in first. RET has room
 * for N. Returns the number of visits. */
size_t idle_pass_todo(const pid_t *pids, const uint32_t *seen, size_t n, uint32_t gen, const IdleCursor *c,
                      IdleVisit *ret);
