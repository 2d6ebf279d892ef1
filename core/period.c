/* SPDX-License-Identifier: MIT */
#include "period.h"

#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#include "util.h"

#define HEADROOM_PERMILLE 10
#define HEADROOM_MIN (UINT64_C(16) << 20)
#define HYSTERESIS_ENTRIES 4096

_Static_assert((int) MOVER_DEMOTE == (int) PLAN_DEMOTE && (int) MOVER_PROMOTE == (int) PLAN_PROMOTE,
               "mover and plan directions agree");

uint64_t period_tier_headroom(const TopologyTier *tt) {
        uint64_t h = tt->total_bytes / 1000 * HEADROOM_PERMILLE;

        h = max_u64(h, HEADROOM_MIN);
        return max_u64(h, tt->reserved_bytes);
}

static uint64_t now_ms(void) {
        struct timespec ts;

        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (uint64_t) ts.tv_sec * 1000 + (uint64_t) ts.tv_nsec / 1000000;
}

static double rusage_s(void) {
        struct rusage ru;

        if (getrusage(RUSAGE_SELF, &ru) < 0)
                return 0;
        return (double) ru.ru_utime.tv_sec + (double) ru.ru_utime.tv_usec / 1e6 + (double) ru.ru_stime.tv_sec +
               (double) ru.ru_stime.tv_usec / 1e6;
}

static bool scanner_has_ranges(const Engine *e) {
        return e->scanner_ops && (e->scanner_ops->caps & SCANNER_CAP_RANGES);
}

/* The scanner sweeps unmapped pages besides the processes' (HEAT_UNMAPPED). */
static bool sweeps_unmapped(const Engine *e) {
        return e->unmapped_sweep && scanner_has_ranges(e) && (e->scanner_ops->caps & SCANNER_CAP_UNMAPPED);
}

/* The kdamond the DAMOS schemes of unmapped pages use: 0, one of their
 * own (damos_open() creates kdamonds/0 when nr_kdamonds is 0), with a
 * scanner that runs no kdamond; with one that does (damon, bpf), the
 * kdamond it leaves off for them (ScannerOps.mover_kdamond), or -1: none
 * now (its kdamonds not there yet, or MGLRU on). */
static int uprom_kdamond(const Engine *e) {
        const ScannerOps *ops = e->scanner_ops;

        if (!ops || !(ops->caps & SCANNER_CAP_KDAMOND))
                return 0;
        return ops->mover_kdamond ? ops->mover_kdamond(e->scanner) : -1;
}

/* The DAMOS path for unmapped pages may be tried: the scanner classifies
 * them and there is a kdamond for the schemes (uprom_kdamond()), the
 * DAMOS mover (whose schemes cover them) is not in use, and it was not
 * found missing. Otherwise unmapped pages move by bytes (memory.reclaim
 * while demotion is on). */
static bool uprom_usable(const Engine *e) {
        return sweeps_unmapped(e) && uprom_kdamond(e) >= 0 && !e->uprom_off && !(e->mover && e->mover->deferred);
}

/* Tenant K's unmapped pages go through the DAMOS schemes: the path may be
 * tried and the sweep classifies the tenant's pages (not under MGLRU,
 * where DAMOS's young checks are as blind to read(2) as the sweep, and
 * memory.reclaim, which follows MGLRU's references, picks better). */
static bool unmapped_damos(const Engine *e, const Period *p, size_t k) {
        return uprom_usable(e) && (p->heat[k].pass & HEAT_PASS_SWEEPING);
}

/* The mover has a byte mover that demotes (memory.reclaim only while
 * demotion is on: else it would evict), besides its range mover: memory
 * no address scanner sees can be demoted by bytes. */
static bool bytes_can_demote(const Engine *e) {
        const MoverOps *ops = e->mover ? e->mover->bytes : NULL;

        return ops && !e->mover->demotions_as_bytes && (ops->caps & MOVER_CAP_DEMOTE) &&
               (!(ops->caps & MOVER_CAP_NEEDS_DEMOTION) || e->demotion_enabled == 1);
}

/* ---- the engine ---------------------------------------------------------- */

int engine_init(Engine *e, bool model, uint64_t now) {
        e->hyst_storage = calloc(HYSTERESIS_ENTRIES, sizeof(*e->hyst_storage));
        if (!e->hyst_storage)
                return -ENOMEM;
        if (model) {
                int r = heat_model_new(NULL, &e->model);

                if (r < 0)
                        return r;
        }
        hysteresis_init(&e->hyst, e->hyst_storage, HYSTERESIS_ENTRIES);
        ledger_init(&e->ledger, &e->config->budget_rate, &e->config->budget_burst, now);
        return 0;
}

typedef struct UpromSlot {
        uint64_t cgroup_id;
        uint64_t planned, planned_demote;       /* the plan's unmapped promotions and demotions */
        uint64_t base, base_demote;             /* the schemes' sz_applied when the period began */
} UpromSlot;

/* At most this many times the planned bytes as the quota of a scheme of
 * unmapped pages (damos_scale_next()). */
#define UPROM_MAX_SCALE 64

/* BYTES times SCALE (at least 1), saturating. */
static uint64_t scaled(uint64_t bytes, uint64_t scale) {
        return bytes > UINT64_MAX / scale ? UINT64_MAX : bytes * scale;
}

static void uprom_close(Engine *e) {
        damos_close(e->uprom);
        e->uprom = NULL;
        free(e->uprom_slots);
        e->uprom_slots = NULL;
        e->n_uprom = 0;
}

static void movers_close(Engine *e) {
        if (e->mover) {
                if (e->ranges)
                        e->mover->ranges->close(e->ranges);
                if (e->bytes)
                        e->mover->bytes->close(e->bytes);
                if (e->deferred)
                        e->mover->deferred->close(e->deferred);
        }
        e->ranges = e->bytes = e->deferred = NULL;
}

int engine_set_mover(Engine *e, const MoverBackend *b) {
        MoverEnv env = {
                .sysfs_root = e->sysfs_root,
                .procfs_root = e->procfs_root,
                .cgroup_mount = e->cgroup_mount,
                .batch_pages = e->config->mover.batch_pages,
                .period_ms = e->period_ms,
        };
        int r = 0;

        movers_close(e);
        e->mover = b;
        if (b->ranges)
                r = b->ranges->open(&env, &e->ranges);
        if (r >= 0 && b->bytes)
                r = b->bytes->open(&env, &e->bytes);
        if (r >= 0 && b->deferred)
                r = b->deferred->open(&env, &e->deferred);
        if (r < 0)
                movers_close(e);
        return r;
}

int engine_reset_movers(Engine *e) {
        uprom_close(e);
        e->uprom_off = false;
        /* the deferred mover's state (a kdamond, the tenants it checked)
         * goes; nothing is pending any more */
        for (size_t i = 0; i < e->ledger.n; i++)
                e->ledger.accounts[i].pending_promote = e->ledger.accounts[i].pending_demote = 0;
        return e->mover ? engine_set_mover(e, e->mover) : 0;
}

void engine_done(Engine *e) {
        movers_close(e);
        uprom_close(e);
        e->model = heat_model_free(e->model);
        free(e->seen);
        e->seen = NULL;
        e->n_seen = 0;
        free(e->pod_warned);
        e->pod_warned = NULL;
        e->n_pod_warned = 0;
        ledger_done(&e->ledger);
        free(e->hyst_storage);
        e->hyst_storage = NULL;
}

/* The first note of P that is about a pod's request. */
static const char *pod_note(const Resolution *r, const EffectivePolicy *p) {
        const Origin *o[4 + 2 + 2 * POLICY_MAX_TIERS] = {
                &p->class_origin, &p->mode_origin, &p->promote_rate.origin, &p->promote_burst.origin,
                &p->demote_rate.origin, &p->demote_burst.origin,
        };

        for (int t = 0; t < POLICY_MAX_TIERS; t++) {
                o[6 + 2 * t] = &p->tier_max[t].origin;
                o[7 + 2 * t] = &p->tier_low[t].origin;
        }
        for (size_t k = 0; k < ELEMENTSOF(o); k++)
                if (strstr(origin_note(r, o[k]), "tierd.io/"))
                        return origin_note(r, o[k]);
        return "";
}

/* One warning per pod whose tierd.io/ request was refused, while the pod
 * exists (a pod: the cgroup with its recorded identity, else the cgroup
 * that refused), so that a pod author's mistake is said once, not every
 * period; tierctl explain says the rest. */
