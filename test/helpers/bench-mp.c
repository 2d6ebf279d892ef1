/* SPDX-License-Identifier: MIT */
/* bench-mp: helpers of the tiering benchmark (scripts/bench), run in the VM.
 *
 *   bench-mp micro [--size MIB] [--fast N] [--slow N]
 *       The move_pages(2) microbenchmark: SIZE MiB (default 64) of
 *       anonymous memory moved FAST -> SLOW -> FAST node (default 0 and 1)
 *       with batches of 1, 16, 256 and 4096 pages, one timed pass each way
 *       per batch size; then memcpy bandwidth between buffers bound to the
 *       nodes (fast->fast, slow->fast, fast->slow), best of 3 copies.
 *       Prints {"size_bytes", "move_pages": [{"batch", "to_slow_mib_s",
 *       "to_fast_mib_s", "failed_pages"}], "memcpy_mib_s": {"fast_to_fast",
 *       "slow_to_fast", "fast_to_slow"}}.
 *
 *   bench-mp fill --size MIB [--node N] [--ready FILE]
 *       Maps SIZE MiB bound to node N (default 0), touches and mlocks it
 *       (reclaim, hence demotion, skips mlocked pages), creates FILE, then
 *       reads a word of every page once a second until SIGTERM (so that
 *       access-based demotion such as DAMOS migrate_cold sees it in use):
 *       the node is really that much smaller for every contender.
 *
 *   bench-mp where --pid PID --report FILE [--phase N]
 *       Where the pages of a running workload (test/helpers/workload.c)
 *       are, without touching them: FILE is a report the workload wrote
 *       (its mapping and hot range); the hot set is taken N phase changes
 *       further (each moves it by its own size, wrapping). Queries with
 *       move_pages(2) on PID (root) and prints, in the report's own shape,
 *       {"pid", "phase", "hot": [{"start", "end"}...], "hot_pages_by_node",
 *       "cold_pages_by_node"} (node counts plus "absent" and "error").
 *       The workload's own report also checks every page's contents, which
 *       reads them all: sampled every few seconds, that would look like
 *       accesses to the kernel's and tierd's samplers alike.
 *
 * Exit status: 0 ok, 1 failure, 2 bad usage. */
#include <errno.h>
#include <getopt.h>
#include <json-c/json.h>
#include <numaif.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include "page-counts.h"

#define PAGE 4096UL
#define MIB (1024UL * 1024UL)

static double now_s(void) {
        struct timespec ts;

        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (double) ts.tv_sec + (double) ts.tv_nsec / 1e9;
}

static int parse_u(const char *opt, const char *s, unsigned long max, unsigned long *ret) {
        char *end;
        unsigned long v;

        errno = 0;
        v = strtoul(s, &end, 10);
        if (*s == '\0' || *end || errno || v > max) {
                fprintf(stderr, "bench-mp: %s: '%s' is not a number up to %lu\n", opt, s, max);
                return -EINVAL;
        }
        *ret = v;
        return 0;
}

