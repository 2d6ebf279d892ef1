/* SPDX-License-Identifier: MIT */
/* file-nodes: where the pages of files are, for test/vm/test-unmapped.py.
 *
 *   file-nodes FILE...
 *       maps each FILE shared and read-only with MAP_POPULATE (its page
 *       cache or tmpfs pages, as they are: a fault maps a page where it
 *       is, it moves nothing), asks move_pages(2) with no target nodes
 *       where each page is, and prints one JSON line per file:
 *       {"file": F, "pages": N, "by_node": {"0": N0, "1": N1, ...},
 *        "absent": N}
 *       (absent: pages not in memory, or an error of move_pages for them).
 * Run it after the agent stopped: mapping the pages touches them. Exit
 * status 0, or 1 when a file cannot be mapped. */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#define MAX_NODES 64
#define BATCH 4096

static int one(const char *path) {
        long page = sysconf(_SC_PAGESIZE);
        unsigned long by_node[MAX_NODES] = { 0 }, absent = 0;
        void *pages[BATCH];
        int status[BATCH];
        struct stat st;
        size_t n;
        char *m;
        int fd;

        fd = open(path, O_RDONLY | O_CLOEXEC);
        if (fd < 0 || fstat(fd, &st) < 0) {
                fprintf(stderr, "file-nodes: %s: %s\n", path, strerror(errno));
                return 1;
        }
        n = ((size_t) st.st_size + (size_t) page - 1) / (size_t) page;
        m = n ? mmap(NULL, n * (size_t) page, PROT_READ, MAP_SHARED | MAP_POPULATE, fd, 0) : NULL;
        close(fd);
        if (m == MAP_FAILED) {
                fprintf(stderr, "file-nodes: cannot map %s: %s\n", path, strerror(errno));
                return 1;
        }
        for (size_t i = 0; i < n; i += BATCH) {
                size_t k = n - i < BATCH ? n - i : BATCH;

                for (size_t j = 0; j < k; j++)
                        pages[j] = m + (i + j) * (size_t) page;
                if (syscall(SYS_move_pages, 0, (unsigned long) k, pages, NULL, status, 0) < 0) {
                        absent += k;
                        continue;
                }
                for (size_t j = 0; j < k; j++) {
                        if (status[j] >= 0 && status[j] < MAX_NODES)
                                by_node[status[j]]++;
                        else
                                absent++;
                }
        }
        if (n)
                munmap(m, n * (size_t) page);
        printf("{\"file\": \"%s\", \"pages\": %zu, \"by_node\": {", path, n);
        for (int i = 0, first = 1; i < MAX_NODES; i++)
                if (by_node[i]) {
                        printf("%s\"%d\": %lu", first ? "" : ", ", i, by_node[i]);
                        first = 0;
                }
        printf("}, \"absent\": %lu}\n", absent);
        return 0;
}

int main(int argc, char **argv) {
        int rc = 0;

        if (argc < 2) {
                fprintf(stderr, "usage: file-nodes FILE...\n");
                return 2;
        }
        for (int i = 1; i < argc; i++)
                rc |= one(argv[i]);
        return rc;
}
