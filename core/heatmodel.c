/* SPDX-License-Identifier: MIT */
/* The heat model (see heatmodel.h for what it means). Pure: no I/O.
 *
 * Per tenant, one array of entries sorted by (kind, pid, start), never
 * overlapping within a (kind, pid). An observation batch is sorted the
 * same way and merged in one sweep (tenant_merge()): the old entries'
 * parts outside the batch's ranges are kept, the batch's ranges are
 * written over the rest, split where an old entry's demotion flags change
 * what the observation means. Tenants are one array sorted by id. */
#include "heatmodel.h"
#include "scanner.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "util.h"

_Static_assert(sizeof(HeatEntry) == 48, "a heat entry is 48 bytes");

typedef struct Tenant {
        uint64_t id;
        HeatEntry *e;                   /* sorted by (kind, pid, start) */
        size_t n, alloc;
        uint32_t pass;                  /* passes begun: the open or last one */
        uint32_t exact_passes;          /* exact passes ended since the last change */
        bool pass_open;
        bool pass_after_change;         /* the open pass began after the last change */
        bool pass_base_known;           /* resident was known when the open pass began */
        bool resident_known;
        bool byte_only;
        uint32_t summary_pass;          /* byte_only: the pass the summary was observed in */
        uint64_t pass_begin_ms, exact_end_ms;
        uint64_t resident[HEAT_MAX_TIERS];
        uint64_t pass_base[HEAT_MAX_TIERS];     /* resident when the open pass began */
        uint64_t base[HEAT_MAX_TIERS];          /* that of the last exact pass, shifted by moves */
        HeatSummary summary;            /* byte_only */
        uint64_t summary_ms;
        uint64_t unmapped_hot[HEAT_MAX_TIERS], unmapped_cold[HEAT_MAX_TIERS]; /* the last sweep's */
        uint64_t unmapped_ms;           /* when it ended, 0 never */
} Tenant;

struct HeatModel {
        HeatModelOptions opts;
        Tenant *t;                      /* sorted by id */
        size_t n, alloc;
};

/* An entry array being built (merges into its last entry when it can). */
typedef struct Vec {
        HeatEntry *v;
        size_t n, alloc;
} Vec;

/* ---- small helpers ------------------------------------------------------ */

static int key_cmp(const HeatEntry *a, const HeatEntry *b) {
        if (a->kind != b->kind)
                return a->kind < b->kind ? -1 : 1;
        if (a->pid != b->pid)
                return a->pid < b->pid ? -1 : 1;
        return 0;
}

static int entry_cmp(const void *x, const void *y) {
        const HeatEntry *a = x, *b = y;
        int c = key_cmp(a, b);

        if (c != 0)
                return c;
        if (a->start != b->start)
                return a->start < b->start ? -1 : 1;
        return (a->end > b->end) - (a->end < b->end);
}

static bool tier_ok(int tier) {
        return tier >= 0 && tier < HEAT_MAX_TIERS;
}

/* Equal in everything but the range: one entry can stand for both. */
static bool same_attrs(const HeatEntry *a, const HeatEntry *b) {
        return a->age == b->age && a->nr_accesses == b->nr_accesses && a->tier == b->tier && a->node == b->node &&
               a->flags == b->flags && a->pass == b->pass && a->observed_ms == b->observed_ms;
}

static int vec_push(Vec *v, const HeatEntry *e) {
        HeatEntry *last = v->n > 0 ? &v->v[v->n - 1] : NULL;

        if (e->end <= e->start)
                return 0;
        if (last && key_cmp(last, e) == 0 && last->end == e->start && same_attrs(last, e)) {
                last->end = e->end;
                return 0;
        }
        if (v->n == v->alloc) {
                size_t na = v->alloc ? v->alloc * 2 : 64;
                HeatEntry *nv = realloc(v->v, na * sizeof(*nv));

                if (!nv)
                        return -ENOMEM;
                v->v = nv;
                v->alloc = na;
        }
        v->v[v->n++] = *e;
        return 0;
}

/* E with its range cut to [start, end). */
static int vec_push_part(Vec *v, const HeatEntry *e, uint64_t start, uint64_t end) {
        HeatEntry x = *e;

        x.start = start;
        x.end = end;
        return vec_push(v, &x);
}

static void tenant_set_entries(Tenant *t, Vec *v) {
        free(t->e);
        t->e = v->v;
        t->n = v->n;
        t->alloc = v->alloc;
        *v = (Vec) { 0 };
}

/* Gives back array space well beyond what is used. */
static void tenant_shrink(Tenant *t) {
        HeatEntry *ne;

        if (t->n == 0) {
                free(t->e);
                t->e = NULL;
                t->alloc = 0;
                return;
        }
        if (t->alloc <= 2 * t->n + 64)
                return;
        ne = realloc(t->e, t->n * sizeof(*ne));
        if (ne) {
                t->e = ne;
                t->alloc = t->n;
        }
}

static void tenant_clear_entries(Tenant *t) {
        free(t->e);
        t->e = NULL;
        t->n = t->alloc = 0;
}

/* ---- the model and its tenants ------------------------------------------ */

