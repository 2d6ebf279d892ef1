/* SPDX-License-Identifier: MIT */
#include "scan.h"

#include <inttypes.h>
#include <json-c/json.h>
#include <signal.h>
#include <stdarg.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#include "cgroup.h"
#include "scanner.h"
#include "tenants.h"
#include "topology.h"
#include "util.h"

/* Whether the probe found the tracepoint NAME in the kernel's BTF. */
static bool tracepoint_present(const Probe *p, const char *name) {
        for (int i = 0; i < p->n_tracepoints; i++)
                if (strcmp(p->tracepoints[i].name, name) == 0)
                        return p->tracepoints[i].present;
        return false;
}

/* The probe's backend verdict behind each SCANNER_NEEDS_* bit (the bpf
 * backend drives DAMON and reads it through the tracepoint collector, so
 * it needs both, and the damon:damon_aggregated tracepoint, which is
 * optional for the collector's migration counters, all the probe's "bpf"
 * verdict covers). */
static const struct {
        unsigned need;
        ProbeBackendId backend;       /* _BACKEND_MAX: the tracepoint */
} needs_table[] = {
        { SCANNER_NEEDS_IDLE_PAGE, BACKEND_IDLE_PAGE },
        { SCANNER_NEEDS_BPF, BACKEND_BPF },
        { SCANNER_NEEDS_DAMON, BACKEND_DAMON },
        { SCANNER_NEEDS_DAMON_TRACEPOINT, _BACKEND_MAX },
        { SCANNER_NEEDS_LRU_GEN, BACKEND_LRU_GEN },
};

/* Why OPS is not usable per the probe; NULL when it is. */
static const char *unusable_reason(const Probe *p, const ScannerOps *ops) {
        for (size_t i = 0; i < ELEMENTSOF(needs_table); i++) {
                ProbeBackendId b = needs_table[i].backend;

                if (!(ops->needs & needs_table[i].need))
                        continue;
                if (b == _BACKEND_MAX) {
                        if (!tracepoint_present(p, "damon:damon_aggregated"))
                                return "the kernel has no damon:damon_aggregated tracepoint";
                } else if (!p->backends[b].usable)
                        return p->backends[b].reason ? p->backends[b].reason : "not usable";
        }
        return NULL;
}

int scan_backend_candidates(const Probe *p, const char *wanted, const ScannerOps **ret, size_t max, size_t *ret_n) {
        size_t n = 0;

        *ret_n = 0;
        if (wanted && strcmp(wanted, "auto") != 0) {
                const ScannerOps *ops = scanner_find(wanted);

                if (!ops)
                        return -ENOENT;
                if (max > 0)
                        ret[n++] = ops;
                *ret_n = n;
                return 0;
        }
        for (const ScannerOps *const *b = scanner_backends(); *b && n < max; b++)
                if (!unusable_reason(p, *b))
                        ret[n++] = *b;
        *ret_n = n;
        return 0;
}

static double ms_since(const struct timespec *t0) {
        struct timespec t;

        clock_gettime(CLOCK_MONOTONIC, &t);
        return (double) (t.tv_sec - t0->tv_sec) * 1e3 + (double) (t.tv_nsec - t0->tv_nsec) / 1e6;
}

static double tv_s(const struct timeval *tv) {
        return (double) tv->tv_sec + (double) tv->tv_usec / 1e6;
}

static void json_error(const char *what, int error);

/* A bad argument: said on stderr, and as JSON on stdout with --json. */
static int usage_fail(const ScanCmd *c, const char *fmt, ...) _printf_(2, 3);
static int usage_fail(const ScanCmd *c, const char *fmt, ...) {
        char msg[512];
        va_list ap;

        va_start(ap, fmt);
        vsnprintf(msg, sizeof(msg), fmt, ap);
        va_end(ap);
        if (c->json)
                json_error(msg, 0);
        log_error("%s", msg);
        return 2;
}

/* A tenant as tierctl names it: relative to the cgroup mount, with or
 * without a leading '/' ("/" and "" are the root), or the full cgroupfs
 * path. -EINVAL (said) when it climbs out with "..". */
