/* SPDX-License-Identifier: MIT */
/* core/period.c: one period on fixture trees, without a daemon. A
 * cgroupfs-like tree written here (a tenant with a nested tenant and a
 * cgroup without a policy), the sysfs of the two-tier testbed captured in
 * test/fixtures/vm-stock, the shipped configuration plus two rules, a
 * scanner that reports what it was given and returns fixed heat, and a
 * mover behind MoverOps that records its requests and moves less than
 * asked once, and a procfs of the tenants' processes (their start times
 * and cgroups) written here. Checked: the tenant set (processes minus the
 * nested tenant's), the plan, the requests through the interface, the
 * ledger's charges and refunds, the report (status snapshot and period JSON), and
 * that a pid whose process changed (another start time) or left the
 * cgroup between the walk and the moves is not moved, and that the heat
 * model forgets what it knew of a pid listed again for a new process. */
#include <check.h>
#include <fcntl.h>
#include <sys/xattr.h>

#include "unit.h"

#include "config.h"
#include "mover.h"
#include "period.h"
#include "util.h"

#ifndef FIXTURES
#error "FIXTURES must point at test/fixtures"
#endif

#define MIB (UINT64_C(1) << 20)

/* ---- the fake scanner ---------------------------------------------------- */

static struct {
        size_t n_targets;
        char paths[4][64];
        size_t n_pids[4];
        pid_t pids[4][8];
} seen;

/* 0: three cold ranges of web every scan. 1 and 2: the two halves of one
 * pass over web: first its hot 16 MiB (warm, on tier 0) and a cold 16 MiB,
 * then the last, cold 16 MiB. 3: nothing. 5: three cold 16 MiB ranges of
 * web/child's pid 102, nothing of web's own processes. */
static int scan_phase;
/* the order of the targets in the last scan, whatever the phase */
static struct {
        size_t n;
        char paths[4][64];
} scan_order_seen;

static void fake_ranges(TenantHeat *h, const ScanRange *r, size_t n, unsigned pass) {
        h->ranges = calloc(n, sizeof(ScanRange));
        h->cold = calloc(n, sizeof(ScanRange));
        h->warm = calloc(n, sizeof(ScanRange));
        ck_assert(h->ranges && h->cold && h->warm);
        for (size_t i = 0; i < n; i++) {
                h->ranges[h->n_ranges++] = r[i];
                if (r[i].age > 0)
                        h->cold[h->n_cold++] = r[i];
                else
                        h->warm[h->n_warm++] = r[i];
                h->heat.bytes[0][r[i].age] += r[i].end - r[i].start;
                h->tracked_bytes += r[i].end - r[i].start;
        }
        h->pass = pass;
}

static ScanRange web_range(int k, int age) {
        return (ScanRange) {
                .kind = SCAN_RANGE_VADDR, .age = (uint8_t) age, .tier = 0, .node = 0, .pid = 100,
                .start = 0x10000000 + (uint64_t) k * 16 * MIB, .end = 0x10000000 + (uint64_t) (k + 1) * 16 * MIB,
                .nr_accesses = age == 0 ? 5 : 0,
        };
}

static int fake_scan(Scanner *s, const ScanTarget *targets, size_t n, TenantHeat *out) {
        (void) s;
        scan_order_seen.n = n;
        for (size_t i = 0; i < n && i < 4; i++)
                snprintf(scan_order_seen.paths[i], sizeof(scan_order_seen.paths[i]), "%s", targets[i].cgroup_path);
        if (scan_phase > 0) {
                for (size_t i = 0; i < n; i++) {
                        ScanRange a[] = { web_range(0, 0), web_range(1, 4) }, b[] = { web_range(2, 4) };

                        if (strcmp(targets[i].cgroup_path, "web") != 0)
                                continue;
                        if (scan_phase == 1)
                                fake_ranges(&out[i], a, 2, HEAT_PASS_BEGIN);
                        else if (scan_phase == 2)
                                fake_ranges(&out[i], b, 1, HEAT_PASS_END | HEAT_PASS_EXACT);
                        else if (scan_phase == 4)
                                out[i].pass = HEAT_PASS_VISITED; /* armed only: nothing classified */
                        else if (scan_phase >= 5) {
                                /* a whole pass: its 16 MiB, warm; and the
                                 * sweep of its unmapped pages, which from
                                 * phase 6 on has classified them: 32 MiB
                                 * hot, 32 MiB cold, on tier 0 */
                                ScanRange w[] = { web_range(0, 0) };

                                fake_ranges(&out[i], w, 1, HEAT_PASS_BEGIN | HEAT_PASS_END | HEAT_PASS_EXACT |
                                                                   HEAT_PASS_SWEEPING);
                                if (scan_phase >= 6) {
                                        out[i].pass |= HEAT_PASS_UNMAPPED;
                                        out[i].unmapped_hot[0] = 32 * MIB;
                                        out[i].unmapped_cold[0] = 32 * MIB;
                                }
                        }
                }
                for (size_t i = 0; i < n && scan_phase == 5; i++) {
                        ScanRange c[3];

                        if (strcmp(targets[i].cgroup_path, "web/child") != 0)
                                continue;
                        for (int k = 0; k < 3; k++) {
                                c[k] = web_range(k, 4);
                                c[k].pid = 102;
                        }
                        fake_ranges(&out[i], c, 3, HEAT_PASS_BEGIN | HEAT_PASS_END | HEAT_PASS_EXACT);
                }
                return 0;
        }
        seen.n_targets = n;
        for (size_t i = 0; i < n && i < 4; i++) {
                snprintf(seen.paths[i], sizeof(seen.paths[i]), "%s", targets[i].cgroup_path);
                seen.n_pids[i] = targets[i].n_pids;
                for (size_t j = 0; j < targets[i].n_pids && j < 8; j++)
                        seen.pids[i][j] = targets[i].pids[j];
                if (strcmp(targets[i].cgroup_path, "web") != 0)
                        continue;
                /* web: three cold 16 MiB ranges of pid 100 on tier 0, 96 MiB on tier 0 in all */
                out[i].cold = calloc(3, sizeof(ScanRange));
                ck_assert_ptr_nonnull(out[i].cold);
                for (int k = 0; k < 3; k++)
                        out[i].cold[k] = (ScanRange) {
                                .kind = SCAN_RANGE_VADDR, .age = 5, .tier = 0, .node = 0, .pid = 100,
                                .start = 0x10000000 + (uint64_t) k * 16 * MIB,
                                .end = 0x10000000 + (uint64_t) (k + 1) * 16 * MIB,
                        };
                out[i].n_cold = 3;
                out[i].heat.bytes[0][5] = 48 * MIB;
                out[i].heat.bytes[0][0] = 48 * MIB;
                out[i].tracked_bytes = 96 * MIB;
        }
        return 0;
}

