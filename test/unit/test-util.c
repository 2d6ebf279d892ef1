/* SPDX-License-Identifier: MIT */
#include <sys/stat.h>
#include <check.h>

#include "unit.h"
#include <string.h>

#include "util.h"

START_TEST(test_parse_id_list_ranges) {
        uint64_t m;

        ck_assert_int_eq(parse_id_list("0-3,8,10-11\n", &m), 0);
        ck_assert_uint_eq(m, 0xf | (1u << 8) | (3u << 10));
        ck_assert_int_eq(parse_id_list("", &m), 0);
        ck_assert_uint_eq(m, 0);
        ck_assert_int_eq(parse_id_list("\n", &m), 0);
        ck_assert_uint_eq(m, 0);
        ck_assert_int_eq(parse_id_list("1", &m), 0);
        ck_assert_uint_eq(m, 2);
}
END_TEST

START_TEST(test_parse_id_list_rejects_garbage) {
        uint64_t m = 77;

        ck_assert_int_eq(parse_id_list("a", &m), -EINVAL);
        ck_assert_int_eq(parse_id_list("3-1", &m), -ERANGE);
        ck_assert_int_eq(parse_id_list("64", &m), -ERANGE);
        ck_assert_int_eq(parse_id_list("1-", &m), -EINVAL);
        ck_assert_int_eq(parse_id_list("1;2", &m), -EINVAL);
        ck_assert_uint_eq(m, 77); /* untouched on error */
}
END_TEST

START_TEST(test_format_id_list_roundtrip) {
        char buf[64];
        uint64_t m;

        ck_assert_int_eq(format_id_list(0xf | (1u << 8) | (3u << 10), buf, sizeof(buf)), 0);
        ck_assert_str_eq(buf, "0-3,8,10-11");
        ck_assert_int_eq(parse_id_list(buf, &m), 0);
        ck_assert_uint_eq(m, 0xf | (1u << 8) | (3u << 10));
        ck_assert_int_eq(format_id_list(0, buf, sizeof(buf)), 0);
        ck_assert_str_eq(buf, "");
        ck_assert_int_eq(format_id_list(UINT64_MAX, buf, 4), -ENOBUFS);
}
END_TEST

START_TEST(test_parse_u64_strict) {
        uint64_t v;

        ck_assert_int_eq(parse_u64(" 42\n", &v), 0);
        ck_assert_uint_eq(v, 42);
        ck_assert_int_eq(parse_u64("18446744073709551615", &v), 0);
        ck_assert_uint_eq(v, UINT64_MAX);
        ck_assert_int_eq(parse_u64("18446744073709551616", &v), -ERANGE);
        ck_assert_int_eq(parse_u64("-1", &v), -EINVAL);
        ck_assert_int_eq(parse_u64("4k", &v), -EINVAL);
        ck_assert_int_eq(parse_u64("", &v), -EINVAL);
}
END_TEST

START_TEST(test_parse_duration_ms_units) {
        uint64_t v;

        ck_assert_int_eq(parse_duration_ms("500ms", 0, &v), 0);
        ck_assert_uint_eq(v, 500);
        ck_assert_int_eq(parse_duration_ms("10s", 0, &v), 0);
        ck_assert_uint_eq(v, 10000);
        ck_assert_int_eq(parse_duration_ms("1.5s", 0, &v), 0);
        ck_assert_uint_eq(v, 1500);
        ck_assert_int_eq(parse_duration_ms("2m", 0, &v), 0);
        ck_assert_uint_eq(v, 120000);
        ck_assert_int_eq(parse_duration_ms("1h", 0, &v), 0);
        ck_assert_uint_eq(v, 3600000);
        ck_assert_int_eq(parse_duration_ms("0.25h", 0, &v), 0);
        ck_assert_uint_eq(v, 900000);
        ck_assert_int_eq(parse_duration_ms("0ms", 0, &v), 0);
        ck_assert_uint_eq(v, 0);
        ck_assert_int_eq(parse_duration_ms("007s", 0, &v), 0);
        ck_assert_uint_eq(v, 7000);
}
END_TEST

