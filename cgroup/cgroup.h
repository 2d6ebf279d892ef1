/* SPDX-License-Identifier: MIT */
/* cgroup v2: where it is mounted and what it offers. */
#pragma once

#include <stdbool.h>

/* Finds the cgroup2 mount point from PROC_ROOT/self/mountinfo. With a
 * hybrid v1/v2 layout (v2 at /sys/fs/cgroup/unified) that is the v2 one.
 * -ENOENT when no cgroup2 file system is mounted. */
int cgroup_find_mount(const char *proc_root, char **ret_path);

/* Parses the text of a mountinfo file (pure, for tests). */
int cgroup_mount_from_mountinfo(const char *mountinfo, char **ret_path);

/* Whether the cgroup file system at PATH accepts extended attributes in the
 * namespace PREFIX ("user." or "trusted."), decided read-only: a lookup of
 * an absent attribute says ENODATA when the namespace is supported.
 * Returns 1 supported, 0 not supported, -errno when it cannot tell. */
int cgroup_xattr_supported(const char *path, const char *prefix);

/* Whether CONTROLLER is listed in the cgroup.controllers (or, with
 * subtree true, cgroup.subtree_control) file of the cgroup at PATH. */
int cgroup_has_controller(const char *path, const char *controller, bool subtree);

/* ---- Discovery and per-cgroup usage (cgroup/walk.c) ---------------------
 *
 * cgroup_walk() lists every cgroup under a cgroup2 mount in pre-order
 * (parents before children, siblings by name) with what tierd needs to
 * know about each: owner, usage by node and by tier from memory.numa_stat,
 * a few memory.stat counters, the processes, cgroup.events.
 *
 * Usage is read only where memory.current exists (the memory controller
 * is enabled for the cgroup). The root cgroup has no memory.current: it is
 * listed, with has_memory false and no usage. A cgroup that goes away
 * during the walk (ENOENT, ENODEV, ESRCH) is dropped quietly with its
 * subtree; a file that is simply absent leaves its fields unset (has_*
 * false). -ENOMEM aborts the walk; any other error reading one cgroup is
 * logged at debug level and drops that cgroup and its subtree.
 *
 * To stay fast over thousands of cgroups, every file is opened relative to
 * its cgroup's directory fd and read with one read(2); cgroup.procs is not
 * read where cgroup.events says "populated 0" (the list is empty), and a
 * directory without subdirectories (link count 2) is not listed.
 *
 * Bounded: anyone who may create cgroups (a delegated user, a container)
 * can make the tree as large and as deep as the kernel lets them, and
 * tierd's memory grows with it (about 1 KiB per cgroup with its policy).
 * The walk lists at most CGROUP_WALK_MAX_CGROUPS cgroups and
 * CGROUP_WALK_MAX_PATH_BYTES of paths, in pre-order (a cgroup whose turn
 * comes after that is left out with its subtree), and no cgroup deeper
 * than CGROUP_WALK_MAX_DEPTH (the root is depth 0). The subtrees left out
 * are counted in the tree, and the first one is named; each walk that
 * starts being bounded logs one warning, and one line at info when the
 * tree fits again. */

#include <stdint.h>
#include <sys/types.h>

#include "topology.h"

#define CGROUP_MAX_NODES TOPOLOGY_MAX_NODES
/* Tiers summed per cgroup (CgroupInfo.tier_*): the kernel's memory tiers
 * of one machine are a handful; nodes of tiers beyond these are left out. */
#define CGROUP_MAX_TIERS 8

/* The "anon", "file" and "file_mapped" lines of memory.numa_stat, in
 * bytes by node id (file_mapped: 0 where the kernel has no such line).
 * Node ids >= CGROUP_MAX_NODES are ignored. */
typedef struct CgroupNumaStat {
        uint64_t nodes;                         /* bitmask of the node ids listed */
        uint64_t anon[CGROUP_MAX_NODES];
        uint64_t file[CGROUP_MAX_NODES];
        uint64_t file_mapped[CGROUP_MAX_NODES]; /* of file, mapped by some process */
} CgroupNumaStat;

/* The memory.stat fields tierd reads; present says which ones the kernel
 * listed (bit 1 << CgroupStatField); absent ones stay 0. */
typedef enum CgroupStatField {
        CGROUP_STAT_ANON,
        CGROUP_STAT_FILE,
        CGROUP_STAT_SHMEM,
        CGROUP_STAT_FILE_MAPPED,
        CGROUP_STAT_ACTIVE_ANON,
        CGROUP_STAT_INACTIVE_ANON,
        CGROUP_STAT_ACTIVE_FILE,
        CGROUP_STAT_INACTIVE_FILE,
        CGROUP_STAT_PGPROMOTE_SUCCESS,
        CGROUP_STAT_PGDEMOTE_KSWAPD,
        CGROUP_STAT_PGDEMOTE_DIRECT,
        CGROUP_STAT_PGDEMOTE_KHUGEPAGED,
        _CGROUP_STAT_FIELD_MAX,
} CgroupStatField;

typedef struct CgroupMemoryStat {
        uint64_t anon, file, shmem, file_mapped;        /* bytes */
        uint64_t active_anon, inactive_anon, active_file, inactive_file; /* bytes */
        uint64_t pgpromote_success;                     /* pages, since creation */
        uint64_t pgdemote_kswapd, pgdemote_direct, pgdemote_khugepaged; /* pages */
        uint32_t present;
} CgroupMemoryStat;

