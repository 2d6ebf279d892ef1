/* SPDX-License-Identifier: MIT */
/* The planner (see planner.h for the rules). Pure: no I/O, no syscalls.
 *
 * One pass ("run") works on a simulation of this period: per tier the free
 * bytes, per tenant the bytes per tier, copies of every bucket, and the
 * candidate ranges left after hysteresis ("pieces", each with the bytes
 * already taken from its start). Every planned move updates that state,
 * so later steps see the room earlier ones freed or filled. plan_compute()
 * runs one pass with the observed tenants treated as enforced (only their
 * results are kept) and one with the enforced tenants alone (the real
 * plan, whose bucket charges are committed). */
#include "planner.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "util.h"

#define PAGE PLAN_PAGE

static uint64_t sat_add(uint64_t x, uint64_t y) {
        return x > UINT64_MAX - y ? UINT64_MAX : x + y;
}

static uint64_t page_down(uint64_t x) {
        return x & ~(PAGE - 1);
}

static uint64_t page_up(uint64_t x) {
        return x > UINT64_MAX - (PAGE - 1) ? page_down(x) : page_down(x + PAGE - 1);
}

/* ---- hysteresis -------------------------------------------------------- */

void hysteresis_init(HysteresisTable *t, HysteresisEntry *storage, size_t capacity) {
        *t = (HysteresisTable) { .entries = storage, .capacity = storage ? capacity : 0 };
}

static const HysteresisEntry *hysteresis_at(const HysteresisTable *t, size_t i) {
        return &t->entries[(t->head + i) % t->capacity];
}

static bool entry_live(const HysteresisEntry *e, uint64_t now_ms, uint64_t window_ms) {
        /* an entry from the future (clock oddities) counts as just now */
        return e->time_ms >= now_ms || now_ms - e->time_ms < window_ms;
}

void hysteresis_record(HysteresisTable *t, const ScanRange *r, PlanDirection dir, uint64_t now_ms,
                       uint64_t window_ms) {
        if (t->capacity == 0 || window_ms == 0 || r->end <= r->start)
                return;
        while (t->n > 0 && !entry_live(hysteresis_at(t, 0), now_ms, window_ms)) {
                t->head = (t->head + 1) % t->capacity;
                t->n--;
        }
        if (t->n == t->capacity) {
                t->head = (t->head + 1) % t->capacity;
                t->n--;
        }
        t->entries[(t->head + t->n) % t->capacity] = (HysteresisEntry) {
                .start = page_down(r->start),
                .end = page_up(r->end),
                .time_ms = now_ms,
                .pid = r->kind == SCAN_RANGE_VADDR ? r->pid : 0,
                .kind = r->kind,
                .direction = (uint8_t) dir,
        };
        t->n++;
}

static bool entry_blocks(const HysteresisEntry *e, const ScanRange *r, PlanDirection dir, uint64_t now_ms,
                         uint64_t window_ms) {
        return e->kind == r->kind && (r->kind != SCAN_RANGE_VADDR || e->pid == r->pid) &&
               e->direction != (uint8_t) dir && e->start < r->end && r->start < e->end &&
               entry_live(e, now_ms, window_ms);
}

bool hysteresis_blocks(const HysteresisTable *t, const ScanRange *r, PlanDirection dir, uint64_t now_ms,
                       uint64_t window_ms) {
        if (!t || window_ms == 0)
                return false;
        for (size_t i = 0; i < t->n; i++)
                if (entry_blocks(hysteresis_at(t, i), r, dir, now_ms, window_ms))
                        return true;
        return false;
}

/* ---- names ------------------------------------------------------------- */

const char *plan_reason_to_string(PlanReason r) {
        switch (r) {
        case PLAN_REASON_OVER_MAX:
                return "over_max";
        case PLAN_REASON_CONTENTION:
                return "contention";
        case PLAN_REASON_PROMOTE_HOT:
                return "promote_hot";
        case PLAN_REASON_SWAP:
                return "swap";
        default:
                return "unknown";
        }
}

const char *plan_direction_to_string(PlanDirection d) {
        return d == PLAN_PROMOTE ? "promote" : "demote";
}

/* ---- one pass ---------------------------------------------------------- */

typedef struct Piece {
        ScanRange r;            /* page aligned */
        uint64_t used;          /* bytes taken from r.start on */
} Piece;

static uint64_t piece_left(const Piece *p) {
        return p->r.end - p->r.start - p->used;
}

static bool tenant_planned_mode(const PlanTenant *t) {
        return t->mode == MODE_ENFORCE || t->mode == MODE_OBSERVE;
}

typedef struct Work {
        const PlanTenant *t;
        bool active;
        struct Work *parent;    /* the nearest ancestor tenant's work, NULL: none */
        int depth;              /* 0 without a parent */
        bool nested;            /* tenants are nested under it */
        uint64_t cur[PLAN_MAX_TIERS];   /* its subtree's bytes */
        uint64_t own[PLAN_MAX_TIERS];   /* its own processes' (cur minus its nested tenants') */
        uint64_t prot[PLAN_MAX_TIERS];  /* its own processes' share of protection */
        TokenBucket pq, dq;
        /* demotion pieces: the cold candidates (coldest first), then the
         * warm ones (accessed, on faster tiers; least accessed first) */
        Piece *cold, *hot;      /* coldest / hottest first */
        size_t n_cold, n_hot;
        uint64_t cold_raw[PLAN_MAX_TIERS], cold_elig[PLAN_MAX_TIERS]; /* left, by source tier */
        uint64_t warm_raw[PLAN_MAX_TIERS], warm_elig[PLAN_MAX_TIERS];
        uint64_t hot_raw[PLAN_MAX_TIERS], hot_elig[PLAN_MAX_TIERS];
        /* byte-only, from the heat: cold = age >= 1, warm = age 0 (both on
         * tiers with a slower one), hot = age 0 on tiers > 0 */
        uint64_t byte_cold[PLAN_MAX_TIERS], byte_warm[PLAN_MAX_TIERS], byte_hot[PLAN_MAX_TIERS];
        /* unmapped bytes left, page-aligned: seen cold (unmapped_swept),
         * not classified (all but the hot ones without a sweep), seen hot */
        uint64_t unmapped_cold[PLAN_MAX_TIERS], unmapped[PLAN_MAX_TIERS], unmapped_hot[PLAN_MAX_TIERS];
        PlanTenantResult res;
        size_t moves_alloc;
} Work;

typedef struct Run {
        const PlanInput *in;
        int n_tiers;
        uint64_t free[PLAN_MAX_TIERS];
        uint64_t node_free[PLAN_MAX_NODES];
        TokenBucket budget;
        uint64_t budget_used;
        Work *w;
        size_t n;
        int *ranks;             /* distinct class ranks of active tenants, ascending */
        size_t n_ranks;
        /* scratch, one entry per tenant: want/share/grant/idx for one
         * water-filling; pwant (every tenant's promotion want for a tier),
         * cwant/cidx (one class's) survive make_room() */
        uint64_t *want, *grant, *share, *pwant, *cwant;
        size_t *idx, *cidx;
        HysteresisEntry *scratch; /* blocking intervals of one candidate */
        int max_depth;
} Run;

static uint64_t room(const Run *run, int t) {
        const PlanTier *pt = &run->in->tiers[t];

        return run->free[t] > pt->headroom ? page_down(run->free[t] - pt->headroom) : 0;
}

static uint64_t slower_room(const Run *run, int t) {
        uint64_t s = 0;

        for (int u = t + 1; u < run->n_tiers; u++)
                s += room(run, u);
        return s;
}

static uint64_t budget_avail(const Run *run) {
        return page_down(token_bucket_peek(&run->budget, run->in->now_ms));
}

static uint64_t bucket_avail(const Run *run, const TokenBucket *b) {
        return page_down(token_bucket_peek(b, run->in->now_ms));
}

/* What W may move in DIR: the least of its bucket's and its ancestors'. */
static uint64_t chain_avail(const Run *run, const Work *w, PlanDirection dir) {
        uint64_t a = UINT64_MAX;

        for (; w; w = w->parent)
                a = min_u64(a, bucket_avail(run, dir == PLAN_PROMOTE ? &w->pq : &w->dq));
        return a;
}

