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

/* Starts serving GET /metrics on LISTEN ("127.0.0.1:9464", "[::1]:9464",
 * ":9464" meaning every address). Until the first publish, /metrics
 * answers 503. On failure returns -errno and a message naming the address
 * and the reason in *RET_ERROR (caller frees). */
int metrics_server_start(const char *listen, MetricsServer **ret, char **ret_error);
/* Replaces the served snapshot with a deep copy of S. 0 or -ENOMEM. */
int metrics_server_publish(MetricsServer *m, const StatusSnapshot *s);
/* The port the server listens on (the one the kernel chose for port 0). */
uint16_t metrics_server_port(const MetricsServer *m);
/* Stops the server (waits for its thread); accepts NULL; returns NULL. */
MetricsServer *metrics_server_stop(MetricsServer *m);