static int normalize_cgroup(const ScanCmd *c, const char *mount, const char *path, char **ret) {
        size_t ml = strlen(mount);
        const char *s = path;
        char *d;
        size_t n;

        if (strncmp(path, mount, ml) == 0 && (path[ml] == '/' || path[ml] == '\0'))
                s = path + ml;
        while (*s == '/')
                s++;
        d = strdup(s);
        if (!d)
                return -ENOMEM;
        n = strlen(d);
        while (n > 0 && d[n - 1] == '/')
                d[--n] = '\0';
        if (strcmp(d, "..") == 0 || strncmp(d, "../", 3) == 0 || strstr(d, "/../") ||
            (n >= 3 && strcmp(d + n - 3, "/..") == 0)) {
                free(d);
                return usage_fail(c, "--cgroup: '%s' must not climb out with '..'", path), -EINVAL;
        }
        *ret = d;
        return 0;
}

typedef struct Targets {
        ScanTarget *t;
        pid_t **pids;           /* owned per target */
        size_t n;
} Targets;

static void targets_free_pids(Targets *ts) {
        for (size_t i = 0; i < ts->n; i++) {
                free(ts->pids[i]);
                ts->pids[i] = NULL;
                ts->t[i].pids = NULL;
                ts->t[i].n_pids = 0;
        }
}

/* Refreshes each target's pids and id from one tenant set built of the
 * targets (core/tenants.h: a target's processes are its subtree's minus
 * those of targets nested in it, as in the daemon). A cgroup that is gone
 * keeps its last id and has no pids; the index of the first one goes to
 * *ret_missing (SIZE_MAX when none is). */
static int targets_refresh(Targets *ts, const char *mount, const Topology *topo, size_t *ret_missing) {
        _cleanup_(tenant_set_freep) TenantSet *set = NULL;
        _cleanup_free_ const char **only = calloc(ts->n ? ts->n : 1, sizeof(*only));
        TenantSetOptions o = {
                .cgroup_mount = mount,
                .topology = topo,
                .walk_flags = CGROUP_WALK_SKIP_NUMA_STAT | CGROUP_WALK_SKIP_MEMORY_STAT,
                .only = only,
                .n_only = ts->n,
        };
        int r;

        *ret_missing = SIZE_MAX;
        targets_free_pids(ts);
        if (!only)
                return -ENOMEM;
        for (size_t i = 0; i < ts->n; i++)
                only[i] = ts->t[i].cgroup_path;
        r = tenant_set_build(&o, &set, NULL);
        if (r < 0)
                return r;
        for (size_t i = 0; i < ts->n; i++) {
                const Tenant *t = tenant_set_find_path(set, ts->t[i].cgroup_path);
                pid_t *p;

                if (!t) {
                        if (*ret_missing == SIZE_MAX)
                                *ret_missing = i;
                        continue;
                }
                ts->t[i].cgroup_id = t->cgroup->id;
                if (t->n_pids == 0)
                        continue;
                p = malloc(t->n_pids * sizeof(*p));
                if (!p)
                        return -ENOMEM;
                memcpy(p, t->pids, t->n_pids * sizeof(*p));
                ts->pids[i] = p;
                ts->t[i].pids = p;
                ts->t[i].n_pids = t->n_pids;
        }
        return 0;
}

static json_object *range_json(const ScanRange *r) {
        json_object *o = json_object_new_object();

        json_object_object_add(o, "kind", json_object_new_string(r->kind == SCAN_RANGE_PADDR ? "paddr" : "vaddr"));
        if (r->kind == SCAN_RANGE_VADDR)
                json_object_object_add(o, "pid", json_object_new_int(r->pid));
        json_object_object_add(o, "start", json_object_new_uint64(r->start));
        json_object_object_add(o, "end", json_object_new_uint64(r->end));
        json_object_object_add(o, "age", json_object_new_int(r->age));
        json_object_object_add(o, "tier", json_object_new_int(r->tier));
        json_object_object_add(o, "node", json_object_new_int(r->node));
        json_object_object_add(o, "nr_accesses", json_object_new_uint64(r->nr_accesses));
        return o;
}

