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

/* Set before load: stream only regions aggregated by the kdamonds whose
 * thread ids are keys of damon_kdamonds (the tracepoint runs in the
 * kdamond thread), so other users' DAMON (the platform's own) is dropped
 * here, not in userspace. 0: every kdamond. */
const volatile __u8 damon_filter_kdamonds = 0;

struct {
        __uint(type, BPF_MAP_TYPE_HASH);
        __uint(max_entries, KSCAN_KDAMONDS_MAX);
        __type(key, __u32);     /* kdamond thread id */
        __type(value, __u8);
} damon_kdamonds SEC(".maps");

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

static __always_inline void count_migration(int reason, unsigned long succeeded, unsigned long failed,
                                            unsigned long thp_succeeded)
{
        __u32 key = (__u32) reason;
        struct kscan_migrate_count *c;

        if (key >= KSCAN_MR_MAX)
                key = KSCAN_MR_MAX - 1;
        c = bpf_map_lookup_elem(&migrate_counts, &key);
        if (!c)
                return;
        c->calls++;
        c->succeeded += succeeded;
        c->failed += failed;
        c->thp_succeeded += thp_succeeded;
}

/* mm_migrate_pages changed its prototype: 6.12 has large_folio_split
 * before mode and reason (8 arguments), older kernels do not (7). tp_btf
 * arguments are positional, so there is one program per prototype and the
 * loader autoloads the one matching btf_trace_mm_migrate_pages. */
SEC("tp_btf/mm_migrate_pages")
int BPF_PROG(kscan_migrate_pages, unsigned long succeeded, unsigned long failed,
             unsigned long thp_succeeded, unsigned long thp_failed, unsigned long thp_split,
             unsigned long large_folio_split, enum migrate_mode mode, int reason)
{
        count_migration(reason, succeeded, failed, thp_succeeded);
        return 0;
}

SEC("tp_btf/mm_migrate_pages")
int BPF_PROG(kscan_migrate_pages_7, unsigned long succeeded, unsigned long failed,
             unsigned long thp_succeeded, unsigned long thp_failed, unsigned long thp_split,
             enum migrate_mode mode, int reason)
{
        count_migration(reason, succeeded, failed, thp_succeeded);
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

        if (damon_filter_kdamonds) {
                __u32 tid = (__u32) bpf_get_current_pid_tgid();

                if (!bpf_map_lookup_elem(&damon_kdamonds, &tid))
                        return 0;
        }
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
