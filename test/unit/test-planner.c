/* SPDX-License-Identifier: MIT */
/* The planner (core/planner.c): every rule with exact expected bytes,
 * ranges, targets, reasons and what held the rest back. Sizes are in
 * pages (P = 4 KiB) unless a case is about rounding. */
#include <check.h>

#include "unit.h"

#include "planner.h"
#include "util.h"

#define P PLAN_PAGE
#define NONE UINT64_MAX
#define T0 UINT64_C(0x10000000)  /* addresses of tier-0 candidates */
#define T1 UINT64_C(0x20000000)  /* tier 1 */
#define T2 UINT64_C(0x30000000)  /* tier 2 */

/* plan_compute(), then what the ledger does with the plan's charges
 * (core/ledger.c, core/period.c): each tenant's buckets and the budget
 * refilled to now and charged, and its ancestors' buckets charged with the
 * same bytes (not the budget again). The tests hold the buckets
 * themselves, as the ledger does. */
static int plan_and_commit(const PlanInput *in, Plan *p) {
        int r = plan_compute(in, p);

        if (r < 0)
                return r;
        for (size_t i = 0; i < in->n_tenants; i++) {
                TokenBucket *pq = (TokenBucket *) in->tenants[i].promote_quota;
                TokenBucket *dq = (TokenBucket *) in->tenants[i].demote_quota;

                if (pq)
                        (void) token_bucket_take(pq, p->tenants[i].charge_promote, in->now_ms);
                if (dq)
                        (void) token_bucket_take(dq, p->tenants[i].charge_demote, in->now_ms);
                for (const PlanTenant *a = in->tenants[i].parent; a; a = a->parent) {
                        if (a->promote_quota)
                                (void) token_bucket_take((TokenBucket *) a->promote_quota,
                                                         p->tenants[i].charge_promote, in->now_ms);
                        if (a->demote_quota)
                                (void) token_bucket_take((TokenBucket *) a->demote_quota, p->tenants[i].charge_demote,
                                                         in->now_ms);
                }
                if (in->budget)
                        (void) token_bucket_take((TokenBucket *) in->budget,
                                                 p->tenants[i].charge_promote + p->tenants[i].charge_demote,
                                                 in->now_ms);
        }
        if (in->budget)
                token_bucket_refill((TokenBucket *) in->budget, in->now_ms);
        return 0;
}

static ScanRange R(int tier, int age, pid_t pid, uint64_t start, uint64_t pages) {
        return (ScanRange) { .kind = SCAN_RANGE_VADDR, .age = (uint8_t) age, .tier = (int8_t) tier,
                             .node = (int8_t) tier, .pid = pid, .start = start, .end = start + pages * P,
                             .nr_accesses = age == 0 };
}

/* N tiers, tier t = node t, every tier 1 GiB and all free, no headroom. */
static void input_init(PlanInput *in, int n_tiers) {
        *in = (PlanInput) { .n_tiers = n_tiers, .now_ms = 100000 };
        for (int t = 0; t < n_tiers; t++)
                in->tiers[t] = (PlanTier) { .nodes = UINT64_C(1) << t, .capacity = 262144 * P, .free = 262144 * P };
}

static void tenant_init(PlanTenant *t, uint64_t id, int rank, uint32_t weight, TenantHeat *heat) {
        *t = (PlanTenant) { .cgroup_id = id, .path = "t", .mode = MODE_ENFORCE, .class_rank = rank,
                            .weight = weight, .heat = heat };
        for (int i = 0; i < PLAN_MAX_TIERS; i++)
                t->tier_max[i] = NONE;
}

static const PlanMove *move(const Plan *p, size_t tenant, size_t i) {
        ck_assert_uint_lt(tenant, p->n_tenants);
        ck_assert_uint_lt(i, p->tenants[tenant].n_moves);
        return &p->tenants[tenant].moves[i];
}

static void assert_move(const PlanMove *m, PlanDirection dir, PlanReason reason, int from, int to,
                        uint64_t start, uint64_t pages) {
        ck_assert_int_eq(m->direction, dir);
        ck_assert_int_eq(m->reason, reason);
        ck_assert(m->has_range);
        ck_assert_int_eq(m->from_tier, from);
        ck_assert_int_eq(m->to_tier, to);
        ck_assert_int_eq(m->to_node, to);
        ck_assert_uint_eq(m->bytes, pages * P);
        ck_assert_uint_eq(m->range.start, start);
        ck_assert_uint_eq(m->range.end, start + pages * P);
        ck_assert_int_eq(m->range.tier, from);
}

static bool held_zero(const PlanHeld *h) {
        return !h->no_candidates && !h->hysteresis && !h->limit && !h->low && !h->quota && !h->budget &&
               !h->headroom && !h->contention;
}

START_TEST(test_plan_over_max_coldest_first_split) {
        /* 100 pages on tier 0, tier0.max 60: the 40 coldest go, the second
         * candidate split after 10 pages */
        ScanRange cold[] = { R(0, 15, 7, T0, 30), R(0, 5, 7, T0 + 0x100000, 30), R(0, 1, 7, T0 + 0x200000, 20) };
        TenantHeat h = { .cgroup_id = 1, .cold = cold, .n_cold = 3 };
        PlanTenant t;
        PlanInput in;
        Plan p;

        input_init(&in, 2);
        tenant_init(&t, 1, 2, 100, &h);
        t.current[0] = 100 * P;
        t.tier_max[0] = 60 * P;
        in.tenants = &t;
        in.n_tenants = 1;
        ck_assert_int_eq(plan_and_commit(&in, &p), 0);
        ck_assert_uint_eq(p.n_tenants, 1);
        ck_assert_uint_eq(p.tenants[0].cgroup_id, 1);
        ck_assert_uint_eq(p.tenants[0].demote_bytes, 40 * P);
        ck_assert_uint_eq(p.tenants[0].demote_from[0], 40 * P);
        ck_assert_uint_eq(p.tenants[0].promote_bytes, 0);
        ck_assert_uint_eq(p.tenants[0].by_reason[PLAN_REASON_OVER_MAX], 40 * P);
        ck_assert_uint_eq(p.tenants[0].reasons, 1u << PLAN_REASON_OVER_MAX);
        ck_assert(!p.tenants[0].observe_only && !p.tenants[0].ignored);
        ck_assert_uint_eq(p.tenants[0].n_moves, 2);
        assert_move(move(&p, 0, 0), PLAN_DEMOTE, PLAN_REASON_OVER_MAX, 0, 1, T0, 30);
        assert_move(move(&p, 0, 1), PLAN_DEMOTE, PLAN_REASON_OVER_MAX, 0, 1, T0 + 0x100000, 10);
        ck_assert_int_eq(move(&p, 0, 1)->range.age, 5);
        ck_assert_int_eq(move(&p, 0, 1)->range.pid, 7);
        ck_assert(held_zero(&p.tenants[0].held_demote));
        ck_assert_uint_eq(p.budget_used, 40 * P);
        ck_assert_uint_eq(p.room_after[0], p.room_before[0] + 40 * P);
        ck_assert_uint_eq(p.room_after[1], p.room_before[1] - 40 * P);
        plan_done(&p);

        /* a limit that is not a page multiple: rounded up, so the tenant
         * ends at or under it */
        t.tier_max[0] = 60 * P - 100;
        ck_assert_int_eq(plan_and_commit(&in, &p), 0);
        ck_assert_uint_eq(p.tenants[0].demote_bytes, 41 * P);
        plan_done(&p);
}
END_TEST

START_TEST(test_plan_zero_capacity) {
        /* a fast tier of capacity 0 (whatever "free" says) takes nothing;
         * a slow tier of capacity 0 takes no demotion */
        ScanRange hot[] = { R(1, 0, 7, T1, 10) };
        ScanRange cold[] = { R(0, 3, 7, T0, 10) };
        TenantHeat h = { .hot = hot, .n_hot = 1, .cold = cold, .n_cold = 1 };
        PlanTenant t;
        PlanInput in;
        Plan p;

        input_init(&in, 2);
        in.tiers[0].capacity = 0;
        tenant_init(&t, 1, 2, 100, &h);
        t.current[1] = 10 * P;
        in.tenants = &t;
        in.n_tenants = 1;
        ck_assert_int_eq(plan_and_commit(&in, &p), 0);
        ck_assert_uint_eq(p.room_before[0], 0);
        ck_assert_uint_eq(p.tenants[0].promote_bytes, 0);
        ck_assert_uint_eq(p.tenants[0].n_moves, 0);
        ck_assert_uint_eq(p.tenants[0].held_promote.headroom, 10 * P);
        plan_done(&p);

        input_init(&in, 2);
        in.tiers[1].capacity = 0;
        in.tenants = &t;
        in.n_tenants = 1;
        t.current[0] = 10 * P;
        t.tier_max[0] = 0;
        ck_assert_int_eq(plan_and_commit(&in, &p), 0);
        ck_assert_uint_eq(p.tenants[0].demote_bytes, 0);
        ck_assert_uint_eq(p.tenants[0].promote_bytes, 0);
        ck_assert_uint_eq(p.tenants[0].held_demote.headroom, 10 * P);
        ck_assert_uint_eq(p.tenants[0].held_promote.limit, 10 * P); /* tier0.max 0 */
        ck_assert_uint_eq(p.budget_used, 0);
        plan_done(&p);
}
END_TEST

START_TEST(test_plan_all_tenants_over_limit) {
        /* three classes, each over tier0.max: each demotes exactly its
         * excess, and no one promotes (their hot pages would pass the
         * limit) */
        ScanRange c0[] = { R(0, 9, 10, T0, 50) }, c1[] = { R(0, 9, 11, T0, 50) }, c2[] = { R(0, 9, 12, T0, 50) };
        ScanRange hot[] = { R(1, 0, 10, T1, 8) };
        TenantHeat h[3] = { { .cold = c0, .n_cold = 1, .hot = hot, .n_hot = 1 }, { .cold = c1, .n_cold = 1 },
                            { .cold = c2, .n_cold = 1 } };
        PlanTenant t[3];
        PlanInput in;
        Plan p;

        input_init(&in, 2);
        for (int i = 0; i < 3; i++) {
                tenant_init(&t[i], (uint64_t) i + 1, i, 100, &h[i]);
                t[i].current[0] = 50 * P;
                t[i].tier_max[0] = (uint64_t) (10 * (i + 1)) * P;
        }
        in.tenants = t;
        in.n_tenants = 3;
        ck_assert_int_eq(plan_and_commit(&in, &p), 0);
        /* the first one, at its limit after the demotion, then swaps 8
         * more of its cold pages for its 8 hot ones */
        ck_assert_uint_eq(p.tenants[0].demote_bytes, 48 * P);
        ck_assert_uint_eq(p.tenants[0].by_reason[PLAN_REASON_OVER_MAX], 40 * P);
        ck_assert_uint_eq(p.tenants[0].by_reason[PLAN_REASON_SWAP], 16 * P);
        ck_assert_uint_eq(p.tenants[0].promote_bytes, 8 * P);
        ck_assert_uint_eq(p.tenants[1].demote_bytes, 30 * P);
        ck_assert_uint_eq(p.tenants[2].demote_bytes, 20 * P);
        for (int i = 0; i < 3; i++) {
                ck_assert_uint_eq(p.tenants[i].n_moves, i == 0 ? 3 : 1);
                assert_move(move(&p, (size_t) i, 0), PLAN_DEMOTE, PLAN_REASON_OVER_MAX, 0, 1, T0,
                            (uint64_t) (40 - 10 * i));
                ck_assert_int_eq(move(&p, (size_t) i, 0)->range.pid, 10 + i);
        }
        assert_move(move(&p, 0, 1), PLAN_DEMOTE, PLAN_REASON_SWAP, 0, 1, T0 + 40 * P, 8);
        assert_move(move(&p, 0, 2), PLAN_PROMOTE, PLAN_REASON_SWAP, 1, 0, T1, 8);
        ck_assert_uint_eq(p.tenants[1].promote_bytes, 0);
        ck_assert_uint_eq(p.tenants[2].promote_bytes, 0);
        ck_assert_uint_eq(p.tenants[0].held_promote.limit, 0);
        ck_assert_uint_eq(p.budget_used, 106 * P);
        plan_done(&p);
}
END_TEST

START_TEST(test_plan_equal_classes_share_by_weight) {
        ScanRange ha[] = { R(1, 0, 1, T1, 100) }, hb[] = { R(1, 0, 2, T1, 100) };
        TenantHeat h[2] = { { .hot = ha, .n_hot = 1 }, { .hot = hb, .n_hot = 1 } };
        PlanTenant t[2];
        PlanInput in;
        Plan p;

        input_init(&in, 2);
        in.tiers[0].free = 80 * P;
        tenant_init(&t[0], 1, 2, 100, &h[0]);
        tenant_init(&t[1], 2, 2, 300, &h[1]);
        in.tenants = t;
        in.n_tenants = 2;
        /* 80 pages of room, weights 1:3 */
        ck_assert_int_eq(plan_and_commit(&in, &p), 0);
        ck_assert_uint_eq(p.tenants[0].promote_bytes, 20 * P);
        ck_assert_uint_eq(p.tenants[1].promote_bytes, 60 * P);
        ck_assert_uint_eq(p.tenants[0].held_promote.contention, 80 * P);
        ck_assert_uint_eq(p.tenants[1].held_promote.contention, 40 * P);
        ck_assert_uint_eq(p.tenants[0].demote_bytes + p.tenants[1].demote_bytes, 0); /* peers never demote each other */
        assert_move(move(&p, 1, 0), PLAN_PROMOTE, PLAN_REASON_PROMOTE_HOT, 1, 0, T1, 60);
        ck_assert_uint_eq(p.room_after[0], 0);
        plan_done(&p);

        /* what the heavier one cannot use goes to the other */
        h[1].hot[0].end = T1 + 10 * P;
        ck_assert_int_eq(plan_and_commit(&in, &p), 0);
        ck_assert_uint_eq(p.tenants[0].promote_bytes, 70 * P);
        ck_assert_uint_eq(p.tenants[1].promote_bytes, 10 * P);
        plan_done(&p);

        /* equal weights, an odd page: to the first */
        h[1].hot[0].end = T1 + 100 * P;
        t[1].weight = 100;
        in.tiers[0].free = 81 * P;
        ck_assert_int_eq(plan_and_commit(&in, &p), 0);
        ck_assert_uint_eq(p.tenants[0].promote_bytes, 41 * P);
        ck_assert_uint_eq(p.tenants[1].promote_bytes, 40 * P);
        plan_done(&p);
}
END_TEST

