/* SPDX-License-Identifier: MIT */
/* The DAMOS mover: migrate_hot / migrate_cold schemes on a paddr kdamond
 * of tierd's own, or on the one the damon/bpf scanner leaves off for it
 * (see mover.h for the model, the ownership rules and the kdamond
 * constraint shared with scanner/damon.c). */
#include "mover.h"
#include "damon_owner.h"
#include "damon_sysfs.h"
#include "zoneinfo.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "util.h"

#define MAX_RAM_RANGES 64
#define DEF_SAMPLE_US 20000
#define DEF_AGGR_US 400000
#define DEF_UPDATE_US 4000000
#define DEF_RESET_MS 1000
#define DEF_COLD_AGE_US 10000000
#define DEF_MIN_REGIONS 200
#define DEF_MAX_REGIONS 2000
#define MAX_NODE_SPANS 8

/* ---- pure helpers ------------------------------------------------------ */

int damos_quota_for_rate(uint64_t rate, uint64_t reset_ms, uint64_t *ret_sz, uint64_t *ret_reset_ms) {
        uint64_t sz;

        if (rate == 0)
                return -EINVAL;
        if (reset_ms == 0)
                reset_ms = DEF_RESET_MS;
        if (rate == DAMOS_RATE_UNLIMITED) {
                *ret_sz = 0;
                *ret_reset_ms = reset_ms;
                return 0;
        }
        if (rate / 1000 > UINT64_MAX / reset_ms)
                sz = UINT64_MAX; /* saturated */
        else if (rate > UINT64_MAX / reset_ms)
                sz = rate / 1000 * reset_ms; /* no overflow, slightly rounded */
        else
                sz = rate * reset_ms / 1000;
        if (sz < MOVER_PAGE_SIZE) {
                /* the window that holds one page at this rate, rounded up */
                reset_ms = ((uint64_t) MOVER_PAGE_SIZE * 1000 + rate - 1) / rate;
                sz = MOVER_PAGE_SIZE;
        }
        *ret_sz = sz;
        *ret_reset_ms = reset_ms;
        return 0;
}

uint64_t damos_quota_scale(uint64_t bytes, uint64_t tenant_bytes, uint64_t ram_bytes, uint64_t max_scale) {
        uint64_t scale;

        if (bytes == 0)
                return 0;
        if (tenant_bytes < MOVER_PAGE_SIZE)
                tenant_bytes = MOVER_PAGE_SIZE;
        scale = ram_bytes / tenant_bytes;
        if (scale > max_scale)
                scale = max_scale;
        if (scale < 1)
                scale = 1;
        if (bytes > UINT64_MAX / scale)
                return UINT64_MAX;
        return bytes * scale;
}

uint64_t damos_scale_next(uint64_t scale, uint64_t planned, uint64_t moved, bool aged, uint64_t max_scale) {
        if (scale == 0)
                scale = 1;
        if (max_scale == 0)
                max_scale = 1;
        if (planned == 0 || (moved == 0 && !aged))
                return scale;
        if (moved > planned) {
                /* scale * planned / moved, without the product's overflow */
                uint64_t s = (uint64_t) ((unsigned __int128) scale * planned / moved);

                return s ? s : 1;
        }
        if (moved < planned - planned / 2)
                return scale > max_scale / 2 ? max_scale : scale * 2;
        return scale;
}

int damos_node_ranges(const NodeSpan *spans, size_t n, int node, MoveSpan *out, size_t max) {
        size_t k = 0;

        for (size_t i = 0; i < n; i++) {
                if (spans[i].node != node || node < 0)
                        continue;
                if (k == max)
                        return -E2BIG;
                out[k++] = (MoveSpan) { spans[i].start * MOVER_PAGE_SIZE, spans[i].end * MOVER_PAGE_SIZE };
        }
        return (int) k;
}

int damos_parse_iomem(const char *text, MoveSpan *out, size_t max) {
        size_t n = 0;

        for (const char *l = text; l && *l; l = strchr(l, '\n'), l = l ? l + 1 : NULL) {
                unsigned long long s, e;
                int name_at = -1;

                if (*l == ' ' || *l == '\n')
                        continue; /* nested resources (Kernel code, ...) */
                if (sscanf(l, "%llx-%llx : %n", &s, &e, &name_at) < 2 || name_at < 0)
                        continue;
                if (strncmp(l + name_at, "System RAM", 10) != 0 || (l[name_at + 10] != '\n' && l[name_at + 10] != '\0'))
                        continue;
                if (e < s || (s == 0 && e == 0))
                        continue; /* addresses hidden from non-root readers read as 0 */
                if (n == max)
                        return -E2BIG;
                out[n++] = (MoveSpan) { (uint64_t) s, (uint64_t) e + 1 };
        }
        return (int) n;
}

