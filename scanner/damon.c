/* SPDX-License-Identifier: MIT */
/* The DAMON backends.
 *
 * Both run one kdamond of tierd's own through DAMON's sysfs interface
 * (<sysfs>/kernel/mm/damon/admin): one context, vaddr operations, one
 * target per tenant process. tierd only ever creates a kdamond when
 * nr_kdamonds reads 0: writing nr_kdamonds recreates every kdamond
 * directory, so another user's DAMON setup would be destroyed; when
 * someone else has one, open() fails with -EBUSY.
 *
 * A tierd killed by SIGKILL (or crashing) cannot remove its kdamond, and
 * the next one would then find DAMON "in use" forever. So tierd keeps a
 * record, <run_dir>/kdamond (/run/tierd/kdamond: a tmpfs, gone at
 * reboot): its pid, its start time, the boot id and its kdamond's pid,
 * written before it sets nr_kdamonds to 1, rewritten with the kdamond's
 * pid once it runs, removed with the kdamond. At open, with nr_kdamonds
 * not 0, the kdamond is removed only when it is provably that record's
 * (damon_leftover_is_ours(): same boot, the recorded tierd no longer
 * runs (pid and start time), exactly one kdamond, and running with the
 * recorded pid, or stopped with tierd's context shape); anything else
 * is someone else's and left alone (-EBUSY, saying why). A record that
 * cannot be written is a warning: tierd runs, only a later cleanup after
 * a kill is lost.
 *
 *  - "damon" reads the regions: one DAMOS "stat" scheme per target whose
 *    access pattern matches everything and whose "target" filter keeps only
 *    that target's regions; state "update_schemes_tried_regions" fills the
 *    scheme's tried_regions directory at the next aggregation.
 *  - "bpf" reads the damon:damon_aggregated tracepoint through the kscan
 *    ring buffer, filtered in BPF to tierd's kdamond thread; target_id is
 *    the index of the target in the context.
 *
 * Regions are virtual: each region is placed on a node by a move_pages
 * status query of at most DAMON_NODE_SAMPLES evenly spaced pages (one
 * syscall per process and scan); a region whose samples disagree is split
 * at the samples. Granularity is DAMON's: nr_regions between 300 and 3000
 * per context, adaptively split and merged by access count. The minimum
 * bounds the largest region (DAMON merges up to the monitored size over
 * min_nr_regions): with 10, a process spanning a few GiB of address space
 * kept regions of hundreds of MiB, and a 64 MiB workload's 16 MiB hot set
 * shared regions with its cold pages for many periods; with 100 the
 * region at the hot/cold boundary (3 MiB) still cost 5-7% of the cold
 * bytes in one run of three; with 300 regions are 1-3 MiB and both
 * backends classify 100% from the second period
 * (test/vm/test-scan-damon.py). The kdamond then checks 300-3000 pages per
 * sample (every period/20): its CPU time is what test/bench/scan-bench
 * reports as the kernel's part of DAMON's cost.
 *
 * DAMON_RECLAIM and DAMON_LRU_SORT (kernel modules driven by parameters)
 * run exclusive kdamonds: while one is enabled tierd cannot start its own
 * (refused with that reason), and while tierd's runs they cannot be
 * enabled (EBUSY).
 *
 * Processes come and go: a new target list is committed to the running
 * kdamond ("commit"), with every process that stays at its position
 * (damon_targets_assign(): DAMON pairs targets by position and keeps a
 * position's regions), what tierd keeps per process following its pid
 * (the bpf backend's last complete aggregation, consumed from the ring
 * buffer into the old positions before the commit), and region ages a
 * process inherited at a position clamped to the time it has held it.
 * A commit the kernel cannot apply (a pid reaped before the end of the
 * aggregation that applies it) ends the kdamond: tierd sees it off and
 * starts it again within the same scan (kdamond_commit()).
 *
 * The kdamond stops by itself when every target process has exited: the
 * next scan sees state "off", removes it and reports nothing; the one
 * after creates it again if there are processes. close() and every error
 * after creation remove it (state off, nr_kdamonds 0).
 *
 * Passes (TenantHeat.pass): DAMON monitors all of every target all the
 * time, so every scan that reads regions is a whole pass over every
 * tenant given (BEGIN|END in one scan). A scan that reads none reports no
 * pass: the arming scan after the kdamond is created (or started again),
 * one that finds it stopped, one without processes. EXACT when every
 * process the tenant lists is a target whose regions were read (damon:
 * its tried_regions, read without error, not empty; bpf: a complete
 * aggregation received), placed on nodes (the move_pages status query
 * worked: not when the process exited meanwhile) and settled
 * (damon_target_settled(): from its second aggregation of regions of its
 * own, so not in the scan right after a commit placed it); a process not
 * monitored yet, or gone since the target list was made, makes it
 * inexact. A tenant without processes has an exact pass over nothing.
 *
 * Unmapped pages (HEAT_UNMAPPED: page cache, tmpfs, shmem no process
 * maps), which a vaddr context never sees: a second kdamond,
 * kdamonds/1, with a paddr context over every node's PFN span and one
 * match-everything "stat" scheme, created and removed with the vaddr one
 * and started with it, or alone while no tenant has a process but some
 * tenant remains (its page cache outlives its jobs: kdamond_sync() stops
 * the vaddr one then, and starts it again when processes come) (a
 * kdamond holds one context, and nr_kdamonds can be written
 * only while none runs, so both are created at once; the owner record
 * says "scanner+paddr+damos" so that a leftover set is recognised). A
 * third, kdamonds/2, is created with them and left off: it is the DAMOS
 * kdamond of the unmapped pages' moves (core/period.c's uprom, through
 * damon_mover_kdamond()), which configures, starts and stops it alone
 * (DamosOptions.kdamond) while nr_kdamonds stays the scanner's to write;
 * its schemes change every period and it runs only while moves are
 * wanted, so it is not the classifying kdamond. The scanner stops it
 * before it removes the three. Each scan after the
 * vaddr part reads the paddr tried regions and sweeps PFNs from where the
 * last one stopped: /proc/kpageflags in chunks of DAMON_PADDR_CHUNK,
 * /proc/kpagecgroup over the unmapped LRU candidates
 * (kpage_unmapped_candidate()), each candidate of a tenant's memcg
 * classified by the region that holds it (damon_unmapped_classify()),
 * until the walk's thread CPU time reaches the budget. A sweep covers the
 * tenants given when it began; at its last PFN, those given in every scan
 * since with unchanged memcgs get their totals and HEAT_PASS_UNMAPPED;
 * every tenant gets HEAT_PASS_SWEEPING while the sweep runs. Under MGLRU
 * DAMON's paddr check (PG_idle for an unmapped folio) misses read(2)
 * accesses just as idle page tracking does: no sweep starts while
 * lru_gen/enabled has bit 0 (said once at info level). */
#include "damon.h"
#include "damon_owner.h"
#include "damon_sysfs.h"

#include <dirent.h>
#include <fcntl.h>
#include <inttypes.h>
#include <numaif.h>
#include <signal.h>
#include <stdarg.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "scanner.h"
#include "topology.h"
#include "util.h"

/* ---- pure helpers ------------------------------------------------------ */

void damon_intervals_for_period(uint64_t period_ms, DamonIntervals *ret) {
        uint64_t period_us = (period_ms ? period_ms : 1000) * 1000;

        ret->aggr_us = period_us / 2;
        ret->sample_us = ret->aggr_us / 10;
        if (ret->sample_us < 1000)
                ret->sample_us = 1000;
        if (ret->aggr_us < ret->sample_us)
                ret->aggr_us = ret->sample_us;
        ret->update_us = period_us;
}

uint8_t damon_heat_age(uint32_t nr_accesses, uint32_t age, uint64_t aggr_us, uint64_t period_us) {
        uint64_t periods;

        if (nr_accesses > 0)
                return 0;
        if (period_us == 0)
                return HEAT_MAX_AGE;
        periods = ((uint64_t) age + 1) * aggr_us / period_us;
        if (periods < 1)
                return 1;
        return periods > HEAT_MAX_AGE ? HEAT_MAX_AGE : (uint8_t) periods;
}

static int read_u64_at(int dirfd, const char *name, uint64_t *ret) {
        _cleanup_close_ int fd = -1;
        char buf[64];
        ssize_t n;

        fd = openat(dirfd, name, O_RDONLY | O_CLOEXEC);
        if (fd < 0)
                return -errno;
        n = read(fd, buf, sizeof(buf) - 1);
        if (n < 0)
                return -errno;
        buf[n] = '\0';
        return parse_u64(buf, ret);
}

static int cmp_region(const void *a, const void *b) {
        const DamonRegion *x = a, *y = b;

        return (x->start > y->start) - (x->start < y->start);
}

