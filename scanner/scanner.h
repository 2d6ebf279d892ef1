/* SPDX-License-Identifier: MIT */
/* Access sampling. At this stage: the tracepoint collector (kscan), a
 * libbpf CO-RE skeleton on the kernel's migrate, vmscan and DAMON
 * tracepoints. */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <linux/types.h>
#include <sys/types.h>

#include "bpf/kscan.h"
#include "heat.h"

/* ---- backends (heat.h has the model) ---------------------------------- */

/* The backend called NAME, NULL if this build has none by that name. */
const ScannerOps *scanner_find(const char *name);
/* NULL-terminated table of every backend in this build. */
const ScannerOps *const *scanner_backends(void);

/* Bytes at age 0 (accessed in the last period) and at age >= 1, over all tiers. */
void heat_summary_totals(const HeatSummary *h, uint64_t *ret_hot, uint64_t *ret_cold);

/* Helpers for backends: append to h->ranges (alloc is the capacity, kept by
 * the caller); pick at most MAX cold candidates (age > 0, tiers faster than
 * the slowest, oldest first), hot ones (age 0, tiers below the fastest,
 * most accessed first) and warm ones (age 0, tiers faster than the
 * slowest, least accessed first) out of ALL into h->cold, h->hot and
 * h->warm. */
int heat_add_range(TenantHeat *h, const ScanRange *r, size_t *alloc);
int heat_pick_candidates(TenantHeat *h, const ScanRange *all, size_t n, int n_tiers, size_t max);

/* ---- the tracepoint collector ----------------------------------------- */

typedef struct KScan KScan;

/* Names of enum migrate_reason values (6.12), NULL past the end. */
const char *kscan_migrate_reason_name(unsigned reason);

/* Loads and attaches every program whose tracepoint the running kernel
 * has; a missing tracepoint is skipped (and reported by kscan_attached()),
 * not an error. Fails with -errno when BPF cannot be used at all. */
int kscan_open(KScan **ret);

typedef struct KScanOptions {
        /* Load only the DAMON region stream (no migrate/reclaim counters). */
        bool damon_only;
        /* Stream only regions of the kdamonds named by kscan_damon_follow(). */
        bool filter_kdamonds;
} KScanOptions;
/* kscan_open() with options; O may be NULL (everything, unfiltered). */
int kscan_open_with(const KScanOptions *o, KScan **ret);
/* Adds (FOLLOW) or removes the kdamond thread KDAMOND to/from the filter
 * of a collector opened with filter_kdamonds. */
int kscan_damon_follow(KScan *k, pid_t kdamond, bool follow);
KScan *kscan_free(KScan *k);
static inline void kscan_freep(KScan **k) { kscan_free(*k); }

/* "migrate", "reclaim", "damon": whether that program is attached. */
bool kscan_attached(const KScan *k, const char *which);

/* The ring buffer's epoll fd, for the event loop. */
int kscan_epoll_fd(const KScan *k);

typedef int (*kscan_region_cb)(const struct kscan_damon_region *r, void *userdata);
/* Consumes what the ring buffer holds; returns the number of records. */
int kscan_consume(KScan *k, kscan_region_cb cb, void *userdata);

/* Totals since open, summed over CPUs. */
int kscan_migrate_counts(const KScan *k, struct kscan_migrate_count ret[KSCAN_MR_MAX]);
int kscan_reclaim_counts(const KScan *k, struct kscan_reclaim_count ret[KSCAN_NODES_MAX]);
uint64_t kscan_dropped(const KScan *k);
