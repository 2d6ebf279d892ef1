/* SPDX-License-Identifier: MIT */
/* /proc/zoneinfo, read once for everything tierd takes from it: which node
 * each page frame belongs to (the idle page scanner, the DAMOS mover's
 * address filters) and what the kernel keeps free on each node (the
 * planner's headroom, topology_load_reserves()). */
#pragma once

#include <stddef.h>
#include <stdint.h>

/* One zone ("Node N, zone NAME" block). Counts are in pages. */
typedef struct ZoneInfo {
        int node;
        uint64_t start_pfn;     /* valid when has_start */
        uint64_t spanned, managed, high;
        uint64_t protection;    /* the largest lowmem reserve of the "protection: (...)" list */
        int has_start;
} ZoneInfo;

/* Pure: every zone of zoneinfo TEXT, in file order. -ENODATA when TEXT
 * holds no zone header. */
int zoneinfo_parse(const char *text, ZoneInfo **ret, size_t *ret_n);

/* PFN -> NUMA node: each populated zone's [start_pfn, start_pfn + spanned)
 * belongs to its node. Zone spans of two nodes can overlap on some
 * machines (interleaved memory); such PFNs map to -1 (unknown) rather than
 * to a guess. */
typedef struct NodeSpan {
        uint64_t start, end;    /* PFNs, end exclusive */
        int node;               /* -1: more than one node spans it */
} NodeSpan;

/* Pure: zoneinfo TEXT as disjoint spans sorted by start. -ENODATA when no
 * zone has pages. */
int zoneinfo_node_spans(const char *text, NodeSpan **ret, size_t *ret_n);
/* The node of PFN, -1 when no span (or an ambiguous one) covers it. */
int node_span_find(const NodeSpan *spans, size_t n, uint64_t pfn);
