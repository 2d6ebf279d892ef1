/* SPDX-License-Identifier: MIT */
/* tierd: userspace memory-tiering agent. Subcommands are dispatched from a
 * table; every one takes --json where it prints a report. */
#include <ctype.h>
#include <getopt.h>
#include <inttypes.h>
#include <json-c/json.h>
#include <poll.h>
#include <stdarg.h>
#include <string.h>
#include <time.h>

#include "cmdline.h"
#include "config.h"
#include "control.h"
#include "daemon.h"
#include "probe.h"
#include "scan.h"
#include "scanner.h"
#include "util.h"

#ifndef TIERD_VERSION
#define TIERD_VERSION "unknown"
#endif
#ifndef TIERD_CONFIG_PATH
#define TIERD_CONFIG_PATH "/etc/tierd/tierd.json"
#endif

typedef struct Command Command;

typedef struct Args {
        const Command *command;
        const char *prog;               /* "tierd" or "tierd COMMAND": the messages' prefix */
        char prog_buf[32];
        bool help, version;
        bool check_config;              /* --check-config: the command it names */
        /* global options */
        bool json;
        const char *config_path;
        const char *sysfs_root;
        const char *procfs_root;
        LogTarget log_target;
        /* the agent */
        uint64_t period_ms;             /* 0: the configuration's scanner.period */
        unsigned periods;               /* 0: until stopped */
        bool periods_given, once;
        const char *backend;
        const char *control_socket;
        /* trace */
        double seconds;
        /* scan */
        ScanCmd scan;
        char **cgroups;                 /* scan.cgroups, owned */
} Args;

static void print_json(json_object *o) {
        puts(json_object_to_json_string_ext(o, JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_NOSLASHESCAPE));
}

/* With --json, errors are JSON on stdout too, so a script always gets JSON. */
static int fail(const Args *a, int error, const char *what) {
        if (a->json) {
                json_object *o = json_object_new_object();

                json_object_object_add(o, "error", json_object_new_string(what));
                json_object_object_add(o, "errno", json_object_new_string(strerror(error < 0 ? -error : error)));
                print_json(o);
                json_object_put(o);
        }
        log_error("%s: %s", what, strerror(error < 0 ? -error : error));
        return 1;
}

static int verb_probe(const Args *a) {
        _cleanup_(probe_freep) Probe *p = NULL;
        ProbeRoots roots = { .sysfs = a->sysfs_root, .procfs = a->procfs_root };
        int r;

        r = probe_run(&roots, &p);
        if (r < 0)
                return fail(a, r, "probe failed");
        if (a->json) {
                json_object *o = probe_to_json(p);

                print_json(o);
                json_object_put(o);
        } else
                probe_print(p, stdout);
        return 0;
}

typedef struct TraceStats {
        uint64_t regions;
        uint64_t region_bytes;
        uint64_t hot_regions; /* nr_accesses > 0 */
} TraceStats;

static int count_region(const struct kscan_damon_region *r, void *userdata) {
        TraceStats *s = userdata;

        s->regions++;
        s->region_bytes += r->end - r->start;
        if (r->nr_accesses > 0)
                s->hot_regions++;
        return 0;
}

static double now_s(void) {
        struct timespec ts;

        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (double) ts.tv_sec + (double) ts.tv_nsec / 1e9;
}

