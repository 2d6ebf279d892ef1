/* SPDX-License-Identifier: MIT */
#include "mover.h"

#include <errno.h>
#include <numaif.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>

int move_pages_query_self(int *ret_node) {
        long page = sysconf(_SC_PAGESIZE);
        void *pages[1];
        int status[1] = { -1 };
        char *buf;
        long r;

        buf = mmap(NULL, (size_t) page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        if (buf == MAP_FAILED)
                return -errno;
        buf[0] = 1; /* fault it in: an absent page reports -ENOENT */
        pages[0] = buf;
        /* nodes == NULL: report the node of each page, move nothing. */
        r = move_pages(0, 1, pages, NULL, status, 0);
        if (r < 0)
                r = -errno;
        munmap(buf, (size_t) page);
        if (r < 0)
                return (int) r;
        if (status[0] < 0)
                return status[0];
        *ret_node = status[0];
        return 0;
}
