/* SPDX-License-Identifier: MIT */
/* cgroup_parse_events(): cgroup.events text. */
#include "fuzz.h"

#include <errno.h>

#include "cgroup.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        _cleanup_free_ char *text = fuzz_strdup(data, size);
        CgroupEvents ev;
        int r;

        if (!text)
                return 0;
        r = cgroup_parse_events(text, &ev);
        FUZZ_CHECK(r == 0 || r == -EINVAL);
        if (r == 0)
                FUZZ_CHECK(strstr(text, "populated"));
        return 0;
}
