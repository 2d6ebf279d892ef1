/* SPDX-License-Identifier: MIT */
/* cgroup_parse_procs(): cgroup.procs text, one pid per line. Every pid
 * is positive; no pids is a NULL array. */
#include "fuzz.h"

#include <errno.h>
#include <sys/types.h>

#include "cgroup.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        _cleanup_free_ char *text = fuzz_strdup(data, size);
        _cleanup_free_ pid_t *pids = NULL;
        size_t n = SIZE_MAX;
        int r;

        if (!text)
                return 0;
        r = cgroup_parse_procs(text, &pids, &n);
        FUZZ_CHECK(r >= 0 || r == -EINVAL || r == -ENOMEM);
        if (r >= 0) {
                FUZZ_CHECK((n == 0) == (pids == NULL));
                for (size_t i = 0; i < n; i++)
                        FUZZ_CHECK(pids[i] > 0);
        }
        return 0;
}
