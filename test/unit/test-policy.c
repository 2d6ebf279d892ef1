/* SPDX-License-Identifier: MIT */
#include <check.h>

#include "unit.h"
#include <string.h>

#include "policy.h"
#include "util.h"

START_TEST(test_policy_key_parse_names) {
        PolicyKey k;
        int t;

        ck_assert_int_eq(policy_key_parse("class", &k, &t), 0);
        ck_assert_int_eq(k, KEY_CLASS);
        ck_assert_int_eq(t, -1);
        ck_assert_int_eq(policy_key_parse("mode", &k, &t), 0);
        ck_assert_int_eq(k, KEY_MODE);
        ck_assert_int_eq(policy_key_parse("promote.rate", &k, &t), 0);
        ck_assert_int_eq(k, KEY_PROMOTE_RATE);
        ck_assert_int_eq(policy_key_parse("promote.burst", &k, &t), 0);
        ck_assert_int_eq(k, KEY_PROMOTE_BURST);
        ck_assert_int_eq(policy_key_parse("demote.rate", &k, &t), 0);
        ck_assert_int_eq(k, KEY_DEMOTE_RATE);
        ck_assert_int_eq(policy_key_parse("demote.burst", &k, &t), 0);
        ck_assert_int_eq(k, KEY_DEMOTE_BURST);
        ck_assert_int_eq(t, -1);
}
END_TEST

START_TEST(test_policy_key_parse_tiers) {
        PolicyKey k;
        int t;

        ck_assert_int_eq(policy_key_parse("tier0.max", &k, &t), 0);
        ck_assert_int_eq(k, KEY_TIER_MAX);
        ck_assert_int_eq(t, 0);
        ck_assert_int_eq(policy_key_parse("tier3.low", &k, &t), 0);
        ck_assert_int_eq(k, KEY_TIER_LOW);
        ck_assert_int_eq(t, 3);
        ck_assert_int_eq(policy_key_parse("tier4.max", &k, &t), -ERANGE);
        ck_assert_int_eq(policy_key_parse("tier10.low", &k, &t), -ERANGE);
        ck_assert_int_eq(policy_key_parse("tier99999999999999999999999.max", &k, &t), -ERANGE);
}
END_TEST

START_TEST(test_policy_key_parse_unknown) {
        static const char *const bad[] = {
                "", "Class", "class ", "promote", "promote.", "rate", "tier", "tier0", "tier.max", "tier01.max",
                "tier0.min", "tier0.max.x", "tier-1.max", "tierx.max", "tier0max", "mode\n",
        };
        PolicyKey k = KEY_MODE;
        int t = 7;

        for (size_t i = 0; i < ELEMENTSOF(bad); i++)
                ck_assert_msg(policy_key_parse(bad[i], &k, &t) == -EINVAL, "key '%s' accepted", bad[i]);
        ck_assert_int_eq(k, KEY_MODE); /* untouched */
        ck_assert_int_eq(t, 7);
}
END_TEST

static uint64_t size_ok(const char *s) {
        const char *why = NULL;
        uint64_t v = 0;

        ck_assert_msg(policy_parse_size(s, &v, &why) == 0, "'%s' rejected: %s", s, why);
        return v;
}

