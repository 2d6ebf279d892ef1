/* SPDX-License-Identifier: MIT */
/* idle-oracle: which pages of a running process are really accessed, and
 * where they are; and what move_pages(2) says of its pages, for
 * test/vm/test-redis.py (a real application, whose hot set nobody wrote
 * down). Root only (PFNs in /proc/PID/pagemap, the idle page bitmap).
 *
 *   idle-oracle accessed --pid PID [--wait S]
 *       The present anonymous pages of PID (pagemap: present, not a file
 *       or shared page) are marked idle in /sys/kernel/mm/page_idle/bitmap;
 *       a page page_idle does not track (off the LRU or the zero page, by
 *       /proc/kpageflags, or in the last partial word of the bitmap) is
 *       "untracked" and left out. The bits are read back after S seconds
 *       (default 5): a page whose bit the kernel cleared was accessed
 *       meanwhile. Those pages' nodes come from
 *       move_pages(2) with nodes NULL. Prints
 *       {"pid", "wait_s", "anon_pages", "untracked_pages",
 *        "accessed_pages", "accessed_by_node": COUNTS,
 *        "anon_by_node": COUNTS, "accessed_elsewhere": [[START, END, PAGES,
 *        MAPPING]...]}
 *       COUNTS: {"0": pages, "1": pages, ..., "absent", "error"}.
 *       accessed_elsewhere: where the accessed pages not on node 0 are:
 *       ranges of accessed pages (each less than 64 KiB from the last, in
 *       one mapping) that hold some, with how many, the first 64 ranges,
 *       and the mapping's name ([anon] for an unnamed one).
 *
 *   idle-oracle move --pid PID --node N
 *       Asks move_pages(2) to move every present page of PID's mappings
 *       that tierd's idle_page scanner samples (readable, no [vdso] and
 *       such, no device files) that is not on node N to N, and prints
 *       what it answered, page by page, summed by mapping and outcome:
 *       {"pid", "node", "present_pages", "on_node", "tried_pages",
 *        "moved_pages", "failed_pages",
 *        "failed": [{"mapping", "kind": "anon"|"file", "status": "EACCES",
 *                    "at": "move"|"query", "pages", "mapcount_max"}...]}
 *       at: query for a page whose status query already failed (EFAULT:
 *       an address mapped to the zero page, which move_pages(2) refuses to
 *       move as well), move for a page the move refused.
 *       status: EACCES, EBUSY, EFAULT, ENOENT, ENOMEM, ... as move_pages(2)
 *       put it, "not-migrated" for a page of a batch migrate_pages() gave
 *       up on (move_pages returned a count), "nodeK" for one left on K.
 *       mapcount_max: the largest /proc/kpagecount of those pages (how
 *       many mappings a page has: move_pages without MPOL_MF_MOVE_ALL
 *       answers EACCES for a page mapped by more than one process).
 *
 * Statically linked, no library beyond libc: a helper that must not be a
 * part of what it measures (no shared library pages in common with the
 * measured process). Exit status: 0 ok, 1 failure, 2 bad usage. */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#define PAGE 4096UL
#define PM_PRESENT (1ULL << 63)
#define PM_FILE (1ULL << 61)
#define PM_PFN_MASK ((1ULL << 55) - 1)
#define MAX_NODES 64
#define KPF_LRU (1ULL << 5)
#define KPF_ZERO_PAGE (1ULL << 24)
#define CHUNK 4096
/* a page of a batch that migrate_pages() gave up on (move_pages returned
 * the number of pages not migrated) and that is still elsewhere */
#define NOT_MIGRATED (INT32_MIN + 1)

typedef struct Counts {
        uint64_t node[MAX_NODES];
        uint64_t absent, error;
} Counts;

typedef struct Page {
        uint64_t addr, pfn;
        bool file;
        int map; /* index into the mapping names */
} Page;

typedef struct Fail {
        int map, status;
        bool file, query;
        uint64_t pages, mapcount_max;
} Fail;

static Page *pages;
static size_t n_pages, cap_pages;
static char **maps;
static size_t n_maps;

