/* SPDX-License-Identifier: MIT */
/* mover-cli: drives one mover of migrate/ from the command line and prints
 * JSON, for test/vm/test-movers.py. Errors are JSON on stdout too:
 * {"error": "...", "errno": N}.
 *
 *   mover-cli move-pages --pid PID --node N [--range START-END ...]
 *             [--report FILE [--part cold|hot|all]] [--batch N]
 *             [--max-bytes SIZE] [--no-thp] [--pause-us US]
 *       Ranges are decimal or 0x-hex byte addresses; --report takes them
 *       from a workload report (test/helpers/workload.c): its hot ranges,
 *       or the rest of its mapping (cold), or all of it.
 *       {"pid", "node", "bytes_moved", "bytes_failed", "pages": {OUTCOME: N},
 *        "thp_moved", "calls", "batches", "exited", "capped", "seconds"}
 *
 *   mover-cli reclaim --cgroup PATH --bytes SIZE [--mount DIR]
 *       {"cgroup", "requested", "partial", "vanished", "demotion_enabled",
 *        "seconds", "before"/"after": {"anon": {NODE: B}, "file": {...}},
 *        "delta": {NODE: B}, "moved_bytes", "freed_bytes", "grown_bytes"}
 *
 *   mover-cli damos --cgroup PATH [--cgroup PATH ...] --fast-node N
 *             --slow-node N [--promote-rate SIZE] [--demote-rate SIZE]
 *             [--duration S] [--interval-ms MS] [--sample-us US]
 *             [--aggr-us US] [--cold-age-ms MS] [--check-ms MS] [--ready FILE]
 *       With --check-ms, the first MS run the young check alone (check_only,
 *       as in tierd's first period of a tenant). Runs the schemes until
 *       --duration (default 60 s) or SIGTERM/SIGINT, reading the stats
 *       every --interval-ms (default 1000), then removes the kdamond and
 *       prints
 *       {"kdamond_pid", "seconds", "tenants": [{"cgroup", "promote": STATS,
 *        "demote": STATS}], "history": [{"t", "sz_applied": [[P, D], ...]}]}
 *       STATS = {"nr_tried", "sz_tried", "nr_applied", "sz_applied",
 *       "qt_exceeds"} or null. --ready FILE is created once it runs (after
 *       the check window), holding the kdamond's pid.
 *
 * SIZE: bytes, or with a K, M or G suffix (binary). Rates are per second.
 * Exit status: 0 ok, 1 failure, 2 bad usage. */
#include <errno.h>
#include <getopt.h>
#include <json-c/json.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "mover.h"
#include "util.h"

static volatile sig_atomic_t stop;

static void on_signal(int sig _unused_) {
        stop = 1;
}

static int print_json(json_object *o) {
        puts(json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE));
        json_object_put(o);
        return fflush(stdout) == 0 ? 0 : -errno;
}

static int fail(int r, const char *what) {
        json_object *o = json_object_new_object();
        char msg[512];

        snprintf(msg, sizeof(msg), "%s: %s", what, strerror(r < 0 ? -r : r));
        json_object_object_add(o, "error", json_object_new_string(msg));
        json_object_object_add(o, "errno", json_object_new_int(r < 0 ? -r : r));
        print_json(o);
        return 1;
}

static int usage(const char *msg) {
        fprintf(stderr, "mover-cli: %s (see the head of test/helpers/mover-cli.c)\n", msg);
        return 2;
}

static double now_s(void) {
        struct timespec ts;

        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (double) ts.tv_sec + (double) ts.tv_nsec / 1e9;
}

static int parse_size(const char *s, uint64_t *ret) {
        char *end;
        unsigned long long v;
        uint64_t mul = 1;

        errno = 0;
        v = strtoull(s, &end, 0);
        if (errno || end == s)
                return -EINVAL;
        switch (*end) {
        case 'K': case 'k': mul = 1ULL << 10; end++; break;
        case 'M': case 'm': mul = 1ULL << 20; end++; break;
        case 'G': case 'g': mul = 1ULL << 30; end++; break;
        default: break;
        }
        if (*end || (v && mul > UINT64_MAX / v))
                return -EINVAL;
        *ret = v * mul;
        return 0;
}

/* ---- move-pages --------------------------------------------------------- */

static int add_range(ScanRange **rs, size_t *n, pid_t pid, uint64_t s, uint64_t e) {
        ScanRange *p;

        if (e <= s)
                return 0;
        p = realloc(*rs, (*n + 1) * sizeof(*p));
        if (!p)
                return -ENOMEM;
        *rs = p;
        p[(*n)++] = (ScanRange) { .kind = SCAN_RANGE_VADDR, .pid = pid, .start = s, .end = e, .tier = -1, .node = -1 };
        return 0;
}