int damos_split_ranges(const MoveSpan *ram, size_t n, size_t pieces, MoveSpan *out, size_t max) {
        uint64_t total = 0, piece;
        size_t k = 0;

        for (size_t i = 0; i < n; i++)
                total += ram[i].end - ram[i].start;
        if (pieces == 0)
                pieces = 1;
        piece = (total / pieces + MOVER_PAGE_SIZE - 1) & ~(uint64_t) (MOVER_PAGE_SIZE - 1);
        if (piece < MOVER_PAGE_SIZE)
                piece = MOVER_PAGE_SIZE;
        for (size_t i = 0; i < n; i++)
                for (uint64_t s = ram[i].start; s < ram[i].end;) {
                        uint64_t e = ram[i].end - s > piece ? s + piece : ram[i].end;

                        /* a short tail joins the piece before it */
                        if (ram[i].end - e < piece / 2)
                                e = ram[i].end;
                        if (k == max)
                                return -E2BIG;
                        out[k++] = (MoveSpan) { s, e };
                        s = e;
                }
        return (int) k;
}

/* ---- sysfs -------------------------------------------------------------- */

struct DamosMover {
        DamosOptions opts;
        char *admin;            /* <sysfs>/kernel/mm/damon/admin */
        char *kd;               /* <admin>/kdamonds/<opts.kdamond> */
        char *ctx;              /* <kd>/contexts/0 */
        bool created;
        bool running;
        pid_t pid;
        size_t n_tenants;
        int *promote_idx;       /* scheme index per tenant, -1 none */
        int *demote_idx;
        size_t n_schemes;
        char **cgroups;         /* keep_slots: the tenants' cgroups, for damos_update() */
        /* the physical ranges of the target nodes (from zoneinfo), which
         * the hot / cold schemes skip: their pages are there already */
        MoveSpan on_fast[MAX_NODE_SPANS], on_slow[MAX_NODE_SPANS];
        size_t n_on_fast, n_on_slow;
};

static void cgroups_free(DamosMover *m) {
        for (size_t t = 0; m->cgroups && t < m->n_tenants; t++)
                free(m->cgroups[t]);
        free(m->cgroups);
        m->cgroups = NULL;
}

static int cgroups_copy(DamosMover *m, const DamosTenant *tenants, size_t n) {
        cgroups_free(m);
        m->n_tenants = n;
        m->cgroups = calloc(n ? n : 1, sizeof(char *));
        if (!m->cgroups)
                return -ENOMEM;
        for (size_t t = 0; t < n; t++) {
                const char *c = tenants[t].cgroup;

                while (*c == '/')
                        c++;
                m->cgroups[t] = strdup(c);
                if (!m->cgroups[t])
                        return -ENOMEM;
        }
        return 0;
}

static bool same_tenants(const DamosMover *m, const DamosTenant *tenants, size_t n) {
        if (!m->cgroups || n != m->n_tenants)
                return false;
        for (size_t t = 0; t < n; t++) {
                const char *c = tenants[t].cgroup;

                while (*c == '/')
                        c++;
                if (strcmp(c, m->cgroups[t]) != 0)
                        return false;
        }
        return true;
}

static const char *run_dir(const DamosMover *m) {
        return m->opts.run_dir ? m->opts.run_dir : "/run/tierd";
}

/* Stops and removes the kdamond when this process created it; a kdamond
 * of the scanner's (opts.kdamond) is stopped and emptied (no context), not
 * removed: it stays the scanner's, which may have removed it already. */
static void kdamond_remove(DamosMover *m) {
        _cleanup_free_ char *st = NULL;
        int r;

        if (!m->created)
                return;
        if (damon_sysfs_read_line(m->kd, "state", &st) >= 0 && strcmp(st, "on") == 0) {
                r = damon_sysfs_write("off", "%s/state", m->kd);
                if (r < 0 && r != -EINVAL && r != -ENOENT)
                        log_warning_errno(r, "damos: cannot stop tierd's kdamond, ignoring: %m");
        }
        if (m->opts.kdamond > 0) {
                r = damon_sysfs_write("0", "%s/contexts/nr_contexts", m->kd);
                if (r < 0 && r != -ENOENT)
                        log_debug_errno(r, "damos: cannot empty %s, ignoring: %m", m->kd);
                m->created = false;
                m->running = false;
                m->pid = 0;
                return;
        }
        r = damon_sysfs_write("0", "%s/kdamonds/nr_kdamonds", m->admin);
        if (r < 0)
                log_warning_errno(r, "damos: cannot remove tierd's kdamond (nr_kdamonds 0): %m");
        else {
                m->created = false;
                damon_owner_remove(run_dir(m));
        }
        m->running = false;
        m->pid = 0;
}

