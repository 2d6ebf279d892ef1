/* SPDX-License-Identifier: MIT */
#include "util.h"

#include <ctype.h>
#include <inttypes.h>
#include <fcntl.h>
#include <stdarg.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/uio.h>
/* no CODE_FILE=/CODE_LINE= of this file on every entry */
#define SD_JOURNAL_SUPPRESS_LOCATION 1
#include <systemd/sd-journal.h>

int path_join_root(const char *root, const char *path, char **ret) {
        char *p;

        if (!root || !*root || (root[0] == '/' && root[1] == '\0'))
                p = strdup(path);
        else if (asprintf(&p, "%s%s%s", root, path[0] == '/' ? "" : "/", path) < 0)
                p = NULL;
        if (!p)
                return -ENOMEM;
        *ret = p;
        return 0;
}

int read_full_fd(int fd, size_t max, char **ret_data, size_t *ret_size) {
        _cleanup_free_ char *buf = NULL;
        size_t size = 0, alloc = 0;

        for (;;) {
                ssize_t n;

                if (alloc - size < 4096) {
                        char *nb;

                        if (alloc > max)
                                return -EFBIG;
                        alloc = alloc ? alloc * 2 : 16384;
                        nb = realloc(buf, alloc);
                        if (!nb)
                                return -ENOMEM;
                        buf = nb;
                }
                n = read(fd, buf + size, alloc - size - 1);
                if (n < 0) {
                        if (errno == EINTR)
                                continue;
                        return -errno;
                }
                if (n == 0)
                        break;
                size += (size_t) n;
        }
        buf[size] = '\0';
        if (ret_size)
                *ret_size = size;
        *ret_data = TAKE_PTR(buf);
        return 0;
}

int read_full_file(const char *root, const char *path, char **ret_data, size_t *ret_size) {
        _cleanup_free_ char *full = NULL;
        _cleanup_close_ int fd = -1;
        int r;

        r = path_join_root(root, path, &full);
        if (r < 0)
                return r;
        fd = open(full, O_RDONLY | O_CLOEXEC);
        if (fd < 0)
                return -errno;
        return read_full_fd(fd, 64u << 20, ret_data, ret_size);
}

int read_one_line(const char *root, const char *path, char **ret_line) {
        _cleanup_free_ char *data = NULL;
        int r;

        r = read_full_file(root, path, &data, NULL);
        if (r < 0)
                return r;
        data[strcspn(data, "\n")] = '\0';
        *ret_line = TAKE_PTR(data);
        return 0;
}

bool file_exists(const char *root, const char *path) {
        _cleanup_free_ char *full = NULL;

        if (path_join_root(root, path, &full) < 0)
                return false;
        return access(full, F_OK) == 0;
}

int parse_u64(const char *s, uint64_t *ret) {
        unsigned long long v;
        char *end;

        while (isspace((unsigned char) *s))
                s++;
        if (!isdigit((unsigned char) *s))
                return -EINVAL;
        errno = 0;
        v = strtoull(s, &end, 10);
        if (errno == ERANGE)
                return -ERANGE;
        while (isspace((unsigned char) *end))
                end++;
        if (*end)
                return -EINVAL;
        *ret = v;
        return 0;
}

/* The unit at U (the rest of a duration after its number), in ms. */
static int duration_unit_ms(const char *u, uint64_t bare_unit_ms, uint64_t *ret) {
        static const struct { const char *name; uint64_t ms; } units[] = {
                { "ms", 1 }, { "s", 1000 }, { "m", 60 * 1000 }, { "h", 3600 * 1000 },
        };

        if (*u == '\0') {
                if (bare_unit_ms == 0)
                        return -EDOM;
                *ret = bare_unit_ms;
                return 0;
        }
        for (size_t i = 0; i < ELEMENTSOF(units); i++)
                if (strcmp(u, units[i].name) == 0) {
                        *ret = units[i].ms;
                        return 0;
                }
        return -EINVAL;
}

