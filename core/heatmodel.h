/* SPDX-License-Identifier: MIT */
/* The heat model: what tierd knows of each tenant's memory, kept across
 * control periods (pure: no file, no syscall; time is an input).
 *
 * Why: a scanner paced by a CPU budget sees a fragment of a tenant per
 * period. Planning from that fragment treats the unseen rest as absent,
 * so a tenant over tierN.max gives up the hot pages it was seen with while
 * colder, unscanned ones stay. The planner plans from this model instead:
 * heat_model_view() is the whole picture, built from every live entry.
 *
 * Entries. Per tenant (cgroup id), the ranges scanners classified, one
 * entry per range with equal attributes: VADDR (pid, [start, end)) or
 * PADDR ([start, end)), the age and nr_accesses last observed, the tier
 * and node, when (observed_ms) and in which of the tenant's passes it was
 * observed. Ages are kept as observed: an entry seen 3 periods ago with
 * age 2 still says 2 (not being re-observed says nothing of accesses). A
 * new observation replaces whatever the model knew of its range (older
 * entries are split around it); an observation on an unknown tier (-1)
 * only erases. Adjacent entries with equal attributes (including time and
 * pass) are merged. Byte-only backends (lru_gen) give a HeatSummary per
 * period instead: the model keeps the latest one and its time; a tenant is
 * byte-only or ranged, whichever it was last fed (the other is cleared).
 *
 * Passes and coverage. A pass is one sweep of a backend over the whole of
 * a tenant (idle_page: its cursor from the tenant's first pid to the end
 * of its last, over as many periods as the budget needs; damon/bpf and
 * lru_gen: every period after arming). The pipeline brackets it with
 * heat_model_pass_begin() and heat_model_pass_end(); observations in
 * between carry the pass number. At a pass's end every entry not observed
 * in it is dropped (see expiry), so live entries come from the pass under
 * way or the last one that ended. A pass ends "exact" when the backend
 * classified everything it visited (no page was only armed, e.g. idle
 * page's first visit of a new process, no process lacked a complete DAMON
 * aggregation); only exact passes count for coverage.
 *   Coverage of (tenant, tier) is complete when
 *    - an exact pass that began after the tenant's last change ended (a
 *      change: heat_model_changed(), which the pipeline calls when the
 *      tenant's effective policy changed or when it has another reason to
 *      distrust the old picture), and
 *    - the tier's resident bytes (heat_model_set_resident(), from
 *      memory.numa_stat) did not grow since that pass began by more than
 *      the slack (HeatModelOptions: growth_permille of that base, at least
 *      growth_min_bytes): memory that appeared after a pass began may not
 *      have been seen. tierd's own moves shift the base with the bytes
 *      moved, so a promotion does not read as growth.
 *   Only then may the planner take hot or warm bytes of that tier for a
 *   limit or for room; until then it meets them from known-cold bytes and
 *   holds the rest ("unscanned"). HeatCoverage carries the numbers for
 *   status and metrics: classified (observed entries) against resident.
 *
 * Expiry. Entries go when
 *  - their process exits: heat_model_expire_pids() with the tenant's live
 *    pids (every period), or heat_model_drop_pid();
 *  - they are no longer mapped or present: not re-observed in a pass (a
 *    backend reports only what it found mapped and present), they are
 *    dropped when that pass ends;
 *  - their tenant goes: heat_model_retain() with the live tenant ids;
 *  - they are moved by tierd (heat_model_moved()): a VADDR entry stays,
 *    with the tier and node it was sent to, marked HEAT_ENTRY_MOVED (and
 *    HEAT_ENTRY_DEMOTED for a move to a slower tier): it counts in no
 *    summary and is no candidate until it is observed again (the move may
 *    have failed for some pages, and its age is from before), but it
 *    remembers the demotion, so the next observation can contradict it. A
 *    PADDR entry is dropped: its pages now live at other physical
 *    addresses, which the next pass observes.
 *
 * Contradiction. A VADDR range demoted by tierd whose first observation
 * after the demotion is hot (age 0, on a tier below the fastest) is
 * flagged HEAT_ENTRY_DEMOTED_THEN_HOT, and keeps the flag while it is
 * observed hot there. Such ranges lead the view's hot candidates
 * (HeatView.n_demoted_then_hot of them): the planner promotes them first
 * and does not hold them for hysteresis, which must not lock in a
 * demotion the next observation contradicts.
 *
 * Unmapped pages. The unmapped sweep (HEAT_UNMAPPED) reports, at
 * the end of each exact sweep over physical memory, the bytes per tier of
 * the tenant's pages no process maps (page cache, tmpfs, shmem) seen
 * accessed since the sweep before (hot) or not (cold):
 * heat_model_observe_unmapped(). The model keeps the last such totals;
 * they count in coverage's classified bytes (the resident bytes of a
 * tenant swept so are anon plus all file) but are no ranges and no
 * candidates: the planner takes them as byte amounts, the cold ones first
 * and the hot ones last. Moves of unmapped bytes shift them between
 * tiers (heat_model_unmapped_moved()); a sweep replaces them whole.
 *
 * Bounded memory. At most max_entries_tenant entries per tenant and
 * max_entries over all; what passes a cap after an observation:
 *  1. neighbours (same process, adjacent, same tier, node, pass and flags)
 *     whose ages differ by at most 0, then 1, 2, ... are merged, from the
 *     lowest addresses up and no more than needed, keeping the youngest
 *     age, the most accesses and the oldest time: coarser, never colder,
 *     so no hot page is mistaken for cold (a merged range may promote
 *     some cold pages with its hot ones);
 *  2. then the entries observed longest ago are dropped (their bytes are
 *     unclassified again until the next pass);
 *  over the global cap, the tenants with the most entries give up first,
 *  down to an equal share. heat_model_memory() is the state's size.
 *
 * Candidates (HeatView.heat) follow heat_pick_candidates()'s rules:
 * cold = age >= 1 on tiers faster than the slowest, oldest first; hot =
 * age 0 on tiers below the fastest, most accessed first (the
 * demoted-then-hot ones before all others); warm = age 0 on tiers faster
 * than the slowest, least accessed first; ties by start address, then
 * pid. Entries marked HEAT_ENTRY_MOVED and entries of a tier the view's
 * n_tiers lacks are no candidates.
 *
 * Errors: -ENOMEM; -EINVAL for a bad argument (a range with end <= start,
 * an age above HEAT_MAX_AGE, a tier out of range, a pass ended that was
 * not begun). Calls that feed a tenant the model does not know create it;
 * queries about an unknown tenant answer with nothing known. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "heat.h"

#define HEAT_MODEL_DEFAULT_TENANT_ENTRIES 65536u   /* 3 MiB of entries */
#define HEAT_MODEL_DEFAULT_ENTRIES (1u << 20)       /* 48 MiB of entries */
#define HEAT_MODEL_DEFAULT_GROWTH_PERMILLE 125u     /* 12.5% */
#define HEAT_MODEL_DEFAULT_GROWTH_MIN (UINT64_C(4) << 20)

