/* SPDX-License-Identifier: MIT */
/* The idle page tracking backend.
 *
 * Every period, the pages of the targets are visited: their idle bits in
 * /sys/kernel/mm/page_idle/bitmap (set on the previous visit) are read
 * back -- a cleared bit means the page was accessed -- and set again.
 *
 * Virtual mode (default): the targets' processes. For each pid,
 * /proc/PID/maps gives the mappings worth sampling; the PAGEMAP_SCAN ioctl
 * on /proc/PID/pagemap (Linux 6.7+) gives the ranges of each mapping where
 * pages are present, skipping empty page tables whole: a sparse mapping
 * of terabytes (an ASan program's shadow, the heaps JVMs, Go and V8
 * reserve, all "rw-p" anonymous) costs a few page table walks instead of a
 * pagemap entry per page. /proc/PID/pagemap, read over those ranges only
 * (over whole mappings when the kernel lacks the ioctl: decided once, at
 * open) in pieces of up to 4096 entries that end on 2 MiB boundaries (so a
 * PMD-mapped THP never straddles two pieces), gives the PFNs of present
 * pages; /proc/kpageflags (read in runs over the sorted PFNs) tells LRU
 * pages from the rest (the zero page, driver pages: their idle bit cannot
 * be set and would read "accessed" forever) and the head and tails of
 * compound pages. A THP or other large folio is one unit: its first page
 * carries the age, its idle bit covers the folio, its bytes count once.
 *
 * Physical mode (HEAT_PHYSICAL): /proc/kpageflags and /proc/kpagecgroup
 * over all PFNs, in chunks of 8192 (a multiple of 512: a folio never
 * straddles two). LRU pages charged to a memcg of a target's subtree are
 * sampled, mapped or not (page cache included). The subtree's ids are the
 * inode numbers of the directories under cgroup_mount/target->cgroup_path
 * (kpagecgroup reports a page's memcg by that inode number, and for a
 * removed, offline memcg the nearest online ancestor's), collected with
 * stat() at the start of every period: a child cgroup created later is
 * seen at the next period, and pages of a tenant's children count for the
 * tenant, which is what a tenant root means.
 *
 * The unmapped sweep (virtual mode with HEAT_UNMAPPED): the pages no
 * process maps (page cache, tmpfs, shmem) are invisible to the walk of
 * the processes, so a physical walk like physical mode's visits the LRU
 * pages without KPF_MMAP charged to the targets' memcgs (the deepest
 * target listing a memcg owns its pages) and counts them per tenant and
 * tier, hot or cold, without ranges (TenantHeat.unmapped_*). One sweep
 * covers every target given when it began; it reports at its end, for the
 * targets it covered exactly (idle_pass_exact() over what it armed and
 * classified, no memcg change, no scan that left the target out), with
 * HEAT_PASS_UNMAPPED. The walk of the processes and the sweep take turns at
 * going first in a scan, the second getting what the budget leaves. Under
 * MGLRU (lru_gen/enabled), folio_mark_accessed() leaves PG_idle set, so an
 * unmapped page read all the time reads idle: the sweep is then skipped
 * (checked at each sweep's start, said once at info level) and the targets
 * lack HEAT_PASS_SWEEPING.
 *
 * Node of a page: from its PFN, with the node spans of /proc/zoneinfo
 * (each populated zone's start_pfn and spanned), read once at open. It is
 * exact wherever node spans do not overlap, costs one binary search over a
 * handful of spans per page and no system call, and works in both modes
 * (move_pages() would cost a system call per batch and only serve virtual
 * mode; numa_maps is per mapping, not per page; the memoryN block links
 * need CONFIG_MEMORY_HOTPLUG, which the testbed's idle kernel lacks). PFNs
 * in spans of more than one node are reported as node and tier -1: they
 * count in tracked_bytes and ranges but not in the per-tier heat.
 *
 * State: one age byte per 4 KiB page, in chunks of 64 pages (72 bytes:
 * index, last visit, ages) kept in a sorted array per (pid, mapping),
 * keyed by the mapping's start, or, in physical mode, one array keyed by
 * PFN. Chunks exist only where pages are present, so a sparse mapping of
 * terabytes costs nothing; mappings and processes that disappear take
 * their state with them. 72 / 64 = 1.125 bytes per page when dense.
 * A page is classified from its second visit on: the first one only sets
 * its idle bit.
 *
 * Pacing: with a CPU budget, the scan sleeps after each step so that its
 * thread's CPU time stays at the budget of its wall time, and stops when
 * the next step would end past 90% of the period; the next period resumes
 * from that point. Ages then count the periods between two visits. A step
 * is a batch, or, where pagemap shows nothing present for long (the
 * whole-mapping walk of a kernel without PAGEMAP_SCAN over a sparse
 * mapping), 256 pieces without one.
 *
 * How the budget is spent (virtual mode): the caller orders the targets
 * (by need and class); a scan visits them in that order, each going on
 * with its own pass from its own cursor, until the budget stops it. A
 * pass over a tenant visits its processes in ascending pid order, and a
 * cursor is the process and address the pass stopped at, kept per
 * tenant (cgroup id) across periods: a tenant list that changes, or comes
 * in another order, moves no tenant onto another's cursor. The first
 * target takes what it needs to end its pass, the next what is left, and
 * so on; where the budget runs out the scan stops, and the targets after
 * that point wait for the next period with their passes open. The order
 * is therefore the priority: a target late in the order is reached only
 * in periods where those before it end their passes early (a caller that
 * wants fairness rotates the order). A pass ends once every process the
 * tenant lists was visited since the pass began (one that joins the
 * tenant during a pass is visited in it, whatever its pid); the next
 * begins at the tenant's next turn, never in the same scan (a page would
 * be visited twice in one period). The cursor of a tenant the caller
 * stops giving, and its processes' state, are kept for
 * IDLE_CURSOR_KEEP_SCANS scans (a tenant left out for a while goes on
 * where it was), then dropped. Physical mode has one cursor, a PFN, for
 * all targets together.
 *
 * Passes (TenantHeat.pass; heat.h). Virtual mode: a tenant's pass
 * begins in the scan that reaches it with no pass open, at its first
 * process from address 0, and ends in the scan that finishes its last
 * process; scans in between that reach it report fragments (no flag).
 * Physical mode: one pass, from PFN 0 to the last PFN, for all targets
 * together: each target given when it begins has BEGIN there and END in
 * the scan that reaches the last PFN; a target first given during a pass
 * reports fragments until the next one begins. EXACT: nothing was left
 * out -- no process whose maps or pagemap could not be read (one that
 * exited is not left out), no scan that failed, and in physical mode no
 * change of the tenant's memcg ids during the pass (a child cgroup
 * created or removed: kpagecgroup's view of it before the change was not
 * attributed) and no scan that left the tenant out -- and almost nothing
 * was only armed (idle_pass_exact(), idle_page.h: a tolerance for
 * churn; a first pass is never exact). A tenant without processes (or,
 * physical, without a memcg left) has an exact pass over nothing.
 *
 * Limits: a pid in two targets (nested tenants) is sampled once per
 * period, for the first target that reaches it; a page shared by
 * processes of different batches is seen idle by the later ones;
 * hugetlbfs files are not recognised by name (their pages are not LRU
 * pages and are skipped by kpageflags). */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "heat.h"
#include "idle_page.h"
#include "kpage.h"
#include "pagemap.h"
#include "scanner.h"
#include "topology.h"
#include "util.h"
#include "zoneinfo.h"

#define CHUNK_PAGES 64
#define PIECE_PAGES IDLE_PIECE_PAGES    /* pagemap entries per pread */
#define PHYS_CHUNK 8192                 /* PFNs per kpageflags/kpagecgroup pread; multiple of 512 */
#define HUGE_BYTES (2u << 20)
#define BATCH_MAX 16384                 /* units per idle bitmap round */
#define BATCH_MIN 64
#define RUN_MAX 4096                    /* words per bitmap pread/pwrite */
#define FLAGS_GAP 64                    /* kpageflags: read through gaps of up to this many PFNs */
#define PM_REGIONS 256                  /* PAGEMAP_SCAN ranges per ioctl */
#define QUIET_PIECES 256                /* pieces without a batch between two pacing checks */

_Static_assert(sizeof(PagemapScanArg) == 96, "struct pm_scan_arg is 12 u64");
_Static_assert(sizeof(PagemapRegion) == 24, "struct page_region is 3 u64");

/* ---- pure helpers (idle_page.h) ---------------------------------------- */

static bool has_prefix(const char *s, const char *p) {
        return strncmp(s, p, strlen(p)) == 0;
}

int idle_maps_parse_line(const char *line, uint64_t *ret_start, uint64_t *ret_end) {
        unsigned long long start, end, offset, inode;
        char perms[8], dev[32];
        int name_at = -1;
        const char *name;

        if (sscanf(line, "%llx-%llx %7s %llx %31s %llu %n", &start, &end, perms, &offset, dev, &inode, &name_at) < 6 ||
            name_at < 0)
                return -EINVAL;
        if (end <= start || strlen(perms) != 4 || (start & (IDLE_PAGE_SIZE - 1)) || (end & (IDLE_PAGE_SIZE - 1)) ||
            !strchr(dev, ':'))
                return -EINVAL;
        name = line + name_at;
        if (perms[0] != 'r')
                return 0; /* PROT_NONE guards, execute-only: nothing to sample */
        if (name[0] == '[') {
                /* the kernel's special mappings, except the process's own memory */
                if (!has_prefix(name, "[heap]") && !has_prefix(name, "[stack") && !has_prefix(name, "[anon:") &&
                    !has_prefix(name, "[anon_shmem:"))
                        return 0;
        } else if (has_prefix(name, "/dev/")) {
                /* device memory (VM_IO/VM_PFNMAP), but shared anonymous
                 * memory shows as /dev/zero and POSIX shm lives in /dev/shm */
                if (!has_prefix(name, "/dev/zero") && !has_prefix(name, "/dev/shm/"))
                        return 0;
        } else if (has_prefix(name, "/anon_hugepage"))
                return 0;
        *ret_start = start;
        *ret_end = end;
        return 1;
}