static const ScannerOps fake_scanner = {
        .name = "fake", .caps = SCANNER_CAP_RANGES, .arming_periods = 1, .scan = fake_scan,
};

/* ---- the fake mover ------------------------------------------------------ */

static struct {
        size_t n;
        MoverRequest req[8];
        char cgroup[8][64];     /* req[i].cgroup points into the period's tree, gone after it */
} asked;

struct Mover {
        int unused;
};

static int fake_open(const MoverEnv *env, Mover **ret) {
        (void) env;
        *ret = calloc(1, sizeof(Mover));
        return *ret ? 0 : -ENOMEM;
}

static void fake_close(Mover *m) {
        free(m);
}

/* The first request moves all it is asked, later ones half of it. */
static int fake_apply(Mover *m, const MoverRequest *req, MoverResult *ret) {
        (void) m;
        if (asked.n < 8) {
                asked.req[asked.n] = *req;
                snprintf(asked.cgroup[asked.n], sizeof(asked.cgroup[0]), "%s", req->cgroup);
                asked.req[asked.n].cgroup = NULL;
        }
        *ret = (MoverResult) { .moved = asked.n == 0 ? req->bytes : req->bytes / 2 };
        asked.n++;
        return 0;
}

static const MoverOps fake_mover = {
        .name = "fake_pages",
        .caps = MOVER_CAP_RANGES | MOVER_CAP_VIRTUAL | MOVER_CAP_PROMOTE | MOVER_CAP_DEMOTE,
        .open = fake_open,
        .apply = fake_apply,
        .close = fake_close,
};

static const MoverBackend fake_backend = { .name = "fake", .ranges = &fake_mover };

/* with a byte mover like reclaim's */
static const MoverOps fake_bytes = {
        .name = "fake_bytes",
        .caps = MOVER_CAP_BYTES | MOVER_CAP_DEMOTE | MOVER_CAP_NEEDS_DEMOTION,
        .open = fake_open,
        .apply = fake_apply,
        .close = fake_close,
};

static const MoverBackend fake_backend_bytes = { .name = "fake", .ranges = &fake_mover, .bytes = &fake_bytes };

static const ScannerOps fake_sweeper = {
        .name = "fake", .caps = SCANNER_CAP_RANGES | SCANNER_CAP_PHYSICAL | SCANNER_CAP_UNMAPPED, .arming_periods = 1,
        .scan = fake_scan,
};

/* A sweeper like the damon backend's: it runs a kdamond of its own. */
static const ScannerOps fake_kdamond_sweeper = {
        .name = "fake", .caps = SCANNER_CAP_RANGES | SCANNER_CAP_KDAMOND | SCANNER_CAP_UNMAPPED, .arming_periods = 1,
        .scan = fake_scan,
};

/* A sweeper like the damon backend's with its kdamond for the DAMOS
 * schemes (kdamonds/2, ScannerOps.mover_kdamond): spare_kdamond says
 * which, -1 while there is none (its kdamonds not up yet, MGLRU on). */
static int spare_kdamond;

static int fake_mover_kdamond(const Scanner *s) {
        (void) s;
        return spare_kdamond;
}

static const ScannerOps fake_kdamond_sweeper_spare = {
        .name = "fake", .caps = SCANNER_CAP_RANGES | SCANNER_CAP_KDAMOND | SCANNER_CAP_UNMAPPED, .arming_periods = 1,
        .scan = fake_scan, .mover_kdamond = fake_mover_kdamond,
};

/* ---- the tree ------------------------------------------------------------ */

static void write_cgroup(const char *rel, const char *procs, uint64_t anon0, uint64_t anon1) {
        char path[256], buf[256];

        snprintf(path, sizeof(path), "cg/%s%scgroup.procs", rel, rel[0] ? "/" : "");
        unit_write_file(path, procs);
        snprintf(path, sizeof(path), "cg/%s%scgroup.events", rel, rel[0] ? "/" : "");
        unit_write_file(path, procs[0] ? "populated 1\nfrozen 0\n" : "populated 0\nfrozen 0\n");
        snprintf(path, sizeof(path), "cg/%s%smemory.current", rel, rel[0] ? "/" : "");
        snprintf(buf, sizeof(buf), "%llu\n", (unsigned long long) (anon0 + anon1));
        unit_write_file(path, buf);
        snprintf(path, sizeof(path), "cg/%s%smemory.numa_stat", rel, rel[0] ? "/" : "");
        snprintf(buf, sizeof(buf), "anon N0=%llu N1=%llu\nfile N0=0 N1=0\n", (unsigned long long) anon0,
                 (unsigned long long) anon1);
        unit_write_file(path, buf);
}

/* /proc/PID/stat and /proc/PID/cgroup of a tenant process in the
 * temporary procfs: field 22, the start time, is START. */
static void write_proc(pid_t pid, uint64_t start, const char *cgroup) {
        char path[64], buf[512];

        snprintf(path, sizeof(path), "proc/%d/stat", (int) pid);
        snprintf(buf, sizeof(buf),
                 "%d (work (load)) S 1 %d %d 0 -1 4194560 120 0 0 0 3 1 0 0 20 0 1 0 %llu 8404992 800 "
                 "18446744073709551615 1 1 0 0 0 0 0 0 0 0 0 0 17 0 0 0 0 0 0\n",
                 (int) pid, (int) pid, (int) pid, (unsigned long long) start);
        unit_write_file(path, buf);
        snprintf(path, sizeof(path), "proc/%d/cgroup", (int) pid);
        snprintf(buf, sizeof(buf), "0::/%s\n", cgroup);
        unit_write_file(path, buf);
}