int heat_model_new(const HeatModelOptions *opts, HeatModel **ret) {
        HeatModel *m = calloc(1, sizeof(*m));

        if (!m)
                return -ENOMEM;
        if (opts)
                m->opts = *opts;
        if (m->opts.max_entries_tenant == 0)
                m->opts.max_entries_tenant = HEAT_MODEL_DEFAULT_TENANT_ENTRIES;
        if (m->opts.max_entries == 0)
                m->opts.max_entries = HEAT_MODEL_DEFAULT_ENTRIES;
        if (m->opts.growth_permille == 0)
                m->opts.growth_permille = HEAT_MODEL_DEFAULT_GROWTH_PERMILLE;
        if (m->opts.growth_min_bytes == 0)
                m->opts.growth_min_bytes = HEAT_MODEL_DEFAULT_GROWTH_MIN;
        *ret = m;
        return 0;
}

HeatModel *heat_model_free(HeatModel *m) {
        if (!m)
                return NULL;
        for (size_t i = 0; i < m->n; i++)
                free(m->t[i].e);
        free(m->t);
        free(m);
        return NULL;
}

/* Index of TENANT, or where it would go (*ret_found false). */
static size_t tenant_index(const HeatModel *m, uint64_t tenant, bool *ret_found) {
        size_t lo = 0, hi = m->n;

        while (lo < hi) {
                size_t mid = lo + (hi - lo) / 2;

                if (m->t[mid].id < tenant)
                        lo = mid + 1;
                else
                        hi = mid;
        }
        *ret_found = lo < m->n && m->t[lo].id == tenant;
        return lo;
}

static const Tenant *tenant_find(const HeatModel *m, uint64_t tenant) {
        bool found;
        size_t i = tenant_index(m, tenant, &found);

        return found ? &m->t[i] : NULL;
}

/* The tenant, created when unknown. The pointer lasts until the next
 * tenant is created or dropped. */
static int tenant_get(HeatModel *m, uint64_t tenant, Tenant **ret) {
        bool found;
        size_t i = tenant_index(m, tenant, &found);

        if (!found) {
                if (m->n == m->alloc) {
                        size_t na = m->alloc ? m->alloc * 2 : 16;
                        Tenant *nt = realloc(m->t, na * sizeof(*nt));

                        if (!nt)
                                return -ENOMEM;
                        m->t = nt;
                        m->alloc = na;
                }
                memmove(&m->t[i + 1], &m->t[i], (m->n - i) * sizeof(*m->t));
                m->t[i] = (Tenant) { .id = tenant };
                m->n++;
        }
        *ret = &m->t[i];
        return 0;
}

static void tenant_remove_at(HeatModel *m, size_t i) {
        free(m->t[i].e);
        memmove(&m->t[i], &m->t[i + 1], (m->n - i - 1) * sizeof(*m->t));
        m->n--;
}

void heat_model_drop(HeatModel *m, uint64_t tenant) {
        bool found;
        size_t i;

        if (!m)
                return;
        i = tenant_index(m, tenant, &found);
        if (found)
                tenant_remove_at(m, i);
}

static int cmp_u64(const void *x, const void *y) {
        uint64_t a = *(const uint64_t *) x, b = *(const uint64_t *) y;

        return (a > b) - (a < b);
}

int heat_model_retain(HeatModel *m, const uint64_t *ids, size_t n) {
        _cleanup_free_ uint64_t *sorted = NULL;

        if (n > 0) {
                sorted = malloc(n * sizeof(*sorted));
                if (!sorted)
                        return -ENOMEM;
                memcpy(sorted, ids, n * sizeof(*sorted));
                qsort_safe(sorted, n, sizeof(*sorted), cmp_u64);
        }
        for (size_t i = m->n; i > 0; i--)
                if (!sorted || !bsearch(&m->t[i - 1].id, sorted, n, sizeof(*sorted), cmp_u64))
                        tenant_remove_at(m, i - 1);
        return 0;
}

int heat_model_set_resident(HeatModel *m, uint64_t tenant, const uint64_t resident[HEAT_MAX_TIERS]) {
        Tenant *t;
        int r;

        r = tenant_get(m, tenant, &t);
        if (r < 0)
                return r;
        memcpy(t->resident, resident, sizeof(t->resident));
        t->resident_known = true;
        if (t->pass_open && !t->pass_base_known) {
                /* the pass began before anything was known: from now */
                memcpy(t->pass_base, resident, sizeof(t->pass_base));
                t->pass_base_known = true;
        }
        return 0;
}

int heat_model_changed(HeatModel *m, uint64_t tenant) {
        Tenant *t;
        int r;

        r = tenant_get(m, tenant, &t);
        if (r < 0)
                return r;
        t->exact_passes = 0;
        t->pass_after_change = false;
        return 0;
}

static Tenant *tenant_find_mut(HeatModel *m, uint64_t tenant) {
        return (Tenant *) tenant_find(m, tenant);
}

/* ---- bounded memory ------------------------------------------------------ */

/* Whether B continues A (same process, adjacent, same tier, node, flags and
 * pass) with an age at most D apart. */