static int log_pod_refusals(Engine *e, const TenantSet *s) {
        _cleanup_free_ uint64_t *now = NULL;
        size_t n = 0;

        if (!s->pol)
                return 0;
        for (size_t i = 0; i < s->tree->n_cgroups; i++) {
                const EffectivePolicy *pol = &s->pol[i];
                size_t root = pol->pod_root >= 0 ? (size_t) pol->pod_root : i;
                uint64_t id = s->tree->cgroups[root].id;
                bool known = false;
                K8sIdentity k8s;
                uint64_t *grown;

                if (!pol->pod_refused)
                        continue;
                for (size_t k = 0; k < n && !known; k++)
                        known = now[k] == id;
                if (known)
                        continue;
                grown = realloc(now, (n + 1) * sizeof(*now));
                if (!grown)
                        return -ENOMEM;
                now = grown;
                now[n++] = id;
                for (size_t k = 0; k < e->n_pod_warned && !known; k++)
                        known = e->pod_warned[k] == id;
                if (known)
                        continue;
                (void) tenant_set_k8s(s, i, &k8s);
                log_event(LOG_LVL_WARNING, "pod_refused", s->tree->cgroups[i].path,
                          "pod %s/%s: a tierd.io/ request is refused on %s: %s (tierctl explain says more)",
                          k8s.namespace_[0] ? k8s.namespace_ : "?", k8s.pod[0] ? k8s.pod : "?",
                          s->tree->cgroups[i].path, pod_note(s->res, pol));
        }
        free(e->pod_warned);
        e->pod_warned = TAKE_PTR(now);
        e->n_pod_warned = n;
        return 0;
}

int engine_check_mover(const char *name, int demotion_enabled, const char *sysfs_root, const ScannerOps *scanner,
                       const MoverBackend **ret, char **ret_error) {
        const MoverBackend *b = mover_backend_find(name);
        char names[128] = "";

        if (!b) {
                for (const MoverBackend *const *m = mover_backends(); *m; m++)
                        snprintf(names + strlen(names), sizeof(names) - strlen(names), "%s%s",
                                 names[0] ? (m[1] ? ", " : " or ") : "", (*m)->name);
                return set_error_message(ret_error, -EINVAL, "unknown mover.backend \"%s\" (%s)", name, names);
        }
        if (b->demotions_as_bytes && b->bytes && (b->bytes->caps & MOVER_CAP_NEEDS_DEMOTION) && demotion_enabled != 1)
                return set_error_message(ret_error, -EINVAL,
                                 "mover.backend %s demotes through memory.reclaim, which evicts instead unless "
                                 "%s/kernel/mm/numa/demotion_enabled is true (it reads %s); tierd does not change it: "
                                 "enable it or choose another mover.backend", b->name, sysfs_root,
                                 demotion_enabled == 0 ? "false" : "as unknown");
        if ((mover_backend_caps(b) & MOVER_CAP_KDAMOND) && (scanner->caps & SCANNER_CAP_KDAMOND))
                return set_error_message(ret_error, -EINVAL,
                                 "mover.backend %s cannot run with the %s scanner: both need a kdamond of their "
                                 "own and tierd runs one at a time; choose the idle_page or lru_gen scanner, or "
                                 "another mover.backend", b->name, scanner->name);
        *ret = b;
        return 0;
}

/* ---- collect, scan ------------------------------------------------------- */

void period_done(Period *p) {
        if (p->planned)
                plan_done(&p->plan);
        for (size_t i = 0; p->heat && i < p->n; i++)
                tenant_heat_clear(&p->heat[i]);
        for (size_t i = 0; p->views && i < p->n; i++)
                heat_view_done(&p->views[i]);
        free(p->views);
        free(p->plan_tenants);
        free(p->acct);
        free(p->swap_out);
        free(p->udemote);
        free(p->moved);
        free(p->heat);
        free(p->targets);
        tenant_set_free(p->set);
        topology_free(p->topo);
        *p = (Period) {};
}

int period_collect(Engine *e, Period *p, uint64_t now) {
        TenantSetOptions o = {
                .cgroup_mount = e->cgroup_mount,
                .walk_flags = CGROUP_WALK_SKIP_MEMORY_STAT,
                .config = e->config,
                .procfs_root = e->procfs_root,
        };
        size_t n;
        int r;

        r = topology_load(e->sysfs_root, &p->topo);
        if (r < 0)
                return log_error_errno(r, "cannot read the NUMA topology: %m");
        r = topology_load_reserves(e->procfs_root, p->topo);
        if (r == -ENOMEM)
                return r;
        if (r < 0 && !e->warned_zoneinfo) {
                log_warning_errno(r, "cannot read %s/zoneinfo, the headroom ignores the kernel's watermarks: %m",
                                  e->procfs_root);
                e->warned_zoneinfo = true;
        }
        o.topology = p->topo;
        r = tenant_set_build(&o, &p->set, NULL);
        if (r < 0)
                return r;
        r = log_pod_refusals(e, p->set);
        if (r < 0)
                return r;
        p->n = n = p->set->n_tenants;
        p->targets = calloc(n ? n : 1, sizeof(*p->targets));
        p->heat = calloc(n ? n : 1, sizeof(*p->heat));
        p->acct = calloc(n ? n : 1, sizeof(*p->acct));
        p->swap_out = calloc(n ? n : 1, sizeof(*p->swap_out));
        p->udemote = calloc(n ? n : 1, sizeof(*p->udemote));
        p->moved = calloc(n ? n : 1, sizeof(*p->moved));
        if (!p->targets || !p->heat || !p->acct || !p->swap_out || !p->udemote || !p->moved)
                return -ENOMEM;
        for (size_t k = 0; k < n; k++) {
                const Tenant *t = &p->set->tenants[k];

                p->targets[k] = (ScanTarget) {
                        .cgroup_path = t->cgroup->path, .cgroup_id = t->cgroup->id, .pids = t->pids,
                        .idents = t->idents, .n_pids = t->n_pids,
                };
                p->heat[k].cgroup_id = t->cgroup->id;
                if (!ledger_tenant(&e->ledger, t->cgroup->id, t->cgroup->path, t->policy, now))
                        return -ENOMEM;
        }
        ledger_prune(&e->ledger);
        /* ledger_tenant() may have moved the accounts: look them up now */
        for (size_t k = 0; k < n; k++)
                p->acct[k] = ledger_find(&e->ledger, p->targets[k].cgroup_id);
        return 0;
}

/* Periods a tenant may go without the scanner's attention before it goes
 * first, whatever its need and class. */
#define SCAN_STARVE_PERIODS 8

/* The scanning order's key of tenant K: lower goes first. */
static uint64_t scan_rank(const Period *p, size_t k) {
        const Account *a = p->acct[k];
        uint64_t rank = (uint64_t) p->set->tenants[k].policy->class_index;

        if (a->unseen >= SCAN_STARVE_PERIODS)
                return 0;
        return (a->pending ? 1 : 1u << 16) + rank;
}

/* The order the scanner visits the tenants in: a paced scanner spends its
 * CPU budget on the first ones first. */
static int scan_order(const Period *p, size_t *order) {
        for (size_t i = 0; i < p->n; i++) {
                size_t j = i;

                /* insertion sort, stable: the tree order breaks ties */
                for (; j > 0 && scan_rank(p, order[j - 1]) > scan_rank(p, i); j--)
                        order[j] = order[j - 1];
                order[j] = i;
        }
        return 0;
}

int period_scan(Engine *e, Period *p) {
        _cleanup_free_ size_t *order = calloc(p->n ? p->n : 1, sizeof(*order));
        _cleanup_free_ ScanTarget *targets = calloc(p->n ? p->n : 1, sizeof(*targets));
        _cleanup_free_ TenantHeat *heat = calloc(p->n ? p->n : 1, sizeof(*heat));
        double cpu0;
        int r;

        if (!order || !targets || !heat)
                return -ENOMEM;
        scan_order(p, order);
        for (size_t i = 0; i < p->n; i++) {
                targets[i] = p->targets[order[i]];
                heat[i] = p->heat[order[i]];
        }
        cpu0 = rusage_s();
        /* a failed scan is said once, by the period's owner, with the
         * scanner's reason (e->error) */
        log_capture_errors(e->error, sizeof(e->error));
        r = e->scanner_ops->scan(e->scanner, targets, p->n, heat);
        log_capture_errors(NULL, 0);
        e->scan_cpu_s += rusage_s() - cpu0;
        for (size_t i = 0; i < p->n; i++) {
                Account *a = p->acct[order[i]];
                /* an idle_page visit that only armed pages classified
                 * nothing, but had the scanner's attention */
                bool seen = heat[i].tracked_bytes > 0 ||
                            (heat[i].pass & (HEAT_PASS_VISITED | HEAT_PASS_BEGIN | HEAT_PASS_END));

                p->heat[order[i]] = heat[i];
                a->unseen = !seen && targets[i].n_pids > 0 ? a->unseen + 1 : 0;
        }
        if (r >= 0 && e->error[0]) {
                log_error("%s", e->error); /* logged by a scan that went on */
                e->error[0] = '\0';
        }
        if (r < 0) {
                char why[sizeof(e->error)];

                snprintf(why, sizeof(why), "%s", e->error);
                snprintf(e->error, sizeof(e->error), "scanner %.32s: %.200s", e->scanner_ops->name,
                         why[0] ? why : strerror(-r));
        }
        return r;
}

/* ---- observe: the heat model ---------------------------------------------- */

/* A signature of what planning takes from a policy: a change of it makes
 * the old picture of the tenant untrusted (its coverage starts again). */
