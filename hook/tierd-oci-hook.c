/* SPDX-License-Identifier: MIT */
/* tierd-oci-hook: records a pod's tierd.io/ annotations and its identity on
 * its cgroups for tierd (hook/oci.h). Run by the container runtime at
 * createRuntime, declared in hooks.d (deploy/kubernetes/tierd-hook.json).
 * It never fails a container's start: whatever goes wrong is logged (to
 * syslog and stderr, one line per pod) and it exits 0. */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <syslog.h>

#include "cgroup.h"
#include "hook.h"
#include "util.h"

static bool use_syslog = true;

_printf_(2, 3)
static void say(int prio, const char *fmt, ...) {
        _cleanup_free_ char *msg = NULL, *safe = NULL;
        va_list ap;

        va_start(ap, fmt);
        if (vasprintf(&msg, fmt, ap) < 0)
                msg = NULL;
        va_end(ap);
        if (!msg)
                return;
        safe = str_printable(msg);
        if (use_syslog)
                syslog(prio, "%s", safe ? safe : "(out of memory)");
        fprintf(stderr, "tierd-oci-hook: %s\n", safe ? safe : "(out of memory)");
}

static void help(void) {
        printf("Usage: tierd-oci-hook [--cgroup-root DIR] [--proc-root DIR] [--no-syslog]\n"
               "\n"
               "An OCI createRuntime hook: reads the container's state on stdin and records\n"
               "the pod's tierd.io/ annotations and names on its cgroups as trusted.tierd.pod.*\n"
               "and trusted.tierd.k8s.* extended attributes, for tierd. Always exits 0.\n"
               "\n"
               "  --cgroup-root DIR  the cgroup2 mount (default: found in /proc/self/mountinfo)\n"
               "  --proc-root DIR    procfs (default /proc)\n"
               "  --no-syslog        log to stderr only\n"
               "  --help, --version\n");
}

static void log_errors(const HookPlan *p, const char *who, bool pod, char errors[][192], size_t n) {
        char line[1024] = "";
        size_t len = 0;

        if (n == 0)
                return;
        for (size_t i = 0; i < n && len < sizeof(line); i++)
                len += (size_t) snprintf(line + len, sizeof(line) - len, "%s%s", i ? "; " : "", errors[i]);
        say(LOG_WARNING, "%s%s%s: tierd.io annotations ignored: %s", who, pod ? "" : " container ",
            pod ? "" : (p->container[0] ? p->container : "?"), line);
}

static int run(const char *cgroup_root, const char *proc_root) {
        _cleanup_free_ char *mount = NULL, *cgroup = NULL;
        _cleanup_close_ int root_fd = -1;
        HookInput in = { 0 };
        HookPlan plan = { 0 };
        const char *why = "";
        char who[400];
        bool first = false;
        int r;

        r = hook_read_input(STDIN_FILENO, &in, &why);
        if (r < 0) {
                say(LOG_WARNING, "%s, ignoring: %s", why, strerror(-r));
                goto done;
        }
        if (!cgroup_root) {
                r = cgroup_find_mount(proc_root, &mount);
                if (r < 0) {
                        say(LOG_WARNING, "container %s: no cgroup2 mount found, ignoring: %s", in.id ? in.id : "?",
                            strerror(-r));
                        goto done;
                }
                cgroup_root = mount;
        }
        root_fd = open(cgroup_root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (root_fd >= 0)
                r = hook_find_cgroup(&in, root_fd, proc_root, &cgroup);
        if (root_fd < 0 || r < 0) {
                say(LOG_WARNING, "container %s: its cgroup (cgroupsPath %s) is not under %s, ignoring",
                    in.id ? in.id : "?", in.cgroups_path ? in.cgroups_path : "none", cgroup_root);
                goto done;
        }
        {
                _cleanup_free_ char *pod_cgroup = NULL;

                r = hook_pod_cgroup(cgroup, &pod_cgroup);
                if (r >= 0 && strcmp(pod_cgroup, cgroup) != 0)
                        r = hook_read_stash(root_fd, pod_cgroup, &in);
        }
        if (r >= 0)
                r = hook_plan(&in, cgroup, &plan);
        if (r < 0) {
                say(LOG_ERR, "container %s: out of memory, ignoring", in.id ? in.id : "?");
                goto done;
        }
        if (plan.n_writes == 0 && plan.n_pod_errors == 0 && plan.n_container_errors == 0 && !plan.identity_error[0])
                goto done; /* nothing of ours: not a Kubernetes or annotated container */
        snprintf(who, sizeof(who), "pod %s/%s", plan.ns[0] ? plan.ns : "?", plan.pod[0] ? plan.pod : cgroup);
        /* every container's, not the pod's first only: each configuration
         * is checked on its own */
        if (plan.identity_error[0])
                say(LOG_WARNING,
                    "%s: the runtime's names for it disagree, none of them recorded (a pod without a namespace "
                    "gets no pods.grants entry): %s",
                    who, plan.identity_error);
        r = hook_apply(&plan, root_fd, &first);
        if (r < 0) {
                say(LOG_WARNING, "%s: cannot record its tier policy on %s, ignoring: %s", who, plan.pod_cgroup,
                    strerror(-r));
                goto done;
        }
        if (first)
                log_errors(&plan, who, true, plan.pod_errors, plan.n_pod_errors);
        log_errors(&plan, who, false, plan.container_errors, plan.n_container_errors);
done:
        hook_plan_done(&plan);
        hook_input_done(&in);
        return 0;
}

int main(int argc, char *argv[]) {
        static const struct option options[] = {
                { "cgroup-root", required_argument, NULL, 'c' },
                { "proc-root", required_argument, NULL, 'p' },
                { "no-syslog", no_argument, NULL, 'n' },
                { "help", no_argument, NULL, 'h' },
                { "version", no_argument, NULL, 'V' },
                {}
        };
        const char *cgroup_root = NULL, *proc_root = "/proc";
        int c;

        opterr = 0; /* one line of its own below */
        while ((c = getopt_long(argc, argv, "h", options, NULL)) >= 0)
                switch (c) {
                case 'c': cgroup_root = optarg; break;
                case 'p': proc_root = optarg; break;
                case 'n': use_syslog = false; break;
                case 'h': help(); return 0;
                case 'V': printf("tierd-oci-hook %s\n", TIERD_VERSION); return 0;
                default:
                        /* a wrong hooks.d entry must not stop every container */
                        fprintf(stderr, "tierd-oci-hook: bad arguments, ignoring (see --help)\n");
                        return 0;
                }
        if (use_syslog)
                openlog("tierd-oci-hook", LOG_PID, LOG_DAEMON);
        return run(cgroup_root, proc_root);
}