static bool coarse_mergeable(const HeatEntry *a, const HeatEntry *b, unsigned d) {
        unsigned diff = a->age > b->age ? (unsigned) (a->age - b->age) : (unsigned) (b->age - a->age);

        return key_cmp(a, b) == 0 && a->end == b->start && a->tier == b->tier && a->node == b->node &&
               a->flags == b->flags && a->pass == b->pass && diff <= d;
}

/* A takes in B: the youngest age, the most accesses, the oldest time. */
static void coarse_merge(HeatEntry *a, const HeatEntry *b) {
        a->end = b->end;
        if (b->age < a->age)
                a->age = b->age;
        if (b->nr_accesses > a->nr_accesses)
                a->nr_accesses = b->nr_accesses;
        a->observed_ms = min_u64(a->observed_ms, b->observed_ms);
}

/* Merges neighbours whose ages differ by at most D, from the lowest
 * addresses up, until EXCESS entries are gone. */
static void coarsen(Tenant *t, unsigned d, size_t excess) {
        size_t w = 0, gone = 0;

        for (size_t i = 0; i < t->n; i++) {
                if (gone < excess && w > 0 && coarse_mergeable(&t->e[w - 1], &t->e[i], d)) {
                        coarse_merge(&t->e[w - 1], &t->e[i]);
                        gone++;
                        continue;
                }
                t->e[w++] = t->e[i];
        }
        t->n = w;
}

/* Drops the K entries observed longest ago (ties: lowest addresses first). */
static int drop_oldest(Tenant *t, size_t k) {
        _cleanup_free_ uint64_t *times = NULL;
        size_t older = 0, ties, w = 0;
        uint64_t cut;

        if (k == 0)
                return 0;
        if (k >= t->n) {
                tenant_clear_entries(t);
                return 0;
        }
        times = malloc(t->n * sizeof(*times));
        if (!times)
                return -ENOMEM;
        for (size_t i = 0; i < t->n; i++)
                times[i] = t->e[i].observed_ms;
        qsort_safe(times, t->n, sizeof(*times), cmp_u64);
        cut = times[k - 1];
        while (times[older] < cut)
                older++;
        ties = k - older; /* entries observed at CUT to drop too */
        for (size_t i = 0; i < t->n; i++) {
                if (t->e[i].observed_ms < cut)
                        continue;
                if (t->e[i].observed_ms == cut && ties > 0) {
                        ties--;
                        continue;
                }
                t->e[w++] = t->e[i];
        }
        t->n = w;
        return 0;
}

/* Brings the tenant to at most CAP entries (heatmodel.h: bounded memory). */
static int tenant_trim(Tenant *t, size_t cap) {
        int r = 0;

        for (unsigned d = 0; d <= HEAT_MAX_AGE && t->n > cap; d++)
                coarsen(t, d, t->n - cap);
        if (t->n > cap)
                r = drop_oldest(t, t->n - cap);
        tenant_shrink(t);
        return r;
}

size_t heat_model_n_entries(const HeatModel *m) {
        size_t n = 0;

        for (size_t i = 0; m && i < m->n; i++)
                n += m->t[i].n;
        return n;
}

/* Over the global cap: the tenant with the most entries gives up first,
 * never below an equal share. */
static int model_trim(HeatModel *m) {
        size_t total = heat_model_n_entries(m), max = m->opts.max_entries;

        while (total > max && m->n > 0) {
                size_t big = 0, fair = max / m->n, target;
                int r;

                for (size_t i = 1; i < m->n; i++)
                        if (m->t[i].n > m->t[big].n)
                                big = i;
                target = m->t[big].n - min_u64(total - max, m->t[big].n);
                if (target < fair)
                        target = fair;
                if (target >= m->t[big].n)
                        break; /* cannot happen: every tenant at or under its share is under the cap */
                r = tenant_trim(&m->t[big], target);
                if (r < 0)
                        return r;
                total = heat_model_n_entries(m);
        }
        return 0;
}

uint64_t heat_model_memory(const HeatModel *m) {
        uint64_t bytes;

        if (!m)
                return 0;
        bytes = sizeof(*m) + m->alloc * sizeof(*m->t);
        for (size_t i = 0; i < m->n; i++)
                bytes += m->t[i].alloc * sizeof(*m->t[i].e);
        return bytes;
}

/* ---- passes and observations -------------------------------------------- */

int heat_model_pass_begin(HeatModel *m, uint64_t tenant, uint64_t now_ms) {
        Tenant *t;
        int r;

        r = tenant_get(m, tenant, &t);
        if (r < 0)
                return r;
        t->pass++;
        t->pass_open = true;
        t->pass_after_change = true;
        t->pass_begin_ms = now_ms;
        t->pass_base_known = t->resident_known;
        memcpy(t->pass_base, t->resident, sizeof(t->pass_base));
        return 0;
}

