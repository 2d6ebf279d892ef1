/* SPDX-License-Identifier: MIT */
#include "resolve.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "pods.h"
#include "util.h"

/* The fields of a PolicySpec, enumerated so that origins and rules can be
 * handled one key at a time. */
enum {
        F_CLASS,
        F_MODE,
        F_PROMOTE_RATE,
        F_PROMOTE_BURST,
        F_DEMOTE_RATE,
        F_DEMOTE_BURST,
        F_TIER_MAX,
        F_TIER_LOW = F_TIER_MAX + POLICY_MAX_TIERS,
        F_N = F_TIER_LOW + POLICY_MAX_TIERS,
};
/* the grants of the configuration name fields by the same numbers */
_Static_assert(F_TIER_MAX == POD_FIELD_TIER_MAX && F_TIER_LOW == POD_FIELD_TIER_LOW && F_N == POD_FIELDS,
               "resolve.c and pods.h number the policy keys alike");

static Quantity *spec_quantity(PolicySpec *s, int f) {
        switch (f) {
        case F_PROMOTE_RATE: return &s->promote_rate;
        case F_PROMOTE_BURST: return &s->promote_burst;
        case F_DEMOTE_RATE: return &s->demote_rate;
        case F_DEMOTE_BURST: return &s->demote_burst;
        default: return NULL;
        }
}

static Limit *spec_limit(PolicySpec *s, int f) {
        if (f >= F_TIER_MAX && f < F_TIER_MAX + POLICY_MAX_TIERS)
                return &s->tier_max[f - F_TIER_MAX];
        if (f >= F_TIER_LOW && f < F_TIER_LOW + POLICY_MAX_TIERS)
                return &s->tier_low[f - F_TIER_LOW];
        return NULL;
}

static bool spec_has(const PolicySpec *cs, int f) {
        PolicySpec *s = (PolicySpec *) cs;

        if (f == F_CLASS)
                return s->class_name[0] != '\0';
        if (f == F_MODE)
                return s->mode != MODE_UNSET;
        if (spec_quantity(s, f))
                return spec_quantity(s, f)->set;
        return spec_limit(s, f)->kind != LIMIT_UNSET;
}

static void field_name(int f, char *buf, size_t size) {
        static const char *const names[] = { "class", "mode", "promote.rate", "promote.burst", "demote.rate", "demote.burst" };

        if (f < F_TIER_MAX)
                snprintf(buf, size, "%s", names[f]);
        else if (f < F_TIER_LOW)
                snprintf(buf, size, "tier%d.max", f - F_TIER_MAX);
        else
                snprintf(buf, size, "tier%d.low", f - F_TIER_LOW);
}

const char *origin_kind_to_string(OriginKind k) {
        switch (k) {
        case ORIGIN_BUILTIN: return "built-in";
        case ORIGIN_DEFAULT: return "default";
        case ORIGIN_CLASS: return "class";
        case ORIGIN_RULE: return "rule";
        case ORIGIN_TRUSTED: return "trusted";
        case ORIGIN_USER: return "user";
        case ORIGIN_POD: return "pod";
        case ORIGIN_PARENT: return "parent";
        }
        return "unknown";
}

const char *origin_to_string(const Origin *o, char *buf, size_t size) {
        switch (o->kind) {
        case ORIGIN_BUILTIN:
                snprintf(buf, size, "built-in default");
                break;
        case ORIGIN_DEFAULT:
                snprintf(buf, size, "configuration %s", o->where);
                break;
        case ORIGIN_CLASS:
                snprintf(buf, size, "default of class %s", o->where);
                break;
        case ORIGIN_RULE:
                snprintf(buf, size, "rule %s", o->where);
                break;
        case ORIGIN_TRUSTED:
                snprintf(buf, size, "trusted.tierd annotation on %s", o->where[0] ? o->where : "/");
                break;
        case ORIGIN_USER:
                snprintf(buf, size, "user.tierd annotation on %s", o->where[0] ? o->where : "/");
                break;
        case ORIGIN_POD:
                snprintf(buf, size, "tierd.io pod annotation on %s", o->where[0] ? o->where : "/");
                break;
        case ORIGIN_PARENT:
                snprintf(buf, size, "ancestor %s", o->where[0] ? o->where : "/");
                break;
        }
        return buf;
}

