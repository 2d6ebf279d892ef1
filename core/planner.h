/* SPDX-License-Identifier: MIT */
/* The planner: per tenant, which bytes to demote and promote this period
 * (pure: data in, plan out; no file, no syscall, time is an input).
 *
 * Rules, in the order the planner applies them:
 *  1. over_max: a tenant above tierN.max on a tier that has a slower one
 *     demotes its coldest pages of that tier until it is at or under the
 *     limit (its cold candidates, then, if the limit is below its hot set,
 *     its warm ones), to the next slower tier with room (then the next). Tier by
 *     tier, fastest first; tenants by class, lowest priority first; within
 *     a class the global budget is shared in proportion to weight.
 *  2. promote_hot: for each destination tier D, fastest first, a tenant's
 *     hot pages on slower tiers are promoted while it stays at or under
 *     tierD.max and the tier has room (free - headroom). Classes go
 *     highest priority first; within a class the room is shared in
 *     proportion to weight (water-filling: what one tenant cannot use goes
 *     to the others).
 *  3. contention: when a class's promotions do not fit D's room, tenants
 *     of strictly lower classes (lowest first; within a class in inverse
 *     proportion to weight) demote their coldest pages of D, never below
 *     their tierD.low, to make room; when their cold pages are not enough,
 *     a second round takes their warm pages (accessed, on D; least
 *     accessed first, lowest class first): a higher class's hot set
 *     displaces a lower class's. Tenants of one class never demote each
 *     other: they share by weight.
 *  4. swap: after steps 2 and 3 for D, a tenant that still has hot pages
 *     on slower tiers (held back by its tierD.max or by D's room) and cold
 *     (age >= 1) pages on D demotes its coldest pages of D and promotes as
 *     many bytes of its hottest pages, pair by pair (coldest of D against
 *     hottest from below) while the slow page is strictly hotter (younger,
 *     or as young and more accessed): never cold for cold, never a warm
 *     page of D. Both halves are charged to their buckets and the global
 *     budget (2 bytes per byte swapped), the demotions need room on the
 *     slower tiers, and the promotions never exceed what was demoted, so
 *     the tenant's bytes on D do not grow. Classes highest first. Without
 *     it a tenant at its limit whose hot set moved to slow pages would
 *     keep its stale fast pages for ever.
 * Hierarchy (PlanTenant.parent: the nearest ancestor tenant, the way
 * cgroups nest): a tenant's current bytes are its whole subtree's (as
 * memory.numa_stat counts them), and its limits, protection and buckets
 * cover the subtree, like memory.max and memory.low:
 *  - tierN.max bounds the subtree. In step 1, tenants are taken deepest
 *    first; a tenant with nested tenants that is over its limit demotes
 *    from the enforced tenants of its subtree (itself included): first
 *    their known-cold pages, then the bytes no process maps, then their
 *    accessed pages (only once the tier of every enforced tenant of the
 *    subtree is fully scanned: the pages of one not seen yet may be
 *    colder than those seen accessed of another); in each round the
 *    lowest class first and, within a class, the coldest pages first
 *    across its tenants. All of that first above each tenant's own share
 *    of protection, then, a limit being a limit, below it. A
 *    promotion never takes the subtree of any ancestor over that
 *    ancestor's tierN.max: an ancestor's room is shared among the
 *    subtree's claimants by weight (step 2). The shortfall of a subtree's
 *    limit is held on the ancestor, named by the first rule that stopped
 *    it (budget, headroom, quota, unscanned, hysteresis, no_candidates).
 *  - tierN.low is shared, not copied: plan_share_low() splits an
 *    ancestor's protection among its nested tenants and its own processes
 *    as cgroup v2 splits memory.low (in proportion to each one's claim,
 *    min(its low, its usage), when the claims exceed it). Step 3 demotes
 *    a tenant's own pages only above its own share.
 *  - every move is charged to the buckets of the tenant and of each of
 *    its ancestors (and once to the global budget): an ancestor's quota
 *    bounds its subtree's moves. Siblings share an ancestor's bucket in
 *    the order the steps visit them.
 *  - an ancestor's limits apply to its enforced descendants whatever its
 *    own mode (its observed processes are not moved).
 * Coverage: while a tenant's tier is unscanned (PlanTenant.unscanned),
 * steps 1 and 3 take only its known-cold pages of it; the rest is held as
 * `unscanned` rather than demoting accessed pages on a partial picture.
 * Unmapped bytes (PlanTenant.unmapped): those seen cold go right after the
 * known-cold ranges; those not classified go there too when nothing
 * classifies them, else after the accessed ranges; those seen hot
 * (unmapped_hot) go last.
 * Everywhere: bytes in multiples of PLAN_PAGE (ranges are split at page
 * boundaries to fit a byte budget exactly); every move is charged to the
 * tenant's bucket for its direction and to the global budget, and a plan
 * never exceeds either; a range moved within hysteresis_ms in the other
 * direction (HysteresisTable) is not moved; candidates of unknown tier
 * (-1, or a tier the input does not have) are never moved.
 *
 * Modes: off tenants are ignored (their result says so). observe tenants
 * are planned as if they were enforced, in a separate pass with every
 * bucket copied, so their plan is what enforcing them would do now; the
 * real pass leaves them out entirely (they take no room, no budget, are
 * never demoted for contention) and their buckets are not charged.
 *
 * Byte-only tenants (region-level backends without addresses, e.g. MGLRU):
 * their demotions are byte amounts with no range (the mover uses
 * memory.reclaim); over_max needs no heat for that, contention takes at
 * most their cold (age >= 1) bytes of the tier from the heat summary in
 * its first round and their age-0 bytes in the second.
 * Without addresses nothing can be promoted: their hot bytes on slower
 * tiers are reported as held back (no_candidates). */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "heat.h"
