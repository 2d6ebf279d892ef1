/* SPDX-License-Identifier: MIT */
/* The agent as a service: the sd-event loop, its period timer, signals
 * (SIGTERM/SIGINT stop, SIGHUP reloads), the reload transaction, the
 * control socket, the metrics endpoint and sd_notify. What one period
 * does is core/period.c (collect -> scan -> observe -> settle -> plan ->
 * apply -> account -> report); what the outside sees is publish.c; which
 * mover takes which part of a plan is the
 * configuration's mover.backend, an entry of migrate/movers.c's table. */
#include "daemon.h"
#include "agent.h"

#include <inttypes.h>
#include <json-c/json.h>
#include <signal.h>
#include <stdarg.h>
#include <string.h>
#include <systemd/sd-daemon.h>
#include <systemd/sd-event.h>
#include <time.h>

#include "config.h"
#include "control.h"
#include "metrics.h"
#include "mover.h"
#include "period.h"
#include "probe.h"
#include "scan.h"
#include "scanner.h"
#include "status.h"
#include "util.h"

#define MAX_CANDIDATES 256
/* After a failed period the next one waits 1, 2, 4, then 8 periods. */
#define FAIL_BACKOFF_MAX 8


static uint64_t now_ms(void) {
        struct timespec ts;

        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (uint64_t) ts.tv_sec * 1000 + (uint64_t) ts.tv_nsec / 1000000;
}

/* One period; PLAN false: scan only (an arming period). */
static int agent_period(Agent *a, bool plan) {
        StatusSnapshot s = { 0 };
        int r;

        r = period_run(&a->engine, a->number, plan, &s);
        if (r < 0)
                return r;
        agent_status_header(a, &s);
        if (plan && a->args->json) {
                json_object *o = status_period_to_json(&s);

                puts(json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE));
                fflush(stdout);
                json_object_put(o);
        }
        status_snapshot_done(&a->status);
        a->status = s;
        return 0;
}

/* Probes and checks what the agent needs of the kernel. */
static int probe_check(const Agent *a, Probe **ret, char **ret_error) {
        ProbeRoots roots = { .sysfs = a->args->sysfs_root, .procfs = a->args->procfs_root };
        Probe *p = NULL;
        int r;

        r = probe_run(&roots, &p);
        if (r < 0)
                return set_error_message(ret_error, -EINVAL, "probe failed: %s", strerror(-r));
        if (!p->cgroup_mount || !p->topology) {
                probe_free(p);
                return set_error_message(ret_error, -EINVAL, "%s", !p->cgroup_mount
                                                          ? "no cgroup2 file system is mounted: no tenants to manage"
                                                          : "cannot read the NUMA topology");
        }
        *ret = p;
        return 0;
}

/* The configuration's service settings that a reload cannot change here
 * and that are checked before anything starts. */
static int service_check(const Config *c, bool *ret_have_group, gid_t *ret_gid, char **ret_error) {
        int r;

        r = control_resolve_group(c->control.read_group, ret_have_group, ret_gid, ret_error);
        if (r < 0)
                return r == -ENOMEM ? r : -EINVAL;
        return 0;
}

/* The engine's view of the probe and the configuration. */
static void engine_point(Agent *a, const Probe *p, const Config *c) {
        a->engine.config = c;
        a->engine.cgroup_mount = p->cgroup_mount;
        a->engine.demotion_enabled = p->demotion_enabled;
}

/* Back to the running scanner after a failed reopen. */
static int reopen_running_scanner(Agent *a) {
        Engine *e = &a->engine;
        int r;

        r = scan_open_backend(a->scan_probe, a->scanner_wanted, &a->so, &e->scanner_ops, &e->scanner);
        if (r < 0)
                return log_error_errno(r, "cannot reopen the running scanner %s: %m", a->scanner_wanted);
        a->arming = e->scanner_ops->arming_periods;
        return 0;
}

/* The reload's new scanner: NSO's backend WANTED, the running one closed
 * first (two kdamonds or BPF attachments of tierd's own at once are not
 * wanted). On failure the running one is open again. */
static int reload_scanner(Agent *a, Probe *np, const char *wanted, const ScanOptions *nso,
                          const ScannerOps **ret_ops, Scanner **ret, char **ret_error) {
        Engine *e = &a->engine;
        int r, q;

        (void) engine_reset_movers(e);
        e->scanner_ops->close(e->scanner);
        e->scanner = NULL;
        r = scan_open_backend(np, wanted, nso, ret_ops, ret);
        if (r >= 0)
                return 0;
        q = reopen_running_scanner(a);
        if (q < 0)
                return q;
        return set_error_message(ret_error, -EINVAL, "scanner.backend %s: cannot open it (%s)", wanted, strerror(-r));
}

