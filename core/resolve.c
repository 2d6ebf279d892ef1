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

struct Resolution {
        const Config *cfg;
        ResolvePathFn path_of;
        void *userdata;
        const ResolveInput *in;         /* of resolve_policies(), without PATH_OF */
        size_t n_in;
        /* the strings: NUL-terminated, a string's index is its offset + 1 */
        char *buf;
        size_t len, alloc;
        uint32_t *hash;                 /* open addressing: index, 0 empty */
        size_t hash_size, hash_n;
        bool enomem;
};

Resolution *resolution_new(const Config *cfg, ResolvePathFn path_of, void *userdata) {
        Resolution *r = calloc(1, sizeof(*r));

        if (!r)
                return NULL;
        r->cfg = cfg;
        r->path_of = path_of;
        r->userdata = userdata;
        return r;
}

Resolution *resolution_free(Resolution *r) {
        if (!r)
                return NULL;
        free(r->buf);
        free(r->hash);
        free(r);
        return NULL;
}

size_t resolution_strings_size(const Resolution *r) {
        return r->alloc + r->hash_size * sizeof(uint32_t);
}

static uint64_t hash_str(const char *s) {
        uint64_t h = UINT64_C(0xcbf29ce484222325);

        for (; *s; s++)
                h = (h ^ (unsigned char) *s) * UINT64_C(0x100000001b3);
        return h;
}

static int strings_rehash(Resolution *r, size_t size) {
        uint32_t *h = calloc(size, sizeof(uint32_t));

        if (!h)
                return -ENOMEM;
        for (size_t i = 0; i < r->hash_size; i++) {
                size_t k;

                if (!r->hash[i])
                        continue;
                for (k = hash_str(r->buf + r->hash[i] - 1) & (size - 1); h[k]; k = (k + 1) & (size - 1))
                        ;
                h[k] = r->hash[i];
        }
        free(r->hash);
        r->hash = h;
        r->hash_size = size;
        return 0;
}

/* S's index among the strings, adding it once; 0 for "", and for a string
 * that would take the strings past MAX bytes (dropped). */
static uint32_t intern_bounded(Resolution *r, const char *s, size_t max) {
        size_t len = strlen(s), k;

        if (len == 0)
                return 0;
        if ((r->hash_n + 1) * 2 > r->hash_size && strings_rehash(r, r->hash_size ? r->hash_size * 2 : 256) < 0) {
                r->enomem = true;
                return 0;
        }
        for (k = hash_str(s) & (r->hash_size - 1); r->hash[k]; k = (k + 1) & (r->hash_size - 1))
                if (strcmp(r->buf + r->hash[k] - 1, s) == 0)
                        return r->hash[k];
        if (r->len + len + 1 > max)
                return 0;
        if (r->len + len + 1 > r->alloc) {
                size_t a = r->alloc ? r->alloc * 2 : 4096;
                char *nb;

                while (a < r->len + len + 1)
                        a *= 2;
                nb = realloc(r->buf, a);
                if (!nb) {
                        r->enomem = true;
                        return 0;
                }
                r->buf = nb;
                r->alloc = a;
        }
        memcpy(r->buf + r->len, s, len + 1);
        r->hash[k] = (uint32_t) (r->len + 1);
        r->hash_n++;
        r->len += len + 1;
        return r->hash[k];
}

/* Notes and errors: up to RESOLVE_STRINGS_MAX bytes. */
static uint32_t intern(Resolution *r, const char *s) {
        return intern_bounded(r, s, RESOLVE_STRINGS_MAX);
}

/* Pods' names: past the notes' bound too, up to RESOLVE_NAMES_RESERVE more,
 * so that notes (which a delegatee can multiply) cannot crowd out the
 * namespaces that grants are checked against. */
static uint32_t intern_name(Resolution *r, const char *s) {
        return intern_bounded(r, s, (size_t) RESOLVE_STRINGS_MAX + RESOLVE_NAMES_RESERVE);
}

static const char *string_at(const Resolution *r, uint32_t i) {
        return i && i <= r->len ? r->buf + i - 1 : "";
}