int parse_duration_ms(const char *s, uint64_t bare_unit_ms, uint64_t *ret_ms) {
        uint64_t whole = 0, frac = 0, scale = 1, unit, part;
        bool overflow = false;
        const char *p = s;
        int r;

        /* the syntax first: "99999999999999999999x" is not a duration */
        if (!s || !isdigit((unsigned char) *p))
                return -EINVAL;
        for (; isdigit((unsigned char) *p); p++) {
                uint64_t d = (uint64_t) (*p - '0');

                if (overflow || whole > (UINT64_MAX - d) / 10)
                        overflow = true;
                else
                        whole = whole * 10 + d;
        }
        if (*p == '.') {
                p++;
                if (!isdigit((unsigned char) *p))
                        return -EINVAL;
                for (; isdigit((unsigned char) *p); p++)
                        if (scale < 1000000000) {
                                frac = frac * 10 + (uint64_t) (*p - '0');
                                scale *= 10;
                        }
        }
        r = duration_unit_ms(p, bare_unit_ms, &unit);
        if (r < 0)
                return r;
        if (overflow || whole > UINT64_MAX / unit)
                return -ERANGE;
        /* frac/scale of a unit, rounded; frac < scale <= 1e9, so no product
         * below overflows */
        part = frac * (unit / scale) + (frac * (unit % scale) + scale / 2) / scale;
        if (part > UINT64_MAX - whole * unit)
                return -ERANGE;
        *ret_ms = whole * unit + part;
        return 0;
}

const char *duration_error(int error) {
        switch (error) {
        case -EINVAL:
                return "is not a duration (like 500ms, 10s, 2m or 1h)";
        case -EDOM:
                return "has no unit (like 500ms, 10s, 2m or 1h)";
        case -ERANGE:
                return "is too large";
        default:
                return strerror(error < 0 ? -error : error);
        }
}

const char *format_duration_ms(uint64_t ms, char *buf, size_t size) {
        if (ms > 0 && ms % 3600000 == 0)
                snprintf(buf, size, "%" PRIu64 "h", ms / 3600000);
        else if (ms > 0 && ms % 60000 == 0)
                snprintf(buf, size, "%" PRIu64 "m", ms / 60000);
        else if (ms > 0 && ms % 1000 == 0)
                snprintf(buf, size, "%" PRIu64 "s", ms / 1000);
        else
                snprintf(buf, size, "%" PRIu64 "ms", ms);
        return buf;
}

int parse_id_list(const char *s, uint64_t *ret_mask) {
        uint64_t mask = 0;
        const char *p = s;

        while (isspace((unsigned char) *p))
                p++;
        while (*p && *p != '\n') {
                unsigned long a, b;
                char *end;

                if (!isdigit((unsigned char) *p))
                        return -EINVAL;
                a = strtoul(p, &end, 10);
                b = a;
                if (*end == '-') {
                        if (!isdigit((unsigned char) end[1]))
                                return -EINVAL;
                        b = strtoul(end + 1, &end, 10);
                }
                if (b < a || b >= 64)
                        return -ERANGE;
                for (unsigned long i = a; i <= b; i++)
                        mask |= UINT64_C(1) << i;
                p = end;
                if (*p == ',')
                        p++;
                else if (*p && *p != '\n' && !isspace((unsigned char) *p))
                        return -EINVAL;
                while (isspace((unsigned char) *p) && *p != '\n')
                        p++;
        }
        *ret_mask = mask;
        return 0;
}

int format_id_list(uint64_t mask, char *buf, size_t size) {
        size_t len = 0;

        if (size == 0)
                return -ENOBUFS;
        buf[0] = '\0';
        for (int i = 0; i < 64; i++) {
                int j = i;
                int n;

                if (!(mask & (UINT64_C(1) << i)))
                        continue;
                while (j + 1 < 64 && (mask & (UINT64_C(1) << (j + 1))))
                        j++;
                if (j == i)
                        n = snprintf(buf + len, size - len, "%s%d", len ? "," : "", i);
                else
                        n = snprintf(buf + len, size - len, "%s%d-%d", len ? "," : "", i, j);
                if (n < 0 || (size_t) n >= size - len)
                        return -ENOBUFS;
                len += (size_t) n;
                i = j;
        }
        return 0;
}