static const char rules_web[] =
        "{ \"rules\": ["
        "  { \"match\": \"web\", \"policy\": { \"class\": \"latency\", \"tier0.max\": \"64M\" } },"
        "  { \"match\": \"web/child\", \"policy\": { \"class\": \"batch\" } } ] }";

static Config *config_with(const char *rules) {
        Config *c = NULL;
        _cleanup_free_ char *err = NULL, *shipped = NULL;

        ck_assert_int_eq(config_new_default(&c), 0);
        ck_assert_int_eq(read_full_file(NULL, TOP_SOURCE "/config/tierd.json", &shipped, NULL), 0);
        ck_assert_int_eq(config_apply_json(c, "tierd.json", shipped, &err), 0);
        ck_assert_int_eq(config_apply_json(c, "test.json", rules, &err), 0);
        return c;
}

static Config *config_with_rules(void) {
        return config_with(rules_web);
}

static void engine_setup_model(Engine *e, Config *c, bool model) {
        char mount[256];
        static char mount_store[256];

        static char proc_store[256];

        snprintf(mount, sizeof(mount), "%s/cg", unit_tmproot());
        snprintf(mount_store, sizeof(mount_store), "%s", mount);
        snprintf(proc_store, sizeof(proc_store), "%s/proc", unit_tmproot());
        *e = (Engine) {
                .config = c,
                .sysfs_root = FIXTURES "/vm-stock/sys",
                .procfs_root = proc_store,
                .cgroup_mount = mount_store,
                .demotion_enabled = 0,
                .scanner_ops = &fake_scanner,
                .period_ms = 1000,
        };
        e->max_candidates = 64;
        ck_assert_int_eq(engine_init(e, model, 1000), 0);
        ck_assert_int_eq(engine_set_mover(e, &fake_backend), 0);
}

static void engine_setup(Engine *e, Config *c) {
        engine_setup_model(e, c, false);
}

static void tree_setup(void) {
        unit_tmp_setup();
        memset(&seen, 0, sizeof(seen));
        memset(&asked, 0, sizeof(asked));
        scan_phase = 0;
        write_cgroup("", "1\n", 0, 0);
        write_cgroup("web", "100\n101\n", 96 * MIB, 0);
        write_cgroup("web/child", "102\n", 8 * MIB, 0);
        write_cgroup("other", "103\n", 4 * MIB, 0);
        write_proc(1, 2, "");
        write_proc(100, 5000, "web");
        write_proc(101, 5001, "web");
        write_proc(102, 5002, "web/child");
        write_proc(103, 5003, "other");
}

/* ---- the tests ------------------------------------------------------------ */

START_TEST(test_period_run_one_period) {
        _cleanup_(config_freep) Config *c = config_with_rules();
        StatusSnapshot s = { 0 };
        Engine e;
        json_object *j, *t0, *plan;
        uint64_t demoted = 0;

        engine_setup(&e, c);
        ck_assert_int_eq(period_run(&e, 0, true, &s), 0);

        /* the tenant set: web and web/child (rules), not other; web's
         * processes without its nested tenant's */
        ck_assert_uint_eq(seen.n_targets, 2);
        ck_assert_str_eq(seen.paths[0], "web");
        ck_assert_uint_eq(seen.n_pids[0], 2);
        ck_assert_int_eq(seen.pids[0][0], 100);
        ck_assert_int_eq(seen.pids[0][1], 101);
        ck_assert_str_eq(seen.paths[1], "web/child");
        ck_assert_uint_eq(seen.n_pids[1], 1);
        ck_assert_int_eq(seen.pids[1][0], 102);

        /* web's memory.numa_stat says 96 MiB on node 0, 32 MiB over its
         * tier0.max: the two coldest ranges, to node 1, through the
         * interface */
        ck_assert_uint_eq(asked.n, 2);
        for (size_t i = 0; i < asked.n; i++) {
                ck_assert_int_eq(asked.req[i].direction, MOVER_DEMOTE);
                ck_assert_int_eq(asked.req[i].to_node, 1);
                ck_assert(asked.req[i].has_range);
                ck_assert_int_eq(asked.req[i].range.pid, 100);
                ck_assert_str_eq(asked.cgroup[i], "web");
                demoted += asked.req[i].bytes;
        }
        ck_assert_uint_eq(demoted, 32 * MIB);

        /* the report: the first move all of its 16 MiB, the second half */
        ck_assert_uint_eq(s.n_tenants, 2);
        ck_assert_str_eq(s.tenants[0].cgroup, "web");
        ck_assert_str_eq(s.tenants[0].class_name, "latency");
        ck_assert_str_eq(s.tenants[1].class_name, "batch");
        ck_assert_uint_eq(s.tenants[0].tier_max[0], 64 * MIB);
        ck_assert_uint_eq(s.tenants[0].planned_demote, 32 * MIB);
        ck_assert_uint_eq(s.tenants[0].over_max_bytes, 32 * MIB);
        ck_assert_uint_eq(s.tenants[0].demoted, 24 * MIB);
        ck_assert_uint_eq(s.tenants[0].failed, 8 * MIB);
        ck_assert_uint_eq(s.tenants[0].demoted_total, 24 * MIB);
        ck_assert_uint_eq(s.tenants[0].pids, 2);
        ck_assert_uint_eq(s.demoted, 24 * MIB);
        ck_assert_uint_eq(s.demoted_total, 24 * MIB);
        ck_assert(s.planned);

        /* the ledger: charged 32 MiB, refunded the 8 that did not move */
        ck_assert_uint_eq(e.ledger.n, 2);
        ck_assert_uint_eq(e.ledger.accounts[0].demoted, 24 * MIB);
        ck_assert_uint_eq(e.ledger.budget.burst - e.ledger.budget.tokens, 24 * MIB);

        /* the period JSON, from the same snapshot */
        j = status_period_to_json(&s);
        ck_assert(json_object_object_get_ex(j, "tenants", &t0));
        t0 = json_object_array_get_idx(t0, 0);
        ck_assert(json_object_object_get_ex(t0, "plan", &plan));
        ck_assert(json_object_object_get_ex(plan, "over_max_bytes", &plan));
        ck_assert_uint_eq((uint64_t) json_object_get_uint64(plan), 32 * MIB);
        json_object_put(j);

        status_snapshot_done(&s);
        engine_done(&e);
}
END_TEST

