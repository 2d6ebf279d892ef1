/* SPDX-License-Identifier: MIT */
/* StatusSnapshot ownership: a snapshot owns its tenant array and each
 * tenant's cgroup string, nothing else is heap memory. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "status.h"

void status_snapshot_done(StatusSnapshot *s) {
        if (!s)
                return;
        for (size_t i = 0; i < s->n_tenants && s->tenants; i++)
                free(s->tenants[i].cgroup);
        free(s->tenants);
        s->tenants = NULL;
        s->n_tenants = 0;
}

int status_snapshot_copy(const StatusSnapshot *s, StatusSnapshot *ret) {
        StatusSnapshot c = *s;

        c.tenants = NULL;
        c.n_tenants = 0;
        if (s->n_tenants > 0) {
                c.tenants = calloc(s->n_tenants, sizeof(StatusTenant));
                if (!c.tenants)
                        return -ENOMEM;
                for (size_t i = 0; i < s->n_tenants; i++) {
                        c.tenants[i] = s->tenants[i];
                        c.tenants[i].cgroup = NULL;
                        c.n_tenants = i + 1;
                        if (s->tenants[i].cgroup) {
                                c.tenants[i].cgroup = strdup(s->tenants[i].cgroup);
                                if (!c.tenants[i].cgroup) {
                                        status_snapshot_done(&c);
                                        return -ENOMEM;
                                }
                        }
                }
        }
        *ret = c;
        return 0;
}
