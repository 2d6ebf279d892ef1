/* SPDX-License-Identifier: MIT */
/* workload: a memory workload with a known hot set, for tests and
 * benchmarks of tierd.
 *
 *   workload --size MIB --hot MIB [--hot-offset MIB] [--rate HZ] [--node N]
 *            [--thp] [--reserve MIB] [--report FILE] [--ready FILE]
 *
 * Maps SIZE MiB of anonymous memory (bound to node N with mbind when
 * given), fills every page with a pattern derived from its index, then
 * reads one word of every hot page RATE times per second (default 10) and
 * leaves the rest untouched.
 * --reserve MIB also maps MIB (up to 64 TiB) of anonymous read-write
 * memory with MAP_NORESERVE and never touches it: a huge, sparse mapping
 * like the shadow of an ASan program (~20 TiB) or the heap reservations
 * of JVMs, Go and V8. The report then gives its "reserve_base" and
 * "reserve_bytes".
 *   SIGUSR1  phase change: the hot set moves to the next HOT MiB (wrapping)
 *   SIGUSR2  write a JSON report to FILE (atomically) or stdout: hot ranges,
 *            where the hot and cold pages are (move_pages status query),
 *            and whether every page still holds its pattern
 *   SIGURG   the same report without the pattern check ("intact" null): a
 *            poll that reads none of the pages itself (the check makes
 *            every cold page "accessed" for the kernel's access tracking)
 *   SIGTERM  exit 0
 * --ready FILE is created once the memory is filled. */
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
#define MAX_NODES 64

static volatile sig_atomic_t want_phase, want_report, want_peek, want_exit;

static void on_signal(int sig) {
        if (sig == SIGUSR1)
                want_phase = 1;
        else if (sig == SIGUSR2)
                want_report = 1;
        else if (sig == SIGURG)
                want_peek = 1;
        else
                want_exit = 1;
}

static uint64_t pattern(uint64_t page, uint64_t word) {
        uint64_t x = page * 0x9e3779b97f4a7c15ULL + word + 1;

        x ^= x >> 31;
        x *= 0xbf58476d1ce4e5b9ULL;
        return x ^ (x >> 29);
}

static void where(char *base, uint64_t first, uint64_t n, PageCounts *c) {
        void *pages[1024];
        int status[1024];

        for (uint64_t i = 0; i < n; i += 1024) {
                uint64_t k = n - i < 1024 ? n - i : 1024;

                for (uint64_t j = 0; j < k; j++)
                        pages[j] = base + (first + i + j) * PAGE;
                if (move_pages(0, (unsigned long) k, pages, NULL, status, 0) < 0) {
                        c->error += k;
                        continue;
                }
                for (uint64_t j = 0; j < k; j++)
                        page_counts_add(c, status[j]);
        }
}

static char *reserve_base;
static uint64_t reserve_bytes;

