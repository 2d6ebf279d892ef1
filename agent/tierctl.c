/* SPDX-License-Identifier: MIT */
/* tierctl: the operator's client. Annotates cgroups with tier policy,
 * shows effective policies and usage, explains where each value came from.
 * Subcommands are dispatched from a table; --json on every one, errors
 * included, so a script always gets JSON on stdout. */
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <json-c/json.h>
#include <poll.h>
#include <signal.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <termios.h>
#include <time.h>

#include "annotations.h"
#include "cgroup.h"
#include "cmdline.h"
#include "config.h"
#include "control.h"
#include "resolve.h"
#include "tenants.h"
#include "status.h"
#include "topology.h"
#include "util.h"

typedef struct Ctl {
        bool json;
        bool user;              /* annotate: user.tierd.* instead of trusted.tierd.* */
        const char *config_path;
        const char *cgroup_root;
        char *mount;            /* resolved cgroup2 mount */
        Config *config;
        const char *socket;     /* status/top/reload: the daemon's control socket */
        double interval;        /* top: seconds between frames */
        unsigned count;         /* top: frames before exiting, 0: until q */
        const char *ns_filter;  /* show: --namespace */
        const char *pod_filter; /* show: --pod */
} Ctl;

/* S for the terminal (str_printable()): cgroup names, annotation values
 * and the notes and errors quoting them are anyone's choice, and a name
 * like "\e]0;owned\a\e[2J" must not drive the terminal. Kept in a ring of
 * eight, enough for one printf; "?" when out of memory. */
static const char *esc(const char *s) {
        static char *ring[8];
        static unsigned next;
        char **slot = &ring[next++ % ELEMENTSOF(ring)];

        free(*slot);
        *slot = str_printable(s ? s : "");
        return *slot ? *slot : "?";
}

static void print_json(json_object *o) {
        puts(json_object_to_json_string_ext(o, JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_NOSLASHESCAPE));
}

/* A failure: said on stderr, and as JSON on stdout with --json. Returns the
 * exit status, 1. */
#define fail(c, ...) cmdline_error((c)->json, "tierctl", 1, __VA_ARGS__)

static int ctl_setup(Ctl *c, bool need_config) {
        _cleanup_free_ char *err = NULL;
        int r;

        if (c->cgroup_root)
                c->mount = strdup(c->cgroup_root);
        else {
                r = cgroup_find_mount("/proc", &c->mount);
                if (r == -ENOENT)
                        return fail(c, "no cgroup v2 file system is mounted");
                if (r < 0)
                        return fail(c, "cannot read /proc/self/mountinfo: %s", strerror(-r));
        }
        if (!c->mount)
                return fail(c, "out of memory");
        if (!need_config)
                return 0;
        r = config_load(c->config_path, NULL, &c->config, &err);
        if (r < 0)
                return fail(c, "%s", err ? err : strerror(-r));
        return 0;
}

/* "a/b", "/a/b" or "MOUNT/a/b" -> "a/b" ("" for the root), checked to be
 * a directory. */
static int cgroup_arg(const Ctl *c, const char *arg, char **ret_rel, char **ret_abs) {
        size_t ml = strlen(c->mount);
        const char *rel = arg;
        char *abs_path, *r;
        struct stat st;

        if (strncmp(arg, c->mount, ml) == 0 && (arg[ml] == '/' || arg[ml] == '\0'))
                rel = arg + ml;
        while (*rel == '/')
                rel++;
        r = strdup(rel);
        if (!r)
                return -ENOMEM;
        for (size_t n = strlen(r); n > 0 && r[n - 1] == '/'; n--)
                r[n - 1] = '\0';
        if (strstr(r, "..")) {
                free(r);
                return -EINVAL;
        }
        if (asprintf(&abs_path, "%s%s%s", c->mount, r[0] ? "/" : "", r) < 0) {
                free(r);
                return -ENOMEM;
        }
        if (stat(abs_path, &st) < 0 || !S_ISDIR(st.st_mode)) {
                int e = errno ? -errno : -ENOTDIR;

                free(r);
                free(abs_path);
                return S_ISDIR(st.st_mode) ? e : -ENOENT;
        }
        *ret_rel = r;
        *ret_abs = abs_path;
        return 0;
}

/* ---- annotate ---------------------------------------------------------- */

typedef struct Pair {
        char key[ANNOTATION_KEY_MAX];
        const char *value; /* NULL: remove */
        bool had_old;
        char old[ANNOTATION_VALUE_MAX];
} Pair;

static int verb_annotate(Ctl *c, int argc, char **argv) {
        _cleanup_free_ char *rel = NULL, *abs_path = NULL;
        _cleanup_free_ Pair *pairs = NULL;
        Annotations current;
        int n = argc - 1, r, written = 0;

        if (argc < 2)
                return fail(c, "annotate: usage: tierctl annotate CGROUP KEY=VALUE... (KEY= removes the annotation)");
        if (ctl_setup(c, true))
                return 1;
        r = cgroup_arg(c, argv[0], &rel, &abs_path);
        if (r < 0)
                return fail(c, "annotate: %s: no such cgroup under %s", argv[0], c->mount);
        pairs = calloc((size_t) n, sizeof(Pair));
        if (!pairs)
                return fail(c, "out of memory");

        /* Validate everything before writing anything. */
        for (int i = 0; i < n; i++) {
                const char *arg = argv[i + 1], *eq = strchr(arg, '='), *why = NULL;
                PolicySpec scratch = { 0 };
                PolicyKey key;
                int tier;

                if (!eq || eq == arg)
                        return fail(c, "annotate: '%s' is not KEY=VALUE", arg);
                if ((size_t) (eq - arg) >= sizeof(pairs[i].key))
                        return fail(c, "annotate: key '%.*s' is too long", (int) (eq - arg), arg);
                memcpy(pairs[i].key, arg, (size_t) (eq - arg));
                for (int j = 0; j < i; j++)
                        if (strcmp(pairs[j].key, pairs[i].key) == 0)
                                return fail(c, "annotate: %s is given twice", pairs[i].key);
                r = policy_key_parse(pairs[i].key, &key, &tier);
                if (r == -ERANGE)
                        return fail(c, "annotate: %s: tier index out of range (tiers 0..%d)", pairs[i].key,
                                    POLICY_MAX_TIERS - 1);
                if (r < 0)
                        return fail(c, "annotate: %s: unknown key (keys: class, mode, tierN.max, tierN.low, "
                                       "promote.rate, promote.burst, demote.rate, demote.burst)", pairs[i].key);
                if (eq[1] == '\0') {
                        pairs[i].value = NULL;
                        continue;
                }
                if (strlen(eq + 1) >= ANNOTATION_VALUE_MAX)
                        return fail(c, "annotate: %s: value is too long", pairs[i].key);
                if (policy_spec_set(&scratch, pairs[i].key, eq + 1, &why) < 0)
                        return fail(c, "annotate: %s: \"%s\" %s", pairs[i].key, eq + 1, why ? why : "is not valid");
                if (key == KEY_CLASS && config_class_index(c->config, eq + 1) < 0)
                        return fail(c, "annotate: class: \"%s\" is not a class defined in the configuration", eq + 1);
                pairs[i].value = eq + 1;
        }

        /* Remember what was there, so a failure half-way can be undone. */
        r = annotations_read(abs_path, &current);
        if (r < 0)
                return fail(c, "annotate: cannot read the annotations of %s: %s", abs_path, strerror(-r));
        for (int i = 0; i < n; i++) {
                const Annotation *a = annotations_get(&current, pairs[i].key, !c->user);

                if (a) {
                        pairs[i].had_old = true;
                        snprintf(pairs[i].old, sizeof(pairs[i].old), "%s", a->value);
                }
        }

        for (int i = 0; i < n; i++) {
                r = annotation_write(abs_path, pairs[i].key, pairs[i].value, !c->user);
                if (r < 0)
                        break;
                written++;
        }
        if (written < n) {
                int failed = written;

                for (int i = written - 1; i >= 0; i--)
                        (void) annotation_write(abs_path, pairs[i].key, pairs[i].had_old ? pairs[i].old : NULL,
                                                !c->user);
                return fail(c, "annotate: cannot write %s.tierd.%s on %s: %s%s; nothing was changed",
                            c->user ? "user" : "trusted", pairs[failed].key, abs_path, strerror(-r),
                            r == -EPERM && !c->user ? " (trusted.* needs CAP_SYS_ADMIN; --user writes user.*)" : "");
        }

        if (c->json) {
                json_object *o = json_object_new_object(), *set = json_object_new_object();

                json_object_object_add(o, "cgroup", json_object_new_string(rel[0] ? rel : "/"));
                json_object_object_add(o, "namespace", json_object_new_string(c->user ? "user" : "trusted"));
                for (int i = 0; i < n; i++)
                        json_object_object_add(set, pairs[i].key,
                                               pairs[i].value ? json_object_new_string(pairs[i].value) : NULL);
                json_object_object_add(o, "set", set);
                print_json(o);
                json_object_put(o);
        } else
                for (int i = 0; i < n; i++)
                        printf("%s: %s.tierd.%s %s%s\n", rel[0] ? esc(rel) : "/", c->user ? "user" : "trusted",
                               esc(pairs[i].key), pairs[i].value ? "= " : "removed",
                               pairs[i].value ? esc(pairs[i].value) : "");
        return 0;
}