static void set_origin(Origin *o, OriginKind kind, const char *where) {
        *o = (Origin) { .kind = kind };
        snprintf(o->where, sizeof(o->where), "%s", where ? where : "");
}

static void add_note(Origin *o, const char *fmt, ...) _printf_(2, 3);
static void add_note(Origin *o, const char *fmt, ...) {
        size_t len = strlen(o->note);
        va_list ap;

        if (len > 0 && len + 2 < sizeof(o->note)) {
                memcpy(o->note + len, "; ", 3);
                len += 2;
        }
        va_start(ap, fmt);
        vsnprintf(o->note + len, sizeof(o->note) - len, fmt, ap);
        va_end(ap);
}

static void add_error(EffectivePolicy *p, const char *path, const Annotation *a, const char *why) {
        if (p->n_errors >= RESOLVE_MAX_ERRORS)
                return;
        snprintf(p->errors[p->n_errors++], sizeof(p->errors[0]), "%s: %s%s: \"%s\" %s", path[0] ? path : "/",
                 a->pod ? "tierd.io/" : a->trusted ? "trusted.tierd." : "user.tierd.", a->key, a->value, why);
}

/* Parses one cgroup's annotations of one namespace (pod: the pod's
 * requests, trusted.tierd.pod.*) into a spec. */
static void annotations_to_spec(const Config *cfg, const char *path, const Annotations *as, bool trusted, bool pod,
                                PolicySpec *spec, EffectivePolicy *p) {
        *spec = (PolicySpec) { 0 };
        if (!as)
                return;
        for (int i = 0; i < as->n; i++) {
                const Annotation *a = &as->items[i];
                const char *why = NULL;

                if (a->trusted != trusted || a->pod != pod)
                        continue;
                if (a->truncated) {
                        add_error(p, path, a, "is too long");
                        continue;
                }
                if (policy_spec_set(spec, a->key, a->value, &why) < 0) {
                        add_error(p, path, a, why ? why : "is not valid");
                        continue;
                }
                if (strcmp(a->key, "class") == 0 && config_class_index(cfg, spec->class_name) < 0) {
                        add_error(p, path, a, "is not a class defined in the configuration");
                        spec->class_name[0] = '\0';
                }
        }
}

/* Quantities compare with unlimited as infinity. */
static bool quantity_looser(const Quantity *a, const Quantity *b) {
        if (a->unlimited)
                return !b->unlimited;
        if (b->unlimited)
                return false;
        return a->bytes > b->bytes;
}

/* Candidate value of one field for a cgroup: the spec it came from and
 * its origin. */
typedef struct Candidate {
        const PolicySpec *spec;
        Origin origin;
} Candidate;

typedef struct Sources {
        const PolicySpec *trusted, *user, *pod;
        const Config *cfg;
        const char *ns;         /* the pod's namespace, "" unknown */
        const PolicySpec *rule[F_N];       /* last matching rule per field */
        const char *rule_origin[F_N];
        bool delegated;         /* user.tierd.* can only tighten */
        bool rules_delegated;   /* rules can only tighten: the path was named inside a delegated subtree */
        char who[400];          /* for notes: "owner uid 1000", "below delegated a/b" */
} Sources;

/* A value that may only tighten what the cgroup has without it: a
 * user.tierd.* annotation of a delegated cgroup, or a rule matching a
 * path that was named inside a delegated subtree. */
typedef struct Layer {
        Candidate c;
        bool checked;           /* refused unless it tightens */
} Layer;

#define MAX_LAYERS 3

/* What the cgroup would have for field f without its own value, before
 * the hierarchy clamp: class default, configuration default, built-in.
 * (class and mode also fall back to the parent before these.) */
