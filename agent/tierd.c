/* SPDX-License-Identifier: MIT */
/* tierd: userspace memory-tiering agent. Subcommands are dispatched from a
 * table; every one takes --json where it prints a report. */
#include <getopt.h>
#include <inttypes.h>
#include <json-c/json.h>
#include <poll.h>
#include <string.h>
#include <time.h>

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

typedef struct Args {
        bool json;
        const char *sysfs_root;
        const char *procfs_root;
        double seconds;
        const char *config_path;
        bool check_config;
        ScanCmd scan;
        bool periods_given;
        bool once;
        uint64_t period_ms;
        const char *control_socket;
        LogTarget log_target;
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

/* scan: --backend, --period-ms and --cpu-budget default to the
 * configuration's scanner section. */
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

typedef struct Verb {
        const char *name;
        int (*run)(const Args *a);
        const char *help;
} Verb;

static const Verb verbs[] = {
        { "probe", verb_probe, "report what the running kernel offers tierd (read-only)" },
        { "trace", verb_trace, "attach the BPF tracepoint collector for --seconds and report the kernel's own migrations" },
        { "scan", verb_scan, "sample the access heat of the --cgroup tenants with one scanner backend" },
};

static void usage(FILE *f) {
        fprintf(f,
                "usage: tierd [--config PATH] [--period SECONDS] [--once | --periods N] [--backend B] [--json] [-v]\n"
                "       tierd [OPTIONS] COMMAND\n"
                "       tierd [--config PATH] [--json] --check-config\n"
                "\n"
                "Without a command tierd runs the agent in the foreground: every period it walks the\n"
                "cgroups, resolves their policies, samples the tenants, plans and moves pages. The first\n"
                "period (two with damon and bpf) only arms the scanner. --once runs one planned period\n"
                "after it; --periods N, N. --json prints one JSON object per period; SIGTERM or SIGINT\n"
                "stops it between periods.\n"
                "\n"
                "commands:\n");
        for (size_t i = 0; i < ELEMENTSOF(verbs); i++)
                fprintf(f, "  %-8s %s\n", verbs[i].name, verbs[i].help);
        fprintf(f,
                "\n"
                "options:\n"
                "  --json            machine-readable output (errors too)\n"
                "  --config PATH     the configuration file (default " TIERD_CONFIG_PATH ");\n"
                "                    drop-ins are read from its directory's tierd.d/\n"
                "  --check-config    validate the configuration, print the effective one, exit\n"
                "  --seconds S       how long `trace` listens (default 5)\n"
                "\n"
                "agent options (tierd without a command):\n"
                "  --period S        length of a period in seconds (default: scanner.period)\n"
                "  --once            the arming period(s) and one working period, then exit\n"
                "  --periods N       N working periods after the arming one(s), then exit\n"
                "  --control-socket PATH  the control socket (default: control.socket,\n"
                "                    " CONTROL_SOCKET_DEFAULT "); '' for none\n"
                "  --log-target T    auto (the journal when stderr is its stream), journal, stderr\n"
                "\n"
                "scan options (defaults from the configuration's scanner section):\n"
                "  --cgroup PATH     a tenant (repeatable): relative to the cgroup mount, or absolute\n"
                "  --backend NAME    idle_page, damon, bpf, lru_gen or auto (the best usable one)\n"
                "  --periods N       measured periods after one arming scan (default 3)\n"
                "  --period-ms MS    length of a period\n"
                "  --cpu-budget PM   scan CPU per period, per mille of one CPU (0: unlimited)\n"
                "  --max-candidates N  mover candidates per tenant and direction (default 64)\n"
                "  --physical        physical mode (idle_page): every LRU page by its memcg\n"
                "  --ranges          report every classified range (--json)\n"
                "  --sysfs-root DIR  read sysfs from DIR instead of /sys (probe)\n"
                "  --procfs-root DIR read procfs from DIR instead of /proc (probe)\n"
                "  -v, --verbose     debug logging\n"

                "  --version, -h, --help\n");
}

int main(int argc, char **argv) {
        static const struct option opts[] = {
                { "json", no_argument, NULL, 'j' },
                { "config", required_argument, NULL, 'c' },
                { "check-config", no_argument, NULL, 'C' },
                { "seconds", required_argument, NULL, 's' },
                { "sysfs-root", required_argument, NULL, 'S' },
                { "procfs-root", required_argument, NULL, 'P' },
                { "cgroup", required_argument, NULL, 'g' },
                { "backend", required_argument, NULL, 'b' },
                { "periods", required_argument, NULL, 'n' },
                { "period-ms", required_argument, NULL, 'p' },
                { "cpu-budget", required_argument, NULL, 'B' },
                { "max-candidates", required_argument, NULL, 'm' },
                { "physical", no_argument, NULL, 'H' },
                { "period", required_argument, NULL, 'T' },
                { "once", no_argument, NULL, 'O' },
                { "ranges", no_argument, NULL, 'r' },
                { "control-socket", required_argument, NULL, 'K' },
                { "log-target", required_argument, NULL, 'L' },
                { "verbose", no_argument, NULL, 'v' },
                { "version", no_argument, NULL, 'V' },
                { "help", no_argument, NULL, 'h' },
                {},
        };
        Args a = {
                .seconds = 5,
                .config_path = TIERD_CONFIG_PATH,
                .scan = { .periods = 3, .max_candidates = 64, .cpu_budget_permille = UINT32_MAX },
        };
        _cleanup_free_ char **cgroups = NULL;
        int c;

        while ((c = getopt_long(argc, argv, "vh", opts, NULL)) >= 0)
                switch (c) {
                case 'j':
                        a.json = true;
                        break;
                case 's': {
                        char *end;

                        a.seconds = strtod(optarg, &end);
                        if (*end || a.seconds <= 0 || a.seconds > 86400) {
                                log_error("--seconds: '%s' is not a number of seconds between 0 and 86400", optarg);
                                return 2;
                        }
                        break;
                }
                case 'c':
                        a.config_path = optarg;
                        break;
                case 'g': {
                        char **n = realloc(cgroups, (a.scan.n_cgroups + 1) * sizeof(*n));

                        if (!n)
                                return log_error_errno(-ENOMEM, "out of memory"), 1;
                        cgroups = n;
                        cgroups[a.scan.n_cgroups++] = optarg;
                        a.scan.cgroups = cgroups;
                        break;
                }
                case 'b':
                        a.scan.backend = optarg;
                        break;
                case 'n':
                case 'p':
                case 'B':
                case 'm': {
                        static const struct { int opt; const char *name; uint64_t min, max; } lim[] = {
                                { 'n', "--periods", 1, 100000 },
                                { 'p', "--period-ms", 10, 3600000 },
                                { 'B', "--cpu-budget", 0, 1000 },
                                { 'm', "--max-candidates", 0, 1000000 },
                        };
                        uint64_t v;
                        size_t i = 0;

                        while (lim[i].opt != c)
                                i++;
                        if (parse_u64(optarg, &v) < 0 || v < lim[i].min || v > lim[i].max) {
                                log_error("%s: '%s' is not a whole number between %" PRIu64 " and %" PRIu64, lim[i].name,
                                          optarg, lim[i].min, lim[i].max);
                                return 2;
                        }
                        if (c == 'n') {
                                a.scan.periods = (unsigned) v;
                                a.periods_given = true;
                        }
                        else if (c == 'p')
                                a.scan.period_ms = v;
                        else if (c == 'B')
                                a.scan.cpu_budget_permille = (uint32_t) v;
                        else
                                a.scan.max_candidates = (size_t) v;
                        break;
                }
                case 'H':
                        a.scan.physical = true;
                        break;
                case 'T': {
                        char *end;
                        double sec = strtod(optarg, &end);

                        if (*end || !(sec >= 0.01 && sec <= 3600)) {
                                log_error("--period: '%s' is not a number of seconds between 0.01 and 3600", optarg);
                                return 2;
                        }
                        a.period_ms = (uint64_t) (sec * 1000 + 0.5);
                        break;
                }
                case 'O':
                        a.once = true;
                        break;
                case 'r':
                        a.scan.ranges = true;
                        break;
                case 'K':
                        a.control_socket = optarg;
                        if (optarg[0] && optarg[0] != '/') {
                                log_error("--control-socket: '%s' is not an absolute path (or '' for none)", optarg);
                                return 2;
                        }
                        break;
                case 'L':
                        a.log_target = log_target_from_string(optarg);
                        if (a.log_target == _LOG_TARGET_INVALID) {
                                log_error("--log-target: '%s' is not one of auto, journal, stderr", optarg);
                                return 2;
                        }
                        break;
                case 'C':
                        a.check_config = true;
                        break;
                case 'S':
                        a.sysfs_root = optarg;
                        break;
                case 'P':
                        a.procfs_root = optarg;
                        break;
                case 'v':
                        log_set_max_level(LOG_LVL_DEBUG);
                        break;
                case 'V':
                        puts("tierd " TIERD_VERSION);
                        return 0;
                case 'h':
                        usage(stdout);
                        return 0;
                default:
                        usage(stderr);
                        return 2;
                }

        log_set_target(a.log_target);
        if (a.check_config) {
                if (optind < argc) {
                        log_error("--check-config: unexpected argument '%s'", argv[optind]);
                        return 2;
                }
                return check_config(&a);
        }
        if (optind >= argc) {
                DaemonArgs d = {
                        .config_path = a.config_path,
                        .sysfs_root = a.sysfs_root,
                        .procfs_root = a.procfs_root,
                        .period_ms = a.period_ms ? a.period_ms : a.scan.period_ms,
                        .backend = a.scan.backend,
                        .periods = a.once ? 1 : a.periods_given ? a.scan.periods : 0,
                        .json = a.json,
                        .control_socket = a.control_socket,
                };

                if (a.once && a.periods_given) {
                        log_error("--once and --periods: give one of them");
                        return 2;
                }
                return daemon_run(&d);
        }
        for (size_t i = 0; i < ELEMENTSOF(verbs); i++)
                if (strcmp(argv[optind], verbs[i].name) == 0) {
                        if (optind + 1 < argc) {
                                log_error("%s: unexpected argument '%s'", verbs[i].name, argv[optind + 1]);
                                return 2;
                        }
                        return verbs[i].run(&a);
                }
        log_error("unknown command '%s' (see tierd --help)", argv[optind]);
        return 2;
}
