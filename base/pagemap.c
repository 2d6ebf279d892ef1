/* SPDX-License-Identifier: MIT */
#include "pagemap.h"

#include <errno.h>

bool pagemap_pfn(uint64_t entry, uint64_t *ret_pfn) {
        uint64_t pfn = entry & PAGEMAP_PFN_MASK;

        if (!(entry & PAGEMAP_PRESENT) || (entry & PAGEMAP_SWAPPED) || pfn == 0)
                return false;
        *ret_pfn = pfn;
        return true;
}

int pagemap_present(int fd, uint64_t start, uint64_t end, PagemapRegion *regions, size_t max, uint64_t *ret_next) {
        /* present and, inverted, not the zero page: all the masked
         * categories must match */
        PagemapScanArg a = {
                .size = sizeof(a),
                .start = start,
                .end = end,
                .vec = (uint64_t) (uintptr_t) regions,
                .vec_len = max,
                .category_inverted = PAGEMAP_IS_PFNZERO,
                .category_mask = PAGEMAP_IS_PRESENT | PAGEMAP_IS_PFNZERO,
                .return_mask = PAGEMAP_IS_PRESENT,
        };
        int n;

        if (max == 0 || start >= end)
                return -EINVAL;
        do
                n = ioctl(fd, PAGEMAP_SCAN_IOCTL, &a);
        while (n < 0 && errno == EINTR);
        if (n < 0)
                return -errno;
        if ((size_t) n > max || a.walk_end > end || a.walk_end <= start)
                return -EIO; /* no progress, or more than asked */
        *ret_next = a.walk_end;
        return n;
}
