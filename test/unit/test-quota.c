/* SPDX-License-Identifier: MIT */
/* Token buckets (migrate/quota.c): refill by elapsed time, burst cap,
 * take/peek/refund, unlimited buckets, and a tenant bucket under the
 * global budget. */
#include <check.h>

#include "unit.h"

#include "quota.h"

#define KIB UINT64_C(1024)

START_TEST(test_bucket_starts_full_take_and_peek) {
        TokenBucket b;

        token_bucket_init(&b, 1000, 5000, 100);
        ck_assert_uint_eq(token_bucket_peek(&b, 100), 5000);
        ck_assert_uint_eq(token_bucket_take(&b, 3000, 100), 3000);
        ck_assert_uint_eq(token_bucket_peek(&b, 100), 2000);
        /* more than there is: what there is */
        ck_assert_uint_eq(token_bucket_take(&b, 9000, 100), 2000);
        ck_assert_uint_eq(token_bucket_peek(&b, 100), 0);
        ck_assert_uint_eq(token_bucket_take(&b, 1, 100), 0);
        /* peek does not change the bucket */
        ck_assert_uint_eq(token_bucket_peek(&b, 1100), 1000);
        ck_assert_uint_eq(b.tokens, 0);
        ck_assert_uint_eq(b.last_ms, 100);
}
END_TEST

START_TEST(test_bucket_refill_by_elapsed_ms_capped) {
        TokenBucket b;

        token_bucket_init(&b, 1000, 5000, 0);
        ck_assert_uint_eq(token_bucket_take(&b, 5000, 0), 5000);
        token_bucket_refill(&b, 1500); /* 1.5 s at 1000 B/s */
        ck_assert_uint_eq(b.tokens, 1500);
        token_bucket_refill(&b, 1501);
        ck_assert_uint_eq(b.tokens, 1501);
        token_bucket_refill(&b, 60000); /* a minute: capped at the burst */
        ck_assert_uint_eq(b.tokens, 5000);
        ck_assert_uint_eq(b.carry, 0);
}
END_TEST

START_TEST(test_bucket_carry_sub_byte) {
        /* 3 B/s refilled every millisecond: 3/1000 of a byte each time,
         * exactly 3 bytes a second, the same as one refill a second later */
        TokenBucket a, b;

        token_bucket_init(&a, 3, 100, 0);
        token_bucket_init(&b, 3, 100, 0);
        (void) token_bucket_take(&a, 100, 0);
        (void) token_bucket_take(&b, 100, 0);
        for (uint64_t ms = 1; ms <= 1000; ms++)
                token_bucket_refill(&a, ms);
        token_bucket_refill(&b, 1000);
        ck_assert_uint_eq(a.tokens, 3);
        ck_assert_uint_eq(b.tokens, 3);
        token_bucket_refill(&a, 1333); /* 0.999 more */
        ck_assert_uint_eq(a.tokens, 3);
        token_bucket_refill(&a, 1334);
        ck_assert_uint_eq(a.tokens, 4);
}
END_TEST

START_TEST(test_bucket_time_backwards_and_overflow) {
        TokenBucket b;

        token_bucket_init(&b, 1000, 5000, 10000);
        (void) token_bucket_take(&b, 5000, 10000);
        token_bucket_refill(&b, 9000); /* earlier: nothing, last kept */
        ck_assert_uint_eq(b.tokens, 0);
        ck_assert_uint_eq(b.last_ms, 10000);
        token_bucket_refill(&b, 11000);
        ck_assert_uint_eq(b.tokens, 1000);

        /* rate * ms beyond 64 bits saturates to the burst */
        token_bucket_init(&b, UINT64_MAX / 2, UINT64_MAX - 1, 0);
        (void) token_bucket_take(&b, UINT64_MAX - 1, 0);
        token_bucket_refill(&b, UINT64_C(1) << 40);
        ck_assert_uint_eq(b.tokens, UINT64_MAX - 1);
}
END_TEST

START_TEST(test_bucket_refund_capped) {
        TokenBucket b;

        token_bucket_init(&b, 10, 100, 0);
        (void) token_bucket_take(&b, 60, 0);
        token_bucket_refund(&b, 20);
        ck_assert_uint_eq(b.tokens, 60);
        token_bucket_refund(&b, 1000);
        ck_assert_uint_eq(b.tokens, 100);
}
END_TEST

