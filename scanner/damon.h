/* SPDX-License-Identifier: MIT */
/* The DAMON backends ("damon" and "bpf", scanner/damon.c): the pure parts,
 * exported for the unit tests. Both drive one kdamond of tierd's own
 * (vaddr operations, one target per tenant process); "damon" reads a
 * match-everything DAMOS "stat" scheme's tried regions per target, "bpf"
 * the damon:damon_aggregated tracepoint through the kscan collector. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "heat.h"
#include "kpage.h"
#include "scanner.h"
#include "zoneinfo.h"

struct Topology;

/* One DAMON region as the kernel reports it (tried region or tracepoint). */
typedef struct DamonRegion {
        uint64_t start;         /* inclusive */
        uint64_t end;           /* exclusive */
        uint32_t nr_accesses;   /* samples of the last aggregation that saw an access */
        uint32_t age;           /* aggregations with a similar access count */
} DamonRegion;

typedef struct DamonIntervals {
        uint64_t sample_us;     /* one access check per region */
        uint64_t aggr_us;       /* nr_accesses window; regions split/merge */
        uint64_t update_us;     /* vaddr: re-read the targets' mappings */
} DamonIntervals;

/* DAMON intervals for a control period: two aggregations per period (so
 * the tried-regions update, which waits for the next aggregation, blocks
 * at most about half a period) of ten samples each (a sample window of a
 * twentieth of the period: a page touched a few times per period is seen
 * in most windows, which keeps hot and cold regions apart). */
void damon_intervals_for_period(uint64_t period_ms, DamonIntervals *ret);

/* tierd's age (periods without access, 0..HEAT_MAX_AGE) of a region:
 * accessed in the last aggregation -> 0; else the time its access count
 * has stayed (age + 1 aggregations) in periods, at least 1. */
uint8_t damon_heat_age(uint32_t nr_accesses, uint32_t age, uint64_t aggr_us, uint64_t period_us);

/* Reads a tried_regions directory (numbered subdirectories with start,
 * end, nr_accesses, age); regions sorted by start. An absent directory is
 * -ENOENT; a subdirectory that vanishes while read is skipped. */
int damon_read_tried_regions(const char *dir, DamonRegion **ret, size_t *ret_n);

/* Targets of the context: target i monitors pids[i] for tenant tenant[i]. */
typedef struct DamonTargets {
        pid_t *pids;
        size_t *tenant;
        uint64_t *starts;       /* [n] or NULL: the start time of each process when listed
                                 * (ProcIdent), 0 unknown: one number, two processes */
        size_t n;
} DamonTargets;

void damon_targets_done(DamonTargets *t);

/* Target positions. DAMON's commit (6.12 damon_commit_targets(), used
 * by the sysfs "commit") pairs the running context's targets with the
 * new list by position: target i takes the pid of new target i and keeps
 * its regions (sysfs targets carry no initial regions, and then the
 * running target's are kept), targets past the new count are destroyed
 * and new ones past the old count start without regions (set up at the
 * next ops update). So a process keeps its regions, their ages and the
 * adaptive splits only while it keeps its position, and a process put
 * where another was inherits that one's regions until the kdamond's next
 * update (update_us: one period) reshapes them to its own mappings.
 *
 * The order therefore keeps every process that stays at its position;
 * new processes fill the positions of exited ones first and are
 * appended after; only when the list shrinks below a surviving process's
 * position does it move (into a freed one). That moves exactly the
 * survivors that must move (those at or past the new count): no other
 * order moves fewer. Keeping the old order and appending new processes
 * would shift every process after an exited one, i.e. under churn
 * nearly every target at every commit. (Keeping a dead position is not
 * possible: the kernel refuses a pid it cannot find.)
 *
 * damon_targets_assign(): the next list for PIDS (N distinct pids > 0,
 * their tenants in TENANT, new ones placed in this order) after OLD;
 * *ret_changed: whether the pid list differs from OLD (a commit is due). */
int damon_targets_assign(const DamonTargets *old, const pid_t *pids, const size_t *tenant, size_t n,
                         DamonTargets *ret, bool *ret_changed);

