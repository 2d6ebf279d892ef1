/* SPDX-License-Identifier: MIT */
/* The status snapshot: freeing, deep copies and its JSON form (what the
 * control socket answers to "status" and tierctl reads back). In JSON,
 * "none" values (UINT64_MAX limits, rates and token counts of unlimited
 * buckets) are null. */
#include "status.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "util.h"

void status_snapshot_done(StatusSnapshot *s) {
        if (!s)
                return;
        for (size_t i = 0; i < s->n_tenants; i++)
                free(s->tenants[i].cgroup);
        free(s->tenants);
        s->tenants = NULL;
        s->n_tenants = 0;
}

int status_snapshot_copy(const StatusSnapshot *s, StatusSnapshot *ret) {
        StatusSnapshot c = *s;

        c.tenants = NULL;
        c.n_tenants = 0;
        if (s->n_tenants > 0) {
                c.tenants = calloc(s->n_tenants, sizeof(*c.tenants));
                if (!c.tenants)
                        return -ENOMEM;
                for (size_t i = 0; i < s->n_tenants; i++) {
                        c.tenants[i] = s->tenants[i];
                        c.tenants[i].cgroup = strdup(s->tenants[i].cgroup ? s->tenants[i].cgroup : "");
                        if (!c.tenants[i].cgroup) {
                                status_snapshot_done(&c);
                                return -ENOMEM;
                        }
                        c.n_tenants = i + 1;
                }
        }
        *ret = c;
        return 0;
}

static json_object *u64_or_null(uint64_t v) {
        return v == UINT64_MAX ? NULL : json_object_new_uint64(v);
}

static json_object *u64_array(const uint64_t *v, int n) {
        json_object *a = json_object_new_array();

        for (int i = 0; i < n; i++)
                json_object_array_add(a, u64_or_null(v[i]));
        return a;
}