/* The schemes of a tenant:
 *  SCHEME_HOT    migrate_hot to the fast node: regions with a sampled
 *                access; the tenant's pages that are young (accessed
 *                since their last check) move.
 *  SCHEME_CHECK  the young check alone, nothing moves: on while the
 *                tenant's DamosTenant.check_only is set, the hot scheme
 *                off then. A page never checked reads young (the kernel
 *                counts a page without its idle flag as accessed), so a
 *                hot scheme's first check of a region moved every page of
 *                the tenant in it: 5959 of 12288 freshly written cold
 *                pages in one test run. A window of this scheme first
 *                checks every page of the tenant once, in regions of any
 *                access count and age.
 *  SCHEME_COLD   migrate_cold to the slow node: regions with at most
 *                cold_max_accesses sampled accesses per aggregation for
 *                cold_min_age_us; the tenant's pages that are not young.
 *                With only idle regions (0 accesses), the cold pages of a
 *                region holding a few hot ones never moved: a tenant
 *                stayed 32 MiB over its limit for 13 periods in one test
 *                run, every period's demotion failing. */
typedef enum SchemeKind { SCHEME_HOT, SCHEME_CHECK, SCHEME_COLD } SchemeKind;

/* The filters of scheme directory S (see write_scheme()). */
static int write_filters(const char *S, SchemeKind kind, const char *memcg, const MoveSpan *skip, size_t n_skip,
                         bool file_only) {
        bool hot = kind != SCHEME_COLD;
        int f0 = file_only && kind != SCHEME_CHECK ? 1 : 0; /* the anon filter, after the memcg one */
        int r = 0;

        /* Only the tenant's pages: drop those NOT charged to its memcg.
         * Then the young check (it clears the accessed bits it reads, and
         * 6.12 stops at the first filter that drops a page, so other
         * cgroups' pages are never touched): migrate_cold drops the pages
         * accessed since their last check (young, matching): a region
         * DAMON found idle can still hold hot pages its samples missed
         * (paddr regions mix pages of every kind), and without this it
         * moved them with the rest (258 of a 4096-page hot set in one test
         * run). migrate_hot, the other way round, drops the pages NOT
         * accessed since (young, not matching): a region with a few hot
         * pages among cold ones has few sampled accesses, so the scheme
         * takes regions with any (hot_min_accesses, see damos_open()) and
         * this picks the hot pages out of them. The check scheme then
         * drops every page (anonymous, and not anonymous). */
        r = damon_sysfs_write_u64(kind == SCHEME_CHECK ? 4 : 2 + (size_t) f0 + n_skip, "%s/filters/nr_filters", S);
        if (r >= 0)
                r = damon_sysfs_write("memcg", "%s/filters/0/type", S);
        if (r >= 0)
                r = damon_sysfs_write(memcg, "%s/filters/0/memcg_path", S);
        if (r >= 0)
                r = damon_sysfs_write("N", "%s/filters/0/matching", S);
        /* file_only: anonymous pages dropped (before the young check, which
         * then leaves their accessed bits alone) */
        if (r >= 0 && f0)
                r = damon_sysfs_write("anon", "%s/filters/1/type", S);
        if (r >= 0 && f0)
                r = damon_sysfs_write("Y", "%s/filters/1/matching", S);
        if (r >= 0)
                r = damon_sysfs_write("young", "%s/filters/%d/type", S, 1 + f0);
        if (r >= 0)
                r = damon_sysfs_write(hot ? "N" : "Y", "%s/filters/%d/matching", S, 1 + f0);
        for (int f = 2; r >= 0 && kind == SCHEME_CHECK && f < 4; f++) {
                r = damon_sysfs_write("anon", "%s/filters/%d/type", S, f);
                if (r >= 0)
                        r = damon_sysfs_write(f == 2 ? "Y" : "N", "%s/filters/%d/matching", S, f);
        }
        /* Regions on the target node skipped whole (type addr, matching;
         * DAMON checks these per region, before the quota is charged):
         * otherwise the hot scheme tries the promoted hot pages again at
         * every aggregation, and its quota goes there before the hot pages
         * still on the slow node. Only matching: an addr filter that does
         * not match drops every page at the page-level checks of 6.12. */
        for (size_t k = 0; r >= 0 && k < n_skip; k++) {
                size_t f = 2 + (size_t) f0 + k;

                r = damon_sysfs_write("addr", "%s/filters/%zu/type", S, f);
                if (r >= 0)
                        r = damon_sysfs_write_u64(skip[k].start, "%s/filters/%zu/addr_start", S, f);
                if (r >= 0)
                        r = damon_sysfs_write_u64(skip[k].end, "%s/filters/%zu/addr_end", S, f);
                if (r >= 0)
                        r = damon_sysfs_write("Y", "%s/filters/%zu/matching", S, f);
        }
        return r;
}

