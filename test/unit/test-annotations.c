/* SPDX-License-Identifier: MIT */
/* annotations_parse(): the xattr list walk of annotations_read_at(), fed
 * from a table instead of a cgroup directory (reading real xattrs is the
 * VM tenants test's job). */
#include <check.h>
#include <errno.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "unit.h"

#include "annotations.h"
#include "util.h"

typedef struct Value {
        const char *attr;
        const char *value;      /* NULL: the error below */
        int error;
} Value;

typedef struct Table {
        const Value *values;
        unsigned calls;
} Table;

static ssize_t get(const char *attr, char *buf, size_t size, void *userdata) {
        Table *t = userdata;

        t->calls++;
        for (const Value *v = t->values; v->attr; v++) {
                size_t n;

                if (strcmp(v->attr, attr) != 0)
                        continue;
                if (!v->value)
                        return -v->error;
                n = strlen(v->value);
                if (n > size)
                        return -ERANGE;
                memcpy(buf, v->value, n);
                return (ssize_t) n;
        }
        return -ENODATA;
}

static ssize_t get_one(const char *attr, char *buf, size_t size, void *userdata) {
        (void) attr, (void) size, (void) userdata;
        buf[0] = '1';
        return 1;
}

#define LIST(s) s, sizeof(s) - 1 /* a literal's bytes, its own final NUL left out */

START_TEST(test_annotations_parse_namespaces_and_trimming) {
        static const Value values[] = {
                { .attr = "user.tierd.tier0.max", .value = "512M\n" },
                { .attr = "trusted.tierd.class", .value = "latency  \n" },
                { .attr = "security.selinux", .value = "system_u:object_r" },
                { .attr = NULL },
        };
        Table t = { .values = values };
        Annotations a = { 0 };

        ck_assert_int_eq(annotations_parse(LIST("security.selinux\0user.tierd.tier0.max\0trusted.tierd.class\0"),
                                           get, &t, &a),
                         0);
        ck_assert_int_eq(a.n, 2);
        ck_assert_uint_eq(t.calls, 2); /* not for security.selinux */
        ck_assert_str_eq(a.items[0].key, "tier0.max");
        ck_assert_str_eq(a.items[0].value, "512M");
        ck_assert(!a.items[0].trusted && !a.items[0].truncated);
        ck_assert_str_eq(a.items[1].key, "class");
        ck_assert_str_eq(a.items[1].value, "latency");
        ck_assert(a.items[1].trusted);
        ck_assert_ptr_eq(annotations_get(&a, "class", true), &a.items[1]);
        ck_assert_ptr_null(annotations_get(&a, "class", false));
}
END_TEST

START_TEST(test_annotations_parse_delegate_xattr) {
        static const Value yes[] = {
                { .attr = "trusted.delegate", .value = "1" },
                { .attr = "user.tierd.class", .value = "batch" },
                { .attr = NULL },
        };
        static const Value no[] = {
                { .attr = "trusted.delegate", .value = "0" },
                { .attr = "user.delegate", .value = "maybe" },
                { .attr = NULL },
        };
        static const Value user_yes[] = {
                { .attr = "user.delegate", .value = "Yes\n" },
                { .attr = NULL },
        };
        Table t = { .values = yes };
        Annotations a = { 0 };

        ck_assert_int_eq(annotations_parse(LIST("trusted.delegate\0user.tierd.class\0"), get, &t, &a), 0);
        ck_assert(a.delegate);
        ck_assert_int_eq(a.n, 1); /* not an annotation of its own */
        ck_assert_str_eq(a.items[0].key, "class");

        a = (Annotations) { 0 };
        t = (Table) { .values = no };
        ck_assert_int_eq(annotations_parse(LIST("trusted.delegate\0user.delegate\0"), get, &t, &a), 0);
        ck_assert(!a.delegate);
        ck_assert_int_eq(a.n, 0);

        a = (Annotations) { 0 };
        t = (Table) { .values = user_yes };
        ck_assert_int_eq(annotations_parse(LIST("user.delegate\0"), get, &t, &a), 0);
        ck_assert(a.delegate);
        /* listed, then gone */
        a = (Annotations) { 0 };
        t = (Table) { .values = no + 2 };
        ck_assert_int_eq(annotations_parse(LIST("trusted.delegate\0"), get, &t, &a), 0);
        ck_assert(!a.delegate);
}
END_TEST

START_TEST(test_annotations_parse_long_key_long_value_vanished) {
        static const Value values[] = {
                { .attr = "user.tierd.tier1.low",
                  .value = "0123456789012345678901234567890123456789012345678901234567890123456789012345678901234567890123456789"
                  "0123456789012345678901234567890123456789" },
                { .attr = "user.tierd.mode", .error = ENODATA },
                { .attr = "user.tierd.0123456789012345678901234567890123456789012345678901234", .value = "1G" },
                { .attr = NULL },
        };
        Table t = { .values = values };
        Annotations a = { 0 };

        ck_assert_int_eq(annotations_parse(LIST("user.tierd.0123456789012345678901234567890123456789012345678901234"
                                                "\0user.tierd.tier1.low\0user.tierd.mode\0"),
                                           get, &t, &a),
                         0);
        ck_assert_int_eq(a.n, 2);
        ck_assert(a.items[0].truncated); /* key longer than ANNOTATION_KEY_MAX - 1 */
        ck_assert_uint_eq(strlen(a.items[0].key), ANNOTATION_KEY_MAX - 1);
        ck_assert(a.items[1].truncated); /* value longer than ANNOTATION_VALUE_MAX - 1 */
        ck_assert_str_eq(a.items[1].value, "");
        ck_assert_ptr_null(annotations_get(&a, "mode", false)); /* removed between list and get */
}
END_TEST