/* ---- the tenant set, as the daemon builds it ----------------------------- */

/* The daemon's tenant set (core/tenants.h) over the whole tree, so that
 * what tierctl says is what the daemon does. */
static int ctl_tenant_set(const Ctl *c, unsigned walk_flags, Topology **ret_topo, TenantSet **ret) {
        TenantSetOptions o = { .cgroup_mount = c->mount, .walk_flags = walk_flags, .config = c->config };
        int r;

        r = topology_load("/sys", ret_topo);
        if (r < 0)
                return r;
        o.topology = *ret_topo;
        return tenant_set_build(&o, ret, NULL);
}

/* ---- presentation ------------------------------------------------------ */

typedef struct Row {
        char key[32];
        char value[64];
        uint64_t bytes;         /* limits: effective bytes, UINT64_MAX none */
        bool has_bytes;
        const Origin *origin;
} Row;

static int policy_rows(const Config *cfg, const EffectivePolicy *p, Row rows[32]) {
        int n = 0;

        rows[n] = (Row) { .key = "class", .origin = &p->class_origin };
        snprintf(rows[n++].value, sizeof(rows[0].value), "%s", cfg->classes[p->class_index].name);
        rows[n] = (Row) { .key = "mode", .origin = &p->mode_origin };
        snprintf(rows[n++].value, sizeof(rows[0].value), "%s", policy_mode_to_string(p->mode));
        const struct { const char *k; const EffectiveQuantity *q; } qs[] = {
                { "promote.rate", &p->promote_rate }, { "promote.burst", &p->promote_burst },
                { "demote.rate", &p->demote_rate }, { "demote.burst", &p->demote_burst },
        };
        for (size_t i = 0; i < ELEMENTSOF(qs); i++) {
                rows[n] = (Row) { .origin = &qs[i].q->origin };
                snprintf(rows[n].key, sizeof(rows[n].key), "%s", qs[i].k);
                quantity_to_string(&qs[i].q->value, rows[n].value, sizeof(rows[n].value));
                n++;
        }
        for (int t = 0; t < POLICY_MAX_TIERS; t++)
                for (int low = 0; low < 2; low++) {
                        const EffectiveLimit *l = low ? &p->tier_low[t] : &p->tier_max[t];

                        rows[n] = (Row) { .origin = &l->origin, .bytes = l->bytes, .has_bytes = true };
                        snprintf(rows[n].key, sizeof(rows[n].key), "tier%d.%s", t, low ? "low" : "max");
                        limit_to_string(&l->spec, rows[n].value, sizeof(rows[n].value));
                        n++;
                }
        return n;
}

static json_object *policy_json(const Config *cfg, const Resolution *res, const EffectivePolicy *p) {
        json_object *o = json_object_new_object();
        Row rows[32];
        int n = policy_rows(cfg, p, rows);

        for (int i = 0; i < n; i++) {
                json_object *x = json_object_new_object();
                char buf[400];

                json_object_object_add(x, "value", json_object_new_string(rows[i].value));
                if (rows[i].has_bytes)
                        json_object_object_add(x, "bytes", rows[i].bytes == UINT64_MAX ? NULL
                                                                 : json_object_new_uint64(rows[i].bytes));
                json_object_object_add(x, "source", json_object_new_string(origin_kind_to_string(rows[i].origin->kind)));
                json_object_object_add(x, "where", json_object_new_string(origin_where(res, rows[i].origin)));
                json_object_object_add(x, "origin",
                                       json_object_new_string(origin_to_string(res, rows[i].origin, buf, sizeof(buf))));
                if (rows[i].origin->note)
                        json_object_object_add(x, "note", json_object_new_string(origin_note(res, rows[i].origin)));
                json_object_object_add(o, rows[i].key, x);
        }
        return o;
}

static json_object *errors_json(const Resolution *res, const EffectivePolicy *p) {
        json_object *a = json_object_new_array();

        for (int i = 0; i < p->n_errors; i++)
                json_object_array_add(a, json_object_new_string(resolve_error(res, p, i)));
        return a;
}

/* Tenant T's place in the hierarchy: the tenants above it and how many
 * are nested under it; in RET_LOW per tier its share of protection
 * (tenant_set_shared_low()), UINT64_MAX where it cannot be said. */
static size_t nested_under(const TenantSet *ts, const Tenant *t, int n_tiers, uint64_t ret_low[POLICY_MAX_TIERS]) {
        size_t n = 0;

        for (size_t k = 0; k < ts->n_tenants; k++)
                for (const Tenant *u = ts->tenants[k].parent; u; u = u->parent)
                        if (u == t) {
                                n++;
                                break;
                        }
        for (int i = 0; i < POLICY_MAX_TIERS; i++) {
                _cleanup_free_ uint64_t *low = calloc(ts->n_tenants ? ts->n_tenants : 1, sizeof(*low));

                ret_low[i] = UINT64_MAX;
                if (i < n_tiers && low && tenant_set_shared_low(ts, i, low, NULL) >= 0)
                        ret_low[i] = low[t - ts->tenants];
        }
        return n;
}

static const char *tenant_name(const Tenant *t) {
        return t->cgroup->path[0] ? t->cgroup->path : "/";
}

