/* SPDX-License-Identifier: MIT */
/* The Prometheus endpoint (agent/metrics.c): metrics_render() parsed back
 * line by line (every sample under a HELP and TYPE of its family, families
 * contiguous, values and escaped labels as built), and the server on a
 * loopback port with an ephemeral number: 503 before the first publish,
 * 200 with the rendered body after, 404/405, bad listen strings, a port in
 * use, and publishes racing scrapes. */
#include <arpa/inet.h>
#include <check.h>
#include <errno.h>
#include <math.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdint.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include "unit.h"

#include "metrics.h"
#include "util.h"

#define GIB (UINT64_C(1) << 30)

/* ---- a small parser of the text format ---- */

typedef struct Sample {
        char name[128];
        char labels[512];       /* k=v,k=v with the values unescaped */
        double value;
} Sample;

typedef struct Family {
        char name[128];
        char type[16];
        bool help;
        bool closed;            /* another family started after it */
} Family;

typedef struct Exposition {
        Sample samples[256];
        size_t n_samples;
        Family families[64];
        size_t n_families;
} Exposition;

static Family *family_find(Exposition *e, const char *name) {
        for (size_t i = 0; i < e->n_families; i++)
                if (strcmp(e->families[i].name, name) == 0)
                        return &e->families[i];
        return NULL;
}

static bool name_ok(const char *s, size_t n) {
        if (n == 0 || !(s[0] == '_' || (s[0] >= 'a' && s[0] <= 'z') || (s[0] >= 'A' && s[0] <= 'Z')))
                return false;
        for (size_t i = 1; i < n; i++)
                if (!(s[i] == '_' || (s[i] >= 'a' && s[i] <= 'z') || (s[i] >= 'A' && s[i] <= 'Z') ||
                      (s[i] >= '0' && s[i] <= '9')))
                        return false;
        return true;
}

/* The current family ends when another begins; a family seen again later
 * would be split, which the format forbids. */
static Family *family_open(Exposition *e, const char *name) {
        Family *f = family_find(e, name);

        for (size_t i = 0; i < e->n_families; i++)
                if (&e->families[i] != f)
                        e->families[i].closed = true;
        if (f) {
                ck_assert_msg(!f->closed, "family %s is split into two blocks", name);
                return f;
        }
        ck_assert_uint_lt(e->n_families, ELEMENTSOF(e->families));
        f = &e->families[e->n_families++];
        memset(f, 0, sizeof(*f));
        snprintf(f->name, sizeof(f->name), "%s", name);
        return f;
}

static void parse_sample(Exposition *e, const char *line) {
        Sample *s;
        const char *p = line;
        size_t n = strcspn(p, "{ ");
        char *end;

        ck_assert_uint_lt(e->n_samples, ELEMENTSOF(e->samples));
        s = &e->samples[e->n_samples++];
        memset(s, 0, sizeof(*s));
        ck_assert_msg(name_ok(p, n) && n < sizeof(s->name), "bad metric name in: %s", line);
        memcpy(s->name, p, n);
        p += n;
        if (*p == '{') {
                size_t o = 0;

                p++;
                while (*p != '}') {
                        size_t k = strcspn(p, "=");
                        ck_assert_msg(name_ok(p, k) && p[k] == '=' && p[k + 1] == '"', "bad label in: %s", line);
                        if (o > 0)
                                s->labels[o++] = ',';
                        ck_assert_uint_lt(o + k + 2, sizeof(s->labels));
                        memcpy(s->labels + o, p, k + 1);
                        o += k + 1;
                        p += k + 2;
                        for (; *p != '"'; p++) {
                                char c = *p;
                                ck_assert_msg(c != '\0', "unterminated label value in: %s", line);
                                if (c == '\\') {
                                        p++;
                                        ck_assert_msg(*p == '\\' || *p == '"' || *p == 'n', "bad escape in: %s", line);
                                        c = *p == 'n' ? '\n' : *p;
                                }
                                ck_assert_uint_lt(o + 1, sizeof(s->labels));
                                s->labels[o++] = c;
                        }
                        p++;
                        ck_assert_msg(*p == ',' || *p == '}', "bad label separator in: %s", line);
                        if (*p == ',')
                                p++;
                }
                p++;
        }
        ck_assert_msg(*p == ' ', "no value in: %s", line);
        errno = 0;
        s->value = strtod(p + 1, &end);
        ck_assert_msg(errno == 0 && end != p + 1 && *end == '\0', "bad value (or a timestamp) in: %s", line);

        Family *f = family_find(e, s->name);
        ck_assert_msg(f && f->help && f->type[0], "sample %s without HELP and TYPE before it", s->name);
        family_open(e, s->name);
}