static int write_scheme(DamosMover *m, size_t i, SchemeKind kind, const char *memcg, uint64_t rate) {
        const DamosOptions *o = &m->opts;
        _cleanup_free_ char *S = NULL;
        bool hot = kind != SCHEME_COLD;
        const MoveSpan *skip = kind == SCHEME_HOT ? m->on_fast : m->on_slow;
        size_t n_skip = kind == SCHEME_HOT ? m->n_on_fast : kind == SCHEME_COLD ? m->n_on_slow : 0;
        uint64_t sz, reset_ms, age_min;
        int r;

        if (asprintf(&S, "%s/schemes/%zu", m->ctx, i) < 0)
                return -ENOMEM;
        /* Rate 0 (a kept slot with nothing to move): a quota of 0 would
         * mean "no quota", so the scheme matches no region instead (sz max
         * 0: no region is empty). The check scheme moves nothing and has
         * no quota. */
        if (kind == SCHEME_CHECK) {
                rate = rate ? DAMOS_RATE_UNLIMITED : 0;
                sz = 0;
                reset_ms = o->reset_interval_ms;
        } else {
                r = damos_quota_for_rate(rate ? rate : MOVER_PAGE_SIZE, o->reset_interval_ms, &sz, &reset_ms);
                if (r < 0)
                        return r;
        }
        r = damon_sysfs_write(hot ? "migrate_hot" : "migrate_cold", "%s/action", S);
        if (r == -EINVAL) {
                log_error("damos: this kernel has no DAMOS action %s (Linux 6.11+)", hot ? "migrate_hot" : "migrate_cold");
                return -EOPNOTSUPP;
        }
        if (r >= 0) {
                r = damon_sysfs_write_u64((uint64_t) (hot ? o->fast_node : o->slow_node), "%s/target_nid", S);
                if (r == -ENOENT) {
                        log_error("damos: the DAMOS schemes of this kernel have no target_nid (Linux 6.11+)");
                        return -EOPNOTSUPP;
                }
        }
        /* Every maximum: sysfs starts them at 0. */
        if (r >= 0)
                r = damon_sysfs_write("0", "%s/access_pattern/sz/min", S);
        if (r >= 0)
                r = damon_sysfs_write(rate ? "18446744073709551615" : "0", "%s/access_pattern/sz/max", S);
        switch (kind) {
        case SCHEME_HOT:
                if (r >= 0)
                        r = damon_sysfs_write_u64(o->hot_min_accesses, "%s/access_pattern/nr_accesses/min", S);
                if (r >= 0)
                        r = damon_sysfs_write("4294967295", "%s/access_pattern/nr_accesses/max", S);
                age_min = 0;
                break;
        case SCHEME_CHECK:
                if (r >= 0)
                        r = damon_sysfs_write("0", "%s/access_pattern/nr_accesses/min", S);
                if (r >= 0)
                        r = damon_sysfs_write("4294967295", "%s/access_pattern/nr_accesses/max", S);
                age_min = 0;
                break;
        default:
                if (r >= 0)
                        r = damon_sysfs_write("0", "%s/access_pattern/nr_accesses/min", S);
                if (r >= 0)
                        r = damon_sysfs_write_u64(o->cold_max_accesses, "%s/access_pattern/nr_accesses/max", S);
                age_min = o->cold_min_age_us / o->aggr_us;
        }
        if (r >= 0)
                r = damon_sysfs_write_u64(age_min, "%s/access_pattern/age/min", S);
        if (r >= 0)
                r = damon_sysfs_write("4294967295", "%s/access_pattern/age/max", S);
        /* The quota: bytes per reset interval; no time quota. */
        if (r >= 0)
                r = damon_sysfs_write("0", "%s/quotas/ms", S);
        if (r >= 0)
                r = damon_sysfs_write_u64(sz, "%s/quotas/bytes", S);
        if (r >= 0)
                r = damon_sysfs_write_u64(reset_ms, "%s/quotas/reset_interval_ms", S);
        if (r >= 0)
                r = write_filters(S, kind, memcg, skip, n_skip, o->file_only);
        return r;
}

/* Writes the schemes of tenant T at its indexes (the check scheme follows
 * the hot one). */
