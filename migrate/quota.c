/* SPDX-License-Identifier: MIT */
/* Token buckets for migration quotas (see quota.h). */
#include "quota.h"

#include "util.h"

void token_bucket_init(TokenBucket *b, uint64_t rate, uint64_t burst, uint64_t now_ms) {
        *b = (TokenBucket) { .rate = rate, .burst = burst, .tokens = burst, .last_ms = now_ms };
}

void token_bucket_init_unlimited(TokenBucket *b) {
        *b = (TokenBucket) { .unlimited = true, .rate = UINT64_MAX, .burst = UINT64_MAX, .tokens = UINT64_MAX };
}

void token_bucket_init_quantity(TokenBucket *b, const Quantity *rate, const Quantity *burst, uint64_t now_ms) {
        if (!rate->set || rate->unlimited) {
                token_bucket_init_unlimited(b);
                return;
        }
        token_bucket_init(b, rate->bytes, burst->set && !burst->unlimited ? burst->bytes : rate->bytes, now_ms);
}

void token_bucket_reconfigure(TokenBucket *b, const Quantity *rate, const Quantity *burst, uint64_t now_ms) {
        TokenBucket old = *b;

        token_bucket_refill(&old, now_ms);
        token_bucket_init_quantity(b, rate, burst, now_ms);
        if (!b->unlimited && !old.unlimited)
                b->tokens = min_u64(old.tokens, b->burst);
}

/* Earned since b->last_ms, in whole bytes, and the new carry. */
static uint64_t earned(const TokenBucket *b, uint64_t now_ms, uint64_t *ret_carry) {
        uint64_t ms = now_ms - b->last_ms, milli;

        /* rate * ms in thousandths of a byte; saturating: a product that
         * big is more than any burst anyway */
        if (__builtin_mul_overflow(b->rate, ms, &milli) || __builtin_add_overflow(milli, b->carry, &milli)) {
                *ret_carry = 0;
                return UINT64_MAX;
        }
        *ret_carry = milli % 1000;
        return milli / 1000;
}

void token_bucket_refill(TokenBucket *b, uint64_t now_ms) {
        uint64_t add, carry;

        if (b->unlimited || now_ms <= b->last_ms)
                return;
        add = earned(b, now_ms, &carry);
        b->last_ms = now_ms;
        if (add >= b->burst - min_u64(b->tokens, b->burst)) {
                b->tokens = b->burst;
                b->carry = 0; /* a full bucket earns nothing more */
        } else {
                b->tokens += add;
                b->carry = carry;
        }
}

uint64_t token_bucket_peek(const TokenBucket *b, uint64_t now_ms) {
        TokenBucket c = *b;

        if (b->unlimited)
                return UINT64_MAX;
        token_bucket_refill(&c, now_ms);
        return c.tokens;
}

uint64_t token_bucket_take(TokenBucket *b, uint64_t bytes, uint64_t now_ms) {
        uint64_t n;

        if (b->unlimited)
                return bytes;
        token_bucket_refill(b, now_ms);
        n = min_u64(bytes, b->tokens);
        b->tokens -= n;
        return n;
}

void token_bucket_refund(TokenBucket *b, uint64_t bytes) {
        if (b->unlimited)
                return;
        b->tokens = bytes >= b->burst - min_u64(b->tokens, b->burst) ? b->burst : b->tokens + bytes;
}

uint64_t quota_available(const TokenBucket *tenant, const TokenBucket *global, uint64_t granule, uint64_t now_ms) {
        uint64_t n = UINT64_MAX;

        if (tenant)
                n = min_u64(n, token_bucket_peek(tenant, now_ms));
        if (global)
                n = min_u64(n, token_bucket_peek(global, now_ms));
        if (granule > 1)
                n &= ~(granule - 1);
        return n;
}

uint64_t quota_take(TokenBucket *tenant, TokenBucket *global, uint64_t bytes, uint64_t granule, uint64_t now_ms) {
        uint64_t n = min_u64(bytes, quota_available(tenant, global, granule, now_ms));

        if (tenant)
                (void) token_bucket_take(tenant, n, now_ms);
        if (global)
                (void) token_bucket_take(global, n, now_ms);
        return n;
}

void quota_refund(TokenBucket *tenant, TokenBucket *global, uint64_t bytes) {
        if (tenant)
                token_bucket_refund(tenant, bytes);
        if (global)
                token_bucket_refund(global, bytes);
}