static int ranges_from_report(const char *file, const char *part, pid_t pid, ScanRange **rs, size_t *n) {
        json_object *o = json_object_from_file(file), *v, *hot;
        uint64_t base, size, hs[2] = { 0 }, he[2] = { 0 };
        size_t nh;
        int r = 0;

        if (!o)
                return -EINVAL;
        if (!json_object_object_get_ex(o, "base", &v) || !(base = json_object_get_uint64(v)) ||
            !json_object_object_get_ex(o, "size_bytes", &v) || !(size = json_object_get_uint64(v)) ||
            !json_object_object_get_ex(o, "hot", &hot) || json_object_array_length(hot) > 2) {
                json_object_put(o);
                return -EINVAL;
        }
        nh = json_object_array_length(hot);
        for (size_t i = 0; i < nh; i++) {
                json_object *h = json_object_array_get_idx(hot, i);

                json_object_object_get_ex(h, "start", &v);
                hs[i] = json_object_get_uint64(v);
                json_object_object_get_ex(h, "end", &v);
                he[i] = json_object_get_uint64(v);
        }
        json_object_put(o);
        if (strcmp(part, "all") == 0)
                return add_range(rs, n, pid, base, base + size);
        if (strcmp(part, "hot") == 0) {
                for (size_t i = 0; r >= 0 && i < nh; i++)
                        r = add_range(rs, n, pid, hs[i], he[i]);
                return r;
        }
        if (strcmp(part, "cold") != 0)
                return -EINVAL;
        /* the complement of the hot ranges (at most two, sorted here) */
        if (nh == 2 && hs[1] < hs[0]) {
                uint64_t t = hs[0]; hs[0] = hs[1]; hs[1] = t;
                t = he[0]; he[0] = he[1]; he[1] = t;
        }
        {
                uint64_t at = base;

                for (size_t i = 0; r >= 0 && i < nh; i++) {
                        r = add_range(rs, n, pid, at, hs[i]);
                        at = he[i];
                }
                if (r >= 0)
                        r = add_range(rs, n, pid, at, base + size);
        }
        return r;
}

