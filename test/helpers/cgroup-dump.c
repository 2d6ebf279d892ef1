/* SPDX-License-Identifier: MIT */
/* cgroup-dump: walks a cgroup2 tree with cgroup_walk() and prints it as
 * JSON, for the VM tests (test/vm/test-walk.py). Errors are JSON on stdout
 * too: {"error": "...", "errno": N}.
 *
 * usage: cgroup-dump [--mount DIR] [--sysfs-root DIR] [--no-pids]
 *                    [--no-numa] [--no-stat] [--path P] [--loop N] [-v]
 *
 *   --mount DIR       the cgroup2 mount (default: found in /proc/self/mountinfo)
 *   --sysfs-root DIR  where the topology is read (default /sys); without a
 *                     topology there are no per-tier sums
 *   --no-pids, --no-numa, --no-stat
 *                     skip cgroup.procs, memory.numa_stat, memory.stat
 *   --path P          print only the cgroup P (exit 1 when it is not there)
 *   --loop N          walk N times and print a summary instead of the tree:
 *                     {"walks", "errors", "error", "min_cgroups",
 *                      "max_cgroups", "vanished", "failed"}; exit 1 when a
 *                     walk failed
 *
 * Exit status: 0 ok, 1 failure, 2 bad usage. */
#include <getopt.h>
#include <json-c/json.h>
#include <string.h>

#include "cgroup.h"
#include "topology.h"
#include "util.h"

static void json_put(json_object *o, const char *key, json_object *v) {
        json_object_object_add(o, key, v);
}

static int print_json(json_object *o) {
        puts(json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE));
        json_object_put(o);
        return fflush(stdout) == 0 ? 0 : -errno;
}

static int fail(int r, const char *what) {
        json_object *o = json_object_new_object();
        char msg[512];

        snprintf(msg, sizeof(msg), "%s: %s", what, strerror(r < 0 ? -r : r));
        json_put(o, "error", json_object_new_string(msg));
        json_put(o, "errno", json_object_new_int(r < 0 ? -r : r));
        print_json(o);
        return 1;
}

static json_object *node_map(uint64_t nodes, const uint64_t *values) {
        json_object *o = json_object_new_object();

        for (int n = 0; n < CGROUP_MAX_NODES; n++) {
                char key[8];

                if (!(nodes & (UINT64_C(1) << n)))
                        continue;
                snprintf(key, sizeof(key), "%d", n);
                json_put(o, key, json_object_new_uint64(values[n]));
        }
        return o;
}

static json_object *tier_array(int n_tiers, const uint64_t *values) {
        json_object *a = json_object_new_array();

        for (int t = 0; t < n_tiers; t++)
                json_object_array_add(a, json_object_new_uint64(values[t]));
        return a;
}

static json_object *cgroup_to_json(const CgroupTree *t, const CgroupInfo *c) {
        json_object *o = json_object_new_object();

        json_put(o, "path", json_object_new_string(c->path));
        json_put(o, "depth", json_object_new_int(c->depth));
        json_put(o, "parent", json_object_new_int(c->parent));
        json_put(o, "parent_path", c->parent >= 0 ? json_object_new_string(t->cgroups[c->parent].path) : NULL);
        json_put(o, "subtree_end", json_object_new_uint64(c->subtree_end));
        json_put(o, "id", json_object_new_uint64(c->id));
        json_put(o, "uid", json_object_new_int64(c->uid));
        json_put(o, "gid", json_object_new_int64(c->gid));
        json_put(o, "has_memory", json_object_new_boolean(c->has_memory));
        json_put(o, "memory_current", c->has_memory ? json_object_new_uint64(c->memory_current) : NULL);

        if (c->has_events) {
                json_object *e = json_object_new_object();

                json_put(e, "populated", json_object_new_boolean(c->events.populated));
                json_put(e, "frozen", json_object_new_boolean(c->events.frozen));
                json_put(o, "events", e);
        } else
                json_put(o, "events", NULL);
        json_put(o, "populated", json_object_new_boolean(c->events.populated));

        if (c->has_pids) {
                json_object *a = json_object_new_array();

                for (size_t i = 0; i < c->n_pids; i++)
                        json_object_array_add(a, json_object_new_int(c->pids[i]));
                json_put(o, "pids", a);
        } else
                json_put(o, "pids", NULL);

        if (c->has_memory_stat) {
                json_object *s = json_object_new_object();

                for (int f = 0; f < _CGROUP_STAT_FIELD_MAX; f++)
                        if (c->stat.present & (UINT32_C(1) << f))
                                json_put(s, cgroup_stat_field_to_string((CgroupStatField) f),
                                         json_object_new_uint64(cgroup_memory_stat_get(&c->stat, (CgroupStatField) f)));
                json_put(o, "stat", s);
        } else
                json_put(o, "stat", NULL);

        if (c->has_numa_stat) {
                json_object *n = json_object_new_object(), *tiers = json_object_new_object();

                json_put(n, "anon", node_map(c->numa->nodes, c->numa->anon));
                json_put(n, "file", node_map(c->numa->nodes, c->numa->file));
                json_put(o, "numa", n);
                json_put(tiers, "anon", tier_array(t->n_tiers, c->tier_anon));
                json_put(tiers, "file", tier_array(t->n_tiers, c->tier_file));
                json_put(o, "tiers", tiers);
        } else {
                json_put(o, "numa", NULL);
                json_put(o, "tiers", NULL);
        }
        return o;
}

