/* SPDX-License-Identifier: MIT */
/* Struct-page facts shared by the physical walks (kpage.h). */
#include "kpage.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "util.h"

bool kpage_unmapped_candidate(uint64_t flags) {
        const uint64_t bad = KPAGE_NEVER | KPAGE_BIT(KPAGE_COMPOUND_TAIL) | KPAGE_BIT(KPAGE_MMAP);

        return (flags & KPAGE_BIT(KPAGE_LRU)) && !(flags & bad);
}

int kpage_lru_gen_enabled(const char *text, bool *ret) {
        unsigned long long v;
        char *end;

        while (*text == ' ' || *text == '\t')
                text++;
        if (!*text || *text == '-')
                return -EINVAL;
        errno = 0;
        v = strtoull(text, &end, 0);
        if (errno || end == text)
                return -EINVAL;
        while (*end == ' ' || *end == '\n')
                end++;
        if (*end)
                return -EINVAL;
        *ret = v & 1;
        return 0;
}

void kpage_check_mglru(const char *sysfs_root, int *state, const char *who, const char *sampler) {
        _cleanup_free_ char *text = NULL;
        bool on = false;
        int was = *state;

        if (read_full_file(sysfs_root, "/kernel/mm/lru_gen/enabled", &text, NULL) < 0 ||
            kpage_lru_gen_enabled(text, &on) < 0)
                on = false; /* no MGLRU in this kernel */
        *state = on;
        if (on && was != 1)
                log_info("%s: MGLRU is on (%s/kernel/mm/lru_gen/enabled): the kernel does not clear the idle flag of "
                         "page cache and tmpfs pages accessed through read(2) or write(2), so %s cannot tell their "
                         "hot pages from cold ones; unmapped pages are not classified while it is on (they count "
                         "as unscanned bytes)", who, sysfs_root ? sysfs_root : "/sys", sampler);
        else if (!on && was == 1)
                log_info("%s: MGLRU is off now: classifying unmapped pages again", who);
}

/* ---- the memcg table ----------------------------------------------------- */

static int ids_add(KpageMemcgs *m, size_t *alloc, uint64_t ino, uint32_t target) {
        if (m->n == *alloc) {
                size_t na = *alloc ? *alloc * 2 : 64;
                KpageMemcg *ni = realloc(m->ids, na * sizeof(*ni));

                if (!ni)
                        return -ENOMEM;
                m->ids = ni;
                *alloc = na;
        }
        m->ids[m->n++] = (KpageMemcg) { .ino = ino, .target = target };
        return 0;
}

/* Adds the inode of DIRFD's directory and of every directory below. */
static int ids_walk(KpageMemcgs *m, size_t *alloc, int dirfd, uint32_t target) {
        struct stat st;
        DIR *d;
        struct dirent *de;
        int r;

        if (fstat(dirfd, &st) < 0) {
                r = -errno;
                close(dirfd);
                return r;
        }
        r = ids_add(m, alloc, (uint64_t) st.st_ino, target);
        if (r < 0) {
                close(dirfd);
                return r;
        }
        d = fdopendir(dirfd);
        if (!d) {
                r = -errno;
                close(dirfd);
                return r;
        }
        while ((de = readdir(d))) {
                int fd;

                if (de->d_type != DT_DIR && de->d_type != DT_UNKNOWN)
                        continue;
                if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
                        continue;
                fd = openat(dirfd, de->d_name, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
                if (fd < 0)
                        continue; /* removed meanwhile, or not a directory */
                r = ids_walk(m, alloc, fd, target);
                if (r == -ENOMEM) {
                        closedir(d);
                        return r;
                }
        }
        closedir(d);
        return 0;
}

static int cmp_id(const void *a, const void *b) {
        const KpageMemcg *x = a, *y = b;

        if (x->ino != y->ino)
                return (x->ino > y->ino) - (x->ino < y->ino);
        return (x->target > y->target) - (x->target < y->target);
}

size_t kpage_memcgs_settle(KpageMemcg *ids, size_t n, const ScanTarget *targets, size_t n_targets,
                           uint64_t *ret_hash) {
        size_t w = 0;

        /* one target per memcg: the deepest one listing it (a nested
         * tenant's pages are its own, whatever the order of the targets;
         * of equal depth, the first) */
        qsort_safe(ids, n, sizeof(*ids), cmp_id);
        for (size_t i = 0; i < n; i++) {
                if (w > 0 && ids[w - 1].ino == ids[i].ino) {
                        if (strlen(targets[ids[i].target].cgroup_path) > strlen(targets[ids[w - 1].target].cgroup_path))
                                ids[w - 1] = ids[i];
                        continue;
                }
                ids[w++] = ids[i];
        }
        /* each target's set of ids, as a sum of mixed ids: a pass over a
         * set that changed missed part of it */
        if (ret_hash) {
                memset(ret_hash, 0, n_targets * sizeof(*ret_hash));
                for (size_t i = 0; i < w; i++) {
                        uint64_t z = ids[i].ino + UINT64_C(0x9e3779b97f4a7c15);

                        z = (z ^ (z >> 30)) * UINT64_C(0xbf58476d1ce4e5b9);
                        z = (z ^ (z >> 27)) * UINT64_C(0x94d049bb133111eb);
                        ret_hash[ids[i].target] += z ^ (z >> 31);
                }
        }
        return w;
}

int kpage_memcgs_build(const char *cgroup_mount, const ScanTarget *targets, size_t n, KpageMemcgs *ret,
                       uint64_t *ret_hash) {
        size_t alloc = 0;
        int r;

        kpage_memcgs_done(ret);
        for (size_t t = 0; t < n; t++) {
                _cleanup_free_ char *path = NULL;
                int fd;

                r = path_join_root(cgroup_mount, targets[t].cgroup_path, &path);
                if (r < 0)
                        return r;
                fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
                if (fd < 0) {
                        log_debug("cgroup %s is gone (%s): no memcg of it to look for", path, strerror(errno));
                        continue;
                }
                r = ids_walk(ret, &alloc, fd, (uint32_t) t);
                if (r == -ENOMEM)
                        return r;
                if (r < 0)
                        log_debug("cgroup %s went away during the walk: %s", path, strerror(-r));
        }
        ret->n = kpage_memcgs_settle(ret->ids, ret->n, targets, n, ret_hash);
        return 0;
}

int kpage_memcgs_target(const KpageMemcgs *m, uint64_t ino) {
        size_t lo = 0, hi = m->n;

        while (lo < hi) {
                size_t mid = lo + (hi - lo) / 2;

                if (m->ids[mid].ino < ino)
                        lo = mid + 1;
                else if (m->ids[mid].ino > ino)
                        hi = mid;
                else
                        return (int) m->ids[mid].target;
        }
        return -1;
}

void kpage_memcgs_done(KpageMemcgs *m) {
        free(m->ids);
        m->ids = NULL;
        m->n = 0;
}

ssize_t kpage_pread(int fd, void *buf, size_t size, uint64_t off) {
        size_t done = 0;

        while (done < size) {
                ssize_t n = pread(fd, (char *) buf + done, size - done, (off_t) (off + done));

                if (n < 0) {
                        if (errno == EINTR)
                                continue;
                        return done > 0 ? (ssize_t) done : -errno;
                }
                if (n == 0)
                        break;
                done += (size_t) n;
        }
        return (ssize_t) done;
}