typedef struct CgroupEvents {
        bool populated;         /* processes in the cgroup or below */
        bool frozen;
} CgroupEvents;

typedef enum CgroupWalkFlags {
        CGROUP_WALK_DEFAULT = 0,
        CGROUP_WALK_SKIP_PIDS = 1 << 0,         /* cgroup.procs not read */
        CGROUP_WALK_SKIP_NUMA_STAT = 1 << 1,    /* memory.numa_stat not read: no per-node/tier usage */
        CGROUP_WALK_SKIP_MEMORY_STAT = 1 << 2,  /* memory.stat not read */
        CGROUP_WALK_NUMA_NODES = 1 << 3,        /* keep memory.numa_stat by node (CgroupInfo.numa) */
} CgroupWalkFlags;

typedef struct CgroupInfo {
        char *path;             /* relative to the mount: "" for the root, else "a/b" */
        int depth;              /* 0 for the root */
        int parent;             /* index in CgroupTree.cgroups, -1 for the root */
        size_t subtree_end;     /* descendants are [own index + 1, subtree_end) */
        uint64_t id;            /* inode number of the directory: the cgroup id
                                 * (as in /proc/kpagecgroup and BPF) */
        uid_t uid;              /* directory owner */
        gid_t gid;

        bool has_memory;        /* memory.current exists */
        uint64_t memory_current;

        bool has_memory_stat;
        CgroupMemoryStat stat;

        bool has_numa_stat;
        CgroupNumaStat *numa;   /* by node: only with CGROUP_WALK_NUMA_NODES (1.5 KiB each) */
        uint64_t tier_anon[CGROUP_MAX_TIERS]; /* numa summed by Topology tier; */
        uint64_t tier_file[CGROUP_MAX_TIERS]; /* nodes without a tier are left out */
        uint64_t tier_file_mapped[CGROUP_MAX_TIERS]; /* of tier_file */

        bool has_pids;
        size_t n_pids;
        pid_t *pids;            /* cgroup.procs, in the kernel's order */

        bool has_events;        /* cgroup.events read; the root has none and */
        CgroupEvents events;    /* counts as populated */
} CgroupInfo;

#define CGROUP_WALK_MAX_CGROUPS 100000
#define CGROUP_WALK_MAX_DEPTH 256
#define CGROUP_WALK_MAX_PATH_BYTES (16u << 20)

typedef struct CgroupTree {
        char *mount;
        CgroupInfo *cgroups;    /* pre-order; cgroups[0] is the root */
        size_t n_cgroups;
        int n_tiers;            /* tiers summed in tier_anon/tier_file (0 without topology) */
        size_t n_vanished;      /* cgroups that went away during the walk */
        size_t n_failed;        /* cgroups dropped after another error (see debug log) */
        size_t n_skipped_depth; /* subtrees left out: deeper than the bound */
        size_t n_skipped_count; /* subtrees left out: past the count or path bytes bound */
        const char *first_skipped; /* the path of the first subtree left out, NULL if none */

        /* private */
        size_t *index;          /* path -> index + 1 (0 empty), open addressing */
        size_t index_size;
        struct CgroupArena *arena; /* the paths live here */
} CgroupTree;

/* Walks the cgroup tree under MOUNT. TOPO (may be NULL) maps nodes to tiers
 * for tier_anon/tier_file. -ENOENT/-ENOTDIR when MOUNT is not there. */
int cgroup_walk(const char *mount, const Topology *topo, CgroupWalkFlags flags, CgroupTree **ret);
/* The same with other bounds (for tests): at most MAX_CGROUPS cgroups
 * (at least the root), none deeper than MAX_DEPTH. */
int cgroup_walk_bounded(const char *mount, const Topology *topo, CgroupWalkFlags flags, size_t max_cgroups,
                        size_t max_depth, CgroupTree **ret);
CgroupTree *cgroup_tree_free(CgroupTree *t);
static inline void cgroup_tree_freep(CgroupTree **t) { cgroup_tree_free(*t); }

/* Looks a cgroup up by path relative to the mount ("" or "/" for the root;
 * leading and trailing slashes are ignored). -ENOENT when not in the tree. */
int cgroup_tree_find(const CgroupTree *t, const char *path, size_t *ret_index);
/* The same, NULL when absent. */
const CgroupInfo *cgroup_tree_get(const CgroupTree *t, const char *path);

/* Pure parsers (the walker's, exposed for tests). Each fills *ret from the
 * text of one file; -EINVAL on malformed input (memory.stat and numa_stat:
 * -ERANGE for a count beyond 64 bits), *ret then unspecified. */
/* "anon N0=123 N1=456" and "file ..." lines; other lines ignored. Both
 * lines are required. */
int cgroup_parse_numa_stat(const char *text, CgroupNumaStat *ret);
/* "key value" lines; unknown keys ignored, known ones missing stay 0. */
int cgroup_parse_memory_stat(const char *text, CgroupMemoryStat *ret);
/* "populated 0|1" (required) and "frozen 0|1" (optional). */
int cgroup_parse_events(const char *text, CgroupEvents *ret);
/* One pid per line; an empty file is no pids (*ret_pids NULL). */
int cgroup_parse_procs(const char *text, pid_t **ret_pids, size_t *ret_n_pids);

const char *cgroup_stat_field_to_string(CgroupStatField f);
uint64_t cgroup_memory_stat_get(const CgroupMemoryStat *s, CgroupStatField f);
