/* SPDX-License-Identifier: MIT */
/* The Prometheus endpoint: metrics_render() writes the text exposition
 * format 0.0.4 of a StatusSnapshot; the server (libmicrohttpd, its own
 * polling thread) answers GET /metrics from a copy of the last published
 * snapshot.
 *
 * Names follow Prometheus' naming practices: the tierd_ prefix, base units
 * in the name (_bytes, _seconds), _total on counters, an _info pseudo-metric
 * with value 1 for metadata. Labels stay bounded: tiers, tenant cgroups (the
 * tenants the configuration selects), never pids or regions. */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <math.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <time.h>
#include <unistd.h>

#include <microhttpd.h>

#include "metrics.h"
#include "util.h"

#define CONTENT_TYPE "text/plain; version=0.0.4; charset=utf-8"

/* ---- rendering ---- */

static void family(FILE *f, const char *name, const char *type, const char *help) {
        /* HELP texts are constants here without '\\' or newlines, which
         * are the two characters the format would want escaped. */
        fprintf(f, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

/* A label value with '\\', '"' and newline escaped as the format asks,
 * and nothing but printable UTF-8 otherwise: Prometheus refuses the whole
 * scrape for one invalid byte ("invalid UTF-8 label value"), and a
 * delegated user can name a cgroup "pod\xff". Every other byte that is not
 * printable UTF-8 (invalid UTF-8, a control byte, DEL, a C1 control) is
 * written as the four characters \xHH (the backslash escaped as the
 * format asks), so the series stays and names the byte. */
static void label_value(FILE *f, const char *v) {
        for (const char *p = v ? v : ""; *p;) {
                size_t n = utf8_printable_len(p);

                if (n == 0) {
                        if (*p == '\n')
                                fputs("\\n", f);
                        else
                                fprintf(f, "\\\\x%02x", (unsigned) (unsigned char) *p);
                        p++;
                        continue;
                }
                if (*p == '\\')
                        fputs("\\\\", f);
                else if (*p == '"')
                        fputs("\\\"", f);
                else
                        fwrite(p, 1, n, f);
                p += n;
        }
}

/* name{k1="v1",k2="v2",...}: LABELS is a NULL-terminated list of key,
 * value pairs. */
/* The Kubernetes labels of a tenant that is no pod's are left out rather
 * than rendered "" (Prometheus reads both as absent). */
static bool label_optional(const char *name) {
        return strcmp(name, "namespace") == 0 || strcmp(name, "pod") == 0 || strcmp(name, "container") == 0;
}

static void series_start(FILE *f, const char *name, const char *const *labels) {
        bool open = false;

        fputs(name, f);
        for (size_t i = 0; labels && labels[i]; i += 2) {
                if (!labels[i + 1][0] && label_optional(labels[i]))
                        continue;
                fprintf(f, "%s%s=\"", open ? "," : "{", labels[i]);
                label_value(f, labels[i + 1]);
                fputc('"', f);
                open = true;
        }
        if (open)
                fputc('}', f);
}

static void sample_u64(FILE *f, const char *name, const char *const *labels, uint64_t v) {
        series_start(f, name, labels);
        fprintf(f, " %" PRIu64 "\n", v);
}

static void sample_double(FILE *f, const char *name, const char *const *labels, double v) {
        series_start(f, name, labels);
        if (isnan(v))
                fputs(" NaN\n", f);
        else if (isinf(v))
                fputs(v > 0 ? " +Inf\n" : " -Inf\n", f);
        else {
                /* the shortest of 15 or 17 digits that reads back as V */
                char buf[32];
                snprintf(buf, sizeof(buf), "%.15g", v);
                if (strtod(buf, NULL) != v)
                        snprintf(buf, sizeof(buf), "%.17g", v);
                fprintf(f, " %s\n", buf);
        }
}

/* Every tenant series: the cgroup, and the Kubernetes namespace, pod and
 * container it belongs to ("" when none: Prometheus reads an empty label
 * as an absent one). */
#define TENANT_LABELS(t) "cgroup", tenant_name(t), "namespace", (t)->namespace_, "pod", (t)->pod, "container", \
                         (t)->container

static const char *tenant_name(const StatusTenant *t) {
        return t->cgroup ? t->cgroup : "";
}

/* The daemon's own families. */
static void render_daemon(const StatusSnapshot *s, FILE *f) {
        family(f, "tierd_build_info", "gauge",
               "Always 1; the labels name the tierd version and the scanner and mover backends in use.");
        sample_u64(f, "tierd_build_info",
                   (const char *const[]) { "version", s->version, "scanner", s->scanner, "mover", s->mover, NULL },
                   1);

        family(f, "tierd_start_time_seconds", "gauge", "Start time of the daemon since the Unix epoch in seconds.");
        sample_u64(f, "tierd_start_time_seconds", NULL, s->started_realtime_s);

        family(f, "tierd_period_seconds", "gauge", "Length of the control period in seconds.");
        sample_double(f, "tierd_period_seconds", NULL, (double) s->period_ms / 1000.0);

        family(f, "tierd_periods_total", "counter", "Control periods run since the daemon started.");
        sample_u64(f, "tierd_periods_total", NULL, s->periods_total);

        family(f, "tierd_reloads_total", "counter", "Configuration reloads applied since the daemon started.");
        sample_u64(f, "tierd_reloads_total", NULL, s->reloads_total);

        family(f, "tierd_reload_failures_total", "counter",
               "Configuration reloads rejected since the daemon started (the previous configuration stays).");
        sample_u64(f, "tierd_reload_failures_total", NULL, s->reload_failures_total);

        family(f, "tierd_scan_cpu_seconds_total", "counter", "User and system CPU time spent in scans, by scanner backend.");
        sample_double(f, "tierd_scan_cpu_seconds_total", (const char *const[]) { "backend", s->scanner, NULL },
                      s->scan_cpu_seconds_total);

        family(f, "tierd_last_scan_duration_seconds", "gauge", "Wall-clock duration of the last scan in seconds.");
        sample_double(f, "tierd_last_scan_duration_seconds", NULL, s->last_scan_ms / 1000.0);
}

/* One series per tier index (0 = fastest); IDX the index as a label. */
static void render_tiers(const StatusSnapshot *s, FILE *f, int n_tiers, char idx[][12]) {
        family(f, "tierd_tier_capacity_bytes", "gauge", "Memory of the tier's NUMA nodes in bytes.");
        for (int t = 0; t < n_tiers; t++)
                sample_u64(f, "tierd_tier_capacity_bytes",
                           (const char *const[]) { "tier", idx[t], "nodes", s->tiers[t].nodes, NULL },
                           s->tiers[t].capacity);
        family(f, "tierd_tier_free_bytes", "gauge", "Free memory of the tier's NUMA nodes in bytes.");
        for (int t = 0; t < n_tiers; t++)
                sample_u64(f, "tierd_tier_free_bytes", (const char *const[]) { "tier", idx[t], NULL }, s->tiers[t].free);
        family(f, "tierd_tier_headroom_bytes", "gauge", "Free memory the planner keeps on the tier in bytes.");
        for (int t = 0; t < n_tiers; t++)
                sample_u64(f, "tierd_tier_headroom_bytes", (const char *const[]) { "tier", idx[t], NULL },
                           s->tiers[t].headroom);
}

/* The tenants' policy and usage families (every family grouped, as the
 * format requires). */
static void render_tenant_usage(const StatusSnapshot *s, FILE *f, size_t nt, int n_tiers, char idx[][12]) {
        /* tenants: every family grouped, as the format requires */
        family(f, "tierd_tenant_info", "gauge",
               "Always 1; the labels name the tenant's resolved class and mode.");
        for (size_t i = 0; i < nt; i++) {
                const StatusTenant *t = &s->tenants[i];
                sample_u64(f, "tierd_tenant_info",
                           (const char *const[]) { TENANT_LABELS(t), "class", t->class_name, "mode", t->mode, NULL },
                           1);
        }
        family(f, "tierd_tenant_tier_bytes", "gauge", "Memory of the tenant resident on the tier in bytes (anon and file).");
        for (size_t i = 0; i < nt; i++)
                for (int k = 0; k < n_tiers; k++)
                        sample_u64(f, "tierd_tenant_tier_bytes",
                                   (const char *const[]) { TENANT_LABELS(&s->tenants[i]), "tier", idx[k], NULL },
                                   s->tenants[i].tier_bytes[k]);
        family(f, "tierd_tenant_tier_type_bytes", "gauge",
               "Memory of the tenant resident on the tier in bytes, anonymous or file (page cache, tmpfs).");
        for (size_t i = 0; i < nt; i++)
                for (int k = 0; k < n_tiers; k++) {
                        sample_u64(f, "tierd_tenant_tier_type_bytes",
                                   (const char *const[]) { TENANT_LABELS(&s->tenants[i]), "tier", idx[k], "type", "anon", NULL },
                                   s->tenants[i].tier_anon[k]);
                        sample_u64(f, "tierd_tenant_tier_type_bytes",
                                   (const char *const[]) { TENANT_LABELS(&s->tenants[i]), "tier", idx[k], "type", "file", NULL },
                                   s->tenants[i].tier_file[k]);
                }
        if (s->has_coverage) {
                family(f, "tierd_tenant_classified_bytes", "gauge",
                       "Memory of the tenant on the tier whose heat the agent knows, in bytes (the heat model).");
                for (size_t i = 0; i < nt; i++)
                        for (int k = 0; k < n_tiers; k++)
                                sample_u64(f, "tierd_tenant_classified_bytes",
                                           (const char *const[]) { TENANT_LABELS(&s->tenants[i]), "tier",
                                                                   idx[k], NULL },
                                           s->tenants[i].classified[k]);
                family(f, "tierd_tenant_tier_covered", "gauge",
                       "1 when a full scan pass covered the tenant's memory on the tier since its last change, else 0.");
                for (size_t i = 0; i < nt; i++)
                        for (int k = 0; k < n_tiers; k++)
                                sample_u64(f, "tierd_tenant_tier_covered",
                                           (const char *const[]) { TENANT_LABELS(&s->tenants[i]), "tier",
                                                                   idx[k], NULL },
                                           s->tenants[i].covered[k]);
        }
        if (s->has_unmapped) {
                family(f, "tierd_tenant_unmapped_bytes", "gauge",
                       "Memory of the tenant on the tier that no process maps (page cache, tmpfs, shmem), in bytes, "
                       "by what the agent's last sweep of it saw: hot, cold, or unclassified (not seen yet).");
                for (size_t i = 0; i < nt; i++)
                        for (int k = 0; k < n_tiers; k++) {
                                const StatusTenant *x = &s->tenants[i];
                                uint64_t known = x->unmapped_hot[k] + x->unmapped_cold[k];

                                sample_u64(f, "tierd_tenant_unmapped_bytes",
                                           (const char *const[]) { "cgroup", tenant_name(x), "tier", idx[k], "heat",
                                                                   "hot", NULL },
                                           x->unmapped_hot[k]);
                                sample_u64(f, "tierd_tenant_unmapped_bytes",
                                           (const char *const[]) { "cgroup", tenant_name(x), "tier", idx[k], "heat",
                                                                   "cold", NULL },
                                           x->unmapped_cold[k]);
                                sample_u64(f, "tierd_tenant_unmapped_bytes",
                                           (const char *const[]) { "cgroup", tenant_name(x), "tier", idx[k], "heat",
                                                                   "unclassified", NULL },
                                           x->tier_unmapped[k] > known ? x->tier_unmapped[k] - known : 0);
                        }
        }
        family(f, "tierd_tenant_held_bytes", "gauge",
               "Bytes the last plan held back from the tenant's demotions, by reason (unscanned: the tier is not "
               "fully scanned yet).");
        for (size_t i = 0; i < nt; i++)
                sample_u64(f, "tierd_tenant_held_bytes",
                           (const char *const[]) { TENANT_LABELS(&s->tenants[i]), "direction", "demote",
                                                   "reason", "unscanned", NULL },
                           s->tenants[i].held_unscanned);
        family(f, "tierd_tenant_tier_max_bytes", "gauge",
               "Effective limit of the tenant's residency on the tier in bytes; absent when unlimited.");
        for (size_t i = 0; i < nt; i++)
                for (int k = 0; k < n_tiers; k++)
                        if (s->tenants[i].tier_max[k] != UINT64_MAX)
                                sample_u64(f, "tierd_tenant_tier_max_bytes",
                                           (const char *const[]) { TENANT_LABELS(&s->tenants[i]), "tier", idx[k], NULL },
                                           s->tenants[i].tier_max[k]);
        family(f, "tierd_tenant_tier_low_bytes", "gauge",
               "Effective protection of the tenant's residency on the tier in bytes; absent when none.");
        for (size_t i = 0; i < nt; i++)
                for (int k = 0; k < n_tiers; k++)
                        if (s->tenants[i].tier_low[k] != 0)
                                sample_u64(f, "tierd_tenant_tier_low_bytes",
                                           (const char *const[]) { TENANT_LABELS(&s->tenants[i]), "tier", idx[k], NULL },
                                           s->tenants[i].tier_low[k]);
}

/* The tenants' heat, plan and migration families. */
static void render_tenant_moves(const StatusSnapshot *s, FILE *f, size_t nt) {
        family(f, "tierd_tenant_hot_bytes", "gauge", "Memory of the tenant accessed in the last scan in bytes.");
        for (size_t i = 0; i < nt; i++)
                sample_u64(f, "tierd_tenant_hot_bytes", (const char *const[]) { TENANT_LABELS(&s->tenants[i]), NULL },
                           s->tenants[i].hot_bytes);
        family(f, "tierd_tenant_cold_bytes", "gauge", "Memory of the tenant not accessed in the last scan in bytes.");
        for (size_t i = 0; i < nt; i++)
                sample_u64(f, "tierd_tenant_cold_bytes", (const char *const[]) { TENANT_LABELS(&s->tenants[i]), NULL },
                           s->tenants[i].cold_bytes);
        family(f, "tierd_tenant_planned_bytes", "gauge", "Bytes the last period's plan moves for the tenant, by direction.");
        for (size_t i = 0; i < nt; i++) {
                sample_u64(f, "tierd_tenant_planned_bytes", (const char *const[]) { TENANT_LABELS(&s->tenants[i]), "direction", "promote", NULL },
                           s->tenants[i].planned_promote);
                sample_u64(f, "tierd_tenant_planned_bytes", (const char *const[]) { TENANT_LABELS(&s->tenants[i]), "direction", "demote", NULL },
                           s->tenants[i].planned_demote);
        }
        family(f, "tierd_migrated_bytes_total", "counter",
               "Bytes of the tenant moved to a faster (promote) or slower (demote) tier since the daemon started.");
        for (size_t i = 0; i < nt; i++) {
                sample_u64(f, "tierd_migrated_bytes_total",
                           (const char *const[]) { TENANT_LABELS(&s->tenants[i]), "direction", "promote", "mover", s->mover, NULL },
                           s->tenants[i].promoted_total);
                sample_u64(f, "tierd_migrated_bytes_total",
                           (const char *const[]) { TENANT_LABELS(&s->tenants[i]), "direction", "demote", "mover", s->mover, NULL },
                           s->tenants[i].demoted_total);
        }
        family(f, "tierd_migration_failed_bytes_total", "counter",
               "Bytes of the tenant the mover was asked to move and did not, since the daemon started.");
        for (size_t i = 0; i < nt; i++)
                sample_u64(f, "tierd_migration_failed_bytes_total",
                           (const char *const[]) { TENANT_LABELS(&s->tenants[i]), "mover", s->mover, NULL },
                           s->tenants[i].failed_total);
        family(f, "tierd_migration_errors_total", "counter", "Failed mover calls for the tenant since the daemon started.");
        for (size_t i = 0; i < nt; i++)
                sample_u64(f, "tierd_migration_errors_total",
                           (const char *const[]) { TENANT_LABELS(&s->tenants[i]), "mover", s->mover, NULL },
                           s->tenants[i].errors_total);
}

int metrics_render(const StatusSnapshot *s, FILE *f) {
        int n_tiers = s->n_tiers < 0 ? 0 : s->n_tiers > STATUS_MAX_TIERS ? STATUS_MAX_TIERS : s->n_tiers;
        size_t nt = s->tenants ? s->n_tenants : 0;
        char idx[STATUS_MAX_TIERS][12];

        for (int t = 0; t < n_tiers; t++)
                snprintf(idx[t], sizeof(idx[t]), "%d", s->tiers[t].index);
        render_daemon(s, f);
        render_tiers(s, f, n_tiers, idx);
        render_tenant_usage(s, f, nt, n_tiers, idx);
        render_tenant_moves(s, f, nt);
        if (fflush(f) != 0 || ferror(f))
                return errno > 0 ? -errno : -EIO;
        return 0;
}

/* ---- the listen address ---- */

/* "HOST:PORT", "[V6]:PORT" or ":PORT" (every address) into a socket
 * address; ret_error says what is wrong with which part. */
static int parse_listen(const char *address, struct sockaddr_storage *ret, socklen_t *ret_len, bool *ret_any,
                        char **ret_error) {
        _cleanup_free_ char *host = NULL;
        const char *colon, *port_s;
        uint64_t port;
        int r;

        if (!address || !*address) {
                r = asprintf(ret_error, "metrics.listen \"\": empty address (want HOST:PORT, [IPV6]:PORT or :PORT)");
                return r < 0 ? -ENOMEM : -EINVAL;
        }
        if (address[0] == '[') {
                const char *close = strchr(address, ']');
                if (!close || close[1] != ':') {
                        r = asprintf(ret_error, "metrics.listen \"%s\": want [IPV6]:PORT", address);
                        return r < 0 ? -ENOMEM : -EINVAL;
                }
                host = strndup(address + 1, (size_t) (close - address - 1));
                port_s = close + 2;
        } else {
                colon = strrchr(address, ':');
                if (!colon) {
                        r = asprintf(ret_error, "metrics.listen \"%s\": no port (want HOST:PORT, [IPV6]:PORT or :PORT)",
                                     address);
                        return r < 0 ? -ENOMEM : -EINVAL;
                }
                if (memchr(address, ':', (size_t) (colon - address))) {
                        r = asprintf(ret_error, "metrics.listen \"%s\": an IPv6 address needs brackets, as in [::1]:9464",
                                     address);
                        return r < 0 ? -ENOMEM : -EINVAL;
                }
                host = strndup(address, (size_t) (colon - address));
                port_s = colon + 1;
        }
        if (!host)
                return -ENOMEM;
        /* digits only: parse_u64() would take surrounding blanks */
        if (!*port_s || strspn(port_s, "0123456789") != strlen(port_s) || parse_u64(port_s, &port) < 0 ||
            port > 65535) {
                r = asprintf(ret_error, "metrics.listen \"%s\": port \"%s\" is not a number from 0 to 65535", address,
                             port_s);
                return r < 0 ? -ENOMEM : -EINVAL;
        }

        memset(ret, 0, sizeof(*ret));
        *ret_any = false;
        if (!*host && address[0] != '[') {
                struct sockaddr_in6 *a6 = (struct sockaddr_in6 *) ret;
                a6->sin6_family = AF_INET6;
                a6->sin6_addr = in6addr_any;
                a6->sin6_port = htons((uint16_t) port);
                *ret_len = sizeof(*a6);
                *ret_any = true;
                return 0;
        }
        if (address[0] == '[') {
                struct sockaddr_in6 *a6 = (struct sockaddr_in6 *) ret;
                if (inet_pton(AF_INET6, host, &a6->sin6_addr) != 1) {
                        r = asprintf(ret_error, "metrics.listen \"%s\": \"%s\" is not an IPv6 address", address, host);
                        return r < 0 ? -ENOMEM : -EINVAL;
                }
                a6->sin6_family = AF_INET6;
                a6->sin6_port = htons((uint16_t) port);
                *ret_len = sizeof(*a6);
                return 0;
        }
        struct sockaddr_in *a4 = (struct sockaddr_in *) ret;
        if (inet_pton(AF_INET, host, &a4->sin_addr) != 1) {
                r = asprintf(ret_error,
                             "metrics.listen \"%s\": \"%s\" is not an IPv4 address (host names are not resolved; "
                             "IPv6 goes in brackets)",
                             address, host);
                return r < 0 ? -ENOMEM : -EINVAL;
        }
        a4->sin_family = AF_INET;
        a4->sin_port = htons((uint16_t) port);
        *ret_len = sizeof(*a4);
        return 0;
}

/* A listening TCP socket on LISTEN; ret_error names the address. */
static int listen_socket(const char *address, int *ret_fd, uint16_t *ret_port, char **ret_error) {
        struct sockaddr_storage sa, bound;
        socklen_t len, blen = sizeof(bound);
        bool any;
        int r, one = 1, zero = 0;

        r = parse_listen(address, &sa, &len, &any, ret_error);
        if (r < 0)
                return r;

        const char *what = "socket";
        _cleanup_close_ int fd = socket(sa.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (fd < 0 && any && (errno == EAFNOSUPPORT || errno == EPROTONOSUPPORT)) {
                /* ":PORT" on a host without IPv6: every IPv4 address */
                struct sockaddr_in *a4 = (struct sockaddr_in *) &sa;
                uint16_t port = ((struct sockaddr_in6 *) &sa)->sin6_port;
                memset(&sa, 0, sizeof(sa));
                a4->sin_family = AF_INET;
                a4->sin_addr.s_addr = htonl(INADDR_ANY);
                a4->sin_port = port;
                len = sizeof(*a4);
                fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        }
        if (fd < 0)
                goto fail;
        what = "setsockopt";
        if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) < 0)
                goto fail;
        /* ":PORT" is every address, IPv4 included */
        if (any && sa.ss_family == AF_INET6 && setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &zero, sizeof(zero)) < 0)
                goto fail;
        what = "bind";
        if (bind(fd, (struct sockaddr *) &sa, len) < 0)
                goto fail;
        what = "listen";
        if (listen(fd, 64) < 0)
                goto fail;
        what = "getsockname";
        if (getsockname(fd, (struct sockaddr *) &bound, &blen) < 0)
                goto fail;
        *ret_port = ntohs(bound.ss_family == AF_INET6 ? ((struct sockaddr_in6 *) &bound)->sin6_port
                                                      : ((struct sockaddr_in *) &bound)->sin_port);
        *ret_fd = TAKE_FD(fd);
        return 0;
fail:
        r = -errno;
        if (asprintf(ret_error, "metrics.listen \"%s\": %s failed: %s", address, what, strerror(-r)) < 0)
                return -ENOMEM;
        return r;
}