START_TEST(test_policy_parse_size_valid) {
        ck_assert_uint_eq(size_ok("0"), 0);
        ck_assert_uint_eq(size_ok("4096"), 4096);
        ck_assert_uint_eq(size_ok("007"), 7);
        ck_assert_uint_eq(size_ok("4096B"), 4096);
        ck_assert_uint_eq(size_ok("4096b"), 4096);
        ck_assert_uint_eq(size_ok("1K"), 1024);
        ck_assert_uint_eq(size_ok("512M"), UINT64_C(512) << 20);
        ck_assert_uint_eq(size_ok("4G"), UINT64_C(4) << 30);
        ck_assert_uint_eq(size_ok("4g"), UINT64_C(4) << 30);
        ck_assert_uint_eq(size_ok("4GiB"), UINT64_C(4) << 30);
        ck_assert_uint_eq(size_ok("4gib"), UINT64_C(4) << 30);
        ck_assert_uint_eq(size_ok("4GB"), UINT64_C(4) << 30);
        ck_assert_uint_eq(size_ok("4gB"), UINT64_C(4) << 30);
        ck_assert_uint_eq(size_ok("2T"), UINT64_C(2) << 40);
        ck_assert_uint_eq(size_ok("3P"), UINT64_C(3) << 50);
        ck_assert_uint_eq(size_ok("1E"), UINT64_C(1) << 60);
        ck_assert_uint_eq(size_ok("0K"), 0);
}
END_TEST

START_TEST(test_policy_parse_size_fractions) {
        ck_assert_uint_eq(size_ok("1.5G"), UINT64_C(3) << 29);
        ck_assert_uint_eq(size_ok("1.5k"), 1536);
        ck_assert_uint_eq(size_ok("0.5KiB"), 512);
        ck_assert_uint_eq(size_ok("1.0M"), UINT64_C(1) << 20);
        /* rounded down to a byte */
        ck_assert_uint_eq(size_ok("0.001K"), 1);  /* 1.024 */
        ck_assert_uint_eq(size_ok("0.0009K"), 0); /* 0.9216 */
        ck_assert_uint_eq(size_ok("0.999999999999999999K"), 1023);
        ck_assert_uint_eq(size_ok("15.5E"), (UINT64_C(31) << 59));
}
END_TEST

START_TEST(test_policy_parse_size_boundaries) {
        const char *why;
        uint64_t v = 42;

        ck_assert_uint_eq(size_ok("18446744073709551615"), UINT64_MAX);
        ck_assert_uint_eq(size_ok("15E"), UINT64_C(15) << 60);
        ck_assert_uint_eq(size_ok("16383P"), UINT64_C(16383) << 50);

        why = NULL;
        ck_assert_int_eq(policy_parse_size("18446744073709551616", &v, &why), -ERANGE);
        ck_assert_str_eq(why, "is too large");
        ck_assert_int_eq(policy_parse_size("16E", &v, &why), -ERANGE);
        ck_assert_str_eq(why, "is too large");
        ck_assert_int_eq(policy_parse_size("16384P", &v, &why), -ERANGE);
        ck_assert_int_eq(policy_parse_size("16.0E", &v, &why), -ERANGE);
        ck_assert_int_eq(policy_parse_size("99999999999999999999999999G", &v, &why), -ERANGE);
        ck_assert_uint_eq(v, 42);
        /* a syntax error beats an overflow */
        ck_assert_int_eq(policy_parse_size("99999999999999999999999999Q", &v, &why), -EINVAL);
        ck_assert_str_eq(why, "is not a size");
}
END_TEST

START_TEST(test_policy_parse_size_invalid) {
        static const char *const bad[] = {
                "", " 4G", "4G ", "4 G", "12Q", "-1", "+1", ".5G", "1.G", "1..5G", "G", "4iB", "4KiBB", "4KB ",
                "4Ki", "4BB", "0x10", "1e3", "4,5G", "max", "25%",
        };
        const char *why;
        uint64_t v = 42;

        for (size_t i = 0; i < ELEMENTSOF(bad); i++) {
                why = NULL;
                ck_assert_msg(policy_parse_size(bad[i], &v, &why) == -EINVAL, "'%s' accepted", bad[i]);
                ck_assert_str_eq(why, "is not a size");
        }
        ck_assert_int_eq(policy_parse_size("1.5", &v, &why), -EINVAL);
        ck_assert_str_eq(why, "is not a whole number of bytes (a fraction needs a unit)");
        ck_assert_int_eq(policy_parse_size("1.5B", &v, &why), -EINVAL);
        ck_assert_str_eq(why, "is not a whole number of bytes (a fraction needs a unit)");
        ck_assert_uint_eq(v, 42);
        ck_assert_int_eq(policy_parse_size("12Q", &v, NULL), -EINVAL); /* why is optional */
}
END_TEST