static void parse_exposition(const char *text, Exposition *e) {
        _cleanup_free_ char *copy = strdup(text);
        char *save = NULL;

        memset(e, 0, sizeof(*e));
        ck_assert_ptr_nonnull(copy);
        ck_assert_msg(*text && text[strlen(text) - 1] == '\n', "exposition does not end with a newline");
        for (char *line = strtok_r(copy, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
                char name[128], rest[256];

                if (strncmp(line, "# HELP ", 7) == 0) {
                        ck_assert_int_eq(sscanf(line + 7, "%127s %255[^\n]", name, rest), 2);
                        Family *f = family_open(e, name);
                        ck_assert_msg(!f->help, "second HELP for %s", name);
                        f->help = true;
                } else if (strncmp(line, "# TYPE ", 7) == 0) {
                        ck_assert_int_eq(sscanf(line + 7, "%127s %255s", name, rest), 2);
                        Family *f = family_open(e, name);
                        ck_assert_msg(!f->type[0], "second TYPE for %s", name);
                        ck_assert_msg(strcmp(rest, "gauge") == 0 || strcmp(rest, "counter") == 0, "type %s", rest);
                        memcpy(f->type, rest, strlen(rest) + 1); /* gauge or counter: fits */
                } else {
                        ck_assert_msg(line[0] != '#', "unexpected comment: %s", line);
                        parse_sample(e, line);
                }
        }
}

static const Sample *sample_find(const Exposition *e, const char *name, const char *labels) {
        for (size_t i = 0; i < e->n_samples; i++)
                if (strcmp(e->samples[i].name, name) == 0 && strcmp(e->samples[i].labels, labels) == 0)
                        return &e->samples[i];
        return NULL;
}

static size_t samples_named(const Exposition *e, const char *name) {
        size_t n = 0;

        for (size_t i = 0; i < e->n_samples; i++)
                n += strcmp(e->samples[i].name, name) == 0;
        return n;
}

#define assert_sample(e, name, labels, want)                                                               \
        do {                                                                                               \
                const Sample *_s = sample_find((e), (name), (labels));                                     \
                ck_assert_msg(_s, "no sample %s{%s}", (name), (labels));                                   \
                ck_assert_msg(_s->value == (double) (want), "%s{%s} = %.17g, want %.17g", (name), (labels), \
                              _s->value, (double) (want));                                                 \
        } while (0)

/* ---- the snapshot the tests render ---- */

#define CG_QUOTED "web.slice/a\"b\\c"
/* Samples of build_snapshot(): 8 global, 3 x 2 tiers, 2 tenants x 16
 * (info, 2 tier bytes, 4 tier bytes by type, held unscanned, hot, cold, 2
 * planned, 2 migrated, failed, errors) and the tenants' 2 limits (one max,
 * one low); no coverage families (the snapshot has no heat model). */
#define SNAPSHOT_SAMPLES (8 + 3 * 2 + 2 * 16 + 2)

static void build_snapshot(StatusSnapshot *s, uint64_t bump) {
        memset(s, 0, sizeof(*s));
        snprintf(s->version, sizeof(s->version), "0.1.0");
        snprintf(s->scanner, sizeof(s->scanner), "damon");
        snprintf(s->mover, sizeof(s->mover), "move_pages");
        s->period_ms = 2500;
        s->periods_total = 41 + bump;
        s->started_realtime_s = 1700000000;
        s->scan_cpu_seconds_total = 1.25;
        s->last_scan_ms = 12.5;
        s->reloads_total = 3;
        s->reload_failures_total = 1;
        s->n_tiers = 2;
        s->tiers[0] = (StatusTier) { .index = 0, .nodes = "0", .capacity = 16 * GIB, .free = 5 * GIB, .headroom = GIB };
        s->tiers[1] = (StatusTier) { .index = 1, .nodes = "1-2", .capacity = 64 * GIB, .free = 60 * GIB, .headroom = 0 };
        s->n_tenants = 2;
        s->tenants = calloc(2, sizeof(StatusTenant));
        ck_assert_ptr_nonnull(s->tenants);

        StatusTenant *a = &s->tenants[0], *b = &s->tenants[1];
        a->cgroup = strdup(CG_QUOTED);
        snprintf(a->class_name, sizeof(a->class_name), "latency");
        snprintf(a->mode, sizeof(a->mode), "enforce");
        a->tier_max[0] = 4 * GIB;
        a->tier_max[1] = UINT64_MAX;
        a->tier_low[0] = GIB;
        a->tier_bytes[0] = 3 * GIB;
        a->tier_bytes[1] = 123456789;
        a->hot_bytes = 2 * GIB;
        a->cold_bytes = GIB + 123456789;
        a->planned_promote = 4096;
        a->planned_demote = 8192;
        a->promoted_total = 1000 * 4096 + bump;
        a->demoted_total = 2000 * 4096;
        a->failed_total = 12288;
        a->errors_total = 2;

        b->cgroup = strdup("batch.slice/job\nx");
        snprintf(b->class_name, sizeof(b->class_name), "batch");
        snprintf(b->mode, sizeof(b->mode), "observe");
        for (int t = 0; t < STATUS_MAX_TIERS; t++)
                b->tier_max[t] = UINT64_MAX;
        b->tier_bytes[0] = UINT64_C(1) << 52; /* exact in a double */
        b->tier_bytes[1] = 7;
        b->cold_bytes = 99;
        ck_assert_ptr_nonnull(a->cgroup);
        ck_assert_ptr_nonnull(b->cgroup);
}

static char *render_string(const StatusSnapshot *s) {
        char *buf = NULL;
        size_t size = 0;
        FILE *f = open_memstream(&buf, &size);

        ck_assert_ptr_nonnull(f);
        ck_assert_int_eq(metrics_render(s, f), 0);
        ck_assert_int_eq(fclose(f), 0);
        return buf;
}

START_TEST(test_render_parses_back_with_values) {
        StatusSnapshot s;
        _cleanup_free_ char *text = NULL;
        static Exposition e;

        build_snapshot(&s, 0);
        text = render_string(&s);
        parse_exposition(text, &e);

        /* counters end in _total, gauges do not */
        for (size_t i = 0; i < e.n_families; i++) {
                const Family *f = &e.families[i];
                size_t n = strlen(f->name);
                bool total = n > 6 && strcmp(f->name + n - 6, "_total") == 0;
                ck_assert_msg(strncmp(f->name, "tierd_", 6) == 0, "%s lacks the tierd_ prefix", f->name);
                ck_assert_msg(f->help && f->type[0], "%s lacks HELP or TYPE", f->name);
                ck_assert_msg(total == (strcmp(f->type, "counter") == 0), "%s is a %s", f->name, f->type);
        }

        assert_sample(&e, "tierd_build_info", "version=0.1.0,scanner=damon,mover=move_pages", 1);
        assert_sample(&e, "tierd_start_time_seconds", "", 1700000000);
        assert_sample(&e, "tierd_period_seconds", "", 2.5);
        assert_sample(&e, "tierd_periods_total", "", 41);
        assert_sample(&e, "tierd_reloads_total", "", 3);
        assert_sample(&e, "tierd_reload_failures_total", "", 1);
        assert_sample(&e, "tierd_scan_cpu_seconds_total", "backend=damon", 1.25);
        assert_sample(&e, "tierd_last_scan_duration_seconds", "", 0.0125);

        assert_sample(&e, "tierd_tier_capacity_bytes", "tier=0,nodes=0", 16 * GIB);
        assert_sample(&e, "tierd_tier_capacity_bytes", "tier=1,nodes=1-2", 64 * GIB);
        assert_sample(&e, "tierd_tier_free_bytes", "tier=0", 5 * GIB);
        assert_sample(&e, "tierd_tier_free_bytes", "tier=1", 60 * GIB);
        assert_sample(&e, "tierd_tier_headroom_bytes", "tier=0", GIB);
        assert_sample(&e, "tierd_tier_headroom_bytes", "tier=1", 0);

        /* the cgroup with '"' and '\\' and the one with a newline come back intact */
        assert_sample(&e, "tierd_tenant_info", "cgroup=" CG_QUOTED ",class=latency,mode=enforce", 1);
        assert_sample(&e, "tierd_tenant_info", "cgroup=batch.slice/job\nx,class=batch,mode=observe", 1);
        assert_sample(&e, "tierd_tenant_tier_bytes", "cgroup=" CG_QUOTED ",tier=0", 3 * GIB);
        assert_sample(&e, "tierd_tenant_tier_bytes", "cgroup=" CG_QUOTED ",tier=1", 123456789);
        assert_sample(&e, "tierd_tenant_tier_bytes", "cgroup=batch.slice/job\nx,tier=0", UINT64_C(1) << 52);
        assert_sample(&e, "tierd_tenant_tier_bytes", "cgroup=batch.slice/job\nx,tier=1", 7);
        assert_sample(&e, "tierd_tenant_hot_bytes", "cgroup=" CG_QUOTED, 2 * GIB);
        assert_sample(&e, "tierd_tenant_cold_bytes", "cgroup=" CG_QUOTED, GIB + 123456789);
        assert_sample(&e, "tierd_tenant_hot_bytes", "cgroup=batch.slice/job\nx", 0);
        assert_sample(&e, "tierd_tenant_cold_bytes", "cgroup=batch.slice/job\nx", 99);
        /* limits: only the set ones */
        assert_sample(&e, "tierd_tenant_tier_max_bytes", "cgroup=" CG_QUOTED ",tier=0", 4 * GIB);
        ck_assert_uint_eq(samples_named(&e, "tierd_tenant_tier_max_bytes"), 1);
        assert_sample(&e, "tierd_tenant_tier_low_bytes", "cgroup=" CG_QUOTED ",tier=0", GIB);
        ck_assert_uint_eq(samples_named(&e, "tierd_tenant_tier_low_bytes"), 1);
        assert_sample(&e, "tierd_tenant_planned_bytes", "cgroup=" CG_QUOTED ",direction=promote", 4096);
        assert_sample(&e, "tierd_tenant_planned_bytes", "cgroup=" CG_QUOTED ",direction=demote", 8192);
        assert_sample(&e, "tierd_migrated_bytes_total", "cgroup=" CG_QUOTED ",direction=promote,mover=move_pages",
                      1000 * 4096);
        assert_sample(&e, "tierd_migrated_bytes_total", "cgroup=" CG_QUOTED ",direction=demote,mover=move_pages",
                      2000 * 4096);
        assert_sample(&e, "tierd_migrated_bytes_total", "cgroup=batch.slice/job\nx,direction=demote,mover=move_pages", 0);
        assert_sample(&e, "tierd_migration_failed_bytes_total", "cgroup=" CG_QUOTED ",mover=move_pages", 12288);
        assert_sample(&e, "tierd_migration_errors_total", "cgroup=" CG_QUOTED ",mover=move_pages", 2);

        assert_sample(&e, "tierd_tenant_tier_type_bytes", "cgroup=" CG_QUOTED ",tier=0,type=anon", 0);
        assert_sample(&e, "tierd_tenant_held_bytes", "cgroup=" CG_QUOTED ",direction=demote,reason=unscanned", 0);
        ck_assert_uint_eq(samples_named(&e, "tierd_tenant_classified_bytes"), 0);

        /* nothing more than the above */
        ck_assert_uint_eq(e.n_samples, SNAPSHOT_SAMPLES);

        /* the unmapped pages by heat, with a scanner that sweeps them */
        {
                _cleanup_free_ char *t2 = NULL;
                static Exposition e2;

                s.has_unmapped = true;
                s.tenants[0].tier_unmapped[0] = 10 * GIB;
                s.tenants[0].unmapped_hot[0] = 3 * GIB;
                s.tenants[0].unmapped_cold[0] = 5 * GIB;
                t2 = render_string(&s);
                parse_exposition(t2, &e2);
                assert_sample(&e2, "tierd_tenant_unmapped_bytes", "cgroup=" CG_QUOTED ",tier=0,heat=hot", 3 * GIB);
                assert_sample(&e2, "tierd_tenant_unmapped_bytes", "cgroup=" CG_QUOTED ",tier=0,heat=cold", 5 * GIB);
                assert_sample(&e2, "tierd_tenant_unmapped_bytes", "cgroup=" CG_QUOTED ",tier=0,heat=unclassified",
                              2 * GIB);
                ck_assert_uint_eq(samples_named(&e2, "tierd_tenant_unmapped_bytes"), 2 * 2 * 3);
                s.has_unmapped = false;
        }

        /* and the raw escaping itself */
        ck_assert_ptr_nonnull(strstr(text, "cgroup=\"web.slice/a\\\"b\\\\c\""));
        ck_assert_ptr_nonnull(strstr(text, "cgroup=\"batch.slice/job\\nx\""));
        status_snapshot_done(&s);
}
END_TEST

/* Whether TEXT is UTF-8 with no control byte but newline: what
 * Prometheus and a terminal can take. */
static bool printable_text(const char *text, const char **ret_bad) {
        for (const char *p = text; *p;) {
                size_t n = *p == '\n' ? 1 : utf8_printable_len(p);

                if (n == 0) {
                        *ret_bad = p;
                        return false;
                }
                p += n;
        }
        return true;
}

/* A delegated user names its cgroups: invalid UTF-8 made Prometheus
 * refuse every metric of the node, control bytes reached terminals. */
START_TEST(test_render_hostile_cgroup_names) {
        static const struct {
                const char *cgroup, *label;
        } cases[] = {
                { "u/pod\xff", "u/pod\\xff" },
                { "u/\x1b]0;owned\x07\x1b[2J", "u/\\x1b]0;owned\\x07\\x1b[2J" },
                { "u/over\xc0\xaflong", "u/over\\xc0\\xaflong" },
                { "u/sur\xed\xa0\x80", "u/sur\\xed\\xa0\\x80" },
                { "u/c1\xc2\x9b" "1m", "u/c1\\xc2\\x9b1m" },
                { "u/cut\xe2\x82", "u/cut\\xe2\\x82" },
                { "u/tab\there\x7f", "u/tab\\x09here\\x7f" },
                { "u/caf\xc3\xa9-\xe2\x82\xac", "u/caf\xc3\xa9-\xe2\x82\xac" }, /* valid: kept */
        };
        StatusSnapshot s = {};
        _cleanup_free_ char *text = NULL;
        static Exposition e;
        const char *bad = NULL;

        s.n_tenants = ELEMENTSOF(cases);
        s.tenants = calloc(s.n_tenants, sizeof(StatusTenant));
        ck_assert_ptr_nonnull(s.tenants);
        for (size_t i = 0; i < s.n_tenants; i++) {
                s.tenants[i].cgroup = strdup(cases[i].cgroup);
                ck_assert_ptr_nonnull(s.tenants[i].cgroup);
                snprintf(s.tenants[i].class_name, sizeof(s.tenants[i].class_name), "batch");
                snprintf(s.tenants[i].mode, sizeof(s.tenants[i].mode), "enforce");
                for (int t = 0; t < STATUS_MAX_TIERS; t++)
                        s.tenants[i].tier_max[t] = UINT64_MAX;
        }
        text = render_string(&s);
        ck_assert_msg(printable_text(text, &bad), "not printable UTF-8 at: %.40s", bad);
        parse_exposition(text, &e);
        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                char want[256];

                /* (the parser unescapes: the label holds \xHH as text) */
                snprintf(want, sizeof(want), "cgroup=%s,class=batch,mode=enforce", cases[i].label);
                assert_sample(&e, "tierd_tenant_info", want, 1);
        }
        ck_assert_uint_eq(samples_named(&e, "tierd_tenant_info"), ELEMENTSOF(cases));
        status_snapshot_done(&s);
}
END_TEST

