/* SPDX-License-Identifier: MIT */
#include "topology.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "util.h"
#include "zoneinfo.h"

#define NODE_DIR "/devices/system/node"
#define TIER_DIR "/devices/virtual/memory_tiering"

static void closedirp(DIR **d) { if (*d) closedir(*d); }

/* "Node 0 MemTotal:       1234 kB" */
static int parse_meminfo_field(const char *data, const char *field, uint64_t *ret) {
        size_t flen = strlen(field);

        for (const char *line = data; line && *line; line = strchr(line, '\n') ? strchr(line, '\n') + 1 : NULL) {
                const char *p = line;
                unsigned long long v;
                int id, n = 0;

                if (sscanf(p, "Node %d %n", &id, &n) < 1 || n == 0)
                        continue;
                p += n;
                if (strncmp(p, field, flen) != 0 || p[flen] != ':')
                        continue;
                if (sscanf(p + flen + 1, "%llu", &v) != 1)
                        return -EINVAL;
                *ret = (uint64_t) v * 1024;
                return 0;
        }
        return -ENOENT;
}

static int load_node(const char *root, int id, TopologyNode *node) {
        _cleanup_free_ char *path = NULL, *data = NULL, *line = NULL;
        int r;

        *node = (TopologyNode) { .id = id, .tier = -1 };
        for (int j = 0; j < TOPOLOGY_MAX_NODES; j++)
                node->distance[j] = -1;

        if (asprintf(&path, NODE_DIR "/node%d/cpulist", id) < 0)
                return -ENOMEM;
        r = read_one_line(root, path, &line);
        if (r < 0 && r != -ENOENT)
                return r;
        if (r >= 0) {
                /* CPU ids may exceed 63: any id at all means "has CPUs". */
                node->has_cpus = line[strspn(line, " \t")] != '\0';
        }
        free(path);
        path = NULL;

        if (asprintf(&path, NODE_DIR "/node%d/meminfo", id) < 0)
                return -ENOMEM;
        r = read_full_file(root, path, &data, NULL);
        if (r < 0)
                return r;
        r = parse_meminfo_field(data, "MemTotal", &node->total_bytes);
        if (r < 0)
                return r;
        r = parse_meminfo_field(data, "MemFree", &node->free_bytes);
        if (r < 0)
                return r;
        node->has_memory = node->total_bytes > 0;
        free(path);
        path = NULL;

        if (asprintf(&path, NODE_DIR "/node%d/distance", id) < 0)
                return -ENOMEM;
        free(line);
        line = NULL;
        r = read_one_line(root, path, &line);
        if (r >= 0) {
                /* One distance per possible node, in node-id order of the
                 * online nodes; we map them after all nodes are known. */
                char *save = NULL, *tok;
                int j = 0;

                for (tok = strtok_r(line, " \t", &save); tok && j < TOPOLOGY_MAX_NODES;
                     tok = strtok_r(NULL, " \t", &save), j++) {
                        uint64_t d;

                        if (parse_u64(tok, &d) < 0 || d > 255)
                                return -EINVAL;
                        node->distance[j] = (int) d;
                }
        } else if (r != -ENOENT)
                return r;
        return 0;
}

static int cmp_int(const void *a, const void *b) {
        int x = *(const int *) a, y = *(const int *) b;
        return (x > y) - (x < y);
}

static int load_memory_tiers(const char *root, Topology *t) {
        _cleanup_(closedirp) DIR *d = NULL;
        _cleanup_free_ char *dir = NULL;
        int ids[TOPOLOGY_MAX_NODES], n = 0, r;
        struct dirent *de;

        r = path_join_root(root, TIER_DIR, &dir);
        if (r < 0)
                return r;
        d = opendir(dir);
        if (!d)
                return -errno;
        while ((de = readdir(d))) {
                int id;
                char c;

                if (sscanf(de->d_name, "memory_tier%d%c", &id, &c) != 1)
                        continue;
                if (n >= TOPOLOGY_MAX_NODES)
                        return -E2BIG;
                ids[n++] = id;
        }
        if (n == 0)
                return -ENOENT;
        qsort_safe(ids, (size_t) n, sizeof(int), cmp_int);

        t->n_tiers = 0;
        for (int i = 0; i < n; i++) {
                _cleanup_free_ char *path = NULL, *line = NULL;
                uint64_t mask;

                if (asprintf(&path, TIER_DIR "/memory_tier%d/nodelist", ids[i]) < 0)
                        return -ENOMEM;
                r = read_one_line(root, path, &line);
                if (r == -ENOENT)
                        continue; /* the tier went away under us */
                if (r < 0)
                        return r;
                r = parse_id_list(line, &mask);
                if (r < 0)
                        return r;
                if (mask == 0)
                        continue;
                t->tiers[t->n_tiers++] = (TopologyTier) {
                        .index = t->n_tiers, .kernel_id = ids[i], .nodes = mask,
                };
        }
        return t->n_tiers > 0 ? 0 : -ENOENT;
}

