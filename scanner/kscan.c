/* SPDX-License-Identifier: MIT */
#include "scanner.h"

#include <bpf/bpf.h>
#include <bpf/btf.h>
#include <bpf/libbpf.h>
#include <stdarg.h>
#include <string.h>

#include "kscan.bpf.skel.h"
#include "util.h"

struct KScan {
        struct kscan_bpf *skel;
        struct ring_buffer *rb;
        kscan_region_cb cb;
        void *userdata;
        bool attached_migrate, attached_reclaim, attached_damon;
};

static const char *const reason_names[] = {
        "compaction", "memory_failure", "memory_hotplug", "syscall", "mempolicy_mbind",
        "numa_misplaced", "contig_range", "longterm_pin", "demotion", "damon",
};

const char *kscan_migrate_reason_name(unsigned reason) {
        return reason < ELEMENTSOF(reason_names) ? reason_names[reason] : NULL;
}

static int libbpf_print(enum libbpf_print_level level, const char *fmt, va_list ap) {
        char buf[512];
        size_t n;

        if (level == LIBBPF_DEBUG && log_get_max_level() < LOG_LVL_DEBUG)
                return 0;
        vsnprintf(buf, sizeof(buf), fmt, ap);
        n = strlen(buf);
        if (n > 0 && buf[n - 1] == '\n')
                buf[n - 1] = '\0';
        log_internal(level == LIBBPF_WARN ? LOG_LVL_WARNING : LOG_LVL_DEBUG, 0, "libbpf: %s", buf);
        return 0;
}

static bool vmlinux_has_tracepoint(const struct btf *btf, const char *event) {
        char name[128];

        snprintf(name, sizeof(name), "btf_trace_%s", event);
        return btf && btf__find_by_name_kind(btf, name, BTF_KIND_TYPEDEF) >= 0;
}

/* Number of arguments of a tracepoint (without the leading context
 * pointer), from its btf_trace_<event> typedef: typedef -> pointer ->
 * function prototype. -ENOENT when the kernel has no such tracepoint. */
static int tracepoint_nr_args(const struct btf *btf, const char *event) {
        const struct btf_type *t;
        char name[128];
        int id;

        if (!btf)
                return -ENOENT;
        snprintf(name, sizeof(name), "btf_trace_%s", event);
        id = btf__find_by_name_kind(btf, name, BTF_KIND_TYPEDEF);
        if (id < 0)
                return -ENOENT;
        t = btf__type_by_id(btf, (__u32) id);
        while (t && (btf_is_typedef(t) || btf_is_ptr(t) || btf_is_mod(t)))
                t = btf__type_by_id(btf, t->type);
        if (!t || !btf_is_func_proto(t) || btf_vlen(t) < 1)
                return -EINVAL;
        return btf_vlen(t) - 1;
}

static int ringbuf_cb(void *ctx, void *data, size_t size) {
        KScan *k = ctx;
        const struct kscan_damon_region *r = data;

        if (size < sizeof(*r) || r->type != KSCAN_EV_DAMON_REGION || !k->cb)
                return 0;
        return k->cb(r, k->userdata);
}

int kscan_open(KScan **ret) {
        return kscan_open_with(NULL, ret);
}