/* ---- the server ---- */

/* One open connection, for the request deadline: MHD's own timeout is an
 * idle timeout, which a client sending a byte now and then never reaches
 * (16 such clients held every slot and scrapes timed out for 24 s). */
typedef struct Conn {
        struct Conn *next;
        int fd;                 /* a dup of the connection's socket: shutdown() through it */
        uint64_t deadline_ms;   /* CLOCK_MONOTONIC */
        bool cut;
} Conn;

struct MetricsServer {
        struct MHD_Daemon *daemon;
        pthread_mutex_t lock;
        bool published;         /* under lock */
        StatusSnapshot snap;    /* under lock */
        uint16_t port;
        MetricsLimits limits;

        /* the watchdog: cuts connections past their deadline */
        pthread_t watchdog;
        bool watchdog_started;
        pthread_mutex_t conns_lock;
        pthread_cond_t conns_cond;
        Conn *conns;            /* under conns_lock */
        bool stopping;          /* under conns_lock */
};

static uint64_t now_ms(void) {
        struct timespec ts;

        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (uint64_t) ts.tv_sec * 1000 + (uint64_t) ts.tv_nsec / 1000000;
}

/* MHD_OPTION_NOTIFY_CONNECTION: a connection starts (its deadline with
 * it) or ends. */