static uint64_t policy_sig(const EffectivePolicy *pol) {
        uint64_t h = UINT64_C(1469598103934665603);

        h = (h ^ (uint64_t) pol->mode) * UINT64_C(1099511628211);
        h = (h ^ (uint64_t) pol->class_index) * UINT64_C(1099511628211);
        for (int t = 0; t < POLICY_MAX_TIERS; t++) {
                h = (h ^ pol->tier_max[t].bytes) * UINT64_C(1099511628211);
                h = (h ^ pol->tier_low[t].bytes) * UINT64_C(1099511628211);
        }
        return h | 1;
}

/* One tenant's scan into the model, and its view. */
static int observe_tenant(Engine *e, Period *p, size_t k, uint64_t now) {
        const Tenant *t = &p->set->tenants[k];
        uint64_t id = t->cgroup->id, resident[HEAT_MAX_TIERS] = { 0 }, sig = policy_sig(t->policy);
        unsigned flags = p->heat[k].pass;
        int r;

        if (p->acct[k]->policy_sig && p->acct[k]->policy_sig != sig) {
                r = heat_model_changed(e->model, id);
                if (r < 0)
                        return r;
        }
        p->acct[k]->policy_sig = sig;
        r = heat_model_expire_pids(e->model, id, t->pids, t->n_pids);
        if (r < 0)
                return r;
        /* what the scanner can see: an address scanner (virtual mode) only
         * mapped memory, unless it sweeps the unmapped pages too; lru_gen
         * all of it */
        for (int i = 0; i < HEAT_MAX_TIERS && i < CGROUP_MAX_TIERS; i++)
                resident[i] = t->cgroup->tier_anon[i] +
                              (scanner_has_ranges(e) && !(p->heat[k].pass & HEAT_PASS_SWEEPING)
                                       ? t->cgroup->tier_file_mapped[i]
                                       : t->cgroup->tier_file[i]);
        r = heat_model_set_resident(e->model, id, resident);
        if (r < 0)
                return r;
        if (!scanner_has_ranges(e))
                flags |= HEAT_PASS_BYTE_ONLY;
        r = heat_model_feed(e->model, &p->heat[k], flags, now);
        if (r == -EINVAL) /* a pass ended that the backend never began: its picture is kept */
                log_debug("%s: the scan's pass flags %#x do not fit the model's passes, ignoring", t->cgroup->path,
                          flags);
        else if (r < 0)
                return r;
        return heat_model_view(e->model, id, p->topo->n_tiers, e->max_candidates, 0, &p->views[k]);
}

typedef struct PidSeen {
        uint64_t cgroup_id;
        pid_t pid;
        uint64_t start_time;
} PidSeen;

static int cmp_seen(const void *a, const void *b) {
        const PidSeen *x = a, *y = b;

        if (x->cgroup_id != y->cgroup_id)
                return x->cgroup_id < y->cgroup_id ? -1 : 1;
        return (x->pid > y->pid) - (x->pid < y->pid);
}

/* A pid a tenant lists again with another start time than at the last
 * period is another process, its number reused: what the model knew of
 * the pid was the old process's ranges, and is forgotten (before this
 * period's scan, of the new process, is fed). */
static int forget_reused_pids(Engine *e, const Period *p) {
        size_t total = 0, n = 0;
        PidSeen *now;

        for (size_t k = 0; k < p->n; k++)
                total += p->set->tenants[k].idents ? p->set->tenants[k].n_pids : 0;
        now = malloc((total ? total : 1) * sizeof(*now));
        if (!now)
                return -ENOMEM;
        for (size_t k = 0; k < p->n; k++) {
                const Tenant *t = &p->set->tenants[k];

                for (size_t j = 0; t->idents && j < t->n_pids; j++) {
                        PidSeen key = { .cgroup_id = t->cgroup->id, .pid = t->pids[j],
                                        .start_time = t->idents[j].start_time };
                        const PidSeen *was;

                        if (t->idents[j].gone)
                                continue;
                        was = e->n_seen ? bsearch(&key, e->seen, e->n_seen, sizeof(*e->seen), cmp_seen) : NULL;
                        if (was && was->start_time != key.start_time) {
                                log_debug("%s: pid %d is another process than at the last period: what was known "
                                          "of its ranges is forgotten", t->cgroup->path, (int) key.pid);
                                heat_model_drop_pid(e->model, key.cgroup_id, key.pid);
                        }
                        now[n++] = key;
                }
        }
        qsort_safe(now, n, sizeof(*now), cmp_seen);
        free(e->seen);
        e->seen = now;
        e->n_seen = n;
        return 0;
}

int period_observe(Engine *e, Period *p, uint64_t now) {
        _cleanup_free_ uint64_t *ids = NULL;
        int r;

        if (!e->model)
                return 0;
        ids = calloc(p->n ? p->n : 1, sizeof(*ids));
        p->views = calloc(p->n ? p->n : 1, sizeof(*p->views));
        if (!ids || !p->views)
                return -ENOMEM;
        for (size_t k = 0; k < p->n; k++)
                ids[k] = p->targets[k].cgroup_id;
        r = heat_model_retain(e->model, ids, p->n);
        if (r >= 0)
                r = forget_reused_pids(e, p);
        for (size_t k = 0; r >= 0 && k < p->n; k++)
                r = observe_tenant(e, p, k, now);
        return r;
}

/* ---- the hierarchy's buckets ------------------------------------------- */

/* Charges (CHARGE) or gives back BYTES of tenant K's moves in one
 * direction to the buckets of the tenants above it: theirs bound their
 * subtrees' moves (core/planner.h). */
static void ancestors_bucket(const Period *p, size_t k, bool promote, bool charge, uint64_t bytes, uint64_t now) {
        for (const Tenant *t = p->set->tenants[k].parent; t && bytes; t = t->parent) {
                Account *a = p->acct[t - p->set->tenants];

                if (charge)
                        ledger_charge_bucket(a, promote, bytes, now);
                else
                        ledger_refund_bucket(a, promote, bytes);
        }
}

/* Gives BYTES of tenant K's charge back: to its bucket, the budget and
 * its ancestors' buckets. */
static void refund(Engine *e, const Period *p, size_t k, bool promote, uint64_t bytes) {
        ledger_refund(&e->ledger, p->acct[k], promote, bytes);
        ancestors_bucket(p, k, promote, false, bytes, 0);
}

/* The same for account A (of a tenant of the last period); its ancestors
 * are those of this period (a hierarchy that changed in between gets
 * nothing back). */
static void refund_account(Engine *e, const Period *p, Account *a, bool promote, uint64_t bytes) {
        ledger_refund(&e->ledger, a, promote, bytes);
        for (size_t k = 0; k < p->n; k++)
                if (p->acct[k] == a)
                        ancestors_bucket(p, k, promote, false, bytes, 0);
}

/* ---- settle: a deferred mover's last period ----------------------------- */

/* What the unmapped promotions of the last period moved (the schemes'
 * sz_applied since), into the tenants' accounts and the model; what did
 * not move goes back to the buckets. */
static int uprom_settle(Engine *e, Period *p, uint64_t now) {
        _cleanup_free_ DamosTenantStats *st = NULL;
        uint64_t period = e->period_ms ? e->period_ms : 1000;
        /* the cold scheme's regions old enough (uprom_open()'s
         * cold_min_age_us, two periods) for nothing moved to mean
         * something */
        bool aged = now >= e->uprom_opened_ms + 3 * period;
        int r;

        if (!e->uprom || e->n_uprom == 0)
                return 0;
        st = calloc(e->n_uprom, sizeof(*st));
        if (!st)
                return -ENOMEM;
        r = damos_read_stats(e->uprom, st, e->n_uprom);
        if (r == -ENOMEM)
                return r;
        for (size_t i = 0; i < e->n_uprom; i++) {
                const UpromSlot *sl = &e->uprom_slots[i];
                Account *a = ledger_find(&e->ledger, sl->cgroup_id);
                uint64_t up = r >= 0 && st[i].promote.sz_applied > sl->base ? st[i].promote.sz_applied - sl->base : 0;
                uint64_t down = r >= 0 && st[i].demote.sz_applied > sl->base_demote
                                        ? st[i].demote.sz_applied - sl->base_demote : 0;

                if (!a)
                        continue;
                a->uprom_scale[0] = damos_scale_next(a->uprom_scale[0], sl->planned, up, aged, UPROM_MAX_SCALE);
                a->uprom_scale[1] = damos_scale_next(a->uprom_scale[1], sl->planned_demote, down, aged,
                                                     UPROM_MAX_SCALE);
                for (size_t k = 0; k < p->n; k++)
                        if (p->acct[k] == a) {
                                p->moved[k].promoted += up;
                                p->moved[k].demoted += down;
                                p->moved[k].failed += sl->planned - min_u64(up, sl->planned) + sl->planned_demote -
                                                      min_u64(down, sl->planned_demote);
                        }
                if ((up || down) && e->model) {
                        int q = heat_model_unmapped_moved(e->model, sl->cgroup_id, 1, 0, up);

                        if (q >= 0)
                                q = heat_model_unmapped_moved(e->model, sl->cgroup_id, 0, 1, down);
                        if (q == -ENOMEM)
                                return q;
                }
                if (up > sl->planned)
                        ledger_charge_extra(&e->ledger, a, true, up - sl->planned, now);
                else
                        ledger_refund(&e->ledger, a, true, sl->planned - up);
                if (down > sl->planned_demote)
                        ledger_charge_extra(&e->ledger, a, false, down - sl->planned_demote, now);
                else
                        ledger_refund(&e->ledger, a, false, sl->planned_demote - down);
                log_debug("%s: DAMOS moved unmapped pages: promoted %" PRIu64 " of %" PRIu64 ", demoted %" PRIu64
                          " of %" PRIu64 " bytes planned", a->path, up, sl->planned, down, sl->planned_demote);
        }
        /* settled: counted once, whatever happens before the next apply */
        for (size_t i = 0; r >= 0 && i < e->n_uprom; i++)
                e->uprom_slots[i] = (UpromSlot) { .cgroup_id = e->uprom_slots[i].cgroup_id,
                                                  .base = st[i].promote.sz_applied,
                                                  .base_demote = st[i].demote.sz_applied };
        if (r < 0) {
                log_warning_errno(r, "cannot read the unmapped promotions' DAMOS stats, stopping them: %m");
                uprom_close(e);
        }
        return 0;
}