START_TEST(test_parse_duration_ms_rounds_to_ms) {
        uint64_t v;

        ck_assert_int_eq(parse_duration_ms("1.0004s", 0, &v), 0);
        ck_assert_uint_eq(v, 1000);
        ck_assert_int_eq(parse_duration_ms("1.0005s", 0, &v), 0);
        ck_assert_uint_eq(v, 1001);
        ck_assert_int_eq(parse_duration_ms("0.4ms", 0, &v), 0);
        ck_assert_uint_eq(v, 0);
        ck_assert_int_eq(parse_duration_ms("2.5ms", 0, &v), 0);
        ck_assert_uint_eq(v, 3);
        /* digits past the ninth are ignored, not refused */
        ck_assert_int_eq(parse_duration_ms("0.1234567899999s", 0, &v), 0);
        ck_assert_uint_eq(v, 123);
}
END_TEST

START_TEST(test_parse_duration_ms_bare_number) {
        uint64_t v = 77;

        /* the old seconds forms: a bare number in BARE_UNIT_MS */
        ck_assert_int_eq(parse_duration_ms("10", 1000, &v), 0);
        ck_assert_uint_eq(v, 10000);
        ck_assert_int_eq(parse_duration_ms("0.5", 1000, &v), 0);
        ck_assert_uint_eq(v, 500);
        ck_assert_int_eq(parse_duration_ms("0.01", 1000, &v), 0);
        ck_assert_uint_eq(v, 10);
        ck_assert_int_eq(parse_duration_ms("250", 1, &v), 0);
        ck_assert_uint_eq(v, 250);
        /* a unit still wins over BARE_UNIT_MS */
        ck_assert_int_eq(parse_duration_ms("10ms", 1000, &v), 0);
        ck_assert_uint_eq(v, 10);
        /* 0: a unit is required */
        v = 77;
        ck_assert_int_eq(parse_duration_ms("10", 0, &v), -EDOM);
        ck_assert_int_eq(parse_duration_ms("1.5", 0, &v), -EDOM);
        ck_assert_uint_eq(v, 77);
        ck_assert_ptr_nonnull(strstr(duration_error(-EDOM), "unit"));
}
END_TEST

START_TEST(test_parse_duration_ms_rejects_garbage) {
        uint64_t v = 77;

        ck_assert_int_eq(parse_duration_ms("", 1000, &v), -EINVAL);
        ck_assert_int_eq(parse_duration_ms(NULL, 1000, &v), -EINVAL);
        ck_assert_int_eq(parse_duration_ms("s", 1000, &v), -EINVAL);
        ck_assert_int_eq(parse_duration_ms("5x", 1000, &v), -EINVAL);
        ck_assert_int_eq(parse_duration_ms("5sec", 1000, &v), -EINVAL);
        ck_assert_int_eq(parse_duration_ms("5S", 1000, &v), -EINVAL);
        ck_assert_int_eq(parse_duration_ms("5s ", 1000, &v), -EINVAL);
        ck_assert_int_eq(parse_duration_ms(" 5s", 1000, &v), -EINVAL);
        ck_assert_int_eq(parse_duration_ms("5 s", 1000, &v), -EINVAL);
        ck_assert_int_eq(parse_duration_ms("5s5", 1000, &v), -EINVAL);
        ck_assert_int_eq(parse_duration_ms("1m30s", 1000, &v), -EINVAL);
        ck_assert_int_eq(parse_duration_ms("5.", 1000, &v), -EINVAL);
        ck_assert_int_eq(parse_duration_ms(".5s", 1000, &v), -EINVAL);
        ck_assert_int_eq(parse_duration_ms("1.2.3s", 1000, &v), -EINVAL);
        ck_assert_int_eq(parse_duration_ms("0x10", 1000, &v), -EINVAL);
        ck_assert_int_eq(parse_duration_ms("1e3ms", 1000, &v), -EINVAL);
        ck_assert_uint_eq(v, 77);
        ck_assert_ptr_nonnull(strstr(duration_error(-EINVAL), "not a duration"));
}
END_TEST

