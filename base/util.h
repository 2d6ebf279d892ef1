/* SPDX-License-Identifier: MIT */
/* Small helpers shared by every tierd module: cleanup attributes, file
 * reading relative to a root, number and list parsing. Functions return
 * >= 0 on success and -errno on failure; outputs come last as ret_*. */
#pragma once

#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#define _cleanup_(f) __attribute__((cleanup(f)))
#define _printf_(a, b) __attribute__((format(printf, a, b)))
#define _unused_ __attribute__((unused))
#define ELEMENTSOF(x) (sizeof(x) / sizeof((x)[0]))

/* A malloc'd message for *RET_ERROR (nothing when RET_ERROR is NULL);
 * returns ERROR, or -ENOMEM when the message could not be made. */
int set_error_message(char **ret_error, int error, const char *fmt, ...) _printf_(3, 4);

static inline uint64_t min_u64(uint64_t x, uint64_t y) { return x < y ? x : y; }
static inline uint64_t max_u64(uint64_t x, uint64_t y) { return x > y ? x : y; }

static inline void freep(void *p) { free(*(void **)p); }
static inline void closep(int *fd) { if (*fd >= 0) close(*fd); }
static inline void fclosep(FILE **f) { if (*f) fclose(*f); }
#define _cleanup_free_ _cleanup_(freep)
#define _cleanup_close_ _cleanup_(closep)
#define _cleanup_fclose_ _cleanup_(fclosep)

/* Hand ownership of *p to the caller and leave NULL behind. */
#define TAKE_PTR(p) ({ __typeof__(p) _p = (p); (p) = NULL; _p; })
#define TAKE_FD(fd) ({ int _fd = (fd); (fd) = -1; _fd; })

/* qsort() that accepts an empty array given as NULL (which qsort itself
 * must not be passed) and skips the call when there is nothing to order. */
static inline void qsort_safe(void *base, size_t n, size_t size, int (*cmp)(const void *, const void *)) {
        if (n > 1)
                qsort(base, n, size, cmp);
}

/* Join root and path ("/sys" style absolute path); root may be NULL or "". */
int path_join_root(const char *root, const char *path, char **ret);

/* Read everything from FD into a NUL-terminated buffer; -EFBIG past about
 * MAX bytes. */
int read_full_fd(int fd, size_t max, char **ret_data, size_t *ret_size);

/* Read a whole (small, at most 64 MiB) file into a NUL-terminated buffer. */
int read_full_file(const char *root, const char *path, char **ret_data, size_t *ret_size);

/* Read the first line of a file, without the trailing newline. */
int read_one_line(const char *root, const char *path, char **ret_line);

bool file_exists(const char *root, const char *path);

/* Unsigned decimal, all of s (surrounding whitespace allowed). */
int parse_u64(const char *s, uint64_t *ret);

/* A duration: a decimal number and a unit, "500ms", "10s", "1.5s", "2m",
 * "1h" (units ms, s, m, h), into milliseconds rounded to the nearest one
 * (digits past the ninth after the point are ignored). A bare number is in
 * units of BARE_UNIT_MS (1000: seconds, the old form of some options); with
 * BARE_UNIT_MS 0 it is refused. No sign, no spaces. -EINVAL: not a duration
 * (empty, a sign, an unknown unit, trailing garbage); -EDOM: a bare number
 * where a unit is needed; -ERANGE: more than UINT64_MAX ms. *RET_MS is
 * untouched on error. */
int parse_duration_ms(const char *s, uint64_t bare_unit_ms, uint64_t *ret_ms);
/* What a parse_duration_ms() error means, to follow the value in a message:
 * "is not a duration (like 500ms, 10s, 2m or 1h)", "has no unit (...)",
 * "is too large". */
const char *duration_error(int error);

/* MS in the largest unit that holds it exactly ("1h", "90s", "1500ms",
 * "0ms"), as parse_duration_ms() reads it back; into buf. */
const char *format_duration_ms(uint64_t ms, char *buf, size_t size);

/* A kernel list like "0-3,8,10-11" into a bitmask of up to 64 ids;
 * an empty string is an empty set. */
int parse_id_list(const char *s, uint64_t *ret_mask);

/* Format a 64-bit id mask as a kernel-style list into buf. */
int format_id_list(uint64_t mask, char *buf, size_t size);

