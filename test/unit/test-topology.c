/* SPDX-License-Identifier: MIT */
/* Topology on sysfs trees captured from the testbed kernels and this host
 * (test/fixtures/, see test/fixtures/capture), and on small trees written
 * here to exercise the distance heuristic and error paths. */
#include <check.h>

#include "unit.h"
#include <string.h>
#include <sys/stat.h>

#include "topology.h"
#include "util.h"

#ifndef FIXTURES
#error "FIXTURES must point at test/fixtures"
#endif


static void write_node(int id, const char *cpulist, unsigned long long kb_total, const char *distance) {
        char rel[128], buf[256];

        snprintf(rel, sizeof(rel), "/devices/system/node/node%d/cpulist", id);
        unit_write_file(rel, cpulist);
        snprintf(rel, sizeof(rel), "/devices/system/node/node%d/meminfo", id);
        snprintf(buf, sizeof(buf), "Node %d MemTotal:       %llu kB\nNode %d MemFree:        %llu kB\n", id,
                 kb_total, id, kb_total / 2);
        unit_write_file(rel, buf);
        snprintf(rel, sizeof(rel), "/devices/system/node/node%d/distance", id);
        unit_write_file(rel, distance);
}



static void check_two_tier_vm(const char *name) {
        _cleanup_(topology_freep) Topology *t = NULL;
        char root[512];

        snprintf(root, sizeof(root), "%s/%s/sys", FIXTURES, name);
        ck_assert_int_eq(topology_load(root, &t), 0);
        ck_assert_int_eq(t->source, TOPOLOGY_SOURCE_MEMORY_TIERS);
        ck_assert_int_eq(t->n_nodes, 2);
        ck_assert(t->nodes[0].has_cpus);
        ck_assert(!t->nodes[1].has_cpus);
        /* roughly 1 GiB each, as test/vm/run gives by default */
        ck_assert_uint_gt(t->nodes[0].total_bytes, 900ull << 20);
        ck_assert_uint_lt(t->nodes[0].total_bytes, 1025ull << 20);
        ck_assert_uint_gt(t->nodes[1].total_bytes, 900ull << 20);
        ck_assert_uint_le(t->nodes[1].free_bytes, t->nodes[1].total_bytes);
        ck_assert_int_eq(t->nodes[0].distance[1], 20);
        ck_assert_int_eq(t->nodes[1].distance[1], 10);

        ck_assert_int_eq(t->n_tiers, 2);
        ck_assert_int_eq(t->tiers[0].kernel_id, 4);
        ck_assert_uint_eq(t->tiers[0].nodes, 1);
        ck_assert_int_eq(t->tiers[1].kernel_id, 27);
        ck_assert_uint_eq(t->tiers[1].nodes, 2);
        ck_assert_int_eq(t->nodes[0].tier, 0);
        ck_assert_int_eq(t->nodes[1].tier, 1);
        ck_assert_uint_eq(t->tiers[1].total_bytes, t->nodes[1].total_bytes);
        ck_assert_uint_eq(t->tiers[0].free_bytes, t->nodes[0].free_bytes);
}

START_TEST(test_topology_load_vm_stock) { check_two_tier_vm("vm-stock"); }
END_TEST

START_TEST(test_topology_load_vm_idle) { check_two_tier_vm("vm-idle"); }
END_TEST

START_TEST(test_topology_load_host_single_node) {
        _cleanup_(topology_freep) Topology *t = NULL;

        ck_assert_int_eq(topology_load(FIXTURES "/host/sys", &t), 0);
        ck_assert_int_eq(t->n_nodes, 1);
        ck_assert(t->nodes[0].has_cpus);
        ck_assert_int_eq(t->n_tiers, 1);
        ck_assert_int_eq(t->nodes[0].tier, 0);
}
END_TEST

START_TEST(test_topology_distance_fallback_on_vm_capture) {
        _cleanup_(topology_freep) Topology *t = NULL;
        char cmd[512], root[128];

        /* The stock capture without memory_tiering: the heuristic must put
         * the CPU-less node 1 below node 0 as the kernel did. */
        snprintf(cmd, sizeof(cmd), "cp -r '%s/vm-stock/sys' '%s/' && rm -rf '%s/sys/devices/virtual/memory_tiering'",
                 FIXTURES, unit_tmproot(), unit_tmproot());
        ck_assert_int_eq(system(cmd), 0);
        snprintf(root, sizeof(root), "%s/sys", unit_tmproot());
        ck_assert_int_eq(topology_load(root, &t), 0);
        ck_assert_int_eq(t->source, TOPOLOGY_SOURCE_DISTANCE);
        ck_assert_int_eq(t->n_tiers, 2);
        ck_assert_uint_eq(t->tiers[0].nodes, 1);
        ck_assert_uint_eq(t->tiers[1].nodes, 2);
        ck_assert_int_eq(t->tiers[1].kernel_id, -1);
}
END_TEST