START_TEST(test_render_pod_labels) {
        StatusSnapshot s = {};
        _cleanup_free_ char *text = NULL;
        static Exposition e;

        s.n_tenants = 2;
        s.tenants = calloc(s.n_tenants, sizeof(StatusTenant));
        ck_assert_ptr_nonnull(s.tenants);
        s.tenants[0].cgroup = strdup("kubepods.slice/kubepods-pod1.slice/cri-containerd-1.scope");
        snprintf(s.tenants[0].namespace_, sizeof(s.tenants[0].namespace_), "prod-eu");
        snprintf(s.tenants[0].pod, sizeof(s.tenants[0].pod), "shop-0");
        snprintf(s.tenants[0].container, sizeof(s.tenants[0].container), "web");
        s.tenants[1].cgroup = strdup("system.slice/db.service");
        for (size_t i = 0; i < s.n_tenants; i++) {
                ck_assert_ptr_nonnull(s.tenants[i].cgroup);
                snprintf(s.tenants[i].class_name, sizeof(s.tenants[i].class_name), "latency");
                snprintf(s.tenants[i].mode, sizeof(s.tenants[i].mode), "enforce");
                for (int t = 0; t < STATUS_MAX_TIERS; t++)
                        s.tenants[i].tier_max[t] = UINT64_MAX;
        }
        s.n_tiers = 1;
        s.tenants[0].tier_bytes[0] = 4096;
        text = render_string(&s);
        parse_exposition(text, &e);
        assert_sample(&e, "tierd_tenant_info",
                      "cgroup=kubepods.slice/kubepods-pod1.slice/cri-containerd-1.scope,namespace=prod-eu,pod=shop-0,"
                      "container=web,class=latency,mode=enforce", 1);
        assert_sample(&e, "tierd_tenant_tier_bytes",
                      "cgroup=kubepods.slice/kubepods-pod1.slice/cri-containerd-1.scope,namespace=prod-eu,pod=shop-0,"
                      "container=web,tier=0", 4096);
        /* no pod: no empty pod labels */
        assert_sample(&e, "tierd_tenant_info", "cgroup=system.slice/db.service,class=latency,mode=enforce", 1);
        status_snapshot_done(&s);
}
END_TEST