START_TEST(test_annotations_parse_error_and_overflow) {
        static const Value values[] = { { .attr = "user.tierd.class", .error = EIO }, { .attr = NULL } };
        Table t = { .values = values };
        Annotations a = { 0 };
        char list[64 * ANNOTATIONS_MAX];
        size_t len = 0;

        ck_assert_int_eq(annotations_parse(LIST("user.tierd.class\0"), get, &t, &a), -EIO);

        /* beyond ANNOTATIONS_MAX: counted as dropped */
        for (int i = 0; i < ANNOTATIONS_MAX + 3; i++)
                len += (size_t) snprintf(list + len, sizeof(list) - len, "user.tierd.k%d", i) + 1;
        a = (Annotations) { 0 };
        ck_assert_int_eq(annotations_parse(list, len, get, &t, &a), 0);
        ck_assert_int_eq(a.n, 0); /* none has a value (ENODATA) */
        ck_assert_int_eq(a.dropped, 0);
        a = (Annotations) { 0 };
        ck_assert_int_eq(annotations_parse(list, len, get_one, NULL, &a), 0);
        ck_assert_int_eq(a.n, ANNOTATIONS_MAX);
        ck_assert_int_eq(a.dropped, 3);
        ck_assert_str_eq(a.items[ANNOTATIONS_MAX - 1].key, "k31");
}
END_TEST

START_TEST(test_annotations_parse_unterminated_last_name) {
        static const Value values[] = { { .attr = "user.tierd.mode", .value = "enforce" }, { .attr = NULL } };
        Table t = { .values = values };
        Annotations a = { 0 };
        char *list = malloc(sizeof("user.tierd.mode") - 1);

        /* a list whose last name has no NUL (the kernel always writes one):
         * not read past its end */
        memcpy(list, "user.tierd.mode", sizeof("user.tierd.mode") - 1);
        ck_assert_int_eq(annotations_parse(list, sizeof("user.tierd.mode") - 1, get, &t, &a), 0);
        ck_assert_int_eq(a.n, 0);
        ck_assert_int_eq(annotations_parse(LIST("user.tierd.mode\0"), get, &t, &a), 0);
        ck_assert_int_eq(a.n, 1);
        ck_assert_str_eq(a.items[0].value, "enforce");
        free(list);
}
END_TEST

/* annotations_read() on a real directory: the fgetxattr getter behind
 * annotations_parse(). user.* xattrs need a file system that has them. */
START_TEST(test_annotations_read_directory_xattrs) {
        char dir[128];
        Annotations a;

        snprintf(dir, sizeof(dir), "%s/cg", unit_tmproot());
        ck_assert_int_eq(mkdir(dir, 0755), 0);
        if (setxattr(dir, "user.tierd.tier0.max", "1G\n", 3, 0) < 0 && (errno == ENOTSUP || errno == EPERM)) {
                printf("skip: no user xattrs under %s: %m\n", unit_tmproot());
                return;
        }
        ck_assert_int_eq(setxattr(dir, "user.other", "x", 1, 0), 0);
        ck_assert_int_eq(annotation_write(dir, "mode", "observe", false), 0);
        ck_assert_int_eq(annotations_read(dir, &a), 0);
        ck_assert_int_eq(a.n, 2);
        ck_assert_str_eq(annotations_get(&a, "tier0.max", false)->value, "1G");
        ck_assert_str_eq(annotations_get(&a, "mode", false)->value, "observe");
        ck_assert_uint_eq(a.owner, geteuid());
        ck_assert_int_eq(annotation_write(dir, "mode", NULL, false), 0);
        ck_assert_int_eq(annotations_read(dir, &a), 0);
        ck_assert_int_eq(a.n, 1);
        ck_assert_int_eq(annotations_read("/nonexistent/cg", &a), -ENOENT);
}
END_TEST

int main(void) {
        Suite *s = suite_create("annotations");
        TCase *tc = tcase_create("parse");

        tcase_add_test(tc, test_annotations_parse_namespaces_and_trimming);
        tcase_add_test(tc, test_annotations_parse_long_key_long_value_vanished);
        tcase_add_test(tc, test_annotations_parse_delegate_xattr);
        tcase_add_test(tc, test_annotations_parse_error_and_overflow);
        tcase_add_test(tc, test_annotations_parse_unterminated_last_name);
        suite_add_tcase(s, tc);
        tc = tcase_create("read");
        tcase_add_checked_fixture(tc, unit_tmp_setup, unit_tmp_teardown);
        tcase_add_test(tc, test_annotations_read_directory_xattrs);
        suite_add_tcase(s, tc);
        return unit_run(s);
}