int heat_model_pass_end(HeatModel *m, uint64_t tenant, bool exact, uint64_t now_ms) {
        Tenant *t = tenant_find_mut(m, tenant);
        size_t w = 0;

        if (!t || !t->pass_open)
                return -EINVAL;
        for (size_t i = 0; i < t->n; i++)
                if (t->e[i].pass == t->pass)
                        t->e[w++] = t->e[i];
        t->n = w;
        tenant_shrink(t);
        if (t->byte_only && t->summary_pass != t->pass)
                t->summary = (HeatSummary) { 0 };
        t->pass_open = false;
        if (exact && t->pass_after_change) {
                t->exact_passes++;
                t->exact_end_ms = now_ms;
                memcpy(t->base, t->pass_base_known ? t->pass_base : t->resident, sizeof(t->base));
        }
        return 0;
}

/* Whether observing OBS over the range of OLD contradicts OLD's demotion. */
static bool contradicts(const HeatEntry *old, const HeatEntry *obs) {
        return obs->age == 0 && obs->tier > 0 && (old->flags & (HEAT_ENTRY_DEMOTED | HEAT_ENTRY_DEMOTED_THEN_HOT));
}

/* The part [start, end) of observation B; on an unknown tier it only erases. */
static int push_obs(Vec *out, const HeatEntry *b, uint64_t start, uint64_t end, uint8_t flags) {
        HeatEntry x = *b;

        if (b->tier < 0)
                return 0;
        x.start = start;
        x.end = end;
        x.flags = flags;
        return vec_push(out, &x);
}

/* Pushes the old entries that lie wholly before B (in key order) and the
 * part of the first one that overlaps B before B's start; leaves in *PEND
 * (*HAVE) the first old entry not wholly pushed. */
static int merge_before(const Tenant *t, size_t *ia, HeatEntry *pend, bool *have, const HeatEntry *b, Vec *out) {
        int r;

        while (*have || *ia < t->n) {
                int c;

                if (!*have) {
                        *pend = t->e[(*ia)++];
                        *have = true;
                }
                c = key_cmp(pend, b);
                if (c > 0 || (c == 0 && pend->end > b->start))
                        break;
                r = vec_push(out, pend);
                if (r < 0)
                        return r;
                *have = false;
        }
        if (*have && key_cmp(pend, b) == 0 && pend->start < b->start)
                return vec_push_part(out, pend, pend->start, b->start);
        return 0;
}

/* Pushes observation B, split where the old entries it overlaps flip its
 * meaning (a hot observation of a demoted range); consumes the old entries
 * that end within B and trims the one that passes its end. */
static int merge_obs(const Tenant *t, size_t *ia, HeatEntry *pend, bool *have, const HeatEntry *b, Vec *out) {
        uint64_t pos = b->start;
        int r;

        while (*have || *ia < t->n) {
                uint64_t lo, hi;

                if (!*have) {
                        *pend = t->e[(*ia)++];
                        *have = true;
                }
                if (key_cmp(pend, b) != 0 || pend->start >= b->end)
                        break;
                lo = max_u64(pend->start, pos);
                hi = min_u64(pend->end, b->end);
                if (contradicts(pend, b) && lo < hi) {
                        r = push_obs(out, b, pos, lo, 0);
                        if (r < 0)
                                return r;
                        r = push_obs(out, b, lo, hi, HEAT_ENTRY_DEMOTED_THEN_HOT);
                        if (r < 0)
                                return r;
                        pos = hi;
                }
                if (pend->end > b->end) {
                        pend->start = b->end;
                        break;
                }
                *have = false;
        }
        return push_obs(out, b, pos, b->end, 0);
}

/* Writes the sorted, non-overlapping observations OBS over the tenant's
 * entries. */
static int tenant_merge(Tenant *t, const HeatEntry *obs, size_t nb) {
        Vec out = { 0 };
        HeatEntry pend = { 0 };
        bool have = false;
        size_t ia = 0;
        int r = 0;

        for (size_t j = 0; j < nb && r >= 0; j++) {
                r = merge_before(t, &ia, &pend, &have, &obs[j], &out);
                if (r >= 0)
                        r = merge_obs(t, &ia, &pend, &have, &obs[j], &out);
        }
        while (r >= 0 && (have || ia < t->n)) {
                if (!have)
                        pend = t->e[ia++];
                have = false;
                r = vec_push(&out, &pend);
        }
        if (r < 0) {
                free(out.v);
                return r;
        }
        tenant_set_entries(t, &out);
        return 0;
}

static bool range_valid(const ScanRange *r) {
        return r->kind <= SCAN_RANGE_PADDR && r->end > r->start && r->age <= HEAT_MAX_AGE && r->tier >= -1 &&
               r->tier < HEAT_MAX_TIERS;
}

/* RANGES as entries of the tenant's current pass, sorted, their overlaps
 * cut (the later start wins; of two with the same start, the longer). */