START_TEST(test_policy_parse_limit) {
        const char *why;
        Limit l;

        ck_assert_int_eq(policy_parse_limit("max", &l, &why), 0);
        ck_assert_int_eq(l.kind, LIMIT_MAX);
        ck_assert_int_eq(policy_parse_limit("4G", &l, &why), 0);
        ck_assert_int_eq(l.kind, LIMIT_BYTES);
        ck_assert_uint_eq(l.bytes, UINT64_C(4) << 30);
        ck_assert_int_eq(policy_parse_limit("0", &l, &why), 0);
        ck_assert_int_eq(l.kind, LIMIT_BYTES);
        ck_assert_uint_eq(l.bytes, 0);
        ck_assert_int_eq(policy_parse_limit("0%", &l, &why), 0);
        ck_assert_int_eq(l.kind, LIMIT_PERCENT);
        ck_assert_uint_eq(l.permyriad, 0);
        ck_assert_int_eq(policy_parse_limit("25%", &l, &why), 0);
        ck_assert_uint_eq(l.permyriad, 2500);
        ck_assert_int_eq(policy_parse_limit("12.5%", &l, &why), 0);
        ck_assert_uint_eq(l.permyriad, 1250);
        ck_assert_int_eq(policy_parse_limit("0.01%", &l, &why), 0);
        ck_assert_uint_eq(l.permyriad, 1);
        ck_assert_int_eq(policy_parse_limit("100%", &l, &why), 0);
        ck_assert_uint_eq(l.permyriad, 10000);
        ck_assert_int_eq(policy_parse_limit("100.00%", &l, &why), 0);
        ck_assert_uint_eq(l.permyriad, 10000);
}
END_TEST

START_TEST(test_policy_parse_limit_invalid) {
        const char *why;
        Limit l = { .kind = LIMIT_BYTES, .bytes = 42 };

        ck_assert_int_eq(policy_parse_limit("100.01%", &l, &why), -ERANGE);
        ck_assert_str_eq(why, "is above 100%");
        ck_assert_int_eq(policy_parse_limit("150%", &l, &why), -ERANGE);
        ck_assert_str_eq(why, "is above 100%");
        ck_assert_int_eq(policy_parse_limit("99999999999999999999999%", &l, &why), -ERANGE);
        ck_assert_int_eq(policy_parse_limit("12.345%", &l, &why), -EINVAL);
        ck_assert_str_eq(why, "has more than two decimals");
        ck_assert_int_eq(policy_parse_limit("%", &l, &why), -EINVAL);
        ck_assert_str_eq(why, "is not a percentage");
        ck_assert_int_eq(policy_parse_limit("5 %", &l, &why), -EINVAL);
        ck_assert_int_eq(policy_parse_limit("-5%", &l, &why), -EINVAL);
        ck_assert_int_eq(policy_parse_limit("5%%", &l, &why), -EINVAL);
        ck_assert_int_eq(policy_parse_limit("5.%", &l, &why), -EINVAL);
        ck_assert_int_eq(policy_parse_limit("MAX", &l, &why), -EINVAL);
        ck_assert_str_eq(why, "is not a size");
        ck_assert_int_eq(policy_parse_limit("12Q", &l, &why), -EINVAL);
        ck_assert_str_eq(why, "is not a size");
        ck_assert_int_eq(policy_parse_limit("", &l, &why), -EINVAL);
        ck_assert_int_eq(policy_parse_limit("16E", &l, &why), -ERANGE);
        ck_assert_int_eq(l.kind, LIMIT_BYTES);
        ck_assert_uint_eq(l.bytes, 42);
}
END_TEST