static int report(const char *path, char *base, uint64_t npages, uint64_t hot_first, uint64_t hot_pages,
                  unsigned phase, bool verify) {
        json_object *o = json_object_new_object(), *ranges = json_object_new_array(), *r;
        PageCounts hot = { 0 }, cold = { 0 };
        uint64_t bad = 0, hot_end = hot_first + hot_pages;

        for (uint64_t p = 0; verify && p < npages; p++) {
                const uint64_t *w = (const uint64_t *) (base + p * PAGE);

                for (uint64_t k = 0; k < PAGE / 8; k++)
                        if (w[k] != pattern(p, k)) {
                                bad++;
                                break;
                        }
        }
        /* the hot set may wrap around the end of the mapping */
        for (int part = 0; part < 2; part++) {
                uint64_t s = part == 0 ? hot_first : 0;
                uint64_t e = part == 0 ? (hot_end < npages ? hot_end : npages) : (hot_end > npages ? hot_end - npages : 0);

                if (e <= s)
                        continue;
                r = json_object_new_object();
                json_object_object_add(r, "start", json_object_new_uint64((uint64_t) (uintptr_t) (base + s * PAGE)));
                json_object_object_add(r, "end", json_object_new_uint64((uint64_t) (uintptr_t) (base + e * PAGE)));
                json_object_array_add(ranges, r);
                where(base, s, e - s, &hot);
        }
        /* cold: the complement of the hot set, one or two ranges */
        if (hot_end <= npages) {
                where(base, 0, hot_first, &cold);
                where(base, hot_end, npages - hot_end, &cold);
        } else
                where(base, hot_end - npages, hot_first - (hot_end - npages), &cold);
        json_object_object_add(o, "pid", json_object_new_int(getpid()));
        json_object_object_add(o, "base", json_object_new_uint64((uint64_t) (uintptr_t) base));
        json_object_object_add(o, "size_bytes", json_object_new_uint64(npages * PAGE));
        json_object_object_add(o, "phase", json_object_new_int((int) phase));
        json_object_object_add(o, "hot", ranges);
        json_object_object_add(o, "hot_pages_by_node", page_counts_json(&hot));
        json_object_object_add(o, "cold_pages_by_node", page_counts_json(&cold));
        json_object_object_add(o, "intact", verify ? json_object_new_boolean(bad == 0) : NULL);
        json_object_object_add(o, "bad_pages", verify ? json_object_new_uint64(bad) : NULL);
        if (reserve_bytes) {
                json_object_object_add(o, "reserve_base",
                                       json_object_new_uint64((uint64_t) (uintptr_t) reserve_base));
                json_object_object_add(o, "reserve_bytes", json_object_new_uint64(reserve_bytes));
        }

        if (!path)
                puts(json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN));
        else {
                char tmp[4096];
                FILE *f;

                snprintf(tmp, sizeof(tmp), "%s.tmp", path);
                f = fopen(tmp, "w");
                if (!f || fputs(json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN), f) < 0 ||
                    fclose(f) != 0 || rename(tmp, path) < 0) {
                        fprintf(stderr, "workload: cannot write %s: %s\n", path, strerror(errno));
                        json_object_put(o);
                        return -1;
                }
        }
        fflush(stdout);
        json_object_put(o);
        return 0;
}

static int parse_mib_max(const char *opt, const char *s, uint64_t max, uint64_t *ret) {
        char *end;
        unsigned long long v = strtoull(s, &end, 10);

        if (*s == '\0' || *end || v > max) {
                fprintf(stderr, "workload: %s: '%s' is not a number of MiB\n", opt, s);
                return -1;
        }
        *ret = v;
        return 0;
}

static int parse_mib(const char *opt, const char *s, uint64_t *ret) {
        return parse_mib_max(opt, s, 1ULL << 20, ret);
}

