/* SPDX-License-Identifier: MIT */
/* `tierd probe`: a read-only report of what the running kernel offers
 * tierd, and for each backend whether it is usable and, if not, why. */
#pragma once

#include <stdbool.h>
#include <stdio.h>
#include <json-c/json.h>

#include "topology.h"

typedef enum ProbeBackendId {
        BACKEND_IDLE_PAGE,
        BACKEND_DAMON,
        BACKEND_DAMOS_MIGRATE,
        BACKEND_LRU_GEN,
        BACKEND_BPF,
        BACKEND_MOVE_PAGES,
        _BACKEND_MAX,
} ProbeBackendId;

typedef struct ProbeBackend {
        bool usable;
        char *reason; /* NULL when usable */
} ProbeBackend;

#define PROBE_MAX_NAMES 32

typedef struct ProbeNames {
        int n;
        char *names[PROBE_MAX_NAMES];
} ProbeNames;

typedef struct ProbeTracepoint {
        const char *name;   /* "migrate:mm_migrate_pages" */
        bool required;      /* needed for the bpf backend to be usable */
        bool present;
} ProbeTracepoint;

typedef struct Probe {
        char *kernel;
        Topology *topology;
        int topology_error;         /* -errno when nodes could not be read */
        int demotion_enabled;       /* 1, 0, -1 unknown */
        int numa_balancing;         /* 0..3, -1 unknown */
        bool privileged;            /* CAP_SYS_ADMIN in the effective set */

        char *cgroup_mount;         /* NULL: no cgroup2 mounted */
        int cgroup_memory;          /* memory in the root's cgroup.controllers */
        int cgroup_memory_subtree;  /* +memory in the root's subtree_control */
        int xattr_user, xattr_trusted; /* 1 yes, 0 no, -1 unknown */

        bool page_idle_bitmap;
        bool pagemap_pfn;           /* PFNs visible in /proc/self/pagemap */
        bool kpageflags, kpagecgroup;

        bool damon_sysfs;
        int damon_kdamonds;         /* nr_kdamonds already there, -1 unknown */
        ProbeNames damon_operations;
        const char *damon_operations_source;
        ProbeNames damos_actions;
        ProbeNames damos_filters;

        bool lru_gen_present;
        unsigned lru_gen_enabled;   /* bit mask from /sys/kernel/mm/lru_gen/enabled */
        bool debugfs_mounted;
        bool lru_gen_debugfs;

        bool btf;
        bool tracefs_mounted;
        int n_tracepoints;
        ProbeTracepoint tracepoints[8];

        int move_pages_error;       /* 0 ok, -errno */
        int move_pages_node;

        ProbeBackend backends[_BACKEND_MAX];
} Probe;

typedef struct ProbeRoots {
        const char *sysfs;  /* default "/sys" */
        const char *procfs; /* default "/proc" */
} ProbeRoots;

/* Runs every check; nothing is written anywhere. A check that cannot be
 * made is recorded in the result, not returned: only -ENOMEM is fatal. */
int probe_run(const ProbeRoots *roots, Probe **ret);
Probe *probe_free(Probe *p);
static inline void probe_freep(Probe **p) { probe_free(*p); }

const char *probe_backend_name(ProbeBackendId id);
json_object *probe_to_json(const Probe *p);
void probe_print(const Probe *p, FILE *f);
