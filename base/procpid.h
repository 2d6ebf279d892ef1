/* SPDX-License-Identifier: MIT */
/* A process's identity, to tell it from a later process that was given the
 * same pid. tierd reads pids from cgroup.procs and uses them by number up
 * to a period later (move_pages(2), DAMON's pid_target); by then the
 * process may have exited and its pid gone to another process, possibly
 * in another cgroup, or the process may have been moved out of the
 * tenant. So the identity of each pid is recorded when the pid is
 * collected (its start time, field 22 of /proc/PID/stat, in clock ticks
 * since boot, and the cgroup it was listed in) and checked again right
 * before the pid is used. All files are read under a procfs root ("/proc"
 * when NULL). */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

typedef struct ProcIdent {
        uint64_t start_time;    /* field 22 of /proc/PID/stat when the pid was collected */
        const char *cgroup;     /* the cgroup it was listed in, relative to the mount ("" the root);
                                 * borrowed (the walk's); NULL: not checked */
        bool gone;              /* the process was gone already when its identity was read */
} ProcIdent;

/* Field 22 of <procfs_root>/PID/stat: the start time, in clock ticks since
 * boot. -ESRCH when the process is gone; -EINVAL when the line does not
 * parse; other -errno of the read. */
int proc_pid_start_time(const char *procfs_root, pid_t pid, uint64_t *ret);

/* The cgroup v2 path of PID from <procfs_root>/PID/cgroup (its "0::" line,
 * the last one), as the kernel prints it: "/a/b", "/" for the root, and
 * "/../x" for a cgroup outside the reader's cgroup namespace. -ESRCH when
 * the process is gone; -ENODATA when there is no "0::" line. */
int proc_pid_cgroup(const char *procfs_root, pid_t pid, char **ret);

/* Pure: the start time, field 22, of a /proc/PID/stat LINE (the fields
 * are counted from the last ')': the command name may hold any). -EINVAL
 * when it does not parse. */
int proc_parse_start_time(const char *line, uint64_t *ret);

/* Pure: the path of the "0::" line of a /proc/PID/cgroup TEXT, a new
 * string: the rest of the text (the v2 line comes last, and a cgroup name
 * may hold a newline) less one final newline. -ENODATA when TEXT has no
 * such line; -ENOMEM. */
int proc_parse_cgroup(const char *text, char **ret);

/* Records PID's identity now: its start time (RET->gone when it has
 * exited) and CGROUP (borrowed). -ENOMEM; other read errors count as gone. */
int proc_ident_read(const char *procfs_root, pid_t pid, const char *cgroup, ProcIdent *ret);

/* Whether PID is still the process ID describes and still in ID->cgroup:
 * 0 yes; -ESRCH it is gone (or was at collection); -ESTALE the pid belongs
 * to another process now (another start time); -EXDEV the process is in
 * another cgroup now. The cgroup is read before the start time, so both
 * are of one process. When /proc/PID/cgroup does not name ID->cgroup, the
 * process has moved, or the path does not compare with one under the
 * mount (the kernel prints cgroups outside tierd's cgroup namespace as
 * "/../x"; a mount may show a subtree): <cgroup_mount>/ID->cgroup/
 * cgroup.procs decides. -ENOMEM. */
int proc_ident_check(const char *procfs_root, const char *cgroup_mount, pid_t pid, const ProcIdent *id);

/* A few words on a proc_ident_check() failure, for a log line. */
const char *proc_ident_strerror(int error);