uint64_t idle_piece_end(uint64_t va, uint64_t end) {
        uint64_t e = (va + (uint64_t) PIECE_PAGES * IDLE_PAGE_SIZE) & ~(uint64_t) (HUGE_BYTES - 1);

        return e <= va || e > end ? end : e;
}

size_t idle_bitmap_words(const uint64_t *sorted_pfns, size_t n, uint64_t *ret_words, uint64_t *ret_masks,
                         uint32_t *ret_slot) {
        size_t nw = 0;

        for (size_t i = 0; i < n; i++) {
                uint64_t w = sorted_pfns[i] / 64;

                if (nw == 0 || ret_words[nw - 1] != w) {
                        ret_words[nw] = w;
                        ret_masks[nw] = 0;
                        nw++;
                }
                ret_masks[nw - 1] |= UINT64_C(1) << (sorted_pfns[i] % 64);
                if (ret_slot)
                        ret_slot[i] = (uint32_t) (nw - 1);
        }
        return nw;
}

size_t idle_word_runs(const uint64_t *words, size_t n, size_t max, IdleRun *ret) {
        size_t nr = 0;

        for (size_t i = 0; i < n; i++) {
                if (nr > 0 && words[i] == words[i - 1] + 1 && (max == 0 || ret[nr - 1].n < max))
                        ret[nr - 1].n++;
                else
                        ret[nr++] = (IdleRun) { .first = i, .n = 1 };
        }
        return nr;
}

uint8_t idle_age_update(uint8_t old, bool idle, unsigned gap) {
        unsigned a;

        if (!idle)
                return 0;
        if (old > HEAT_MAX_AGE)
                old = 0;
        a = old + (gap ? gap : 1);
        return (uint8_t) (a > HEAT_MAX_AGE ? HEAT_MAX_AGE : a);
}

bool idle_pass_exact(uint64_t armed_bytes, uint64_t classified_bytes, bool failed) {
        uint64_t visited = armed_bytes + classified_bytes, allow = visited / IDLE_EXACT_ARMED_DIV;

        if (failed)
                return false;
        if (allow < IDLE_EXACT_ARMED_MIN)
                allow = IDLE_EXACT_ARMED_MIN < visited / 4 ? IDLE_EXACT_ARMED_MIN : visited / 4;
        return armed_bytes <= allow;
}

static size_t cursors_lower(const IdleCursors *t, uint64_t id) {
        size_t lo = 0, hi = t->n;

        while (lo < hi) {
                size_t mid = lo + (hi - lo) / 2;

                if (t->c[mid].cgroup_id < id)
                        lo = mid + 1;
                else
                        hi = mid;
        }
        return lo;
}

IdleCursor *idle_cursors_find(const IdleCursors *t, uint64_t cgroup_id) {
        size_t i = cursors_lower(t, cgroup_id);

        return i < t->n && t->c[i].cgroup_id == cgroup_id ? &t->c[i] : NULL;
}

int idle_cursors_get(IdleCursors *t, uint64_t cgroup_id, IdleCursor **ret) {
        size_t i = cursors_lower(t, cgroup_id);

        if (i >= t->n || t->c[i].cgroup_id != cgroup_id) {
                if (t->n == t->alloc) {
                        size_t na = t->alloc ? t->alloc * 2 : 8;
                        IdleCursor *nc = realloc(t->c, na * sizeof(*nc));

                        if (!nc)
                                return -ENOMEM;
                        t->c = nc;
                        t->alloc = na;
                }
                memmove(t->c + i + 1, t->c + i, (t->n - i) * sizeof(*t->c));
                t->c[i] = (IdleCursor) { .cgroup_id = cgroup_id };
                t->n++;
        }
        *ret = &t->c[i];
        return 0;
}

size_t idle_cursors_expire(IdleCursors *t, uint32_t gen, uint32_t keep) {
        size_t w = 0, n = t->n;

        for (size_t i = 0; i < n; i++)
                if ((uint32_t) (gen - t->c[i].given_gen) <= keep)
                        t->c[w++] = t->c[i];
        t->n = w;
        if (w == 0) {
                idle_cursors_done(t);
        } else if (t->alloc > 8 && w < t->alloc / 4) {
                IdleCursor *nc = realloc(t->c, t->alloc / 2 * sizeof(*nc));

                if (nc) {
                        t->c = nc;
                        t->alloc /= 2;
                }
        }
        return n - w;
}

void idle_cursors_done(IdleCursors *t) {
        free(t->c);
        *t = (IdleCursors) { 0 };
}

static int cmp_visit(const void *a, const void *b) {
        const IdleVisit *x = a, *y = b;

        return (x->pid > y->pid) - (x->pid < y->pid);
}

size_t idle_pass_todo(const pid_t *pids, const uint32_t *seen, size_t n, uint32_t gen, const IdleCursor *c,
                      IdleVisit *ret) {
        size_t k = 0, w = 0;

        for (size_t i = 0; i < n; i++) {
                bool in_pass = seen[i] != 0 && seen[i] >= c->pass_gen;

                if (pids[i] <= 0 || seen[i] == gen)
                        continue;
                if (in_pass && c->pid > 0 && pids[i] == c->pid)
                        ret[k++] = (IdleVisit) { .pid = pids[i], .from = c->addr };
                else if (!in_pass)
                        ret[k++] = (IdleVisit) { .pid = pids[i], .from = 0 };
        }
        qsort_safe(ret, k, sizeof(*ret), cmp_visit);
        for (size_t i = 0; i < k; i++)
                if (w == 0 || ret[w - 1].pid != ret[i].pid)
                        ret[w++] = ret[i];
        /* the process the pass stopped in first */
        for (size_t i = 1; i < w; i++)
                if (ret[i].pid == c->pid) {
                        IdleVisit v = ret[i];

                        memmove(ret + 1, ret, i * sizeof(*ret));
                        ret[0] = v;
                        break;
                }
        return w;
}

/* ---- tracking state ---------------------------------------------------- */

typedef struct Chunk {
        uint32_t index;                 /* page index / CHUNK_PAGES within the span */
        uint32_t gen;                   /* period of the last visit, 0 never */
        uint8_t age[CHUNK_PAGES];       /* 0..HEAT_MAX_AGE, IDLE_AGE_COVERED, IDLE_AGE_ABSENT */
} Chunk;
_Static_assert(sizeof(Chunk) == 72, "a chunk is 72 bytes for 64 pages");

typedef struct Span {
        Chunk *c;                       /* sorted by index */
        size_t n, alloc;
} Span;

typedef struct Vma {
        uint64_t start, end;
        Span span;
} Vma;

typedef struct Proc {
        pid_t pid;
        uint32_t gen_seen;              /* period of the last visit (when it began) */
        uint64_t tenant;                /* cgroup id of the target it was last visited for */
        Vma *vmas;                      /* sorted by start */
        size_t n_vmas;
} Proc;

static void span_done(Span *s) {
        free(s->c);
        *s = (Span) { 0 };
}

static size_t span_lower(const Span *s, uint32_t idx, size_t *hint) {
        size_t lo = 0, hi = s->n;

        /* sequential access: start from the hint when it is at or before idx */
        if (hint && *hint < s->n && s->c[*hint].index <= idx) {
                size_t h = *hint;

                for (int k = 0; k < 4 && h < s->n && s->c[h].index < idx; k++)
                        h++;
                if (h >= s->n || s->c[h].index >= idx)
                        return *hint = h;
                lo = h;
        }
        while (lo < hi) {
                size_t mid = lo + (hi - lo) / 2;

                if (s->c[mid].index < idx)
                        lo = mid + 1;
                else
                        hi = mid;
        }
        if (hint)
                *hint = lo;
        return lo;
}

static uint8_t *span_slot(Span *s, uint64_t page, size_t *hint) {
        uint32_t idx = (uint32_t) (page / CHUNK_PAGES);
        size_t i = span_lower(s, idx, hint);

        if (i < s->n && s->c[i].index == idx)
                return &s->c[i].age[page % CHUNK_PAGES];
        return NULL;
}

static int span_get(Span *s, uint32_t idx, size_t *hint, Chunk **ret) {
        size_t i = span_lower(s, idx, hint);

        if (i >= s->n || s->c[i].index != idx) {
                if (s->n == s->alloc) {
                        size_t na = s->alloc ? s->alloc * 2 : 4;
                        Chunk *nc = realloc(s->c, na * sizeof(*nc));

                        if (!nc)
                                return -ENOMEM;
                        s->c = nc;
                        s->alloc = na;
                }
                memmove(s->c + i + 1, s->c + i, (s->n - i) * sizeof(*s->c));
                s->c[i] = (Chunk) { .index = idx };
                memset(s->c[i].age, IDLE_AGE_ABSENT, sizeof(s->c[i].age));
                s->n++;
        }
        *ret = &s->c[i];
        return 0;
}

/* Drops chunks without a present page (and those at or past
 * max_pages), gives back slack. */
static void span_compact(Span *s, uint64_t max_pages) {
        size_t w = 0;

        for (size_t i = 0; i < s->n; i++) {
                Chunk *c = &s->c[i];
                bool any = false;

                if ((uint64_t) c->index * CHUNK_PAGES >= max_pages)
                        continue;
                for (uint64_t k = 0; k < CHUNK_PAGES; k++) {
                        if ((uint64_t) c->index * CHUNK_PAGES + k >= max_pages)
                                c->age[k] = IDLE_AGE_ABSENT;
                        any |= c->age[k] != IDLE_AGE_ABSENT;
                }
                if (any)
                        s->c[w++] = *c;
        }
        s->n = w;
        if (w == 0)
                span_done(s);
        else if (s->alloc > w + w / 32) { /* the slack of doubling would be most of the state */
                Chunk *nc = realloc(s->c, w * sizeof(*nc));

                if (nc) {
                        s->c = nc;
                        s->alloc = w;
                }
        }
}

static void proc_free(Proc *p) {
        if (!p)
                return;
        for (size_t i = 0; i < p->n_vmas; i++)
                span_done(&p->vmas[i].span);
        free(p->vmas);
        free(p);
}

/* ---- the scanner ------------------------------------------------------- */

typedef struct Unit {
        Span *span;
        uint64_t page;                  /* index of the first page in the span */
        uint64_t addr;                  /* virtual address, or physical byte address */
        uint64_t pfn;
        uint64_t flags;                 /* kpageflags (virtual mode, before units are formed) */
        uint32_t n_pages;
        uint32_t target;
        pid_t pid;                      /* 0 in physical mode */
        uint8_t gap;                    /* periods since the last visit */
        bool unmapped;                  /* of the unmapped sweep: counted in bytes, no range */
} Unit;

