/* SPDX-License-Identifier: MIT */
/* scanner/lru_gen.c: the DEBUGFS/lru_gen parser on captures from the stock
 * testbed kernel (test/fixtures/lru_gen/capture made them: MGLRU enabled,
 * cgroups t1, t1/a, t1/w, t2; workload --size 64 --hot 16 in t1/w on
 * node 0 and --size 8 --hot 2 --node 1 in t1/a; stock-0 before any aging,
 * stock-1 and stock-2 after aging rounds one second apart), on hand-written
 * malformed inputs, subtree summing, the age mapping, the pass flags, and
 * open()'s checks on temporary sysfs trees. */
#include <check.h>

#include "unit.h"

#include "lru_gen.h"
#include "scanner.h"
#include "topology.h"
#include "util.h"

#define PAGE 4096u

static LruGenTable *parse_fixture(const char *name) {
        _cleanup_free_ char *text = NULL;
        char path[512];
        LruGenTable *t = NULL;

        snprintf(path, sizeof(path), "%s/lru_gen/%s", FIXTURES, name);
        ck_assert_int_eq(read_full_file(NULL, path, &text, NULL), 0);
        ck_assert_int_eq(lru_gen_parse(text, &t), 0);
        ck_assert_ptr_nonnull(t);
        return t;
}

static Topology *vm_topology(void) {
        char root[512];
        Topology *topo = NULL;

        snprintf(root, sizeof(root), "%s/vm-stock/sys", FIXTURES);
        ck_assert_int_eq(topology_load(root, &topo), 0);
        ck_assert_int_eq(topo->n_tiers, 2);
        return topo;
}

START_TEST(test_parse_stock_before_aging) {
        _cleanup_(lru_gen_table_freep) LruGenTable *t = parse_fixture("stock-0.txt");
        const LruGenMemcg *m;
        const LruGenNode *n;

        ck_assert_uint_eq(t->n_memcgs, 5);
        ck_assert_str_eq(t->memcgs[0].path, "/");
        ck_assert_uint_eq(t->memcgs[0].id, 1);
        /* The file prints the kernel's memcg id, in its own order. */
        m = lru_gen_find(t, "t1/w");
        ck_assert_ptr_nonnull(m);
        ck_assert_uint_eq(m->id, 5);
        ck_assert_ptr_eq(lru_gen_find_id(t, 5), m);
        ck_assert_uint_eq(m->n_nodes, 2);
        n = lru_gen_memcg_node(m, 0);
        ck_assert_ptr_nonnull(n);
        ck_assert_uint_eq(n->n_gens, 4);
        ck_assert_uint_eq(n->gens[0].seq, 0);
        ck_assert_uint_eq(lru_gen_max_seq(n), 3);
        /* The 64 MiB just faulted in: all in the youngest generation. */
        ck_assert_uint_eq(n->gens[3].anon_pages, 16392);
        ck_assert_uint_eq(n->gens[3].file_pages, 0);
        ck_assert_uint_eq(n->gens[3].age_ms, 652);
        ck_assert_ptr_null(lru_gen_memcg_node(m, 2));
        ck_assert_uint_eq(lru_gen_memcg_node(lru_gen_find(t, "/t1/a"), 1)->gens[3].anon_pages, 2048);
        ck_assert_uint_gt(t->bytes, sizeof(*t));
}
END_TEST

START_TEST(test_parse_stock_after_aging) {
        _cleanup_(lru_gen_table_freep) LruGenTable *t = parse_fixture("stock-2.txt");
        const LruGenNode *n = lru_gen_memcg_node(lru_gen_find(t, "/t1/w"), 0);

        /* Two aging rounds: generations 3..6 (the kernel keeps at most
         * four; the oldest were folded into 3). The hot 16 MiB (+4 pages)
         * sit in max_seq - 1, the cold 48 MiB in the oldest, and the
         * generation the last aging opened is empty. */
        ck_assert_uint_eq(n->n_gens, 4);
        ck_assert_uint_eq(n->gens[0].seq, 3);
        ck_assert_uint_eq(lru_gen_max_seq(n), 6);
        ck_assert_uint_eq(n->gens[0].anon_pages, 12315);
        ck_assert_uint_eq(n->gens[2].anon_pages, 4100);
        ck_assert_uint_eq(n->gens[3].anon_pages, 0);
}
END_TEST