static int observations(const Tenant *t, const ScanRange *ranges, size_t n, uint64_t now_ms, HeatEntry **ret,
                        size_t *ret_n) {
        _cleanup_free_ HeatEntry *obs = NULL;
        size_t w = 0;

        obs = malloc(n * sizeof(*obs));
        if (!obs)
                return -ENOMEM;
        for (size_t i = 0; i < n; i++) {
                const ScanRange *r = &ranges[i];

                obs[i] = (HeatEntry) {
                        .start = r->start, .end = r->end, .observed_ms = now_ms,
                        .pid = r->kind == SCAN_RANGE_VADDR ? r->pid : 0, .pass = t->pass,
                        .nr_accesses = r->nr_accesses, .kind = r->kind, .age = r->age, .tier = r->tier,
                        .node = r->node,
                };
        }
        qsort_safe(obs, n, sizeof(*obs), entry_cmp);
        for (size_t i = 0; i < n; i++) {
                if (w > 0 && key_cmp(&obs[w - 1], &obs[i]) == 0 && obs[i].start < obs[w - 1].end) {
                        obs[w - 1].end = obs[i].start;
                        if (obs[w - 1].end <= obs[w - 1].start)
                                w--;
                }
                obs[w++] = obs[i];
        }
        *ret = TAKE_PTR(obs);
        *ret_n = w;
        return 0;
}

int heat_model_observe(HeatModel *m, uint64_t tenant, const ScanRange *ranges, size_t n, uint64_t now_ms) {
        _cleanup_free_ HeatEntry *obs = NULL;
        size_t nb = 0;
        Tenant *t;
        int r;

        for (size_t i = 0; i < n; i++)
                if (!range_valid(&ranges[i]))
                        return -EINVAL;
        r = tenant_get(m, tenant, &t);
        if (r < 0)
                return r;
        if (t->byte_only) {
                t->byte_only = false;
                t->summary = (HeatSummary) { 0 };
        }
        if (n == 0)
                return 0;
        r = observations(t, ranges, n, now_ms, &obs, &nb);
        if (r < 0)
                return r;
        r = tenant_merge(t, obs, nb);
        if (r < 0)
                return r;
        r = tenant_trim(t, m->opts.max_entries_tenant);
        if (r < 0)
                return r;
        return model_trim(m);
}

int heat_model_observe_bytes(HeatModel *m, uint64_t tenant, const HeatSummary *h, uint64_t now_ms) {
        Tenant *t;
        int r;

        r = tenant_get(m, tenant, &t);
        if (r < 0)
                return r;
        tenant_clear_entries(t);
        t->byte_only = true;
        t->summary = *h;
        t->summary_ms = now_ms;
        t->summary_pass = t->pass;
        return 0;
}

int heat_model_observe_unmapped(HeatModel *m, uint64_t tenant, const uint64_t hot[HEAT_MAX_TIERS],
                                const uint64_t cold[HEAT_MAX_TIERS], uint64_t now_ms) {
        Tenant *t;
        int r;

        r = tenant_get(m, tenant, &t);
        if (r < 0)
                return r;
        memcpy(t->unmapped_hot, hot, sizeof(t->unmapped_hot));
        memcpy(t->unmapped_cold, cold, sizeof(t->unmapped_cold));
        t->unmapped_ms = now_ms;
        return 0;
}

int heat_model_feed(HeatModel *m, const TenantHeat *h, unsigned flags, uint64_t now_ms) {
        int r;

        if (flags & HEAT_FEED_UNMAPPED) {
                r = heat_model_observe_unmapped(m, h->cgroup_id, h->unmapped_hot, h->unmapped_cold, now_ms);
                if (r < 0)
                        return r;
        }
        if (flags & HEAT_FEED_PASS_BEGIN) {
                r = heat_model_pass_begin(m, h->cgroup_id, now_ms);
                if (r < 0)
                        return r;
        }
        if (flags & HEAT_FEED_BYTE_ONLY)
                r = heat_model_observe_bytes(m, h->cgroup_id, &h->heat, now_ms);
        else
                r = heat_model_observe(m, h->cgroup_id, h->ranges, h->n_ranges, now_ms);
        if (r < 0)
                return r;
        if (flags & HEAT_FEED_PASS_END)
                return heat_model_pass_end(m, h->cgroup_id, flags & HEAT_FEED_EXACT, now_ms);
        return 0;
}

/* ---- expiry and moves ---------------------------------------------------- */

static int cmp_pid(const void *x, const void *y) {
        pid_t a = *(const pid_t *) x, b = *(const pid_t *) y;

        return (a > b) - (a < b);
}

int heat_model_expire_pids(HeatModel *m, uint64_t tenant, const pid_t *live, size_t n) {
        _cleanup_free_ pid_t *sorted = NULL;
        Tenant *t = tenant_find_mut(m, tenant);
        size_t w = 0;

        if (!t)
                return 0;
        if (n > 0) {
                sorted = malloc(n * sizeof(*sorted));
                if (!sorted)
                        return -ENOMEM;
                memcpy(sorted, live, n * sizeof(*sorted));
                qsort_safe(sorted, n, sizeof(*sorted), cmp_pid);
        }
        for (size_t i = 0; i < t->n; i++)
                if (t->e[i].kind != SCAN_RANGE_VADDR ||
                    (sorted && bsearch(&t->e[i].pid, sorted, n, sizeof(*sorted), cmp_pid)))
                        t->e[w++] = t->e[i];
        t->n = w;
        tenant_shrink(t);
        return 0;
}

