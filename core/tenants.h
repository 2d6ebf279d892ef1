/* SPDX-License-Identifier: MIT */
/* The tenant set: which cgroups tierd manages, with their effective
 * policies and processes. Built by one function for the daemon's periods,
 * `tierctl show` and `explain`, and `tierd scan`, so they cannot disagree.
 *
 *   cgroup walk (usage per tier, pids) -> annotations (xattrs) +
 *   configuration -> effective policies (resolve.c) -> tenants
 *
 * By policy (a configuration): tenants are the cgroups with a policy of
 * their own (a configuration rule matches them or they carry a tierd
 * annotation), whose mode is not off and that report memory.numa_stat.
 * By name (TenantSetOptions.only, `tierd scan --cgroup`): the named
 * cgroups, whatever their policy.
 *
 * A tenant's processes are those of its subtree minus the subtrees of
 * nested tenants (each process is scanned and moved for one tenant); its
 * usage per tier is its memory.numa_stat, which counts the whole
 * subtree, nested tenants included: Tenant.parent links a nested tenant to
 * the nearest tenant above it, whose limits, protection and quotas cover
 * both (the planner's hierarchy, core/planner.h). A pid is a number that the kernel gives to another process once
 * this one exits: with a procfs root the set records each pid's identity
 * when it collects it (base/procpid.h), and whoever uses a pid later
 * (move_pages(2), a DAMON target) checks it first with
 * tenant_pid_check(). */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "annotations.h"
#include "cgroup.h"
#include "config.h"
#include "procpid.h"
#include "resolve.h"
#include "topology.h"

typedef struct Tenant {
        size_t index;                   /* into tree->cgroups, pol */
        const CgroupInfo *cgroup;
        const EffectivePolicy *policy;  /* NULL when the set has no configuration */
        pid_t *pids;                    /* own subtree minus nested tenants' subtrees */
        ProcIdent *idents;              /* [n_pids]: each pid's identity when collected (the cgroup
                                         * it was listed in, its start time); NULL without
                                         * TenantSetOptions.procfs_root */
        size_t n_pids;
        const struct Tenant *parent;    /* the nearest tenant among its ancestors (earlier in
                                         * TenantSet.tenants), NULL: none */
} Tenant;

typedef struct TenantSet {
        CgroupTree *tree;
        Resolution *res;                /* the strings of pol's origins and errors */
        EffectivePolicy *pol;           /* per cgroup of the tree, NULL without a configuration */
        Tenant *tenants;                /* in tree order */
        size_t n_tenants;
} TenantSet;

typedef struct TenantSetOptions {
        const char *cgroup_mount;       /* "/sys/fs/cgroup" */
        const Topology *topology;       /* node -> tier, for the usage per tier */
        unsigned walk_flags;            /* CGROUP_WALK_SKIP_* */
        const Config *config;           /* NULL: no policies (then ONLY is required) */
        const char *const *only;        /* tenants by path relative to the mount; NULL: by policy */
        size_t n_only;
        const char *procfs_root;        /* set: record each pid's identity (Tenant.idents), read
                                         * there, to be checked before the pid is used */
} TenantSetOptions;

/* Walks, resolves and picks. A cgroup of O->only that does not exist is
 * left out, and the first such one is named in *RET_MISSING (a pointer
 * into O->only; NULL when all exist; RET_MISSING may be NULL). -ENOMEM;
 * other -errno from the walk or the resolution. */
int tenant_set_build(const TenantSetOptions *o, TenantSet **ret, const char **ret_missing);
TenantSet *tenant_set_free(TenantSet *s);
static inline void tenant_set_freep(TenantSet **s) { tenant_set_free(*s); }

/* Pure: whether P has a policy of its own (not only inherited or the class
 * and built-in defaults). */
bool tenant_policy_is_own(const EffectivePolicy *p);

/* Whether PID, used for tenant T, is still the process T listed (the same
 * start time) and still in the cgroup it was listed in: 0 yes, or the
 * -errno of proc_ident_check() (-ESRCH, -ESTALE, -EXDEV; -ENOMEM); -ESRCH
 * also for a pid T does not list. 0 when T recorded no identities. */
int tenant_pid_check(const Tenant *t, pid_t pid, const char *procfs_root, const char *cgroup_mount);
/* PID's identity as T recorded it; NULL when T recorded none or does not
 * list PID. */
const ProcIdent *tenant_pid_ident(const Tenant *t, pid_t pid);

/* Per tenant of S (RET[k] for S->tenants[k]), the protection its subtree
 * has on tier TIER once shared with the tenants above it, as the planner
 * shares it (plan_share_low(), from the tier's usage in memory.numa_stat);
 * its own tierN.low when it is not nested. RET_OWN (may be NULL): the part
 * of it that protects its own processes. -ENOMEM, -EINVAL without
 * policies. */
int tenant_set_shared_low(const TenantSet *s, int tier, uint64_t *ret, uint64_t *ret_own);

/* The Kubernetes names of cgroup I: the pod and namespace recorded by the
 * OCI hook (trusted.tierd.k8s.*) on I or its nearest ancestor that has
 * them, the container's on I or below the pod; where none was recorded,
 * the kubelet's cgroup naming (cgroup/kube.h): the pod's UID as the pod,
 * the container's ID (12 characters) as the container, no namespace. 1
 * when I belongs to a pod, 0 when not (RET all ""). The recorded names
 * come with the policies (resolve_pod_identity()): a set built without a
 * configuration has only the cgroup naming. */
int tenant_set_k8s(const TenantSet *s, size_t i, K8sIdentity *ret);

/* The tenant at PATH (relative to the mount), NULL when it is not one. */
const Tenant *tenant_set_find_path(const TenantSet *s, const char *path);
/* The tenant of cgroup index I of the tree, NULL when it is not one. */
const Tenant *tenant_set_find_index(const TenantSet *s, size_t i);
/* The tenant whose processes include cgroup index I (I's own or its
 * nearest tenant ancestor's), NULL when none. */
const Tenant *tenant_set_owner(const TenantSet *s, size_t i);
