/* SPDX-License-Identifier: MIT */
/* Page movers: the kernel mechanisms tierd uses to move a tenant's memory
 * between tiers, behind one interface (MoverOps, beside the scanners'
 * ScannerOps). Each reports bytes moved and failures; none decides what
 * to move (the planner does) or how fast overall (quota.c and the ledger
 * do).
 *
 *  - move_pages (migrate/move_pages.c): move_pages(2) on virtual ranges of
 *    one process, in batches, THP-aware, per-page outcome by errno.
 *  - reclaim (migrate/reclaim.c): demotion as a side effect of cgroup v2
 *    memory.reclaim when /sys/kernel/mm/numa/demotion_enabled is true;
 *    bytes moved measured from memory.numa_stat.
 *  - damos (migrate/damos.c, migrate/damos_mover.c): DAMOS migrate_hot /
 *    migrate_cold schemes on a paddr kdamond of tierd's own (Linux 6.11+),
 *    per tenant with a memcg filter and a quota; bytes moved from the
 *    schemes' stats.
 *
 * The configuration's mover.backend names one entry of the table
 * mover_backends() (migrate/movers.c), which says which mover takes which
 * part of a plan.
 *
 * Pure helpers are exposed (and unit tested in test/unit/test-movers.c):
 * batching and THP head selection, errno accounting, numa_stat diffing,
 * DAMOS quota conversion. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "cgroup.h"
#include "heat.h"
#include "procpid.h"

/* Asks move_pages(2) where one page of our own memory lives, moving
 * nothing. Returns 0 and the node id, or -errno: -ENOSYS when the kernel
 * has no NUMA migration, -EPERM when the call is refused. */
int move_pages_query_self(int *ret_node);

/* ---- move_pages(2) ------------------------------------------------------
 *
 * mover_move_pages() moves the pages of VADDR ranges of one process to a
 * node. Per batch of at most opts->batch entries it makes two calls: a
 * status query (nodes NULL) that tells "already there" and "not present"
 * apart, then the move of the rest. A PMD-mapped THP (2 MiB, aligned; found
 * with the PAGEMAP_SCAN ioctl, Linux 6.7+) is one entry, its head, and
 * counts 512 pages: passing its tail pages too would make the kernel answer
 * -EBUSY for each (the folio is already isolated). A THP that overlaps a
 * range moves whole, even the part outside the range (at most 2 MiB at
 * each end of a range); a THP that would pass the byte cap is not moved.
 * Without PAGEMAP_SCAN every page is its own entry (logged once).
 *
 * A process that exits (ESRCH, or EINVAL from a zombie without an mm)
 * stops the move: ret->exited, and 0 is returned with what was done so
 * far. So does, with opts->ident, a pid that is no longer the process the
 * identity describes or has left its cgroup (proc_ident_check(), right
 * before each call that moves: the pid may go to another process between
 * two batches of one range). -EPERM (no right to move the process's
 * pages), -ENODEV (node offline), -ENOMEM and other failures of the call
 * itself are returned; *ret then holds what was done before. */

#define MOVER_PAGE_SIZE 4096u
#define MOVER_HUGE_SIZE (2u << 20)
#define MOVER_HUGE_PAGES (MOVER_HUGE_SIZE / MOVER_PAGE_SIZE)

typedef enum MoveOutcome {
        MOVE_MOVED,             /* on the target node now, was elsewhere */
        MOVE_ALREADY,           /* was on the target node already */
        MOVE_BUSY,              /* -EBUSY: pinned, under I/O, isolated by someone else */
        MOVE_ACCES,             /* -EACCES: mapped by several processes (no MPOL_MF_MOVE_ALL) */
        MOVE_NOENT,             /* -ENOENT: not present (never touched, swapped out) */
        MOVE_FAULT,             /* -EFAULT: no mapping, zero page, special mapping */
        MOVE_NOMEM,             /* -ENOMEM: the target node had no room */
        MOVE_OTHER,             /* anything else (-EIO, -EINVAL, aborted batch, ...) */
        _MOVE_OUTCOME_MAX,
} MoveOutcome;

