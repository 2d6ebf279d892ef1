/* SPDX-License-Identifier: MIT */
/* proc_parse_start_time() and proc_parse_cgroup(): /proc/PID/stat, whose
 * command name any process chooses, and /proc/PID/cgroup, whose cgroup
 * names anyone who may create a cgroup chooses; read for each listed pid
 * and before each move (base/procpid.h). The input goes to both. */
#include "fuzz.h"

#include <errno.h>
#include <stdbool.h>

#include "procpid.h"

/* Whether CG (N bytes) ends TEXT at END, right after a "0::" that begins a
 * line. */
static bool ends_line_zero(const char *text, size_t end, const char *cg, size_t n) {
        size_t p;

        if (end < n + 3)
                return false;
        p = end - n - 3;
        return memcmp(text + p, "0::", 3) == 0 && memcmp(text + p + 3, cg, n) == 0 && (p == 0 || text[p - 1] == '\n');
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        _cleanup_free_ char *text = fuzz_strdup(data, size);
        _cleanup_free_ char *cg = NULL;
        uint64_t start = 0;
        int r;

        if (!text)
                return 0;
        r = proc_parse_start_time(text, &start);
        FUZZ_CHECK(r == 0 || r == -EINVAL);
        r = proc_parse_cgroup(text, &cg);
        FUZZ_CHECK(r == 0 || r == -ENODATA || r == -ENOMEM);
        if (r == 0) {
                /* the rest of the text after a "0::" at a line's start,
                 * less one final newline */
                size_t len = strlen(text), n = strlen(cg);
                bool stripped = len > 0 && text[len - 1] == '\n' && ends_line_zero(text, len - 1, cg, n);
                bool whole = ends_line_zero(text, len, cg, n) && (n == 0 || cg[n - 1] != '\n');

                FUZZ_CHECK(stripped || whole);
        }
        return 0;
}
