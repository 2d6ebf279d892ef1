/* SPDX-License-Identifier: MIT */
/* The memory.reclaim mover: demotion as reclaim's side effect (see
 * mover.h). tierd never writes /sys/kernel/mm/numa/demotion_enabled: it
 * changes how every reclaim on the host behaves (kswapd and direct reclaim
 * of every cgroup, not only tierd's), so it belongs to the administrator;
 * tierd reads it and says what it means. */
#include "mover.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "util.h"

void reclaim_numa_diff(const CgroupNumaStat *before, const CgroupNumaStat *after, ReclaimDiff *ret) {
        uint64_t in = 0, out = 0;

        *ret = (ReclaimDiff) { .nodes = before->nodes | after->nodes };
        for (int n = 0; n < CGROUP_MAX_NODES; n++) {
                uint64_t b = before->anon[n] + before->file[n], a = after->anon[n] + after->file[n];

                if (!(ret->nodes & (UINT64_C(1) << n)))
                        continue;
                if (a >= b) {
                        ret->delta[n] = (int64_t) (a - b);
                        in += a - b;
                } else {
                        ret->delta[n] = -(int64_t) (b - a);
                        out += b - a;
                }
        }
        ret->moved_bytes = in < out ? in : out;
        ret->freed_bytes = out - ret->moved_bytes;
        ret->grown_bytes = in - ret->moved_bytes;
}

int demotion_enabled_read(const char *sysfs_root) {
        _cleanup_free_ char *v = NULL;
        int r = read_one_line(sysfs_root ? sysfs_root : "/sys", "/kernel/mm/numa/demotion_enabled", &v);

        if (r < 0)
                return r;
        if (strcmp(v, "true") == 0 || strcmp(v, "1") == 0)
                return 1;
        if (strcmp(v, "false") == 0 || strcmp(v, "0") == 0)
                return 0;
        return -EINVAL;
}

static int read_numa_stat(const char *dir, CgroupNumaStat *ret) {
        _cleanup_free_ char *text = NULL;
        int r = read_full_file(dir, "/memory.numa_stat", &text, NULL);

        if (r < 0)
                return r;
        return cgroup_parse_numa_stat(text, ret);
}

static double now_s(void) {
        struct timespec ts;

        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (double) ts.tv_sec + (double) ts.tv_nsec / 1e9;
}

int mover_reclaim(const char *mount, const char *cgroup, uint64_t bytes, const char *sysfs_root,
                  ReclaimResult *ret) {
        _cleanup_free_ char *dir = NULL, *path = NULL;
        _cleanup_close_ int fd = -1;
        ReclaimResult res = { .requested = bytes };
        char buf[32];
        double t0;
        ssize_t w;
        int r;

        while (cgroup && *cgroup == '/')
                cgroup++;
        if (!mount || !cgroup || !*cgroup || bytes == 0)
                return -EINVAL;
        if (asprintf(&dir, "%s/%s", mount, cgroup) < 0)
                return -ENOMEM;
        r = demotion_enabled_read(sysfs_root);
        res.demotion_enabled = r < 0 ? -1 : r;

        r = read_numa_stat(dir, &res.before);
        if (r == -ENOENT || r == -ENODEV) {
                log_debug("reclaim: cgroup %s is gone", cgroup);
                *ret = (ReclaimResult) { .requested = bytes, .vanished = true, .demotion_enabled = res.demotion_enabled };
                return 0;
        }
        if (r < 0)
                return r;

        if (asprintf(&path, "%s/memory.reclaim", dir) < 0)
                return -ENOMEM;
        fd = open(path, O_WRONLY | O_CLOEXEC);
        if (fd < 0) {
                r = -errno;
                if (r == -ENOENT || r == -ENODEV) {
                        if (access(dir, F_OK) < 0) {
                                *ret = (ReclaimResult) { .requested = bytes, .vanished = true,
                                                         .demotion_enabled = res.demotion_enabled };
                                return 0;
                        }
                        return -EOPNOTSUPP; /* no memory.reclaim: before 5.19 */
                }
                return r;
        }

        snprintf(buf, sizeof(buf), "%llu", (unsigned long long) bytes);
        t0 = now_s();
        w = write(fd, buf, strlen(buf));
        res.seconds = now_s() - t0;
        if (w < 0) {
                r = -errno;
                if (r == -EAGAIN)
                        res.partial = true;
                else if (r == -ENOENT || r == -ENODEV) {
                        res.vanished = true;
                        *ret = res;
                        return 0;
                } else
                        return r; /* -EINTR, -EINVAL, ... */
        }

        r = read_numa_stat(dir, &res.after);
        if (r == -ENOENT || r == -ENODEV) {
                res.vanished = true;
                *ret = res;
                return 0;
        }
        if (r < 0)
                return r;
        reclaim_numa_diff(&res.before, &res.after, &res.diff);
        *ret = res;
        return 0;
}
