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

static int ringbuf_cb(void *ctx, void *data, size_t size) {
        KScan *k = ctx;
        const struct kscan_damon_region *r = data;

        if (size < sizeof(*r) || r->type != KSCAN_EV_DAMON_REGION || !k->cb)
                return 0;
        return k->cb(r, k->userdata);
}

int kscan_open(KScan **ret) {
        _cleanup_(kscan_freep) KScan *k = NULL;
        struct btf *vmlinux;
        struct bpf_link *link;
        int r;

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
        bpf_program__set_autoload(k->skel->progs.kscan_migrate_pages,
                                  vmlinux_has_tracepoint(vmlinux, "mm_migrate_pages"));
        bpf_program__set_autoload(k->skel->progs.kscan_shrink_inactive,
                                  vmlinux_has_tracepoint(vmlinux, "mm_vmscan_lru_shrink_inactive"));
        bpf_program__set_autoload(k->skel->progs.kscan_damon_aggregated,
                                  vmlinux_has_tracepoint(vmlinux, "damon_aggregated"));
        btf__free(vmlinux);

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