static void derive_tiers_from_distance(Topology *t) {
        int dist[TOPOLOGY_MAX_NODES], levels[TOPOLOGY_MAX_NODES], n_levels = 0;
        bool any_cpu = false;

        for (int i = 0; i < t->n_nodes; i++)
                any_cpu |= t->nodes[i].has_cpus;

        for (int i = 0; i < t->n_nodes; i++) {
                const TopologyNode *n = &t->nodes[i];

                dist[i] = 0;
                if (!any_cpu || n->has_cpus)
                        continue;
                dist[i] = -1;
                for (int j = 0; j < t->n_nodes; j++) {
                        int d = n->distance[j];

                        if (!t->nodes[j].has_cpus || d < 0)
                                continue;
                        if (dist[i] < 0 || d < dist[i])
                                dist[i] = d;
                }
                if (dist[i] < 0)
                        dist[i] = 255; /* no distance known: slowest */
        }
        for (int i = 0; i < t->n_nodes; i++) {
                bool seen = false;

                if (!t->nodes[i].has_memory)
                        continue;
                for (int k = 0; k < n_levels; k++)
                        seen |= levels[k] == dist[i];
                if (!seen)
                        levels[n_levels++] = dist[i];
        }
        qsort_safe(levels, (size_t) n_levels, sizeof(int), cmp_int);
        t->n_tiers = n_levels;
        for (int k = 0; k < n_levels; k++) {
                t->tiers[k] = (TopologyTier) { .index = k, .kernel_id = -1 };
                for (int i = 0; i < t->n_nodes; i++)
                        if (t->nodes[i].has_memory && dist[i] == levels[k])
                                t->tiers[k].nodes |= UINT64_C(1) << t->nodes[i].id;
        }
}

int topology_load(const char *sysfs_root, Topology **ret) {
        _cleanup_(topology_freep) Topology *t = NULL;
        _cleanup_free_ char *line = NULL;
        uint64_t online;
        int r;

        t = calloc(1, sizeof(*t));
        if (!t)
                return -ENOMEM;

        r = read_one_line(sysfs_root, NODE_DIR "/online", &line);
        if (r < 0)
                return r;
        r = parse_id_list(line, &online);
        if (r < 0)
                return r;
        if (online == 0)
                return -ENODATA;

        for (int id = 0; id < TOPOLOGY_MAX_NODES; id++) {
                if (!(online & (UINT64_C(1) << id)))
                        continue;
                r = load_node(sysfs_root, id, &t->nodes[t->n_nodes]);
                if (r < 0)
                        return r;
                t->n_nodes++;
        }

        /* The distance file lists one column per online node, in id order:
         * remap column k to the k-th online node's id. */
        for (int i = 0; i < t->n_nodes; i++) {
                int raw[TOPOLOGY_MAX_NODES];

                memcpy(raw, t->nodes[i].distance, sizeof(raw));
                for (int j = 0; j < TOPOLOGY_MAX_NODES; j++)
                        t->nodes[i].distance[j] = -1;
                for (int k = 0; k < t->n_nodes; k++)
                        t->nodes[i].distance[t->nodes[k].id] = raw[k];
        }

        r = load_memory_tiers(sysfs_root, t);
        if (r >= 0)
                t->source = TOPOLOGY_SOURCE_MEMORY_TIERS;
        else if (r == -ENOENT) {
                t->source = TOPOLOGY_SOURCE_DISTANCE;
                derive_tiers_from_distance(t);
        } else
                return r;

        for (int k = 0; k < t->n_tiers; k++) {
                TopologyTier *tier = &t->tiers[k];

                for (int i = 0; i < t->n_nodes; i++) {
                        TopologyNode *n = &t->nodes[i];

                        if (!(tier->nodes & (UINT64_C(1) << n->id)))
                                continue;
                        n->tier = k;
                        tier->total_bytes += n->total_bytes;
                        tier->free_bytes += n->free_bytes;
                }
        }

        *ret = TAKE_PTR(t);
        return 0;
}

Topology *topology_free(Topology *t) {
        free(t);
        return NULL;
}

const TopologyNode *topology_node(const Topology *t, int id) {
        for (int i = 0; i < t->n_nodes; i++)
                if (t->nodes[i].id == id)
                        return &t->nodes[i];
        return NULL;
}

const char *topology_source_to_string(TopologySource s) {
        switch (s) {
        case TOPOLOGY_SOURCE_MEMORY_TIERS:
                return "memory_tiering";
        case TOPOLOGY_SOURCE_DISTANCE:
                return "node-distance";
        }
        return "unknown";
}

int topology_parse_zone_reserves(const char *zoneinfo, uint64_t page_size, uint64_t ret_bytes[TOPOLOGY_MAX_NODES]) {
        _cleanup_free_ ZoneInfo *z = NULL;
        size_t n = 0;
        int r;

        memset(ret_bytes, 0, TOPOLOGY_MAX_NODES * sizeof(*ret_bytes));
        r = zoneinfo_parse(zoneinfo, &z, &n);
        if (r < 0)
                return r;
        for (size_t i = 0; i < n; i++) {
                uint64_t pages = z[i].high + z[i].protection;

                if (z[i].node < 0 || z[i].node >= TOPOLOGY_MAX_NODES)
                        continue;
                ret_bytes[z[i].node] += min_u64(pages, z[i].managed) * page_size;
        }
        return 0;
}

int topology_load_reserves(const char *procfs_root, Topology *t) {
        _cleanup_free_ char *text = NULL;
        uint64_t bytes[TOPOLOGY_MAX_NODES];
        long ps = sysconf(_SC_PAGESIZE);
        int r;

        r = read_full_file(procfs_root, "/zoneinfo", &text, NULL);
        if (r < 0)
                return r;
        r = topology_parse_zone_reserves(text, ps > 0 ? (uint64_t) ps : 4096, bytes);
        if (r < 0)
                return r;
        for (int k = 0; k < t->n_tiers; k++)
                t->tiers[k].reserved_bytes = 0;
        for (int i = 0; i < t->n_nodes; i++) {
                TopologyNode *n = &t->nodes[i];

                n->reserved_bytes = n->id >= 0 && n->id < TOPOLOGY_MAX_NODES ? bytes[n->id] : 0;
                if (n->tier >= 0 && n->tier < t->n_tiers)
                        t->tiers[n->tier].reserved_bytes += n->reserved_bytes;
        }
        return 0;
}