typedef struct PfnRef {
        uint64_t pfn;
        size_t idx;
} PfnRef;

typedef struct Out {
        ScanRange *r;
        size_t n, alloc;
        IdleCursor *cur;                /* the target's cursor; NULL for a second target of one cgroup */
        bool began, ended;              /* its pass began / ended in this scan */
        bool visited;                   /* its cursor had a turn in this scan */
        uint64_t ids_hash;              /* physical mode: of its memcg ids in this scan */
        bool ubegan, uended;            /* the unmapped sweep began / ended for it in this scan */
} Out;

struct Scanner {
        ScanOptions opts;
        bool physical;
        bool unmapped;                  /* virtual mode with the unmapped sweep (HEAT_UNMAPPED) */
        bool sweep_first;               /* this scan, the sweep goes before the processes */
        bool in_sweep;                  /* the units queued are the sweep's (no kpageflags folding) */
        int mglru;                      /* the last lru_gen/enabled read: 1 on, 0 off, -1 unknown */
        int bitmap_fd, kpageflags_fd, kpagecgroup_fd;
        bool pm_scan;                   /* PAGEMAP_SCAN works: read pagemap over present ranges only */
        PagemapRegion *regions;          /* [PM_REGIONS] */
        NodeSpan *nodes;
        size_t n_nodes;
        uint32_t gen;

        Proc **procs;                   /* sorted by pid */
        size_t n_procs, alloc_procs;
        Span phys;

        /* where the last period stopped: per tenant (virtual), or a PFN */
        IdleCursors cursors;
        bool phys_resume;               /* a physical pass is open ... */
        uint64_t cur_pfn;               /* ... and goes on here */
        uint32_t phys_gen;              /* the scan it began in */

        /* pacing */
        uint64_t cpu0, wall0, deadline_ns, step_cpu0, est_step_ns, est_unit_ns;
        size_t batch_cap;
        unsigned quiet_pieces;          /* pagemap pieces read since the last pacing check */
        bool step_unchecked;            /* a step ended without a pacing check (the end of a process) */
        uint64_t proc_end;              /* the end of the last mapping of the process being visited */

        /* per scan() scratch, freed at its end */
        TenantHeat *heat;
        Out *out;
        size_t n_targets;
        Unit *units;
        size_t n_units, alloc_units;
        uint64_t *buf, *buf2;           /* pagemap / kpageflags / kpagecgroup reads */
        const Span *gap_span;           /* the chunk of the last age gap computed */
        uint32_t gap_index;
        uint8_t gap_val;
        KpageMemcgs memcgs;             /* physical mode, the unmapped sweep: the targets' memcgs */
        unsigned n_classified;
};

static uint64_t clock_ns(clockid_t id) {
        struct timespec ts;

        clock_gettime(id, &ts);
        return (uint64_t) ts.tv_sec * 1000000000u + (uint64_t) ts.tv_nsec;
}

static int open_root(const char *root, const char *path, int flags, char **ret_path) {
        _cleanup_free_ char *full = NULL;
        int r, fd;

        r = path_join_root(root, path, &full);
        if (r < 0)
                return r;
        fd = open(full, flags | O_CLOEXEC);
        if (fd < 0)
                r = -errno;
        if (ret_path)
                *ret_path = TAKE_PTR(full);
        return fd < 0 ? r : fd;
}

static void idle_close(Scanner *s) {
        if (!s)
                return;
        if (s->bitmap_fd >= 0)
                close(s->bitmap_fd);
        if (s->kpageflags_fd >= 0)
                close(s->kpageflags_fd);
        if (s->kpagecgroup_fd >= 0)
                close(s->kpagecgroup_fd);
        for (size_t i = 0; i < s->n_procs; i++)
                proc_free(s->procs[i]);
        free(s->procs);
        span_done(&s->phys);
        idle_cursors_done(&s->cursors);
        free(s->regions);
        free(s->nodes);
        free(s);
}

static void scannerp_free(Scanner **s) {
        idle_close(*s);
}

/* Whether pagemap shows PFNs to us: the entry of a page we just wrote.
 * And whether it has PAGEMAP_SCAN (*ret_scan), asked about the same page. */
static int check_pagemap(const char *procfs, bool *ret_scan) {
        _cleanup_close_ int fd = -1;
        volatile uint64_t probe = 1;
        uint64_t e = 0, pfn, page = (uint64_t) (uintptr_t) &probe & ~(uint64_t) (IDLE_PAGE_SIZE - 1), next;
        PagemapRegion reg;
        ssize_t n;
        int r;

        fd = open_root(procfs, "/self/pagemap", O_RDONLY, NULL);
        if (fd < 0)
                return fd;
        probe++;
        n = kpage_pread(fd, &e, sizeof(e), page / IDLE_PAGE_SIZE * 8);
        if (n < 0)
                return (int) n;
        if (n != sizeof(e) || !(e & PAGEMAP_PRESENT))
                return -EIO;
        if (!pagemap_pfn(e, &pfn))
                return -EPERM;
        r = pagemap_present(fd, page, page + IDLE_PAGE_SIZE, &reg, 1, &next);
        if (r == 1 && reg.start == page && reg.end == page + IDLE_PAGE_SIZE)
                *ret_scan = true;
        else {
                log_debug("idle_page: no PAGEMAP_SCAN (Linux 6.7+) on %s/self/pagemap (%s): reading pagemap over "
                          "whole mappings, sparse ones included", procfs,
                          r < 0 ? strerror(-r) : "a present page not reported");
                *ret_scan = false;
        }
        return 0;
}

static int idle_open(const ScanOptions *opts, Scanner **ret) {
        _cleanup_(scannerp_free) Scanner *s = NULL;
        _cleanup_free_ char *path = NULL, *zoneinfo = NULL;
        int r;

        s = calloc(1, sizeof(*s));
        if (!s)
                return -ENOMEM;
        s->opts = *opts;
        s->physical = opts->flags & HEAT_PHYSICAL;
        s->unmapped = !s->physical && (opts->flags & HEAT_UNMAPPED);
        s->mglru = -1;
        s->bitmap_fd = s->kpageflags_fd = s->kpagecgroup_fd = -1;

        r = open_root(opts->sysfs_root, "/kernel/mm/page_idle/bitmap", O_RDWR, &path);
        if (r == -ENOENT) {
                log_error("idle page tracking needs CONFIG_IDLE_PAGE_TRACKING: %s is missing", path);
                return -EOPNOTSUPP;
        }
        if (r < 0)
                return log_error_errno(r, "cannot open %s for writing (idle page tracking needs root): %m", path);
        s->bitmap_fd = r;
        free(path);
        path = NULL;

        r = check_pagemap(opts->procfs_root, &s->pm_scan);
        if (r == -EPERM) {
                log_error("/proc/PID/pagemap hides page frame numbers: idle page tracking needs CAP_SYS_ADMIN");
                return r;
        }
        if (r < 0)
                return log_error_errno(r, "cannot read this process's own pagemap (CONFIG_PROC_PAGE_MONITOR?): %m");

        r = open_root(opts->procfs_root, "/kpageflags", O_RDONLY, &path);
        if (r < 0)
                return log_error_errno(r, "cannot open %s (needs CONFIG_PROC_PAGE_MONITOR and root): %m", path);
        s->kpageflags_fd = r;
        free(path);
        path = NULL;

        if (s->physical || s->unmapped) {
                r = open_root(opts->procfs_root, "/kpagecgroup", O_RDONLY, &path);
                if (r < 0)
                        return log_error_errno(r, "%s needs %s (CONFIG_MEMCG, root): %m",
                                               s->physical ? "physical mode" : "the sweep of unmapped pages", path);
                s->kpagecgroup_fd = r;
        }

        r = read_full_file(opts->procfs_root, "/zoneinfo", &zoneinfo, NULL);
        if (r >= 0)
                r = zoneinfo_node_spans(zoneinfo, &s->nodes, &s->n_nodes);
        if (r == -ENOMEM)
                return r;
        if (r < 0)
                return log_error_errno(r, "cannot read the node of each page frame from %s/zoneinfo: %m",
                                       opts->procfs_root);
        for (size_t i = 0; i < s->n_nodes; i++)
                if (s->nodes[i].node < 0)
                        log_debug("idle_page: PFNs %" PRIu64 "-%" PRIu64 " are spanned by several nodes: node unknown",
                                  s->nodes[i].start, s->nodes[i].end - 1);
        if (s->pm_scan) {
                s->regions = malloc(PM_REGIONS * sizeof(*s->regions));
                if (!s->regions)
                        return -ENOMEM;
        }
        s->est_unit_ns = 0;
        *ret = TAKE_PTR(s);
        return 0;
}

/* ---- procs ------------------------------------------------------------- */

static size_t procs_lower(const Scanner *s, pid_t pid) {
        size_t lo = 0, hi = s->n_procs;

        while (lo < hi) {
                size_t mid = lo + (hi - lo) / 2;

                if (s->procs[mid]->pid < pid)
                        lo = mid + 1;
                else
                        hi = mid;
        }
        return lo;
}

static Proc *proc_find(const Scanner *s, pid_t pid) {
        size_t i = procs_lower(s, pid);

        return i < s->n_procs && s->procs[i]->pid == pid ? s->procs[i] : NULL;
}

static int proc_get(Scanner *s, pid_t pid, Proc **ret) {
        size_t i = procs_lower(s, pid);
        Proc *p;

        if (i < s->n_procs && s->procs[i]->pid == pid) {
                *ret = s->procs[i];
                return 0;
        }
        if (s->n_procs == s->alloc_procs) {
                size_t na = s->alloc_procs ? s->alloc_procs * 2 : 16;
                Proc **np = realloc(s->procs, na * sizeof(*np));

                if (!np)
                        return -ENOMEM;
                s->procs = np;
                s->alloc_procs = na;
        }
        p = calloc(1, sizeof(*p));
        if (!p)
                return -ENOMEM;
        p->pid = pid;
        memmove(s->procs + i + 1, s->procs + i, (s->n_procs - i) * sizeof(*s->procs));
        s->procs[i] = p;
        s->n_procs++;
        *ret = p;
        return 0;
}