static const char *path_at(const Resolution *r, size_t i) {
        const char *p = NULL;

        if (r->path_of)
                p = r->path_of(i, r->userdata);
        else if (r->in && i < r->n_in)
                p = r->in[i].path;
        return p ? p : "";
}

const char *origin_where(const Resolution *r, const Origin *o) {
        switch ((OriginKind) o->kind) {
        case ORIGIN_DEFAULT:
                return "\"default\" section";
        case ORIGIN_CLASS:
                return o->where < (uint32_t) r->cfg->n_classes ? r->cfg->classes[o->where].name : "";
        case ORIGIN_RULE:
                return o->where < (uint32_t) r->cfg->n_rules ? r->cfg->rules[o->where].origin : "";
        case ORIGIN_TRUSTED:
        case ORIGIN_USER:
        case ORIGIN_POD:
                return path_at(r, o->where);
        case ORIGIN_BUILTIN:
        case ORIGIN_PARENT:
                break;
        }
        return "";
}

const char *origin_note(const Resolution *r, const Origin *o) {
        return string_at(r, o->note);
}

const char *resolve_error(const Resolution *r, const EffectivePolicy *p, int k) {
        return k >= 0 && k < p->n_errors ? string_at(r, p->errors[k]) : "";
}

const char *origin_to_string(const Resolution *r, const Origin *o, char *buf, size_t size) {
        const char *w = origin_where(r, o);

        switch ((OriginKind) o->kind) {
        case ORIGIN_BUILTIN:
                snprintf(buf, size, "built-in default");
                break;
        case ORIGIN_DEFAULT:
                snprintf(buf, size, "configuration %s", w);
                break;
        case ORIGIN_CLASS:
                snprintf(buf, size, "default of class %s", w);
                break;
        case ORIGIN_RULE:
                snprintf(buf, size, "rule %s", w);
                break;
        case ORIGIN_TRUSTED:
                snprintf(buf, size, "trusted.tierd annotation on %s", w[0] ? w : "/");
                break;
        case ORIGIN_USER:
                snprintf(buf, size, "user.tierd annotation on %s", w[0] ? w : "/");
                break;
        case ORIGIN_POD:
                snprintf(buf, size, "tierd.io pod annotation on %s", w[0] ? w : "/");
                break;
        case ORIGIN_PARENT:
                snprintf(buf, size, "ancestor %s", w[0] ? w : "/");
                break;
        }
        return buf;
}

static void set_origin(Origin *o, OriginKind kind, size_t where) {
        *o = (Origin) { .kind = (uint8_t) kind, .where = (uint32_t) where };
}

#define NOTE_MAX 320

/* Adds to O's note ("; " between two), at most NOTE_MAX - 1 bytes in all. */
static void add_note(Resolution *r, Origin *o, const char *fmt, ...) _printf_(3, 4);
static void add_note(Resolution *r, Origin *o, const char *fmt, ...) {
        char note[NOTE_MAX];
        size_t len;
        va_list ap;

        snprintf(note, sizeof(note), "%s", string_at(r, o->note));
        len = strlen(note);
        if (len > 0 && len + 2 < sizeof(note)) {
                memcpy(note + len, "; ", 3);
                len += 2;
        }
        va_start(ap, fmt);
        vsnprintf(note + len, sizeof(note) - len, fmt, ap);
        va_end(ap);
        o->note = intern(r, note);
}

static void add_error(Resolution *r, EffectivePolicy *p, const char *path, const Annotation *a, const char *why) {
        char e[NOTE_MAX];

        if (p->n_errors >= RESOLVE_MAX_ERRORS)
                return;
        snprintf(e, sizeof(e), "%s: %s%s: \"%s\" %s", path[0] ? path : "/",
                 a->pod ? "tierd.io/" : a->trusted ? "trusted.tierd." : "user.tierd.", a->key, a->value, why);
        p->errors[p->n_errors] = intern(r, e);
        if (p->errors[p->n_errors])
                p->n_errors++;
}

/* Parses one cgroup's annotations of one namespace (pod: the pod's
 * requests, trusted.tierd.pod.*) into a spec. */