START_TEST(test_period_steps_and_arming) {
        _cleanup_(config_freep) Config *c = config_with_rules();
        _cleanup_(period_done) Period p = { 0 };
        StatusSnapshot s = { 0 };
        Engine e;

        engine_setup(&e, c);
        /* an arming period: scanned, no plan, nothing moved */
        ck_assert_int_eq(period_run(&e, 0, false, &s), 0);
        ck_assert_uint_eq(seen.n_targets, 2);
        ck_assert_uint_eq(asked.n, 0);
        ck_assert(!s.planned);
        ck_assert_uint_eq(s.tenants[0].planned_demote, 0);
        status_snapshot_done(&s);

        /* then each step by itself */
        ck_assert_int_eq(period_collect(&e, &p, 2000), 0);
        ck_assert_uint_eq(p.n, 2);
        ck_assert_int_eq(period_scan(&e, &p), 0);
        ck_assert_int_eq(period_settle(&e, &p, 2000), 0);
        ck_assert_int_eq(period_plan(&e, &p, 2000), 0);
        ck_assert_uint_eq(p.plan.tenants[0].charge_demote, 32 * MIB);
        /* charged before anything moves */
        ck_assert_uint_eq(e.ledger.budget.burst - e.ledger.budget.tokens, 32 * MIB);
        ck_assert_int_eq(period_apply(&e, &p), 0);
        ck_assert_uint_eq(asked.n, 2);
        /* refunded what did not move */
        ck_assert_uint_eq(e.ledger.budget.burst - e.ledger.budget.tokens, 24 * MIB);
        period_account(&e, &p, 1);
        ck_assert_uint_eq(e.ledger.demoted, 24 * MIB);
        ck_assert_int_eq(period_report(&e, &p, 1, &s), 0);
        ck_assert_uint_eq(s.periods_total, 2);
        ck_assert_uint_eq(s.tenants[0].demoted, 24 * MIB);
        status_snapshot_done(&s);
        engine_done(&e);
}
END_TEST

static const Account *account_of(const Engine *e, const char *path) {
        for (size_t i = 0; i < e->ledger.n; i++)
                if (strcmp(e->ledger.accounts[i].path, path) == 0)
                        return &e->ledger.accounts[i];
        return NULL;
}

START_TEST(test_period_nested_tenant_under_parent_limit) {
        /* web (tier0.max 64M, a demotion bucket of 64M) holds 96 MiB on
         * node 0, 48 of them its nested tenant web/child's, which is under
         * its own (clamped) 64M. web's limit covers the subtree: the 32 MiB
         * over it come from the child's cold pages (web's own processes
         * have none seen), charged to the child's bucket, to web's and once
         * to the budget; the 8 MiB the mover did not move come back to all
         * three. */
        _cleanup_(config_freep) Config *c = config_with(
                "{ \"rules\": ["
                "  { \"match\": \"web\", \"policy\": { \"class\": \"latency\", \"tier0.max\": \"64M\","
                "    \"demote.rate\": \"1K\", \"demote.burst\": \"64M\" } },"
                "  { \"match\": \"web/child\", \"policy\": { \"class\": \"batch\" } } ] }");
        StatusSnapshot s = { 0 };
        const Account *web, *child;
        uint64_t demoted = 0;
        Engine e;

        write_cgroup("web/child", "102\n", 48 * MIB, 0);
        engine_setup(&e, c);
        scan_phase = 5;
        ck_assert_int_eq(period_run(&e, 0, true, &s), 0);
        ck_assert_uint_eq(asked.n, 2);
        for (size_t i = 0; i < asked.n; i++) {
                ck_assert_int_eq(asked.req[i].direction, MOVER_DEMOTE);
                ck_assert_str_eq(asked.cgroup[i], "web/child");
                ck_assert_int_eq(asked.req[i].range.pid, 102);
                demoted += asked.req[i].bytes;
        }
        ck_assert_uint_eq(demoted, 32 * MIB);
        web = account_of(&e, "web");
        child = account_of(&e, "web/child");
        ck_assert(web && child);
        /* 1 KiB/s refills a few bytes meanwhile */
        ck_assert_uint_le(web->demote.burst - web->demote.tokens, 24 * MIB);
        ck_assert_uint_ge(web->demote.burst - web->demote.tokens, 24 * MIB - 64 * 1024);
        ck_assert_uint_le(child->demote.burst - child->demote.tokens, 24 * MIB);
        ck_assert_uint_ge(child->demote.burst - child->demote.tokens, 24 * MIB - 64 * 1024);
        ck_assert_uint_eq(e.ledger.budget.burst - e.ledger.budget.tokens, 24 * MIB);
        ck_assert_uint_eq(s.n_tenants, 2);
        ck_assert_uint_eq(s.tenants[1].demoted, 24 * MIB);
        status_snapshot_done(&s);
        engine_done(&e);
}
END_TEST

START_TEST(test_period_tenant_gone_is_pruned) {
        _cleanup_(config_freep) Config *c = config_with_rules();
        StatusSnapshot s = { 0 };
        char cmd[512];
        Engine e;

        engine_setup(&e, c);
        ck_assert_int_eq(period_run(&e, 0, false, &s), 0);
        status_snapshot_done(&s);
        ck_assert_uint_eq(e.ledger.n, 2);
        /* web/child removed: its account goes, web gets its process */
        snprintf(cmd, sizeof(cmd), "rm -rf '%s/cg/web/child'", unit_tmproot());
        ck_assert_int_eq(system(cmd), 0);
        ck_assert_int_eq(period_run(&e, 1, false, &s), 0);
        ck_assert_uint_eq(e.ledger.n, 1);
        ck_assert_uint_eq(s.n_tenants, 1);
        ck_assert_uint_eq(seen.n_targets, 1);
        status_snapshot_done(&s);
        engine_done(&e);
}
END_TEST

