/* SPDX-License-Identifier: MIT */
/* Kubernetes names from cgroup paths (pure). The kubelet and the container
 * runtimes name a pod's and a container's cgroups the same way on every
 * node, for both cgroup drivers:
 *
 *   systemd   kubepods.slice/kubepods-burstable.slice/
 *               kubepods-burstable-pod<UID with '_' for '-'>.slice/
 *               cri-containerd-<ID>.scope | crio-<ID>.scope | docker-<ID>.scope
 *   cgroupfs  kubepods/burstable/pod<UID>/<ID> | crio-<ID>
 *
 * (Guaranteed pods sit directly under kubepods[.slice].) Podman's pods
 * (machine.slice/machine-libpod_pod_<ID>.slice/libpod-<ID>.scope) are read
 * too. Where the OCI hook recorded names (trusted.tierd.k8s.*), those win;
 * this is what is known without them: the pod's UID and the container's
 * ID. */
#pragma once

#include <stdbool.h>

/* a Kubernetes pod UID is 36 characters, podman's pod and container IDs 64 */
#define KUBE_UID_MAX 72
#define KUBE_ID_MAX 72

typedef struct KubePath {
        char qos[16];           /* "guaranteed", "burstable", "besteffort"; "" when not a kubepods path */
        char pod_uid[KUBE_UID_MAX];     /* "" when the path has no pod */
        char container_id[KUBE_ID_MAX]; /* "" when the path has no container below the pod */
        int pod_depth;          /* index of the pod's segment in the path (0 = first), -1 none */
} KubePath;

/* Reads PATH (relative to the cgroup mount, no leading '/'). 0 when PATH
 * is at or below a pod's cgroup, -ENOENT when it is not. */
int kube_path_parse(const char *path, KubePath *ret);
