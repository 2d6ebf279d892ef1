/* SPDX-License-Identifier: MIT */
/* parse_id_list(): kernel id lists ("0-3,8"), as in the tier nodelists
 * (memory_tierN/nodelist, has_memory) and the configuration's tiers. A
 * parsed mask prints back (format_id_list) to a list that parses to the
 * same mask. */
#include "fuzz.h"

#include <errno.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        _cleanup_free_ char *text = fuzz_strdup(data, size);
        uint64_t mask = 0, again = 0;
        char buf[256];
        int r;

        if (!text)
                return 0;
        r = parse_id_list(text, &mask);
        FUZZ_CHECK(r == 0 || r == -EINVAL || r == -ERANGE);
        if (r < 0)
                return 0;
        FUZZ_CHECK(format_id_list(mask, buf, sizeof(buf)) >= 0);
        FUZZ_CHECK(parse_id_list(buf, &again) == 0);
        FUZZ_CHECK(again == mask);
        return 0;
}
