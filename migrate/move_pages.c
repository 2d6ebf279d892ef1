/* SPDX-License-Identifier: MIT */
/* The move_pages(2) mover (see mover.h). */
#include "mover.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <numa.h>
#include <numaif.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include "pagemap.h"
#include "util.h"

#define HUGE_SCAN_REGIONS 256
/* Not a status the kernel writes: an entry the kernel did not get to. */
#define STATUS_UNSET INT_MIN

int move_pages_query_self(int *ret_node) {
        long page = sysconf(_SC_PAGESIZE);
        void *pages[1];
        int status[1] = { -1 };
        char *buf;
        long r;

        buf = mmap(NULL, (size_t) page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        if (buf == MAP_FAILED)
                return -errno;
        buf[0] = 1; /* fault it in: an absent page reports -ENOENT */
        pages[0] = buf;
        /* nodes == NULL: report the node of each page, move nothing. */
        r = move_pages(0, 1, pages, NULL, status, 0);
        if (r < 0)
                r = -errno;
        munmap(buf, (size_t) page);
        if (r < 0)
                return (int) r;
        if (status[0] < 0)
                return status[0];
        *ret_node = status[0];
        return 0;
}

/* ---- pure helpers ------------------------------------------------------ */

const char *move_outcome_to_string(MoveOutcome o) {
        static const char *const names[_MOVE_OUTCOME_MAX] = {
                [MOVE_MOVED] = "moved",   [MOVE_ALREADY] = "already", [MOVE_BUSY] = "busy",
                [MOVE_ACCES] = "acces",   [MOVE_NOENT] = "noent",     [MOVE_FAULT] = "fault",
                [MOVE_NOMEM] = "nomem",   [MOVE_OTHER] = "other",
        };

        return o < _MOVE_OUTCOME_MAX ? names[o] : NULL;
}

MoveOutcome move_outcome_of(int status, int node, bool query) {
        if (status >= 0) {
                if (status == node)
                        return query ? MOVE_ALREADY : MOVE_MOVED;
                return MOVE_OTHER; /* query: elsewhere (to move); move: still elsewhere */
        }
        switch (status) {
        case -EBUSY:
                return MOVE_BUSY;
        case -EACCES:
                return MOVE_ACCES;
        case -ENOENT:
                return MOVE_NOENT;
        case -EFAULT:
                return MOVE_FAULT;
        case -ENOMEM:
                return MOVE_NOMEM;
        default:
                return MOVE_OTHER;
        }
}

static const MoveSpan *huge_find(const MoveSpan *huge, size_t n, uint64_t addr) {
        size_t lo = 0, hi = n;

        /* the first span that ends after addr */
        while (lo < hi) {
                size_t mid = lo + (hi - lo) / 2;

                if (huge[mid].end <= addr)
                        lo = mid + 1;
                else
                        hi = mid;
        }
        return lo < n ? &huge[lo] : NULL;
}

size_t move_units_fill(uint64_t *pos, uint64_t end, const MoveSpan *huge, size_t n_huge, uint64_t *budget_pages,
                       uint64_t *last_head, MoveUnit *out, size_t max, bool *ret_capped) {
        uint64_t p = *pos & ~(uint64_t) (MOVER_PAGE_SIZE - 1);
        size_t n = 0;

        *ret_capped = false;
        while (p < end && n < max) {
                const MoveSpan *s = huge ? huge_find(huge, n_huge, p) : NULL;
                uint64_t next_huge = s ? (s->start > p ? s->start : p) : UINT64_MAX;

                if (next_huge <= p) {
                        /* inside a THP span: its head, once */
                        uint64_t head = p & ~(uint64_t) (MOVER_HUGE_SIZE - 1);

                        if (!last_head || *last_head != head) {
                                if (*budget_pages < MOVER_HUGE_PAGES) {
                                        *ret_capped = true;
                                        break;
                                }
                                *budget_pages -= MOVER_HUGE_PAGES;
                                out[n++] = (MoveUnit) { .addr = head, .pages = MOVER_HUGE_PAGES };
                                if (last_head)
                                        *last_head = head;
                        }
                        p = head + MOVER_HUGE_SIZE;
                        continue;
                }
                /* base pages up to the next THP span */
                while (p < end && p < next_huge && n < max) {
                        if (*budget_pages < 1) {
                                *ret_capped = true;
                                goto out;
                        }
                        *budget_pages -= 1;
                        out[n++] = (MoveUnit) { .addr = p, .pages = 1 };
                        p += MOVER_PAGE_SIZE;
                }
        }
out:
        *pos = p < end ? p : end;
        return n;
}

void move_account(MovePagesResult *r, const MoveUnit *units, const int *status, size_t n, int node, bool query) {
        for (size_t i = 0; i < n; i++) {
                MoveOutcome o;

                if (status[i] == STATUS_UNSET)
                        o = MOVE_OTHER;
                else
                        o = move_outcome_of(status[i], node, query);
                if (query && status[i] >= 0 && o == MOVE_OTHER)
                        continue; /* elsewhere: to be moved, counted by the move */
                r->pages[o] += units[i].pages;
                if (o == MOVE_MOVED && units[i].pages == MOVER_HUGE_PAGES)
                        r->thp_moved++;
        }
        r->bytes_moved = r->pages[MOVE_MOVED] * MOVER_PAGE_SIZE;
        r->bytes_failed = (r->pages[MOVE_BUSY] + r->pages[MOVE_ACCES] + r->pages[MOVE_FAULT] +
                           r->pages[MOVE_NOMEM] + r->pages[MOVE_OTHER]) * MOVER_PAGE_SIZE;
}

/* ---- the mover --------------------------------------------------------- */

/* Whether PID is gone or on its way out: move_pages(2) answers EINVAL for
 * a task without an mm, which an exiting task is from exit_mm() on, before
 * it becomes a zombie. PF_EXITING (in the flags field of /proc/PID/stat)
 * is set before that. */
#define PF_EXITING_FLAG 0x4u

static bool process_gone(const char *procfs_root, pid_t pid) {
        _cleanup_free_ char *path = NULL, *line = NULL;
        unsigned long long flags;
        const char *p;
        char state;

        if (kill(pid, 0) < 0 && errno == ESRCH)
                return true;
        if (asprintf(&path, "/%d/stat", (int) pid) < 0)
                return false;
        if (read_one_line(procfs_root ? procfs_root : "/proc", path, &line) < 0)
                return true;
        p = strrchr(line, ')');
        /* ") S ppid pgrp session tty_nr tpgid flags ..." */
        if (!p || sscanf(p + 1, " %c %*d %*d %*d %*d %*d %llu", &state, &flags) != 2)
                return false;
        return state == 'Z' || state == 'X' || (flags & PF_EXITING_FLAG);
}

typedef struct HugeMap {
        int fd;                 /* /proc/PID/pagemap, -1: none */
        bool broken;            /* PAGEMAP_SCAN failed: no THP detection */
        MoveSpan *spans;
        size_t n, alloc;
} HugeMap;

/* The THP spans of [start, end) widened to 2 MiB boundaries. */
static int huge_map_load(HugeMap *h, pid_t pid, uint64_t start, uint64_t end) {
        PagemapRegion regions[HUGE_SCAN_REGIONS];
        uint64_t s = start & ~(uint64_t) (MOVER_HUGE_SIZE - 1);
        uint64_t e = (end + MOVER_HUGE_SIZE - 1) & ~(uint64_t) (MOVER_HUGE_SIZE - 1);

        h->n = 0;
        if (h->fd < 0 || h->broken)
                return 0;
        while (s < e) {
                PagemapScanArg a = {
                        .size = sizeof(a),
                        .start = s,
                        .end = e,
                        .vec = (uint64_t) (uintptr_t) regions,
                        .vec_len = HUGE_SCAN_REGIONS,
                        .category_mask = PAGEMAP_IS_HUGE | PAGEMAP_IS_PRESENT,
                        .return_mask = PAGEMAP_IS_HUGE,
                };
                int k;

                do
                        k = ioctl(h->fd, PAGEMAP_SCAN_IOCTL, &a);
                while (k < 0 && errno == EINTR);
                if (k < 0) {
                        if (errno == ESRCH)
                                return -ESRCH;
                        log_debug("move_pages: PAGEMAP_SCAN on process %d failed (%s): THPs not told apart, "
                                  "every page is its own entry", (int) pid, strerror(errno));
                        h->broken = true;
                        h->n = 0;
                        return 0;
                }
                for (int i = 0; i < k; i++) {
                        uint64_t rs = regions[i].start & ~(uint64_t) (MOVER_HUGE_SIZE - 1);
                        uint64_t re = (regions[i].end + MOVER_HUGE_SIZE - 1) & ~(uint64_t) (MOVER_HUGE_SIZE - 1);

                        if (h->n > 0 && h->spans[h->n - 1].end >= rs) {
                                if (re > h->spans[h->n - 1].end)
                                        h->spans[h->n - 1].end = re;
                                continue;
                        }
                        if (h->n == h->alloc) {
                                size_t na = h->alloc ? h->alloc * 2 : 16;
                                MoveSpan *p = realloc(h->spans, na * sizeof(*p));

                                if (!p)
                                        return -ENOMEM;
                                h->spans = p;
                                h->alloc = na;
                        }
                        h->spans[h->n++] = (MoveSpan) { rs, re };
                }
                if (a.walk_end <= s || a.walk_end > e)
                        break;
                s = a.walk_end;
        }
        return 0;
}

/* One batch: the status query, then the move of what is elsewhere.
 * Returns 0, -ESRCH when the process is gone, or -errno. */
static int move_batch(pid_t pid, const MovePagesOptions *o, const MoveUnit *units, size_t n, void **addrs,
                      int *nodes, int *status, MoveUnit *todo, MovePagesResult *r) {
        int flags = o->move_all ? MPOL_MF_MOVE_ALL : MPOL_MF_MOVE;
        size_t k = 0;
        long x;

        for (size_t i = 0; i < n; i++) {
                addrs[i] = (void *) (uintptr_t) units[i].addr;
                status[i] = STATUS_UNSET;
        }
        r->calls++;
        x = numa_move_pages(pid, n, addrs, NULL, status, 0);
        if (x < 0)
                return -errno;
        move_account(r, units, status, n, o->node, true);
        for (size_t i = 0; i < n; i++)
                if (status[i] >= 0 && status[i] != o->node)
                        todo[k++] = units[i];
        if (k == 0)
                return 0;
        /* the pid was listed earlier: moved only while it is that process */
        if (o->ident) {
                int c = proc_ident_check(o->procfs_root, o->cgroup_mount, pid, o->ident);

                if (c == -ENOMEM)
                        return c;
                if (c < 0) {
                        log_debug("move_pages: pid %d not moved: %s", (int) pid, proc_ident_strerror(c));
                        return -ESRCH;
                }
        }

        for (size_t i = 0; i < k; i++) {
                addrs[i] = (void *) (uintptr_t) todo[i].addr;
                nodes[i] = o->node;
                status[i] = STATUS_UNSET;
        }
        r->calls++;
        x = numa_move_pages(pid, k, addrs, nodes, status, flags);
        if (x < 0)
                return -errno;
        if (x > 0) {
                /* The kernel gave up part way (migrate_pages() failed for
                 * some): entries it did not report are asked again. */
                size_t unset = 0;

                for (size_t i = 0; i < k; i++)
                        if (status[i] == STATUS_UNSET)
                                addrs[unset++] = (void *) (uintptr_t) todo[i].addr;
                if (unset > 0) {
                        _cleanup_free_ int *again = malloc(unset * sizeof(int));

                        if (!again)
                                return -ENOMEM;
                        r->calls++;
                        if (numa_move_pages(pid, unset, addrs, NULL, again, 0) < 0)
                                return -errno;
                        for (size_t i = 0, j = 0; i < k; i++)
                                if (status[i] == STATUS_UNSET) {
                                        /* where it is now: on the target is moved; elsewhere failed */
                                        status[i] = again[j] >= 0 && again[j] != o->node ? -EBUSY : again[j];
                                        j++;
                                }
                }
        }
        move_account(r, todo, status, k, o->node, false);
        return 0;
}

int mover_move_pages(pid_t pid, const ScanRange *ranges, size_t n, const MovePagesOptions *opts,
                     MovePagesResult *ret) {
        MovePagesOptions o = *opts;
        _cleanup_free_ MoveUnit *units = NULL, *todo = NULL;
        _cleanup_free_ void **addrs = NULL;
        _cleanup_free_ int *nodes = NULL, *status = NULL;
        HugeMap huge = { .fd = -1 };
        uint64_t budget = UINT64_MAX, last_head = UINT64_MAX;
        MovePagesResult r = { 0 };
        int rr = 0;

        if (pid <= 0 || o.node < 0)
                return -EINVAL;
        for (size_t i = 0; i < n; i++)
                if (ranges[i].kind != SCAN_RANGE_VADDR || ranges[i].pid != pid || ranges[i].end < ranges[i].start)
                        return -EINVAL;
        if (o.batch == 0)
                o.batch = MOVER_DEFAULT_BATCH;
        if (o.max_bytes > 0)
                budget = o.max_bytes / MOVER_PAGE_SIZE;
        units = malloc(o.batch * sizeof(*units));
        todo = malloc(o.batch * sizeof(*todo));
        addrs = malloc(o.batch * sizeof(*addrs));
        nodes = malloc(o.batch * sizeof(*nodes));
        status = malloc(o.batch * sizeof(*status));
        if (!units || !todo || !addrs || !nodes || !status)
                return -ENOMEM;

        if (!o.no_thp) {
                _cleanup_free_ char *path = NULL;

                if (asprintf(&path, "%s/%d/pagemap", o.procfs_root ? o.procfs_root : "/proc", (int) pid) < 0)
                        return -ENOMEM;
                huge.fd = open(path, O_RDONLY | O_CLOEXEC);
                if (huge.fd < 0) {
                        if (errno == ENOENT || errno == ESRCH) {
                                log_debug("move_pages: process %d is gone", (int) pid);
                                *ret = (MovePagesResult) { .exited = true };
                                return 0;
                        }
                        log_debug("move_pages: cannot open %s (%m): THPs not told apart", path);
                }
        }

        for (size_t i = 0; i < n && !r.exited && !r.capped; i++) {
                uint64_t pos = ranges[i].start;

                rr = huge_map_load(&huge, pid, ranges[i].start, ranges[i].end);
                if (rr == -ESRCH) {
                        r.exited = true;
                        rr = 0;
                        break;
                }
                if (rr < 0)
                        break;
                while (pos < ranges[i].end) {
                        bool capped;
                        size_t k = move_units_fill(&pos, ranges[i].end, huge.spans, huge.n, &budget, &last_head,
                                                   units, o.batch, &capped);

                        if (k > 0) {
                                if (r.batches > 0 && o.batch_pause_us > 0)
                                        nanosleep(&(struct timespec) { .tv_sec = o.batch_pause_us / 1000000,
                                                                       .tv_nsec = (long) (o.batch_pause_us % 1000000) * 1000 },
                                                  NULL);
                                r.batches++;
                                rr = move_batch(pid, &o, units, k, addrs, nodes, status, todo, &r);
                                if (rr == -ESRCH || (rr == -EINVAL && process_gone(o.procfs_root, pid))) {
                                        log_debug("move_pages: process %d exited during the move", (int) pid);
                                        r.exited = true;
                                        rr = 0;
                                        break;
                                }
                                if (rr < 0)
                                        break;
                        }
                        if (capped) {
                                r.capped = true;
                                break;
                        }
                }
                if (rr < 0)
                        break;
        }
        if (huge.fd >= 0)
                close(huge.fd);
        free(huge.spans);
        *ret = r; /* what was done, also on error */
        return rr;
}