static void annotations_to_spec(Resolution *res, const char *path, const Annotations *as, bool trusted, bool pod,
                                PolicySpec *spec, EffectivePolicy *p) {
        const Config *cfg = res->cfg;

        *spec = (PolicySpec) { 0 };
        if (!as)
                return;
        for (int i = 0; i < as->n; i++) {
                const Annotation *a = &as->items[i];
                const char *why = NULL;

                if (a->trusted != trusted || a->pod != pod)
                        continue;
                if (a->truncated) {
                        add_error(res, p, path, a, "is too long");
                        continue;
                }
                if (policy_spec_set(spec, a->key, a->value, &why) < 0) {
                        add_error(res, p, path, a, why ? why : "is not valid");
                        continue;
                }
                if (strcmp(a->key, "class") == 0 && config_class_index(cfg, spec->class_name) < 0) {
                        add_error(res, p, path, a, "is not a class defined in the configuration");
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
        const char *ns;         /* the pod's namespace, "" unknown */
        const PolicySpec *rule[F_N];       /* last matching rule per field */
        int rule_index[F_N];
        bool delegated;         /* user.tierd.* can only tighten */
        bool rules_delegated;   /* rules can only tighten: the path was named inside a delegated subtree */
        char who[400];          /* for notes: "owner uid 1000", "below delegated a/b" */
        Resolution *res;
        size_t index;           /* of the cgroup, for origins */
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
                set_origin(&c.origin, ORIGIN_CLASS, (size_t) class_index);
                return c;
        }
        if (spec_has(&cfg->defaults, f)) {
                c.spec = &cfg->defaults;
                set_origin(&c.origin, ORIGIN_DEFAULT, 0);
                return c;
        }
        set_origin(&c.origin, ORIGIN_BUILTIN, 0);
        return c;
}

/* The operator's own value of field f: trusted.tierd.KEY, else the last
 * matching rule unless the path was named inside a delegated subtree. */
static Candidate operator_value(const Sources *src, int f) {
        Candidate c = { 0 };

        if (src->trusted && spec_has(src->trusted, f)) {
                c.spec = src->trusted;
                set_origin(&c.origin, ORIGIN_TRUSTED, src->index);
        } else if (!src->rules_delegated && src->rule[f]) {
                c.spec = src->rule[f];
                set_origin(&c.origin, ORIGIN_RULE, (size_t) src->rule_index[f]);
        }
        return c;
}

static void resolve_pod_layer(const Sources *src, int f, Layer *ret);

/* The values applied over the operator's, lowest precedence first: a rule
 * of a delegated subtree, a pod's request, then user.tierd.KEY. A trusted
 * value shadows them all. Returns how many were put in RET. */
static int layers(const Sources *src, int f, Layer ret[static MAX_LAYERS]) {
        int n = 0;

        if (src->trusted && spec_has(src->trusted, f))
                return 0;
        if (src->rules_delegated && src->rule[f]) {
                ret[n] = (Layer) { .c.spec = src->rule[f], .checked = true };
                set_origin(&ret[n++].c.origin, ORIGIN_RULE, (size_t) src->rule_index[f]);
        }
        if (src->pod && spec_has(src->pod, f))
                resolve_pod_layer(src, f, &ret[n++]);
        if (src->user && spec_has(src->user, f)) {
                ret[n] = (Layer) { .c.spec = src->user, .checked = src->delegated };
                set_origin(&ret[n++].c.origin, ORIGIN_USER, src->index);
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
                snprintf(buf, size, "rule %s %s=%s refused: a rule in a delegated subtree (%s)", origin_where(src->res, &l->c.origin), key,
                         val, src->who);
}

static int class_of(const Config *cfg, const Candidate *c, const EffectivePolicy *parent) {
        if (c->spec)
                return config_class_index(cfg, c->spec->class_name);
        if (c->origin.kind == ORIGIN_PARENT && parent)
                return parent->class_index;
        return -1;
}

static void resolve_class(const Config *cfg, const Sources *src, const EffectivePolicy *parent,
                          EffectivePolicy *p) {
        Candidate base = operator_value(src, F_CLASS);
        Layer ls[MAX_LAYERS];
        int base_idx, n = layers(src, F_CLASS, ls);

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
                set_origin(&base.origin, spec_has(&cfg->defaults, F_CLASS) ? ORIGIN_DEFAULT : ORIGIN_BUILTIN, 0);
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
                        add_note(src->res, &p->class_origin, "%s cannot raise its class above %s (%s)", r,
                                 cfg->classes[p->class_index].name, origin_to_string(src->res, &p->class_origin, b, sizeof(b)));
                        continue;
                }
                p->class_index = idx;
                p->class_origin = ls[k].c.origin;
        }
}

