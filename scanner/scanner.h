/* SPDX-License-Identifier: MIT */
/* Access sampling: the backend interface (ScannerOps) and its table, the
 * helpers backends share, and the tracepoint collector (kscan), a libbpf
 * CO-RE skeleton on the kernel's migrate, vmscan and DAMON tracepoints. */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <linux/types.h>
#include <sys/types.h>

#include "bpf/kscan.h"
#include "heat.h"
#include "procpid.h"

/* ---- backends (heat.h has the model) ---------------------------------- */

typedef struct ScanTarget {
        const char *cgroup_path;        /* relative to the cgroup mount */
        uint64_t cgroup_id;             /* inode of the cgroup directory */
        const pid_t *pids;              /* the tenant's processes (cgroup.procs, whole subtree) */
        const ProcIdent *idents;        /* [n_pids]: their identities when listed, to check before a
                                         * pid is used (base/procpid.h); NULL: none */
        size_t n_pids;
} ScanTarget;

enum {
        HEAT_WANT_RANGES = 1 << 0,
        /* Physical mode (backends that have one, e.g. idle_page): attribute
         * every LRU page by its memcg (cgroup_id), mapped or not; ranges
         * are PADDR. Without it, backends sample the targets' processes. */
        HEAT_PHYSICAL = 1 << 1,
        /* Virtual mode: also sweep physical memory for the targets' pages
         * that no process maps (by memcg, from /proc/kpagecgroup) and
         * report them as bytes per tier, hot and cold
         * (TenantHeat.unmapped_*, HEAT_PASS_UNMAPPED). idle_page reads the
         * idle bitmap; damon and bpf read the regions of a paddr kdamond
         * of their own. Backends without SCANNER_CAP_UNMAPPED ignore it. */
        HEAT_UNMAPPED = 1 << 2,
};

typedef struct ScanOptions {
        const char *sysfs_root;         /* "/sys" */
        const char *procfs_root;        /* "/proc" */
        const char *cgroup_mount;       /* "/sys/fs/cgroup" */
        const struct Topology *topology;/* node -> tier */
        uint64_t period_ms;             /* control period */
        uint32_t cpu_budget_permille;   /* scan CPU budget, per mille of one CPU (0: unlimited) */
        size_t max_candidates;          /* per tenant and direction */
        unsigned flags;                 /* HEAT_WANT_* */
        const char *run_dir;            /* "/run/tierd" (NULL): the DAMON backends' kdamond record */
} ScanOptions;

typedef struct Scanner Scanner;

/* What a backend produces and owns (ScannerOps.caps). */
enum {
        SCANNER_CAP_RANGES = 1 << 0,    /* candidates carry addresses (else byte amounts only) */
        SCANNER_CAP_PHYSICAL = 1 << 1,  /* has a physical mode (HEAT_PHYSICAL): PADDR ranges */
        SCANNER_CAP_KDAMOND = 1 << 2,   /* runs a kdamond of tierd's own (kdamonds/0; see mover_kdamond) */
        SCANNER_CAP_UNMAPPED = 1 << 3,  /* classifies the targets' unmapped pages with HEAT_UNMAPPED (idle_page's
                                         * sweep; damon and bpf: a paddr kdamond beside the vaddr one) */
};

/* What a backend needs of the kernel (ScannerOps.needs), as the probe
 * reports it: a backend is usable when every need is met. */
enum {
        SCANNER_NEEDS_IDLE_PAGE = 1 << 0,       /* idle page tracking */
        SCANNER_NEEDS_DAMON = 1 << 1,           /* DAMON vaddr through sysfs */
        SCANNER_NEEDS_BPF = 1 << 2,             /* the BPF tracepoint collector */
        SCANNER_NEEDS_DAMON_TRACEPOINT = 1 << 3,/* damon:damon_aggregated */
        SCANNER_NEEDS_LRU_GEN = 1 << 4,         /* MGLRU's debugfs interface */
};