static void proc_drop(Scanner *s, pid_t pid) {
        size_t i = procs_lower(s, pid);

        if (i >= s->n_procs || s->procs[i]->pid != pid)
                return;
        proc_free(s->procs[i]);
        memmove(s->procs + i, s->procs + i + 1, (s->n_procs - i - 1) * sizeof(*s->procs));
        s->n_procs--;
}

static int cmp_pid(const void *a, const void *b) {
        pid_t x = *(const pid_t *) a, y = *(const pid_t *) b;

        return (x > y) - (x < y);
}

static int cmp_u64(const void *a, const void *b) {
        uint64_t x = *(const uint64_t *) a, y = *(const uint64_t *) b;

        return (x > y) - (x < y);
}

/* Forgets processes that no target lists any more, except those of a
 * tenant that was not given this time but keeps its cursor: they wait for
 * its next turn (until its cursor expires, IDLE_CURSOR_KEEP_SCANS). */
static int procs_prune(Scanner *s, const ScanTarget *targets, size_t n) {
        _cleanup_free_ pid_t *all = NULL;
        _cleanup_free_ uint64_t *ids = NULL;
        size_t total = 0, k = 0, w = 0;

        for (size_t i = 0; i < n; i++)
                total += targets[i].n_pids;
        if (total > 0) {
                all = malloc(total * sizeof(*all));
                if (!all)
                        return -ENOMEM;
                for (size_t i = 0; i < n; i++)
                        for (size_t j = 0; j < targets[i].n_pids; j++)
                                all[k++] = targets[i].pids[j];
                qsort_safe(all, total, sizeof(*all), cmp_pid);
        }
        if (n > 0) {
                ids = malloc(n * sizeof(*ids));
                if (!ids)
                        return -ENOMEM;
                for (size_t i = 0; i < n; i++)
                        ids[i] = targets[i].cgroup_id;
                qsort_safe(ids, n, sizeof(*ids), cmp_u64);
        }
        for (size_t i = 0; i < s->n_procs; i++) {
                Proc *p = s->procs[i];
                bool listed = total > 0 && bsearch(&p->pid, all, total, sizeof(*all), cmp_pid);
                bool waits = !listed && !(n > 0 && bsearch(&p->tenant, ids, n, sizeof(*ids), cmp_u64)) &&
                             idle_cursors_find(&s->cursors, p->tenant);

                if (listed || waits)
                        s->procs[w++] = p;
                else
                        proc_free(p);
        }
        s->n_procs = w;
        return 0;
}

/* Reads PID's maps into fresh mappings, moving the state of those that
 * still start at the same address. -ENOENT/-ESRCH: the process is gone. */
static int proc_read_maps(Scanner *s, Proc *p) {
        _cleanup_free_ char *data = NULL, *rel = NULL;
        _cleanup_free_ Vma *vmas = NULL;
        size_t n = 0, alloc = 0, old = 0;
        int r;

        if (asprintf(&rel, "/%d/maps", (int) p->pid) < 0)
                return -ENOMEM;
        r = read_full_file(s->opts.procfs_root, rel, &data, NULL);
        if (r < 0)
                return r;
        for (char *l = data, *nl; l && *l; l = nl) {
                uint64_t start, end;

                nl = strchr(l, '\n');
                if (nl)
                        *nl++ = '\0';
                r = idle_maps_parse_line(l, &start, &end);
                if (r < 0) {
                        log_debug("idle_page: pid %d: ignoring a maps line: '%s'", (int) p->pid, l);
                        continue;
                }
                if (r == 0 || (end - start) / IDLE_PAGE_SIZE > (uint64_t) UINT32_MAX * CHUNK_PAGES)
                        continue;
                if (n == alloc) {
                        size_t na = alloc ? alloc * 2 : 32;
                        Vma *nv = realloc(vmas, na * sizeof(*nv));

                        if (!nv)
                                return -ENOMEM;
                        vmas = nv;
                        alloc = na;
                }
                vmas[n] = (Vma) { .start = start, .end = end };
                while (old < p->n_vmas && p->vmas[old].start < start)
                        span_done(&p->vmas[old++].span);
                if (old < p->n_vmas && p->vmas[old].start == start) {
                        vmas[n].span = p->vmas[old].span;
                        p->vmas[old++].span = (Span) { 0 };
                        span_compact(&vmas[n].span, (end - start) / IDLE_PAGE_SIZE);
                }
                n++;
        }
        for (; old < p->n_vmas; old++)
                span_done(&p->vmas[old].span);
        free(p->vmas);
        if (n > 0 && alloc > n) {
                Vma *nv = realloc(vmas, n * sizeof(*nv));

                if (nv)
                        vmas = nv;
        }
        p->vmas = n > 0 ? TAKE_PTR(vmas) : NULL;
        p->n_vmas = n;
        return 0;
}

/* ---- batches: kpageflags, idle bits, ages, ranges ---------------------- */

static int cmp_ref(const void *a, const void *b) {
        const PfnRef *x = a, *y = b;

        return (x->pfn > y->pfn) - (x->pfn < y->pfn);
}

/* Periods since SPAN's chunk IDX was last visited (at least 1); marks it
 * visited now. Pages of one chunk get the same gap within a period. */
static int chunk_visit(Scanner *s, Span *span, uint64_t page, uint8_t *ret_gap) {
        uint32_t idx = (uint32_t) (page / CHUNK_PAGES);
        Chunk *c;
        int r;

        r = span_get(span, idx, NULL, &c);
        if (r < 0)
                return r;
        if (s->gap_span != span || s->gap_index != idx) {
                uint32_t g = c->gen == 0 || c->gen >= s->gen ? 1 : s->gen - c->gen;

                s->gap_span = span;
                s->gap_index = idx;
                s->gap_val = (uint8_t) (g > HEAT_MAX_AGE ? HEAT_MAX_AGE : g);
                c->gen = s->gen;
        }
        *ret_gap = s->gap_val;
        return 0;
}

static int units_push(Scanner *s, const Unit *u) {
        if (s->n_units == s->alloc_units) {
                size_t na = s->alloc_units ? s->alloc_units * 2 : 1024;
                Unit *nu = realloc(s->units, na * sizeof(*nu));

                if (!nu)
                        return -ENOMEM;
                s->units = nu;
                s->alloc_units = na;
        }
        s->units[s->n_units++] = *u;
        return 0;
}

static void slot_set(Span *span, uint64_t page, uint8_t v) {
        uint8_t *slot = span_slot(span, page, NULL);

        if (slot)
                *slot = v;
}

/* Virtual mode: reads the kpageflags of the batch's pages and folds them
 * into units (a large folio's pages into one), dropping what cannot be
 * tracked. */
static int units_form(Scanner *s) {
        _cleanup_free_ PfnRef *refs = NULL;
        _cleanup_free_ uint64_t *buf = NULL;
        size_t n = s->n_units, w = 0;
        bool open_compound = false;

        if (n == 0)
                return 0;
        refs = malloc(n * sizeof(*refs));
        buf = malloc(PIECE_PAGES * sizeof(*buf));
        if (!refs || !buf)
                return -ENOMEM;
        for (size_t i = 0; i < n; i++)
                refs[i] = (PfnRef) { .pfn = s->units[i].pfn, .idx = i };
        qsort_safe(refs, n, sizeof(*refs), cmp_ref);
        for (size_t i = 0; i < n;) {
                uint64_t first = refs[i].pfn, last = first;
                size_t j = i + 1;
                ssize_t got;

                while (j < n && refs[j].pfn - last <= FLAGS_GAP && refs[j].pfn - first < PIECE_PAGES)
                        last = refs[j++].pfn;
                got = kpage_pread(s->kpageflags_fd, buf, (last - first + 1) * 8, first * 8);
                if (got < 0)
                        return log_warning_errno((int) got, "idle_page: cannot read /proc/kpageflags: %m");
                for (size_t k = i; k < j; k++) {
                        uint64_t off = refs[k].pfn - first;

                        s->units[refs[k].idx].flags = (off + 1) * 8 <= (uint64_t) got ? buf[off] : 0;
                }
                i = j;
        }
        for (size_t i = 0; i < n; i++) {
                Unit u = s->units[i];
                Unit *cur = w > 0 ? &s->units[w - 1] : NULL;
                const uint64_t bad = KPAGE_BIT(KPAGE_NOPAGE) | KPAGE_BIT(KPAGE_ZERO_PAGE) |
                                     KPAGE_BIT(KPAGE_HUGE) | KPAGE_BIT(KPAGE_SLAB) | KPAGE_BIT(KPAGE_BUDDY) |
                                     KPAGE_BIT(KPAGE_OFFLINE);

                if (open_compound && cur && (u.flags & KPAGE_BIT(KPAGE_COMPOUND_TAIL)) && u.span == cur->span &&
                    u.page == cur->page + cur->n_pages && u.pfn == cur->pfn + cur->n_pages) {
                        cur->n_pages++;
                        continue;
                }
                if (!(u.flags & KPAGE_BIT(KPAGE_LRU)) || (u.flags & bad)) {
                        slot_set(u.span, u.page, IDLE_AGE_ABSENT);
                        open_compound = false;
                        continue;
                }
                open_compound = u.flags & (KPAGE_BIT(KPAGE_COMPOUND_HEAD) | KPAGE_BIT(KPAGE_COMPOUND_TAIL));
                s->units[w++] = u;
        }
        s->n_units = w;
        return 0;
}

static int out_add(Out *o, const ScanRange *r) {
        ScanRange *last = o->n > 0 ? &o->r[o->n - 1] : NULL;

        if (last && last->kind == r->kind && last->pid == r->pid && last->age == r->age && last->tier == r->tier &&
            last->node == r->node && last->end == r->start) {
                last->end = r->end;
                return 0;
        }
        if (o->n == o->alloc) {
                size_t na = o->alloc ? o->alloc * 2 : 64;
                ScanRange *nr = realloc(o->r, na * sizeof(*nr));

                if (!nr)
                        return -ENOMEM;
                o->r = nr;
                o->alloc = na;
        }
        o->r[o->n++] = *r;
        return 0;
}