json_object *status_snapshot_to_json(const StatusSnapshot *s) {
        json_object *o = json_object_new_object(), *tiers = json_object_new_array(),
                    *tenants = json_object_new_array();
        int nt = s->n_tiers < STATUS_MAX_TIERS ? s->n_tiers : STATUS_MAX_TIERS;

        json_object_object_add(o, "version", json_object_new_string(s->version));
        json_object_object_add(o, "scanner", json_object_new_string(s->scanner));
        json_object_object_add(o, "mover", json_object_new_string(s->mover));
        json_object_object_add(o, "config_path", json_object_new_string(s->config_path));
        json_object_object_add(o, "period_ms", json_object_new_uint64(s->period_ms));
        json_object_object_add(o, "periods_total", json_object_new_uint64(s->periods_total));
        json_object_object_add(o, "time_ms", json_object_new_uint64(s->time_ms));
        json_object_object_add(o, "started_realtime_s", json_object_new_uint64(s->started_realtime_s));
        json_object_object_add(o, "scan_cpu_seconds_total", json_object_new_double(s->scan_cpu_seconds_total));
        json_object_object_add(o, "last_scan_ms", json_object_new_double(s->last_scan_ms));
        json_object_object_add(o, "reloads_total", json_object_new_uint64(s->reloads_total));
        json_object_object_add(o, "reload_failures_total", json_object_new_uint64(s->reload_failures_total));
        json_object_object_add(o, "last_error", json_object_new_string(s->last_error));
        for (int t = 0; t < nt; t++) {
                json_object *x = json_object_new_object();

                json_object_object_add(x, "index", json_object_new_int(s->tiers[t].index));
                json_object_object_add(x, "nodes", json_object_new_string(s->tiers[t].nodes));
                json_object_object_add(x, "capacity", json_object_new_uint64(s->tiers[t].capacity));
                json_object_object_add(x, "free", json_object_new_uint64(s->tiers[t].free));
                json_object_object_add(x, "headroom", json_object_new_uint64(s->tiers[t].headroom));
                json_object_array_add(tiers, x);
        }
        json_object_object_add(o, "tiers", tiers);
        for (size_t i = 0; i < s->n_tenants; i++) {
                const StatusTenant *t = &s->tenants[i];
                json_object *x = json_object_new_object();

                json_object_object_add(x, "cgroup", json_object_new_string(t->cgroup ? t->cgroup : ""));
                if (t->pod[0] || t->namespace_[0] || t->container[0]) {
                        json_object_object_add(x, "namespace", json_object_new_string(t->namespace_));
                        json_object_object_add(x, "pod", json_object_new_string(t->pod));
                        json_object_object_add(x, "container", json_object_new_string(t->container));
                }
                json_object_object_add(x, "class", json_object_new_string(t->class_name));
                json_object_object_add(x, "mode", json_object_new_string(t->mode));
                json_object_object_add(x, "tier_max", u64_array(t->tier_max, nt));
                json_object_object_add(x, "tier_low", u64_array(t->tier_low, nt));
                json_object_object_add(x, "tier_bytes", u64_array(t->tier_bytes, nt));
                json_object_object_add(x, "tier_anon_bytes", u64_array(t->tier_anon, nt));
                json_object_object_add(x, "tier_file_bytes", u64_array(t->tier_file, nt));
                if (s->has_coverage) {
                        json_object *cov = json_object_new_array();

                        for (int k = 0; k < nt; k++)
                                json_object_array_add(cov, json_object_new_boolean(t->covered[k]));
                        json_object_object_add(x, "classified_bytes", u64_array(t->classified, nt));
                        json_object_object_add(x, "covered", cov);
                }
                json_object_object_add(x, "tier_unmapped_bytes", u64_array(t->tier_unmapped, nt));
                if (s->has_unmapped) {
                        json_object_object_add(x, "unmapped_hot_bytes", u64_array(t->unmapped_hot, nt));
                        json_object_object_add(x, "unmapped_cold_bytes", u64_array(t->unmapped_cold, nt));
                }
                json_object_object_add(x, "held_unscanned_bytes", json_object_new_uint64(t->held_unscanned));
                json_object_object_add(x, "hot_bytes", json_object_new_uint64(t->hot_bytes));
                json_object_object_add(x, "cold_bytes", json_object_new_uint64(t->cold_bytes));
                json_object_object_add(x, "promote_tokens", u64_or_null(t->promote_tokens));
                json_object_object_add(x, "demote_tokens", u64_or_null(t->demote_tokens));
                json_object_object_add(x, "promote_rate", u64_or_null(t->promote_rate));
                json_object_object_add(x, "demote_rate", u64_or_null(t->demote_rate));
                json_object_object_add(x, "planned_promote", json_object_new_uint64(t->planned_promote));
                json_object_object_add(x, "planned_demote", json_object_new_uint64(t->planned_demote));
                json_object_object_add(x, "promoted_total", json_object_new_uint64(t->promoted_total));
                json_object_object_add(x, "demoted_total", json_object_new_uint64(t->demoted_total));
                json_object_object_add(x, "failed_total", json_object_new_uint64(t->failed_total));
                json_object_object_add(x, "errors_total", json_object_new_uint64(t->errors_total));
                json_object_array_add(tenants, x);
        }
        json_object_object_add(o, "tenants", tenants);
        json_object_object_add(o, "promoted_total", json_object_new_uint64(s->promoted_total));
        json_object_object_add(o, "demoted_total", json_object_new_uint64(s->demoted_total));
        json_object_object_add(o, "failed_total", json_object_new_uint64(s->failed_total));
        return o;
}

static json_object *held_json(const PlanHeld *h) {
        json_object *o = json_object_new_object();

        json_object_object_add(o, "no_candidates", json_object_new_uint64(h->no_candidates));
        json_object_object_add(o, "hysteresis", json_object_new_uint64(h->hysteresis));
        json_object_object_add(o, "limit", json_object_new_uint64(h->limit));
        json_object_object_add(o, "low", json_object_new_uint64(h->low));
        json_object_object_add(o, "quota", json_object_new_uint64(h->quota));
        json_object_object_add(o, "budget", json_object_new_uint64(h->budget));
        json_object_object_add(o, "headroom", json_object_new_uint64(h->headroom));
        json_object_object_add(o, "contention", json_object_new_uint64(h->contention));
        json_object_object_add(o, "unscanned", json_object_new_uint64(h->unscanned));
        return o;
}