static void resolve_mode(const Config *cfg, const Sources *src, const EffectivePolicy *parent,
                         EffectivePolicy *p) {
        Candidate base = operator_value(src, F_MODE);
        Layer ls[MAX_LAYERS];
        int n = layers(src, F_MODE, ls);

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
                        add_note(src->res, &p->mode_origin, "%s cannot relax mode %s (%s)", r, policy_mode_to_string(p->mode),
                                 origin_to_string(src->res, &p->mode_origin, b, sizeof(b)));
                        continue;
                }
                p->mode = m;
                p->mode_origin = ls[k].c.origin;
        }
}

/* For quantities and limits: the operator's value, else the defaults. */
static Candidate base_candidate(const Config *cfg, const Sources *src, int f, int class_index) {
        Candidate c = operator_value(src, f);

        if (!c.spec)
                c = fallback(cfg, NULL, class_index, f);
        return c;
}

static void resolve_quantity(const Config *cfg, const Sources *src, int f, int class_index,
                             const EffectiveQuantity *parent_q, EffectiveQuantity *out, bool *pod_refused) {
        Candidate base = base_candidate(cfg, src, f, class_index);
        bool demote = f == F_DEMOTE_RATE || f == F_DEMOTE_BURST;
        Quantity base_q = { .set = true, .unlimited = true };
        char key[32], val[64], bv[64], ob[400], r[1024];
        Layer ls[MAX_LAYERS];
        int n = layers(src, f, ls);

        field_name(f, key, sizeof(key));
        if (base.spec)
                base_q = *spec_quantity((PolicySpec *) base.spec, f);
        out->value = base_q;
        out->origin = base.origin;

        for (int k = 0; k < n; k++) {
                Quantity q = *spec_quantity((PolicySpec *) ls[k].c.spec, f);

                bool refused = ls[k].checked && (demote || quantity_looser(&q, &out->value) ||
                                                 (parent_q && quantity_looser(&q, &parent_q->value)));

                quantity_to_string(&q, val, sizeof(val));
                if (refused && ls[k].c.origin.kind == ORIGIN_POD)
                        *pod_refused = true;
                if (ls[k].checked && demote) {
                        refusal(src, &ls[k], key, val, r, sizeof(r));
                        add_note(src->res, &out->origin, "%s: demotion quotas are not delegable", r);
                } else if (ls[k].checked && (quantity_looser(&q, &out->value) ||
                                             (parent_q && quantity_looser(&q, &parent_q->value)))) {
                        bool parent_lower = parent_q && quantity_looser(&out->value, &parent_q->value);

                        refusal(src, &ls[k], key, val, r, sizeof(r));
                        add_note(src->res, &out->origin, "%s cannot raise it above %s (%s)", r,
                                 quantity_to_string(parent_lower ? &parent_q->value : &out->value, bv, sizeof(bv)),
                                 origin_to_string(src->res, parent_lower ? &parent_q->origin : &out->origin, ob, sizeof(ob)));
                } else {
                        out->value = q;
                        out->origin = ls[k].c.origin;
                }
        }

        if (parent_q && quantity_looser(&out->value, &parent_q->value)) {
                uint32_t prev = out->origin.note;

                quantity_to_string(&out->value, val, sizeof(val));
                origin_to_string(src->res, &out->origin, ob, sizeof(ob));
                out->value = parent_q->value;
                out->origin = parent_q->origin;
                out->origin.note = 0;
                add_note(src->res, &out->origin, "clamped to an ancestor's: own %s %s (%s) was looser", key, val, ob);
                if (prev)
                        add_note(src->res, &out->origin, "%s", string_at(src->res, prev));
        }
}