/* Maps N bytes bound to NODE and writes every page. */
static char *map_on(size_t n, int node) {
        unsigned long mask = 1UL << node;
        char *p = mmap(NULL, n, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

        if (p == MAP_FAILED)
                return NULL;
        (void) madvise(p, n, MADV_NOHUGEPAGE);
        if (mbind(p, n, MPOL_BIND, &mask, 64, 0) < 0) {
                munmap(p, n);
                return NULL;
        }
        for (size_t i = 0; i < n; i += PAGE)
                p[i] = (char) (i / PAGE);
        return p;
}

/* Moves every page of [P, P+N) to NODE in batches of BATCH pages; returns
 * the seconds it took, the pages not moved in *ret_failed. */
static double move_all(char *p, size_t n, unsigned long batch, int node, void **pages, int *nodes, int *status,
                       unsigned long *ret_failed) {
        size_t npages = n / PAGE;
        unsigned long failed = 0;
        double t0 = now_s();

        for (size_t i = 0; i < npages; i += batch) {
                size_t k = npages - i < batch ? npages - i : batch;

                for (size_t j = 0; j < k; j++) {
                        pages[j] = p + (i + j) * PAGE;
                        nodes[j] = node;
                }
                if (move_pages(0, k, pages, nodes, status, MPOL_MF_MOVE) < 0) {
                        failed += k;
                        continue;
                }
                for (size_t j = 0; j < k; j++)
                        if (status[j] != node)
                                failed++;
        }
        *ret_failed = failed;
        return now_s() - t0;
}

static double copy_mib_s(char *dst, const char *src, size_t n) {
        double best = 0;

        for (int i = 0; i < 3; i++) {
                double t0 = now_s(), dt;

                memcpy(dst, src, n);
                __asm__ volatile("" : : "r"(dst) : "memory");
                dt = now_s() - t0;
                if (dt > 0 && (double) n / MIB / dt > best)
                        best = (double) n / MIB / dt;
        }
        return best;
}

static int micro(unsigned long size, int fast, int slow) {
        static const unsigned long batches[] = { 1, 16, 256, 4096 };
        size_t n = size * MIB;
        void **pages = calloc(4096, sizeof(*pages));
        int *nodes = calloc(4096, sizeof(*nodes)), *status = calloc(4096, sizeof(*status));
        char *p, *a, *b, *c;

        if (!pages || !nodes || !status) {
                fprintf(stderr, "bench-mp: out of memory\n");
                return 1;
        }
        /* default policy: move_pages may place pages on either node */
        p = mmap(NULL, n, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        if (p == MAP_FAILED) {
                perror("bench-mp: mmap");
                return 1;
        }
        (void) madvise(p, n, MADV_NOHUGEPAGE);
        memset(p, 1, n);
        printf("{\"size_bytes\": %zu, \"fast_node\": %d, \"slow_node\": %d, \"move_pages\": [", n, fast, slow);
        for (size_t i = 0; i < sizeof(batches) / sizeof(batches[0]); i++) {
                unsigned long f1 = 0, f2 = 0, f0 = 0;
                double d1, d2;

                /* start from the fast node whatever the last pass left */
                (void) move_all(p, n, 4096, fast, pages, nodes, status, &f0);
                d1 = move_all(p, n, batches[i], slow, pages, nodes, status, &f1);
                d2 = move_all(p, n, batches[i], fast, pages, nodes, status, &f2);
                printf("%s{\"batch\": %lu, \"to_slow_mib_s\": %.1f, \"to_fast_mib_s\": %.1f, \"failed_pages\": %lu}",
                       i ? ", " : "", batches[i], d1 > 0 ? (double) size / d1 : 0, d2 > 0 ? (double) size / d2 : 0,
                       f1 + f2);
        }
        munmap(p, n);
        a = map_on(n, fast);
        b = map_on(n, slow);
        c = map_on(n, fast);
        if (!a || !b || !c) {
                fprintf(stderr, "bench-mp: cannot map %lu MiB on nodes %d and %d: %s\n", size, fast, slow,
                        strerror(errno));
                return 1;
        }
        printf("], \"memcpy_mib_s\": {\"fast_to_fast\": %.1f, \"slow_to_fast\": %.1f, \"fast_to_slow\": %.1f}}\n",
               copy_mib_s(c, a, n), copy_mib_s(a, b, n), copy_mib_s(b, a, n));
        return fflush(stdout) == 0 ? 0 : 1;
}

static int u64_field(json_object *o, const char *key, uint64_t *ret) {
        json_object *v;

        if (!json_object_object_get_ex(o, key, &v) || !json_object_is_type(v, json_type_int))
                return -EINVAL;
        *ret = json_object_get_uint64(v);
        return 0;
}

static int where(long pid, const char *path, unsigned long phase) {
        json_object *rep = json_object_from_file(path), *hot, *h0, *out, *ranges;
        uint64_t base, size, start, end, npages, hot_first, hot_pages, h;
        void **pages;
        int *status;
        PageCounts hc = { 0 }, cc = { 0 };

        if (!rep) {
                fprintf(stderr, "bench-mp: cannot read the workload report %s: %s\n", path, json_util_get_last_err());
                return 1;
        }
        if (u64_field(rep, "base", &base) < 0 || u64_field(rep, "size_bytes", &size) < 0 ||
            !json_object_object_get_ex(rep, "hot", &hot) || json_object_array_length(hot) < 1 ||
            !(h0 = json_object_array_get_idx(hot, 0)) || u64_field(h0, "start", &start) < 0 ||
            u64_field(h0, "end", &end) < 0 || start < base || end < start || size < PAGE) {
                fprintf(stderr, "bench-mp: %s: no base, size_bytes and hot range as the workload writes them\n", path);
                json_object_put(rep);
                return 1;
        }
        npages = size / PAGE;
        hot_first = (start - base) / PAGE;
        hot_pages = 0;
        for (size_t i = 0; i < json_object_array_length(hot); i++) {
                uint64_t s2, e2;
                json_object *r = json_object_array_get_idx(hot, i);

                if (u64_field(r, "start", &s2) == 0 && u64_field(r, "end", &e2) == 0 && e2 > s2)
                        hot_pages += (e2 - s2) / PAGE;
        }
        json_object_put(rep);
        h = (hot_first + (uint64_t) phase * hot_pages) % npages;
        pages = calloc(1024, sizeof(*pages));
        status = calloc(1024, sizeof(*status));
        if (!pages || !status) {
                fprintf(stderr, "bench-mp: out of memory\n");
                return 1;
        }
        for (uint64_t i = 0; i < npages; i += 1024) {
                uint64_t k = npages - i < 1024 ? npages - i : 1024;

                for (uint64_t j = 0; j < k; j++)
                        pages[j] = (void *) (uintptr_t) (base + (i + j) * PAGE);
                if (move_pages((int) pid, k, pages, NULL, status, 0) < 0) {
                        fprintf(stderr, "bench-mp: move_pages query of pid %ld: %s\n", pid, strerror(errno));
                        return 1;
                }
                for (uint64_t j = 0; j < k; j++) {
                        uint64_t p = i + j;
                        bool is_hot = (p + npages - h) % npages < hot_pages;

                        page_counts_add(is_hot ? &hc : &cc, status[j]);
                }
        }
        out = json_object_new_object();
        ranges = json_object_new_array();
        for (int part = 0; part < 2; part++) {
                uint64_t s2 = part == 0 ? h : 0;
                uint64_t e2 = part == 0 ? (h + hot_pages < npages ? h + hot_pages : npages)
                                        : (h + hot_pages > npages ? h + hot_pages - npages : 0);
                json_object *r;

                if (e2 <= s2)
                        continue;
                r = json_object_new_object();
                json_object_object_add(r, "start", json_object_new_uint64(base + s2 * PAGE));
                json_object_object_add(r, "end", json_object_new_uint64(base + e2 * PAGE));
                json_object_array_add(ranges, r);
        }
        json_object_object_add(out, "pid", json_object_new_int64(pid));
        json_object_object_add(out, "phase", json_object_new_uint64(phase));
        json_object_object_add(out, "hot", ranges);
        json_object_object_add(out, "hot_pages_by_node", page_counts_json(&hc));
        json_object_object_add(out, "cold_pages_by_node", page_counts_json(&cc));
        puts(json_object_to_json_string_ext(out, JSON_C_TO_STRING_PLAIN));
        json_object_put(out);
        free(pages);
        free(status);
        return fflush(stdout) == 0 ? 0 : 1;
}

static volatile sig_atomic_t stop;

static void on_signal(int sig) {
        (void) sig;
        stop = 1;
}

static int fill(unsigned long size, int node, const char *ready) {
        struct sigaction sa = { .sa_handler = on_signal };
        size_t n = size * MIB;
        char *p = map_on(n, node);

        if (!p) {
                fprintf(stderr, "bench-mp: cannot map %lu MiB on node %d: %s\n", size, node, strerror(errno));
                return 1;
        }
        if (mlock(p, n) < 0) {
                fprintf(stderr, "bench-mp: mlock of %lu MiB: %s\n", size, strerror(errno));
                return 1;
        }
        sigaction(SIGTERM, &sa, NULL);
        sigaction(SIGINT, &sa, NULL);
        if (ready) {
                FILE *f = fopen(ready, "w");

                if (!f || fclose(f) != 0) {
                        fprintf(stderr, "bench-mp: cannot create %s: %s\n", ready, strerror(errno));
                        return 1;
                }
        }
        while (!stop) {
                volatile char sink = 0;

                for (size_t i = 0; i < n; i += PAGE)
                        sink += *(volatile char *) (p + i);
                (void) sink;
                sleep(1);
        }
        return 0;
}

int main(int argc, char **argv) {
        static const struct option opts[] = {
                { "size", required_argument, NULL, 's' }, { "node", required_argument, NULL, 'n' },
                { "fast", required_argument, NULL, 'f' }, { "slow", required_argument, NULL, 'S' },
                { "ready", required_argument, NULL, 'r' }, { "pid", required_argument, NULL, 'p' },
                { "report", required_argument, NULL, 'R' }, { "phase", required_argument, NULL, 'P' }, {},
        };
        unsigned long size = 0, node = 0, fast = 0, slow = 1, pid = 0, phase = 0;
        const char *cmd, *ready = NULL, *report = NULL;
        int c;

        if (argc < 2) {
                fprintf(stderr, "usage: bench-mp micro|fill|where [OPTIONS] (see test/helpers/bench-mp.c)\n");
                return 2;
        }
        cmd = argv[1];
        argc--;
        argv++;
        while ((c = getopt_long(argc, argv, "", opts, NULL)) >= 0)
                switch (c) {
                case 's': if (parse_u("--size", optarg, 1UL << 20, &size) < 0) return 2; break;
                case 'n': if (parse_u("--node", optarg, 63, &node) < 0) return 2; break;
                case 'f': if (parse_u("--fast", optarg, 63, &fast) < 0) return 2; break;
                case 'S': if (parse_u("--slow", optarg, 63, &slow) < 0) return 2; break;
                case 'r': ready = optarg; break;
                case 'p': if (parse_u("--pid", optarg, 1UL << 22, &pid) < 0) return 2; break;
                case 'R': report = optarg; break;
                case 'P': if (parse_u("--phase", optarg, 1UL << 20, &phase) < 0) return 2; break;
                default: return 2;
                }
        if (optind != argc) {
                fprintf(stderr, "bench-mp: unexpected argument '%s'\n", argv[optind]);
                return 2;
        }
        if (strcmp(cmd, "micro") == 0) {
                if (fast == slow) {
                        fprintf(stderr, "bench-mp: --fast and --slow must differ\n");
                        return 2;
                }
                return micro(size ? size : 64, (int) fast, (int) slow);
        }
        if (strcmp(cmd, "fill") == 0) {
                if (size == 0) {
                        fprintf(stderr, "bench-mp: fill needs --size MIB > 0\n");
                        return 2;
                }
                return fill(size, (int) node, ready);
        }
        if (strcmp(cmd, "where") == 0) {
                if (pid == 0 || !report) {
                        fprintf(stderr, "bench-mp: where needs --pid PID and --report FILE\n");
                        return 2;
                }
                return where((long) pid, report, phase);
        }
        fprintf(stderr, "bench-mp: unknown command '%s' (micro, fill or where)\n", cmd);
        return 2;
}