static void conn_notify(void *cls, struct MHD_Connection *c, void **socket_context,
                        enum MHD_ConnectionNotificationCode toe) {
        MetricsServer *m = cls;
        Conn *x;

        if (toe == MHD_CONNECTION_NOTIFY_STARTED) {
                const union MHD_ConnectionInfo *info = MHD_get_connection_info(c, MHD_CONNECTION_INFO_CONNECTION_FD);

                x = calloc(1, sizeof(*x));
                if (!x)
                        return;
                x->fd = info ? fcntl(info->connect_fd, F_DUPFD_CLOEXEC, 3) : -1;
                if (x->fd < 0) {
                        free(x);
                        return;
                }
                pthread_mutex_lock(&m->conns_lock);
                x->deadline_ms = now_ms() + m->limits.request_deadline_ms;
                x->next = m->conns;
                m->conns = x;
                pthread_cond_signal(&m->conns_cond);
                pthread_mutex_unlock(&m->conns_lock);
                *socket_context = x;
                return;
        }
        x = *socket_context;
        if (!x)
                return;
        pthread_mutex_lock(&m->conns_lock);
        for (Conn **p = &m->conns; *p; p = &(*p)->next)
                if (*p == x) {
                        *p = x->next;
                        break;
                }
        pthread_mutex_unlock(&m->conns_lock);
        close(x->fd);
        free(x);
        *socket_context = NULL;
}