static json_object *tenant_json(const TenantSet *ts, size_t idx) {
        const Tenant *t = tenant_set_find_index(ts, idx), *owner = tenant_set_owner(ts, idx);
        json_object *o = json_object_new_object();

        json_object_object_add(o, "is_tenant", json_object_new_boolean(t != NULL));
        json_object_object_add(o, "tenant", owner ? json_object_new_string(tenant_name(owner)) : NULL);
        json_object_object_add(o, "pids", t ? json_object_new_uint64(t->n_pids) : NULL);
        if (t) {
                json_object *up = json_object_new_array(), *low = json_object_new_array();
                uint64_t shared[POLICY_MAX_TIERS];
                size_t below = nested_under(ts, t, ts->tree->n_tiers, shared);

                for (const Tenant *u = t->parent; u; u = u->parent)
                        json_object_array_add(up, json_object_new_string(tenant_name(u)));
                for (int i = 0; i < ts->tree->n_tiers && i < POLICY_MAX_TIERS; i++)
                        json_object_array_add(low, shared[i] == UINT64_MAX ? NULL : json_object_new_uint64(shared[i]));
                json_object_object_add(o, "ancestor_tenants", up);
                json_object_object_add(o, "nested_tenants", json_object_new_uint64(below));
                json_object_object_add(o, "shared_low_bytes", low);
        }
        return o;
}

static void tenant_print(const TenantSet *ts, size_t idx) {
        const Tenant *t = tenant_set_find_index(ts, idx), *owner = tenant_set_owner(ts, idx);
        uint64_t shared[POLICY_MAX_TIERS];
        size_t below;

        if (!t) {
                if (owner)
                        printf("  tenant: no; its processes are managed with tenant %s\n", esc(tenant_name(owner)));
                else
                        printf("  tenant: no; not managed (no policy of its own, mode off, or no memory controller)\n");
                return;
        }
        printf("  tenant: yes, %zu process%s (nested tenants' processes are theirs)\n", t->n_pids,
               t->n_pids == 1 ? "" : "es");
        below = nested_under(ts, t, ts->tree->n_tiers, shared);
        if (below > 0)
                printf("  nested: %zu tenant%s under it; its tierN.max and quotas cover them too, its tierN.low "
                       "is shared with them\n", below,
                       below == 1 ? "" : "s");
        if (t->parent) {
                printf("  nested under tenant %s", esc(tenant_name(t->parent)));
                for (const Tenant *u = t->parent->parent; u; u = u->parent)
                        printf(", %s", esc(tenant_name(u)));
                printf(": their tierN.max and quotas count this tenant's usage and moves too\n");
        }
        for (int i = 0; i < ts->tree->n_tiers && i < POLICY_MAX_TIERS; i++) {
                uint64_t own = t->policy->tier_low[i].bytes;
                char a[32], b[32];

                if (shared[i] == UINT64_MAX || shared[i] == own || !t->parent)
                        continue;
                printf("  tier%d.low shared: %s of its %s (its ancestors' protection split by usage, as cgroup v2 "
                       "splits memory.low)\n", i, format_bytes(shared[i], a, sizeof(a)),
                       own == UINT64_MAX ? "max" : format_bytes(own, b, sizeof(b)));
        }
}

static int verb_explain(Ctl *c, int argc, char **argv) {
        _cleanup_(topology_freep) Topology *topo = NULL;
        _cleanup_(tenant_set_freep) TenantSet *ts = NULL;
        _cleanup_free_ char *rel = NULL, *abs_path = NULL;
        const EffectivePolicy *p;
        const CgroupInfo *ci;
        size_t idx;
        int r;

        if (argc != 1)
                return fail(c, "explain: usage: tierctl explain CGROUP");
        if (ctl_setup(c, true))
                return 1;
        r = cgroup_arg(c, argv[0], &rel, &abs_path);
        if (r < 0)
                return fail(c, "explain: %s: no such cgroup under %s", argv[0], c->mount);
        r = ctl_tenant_set(c, CGROUP_WALK_SKIP_MEMORY_STAT, &topo, &ts);
        if (r < 0)
                return fail(c, "explain: cannot resolve %s: %s", rel, strerror(-r));
        if (cgroup_tree_find(ts->tree, rel, &idx) < 0 && ts->tree->first_skipped)
                return fail(c, "explain: %s: past the bounds of the cgroup walk (depth %d, %d cgroups): "
                            "tierd leaves it out", rel, CGROUP_WALK_MAX_DEPTH, CGROUP_WALK_MAX_CGROUPS);
        if (cgroup_tree_find(ts->tree, rel, &idx) < 0)
                return fail(c, "explain: %s: no such cgroup under %s", argv[0], c->mount);
        p = &ts->pol[idx];
        ci = &ts->tree->cgroups[idx];

        if (c->json) {
                json_object *o = json_object_new_object(), *errs = json_object_new_array();

                json_object_object_add(o, "cgroup", json_object_new_string(rel[0] ? rel : "/"));
                json_object_object_add(o, "owner_uid", json_object_new_int((int) ci->uid));
                json_object_object_add(o, "delegated", json_object_new_boolean(p->delegated));
                json_object_object_add(o, "usage_bytes", json_object_new_uint64(ci->memory_current));
                json_object_object_add(o, "policy", policy_json(c->config, ts->res, p));
                json_object_object_add(o, "tenant", tenant_json(ts, idx));
                /* errors of the cgroup and of its ancestors: both shape it */
                for (int i = (int) idx; i >= 0; i = ts->tree->cgroups[i].parent)
                        for (int k = 0; k < ts->pol[i].n_errors; k++)
                                json_object_array_add(errs, json_object_new_string(resolve_error(ts->res, &ts->pol[i], k)));
                json_object_object_add(o, "errors", errs);
                print_json(o);
                json_object_put(o);
        } else {
                Row rows[32];
                int n = policy_rows(c->config, p, rows);
                char ub[32], bb[32], ob[400];

                printf("%s  (owner uid %u%s, memory.current %s)\n", rel[0] ? esc(rel) : "/", (unsigned) ci->uid,
                       p->delegated ? ", delegated" : "", format_bytes(ci->memory_current, ub, sizeof(ub)));
                for (int i = 0; i < n; i++) {
                        char v[96];

                        if (rows[i].has_bytes && rows[i].bytes != UINT64_MAX &&
                            rows[i].origin->kind != ORIGIN_BUILTIN && strchr(rows[i].value, '%'))
                                snprintf(v, sizeof(v), "%s = %s", rows[i].value, format_bytes(rows[i].bytes, bb, sizeof(bb)));
                        else
                                snprintf(v, sizeof(v), "%s", rows[i].value);
                        printf("  %-14s %-22s %s\n", rows[i].key, esc(v),
                               esc(origin_to_string(ts->res, rows[i].origin, ob, sizeof(ob))));
                        if (rows[i].origin->note)
                                printf("  %-14s %-22s note: %s\n", "", "", esc(origin_note(ts->res, rows[i].origin)));
                }
                tenant_print(ts, idx);
                for (int i = (int) idx; i >= 0; i = ts->tree->cgroups[i].parent)
                        for (int k = 0; k < ts->pol[i].n_errors; k++)
                                printf("  error: %s\n", esc(resolve_error(ts->res, &ts->pol[i], k)));
        }
        return 0;
}

/* ---- show: every cgroup (or one subtree) with policy and usage --------- */