static int verb_trace(const Args *a) {
        _cleanup_(kscan_freep) KScan *k = NULL;
        struct kscan_migrate_count mc[KSCAN_MR_MAX];
        struct kscan_reclaim_count rc[KSCAN_NODES_MAX];
        TraceStats st = { 0 };
        double end;
        int r;

        r = kscan_open(&k);
        if (r < 0)
                return fail(a, r, "cannot attach the tracepoint collector");
        if (!a->json)
                fprintf(stderr, "tierd: tracing for %.1f s (migrate %s, reclaim %s, damon %s)\n", a->seconds,
                        kscan_attached(k, "migrate") ? "on" : "off", kscan_attached(k, "reclaim") ? "on" : "off",
                        kscan_attached(k, "damon") ? "on" : "off");
        end = now_s() + a->seconds;
        for (double left; (left = end - now_s()) > 0;) {
                struct pollfd pfd = { .fd = kscan_epoll_fd(k), .events = POLLIN };

                r = poll(&pfd, 1, (int) (left * 1000) + 1);
                if (r < 0 && errno != EINTR)
                        return fail(a, -errno, "poll failed");
                r = kscan_consume(k, count_region, &st);
                if (r < 0)
                        return fail(a, r, "reading the ring buffer failed");
        }
        r = kscan_migrate_counts(k, mc);
        if (r >= 0)
                r = kscan_reclaim_counts(k, rc);
        if (r < 0)
                return fail(a, r, "reading the BPF counters failed");

        if (a->json) {
                json_object *o = json_object_new_object(), *att = json_object_new_object(),
                            *mig = json_object_new_object(), *rec = json_object_new_array(),
                            *dam = json_object_new_object();

                json_object_object_add(att, "migrate", json_object_new_boolean(kscan_attached(k, "migrate")));
                json_object_object_add(att, "reclaim", json_object_new_boolean(kscan_attached(k, "reclaim")));
                json_object_object_add(att, "damon", json_object_new_boolean(kscan_attached(k, "damon")));
                json_object_object_add(o, "attached", att);
                json_object_object_add(o, "seconds", json_object_new_double(a->seconds));
                for (unsigned i = 0; i < KSCAN_MR_MAX; i++) {
                        const char *name = kscan_migrate_reason_name(i);
                        json_object *x;

                        if (!name || mc[i].calls == 0)
                                continue;
                        x = json_object_new_object();
                        json_object_object_add(x, "calls", json_object_new_uint64(mc[i].calls));
                        json_object_object_add(x, "succeeded", json_object_new_uint64(mc[i].succeeded));
                        json_object_object_add(x, "failed", json_object_new_uint64(mc[i].failed));
                        json_object_object_add(x, "thp_succeeded", json_object_new_uint64(mc[i].thp_succeeded));
                        json_object_object_add(mig, name, x);
                }
                json_object_object_add(o, "migrations", mig);
                for (int n = 0; n < KSCAN_NODES_MAX; n++) {
                        json_object *x;

                        if (rc[n].scanned == 0 && rc[n].reclaimed == 0)
                                continue;
                        x = json_object_new_object();
                        json_object_object_add(x, "node", json_object_new_int(n));
                        json_object_object_add(x, "scanned", json_object_new_uint64(rc[n].scanned));
                        json_object_object_add(x, "reclaimed", json_object_new_uint64(rc[n].reclaimed));
                        json_object_array_add(rec, x);
                }
                json_object_object_add(o, "reclaim", rec);
                json_object_object_add(dam, "regions", json_object_new_uint64(st.regions));
                json_object_object_add(dam, "region_bytes", json_object_new_uint64(st.region_bytes));
                json_object_object_add(dam, "accessed_regions", json_object_new_uint64(st.hot_regions));
                json_object_object_add(dam, "dropped", json_object_new_uint64(kscan_dropped(k)));
                json_object_object_add(o, "damon", dam);
                print_json(o);
                json_object_put(o);
        } else {
                printf("migrations by reason (pages succeeded / failed):\n");
                for (unsigned i = 0; i < KSCAN_MR_MAX; i++)
                        if (kscan_migrate_reason_name(i) && mc[i].calls)
                                printf("  %-16s %10llu / %llu\n", kscan_migrate_reason_name(i),
                                       (unsigned long long) mc[i].succeeded, (unsigned long long) mc[i].failed);
                printf("reclaim by node (scanned / reclaimed):\n");
                for (int n = 0; n < KSCAN_NODES_MAX; n++)
                        if (rc[n].scanned || rc[n].reclaimed)
                                printf("  node %-3d %10llu / %llu\n", n, (unsigned long long) rc[n].scanned,
                                       (unsigned long long) rc[n].reclaimed);
                printf("DAMON regions: %llu (%llu accessed), %llu dropped\n", (unsigned long long) st.regions,
                       (unsigned long long) st.hot_regions, (unsigned long long) kscan_dropped(k));
        }
        return 0;
}

static int print_spec_item(const char *key, const char *value, void *userdata) {
        bool *first = userdata;

        printf("%s%s=%s", *first ? "" : " ", key, value);
        *first = false;
        return 0;
}

static void print_spec(const PolicySpec *spec) {
        bool first = true;

        policy_spec_foreach(spec, print_spec_item, &first);
        if (first)
                printf("(nothing set)");
}