static int cmd_move_pages(int argc, char **argv) {
        static const struct option opts[] = {
                { "pid", required_argument, NULL, 'p' },      { "node", required_argument, NULL, 'n' },
                { "range", required_argument, NULL, 'r' },    { "report", required_argument, NULL, 'R' },
                { "part", required_argument, NULL, 'P' },     { "batch", required_argument, NULL, 'b' },
                { "max-bytes", required_argument, NULL, 'm' }, { "no-thp", no_argument, NULL, 'T' },
                { "pause-us", required_argument, NULL, 'u' }, {},
        };
        _cleanup_free_ ScanRange *ranges = NULL;
        _cleanup_free_ char **raw = NULL;
        MovePagesOptions o = { .node = -1 };
        MovePagesResult res;
        const char *report = NULL, *part = "cold";
        size_t n = 0, n_raw = 0;
        uint64_t v, want = 0;
        pid_t pid = 0;
        json_object *j, *pages;
        double t0;
        int c, r;

        raw = calloc((size_t) argc, sizeof(*raw));
        if (!raw)
                return fail(-ENOMEM, "move-pages");
        while ((c = getopt_long(argc, argv, "", opts, NULL)) >= 0) {
                switch (c) {
                case 'p':
                        if (parse_u64(optarg, &v) < 0 || v == 0 || v > INT32_MAX)
                                return usage("--pid: not a pid");
                        pid = (pid_t) v;
                        break;
                case 'n':
                        if (parse_u64(optarg, &v) < 0 || v > 1023)
                                return usage("--node: not a node id");
                        o.node = (int) v;
                        break;
                case 'r': raw[n_raw++] = optarg; break;
                case 'R': report = optarg; break;
                case 'P': part = optarg; break;
                case 'b':
                        if (parse_u64(optarg, &v) < 0 || v == 0 || v > 1 << 20)
                                return usage("--batch: 1..1048576");
                        o.batch = (size_t) v;
                        break;
                case 'm':
                        if (parse_size(optarg, &o.max_bytes) < 0)
                                return usage("--max-bytes: not a size");
                        break;
                case 'T': o.no_thp = true; break;
                case 'u':
                        if (parse_u64(optarg, &v) < 0 || v > 10000000)
                                return usage("--pause-us: 0..10000000");
                        o.batch_pause_us = (uint32_t) v;
                        break;
                default: return 2;
                }
        }
        if (pid == 0 || o.node < 0)
                return usage("move-pages needs --pid and --node");
        for (size_t i = 0; i < n_raw; i++) {
                unsigned long long s, e;

                if (sscanf(raw[i], "%lli-%lli", (long long *) &s, (long long *) &e) != 2 || e <= s)
                        return usage("--range: START-END");
                if (add_range(&ranges, &n, pid, s, e) < 0)
                        return fail(-ENOMEM, "move-pages");
        }
        if (report) {
                r = ranges_from_report(report, part, pid, &ranges, &n);
                if (r < 0)
                        return fail(r, "cannot take ranges from the workload report");
        }
        for (size_t i = 0; i < n; i++)
                want += ranges[i].end - ranges[i].start;

        t0 = now_s();
        r = mover_move_pages(pid, ranges, n, &o, &res);
        if (r < 0)
                return fail(r, "mover_move_pages");
        j = json_object_new_object();
        json_object_object_add(j, "pid", json_object_new_int(pid));
        json_object_object_add(j, "node", json_object_new_int(o.node));
        json_object_object_add(j, "ranges", json_object_new_uint64(n));
        json_object_object_add(j, "requested_bytes", json_object_new_uint64(want));
        json_object_object_add(j, "bytes_moved", json_object_new_uint64(res.bytes_moved));
        json_object_object_add(j, "bytes_failed", json_object_new_uint64(res.bytes_failed));
        pages = json_object_new_object();
        for (int k = 0; k < _MOVE_OUTCOME_MAX; k++)
                json_object_object_add(pages, move_outcome_to_string((MoveOutcome) k),
                                       json_object_new_uint64(res.pages[k]));
        json_object_object_add(j, "pages", pages);
        json_object_object_add(j, "thp_moved", json_object_new_uint64(res.thp_moved));
        json_object_object_add(j, "calls", json_object_new_uint64(res.calls));
        json_object_object_add(j, "batches", json_object_new_uint64(res.batches));
        json_object_object_add(j, "exited", json_object_new_boolean(res.exited));
        json_object_object_add(j, "capped", json_object_new_boolean(res.capped));
        json_object_object_add(j, "seconds", json_object_new_double(now_s() - t0));
        return print_json(j) < 0 ? 1 : 0;
}

/* ---- reclaim ------------------------------------------------------------ */

static json_object *node_map(uint64_t nodes, const uint64_t *values) {
        json_object *o = json_object_new_object();

        for (int n = 0; n < CGROUP_MAX_NODES; n++) {
                char key[8];

                if (!(nodes & (UINT64_C(1) << n)))
                        continue;
                snprintf(key, sizeof(key), "%d", n);
                json_object_object_add(o, key, json_object_new_uint64(values[n]));
        }
        return o;
}

static json_object *numa_json(const CgroupNumaStat *s) {
        json_object *o = json_object_new_object();

        json_object_object_add(o, "anon", node_map(s->nodes, s->anon));
        json_object_object_add(o, "file", node_map(s->nodes, s->file));
        return o;
}

static int cmd_reclaim(int argc, char **argv) {
        static const struct option opts[] = {
                { "cgroup", required_argument, NULL, 'c' },
                { "bytes", required_argument, NULL, 'b' },
                { "mount", required_argument, NULL, 'M' },
                {},
        };
        const char *cgroup = NULL, *mount = "/sys/fs/cgroup";
        ReclaimResult res;
        uint64_t bytes = 0;
        json_object *j, *d;
        int c, r;

        while ((c = getopt_long(argc, argv, "", opts, NULL)) >= 0) {
                switch (c) {
                case 'c': cgroup = optarg; break;
                case 'M': mount = optarg; break;
                case 'b':
                        if (parse_size(optarg, &bytes) < 0 || bytes == 0)
                                return usage("--bytes: not a size");
                        break;
                default: return 2;
                }
        }
        if (!cgroup || !bytes)
                return usage("reclaim needs --cgroup and --bytes");
        r = mover_reclaim(mount, cgroup, bytes, "/sys", &res);
        if (r < 0)
                return fail(r, "mover_reclaim");
        j = json_object_new_object();
        json_object_object_add(j, "cgroup", json_object_new_string(cgroup));
        json_object_object_add(j, "requested", json_object_new_uint64(res.requested));
        json_object_object_add(j, "partial", json_object_new_boolean(res.partial));
        json_object_object_add(j, "vanished", json_object_new_boolean(res.vanished));
        json_object_object_add(j, "demotion_enabled", json_object_new_int(res.demotion_enabled));
        json_object_object_add(j, "seconds", json_object_new_double(res.seconds));
        json_object_object_add(j, "before", numa_json(&res.before));
        json_object_object_add(j, "after", numa_json(&res.after));
        d = json_object_new_object();
        for (int n = 0; n < CGROUP_MAX_NODES; n++) {
                char key[8];

                if (!(res.diff.nodes & (UINT64_C(1) << n)))
                        continue;
                snprintf(key, sizeof(key), "%d", n);
                json_object_object_add(d, key, json_object_new_int64(res.diff.delta[n]));
        }
        json_object_object_add(j, "delta", d);
        json_object_object_add(j, "moved_bytes", json_object_new_uint64(res.diff.moved_bytes));
        json_object_object_add(j, "freed_bytes", json_object_new_uint64(res.diff.freed_bytes));
        json_object_object_add(j, "grown_bytes", json_object_new_uint64(res.diff.grown_bytes));
        return print_json(j) < 0 ? 1 : 0;
}