START_TEST(test_topology_distance_groups_equal_distances) {
        _cleanup_(topology_freep) Topology *t = NULL;

        /* node 0 CPUs; nodes 1 and 3 CPU-less at 20; node 2 CPU-less at 30 */
        unit_write_file("/devices/system/node/online", "0-3\n");
        write_node(0, "0-1\n", 1 << 20, "10 20 30 20\n");
        write_node(1, "\n", 1 << 20, "20 10 30 30\n");
        write_node(2, "\n", 1 << 20, "30 30 10 30\n");
        write_node(3, "\n", 1 << 20, "20 30 30 10\n");
        ck_assert_int_eq(topology_load(unit_tmproot(), &t), 0);
        ck_assert_int_eq(t->n_tiers, 3);
        ck_assert_uint_eq(t->tiers[0].nodes, 1u << 0);
        ck_assert_uint_eq(t->tiers[1].nodes, (1u << 1) | (1u << 3));
        ck_assert_uint_eq(t->tiers[2].nodes, 1u << 2);
        ck_assert_uint_eq(t->tiers[1].total_bytes, 2ull << 30);
        ck_assert_int_eq(t->nodes[3].tier, 1);
}
END_TEST

START_TEST(test_topology_sparse_node_ids_map_distance_columns) {
        _cleanup_(topology_freep) Topology *t = NULL;

        /* Online nodes 0 and 2: the distance file has two columns. */
        unit_write_file("/devices/system/node/online", "0,2\n");
        write_node(0, "0\n", 1 << 20, "10 25\n");
        write_node(2, "\n", 1 << 20, "25 10\n");
        ck_assert_int_eq(topology_load(unit_tmproot(), &t), 0);
        ck_assert_int_eq(t->n_nodes, 2);
        ck_assert_int_eq(t->nodes[1].id, 2);
        ck_assert_int_eq(t->nodes[1].distance[0], 25);
        ck_assert_int_eq(t->nodes[1].distance[2], 10);
        ck_assert_int_eq(t->nodes[1].distance[1], -1);
        ck_assert_ptr_eq(topology_node(t, 2), &t->nodes[1]);
        ck_assert_ptr_null(topology_node(t, 1));
        ck_assert_int_eq(t->nodes[1].tier, 1);
}
END_TEST

START_TEST(test_topology_memory_tiers_sorted_by_kernel_id) {
        _cleanup_(topology_freep) Topology *t = NULL;

        /* Kernel tier ids sort numerically (memory_tier100 after _tier27),
         * and an empty tier is skipped. */
        unit_write_file("/devices/system/node/online", "0-2\n");
        write_node(0, "0\n", 1 << 20, "10 20 20\n");
        write_node(1, "\n", 1 << 20, "20 10 20\n");
        write_node(2, "\n", 1 << 20, "20 20 10\n");
        unit_write_file("/devices/virtual/memory_tiering/memory_tier100/nodelist", "2\n");
        unit_write_file("/devices/virtual/memory_tiering/memory_tier4/nodelist", "0\n");
        unit_write_file("/devices/virtual/memory_tiering/memory_tier27/nodelist", "1\n");
        unit_write_file("/devices/virtual/memory_tiering/memory_tier50/nodelist", "\n");
        ck_assert_int_eq(topology_load(unit_tmproot(), &t), 0);
        ck_assert_int_eq(t->n_tiers, 3);
        ck_assert_int_eq(t->tiers[0].kernel_id, 4);
        ck_assert_int_eq(t->tiers[1].kernel_id, 27);
        ck_assert_int_eq(t->tiers[2].kernel_id, 100);
        ck_assert_int_eq(t->nodes[2].tier, 2);
}
END_TEST

START_TEST(test_topology_errors) {
        _cleanup_(topology_freep) Topology *t = NULL;

        ck_assert_int_eq(topology_load(unit_tmproot(), &t), -ENOENT); /* no online file */
        unit_write_file("/devices/system/node/online", "0\n");
        write_node(0, "0\n", 1 << 20, "10\n");
        unit_write_file("/devices/virtual/memory_tiering/memory_tier4/nodelist", "zero\n");
        ck_assert_int_eq(topology_load(unit_tmproot(), &t), -EINVAL);
        ck_assert_ptr_null(t);
        unit_write_file("/devices/virtual/memory_tiering/memory_tier4/nodelist", "0\n");
        unit_write_file("/devices/system/node/node0/meminfo", "Node 0 MemFree: 1 kB\n");
        ck_assert_int_eq(topology_load(unit_tmproot(), &t), -ENOENT); /* no MemTotal */
}
END_TEST

