/* SPDX-License-Identifier: MIT */
/* cgroup_parse_numa_stat(): memory.numa_stat text. Counts are only for
 * the nodes listed. */
#include "fuzz.h"

#include <errno.h>

#include "cgroup.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        _cleanup_free_ char *text = fuzz_strdup(data, size);
        CgroupNumaStat st;
        int r;

        if (!text)
                return 0;
        r = cgroup_parse_numa_stat(text, &st);
        FUZZ_CHECK(r == 0 || r == -EINVAL || r == -ERANGE); /* -ERANGE: a count beyond 64 bits */
        if (r == 0)
                for (int n = 0; n < CGROUP_MAX_NODES; n++)
                        if (!(st.nodes & (UINT64_C(1) << n)))
                                FUZZ_CHECK(st.anon[n] == 0 && st.file[n] == 0);
        return 0;
}