#include "policy.h"
#include "quota.h"

#define PLAN_PAGE UINT64_C(4096)
#define PLAN_MAX_TIERS HEAT_MAX_TIERS
#define PLAN_MAX_NODES 64

typedef enum PlanDirection {
        PLAN_DEMOTE,
        PLAN_PROMOTE,
} PlanDirection;

typedef enum PlanReason {
        PLAN_REASON_OVER_MAX,   /* above tierN.max */
        PLAN_REASON_CONTENTION, /* demoted to make room for a higher class */
        PLAN_REASON_PROMOTE_HOT,/* hot on a slower tier */
        PLAN_REASON_SWAP,       /* self-swap: own cold pages out for own hotter pages in */
        _PLAN_REASON_MAX,
} PlanReason;

/* ---- hysteresis -------------------------------------------------------- */

/* One recent move: (kind, pid, [start, end)) moved in DIRECTION at TIME. */
typedef struct HysteresisEntry {
        uint64_t start;         /* bytes, page aligned */
        uint64_t end;           /* exclusive */
        uint64_t time_ms;
        pid_t pid;              /* VADDR; 0 for PADDR */
        uint8_t kind;           /* ScanRangeKind */
        uint8_t direction;      /* PlanDirection */
        uint16_t pad;
} HysteresisEntry;

/* A bounded ring of recent moves in storage the caller owns. Recording
 * drops entries older than the window, then the oldest when full (the one
 * nearest to expiry). Lookups are linear: keep the capacity to a few
 * thousand entries. */
typedef struct HysteresisTable {
        HysteresisEntry *entries;
        size_t capacity;
        size_t head;            /* oldest */
        size_t n;
} HysteresisTable;

void hysteresis_init(HysteresisTable *t, HysteresisEntry *storage, size_t capacity);
/* Records that R moved in DIR at NOW_MS (the caller does this for what the
 * mover really moved). */
void hysteresis_record(HysteresisTable *t, const ScanRange *r, PlanDirection dir, uint64_t now_ms,
                       uint64_t window_ms);
/* Whether some page of R moved opposite to DIR less than WINDOW_MS ago. */
bool hysteresis_blocks(const HysteresisTable *t, const ScanRange *r, PlanDirection dir, uint64_t now_ms,
                       uint64_t window_ms);

/* ---- input ------------------------------------------------------------- */

typedef struct PlanTier {
        uint64_t nodes;         /* bitmask of node ids */
        uint64_t capacity;      /* bytes */
        uint64_t free;          /* bytes */
        uint64_t headroom;      /* bytes kept free: never filled past capacity - headroom */
        /* Optional, per node id of NODES: free bytes, to spread moves over
         * a tier's nodes (most free first). All zero: the lowest node id. */
        uint64_t node_free[PLAN_MAX_NODES];
} PlanTier;

