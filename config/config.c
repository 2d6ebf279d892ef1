/* SPDX-License-Identifier: MIT */
/* tierd's configuration: built-in defaults, the JSON schema and its strict
 * validation, drop-in merging, file safety and the cgroup path globs. The
 * schema is documented in tierd.json(5), man/tierd.json.5. */
#include "config.h"

#include <ctype.h>
#include <dirent.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <inttypes.h>
#include <stdarg.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statvfs.h>

#include "util.h"

#define MAX_FILE_SIZE (4u << 20)

/* ---- built-in defaults ------------------------------------------------ */

static const struct {
        const char *name;
        uint32_t weight;
        uint64_t promote_rate;
} builtin_classes[] = {
        { "critical", 1000, UINT64_C(256) << 20 },
        { "latency", 500, UINT64_C(128) << 20 },
        { "standard", 100, UINT64_C(64) << 20 },
        { "batch", 20, UINT64_C(32) << 20 },
        { "scavenger", 1, UINT64_C(8) << 20 },
};

#define DEFAULT_DEMOTE_RATE (UINT64_C(512) << 20)
#define DEFAULT_DEMOTE_BURST (UINT64_C(2) << 30)

static Quantity bytes_quantity(uint64_t bytes) {
        return (Quantity) { .set = true, .bytes = bytes };
}

int config_new_default(Config **ret) {
        Config *c;

        c = calloc(1, sizeof(*c));
        if (!c)
                return -ENOMEM;
        for (size_t i = 0; i < ELEMENTSOF(builtin_classes); i++) {
                ConfigClass *k = &c->classes[c->n_classes++];

                snprintf(k->name, sizeof(k->name), "%s", builtin_classes[i].name);
                k->weight = builtin_classes[i].weight;
                /* Bursts are four seconds' worth of the rate; demotion is
                 * generous for everyone: it is how fast memory is freed. */
                k->defaults.promote_rate = bytes_quantity(builtin_classes[i].promote_rate);
                k->defaults.promote_burst = bytes_quantity(builtin_classes[i].promote_rate * 4);
                k->defaults.demote_rate = bytes_quantity(DEFAULT_DEMOTE_RATE);
                k->defaults.demote_burst = bytes_quantity(DEFAULT_DEMOTE_BURST);
                snprintf(k->origin, sizeof(k->origin), "built-in");
        }
        snprintf(c->defaults.class_name, sizeof(c->defaults.class_name), "standard");
        c->defaults.mode = MODE_ENFORCE;

        c->scanner = (ConfigScanner) { .backend = "auto", .period_ms = 10000, .cpu_budget_permille = 50 };
        c->mover = (ConfigMover) { .backend = "auto", .batch_pages = 512, .hysteresis_ms = 60000 };
        c->control = (ConfigControl) { .socket = "/run/tierd/control.sock", .read_group = "" };
        c->metrics = (ConfigMetrics) { .listen = "" };
        c->budget_rate = bytes_quantity(UINT64_C(512) << 20);
        c->budget_burst = bytes_quantity(UINT64_C(2) << 30);
        *ret = c;
        return 0;
}

Config *config_free(Config *c) {
        free(c);
        return NULL;
}

int config_class_index(const Config *c, const char *name) {
        for (int i = 0; i < c->n_classes; i++)
                if (strcmp(c->classes[i].name, name) == 0)
                        return i;
        return -1;
}

/* ---- globs ------------------------------------------------------------ */

/* Splits a strdup'd path at '/' in place; empty segments are dropped. */
static char **split_segments(char *s, size_t *ret_n) {
        size_t n = 0, max = 1;
        char **v;

        for (const char *p = s; *p; p++)
                max += *p == '/';
        v = calloc(max, sizeof(char *));
        if (!v)
                return NULL;
        for (char *tok = s, *slash; tok; tok = slash ? slash + 1 : NULL) {
                slash = strchr(tok, '/');
                if (slash)
                        *slash = '\0';
                if (*tok)
                        v[n++] = tok;
        }
        *ret_n = n;
        return v;
}

bool config_glob_match(const char *pattern, const char *path) {
        _cleanup_free_ char *pbuf = NULL, *sbuf = NULL;
        _cleanup_free_ char **pat = NULL, **seg = NULL;
        size_t np, ns, i = 0, j = 0, star_i = SIZE_MAX, star_j = 0;

        pbuf = strdup(pattern);
        sbuf = strdup(path);
        if (!pbuf || !sbuf)
                return false;
        pat = split_segments(pbuf, &np);
        seg = split_segments(sbuf, &ns);
        if (!pat || !seg)
                return false;

        /* The classic wildcard match with backtracking to the last star,
         * over segments: "**" is the star, any other pattern segment
         * matches exactly one path segment through fnmatch(). */
        while (j < ns) {
                if (i < np && strcmp(pat[i], "**") == 0) {
                        star_i = i++;
                        star_j = j;
                } else if (i < np && fnmatch(pat[i], seg[j], 0) == 0) {
                        i++;
                        j++;
                } else if (star_i != SIZE_MAX) {
                        i = star_i + 1;
                        j = ++star_j;
                } else
                        return false;
        }
        while (i < np && strcmp(pat[i], "**") == 0)
                i++;
        return i == np;
}

/* Validates a rule's glob; the reason reads after the quoted pattern. */
static int glob_check(const char *pattern, const char **ret_why) {
        const char *seg = pattern;

        if (!*pattern) {
                *ret_why = "is an empty glob";
                return -EINVAL;
        }
        if (*pattern == '/') {
                *ret_why = "must be relative to the cgroup root (no leading '/')";
                return -EINVAL;
        }
        if (strlen(pattern) >= sizeof(((ConfigRule *) NULL)->match)) {
                *ret_why = "is too long (at most 511 characters)";
                return -EINVAL;
        }
        for (;;) {
                size_t len = strcspn(seg, "/");

                if (len == 0) {
                        *ret_why = "has an empty path segment";
                        return -EINVAL;
                }
                if (!(len == 2 && seg[0] == '*' && seg[1] == '*') && memmem(seg, len, "**", 2)) {
                        *ret_why = "has '**' inside a path segment (it must be a whole segment)";
                        return -EINVAL;
                }
                for (size_t k = 0; k < len; k++) {
                        size_t e;

                        if (seg[k] == '\\') {
                                k++;
                                continue;
                        }
                        if (seg[k] != '[')
                                continue;
                        /* "[!]x]": a ']' right after '[' or '[!' is literal. */
                        e = k + 1;
                        if (e < len && (seg[e] == '!' || seg[e] == '^'))
                                e++;
                        if (e < len && seg[e] == ']')
                                e++;
                        while (e < len && seg[e] != ']')
                                e++;
                        if (e >= len) {
                                *ret_why = "has an unterminated '[' (a bracket expression stays within one segment)";
                                return -EINVAL;
                        }
                        k = e;
                }
                if (!seg[len])
                        return 0;
                seg += len + 1;
        }
}

/* ---- error reporting ------------------------------------------------- */

typedef struct Ctx {
        const char *file;       /* the name used in messages */
        Config *cfg;            /* the working copy */
        char *error;            /* the first error */
        int n_defined;          /* class names defined by this file */
        char defined[CONFIG_MAX_CLASSES][POLICY_NAME_MAX];
} Ctx;

/* A value or key as it may appear in a message: printable, quotes and
 * backslashes escaped, long values cut. */