static Candidate fallback(const Config *cfg, const EffectivePolicy *parent, int class_index, int f) {
        Candidate c = { 0 };
        const ConfigClass *cls = class_index >= 0 ? &cfg->classes[class_index] : NULL;

        if ((f == F_CLASS || f == F_MODE) && parent) {
                c.spec = NULL; /* caller copies from the parent */
                c.origin.kind = ORIGIN_PARENT;
                return c;
        }
        if (cls && f != F_CLASS && spec_has(&cls->defaults, f)) {
                c.spec = &cls->defaults;
                set_origin(&c.origin, ORIGIN_CLASS, cls->name);
                return c;
        }
        if (spec_has(&cfg->defaults, f)) {
                c.spec = &cfg->defaults;
                set_origin(&c.origin, ORIGIN_DEFAULT, "\"default\" section");
                return c;
        }
        set_origin(&c.origin, ORIGIN_BUILTIN, NULL);
        return c;
}

/* The operator's own value of field f: trusted.tierd.KEY, else the last
 * matching rule unless the path was named inside a delegated subtree. */
static Candidate operator_value(const Sources *src, const char *path, int f) {
        Candidate c = { 0 };

        if (src->trusted && spec_has(src->trusted, f)) {
                c.spec = src->trusted;
                set_origin(&c.origin, ORIGIN_TRUSTED, path);
        } else if (!src->rules_delegated && src->rule[f]) {
                c.spec = src->rule[f];
                set_origin(&c.origin, ORIGIN_RULE, src->rule_origin[f]);
        }
        return c;
}

static void resolve_pod_layer(const Sources *src, const char *path, int f, Layer *ret);

/* The values applied over the operator's, lowest precedence first: a rule
 * of a delegated subtree, a pod's request, then user.tierd.KEY. A trusted
 * value shadows them all. Returns how many were put in RET. */
static int layers(const Sources *src, const char *path, int f, Layer ret[static MAX_LAYERS]) {
        int n = 0;

        if (src->trusted && spec_has(src->trusted, f))
                return 0;
        if (src->rules_delegated && src->rule[f]) {
                ret[n] = (Layer) { .c.spec = src->rule[f], .checked = true };
                set_origin(&ret[n++].c.origin, ORIGIN_RULE, src->rule_origin[f]);
        }
        if (src->pod && spec_has(src->pod, f))
                resolve_pod_layer(src, path, f, &ret[n++]);
        if (src->user && spec_has(src->user, f)) {
                ret[n] = (Layer) { .c.spec = src->user, .checked = src->delegated };
                set_origin(&ret[n++].c.origin, ORIGIN_USER, path);
        }
        return n;
}

/* The start of a refusal note: "user.tierd.KEY=VALUE refused: a delegated
 * cgroup (owner uid 1000)" or "rule FILE: rules[N] KEY=VALUE refused: a
 * rule in a delegated subtree (below delegated a/b)". */
static void refusal(const Sources *src, const Layer *l, const char *key, const char *val, char *buf, size_t size) {
        if (l->c.origin.kind == ORIGIN_USER)
                snprintf(buf, size, "user.tierd.%s=%s refused: a delegated cgroup (%s)", key, val, src->who);
        else if (l->c.origin.kind == ORIGIN_POD && src->delegated)
                snprintf(buf, size, "tierd.io/%s=%s refused: a pod in a delegated subtree (%s)", key, val, src->who);
        else if (l->c.origin.kind == ORIGIN_POD && src->ns[0])
                snprintf(buf, size, "tierd.io/%s=%s refused: a pod of namespace %s (no pods.grants entry for it)", key,
                         val, src->ns);
        else if (l->c.origin.kind == ORIGIN_POD)
                snprintf(buf, size, "tierd.io/%s=%s refused: a pod whose namespace is not recorded (pods.grants "
                         "name namespaces)", key, val);
        else
                snprintf(buf, size, "rule %s %s=%s refused: a rule in a delegated subtree (%s)", l->c.origin.where, key,
                         val, src->who);
}