START_TEST(test_plan_empty_heat) {
        TenantHeat empty = {};
        PlanTenant t[2];
        PlanInput in;
        Plan p;

        input_init(&in, 2);
        tenant_init(&t[0], 1, 2, 100, NULL); /* no heat at all, over its limit */
        t[0].current[0] = 30 * P;
        t[0].tier_max[0] = 20 * P;
        tenant_init(&t[1], 2, 2, 100, &empty); /* a heat with nothing in it */
        t[1].current[0] = 30 * P;
        t[1].current[1] = 30 * P;
        in.tenants = t;
        in.n_tenants = 2;
        ck_assert_int_eq(plan_and_commit(&in, &p), 0);
        ck_assert_uint_eq(p.tenants[0].n_moves, 0);
        ck_assert_uint_eq(p.tenants[0].demote_bytes, 0);
        ck_assert_uint_eq(p.tenants[0].held_demote.no_candidates, 10 * P);
        ck_assert_uint_eq(p.tenants[1].n_moves, 0);
        ck_assert_uint_eq(p.tenants[1].reasons, 0);
        ck_assert(held_zero(&p.tenants[1].held_demote));
        ck_assert(held_zero(&p.tenants[1].held_promote));
        ck_assert_uint_eq(p.budget_used, 0);
        plan_done(&p);

        /* no tenants at all */
        in.n_tenants = 0;
        ck_assert_int_eq(plan_and_commit(&in, &p), 0);
        ck_assert_uint_eq(p.n_tenants, 0);
        ck_assert_uint_eq(p.room_after[0], 262144 * P);
        plan_done(&p);
}
END_TEST

START_TEST(test_plan_quota_exhausted_then_refilled) {
        ScanRange cold[] = { R(0, 4, 7, T0, 50) };
        TenantHeat h = { .cold = cold, .n_cold = 1 };
        TokenBucket dq;
        PlanTenant t;
        PlanInput in;
        Plan p;

        input_init(&in, 2);
        in.now_ms = 1000;
        token_bucket_init(&dq, 10 * P, 20 * P, 1000); /* 10 pages/s, burst 20 */
        tenant_init(&t, 1, 2, 100, &h);
        t.current[0] = 100 * P;
        t.tier_max[0] = 50 * P;
        t.demote_quota = &dq;
        in.tenants = &t;
        in.n_tenants = 1;
        ck_assert_int_eq(plan_and_commit(&in, &p), 0);
        ck_assert_uint_eq(p.tenants[0].demote_bytes, 20 * P);
        ck_assert_uint_eq(p.tenants[0].held_demote.quota, 30 * P);
        ck_assert_uint_eq(dq.tokens, 0); /* charged */
        plan_done(&p);

        /* the mover did it; the same instant: nothing left */
        t.current[0] = 80 * P;
        cold[0].start += 20 * P;
        ck_assert_int_eq(plan_and_commit(&in, &p), 0);
        ck_assert_uint_eq(p.tenants[0].demote_bytes, 0);
        ck_assert_uint_eq(p.tenants[0].n_moves, 0);
        ck_assert_uint_eq(p.tenants[0].held_demote.quota, 30 * P);
        plan_done(&p);

        /* 1.5 s later: 15 pages */
        in.now_ms = 2500;
        ck_assert_int_eq(plan_and_commit(&in, &p), 0);
        ck_assert_uint_eq(p.tenants[0].demote_bytes, 15 * P);
        ck_assert_uint_eq(p.tenants[0].held_demote.quota, 15 * P);
        assert_move(move(&p, 0, 0), PLAN_DEMOTE, PLAN_REASON_OVER_MAX, 0, 1, T0 + 20 * P, 15);
        ck_assert_uint_eq(dq.tokens, 0);
        plan_done(&p);

        /* the mover failed 5 pages and refunds them: planned again */
        quota_refund(&dq, NULL, 5 * P);
        ck_assert_int_eq(plan_and_commit(&in, &p), 0);
        ck_assert_uint_eq(p.tenants[0].demote_bytes, 5 * P);
        plan_done(&p);
}
END_TEST

START_TEST(test_plan_global_budget_below_tenant_quotas) {
        /* quotas 100 pages each, global budget 60: the higher class first,
         * and over_max demotions before any promotion */
        ScanRange ha[] = { R(1, 0, 1, T1, 50) }, hb[] = { R(1, 0, 2, T1, 50) }, cc[] = { R(0, 3, 3, T0, 20) };
        TenantHeat h[3] = { { .hot = ha, .n_hot = 1 }, { .hot = hb, .n_hot = 1 }, { .cold = cc, .n_cold = 1 } };
        TokenBucket q[3], budget;
        PlanTenant t[3];
        PlanInput in;
        Plan p;

        input_init(&in, 2);
        token_bucket_init(&budget, P, 60 * P, in.now_ms);
        for (int i = 0; i < 3; i++) {
                token_bucket_init(&q[i], P, 100 * P, in.now_ms);
                tenant_init(&t[i], (uint64_t) i + 1, i, 100, &h[i]);
                t[i].promote_quota = &q[i];
        }
        t[2].demote_quota = NULL; /* unlimited: the budget still applies */
        t[2].current[0] = 20 * P;
        t[2].tier_max[0] = 10 * P;
        in.tenants = t;
        in.n_tenants = 3;
        in.budget = &budget;
        ck_assert_int_eq(plan_and_commit(&in, &p), 0);
        ck_assert_uint_eq(p.tenants[2].demote_bytes, 10 * P);
        ck_assert_uint_eq(p.tenants[0].promote_bytes, 50 * P);
        ck_assert_uint_eq(p.tenants[1].promote_bytes, 0);
        ck_assert_uint_eq(p.tenants[1].held_promote.budget, 50 * P);
        ck_assert_uint_eq(p.budget_used, 60 * P);
        ck_assert_uint_eq(budget.tokens, 0);
        ck_assert_uint_eq(q[0].tokens, 50 * P);
        ck_assert_uint_eq(q[1].tokens, 100 * P);
        plan_done(&p);

        /* 25 s later the budget has 25 pages: all to the first class */
        in.now_ms += 25000;
        t[2].current[0] = 10 * P;
        t[0].current[0] = 50 * P;
        ha[0].end = ha[0].start + 30 * P; /* 30 more hot pages for tenant 1 */
        ck_assert_int_eq(plan_and_commit(&in, &p), 0);
        ck_assert_uint_eq(p.tenants[0].promote_bytes, 25 * P);
        ck_assert_uint_eq(p.tenants[0].held_promote.budget, 5 * P);
        ck_assert_uint_eq(p.tenants[1].promote_bytes, 0);
        ck_assert_uint_eq(p.tenants[1].held_promote.budget, 50 * P);
        plan_done(&p);
}
END_TEST

START_TEST(test_plan_hysteresis_both_ways) {
        HysteresisEntry storage[8];
        HysteresisTable tab;
        ScanRange promoted = R(0, 0, 7, T0 + 8 * P, 8);  /* promoted at 1000: the middle of the cold candidate */
        ScanRange demoted = R(1, 0, 7, T1, 4);           /* demoted at 1000: the first hot candidate */
        ScanRange same_dir = R(0, 0, 7, T0 + 40 * P, 4);  /* demoted too: does not block a demotion */
        ScanRange cold[] = { R(0, 5, 7, T0, 24), R(0, 5, 7, T0 + 40 * P, 4) };
        ScanRange hot[] = { R(1, 0, 7, T1, 4), R(1, 0, 8, T1, 4) }; /* the second: another pid */
        TenantHeat h = { .cold = cold, .n_cold = 2, .hot = hot, .n_hot = 2 };
        PlanTenant t;
        PlanInput in;
        Plan p;

        hysteresis_init(&tab, storage, ELEMENTSOF(storage));
        hysteresis_record(&tab, &promoted, PLAN_PROMOTE, 1000, 5000);
        hysteresis_record(&tab, &demoted, PLAN_DEMOTE, 1000, 5000);
        hysteresis_record(&tab, &same_dir, PLAN_DEMOTE, 1000, 5000);
        ck_assert(hysteresis_blocks(&tab, &cold[0], PLAN_DEMOTE, 5999, 5000));
        ck_assert(!hysteresis_blocks(&tab, &cold[0], PLAN_DEMOTE, 6000, 5000));
        ck_assert(!hysteresis_blocks(&tab, &cold[0], PLAN_PROMOTE, 2000, 5000));
        ck_assert(!hysteresis_blocks(&tab, &hot[1], PLAN_PROMOTE, 2000, 5000));

        input_init(&in, 2);
        in.now_ms = 3000;
        in.hysteresis_ms = 5000;
        in.hysteresis = &tab;
        tenant_init(&t, 1, 2, 100, &h);
        t.current[0] = 100 * P;
        t.tier_max[0] = 64 * P; /* 36 pages over; 28 candidate pages, 8 of them just promoted */
        in.tenants = &t;
        in.n_tenants = 1;
        ck_assert_int_eq(plan_and_commit(&in, &p), 0);
        ck_assert_uint_eq(p.tenants[0].demote_bytes, 20 * P);
        ck_assert_uint_eq(p.tenants[0].held_demote.hysteresis, 8 * P);
        ck_assert_uint_eq(p.tenants[0].held_demote.no_candidates, 8 * P);
        ck_assert_uint_eq(p.tenants[0].n_moves, 3);
        /* the candidate split around the promoted middle */
        assert_move(move(&p, 0, 0), PLAN_DEMOTE, PLAN_REASON_OVER_MAX, 0, 1, T0, 8);
        assert_move(move(&p, 0, 1), PLAN_DEMOTE, PLAN_REASON_OVER_MAX, 0, 1, T0 + 16 * P, 8);
        assert_move(move(&p, 0, 2), PLAN_DEMOTE, PLAN_REASON_OVER_MAX, 0, 1, T0 + 40 * P, 4);
        /* all of it over tier0.max: no promotion anyway; under the limit,
         * only the other pid's pages are promoted */
        plan_done(&p);

        t.current[0] = 0;
        t.tier_max[0] = NONE;
        ck_assert_int_eq(plan_and_commit(&in, &p), 0);
        ck_assert_uint_eq(p.tenants[0].promote_bytes, 4 * P);
        ck_assert_uint_eq(p.tenants[0].held_promote.hysteresis, 4 * P);
        ck_assert_uint_eq(p.tenants[0].n_moves, 1);
        ck_assert_int_eq(move(&p, 0, 0)->range.pid, 8);
        plan_done(&p);

        /* once the window has passed, both ways are free again */
        in.now_ms = 6000;
        ck_assert_int_eq(plan_and_commit(&in, &p), 0);
        ck_assert_uint_eq(p.tenants[0].promote_bytes, 8 * P);
        ck_assert_uint_eq(p.tenants[0].held_promote.hysteresis, 0);
        plan_done(&p);

        /* the ring is bounded: a fourth record into three slots drops the
         * oldest */
        hysteresis_init(&tab, storage, 3);
        hysteresis_record(&tab, &promoted, PLAN_PROMOTE, 1000, 60000);
        hysteresis_record(&tab, &demoted, PLAN_DEMOTE, 1001, 60000);
        hysteresis_record(&tab, &same_dir, PLAN_DEMOTE, 1002, 60000);
        hysteresis_record(&tab, &same_dir, PLAN_DEMOTE, 1003, 60000);
        ck_assert_uint_eq(tab.n, 3);
        ck_assert(!hysteresis_blocks(&tab, &cold[0], PLAN_DEMOTE, 2000, 60000));
        ck_assert(hysteresis_blocks(&tab, &hot[0], PLAN_PROMOTE, 2000, 60000));
        /* and expired entries go first (all four here) */
        hysteresis_record(&tab, &promoted, PLAN_PROMOTE, 70000, 60000);
        ck_assert_uint_eq(tab.n, 1);
        ck_assert(hysteresis_blocks(&tab, &cold[0], PLAN_DEMOTE, 70000, 60000));
        ck_assert(!hysteresis_blocks(&tab, &hot[0], PLAN_PROMOTE, 70000, 60000));
}
END_TEST

START_TEST(test_plan_observe_and_off) {
        /* A observes (class 0), B enforces (class 1), C is off; 50 pages of
         * room, 40 hot pages each */
        ScanRange ha[] = { R(1, 0, 1, T1, 40) }, hb[] = { R(1, 0, 2, T1, 40) }, hc[] = { R(1, 0, 3, T1, 40) };
        ScanRange ca[] = { R(0, 2, 1, T0, 40) };
        TenantHeat h[3] = { { .hot = ha, .n_hot = 1, .cold = ca, .n_cold = 1 }, { .hot = hb, .n_hot = 1 },
                            { .hot = hc, .n_hot = 1 } };
        TokenBucket qa, budget;
        PlanTenant t[3];
        PlanInput in;
        Plan p;

        input_init(&in, 2);
        in.tiers[0].free = 50 * P;
        token_bucket_init(&budget, P, 1000 * P, in.now_ms);
        token_bucket_init(&qa, P, 1000 * P, in.now_ms);
        tenant_init(&t[0], 1, 0, 100, &h[0]);
        t[0].mode = MODE_OBSERVE;
        t[0].promote_quota = &qa;
        tenant_init(&t[1], 2, 1, 100, &h[1]);
        tenant_init(&t[2], 3, 0, 100, &h[2]);
        t[2].mode = MODE_OFF;
        in.tenants = t;
        in.n_tenants = 3;
        in.budget = &budget;
        ck_assert_int_eq(plan_and_commit(&in, &p), 0);
        /* A: what enforcing it would do now */
        ck_assert(p.tenants[0].observe_only);
        ck_assert_uint_eq(p.tenants[0].promote_bytes, 40 * P);
        ck_assert_uint_eq(p.tenants[0].n_moves, 1);
        /* B: the real plan, as if A did not exist */
        ck_assert(!p.tenants[1].observe_only);
        ck_assert_uint_eq(p.tenants[1].promote_bytes, 40 * P);
        ck_assert_uint_eq(p.tenants[1].held_promote.contention, 0);
        /* C: ignored */
        ck_assert(p.tenants[2].ignored);
        ck_assert_uint_eq(p.tenants[2].n_moves, 0);
        ck_assert_uint_eq(p.tenants[2].promote_bytes, 0);
        ck_assert(held_zero(&p.tenants[2].held_promote));
        /* only B is charged */
        ck_assert_uint_eq(p.budget_used, 40 * P);
        ck_assert_uint_eq(budget.tokens, 960 * P);
        ck_assert_uint_eq(qa.tokens, 1000 * P);
        ck_assert_uint_eq(p.room_after[0], 10 * P);
        plan_done(&p);

        /* an observed tenant over its limit reports its demotion */
        t[0].current[0] = 100 * P;
        t[0].tier_max[0] = 70 * P;
        ck_assert_int_eq(plan_and_commit(&in, &p), 0);
        ck_assert(p.tenants[0].observe_only);
        ck_assert_uint_eq(p.tenants[0].demote_bytes, 40 * P);
        ck_assert_uint_eq(p.tenants[0].by_reason[PLAN_REASON_OVER_MAX], 30 * P);
        /* then at its limit: its 10 cold pages left go for 10 hot ones */
        ck_assert_uint_eq(p.tenants[0].by_reason[PLAN_REASON_SWAP], 20 * P);
        ck_assert_uint_eq(p.tenants[0].promote_bytes, 10 * P);
        ck_assert_uint_eq(p.tenants[0].held_promote.limit, 30 * P);
        ck_assert_int_eq(move(&p, 0, 0)->direction, PLAN_DEMOTE);
        ck_assert_uint_eq(p.budget_used, 40 * P);
        plan_done(&p);
}
END_TEST

