/* SPDX-License-Identifier: MIT */
/* tierctl: the operator's client. Annotates cgroups with tier policy,
 * shows effective policies and usage, explains where each value came from.
 * Subcommands are dispatched from a table; --json on every one, errors
 * included, so a script always gets JSON on stdout. */
#include <fcntl.h>
#include <getopt.h>
#include <stdarg.h>
#include <inttypes.h>
#include <json-c/json.h>
#include <string.h>
#include <sys/stat.h>

#include "annotations.h"
#include "cgroup.h"
#include "config.h"
#include "resolve.h"
#include "topology.h"
#include "util.h"

typedef struct Ctl {
        bool json;
        bool user;              /* annotate: user.tierd.* instead of trusted.tierd.* */
        const char *config_path;
        const char *cgroup_root;
        char *mount;            /* resolved cgroup2 mount */
        Config *config;
} Ctl;

static void print_json(json_object *o) {
        puts(json_object_to_json_string_ext(o, JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_NOSLASHESCAPE));
}

static int fail(const Ctl *c, const char *fmt, ...) _printf_(2, 3);
static int fail(const Ctl *c, const char *fmt, ...) {
        _cleanup_free_ char *msg = NULL;
        va_list ap;

        va_start(ap, fmt);
        if (vasprintf(&msg, fmt, ap) < 0)
                msg = NULL;
        va_end(ap);
        if (c->json) {
                json_object *o = json_object_new_object();

                json_object_object_add(o, "error", json_object_new_string(msg ? msg : "out of memory"));
                print_json(o);
                json_object_put(o);
        }
        fprintf(stderr, "tierctl: %s\n", msg ? msg : "out of memory");
        return 1;
}

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

static uint64_t read_usage(const char *abs_path) {
        _cleanup_free_ char *line = NULL, *p = NULL;
        uint64_t v = 0;

        if (asprintf(&p, "%s/memory.current", abs_path) < 0)
                return 0;
        if (read_one_line(NULL, p, &line) < 0 || parse_u64(line, &v) < 0)
                return 0;
        return v;
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
                        printf("%s: %s.tierd.%s %s%s\n", rel[0] ? rel : "/", c->user ? "user" : "trusted",
                               pairs[i].key, pairs[i].value ? "= " : "removed", pairs[i].value ? pairs[i].value : "");
        return 0;
}

/* ---- resolution of one cgroup with its ancestors ----------------------- */

typedef struct Chain {
        int n;
        char **paths;           /* relative */
        Annotations *annotations;
        ResolveInput *in;
        EffectivePolicy *out;
} Chain;

static void chain_free(Chain *ch) {
        for (int i = 0; i < ch->n; i++)
                free(ch->paths[i]);
        free(ch->paths);
        free(ch->annotations);
        free(ch->in);
        free(ch->out);
}

static int chain_resolve(const Ctl *c, const char *rel, Chain *ch) {
        int depth = 1, r;

        for (const char *p = rel; *p; p++)
                depth += *p == '/';
        if (rel[0] == '\0')
                depth = 1;
        else
                depth += 1; /* the root plus each segment */
        *ch = (Chain) { .n = depth };
        ch->paths = calloc((size_t) depth, sizeof(char *));
        ch->annotations = calloc((size_t) depth, sizeof(Annotations));
        ch->in = calloc((size_t) depth, sizeof(ResolveInput));
        ch->out = calloc((size_t) depth, sizeof(EffectivePolicy));
        if (!ch->paths || !ch->annotations || !ch->in || !ch->out)
                return -ENOMEM;
        for (int i = 0; i < depth; i++) {
                _cleanup_free_ char *abs_path = NULL;
                const char *end = rel;

                /* the first i segments of rel */
                for (int k = 0; k < i; k++) {
                        end = strchr(end, '/');
                        end = end ? end + 1 : rel + strlen(rel) + 1;
                }
                ch->paths[i] = strndup(rel, i == 0 ? 0 : (size_t) (end - rel - 1));
                if (!ch->paths[i])
                        return -ENOMEM;
                if (asprintf(&abs_path, "%s%s%s", c->mount, i ? "/" : "", ch->paths[i]) < 0)
                        return -ENOMEM;
                r = annotations_read(abs_path, &ch->annotations[i]);
                if (r < 0)
                        return r;
                ch->in[i] = (ResolveInput) {
                        .path = ch->paths[i],
                        .parent = i - 1,
                        .owner = ch->annotations[i].owner,
                        .usage = read_usage(abs_path),
                        .annotations = &ch->annotations[i],
                };
        }
        return resolve_policies(c->config, ch->in, (size_t) depth, ch->out);
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

static json_object *policy_json(const Config *cfg, const EffectivePolicy *p) {
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
                json_object_object_add(x, "where", json_object_new_string(rows[i].origin->where));
                json_object_object_add(x, "origin",
                                       json_object_new_string(origin_to_string(rows[i].origin, buf, sizeof(buf))));
                if (rows[i].origin->note[0])
                        json_object_object_add(x, "note", json_object_new_string(rows[i].origin->note));
                json_object_object_add(o, rows[i].key, x);
        }
        return o;
}