START_TEST(test_policy_parse_quantity) {
        const char *why;
        Quantity q;

        ck_assert_int_eq(policy_parse_quantity("max", &q, &why), 0);
        ck_assert(q.set && q.unlimited);
        ck_assert_int_eq(policy_parse_quantity("64M", &q, &why), 0);
        ck_assert(q.set && !q.unlimited);
        ck_assert_uint_eq(q.bytes, UINT64_C(64) << 20);
        ck_assert_int_eq(policy_parse_quantity("0", &q, &why), 0);
        ck_assert(q.set && !q.unlimited);
        ck_assert_uint_eq(q.bytes, 0);
        ck_assert_int_eq(policy_parse_quantity("50%", &q, &why), -EINVAL);
        ck_assert_str_eq(why, "is a percentage, but rates and bursts take a size or max");
        ck_assert_int_eq(policy_parse_quantity("fast", &q, &why), -EINVAL);
        ck_assert_str_eq(why, "is not a size");
        ck_assert_int_eq(policy_parse_quantity("16E", &q, &why), -ERANGE);
        ck_assert_str_eq(why, "is too large");
}
END_TEST

START_TEST(test_policy_parse_mode) {
        const char *why;
        PolicyMode m = MODE_UNSET;

        ck_assert_int_eq(policy_parse_mode("enforce", &m, &why), 0);
        ck_assert_int_eq(m, MODE_ENFORCE);
        ck_assert_int_eq(policy_parse_mode("observe", &m, &why), 0);
        ck_assert_int_eq(m, MODE_OBSERVE);
        ck_assert_int_eq(policy_parse_mode("off", &m, &why), 0);
        ck_assert_int_eq(m, MODE_OFF);
        ck_assert_int_eq(policy_parse_mode("fast", &m, &why), -EINVAL);
        ck_assert_str_eq(why, "is not one of enforce, observe, off");
        ck_assert_int_eq(policy_parse_mode("Enforce", &m, &why), -EINVAL);
        ck_assert_int_eq(policy_parse_mode("unset", &m, &why), -EINVAL);
        ck_assert_int_eq(policy_parse_mode("", &m, &why), -EINVAL);
        ck_assert_int_eq(m, MODE_OFF);
        ck_assert(MODE_OFF < MODE_OBSERVE && MODE_OBSERVE < MODE_ENFORCE);
        ck_assert_str_eq(policy_mode_to_string(MODE_ENFORCE), "enforce");
        ck_assert_str_eq(policy_mode_to_string(MODE_OBSERVE), "observe");
        ck_assert_str_eq(policy_mode_to_string(MODE_OFF), "off");
        ck_assert_str_eq(policy_mode_to_string(MODE_UNSET), "unset");
}
END_TEST

START_TEST(test_policy_parse_class_name) {
        char name[80];
        const char *why;

        ck_assert_int_eq(policy_parse_class_name("batch", &why), 0);
        ck_assert_int_eq(policy_parse_class_name("A_b-9", &why), 0);
        ck_assert_int_eq(policy_parse_class_name("x", &why), 0);
        memset(name, 'a', 63);
        name[63] = '\0';
        ck_assert_int_eq(policy_parse_class_name(name, &why), 0);
        name[63] = 'a';
        name[64] = '\0';
        ck_assert_int_eq(policy_parse_class_name(name, &why), -ERANGE);
        ck_assert_str_eq(why, "is too long for a class name (at most 63 characters)");
        ck_assert_int_eq(policy_parse_class_name("", &why), -EINVAL);
        ck_assert_str_eq(why, "is not a class name: it is empty");
        ck_assert_int_eq(policy_parse_class_name("a b", &why), -EINVAL);
        ck_assert_str_eq(why, "is not a class name (letters, digits, '_' and '-' only)");
        ck_assert_int_eq(policy_parse_class_name("a.b", &why), -EINVAL);
        ck_assert_int_eq(policy_parse_class_name("a/b", &why), -EINVAL);
        ck_assert_int_eq(policy_parse_class_name("gold\n", &why), -EINVAL);
        ck_assert_int_eq(policy_parse_class_name("\xc3\xa4", &why), -EINVAL);
}
END_TEST