int period_settle(Engine *e, Period *p, uint64_t now) {
        _cleanup_free_ MoverMoved *mm = NULL;
        size_t n = 0;
        int r;

        r = uprom_settle(e, p, now);
        if (r < 0)
                return r;
        if (!e->deferred)
                return 0;
        r = e->mover->deferred->report(e->deferred, &mm, &n);
        if (r == -ENOMEM)
                return r;
        if (r < 0) {
                /* stopped: nothing is known to have moved */
                for (size_t i = 0; i < e->ledger.n; i++) {
                        Account *a = &e->ledger.accounts[i];

                        refund_account(e, p, a, true, a->pending_promote);
                        refund_account(e, p, a, false, a->pending_demote);
                        a->pending_promote = a->pending_demote = 0;
                }
                return 0;
        }
        for (size_t i = 0; i < n; i++) {
                Account *a = ledger_find(&e->ledger, mm[i].cgroup_id);
                uint64_t dp = mm[i].promoted, dd = mm[i].demoted, failed;

                if (!a)
                        continue; /* gone: nothing to refund to */
                failed = (dp < a->pending_promote ? a->pending_promote - dp : 0) +
                         (dd < a->pending_demote ? a->pending_demote - dd : 0);
                for (size_t k = 0; k < p->n; k++)
                        if (p->acct[k] == a) {
                                p->moved[k].promoted += dp;
                                p->moved[k].demoted += dd;
                                p->moved[k].failed += failed;
                                /* the extra below, on its ancestors too */
                                if (dp > a->pending_promote)
                                        ancestors_bucket(p, k, true, true, dp - a->pending_promote, now);
                                if (dd > a->pending_demote)
                                        ancestors_bucket(p, k, false, true, dd - a->pending_demote, now);
                        }
                if (e->model && (dp || dd)) {
                        int q = heat_model_moved_bytes(e->model, a->cgroup_id, 1, 0, dp);

                        if (q >= 0)
                                q = heat_model_moved_bytes(e->model, a->cgroup_id, 0, 1, dd);
                        if (q == -ENOMEM)
                                return q;
                }
                /* the scaled quota may move more than planned: charged
                 * afterwards, as far as the buckets hold */
                if (dp > a->pending_promote)
                        ledger_charge_extra(&e->ledger, a, true, dp - a->pending_promote, now);
                if (dd > a->pending_demote)
                        ledger_charge_extra(&e->ledger, a, false, dd - a->pending_demote, now);
                refund_account(e, p, a, true, dp < a->pending_promote ? a->pending_promote - dp : 0);
                refund_account(e, p, a, false, dd < a->pending_demote ? a->pending_demote - dd : 0);
                a->pending_promote = a->pending_demote = 0;
        }
        return 0;
}

/* ---- plan ---------------------------------------------------------------- */

static void plan_tiers(const Topology *topo, PlanInput *in) {
        in->n_tiers = topo->n_tiers < PLAN_MAX_TIERS ? topo->n_tiers : PLAN_MAX_TIERS;
        for (int t = 0; t < in->n_tiers; t++) {
                const TopologyTier *tt = &topo->tiers[t];

                in->tiers[t] = (PlanTier) {
                        .nodes = tt->nodes, .capacity = tt->total_bytes, .free = tt->free_bytes,
                        .headroom = period_tier_headroom(tt),
                };
                for (int n = 0; n < topo->n_nodes; n++) {
                        const TopologyNode *node = &topo->nodes[n];

                        if (node->tier == t && node->id >= 0 && node->id < PLAN_MAX_NODES)
                                in->tiers[t].node_free[node->id] = node->free_bytes;
                }
        }
}

int period_plan(Engine *e, Period *p, uint64_t now) {
        PlanInput in = {
                .budget = &e->ledger.budget,
                .now_ms = now,
                .hysteresis_ms = e->config->mover.hysteresis_ms,
                .hysteresis = &e->hyst,
                .byte_promotions = e->mover && e->mover->deferred &&
                                   (e->mover->deferred->caps & (MOVER_CAP_BYTES | MOVER_CAP_PROMOTE)) ==
                                           (MOVER_CAP_BYTES | MOVER_CAP_PROMOTE),
        };
        /* unmapped bytes are demoted by the DAMOS schemes where they can
         * be (migrate_cold, file pages not accessed since their last
         * check), else by memory.reclaim where it demotes */
        bool byte_only = !scanner_has_ranges(e);
        int r;

        /* hot unmapped pages on slower tiers: promoted through DAMOS
         * (unless the DAMOS mover runs: its migrate_hot covers them) */
        in.unmapped_promotions = uprom_usable(e) && p->topo->n_tiers >= 2;
        plan_tiers(p->topo, &in);
        p->plan_tenants = calloc(p->n ? p->n : 1, sizeof(*p->plan_tenants));
        if (!p->plan_tenants)
                return -ENOMEM;
        for (size_t k = 0; k < p->n; k++) {
                const Tenant *t = &p->set->tenants[k];
                const EffectivePolicy *pol = t->policy;
                const CgroupInfo *ci = t->cgroup;
                PlanTenant *pt = &p->plan_tenants[k];
                bool unmapped_ok = !byte_only && (bytes_can_demote(e) || unmapped_damos(e, p, k));

                *pt = (PlanTenant) {
                        .cgroup_id = ci->id,
                        .path = ci->path,
                        .mode = pol->mode,
                        .class_rank = pol->class_index,
                        .weight = e->config->classes[pol->class_index].weight,
                        .heat = p->views ? &p->views[k].heat : &p->heat[k],
                        .n_hot_contradicted = p->views ? p->views[k].n_demoted_then_hot : 0,
                        .byte_only = byte_only,
                        .promote_quota = &p->acct[k]->promote,
                        .demote_quota = &p->acct[k]->demote,
                        /* tenants and plan_tenants have the same order */
                        .parent = t->parent ? &p->plan_tenants[t->parent - p->set->tenants] : NULL,
                };
                for (int i = 0; i < PLAN_MAX_TIERS; i++) {
                        pt->tier_max[i] = i < POLICY_MAX_TIERS ? pol->tier_max[i].bytes : UINT64_MAX;
                        pt->tier_low[i] = i < POLICY_MAX_TIERS ? pol->tier_low[i].bytes : 0;
                        pt->current[i] = i < CGROUP_MAX_TIERS ? ci->tier_anon[i] + ci->tier_file[i] : 0;
                        pt->unscanned[i] = p->views && i < HEAT_MAX_TIERS && !p->views[k].coverage[i].complete;
                        if (unmapped_ok && i < CGROUP_MAX_TIERS)
                                pt->unmapped[i] = ci->tier_file[i] - min_u64(ci->tier_file_mapped[i], ci->tier_file[i]);
                        /* seen hot: kept by demotions, promoted where a
                         * physical path can (on any tier, as far as
                         * numa_stat has such pages there) */
                        if (p->views && i < HEAT_MAX_TIERS && i < CGROUP_MAX_TIERS)
                                pt->unmapped_hot[i] = min_u64(p->views[k].coverage[i].unmapped_hot,
                                                              ci->tier_file[i] - min_u64(ci->tier_file_mapped[i],
                                                                                          ci->tier_file[i]));
                        if (unmapped_ok && p->views && i < HEAT_MAX_TIERS) {
                                pt->unmapped_cold[i] = p->views[k].coverage[i].unmapped_cold;
                                pt->unmapped_swept = p->views[k].coverage[i].unmapped_ms > 0;
                        }
                }
                /* the scanner sweeps the unmapped pages and has not
                 * classified them yet: they are not known cold, and the
                 * tier is not covered until it has (no accessed range is
                 * traded for a limit while part of the tenant is unknown) */
                for (int i = 0; i < PLAN_MAX_TIERS && i < HEAT_MAX_TIERS; i++)
                        if ((p->heat[k].pass & HEAT_PASS_SWEEPING) && !pt->unmapped_swept && pt->unmapped[i] > 0)
                                pt->unscanned[i] = true;
                if ((p->heat[k].pass & HEAT_PASS_SWEEPING) && !pt->unmapped_swept)
                        memset(pt->unmapped, 0, sizeof(pt->unmapped));
        }
        in.tenants = p->plan_tenants;
        in.n_tenants = p->n;
        memcpy(p->tiers, in.tiers, sizeof(p->tiers));
        p->n_tiers = in.n_tiers;
        r = plan_compute(&in, &p->plan);
        if (r < 0)
                return r;
        p->planned = true;
        /* the plan's charges, committed */
        for (size_t k = 0; k < p->n; k++) {
                ledger_refill(&e->ledger, p->acct[k], now);
                ledger_charge(&e->ledger, p->acct[k], p->plan.tenants[k].charge_promote,
                              p->plan.tenants[k].charge_demote, now);
                ancestors_bucket(p, k, true, true, p->plan.tenants[k].charge_promote, now);
                ancestors_bucket(p, k, false, true, p->plan.tenants[k].charge_demote, now);
        }
        return 0;
}