/* The period JSON's "covered" of tenant CGROUP's tier T (false when
 * absent). */
static bool period_json_covered_of(const StatusSnapshot *s, const char *cgroup, int t) {
        json_object *j = status_period_to_json(s), *x, *cov, *name;
        bool r = false;

        if (json_object_object_get_ex(j, "tenants", &x))
                for (size_t i = 0; i < json_object_array_length(x); i++) {
                        json_object *o = json_object_array_get_idx(x, i);

                        if (json_object_object_get_ex(o, "cgroup", &name) &&
                            strcmp(json_object_get_string(name), cgroup) == 0 &&
                            json_object_object_get_ex(o, "covered", &cov) && json_object_array_length(cov) > (size_t) t)
                                r = json_object_get_boolean(json_object_array_get_idx(cov, t));
                }
        json_object_put(j);
        return r;
}

/* ... of web, the first tenant of the tests that use it */
static bool period_json_covered(const StatusSnapshot *s, int t) {
        return period_json_covered_of(s, "web", t);
}

START_TEST(test_period_model_keeps_the_hot_set) {
        /* web: 96 MiB on tier 0, tier0.max 64M, a 16 MiB hot set. The
         * first scan sees the hot set and 16 MiB cold; the second the other
         * 16 MiB cold, ending the pass. Planned from the first scan alone,
         * the hot set goes to meet the limit; with the heat model only the
         * known-cold 16 MiB go (the rest held as unscanned), and once the
         * pass ends the other cold 16 MiB: the hot set stays. */
        _cleanup_(config_freep) Config *c = config_with_rules();
        StatusSnapshot s = { 0 };
        Engine e;
        bool hot_demoted = false;

        scan_phase = 1;
        engine_setup_model(&e, c, false);
        ck_assert_int_eq(period_run(&e, 0, true, &s), 0);
        for (size_t i = 0; i < asked.n; i++)
                hot_demoted = hot_demoted || asked.req[i].range.start == 0x10000000;
        ck_assert_msg(hot_demoted, "without the model the hot set is demoted (the issue's finding)");
        status_snapshot_done(&s);
        engine_done(&e);

        memset(&asked, 0, sizeof(asked));
        engine_setup_model(&e, c, true);
        ck_assert_int_eq(period_run(&e, 0, true, &s), 0);
        ck_assert_uint_eq(asked.n, 1);
        ck_assert_uint_eq(asked.req[0].range.start, 0x10000000 + 16 * MIB);
        ck_assert_uint_eq(asked.req[0].bytes, 16 * MIB);
        ck_assert_uint_eq(s.tenants[0].held_demote.unscanned, 16 * MIB);
        ck_assert(!period_json_covered(&s, 0));
        status_snapshot_done(&s);

        /* the first move moved all of it: 80 MiB on tier 0 now */
        write_cgroup("web", "100\n101\n", 80 * MIB, 16 * MIB);
        scan_phase = 2;
        ck_assert_int_eq(period_run(&e, 1, true, &s), 0);
        ck_assert_uint_eq(asked.n, 2);
        ck_assert_uint_eq(asked.req[1].range.start, 0x10000000 + 32 * MIB);
        ck_assert_uint_eq(s.tenants[0].held_demote.unscanned, 0);
        ck_assert(period_json_covered(&s, 0));
        for (size_t i = 0; i < asked.n; i++)
                ck_assert_uint_ne(asked.req[i].range.start, 0x10000000);
        status_snapshot_done(&s);
        engine_done(&e);
}
END_TEST

/* web: 16 MiB of anonymous pages and 64 MiB of a tmpfs file no process
 * maps, all on tier 0, and an empty nested tenant web/child; an engine
 * with the heat model, scanner OPS sweeping the unmapped pages, demotion
 * on and the byte mover. */
static void unmapped_setup(Engine *e, Config *c, const ScannerOps *ops) {
        unit_write_file("cg/web/memory.numa_stat", "anon N0=16777216 N1=0\nfile N0=67108864 N1=0\n"
                                                   "file_mapped N0=0 N1=0\n");
        write_cgroup("web/child", "", 0, 0);
        scan_phase = 5;
        engine_setup_model(e, c, true);
        e->scanner_ops = ops;
        e->unmapped_sweep = true;
        e->demotion_enabled = 1;
        ck_assert_int_eq(engine_set_mover(e, &fake_backend_bytes), 0);
}

START_TEST(test_period_unmapped_held_until_classified) {
        /* web: 16 MiB of anonymous pages (warm) and 64 MiB of a tmpfs file
         * no process maps on tier 0, tier0.max 64M. While the scanner
         * sweeps the unmapped pages without having classified them, the
         * 16 MiB over the limit are held as unscanned: nothing moves (the
         * finding of test-unmapped's first run: reclaim took the hot
         * file). Once the sweep saw 32 MiB cold, those go, as bytes:
         * first to the DAMOS path, which this sysfs lacks (said once, the
         * charge refunded), then through the byte mover. web/child, its
         * nested tenant, is empty here: web's limit covers its subtree
         * (the child's pages would go first; hierarchical limits are
         * tested apart), which takes the unmapped bytes in the same
         * order. */
        _cleanup_(config_freep) Config *c = config_with_rules();
        StatusSnapshot s = { 0 };
        Engine e;

        unmapped_setup(&e, c, &fake_sweeper);
        ck_assert_int_eq(period_run(&e, 0, true, &s), 0);
        ck_assert_uint_eq(asked.n, 0);
        ck_assert_uint_eq(s.tenants[0].held_demote.unscanned, 16 * MIB);
        ck_assert_uint_eq(s.tenants[0].tier_unmapped[0], 64 * MIB);
        ck_assert(s.has_unmapped);
        status_snapshot_done(&s);

        scan_phase = 6;
        ck_assert_int_eq(period_run(&e, 1, true, &s), 0);
        ck_assert_uint_eq(asked.n, 0); /* to DAMOS, not available here */
        ck_assert(e.uprom_off);
        ck_assert_uint_eq(s.tenants[0].planned_demote, 16 * MIB);
        ck_assert_uint_eq(s.tenants[0].unmapped_hot[0], 32 * MIB);
        ck_assert_uint_eq(s.tenants[0].unmapped_cold[0], 32 * MIB);
        ck_assert_uint_eq(s.tenants[0].classified[0], 80 * MIB);
        status_snapshot_done(&s);

        ck_assert_int_eq(period_run(&e, 2, true, &s), 0);
        ck_assert_uint_eq(asked.n, 1);
        ck_assert(!asked.req[0].has_range);
        ck_assert_uint_eq(asked.req[0].bytes, 16 * MIB);
        ck_assert_str_eq(asked.cgroup[0], "web");
        status_snapshot_done(&s);
        engine_done(&e);
}
END_TEST