typedef struct MovePagesOptions {
        int node;               /* target node */
        size_t batch;           /* entries per move_pages(2) call; 0: MOVER_DEFAULT_BATCH */
        uint64_t max_bytes;     /* cap on bytes moved (not counting "already"); 0: none */
        bool no_thp;            /* do not look for THPs: every 4 KiB page is an entry */
        bool move_all;          /* MPOL_MF_MOVE_ALL (also pages shared with others; CAP_SYS_NICE) */
        uint32_t batch_pause_us;/* sleep between batches (lets the process and others at the mmap lock) */
        const char *procfs_root;/* "/proc" */
        const ProcIdent *ident; /* the process when its pid was listed; NULL: not checked */
        const char *cgroup_mount;/* for the check of IDENT: "/sys/fs/cgroup" */
} MovePagesOptions;

#define MOVER_DEFAULT_BATCH 1024

typedef struct MovePagesResult {
        uint64_t pages[_MOVE_OUTCOME_MAX]; /* 4 KiB pages by outcome; a THP counts 512 */
        uint64_t thp_moved;     /* THPs moved whole */
        uint64_t bytes_moved;   /* pages[MOVE_MOVED] in bytes */
        uint64_t bytes_failed;  /* busy + acces + fault + nomem + other, in bytes (not noent) */
        uint64_t calls;         /* move_pages(2) calls, queries included */
        uint64_t batches;
        bool exited;            /* the process went away: stopped early */
        bool capped;            /* stopped at max_bytes */
} MovePagesResult;

int mover_move_pages(pid_t pid, const ScanRange *ranges, size_t n, const MovePagesOptions *opts,
                     MovePagesResult *ret);

const char *move_outcome_to_string(MoveOutcome o);

/* Pure: the outcome of one status entry. QUERY: the entry comes from a
 * status query (a node id means "where it is": the target is "already",
 * elsewhere is MOVE_OTHER and not to be counted); otherwise from a move
 * (the target node means moved). */
MoveOutcome move_outcome_of(int status, int node, bool query);

/* One move_pages(2) entry: an address and the 4 KiB pages it stands for. */
typedef struct MoveUnit {
        uint64_t addr;
        uint32_t pages;         /* 1, or MOVER_HUGE_PAGES for a THP head */
        uint32_t pad;
} MoveUnit;

/* A span of address space mapped by PMD THPs, 2 MiB aligned, end exclusive. */
typedef struct MoveSpan {
        uint64_t start, end;
} MoveSpan;

/* Pure: the next units of [*pos, end) into out (at most max), *pos
 * advancing. HUGE (sorted by start, may be NULL) marks THP spans: an
 * address inside one yields its 2 MiB head once; elsewhere each 4 KiB page
 * is a unit. *budget_pages (UINT64_MAX: none) is the cap left: a unit that
 * does not fit it stops the fill with *ret_capped set and is not taken.
 * LAST_HEAD (in/out, may be NULL) is the last THP head emitted, so a THP
 * that two adjacent ranges share is moved once. Returns the number of
 * units. */
size_t move_units_fill(uint64_t *pos, uint64_t end, const MoveSpan *huge, size_t n_huge, uint64_t *budget_pages,
                       uint64_t *last_head, MoveUnit *out, size_t max, bool *ret_capped);

/* Pure: adds a batch's outcomes to R (pages weighted by unit size). A
 * status of INT_MIN (an entry the kernel did not report) is MOVE_OTHER. */
void move_account(MovePagesResult *r, const MoveUnit *units, const int *status, size_t n, int node, bool query);

/* ---- memory.reclaim ------------------------------------------------------
 *
 * mover_reclaim() writes BYTES to the tenant's memory.reclaim. With
 * /sys/kernel/mm/numa/demotion_enabled true the kernel demotes the pages
 * reclaim picks on a node with a lower tier to that tier instead of
 * evicting them (anonymous memory without swap can then be reclaimed at
 * all); with it false it evicts (file pages dropped or written back,
 * anonymous ones swapped, if there is swap). The kernel says neither what
 * it demoted nor where: the bytes moved come from memory.numa_stat read
 * before and after (reclaim_numa_diff()); concurrent allocation or freeing
 * by the tenant is indistinguishable from reclaim. -EAGAIN from the write
 * (the kernel could not reclaim all BYTES) is a partial result, not an
 * error. On 6.12 demoted pages count as reclaimed: 32 MiB asked of a
 * tenant with anonymous memory and no swap demoted 32.2 MiB and the write
 * succeeded; with demotion off the same write failed with -EAGAIN at once,
 * nothing moved or freed (test/vm/test-movers.py). Reclaim picks pages by
 * its LRU, not by tierd's heat: hot pages get demoted too (there, 2572 of
 * a 4096-page hot set), so this is the fallback mover.
 *
 * tierd never writes demotion_enabled: it is a global setting of the
 * host, owned by its administrator; it is read and reported here. */