static int class_of(const Config *cfg, const Candidate *c, const EffectivePolicy *parent) {
        if (c->spec)
                return config_class_index(cfg, c->spec->class_name);
        if (c->origin.kind == ORIGIN_PARENT && parent)
                return parent->class_index;
        return -1;
}

static void resolve_class(const Config *cfg, const ResolveInput *in, const Sources *src, const EffectivePolicy *parent,
                          EffectivePolicy *p) {
        Candidate base = operator_value(src, in->path, F_CLASS);
        Layer ls[MAX_LAYERS];
        int base_idx, n = layers(src, in->path, F_CLASS, ls);

        if (!base.spec)
                base = fallback(cfg, parent, -1, F_CLASS);
        base_idx = class_of(cfg, &base, parent);
        if (base.origin.kind == ORIGIN_PARENT && parent)
                base.origin = parent->class_origin;
        if (base_idx < 0) {
                /* top of the tree with no default class: the configuration's
                 * default, else "standard", else the lowest priority class */
                base_idx = config_class_index(cfg, cfg->defaults.class_name);
                if (base_idx < 0)
                        base_idx = config_class_index(cfg, "standard");
                if (base_idx < 0)
                        base_idx = cfg->n_classes - 1;
                set_origin(&base.origin, spec_has(&cfg->defaults, F_CLASS) ? ORIGIN_DEFAULT : ORIGIN_BUILTIN, "");
        }
        p->class_index = base_idx;
        p->class_origin = base.origin;

        for (int k = 0; k < n; k++) {
                int idx = config_class_index(cfg, ls[k].c.spec->class_name);
                char b[400], r[1024];

                if (idx < 0)
                        continue;
                if (ls[k].checked && idx < p->class_index) {
                        p->pod_refused |= ls[k].c.origin.kind == ORIGIN_POD;
                        refusal(src, &ls[k], "class", ls[k].c.spec->class_name, r, sizeof(r));
                        add_note(&p->class_origin, "%s cannot raise its class above %s (%s)", r,
                                 cfg->classes[p->class_index].name, origin_to_string(&p->class_origin, b, sizeof(b)));
                        continue;
                }
                p->class_index = idx;
                p->class_origin = ls[k].c.origin;
        }
}

static void resolve_mode(const Config *cfg, const ResolveInput *in, const Sources *src, const EffectivePolicy *parent,
                         EffectivePolicy *p) {
        Candidate base = operator_value(src, in->path, F_MODE);
        Layer ls[MAX_LAYERS];
        int n = layers(src, in->path, F_MODE, ls);

        if (base.spec)
                p->mode = base.spec->mode;
        else if (parent) {
                p->mode = parent->mode;
                base.origin = parent->mode_origin;
        } else {
                base = fallback(cfg, NULL, p->class_index, F_MODE);
                p->mode = base.spec ? base.spec->mode : MODE_ENFORCE;
        }
        p->mode_origin = base.origin;

        for (int k = 0; k < n; k++) {
                PolicyMode m = ls[k].c.spec->mode;
                char b[400], r[1024];

                if (ls[k].checked && m < p->mode) {
                        p->pod_refused |= ls[k].c.origin.kind == ORIGIN_POD;
                        refusal(src, &ls[k], "mode", policy_mode_to_string(m), r, sizeof(r));
                        add_note(&p->mode_origin, "%s cannot relax mode %s (%s)", r, policy_mode_to_string(p->mode),
                                 origin_to_string(&p->mode_origin, b, sizeof(b)));
                        continue;
                }
                p->mode = m;
                p->mode_origin = ls[k].c.origin;
        }
}

/* For quantities and limits: the operator's value, else the defaults. */
static Candidate base_candidate(const Config *cfg, const Sources *src, const char *path, int f, int class_index) {
        Candidate c = operator_value(src, path, f);

        if (!c.spec)
                c = fallback(cfg, NULL, class_index, f);
        return c;
}