START_TEST(test_period_unmapped_kdamond_scanner) {
        /* The same tenant with a scanner that classifies unmapped pages
         * and runs a kdamond (the damon backend with its paddr kdamond):
         * the unmapped pages count as classified once swept. Without a
         * kdamond for the DAMOS schemes (a backend without one, _i 0, or
         * one whose kdamonds are not there or with MGLRU on, _i 1) the
         * cold ones go as bytes through the byte mover at once: the DAMOS
         * path is never tried. */
        _cleanup_(config_freep) Config *c = config_with_rules();
        StatusSnapshot s = { 0 };
        Engine e;

        spare_kdamond = -1;
        unmapped_setup(&e, c, _i == 0 ? &fake_kdamond_sweeper : &fake_kdamond_sweeper_spare);
        ck_assert_int_eq(period_run(&e, 0, true, &s), 0);
        ck_assert_uint_eq(asked.n, 0);
        ck_assert_uint_eq(s.tenants[0].held_demote.unscanned, 16 * MIB);
        ck_assert(s.has_unmapped);
        status_snapshot_done(&s);

        scan_phase = 6;
        ck_assert_int_eq(period_run(&e, 1, true, &s), 0);
        ck_assert(!e.uprom_off);
        ck_assert_ptr_null(e.uprom);
        ck_assert_uint_eq(s.tenants[0].unmapped_hot[0], 32 * MIB);
        ck_assert_uint_eq(s.tenants[0].unmapped_cold[0], 32 * MIB);
        ck_assert_uint_eq(s.tenants[0].classified[0], 80 * MIB);
        ck_assert_uint_eq(asked.n, 1);
        ck_assert(!asked.req[0].has_range);
        ck_assert_uint_eq(asked.req[0].bytes, 16 * MIB);
        ck_assert_str_eq(asked.cgroup[0], "web");
        status_snapshot_done(&s);
        engine_done(&e);
}
END_TEST

START_TEST(test_period_unmapped_kdamond_scanner_spare) {
        /* With the scanner's kdamond for the DAMOS schemes there, the cold
         * unmapped pages go to the DAMOS path first, as with a scanner
         * that runs no kdamond: this sysfs has no DAMON (said once, the
         * charge refunded), then through the byte mover. */
        _cleanup_(config_freep) Config *c = config_with_rules();
        StatusSnapshot s = { 0 };
        Engine e;

        spare_kdamond = 2;
        unmapped_setup(&e, c, &fake_kdamond_sweeper_spare);
        ck_assert_int_eq(period_run(&e, 0, true, &s), 0);
        ck_assert_uint_eq(asked.n, 0);
        status_snapshot_done(&s);

        scan_phase = 6;
        ck_assert_int_eq(period_run(&e, 1, true, &s), 0);
        ck_assert_uint_eq(asked.n, 0); /* to DAMOS, not available here */
        ck_assert(e.uprom_off);
        ck_assert_ptr_null(e.uprom);
        ck_assert_uint_eq(s.tenants[0].planned_demote, 16 * MIB);
        ck_assert_uint_eq(s.tenants[0].unmapped_cold[0], 32 * MIB);
        status_snapshot_done(&s);

        ck_assert_int_eq(period_run(&e, 2, true, &s), 0);
        ck_assert_uint_eq(asked.n, 1);
        ck_assert(!asked.req[0].has_range);
        ck_assert_uint_eq(asked.req[0].bytes, 16 * MIB);
        status_snapshot_done(&s);
        engine_done(&e);
        spare_kdamond = -1;
}
END_TEST

START_TEST(test_period_scan_order_need_then_class) {
        /* other: critical; web: latency, over its limit; web/child: batch.
         * The first period's scan goes by class; once web's plan left it
         * over its limit, web goes first. */
        static const char rules[] =
                "{ \"rules\": ["
                "  { \"match\": \"web\", \"policy\": { \"class\": \"latency\", \"tier0.max\": \"32M\" } },"
                "  { \"match\": \"web/child\", \"policy\": { \"class\": \"batch\" } },"
                "  { \"match\": \"other\", \"policy\": { \"class\": \"critical\" } } ] }";
        _cleanup_(config_freep) Config *c = config_with(rules);
        StatusSnapshot s = { 0 };
        Engine e;

        engine_setup(&e, c);
        ck_assert_int_eq(period_run(&e, 0, true, &s), 0);
        status_snapshot_done(&s);
        ck_assert_uint_eq(seen.n_targets, 3);
        ck_assert_str_eq(seen.paths[0], "other");
        ck_assert_str_eq(seen.paths[1], "web");
        ck_assert_str_eq(seen.paths[2], "web/child");
        /* 96 MiB against 32M: 32 MiB moved at most, still over */
        ck_assert_int_eq(period_run(&e, 1, true, &s), 0);
        status_snapshot_done(&s);
        ck_assert_str_eq(seen.paths[0], "web");
        ck_assert_str_eq(seen.paths[1], "other");
        engine_done(&e);
}
END_TEST

/* Collect, scan and plan one period (web: 32 MiB of pid 100 to demote),
 * the moves not yet made. */