static char *escape(const char *s) {
        const size_t max = 80;
        size_t n = 0;
        char *buf, *p;

        buf = malloc(max * 4 + 4);
        if (!buf)
                return NULL;
        p = buf;
        for (; *s && n < max; s++, n++) {
                unsigned char c = (unsigned char) *s;

                if (c == '"' || c == '\\') {
                        *p++ = '\\';
                        *p++ = (char) c;
                } else if (c < 0x20 || c == 0x7f)
                        p += sprintf(p, "\\x%02x", c);
                else
                        *p++ = (char) c;
        }
        if (*s)
                p += sprintf(p, "...");
        *p = '\0';
        return buf;
}

_printf_(3, 4)
static int fail(Ctx *x, const char *path, const char *fmt, ...) {
        _cleanup_free_ char *msg = NULL;
        va_list ap;
        int r;

        if (x->error)
                return -EINVAL;
        va_start(ap, fmt);
        r = vasprintf(&msg, fmt, ap);
        va_end(ap);
        if (r < 0)
                return -ENOMEM;
        if (path && *path)
                r = asprintf(&x->error, "%s: %s: %s", x->file, path, msg);
        else
                r = asprintf(&x->error, "%s: %s", x->file, msg);
        if (r < 0) {
                x->error = NULL;
                return -ENOMEM;
        }
        return -EINVAL;
}

/* FILE: PATH: "VALUE" WHY */
static int fail_value(Ctx *x, const char *path, const char *value, const char *why) {
        _cleanup_free_ char *v = escape(value);

        if (!v)
                return -ENOMEM;
        return fail(x, path, "\"%s\" %s", v, why);
}

static char *path_key(const char *base, const char *key) {
        _cleanup_free_ char *k = escape(key);
        char *p;

        if (!k)
                return NULL;
        if (asprintf(&p, "%s%s%s", base, *base ? "." : "", k) < 0)
                return NULL;
        return p;
}

static char *path_index(const char *base, size_t i) {
        char *p;

        if (asprintf(&p, "%s[%zu]", base, i) < 0)
                return NULL;
        return p;
}

static int expect_type(Ctx *x, const char *path, json_object *v, json_type type) {
        static const char *const names[] = {
                [json_type_null] = "null", [json_type_boolean] = "a boolean",
                [json_type_double] = "a number", [json_type_int] = "an integer",
                [json_type_object] = "an object", [json_type_array] = "an array",
                [json_type_string] = "a string",
        };

        if (json_object_is_type(v, type))
                return 0;
        return fail(x, path, "expected %s", names[type]);
}

/* ---- value helpers ---------------------------------------------------- */

static const char *format_duration(uint64_t ms, char *buf, size_t size) {
        if (ms > 0 && ms % 3600000 == 0)
                snprintf(buf, size, "%" PRIu64 "h", ms / 3600000);
        else if (ms > 0 && ms % 60000 == 0)
                snprintf(buf, size, "%" PRIu64 "m", ms / 60000);
        else if (ms % 1000 == 0)
                snprintf(buf, size, "%" PRIu64 "s", ms / 1000);
        else
                snprintf(buf, size, "%" PRIu64 "ms", ms);
        return buf;
}

static const char *format_permille(uint32_t pm, char *buf, size_t size) {
        if (pm % 10 == 0)
                snprintf(buf, size, "%" PRIu32 "%%", pm / 10);
        else
                snprintf(buf, size, "%" PRIu32 ".%" PRIu32 "%%", pm / 10, pm % 10);
        return buf;
}

/* A string, or for byte counts also a JSON integer (its decimal text). */
static int value_string(Ctx *x, const char *path, json_object *v, bool allow_int, const char **ret) {
        if (json_object_is_type(v, json_type_string) || (allow_int && json_object_is_type(v, json_type_int))) {
                *ret = json_object_get_string(v);
                return 0;
        }
        if (allow_int)
                return fail(x, path, "expected a string or an integer");
        return fail(x, path, "expected a string");
}

static int get_duration(Ctx *x, const char *path, json_object *v, uint64_t min, uint64_t max,
                        const char *range_why, uint64_t *ret) {
        const char *s;
        uint64_t ms;
        int r;

        r = expect_type(x, path, v, json_type_string);
        if (r < 0)
                return r;
        s = json_object_get_string(v);
        /* the command line's syntax (base/util.h); a bare number, which
         * some old options take as seconds, is no duration here */
        r = parse_duration_ms(s, 0, &ms);
        if (r < 0)
                return fail_value(x, path, s, duration_error(r == -EDOM ? -EINVAL : r));
        if (ms < min || ms > max)
                return fail_value(x, path, s, range_why);
        *ret = ms;
        return 0;
}

static int get_uint(Ctx *x, const char *path, json_object *v, int64_t min, int64_t max, const char *range_why,
                    uint32_t *ret) {
        int64_t n;
        int r;

        r = expect_type(x, path, v, json_type_int);
        if (r < 0)
                return r;
        n = json_object_get_int64(v);
        if (n < min || n > max)
                return fail_value(x, path, json_object_get_string(v), range_why);
        *ret = (uint32_t) n;
        return 0;
}

static int get_backend(Ctx *x, const char *path, json_object *v, const char *const *allowed, const char *why,
                       char *buf, size_t size) {
        const char *s;
        int r;

        r = expect_type(x, path, v, json_type_string);
        if (r < 0)
                return r;
        s = json_object_get_string(v);
        for (; *allowed; allowed++)
                if (strcmp(s, *allowed) == 0) {
                        snprintf(buf, size, "%s", s);
                        return 0;
                }
        return fail_value(x, path, s, why);
}

static int get_quantity(Ctx *x, const char *path, json_object *v, Quantity *ret) {
        const char *s, *why;
        Quantity q;
        int r;

        r = value_string(x, path, v, true, &s);
        if (r < 0)
                return r;
        r = policy_parse_quantity(s, &q, &why);
        if (r < 0)
                return fail_value(x, path, s, why);
        *ret = q;
        return 0;
}

/* ---- sections --------------------------------------------------------- */

/* One policy key of a policy object (or of a class definition) into spec. */
static int apply_policy_key(Ctx *x, const char *base, const char *key, json_object *v, bool in_class,
                            PolicySpec *spec) {
        _cleanup_free_ char *path = path_key(base, key);
        const char *s, *why;
        PolicyKey k;
        int r, tier;

        if (!path)
                return -ENOMEM;
        r = policy_key_parse(key, &k, &tier);
        if (r == -ERANGE)
                return fail(x, path, "unknown key (tier indexes are 0..%d)", POLICY_MAX_TIERS - 1);
        if (r < 0)
                return fail(x, path, "unknown key");
        if (k == KEY_CLASS && in_class)
                return fail(x, path, "not allowed in a class definition");
        r = value_string(x, path, v, k != KEY_CLASS && k != KEY_MODE, &s);
        if (r < 0)
                return r;
        r = policy_spec_set(spec, key, s, &why);
        if (r < 0)
                return fail_value(x, path, s, why);
        if (k == KEY_CLASS && config_class_index(x->cfg, s) < 0)
                return fail_value(x, path, s, "is not a defined class");
        return 0;
}

static int apply_policy_object(Ctx *x, const char *path, json_object *o, PolicySpec *spec) {
        int r;

        r = expect_type(x, path, o, json_type_object);
        if (r < 0)
                return r;
        json_object_object_foreach(o, key, v) {
                r = apply_policy_key(x, path, key, v, false, spec);
                if (r < 0)
                        return r;
        }
        return 0;
}