static int write_tenant(DamosMover *m, size_t t, const char *memcg, const DamosTenant *dt) {
        int r = 0;

        if (m->promote_idx[t] >= 0) {
                r = write_scheme(m, (size_t) m->promote_idx[t], SCHEME_HOT, memcg,
                                 dt->check_only ? 0 : dt->promote_rate);
                if (r >= 0)
                        r = write_scheme(m, (size_t) m->promote_idx[t] + 1, SCHEME_CHECK, memcg, dt->check_only);
        }
        if (r >= 0 && m->demote_idx[t] >= 0)
                r = write_scheme(m, (size_t) m->demote_idx[t], SCHEME_COLD, memcg, dt->demote_rate);
        return r;
}

static int load_ram_ranges(const char *procfs_root, MoveSpan *out, size_t max) {
        _cleanup_free_ char *text = NULL;
        int r = read_full_file(procfs_root ? procfs_root : "/proc", "/iomem", &text, NULL);

        if (r < 0)
                return log_error_errno(r, "damos: cannot read %s/iomem: %m", procfs_root ? procfs_root : "/proc");
        r = damos_parse_iomem(text, out, max);
        if (r == 0)
                return log_error_errno(-EPERM, "damos: no System RAM ranges in %s/iomem (addresses are shown "
                                               "to root only)", procfs_root ? procfs_root : "/proc");
        return r;
}

/* The physical address ranges of the fast and the slow node, from
 * zoneinfo (ranges shared with another node are left out: their pages are
 * not skipped). Without them (more ranges than MAX_NODE_SPANS, zoneinfo
 * unreadable) the schemes skip nothing, which is correct but slower. */
static void load_node_spans(DamosMover *m) {
        _cleanup_free_ char *text = NULL;
        _cleanup_free_ NodeSpan *spans = NULL;
        const char *proc = m->opts.procfs_root ? m->opts.procfs_root : "/proc";
        size_t n = 0;
        int r, nf, ns;

        m->n_on_fast = m->n_on_slow = 0;
        r = read_full_file(proc, "/zoneinfo", &text, NULL);
        if (r >= 0)
                r = zoneinfo_node_spans(text, &spans, &n);
        if (r < 0) {
                log_debug_errno(r, "damos: no node ranges from %s/zoneinfo (%m): the schemes skip no region", proc);
                return;
        }
        nf = damos_node_ranges(spans, n, m->opts.fast_node, m->on_fast, MAX_NODE_SPANS);
        ns = damos_node_ranges(spans, n, m->opts.slow_node, m->on_slow, MAX_NODE_SPANS);
        if (nf < 0 || ns < 0) {
                log_debug("damos: node %d or %d has more than %d physical ranges: the schemes skip no region",
                          m->opts.fast_node, m->opts.slow_node, MAX_NODE_SPANS);
                return;
        }
        m->n_on_fast = (size_t) nf;
        m->n_on_slow = (size_t) ns;
}

/* Lays out and writes the schemes of TENANTS (sets the index arrays,
 * which hold N entries). With keep_slots every tenant has both schemes,
 * a rate of 0 disabling one; otherwise only those with a rate. */
static int write_schemes(DamosMover *m, const DamosTenant *tenants, size_t n, size_t *ret_k) {
        size_t k = 0;
        int r;

        for (size_t t = 0; t < n; t++) {
                m->promote_idx[t] = tenants[t].promote_rate || tenants[t].check_only || m->opts.keep_slots ? (int) k : -1;
                k += m->promote_idx[t] >= 0 ? 2 : 0; /* and its check scheme */
                m->demote_idx[t] = tenants[t].demote_rate || m->opts.keep_slots ? (int) k++ : -1;
        }
        m->n_schemes = k;
        r = damon_sysfs_write_u64(k, "%s/schemes/nr_schemes", m->ctx);
        for (size_t t = 0; r >= 0 && t < n; t++) {
                _cleanup_free_ char *memcg = NULL;
                const char *c = tenants[t].cgroup;

                while (*c == '/')
                        c++;
                if (asprintf(&memcg, "/%s", c) < 0)
                        return -ENOMEM;
                r = write_tenant(m, t, memcg, &tenants[t]);
        }
        if (r == -EOPNOTSUPP)
                return r;
        if (r < 0)
                return log_error_errno(r, "damos: cannot write the schemes under %s: %m", m->ctx);
        *ret_k = k;
        return 0;
}