static void resolve_quantity(const Config *cfg, const ResolveInput *in, const Sources *src, int f, int class_index,
                             const EffectiveQuantity *parent_q, EffectiveQuantity *out, bool *pod_refused) {
        Candidate base = base_candidate(cfg, src, in->path, f, class_index);
        bool demote = f == F_DEMOTE_RATE || f == F_DEMOTE_BURST;
        Quantity base_q = { .set = true, .unlimited = true };
        char key[32], val[64], bv[64], ob[400], r[1024];
        Layer ls[MAX_LAYERS];
        int n = layers(src, in->path, f, ls);

        field_name(f, key, sizeof(key));
        if (base.spec)
                base_q = *spec_quantity((PolicySpec *) base.spec, f);
        out->value = base_q;
        out->origin = base.origin;

        for (int k = 0; k < n; k++) {
                Quantity q = *spec_quantity((PolicySpec *) ls[k].c.spec, f);

                quantity_to_string(&q, val, sizeof(val));
                bool refused = ls[k].checked && (demote || quantity_looser(&q, &out->value) ||
                                                 (parent_q && quantity_looser(&q, &parent_q->value)));

                if (refused && ls[k].c.origin.kind == ORIGIN_POD)
                        *pod_refused = true;
                if (ls[k].checked && demote) {
                        refusal(src, &ls[k], key, val, r, sizeof(r));
                        add_note(&out->origin, "%s: demotion quotas are not delegable", r);
                } else if (ls[k].checked && (quantity_looser(&q, &out->value) ||
                                             (parent_q && quantity_looser(&q, &parent_q->value)))) {
                        bool parent_lower = parent_q && quantity_looser(&out->value, &parent_q->value);

                        refusal(src, &ls[k], key, val, r, sizeof(r));
                        add_note(&out->origin, "%s cannot raise it above %s (%s)", r,
                                 quantity_to_string(parent_lower ? &parent_q->value : &out->value, bv, sizeof(bv)),
                                 origin_to_string(parent_lower ? &parent_q->origin : &out->origin, ob, sizeof(ob)));
                } else {
                        out->value = q;
                        out->origin = ls[k].c.origin;
                }
        }

        if (parent_q && quantity_looser(&out->value, &parent_q->value)) {
                char prev[sizeof(out->origin.note)];

                snprintf(prev, sizeof(prev), "%s", out->origin.note);
                quantity_to_string(&out->value, val, sizeof(val));
                origin_to_string(&out->origin, ob, sizeof(ob));
                out->value = parent_q->value;
                out->origin = parent_q->origin;
                out->origin.note[0] = '\0';
                add_note(&out->origin, "clamped to an ancestor's: own %s %s (%s) was looser", key, val, ob);
                if (prev[0])
                        add_note(&out->origin, "%s", prev);
        }
}