/* The same for the processes of TARGETS (a pid listed under two tenants
 * counts for the first). With PROCFS_ROOT, a pid whose target has
 * identities (ScanTarget.idents) is left out when it is no longer that
 * process or no longer in its cgroup (proc_ident_check(), under
 * PROCFS_ROOT and CGROUP_MOUNT): DAMON looks the number up when it is
 * written, and would monitor whatever process has it then. The list
 * keeps the identities' start times (RET->starts), and a pid that keeps
 * its position with another process behind it (its number reused since
 * the list OLD was written) is a change: DAMON still follows the old
 * process until the list is written again. */
int damon_targets_next(const DamonTargets *old, const ScanTarget *targets, size_t n, const char *procfs_root,
                       const char *cgroup_mount, DamonTargets *ret, bool *ret_changed);

/* Replaces NEXT (a list made after OLD) by one without the processes
 * ALIVE says have exited, placed again after OLD (not compacted: a
 * survivor of OLD keeps its position). */
int damon_targets_drop(const DamonTargets *old, DamonTargets *next, bool (*alive)(pid_t));

/* For each target i of NEXT, the position of the same pid in OLD, or
 * SIZE_MAX when it is new (or another process now: both start times known
 * and different): what tierd keeps per process (the last aggregation
 * received, since when it holds its position) follows the process, not
 * the position. */
void damon_targets_map(const DamonTargets *old, const DamonTargets *next, size_t *map);

/* A region's AGE (aggregations) as DAMON reports it, at most what the
 * process can have accumulated at its position, held for HELD_US: a
 * process placed where another was inherits that one's region ages. */
uint32_t damon_age_clamp(uint32_t age, uint64_t held_us, uint64_t aggr_us);

/* Passes (TenantHeat.pass). Every scan that reads regions is a whole
 * pass over every tenant (BEGIN|END); a scan that reads none reports no
 * pass. EXACT when every process of the tenant was classified from an
 * aggregation that can be trusted: */

/* Whether the aggregation a target reports now is of its own regions and
 * whole: the target took its position HELD_US ago, when the kdamond
 * started (AT_START: the ops init gave every target its own regions at
 * once) or by a commit (a new target has no regions and a moved one keeps
 * its predecessor's until the next ops update, within update_us). It
 * counts from its second aggregation of its own regions: 1.5 aggregation
 * intervals after they became its own (an aggregation's end is not
 * exactly known: the half is for the scan's timing against it). */
bool damon_target_settled(uint64_t held_us, bool at_start, const DamonIntervals *iv);

/* HEAT_PASS_EXACT per tenant (RET_EXACT[t] for TARGETS[t], N of them):
 * every process the tenant lists is a target of T (a pid listed by an
 * earlier tenant too is that one's, as damon_targets_next() decides) whose
 * aggregation OK[i] says was settled, read and placed on nodes. A tenant
 * without processes is exact: there is nothing of it to see. */
int damon_tenants_exact(const DamonTargets *t, const bool *ok, const ScanTarget *targets, size_t n,
                        bool *ret_exact);

/* Up to this many pages of a region are looked up (move_pages status) to
 * place it on a node. */
#define DAMON_NODE_SAMPLES 8

/* Number of samples for a region and the address of sample I. */
size_t damon_region_nr_samples(const DamonRegion *r);
uint64_t damon_region_sample_addr(const DamonRegion *r, size_t n_samples, size_t i);

/* Turns region R of PID into ranges from the nodes of its samples (a node
 * id, or < 0: not resident): one range when the resident samples agree
 * (node -1, tier -1 when none is resident), else one per run of samples on
 * the same node (a non-resident sample takes its neighbour's node). OUT
 * holds at least N_SAMPLES entries. */
size_t damon_region_ranges(const DamonRegion *r, pid_t pid, uint8_t age, const int *nodes, size_t n_samples,
                           const struct Topology *topo, ScanRange *out);


/* ---- unmapped pages (HEAT_UNMAPPED): a paddr kdamond and struct pages -- */

/* The paddr context: regions (DAMON's adaptive bounds) and the PFNs the
 * sweep reads per kpageflags/kpagecgroup pread (a multiple of 512: a
 * folio of up to 2 MiB never straddles two). */
#define DAMON_PADDR_MIN_REGIONS "200"
#define DAMON_PADDR_MAX_REGIONS "2000"
#define DAMON_PADDR_CHUNK 8192
/* Aggregations the paddr kdamond runs before the first sweep (its
 * regions must have split finely enough to tell a hot file from the cold
 * memory around it: in the testbed the first sweeps after 2-3
 * aggregations saw a 16 MiB file read every 0.3 s all cold in one run and
 * 74 MiB hot in another), and the aggregations a region must have been
 * idle for its pages to count as cold: four, two periods. A file read
 * every 0.3 s with 50 ms samples shows no access in one aggregation of
 * ten samples about one time in six, and in two in a row one time in
 * forty: with two, a CI run's first sweep called 74 MiB cold and 1 MiB
 * of the 32 MiB hot file hot; with four, one time in 1300 per region. */