/* Bytes W may still bring into tier D: the least room under its own
 * tierD.max and its ancestors' (each counting its whole subtree). */
static uint64_t chain_cap(const Work *w, int d) {
        uint64_t c = UINT64_MAX;

        for (; w; w = w->parent)
                c = min_u64(c, w->cur[d] < w->t->tier_max[d] ? page_down(w->t->tier_max[d] - w->cur[d]) : 0);
        return c;
}

/* Whether W is A or nested under it. */
static bool in_subtree(const Work *w, const Work *a) {
        for (; w; w = w->parent)
                if (w == a)
                        return true;
        return false;
}

static int pick_node(Run *run, int tier, uint64_t bytes) {
        uint64_t mask = run->in->tiers[tier].nodes;
        int best = -1;

        for (int id = 0; id < PLAN_MAX_NODES; id++)
                if ((mask & (UINT64_C(1) << id)) && (best < 0 || run->node_free[id] > run->node_free[best]))
                        best = id;
        if (best >= 0)
                run->node_free[best] -= min_u64(bytes, run->node_free[best]);
        return best;
}

static void node_release(Run *run, int node, uint64_t bytes) {
        if (node >= 0 && node < PLAN_MAX_NODES)
                run->node_free[node] += bytes;
}

static int push_move(Work *w, const PlanMove *m) {
        PlanTenantResult *res = &w->res;

        if (res->n_moves == w->moves_alloc) {
                size_t n = w->moves_alloc ? w->moves_alloc * 2 : 16;
                PlanMove *nm = realloc(res->moves, n * sizeof(*nm));

                if (!nm)
                        return -ENOMEM;
                res->moves = nm;
                w->moves_alloc = n;
        }
        res->moves[res->n_moves++] = *m;
        return 0;
}

/* Books BYTES moving FROM -> TO for W: tiers, tenant, buckets, result. */
static void account(Run *run, Work *w, PlanDirection dir, PlanReason reason, int from, int to, uint64_t bytes) {
        uint64_t now = run->in->now_ms;

        run->free[from] += bytes;
        run->free[to] -= min_u64(bytes, run->free[to]);
        w->own[from] -= min_u64(bytes, w->own[from]);
        w->own[to] += bytes;
        /* its subtree's bytes and buckets, and each ancestor's */
        for (Work *x = w; x; x = x->parent) {
                x->cur[from] -= min_u64(bytes, x->cur[from]);
                x->cur[to] += bytes;
                (void) token_bucket_take(dir == PLAN_PROMOTE ? &x->pq : &x->dq, bytes, now);
        }
        (void) token_bucket_take(&run->budget, bytes, now);
        run->budget_used += bytes;
        if (dir == PLAN_PROMOTE) {
                w->res.promote_bytes += bytes;
                w->res.promote_to[to] += bytes;
        } else {
                w->res.demote_bytes += bytes;
                w->res.demote_from[from] += bytes;
        }
        w->res.by_reason[reason] += bytes;
        w->res.reasons |= 1u << reason;
}

/* Takes up to BYTES from the pieces matching (tier == FROM, or for
 * promotions tier > TO), in order, into moves; with COLD_ONLY a demotion
 * takes no age-0 piece. Returns bytes taken or -ENOMEM. TO < 0:
 * demotion, the target is the next slower tier with room, per piece
 * chunk. */
static int64_t take_pieces(Run *run, Work *w, PlanDirection dir, PlanReason reason, int from, int to,
                           bool cold_only, uint64_t bytes) {
        Piece *p = dir == PLAN_PROMOTE ? w->hot : w->cold;
        size_t n = dir == PLAN_PROMOTE ? w->n_hot : w->n_cold;
        uint64_t left = bytes;
        int r;

        for (size_t i = 0; i < n && left > 0; i++) {
                int src = p[i].r.tier;
                bool match = dir == PLAN_PROMOTE ? src > to : src == from && (!cold_only || p[i].r.age > 0);

                while (match && left > 0 && p[i].used < p[i].r.end - p[i].r.start) {
                        int target = to;
                        uint64_t chunk = min_u64(left, p[i].r.end - p[i].r.start - p[i].used);
                        PlanMove m;

                        if (dir == PLAN_DEMOTE) {
                                target = -1;
                                for (int u = src + 1; u < run->n_tiers && target < 0; u++)
                                        if (room(run, u) > 0)
                                                target = u;
                                if (target < 0)
                                        return (int64_t) (bytes - left);
                                chunk = min_u64(chunk, room(run, target));
                        }
                        m = (PlanMove) {
                                .direction = (uint8_t) dir,
                                .reason = (uint8_t) reason,
                                .has_range = true,
                                .from_tier = src,
                                .to_tier = target,
                                .to_node = pick_node(run, target, chunk),
                                .bytes = chunk,
                                .range = p[i].r,
                        };
                        m.range.start = p[i].r.start + p[i].used;
                        m.range.end = m.range.start + chunk;
                        r = push_move(w, &m);
                        if (r < 0)
                                return r;
                        node_release(run, p[i].r.node, chunk);
                        p[i].used += chunk;
                        left -= chunk;
                        if (dir == PLAN_PROMOTE) {
                                w->hot_raw[src] -= min_u64(chunk, w->hot_raw[src]);
                                w->hot_elig[src] -= min_u64(chunk, w->hot_elig[src]);
                        } else if (p[i].r.age > 0) {
                                w->cold_raw[src] -= min_u64(chunk, w->cold_raw[src]);
                                w->cold_elig[src] -= min_u64(chunk, w->cold_elig[src]);
                        } else {
                                w->warm_raw[src] -= min_u64(chunk, w->warm_raw[src]);
                                w->warm_elig[src] -= min_u64(chunk, w->warm_elig[src]);
                        }
                        account(run, w, dir, reason, src, target, chunk);
                }
        }
        return (int64_t) (bytes - left);
}

/* A demotion of BYTES from tier FROM without a range (the byte mover's
 * reclaim picks the pages), split over the slower tiers by room: of a
 * byte-only tenant's cold then warm bytes, or, with UNMAPPED (the counter
 * of W's unmapped bytes of FROM to take them from), of the pages no
 * process maps. Returns the bytes taken or -ENOMEM. */
static int64_t take_bytes_as(Run *run, Work *w, PlanReason reason, int from, uint64_t bytes, uint64_t *unmapped) {
        uint64_t left = bytes;
        int64_t taken = 0;

        for (int u = from + 1; u < run->n_tiers && left > 0; u++) {
                uint64_t chunk = min_u64(left, room(run, u));
                PlanMove m;
                int r;

                if (chunk == 0)
                        continue;
                m = (PlanMove) {
                        .direction = PLAN_DEMOTE,
                        .reason = (uint8_t) reason,
                        .from_tier = from,
                        .to_tier = u,
                        .to_node = pick_node(run, u, chunk),
                        .bytes = chunk,
                        .range = { .tier = (int8_t) from, .node = -1 },
                };
                r = push_move(w, &m);
                if (r < 0)
                        return r;
                if (unmapped)
                        *unmapped -= min_u64(chunk, *unmapped);
                else if (w->byte_cold[from] >= chunk)
                        w->byte_cold[from] -= chunk;
                else {
                        w->byte_warm[from] -= min_u64(chunk - w->byte_cold[from], w->byte_warm[from]);
                        w->byte_cold[from] = 0;
                }
                account(run, w, PLAN_DEMOTE, reason, from, u, chunk);
                left -= chunk;
                taken += (int64_t) chunk;
        }
        return taken;
}

/* Unmapped bytes of W's tier T that go with the known-cold ranges: those
 * seen cold, and without a sweep those not classified. */
static uint64_t unmapped_first(const Work *w, int t) {
        return w->unmapped_cold[t] + (w->t->unmapped_swept ? 0 : w->unmapped[t]);
}

/* Those that go with the accessed ranges, after them. */
static uint64_t unmapped_last(const Work *w, int t) {
        return w->unmapped_hot[t] + (w->t->unmapped_swept ? w->unmapped[t] : 0);
}