static void resolve_limit(const Config *cfg, const ResolveInput *in, const Sources *src, int f, int class_index,
                          const EffectiveLimit *parent_l, EffectiveLimit *out, bool *pod_refused) {
        Candidate base = base_candidate(cfg, src, f, class_index);
        Layer ls[MAX_LAYERS];
        int n = layers(src, f, ls);

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
                        add_note(src->res, &out->origin, "%s cannot raise it above %s (%s)", r,
                                 limit_to_string(parent_lower ? &parent_l->spec : &out->spec, bv, sizeof(bv)),
                                 origin_to_string(src->res, parent_lower ? &parent_l->origin : &out->origin, ob, sizeof(ob)));
                        continue;
                }
                out->spec = l;
                out->bytes = lb;
                out->origin = ls[k].c.origin;
        }

        if (parent_l && parent_l->bytes < out->bytes) {
                uint32_t prev = out->origin.note;

                limit_to_string(&out->spec, val, sizeof(val));
                origin_to_string(src->res, &out->origin, ob, sizeof(ob));
                out->spec = parent_l->spec;
                out->bytes = parent_l->bytes;
                out->origin = parent_l->origin;
                out->origin.note = 0;
                add_note(src->res, &out->origin, "clamped to an ancestor's: own %s %s (%s) was looser", key, val, ob);
                if (prev)
                        add_note(src->res, &out->origin, "%s", string_at(src->res, prev));
        }
}

/* Delegation of cgroup I: a directory owned by a non-root user, one that
 * systemd marked with trusted.delegate (or user.delegate), or a cgroup
 * below a delegated one. Everything at and below a delegation point is
 * the delegatee's to create, name and rename. The xattr covers a
 * root-owned subtree that a rootful container manager without user
 * namespaces hands out: the owner uid alone would call it the operator's. */
static void delegation(Resolution *res, const ResolveInput *in, size_t i, const EffectivePolicy *parent,
                       EffectivePolicy *p, Sources *src) {
        bool marked = in->annotations && in->annotations->delegate;

        src->rules_delegated = parent && parent->delegated;
        if (src->rules_delegated)
                p->delegation_root = parent->delegation_root;
        else if (in->owner != 0 || marked)
                p->delegation_root = (int) i;
        else
                p->delegation_root = -1;
        p->delegated = p->delegation_root >= 0;
        src->delegated = p->delegated;

        if (!p->delegated)
                src->who[0] = '\0';
        else if (in->owner != 0)
                snprintf(src->who, sizeof(src->who), "owner uid %u", (unsigned) in->owner);
        else if (p->delegation_root == (int) i)
                snprintf(src->who, sizeof(src->who), "delegate xattr");
        else {
                const char *root = path_at(res, (size_t) p->delegation_root);

                snprintf(src->who, sizeof(src->who), "below delegated %s", root[0] ? root : "/");
        }
}

/* ---- pods: trusted.tierd.pod.KEY -------------------------------------- */

/* The pod of cgroup I, its requests and where its namespace comes from:
 * the nearest cgroup at or above I with a recorded identity (the pod
 * root). The names are interned once; a cgroup keeps their indices, the
 * pod root's (namespace, pod) and, for the container, the nearest one at
 * or above I up to the pod root. */
static void pod_sources(Resolution *res, const ResolveInput *in, size_t i, const EffectivePolicy *parent,
                        EffectivePolicy *p, PolicySpec *spec, Sources *src) {
        const Annotations *a = in->annotations;

        if (a && (a->k8s.pod[0] || a->k8s.namespace_[0])) {
                p->pod_root = (int) i;
                p->pod_namespace = intern_name(res, a->k8s.namespace_);
                p->pod_name = intern_name(res, a->k8s.pod);
                p->pod_container = intern_name(res, a->k8s.container);
        } else {
                p->pod_root = parent ? parent->pod_root : -1;
                p->pod_namespace = parent ? parent->pod_namespace : 0;
                p->pod_name = parent ? parent->pod_name : 0;
                p->pod_container = a && a->k8s.container[0] ? intern_name(res, a->k8s.container)
                                   : parent                 ? parent->pod_container
                                                            : 0;
        }
        src->ns = string_at(res, p->pod_namespace);
        annotations_to_spec(res, in->path, a, true, true, spec, p);
        src->pod = spec;
}

/* The layer of a pod's request for field F: checked (it may only tighten)
 * unless a grant names the pod's namespace and this class or key; never
 * a grant inside a delegated subtree, where the delegatee names the
 * cgroups and could pass one for a pod's. */
