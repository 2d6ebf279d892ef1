/* SPDX-License-Identifier: MIT */
/* pinner: a tenant process with pages the kernel cannot (or may) migrate,
 * for test/vm/test-faults.py.
 *
 *   pinner --size MIB --mlock MIB --pin MIB --ready FILE --report FILE
 *
 * Maps SIZE MiB of anonymous memory (no THP), fills it with a pattern,
 * then mlock(2)s the first MLOCK MiB and pins the next PIN MiB as
 * io_uring fixed buffers (IORING_REGISTER_BUFFERS: a long-term
 * FOLL_LONGTERM pin, which migration cannot move). The rest is plain.
 * It touches nothing afterwards: every page is cold. Writes FILE (--ready)
 * when set up. On SIGUSR2 writes a JSON report to --report: for each part
 * (mlocked, pinned, plain) the pages on node 0 and node 1 (a move_pages(2)
 * status query) and whether the pattern is intact. SIGTERM exits. */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <linux/io_uring.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <unistd.h>

#define PAGE 4096UL
#define MIB (1UL << 20)

static volatile sig_atomic_t want_report, want_exit;

static void on_usr2(int sig) { (void) sig; want_report = 1; }
static void on_term(int sig) { (void) sig; want_exit = 1; }

static uint64_t pattern(size_t page, size_t word) { return (uint64_t) page * 0x9e3779b97f4a7c15ULL ^ word; }

static int mib(const char *opt, const char *s, size_t *ret) {
        char *end;
        unsigned long v;

        errno = 0;
        v = strtoul(s, &end, 10);
        if (errno || *end || end == s || v > 65536) {
                fprintf(stderr, "pinner: %s '%s': a number of MiB up to 65536\n", opt, s);
                return -1;
        }
        *ret = v * MIB;
        return 0;
}

/* node counts and integrity of [start, start + len) */
static void part(FILE *f, const char *name, char *base, size_t start, size_t len, int last) {
        size_t n = len / PAGE, on[2] = { 0, 0 }, other = 0, bad = 0;
        void **pages = calloc(n ? n : 1, sizeof(*pages));
        int *status = calloc(n ? n : 1, sizeof(*status));

        if (!pages || !status)
                abort();
        for (size_t i = 0; i < n; i++) {
                uint64_t *w = (uint64_t *) (base + start + i * PAGE);
                size_t page = (start / PAGE) + i;

                pages[i] = w;
                for (size_t j = 0; j < PAGE / sizeof(uint64_t); j++)
                        if (w[j] != pattern(page, j)) {
                                bad++;
                                break;
                        }
        }
        if (n && syscall(SYS_move_pages, 0, n, pages, NULL, status, 0) < 0)
                for (size_t i = 0; i < n; i++)
                        status[i] = -errno;
        for (size_t i = 0; i < n; i++) {
                if (status[i] == 0 || status[i] == 1)
                        on[status[i]]++;
                else
                        other++;
        }
        fprintf(f, "\"%s\": {\"pages\": %zu, \"node0\": %zu, \"node1\": %zu, \"other\": %zu, \"bad_pages\": %zu}%s",
                name, n, on[0], on[1], other, bad, last ? "" : ", ");
        free(pages);
        free(status);
}

int main(int argc, char **argv) {
        static const struct option opts[] = {
                { "size", required_argument, NULL, 's' }, { "mlock", required_argument, NULL, 'm' },
                { "pin", required_argument, NULL, 'p' },  { "ready", required_argument, NULL, 'y' },
                { "report", required_argument, NULL, 'R' }, {},
        };
        size_t size = 0, locked = 0, pinned = 0;
        const char *ready = NULL, *report = NULL;
        struct io_uring_params params = { 0 };
        char *base;
        int c, ring = -1;

        while ((c = getopt_long(argc, argv, "", opts, NULL)) >= 0)
                switch (c) {
                case 's': if (mib("--size", optarg, &size) < 0) return 2; break;
                case 'm': if (mib("--mlock", optarg, &locked) < 0) return 2; break;
                case 'p': if (mib("--pin", optarg, &pinned) < 0) return 2; break;
                case 'y': ready = optarg; break;
                case 'R': report = optarg; break;
                default: return 2;
                }
        if (size == 0 || locked + pinned > size || !report) {
                fprintf(stderr, "usage: pinner --size MIB [--mlock MIB] [--pin MIB] [--ready FILE] --report FILE "
                                "(mlock + pin <= size)\n");
                return 2;
        }
        base = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        if (base == MAP_FAILED) {
                perror("pinner: mmap");
                return 1;
        }
        (void) madvise(base, size, MADV_NOHUGEPAGE);
        for (size_t p = 0; p < size / PAGE; p++)
                for (size_t j = 0; j < PAGE / sizeof(uint64_t); j++)
                        ((uint64_t *) (base + p * PAGE))[j] = pattern(p, j);
        if (locked && mlock(base, locked) < 0) {
                perror("pinner: mlock");
                return 1;
        }
        if (pinned) {
                size_t n = (pinned + (1UL << 30) - 1) / (1UL << 30);
                struct iovec *iov = calloc(n, sizeof(*iov));

                ring = (int) syscall(__NR_io_uring_setup, 1, &params);
                if (ring < 0) {
                        perror("pinner: io_uring_setup");
                        return 1;
                }
                for (size_t i = 0; i < n; i++) {
                        size_t off = i << 30;

                        iov[i].iov_base = base + locked + off;
                        iov[i].iov_len = pinned - off < (1UL << 30) ? pinned - off : (1UL << 30);
                }
                if (syscall(__NR_io_uring_register, ring, IORING_REGISTER_BUFFERS, iov, (unsigned) n) < 0) {
                        perror("pinner: io_uring_register(IORING_REGISTER_BUFFERS)");
                        return 1;
                }
                free(iov);
        }
        signal(SIGUSR2, on_usr2);
        signal(SIGTERM, on_term);
        if (ready) {
                FILE *f = fopen(ready, "w");

                if (!f || fclose(f) != 0) {
                        perror("pinner: --ready");
                        return 1;
                }
        }
        while (!want_exit) {
                pause();
                if (want_report) {
                        char tmp[4096];
                        FILE *f;

                        want_report = 0;
                        snprintf(tmp, sizeof(tmp), "%s.tmp", report);
                        f = fopen(tmp, "w");
                        if (!f)
                                return 1;
                        fputc('{', f);
                        part(f, "mlocked", base, 0, locked, 0);
                        part(f, "pinned", base, locked, pinned, 0);
                        part(f, "plain", base, locked + pinned, size - locked - pinned, 1);
                        fputs("}\n", f);
                        if (fclose(f) != 0 || rename(tmp, report) < 0)
                                return 1;
                }
        }
        if (ring >= 0)
                close(ring);
        return 0;
}
