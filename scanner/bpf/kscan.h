/* SPDX-License-Identifier: MIT */
/* Records shared by kscan.bpf.c (kernel side) and kscan.c (loader): the
 * kernel's own page scanning and migration, as tracepoints report it. */
#pragma once

#ifndef __VMLINUX_H__
#include <linux/types.h>
#endif

/* enum migrate_reason of 6.12, MR_TYPES included, plus room to grow. */
#define KSCAN_MR_MAX 16

enum kscan_event_type {
        KSCAN_EV_DAMON_REGION = 1, /* damon:damon_aggregated */
};

/* Per migrate reason, summed over CPUs by the loader. */
struct kscan_migrate_count {
        __u64 calls;
        __u64 succeeded;        /* base pages and folios, as the kernel counts */
        __u64 failed;
        __u64 thp_succeeded;
};
_Static_assert(sizeof(struct kscan_migrate_count) == 32, "kscan_migrate_count layout");

/* Reclaim per node from vmscan:mm_vmscan_lru_shrink_inactive. */
#define KSCAN_NODES_MAX 64
struct kscan_reclaim_count {
        __u64 scanned;
        __u64 reclaimed;
};
_Static_assert(sizeof(struct kscan_reclaim_count) == 16, "kscan_reclaim_count layout");

/* Kdamonds a filtered collector follows at once. */
#define KSCAN_KDAMONDS_MAX 16

/* One DAMON region at the end of an aggregation interval. */
struct kscan_damon_region {
        __u32 type;             /* KSCAN_EV_DAMON_REGION */
        __u32 target_id;        /* index of the target in its context */
        __u64 start;
        __u64 end;
        __u32 nr_accesses;
        __u32 age;
        __u32 nr_regions;
        __u32 pad;
};
_Static_assert(sizeof(struct kscan_damon_region) == 40, "kscan_damon_region layout");