typedef struct HeatModelOptions {
        size_t max_entries_tenant;      /* 0: HEAT_MODEL_DEFAULT_TENANT_ENTRIES */
        size_t max_entries;             /* 0: HEAT_MODEL_DEFAULT_ENTRIES */
        uint32_t growth_permille;       /* 0: HEAT_MODEL_DEFAULT_GROWTH_PERMILLE */
        uint64_t growth_min_bytes;      /* 0: HEAT_MODEL_DEFAULT_GROWTH_MIN */
        bool ignore_growth;             /* coverage by passes alone */
} HeatModelOptions;

enum {
        HEAT_ENTRY_MOVED = 1 << 0,              /* moved by tierd, not observed since */
        HEAT_ENTRY_DEMOTED = 1 << 1,            /* with MOVED: the move was to a slower tier */
        HEAT_ENTRY_DEMOTED_THEN_HOT = 1 << 2,   /* demoted, then observed hot (and hot since) */
};

/* One entry, read-only for callers (heat_model_entries()). */
typedef struct HeatEntry {
        uint64_t start;         /* inclusive; bytes (PADDR: physical address) */
        uint64_t end;           /* exclusive */
        uint64_t observed_ms;   /* when last observed */
        pid_t pid;              /* VADDR; 0 for PADDR */
        uint32_t pass;          /* the tenant's pass it was observed in */
        uint32_t nr_accesses;
        uint8_t kind;           /* ScanRangeKind */
        uint8_t age;            /* 0..HEAT_MAX_AGE, as observed */
        int8_t tier;            /* 0..HEAT_MAX_TIERS-1 (never unknown) */
        int8_t node;            /* -1 unknown/mixed */
        uint8_t flags;          /* HEAT_ENTRY_* */
        uint8_t pad[3];
} HeatEntry;