static long sys_move_pages(int pid, unsigned long count, void **addrs, const int *nodes, int *status, int flags) {
        return syscall(SYS_move_pages, pid, count, addrs, nodes, status, flags);
}

static void counts_add(Counts *c, int status) {
        if (status >= 0 && status < MAX_NODES)
                c->node[status]++;
        else if (status == -ENOENT)
                c->absent++;
        else
                c->error++;
}

static void counts_print(const char *key, const Counts *c) {
        printf("\"%s\": {", key);
        for (int i = 0; i < MAX_NODES; i++)
                if (c->node[i])
                        printf("\"%d\": %" PRIu64 ", ", i, c->node[i]);
        printf("\"absent\": %" PRIu64 ", \"error\": %" PRIu64 "}", c->absent, c->error);
}

/* The mappings tierd's idle_page scanner samples (scanner/idle_page.c,
 * idle_maps_parse_line): readable, not the kernel's special mappings but
 * the process's own memory, not device files. */
static bool sampled(const char *perms, const char *name) {
        if (perms[0] != 'r')
                return false;
        if (name[0] == '[')
                return strncmp(name, "[heap]", 6) == 0 || strncmp(name, "[stack", 6) == 0 ||
                       strncmp(name, "[anon:", 6) == 0 || strncmp(name, "[anon_shmem:", 12) == 0;
        if (strncmp(name, "/dev/", 5) == 0)
                return strncmp(name, "/dev/zero", 9) == 0 || strncmp(name, "/dev/shm/", 9) == 0;
        return strncmp(name, "/anon_hugepage", 14) != 0;
}

static int add_page(uint64_t addr, uint64_t pfn, bool file, int map) {
        if (n_pages == cap_pages) {
                size_t cap = cap_pages ? cap_pages * 2 : 65536;
                Page *p = realloc(pages, cap * sizeof(*p));

                if (!p)
                        return -ENOMEM;
                pages = p;
                cap_pages = cap;
        }
        pages[n_pages++] = (Page) { .addr = addr, .pfn = pfn, .file = file, .map = map };
        return 0;
}

/* Collects PID's present pages: anonymous ones only (ANON_ONLY), or all of
 * the sampled mappings. */
static int collect(int pid, bool anon_only) {
        char path[64], line[4096];
        uint64_t *pm = malloc(CHUNK * sizeof(*pm));
        FILE *f;
        int fd, r = 0;

        if (!pm)
                return -ENOMEM;
        snprintf(path, sizeof(path), "/proc/%d/maps", pid);
        f = fopen(path, "re");
        snprintf(path, sizeof(path), "/proc/%d/pagemap", pid);
        fd = open(path, O_RDONLY | O_CLOEXEC);
        if (!f || fd < 0) {
                r = -errno;
                goto out;
        }
        while (fgets(line, sizeof(line), f)) {
                unsigned long long start, end, off, ino;
                char perms[8], dev[32], *name;
                int at = -1;

                line[strcspn(line, "\n")] = '\0';
                if (sscanf(line, "%llx-%llx %7s %llx %31s %llu %n", &start, &end, perms, &off, dev, &ino, &at) < 6 ||
                    at < 0)
                        continue;
                name = line + at;
                if (strcmp(name, "[vsyscall]") == 0 || strcmp(name, "[vvar]") == 0 || strcmp(name, "[vdso]") == 0)
                        continue;
                if (!anon_only && !sampled(perms, name))
                        continue;
                if (n_maps % 64 == 0) {
                        char **m = realloc(maps, (n_maps + 64) * sizeof(*m));

                        if (!m) {
                                r = -ENOMEM;
                                goto out;
                        }
                        maps = m;
                }
                maps[n_maps] = strdup(name[0] ? name : "[anon]");
                if (!maps[n_maps]) {
                        r = -ENOMEM;
                        goto out;
                }
                n_maps++;
                for (uint64_t a = start; a < end; a += CHUNK * PAGE) {
                        uint64_t k = (end - a) / PAGE < CHUNK ? (end - a) / PAGE : CHUNK;
                        ssize_t got = pread(fd, pm, k * sizeof(*pm), (off_t) (a / PAGE * sizeof(*pm)));

                        if (got < 0) {
                                r = -errno;
                                goto out;
                        }
                        for (uint64_t i = 0; i < (uint64_t) got / sizeof(*pm); i++) {
                                bool file = pm[i] & PM_FILE;

                                if (!(pm[i] & PM_PRESENT) || (anon_only && file))
                                        continue;
                                r = add_page(a + i * PAGE, pm[i] & PM_PFN_MASK, file, (int) n_maps - 1);
                                if (r < 0)
                                        goto out;
                        }
                }
        }
out:
        if (f)
                fclose(f);
        if (fd >= 0)
                close(fd);
        free(pm);
        return r;
}