static void resolve_pod_layer(const Sources *src, int f, Layer *ret) {
        const Config *cfg = src->res->cfg;
        const ConfigPodGrant *g = NULL;

        if (!src->delegated)
                g = config_pod_grant(cfg, src->ns, f, f == F_CLASS ? config_class_index(cfg, src->pod->class_name) : -1);
        *ret = (Layer) { .c.spec = src->pod, .checked = !g };
        set_origin(&ret->c.origin, ORIGIN_POD, src->index);
        if (g)
                add_note(src->res, &ret->c.origin, "granted to namespace %s by %s", src->ns, g->origin);
}

void resolve_pod_identity(const Resolution *r, const EffectivePolicy *p, K8sIdentity *ret) {
        *ret = (K8sIdentity) { 0 };
        snprintf(ret->namespace_, sizeof(ret->namespace_), "%s", string_at(r, p->pod_namespace));
        snprintf(ret->pod, sizeof(ret->pod), "%s", string_at(r, p->pod_name));
        snprintf(ret->container, sizeof(ret->container), "%s", string_at(r, p->pod_container));
}

int resolve_one(Resolution *res, const ResolveInput *in, size_t i, const EffectivePolicy *parent, EffectivePolicy *p) {
        const Config *cfg = res->cfg;
        PolicySpec specs[3]; /* trusted, user, pod */
        Sources src = { .res = res, .index = i };

        *p = (EffectivePolicy) { 0 };
        delegation(res, in, i, parent, p, &src);

        annotations_to_spec(res, in->path, in->annotations, true, false, &specs[0], p);
        annotations_to_spec(res, in->path, in->annotations, false, false, &specs[1], p);
        src.trusted = &specs[0];
        src.user = &specs[1];
        pod_sources(res, in, i, parent, p, &specs[2], &src);
        for (int r = 0; r < cfg->n_rules; r++) {
                if (!config_glob_match(cfg->rules[r].match, in->path))
                        continue;
                for (int f = 0; f < F_N; f++)
                        if (spec_has(&cfg->rules[r].policy, f)) {
                                src.rule[f] = &cfg->rules[r].policy;
                                src.rule_index[f] = r;
                        }
        }

        resolve_class(cfg, &src, parent, p);
        resolve_mode(cfg, &src, parent, p);
        resolve_quantity(cfg, &src, F_PROMOTE_RATE, p->class_index, parent ? &parent->promote_rate : NULL,
                         &p->promote_rate, &p->pod_refused);
        resolve_quantity(cfg, &src, F_PROMOTE_BURST, p->class_index, parent ? &parent->promote_burst : NULL,
                         &p->promote_burst, &p->pod_refused);
        resolve_quantity(cfg, &src, F_DEMOTE_RATE, p->class_index, parent ? &parent->demote_rate : NULL,
                         &p->demote_rate, &p->pod_refused);
        resolve_quantity(cfg, &src, F_DEMOTE_BURST, p->class_index, parent ? &parent->demote_burst : NULL,
                         &p->demote_burst, &p->pod_refused);
        for (int t = 0; t < POLICY_MAX_TIERS; t++) {
                resolve_limit(cfg, in, &src, F_TIER_MAX + t, p->class_index, parent ? &parent->tier_max[t] : NULL,
                              &p->tier_max[t], &p->pod_refused);
                resolve_limit(cfg, in, &src, F_TIER_LOW + t, p->class_index, parent ? &parent->tier_low[t] : NULL,
                              &p->tier_low[t], &p->pod_refused);
        }
        return res->enomem ? -ENOMEM : 0;
}

int resolve_policies(Resolution *res, const ResolveInput *in, size_t n, EffectivePolicy *ret) {
        res->in = in;
        res->n_in = n;
        for (size_t i = 0; i < n; i++) {
                int r;

                if (in[i].parent >= 0 && (size_t) in[i].parent >= i)
                        return -EINVAL; /* not in pre-order */
                r = resolve_one(res, &in[i], i, in[i].parent >= 0 ? &ret[in[i].parent] : NULL, &ret[i]);
                if (r < 0)
                        return r;
        }
        return 0;
}
