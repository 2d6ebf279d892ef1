/* SPDX-License-Identifier: MIT */
/* Shared by the Check unit tests: running a suite, a temporary tree to
 * write sysfs/cgroupfs-like files into, and field-wise PolicySpec equality. */
#pragma once

#include <check.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "policy.h"

/* Runs every test of S; the process exit status (0 all passed). */
static inline int unit_run(Suite *s) {
        SRunner *sr = srunner_create(s);
        int failed;

        srunner_run_all(sr, CK_NORMAL);
        failed = srunner_ntests_failed(sr);
        srunner_free(sr);
        return failed ? 1 : 0;
}

/* The temporary tree of the running test (a checked fixture creates it). */
static inline char *unit_tmproot(void) {
        static char root[64];

        return root;
}

static inline void unit_tmp_setup(void) {
        snprintf(unit_tmproot(), 64, "/tmp/tierd-unit-XXXXXX");
        ck_assert_ptr_nonnull(mkdtemp(unit_tmproot()));
}

static inline void unit_tmp_teardown(void) {
        char cmd[128];

        snprintf(cmd, sizeof(cmd), "rm -rf '%s'", unit_tmproot());
        ck_assert_int_eq(system(cmd), 0);
}

/* Writes CONTENT to REL (leading '/' optional) under the temporary tree,
 * creating the directories on the way. */
static inline void unit_write_file(const char *rel, const char *content) {
        char path[1024], *slash;
        FILE *f;

        while (*rel == '/')
                rel++;
        snprintf(path, sizeof(path), "%s/%s", unit_tmproot(), rel);
        for (slash = strchr(path + 1, '/'); slash; slash = strchr(slash + 1, '/')) {
                *slash = '\0';
                mkdir(path, 0755);
                *slash = '/';
        }
        f = fopen(path, "w");
        ck_assert_ptr_nonnull(f);
        fputs(content, f);
        fclose(f);
}

static inline bool unit_quantity_eq(const Quantity *a, const Quantity *b) {
        return a->set == b->set && a->unlimited == b->unlimited && a->bytes == b->bytes;
}

static inline bool unit_limit_eq(const Limit *a, const Limit *b) {
        return a->kind == b->kind && a->bytes == b->bytes && a->permyriad == b->permyriad;
}

/* Field by field: struct padding is not part of the value. */
static inline bool unit_spec_eq(const PolicySpec *a, const PolicySpec *b) {
        if (strcmp(a->class_name, b->class_name) != 0 || a->mode != b->mode ||
            !unit_quantity_eq(&a->promote_rate, &b->promote_rate) ||
            !unit_quantity_eq(&a->promote_burst, &b->promote_burst) ||
            !unit_quantity_eq(&a->demote_rate, &b->demote_rate) ||
            !unit_quantity_eq(&a->demote_burst, &b->demote_burst))
                return false;
        for (int t = 0; t < POLICY_MAX_TIERS; t++)
                if (!unit_limit_eq(&a->tier_max[t], &b->tier_max[t]) ||
                    !unit_limit_eq(&a->tier_low[t], &b->tier_low[t]))
                        return false;
        return true;
}