START_TEST(test_parse_duration_ms_rejects_negative) {
        uint64_t v = 77;

        ck_assert_int_eq(parse_duration_ms("-1s", 1000, &v), -EINVAL);
        ck_assert_int_eq(parse_duration_ms("-1", 1000, &v), -EINVAL);
        ck_assert_int_eq(parse_duration_ms("+1s", 1000, &v), -EINVAL);
        ck_assert_int_eq(parse_duration_ms("-0ms", 0, &v), -EINVAL);
        ck_assert_uint_eq(v, 77);
}
END_TEST

START_TEST(test_parse_duration_ms_overflow) {
        uint64_t v = 77;

        ck_assert_int_eq(parse_duration_ms("18446744073709551615ms", 0, &v), 0);
        ck_assert_uint_eq(v, UINT64_MAX);
        v = 77;
        ck_assert_int_eq(parse_duration_ms("18446744073709551616ms", 0, &v), -ERANGE);
        ck_assert_int_eq(parse_duration_ms("18446744073709551615s", 0, &v), -ERANGE);
        ck_assert_int_eq(parse_duration_ms("18446744073709551.616s", 0, &v), -ERANGE);
        ck_assert_int_eq(parse_duration_ms("5124095576031h", 0, &v), -ERANGE);
        ck_assert_int_eq(parse_duration_ms("99999999999999999999999999", 1000, &v), -ERANGE);
        /* a syntax error is reported as such, however long the number */
        ck_assert_int_eq(parse_duration_ms("99999999999999999999999999x", 1000, &v), -EINVAL);
        ck_assert_uint_eq(v, 77);
        /* the largest whole hours, and the fraction up to the last ms */
        ck_assert_int_eq(parse_duration_ms("5124095576030h", 0, &v), 0);
        ck_assert_uint_eq(v, UINT64_C(5124095576030) * 3600000);
        ck_assert_int_eq(parse_duration_ms("18446744073709551.615s", 0, &v), 0);
        ck_assert_uint_eq(v, UINT64_MAX);
        ck_assert_ptr_nonnull(strstr(duration_error(-ERANGE), "too large"));
}
END_TEST

START_TEST(test_format_duration_ms_roundtrip) {
        static const struct { uint64_t ms; const char *text; } cases[] = {
                { 0, "0ms" }, { 10, "10ms" }, { 1500, "1500ms" }, { 10000, "10s" }, { 90000, "90s" },
                { 120000, "2m" }, { 3600000, "1h" }, { 86400000, "24h" }, { 3660000, "61m" },
                { UINT64_MAX, "18446744073709551615ms" },
        };
        char buf[32];

        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                uint64_t back;

                ck_assert_str_eq(format_duration_ms(cases[i].ms, buf, sizeof(buf)), cases[i].text);
                ck_assert_int_eq(parse_duration_ms(buf, 0, &back), 0);
                ck_assert_uint_eq(back, cases[i].ms);
        }
}
END_TEST

START_TEST(test_path_join_root) {
        char *p;

        ck_assert_int_eq(path_join_root(NULL, "/sys/x", &p), 0);
        ck_assert_str_eq(p, "/sys/x");
        free(p);
        ck_assert_int_eq(path_join_root("/", "/sys/x", &p), 0);
        ck_assert_str_eq(p, "/sys/x");
        free(p);
        ck_assert_int_eq(path_join_root("/tmp/fx/sys", "/devices", &p), 0);
        ck_assert_str_eq(p, "/tmp/fx/sys/devices");
        free(p);
}
END_TEST

