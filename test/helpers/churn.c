/* SPDX-License-Identifier: MIT */
/* churn: cgroup, process and annotation churn under a cgroup v2 directory,
 * for test/vm/test-churn.py (tierd must survive it).
 *
 *   churn --root DIR --seconds S [--cgroups N] [--forks N] [--annotate N]
 *         [--seed N] [--nice N]
 *
 * For S seconds, on a fixed schedule (catching up when late):
 *   - N cgroups a second (default 25) are created under DIR (mkdir, each
 *     counted; a third of the creations are nested, DIR/cK/n, the parent
 *     with +memory in its subtree_control and the processes in the leaf),
 *     half of them annotated as tenants (trusted.tierd.class, tier0.max,
 *     mode; now and then an invalid value), each living 0.5-2 s; then
 *     removed (rmdir, leaf first) as soon as its last process was reaped
 *   - N processes a second (default 250) are forked straight into a random
 *     live leaf (clone3 with CLONE_INTO_CGROUP); each lives 5-60 ms, one
 *     in four touches 64 KiB of anonymous memory, one in fifty touches
 *     2 MiB and lives 1-3 s (something for the scanner to find and the
 *     mover to move while it exits); each checks its pages' contents
 *     before it exits (status 3 if one changed)
 *   - N annotation changes a second (default 10) on live cgroups (set a
 *     key to another value, or remove it)
 * --nice N runs the driver at nice N (its children at 0): under TCG the
 * children and tierd would otherwise starve the schedule.
 * Then every process is reaped and every cgroup removed, DIR included.
 * Prints one JSON object: what was done (counts, per-second rates over S,
 * errors by kind with the last errno, the most live cgroups and processes,
 * per-minute counts). Exit 0 unless an operation failed unexpectedly. */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <linux/sched.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <sys/xattr.h>
#include <time.h>
#include <unistd.h>

#define MAX_CG 512
#define MAX_KIDS 8192
#define MAX_LIVE 1024 /* more alive: the guest fell behind, forks wait */
#define MAX_MIN 64
#define KIB 1024UL

typedef struct Cg {
        bool used, nested, removing;
        char top[64];    /* DIR-relative: cK */
        char leaf[96];   /* cK or cK/n */
        int fd;          /* the leaf, for CLONE_INTO_CGROUP */
        int nproc;
        double expire;
} Cg;

typedef struct Kid {
        pid_t pid;
        int cg;
} Kid;

static Cg cgs[MAX_CG];
static Kid kids[MAX_KIDS];
static int n_kids;
static const char *root;
static uint64_t rng = 0x2545f4914f6cdd1dULL;

static struct {
        unsigned long mkdirs, rmdirs, nested, annotated, xattr_changes, forks, touching, long_lived, bad_exits;
        unsigned long fork_skipped, mkdir_errors, rmdir_busy, rmdir_errors, xattr_errors, fork_errors;
        int mkdir_errno, rmdir_errno, xattr_errno, fork_errno;
        int max_cgroups, max_procs;
        unsigned long min_mkdirs[MAX_MIN], min_forks[MAX_MIN];
} st;

static uint32_t rnd(uint32_t n) {
        rng ^= rng << 13;
        rng ^= rng >> 7;
        rng ^= rng << 17;
        return (uint32_t) (rng % n);
}

static double now_s(void) {
        struct timespec ts;

        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (double) ts.tv_sec + (double) ts.tv_nsec / 1e9;
}

static void path_of(char *buf, size_t size, const char *rel) {
        snprintf(buf, size, "%s/%s", root, rel);
}

static int write_file(const char *path, const char *value) {
        int fd = open(path, O_WRONLY | O_CLOEXEC);
        ssize_t n;

        if (fd < 0)
                return -errno;
        n = write(fd, value, strlen(value));
        if (n < 0) {
                int e = -errno;

                close(fd);
                return e;
        }
        close(fd);
        return 0;
}

static const char *const classes[] = { "latency", "standard", "batch", "scavenger", "critical" };
static const char *const maxes[] = { "1M", "4M", "16M", "max" };
static const char *const modes[] = { "enforce", "observe", "off" };

/* Sets (or with REMOVE, removes) one annotation of REL; an invalid value
 * one time in ten (tierd must ignore it quietly). */
