/* SPDX-License-Identifier: MIT */
/* The ledger: per tenant, its quota buckets and what was moved for it, and
 * the global migration budget. The planner returns its charges (it plans
 * on copies of the buckets); the ledger commits them, and refunds what a
 * mover did not move. It is the only writer of the buckets. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "policy.h"
#include "quota.h"
#include "resolve.h"

typedef struct Account {
        uint64_t cgroup_id;
        char *path;
        TokenBucket promote, demote;
        bool seen;              /* a tenant in the current period */
        /* charged for a deferred mover's next period, settled when it
         * reports (what did not move is refunded then) */
        uint64_t pending_promote, pending_demote;
        uint64_t promoted, demoted, failed; /* bytes, since start */
        uint64_t errors;        /* failed mover calls, since start */
        unsigned said_failures; /* reasons already logged, 1 << MoveOutcome */
        uint64_t policy_sig;    /* of the effective policy last seen: a change resets its coverage */
        bool pending;           /* the last plan left it a decision to make: over a limit, hot bytes
                                 * held on a slower tier, a contention, bytes held as unscanned */
        unsigned unseen;        /* periods in a row the scanner gave it nothing (while it had processes) */
        uint64_t uprom_scale[2]; /* the quota scales of its unmapped pages' DAMOS schemes, promote and demote
                                  * (core/period.c uprom_settle(), damos_scale_next()); 0: none yet */
} Account;

typedef struct Ledger {
        Account *accounts;
        size_t n, alloc;
        TokenBucket budget;     /* the global migration budget */
        uint64_t promoted, demoted, failed; /* bytes, all tenants, since start */
} Ledger;

void ledger_init(Ledger *l, const Quantity *budget_rate, const Quantity *budget_burst, uint64_t now_ms);
void ledger_reconfigure(Ledger *l, const Quantity *budget_rate, const Quantity *budget_burst, uint64_t now_ms);
void ledger_done(Ledger *l);

/* The account of tenant ID, created with POL's quotas or reconfigured to
 * them, and marked seen. NULL: out of memory. Pointers stay valid until
 * ledger_prune(). */
Account *ledger_tenant(Ledger *l, uint64_t id, const char *path, const EffectivePolicy *pol, uint64_t now_ms);
Account *ledger_find(Ledger *l, uint64_t id);
/* Drops the accounts not seen since the last prune (their cgroup is gone
 * or lost its policy); clears seen on the others. */
void ledger_prune(Ledger *l);

/* Refills A's buckets and the budget to NOW (before a plan is made from
 * their levels). */
void ledger_refill(Ledger *l, Account *a, uint64_t now_ms);
/* Commits a plan's charges for A: PROMOTE and DEMOTE bytes from its
 * buckets and both from the budget. */
void ledger_charge(Ledger *l, Account *a, uint64_t promote, uint64_t demote, uint64_t now_ms);
/* Takes up to BYTES more (a mover moved more than planned): what the
 * buckets hold. */
void ledger_charge_extra(Ledger *l, Account *a, bool promote, uint64_t bytes, uint64_t now_ms);
/* Gives BYTES back to A's bucket for the direction and to the budget. */
void ledger_refund(Ledger *l, Account *a, bool promote, uint64_t bytes);
/* An ancestor tenant's part of a nested tenant's charge or refund: its
 * buckets bound its subtree's moves (core/planner.h), so A's bucket for
 * the direction takes (or gets back) BYTES too; the budget, charged once
 * by the nested tenant's own charge, is left alone. */
void ledger_charge_bucket(Account *a, bool promote, uint64_t bytes, uint64_t now_ms);
void ledger_refund_bucket(Account *a, bool promote, uint64_t bytes);
/* Adds what moved for A (bytes) to its totals and the ledger's. */
void ledger_moved(Ledger *l, Account *a, uint64_t promoted, uint64_t demoted, uint64_t failed);