static int kdamond_setup(DamosMover *m, const DamosTenant *tenants, size_t n) {
        const DamosOptions *o = &m->opts;
        _cleanup_free_ MoveSpan *regions = NULL;
        MoveSpan ram[MAX_RAM_RANGES];
        size_t k = 0, max_regions = o->min_regions + 2 * MAX_RAM_RANGES;
        uint64_t nr;
        int r, nram, nreg;

        nram = load_ram_ranges(o->procfs_root, ram, ELEMENTSOF(ram));
        if (nram < 0)
                return nram;
        /* paddr has no initial split (vaddr's init makes min_nr_regions
         * regions; paddr starts from what it is given and splits by 2-3
         * per aggregation): given one region per RAM range, the first
         * aggregations see regions of gigabytes, any access anywhere makes
         * one "hot", and migrate_hot moves every page of the tenant in it. */
        regions = malloc(max_regions * sizeof(*regions));
        if (!regions)
                return -ENOMEM;
        nreg = damos_split_ranges(ram, (size_t) nram, o->min_regions, regions, max_regions);
        if (nreg < 0)
                return nreg;

        load_node_spans(m);
        if (o->kdamond > 0) {
                /* the scanner's: there, and not running */
                _cleanup_free_ char *st = NULL;

                r = damon_sysfs_read_line(m->kd, "state", &st);
                if (r < 0)
                        return log_error_errno(r, "damos: cannot read %s/state (the scanner's kdamond for the DAMOS "
                                                  "schemes): %m", m->kd);
                if (strcmp(st, "off") != 0)
                        return log_error_errno(-EBUSY, "damos: %s is not off (state %s): not tierd's to use", m->kd,
                                               st);
        } else {
                r = damon_owner_claim(m->admin, run_dir(m), o->procfs_root, DAMON_USER_MOVER, "damos: ",
                                      " (the damon/bpf scanner backend's kdamond counts too)");
                if (r < 0)
                        return r;
        }
        m->created = true;

        r = damon_sysfs_write("1", "%s/contexts/nr_contexts", m->kd);
        if (r >= 0) {
                r = damon_sysfs_write("paddr", "%s/operations", m->ctx);
                if (r == -EINVAL)
                        return log_error_errno(-EOPNOTSUPP, "damos: DAMON has no paddr operations in this kernel "
                                                            "(CONFIG_DAMON_PADDR)");
        }
        if (r >= 0)
                r = damon_sysfs_write_u64(o->sample_us, "%s/monitoring_attrs/intervals/sample_us", m->ctx);
        if (r >= 0)
                r = damon_sysfs_write_u64(o->aggr_us, "%s/monitoring_attrs/intervals/aggr_us", m->ctx);
        if (r >= 0)
                r = damon_sysfs_write_u64(o->update_us, "%s/monitoring_attrs/intervals/update_us", m->ctx);
        if (r >= 0)
                r = damon_sysfs_write_u64(o->min_regions, "%s/monitoring_attrs/nr_regions/min", m->ctx);
        if (r >= 0)
                r = damon_sysfs_write_u64(o->max_regions, "%s/monitoring_attrs/nr_regions/max", m->ctx);
        /* One target: physical memory, the System RAM ranges. */
        if (r >= 0)
                r = damon_sysfs_write("1", "%s/targets/nr_targets", m->ctx);
        if (r >= 0)
                r = damon_sysfs_write_u64((uint64_t) nreg, "%s/targets/0/regions/nr_regions", m->ctx);
        for (int i = 0; r >= 0 && i < nreg; i++) {
                r = damon_sysfs_write_u64(regions[i].start, "%s/targets/0/regions/%d/start", m->ctx, i);
                if (r >= 0)
                        r = damon_sysfs_write_u64(regions[i].end, "%s/targets/0/regions/%d/end", m->ctx, i);
        }
        if (r < 0)
                return log_error_errno(r, "damos: cannot set up the paddr context under %s: %m", m->ctx);

        r = write_schemes(m, tenants, n, &k);
        if (r < 0)
                return r;

        r = damon_sysfs_write("on", "%s/state", m->kd);
        if (r < 0)
                return log_error_errno(r, "damos: cannot start tierd's kdamond: %m");
        m->running = true;
        r = damon_sysfs_read_u64(m->kd, "pid", &nr);
        if (r < 0)
                return log_error_errno(r, "damos: cannot read the pid of tierd's kdamond: %m");
        m->pid = (pid_t) nr;
        /* a kdamond of the scanner's is in the scanner's record */
        r = o->kdamond > 0 ? 0 : damon_owner_write(run_dir(m), o->procfs_root, DAMON_USER_MOVER, m->pid);
        if (r == -ENOMEM)
                return r;
        if (r < 0)
                log_warning_errno(r, "damos: cannot record kdamond %d in %s/kdamond, ignoring: %m", (int) m->pid,
                                  run_dir(m));
        log_debug("damos: kdamond %d started: %zu scheme(s) for %zu tenant(s) over %d RAM range(s) in %d regions",
                  (int) m->pid, k, n, nram, nreg);
        return 0;
}

