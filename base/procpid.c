/* SPDX-License-Identifier: MIT */
#include "procpid.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "util.h"

/* Read errors of /proc/PID files: ENOENT before, ESRCH after the exit. */
static int gone_errno(int r) {
        return r == -ENOENT || r == -ESRCH ? -ESRCH : r;
}

int proc_parse_start_time(const char *line, uint64_t *ret) {
        const char *p = strrchr(line, ')');
        unsigned long long t;

        /* ") state ppid pgrp session tty tpgid flags minflt cminflt majflt
         * cmajflt utime stime cutime cstime priority nice threads itreal start" */
        if (!p || sscanf(p + 1, " %*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %*u %*u %*d %*d %*d %*d %*d %*d %llu",
                         &t) != 1)
                return -EINVAL;
        *ret = t;
        return 0;
}

int proc_pid_start_time(const char *procfs_root, pid_t pid, uint64_t *ret) {
        _cleanup_free_ char *path = NULL, *line = NULL;
        int r;

        if (asprintf(&path, "/%d/stat", (int) pid) < 0)
                return -ENOMEM;
        r = read_one_line(procfs_root ? procfs_root : "/proc", path, &line);
        if (r < 0)
                return gone_errno(r);
        return proc_parse_start_time(line, ret);
}

int proc_parse_cgroup(const char *text, char **ret) {
        const char *v;
        size_t len;
        char *c;

        if (strncmp(text, "0::", 3) == 0)
                v = text + 3;
        else {
                v = strstr(text, "\n0::");
                if (!v)
                        return -ENODATA;
                v += 4;
        }
        len = strlen(v);
        if (len > 0 && v[len - 1] == '\n')
                len--;
        c = strndup(v, len);
        if (!c)
                return -ENOMEM;
        *ret = c;
        return 0;
}

int proc_pid_cgroup(const char *procfs_root, pid_t pid, char **ret) {
        _cleanup_free_ char *path = NULL, *data = NULL;
        int r;

        if (asprintf(&path, "/%d/cgroup", (int) pid) < 0)
                return -ENOMEM;
        r = read_full_file(procfs_root ? procfs_root : "/proc", path, &data, NULL);
        if (r < 0)
                return gone_errno(r);
        return proc_parse_cgroup(data, ret);
}

int proc_ident_read(const char *procfs_root, pid_t pid, const char *cgroup, ProcIdent *ret) {
        int r;

        *ret = (ProcIdent) { .cgroup = cgroup };
        r = proc_pid_start_time(procfs_root, pid, &ret->start_time);
        if (r == -ENOMEM)
                return r;
        ret->gone = r < 0;
        return 0;
}

/* Whether PID is listed in <mount>/CGROUP/cgroup.procs. */
static int procs_contain(const char *cgroup_mount, const char *cgroup, pid_t pid) {
        _cleanup_free_ char *path = NULL, *data = NULL;
        const char *p;
        int r;

        if (asprintf(&path, "%s%s%s/cgroup.procs", cgroup_mount ? cgroup_mount : "/sys/fs/cgroup",
                     cgroup[0] ? "/" : "", cgroup) < 0)
                return -ENOMEM;
        r = read_full_file(NULL, path, &data, NULL);
        if (r == -ENOMEM)
                return r;
        if (r < 0)
                return 0; /* the cgroup is gone: so is the process from it */
        for (p = data; *p;) {
                char *end;
                long v = strtol(p, &end, 10);

                if (end == p)
                        break;
                if (v == (long) pid)
                        return 1;
                p = end + strspn(end, "\n");
        }
        return 0;
}

int proc_ident_check(const char *procfs_root, const char *cgroup_mount, pid_t pid, const ProcIdent *id) {
        _cleanup_free_ char *cg = NULL;
        uint64_t start;
        int r, in = 1;

        if (id->gone)
                return -ESRCH;
        /* the cgroup first, then the start time: a match of the start
         * time says the process was there all along, so the cgroup read
         * was its own (a process does not come back) */
        if (id->cgroup) {
                r = proc_pid_cgroup(procfs_root, pid, &cg);
                if (r == -ENOMEM || r == -ESRCH)
                        return r;
                if (r < 0 || cg[0] != '/' || strcmp(cg + 1, id->cgroup) != 0) {
                        /* not the path it was listed under: another
                         * cgroup, or a path that does not compare with one
                         * under the mount (outside tierd's cgroup
                         * namespace, "/..", or a mount of a subtree). The
                         * cgroup's own list says. */
                        in = procs_contain(cgroup_mount, id->cgroup, pid);
                        if (in < 0)
                                return in;
                }
        }
        r = proc_pid_start_time(procfs_root, pid, &start);
        if (r == -ENOMEM)
                return r;
        if (r < 0)
                return -ESRCH;
        if (start != id->start_time)
                return -ESTALE;
        if (!in)
                return -EXDEV;
        return 0;
}

const char *proc_ident_strerror(int error) {
        switch (error) {
        case 0:
                return "the same process";
        case -ESRCH:
                return "the process exited";
        case -ESTALE:
                return "the pid belongs to another process now (another start time)";
        case -EXDEV:
                return "the process left the cgroup it was listed in";
        default:
                return strerror(-error);
        }
}
