/* SPDX-License-Identifier: MIT */
/* cgroup_parse_memory_stat(): memory.stat text. A field not present
 * stays 0. */
#include "fuzz.h"

#include <errno.h>

#include "cgroup.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        _cleanup_free_ char *text = fuzz_strdup(data, size);
        CgroupMemoryStat st;
        int r;

        if (!text)
                return 0;
        r = cgroup_parse_memory_stat(text, &st);
        FUZZ_CHECK(r == 0 || r == -EINVAL || r == -ERANGE); /* -ERANGE: a count beyond 64 bits */
        if (r == 0)
                for (int f = 0; f < _CGROUP_STAT_FIELD_MAX; f++) {
                        FUZZ_CHECK(cgroup_stat_field_to_string((CgroupStatField) f));
                        if (!(st.present & (1u << f)))
                                FUZZ_CHECK(cgroup_memory_stat_get(&st, (CgroupStatField) f) == 0);
                }
        return 0;
}
