/* SPDX-License-Identifier: MIT */
/* The agent loop. One period:
 *
 *   topology (free bytes) -> cgroup walk (usage per tier, pids) ->
 *   annotations + configuration -> effective policies -> tenants ->
 *   scanner (heat, candidates) -> planner (pure) -> movers -> accounting
 *
 * Tenants are the cgroups with a policy of their own: a configuration rule
 * matches them or they carry a tierd annotation, and their mode is not off.
 * A tenant's processes are those of its subtree minus the subtrees of
 * nested tenants (each process is scanned and moved for one tenant); its
 * usage per tier is its memory.numa_stat, which counts the whole subtree.
 *
 * Movers, by the configuration's mover.backend:
 *  auto        VADDR candidates move with move_pages(2); byte-only
 *              demotions (MGLRU, which has no addresses) go through
 *              memory.reclaim when the administrator enabled demotion
 *              (/sys/kernel/mm/numa/demotion_enabled), and are skipped with
 *              one warning otherwise (reclaim would evict, not demote);
 *  move_pages  ranges only: byte-only demotions skipped with one warning;
 *  reclaim     every demotion of a tenant as one byte amount through
 *              memory.reclaim (refused at startup unless demotion is
 *              enabled); promotions with move_pages(2);
 *  damos       the plan's bytes per tenant become its migrate_hot /
 *              migrate_cold scheme quotas for the next period on a kdamond
 *              of tierd's own (see the DAMOS section below; a tenant's
 *              first period there checks its pages' accessed bits and
 *              promotes nothing); refused with the damon and bpf scanners
 *              (one tierd kdamond at a time).
 * PADDR candidates (idle_page physical mode) are moved only by damos:
 * skipped with one warning otherwise. What a mover fails to move is
 * refunded to the quotas. */
#include "daemon.h"

#include <inttypes.h>
#include <json-c/json.h>
#include <signal.h>
#include <stdarg.h>
#include <string.h>
#include <sys/resource.h>
#include <systemd/sd-daemon.h>
#include <systemd/sd-event.h>
#include <time.h>

#include "annotations.h"
#include "cgroup.h"
#include "config.h"
#include "control.h"
#include "mover.h"
#include "planner.h"
#include "probe.h"
#include "quota.h"
#include "resolve.h"
#include "scan.h"
#include "scanner.h"
#include "status.h"
#include "topology.h"
#include "util.h"
#include "metrics.h"

/* Kept free on every tier: 1% of its capacity, at least 16 MiB, and never
 * less than what the kernel keeps from page allocations on the tier's
 * nodes (high watermarks plus lowmem reserves, topology_load_reserves()):
 * below that its migrations fail with ENOMEM or start reclaim. */
#define HEADROOM_PERMILLE 10
#define HEADROOM_MIN (UINT64_C(16) << 20)
#define HYSTERESIS_ENTRIES 4096
#define MAX_CANDIDATES 256

typedef struct TenantState {
        uint64_t cgroup_id;
        char *path;
        TokenBucket promote, demote;
        bool seen;              /* a tenant in the current period */
        /* DAMOS mover: bytes set as this tenant's scheme quotas for the
         * current period (charged to the buckets; what does not move is
         * refunded at the next period) and the schemes' cumulative
         * sz_applied at the last reading */
        uint64_t damos_promote, damos_demote;
        uint64_t damos_base_promote, damos_base_demote;
        bool damos_checked;     /* had its period of young checks (check_only) in the running kdamond */
        uint64_t promoted, demoted, failed; /* bytes, since start */
        uint64_t errors;        /* failed mover calls, since start */
        unsigned said_failures; /* move_failure_note(): reasons already logged, 1 << MoveOutcome */
} TenantState;

typedef enum MoverBackend {
        MOVER_AUTO,             /* ranges: move_pages; byte-only demotions: memory.reclaim */
        MOVER_MOVE_PAGES,       /* ranges only */
        MOVER_RECLAIM,          /* demotions: memory.reclaim; promotions: move_pages */
        MOVER_DAMOS,            /* per-tenant migrate_hot/migrate_cold quotas */
        _MOVER_BACKEND_MAX,
        _MOVER_BACKEND_INVALID = -1,
} MoverBackend;

static const char *const mover_backend_names[] = {
        [MOVER_AUTO] = "auto", [MOVER_MOVE_PAGES] = "move_pages", [MOVER_RECLAIM] = "reclaim", [MOVER_DAMOS] = "damos",
};

typedef struct Agent {
        const DaemonArgs *args;
        const char *sysfs_root, *procfs_root;
        Probe *probe;           /* the latest (a reload probes again) */
        Probe *scan_probe;      /* the one the scanner was opened with (it keeps
                                 * pointers into it); may be probe */
        Config *config;
        const ScannerOps *ops;
        Scanner *scanner;
        ScanOptions so;         /* what the scanner was opened with */
        char scanner_wanted[32];/* the backend asked for ("auto" ...) */
        uint64_t period_ms;
        /* the service */
        sd_event *event;
        sd_event_source *timer;
        unsigned number;        /* of the next period */
        unsigned arming;        /* periods that only scan before the first plan of this scanner */
        unsigned worked;        /* periods planned (what --periods counts) */
        ControlServer *control;
        bool have_read_group;
        gid_t read_group;
        StatusSnapshot status;  /* as of the last period */
        uint64_t reloads, reload_failures;
        char last_error[256];
        double scan_cpu_s;
        uint64_t started_realtime_s;
        MetricsServer *metrics;
        TenantState *states;
        size_t n_states, alloc_states;
        TokenBucket budget;
        HysteresisTable hyst;
        HysteresisEntry *hyst_storage;
        bool warned_reclaim, warned_paddr, warned_byte_only, warned_zoneinfo;
        MoverBackend mover;
        DamosMover *damos;
        uint64_t *damos_ids;    /* cgroup id of the DAMOS mover's tenant i */
        size_t n_damos_ids;
        uint64_t promoted, demoted, failed;
} Agent;

/* Kept free on tier TT (see HEADROOM_*). */
static uint64_t tier_headroom(const TopologyTier *tt) {
        uint64_t h = tt->total_bytes / 1000 * HEADROOM_PERMILLE;

        h = h > HEADROOM_MIN ? h : HEADROOM_MIN;
        return h > tt->reserved_bytes ? h : tt->reserved_bytes;
}

static uint64_t now_ms(void) {
        struct timespec ts;

        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (uint64_t) ts.tv_sec * 1000 + (uint64_t) ts.tv_nsec / 1000000;
}

static bool origin_is_own(const Origin *o) {
        return o->kind == ORIGIN_RULE || o->kind == ORIGIN_TRUSTED || o->kind == ORIGIN_USER;
}

/* Whether the cgroup has a policy of its own (not only inherited or the
 * class and built-in defaults). */
static bool has_own_policy(const EffectivePolicy *p) {
        if (origin_is_own(&p->class_origin) || origin_is_own(&p->mode_origin) ||
            origin_is_own(&p->promote_rate.origin) || origin_is_own(&p->promote_burst.origin) ||
            origin_is_own(&p->demote_rate.origin) || origin_is_own(&p->demote_burst.origin))
                return true;
        for (int t = 0; t < POLICY_MAX_TIERS; t++)
                if (origin_is_own(&p->tier_max[t].origin) || origin_is_own(&p->tier_low[t].origin))
                        return true;
        return false;
}

static TenantState *state_get(Agent *a, uint64_t id, const char *path, const EffectivePolicy *pol, uint64_t now) {
        TenantState *st = NULL;

        for (size_t i = 0; i < a->n_states; i++)
                if (a->states[i].cgroup_id == id) {
                        st = &a->states[i];
                        break;
                }
        if (!st) {
                if (a->n_states == a->alloc_states) {
                        size_t n = a->alloc_states ? a->alloc_states * 2 : 16;
                        TenantState *ns = realloc(a->states, n * sizeof(*ns));

                        if (!ns)
                                return NULL;
                        a->states = ns;
                        a->alloc_states = n;
                }
                st = &a->states[a->n_states];
                *st = (TenantState) { .cgroup_id = id };
                st->path = strdup(path);
                if (!st->path)
                        return NULL;
                token_bucket_init_quantity(&st->promote, &pol->promote_rate.value, &pol->promote_burst.value, now);
                token_bucket_init_quantity(&st->demote, &pol->demote_rate.value, &pol->demote_burst.value, now);
                a->n_states++;
                log_debug("tenant %s (cgroup id %" PRIu64 ") appears", path, id);
        } else {
                token_bucket_reconfigure(&st->promote, &pol->promote_rate.value, &pol->promote_burst.value, now);
                token_bucket_reconfigure(&st->demote, &pol->demote_rate.value, &pol->demote_burst.value, now);
        }
        st->seen = true;
        return st;
}

/* Drops the state of tenants not seen this period (their cgroup is gone
 * or lost its policy). */
static void states_prune(Agent *a) {
        size_t j = 0;

        for (size_t i = 0; i < a->n_states; i++) {
                if (a->states[i].seen) {
                        a->states[i].seen = false;
                        a->states[j++] = a->states[i];
                } else {
                        log_event(LOG_LVL_INFO, "vanished", a->states[i].path,
                                  "tenant %s is gone (its cgroup was removed or lost its policy)", a->states[i].path);
                        free(a->states[i].path);
                }
        }
        a->n_states = j;
}

