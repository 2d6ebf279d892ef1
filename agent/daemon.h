/* SPDX-License-Identifier: MIT */
/* The agent: `tierd` without a command. Every period: walk the cgroups,
 * resolve their policies, scan the tenants, plan, move, account. */
#pragma once

#include <stdbool.h>
#include <stdint.h>

typedef struct DaemonArgs {
        const char *config_path;
        const char *sysfs_root;         /* NULL: "/sys" */
        const char *procfs_root;        /* NULL: "/proc" */
        uint64_t period_ms;             /* 0: the configuration's scanner.period_ms */
        const char *backend;            /* NULL: the configuration's scanner.backend */
        unsigned periods;               /* 0: until SIGTERM/SIGINT; --once is 1 */
        bool json;                      /* one JSON object per period on stdout */
        const char *control_socket;     /* NULL: the configuration's control.socket; "": none */
} DaemonArgs;

/* Runs the agent in the foreground on an sd-event loop; returns the
 * process exit status. The first period (two with the DAMON backends,
 * ScannerOps.arming_periods) only arms the scanner (nothing is known yet);
 * planning and moving start after it; --periods counts planned periods.
 * SIGTERM/SIGINT stop it (0), SIGHUP reloads the configuration; sd_notify
 * READY=1 once the scanner is open, STATUS= each period, STOPPING=1 on the
 * way out. */
int daemon_run(const DaemonArgs *a);
