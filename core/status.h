/* SPDX-License-Identifier: MIT */
/* The agent's state as the outside sees it: one snapshot per period, built
 * by the period pipeline (core/period.c) after accounting and read by the
 * control socket (tierctl status/top), the metrics endpoint, the systemd
 * STATUS= line and `tierd --json`'s period objects (all from this one
 * structure).
 *
 * A snapshot owns all its memory (no pointers into the agent), so a reader
 * on another thread (the metrics server) can hold a copy while the daemon
 * builds the next one. Counters ending in _total are cumulative since the
 * daemon started (they survive reloads); the others describe the last
 * period. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "heat.h"
#include "planner.h"

#define STATUS_MAX_TIERS HEAT_MAX_TIERS

typedef struct StatusTier {
        int index;              /* 0 = fastest */
        char nodes[64];         /* nodelist, e.g. "0" or "1-2" */
        uint64_t capacity;      /* bytes */
        uint64_t free;          /* bytes */
        uint64_t headroom;      /* bytes the planner keeps free */
} StatusTier;

typedef struct StatusTenant {
        char *cgroup;           /* path relative to the cgroup mount, e.g. "web.slice/app" */
        /* Kubernetes: as the OCI hook recorded them, else from the kubelet's
         * cgroup names (pod: the pod's UID, container: its ID); "" none */
        char pod[254], namespace_[64], container[64];
        char class_name[64];    /* POLICY_NAME_MAX */
        char mode[16];          /* enforce | observe */
        uint64_t tier_max[STATUS_MAX_TIERS]; /* effective, UINT64_MAX: none */
        uint64_t tier_low[STATUS_MAX_TIERS]; /* effective, 0: none */
        uint64_t tier_bytes[STATUS_MAX_TIERS]; /* resident (memory.numa_stat, anon + file) */
        uint64_t tier_anon[STATUS_MAX_TIERS], tier_file[STATUS_MAX_TIERS]; /* of it, anonymous and file */
        /* the heat model's coverage (StatusSnapshot.has_coverage): bytes it
         * has classified per tier, and whether a full pass covered the tier */
        uint64_t classified[STATUS_MAX_TIERS];
        bool covered[STATUS_MAX_TIERS];
        /* of tier_file, the pages no process maps (file - file_mapped), and
         * (StatusSnapshot.has_unmapped) what the last sweep of them saw:
         * accessed (hot) or not (cold); the rest is not classified yet */
        uint64_t tier_unmapped[STATUS_MAX_TIERS];
        uint64_t unmapped_hot[STATUS_MAX_TIERS], unmapped_cold[STATUS_MAX_TIERS];
        uint64_t held_unscanned; /* the last plan's demotions held back as unscanned */
        uint64_t hot_bytes;     /* age 0 in the last scan */
        uint64_t cold_bytes;    /* age >= 1 */
        uint64_t promote_tokens, demote_tokens; /* bytes left in the quota buckets */
        uint64_t promote_rate, demote_rate;     /* bytes/s, UINT64_MAX: unlimited */
        uint64_t planned_promote, planned_demote; /* last period's plan */
        uint64_t promoted_total, demoted_total, failed_total; /* bytes */
        uint64_t errors_total;  /* mover failures (calls, not bytes) */
        /* the last period only, for the period JSON (not in the status JSON) */
        uint64_t pids;          /* processes scanned and moved for it */
        uint64_t tracked_bytes; /* memory the scanner covered */
        uint64_t over_max_bytes, contention_bytes, swap_bytes; /* planned, by reason */
        uint64_t unmapped_promote_bytes; /* planned: hot unmapped pages to tier 0 through DAMOS */
        bool observe_only;
        PlanHeld held_demote, held_promote;
        uint64_t promoted, demoted, failed; /* moved this period, bytes */
} StatusTenant;

typedef struct StatusSnapshot {
        char version[32];
        char scanner[32];       /* backend name */
        char mover[32];         /* move_pages | reclaim | damos */
        char config_path[256];
        uint64_t period_ms;
        uint64_t periods_total; /* periods run */
        uint64_t time_ms;       /* CLOCK_MONOTONIC of the snapshot */
        uint64_t started_realtime_s;
        double scan_cpu_seconds_total; /* user + system CPU of the scans */
        double last_scan_ms;
        uint64_t reloads_total, reload_failures_total;
        char last_error[256];   /* "" when none; e.g. the last rejected reload */
        int n_tiers;
        StatusTier tiers[STATUS_MAX_TIERS];
        size_t n_tenants;
        StatusTenant *tenants;
        uint64_t promoted_total, demoted_total, failed_total; /* bytes, all tenants */
        bool has_coverage;      /* the agent keeps a heat model: StatusTenant.classified, covered */
        bool has_unmapped;      /* its scanner sweeps unmapped pages: StatusTenant.unmapped_hot, _cold */
        /* the last period only, for the period JSON */
        bool planned;           /* a working period (not one that only armed the scanner) */
        uint64_t tier_node_mask[STATUS_MAX_TIERS];
        uint64_t promoted, demoted, failed;
} StatusSnapshot;

void status_snapshot_done(StatusSnapshot *s);                  /* frees the tenants */
int status_snapshot_copy(const StatusSnapshot *s, StatusSnapshot *ret); /* deep copy; -ENOMEM */

#include <json-c/json.h>

/* The snapshot as JSON ("none" values as null); the caller puts it. */
json_object *status_snapshot_to_json(const StatusSnapshot *s);
/* Back from status_snapshot_to_json()'s form: 0, -EINVAL with a message
 * naming the field in *RET_ERROR (caller frees), or -ENOMEM. */
int status_snapshot_from_json(json_object *o, StatusSnapshot *ret, char **ret_error);
/* The period object `tierd --json` prints for a working period: the
 * tenants with their plan and what moved, the tiers, the period's totals. */
json_object *status_period_to_json(const StatusSnapshot *s);