static json_object *errors_json(const EffectivePolicy *p) {
        json_object *a = json_object_new_array();

        for (int i = 0; i < p->n_errors; i++)
                json_object_array_add(a, json_object_new_string(p->errors[i]));
        return a;
}

static int verb_explain(Ctl *c, int argc, char **argv) {
        _cleanup_free_ char *rel = NULL, *abs_path = NULL;
        Chain ch = { 0 };
        const EffectivePolicy *p;
        int r;

        if (argc != 1)
                return fail(c, "explain: usage: tierctl explain CGROUP");
        if (ctl_setup(c, true))
                return 1;
        r = cgroup_arg(c, argv[0], &rel, &abs_path);
        if (r < 0)
                return fail(c, "explain: %s: no such cgroup under %s", argv[0], c->mount);
        r = chain_resolve(c, rel, &ch);
        if (r < 0) {
                chain_free(&ch);
                return fail(c, "explain: cannot resolve %s: %s", rel, strerror(-r));
        }
        p = &ch.out[ch.n - 1];

        if (c->json) {
                json_object *o = json_object_new_object(), *errs = json_object_new_array();

                json_object_object_add(o, "cgroup", json_object_new_string(rel[0] ? rel : "/"));
                json_object_object_add(o, "owner_uid", json_object_new_int((int) ch.in[ch.n - 1].owner));
                json_object_object_add(o, "delegated", json_object_new_boolean(p->delegated));
                json_object_object_add(o, "usage_bytes", json_object_new_uint64(ch.in[ch.n - 1].usage));
                json_object_object_add(o, "policy", policy_json(c->config, p));
                /* errors of the cgroup and of its ancestors: both shape it */
                for (int i = 0; i < ch.n; i++)
                        for (int k = 0; k < ch.out[i].n_errors; k++)
                                json_object_array_add(errs, json_object_new_string(ch.out[i].errors[k]));
                json_object_object_add(o, "errors", errs);
                print_json(o);
                json_object_put(o);
        } else {
                Row rows[32];
                int n = policy_rows(c->config, p, rows);
                char ub[32], bb[32], ob[400];

                printf("%s  (owner uid %u%s, memory.current %s)\n", rel[0] ? rel : "/", (unsigned) ch.in[ch.n - 1].owner,
                       p->delegated ? ", delegated" : "", format_bytes(ch.in[ch.n - 1].usage, ub, sizeof(ub)));
                for (int i = 0; i < n; i++) {
                        char v[96];

                        if (rows[i].has_bytes && rows[i].bytes != UINT64_MAX &&
                            rows[i].origin->kind != ORIGIN_BUILTIN && strchr(rows[i].value, '%'))
                                snprintf(v, sizeof(v), "%s = %s", rows[i].value, format_bytes(rows[i].bytes, bb, sizeof(bb)));
                        else
                                snprintf(v, sizeof(v), "%s", rows[i].value);
                        printf("  %-14s %-22s %s\n", rows[i].key, v, origin_to_string(rows[i].origin, ob, sizeof(ob)));
                        if (rows[i].origin->note[0])
                                printf("  %-14s %-22s note: %s\n", "", "", rows[i].origin->note);
                }
                for (int i = 0; i < ch.n; i++)
                        for (int k = 0; k < ch.out[i].n_errors; k++)
                                printf("  error: %s\n", ch.out[i].errors[k]);
        }
        chain_free(&ch);
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
                json_object_array_add(a, x);
        }
        return a;
}