static void resolve_limit(const Config *cfg, const ResolveInput *in, const Sources *src, int f, int class_index,
                          const EffectiveLimit *parent_l, EffectiveLimit *out, bool *pod_refused) {
        Candidate base = base_candidate(cfg, src, in->path, f, class_index);
        Layer ls[MAX_LAYERS];
        int n = layers(src, in->path, f, ls);

        /* A tierN.low nobody set (built-in: no protection) does not limit
         * the descendants' protection. */
        if (parent_l && f >= F_TIER_LOW && parent_l->origin.kind == ORIGIN_BUILTIN)
                parent_l = NULL;
        /* nothing set: no cap for tierN.max, no protection for tierN.low */
        Limit base_l = f >= F_TIER_LOW ? (Limit) { .kind = LIMIT_BYTES, .bytes = 0 } : (Limit) { .kind = LIMIT_MAX };
        char key[32], val[64], bv[64], ob[400], r[1024];

        field_name(f, key, sizeof(key));
        if (base.spec)
                base_l = *spec_limit((PolicySpec *) base.spec, f);
        out->spec = base_l;
        out->bytes = limit_resolve(&base_l, in->usage);
        out->origin = base.origin;

        for (int k = 0; k < n; k++) {
                Limit l = *spec_limit((PolicySpec *) ls[k].c.spec, f);
                uint64_t lb = limit_resolve(&l, in->usage);
                /* the ceiling: what the cgroup has without it, after the
                 * ancestors' clamp */
                bool parent_lower = parent_l && parent_l->bytes < out->bytes;
                uint64_t ceiling = parent_lower ? parent_l->bytes : out->bytes;

                limit_to_string(&l, val, sizeof(val));
                if (ls[k].checked && lb > ceiling) {
                        if (ls[k].c.origin.kind == ORIGIN_POD)
                                *pod_refused = true;
                        refusal(src, &ls[k], key, val, r, sizeof(r));
                        add_note(&out->origin, "%s cannot raise it above %s (%s)", r,
                                 limit_to_string(parent_lower ? &parent_l->spec : &out->spec, bv, sizeof(bv)),
                                 origin_to_string(parent_lower ? &parent_l->origin : &out->origin, ob, sizeof(ob)));
                        continue;
                }
                out->spec = l;
                out->bytes = lb;
                out->origin = ls[k].c.origin;
        }

        if (parent_l && parent_l->bytes < out->bytes) {
                char prev[sizeof(out->origin.note)];

                snprintf(prev, sizeof(prev), "%s", out->origin.note);
                limit_to_string(&out->spec, val, sizeof(val));
                origin_to_string(&out->origin, ob, sizeof(ob));
                out->spec = parent_l->spec;
                out->bytes = parent_l->bytes;
                out->origin = parent_l->origin;
                out->origin.note[0] = '\0';
                add_note(&out->origin, "clamped to an ancestor's: own %s %s (%s) was looser", key, val, ob);
                if (prev[0])
                        add_note(&out->origin, "%s", prev);
        }
}

/* Delegation of cgroup I: a directory owned by a non-root user, one that
 * systemd marked with trusted.delegate (or user.delegate), or a cgroup
 * below a delegated one. Everything at and below a delegation point is
 * the delegatee's to create, name and rename. The xattr covers a
 * root-owned subtree that a rootful container manager without user
 * namespaces hands out: the owner uid alone would call it the operator's. */
static void delegation(const ResolveInput *in, size_t i, const EffectivePolicy *parent, EffectivePolicy *p,
                       Sources *src) {
        bool marked = in[i].annotations && in[i].annotations->delegate;

        src->rules_delegated = parent && parent->delegated;
        if (src->rules_delegated)
                p->delegation_root = parent->delegation_root;
        else if (in[i].owner != 0 || marked)
                p->delegation_root = (int) i;
        else
                p->delegation_root = -1;
        p->delegated = p->delegation_root >= 0;
        src->delegated = p->delegated;

        if (!p->delegated)
                src->who[0] = '\0';
        else if (in[i].owner != 0)
                snprintf(src->who, sizeof(src->who), "owner uid %u", (unsigned) in[i].owner);
        else if (p->delegation_root == (int) i)
                snprintf(src->who, sizeof(src->who), "delegate xattr");
        else
                snprintf(src->who, sizeof(src->who), "below delegated %s",
                         in[p->delegation_root].path[0] ? in[p->delegation_root].path : "/");
}

/* ---- pods: trusted.tierd.pod.KEY -------------------------------------- */

/* The pod's requests of cgroup I and where its namespace comes from: the
 * nearest cgroup at or above I with a recorded identity. */
static void pod_sources(const Config *cfg, const ResolveInput *in, size_t i, const EffectivePolicy *parent,
                        EffectivePolicy *p, PolicySpec *spec, Sources *src) {
        const Annotations *a = in[i].annotations;

        if (a && (a->k8s.pod[0] || a->k8s.namespace_[0]))
                p->pod_root = (int) i;
        else
                p->pod_root = parent ? parent->pod_root : -1;
        src->cfg = cfg;
        src->ns = p->pod_root >= 0 && in[p->pod_root].annotations ? in[p->pod_root].annotations->k8s.namespace_ : "";
        annotations_to_spec(cfg, in[i].path, a, true, true, spec, p);
        src->pod = spec;
}