/* A ranged tenant gives up its known-cold ranges first, then its unmapped
 * bytes seen cold (without a sweep: all but those seen hot), then (only
 * once the tier is covered) its accessed ranges, its unmapped bytes not
 * classified and last those seen hot. */
static int demote(Run *run, Work *w, PlanReason reason, int from, uint64_t bytes) {
        int64_t n;

        if (bytes == 0)
                return 0;
        if (w->t->byte_only) {
                n = take_bytes_as(run, w, reason, from, bytes, NULL);
                return n < 0 ? (int) n : 0;
        }
        uint64_t *first[2] = { &w->unmapped_cold[from], w->t->unmapped_swept ? NULL : &w->unmapped[from] };
        uint64_t *last[2] = { w->t->unmapped_swept ? &w->unmapped[from] : NULL, &w->unmapped_hot[from] };

        n = take_pieces(run, w, PLAN_DEMOTE, reason, from, -1, true, bytes);
        for (int i = 0; i < 2 && n >= 0; i++)
                if (first[i] && (uint64_t) n < bytes) {
                        bytes -= (uint64_t) n;
                        n = take_bytes_as(run, w, reason, from, min_u64(bytes, *first[i]), first[i]);
                }
        if (n >= 0 && (uint64_t) n < bytes && !w->t->unscanned[from]) {
                bytes -= (uint64_t) n;
                n = take_pieces(run, w, PLAN_DEMOTE, reason, from, -1, false, bytes);
                for (int i = 0; i < 2 && n >= 0; i++)
                        if (last[i] && (uint64_t) n < bytes) {
                                bytes -= (uint64_t) n;
                                n = take_bytes_as(run, w, reason, from, min_u64(bytes, *last[i]), last[i]);
                        }
        }
        return n < 0 ? (int) n : 0;
}

/* Splits POOL among N claimants wanting WANT[i] (multiples of a page) in
 * proportion to SHARE[i], nobody above its want; what one cannot use goes
 * to the others. Pages left over by rounding go one at a time, largest
 * share first (then input order). */
static void water_fill(uint64_t pool, const uint64_t *want, const uint64_t *share, size_t n, uint64_t *grant) {
        uint64_t left = pool / PAGE;

        for (size_t i = 0; i < n; i++)
                grant[i] = 0;
        while (left > 0) {
                unsigned __int128 total = 0;
                uint64_t given = 0;
                size_t best = n;

                for (size_t i = 0; i < n; i++)
                        if (grant[i] < want[i] / PAGE) {
                                total += share[i];
                                if (best == n || share[i] > share[best])
                                        best = i;
                        }
                if (best == n)
                        break;
                if (total == 0) {
                        grant[best]++;
                        left--;
                        continue;
                }
                for (size_t i = 0; i < n; i++) {
                        uint64_t g;

                        if (grant[i] >= want[i] / PAGE)
                                continue;
                        g = (uint64_t) ((unsigned __int128) left * share[i] / total);
                        g = min_u64(g, want[i] / PAGE - grant[i]);
                        grant[i] += g;
                        given += g;
                }
                if (given == 0) {
                        grant[best]++;
                        given = 1;
                }
                left -= given;
        }
        for (size_t i = 0; i < n; i++)
                grant[i] *= PAGE;
}

static uint32_t weight_of(const Work *w) {
        return w->t->weight ? w->t->weight : 1;
}

/* Step 1 for tier T, the tenants at DEPTH without nested tenants: each
 * gives up its own pages. */
static int over_max_own(Run *run, int t, int depth) {
        for (size_t k = run->n_ranks; k-- > 0;) {
                size_t *idx = run->idx, m = 0;
                uint64_t budget, slower, pool, total = 0;

                for (size_t i = 0; i < run->n; i++) {
                        Work *w = &run->w[i];
                        PlanHeld *h = &w->res.held_demote;
                        uint64_t need, cand, elig, want, q;

                        if (!w->active || w->depth != depth || w->nested || w->t->class_rank != run->ranks[k] ||
                            w->cur[t] <= w->t->tier_max[t])
                                continue;
                        need = page_up(w->cur[t] - w->t->tier_max[t]);
                        /* a limit is a limit: the warm pages go too once the
                         * cold ones are gone, but only once the tier is fully
                         * scanned: before, pages not seen yet may be colder */
                        if (w->t->byte_only) {
                                cand = elig = need;
                        } else if (w->t->unscanned[t]) {
                                cand = min_u64(need, w->cold_raw[t] + unmapped_first(w, t));
                                elig = min_u64(need, w->cold_elig[t] + unmapped_first(w, t));
                                h->unscanned += need - cand;
                                need = cand;
                        } else {
                                uint64_t any = unmapped_first(w, t) + unmapped_last(w, t);

                                cand = min_u64(need, w->cold_raw[t] + any + w->warm_raw[t]);
                                elig = min_u64(need, w->cold_elig[t] + any + w->warm_elig[t]);
                        }
                        h->no_candidates += need - cand;
                        h->hysteresis += cand - elig;
                        q = chain_avail(run, w, PLAN_DEMOTE);
                        want = min_u64(elig, q);
                        h->quota += elig - want;
                        run->want[m] = want;
                        run->share[m] = weight_of(w);
                        idx[m++] = i;
                        total += want;
                }
                if (total == 0)
                        continue;
                budget = budget_avail(run);
                slower = slower_room(run, t);
                pool = min_u64(budget, slower);
                water_fill(pool, run->want, run->share, m, run->grant);
                for (size_t j = 0; j < m; j++) {
                        Work *w = &run->w[idx[j]];
                        uint64_t short_by = run->want[j] - run->grant[j];
                        /* siblings share their ancestors' buckets */
                        uint64_t g = min_u64(run->grant[j], chain_avail(run, w, PLAN_DEMOTE));
                        int r;

                        if (budget < slower)
                                w->res.held_demote.budget += short_by;
                        else
                                w->res.held_demote.headroom += short_by;
                        w->res.held_demote.quota += run->grant[j] - g;
                        r = demote(run, w, PLAN_REASON_OVER_MAX, t, g);
                        if (r < 0)
                                return r;
                }
        }
        return 0;
}

/* What member X of a subtree may give up on tier T in a limit's round:
 * above its own share of protection, or (BELOW) all of it. */
static uint64_t member_allowance(const Work *x, int t, bool below) {
        if (below)
                return page_down(x->own[t]);
        return x->own[t] > x->prot[t] ? page_down(x->own[t] - x->prot[t]) : 0;
}

/* The first piece of X that a demotion from T takes next (with COLD, of
 * age >= 1), from *CURSOR on (which it advances); NULL: none. */
static const Piece *next_piece(const Work *x, int t, bool cold, size_t *cursor) {
        for (; *cursor < x->n_cold; (*cursor)++) {
                const Piece *p = &x->cold[*cursor];

                if (p->r.tier == t && piece_left(p) > 0 && (!cold || p->r.age > 0))
                        return p;
        }
        return NULL;
}

/* Whether piece P is colder than Q: older, or as old and less accessed. */
static bool colder(const Piece *p, const Piece *q) {
        return p->r.age > q->r.age || (p->r.age == q->r.age && p->r.nr_accesses < q->r.nr_accesses);
}

enum { ROUND_COLD, ROUND_UNMAPPED, ROUND_WARM };

/* Of subtree member X's HAVE bytes without ranges on tier T (COUNTER: the
 * unmapped counter they come from, NULL for a byte-only tenant's), as
 * many as its allowance, the quotas and the budget let go, up to *LEFT,
 * which it decreases. Returns the bytes taken or -ENOMEM. */
static int64_t subtree_bytes(Run *run, Work *x, int t, bool below, uint64_t have, uint64_t *counter, uint64_t *left) {
        uint64_t chunk = min_u64(min_u64(*left, have), member_allowance(x, t, below));
        int64_t n;

        chunk = min_u64(min_u64(chunk, chain_avail(run, x, PLAN_DEMOTE)), budget_avail(run));
        if (chunk == 0)
                return 0;
        n = take_bytes_as(run, x, PLAN_REASON_OVER_MAX, t, chunk, counter);
        if (n > 0)
                *left -= min_u64(*left, (uint64_t) n);
        return n;
}