/* Applies a checked reload (NC, NP, the scanner if REOPEN, the mover NM). */
static void reload_commit(Agent *a, Config *nc, Probe *np, bool reopen, const ScannerOps *nops, Scanner *nsc,
                          const ScanOptions *nso, const char *wanted, const MoverBackend *nm, uint64_t period,
                          bool have_group, gid_t gid) {
        Engine *e = &a->engine;
        bool movers_change = nm != e->mover || period != e->period_ms;
        int r;

        if (reopen) {
                if (a->scan_probe != a->probe)
                        probe_free(a->scan_probe);
                a->scan_probe = np;
                e->scanner_ops = nops;
                e->scanner = nsc;
                a->so = *nso;
                snprintf(a->scanner_wanted, sizeof(a->scanner_wanted), "%s", wanted);
                a->arming = e->scanner_ops->arming_periods;
                log_set_backend(e->scanner_ops->name);
        }
        if (a->probe != a->scan_probe)
                probe_free(a->probe);
        a->probe = np;
        config_free(a->config);
        a->config = nc;
        engine_point(a, np, nc);
        e->period_ms = period;
        /* the movers keep nothing of the configuration but their kdamond:
         * a deferred one (DAMOS) restarts only when it or the period
         * changes, the others take the new settings now */
        if (movers_change || !nm->deferred) {
                r = engine_set_mover(e, nm);
                if (r < 0)
                        log_warning_errno(r, "cannot open the movers of mover.backend %s, ignoring: %m", nm->name);
        }
        a->have_read_group = have_group;
        a->read_group = gid;
        ledger_reconfigure(&e->ledger, &nc->budget_rate, &nc->budget_burst, now_ms());
}

/* Re-reads the configuration and probes again; applies what changed or,
 * on any error, keeps everything as it was. */
static int agent_reload(Agent *a, char **ret_error) {
        _cleanup_free_ char *error = NULL;
        _cleanup_(config_freep) Config *nc = NULL;
        Engine *e = &a->engine;
        Probe *np = NULL;
        const ScannerOps *nops = NULL;
        const MoverBackend *nm;
        Scanner *nsc = NULL;
        ScanOptions nso;
        bool have_group, reopen;
        gid_t gid;
        const char *wanted;
        uint64_t period;
        struct timespec ts;
        int r;

        clock_gettime(CLOCK_MONOTONIC, &ts);
        (void) sd_notifyf(false, "RELOADING=1\nMONOTONIC_USEC=%" PRIu64 "\nSTATUS=reloading %s",
                          (uint64_t) ts.tv_sec * 1000000 + (uint64_t) ts.tv_nsec / 1000, a->args->config_path);
        log_event(LOG_LVL_INFO, "reloading", NULL, "reloading the configuration %s", a->args->config_path);

        r = config_reload(a->config, a->args->config_path, NULL, &nc, &error);
        if (r >= 0)
                r = service_check(nc, &have_group, &gid, &error);
        if (r >= 0)
                r = probe_check(a, &np, &error);
        if (r == -ENOMEM)
                return r;
        if (r < 0)
                goto fail;
        wanted = a->args->backend ? a->args->backend : nc->scanner.backend;
        period = a->args->period_ms ? a->args->period_ms : nc->scanner.period_ms;
        nso = a->so;
        nso.cgroup_mount = np->cgroup_mount;
        nso.topology = np->topology;
        nso.period_ms = period;
        nso.cpu_budget_permille = nc->scanner.cpu_budget_permille;
        /* the scanner keeps its options: a new backend, period or budget
         * means a new scanner (and an arming period) */
        reopen = strcmp(wanted, a->scanner_wanted) != 0 || period != a->so.period_ms ||
                 nso.cpu_budget_permille != a->so.cpu_budget_permille;
        if (reopen) {
                r = reload_scanner(a, np, wanted, &nso, &nops, &nsc, &error);
                if (r < 0 && !error) {
                        probe_free(np);
                        return r;
                }
                if (r < 0)
                        goto fail;
        }
        r = engine_check_mover(nc->mover.backend, np->demotion_enabled, a->sysfs_root,
                               reopen ? nops : e->scanner_ops, &nm, &error);
        if (r < 0) {
                if (reopen) {
                        nops->close(nsc);
                        r = reopen_running_scanner(a);
                        if (r < 0) {
                                probe_free(np);
                                return r;
                        }
                }
                r = -EINVAL;
                goto fail;
        }
        if (a->control && (a->have_read_group != have_group || a->read_group != gid)) {
                r = control_server_set_group(a->control, have_group, gid);
                if (r < 0)
                        log_warning_errno(r, "cannot give the control socket to group %u, ignoring: %m",
                                          (unsigned) gid);
        }
        if (strcmp(nc->control.socket, a->config->control.socket) != 0 && !a->args->control_socket)
                log_warning("control.socket changed to \"%s\": takes effect when tierd restarts", nc->control.socket);
        if (strcmp(nc->metrics.listen, a->config->metrics.listen) != 0)
                log_warning("metrics.listen changed to \"%s\": takes effect when tierd restarts", nc->metrics.listen);

        reload_commit(a, TAKE_PTR(nc), np, reopen, nops, nsc, &nso, wanted, nm, period, have_group, gid);
        a->reloads++;
        a->last_error[0] = '\0';
        log_event(LOG_LVL_INFO, "reloaded", NULL, "reloaded %s: scanner %s%s, mover %s, period %" PRIu64 " ms",
                  a->args->config_path, e->scanner_ops->name, reopen ? " (reopened)" : "", e->mover->name,
                  e->period_ms);
        agent_publish(a);
        agent_notify_status(a, "READY=1\n");
        return 0;

fail:
        if (!error && set_error_message(&error, -EINVAL, "%s", strerror(-r)) == -ENOMEM)
                return -ENOMEM;
        probe_free(np);
        a->reload_failures++;
        snprintf(a->last_error, sizeof(a->last_error), "reload failed: %s", error);
        log_event(LOG_LVL_ERR, "reload_failed", NULL, "reload failed, keeping the running configuration: %s", error);
        agent_publish(a);
        agent_notify_status(a, "READY=1\n");
        *ret_error = TAKE_PTR(error);
        return -EINVAL;
}