START_TEST(test_policy_spec_set_values) {
        PolicySpec s = {};
        const char *why;

        ck_assert_int_eq(policy_spec_set(&s, "class", "batch", &why), 0);
        ck_assert_str_eq(s.class_name, "batch");
        ck_assert_int_eq(policy_spec_set(&s, "mode", "observe", &why), 0);
        ck_assert_int_eq(s.mode, MODE_OBSERVE);
        ck_assert_int_eq(policy_spec_set(&s, "promote.rate", "64M", &why), 0);
        ck_assert(s.promote_rate.set);
        ck_assert_uint_eq(s.promote_rate.bytes, UINT64_C(64) << 20);
        ck_assert_int_eq(policy_spec_set(&s, "promote.burst", "max", &why), 0);
        ck_assert(s.promote_burst.set && s.promote_burst.unlimited);
        ck_assert_int_eq(policy_spec_set(&s, "demote.rate", "max", &why), 0);
        ck_assert(s.demote_rate.unlimited);
        ck_assert_int_eq(policy_spec_set(&s, "demote.burst", "1G", &why), 0);
        ck_assert_uint_eq(s.demote_burst.bytes, UINT64_C(1) << 30);
        ck_assert_int_eq(policy_spec_set(&s, "tier0.max", "4G", &why), 0);
        ck_assert_int_eq(s.tier_max[0].kind, LIMIT_BYTES);
        ck_assert_int_eq(policy_spec_set(&s, "tier3.low", "25%", &why), 0);
        ck_assert_int_eq(s.tier_low[3].kind, LIMIT_PERCENT);
        ck_assert_uint_eq(s.tier_low[3].permyriad, 2500);
        ck_assert_int_eq(s.tier_max[1].kind, LIMIT_UNSET);
}
END_TEST

START_TEST(test_policy_spec_set_failure_changes_nothing) {
        PolicySpec s = {}, before;
        const char *why;

        ck_assert_int_eq(policy_spec_set(&s, "class", "batch", &why), 0);
        ck_assert_int_eq(policy_spec_set(&s, "tier0.max", "4G", &why), 0);
        before = s;

        ck_assert_int_eq(policy_spec_set(&s, "tier0.max", "12Q", &why), -EINVAL);
        ck_assert_str_eq(why, "is not a size");
        ck_assert_int_eq(policy_spec_set(&s, "tier0.max", "150%", &why), -ERANGE);
        ck_assert_str_eq(why, "is above 100%");
        ck_assert_int_eq(policy_spec_set(&s, "class", "no such", &why), -EINVAL);
        ck_assert_int_eq(policy_spec_set(&s, "mode", "fast", &why), -EINVAL);
        ck_assert_str_eq(why, "is not one of enforce, observe, off");
        ck_assert_int_eq(policy_spec_set(&s, "promote.rate", "10%", &why), -EINVAL);
        ck_assert_int_eq(policy_spec_set(&s, "bogus", "1", &why), -ENOKEY);
        ck_assert_str_eq(why, "is for an unknown key");
        ck_assert_int_eq(policy_spec_set(&s, "tier4.max", "1G", &why), -ENOKEY);
        ck_assert_str_eq(why, "is for a tier out of range (tiers are 0..3)");
        ck_assert_mem_eq(&s, &before, sizeof(s));
}
END_TEST