typedef struct HeatCoverage {
        uint64_t resident;      /* the last resident bytes given (memory.numa_stat) */
        uint64_t classified;    /* observed entries on the tier (or the byte summary's bytes) */
        uint64_t this_pass;     /* of those, observed in the pass under way */
        uint64_t unobserved;    /* moved onto the tier by tierd, not observed since */
        uint64_t base;          /* resident when the last exact pass began, shifted by moves since */
        uint64_t pass_begin_ms; /* when the open (or last) pass began */
        uint64_t exact_end_ms;  /* when the last exact pass ended, 0 never */
        uint32_t passes;        /* passes begun */
        uint32_t exact_passes;  /* exact passes ended since the last change */
        bool pass_open;
        bool grown;             /* resident grew past base + slack */
        bool complete;          /* exact_passes > 0 && !grown */
        /* unmapped pages of the tier, from the last sweep (moves since shift
         * them), also in classified */
        uint64_t unmapped_hot, unmapped_cold;
        uint64_t unmapped_ms;   /* when the last sweep ended, 0 never */
} HeatCoverage;

typedef struct HeatView {
        /* The planner's input: summary by (tier, age) over the observed
         * entries (or the byte summary), tracked_bytes their sum, candidate
         * lists (owned; ranges only with HEAT_WANT_RANGES: every observed
         * entry). */
        TenantHeat heat;
        size_t n_demoted_then_hot;      /* the first heat.hot entries that are */
        bool byte_only;
        uint64_t summary_ms;            /* byte_only: when the summary was observed */
        HeatCoverage coverage[HEAT_MAX_TIERS];
} HeatView;

typedef struct HeatModel HeatModel;

int heat_model_new(const HeatModelOptions *opts, HeatModel **ret);
HeatModel *heat_model_free(HeatModel *m);
static inline void heat_model_freep(HeatModel **m) { heat_model_free(*m); }

/* ---- tenants ----------------------------------------------------------- */

/* Drops every tenant whose id is not among IDS. */
int heat_model_retain(HeatModel *m, const uint64_t *ids, size_t n);
/* Drops one tenant (no error when unknown). */
void heat_model_drop(HeatModel *m, uint64_t tenant);
/* The tenant's resident bytes per tier, every period before its pass
 * calls (for virtual-address backends, what they can see: anon plus
 * mapped file; for physical ones and lru_gen, anon plus file). */
int heat_model_set_resident(HeatModel *m, uint64_t tenant, const uint64_t resident[HEAT_MAX_TIERS]);
/* The tenant changed (policy, or the pipeline's say): coverage is complete
 * again only after an exact pass that begins after this call. Entries stay. */
int heat_model_changed(HeatModel *m, uint64_t tenant);

/* ---- passes and observations -------------------------------------------- */

/* A pass over the tenant begins; one still open is abandoned (it neither
 * counts nor drops anything: its entries go at the next pass's end unless
 * observed again). */
int heat_model_pass_begin(HeatModel *m, uint64_t tenant, uint64_t now_ms);
/* N classified ranges (in any order; they should not overlap each other:
 * where they do, the one that starts later wins, of two with the same
 * start the longer, and what the loser had past the winner's start is
 * dropped). */
int heat_model_observe(HeatModel *m, uint64_t tenant, const ScanRange *ranges, size_t n, uint64_t now_ms);
/* Byte-only backends: the tenant's whole summary, replacing the last. */
int heat_model_observe_bytes(HeatModel *m, uint64_t tenant, const HeatSummary *h, uint64_t now_ms);
/* The totals of an exact sweep over the tenant's unmapped pages, replacing
 * the last (see the top). */