/* ---- damos -------------------------------------------------------------- */

static json_object *stats_json(bool has, const DamosStats *s) {
        json_object *o;

        if (!has)
                return NULL;
        o = json_object_new_object();
        json_object_object_add(o, "nr_tried", json_object_new_uint64(s->nr_tried));
        json_object_object_add(o, "sz_tried", json_object_new_uint64(s->sz_tried));
        json_object_object_add(o, "nr_applied", json_object_new_uint64(s->nr_applied));
        json_object_object_add(o, "sz_applied", json_object_new_uint64(s->sz_applied));
        json_object_object_add(o, "qt_exceeds", json_object_new_uint64(s->qt_exceeds));
        return o;
}

static int cmd_damos(int argc, char **argv) {
        static const struct option opts[] = {
                { "cgroup", required_argument, NULL, 'c' },       { "fast-node", required_argument, NULL, 'f' },
                { "slow-node", required_argument, NULL, 's' },    { "promote-rate", required_argument, NULL, 'P' },
                { "demote-rate", required_argument, NULL, 'D' },  { "duration", required_argument, NULL, 'd' },
                { "interval-ms", required_argument, NULL, 'i' },  { "sample-us", required_argument, NULL, 'S' },
                { "aggr-us", required_argument, NULL, 'A' },      { "cold-age-ms", required_argument, NULL, 'C' },
                { "ready", required_argument, NULL, 'r' },        { "check-ms", required_argument, NULL, 'K' },
                {},
        };
        _cleanup_(damos_closep) DamosMover *m = NULL;
        _cleanup_free_ DamosTenant *tenants = NULL;
        _cleanup_free_ DamosTenantStats *st = NULL;
        DamosOptions o = { .fast_node = -1, .slow_node = -1 };
        uint64_t promote = 64ULL << 20, demote = 0, duration = 60, interval_ms = 1000, check_ms = 0, v;
        const char *ready = NULL;
        json_object *j, *hist, *ts;
        size_t n = 0;
        pid_t kpid;
        double t0;
        int c, r;

        tenants = calloc((size_t) argc, sizeof(*tenants));
        if (!tenants)
                return fail(-ENOMEM, "damos");
        while ((c = getopt_long(argc, argv, "", opts, NULL)) >= 0) {
                switch (c) {
                case 'c': tenants[n++].cgroup = optarg; break;
                case 'f':
                case 's':
                        if (parse_u64(optarg, &v) < 0 || v > 1023)
                                return usage("--fast-node/--slow-node: not a node id");
                        *(c == 'f' ? &o.fast_node : &o.slow_node) = (int) v;
                        break;
                case 'P':
                case 'D':
                        if (parse_size(optarg, &v) < 0)
                                return usage("--promote-rate/--demote-rate: not a size");
                        *(c == 'P' ? &promote : &demote) = v;
                        break;
                case 'd':
                        if (parse_u64(optarg, &duration) < 0)
                                return usage("--duration: seconds");
                        break;
                case 'i':
                        if (parse_u64(optarg, &interval_ms) < 0 || interval_ms == 0)
                                return usage("--interval-ms: milliseconds");
                        break;
                case 'S':
                        if (parse_u64(optarg, &o.sample_us) < 0)
                                return usage("--sample-us: microseconds");
                        break;
                case 'A':
                        if (parse_u64(optarg, &o.aggr_us) < 0)
                                return usage("--aggr-us: microseconds");
                        break;
                case 'C':
                        if (parse_u64(optarg, &v) < 0)
                                return usage("--cold-age-ms: milliseconds");
                        o.cold_min_age_us = v * 1000;
                        break;
                case 'K':
                        if (parse_u64(optarg, &check_ms) < 0)
                                return usage("--check-ms: milliseconds");
                        break;
                case 'r': ready = optarg; break;
                default: return 2;
                }
        }
        if (n == 0 || o.fast_node < 0 || o.slow_node < 0)
                return usage("damos needs --cgroup, --fast-node and --slow-node");
        for (size_t i = 0; i < n; i++) {
                tenants[i].promote_rate = promote;
                tenants[i].demote_rate = demote;
                tenants[i].check_only = check_ms > 0;
        }
        o.keep_slots = check_ms > 0; /* damos_update() ends the check window */
        st = calloc(n, sizeof(*st));
        if (!st)
                return fail(-ENOMEM, "damos");

        signal(SIGTERM, on_signal);
        signal(SIGINT, on_signal);
        r = damos_open(&o, tenants, n, &m);
        if (r < 0)
                return fail(r, "damos_open");
        kpid = damos_kdamond_pid(m);
        if (check_ms > 0) {
                nanosleep(&(struct timespec) { .tv_sec = (time_t) (check_ms / 1000),
                                               .tv_nsec = (long) (check_ms % 1000) * 1000000 },
                          NULL);
                for (size_t i = 0; i < n; i++)
                        tenants[i].check_only = false;
                r = damos_update(m, tenants, n);
                if (r < 0)
                        return fail(r, "damos_update");
        }
        if (ready) {
                FILE *f = fopen(ready, "w");

                if (f) {
                        fprintf(f, "%d\n", (int) kpid);
                        fclose(f);
                }
        }
        hist = json_object_new_array();
        t0 = now_s();
        while (!stop && now_s() - t0 < (double) duration) {
                json_object *h, *a;

                nanosleep(&(struct timespec) { .tv_sec = (time_t) (interval_ms / 1000),
                                               .tv_nsec = (long) (interval_ms % 1000) * 1000000 },
                          NULL);
                r = damos_read_stats(m, st, n);
                if (r < 0) {
                        json_object_put(hist);
                        return fail(r, "damos_read_stats");
                }
                h = json_object_new_object();
                a = json_object_new_array();
                json_object_object_add(h, "t", json_object_new_double(now_s() - t0));
                for (size_t i = 0; i < n; i++) {
                        json_object *p = json_object_new_array();

                        json_object_array_add(p, json_object_new_uint64(st[i].promote.sz_applied));
                        json_object_array_add(p, json_object_new_uint64(st[i].demote.sz_applied));
                        json_object_array_add(a, p);
                }
                json_object_object_add(h, "sz_applied", a);
                json_object_array_add(hist, h);
        }
        r = damos_read_stats(m, st, n);
        damos_close(TAKE_PTR(m));
        j = json_object_new_object();
        json_object_object_add(j, "kdamond_pid", json_object_new_int(kpid));
        json_object_object_add(j, "seconds", json_object_new_double(now_s() - t0));
        if (r < 0)
                json_object_object_add(j, "final_stats_error", json_object_new_int(-r));
        ts = json_object_new_array();
        for (size_t i = 0; i < n; i++) {
                json_object *t = json_object_new_object();

                json_object_object_add(t, "cgroup", json_object_new_string(tenants[i].cgroup));
                json_object_object_add(t, "promote", stats_json(st[i].has_promote, &st[i].promote));
                json_object_object_add(t, "demote", stats_json(st[i].has_demote, &st[i].demote));
                json_object_array_add(ts, t);
        }
        json_object_object_add(j, "tenants", ts);
        json_object_object_add(j, "history", hist);
        return print_json(j) < 0 ? 1 : 0;
}

int main(int argc, char **argv) {
        if (getenv("TIERD_DEBUG"))
                log_set_max_level(LOG_LVL_DEBUG);
        if (argc < 2)
                return usage("a command: move-pages, reclaim or damos");
        if (strcmp(argv[1], "move-pages") == 0)
                return cmd_move_pages(argc - 1, argv + 1);
        if (strcmp(argv[1], "reclaim") == 0)
                return cmd_reclaim(argc - 1, argv + 1);
        if (strcmp(argv[1], "damos") == 0)
                return cmd_damos(argc - 1, argv + 1);
        return usage("unknown command");
}