typedef struct ReclaimDiff {
        int64_t delta[CGROUP_MAX_NODES];        /* anon+file after - before, per node */
        uint64_t nodes;                         /* nodes listed before or after */
        uint64_t moved_bytes;   /* bytes that left some nodes and arrived on others */
        uint64_t freed_bytes;   /* bytes that left and did not arrive anywhere (evicted) */
        uint64_t grown_bytes;   /* bytes that arrived beyond those that left (new allocations) */
} ReclaimDiff;

/* Pure. */
void reclaim_numa_diff(const CgroupNumaStat *before, const CgroupNumaStat *after, ReclaimDiff *ret);

typedef struct ReclaimResult {
        uint64_t requested;
        bool partial;           /* -EAGAIN: the kernel stopped short of BYTES */
        bool vanished;          /* the cgroup went away */
        int demotion_enabled;   /* 1, 0, -1 unknown */
        double seconds;         /* the write took */
        CgroupNumaStat before, after;
        ReclaimDiff diff;
} ReclaimResult;

/* CGROUP is relative to MOUNT ("" is refused: the root has no
 * memory.reclaim). SYSFS_ROOT ("/sys") is where demotion_enabled is read. */
int mover_reclaim(const char *mount, const char *cgroup, uint64_t bytes, const char *sysfs_root,
                  ReclaimResult *ret);

/* Reads <sysfs_root>/kernel/mm/numa/demotion_enabled: 1 true, 0 false. */
int demotion_enabled_read(const char *sysfs_root);

/* ---- DAMOS migrate_hot / migrate_cold -----------------------------------
 *
 * One kdamond of tierd's own with one paddr context whose target covers
 * every "System RAM" range of /proc/iomem (cut into min_regions initial
 * regions), and per tenant up to three
 * schemes: migrate_hot with target_nid = the fast node (promotion), a
 * check scheme that moves nothing (the young check of every page, for a
 * tenant's first window: DamosTenant.check_only) and migrate_cold with
 * target_nid = the slow node (demotion). Each scheme has a memcg filter
 * that drops every page not charged to the tenant (in 6.12 filters
 * exclude: type memcg, matching N), then a young filter (the accessed
 * bit: migrate_hot keeps the young pages, migrate_cold the others) and
 * addr filters for the target node's ranges (see damos.c), a quota of
 * bytes per reset interval from the tenant's rate, and an access pattern
 * whose maxima are all set (sysfs defaults them to 0, which matches
 * nothing but idle, zero-sized regions).
 *
 * The kernel's vmstat does not count DAMON migrations as promotions or
 * demotions; per-tenant accounting is the schemes' stats, refreshed with
 * "update_schemes_stats": sz_applied is what was migrated (pages already
 * on the target node are skipped and not counted), sz_tried what the
 * scheme was applied to (and what the quota charges, filtered-out pages
 * of other cgroups included).
 *
 * Ownership as in scanner/damon.c: the kdamond is created only when
 * nr_kdamonds reads 0 (-EBUSY otherwise: someone else's DAMON setup is
 * never touched), and removed (state off, nr_kdamonds 0) by damos_close()
 * and on every error after creation. Constraint: DAMON sysfs refuses to
 * change nr_kdamonds while any kdamond runs (-EBUSY), and tierd only ever
 * uses kdamonds/0 for a kdamond of the mover's own; so mover.backend damos
 * cannot start while the damon/bpf scanner backend's kdamonds run, and
 * the other way round. The schemes of unmapped pages (core/period.c)
 * run beside that scanner all the same: it creates kdamonds/2 with its
 * own two and leaves it off (ScannerOps.mover_kdamond), and
 * DamosOptions.kdamond names it. That kdamond is then configured, started
 * and stopped here, each kdamond's state being its own, but never created
 * or removed (nr_kdamonds is the scanner's, and so is the owner record,
 * "scanner+paddr+damos", which lets a killed tierd's three be removed);
 * closing stops it and leaves it without a context. */

#define DAMOS_RATE_UNLIMITED UINT64_MAX

typedef struct DamosTenant {
        const char *cgroup;     /* relative to the cgroup mount; "a/b" or "/a/b" */
        uint64_t promote_rate;  /* bytes/s; 0: no migrate_hot scheme */
        uint64_t demote_rate;   /* bytes/s; 0: no migrate_cold scheme */
        bool check_only;        /* the young check of the tenant's pages alone, its
                                 * migrate_hot off: for the first window (see damos.c) */
} DamosTenant;