static json_object *period_tenant_json(const StatusTenant *t, int nt, bool has_coverage, bool has_unmapped) {
        json_object *x = json_object_new_object(), *pl = json_object_new_object(), *mo = json_object_new_object();

        json_object_object_add(x, "cgroup", json_object_new_string(t->cgroup ? t->cgroup : ""));
        json_object_object_add(x, "class", json_object_new_string(t->class_name));
        json_object_object_add(x, "mode", json_object_new_string(t->mode));
        json_object_object_add(x, "tier_bytes", u64_array(t->tier_bytes, nt));
        json_object_object_add(x, "tier_max", u64_array(t->tier_max, nt));
        json_object_object_add(x, "tier_low", u64_array(t->tier_low, nt));
        json_object_object_add(x, "pids", json_object_new_uint64(t->pids));
        json_object_object_add(x, "tier_anon_bytes", u64_array(t->tier_anon, nt));
        json_object_object_add(x, "tier_file_bytes", u64_array(t->tier_file, nt));
        json_object_object_add(x, "tracked_bytes", json_object_new_uint64(t->tracked_bytes));
        json_object_object_add(x, "hot_bytes", json_object_new_uint64(t->hot_bytes));
        json_object_object_add(x, "cold_bytes", json_object_new_uint64(t->cold_bytes));
        if (has_coverage) {
                json_object *cov = json_object_new_array();

                for (int k = 0; k < nt; k++)
                        json_object_array_add(cov, json_object_new_boolean(t->covered[k]));
                json_object_object_add(x, "classified_bytes", u64_array(t->classified, nt));
                json_object_object_add(x, "covered", cov);
        }
        json_object_object_add(x, "tier_unmapped_bytes", u64_array(t->tier_unmapped, nt));
        if (has_unmapped) {
                json_object_object_add(x, "unmapped_hot_bytes", u64_array(t->unmapped_hot, nt));
                json_object_object_add(x, "unmapped_cold_bytes", u64_array(t->unmapped_cold, nt));
        }
        json_object_object_add(pl, "demote_bytes", json_object_new_uint64(t->planned_demote));
        json_object_object_add(pl, "promote_bytes", json_object_new_uint64(t->planned_promote));
        json_object_object_add(pl, "over_max_bytes", json_object_new_uint64(t->over_max_bytes));
        json_object_object_add(pl, "contention_bytes", json_object_new_uint64(t->contention_bytes));
        /* both halves of self-swaps (demoted + promoted) */
        json_object_object_add(pl, "swap_bytes", json_object_new_uint64(t->swap_bytes));
        json_object_object_add(pl, "unmapped_promote_bytes", json_object_new_uint64(t->unmapped_promote_bytes));
        json_object_object_add(pl, "observe_only", json_object_new_boolean(t->observe_only));
        json_object_object_add(pl, "held_demote", held_json(&t->held_demote));
        json_object_object_add(pl, "held_promote", held_json(&t->held_promote));
        json_object_object_add(x, "plan", pl);
        json_object_object_add(mo, "demoted_bytes", json_object_new_uint64(t->demoted));
        json_object_object_add(mo, "promoted_bytes", json_object_new_uint64(t->promoted));
        json_object_object_add(mo, "failed_bytes", json_object_new_uint64(t->failed));
        json_object_object_add(mo, "total_demoted_bytes", json_object_new_uint64(t->demoted_total));
        json_object_object_add(mo, "total_promoted_bytes", json_object_new_uint64(t->promoted_total));
        json_object_object_add(x, "moved", mo);
        return x;
}

json_object *status_period_to_json(const StatusSnapshot *s) {
        json_object *o = json_object_new_object(), *ta = json_object_new_array(), *tj = json_object_new_array();
        int nt = s->n_tiers < STATUS_MAX_TIERS ? s->n_tiers : STATUS_MAX_TIERS;

        for (size_t k = 0; k < s->n_tenants; k++)
                json_object_array_add(ta, period_tenant_json(&s->tenants[k], nt, s->has_coverage, s->has_unmapped));
        json_object_object_add(o, "period", json_object_new_int((int) (s->periods_total ? s->periods_total - 1 : 0)));
        json_object_object_add(o, "time_ms", json_object_new_uint64(s->time_ms));
        json_object_object_add(o, "backend", json_object_new_string(s->scanner));
        json_object_object_add(o, "scan_ms", json_object_new_double(s->last_scan_ms));
        json_object_object_add(o, "tenants", ta);
        for (int t = 0; t < nt; t++) {
                json_object *x = json_object_new_object();

                json_object_object_add(x, "nodes", json_object_new_uint64(s->tier_node_mask[t]));
                json_object_object_add(x, "capacity_bytes", json_object_new_uint64(s->tiers[t].capacity));
                json_object_object_add(x, "free_bytes", json_object_new_uint64(s->tiers[t].free));
                json_object_object_add(x, "headroom_bytes", json_object_new_uint64(s->tiers[t].headroom));
                json_object_array_add(tj, x);
        }
        json_object_object_add(o, "tiers", tj);
        json_object_object_add(o, "promoted_bytes", json_object_new_uint64(s->promoted));
        json_object_object_add(o, "demoted_bytes", json_object_new_uint64(s->demoted));
        json_object_object_add(o, "failed_bytes", json_object_new_uint64(s->failed));
        return o;
}