static int classify(Scanner *s, const Unit *u, uint8_t age) {
        uint64_t bytes = (uint64_t) u->n_pages * IDLE_PAGE_SIZE;
        int node = node_span_find(s->nodes, s->n_nodes, u->pfn), tier = -1;
        TenantHeat *h = &s->heat[u->target];
        const TopologyNode *tn;

        if (node >= 0 && s->opts.topology && (tn = topology_node(s->opts.topology, node)))
                tier = tn->tier;
        h->tracked_bytes += bytes;
        if (tier >= 0 && tier < HEAT_MAX_TIERS)
                h->heat.bytes[tier][age] += bytes;
        return out_add(&s->out[u->target], &(ScanRange) {
                .kind = s->physical ? SCAN_RANGE_PADDR : SCAN_RANGE_VADDR,
                .age = age,
                .tier = (int8_t) tier,
                .node = (int8_t) node,
                .pid = u->pid,
                .start = u->addr,
                .end = u->addr + bytes,
                .nr_accesses = age == 0,
        });
}

/* An unmapped page of the sweep: bytes by tier in its tenant's sweep,
 * hot (accessed since the last visit) or cold; no range. */
static int classify_unmapped(Scanner *s, const Unit *u, uint8_t age) {
        uint64_t bytes = (uint64_t) u->n_pages * IDLE_PAGE_SIZE;
        int node = node_span_find(s->nodes, s->n_nodes, u->pfn), tier = -1;
        IdleCursor *c = s->out[u->target].cur;
        const TopologyNode *tn;

        if (node >= 0 && s->opts.topology && (tn = topology_node(s->opts.topology, node)))
                tier = tn->tier;
        if (!c || tier < 0 || tier >= HEAT_MAX_TIERS)
                return 0;
        if (age == 0)
                c->unmapped.hot[tier] += bytes;
        else
                c->unmapped.cold[tier] += bytes;
        return 0;
}

/* Reads the idle bits of the batch's units, updates and reports their
 * ages, and sets their bits again. */
static int batch_process(Scanner *s) {
        _cleanup_free_ PfnRef *refs = NULL;
        _cleanup_free_ uint64_t *pfns = NULL, *words = NULL, *masks = NULL, *vals = NULL;
        _cleanup_free_ uint32_t *slot = NULL, *uslot = NULL;
        _cleanup_free_ IdleRun *runs = NULL;
        size_t n, nw, nr;
        int r;

        if (!s->physical && !s->in_sweep) {
                r = units_form(s);
                if (r < 0)
                        return r;
        }
        n = s->n_units;
        if (n == 0)
                return 0;
        refs = malloc(n * sizeof(*refs));
        pfns = malloc(n * sizeof(*pfns));
        words = malloc(n * sizeof(*words));
        masks = malloc(n * sizeof(*masks));
        vals = calloc(n, sizeof(*vals));
        slot = malloc(n * sizeof(*slot));
        uslot = malloc(n * sizeof(*uslot));
        runs = malloc(n * sizeof(*runs));
        if (!refs || !pfns || !words || !masks || !vals || !slot || !uslot || !runs)
                return -ENOMEM;
        for (size_t i = 0; i < n; i++)
                refs[i] = (PfnRef) { .pfn = s->units[i].pfn, .idx = i };
        if (!s->physical && !s->in_sweep) /* physical walks collect in PFN order already */
                qsort_safe(refs, n, sizeof(*refs), cmp_ref);
        for (size_t i = 0; i < n; i++)
                pfns[i] = refs[i].pfn;
        nw = idle_bitmap_words(pfns, n, words, masks, slot);
        for (size_t i = 0; i < n; i++)
                uslot[refs[i].idx] = slot[i];
        nr = idle_word_runs(words, nw, RUN_MAX, runs);

        for (size_t i = 0; i < nr; i++) {
                ssize_t got = kpage_pread(s->bitmap_fd, vals + runs[i].first, runs[i].n * 8, words[runs[i].first] * 8);

                if (got < 0)
                        return log_warning_errno((int) got, "idle_page: cannot read the idle bitmap: %m");
                /* past the last PFN the kernel reads nothing: not idle */
        }
        for (size_t i = 0; i < n; i++) {
                Unit *u = &s->units[i];
                bool idle = (vals[uslot[i]] >> (u->pfn % 64)) & 1;
                uint8_t *a = span_slot(u->span, u->page, NULL);
                IdleCursor *c;

                if (!a)
                        continue; /* cannot happen: visiting created the chunk */
                c = s->out[u->target].cur;
                if (*a > HEAT_MAX_AGE) {
                        *a = 0; /* first visit (or it was a tail): armed now, classified next time */
                        if (c && u->unmapped)
                                c->unmapped.armed += (uint64_t) u->n_pages * IDLE_PAGE_SIZE;
                        else if (c)
                                c->armed += (uint64_t) u->n_pages * IDLE_PAGE_SIZE;
                } else {
                        *a = idle_age_update(*a, idle, u->gap);
                        r = u->unmapped ? classify_unmapped(s, u, *a) : classify(s, u, *a);
                        if (r < 0)
                                return r;
                        s->n_classified++;
                        if (c && u->unmapped)
                                c->unmapped.classified += (uint64_t) u->n_pages * IDLE_PAGE_SIZE;
                        else if (c)
                                c->classified += (uint64_t) u->n_pages * IDLE_PAGE_SIZE;
                }
                for (uint32_t k = 1; k < u->n_pages; k++)
                        slot_set(u->span, u->page + k, IDLE_AGE_COVERED);
        }
        for (size_t i = 0; i < nr; i++) {
                ssize_t put = pwrite(s->bitmap_fd, masks + runs[i].first, runs[i].n * 8,
                                     (off_t) (words[runs[i].first] * 8));

                if (put < 0 && errno != ENXIO && errno != EINVAL)
                        return log_warning_errno(-errno, "idle_page: cannot write the idle bitmap: %m");
        }
        s->n_units = 0;
        s->gap_span = NULL;
        return 0;
}

/* ---- pacing ------------------------------------------------------------ */

static void pace_start(Scanner *s) {
        s->cpu0 = s->step_cpu0 = clock_ns(CLOCK_THREAD_CPUTIME_ID);
        s->wall0 = clock_ns(CLOCK_MONOTONIC);
        s->quiet_pieces = 0;
        s->step_unchecked = false;
        s->deadline_ns = s->opts.period_ms > 0 ? s->opts.period_ms * 900000u : UINT64_MAX;
        if (s->opts.cpu_budget_permille == 0)
                s->batch_cap = BATCH_MAX;
        else if (s->est_unit_ns == 0)
                s->batch_cap = 256;
        else {
                /* about an eighth of the period's CPU allowance per batch */
                uint64_t allow = s->opts.period_ms * 1000000u / 1000u * s->opts.cpu_budget_permille;
                uint64_t cap = allow / 8 / s->est_unit_ns;

                s->batch_cap = cap < BATCH_MIN ? BATCH_MIN : cap > BATCH_MAX ? BATCH_MAX : (size_t) cap;
        }
}

/* After a step of work: sleeps (in slices) while the scan's CPU time is
 * above its budget of the wall time, and says whether to stop because
 * the next step would end past the deadline. */
static bool pace_should_stop(Scanner *s) {
        uint64_t cpu_now = clock_ns(CLOCK_THREAD_CPUTIME_ID), cpu = cpu_now - s->cpu0;
        uint64_t step = cpu_now - s->step_cpu0, wall = clock_ns(CLOCK_MONOTONIC) - s->wall0;
        uint32_t pm = s->opts.cpu_budget_permille;

        s->step_cpu0 = cpu_now;
        s->est_step_ns = step > s->est_step_ns / 2 ? step : s->est_step_ns / 2;
        if (pm == 0)
                return wall >= s->deadline_ns;
        for (;;) {
                uint64_t want = cpu * 1000u / pm, slice;
                struct timespec ts;

                if (want <= wall || wall >= s->deadline_ns)
                        break;
                slice = want - wall;
                if (slice > 20000000u)
                        slice = 20000000u;
                if (slice > s->deadline_ns - wall)
                        slice = s->deadline_ns - wall;
                ts = (struct timespec) { .tv_sec = 0, .tv_nsec = (long) slice };
                nanosleep(&ts, NULL);
                wall = clock_ns(CLOCK_MONOTONIC) - s->wall0;
        }
        s->step_cpu0 = clock_ns(CLOCK_THREAD_CPUTIME_ID);
        return wall + s->est_step_ns * 1000u / pm > s->deadline_ns;
}

/* Processes the pending batch when full (or FORCE), measuring its cost
 * per unit for the batch size of budgeted scans. */
static int batch_maybe(Scanner *s, bool force) {
        uint64_t c0;
        size_t n = s->n_units;
        int r;

        if (n == 0 || (!force && n < s->batch_cap))
                return 0;
        c0 = clock_ns(CLOCK_THREAD_CPUTIME_ID);
        r = batch_process(s);
        if (r < 0)
                return r;
        if (n >= BATCH_MIN) {
                uint64_t per = (clock_ns(CLOCK_THREAD_CPUTIME_ID) - c0) / n + 1;

                s->est_unit_ns = s->est_unit_ns ? (s->est_unit_ns + per) / 2 : per;
        }
        return 1;
}

/* ---- virtual mode ------------------------------------------------------ */

static bool errno_gone(int r) {
        return r == -ENOENT || r == -ESRCH;
}

#define VISIT_GONE 2 /* the address space went away (the process exited) */
#define VISIT_FAILED 3 /* the rest of the process could not be visited */

/* Marks SPAN's pages [FIRST, END) absent (not present, or no longer),
 * visiting only the chunks that exist there. */
static void span_absent(Span *span, uint64_t first, uint64_t end) {
        if (first >= end)
                return;
        for (size_t i = span_lower(span, (uint32_t) (first / CHUNK_PAGES), NULL);
             i < span->n && (uint64_t) span->c[i].index * CHUNK_PAGES < end; i++) {
                uint64_t base = (uint64_t) span->c[i].index * CHUNK_PAGES;
                uint64_t a = first > base ? first - base : 0, b = end - base < CHUNK_PAGES ? end - base : CHUNK_PAGES;

                memset(span->c[i].age + a, IDLE_AGE_ABSENT, (size_t) (b - a));
        }
}