/* Where each of the pages is (move_pages with nodes NULL). */
static int query(int pid, const size_t *idx, size_t n, int *status) {
        void **addrs = malloc(CHUNK * sizeof(*addrs));

        if (!addrs)
                return -ENOMEM;
        for (size_t i = 0; i < n; i += CHUNK) {
                size_t k = n - i < CHUNK ? n - i : CHUNK;

                for (size_t j = 0; j < k; j++)
                        addrs[j] = (void *) (uintptr_t) pages[idx ? idx[i + j] : i + j].addr;
                if (sys_move_pages(pid, k, addrs, NULL, status + i, 0) < 0) {
                        int r = -errno;

                        free(addrs);
                        return r;
                }
        }
        free(addrs);
        return 0;
}

static void json_string(const char *s) {
        putchar('"');
        for (; *s; s++) {
                unsigned char ch = (unsigned char) *s;

                if (ch == '"' || ch == '\\')
                        printf("\\%c", ch);
                else if (ch < 0x20)
                        printf("\\u%04x", ch);
                else
                        putchar(ch);
        }
        putchar('"');
}

typedef struct Bitmap {
        int fd;
        uint64_t first; /* the first PFN word */
        size_t words;
        uint64_t *bits;
} Bitmap;

static bool bit(const Bitmap *b, uint64_t pfn) {
        return (b->bits[pfn / 64 - b->first] >> (pfn % 64)) & 1;
}

/* Reads or writes the words of B; returns how many the kernel took: the
 * last 64 PFNs of memory, when max_pfn is not a multiple of 64, are a word
 * page_idle neither reads nor writes (it answers 0 bytes for it). */
static ssize_t bitmap_io(Bitmap *b, bool write) {
        size_t len = b->words * sizeof(uint64_t), done = 0;

        while (done < len) {
                ssize_t k = write ? pwrite(b->fd, (char *) b->bits + done, len - done,
                                           (off_t) (b->first * sizeof(uint64_t) + done))
                                  : pread(b->fd, (char *) b->bits + done, len - done,
                                          (off_t) (b->first * sizeof(uint64_t) + done));

                if (k < 0)
                        return -errno;
                if (k == 0)
                        break;
                done += (size_t) k;
        }
        return (ssize_t) (done / sizeof(uint64_t));
}