static int on_control(ControlCommand cmd, void *userdata, json_object **ret) {
        Agent *a = userdata;
        json_object *o = json_object_new_object();

        if (!o)
                return -ENOMEM;
        if (cmd == CONTROL_STATUS) {
                json_object_object_add(o, "ok", json_object_new_boolean(true));
                json_object_object_add(o, "status", status_snapshot_to_json(&a->status));
        } else if (cmd == CONTROL_RELOAD) {
                _cleanup_free_ char *error = NULL;
                int r;

                r = agent_reload(a, &error);
                if (r == -ENOMEM) {
                        json_object_put(o);
                        return r;
                }
                json_object_object_add(o, "ok", json_object_new_boolean(r >= 0));
                if (r < 0)
                        json_object_object_add(o, "error", json_object_new_string(error ? error : strerror(-r)));
        } else {
                json_object_put(o);
                return -EINVAL;
        }
        *ret = o;
        return 0;
}

static int on_signal(sd_event_source *s, const struct signalfd_siginfo *si, void *userdata) {
        Agent *a = userdata;

        (void) s;
        if (si->ssi_signo == SIGHUP) {
                _cleanup_free_ char *error = NULL;
                int r = agent_reload(a, &error);

                if (r == -ENOMEM) {
                        log_error("reload: out of memory");
                        return sd_event_exit(a->event, 1);
                }
                return 0;
        }
        log_event(LOG_LVL_INFO, "stopping", NULL, "signal %s: stopping", si->ssi_signo == SIGTERM ? "SIGTERM" : "SIGINT");
        return sd_event_exit(a->event, 0);
}

/* A period failed with R (logged where it happened): it costs that period
 * and a backoff, not the daemon. Returns the delay before the next one, in
 * periods. */
static unsigned period_failed(Agent *a, int r) {
        unsigned wait = 1u << (a->failures < 4 ? a->failures : 3);

        wait = wait < FAIL_BACKOFF_MAX ? wait : FAIL_BACKOFF_MAX;
        a->failures++;
        snprintf(a->period_error, sizeof(a->period_error), "period %u failed: %.256s", a->number,
                 a->engine.error[0] ? a->engine.error : strerror(-r));
        if (a->failures == 1)
                log_event(LOG_LVL_WARNING, "period_failed", NULL,
                          "%s; tierd keeps running and tries again, waiting up to %u periods while periods fail; "
                          "said again when one succeeds", a->period_error, FAIL_BACKOFF_MAX);
        else
                log_debug("%s, %u in a row: the next in %u period(s)", a->period_error, a->failures, wait);
        return wait;
}