START_TEST(test_age_mapping) {
        /* max_seq (just opened) and max_seq - 1 (found accessed by the
         * aging) are age 0; each older generation one more, saturating. */
        ck_assert_uint_eq(lru_gen_age(6, 6), 0);
        ck_assert_uint_eq(lru_gen_age(6, 5), 0);
        ck_assert_uint_eq(lru_gen_age(6, 4), 1);
        ck_assert_uint_eq(lru_gen_age(6, 3), 2);
        ck_assert_uint_eq(lru_gen_age(0, 0), 0);
        ck_assert_uint_eq(lru_gen_age(16, 0), 15);
        ck_assert_uint_eq(lru_gen_age(17, 0), HEAT_MAX_AGE);
        ck_assert_uint_eq(lru_gen_age(UINT64_MAX, 0), HEAT_MAX_AGE);
        ck_assert_uint_eq(lru_gen_age(3, 7), 0); /* newer than max: never negative */
}
END_TEST

START_TEST(test_heat_subtree_sum) {
        _cleanup_(lru_gen_table_freep) LruGenTable *t = parse_fixture("stock-2.txt");
        _cleanup_(topology_freep) Topology *topo = vm_topology();
        HeatSummary h = { 0 };
        uint64_t tracked = 0;

        /* t1 covers t1 (empty), t1/a and t1/w: node 0 is tier 0, node 1
         * (CPU-less) tier 1. */
        ck_assert_int_eq(lru_gen_heat(t, "t1", topo, PAGE, &h, &tracked), 1);
        ck_assert_uint_eq(h.bytes[0][0], (4100 + 4) * (uint64_t) PAGE);
        ck_assert_uint_eq(h.bytes[0][1], 0);
        ck_assert_uint_eq(h.bytes[0][2], (12315 + 28) * (uint64_t) PAGE);
        ck_assert_uint_eq(h.bytes[1][0], 512 * (uint64_t) PAGE);
        ck_assert_uint_eq(h.bytes[1][2], 1536 * (uint64_t) PAGE);
        ck_assert_uint_eq(tracked, (4104 + 12343 + 512 + 1536) * (uint64_t) PAGE);
        for (int a = 3; a <= HEAT_MAX_AGE; a++)
                ck_assert_uint_eq(h.bytes[0][a] + h.bytes[1][a], 0);

        /* A leaf alone, with a leading '/' and a trailing one. */
        memset(&h, 0, sizeof(h));
        tracked = 0;
        ck_assert_int_eq(lru_gen_heat(t, "/t1/a/", topo, PAGE, &h, &tracked), 1);
        ck_assert_uint_eq(h.bytes[0][0], 4 * (uint64_t) PAGE);
        ck_assert_uint_eq(h.bytes[0][2], 28 * (uint64_t) PAGE);
        ck_assert_uint_eq(h.bytes[1][0], 512 * (uint64_t) PAGE);
        ck_assert_uint_eq(h.bytes[1][2], 1536 * (uint64_t) PAGE);
        ck_assert_uint_eq(tracked, (4 + 28 + 512 + 1536) * (uint64_t) PAGE);

        /* An empty memcg exists (1) with nothing; a missing one is 0. */
        memset(&h, 0, sizeof(h));
        tracked = 0;
        ck_assert_int_eq(lru_gen_heat(t, "t2", topo, PAGE, &h, &tracked), 1);
        ck_assert_uint_eq(tracked, 0);
        ck_assert_int_eq(lru_gen_heat(t, "t3", topo, PAGE, &h, &tracked), 0);
        ck_assert_uint_eq(tracked, 0);

        /* The root covers everything, so at least t1. */
        ck_assert_int_eq(lru_gen_heat(t, "", topo, PAGE, &h, &tracked), 1);
        ck_assert_uint_ge(tracked, (4104 + 12343 + 512 + 1536) * (uint64_t) PAGE);
}
END_TEST

START_TEST(test_subtree_prefix) {
        /* A name that merely starts like the target is not in its subtree. */
        static const char text[] =
                "memcg     1 /\n node     0\n          0        10          1           1 \n"
                "memcg     2 /t1\n node     0\n          0        10          2           0 \n"
                "memcg     3 /t10\n node     0\n          0        10          4           0 \n"
                "memcg     4 /t1/x y\n node     0\n          0        10          8           0 \n"
                "memcg     5 /t1/x y/z\n node     0\n          0        10         16           0 \n";
        _cleanup_(lru_gen_table_freep) LruGenTable *t = NULL;
        _cleanup_(topology_freep) Topology *topo = vm_topology();
        HeatSummary h = { 0 };
        uint64_t tracked = 0;

        ck_assert_int_eq(lru_gen_parse(text, &t), 0);
        ck_assert_str_eq(t->memcgs[3].path, "/t1/x y"); /* blanks in names kept */
        ck_assert(lru_gen_in_subtree("/t1", "t1"));
        ck_assert(lru_gen_in_subtree("/t1/x y/z", "t1"));
        ck_assert(!lru_gen_in_subtree("/t10", "t1"));
        ck_assert(!lru_gen_in_subtree("/", "t1"));
        ck_assert(lru_gen_in_subtree("/t10", ""));
        ck_assert(lru_gen_in_subtree("/", "/"));
        ck_assert_int_eq(lru_gen_heat(t, "t1", topo, 1, &h, &tracked), 1);
        ck_assert_uint_eq(tracked, 2 + 8 + 16);
        tracked = 0;
        ck_assert_int_eq(lru_gen_heat(t, "t1/x y", topo, 1, &h, &tracked), 1);
        ck_assert_uint_eq(tracked, 8 + 16);
        tracked = 0;
        ck_assert_int_eq(lru_gen_heat(t, "/", topo, 1, &h, &tracked), 1);
        ck_assert_uint_eq(tracked, 2 + 2 + 4 + 8 + 16);
}
END_TEST

