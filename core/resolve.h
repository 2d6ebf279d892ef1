/* SPDX-License-Identifier: MIT */
/* Effective policy per cgroup (pure: data in, policy out, no I/O).
 *
 * For each cgroup, in pre-order (parents first), and for each key:
 *  1. the cgroup's own value: trusted.tierd.KEY, else user.tierd.KEY, else
 *     the configuration rules matching its path (later rules win);
 *  2. without an own value: the class's default (the effective class), then
 *     the configuration's "default" section, then for class and mode the
 *     parent's effective value (class and mode are inherited);
 *  3. the hierarchy: limits (tierN.max, tierN.low) and quotas (promote.*,
 *     demote.*) are clamped to the parent's effective value, so a child is
 *     never looser than its ancestors.
 *
 * Delegation: a cgroup whose directory is owned by a non-root user, or
 * that carries systemd's trusted.delegate (or user.delegate) xattr with a
 * true value, is delegated, and so is everything below it (the delegatee creates, names
 * and renames those cgroups). There a user.tierd.* annotation can only
 * tighten: a class of higher priority, a larger limit or tier protection, a
 * larger promotion quota, or a less strict mode (off < observe < enforce)
 * than the cgroup would have without it is refused and noted.
 * demote.rate/demote.burst are not delegable at all: lowering them would
 * slow the enforcement of the tenant's own limits, and raising them would
 * take global migration budget from other tenants. A rule matching a
 * cgroup whose parent is delegated matched a name the delegatee chose, so
 * it is held to the same check (against the ancestors, trusted.tierd.* and
 * the class defaults); the delegation root itself was named by its
 * parent's owner, and rules apply to it in full.
 *
 * Pods: trusted.tierd.pod.KEY, what the OCI hook recorded from a pod's
 * tierd.io/ annotations (pods.h), is the pod author's request, the origin
 * "pod". It applies over the operator's values (rules, class defaults,
 * ancestors) and under user.tierd.*, and a trusted.tierd.KEY shadows it.
 * It can only tighten, exactly like a delegated user.tierd.* value, unless
 * a grant of the configuration (Config.pod_grants) names the pod's
 * namespace and the class asked for or the key. The namespace is the
 * trusted.tierd.k8s.namespace of the nearest cgroup at or above that
 * carries one (the pod's cgroup). In a delegated subtree no grant applies.
 * resolve_pod_layer() holds this part.
 *
 * Bad annotation values are reported (cgroup, key, value, why) and that key
 * falls back as if unset. Every effective value carries its origin. */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "annotations.h"
#include "config.h"
#include "policy.h"

typedef enum OriginKind {
        ORIGIN_BUILTIN,         /* nothing set anywhere */
        ORIGIN_DEFAULT,         /* the configuration's "default" section */
        ORIGIN_CLASS,           /* the class's default */
        ORIGIN_RULE,            /* a configuration rule */
        ORIGIN_TRUSTED,         /* trusted.tierd.KEY on a cgroup */
        ORIGIN_USER,            /* user.tierd.KEY on a cgroup */
        ORIGIN_POD,             /* trusted.tierd.pod.KEY: a pod's tierd.io/KEY annotation */
        ORIGIN_PARENT,          /* inherited or clamped by an ancestor */
} OriginKind;

typedef struct Origin {
        OriginKind kind;
        char where[320];        /* rule origin, class name, or cgroup path */
        char note[320];         /* why a value was clamped or refused, "" if none */
} Origin;

typedef struct EffectiveLimit {
        Limit spec;             /* as written where it came from */
        uint64_t bytes;         /* effective bytes at this usage, clamped; UINT64_MAX = none */
        Origin origin;
} EffectiveLimit;

typedef struct EffectiveQuantity {
        Quantity value;         /* effective; unset never happens after resolution */
        Origin origin;
} EffectiveQuantity;

#define RESOLVE_MAX_ERRORS 8

typedef struct EffectivePolicy {
        int class_index;        /* into Config.classes */
        Origin class_origin;
        PolicyMode mode;
        Origin mode_origin;
        EffectiveQuantity promote_rate, promote_burst, demote_rate, demote_burst;
        EffectiveLimit tier_max[POLICY_MAX_TIERS];
        EffectiveLimit tier_low[POLICY_MAX_TIERS];
        bool delegated;         /* user.tierd.* here can only tighten */
        int delegation_root;    /* index of the topmost delegated ancestor-or-self, -1 if none */
        int pod_root;           /* index of the nearest ancestor-or-self with a recorded pod identity
                                 * (trusted.tierd.k8s.pod or .namespace), -1 if none */
        bool pod_refused;       /* a pod's request (ORIGIN_POD) was refused here: see the notes */
        int n_errors;
        char errors[RESOLVE_MAX_ERRORS][320]; /* "a/b: user.tierd.tier0.max: \"12Q\" is not a size" */
} EffectivePolicy;

typedef struct ResolveInput {
        const char *path;       /* relative to the cgroup mount, "" = root */
        int parent;             /* index of the parent in the input, -1 for the top */
        uid_t owner;            /* of the cgroup directory: non-root = delegated (with its subtree) */
        uint64_t usage;         /* memory.current, for percentages */
        const Annotations *annotations; /* may be NULL; ->delegate also marks a delegation point */
} ResolveInput;

/* Resolves N cgroups given in pre-order; ret must hold N entries. */
int resolve_policies(const Config *cfg, const ResolveInput *in, size_t n, EffectivePolicy *ret);

const char *origin_kind_to_string(OriginKind k);
/* "trusted annotation on a/b", "rule tierd.json: rules[3]", ... */
const char *origin_to_string(const Origin *o, char *buf, size_t size);