typedef struct DamosOptions {
        const char *sysfs_root;         /* "/sys" */
        const char *procfs_root;        /* "/proc" */
        const char *cgroup_mount;       /* "/sys/fs/cgroup" */
        const char *run_dir;            /* "/run/tierd" (NULL): the kdamond record (scanner/damon.h) */
        int kdamond;                    /* 0: kdamonds/0, created (nr_kdamonds 1) and removed here; N > 0:
                                         * kdamonds/N, which the damon/bpf scanner created and left off
                                         * (ScannerOps.mover_kdamond): used, never created or removed */
        int fast_node;                  /* migrate_hot target */
        int slow_node;                  /* migrate_cold target */
        uint64_t sample_us, aggr_us, update_us; /* 0: 20 ms, 400 ms, 4 s */
        uint64_t reset_interval_ms;     /* quota window; 0: 1000 */
        uint32_t hot_min_accesses;      /* migrate_hot: nr_accesses per aggregation, at least;
                                         * 0: 1 (young pages only, see damos.c) */
        uint32_t cold_max_accesses;     /* migrate_cold: nr_accesses per aggregation, at most
                                         * (the young filter keeps such a region's accessed
                                         * pages); 0: a tenth of the samples, >= 1 */
        uint64_t cold_min_age_us;       /* migrate_cold: that long at most cold_max_accesses
                                         * (DAMON's region age); 0: 10 s */
        uint32_t min_regions, max_regions; /* 0: 200, 2000 */
        bool keep_slots;                /* every tenant gets both schemes, a rate of 0 disabling one
                                         * (it matches no region); needed by damos_update() */
        bool file_only;                 /* migrate_hot and migrate_cold leave anonymous pages alone (an
                                         * anon filter after the memcg one): page cache, tmpfs and shmem
                                         * only, the pages move_pages() cannot reach when unmapped */
} DamosOptions;

typedef struct DamosStats {
        uint64_t nr_tried, sz_tried, nr_applied, sz_applied, qt_exceeds;
} DamosStats;

typedef struct DamosTenantStats {
        bool has_promote, has_demote;
        DamosStats promote, demote;     /* cumulative since damos_open() */
} DamosTenantStats;

typedef struct DamosMover DamosMover;

/* Creates and starts the kdamond for TENANTS (copied). -EBUSY when DAMON
 * is in use (nr_kdamonds > 0; with opts->kdamond, when that kdamond is
 * not off), -ENOENT when opts->kdamond does not exist, -EOPNOTSUPP when the kernel lacks paddr
 * operations or the migrate actions, -ENOENT when a tenant's cgroup does
 * not exist (the kernel refuses an unknown memcg_path). */
int damos_open(const DamosOptions *opts, const DamosTenant *tenants, size_t n, DamosMover **ret);
/* Refreshes the stats and reads them, ret[i] for tenant i (n entries). */
int damos_read_stats(DamosMover *m, DamosTenantStats *ret, size_t n);
/* With opts->keep_slots: sets the rates (per reset interval, as
 * damos_open()) and tenant set of the running kdamond and commits them
 * ("commit" to its state file): the kdamond keeps running. Returns 0 when
 * the tenant set (cgroups, in order) is unchanged, and the schemes keep
 * their cumulative stats; 1 when it changed and the schemes were laid out
 * again (stats of a scheme slot then belong to another tenant: take a new
 * baseline); -ESRCH when not running or not keep_slots; -EINVAL from
 * the kernel, e.g. a tenant's cgroup gone (the kdamond keeps its previous
 * schemes). */
int damos_update(DamosMover *m, const DamosTenant *tenants, size_t n);
/* The kdamond's pid, 0 before start. */
pid_t damos_kdamond_pid(const DamosMover *m);
/* Stops and removes the kdamond (when this process created it); NULL ok. */
void damos_close(DamosMover *m);
static inline void damos_closep(DamosMover **m) { damos_close(*m); }

/* Pure: a rate (bytes/s) as a DAMOS quota of *ret_sz bytes per
 * *ret_reset_ms. DAMOS moves nothing with a quota below one page (it
 * trims the region to the quota, page aligned): a rate below a page per
 * RESET_MS gets a longer window holding one page. DAMOS_RATE_UNLIMITED
 * gives 0 (no quota). 0 is -EINVAL (no scheme instead). */
int damos_quota_for_rate(uint64_t rate, uint64_t reset_ms, uint64_t *ret_sz, uint64_t *ret_reset_ms);