/* Reads the pagemap of VMA over [VA, END) in pieces, queueing the present
 * pages for the batches. Returns 1 when the scan must stop (the cursor is
 * set), VISIT_GONE when the address space is gone, 0 when done. */
static int visit_pieces(Scanner *s, int fd, uint32_t target, pid_t pid, Vma *vma, uint64_t va, uint64_t end) {
        int r;

        while (va < end) {
                uint64_t np = (idle_piece_end(va, end) - va) / IDLE_PAGE_SIZE, page0 = (va - vma->start) / IDLE_PAGE_SIZE;
                size_t hint = 0;
                ssize_t got;

                got = kpage_pread(fd, s->buf, np * 8, va / IDLE_PAGE_SIZE * 8);
                if (got <= 0) {
                        /* 0: the address space is gone (exit) */
                        log_debug("idle_page: pid %d: pagemap read ended (%s): gone", (int) pid,
                                  got < 0 ? strerror((int) -got) : "EOF");
                        return VISIT_GONE;
                }
                np = (uint64_t) got / 8;
                for (uint64_t i = 0; i < np; i++) {
                        uint64_t pfn;

                        if (pagemap_pfn(s->buf[i], &pfn)) {
                                Unit u = { .span = &vma->span, .page = page0 + i, .addr = va + i * IDLE_PAGE_SIZE,
                                           .pfn = pfn, .n_pages = 1, .target = target, .pid = pid };

                                r = chunk_visit(s, &vma->span, u.page, &u.gap);
                                if (r < 0)
                                        return r;
                                r = units_push(s, &u);
                                if (r < 0)
                                        return r;
                        } else {
                                uint8_t *a = span_slot(&vma->span, page0 + i, &hint);

                                if (a)
                                        *a = IDLE_AGE_ABSENT;
                        }
                }
                va += np * IDLE_PAGE_SIZE;
                r = batch_maybe(s, false);
                if (r < 0)
                        return r;
                /* a step: a batch, or many pieces without one (a sparse
                 * mapping read whole) */
                if (r == 0 && ++s->quiet_pieces < QUIET_PIECES)
                        continue;
                s->quiet_pieces = 0;
                if (va >= s->proc_end) {
                        /* the process is done: the caller checks, if
                         * more is to come (stopping here would only
                         * leave its end for the next period) */
                        s->step_unchecked = true;
                        continue;
                }
                s->step_unchecked = false;
                if (pace_should_stop(s)) {
                        IdleCursor *c = s->out[target].cur;

                        if (c) {
                                c->pid = pid;
                                c->addr = va;
                        }
                        return 1;
                }
        }
        return 0;
}

/* VMA from VA with PAGEMAP_SCAN: pagemap is read over the ranges of
 * present pages only (a range cut by a full buffer is joined to its rest
 * first), and the pages between them are marked absent. Returns like
 * visit_pieces(). */
static int visit_present(Scanner *s, int fd, uint32_t target, pid_t pid, Vma *vma, uint64_t va) {
        uint64_t at = va, done = va, rs = 0, re = 0; /* [rs, re): a present range not read yet */
        int r;

        while (at < vma->end) {
                uint64_t next = 0;
                int n = pagemap_present(fd, at, vma->end, s->regions, PM_REGIONS, &next);

                if (n == -ENOMEM)
                        return n;
                if (n == -ENOTTY || n == -EINVAL) {
                        /* the probe at open said otherwise; not again */
                        log_debug("idle_page: pid %d: PAGEMAP_SCAN failed (%s): reading pagemap over whole mappings "
                                  "from now on", (int) pid, strerror(-n));
                        s->pm_scan = false;
                        return visit_pieces(s, fd, target, pid, vma, done, vma->end);
                }
                if (n < 0) {
                        log_debug("idle_page: pid %d: PAGEMAP_SCAN failed (%s): skipping the process this period",
                                  (int) pid, strerror(-n));
                        return errno_gone(n) ? VISIT_GONE : VISIT_FAILED;
                }
                for (int i = 0; i < n; i++) {
                        uint64_t a = s->regions[i].start > at ? s->regions[i].start : at;
                        uint64_t b = s->regions[i].end < vma->end ? s->regions[i].end : vma->end;

                        if (a >= b)
                                continue;
                        if (re > rs && a == re) {
                                re = b;
                                continue;
                        }
                        if (re > rs) {
                                r = visit_pieces(s, fd, target, pid, vma, rs, re);
                                if (r != 0)
                                        return r;
                                done = re;
                        }
                        span_absent(&vma->span, (done - vma->start) / IDLE_PAGE_SIZE, (a - vma->start) / IDLE_PAGE_SIZE);
                        done = rs = a;
                        re = b;
                }
                at = next;
        }
        if (re > rs) {
                r = visit_pieces(s, fd, target, pid, vma, rs, re);
                if (r != 0)
                        return r;
                done = re;
        }
        span_absent(&vma->span, (done - vma->start) / IDLE_PAGE_SIZE, (vma->end - vma->start) / IDLE_PAGE_SIZE);
        return 0;
}

/* Part of TARGET's pass could not be visited: not exact. */
static void visit_failed(Scanner *s, uint32_t target) {
        if (s->out[target].cur)
                s->out[target].cur->failed = true;
}

/* Visits PID's pages from address FROM on. Returns 1 when the scan must
 * stop (the cursor is set), 0 when the process is done (or gone). */
static int visit_proc(Scanner *s, uint32_t target, pid_t pid, uint64_t from) {
        _cleanup_close_ int fd = -1;
        _cleanup_free_ char *rel = NULL;
        Proc *p;
        int r;

        r = proc_get(s, pid, &p);
        if (r < 0)
                return r;
        p->gen_seen = s->gen;
        p->tenant = s->out[target].cur ? s->out[target].cur->cgroup_id : 0;
        r = proc_read_maps(s, p);
        if (r == -ENOMEM)
                return r;
        if (r < 0) {
                if (errno_gone(r))
                        log_debug("idle_page: pid %d is gone", (int) pid);
                else {
                        log_warning_errno(r, "idle_page: cannot read the maps of pid %d, skipping it: %m", (int) pid);
                        visit_failed(s, target);
                }
                r = batch_maybe(s, true); /* the batch may point into its state */
                if (r < 0)
                        return r;
                proc_drop(s, pid);
                return 0;
        }
        s->proc_end = p->n_vmas > 0 ? p->vmas[p->n_vmas - 1].end : 0;
        if (asprintf(&rel, "/%d/pagemap", (int) pid) < 0)
                return -ENOMEM;
        fd = open_root(s->opts.procfs_root, rel, O_RDONLY, NULL);
        if (fd < 0) {
                log_debug("idle_page: pid %d: cannot open its pagemap (gone?): %s", (int) pid, strerror(-fd));
                if (!errno_gone(fd))
                        visit_failed(s, target);
                return 0;
        }
        for (size_t v = 0; v < p->n_vmas; v++) {
                Vma *vma = &p->vmas[v];
                uint64_t va = vma->start > from ? vma->start : from;

                if (va >= vma->end)
                        continue;
                r = s->pm_scan ? visit_present(s, fd, target, pid, vma, va)
                               : visit_pieces(s, fd, target, pid, vma, va, vma->end);
                if (r == VISIT_FAILED)
                        visit_failed(s, target);
                if (r == VISIT_GONE || r == VISIT_FAILED)
                        return 0;
                if (r != 0)
                        return r;
        }
        return 0;
}

enum {
        TARGET_STOPPED = 1,     /* the scan stops within the target's pass (its cursor is set) */
        TARGET_ENDED_STOP,      /* the pass ended, and the scan stops there */
};

/* Target T's share of the scan: its open pass goes on from its cursor, or
 * a pass begins. Returns 0 when the pass got to its end and the scan goes
 * on (MORE: other targets wait after this one), or TARGET_*. */
static int visit_target(Scanner *s, const ScanTarget *target, uint32_t t, bool more) {
        _cleanup_free_ uint32_t *seen = NULL;
        _cleanup_free_ IdleVisit *todo = NULL;
        IdleCursor *c = s->out[t].cur;
        size_t n = target->n_pids, nv;
        int r;

        s->out[t].visited = true;
        if (c->pass_gen == 0) {
                *c = (IdleCursor) { .cgroup_id = c->cgroup_id, .given_gen = c->given_gen, .pass_gen = s->gen,
                                    .unmapped = c->unmapped };
                s->out[t].began = true;
        }
        if (n > 0) {
                seen = malloc(n * sizeof(*seen));
                todo = malloc(n * sizeof(*todo));
                if (!seen || !todo)
                        return -ENOMEM;
        }
        for (size_t j = 0; j < n; j++) {
                const Proc *p = proc_find(s, target->pids[j]);

                seen[j] = p ? p->gen_seen : 0;
        }
        nv = idle_pass_todo(target->pids, seen, n, s->gen, c, todo);
        for (size_t i = 0; i < nv; i++) {
                const Proc *p = proc_find(s, todo[i].pid);

                if (p && p->gen_seen == s->gen)
                        continue; /* listed by another target too, and visited for it meanwhile */
                r = visit_proc(s, t, todo[i].pid, todo[i].from);
                if (r != 0)
                        return r;
                c->pid = 0;
                c->addr = 0;
                r = batch_maybe(s, false);
                if (r < 0)
                        return r;
                if ((r > 0 || s->step_unchecked) && (i + 1 < nv || more)) {
                        s->step_unchecked = false;
                        if (pace_should_stop(s))
                                return i + 1 < nv ? TARGET_STOPPED : TARGET_ENDED_STOP;
                }
        }
        return 0;
}

/* Target T's pass got to its end: the next one begins at its next turn. */
static void visit_target_done(Scanner *s, uint32_t t) {
        IdleCursor *c = s->out[t].cur;

        s->out[t].ended = true;
        c->pass_gen = 0;
        c->pid = 0;
        c->addr = 0;
}

/* Visits the targets in the order given, each from its own cursor, until
 * the budget stops the scan. */
static int scan_virtual(Scanner *s, const ScanTarget *targets, size_t n) {
        int r;

        r = procs_prune(s, targets, n);
        if (r < 0)
                return r;
        for (size_t t = 0; t < n; t++) {
                if (!s->out[t].cur)
                        continue; /* a cgroup given twice: the first target scans it */
                r = visit_target(s, &targets[t], (uint32_t) t, t + 1 < n);
                if (r < 0)
                        return r;
                if (r != TARGET_STOPPED)
                        visit_target_done(s, (uint32_t) t);
                if (r > 0)
                        return 1;
        }
        return 0;
}