static void annotate(const char *rel, bool remove) {
        static const char *const keys[] = { "class", "tier0.max", "mode" };
        char path[256], name[64];
        const char *key = keys[rnd(3)], *v;
        int r;

        path_of(path, sizeof(path), rel);
        snprintf(name, sizeof(name), "trusted.tierd.%s", key);
        if (remove) {
                r = removexattr(path, name);
                if (r < 0 && errno == ENODATA)
                        r = 0;
        } else {
                if (rnd(10) == 0)
                        v = "lots";
                else if (key[0] == 'c')
                        v = classes[rnd(5)];
                else if (key[0] == 't')
                        v = maxes[rnd(4)];
                else
                        v = modes[rnd(3)];
                r = setxattr(path, name, v, strlen(v), 0);
        }
        if (r < 0) {
                st.xattr_errors++;
                st.xattr_errno = errno;
        }
}

static void set_tenant(const char *rel) {
        char path[256];
        const char *c = classes[rnd(4)], *m = maxes[rnd(3)], *mode = rnd(4) ? "enforce" : "observe";

        path_of(path, sizeof(path), rel);
        if (setxattr(path, "trusted.tierd.class", c, strlen(c), 0) < 0 ||
            setxattr(path, "trusted.tierd.tier0.max", m, strlen(m), 0) < 0 ||
            setxattr(path, "trusted.tierd.mode", mode, strlen(mode), 0) < 0) {
                st.xattr_errors++;
                st.xattr_errno = errno;
                return;
        }
        st.annotated++;
}

static int live_cgroups(void) {
        int n = 0;

        for (int i = 0; i < MAX_CG; i++)
                n += cgs[i].used ? 1 + cgs[i].nested : 0;
        return n;
}

static void mkdir_counted(const char *rel, bool *ok) {
        char path[256];

        path_of(path, sizeof(path), rel);
        if (mkdir(path, 0755) < 0) {
                st.mkdir_errors++;
                st.mkdir_errno = errno;
                *ok = false;
                return;
        }
        st.mkdirs++;
}

static void create_one(double now, unsigned long serial) {
        char path[256];
        bool ok = true;
        int i;

        for (i = 0; i < MAX_CG && cgs[i].used; i++)
                ;
        if (i == MAX_CG) {
                st.mkdir_errors++;
                st.mkdir_errno = ENOSPC;
                return;
        }
        Cg *c = &cgs[i];
        *c = (Cg) { .fd = -1, .nested = rnd(3) == 0 };
        snprintf(c->top, sizeof(c->top), "c%lu", serial);
        mkdir_counted(c->top, &ok);
        if (!ok)
                return;
        c->used = true;
        c->expire = now + 0.5 + rnd(1500) / 1000.0;
        if (c->nested) {
                int r;

                snprintf(path, sizeof(path), "%s/%s/cgroup.subtree_control", root, c->top);
                r = write_file(path, "+memory");
                if (r < 0) {
                        st.mkdir_errors++;
                        st.mkdir_errno = -r;
                }
                strcpy(c->leaf, c->top);
                strcat(c->leaf, "/n");
                mkdir_counted(c->leaf, &ok);
                if (!ok) {
                        c->nested = false;
                        strcpy(c->leaf, c->top);
                } else
                        st.nested++;
        } else
                strcpy(c->leaf, c->top);
        /* half are tenants: the top carries the annotations, so a nested
         * leaf inherits them */
        if (rnd(2))
                set_tenant(c->top);
        path_of(path, sizeof(path), c->leaf);
        c->fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (c->fd < 0) {
                st.mkdir_errors++;
                st.mkdir_errno = errno;
                c->removing = true;
        }
}

static void remove_one(Cg *c) {
        char path[256];

        if (c->fd >= 0)
                close(c->fd);
        c->fd = -1;
        if (c->nested) {
                path_of(path, sizeof(path), c->leaf);
                if (rmdir(path) < 0) {
                        if (errno == EBUSY) {
                                st.rmdir_busy++;
                                return; /* a process still on its way out: next time */
                        }
                        if (errno != ENOENT) {
                                st.rmdir_errors++;
                                st.rmdir_errno = errno;
                        }
                } else
                        st.rmdirs++;
                c->nested = false;
        }
        path_of(path, sizeof(path), c->top);
        if (rmdir(path) < 0) {
                if (errno == EBUSY) {
                        st.rmdir_busy++;
                        return;
                }
                st.rmdir_errors++;
                st.rmdir_errno = errno;
        } else
                st.rmdirs++;
        c->used = false;
}