START_TEST(test_topology_zone_reserves_vm_capture) {
        /* /proc/zoneinfo of the stock testbed kernel, 512 MiB node 0 and
         * 1 GiB node 1 (test/vm/run --fast 512M --slow 1G): node 0 keeps
         * its DMA zone's high 259 + protection 487 (of 3840 managed) and its
         * DMA32 zone's high 8467; the empty Movable zones (high 32, managed
         * 0) add nothing; node 1 keeps its DMA32 high 16614. */
        _cleanup_(topology_freep) Topology *t = NULL;
        _cleanup_free_ char *text = NULL;
        uint64_t b[TOPOLOGY_MAX_NODES];
        char root[512];

        ck_assert_int_eq(read_full_file(FIXTURES, "/zoneinfo/stock-fast512M-slow1G", &text, NULL), 0);
        ck_assert_int_eq(topology_parse_zone_reserves(text, 4096, b), 0);
        ck_assert_uint_eq(b[0], (259 + 487 + 8467) * UINT64_C(4096));
        ck_assert_uint_eq(b[1], 16614 * UINT64_C(4096));
        ck_assert_uint_eq(b[2], 0);

        /* into a topology: nodes and tier sums */
        snprintf(root, sizeof(root), "%s/vm-stock/sys", FIXTURES);
        ck_assert_int_eq(topology_load(root, &t), 0);
        ck_assert_int_eq(topology_load_reserves(FIXTURES "/zoneinfo-root", t), -ENOENT);
        unit_write_file("/zoneinfo", text);
        ck_assert_int_eq(topology_load_reserves(unit_tmproot(), t), 0);
        ck_assert_uint_eq(t->nodes[0].reserved_bytes, b[0]);
        ck_assert_uint_eq(t->tiers[0].reserved_bytes, b[0]);
        ck_assert_uint_eq(t->tiers[1].reserved_bytes, b[1]);
}
END_TEST

START_TEST(test_topology_zone_reserves_synthetic) {
        uint64_t b[TOPOLOGY_MAX_NODES];

        /* a reserve larger than the zone counts the zone only; the
         * per-cpu "high:" lines are not the watermark; node ids sparse */
        ck_assert_int_eq(topology_parse_zone_reserves("Node 3, zone      DMA\n"
                                                      "        high     100\n"
                                                      "        managed  300\n"
                                                      "        protection: (0, 1000, 1000)\n"
                                                      "              high:  99999\n"
                                                      "Node 3, zone    DMA32\n"
                                                      "        high     10\n"
                                                      "        managed  5000\n"
                                                      "        protection: (0, 0, 0)\n"
                                                      "Node 70, zone   Normal\n"
                                                      "        high     10\n"
                                                      "        managed  5000\n",
                                                      4096, b),
                         0);
        ck_assert_uint_eq(b[3], (300 + 10) * UINT64_C(4096));
        ck_assert_uint_eq(b[0], 0);
        ck_assert_int_eq(topology_parse_zone_reserves("", 4096, b), -ENODATA);
        ck_assert_int_eq(topology_parse_zone_reserves("nr_free_pages 12\n", 4096, b), -ENODATA);
}
END_TEST

int main(void) {
        Suite *s = suite_create("topology");
        TCase *fx = tcase_create("fixtures"), *syn = tcase_create("synthetic");

        tcase_add_test(fx, test_topology_load_vm_stock);
        tcase_add_test(fx, test_topology_load_vm_idle);
        tcase_add_test(fx, test_topology_load_host_single_node);
        tcase_add_checked_fixture(syn, unit_tmp_setup, unit_tmp_teardown);
        tcase_add_test(syn, test_topology_distance_fallback_on_vm_capture);
        tcase_add_test(syn, test_topology_distance_groups_equal_distances);
        tcase_add_test(syn, test_topology_sparse_node_ids_map_distance_columns);
        tcase_add_test(syn, test_topology_memory_tiers_sorted_by_kernel_id);
        tcase_add_test(syn, test_topology_errors);
        tcase_add_test(syn, test_topology_zone_reserves_vm_capture);
        tcase_add_test(syn, test_topology_zone_reserves_synthetic);
        suite_add_tcase(s, fx);
        suite_add_tcase(s, syn);
        return unit_run(s);
}
