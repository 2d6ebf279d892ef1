/* SPDX-License-Identifier: MIT */
/* The DAMOS mover as a deferred MoverOps.
 *
 * The planner decides per tenant how many bytes to promote and demote
 * this period; commit() makes them the tenant's migrate_hot /
 * migrate_cold quotas for the next period (a reset interval of one
 * period) on a kdamond of tierd's own, created at the first commit and
 * re-committed to afterwards. report() at the next period gives the
 * schemes' sz_applied since then: what moved. Ranges are not used (DAMON
 * finds the pages).
 *
 * A tenant's first period in the kdamond checks its pages' accessed bits
 * and promotes nothing (a page DAMON never checked reads young: see
 * damos.c): commit() says so in MoverQuota.ret_promote. */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "mover.h"
#include "util.h"

/* At most this many times the planned bytes as a scheme's quota (see
 * damos_quota_scale()). */
#define DAMOS_MAX_QUOTA_SCALE 64

struct Mover {
        MoverEnv env;
        DamosMover *damos;
        /* the tenants of the last commit, in slot order, and the schemes'
         * cumulative sz_applied at the last reading */
        uint64_t *ids;
        uint64_t *base_promote, *base_demote;
        size_t n;
        /* tenants that had their period of young checks in this kdamond */
        uint64_t *checked;
        size_t n_checked;
};

static void damos_mover_drop(Mover *m) {
        damos_close(m->damos);
        m->damos = NULL;
        free(m->ids);
        free(m->base_promote);
        free(m->base_demote);
        m->ids = m->base_promote = m->base_demote = NULL;
        m->n = 0;
        free(m->checked);
        m->checked = NULL;
        m->n_checked = 0;
}

static bool was_checked(const Mover *m, uint64_t id) {
        for (size_t i = 0; i < m->n_checked; i++)
                if (m->checked[i] == id)
                        return true;
        return false;
}

static int damos_mover_open(const MoverEnv *env, Mover **ret) {
        Mover *m = calloc(1, sizeof(*m));

        if (!m || mover_env_copy(env, &m->env) < 0) {
                free(m);
                return -ENOMEM;
        }
        *ret = m;
        return 0;
}

static void damos_mover_close(Mover *m) {
        if (!m)
                return;
        damos_mover_drop(m);
        mover_env_done(&m->env);
        free(m);
}

/* A new layout: the schemes' stats start again. */
static int take_baselines(Mover *m) {
        _cleanup_free_ DamosTenantStats *stats = calloc(m->n ? m->n : 1, sizeof(*stats));
        int r;

        if (!stats)
                return -ENOMEM;
        r = m->n ? damos_read_stats(m->damos, stats, m->n) : 0;
        if (r == -ENOMEM)
                return r;
        if (r < 0) {
                damos_mover_drop(m);
                return 0;
        }
        for (size_t k = 0; k < m->n; k++) {
                m->base_promote[k] = stats[k].promote.sz_applied;
                m->base_demote[k] = stats[k].demote.sz_applied;
        }
        return 0;
}

/* The tenants of the last commit become M's slots, each keeping its
 * stats baseline when it had a slot (an unchanged layout keeps the
 * schemes' cumulative stats; a new one takes new baselines after this);
 * the checked set is what it was, restricted to them, plus the ones
 * checking now. */
static int set_slots(Mover *m, const MoverQuota *q, const DamosTenant *dt, size_t n) {
        _cleanup_free_ uint64_t *ids = calloc(n ? n : 1, sizeof(*ids));
        _cleanup_free_ uint64_t *bp = calloc(n ? n : 1, sizeof(*bp));
        _cleanup_free_ uint64_t *bd = calloc(n ? n : 1, sizeof(*bd));
        _cleanup_free_ uint64_t *checked = calloc(n ? n : 1, sizeof(*checked));
        size_t nc = 0;

        if (!ids || !bp || !bd || !checked)
                return -ENOMEM;
        for (size_t k = 0; k < n; k++) {
                ids[k] = q[k].cgroup_id;
                for (size_t j = 0; j < m->n; j++)
                        if (m->ids[j] == ids[k]) {
                                bp[k] = m->base_promote[j];
                                bd[k] = m->base_demote[j];
                                break;
                        }
                if (dt[k].check_only || was_checked(m, q[k].cgroup_id))
                        checked[nc++] = q[k].cgroup_id;
        }
        free(m->ids);
        free(m->base_promote);
        free(m->base_demote);
        free(m->checked);
        m->ids = TAKE_PTR(ids);
        m->base_promote = TAKE_PTR(bp);
        m->base_demote = TAKE_PTR(bd);
        m->checked = TAKE_PTR(checked);
        m->n = n;
        m->n_checked = nc;
        return 0;
}

