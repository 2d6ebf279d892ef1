/* SPDX-License-Identifier: MIT */
/* metrics-serve: the metrics endpoint (agent/metrics.c) fed from JSON
 * files instead of a running daemon, so the endpoint can be scraped by a
 * real Prometheus on the host without touching the kernel.
 *
 *   metrics-serve --render SNAPSHOT.json
 *       prints metrics_render() of the snapshot
 *   metrics-serve --listen ADDRESS [SNAPSHOT.json]
 *       serves GET /metrics on ADDRESS, prints "port N" once listening
 *       (the kernel's choice for port 0); publishes SNAPSHOT.json if
 *       given, then one snapshot file per line read from stdin, answering
 *       "published" after each; stops at the end of stdin.
 *
 * The JSON mirrors StatusSnapshot (agent/status.h): version, scanner,
 * mover, period_ms, periods_total, started_realtime_s,
 * scan_cpu_seconds_total, last_scan_ms, reloads_total,
 * reload_failures_total, tiers: [{index, nodes, capacity, free, headroom}],
 * tenants: [{cgroup, class, mode, tier_max: [bytes or null = none],
 * tier_low, tier_bytes, hot_bytes, cold_bytes, planned_promote,
 * planned_demote, promoted_total, demoted_total, failed_total,
 * errors_total}]. Unknown keys are errors (a typo would otherwise test
 * nothing). */
#include <errno.h>
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "metrics.h"
#include "util.h"

static int fail(const char *file, const char *what) {
        fprintf(stderr, "metrics-serve: %s: %s\n", file, what);
        return -EINVAL;
}

static bool key_known(const char *key, const char *const *known) {
        for (; *known; known++)
                if (strcmp(key, *known) == 0)
                        return true;
        return false;
}

static int check_keys(const char *file, json_object *o, const char *const *known) {
        if (!json_object_is_type(o, json_type_object))
                return fail(file, "an object expected");
        json_object_object_foreach(o, key, val) {
                (void) val;
                if (!key_known(key, known)) {
                        fprintf(stderr, "metrics-serve: %s: unknown key \"%s\"\n", file, key);
                        return -EINVAL;
                }
        }
        return 0;
}

static uint64_t get_u64(json_object *o, const char *key) {
        json_object *v;

        return json_object_object_get_ex(o, key, &v) ? json_object_get_uint64(v) : 0;
}

static double get_double(json_object *o, const char *key) {
        json_object *v;

        return json_object_object_get_ex(o, key, &v) ? json_object_get_double(v) : 0.0;
}

static void get_string(json_object *o, const char *key, char *buf, size_t size) {
        json_object *v;

        snprintf(buf, size, "%s", json_object_object_get_ex(o, key, &v) ? json_object_get_string(v) : "");
}

/* A per-tier array; a null entry (or a missing one) is NONE. */
static void get_tiers(json_object *o, const char *key, uint64_t *ret, uint64_t none) {
        json_object *a;

        for (int t = 0; t < STATUS_MAX_TIERS; t++)
                ret[t] = none;
        if (!json_object_object_get_ex(o, key, &a) || !json_object_is_type(a, json_type_array))
                return;
        for (size_t t = 0; t < json_object_array_length(a) && t < STATUS_MAX_TIERS; t++) {
                json_object *v = json_object_array_get_idx(a, t);
                if (v)
                        ret[t] = json_object_get_uint64(v);
        }
}