/* ---- parsing (tierctl, tests) ---- */

typedef struct Parse {
        char *error;
} Parse;

static int perr(Parse *p, const char *what, const char *why) {
        if (!p->error && asprintf(&p->error, "status%s%s: %s", *what ? "." : "", what, why) < 0)
                p->error = NULL;
        return -EINVAL;
}

static json_object *field(json_object *o, const char *key) {
        json_object *v = NULL;

        return json_object_object_get_ex(o, key, &v) ? v : NULL;
}

/* A number (null: UINT64_MAX when NULL_OK). */
static int get_u64(Parse *p, json_object *o, const char *key, bool null_ok, uint64_t *ret) {
        json_object *v;

        if (!json_object_object_get_ex(o, key, &v))
                return perr(p, key, "missing");
        if (!v) {
                if (!null_ok)
                        return perr(p, key, "is null");
                *ret = UINT64_MAX;
                return 0;
        }
        if (!json_object_is_type(v, json_type_int))
                return perr(p, key, "is not an integer");
        *ret = json_object_get_uint64(v);
        return 0;
}

static int get_double(Parse *p, json_object *o, const char *key, double *ret) {
        json_object *v = field(o, key);

        if (!v || !(json_object_is_type(v, json_type_double) || json_object_is_type(v, json_type_int)))
                return perr(p, key, "missing or not a number");
        *ret = json_object_get_double(v);
        return 0;
}

static int get_str(Parse *p, json_object *o, const char *key, char *buf, size_t size) {
        json_object *v = field(o, key);

        if (!v || !json_object_is_type(v, json_type_string))
                return perr(p, key, "missing or not a string");
        snprintf(buf, size, "%s", json_object_get_string(v));
        return 0;
}

static int get_u64_array(Parse *p, json_object *o, const char *key, int n, uint64_t *ret) {
        json_object *a = field(o, key);

        if (!a || !json_object_is_type(a, json_type_array) || (int) json_object_array_length(a) != n)
                return perr(p, key, "missing or not an array of one value per tier");
        for (int i = 0; i < n; i++) {
                json_object *v = json_object_array_get_idx(a, (size_t) i);

                if (!v)
                        ret[i] = UINT64_MAX;
                else if (json_object_is_type(v, json_type_int))
                        ret[i] = json_object_get_uint64(v);
                else
                        return perr(p, key, "holds a value that is not an integer or null");
        }
        return 0;
}

/* An optional array of one integer (or boolean, into BOOLS) per tier:
 * absent leaves RET as it is. */
static int get_opt_array(Parse *p, json_object *o, const char *key, int n, uint64_t *ret, bool *bools) {
        json_object *a = field(o, key);

        if (!a)
                return 0;
        if (!json_object_is_type(a, json_type_array) || (int) json_object_array_length(a) != n)
                return perr(p, key, "not an array of one value per tier");
        for (int i = 0; i < n; i++) {
                json_object *v = json_object_array_get_idx(a, (size_t) i);

                if (bools && v && json_object_is_type(v, json_type_boolean))
                        bools[i] = json_object_get_boolean(v);
                else if (!bools && v && json_object_is_type(v, json_type_int))
                        ret[i] = json_object_get_uint64(v);
                else if (!bools && !v)
                        ret[i] = UINT64_MAX;
                else
                        return perr(p, key, bools ? "holds a value that is not a boolean"
                                                  : "holds a value that is not an integer or null");
        }
        return 0;
}

