/* SPDX-License-Identifier: MIT */
#include <check.h>

#include "unit.h"
#include <string.h>

#include "cgroup.h"
#include "util.h"

START_TEST(test_cgroup_mount_from_vm_mountinfo) {
        _cleanup_free_ char *data = NULL, *path = NULL;

        ck_assert_int_eq(read_full_file(FIXTURES "/vm-stock", "/proc/self/mountinfo", &data, NULL), 0);
        ck_assert_int_eq(cgroup_mount_from_mountinfo(data, &path), 0);
        ck_assert_str_eq(path, "/sys/fs/cgroup");
}
END_TEST

START_TEST(test_cgroup_mount_from_hybrid_host_mountinfo) {
        _cleanup_free_ char *data = NULL, *path = NULL;

        /* v1 hierarchies at /sys/fs/cgroup/<ctrl>, v2 at .../unified */
        ck_assert_int_eq(read_full_file(FIXTURES "/host", "/proc/self/mountinfo", &data, NULL), 0);
        ck_assert_int_eq(cgroup_mount_from_mountinfo(data, &path), 0);
        ck_assert_str_eq(path, "/sys/fs/cgroup/unified");
}
END_TEST

START_TEST(test_cgroup_mount_unescapes_and_skips_optional_fields) {
        _cleanup_free_ char *path = NULL;
        const char *mi =
                "22 1 0:21 / /proc rw,nosuid shared:5 - proc proc rw\n"
                "30 22 0:26 / /my\\040cgroups rw,nosuid shared:9 master:2 - cgroup2 cgroup2 rw,nsdelegate\n";

        ck_assert_int_eq(cgroup_mount_from_mountinfo(mi, &path), 0);
        ck_assert_str_eq(path, "/my cgroups");
}
END_TEST

START_TEST(test_cgroup_mount_absent) {
        char *path = NULL;

        ck_assert_int_eq(cgroup_mount_from_mountinfo("22 1 0:21 / /proc rw - proc proc rw\n"
                                                     "23 1 0:22 / /sys/fs/cgroup/memory rw - cgroup cgroup rw,memory\n",
                                                     &path),
                         -ENOENT);
        ck_assert_ptr_null(path);
        ck_assert_int_eq(cgroup_mount_from_mountinfo("", &path), -ENOENT);
}
END_TEST

START_TEST(test_cgroup_find_mount_reads_proc_root) {
        _cleanup_free_ char *path = NULL;

        ck_assert_int_eq(cgroup_find_mount(FIXTURES "/vm-idle/proc", &path), 0);
        ck_assert_str_eq(path, "/sys/fs/cgroup");
        ck_assert_int_eq(cgroup_find_mount("/nonexistent", &path), -ENOENT);
}
END_TEST

int main(void) {
        Suite *s = suite_create("cgroup");
        TCase *tc = tcase_create("mount");

        tcase_add_test(tc, test_cgroup_mount_from_vm_mountinfo);
        tcase_add_test(tc, test_cgroup_mount_from_hybrid_host_mountinfo);
        tcase_add_test(tc, test_cgroup_mount_unescapes_and_skips_optional_fields);
        tcase_add_test(tc, test_cgroup_mount_absent);
        tcase_add_test(tc, test_cgroup_find_mount_reads_proc_root);
        suite_add_tcase(s, tc);
        return unit_run(s);
}