/* ---- apply --------------------------------------------------------------- */

/* Pages of one range that did not move, by reason: said once per tenant
 * and reason at info level (pinned or shared pages are the tenant's
 * business, not tierd's fault; failed_bytes counts them every period).
 * ERROR of the call as a whole: as MOVE_OTHER. */
static void move_failure_note(Account *a, const char *path, int error, const MovePagesResult *mr) {
        static const char *const why[_MOVE_OUTCOME_MAX] = {
                [MOVE_BUSY] = "pinned (io_uring or DMA buffers, vmsplice) or held by someone else",
                [MOVE_ACCES] = "mapped by several processes",
                [MOVE_FAULT] = "not movable memory (zero page, special mapping)",
                [MOVE_NOMEM] = "the target node had no free page",
                [MOVE_OTHER] = "refused",
        };

        for (int o = MOVE_BUSY; o < _MOVE_OUTCOME_MAX; o++) {
                uint64_t pages = o == MOVE_NOENT ? 0 : mr->pages[o];

                if ((pages == 0 && !(o == MOVE_OTHER && error < 0)) || (a->said_failures & (1u << o)))
                        continue;
                a->said_failures |= 1u << o;
                if (o == MOVE_OTHER && error < 0)
                        log_event(LOG_LVL_INFO, "move-failed", path, "%s: move_pages failed: %s; counted in "
                                  "failed_bytes and the tenant's errors, not said again for this tenant", path,
                                  strerror(-error));
                else
                        log_event(LOG_LVL_INFO, "move-failed", path, "%s: %" PRIu64 " KiB could not be moved (%s: %s); "
                                  "counted in failed_bytes%s, not said again for this tenant", path, pages * 4,
                                  move_outcome_to_string(o), why[o],
                                  o == MOVE_NOMEM ? "" :
                                  ", such ranges wait a hysteresis window before the next try");
        }
}

/* *X minus V, at least 0. */
static void take(uint64_t *x, uint64_t v) {
        *x -= min_u64(v, *x);
}

/* Every demotion of tenant K as one byte amount (demotions_as_bytes). */
static int demote_as_bytes(Engine *e, Period *p, size_t k) {
        const PlanTenantResult *res = &p->plan.tenants[k];
        uint64_t want = 0, moved, swap_want = 0;
        MoverRequest req = { .cgroup = res->path, .direction = MOVER_DEMOTE };
        MoverResult mr;
        int r;

        for (size_t i = 0; i < res->n_moves; i++)
                if (res->moves[i].direction == PLAN_DEMOTE) {
                        want += res->moves[i].bytes;
                        if (res->moves[i].reason == PLAN_REASON_SWAP)
                                swap_want += res->moves[i].bytes;
                }
        if (want == 0)
                return 0;
        req.bytes = want;
        r = e->mover->bytes->apply(e->bytes, &req, &mr);
        if (r < 0)
                return r;
        if (mr.error)
                p->acct[k]->errors++;
        moved = min_u64(mr.moved, want);
        log_debug("%s: %s demoted %" PRIu64 " of %" PRIu64 " bytes", res->path, e->mover->bytes->name, moved, want);
        if (moved < want) {
                refund(e, p, k, false, want - moved);
                p->moved[k].failed += want - moved;
        }
        p->moved[k].demoted += moved;
        if (moved > 0 && e->model) {
                r = heat_model_moved_bytes(e->model, p->targets[k].cgroup_id, 0, 1, moved);
                if (r == -ENOMEM)
                        return r;
        }
        /* the swap's share of what moved, and each tier's, in proportion
         * to what was asked */
        p->swap_out[k] = (uint64_t) ((double) moved * (double) swap_want / (double) want);
        for (size_t i = 0; i < res->n_moves; i++) {
                const PlanMove *mv = &res->moves[i];

                if (mv->direction == PLAN_DEMOTE && mv->from_tier >= 0 && mv->from_tier < p->n_tiers)
                        p->tier_out[mv->from_tier] += (uint64_t) ((double) moved * (double) mv->bytes / (double) want);
        }
        return 0;
}

/* A byte-only move (no addresses) with the bytes mover. */
static int move_bytes(Engine *e, Period *p, size_t k, const PlanMove *mv, uint64_t *ret_moved) {
        const MoverOps *ops = e->mover->bytes;
        bool demote = mv->direction == PLAN_DEMOTE;
        MoverRequest req = { .cgroup = p->plan.tenants[k].path, .direction = mv->direction, .bytes = mv->bytes };
        MoverResult mr;
        int r;

        if (!ops) {
                if (!e->warned_byte_only)
                        log_warning("mover.backend is %s: byte-only demotions (%s has no addresses) are skipped",
                                    e->mover->name, e->scanner_ops->name);
                e->warned_byte_only = true;
                return 0;
        }
        if (!(ops->caps & (demote ? MOVER_CAP_DEMOTE : MOVER_CAP_PROMOTE)) ||
            ((ops->caps & MOVER_CAP_NEEDS_DEMOTION) && e->demotion_enabled != 1)) {
                if (!e->warned_reclaim)
                        log_warning("demotion_enabled is not true: byte-only demotions (%s has no addresses) would "
                                    "evict through memory.reclaim, not demote; skipped", e->scanner_ops->name);
                e->warned_reclaim = true;
                return 0;
        }
        r = ops->apply(e->bytes, &req, &mr);
        if (r < 0)
                return r;
        if (mr.error)
                p->acct[k]->errors++;
        *ret_moved = min_u64(mr.moved, mv->bytes);
        if (*ret_moved > 0 && e->model) {
                /* a ranged tenant's byte moves are of its unmapped pages */
                r = scanner_has_ranges(e) ? heat_model_unmapped_moved(e->model, p->targets[k].cgroup_id, mv->from_tier,
                                                                       mv->to_tier, *ret_moved)
                                          : heat_model_moved_bytes(e->model, p->targets[k].cgroup_id, mv->from_tier,
                                                                   mv->to_tier, *ret_moved);
                if (r == -ENOMEM)
                        return r;
        }
        return 0;
}