static json_object *ranges_json(const ScanRange *r, size_t n) {
        json_object *a = json_object_new_array();

        for (size_t i = 0; i < n; i++)
                json_object_array_add(a, range_json(&r[i]));
        return a;
}

/* TenantHeat.pass as names: [] for a fragment of a pass. */
static json_object *pass_json(unsigned pass) {
        static const struct {
                unsigned flag;
                const char *name;
        } names[] = {
                { HEAT_PASS_BEGIN, "begin" },
                { HEAT_PASS_END, "end" },
                { HEAT_PASS_EXACT, "exact" },
                { HEAT_PASS_BYTE_ONLY, "byte_only" },
        };
        json_object *a = json_object_new_array();

        for (size_t i = 0; i < ELEMENTSOF(names); i++)
                if (pass & names[i].flag)
                        json_object_array_add(a, json_object_new_string(names[i].name));
        return a;
}

static json_object *tenant_json(const ScanTarget *t, const TenantHeat *h, bool ranges) {
        json_object *o = json_object_new_object(), *heat = json_object_new_array(), *cand = json_object_new_object();
        uint64_t hot, cold;

        heat_summary_totals(&h->heat, &hot, &cold);
        json_object_object_add(o, "cgroup", json_object_new_string(t->cgroup_path));
        json_object_object_add(o, "id", json_object_new_uint64(t->cgroup_id));
        json_object_object_add(o, "pids", json_object_new_uint64(t->n_pids));
        json_object_object_add(o, "tracked_bytes", json_object_new_uint64(h->tracked_bytes));
        json_object_object_add(o, "pass", pass_json(h->pass));
        json_object_object_add(o, "hot_bytes", json_object_new_uint64(hot));
        json_object_object_add(o, "cold_bytes", json_object_new_uint64(cold));
        for (int tier = 0; tier < HEAT_MAX_TIERS; tier++)
                for (int a = 0; a <= HEAT_MAX_AGE; a++) {
                        json_object *c;

                        if (!h->heat.bytes[tier][a])
                                continue;
                        c = json_object_new_object();
                        json_object_object_add(c, "tier", json_object_new_int(tier));
                        json_object_object_add(c, "age", json_object_new_int(a));
                        json_object_object_add(c, "bytes", json_object_new_uint64(h->heat.bytes[tier][a]));
                        json_object_array_add(heat, c);
                }
        json_object_object_add(o, "heat", heat);
        json_object_object_add(cand, "cold", ranges_json(h->cold, h->n_cold));
        json_object_object_add(cand, "hot", ranges_json(h->hot, h->n_hot));
        json_object_object_add(cand, "warm", ranges_json(h->warm, h->n_warm));
        json_object_object_add(o, "candidates", cand);
        if (ranges)
                json_object_object_add(o, "ranges", ranges_json(h->ranges, h->n_ranges));
        return o;
}

static void tenant_print(const ScanTarget *t, const TenantHeat *h, int n_tiers) {
        char a[32], b[32], c[32];
        uint64_t hot, cold;

        heat_summary_totals(&h->heat, &hot, &cold);
        printf("%s (%zu processes): tracked %s, hot %s, cold %s; candidates %zu cold, %zu hot, %zu warm\n", t->cgroup_path,
               t->n_pids, format_bytes(h->tracked_bytes, a, sizeof(a)), format_bytes(hot, b, sizeof(b)),
               format_bytes(cold, c, sizeof(c)), h->n_cold, h->n_hot, h->n_warm);
        for (int tier = 0; tier < n_tiers && tier < HEAT_MAX_TIERS; tier++) {
                printf("  tier %d by age:", tier);
                for (int g = 0; g <= HEAT_MAX_AGE; g++)
                        if (h->heat.bytes[tier][g])
                                printf(" %d%s:%s", g, g == HEAT_MAX_AGE ? "+" : "",
                                       format_bytes(h->heat.bytes[tier][g], a, sizeof(a)));
                printf("\n");
        }
}

