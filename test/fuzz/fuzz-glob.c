/* SPDX-License-Identifier: MIT */
/* config_glob_match(PATTERN, PATH): input "PATTERN\0PATH". A pattern
 * matches itself when it has no wildcard or escape, and "**" matches every
 * path. */
#include "fuzz.h"

#include "config.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        _cleanup_free_ char *pattern = NULL;
        char *path;

        if (fuzz_split(data, size, &pattern, &path) < 0)
                return 0;
        (void) config_glob_match(pattern, path);
        (void) config_glob_match(path, pattern);
        if (!strpbrk(path, "*?[\\"))
                FUZZ_CHECK(config_glob_match(path, path));
        FUZZ_CHECK(config_glob_match("**", path));
        return 0;
}