START_TEST(test_render_empty_snapshot) {
        StatusSnapshot s = {};
        _cleanup_free_ char *text = NULL;
        static Exposition e;

        text = render_string(&s);
        parse_exposition(text, &e);
        /* the families are announced, only the global ones have samples */
        ck_assert_ptr_nonnull(family_find(&e, "tierd_tenant_tier_bytes"));
        ck_assert_uint_eq(samples_named(&e, "tierd_tenant_tier_bytes"), 0);
        ck_assert_uint_eq(samples_named(&e, "tierd_tier_free_bytes"), 0);
        assert_sample(&e, "tierd_build_info", "version=,scanner=,mover=", 1);
        assert_sample(&e, "tierd_periods_total", "", 0);
        ck_assert_uint_eq(e.n_samples, 8);
}
END_TEST

START_TEST(test_render_special_doubles_and_write_error) {
        StatusSnapshot s = {};
        _cleanup_free_ char *text = NULL;
        static Exposition e;

        s.scan_cpu_seconds_total = NAN;
        s.last_scan_ms = INFINITY;
        text = render_string(&s);
        ck_assert_ptr_nonnull(strstr(text, "tierd_scan_cpu_seconds_total{backend=\"\"} NaN\n"));
        ck_assert_ptr_nonnull(strstr(text, "tierd_last_scan_duration_seconds +Inf\n"));
        parse_exposition(text, &e);

        /* a full disk is reported, not swallowed */
        FILE *f = fopen("/dev/full", "w");
        ck_assert_ptr_nonnull(f);
        ck_assert_int_eq(metrics_render(&s, f), -ENOSPC);
        fclose(f);
}
END_TEST