void heat_model_drop_pid(HeatModel *m, uint64_t tenant, pid_t pid) {
        Tenant *t = m ? tenant_find_mut(m, tenant) : NULL;
        size_t w = 0;

        if (!t)
                return;
        for (size_t i = 0; i < t->n; i++)
                if (t->e[i].kind != SCAN_RANGE_VADDR || t->e[i].pid != pid)
                        t->e[w++] = t->e[i];
        t->n = w;
        tenant_shrink(t);
}

/* Shifts the coverage bases by BYTES that tierd moved from tier FROM to TO. */
static void base_shift(Tenant *t, int from, int to, uint64_t bytes) {
        if (!tier_ok(from) || !tier_ok(to) || from == to)
                return;
        t->base[from] -= min_u64(bytes, t->base[from]);
        t->base[to] += bytes;
        t->pass_base[from] -= min_u64(bytes, t->pass_base[from]);
        t->pass_base[to] += bytes;
}

int heat_model_moved_bytes(HeatModel *m, uint64_t tenant, int from_tier, int to_tier, uint64_t bytes) {
        Tenant *t;
        int r;

        if (!tier_ok(from_tier) || !tier_ok(to_tier))
                return -EINVAL;
        r = tenant_get(m, tenant, &t);
        if (r < 0)
                return r;
        base_shift(t, from_tier, to_tier, bytes);
        return 0;
}

/* Moves up to *LEFT bytes of V[FROM] to V[TO]; *LEFT decreases by them. */
static void shift(uint64_t v[HEAT_MAX_TIERS], int from, int to, uint64_t *left) {
        uint64_t x = min_u64(*left, v[from]);

        v[from] -= x;
        v[to] += x;
        *left -= x;
}

int heat_model_unmapped_moved(HeatModel *m, uint64_t tenant, int from_tier, int to_tier, uint64_t bytes) {
        uint64_t left = bytes;
        Tenant *t;
        int r;

        if (!tier_ok(from_tier) || !tier_ok(to_tier))
                return -EINVAL;
        r = tenant_get(m, tenant, &t);
        if (r < 0)
                return r;
        base_shift(t, from_tier, to_tier, bytes);
        if (from_tier == to_tier)
                return 0;
        if (to_tier > from_tier) {
                shift(t->unmapped_cold, from_tier, to_tier, &left);
                shift(t->unmapped_hot, from_tier, to_tier, &left);
        } else {
                shift(t->unmapped_hot, from_tier, to_tier, &left);
                shift(t->unmapped_cold, from_tier, to_tier, &left);
        }
        return 0;
}

/* The entries [*ret_first, *ret_last) of the tenant that overlap R. */
static void overlapping(const Tenant *t, const HeatEntry *r, size_t *ret_first, size_t *ret_last) {
        size_t lo = 0, hi = t->n;

        while (lo < hi) {
                size_t mid = lo + (hi - lo) / 2;

                if (entry_cmp(&t->e[mid], r) < 0)
                        lo = mid + 1;
                else
                        hi = mid;
        }
        if (lo > 0 && key_cmp(&t->e[lo - 1], r) == 0 && t->e[lo - 1].end > r->start)
                lo--;
        hi = lo;
        while (hi < t->n && key_cmp(&t->e[hi], r) == 0 && t->e[hi].start < r->end)
                hi++;
        *ret_first = lo;
        *ret_last = hi;
}

/* Replaces entries [first, last) of the tenant by the N entries of V. */
static int splice(Tenant *t, size_t first, size_t last, const HeatEntry *v, size_t n) {
        size_t nn = t->n - (last - first) + n;

        if (nn > t->alloc) {
                HeatEntry *ne = realloc(t->e, nn * sizeof(*ne));

                if (!ne)
                        return -ENOMEM;
                t->e = ne;
                t->alloc = nn;
        }
        memmove(&t->e[first + n], &t->e[last], (t->n - last) * sizeof(*t->e));
        if (n > 0)
                memcpy(&t->e[first], v, n * sizeof(*v));
        t->n = nn;
        return 0;
}

int heat_model_moved(HeatModel *m, uint64_t tenant, const ScanRange *r, int new_tier, int new_node, uint64_t bytes) {
        HeatEntry key = { .kind = r->kind, .pid = r->kind == SCAN_RANGE_VADDR ? r->pid : 0, .start = r->start,
                          .end = r->end };
        Vec v = { 0 };
        size_t first, last;
        Tenant *t;
        int ret;

        if (!range_valid(r) || !tier_ok(new_tier) || new_node < -1 || new_node > INT8_MAX)
                return -EINVAL;
        ret = tenant_get(m, tenant, &t);
        if (ret < 0)
                return ret;
        base_shift(t, r->tier, new_tier, bytes);
        overlapping(t, &key, &first, &last);
        for (size_t i = first; i < last && ret >= 0; i++) {
                HeatEntry e = t->e[i], mid = e;

                if (e.start < key.start)
                        ret = vec_push_part(&v, &e, e.start, key.start);
                mid.flags = (uint8_t) (HEAT_ENTRY_MOVED | (new_tier > e.tier ? HEAT_ENTRY_DEMOTED : 0));
                mid.tier = (int8_t) new_tier;
                mid.node = (int8_t) new_node;
                /* PADDR: the pages are at other addresses now */
                if (ret >= 0 && key.kind == SCAN_RANGE_VADDR)
                        ret = vec_push_part(&v, &mid, max_u64(e.start, key.start), min_u64(e.end, key.end));
                if (ret >= 0 && e.end > key.end)
                        ret = vec_push_part(&v, &e, key.end, e.end);
        }
        if (ret >= 0)
                ret = splice(t, first, last, v.v, v.n);
        free(v.v);
        return ret;
}