typedef struct PlanTenant PlanTenant;
struct PlanTenant {
        uint64_t cgroup_id;
        const char *path;
        PolicyMode mode;        /* MODE_UNSET counts as off */
        int class_rank;         /* 0 = highest priority (Config.classes index) */
        uint32_t weight;        /* 1..10000; 0 counts as 1 */
        uint64_t tier_max[PLAN_MAX_TIERS]; /* effective bytes, UINT64_MAX: none */
        uint64_t tier_low[PLAN_MAX_TIERS]; /* effective bytes, 0: none */
        uint64_t current[PLAN_MAX_TIERS];  /* resident bytes per tier (memory.numa_stat) */
        const TenantHeat *heat; /* NULL: nothing known (empty heat) */
        bool byte_only;         /* no addresses: byte amounts, no ranges */
        /* Tier t's heat does not yet cover all of the tenant's memory there
         * (no exact pass since its last change, core/heatmodel.h): only its
         * known-cold bytes of t are taken; a limit or a higher class that
         * would need its warm ones is held back as `unscanned`. */
        bool unscanned[PLAN_MAX_TIERS];
        /* Bytes of tier t no address scanner sees (page cache and tmpfs
         * no process maps: memory.numa_stat's file minus file_mapped),
         * given only when a byte mover can demote them (memory.reclaim
         * with demotion on). A limit takes them after the known-cold
         * ranges and before any accessed page, as byte demotions (no
         * range): the kernel's reclaim picks its coldest pages. */
        uint64_t unmapped[PLAN_MAX_TIERS];
        /* Of unmapped[t], the bytes the last sweep of them saw accessed
         * (core/heatmodel.h: unmapped pages): kept while anything else
         * can meet a limit or make room; taken last (after the accessed
         * ranges, so only once the tier is covered). The rest of
         * unmapped[t], cold or not classified yet, goes first. */
        uint64_t unmapped_hot[PLAN_MAX_TIERS];
        /* With UNMAPPED_SWEPT (a sweep classified the tenant's unmapped
         * pages): of unmapped[t], the bytes it saw cold, which go right
         * after the known-cold ranges; the rest (neither hot nor cold:
         * pages that came after the sweep) is then not known cold either,
         * and goes after the accessed ranges, before the hot ones. Without
         * it, all of unmapped[t] but unmapped_hot[t] goes after the
         * known-cold ranges (nothing classifies them). */
        uint64_t unmapped_cold[PLAN_MAX_TIERS];
        bool unmapped_swept;
        /* The first N of heat->hot were demoted by tierd and then seen hot
         * (the heat model's contradiction): hysteresis does not hold them
         * back, and they lead the promotions. */
        size_t n_hot_contradicted;
        const TokenBucket *promote_quota; /* NULL: unlimited; the plan works on a copy */
        const TokenBucket *demote_quota;  /* NULL: unlimited */
        /* The nearest ancestor tenant (its cgroup is an ancestor of this
         * one's), an element of the same input array placed before this
         * one; NULL: none. CURRENT then counts this tenant's bytes in the
         * parent's CURRENT too, as memory.numa_stat does. */
        const PlanTenant *parent;
};

typedef struct PlanInput {
        int n_tiers;            /* 1..PLAN_MAX_TIERS; tier 0 is the fastest */
        PlanTier tiers[PLAN_MAX_TIERS];
        const PlanTenant *tenants;
        size_t n_tenants;
        const TokenBucket *budget; /* the global migration budget; NULL: unlimited */
        uint64_t now_ms;
        uint64_t hysteresis_ms;
        const HysteresisTable *hysteresis; /* NULL: nothing moved recently */
        /* The mover promotes byte amounts (it finds the pages itself:
         * DAMOS): byte-only tenants' hot bytes on slower tiers, which have
         * no candidates, are then promoted as bytes (byte_promote_bytes)
         * within their tier-0 limit, tier 0's room and the quotas. */
        bool byte_promotions;
        /* The engine has a physical path for pages no process maps
         * (DAMOS migrate_hot with a memcg filter): a ranged tenant's
         * unmapped bytes seen hot on slower tiers (PlanTenant.unmapped_hot)
         * are promoted as bytes (unmapped_promote_bytes) within its tier-0
         * limit, tier 0's room and the quotas, classes highest first,
         * after everything else is planned; one its limit holds back
         * demotes as many of its unmapped bytes seen cold on tier 0 for
         * them (a byte demotion, reason swap). */
        bool unmapped_promotions;
} PlanInput;

/* ---- output ------------------------------------------------------------ */

typedef struct PlanMove {
        uint8_t direction;      /* PlanDirection */
        uint8_t reason;         /* PlanReason */
        bool has_range;         /* false: byte-only (memory.reclaim) */
        int from_tier;
        int to_tier;
        int to_node;
        uint64_t bytes;
        ScanRange range;        /* has_range: the (split) candidate; its tier/node are the source */
} PlanMove;