/* MHD_OPTION_NOTIFY_COMPLETED: an answer went out; a kept-alive
 * connection's next request has its own deadline. */
static void request_completed(void *cls, struct MHD_Connection *c, void **con_cls _unused_,
                              enum MHD_RequestTerminationCode toe _unused_) {
        MetricsServer *m = cls;
        const union MHD_ConnectionInfo *info = MHD_get_connection_info(c, MHD_CONNECTION_INFO_SOCKET_CONTEXT);
        Conn *x = info ? info->socket_context : NULL;

        if (!x)
                return;
        pthread_mutex_lock(&m->conns_lock);
        if (!x->cut)
                x->deadline_ms = now_ms() + m->limits.request_deadline_ms;
        pthread_mutex_unlock(&m->conns_lock);
}

/* Cuts every connection whose request was not read and answered within
 * the deadline: shutdown() of its socket, which MHD then sees end and
 * closes. Sleeps while there is none. */
static void *watchdog(void *arg) {
        MetricsServer *m = arg;

        pthread_mutex_lock(&m->conns_lock);
        while (!m->stopping) {
                uint64_t now = now_ms(), next = UINT64_MAX;

                for (Conn *x = m->conns; x; x = x->next) {
                        if (x->cut)
                                continue;
                        if (x->deadline_ms <= now) {
                                (void) shutdown(x->fd, SHUT_RDWR);
                                x->cut = true;
                                log_debug("metrics: a connection passed the %u ms request deadline, closed",
                                          m->limits.request_deadline_ms);
                        } else if (x->deadline_ms < next)
                                next = x->deadline_ms;
                }
                if (next == UINT64_MAX)
                        pthread_cond_wait(&m->conns_cond, &m->conns_lock);
                else {
                        struct timespec ts;

                        clock_gettime(CLOCK_MONOTONIC, &ts);
                        next -= now;
                        ts.tv_sec += (time_t) (next / 1000);
                        ts.tv_nsec += (long) (next % 1000) * 1000000;
                        if (ts.tv_nsec >= 1000000000) {
                                ts.tv_sec++;
                                ts.tv_nsec -= 1000000000;
                        }
                        pthread_cond_timedwait(&m->conns_cond, &m->conns_lock, &ts);
                }
        }
        pthread_mutex_unlock(&m->conns_lock);
        return NULL;
}