START_TEST(test_plan_contention_by_class_and_low) {
        /* The fast tier is full. A (class 0) wants 60 hot pages. Victims,
         * lowest class first: E (class 4) gives its 10 cold pages; then B
         * and C (class 2, weights 1 and 3) share the other 50 in inverse
         * proportion to weight, but C is protected below 190 pages by
         * tier0.low; D (class 0, A's peer) is never demoted for A. */
        ScanRange ha[] = { R(1, 0, 1, T1, 60) };
        ScanRange cb[] = { R(0, 3, 2, T0, 100) }, cc[] = { R(0, 3, 3, T0, 100) }, cd[] = { R(0, 3, 4, T0, 100) },
                  ce[] = { R(0, 3, 5, T0, 10) };
        TenantHeat h[5] = { { .hot = ha, .n_hot = 1 }, { .cold = cb, .n_cold = 1 }, { .cold = cc, .n_cold = 1 },
                            { .cold = cd, .n_cold = 1 }, { .cold = ce, .n_cold = 1 } };
        PlanTenant t[5];
        PlanInput in;
        Plan p;

        input_init(&in, 2);
        in.tiers[0].free = 100 * P;
        in.tiers[0].headroom = 100 * P;
        tenant_init(&t[0], 1, 0, 100, &h[0]);
        tenant_init(&t[1], 2, 2, 1, &h[1]);
        tenant_init(&t[2], 3, 2, 3, &h[2]);
        tenant_init(&t[3], 4, 0, 100, &h[3]);
        tenant_init(&t[4], 5, 4, 100, &h[4]);
        for (int i = 1; i < 5; i++)
                t[i].current[0] = 200 * P;
        t[2].tier_low[0] = 190 * P;
        in.tenants = t;
        in.n_tenants = 5;
        ck_assert_int_eq(plan_and_commit(&in, &p), 0);
        ck_assert_uint_eq(p.tenants[4].demote_bytes, 10 * P);
        ck_assert_uint_eq(p.tenants[4].by_reason[PLAN_REASON_CONTENTION], 10 * P);
        /* 50 pages at 3:1 would be 37/13; C's 10 above its low cap it */
        ck_assert_uint_eq(p.tenants[2].demote_bytes, 10 * P);
        ck_assert_uint_eq(p.tenants[2].held_demote.low, 90 * P);
        ck_assert_uint_eq(p.tenants[1].demote_bytes, 40 * P);
        ck_assert_uint_eq(p.tenants[1].reasons, 1u << PLAN_REASON_CONTENTION);
        ck_assert_uint_eq(p.tenants[3].demote_bytes, 0);
        ck_assert_uint_eq(p.tenants[0].promote_bytes, 60 * P);
        ck_assert_uint_eq(p.tenants[0].reasons, 1u << PLAN_REASON_PROMOTE_HOT);
        assert_move(move(&p, 1, 0), PLAN_DEMOTE, PLAN_REASON_CONTENTION, 0, 1, T0, 40);
        ck_assert_uint_eq(p.room_after[0], 0);
        plan_done(&p);

        /* without C's protection: E 10, then 50 at 3:1 -> B 37 (+1 page
         * of rounding to the larger share: 38), C 12 */
        t[2].tier_low[0] = 0;
        ck_assert_int_eq(plan_and_commit(&in, &p), 0);
        ck_assert_uint_eq(p.tenants[4].demote_bytes, 10 * P);
        ck_assert_uint_eq(p.tenants[1].demote_bytes, 38 * P);
        ck_assert_uint_eq(p.tenants[2].demote_bytes, 12 * P);
        ck_assert_uint_eq(p.tenants[0].promote_bytes, 60 * P);
        plan_done(&p);

        /* everyone protected: A gets nothing, nobody is demoted */
        for (int i = 1; i < 5; i++)
                t[i].tier_low[0] = NONE;
        ck_assert_int_eq(plan_and_commit(&in, &p), 0);
        for (int i = 1; i < 5; i++)
                ck_assert_uint_eq(p.tenants[i].demote_bytes, 0);
        ck_assert_uint_eq(p.tenants[0].promote_bytes, 0);
        ck_assert_uint_eq(p.tenants[0].held_promote.headroom, 60 * P);
        ck_assert_uint_eq(p.tenants[1].held_demote.low, 100 * P);
        plan_done(&p);
}
END_TEST

START_TEST(test_plan_unknown_tier_never_moved) {
        ScanRange cold[] = { R(-1, 9, 7, T0, 10), R(3, 9, 7, T0 + 0x100000, 10) };
        ScanRange hot[] = { R(-1, 0, 7, T1, 10), R(2, 0, 7, T1 + 0x100000, 10) };
        TenantHeat h = { .cold = cold, .n_cold = 2, .hot = hot, .n_hot = 2 };
        PlanTenant t;
        PlanInput in;
        Plan p;

        input_init(&in, 2);
        tenant_init(&t, 1, 2, 100, &h);
        t.current[0] = 30 * P;
        t.tier_max[0] = 20 * P;
        in.tenants = &t;
        in.n_tenants = 1;
        ck_assert_int_eq(plan_and_commit(&in, &p), 0);
        ck_assert_uint_eq(p.tenants[0].n_moves, 0);
        ck_assert_uint_eq(p.tenants[0].held_demote.no_candidates, 10 * P);
        ck_assert_uint_eq(p.budget_used, 0);
        plan_done(&p);
}
END_TEST

START_TEST(test_plan_headroom) {
        /* tier 0: 1000 pages, 100 free, headroom 60: 40 may be promoted;
         * tier 1: 30 free, headroom 10: 20 may be demoted */
        ScanRange hot[] = { R(1, 0, 7, T1, 100) };
        ScanRange cold[] = { R(0, 4, 8, T0, 100) };
        TenantHeat ha = { .hot = hot, .n_hot = 1 }, hb = { .cold = cold, .n_cold = 1 };
        PlanTenant t[2];
        PlanInput in;
        Plan p;

        input_init(&in, 2);
        in.tiers[0] = (PlanTier) { .nodes = 1, .capacity = 1000 * P, .free = 100 * P, .headroom = 60 * P };
        in.tiers[1] = (PlanTier) { .nodes = 2, .capacity = 1000 * P, .free = 30 * P, .headroom = 10 * P };
        tenant_init(&t[0], 1, 1, 100, &ha);
        tenant_init(&t[1], 2, 2, 100, &hb);
        t[1].current[0] = 100 * P;
        t[1].tier_max[0] = 50 * P;
        in.tenants = t;
        in.n_tenants = 2;
        ck_assert_int_eq(plan_and_commit(&in, &p), 0);
        ck_assert_uint_eq(p.room_before[0], 40 * P);
        ck_assert_uint_eq(p.room_before[1], 20 * P);
        /* B's demotion (20 of its 50 over the limit) frees 20 more pages
         * of tier 0, which A then gets */
        ck_assert_uint_eq(p.tenants[1].demote_bytes, 20 * P);
        ck_assert_uint_eq(p.tenants[1].held_demote.headroom, 30 * P);
        ck_assert_uint_eq(p.tenants[0].promote_bytes, 60 * P);
        ck_assert_uint_eq(p.tenants[0].held_promote.headroom, 40 * P);
        ck_assert_uint_eq(p.room_after[0], 0);
        ck_assert_uint_eq(p.room_after[1], 60 * P); /* freed by A's promotion */
        plan_done(&p);
}
END_TEST

START_TEST(test_plan_ranges_split_to_budget) {
        /* a demotion quota of 10 pages and 100 bytes over 4-page ranges
         * (one unaligned, one physical): 4 + 4 + 2 pages */
        ScanRange cold[] = { R(0, 9, 7, T0, 4), R(0, 8, 7, T0 + 0x10000 - 100, 5), R(0, 7, 0, 0x80000000, 4) };
        TenantHeat h = { .cold = cold, .n_cold = 3 };
        TokenBucket dq;
        PlanTenant t;
        PlanInput in;
        Plan p;

        cold[2].kind = SCAN_RANGE_PADDR;
        input_init(&in, 2);
        token_bucket_init(&dq, P, 10 * P + 100, in.now_ms);
        tenant_init(&t, 1, 2, 100, &h);
        t.current[0] = 50 * P;
        t.tier_max[0] = 0;
        t.demote_quota = &dq;
        in.tenants = &t;
        in.n_tenants = 1;
        ck_assert_int_eq(plan_and_commit(&in, &p), 0);
        ck_assert_uint_eq(p.tenants[0].demote_bytes, 10 * P);
        ck_assert_uint_eq(p.tenants[0].n_moves, 3);
        assert_move(move(&p, 0, 0), PLAN_DEMOTE, PLAN_REASON_OVER_MAX, 0, 1, T0, 4);
        /* the unaligned one rounded inward: [T0 + 0x10000, +4 pages) */
        assert_move(move(&p, 0, 1), PLAN_DEMOTE, PLAN_REASON_OVER_MAX, 0, 1, T0 + 0x10000, 4);
        assert_move(move(&p, 0, 2), PLAN_DEMOTE, PLAN_REASON_OVER_MAX, 0, 1, 0x80000000, 2);
        ck_assert_int_eq(move(&p, 0, 2)->range.kind, SCAN_RANGE_PADDR);
        ck_assert_uint_eq(p.tenants[0].held_demote.quota, 2 * P);
        ck_assert_uint_eq(p.tenants[0].held_demote.no_candidates, 38 * P);
        ck_assert_uint_eq(dq.tokens, 100);
        plan_done(&p);
}
END_TEST

START_TEST(test_plan_three_tiers) {
        /* T1 is 10 pages over tier0.max: tier 1 has room for 6, the other
         * 4 go to tier 2. T3 is 5 pages over tier1.max: to tier 2, which
         * frees tier 1. T2 has 8 hot pages on tier 2 and room for 4 under
         * its tier0.max: 4 to tier 0, the other 4 to tier 1. */
        ScanRange c1[] = { R(0, 3, 1, T0, 20) }, c3[] = { R(1, 2, 3, T1, 10) }, h2[] = { R(2, 0, 2, T2, 8) };
        TenantHeat h[3] = { { .cold = c1, .n_cold = 1 }, { .hot = h2, .n_hot = 1 }, { .cold = c3, .n_cold = 1 } };
        PlanTenant t[3];
        PlanInput in;
        Plan p;

        input_init(&in, 3);
        in.tiers[1].free = 6 * P;
        in.tiers[2].free = 100 * P;
        tenant_init(&t[0], 1, 2, 100, &h[0]);
        t[0].current[0] = 20 * P;
        t[0].tier_max[0] = 10 * P;
        tenant_init(&t[1], 2, 2, 100, &h[1]);
        t[1].current[0] = 16 * P;
        t[1].current[2] = 8 * P;
        t[1].tier_max[0] = 20 * P;
        tenant_init(&t[2], 3, 2, 100, &h[2]);
        t[2].current[1] = 10 * P;
        t[2].tier_max[1] = 5 * P;
        in.tenants = t;
        in.n_tenants = 3;
        ck_assert_int_eq(plan_and_commit(&in, &p), 0);
        ck_assert_uint_eq(p.tenants[0].n_moves, 2);
        assert_move(move(&p, 0, 0), PLAN_DEMOTE, PLAN_REASON_OVER_MAX, 0, 1, T0, 6);
        assert_move(move(&p, 0, 1), PLAN_DEMOTE, PLAN_REASON_OVER_MAX, 0, 2, T0 + 6 * P, 4);
        ck_assert_uint_eq(p.tenants[2].n_moves, 1);
        assert_move(move(&p, 2, 0), PLAN_DEMOTE, PLAN_REASON_OVER_MAX, 1, 2, T1, 5);
        ck_assert_uint_eq(p.tenants[1].n_moves, 2);
        assert_move(move(&p, 1, 0), PLAN_PROMOTE, PLAN_REASON_PROMOTE_HOT, 2, 0, T2, 4);
        assert_move(move(&p, 1, 1), PLAN_PROMOTE, PLAN_REASON_PROMOTE_HOT, 2, 1, T2 + 4 * P, 4);
        ck_assert_uint_eq(p.tenants[1].promote_to[0], 4 * P);
        ck_assert_uint_eq(p.tenants[1].promote_to[1], 4 * P);
        ck_assert_uint_eq(p.tenants[1].held_promote.limit, 4 * P);
        ck_assert_uint_eq(p.room_after[1], 1 * P);
        /* tier 2: 100 - 4 (T1) - 5 (T3) + 8 (T2's promotions) */
        ck_assert_uint_eq(p.room_after[2], 99 * P);
        plan_done(&p);
}
END_TEST