/* ---- queries ------------------------------------------------------------- */

static bool tier_grown(const HeatModel *m, const Tenant *t, int tier) {
        uint64_t base = t->base[tier], slack;

        if (m->opts.ignore_growth || t->exact_passes == 0)
                return false;
        slack = base / 1000 * m->opts.growth_permille + base % 1000 * m->opts.growth_permille / 1000;
        slack = max_u64(slack, m->opts.growth_min_bytes);
        return t->resident[tier] > base && t->resident[tier] - base > slack;
}

bool heat_model_coverage_complete(const HeatModel *m, uint64_t tenant, int tier) {
        const Tenant *t = m && tier_ok(tier) ? tenant_find(m, tenant) : NULL;

        return t && t->exact_passes > 0 && !tier_grown(m, t, tier);
}

/* Every tier's coverage of T (NULL: nothing known) in one walk. */
static void coverage_all(const HeatModel *m, const Tenant *t, HeatCoverage cov[HEAT_MAX_TIERS]) {
        memset(cov, 0, HEAT_MAX_TIERS * sizeof(*cov));
        if (!t)
                return;
        for (int k = 0; k < HEAT_MAX_TIERS; k++) {
                cov[k] = (HeatCoverage) {
                        .resident = t->resident[k], .base = t->base[k], .pass_begin_ms = t->pass_begin_ms,
                        .exact_end_ms = t->exact_end_ms, .passes = t->pass, .exact_passes = t->exact_passes,
                        .pass_open = t->pass_open, .grown = tier_grown(m, t, k),
                };
                cov[k].complete = t->exact_passes > 0 && !cov[k].grown;
                cov[k].unmapped_hot = t->unmapped_hot[k];
                cov[k].unmapped_cold = t->unmapped_cold[k];
                cov[k].unmapped_ms = t->unmapped_ms;
                cov[k].classified += t->unmapped_hot[k] + t->unmapped_cold[k];
                if (t->byte_only)
                        for (int a = 0; a <= HEAT_MAX_AGE; a++)
                                cov[k].classified += t->summary.bytes[k][a];
                if (t->byte_only && t->pass_open && t->summary_pass == t->pass)
                        cov[k].this_pass = cov[k].classified;
        }
        for (size_t i = 0; i < t->n; i++) {
                const HeatEntry *e = &t->e[i];
                HeatCoverage *c = &cov[e->tier];
                uint64_t len = e->end - e->start;

                if (e->flags & HEAT_ENTRY_MOVED) {
                        c->unobserved += len;
                        continue;
                }
                c->classified += len;
                if (t->pass_open && e->pass == t->pass)
                        c->this_pass += len;
        }
}

int heat_model_coverage(const HeatModel *m, uint64_t tenant, int tier, HeatCoverage *ret) {
        HeatCoverage cov[HEAT_MAX_TIERS];

        if (!tier_ok(tier))
                return -EINVAL;
        coverage_all(m, tenant_find(m, tenant), cov);
        *ret = cov[tier];
        return 0;
}

static ScanRange entry_range(const HeatEntry *e) {
        return (ScanRange) {
                .kind = e->kind, .age = e->age, .tier = e->tier, .node = e->node, .pid = e->pid,
                .start = e->start, .end = e->end, .nr_accesses = e->nr_accesses,
        };
}

/* Ties of heat_pick_candidates()'s orders: start address, then pid. */
static int cmp_addr(const ScanRange *x, const ScanRange *y) {
        if (x->start != y->start)
                return x->start < y->start ? -1 : 1;
        return (x->pid > y->pid) - (x->pid < y->pid);
}

static int cmp_cold(const void *a, const void *b) {
        const ScanRange *x = a, *y = b;

        if (x->age != y->age)
                return x->age > y->age ? -1 : 1; /* oldest first */
        return cmp_addr(x, y);
}

static int cmp_hot(const void *a, const void *b) {
        const ScanRange *x = a, *y = b;

        if (x->age != y->age)
                return x->age < y->age ? -1 : 1; /* youngest first */
        if (x->nr_accesses != y->nr_accesses)
                return x->nr_accesses > y->nr_accesses ? -1 : 1;
        return cmp_addr(x, y);
}

static int cmp_warm(const void *a, const void *b) {
        const ScanRange *x = a, *y = b;

        if (x->nr_accesses != y->nr_accesses)
                return x->nr_accesses < y->nr_accesses ? -1 : 1; /* least accessed first */
        return cmp_addr(x, y);
}

/* The first MAX of A (N of them) followed by B (NB), in one new array
 * (NULL when empty). */