int kscan_open_with(const KScanOptions *o, KScan **ret) {
        _cleanup_(kscan_freep) KScan *k = NULL;
        bool counters = !o || !o->damon_only;
        struct btf *vmlinux;
        struct bpf_link *link;
        int r, nargs;

        libbpf_set_print(libbpf_print);

        vmlinux = btf__load_vmlinux_btf();
        if (!vmlinux)
                return log_error_errno(-ENOENT, "kernel BTF (/sys/kernel/btf/vmlinux) is unavailable: cannot load CO-RE programs");

        k = calloc(1, sizeof(*k));
        if (!k) {
                btf__free(vmlinux);
                return -ENOMEM;
        }
        k->skel = kscan_bpf__open();
        if (!k->skel) {
                r = -errno;
                btf__free(vmlinux);
                return log_error_errno(r, "cannot open the kscan BPF object: %m");
        }
        /* 6.12+: 8 arguments (large_folio_split), older kernels 7. */
        nargs = tracepoint_nr_args(vmlinux, "mm_migrate_pages");
        if (nargs >= 0 && nargs != 7 && nargs != 8)
                log_warning("mm_migrate_pages has %d arguments, tierd knows 7 and 8: not counting migrations", nargs);
        bpf_program__set_autoload(k->skel->progs.kscan_migrate_pages, counters && nargs == 8);
        bpf_program__set_autoload(k->skel->progs.kscan_migrate_pages_7, counters && nargs == 7);
        bpf_program__set_autoload(k->skel->progs.kscan_shrink_inactive,
                                  counters && vmlinux_has_tracepoint(vmlinux, "mm_vmscan_lru_shrink_inactive"));
        bpf_program__set_autoload(k->skel->progs.kscan_damon_aggregated,
                                  vmlinux_has_tracepoint(vmlinux, "damon_aggregated"));
        btf__free(vmlinux);
        if (o && o->filter_kdamonds)
                k->skel->rodata->damon_filter_kdamonds = 1;

        r = kscan_bpf__load(k->skel);
        if (r < 0)
                return log_error_errno(r, "cannot load the kscan BPF programs: %m");

#define ATTACH(prog, flag)                                                                      \
        if (bpf_program__autoload(k->skel->progs.prog)) {                                      \
                link = bpf_program__attach(k->skel->progs.prog);                               \
                if (!link)                                                                     \
                        return log_error_errno(-errno, "cannot attach %s: %m", #prog);         \
                k->skel->links.prog = link;                                                    \
                k->flag = true;                                                                \
        }
        ATTACH(kscan_migrate_pages, attached_migrate);
        ATTACH(kscan_migrate_pages_7, attached_migrate);
        ATTACH(kscan_shrink_inactive, attached_reclaim);
        ATTACH(kscan_damon_aggregated, attached_damon);
#undef ATTACH

        k->rb = ring_buffer__new(bpf_map__fd(k->skel->maps.events), ringbuf_cb, k, NULL);
        if (!k->rb)
                return log_error_errno(-errno, "cannot set up the kscan ring buffer: %m");

        *ret = TAKE_PTR(k);
        return 0;
}

KScan *kscan_free(KScan *k) {
        if (!k)
                return NULL;
        ring_buffer__free(k->rb);
        kscan_bpf__destroy(k->skel);
        free(k);
        return NULL;
}

bool kscan_attached(const KScan *k, const char *which) {
        if (strcmp(which, "migrate") == 0)
                return k->attached_migrate;
        if (strcmp(which, "reclaim") == 0)
                return k->attached_reclaim;
        if (strcmp(which, "damon") == 0)
                return k->attached_damon;
        return false;
}

int kscan_damon_follow(KScan *k, pid_t kdamond, bool follow) {
        __u32 key = (__u32) kdamond;
        __u8 one = 1;
        int fd = bpf_map__fd(k->skel->maps.damon_kdamonds);

        if (follow)
                return bpf_map_update_elem(fd, &key, &one, BPF_ANY) < 0 ? -errno : 0;
        if (bpf_map_delete_elem(fd, &key) < 0 && errno != ENOENT)
                return -errno;
        return 0;
}

int kscan_epoll_fd(const KScan *k) {
        return ring_buffer__epoll_fd(k->rb);
}

int kscan_consume(KScan *k, kscan_region_cb cb, void *userdata) {
        int r;

        k->cb = cb;
        k->userdata = userdata;
        r = ring_buffer__consume(k->rb);
        k->cb = NULL;
        k->userdata = NULL;
        return r;
}

static int percpu_sum(int map_fd, __u32 key, size_t value_size, size_t n_u64, __u64 *ret) {
        int ncpu = libbpf_num_possible_cpus();
        _cleanup_free_ __u64 *vals = NULL;

        if (ncpu <= 0)
                return ncpu < 0 ? ncpu : -EINVAL;
        vals = calloc((size_t) ncpu, value_size);
        if (!vals)
                return -ENOMEM;
        if (bpf_map_lookup_elem(map_fd, &key, vals) < 0)
                return -errno;
        memset(ret, 0, n_u64 * sizeof(__u64));
        for (int c = 0; c < ncpu; c++)
                for (size_t i = 0; i < n_u64; i++)
                        ret[i] += vals[(size_t) c * (value_size / sizeof(__u64)) + i];
        return 0;
}

int kscan_migrate_counts(const KScan *k, struct kscan_migrate_count ret[KSCAN_MR_MAX]) {
        int fd = bpf_map__fd(k->skel->maps.migrate_counts), r;

        for (__u32 i = 0; i < KSCAN_MR_MAX; i++) {
                r = percpu_sum(fd, i, sizeof(ret[i]), sizeof(ret[i]) / sizeof(__u64), (__u64 *) &ret[i]);
                if (r < 0)
                        return r;
        }
        return 0;
}

int kscan_reclaim_counts(const KScan *k, struct kscan_reclaim_count ret[KSCAN_NODES_MAX]) {
        int fd = bpf_map__fd(k->skel->maps.reclaim_counts), r;

        for (__u32 i = 0; i < KSCAN_NODES_MAX; i++) {
                r = percpu_sum(fd, i, sizeof(ret[i]), sizeof(ret[i]) / sizeof(__u64), (__u64 *) &ret[i]);
                if (r < 0)
                        return r;
        }
        return 0;
}

uint64_t kscan_dropped(const KScan *k) {
        __u64 v = 0;

        if (percpu_sum(bpf_map__fd(k->skel->maps.dropped), 0, sizeof(__u64), 1, &v) < 0)
                return 0;
        return v;
}