int heat_model_observe_unmapped(HeatModel *m, uint64_t tenant, const uint64_t hot[HEAT_MAX_TIERS],
                                const uint64_t cold[HEAT_MAX_TIERS], uint64_t now_ms);
/* The pass ends: entries not observed in it are dropped; EXACT: it
 * classified everything it visited, and counts for coverage. -EINVAL when
 * no pass is open. */
int heat_model_pass_end(HeatModel *m, uint64_t tenant, bool exact, uint64_t now_ms);

/* One backend result, in that order: pass_begin (FEED_PASS_BEGIN),
 * observe of h->ranges (the scanner needs HEAT_WANT_RANGES) or
 * observe_bytes of h->heat (FEED_BYTE_ONLY), pass_end (FEED_PASS_END, with
 * FEED_EXACT). The tenant is h->cgroup_id. */
enum {
        HEAT_FEED_PASS_BEGIN = HEAT_PASS_BEGIN,
        HEAT_FEED_PASS_END = HEAT_PASS_END,
        HEAT_FEED_EXACT = HEAT_PASS_EXACT,
        HEAT_FEED_BYTE_ONLY = HEAT_PASS_BYTE_ONLY,
        HEAT_FEED_UNMAPPED = HEAT_PASS_UNMAPPED, /* and observe_unmapped of h->unmapped_* */
};
int heat_model_feed(HeatModel *m, const TenantHeat *h, unsigned flags, uint64_t now_ms);

/* ---- expiry and moves ---------------------------------------------------- */

/* Drops the tenant's VADDR entries of processes not among LIVE. */
int heat_model_expire_pids(HeatModel *m, uint64_t tenant, const pid_t *live, size_t n);
void heat_model_drop_pid(HeatModel *m, uint64_t tenant, pid_t pid);
/* tierd moved R (kind, pid, range; R->tier the source tier, -1: the base
 * is not shifted) to NEW_TIER / NEW_NODE; BYTES of it really moved (what
 * shifts the coverage base). The range's entries change as described at
 * the top, all of them: which pages failed to move is not known. */
int heat_model_moved(HeatModel *m, uint64_t tenant, const ScanRange *r, int new_tier, int new_node, uint64_t bytes);
/* A move without a range (memory.reclaim demotion): the coverage base only. */
int heat_model_moved_bytes(HeatModel *m, uint64_t tenant, int from_tier, int to_tier, uint64_t bytes);

/* tierd moved BYTES of the tenant's unmapped pages from FROM_TIER to
 * TO_TIER (memory.reclaim demotion, a DAMOS promotion): the known totals
 * follow, the cold ones first for a demotion, the hot ones first for a
 * promotion; the coverage base shifts as with heat_model_moved_bytes(). */
int heat_model_unmapped_moved(HeatModel *m, uint64_t tenant, int from_tier, int to_tier, uint64_t bytes);

/* ---- queries ------------------------------------------------------------- */

bool heat_model_coverage_complete(const HeatModel *m, uint64_t tenant, int tier);
/* Zeroes (complete false) for an unknown tenant. -EINVAL for a bad tier. */
int heat_model_coverage(const HeatModel *m, uint64_t tenant, int tier, HeatCoverage *ret);
/* The planner's view of the tenant (see the top): candidates for a machine
 * of N_TIERS tiers, at most MAX per list; FLAGS: HEAT_WANT_RANGES. Free
 * with heat_view_done(). An unknown tenant gives an empty view. */
int heat_model_view(const HeatModel *m, uint64_t tenant, int n_tiers, size_t max, unsigned flags, HeatView *ret);
void heat_view_done(HeatView *v);
/* The tenant's entries, sorted by (kind, pid, start); valid until the next
 * call that changes the model. 0 entries for an unknown tenant. */
void heat_model_entries(const HeatModel *m, uint64_t tenant, const HeatEntry **ret, size_t *ret_n);
/* Entries over all tenants, and the bytes the model holds (allocated). */
size_t heat_model_n_entries(const HeatModel *m);
uint64_t heat_model_memory(const HeatModel *m);
