/* SPDX-License-Identifier: MIT */
/* Migration quotas: token buckets in bytes (pure: time is an argument).
 *
 * A bucket holds up to BURST bytes of tokens and gains RATE bytes per
 * second, counted in milliseconds with the sub-byte remainder carried, so
 * refilling every millisecond or once a minute gives the same tokens. A new
 * bucket starts full. Moving N bytes takes N tokens; what a mover failed to
 * move is refunded (never above the burst).
 *
 * tierd keeps one bucket per tenant and direction (promote.rate/.burst,
 * demote.rate/.burst) and one global bucket for the migration budget, which
 * every move, in either direction, is also charged to (quota_take()).
 *
 * Unlimited: a rate of "max" makes the bucket unlimited (peek answers
 * UINT64_MAX, take always succeeds). A finite rate with burst "max" keeps
 * one second of the rate as the burst: a bucket that could bank tokens
 * forever would allow any burst after a quiet period, which is what a
 * quota exists to prevent. A burst below one page (4 KiB) never lets a
 * page-granular mover move anything. */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "policy.h"

typedef struct TokenBucket {
        bool unlimited;
        uint64_t rate;          /* bytes per second */
        uint64_t burst;         /* bytes: the most the bucket holds */
        uint64_t tokens;        /* bytes available at last_ms */
        uint64_t last_ms;       /* time of the last refill */
        uint64_t carry;         /* rate * ms not yet worth one byte, in 1/1000 bytes */
} TokenBucket;

/* A full bucket of RATE bytes/s and BURST bytes at NOW_MS. */
void token_bucket_init(TokenBucket *b, uint64_t rate, uint64_t burst, uint64_t now_ms);
void token_bucket_init_unlimited(TokenBucket *b);
/* From the policy's quantities (unset counts as unlimited; see above for
 * a burst of "max"). */
void token_bucket_init_quantity(TokenBucket *b, const Quantity *rate, const Quantity *burst, uint64_t now_ms);
/* A configuration reload: new rate and burst, tokens kept (capped at the
 * new burst; a bucket that was unlimited starts full). */
void token_bucket_reconfigure(TokenBucket *b, const Quantity *rate, const Quantity *burst, uint64_t now_ms);

/* Adds the tokens earned since the last refill (capped at the burst). A
 * NOW_MS before the last refill adds nothing. */
void token_bucket_refill(TokenBucket *b, uint64_t now_ms);
/* Tokens available at NOW_MS, without changing the bucket; UINT64_MAX when
 * unlimited. */
uint64_t token_bucket_peek(const TokenBucket *b, uint64_t now_ms);
/* Refills to NOW_MS and takes min(BYTES, available); returns what it took. */
uint64_t token_bucket_take(TokenBucket *b, uint64_t bytes, uint64_t now_ms);
/* Gives back BYTES that were taken but not used (capped at the burst). */
void token_bucket_refund(TokenBucket *b, uint64_t bytes);

/* Both a tenant's bucket and the global one (either may be NULL:
 * unlimited): what both allow at NOW_MS, rounded down to GRANULE bytes (a
 * power of two, or 1). */
uint64_t quota_available(const TokenBucket *tenant, const TokenBucket *global, uint64_t granule, uint64_t now_ms);
/* Takes min(BYTES, quota_available()) from both and returns it. */
uint64_t quota_take(TokenBucket *tenant, TokenBucket *global, uint64_t bytes, uint64_t granule, uint64_t now_ms);
/* Refunds BYTES to both (a mover's failures). */
void quota_refund(TokenBucket *tenant, TokenBucket *global, uint64_t bytes);