static int damos_mover_commit(Mover *m, const MoverTargets *to, MoverQuota *q, size_t n) {
        _cleanup_free_ DamosTenant *dt = calloc(n ? n : 1, sizeof(*dt));
        uint64_t period = m->env.period_ms ? m->env.period_ms : 1000;
        int r;

        if (!dt)
                return -ENOMEM;
        for (size_t k = 0; k < n; k++) {
                /* a tenant's first period in the kdamond: the young check
                 * of its pages only, its migrate_hot off; not for a tenant
                 * in mode observe: tierd does not touch its pages */
                bool check = q[k].managed && !was_checked(m, q[k].cgroup_id);
                uint64_t promote = check ? 0 : q[k].promote, qp, qd;

                q[k].ret_promote = promote;
                /* scaled by the tenant's share of the pages the scheme
                 * looks at: the source tier's (what is already on the
                 * target is tried and charged too, but sparse there) */
                qp = damos_quota_scale(promote, q[k].slow_bytes, to->ram_bytes, DAMOS_MAX_QUOTA_SCALE);
                qd = damos_quota_scale(q[k].demote, q[k].fast_bytes, to->ram_bytes, DAMOS_MAX_QUOTA_SCALE);
                dt[k] = (DamosTenant) {
                        .cgroup = q[k].cgroup,
                        .promote_rate = qp ? max_u64(qp / period * 1000, 1) : 0,
                        .demote_rate = qd ? max_u64(qd / period * 1000, 1) : 0,
                        .check_only = check,
                };
                log_debug("%s: damos quotas for the next period: promote %" PRIu64 ", demote %" PRIu64 " bytes%s",
                          q[k].cgroup, promote, q[k].demote,
                          check ? " (its first: the young check of its pages, no promotion)" : "");
        }
        if (!m->damos && n > 0) {
                DamosOptions o = {
                        .sysfs_root = m->env.sysfs_root,
                        .procfs_root = m->env.procfs_root,
                        .cgroup_mount = m->env.cgroup_mount,
                        .fast_node = to->fast_node,
                        .slow_node = to->slow_node,
                        .reset_interval_ms = period,
                        .cold_min_age_us = max_u64(2 * period, UINT64_C(2000)) * 1000,
                        .keep_slots = true,
                };

                r = damos_open(&o, dt, n, &m->damos);
                if (r < 0)
                        return log_error_errno(r, "cannot start the DAMOS mover: %m");
                log_info("DAMOS mover: kdamond %d, migrate_hot to node %d, migrate_cold to node %d",
                         (int) damos_kdamond_pid(m->damos), o.fast_node, o.slow_node);
                r = 1;
        } else if (m->damos) {
                r = damos_update(m->damos, dt, n);
                if (r == -ENOMEM)
                        return r;
                if (r < 0) {
                        log_warning_errno(r, "DAMOS mover: cannot update the schemes, restarting it next period: %m");
                        damos_mover_drop(m);
                        return -ESTALE;
                }
        } else
                return 0;
        r = set_slots(m, q, dt, n) < 0 ? -ENOMEM : r;
        if (r < 0)
                return r;
        return r > 0 ? take_baselines(m) : 0;
}

static int damos_mover_report(Mover *m, MoverMoved **ret, size_t *ret_n) {
        _cleanup_free_ DamosTenantStats *stats = NULL;
        _cleanup_free_ MoverMoved *out = NULL;
        int r;

        *ret = NULL;
        *ret_n = 0;
        if (!m->damos || m->n == 0)
                return 0;
        stats = calloc(m->n, sizeof(*stats));
        out = calloc(m->n, sizeof(*out));
        if (!stats || !out)
                return -ENOMEM;
        r = damos_read_stats(m->damos, stats, m->n);
        if (r == -ENOMEM)
                return r;
        if (r < 0) {
                /* logged; the kdamond is gone: started again at the next commit */
                damos_mover_drop(m);
                return -ESTALE;
        }
        for (size_t i = 0; i < m->n; i++) {
                out[i] = (MoverMoved) {
                        .cgroup_id = m->ids[i],
                        .promoted = stats[i].promote.sz_applied - m->base_promote[i],
                        .demoted = stats[i].demote.sz_applied - m->base_demote[i],
                };
                log_debug("cgroup %" PRIu64 ": damos moved promote %" PRIu64 ", demote %" PRIu64
                          " bytes (sz_tried %" PRIu64 " / %" PRIu64 ")", m->ids[i], out[i].promoted, out[i].demoted,
                          stats[i].promote.sz_tried, stats[i].demote.sz_tried);
                m->base_promote[i] = stats[i].promote.sz_applied;
                m->base_demote[i] = stats[i].demote.sz_applied;
        }
        *ret = TAKE_PTR(out);
        *ret_n = m->n;
        return 0;
}

const MoverOps mover_damos_ops = {
        .name = "damos",
        .caps = MOVER_CAP_BYTES | MOVER_CAP_PHYSICAL | MOVER_CAP_KDAMOND | MOVER_CAP_DEFERRED | MOVER_CAP_PROMOTE |
                MOVER_CAP_DEMOTE,
        .open = damos_mover_open,
        .commit = damos_mover_commit,
        .report = damos_mover_report,
        .close = damos_mover_close,
};