/* The layer of a pod's request for field F: checked (it may only tighten)
 * unless a grant names the pod's namespace and this class or key; never
 * a grant inside a delegated subtree, where the delegatee names the
 * cgroups and could pass one for a pod's. */
static void resolve_pod_layer(const Sources *src, const char *path, int f, Layer *ret) {
        const ConfigPodGrant *g = NULL;

        if (!src->delegated)
                g = config_pod_grant(src->cfg, src->ns, f,
                                     f == F_CLASS ? config_class_index(src->cfg, src->pod->class_name) : -1);
        *ret = (Layer) { .c.spec = src->pod, .checked = !g };
        set_origin(&ret->c.origin, ORIGIN_POD, path);
        if (g)
                add_note(&ret->c.origin, "granted to namespace %s by %s", src->ns, g->origin);
}

int resolve_policies(const Config *cfg, const ResolveInput *in, size_t n, EffectivePolicy *ret) {
        _cleanup_free_ PolicySpec *specs = NULL;

        /* three specs per cgroup (trusted, user, pod), kept only for the current one */
        specs = calloc(3, sizeof(PolicySpec));
        if (!specs)
                return -ENOMEM;

        for (size_t i = 0; i < n; i++) {
                const EffectivePolicy *parent = NULL;
                EffectivePolicy *p = &ret[i];
                Sources src = { 0 };

                if (in[i].parent >= 0) {
                        if ((size_t) in[i].parent >= i)
                                return -EINVAL; /* not in pre-order */
                        parent = &ret[in[i].parent];
                }
                *p = (EffectivePolicy) { 0 };
                delegation(in, i, parent, p, &src);

                annotations_to_spec(cfg, in[i].path, in[i].annotations, true, false, &specs[0], p);
                annotations_to_spec(cfg, in[i].path, in[i].annotations, false, false, &specs[1], p);
                src.trusted = &specs[0];
                src.user = &specs[1];
                pod_sources(cfg, in, i, parent, p, &specs[2], &src);
                for (int r = 0; r < cfg->n_rules; r++) {
                        if (!config_glob_match(cfg->rules[r].match, in[i].path))
                                continue;
                        for (int f = 0; f < F_N; f++)
                                if (spec_has(&cfg->rules[r].policy, f)) {
                                        src.rule[f] = &cfg->rules[r].policy;
                                        src.rule_origin[f] = cfg->rules[r].origin;
                                }
                }

                resolve_class(cfg, &in[i], &src, parent, p);
                resolve_mode(cfg, &in[i], &src, parent, p);
                resolve_quantity(cfg, &in[i], &src, F_PROMOTE_RATE, p->class_index,
                                 parent ? &parent->promote_rate : NULL, &p->promote_rate, &p->pod_refused);
                resolve_quantity(cfg, &in[i], &src, F_PROMOTE_BURST, p->class_index,
                                 parent ? &parent->promote_burst : NULL, &p->promote_burst, &p->pod_refused);
                resolve_quantity(cfg, &in[i], &src, F_DEMOTE_RATE, p->class_index,
                                 parent ? &parent->demote_rate : NULL, &p->demote_rate, &p->pod_refused);
                resolve_quantity(cfg, &in[i], &src, F_DEMOTE_BURST, p->class_index,
                                 parent ? &parent->demote_burst : NULL, &p->demote_burst, &p->pod_refused);
                for (int t = 0; t < POLICY_MAX_TIERS; t++) {
                        resolve_limit(cfg, &in[i], &src, F_TIER_MAX + t, p->class_index,
                                      parent ? &parent->tier_max[t] : NULL, &p->tier_max[t], &p->pod_refused);
                        resolve_limit(cfg, &in[i], &src, F_TIER_LOW + t, p->class_index,
                                      parent ? &parent->tier_low[t] : NULL, &p->tier_low[t], &p->pod_refused);
                }
        }
        return 0;
}