/* ---- HTTP over a plain socket ---- */

typedef struct Reply {
        int status;
        char *head;             /* status line and headers */
        char *body;
} Reply;

static void reply_done(Reply *r) {
        free(r->head);
        free(r->body);
}

static int connect_loopback(uint16_t port) {
        struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(port) };
        struct timeval tv = { .tv_sec = 10 };
        int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

        ck_assert_int_ge(fd, 0);
        a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        ck_assert_int_eq(setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)), 0);
        if (connect(fd, (struct sockaddr *) &a, sizeof(a)) < 0) {
                int r = -errno;
                close(fd);
                return r;
        }
        return fd;
}

/* METHOD PATH over HTTP/1.1 with Connection: close; the whole reply. */
static Reply http(uint16_t port, const char *method, const char *path) {
        char req[256], *raw = NULL, *sep;
        size_t size = 0;
        Reply r = {};
        int fd = connect_loopback(port);
        FILE *f;

        ck_assert_msg(fd >= 0, "connect to 127.0.0.1:%u: %s", port, strerror(-fd));
        snprintf(req, sizeof(req), "%s %s HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n%s\r\n", method, path,
                 strcmp(method, "POST") == 0 ? "Content-Length: 0\r\n" : "");
        ck_assert_int_eq(write(fd, req, strlen(req)), (ssize_t) strlen(req));
        f = open_memstream(&raw, &size);
        ck_assert_ptr_nonnull(f);
        for (;;) {
                char buf[4096];
                ssize_t n = read(fd, buf, sizeof(buf));
                ck_assert_msg(n >= 0, "read: %s", strerror(errno));
                if (n == 0)
                        break;
                fwrite(buf, 1, (size_t) n, f);
        }
        fclose(f);
        close(fd);
        ck_assert_int_eq(sscanf(raw, "HTTP/1.1 %d", &r.status), 1);
        sep = strstr(raw, "\r\n\r\n");
        ck_assert_ptr_nonnull(sep);
        r.head = strndup(raw, (size_t) (sep - raw + 2));
        r.body = strdup(sep + 4);
        free(raw);
        return r;
}

static bool has_header(const Reply *r, const char *line) {
        char want[256];

        snprintf(want, sizeof(want), "\r\n%s\r\n", line);
        return strcasestr(r->head, want) != NULL;
}