static json_object *tiers_usage_json(const CgroupInfo *ci, int n_tiers) {
        json_object *a = json_object_new_array();

        for (int t = 0; ci->has_numa_stat && t < n_tiers; t++) {
                json_object *x = json_object_new_object();

                json_object_object_add(x, "tier", json_object_new_int(t));
                json_object_object_add(x, "bytes", json_object_new_uint64(ci->tier_anon[t] + ci->tier_file[t]));
                json_object_object_add(x, "anon_bytes", json_object_new_uint64(ci->tier_anon[t]));
                json_object_object_add(x, "file_bytes", json_object_new_uint64(ci->tier_file[t]));
                /* page cache, tmpfs and shmem no process maps */
                json_object_object_add(x, "unmapped_bytes",
                                       json_object_new_uint64(ci->tier_file[t] -
                                                              min_u64(ci->tier_file_mapped[t], ci->tier_file[t])));
                json_object_array_add(a, x);
        }
        return a;
}

/* show --json: {"tiers": [...], "cgroups": [...]} of the cgroups FIRST..END
 * of TS (those KEEP marks, when given). */
static void show_json(Ctl *c, const Topology *topo, const TenantSet *ts, size_t first, size_t end, const bool *keep) {
        const CgroupTree *tree = ts->tree;
        const EffectivePolicy *out = ts->pol;

        /* {"tiers": [...], "cgroups": [...]}, one cgroup a line, each
         * written and freed before the next is built: a document of
         * every cgroup in json-c objects took 500 MB for 20k cgroups. */
        json_object *tiers = json_object_new_array();

        for (int k = 0; k < topo->n_tiers; k++) {
                json_object *x = json_object_new_object(), *nodes = json_object_new_array();

                json_object_object_add(x, "index", json_object_new_int(k));
                for (int i = 0; i < 64; i++)
                        if (topo->tiers[k].nodes & (UINT64_C(1) << i))
                                json_object_array_add(nodes, json_object_new_int(i));
                json_object_object_add(x, "nodes", nodes);
                json_object_object_add(x, "total_bytes", json_object_new_uint64(topo->tiers[k].total_bytes));
                json_object_object_add(x, "free_bytes", json_object_new_uint64(topo->tiers[k].free_bytes));
                json_object_array_add(tiers, x);
        }
        printf("{\n\"tiers\": %s,\n\"cgroups\": [",
               json_object_to_json_string_ext(tiers, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE));
        json_object_put(tiers);
        for (size_t i = first, written = 0; i < end; i++) {
                const CgroupInfo *ci = &tree->cgroups[i];
                json_object *x;
                K8sIdentity id;

                if (keep && !keep[i])
                        continue;
                x = json_object_new_object();
                json_object_object_add(x, "cgroup", json_object_new_string(ci->path[0] ? ci->path : "/"));
                if (tenant_set_k8s(ts, i, &id) > 0) {
                        json_object_object_add(x, "namespace", json_object_new_string(id.namespace_));
                        json_object_object_add(x, "pod", json_object_new_string(id.pod));
                        json_object_object_add(x, "container", json_object_new_string(id.container));
                }
                json_object_object_add(x, "class",
                                       json_object_new_string(c->config->classes[out[i].class_index].name));
                json_object_object_add(x, "mode", json_object_new_string(policy_mode_to_string(out[i].mode)));
                json_object_object_add(x, "delegated", json_object_new_boolean(out[i].delegated));
                json_object_object_add(x, "memory_current",
                                       ci->has_memory ? json_object_new_uint64(ci->memory_current) : NULL);
                json_object_object_add(x, "tiers", tiers_usage_json(ci, tree->n_tiers));
                json_object_object_add(x, "policy", policy_json(c->config, ts->res, &out[i]));
                json_object_object_add(x, "errors", errors_json(ts->res, &out[i]));
                printf("%s\n%s", written++ ? "," : "",
                       json_object_to_json_string_ext(x, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE));
                json_object_put(x);
        }
        printf("\n]\n}\n");
}

/* show: a line per cgroup FIRST..END of TS (those KEEP marks, when
 * given). */
static void show_table(Ctl *c, const TenantSet *ts, size_t first, size_t end, const bool *keep) {
        const CgroupTree *tree = ts->tree;
        const EffectivePolicy *out = ts->pol;
        char b0[32], b1[32], b2[32];

        printf("%-40s %-9s %-8s %10s %10s %10s %10s  %s\n", "CGROUP", "CLASS", "MODE", "TIER0.MAX", "CURRENT",
               "TIER0", "TIER1+", "POD");
        for (size_t i = first; i < end; i++) {
                const CgroupInfo *ci = &tree->cgroups[i];
                uint64_t lower = 0;
                char lim[32], pod[400] = "";
                K8sIdentity id;

                if (keep && !keep[i])
                        continue;
                if (tenant_set_k8s(ts, i, &id) > 0)
                        snprintf(pod, sizeof(pod), "%s/%s%s%s", id.namespace_[0] ? id.namespace_ : "?", id.pod,
                                 id.container[0] ? "/" : "", id.container);

                for (int t = 1; t < tree->n_tiers; t++)
                        lower += ci->tier_anon[t] + ci->tier_file[t];
                if (out[i].tier_max[0].bytes == UINT64_MAX)
                        snprintf(lim, sizeof(lim), "max");
                else
                        format_bytes(out[i].tier_max[0].bytes, lim, sizeof(lim));
                printf("%-40s %-9s %-8s %10s %10s %10s %10s  %s%s\n", ci->path[0] ? esc(ci->path) : "/",
                       c->config->classes[out[i].class_index].name, policy_mode_to_string(out[i].mode), lim,
                       ci->has_memory ? format_bytes(ci->memory_current, b0, sizeof(b0)) : "-",
                       ci->has_numa_stat ? format_bytes(ci->tier_anon[0] + ci->tier_file[0], b1, sizeof(b1)) : "-",
                       ci->has_numa_stat ? format_bytes(lower, b2, sizeof(b2)) : "-", pod[0] ? esc(pod) : "-",
                       out[i].n_errors ? "  (errors: see explain)" : "");
        }
}

static int verb_show(Ctl *c, int argc, char **argv) {
        _cleanup_(topology_freep) Topology *topo = NULL;
        _cleanup_(tenant_set_freep) TenantSet *ts = NULL;
        _cleanup_free_ char *rel = NULL, *abs_path = NULL;
        _cleanup_free_ bool *keep = NULL;
        const CgroupTree *tree;
        size_t first = 1, end, idx;
        int r;

        if (argc > 1)
                return fail(c, "show: usage: tierctl show [CGROUP]");
        if (ctl_setup(c, true))
                return 1;
        r = ctl_tenant_set(c, CGROUP_WALK_SKIP_PIDS, &topo, &ts);
        if (r == -ENOMEM)
                return fail(c, "out of memory");
        if (r < 0 && !topo)
                return fail(c, "show: cannot read the NUMA topology from /sys: %s", strerror(-r));
        if (r < 0)
                return fail(c, "show: cannot walk %s: %s", c->mount, strerror(-r));
        tree = ts->tree;
        end = tree->n_cgroups;
        if (argc == 1) {
                r = cgroup_arg(c, argv[0], &rel, &abs_path);
                if (r >= 0)
                        r = cgroup_tree_find(tree, rel, &idx);
                if (r < 0)
                        return fail(c, "show: %s: no such cgroup under %s", argv[0], c->mount);
                first = idx;
                end = tree->cgroups[idx].subtree_end;
        }

        if (c->ns_filter || c->pod_filter) {
                keep = calloc(end ? end : 1, sizeof(*keep));
                if (!keep)
                        return fail(c, "out of memory");
        }
        for (size_t i = first; keep && i < end; i++) {
                K8sIdentity id;

                keep[i] = tenant_set_k8s(ts, i, &id) > 0 &&
                          (!c->ns_filter || strcmp(id.namespace_, c->ns_filter) == 0) &&
                          (!c->pod_filter || strcmp(id.pod, c->pod_filter) == 0);
        }

        if (c->json)
                show_json(c, topo, ts, first, end, keep);
        else
                show_table(c, ts, first, end, keep);
        return 0;
}