/* ---- physical mode ----------------------------------------------------- */

/* The targets' memcgs (kpage.h), with each one's ids_hash. */
static int ids_build(Scanner *s, const ScanTarget *targets, size_t n) {
        _cleanup_free_ uint64_t *hash = calloc(n ? n : 1, sizeof(*hash));
        int r;

        if (!hash)
                return -ENOMEM;
        r = kpage_memcgs_build(s->opts.cgroup_mount, targets, n, &s->memcgs, hash);
        if (r < 0)
                return r;
        for (size_t t = 0; t < n; t++)
                s->out[t].ids_hash = hash[t];
        return 0;
}

/* A physical pass begins at PFN 0 for every target given now; the
 * cursors of the others are in no pass. */
static void phys_begin(Scanner *s, size_t n) {
        s->phys_resume = true;
        s->cur_pfn = 0;
        s->phys_gen = s->gen;
        for (size_t i = 0; i < s->cursors.n; i++)
                s->cursors.c[i].pass_gen = 0;
        for (size_t t = 0; t < n; t++) {
                IdleCursor *c = s->out[t].cur;

                if (!c)
                        continue;
                *c = (IdleCursor) { .cgroup_id = c->cgroup_id, .given_gen = c->given_gen, .pass_gen = s->gen,
                                    .ids_hash = s->out[t].ids_hash };
                s->out[t].began = true;
        }
}

/* A physical pass goes on: a target in it that was left out of this scan,
 * or whose memcg ids changed, misses part of it. */
static void phys_check(Scanner *s, size_t n) {
        for (size_t i = 0; i < s->cursors.n; i++) {
                IdleCursor *c = &s->cursors.c[i];

                if (c->pass_gen == s->phys_gen && c->given_gen != s->gen)
                        c->failed = true;
        }
        for (size_t t = 0; t < n; t++) {
                IdleCursor *c = s->out[t].cur;

                if (c && c->pass_gen == s->phys_gen && c->ids_hash != s->out[t].ids_hash)
                        c->failed = true;
        }
}

/* The physical pass got to the last PFN: it ends for every target in it
 * (those given after it began had fragments, not a pass). */
static void phys_end(Scanner *s, size_t n) {
        for (size_t t = 0; t < n; t++) {
                IdleCursor *c = s->out[t].cur;

                if (c && c->pass_gen == s->phys_gen) {
                        s->out[t].ended = true;
                        c->pass_gen = 0;
                }
        }
        s->phys_resume = false;
        s->cur_pfn = 0;
}

/* The memcg inode of the NP pages at PFN whose flags (s->buf) make them
 * candidates, into s->buf2 (0 for the others): kpagecgroup is read only
 * over runs of candidates, so free and kernel memory cost one read. */
static int read_memcgs(Scanner *s, uint64_t pfn, uint64_t np, uint64_t bad) {
        memset(s->buf2, 0, np * sizeof(*s->buf2));
        for (uint64_t i = 0; i < np;) {
                uint64_t j, last;
                ssize_t got;

                if (!(s->buf[i] & KPAGE_BIT(KPAGE_LRU)) || (s->buf[i] & bad)) {
                        i++;
                        continue;
                }
                last = i;
                for (j = i + 1; j < np && j - last <= FLAGS_GAP; j++)
                        if ((s->buf[j] & KPAGE_BIT(KPAGE_LRU)) && !(s->buf[j] & bad))
                                last = j;
                got = kpage_pread(s->kpagecgroup_fd, s->buf2 + i, (last - i + 1) * 8, (pfn + i) * 8);
                if (got < 0)
                        return log_warning_errno((int) got, "idle_page: cannot read /proc/kpagecgroup: %m");
                i = last + 1;
        }
        return 0;
}

/* Walks the PFNs from s->cur_pfn to the last, queueing the candidates
 * (physical mode: LRU pages of the targets' memcgs; the unmapped sweep:
 * those no process maps) for the batches. Returns 1 when the budget stops
 * it (s->cur_pfn is where to go on), 0 at the last PFN. */
static int phys_walk(Scanner *s, bool unmapped) {
        const uint64_t bad = KPAGE_BIT(KPAGE_NOPAGE) | KPAGE_BIT(KPAGE_ZERO_PAGE) | KPAGE_BIT(KPAGE_HUGE) |
                             KPAGE_BIT(KPAGE_SLAB) | KPAGE_BIT(KPAGE_BUDDY) | KPAGE_BIT(KPAGE_OFFLINE) |
                             KPAGE_BIT(KPAGE_COMPOUND_TAIL) | (unmapped ? KPAGE_BIT(KPAGE_MMAP) : 0);
        bool open_unit = false;
        uint64_t pfn = s->cur_pfn;
        int r;

        for (;;) {
                ssize_t got;
                size_t hint = 0;
                uint64_t np;

                got = kpage_pread(s->kpageflags_fd, s->buf, PHYS_CHUNK * 8, pfn * 8);
                if (got < 0)
                        return log_warning_errno((int) got, "idle_page: cannot read /proc/kpageflags: %m");
                np = (uint64_t) got / 8;
                if (np == 0)
                        break; /* past the last PFN */
                r = read_memcgs(s, pfn, np, bad);
                if (r < 0)
                        return r;
                for (uint64_t i = 0; i < np; i++) {
                        uint64_t f = s->buf[i], p = pfn + i;
                        Unit *cur = s->n_units > 0 ? &s->units[s->n_units - 1] : NULL;
                        int t;

                        if (open_unit && cur && (f & KPAGE_BIT(KPAGE_COMPOUND_TAIL)) &&
                            p == cur->pfn + cur->n_pages) {
                                Chunk *c;

                                /* the tail's slot will say "covered by the head" */
                                r = span_get(&s->phys, (uint32_t) (p / CHUNK_PAGES), &hint, &c);
                                if (r < 0)
                                        return r;
                                cur->n_pages++;
                                continue;
                        }
                        open_unit = false;
                        t = (f & KPAGE_BIT(KPAGE_LRU)) && !(f & bad) ? kpage_memcgs_target(&s->memcgs, s->buf2[i]) : -1;
                        if (t < 0) {
                                uint8_t *a = span_slot(&s->phys, p, &hint);

                                if (a)
                                        *a = IDLE_AGE_ABSENT;
                                continue;
                        }
                        Unit u = { .span = &s->phys, .page = p, .addr = p * IDLE_PAGE_SIZE, .pfn = p,
                                   .n_pages = 1, .target = (uint32_t) t, .unmapped = unmapped };

                        r = chunk_visit(s, &s->phys, p, &u.gap);
                        if (r < 0)
                                return r;
                        r = units_push(s, &u);
                        if (r < 0)
                                return r;
                        open_unit = true;
                }
                pfn += np;
                /* batches end on chunk boundaries, where no folio continues */
                r = batch_maybe(s, false);
                if (r < 0)
                        return r;
                if (r > 0)
                        open_unit = false;
                if (np < PHYS_CHUNK)
                        break;
                if (pace_should_stop(s)) {
                        r = batch_maybe(s, true);
                        if (r < 0)
                                return r;
                        s->cur_pfn = pfn;
                        return 1;
                }
        }
        return 0;
}

static int scan_physical(Scanner *s, const ScanTarget *targets, size_t n) {
        int r;

        r = ids_build(s, targets, n);
        if (r < 0)
                return r;
        if (s->phys_resume)
                phys_check(s, n);
        else
                phys_begin(s, n);
        if (s->memcgs.n == 0) {
                /* no target has a memcg left: nothing (else) to visit */
                span_done(&s->phys);
                phys_end(s, n);
                return 0;
        }
        r = phys_walk(s, false);
        if (r != 0)
                return r;
        phys_end(s, n);
        return 0;
}

/* ---- the unmapped sweep (virtual mode, HEAT_UNMAPPED) ------------------ */

/* Whether MGLRU is on now (s->mglru), said once per change: it hides
 * read(2)/write(2) accesses of unmapped pages from idle page tracking. */
static void sweep_check_mglru(Scanner *s) {
        kpage_check_mglru(s->opts.sysfs_root, &s->mglru, "idle_page", "idle page tracking");
}

/* A sweep begins at PFN 0 for every target given now; the others are in
 * none. */
static void sweep_begin(Scanner *s, size_t n) {
        s->phys_resume = true;
        s->cur_pfn = 0;
        s->phys_gen = s->gen;
        for (size_t i = 0; i < s->cursors.n; i++)
                s->cursors.c[i].unmapped.pass_gen = 0;
        for (size_t t = 0; t < n; t++) {
                IdleCursor *c = s->out[t].cur;

                if (!c)
                        continue;
                c->unmapped = (IdleSweep) { .pass_gen = s->gen, .ids_hash = s->out[t].ids_hash };
                s->out[t].ubegan = true;
        }
}

/* The sweep goes on: a tenant in it that this scan left out, or whose
 * memcg ids changed, misses part of it. */
static void sweep_check(Scanner *s, size_t n) {
        for (size_t i = 0; i < s->cursors.n; i++) {
                IdleCursor *c = &s->cursors.c[i];

                if (c->unmapped.pass_gen == s->phys_gen && c->given_gen != s->gen)
                        c->unmapped.failed = true;
        }
        for (size_t t = 0; t < n; t++) {
                IdleCursor *c = s->out[t].cur;

                if (c && c->unmapped.pass_gen == s->phys_gen && c->unmapped.ids_hash != s->out[t].ids_hash)
                        c->unmapped.failed = true;
        }
}

static void sweep_end(Scanner *s, size_t n) {
        for (size_t t = 0; t < n; t++) {
                IdleCursor *c = s->out[t].cur;

                if (c && c->unmapped.pass_gen == s->phys_gen) {
                        s->out[t].uended = true;
                        c->unmapped.pass_gen = 0;
                }
        }
        s->phys_resume = false;
        s->cur_pfn = 0;
}

/* The unmapped sweep's share of the scan: from where it stopped (or PFN
 * 0, a new sweep) on, until the budget stops it (1) or the last PFN (0). */
