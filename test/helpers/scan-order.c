/* SPDX-License-Identifier: MIT */
/* scan-order: one scanner backend driven over periods with the targets in
 * an order that changes every period (as the period pipeline gives them,
 * by need), printing what each scan was for each tenant, for
 * test/vm/test-scan-idle.py. `tierd scan` keeps its --cgroup order.
 *
 *   scan-order --cgroup PATH --cgroup PATH... [--backend NAME]
 *              [--periods N] [--period-ms MS] [--cpu-budget PERMILLE]
 *              [--physical] [--mount DIR]
 *
 * Period p (0 is the arming one, N + 1 scans in all) gives the targets
 * rotated left by p: with two, the order alternates. Each target's
 * processes are its cgroup.procs, its id the inode of its directory, read
 * every period. Prints one JSON object:
 *   {"backend", "periods": [{"period", "order": [PATH...], "scan_ms",
 *    "tenants": {PATH: {"pass": [...], "tracked_bytes", "hot_bytes",
 *    "cold_bytes"}}}]}
 * Exit status: 0 ok, 1 failure, 2 bad usage. */
#include <errno.h>
#include <getopt.h>
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "heat.h"
#include "scanner.h"
#include "topology.h"
#include "util.h"

#define MAX_TARGETS 16

static double now_ms(void) {
        struct timespec ts;

        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (double) ts.tv_sec * 1e3 + (double) ts.tv_nsec / 1e6;
}

/* T's id and processes, from MOUNT/PATH; a cgroup that is gone has none. */
static int target_read(const char *mount, const char *path, ScanTarget *t, pid_t **pids) {
        _cleanup_free_ char *dir = NULL, *procs = NULL;
        struct stat st;
        size_t n = 0, alloc = 0;
        int r;

        free(*pids);
        *pids = NULL;
        *t = (ScanTarget) { .cgroup_path = path, .cgroup_id = t->cgroup_id };
        r = path_join_root(mount, path, &dir);
        if (r < 0)
                return r;
        if (stat(dir, &st) < 0)
                return 0;
        t->cgroup_id = (uint64_t) st.st_ino;
        r = read_full_file(dir, "cgroup.procs", &procs, NULL);
        if (r < 0)
                return r == -ENOMEM ? r : 0;
        for (char *p = procs, *end; *p; p = end) {
                long v = strtol(p, &end, 10);

                if (end == p)
                        break;
                if (n == alloc) {
                        pid_t *np = realloc(*pids, (alloc = alloc ? alloc * 2 : 16) * sizeof(*np));

                        if (!np)
                                return -ENOMEM;
                        *pids = np;
                }
                (*pids)[n++] = (pid_t) v;
        }
        t->pids = *pids;
        t->n_pids = n;
        return 0;
}

static json_object *pass_json(unsigned pass) {
        json_object *a = json_object_new_array();

        if (pass & HEAT_PASS_BEGIN)
                json_object_array_add(a, json_object_new_string("begin"));
        if (pass & HEAT_PASS_END)
                json_object_array_add(a, json_object_new_string("end"));
        if (pass & HEAT_PASS_EXACT)
                json_object_array_add(a, json_object_new_string("exact"));
        if (pass & HEAT_PASS_BYTE_ONLY)
                json_object_array_add(a, json_object_new_string("byte_only"));
        return a;
}

typedef struct Args {
        const char *paths[MAX_TARGETS];
        size_t n;
        const char *backend, *mount;
        unsigned long periods, period_ms, budget;
        bool physical;
} Args;

/* 0, or the exit status. */
static int parse_args(int argc, char **argv, Args *a) {
        static const struct option opts[] = {
                { "cgroup", required_argument, NULL, 'c' },
                { "backend", required_argument, NULL, 'b' },
                { "periods", required_argument, NULL, 'n' },
                { "period-ms", required_argument, NULL, 'p' },
                { "cpu-budget", required_argument, NULL, 'B' },
                { "physical", no_argument, NULL, 'P' },
                { "mount", required_argument, NULL, 'm' },
                {},
        };
        int c;

        *a = (Args) { .backend = "idle_page", .mount = "/sys/fs/cgroup", .periods = 8, .period_ms = 1000 };
        while ((c = getopt_long(argc, argv, "", opts, NULL)) >= 0)
                switch (c) {
                case 'c':
                        if (a->n == MAX_TARGETS)
                                return fprintf(stderr, "scan-order: at most %d --cgroup\n", MAX_TARGETS), 2;
                        a->paths[a->n++] = optarg;
                        break;
                case 'b':
                        a->backend = optarg;
                        break;
                case 'n':
                        a->periods = strtoul(optarg, NULL, 10);
                        break;
                case 'p':
                        a->period_ms = strtoul(optarg, NULL, 10);
                        break;
                case 'B':
                        a->budget = strtoul(optarg, NULL, 10);
                        break;
                case 'P':
                        a->physical = true;
                        break;
                case 'm':
                        a->mount = optarg;
                        break;
                default:
                        return 2;
                }
        if (a->n == 0 || optind < argc)
                return fprintf(stderr, "usage: scan-order --cgroup PATH... [--backend NAME] [--periods N] "
                                       "[--period-ms MS] [--cpu-budget PERMILLE] [--physical] [--mount DIR]\n"), 2;
        return 0;
}