/* ---- status, top, reload: the daemon's control socket ------------------ */

/* --socket, else the configuration's control.socket when it loads, else
 * the default. */
static const char *socket_path(Ctl *c) {
        _cleanup_free_ char *err = NULL;

        if (c->socket)
                return c->socket;
        if (!c->config && config_load(c->config_path, NULL, &c->config, &err) < 0)
                return CONTROL_SOCKET_DEFAULT;
        return c->config->control.socket[0] ? c->config->control.socket : CONTROL_SOCKET_DEFAULT;
}

/* Sends COMMAND; *RET the response object with "ok" true. Otherwise a
 * message in *RET_ERROR (the daemon's or the connection's). */
static int ask(Ctl *c, const char *command, json_object **ret, char **ret_error) {
        _cleanup_free_ char *req = NULL, *resp = NULL;
        json_object *o, *ok, *err;
        int r;

        if (asprintf(&req, "{\"command\":\"%s\"}", command) < 0)
                return -ENOMEM;
        r = control_call(socket_path(c), req, 30000, &resp, ret_error);
        if (r < 0)
                return r;
        o = json_tokener_parse(resp);
        if (!o || !json_object_is_type(o, json_type_object) || !json_object_object_get_ex(o, "ok", &ok)) {
                json_object_put(o);
                if (asprintf(ret_error, "the daemon's answer is not a response: %.200s", resp) < 0)
                        return -ENOMEM;
                return -EBADMSG;
        }
        if (!json_object_get_boolean(ok)) {
                const char *m = json_object_object_get_ex(o, "error", &err) ? json_object_get_string(err) : "failed";

                *ret_error = strdup(m ? m : "failed");
                json_object_put(o);
                return *ret_error ? -EPERM : -ENOMEM;
        }
        *ret = o;
        return 0;
}

static const char *fmt_limit(uint64_t v, char *buf, size_t size) {
        return v == UINT64_MAX ? "max" : format_bytes(v, buf, size);
}

static const char *fmt_rate(uint64_t v, char *buf, size_t size) {
        char b[32];

        if (v == UINT64_MAX)
                return "unlimited";
        snprintf(buf, size, "%s/s", format_bytes(v, b, sizeof(b)));
        return buf;
}

static void fmt_duration(uint64_t s, char *buf, size_t size) {
        if (s >= 86400)
                snprintf(buf, size, "%" PRIu64 "d%" PRIu64 "h", s / 86400, s % 86400 / 3600);
        else if (s >= 3600)
                snprintf(buf, size, "%" PRIu64 "h%" PRIu64 "m", s / 3600, s % 3600 / 60);
        else if (s >= 60)
                snprintf(buf, size, "%" PRIu64 "m%" PRIu64 "s", s / 60, s % 60);
        else
                snprintf(buf, size, "%" PRIu64 "s", s);
}

/* The human form of a status snapshot. */
static void render_status(const StatusSnapshot *s, FILE *f) {
        char a[32], b[32], d[32], e[32], up[32];
        uint64_t now = (uint64_t) time(NULL);

        fmt_duration(now > s->started_realtime_s ? now - s->started_realtime_s : 0, up, sizeof(up));
        fprintf(f, "tierd %s: scanner %s, mover %s, period %" PRIu64 " ms, %" PRIu64 " periods, up %s\n",
                esc(s->version), esc(s->scanner), esc(s->mover), s->period_ms, s->periods_total, up);
        fprintf(f, "since start: promoted %s, demoted %s, failed %s; scan CPU %.2f s (last scan %.0f ms); reloads %"
                PRIu64 " (%" PRIu64 " failed)\n", format_bytes(s->promoted_total, a, sizeof(a)),
                format_bytes(s->demoted_total, b, sizeof(b)), format_bytes(s->failed_total, d, sizeof(d)),
                s->scan_cpu_seconds_total, s->last_scan_ms, s->reloads_total, s->reload_failures_total);
        fprintf(f, "configuration: %s\n", esc(s->config_path));
        if (s->last_error[0])
                fprintf(f, "last error: %s\n", esc(s->last_error));
        fprintf(f, "\n%-5s %-8s %12s %12s %12s %12s\n", "TIER", "NODES", "CAPACITY", "USED", "FREE", "HEADROOM");
        for (int t = 0; t < s->n_tiers; t++) {
                const StatusTier *x = &s->tiers[t];

                fprintf(f, "%-5d %-8s %12s %12s %12s %12s\n", x->index, esc(x->nodes), format_bytes(x->capacity, a, sizeof(a)),
                        format_bytes(x->capacity > x->free ? x->capacity - x->free : 0, b, sizeof(b)),
                        format_bytes(x->free, d, sizeof(d)), format_bytes(x->headroom, e, sizeof(e)));
        }
        fprintf(f, "\n%zu tenant%s\n", s->n_tenants, s->n_tenants == 1 ? "" : "s");
        if (s->n_tenants == 0)
                return;
        fprintf(f, "%-28s %-10s %-8s", "TENANT", "CLASS", "MODE");
        for (int t = 0; t < s->n_tiers; t++) {
                char h[24];

                snprintf(h, sizeof(h), "TIER%d/MAX", t);
                fprintf(f, " %-21s", h);
        }
        fprintf(f, " %10s %10s %21s %21s %10s %10s %10s %6s  %s\n", "HOT", "COLD", "PROMOTE QUOTA", "DEMOTE QUOTA",
                "PROMOTED", "DEMOTED", "FAILED", "ERRORS", "POD");
        for (size_t i = 0; i < s->n_tenants; i++) {
                const StatusTenant *t = &s->tenants[i];
                char q[64];

                fprintf(f, "%-28s %-10s %-8s", esc(t->cgroup), esc(t->class_name), esc(t->mode));
                for (int k = 0; k < s->n_tiers; k++) {
                        char cell[80];

                        snprintf(cell, sizeof(cell), "%s/%s", format_bytes(t->tier_bytes[k], a, sizeof(a)),
                                 fmt_limit(t->tier_max[k], b, sizeof(b)));
                        if (t->tier_low[k] > 0 && t->tier_low[k] != UINT64_MAX) {
                                size_t l = strlen(cell);

                                snprintf(cell + l, sizeof(cell) - l, ">%s", format_bytes(t->tier_low[k], d, sizeof(d)));
                        }
                        fprintf(f, " %-21s", cell);
                }
                fprintf(f, " %10s %10s", format_bytes(t->hot_bytes, a, sizeof(a)), format_bytes(t->cold_bytes, b, sizeof(b)));
                snprintf(q, sizeof(q), "%s@%s", t->promote_tokens == UINT64_MAX ? "-" : format_bytes(t->promote_tokens, a, sizeof(a)),
                         fmt_rate(t->promote_rate, b, sizeof(b)));
                fprintf(f, " %21s", q);
                snprintf(q, sizeof(q), "%s@%s", t->demote_tokens == UINT64_MAX ? "-" : format_bytes(t->demote_tokens, a, sizeof(a)),
                         fmt_rate(t->demote_rate, b, sizeof(b)));
                fprintf(f, " %21s", q);
                fprintf(f, " %10s %10s %10s %6" PRIu64, format_bytes(t->promoted_total, a, sizeof(a)),
                        format_bytes(t->demoted_total, b, sizeof(b)), format_bytes(t->failed_total, d, sizeof(d)),
                        t->errors_total);
                if (t->pod[0] || t->namespace_[0]) {
                        char pod[400];

                        snprintf(pod, sizeof(pod), "%s/%s%s%s", t->namespace_[0] ? t->namespace_ : "?", t->pod,
                                 t->container[0] ? "/" : "", t->container);
                        fprintf(f, "  %s\n", esc(pod));
                } else
                        fprintf(f, "  -\n");
        }
        fprintf(f, "(TIERn: resident/max[>low]; QUOTA: tokens left@rate; PROMOTED..ERRORS: since the start;\n"
                   " POD: namespace/pod[/container], ? for a namespace not recorded)\n");
        for (size_t i = 0; i < s->n_tenants; i++) {
                const StatusTenant *t = &s->tenants[i];

                if (t->held_unscanned)
                        fprintf(f, "%s: %s of demotions held back: unscanned (tier not fully scanned yet%s%s)\n",
                                t->cgroup, format_bytes(t->held_unscanned, a, sizeof(a)),
                                s->has_coverage ? "; tier 0 classified " : "",
                                s->has_coverage ? format_bytes(t->classified[0], b, sizeof(b)) : "");
                for (int k = 0; s->has_unmapped && k < s->n_tiers; k++) {
                        char h[32];

                        if (t->tier_unmapped[k] == 0 && t->unmapped_hot[k] + t->unmapped_cold[k] == 0)
                                continue;
                        fprintf(f, "%s: tier %d unmapped %s: hot %s, cold %s (the last sweep)\n", t->cgroup, k,
                                format_bytes(t->tier_unmapped[k], a, sizeof(a)),
                                format_bytes(t->unmapped_hot[k], h, sizeof(h)),
                                format_bytes(t->unmapped_cold[k], b, sizeof(b)));
                }
        }
}