START_TEST(test_plan_three_tiers_contention_on_middle_and_move_order) {
        /* V (class 3) promotes its 4 hot tier-2 pages to tier 0 first (step
         * for tier 0); then B (class 0, tier0.max 0) wants tier 1, which is
         * full: V's cold tier-1 pages make room. V's list still starts with
         * the demotion (the mover frees before it fills). */
        ScanRange vc[] = { R(1, 2, 1, T1, 10) }, vh[] = { R(2, 0, 1, T2, 4) }, bh[] = { R(2, 0, 2, T2 + 0x100000, 6) };
        TenantHeat h[2] = { { .cold = vc, .n_cold = 1, .hot = vh, .n_hot = 1 }, { .hot = bh, .n_hot = 1 } };
        PlanTenant t[2];
        PlanInput in;
        Plan p;

        input_init(&in, 3);
        in.tiers[1].free = 0;
        tenant_init(&t[0], 1, 3, 100, &h[0]);
        t[0].current[1] = 10 * P;
        t[0].current[2] = 4 * P;
        tenant_init(&t[1], 2, 0, 100, &h[1]);
        t[1].current[2] = 6 * P;
        t[1].tier_max[0] = 0;
        in.tenants = t;
        in.n_tenants = 2;
        ck_assert_int_eq(plan_and_commit(&in, &p), 0);
        ck_assert_uint_eq(p.tenants[0].n_moves, 2);
        assert_move(move(&p, 0, 0), PLAN_DEMOTE, PLAN_REASON_CONTENTION, 1, 2, T1, 6);
        assert_move(move(&p, 0, 1), PLAN_PROMOTE, PLAN_REASON_PROMOTE_HOT, 2, 0, T2, 4);
        ck_assert_uint_eq(p.tenants[1].n_moves, 1);
        assert_move(move(&p, 1, 0), PLAN_PROMOTE, PLAN_REASON_PROMOTE_HOT, 2, 1, T2 + 0x100000, 6);
        ck_assert_uint_eq(p.tenants[1].held_promote.limit, 6 * P); /* at the tier-0 step */
        ck_assert_uint_eq(p.tenants[0].reasons, (1u << PLAN_REASON_CONTENTION) | (1u << PLAN_REASON_PROMOTE_HOT));
        plan_done(&p);
}
END_TEST

START_TEST(test_plan_byte_only_tenant) {
        /* An MGLRU tenant (no addresses): 20 pages over tier0.max, 30 cold
         * pages on tier 0 and 10 hot on tier 1 in its heat summary. H
         * (higher class, ranged) wants 50 hot pages; the fast tier is full. */
        TenantHeat mg = {}, hh;
        ScanRange hot[] = { R(1, 0, 1, T1, 50) };
        PlanTenant t[2];
        PlanInput in;
        Plan p;

        mg.heat.bytes[0][2] = 30 * P;
        mg.heat.bytes[0][0] = 70 * P;
        mg.heat.bytes[1][0] = 10 * P;
        hh = (TenantHeat) { .hot = hot, .n_hot = 1 };
        input_init(&in, 2);
        in.tiers[0].free = 0;
        tenant_init(&t[0], 1, 3, 100, &mg);
        t[0].byte_only = true;
        t[0].current[0] = 100 * P;
        t[0].tier_max[0] = 80 * P;
        tenant_init(&t[1], 2, 1, 100, &hh);
        in.tenants = t;
        in.n_tenants = 2;
        ck_assert_int_eq(plan_and_commit(&in, &p), 0);
        /* 20 over the limit (the room H finds), then for H's other 30: the
         * 10 cold pages left, then 20 of its 70 age-0 bytes (second round) */
        ck_assert_uint_eq(p.tenants[0].demote_bytes, 50 * P);
        ck_assert_uint_eq(p.tenants[0].by_reason[PLAN_REASON_OVER_MAX], 20 * P);
        ck_assert_uint_eq(p.tenants[0].by_reason[PLAN_REASON_CONTENTION], 30 * P);
        ck_assert_uint_eq(p.tenants[0].n_moves, 3);
        ck_assert_uint_eq(move(&p, 0, 1)->bytes, 10 * P);
        ck_assert_uint_eq(move(&p, 0, 2)->bytes, 20 * P);
        ck_assert(!move(&p, 0, 0)->has_range);
        ck_assert_uint_eq(move(&p, 0, 0)->bytes, 20 * P);
        ck_assert_int_eq(move(&p, 0, 0)->from_tier, 0);
        ck_assert_int_eq(move(&p, 0, 0)->to_tier, 1);
        ck_assert_int_eq(move(&p, 0, 0)->to_node, 1);
        ck_assert(!move(&p, 0, 1)->has_range);
        ck_assert_uint_eq(p.tenants[0].promote_bytes, 0);
        ck_assert_uint_eq(p.tenants[0].held_promote.no_candidates, 10 * P);
        ck_assert_uint_eq(p.tenants[1].promote_bytes, 50 * P);
        plan_done(&p);
}
END_TEST

static ScanRange W(int tier, pid_t pid, uint64_t start, uint64_t pages, uint32_t accesses) {
        ScanRange r = R(tier, 0, pid, start, pages);

        r.nr_accesses = accesses;
        return r;
}

START_TEST(test_plan_contention_displaces_lower_class_hot_set) {
        /* The fast tier has 40 pages of room. L (class 1) wants its 100 hot
         * pages from tier 1. B (class 3) holds 120 pages on tier 0: 10
         * cold, then a hot set (warm candidates, least accessed first).
         * B's cold pages go first, then 50 of its warm ones, in order. */
        ScanRange hl[] = { R(1, 0, 1, T1, 100) };
        ScanRange cb[] = { R(0, 4, 2, T0, 10) };
        ScanRange wb[] = { W(0, 2, T0 + 0x100000, 60, 1), W(0, 2, T0 + 0x200000, 50, 5) };
        TenantHeat h[2] = { { .hot = hl, .n_hot = 1 }, { .cold = cb, .n_cold = 1, .warm = wb, .n_warm = 2 } };
        PlanTenant t[2];
        PlanInput in;
        Plan p;

        input_init(&in, 2);
        in.tiers[0].free = 40 * P;
        tenant_init(&t[0], 1, 1, 100, &h[0]);
        t[0].current[1] = 100 * P;
        tenant_init(&t[1], 2, 3, 100, &h[1]);
        t[1].current[0] = 120 * P;
        in.tenants = t;
        in.n_tenants = 2;
        ck_assert_int_eq(plan_and_commit(&in, &p), 0);
        ck_assert_uint_eq(p.tenants[0].promote_bytes, 100 * P);
        ck_assert_uint_eq(p.tenants[1].demote_bytes, 60 * P);
        ck_assert_uint_eq(p.tenants[1].by_reason[PLAN_REASON_CONTENTION], 60 * P);
        ck_assert_uint_eq(p.tenants[1].n_moves, 2);
        assert_move(move(&p, 1, 0), PLAN_DEMOTE, PLAN_REASON_CONTENTION, 0, 1, T0, 10);
        assert_move(move(&p, 1, 1), PLAN_DEMOTE, PLAN_REASON_CONTENTION, 0, 1, T0 + 0x100000, 50);
        ck_assert_int_eq(move(&p, 1, 1)->range.age, 0);
        ck_assert_uint_eq(p.room_after[0], 0);
        plan_done(&p);

        /* tier0.low 100 protects B's last 100 pages: 10 cold + 10 warm go,
         * L gets 40 + 20 */
        t[1].tier_low[0] = 100 * P;
        ck_assert_int_eq(plan_and_commit(&in, &p), 0);
        ck_assert_uint_eq(p.tenants[1].demote_bytes, 20 * P);
        ck_assert_uint_eq(p.tenants[0].promote_bytes, 60 * P);
        ck_assert_uint_eq(p.tenants[1].held_demote.low, 100 * P);
        plan_done(&p);

        /* a peer of the same class is never displaced: L gets the room */
        t[1].tier_low[0] = 0;
        t[1].class_rank = 1;
        ck_assert_int_eq(plan_and_commit(&in, &p), 0);
        ck_assert_uint_eq(p.tenants[1].demote_bytes, 0);
        ck_assert_uint_eq(p.tenants[0].promote_bytes, 40 * P);
        plan_done(&p);

        /* hysteresis: B's first warm range was just promoted; the cold
         * pages and the second warm range go instead */
        {
                HysteresisEntry st[4];
                HysteresisTable ht;

                t[1].class_rank = 3;
                hysteresis_init(&ht, st, 4);
                hysteresis_record(&ht, &wb[0], PLAN_PROMOTE, in.now_ms - 1000, 60000);
                in.hysteresis = &ht;
                in.hysteresis_ms = 60000;
                ck_assert_int_eq(plan_and_commit(&in, &p), 0);
                ck_assert_uint_eq(p.tenants[1].demote_bytes, 60 * P);
                assert_move(move(&p, 1, 1), PLAN_DEMOTE, PLAN_REASON_CONTENTION, 0, 1, T0 + 0x200000, 50);
                ck_assert_uint_eq(p.tenants[1].held_demote.hysteresis, 60 * P);
                plan_done(&p);
                in.hysteresis = NULL;
        }
}
END_TEST

START_TEST(test_plan_over_max_below_hot_set) {
        /* tier0.max 30 for a tenant with 100 pages on tier 0, 20 of them
         * cold: the cold go first, then 50 of the warm ones */
        ScanRange cold[] = { R(0, 2, 7, T0, 20) };
        ScanRange warm[] = { W(0, 7, T0 + 0x100000, 80, 3) };
        TenantHeat h = { .cold = cold, .n_cold = 1, .warm = warm, .n_warm = 1 };
        PlanTenant t;
        PlanInput in;
        Plan p;

        input_init(&in, 2);
        tenant_init(&t, 1, 2, 100, &h);
        t.current[0] = 100 * P;
        t.tier_max[0] = 30 * P;
        in.tenants = &t;
        in.n_tenants = 1;
        ck_assert_int_eq(plan_and_commit(&in, &p), 0);
        ck_assert_uint_eq(p.tenants[0].demote_bytes, 70 * P);
        ck_assert_uint_eq(p.tenants[0].n_moves, 2);
        assert_move(move(&p, 0, 0), PLAN_DEMOTE, PLAN_REASON_OVER_MAX, 0, 1, T0, 20);
        assert_move(move(&p, 0, 1), PLAN_DEMOTE, PLAN_REASON_OVER_MAX, 0, 1, T0 + 0x100000, 50);
        ck_assert(held_zero(&p.tenants[0].held_demote));
        plan_done(&p);
}
END_TEST

START_TEST(test_plan_node_choice_and_bad_input) {
        /* a tier of two nodes: each range goes to the node with the most
         * free bytes left (node_free), which changes as they fill:
         * node 1 (6 free), node 2 (5), node 1 (2 against 1) */
        ScanRange cold[] = { R(0, 3, 1, T0, 4), R(0, 3, 1, T0 + 0x10000, 4), R(0, 3, 1, T0 + 0x20000, 4) };
        TenantHeat h = { .cold = cold, .n_cold = 3 };
        PlanTenant t, t2;
        PlanInput in;
        Plan p;

        input_init(&in, 2);
        in.tiers[1].nodes = (1 << 1) | (1 << 2);
        in.tiers[1].node_free[1] = 6 * P;
        in.tiers[1].node_free[2] = 5 * P;
        tenant_init(&t, 1, 2, 100, &h);
        t.current[0] = 12 * P;
        t.tier_max[0] = 0;
        in.tenants = &t;
        in.n_tenants = 1;
        ck_assert_int_eq(plan_and_commit(&in, &p), 0);
        ck_assert_uint_eq(p.tenants[0].n_moves, 3);
        ck_assert_int_eq(move(&p, 0, 0)->to_node, 1);
        ck_assert_int_eq(move(&p, 0, 1)->to_node, 2);
        ck_assert_int_eq(move(&p, 0, 2)->to_node, 1);
        plan_done(&p);

        /* without node_free: the lowest node id */
        memset(in.tiers[1].node_free, 0, sizeof(in.tiers[1].node_free));
        ck_assert_int_eq(plan_and_commit(&in, &p), 0);
        for (size_t i = 0; i < 3; i++)
                ck_assert_int_eq(move(&p, 0, i)->to_node, 1);
        plan_done(&p);

        /* bad input */
        in.n_tiers = 0;
        ck_assert_int_eq(plan_and_commit(&in, &p), -EINVAL);
        in.n_tiers = PLAN_MAX_TIERS + 1;
        ck_assert_int_eq(plan_and_commit(&in, &p), -EINVAL);
        in.n_tiers = 2;
        tenant_init(&t2, 2, -1, 100, NULL);
        in.tenants = &t2;
        ck_assert_int_eq(plan_and_commit(&in, &p), -EINVAL);
        /* one tier: nothing can move */
        in.n_tiers = 1;
        in.tenants = &t;
        ck_assert_int_eq(plan_and_commit(&in, &p), 0);
        ck_assert_uint_eq(p.tenants[0].n_moves, 0);
        plan_done(&p);
}
END_TEST

/* ---- step 4: the self-swap ---------------------------------------------- */

/* A tenant at tier0.max = 100 pages (all of them on tier 0), COLD on tier 0
 * and HOT on tier 1. */
static void swap_setup(PlanInput *in, PlanTenant *t, TenantHeat *h) {
        input_init(in, 2);
        tenant_init(t, 1, 1, 100, h);
        t->current[0] = 100 * P;
        t->current[1] = 50 * P;
        t->tier_max[0] = 100 * P;
        in->tenants = t;
        in->n_tenants = 1;
}