typedef struct Run {
        const Args *a;
        const ScannerOps *ops;
        Scanner *s;
        ScanTarget order[MAX_TARGETS], by_path[MAX_TARGETS];
        pid_t *pids[MAX_TARGETS];
        TenantHeat heat[MAX_TARGETS];
} Run;

/* Period P: the targets rotated left by P, scanned; its history entry. */
static int run_period(Run *w, unsigned long p, json_object *hist) {
        const Args *a = w->a;
        json_object *e = json_object_new_object(), *ord = json_object_new_array(), *ten = json_object_new_object();
        double t0 = now_ms();
        int r = 0;

        for (size_t i = 0; i < a->n && r >= 0; i++)
                r = target_read(a->mount, a->paths[i], &w->by_path[i], &w->pids[i]);
        for (size_t i = 0; i < a->n; i++) {
                w->order[i] = w->by_path[(i + p) % a->n];
                tenant_heat_clear(&w->heat[i]);
                w->heat[i].cgroup_id = w->order[i].cgroup_id;
                json_object_array_add(ord, json_object_new_string(w->order[i].cgroup_path));
        }
        if (r >= 0)
                r = w->ops->scan(w->s, w->order, a->n, w->heat);
        json_object_object_add(e, "period", json_object_new_uint64(p));
        json_object_object_add(e, "order", ord);
        json_object_object_add(e, "scan_ms", json_object_new_double(now_ms() - t0));
        for (size_t i = 0; i < a->n && r >= 0; i++) {
                json_object *x = json_object_new_object();
                uint64_t hot, cold;

                heat_summary_totals(&w->heat[i].heat, &hot, &cold);
                json_object_object_add(x, "pass", pass_json(w->heat[i].pass));
                json_object_object_add(x, "tracked_bytes", json_object_new_uint64(w->heat[i].tracked_bytes));
                json_object_object_add(x, "hot_bytes", json_object_new_uint64(hot));
                json_object_object_add(x, "cold_bytes", json_object_new_uint64(cold));
                json_object_object_add(ten, w->order[i].cgroup_path, x);
        }
        json_object_object_add(e, "tenants", ten);
        json_object_array_add(hist, e);
        return r;
}

int main(int argc, char **argv) {
        Args a;
        Run w = { .a = &a };
        Topology *topo = NULL;
        json_object *out, *hist;
        int r;

        r = parse_args(argc, argv, &a);
        if (r != 0)
                return r;
        w.ops = scanner_find(a.backend);
        if (!w.ops)
                return fprintf(stderr, "scan-order: no backend '%s'\n", a.backend), 2;
        r = topology_load("/sys", &topo);
        if (r < 0)
                return fprintf(stderr, "scan-order: topology: %s\n", strerror(-r)), 1;
        {
                ScanOptions o = {
                        .sysfs_root = "/sys",
                        .procfs_root = "/proc",
                        .cgroup_mount = a.mount,
                        .topology = topo,
                        .period_ms = a.period_ms,
                        .cpu_budget_permille = (uint32_t) a.budget,
                        .max_candidates = 16,
                        .flags = a.physical ? HEAT_PHYSICAL : 0,
                };

                r = w.ops->open(&o, &w.s);
        }
        if (r < 0) {
                topology_free(topo);
                return fprintf(stderr, "scan-order: cannot open %s: %s\n", a.backend, strerror(-r)), 1;
        }
        out = json_object_new_object();
        hist = json_object_new_array();
        json_object_object_add(out, "backend", json_object_new_string(w.ops->name));
        for (unsigned long p = 0; p <= a.periods && r >= 0; p++) {
                double t0 = now_ms(), left;

                r = run_period(&w, p, hist);
                left = (double) a.period_ms - (now_ms() - t0);
                if (r >= 0 && p < a.periods && left > 0) {
                        struct timespec ts = { .tv_sec = (time_t) (left / 1e3) };

                        ts.tv_nsec = (long) ((left - (double) ts.tv_sec * 1e3) * 1e6);
                        nanosleep(&ts, NULL);
                }
        }
        json_object_object_add(out, "periods", hist);
        if (r < 0)
                json_object_object_add(out, "error", json_object_new_string(strerror(-r)));
        puts(json_object_to_json_string_ext(out, JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_NOSLASHESCAPE));
        json_object_put(out);
        for (size_t i = 0; i < a.n; i++) {
                tenant_heat_clear(&w.heat[i]);
                free(w.pids[i]);
        }
        w.ops->close(w.s);
        topology_free(topo);
        return r < 0 ? 1 : 0;
}