static int parse_tenant(Parse *p, json_object *x, int nt, StatusTenant *t) {
        char cg[4096];
        int r;

        if (!json_object_is_type(x, json_type_object))
                return perr(p, "tenants", "holds a value that is not an object");
        r = get_str(p, x, "cgroup", cg, sizeof(cg));
        if (r >= 0)
                r = get_str(p, x, "class", t->class_name, sizeof(t->class_name));
        if (r >= 0)
                r = get_str(p, x, "mode", t->mode, sizeof(t->mode));
        if (r >= 0)
                r = get_u64_array(p, x, "tier_max", nt, t->tier_max);
        if (r >= 0)
                r = get_u64_array(p, x, "tier_low", nt, t->tier_low);
        if (r >= 0)
                r = get_u64_array(p, x, "tier_bytes", nt, t->tier_bytes);
        if (r >= 0)
                r = get_opt_array(p, x, "tier_anon_bytes", nt, t->tier_anon, NULL);
        if (r >= 0)
                r = get_opt_array(p, x, "tier_file_bytes", nt, t->tier_file, NULL);
        if (r >= 0)
                r = get_opt_array(p, x, "classified_bytes", nt, t->classified, NULL);
        if (r >= 0)
                r = get_opt_array(p, x, "covered", nt, NULL, t->covered);
        if (r >= 0)
                r = get_opt_array(p, x, "tier_unmapped_bytes", nt, t->tier_unmapped, NULL);
        if (r >= 0)
                r = get_opt_array(p, x, "unmapped_hot_bytes", nt, t->unmapped_hot, NULL);
        if (r >= 0)
                r = get_opt_array(p, x, "unmapped_cold_bytes", nt, t->unmapped_cold, NULL);
        /* Kubernetes names: absent for tenants that are no pod's */
        if (r >= 0 && field(x, "namespace"))
                r = get_str(p, x, "namespace", t->namespace_, sizeof(t->namespace_));
        if (r >= 0 && field(x, "pod"))
                r = get_str(p, x, "pod", t->pod, sizeof(t->pod));
        if (r >= 0 && field(x, "container"))
                r = get_str(p, x, "container", t->container, sizeof(t->container));
        if (r >= 0 && field(x, "held_unscanned_bytes"))
                r = get_u64(p, x, "held_unscanned_bytes", false, &t->held_unscanned);
        if (r < 0)
                return r;
        {
                static const struct { const char *key; bool null_ok; size_t off; } f[] = {
                        { "hot_bytes", false, offsetof(StatusTenant, hot_bytes) },
                        { "cold_bytes", false, offsetof(StatusTenant, cold_bytes) },
                        { "promote_tokens", true, offsetof(StatusTenant, promote_tokens) },
                        { "demote_tokens", true, offsetof(StatusTenant, demote_tokens) },
                        { "promote_rate", true, offsetof(StatusTenant, promote_rate) },
                        { "demote_rate", true, offsetof(StatusTenant, demote_rate) },
                        { "planned_promote", false, offsetof(StatusTenant, planned_promote) },
                        { "planned_demote", false, offsetof(StatusTenant, planned_demote) },
                        { "promoted_total", false, offsetof(StatusTenant, promoted_total) },
                        { "demoted_total", false, offsetof(StatusTenant, demoted_total) },
                        { "failed_total", false, offsetof(StatusTenant, failed_total) },
                        { "errors_total", false, offsetof(StatusTenant, errors_total) },
                };

                for (size_t i = 0; i < ELEMENTSOF(f); i++) {
                        r = get_u64(p, x, f[i].key, f[i].null_ok, (uint64_t *) ((char *) t + f[i].off));
                        if (r < 0)
                                return r;
                }
        }
        t->cgroup = strdup(cg);
        return t->cgroup ? 0 : -ENOMEM;
}