/* One round of a subtree's limit on tier T for the members MEM[M] of class
 * RANK: up to *LEFT bytes, which it decreases. Returns 0 or -ENOMEM. The
 * accessed pages of the warm round are only taken once the tier of every
 * member is fully scanned (the caller's check): before, the pages not
 * seen yet of one may be colder than those seen accessed of another. */
static int subtree_round(Run *run, const size_t *mem, size_t m, int rank, int t, int round, bool below,
                         uint64_t *left) {
        size_t *cursor = run->cidx;
        int64_t n;

        for (size_t j = 0; j < m; j++)
                cursor[j] = 0;
        /* the bytes without ranges: byte-only tenants' (their cold bytes,
         * then any: a limit needs no heat), or the unmapped ones seen cold
         * (without a sweep: those not classified) */
        for (size_t j = 0; j < m && *left > 0; j++) {
                Work *x = &run->w[mem[j]];

                if (x->t->class_rank != rank)
                        continue;
                if (x->t->byte_only) {
                        uint64_t have = round == ROUND_COLD   ? x->byte_cold[t]
                                        : round == ROUND_WARM ? page_down(x->own[t])
                                                              : 0;

                        n = subtree_bytes(run, x, t, below, have, NULL, left);
                } else if (round == ROUND_UNMAPPED) {
                        n = subtree_bytes(run, x, t, below, x->unmapped_cold[t], &x->unmapped_cold[t], left);
                        if (n >= 0 && !x->t->unmapped_swept)
                                n = subtree_bytes(run, x, t, below, x->unmapped[t], &x->unmapped[t], left);
                } else
                        n = 0;
                if (n < 0)
                        return (int) n;
        }
        if (round == ROUND_UNMAPPED)
                return 0;
        /* the ranges, coldest first across the class's tenants */
        while (*left > 0) {
                const Piece *best = NULL;
                Work *bx = NULL;
                uint64_t chunk;

                for (size_t j = 0; j < m; j++) {
                        Work *x = &run->w[mem[j]];
                        const Piece *p;

                        if (x->t->class_rank != rank || x->t->byte_only || member_allowance(x, t, below) == 0 ||
                            chain_avail(run, x, PLAN_DEMOTE) == 0)
                                continue;
                        p = next_piece(x, t, round == ROUND_COLD, &cursor[j]);
                        if (p && (!best || colder(p, best))) {
                                best = p;
                                bx = x;
                        }
                }
                if (!best)
                        break;
                chunk = min_u64(min_u64(*left, piece_left(best)), member_allowance(bx, t, below));
                chunk = min_u64(min_u64(chunk, chain_avail(run, bx, PLAN_DEMOTE)), budget_avail(run));
                if (chunk == 0)
                        break;
                n = take_pieces(run, bx, PLAN_DEMOTE, PLAN_REASON_OVER_MAX, t, -1, round == ROUND_COLD, chunk);
                if (n < 0)
                        return (int) n;
                if (n == 0)
                        break; /* no room below */
                *left -= min_u64(*left, (uint64_t) n);
        }
        /* after the accessed ranges: the unmapped bytes the sweep did not
         * classify, then those it saw hot */
        for (size_t j = 0; round == ROUND_WARM && j < m && *left > 0; j++) {
                Work *x = &run->w[mem[j]];

                if (x->t->class_rank != rank || x->t->byte_only)
                        continue;
                n = x->t->unmapped_swept ? subtree_bytes(run, x, t, below, x->unmapped[t], &x->unmapped[t], left) : 0;
                if (n >= 0)
                        n = subtree_bytes(run, x, t, below, x->unmapped_hot[t], &x->unmapped_hot[t], left);
                if (n < 0)
                        return (int) n;
        }
        return 0;
}

/* Step 1 for tier T, tenant A with nested tenants: its limit covers its
 * subtree, whose enforced tenants give up their pages (planner.h). */
static int over_max_subtree(Run *run, Work *a, int t) {
        PlanHeld *h = &a->res.held_demote;
        size_t *mem = run->idx, m = 0;
        uint64_t left, hyst = 0, x;
        bool quota = false, covered = true;
        int r;

        if (a->cur[t] <= a->t->tier_max[t])
                return 0;
        left = page_up(a->cur[t] - a->t->tier_max[t]);
        for (size_t i = 0; i < run->n; i++)
                if (run->w[i].active && in_subtree(&run->w[i], a)) {
                        mem[m++] = i;
                        covered = covered && (run->w[i].t->byte_only || !run->w[i].t->unscanned[t]);
                }
        for (int below = 0; below < 2 && left > 0; below++)
                for (int round = ROUND_COLD; round <= ROUND_WARM && left > 0; round++)
                        for (size_t k = run->n_ranks; k-- > 0 && left > 0;) {
                                if (round == ROUND_WARM && !covered)
                                        break;
                                r = subtree_round(run, mem, m, run->ranks[k], t, round, below, &left);
                                if (r < 0)
                                        return r;
                        }
        if (left == 0)
                return 0;
        /* the shortfall, named by the first rule that stopped it */
        if (budget_avail(run) == 0) {
                h->budget += left;
                return 0;
        }
        if (slower_room(run, t) == 0) {
                h->headroom += left;
                return 0;
        }
        for (size_t j = 0; j < m; j++) {
                const Work *w = &run->w[mem[j]];

                quota = quota || (w->own[t] > 0 && chain_avail(run, w, PLAN_DEMOTE) == 0);
                hyst += w->cold_raw[t] - min_u64(w->cold_elig[t], w->cold_raw[t]) + w->warm_raw[t] -
                        min_u64(w->warm_elig[t], w->warm_raw[t]);
        }
        if (quota) {
                h->quota += left;
                return 0;
        }
        if (!covered) {
                h->unscanned += left;
                return 0;
        }
        x = min_u64(left, page_down(hyst));
        h->hysteresis += x;
        h->no_candidates += left - x;
        return 0;
}

/* Step 1, for tier T: deepest tenants first, so that a subtree's limit
 * counts what its nested tenants' own limits already took. */
static int plan_over_max(Run *run, int t) {
        for (int depth = run->max_depth; depth >= 0; depth--) {
                int r = over_max_own(run, t, depth);

                if (r < 0)
                        return r;
                for (size_t i = 0; i < run->n; i++) {
                        Work *w = &run->w[i];

                        /* whatever its own mode: its limit binds its
                         * enforced descendants */
                        if (w->depth != depth || !w->nested || !tenant_planned_mode(w->t))
                                continue;
                        r = over_max_subtree(run, w, t);
                        if (r < 0)
                                return r;
                }
        }
        return 0;
}

/* Step 3 for destination tier D: demotes up to *X bytes of the classes
 * below RANK (lowest first) from D, their cold pages only, or with WARM
 * their warm ones; *X is decreased by what was planned. */
static int make_room_pass(Run *run, int d, int rank, bool warm, uint64_t *x) {
        for (size_t k = run->n_ranks; k-- > 0 && run->ranks[k] > rank && *x > 0;) {
                size_t *idx = run->idx, m = 0;
                uint64_t pool, budget, slower, total = 0;

                for (size_t i = 0; i < run->n; i++) {
                        Work *w = &run->w[i];
                        PlanHeld *h = &w->res.held_demote;
                        uint64_t cand, elig, above, want, q;

                        if (!w->active || w->t->class_rank != run->ranks[k])
                                continue;
                        if (warm && w->t->unscanned[d]) {
                                /* its accessed pages, on a partial picture: not */
                                h->unscanned += min_u64(*x, w->t->byte_only ? w->byte_warm[d]
                                                                            : w->warm_elig[d] + unmapped_last(w, d));
                                continue;
                        }
                        if (w->t->byte_only)
                                cand = elig = warm ? w->byte_warm[d] : w->byte_cold[d];
                        else {
                                /* the unmapped bytes not seen hot go with the
                                 * cold ones, before any accessed page; those
                                 * seen hot with the warm ones */
                                cand = warm ? w->warm_raw[d] + unmapped_last(w, d) : w->cold_raw[d] + unmapped_first(w, d);
                                elig = warm ? w->warm_elig[d] + unmapped_last(w, d)
                                            : w->cold_elig[d] + unmapped_first(w, d);
                        }
                        if (cand == 0)
                                continue;
                        h->hysteresis += cand - elig;
                        /* its own pages, above its own share of protection */
                        above = w->own[d] > w->prot[d] ? page_down(w->own[d] - w->prot[d]) : 0;
                        want = min_u64(elig, above);
                        h->low += elig - want;
                        q = chain_avail(run, w, PLAN_DEMOTE);
                        h->quota += want - min_u64(want, q);
                        want = min_u64(want, q);
                        run->want[m] = want;
                        /* inverse weight: the heavier tenant gives less */
                        run->share[m] = UINT32_MAX / weight_of(w);
                        idx[m++] = i;
                        total += want;
                }
                if (total == 0)
                        continue;
                budget = budget_avail(run);
                slower = slower_room(run, d);
                pool = min_u64(min_u64(*x, budget), slower);
                water_fill(pool, run->want, run->share, m, run->grant);
                for (size_t j = 0; j < m; j++) {
                        Work *w = &run->w[idx[j]];
                        uint64_t g = min_u64(run->grant[j], chain_avail(run, w, PLAN_DEMOTE));
                        int r;

                        w->res.held_demote.quota += run->grant[j] - g;
                        r = demote(run, w, PLAN_REASON_CONTENTION, d, g);
                        if (r < 0)
                                return r;
                        *x -= min_u64(*x, g);
                }
        }
        return 0;
}

