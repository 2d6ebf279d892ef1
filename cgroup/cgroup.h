/* SPDX-License-Identifier: MIT */
/* cgroup v2: where it is mounted and what it offers. */
#pragma once

#include <stdbool.h>

/* Finds the cgroup2 mount point from PROC_ROOT/self/mountinfo. With a
 * hybrid v1/v2 layout (v2 at /sys/fs/cgroup/unified) that is the v2 one.
 * -ENOENT when no cgroup2 file system is mounted. */
int cgroup_find_mount(const char *proc_root, char **ret_path);

/* Parses the text of a mountinfo file (pure, for tests). */
int cgroup_mount_from_mountinfo(const char *mountinfo, char **ret_path);

/* Whether the cgroup file system at PATH accepts extended attributes in the
 * namespace PREFIX ("user." or "trusted."), decided read-only: a lookup of
 * an absent attribute says ENODATA when the namespace is supported.
 * Returns 1 supported, 0 not supported, -errno when it cannot tell. */
int cgroup_xattr_supported(const char *path, const char *prefix);

/* Whether CONTROLLER is listed in the cgroup.controllers (or, with
 * subtree true, cgroup.subtree_control) file of the cgroup at PATH. */
int cgroup_has_controller(const char *path, const char *controller, bool subtree);