START_TEST(test_plan_swap_at_limit) {
        /* the hot set moved: 20 hot pages on tier 1 (the more accessed
         * ones first), 30 cold ones on tier 0 (the oldest first) */
        ScanRange cold[] = { R(0, 9, 7, T0, 12), R(0, 2, 7, T0 + 0x100000, 18) };
        ScanRange hot[] = { R(1, 0, 7, T1 + 0x100000, 5), R(1, 0, 7, T1, 15) };
        TenantHeat h = { .cold = cold, .n_cold = 2, .hot = hot, .n_hot = 2 };
        PlanTenant t;
        PlanInput in;
        Plan p;

        hot[0].nr_accesses = 9;
        swap_setup(&in, &t, &h);
        ck_assert_int_eq(plan_and_commit(&in, &p), 0);
        ck_assert_uint_eq(p.tenants[0].demote_bytes, 20 * P);
        ck_assert_uint_eq(p.tenants[0].promote_bytes, 20 * P);
        ck_assert_uint_eq(p.tenants[0].reasons, 1u << PLAN_REASON_SWAP);
        ck_assert_uint_eq(p.tenants[0].by_reason[PLAN_REASON_SWAP], 40 * P);
        ck_assert_uint_eq(p.tenants[0].n_moves, 4);
        /* demotions first: the oldest cold pages, then the next */
        assert_move(move(&p, 0, 0), PLAN_DEMOTE, PLAN_REASON_SWAP, 0, 1, T0, 12);
        assert_move(move(&p, 0, 1), PLAN_DEMOTE, PLAN_REASON_SWAP, 0, 1, T0 + 0x100000, 8);
        /* the most accessed hot pages first */
        assert_move(move(&p, 0, 2), PLAN_PROMOTE, PLAN_REASON_SWAP, 1, 0, T1 + 0x100000, 5);
        assert_move(move(&p, 0, 3), PLAN_PROMOTE, PLAN_REASON_SWAP, 1, 0, T1, 15);
        /* what the plan left held: nothing (the swap took what the limit held) */
        ck_assert(held_zero(&p.tenants[0].held_promote));
        ck_assert_uint_eq(p.room_after[0], p.room_before[0]);
        ck_assert_uint_eq(p.budget_used, 40 * P);
        plan_done(&p);

        /* within one page of its limit: one page promoted, then the rest swapped */
        t.current[0] = 99 * P;
        ck_assert_int_eq(plan_and_commit(&in, &p), 0);
        ck_assert_uint_eq(p.tenants[0].by_reason[PLAN_REASON_PROMOTE_HOT], 1 * P);
        ck_assert_uint_eq(p.tenants[0].by_reason[PLAN_REASON_SWAP], 38 * P);
        ck_assert_uint_eq(p.tenants[0].promote_bytes, 20 * P);
        ck_assert_uint_eq(p.tenants[0].demote_bytes, 19 * P);
        plan_done(&p);

        /* no limit, but no room on tier 0: the same swap */
        t.current[0] = 100 * P;
        t.tier_max[0] = NONE;
        in.tiers[0].free = 0;
        ck_assert_int_eq(plan_and_commit(&in, &p), 0);
        ck_assert_uint_eq(p.tenants[0].by_reason[PLAN_REASON_SWAP], 40 * P);
        ck_assert_uint_eq(p.tenants[0].held_promote.headroom, 0);
        ck_assert_uint_eq(p.room_after[0], 0);
        plan_done(&p);

        /* nor room on tier 1 for the demotions: nothing */
        in.tiers[1].free = 0;
        ck_assert_int_eq(plan_and_commit(&in, &p), 0);
        ck_assert_uint_eq(p.tenants[0].n_moves, 0);
        ck_assert_uint_eq(p.tenants[0].held_promote.headroom, 20 * P);
        plan_done(&p);
}
END_TEST

START_TEST(test_plan_swap_bounded_by_smaller_quota_and_budget) {
        ScanRange cold[] = { R(0, 9, 7, T0, 30) };
        ScanRange hot[] = { R(1, 0, 7, T1, 20) };
        TenantHeat h = { .cold = cold, .n_cold = 1, .hot = hot, .n_hot = 1 };
        TokenBucket pq, dq, budget;
        PlanTenant t;
        PlanInput in;
        Plan p;

        /* promotion quota 5 pages, demotion 12: 5 each way */
        swap_setup(&in, &t, &h);
        token_bucket_init(&pq, P, 5 * P, in.now_ms);
        token_bucket_init(&dq, P, 12 * P, in.now_ms);
        t.promote_quota = &pq;
        t.demote_quota = &dq;
        ck_assert_int_eq(plan_and_commit(&in, &p), 0);
        ck_assert_uint_eq(p.tenants[0].demote_bytes, 5 * P);
        ck_assert_uint_eq(p.tenants[0].promote_bytes, 5 * P);
        ck_assert_uint_eq(pq.tokens, 0);
        ck_assert_uint_eq(dq.tokens, 7 * P);
        plan_done(&p);

        /* the other way round: demotion 3, promotion 12 */
        token_bucket_init(&pq, P, 12 * P, in.now_ms);
        token_bucket_init(&dq, P, 3 * P, in.now_ms);
        ck_assert_int_eq(plan_and_commit(&in, &p), 0);
        ck_assert_uint_eq(p.tenants[0].demote_bytes, 3 * P);
        ck_assert_uint_eq(p.tenants[0].promote_bytes, 3 * P);
        ck_assert_uint_eq(pq.tokens, 9 * P);
        ck_assert_uint_eq(dq.tokens, 0);
        plan_done(&p);

        /* a global budget of 9 pages: 4 each way (each swapped page costs 2) */
        t.promote_quota = NULL;
        t.demote_quota = NULL;
        token_bucket_init(&budget, P, 9 * P, in.now_ms);
        in.budget = &budget;
        ck_assert_int_eq(plan_and_commit(&in, &p), 0);
        ck_assert_uint_eq(p.tenants[0].demote_bytes, 4 * P);
        ck_assert_uint_eq(p.tenants[0].promote_bytes, 4 * P);
        ck_assert_uint_eq(p.budget_used, 8 * P);
        ck_assert_uint_eq(budget.tokens, 1 * P);
        plan_done(&p);
}
END_TEST

START_TEST(test_plan_swap_only_hotter_for_colder) {
        ScanRange hot[] = { R(1, 0, 7, T1, 20) };
        ScanRange warm[] = { R(0, 0, 7, T0, 30) };
        TenantHeat h = { .warm = warm, .n_warm = 1, .hot = hot, .n_hot = 1 };
        PlanTenant t;
        PlanInput in;
        Plan p;

        /* no cold page on tier 0, only pages accessed as much as the slow
         * ones: they stay, nothing moves */
        swap_setup(&in, &t, &h);
        ck_assert_int_eq(plan_and_commit(&in, &p), 0);
        ck_assert_uint_eq(p.tenants[0].n_moves, 0);
        ck_assert_uint_eq(p.tenants[0].held_promote.limit, 20 * P);
        plan_done(&p);

        /* even hotter slow pages never displace accessed ones */
        hot[0].nr_accesses = 50;
        ck_assert_int_eq(plan_and_commit(&in, &p), 0);
        ck_assert_uint_eq(p.tenants[0].n_moves, 0);
        plan_done(&p);

        /* cold for cold: slow "hot" candidates as old as the fast cold
         * ones are not swapped; pairing stops at the first pair that is
         * not strictly hotter (hot age 0 against cold age 4: yes; hot age
         * 4 against cold age 4: no) */
        {
                ScanRange cold2[] = { R(0, 4, 7, T0, 10), R(0, 4, 7, T0 + 0x100000, 10) };
                ScanRange hot2[] = { R(1, 0, 7, T1, 6), R(1, 4, 7, T1 + 0x100000, 10) };
                TenantHeat h2 = { .cold = cold2, .n_cold = 2, .hot = hot2, .n_hot = 2, .warm = warm, .n_warm = 1 };

                t.heat = &h2;
                ck_assert_int_eq(plan_and_commit(&in, &p), 0);
                ck_assert_uint_eq(p.tenants[0].demote_bytes, 6 * P);
                ck_assert_uint_eq(p.tenants[0].promote_bytes, 6 * P);
                assert_move(move(&p, 0, 0), PLAN_DEMOTE, PLAN_REASON_SWAP, 0, 1, T0, 6);
                assert_move(move(&p, 0, 1), PLAN_PROMOTE, PLAN_REASON_SWAP, 1, 0, T1, 6);
                plan_done(&p);

                /* same age, the slow one no more accessed: nothing */
                hot2[0].age = 4;
                hot2[0].nr_accesses = 0;
                ck_assert_int_eq(plan_and_commit(&in, &p), 0);
                ck_assert_uint_eq(p.tenants[0].n_moves, 0);
                plan_done(&p);
        }
}
END_TEST

START_TEST(test_plan_swap_hysteresis) {
        HysteresisEntry storage[4];
        HysteresisTable tab;
        ScanRange promoted = R(0, 0, 7, T0, 8); /* promoted at 1000: the oldest cold pages */
        ScanRange demoted = R(1, 0, 7, T1, 4);  /* demoted at 1000: the hottest slow pages */
        ScanRange cold[] = { R(0, 9, 7, T0, 8), R(0, 3, 7, T0 + 0x100000, 30) };
        ScanRange hot[] = { R(1, 0, 7, T1, 4), R(1, 0, 7, T1 + 0x100000, 16) };
        TenantHeat h = { .cold = cold, .n_cold = 2, .hot = hot, .n_hot = 2 };
        PlanTenant t;
        PlanInput in;
        Plan p;

        hysteresis_init(&tab, storage, ELEMENTSOF(storage));
        hysteresis_record(&tab, &promoted, PLAN_PROMOTE, 1000, 5000);
        hysteresis_record(&tab, &demoted, PLAN_DEMOTE, 1000, 5000);
        swap_setup(&in, &t, &h);
        in.now_ms = 3000;
        in.hysteresis_ms = 5000;
        in.hysteresis = &tab;
        ck_assert_int_eq(plan_and_commit(&in, &p), 0);
        /* the just-promoted pages stay, the just-demoted ones stay down */
        ck_assert_uint_eq(p.tenants[0].demote_bytes, 16 * P);
        ck_assert_uint_eq(p.tenants[0].promote_bytes, 16 * P);
        ck_assert_uint_eq(p.tenants[0].n_moves, 2);
        assert_move(move(&p, 0, 0), PLAN_DEMOTE, PLAN_REASON_SWAP, 0, 1, T0 + 0x100000, 16);
        assert_move(move(&p, 0, 1), PLAN_PROMOTE, PLAN_REASON_SWAP, 1, 0, T1 + 0x100000, 16);
        ck_assert_uint_eq(p.tenants[0].held_promote.hysteresis, 4 * P);
        plan_done(&p);

        /* after the window: all 20 */
        in.now_ms = 6000;
        ck_assert_int_eq(plan_and_commit(&in, &p), 0);
        ck_assert_uint_eq(p.tenants[0].promote_bytes, 20 * P);
        assert_move(move(&p, 0, 0), PLAN_DEMOTE, PLAN_REASON_SWAP, 0, 1, T0, 8);
        plan_done(&p);
}
END_TEST

START_TEST(test_plan_swap_observe) {
        ScanRange cold[] = { R(0, 9, 7, T0, 30) };
        ScanRange hot[] = { R(1, 0, 7, T1, 20) };
        TenantHeat h = { .cold = cold, .n_cold = 1, .hot = hot, .n_hot = 1 };
        TokenBucket pq, dq, budget;
        PlanTenant t;
        PlanInput in;
        Plan p;

        swap_setup(&in, &t, &h);
        t.mode = MODE_OBSERVE;
        token_bucket_init(&pq, P, 100 * P, in.now_ms);
        token_bucket_init(&dq, P, 100 * P, in.now_ms);
        token_bucket_init(&budget, P, 100 * P, in.now_ms);
        t.promote_quota = &pq;
        t.demote_quota = &dq;
        in.budget = &budget;
        ck_assert_int_eq(plan_and_commit(&in, &p), 0);
        /* planned as enforcing would, marked not to be moved, nothing charged */
        ck_assert(p.tenants[0].observe_only);
        ck_assert_uint_eq(p.tenants[0].by_reason[PLAN_REASON_SWAP], 40 * P);
        ck_assert_uint_eq(p.tenants[0].n_moves, 2);
        ck_assert_uint_eq(p.budget_used, 0);
        ck_assert_uint_eq(pq.tokens, 100 * P);
        ck_assert_uint_eq(dq.tokens, 100 * P);
        ck_assert_uint_eq(budget.tokens, 100 * P);
        ck_assert_uint_eq(p.room_after[0], p.room_before[0]);
        ck_assert_uint_eq(p.room_after[1], p.room_before[1]);
        plan_done(&p);
}
END_TEST

START_TEST(test_plan_unscanned_limit_takes_known_cold_only) {
        /* 100 pages on tier 0, tier0.max 60: 10 known-cold pages, a
         * 50-page hot set (warm candidates) and the rest not seen yet.
         * Unscanned: only the 10 cold pages go, 30 are held as unscanned,
         * no warm page moves. Scanned: the warm ones make up the rest. */
        ScanRange cold[] = { R(0, 5, 7, T0, 10) };
        ScanRange warm[] = { W(0, 7, T0 + 0x100000, 50, 3) };
        TenantHeat h = { .cgroup_id = 1, .cold = cold, .n_cold = 1, .warm = warm, .n_warm = 1 };
        PlanTenant t;
        PlanInput in;
        Plan p;

        input_init(&in, 2);
        tenant_init(&t, 1, 1, 500, &h);
        t.current[0] = 100 * P;
        t.tier_max[0] = 60 * P;
        t.unscanned[0] = true;
        in.tenants = &t;
        in.n_tenants = 1;
        ck_assert_int_eq(plan_and_commit(&in, &p), 0);
        ck_assert_uint_eq(p.tenants[0].demote_bytes, 10 * P);
        ck_assert_uint_eq(p.tenants[0].n_moves, 1);
        assert_move(move(&p, 0, 0), PLAN_DEMOTE, PLAN_REASON_OVER_MAX, 0, 1, T0, 10);
        ck_assert_uint_eq(p.tenants[0].held_demote.unscanned, 30 * P);
        ck_assert_uint_eq(p.tenants[0].held_demote.no_candidates, 0);
        plan_done(&p);

        t.unscanned[0] = false;
        ck_assert_int_eq(plan_and_commit(&in, &p), 0);
        ck_assert_uint_eq(p.tenants[0].demote_bytes, 40 * P);
        ck_assert_uint_eq(p.tenants[0].held_demote.unscanned, 0);
        assert_move(move(&p, 0, 1), PLAN_DEMOTE, PLAN_REASON_OVER_MAX, 0, 1, T0 + 0x100000, 30);
        plan_done(&p);
}
END_TEST

