/* SPDX-License-Identifier: MIT */
/* The table of scanner backends and the helpers they share. */
#include <string.h>

#include "heat.h"
#include "scanner.h"
#include "util.h"

extern const ScannerOps scanner_idle_page_ops;
extern const ScannerOps scanner_damon_ops;
extern const ScannerOps scanner_bpf_ops;
extern const ScannerOps scanner_lru_gen_ops;

/* The one table of backends, in the order `auto` prefers them: exact
 * per-page heat first, then DAMON read through BPF, DAMON through sysfs,
 * and MGLRU's byte amounts last. */
static const ScannerOps *const backends[] = {
        &scanner_idle_page_ops,
        &scanner_bpf_ops,
        &scanner_damon_ops,
        &scanner_lru_gen_ops,
        NULL,
};

const ScannerOps *scanner_find(const char *name) {
        for (size_t i = 0; backends[i]; i++)
                if (strcmp(backends[i]->name, name) == 0)
                        return backends[i];
        return NULL;
}

const ScannerOps *const *scanner_backends(void) {
        return backends;
}

void heat_summary_totals(const HeatSummary *h, uint64_t *ret_hot, uint64_t *ret_cold) {
        uint64_t hot = 0, cold = 0;

        for (int t = 0; t < HEAT_MAX_TIERS; t++) {
                hot += h->bytes[t][0];
                for (int a = 1; a <= HEAT_MAX_AGE; a++)
                        cold += h->bytes[t][a];
        }
        *ret_hot = hot;
        *ret_cold = cold;
}

void tenant_heat_clear(TenantHeat *h) {
        uint64_t id = h->cgroup_id;

        free(h->cold);
        free(h->hot);
        free(h->warm);
        free(h->ranges);
        *h = (TenantHeat) { .cgroup_id = id };
}

int heat_add_range(TenantHeat *h, const ScanRange *r, size_t *alloc) {
        if (h->n_ranges == *alloc) {
                size_t n = *alloc ? *alloc * 2 : 64;
                ScanRange *nr = realloc(h->ranges, n * sizeof(*nr));

                if (!nr)
                        return -ENOMEM;
                h->ranges = nr;
                *alloc = n;
        }
        h->ranges[h->n_ranges++] = *r;
        return 0;
}

static int cmp_cold(const void *a, const void *b) {
        const ScanRange *x = a, *y = b;

        if (x->age != y->age)
                return x->age > y->age ? -1 : 1; /* oldest first */
        return (x->start > y->start) - (x->start < y->start);
}

static int cmp_hot(const void *a, const void *b) {
        const ScanRange *x = a, *y = b;

        if (x->age != y->age)
                return x->age < y->age ? -1 : 1; /* youngest first */
        if (x->nr_accesses != y->nr_accesses)
                return x->nr_accesses > y->nr_accesses ? -1 : 1;
        return (x->start > y->start) - (x->start < y->start);
}

static int cmp_warm(const void *a, const void *b) {
        const ScanRange *x = a, *y = b;

        if (x->nr_accesses != y->nr_accesses)
                return x->nr_accesses < y->nr_accesses ? -1 : 1; /* least accessed first */
        return (x->start > y->start) - (x->start < y->start);
}

int heat_pick_candidates(TenantHeat *h, const ScanRange *all, size_t n, int n_tiers, size_t max) {
        ScanRange *cold = NULL, *hot = NULL, *warm = NULL;
        size_t nc = 0, nh = 0, nw = 0;

        if (n > 0) {
                cold = malloc(n * sizeof(*cold));
                hot = malloc(n * sizeof(*hot));
                warm = malloc(n * sizeof(*warm));
                if (!cold || !hot || !warm) {
                        free(cold);
                        free(hot);
                        free(warm);
                        return -ENOMEM;
                }
        }
        for (size_t i = 0; i < n; i++) {
                const ScanRange *r = &all[i];

                if (r->tier < 0 || r->tier >= n_tiers)
                        continue; /* unknown, or a tier the topology does not have */
                if (r->tier < n_tiers - 1 && r->age > 0)
                        cold[nc++] = *r;
                if (r->tier < n_tiers - 1 && r->age == 0)
                        warm[nw++] = *r;
                if (r->tier > 0 && r->age == 0)
                        hot[nh++] = *r;
        }
        qsort_safe(cold, nc, sizeof(*cold), cmp_cold);
        qsort_safe(hot, nh, sizeof(*hot), cmp_hot);
        qsort_safe(warm, nw, sizeof(*warm), cmp_warm);
        free(h->cold);
        free(h->hot);
        free(h->warm);
        h->cold = cold;
        h->n_cold = nc < max ? nc : max;
        h->hot = hot;
        h->n_hot = nh < max ? nh : max;
        h->warm = warm;
        h->n_warm = nw < max ? nw : max;
        return 0;
}
