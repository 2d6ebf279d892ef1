/* SPDX-License-Identifier: MIT */
/* control_parse_groups(): the "Groups:" line of /proc/PID/status, read
 * for a control socket client's supplementary groups. */
#include "fuzz.h"

#include <errno.h>
#include <sys/types.h>

#include "control.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        _cleanup_free_ char *text = fuzz_strdup(data, size);
        _cleanup_free_ gid_t *groups = NULL;
        size_t n = SIZE_MAX;
        int r;

        if (!text)
                return 0;
        r = control_parse_groups(text, &groups, &n);
        FUZZ_CHECK(r >= 0 || r == -EINVAL || r == -ENOMEM || r == -ENOENT); /* -ENOENT: no Groups: line */
        if (r >= 0)
                FUZZ_CHECK(n == 0 || groups);
        return 0;
}