static void print_config(const Config *c) {
        char a[32], b[32];

        printf("files:");
        if (c->n_files == 0)
                printf(" none (built-in defaults)");
        for (int i = 0; i < c->n_files; i++)
                printf(" %s", c->files[i]);
        printf("\nclasses, highest priority first:\n");
        for (int i = 0; i < c->n_classes; i++) {
                printf("  %-12s weight %-5" PRIu32 " ", c->classes[i].name, c->classes[i].weight);
                print_spec(&c->classes[i].defaults);
                printf("  (%s)\n", c->classes[i].origin);
        }
        printf("default: ");
        print_spec(&c->defaults);
        printf("\nrules (%d):\n", c->n_rules);
        for (int i = 0; i < c->n_rules; i++) {
                printf("  %s -> ", c->rules[i].match);
                print_spec(&c->rules[i].policy);
                printf("  (%s)\n", c->rules[i].origin);
        }
        printf("scanner: backend %s, period %" PRIu64 " ms, cpu budget %" PRIu32 " per mille of one CPU\n",
               c->scanner.backend, c->scanner.period_ms, c->scanner.cpu_budget_permille);
        printf("mover: backend %s, batch %" PRIu32 " pages, hysteresis %" PRIu64 " ms\n", c->mover.backend,
               c->mover.batch_pages, c->mover.hysteresis_ms);
        printf("migration budget: rate %s/s, burst %s\n", quantity_to_string(&c->budget_rate, a, sizeof(a)),
               quantity_to_string(&c->budget_burst, b, sizeof(b)));
        if (c->n_tiers == 0)
                printf("tiers: as the kernel reports them (no override)\n");
        for (int t = 0; t < c->n_tiers; t++) {
                char nodes[256];

                if (format_id_list(c->tiers[t], nodes, sizeof(nodes)) < 0)
                        snprintf(nodes, sizeof(nodes), "(mask 0x%" PRIx64 ")", c->tiers[t]);
                printf("tier %d: nodes %s\n", t, nodes);
        }
}

/* Loads the configuration; a failure is said on stderr, and as JSON on
 * stdout with --json. */
static int load_config(const Args *a, Config **ret) {
        _cleanup_free_ char *error = NULL;
        int r;

        r = config_load(a->config_path, NULL, ret, &error);
        if (r < 0) {
                const char *msg = error ? error : strerror(-r);

                if (a->json) {
                        json_object *o = json_object_new_object();

                        json_object_object_add(o, "error", json_object_new_string(msg));
                        print_json(o);
                        json_object_put(o);
                }
                log_error("%s", msg);
        }
        return r;
}

/* --check-config: load and validate; print the effective configuration. */
static int check_config(const Args *a) {
        _cleanup_(config_freep) Config *c = NULL;
        int r;

        r = load_config(a, &c);
        if (r < 0)
                return 1;
        if (a->json) {
                json_object *o = config_to_json(c);

                print_json(o);
                json_object_put(o);
        } else {
                printf("%s: configuration OK\n", a->config_path);
                print_config(c);
        }
        return 0;
}

/* scan: --backend, --period and --cpu-budget default to the configuration's
 * scanner section. */
static int verb_scan(const Args *a) {
        _cleanup_(config_freep) Config *c = NULL;
        ScanCmd cmd = a->scan;
        int r;

        r = load_config(a, &c);
        if (r < 0)
                return 1;
        if (!cmd.backend)
                cmd.backend = c->scanner.backend;
        if (!cmd.period_ms)
                cmd.period_ms = c->scanner.period_ms;
        if (cmd.cpu_budget_permille == UINT32_MAX)
                cmd.cpu_budget_permille = c->scanner.cpu_budget_permille;
        cmd.json = a->json;
        cmd.sysfs_root = a->sysfs_root;
        cmd.procfs_root = a->procfs_root;
        return scan_command(&cmd);
}

static int verb_agent(const Args *a) {
        DaemonArgs d = {
                .config_path = a->config_path,
                .sysfs_root = a->sysfs_root,
                .procfs_root = a->procfs_root,
                .period_ms = a->period_ms,
                .backend = a->backend,
                .periods = a->once ? 1 : a->periods,
                .json = a->json,
                .control_socket = a->control_socket,
        };

        return daemon_run(&d);
}