static int cmd_accessed(int pid, unsigned wait_s) {
        Bitmap b = { .fd = -1 };
        uint64_t lo = UINT64_MAX, hi = 0, untracked = 0;
        size_t *acc = NULL, n_acc = 0;
        int *st_all = NULL, *st_acc = NULL, r, kfd;
        ssize_t w = 0, rd = 0;
        Counts c_all = { 0 }, c_acc = { 0 };

        r = collect(pid, true);
        if (r < 0) {
                fprintf(stderr, "idle-oracle: pid %d: reading its maps and pagemap: %s\n", pid, strerror(-r));
                return 1;
        }
        for (size_t i = 0; i < n_pages; i++) {
                if (pages[i].pfn < lo)
                        lo = pages[i].pfn;
                if (pages[i].pfn > hi)
                        hi = pages[i].pfn;
        }
        if (n_pages > 0 && hi == 0) {
                fprintf(stderr, "idle-oracle: pagemap shows no PFNs (not root?)\n");
                return 1;
        }
        if (n_pages > 0) {
                b.first = lo / 64;
                b.words = (size_t) (hi / 64 - lo / 64 + 1);
                b.bits = calloc(b.words, sizeof(uint64_t));
                acc = malloc(n_pages * sizeof(*acc));
                st_all = malloc(n_pages * sizeof(*st_all));
                st_acc = malloc(n_pages * sizeof(*st_acc));
                b.fd = open("/sys/kernel/mm/page_idle/bitmap", O_RDWR | O_CLOEXEC);
                if (!b.bits || !acc || !st_all || !st_acc || b.fd < 0) {
                        fprintf(stderr, "idle-oracle: the idle page bitmap: %s\n", strerror(errno));
                        return 1;
                }
                /* untracked: pages page_idle does not track (off the
                 * LRU, the zero page: /proc/kpageflags) */
                kfd = open("/proc/kpageflags", O_RDONLY | O_CLOEXEC);
                if (kfd < 0) {
                        fprintf(stderr, "idle-oracle: /proc/kpageflags: %s\n", strerror(errno));
                        return 1;
                }
                for (size_t i = 0; i < n_pages; i++) {
                        uint64_t fl = 0;

                        if (pread(kfd, &fl, sizeof(fl), (off_t) (pages[i].pfn * sizeof(fl))) != (ssize_t) sizeof(fl) ||
                            !(fl & KPF_LRU) || (fl & KPF_ZERO_PAGE)) {
                                pages[i].pfn = UINT64_MAX;
                                untracked++;
                        }
                }
                close(kfd);
                /* mark (only set bits mark: the others are left alone) */
                for (size_t i = 0; i < n_pages; i++)
                        if (pages[i].pfn != UINT64_MAX)
                                b.bits[pages[i].pfn / 64 - b.first] |= 1ULL << (pages[i].pfn % 64);
                w = bitmap_io(&b, true);
                if (w < 0) {
                        fprintf(stderr, "idle-oracle: the idle page bitmap: %s\n", strerror((int) -w));
                        return 1;
                }
        }
        sleep(wait_s);
        if (n_pages > 0) {
                memset(b.bits, 0, b.words * sizeof(uint64_t));
                rd = bitmap_io(&b, false);
                if (rd < 0) {
                        fprintf(stderr, "idle-oracle: the idle page bitmap: %s\n", strerror((int) -rd));
                        return 1;
                }
                /* beyond what the kernel wrote or read: untracked */
                for (size_t i = 0; i < n_pages; i++)
                        if (pages[i].pfn != UINT64_MAX &&
                            (pages[i].pfn / 64 - b.first >= (uint64_t) w || pages[i].pfn / 64 - b.first >= (uint64_t) rd)) {
                                pages[i].pfn = UINT64_MAX;
                                untracked++;
                        }
                for (size_t i = 0; i < n_pages; i++)
                        if (pages[i].pfn != UINT64_MAX && !bit(&b, pages[i].pfn))
                                acc[n_acc++] = i;
                r = query(pid, NULL, n_pages, st_all);
                if (r >= 0)
                        r = query(pid, acc, n_acc, st_acc);
                if (r < 0) {
                        fprintf(stderr, "idle-oracle: move_pages(2) on pid %d: %s\n", pid, strerror(-r));
                        return 1;
                }
                for (size_t i = 0; i < n_pages; i++)
                        counts_add(&c_all, st_all[i]);
                for (size_t i = 0; i < n_acc; i++)
                        counts_add(&c_acc, st_acc[i]);
        }
        printf("{\"pid\": %d, \"wait_s\": %u, \"anon_pages\": %zu, \"untracked_pages\": %" PRIu64
               ", \"accessed_pages\": %zu, ",
               pid, wait_s, n_pages, untracked, n_acc);
        counts_print("accessed_by_node", &c_acc);
        printf(", ");
        counts_print("anon_by_node", &c_all);
        printf(", \"accessed_elsewhere\": [");
        for (size_t i = 0, runs = 0; i < n_acc && runs < 64;) {
                size_t j = i;
                uint64_t pages_in = 0;

                if (st_acc[i] == 0) {
                        i++;
                        continue;
                }
                /* pages in address order (maps and pagemap are) */
                while (j < n_acc && pages[acc[j]].map == pages[acc[i]].map &&
                       (j == i || pages[acc[j]].addr - pages[acc[j - 1]].addr <= 16 * PAGE)) {
                        if (st_acc[j] != 0)
                                pages_in++;
                        j++;
                }
                printf("%s[%" PRIu64 ", %" PRIu64 ", %" PRIu64 ", ", runs ? ", " : "", pages[acc[i]].addr,
                       pages[acc[j - 1]].addr + PAGE, pages_in);
                json_string(maps[pages[acc[i]].map]);
                printf("]");
                runs++;
                i = j;
        }
        printf("]}\n");
        return fflush(stdout) == 0 ? 0 : 1;
}