static void json_error(const char *what, int error) {
        json_object *o = json_object_new_object();

        json_object_object_add(o, "error", json_object_new_string(what));
        if (error)
                json_object_object_add(o, "errno", json_object_new_string(strerror(error < 0 ? -error : error)));
        puts(json_object_to_json_string_ext(o, JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_NOSLASHESCAPE));
        json_object_put(o);
}

static int fail(const ScanCmd *c, int error, const char *what) {
        if (c->json)
                json_error(what, error);
        if (error)
                log_error("%s: %s", what, strerror(error < 0 ? -error : error));
        else
                log_error("%s", what);
        return 1;
}

/* bpf and damon both run a kdamond of tierd's own: when one finds DAMON
 * in use by someone else (-EBUSY), the other would too. */
static bool same_kernel_facility(const ScannerOps *a, const ScannerOps *b) {
        return (a->caps & SCANNER_CAP_KDAMOND) && (b->caps & SCANNER_CAP_KDAMOND);
}

int scan_open_backend(const Probe *p, const char *wanted, const ScanOptions *opts, const ScannerOps **ret_ops,
                      Scanner **ret) {
        bool is_auto = !wanted || strcmp(wanted, "auto") == 0;
        const ScannerOps *cand[8];
        size_t n;
        int r;

        r = scan_backend_candidates(p, wanted, cand, ELEMENTSOF(cand), &n);
        if (r == -ENOENT) {
                char names[128] = "";

                for (const ScannerOps *const *b = scanner_backends(); *b; b++)
                        snprintf(names + strlen(names), sizeof(names) - strlen(names), "%s%s",
                                 names[0] ? ", " : "", (*b)->name);
                log_error("scanner backend '%s' is not one of this build (have: %s%sauto)", wanted, names,
                          names[0] ? ", " : "");
                return -EINVAL;
        }
        if (n == 0) {
                log_error("no scanner backend is usable here (see `tierd probe`)");
                return -EOPNOTSUPP;
        }
        /* auto: the better backends the probe ruled out, said once (a
         * kernel without page_idle, BTF or a tracepoint is a fact of the
         * kernel, not a fault) */
        if (is_auto) {
                char skipped[1024] = "";

                for (const ScannerOps *const *b = scanner_backends(); *b && *b != cand[0]; b++)
                        snprintf(skipped + strlen(skipped), sizeof(skipped) - strlen(skipped), "%s%s (%s)",
                                 skipped[0] ? "; " : "", (*b)->name,
                                 unusable_reason(p, *b) ? unusable_reason(p, *b) : "not usable");
                if (skipped[0])
                        log_info("scanner backend auto: not usable here: %s", skipped);
        }
        for (size_t i = 0; i < n; i++) {
                /* auto with a next candidate: the backend's own error is
                 * the reason of the one warning said below, not an error */
                char reason[512] = "";
                bool fallback = is_auto && i + 1 < n;
                size_t j;

                if (fallback)
                        log_capture_errors(reason, sizeof(reason));
                r = cand[i]->open(opts, ret);
                if (fallback)
                        log_capture_errors(NULL, 0);
                if (r >= 0) {
                        *ret_ops = cand[i];
                        return 0;
                }
                if (r == -ENOMEM)
                        return r;
                if (!fallback) {
                        if (n > 1)
                                log_error_errno(r, "scanner backend %s cannot be used either: %m", cand[i]->name);
                        return r;
                }
                for (j = i + 1; j < n && r == -EBUSY && same_kernel_facility(cand[i], cand[j]); j++)
                        ;
                if (j == n) {
                        log_error_errno(r, "scanner backend %s cannot be used (%s), and %s needs the same: %m",
                                        cand[i]->name, reason[0] ? reason : "no reason given", cand[j - 1]->name);
                        return r;
                }
                log_warning_errno(r, "scanner backend %s cannot be used, using %s instead: %s", cand[i]->name,
                                  cand[j]->name, reason[0] ? reason : strerror(-r));
                i = j - 1;
        }
        return r;
}

