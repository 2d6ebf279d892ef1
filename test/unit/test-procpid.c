/* SPDX-License-Identifier: MIT */
/* base/procpid.c: a process's identity (start time, cgroup) recorded and
 * checked again, on a procfs and a cgroupfs written here: the same
 * process, a pid given to another process, a process gone, one moved to
 * another cgroup, and cgroup paths that do not compare with the mount's
 * ("/..", outside tierd's cgroup namespace, or a subtree mounted):
 * checked in the cgroup's cgroup.procs. */
#include <check.h>

#include "unit.h"

#include "procpid.h"
#include "util.h"

static char proc[256], mount[256];

static void setup(void) {
        unit_tmp_setup();
        snprintf(proc, sizeof(proc), "%s/proc", unit_tmproot());
        snprintf(mount, sizeof(mount), "%s/cg", unit_tmproot());
}

/* A stat line whose command name holds ") (" and spaces: the fields are
 * counted from the last ')'. */
static void write_stat(int pid, unsigned long long start) {
        char path[64], buf[512];

        snprintf(path, sizeof(path), "proc/%d/stat", pid);
        snprintf(buf, sizeof(buf),
                 "%d (a) (b c) R 1 %d %d 0 -1 4194560 120 0 0 0 3 1 0 0 20 0 1 0 %llu 8404992 800 "
                 "18446744073709551615 1 1 0 0 0 0 0 0 0 0 0 0 17 0 0 0 0 0 0\n",
                 pid, pid, pid, start);
        unit_write_file(path, buf);
}

/* Removes REL under the temporary tree. */
static void remove_tmp(const char *rel) {
        char cmd[512];

        snprintf(cmd, sizeof(cmd), "rm -rf '%s/%s'", unit_tmproot(), rel);
        ck_assert_int_eq(system(cmd), 0);
}

static void write_cgroup_file(int pid, const char *content) {
        char path[64];

        snprintf(path, sizeof(path), "proc/%d/cgroup", pid);
        unit_write_file(path, content);
}

START_TEST(test_start_time) {
        uint64_t t = 0;

        write_stat(42, 123456789);
        ck_assert_int_eq(proc_pid_start_time(proc, 42, &t), 0);
        ck_assert_uint_eq(t, 123456789);
        ck_assert_int_eq(proc_pid_start_time(proc, 43, &t), -ESRCH);
        unit_write_file("proc/44/stat", "44 (x) R 1 2\n");
        ck_assert_int_eq(proc_pid_start_time(proc, 44, &t), -EINVAL);
        /* this process, on the real procfs */
        ck_assert_int_eq(proc_pid_start_time(NULL, getpid(), &t), 0);
        ck_assert_uint_gt(t, 0);
}
END_TEST

START_TEST(test_cgroup_line) {
        _cleanup_free_ char *a = NULL, *b = NULL, *c = NULL, *d = NULL;

        write_cgroup_file(42, "0::/web/app\n");
        ck_assert_int_eq(proc_pid_cgroup(proc, 42, &a), 0);
        ck_assert_str_eq(a, "/web/app");
        /* a hybrid host: the v1 lines first, the v2 one last */
        write_cgroup_file(43, "12:pids:/user.slice\n1:name=systemd:/user.slice/x\n0::/user.slice/x\n");
        ck_assert_int_eq(proc_pid_cgroup(proc, 43, &b), 0);
        ck_assert_str_eq(b, "/user.slice/x");
        /* a cgroup name with a newline in it */
        write_cgroup_file(44, "0::/we\nird\n");
        ck_assert_int_eq(proc_pid_cgroup(proc, 44, &c), 0);
        ck_assert_str_eq(c, "/we\nird");
        write_cgroup_file(45, "3:memory:/a\n");
        ck_assert_int_eq(proc_pid_cgroup(proc, 45, &d), -ENODATA);
        ck_assert_int_eq(proc_pid_cgroup(proc, 46, &d), -ESRCH);
}
END_TEST

