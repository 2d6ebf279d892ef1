/* SPDX-License-Identifier: MIT */
/* Kubernetes pod and container annotations as tier policy (pure).
 *
 * A pod author writes annotations named tierd.io/KEY (the whole pod) or
 * tierd.io/KEY.CONTAINER (one container of the pod), KEY one of the policy
 * keys of policy.h and the value in their grammar:
 *
 *   tierd.io/class: latency            tierd.io/tier0.max.web: 512M
 *
 * A container name is a DNS label (RFC 1123: [a-z0-9-], at most 63, no
 * '-' at either end), so it never holds a '.', and no policy key is
 * another key followed by ".LABEL": the name is read as a whole key first,
 * then as KEY.CONTAINER split at its last '.'.
 *
 * The OCI hook (hook/) records them on the pod's or the container's
 * cgroup as trusted.tierd.pod.KEY; tierd resolves them as the origin
 * "pod". What a pod asks for may only tighten what the cgroup gets without
 * it, unless a grant of the configuration ("pods": {"grants": [...]}) lets
 * the pod's namespace ask for a class or set a key. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "policy.h"

#define POD_ANNOTATION_PREFIX "tierd.io/"
#define POD_KEY_MAX 32
#define POD_CONTAINER_MAX 64    /* a DNS label: at most 63 characters */
#define POD_NAMESPACE_MAX 64    /* a DNS label too */
#define POD_NAME_MAX 254        /* a DNS subdomain: at most 253 */

/* The policy keys as field numbers, the order policy resolution uses:
 * class 0, mode 1, promote.rate 2, promote.burst 3, demote.rate 4,
 * demote.burst 5, tierN.max 6+N, tierN.low 6+POLICY_MAX_TIERS+N. */
#define POD_FIELD_TIER_MAX 6
#define POD_FIELD_TIER_LOW (POD_FIELD_TIER_MAX + POLICY_MAX_TIERS)
#define POD_FIELDS (POD_FIELD_TIER_LOW + POLICY_MAX_TIERS)
/* The field of a key name, -1 for none; and back, into BUF. */
int pod_field_of_key(const char *name);
const char *pod_field_name(int field, char *buf, size_t size);

typedef struct PodAnnotation {
        char key[POD_KEY_MAX];                  /* the policy key: "class", "tier0.max" */
        char container[POD_CONTAINER_MAX];      /* "" for the whole pod */
} PodAnnotation;

/* Whether S is a DNS label (RFC 1123), as Kubernetes names containers and
 * namespaces. */
bool pod_dns_label_valid(const char *s);

/* Splits the name of an annotation. 0: a tierd.io/ policy annotation;
 * -ENOENT: not a tierd.io/ annotation (someone else's, ignore it);
 * -EINVAL with a static reason in *RET_WHY: a tierd.io/ annotation that
 * names no policy key or a bad container name. */
int pod_annotation_name_parse(const char *name, PodAnnotation *ret, const char **ret_why);

/* The name and then VALUE in the grammar of policy.h (class names are
 * checked for their form only: which classes exist is tierd's
 * configuration's business). Returns as pod_annotation_name_parse(), and
 * -EINVAL/-ERANGE with a reason for a bad value. */
int pod_annotation_parse(const char *name, const char *value, PodAnnotation *ret, const char **ret_why);