START_TEST(test_policy_spec_overlay) {
        PolicySpec dst = {}, src = {};
        const char *why;

        ck_assert_int_eq(policy_spec_set(&dst, "class", "batch", &why), 0);
        ck_assert_int_eq(policy_spec_set(&dst, "mode", "enforce", &why), 0);
        ck_assert_int_eq(policy_spec_set(&dst, "tier0.max", "4G", &why), 0);
        ck_assert_int_eq(policy_spec_set(&dst, "promote.rate", "64M", &why), 0);
        ck_assert_int_eq(policy_spec_set(&src, "mode", "observe", &why), 0);
        ck_assert_int_eq(policy_spec_set(&src, "tier0.max", "25%", &why), 0);
        ck_assert_int_eq(policy_spec_set(&src, "tier1.low", "max", &why), 0);
        ck_assert_int_eq(policy_spec_set(&src, "demote.burst", "max", &why), 0);

        policy_spec_overlay(&dst, &src);
        ck_assert_str_eq(dst.class_name, "batch");              /* unset in src: kept */
        ck_assert_int_eq(dst.mode, MODE_OBSERVE);               /* src wins */
        ck_assert_int_eq(dst.tier_max[0].kind, LIMIT_PERCENT);
        ck_assert_uint_eq(dst.tier_max[0].permyriad, 2500);
        ck_assert_int_eq(dst.tier_low[1].kind, LIMIT_MAX);
        ck_assert_uint_eq(dst.promote_rate.bytes, UINT64_C(64) << 20);
        ck_assert(dst.demote_burst.set && dst.demote_burst.unlimited);
        ck_assert(!dst.demote_rate.set);

        /* an empty overlay changes nothing */
        src = (PolicySpec) {};
        {
                PolicySpec before = dst;

                policy_spec_overlay(&dst, &src);
                ck_assert_mem_eq(&dst, &before, sizeof(dst));
        }
}
END_TEST

START_TEST(test_limit_to_string) {
        char buf[32];
        Limit l;

        l = (Limit) { .kind = LIMIT_BYTES, .bytes = UINT64_C(512) << 20 };
        ck_assert_str_eq(limit_to_string(&l, buf, sizeof(buf)), "512M");
        l.bytes = UINT64_C(4) << 30;
        ck_assert_str_eq(limit_to_string(&l, buf, sizeof(buf)), "4G");
        l.bytes = UINT64_C(3) << 29; /* 1.5G */
        ck_assert_str_eq(limit_to_string(&l, buf, sizeof(buf)), "1536M");
        l.bytes = 4097;
        ck_assert_str_eq(limit_to_string(&l, buf, sizeof(buf)), "4097");
        l.bytes = 0;
        ck_assert_str_eq(limit_to_string(&l, buf, sizeof(buf)), "0");
        l.bytes = UINT64_C(1) << 60;
        ck_assert_str_eq(limit_to_string(&l, buf, sizeof(buf)), "1E");
        l.bytes = UINT64_MAX;
        ck_assert_str_eq(limit_to_string(&l, buf, sizeof(buf)), "18446744073709551615");
        l = (Limit) { .kind = LIMIT_PERCENT, .permyriad = 1250 };
        ck_assert_str_eq(limit_to_string(&l, buf, sizeof(buf)), "12.5%");
        l.permyriad = 1205;
        ck_assert_str_eq(limit_to_string(&l, buf, sizeof(buf)), "12.05%");
        l.permyriad = 2500;
        ck_assert_str_eq(limit_to_string(&l, buf, sizeof(buf)), "25%");
        l.permyriad = 1;
        ck_assert_str_eq(limit_to_string(&l, buf, sizeof(buf)), "0.01%");
        l.permyriad = 10000;
        ck_assert_str_eq(limit_to_string(&l, buf, sizeof(buf)), "100%");
        l = (Limit) { .kind = LIMIT_MAX };
        ck_assert_str_eq(limit_to_string(&l, buf, sizeof(buf)), "max");
        l = (Limit) { .kind = LIMIT_UNSET };
        ck_assert_str_eq(limit_to_string(&l, buf, sizeof(buf)), "unset");
}
END_TEST

