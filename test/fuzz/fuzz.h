/* SPDX-License-Identifier: MIT */
/* Shared bits of the libFuzzer targets (test/fuzz/fuzz-*.c). Each target
 * feeds one parser with the input as a NUL-terminated string in its own
 * heap block of exactly the input's size + 1, so that ASan catches a read
 * past the terminator. FUZZ_CHECK() is for properties a parser promises
 * (a round trip, an output in range): a failure aborts, which libFuzzer
 * reports as a crash with the reproducer. */
#pragma once

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FUZZ_CHECK(cond)                                                                      \
        do {                                                                                  \
                if (!(cond)) {                                                                \
                        fprintf(stderr, "%s:%d: property failed: %s\n", __FILE__, __LINE__, #cond); \
                        abort();                                                              \
                }                                                                             \
        } while (0)

/* The input as a C string (an embedded NUL ends it early, as it would for
 * the text of a file read by read_full_file()). NULL on allocation failure. */
static inline char *fuzz_strdup(const uint8_t *data, size_t size) {
        char *s = malloc(size + 1);

        if (!s)
                return NULL;
        memcpy(s, data, size);
        s[size] = '\0';
        return s;
}

/* Splits the input at its first NUL into two strings (the second "" when
 * there is none); both in one block freed with free(*ret_first). */
static inline int fuzz_split(const uint8_t *data, size_t size, char **ret_first, char **ret_second) {
        char *s = fuzz_strdup(data, size), *nul;

        if (!s)
                return -1;
        nul = memchr(s, '\0', size);
        *ret_first = s;
        *ret_second = nul && nul < s + size ? nul + 1 : s + size;
        return 0;
}