static int apply_class(Ctx *x, const char *path, json_object *o) {
        _cleanup_free_ char *name_path = NULL;
        json_object *name_o, *weight_o;
        ConfigClass c;
        const char *name, *why;
        int idx, r;

        r = expect_type(x, path, o, json_type_object);
        if (r < 0)
                return r;
        if (!json_object_object_get_ex(o, "name", &name_o))
                return fail(x, path, "missing \"name\"");
        name_path = path_key(path, "name");
        if (!name_path)
                return -ENOMEM;
        r = expect_type(x, name_path, name_o, json_type_string);
        if (r < 0)
                return r;
        name = json_object_get_string(name_o);
        if (policy_parse_class_name(name, &why) < 0)
                return fail_value(x, name_path, name, why);
        for (int i = 0; i < x->n_defined; i++)
                if (strcmp(x->defined[i], name) == 0)
                        return fail_value(x, name_path, name, "is defined twice in this file");

        idx = config_class_index(x->cfg, name);
        if (idx >= 0)
                c = x->cfg->classes[idx];
        else {
                if (x->cfg->n_classes >= CONFIG_MAX_CLASSES)
                        return fail(x, path, "too many classes (at most %d)", CONFIG_MAX_CLASSES);
                if (!json_object_object_get_ex(o, "weight", &weight_o))
                        return fail(x, path, "missing \"weight\" (required for a new class)");
                c = (ConfigClass) {};
                snprintf(c.name, sizeof(c.name), "%s", name);
        }

        json_object_object_foreach(o, key, v) {
                _cleanup_free_ char *kp = NULL;

                if (strcmp(key, "name") == 0)
                        continue;
                kp = path_key(path, key);
                if (!kp)
                        return -ENOMEM;
                if (strcmp(key, "weight") == 0)
                        r = get_uint(x, kp, v, 1, 10000, "is not a weight between 1 and 10000", &c.weight);
                else if (strcmp(key, "comment") == 0)
                        r = expect_type(x, kp, v, json_type_string);
                else
                        r = apply_policy_key(x, path, key, v, true, &c.defaults);
                if (r < 0)
                        return r;
        }

        snprintf(c.origin, sizeof(c.origin), "%s: %s", x->file, path);
        if (idx >= 0)
                x->cfg->classes[idx] = c;
        else
                x->cfg->classes[x->cfg->n_classes++] = c;
        snprintf(x->defined[x->n_defined++], POLICY_NAME_MAX, "%s", name);
        return 0;
}

static int apply_classes(Ctx *x, json_object *a) {
        int r;

        r = expect_type(x, "classes", a, json_type_array);
        if (r < 0)
                return r;
        for (size_t i = 0; i < json_object_array_length(a); i++) {
                _cleanup_free_ char *path = path_index("classes", i);

                if (!path)
                        return -ENOMEM;
                r = apply_class(x, path, json_object_array_get_idx(a, i));
                if (r < 0)
                        return r;
        }
        return 0;
}

static int apply_rule(Ctx *x, const char *path, json_object *o) {
        ConfigRule rule = {};
        bool have_match = false, have_policy = false;
        int r;

        r = expect_type(x, path, o, json_type_object);
        if (r < 0)
                return r;
        if (x->cfg->n_rules >= CONFIG_MAX_RULES)
                return fail(x, path, "too many rules (at most %d)", CONFIG_MAX_RULES);
        json_object_object_foreach(o, key, v) {
                _cleanup_free_ char *kp = path_key(path, key);

                if (!kp)
                        return -ENOMEM;
                if (strcmp(key, "match") == 0) {
                        const char *s, *why;

                        r = expect_type(x, kp, v, json_type_string);
                        if (r < 0)
                                return r;
                        s = json_object_get_string(v);
                        if (glob_check(s, &why) < 0)
                                return fail_value(x, kp, s, why);
                        snprintf(rule.match, sizeof(rule.match), "%s", s);
                        have_match = true;
                } else if (strcmp(key, "policy") == 0) {
                        r = apply_policy_object(x, kp, v, &rule.policy);
                        if (r < 0)
                                return r;
                        have_policy = true;
                } else if (strcmp(key, "comment") == 0) {
                        r = expect_type(x, kp, v, json_type_string);
                        if (r < 0)
                                return r;
                } else
                        return fail(x, kp, "unknown key");
        }
        if (!have_match)
                return fail(x, path, "missing \"match\"");
        if (!have_policy)
                return fail(x, path, "missing \"policy\"");
        snprintf(rule.origin, sizeof(rule.origin), "%s: %s", x->file, path);
        x->cfg->rules[x->cfg->n_rules++] = rule;
        return 0;
}

static int apply_rules(Ctx *x, json_object *a) {
        int r;

        r = expect_type(x, "rules", a, json_type_array);
        if (r < 0)
                return r;
        for (size_t i = 0; i < json_object_array_length(a); i++) {
                _cleanup_free_ char *path = path_index("rules", i);

                if (!path)
                        return -ENOMEM;
                r = apply_rule(x, path, json_object_array_get_idx(a, i));
                if (r < 0)
                        return r;
        }
        return 0;
}

static const char *const scanner_backends[] = { "auto", "idle_page", "damon", "lru_gen", "bpf", NULL };
static const char *const mover_backends[] = { "auto", "move_pages", "damos", "reclaim", NULL };

static int apply_scanner(Ctx *x, json_object *o) {
        ConfigScanner *s = &x->cfg->scanner;
        int r;

        r = expect_type(x, "scanner", o, json_type_object);
        if (r < 0)
                return r;
        json_object_object_foreach(o, key, v) {
                _cleanup_free_ char *kp = path_key("scanner", key);

                if (!kp)
                        return -ENOMEM;
                if (strcmp(key, "backend") == 0)
                        r = get_backend(x, kp, v, scanner_backends,
                                        "is not one of auto, idle_page, damon, lru_gen, bpf", s->backend,
                                        sizeof(s->backend));
                else if (strcmp(key, "period") == 0)
                        r = get_duration(x, kp, v, 100, 3600000, "is not between 100ms and 1h", &s->period_ms);
                else if (strcmp(key, "cpu_budget") == 0) {
                        const char *str, *why;
                        Limit l;

                        r = expect_type(x, kp, v, json_type_string);
                        if (r < 0)
                                return r;
                        str = json_object_get_string(v);
                        if (!*str || str[strlen(str) - 1] != '%')
                                return fail_value(x, kp, str, "is not a percentage of one CPU (like 5%)");
                        r = policy_parse_limit(str, &l, &why);
                        if (r < 0)
                                return fail_value(x, kp, str, why);
                        if (l.permyriad % 10 != 0)
                                return fail_value(x, kp, str, "is finer than 0.1%");
                        if (l.permyriad == 0)
                                return fail_value(x, kp, str, "is not between 0.1% and 100%");
                        s->cpu_budget_permille = l.permyriad / 10;
                } else
                        r = fail(x, kp, "unknown key");
                if (r < 0)
                        return r;
        }
        return 0;
}