static enum MHD_Result reply(struct MHD_Connection *c, unsigned status, char *body, size_t size, bool must_free,
                             const char *allow) {
        struct MHD_Response *resp;
        enum MHD_Result ret;

        resp = MHD_create_response_from_buffer(size, body, must_free ? MHD_RESPMEM_MUST_FREE : MHD_RESPMEM_PERSISTENT);
        if (!resp) {
                if (must_free)
                        free(body);
                return MHD_NO;
        }
        if (MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE,
                                    status == MHD_HTTP_OK ? CONTENT_TYPE : "text/plain; charset=utf-8") != MHD_YES ||
            (allow && MHD_add_response_header(resp, MHD_HTTP_HEADER_ALLOW, allow) != MHD_YES)) {
                MHD_destroy_response(resp);
                return MHD_NO;
        }
        ret = MHD_queue_response(c, status, resp);
        MHD_destroy_response(resp);
        return ret;
}

static enum MHD_Result reply_text(struct MHD_Connection *c, unsigned status, const char *text, const char *allow) {
        return reply(c, status, (char *) text, strlen(text), false, allow);
}

static enum MHD_Result handle(void *cls, struct MHD_Connection *c, const char *url, const char *method,
                              const char *version _unused_, const char *upload_data _unused_,
                              size_t *upload_data_size, void **con_cls _unused_) {
        MetricsServer *m = cls;
        StatusSnapshot copy;
        char *body = NULL;
        size_t size = 0;
        bool have;
        int r;

        if (strcmp(url, "/metrics") != 0)
                return reply_text(c, MHD_HTTP_NOT_FOUND, "not found: tierd serves /metrics only\n", NULL);
        if (strcmp(method, MHD_HTTP_METHOD_GET) != 0) {
                *upload_data_size = 0; /* a request body is not read */
                return reply_text(c, MHD_HTTP_METHOD_NOT_ALLOWED, "method not allowed: use GET\n", MHD_HTTP_METHOD_GET);
        }

        pthread_mutex_lock(&m->lock);
        have = m->published;
        r = have ? status_snapshot_copy(&m->snap, &copy) : 0;
        pthread_mutex_unlock(&m->lock);
        if (!have)
                return reply_text(c, MHD_HTTP_SERVICE_UNAVAILABLE, "no snapshot yet: the first control period has not ended\n",
                                  NULL);
        if (r < 0)
                return reply_text(c, MHD_HTTP_INTERNAL_SERVER_ERROR, "out of memory\n", NULL);

        FILE *f = open_memstream(&body, &size);
        if (!f) {
                status_snapshot_done(&copy);
                return reply_text(c, MHD_HTTP_INTERNAL_SERVER_ERROR, "out of memory\n", NULL);
        }
        r = metrics_render(&copy, f);
        status_snapshot_done(&copy);
        if (fclose(f) != 0 && r >= 0)
                r = -errno;
        if (r < 0) {
                free(body);
                return reply_text(c, MHD_HTTP_INTERNAL_SERVER_ERROR, "rendering the metrics failed\n", NULL);
        }
        return reply(c, MHD_HTTP_OK, body, size, true, NULL);
}