int damon_read_tried_regions(const char *dir, DamonRegion **ret, size_t *ret_n) {
        _cleanup_free_ DamonRegion *regions = NULL;
        size_t n = 0, alloc = 0;
        struct dirent *de;
        DIR *d;
        int r = 0;

        d = opendir(dir);
        if (!d)
                return -errno;
        while ((de = readdir(d))) {
                _cleanup_close_ int fd = -1;
                uint64_t idx, start, end, nr, age;

                if (parse_u64(de->d_name, &idx) < 0)
                        continue; /* ".", "..", total_bytes */
                fd = openat(dirfd(d), de->d_name, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
                if (fd < 0) {
                        if (errno == ENOENT)
                                continue;
                        r = -errno;
                        break;
                }
                r = read_u64_at(fd, "start", &start);
                if (r >= 0)
                        r = read_u64_at(fd, "end", &end);
                if (r >= 0)
                        r = read_u64_at(fd, "nr_accesses", &nr);
                if (r >= 0)
                        r = read_u64_at(fd, "age", &age);
                if (r == -ENOENT) {
                        r = 0;
                        continue;
                }
                if (r < 0)
                        break;
                if (end <= start || nr > UINT32_MAX || age > UINT32_MAX)
                        continue;
                if (n == alloc) {
                        size_t na = alloc ? alloc * 2 : 64;
                        DamonRegion *p = realloc(regions, na * sizeof(*p));

                        if (!p) {
                                r = -ENOMEM;
                                break;
                        }
                        regions = p;
                        alloc = na;
                }
                regions[n++] = (DamonRegion) { start, end, (uint32_t) nr, (uint32_t) age };
        }
        closedir(d);
        if (r < 0)
                return r;
        if (n > 1)
                qsort_safe(regions, n, sizeof(*regions), cmp_region);
        *ret = TAKE_PTR(regions);
        *ret_n = n;
        return 0;
}

void damon_targets_done(DamonTargets *t) {
        free(t->pids);
        free(t->tenant);
        free(t->starts);
        *t = (DamonTargets) { 0 };
}

static ssize_t find_pid(const pid_t *pids, size_t n, pid_t pid) {
        for (size_t i = 0; i < n; i++)
                if (pids[i] == pid)
                        return (ssize_t) i;
        return -1;
}

/* Whether target I of A and target J of B, of one pid, are one process:
 * not when both start times are known and differ. */
static bool same_process(const DamonTargets *a, size_t i, const DamonTargets *b, size_t j) {
        return !a->starts || !b->starts || a->starts[i] == 0 || b->starts[j] == 0 || a->starts[i] == b->starts[j];
}

/* NEXT's start times, those of PIDS in STARTS (N; NULL: unknown). A pid
 * that keeps its position after OLD with another process behind it makes
 * the list *CHANGED: DAMON looked the number up when it was written and
 * follows the old process, until the list is written again. */
static int targets_set_starts(const DamonTargets *old, DamonTargets *next, const pid_t *pids,
                              const uint64_t *starts, size_t n, bool *changed) {
        if (!starts || next->n == 0)
                return 0;
        next->starts = calloc(next->n, sizeof(*next->starts));
        if (!next->starts)
                return -ENOMEM;
        for (size_t i = 0; i < next->n; i++) {
                ssize_t c = find_pid(pids, n, next->pids[i]);

                next->starts[i] = c >= 0 ? starts[c] : 0;
                if (i < old->n && old->pids[i] == next->pids[i] && !same_process(old, i, next, i))
                        *changed = true;
        }
        return 0;
}

int damon_targets_assign(const DamonTargets *old, const pid_t *pids, const size_t *tenant, size_t n,
                         DamonTargets *ret, bool *ret_changed) {
        _cleanup_free_ pid_t *np = NULL;
        _cleanup_free_ size_t *nt = NULL;
        _cleanup_free_ bool *placed = NULL;
        bool changed;

        if (n > 0) {
                np = calloc(n, sizeof(*np));
                nt = calloc(n, sizeof(*nt));
                placed = calloc(n, sizeof(*placed));
                if (!np || !nt || !placed)
                        return -ENOMEM;
        }
        /* Processes that stay keep their position when it still exists. */
        for (size_t i = 0; i < old->n && i < n; i++) {
                ssize_t c = find_pid(pids, n, old->pids[i]);

                if (c < 0)
                        continue;
                np[i] = pids[c];
                nt[i] = tenant[c];
                placed[c] = true;
        }
        /* Free positions (of processes that exited, and past the old end)
         * take the others in the given order: new processes, and those
         * whose position is past the new end. */
        for (size_t i = 0, c = 0; i < n; i++) {
                if (np[i] != 0)
                        continue;
                while (placed[c])
                        c++;
                np[i] = pids[c];
                nt[i] = tenant[c];
                placed[c] = true;
        }

        changed = n != old->n;
        for (size_t i = 0; !changed && i < n; i++)
                changed = np[i] != old->pids[i];
        *ret = (DamonTargets) { .pids = TAKE_PTR(np), .tenant = TAKE_PTR(nt), .n = n };
        *ret_changed = changed;
        return 0;
}

int damon_targets_next(const DamonTargets *old, const ScanTarget *targets, size_t n, const char *procfs_root,
                       const char *cgroup_mount, DamonTargets *ret, bool *ret_changed) {
        _cleanup_free_ pid_t *cur = NULL;
        _cleanup_free_ size_t *cur_tenant = NULL;
        _cleanup_free_ uint64_t *cur_start = NULL;
        size_t total = 0, nc = 0;
        bool known = false;
        int r;

        for (size_t i = 0; i < n; i++) {
                total += targets[i].n_pids;
                known = known || targets[i].idents;
        }
        if (total > 0) {
                cur = malloc(total * sizeof(*cur));
                cur_tenant = malloc(total * sizeof(*cur_tenant));
                cur_start = known ? calloc(total, sizeof(*cur_start)) : NULL;
                if (!cur || !cur_tenant || (known && !cur_start))
                        return -ENOMEM;
        }
        for (size_t i = 0; i < n; i++)
                for (size_t j = 0; j < targets[i].n_pids; j++) {
                        pid_t p = targets[i].pids[j];

                        if (p <= 0 || find_pid(cur, nc, p) >= 0)
                                continue;
                        /* listed at the start of the period: a target
                         * only while it is still that process, there */
                        if (procfs_root && targets[i].idents) {
                                r = proc_ident_check(procfs_root, cgroup_mount, p, &targets[i].idents[j]);
                                if (r == -ENOMEM)
                                        return r;
                                if (r < 0) {
                                        log_debug("%s: pid %d is no DAMON target this period: %s",
                                                  targets[i].cgroup_path, (int) p, proc_ident_strerror(r));
                                        continue;
                                }
                        }
                        if (targets[i].idents && !targets[i].idents[j].gone)
                                cur_start[nc] = targets[i].idents[j].start_time;
                        cur[nc] = p;
                        cur_tenant[nc++] = i;
                }
        r = damon_targets_assign(old, cur, cur_tenant, nc, ret, ret_changed);
        if (r < 0)
                return r;
        r = targets_set_starts(old, ret, cur, cur_start, nc, ret_changed);
        if (r < 0)
                damon_targets_done(ret);
        return r;
}

int damon_targets_drop(const DamonTargets *old, DamonTargets *next, bool (*alive)(pid_t)) {
        _cleanup_free_ pid_t *pids = NULL;
        _cleanup_free_ size_t *tenant = NULL;
        DamonTargets t;
        size_t k = 0;
        bool changed;
        int r;

        if (next->n > 0) {
                pids = malloc(next->n * sizeof(*pids));
                tenant = malloc(next->n * sizeof(*tenant));
                if (!pids || !tenant)
                        return -ENOMEM;
        }
        for (size_t i = 0; i < next->n; i++)
                if (alive(next->pids[i])) {
                        pids[k] = next->pids[i];
                        tenant[k++] = next->tenant[i];
                }
        r = damon_targets_assign(old, pids, tenant, k, &t, &changed);
        if (r >= 0)
                r = targets_set_starts(old, &t, next->pids, next->starts, next->n, &changed);
        if (r < 0) {
                damon_targets_done(&t);
                return r;
        }
        damon_targets_done(next);
        *next = t;
        return 0;
}

void damon_targets_map(const DamonTargets *old, const DamonTargets *next, size_t *map) {
        for (size_t i = 0; i < next->n; i++) {
                ssize_t o = find_pid(old->pids, old->n, next->pids[i]);

                map[i] = o < 0 || !same_process(old, (size_t) o, next, i) ? SIZE_MAX : (size_t) o;
        }
}

uint32_t damon_age_clamp(uint32_t age, uint64_t held_us, uint64_t aggr_us) {
        uint64_t most;

        if (aggr_us == 0)
                return age;
        /* the aggregation that ends now is number held/aggr; a region of
         * the process that has held the position for it has age at most
         * that number minus one */
        most = held_us / aggr_us;
        most = most > 0 ? most - 1 : 0;
        return age > most ? (uint32_t) most : age;
}

bool damon_target_settled(uint64_t held_us, bool at_start, const DamonIntervals *iv) {
        uint64_t own = at_start ? held_us : held_us > iv->update_us ? held_us - iv->update_us : 0;

        return own + iv->aggr_us / 2 >= 2 * iv->aggr_us;
}

typedef struct PidPos {
        pid_t pid;
        uint32_t pos;
} PidPos;

static int cmp_pid_pos(const void *a, const void *b) {
        const PidPos *x = a, *y = b;

        return (x->pid > y->pid) - (x->pid < y->pid);
}

int damon_tenants_exact(const DamonTargets *t, const bool *ok, const ScanTarget *targets, size_t n,
                        bool *ret_exact) {
        _cleanup_free_ PidPos *sorted = NULL;

        if (t->n > 0) {
                sorted = malloc(t->n * sizeof(*sorted));
                if (!sorted)
                        return -ENOMEM;
                for (size_t i = 0; i < t->n; i++)
                        sorted[i] = (PidPos) { .pid = t->pids[i], .pos = (uint32_t) i };
                qsort_safe(sorted, t->n, sizeof(*sorted), cmp_pid_pos);
        }
        for (size_t k = 0; k < n; k++) {
                ret_exact[k] = true;
                for (size_t j = 0; j < targets[k].n_pids && ret_exact[k]; j++) {
                        PidPos key = { .pid = targets[k].pids[j] };
                        const PidPos *f = t->n > 0 ? bsearch(&key, sorted, t->n, sizeof(*sorted), cmp_pid_pos) : NULL;

                        if (key.pid <= 0)
                                continue;
                        if (!f)
                                ret_exact[k] = false; /* not monitored (yet, or it exited) */
                        else if (t->tenant[f->pos] == k)
                                ret_exact[k] = ok[f->pos];
                        /* else an earlier tenant's */
                }
        }
        return 0;
}

size_t damon_region_nr_samples(const DamonRegion *r) {
        uint64_t pages = (r->end - r->start + 4095) / 4096;

        return pages < DAMON_NODE_SAMPLES ? (size_t) (pages ? pages : 1) : DAMON_NODE_SAMPLES;
}

/* Sample I sits in the middle of the I-th of N equal chunks. */
static uint64_t chunk_start(const DamonRegion *r, size_t n, size_t i) {
        uint64_t len = r->end - r->start;

        if (i == 0)
                return r->start;
        if (i >= n)
                return r->end;
        return (r->start + len / n * i) & ~(uint64_t) 4095;
}

uint64_t damon_region_sample_addr(const DamonRegion *r, size_t n, size_t i) {
        uint64_t a = chunk_start(r, n, i), b = chunk_start(r, n, i + 1);

        return (a + (b - a) / 2) & ~(uint64_t) 4095;
}

static void range_place(ScanRange *x, int node, const struct Topology *topo) {
        const TopologyNode *tn = node >= 0 && topo ? topology_node(topo, node) : NULL;

        x->node = (int8_t) (node >= 0 && node < 128 ? node : -1);
        x->tier = (int8_t) (tn ? tn->tier : -1);
}

size_t damon_region_ranges(const DamonRegion *r, pid_t pid, uint8_t age, const int *nodes, size_t n_samples,
                           const struct Topology *topo, ScanRange *out) {
        int fill[DAMON_NODE_SAMPLES];
        int first = -1;
        bool mixed = false;
        size_t n = 0;
        ScanRange base = {
                .kind = SCAN_RANGE_VADDR,
                .age = age,
                .pid = pid,
                .start = r->start,
                .end = r->end,
                .nr_accesses = r->nr_accesses,
        };

        if (n_samples > DAMON_NODE_SAMPLES)
                n_samples = DAMON_NODE_SAMPLES;
        for (size_t i = 0; i < n_samples; i++) {
                if (nodes[i] < 0)
                        continue;
                if (first < 0)
                        first = nodes[i];
                else if (nodes[i] != first)
                        mixed = true;
        }
        if (!mixed) {
                out[0] = base;
                range_place(&out[0], first, topo);
                return 1;
        }

        /* Non-resident samples take the node of the sample before them
         * (the first resident one at the start). */
        for (size_t i = 0, last = (size_t) first; i < n_samples; i++) {
                if (nodes[i] >= 0)
                        last = (size_t) nodes[i];
                fill[i] = (int) last;
        }
        for (size_t i = 0; i < n_samples; i++) {
                if (n > 0 && fill[i] == out[n - 1].node) {
                        out[n - 1].end = chunk_start(r, n_samples, i + 1);
                        continue;
                }
                out[n] = base;
                out[n].start = chunk_start(r, n_samples, i);
                out[n].end = chunk_start(r, n_samples, i + 1);
                range_place(&out[n], fill[i], topo);
                n++;
        }
        return n;
}

size_t damon_region_lower(const DamonRegion *regions, size_t n, uint64_t addr) {
        size_t lo = 0, hi = n;

        while (lo < hi) {
                size_t mid = lo + (hi - lo) / 2;

                if (regions[mid].end <= addr)
                        lo = mid + 1;
                else
                        hi = mid;
        }
        return lo;
}

uint64_t damon_unmapped_classify(const DamonRegion *regions, size_t n_regions, uint64_t pfn, const uint64_t *flags,
                                 const uint64_t *memcgs, size_t np, const KpageMemcgs *m, const NodeSpan *spans,
                                 size_t n_spans, const struct Topology *topo, uint64_t aggr_us, uint64_t period_us,
                                 DamonUnmapped *ret) {
        size_t k = damon_region_lower(regions, n_regions, pfn * 4096);
        uint64_t total = 0;

        for (size_t i = 0; i < np;) {
                uint64_t addr = (pfn + i) * 4096, bytes;
                size_t n_pages = 1;
                const TopologyNode *tn;
                int t, node, tier = -1;

                if (!kpage_unmapped_candidate(flags[i]) || (t = kpage_memcgs_target(m, memcgs[i])) < 0) {
                        i++;
                        continue;
                }
                while ((flags[i] & KPAGE_BIT(KPAGE_COMPOUND_HEAD)) && i + n_pages < np &&
                       (flags[i + n_pages] & KPAGE_BIT(KPAGE_COMPOUND_TAIL)))
                        n_pages++;
                while (k < n_regions && regions[k].end <= addr)
                        k++;
                node = node_span_find(spans, n_spans, pfn + i);
                if (node >= 0 && topo && (tn = topology_node(topo, node)))
                        tier = tn->tier;
                i += n_pages;
                if (k == n_regions || regions[k].start > addr || tier < 0 || tier >= HEAT_MAX_TIERS)
                        continue;
                bytes = (uint64_t) n_pages * 4096;
                if (damon_heat_age(regions[k].nr_accesses, regions[k].age, aggr_us, period_us) == 0)
                        ret[t].hot[tier] += bytes;
                else if (regions[k].age + 1 >= DAMON_PADDR_COLD_AGGRS)
                        ret[t].cold[tier] += bytes;
                else
                        continue; /* idle for too short a time to say */
                total += bytes;
        }
        return total;
}

static DamonSweepTenant *sweep_find(const DamonSweep *w, uint64_t cgroup_id) {
        size_t lo = 0, hi = w->n;

        while (lo < hi) {
                size_t mid = lo + (hi - lo) / 2;

                if (w->t[mid].cgroup_id < cgroup_id)
                        lo = mid + 1;
                else if (w->t[mid].cgroup_id > cgroup_id)
                        hi = mid;
                else
                        return &w->t[mid];
        }
        return NULL;
}

static int cmp_sweep(const void *a, const void *b) {
        const DamonSweepTenant *x = a, *y = b;

        return (x->cgroup_id > y->cgroup_id) - (x->cgroup_id < y->cgroup_id);
}

int damon_sweep_begin(DamonSweep *w, const ScanTarget *targets, size_t n, const uint64_t *hash) {
        size_t k = 0;

        damon_sweep_done(w);
        w->t = calloc(n ? n : 1, sizeof(*w->t));
        if (!w->t)
                return -ENOMEM;
        for (size_t i = 0; i < n; i++)
                w->t[i] = (DamonSweepTenant) { .cgroup_id = targets[i].cgroup_id, .ids_hash = hash[i] };
        qsort_safe(w->t, n, sizeof(*w->t), cmp_sweep);
        for (size_t i = 0; i < n; i++) /* a cgroup given twice is one tenant: its first hash */
                if (k == 0 || w->t[k - 1].cgroup_id != w->t[i].cgroup_id)
                        w->t[k++] = w->t[i];
        w->n = k;
        w->open = true;
        w->pfn = 0;
        return 0;
}

void damon_sweep_check(DamonSweep *w, const ScanTarget *targets, size_t n, const uint64_t *hash) {
        for (size_t i = 0; i < w->n; i++) {
                bool given = false;

                for (size_t t = 0; t < n && !given; t++)
                        if (targets[t].cgroup_id == w->t[i].cgroup_id) {
                                given = true;
                                if (hash[t] != w->t[i].ids_hash)
                                        w->t[i].failed = true;
                        }
                if (!given)
                        w->t[i].failed = true;
        }
}

void damon_sweep_fail(DamonSweep *w) {
        for (size_t i = 0; i < w->n; i++)
                w->t[i].failed = true;
}

void damon_sweep_add(DamonSweep *w, const ScanTarget *targets, size_t n, const DamonUnmapped *acc) {
        for (size_t t = 0; t < n; t++) {
                DamonSweepTenant *st = sweep_find(w, targets[t].cgroup_id);

                if (!st)
                        continue; /* given after the sweep began: in the next one */
                for (int i = 0; i < HEAT_MAX_TIERS; i++) {
                        st->acc.hot[i] += acc[t].hot[i];
                        st->acc.cold[i] += acc[t].cold[i];
                }
        }
}

void damon_sweep_end(DamonSweep *w, const ScanTarget *targets, size_t n, TenantHeat *out) {
        for (size_t t = 0; t < n; t++) {
                const DamonSweepTenant *st = sweep_find(w, targets[t].cgroup_id);

                if (!st || st->failed)
                        continue;
                out[t].pass |= HEAT_PASS_UNMAPPED;
                memcpy(out[t].unmapped_hot, st->acc.hot, sizeof(out[t].unmapped_hot));
                memcpy(out[t].unmapped_cold, st->acc.cold, sizeof(out[t].unmapped_cold));
        }
        damon_sweep_done(w);
}

void damon_sweep_done(DamonSweep *w) {
        free(w->t);
        *w = (DamonSweep) { 0 };
}

/* ---- the backend ------------------------------------------------------- */

/* sizeof(struct damon_region) in 6.12: the kernel-side state per region. */
#define KERNEL_REGION_BYTES 56

/* A tracepoint record claiming more regions than this (tierd configures
 * at most 3000) is not from the kernel tierd configured: ignored. */
#define SANE_NR_REGIONS (1u << 20)

/* A region as the bpf backend keeps it between scans: 16 bytes where a
 * DamonRegion takes 24. Two aggregations per target are held (the last
 * complete one and the one being received), so this is most of tierd's
 * own tracking state; DAMON's vaddr regions are page aligned. Counts
 * beyond 16 bits saturate: nr_accesses is at most the samples per
 * aggregation (10), and 65535 aggregations are far past the oldest heat
 * age (HEAT_MAX_AGE periods of two aggregations each). */
typedef struct SnapRegion {
        uint64_t start;
        uint32_t pages;
        uint16_t nr_accesses;
        uint16_t age;
} SnapRegion;
_Static_assert(sizeof(SnapRegion) == 16, "SnapRegion is meant to be 16 bytes");

static uint64_t snap_end(const SnapRegion *r) {
        return r->start + (uint64_t) r->pages * 4096;
}

typedef struct Snapshot {
        SnapRegion *regions;    /* bpf: last complete aggregation */
        size_t n, alloc;
        SnapRegion *building;   /* bpf: the aggregation being received */
        size_t n_building, alloc_building;
        uint32_t expect;        /* nr_regions of the aggregation being received */
        uint64_t placed_us;     /* CLOCK_MONOTONIC when the process took its position */
        bool at_start;          /* it took it when the kdamond started (else by a commit) */
} Snapshot;

struct Scanner {
        bool bpf;
        ScanOptions opts;
        DamonIntervals iv;
        char *admin;            /* <sysfs>/kernel/mm/damon/admin */
        char *kd;               /* <admin>/kdamonds/0 */
        bool created;           /* this process wrote nr_kdamonds 1 */
        bool running;
        pid_t kdamond;
        DamonTargets targets;   /* as committed */
        Snapshot *snap;         /* per target position (regions: bpf only) */
        size_t n_snap;
        KScan *kscan;
        /* for memory() */
        uint64_t last_regions;
        uint64_t last_span;
        /* unmapped pages (HEAT_UNMAPPED): kdamonds/1, a paddr context */
        bool unmapped;          /* opened with HEAT_UNMAPPED */
        char *kd_pa;            /* <admin>/kdamonds/1 */
        char *kd_mv;            /* <admin>/kdamonds/2: the DAMOS mover's, left off here */
        bool pa_running;
        uint64_t pa_started_us; /* CLOCK_MONOTONIC when it started */
        bool pa_failed;         /* it could not be started: not tried again */
        int mglru;              /* lru_gen/enabled at the last sweep's start: 1 on, 0 off, -1 unknown */
        int kpageflags_fd, kpagecgroup_fd;
        NodeSpan *spans;        /* PFN -> node (/proc/zoneinfo, read at open) */
        size_t n_spans;
        DamonSweep sweep;
        uint64_t last_pa_regions;
};

static int kdamond_state(Scanner *s, bool *ret_on) {
        _cleanup_free_ char *st = NULL;
        int r = damon_sysfs_read_line(s->kd, "state", &st);

        if (r < 0)
                return r;
        *ret_on = strcmp(st, "on") == 0;
        return 0;
}

static void snapshots_free(Scanner *s) {
        for (size_t i = 0; i < s->n_snap; i++) {
                free(s->snap[i].regions);
                free(s->snap[i].building);
        }
        free(s->snap);
        s->snap = NULL;
        s->n_snap = 0;
}

static int discard_region(const struct kscan_damon_region *r _unused_, void *userdata _unused_) {
        return 0;
}

static void owner_remove(Scanner *s);

/* Stops kdamonds/0 (the vaddr context) when it runs and forgets it: the
 * BPF filter no longer follows it, its records and targets and snapshots
 * are dropped. kdamond_remove() and vaddr_stop() both start with it. */
static void vaddr_off(Scanner *s) {
        bool on = false;
        int r;

        if (kdamond_state(s, &on) >= 0 && on) {
                r = damon_sysfs_write("off", "%s/state", s->kd);
                if (r < 0 && r != -EINVAL)
                        log_warning_errno(r, "cannot stop tierd's kdamond, ignoring: %m");
        }
        if (s->kscan) {
                if (s->kdamond > 0)
                        (void) kscan_damon_follow(s->kscan, s->kdamond, false);
                (void) kscan_consume(s->kscan, discard_region, NULL);
        }
        s->running = false;
        s->kdamond = 0;
        damon_targets_done(&s->targets);
        snapshots_free(s);
}

/* Stops and removes tierd's kdamond (only ever called when this process
 * created it). Errors are logged: nothing else can be done about them. */
static void kdamond_remove(Scanner *s) {
        int r;

        if (!s->created)
                return;
        vaddr_off(s);
        if (s->unmapped) {
                /* -EINVAL: not running; -ENOENT: removed behind tierd's back */
                r = damon_sysfs_write("off", "%s/state", s->kd_pa);
                if (r < 0 && r != -EINVAL && r != -ENOENT)
                        log_warning_errno(r, "cannot stop tierd's paddr kdamond, ignoring: %m");
                s->pa_running = false;
                damon_sweep_done(&s->sweep);
                /* the DAMOS mover's, which it may have started: nr_kdamonds
                 * cannot be written while it runs */
                r = damon_sysfs_write("off", "%s/state", s->kd_mv);
                if (r < 0 && r != -EINVAL && r != -ENOENT)
                        log_warning_errno(r, "cannot stop the DAMOS kdamond of unmapped pages, ignoring: %m");
        }
        r = damon_sysfs_write("0", "%s/kdamonds/nr_kdamonds", s->admin);
        if (r < 0)
                log_warning_errno(r, "cannot remove tierd's kdamond (nr_kdamonds 0): %m");
        else {
                s->created = false;
                owner_remove(s);
        }
}

static const char *run_dir(const Scanner *s) {
        return s->opts.run_dir ? s->opts.run_dir : "/run/tierd";
}

static DamonUser owner_user(const Scanner *s) {
        return s->unmapped ? DAMON_USER_SCANNER_PADDR_DAMOS : DAMON_USER_SCANNER;
}

static int owner_write(Scanner *s, pid_t kdamond_pid) {
        return damon_owner_write(run_dir(s), s->opts.procfs_root, owner_user(s), kdamond_pid);
}

static void owner_remove(Scanner *s) {
        damon_owner_remove(run_dir(s));
}

/* kdamonds/1: one paddr context over every node's PFN span (holes
 * included: DAMON finds no page there and reports no access), the
 * intervals of the vaddr one, and one DAMOS "stat" scheme that matches
 * every region, whose tried regions are what the sweep reads. */
static int paddr_setup(Scanner *s) {
        const char *C = "contexts/0", *S = "contexts/0/schemes/0";
        int r;

        r = damon_sysfs_write("1", "%s/contexts/nr_contexts", s->kd_pa);
        if (r >= 0) {
                r = damon_sysfs_write("paddr", "%s/%s/operations", s->kd_pa, C);
                if (r == -EINVAL) {
                        log_error("DAMON has no paddr operations in this kernel (CONFIG_DAMON_PADDR): unmapped pages "
                                  "cannot be classified");
                        return r;
                }
        }
        if (r >= 0)
                r = damon_sysfs_write_u64(s->iv.sample_us, "%s/%s/monitoring_attrs/intervals/sample_us", s->kd_pa, C);
        if (r >= 0)
                r = damon_sysfs_write_u64(s->iv.aggr_us, "%s/%s/monitoring_attrs/intervals/aggr_us", s->kd_pa, C);
        if (r >= 0)
                r = damon_sysfs_write_u64(s->iv.update_us, "%s/%s/monitoring_attrs/intervals/update_us", s->kd_pa, C);
        if (r >= 0)
                r = damon_sysfs_write(DAMON_PADDR_MIN_REGIONS, "%s/%s/monitoring_attrs/nr_regions/min", s->kd_pa, C);
        if (r >= 0)
                r = damon_sysfs_write(DAMON_PADDR_MAX_REGIONS, "%s/%s/monitoring_attrs/nr_regions/max", s->kd_pa, C);
        if (r >= 0)
                r = damon_sysfs_write("1", "%s/%s/targets/nr_targets", s->kd_pa, C);
        if (r >= 0)
                r = damon_sysfs_write_u64(s->n_spans, "%s/%s/targets/0/regions/nr_regions", s->kd_pa, C);
        for (size_t i = 0; r >= 0 && i < s->n_spans; i++) {
                r = damon_sysfs_write_u64(s->spans[i].start * 4096, "%s/%s/targets/0/regions/%zu/start", s->kd_pa, C, i);
                if (r >= 0)
                        r = damon_sysfs_write_u64(s->spans[i].end * 4096, "%s/%s/targets/0/regions/%zu/end", s->kd_pa,
                                                  C, i);
        }
        if (r >= 0)
                r = damon_sysfs_write("1", "%s/%s/schemes/nr_schemes", s->kd_pa, C);
        if (r >= 0)
                r = damon_sysfs_write("stat", "%s/%s/action", s->kd_pa, S);
        if (r >= 0)
                r = damon_sysfs_write("18446744073709551615", "%s/%s/access_pattern/sz/max", s->kd_pa, S);
        if (r >= 0)
                r = damon_sysfs_write("4294967295", "%s/%s/access_pattern/nr_accesses/max", s->kd_pa, S);
        if (r >= 0)
                r = damon_sysfs_write("4294967295", "%s/%s/access_pattern/age/max", s->kd_pa, S);
        if (r < 0)
                return log_error_errno(r, "cannot set up the paddr context of tierd's kdamond %s: %m", s->kd_pa);
        return 0;
}

/* Creates tierd's kdamond directory with one vaddr context, when nobody
 * else uses DAMON's sysfs interface. */
static int kdamond_create(Scanner *s) {
        const char *C = "contexts/0";
        int r;

        /* DAMON_RECLAIM and DAMON_LRU_SORT run exclusive kdamonds (not in
         * sysfs): while one runs the kernel refuses to start any other. */
        for (size_t i = 0; i < 2; i++) {
                static const char *const mods[] = { "damon_reclaim", "damon_lru_sort" };
                _cleanup_free_ char *dir = NULL, *on = NULL;

                if (asprintf(&dir, "%s/module/%s/parameters", s->opts.sysfs_root ? s->opts.sysfs_root : "/sys",
                             mods[i]) < 0)
                        return -ENOMEM;
                if (damon_sysfs_read_line(dir, "enabled", &on) >= 0 && strcmp(on, "Y") == 0) {
                        log_error("DAMON is in use by someone else: %s is enabled (%s/enabled), and its kdamond is "
                                  "exclusive, so the kernel starts no other kdamond while it runs",
                                  mods[i], dir);
                        return -EBUSY;
                }
        }
        r = damon_owner_claim(s->admin, run_dir(s), s->opts.procfs_root, owner_user(s), "",
                              ", and never touches other users' kdamonds");
        if (r < 0)
                return r;
        s->created = true;

        r = damon_sysfs_write("1", "%s/contexts/nr_contexts", s->kd);
        if (r >= 0) {
                r = damon_sysfs_write("vaddr", "%s/%s/operations", s->kd, C);
                if (r == -EINVAL) {
                        log_error("DAMON has no vaddr operations in this kernel (CONFIG_DAMON_VADDR)");
                        goto fail;
                }
        }
        if (r >= 0)
                r = damon_sysfs_write_u64(s->iv.sample_us, "%s/%s/monitoring_attrs/intervals/sample_us", s->kd, C);
        if (r >= 0)
                r = damon_sysfs_write_u64(s->iv.aggr_us, "%s/%s/monitoring_attrs/intervals/aggr_us", s->kd, C);
        if (r >= 0)
                r = damon_sysfs_write_u64(s->iv.update_us, "%s/%s/monitoring_attrs/intervals/update_us", s->kd, C);
        if (r >= 0)
                r = damon_sysfs_write("300", "%s/%s/monitoring_attrs/nr_regions/min", s->kd, C);
        if (r >= 0)
                r = damon_sysfs_write("3000", "%s/%s/monitoring_attrs/nr_regions/max", s->kd, C);
        if (r < 0) {
                log_error_errno(r, "cannot set up tierd's kdamond context under %s: %m", s->kd);
                goto fail;
        }
        if (s->unmapped) {
                r = paddr_setup(s);
                if (r < 0)
                        goto fail;
        }
        return 0;
fail:
        kdamond_remove(s);
        return r;
}

/* Writes the target list (and, for "damon", one stat scheme per target
 * keeping only that target's regions) into the context directory. */
static int write_targets(Scanner *s, const DamonTargets *t) {
        const char *C = "contexts/0";
        int r;

        r = damon_sysfs_write_u64(t->n, "%s/%s/targets/nr_targets", s->kd, C);
        for (size_t i = 0; r >= 0 && i < t->n; i++)
                r = damon_sysfs_write_u64((uint64_t) t->pids[i], "%s/%s/targets/%zu/pid_target", s->kd, C, i);
        if (r < 0 || s->bpf)
                return r;

        r = damon_sysfs_write_u64(t->n, "%s/%s/schemes/nr_schemes", s->kd, C);
        for (size_t i = 0; r >= 0 && i < t->n; i++) {
                const char *S = "schemes";

                /* The access pattern defaults to 0-0 everywhere, which
                 * matches nothing: open every maximum. */
                r = damon_sysfs_write("stat", "%s/%s/%s/%zu/action", s->kd, C, S, i);
                if (r >= 0)
                        r = damon_sysfs_write("18446744073709551615", "%s/%s/%s/%zu/access_pattern/sz/max", s->kd, C, S, i);
                if (r >= 0)
                        r = damon_sysfs_write("4294967295", "%s/%s/%s/%zu/access_pattern/nr_accesses/max", s->kd, C, S, i);
                if (r >= 0)
                        r = damon_sysfs_write("4294967295", "%s/%s/%s/%zu/access_pattern/age/max", s->kd, C, S, i);
                if (r >= 0)
                        r = damon_sysfs_write("1", "%s/%s/%s/%zu/filters/nr_filters", s->kd, C, S, i);
                if (r >= 0)
                        r = damon_sysfs_write("target", "%s/%s/%s/%zu/filters/0/type", s->kd, C, S, i);
                if (r >= 0)
                        r = damon_sysfs_write_u64(i, "%s/%s/%s/%zu/filters/0/damon_target_idx", s->kd, C, S, i);
                /* matching N: filter out what is NOT target i */
                if (r >= 0)
                        r = damon_sysfs_write("N", "%s/%s/%s/%zu/filters/0/matching", s->kd, C, S, i);
        }
        return r;
}

static bool pid_alive(pid_t pid) {
        return kill(pid, 0) == 0 || errno == EPERM;
}

static uint64_t now_us(void) {
        struct timespec ts;

        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (uint64_t) ts.tv_sec * 1000000 + (uint64_t) ts.tv_nsec / 1000;
}

/* Snapshots follow the processes (damon_targets_map()): a process keeps
 * its last complete aggregation wherever it is placed; one that keeps its
 * position also keeps its placement time, one placed anew (new, or moved)
 * starts it now, by the kdamond's start (STARTED) or a commit. Partial
 * aggregations are dropped (their records are gone). */
static int snapshots_remap(Scanner *s, const DamonTargets *next, bool started) {
        _cleanup_free_ size_t *map = NULL;
        uint64_t now = now_us();
        Snapshot *sn = NULL;

        if (next->n > 0) {
                sn = calloc(next->n, sizeof(*sn));
                map = calloc(next->n, sizeof(*map));
                if (!sn || !map) {
                        free(sn);
                        return -ENOMEM;
                }
                damon_targets_map(&s->targets, next, map);
        }
        for (size_t i = 0; i < next->n; i++) {
                size_t o = map[i];

                if (o < s->n_snap) {
                        sn[i] = s->snap[o];
                        sn[i].n_building = 0;
                        s->snap[o] = (Snapshot) { 0 };
                        if (o != i) {
                                sn[i].placed_us = now;
                                sn[i].at_start = started;
                        }
                } else {
                        sn[i].placed_us = now;
                        sn[i].at_start = started;
                }
        }
        snapshots_free(s);
        s->snap = sn;
        s->n_snap = next->n;
        return 0;
}

static int on_region(const struct kscan_damon_region *ev, void *userdata);

/* Commits NEXT to the running kdamond. What the ring buffer holds then
 * was aggregated under the old list: it goes into the old positions'
 * snapshots first. 6.12 applies a commit in the kdamond at the end of the
 * next aggregation (the sysfs write waits for it); a pid the kernel cannot
 * find by then (a process reaped since the walk, which under churn is
 * most commits with short-lived processes in them) fails the commit, and
 * the failure ends the kdamond while the write still returns 0. So the
 * state is read back: off means the commit ended it, and the caller
 * starts it again (new regions, the same sysfs setup) rather than losing
 * a period. */
static int kdamond_commit(Scanner *s, const DamonTargets *next, bool *ret_ended) {
        bool on = false;
        int r;

        *ret_ended = false;
        if (s->kscan) {
                r = kscan_consume(s->kscan, on_region, s);
                if (r < 0)
                        return log_error_errno(r, "cannot read DAMON regions from the BPF ring buffer: %m");
        }
        r = write_targets(s, next);
        if (r >= 0)
                r = damon_sysfs_write("commit", "%s/state", s->kd);
        if (r < 0)
                return log_error_errno(r, "cannot commit new targets to tierd's kdamond: %m");
        r = kdamond_state(s, &on);
        if (r < 0)
                return log_error_errno(r, "cannot read the state of tierd's kdamond: %m");
        if (!on) {
                log_debug("kdamond %d ended at the commit of %zu process(es) (one exited before the kernel "
                          "applied it?): starting it again", (int) s->kdamond, next->n);
                if (s->kscan && s->kdamond > 0)
                        (void) kscan_damon_follow(s->kscan, s->kdamond, false);
                s->running = false;
                s->kdamond = 0;
                *ret_ended = true;
        }
        return 0;
}

/* kdamonds/1, once (with the first processes, or alone for tenants with
 * unmapped pages only). The processes' sampling does not depend on it: a
 * failure costs the unmapped pages' classification only, and is not tried
 * again. */
static void paddr_start(Scanner *s) {
        int r;

        if (!s->unmapped || s->pa_running || s->pa_failed)
                return;
        r = damon_sysfs_write("on", "%s/state", s->kd_pa);
        if (r < 0) {
                log_warning_errno(r, "cannot start tierd's paddr kdamond (%s), unmapped pages are not classified: %m",
                                  s->kd_pa);
                s->pa_failed = true;
                return;
        }
        s->pa_running = true;
        s->pa_started_us = now_us();
        log_debug("paddr kdamond started over %zu node span(s): unmapped pages are classified from the next period",
                  s->n_spans);
}

/* Stops kdamonds/0 alone, when no tenant has processes left but the
 * paddr kdamond goes on for their unmapped pages (kdamond_sync()). The
 * record says kdamond_pid 0 again: a stopped kdamonds/0 of tierd's shape
 * is what damon_leftover_is_ours() expects of it then. */
static void vaddr_stop(Scanner *s) {
        bool was_running = s->running;
        int r;

        vaddr_off(s);
        if (was_running) {
                r = owner_write(s, 0);
                if (r < 0 && r != -ENOMEM)
                        log_warning_errno(r, "cannot update %s/kdamond, ignoring: %m", run_dir(s));
        }
}

/* Starts the kdamond with NEXT. "on" checks the pids at once: a process
 * that exited since the walk makes the kernel refuse the list (-EINVAL),
 * retried without the processes gone (placed again after the old list,
 * damon_targets_drop()). */
static int kdamond_start(Scanner *s, DamonTargets *next) {
        uint64_t pid;
        int r = 0;

        for (int attempt = 0; attempt < 4; attempt++) {
                if (attempt > 0) {
                        r = damon_targets_drop(&s->targets, next, pid_alive);
                        if (r < 0)
                                return r;
                }
                if (next->n == 0)
                        return 0;
                r = write_targets(s, next);
                if (r >= 0)
                        r = damon_sysfs_write("on", "%s/state", s->kd);
                if (r != -EINVAL)
                        break;
                log_debug("the kernel refused the targets of tierd's kdamond (a process exited?), retrying");
        }
        if (r < 0)
                return log_error_errno(r, "cannot start tierd's kdamond: %m");
        r = damon_sysfs_read_u64(s->kd, "pid", &pid);
        if (r < 0)
                return log_error_errno(r, "cannot read the pid of tierd's kdamond: %m");
        s->kdamond = (pid_t) pid;
        s->running = true;
        paddr_start(s);
        r = owner_write(s, s->kdamond);
        if (r == -ENOMEM)
                return r;
        if (r < 0)
                log_warning_errno(r, "cannot record kdamond %d in %s/kdamond, ignoring: %m", (int) s->kdamond,
                                  run_dir(s));
        if (s->kscan) {
                r = kscan_damon_follow(s->kscan, s->kdamond, true);
                if (r < 0)
                        return log_error_errno(r, "cannot add kdamond %d to the BPF filter: %m", (int) s->kdamond);
        }
        log_debug("kdamond %d started for %zu process(es): sample %llu us, aggregation %llu us", (int) s->kdamond,
                  next->n, (unsigned long long) s->iv.sample_us, (unsigned long long) s->iv.aggr_us);
        return 0;
}

/* Starts the kdamond (or commits a new target list to the running one).
 * Returns 0 with s->running, or 0 with no targets left (all exited), or
 * -errno. */
static int kdamond_apply(Scanner *s, DamonTargets *next) {
        bool ended = false, started = false;
        int r;

        if (s->running) {
                r = kdamond_commit(s, next, &ended);
                if (r < 0)
                        return r;
        }
        if (!s->running) {
                r = kdamond_start(s, next);
                if (r < 0 || !s->running)
                        return r;
                started = true;
        }
        /* Records still in the ring buffer were emitted while the commit
         * was pending: aggregations of the old list, and the one the
         * commit ended, which the kernel emits under the new positions
         * but which holds the accesses of their old processes. */
        if (s->kscan)
                (void) kscan_consume(s->kscan, discard_region, NULL);
        r = snapshots_remap(s, next, started);
        if (r < 0)
                return r;
        damon_targets_done(&s->targets);
        s->targets = *next;
        *next = (DamonTargets) { 0 };
        return 0;
}

/* bpf: one record; complete aggregations per target replace the last. */
static int on_region(const struct kscan_damon_region *ev, void *userdata) {
        Scanner *s = userdata;
        Snapshot *sn;

        if (ev->target_id >= s->n_snap)
                return 0;
        sn = &s->snap[ev->target_id];
        if (sn->n_building > 0 &&
            (ev->nr_regions != sn->expect || ev->start < snap_end(&sn->building[sn->n_building - 1])))
                sn->n_building = 0; /* a partial aggregation: start over */
        if (ev->nr_regions == 0 || ev->nr_regions > SANE_NR_REGIONS || ev->end <= ev->start)
                return 0; /* not what the kernel sends: ignored */
        /* Sized to the aggregation's own region count (no growth by
         * doubling): this is the state memory() reports. */
        if (sn->n_building == 0 && sn->alloc_building != ev->nr_regions) {
                SnapRegion *p = realloc(sn->building, ev->nr_regions * sizeof(*p));

                if (!p)
                        return -ENOMEM;
                sn->building = p;
                sn->alloc_building = ev->nr_regions;
        }
        sn->expect = ev->nr_regions;
        sn->building[sn->n_building++] = (SnapRegion) {
                .start = ev->start,
                .pages = (uint32_t) min_u64(((uint64_t) ev->end - ev->start + 4095) / 4096, UINT32_MAX),
                .nr_accesses = (uint16_t) min_u64(ev->nr_accesses, UINT16_MAX),
                .age = (uint16_t) min_u64(ev->age, UINT16_MAX),
        };
        if (sn->n_building >= sn->expect) {
                SnapRegion *t = sn->regions;
                size_t ta = sn->alloc;

                sn->regions = sn->building;
                sn->alloc = sn->alloc_building;
                sn->n = sn->n_building;
                sn->building = t;
                sn->alloc_building = ta;
                sn->n_building = 0;
        }
        return 0;
}

/* Classifies REGIONS of target I into its tenant's heat; *RET_PLACED:
 * whether the regions could be placed on nodes (the process was there for
 * the status query). */
static int classify(Scanner *s, size_t i, const DamonRegion *regions, size_t n, TenantHeat *out, size_t *allocs,
                    uint64_t *span, bool *ret_placed) {
        _cleanup_free_ void **addrs = NULL;
        _cleanup_free_ int *status = NULL;
        size_t total = 0, k = 0;
        pid_t pid = s->targets.pids[i];
        TenantHeat *h = &out[s->targets.tenant[i]];
        size_t *alloc = &allocs[s->targets.tenant[i]];
        uint64_t period_us = s->opts.period_ms * 1000;
        uint64_t held_us = i < s->n_snap ? now_us() - s->snap[i].placed_us : UINT64_MAX;
        int r;

        *ret_placed = false;
        if (n == 0)
                return 0;
        for (size_t j = 0; j < n; j++)
                total += damon_region_nr_samples(&regions[j]);
        addrs = malloc(total * sizeof(*addrs));
        status = malloc(total * sizeof(*status));
        if (!addrs || !status)
                return -ENOMEM;
        for (size_t j = 0; j < n; j++) {
                size_t ns = damon_region_nr_samples(&regions[j]);

                for (size_t q = 0; q < ns; q++)
                        addrs[k++] = (void *) (uintptr_t) damon_region_sample_addr(&regions[j], ns, q);
        }
        if (move_pages(pid, total, addrs, NULL, status, 0) < 0) {
                r = -errno;
                if (r == -ESRCH) {
                        log_debug("process %d exited during the scan", (int) pid);
                        return 0;
                }
                if (r == -ENOMEM)
                        return r;
                log_debug("move_pages status query of process %d failed, nodes unknown: %s", (int) pid,
                          strerror(-r));
                for (size_t q = 0; q < total; q++)
                        status[q] = -1;
        } else
                *ret_placed = true;

        k = 0;
        for (size_t j = 0; j < n; j++) {
                const DamonRegion *reg = &regions[j];
                size_t ns = damon_region_nr_samples(reg), nr;
                ScanRange rr[DAMON_NODE_SAMPLES];
                uint8_t age = damon_heat_age(reg->nr_accesses, damon_age_clamp(reg->age, held_us, s->iv.aggr_us),
                                             s->iv.aggr_us, period_us);

                nr = damon_region_ranges(reg, pid, age, status + k, ns, s->opts.topology, rr);
                k += ns;
                *span += reg->end - reg->start;
                for (size_t q = 0; q < nr; q++) {
                        uint64_t len = rr[q].end - rr[q].start;

                        if (rr[q].tier >= 0 && rr[q].tier < HEAT_MAX_TIERS) {
                                h->heat.bytes[rr[q].tier][rr[q].age] += len;
                                h->tracked_bytes += len;
                        }
                        r = heat_add_range(h, &rr[q], alloc);
                        if (r < 0)
                                return r;
                }
        }
        return 0;
}

/* bpf: the last complete aggregation of a target as DamonRegions, for
 * the length of one scan. */
static int snapshot_regions(const Snapshot *sn, DamonRegion **ret, size_t *ret_n) {
        DamonRegion *v = NULL;

        if (sn->n > 0) {
                v = malloc(sn->n * sizeof(*v));
                if (!v)
                        return -ENOMEM;
        }
        for (size_t j = 0; j < sn->n; j++)
                v[j] = (DamonRegion) {
                        .start = sn->regions[j].start,
                        .end = snap_end(&sn->regions[j]),
                        .nr_accesses = sn->regions[j].nr_accesses,
                        .age = sn->regions[j].age,
                };
        *ret = v;
        *ret_n = sn->n;
        return 0;
}

static int collect_tried_regions(Scanner *s, size_t i, DamonRegion **ret, size_t *ret_n) {
        _cleanup_free_ char *dir = NULL;

        if (asprintf(&dir, "%s/contexts/0/schemes/%zu/tried_regions", s->kd, i) < 0)
                return -ENOMEM;
        return damon_read_tried_regions(dir, ret, ret_n);
}

/* Brings the kdamond in line with TARGETS. 1: it has regions to read
 * this period; 2: no process to monitor, but the paddr kdamond runs for
 * the tenants' unmapped pages; 0: none (nothing to monitor, just armed,
 * or it stopped by itself once every target exited); < 0: failed (the
 * kdamond removed once it was created). */
static int kdamond_sync(Scanner *s, const ScanTarget *targets, size_t n) {
        _cleanup_(damon_targets_done) DamonTargets next = { 0 };
        bool changed = false, on;
        bool paddr_alone = s->unmapped && !s->pa_failed && n > 0;
        int r;

        if (s->running) {
                r = kdamond_state(s, &on);
                if (r < 0) {
                        log_error_errno(r, "cannot read the state of tierd's kdamond: %m");
                        goto fail;
                }
                if (!on && paddr_alone) {
                        log_debug("tierd's kdamond stopped by itself (its processes exited): the paddr one goes on");
                        vaddr_stop(s);
                } else if (!on) {
                        log_debug("tierd's kdamond stopped by itself (its processes exited): removing it");
                        kdamond_remove(s);
                        return 0;
                }
        }
        r = damon_targets_next(&s->targets, targets, n, s->opts.procfs_root ? s->opts.procfs_root : "/proc",
                               s->opts.cgroup_mount, &next, &changed);
        if (r < 0)
                goto fail;
        if (next.n == 0 && paddr_alone) {
                /* Tenants without processes (a job's page cache and tmpfs
                 * outlive it) are still classified and moved: the paddr
                 * kdamond runs alone, and the DAMOS one can follow it. */
                if (s->running) {
                        log_debug("no processes to monitor: tierd's vaddr kdamond stops, the paddr one goes on");
                        vaddr_stop(s);
                }
                if (!s->created) {
                        r = kdamond_create(s);
                        if (r < 0)
                                return r;
                }
                paddr_start(s);
                return s->pa_running ? 2 : 0;
        }
        if (next.n == 0) {
                if (s->created) {
                        log_debug("no processes to monitor: removing tierd's kdamond");
                        kdamond_remove(s);
                }
                return 0;
        }
        if (!s->created) {
                r = kdamond_create(s);
                if (r < 0)
                        return r;
        }
        if (!s->running || changed) {
                bool first = !s->running;

                r = kdamond_apply(s, &next);
                if (r < 0)
                        goto fail;
                if (!s->running) {
                        /* every process exited meanwhile */
                        kdamond_remove(s);
                        return 0;
                }
                if (first)
                        return 0; /* armed: results from the next period */
        } else {
                /* Tenants may change for the same pids (a process moved);
                 * start times become known. */
                memcpy(s->targets.tenant, next.tenant, next.n * sizeof(*next.tenant));
                if (next.starts) {
                        free(s->targets.starts);
                        s->targets.starts = TAKE_PTR(next.starts);
                }
        }
        return 1;

fail:
        kdamond_remove(s);
        return r;
}

/* This period's regions into reach: the BPF ring buffer's records, or
 * DAMOS's tried regions. 1: read them; 0: the kdamond stopped (removed);
 * < 0: failed (removed). */
static int regions_fetch(Scanner *s) {
        bool on;
        int r;

        if (s->bpf) {
                r = kscan_consume(s->kscan, on_region, s);
                if (r < 0) {
                        log_error_errno(r, "cannot read DAMON regions from the BPF ring buffer: %m");
                        kdamond_remove(s);
                        return r;
                }
                if (kscan_dropped(s->kscan) > 0)
                        log_debug("%llu DAMON region records dropped (ring buffer full)",
                                  (unsigned long long) kscan_dropped(s->kscan));
                return 1;
        }
        r = damon_sysfs_write("update_schemes_tried_regions", "%s/state", s->kd);
        if (r < 0) {
                if (kdamond_state(s, &on) >= 0 && !on) {
                        log_debug("tierd's kdamond stopped during the scan: removing it");
                        kdamond_remove(s);
                        return 0;
                }
                log_error_errno(r, "cannot update the DAMOS tried regions of tierd's kdamond: %m");
                kdamond_remove(s);
                return r;
        }
        return 1;
}

/* Every target's regions into the heat of its tenant (OUT, N tenants),
 * and the pass this was for each tenant. */
static int classify_all(Scanner *s, const ScanTarget *targets, size_t n, TenantHeat *out) {
        _cleanup_free_ size_t *allocs = calloc(n ? n : 1, sizeof(*allocs));
        _cleanup_free_ bool *ok = calloc(s->targets.n ? s->targets.n : 1, sizeof(*ok));
        _cleanup_free_ bool *exact = calloc(n ? n : 1, sizeof(*exact));
        uint64_t span = 0, nregions = 0, now = now_us();
        int r;

        if (!allocs || !ok || !exact)
                return -ENOMEM;
        for (size_t i = 0; i < s->targets.n; i++) {
                _cleanup_free_ DamonRegion *regions = NULL;
                size_t nr = 0;
                bool placed = false;

                if (s->targets.tenant[i] >= n)
                        continue;
                if (s->bpf)
                        r = snapshot_regions(&s->snap[i], &regions, &nr);
                else {
                        r = collect_tried_regions(s, i, &regions, &nr);
                        if (r < 0)
                                log_error_errno(r, "cannot read the tried regions of target %zu (process %d): %m",
                                                i, (int) s->targets.pids[i]);
                }
                if (r < 0)
                        return r;
                r = classify(s, i, regions, nr, out, allocs, &span, &placed);
                if (r < 0)
                        return r;
                nregions += nr;
                ok[i] = nr > 0 && placed && i < s->n_snap &&
                        damon_target_settled(now - s->snap[i].placed_us, s->snap[i].at_start, &s->iv);
        }
        r = damon_tenants_exact(&s->targets, ok, targets, n, exact);
        if (r < 0)
                return r;
        for (size_t t = 0; t < n; t++)
                out[t].pass = HEAT_PASS_BEGIN | HEAT_PASS_END | (exact[t] ? HEAT_PASS_EXACT : 0u);
        for (size_t t = 0; t < n; t++) {
                TenantHeat *h = &out[t];

                r = heat_pick_candidates(h, h->ranges, h->n_ranges, s->opts.topology ? s->opts.topology->n_tiers : 1,
                                         s->opts.max_candidates);
                if (r < 0)
                        return r;
                if (!(s->opts.flags & HEAT_WANT_RANGES)) {
                        free(h->ranges);
                        h->ranges = NULL;
                        h->n_ranges = 0;
                }
        }
        s->last_regions = nregions;
        s->last_span = span;
        log_debug("%s: %llu DAMON regions over %llu KiB for %zu process(es)", s->bpf ? "bpf" : "damon",
                  (unsigned long long) nregions, (unsigned long long) (span / 1024), s->targets.n);
        return 0;
}

/* ---- unmapped pages: the sweep ------------------------------------------ */

static uint64_t thread_cpu_ns(void) {
        struct timespec ts;

        clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
        return (uint64_t) ts.tv_sec * 1000000000 + (uint64_t) ts.tv_nsec;
}

/* Whether MGLRU is on now (s->mglru), said once per change: it hides
 * read(2)/write(2) accesses of unmapped pages from DAMON's paddr checks. */
static void sweep_check_mglru(Scanner *s) {
        kpage_check_mglru(s->opts.sysfs_root, &s->mglru, s->bpf ? "bpf" : "damon", "DAMON's paddr checks");
}

/* The memcg words of the NP pages at PFN that are unmapped candidates
 * (FLAGS), into MEMCGS (0 for the others): kpagecgroup is read only over
 * runs of candidates, so free and kernel memory cost one read. */
static int read_memcgs(Scanner *s, uint64_t pfn, const uint64_t *flags, uint64_t *memcgs, size_t np) {
        memset(memcgs, 0, np * sizeof(*memcgs));
        for (size_t i = 0; i < np;) {
                size_t last = i;
                ssize_t got;

                if (!kpage_unmapped_candidate(flags[i])) {
                        i++;
                        continue;
                }
                for (size_t j = i + 1; j < np && j - last <= 64; j++)
                        if (kpage_unmapped_candidate(flags[j]))
                                last = j;
                got = kpage_pread(s->kpagecgroup_fd, memcgs + i, (last - i + 1) * 8, (pfn + i) * 8);
                if (got < 0)
                        return log_warning_errno((int) got, "cannot read /proc/kpagecgroup: %m");
                i = last + 1;
        }
        return 0;
}

/* The sweep's share of the scan (after classify_all(), whose pass flags
 * it adds to): this period's paddr regions, then PFN chunks from where the
 * sweep stopped, until the walk's CPU time reaches the budget (at least
 * one chunk: a sweep always ends) or the last PFN is passed; at the end,
 * every tenant the sweep covered whole gets its totals with
 * HEAT_PASS_UNMAPPED. Reading the regions is DAMON's fixed cost per
 * period, like the vaddr kdamond's, and not paced. */
static int unmapped_scan(Scanner *s, const ScanTarget *targets, size_t n, TenantHeat *out) {
        _cleanup_free_ DamonRegion *regions = NULL;
        _cleanup_free_ uint64_t *hash = NULL, *flags = NULL, *memcgs = NULL;
        _cleanup_free_ DamonUnmapped *acc = NULL;
        _cleanup_(kpage_memcgs_done) KpageMemcgs m = { 0 };
        _cleanup_free_ char *dir = NULL;
        uint64_t budget_ns = (uint64_t) s->opts.cpu_budget_permille * s->opts.period_ms * 1000, classified = 0, cpu0;
        size_t nr = 0, chunks = 0;
        bool ended = false;
        int r;

        if (!s->unmapped || !s->pa_running)
                return 0;
        if (!s->sweep.open) {
                sweep_check_mglru(s);
                if (s->mglru == 1)
                        return 0;
        }
        for (size_t t = 0; t < n; t++)
                out[t].pass |= HEAT_PASS_SWEEPING;
        /* DAMON's first regions are few and large, each checked at one
         * random page per sample: a hot file inside one reads idle (and
         * a few hot pages make much cold memory read hot) until the
         * adaptive splits have isolated it. No sweep before that: the
         * tenants' unmapped pages stay unscanned meanwhile. */
        if (!s->sweep.open && now_us() - s->pa_started_us < DAMON_PADDR_SETTLE_AGGRS * s->iv.aggr_us)
                return 0;
        hash = calloc(n ? n : 1, sizeof(*hash));
        acc = calloc(n ? n : 1, sizeof(*acc));
        flags = malloc(DAMON_PADDR_CHUNK * sizeof(*flags));
        memcgs = malloc(DAMON_PADDR_CHUNK * sizeof(*memcgs));
        if (!hash || !acc || !flags || !memcgs)
                return -ENOMEM;
        r = kpage_memcgs_build(s->opts.cgroup_mount, targets, n, &m, hash);
        if (r < 0)
                return r;
        if (!s->sweep.open) {
                r = damon_sweep_begin(&s->sweep, targets, n, hash);
                if (r < 0)
                        return r;
        } else
                damon_sweep_check(&s->sweep, targets, n, hash);
        r = damon_sysfs_write("update_schemes_tried_regions", "%s/state", s->kd_pa);
        if (r >= 0) {
                if (asprintf(&dir, "%s/contexts/0/schemes/0/tried_regions", s->kd_pa) < 0)
                        return -ENOMEM;
                r = damon_read_tried_regions(dir, &regions, &nr);
        }
        if (r < 0) {
                log_warning_errno(r, "cannot read the regions of tierd's paddr kdamond (%s), ignoring: %m", s->kd_pa);
                damon_sweep_fail(&s->sweep);
                return r == -ENOMEM ? r : 0;
        }
        s->last_pa_regions = nr;
        if (nr == 0)
                return 0; /* no aggregation yet: the sweep waits */
        cpu0 = thread_cpu_ns();
        for (;;) {
                ssize_t got = kpage_pread(s->kpageflags_fd, flags, DAMON_PADDR_CHUNK * 8, s->sweep.pfn * 8);
                size_t np;

                if (got < 0) {
                        log_warning_errno((int) got, "cannot read /proc/kpageflags, ignoring: %m");
                        damon_sweep_fail(&s->sweep);
                        break;
                }
                np = (size_t) got / 8;
                if (np > 0) {
                        r = read_memcgs(s, s->sweep.pfn, flags, memcgs, np);
                        if (r < 0) {
                                damon_sweep_fail(&s->sweep);
                                break;
                        }
                        classified += damon_unmapped_classify(regions, nr, s->sweep.pfn, flags, memcgs, np, &m,
                                                              s->spans, s->n_spans, s->opts.topology, s->iv.aggr_us,
                                                              s->opts.period_ms * 1000, acc);
                        s->sweep.pfn += np;
                        chunks++;
                }
                if (np < DAMON_PADDR_CHUNK) {
                        ended = true;
                        break;
                }
                if (budget_ns > 0 && thread_cpu_ns() - cpu0 >= budget_ns)
                        break;
        }
        damon_sweep_add(&s->sweep, targets, n, acc);
        log_debug("%s: unmapped pages: %zu paddr regions, %zu chunk(s) of PFNs, %" PRIu64 " KiB classified, "
                  "%s PFN %" PRIu64, s->bpf ? "bpf" : "damon", nr, chunks, classified / 1024,
                  ended ? "sweep ended at" : "going on from", s->sweep.pfn);
        if (ended)
                damon_sweep_end(&s->sweep, targets, n, out);
        return 0;
}

static int damon_scan(Scanner *s, const ScanTarget *targets, size_t n, TenantHeat *out) {
        int r;

        s->last_regions = 0;
        s->last_span = 0;
        r = kdamond_sync(s, targets, n);
        if (r == 2) {
                r = unmapped_scan(s, targets, n, out);
                if (r < 0)
                        kdamond_remove(s);
                return r;
        }
        if (r <= 0)
                return r;
        r = regions_fetch(s);
        if (r <= 0)
                return r;
        r = classify_all(s, targets, n, out);
        if (r >= 0)
                r = unmapped_scan(s, targets, n, out);
        if (r < 0)
                kdamond_remove(s);
        return r;
}

static void damon_close(Scanner *s) {
        if (!s)
                return;
        kdamond_remove(s);
        kscan_free(s->kscan);
        damon_targets_done(&s->targets);
        snapshots_free(s);
        damon_sweep_done(&s->sweep);
        if (s->kpageflags_fd >= 0)
                close(s->kpageflags_fd);
        if (s->kpagecgroup_fd >= 0)
                close(s->kpagecgroup_fd);
        free(s->spans);
        free(s->admin);
        free(s->kd);
        free(s->kd_pa);
        free(s->kd_mv);
        free(s);
}

/* What the classification of unmapped pages needs besides DAMON: the
 * struct-page files and the node of each PFN. Without them it is off
 * (said at info level), not an error: the processes are still sampled. */
static int unmapped_open(Scanner *s) {
        _cleanup_free_ char *zoneinfo = NULL, *fl = NULL, *cg = NULL;
        const char *proc = s->opts.procfs_root ? s->opts.procfs_root : "/proc";
        int r;

        if (asprintf(&fl, "%s/kpageflags", proc) < 0 || asprintf(&cg, "%s/kpagecgroup", proc) < 0)
                return -ENOMEM;
        s->kpageflags_fd = open(fl, O_RDONLY | O_CLOEXEC);
        if (s->kpageflags_fd < 0) {
                log_info("%s: cannot open %s (%s): unmapped pages (page cache, tmpfs, shmem) are not classified",
                         s->bpf ? "bpf" : "damon", fl, strerror(errno));
                return 0;
        }
        s->kpagecgroup_fd = open(cg, O_RDONLY | O_CLOEXEC);
        if (s->kpagecgroup_fd < 0) {
                log_info("%s: cannot open %s (%s, CONFIG_MEMCG): unmapped pages (page cache, tmpfs, shmem) are not "
                         "classified", s->bpf ? "bpf" : "damon", cg, strerror(errno));
                return 0;
        }
        r = read_full_file(s->opts.procfs_root, "/zoneinfo", &zoneinfo, NULL);
        if (r >= 0)
                r = zoneinfo_node_spans(zoneinfo, &s->spans, &s->n_spans);
        if (r == -ENOMEM)
                return r;
        if (r < 0) {
                log_info("%s: cannot read the node of each page frame from %s/zoneinfo (%s): unmapped pages are not "
                         "classified", s->bpf ? "bpf" : "damon", proc, strerror(-r));
                return 0;
        }
        s->unmapped = true;
        return 0;
}

static int open_common(const ScanOptions *opts, bool bpf, Scanner **ret) {
        Scanner *s;
        int r;

        if (opts->flags & HEAT_PHYSICAL)
                return log_error_errno(-EOPNOTSUPP, "the %s backend samples the tenants' processes (DAMON vaddr): "
                                                    "physical mode is not supported", bpf ? "bpf" : "damon");
        if (geteuid() != 0)
                return log_error_errno(-EPERM, "the %s backend drives DAMON through sysfs and needs root",
                                       bpf ? "bpf" : "damon");
        s = calloc(1, sizeof(*s));
        if (!s)
                return -ENOMEM;
        s->bpf = bpf;
        s->opts = *opts;
        s->kpageflags_fd = s->kpagecgroup_fd = -1;
        s->mglru = -1;
        if (s->opts.period_ms == 0)
                s->opts.period_ms = 1000;
        damon_intervals_for_period(s->opts.period_ms, &s->iv);
        if (asprintf(&s->admin, "%s/kernel/mm/damon/admin", opts->sysfs_root ? opts->sysfs_root : "/sys") < 0 ||
            asprintf(&s->kd, "%s/kdamonds/0", s->admin) < 0 || asprintf(&s->kd_pa, "%s/kdamonds/1", s->admin) < 0 ||
            asprintf(&s->kd_mv, "%s/kdamonds/2", s->admin) < 0) {
                r = -ENOMEM;
                goto fail;
        }
        if (opts->flags & HEAT_UNMAPPED) {
                r = unmapped_open(s);
                if (r == -ENOMEM)
                        goto fail;
        }
        if (access(s->admin, F_OK) < 0) {
                r = log_error_errno(-errno, "DAMON's sysfs interface (%s) is not available (CONFIG_DAMON_SYSFS): %m",
                                    s->admin);
                goto fail;
        }
        if (bpf) {
                KScanOptions ko = { .damon_only = true, .filter_kdamonds = true };

                r = kscan_open_with(&ko, &s->kscan);
                if (r < 0) {
                        log_error_errno(r, "the bpf backend needs BPF (kernel BTF, CAP_BPF and CAP_PERFMON or root): %m");
                        goto fail;
                }
                if (!kscan_attached(s->kscan, "damon")) {
                        r = log_error_errno(-EOPNOTSUPP, "the kernel has no damon:damon_aggregated tracepoint: "
                                                         "the bpf backend cannot read DAMON's regions");
                        goto fail;
                }
        }
        /* Claim DAMON now, so "in use by someone else" shows at open. */
        r = kdamond_create(s);
        if (r < 0)
                goto fail;
        *ret = s;
        return 0;
fail:
        damon_close(s);
        return r;
}

static int damon_open(const ScanOptions *opts, Scanner **ret) {
        return open_common(opts, false, ret);
}

static int bpf_open(const ScanOptions *opts, Scanner **ret) {
        return open_common(opts, true, ret);
}

static void damon_memory(const Scanner *s, uint64_t *ret_bytes, uint64_t *ret_pages) {
        /* The regions, kernel side (struct damon_region) and, for bpf, the
         * two snapshots per target kept here; the targets. The BPF ring
         * buffer is a fixed transport buffer, not tracking state, and is
         * not counted. */
        uint64_t bytes = s->last_regions * KERNEL_REGION_BYTES +
                         s->targets.n * (sizeof(pid_t) + sizeof(size_t) + (s->targets.starts ? sizeof(uint64_t) : 0));

        for (size_t i = 0; i < s->n_snap; i++)
                bytes += (s->snap[i].alloc + s->snap[i].alloc_building) * sizeof(SnapRegion) + sizeof(Snapshot);
        /* the paddr kdamond's regions and the sweep's tenants */
        bytes += s->last_pa_regions * KERNEL_REGION_BYTES + s->sweep.n * sizeof(DamonSweepTenant);
        *ret_bytes = bytes;
        *ret_pages = s->last_span / 4096;
}

/* kdamonds/2, for the DAMOS schemes of unmapped pages: while the three
 * kdamonds are this process's and the paddr one classifies (it starts with
 * the first processes), and not under MGLRU (no sweep then: the unmapped
 * pages go by memory.reclaim, whose LRU sees their read(2) accesses). */
static int damon_mover_kdamond(const Scanner *s) {
        return s && s->unmapped && s->created && s->pa_running && s->mglru != 1 ? 2 : -1;
}

const ScannerOps scanner_damon_ops = {
        .name = "damon",
        .caps = SCANNER_CAP_RANGES | SCANNER_CAP_KDAMOND | SCANNER_CAP_UNMAPPED,
        .needs = SCANNER_NEEDS_DAMON,
        .arming_periods = 2,
        .open = damon_open,
        .scan = damon_scan,
        .memory = damon_memory,
        .mover_kdamond = damon_mover_kdamond,
        .close = damon_close,
};

const ScannerOps scanner_bpf_ops = {
        .name = "bpf",
        .caps = SCANNER_CAP_RANGES | SCANNER_CAP_KDAMOND | SCANNER_CAP_UNMAPPED,
        .needs = SCANNER_NEEDS_DAMON | SCANNER_NEEDS_BPF | SCANNER_NEEDS_DAMON_TRACEPOINT,
        .arming_periods = 2,
        .open = bpf_open,
        .scan = damon_scan,
        .memory = damon_memory,
        .mover_kdamond = damon_mover_kdamond,
        .close = damon_close,
};