/* Bytes a rule kept out of the plan, per direction, summed over the
 * planner's steps (a promotion tried for tier 0 and then for tier 1 of a
 * three-tier machine counts at each step). */
typedef struct PlanHeld {
        uint64_t no_candidates; /* wanted, but no candidate ranges (or no addresses) */
        uint64_t hysteresis;    /* candidates moved the other way within hysteresis_ms */
        uint64_t limit;         /* promotion: would pass tierN.max */
        uint64_t low;           /* contention demotion: protected by tierN.low */
        uint64_t quota;         /* the tenant's own bucket */
        uint64_t budget;        /* the global budget */
        uint64_t headroom;      /* the target tier(s) had no room */
        uint64_t contention;    /* room shared with or taken by other tenants */
        uint64_t unscanned;     /* demotion: would take accessed (warm) pages, or pages not known
                                 * to be cold, while the tier is not fully scanned (at most) */
} PlanHeld;
/* (A promotion held by limit, headroom or contention in step 2 that a swap
 * then planned is taken off those counts: held is what the plan left.) */

typedef struct PlanTenantResult {
        uint64_t cgroup_id;
        const char *path;       /* the input's pointer */
        bool ignored;           /* mode off */
        bool observe_only;      /* planned, not to be moved */
        uint64_t demote_bytes;
        uint64_t promote_bytes;
        uint64_t demote_from[PLAN_MAX_TIERS];
        uint64_t promote_to[PLAN_MAX_TIERS];
        uint64_t by_reason[_PLAN_REASON_MAX];
        unsigned reasons;       /* bit (1 << PlanReason) for each reason present */
        PlanHeld held_demote;
        PlanHeld held_promote;
        PlanMove *moves;        /* demotions first (the mover frees room before it fills it) */
        size_t n_moves;
        /* PlanInput.byte_promotions: bytes to promote without candidates
         * (not in promote_bytes, moves or held: held_promote.no_candidates
         * still says what had no candidates) */
        uint64_t byte_promote_bytes;
        /* PlanInput.unmapped_promotions: unmapped bytes seen hot to bring to
         * tier 0 (not in promote_bytes or moves) */
        uint64_t unmapped_promote_bytes;
        /* What the plan charges to the tenant's buckets (and, summed, the
         * budget): enforced tenants only; the ledger commits it. */
        uint64_t charge_promote, charge_demote;
        /* The protection of the tenant's subtree per tier once shared with
         * its ancestors' (plan_share_low()); its tier_low when it has no
         * parent. */
        uint64_t tier_low[PLAN_MAX_TIERS];
} PlanTenantResult;

typedef struct Plan {
        PlanTenantResult *tenants; /* as many as the input, in input order */
        size_t n_tenants;
        uint64_t budget_used;   /* charged to the global budget (enforced tenants) */
        uint64_t room_before[PLAN_MAX_TIERS];
        uint64_t room_after[PLAN_MAX_TIERS]; /* once the plan is carried out */
} Plan;

/* Computes the plan on copies of the buckets, refilled to now_ms; the
 * input is not written. The charges are in the result (charge_promote,
 * charge_demote, budget_used): the caller commits them (core/ledger.h),
 * and refunds what a mover failed to move. Returns 0, -EINVAL for a bad
 * input (n_tiers, a negative class rank), -ENOMEM. */
int plan_compute(const PlanInput *in, Plan *ret);

/* Protection shared down a hierarchy of N tenants (pure): PARENT[i] is
 * the index of tenant i's nearest ancestor tenant (< i), or SIZE_MAX;
 * USAGE[i] its subtree's bytes (its nested tenants' included), LOW[i]
 * its own protection. A tenant without a parent keeps LOW; otherwise its
 * claim is min(LOW, USAGE), and when the claims on a parent (its nested
 * tenants' and its own processes', whose claim is their usage) exceed the
 * parent's protection, each gets the parent's protection in proportion
 * to its claim (cgroup v2's effective memory.low). RET_SUBTREE[i]: the
 * protection of i's subtree; RET_OWN[i] (may be NULL): the part of it
 * that protects i's own processes (what is left once its nested tenants
 * have their share). Returns 0 or -ENOMEM. */
int plan_share_low(size_t n, const size_t *parent, const uint64_t *usage, const uint64_t *low,
                   uint64_t *ret_subtree, uint64_t *ret_own);
void plan_done(Plan *p);

const char *plan_reason_to_string(PlanReason r);
const char *plan_direction_to_string(PlanDirection d);