int main(int argc, char **argv) {
        static const struct option opts[] = {
                { "size", required_argument, NULL, 's' }, { "hot", required_argument, NULL, 'H' },
                { "hot-offset", required_argument, NULL, 'o' }, { "rate", required_argument, NULL, 'r' },
                { "node", required_argument, NULL, 'n' }, { "thp", no_argument, NULL, 't' },
                { "report", required_argument, NULL, 'R' }, { "ready", required_argument, NULL, 'y' },
                { "reserve", required_argument, NULL, 'S' },
                {},
        };
        uint64_t size = 0, hot = 0, hot_off = 0, reserve = 0, npages, hot_first, hot_pages;
        const char *report_path = NULL, *ready = NULL;
        double rate = 10;
        int node = -1, c;
        bool thp = false;
        unsigned phase = 0;
        char *base;
        struct sigaction sa = { .sa_handler = on_signal };

        while ((c = getopt_long(argc, argv, "", opts, NULL)) >= 0)
                switch (c) {
                case 's': if (parse_mib("--size", optarg, &size) < 0) return 2; break;
                case 'H': if (parse_mib("--hot", optarg, &hot) < 0) return 2; break;
                case 'o': if (parse_mib("--hot-offset", optarg, &hot_off) < 0) return 2; break;
                case 'r': {
                        char *end;

                        rate = strtod(optarg, &end);
                        if (*optarg == '\0' || *end || !(rate > 0 && rate <= 10000)) {
                                fprintf(stderr, "workload: --rate: '%s' is not a rate between 0 and 10000 per second\n", optarg);
                                return 2;
                        }
                        break;
                }
                case 'n': {
                        char *end;
                        long v = strtol(optarg, &end, 10);

                        if (*optarg == '\0' || *end || v < 0 || v >= MAX_NODES) {
                                fprintf(stderr, "workload: --node: '%s' is not a node id (0..%d)\n", optarg, MAX_NODES - 1);
                                return 2;
                        }
                        node = (int) v;
                        break;
                }
                case 't': thp = true; break;
                case 'S': if (parse_mib_max("--reserve", optarg, 1ULL << 26, &reserve) < 0) return 2; break;
                case 'R': report_path = optarg; break;
                case 'y': ready = optarg; break;
                default: return 2;
                }
        if (size == 0 || hot > size || hot_off >= size || rate <= 0 || node >= MAX_NODES) {
                fprintf(stderr, "workload: need --size > 0, --hot <= --size, --hot-offset < --size, --rate > 0\n");
                return 2;
        }

        npages = size * MIB / PAGE;
        hot_pages = hot * MIB / PAGE;
        hot_first = hot_off * MIB / PAGE;
        base = mmap(NULL, npages * PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        if (base == MAP_FAILED) {
                perror("workload: mmap");
                return 1;
        }
        (void) madvise(base, npages * PAGE, thp ? MADV_HUGEPAGE : MADV_NOHUGEPAGE);
        if (reserve) {
                reserve_base = mmap(NULL, reserve * MIB, PROT_READ | PROT_WRITE,
                                    MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
                if (reserve_base == MAP_FAILED) {
                        perror("workload: mmap --reserve");
                        return 1;
                }
                reserve_bytes = reserve * MIB;
        }
        if (node >= 0) {
                unsigned long mask = 1UL << node;

                if (mbind(base, npages * PAGE, MPOL_BIND, &mask, MAX_NODES, 0) < 0) {
                        perror("workload: mbind");
                        return 1;
                }
        }
        for (uint64_t p = 0; p < npages; p++) {
                uint64_t *w = (uint64_t *) (base + p * PAGE);

                for (uint64_t k = 0; k < PAGE / 8; k++)
                        w[k] = pattern(p, k);
        }
        sigaction(SIGUSR1, &sa, NULL);
        sigaction(SIGUSR2, &sa, NULL);
        sigaction(SIGURG, &sa, NULL);
        sigaction(SIGTERM, &sa, NULL);
        sigaction(SIGINT, &sa, NULL);
        if (ready) {
                FILE *f = fopen(ready, "w");

                if (f)
                        fclose(f);
        }

        while (!want_exit) {
                struct timespec ts = { .tv_sec = (time_t) (1 / rate),
                                       .tv_nsec = (long) ((1 / rate - (double) (time_t) (1 / rate)) * 1e9) };
                volatile uint64_t sink = 0;

                for (uint64_t i = 0; i < hot_pages; i++)
                        sink += *(volatile uint64_t *) (base + ((hot_first + i) % npages) * PAGE);
                (void) sink;
                if (want_phase) {
                        want_phase = 0;
                        hot_first = (hot_first + hot_pages) % npages;
                        phase++;
                }
                if (want_report || want_peek) {
                        bool verify = want_report;

                        want_report = want_peek = 0;
                        report(report_path, base, npages, hot_first, hot_pages, phase, verify);
                }
                nanosleep(&ts, NULL);
        }
        return 0;
}