/* ---- the command line ------------------------------------------------- */

/* Option codes. The globals' come first ('v' and 'h' are globals too); a
 * command's getopt_long() table is the globals' followed by its own. */
enum {
        OPT_CONFIG = 0x100,
        OPT_JSON,
        OPT_SYSFS_ROOT,
        OPT_PROCFS_ROOT,
        OPT_LOG_TARGET,
        OPT_VERSION,
        _OPT_GLOBAL_END,
        OPT_PERIOD = _OPT_GLOBAL_END,
        OPT_PERIODS,
        OPT_ONCE,
        OPT_BACKEND,
        OPT_CONTROL_SOCKET,
        OPT_DURATION,
        OPT_SECONDS,
        OPT_CGROUP,
        OPT_PERIOD_MS,
        OPT_CPU_BUDGET,
        OPT_MAX_CANDIDATES,
        OPT_PHYSICAL,
        OPT_RANGES,
        OPT_CHECK_CONFIG,
};

struct Command {
        const char *name;               /* the word that selects it ("run": the agent) */
        const char *usage;              /* its synopsis line(s) */
        const char *summary;            /* its line in tierd --help */
        const char *description;        /* the paragraph of its --help */
        const struct option *options;   /* its own (the globals are added) */
        const char *options_help;       /* NULL: none */
        bool durations;                 /* --help explains the durations */
        const char *deprecated_help;    /* the old forms it still takes; NULL: none */
        /* One of its options: 0, or the exit status after a message. */
        int (*parse)(Args *a, int opt, const char *arg);
        /* The options together: 0, or the exit status (NULL: nothing). */
        int (*check)(const Args *a);
        int (*run)(const Args *a);
};

/* A mistake in the command line: said on stderr, and as JSON on stdout
 * when --json is anywhere on the line. Returns the exit status, 2. */
#define usage_error(a, ...) cmdline_error((a)->json, (a)->prog, CMDLINE_EXIT_USAGE, __VA_ARGS__)

/* An old form, kept as an alias for one release: a note for a person at a
 * terminal; a script (stderr not a terminal) sees it with -v only, so that
 * no log a test or a monitor reads changes. */
static void deprecated(const Args *a, const char *fmt, ...) _printf_(2, 3);
static void deprecated(const Args *a, const char *fmt, ...) {
        _cleanup_free_ char *msg = NULL;
        va_list ap;

        va_start(ap, fmt);
        if (vasprintf(&msg, fmt, ap) < 0)
                msg = NULL;
        va_end(ap);
        if (!msg)
                return;
        if (isatty(STDERR_FILENO))
                fprintf(stderr, "%s: note: %s\n", a->prog, msg);
        else
                log_debug("%s", msg);
}

/* The values of options, said as the command's mistakes. */
static int parse_number(const Args *a, const char *name, const char *arg, uint64_t min, uint64_t max,
                        uint64_t *ret) {
        return cmdline_parse_number(a->json, a->prog, name, arg, min, max, ret);
}

static int parse_duration(const Args *a, const char *name, const char *arg, uint64_t bare_unit_ms, uint64_t min_ms,
                          uint64_t max_ms, uint64_t *ret_ms) {
        return cmdline_parse_duration(a->json, a->prog, name, arg, bare_unit_ms, min_ms, max_ms, ret_ms);
}

static bool bare_number(const char *arg) {
        size_t n = strlen(arg);

        return n > 0 && isdigit((unsigned char) arg[n - 1]);
}

static const struct option global_options[] = {
        { "config", required_argument, NULL, OPT_CONFIG },
        { "json", no_argument, NULL, OPT_JSON },
        { "verbose", no_argument, NULL, 'v' },
        { "sysfs-root", required_argument, NULL, OPT_SYSFS_ROOT },
        { "procfs-root", required_argument, NULL, OPT_PROCFS_ROOT },
        { "log-target", required_argument, NULL, OPT_LOG_TARGET },
        { "version", no_argument, NULL, OPT_VERSION },
        { "help", no_argument, NULL, 'h' },
        {},
};

