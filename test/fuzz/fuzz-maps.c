/* SPDX-License-Identifier: MIT */
/* idle_maps_parse_line() on each line of a /proc/PID/maps text: a
 * sampled mapping has start < end, both page aligned. */
#include "fuzz.h"

#include <errno.h>

#include "idle_page.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        _cleanup_free_ char *text = fuzz_strdup(data, size);
        char *line, *save = NULL;

        if (!text)
                return 0;
        for (line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
                uint64_t start = 1, end = 0;
                int r;

                r = idle_maps_parse_line(line, &start, &end);
                FUZZ_CHECK(r == 0 || r == 1 || r == -EINVAL);
                if (r == 1)
                        FUZZ_CHECK(start < end && start % IDLE_PAGE_SIZE == 0 && end % IDLE_PAGE_SIZE == 0);
        }
        return 0;
}