int damos_open(const DamosOptions *opts, const DamosTenant *tenants, size_t n, DamosMover **ret) {
        _cleanup_(damos_closep) DamosMover *m = NULL;
        const char *sysfs = opts->sysfs_root ? opts->sysfs_root : "/sys";
        int r;

        if (opts->fast_node < 0 || opts->slow_node < 0 || n == 0 || opts->kdamond < 0)
                return -EINVAL;
        if (geteuid() != 0)
                return log_error_errno(-EPERM, "damos: driving DAMON through sysfs needs root");
        m = calloc(1, sizeof(*m));
        if (!m)
                return -ENOMEM;
        m->opts = *opts;
        if (!m->opts.sample_us)
                m->opts.sample_us = DEF_SAMPLE_US;
        if (!m->opts.aggr_us)
                m->opts.aggr_us = DEF_AGGR_US;
        if (m->opts.aggr_us < m->opts.sample_us)
                m->opts.aggr_us = m->opts.sample_us;
        if (!m->opts.update_us)
                m->opts.update_us = DEF_UPDATE_US;
        if (!m->opts.reset_interval_ms)
                m->opts.reset_interval_ms = DEF_RESET_MS;
        /* any sampled access: the young filter (write_scheme()) picks
         * the hot pages out of a region */
        if (!m->opts.hot_min_accesses)
                m->opts.hot_min_accesses = 1;
        /* a tenth of the samples: DAMON's own threshold for merging
         * regions and for keeping a region's age (6.12 kdamond_fn():
         * max_nr_accesses / 10), so a region whose few hot pages are hit
         * by a sample now and then still ages; its cold pages move, its
         * hot ones stay (young). Regions with more accesses are mostly
         * hot, and their cold pages wait for DAMON to split them. */
        if (!m->opts.cold_max_accesses) {
                uint64_t a = m->opts.aggr_us / m->opts.sample_us / 10;

                m->opts.cold_max_accesses = a < 1 ? 1 : a > UINT32_MAX ? UINT32_MAX : (uint32_t) a;
        }
        if (!m->opts.cold_min_age_us)
                m->opts.cold_min_age_us = DEF_COLD_AGE_US;
        if (!m->opts.min_regions)
                m->opts.min_regions = DEF_MIN_REGIONS;
        if (!m->opts.max_regions)
                m->opts.max_regions = DEF_MAX_REGIONS;
        if (m->opts.max_regions < m->opts.min_regions)
                m->opts.max_regions = m->opts.min_regions;
        m->n_tenants = n;
        m->promote_idx = calloc(n, sizeof(int));
        m->demote_idx = calloc(n, sizeof(int));
        if (!m->promote_idx || !m->demote_idx)
                return -ENOMEM;
        if (asprintf(&m->admin, "%s/kernel/mm/damon/admin", sysfs) < 0 ||
            asprintf(&m->kd, "%s/kdamonds/%d", m->admin, m->opts.kdamond) < 0 ||
            asprintf(&m->ctx, "%s/contexts/0", m->kd) < 0)
                return -ENOMEM;
        if (access(m->admin, F_OK) < 0)
                return log_error_errno(-EOPNOTSUPP, "damos: DAMON's sysfs interface (%s) is not available", m->admin);

        /* The kernel refuses an unknown memcg_path only at "on", with a
         * bare -EINVAL: tell a missing cgroup apart first. */
        for (size_t t = 0; t < n; t++) {
                _cleanup_free_ char *dir = NULL;
                const char *c = tenants[t].cgroup;

                if (!c)
                        return -EINVAL;
                while (*c == '/')
                        c++;
                if (asprintf(&dir, "%s/%s", m->opts.cgroup_mount ? m->opts.cgroup_mount : "/sys/fs/cgroup", c) < 0)
                        return -ENOMEM;
                if (access(dir, F_OK) < 0)
                        return log_error_errno(-ENOENT, "damos: tenant cgroup %s does not exist", dir);
                if (tenants[t].promote_rate == 0 && tenants[t].demote_rate == 0)
                        log_debug("damos: tenant %s has neither a promotion nor a demotion rate: no scheme", c);
        }

        if (m->opts.keep_slots) {
                r = cgroups_copy(m, tenants, n);
                if (r < 0)
                        return r;
        }
        r = kdamond_setup(m, tenants, n);
        if (r < 0) {
                kdamond_remove(m);
                return r;
        }
        *ret = TAKE_PTR(m);
        return 0;
}