static int apply_mover(Ctx *x, json_object *o) {
        ConfigMover *m = &x->cfg->mover;
        int r;

        r = expect_type(x, "mover", o, json_type_object);
        if (r < 0)
                return r;
        json_object_object_foreach(o, key, v) {
                _cleanup_free_ char *kp = path_key("mover", key);

                if (!kp)
                        return -ENOMEM;
                if (strcmp(key, "backend") == 0)
                        r = get_backend(x, kp, v, mover_backends, "is not one of auto, move_pages, damos, reclaim",
                                        m->backend, sizeof(m->backend));
                else if (strcmp(key, "batch_pages") == 0)
                        r = get_uint(x, kp, v, 1, 65536, "is not between 1 and 65536", &m->batch_pages);
                else if (strcmp(key, "hysteresis") == 0)
                        r = get_duration(x, kp, v, 0, 86400000, "is not between 0s and 24h", &m->hysteresis_ms);
                else
                        r = fail(x, kp, "unknown key");
                if (r < 0)
                        return r;
        }
        return 0;
}

int config_check_listen(const char *s, const char **ret_why) {
        const char *colon, *host_end;
        uint64_t port;

        if (s[0] == '[') {
                host_end = strchr(s, ']');
                if (!host_end) {
                        *ret_why = "has a '[' without its ']' (an IPv6 address is written [::1]:9464)";
                        return -EINVAL;
                }
                if (host_end == s + 1) {
                        *ret_why = "has an empty IPv6 address between [ and ]";
                        return -EINVAL;
                }
                for (const char *c = s + 1; c < host_end; c++)
                        if (!isxdigit((unsigned char) *c) && *c != ':' && *c != '.' && *c != '%') {
                                *ret_why = "has a character that is not part of an IPv6 address between [ and ]";
                                return -EINVAL;
                        }
                if (host_end[1] != ':') {
                        *ret_why = "needs :PORT after the ] of the IPv6 address";
                        return -EINVAL;
                }
                colon = host_end + 1;
        } else {
                colon = strrchr(s, ':');
                if (!colon) {
                        *ret_why = "needs a port: HOST:PORT, [IPV6]:PORT or :PORT";
                        return -EINVAL;
                }
                if (memchr(s, ':', (size_t) (colon - s))) {
                        *ret_why = "has more than one ':' (an IPv6 address is written in brackets, [::1]:9464)";
                        return -EINVAL;
                }
                for (const char *c = s; c < colon; c++)
                        if (!isalnum((unsigned char) *c) && *c != '.' && *c != '-') {
                                *ret_why = "has a host that is not a name or an IPv4 address";
                                return -EINVAL;
                        }
        }
        if (!colon[1] || strspn(colon + 1, "0123456789") != strlen(colon + 1) || parse_u64(colon + 1, &port) < 0 ||
            port < 1 || port > 65535) {
                *ret_why = "has a port that is not a number between 1 and 65535";
                return -EINVAL;
        }
        return 0;
}

static int get_string(Ctx *x, const char *path, json_object *v, char *buf, size_t size) {
        const char *s;
        int r;

        r = expect_type(x, path, v, json_type_string);
        if (r < 0)
                return r;
        s = json_object_get_string(v);
        if (strlen(s) >= size)
                return fail(x, path, "too long (at most %zu bytes)", size - 1);
        snprintf(buf, size, "%s", s);
        return 0;
}

static int apply_control(Ctx *x, json_object *o) {
        ConfigControl *c = &x->cfg->control;
        int r;

        r = expect_type(x, "control", o, json_type_object);
        if (r < 0)
                return r;
        json_object_object_foreach(o, key, v) {
                _cleanup_free_ char *kp = path_key("control", key);

                if (!kp)
                        return -ENOMEM;
                if (strcmp(key, "socket") == 0) {
                        char buf[sizeof(c->socket)];

                        r = get_string(x, kp, v, buf, sizeof(buf));
                        if (r < 0)
                                return r;
                        if (buf[0] && buf[0] != '/')
                                return fail_value(x, kp, buf, "is not an absolute path (or \"\" for no socket)");
                        if (buf[0] && buf[strlen(buf) - 1] == '/')
                                return fail_value(x, kp, buf, "names a directory, not a socket file");
                        memcpy(c->socket, buf, sizeof(buf));
                } else if (strcmp(key, "read_group") == 0) {
                        char buf[sizeof(c->read_group)];

                        r = get_string(x, kp, v, buf, sizeof(buf));
                        if (r < 0)
                                return r;
                        for (const char *p = buf; *p; p++)
                                if (!isalnum((unsigned char) *p) && *p != '_' && *p != '-' && *p != '.')
                                        return fail_value(x, kp, buf, "is not a group name or number");
                        if (buf[0] == '-')
                                return fail_value(x, kp, buf, "is not a group name or number");
                        memcpy(c->read_group, buf, sizeof(buf));
                } else if (strcmp(key, "comment") == 0)
                        r = expect_type(x, kp, v, json_type_string);
                else
                        r = fail(x, kp, "unknown key");
                if (r < 0)
                        return r;
        }
        return 0;
}

static int apply_metrics(Ctx *x, json_object *o) {
        ConfigMetrics *m = &x->cfg->metrics;
        int r;

        r = expect_type(x, "metrics", o, json_type_object);
        if (r < 0)
                return r;
        json_object_object_foreach(o, key, v) {
                _cleanup_free_ char *kp = path_key("metrics", key);

                if (!kp)
                        return -ENOMEM;
                if (strcmp(key, "listen") == 0) {
                        char buf[sizeof(m->listen)];
                        const char *why;

                        r = get_string(x, kp, v, buf, sizeof(buf));
                        if (r < 0)
                                return r;
                        if (buf[0] && config_check_listen(buf, &why) < 0)
                                return fail_value(x, kp, buf, why);
                        memcpy(m->listen, buf, sizeof(buf));
                } else if (strcmp(key, "comment") == 0)
                        r = expect_type(x, kp, v, json_type_string);
                else
                        r = fail(x, kp, "unknown key");
                if (r < 0)
                        return r;
        }
        return 0;
}

static int apply_budget(Ctx *x, json_object *o) {
        int r;

        r = expect_type(x, "migration_budget", o, json_type_object);
        if (r < 0)
                return r;
        json_object_object_foreach(o, key, v) {
                _cleanup_free_ char *kp = path_key("migration_budget", key);

                if (!kp)
                        return -ENOMEM;
                if (strcmp(key, "rate") == 0)
                        r = get_quantity(x, kp, v, &x->cfg->budget_rate);
                else if (strcmp(key, "burst") == 0)
                        r = get_quantity(x, kp, v, &x->cfg->budget_burst);
                else
                        r = fail(x, kp, "unknown key");
                if (r < 0)
                        return r;
        }
        return 0;
}

/* A namespace glob of a grant: a DNS label with fnmatch's '*', '?' and
 * bracket expressions. */
static bool namespace_glob_valid(const char *s) {
        size_t n = strlen(s);

        if (n == 0 || n >= POD_NAMESPACE_MAX)
                return false;
        for (size_t i = 0; i < n; i++)
                if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= '0' && s[i] <= '9') || strchr("-*?[]!", s[i])))
                        return false;
        return true;
}

