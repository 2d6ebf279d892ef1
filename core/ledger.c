/* SPDX-License-Identifier: MIT */
#include "ledger.h"

#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "util.h"

void ledger_init(Ledger *l, const Quantity *budget_rate, const Quantity *budget_burst, uint64_t now_ms) {
        *l = (Ledger) {};
        token_bucket_init_quantity(&l->budget, budget_rate, budget_burst, now_ms);
}

void ledger_reconfigure(Ledger *l, const Quantity *budget_rate, const Quantity *budget_burst, uint64_t now_ms) {
        token_bucket_reconfigure(&l->budget, budget_rate, budget_burst, now_ms);
}

void ledger_done(Ledger *l) {
        for (size_t i = 0; i < l->n; i++)
                free(l->accounts[i].path);
        free(l->accounts);
        *l = (Ledger) {};
}

Account *ledger_find(Ledger *l, uint64_t id) {
        for (size_t i = 0; i < l->n; i++)
                if (l->accounts[i].cgroup_id == id)
                        return &l->accounts[i];
        return NULL;
}

Account *ledger_tenant(Ledger *l, uint64_t id, const char *path, const EffectivePolicy *pol, uint64_t now_ms) {
        Account *a = ledger_find(l, id);

        if (!a) {
                if (l->n == l->alloc) {
                        size_t n = l->alloc ? l->alloc * 2 : 16;
                        Account *na = realloc(l->accounts, n * sizeof(*na));

                        if (!na)
                                return NULL;
                        l->accounts = na;
                        l->alloc = n;
                }
                a = &l->accounts[l->n];
                *a = (Account) { .cgroup_id = id };
                a->path = strdup(path);
                if (!a->path)
                        return NULL;
                token_bucket_init_quantity(&a->promote, &pol->promote_rate.value, &pol->promote_burst.value, now_ms);
                token_bucket_init_quantity(&a->demote, &pol->demote_rate.value, &pol->demote_burst.value, now_ms);
                l->n++;
                log_debug("tenant %s (cgroup id %" PRIu64 ") appears", path, id);
        } else {
                token_bucket_reconfigure(&a->promote, &pol->promote_rate.value, &pol->promote_burst.value, now_ms);
                token_bucket_reconfigure(&a->demote, &pol->demote_rate.value, &pol->demote_burst.value, now_ms);
        }
        a->seen = true;
        return a;
}

void ledger_prune(Ledger *l) {
        size_t j = 0;

        for (size_t i = 0; i < l->n; i++) {
                if (l->accounts[i].seen) {
                        l->accounts[i].seen = false;
                        l->accounts[j++] = l->accounts[i];
                } else {
                        log_event(LOG_LVL_INFO, "vanished", l->accounts[i].path,
                                  "tenant %s is gone (its cgroup was removed or lost its policy)",
                                  l->accounts[i].path);
                        free(l->accounts[i].path);
                }
        }
        l->n = j;
}

void ledger_refill(Ledger *l, Account *a, uint64_t now_ms) {
        token_bucket_refill(&a->promote, now_ms);
        token_bucket_refill(&a->demote, now_ms);
        token_bucket_refill(&l->budget, now_ms);
}

void ledger_charge(Ledger *l, Account *a, uint64_t promote, uint64_t demote, uint64_t now_ms) {
        (void) token_bucket_take(&a->promote, promote, now_ms);
        (void) token_bucket_take(&a->demote, demote, now_ms);
        (void) token_bucket_take(&l->budget, promote + demote, now_ms);
}

void ledger_charge_extra(Ledger *l, Account *a, bool promote, uint64_t bytes, uint64_t now_ms) {
        (void) quota_take(promote ? &a->promote : &a->demote, &l->budget, bytes, 1, now_ms);
}

void ledger_refund(Ledger *l, Account *a, bool promote, uint64_t bytes) {
        if (bytes)
                quota_refund(promote ? &a->promote : &a->demote, &l->budget, bytes);
}

void ledger_charge_bucket(Account *a, bool promote, uint64_t bytes, uint64_t now_ms) {
        if (bytes)
                (void) token_bucket_take(promote ? &a->promote : &a->demote, bytes, now_ms);
}

void ledger_refund_bucket(Account *a, bool promote, uint64_t bytes) {
        if (bytes)
                token_bucket_refund(promote ? &a->promote : &a->demote, bytes);
}

void ledger_moved(Ledger *l, Account *a, uint64_t promoted, uint64_t demoted, uint64_t failed) {
        a->promoted += promoted;
        a->demoted += demoted;
        a->failed += failed;
        l->promoted += promoted;
        l->demoted += demoted;
        l->failed += failed;
}
