/* SPDX-License-Identifier: MIT */
/* What the outside sees of the agent between periods: the status
 * snapshot's header, the systemd STATUS= line, the metrics. */
#include <stdio.h>
#include <systemd/sd-daemon.h>

#include "agent.h"
#include "mover.h"
#include "util.h"

/* The mover that really moves: e.g. auto is move_pages for ranges, or
 * memory.reclaim for a byte-only scanner (MGLRU). */
static const char *mover_name(const Agent *a) {
        const Engine *e = &a->engine;

        return mover_backend_effective(e->mover, e->scanner_ops && (e->scanner_ops->caps & SCANNER_CAP_RANGES));
}

/* The snapshot header: what does not depend on a period. */
void agent_status_header(Agent *a, StatusSnapshot *s) {
        snprintf(s->version, sizeof(s->version), "%s", TIERD_VERSION);
        snprintf(s->scanner, sizeof(s->scanner), "%s", a->engine.scanner_ops ? a->engine.scanner_ops->name : "");
        snprintf(s->mover, sizeof(s->mover), "%s", mover_name(a));
        snprintf(s->config_path, sizeof(s->config_path), "%s", a->args->config_path);
        s->period_ms = a->engine.period_ms;
        s->started_realtime_s = a->started_realtime_s;
        s->scan_cpu_seconds_total = a->engine.scan_cpu_s;
        s->reloads_total = a->reloads;
        s->reload_failures_total = a->reload_failures;
        snprintf(s->last_error, sizeof(s->last_error), "%.255s", a->last_error[0] ? a->last_error : a->period_error);
        s->promoted_total = a->engine.ledger.promoted;
        s->demoted_total = a->engine.ledger.demoted;
        s->failed_total = a->engine.ledger.failed;
}

/* The one-line summary of STATUS= (without a reload error). */
static void status_summary(const Agent *a, char *buf, size_t size) {
        char p[32], d[32];

        snprintf(buf, size, "%zu tenant%s, promoted %s, demoted %s, scanner %s, mover %s", a->status.n_tenants,
                 a->status.n_tenants == 1 ? "" : "s", format_bytes(a->engine.ledger.promoted, p, sizeof(p)),
                 format_bytes(a->engine.ledger.demoted, d, sizeof(d)),
                 a->engine.scanner_ops ? a->engine.scanner_ops->name : "none",
                 mover_name(a)[0] ? mover_name(a) : "none");
}

void agent_notify_status(const Agent *a, const char *extra) {
        char sum[256];

        status_summary(a, sum, sizeof(sum));
        if (a->period_error[0])
                (void) sd_notifyf(false, "%sSTATUS=%s; retrying; %s", extra ? extra : "", a->period_error, sum);
        else if (a->last_error[0])
                (void) sd_notifyf(false, "%sSTATUS=%s; kept the running configuration; %s", extra ? extra : "",
                                  a->last_error, sum);
        else
                (void) sd_notifyf(false, "%sSTATUS=%s", extra ? extra : "", sum);
}

void agent_publish(Agent *a) {
        agent_status_header(a, &a->status);
        if (a->metrics) {
                int r = metrics_server_publish(a->metrics, &a->status);

                if (r < 0)
                        log_warning_errno(r, "cannot publish the metrics, ignoring: %m");
        }
}