START_TEST(test_unknown_node_left_out) {
        /* Node 5 is not in the two-node topology: not summed anywhere. */
        static const char text[] = "memcg 2 /t1\n node 0\n 7 1 10 0\n node 5\n 7 1 100 0\n";
        _cleanup_(lru_gen_table_freep) LruGenTable *t = NULL;
        _cleanup_(topology_freep) Topology *topo = vm_topology();
        HeatSummary h = { 0 };
        uint64_t tracked = 0;

        ck_assert_int_eq(lru_gen_parse(text, &t), 0);
        ck_assert_int_eq(lru_gen_heat(t, "t1", topo, 1, &h, &tracked), 1);
        ck_assert_uint_eq(tracked, 10);
        ck_assert_uint_eq(h.bytes[0][0], 10);
}
END_TEST

START_TEST(test_parse_edge_cases) {
        _cleanup_(lru_gen_table_freep) LruGenTable *empty = NULL, *nomemcg = NULL;

        ck_assert_int_eq(lru_gen_parse("", &empty), 0);
        ck_assert_uint_eq(empty->n_memcgs, 0);
        /* Without CONFIG_MEMCG the kernel prints id 0 and no path. */
        ck_assert_int_eq(lru_gen_parse("memcg     0 \n node     0\n 1 2 3 4\n\n", &nomemcg), 0);
        ck_assert_str_eq(nomemcg->memcgs[0].path, "");
        ck_assert_ptr_eq(lru_gen_find(nomemcg, ""), &nomemcg->memcgs[0]);
        ck_assert_uint_eq(nomemcg->memcgs[0].nodes[0].gens[0].file_pages, 4);
}
END_TEST

static const char *const malformed[] = {
        " node 0\n 1 2 3 4\n",                                  /* node outside a memcg */
        "memcg 1 /\n 1 2 3 4\n",                                /* generation outside a node */
        "memcg 1 /\n node 0\n 1 2 3\n",                         /* three fields */
        "memcg 1 /\n node 0\n 1 2 3 4 5\n",                     /* five fields */
        "memcg 1 /\n node 0\n 1 2 3 x\n",                       /* not a number */
        "memcg 1 /\n node 0\n 1 2 -3 4\n",                      /* negative */
        "memcg 1 /\n node 0\n 1 2 3 4x\n",                      /* trailing junk in a field */
        "memcg 1 /\n node 0\n 1 2 3 99999999999999999999\n",    /* overflow */
        "memcg 1 /\n node 0\n 5 2 3 4\n 5 2 3 4\n",             /* seq not increasing */
        "memcg 1 /\n node 0\n 5 2 3 4\n 4 2 3 4\n",             /* seq decreasing */
        "memcg 1 /\n node 0\n 1 2 3 4\n node 0\n 2 2 3 4\n",    /* node twice */
        "memcg 1 /\n node 0\nmemcg 2 /a\n node 0\n 1 2 3 4\n",  /* node without generations */
        "memcg 1 /\n node 0\n",                                 /* ... at the end */
        "memcg 1 /\n node\n 1 2 3 4\n",                         /* node without id */
        "memcg 1 /\n node 0 1\n 1 2 3 4\n",                     /* node with two ids */
        "memcg 1 /\n node 9999\n 1 2 3 4\n",                    /* node id out of range */
        "memcg /\n node 0\n 1 2 3 4\n",                         /* memcg without id */
        "memcg 99999999999 /\n node 0\n 1 2 3 4\n",             /* id too large */
        "memcg 1/\n node 0\n 1 2 3 4\n",                        /* no space before the path */
        "hello\n",                                              /* unknown line */
        "memcg 1 /\n node 0\n 1 2 3 4\n lruvec 3\n",            /* unknown keyword */
        "memcg 1 /\n node 0\n 1 2 3 4 x\n",                     /* lru_gen_full's marks: not this file */
};