static int load(const char *file, StatusSnapshot *ret) {
        static const char *const top_keys[] = { "version", "scanner", "mover", "period_ms", "periods_total",
                "started_realtime_s", "scan_cpu_seconds_total", "last_scan_ms", "reloads_total",
                "reload_failures_total", "tiers", "tenants", NULL };
        static const char *const tier_keys[] = { "index", "nodes", "capacity", "free", "headroom", NULL };
        static const char *const tenant_keys[] = { "cgroup", "namespace", "pod", "container", "class", "mode", "tier_max", "tier_low", "tier_bytes",
                "hot_bytes", "cold_bytes", "planned_promote", "planned_demote", "promoted_total", "demoted_total",
                "failed_total", "errors_total", NULL };
        StatusSnapshot s = {};
        json_object *root, *a;
        int r;

        root = json_object_from_file(file);
        if (!root)
                return fail(file, json_util_get_last_err());
        r = check_keys(file, root, top_keys);
        if (r < 0)
                goto out;
        get_string(root, "version", s.version, sizeof(s.version));
        get_string(root, "scanner", s.scanner, sizeof(s.scanner));
        get_string(root, "mover", s.mover, sizeof(s.mover));
        s.period_ms = get_u64(root, "period_ms");
        s.periods_total = get_u64(root, "periods_total");
        s.started_realtime_s = get_u64(root, "started_realtime_s");
        s.scan_cpu_seconds_total = get_double(root, "scan_cpu_seconds_total");
        s.last_scan_ms = get_double(root, "last_scan_ms");
        s.reloads_total = get_u64(root, "reloads_total");
        s.reload_failures_total = get_u64(root, "reload_failures_total");

        if (json_object_object_get_ex(root, "tiers", &a)) {
                size_t n = json_object_array_length(a);
                if (n > STATUS_MAX_TIERS) {
                        r = fail(file, "too many tiers");
                        goto out;
                }
                for (size_t i = 0; i < n; i++) {
                        json_object *t = json_object_array_get_idx(a, i);
                        r = check_keys(file, t, tier_keys);
                        if (r < 0)
                                goto out;
                        s.tiers[i].index = (int) get_u64(t, "index");
                        get_string(t, "nodes", s.tiers[i].nodes, sizeof(s.tiers[i].nodes));
                        s.tiers[i].capacity = get_u64(t, "capacity");
                        s.tiers[i].free = get_u64(t, "free");
                        s.tiers[i].headroom = get_u64(t, "headroom");
                }
                s.n_tiers = (int) n;
        }
        if (json_object_object_get_ex(root, "tenants", &a)) {
                size_t n = json_object_array_length(a);
                s.tenants = calloc(n ? n : 1, sizeof(StatusTenant));
                if (!s.tenants) {
                        r = -ENOMEM;
                        goto out;
                }
                for (size_t i = 0; i < n; i++) {
                        json_object *t = json_object_array_get_idx(a, i), *cg;
                        StatusTenant *st = &s.tenants[i];
                        r = check_keys(file, t, tenant_keys);
                        if (r < 0)
                                goto out;
                        s.n_tenants = i + 1;
                        if (!json_object_object_get_ex(t, "cgroup", &cg)) {
                                r = fail(file, "a tenant without cgroup");
                                goto out;
                        }
                        st->cgroup = strdup(json_object_get_string(cg));
                        if (!st->cgroup) {
                                r = -ENOMEM;
                                goto out;
                        }
                        get_string(t, "class", st->class_name, sizeof(st->class_name));
                        get_string(t, "mode", st->mode, sizeof(st->mode));
                        get_string(t, "namespace", st->namespace_, sizeof(st->namespace_));
                        get_string(t, "pod", st->pod, sizeof(st->pod));
                        get_string(t, "container", st->container, sizeof(st->container));
                        get_tiers(t, "tier_max", st->tier_max, UINT64_MAX);
                        get_tiers(t, "tier_low", st->tier_low, 0);
                        get_tiers(t, "tier_bytes", st->tier_bytes, 0);
                        st->hot_bytes = get_u64(t, "hot_bytes");
                        st->cold_bytes = get_u64(t, "cold_bytes");
                        st->planned_promote = get_u64(t, "planned_promote");
                        st->planned_demote = get_u64(t, "planned_demote");
                        st->promoted_total = get_u64(t, "promoted_total");
                        st->demoted_total = get_u64(t, "demoted_total");
                        st->failed_total = get_u64(t, "failed_total");
                        st->errors_total = get_u64(t, "errors_total");
                        s.promoted_total += st->promoted_total;
                        s.demoted_total += st->demoted_total;
                        s.failed_total += st->failed_total;
                }
        }
        *ret = s;
        s = (StatusSnapshot) {};
        r = 0;
out:
        status_snapshot_done(&s);
        json_object_put(root);
        return r;
}

static int render(const char *file) {
        StatusSnapshot s;
        int r = load(file, &s);

        if (r < 0)
                return 1;
        r = metrics_render(&s, stdout);
        status_snapshot_done(&s);
        if (r < 0) {
                fprintf(stderr, "metrics-serve: rendering failed: %s\n", strerror(-r));
                return 1;
        }
        return 0;
}

static int publish(MetricsServer *m, const char *file) {
        StatusSnapshot s;
        int r = load(file, &s);

        if (r < 0)
                return r;
        r = metrics_server_publish(m, &s);
        status_snapshot_done(&s);
        if (r < 0) {
                fprintf(stderr, "metrics-serve: publish: %s\n", strerror(-r));
                return r;
        }
        printf("published\n");
        fflush(stdout);
        return 0;
}

static int serve(const char *listen, const char *first) {
        _cleanup_free_ char *error = NULL, *line = NULL;
        MetricsServer *m = NULL;
        size_t cap = 0;
        ssize_t n;
        int r, ret = 0;

        r = metrics_server_start(listen, &m, &error);
        if (r < 0) {
                fprintf(stderr, "metrics-serve: %s\n", error ? error : strerror(-r));
                return 1;
        }
        printf("port %u\n", metrics_server_port(m));
        fflush(stdout);
        if (first && publish(m, first) < 0)
                ret = 1;
        while (ret == 0 && (n = getline(&line, &cap, stdin)) >= 0) {
                line[strcspn(line, "\n")] = '\0';
                if (*line && publish(m, line) < 0)
                        ret = 1;
        }
        metrics_server_stop(m);
        return ret;
}

int main(int argc, char **argv) {
        if (argc == 3 && strcmp(argv[1], "--render") == 0)
                return render(argv[2]);
        if ((argc == 3 || argc == 4) && strcmp(argv[1], "--listen") == 0)
                return serve(argv[2], argc == 4 ? argv[3] : NULL);
        fprintf(stderr, "usage: metrics-serve --render SNAPSHOT.json\n"
                        "       metrics-serve --listen ADDRESS [SNAPSHOT.json]   (more snapshot files on stdin)\n");
        return 2;
}