static void mhd_log(void *cls _unused_, const char *fmt, va_list ap) {
        char buf[512];

        vsnprintf(buf, sizeof(buf), fmt, ap);
        buf[strcspn(buf, "\n")] = '\0';
        log_debug("metrics: %s", buf);
}

static void server_free(MetricsServer *m) {
        if (m->watchdog_started) {
                pthread_mutex_lock(&m->conns_lock);
                m->stopping = true;
                pthread_cond_signal(&m->conns_cond);
                pthread_mutex_unlock(&m->conns_lock);
                pthread_join(m->watchdog, NULL);
        }
        while (m->conns) { /* MHD notifies every close; in case it did not */
                Conn *x = m->conns;

                m->conns = x->next;
                close(x->fd);
                free(x);
        }
        pthread_cond_destroy(&m->conns_cond);
        pthread_mutex_destroy(&m->conns_lock);
        pthread_mutex_destroy(&m->lock);
        free(m);
}

const MetricsLimits metrics_limits_default = {
        .connections = 16,
        .per_ip = 4,
        .idle_timeout_s = 10,
        .request_deadline_ms = 10000,
};

int metrics_server_start_with(const char *address, const MetricsLimits *limits, MetricsServer **ret,
                              char **ret_error) {
        _cleanup_close_ int fd = -1;
        pthread_condattr_t ca;
        MetricsServer *m;
        uint16_t port;
        int r;

        *ret_error = NULL;
        r = listen_socket(address, &fd, &port, ret_error);
        if (r < 0)
                return r;

        m = calloc(1, sizeof(*m));
        if (!m)
                return -ENOMEM;
        m->port = port;
        m->limits = *limits;
        pthread_mutex_init(&m->lock, NULL);
        pthread_mutex_init(&m->conns_lock, NULL);
        pthread_condattr_init(&ca);
        pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
        pthread_cond_init(&m->conns_cond, &ca);
        pthread_condattr_destroy(&ca);
        r = pthread_create(&m->watchdog, NULL, watchdog, m);
        if (r != 0) {
                server_free(m);
                return -r;
        }
        m->watchdog_started = true;
        m->daemon = MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_POLL | MHD_USE_ERROR_LOG, 0, NULL, NULL,
                                     handle, m,
                                     MHD_OPTION_EXTERNAL_LOGGER, mhd_log, NULL,
                                     MHD_OPTION_LISTEN_SOCKET, fd,
                                     MHD_OPTION_CONNECTION_LIMIT, limits->connections,
                                     MHD_OPTION_PER_IP_CONNECTION_LIMIT, limits->per_ip,
                                     MHD_OPTION_CONNECTION_TIMEOUT, limits->idle_timeout_s,
                                     MHD_OPTION_NOTIFY_CONNECTION, conn_notify, m,
                                     MHD_OPTION_NOTIFY_COMPLETED, request_completed, m,
                                     MHD_OPTION_END);
        if (!m->daemon) {
                server_free(m);
                if (asprintf(ret_error, "metrics.listen \"%s\": libmicrohttpd did not start", address) < 0)
                        return -ENOMEM;
                return -EIO;
        }
        fd = -1; /* the daemon owns it now and closes it on stop */
        *ret = m;
        return 0;
}

int metrics_server_start(const char *address, MetricsServer **ret, char **ret_error) {
        return metrics_server_start_with(address, &metrics_limits_default, ret, ret_error);
}

int metrics_server_publish(MetricsServer *m, const StatusSnapshot *s) {
        StatusSnapshot copy, old = {};
        int r;

        r = status_snapshot_copy(s, &copy);
        if (r < 0)
                return r;
        pthread_mutex_lock(&m->lock);
        if (m->published)
                old = m->snap;
        m->snap = copy;
        m->published = true;
        pthread_mutex_unlock(&m->lock);
        status_snapshot_done(&old);
        return 0;
}

uint16_t metrics_server_port(const MetricsServer *m) {
        return m->port;
}

MetricsServer *metrics_server_stop(MetricsServer *m) {
        if (!m)
                return NULL;
        MHD_stop_daemon(m->daemon); /* every connection closed, and notified */
        if (m->published)
                status_snapshot_done(&m->snap);
        server_free(m);
        return NULL;
}
