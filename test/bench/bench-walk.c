/* SPDX-License-Identifier: MIT */
/* bench-walk: how fast cgroup_walk() goes over the tree at hand, in
 * cgroups per second, for full walks and for lighter ones. Run by
 * test/bench/walk-bench in the VM testbed over 10,000 cgroups.
 *
 * usage: bench-walk [--mount DIR] [--sysfs-root DIR] [--iterations N] */
#include <getopt.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#include "cgroup.h"
#include "topology.h"
#include "util.h"

static double now(void) {
        struct timespec ts;

        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (double) ts.tv_sec + (double) ts.tv_nsec / 1e9;
}

static double cpu_seconds(const struct timeval *tv) {
        return (double) tv->tv_sec + (double) tv->tv_usec / 1e6;
}

static int bench(const char *name, const char *mount, const Topology *topo, CgroupWalkFlags flags, unsigned n) {
        size_t cgroups = 0, last = 0;
        struct rusage ru0, ru1;
        double start, elapsed;

        getrusage(RUSAGE_SELF, &ru0);
        start = now();
        for (unsigned i = 0; i < n; i++) {
                _cleanup_(cgroup_tree_freep) CgroupTree *t = NULL;
                int r;

                r = cgroup_walk(mount, topo, flags, &t);
                if (r < 0)
                        return log_error_errno(r, "walk of %s failed: %m", mount);
                cgroups += t->n_cgroups;
                last = t->n_cgroups;
        }
        elapsed = now() - start;
        getrusage(RUSAGE_SELF, &ru1);
        printf("%-24s %u walks of %zu cgroups: %.3f s (user %.3f, sys %.3f), %.1f ms per walk, %.0f cgroups/s\n",
               name, n, last, elapsed, cpu_seconds(&ru1.ru_utime) - cpu_seconds(&ru0.ru_utime),
               cpu_seconds(&ru1.ru_stime) - cpu_seconds(&ru0.ru_stime), elapsed * 1e3 / n,
               (double) cgroups / elapsed);
        return 0;
}

int main(int argc, char **argv) {
        static const struct option options[] = {
                { "mount", required_argument, NULL, 'm' },
                { "sysfs-root", required_argument, NULL, 's' },
                { "iterations", required_argument, NULL, 'n' },
                {}
        };
        _cleanup_(topology_freep) Topology *topo = NULL;
        _cleanup_free_ char *found = NULL;
        const char *mount = NULL, *sysfs = "/sys";
        uint64_t n = 5;
        int c, r;

        while ((c = getopt_long(argc, argv, "", options, NULL)) >= 0)
                switch (c) {
                case 'm': mount = optarg; break;
                case 's': sysfs = optarg; break;
                case 'n':
                        if (parse_u64(optarg, &n) < 0 || n == 0 || n > 100000) {
                                fprintf(stderr, "bench-walk: --iterations takes a count, not '%s'\n", optarg);
                                return 2;
                        }
                        break;
                default: return 2;
                }
        if (!mount) {
                r = cgroup_find_mount("/proc", &found);
                if (r < 0) {
                        log_error_errno(r, "cannot find the cgroup2 mount: %m");
                        return 1;
                }
                mount = found;
        }
        r = topology_load(sysfs, &topo);
        if (r < 0)
                log_warning_errno(r, "no topology under %s: %m", sysfs);

        /* one walk to warm the dentry caches, not counted */
        if (bench("warm-up", mount, topo, CGROUP_WALK_DEFAULT, 1) < 0)
                return 1;
        if (bench("full", mount, topo, CGROUP_WALK_DEFAULT, (unsigned) n) < 0 ||
            bench("no pids, no numa_stat", mount, topo, CGROUP_WALK_SKIP_PIDS | CGROUP_WALK_SKIP_NUMA_STAT,
                  (unsigned) n) < 0 ||
            bench("tree only", mount, topo,
                  CGROUP_WALK_SKIP_PIDS | CGROUP_WALK_SKIP_NUMA_STAT | CGROUP_WALK_SKIP_MEMORY_STAT, (unsigned) n) < 0)
                return 1;
        return 0;
}