/* An array of strings at PATH, each given to ONE(x, item path, string). */
static int foreach_string(Ctx *x, const char *path, json_object *a, void *userdata,
                          int (*one)(Ctx *x, const char *path, const char *s, void *userdata)) {
        int r;

        r = expect_type(x, path, a, json_type_array);
        if (r < 0)
                return r;
        for (size_t i = 0; i < json_object_array_length(a); i++) {
                _cleanup_free_ char *ip = path_index(path, i);
                json_object *v = json_object_array_get_idx(a, i);

                if (!ip)
                        return -ENOMEM;
                r = expect_type(x, ip, v, json_type_string);
                if (r < 0)
                        return r;
                r = one(x, ip, json_object_get_string(v), userdata);
                if (r < 0)
                        return r;
        }
        return 0;
}

static int grant_namespace(Ctx *x, const char *path, const char *s, void *userdata) {
        ConfigPodGrant *g = userdata;

        if (!namespace_glob_valid(s))
                return fail_value(x, path, s, "is not a namespace or a glob of namespaces ([a-z0-9-] and * ? [...])");
        if (g->n_namespaces >= CONFIG_POD_GRANT_MAX_NAMESPACES)
                return fail(x, path, "too many namespaces in one grant (at most %d)", CONFIG_POD_GRANT_MAX_NAMESPACES);
        snprintf(g->namespaces[g->n_namespaces++], sizeof(g->namespaces[0]), "%s", s);
        return 0;
}

static int grant_class(Ctx *x, const char *path, const char *s, void *userdata) {
        ConfigPodGrant *g = userdata;
        int idx = config_class_index(x->cfg, s);

        if (idx < 0)
                return fail_value(x, path, s, "is not a defined class");
        g->classes |= UINT32_C(1) << idx;
        return 0;
}

static int grant_key(Ctx *x, const char *path, const char *s, void *userdata) {
        ConfigPodGrant *g = userdata;
        int f = pod_field_of_key(s);

        if (f == 0)
                return fail_value(x, path, s, "is granted with \"classes\", not \"keys\"");
        if (f < 0)
                return fail_value(x, path, s, "is not a policy key");
        g->fields |= UINT32_C(1) << f;
        return 0;
}

static int apply_grant(Ctx *x, const char *path, json_object *o) {
        ConfigPodGrant g = { 0 };
        int r;

        r = expect_type(x, path, o, json_type_object);
        if (r < 0)
                return r;
        if (x->cfg->n_pod_grants >= CONFIG_MAX_POD_GRANTS)
                return fail(x, path, "too many grants (at most %d)", CONFIG_MAX_POD_GRANTS);
        json_object_object_foreach(o, key, v) {
                _cleanup_free_ char *kp = path_key(path, key);

                if (!kp)
                        return -ENOMEM;
                if (strcmp(key, "namespaces") == 0)
                        r = foreach_string(x, kp, v, &g, grant_namespace);
                else if (strcmp(key, "classes") == 0)
                        r = foreach_string(x, kp, v, &g, grant_class);
                else if (strcmp(key, "keys") == 0)
                        r = foreach_string(x, kp, v, &g, grant_key);
                else if (strcmp(key, "comment") == 0)
                        r = expect_type(x, kp, v, json_type_string);
                else
                        r = fail(x, kp, "unknown key");
                if (r < 0)
                        return r;
        }
        if (g.n_namespaces == 0)
                return fail(x, path, "a grant needs \"namespaces\" (at least one)");
        if (!g.classes && !g.fields)
                return fail(x, path, "a grant needs \"classes\" or \"keys\" (it grants nothing)");
        snprintf(g.origin, sizeof(g.origin), "%s: %s", x->file, path);
        x->cfg->pod_grants[x->cfg->n_pod_grants++] = g;
        return 0;
}

static int apply_pods(Ctx *x, json_object *o) {
        int r;

        r = expect_type(x, "pods", o, json_type_object);
        if (r < 0)
                return r;
        json_object_object_foreach(o, key, v) {
                _cleanup_free_ char *kp = path_key("pods", key);

                if (!kp)
                        return -ENOMEM;
                if (strcmp(key, "grants") == 0) {
                        r = expect_type(x, kp, v, json_type_array);
                        for (size_t i = 0; r >= 0 && i < json_object_array_length(v); i++) {
                                _cleanup_free_ char *ip = path_index(kp, i);

                                r = ip ? apply_grant(x, ip, json_object_array_get_idx(v, i)) : -ENOMEM;
                        }
                } else if (strcmp(key, "comment") == 0)
                        r = expect_type(x, kp, v, json_type_string);
                else
                        r = fail(x, kp, "unknown key");
                if (r < 0)
                        return r;
        }
        return 0;
}

const ConfigPodGrant *config_pod_grant(const Config *c, const char *ns, int field, int class_index) {
        if (!ns || !*ns || field < 0 || field >= POD_FIELDS)
                return NULL;
        for (int i = 0; i < c->n_pod_grants; i++) {
                const ConfigPodGrant *g = &c->pod_grants[i];
                bool match = false;

                for (int k = 0; k < g->n_namespaces && !match; k++)
                        match = fnmatch(g->namespaces[k], ns, 0) == 0;
                if (!match)
                        continue;
                if (field == 0 ? class_index >= 0 && class_index < 32 && (g->classes & (UINT32_C(1) << class_index))
                               : (g->fields & (UINT32_C(1) << field)) != 0)
                        return g;
        }
        return NULL;
}

static int apply_tiers(Ctx *x, json_object *a) {
        uint64_t tiers[CONFIG_MAX_TIERS] = {}, all = 0;
        size_t n;
        int r;

        r = expect_type(x, "tiers", a, json_type_array);
        if (r < 0)
                return r;
        n = json_object_array_length(a);
        if (n > CONFIG_MAX_TIERS)
                return fail(x, "tiers", "%zu tiers given, at most %d are supported", n, CONFIG_MAX_TIERS);
        for (size_t t = 0; t < n; t++) {
                _cleanup_free_ char *tp = path_index("tiers", t);
                json_object *nodes = json_object_array_get_idx(a, t);

                if (!tp)
                        return -ENOMEM;
                r = expect_type(x, tp, nodes, json_type_array);
                if (r < 0)
                        return r;
                if (json_object_array_length(nodes) == 0)
                        return fail(x, tp, "a tier needs at least one node");
                for (size_t i = 0; i < json_object_array_length(nodes); i++) {
                        _cleanup_free_ char *np = path_index(tp, i);
                        json_object *v = json_object_array_get_idx(nodes, i);
                        int64_t id;

                        if (!np)
                                return -ENOMEM;
                        if (!json_object_is_type(v, json_type_int))
                                return fail(x, np, "expected a node id (an integer)");
                        id = json_object_get_int64(v);
                        if (id < 0 || id > 63)
                                return fail_value(x, np, json_object_get_string(v), "is not a node id between 0 and 63");
                        if (all & (UINT64_C(1) << id)) {
                                size_t other = 0;

                                while (!(tiers[other] & (UINT64_C(1) << id)))
                                        other++;
                                return fail(x, np, "\"%" PRId64 "\" is already listed in tiers[%zu]", id, other);
                        }
                        tiers[t] |= UINT64_C(1) << id;
                        all |= UINT64_C(1) << id;
                }
        }
        /* Replaced as a whole; an empty array drops the override. */
        memcpy(x->cfg->tiers, tiers, sizeof(tiers));
        x->cfg->n_tiers = (int) n;
        return 0;
}