/* Step 3: the lower classes' cold pages first (lowest class first), then,
 * if that was not enough, their warm ones (a higher class's hot set beats
 * a lower class's). */
static int make_room(Run *run, int d, int rank, uint64_t x) {
        int r = make_room_pass(run, d, rank, false, &x);

        if (r < 0 || x == 0)
                return r;
        return make_room_pass(run, d, rank, true, &x);
}

/* Step 2's wants (RUN->pwant) for tier D within each ancestor's room
 * under its tierD.max and its promotion bucket: where a subtree's
 * claimants want more than that, it is shared among them by weight.
 * Deepest ancestors first, so that an outer share is not spent on a want
 * an inner limit cuts. */
static void share_subtrees(Run *run, int d) {
        for (int depth = run->max_depth; depth >= 0; depth--)
                for (size_t i = 0; i < run->n; i++) {
                        Work *a = &run->w[i];
                        uint64_t cap, q, pool, total = 0;
                        size_t m = 0;

                        if (a->depth != depth || !a->nested)
                                continue;
                        cap = a->cur[d] < a->t->tier_max[d] ? page_down(a->t->tier_max[d] - a->cur[d]) : 0;
                        q = bucket_avail(run, &a->pq);
                        pool = min_u64(cap, q);
                        for (size_t j = 0; j < run->n; j++)
                                if (run->pwant[j] > 0 && in_subtree(&run->w[j], a)) {
                                        run->want[m] = run->pwant[j];
                                        run->share[m] = weight_of(&run->w[j]);
                                        run->idx[m++] = j;
                                        total += run->pwant[j];
                                }
                        if (total <= pool)
                                continue;
                        water_fill(pool, run->want, run->share, m, run->grant);
                        for (size_t k = 0; k < m; k++) {
                                PlanHeld *h = &run->w[run->idx[k]].res.held_promote;
                                uint64_t short_by = run->want[k] - run->grant[k];

                                if (cap <= q)
                                        h->limit += short_by;
                                else
                                        h->quota += short_by;
                                run->pwant[run->idx[k]] = run->grant[k];
                        }
                }
}

/* Steps 2 and 3, for destination tier D. */
static int plan_promote(Run *run, int d) {
        size_t claimants = 0;

        /* every tenant's want first: whether the tier is contended depends
         * on all of them */
        for (size_t i = 0; i < run->n; i++) {
                Work *w = &run->w[i];
                PlanHeld *h = &w->res.held_promote;
                uint64_t raw = 0, elig = 0, cap, want, q;

                run->pwant[i] = 0;
                if (!w->active)
                        continue;
                if (w->t->byte_only) {
                        for (int s = d + 1; s < run->n_tiers; s++)
                                h->no_candidates += w->byte_hot[s];
                        continue;
                }
                for (int s = d + 1; s < run->n_tiers; s++) {
                        raw += w->hot_raw[s];
                        elig += w->hot_elig[s];
                }
                h->hysteresis += raw - elig;
                cap = chain_cap(w, d);
                want = min_u64(elig, cap);
                h->limit += elig - want;
                q = chain_avail(run, w, PLAN_PROMOTE);
                h->quota += want - min_u64(want, q);
                run->pwant[i] = min_u64(want, q);
        }
        share_subtrees(run, d);
        for (size_t i = 0; i < run->n; i++)
                if (run->pwant[i] > 0)
                        claimants++;

        for (size_t k = 0; k < run->n_ranks; k++) {
                uint64_t *wants = run->cwant;
                size_t *idx = run->cidx, m = 0;
                uint64_t total = 0, rm, budget, pool;
                int r;

                for (size_t i = 0; i < run->n; i++)
                        if (run->w[i].active && run->w[i].t->class_rank == run->ranks[k] && run->pwant[i] > 0) {
                                wants[m] = run->pwant[i];
                                idx[m++] = i;
                                total += run->pwant[i];
                        }
                if (total == 0)
                        continue;
                rm = room(run, d);
                budget = budget_avail(run);
                if (total > rm && budget > rm) {
                        /* each byte of room made costs a demotion and a
                         * promotion: x + (room + x) <= budget */
                        uint64_t x = min_u64(total - rm, page_down((budget - rm) / 2));

                        r = make_room(run, d, run->ranks[k], x);
                        if (r < 0)
                                return r;
                        rm = room(run, d);
                        budget = budget_avail(run);
                }
                pool = min_u64(rm, budget);
                for (size_t j = 0; j < m; j++)
                        run->share[j] = weight_of(&run->w[idx[j]]);
                water_fill(pool, wants, run->share, m, run->grant);
                for (size_t j = 0; j < m; j++) {
                        Work *w = &run->w[idx[j]];
                        uint64_t short_by = wants[j] - run->grant[j], g;
                        int64_t n;

                        if (budget < rm)
                                w->res.held_promote.budget += short_by;
                        else if (claimants > 1)
                                w->res.held_promote.contention += short_by;
                        else
                                w->res.held_promote.headroom += short_by;
                        /* share_subtrees() kept it within its ancestors'
                         * limits and buckets; checked again here */
                        g = min_u64(run->grant[j], chain_cap(w, d));
                        w->res.held_promote.limit += run->grant[j] - g;
                        short_by = g;
                        g = min_u64(g, chain_avail(run, w, PLAN_PROMOTE));
                        w->res.held_promote.quota += short_by - g;
                        if (g == 0)
                                continue;
                        n = take_pieces(run, w, PLAN_PROMOTE, PLAN_REASON_PROMOTE_HOT, -1, d, false, g);
                        if (n < 0)
                                return (int) n;
                }
        }
        return 0;
}

/* Whether slow page H is strictly hotter than fast page C: younger, or
 * as young and more accessed. */
static bool hotter(const ScanRange *h, const ScanRange *c) {
        return h->age < c->age || (h->age == c->age && h->nr_accesses > c->nr_accesses);
}

/* Step 4's pairing: bytes, at most LIMIT, of W's cold pieces on D
 * (coldest first) that meet a strictly hotter piece of W's hot ones on a
 * slower tier (hottest first), walking both lists as take_pieces() will. */
static uint64_t swap_pairable(const Work *w, int d, uint64_t limit) {
        size_t i = 0, j = 0;
        uint64_t ci = 0, hj = 0, total = 0; /* bytes already paired in piece i / j */

        while (total < limit) {
                uint64_t chunk;

                while (i < w->n_cold &&
                       (w->cold[i].r.tier != d || w->cold[i].r.age == 0 || ci >= piece_left(&w->cold[i]))) {
                        i++;
                        ci = 0;
                }
                while (j < w->n_hot && (w->hot[j].r.tier <= d || hj >= piece_left(&w->hot[j]))) {
                        j++;
                        hj = 0;
                }
                if (i >= w->n_cold || j >= w->n_hot || !hotter(&w->hot[j].r, &w->cold[i].r))
                        break;
                chunk = min_u64(limit - total, min_u64(piece_left(&w->cold[i]) - ci, piece_left(&w->hot[j]) - hj));
                ci += chunk;
                hj += chunk;
                total += chunk;
        }
        return total;
}