START_TEST(test_quantity_to_string) {
        char buf[32];
        Quantity q = {};

        ck_assert_str_eq(quantity_to_string(&q, buf, sizeof(buf)), "unset");
        q = (Quantity) { .set = true, .unlimited = true };
        ck_assert_str_eq(quantity_to_string(&q, buf, sizeof(buf)), "max");
        q = (Quantity) { .set = true, .bytes = UINT64_C(256) << 20 };
        ck_assert_str_eq(quantity_to_string(&q, buf, sizeof(buf)), "256M");
        q.bytes = 1000;
        ck_assert_str_eq(quantity_to_string(&q, buf, sizeof(buf)), "1000");
}
END_TEST

START_TEST(test_to_string_round_trip) {
        static const char *const values[] = {
                "0", "1", "4097", "1K", "512M", "4G", "1536M", "3T", "7P", "15E", "18446744073709551615",
                "0%", "0.01%", "12.05%", "12.5%", "25%", "100%", "max",
        };
        static const struct {
                const char *in, *canonical;
        } canon[] = {
                { "1.5G", "1536M" }, { "1024K", "1M" }, { "4GiB", "4G" }, { "4096b", "4K" }, { "12.50%", "12.5%" },
                { "100.00%", "100%" }, { "007", "7" }, { "0.5K", "512" },
        };
        char buf[32];
        const char *why;
        Limit l, l2;

        for (size_t i = 0; i < ELEMENTSOF(values); i++) {
                ck_assert_int_eq(policy_parse_limit(values[i], &l, &why), 0);
                ck_assert_str_eq(limit_to_string(&l, buf, sizeof(buf)), values[i]);
                ck_assert_int_eq(policy_parse_limit(buf, &l2, &why), 0);
                ck_assert_int_eq(l.kind, l2.kind);
                ck_assert_uint_eq(l.bytes, l2.bytes);
                ck_assert_uint_eq(l.permyriad, l2.permyriad);
        }
        for (size_t i = 0; i < ELEMENTSOF(canon); i++) {
                ck_assert_int_eq(policy_parse_limit(canon[i].in, &l, &why), 0);
                ck_assert_str_eq(limit_to_string(&l, buf, sizeof(buf)), canon[i].canonical);
        }
}
END_TEST




static int collect(const char *key, const char *value, void *userdata) {
        PolicySpec *s = userdata;
        const char *why;

        return policy_spec_set(s, key, value, &why);
}

static int append(const char *key, const char *value, void *userdata) {
        char *buf = userdata;

        strcat(buf, key);
        strcat(buf, "=");
        strcat(buf, value);
        strcat(buf, " ");
        return 0;
}

static int stop_at_mode(const char *key, const char *value _unused_, void *userdata) {
        (*(int *) userdata)++;
        return strcmp(key, "mode") == 0 ? -ECANCELED : 0;
}

START_TEST(test_policy_spec_foreach) {
        static const char *const kv[][2] = {
                { "class", "latency" }, { "mode", "observe" }, { "promote.rate", "64M" }, { "promote.burst", "max" },
                { "demote.rate", "1G" }, { "demote.burst", "4097" }, { "tier0.max", "4G" }, { "tier0.low", "25%" },
                { "tier3.max", "max" },
        };
        PolicySpec s = {}, copy = {};
        char buf[512] = "";
        const char *why;
        int n = 0;

        for (size_t i = 0; i < ELEMENTSOF(kv); i++)
                ck_assert_int_eq(policy_spec_set(&s, kv[i][0], kv[i][1], &why), 0);
        ck_assert_int_eq(policy_spec_foreach(&s, append, buf), 0);
        ck_assert_str_eq(buf, "class=latency mode=observe promote.rate=64M promote.burst=max demote.rate=1G "
                              "demote.burst=4097 tier0.max=4G tier0.low=25% tier3.max=max ");
        ck_assert_int_eq(policy_spec_foreach(&s, collect, &copy), 0);
        ck_assert(unit_spec_eq(&s, &copy));
        ck_assert_int_eq(policy_spec_foreach(&s, stop_at_mode, &n), -ECANCELED);
        ck_assert_int_eq(n, 2);
        copy = (PolicySpec) {};
        n = 0;
        ck_assert_int_eq(policy_spec_foreach(&copy, stop_at_mode, &n), 0);
        ck_assert_int_eq(n, 0);
}
END_TEST