/* A range move with the ranges mover, at most CAP bytes. */
static int move_range(Engine *e, Period *p, size_t k, const PlanMove *mv, uint64_t cap, uint64_t *ret_moved) {
        const MoverOps *ops = e->mover->ranges;
        const char *path = p->plan.tenants[k].path;
        bool demote = mv->direction == PLAN_DEMOTE;
        unsigned kind = mv->range.kind == SCAN_RANGE_VADDR ? MOVER_CAP_VIRTUAL : MOVER_CAP_PHYSICAL;
        MoverRequest req = {
                .cgroup = path, .direction = mv->direction, .to_node = mv->to_node, .bytes = cap,
                .has_range = true, .range = mv->range,
                /* and again before each batch, by the mover */
                .ident = mv->range.kind == SCAN_RANGE_VADDR ? tenant_pid_ident(&p->set->tenants[k], mv->range.pid)
                                                            : NULL,
        };
        uint64_t window = e->config->mover.hysteresis_ms;
        MoverResult mr;
        int r;

        if (!ops || !(ops->caps & kind)) {
                if (!e->warned_range)
                        log_warning("mover.backend %s has no mover for %s candidates: skipped", e->mover->name,
                                    kind == MOVER_CAP_VIRTUAL ? "virtual-address" : "physical-address");
                e->warned_range = true;
                return 0;
        }
        /* the pid was listed at the start of the period: moved by number
         * only while it is still that process, in the tenant (a pid the
         * kernel gave to another process, or a process moved elsewhere,
         * is skipped for this period, counted as gone, and the model
         * forgets its ranges) */
        if (mv->range.kind == SCAN_RANGE_VADDR) {
                r = tenant_pid_check(&p->set->tenants[k], mv->range.pid, e->procfs_root, e->cgroup_mount);
                if (r == -ENOMEM)
                        return r;
                if (r < 0) {
                        log_debug("%s: pid %d skipped this period: %s", path, (int) mv->range.pid,
                                  proc_ident_strerror(r));
                        if (e->model)
                                heat_model_drop_pid(e->model, p->targets[k].cgroup_id, mv->range.pid);
                        return 0;
                }
        }
        r = ops->apply(e->ranges, &req, &mr);
        if (r < 0)
                return r;
        if (mr.error) {
                log_debug("%s: %s of pid %d failed: %s", path, ops->name, (int) mv->range.pid, strerror(-mr.error));
                p->acct[k]->errors++;
        }
        *ret_moved = min_u64(mr.moved, mv->bytes);
        if (*ret_moved > 0)
                hysteresis_record(&e->hyst, &mv->range, (PlanDirection) mv->direction, now_ms(), window);
        if (*ret_moved > 0 && e->model) {
                r = heat_model_moved(e->model, p->targets[k].cgroup_id, &mv->range, mv->to_tier, mv->to_node,
                                     *ret_moved);
                if (r == -ENOMEM)
                        return r;
        }
        move_failure_note(p->acct[k], path, mr.error, &mr.pages);
        /* back off: a range with pages the kernel refuses to move, or that
         * are absent, or a call refused as a whole is not tried again in
         * this direction within the hysteresis window (recorded as if
         * moved the other way), else every period would retry the same
         * pinned pages */
        if (mr.backoff) {
                hysteresis_record(&e->hyst, &mv->range, demote ? PLAN_PROMOTE : PLAN_DEMOTE, now_ms(), window);
                log_debug("%s: pid %d %#" PRIx64 "-%#" PRIx64 " backs off for %" PRIu64 " ms (pages refused or absent)",
                          path, (int) mv->range.pid, mv->range.start, mv->range.end, window);
        }
        log_debug("%s: %s pid %d %#" PRIx64 "-%#" PRIx64 " to node %d (%s): %" PRIu64 " of %" PRIu64 " bytes", path,
                  demote ? "demote" : "promote", (int) mv->range.pid, mv->range.start, mv->range.end, mv->to_node,
                  plan_reason_to_string((PlanReason) mv->reason), *ret_moved, mv->bytes);
        return 0;
}

/* Carries out tenant K's moves in DIRECTION; refunds what did not move. */
static int tenant_move(Engine *e, Period *p, size_t k, PlanDirection direction) {
        const PlanTenantResult *res = &p->plan.tenants[k];
        PeriodMoved *m = &p->moved[k];
        uint64_t *swap_out = &p->swap_out[k];
        int r;

        if (direction == PLAN_DEMOTE && e->mover->demotions_as_bytes)
                return demote_as_bytes(e, p, k);
        for (size_t i = 0; i < res->n_moves; i++) {
                const PlanMove *mv = &res->moves[i];
                bool demote = mv->direction == PLAN_DEMOTE;
                bool swap_in = !demote && mv->reason == PLAN_REASON_SWAP;
                bool tier_known = !demote && mv->to_tier >= 0 && mv->to_tier < p->n_tiers;
                uint64_t moved = 0, cap = mv->bytes;

                if (mv->direction != direction)
                        continue;
                /* a ranged tenant's byte demotion is of its unmapped
                 * pages: to the DAMOS schemes when they can take it */
                if (demote && !mv->has_range && scanner_has_ranges(e) && unmapped_damos(e, p, k) &&
                    mv->from_tier == 0 && mv->to_tier == 1) {
                        p->udemote[k] += mv->bytes;
                        continue;
                }
                if (swap_in && *swap_out < cap)
                        cap = *swap_out;
                if (tier_known && p->tier_in_left[mv->to_tier] < cap)
                        cap = p->tier_in_left[mv->to_tier];
                if (!demote && cap == 0)
                        log_debug("%s: promotion of %" PRIu64 " bytes to tier %d skipped: %s", res->path, mv->bytes,
                                  mv->to_tier,
                                  swap_in && *swap_out == 0 ? "the swap's demotions moved nothing more"
                                                            : "demotions that failed left no room for it");
                else {
                        r = mv->has_range ? move_range(e, p, k, mv, cap, &moved) : move_bytes(e, p, k, mv, &moved);
                        if (r < 0)
                                return r;
                }
                if (demote && mv->reason == PLAN_REASON_SWAP)
                        *swap_out += moved;
                else if (swap_in)
                        take(swap_out, moved);
                if (demote && mv->from_tier >= 0 && mv->from_tier < p->n_tiers)
                        p->tier_out[mv->from_tier] += moved;
                else if (tier_known)
                        take(&p->tier_in_left[mv->to_tier], moved);
                if (moved < mv->bytes) {
                        refund(e, p, k, !demote, mv->bytes - moved);
                        m->failed += mv->bytes - moved;
                }
                if (demote)
                        m->demoted += moved;
                else
                        m->promoted += moved;
        }
        return 0;
}

/* What the promotions may bring into each tier: all the plan asks if its
 * demotions moved (the plan's room), else less, taken from the last
 * promotions (the lowest classes: ORDER is by rank). */
static void promotion_room(Period *p, const size_t *order, size_t n) {
        for (int d = 0; d < p->n_tiers; d++) {
                uint64_t planned = 0, room;

                for (size_t i = 0; i < n; i++) {
                        const PlanTenantResult *res = &p->plan.tenants[order[i]];

                        for (size_t j = 0; j < res->n_moves; j++)
                                if (res->moves[j].direction == PLAN_PROMOTE && res->moves[j].to_tier == d)
                                        planned += res->moves[j].bytes;
                }
                room = p->tiers[d].free > p->tiers[d].headroom ? p->tiers[d].free - p->tiers[d].headroom : 0;
                p->tier_in_left[d] = min_u64(planned, room + p->tier_out[d]);
                if (p->tier_in_left[d] < planned)
                        log_debug("tier %d: promotions cut from %" PRIu64 " to %" PRIu64 " bytes: the demotions "
                                  "moved %" PRIu64 " bytes out, the room was %" PRIu64, d, planned,
                                  p->tier_in_left[d], p->tier_out[d], room);
        }
}

/* Every tenant's demotions first (they free the room promotions fill),
 * then the promotions by class, highest priority first: when a tier holds
 * less than the planner counted on, the lower classes come up short. */
static int apply_now(Engine *e, Period *p) {
        _cleanup_free_ size_t *order = calloc(p->n ? p->n : 1, sizeof(*order));
        size_t n = 0;
        int r;

        if (!order)
                return -ENOMEM;
        for (size_t k = 0; k < p->n; k++) {
                const PlanTenantResult *res = &p->plan.tenants[k];
                size_t j = n;

                if (res->ignored || res->observe_only)
                        continue;
                n++;
                r = tenant_move(e, p, k, PLAN_DEMOTE);
                if (r < 0)
                        return r;
                /* insertion sort by class rank, stable */
                for (; j > 0 && p->plan_tenants[order[j - 1]].class_rank > p->plan_tenants[k].class_rank; j--)
                        order[j] = order[j - 1];
                order[j] = k;
        }
        promotion_room(p, order, n);
        for (size_t i = 0; i < n; i++) {
                r = tenant_move(e, p, order[i], PLAN_PROMOTE);
                if (r < 0)
                        return r;
        }
        return 0;
}

static int lowest_node(uint64_t mask) {
        for (int n = 0; n < 64; n++)
                if (mask & (UINT64_C(1) << n))
                        return n;
        return -1;
}

/* The plan's bytes per tenant to the deferred mover, for the next period. */
static int apply_deferred(Engine *e, Period *p) {
        _cleanup_free_ MoverQuota *q = calloc(p->n ? p->n : 1, sizeof(*q));
        MoverTargets to = { 0 };
        int r;

        if (!q)
                return -ENOMEM;
        if (p->topo->n_tiers < 2)
                return 0;
        for (int t = 0; t < p->topo->n_tiers; t++)
                to.ram_bytes += p->topo->tiers[t].total_bytes;
        to.fast_node = lowest_node(p->topo->tiers[0].nodes);
        to.slow_node = lowest_node(p->topo->tiers[1].nodes);
        for (size_t k = 0; k < p->n; k++) {
                const PlanTenantResult *res = &p->plan.tenants[k];
                const PlanTenant *pt = &p->plan_tenants[k];
                bool managed = !res->ignored && !res->observe_only;

                q[k] = (MoverQuota) {
                        .cgroup_id = pt->cgroup_id,
                        .cgroup = res->path,
                        .promote = managed ? res->promote_bytes + res->byte_promote_bytes : 0,
                        .demote = managed ? res->demote_bytes : 0,
                        .fast_bytes = pt->current[0],
                        .managed = managed,
                };
                for (int t = 1; t < PLAN_MAX_TIERS; t++)
                        q[k].slow_bytes += pt->current[t];
        }
        r = e->mover->deferred->commit(e->deferred, &to, q, p->n);
        if (r == -ENOMEM)
                return r;
        for (size_t k = 0; k < p->n; k++) {
                Account *a = p->acct[k];
                /* stopped (-ESTALE): nothing will move, all back */
                uint64_t promote = r < 0 ? 0 : q[k].ret_promote, demote = r < 0 ? 0 : q[k].demote;

                refund(e, p, k, true, q[k].promote - min_u64(promote, q[k].promote));
                refund(e, p, k, false, q[k].demote - demote);
                a->pending_promote = promote;
                a->pending_demote = demote;
        }
        return r == -ESTALE ? 0 : r;
}