/* Takes up to BYTES off what step 2 said it held back from promotion
 * (limit, then headroom, then contention): a swap planned them after all. */
static void unhold_promote(PlanHeld *h, uint64_t bytes) {
        uint64_t *f[] = { &h->limit, &h->headroom, &h->contention };

        for (size_t k = 0; k < ELEMENTSOF(f) && bytes > 0; k++) {
                uint64_t x = min_u64(bytes, *f[k]);

                *f[k] -= x;
                bytes -= x;
        }
}

/* Step 4, for destination tier D. */
static int plan_swap(Run *run, int d) {
        for (size_t k = 0; k < run->n_ranks; k++)
                for (size_t i = 0; i < run->n; i++) {
                        Work *w = &run->w[i];
                        uint64_t x;
                        int64_t out, in;

                        if (!w->active || w->t->byte_only || w->t->class_rank != run->ranks[k])
                                continue;
                        x = min_u64(chain_avail(run, w, PLAN_PROMOTE), chain_avail(run, w, PLAN_DEMOTE));
                        x = min_u64(x, page_down(budget_avail(run) / 2));
                        x = min_u64(x, slower_room(run, d));
                        x = min_u64(x, page_down(w->cur[d])); /* it cannot give more than it has */
                        if (x == 0)
                                continue;
                        x = swap_pairable(w, d, x);
                        if (x == 0)
                                continue;
                        out = take_pieces(run, w, PLAN_DEMOTE, PLAN_REASON_SWAP, d, -1, true, x);
                        if (out <= 0) {
                                if (out < 0)
                                        return (int) out;
                                continue;
                        }
                        /* never more in than out: the tenant does not grow on D */
                        in = take_pieces(run, w, PLAN_PROMOTE, PLAN_REASON_SWAP, -1, d, false, (uint64_t) out);
                        if (in < 0)
                                return (int) in;
                        unhold_promote(&w->res.held_promote, (uint64_t) in);
                }
        return 0;
}

typedef struct PieceVec {
        Piece *p;
        size_t n, alloc;
} PieceVec;

static int piece_push(PieceVec *v, const ScanRange *r) {
        if (v->n == v->alloc) {
                size_t n = v->alloc ? v->alloc * 2 : 16;
                Piece *np = realloc(v->p, n * sizeof(*np));

                if (!np)
                        return -ENOMEM;
                v->p = np;
                v->alloc = n;
        }
        v->p[v->n++] = (Piece) { .r = *r };
        return 0;
}

/* Adds candidate R to V as the pieces hysteresis does not block (all of
 * it with FREE: a move the next observation contradicted). */
static int add_pieces(Run *run, Work *w, const ScanRange *r, PlanDirection dir, bool free, PieceVec *v) {
        const PlanInput *in = run->in;
        const HysteresisTable *t = in->hysteresis;
        uint64_t s = page_up(r->start), e = page_down(r->end), at;
        uint64_t *raw = dir == PLAN_PROMOTE ? w->hot_raw : r->age > 0 ? w->cold_raw : w->warm_raw;
        uint64_t *elig = dir == PLAN_PROMOTE ? w->hot_elig : r->age > 0 ? w->cold_elig : w->warm_elig;
        size_t nb = 0;
        ScanRange a = *r;
        int k;

        if (r->tier < 0 || r->tier >= run->n_tiers || s >= e)
                return 0; /* unknown tier: never moved */
        if (dir == PLAN_PROMOTE ? r->tier == 0 : r->tier == run->n_tiers - 1)
                return 0; /* nowhere to go */
        a.start = s;
        a.end = e;
        raw[r->tier] += e - s;
        if (t && in->hysteresis_ms > 0 && !free)
                for (size_t i = 0; i < t->n; i++) {
                        const HysteresisEntry *he = hysteresis_at(t, i);

                        if (entry_blocks(he, &a, dir, in->now_ms, in->hysteresis_ms))
                                run->scratch[nb++] = *he;
                }
        /* blocked intervals by start (few: insertion sort), then the gaps */
        for (size_t i = 1; i < nb; i++)
                for (size_t j = i; j > 0 && run->scratch[j - 1].start > run->scratch[j].start; j--) {
                        HysteresisEntry tmp = run->scratch[j];

                        run->scratch[j] = run->scratch[j - 1];
                        run->scratch[j - 1] = tmp;
                }
        at = s;
        for (size_t i = 0; i <= nb; i++) {
                uint64_t gap_end = i < nb ? min_u64(run->scratch[i].start, e) : e;

                if (gap_end > at) {
                        ScanRange piece = a;

                        piece.start = at;
                        piece.end = gap_end;
                        k = piece_push(v, &piece);
                        if (k < 0)
                                return k;
                        elig[r->tier] += gap_end - at;
                }
                if (i < nb && run->scratch[i].end > at)
                        at = run->scratch[i].end;
        }
        return 0;
}

/* The pieces of C, then of C2 (may be NULL), in order; the first N_FREE
 * of C free of hysteresis. */
static int build_pieces(Run *run, Work *w, const ScanRange *c, size_t nc, const ScanRange *c2, size_t nc2,
                        size_t n_free, PlanDirection dir, Piece **ret, size_t *ret_n) {
        PieceVec v = {};
        int r;

        for (size_t i = 0; i < nc + nc2; i++) {
                r = add_pieces(run, w, i < nc ? &c[i] : &c2[i - nc], dir, i < n_free, &v);
                if (r < 0) {
                        free(v.p);
                        return r;
                }
        }
        *ret = v.p;
        *ret_n = v.n;
        return 0;
}

static void work_clear(Work *w) {
        free(w->cold);
        free(w->hot);
        free(w->res.moves);
        *w = (Work) {};
}

static void run_clear(Run *run) {
        for (size_t i = 0; i < run->n; i++)
                work_clear(&run->w[i]);
        free(run->w);
        free(run->ranks);
        free(run->want);
        free(run->grant);
        free(run->share);
        free(run->pwant);
        free(run->cwant);
        free(run->idx);
        free(run->cidx);
        free(run->scratch);
        *run = (Run) {};
}

static int cmp_int(const void *a, const void *b) {
        int x = *(const int *) a, y = *(const int *) b;

        return (x > y) - (x < y);
}

static bool tenant_enforced(const PlanTenant *t) {
        return t->mode == MODE_ENFORCE;
}

/* One pass: with SHADOW, the observed tenants take part as if enforced. */
/* Tenant T's work: its copies of the quotas and what it may move. */
static int work_init(Run *run, Work *w, const PlanTenant *t, bool shadow) {
        const PlanInput *in = run->in;
        int r;

        w->t = t;
        w->res.cgroup_id = t->cgroup_id;
        w->res.path = t->path;
        w->res.ignored = !tenant_planned_mode(t);
        w->res.observe_only = t->mode == MODE_OBSERVE;
        w->active = tenant_enforced(t) || (shadow && t->mode == MODE_OBSERVE);
        memcpy(w->cur, t->current, sizeof(w->cur));
        memcpy(w->own, t->current, sizeof(w->own)); /* less its nested tenants', in link_tenants() */
        if (t->promote_quota) {
                w->pq = *t->promote_quota;
                token_bucket_refill(&w->pq, in->now_ms);
        } else
                token_bucket_init_unlimited(&w->pq);
        if (t->demote_quota) {
                w->dq = *t->demote_quota;
                token_bucket_refill(&w->dq, in->now_ms);
        } else
                token_bucket_init_unlimited(&w->dq);
        if (!w->active || !t->heat)
                return 0;
        for (int tier = 0; tier + 1 < in->n_tiers && !t->byte_only; tier++) {
                uint64_t hot = min_u64(t->unmapped_hot[tier], t->unmapped[tier]);
                uint64_t cold = t->unmapped_swept ? min_u64(t->unmapped_cold[tier], t->unmapped[tier] - hot) : 0;

                w->unmapped_hot[tier] = page_down(hot);
                w->unmapped_cold[tier] = page_down(cold);
                w->unmapped[tier] = page_down(t->unmapped[tier] - hot - cold);
        }
        if (t->byte_only) {
                for (int tier = 0; tier < in->n_tiers; tier++) {
                        uint64_t cold = 0;

                        for (int age = 1; age <= HEAT_MAX_AGE; age++)
                                cold += t->heat->heat.bytes[tier][age];
                        w->byte_cold[tier] = tier < in->n_tiers - 1 ? page_down(cold) : 0;
                        w->byte_warm[tier] = tier < in->n_tiers - 1 ? page_down(t->heat->heat.bytes[tier][0]) : 0;
                        w->byte_hot[tier] = tier > 0 ? page_down(t->heat->heat.bytes[tier][0]) : 0;
                }
                return 0;
        }
        /* warm candidates are accessed pages: age 0 whatever a backend put
         * there */
        r = build_pieces(run, w, t->heat->cold, t->heat->n_cold, t->heat->warm, t->heat->n_warm, 0, PLAN_DEMOTE,
                         &w->cold, &w->n_cold);
        if (r < 0)
                return r;
        return build_pieces(run, w, t->heat->hot, t->heat->n_hot, NULL, 0, t->n_hot_contradicted, PLAN_PROMOTE,
                            &w->hot, &w->n_hot);
}