static MetricsServer *start_ok(const char *listen) {
        MetricsServer *m = NULL;
        char *error = NULL;
        int r = metrics_server_start(listen, &m, &error);

        ck_assert_msg(r == 0, "start %s: %d %s", listen, r, error ? error : "");
        ck_assert_ptr_null(error);
        ck_assert_ptr_nonnull(m);
        ck_assert_uint_ne(metrics_server_port(m), 0);
        return m;
}

START_TEST(test_server_503_then_200) {
        MetricsServer *m = start_ok("127.0.0.1:0");
        uint16_t port = metrics_server_port(m);
        StatusSnapshot s;
        _cleanup_free_ char *want = NULL;
        Reply r;

        r = http(port, "GET", "/metrics");
        ck_assert_int_eq(r.status, 503);
        reply_done(&r);

        build_snapshot(&s, 0);
        want = render_string(&s);
        ck_assert_int_eq(metrics_server_publish(m, &s), 0);
        /* the server holds a deep copy: the daemon's snapshot may go away */
        status_snapshot_done(&s);

        r = http(port, "GET", "/metrics");
        ck_assert_int_eq(r.status, 200);
        ck_assert_msg(has_header(&r, "Content-Type: text/plain; version=0.0.4; charset=utf-8"), "%s", r.head);
        ck_assert_str_eq(r.body, want);
        reply_done(&r);

        /* a second publish replaces it */
        build_snapshot(&s, 5);
        ck_assert_int_eq(metrics_server_publish(m, &s), 0);
        status_snapshot_done(&s);
        r = http(port, "GET", "/metrics");
        ck_assert_int_eq(r.status, 200);
        ck_assert_ptr_nonnull(strstr(r.body, "\ntierd_periods_total 46\n"));
        reply_done(&r);

        ck_assert_ptr_null(metrics_server_stop(m));
        /* the listening socket is gone with the server */
        int fd = connect_loopback(port);
        if (fd >= 0)
                close(fd);
        ck_assert_int_eq(fd, -ECONNREFUSED);
}
END_TEST

START_TEST(test_server_404_405) {
        MetricsServer *m = start_ok("127.0.0.1:0");
        uint16_t port = metrics_server_port(m);
        StatusSnapshot s;
        Reply r;

        build_snapshot(&s, 0);
        ck_assert_int_eq(metrics_server_publish(m, &s), 0);
        status_snapshot_done(&s);

        const char *paths[] = { "/", "/metrics/", "/metricsx", "/foo", "/metrics/../x" };
        for (size_t i = 0; i < ELEMENTSOF(paths); i++) {
                r = http(port, "GET", paths[i]);
                ck_assert_msg(r.status == 404, "GET %s: %d", paths[i], r.status);
                reply_done(&r);
        }
        const char *methods[] = { "POST", "PUT", "DELETE", "HEAD" };
        for (size_t i = 0; i < ELEMENTSOF(methods); i++) {
                r = http(port, methods[i], "/metrics");
                ck_assert_msg(r.status == 405, "%s /metrics: %d", methods[i], r.status);
                ck_assert_msg(has_header(&r, "Allow: GET"), "%s", r.head);
                reply_done(&r);
        }
        /* a query string is no other path */
        r = http(port, "GET", "/metrics?name[]=x");
        ck_assert_int_eq(r.status, 200);
        reply_done(&r);
        metrics_server_stop(m);
}
END_TEST

START_TEST(test_server_bad_listen) {
        static const struct {
                const char *listen, *why;
        } bad[] = {
                { "", "empty address" },
                { "127.0.0.1", "no port" },
                { "127.0.0.1:", "port \"\" is not a number" },
                { "127.0.0.1:65536", "port \"65536\" is not a number from 0 to 65535" },
                { "127.0.0.1: 80", "port \" 80\"" },
                { "127.0.0.1:+80", "port \"+80\"" },
                { ":http", "port \"http\"" },
                { "::1:9464", "needs brackets" },
                { "[::1]9464", "want [IPV6]:PORT" },
                { "[::1", "want [IPV6]:PORT" },
                { "[127.0.0.1]:9464", "\"127.0.0.1\" is not an IPv6 address" },
                { "localhost:9464", "\"localhost\" is not an IPv4 address" },
                { "256.0.0.1:9464", "\"256.0.0.1\" is not an IPv4 address" },
                { "192.0.2.1:9464", "bind failed: Cannot assign requested address" }, /* TEST-NET-1, not ours */
        };

        for (size_t i = 0; i < ELEMENTSOF(bad); i++) {
                MetricsServer *m = NULL;
                char *error = NULL, want[128];
                int r = metrics_server_start(bad[i].listen, &m, &error);

                ck_assert_msg(r < 0, "%s accepted", bad[i].listen);
                ck_assert_ptr_null(m);
                ck_assert_ptr_nonnull(error);
                snprintf(want, sizeof(want), "metrics.listen \"%s\": ", bad[i].listen);
                ck_assert_msg(strncmp(error, want, strlen(want)) == 0, "error does not name the address: %s", error);
                ck_assert_msg(strstr(error, bad[i].why), "error for %s: %s (want %s)", bad[i].listen, error, bad[i].why);
                free(error);
        }
}
END_TEST