START_TEST(test_bucket_unlimited_and_quantities) {
        Quantity unset = {}, max = { .set = true, .unlimited = true }, r8m = { .set = true, .bytes = 8 << 20 },
                 b32m = { .set = true, .bytes = 32 << 20 };
        TokenBucket b;

        token_bucket_init_unlimited(&b);
        ck_assert_uint_eq(token_bucket_peek(&b, 0), UINT64_MAX);
        ck_assert_uint_eq(token_bucket_take(&b, UINT64_C(1) << 50, 0), UINT64_C(1) << 50);
        ck_assert_uint_eq(token_bucket_peek(&b, 0), UINT64_MAX);

        token_bucket_init_quantity(&b, &unset, &b32m, 0);
        ck_assert(b.unlimited);
        token_bucket_init_quantity(&b, &max, &b32m, 0);
        ck_assert(b.unlimited);
        token_bucket_init_quantity(&b, &r8m, &b32m, 5);
        ck_assert(!b.unlimited);
        ck_assert_uint_eq(b.rate, 8 << 20);
        ck_assert_uint_eq(b.burst, 32 << 20);
        ck_assert_uint_eq(b.tokens, 32 << 20);
        ck_assert_uint_eq(b.last_ms, 5);
        /* a finite rate with burst "max" (or unset): one second's worth */
        token_bucket_init_quantity(&b, &r8m, &max, 0);
        ck_assert_uint_eq(b.burst, 8 << 20);
        token_bucket_init_quantity(&b, &r8m, &unset, 0);
        ck_assert_uint_eq(b.burst, 8 << 20);
}
END_TEST

START_TEST(test_bucket_reconfigure_keeps_tokens) {
        Quantity r1k = { .set = true, .bytes = 1000 }, b10k = { .set = true, .bytes = 10000 },
                 b2k = { .set = true, .bytes = 2000 }, max = { .set = true, .unlimited = true };
        TokenBucket b;

        token_bucket_init_quantity(&b, &r1k, &b10k, 0);
        (void) token_bucket_take(&b, 7000, 0); /* 3000 left */
        token_bucket_reconfigure(&b, &r1k, &b2k, 0);
        ck_assert_uint_eq(b.tokens, 2000); /* capped at the new burst */
        (void) token_bucket_take(&b, 2000, 0);
        token_bucket_reconfigure(&b, &r1k, &b10k, 500); /* refilled to the reload first */
        ck_assert_uint_eq(b.tokens, 500);
        ck_assert_uint_eq(b.burst, 10000);
        token_bucket_reconfigure(&b, &max, &b10k, 500);
        ck_assert(b.unlimited);
        token_bucket_reconfigure(&b, &r1k, &b10k, 600); /* from unlimited: full */
        ck_assert_uint_eq(b.tokens, 10000);
}
END_TEST

START_TEST(test_quota_tenant_under_global) {
        TokenBucket tenant, global;

        token_bucket_init(&tenant, 4 * KIB, 40 * KIB + 100, 0);
        token_bucket_init(&global, 8 * KIB, 24 * KIB, 0);
        /* the smaller of the two, rounded down to the page */
        ck_assert_uint_eq(quota_available(&tenant, &global, 4 * KIB, 0), 24 * KIB);
        ck_assert_uint_eq(quota_available(&tenant, NULL, 4 * KIB, 0), 40 * KIB);
        ck_assert_uint_eq(quota_available(&tenant, NULL, 1, 0), 40 * KIB + 100);
        ck_assert_uint_eq(quota_available(NULL, NULL, 4 * KIB, 0), UINT64_MAX & ~(4 * KIB - 1));
        ck_assert_uint_eq(quota_take(&tenant, &global, 100 * KIB, 4 * KIB, 0), 24 * KIB);
        ck_assert_uint_eq(tenant.tokens, 16 * KIB + 100);
        ck_assert_uint_eq(global.tokens, 0);
        ck_assert_uint_eq(quota_take(&tenant, &global, 4 * KIB, 4 * KIB, 0), 0);
        /* a second later the global has 8 KiB again */
        ck_assert_uint_eq(quota_take(&tenant, &global, 100 * KIB, 4 * KIB, 1000), 8 * KIB);
        /* the mover failed 4 KiB of it */
        quota_refund(&tenant, &global, 4 * KIB);
        ck_assert_uint_eq(global.tokens, 4 * KIB);
        ck_assert_uint_eq(tenant.tokens, 16 * KIB + 100);
}
END_TEST

int main(void) {
        Suite *s = suite_create("quota");
        TCase *tc = tcase_create("bucket");

        tcase_add_test(tc, test_bucket_starts_full_take_and_peek);
        tcase_add_test(tc, test_bucket_refill_by_elapsed_ms_capped);
        tcase_add_test(tc, test_bucket_carry_sub_byte);
        tcase_add_test(tc, test_bucket_time_backwards_and_overflow);
        tcase_add_test(tc, test_bucket_refund_capped);
        tcase_add_test(tc, test_bucket_unlimited_and_quantities);
        tcase_add_test(tc, test_bucket_reconfigure_keeps_tokens);
        tcase_add_test(tc, test_quota_tenant_under_global);
        suite_add_tcase(s, tc);
        return unit_run(s);
}