/* The hierarchy: parents, depths, own bytes, shares of protection. */
static int link_tenants(Run *run) {
        const PlanInput *in = run->in;
        size_t n = in->n_tenants ? in->n_tenants : 1;
        _cleanup_free_ size_t *parent = calloc(n, sizeof(*parent));
        _cleanup_free_ uint64_t *usage = calloc(n, sizeof(*usage)), *low = calloc(n, sizeof(*low)),
                                *sub = calloc(n, sizeof(*sub)), *own = calloc(n, sizeof(*own));
        int r;

        if (!parent || !usage || !low || !sub || !own)
                return -ENOMEM;
        for (size_t i = 0; i < in->n_tenants; i++) {
                Work *w = &run->w[i], *pw;

                parent[i] = SIZE_MAX;
                if (!in->tenants[i].parent)
                        continue;
                parent[i] = (size_t) (in->tenants[i].parent - in->tenants);
                pw = &run->w[parent[i]];
                w->parent = pw;
                w->depth = pw->depth + 1;
                if (w->depth > run->max_depth)
                        run->max_depth = w->depth;
                pw->nested = true;
                for (int t = 0; t < run->n_tiers; t++)
                        pw->own[t] -= min_u64(w->cur[t], pw->own[t]);
        }
        for (int t = 0; t < run->n_tiers; t++) {
                for (size_t i = 0; i < in->n_tenants; i++) {
                        usage[i] = in->tenants[i].current[t];
                        low[i] = in->tenants[i].tier_low[t];
                }
                r = plan_share_low(in->n_tenants, parent, usage, low, sub, own);
                if (r < 0)
                        return r;
                for (size_t i = 0; i < in->n_tenants; i++) {
                        run->w[i].prot[t] = own[i];
                        run->w[i].res.tier_low[t] = sub[i];
                }
        }
        return 0;
}

int plan_share_low(size_t n, const size_t *parent, const uint64_t *usage, const uint64_t *low, uint64_t *ret_subtree,
                   uint64_t *ret_own) {
        _cleanup_free_ uint64_t *own_use = calloc(n ? n : 1, sizeof(*own_use)),
                                *claims = calloc(n ? n : 1, sizeof(*claims));

        if (!own_use || !claims)
                return -ENOMEM;
        for (size_t i = 0; i < n; i++)
                own_use[i] = usage[i];
        /* the claims on each parent: its nested tenants', then its own
         * processes' (their usage) */
        for (size_t i = 0; i < n; i++)
                if (parent[i] != SIZE_MAX) {
                        size_t p = parent[i];

                        own_use[p] -= min_u64(usage[i], own_use[p]);
                        claims[p] = sat_add(claims[p], min_u64(low[i], usage[i]));
                }
        for (size_t i = 0; i < n; i++)
                claims[i] = sat_add(claims[i], own_use[i]);
        for (size_t i = 0; i < n; i++) {
                size_t p = parent[i];
                uint64_t e;

                if (p == SIZE_MAX)
                        e = low[i];
                else {
                        uint64_t claim = min_u64(low[i], usage[i]);

                        e = claims[p] <= ret_subtree[p]
                                    ? claim
                                    : (uint64_t) ((unsigned __int128) ret_subtree[p] * claim / claims[p]);
                }
                ret_subtree[i] = e;
                if (!ret_own)
                        continue;
                if (claims[i] <= e)
                        ret_own[i] = e - (claims[i] - own_use[i]);
                else
                        ret_own[i] = (uint64_t) ((unsigned __int128) e * own_use[i] / claims[i]);
        }
        return 0;
}

/* Step 5 (PlanInput.unmapped_promotions): unmapped bytes seen hot on
 * slower tiers to tier 0, as bytes (the DAMOS schemes find the pages),
 * classes highest first, within the tenant's tier0.max, tier 0's room and
 * the quotas. A tenant its limit holds back gives up its unmapped bytes
 * seen cold on tier 0 for them, as many (a swap: its tier-0 bytes do not
 * grow). */
static int plan_unmapped(Run *run) {
        const PlanInput *in = run->in;

        for (size_t k = 0; k < run->n_ranks; k++)
                for (size_t i = 0; i < run->n; i++) {
                        Work *w = &run->w[i];
                        uint64_t want = 0, under, x;

                        if (!w->active || w->t->byte_only || w->t->class_rank != run->ranks[k])
                                continue;
                        for (int t = 1; t < run->n_tiers; t++)
                                want += page_down(w->t->unmapped_hot[t]);
                        if (want == 0)
                                continue;
                        /* its own tier0.max and its ancestors', each over
                         * its subtree, and their buckets (planner.h) */
                        under = chain_cap(w, 0);
                        if (under < want && w->unmapped_cold[0] > 0) {
                                int64_t out;

                                x = min_u64(want - under, w->unmapped_cold[0]);
                                x = min_u64(x, min_u64(chain_avail(run, w, PLAN_DEMOTE),
                                                       chain_avail(run, w, PLAN_PROMOTE)));
                                x = min_u64(x, page_down(budget_avail(run) / 2));
                                out = take_bytes_as(run, w, PLAN_REASON_SWAP, 0, x, &w->unmapped_cold[0]);
                                if (out < 0)
                                        return (int) out;
                                under += (uint64_t) out;
                        }
                        x = min_u64(want, under);
                        x = min_u64(x, room(run, 0));
                        x = min_u64(x, min_u64(chain_avail(run, w, PLAN_PROMOTE), budget_avail(run)));
                        if (x == 0)
                                continue;
                        run->free[0] -= min_u64(x, run->free[0]);
                        for (int t = 1, left = 1; t < run->n_tiers && left; t++) {
                                uint64_t from = min_u64(x, w->cur[t]);

                                for (Work *a = w; a; a = a->parent)
                                        a->cur[t] -= min_u64(from, a->cur[t]);
                                w->own[t] -= min_u64(from, w->own[t]);
                                run->free[t] += from;
                                left = from < x;
                        }
                        w->own[0] += x;
                        for (Work *a = w; a; a = a->parent) {
                                a->cur[0] += x;
                                (void) token_bucket_take(&a->pq, x, in->now_ms);
                        }
                        (void) token_bucket_take(&run->budget, x, in->now_ms);
                        run->budget_used += x;
                        w->res.unmapped_promote_bytes += x;
                }
        return 0;
}