#define GLOBAL_OPTIONS_HELP \
        "global options (before or after the command):\n" \
        "  --config PATH       the configuration file (default " TIERD_CONFIG_PATH ");\n" \
        "                      drop-ins are read from its directory's tierd.d/\n" \
        "  --json              machine-readable output, errors included\n" \
        "  -v, --verbose       debug logging\n" \
        "  --sysfs-root DIR    read sysfs from DIR instead of /sys\n" \
        "  --procfs-root DIR   read procfs from DIR instead of /proc\n" \
        "  --log-target T      auto (the journal when stderr is its stream), journal or stderr\n" \
        "  --version           print the version and exit\n" \
        "  -h, --help          print the help of the command (tierd --help: of all) and exit\n"

#define DURATIONS_HELP "A duration D is a number and a unit: 500ms, 10s, 1.5s, 2m, 1h.\n"

static bool is_global(int opt) {
        return opt == 'v' || opt == 'h' || (opt >= OPT_CONFIG && opt < _OPT_GLOBAL_END);
}

static int parse_global(Args *a, int opt, const char *arg) {
        switch (opt) {
        case OPT_CONFIG:
                a->config_path = arg;
                break;
        case OPT_JSON:
                a->json = true;
                break;
        case 'v':
                log_set_max_level(LOG_LVL_DEBUG);
                break;
        case OPT_SYSFS_ROOT:
                a->sysfs_root = arg;
                break;
        case OPT_PROCFS_ROOT:
                a->procfs_root = arg;
                break;
        case OPT_LOG_TARGET:
                a->log_target = log_target_from_string(arg);
                if (a->log_target == _LOG_TARGET_INVALID)
                        return usage_error(a, "--log-target: '%s' is not one of auto, journal, stderr", arg);
                break;
        case OPT_VERSION:
                a->version = true;
                break;
        case 'h':
                a->help = true;
                break;
        }
        return 0;
}

/* ---- the agent: tierd [OPTIONS], tierd run [OPTIONS] ---- */

static const struct option agent_options[] = {
        { "period", required_argument, NULL, OPT_PERIOD },
        { "periods", required_argument, NULL, OPT_PERIODS },
        { "once", no_argument, NULL, OPT_ONCE },
        { "backend", required_argument, NULL, OPT_BACKEND },
        { "control-socket", required_argument, NULL, OPT_CONTROL_SOCKET },
        {},
};

static int parse_agent(Args *a, int opt, const char *arg) {
        uint64_t v = 0;
        int r = 0;

        switch (opt) {
        case OPT_PERIOD:
                r = parse_duration(a, "--period", arg, 1000, 10, 3600 * 1000, &a->period_ms);
                if (r == 0 && bare_number(arg))
                        deprecated(a, "--period %s: a bare number of seconds is deprecated; write --period %ss", arg,
                                   arg);
                break;
        case OPT_PERIODS:
                r = parse_number(a, "--periods", arg, 1, 100000, &v);
                if (r == 0) {
                        a->periods = (unsigned) v;
                        a->periods_given = true;
                }
                break;
        case OPT_ONCE:
                a->once = true;
                break;
        case OPT_BACKEND:
                a->backend = arg;
                break;
        case OPT_CONTROL_SOCKET:
                if (arg[0] && arg[0] != '/')
                        return usage_error(a, "--control-socket: '%s' is not an absolute path (or '' for none)", arg);
                a->control_socket = arg;
                break;
        }
        return r;
}

static int check_agent(const Args *a) {
        if (a->once && a->periods_given)
                return usage_error(a, "--once and --periods: give one of them");
        return 0;
}

/* ---- tierd trace ---- */

static const struct option trace_options[] = {
        { "duration", required_argument, NULL, OPT_DURATION },
        { "seconds", required_argument, NULL, OPT_SECONDS },
        {},
};

static int parse_trace(Args *a, int opt, const char *arg) {
        bool old = opt == OPT_SECONDS; /* --seconds S: a bare number is seconds */
        uint64_t ms;
        int r;

        r = parse_duration(a, old ? "--seconds" : "--duration", arg, old ? 1000 : 0, 1, 24 * 3600 * 1000, &ms);
        if (r != 0)
                return r;
        a->seconds = (double) ms / 1000;
        if (old)
                deprecated(a, "--seconds is deprecated; write --duration %s%s", arg, bare_number(arg) ? "s" : "");
        return 0;
}

/* ---- tierd scan ---- */

