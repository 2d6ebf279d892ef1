/* SPDX-License-Identifier: MIT */
/* The agent's state, shared by the daemon's files: daemon.c (the loop,
 * signals, reload) and publish.c (what the outside sees: the status
 * snapshot's header, STATUS=, the metrics). Not a public interface. */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>
#include <systemd/sd-event.h>

#include "config.h"
#include "control.h"
#include "daemon.h"
#include "metrics.h"
#include "period.h"
#include "probe.h"
#include "scanner.h"
#include "status.h"

typedef struct Agent {
        const DaemonArgs *args;
        const char *sysfs_root, *procfs_root;
        Probe *probe;           /* the latest (a reload probes again) */
        Probe *scan_probe;      /* the one the scanner was opened with (it keeps
                                 * pointers into it); may be probe */
        Config *config;
        Engine engine;          /* the periods: scanner, movers, ledger */
        ScanOptions so;         /* what the scanner was opened with */
        char scanner_wanted[32];/* the backend asked for ("auto" ...) */
        sd_event *event;
        sd_event_source *timer;
        unsigned number;        /* of the next period */
        unsigned arming;        /* periods that only scan before the first plan of this scanner */
        unsigned worked;        /* periods planned (what --periods counts) */
        ControlServer *control;
        bool have_read_group;
        gid_t read_group;
        StatusSnapshot status;  /* as of the last period */
        uint64_t reloads, reload_failures;
        char last_error[256];   /* the last rejected reload */
        unsigned failures;      /* periods failed in a row */
        char period_error[320]; /* while periods fail: the last one's error */
        uint64_t started_realtime_s;
        MetricsServer *metrics;
} Agent;

/* The snapshot header: what does not depend on a period. */
void agent_status_header(Agent *a, StatusSnapshot *s);
/* sd_notify STATUS= (with EXTRA first, e.g. "READY=1\n"). */
void agent_notify_status(const Agent *a, const char *extra);
/* The status header refreshed and the snapshot to the metrics server. */
void agent_publish(Agent *a);