static int verb_show(Ctl *c, int argc, char **argv) {
        _cleanup_(topology_freep) Topology *topo = NULL;
        _cleanup_(cgroup_tree_freep) CgroupTree *tree = NULL;
        _cleanup_free_ char *rel = NULL, *abs_path = NULL;
        _cleanup_free_ Annotations *ann = NULL;
        _cleanup_free_ ResolveInput *in = NULL;
        _cleanup_free_ EffectivePolicy *out = NULL;
        size_t first = 1, end, idx;
        int r;

        if (argc > 1)
                return fail(c, "show: usage: tierctl show [CGROUP]");
        if (ctl_setup(c, true))
                return 1;
        r = topology_load("/sys", &topo);
        if (r < 0)
                return fail(c, "show: cannot read the NUMA topology from /sys: %s", strerror(-r));
        r = cgroup_walk(c->mount, topo, CGROUP_WALK_SKIP_PIDS, &tree);
        if (r < 0)
                return fail(c, "show: cannot walk %s: %s", c->mount, strerror(-r));
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

        ann = calloc(tree->n_cgroups, sizeof(Annotations));
        in = calloc(tree->n_cgroups, sizeof(ResolveInput));
        out = calloc(tree->n_cgroups, sizeof(EffectivePolicy));
        if (!ann || !in || !out)
                return fail(c, "out of memory");
        for (size_t i = 0; i < tree->n_cgroups; i++) {
                const CgroupInfo *ci = &tree->cgroups[i];
                _cleanup_free_ char *p = NULL;

                if (asprintf(&p, "%s%s%s", c->mount, ci->path[0] ? "/" : "", ci->path) < 0)
                        return fail(c, "out of memory");
                r = annotations_read(p, &ann[i]);
                if (r == -ENOMEM)
                        return fail(c, "out of memory");
                /* a cgroup gone since the walk: resolve it without annotations */
                in[i] = (ResolveInput) {
                        .path = ci->path, .parent = ci->parent, .owner = ci->uid,
                        .usage = ci->memory_current, .annotations = r < 0 ? NULL : &ann[i],
                };
        }
        r = resolve_policies(c->config, in, tree->n_cgroups, out);
        if (r < 0)
                return fail(c, "show: resolution failed: %s", strerror(-r));

        if (c->json) {
                json_object *o = json_object_new_object(), *tiers = json_object_new_array(),
                            *cgs = json_object_new_array();

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
                json_object_object_add(o, "tiers", tiers);
                for (size_t i = first; i < end; i++) {
                        const CgroupInfo *ci = &tree->cgroups[i];
                        json_object *x = json_object_new_object();

                        json_object_object_add(x, "cgroup", json_object_new_string(ci->path[0] ? ci->path : "/"));
                        json_object_object_add(x, "class",
                                               json_object_new_string(c->config->classes[out[i].class_index].name));
                        json_object_object_add(x, "mode", json_object_new_string(policy_mode_to_string(out[i].mode)));
                        json_object_object_add(x, "delegated", json_object_new_boolean(out[i].delegated));
                        json_object_object_add(x, "memory_current",
                                               ci->has_memory ? json_object_new_uint64(ci->memory_current) : NULL);
                        json_object_object_add(x, "tiers", tiers_usage_json(ci, tree->n_tiers));
                        json_object_object_add(x, "policy", policy_json(c->config, &out[i]));
                        json_object_object_add(x, "errors", errors_json(&out[i]));
                        json_object_array_add(cgs, x);
                }
                json_object_object_add(o, "cgroups", cgs);
                print_json(o);
                json_object_put(o);
        } else {
                char b0[32], b1[32], b2[32], b3[32];

                printf("%-40s %-9s %-8s %10s %10s %10s %10s\n", "CGROUP", "CLASS", "MODE", "TIER0.MAX", "CURRENT",
                       "TIER0", "TIER1+");
                for (size_t i = first; i < end; i++) {
                        const CgroupInfo *ci = &tree->cgroups[i];
                        uint64_t lower = 0;
                        char lim[32];

                        for (int t = 1; t < tree->n_tiers; t++)
                                lower += ci->tier_anon[t] + ci->tier_file[t];
                        if (out[i].tier_max[0].bytes == UINT64_MAX)
                                snprintf(lim, sizeof(lim), "max");
                        else
                                format_bytes(out[i].tier_max[0].bytes, lim, sizeof(lim));
                        printf("%-40s %-9s %-8s %10s %10s %10s %10s%s\n", ci->path[0] ? ci->path : "/",
                               c->config->classes[out[i].class_index].name, policy_mode_to_string(out[i].mode), lim,
                               ci->has_memory ? format_bytes(ci->memory_current, b0, sizeof(b0)) : "-",
                               ci->has_numa_stat ? format_bytes(ci->tier_anon[0] + ci->tier_file[0], b1, sizeof(b1)) : "-",
                               ci->has_numa_stat ? format_bytes(lower, b2, sizeof(b2)) : "-",
                               out[i].n_errors ? "  (errors: see explain)" : "");
                }
                (void) b3;
        }
        return 0;
}