START_TEST(test_server_port_in_use) {
        MetricsServer *a = start_ok("127.0.0.1:0"), *b = NULL;
        char listen[64], *error = NULL;

        snprintf(listen, sizeof(listen), "127.0.0.1:%u", metrics_server_port(a));
        ck_assert_int_eq(metrics_server_start(listen, &b, &error), -EADDRINUSE);
        ck_assert_ptr_null(b);
        ck_assert_ptr_nonnull(error);
        ck_assert_ptr_nonnull(strstr(error, listen));
        ck_assert_msg(strstr(error, "bind failed: Address already in use"), "%s", error);
        free(error);
        metrics_server_stop(a);
        ck_assert_ptr_null(metrics_server_stop(NULL));
}
END_TEST

START_TEST(test_server_any_address_and_ipv6) {
        /* ":PORT" is every address: reachable on 127.0.0.1 */
        MetricsServer *m = start_ok(":0");
        Reply r = http(metrics_server_port(m), "GET", "/metrics");

        ck_assert_int_eq(r.status, 503);
        reply_done(&r);
        metrics_server_stop(m);

        /* [::1]:PORT where the host has IPv6 loopback */
        int fd = socket(AF_INET6, SOCK_STREAM | SOCK_CLOEXEC, 0);
        struct sockaddr_in6 a = { .sin6_family = AF_INET6, .sin6_addr = IN6ADDR_LOOPBACK_INIT };
        bool v6 = fd >= 0 && bind(fd, (struct sockaddr *) &a, sizeof(a)) == 0;
        if (fd >= 0)
                close(fd);
        if (!v6) {
                fprintf(stderr, "test-metrics: no IPv6 loopback here, [::1] not tried\n");
                return;
        }
        m = start_ok("[::1]:0");
        /* bound to ::1 only: 127.0.0.1 on that port is refused */
        fd = connect_loopback(metrics_server_port(m));
        if (fd >= 0)
                close(fd);
        ck_assert_int_eq(fd, -ECONNREFUSED);
        metrics_server_stop(m);
}
END_TEST

/* A TCP connection to 127.0.0.1:PORT from the source address FROM
 * (127.0.0.X: all of 127/8 is this host's), with a receive timeout of
 * TIMEOUT_MS. */
static int connect_from(const char *from, uint16_t port, int timeout_ms) {
        struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(port) }, src = { .sin_family = AF_INET };
        struct timeval tv = { .tv_sec = timeout_ms / 1000, .tv_usec = (timeout_ms % 1000) * 1000 };
        int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

        ck_assert_int_ge(fd, 0);
        a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        ck_assert_int_eq(inet_pton(AF_INET, from, &src.sin_addr), 1);
        ck_assert_int_eq(bind(fd, (struct sockaddr *) &src, sizeof(src)), 0);
        ck_assert_int_eq(setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)), 0);
        ck_assert_msg(connect(fd, (struct sockaddr *) &a, sizeof(a)) == 0, "connect from %s: %s", from, strerror(errno));
        return fd;
}

/* Whether the server closed FD: a read that ends (or is reset) rather
 * than timing out. */
static bool closed_by_server(int fd) {
        char c;
        ssize_t n = read(fd, &c, 1);

        return n == 0 || (n < 0 && errno == ECONNRESET);
}

/* GET /metrics on FD: its status, the body read by Content-Length. */
static int get_on(int fd) {
        static const char req[] = "GET /metrics HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n";
        char buf[65536], *end, *cl;
        size_t len = 0;
        int status = 0;
        long body;

        ck_assert_int_eq(send(fd, req, sizeof(req) - 1, MSG_NOSIGNAL), (ssize_t) sizeof(req) - 1);
        for (;;) {
                ssize_t n = read(fd, buf + len, sizeof(buf) - 1 - len);

                ck_assert_msg(n > 0, "read: %zd %s", n, strerror(errno));
                len += (size_t) n;
                buf[len] = '\0';
                end = strstr(buf, "\r\n\r\n");
                if (!end)
                        continue;
                cl = strcasestr(buf, "\r\nContent-Length: ");
                ck_assert_ptr_nonnull(cl);
                body = strtol(cl + 18, NULL, 10);
                if ((long) (len - (size_t) (end + 4 - buf)) >= body)
                        break;
        }
        ck_assert_int_eq(sscanf(buf, "HTTP/1.1 %d", &status), 1);
        return status;
}

/* A slow client holds a slot until the idle timeout, which trickling
 * bytes never reach: at most 4 connections per address, so the scraper
 * from another address gets in. */
START_TEST(test_server_per_ip_limit) {
        MetricsServer *m = start_ok("127.0.0.1:0");
        uint16_t port = metrics_server_port(m);
        StatusSnapshot s;
        int held[4], fifth, scraper;

        build_snapshot(&s, 0);
        ck_assert_int_eq(metrics_server_publish(m, &s), 0);
        status_snapshot_done(&s);
        ck_assert_uint_eq(metrics_limits_default.per_ip, 4);
        for (size_t i = 0; i < ELEMENTSOF(held); i++) {
                held[i] = connect_from("127.0.0.1", port, 300);
                ck_assert_int_eq(send(held[i], "GET /me", 7, MSG_NOSIGNAL), 7);
        }
        usleep(100 * 1000);
        for (size_t i = 0; i < ELEMENTSOF(held); i++)
                ck_assert_msg(!closed_by_server(held[i]), "a slow client's connection %zu was closed early", i);
        fifth = connect_from("127.0.0.1", port, 2000);
        ck_assert_msg(closed_by_server(fifth), "a fifth connection from 127.0.0.1 was kept");
        close(fifth);
        /* the scraper elsewhere is served */
        scraper = connect_from("127.0.0.2", port, 5000);
        ck_assert_int_eq(get_on(scraper), 200);
        close(scraper);
        for (size_t i = 0; i < ELEMENTSOF(held); i++)
                close(held[i]);
        metrics_server_stop(m);
}
END_TEST

