/* SPDX-License-Identifier: MIT */
/* The common access-sampling model every scanner backend produces.
 *
 * Per tenant (a cgroup) and per control period:
 *  - a heat summary: bytes by (tier, age). Age counts consecutive periods
 *    without an access, kstaled style, saturating at HEAT_MAX_AGE: age 0
 *    means "accessed during the last period".
 *  - bounded candidate sets for the movers: the coldest pages or regions on
 *    fast tiers (tier < the slowest) and the hottest on slow tiers (tier >
 *    0), each with what a mover needs: pid and virtual range (VADDR), or a
 *    physical range (PADDR); and the "warm" set, the pages accessed in the
 *    last period that sit on fast tiers, least accessed first: what a
 *    tenant gives up last, when a higher class needs the room (or its
 *    tierN.max is below its hot set).
 *  - optionally (HEAT_WANT_RANGES), every classified range, for tests and
 *    `tierd scan --ranges`.
 *  - with an unmapped sweep (HEAT_UNMAPPED, scanner.h: idle_page, damon, bpf), at the end
 *    of each sweep: the bytes per tier of the tenant's pages no process
 *    maps, hot and cold (no ranges: they are moved as byte amounts).
 *
 * Backends: idle_page (scanner/idle_page.c), damon and bpf
 * (scanner/damon.c), lru_gen (scanner/lru_gen.c). Each implements
 * ScannerOps (scanner/scanner.h). This header is the vocabulary the
 * scanners, the movers and the planner share, so it sits in base/. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define HEAT_MAX_AGE 15         /* ages 0..15; 15 means "15 or more" */
#define HEAT_MAX_TIERS 4

typedef struct HeatSummary {
        uint64_t bytes[HEAT_MAX_TIERS][HEAT_MAX_AGE + 1];
} HeatSummary;

typedef enum ScanRangeKind {
        SCAN_RANGE_VADDR,       /* pid + virtual range */
        SCAN_RANGE_PADDR,       /* physical range (bytes, not PFNs) */
} ScanRangeKind;

typedef struct ScanRange {
        uint8_t kind;           /* ScanRangeKind */
        uint8_t age;            /* 0..HEAT_MAX_AGE */
        int8_t tier;            /* tier of the memory, -1 unknown */
        int8_t node;            /* node of the memory, -1 unknown/mixed */
        pid_t pid;              /* VADDR only */
        uint64_t start;         /* inclusive */
        uint64_t end;           /* exclusive */
        uint32_t nr_accesses;   /* region backends: last nr_accesses; page backends: 1/0 */
        uint32_t pad;
} ScanRange;

/* What one scan was for a tenant (TenantHeat.pass): a whole pass over its
 * memory, or a fragment of one. The heat model (core/heatmodel.h) keeps
 * what earlier scans saw and trusts a tier's heat once a pass over it has
 * ended exactly. */
enum {
        HEAT_PASS_BEGIN = 1 << 0,       /* a pass over the tenant began in this scan */
        HEAT_PASS_END = 1 << 1,         /* it ended in this scan: all of the tenant was visited since the begin */
        HEAT_PASS_EXACT = 1 << 2,       /* with END: every page visited in the pass was classified (none only
                                         * armed, no process's maps unreadable) */
        HEAT_PASS_BYTE_ONLY = 1 << 3,   /* the heat is bytes per tier and age, without ranges */
        HEAT_PASS_VISITED = 1 << 4,     /* the scan visited some of the tenant's memory, if only to arm it (a
                                         * scan that classified nothing is still the scanner's attention) */
        HEAT_PASS_UNMAPPED = 1 << 5,    /* a sweep over the tenant's pages no process maps ended in this scan,
                                         * exactly: TenantHeat.unmapped_hot/unmapped_cold are its totals */
        HEAT_PASS_SWEEPING = 1 << 6,    /* the backend sweeps the tenant's unmapped pages (a sweep is under
                                         * way or ended): they will be classified, unlike under MGLRU */
};

typedef struct TenantHeat {
        uint64_t cgroup_id;     /* inode of the cgroup directory */
        unsigned pass;          /* HEAT_PASS_*: 0 when the scan was a fragment of a pass */
        HeatSummary heat;
        uint64_t tracked_bytes; /* memory the backend covered for this tenant */
        ScanRange *cold;        /* coldest first, on tiers < slowest; at most max_candidates */
        size_t n_cold;
        ScanRange *hot;         /* hottest first, on tiers > 0; at most max_candidates */
        size_t n_hot;
        ScanRange *warm;        /* age 0 on tiers < slowest, least accessed first; at most max_candidates */
        size_t n_warm;
        ScanRange *ranges;      /* with HEAT_WANT_RANGES: everything classified */
        size_t n_ranges;
        /* with HEAT_PASS_UNMAPPED (the unmapped sweep, HEAT_UNMAPPED):
         * bytes per tier of the tenant's pages that no process maps (page
         * cache, tmpfs, shmem), accessed since the sweep before (hot) or
         * not (cold); pages the sweep saw for the first time are in neither */
        uint64_t unmapped_hot[HEAT_MAX_TIERS];
        uint64_t unmapped_cold[HEAT_MAX_TIERS];
} TenantHeat;

void tenant_heat_clear(TenantHeat *h); /* frees the arrays, keeps cgroup_id */