/* Pure: RANGES cut into about PIECES equal page-aligned regions (a short
 * tail joins the region before it), at most MAX: DAMON paddr starts from
 * the regions it is given. Returns their number, -E2BIG past MAX. */
int damos_split_ranges(const MoveSpan *ranges, size_t n, size_t pieces, MoveSpan *out, size_t max);

/* Pure: the quota that lets a scheme move about BYTES of one tenant. On
 * 6.12 a scheme's quota is charged with sz_tried, which includes the pages
 * of other cgroups that its memcg filter then drops (filters apply per
 * folio, after the quota): a quota of BYTES moves about BYTES * TENANT /
 * RAM of the tenant's memory. So BYTES is scaled by RAM / TENANT (TENANT 0
 * counts as one page), at most MAX_SCALE times, saturating; 0 stays 0. */
uint64_t damos_quota_scale(uint64_t bytes, uint64_t tenant_bytes, uint64_t ram_bytes, uint64_t max_scale);

/* Pure: a scheme's quota scale for its next period, from its last one,
 * when it was to move PLANNED bytes of one tenant with a quota of PLANNED
 * times SCALE (0 counts as 1) and moved MOVED. The quota is charged for
 * every byte of the regions it tries and the filters then drop the pages
 * of other cgroups, so a scheme moves at most its quota (per reset
 * interval), often much less; how much less is not known before. The
 * scale learns it: less than half of PLANNED moved, twice the scale (at
 * most MAX_SCALE); more than PLANNED, the scale times PLANNED / MOVED (at
 * least 1); else the same. With AGED false (the kdamond's regions not old
 * enough yet for the cold scheme's age), nothing moved says nothing: the
 * same scale. PLANNED 0: the same. */
uint64_t damos_scale_next(uint64_t scale, uint64_t planned, uint64_t moved, bool aged, uint64_t max_scale);

/* Pure: the physical address ranges of NODE among SPANS
 * (zoneinfo_node_spans(): PFN spans; a span of several nodes has node -1
 * and belongs to none) into OUT: their number, -E2BIG when more than MAX. */
struct NodeSpan;
int damos_node_ranges(const struct NodeSpan *spans, size_t n, int node, MoveSpan *out, size_t max);

/* Pure: "System RAM" ranges at the top level of /proc/iomem text, as
 * [start, end) byte ranges, at most max. Returns their number. */
int damos_parse_iomem(const char *text, MoveSpan *out, size_t max);

/* ---- the mover interface ------------------------------------------------- */

typedef enum MoverDirection {
        MOVER_DEMOTE,           /* = PLAN_DEMOTE */
        MOVER_PROMOTE,          /* = PLAN_PROMOTE */
} MoverDirection;

/* What a mover does (MoverOps.caps). */
enum {
        MOVER_CAP_RANGES = 1 << 0,      /* moves given address ranges */
        MOVER_CAP_BYTES = 1 << 1,       /* moves a tenant's byte amounts: the kernel picks the pages */
        MOVER_CAP_VIRTUAL = 1 << 2,     /* ranges of a process's address space (VADDR) */
        MOVER_CAP_PHYSICAL = 1 << 3,    /* physical memory by memcg, mapped or not */
        MOVER_CAP_KDAMOND = 1 << 4,     /* runs a kdamond of tierd's own (kdamonds/0) */
        MOVER_CAP_DEFERRED = 1 << 5,    /* takes per-tenant bytes for the next period (commit) and
                                         * says what moved at the next one (report) */
        MOVER_CAP_PROMOTE = 1 << 6,
        MOVER_CAP_DEMOTE = 1 << 7,
        MOVER_CAP_NEEDS_DEMOTION = 1 << 8, /* demotes only with demotion_enabled true (else it evicts) */
};

typedef struct Mover Mover;

typedef struct MoverEnv {
        const char *sysfs_root;         /* "/sys" */
        const char *procfs_root;        /* "/proc" */
        const char *cgroup_mount;       /* "/sys/fs/cgroup" */
        size_t batch_pages;             /* move_pages(2) entries per call; 0: MOVER_DEFAULT_BATCH */
        uint64_t period_ms;             /* deferred movers: the quota window */
} MoverEnv;