/* One `tierd scan` run. */
#define HIST_FIELDS 4
typedef struct ScanRun {
        const ScanCmd *c;
        Probe *probe;
        ScanTarget *targets;
        pid_t **pids;
        Targets ts;
        TenantHeat *heat;
        double *scan_ms;
        uint64_t *hist;         /* [period][target][HIST_FIELDS: hot, cold, tracked, pass] */
        const ScannerOps *ops;
        Scanner *s;
        sigset_t mask;
        double user, sys;
        unsigned done;
        bool stopped;
} ScanRun;

/* The targets, normalized and found: 0, or the exit status. */
static int run_targets(ScanRun *w) {
        const ScanCmd *c = w->c;
        size_t missing;
        int r;

        w->targets = calloc(c->n_cgroups, sizeof(*w->targets));
        w->pids = calloc(c->n_cgroups, sizeof(*w->pids));
        w->heat = calloc(c->n_cgroups, sizeof(*w->heat));
        w->scan_ms = calloc(c->periods + 1, sizeof(*w->scan_ms));
        w->hist = calloc((size_t) (c->periods + 1) * c->n_cgroups * HIST_FIELDS, sizeof(*w->hist));
        if (!w->targets || !w->pids || !w->heat || !w->scan_ms || !w->hist)
                return fail(c, -ENOMEM, "scan");
        w->ts = (Targets) { .t = w->targets, .pids = w->pids, .n = c->n_cgroups };
        for (size_t i = 0; i < c->n_cgroups; i++) {
                char *path;

                r = normalize_cgroup(c, w->probe->cgroup_mount, c->cgroups[i], &path);
                if (r < 0)
                        return r == -ENOMEM ? fail(c, r, "scan") : 2;
                w->targets[i].cgroup_path = path;
        }
        /* A tenant that is not there at the start is a mistake in the
         * command; one that goes away later is normal. */
        r = targets_refresh(&w->ts, w->probe->cgroup_mount, w->probe->topology, &missing);
        if (r < 0)
                return fail(c, r, "cannot walk the cgroup tree");
        if (missing != SIZE_MAX)
                return usage_fail(c, "--cgroup: '%s' is not a cgroup under %s", c->cgroups[missing],
                                  w->probe->cgroup_mount);
        return 0;
}

/* The backend, checked and opened: 0, or the exit status. */
static int run_open(ScanRun *w) {
        const ScanCmd *c = w->c;
        ScanOptions opts = {
                .sysfs_root = c->sysfs_root ? c->sysfs_root : "/sys",
                .procfs_root = c->procfs_root ? c->procfs_root : "/proc",
                .cgroup_mount = w->probe->cgroup_mount,
                .topology = w->probe->topology,
                .period_ms = c->period_ms,
                .cpu_budget_permille = c->cpu_budget_permille,
                .max_candidates = c->max_candidates,
                .flags = (c->ranges ? HEAT_WANT_RANGES : 0u) | (c->physical ? HEAT_PHYSICAL : 0u),
        };
        int r;

        if (c->backend && strcmp(c->backend, "auto") != 0 && !scanner_find(c->backend)) {
                char names[128] = "";

                for (const ScannerOps *const *b = scanner_backends(); *b; b++)
                        snprintf(names + strlen(names), sizeof(names) - strlen(names), "%s%s",
                                 names[0] ? ", " : "", (*b)->name);
                return usage_fail(c, "--backend: '%s' is not a scanner backend of this build (have: %s%sauto)",
                                  c->backend, names, names[0] ? ", " : "");
        }
        r = scan_open_backend(w->probe, c->backend, &opts, &w->ops, &w->s);
        if (r < 0) {
                /* The backend said why on stderr; --json gets the gist. */
                if (c->json)
                        json_error("no scanner backend could be opened (the reason is on stderr)", r);
                return 1;
        }
        if (!c->json)
                fprintf(stderr, "tierd: scanning %zu tenant(s) with %s, %u period(s) of %" PRIu64 " ms\n",
                        c->n_cgroups, w->ops->name, c->periods, c->period_ms);
        return 0;
}