/* The next period WAIT periods after START. */
static int rearm(Agent *a, sd_event_source *s, uint64_t start, unsigned wait) {
        int r;

        a->number++;
        r = sd_event_source_set_time(s, start + (uint64_t) wait * a->engine.period_ms * 1000);
        if (r >= 0)
                r = sd_event_source_set_enabled(s, SD_EVENT_ONESHOT);
        if (r < 0) {
                log_error_errno(r, "cannot re-arm the period timer: %m");
                return sd_event_exit(a->event, 1);
        }
        return 0;
}

static int on_timer(sd_event_source *s, uint64_t usec, void *userdata) {
        Agent *a = userdata;
        uint64_t start;
        int r;

        (void) usec;
        (void) sd_event_now(a->event, CLOCK_MONOTONIC, &start);
        r = agent_period(a, a->arming == 0);
        if (r == -ENOMEM) {
                /* the only error not logged where it happens, and the one
                 * that stops tierd: nothing can be trusted to work after it */
                log_error("period %u: out of memory", a->number);
                snprintf(a->last_error, sizeof(a->last_error), "period %u failed: %s", a->number, strerror(-r));
                return sd_event_exit(a->event, 1);
        }
        if (r < 0) {
                unsigned wait = period_failed(a, r);

                agent_publish(a);
                agent_notify_status(a, NULL);
                return rearm(a, s, start, wait);
        }
        if (a->failures) {
                log_event(LOG_LVL_INFO, "period_recovered", NULL, "period %u ran, after %u that failed (the last: %s)",
                          a->number, a->failures, a->period_error);
                a->failures = 0;
                a->period_error[0] = '\0';
        }
        if (a->arming > 0)
                a->arming--;
        else
                a->worked++;
        agent_publish(a);
        agent_notify_status(a, NULL);
        if (a->args->periods && a->worked >= a->args->periods) {
                log_event(LOG_LVL_INFO, "stopping", NULL, "%u period(s) done: stopping", a->args->periods);
                return sd_event_exit(a->event, 0);
        }
        return rearm(a, s, start, 1);
}

static void agent_done(Agent *a) {
        a->metrics = metrics_server_stop(a->metrics);
        a->control = control_server_free(a->control);
        a->timer = sd_event_source_disable_unref(a->timer);
        if (a->engine.scanner_ops && a->engine.scanner)
                a->engine.scanner_ops->close(a->engine.scanner);
        a->engine.scanner = NULL;
        engine_done(&a->engine);
        config_free(a->config);
        if (a->scan_probe != a->probe)
                probe_free(a->scan_probe);
        probe_free(a->probe);
        status_snapshot_done(&a->status);
        a->event = sd_event_unref(a->event);
}

/* Configuration, probe, engine, scanner and movers: everything a period
 * needs, before the event loop. */
static int agent_setup(Agent *a) {
        _cleanup_free_ char *error = NULL;
        const DaemonArgs *args = a->args;
        Engine *e = &a->engine;
        int r;

        r = config_load(args->config_path, NULL, &a->config, &error);
        if (r >= 0)
                r = service_check(a->config, &a->have_read_group, &a->read_group, &error);
        if (r >= 0)
                r = probe_check(a, &a->probe, &error);
        if (r < 0) {
                log_error("%s", error ? error : strerror(-r));
                return r;
        }
        a->scan_probe = a->probe;
        if (a->probe->topology->n_tiers < 2)
                log_warning("only one memory tier: tierd observes and plans, but there is nowhere to move pages");
        e->sysfs_root = a->sysfs_root;
        e->procfs_root = a->procfs_root;
        e->period_ms = args->period_ms ? args->period_ms : a->config->scanner.period_ms;
        engine_point(a, a->probe, a->config);
        e->max_candidates = MAX_CANDIDATES;
        /* the planner plans from the heat model (core/heatmodel.h), which
         * the scanner feeds with every range it classified */
        r = engine_init(e, true, now_ms());
        if (r < 0)
                return r;
        a->so = (ScanOptions) {
                .sysfs_root = a->sysfs_root,
                .procfs_root = a->procfs_root,
                .cgroup_mount = a->probe->cgroup_mount,
                .topology = a->probe->topology,
                .period_ms = e->period_ms,
                .cpu_budget_permille = a->config->scanner.cpu_budget_permille,
                .max_candidates = MAX_CANDIDATES,
                /* the processes' pages, and (idle_page) a sweep of the
                 * unmapped ones: page cache, tmpfs, shmem */
                .flags = HEAT_WANT_RANGES | HEAT_UNMAPPED,
        };
        e->unmapped_sweep = true;
        snprintf(a->scanner_wanted, sizeof(a->scanner_wanted), "%s", args->backend ? args->backend : a->config->scanner.backend);
        r = scan_open_backend(a->probe, a->scanner_wanted, &a->so, &e->scanner_ops, &e->scanner);
        if (r < 0)
                return r;
        a->arming = e->scanner_ops->arming_periods;
        log_set_backend(e->scanner_ops->name);
        {
                const MoverBackend *m;

                r = engine_check_mover(a->config->mover.backend, a->probe->demotion_enabled, a->sysfs_root,
                                       e->scanner_ops, &m, &error);
                if (r >= 0)
                        r = engine_set_mover(e, m);
        }
        if (r < 0)
                log_error("%s", error ? error : strerror(-r));
        return r;
}