/* One move, now (movers without MOVER_CAP_DEFERRED). */
typedef struct MoverRequest {
        const char *cgroup;             /* the tenant, relative to the cgroup mount */
        uint8_t direction;              /* MoverDirection */
        int to_node;                    /* range movers: the target node */
        uint64_t bytes;                 /* at most this many */
        bool has_range;                 /* RANGE (range movers), else a byte amount (byte movers) */
        ScanRange range;
        const ProcIdent *ident;         /* VADDR ranges: the process of range.pid when it was listed,
                                         * checked before each move; NULL: not checked */
} MoverRequest;

typedef struct MoverResult {
        uint64_t moved;                 /* bytes */
        int error;                      /* -errno: the call failed as a whole (counted as an error) */
        bool backoff;                   /* pages were refused or absent: not to be tried again soon */
        MovePagesResult pages;          /* range movers: the per-page outcomes */
} MoverResult;

/* One tenant's bytes for the next period (deferred movers). */
typedef struct MoverQuota {
        uint64_t cgroup_id;
        const char *cgroup;             /* relative to the cgroup mount */
        uint64_t promote, demote;       /* bytes the plan gives it */
        uint64_t slow_bytes;            /* its resident bytes on slower tiers (what promotion looks at) */
        uint64_t fast_bytes;            /* on the fastest tier (what demotion looks at) */
        bool managed;                   /* enforce (observe: its pages are not touched, no check) */
        uint64_t ret_promote;           /* out: the promotion the mover takes on (less in a tenant's
                                         * first period, which checks its pages: see damos_mover.c) */
} MoverQuota;

/* What a deferred mover moved for one tenant since the last commit. */
typedef struct MoverMoved {
        uint64_t cgroup_id;
        uint64_t promoted, demoted;
} MoverMoved;

/* Where a deferred mover moves to. */
typedef struct MoverTargets {
        int fast_node, slow_node;
        uint64_t ram_bytes;             /* all tiers: what a quota is scaled against */
} MoverTargets;

typedef struct MoverOps {
        const char *name;               /* "move_pages", "reclaim", "damos" */
        unsigned caps;                  /* MOVER_CAP_* */
        /* Sets the mover up; kernel state (a kdamond) is created lazily. */
        int (*open)(const MoverEnv *env, Mover **ret);
        /* Movers without MOVER_CAP_DEFERRED: one move. Returns < 0 only
         * when tierd itself fails (-ENOMEM); the kernel's refusals are in
         * RET. */
        int (*apply)(Mover *m, const MoverRequest *req, MoverResult *ret);
        /* MOVER_CAP_DEFERRED: the bytes of each tenant (Q, N) for the next
         * period. 0; or -ESTALE when the mover could not take them and
         * stopped (nothing will move; it starts again at the next commit);
         * -ENOMEM. */
        int (*commit)(Mover *m, const MoverTargets *to, MoverQuota *q, size_t n);
        /* MOVER_CAP_DEFERRED: what moved since the last commit, one entry
         * per tenant of it (*RET_N 0 when nothing was committed). -ESTALE:
         * the mover stopped, nothing is known to have moved. */
        int (*report)(Mover *m, MoverMoved **ret, size_t *ret_n);
        /* Undoes what open and commit set up in the kernel; NULL ok. */
        void (*close)(Mover *m);
} MoverOps;

/* A copy of IN whose strings OUT owns (movers keep their environment
 * across the owner's reloads); mover_env_done() frees them. */
int mover_env_copy(const MoverEnv *in, MoverEnv *out);
void mover_env_done(MoverEnv *e);

extern const MoverOps mover_move_pages_ops;
extern const MoverOps mover_reclaim_ops;
extern const MoverOps mover_damos_ops;

/* A value of mover.backend: which mover takes which part of a plan. */
typedef struct MoverBackend {
        const char *name;               /* "auto", "move_pages", "reclaim", "damos" */
        const MoverOps *ranges;         /* the plan's address ranges */
        const MoverOps *bytes;          /* byte-only demotions (no addresses: MGLRU) */
        const MoverOps *deferred;       /* the whole plan as per-tenant bytes */
        bool demotions_as_bytes;        /* every demotion of a tenant as one byte amount */
        const char *help;               /* one line for messages */
} MoverBackend;

/* NULL-terminated: every mover.backend value. */
const MoverBackend *const *mover_backends(void);
/* The entry called NAME, NULL if none. */
const MoverBackend *mover_backend_find(const char *name);
/* The mover that really moves for a scanner with addresses (RANGES) or
 * without: e.g. auto is move_pages, or reclaim for MGLRU. */
const char *mover_backend_effective(const MoverBackend *b, bool ranges);
/* Every capability of B's movers, ORed. */
unsigned mover_backend_caps(const MoverBackend *b);