typedef struct Verb {
        const char *name;
        int (*run)(Ctl *c, int argc, char **argv);
        const char *help;
} Verb;

static const Verb verbs[] = {
        { "annotate", verb_annotate, "CGROUP KEY=VALUE...  validate, then set trusted.tierd.KEY (--user: user.tierd.KEY); KEY= removes" },
        { "show", verb_show, "[CGROUP]             effective policy and per-tier usage of every cgroup (or one subtree)" },
        { "explain", verb_explain, "CGROUP               each effective value of CGROUP and where it came from" },
};

static void usage(FILE *f) {
        fprintf(f, "usage: tierctl [OPTIONS] COMMAND [ARGS]\n\ncommands:\n");
        for (size_t i = 0; i < ELEMENTSOF(verbs); i++)
                fprintf(f, "  %-9s %s\n", verbs[i].name, verbs[i].help);
        fprintf(f,
                "\noptions:\n"
                "  --json              machine-readable output (errors too)\n"
                "  --user              annotate: write user.tierd.* (delegated subtrees)\n"
                "  --config PATH       configuration file (default /etc/tierd/tierd.json)\n"
                "  --cgroup-root DIR   cgroup v2 mount (default: found in /proc/self/mountinfo)\n"
                "  -h, --help\n");
}

static const struct option ctl_options[] = {
        { "json", no_argument, NULL, 'j' },
        { "user", no_argument, NULL, 'u' },
        { "config", required_argument, NULL, 'c' },
        { "cgroup-root", required_argument, NULL, 'r' },
        { "help", no_argument, NULL, 'h' },
        {},
};

/* Parses options into c; returns -1 to go on, else the exit status.
 * SHORTOPTS "+h" stops at the command, "h" lets options follow it. */
static int parse_options(Ctl *c, int argc, char **argv, const char *shortopts) {
        int opt;

        while ((opt = getopt_long(argc, argv, shortopts, ctl_options, NULL)) >= 0)
                switch (opt) {
                case 'j': c->json = true; break;
                case 'u': c->user = true; break;
                case 'c': c->config_path = optarg; break;
                case 'r': c->cgroup_root = optarg; break;
                case 'h': usage(stdout); return 0;
                default: usage(stderr); return 2;
                }
        return -1;
}

int main(int argc, char **argv) {
        Ctl c = { .config_path = "/etc/tierd/tierd.json" };
        int r = 2;

        r = parse_options(&c, argc, argv, "+h");
        if (r >= 0)
                return r;
        r = 2;
        if (optind >= argc) {
                usage(stderr);
                return 2;
        }
        for (size_t i = 0; i < ELEMENTSOF(verbs); i++)
                if (strcmp(argv[optind], verbs[i].name) == 0) {
                        /* options may also follow the command: parse the
                         * rest with the verb name standing in for argv[0] */
                        int nargc = argc - optind;
                        char **nargv = argv + optind;

                        optind = 0; /* 0: GNU getopt re-initializes (drops "+" mode) */
                        r = parse_options(&c, nargc, nargv, "h");
                        if (r >= 0)
                                return r;
                        r = verbs[i].run(&c, nargc - optind, nargv + optind);
                        goto out;
                }
        fprintf(stderr, "tierctl: unknown command '%s' (see tierctl --help)\n", argv[optind]);
out:
        free(c.mount);
        config_free(c.config);
        return r;
}