static const char *status_name(int s) {
        static char buf[16];

        switch (s) {
        case -EBUSY:
                return "EBUSY";
        case -EACCES:
                return "EACCES";
        case -EFAULT:
                return "EFAULT";
        case -ENOENT:
                return "ENOENT";
        case -ENOMEM:
                return "ENOMEM";
        case -EIO:
                return "EIO";
        case -EINVAL:
                return "EINVAL";
        case NOT_MIGRATED:
                return "not-migrated";
        default:
                if (s >= 0)
                        snprintf(buf, sizeof(buf), "node%d", s);
                else
                        snprintf(buf, sizeof(buf), "errno%d", -s);
                return buf;
        }
}

static uint64_t kpagecount(int fd, uint64_t pfn) {
        uint64_t v = 0;

        if (fd < 0 || pread(fd, &v, sizeof(v), (off_t) (pfn * sizeof(v))) != (ssize_t) sizeof(v))
                return 0;
        return v;
}

static void fail_add(Fail *fails, size_t *n_fails, const Page *p, int status, bool query, int kfd) {
        size_t f;
        uint64_t mc;

        for (f = 0; f < *n_fails; f++)
                if (fails[f].map == p->map && fails[f].status == status && fails[f].file == p->file &&
                    fails[f].query == query)
                        break;
        if (f == *n_fails)
                fails[(*n_fails)++] = (Fail) { .map = p->map, .status = status, .file = p->file, .query = query };
        fails[f].pages++;
        mc = kpagecount(kfd, p->pfn);
        if (mc > fails[f].mapcount_max)
                fails[f].mapcount_max = mc;
}