static void plan_one(Engine *e, Period *p) {
        ck_assert_int_eq(period_collect(e, p, 2000), 0);
        ck_assert_int_eq(period_scan(e, p), 0);
        ck_assert_int_eq(period_settle(e, p, 2000), 0);
        ck_assert_int_eq(period_plan(e, p, 2000), 0);
        ck_assert_uint_eq(p->plan.tenants[0].charge_demote, 32 * MIB);
}

/* Nothing of pid 100 moved in P: skipped for the period, counted as gone
 * (failed bytes, refunded), not as an error. */
static void assert_skipped(Engine *e, Period *p) {
        uint64_t used = e->ledger.budget.burst - e->ledger.budget.tokens;

        ck_assert_int_eq(period_apply(e, p), 0);
        ck_assert_uint_eq(asked.n, 0);
        ck_assert_uint_eq(p->moved[0].demoted, 0);
        ck_assert_uint_eq(p->moved[0].failed, 32 * MIB);
        ck_assert_uint_eq(p->acct[0]->errors, 0);
        ck_assert_uint_eq(e->ledger.budget.burst - e->ledger.budget.tokens, used - 32 * MIB);
}

START_TEST(test_period_pid_reused_is_not_moved) {
        /* pid 100 exits after the walk listed it and the kernel gives its
         * number to a new process in web (another start time) before the
         * moves: none of the old process's ranges is moved into the new
         * one. The next period lists the new process, and moves it. */
        _cleanup_(config_freep) Config *c = config_with_rules();
        Period p = { 0 };
        char stat[256];
        Engine e;

        engine_setup(&e, c);
        plan_one(&e, &p);
        write_proc(100, 9000, "web");
        assert_skipped(&e, &p);
        period_done(&p);

        plan_one(&e, &p);
        ck_assert_int_eq(period_apply(&e, &p), 0);
        ck_assert_uint_eq(asked.n, 2);
        ck_assert_int_eq(asked.req[0].range.pid, 100);
        period_done(&p);
        /* gone before the moves, and its number not given again */
        memset(&asked, 0, sizeof(asked));
        plan_one(&e, &p);
        snprintf(stat, sizeof(stat), "%s/proc/100/stat", unit_tmproot());
        ck_assert_int_eq(unlink(stat), 0);
        assert_skipped(&e, &p);
        period_done(&p);
        engine_done(&e);
}
END_TEST

START_TEST(test_period_pid_moved_out_is_not_moved) {
        /* pid 100 (the same process: the same start time) is moved from
         * web to the cgroup other after the walk: web's plan does not move
         * its pages any more. Back in web, it is moved again. */
        _cleanup_(config_freep) Config *c = config_with_rules();
        Period p = { 0 };
        Engine e;

        engine_setup(&e, c);
        plan_one(&e, &p);
        write_proc(100, 5000, "other");
        write_cgroup("web", "101\n", 96 * MIB, 0);
        write_cgroup("other", "103\n100\n", 4 * MIB, 0);
        assert_skipped(&e, &p);
        period_done(&p);

        write_proc(100, 5000, "web");
        write_cgroup("web", "100\n101\n", 96 * MIB, 0);
        write_cgroup("other", "103\n", 4 * MIB, 0);
        plan_one(&e, &p);
        ck_assert_int_eq(period_apply(&e, &p), 0);
        ck_assert_uint_eq(asked.n, 2);
        period_done(&p);
        engine_done(&e);
}
END_TEST

/* The heat model's entries of PID in web. */
static size_t model_entries_of(const Engine *e, pid_t pid) {
        char path[256];
        struct stat st;
        const HeatEntry *v;
        size_t n, cnt = 0;

        snprintf(path, sizeof(path), "%s/cg/web", unit_tmproot());
        ck_assert_int_eq(stat(path, &st), 0);
        heat_model_entries(e->model, (uint64_t) st.st_ino, &v, &n);
        for (size_t i = 0; i < n; i++)
                cnt += v[i].kind == SCAN_RANGE_VADDR && v[i].pid == pid;
        return cnt;
}

START_TEST(test_period_model_forgets_a_reused_pid) {
        /* The model keeps what a scan saw of pid 100 across periods. Listed
         * again with the same start time, it is the same process and the
         * model keeps its ranges; with another start time its number went
         * to a new process, and the old one's ranges, which would be
         * planned (and moved) in the new one, are forgotten. */
        _cleanup_(config_freep) Config *c = config_with_rules();
        StatusSnapshot s = { 0 };
        Engine e;

        engine_setup_model(&e, c, true);
        scan_phase = 1;
        ck_assert_int_eq(period_run(&e, 0, false, &s), 0);
        status_snapshot_done(&s);
        ck_assert_uint_eq(model_entries_of(&e, 100), 2);
        scan_phase = 3;
        ck_assert_int_eq(period_run(&e, 1, false, &s), 0);
        status_snapshot_done(&s);
        ck_assert_uint_eq(model_entries_of(&e, 100), 2);
        write_proc(100, 9000, "web");
        ck_assert_int_eq(period_run(&e, 2, false, &s), 0);
        status_snapshot_done(&s);
        ck_assert_uint_eq(model_entries_of(&e, 100), 0);
        engine_done(&e);
}
END_TEST

START_TEST(test_period_armed_only_is_not_starved) {
        /* a scan that visits web but only arms its pages (idle_page's
         * first pass over a large tenant) is the scanner's attention: web
         * does not count as starved; a scan that gives it nothing does */
        _cleanup_(config_freep) Config *c = config_with_rules();
        StatusSnapshot s = { 0 };
        const Account *a;
        Engine e;

        engine_setup(&e, c);
        scan_phase = 4;
        for (int k = 0; k < 10; k++) {
                ck_assert_int_eq(period_run(&e, (unsigned) k, false, &s), 0);
                status_snapshot_done(&s);
        }
        ck_assert_ptr_nonnull(a = account_of(&e, "web"));
        ck_assert_uint_eq(a->unseen, 0);
        scan_phase = 3;
        for (int k = 10; k < 20; k++) {
                ck_assert_int_eq(period_run(&e, (unsigned) k, false, &s), 0);
                status_snapshot_done(&s);
        }
        ck_assert_ptr_nonnull(a = account_of(&e, "web"));
        ck_assert_uint_ge(a->unseen, 8);
        engine_done(&e);
}
END_TEST