static int apply_root(Ctx *x, json_object *root) {
        json_object *classes;
        int r;

        if (!json_object_is_type(root, json_type_object))
                return fail(x, NULL, "expected a JSON object at the top level");
        if (x->cfg->n_files >= (int) ELEMENTSOF(x->cfg->files))
                return fail(x, NULL, "too many configuration files (at most %zu)", ELEMENTSOF(x->cfg->files));

        /* Classes first, wherever they are in the file: the other sections
         * may refer to classes this file defines. */
        if (json_object_object_get_ex(root, "classes", &classes)) {
                r = apply_classes(x, classes);
                if (r < 0)
                        return r;
        }
        json_object_object_foreach(root, key, v) {
                if (strcmp(key, "classes") == 0)
                        continue;
                if (strcmp(key, "comment") == 0)
                        r = expect_type(x, key, v, json_type_string);
                else if (strcmp(key, "default") == 0)
                        r = apply_policy_object(x, "default", v, &x->cfg->defaults);
                else if (strcmp(key, "rules") == 0)
                        r = apply_rules(x, v);
                else if (strcmp(key, "scanner") == 0)
                        r = apply_scanner(x, v);
                else if (strcmp(key, "mover") == 0)
                        r = apply_mover(x, v);
                else if (strcmp(key, "migration_budget") == 0)
                        r = apply_budget(x, v);
                else if (strcmp(key, "control") == 0)
                        r = apply_control(x, v);
                else if (strcmp(key, "metrics") == 0)
                        r = apply_metrics(x, v);
                else if (strcmp(key, "tiers") == 0)
                        r = apply_tiers(x, v);
                else if (strcmp(key, "pods") == 0)
                        r = apply_pods(x, v);
                else {
                        _cleanup_free_ char *kp = path_key("", key);

                        r = kp ? fail(x, kp, "unknown key") : -ENOMEM;
                }
                if (r < 0)
                        return r;
        }

        snprintf(x->cfg->files[x->cfg->n_files++], sizeof(x->cfg->files[0]), "%s", x->file);
        return 0;
}

static unsigned line_of(const char *text, size_t offset) {
        unsigned line = 1;

        for (size_t i = 0; i < offset && text[i]; i++)
                line += text[i] == '\n';
        return line;
}

static int parse_json(Ctx *x, const char *text, json_object **ret) {
        json_tokener *tok;
        json_object *o;
        enum json_tokener_error e;
        size_t len = strlen(text), end;

        if (len >= INT32_MAX)
                return fail(x, NULL, "file too large");
        tok = json_tokener_new();
        if (!tok)
                return -ENOMEM;
        json_tokener_set_flags(tok, JSON_TOKENER_STRICT | JSON_TOKENER_VALIDATE_UTF8);
        /* The length includes the NUL: this is all the input there is. */
        o = json_tokener_parse_ex(tok, text, (int) len + 1);
        e = json_tokener_get_error(tok);
        end = json_tokener_get_parse_end(tok);
        json_tokener_free(tok);
        if (!o || e != json_tokener_success) {
                _cleanup_free_ char *where = NULL;

                json_object_put(o);
                if (asprintf(&where, "line %u", line_of(text, end)) < 0)
                        return -ENOMEM;
                return fail(x, where, "JSON syntax error: %s", json_tokener_error_desc(e));
        }
        *ret = o;
        return 0;
}

int config_apply_json(Config *cfg, const char *name, const char *text, char **ret_error) {
        _cleanup_(config_freep) Config *work = NULL;
        json_object *root = NULL;
        Ctx x = { .file = name };
        int r;

        /* Apply into a copy and swap on success: a bad file changes nothing. */
        work = malloc(sizeof(*work));
        if (!work)
                return -ENOMEM;
        memcpy(work, cfg, sizeof(*work));
        x.cfg = work;

        r = parse_json(&x, text, &root);
        if (r >= 0) {
                r = apply_root(&x, root);
                json_object_put(root);
        }
        if (r < 0) {
                if (ret_error)
                        *ret_error = TAKE_PTR(x.error);
                free(x.error);
                return r;
        }
        memcpy(cfg, work, sizeof(*cfg));
        return 0;
}

/* ---- files ------------------------------------------------------------ */

/* tierd runs as root and moves other programs' memory: whoever can write
 * its configuration can take fast memory from every other tenant. */
static int check_stat_safety(const char *name, const struct stat *st, char **ret_error) {
        const char *what = S_ISDIR(st->st_mode) ? "directory" : "file";
        const char *why = "tierd runs as root and moves other programs' memory, so only root may change its "
                          "configuration";
        unsigned mode = (unsigned) (st->st_mode & 07777);

        if (st->st_mode & (S_IWGRP | S_IWOTH)) {
                const char *who = (st->st_mode & S_IWGRP) && (st->st_mode & S_IWOTH) ? "group and others" :
                                  (st->st_mode & S_IWGRP) ? "group" : "others";

                if (set_error_message(ret_error, 0, "%s: refusing a %s writable by %s (mode %04o); %s", name, what, who, mode,
                              why) < 0)
                        return -ENOMEM;
                return -EPERM;
        }
        /* The owner must be root; a file of our own user is fine too, so
         * unprivileged runs and tests can check their own files. */
        if (st->st_uid != 0 && st->st_uid != geteuid()) {
                if (set_error_message(ret_error, 0, "%s: refusing a %s owned by uid %u, not root (mode %04o); %s", name, what,
                              (unsigned) st->st_uid, mode, why) < 0)
                        return -ENOMEM;
                return -EPERM;
        }
        return 0;
}

int config_check_file_safety(const char *path, char **ret_error) {
        struct stat st;

        if (stat(path, &st) < 0) {
                int r = -errno;

                if (set_error_message(ret_error, 0, "%s: cannot stat: %s", path, strerror(-r)) < 0)
                        return -ENOMEM;
                return r;
        }
        return check_stat_safety(path, &st, ret_error);
}

/* One directory on the way to a configuration file (see config_load()):
 * PATH resolved, no symbolic link in it. */
static int check_dir(const char *name, const char *path, char **ret_error) {
        const char *why = "whoever can write it can remove or replace tierd's configuration; tierd runs as root and "
                          "moves other programs' memory, so only root may change its configuration";
        struct statvfs sv;
        struct stat st;
        unsigned mode;

        if (stat(path, &st) < 0)
                return errno == ENOENT ? 0 : -errno; /* gone meanwhile: its parent decides */
        if (statvfs(path, &sv) == 0 && (sv.f_flag & ST_RDONLY))
                return 0; /* nobody writes a read-only mount */
        mode = (unsigned) (st.st_mode & 07777);
        if (st.st_uid != 0 && st.st_uid != geteuid()) {
                if (set_error_message(ret_error, 0, "%s: refusing the directory %s, owned by uid %u, not root (mode %04o); %s", name,
                              path, (unsigned) st.st_uid, mode, why) < 0)
                        return -ENOMEM;
                return -EPERM;
        }
        if ((st.st_mode & (S_IWGRP | S_IWOTH)) && !((st.st_mode & S_ISVTX) && st.st_uid == 0)) {
                const char *who = (st.st_mode & S_IWGRP) && (st.st_mode & S_IWOTH) ? "group and others" :
                                  (st.st_mode & S_IWGRP) ? "group" : "others";

                if (set_error_message(ret_error, 0, "%s: refusing the directory %s, writable by %s (mode %04o); %s", name, path,
                              who, mode, why) < 0)
                        return -ENOMEM;
                return -EPERM;
        }
        return 0;
}

/* check_dir() of DIR (resolved; a part that does not exist is skipped,
 * its parent is checked) and of each directory above it. */