#define DAMON_PADDR_SETTLE_AGGRS 10
#define DAMON_PADDR_COLD_AGGRS 4

/* A tenant's unmapped bytes per tier, hot (the region holding the page
 * was accessed in its last aggregation: damon_heat_age() 0) and cold. */
typedef struct DamonUnmapped {
        uint64_t hot[HEAT_MAX_TIERS];
        uint64_t cold[HEAT_MAX_TIERS];
} DamonUnmapped;

/* Pure. Classifies the NP pages from PFN (FLAGS[i], MEMCGS[i]: page PFN +
 * i's /proc/kpageflags and /proc/kpagecgroup words; a memcg word may be 0
 * where it was not read) by the paddr REGIONS (N_REGIONS, sorted by start,
 * byte addresses, disjoint) that hold them. A page kept by
 * kpage_unmapped_candidate() whose memcg belongs to a target t (M,
 * kpage_memcgs_target()) adds its bytes, and, when it is a compound head,
 * those of the tail pages that follow it within the NP pages, to RET[t] on the tier of
 * its node (SPANS, TOPO; no tier: left out), hot when its region's
 * damon_heat_age(nr_accesses, age, AGGR_US, PERIOD_US) is 0, cold when the
 * region has been idle for DAMON_PADDR_COLD_AGGRS aggregations (age + 1),
 * else left out (unclassified). A page in no region is left out (DAMON
 * does not monitor it). Returns the bytes
 * classified. */
uint64_t damon_unmapped_classify(const DamonRegion *regions, size_t n_regions, uint64_t pfn, const uint64_t *flags,
                                 const uint64_t *memcgs, size_t np, const KpageMemcgs *m, const NodeSpan *spans,
                                 size_t n_spans, const struct Topology *topo, uint64_t aggr_us, uint64_t period_us,
                                 DamonUnmapped *ret);

/* The index of the first region of REGIONS (N, sorted, disjoint) that
 * ends after ADDR: N when none. */
size_t damon_region_lower(const DamonRegion *regions, size_t n, uint64_t addr);

/* The sweep over physical memory, a PFN cursor across scans. It covers
 * the tenants given when it began (by cgroup id); at its end each of
 * them that no scan left out and whose memcgs (their hash,
 * kpage_memcgs_build()) did not change gets its totals. */
typedef struct DamonSweepTenant {
        uint64_t cgroup_id;
        uint64_t ids_hash;      /* of its memcgs when the sweep began */
        bool failed;            /* a scan left it out, its memcgs changed, or a read failed */
        DamonUnmapped acc;      /* bytes classified so far */
} DamonSweepTenant;

typedef struct DamonSweep {
        bool open;              /* under way: goes on from pfn */
        uint64_t pfn;
        DamonSweepTenant *t;    /* sorted by cgroup id */
        size_t n;
} DamonSweep;

/* Pure. A sweep from PFN 0 for TARGETS (N; HASH[i]: target i's memcg
 * hash). */
int damon_sweep_begin(DamonSweep *w, const ScanTarget *targets, size_t n, const uint64_t *hash);
/* A later scan given TARGETS: a tenant of the sweep not among them, or
 * with another hash, has missed part of it. */
void damon_sweep_check(DamonSweep *w, const ScanTarget *targets, size_t n, const uint64_t *hash);
/* Part of the sweep failed (a read): no tenant of it is exact. */
void damon_sweep_fail(DamonSweep *w);
/* Adds ACC[i], what a scan classified for TARGETS[i], to its tenant of the
 * sweep (none for a tenant given after the sweep began). */
void damon_sweep_add(DamonSweep *w, const ScanTarget *targets, size_t n, const DamonUnmapped *acc);
/* The last PFN is passed: OUT[i] of each of TARGETS the sweep covered
 * whole gets HEAT_PASS_UNMAPPED and its totals; the sweep is closed. */
void damon_sweep_end(DamonSweep *w, const ScanTarget *targets, size_t n, TenantHeat *out);
void damon_sweep_done(DamonSweep *w);