static int fetch_status(Ctl *c, json_object **ret_resp, json_object **ret_status, StatusSnapshot *ret,
                        char **ret_error) {
        json_object *resp = NULL, *st;
        int r;

        r = ask(c, "status", &resp, ret_error);
        if (r < 0)
                return r;
        if (!json_object_object_get_ex(resp, "status", &st)) {
                json_object_put(resp);
                *ret_error = strdup("the daemon's answer has no \"status\"");
                return -EBADMSG;
        }
        r = status_snapshot_from_json(st, ret, ret_error);
        if (r < 0) {
                json_object_put(resp);
                return r;
        }
        *ret_resp = resp;
        *ret_status = st;
        return 0;
}

static int verb_status(Ctl *c, int argc, char **argv) {
        _cleanup_free_ char *error = NULL;
        StatusSnapshot s;
        json_object *resp, *st;
        int r;

        (void) argc, (void) argv; /* none: the verb table says so */
        r = fetch_status(c, &resp, &st, &s, &error);
        if (r < 0)
                return fail(c, "%s", error ? error : strerror(-r));
        if (c->json)
                print_json(st);
        else
                render_status(&s, stdout);
        json_object_put(resp);
        status_snapshot_done(&s);
        return 0;
}

static int verb_reload(Ctl *c, int argc, char **argv) {
        _cleanup_free_ char *error = NULL;
        json_object *resp;
        int r;

        (void) argc, (void) argv; /* none: the verb table says so */
        r = ask(c, "reload", &resp, &error);
        if (r < 0)
                return fail(c, "reload: %s", error ? error : strerror(-r));
        if (c->json)
                print_json(resp);
        else
                printf("reloaded\n");
        json_object_put(resp);
        return 0;
}

static volatile sig_atomic_t top_quit;

static void top_signal(int sig) {
        (void) sig;
        top_quit = 1;
}

/* Writes TEXT's lines to stdout, each cut to COLS columns, at most ROWS. */
static void put_frame(const char *text, int cols, int rows) {
        int row = 0;

        fputs("\033[H\033[2J", stdout);
        for (const char *p = text; *p && row < rows; row++) {
                const char *nl = strchr(p, '\n');
                size_t len = nl ? (size_t) (nl - p) : strlen(p);

                if (len > (size_t) cols)
                        len = (size_t) cols;
                fwrite(p, 1, len, stdout);
                /* no newline after the last row: the screen must not scroll */
                if (row + 1 < rows && nl && nl[1])
                        fputs("\r\n", stdout);
                if (!nl)
                        break;
                p = nl + 1;
        }
        fflush(stdout);
}

static void term_size(int *ret_cols, int *ret_rows) {
        struct winsize ws = { 0 };
        const char *e;

        *ret_cols = 80;
        *ret_rows = 24;
        if (ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_col > 0 && ws.ws_row > 0) {
                *ret_cols = ws.ws_col;
                *ret_rows = ws.ws_row;
                return;
        }
        if ((e = getenv("COLUMNS")) && atoi(e) > 0)
                *ret_cols = atoi(e);
        if ((e = getenv("LINES")) && atoi(e) > 0)
                *ret_rows = atoi(e);
}

static int verb_top(Ctl *c, int argc, char **argv) {
        struct termios saved, raw;
        bool tty = isatty(STDIN_FILENO) && tcgetattr(STDIN_FILENO, &saved) == 0;
        struct sigaction sa = { .sa_handler = top_signal };
        unsigned frames = 0;
        bool keys = tty;

        (void) argc, (void) argv; /* none: the verb table says so */
        if (c->json)
                return fail(c, "top: no --json (use tierctl status --json)");
        sigaction(SIGINT, &sa, NULL);
        sigaction(SIGTERM, &sa, NULL);
        if (tty) {
                raw = saved;
                raw.c_lflag &= ~(tcflag_t) (ICANON | ECHO);
                raw.c_cc[VMIN] = 0;
                raw.c_cc[VTIME] = 0;
                tcsetattr(STDIN_FILENO, TCSANOW, &raw);
        }
        fputs("\033[?25l", stdout); /* hide the cursor */
        while (!top_quit) {
                _cleanup_free_ char *error = NULL, *text = NULL;
                size_t len = 0;
                FILE *f = open_memstream(&text, &len);
                StatusSnapshot s;
                json_object *resp, *st;
                struct pollfd pfd = { .fd = STDIN_FILENO, .events = POLLIN };
                int cols, rows, r;

                if (!f)
                        break;
                r = fetch_status(c, &resp, &st, &s, &error);
                if (r < 0)
                        fprintf(f, "tierctl top: %s\n", error ? error : strerror(-r));
                else {
                        render_status(&s, f);
                        status_snapshot_done(&s);
                        json_object_put(resp);
                }
                fprintf(f, "\n(refresh every %.1f s; q quits)\n", c->interval);
                fclose(f);
                term_size(&cols, &rows);
                put_frame(text ? text : "", cols, rows);
                if (c->count && ++frames >= c->count)
                        break;
                /* wait for the interval, or a key */
                for (uint64_t end = (uint64_t) (c->interval * 1000);;) {
                        struct timespec t0, t1;
                        uint64_t el;

                        clock_gettime(CLOCK_MONOTONIC, &t0);
                        r = poll(&pfd, keys ? 1 : 0, (int) end);
                        if (r < 0 && errno != EINTR)
                                break;
                        if (top_quit)
                                break;
                        if (r > 0) {
                                char ch;
                                ssize_t n = read(STDIN_FILENO, &ch, 1);

                                if (n == 1 && (ch == 'q' || ch == 'Q' || ch == 3)) {
                                        top_quit = 1;
                                        break;
                                }
                                if (n <= 0)
                                        keys = false; /* end of input: only the timer from now on */
                        }
                        clock_gettime(CLOCK_MONOTONIC, &t1);
                        el = (uint64_t) ((t1.tv_sec - t0.tv_sec) * 1000 + (t1.tv_nsec - t0.tv_nsec) / 1000000);
                        if (r == 0 || el >= end)
                                break;
                        end -= el;
                }
        }
        fputs("\033[?25h\r\n", stdout); /* the cursor back */
        fflush(stdout);
        if (tty)
                tcsetattr(STDIN_FILENO, TCSANOW, &saved);
        return 0;
}