START_TEST(test_period_scan_order_unscanned_is_pending) {
        /* web: latency, no limit, 48 MiB on tier 0, seen whole by one pass
         * (phases 1 and 2) and nothing to do; web/child and other: batch,
         * never scanned, other's 4 MiB on tier 1 (it may be hot there).
         * Once web is covered, the unscanned tenants go first: their
         * decisions are pending, web has none. */
        static const char rules[] =
                "{ \"rules\": ["
                "  { \"match\": \"web\", \"policy\": { \"class\": \"latency\" } },"
                "  { \"match\": \"web/child\", \"policy\": { \"class\": \"batch\" } },"
                "  { \"match\": \"other\", \"policy\": { \"class\": \"batch\" } } ] }";
        _cleanup_(config_freep) Config *c = config_with(rules);
        StatusSnapshot s = { 0 };
        Engine e;

        write_cgroup("web", "100\n101\n", 48 * MIB, 0);
        write_cgroup("other", "103\n", 0, 4 * MIB);
        engine_setup_model(&e, c, true);
        scan_phase = 1;
        ck_assert_int_eq(period_run(&e, 0, true, &s), 0);
        status_snapshot_done(&s);
        ck_assert_str_eq(scan_order_seen.paths[0], "web");
        scan_phase = 2;
        ck_assert_int_eq(period_run(&e, 1, true, &s), 0);
        ck_assert(period_json_covered(&s, 0));
        status_snapshot_done(&s);
        scan_phase = 3;
        ck_assert_int_eq(period_run(&e, 2, true, &s), 0);
        status_snapshot_done(&s);
        ck_assert_uint_eq(scan_order_seen.n, 3);
        /* the two batch tenants in the tree's order, then web */
        ck_assert_str_eq(scan_order_seen.paths[0], "other");
        ck_assert_str_eq(scan_order_seen.paths[1], "web/child");
        ck_assert_str_eq(scan_order_seen.paths[2], "web");
        engine_done(&e);
}
END_TEST

/* A pod's refused tierd.io/ request: said once per pod, not every period;
 * the tenant carries the pod's names into the status. */
START_TEST(test_period_pod_refusal_logged_once) {
        _cleanup_(config_freep) Config *c = config_with_rules();
        _cleanup_free_ char *log = NULL;
        char web[256], logpath[256];
        StatusSnapshot s = { 0 };
        const char *p;
        int fd, saved, n = 0;
        Engine e;

        snprintf(web, sizeof(web), "%s/cg/web", unit_tmproot());
        if (setxattr(web, "trusted.tierd.pod.class", "critical", 8, 0) < 0) {
                ck_assert_int_eq(errno, EPERM); /* not root: trusted.* is CAP_SYS_ADMIN's */
                return;
        }
        ck_assert_int_eq(setxattr(web, "trusted.tierd.k8s.namespace", "dev", 3, 0), 0);
        ck_assert_int_eq(setxattr(web, "trusted.tierd.k8s.pod", "web-0", 5, 0), 0);
        snprintf(logpath, sizeof(logpath), "%s/log", unit_tmproot());
        fd = open(logpath, O_WRONLY | O_CREAT | O_TRUNC, 0600);
        ck_assert_int_ge(fd, 0);
        fflush(stderr);
        saved = dup(STDERR_FILENO);
        dup2(fd, STDERR_FILENO);
        log_set_target(LOG_TARGET_STDERR);

        engine_setup(&e, c);
        for (unsigned k = 0; k < 3; k++) {
                ck_assert_int_eq(period_run(&e, k, true, &s), 0);
                if (k < 2)
                        status_snapshot_done(&s);
        }
        fflush(stderr);
        dup2(saved, STDERR_FILENO);
        close(saved);
        close(fd);

        ck_assert_str_eq(s.tenants[0].cgroup, "web");
        ck_assert_str_eq(s.tenants[0].class_name, "latency"); /* the rule's, not the pod's */
        ck_assert_str_eq(s.tenants[0].namespace_, "dev");
        ck_assert_str_eq(s.tenants[0].pod, "web-0");
        ck_assert_uint_eq(e.n_pod_warned, 1);
        ck_assert_int_eq(read_full_file(NULL, logpath, &log, NULL), 0);
        for (p = log; (p = strstr(p, "pod dev/web-0: a tierd.io/ request is refused on web: tierd.io/class=critical "
                                     "refused: a pod of namespace dev")); p++)
                n++;
        ck_assert_msg(n == 1, "logged %d times:\n%s", n, log);
        status_snapshot_done(&s);
        engine_done(&e);
}
END_TEST

int main(void) {
        Suite *s = suite_create("period");
        TCase *tc = tcase_create("period");

        tcase_add_checked_fixture(tc, tree_setup, unit_tmp_teardown);
        tcase_add_test(tc, test_period_run_one_period);
        tcase_add_test(tc, test_period_steps_and_arming);
        tcase_add_test(tc, test_period_tenant_gone_is_pruned);
        tcase_add_test(tc, test_period_nested_tenant_under_parent_limit);
        tcase_add_test(tc, test_period_model_keeps_the_hot_set);
        tcase_add_test(tc, test_period_scan_order_need_then_class);
        tcase_add_test(tc, test_period_unmapped_held_until_classified);
        tcase_add_loop_test(tc, test_period_unmapped_kdamond_scanner, 0, 2);
        tcase_add_test(tc, test_period_unmapped_kdamond_scanner_spare);
        tcase_add_test(tc, test_period_pid_reused_is_not_moved);
        tcase_add_test(tc, test_period_pid_moved_out_is_not_moved);
        tcase_add_test(tc, test_period_model_forgets_a_reused_pid);
        tcase_add_test(tc, test_period_armed_only_is_not_starved);
        tcase_add_test(tc, test_period_scan_order_unscanned_is_pending);
        tcase_add_test(tc, test_period_pod_refusal_logged_once);
        suite_add_tcase(s, tc);
        return unit_run(s);
}