/* A request must be read and answered within the deadline: a client
 * trickling a byte every 200 ms is cut there, while others are served. */
START_TEST(test_server_request_deadline) {
        MetricsLimits lim = metrics_limits_default;
        MetricsServer *m = NULL;
        char *error = NULL;
        StatusSnapshot s;
        struct timespec t0, t1;
        int slow, other;
        bool cut = false;
        double el = 0;

        lim.request_deadline_ms = 1500;
        ck_assert_int_eq(metrics_server_start_with("127.0.0.1:0", &lim, &m, &error), 0);
        build_snapshot(&s, 0);
        ck_assert_int_eq(metrics_server_publish(m, &s), 0);
        status_snapshot_done(&s);

        slow = connect_from("127.0.0.1", metrics_server_port(m), 200);
        clock_gettime(CLOCK_MONOTONIC, &t0);
        for (int i = 0; i < 30 && !cut; i++) {
                /* one byte of a header line that never ends */
                if (send(slow, i == 0 ? "G" : "a", 1, MSG_NOSIGNAL) < 0 || closed_by_server(slow))
                        cut = true;
                if (i == 3) {
                        other = connect_from("127.0.0.2", metrics_server_port(m), 5000);
                        ck_assert_int_eq(get_on(other), 200);
                        close(other);
                }
        }
        clock_gettime(CLOCK_MONOTONIC, &t1);
        el = (double) (t1.tv_sec - t0.tv_sec) + (double) (t1.tv_nsec - t0.tv_nsec) / 1e9;
        ck_assert_msg(cut, "a trickling client was not cut at the 1.5 s deadline (%.1f s)", el);
        ck_assert_msg(el >= 1.3 && el < 3.5, "cut after %.2f s, the deadline is 1.5 s", el);
        close(slow);
        metrics_server_stop(m);
}
END_TEST

/* Scrapes in a thread while the main thread publishes: each reply is
 * whole and carries one of the published period counts. */
typedef struct Scraper {
        uint16_t port;
        int ok, unavailable;
} Scraper;

static void *scrape_loop(void *arg) {
        Scraper *sc = arg;

        for (int i = 0; i < 40; i++) {
                Reply r = http(sc->port, "GET", "/metrics");
                if (r.status == 503) {
                        sc->unavailable++;
                } else {
                        static __thread Exposition e;
                        const Sample *p;
                        ck_assert_int_eq(r.status, 200);
                        parse_exposition(r.body, &e);
                        p = sample_find(&e, "tierd_periods_total", "");
                        ck_assert_ptr_nonnull(p);
                        ck_assert(p->value >= 41 && p->value < 41 + 300);
                        ck_assert_uint_eq(e.n_samples, SNAPSHOT_SAMPLES);
                        sc->ok++;
                }
                reply_done(&r);
        }
        return NULL;
}

START_TEST(test_server_publish_races_scrapes) {
        MetricsServer *m = start_ok("127.0.0.1:0");
        Scraper sc = { .port = metrics_server_port(m) };
        pthread_t th;

        ck_assert_int_eq(pthread_create(&th, NULL, scrape_loop, &sc), 0);
        for (uint64_t i = 0; i < 300; i++) {
                StatusSnapshot s;
                build_snapshot(&s, i);
                ck_assert_int_eq(metrics_server_publish(m, &s), 0);
                status_snapshot_done(&s);
                if (i % 16 == 0)
                        usleep(1000);
        }
        ck_assert_int_eq(pthread_join(th, NULL), 0);
        ck_assert_int_eq(sc.ok + sc.unavailable, 40);
        metrics_server_stop(m);
}
END_TEST

static Suite *metrics_suite(void) {
        Suite *s = suite_create("metrics");
        TCase *tc = tcase_create("render");

        tcase_add_test(tc, test_render_parses_back_with_values);
        tcase_add_test(tc, test_render_hostile_cgroup_names);
        tcase_add_test(tc, test_render_empty_snapshot);
        tcase_add_test(tc, test_render_special_doubles_and_write_error);
        suite_add_tcase(s, tc);

        tc = tcase_create("server");
        tcase_set_timeout(tc, 60);
        tcase_add_test(tc, test_server_503_then_200);
        tcase_add_test(tc, test_server_404_405);
        tcase_add_test(tc, test_server_bad_listen);
        tcase_add_test(tc, test_server_port_in_use);
        tcase_add_test(tc, test_server_any_address_and_ipv6);
        tcase_add_test(tc, test_server_publish_races_scrapes);
        tcase_add_test(tc, test_render_pod_labels);
        tcase_add_test(tc, test_server_per_ip_limit);
        tcase_add_test(tc, test_server_request_deadline);
        suite_add_tcase(s, tc);
        return s;
}

int main(void) {
        return unit_run(metrics_suite());
}
