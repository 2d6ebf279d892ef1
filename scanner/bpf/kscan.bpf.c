/* SPDX-License-Identifier: GPL-2.0 OR MIT */
/* Kernel side of tierd's tracepoint collector: counts the kernel's own
 * migrations by reason and reclaim by node, and streams DAMON's aggregated
 * regions through a ring buffer. tp_btf programs: no tracefs needed. */
#include "vmlinux.h"
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

#include "kscan.h"

char LICENSE[] SEC("license") = "Dual MIT/GPL";

/* Set before load: stream only regions of this many leading targets
 * (0: all). Later filters come through maps. */
const volatile __u32 damon_max_target_id = 0;

struct {
        __uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
        __uint(max_entries, KSCAN_MR_MAX);
        __type(key, __u32);
        __type(value, struct kscan_migrate_count);
} migrate_counts SEC(".maps");

struct {
        __uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
        __uint(max_entries, KSCAN_NODES_MAX);
        __type(key, __u32);
        __type(value, struct kscan_reclaim_count);
} reclaim_counts SEC(".maps");

struct {
        __uint(type, BPF_MAP_TYPE_RINGBUF);
        __uint(max_entries, 256 * 1024);
} events SEC(".maps");

/* Dropped ring buffer records, so the loader can report loss. */
struct {
        __uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
        __uint(max_entries, 1);
        __type(key, __u32);
        __type(value, __u64);
} dropped SEC(".maps");

SEC("tp_btf/mm_migrate_pages")
int BPF_PROG(kscan_migrate_pages, unsigned long succeeded, unsigned long failed,
             unsigned long thp_succeeded, unsigned long thp_failed, unsigned long thp_split,
             unsigned long large_folio_split, enum migrate_mode mode, int reason)
{
        __u32 key = (__u32) reason;
        struct kscan_migrate_count *c;

        if (key >= KSCAN_MR_MAX)
                key = KSCAN_MR_MAX - 1;
        c = bpf_map_lookup_elem(&migrate_counts, &key);
        if (!c)
                return 0;
        c->calls++;
        c->succeeded += succeeded;
        c->failed += failed;
        c->thp_succeeded += thp_succeeded;
        return 0;
}

SEC("tp_btf/mm_vmscan_lru_shrink_inactive")
int BPF_PROG(kscan_shrink_inactive, int nid, unsigned long nr_scanned, unsigned long nr_reclaimed,
             struct reclaim_stat *stat, int priority, int file)
{
        __u32 key = (__u32) nid;
        struct kscan_reclaim_count *c;

        if (key >= KSCAN_NODES_MAX)
                return 0;
        c = bpf_map_lookup_elem(&reclaim_counts, &key);
        if (!c)
                return 0;
        c->scanned += nr_scanned;
        c->reclaimed += nr_reclaimed;
        return 0;
}

SEC("tp_btf/damon_aggregated")
int BPF_PROG(kscan_damon_aggregated, unsigned int target_id, struct damon_region *r, unsigned int nr_regions)
{
        struct kscan_damon_region *ev;

        if (damon_max_target_id && target_id >= damon_max_target_id)
                return 0;
        ev = bpf_ringbuf_reserve(&events, sizeof(*ev), 0);
        if (!ev) {
                __u32 zero = 0;
                __u64 *d = bpf_map_lookup_elem(&dropped, &zero);

                if (d)
                        (*d)++;
                return 0;
        }
        ev->type = KSCAN_EV_DAMON_REGION;
        ev->target_id = target_id;
        ev->start = BPF_CORE_READ(r, ar.start);
        ev->end = BPF_CORE_READ(r, ar.end);
        ev->nr_accesses = BPF_CORE_READ(r, nr_accesses);
        ev->age = BPF_CORE_READ(r, age);
        ev->nr_regions = nr_regions;
        ev->pad = 0;
        bpf_ringbuf_submit(ev, 0);
        return 0;
}