START_TEST(test_read_one_line_strips_newline) {
        char dir[] = "/tmp/tierd-util-XXXXXX", path[64], *line;
        FILE *f;

        ck_assert_ptr_nonnull(mkdtemp(dir));
        snprintf(path, sizeof(path), "%s/f", dir);
        f = fopen(path, "w");
        fputs("first\nsecond\n", f);
        fclose(f);
        ck_assert_int_eq(read_one_line(dir, "/f", &line), 0);
        ck_assert_str_eq(line, "first");
        free(line);
        ck_assert_int_eq(read_one_line(dir, "/absent", &line), -ENOENT);
        unlink(path);
        rmdir(dir);
}
END_TEST

START_TEST(test_format_bytes_units) {
        char buf[32];

        ck_assert_str_eq(format_bytes(512, buf, sizeof(buf)), "512 B");
        ck_assert_str_eq(format_bytes(1536, buf, sizeof(buf)), "1.5 KiB");
        ck_assert_str_eq(format_bytes(UINT64_C(1) << 30, buf, sizeof(buf)), "1.0 GiB");
}
END_TEST

START_TEST(test_journal_stream_matches) {
        struct stat st;
        char env[64];
        FILE *f = tmpfile();

        ck_assert_ptr_nonnull(f);
        ck_assert_int_eq(fstat(fileno(f), &st), 0);
        snprintf(env, sizeof(env), "%llu:%llu", (unsigned long long) st.st_dev, (unsigned long long) st.st_ino);
        ck_assert(journal_stream_matches(env, fileno(f)));
        snprintf(env, sizeof(env), "%llu:%llu", (unsigned long long) st.st_dev, (unsigned long long) st.st_ino + 1);
        ck_assert(!journal_stream_matches(env, fileno(f)));
        snprintf(env, sizeof(env), "%llu:%llux", (unsigned long long) st.st_dev, (unsigned long long) st.st_ino);
        ck_assert(!journal_stream_matches(env, fileno(f)));
        ck_assert(!journal_stream_matches(NULL, fileno(f)));
        ck_assert(!journal_stream_matches("", fileno(f)));
        ck_assert(!journal_stream_matches("12", fileno(f)));
        fclose(f);
        ck_assert_int_eq(log_target_from_string("journal"), LOG_TARGET_JOURNAL);
        ck_assert_int_eq(log_target_from_string("stderr"), LOG_TARGET_STDERR);
        ck_assert_int_eq(log_target_from_string("auto"), LOG_TARGET_AUTO);
        ck_assert_int_eq(log_target_from_string("syslog"), _LOG_TARGET_INVALID);
        /* auto with no journal stream: stderr */
        unsetenv("JOURNAL_STREAM");
        log_set_target(LOG_TARGET_AUTO);
        ck_assert(!log_to_journal());
        log_set_target(LOG_TARGET_JOURNAL);
        ck_assert(log_to_journal());
        log_set_target(LOG_TARGET_STDERR);
}
END_TEST

