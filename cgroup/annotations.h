/* SPDX-License-Identifier: MIT */
/* Tier-policy annotations: extended attributes on cgroup directories,
 * trusted.tierd.KEY (settable with CAP_SYS_ADMIN only) and user.tierd.KEY
 * (settable by whoever owns a delegated subtree). Keys and values follow
 * config/policy.h; this file only moves strings in and out of xattrs.
 *
 * Two trusted.tierd.* families are not the operator's policy: what the OCI
 * hook (hook/) recorded from a pod's tierd.io/ annotations,
 * trusted.tierd.pod.KEY (Annotation.pod: the pod author's request, which
 * resolution checks like a delegated user.tierd.* one), and the pod's
 * identity, trusted.tierd.k8s.{pod,namespace,container} (K8sIdentity). */
#pragma once

#include <stdbool.h>
#include <sys/types.h>

#define ANNOTATIONS_MAX 32
#define ANNOTATION_KEY_MAX 48
#define ANNOTATION_VALUE_MAX 128

typedef struct Annotation {
        char key[ANNOTATION_KEY_MAX];     /* without the "trusted.tierd." prefix */
        char value[ANNOTATION_VALUE_MAX];
        bool trusted;                     /* trusted.tierd.* rather than user.tierd.* */
        bool pod;                         /* trusted.tierd.pod.KEY (key without "pod."): a pod's request */
        bool truncated;                   /* the value did not fit: treat as invalid */
} Annotation;

#define K8S_NAME_MAX 254                  /* a pod name: a DNS subdomain, at most 253 */
#define K8S_LABEL_MAX 64                  /* a namespace or container name: a DNS label */

/* Who a cgroup belongs to in Kubernetes, as the OCI hook recorded it from
 * the runtime's io.kubernetes.* annotations; "" where not recorded. */
typedef struct K8sIdentity {
        char pod[K8S_NAME_MAX];           /* trusted.tierd.k8s.pod */
        char namespace_[K8S_LABEL_MAX];   /* trusted.tierd.k8s.namespace */
        char container[K8S_LABEL_MAX];    /* trusted.tierd.k8s.container */
} K8sIdentity;

typedef struct Annotations {
        int n;
        Annotation items[ANNOTATIONS_MAX];
        uid_t owner;                      /* owner of the cgroup directory */
        int dropped;                      /* tierd.* attributes beyond ANNOTATIONS_MAX */
        bool delegate;                    /* trusted.delegate or user.delegate is true (systemd's Delegate=) */
        K8sIdentity k8s;
} Annotations;

/* Reads every trusted.tierd.* and user.tierd.* attribute of the cgroup
 * directory DIR_FD/NAME (NAME may be "." for DIR_FD itself), the owner,
 * and whether trusted.delegate or user.delegate marks it delegated.
 * -ENOENT/-ENODEV when the cgroup went away. */
int annotations_read_at(int dir_fd, const char *name, Annotations *ret);
int annotations_read(const char *path, Annotations *ret);

/* The pure part of annotations_read_at(), for tests and fuzzing: walks
 * LIST, SIZE bytes of NUL-terminated attribute names as flistxattr()
 * returns them, into RET (which the caller zeroes; owner is left alone).
 * For each tierd.* name, and for trusted.delegate and user.delegate, GET
 * reads the value into BUF, at most SIZE bytes,
 * returning its length or -errno: -ERANGE (longer) marks the annotation
 * truncated, -ENODATA (gone) skips it, others are returned. */
typedef ssize_t (*AnnotationGetFn)(const char *attr, char *buf, size_t size, void *userdata);
int annotations_parse(const char *list, size_t size, AnnotationGetFn get, void *userdata, Annotations *ret);

/* Value of KEY in one namespace, NULL if absent (trusted.tierd.pod.*
 * are not looked at: annotations_get_pod()). */
const Annotation *annotations_get(const Annotations *a, const char *key, bool trusted);
const Annotation *annotations_get_pod(const Annotations *a, const char *key);

/* Sets (value non-NULL) or removes (value NULL) trusted.tierd.KEY or
 * user.tierd.KEY on PATH. Removing an absent attribute is not an error. */
int annotation_write(const char *path, const char *key, const char *value, bool trusted);

/* The xattr prefixes of a pod's requests and identity. */
#define ANNOTATION_POD_PREFIX "trusted.tierd.pod."
#define ANNOTATION_K8S_PREFIX "trusted.tierd.k8s."