static const struct option scan_options[] = {
        { "cgroup", required_argument, NULL, OPT_CGROUP },
        { "backend", required_argument, NULL, OPT_BACKEND },
        { "period", required_argument, NULL, OPT_PERIOD },
        { "periods", required_argument, NULL, OPT_PERIODS },
        { "cpu-budget", required_argument, NULL, OPT_CPU_BUDGET },
        { "max-candidates", required_argument, NULL, OPT_MAX_CANDIDATES },
        { "physical", no_argument, NULL, OPT_PHYSICAL },
        { "ranges", no_argument, NULL, OPT_RANGES },
        { "period-ms", required_argument, NULL, OPT_PERIOD_MS },
        {},
};

static int scan_add_cgroup(Args *a, const char *arg) {
        char **n = realloc(a->cgroups, (a->scan.n_cgroups + 1) * sizeof(*n));

        if (!n)
                return log_error_errno(-ENOMEM, "out of memory"), 1;
        a->cgroups = a->scan.cgroups = n;
        n[a->scan.n_cgroups++] = (char *) arg;
        return 0;
}

static int parse_scan(Args *a, int opt, const char *arg) {
        uint64_t v = 0;
        int r = 0;

        switch (opt) {
        case OPT_CGROUP:
                return scan_add_cgroup(a, arg);
        case OPT_BACKEND:
                a->scan.backend = arg;
                break;
        case OPT_PERIOD:
                /* no bare number: "--period 500" for "--period-ms 500" must not be 500 s */
                r = parse_duration(a, "--period", arg, 0, 10, 3600 * 1000, &a->scan.period_ms);
                break;
        case OPT_PERIOD_MS:
                r = parse_number(a, "--period-ms", arg, 10, 3600 * 1000, &a->scan.period_ms);
                if (r == 0)
                        deprecated(a, "--period-ms is deprecated; write --period %sms", arg);
                break;
        case OPT_PERIODS:
                r = parse_number(a, "--periods", arg, 1, 100000, &v);
                if (r == 0)
                        a->scan.periods = (unsigned) v;
                break;
        case OPT_CPU_BUDGET:
                r = parse_number(a, "--cpu-budget", arg, 0, 1000, &v);
                if (r == 0)
                        a->scan.cpu_budget_permille = (uint32_t) v;
                break;
        case OPT_MAX_CANDIDATES:
                r = parse_number(a, "--max-candidates", arg, 0, 1000000, &v);
                if (r == 0)
                        a->scan.max_candidates = (size_t) v;
                break;
        case OPT_PHYSICAL:
                a->scan.physical = true;
                break;
        case OPT_RANGES:
                a->scan.ranges = true;
                break;
        }
        return r;
}

/* ---- tierd check-config, tierd --check-config ---- */

static const struct option check_config_options[] = {
        { "check-config", no_argument, NULL, OPT_CHECK_CONFIG },
        {},
};

static int parse_check_config(Args *a, int opt, const char *arg) {
        (void) a, (void) opt, (void) arg; /* --check-config: the command itself */
        return 0;
}

static const struct option no_options[] = { {} };

