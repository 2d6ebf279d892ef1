/* SPDX-License-Identifier: MIT */
/* NUMA nodes and memory tiers, as the running kernel (or a captured sysfs
 * tree) describes them.
 *
 * Tiers come from /sys/devices/virtual/memory_tiering/memory_tierN/nodelist
 * when the kernel has memory tiers: the kernel's tier ids (N, lower is
 * faster) are sorted and numbered 0, 1, ... as tierd's tier indexes.
 *
 * Without that directory, tierd derives tiers from node distances
 * (TOPOLOGY_SOURCE_DISTANCE): every node with CPUs is tier 0; each CPU-less
 * node is ranked by its smallest distance to a node with CPUs, and each
 * distinct distance, smallest first, is the next tier. A machine without
 * any CPU node puts all nodes in tier 0. */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#define TOPOLOGY_MAX_NODES 64

typedef enum TopologySource {
        TOPOLOGY_SOURCE_MEMORY_TIERS,
        TOPOLOGY_SOURCE_DISTANCE,
} TopologySource;

typedef struct TopologyNode {
        int id;
        bool has_cpus;
        bool has_memory;
        uint64_t total_bytes;
        uint64_t free_bytes;
        uint64_t reserved_bytes; /* free memory a page allocation cannot take
                                  * (topology_load_reserves(); 0 if unread) */
        int tier;               /* tierd tier index, 0 = fastest */
        int distance[TOPOLOGY_MAX_NODES]; /* to node j, -1 unknown */
} TopologyNode;

typedef struct TopologyTier {
        int index;              /* 0 = fastest */
        int kernel_id;          /* N of memory_tierN, -1 when derived */
        uint64_t nodes;         /* bitmask of node ids */
        uint64_t total_bytes;
        uint64_t free_bytes;
        uint64_t reserved_bytes; /* sum of the nodes' */
} TopologyTier;

typedef struct Topology {
        TopologySource source;
        int n_nodes;
        TopologyNode nodes[TOPOLOGY_MAX_NODES];
        int n_tiers;
        TopologyTier tiers[TOPOLOGY_MAX_NODES];
} Topology;

/* Reads nodes and tiers under sysfs_root ("/sys", a VM capture, ...). */
int topology_load(const char *sysfs_root, Topology **ret);
Topology *topology_free(Topology *t);
static inline void topology_freep(Topology **t) { topology_free(*t); }

/* The free memory of each node that the kernel keeps from a movable page
 * allocation (a migration target, a promotion), from /proc/zoneinfo: per
 * zone, its high watermark plus its largest lowmem reserve ("protection",
 * which keeps low zones such as DMA for their own allocations), at most
 * the zone's managed pages. Below that a migration fails with ENOMEM or
 * wakes kswapd, so the planner's headroom is never smaller.
 * topology_parse_zone_reserves() is the pure parser (zoneinfo counts
 * pages of PAGE_SIZE bytes; ret_bytes is indexed by node id);
 * topology_load_reserves() reads PROCFS_ROOT/zoneinfo into T's nodes and
 * tiers. Both return -ENODATA when the text has no zone. */
int topology_parse_zone_reserves(const char *zoneinfo, uint64_t page_size,
                                 uint64_t ret_bytes[TOPOLOGY_MAX_NODES]);
int topology_load_reserves(const char *procfs_root, Topology *t);

const TopologyNode *topology_node(const Topology *t, int id);
const char *topology_source_to_string(TopologySource s);
