/* SPDX-License-Identifier: MIT */
#include "damon_sysfs.h"

#include <fcntl.h>
#include <stdarg.h>
#include <string.h>
#include <time.h>

#define RETRIES 200
#define RETRY_NS (10 * 1000 * 1000)

static int vwrite(const char *value, const char *fmt, va_list ap) {
        _cleanup_free_ char *path = NULL;
        size_t len = strlen(value);

        if (vasprintf(&path, fmt, ap) < 0)
                return -ENOMEM;
        for (int tries = 0;; tries++) {
                _cleanup_close_ int fd = open(path, O_WRONLY | O_CLOEXEC);
                ssize_t n;

                if (fd < 0)
                        return -errno;
                n = write(fd, value, len);
                if (n == (ssize_t) len)
                        return 0;
                if (n >= 0)
                        return -EIO;
                if (errno != EBUSY || tries >= RETRIES)
                        return -errno;
                nanosleep(&(struct timespec) { .tv_nsec = RETRY_NS }, NULL);
        }
}

int damon_sysfs_write(const char *value, const char *fmt, ...) {
        va_list ap;
        int r;

        va_start(ap, fmt);
        r = vwrite(value, fmt, ap);
        va_end(ap);
        return r;
}

int damon_sysfs_write_u64(uint64_t v, const char *fmt, ...) {
        char buf[32];
        va_list ap;
        int r;

        snprintf(buf, sizeof(buf), "%llu", (unsigned long long) v);
        va_start(ap, fmt);
        r = vwrite(buf, fmt, ap);
        va_end(ap);
        return r;
}

int damon_sysfs_read_line(const char *dir, const char *name, char **ret) {
        _cleanup_free_ char *path = NULL;

        if (asprintf(&path, "%s/%s", dir, name) < 0)
                return -ENOMEM;
        /* Some files (a kdamond's pid) answer -EBUSY while a command runs. */
        for (int tries = 0;; tries++) {
                int r = read_one_line(NULL, path, ret);

                if (r != -EBUSY || tries >= RETRIES)
                        return r;
                nanosleep(&(struct timespec) { .tv_nsec = RETRY_NS }, NULL);
        }
}

int damon_sysfs_read_u64(const char *dir, const char *name, uint64_t *ret) {
        _cleanup_free_ char *s = NULL;
        int r = damon_sysfs_read_line(dir, name, &s);

        return r < 0 ? r : parse_u64(s, ret);
}
