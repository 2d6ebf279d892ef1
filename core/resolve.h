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
 * resolve_pod_layer() holds this part. The pod's names are not kept per
 * cgroup: each distinct one is interned once in the Resolution and a
 * policy holds their indices (resolve_pod_identity()).
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

/* Where a value came from, in 12 bytes: the strings (rule and class
 * names, cgroup paths, notes) live once in the configuration, the cgroup
 * tree and the Resolution, and an origin holds indices to them. */
typedef struct Origin {
        uint8_t kind;           /* OriginKind */
        uint32_t where;         /* ORIGIN_RULE: index into Config.rules; ORIGIN_CLASS: into
                                 * Config.classes; ORIGIN_TRUSTED, ORIGIN_USER, ORIGIN_POD: the cgroup's
                                 * index (as given to resolve_one()); otherwise 0 */
        uint32_t note;          /* why a value was clamped or refused: a string of the
                                 * Resolution (origin_note()), 0 if none */
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

/* About 600 bytes per cgroup, whatever its paths, notes and pod names. */
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
        uint32_t pod_namespace; /* the pod root's trusted.tierd.k8s.namespace and .pod, and the */
        uint32_t pod_name;      /* nearest .container at or above up to the pod root: strings */
        uint32_t pod_container; /* of the Resolution (resolve_pod_identity()), 0 if none */
        int n_errors;
        uint32_t errors[RESOLVE_MAX_ERRORS]; /* resolve_error(): "a/b: user.tierd.tier0.max: \"12Q\" is not a size" */
} EffectivePolicy;

typedef struct ResolveInput {
        const char *path;       /* relative to the cgroup mount, "" = root */
        int parent;             /* index of the parent in the input, -1 for the top */
        uid_t owner;            /* of the cgroup directory: non-root = delegated (with its subtree) */
        uint64_t usage;         /* memory.current, for percentages */
        const Annotations *annotations; /* may be NULL; ->delegate also marks a delegation point */
} ResolveInput;

/* The context of one resolution: the configuration and the strings the
 * origins and errors point to (each distinct note or error text is kept
 * once; RESOLVE_STRINGS_MAX bytes in all, past which further notes and
 * errors are dropped; the pods' names, which root's OCI hook records, may
 * take RESOLVE_NAMES_RESERVE bytes past that, and a name dropped past it
 * reads as not recorded: a pod's requests then only tighten). PATH_OF gives the path of cgroup index I (origins
 * name cgroups by index); NULL: the paths of the input resolve_policies()
 * was last given. */
#define RESOLVE_STRINGS_MAX (16u << 20)
#define RESOLVE_NAMES_RESERVE (8u << 20)
typedef const char *(*ResolvePathFn)(size_t index, void *userdata);
typedef struct Resolution Resolution;

Resolution *resolution_new(const Config *cfg, ResolvePathFn path_of, void *userdata);
Resolution *resolution_free(Resolution *r);
static inline void resolution_freep(Resolution **r) { resolution_free(*r); }
/* Bytes held by the strings, for tests and measurements. */
size_t resolution_strings_size(const Resolution *r);

/* Resolves cgroup INDEX, given its parent's effective policy (NULL for
 * the top): one cgroup at a time, so that a caller keeps only one
 * cgroup's annotations. -ENOMEM. */
int resolve_one(Resolution *r, const ResolveInput *in, size_t index, const EffectivePolicy *parent,
                EffectivePolicy *ret);
/* Resolves N cgroups given in pre-order; ret must hold N entries.
 * -EINVAL when a parent does not come before its child. */
int resolve_policies(Resolution *r, const ResolveInput *in, size_t n, EffectivePolicy *ret);

/* The strings of an origin: its place ("tierd.json: rules[3]", a class
 * name, a cgroup path, "" for the built-in default) and its note ("" if
 * none); the error K (< p->n_errors) of P. Valid while R lives. */
const char *origin_where(const Resolution *r, const Origin *o);
const char *origin_note(const Resolution *r, const Origin *o);
const char *resolve_error(const Resolution *r, const EffectivePolicy *p, int k);
/* The pod's names of P as recorded by the OCI hook ("" where not). */
void resolve_pod_identity(const Resolution *r, const EffectivePolicy *p, K8sIdentity *ret);

const char *origin_kind_to_string(OriginKind k);
/* "trusted annotation on a/b", "rule tierd.json: rules[3]", ... */
const char *origin_to_string(const Resolution *r, const Origin *o, char *buf, size_t size);
