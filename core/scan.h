/* SPDX-License-Identifier: MIT */
/* `tierd scan`: runs one scanner backend over a few tenants for a few
 * periods and reports their heat; and the choice of backend the daemon
 * shares with it. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "heat.h"
#include "scanner.h"
#include "probe.h"

typedef struct ScanCmd {
        const char *backend;            /* NULL or "auto": chosen from the probe */
        char **cgroups;                 /* paths, relative to the cgroup mount or absolute under it */
        size_t n_cgroups;
        unsigned periods;               /* measured periods, after one arming scan */
        uint64_t period_ms;
        uint32_t cpu_budget_permille;
        size_t max_candidates;
        bool ranges, physical, json;
        const char *sysfs_root, *procfs_root;
} ScanCmd;

/* The backends to try, best first: WANTED alone when it names one (even
 * if the probe calls it unusable: its open() then says why), else every
 * backend this build has that the probe calls usable, in the order
 * idle_page, bpf, damon, lru_gen. -ENOENT (with *ret_n 0) when WANTED
 * names no backend of this build. */
int scan_backend_candidates(const Probe *p, const char *wanted, const ScannerOps **ret, size_t max, size_t *ret_n);

/* Opens the first of the candidates (above) that opens. With auto: one
 * info line names the better backends the probe ruled out and why; a
 * candidate that fails to open is one warning naming the reason (its own
 * error message, captured) and the backend used instead; after -EBUSY
 * (DAMON in use by someone else) bpf and damon are passed over together.
 * A backend named explicitly fails with its own error. -EINVAL when WANTED names no backend of this
 * build, -EOPNOTSUPP when none is usable, else the last open()'s error. */
int scan_open_backend(const Probe *p, const char *wanted, const ScanOptions *opts, const ScannerOps **ret_ops,
                      Scanner **ret);

/* Runs the command; returns the process exit status (0, 1 error, 2 usage). */
int scan_command(const ScanCmd *c);