/* The plan's unmapped promotions to the DAMOS schemes (one migrate_hot
 * per tenant that has some, file pages of its memcg only, at the rate
 * that moves them in a period); the kdamond runs only while some tenant
 * has some. Not available (DAMON in use by someone else, a kernel without
 * paddr or migrate_hot): said once, and the plan stops asking. */
/* The kdamond of the unmapped pages' schemes DT[N] (SLOTS: their tenants
 * and plans), started; when the kernel cannot, said once, the plans'
 * charges refunded and the path off (e->uprom stays NULL). 0 or -ENOMEM. */
static int uprom_open(Engine *e, const Period *p, const DamosTenant *dt, const UpromSlot *slots, size_t n,
                      uint64_t period) {
        int r;

        DamosOptions o = {
                .sysfs_root = e->sysfs_root,
                .procfs_root = e->procfs_root,
                .cgroup_mount = e->cgroup_mount,
                .fast_node = lowest_node(p->topo->tiers[0].nodes),
                .slow_node = lowest_node(p->topo->tiers[1].nodes),
                .reset_interval_ms = period,
                /* cold: not accessed for two periods (and not
                 * since its last check: the young filter) */
                .cold_min_age_us = max_u64(2 * period, UINT64_C(2000)) * 1000,
                .keep_slots = true,
                .file_only = true,
                .kdamond = uprom_kdamond(e),
        };

        log_capture_errors(e->error, sizeof(e->error));
        r = damos_open(&o, dt, n, &e->uprom);
        log_capture_errors(NULL, 0);
        if (r == -ENOMEM)
                return r;
        if (r < 0) {
                log_warning("the physical path for page cache, tmpfs and shmem pages no process maps, "
                            "DAMOS migrate_hot and migrate_cold schemes on a paddr kdamond (Linux 6.11+, "
                            "DAMON unused by anyone else), is not available (%s): such pages seen hot on "
                            "slower tiers stay there, and cold ones are demoted through memory.reclaim "
                            "where it demotes", e->error[0] ? e->error : strerror(-r));
                e->error[0] = '\0';
                e->uprom_off = true;
                e->uprom = NULL;
                for (size_t i = 0; i < n; i++) {
                        Account *a = ledger_find(&e->ledger, slots[i].cgroup_id);

                        if (a) {
                                ledger_refund(&e->ledger, a, true, slots[i].planned);
                                ledger_refund(&e->ledger, a, false, slots[i].planned_demote);
                        }
                }
                return 0;
        }
        e->uprom_kdamond = o.kdamond;
        e->uprom_opened_ms = p->time_ms;
        log_info("unmapped pages: kdamond %d, migrate_hot of hot file pages to node %d, migrate_cold of "
                 "cold ones to node %d", (int) damos_kdamond_pid(e->uprom), o.fast_node, o.slow_node);
        return 0;
}

static int uprom_apply(Engine *e, Period *p) {
        _cleanup_free_ DamosTenant *dt = calloc(p->n ? p->n : 1, sizeof(*dt));
        _cleanup_free_ UpromSlot *slots = calloc(p->n ? p->n : 1, sizeof(*slots));
        _cleanup_free_ DamosTenantStats *st = NULL;
        uint64_t period = e->period_ms ? e->period_ms : 1000;
        size_t n = 0;
        int r;

        if (!dt || !slots)
                return -ENOMEM;
        /* the scanner's kdamond for the schemes gone (its processes
         * exited, and it removed its kdamonds) or another one now */
        if (e->uprom && e->uprom_kdamond != uprom_kdamond(e)) {
                log_debug("unmapped promotions: the scanner's kdamond for the schemes is gone, closing them");
                uprom_close(e);
        }
        for (size_t k = 0; p->planned && k < p->n; k++) {
                const PlanTenantResult *res = &p->plan.tenants[k];
                const Account *a = p->acct[k];
                uint64_t want = res->unmapped_promote_bytes, down = p->udemote[k], qp, qd;
                uint64_t sp = a && a->uprom_scale[0] ? a->uprom_scale[0] : 1;
                uint64_t sd = a && a->uprom_scale[1] ? a->uprom_scale[1] : 1;

                if ((want == 0 && down == 0) || res->ignored || res->observe_only)
                        continue;
                /* The quota is charged for every page the scheme tries,
                 * other memcgs' and free ones too: scaled up as far as the
                 * last periods showed it moved less (uprom_settle()), from
                 * 1, where it cannot move more than planned. A share of
                 * all memory (as damos_mover.c scales) made the quota far
                 * too large here: the period a tenant's cold regions came
                 * of age, DAMOS moved 45 MiB for 17 planned. */
                qp = scaled(want, sp);
                qd = scaled(down, sd);
                log_debug("%s: unmapped pages' DAMOS quotas: promote %" PRIu64 " x %" PRIu64 ", demote %" PRIu64
                          " x %" PRIu64 " bytes", res->path, want, sp, down, sd);
                dt[n] = (DamosTenant) {
                        .cgroup = res->path,
                        .promote_rate = qp ? max_u64(qp / period * 1000, 1) : 0,
                        .demote_rate = qd ? max_u64(qd / period * 1000, 1) : 0,
                };
                slots[n] = (UpromSlot) { .cgroup_id = res->cgroup_id, .planned = want, .planned_demote = down };
                n++;
        }
        if (n == 0) {
                if (e->uprom)
                        log_debug("unmapped promotions: none wanted, stopping the kdamond");
                uprom_close(e);
                return 0;
        }
        if (!e->uprom) {
                r = uprom_open(e, p, dt, slots, n, period);
                if (r < 0 || !e->uprom)
                        return r;
        } else {
                r = damos_update(e->uprom, dt, n);
                if (r == -ENOMEM)
                        return r;
                if (r < 0) {
                        log_warning_errno(r, "cannot update the unmapped promotions' DAMOS schemes, restarting them "
                                          "next period: %m");
                        uprom_close(e);
                        return 0;
                }
        }
        st = calloc(n, sizeof(*st));
        if (!st)
                return -ENOMEM;
        r = damos_read_stats(e->uprom, st, n);
        if (r == -ENOMEM)
                return r;
        for (size_t i = 0; i < n; i++) {
                slots[i].base = r >= 0 ? st[i].promote.sz_applied : 0;
                slots[i].base_demote = r >= 0 ? st[i].demote.sz_applied : 0;
        }
        free(e->uprom_slots);
        e->uprom_slots = TAKE_PTR(slots);
        e->n_uprom = n;
        return 0;
}

int period_apply(Engine *e, Period *p) {
        int r;

        if (e->mover->deferred)
                return apply_deferred(e, p);
        r = apply_now(e, p);
        if (r >= 0)
                r = uprom_apply(e, p);
        return r;
}

/* ---- account, report ----------------------------------------------------- */

/* Whether the tenant has bytes on a tier that no complete pass covered
 * yet: what it holds there, hot bytes on a slower tier among them, is not
 * known, so its decisions are pending. A tenant seen whole with nothing to
 * do is not: without this, a latency tenant done with its pass kept
 * the budget in class order while a batch tenant's hot set waited on the
 * slow tier for the starvation rule's turn, one period in nine. */
static bool unscanned_bytes(const PlanTenant *pt, int n_tiers) {
        for (int i = 0; i < n_tiers && i < PLAN_MAX_TIERS; i++)
                if (pt->unscanned[i] && pt->current[i] > 0)
                        return true;
        return false;
}