static int scan_unmapped(Scanner *s, const ScanTarget *targets, size_t n) {
        int r;

        if (!s->phys_resume) {
                sweep_check_mglru(s);
                if (s->mglru == 1) {
                        span_done(&s->phys);
                        return 0;
                }
        }
        r = ids_build(s, targets, n);
        if (r < 0)
                return r;
        if (s->phys_resume)
                sweep_check(s, n);
        else
                sweep_begin(s, n);
        if (s->memcgs.n == 0) {
                span_done(&s->phys);
                sweep_end(s, n);
                return 0;
        }
        s->in_sweep = true;
        r = phys_walk(s, true);
        if (r >= 0) {
                int q = batch_maybe(s, true);

                if (q < 0)
                        r = q;
        }
        s->in_sweep = false;
        if (r != 0)
                return r;
        sweep_end(s, n);
        return 0;
}

/* ---- ScannerOps -------------------------------------------------------- */

/* TenantHeat.pass of each target, once the last batch is processed. */
static void pass_flags(Scanner *s, const ScanTarget *targets, size_t n, TenantHeat *out) {
        for (size_t t = 0; t < n; t++) {
                const Out *o = &s->out[t];
                unsigned pass = 0;

                if (o->visited || o->began || o->ended)
                        pass |= HEAT_PASS_VISITED;
                if (o->began)
                        pass |= HEAT_PASS_BEGIN;
                if (o->ended) {
                        pass |= HEAT_PASS_END;
                        if (idle_pass_exact(o->cur->armed, o->cur->classified, o->cur->failed))
                                pass |= HEAT_PASS_EXACT;
                }
                if (o->uended && o->cur &&
                    idle_pass_exact(o->cur->unmapped.armed, o->cur->unmapped.classified, o->cur->unmapped.failed)) {
                        pass |= HEAT_PASS_UNMAPPED;
                        memcpy(out[t].unmapped_hot, o->cur->unmapped.hot, sizeof(out[t].unmapped_hot));
                        memcpy(out[t].unmapped_cold, o->cur->unmapped.cold, sizeof(out[t].unmapped_cold));
                }
                if (o->uended)
                        log_debug("idle_page: %s: unmapped sweep ended, %s: %" PRIu64 " KiB classified, %" PRIu64
                                  " KiB armed%s", targets[t].cgroup_path,
                                  pass & HEAT_PASS_UNMAPPED ? "exact" : "not exact",
                                  o->cur->unmapped.classified / 1024, o->cur->unmapped.armed / 1024,
                                  o->cur->unmapped.failed ? ", part of it not visited" : "");
                if (s->unmapped && s->mglru != 1)
                        pass |= HEAT_PASS_SWEEPING;
                out[t].pass = pass;
                if (o->ended)
                        log_debug("idle_page: %s: pass ended, %s: %" PRIu64 " KiB classified, %" PRIu64 " KiB armed%s",
                                  targets[t].cgroup_path, pass & HEAT_PASS_EXACT ? "exact" : "not exact",
                                  o->cur->classified / 1024, o->cur->armed / 1024,
                                  o->cur->failed ? ", part of it not visited" : "");
        }
}

/* Each target's cursor (created for a tenant given for the first time,
 * NULL for a second target of the same cgroup); cursors of tenants not
 * given for too long are dropped. */
static int cursors_prepare(Scanner *s, const ScanTarget *targets, size_t n) {
        int r;

        for (size_t t = 0; t < n; t++) {
                IdleCursor *c;

                r = idle_cursors_get(&s->cursors, targets[t].cgroup_id, &c);
                if (r < 0)
                        return r;
                s->out[t].cur = c->given_gen == s->gen ? NULL : c; /* NULL: the second time; fixed below */
                c->given_gen = s->gen;
        }
        (void) idle_cursors_expire(&s->cursors, s->gen, IDLE_CURSOR_KEEP_SCANS);
        /* adding and dropping moved them: the pointers now */
        for (size_t t = 0; t < n; t++)
                if (s->out[t].cur)
                        s->out[t].cur = idle_cursors_find(&s->cursors, targets[t].cgroup_id);
        return 0;
}

/* Virtual mode with the unmapped sweep: the processes and the sweep take
 * turns at going first, so that neither starves when the budget does not
 * cover both in a period; the second goes on with what the first left. */
static int scan_both(Scanner *s, const ScanTarget *targets, size_t n) {
        bool sweep_first = s->sweep_first;
        int r;

        s->sweep_first = !s->sweep_first;
        r = sweep_first ? scan_unmapped(s, targets, n) : scan_virtual(s, targets, n);
        if (r != 0)
                return r;
        /* the first part's last batch, before units of the other kind */
        r = batch_maybe(s, true);
        if (r < 0)
                return r;
        return sweep_first ? scan_virtual(s, targets, n) : scan_unmapped(s, targets, n);
}

static int idle_scan(Scanner *s, const ScanTarget *targets, size_t n, TenantHeat *out) {
        _cleanup_free_ Out *o = NULL;
        int r, n_tiers = s->opts.topology ? s->opts.topology->n_tiers : 1;

        s->gen++;
        if (s->gen == 0)
                s->gen = 1;
        if (n > 0) {
                o = calloc(n, sizeof(*o));
                if (!o)
                        return -ENOMEM;
        }
        s->out = o;
        s->heat = out;
        s->n_targets = n;
        s->n_units = 0;
        s->n_classified = 0;
        s->gap_span = NULL;
        s->buf = malloc(PHYS_CHUNK * sizeof(*s->buf));
        s->buf2 = malloc(PHYS_CHUNK * sizeof(*s->buf2));
        r = s->buf && s->buf2 ? 0 : -ENOMEM;
        if (r >= 0)
                r = cursors_prepare(s, targets, n);
        if (r >= 0) {
                pace_start(s);
                if (s->physical)
                        r = scan_physical(s, targets, n);
                else if (!s->unmapped)
                        r = scan_virtual(s, targets, n);
                else
                        r = scan_both(s, targets, n);
        }
        if (r >= 0) {
                int q = batch_maybe(s, true);

                if (q < 0)
                        r = q;
        }
        if (log_get_max_level() >= LOG_LVL_DEBUG) {
                uint64_t cpu = clock_ns(CLOCK_THREAD_CPUTIME_ID) - s->cpu0, wall = clock_ns(CLOCK_MONOTONIC) - s->wall0;

                log_debug("idle_page: period %u: %s after %.1f ms CPU, %.1f ms wall; %u units, batch %zu%s", s->gen,
                          r > 0 ? "stopped at the budget" : "done", (double) cpu / 1e6, (double) wall / 1e6,
                          s->n_classified, s->batch_cap, r > 0 ? "; resuming there next period" : "");
                if (s->physical || s->unmapped)
                        log_debug("idle_page: %s cursor at PFN %" PRIu64 ", %zu memcg ids",
                                  s->physical ? "physical" : "unmapped sweep's", s->cur_pfn, s->memcgs.n);
        }
        if (r >= 0) {
                /* tidy the state of what was visited */
                for (size_t i = 0; i < s->n_procs; i++)
                        if (s->procs[i]->gen_seen == s->gen)
                                for (size_t v = 0; v < s->procs[i]->n_vmas; v++) {
                                        Vma *vma = &s->procs[i]->vmas[v];

                                        span_compact(&vma->span, (vma->end - vma->start) / IDLE_PAGE_SIZE);
                                }
                if (s->physical || s->unmapped)
                        span_compact(&s->phys, UINT64_MAX);
                pass_flags(s, targets, n, out);
                for (size_t i = 0; i < n && r >= 0; i++) {
                        r = heat_pick_candidates(&out[i], o[i].r, o[i].n, n_tiers, s->opts.max_candidates);
                        if (r >= 0 && (s->opts.flags & HEAT_WANT_RANGES)) {
                                free(out[i].ranges);
                                out[i].ranges = TAKE_PTR(o[i].r);
                                out[i].n_ranges = o[i].n;
                        }
                }
        }
        for (size_t i = 0; i < n; i++)
                free(o[i].r);
        free(s->units);
        s->units = NULL;
        s->n_units = s->alloc_units = 0;
        free(s->buf);
        free(s->buf2);
        s->buf = s->buf2 = NULL;
        kpage_memcgs_done(&s->memcgs);
        s->out = NULL;
        s->heat = NULL;
        if (r < 0) {
                /* what this scan visited may not all have been classified */
                for (size_t i = 0; i < s->cursors.n; i++)
                        if (s->cursors.c[i].given_gen == s->gen)
                                s->cursors.c[i].failed = s->cursors.c[i].unmapped.failed = true;
        }
        if (r < 0 && r != -ENOMEM)
                log_debug("idle_page: scan failed: %s", strerror(-r));
        return r < 0 ? r : 0;
}

static void span_memory(const Span *s, uint64_t *bytes, uint64_t *pages) {
        *bytes += s->alloc * sizeof(Chunk);
        for (size_t i = 0; i < s->n; i++)
                for (size_t k = 0; k < CHUNK_PAGES; k++)
                        *pages += s->c[i].age[k] != IDLE_AGE_ABSENT;
}

static void idle_memory(const Scanner *s, uint64_t *ret_bytes, uint64_t *ret_pages) {
        uint64_t bytes = sizeof(*s) + s->n_nodes * sizeof(*s->nodes) + s->alloc_procs * sizeof(*s->procs) +
                         s->cursors.alloc * sizeof(*s->cursors.c), pages = 0;

        for (size_t i = 0; i < s->n_procs; i++) {
                const Proc *p = s->procs[i];

                bytes += sizeof(*p) + p->n_vmas * sizeof(*p->vmas);
                for (size_t v = 0; v < p->n_vmas; v++)
                        span_memory(&p->vmas[v].span, &bytes, &pages);
        }
        span_memory(&s->phys, &bytes, &pages);
        *ret_bytes = bytes;
        *ret_pages = pages;
}

const ScannerOps scanner_idle_page_ops = {
        .name = "idle_page",
        .caps = SCANNER_CAP_RANGES | SCANNER_CAP_PHYSICAL | SCANNER_CAP_UNMAPPED,
        .needs = SCANNER_NEEDS_IDLE_PAGE,
        .arming_periods = 1,
        .open = idle_open,
        .scan = idle_scan,
        .memory = idle_memory,
        .close = idle_close,
};