/* The event loop, its sources, the control socket and the metrics. */
static int agent_serve_setup(Agent *a) {
        _cleanup_free_ char *error = NULL;
        const char *sock;
        int r;

        r = sd_event_new(&a->event);
        if (r >= 0)
                r = sd_event_set_watchdog(a->event, true);
        if (r >= 0)
                r = sd_event_add_signal(a->event, NULL, SIGTERM, on_signal, a);
        if (r >= 0)
                r = sd_event_add_signal(a->event, NULL, SIGINT, on_signal, a);
        if (r >= 0)
                r = sd_event_add_signal(a->event, NULL, SIGHUP, on_signal, a);
        if (r >= 0)
                r = sd_event_add_time(a->event, &a->timer, CLOCK_MONOTONIC, 0, 0, on_timer, a);
        if (r < 0)
                return log_error_errno(r, "cannot set up the event loop: %m");

        sock = a->args->control_socket ? a->args->control_socket : a->config->control.socket;
        if (sock[0]) {
                r = control_server_new(a->event, sock, a->have_read_group, a->read_group, a->procfs_root, on_control,
                                       a, &a->control, &error);
                if (r < 0) {
                        log_error("%s", error ? error : strerror(-r));
                        return r;
                }
        }
        if (a->config->metrics.listen[0]) {
                free(error);
                error = NULL;
                r = metrics_server_start(a->config->metrics.listen, &a->metrics, &error);
                if (r < 0) {
                        if (error)
                                log_error("%s", error); /* names metrics.listen and the address */
                        else
                                log_error_errno(r, "metrics.listen \"%s\": %m", a->config->metrics.listen);
                        return r;
                }
        }
        return 0;
}

int daemon_run(const DaemonArgs *args) {
        Agent a = { .args = args };
        sigset_t mask, old;
        int r, status = 1;

        a.sysfs_root = args->sysfs_root ? args->sysfs_root : "/sys";
        a.procfs_root = args->procfs_root ? args->procfs_root : "/proc";
        a.started_realtime_s = (uint64_t) time(NULL);

        /* before the scanner opens: a signal from now on stops the agent
         * through the event loop, after the scanner is closed */
        sigemptyset(&mask);
        sigaddset(&mask, SIGINT);
        sigaddset(&mask, SIGTERM);
        sigaddset(&mask, SIGHUP);
        sigprocmask(SIG_BLOCK, &mask, &old);

        r = agent_setup(&a);
        if (r >= 0)
                r = agent_serve_setup(&a);
        if (r < 0)
                goto out;

        agent_status_header(&a, &a.status);
        log_event(LOG_LVL_INFO, "started", NULL,
                  "tierd %s: %d tier(s), scanner %s, mover %s, period %" PRIu64 " ms, configuration %s, control %s",
                  TIERD_VERSION, a.probe->topology->n_tiers, a.engine.scanner_ops->name, a.engine.mover->name,
                  a.engine.period_ms, args->config_path, a.control ? control_server_path(a.control) : "off");
        agent_notify_status(&a, "READY=1\n");

        r = sd_event_loop(a.event);
        status = r < 0 ? 1 : r;
        if (r < 0)
                log_error_errno(r, "event loop failed: %m");
out:
        (void) sd_notify(false, "STOPPING=1");
        agent_done(&a);
        sigprocmask(SIG_SETMASK, &old, NULL);
        return status;
}