/* The tenants of this period, with what the planner and scanner need. */
typedef struct Period {
        CgroupTree *tree;
        Topology *topo;
        Annotations *ann;
        ResolveInput *in;
        EffectivePolicy *pol;
        size_t *tenant_index;   /* into tree->cgroups */
        size_t n_tenants;
        ScanTarget *targets;
        pid_t **pids;
        TenantHeat *heat;
        TenantState **states;
        PlanTenant *plan_tenants;
        PlanTier tiers[PLAN_MAX_TIERS]; /* the plan's view: capacity, free, headroom */
        int n_tiers;
        Plan plan;
        bool planned;
        /* The moves of this period: bytes demotions really moved out of
         * each tier, then what promotions may still bring into it. The plan
         * counts a planned demotion's room for the promotions it admits; a
         * demotion that moves less (pinned, absent pages) must not let the
         * promotions fill the tier into its headroom. */
        uint64_t tier_out[PLAN_MAX_TIERS];
        uint64_t tier_in_left[PLAN_MAX_TIERS];
        /* Per tenant: bytes its self-swap's demotions really moved, so
         * what the swap's promotions may bring in (the plan pairs them
         * byte for byte; a demotion that moves less must not let the
         * tenant grow on the fast tier, into its headroom). Zero at the
         * start of every period (calloc), as Period is made anew. */
        uint64_t *swap_out;
} Period;

static void period_done(Period *p) {
        if (p->planned)
                plan_done(&p->plan);
        for (size_t i = 0; i < p->n_tenants; i++) {
                if (p->pids)
                        free(p->pids[i]);
                if (p->heat)
                        tenant_heat_clear(&p->heat[i]);
        }
        free(p->plan_tenants);
        free(p->states);
        free(p->swap_out);
        free(p->heat);
        free(p->pids);
        free(p->targets);
        free(p->tenant_index);
        free(p->pol);
        free(p->in);
        free(p->ann);
        cgroup_tree_free(p->tree);
        topology_free(p->topo);
        *p = (Period) { 0 };
}

/* Walks, resolves and picks the tenants. */
static int period_tenants(Agent *a, Period *p, uint64_t now) {
        const char *mount = a->probe->cgroup_mount;
        size_t n;
        int r;

        r = topology_load(a->sysfs_root, &p->topo);
        if (r < 0)
                return log_error_errno(r, "cannot read the NUMA topology: %m");
        r = topology_load_reserves(a->procfs_root, p->topo);
        if (r == -ENOMEM)
                return r;
        if (r < 0 && !a->warned_zoneinfo) {
                log_warning_errno(r, "cannot read %s/zoneinfo, the headroom ignores the kernel's watermarks: %m",
                                  a->procfs_root);
                a->warned_zoneinfo = true;
        }
        r = cgroup_walk(mount, p->topo, CGROUP_WALK_SKIP_MEMORY_STAT, &p->tree);
        if (r < 0)
                return log_error_errno(r, "cannot walk the cgroup tree at %s: %m", mount);
        n = p->tree->n_cgroups;
        p->ann = calloc(n, sizeof(*p->ann));
        p->in = calloc(n, sizeof(*p->in));
        p->pol = calloc(n, sizeof(*p->pol));
        p->tenant_index = calloc(n, sizeof(*p->tenant_index));
        if (!p->ann || !p->in || !p->pol || !p->tenant_index)
                return -ENOMEM;
        for (size_t i = 0; i < n; i++) {
                const CgroupInfo *ci = &p->tree->cgroups[i];
                _cleanup_free_ char *path = NULL;

                if (asprintf(&path, "%s%s%s", mount, ci->path[0] ? "/" : "", ci->path) < 0)
                        return -ENOMEM;
                r = annotations_read(path, &p->ann[i]);
                if (r == -ENOMEM)
                        return r;
                /* gone since the walk: resolved without annotations, and
                 * it has no processes to move anyway */
                p->in[i] = (ResolveInput) {
                        .path = ci->path, .parent = ci->parent, .owner = ci->uid,
                        .usage = ci->memory_current, .annotations = r < 0 ? NULL : &p->ann[i],
                };
        }
        r = resolve_policies(a->config, p->in, n, p->pol);
        if (r < 0)
                return log_error_errno(r, "policy resolution failed: %m");

        for (size_t i = 1; i < n; i++) {
                const EffectivePolicy *pol = &p->pol[i];

                for (int e = 0; e < pol->n_errors; e++)
                        log_debug("%s", pol->errors[e]);
                if (pol->mode == MODE_OFF || pol->mode == MODE_UNSET || !has_own_policy(pol) ||
                    !p->tree->cgroups[i].has_numa_stat)
                        continue;
                p->tenant_index[p->n_tenants++] = i;
        }

        p->targets = calloc(p->n_tenants ? p->n_tenants : 1, sizeof(*p->targets));
        p->pids = calloc(p->n_tenants ? p->n_tenants : 1, sizeof(*p->pids));
        p->heat = calloc(p->n_tenants ? p->n_tenants : 1, sizeof(*p->heat));
        p->states = calloc(p->n_tenants ? p->n_tenants : 1, sizeof(*p->states));
        p->swap_out = calloc(p->n_tenants ? p->n_tenants : 1, sizeof(*p->swap_out));
        if (!p->targets || !p->pids || !p->heat || !p->states || !p->swap_out)
                return -ENOMEM;
        for (size_t k = 0; k < p->n_tenants; k++) {
                size_t idx = p->tenant_index[k], end = p->tree->cgroups[idx].subtree_end, cnt = 0;
                const CgroupInfo *ci = &p->tree->cgroups[idx];

                /* own subtree minus nested tenants' subtrees */
                for (size_t j = idx; j < end; j++) {
                        bool nested = false;

                        for (size_t m = 0; m < p->n_tenants && !nested; m++) {
                                size_t o = p->tenant_index[m];

                                nested = o != idx && o > idx && o < end && j >= o &&
                                         j < p->tree->cgroups[o].subtree_end;
                        }
                        if (nested)
                                continue;
                        if (p->tree->cgroups[j].n_pids) {
                                pid_t *np = realloc(p->pids[k], (cnt + p->tree->cgroups[j].n_pids) * sizeof(pid_t));

                                if (!np)
                                        return -ENOMEM;
                                memcpy(np + cnt, p->tree->cgroups[j].pids, p->tree->cgroups[j].n_pids * sizeof(pid_t));
                                p->pids[k] = np;
                                cnt += p->tree->cgroups[j].n_pids;
                        }
                }
                p->targets[k] = (ScanTarget) {
                        .cgroup_path = ci->path, .cgroup_id = ci->id, .pids = p->pids[k], .n_pids = cnt,
                };
                p->heat[k].cgroup_id = ci->id;
                p->states[k] = state_get(a, ci->id, ci->path, &p->pol[idx], now);
                if (!p->states[k])
                        return -ENOMEM;
        }
        states_prune(a);
        /* state_get() may have moved the array: look the pointers up again */
        for (size_t k = 0; k < p->n_tenants; k++)
                for (size_t i = 0; i < a->n_states; i++)
                        if (a->states[i].cgroup_id == p->targets[k].cgroup_id) {
                                p->states[k] = &a->states[i];
                                break;
                        }
        return 0;
}

static int period_plan(Agent *a, Period *p, uint64_t now) {
        PlanInput in = {
                .tenants = NULL,
                .budget = &a->budget,
                .now_ms = now,
                .hysteresis_ms = a->config->mover.hysteresis_ms,
                .hysteresis = &a->hyst,
        };
        bool byte_only = strcmp(a->ops->name, "lru_gen") == 0;

        in.n_tiers = p->topo->n_tiers < PLAN_MAX_TIERS ? p->topo->n_tiers : PLAN_MAX_TIERS;
        for (int t = 0; t < in.n_tiers; t++) {
                const TopologyTier *tt = &p->topo->tiers[t];

                in.tiers[t] = (PlanTier) {
                        .nodes = tt->nodes, .capacity = tt->total_bytes, .free = tt->free_bytes,
                        .headroom = tier_headroom(tt),
                };
                for (int n = 0; n < p->topo->n_nodes; n++) {
                        const TopologyNode *node = &p->topo->nodes[n];

                        if (node->tier == t && node->id >= 0 && node->id < PLAN_MAX_NODES)
                                in.tiers[t].node_free[node->id] = node->free_bytes;
                }
        }
        p->plan_tenants = calloc(p->n_tenants ? p->n_tenants : 1, sizeof(*p->plan_tenants));
        if (!p->plan_tenants)
                return -ENOMEM;
        for (size_t k = 0; k < p->n_tenants; k++) {
                size_t idx = p->tenant_index[k];
                const EffectivePolicy *pol = &p->pol[idx];
                const CgroupInfo *ci = &p->tree->cgroups[idx];
                PlanTenant *pt = &p->plan_tenants[k];

                *pt = (PlanTenant) {
                        .cgroup_id = ci->id,
                        .path = ci->path,
                        .mode = pol->mode,
                        .class_rank = pol->class_index,
                        .weight = a->config->classes[pol->class_index].weight,
                        .heat = &p->heat[k],
                        .byte_only = byte_only,
                        .promote_quota = &p->states[k]->promote,
                        .demote_quota = &p->states[k]->demote,
                };
                for (int t = 0; t < PLAN_MAX_TIERS; t++) {
                        pt->tier_max[t] = t < POLICY_MAX_TIERS ? pol->tier_max[t].bytes : UINT64_MAX;
                        pt->tier_low[t] = t < POLICY_MAX_TIERS ? pol->tier_low[t].bytes : 0;
                        pt->current[t] = t < CGROUP_MAX_TIERS ? ci->tier_anon[t] + ci->tier_file[t] : 0;
                }
        }
        in.tenants = p->plan_tenants;
        in.n_tenants = p->n_tenants;
        memcpy(p->tiers, in.tiers, sizeof(p->tiers));
        p->n_tiers = in.n_tiers;
        if (plan_compute(&in, &p->plan) < 0)
                return -ENOMEM;
        p->planned = true;
        return 0;
}