START_TEST(test_check_same_reused_gone_moved) {
        ProcIdent id;

        write_stat(42, 5000);
        write_cgroup_file(42, "0::/web\n");
        ck_assert_int_eq(proc_ident_read(proc, 42, "web", &id), 0);
        ck_assert(!id.gone);
        ck_assert_uint_eq(id.start_time, 5000);
        ck_assert_int_eq(proc_ident_check(proc, mount, 42, &id), 0);

        /* the pid given to a new process in the same cgroup */
        write_stat(42, 9000);
        ck_assert_int_eq(proc_ident_check(proc, mount, 42, &id), -ESTALE);
        /* ... in another cgroup: still another process */
        write_cgroup_file(42, "0::/other\n");
        ck_assert_int_eq(proc_ident_check(proc, mount, 42, &id), -ESTALE);
        /* the same process, moved to another cgroup, or its cgroup removed */
        write_stat(42, 5000);
        ck_assert_int_eq(proc_ident_check(proc, mount, 42, &id), -EXDEV);
        write_cgroup_file(42, "0::/web/inner\n");
        ck_assert_int_eq(proc_ident_check(proc, mount, 42, &id), -EXDEV);
        write_cgroup_file(42, "0::/web (deleted)\n");
        ck_assert_int_eq(proc_ident_check(proc, mount, 42, &id), -EXDEV);
        /* a path that does not compare with the mount's (a mount of a
         * subtree): the cgroup's own list says it is there */
        write_cgroup_file(42, "0::/host/prefix/web\n");
        unit_write_file("cg/web/cgroup.procs", "41\n42\n");
        ck_assert_int_eq(proc_ident_check(proc, mount, 42, &id), 0);
        unit_write_file("cg/web/cgroup.procs", "41\n");
        ck_assert_int_eq(proc_ident_check(proc, mount, 42, &id), -EXDEV);
        /* the root cgroup is "" under the mount, "/" in the file */
        write_cgroup_file(42, "0::/\n");
        ck_assert_int_eq(proc_ident_read(proc, 42, "", &id), 0);
        ck_assert_int_eq(proc_ident_check(proc, mount, 42, &id), 0);

        /* gone at collection: never the same again */
        ck_assert_int_eq(proc_ident_read(proc, 77, "web", &id), 0);
        ck_assert(id.gone);
        write_stat(77, 0);
        write_cgroup_file(77, "0::/web\n");
        ck_assert_int_eq(proc_ident_check(proc, mount, 77, &id), -ESRCH);
        /* gone since */
        write_stat(78, 100);
        write_cgroup_file(78, "0::/web\n");
        ck_assert_int_eq(proc_ident_read(proc, 78, "web", &id), 0);
        remove_tmp("proc/78");
        ck_assert_int_eq(proc_ident_check(proc, mount, 78, &id), -ESRCH);
        /* no cgroup recorded: the start time alone */
        write_stat(79, 100);
        write_cgroup_file(79, "0::/anywhere\n");
        ck_assert_int_eq(proc_ident_read(proc, 79, NULL, &id), 0);
        ck_assert_int_eq(proc_ident_check(proc, mount, 79, &id), 0);

        ck_assert_str_eq(proc_ident_strerror(-ESTALE), "the pid belongs to another process now (another start time)");
}
END_TEST

START_TEST(test_check_outside_the_namespace) {
        /* tierd in a cgroup namespace of its own (a container) with the
         * host's tree mounted: the kernel prints the tenants' cgroups
         * relative to tierd's, "/../../kubepods/pod1"; membership is then
         * read from the cgroup's cgroup.procs under the mount */
        ProcIdent id;

        unit_write_file("cg/kubepods/pod1/cgroup.procs", "7\n42\n");
        write_stat(42, 5000);
        write_cgroup_file(42, "0::/../../kubepods/pod1\n");
        ck_assert_int_eq(proc_ident_read(proc, 42, "kubepods/pod1", &id), 0);
        ck_assert_int_eq(proc_ident_check(proc, mount, 42, &id), 0);
        unit_write_file("cg/kubepods/pod1/cgroup.procs", "7\n420\n");
        ck_assert_int_eq(proc_ident_check(proc, mount, 42, &id), -EXDEV);
        unit_write_file("cg/kubepods/pod1/cgroup.procs", "");
        ck_assert_int_eq(proc_ident_check(proc, mount, 42, &id), -EXDEV);
        /* the cgroup removed */
        remove_tmp("cg/kubepods");
        ck_assert_int_eq(proc_ident_check(proc, mount, 42, &id), -EXDEV);
        /* listed there, but another process */
        unit_write_file("cg/kubepods/pod1/cgroup.procs", "42\n");
        write_stat(42, 5001);
        ck_assert_int_eq(proc_ident_check(proc, mount, 42, &id), -ESTALE);
}
END_TEST

int main(void) {
        Suite *s = suite_create("procpid");
        TCase *tc = tcase_create("procpid");

        tcase_add_checked_fixture(tc, setup, unit_tmp_teardown);
        tcase_add_test(tc, test_start_time);
        tcase_add_test(tc, test_cgroup_line);
        tcase_add_test(tc, test_check_same_reused_gone_moved);
        tcase_add_test(tc, test_check_outside_the_namespace);
        suite_add_tcase(s, tc);
        return unit_run(s);
}