START_TEST(test_utf8_printable_len) {
        /* printable: ASCII, 2, 3 and 4 bytes */
        ck_assert_uint_eq(utf8_printable_len("a"), 1);
        ck_assert_uint_eq(utf8_printable_len("\\x"), 1);
        ck_assert_uint_eq(utf8_printable_len("\xc3\xa9"), 2);           /* U+00E9 */
        ck_assert_uint_eq(utf8_printable_len("\xc2\xa0"), 2);           /* U+00A0, after the C1 block */
        ck_assert_uint_eq(utf8_printable_len("\xe2\x82\xac"), 3);       /* U+20AC */
        ck_assert_uint_eq(utf8_printable_len("\xed\x9f\xbf"), 3);       /* U+D7FF */
        ck_assert_uint_eq(utf8_printable_len("\xf0\x9f\x98\x80"), 4);   /* U+1F600 */
        ck_assert_uint_eq(utf8_printable_len("\xf4\x8f\xbf\xbf"), 4);   /* U+10FFFF */
        /* controls */
        ck_assert_uint_eq(utf8_printable_len(""), 0);
        ck_assert_uint_eq(utf8_printable_len("\n"), 0);
        ck_assert_uint_eq(utf8_printable_len("\t"), 0);
        ck_assert_uint_eq(utf8_printable_len("\x1b[2J"), 0);
        ck_assert_uint_eq(utf8_printable_len("\x7f"), 0);
        ck_assert_uint_eq(utf8_printable_len("\xc2\x9b"), 0);           /* U+009B, CSI */
        /* invalid */
        ck_assert_uint_eq(utf8_printable_len("\xff"), 0);
        ck_assert_uint_eq(utf8_printable_len("\x80"), 0);
        ck_assert_uint_eq(utf8_printable_len("\xc0\xaf"), 0);           /* overlong '/' */
        ck_assert_uint_eq(utf8_printable_len("\xe0\x80\xaf"), 0);
        ck_assert_uint_eq(utf8_printable_len("\xf0\x80\x80\xaf"), 0);
        ck_assert_uint_eq(utf8_printable_len("\xed\xa0\x80"), 0);       /* a surrogate */
        ck_assert_uint_eq(utf8_printable_len("\xf4\x90\x80\x80"), 0);   /* U+110000 */
        ck_assert_uint_eq(utf8_printable_len("\xe2\x82"), 0);           /* cut short by the NUL */
        ck_assert_uint_eq(utf8_printable_len("\xe2\x82z"), 0);
        ck_assert_uint_eq(utf8_printable_len("\xf0\x9f\x98"), 0);
}
END_TEST

START_TEST(test_str_printable) {
        _cleanup_free_ char *a = str_printable("a\x1b]0;owned\x07\x1b[2J"), *b = str_printable("pod\xff\n\t"),
                            *c = str_printable("caf\xc3\xa9 system-systemd\\x2dx.slice"), *d = str_printable("");
        _cleanup_free_ char *buf = NULL;
        size_t size = 0;
        FILE *f;

        ck_assert_str_eq(a, "a\\x1b]0;owned\\x07\\x1b[2J");
        ck_assert_str_eq(b, "pod\\xff\\x0a\\x09");
        ck_assert_str_eq(c, "caf\xc3\xa9 system-systemd\\x2dx.slice"); /* valid UTF-8 and backslashes kept */
        ck_assert_str_eq(d, "");
        f = open_memstream(&buf, &size);
        ck_assert_ptr_nonnull(f);
        fputs_printable("x\xc2\x9b" "1m\x7f", f);
        fclose(f);
        ck_assert_str_eq(buf, "x\\xc2\\x9b1m\\x7f");
}
END_TEST

int main(void) {
        Suite *s = suite_create("util");
        TCase *tc = tcase_create("core");

        tcase_add_test(tc, test_parse_id_list_ranges);
        tcase_add_test(tc, test_parse_id_list_rejects_garbage);
        tcase_add_test(tc, test_format_id_list_roundtrip);
        tcase_add_test(tc, test_parse_u64_strict);
        tcase_add_test(tc, test_parse_duration_ms_units);
        tcase_add_test(tc, test_parse_duration_ms_rounds_to_ms);
        tcase_add_test(tc, test_parse_duration_ms_bare_number);
        tcase_add_test(tc, test_parse_duration_ms_rejects_garbage);
        tcase_add_test(tc, test_parse_duration_ms_rejects_negative);
        tcase_add_test(tc, test_parse_duration_ms_overflow);
        tcase_add_test(tc, test_format_duration_ms_roundtrip);
        tcase_add_test(tc, test_path_join_root);
        tcase_add_test(tc, test_read_one_line_strips_newline);
        tcase_add_test(tc, test_format_bytes_units);
        tcase_add_test(tc, test_journal_stream_matches);
        tcase_add_test(tc, test_utf8_printable_len);
        tcase_add_test(tc, test_str_printable);
        suite_add_tcase(s, tc);
        return unit_run(s);
}
