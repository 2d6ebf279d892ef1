/* SPDX-License-Identifier: MIT */
/* The OCI hook's input and what it records (pure parts; hook.c writes).
 *
 * The runtime runs tierd-oci-hook at createRuntime with the container's
 * OCI state on stdin ({"id", "pid", "bundle", "annotations", ...}); the
 * bundle's config.json has the annotations and linux.cgroupsPath. From
 * them the hook finds the container's cgroup and, when the kubelet's
 * naming (cgroup/kube.h) shows one above it, the pod's, and records:
 *
 *   on the pod's cgroup        trusted.tierd.k8s.pod, trusted.tierd.k8s.namespace,
 *                              trusted.tierd.pod.KEY for each tierd.io/KEY
 *   on the container's cgroup  trusted.tierd.k8s.container,
 *                              trusted.tierd.pod.KEY for each tierd.io/KEY.NAME
 *                              of this container's NAME
 *
 * With no pod cgroup above (podman without a pod, a bare runc) both go on
 * the container's cgroup, the container's keys over the pod's. A cgroup
 * and its xattrs go away together: nothing is left behind.
 *
 * Not every runtime gives each container the pod's annotations (some give
 * them to the pod's sandbox only), so the container-scoped ones are also
 * kept on the pod's cgroup, as trusted.tierd.k8s.containers ("NAME=VALUE"
 * lines of the tierd.io/KEY.CONTAINER annotations), and a container whose
 * configuration has none takes its own from there. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "pods.h"

#define HOOK_MAX_ANNOTATIONS 256
#define HOOK_MAX_WRITES 64
#define HOOK_MAX_ERRORS 16
#define HOOK_STASH_MAX 1024     /* trusted.tierd.k8s.containers, with its NUL */

typedef struct HookAnnotation {
        char *name, *value;
} HookAnnotation;

typedef struct HookInput {
        char *id;               /* the container's id */
        pid_t pid;              /* its init process, 0 unknown */
        char *bundle;           /* the bundle's directory */
        char *cgroups_path;     /* linux.cgroupsPath, NULL absent */
        size_t n_annotations;
        HookAnnotation annotations[HOOK_MAX_ANNOTATIONS];
        size_t dropped;         /* annotations beyond HOOK_MAX_ANNOTATIONS */
        char *stash;            /* the pod cgroup's trusted.tierd.k8s.containers, NULL none */
} HookInput;

void hook_input_done(HookInput *in);

/* The OCI state (stdin): id, pid, bundle, and its annotations. -EINVAL
 * with a reason for JSON that is not a state object. */
int hook_parse_state(const char *text, HookInput *ret, const char **ret_why);
/* config.json of the bundle: its annotations replace the state's (they
 * are the same, and the state of older runtimes has none), and
 * linux.cgroupsPath. */
int hook_parse_config(const char *text, HookInput *in, const char **ret_why);

/* linux.cgroupsPath as a path relative to the cgroup2 mount:
 *   "SLICE:PREFIX:NAME" (systemd driver) -> the slice expanded as systemd
 *   does ("a-b.slice" -> "a.slice/a-b.slice"; "" is system.slice, "-.slice"
 *   the root) + "/PREFIX-NAME.scope" (or NAME itself when it is a slice);
 *   "/a/b" or "a/b" (cgroupfs driver) -> "a/b".
 * -EINVAL for anything else or a path with "." or ".." segments. */
int hook_cgroup_path(const char *cgroups_path, char **ret);

typedef struct HookWrite {
        bool pod;               /* on the pod's cgroup, else the container's */
        char attr[96];          /* "trusted.tierd.pod.class" */
        char value[HOOK_STASH_MAX];
} HookWrite;

typedef struct HookPlan {
        char *container_cgroup; /* relative to the mount */
        char *pod_cgroup;       /* the same as container_cgroup when no pod is above it */
        char pod[POD_NAME_MAX], ns[POD_NAMESPACE_MAX], container[POD_CONTAINER_MAX];
        bool sandbox;           /* the pod's sandbox (pause) container */
        size_t n_writes;
        HookWrite writes[HOOK_MAX_WRITES];
        /* annotations refused: "tierd.io/tier0.max=12Q: is not a size" */
        size_t n_pod_errors, n_container_errors;
        char pod_errors[HOOK_MAX_ERRORS][192], container_errors[HOOK_MAX_ERRORS][192];
        /* the runtime's names that disagree, none of them recorded:
         * "io.kubernetes.cri.sandbox-namespace=a but io.kubernetes.pod.namespace=b" */
        char identity_error[512];
} HookPlan;

void hook_plan_done(HookPlan *p);

/* The pod's cgroup of the container cgroup CGROUP: the kubelet's (or
 * podman's) pod directly above it, else CGROUP itself. */
int hook_pod_cgroup(const char *cgroup, char **ret);

/* What to record for IN whose container cgroup is CGROUP (relative to the
 * mount): the pod's identity from the runtime's annotations
 * (io.kubernetes.cri.sandbox-name/-namespace, io.kubernetes.cri.container-name
 * of containerd's CRI, io.kubernetes.pod.name/.namespace and
 * io.kubernetes.container.name of CRI-O and podman), each tierd.io/
 * annotation checked (pods.h). Pure; -ENOMEM. */
int hook_plan(const HookInput *in, const char *cgroup, HookPlan *ret);