/* Period P's scan, and its history when measured: 0, or the exit status. */
static int run_one(ScanRun *w, unsigned p) {
        const ScanCmd *c = w->c;
        struct timespec t0;
        struct rusage ru0, ru1;
        size_t missing;
        int r;

        clock_gettime(CLOCK_MONOTONIC, &t0);
        r = targets_refresh(&w->ts, w->probe->cgroup_mount, w->probe->topology, &missing);
        if (r < 0)
                return fail(c, r, "cannot walk the cgroup tree");
        if (missing != SIZE_MAX)
                log_debug("cgroup %s is gone: nothing to scan for it", w->targets[missing].cgroup_path);
        for (size_t i = 0; i < c->n_cgroups; i++) {
                tenant_heat_clear(&w->heat[i]);
                w->heat[i].cgroup_id = w->targets[i].cgroup_id;
        }
        getrusage(RUSAGE_SELF, &ru0);
        r = w->ops->scan(w->s, w->targets, c->n_cgroups, w->heat);
        getrusage(RUSAGE_SELF, &ru1);
        if (r < 0)
                return fail(c, r, "scan failed");
        w->scan_ms[p] = ms_since(&t0);
        if (p > 0) {
                w->user += tv_s(&ru1.ru_utime) - tv_s(&ru0.ru_utime);
                w->sys += tv_s(&ru1.ru_stime) - tv_s(&ru0.ru_stime);
                for (size_t i = 0; i < c->n_cgroups; i++) {
                        uint64_t *hc = &w->hist[((size_t) p * c->n_cgroups + i) * HIST_FIELDS];

                        heat_summary_totals(&w->heat[i].heat, &hc[0], &hc[1]);
                        hc[2] = w->heat[i].tracked_bytes;
                        hc[3] = w->heat[i].pass;
                }
                w->done = p;
        }
        log_debug("period %u: scan took %.1f ms", p, w->scan_ms[p]);
        return 0;
}

/* Period 0 arms the backend (idle bits, a new generation, a kdamond);
 * periods 1..N are measured. A signal stops the run between periods. */
static int run_periods(ScanRun *w) {
        const ScanCmd *c = w->c;

        for (unsigned p = 0; p <= c->periods; p++) {
                struct timespec t0, wait;
                double left;
                siginfo_t si;
                int r;

                clock_gettime(CLOCK_MONOTONIC, &t0);
                r = run_one(w, p);
                if (r != 0)
                        return r;
                if (p == c->periods)
                        break;
                left = (double) c->period_ms - ms_since(&t0);
                if (left < 0)
                        left = 0;
                wait.tv_sec = (time_t) (left / 1e3);
                wait.tv_nsec = (long) ((left - (double) wait.tv_sec * 1e3) * 1e6);
                r = sigtimedwait(&w->mask, &si, &wait);
                if (r > 0) {
                        log_info("signal %d: stopping after %u measured period(s)", r, w->done);
                        w->stopped = true;
                        break;
                }
        }
        return 0;
}