START_TEST(test_plan_contention_takes_unmapped_before_warm) {
        /* as test_plan_unscanned_contention_keeps_warm_pages, with B's tier
         * 0 covered and holding 30 pages of page cache no process maps: L's
         * 100 hot pages need 60 more pages of room than the 40 free; B
         * gives its 10 cold pages, its 30 unmapped ones (a byte demotion),
         * then 20 of its least accessed warm pages */
        ScanRange hl[] = { R(1, 0, 1, T1, 100) };
        ScanRange cb[] = { R(0, 4, 2, T0, 10) };
        ScanRange wb[] = { W(0, 2, T0 + 0x100000, 60, 1), W(0, 2, T0 + 0x200000, 50, 5) };
        TenantHeat h[2] = { { .hot = hl, .n_hot = 1 }, { .cold = cb, .n_cold = 1, .warm = wb, .n_warm = 2 } };
        PlanTenant t[2];
        PlanInput in;
        Plan p;

        input_init(&in, 2);
        in.tiers[0].free = 40 * P;
        tenant_init(&t[0], 1, 1, 100, &h[0]);
        t[0].current[1] = 100 * P;
        tenant_init(&t[1], 2, 3, 100, &h[1]);
        t[1].current[0] = 150 * P;
        t[1].unmapped[0] = 30 * P;
        in.tenants = t;
        in.n_tenants = 2;
        ck_assert_int_eq(plan_and_commit(&in, &p), 0);
        ck_assert_uint_eq(p.tenants[0].promote_bytes, 100 * P);
        ck_assert_uint_eq(p.tenants[1].demote_bytes, 60 * P);
        ck_assert_uint_eq(p.tenants[1].n_moves, 3);
        assert_move(move(&p, 1, 0), PLAN_DEMOTE, PLAN_REASON_CONTENTION, 0, 1, T0, 10);
        ck_assert(!move(&p, 1, 1)->has_range);
        ck_assert_uint_eq(move(&p, 1, 1)->bytes, 30 * P);
        assert_move(move(&p, 1, 2), PLAN_DEMOTE, PLAN_REASON_CONTENTION, 0, 1, T0 + 0x100000, 20);
        plan_done(&p);

        /* not covered: the cold and the unmapped pages go, the warm ones
         * are held as unscanned */
        t[1].unscanned[0] = true;
        ck_assert_int_eq(plan_and_commit(&in, &p), 0);
        ck_assert_uint_eq(p.tenants[1].demote_bytes, 40 * P);
        ck_assert_uint_eq(p.tenants[1].n_moves, 2);
        ck_assert(!move(&p, 1, 1)->has_range);
        ck_assert_uint_gt(p.tenants[1].held_demote.unscanned, 0);
        ck_assert_uint_eq(p.tenants[0].promote_bytes, 80 * P);
        plan_done(&p);
}
END_TEST

START_TEST(test_plan_unmapped_before_accessed_pages) {
        /* 140 pages on tier 0, tier0.max 60: 10 known-cold pages, a
         * 50-page hot set (warm candidates) and 60 pages of page cache no
         * process maps. The limit takes the 10 cold pages, then 60 unmapped
         * pages as a byte demotion (no range), then 10 warm pages (the tier
         * is covered); unscanned, the warm pages stay and 10 pages are
         * held. Without unmapped bytes (no byte mover) the warm pages make
         * up all the rest, the finding of the page-cache tenant. */
        ScanRange cold[] = { R(0, 5, 7, T0, 10) };
        ScanRange warm[] = { W(0, 7, T0 + 0x100000, 50, 3) };
        TenantHeat h = { .cgroup_id = 1, .cold = cold, .n_cold = 1, .warm = warm, .n_warm = 1 };
        const PlanMove *m;
        PlanTenant t;
        PlanInput in;
        Plan p;

        input_init(&in, 2);
        tenant_init(&t, 1, 1, 500, &h);
        t.current[0] = 140 * P;
        t.tier_max[0] = 60 * P;
        t.unmapped[0] = 60 * P;
        in.tenants = &t;
        in.n_tenants = 1;
        ck_assert_int_eq(plan_and_commit(&in, &p), 0);
        ck_assert_uint_eq(p.tenants[0].demote_bytes, 80 * P);
        ck_assert_uint_eq(p.tenants[0].n_moves, 3);
        assert_move(move(&p, 0, 0), PLAN_DEMOTE, PLAN_REASON_OVER_MAX, 0, 1, T0, 10);
        m = move(&p, 0, 1);
        ck_assert(!m->has_range);
        ck_assert_int_eq(m->direction, PLAN_DEMOTE);
        ck_assert_int_eq(m->from_tier, 0);
        ck_assert_int_eq(m->to_tier, 1);
        ck_assert_uint_eq(m->bytes, 60 * P);
        assert_move(move(&p, 0, 2), PLAN_DEMOTE, PLAN_REASON_OVER_MAX, 0, 1, T0 + 0x100000, 10);
        plan_done(&p);

        t.unscanned[0] = true;
        ck_assert_int_eq(plan_and_commit(&in, &p), 0);
        ck_assert_uint_eq(p.tenants[0].demote_bytes, 70 * P);
        ck_assert_uint_eq(p.tenants[0].n_moves, 2);
        ck_assert(!move(&p, 0, 1)->has_range);
        ck_assert_uint_eq(p.tenants[0].held_demote.unscanned, 10 * P);
        plan_done(&p);

        t.unscanned[0] = false;
        t.unmapped[0] = 0;
        ck_assert_int_eq(plan_and_commit(&in, &p), 0);
        ck_assert_uint_eq(p.tenants[0].demote_bytes, 60 * P);
        ck_assert_uint_eq(p.tenants[0].held_demote.no_candidates, 20 * P);
        assert_move(move(&p, 0, 1), PLAN_DEMOTE, PLAN_REASON_OVER_MAX, 0, 1, T0 + 0x100000, 50);
        plan_done(&p);
}
END_TEST

START_TEST(test_plan_nested_unmapped_order) {
        /* test_plan_unmapped_hot_bytes_kept_last's tenant nested under a
         * parent whose limit (not its own) it is over: the subtree's limit
         * takes the same order, the cold pages, the unmapped pages not
         * seen hot, the warm pages, and the unmapped pages seen hot last */
        ScanRange cold[] = { R(0, 5, 7, T0, 10) };
        ScanRange warm[] = { W(0, 7, T0 + 0x100000, 50, 3) };
        TenantHeat h = { .cgroup_id = 2, .cold = cold, .n_cold = 1, .warm = warm, .n_warm = 1 };
        TenantHeat hp = { .cgroup_id = 1 };
        const PlanMove *m;
        PlanTenant t[2];
        PlanInput in;
        Plan p;

        input_init(&in, 2);
        tenant_init(&t[0], 1, 1, 500, &hp);
        tenant_init(&t[1], 2, 1, 500, &h);
        t[1].parent = &t[0];
        t[0].current[0] = t[1].current[0] = 140 * P;
        t[0].tier_max[0] = 60 * P;
        t[1].unmapped[0] = 60 * P;
        t[1].unmapped_hot[0] = 40 * P;
        in.tenants = t;
        in.n_tenants = 2;
        ck_assert_int_eq(plan_and_commit(&in, &p), 0);
        ck_assert_uint_eq(p.tenants[1].demote_bytes, 80 * P);
        ck_assert_uint_eq(p.tenants[1].n_moves, 3);
        assert_move(move(&p, 1, 0), PLAN_DEMOTE, PLAN_REASON_OVER_MAX, 0, 1, T0, 10);
        m = move(&p, 1, 1);
        ck_assert(!m->has_range);
        ck_assert_uint_eq(m->bytes, 20 * P);
        assert_move(move(&p, 1, 2), PLAN_DEMOTE, PLAN_REASON_OVER_MAX, 0, 1, T0 + 0x100000, 50);
        plan_done(&p);

        t[0].tier_max[0] = 20 * P;
        ck_assert_int_eq(plan_and_commit(&in, &p), 0);
        ck_assert_uint_eq(p.tenants[1].demote_bytes, 120 * P);
        ck_assert_uint_eq(p.tenants[1].n_moves, 4);
        m = move(&p, 1, 3);
        ck_assert(!m->has_range);
        ck_assert_uint_eq(m->bytes, 40 * P);
        plan_done(&p);
}
END_TEST

START_TEST(test_plan_unmapped_hot_bytes_kept_last) {
        /* as test_plan_unmapped_before_accessed_pages, with 40 of the 60
         * unmapped pages seen hot by the sweep: the limit takes the 10
         * cold pages, the 20 unmapped pages not seen hot, then the 50 warm
         * pages, and keeps the 40 hot unmapped ones; a limit of 20 pages
         * takes those too, last; unscanned, only the 10 + 20 go and the
         * rest is held */
        ScanRange cold[] = { R(0, 5, 7, T0, 10) };
        ScanRange warm[] = { W(0, 7, T0 + 0x100000, 50, 3) };
        TenantHeat h = { .cgroup_id = 1, .cold = cold, .n_cold = 1, .warm = warm, .n_warm = 1 };
        const PlanMove *m;
        PlanTenant t;
        PlanInput in;
        Plan p;

        input_init(&in, 2);
        tenant_init(&t, 1, 1, 500, &h);
        t.current[0] = 140 * P;
        t.tier_max[0] = 60 * P;
        t.unmapped[0] = 60 * P;
        t.unmapped_hot[0] = 40 * P;
        in.tenants = &t;
        in.n_tenants = 1;
        ck_assert_int_eq(plan_and_commit(&in, &p), 0);
        ck_assert_uint_eq(p.tenants[0].demote_bytes, 80 * P);
        ck_assert_uint_eq(p.tenants[0].n_moves, 3);
        assert_move(move(&p, 0, 0), PLAN_DEMOTE, PLAN_REASON_OVER_MAX, 0, 1, T0, 10);
        m = move(&p, 0, 1);
        ck_assert(!m->has_range);
        ck_assert_uint_eq(m->bytes, 20 * P);
        assert_move(move(&p, 0, 2), PLAN_DEMOTE, PLAN_REASON_OVER_MAX, 0, 1, T0 + 0x100000, 50);
        plan_done(&p);

        t.tier_max[0] = 20 * P;
        ck_assert_int_eq(plan_and_commit(&in, &p), 0);
        ck_assert_uint_eq(p.tenants[0].demote_bytes, 120 * P);
        ck_assert_uint_eq(p.tenants[0].n_moves, 4);
        m = move(&p, 0, 3);
        ck_assert(!m->has_range);
        ck_assert_uint_eq(m->bytes, 40 * P);
        plan_done(&p);

        /* more seen hot than numa_stat's unmapped bytes: all of them hot */
        t.unmapped_hot[0] = 90 * P;
        t.tier_max[0] = 60 * P;
        ck_assert_int_eq(plan_and_commit(&in, &p), 0);
        ck_assert_uint_eq(p.tenants[0].demote_bytes, 80 * P);
        assert_move(move(&p, 0, 1), PLAN_DEMOTE, PLAN_REASON_OVER_MAX, 0, 1, T0 + 0x100000, 50);
        ck_assert(!move(&p, 0, 2)->has_range);
        ck_assert_uint_eq(move(&p, 0, 2)->bytes, 20 * P);
        plan_done(&p);

        t.unmapped_hot[0] = 40 * P;
        t.unscanned[0] = true;
        ck_assert_int_eq(plan_and_commit(&in, &p), 0);
        ck_assert_uint_eq(p.tenants[0].demote_bytes, 30 * P);
        ck_assert_uint_eq(p.tenants[0].held_demote.unscanned, 50 * P);
        plan_done(&p);
}
END_TEST

START_TEST(test_plan_unmapped_swept_cold_first_unknown_late) {
        /* as test_plan_unmapped_hot_bytes_kept_last, with a sweep that saw
         * 10 of the 60 unmapped pages cold and 30 hot: the 20 it did not
         * classify (they came after it) are not known cold. The limit
         * takes the 10 cold ranges, the 10 cold unmapped pages, the 50
         * warm pages, then 10 of the 20 unclassified ones; the hot ones
         * stay. Unscanned: only the 10 + 10 go. */
        ScanRange cold[] = { R(0, 5, 7, T0, 10) };
        ScanRange warm[] = { W(0, 7, T0 + 0x100000, 50, 3) };
        TenantHeat h = { .cgroup_id = 1, .cold = cold, .n_cold = 1, .warm = warm, .n_warm = 1 };
        PlanTenant t;
        PlanInput in;
        Plan p;

        input_init(&in, 2);
        tenant_init(&t, 1, 1, 500, &h);
        t.current[0] = 140 * P;
        t.tier_max[0] = 60 * P;
        t.unmapped[0] = 60 * P;
        t.unmapped_hot[0] = 30 * P;
        t.unmapped_cold[0] = 10 * P;
        t.unmapped_swept = true;
        in.tenants = &t;
        in.n_tenants = 1;
        ck_assert_int_eq(plan_and_commit(&in, &p), 0);
        ck_assert_uint_eq(p.tenants[0].demote_bytes, 80 * P);
        ck_assert_uint_eq(p.tenants[0].n_moves, 4);
        assert_move(move(&p, 0, 0), PLAN_DEMOTE, PLAN_REASON_OVER_MAX, 0, 1, T0, 10);
        ck_assert(!move(&p, 0, 1)->has_range);
        ck_assert_uint_eq(move(&p, 0, 1)->bytes, 10 * P);
        assert_move(move(&p, 0, 2), PLAN_DEMOTE, PLAN_REASON_OVER_MAX, 0, 1, T0 + 0x100000, 50);
        ck_assert(!move(&p, 0, 3)->has_range);
        ck_assert_uint_eq(move(&p, 0, 3)->bytes, 10 * P);
        plan_done(&p);

        t.unscanned[0] = true;
        ck_assert_int_eq(plan_and_commit(&in, &p), 0);
        ck_assert_uint_eq(p.tenants[0].demote_bytes, 20 * P);
        ck_assert_uint_eq(p.tenants[0].held_demote.unscanned, 60 * P);
        plan_done(&p);
}
END_TEST

START_TEST(test_plan_contention_takes_unmapped_hot_with_warm) {
        /* as test_plan_contention_takes_unmapped_before_warm, with 20 of
         * B's 30 unmapped pages seen hot: the first round takes 10 cold
         * pages and the 10 unmapped ones not seen hot; the second round
         * (accessed pages) the other 40, warm ranges first */
        ScanRange hl[] = { R(1, 0, 1, T1, 100) };
        ScanRange cb[] = { R(0, 4, 2, T0, 10) };
        ScanRange wb[] = { W(0, 2, T0 + 0x100000, 60, 1), W(0, 2, T0 + 0x200000, 50, 5) };
        TenantHeat h[2] = { { .hot = hl, .n_hot = 1 }, { .cold = cb, .n_cold = 1, .warm = wb, .n_warm = 2 } };
        PlanTenant t[2];
        PlanInput in;
        Plan p;

        input_init(&in, 2);
        in.tiers[0].free = 40 * P;
        tenant_init(&t[0], 1, 1, 100, &h[0]);
        t[0].current[1] = 100 * P;
        tenant_init(&t[1], 2, 3, 100, &h[1]);
        t[1].current[0] = 150 * P;
        t[1].unmapped[0] = 30 * P;
        t[1].unmapped_hot[0] = 20 * P;
        in.tenants = t;
        in.n_tenants = 2;
        ck_assert_int_eq(plan_and_commit(&in, &p), 0);
        ck_assert_uint_eq(p.tenants[0].promote_bytes, 100 * P);
        ck_assert_uint_eq(p.tenants[1].demote_bytes, 60 * P);
        ck_assert_uint_eq(p.tenants[1].n_moves, 3);
        assert_move(move(&p, 1, 0), PLAN_DEMOTE, PLAN_REASON_CONTENTION, 0, 1, T0, 10);
        ck_assert(!move(&p, 1, 1)->has_range);
        ck_assert_uint_eq(move(&p, 1, 1)->bytes, 10 * P);
        assert_move(move(&p, 1, 2), PLAN_DEMOTE, PLAN_REASON_CONTENTION, 0, 1, T0 + 0x100000, 40);
        plan_done(&p);
}
END_TEST