static int run_plan(const PlanInput *in, bool shadow, Run *run) {
        size_t nh = in->hysteresis ? in->hysteresis->n : 0, n = in->n_tenants ? in->n_tenants : 1;
        int r;

        *run = (Run) { .in = in, .n_tiers = in->n_tiers, .n = in->n_tenants };
        run->w = calloc(n, sizeof(*run->w));
        run->ranks = calloc(n, sizeof(*run->ranks));
        run->want = calloc(n, sizeof(*run->want));
        run->grant = calloc(n, sizeof(*run->grant));
        run->share = calloc(n, sizeof(*run->share));
        run->pwant = calloc(n, sizeof(*run->pwant));
        run->cwant = calloc(n, sizeof(*run->cwant));
        run->idx = calloc(n, sizeof(*run->idx));
        run->cidx = calloc(n, sizeof(*run->cidx));
        run->scratch = calloc(nh ? nh : 1, sizeof(*run->scratch));
        if (!run->w || !run->ranks || !run->want || !run->grant || !run->share || !run->pwant || !run->cwant ||
            !run->idx || !run->cidx || !run->scratch)
                return -ENOMEM;

        for (int t = 0; t < in->n_tiers; t++) {
                const PlanTier *pt = &in->tiers[t];

                run->free[t] = min_u64(pt->free, pt->capacity);
                for (int id = 0; id < PLAN_MAX_NODES; id++)
                        if (pt->nodes & (UINT64_C(1) << id))
                                run->node_free[id] = pt->node_free[id];
        }
        if (in->budget) {
                run->budget = *in->budget;
                token_bucket_refill(&run->budget, in->now_ms);
        } else
                token_bucket_init_unlimited(&run->budget);

        for (size_t i = 0; i < in->n_tenants; i++) {
                r = work_init(run, &run->w[i], &in->tenants[i], shadow);
                if (r < 0)
                        return r;
        }
        r = link_tenants(run);
        if (r < 0)
                return r;

        for (size_t i = 0; i < in->n_tenants; i++) {
                bool seen = false;

                if (!run->w[i].active)
                        continue;
                for (size_t k = 0; k < run->n_ranks && !seen; k++)
                        seen = run->ranks[k] == in->tenants[i].class_rank;
                if (!seen)
                        run->ranks[run->n_ranks++] = in->tenants[i].class_rank;
        }
        qsort_safe(run->ranks, run->n_ranks, sizeof(*run->ranks), cmp_int);

        for (int t = 0; t + 1 < in->n_tiers; t++) {
                r = plan_over_max(run, t);
                if (r < 0)
                        return r;
        }
        for (int d = 0; d + 1 < in->n_tiers; d++) {
                r = plan_promote(run, d);
                if (r < 0)
                        return r;
                r = plan_swap(run, d);
                if (r < 0)
                        return r;
        }
        if (in->unmapped_promotions && in->n_tiers > 1)
                return plan_unmapped(run);
        return 0;
}

/* Demotions first, each direction in planning order. */
static int order_moves(PlanTenantResult *res) {
        PlanMove *sorted;
        size_t k = 0;

        if (res->n_moves < 2)
                return 0;
        sorted = malloc(res->n_moves * sizeof(*sorted));
        if (!sorted)
                return -ENOMEM;
        for (int dir = PLAN_DEMOTE; dir <= PLAN_PROMOTE; dir++)
                for (size_t i = 0; i < res->n_moves; i++)
                        if (res->moves[i].direction == dir)
                                sorted[k++] = res->moves[i];
        free(res->moves);
        res->moves = sorted;
        return 0;
}

/* Moves the results of the tenants KEEP selects from RUN into P. */
static int harvest(Run *run, bool (*keep)(const PlanTenant *t), Plan *p) {
        for (size_t i = 0; i < run->n; i++) {
                Work *w = &run->w[i];
                int r;

                if (!keep(w->t))
                        continue;
                r = order_moves(&w->res);
                if (r < 0)
                        return r;
                free(p->tenants[i].moves);
                p->tenants[i] = w->res;
                w->res.moves = NULL;
                w->res.n_moves = 0;
        }
        return 0;
}

static bool tenant_observed(const PlanTenant *t) {
        return t->mode == MODE_OBSERVE;
}

static bool tenant_not_observed(const PlanTenant *t) {
        return t->mode != MODE_OBSERVE;
}

static void plan_byte_promotions(Run *run, Plan *p);

int plan_compute(const PlanInput *in, Plan *ret) {
        Plan p = {};
        Run run = {};
        bool any_observed = false;
        int r;

        if (in->n_tiers < 1 || in->n_tiers > PLAN_MAX_TIERS || (in->n_tenants > 0 && !in->tenants))
                return -EINVAL;
        for (size_t i = 0; i < in->n_tenants; i++) {
                const PlanTenant *par = in->tenants[i].parent;

                if (in->tenants[i].class_rank < 0)
                        return -EINVAL;
                /* a parent is an earlier element of the same array */
                if (par && (par < in->tenants || par >= in->tenants + i))
                        return -EINVAL;
                any_observed = any_observed || tenant_observed(&in->tenants[i]);
        }

        p.n_tenants = in->n_tenants;
        p.tenants = calloc(in->n_tenants ? in->n_tenants : 1, sizeof(*p.tenants));
        if (!p.tenants)
                return -ENOMEM;

        if (any_observed) {
                r = run_plan(in, true, &run);
                if (r >= 0)
                        r = harvest(&run, tenant_observed, &p);
                run_clear(&run);
                if (r < 0)
                        goto fail;
        }

        r = run_plan(in, false, &run);
        if (r >= 0)
                r = harvest(&run, tenant_not_observed, &p);
        if (r < 0) {
                run_clear(&run);
                goto fail;
        }
        for (int t = 0; t < in->n_tiers; t++) {
                const PlanTier *pt = &in->tiers[t];
                uint64_t f = min_u64(pt->free, pt->capacity);

                p.room_before[t] = f > pt->headroom ? page_down(f - pt->headroom) : 0;
                p.room_after[t] = room(&run, t);
        }
        /* the real pass's charges, for the caller to commit */
        for (size_t i = 0; i < in->n_tenants; i++)
                if (tenant_enforced(&in->tenants[i])) {
                        p.tenants[i].charge_promote = p.tenants[i].promote_bytes + p.tenants[i].unmapped_promote_bytes;
                        p.tenants[i].charge_demote = p.tenants[i].demote_bytes;
                }
        if (in->byte_promotions)
                plan_byte_promotions(&run, &p);
        p.budget_used = run.budget_used;
        run_clear(&run);
        *ret = p;
        return 0;

fail:
        plan_done(&p);
        return r;
}

/* PlanInput.byte_promotions: byte-only tenants have no candidates to
 * promote and their hot bytes on slower tiers are held back; a mover that
 * finds the pages itself promotes them as bytes, within the tenant's
 * tier-0 limit, tier 0's room after the plan and the quotas left, tenants
 * in input order. */
static void plan_byte_promotions(Run *run, Plan *p) {
        const PlanInput *in = run->in;
        uint64_t room = p->room_after[0];

        for (size_t k = 0; k < in->n_tenants; k++) {
                const PlanTenant *pt = &in->tenants[k];
                PlanTenantResult *res = &p->tenants[k];
                Work *w = &run->w[k];
                uint64_t want = res->held_promote.no_candidates, cur = pt->current[0] + res->promote_bytes;

                if (!tenant_enforced(pt) || !pt->byte_only || want == 0)
                        continue;
                if (pt->tier_max[0] != UINT64_MAX)
                        want = cur >= pt->tier_max[0] ? 0 : min_u64(want, pt->tier_max[0] - cur);
                /* within its ancestors' limits (their bytes after the
                 * plan) and buckets */
                if (w->parent) {
                        want = min_u64(want, chain_cap(w->parent, 0));
                        want = min_u64(want, chain_avail(run, w->parent, PLAN_PROMOTE));
                }
                want = min_u64(want, room) / PLAN_PAGE * PLAN_PAGE;
                want = quota_take(&w->pq, &run->budget, want, PLAN_PAGE, in->now_ms);
                for (Work *x = w->parent; x; x = x->parent) {
                        x->cur[0] += want;
                        (void) token_bucket_take(&x->pq, want, in->now_ms);
                }
                room -= want;
                run->budget_used += want;
                res->byte_promote_bytes = want;
                res->charge_promote += want;
        }
}

void plan_done(Plan *p) {
        if (!p)
                return;
        for (size_t i = 0; i < p->n_tenants; i++)
                free(p->tenants[i].moves);
        free(p->tenants);
        *p = (Plan) {};
}