void period_account(Engine *e, Period *p, unsigned number) {
        for (size_t k = 0; k < p->n; k++) {
                const PlanTenantResult *res = &p->plan.tenants[k];
                const EffectivePolicy *pol = p->set->tenants[k].policy;
                const PeriodMoved *m = &p->moved[k];
                uint64_t hot, cold;

                ledger_moved(&e->ledger, p->acct[k], m->promoted, m->demoted, m->failed);
                p->acct[k]->pending = p->plan_tenants[k].current[0] > p->plan_tenants[k].tier_max[0] ||
                                      res->held_promote.limit + res->held_promote.headroom +
                                      res->held_promote.contention + res->held_promote.no_candidates > 0 ||
                                      res->held_demote.unscanned > 0 || res->by_reason[PLAN_REASON_CONTENTION] > 0 ||
                                      unscanned_bytes(&p->plan_tenants[k], p->n_tiers);
                p->total.promoted += m->promoted;
                p->total.demoted += m->demoted;
                p->total.failed += m->failed;
                if (m->promoted || m->demoted || m->failed)
                        log_event(LOG_LVL_INFO, "moved", res->path,
                                  "%s: promoted %" PRIu64 " KiB, demoted %" PRIu64 " KiB, failed %" PRIu64 " KiB",
                                  res->path, m->promoted >> 10, m->demoted >> 10, m->failed >> 10);
                heat_summary_totals(&p->heat[k].heat, &hot, &cold);
                log_debug("%s (%s, %s): hot %" PRIu64 " cold %" PRIu64 "; plan demote %" PRIu64 " promote %" PRIu64
                          "%s; moved demoted %" PRIu64 " promoted %" PRIu64 " failed %" PRIu64,
                          res->path, e->config->classes[pol->class_index].name, policy_mode_to_string(pol->mode), hot,
                          cold, res->demote_bytes, res->promote_bytes, res->observe_only ? " (observe: not moved)" : "",
                          m->demoted, m->promoted, m->failed);
        }
        log_event(LOG_LVL_INFO, "period", NULL, "period %u: %zu tenant(s), %s scan %.0f ms; promoted %" PRIu64 " KiB, demoted %" PRIu64
                 " KiB, failed %" PRIu64 " KiB (since start: %" PRIu64 " / %" PRIu64 " / %" PRIu64 " KiB)",
                 number, p->n, e->scanner_ops->name, p->scan_ms, p->total.promoted >> 10, p->total.demoted >> 10,
                 p->total.failed >> 10, e->ledger.promoted >> 10, e->ledger.demoted >> 10, e->ledger.failed >> 10);
}

static void report_tenant(const Engine *e, const Period *p, size_t k, StatusTenant *t) {
        const EffectivePolicy *pol = p->set->tenants[k].policy;
        const CgroupInfo *ci = p->set->tenants[k].cgroup;
        const Account *a = p->acct[k];
        uint64_t now = p->time_ms;

        snprintf(t->class_name, sizeof(t->class_name), "%s", e->config->classes[pol->class_index].name);
        snprintf(t->mode, sizeof(t->mode), "%s", policy_mode_to_string(pol->mode));
        for (int i = 0; i < STATUS_MAX_TIERS; i++) {
                t->tier_max[i] = i < POLICY_MAX_TIERS ? pol->tier_max[i].bytes : UINT64_MAX;
                t->tier_low[i] = i < POLICY_MAX_TIERS && pol->tier_low[i].bytes != UINT64_MAX ? pol->tier_low[i].bytes
                                                                                               : 0;
                /* nested: the share of its ancestors' protection it has */
                if (p->planned && i < PLAN_MAX_TIERS && t->tier_low[i] != 0)
                        t->tier_low[i] = p->plan.tenants[k].tier_low[i] != UINT64_MAX ? p->plan.tenants[k].tier_low[i]
                                                                                       : 0;
                t->tier_bytes[i] = i < p->set->tree->n_tiers && i < CGROUP_MAX_TIERS
                                           ? ci->tier_anon[i] + ci->tier_file[i] : 0;
                t->tier_anon[i] = i < p->set->tree->n_tiers && i < CGROUP_MAX_TIERS ? ci->tier_anon[i] : 0;
                t->tier_file[i] = i < p->set->tree->n_tiers && i < CGROUP_MAX_TIERS ? ci->tier_file[i] : 0;
                t->tier_unmapped[i] = t->tier_file[i] - min_u64(t->tier_file[i], i < CGROUP_MAX_TIERS
                                                                                       ? ci->tier_file_mapped[i] : 0);
                if (p->views && i < HEAT_MAX_TIERS) {
                        t->classified[i] = p->views[k].coverage[i].classified;
                        t->covered[i] = p->views[k].coverage[i].complete;
                        t->unmapped_hot[i] = p->views[k].coverage[i].unmapped_hot;
                        t->unmapped_cold[i] = p->views[k].coverage[i].unmapped_cold;
                }
        }
        heat_summary_totals(&p->heat[k].heat, &t->hot_bytes, &t->cold_bytes);
        t->promote_tokens = token_bucket_peek(&a->promote, now);
        t->demote_tokens = token_bucket_peek(&a->demote, now);
        t->promote_rate = a->promote.unlimited ? UINT64_MAX : a->promote.rate;
        t->demote_rate = a->demote.unlimited ? UINT64_MAX : a->demote.rate;
        t->promoted_total = a->promoted;
        t->demoted_total = a->demoted;
        t->failed_total = a->failed;
        t->errors_total = a->errors;
        t->pids = p->targets[k].n_pids;
        t->tracked_bytes = p->heat[k].tracked_bytes;
        t->promoted = p->moved[k].promoted;
        t->demoted = p->moved[k].demoted;
        t->failed = p->moved[k].failed;
        if (p->planned) {
                const PlanTenantResult *res = &p->plan.tenants[k];

                t->planned_promote = res->promote_bytes;
                t->planned_demote = res->demote_bytes;
                t->over_max_bytes = res->by_reason[PLAN_REASON_OVER_MAX];
                t->contention_bytes = res->by_reason[PLAN_REASON_CONTENTION];
                t->swap_bytes = res->by_reason[PLAN_REASON_SWAP];
                t->unmapped_promote_bytes = res->unmapped_promote_bytes;
                t->observe_only = res->observe_only;
                t->held_demote = res->held_demote;
                t->held_promote = res->held_promote;
                t->held_unscanned = res->held_demote.unscanned;
        }
}

int period_report(Engine *e, const Period *p, unsigned number, StatusSnapshot *ret) {
        StatusSnapshot s = { 0 };

        s.periods_total = (uint64_t) number + 1;
        s.time_ms = p->time_ms;
        s.last_scan_ms = p->scan_ms;
        s.scan_cpu_seconds_total = e->scan_cpu_s;
        s.planned = p->planned;
        s.has_coverage = p->views != NULL;
        s.has_unmapped = p->views != NULL && sweeps_unmapped(e);
        s.n_tiers = p->topo->n_tiers < STATUS_MAX_TIERS ? p->topo->n_tiers : STATUS_MAX_TIERS;
        for (int t = 0; t < s.n_tiers; t++) {
                const TopologyTier *tt = &p->topo->tiers[t];

                s.tiers[t] = (StatusTier) {
                        .index = t, .capacity = tt->total_bytes, .free = tt->free_bytes,
                        .headroom = period_tier_headroom(tt),
                };
                s.tier_node_mask[t] = tt->nodes;
                (void) format_id_list(tt->nodes, s.tiers[t].nodes, sizeof(s.tiers[t].nodes));
        }
        if (p->n > 0) {
                s.tenants = calloc(p->n, sizeof(*s.tenants));
                if (!s.tenants)
                        return -ENOMEM;
        }
        for (size_t k = 0; k < p->n; k++) {
                s.tenants[k].cgroup = strdup(p->set->tenants[k].cgroup->path);
                if (!s.tenants[k].cgroup) {
                        status_snapshot_done(&s);
                        return -ENOMEM;
                }
                s.n_tenants = k + 1;
                report_tenant(e, p, k, &s.tenants[k]);
                {
                        K8sIdentity id;

                        if (tenant_set_k8s(p->set, p->set->tenants[k].index, &id) > 0) {
                                memcpy(s.tenants[k].pod, id.pod, sizeof(s.tenants[k].pod));
                                memcpy(s.tenants[k].namespace_, id.namespace_, sizeof(s.tenants[k].namespace_));
                                memcpy(s.tenants[k].container, id.container, sizeof(s.tenants[k].container));
                        }
                }
        }
        s.promoted_total = e->ledger.promoted;
        s.demoted_total = e->ledger.demoted;
        s.failed_total = e->ledger.failed;
        s.promoted = p->total.promoted;
        s.demoted = p->total.demoted;
        s.failed = p->total.failed;
        *ret = s;
        return 0;
}

int period_run(Engine *e, unsigned number, bool plan, StatusSnapshot *ret) {
        _cleanup_(period_done) Period p = { 0 };
        uint64_t t0 = now_ms();
        int r;

        e->error[0] = '\0';
        r = period_collect(e, &p, t0);
        if (r < 0)
                return r;
        r = period_scan(e, &p);
        if (r < 0)
                return r;
        p.time_ms = now_ms();
        p.scan_ms = (double) (p.time_ms - t0);
        r = period_observe(e, &p, p.time_ms);
        if (r < 0)
                return r;
        if (!plan) {
                log_debug("period %u: armed %s for %zu tenant(s)", number, e->scanner_ops->name, p.n);
                return period_report(e, &p, number, ret);
        }
        /* a deferred mover's last period, before the plan: its refunds go
         * back into the buckets the plan draws from */
        r = period_settle(e, &p, p.time_ms);
        if (r >= 0)
                r = period_plan(e, &p, p.time_ms);
        if (r >= 0)
                r = period_apply(e, &p);
        if (r < 0)
                return r;
        period_account(e, &p, number);
        return period_report(e, &p, number, ret);
}