START_TEST(test_limit_resolve) {
        Limit l;

        l = (Limit) { .kind = LIMIT_UNSET };
        ck_assert_uint_eq(limit_resolve(&l, 1000), UINT64_MAX);
        l = (Limit) { .kind = LIMIT_MAX };
        ck_assert_uint_eq(limit_resolve(&l, 1000), UINT64_MAX);
        l = (Limit) { .kind = LIMIT_BYTES, .bytes = 4096 };
        ck_assert_uint_eq(limit_resolve(&l, 1000), 4096);
        l = (Limit) { .kind = LIMIT_PERCENT, .permyriad = 2500 };
        ck_assert_uint_eq(limit_resolve(&l, 1000), 250);
        ck_assert_uint_eq(limit_resolve(&l, 0), 0);
        ck_assert_uint_eq(limit_resolve(&l, 3), 0); /* 0.75, rounded down */
        l.permyriad = 1250;
        ck_assert_uint_eq(limit_resolve(&l, 7), 0);
        ck_assert_uint_eq(limit_resolve(&l, 8), 1);
        ck_assert_uint_eq(limit_resolve(&l, UINT64_C(8) << 30), UINT64_C(1) << 30);
        l.permyriad = 1;
        ck_assert_uint_eq(limit_resolve(&l, 9999), 0);
        ck_assert_uint_eq(limit_resolve(&l, 10000), 1);
        l.permyriad = 10000;
        ck_assert_uint_eq(limit_resolve(&l, UINT64_MAX), UINT64_MAX);
        l.permyriad = 5000;
        ck_assert_uint_eq(limit_resolve(&l, UINT64_MAX), UINT64_MAX / 2);
        l.permyriad = 0;
        ck_assert_uint_eq(limit_resolve(&l, UINT64_MAX), 0);
}
END_TEST

int main(void) {
        Suite *s = suite_create("policy");
        TCase *tc = tcase_create("core");

        tcase_add_test(tc, test_policy_key_parse_names);
        tcase_add_test(tc, test_policy_key_parse_tiers);
        tcase_add_test(tc, test_policy_key_parse_unknown);
        tcase_add_test(tc, test_policy_parse_size_valid);
        tcase_add_test(tc, test_policy_parse_size_fractions);
        tcase_add_test(tc, test_policy_parse_size_boundaries);
        tcase_add_test(tc, test_policy_parse_size_invalid);
        tcase_add_test(tc, test_policy_parse_limit);
        tcase_add_test(tc, test_policy_parse_limit_invalid);
        tcase_add_test(tc, test_policy_parse_quantity);
        tcase_add_test(tc, test_policy_parse_mode);
        tcase_add_test(tc, test_policy_parse_class_name);
        tcase_add_test(tc, test_policy_spec_set_values);
        tcase_add_test(tc, test_policy_spec_set_failure_changes_nothing);
        tcase_add_test(tc, test_policy_spec_overlay);
        tcase_add_test(tc, test_limit_to_string);
        tcase_add_test(tc, test_quantity_to_string);
        tcase_add_test(tc, test_to_string_round_trip);
        tcase_add_test(tc, test_policy_spec_foreach);
        tcase_add_test(tc, test_limit_resolve);
        suite_add_tcase(s, tc);
        return unit_run(s);
}