typedef struct Moved {
        uint64_t promoted, demoted, failed;
} Moved;

/* Pages of one move_pages range that did not move, by reason: said once
 * per tenant and reason at info level (pinned or shared pages are the
 * tenant's business, not tierd's fault; failed_bytes counts them every
 * period). -errno R of the call as a whole: as MOVE_OTHER. */
static void move_failure_note(TenantState *st, const char *path, int r, const MovePagesResult *mr) {
        static const char *const why[_MOVE_OUTCOME_MAX] = {
                [MOVE_BUSY] = "pinned (io_uring or DMA buffers, vmsplice) or held by someone else",
                [MOVE_ACCES] = "mapped by several processes",
                [MOVE_FAULT] = "not movable memory (zero page, special mapping)",
                [MOVE_NOMEM] = "the target node had no free page",
                [MOVE_OTHER] = "refused",
        };

        for (int o = MOVE_BUSY; o < _MOVE_OUTCOME_MAX; o++) {
                uint64_t pages = o == MOVE_NOENT ? 0 : mr->pages[o];

                if ((pages == 0 && !(o == MOVE_OTHER && r < 0)) || (st->said_failures & (1u << o)))
                        continue;
                st->said_failures |= 1u << o;
                if (o == MOVE_OTHER && r < 0)
                        log_event(LOG_LVL_INFO, "move-failed", path, "%s: move_pages failed: %s; counted in "
                                  "failed_bytes and the tenant's errors, not said again for this tenant", path,
                                  strerror(-r));
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

/* Carries out the moves of one tenant's plan in DIRECTION, adds what
 * moved to *ret; refunds what did not move. */
static int tenant_move(Agent *a, Period *p, size_t k, PlanDirection direction, Moved *ret) {
        const PlanTenantResult *res = &p->plan.tenants[k];
        TenantState *st = p->states[k];
        uint64_t *swap_out = &p->swap_out[k];
        Moved m = { 0 };
        int r;

        if (direction == PLAN_DEMOTE && a->mover == MOVER_RECLAIM) {
                /* every demotion of the tenant as one byte amount */
                uint64_t want = 0, moved = 0, swap_want = 0;
                ReclaimResult rr;

                for (size_t i = 0; i < res->n_moves; i++)
                        if (res->moves[i].direction == PLAN_DEMOTE) {
                                want += res->moves[i].bytes;
                                if (res->moves[i].reason == PLAN_REASON_SWAP)
                                        swap_want += res->moves[i].bytes;
                        }
                if (want == 0)
                        return 0;
                r = mover_reclaim(a->probe->cgroup_mount, res->path, want, a->sysfs_root, &rr);
                if (r == -ENOMEM)
                        return r;
                if (r < 0) {
                        log_debug("%s: memory.reclaim of %" PRIu64 " bytes failed: %s", res->path, want, strerror(-r));
                        st->errors++;
                } else
                        moved = rr.diff.moved_bytes < want ? rr.diff.moved_bytes : want;
                log_debug("%s: memory.reclaim demoted %" PRIu64 " of %" PRIu64 " bytes", res->path, moved, want);
                if (moved < want) {
                        quota_refund(&st->demote, &a->budget, want - moved);
                        m.failed = want - moved;
                }
                m.demoted = moved;
                /* the swap's share of what moved, and each tier's, in
                 * proportion to what was asked */
                *swap_out = (uint64_t) ((double) moved * (double) swap_want / (double) want);
                for (size_t i = 0; i < res->n_moves; i++) {
                        const PlanMove *mv = &res->moves[i];

                        if (mv->direction == PLAN_DEMOTE && mv->from_tier >= 0 && mv->from_tier < p->n_tiers)
                                p->tier_out[mv->from_tier] +=
                                        (uint64_t) ((double) moved * (double) mv->bytes / (double) want);
                }
                st->demoted += m.demoted;
                st->failed += m.failed;
                ret->demoted += m.demoted;
                ret->failed += m.failed;
                return 0;
        }

        for (size_t i = 0; i < res->n_moves; i++) {
                const PlanMove *mv = &res->moves[i];
                bool demote = mv->direction == PLAN_DEMOTE;
                bool swap_in = !demote && mv->reason == PLAN_REASON_SWAP;
                bool tier_known = !demote && mv->to_tier >= 0 && mv->to_tier < p->n_tiers;
                uint64_t moved = 0, cap = mv->bytes;

                if (mv->direction != direction)
                        continue;
                if (swap_in && *swap_out < cap)
                        cap = *swap_out;
                if (tier_known && p->tier_in_left[mv->to_tier] < cap)
                        cap = p->tier_in_left[mv->to_tier];
                if (!demote && cap == 0) {
                        log_debug("%s: promotion of %" PRIu64 " bytes to tier %d skipped: %s", res->path, mv->bytes,
                                  mv->to_tier,
                                  swap_in && *swap_out == 0 ? "the swap's demotions moved nothing more"
                                                            : "demotions that failed left no room for it");
                } else if (!mv->has_range && a->mover == MOVER_MOVE_PAGES) {
                        if (!a->warned_byte_only)
                                log_warning("mover.backend is move_pages: byte-only demotions (%s has no addresses) "
                                            "are skipped", a->ops->name);
                        a->warned_byte_only = true;
                } else if (!mv->has_range) {
                        ReclaimResult rr;

                        if (!demote || a->probe->demotion_enabled != 1) {
                                if (!a->warned_reclaim)
                                        log_warning("demotion_enabled is not true: byte-only demotions (%s has no "
                                                    "addresses) would evict through memory.reclaim, not demote; "
                                                    "skipped", a->ops->name);
                                a->warned_reclaim = true;
                        } else {
                                r = mover_reclaim(a->probe->cgroup_mount, res->path, mv->bytes, a->sysfs_root, &rr);
                                if (r == -ENOMEM)
                                        return r;
                                if (r < 0) {
                                        log_debug("%s: memory.reclaim of %" PRIu64 " bytes failed: %s", res->path,
                                                  mv->bytes, strerror(-r));
                                        st->errors++;
                                } else
                                        moved = rr.diff.moved_bytes < mv->bytes ? rr.diff.moved_bytes : mv->bytes;
                        }
                } else if (mv->range.kind != SCAN_RANGE_VADDR) {
                        if (!a->warned_paddr)
                                log_warning("physical-address candidates need the DAMOS mover, which the agent does "
                                            "not drive yet: skipped");
                        a->warned_paddr = true;
                } else {
                        MovePagesOptions o = {
                                .node = mv->to_node,
                                .batch = a->config->mover.batch_pages,
                                .max_bytes = cap,
                                .procfs_root = a->procfs_root,
                        };
                        MovePagesResult mr;

                        /* -ENOMEM here is the kernel's: migrate_pages()
                         * found no free page on the target node (a full
                         * fast tier), and move_pages(2) then fails as a
                         * whole. A failed move, refunded below, not the
                         * agent out of memory. */
                        r = mover_move_pages(mv->range.pid, &mv->range, 1, &o, &mr);
                        if (r < 0) {
                                log_debug("%s: move_pages of pid %d failed: %s", res->path, (int) mv->range.pid,
                                          strerror(-r));
                                st->errors++;
                        }
                        moved = mr.bytes_moved < mv->bytes ? mr.bytes_moved : mv->bytes;
                        if (moved > 0)
                                hysteresis_record(&a->hyst, &mv->range, (PlanDirection) mv->direction,
                                                  now_ms(), a->config->mover.hysteresis_ms);
                        move_failure_note(st, res->path, r, &mr);
                        /* back off: a range with pages the kernel refuses
                         * to move (pinned, shared, not movable), or that
                         * are absent, or a call refused as a whole (not
                         * for a full node: -ENOMEM passes) is not tried
                         * again in this direction within the hysteresis
                         * window (recorded as if moved the other way),
                         * else every period would retry the same pinned
                         * pages */
                        if ((r < 0 && r != -ENOMEM) ||
                            mr.pages[MOVE_BUSY] + mr.pages[MOVE_ACCES] + mr.pages[MOVE_FAULT] +
                            mr.pages[MOVE_NOENT] + mr.pages[MOVE_OTHER] > 0) {
                                hysteresis_record(&a->hyst, &mv->range, demote ? PLAN_PROMOTE : PLAN_DEMOTE,
                                                  now_ms(), a->config->mover.hysteresis_ms);
                                log_debug("%s: pid %d %#" PRIx64 "-%#" PRIx64 " backs off for %" PRIu64 " ms "
                                          "(pages refused or absent)", res->path, (int) mv->range.pid,
                                          mv->range.start, mv->range.end, a->config->mover.hysteresis_ms);
                        }
                        log_debug("%s: %s pid %d %#" PRIx64 "-%#" PRIx64 " to node %d (%s): %" PRIu64
                                  " of %" PRIu64 " bytes", res->path, demote ? "demote" : "promote",
                                  (int) mv->range.pid, mv->range.start, mv->range.end, mv->to_node,
                                  plan_reason_to_string((PlanReason) mv->reason), moved, mv->bytes);
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
                        quota_refund(demote ? &st->demote : &st->promote, &a->budget, mv->bytes - moved);
                        m.failed += mv->bytes - moved;
                }
                if (demote)
                        m.demoted += moved;
                else
                        m.promoted += moved;
        }
        st->promoted += m.promoted;
        st->demoted += m.demoted;
        st->failed += m.failed;
        ret->promoted += m.promoted;
        ret->demoted += m.demoted;
        ret->failed += m.failed;
        return 0;
}

/* Carries out the plan: every tenant's demotions first (they free the
 * room promotions fill), then the promotions by class, highest priority
 * first. When a tier holds less than the planner counted on (the kernel
 * refuses to allocate on a nearly full node), the lower classes come up
 * short, not the higher ones. RET: per tenant, in plan order. */
static int plan_move(Agent *a, Period *p, Moved *ret) {
        _cleanup_free_ size_t *order = calloc(p->n_tenants ? p->n_tenants : 1, sizeof(*order));
        size_t n = 0;
        int r;

        if (!order)
                return -ENOMEM;
        for (size_t k = 0; k < p->n_tenants; k++) {
                const PlanTenantResult *res = &p->plan.tenants[k];
                size_t j = n++;

                if (res->ignored || res->observe_only) {
                        n--;
                        continue;
                }
                r = tenant_move(a, p, k, PLAN_DEMOTE, &ret[k]);
                if (r < 0)
                        return r;
                /* insertion sort by class rank, stable */
                for (; j > 0 && p->plan_tenants[order[j - 1]].class_rank > p->plan_tenants[k].class_rank; j--)
                        order[j] = order[j - 1];
                order[j] = k;
        }
        /* what the promotions may bring into each tier: all the plan asks
         * if its demotions moved (the plan's room), else less, taken from
         * the last promotions (the lowest classes: order is by rank) */
        for (int d = 0; d < p->n_tiers; d++) {
                uint64_t planned = 0, room;

                for (size_t i = 0; i < n; i++) {
                        const PlanTenantResult *res = &p->plan.tenants[order[i]];

                        for (size_t j = 0; j < res->n_moves; j++)
                                if (res->moves[j].direction == PLAN_PROMOTE && res->moves[j].to_tier == d)
                                        planned += res->moves[j].bytes;
                }
                room = p->tiers[d].free > p->tiers[d].headroom ? p->tiers[d].free - p->tiers[d].headroom : 0;
                p->tier_in_left[d] = planned < room + p->tier_out[d] ? planned : room + p->tier_out[d];
                if (p->tier_in_left[d] < planned)
                        log_debug("tier %d: promotions cut from %" PRIu64 " to %" PRIu64 " bytes: the demotions "
                                  "moved %" PRIu64 " bytes out, the room was %" PRIu64, d, planned,
                                  p->tier_in_left[d], p->tier_out[d], room);
        }
        for (size_t i = 0; i < n; i++) {
                r = tenant_move(a, p, order[i], PLAN_PROMOTE, &ret[order[i]]);
                if (r < 0)
                        return r;
        }
        return 0;
}

/* ---- the DAMOS mover ----------------------------------------------------
 *
 * The planner decides per tenant how many bytes to promote and demote this
 * period (charged to the buckets); those bytes become the tenant's
 * migrate_hot / migrate_cold quotas for the next period (a reset interval
 * of one period), re-committed to the running kdamond. At the next period
 * the schemes' sz_applied deltas are what moved; the rest of the quota is
 * refunded. Ranges in the plan are not used (DAMON finds the pages). */

/* At most this many times the planned bytes as a scheme's quota (see
 * damos_quota_scale()). */
#define DAMOS_MAX_QUOTA_SCALE 64

static TenantState *state_find(Agent *a, uint64_t id) {
        for (size_t i = 0; i < a->n_states; i++)
                if (a->states[i].cgroup_id == id)
                        return &a->states[i];
        return NULL;
}

static void damos_drop(Agent *a) {
        for (size_t i = 0; i < a->n_states; i++)
                a->states[i].damos_checked = false;
        damos_close(a->damos);
        a->damos = NULL;
        free(a->damos_ids);
        a->damos_ids = NULL;
        a->n_damos_ids = 0;
}

/* Refunds what a tenant's quotas of the last period did not move. */
static void damos_refund(Agent *a, TenantState *st, uint64_t moved_p, uint64_t moved_d) {
        if (moved_p < st->damos_promote)
                quota_refund(&st->promote, &a->budget, st->damos_promote - moved_p);
        if (moved_d < st->damos_demote)
                quota_refund(&st->demote, &a->budget, st->damos_demote - moved_d);
        st->damos_promote = st->damos_demote = 0;
}

/* What the schemes moved since the last reading, into ret[k] of this
 * period's tenants; refunds the unused quotas. */
static int damos_account(Agent *a, Period *p, Moved *ret, uint64_t now) {
        _cleanup_free_ DamosTenantStats *stats = NULL;
        int r;

        if (!a->damos || a->n_damos_ids == 0)
                return 0;
        stats = calloc(a->n_damos_ids, sizeof(*stats));
        if (!stats)
                return -ENOMEM;
        r = damos_read_stats(a->damos, stats, a->n_damos_ids);
        if (r == -ENOMEM)
                return r;
        if (r < 0) {
                /* logged; the kdamond is gone: reopened next period */
                for (size_t i = 0; i < a->n_damos_ids; i++) {
                        TenantState *st = state_find(a, a->damos_ids[i]);

                        if (st)
                                damos_refund(a, st, 0, 0);
                }
                damos_drop(a);
                return 0;
        }
        for (size_t i = 0; i < a->n_damos_ids; i++) {
                TenantState *st = state_find(a, a->damos_ids[i]);
                uint64_t dp, dd;

                if (!st)
                        continue; /* gone: nothing to refund to */
                dp = stats[i].promote.sz_applied - st->damos_base_promote;
                dd = stats[i].demote.sz_applied - st->damos_base_demote;
                st->damos_base_promote = stats[i].promote.sz_applied;
                st->damos_base_demote = stats[i].demote.sz_applied;
                log_debug("%s: damos moved promote %" PRIu64 " of %" PRIu64 ", demote %" PRIu64 " of %" PRIu64
                          " bytes (sz_tried %" PRIu64 " / %" PRIu64 ")", st->path, dp, st->damos_promote, dd,
                          st->damos_demote, stats[i].promote.sz_tried, stats[i].demote.sz_tried);
                st->failed += (dp < st->damos_promote ? st->damos_promote - dp : 0) +
                              (dd < st->damos_demote ? st->damos_demote - dd : 0);
                for (size_t k = 0; k < p->n_tenants; k++)
                        if (p->states[k] == st) {
                                ret[k].promoted += dp;
                                ret[k].demoted += dd;
                                ret[k].failed += (dp < st->damos_promote ? st->damos_promote - dp : 0) +
                                                 (dd < st->damos_demote ? st->damos_demote - dd : 0);
                        }
                st->promoted += dp;
                st->demoted += dd;
                /* the scaled quota may move more than planned: charged
                 * afterwards, as far as the buckets hold */
                if (dp > st->damos_promote)
                        quota_take(&st->promote, &a->budget, dp - st->damos_promote, 1, now);
                if (dd > st->damos_demote)
                        quota_take(&st->demote, &a->budget, dd - st->damos_demote, 1, now);
                damos_refund(a, st, dp, dd);
        }
        return 0;
}

static int lowest_node(uint64_t mask) {
        for (int n = 0; n < 64; n++)
                if (mask & (UINT64_C(1) << n))
                        return n;
        return -1;
}

/* The plan's bytes as the tenants' quotas for the next period. */
static int damos_commit(Agent *a, Period *p, uint64_t now) {
        _cleanup_free_ DamosTenant *dt = NULL;
        _cleanup_free_ uint64_t *ids = NULL;
        uint64_t room = p->plan.room_after[0], ram = 0, slow, qp, qd;
        size_t n = 0;
        int r;

        if (p->topo->n_tiers < 2)
                return 0;
        for (int t = 0; t < p->topo->n_tiers; t++)
                ram += p->topo->tiers[t].total_bytes;
        dt = calloc(p->n_tenants ? p->n_tenants : 1, sizeof(*dt));
        ids = calloc(p->n_tenants ? p->n_tenants : 1, sizeof(*ids));
        if (!dt || !ids)
                return -ENOMEM;
        for (size_t k = 0; k < p->n_tenants; k++) {
                const PlanTenantResult *res = &p->plan.tenants[k];
                const PlanTenant *pt = &p->plan_tenants[k];
                TenantState *st = p->states[k];
                uint64_t promote = 0, demote = 0;
                bool check;

                if (!res->ignored && !res->observe_only) {
                        promote = res->promote_bytes;
                        demote = res->demote_bytes;
                        /* byte-only heat (lru_gen): the planner has no
                         * candidates to promote and holds the hot bytes
                         * on slower tiers back; DAMOS needs none, so
                         * they are promoted within the tenant's
                         * tier-0 limit, the tier's room and the quotas */
                        if (pt->byte_only && res->held_promote.no_candidates > 0) {
                                uint64_t want = res->held_promote.no_candidates, cur = pt->current[0] + promote;

                                if (pt->tier_max[0] != UINT64_MAX)
                                        want = cur >= pt->tier_max[0] ? 0 : min_u64(want, pt->tier_max[0] - cur);
                                want = min_u64(want, room) / PLAN_PAGE * PLAN_PAGE;
                                want = quota_take(&st->promote, &a->budget, want, PLAN_PAGE, now);
                                room -= want;
                                promote += want;
                        }
                }
                /* a tenant's first period in the kdamond: the young
                 * check of its pages only, its migrate_hot off (a page
                 * never checked reads young: see damos.c); the planned
                 * promotion waits a period. Not for a tenant in mode
                 * off or observe: tierd does not touch its pages. */
                check = !res->ignored && !res->observe_only && !st->damos_checked;
                if (check && promote) {
                        quota_refund(&st->promote, &a->budget, promote);
                        promote = 0;
                }
                st->damos_promote = promote;
                st->damos_demote = demote;
                /* scaled by the tenant's share of the pages the scheme
                 * looks at: the source tier's (what is already on the
                 * target is tried and charged too, but sparse there) */
                slow = 0;
                for (int t = 1; t < PLAN_MAX_TIERS; t++)
                        slow += pt->current[t];
                qp = damos_quota_scale(promote, slow, ram, DAMOS_MAX_QUOTA_SCALE);
                qd = damos_quota_scale(demote, pt->current[0], ram, DAMOS_MAX_QUOTA_SCALE);
                dt[n] = (DamosTenant) {
                        .cgroup = res->path,
                        .promote_rate = qp ? max_u64(qp / a->period_ms * 1000, 1) : 0,
                        .demote_rate = qd ? max_u64(qd / a->period_ms * 1000, 1) : 0,
                        .check_only = check,
                };
                ids[n++] = st->cgroup_id;
                log_debug("%s: damos quotas for the next period: promote %" PRIu64 ", demote %" PRIu64 " bytes%s",
                          res->path, promote, demote, check ? " (its first: the young check of its pages, no promotion)" : "");
        }
        if (!a->damos && n > 0) {
                DamosOptions o = {
                        .sysfs_root = a->sysfs_root,
                        .procfs_root = a->procfs_root,
                        .cgroup_mount = a->probe->cgroup_mount,
                        .fast_node = lowest_node(p->topo->tiers[0].nodes),
                        .slow_node = lowest_node(p->topo->tiers[1].nodes),
                        .reset_interval_ms = a->period_ms,
                        .cold_min_age_us = max_u64(2 * a->period_ms, UINT64_C(2000)) * 1000,
                        .keep_slots = true,
                };

                r = damos_open(&o, dt, n, &a->damos);
                if (r < 0)
                        return log_error_errno(r, "cannot start the DAMOS mover: %m");
                log_info("DAMOS mover: kdamond %d, migrate_hot to node %d, migrate_cold to node %d",
                         (int) damos_kdamond_pid(a->damos), o.fast_node, o.slow_node);
                r = 1;
        } else if (a->damos) {
                r = damos_update(a->damos, dt, n);
                if (r == -ENOMEM)
                        return r;
                if (r < 0) {
                        log_warning_errno(r, "DAMOS mover: cannot update the schemes, restarting it next period: %m");
                        for (size_t k = 0; k < p->n_tenants; k++)
                                damos_refund(a, p->states[k], 0, 0);
                        damos_drop(a);
                        return 0;
                }
        } else
                return 0;
        free(a->damos_ids);
        a->damos_ids = TAKE_PTR(ids);
        a->n_damos_ids = n;
        for (size_t k = 0; k < n; k++)
                if (dt[k].check_only)
                        p->states[k]->damos_checked = true;
        if (r > 0) {
                /* a new layout: the schemes' stats start again */
                _cleanup_free_ DamosTenantStats *stats = calloc(n ? n : 1, sizeof(*stats));

                if (!stats)
                        return -ENOMEM;
                r = n ? damos_read_stats(a->damos, stats, n) : 0;
                if (r == -ENOMEM)
                        return r;
                if (r < 0) {
                        damos_drop(a);
                        return 0;
                }
                for (size_t k = 0; k < n; k++) {
                        p->states[k]->damos_base_promote = stats[k].promote.sz_applied;
                        p->states[k]->damos_base_demote = stats[k].demote.sz_applied;
                }
        }
        return 0;
}

static json_object *held_json(const PlanHeld *h) {
        json_object *o = json_object_new_object();

        json_object_object_add(o, "no_candidates", json_object_new_uint64(h->no_candidates));
        json_object_object_add(o, "hysteresis", json_object_new_uint64(h->hysteresis));
        json_object_object_add(o, "limit", json_object_new_uint64(h->limit));
        json_object_object_add(o, "low", json_object_new_uint64(h->low));
        json_object_object_add(o, "quota", json_object_new_uint64(h->quota));
        json_object_object_add(o, "budget", json_object_new_uint64(h->budget));
        json_object_object_add(o, "headroom", json_object_new_uint64(h->headroom));
        json_object_object_add(o, "contention", json_object_new_uint64(h->contention));
        return o;
}

static double rusage_s(void) {
        struct rusage ru;

        if (getrusage(RUSAGE_SELF, &ru) < 0)
                return 0;
        return (double) ru.ru_utime.tv_sec + (double) ru.ru_utime.tv_usec / 1e6 + (double) ru.ru_stime.tv_sec +
               (double) ru.ru_stime.tv_usec / 1e6;
}

/* The mover that really moves: auto is move_pages for ranges, or
 * memory.reclaim for a byte-only scanner (MGLRU) */
static const char *mover_effective_name(const Agent *a) {
        if (a->mover < 0 || a->mover >= _MOVER_BACKEND_MAX)
                return "";
        if (a->mover == MOVER_AUTO)
                return a->ops && strcmp(a->ops->name, "lru_gen") == 0 ? "reclaim" : "move_pages";
        return mover_backend_names[a->mover];
}

/* The snapshot header: what does not depend on a period. */
static void status_header(Agent *a, StatusSnapshot *s) {
        snprintf(s->version, sizeof(s->version), "%s", TIERD_VERSION);
        snprintf(s->scanner, sizeof(s->scanner), "%s", a->ops ? a->ops->name : "");
        snprintf(s->mover, sizeof(s->mover), "%s", mover_effective_name(a));
        snprintf(s->config_path, sizeof(s->config_path), "%s", a->args->config_path);
        s->period_ms = a->period_ms;
        s->started_realtime_s = a->started_realtime_s;
        s->scan_cpu_seconds_total = a->scan_cpu_s;
        s->reloads_total = a->reloads;
        s->reload_failures_total = a->reload_failures;
        snprintf(s->last_error, sizeof(s->last_error), "%s", a->last_error);
        s->promoted_total = a->promoted;
        s->demoted_total = a->demoted;
        s->failed_total = a->failed;
}

/* Replaces a->status with this period's (an arming period has no plan). */
static int status_build(Agent *a, const Period *p, uint64_t now, double scan_ms) {
        StatusSnapshot s = { 0 };

        status_header(a, &s);
        s.periods_total = (uint64_t) a->number + 1;
        s.time_ms = now;
        s.last_scan_ms = scan_ms;
        s.n_tiers = p->topo->n_tiers < STATUS_MAX_TIERS ? p->topo->n_tiers : STATUS_MAX_TIERS;
        for (int t = 0; t < s.n_tiers; t++) {
                const TopologyTier *tt = &p->topo->tiers[t];

                s.tiers[t] = (StatusTier) {
                        .index = t, .capacity = tt->total_bytes, .free = tt->free_bytes,
                        .headroom = tier_headroom(tt),
                };
                (void) format_id_list(tt->nodes, s.tiers[t].nodes, sizeof(s.tiers[t].nodes));
        }
        if (p->n_tenants > 0) {
                s.tenants = calloc(p->n_tenants, sizeof(*s.tenants));
                if (!s.tenants)
                        return -ENOMEM;
        }
        for (size_t k = 0; k < p->n_tenants; k++) {
                const EffectivePolicy *pol = &p->pol[p->tenant_index[k]];
                const CgroupInfo *ci = &p->tree->cgroups[p->tenant_index[k]];
                const TenantState *st = p->states[k];
                StatusTenant *t = &s.tenants[k];

                t->cgroup = strdup(ci->path);
                if (!t->cgroup) {
                        status_snapshot_done(&s);
                        return -ENOMEM;
                }
                s.n_tenants = k + 1;
                snprintf(t->class_name, sizeof(t->class_name), "%s", a->config->classes[pol->class_index].name);
                snprintf(t->mode, sizeof(t->mode), "%s", policy_mode_to_string(pol->mode));
                for (int i = 0; i < STATUS_MAX_TIERS; i++) {
                        t->tier_max[i] = i < POLICY_MAX_TIERS ? pol->tier_max[i].bytes : UINT64_MAX;
                        t->tier_low[i] = i < POLICY_MAX_TIERS && pol->tier_low[i].bytes != UINT64_MAX
                                                 ? pol->tier_low[i].bytes : 0;
                        t->tier_bytes[i] = i < p->tree->n_tiers && i < CGROUP_MAX_TIERS
                                                   ? ci->tier_anon[i] + ci->tier_file[i] : 0;
                }
                heat_summary_totals(&p->heat[k].heat, &t->hot_bytes, &t->cold_bytes);
                t->promote_tokens = token_bucket_peek(&st->promote, now);
                t->demote_tokens = token_bucket_peek(&st->demote, now);
                t->promote_rate = st->promote.unlimited ? UINT64_MAX : st->promote.rate;
                t->demote_rate = st->demote.unlimited ? UINT64_MAX : st->demote.rate;
                if (p->planned) {
                        t->planned_promote = p->plan.tenants[k].promote_bytes;
                        t->planned_demote = p->plan.tenants[k].demote_bytes;
                }
                t->promoted_total = st->promoted;
                t->demoted_total = st->demoted;
                t->failed_total = st->failed;
                t->errors_total = st->errors;
        }
        status_snapshot_done(&a->status);
        a->status = s;
        return 0;
}

/* One period; PLAN false: scan only (an arming period). */
static int agent_period(Agent *a, unsigned number, bool plan, double *ret_scan_ms) {
        _cleanup_(period_done) Period p = { 0 };
        _cleanup_free_ Moved *moved = NULL;
        uint64_t t0 = now_ms(), t1;
        Moved total = { 0 };
        json_object *o = NULL, *ta = NULL, *tj;
        double cpu0;
        int r;

        r = period_tenants(a, &p, t0);
        if (r < 0)
                return r;
        cpu0 = rusage_s();
        r = a->ops->scan(a->scanner, p.targets, p.n_tenants, p.heat);
        a->scan_cpu_s += rusage_s() - cpu0;
        if (r < 0)
                return log_error_errno(r, "scanner %s failed: %m", a->ops->name);
        t1 = now_ms();
        *ret_scan_ms = (double) (t1 - t0);
        if (!plan) {
                log_debug("period %u: armed %s for %zu tenant(s)", number, a->ops->name, p.n_tenants);
                return status_build(a, &p, t1, *ret_scan_ms);
        }
        moved = calloc(p.n_tenants ? p.n_tenants : 1, sizeof(*moved));
        if (!moved)
                return -ENOMEM;
        /* DAMOS: what the last period's quotas moved, before the plan
         * (the refunds go back into the buckets it draws from) */
        r = damos_account(a, &p, moved, t1);
        if (r < 0)
                return r;
        r = period_plan(a, &p, t1);
        if (r < 0)
                return r;
        if (a->mover == MOVER_DAMOS) {
                r = damos_commit(a, &p, t1);
                if (r < 0)
                        return r;
        } else {
                r = plan_move(a, &p, moved);
                if (r < 0)
                        return r;
        }
        if (a->args->json) {
                o = json_object_new_object();
                ta = json_object_new_array();
        }
        for (size_t k = 0; k < p.n_tenants; k++) {
                const PlanTenantResult *res = &p.plan.tenants[k];
                const EffectivePolicy *pol = &p.pol[p.tenant_index[k]];
                const CgroupInfo *ci = &p.tree->cgroups[p.tenant_index[k]];
                Moved m = moved[k];
                uint64_t hot, cold;

                total.promoted += m.promoted;
                total.demoted += m.demoted;
                total.failed += m.failed;
                if (m.promoted || m.demoted || m.failed)
                        log_event(LOG_LVL_INFO, "moved", res->path,
                                  "%s: promoted %" PRIu64 " KiB, demoted %" PRIu64 " KiB, failed %" PRIu64 " KiB",
                                  res->path, m.promoted >> 10, m.demoted >> 10, m.failed >> 10);
                heat_summary_totals(&p.heat[k].heat, &hot, &cold);
                log_debug("%s (%s, %s): hot %" PRIu64 " cold %" PRIu64 "; plan demote %" PRIu64 " promote %" PRIu64
                          "%s; moved demoted %" PRIu64 " promoted %" PRIu64 " failed %" PRIu64,
                          res->path, a->config->classes[pol->class_index].name, policy_mode_to_string(pol->mode), hot,
                          cold, res->demote_bytes, res->promote_bytes, res->observe_only ? " (observe: not moved)" : "",
                          m.demoted, m.promoted, m.failed);
                if (ta) {
                        json_object *x = json_object_new_object(), *tiers = json_object_new_array(),
                                    *pl = json_object_new_object(), *mo = json_object_new_object();

                        json_object_object_add(x, "cgroup", json_object_new_string(ci->path));
                        json_object_object_add(x, "class",
                                               json_object_new_string(a->config->classes[pol->class_index].name));
                        json_object_object_add(x, "mode", json_object_new_string(policy_mode_to_string(pol->mode)));
                        for (int t = 0; t < p.tree->n_tiers; t++)
                                json_object_array_add(tiers, json_object_new_uint64(ci->tier_anon[t] + ci->tier_file[t]));
                        json_object_object_add(x, "tier_bytes", tiers);
                        json_object_object_add(x, "pids", json_object_new_uint64(p.targets[k].n_pids));
                        json_object_object_add(x, "tracked_bytes", json_object_new_uint64(p.heat[k].tracked_bytes));
                        json_object_object_add(x, "hot_bytes", json_object_new_uint64(hot));
                        json_object_object_add(x, "cold_bytes", json_object_new_uint64(cold));
                        json_object_object_add(pl, "demote_bytes", json_object_new_uint64(res->demote_bytes));
                        json_object_object_add(pl, "promote_bytes", json_object_new_uint64(res->promote_bytes));
                        json_object_object_add(pl, "over_max_bytes",
                                               json_object_new_uint64(res->by_reason[PLAN_REASON_OVER_MAX]));
                        json_object_object_add(pl, "contention_bytes",
                                               json_object_new_uint64(res->by_reason[PLAN_REASON_CONTENTION]));
                        /* both halves of self-swaps (demoted + promoted) */
                        json_object_object_add(pl, "swap_bytes",
                                               json_object_new_uint64(res->by_reason[PLAN_REASON_SWAP]));
                        json_object_object_add(pl, "observe_only", json_object_new_boolean(res->observe_only));
                        json_object_object_add(pl, "held_demote", held_json(&res->held_demote));
                        json_object_object_add(pl, "held_promote", held_json(&res->held_promote));
                        json_object_object_add(x, "plan", pl);
                        json_object_object_add(mo, "demoted_bytes", json_object_new_uint64(m.demoted));
                        json_object_object_add(mo, "promoted_bytes", json_object_new_uint64(m.promoted));
                        json_object_object_add(mo, "failed_bytes", json_object_new_uint64(m.failed));
                        json_object_object_add(mo, "total_demoted_bytes", json_object_new_uint64(p.states[k]->demoted));
                        json_object_object_add(mo, "total_promoted_bytes", json_object_new_uint64(p.states[k]->promoted));
                        json_object_object_add(x, "moved", mo);
                        json_object_array_add(ta, x);
                }
        }
        a->promoted += total.promoted;
        a->demoted += total.demoted;
        a->failed += total.failed;
        log_event(LOG_LVL_INFO, "period", NULL, "period %u: %zu tenant(s), %s scan %.0f ms; promoted %" PRIu64 " KiB, demoted %" PRIu64
                 " KiB, failed %" PRIu64 " KiB (since start: %" PRIu64 " / %" PRIu64 " / %" PRIu64 " KiB)",
                 number, p.n_tenants, a->ops->name, *ret_scan_ms, total.promoted >> 10, total.demoted >> 10,
                 total.failed >> 10, a->promoted >> 10, a->demoted >> 10, a->failed >> 10);
        if (o) {
                json_object_object_add(o, "period", json_object_new_int((int) number));
                json_object_object_add(o, "time_ms", json_object_new_uint64(t1));
                json_object_object_add(o, "backend", json_object_new_string(a->ops->name));
                json_object_object_add(o, "scan_ms", json_object_new_double(*ret_scan_ms));
                json_object_object_add(o, "tenants", ta);
                tj = json_object_new_array();
                for (int t = 0; t < p.n_tiers; t++) {
                        json_object *x = json_object_new_object();

                        json_object_object_add(x, "nodes", json_object_new_uint64(p.tiers[t].nodes));
                        json_object_object_add(x, "capacity_bytes", json_object_new_uint64(p.tiers[t].capacity));
                        json_object_object_add(x, "free_bytes", json_object_new_uint64(p.tiers[t].free));
                        json_object_object_add(x, "headroom_bytes", json_object_new_uint64(p.tiers[t].headroom));
                        json_object_array_add(tj, x);
                }
                json_object_object_add(o, "tiers", tj);
                json_object_object_add(o, "promoted_bytes", json_object_new_uint64(total.promoted));
                json_object_object_add(o, "demoted_bytes", json_object_new_uint64(total.demoted));
                json_object_object_add(o, "failed_bytes", json_object_new_uint64(total.failed));
                puts(json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE));
                fflush(stdout);
                json_object_put(o);
        }
        return status_build(a, &p, t1, *ret_scan_ms);
}

static void agent_done(Agent *a) {
        a->metrics = metrics_server_stop(a->metrics);
        a->control = control_server_free(a->control);
        a->timer = sd_event_source_disable_unref(a->timer);
        damos_drop(a);
        if (a->ops && a->scanner)
                a->ops->close(a->scanner);
        a->scanner = NULL;
        for (size_t i = 0; i < a->n_states; i++)
                free(a->states[i].path);
        free(a->states);
        free(a->hyst_storage);
        config_free(a->config);
        if (a->scan_probe != a->probe)
                probe_free(a->scan_probe);
        probe_free(a->probe);
        status_snapshot_done(&a->status);
        a->event = sd_event_unref(a->event);
}

static int set_error(char **ret_error, const char *fmt, ...) _printf_(2, 3);
static int set_error(char **ret_error, const char *fmt, ...) {
        va_list ap;

        va_start(ap, fmt);
        if (vasprintf(ret_error, fmt, ap) < 0)
                *ret_error = NULL;
        va_end(ap);
        return *ret_error ? -EINVAL : -ENOMEM;
}

/* The mover the configuration asks for, checked against the probe and the
 * scanner. -EINVAL with a message. */
static int mover_check(const Agent *a, const Probe *probe, const Config *c, const char *scanner,
                       MoverBackend *ret, char **ret_error) {
        MoverBackend m = _MOVER_BACKEND_INVALID;

        for (size_t i = 0; i < ELEMENTSOF(mover_backend_names); i++)
                if (strcmp(c->mover.backend, mover_backend_names[i]) == 0)
                        m = (MoverBackend) i;
        if (m == _MOVER_BACKEND_INVALID)
                return set_error(ret_error, "unknown mover.backend \"%s\" (auto, move_pages, reclaim or damos)",
                                 c->mover.backend);
        if (m == MOVER_RECLAIM && probe->demotion_enabled != 1)
                return set_error(ret_error,
                                 "mover.backend reclaim demotes through memory.reclaim, which evicts instead unless "
                                 "%s/kernel/mm/numa/demotion_enabled is true (it reads %s); tierd does not change it: "
                                 "enable it or choose another mover.backend", a->sysfs_root,
                                 probe->demotion_enabled == 0 ? "false" : "as unknown");
        if (m == MOVER_DAMOS && (strcmp(scanner, "damon") == 0 || strcmp(scanner, "bpf") == 0))
                return set_error(ret_error,
                                 "mover.backend damos cannot run with the %s scanner: both need a kdamond of their "
                                 "own and tierd runs one at a time; choose the idle_page or lru_gen scanner, or "
                                 "another mover.backend", scanner);
        *ret = m;
        return 0;
}

/* Probes and checks what the agent needs of the kernel. */
static int probe_check(const Agent *a, Probe **ret, char **ret_error) {
        ProbeRoots roots = { .sysfs = a->args->sysfs_root, .procfs = a->args->procfs_root };
        Probe *p = NULL;
        int r;

        r = probe_run(&roots, &p);
        if (r < 0)
                return set_error(ret_error, "probe failed: %s", strerror(-r));
        if (!p->cgroup_mount || !p->topology) {
                probe_free(p);
                return set_error(ret_error, "%s", !p->cgroup_mount
                                                          ? "no cgroup2 file system is mounted: no tenants to manage"
                                                          : "cannot read the NUMA topology");
        }
        *ret = p;
        return 0;
}

/* The configuration's service settings that a reload cannot change here
 * and that are checked before anything starts. */
static int service_check(const Config *c, bool *ret_have_group, gid_t *ret_gid, char **ret_error) {
        int r;

        r = control_resolve_group(c->control.read_group, ret_have_group, ret_gid, ret_error);
        if (r < 0)
                return r == -ENOMEM ? r : -EINVAL;
        return 0;
}

/* The one-line summary of STATUS= (without a reload error). */
static void status_summary(const Agent *a, char *buf, size_t size) {
        char p[32], d[32];

        snprintf(buf, size, "%zu tenant%s, promoted %s, demoted %s, scanner %s, mover %s", a->status.n_tenants,
                 a->status.n_tenants == 1 ? "" : "s", format_bytes(a->promoted, p, sizeof(p)),
                 format_bytes(a->demoted, d, sizeof(d)), a->ops ? a->ops->name : "none",
                 mover_effective_name(a)[0] ? mover_effective_name(a) : "none");
}

static void notify_status(const Agent *a, const char *extra) {
        char sum[256];

        status_summary(a, sum, sizeof(sum));
        if (a->last_error[0])
                (void) sd_notifyf(false, "%sSTATUS=%s; kept the running configuration; %s", extra ? extra : "",
                                  a->last_error, sum);
        else
                (void) sd_notifyf(false, "%sSTATUS=%s", extra ? extra : "", sum);
}

static void publish(Agent *a) {
        status_header(a, &a->status);
        if (a->metrics) {
                int r = metrics_server_publish(a->metrics, &a->status);

                if (r < 0)
                        log_warning_errno(r, "cannot publish the metrics, ignoring: %m");
        }
}

/* Re-reads the configuration and probes again; applies what changed or,
 * on any error, keeps everything as it was. */
static int agent_reload(Agent *a, char **ret_error) {
        _cleanup_free_ char *error = NULL;
        _cleanup_(config_freep) Config *nc = NULL;
        Probe *np = NULL;
        const ScannerOps *nops = NULL;
        Scanner *nsc = NULL;
        ScanOptions nso;
        MoverBackend nm;
        bool have_group, reopen;
        gid_t gid;
        const char *wanted;
        uint64_t period;
        struct timespec ts;
        int r;

        clock_gettime(CLOCK_MONOTONIC, &ts);
        (void) sd_notifyf(false, "RELOADING=1\nMONOTONIC_USEC=%" PRIu64 "\nSTATUS=reloading %s",
                          (uint64_t) ts.tv_sec * 1000000 + (uint64_t) ts.tv_nsec / 1000, a->args->config_path);
        log_event(LOG_LVL_INFO, "reloading", NULL, "reloading the configuration %s", a->args->config_path);

        r = config_load(a->args->config_path, NULL, &nc, &error);
        if (r == -ENOMEM)
                return r;
        if (r < 0)
                goto fail;
        r = service_check(nc, &have_group, &gid, &error);
        if (r == -ENOMEM)
                return r;
        if (r < 0)
                goto fail;
        r = probe_check(a, &np, &error);
        if (r == -ENOMEM)
                return r;
        if (r < 0)
                goto fail;
        wanted = a->args->backend ? a->args->backend : nc->scanner.backend;
        period = a->args->period_ms ? a->args->period_ms : nc->scanner.period_ms;
        nso = a->so;
        nso.cgroup_mount = np->cgroup_mount;
        nso.topology = np->topology;
        nso.period_ms = period;
        nso.cpu_budget_permille = nc->scanner.cpu_budget_permille;
        /* the scanner keeps its options: a new backend, period or budget
         * means a new scanner (and an arming period) */
        reopen = strcmp(wanted, a->scanner_wanted) != 0 || period != a->so.period_ms ||
                 nso.cpu_budget_permille != a->so.cpu_budget_permille;
        if (reopen) {
                /* the old one first: two kdamonds or BPF attachments of
                 * tierd's own at once are not wanted */
                damos_drop(a);
                a->ops->close(a->scanner);
                a->scanner = NULL;
                r = scan_open_backend(np, wanted, &nso, &nops, &nsc);
                if (r < 0) {
                        int q;

                        /* back to the running one */
                        q = scan_open_backend(a->scan_probe, a->scanner_wanted, &a->so, &a->ops, &a->scanner);
                        if (q < 0) {
                                log_error_errno(q, "cannot reopen the running scanner %s either: %m",
                                                a->scanner_wanted);
                                probe_free(np);
                                return q;
                        }
                        a->arming = a->ops->arming_periods;
                        r = set_error(&error, "scanner.backend %s: cannot open it (%s)", wanted, strerror(-r));
                        goto fail;
                }
        }
        r = mover_check(a, np, nc, reopen ? nops->name : a->ops->name, &nm, &error);
        if (r < 0) {
                if (reopen) {
                        nops->close(nsc);
                        r = scan_open_backend(a->scan_probe, a->scanner_wanted, &a->so, &a->ops, &a->scanner);
                        if (r < 0) {
                                log_error_errno(r, "cannot reopen the running scanner %s: %m", a->scanner_wanted);
                                probe_free(np);
                                return r;
                        }
                        a->arming = a->ops->arming_periods;
                }
                r = -EINVAL;
                goto fail;
        }
        if (a->control && (a->have_read_group != have_group || a->read_group != gid)) {
                r = control_server_set_group(a->control, have_group, gid);
                if (r < 0)
                        log_warning_errno(r, "cannot give the control socket to group %u, ignoring: %m",
                                          (unsigned) gid);
        }
        if (strcmp(nc->control.socket, a->config->control.socket) != 0 && !a->args->control_socket)
                log_warning("control.socket changed to \"%s\": takes effect when tierd restarts", nc->control.socket);
        if (strcmp(nc->metrics.listen, a->config->metrics.listen) != 0)
                log_warning("metrics.listen changed to \"%s\": takes effect when tierd restarts", nc->metrics.listen);

        /* commit */
        if (nm != a->mover || period != a->period_ms)
                damos_drop(a); /* restarted next period with the new settings */
        if (reopen) {
                if (a->scan_probe != a->probe)
                        probe_free(a->scan_probe);
                a->scan_probe = np;
                a->ops = nops;
                a->scanner = nsc;
                a->so = nso;
                snprintf(a->scanner_wanted, sizeof(a->scanner_wanted), "%s", wanted);
                a->arming = a->ops->arming_periods;
                log_set_backend(a->ops->name);
        }
        if (a->probe != a->scan_probe)
                probe_free(a->probe);
        a->probe = np;
        config_free(a->config);
        a->config = TAKE_PTR(nc);
        a->mover = nm;
        a->period_ms = period;
        a->have_read_group = have_group;
        a->read_group = gid;
        token_bucket_reconfigure(&a->budget, &a->config->budget_rate, &a->config->budget_burst, now_ms());
        a->reloads++;
        a->last_error[0] = '\0';
        log_event(LOG_LVL_INFO, "reloaded", NULL, "reloaded %s: scanner %s%s, mover %s, period %" PRIu64 " ms",
                  a->args->config_path, a->ops->name, reopen ? " (reopened)" : "", mover_backend_names[a->mover],
                  a->period_ms);
        publish(a);
        notify_status(a, "READY=1\n");
        return 0;

fail:
        if (!error && set_error(&error, "%s", strerror(-r)) == -ENOMEM)
                return -ENOMEM;
        probe_free(np);
        a->reload_failures++;
        snprintf(a->last_error, sizeof(a->last_error), "reload failed: %s", error);
        log_event(LOG_LVL_ERR, "reload_failed", NULL, "reload failed, keeping the running configuration: %s", error);
        publish(a);
        notify_status(a, "READY=1\n");
        *ret_error = TAKE_PTR(error);
        return -EINVAL;
}

static int on_control(ControlCommand cmd, void *userdata, json_object **ret) {
        Agent *a = userdata;
        json_object *o = json_object_new_object();

        if (!o)
                return -ENOMEM;
        if (cmd == CONTROL_STATUS) {
                json_object_object_add(o, "ok", json_object_new_boolean(true));
                json_object_object_add(o, "status", status_snapshot_to_json(&a->status));
        } else if (cmd == CONTROL_RELOAD) {
                _cleanup_free_ char *error = NULL;
                int r;

                r = agent_reload(a, &error);
                if (r == -ENOMEM) {
                        json_object_put(o);
                        return r;
                }
                json_object_object_add(o, "ok", json_object_new_boolean(r >= 0));
                if (r < 0)
                        json_object_object_add(o, "error", json_object_new_string(error ? error : strerror(-r)));
        } else {
                json_object_put(o);
                return -EINVAL;
        }
        *ret = o;
        return 0;
}

static int on_signal(sd_event_source *s, const struct signalfd_siginfo *si, void *userdata) {
        Agent *a = userdata;

        (void) s;
        if (si->ssi_signo == SIGHUP) {
                _cleanup_free_ char *error = NULL;
                int r = agent_reload(a, &error);

                if (r == -ENOMEM) {
                        log_error("reload: out of memory");
                        return sd_event_exit(a->event, 1);
                }
                return 0;
        }
        log_event(LOG_LVL_INFO, "stopping", NULL, "signal %s: stopping", si->ssi_signo == SIGTERM ? "SIGTERM" : "SIGINT");
        return sd_event_exit(a->event, 0);
}

static int on_timer(sd_event_source *s, uint64_t usec, void *userdata) {
        Agent *a = userdata;
        uint64_t start;
        double scan_ms = 0;
        int r;

        (void) usec;
        (void) sd_event_now(a->event, CLOCK_MONOTONIC, &start);
        r = agent_period(a, a->number, a->arming == 0, &scan_ms);
        if (r < 0) {
                if (r == -ENOMEM) /* the only error not logged where it happens */
                        log_error("period %u: out of memory", a->number);
                snprintf(a->last_error, sizeof(a->last_error), "period %u failed: %s", a->number, strerror(-r));
                return sd_event_exit(a->event, 1);
        }
        if (a->arming > 0)
                a->arming--;
        else
                a->worked++;
        publish(a);
        notify_status(a, NULL);
        if (a->args->periods && a->worked >= a->args->periods) {
                log_event(LOG_LVL_INFO, "stopping", NULL, "%u period(s) done: stopping", a->args->periods);
                return sd_event_exit(a->event, 0);
        }
        a->number++;
        r = sd_event_source_set_time(s, start + a->period_ms * 1000);
        if (r >= 0)
                r = sd_event_source_set_enabled(s, SD_EVENT_ONESHOT);
        if (r < 0) {
                log_error_errno(r, "cannot re-arm the period timer: %m");
                return sd_event_exit(a->event, 1);
        }
        return 0;
}

int daemon_run(const DaemonArgs *args) {
        _cleanup_free_ char *error = NULL;
        Agent a = { .args = args, .mover = _MOVER_BACKEND_INVALID };
        const char *sock;
        sigset_t mask, old;
        bool blocked = false;
        int r, status = 1;

        a.sysfs_root = args->sysfs_root ? args->sysfs_root : "/sys";
        a.procfs_root = args->procfs_root ? args->procfs_root : "/proc";
        a.started_realtime_s = (uint64_t) time(NULL);

        r = config_load(args->config_path, NULL, &a.config, &error);
        if (r < 0) {
                log_error("%s", error ? error : strerror(-r));
                goto out;
        }
        r = service_check(a.config, &a.have_read_group, &a.read_group, &error);
        if (r < 0) {
                log_error("%s", error ? error : strerror(-r));
                goto out;
        }
        r = probe_check(&a, &a.probe, &error);
        if (r < 0) {
                log_error("%s", error ? error : strerror(-r));
                goto out;
        }
        a.scan_probe = a.probe;
        if (a.probe->topology->n_tiers < 2)
                log_warning("only one memory tier: tierd observes and plans, but there is nowhere to move pages");
        a.period_ms = args->period_ms ? args->period_ms : a.config->scanner.period_ms;
        a.hyst_storage = calloc(HYSTERESIS_ENTRIES, sizeof(*a.hyst_storage));
        if (!a.hyst_storage)
                goto out;
        hysteresis_init(&a.hyst, a.hyst_storage, HYSTERESIS_ENTRIES);
        token_bucket_init_quantity(&a.budget, &a.config->budget_rate, &a.config->budget_burst, now_ms());

        a.so = (ScanOptions) {
                .sysfs_root = a.sysfs_root,
                .procfs_root = a.procfs_root,
                .cgroup_mount = a.probe->cgroup_mount,
                .topology = a.probe->topology,
                .period_ms = a.period_ms,
                .cpu_budget_permille = a.config->scanner.cpu_budget_permille,
                .max_candidates = MAX_CANDIDATES,
        };

        /* before the scanner opens: a signal from now on stops the agent
         * through the event loop, after the scanner is closed */
        sigemptyset(&mask);
        sigaddset(&mask, SIGINT);
        sigaddset(&mask, SIGTERM);
        sigaddset(&mask, SIGHUP);
        sigprocmask(SIG_BLOCK, &mask, &old);
        blocked = true;

        snprintf(a.scanner_wanted, sizeof(a.scanner_wanted), "%s", args->backend ? args->backend : a.config->scanner.backend);
        r = scan_open_backend(a.probe, a.scanner_wanted, &a.so, &a.ops, &a.scanner);
        if (r < 0)
                goto out;
        a.arming = a.ops->arming_periods;
        log_set_backend(a.ops->name);
        r = mover_check(&a, a.probe, a.config, a.ops->name, &a.mover, &error);
        if (r < 0) {
                log_error("%s", error ? error : strerror(-r));
                goto out;
        }

        r = sd_event_new(&a.event);
        if (r >= 0)
                r = sd_event_set_watchdog(a.event, true);
        if (r >= 0)
                r = sd_event_add_signal(a.event, NULL, SIGTERM, on_signal, &a);
        if (r >= 0)
                r = sd_event_add_signal(a.event, NULL, SIGINT, on_signal, &a);
        if (r >= 0)
                r = sd_event_add_signal(a.event, NULL, SIGHUP, on_signal, &a);
        if (r >= 0)
                r = sd_event_add_time(a.event, &a.timer, CLOCK_MONOTONIC, 0, 0, on_timer, &a);
        if (r < 0) {
                log_error_errno(r, "cannot set up the event loop: %m");
                goto out;
        }

        sock = args->control_socket ? args->control_socket : a.config->control.socket;
        if (sock[0]) {
                free(error);
                error = NULL;
                r = control_server_new(a.event, sock, a.have_read_group, a.read_group, a.procfs_root, on_control, &a,
                                       &a.control, &error);
                if (r < 0) {
                        log_error("%s", error ? error : strerror(-r));
                        goto out;
                }
        }
        if (a.config->metrics.listen[0]) {
                free(error);
                error = NULL;
                r = metrics_server_start(a.config->metrics.listen, &a.metrics, &error);
                if (r < 0) {
                        if (error)
                                log_error("%s", error); /* names metrics.listen and the address */
                        else
                                log_error_errno(r, "metrics.listen \"%s\": %m", a.config->metrics.listen);
                        goto out;
                }
        }

        status_header(&a, &a.status);
        log_event(LOG_LVL_INFO, "started", NULL,
                  "tierd %s: %d tier(s), scanner %s, mover %s, period %" PRIu64 " ms, configuration %s, control %s",
                  TIERD_VERSION, a.probe->topology->n_tiers, a.ops->name, mover_backend_names[a.mover], a.period_ms,
                  args->config_path, a.control ? control_server_path(a.control) : "off");
        notify_status(&a, "READY=1\n");

        r = sd_event_loop(a.event);
        status = r < 0 ? 1 : r;
        if (r < 0)
                log_error_errno(r, "event loop failed: %m");
out:
        (void) sd_notify(false, "STOPPING=1");
        agent_done(&a);
        if (blocked)
                sigprocmask(SIG_SETMASK, &old, NULL);
        return status;
}