/* Length (1 to 4) of the printable UTF-8 character that S starts with,
 * or 0 when S starts with a byte that begins none: invalid UTF-8 (a stray
 * continuation byte, an overlong form, a surrogate, beyond U+10FFFF, a
 * truncated sequence), a C0 control (newline and tab included), DEL, or a
 * C1 control (U+0080..U+009F). S is NUL-terminated; 0 at its end. Cgroup
 * names are bytes that anyone who may create a cgroup chooses. */
size_t utf8_printable_len(const char *s);

/* S with every byte that does not start a printable UTF-8 character
 * (utf8_printable_len() 0: controls, newline and tab included, and invalid
 * UTF-8) written as the four characters \xHH, for a terminal or a log
 * line: a cgroup name such as "\e]0;owned\a\e[2J" must reach neither raw.
 * A backslash stays itself, so systemd's escaped unit names ("\x2d") read
 * as they are. A new string; NULL when out of memory. */
char *str_printable(const char *s);
/* The same, written to F. */
void fputs_printable(const char *s, FILE *f);

/* Human-readable binary size ("1.5 GiB") into buf. */
const char *format_bytes(uint64_t bytes, char *buf, size_t size);

/* Logging: to stderr with a level prefix, or to the journal with
 * structured fields (MESSAGE, PRIORITY, TIERD_EVENT, TIERD_CGROUP,
 * TIERD_BACKEND); debug only when enabled. */
enum { LOG_LVL_ERR = 3, LOG_LVL_WARNING = 4, LOG_LVL_INFO = 6, LOG_LVL_DEBUG = 7 };
void log_set_max_level(int level);
int log_get_max_level(void);
typedef enum LogTarget {
        LOG_TARGET_AUTO,        /* the journal when stderr is its stream ($JOURNAL_STREAM) */
        LOG_TARGET_STDERR,
        LOG_TARGET_JOURNAL,
        _LOG_TARGET_INVALID = -1,
} LogTarget;
LogTarget log_target_from_string(const char *s);
/* Resolves AUTO by comparing $JOURNAL_STREAM ("DEV:INO") with stderr. */
void log_set_target(LogTarget t);
bool log_to_journal(void);
/* TIERD_BACKEND= of the journal entries that follow (NULL: none). */
void log_set_backend(const char *name);
/* Whether $JOURNAL_STREAM ("DEV:INO") names the file FD is open on. */
bool journal_stream_matches(const char *env, int fd);
/* While BUF is set (log_capture_errors(buf, size); NULL to end), error-level
 * messages are not emitted: the last one is kept in BUF (formatted, empty
 * when none came), and warnings are demoted to debug (libbpf's details).
 * For an attempt whose failure the caller survives and reports itself
 * once, at its own level, with the reason (a scanner backend that auto
 * falls back from). Info and debug are emitted as usual. */
void log_capture_errors(char *buf, size_t size);
/* Logs and returns -abs(error) so callers can `return log_error_errno(r, ...)`. */
int log_internal(int level, int error, const char *fmt, ...) _printf_(3, 4);
/* The same with the journal fields TIERD_EVENT= (EVENT) and TIERD_CGROUP=
 * (CGROUP, may be NULL). */
int log_event_internal(int level, int error, const char *event, const char *cgroup, const char *fmt, ...)
        _printf_(5, 6);
#define log_event(level, event, cgroup, ...) log_event_internal((level), 0, (event), (cgroup), __VA_ARGS__)
#define log_error(...) log_internal(LOG_LVL_ERR, 0, __VA_ARGS__)
#define log_warning(...) log_internal(LOG_LVL_WARNING, 0, __VA_ARGS__)
#define log_info(...) log_internal(LOG_LVL_INFO, 0, __VA_ARGS__)
#define log_debug(...) log_internal(LOG_LVL_DEBUG, 0, __VA_ARGS__)
#define log_error_errno(e, ...) log_internal(LOG_LVL_ERR, (e), __VA_ARGS__)
#define log_warning_errno(e, ...) log_internal(LOG_LVL_WARNING, (e), __VA_ARGS__)
#define log_debug_errno(e, ...) log_internal(LOG_LVL_DEBUG, (e), __VA_ARGS__)
