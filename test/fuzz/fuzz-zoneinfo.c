/* SPDX-License-Identifier: MIT */
/* /proc/zoneinfo, both parsers: zoneinfo_node_spans() (PFN -> node
 * spans: disjoint and sorted by start, as promised) and
 * topology_parse_zone_reserves() (per-node reserves). */
#include "fuzz.h"

#include <errno.h>

#include "zoneinfo.h"
#include "topology.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        _cleanup_free_ char *text = fuzz_strdup(data, size);
        _cleanup_free_ NodeSpan *spans = NULL;
        uint64_t reserves[TOPOLOGY_MAX_NODES];
        size_t n = 0;
        int r;

        if (!text)
                return 0;
        r = zoneinfo_node_spans(text, &spans, &n);
        FUZZ_CHECK(r >= 0 || r == -EINVAL || r == -ENOMEM || r == -ENODATA);
        if (r >= 0)
                for (size_t i = 0; i < n; i++) {
                        FUZZ_CHECK(spans[i].start < spans[i].end);
                        FUZZ_CHECK(i == 0 || spans[i - 1].end <= spans[i].start);
                        FUZZ_CHECK(node_span_find(spans, n, spans[i].start) == spans[i].node);
                }
        r = topology_parse_zone_reserves(text, 4096, reserves);
        FUZZ_CHECK(r >= 0 || r == -EINVAL || r == -ENODATA || r == -ERANGE);
        return 0;
}