START_TEST(test_parse_malformed) {
        LruGenTable *t = NULL;

        ck_assert_int_eq(lru_gen_parse(malformed[_i], &t), -EINVAL);
        ck_assert_ptr_null(t);
}
END_TEST

START_TEST(test_pass_flags) {
        const unsigned whole = HEAT_PASS_BEGIN | HEAT_PASS_END | HEAT_PASS_BYTE_ONLY;

        ck_assert_uint_eq(lru_gen_pass(false, true, false), 0);        /* its arming scan */
        ck_assert_uint_eq(lru_gen_pass(false, true, true), 0);
        ck_assert_uint_eq(lru_gen_pass(true, false, false), 0);        /* no memcg (any more) */
        ck_assert_uint_eq(lru_gen_pass(true, true, false), whole | HEAT_PASS_EXACT);
        ck_assert_uint_eq(lru_gen_pass(true, true, true), whole);      /* an aging refused twice */
}
END_TEST

/* ---- open() on temporary sysfs trees ---------------------------------- */

static int try_open(void) {
        ScanOptions o = { .sysfs_root = unit_tmproot(), .procfs_root = "/proc", .cgroup_mount = "/sys/fs/cgroup" };
        Scanner *s = NULL;
        uint64_t bytes = 1, pages = 1;
        int r;

        r = scanner_lru_gen_ops.open(&o, &s);
        if (r >= 0) {
                ck_assert_ptr_nonnull(s);
                scanner_lru_gen_ops.memory(s, &bytes, &pages);
                ck_assert_uint_eq(pages, 0); /* nothing scanned yet */
                scanner_lru_gen_ops.close(s);
        }
        return r;
}

START_TEST(test_open_no_mglru) {
        unit_write_file("/kernel/debug/lru_gen", "");
        ck_assert_int_eq(try_open(), -EOPNOTSUPP);
}
END_TEST

START_TEST(test_open_disabled) {
        unit_write_file("/kernel/mm/lru_gen/enabled", "0x0000\n");
        unit_write_file("/kernel/debug/lru_gen", "");
        ck_assert_int_eq(try_open(), -EOPNOTSUPP);
}
END_TEST

START_TEST(test_open_bad_switch) {
        unit_write_file("/kernel/mm/lru_gen/enabled", "yes\n");
        unit_write_file("/kernel/debug/lru_gen", "");
        ck_assert_int_eq(try_open(), -EINVAL);
}
END_TEST

START_TEST(test_open_no_debugfs) {
        char dir[256];

        unit_write_file("/kernel/mm/lru_gen/enabled", "0x0007\n");
        snprintf(dir, sizeof(dir), "%s/kernel/debug", unit_tmproot());
        ck_assert_int_eq(mkdir(dir, 0755), 0); /* the empty mount point */
        ck_assert_int_eq(try_open(), -EOPNOTSUPP);
}
END_TEST

START_TEST(test_open_ok) {
        unit_write_file("/kernel/mm/lru_gen/enabled", "0x0007\n");
        unit_write_file("/kernel/debug/lru_gen", "");
        ck_assert_int_eq(try_open(), 0);
        /* Without the page-table walk it still opens (with a warning). */
        unit_write_file("/kernel/mm/lru_gen/enabled", "0x0001\n");
        ck_assert_int_eq(try_open(), 0);
        ck_assert_ptr_eq(scanner_find("lru_gen"), &scanner_lru_gen_ops);
}
END_TEST

static Suite *lru_gen_suite(void) {
        Suite *s = suite_create("lru_gen");
        TCase *tc = tcase_create("parse");
        TCase *to = tcase_create("open");

        tcase_add_test(tc, test_parse_stock_before_aging);
        tcase_add_test(tc, test_parse_stock_after_aging);
        tcase_add_test(tc, test_age_mapping);
        tcase_add_test(tc, test_heat_subtree_sum);
        tcase_add_test(tc, test_subtree_prefix);
        tcase_add_test(tc, test_unknown_node_left_out);
        tcase_add_test(tc, test_parse_edge_cases);
        tcase_add_loop_test(tc, test_parse_malformed, 0, (int) ELEMENTSOF(malformed));
        tcase_add_test(tc, test_pass_flags);
        suite_add_tcase(s, tc);

        tcase_add_checked_fixture(to, unit_tmp_setup, unit_tmp_teardown);
        tcase_add_test(to, test_open_no_mglru);
        tcase_add_test(to, test_open_disabled);
        tcase_add_test(to, test_open_bad_switch);
        tcase_add_test(to, test_open_no_debugfs);
        tcase_add_test(to, test_open_ok);
        suite_add_tcase(s, to);
        return s;
}

int main(void) {
        return unit_run(lru_gen_suite());
}