static int loop(const char *mount, const Topology *topo, CgroupWalkFlags flags, unsigned n) {
        json_object *o = json_object_new_object();
        size_t min = SIZE_MAX, max = 0, vanished = 0, failed = 0;
        unsigned errors = 0;
        char first[256] = "";

        for (unsigned i = 0; i < n; i++) {
                _cleanup_(cgroup_tree_freep) CgroupTree *t = NULL;
                int r;

                r = cgroup_walk(mount, topo, flags, &t);
                if (r < 0) {
                        if (errors++ == 0)
                                snprintf(first, sizeof(first), "walk %u: %s", i, strerror(-r));
                        continue;
                }
                min = t->n_cgroups < min ? t->n_cgroups : min;
                max = t->n_cgroups > max ? t->n_cgroups : max;
                vanished += t->n_vanished;
                failed += t->n_failed;
        }
        json_put(o, "walks", json_object_new_int64(n));
        json_put(o, "errors", json_object_new_int64(errors));
        json_put(o, "error", errors ? json_object_new_string(first) : NULL);
        json_put(o, "min_cgroups", json_object_new_uint64(min == SIZE_MAX ? 0 : min));
        json_put(o, "max_cgroups", json_object_new_uint64(max));
        json_put(o, "vanished", json_object_new_uint64(vanished));
        json_put(o, "failed", json_object_new_uint64(failed));
        print_json(o);
        return errors ? 1 : 0;
}

int main(int argc, char **argv) {
        static const struct option options[] = {
                { "mount", required_argument, NULL, 'm' },
                { "sysfs-root", required_argument, NULL, 's' },
                { "no-pids", no_argument, NULL, 'P' },
                { "no-numa", no_argument, NULL, 'N' },
                { "no-stat", no_argument, NULL, 'S' },
                { "path", required_argument, NULL, 'p' },
                { "loop", required_argument, NULL, 'l' },
                { "verbose", no_argument, NULL, 'v' },
                {}
        };
        _cleanup_(cgroup_tree_freep) CgroupTree *t = NULL;
        _cleanup_(topology_freep) Topology *topo = NULL;
        _cleanup_free_ char *found = NULL;
        const char *mount = NULL, *sysfs = "/sys", *only = NULL;
        CgroupWalkFlags flags = CGROUP_WALK_NUMA_NODES;
        uint64_t loops = 0;
        json_object *o, *list;
        int c, r;

        while ((c = getopt_long(argc, argv, "v", options, NULL)) >= 0)
                switch (c) {
                case 'm': mount = optarg; break;
                case 's': sysfs = optarg; break;
                case 'P': flags |= CGROUP_WALK_SKIP_PIDS; break;
                case 'N': flags |= CGROUP_WALK_SKIP_NUMA_STAT; break;
                case 'S': flags |= CGROUP_WALK_SKIP_MEMORY_STAT; break;
                case 'p': only = optarg; break;
                case 'l':
                        if (parse_u64(optarg, &loops) < 0 || loops == 0 || loops > 1000000) {
                                fprintf(stderr, "cgroup-dump: --loop takes a count, not '%s'\n", optarg);
                                return 2;
                        }
                        break;
                case 'v': log_set_max_level(LOG_LVL_DEBUG); break;
                default: return 2;
                }
        if (optind < argc) {
                fprintf(stderr, "cgroup-dump: unexpected argument '%s'\n", argv[optind]);
                return 2;
        }

        if (!mount) {
                r = cgroup_find_mount("/proc", &found);
                if (r < 0)
                        return fail(r, "cannot find the cgroup2 mount");
                mount = found;
        }
        r = topology_load(sysfs, &topo);
        if (r < 0)
                log_warning_errno(r, "no topology under %s, no per-tier sums: %m", sysfs);

        if (loops > 0)
                return loop(mount, topo, flags, (unsigned) loops);

        r = cgroup_walk(mount, topo, flags, &t);
        if (r < 0)
                return fail(r, "cgroup walk");

        if (only) {
                const CgroupInfo *ci = cgroup_tree_get(t, only);

                if (!ci)
                        return fail(-ENOENT, only);
                return print_json(cgroup_to_json(t, ci)) < 0 ? 1 : 0;
        }

        o = json_object_new_object();
        json_put(o, "mount", json_object_new_string(t->mount));
        json_put(o, "n_tiers", json_object_new_int(t->n_tiers));
        json_put(o, "vanished", json_object_new_uint64(t->n_vanished));
        json_put(o, "failed", json_object_new_uint64(t->n_failed));
        list = json_object_new_array();
        for (size_t i = 0; i < t->n_cgroups; i++)
                json_object_array_add(list, cgroup_to_json(t, &t->cgroups[i]));
        json_put(o, "cgroups", list);
        return print_json(o) < 0 ? 1 : 0;
}