pid_t damos_kdamond_pid(const DamosMover *m) {
        return m ? m->pid : 0;
}

static int read_stats(const char *dir, DamosStats *ret) {
        int r;

        r = damon_sysfs_read_u64(dir, "nr_tried", &ret->nr_tried);
        if (r >= 0)
                r = damon_sysfs_read_u64(dir, "sz_tried", &ret->sz_tried);
        if (r >= 0)
                r = damon_sysfs_read_u64(dir, "nr_applied", &ret->nr_applied);
        if (r >= 0)
                r = damon_sysfs_read_u64(dir, "sz_applied", &ret->sz_applied);
        if (r >= 0)
                r = damon_sysfs_read_u64(dir, "qt_exceeds", &ret->qt_exceeds);
        return r;
}

int damos_read_stats(DamosMover *m, DamosTenantStats *ret, size_t n) {
        _cleanup_free_ char *st = NULL;
        int r;

        if (!m->running)
                return -ESRCH;
        r = damon_sysfs_read_line(m->kd, "state", &st);
        if (r == -ENOENT && m->opts.kdamond > 0) {
                /* the scanner removed its kdamonds (its processes exited) */
                log_debug("damos: %s is gone (removed by the scanner)", m->kd);
                kdamond_remove(m);
                return -ESRCH;
        }
        if (r >= 0 && strcmp(st, "on") != 0) {
                log_error("damos: tierd's kdamond stopped by itself");
                kdamond_remove(m);
                return -ESRCH;
        }
        r = damon_sysfs_write("update_schemes_stats", "%s/state", m->kd);
        if (r < 0)
                goto fail;
        for (size_t t = 0; t < n && t < m->n_tenants; t++) {
                ret[t] = (DamosTenantStats) { .has_promote = m->promote_idx[t] >= 0, .has_demote = m->demote_idx[t] >= 0 };
                for (int d = 0; d < 2; d++) {
                        _cleanup_free_ char *dir = NULL;
                        int idx = d == 0 ? m->promote_idx[t] : m->demote_idx[t];

                        if (idx < 0)
                                continue;
                        if (asprintf(&dir, "%s/schemes/%d/stats", m->ctx, idx) < 0) {
                                r = -ENOMEM;
                                goto fail;
                        }
                        r = read_stats(dir, d == 0 ? &ret[t].promote : &ret[t].demote);
                        if (r < 0)
                                goto fail;
                }
        }
        return 0;
fail:
        log_error_errno(r, "damos: cannot read the scheme stats of tierd's kdamond: %m");
        kdamond_remove(m);
        return r;
}

int damos_update(DamosMover *m, const DamosTenant *tenants, size_t n) {
        bool same;
        size_t k;
        int r;

        if (!m->running || !m->opts.keep_slots)
                return -ESRCH;
        same = same_tenants(m, tenants, n);
        if (!same) {
                int *pi = realloc(m->promote_idx, (n ? n : 1) * sizeof(int)),
                    *di = pi ? realloc(m->demote_idx, (n ? n : 1) * sizeof(int)) : NULL;

                if (pi)
                        m->promote_idx = pi;
                if (di)
                        m->demote_idx = di;
                if (!pi || !di)
                        return -ENOMEM;
                /* until the new layout is written, no tenant has a
                 * scheme (n_tenants is what damos_read_stats() walks) */
                cgroups_free(m);
                m->n_tenants = 0;
                r = write_schemes(m, tenants, n, &k);
                if (r >= 0)
                        r = cgroups_copy(m, tenants, n);
        } else {
                r = 0;
                for (size_t t = 0; r >= 0 && t < n; t++) {
                        _cleanup_free_ char *memcg = NULL;

                        if (asprintf(&memcg, "/%s", m->cgroups[t]) < 0)
                                return -ENOMEM;
                        r = write_tenant(m, t, memcg, &tenants[t]);
                }
                if (r < 0 && r != -ENOMEM)
                        log_error_errno(r, "damos: cannot write the schemes under %s: %m", m->ctx);
        }
        if (r < 0)
                return r;
        r = damon_sysfs_write("commit", "%s/state", m->kd);
        if (r < 0)
                return log_error_errno(r, "damos: cannot commit the schemes of tierd's kdamond (a tenant's "
                                          "cgroup gone?): %m");
        return same ? 0 : 1;
}

void damos_close(DamosMover *m) {
        if (!m)
                return;
        kdamond_remove(m);
        cgroups_free(m);
        free(m->promote_idx);
        free(m->demote_idx);
        free(m->admin);
        free(m->kd);
        free(m->ctx);
        free(m);
}