/* The child: touch KB KiB of fresh anonymous memory, live MS ms, exit. */
static _Noreturn void child(size_t kb, unsigned ms) {
        struct timespec ts = { .tv_sec = ms / 1000, .tv_nsec = (long) (ms % 1000) * 1000000L };

        (void) setpriority(PRIO_PROCESS, 0, 0); /* the driver may run at a higher priority */

        if (kb) {
                char *p = mmap(NULL, kb * KIB, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

                if (p == MAP_FAILED)
                        _exit(2);
                for (size_t o = 0; o < kb * KIB; o += 4096)
                        p[o] = (char) (o >> 12 | 1);
                while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
                        ;
                for (size_t o = 0; o < kb * KIB; o += 4096)
                        if (p[o] != (char) (o >> 12 | 1))
                                _exit(3); /* a moved page lost its contents */
                _exit(0);
        }
        while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
                ;
        _exit(0);
}

static bool fork_one(void) {
        int live[MAX_CG], n = 0, i;
        size_t kb = 0;
        unsigned ms = 5 + rnd(55);
        pid_t pid;

        for (i = 0; i < MAX_CG; i++)
                if (cgs[i].used && !cgs[i].removing && cgs[i].fd >= 0)
                        live[n++] = i;
        if (n == 0 || n_kids >= MAX_LIVE) {
                st.fork_skipped++; /* no live leaf this instant, or too many children */
                return false;
        }
        i = live[rnd((uint32_t) n)];
        if (rnd(50) == 0) {
                kb = 2048;
                ms = 1000 + rnd(2000);
                st.long_lived++;
        } else if (rnd(4) == 0) {
                kb = 64;
                st.touching++;
        }
        struct clone_args ca = {
                .flags = CLONE_INTO_CGROUP,
                .exit_signal = SIGCHLD,
                .cgroup = (uint64_t) cgs[i].fd,
        };
        pid = (pid_t) syscall(SYS_clone3, &ca, sizeof(ca));
        if (pid < 0) {
                st.fork_errors++;
                st.fork_errno = errno;
                return true;
        }
        if (pid == 0)
                child(kb, ms);
        kids[n_kids++] = (Kid) { .pid = pid, .cg = i };
        cgs[i].nproc++;
        st.forks++;
        return true;
}

static void reap(bool block) {
        int status;
        pid_t pid;

        while ((pid = waitpid(-1, &status, block ? 0 : WNOHANG)) > 0) {
                if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
                        st.bad_exits++;
                for (int k = 0; k < n_kids; k++)
                        if (kids[k].pid == pid) {
                                cgs[kids[k].cg].nproc--;
                                kids[k] = kids[--n_kids];
                                break;
                        }
        }
}

static void expire(double now, bool all) {
        for (int i = 0; i < MAX_CG; i++) {
                Cg *c = &cgs[i];

                if (!c->used)
                        continue;
                if (all || now >= c->expire)
                        c->removing = true;
                if (c->removing && c->nproc == 0)
                        remove_one(c);
        }
}

static void change_annotation(void) {
        int live[MAX_CG], n = 0;

        for (int i = 0; i < MAX_CG; i++)
                if (cgs[i].used && !cgs[i].removing)
                        live[n++] = i;
        if (n == 0)
                return;
        Cg *c = &cgs[live[rnd((uint32_t) n)]];
        annotate(rnd(2) && c->nested ? c->leaf : c->top, rnd(5) == 0);
        st.xattr_changes++;
}

static void usage(FILE *f) {
        fputs("usage: churn --root DIR --seconds S [--cgroups N] [--forks N] [--annotate N] [--seed N] [--nice N]\n", f);
}

int main(int argc, char **argv) {
        static const struct option opts[] = {
                { "root", required_argument, NULL, 'r' },     { "seconds", required_argument, NULL, 's' },
                { "cgroups", required_argument, NULL, 'c' },  { "forks", required_argument, NULL, 'f' },
                { "annotate", required_argument, NULL, 'a' }, { "seed", required_argument, NULL, 'S' },
                { "nice", required_argument, NULL, 'n' },     { "help", no_argument, NULL, 'h' },
                { 0 },
        };
        double seconds = 0, cg_rate = 25, fork_rate = 250, ann_rate = 10, t0, now, el;
        unsigned long serial = 0, last_mkdirs = 0, last_forks = 0;
        int c, minute = 0;
        char path[256];

        while ((c = getopt_long(argc, argv, "", opts, NULL)) >= 0) {
                switch (c) {
                case 'r': root = optarg; break;
                case 's': seconds = atof(optarg); break;
                case 'c': cg_rate = atof(optarg); break;
                case 'f': fork_rate = atof(optarg); break;
                case 'a': ann_rate = atof(optarg); break;
                case 'n':
                        if (setpriority(PRIO_PROCESS, 0, atoi(optarg)) < 0) {
                                fprintf(stderr, "churn: --nice %s: %s\n", optarg, strerror(errno));
                                return 1;
                        }
                        break;
                case 'S': rng ^= strtoull(optarg, NULL, 0) * 0x9e3779b97f4a7c15ULL; break;
                case 'h': usage(stdout); return 0;
                default: usage(stderr); return 2;
                }
        }
        if (!root || seconds <= 0 || optind != argc) {
                usage(stderr);
                return 2;
        }
        if (mkdir(root, 0755) < 0 && errno != EEXIST) {
                fprintf(stderr, "churn: mkdir %s: %s\n", root, strerror(errno));
                return 1;
        }
        snprintf(path, sizeof(path), "%s/cgroup.subtree_control", root);
        c = write_file(path, "+memory");
        if (c < 0) {
                fprintf(stderr, "churn: +memory in %s: %s\n", path, strerror(-c));
                return 1;
        }

        t0 = now_s();
        for (;;) {
                struct timespec nap = { 0, 2000000 };
                int procs;

                now = now_s();
                el = now - t0;
                if (el >= seconds)
                        break;
                reap(false);
                expire(now, false);
                while ((double) (st.mkdirs + st.mkdir_errors) < el * cg_rate)
                        create_one(now, serial++);
                /* behind with MAX_LIVE children alive: wait for exits
                 * rather than skip (the rate is what the guest achieves) */
                while ((double) (st.forks + st.fork_errors) < el * fork_rate)
                        if (!fork_one())
                                break;
                while ((double) st.xattr_changes < el * ann_rate)
                        change_annotation();
                procs = n_kids;
                if (procs > st.max_procs)
                        st.max_procs = procs;
                c = live_cgroups();
                if (c > st.max_cgroups)
                        st.max_cgroups = c;
                if (el >= 60.0 * (minute + 1) && minute < MAX_MIN) {
                        st.min_mkdirs[minute] = st.mkdirs - last_mkdirs;
                        st.min_forks[minute] = st.forks - last_forks;
                        last_mkdirs = st.mkdirs;
                        last_forks = st.forks;
                        minute++;
                }
                nanosleep(&nap, NULL);
        }
        el = now_s() - t0;
        unsigned long mk = st.mkdirs, rm = st.rmdirs, fk = st.forks;
        /* drain: every process reaped, every cgroup removed */
        while (n_kids > 0)
                reap(true);
        for (int tries = 0; tries < 100 && live_cgroups() > 0; tries++) {
                expire(now_s(), true);
                if (live_cgroups() > 0)
                        usleep(20000);
        }
        int left = live_cgroups();
        if (rmdir(root) < 0) {
                st.rmdir_errors++;
                st.rmdir_errno = errno;
        }

        printf("{\"seconds\":%.3f,\"mkdirs\":%lu,\"rmdirs\":%lu,\"rmdirs_total\":%lu,\"nested\":%lu,"
               "\"annotated\":%lu,\"xattr_changes\":%lu,\"forks\":%lu,\"touching\":%lu,\"long_lived\":%lu,"
               "\"mkdir_rate\":%.2f,\"rmdir_rate\":%.2f,\"fork_rate\":%.2f,"
               "\"bad_exits\":%lu,\"mkdir_errors\":%lu,\"mkdir_errno\":\"%s\",\"rmdir_busy\":%lu,"
               "\"rmdir_errors\":%lu,\"rmdir_errno\":\"%s\",\"xattr_errors\":%lu,\"xattr_errno\":\"%s\","
               "\"fork_errors\":%lu,\"fork_errno\":\"%s\",\"fork_skipped\":%lu,\"max_cgroups\":%d,\"max_procs\":%d,\"left\":%d,",
               el, mk, rm, st.rmdirs, st.nested, st.annotated, st.xattr_changes, fk, st.touching, st.long_lived,
               (double) mk / el, (double) rm / el, (double) fk / el, st.bad_exits, st.mkdir_errors, strerror(st.mkdir_errno), st.rmdir_busy,
               st.rmdir_errors, strerror(st.rmdir_errno), st.xattr_errors, strerror(st.xattr_errno), st.fork_errors,
               strerror(st.fork_errno), st.fork_skipped, st.max_cgroups, st.max_procs, left);
        printf("\"per_minute\":[");
        for (int m = 0; m < minute; m++)
                printf("%s[%lu,%lu]", m ? "," : "", st.min_mkdirs[m], st.min_forks[m]);
        printf("]}\n");
        return st.mkdir_errors || st.rmdir_errors || st.xattr_errors || st.fork_errors || st.bad_exits || left ? 1 : 0;
}