static const Command commands[] = {
        {
                .name = "run",
                .usage = "tierd [OPTIONS]\n"
                         "       tierd run [OPTIONS]",
                .summary = "run the agent (the same as no command)",
                .description =
                        "Without a command tierd runs the agent in the foreground: every period it walks the\n"
                        "cgroups, resolves their policies, samples the tenants, plans and moves pages. The\n"
                        "scanner's arming period(s) come first (one; two with damon and bpf): they only scan,\n"
                        "nothing is planned. --periods N stops it after N working (planned) periods after\n"
                        "them, --once after one. --json prints one JSON object per period. SIGTERM or SIGINT\n"
                        "stops the agent between periods, SIGHUP reloads the configuration.\n",
                .options = agent_options,
                .options_help =
                        "  --period D          length of a period (default: the configuration's scanner.period)\n"
                        "  --periods N         stop after N working periods: planned periods, after the\n"
                        "                      scanner's arming period(s) (one; two with damon and bpf)\n"
                        "  --once              the same as --periods 1\n"
                        "  --backend NAME      the scanner backend: idle_page, damon, bpf, lru_gen or auto\n"
                        "                      (default: scanner.backend)\n"
                        "  --control-socket PATH  the control socket (default: control.socket,\n"
                        "                      " CONTROL_SOCKET_DEFAULT "); '' for none\n",
                .durations = true,
                .deprecated_help = "  --period S          a bare number of seconds: write --period Ss\n",
                .parse = parse_agent,
                .check = check_agent,
                .run = verb_agent,
        },
        {
                .name = "probe",
                .usage = "tierd probe [OPTIONS]",
                .summary = "report what the running kernel offers tierd (read-only)",
                .description =
                        "Reports what the running kernel offers tierd: the NUMA nodes and memory tiers, and\n"
                        "which scanner and mover backends are usable here, and why not the others. Reads\n"
                        "only; --sysfs-root and --procfs-root point it at a captured tree.\n",
                .options = no_options,
                .run = verb_probe,
        },
        {
                .name = "trace",
                .usage = "tierd trace [--duration D] [OPTIONS]",
                .summary = "listen to the kernel's own migrations and reclaim through BPF for a while",
                .description =
                        "Attaches the BPF tracepoint collector for --duration and reports what the kernel did\n"
                        "meanwhile: page migrations by reason, reclaim by node, the DAMON regions aggregated.\n"
                        "Reads only.\n",
                .options = trace_options,
                .options_help = "  --duration D        how long to listen (default 5s)\n",
                .durations = true,
                .deprecated_help = "  --seconds S         the same as --duration Ss (a bare number of seconds)\n",
                .parse = parse_trace,
                .run = verb_trace,
        },
        {
                .name = "scan",
                .usage = "tierd scan --cgroup PATH... [OPTIONS]",
                .summary = "sample the access heat of the --cgroup tenants with one scanner backend",
                .description =
                        "Samples the access heat of the --cgroup tenants with one scanner backend and reports\n"
                        "it (--json: with each period's totals); nothing is moved. Options default to the\n"
                        "configuration's scanner section. Its first period only arms the backend and is not\n"
                        "reported; then come --periods N measured ones. Unlike the agent, scan arms damon and\n"
                        "bpf for one period, not two: with those its first measured period is one the agent\n"
                        "would not plan on yet.\n",
                .options = scan_options,
                .options_help =
                        "  --cgroup PATH       a tenant (repeatable): relative to the cgroup mount, or absolute\n"
                        "  --backend NAME      idle_page, damon, bpf, lru_gen or auto (the best usable one)\n"
                        "  --period D          length of a period (default: scanner.period)\n"
                        "  --periods N         stop after N working periods: measured periods, after the\n"
                        "                      scanner's arming period (one, with every backend; default 3)\n"
                        "  --cpu-budget PM     scan CPU per period, per mille of one CPU (0: unlimited;\n"
                        "                      default: scanner.cpu_budget)\n"
                        "  --max-candidates N  mover candidates per tenant and direction (default 64)\n"
                        "  --physical          physical mode (idle_page): every LRU page by its memcg\n"
                        "  --ranges            report every classified range (--json)\n",
                .durations = true,
                .deprecated_help = "  --period-ms MS      the same as --period MSms\n",
                .parse = parse_scan,
                .run = verb_scan,
        },
        {
                .name = "check-config",
                .usage = "tierd check-config [OPTIONS]\n"
                         "       tierd --check-config [OPTIONS]",
                .summary = "validate the configuration, print the effective one (also: --check-config)",
                .description =
                        "Loads the configuration file and its drop-ins, validates them and prints the effective\n"
                        "configuration (--json: as JSON). Exit status 0 when it is valid, 1 when not.\n",
                .options = check_config_options,
                .parse = parse_check_config,
                .run = check_config,
        },
};

static const Command *command_find(const char *name) {
        for (size_t i = 0; i < ELEMENTSOF(commands); i++)
                if (strcmp(commands[i].name, name) == 0)
                        return &commands[i];
        return NULL;
}

