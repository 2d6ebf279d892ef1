/* SPDX-License-Identifier: MIT */
#include "tenants.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "planner.h"
#include "kube.h"
#include "util.h"

static bool origin_is_own(const Origin *o) {
        return o->kind == ORIGIN_RULE || o->kind == ORIGIN_TRUSTED || o->kind == ORIGIN_USER || o->kind == ORIGIN_POD;
}

bool tenant_policy_is_own(const EffectivePolicy *p) {
        if (origin_is_own(&p->class_origin) || origin_is_own(&p->mode_origin) ||
            origin_is_own(&p->promote_rate.origin) || origin_is_own(&p->promote_burst.origin) ||
            origin_is_own(&p->demote_rate.origin) || origin_is_own(&p->demote_burst.origin))
                return true;
        for (int t = 0; t < POLICY_MAX_TIERS; t++)
                if (origin_is_own(&p->tier_max[t].origin) || origin_is_own(&p->tier_low[t].origin))
                        return true;
        return false;
}

TenantSet *tenant_set_free(TenantSet *s) {
        if (!s)
                return NULL;
        for (size_t k = 0; k < s->n_tenants; k++) {
                free(s->tenants[k].pids);
                free(s->tenants[k].idents);
        }
        free(s->tenants);
        free(s->pol);
        resolution_free(s->res);
        cgroup_tree_free(s->tree);
        free(s);
        return NULL;
}

static const char *tree_path(size_t i, void *userdata) {
        const CgroupTree *t = userdata;

        return i < t->n_cgroups ? t->cgroups[i].path : "";
}

/* Effective policies of every cgroup of the tree, one cgroup at a time:
 * its annotations are read into one buffer and kept no longer than its
 * resolution (the policy keeps its origins as indices). */
static int resolve_all(TenantSet *s, const TenantSetOptions *o) {
        _cleanup_free_ Annotations *ann = NULL;
        _cleanup_free_ char *path = NULL;
        size_t n = s->tree->n_cgroups, mlen = strlen(o->cgroup_mount), alloc = 0;
        int r;

        s->res = resolution_new(o->config, tree_path, s->tree);
        s->pol = calloc(n ? n : 1, sizeof(*s->pol));
        ann = malloc(sizeof(*ann));
        if (!s->res || !s->pol || !ann)
                return -ENOMEM;
        for (size_t i = 0; i < n; i++) {
                const CgroupInfo *ci = &s->tree->cgroups[i];
                size_t need = mlen + 1 + strlen(ci->path) + 1;
                ResolveInput in;

                if (need > alloc) {
                        char *np = realloc(path, need);

                        if (!np)
                                return -ENOMEM;
                        path = np;
                        alloc = need;
                }
                snprintf(path, alloc, "%s%s%s", o->cgroup_mount, ci->path[0] ? "/" : "", ci->path);
                r = annotations_read(path, ann);
                if (r == -ENOMEM)
                        return r;
                /* gone since the walk: resolved without annotations, and
                 * it has no processes to move anyway */
                in = (ResolveInput) {
                        .path = ci->path, .parent = ci->parent, .owner = ci->uid,
                        .usage = ci->memory_current, .annotations = r < 0 ? NULL : ann,
                };
                r = resolve_one(s->res, &in, i, ci->parent >= 0 ? &s->pol[ci->parent] : NULL, &s->pol[i]);
                if (r < 0)
                        return log_error_errno(r, "policy resolution failed: %m");
                for (int e = 0; i > 0 && e < s->pol[i].n_errors; e++)
                        log_debug("%s", resolve_error(s->res, &s->pol[i], e));
        }
        return 0;
}

/* Marks the tenants in IS (one flag per cgroup). */
static int pick(TenantSet *s, const TenantSetOptions *o, bool *is, const char **ret_missing) {
        if (o->only) {
                for (size_t j = 0; j < o->n_only; j++) {
                        size_t idx;

                        if (cgroup_tree_find(s->tree, o->only[j], &idx) < 0) {
                                if (ret_missing && !*ret_missing)
                                        *ret_missing = o->only[j];
                                continue;
                        }
                        is[idx] = true;
                }
                return 0;
        }
        for (size_t i = 1; i < s->tree->n_cgroups; i++) {
                const EffectivePolicy *pol = &s->pol[i];

                is[i] = pol->mode != MODE_OFF && pol->mode != MODE_UNSET && tenant_policy_is_own(pol) &&
                        s->tree->cgroups[i].has_numa_stat;
        }
        return 0;
}

/* Tenant K's processes: its subtree minus nested tenants' subtrees; with
 * PROCFS_ROOT each one's identity. */
static int collect_pids(TenantSet *s, const bool *is, Tenant *t, const char *procfs_root) {
        const CgroupTree *tree = s->tree;
        size_t end = tree->cgroups[t->index].subtree_end, cnt = 0;
        int r;

        for (size_t j = t->index; j < end; j++) {
                const CgroupInfo *ci = &tree->cgroups[j];

                if (j != t->index && is[j]) {
                        j = ci->subtree_end - 1; /* a nested tenant's subtree */
                        continue;
                }
                if (ci->n_pids) {
                        pid_t *np = realloc(t->pids, (cnt + ci->n_pids) * sizeof(pid_t));

                        if (!np)
                                return -ENOMEM;
                        t->pids = np;
                        memcpy(np + cnt, ci->pids, ci->n_pids * sizeof(pid_t));
                        if (procfs_root) {
                                ProcIdent *ni = realloc(t->idents, (cnt + ci->n_pids) * sizeof(ProcIdent));

                                if (!ni)
                                        return -ENOMEM;
                                t->idents = ni;
                                for (size_t i = 0; i < ci->n_pids; i++) {
                                        r = proc_ident_read(procfs_root, ci->pids[i], ci->path, &ni[cnt + i]);
                                        if (r < 0)
                                                return r;
                                }
                        }
                        cnt += ci->n_pids;
                }
        }
        t->n_pids = cnt;
        return 0;
}