START_TEST(test_plan_unmapped_promotions) {
        /* hot unmapped pages on tier 1 (30 pages of L, 40 of B): promoted
         * as bytes only with a physical path (unmapped_promotions), within
         * L's tier0.max (20 pages of room under it) and tier 0's room (50
         * pages), the higher class first; charged to the bucket */
        TenantHeat h[2] = { { .cgroup_id = 1 }, { .cgroup_id = 2 } };
        TokenBucket q;
        PlanTenant t[2];
        PlanInput in;
        Plan p;

        input_init(&in, 2);
        in.tiers[0].free = 50 * P;
        tenant_init(&t[0], 1, 3, 100, &h[0]);
        tenant_init(&t[1], 2, 1, 100, &h[1]);
        t[0].current[0] = 50 * P;
        t[0].current[1] = 40 * P;
        t[0].unmapped_hot[1] = 30 * P;
        t[1].current[1] = 60 * P;
        t[1].unmapped_hot[1] = 40 * P;
        t[1].tier_max[0] = 20 * P;
        in.tenants = t;
        in.n_tenants = 2;
        ck_assert_int_eq(plan_and_commit(&in, &p), 0);
        ck_assert_uint_eq(p.tenants[0].unmapped_promote_bytes, 0);
        ck_assert_uint_eq(p.tenants[1].unmapped_promote_bytes, 0);
        plan_done(&p);

        in.unmapped_promotions = true;
        ck_assert_int_eq(plan_and_commit(&in, &p), 0);
        ck_assert_uint_eq(p.tenants[1].unmapped_promote_bytes, 20 * P); /* its limit */
        ck_assert_uint_eq(p.tenants[0].unmapped_promote_bytes, 30 * P); /* what is left of the room */
        ck_assert_uint_eq(p.tenants[0].charge_promote, 30 * P);
        ck_assert_uint_eq(p.tenants[0].promote_bytes, 0);
        ck_assert_uint_eq(p.room_after[0], 0);
        plan_done(&p);

        /* the bucket holds 8 pages */
        token_bucket_init(&q, 8 * P, 8 * P, in.now_ms);
        t[0].promote_quota = &q;
        in.tiers[0].free = 100 * P;
        ck_assert_int_eq(plan_and_commit(&in, &p), 0);
        ck_assert_uint_eq(p.tenants[0].unmapped_promote_bytes, 8 * P);
        plan_done(&p);

        /* B at its limit with 30 unmapped pages seen cold on tier 0: it
         * swaps 40 hot for... the 30 cold ones it has, as bytes */
        t[0].promote_quota = NULL;
        t[1].current[0] = 20 * P;
        t[1].unmapped[0] = 30 * P;
        t[1].unmapped_cold[0] = 30 * P;
        t[1].unmapped_swept = true;
        ck_assert_int_eq(plan_and_commit(&in, &p), 0);
        ck_assert_uint_eq(p.tenants[1].unmapped_promote_bytes, 30 * P);
        ck_assert_uint_eq(p.tenants[1].demote_bytes, 30 * P);
        ck_assert_uint_eq(p.tenants[1].by_reason[PLAN_REASON_SWAP], 30 * P);
        ck_assert_uint_eq(p.tenants[1].n_moves, 1);
        ck_assert(!move(&p, 1, 0)->has_range);
        ck_assert_uint_eq(p.tenants[1].charge_promote, 30 * P);
        ck_assert_uint_eq(p.tenants[1].charge_demote, 30 * P);
        plan_done(&p);
}
END_TEST

START_TEST(test_plan_unscanned_contention_keeps_warm_pages) {
        /* as test_plan_contention_displaces_lower_class_hot_set, with B's
         * tier 0 not fully scanned: its 10 cold pages go, its warm pages
         * stay, held as unscanned; L gets 40 + 10 */
        ScanRange hl[] = { R(1, 0, 1, T1, 100) };
        ScanRange cb[] = { R(0, 4, 2, T0, 10) };
        ScanRange wb[] = { W(0, 2, T0 + 0x100000, 60, 1), W(0, 2, T0 + 0x200000, 50, 5) };
        TenantHeat h[2] = { { .hot = hl, .n_hot = 1 }, { .cold = cb, .n_cold = 1, .warm = wb, .n_warm = 2 } };
        PlanTenant t[2];
        PlanInput in;
        Plan p;

        input_init(&in, 2);
        in.tiers[0].free = 40 * P;
        tenant_init(&t[0], 1, 1, 100, &h[0]);
        t[0].current[1] = 100 * P;
        tenant_init(&t[1], 2, 3, 100, &h[1]);
        t[1].current[0] = 120 * P;
        t[1].unscanned[0] = true;
        in.tenants = t;
        in.n_tenants = 2;
        ck_assert_int_eq(plan_and_commit(&in, &p), 0);
        ck_assert_uint_eq(p.tenants[1].demote_bytes, 10 * P);
        ck_assert_uint_eq(p.tenants[1].n_moves, 1);
        ck_assert_uint_gt(p.tenants[1].held_demote.unscanned, 0);
        ck_assert_uint_eq(p.tenants[0].promote_bytes, 50 * P);
        plan_done(&p);
}
END_TEST

START_TEST(test_plan_contradicted_demotion_comes_back) {
        /* a range demoted 2 s ago (hysteresis 60 s) is seen hot on tier 1:
         * held by hysteresis as a plain candidate, promoted first and not
         * held when the heat model says the demotion was contradicted */
        HysteresisEntry storage[4];
        HysteresisTable tab;
        ScanRange hot[] = { R(1, 0, 7, T1, 16), R(1, 0, 7, T1 + 0x100000, 8) };
        TenantHeat h = { .hot = hot, .n_hot = 2 };
        PlanTenant t;
        PlanInput in;
        Plan p;

        hysteresis_init(&tab, storage, ELEMENTSOF(storage));
        hysteresis_record(&tab, &hot[0], PLAN_DEMOTE, 98000, 60000);
        input_init(&in, 2);
        in.hysteresis_ms = 60000;
        in.hysteresis = &tab;
        tenant_init(&t, 1, 1, 500, &h);
        t.current[1] = 24 * P;
        in.tenants = &t;
        in.n_tenants = 1;
        ck_assert_int_eq(plan_and_commit(&in, &p), 0);
        ck_assert_uint_eq(p.tenants[0].promote_bytes, 8 * P);
        ck_assert_uint_eq(p.tenants[0].held_promote.hysteresis, 16 * P);
        plan_done(&p);

        t.n_hot_contradicted = 1;
        ck_assert_int_eq(plan_and_commit(&in, &p), 0);
        ck_assert_uint_eq(p.tenants[0].promote_bytes, 24 * P);
        ck_assert_uint_eq(p.tenants[0].held_promote.hysteresis, 0);
        assert_move(move(&p, 0, 0), PLAN_PROMOTE, PLAN_REASON_PROMOTE_HOT, 1, 0, T1, 16);
        plan_done(&p);
}
END_TEST

/* ---- nested tenants ---------------------------------------------------- */

#define MIB (256 * P)

/* A parent tenant (t[0], tier0.max 64 MiB, no processes of its own) and
 * three nested enforced tenants (t[1..3]), each with tier0.max 64 MiB (its
 * parent's, as resolve clamps it) and 40 MiB on tier 0: 20 MiB cold (ages
 * AGE[i]), 20 MiB accessed (ACC[i] accesses), plus 4 MiB hot on tier 1.
 * The subtree holds 120 MiB of tier 0. */
typedef struct Nest {
        ScanRange cold[4][1], warm[4][1], hot[4][1];
        TenantHeat h[4];
        PlanTenant t[4];
        PlanInput in;
} Nest;

static void nest_setup(Nest *n, const int age[3], const uint32_t acc[3]) {
        input_init(&n->in, 2);
        n->h[0] = (TenantHeat) { .cgroup_id = 1 };
        tenant_init(&n->t[0], 1, 2, 100, &n->h[0]);
        for (int i = 1; i < 4; i++) {
                pid_t pid = 10 + i;

                n->cold[i][0] = R(0, age[i - 1], pid, T0, 20 * MIB / P);
                n->warm[i][0] = W(0, pid, T0 + 20 * MIB, 20 * MIB / P, acc[i - 1]);
                n->hot[i][0] = R(1, 0, pid, T1, 4 * MIB / P);
                n->h[i] = (TenantHeat) { .cgroup_id = (uint64_t) i + 1, .cold = n->cold[i], .n_cold = 1,
                                         .warm = n->warm[i], .n_warm = 1, .hot = n->hot[i], .n_hot = 1 };
                tenant_init(&n->t[i], (uint64_t) i + 1, 2, 100, &n->h[i]);
                n->t[i].parent = &n->t[0];
                n->t[i].tier_max[0] = 64 * MIB;
                n->t[i].current[0] = 40 * MIB;
                n->t[i].current[1] = 4 * MIB;
                n->t[0].current[0] += 40 * MIB;
                n->t[0].current[1] += 4 * MIB;
        }
        n->t[0].tier_max[0] = 64 * MIB;
        n->in.tenants = n->t;
        n->in.n_tenants = 4;
}

/* The subtree's tier-0 bytes once the plan is carried out. */
static uint64_t nest_tier0_after(const Nest *n, const Plan *p) {
        uint64_t b = n->t[0].current[0];

        for (int i = 0; i < 4; i++)
                b = b - p->tenants[i].demote_from[0] + p->tenants[i].promote_to[0];
        return b;
}

START_TEST(test_plan_nested_limit_covers_subtree) {
        /* each child is under its own 64 MiB, the subtree is 56 MiB over
         * its parent's: coldest first across the subtree (ages 10, 3, 5),
         * and no child promotes into a full subtree */
        static const int age[3] = { 10, 3, 5 };
        static const uint32_t acc[3] = { 9, 2, 5 };
        Nest n;
        Plan p;

        nest_setup(&n, age, acc);
        ck_assert_int_eq(plan_and_commit(&n.in, &p), 0);
        ck_assert_uint_eq(p.tenants[1].by_reason[PLAN_REASON_OVER_MAX], 20 * MIB);
        ck_assert_uint_eq(p.tenants[2].by_reason[PLAN_REASON_OVER_MAX], 16 * MIB);
        ck_assert_uint_eq(p.tenants[3].by_reason[PLAN_REASON_OVER_MAX], 20 * MIB);
        assert_move(move(&p, 2, 0), PLAN_DEMOTE, PLAN_REASON_OVER_MAX, 0, 1, T0, 16 * MIB / P);
        /* nothing is promoted into the full subtree, except by a swap:
         * the middle child's last 4 cold MiB for its 4 hot ones */
        for (int i = 1; i < 4; i++)
                ck_assert_uint_eq(p.tenants[i].by_reason[PLAN_REASON_PROMOTE_HOT], 0);
        ck_assert_uint_eq(p.tenants[1].held_promote.limit, 4 * MIB);
        ck_assert_uint_eq(p.tenants[3].held_promote.limit, 4 * MIB);
        ck_assert_uint_eq(p.tenants[2].by_reason[PLAN_REASON_SWAP], 8 * MIB);
        ck_assert_uint_eq(p.tenants[0].by_reason[PLAN_REASON_OVER_MAX], 0);
        ck_assert(held_zero(&p.tenants[0].held_demote));
        ck_assert_uint_le(nest_tier0_after(&n, &p), 64 * MIB);
        plan_done(&p);

        /* class before coldness: the middle child in a lower class goes
         * first, however warm */
        n.t[2].class_rank = 3;
        ck_assert_int_eq(plan_and_commit(&n.in, &p), 0);
        ck_assert_uint_eq(p.tenants[2].by_reason[PLAN_REASON_OVER_MAX], 20 * MIB);
        ck_assert_uint_eq(p.tenants[1].by_reason[PLAN_REASON_OVER_MAX], 20 * MIB);
        ck_assert_uint_eq(p.tenants[3].by_reason[PLAN_REASON_OVER_MAX], 16 * MIB);
        ck_assert_uint_eq(nest_tier0_after(&n, &p), 64 * MIB);
        plan_done(&p);

        /* a child's share of protection is taken last: the parent protects
         * 30 MiB and the third child claims it all; it gives its 10 MiB
         * above, and the accessed pages of the others go (least accessed
         * first) before its protected ones */
        n.t[2].class_rank = 2;
        n.t[0].tier_low[0] = 30 * MIB;
        n.t[3].tier_low[0] = 30 * MIB;
        ck_assert_int_eq(plan_and_commit(&n.in, &p), 0);
        ck_assert_uint_eq(p.tenants[3].tier_low[0], 30 * MIB);
        ck_assert_uint_eq(p.tenants[1].by_reason[PLAN_REASON_OVER_MAX], 20 * MIB);
        ck_assert_uint_eq(p.tenants[3].by_reason[PLAN_REASON_OVER_MAX], 10 * MIB);
        ck_assert_uint_eq(p.tenants[2].by_reason[PLAN_REASON_OVER_MAX], 26 * MIB);
        ck_assert_uint_eq(nest_tier0_after(&n, &p), 64 * MIB);
        plan_done(&p);

        /* three levels: a grandchild's own limit first, then its parent's
         * (the middle child, 30 MiB), then the top one */
        n.t[0].tier_low[0] = n.t[3].tier_low[0] = 0;
        n.t[3].parent = &n.t[2];
        n.t[2].current[0] += n.t[3].current[0];
        n.t[2].current[1] += n.t[3].current[1];
        n.t[2].tier_max[0] = 30 * MIB;
        ck_assert_int_eq(plan_and_commit(&n.in, &p), 0);
        /* t2's subtree (80 MiB) to 30: 20 cold of t3 (age 5), 20 cold of
         * t2 (age 3), then 10 of the accessed ones (t2's: 2 accesses);
         * then the top: 120 - 50 = 70 > 64: 6 MiB of t1's cold */
        ck_assert_uint_eq(p.tenants[3].by_reason[PLAN_REASON_OVER_MAX], 20 * MIB);
        ck_assert_uint_eq(p.tenants[2].by_reason[PLAN_REASON_OVER_MAX], 30 * MIB);
        ck_assert_uint_eq(p.tenants[1].by_reason[PLAN_REASON_OVER_MAX], 6 * MIB);
        ck_assert_uint_eq(nest_tier0_after(&n, &p), 64 * MIB);
        plan_done(&p);
}
END_TEST