/* ---- the command line ------------------------------------------------- */

/* Option codes. The globals' come first ('h' is a global too); a verb's
 * getopt_long() table is the globals' followed by its own. */
enum {
        OPT_JSON = 0x100,
        OPT_CONFIG,
        OPT_VERSION,
        _OPT_GLOBAL_END,
        OPT_USER = _OPT_GLOBAL_END,
        OPT_CGROUP_ROOT,
        OPT_SOCKET,
        OPT_INTERVAL,
        OPT_COUNT,
        OPT_NAMESPACE,
        OPT_POD,
};

typedef struct Verb {
        const char *name;
        const char *usage;              /* its synopsis line */
        const char *summary;            /* its line in tierctl --help */
        const char *description;        /* the paragraph of its --help */
        const struct option *options;   /* its own (the globals are added) */
        const char *options_help;       /* NULL: none */
        const char *deprecated_help;    /* the old forms it still takes; NULL: none */
        int min_args, max_args;         /* its arguments; max -1: no limit */
        int (*run)(Ctl *c, int argc, char **argv);
} Verb;

/* The command line being read: the verb chosen, the flags that end it. */
typedef struct Line {
        Ctl *ctl;
        const Verb *verb;
        char prog[32];                  /* "tierctl" or "tierctl VERB": the messages' prefix */
        bool help, version;
} Line;

/* A mistake in the command line: said on stderr, and as JSON on stdout
 * when --json is anywhere on the line. Returns the exit status, 2. */
#define usage_error(l, ...) cmdline_error((l)->ctl->json, (l)->prog, CMDLINE_EXIT_USAGE, __VA_ARGS__)

static const struct option global_options[] = {
        { "json", no_argument, NULL, OPT_JSON },
        { "config", required_argument, NULL, OPT_CONFIG },
        { "version", no_argument, NULL, OPT_VERSION },
        { "help", no_argument, NULL, 'h' },
        {},
};

#define GLOBAL_OPTIONS_HELP \
        "global options (before or after the command):\n" \
        "  --json              machine-readable output, errors included\n" \
        "  --config PATH       the configuration file (default /etc/tierd/tierd.json)\n" \
        "  --version           print the version and exit\n" \
        "  -h, --help          print the help of the command (tierctl --help: of all) and exit\n"

#define CGROUP_ROOT_HELP \
        "  --cgroup-root DIR   the cgroup v2 mount (default: found in /proc/self/mountinfo)\n"
#define SOCKET_HELP \
        "  --socket PATH       the daemon's control socket (default: the configuration's\n" \
        "                      control.socket, " CONTROL_SOCKET_DEFAULT ")\n"

static const struct option annotate_options[] = {
        { "user", no_argument, NULL, OPT_USER },
        { "cgroup-root", required_argument, NULL, OPT_CGROUP_ROOT },
        {},
};

static const struct option cgroup_root_options[] = {
        { "cgroup-root", required_argument, NULL, OPT_CGROUP_ROOT },
        {},
};

static const struct option show_options[] = {
        { "cgroup-root", required_argument, NULL, OPT_CGROUP_ROOT },
        { "namespace", required_argument, NULL, OPT_NAMESPACE },
        { "pod", required_argument, NULL, OPT_POD },
        {},
};

static const struct option socket_options[] = {
        { "socket", required_argument, NULL, OPT_SOCKET },
        {},
};

static const struct option top_options[] = {
        { "interval", required_argument, NULL, OPT_INTERVAL },
        { "count", required_argument, NULL, OPT_COUNT },
        { "socket", required_argument, NULL, OPT_SOCKET },
        {},
};

static const Verb verbs[] = {
        {
                .name = "annotate",
                .usage = "tierctl annotate CGROUP KEY=VALUE... [OPTIONS]",
                .summary = "validate, then set trusted.tierd.KEY (--user: user.tierd.KEY); KEY= removes",
                .description =
                        "Validates every KEY=VALUE (against the configuration too: a class must be one of\n"
                        "its classes), then writes each as the extended attribute trusted.tierd.KEY of\n"
                        "CGROUP, user.tierd.KEY with --user; KEY= removes it. Keys: class, mode, tierN.max,\n"
                        "tierN.low, promote.rate, promote.burst, demote.rate, demote.burst. When a write\n"
                        "fails the ones before it are undone. CGROUP is relative to the cgroup mount, or\n"
                        "absolute under it.\n",
                .options = annotate_options,
                .options_help =
                        "  --user              write user.tierd.* (delegated subtrees) instead of trusted.tierd.*\n"
                        CGROUP_ROOT_HELP,
                .min_args = 2, .max_args = -1,
                .run = verb_annotate,
        },
        {
                .name = "show",
                .usage = "tierctl show [CGROUP] [OPTIONS]",
                .summary = "effective policy and per-tier usage of every cgroup (or one subtree)",
                .description =
                        "Resolves the policies of every cgroup as the agent does and prints each cgroup (or\n"
                        "those of CGROUP's subtree) with its class, mode, tier-0 limit and usage per tier,\n"
                        "and for a Kubernetes pod's cgroups its namespace/pod[/container] (the names the\n"
                        "OCI hook recorded, else the pod's UID and container's ID from the cgroup names).\n",
                .options = show_options,
                .options_help = CGROUP_ROOT_HELP
                        "  --namespace NS      only the cgroups of pods of namespace NS\n"
                        "  --pod NAME          only the cgroups of pod NAME (its UID where no name was recorded)\n",
                .min_args = 0, .max_args = 1,
                .run = verb_show,
        },
        {
                .name = "explain",
                .usage = "tierctl explain CGROUP [OPTIONS]",
                .summary = "each effective value of CGROUP and where it came from",
                .description =
                        "Prints each effective policy value of CGROUP and where it came from: an annotation\n"
                        "(trusted or user), the parent, a rule or class of the configuration, its default,\n"
                        "or the built-in one; and the errors found on the way from the root.\n",
                .options = cgroup_root_options,
                .options_help = CGROUP_ROOT_HELP,
                .min_args = 1, .max_args = 1,
                .run = verb_explain,
        },
        {
                .name = "status",
                .usage = "tierctl status [OPTIONS]",
                .summary = "the running daemon's status: tiers, tenants, quotas, moves",
                .description =
                        "Asks the running daemon over its control socket for its status and prints it:\n"
                        "tiers, tenants, quotas, moves.\n",
                .options = socket_options,
                .options_help = SOCKET_HELP,
                .run = verb_status,
        },
        {
                .name = "top",
                .usage = "tierctl top [OPTIONS]",
                .summary = "the status as a live view (q or Ctrl-C quits)",
                .description =
                        "The daemon's status as a live view, refreshed every --interval; q or Ctrl-C quits.\n"
                        "No --json: use tierctl status --json.\n",
                .options = top_options,
                .options_help =
                        "  --interval D        time between refreshes (default 2s)\n"
                        "  --count N           exit after N frames (default: when q is pressed)\n"
                        SOCKET_HELP
                        "\nA duration D is a number and a unit: 500ms, 2s, 1.5s, 1m.\n",
                .deprecated_help = "  --interval S        a bare number of seconds: write --interval Ss\n",
                .run = verb_top,
        },
        {
                .name = "reload",
                .usage = "tierctl reload [OPTIONS]",
                .summary = "make the daemon re-read its configuration (as SIGHUP)",
                .description =
                        "Makes the running daemon re-read its configuration, as SIGHUP does. A configuration\n"
                        "that does not load is refused (exit 1) and the running one kept.\n",
                .options = socket_options,
                .options_help = SOCKET_HELP,
                .run = verb_reload,
        },
};

