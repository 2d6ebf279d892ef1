/* SPDX-License-Identifier: MIT */
/* The OCI hook's I/O: reading its input and recording a plan (oci.h) as
 * xattrs on the cgroups. */
#pragma once

#include <stdbool.h>

#include "oci.h"

/* The state from FD (at most 1 MiB) and the bundle's config.json (at most
 * 16 MiB; a bundle that cannot be read leaves the state's annotations).
 * -errno with a reason in *RET_WHY. */
int hook_read_input(int fd, HookInput *ret, const char **ret_why);

/* The container's cgroup relative to the mount: linux.cgroupsPath, else
 * the "0::" line of PROC_ROOT/PID/cgroup. -ENOENT when neither names a
 * directory under ROOT_FD (the cgroup2 mount). */
int hook_find_cgroup(const HookInput *in, int root_fd, const char *proc_root, char **ret);

/* The pod cgroup's trusted.tierd.k8s.containers (oci.h) into IN->stash;
 * absent is fine. */
int hook_read_stash(int root_fd, const char *pod_cgroup, HookInput *in);

/* Sets the plan's xattrs on the cgroups under ROOT_FD. *RET_FIRST says
 * whether this was the first container of its pod to record it (the pod's
 * cgroup had no trusted.tierd.k8s.pod yet), so that a pod's problems are
 * logged once. Stops at the first failure: -errno (-EPERM for a rootless
 * runtime, -ENOTSUP for a file system without trusted.* xattrs). */
int hook_apply(const HookPlan *p, int root_fd, bool *ret_first);