size_t utf8_printable_len(const char *s) {
        const unsigned char *u = (const unsigned char *) s;
        unsigned char lo = 0x80, hi = 0xbf;
        size_t n;

        if (u[0] < 0x80)
                return u[0] >= 0x20 && u[0] != 0x7f ? 1 : 0;
        if (u[0] >= 0xc2 && u[0] <= 0xdf) {
                n = 2;
                if (u[0] == 0xc2)
                        lo = 0xa0; /* U+0080..U+009F are the C1 controls */
        } else if (u[0] >= 0xe0 && u[0] <= 0xef) {
                n = 3;
                if (u[0] == 0xe0)
                        lo = 0xa0; /* overlong */
                else if (u[0] == 0xed)
                        hi = 0x9f; /* surrogates */
        } else if (u[0] >= 0xf0 && u[0] <= 0xf4) {
                n = 4;
                if (u[0] == 0xf0)
                        lo = 0x90; /* overlong */
                else if (u[0] == 0xf4)
                        hi = 0x8f; /* beyond U+10FFFF */
        } else
                return 0;       /* a continuation byte, 0xc0, 0xc1 or 0xf5..0xff */
        if (u[1] < lo || u[1] > hi)
                return 0;
        for (size_t i = 2; i < n; i++)
                if (u[i] < 0x80 || u[i] > 0xbf) /* the NUL at the end stops here too */
                        return 0;
        return n;
}

/* Writes S made printable to BUF, which holds 4 * strlen(S) + 1 bytes. */
static void printable_to(const char *s, char *buf) {
        static const char hex[] = "0123456789abcdef";

        while (*s) {
                size_t n = utf8_printable_len(s);

                if (n == 0) {
                        unsigned char c = (unsigned char) *s++;

                        *buf++ = '\\';
                        *buf++ = 'x';
                        *buf++ = hex[c >> 4];
                        *buf++ = hex[c & 15];
                        continue;
                }
                memcpy(buf, s, n);
                buf += n;
                s += n;
        }
        *buf = '\0';
}

char *str_printable(const char *s) {
        size_t len = strlen(s);
        char *buf;

        if (len > (SIZE_MAX - 1) / 4)
                return NULL;
        buf = malloc(4 * len + 1);
        if (buf)
                printable_to(s, buf);
        return buf;
}

void fputs_printable(const char *s, FILE *f) {
        for (const char *p = s; *p;) {
                size_t n = utf8_printable_len(p);

                if (n == 0)
                        fprintf(f, "\\x%02x", (unsigned) (unsigned char) *p++);
                else {
                        fwrite(p, 1, n, f);
                        p += n;
                }
        }
}

const char *format_bytes(uint64_t bytes, char *buf, size_t size) {
        static const char *const units[] = { "B", "KiB", "MiB", "GiB", "TiB", "PiB" };
        double v = (double) bytes;
        size_t u = 0;

        while (v >= 1024.0 && u + 1 < ELEMENTSOF(units)) {
                v /= 1024.0;
                u++;
        }
        if (u == 0)
                snprintf(buf, size, "%" PRIu64 " B", bytes);
        else
                snprintf(buf, size, "%.1f %s", v, units[u]);
        return buf;
}

static int log_max_level = LOG_LVL_INFO;
static bool log_journal;
static char log_backend[32];
static char *log_capture_buf;
static size_t log_capture_size;

void log_capture_errors(char *buf, size_t size) {
        log_capture_buf = size > 0 ? buf : NULL;
        log_capture_size = size;
        if (log_capture_buf)
                log_capture_buf[0] = '\0';
}

void log_set_max_level(int level) { log_max_level = level; }
int log_get_max_level(void) { return log_max_level; }

LogTarget log_target_from_string(const char *s) {
        if (strcmp(s, "auto") == 0)
                return LOG_TARGET_AUTO;
        if (strcmp(s, "stderr") == 0 || strcmp(s, "console") == 0)
                return LOG_TARGET_STDERR;
        if (strcmp(s, "journal") == 0)
                return LOG_TARGET_JOURNAL;
        return _LOG_TARGET_INVALID;
}

bool journal_stream_matches(const char *env, int fd) {
        unsigned long long dev, ino;
        struct stat st;
        int n = 0;

        if (!env || sscanf(env, "%llu:%llu%n", &dev, &ino, &n) != 2 || env[n] != '\0')
                return false;
        if (fstat(fd, &st) < 0)
                return false;
        return (unsigned long long) st.st_dev == dev && (unsigned long long) st.st_ino == ino;
}