static int check_dir_chain(const char *name, const char *dir, char **ret_error) {
        _cleanup_free_ char *cur = strdup(dir), *real = NULL;
        int r;

        if (!cur)
                return -ENOMEM;
        for (;;) {
                char *slash;

                real = realpath(cur, NULL);
                if (real)
                        break;
                if (errno != ENOENT && errno != ENOTDIR)
                        return -errno;
                slash = strrchr(cur, '/');
                if (!slash)
                        return check_dir_chain(name, ".", ret_error);
                if (slash == cur) {
                        real = strdup("/");
                        if (!real)
                                return -ENOMEM;
                        break;
                }
                *slash = '\0';
        }
        for (;;) {
                char *slash;

                r = check_dir(name, real, ret_error);
                if (r < 0)
                        return r;
                slash = strrchr(real, '/');
                if (!slash || strcmp(real, "/") == 0)
                        return 0;
                if (slash == real)
                        slash[1] = '\0';
                else
                        *slash = '\0';
        }
}

/* The directories of PATH as given and as its symbolic links resolve. */
static int check_file_dirs(const char *name, const char *path, char **ret_error) {
        _cleanup_free_ char *dir = NULL, *real = NULL;
        const char *slash = strrchr(path, '/');
        int r;

        dir = slash ? strndup(path, slash == path ? 1 : (size_t) (slash - path)) : strdup(".");
        if (!dir)
                return -ENOMEM;
        r = check_dir_chain(name, dir, ret_error);
        if (r < 0)
                return r;
        real = realpath(path, NULL);
        if (!real)
                return errno == ENOMEM ? -ENOMEM : 0; /* absent: nothing resolves */
        slash = strrchr(real, '/');
        if (slash && slash != real) {
                *(char *) slash = '\0';
                return check_dir_chain(name, real, ret_error);
        }
        return 0;
}

/* Reads and applies one file, PATH relative to DIR_FD. Returns 0 when
 * applied, 1 when absent and OPTIONAL. Safety is checked on the opened
 * file (fstat), not the name. */
