/* SPDX-License-Identifier: MIT */
/* One control period, in steps, each one call:
 *
 *   collect   topology (free bytes, reserves) and the tenant set
 *             (core/tenants.h): tenants, policies, processes; their
 *             accounts in the ledger
 *   scan      the scanner backend over the tenants' processes (heat)
 *   observe   the scan into the heat model (core/heatmodel.h), which keeps
 *             what earlier periods saw; the plan is made from its view
 *             (the whole picture) and its coverage per tier
 *   settle    a deferred mover's report of the last period (DAMOS): what
 *             its quotas moved; the rest is refunded before the plan
 *   plan      the planner (pure) on the tenants, the tiers and copies of
 *             the buckets; the ledger commits the plan's charges
 *   apply     the movers, through MoverOps: every tenant's demotions
 *             first, then the promotions by class, highest first; or the
 *             plan's bytes per tenant to a deferred mover
 *   account   what moved, into the ledger; the journal's per-tenant and
 *             per-period lines
 *   report    the status snapshot (core/status.h), from which the status,
 *             the metrics and the period JSON are all built
 *
 * A period that only arms the scanner (its first one or two) stops after
 * scan and reports. The Engine holds what lives across periods: the
 * scanner and movers in use, the ledger, the hysteresis table; its owner
 * (agent/daemon.c) sets the configuration, the roots and the scanner.
 * Nothing here touches the event loop, signals or sd_notify. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "config.h"
#include "heatmodel.h"
#include "ledger.h"
#include "mover.h"
#include "planner.h"
#include "scanner.h"
#include "status.h"
#include "tenants.h"
#include "topology.h"

typedef struct Engine {
        /* set by the owner */
        const Config *config;
        const char *sysfs_root;         /* "/sys" */
        const char *procfs_root;        /* "/proc" */
        const char *cgroup_mount;
        int demotion_enabled;           /* the probe's: 1, 0, -1 unknown */
        const ScannerOps *scanner_ops;
        Scanner *scanner;
        bool unmapped_sweep;            /* the scanner was opened with HEAT_UNMAPPED: one with a physical
                                         * mode (idle_page) sweeps unmapped pages too, and a tenant's
                                         * resident bytes for coverage are then anon + all file */
        uint64_t period_ms;
        size_t max_candidates;          /* per tenant and direction, in the model's view */
        /* engine_set_mover() */
        const MoverBackend *mover;
        Mover *ranges, *bytes, *deferred;
        /* across periods */
        Ledger ledger;
        HysteresisTable hyst;
        HysteresisEntry *hyst_storage;
        HeatModel *model;               /* NULL: plan from each period's scan alone */
        struct PidSeen *seen;           /* with a model: the processes the last period listed, by
                                         * tenant and pid, with their start times */
        size_t n_seen;
        /* the physical path for hot unmapped pages on slower tiers: a paddr
         * kdamond with a DAMOS migrate_hot scheme per tenant (memcg filter,
         * file pages only), running while some tenant has such pages to
         * promote (core/period.c: unmapped promotions) */
        struct DamosMover *uprom;
        struct UpromSlot *uprom_slots;  /* per scheme: its tenant, what the plan asked, the baseline */
        size_t n_uprom;
        bool uprom_off;                 /* not available here (said once; a reload tries again) */
        int uprom_kdamond;              /* uprom's kdamonds/N (DamosOptions.kdamond) */
        uint64_t uprom_opened_ms;       /* when uprom's schemes started (Period.time_ms) */
        uint64_t *pod_warned;           /* cgroup ids of the pods whose refused tierd.io/ requests were
                                         * logged, while they exist (one line per pod) */
        size_t n_pod_warned;
        double scan_cpu_s;              /* user + system CPU of the scans */
        char error[256];                /* why the last period failed, for its one log line ("" none) */
        bool warned_reclaim, warned_range, warned_byte_only, warned_zoneinfo;
} Engine;

/* Sets up the ledger (the configuration's budget), the hysteresis table
 * and the heat model (MODEL false: none, each plan from its period's scan
 * alone); E's owner fields must be set. */
int engine_init(Engine *e, bool model, uint64_t now_ms);
/* Closes the movers in use and opens B's (kernel state, a kdamond, is
 * created at their first use). */
int engine_set_mover(Engine *e, const MoverBackend *b);
/* Stops the movers' kernel state (a kdamond) until their next use. */
int engine_reset_movers(Engine *e);
void engine_done(Engine *e);

/* The checks of a mover.backend against the kernel and the scanner:
 * -EINVAL with a message in *RET_ERROR. */
int engine_check_mover(const char *name, int demotion_enabled, const char *sysfs_root, const ScannerOps *scanner,
                       const MoverBackend **ret, char **ret_error);

typedef struct PeriodMoved {
        uint64_t promoted, demoted, failed; /* bytes */
} PeriodMoved;

typedef struct Period {
        Topology *topo;
        TenantSet *set;
        size_t n;                       /* tenants */
        ScanTarget *targets;            /* [n] */
        TenantHeat *heat;               /* [n]: this period's scan */
        HeatView *views;                /* [n]: the heat model's, when the engine has one */
        Account **acct;                 /* [n] */
        PlanTenant *plan_tenants;       /* [n] */
        PlanTier tiers[PLAN_MAX_TIERS]; /* the plan's view: capacity, free, headroom */
        int n_tiers;
        Plan plan;
        bool planned;
        PeriodMoved *moved;             /* [n] */
        PeriodMoved total;
        /* bytes demotions really moved out of each tier, then what
         * promotions may still bring into it: a demotion that moves less
         * than planned must not let promotions fill the tier into its
         * headroom */
        uint64_t tier_out[PLAN_MAX_TIERS];
        uint64_t tier_in_left[PLAN_MAX_TIERS];
        /* per tenant: bytes its self-swap's demotions really moved, so
         * what the swap's promotions may bring in */
        uint64_t *swap_out;             /* [n] */
        /* per tenant: the plan's demotions of unmapped bytes handed to the
         * DAMOS schemes (migrate_cold, file pages, not young) instead of
         * memory.reclaim: moved by the next period */
        uint64_t *udemote;              /* [n] */
        double scan_ms;
        uint64_t time_ms;               /* when the scan ended */
} Period;

int period_collect(Engine *e, Period *p, uint64_t now_ms);
int period_scan(Engine *e, Period *p);
int period_observe(Engine *e, Period *p, uint64_t now_ms);
int period_settle(Engine *e, Period *p, uint64_t now_ms);
int period_plan(Engine *e, Period *p, uint64_t now_ms);
int period_apply(Engine *e, Period *p);
void period_account(Engine *e, Period *p, unsigned number);
/* The snapshot of this period (the owner fills the header: version,
 * names, reloads). Replaces nothing: *RET is the caller's to free. */
int period_report(Engine *e, const Period *p, unsigned number, StatusSnapshot *ret);
void period_done(Period *p);

/* Every step in order; PLAN false: an arming period (collect, scan,
 * report). */
int period_run(Engine *e, unsigned number, bool plan, StatusSnapshot *ret);

/* Kept free on tier TT: 1% of its capacity, at least 16 MiB, and never
 * less than what the kernel keeps from page allocations on the tier's
 * nodes (high watermarks plus lowmem reserves). */
uint64_t period_tier_headroom(const TopologyTier *tt);