void log_set_target(LogTarget t) {
        if (t == LOG_TARGET_AUTO)
                log_journal = journal_stream_matches(getenv("JOURNAL_STREAM"), STDERR_FILENO);
        else
                log_journal = t == LOG_TARGET_JOURNAL;
}

bool log_to_journal(void) { return log_journal; }

void log_set_backend(const char *name) {
        snprintf(log_backend, sizeof(log_backend), "%s", name ? name : "");
}

static int log_vemit(int level, int error, const char *event, const char *cgroup, const char *fmt, va_list ap) {
        _cleanup_free_ char *raw = NULL, *text = NULL;
        int saved = errno;

        if (error < 0)
                error = -error;
        if (level <= LOG_LVL_ERR && log_capture_buf) {
                errno = error;
                vsnprintf(log_capture_buf, log_capture_size, fmt, ap);
                errno = saved;
                return -error;
        }
        if (level == LOG_LVL_WARNING && log_capture_buf)
                level = LOG_LVL_DEBUG;
        if (level > log_max_level) {
                errno = saved;
                return -error;
        }
        /* Messages name cgroups, which anyone who may create one names:
         * bytes that are not printable UTF-8 go out as \xHH, so that a name
         * cannot drive the terminal that shows the log or forge a line. */
        errno = error;
        if (vasprintf(&raw, fmt, ap) < 0)
                raw = NULL;
        text = raw ? str_printable(raw) : NULL;
        if (log_journal) {
                _cleanup_free_ char *msg = NULL;
                char prio[16], ev[64], be[64];
                _cleanup_free_ char *cg = NULL;
                struct iovec iov[6];
                int n = 0;

                if (text && asprintf(&msg, "MESSAGE=%s", text) < 0)
                        msg = NULL;
                snprintf(prio, sizeof(prio), "PRIORITY=%d", level);
                iov[n++] = (struct iovec) { .iov_base = msg ? msg : (char *) "MESSAGE=(out of memory)",
                                            .iov_len = strlen(msg ? msg : "MESSAGE=(out of memory)") };
                iov[n++] = (struct iovec) { .iov_base = prio, .iov_len = strlen(prio) };
                iov[n++] = (struct iovec) { .iov_base = (char *) "SYSLOG_IDENTIFIER=tierd", .iov_len = 23 };
                if (event) {
                        snprintf(ev, sizeof(ev), "TIERD_EVENT=%s", event);
                        iov[n++] = (struct iovec) { .iov_base = ev, .iov_len = strlen(ev) };
                }
                if (cgroup && asprintf(&cg, "TIERD_CGROUP=%s", cgroup) >= 0)
                        iov[n++] = (struct iovec) { .iov_base = cg, .iov_len = strlen(cg) };
                if (log_backend[0]) {
                        snprintf(be, sizeof(be), "TIERD_BACKEND=%s", log_backend);
                        iov[n++] = (struct iovec) { .iov_base = be, .iov_len = strlen(be) };
                }
                if (sd_journal_sendv(iov, n) >= 0) {
                        errno = saved;
                        return -error;
                }
                /* the journal is gone: fall back to stderr */
        }
        {
                const char *prefix = level <= LOG_LVL_ERR ? "error: " :
                                     level == LOG_LVL_WARNING ? "warning: " :
                                     level >= LOG_LVL_DEBUG ? "debug: " : "";
                fprintf(stderr, "tierd: %s%s\n", prefix, text ? text : "(out of memory)");
        }
        errno = saved;
        return -error;
}

int log_internal(int level, int error, const char *fmt, ...) {
        va_list ap;
        int r;

        va_start(ap, fmt);
        r = log_vemit(level, error, NULL, NULL, fmt, ap);
        va_end(ap);
        return r;
}

int log_event_internal(int level, int error, const char *event, const char *cgroup, const char *fmt, ...) {
        va_list ap;
        int r;

        va_start(ap, fmt);
        r = log_vemit(level, error, event, cgroup, fmt, ap);
        va_end(ap);
        return r;
}

int set_error_message(char **ret_error, int error, const char *fmt, ...) {
        va_list ap;
        int r;

        if (!ret_error)
                return error;
        va_start(ap, fmt);
        r = vasprintf(ret_error, fmt, ap);
        va_end(ap);
        if (r < 0) {
                *ret_error = NULL;
                return -ENOMEM;
        }
        return error;
}