int status_snapshot_from_json(json_object *o, StatusSnapshot *ret, char **ret_error) {
        StatusSnapshot s = { 0 };
        Parse p = { 0 };
        json_object *tiers, *tenants;
        int r = 0;

        if (!json_object_is_type(o, json_type_object)) {
                r = perr(&p, "", "not an object");
                goto fail;
        }
        {
                static const struct { const char *key; size_t off, size; } strs[] = {
                        { "version", offsetof(StatusSnapshot, version), sizeof(((StatusSnapshot *) 0)->version) },
                        { "scanner", offsetof(StatusSnapshot, scanner), sizeof(((StatusSnapshot *) 0)->scanner) },
                        { "mover", offsetof(StatusSnapshot, mover), sizeof(((StatusSnapshot *) 0)->mover) },
                        { "config_path", offsetof(StatusSnapshot, config_path), sizeof(((StatusSnapshot *) 0)->config_path) },
                        { "last_error", offsetof(StatusSnapshot, last_error), sizeof(((StatusSnapshot *) 0)->last_error) },
                };
                static const struct { const char *key; size_t off; } nums[] = {
                        { "period_ms", offsetof(StatusSnapshot, period_ms) },
                        { "periods_total", offsetof(StatusSnapshot, periods_total) },
                        { "time_ms", offsetof(StatusSnapshot, time_ms) },
                        { "started_realtime_s", offsetof(StatusSnapshot, started_realtime_s) },
                        { "reloads_total", offsetof(StatusSnapshot, reloads_total) },
                        { "reload_failures_total", offsetof(StatusSnapshot, reload_failures_total) },
                        { "promoted_total", offsetof(StatusSnapshot, promoted_total) },
                        { "demoted_total", offsetof(StatusSnapshot, demoted_total) },
                        { "failed_total", offsetof(StatusSnapshot, failed_total) },
                };

                for (size_t i = 0; i < ELEMENTSOF(strs) && r >= 0; i++)
                        r = get_str(&p, o, strs[i].key, (char *) &s + strs[i].off, strs[i].size);
                for (size_t i = 0; i < ELEMENTSOF(nums) && r >= 0; i++)
                        r = get_u64(&p, o, nums[i].key, false, (uint64_t *) ((char *) &s + nums[i].off));
        }
        if (r >= 0)
                r = get_double(&p, o, "scan_cpu_seconds_total", &s.scan_cpu_seconds_total);
        if (r >= 0)
                r = get_double(&p, o, "last_scan_ms", &s.last_scan_ms);
        if (r < 0)
                goto fail;
        tiers = field(o, "tiers");
        if (!tiers || !json_object_is_type(tiers, json_type_array) ||
            json_object_array_length(tiers) > STATUS_MAX_TIERS) {
                r = perr(&p, "tiers", "missing, not an array or too long");
                goto fail;
        }
        s.n_tiers = (int) json_object_array_length(tiers);
        for (int t = 0; t < s.n_tiers; t++) {
                json_object *x = json_object_array_get_idx(tiers, (size_t) t);
                uint64_t idx;

                if (!x || !json_object_is_type(x, json_type_object)) {
                        r = perr(&p, "tiers", "holds a value that is not an object");
                        goto fail;
                }
                r = get_u64(&p, x, "index", false, &idx);
                if (r >= 0)
                        r = get_str(&p, x, "nodes", s.tiers[t].nodes, sizeof(s.tiers[t].nodes));
                if (r >= 0)
                        r = get_u64(&p, x, "capacity", false, &s.tiers[t].capacity);
                if (r >= 0)
                        r = get_u64(&p, x, "free", false, &s.tiers[t].free);
                if (r >= 0)
                        r = get_u64(&p, x, "headroom", false, &s.tiers[t].headroom);
                if (r < 0)
                        goto fail;
                s.tiers[t].index = (int) idx;
        }
        tenants = field(o, "tenants");
        if (!tenants || !json_object_is_type(tenants, json_type_array)) {
                r = perr(&p, "tenants", "missing or not an array");
                goto fail;
        }
        if (json_object_array_length(tenants) > 0) {
                s.tenants = calloc(json_object_array_length(tenants), sizeof(*s.tenants));
                if (!s.tenants) {
                        r = -ENOMEM;
                        goto fail;
                }
        }
        for (size_t i = 0; i < json_object_array_length(tenants); i++) {
                json_object *x = json_object_array_get_idx(tenants, i);

                r = parse_tenant(&p, x, s.n_tiers, &s.tenants[i]);
                if (r < 0)
                        goto fail;
                s.n_tenants = i + 1;
                s.has_coverage = s.has_coverage || field(x, "covered");
                s.has_unmapped = s.has_unmapped || field(x, "unmapped_hot_bytes");
        }
        *ret = s;
        return 0;
fail:
        status_snapshot_done(&s);
        if (ret_error)
                *ret_error = TAKE_PTR(p.error);
        free(p.error);
        return r;
}