static void program_help(FILE *f) {
        fputs("usage: ", f);
        for (size_t i = 0; i < ELEMENTSOF(verbs); i++)
                fprintf(f, "%s%s\n", i ? "       " : "", verbs[i].usage);
        fputs("       tierctl COMMAND --help\n\ncommands:\n", f);
        for (size_t i = 0; i < ELEMENTSOF(verbs); i++)
                fprintf(f, "  %-9s %s\n", verbs[i].name, verbs[i].summary);
        fputs("\n" GLOBAL_OPTIONS_HELP
              "\ncommand options (tierctl COMMAND --help says more):\n"
              "  annotate            --user, --cgroup-root DIR\n"
              "  show                --cgroup-root DIR, --namespace NS, --pod NAME\n"
              "  explain             --cgroup-root DIR\n"
              "  status, reload      --socket PATH\n"
              "  top                 --interval D, --count N, --socket PATH\n"
              "\ndeprecated forms, accepted until the next release:\n"
              "  tierctl top --interval S     a bare number of seconds: write --interval Ss\n",
              f);
}

static void verb_help(const Verb *v, FILE *f) {
        fprintf(f, "usage: %s\n\n%s", v->usage, v->description);
        if (v->options_help)
                fprintf(f, "\noptions:\n%s", v->options_help);
        fputs("\n" GLOBAL_OPTIONS_HELP, f);
        if (v->deprecated_help)
                fprintf(f, "\ndeprecated, accepted until the next release:\n%s", v->deprecated_help);
}

static const Verb *verb_find(const char *name) {
        for (size_t i = 0; i < ELEMENTSOF(verbs); i++)
                if (strcmp(verbs[i].name, name) == 0)
                        return &verbs[i];
        return NULL;
}

/* cmdline_prescan()'s tables: every verb's options, then the globals. */
static const struct option *option_table(size_t i) {
        return i < ELEMENTSOF(verbs) ? verbs[i].options : i == ELEMENTSOF(verbs) ? global_options : NULL;
}

/* The pre-scan applies --json at once, wherever it stands on the line, so
 * that a mistake found before it is JSON too. */
static void prescan_note(int opt, void *userdata) {
        Ctl *c = userdata;

        if (opt == OPT_JSON)
                c->json = true;
}

/* One option; each code means the same to every verb that has it. */
static int parse_option(int opt, const char *arg, void *userdata) {
        Line *l = userdata;
        Ctl *c = l->ctl;
        uint64_t v;
        int r;

        switch (opt) {
        case OPT_JSON: c->json = true; break;
        case OPT_CONFIG: c->config_path = arg; break;
        case OPT_VERSION: l->version = true; break;
        case 'h': l->help = true; break;
        case OPT_USER: c->user = true; break;
        case OPT_CGROUP_ROOT: c->cgroup_root = arg; break;
        case OPT_NAMESPACE: c->ns_filter = arg; break;
        case OPT_POD: c->pod_filter = arg; break;
        case OPT_SOCKET: c->socket = arg; break;
        case OPT_INTERVAL:
                /* a bare number: seconds, the old form */
                r = cmdline_parse_duration(c->json, l->prog, "--interval", arg, 1000, 100, 3600 * 1000, &v);
                if (r != 0)
                        return r;
                c->interval = (double) v / 1000;
                break;
        case OPT_COUNT:
                r = cmdline_parse_number(c->json, l->prog, "--count", arg, 1, 1000000, &v);
                if (r != 0)
                        return r;
                c->count = (unsigned) v;
                break;
        }
        return 0;
}

/* Parses the whole line with the chosen verb's options and the globals;
 * the verb's arguments are left at argv[optind...] in order. */
static int parse_options(Line *l, int argc, char **argv) {
        const CmdlineParser p = {
                .shorts = "h",
                .globals = global_options,
                .own = l->verb ? l->verb->options : NULL,
                .option = parse_option,
                .userdata = l,
                .json = &l->ctl->json,
                .prog = l->prog,
        };

        return cmdline_parse(&p, argc, argv);
}

/* The verb's arguments, after the verb word. */
static int check_arguments(const Line *l, int argc, char **argv) {
        const Verb *v = l->verb;

        if (argc < v->min_args)
                return usage_error(l, "missing arguments (usage: %s)", v->usage);
        if (v->max_args >= 0 && argc > v->max_args)
                return usage_error(l, "unexpected argument '%s' (see %s --help)", argv[v->max_args], l->prog);
        return 0;
}

int main(int argc, char **argv) {
        Ctl c = { .config_path = "/etc/tierd/tierd.json", .interval = 2 };
        Line l = { .ctl = &c, .prog = "tierctl" };
        const char *word;
        int r;

        word = cmdline_prescan(argc, argv, "h", option_table, prescan_note, &c);
        if (word) {
                l.verb = verb_find(word);
                if (!l.verb)
                        return usage_error(&l, "unknown command '%s' (see tierctl --help)", word);
                snprintf(l.prog, sizeof(l.prog), "tierctl %s", l.verb->name);
        }
        r = parse_options(&l, argc, argv);
        if (r != 0)
                return r;
        if (l.help || l.version || !l.verb) {
                if (l.version && !l.help)
                        puts("tierctl " TIERD_VERSION);
                else if (l.verb)
                        verb_help(l.verb, stdout);
                else
                        program_help(l.help ? stdout : stderr);
                return l.help || l.version ? 0 : 2;
        }
        /* what getopt_long() left: the verb word, then its arguments */
        r = cmdline_skip_word(c.json, l.prog, argc, argv, word);
        if (r == 0)
                r = check_arguments(&l, argc - optind, argv + optind);
        if (r == 0)
                r = l.verb->run(&c, argc - optind, argv + optind);
        free(c.mount);
        config_free(c.config);
        return r;
}