static int cmd_move(int pid, int node) {
        size_t *todo, n_todo = 0, n_fails = 0;
        int *status, *nodes, r, kfd;
        uint64_t on_node = 0, moved = 0, failed = 0;
        void **addrs;
        Fail *fails;

        r = collect(pid, false);
        if (r < 0) {
                fprintf(stderr, "idle-oracle: pid %d: reading its maps and pagemap: %s\n", pid, strerror(-r));
                return 1;
        }
        todo = malloc((n_pages + 1) * sizeof(*todo));
        status = malloc((n_pages + 1) * sizeof(*status));
        nodes = malloc(CHUNK * sizeof(*nodes));
        addrs = malloc(CHUNK * sizeof(*addrs));
        fails = calloc(n_pages + 1, sizeof(*fails));
        if (!todo || !status || !nodes || !addrs || !fails)
                return 1;
        r = query(pid, NULL, n_pages, status);
        if (r < 0) {
                fprintf(stderr, "idle-oracle: move_pages(2) on pid %d: %s\n", pid, strerror(-r));
                return 1;
        }
        kfd = open("/proc/kpagecount", O_RDONLY | O_CLOEXEC);
        for (size_t i = 0; i < n_pages; i++) {
                if (status[i] == node)
                        on_node++;
                else if (status[i] >= 0)
                        todo[n_todo++] = i;
                else if (status[i] != -ENOENT) {
                        /* refused already where it is (EFAULT: the zero page) */
                        fail_add(fails, &n_fails, &pages[i], status[i], true, kfd);
                        failed++;
                }
        }
        for (size_t j = 0; j < CHUNK; j++)
                nodes[j] = node;
        for (size_t i = 0; i < n_todo; i += CHUNK) {
                size_t k = n_todo - i < CHUNK ? n_todo - i : CHUNK;

                for (size_t j = 0; j < k; j++) {
                        addrs[j] = (void *) (uintptr_t) pages[todo[i + j]].addr;
                        status[j] = INT32_MIN;
                }
                long m = sys_move_pages(pid, k, addrs, nodes, status, 1 << 1 /* MPOL_MF_MOVE */);

                if (m < 0) {
                        fprintf(stderr, "idle-oracle: move_pages(2) on pid %d: %s\n", pid, strerror(errno));
                        return 1;
                }
                if (m > 0) {
                        /* migrate_pages() failed part way: the kernel gave
                         * up and left the rest of the statuses unset; where
                         * are those pages now? */
                        int *now = malloc(k * sizeof(*now));

                        if (!now || sys_move_pages(pid, k, addrs, NULL, now, 0) < 0) {
                                fprintf(stderr, "idle-oracle: move_pages(2) on pid %d: %s\n", pid, strerror(errno));
                                return 1;
                        }
                        for (size_t j = 0; j < k; j++)
                                if (status[j] == INT32_MIN || status[j] == node)
                                        status[j] = now[j] == node ? node : NOT_MIGRATED;
                        free(now);
                }
                for (size_t j = 0; j < k; j++) {
                        const Page *p = &pages[todo[i + j]];

                        if (status[j] == node) {
                                moved++;
                                continue;
                        }
                        failed++;
                        fail_add(fails, &n_fails, p, status[j], false, kfd);
                }
        }
        if (kfd >= 0)
                close(kfd);
        printf("{\"pid\": %d, \"node\": %d, \"present_pages\": %zu, \"on_node\": %" PRIu64 ", \"tried_pages\": %zu, "
               "\"moved_pages\": %" PRIu64 ", \"failed_pages\": %" PRIu64 ", \"failed\": [",
               pid, node, n_pages, on_node, n_todo, moved, failed);
        for (size_t f = 0; f < n_fails; f++) {
                printf("%s{\"mapping\": ", f ? ", " : "");
                json_string(maps[fails[f].map]);
                printf(", \"kind\": \"%s\", \"status\": \"%s\", \"at\": \"%s\", \"pages\": %" PRIu64
                       ", \"mapcount_max\": %" PRIu64 "}",
                       fails[f].file ? "file" : "anon", status_name(fails[f].status), fails[f].query ? "query" : "move",
                       fails[f].pages, fails[f].mapcount_max);
        }
        printf("]}\n");
        return fflush(stdout) == 0 ? 0 : 1;
}

static int usage(const char *msg) {
        fprintf(stderr, "idle-oracle: %s (see the head of test/helpers/idle-oracle.c)\n", msg);
        return 2;
}

static int parse_int(const char *s, long max, long *ret) {
        char *end;
        long v;

        errno = 0;
        v = strtol(s, &end, 10);
        if (*s == '\0' || *end || errno || v < 0 || v > max)
                return -EINVAL;
        *ret = v;
        return 0;
}

int main(int argc, char **argv) {
        static const struct option opts[] = {
                { "pid", required_argument, NULL, 'p' },
                { "wait", required_argument, NULL, 'w' },
                { "node", required_argument, NULL, 'n' },
                {},
        };
        long pid = -1, wait_s = 5, node = -1;
        const char *cmd;
        int c;

        if (argc < 2)
                return usage("no command (accessed or move)");
        cmd = argv[1];
        optind = 2;
        while ((c = getopt_long(argc, argv, "", opts, NULL)) >= 0) {
                switch (c) {
                case 'p':
                        if (parse_int(optarg, INT32_MAX, &pid) < 0)
                                return usage("--pid takes a process id");
                        break;
                case 'w':
                        if (parse_int(optarg, 3600, &wait_s) < 0)
                                return usage("--wait takes seconds, at most 3600");
                        break;
                case 'n':
                        if (parse_int(optarg, MAX_NODES - 1, &node) < 0)
                                return usage("--node takes a node number");
                        break;
                default:
                        return usage("unknown option");
                }
        }
        if (optind != argc)
                return usage("unexpected arguments");
        if (pid <= 0)
                return usage("--pid is needed");
        if (strcmp(cmd, "accessed") == 0)
                return cmd_accessed((int) pid, (unsigned) wait_s);
        if (strcmp(cmd, "move") == 0) {
                if (node < 0)
                        return usage("move needs --node");
                return cmd_move((int) pid, (int) node);
        }
        return usage("the command is accessed or move");
}