/* tierd --help: every command, the agent's options, the globals. */
static void program_help(FILE *f) {
        const Command *agent = command_find("run");

        fputs("usage: ", f);
        for (size_t i = 0; i < ELEMENTSOF(commands); i++)
                fprintf(f, "%s%s\n", i ? "       " : "", commands[i].usage);
        fprintf(f, "       tierd COMMAND --help\n\n%s\ncommands:\n", agent->description);
        for (size_t i = 0; i < ELEMENTSOF(commands); i++)
                fprintf(f, "  %-13s %s\n", commands[i].name, commands[i].summary);
        fprintf(f, "\nagent options:\n%s\n" GLOBAL_OPTIONS_HELP "\n" DURATIONS_HELP "\n", agent->options_help);
        fputs("deprecated forms, accepted until the next release:\n"
              "  tierd --period S             a bare number of seconds: write --period Ss\n"
              "  tierd scan --period-ms MS    write --period MSms\n"
              "  tierd trace --seconds S      write --duration Ss\n",
              f);
}

static void command_help(const Command *cmd, FILE *f) {
        if (cmd == command_find("run")) {
                program_help(f);
                return;
        }
        fprintf(f, "usage: %s\n\n%s", cmd->usage, cmd->description);
        if (cmd->options_help)
                fprintf(f, "\noptions:\n%s", cmd->options_help);
        fputs("\n" GLOBAL_OPTIONS_HELP, f);
        if (cmd->durations)
                fputs("\n" DURATIONS_HELP, f);
        if (cmd->deprecated_help)
                fprintf(f, "\ndeprecated, accepted until the next release:\n%s", cmd->deprecated_help);
}

/* cmdline_prescan()'s tables: every command's options, then the globals. */
static const struct option *option_table(size_t i) {
        return i < ELEMENTSOF(commands) ? commands[i].options : i == ELEMENTSOF(commands) ? global_options : NULL;
}

/* What the pre-scan applies at once, wherever it stands on the line:
 * --json, so that a mistake found before it is JSON too; -v, so that a
 * note on an old form made before it is seen; --check-config, the command
 * it names. */
static void prescan_note(int opt, void *userdata) {
        Args *a = userdata;

        if (opt == OPT_JSON)
                a->json = true;
        else if (opt == 'v')
                log_set_max_level(LOG_LVL_DEBUG);
        else if (opt == OPT_CHECK_CONFIG)
                a->check_config = true;
}

static int parse_option(int opt, const char *arg, void *userdata) {
        Args *a = userdata;

        return is_global(opt) ? parse_global(a, opt, arg) : a->command->parse(a, opt, arg);
}

/* Parses the whole line with the chosen command's options and the globals. */
static int parse_options(Args *a, int argc, char **argv) {
        const CmdlineParser p = {
                .shorts = "vh",
                .globals = global_options,
                .own = a->command->options,
                .option = parse_option,
                .userdata = a,
                .json = &a->json,
                .prog = a->prog,
        };

        return cmdline_parse(&p, argc, argv);
}

static int select_command(Args *a, const char *word) {
        a->command = command_find(word ? word : a->check_config ? "check-config" : "run");
        if (!a->command)
                return usage_error(a, "unknown command '%s' (see tierd --help)", word);
        if (word || a->check_config) {
                snprintf(a->prog_buf, sizeof(a->prog_buf), "tierd %s", a->command->name);
                a->prog = a->prog_buf;
        }
        return 0;
}

static void args_done(Args *a) {
        free(a->cgroups);
}

int main(int argc, char **argv) {
        _cleanup_(args_done) Args a = {
                .prog = "tierd",
                .config_path = TIERD_CONFIG_PATH,
                .seconds = 5,
                .scan = { .periods = 3, .max_candidates = 64, .cpu_budget_permille = UINT32_MAX },
        };
        const char *word;
        int r;

        word = cmdline_prescan(argc, argv, "vh", option_table, prescan_note, &a);
        r = select_command(&a, word);
        if (r == 0)
                r = parse_options(&a, argc, argv);
        if (r == 0 && a.command->check)
                r = a.command->check(&a);
        if (r != 0)
                return r;
        if (a.help) {
                command_help(a.command, stdout);
                return 0;
        }
        if (a.version) {
                puts("tierd " TIERD_VERSION);
                return 0;
        }
        /* what getopt_long() left: the command word, no more */
        r = cmdline_skip_word(a.json, a.prog, argc, argv, word);
        if (r != 0)
                return r;
        if (optind < argc)
                return usage_error(&a, "unexpected argument '%s' (see %s --help)", argv[optind], a.prog);
        log_set_target(a.log_target);
        return a.command->run(&a);
}
