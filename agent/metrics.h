/* SPDX-License-Identifier: MIT */
/* Prometheus metrics: the text exposition format (version 0.0.4) of a
 * StatusSnapshot, served over HTTP by libmicrohttpd on the address the
 * configuration's metrics.listen names (off when empty, the default).
 *
 * The server answers from its own thread: the daemon publishes a snapshot
 * once per period (deep-copied under a lock) and never waits for a
 * scraper. */
#pragma once

#include <stdint.h>
#include <stdio.h>

#include "status.h"

typedef struct MetricsServer MetricsServer;

/* Writes the exposition of S to F (pure: no other I/O). 0 or -errno. */
int metrics_render(const StatusSnapshot *s, FILE *f);

/* What one client may hold. The endpoint answers without authentication
 * (in Kubernetes on the pod network), so slow clients must not keep the
 * scrapers out: MHD's own timeout is an idle timeout, which a client that
 * sends one byte now and then never reaches. */
typedef struct MetricsLimits {
        unsigned connections;           /* open at once, all clients */
        unsigned per_ip;                /* open at once from one address */
        unsigned idle_timeout_s;        /* an idle connection is closed */
        unsigned request_deadline_ms;   /* a request is read and answered within this of the
                                         * connection's start or of the previous answer, or cut */
} MetricsLimits;
/* 16 connections, 4 per address, 10 s idle, a 10 s request deadline. */
extern const MetricsLimits metrics_limits_default;

/* Starts serving GET /metrics on LISTEN ("127.0.0.1:9464", "[::1]:9464",
 * ":9464" meaning every address) within metrics_limits_default. Until the
 * first publish, /metrics answers 503. On failure returns -errno and a
 * message naming the address and the reason in *RET_ERROR (caller frees). */
int metrics_server_start(const char *listen, MetricsServer **ret, char **ret_error);
/* The same within LIMITS. */
int metrics_server_start_with(const char *listen, const MetricsLimits *limits, MetricsServer **ret,
                              char **ret_error);
/* Replaces the served snapshot with a deep copy of S. 0 or -ENOMEM. */
int metrics_server_publish(MetricsServer *m, const StatusSnapshot *s);
/* The port the server listens on (the one the kernel chose for port 0). */
uint16_t metrics_server_port(const MetricsServer *m);
/* Stops the server (waits for its thread); accepts NULL; returns NULL. */
MetricsServer *metrics_server_stop(MetricsServer *m);