const ProcIdent *tenant_pid_ident(const Tenant *t, pid_t pid) {
        for (size_t i = 0; t->idents && i < t->n_pids; i++)
                if (t->pids[i] == pid)
                        return &t->idents[i];
        return NULL;
}

int tenant_pid_check(const Tenant *t, pid_t pid, const char *procfs_root, const char *cgroup_mount) {
        const ProcIdent *id = tenant_pid_ident(t, pid);

        if (!t->idents)
                return 0;
        return id ? proc_ident_check(procfs_root, cgroup_mount, pid, id) : -ESRCH;
}

int tenant_set_build(const TenantSetOptions *o, TenantSet **ret, const char **ret_missing) {
        _cleanup_(tenant_set_freep) TenantSet *s = calloc(1, sizeof(*s));
        _cleanup_free_ bool *is = NULL;
        _cleanup_free_ const Tenant **near = NULL;
        size_t n;
        int r;

        if (ret_missing)
                *ret_missing = NULL;
        if (!s)
                return -ENOMEM;
        if (!o->config && !o->only)
                return -EINVAL;
        r = cgroup_walk(o->cgroup_mount, o->topology, o->walk_flags, &s->tree);
        if (r < 0)
                return log_error_errno(r, "cannot walk the cgroup tree at %s: %m", o->cgroup_mount);
        n = s->tree->n_cgroups;
        if (o->config) {
                r = resolve_all(s, o);
                if (r < 0)
                        return r;
        }
        is = calloc(n ? n : 1, sizeof(*is));
        s->tenants = calloc(n ? n : 1, sizeof(*s->tenants));
        if (!is || !s->tenants)
                return -ENOMEM;
        r = pick(s, o, is, ret_missing);
        if (r < 0)
                return r;
        /* per cgroup, the nearest tenant at or above it (tree order: a
         * parent comes before its children) */
        near = calloc(n ? n : 1, sizeof(*near));
        if (!near)
                return -ENOMEM;
        for (size_t i = 0; i < n; i++) {
                int up = s->tree->cgroups[i].parent;
                Tenant *t;

                near[i] = up >= 0 && (size_t) up < i ? near[up] : NULL;
                if (!is[i])
                        continue;
                t = &s->tenants[s->n_tenants++];
                *t = (Tenant) {
                        .index = i,
                        .cgroup = &s->tree->cgroups[i],
                        .policy = s->pol ? &s->pol[i] : NULL,
                        .parent = near[i],
                };
                near[i] = t;
                r = collect_pids(s, is, t, o->procfs_root);
                if (r < 0)
                        return r;
        }
        *ret = TAKE_PTR(s);
        return 0;
}

int tenant_set_shared_low(const TenantSet *s, int tier, uint64_t *ret, uint64_t *ret_own) {
        size_t n = s->n_tenants ? s->n_tenants : 1;
        _cleanup_free_ size_t *parent = calloc(n, sizeof(*parent));
        _cleanup_free_ uint64_t *usage = calloc(n, sizeof(*usage)), *low = calloc(n, sizeof(*low));

        if (!s->pol || tier < 0 || tier >= POLICY_MAX_TIERS)
                return -EINVAL;
        if (!parent || !usage || !low)
                return -ENOMEM;
        for (size_t k = 0; k < s->n_tenants; k++) {
                const Tenant *t = &s->tenants[k];

                parent[k] = t->parent ? (size_t) (t->parent - s->tenants) : SIZE_MAX;
                usage[k] = tier < CGROUP_MAX_TIERS ? t->cgroup->tier_anon[tier] + t->cgroup->tier_file[tier] : 0;
                low[k] = t->policy->tier_low[tier].bytes;
        }
        return plan_share_low(s->n_tenants, parent, usage, low, ret, ret_own);
}

const Tenant *tenant_set_find_index(const TenantSet *s, size_t i) {
        for (size_t k = 0; k < s->n_tenants; k++)
                if (s->tenants[k].index == i)
                        return &s->tenants[k];
        return NULL;
}

const Tenant *tenant_set_find_path(const TenantSet *s, const char *path) {
        size_t idx;

        if (cgroup_tree_find(s->tree, path, &idx) < 0)
                return NULL;
        return tenant_set_find_index(s, idx);
}

const Tenant *tenant_set_owner(const TenantSet *s, size_t i) {
        for (int j = (int) i; j >= 0; j = s->tree->cgroups[j].parent) {
                const Tenant *t = tenant_set_find_index(s, (size_t) j);

                if (t)
                        return t;
        }
        return NULL;
}

int tenant_set_k8s(const TenantSet *s, size_t i, K8sIdentity *ret) {
        const CgroupTree *tree = s->tree;
        KubePath k;

        if (s->pol && s->res && i < tree->n_cgroups)
                resolve_pod_identity(s->res, &s->pol[i], ret);
        else
                *ret = (K8sIdentity) { 0 };
        if (ret->pod[0])
                return 1;
        if (kube_path_parse(tree->cgroups[i].path, &k) < 0)
                return ret->namespace_[0] != '\0';
        snprintf(ret->pod, sizeof(ret->pod), "%s", k.pod_uid);
        if (!ret->container[0])
                snprintf(ret->container, sizeof(ret->container), "%.12s", k.container_id);
        return 1;
}