static int load_file(Config *cfg, int dir_fd, const char *path, const char *name, bool optional, char **ret_error) {
        _cleanup_close_ int fd = -1;
        _cleanup_free_ char *text = NULL;
        struct stat st;
        size_t size = 0;
        int r;

        fd = openat(dir_fd, path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
        if (fd < 0) {
                r = -errno;
                if (r == -ENOENT && optional)
                        return 1;
                if (set_error_message(ret_error, 0, "%s: cannot open: %s", name, strerror(-r)) < 0)
                        return -ENOMEM;
                return r;
        }
        if (fstat(fd, &st) < 0) {
                r = -errno;
                if (set_error_message(ret_error, 0, "%s: cannot stat: %s", name, strerror(-r)) < 0)
                        return -ENOMEM;
                return r;
        }
        if (!S_ISREG(st.st_mode)) {
                if (set_error_message(ret_error, 0, "%s: not a regular file", name) < 0)
                        return -ENOMEM;
                return -EINVAL;
        }
        r = check_stat_safety(name, &st, ret_error);
        if (r < 0)
                return r;
        r = read_full_fd(fd, MAX_FILE_SIZE, &text, &size);
        if (r == -EFBIG) {
                if (set_error_message(ret_error, 0, "%s: file too large (more than %u bytes)", name, MAX_FILE_SIZE) < 0)
                        return -ENOMEM;
                return r;
        }
        if (r < 0) {
                if (set_error_message(ret_error, 0, "%s: cannot read: %s", name, strerror(-r)) < 0)
                        return -ENOMEM;
                return r;
        }
        if (strlen(text) != size) {
                if (set_error_message(ret_error, 0, "%s: line %u: JSON syntax error: a NUL byte", name,
                              line_of(text, strlen(text))) < 0)
                        return -ENOMEM;
                return -EINVAL;
        }
        return config_apply_json(cfg, name, text, ret_error);
}

static int compare_names(const void *a, const void *b) {
        return strcmp(*(char *const *) a, *(char *const *) b);
}

static void closedirp(DIR **d) {
        if (*d)
                closedir(*d);
}

static void free_names(char ***names) {
        if (!*names)
                return;
        for (char **n = *names; *n; n++)
                free(*n);
        free(*names);
}

/* The *.json names in D, sorted bytewise; hidden files are skipped. */
static int list_dropins(DIR *d, char ***ret) {
        _cleanup_(free_names) char **names = NULL;
        size_t n = 0, alloc = 0;
        struct dirent *de;

        for (;;) {
                size_t len;

                errno = 0;
                de = readdir(d);
                if (!de) {
                        if (errno)
                                return -errno;
                        break;
                }
                len = strlen(de->d_name);
                if (de->d_name[0] == '.' || len < 5 || strcmp(de->d_name + len - 5, ".json") != 0)
                        continue;
                if (n + 2 > alloc) {
                        char **nn;

                        alloc = alloc ? alloc * 2 : 16;
                        nn = realloc(names, alloc * sizeof(char *));
                        if (!nn)
                                return -ENOMEM;
                        names = nn;
                }
                names[n] = strdup(de->d_name);
                if (!names[n])
                        return -ENOMEM;
                names[++n] = NULL;
        }
        if (!names) {
                names = calloc(1, sizeof(char *));
                if (!names)
                        return -ENOMEM;
        }
        qsort_safe(names, n, sizeof(char *), compare_names);
        *ret = TAKE_PTR(names);
        return 0;
}

/* The directories above the drop-in directory DROPIN_DIR (itself is
 * checked on its opened fd). */
static int check_dropin_parents(const char *prefix, const char *dropin_dir, char **ret_error) {
        _cleanup_free_ char *parent = strdup(dropin_dir);
        char *ps = parent ? strrchr(parent, '/') : NULL;

        if (!parent)
                return -ENOMEM;
        if (!ps) {
                free(parent);
                parent = strdup(".");
                if (!parent)
                        return -ENOMEM;
        } else
                ps[ps == parent ? 1 : 0] = '\0';
        return check_dir_chain(prefix, parent, ret_error);
}

static int load(const char *path, const char *dropin_dir, bool main_required, Config **ret, char **ret_error) {
        _cleanup_(config_freep) Config *cfg = NULL;
        _cleanup_free_ char *dir = NULL, *default_dropins = NULL;
        _cleanup_(free_names) char **names = NULL;
        _cleanup_(closedirp) DIR *d = NULL;
        const char *slash = strrchr(path, '/'), *base, *prefix;
        struct stat st;
        int r;

        if (ret_error)
                *ret_error = NULL;
        if (slash) {
                dir = strndup(path, slash == path ? 1 : (size_t) (slash - path));
                base = slash + 1;
        } else {
                dir = strdup(".");
                base = path;
        }
        if (!dir)
                return -ENOMEM;

        r = config_new_default(&cfg);
        if (r < 0)
                return r;
        r = check_file_dirs(base, path, ret_error);
        if (r < 0)
                return r;
        r = load_file(cfg, AT_FDCWD, path, base, !main_required, ret_error);
        if (r == -ENOENT && main_required && ret_error) {
                free(*ret_error);
                *ret_error = NULL;
                if (set_error_message(ret_error, 0, "%s: cannot open: %s; the running configuration was loaded from it, and "
                              "tierd does not fall back to the built-in defaults on a reload", base,
                              strerror(ENOENT)) < 0)
                        return -ENOMEM;
                return r;
        }
        if (r < 0)
                return r;
        cfg->main_file = r == 0;

        /* Drop-ins are named relative to the main file's directory. */
        if (!dropin_dir) {
                if (asprintf(&default_dropins, "%s/tierd.d", dir) < 0)
                        return -ENOMEM;
                dropin_dir = default_dropins;
                prefix = "tierd.d";
        } else {
                size_t dl = strlen(dir);

                if (strncmp(dropin_dir, dir, dl) == 0 && dropin_dir[dl] == '/' && strcmp(dir, "/") != 0)
                        prefix = dropin_dir + dl + 1;
                else
                        prefix = dropin_dir;
        }

        r = check_dropin_parents(prefix, dropin_dir, ret_error);
        if (r < 0)
                return r;
        d = opendir(dropin_dir);
        if (!d) {
                r = -errno;
                if (r == -ENOENT) {
                        *ret = TAKE_PTR(cfg);
                        return 0;
                }
                if (set_error_message(ret_error, 0, "%s: cannot open: %s", prefix, strerror(-r)) < 0)
                        return -ENOMEM;
                return r;
        }
        /* A directory others can write to lets them add drop-ins. */
        if (fstat(dirfd(d), &st) < 0)
                return -errno;
        r = check_stat_safety(prefix, &st, ret_error);
        if (r < 0)
                return r;
        r = list_dropins(d, &names);
        if (r < 0) {
                if (r != -ENOMEM && set_error_message(ret_error, 0, "%s: cannot read: %s", prefix, strerror(-r)) < 0)
                        return -ENOMEM;
                return r;
        }
        for (char **n = names; *n; n++) {
                _cleanup_free_ char *name = NULL;

                if (asprintf(&name, "%s/%s", prefix, *n) < 0)
                        return -ENOMEM;
                /* by name in the directory checked above, not by path: a
                 * directory swapped in meanwhile is not read */
                r = load_file(cfg, dirfd(d), *n, name, false, ret_error);
                if (r < 0)
                        return r;
        }
        *ret = TAKE_PTR(cfg);
        return 0;
}

int config_load(const char *path, const char *dropin_dir, Config **ret, char **ret_error) {
        return load(path, dropin_dir, false, ret, ret_error);
}

int config_reload(const Config *running, const char *path, const char *dropin_dir, Config **ret, char **ret_error) {
        return load(path, dropin_dir, running && running->main_file, ret, ret_error);
}

/* ---- reporting -------------------------------------------------------- */

static int add_to_json(const char *key, const char *value, void *userdata) {
        json_object_object_add(userdata, key, json_object_new_string(value));
        return 0;
}

static json_object *spec_to_json(json_object *o, const PolicySpec *spec) {
        policy_spec_foreach(spec, add_to_json, o);
        return o;
}

json_object *config_to_json(const Config *c) {
        json_object *o = json_object_new_object(), *a, *x;
        char buf[32];

        a = json_object_new_array();
        for (int i = 0; i < c->n_files; i++)
                json_object_array_add(a, json_object_new_string(c->files[i]));
        json_object_object_add(o, "files", a);

        a = json_object_new_array();
        for (int i = 0; i < c->n_classes; i++) {
                x = json_object_new_object();
                json_object_object_add(x, "name", json_object_new_string(c->classes[i].name));
                json_object_object_add(x, "weight", json_object_new_int64(c->classes[i].weight));
                spec_to_json(x, &c->classes[i].defaults);
                json_object_object_add(x, "origin", json_object_new_string(c->classes[i].origin));
                json_object_array_add(a, x);
        }
        json_object_object_add(o, "classes", a);

        json_object_object_add(o, "default", spec_to_json(json_object_new_object(), &c->defaults));

        a = json_object_new_array();
        for (int i = 0; i < c->n_rules; i++) {
                x = json_object_new_object();
                json_object_object_add(x, "match", json_object_new_string(c->rules[i].match));
                json_object_object_add(x, "policy", spec_to_json(json_object_new_object(), &c->rules[i].policy));
                json_object_object_add(x, "origin", json_object_new_string(c->rules[i].origin));
                json_object_array_add(a, x);
        }
        json_object_object_add(o, "rules", a);

        x = json_object_new_object();
        json_object_object_add(x, "backend", json_object_new_string(c->scanner.backend));
        json_object_object_add(x, "period", json_object_new_string(format_duration(c->scanner.period_ms, buf, sizeof(buf))));
        json_object_object_add(x, "cpu_budget",
                               json_object_new_string(format_permille(c->scanner.cpu_budget_permille, buf, sizeof(buf))));
        json_object_object_add(o, "scanner", x);

        x = json_object_new_object();
        json_object_object_add(x, "backend", json_object_new_string(c->mover.backend));
        json_object_object_add(x, "batch_pages", json_object_new_int64(c->mover.batch_pages));
        json_object_object_add(x, "hysteresis",
                               json_object_new_string(format_duration(c->mover.hysteresis_ms, buf, sizeof(buf))));
        json_object_object_add(o, "mover", x);

        x = json_object_new_object();
        json_object_object_add(x, "socket", json_object_new_string(c->control.socket));
        json_object_object_add(x, "read_group", json_object_new_string(c->control.read_group));
        json_object_object_add(o, "control", x);

        x = json_object_new_object();
        json_object_object_add(x, "listen", json_object_new_string(c->metrics.listen));
        json_object_object_add(o, "metrics", x);

        x = json_object_new_object();
        json_object_object_add(x, "rate", json_object_new_string(quantity_to_string(&c->budget_rate, buf, sizeof(buf))));
        json_object_object_add(x, "burst", json_object_new_string(quantity_to_string(&c->budget_burst, buf, sizeof(buf))));
        json_object_object_add(o, "migration_budget", x);

        a = json_object_new_array();
        for (int t = 0; t < c->n_tiers; t++) {
                x = json_object_new_array();
                for (int n = 0; n < 64; n++)
                        if (c->tiers[t] & (UINT64_C(1) << n))
                                json_object_array_add(x, json_object_new_int(n));
                json_object_array_add(a, x);
        }
        json_object_object_add(o, "tiers", a);

        a = json_object_new_array();
        for (int i = 0; i < c->n_pod_grants; i++) {
                const ConfigPodGrant *g = &c->pod_grants[i];
                json_object *l;

                x = json_object_new_object();
                l = json_object_new_array();
                for (int k = 0; k < g->n_namespaces; k++)
                        json_object_array_add(l, json_object_new_string(g->namespaces[k]));
                json_object_object_add(x, "namespaces", l);
                l = json_object_new_array();
                for (int k = 0; k < c->n_classes; k++)
                        if (g->classes & (UINT32_C(1) << k))
                                json_object_array_add(l, json_object_new_string(c->classes[k].name));
                json_object_object_add(x, "classes", l);
                l = json_object_new_array();
                for (int f = 1; f < POD_FIELDS; f++)
                        if (g->fields & (UINT32_C(1) << f))
                                json_object_array_add(l, json_object_new_string(pod_field_name(f, buf, sizeof(buf))));
                json_object_object_add(x, "keys", l);
                json_object_object_add(x, "origin", json_object_new_string(g->origin));
                json_object_array_add(a, x);
        }
        x = json_object_new_object();
        json_object_object_add(x, "grants", a);
        json_object_object_add(o, "pods", x);
        return o;
}