typedef struct ScannerOps {
        const char *name;               /* "idle_page", "damon", "bpf", "lru_gen" */
        unsigned caps;                  /* SCANNER_CAP_* */
        unsigned needs;                 /* SCANNER_NEEDS_* */
        /* Periods the agent only scans before its first plan. 1 for a
         * backend whose first scan sets the baseline and whose second is
         * exact; 2 for the DAMON ones: a region idle in one aggregation
         * may still hold hot pages DAMON's sampling missed, and it ties
         * (age 1) with truly cold regions until those have aged a second
         * period, so a plan after one period can demote hot pages. */
        unsigned arming_periods;
        /* Sets the backend up (nothing is sampled yet). */
        int (*open)(const ScanOptions *opts, Scanner **ret);
        /* One period: samples the targets and fills out[i] for targets[i],
         * out[i].pass included (HEAT_PASS_*, heat.h: whether this scan
         * began or ended a pass over the tenant; each backend's file says
         * when it does). The order of the targets is the caller's priority
         * where the CPU budget cannot cover them all (idle_page). Targets
         * may change between calls (tenants come and go, their order
         * changes): what a backend keeps follows the cgroup id. A target
         * whose processes exit or whose cgroup vanishes mid-scan yields an
         * empty result, not an error. With HEAT_WANT_RANGES, out[i].ranges
         * holds every range classified in this scan (backends with
         * SCANNER_CAP_RANGES). Blocks at most about one period. */
        int (*scan)(Scanner *s, const ScanTarget *targets, size_t n, TenantHeat *out);
        /* Memory the backend holds for tracking state, in bytes, and how
         * many 4 KiB pages that state covers (for the bytes/page bound). */
        void (*memory)(const Scanner *s, uint64_t *ret_bytes, uint64_t *ret_pages);
        /* The index N of a kdamond (kdamonds/N) the backend created with its
         * own and leaves off for the DAMOS schemes of its tenants' unmapped
         * pages (migrate/damos.c, DamosOptions.kdamond), while that kdamond
         * exists and the backend classifies unmapped pages; -1 otherwise.
         * NULL: the backend has none. S may be NULL (-1). */
        int (*mover_kdamond)(const Scanner *s);
        /* Releases everything; kernel state the backend created (kdamonds)
         * is removed. Safe on a half-opened scanner. */
        void (*close)(Scanner *s);
} ScannerOps;


/* The backend called NAME, NULL if this build has none by that name. */
const ScannerOps *scanner_find(const char *name);
/* NULL-terminated table of every backend in this build, in auto's order
 * of preference. */
const ScannerOps *const *scanner_backends(void);

/* Bytes at age 0 (accessed in the last period) and at age >= 1, over all tiers. */
void heat_summary_totals(const HeatSummary *h, uint64_t *ret_hot, uint64_t *ret_cold);

/* Helpers for backends: append to h->ranges (alloc is the capacity, kept by
 * the caller); pick at most MAX cold candidates (age > 0, tiers faster than
 * the slowest, oldest first), hot ones (age 0, tiers below the fastest,
 * most accessed first) and warm ones (age 0, tiers faster than the
 * slowest, least accessed first) out of ALL into h->cold, h->hot and
 * h->warm. */
int heat_add_range(TenantHeat *h, const ScanRange *r, size_t *alloc);
int heat_pick_candidates(TenantHeat *h, const ScanRange *all, size_t n, int n_tiers, size_t max);

/* ---- the tracepoint collector ----------------------------------------- */

typedef struct KScan KScan;

/* Names of enum migrate_reason values (6.12), NULL past the end. */
const char *kscan_migrate_reason_name(unsigned reason);

/* Loads and attaches every program whose tracepoint the running kernel
 * has; a missing tracepoint is skipped (and reported by kscan_attached()),
 * not an error. Fails with -errno when BPF cannot be used at all. */
int kscan_open(KScan **ret);

typedef struct KScanOptions {
        /* Load only the DAMON region stream (no migrate/reclaim counters). */
        bool damon_only;
        /* Stream only regions of the kdamonds named by kscan_damon_follow(). */
        bool filter_kdamonds;
} KScanOptions;
/* kscan_open() with options; O may be NULL (everything, unfiltered). */
int kscan_open_with(const KScanOptions *o, KScan **ret);
/* Adds (FOLLOW) or removes the kdamond thread KDAMOND to/from the filter
 * of a collector opened with filter_kdamonds. */
int kscan_damon_follow(KScan *k, pid_t kdamond, bool follow);
KScan *kscan_free(KScan *k);
static inline void kscan_freep(KScan **k) { kscan_free(*k); }

/* "migrate", "reclaim", "damon": whether that program is attached. */
bool kscan_attached(const KScan *k, const char *which);

/* The ring buffer's epoll fd, for the event loop. */
int kscan_epoll_fd(const KScan *k);

typedef int (*kscan_region_cb)(const struct kscan_damon_region *r, void *userdata);
/* Consumes what the ring buffer holds; returns the number of records. */
int kscan_consume(KScan *k, kscan_region_cb cb, void *userdata);

/* Totals since open, summed over CPUs. */
int kscan_migrate_counts(const KScan *k, struct kscan_migrate_count ret[KSCAN_MR_MAX]);
int kscan_reclaim_counts(const KScan *k, struct kscan_reclaim_count ret[KSCAN_NODES_MAX]);
uint64_t kscan_dropped(const KScan *k);