static int take_first(const ScanRange *a, size_t n, const ScanRange *b, size_t nb, size_t max, ScanRange **ret,
                      size_t *ret_n) {
        size_t na = min_u64(n, max), total = min_u64(n + nb, max);
        ScanRange *v = NULL;

        if (total > 0) {
                v = malloc(total * sizeof(*v));
                if (!v)
                        return -ENOMEM;
                if (na > 0)
                        memcpy(v, a, na * sizeof(*v));
                if (total > na)
                        memcpy(v + na, b, (total - na) * sizeof(*v));
        }
        *ret = v;
        *ret_n = total;
        return 0;
}

/* The candidate lists of T (heatmodel.h) into V->heat. */
static int pick(const Tenant *t, int n_tiers, size_t max, HeatView *v) {
        _cleanup_free_ ScanRange *cold = NULL, *hot = NULL, *warm = NULL, *dth = NULL;
        size_t nc = 0, nh = 0, nw = 0, nd = 0;
        int r;

        if (t->n == 0)
                return 0;
        cold = malloc(t->n * sizeof(*cold));
        hot = malloc(t->n * sizeof(*hot));
        warm = malloc(t->n * sizeof(*warm));
        dth = malloc(t->n * sizeof(*dth));
        if (!cold || !hot || !warm || !dth)
                return -ENOMEM;
        for (size_t i = 0; i < t->n; i++) {
                const HeatEntry *e = &t->e[i];
                ScanRange x = entry_range(e);

                if ((e->flags & HEAT_ENTRY_MOVED) || e->tier >= n_tiers)
                        continue;
                if (e->tier < n_tiers - 1 && e->age > 0)
                        cold[nc++] = x;
                if (e->tier < n_tiers - 1 && e->age == 0)
                        warm[nw++] = x;
                if (e->tier > 0 && e->age == 0 && (e->flags & HEAT_ENTRY_DEMOTED_THEN_HOT))
                        dth[nd++] = x;
                else if (e->tier > 0 && e->age == 0)
                        hot[nh++] = x;
        }
        qsort_safe(cold, nc, sizeof(*cold), cmp_cold);
        qsort_safe(warm, nw, sizeof(*warm), cmp_warm);
        qsort_safe(dth, nd, sizeof(*dth), cmp_hot);
        qsort_safe(hot, nh, sizeof(*hot), cmp_hot);
        r = take_first(cold, nc, NULL, 0, max, &v->heat.cold, &v->heat.n_cold);
        if (r >= 0)
                r = take_first(warm, nw, NULL, 0, max, &v->heat.warm, &v->heat.n_warm);
        /* the demoted-then-hot ones lead */
        if (r >= 0)
                r = take_first(dth, nd, hot, nh, max, &v->heat.hot, &v->heat.n_hot);
        v->n_demoted_then_hot = min_u64(nd, max);
        return r;
}

/* Every observed entry of T as a range. */
static int all_ranges(const Tenant *t, TenantHeat *h) {
        size_t n = 0;

        if (t->n == 0)
                return 0;
        h->ranges = malloc(t->n * sizeof(*h->ranges));
        if (!h->ranges)
                return -ENOMEM;
        for (size_t i = 0; i < t->n; i++)
                if (!(t->e[i].flags & HEAT_ENTRY_MOVED))
                        h->ranges[n++] = entry_range(&t->e[i]);
        h->n_ranges = n;
        return 0;
}

int heat_model_view(const HeatModel *m, uint64_t tenant, int n_tiers, size_t max, unsigned flags, HeatView *ret) {
        HeatView v = { .heat.cgroup_id = tenant };
        const Tenant *t;
        int r = 0;

        if (n_tiers < 1 || n_tiers > HEAT_MAX_TIERS)
                return -EINVAL;
        t = tenant_find(m, tenant);
        coverage_all(m, t, v.coverage);
        if (t && t->byte_only) {
                v.byte_only = true;
                v.summary_ms = t->summary_ms;
                v.heat.heat = t->summary;
                for (int k = 0; k < HEAT_MAX_TIERS; k++)
                        v.heat.tracked_bytes += v.coverage[k].classified;
        } else if (t) {
                for (size_t i = 0; i < t->n; i++) {
                        const HeatEntry *e = &t->e[i];

                        if (e->flags & HEAT_ENTRY_MOVED)
                                continue;
                        v.heat.heat.bytes[e->tier][e->age] += e->end - e->start;
                        v.heat.tracked_bytes += e->end - e->start;
                }
                r = pick(t, n_tiers, max, &v);
                if (r >= 0 && (flags & HEAT_WANT_RANGES))
                        r = all_ranges(t, &v.heat);
        }
        if (r < 0) {
                heat_view_done(&v);
                return r;
        }
        *ret = v;
        return 0;
}

void heat_view_done(HeatView *v) {
        if (!v)
                return;
        free(v->heat.cold);
        free(v->heat.hot);
        free(v->heat.warm);
        free(v->heat.ranges);
        *v = (HeatView) { .heat.cgroup_id = v->heat.cgroup_id };
}

void heat_model_entries(const HeatModel *m, uint64_t tenant, const HeatEntry **ret, size_t *ret_n) {
        const Tenant *t = m ? tenant_find(m, tenant) : NULL;

        *ret = t ? t->e : NULL;
        *ret_n = t ? t->n : 0;
}