static void report_json(const ScanRun *w) {
        const ScanCmd *c = w->c;
        json_object *o = json_object_new_object(), *cpu = json_object_new_object(), *mem = json_object_new_object(),
                    *ta = json_object_new_array(), *hi = json_object_new_array();
        uint64_t bytes = 0, pages = 0;

        w->ops->memory(w->s, &bytes, &pages);
        json_object_object_add(o, "backend", json_object_new_string(w->ops->name));
        json_object_object_add(o, "mode", json_object_new_string(c->physical ? "physical" : "virtual"));
        json_object_object_add(o, "period_ms", json_object_new_uint64(c->period_ms));
        json_object_object_add(o, "periods", json_object_new_uint64(w->done));
        json_object_object_add(o, "interrupted", json_object_new_boolean(w->stopped));
        json_object_object_add(cpu, "user_seconds", json_object_new_double(w->user));
        json_object_object_add(cpu, "system_seconds", json_object_new_double(w->sys));
        json_object_object_add(o, "cpu", cpu);
        json_object_object_add(mem, "bytes", json_object_new_uint64(bytes));
        json_object_object_add(mem, "pages", json_object_new_uint64(pages));
        json_object_object_add(mem, "bytes_per_page", json_object_new_double(pages ? (double) bytes / (double) pages : 0));
        json_object_object_add(o, "memory", mem);
        for (size_t i = 0; i < c->n_cgroups; i++)
                json_object_array_add(ta, tenant_json(&w->targets[i], &w->heat[i], c->ranges));
        json_object_object_add(o, "tenants", ta);
        for (unsigned p = 1; p <= w->done; p++) {
                json_object *e = json_object_new_object(), *et = json_object_new_array();

                json_object_object_add(e, "period", json_object_new_int((int) p));
                json_object_object_add(e, "scan_ms", json_object_new_double(w->scan_ms[p]));
                for (size_t i = 0; i < c->n_cgroups; i++) {
                        const uint64_t *hc = &w->hist[((size_t) p * c->n_cgroups + i) * HIST_FIELDS];
                        json_object *x = json_object_new_object();

                        json_object_object_add(x, "cgroup", json_object_new_string(w->targets[i].cgroup_path));
                        json_object_object_add(x, "hot_bytes", json_object_new_uint64(hc[0]));
                        json_object_object_add(x, "cold_bytes", json_object_new_uint64(hc[1]));
                        json_object_object_add(x, "tracked_bytes", json_object_new_uint64(hc[2]));
                        json_object_object_add(x, "pass", pass_json((unsigned) hc[3]));
                        json_object_array_add(et, x);
                }
                json_object_object_add(e, "tenants", et);
                json_object_array_add(hi, e);
        }
        json_object_object_add(o, "history", hi);
        puts(json_object_to_json_string_ext(o, JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_NOSLASHESCAPE));
        json_object_put(o);
}

static void report_text(const ScanRun *w) {
        uint64_t bytes = 0, pages = 0;
        char a[32];

        w->ops->memory(w->s, &bytes, &pages);
        printf("backend %s, %u measured period(s)%s; scan CPU %.3f s user, %.3f s system; "
               "tracking state %s for %" PRIu64 " pages (%.2f bytes/page)\n",
               w->ops->name, w->done, w->stopped ? " (interrupted)" : "", w->user, w->sys,
               format_bytes(bytes, a, sizeof(a)), pages, pages ? (double) bytes / (double) pages : 0.0);
        for (size_t i = 0; i < w->c->n_cgroups; i++)
                tenant_print(&w->targets[i], &w->heat[i], w->probe->topology->n_tiers);
}

static void run_done(ScanRun *w) {
        targets_free_pids(&w->ts);
        for (size_t i = 0; w->targets && i < w->c->n_cgroups; i++) {
                tenant_heat_clear(&w->heat[i]);
                free((char *) w->targets[i].cgroup_path);
        }
        free(w->targets);
        free(w->pids);
        free(w->heat);
        free(w->scan_ms);
        free(w->hist);
        probe_free(w->probe);
}

int scan_command(const ScanCmd *c) {
        _cleanup_(run_done) ScanRun w = { .c = c };
        ProbeRoots roots = { .sysfs = c->sysfs_root, .procfs = c->procfs_root };
        sigset_t old;
        int r, status;

        if (c->n_cgroups == 0)
                return usage_fail(c, "%s", "scan: name at least one tenant with --cgroup PATH");
        r = probe_run(&roots, &w.probe);
        if (r < 0)
                return fail(c, r, "probe failed");
        if (!w.probe->cgroup_mount)
                return fail(c, 0, "no cgroup2 file system is mounted: tenants cannot be found");
        if (!w.probe->topology)
                return fail(c, w.probe->topology_error, "cannot read the NUMA topology");
        status = run_targets(&w);
        if (status != 0)
                return status;

        /* Signals stop the run between periods, so close() always runs. */
        sigemptyset(&w.mask);
        sigaddset(&w.mask, SIGINT);
        sigaddset(&w.mask, SIGTERM);
        sigprocmask(SIG_BLOCK, &w.mask, &old);
        status = run_open(&w);
        if (status == 0) {
                status = run_periods(&w);
                if (status == 0 && c->json)
                        report_json(&w);
                else if (status == 0)
                        report_text(&w);
                w.ops->close(w.s);
        }
        sigprocmask(SIG_SETMASK, &old, NULL);
        return status;
}
