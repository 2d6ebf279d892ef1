/* SPDX-License-Identifier: MIT */
#include "zoneinfo.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util.h"

static int zone_push(ZoneInfo **z, size_t *n, size_t *alloc, const ZoneInfo *one) {
        if (*n == *alloc) {
                size_t na = *alloc ? *alloc * 2 : 8;
                ZoneInfo *nz = realloc(*z, na * sizeof(**z));

                if (!nz)
                        return -ENOMEM;
                *z = nz;
                *alloc = na;
        }
        (*z)[(*n)++] = *one;
        return 0;
}

int zoneinfo_parse(const char *text, ZoneInfo **ret, size_t *ret_n) {
        _cleanup_free_ ZoneInfo *z = NULL;
        ZoneInfo cur = { .node = -1 };
        size_t n = 0, alloc = 0;
        bool any = false;

        for (const char *l = text; l && *l; l = strchr(l, '\n') ? strchr(l, '\n') + 1 : NULL) {
                unsigned long long v;
                int node;

                while (*l == ' ' || *l == '\t')
                        l++;
                if (sscanf(l, "Node %d, zone", &node) == 1) {
                        if (any && zone_push(&z, &n, &alloc, &cur) < 0)
                                return -ENOMEM;
                        cur = (ZoneInfo) { .node = node };
                        any = true;
                } else if (!any)
                        continue;
                else if (sscanf(l, "high %llu", &v) == 1) /* not the per-cpu "high:" */
                        cur.high = v;
                else if (sscanf(l, "managed %llu", &v) == 1)
                        cur.managed = v;
                else if (sscanf(l, "spanned %llu", &v) == 1)
                        cur.spanned = v;
                else if (sscanf(l, "start_pfn: %llu", &v) == 1) {
                        cur.start_pfn = v;
                        cur.has_start = 1;
                } else if (strncmp(l, "protection: (", 13) == 0) {
                        const char *c = l + 13;
                        char *end;

                        for (;;) {
                                v = strtoull(c, &end, 10);
                                if (end == c)
                                        break;
                                if (v > cur.protection)
                                        cur.protection = v;
                                c = end;
                                while (*c == ',' || *c == ' ')
                                        c++;
                        }
                }
        }
        if (!any)
                return -ENODATA;
        if (zone_push(&z, &n, &alloc, &cur) < 0)
                return -ENOMEM;
        *ret = TAKE_PTR(z);
        *ret_n = n;
        return 0;
}

static int cmp_u64(const void *a, const void *b) {
        uint64_t x = *(const uint64_t *) a, y = *(const uint64_t *) b;

        return (x > y) - (x < y);
}

int zoneinfo_node_spans(const char *text, NodeSpan **ret, size_t *ret_n) {
        _cleanup_free_ ZoneInfo *all = NULL;
        _cleanup_free_ uint64_t *pts = NULL;
        _cleanup_free_ NodeSpan *out = NULL;
        size_t n_all = 0, nz = 0, np = 0, no = 0;
        int r;

        r = zoneinfo_parse(text, &all, &n_all);
        if (r < 0)
                return r;
        /* the populated zones, kept in place */
        for (size_t i = 0; i < n_all; i++)
                if (all[i].node >= 0 && all[i].has_start && all[i].spanned > 0)
                        all[nz++] = all[i];
        if (nz == 0)
                return -ENODATA;
        /* elementary intervals between all boundaries; each gets the one
         * node covering it, -1 for several, none for a hole */
        pts = malloc(2 * nz * sizeof(*pts));
        out = malloc(2 * nz * sizeof(*out));
        if (!pts || !out)
                return -ENOMEM;
        for (size_t i = 0; i < nz; i++) {
                pts[np++] = all[i].start_pfn;
                pts[np++] = all[i].start_pfn + all[i].spanned;
        }
        qsort_safe(pts, np, sizeof(*pts), cmp_u64);
        for (size_t i = 0; i + 1 < np; i++) {
                uint64_t a = pts[i], b = pts[i + 1];
                int nd = -2; /* -2: none yet */

                if (a == b)
                        continue;
                for (size_t j = 0; j < nz; j++)
                        if (all[j].start_pfn <= a && b <= all[j].start_pfn + all[j].spanned)
                                nd = nd == -2 || nd == all[j].node ? all[j].node : -1;
                if (nd == -2)
                        continue;
                if (no > 0 && out[no - 1].end == a && out[no - 1].node == nd)
                        out[no - 1].end = b;
                else
                        out[no++] = (NodeSpan) { .start = a, .end = b, .node = nd };
        }
        *ret = TAKE_PTR(out);
        *ret_n = no;
        return 0;
}

int node_span_find(const NodeSpan *spans, size_t n, uint64_t pfn) {
        size_t lo = 0, hi = n;

        while (lo < hi) {
                size_t mid = lo + (hi - lo) / 2;

                if (pfn < spans[mid].start)
                        hi = mid;
                else if (pfn >= spans[mid].end)
                        lo = mid + 1;
                else
                        return spans[mid].node;
        }
        return -1;
}