START_TEST(test_plan_nested_limit_waits_for_coverage) {
        /* the parent's limit at 40 MiB needs 80 of the subtree's 120: its
         * 60 cold MiB, then 20 of accessed pages; while one child's tier 0
         * is not fully scanned, no child's accessed pages go (that child's
         * unseen pages may be colder): the 20 are held as unscanned */
        static const int age[3] = { 10, 3, 5 };
        static const uint32_t acc[3] = { 9, 2, 5 };
        Nest n;
        Plan p;

        nest_setup(&n, age, acc);
        n.t[0].tier_max[0] = 40 * MIB;
        n.t[3].unscanned[0] = true;
        ck_assert_int_eq(plan_and_commit(&n.in, &p), 0);
        for (int i = 1; i < 4; i++)
                ck_assert_uint_eq(p.tenants[i].by_reason[PLAN_REASON_OVER_MAX], 20 * MIB);
        ck_assert_uint_eq(p.tenants[0].held_demote.unscanned, 20 * MIB);
        plan_done(&p);

        /* covered: the least accessed pages next (the middle child's) */
        n.t[3].unscanned[0] = false;
        ck_assert_int_eq(plan_and_commit(&n.in, &p), 0);
        ck_assert_uint_eq(p.tenants[1].by_reason[PLAN_REASON_OVER_MAX], 20 * MIB);
        ck_assert_uint_eq(p.tenants[2].by_reason[PLAN_REASON_OVER_MAX], 40 * MIB);
        ck_assert_uint_eq(p.tenants[3].by_reason[PLAN_REASON_OVER_MAX], 20 * MIB);
        ck_assert(held_zero(&p.tenants[0].held_demote));
        ck_assert_uint_eq(nest_tier0_after(&n, &p), 40 * MIB);
        plan_done(&p);
}
END_TEST

START_TEST(test_plan_nested_promotion_shares_parent_room) {
        /* the subtree has 12 MiB of room under its parent's limit; three
         * children want 4 + 4 + 4 hot MiB each from tier 1 plus, for the
         * first, 10 more: the room is shared by weight (1:1:2) */
        static const int age[3] = { 10, 3, 5 };
        static const uint32_t acc[3] = { 9, 2, 5 };
        ScanRange hot1[] = { R(1, 0, 11, T1, 14 * MIB / P) };
        Nest n;
        Plan p;

        nest_setup(&n, age, acc);
        n.h[1].hot = hot1;
        for (int i = 1; i < 4; i++) {
                n.t[i].current[0] = 20 * MIB;
                n.h[i].n_cold = n.h[i].n_warm = 0;
        }
        n.t[0].current[0] = 60 * MIB;
        n.t[0].tier_max[0] = 72 * MIB;
        n.t[1].weight = n.t[2].weight = 100;
        n.t[3].weight = 200;
        ck_assert_int_eq(plan_and_commit(&n.in, &p), 0);
        ck_assert_uint_eq(p.tenants[1].promote_bytes + p.tenants[2].promote_bytes + p.tenants[3].promote_bytes,
                          12 * MIB);
        ck_assert_uint_eq(p.tenants[3].promote_bytes, 4 * MIB);
        ck_assert_uint_eq(p.tenants[1].promote_bytes, 4 * MIB);
        ck_assert_uint_eq(p.tenants[2].promote_bytes, 4 * MIB);
        ck_assert_uint_eq(p.tenants[1].held_promote.limit, 10 * MIB);
        ck_assert_uint_eq(nest_tier0_after(&n, &p), 72 * MIB);
        plan_done(&p);
}
END_TEST

START_TEST(test_plan_share_low) {
        /* cgroup v2's rule: claims min(low, usage); over the parent's
         * protection, each in proportion to its claim */
        const size_t par[4] = { SIZE_MAX, 0, 0, 0 };
        uint64_t usage[4] = { 120, 40, 40, 40 }, low[4] = { 60, 60, 60, 60 }, sub[4], own[4];

        ck_assert_int_eq(plan_share_low(4, par, usage, low, sub, own), 0);
        ck_assert_uint_eq(sub[0], 60);
        ck_assert_uint_eq(own[0], 0);
        for (int i = 1; i < 4; i++) {
                ck_assert_uint_eq(sub[i], 20);
                ck_assert_uint_eq(own[i], 20);
        }
        ck_assert_uint_le(sub[1] + sub[2] + sub[3] + own[0], sub[0]);

        /* claims 10 + 40 (a low of 50 over a usage of 40) + 0, and the
         * parent's own processes (40): 90 <= 100, all granted, the parent
         * keeps the rest for its own */
        usage[0] = 160;
        low[0] = 100;
        low[1] = 10;
        low[2] = 50;
        low[3] = 0;
        ck_assert_int_eq(plan_share_low(4, par, usage, low, sub, own), 0);
        ck_assert_uint_eq(sub[1], 10);
        ck_assert_uint_eq(sub[2], 40);
        ck_assert_uint_eq(sub[3], 0);
        ck_assert_uint_eq(own[0], 50);

        /* a nested parent passes on its share, not its own low */
        {
                const size_t par3[3] = { SIZE_MAX, 0, 1 };
                uint64_t u3[3] = { 100, 100, 100 }, l3[3] = { 10, 1000, 1000 }, s3[3];

                ck_assert_int_eq(plan_share_low(3, par3, u3, l3, s3, NULL), 0);
                ck_assert_uint_eq(s3[0], 10);
                ck_assert_uint_eq(s3[1], 10);
                ck_assert_uint_eq(s3[2], 10);
        }
}
END_TEST

START_TEST(test_plan_nested_low_shared) {
        /* The fast tier is full; X (class 0, no parent) wants 100 MiB of
         * hot pages. A parent protecting 60 MiB holds three children of
         * class 2, each with 40 MiB of cold pages on tier 0 and a tier0.low
         * of 60 MiB copied from it: together they keep 60 MiB, 20 each,
         * and give the other 60. */
        ScanRange hx[] = { R(1, 0, 1, T1, 100 * MIB / P) };
        ScanRange c[3][1];
        TenantHeat h[5];
        PlanTenant t[5];
        PlanInput in;
        Plan p;

        input_init(&in, 2);
        in.tiers[0].free = 0;
        h[0] = (TenantHeat) { .hot = hx, .n_hot = 1 };
        tenant_init(&t[0], 1, 0, 100, &h[0]);
        h[1] = (TenantHeat) {};
        tenant_init(&t[1], 2, 2, 100, &h[1]);
        t[1].tier_low[0] = 60 * MIB;
        for (int i = 2; i < 5; i++) {
                c[i - 2][0] = R(0, 3, 10 + i, T0, 40 * MIB / P);
                h[i] = (TenantHeat) { .cold = c[i - 2], .n_cold = 1 };
                tenant_init(&t[i], (uint64_t) i + 1, 2, 100, &h[i]);
                t[i].parent = &t[1];
                t[i].tier_low[0] = 60 * MIB;
                t[i].current[0] = 40 * MIB;
                t[1].current[0] += 40 * MIB;
        }
        in.tenants = t;
        in.n_tenants = 5;
        ck_assert_int_eq(plan_and_commit(&in, &p), 0);
        for (int i = 2; i < 5; i++) {
                ck_assert_uint_eq(p.tenants[i].demote_bytes, 20 * MIB);
                ck_assert_uint_eq(p.tenants[i].tier_low[0], 20 * MIB);
                ck_assert_uint_eq(p.tenants[i].by_reason[PLAN_REASON_CONTENTION], 20 * MIB);
                ck_assert_uint_eq(p.tenants[i].held_demote.low, 20 * MIB);
        }
        ck_assert_uint_eq(p.tenants[1].tier_low[0], 60 * MIB);
        ck_assert_uint_eq(p.tenants[0].promote_bytes, 60 * MIB);
        plan_done(&p);
}
END_TEST

START_TEST(test_plan_nested_quota_bounded) {
        /* the parent's promotion bucket holds 12 MiB: its three children
         * (unlimited buckets of their own, 6 hot MiB each) promote 12 MiB
         * in all, 4 each, and once it is charged, nothing more at the same
         * instant */
        static const int age[3] = { 10, 3, 5 };
        static const uint32_t acc[3] = { 9, 2, 5 };
        TokenBucket ppq, pdq;
        Nest n;
        Plan p;

        nest_setup(&n, age, acc);
        n.t[0].tier_max[0] = NONE;
        for (int i = 1; i < 4; i++) {
                n.t[i].tier_max[0] = NONE;
                n.hot[i][0].end = n.hot[i][0].start + 6 * MIB;
        }
        token_bucket_init(&ppq, 1 * MIB, 12 * MIB, n.in.now_ms);
        n.t[0].promote_quota = &ppq;
        ck_assert_int_eq(plan_and_commit(&n.in, &p), 0);
        for (int i = 1; i < 4; i++) {
                ck_assert_uint_eq(p.tenants[i].promote_bytes, 4 * MIB);
                ck_assert_uint_eq(p.tenants[i].charge_promote, 4 * MIB);
                ck_assert_uint_eq(p.tenants[i].held_promote.quota, 2 * MIB);
        }
        ck_assert_uint_eq(ppq.tokens, 0);
        plan_done(&p);
        ck_assert_int_eq(plan_and_commit(&n.in, &p), 0);
        for (int i = 1; i < 4; i++) {
                ck_assert_uint_eq(p.tenants[i].promote_bytes, 0);
                ck_assert_uint_eq(p.tenants[i].held_promote.quota, 6 * MIB);
        }
        plan_done(&p);

        /* its demotion bucket (8 MiB) bounds what its limit demotes from
         * the children: the rest is held on it as quota */
        n.t[0].promote_quota = NULL;
        n.t[0].tier_max[0] = 64 * MIB;
        token_bucket_init(&pdq, 1 * MIB, 8 * MIB, n.in.now_ms);
        n.t[0].demote_quota = &pdq;
        ck_assert_int_eq(plan_and_commit(&n.in, &p), 0);
        ck_assert_uint_eq(p.tenants[1].demote_bytes + p.tenants[2].demote_bytes + p.tenants[3].demote_bytes,
                          8 * MIB);
        ck_assert_uint_eq(p.tenants[1].demote_bytes, 8 * MIB); /* the coldest */
        ck_assert_uint_eq(p.tenants[0].held_demote.quota, 48 * MIB);
        ck_assert_uint_eq(pdq.tokens, 0);
        plan_done(&p);

        /* a parent that is not an earlier element of the input: refused */
        n.t[0].parent = &n.t[1];
        ck_assert_int_eq(plan_compute(&n.in, &p), -EINVAL);
}
END_TEST

int main(void) {
        Suite *s = suite_create("planner");
        TCase *tc = tcase_create("plan");

        tcase_add_test(tc, test_plan_over_max_coldest_first_split);
        tcase_add_test(tc, test_plan_zero_capacity);
        tcase_add_test(tc, test_plan_all_tenants_over_limit);
        tcase_add_test(tc, test_plan_equal_classes_share_by_weight);
        tcase_add_test(tc, test_plan_empty_heat);
        tcase_add_test(tc, test_plan_quota_exhausted_then_refilled);
        tcase_add_test(tc, test_plan_global_budget_below_tenant_quotas);
        tcase_add_test(tc, test_plan_hysteresis_both_ways);
        tcase_add_test(tc, test_plan_observe_and_off);
        tcase_add_test(tc, test_plan_contention_by_class_and_low);
        tcase_add_test(tc, test_plan_unknown_tier_never_moved);
        tcase_add_test(tc, test_plan_headroom);
        tcase_add_test(tc, test_plan_ranges_split_to_budget);
        tcase_add_test(tc, test_plan_three_tiers);
        tcase_add_test(tc, test_plan_three_tiers_contention_on_middle_and_move_order);
        tcase_add_test(tc, test_plan_byte_only_tenant);
        tcase_add_test(tc, test_plan_contention_displaces_lower_class_hot_set);
        tcase_add_test(tc, test_plan_over_max_below_hot_set);
        tcase_add_test(tc, test_plan_node_choice_and_bad_input);
        tcase_add_test(tc, test_plan_swap_at_limit);
        tcase_add_test(tc, test_plan_swap_bounded_by_smaller_quota_and_budget);
        tcase_add_test(tc, test_plan_swap_only_hotter_for_colder);
        tcase_add_test(tc, test_plan_swap_hysteresis);
        tcase_add_test(tc, test_plan_swap_observe);
        tcase_add_test(tc, test_plan_unscanned_limit_takes_known_cold_only);
        tcase_add_test(tc, test_plan_unscanned_contention_keeps_warm_pages);
        tcase_add_test(tc, test_plan_unmapped_before_accessed_pages);
        tcase_add_test(tc, test_plan_contention_takes_unmapped_before_warm);
        tcase_add_test(tc, test_plan_unmapped_hot_bytes_kept_last);
        tcase_add_test(tc, test_plan_nested_unmapped_order);
        tcase_add_test(tc, test_plan_unmapped_promotions);
        tcase_add_test(tc, test_plan_unmapped_swept_cold_first_unknown_late);
        tcase_add_test(tc, test_plan_contention_takes_unmapped_hot_with_warm);
        tcase_add_test(tc, test_plan_contradicted_demotion_comes_back);
        tcase_add_test(tc, test_plan_nested_limit_covers_subtree);
        tcase_add_test(tc, test_plan_nested_limit_waits_for_coverage);
        tcase_add_test(tc, test_plan_nested_promotion_shares_parent_room);
        tcase_add_test(tc, test_plan_share_low);
        tcase_add_test(tc, test_plan_nested_low_shared);
        tcase_add_test(tc, test_plan_nested_quota_bounded);
        suite_add_tcase(s, tc);
        return unit_run(s);
}
