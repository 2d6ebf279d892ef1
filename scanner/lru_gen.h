/* SPDX-License-Identifier: MIT */
/* The MGLRU backend (scanner/lru_gen.c): the parser of DEBUGFS/lru_gen and
 * the pure helpers the backend and test/unit/test-lru_gen.c share.
 *
 * The file (Linux 6.12, Documentation/admin-guide/mm/multigen_lru.rst)
 * lists, for every online memcg, for every node with memory, the
 * generations of that (memcg, node) lruvec, oldest first:
 *
 *   memcg  memcg_id  memcg_path
 *    node  node_id
 *          min_gen_nr  age_in_ms  nr_anon_pages  nr_file_pages
 *          ...
 *          max_gen_nr  age_in_ms  nr_anon_pages  nr_file_pages
 *
 * memcg_id is the kernel's memcg id (not the cgroup inode); memcg_path is
 * the cgroup path from the root of the hierarchy ("/", "/t1/a"). Page
 * counts are of that memcg's own lruvec, not of its descendants. Writing
 * "+ memcg_id node_id max_gen_nr [can_swap [force_scan]]" asks the
 * kernel to age that lruvec: it walks the page tables of the memcg's
 * processes, moves the pages found accessed into generation max_gen_nr,
 * and opens generation max_gen_nr + 1. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "heat.h"
#include "scanner.h"

struct Topology;

/* Relative to the sysfs root ("/sys"). */
#define LRU_GEN_DEBUGFS_PATH "/kernel/debug/lru_gen"
#define LRU_GEN_ENABLED_PATH "/kernel/mm/lru_gen/enabled"

typedef struct LruGenGeneration {
        uint64_t seq;           /* generation number */
        uint64_t age_ms;        /* since the generation was opened */
        uint64_t anon_pages;
        uint64_t file_pages;
} LruGenGeneration;

typedef struct LruGenNode {
        int node;
        LruGenGeneration *gens; /* oldest first, seq strictly increasing */
        size_t n_gens;          /* >= 1 */
} LruGenNode;

typedef struct LruGenMemcg {
        uint32_t id;            /* the kernel's memcg id, for aging commands */
        char *path;             /* as printed: "/", "/t1/a" ("" without memcg) */
        LruGenNode *nodes;
        size_t n_nodes;
} LruGenMemcg;

typedef struct LruGenTable {
        LruGenMemcg *memcgs;
        size_t n_memcgs;
        size_t bytes;           /* heap memory the table holds */
} LruGenTable;

/* Parses the text of DEBUGFS/lru_gen. -EINVAL when it does not follow the
 * format above: a node line outside a memcg, a generation line outside a
 * node, a field that is not a number, a wrong number of fields, a node
 * listed twice in one memcg or without generations, generation numbers
 * not increasing. An empty text is an empty table. */
int lru_gen_parse(const char *text, LruGenTable **ret);
LruGenTable *lru_gen_table_free(LruGenTable *t);
static inline void lru_gen_table_freep(LruGenTable **t) { lru_gen_table_free(*t); }

/* The memcg whose path (leading '/' or not) is CGROUP_PATH, relative to
 * the cgroup mount ("" and "/" are the root); NULL when there is none. */
const LruGenMemcg *lru_gen_find(const LruGenTable *t, const char *cgroup_path);
const LruGenMemcg *lru_gen_find_id(const LruGenTable *t, uint32_t id);
const LruGenNode *lru_gen_memcg_node(const LruGenMemcg *m, int node);

/* Whether the memcg printed as MEMCG_PATH is CGROUP_PATH (relative to the
 * cgroup mount, "" for the root) or one of its descendants. */
bool lru_gen_in_subtree(const char *memcg_path, const char *cgroup_path);

/* The youngest generation number of a node. */
static inline uint64_t lru_gen_max_seq(const LruGenNode *n) {
        return n->gens[n->n_gens - 1].seq;
}

/* Heat age of generation SEQ when the youngest is MAX_SEQ, right after an
 * aging: the aging put the pages it found accessed into generation
 * max_seq - 1 and opened max_seq, which holds only pages added since
 * (new faults, activations), so both are age 0; each older generation is
 * one period more, saturating at HEAT_MAX_AGE. */
unsigned lru_gen_age(uint64_t max_seq, uint64_t seq);

/* Sums the pages of the memcg at CGROUP_PATH and all its descendants into
 * HEAT by (tier of the node, lru_gen_age()), in bytes (PAGE_SIZE each);
 * nodes the topology does not know are left out. Returns 1 when the memcg
 * exists, 0 when it does not (HEAT and RET_TRACKED untouched). */
int lru_gen_heat(const LruGenTable *t, const char *cgroup_path, const struct Topology *topo, uint64_t page_size,
                 HeatSummary *heat, uint64_t *ret_tracked);

/* TenantHeat.pass of a target: a whole pass in every scan, byte-only
 * (BEGIN|END|BYTE_ONLY), when its memcgs were aged in the previous scan
 * too (ARMED: the generations now measure one period) and its memcg
 * exists (FOUND); else none (its arming scan, or nothing to report).
 * EXACT unless an aging of a memcg in its subtree was refused even after
 * the retry (REFUSED: its generations then span more than one period). */
unsigned lru_gen_pass(bool armed, bool found, bool refused);

/* The backend (also registered in scanner.c's table). */
extern const ScannerOps scanner_lru_gen_ops;
