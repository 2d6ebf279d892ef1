/* SPDX-License-Identifier: MIT */
#include "probe.h"

#include <bpf/btf.h>
#include <ctype.h>
#include <dirent.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/utsname.h>

#include "cgroup.h"
#include "mover.h"
#include "util.h"

static const char *const backend_names[_BACKEND_MAX] = {
        [BACKEND_IDLE_PAGE] = "idle_page",
        [BACKEND_DAMON] = "damon",
        [BACKEND_DAMOS_MIGRATE] = "damos_migrate",
        [BACKEND_LRU_GEN] = "lru_gen",
        [BACKEND_BPF] = "bpf",
        [BACKEND_MOVE_PAGES] = "move_pages",
};

/* The kernel tracepoints tierd's BPF collector attaches to. */
static const ProbeTracepoint tracepoint_table[] = {
        { "migrate:mm_migrate_pages", true, false },
        { "vmscan:mm_vmscan_lru_shrink_inactive", true, false },
        { "vmscan:mm_vmscan_memcg_reclaim_begin", false, false },
        { "damon:damon_aggregated", false, false },
};

const char *probe_backend_name(ProbeBackendId id) {
        return id < _BACKEND_MAX ? backend_names[id] : NULL;
}

static int names_add(ProbeNames *n, const char *name) {
        char *s;

        for (int i = 0; i < n->n; i++)
                if (strcmp(n->names[i], name) == 0)
                        return 0;
        if (n->n >= PROBE_MAX_NAMES)
                return 0;
        s = strdup(name);
        if (!s)
                return -ENOMEM;
        n->names[n->n++] = s;
        return 0;
}

static bool names_has(const ProbeNames *n, const char *name) {
        for (int i = 0; i < n->n; i++)
                if (strcmp(n->names[i], name) == 0)
                        return true;
        return false;
}

static void names_clear(ProbeNames *n) {
        for (int i = 0; i < n->n; i++)
                free(n->names[i]);
        n->n = 0;
}

static int set_reason(Probe *p, ProbeBackendId id, const char *fmt, ...) _printf_(3, 4);
static int set_reason(Probe *p, ProbeBackendId id, const char *fmt, ...) {
        va_list ap;
        char *s;
        int r;

        p->backends[id].usable = false;
        if (p->backends[id].reason)
                return 0; /* the first reason is the one to act on */
        va_start(ap, fmt);
        r = vasprintf(&s, fmt, ap);
        va_end(ap);
        if (r < 0)
                return -ENOMEM;
        p->backends[id].reason = s;
        return 0;
}

static int read_bool_file(const char *root, const char *path) {
        _cleanup_free_ char *line = NULL;

        if (read_one_line(root, path, &line) < 0)
                return -1;
        if (strcmp(line, "true") == 0 || strcmp(line, "1") == 0 || strcmp(line, "y") == 0)
                return 1;
        if (strcmp(line, "false") == 0 || strcmp(line, "0") == 0 || strcmp(line, "n") == 0)
                return 0;
        return -1;
}

static bool is_privileged(const char *procfs) {
        _cleanup_free_ char *status = NULL;
        const char *p;
        unsigned long long caps;

        if (read_full_file(procfs, "/self/status", &status, NULL) < 0)
                return geteuid() == 0;
        p = strstr(status, "\nCapEff:");
        if (!p || sscanf(p + 8, "%llx", &caps) != 1)
                return geteuid() == 0;
        return caps & (1ULL << 21); /* CAP_SYS_ADMIN */
}

/* Whether /proc/self/pagemap shows PFNs (it zeroes them without
 * CAP_SYS_ADMIN). Reads our own mapping only. */
static bool pagemap_shows_pfn(const char *procfs) {
        _cleanup_free_ char *path = NULL;
        _cleanup_close_ int fd = -1;
        long page = sysconf(_SC_PAGESIZE);
        uint64_t entry = 0;
        char *buf;
        bool ok = false;

        if (path_join_root(procfs, "/self/pagemap", &path) < 0)
                return false;
        fd = open(path, O_RDONLY | O_CLOEXEC);
        if (fd < 0)
                return false;
        buf = mmap(NULL, (size_t) page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        if (buf == MAP_FAILED)
                return false;
        buf[0] = 1;
        if (pread(fd, &entry, sizeof(entry), (off_t) ((uintptr_t) buf / (uintptr_t) page * 8)) == sizeof(entry))
                ok = (entry & (1ULL << 63)) && (entry & ((1ULL << 55) - 1)) != 0;
        munmap(buf, (size_t) page);
        return ok;
}

static bool file_readable(const char *root, const char *path) {
        _cleanup_free_ char *full = NULL;
        _cleanup_close_ int fd = -1;

        if (path_join_root(root, path, &full) < 0)
                return false;
        fd = open(full, O_RDONLY | O_CLOEXEC);
        return fd >= 0;
}

/* Enumerator names of a BTF enum, with PREFIX stripped and lowercased:
 * DAMOS_MIGRATE_HOT -> migrate_hot. Skips NR_* counters. */
static int btf_enum_names(const struct btf *btf, const char *enum_name, const char *prefix, ProbeNames *out) {
        const struct btf_type *t;
        const struct btf_enum *e;
        size_t plen = strlen(prefix);
        int id, r;

        id = btf__find_by_name_kind(btf, enum_name, BTF_KIND_ENUM);
        if (id < 0)
                return -ENOENT;
        t = btf__type_by_id(btf, (unsigned) id);
        e = btf_enum(t);
        for (unsigned i = 0; i < btf_vlen(t); i++) {
                const char *name = btf__name_by_offset(btf, e[i].name_off);
                char buf[64];
                size_t k;

                if (!name || strncmp(name, prefix, plen) != 0)
                        continue;
                for (k = 0; name[plen + k] && k + 1 < sizeof(buf); k++)
                        buf[k] = (char) tolower((unsigned char) name[plen + k]);
                buf[k] = '\0';
                r = names_add(out, buf);
                if (r < 0)
                        return r;
        }
        return 0;
}

static int probe_btf(Probe *p, const ProbeRoots *roots) {
        _cleanup_free_ char *path = NULL;
        struct btf *btf;
        int r;

        r = path_join_root(roots->sysfs, "/kernel/btf/vmlinux", &path);
        if (r < 0)
                return r;
        btf = btf__parse(path, NULL);
        if (!btf) {
                p->btf = false;
                return 0;
        }
        p->btf = true;

        for (int i = 0; i < p->n_tracepoints; i++) {
                const char *event = strchr(p->tracepoints[i].name, ':') + 1;
                char tname[128];

                /* Every tracepoint has a "btf_trace_<event>" typedef. */
                snprintf(tname, sizeof(tname), "btf_trace_%s", event);
                p->tracepoints[i].present = btf__find_by_name_kind(btf, tname, BTF_KIND_TYPEDEF) >= 0;
        }
        r = btf_enum_names(btf, "damos_action", "DAMOS_", &p->damos_actions);
        if (r == -ENOMEM)
                goto out;
        r = btf_enum_names(btf, "damos_filter_type", "DAMOS_FILTER_TYPE_", &p->damos_filters);
        if (r == -ENOMEM)
                goto out;
        r = 0;
out:
        btf__free(btf);
        return r;
}

/* DAMON operations actually registered. Read-only evidence only: the
 * avail_operations file of a context somebody already created, else the
 * operations' init functions in kallsyms. */
static int probe_damon_operations(Probe *p, const ProbeRoots *roots) {
        _cleanup_free_ char *syms = NULL;
        int r;

        for (int k = 0; k < 8 && p->damon_operations.n == 0; k++) {
                _cleanup_free_ char *path = NULL, *data = NULL;
                char *save = NULL;

                if (asprintf(&path, "/kernel/mm/damon/admin/kdamonds/%d/contexts/0/avail_operations", k) < 0)
                        return -ENOMEM;
                if (read_full_file(roots->sysfs, path, &data, NULL) < 0)
                        continue;
                for (char *tok = strtok_r(data, " \n", &save); tok; tok = strtok_r(NULL, " \n", &save)) {
                        r = names_add(&p->damon_operations, tok);
                        if (r < 0)
                                return r;
                }
                p->damon_operations_source = "avail_operations";
        }
        if (p->damon_operations.n > 0)
                return 0;

        if (read_full_file(roots->procfs, "/kallsyms", &syms, NULL) < 0)
                return 0;
        static const struct { const char *sym, *ops; } table[] = {
                { " damon_va_initcall\n", "vaddr" },
                { " damon_va_initcall\n", "fvaddr" },
                { " damon_pa_initcall\n", "paddr" },
        };
        for (size_t i = 0; i < ELEMENTSOF(table); i++)
                if (strstr(syms, table[i].sym)) {
                        r = names_add(&p->damon_operations, table[i].ops);
                        if (r < 0)
                                return r;
                        p->damon_operations_source = "kallsyms";
                }
        return 0;
}

static int decide_backends(Probe *p) {
        int tiers = p->topology ? p->topology->n_tiers : 0;
        int r = 0;

        for (int i = 0; i < _BACKEND_MAX; i++)
                p->backends[i].usable = true;

        /* idle_page */
        if (!p->page_idle_bitmap)
                r |= set_reason(p, BACKEND_IDLE_PAGE, "%s",
                                "/sys/kernel/mm/page_idle/bitmap is absent: the kernel was built without CONFIG_IDLE_PAGE_TRACKING");
        else if (!p->privileged || !p->pagemap_pfn)
                r |= set_reason(p, BACKEND_IDLE_PAGE, "%s",
                                "/proc/PID/pagemap hides page frame numbers: run tierd as root (CAP_SYS_ADMIN)");
        else if (!p->kpageflags || !p->kpagecgroup)
                r |= set_reason(p, BACKEND_IDLE_PAGE, "%s",
                                "/proc/kpageflags or /proc/kpagecgroup is missing: the kernel lacks CONFIG_PROC_PAGE_MONITOR or CONFIG_MEMCG");

        /* damon */
        if (!p->damon_sysfs)
                r |= set_reason(p, BACKEND_DAMON, "%s",
                                "/sys/kernel/mm/damon/admin is absent: the kernel was built without CONFIG_DAMON_SYSFS");
        else if (p->damon_operations.n == 0)
                r |= set_reason(p, BACKEND_DAMON, "%s",
                                "no DAMON operations (vaddr, paddr) found registered: the kernel lacks CONFIG_DAMON_VADDR and CONFIG_DAMON_PADDR");
        else if (!p->privileged)
                r |= set_reason(p, BACKEND_DAMON, "%s", "driving DAMON through sysfs needs root");

        /* damos_migrate */
        if (!p->backends[BACKEND_DAMON].usable)
                r |= set_reason(p, BACKEND_DAMOS_MIGRATE, "DAMON is not usable: %s", p->backends[BACKEND_DAMON].reason);
        else if (!names_has(&p->damon_operations, "paddr"))
                r |= set_reason(p, BACKEND_DAMOS_MIGRATE, "%s",
                                "DAMON physical-address operations (paddr) are not available: the kernel lacks CONFIG_DAMON_PADDR");
        else if (!p->btf)
                r |= set_reason(p, BACKEND_DAMOS_MIGRATE, "%s",
                                "cannot tell whether DAMOS offers migrate_hot/migrate_cold: the kernel has no BTF (/sys/kernel/btf/vmlinux)");
        else if (!names_has(&p->damos_actions, "migrate_hot") || !names_has(&p->damos_actions, "migrate_cold"))
                r |= set_reason(p, BACKEND_DAMOS_MIGRATE, "%s",
                                "DAMOS has no migrate_hot/migrate_cold actions: they need Linux 6.11 or later");
        else if (!names_has(&p->damos_filters, "memcg") || !names_has(&p->damos_filters, "young") ||
                 !names_has(&p->damos_filters, "anon") || !names_has(&p->damos_filters, "addr"))
                r |= set_reason(p, BACKEND_DAMOS_MIGRATE, "%s",
                                "DAMOS lacks the anon, memcg, addr or young filter type (Linux 6.3 for anon and "
                                "memcg, 6.6 for addr, 6.10 for young): the mover needs all four");
        else if (tiers < 2)
                r |= set_reason(p, BACKEND_DAMOS_MIGRATE, "%s",
                                "only one memory tier: there is no other tier to migrate pages to");

        /* lru_gen */
        if (!p->lru_gen_present)
                r |= set_reason(p, BACKEND_LRU_GEN, "%s",
                                "/sys/kernel/mm/lru_gen is absent: the kernel was built without CONFIG_LRU_GEN");
        else if (!(p->lru_gen_enabled & 1))
                r |= set_reason(p, BACKEND_LRU_GEN, "%s",
                                "MGLRU is built in but disabled: echo y > /sys/kernel/mm/lru_gen/enabled");
        else if (!p->debugfs_mounted)
                r |= set_reason(p, BACKEND_LRU_GEN, "%s",
                                "debugfs is not mounted at /sys/kernel/debug: mount -t debugfs debugfs /sys/kernel/debug");
        else if (!p->lru_gen_debugfs)
                r |= set_reason(p, BACKEND_LRU_GEN, "%s",
                                "/sys/kernel/debug/lru_gen is absent or unreadable (needs root)");

        /* bpf */
        if (!p->btf)
                r |= set_reason(p, BACKEND_BPF, "%s",
                                "/sys/kernel/btf/vmlinux is absent: the kernel was built without CONFIG_DEBUG_INFO_BTF, so CO-RE programs cannot load");
        else {
                for (int i = 0; i < p->n_tracepoints; i++)
                        if (p->tracepoints[i].required && !p->tracepoints[i].present)
                                r |= set_reason(p, BACKEND_BPF, "the kernel has no %s tracepoint", p->tracepoints[i].name);
                if (p->backends[BACKEND_BPF].usable && !p->privileged)
                        r |= set_reason(p, BACKEND_BPF, "%s", "loading BPF programs needs root (CAP_BPF and CAP_PERFMON)");
        }

        /* move_pages */
        if (p->move_pages_error == -ENOSYS)
                r |= set_reason(p, BACKEND_MOVE_PAGES, "%s",
                                "move_pages(2) is not implemented: the kernel lacks CONFIG_NUMA or CONFIG_MIGRATION");
        else if (p->move_pages_error < 0)
                r |= set_reason(p, BACKEND_MOVE_PAGES, "move_pages(2) failed: %s", strerror(-p->move_pages_error));
        else if (tiers < 2)
                r |= set_reason(p, BACKEND_MOVE_PAGES, "%s",
                                "only one memory tier: there is no other tier to move pages to");

        return r < 0 ? -ENOMEM : 0;
}

/* cgroup v2: the mount, the memory controller, the xattr namespaces. */
static int probe_cgroup(Probe *p, const ProbeRoots *roots) {
        int r, k;

        p->cgroup_memory = p->cgroup_memory_subtree = p->xattr_user = p->xattr_trusted = -1;
        r = cgroup_find_mount(roots->procfs, &p->cgroup_mount);
        if (r == -ENOMEM)
                return r;
        if (!p->cgroup_mount)
                return 0;
        k = cgroup_has_controller(p->cgroup_mount, "memory", false);
        p->cgroup_memory = k < 0 ? -1 : k;
        k = cgroup_has_controller(p->cgroup_mount, "memory", true);
        p->cgroup_memory_subtree = k < 0 ? -1 : k;
        k = cgroup_xattr_supported(p->cgroup_mount, "user.");
        p->xattr_user = k < 0 ? -1 : k;
        k = cgroup_xattr_supported(p->cgroup_mount, "trusted.");
        p->xattr_trusted = k < 0 ? -1 : k;
        return 0;
}

/* DAMON's sysfs interface and operations, MGLRU, debugfs. */
static int probe_damon_lru_gen(Probe *p, const ProbeRoots *roots) {
        _cleanup_free_ char *line = NULL, *lru = NULL;
        uint64_t v;
        int r;

        p->damon_sysfs = file_exists(roots->sysfs, "/kernel/mm/damon/admin/kdamonds/nr_kdamonds");
        p->damon_kdamonds = -1;
        if (p->damon_sysfs && read_one_line(roots->sysfs, "/kernel/mm/damon/admin/kdamonds/nr_kdamonds", &line) >= 0 &&
            parse_u64(line, &v) >= 0)
                p->damon_kdamonds = (int) v;
        if (p->damon_sysfs) {
                r = probe_damon_operations(p, roots);
                if (r < 0)
                        return r;
        }
        p->lru_gen_present = read_one_line(roots->sysfs, "/kernel/mm/lru_gen/enabled", &lru) >= 0;
        if (p->lru_gen_present)
                p->lru_gen_enabled = (unsigned) strtoul(lru, NULL, 16);
        p->debugfs_mounted = file_exists(roots->sysfs, "/kernel/debug/lru_gen") ||
                             file_exists(roots->sysfs, "/kernel/debug/damon") ||
                             file_exists(roots->sysfs, "/kernel/debug/tracing") ||
                             file_exists(roots->sysfs, "/kernel/debug/bdi");
        p->lru_gen_debugfs = file_readable(roots->sysfs, "/kernel/debug/lru_gen");
        return 0;
}

int probe_run(const ProbeRoots *roots_in, Probe **ret) {
        ProbeRoots roots = {
                .sysfs = roots_in && roots_in->sysfs ? roots_in->sysfs : "/sys",
                .procfs = roots_in && roots_in->procfs ? roots_in->procfs : "/proc",
        };
        _cleanup_(probe_freep) Probe *p = NULL;
        _cleanup_free_ char *line = NULL;
        uint64_t v;
        int r;

        p = calloc(1, sizeof(*p));
        if (!p)
                return -ENOMEM;

        if (read_one_line(roots.procfs, "/sys/kernel/osrelease", &p->kernel) < 0) {
                struct utsname u;

                if (uname(&u) < 0 || !(p->kernel = strdup(u.release)))
                        p->kernel = strdup("unknown");
                if (!p->kernel)
                        return -ENOMEM;
        }

        r = topology_load(roots.sysfs, &p->topology);
        if (r == -ENOMEM)
                return r;
        p->topology_error = r < 0 ? r : 0;

        p->demotion_enabled = read_bool_file(roots.sysfs, "/kernel/mm/numa/demotion_enabled");
        p->numa_balancing = -1;
        if (read_one_line(roots.procfs, "/sys/kernel/numa_balancing", &line) >= 0 && parse_u64(line, &v) >= 0)
                p->numa_balancing = (int) v;
        p->privileged = is_privileged(roots.procfs);

        r = probe_cgroup(p, &roots);
        if (r < 0)
                return r;

        /* idle page tracking */
        p->page_idle_bitmap = file_exists(roots.sysfs, "/kernel/mm/page_idle/bitmap");
        p->pagemap_pfn = pagemap_shows_pfn(roots.procfs);
        p->kpageflags = file_readable(roots.procfs, "/kpageflags");
        p->kpagecgroup = file_readable(roots.procfs, "/kpagecgroup");

        /* tracepoints, DAMOS enums */
        p->n_tracepoints = (int) ELEMENTSOF(tracepoint_table);
        memcpy(p->tracepoints, tracepoint_table, sizeof(tracepoint_table));
        r = probe_btf(p, &roots);
        if (r < 0)
                return r;
        p->tracefs_mounted = file_exists(roots.sysfs, "/kernel/tracing/events") ||
                             file_exists(roots.sysfs, "/kernel/debug/tracing/events");

        r = probe_damon_lru_gen(p, &roots);
        if (r < 0)
                return r;

        /* move_pages: only meaningful on the running kernel */
        p->move_pages_error = move_pages_query_self(&p->move_pages_node);

        r = decide_backends(p);
        if (r < 0)
                return r;
        *ret = TAKE_PTR(p);
        return 0;
}

Probe *probe_free(Probe *p) {
        if (!p)
                return NULL;
        free(p->kernel);
        topology_free(p->topology);
        free(p->cgroup_mount);
        names_clear(&p->damon_operations);
        names_clear(&p->damos_actions);
        names_clear(&p->damos_filters);
        for (int i = 0; i < _BACKEND_MAX; i++)
                free(p->backends[i].reason);
        free(p);
        return NULL;
}

static json_object *json_tristate(int v) {
        return v < 0 ? NULL : json_object_new_boolean(v);
}

static json_object *json_names(const ProbeNames *n) {
        json_object *a = json_object_new_array();

        for (int i = 0; a && i < n->n; i++)
                json_object_array_add(a, json_object_new_string(n->names[i]));
        return a;
}

static json_object *json_id_list(uint64_t mask) {
        json_object *a = json_object_new_array();

        for (int i = 0; a && i < 64; i++)
                if (mask & (UINT64_C(1) << i))
                        json_object_array_add(a, json_object_new_int(i));
        return a;
}

static const char *numa_balancing_mode(int v) {
        switch (v) {
        case 0: return "disabled";
        case 1: return "normal";
        case 2: return "memory-tiering";
        case 3: return "normal+memory-tiering";
        default: return "unknown";
        }
}

json_object *probe_to_json(const Probe *p) {
        json_object *o = json_object_new_object(), *nodes, *tiers, *b, *x;
        const Topology *t = p->topology;

        json_object_object_add(o, "kernel", json_object_new_string(p->kernel));
        json_object_object_add(o, "privileged", json_object_new_boolean(p->privileged));
        nodes = json_object_new_array();
        tiers = json_object_new_array();
        for (int i = 0; t && i < t->n_nodes; i++) {
                const TopologyNode *n = &t->nodes[i];

                x = json_object_new_object();
                json_object_object_add(x, "id", json_object_new_int(n->id));
                json_object_object_add(x, "has_cpus", json_object_new_boolean(n->has_cpus));
                json_object_object_add(x, "total_bytes", json_object_new_uint64(n->total_bytes));
                json_object_object_add(x, "free_bytes", json_object_new_uint64(n->free_bytes));
                json_object_object_add(x, "tier", n->tier >= 0 ? json_object_new_int(n->tier) : NULL);
                json_object_array_add(nodes, x);
        }
        for (int k = 0; t && k < t->n_tiers; k++) {
                x = json_object_new_object();
                json_object_object_add(x, "index", json_object_new_int(k));
                json_object_object_add(x, "kernel_tier",
                                       t->tiers[k].kernel_id >= 0 ? json_object_new_int(t->tiers[k].kernel_id) : NULL);
                json_object_object_add(x, "nodes", json_id_list(t->tiers[k].nodes));
                json_object_object_add(x, "total_bytes", json_object_new_uint64(t->tiers[k].total_bytes));
                json_object_object_add(x, "free_bytes", json_object_new_uint64(t->tiers[k].free_bytes));
                json_object_array_add(tiers, x);
        }
        json_object_object_add(o, "nodes", nodes);
        json_object_object_add(o, "tiers", tiers);
        json_object_object_add(o, "tier_source", t ? json_object_new_string(topology_source_to_string(t->source)) : NULL);
        if (p->topology_error < 0)
                json_object_object_add(o, "topology_error", json_object_new_string(strerror(-p->topology_error)));
        json_object_object_add(o, "demotion_enabled", json_tristate(p->demotion_enabled));
        json_object_object_add(o, "numa_balancing", p->numa_balancing >= 0 ? json_object_new_int(p->numa_balancing) : NULL);
        json_object_object_add(o, "numa_balancing_mode", json_object_new_string(numa_balancing_mode(p->numa_balancing)));

        x = json_object_new_object();
        json_object_object_add(x, "mount", p->cgroup_mount ? json_object_new_string(p->cgroup_mount) : NULL);
        json_object_object_add(x, "memory_controller", json_tristate(p->cgroup_memory));
        json_object_object_add(x, "memory_in_subtree_control", json_tristate(p->cgroup_memory_subtree));
        json_object_object_add(x, "xattr_user", json_tristate(p->xattr_user));
        json_object_object_add(x, "xattr_trusted", json_tristate(p->xattr_trusted));
        json_object_object_add(o, "cgroup", x);

        x = json_object_new_object();
        json_object_object_add(x, "bitmap", json_object_new_boolean(p->page_idle_bitmap));
        json_object_object_add(x, "pagemap_pfn", json_object_new_boolean(p->pagemap_pfn));
        json_object_object_add(x, "kpageflags", json_object_new_boolean(p->kpageflags));
        json_object_object_add(x, "kpagecgroup", json_object_new_boolean(p->kpagecgroup));
        json_object_object_add(o, "idle_page_tracking", x);

        x = json_object_new_object();
        json_object_object_add(x, "sysfs", json_object_new_boolean(p->damon_sysfs));
        json_object_object_add(x, "kdamonds", p->damon_kdamonds >= 0 ? json_object_new_int(p->damon_kdamonds) : NULL);
        json_object_object_add(x, "operations", json_names(&p->damon_operations));
        json_object_object_add(x, "operations_source",
                               p->damon_operations_source ? json_object_new_string(p->damon_operations_source) : NULL);
        json_object_object_add(x, "actions", json_names(&p->damos_actions));
        json_object_object_add(x, "filters", json_names(&p->damos_filters));
        json_object_object_add(o, "damon", x);

        x = json_object_new_object();
        json_object_object_add(x, "present", json_object_new_boolean(p->lru_gen_present));
        json_object_object_add(x, "enabled", json_object_new_boolean(p->lru_gen_enabled & 1));
        json_object_object_add(x, "enabled_mask", json_object_new_int((int) p->lru_gen_enabled));
        json_object_object_add(x, "debugfs_mounted", json_object_new_boolean(p->debugfs_mounted));
        json_object_object_add(x, "debugfs_file", json_object_new_boolean(p->lru_gen_debugfs));
        json_object_object_add(o, "lru_gen", x);

        x = json_object_new_object();
        json_object_object_add(x, "btf", json_object_new_boolean(p->btf));
        json_object_object_add(x, "tracefs_mounted", json_object_new_boolean(p->tracefs_mounted));
        b = json_object_new_object();
        for (int i = 0; i < p->n_tracepoints; i++)
                json_object_object_add(b, p->tracepoints[i].name, json_object_new_boolean(p->tracepoints[i].present));
        json_object_object_add(x, "tracepoints", b);
        json_object_object_add(o, "bpf", x);

        x = json_object_new_object();
        json_object_object_add(x, "syscall", json_object_new_boolean(p->move_pages_error == 0));
        if (p->move_pages_error < 0)
                json_object_object_add(x, "error", json_object_new_string(strerror(-p->move_pages_error)));
        json_object_object_add(o, "move_pages", x);

        b = json_object_new_object();
        for (int i = 0; i < _BACKEND_MAX; i++) {
                x = json_object_new_object();
                json_object_object_add(x, "usable", json_object_new_boolean(p->backends[i].usable));
                if (!p->backends[i].usable)
                        json_object_object_add(x, "reason", json_object_new_string(p->backends[i].reason));
                json_object_object_add(b, backend_names[i], x);
        }
        json_object_object_add(o, "backends", b);
        return o;
}

static const char *yesno(int v) {
        return v < 0 ? "unknown" : v ? "yes" : "no";
}

static void print_names(FILE *f, const ProbeNames *n) {
        if (n->n == 0)
                fputs("none", f);
        for (int i = 0; i < n->n; i++)
                fprintf(f, "%s%s", i ? " " : "", n->names[i]);
}

void probe_print(const Probe *p, FILE *f) {
        const Topology *t = p->topology;
        char b1[32], b2[32], list[256];

        fprintf(f, "kernel          %s%s\n", p->kernel, p->privileged ? "" : " (not privileged: some checks are limited)");
        if (!t)
                fprintf(f, "topology        unreadable: %s\n", strerror(-p->topology_error));
        else {
                fprintf(f, "nodes           %d\n", t->n_nodes);
                for (int i = 0; i < t->n_nodes; i++) {
                        const TopologyNode *n = &t->nodes[i];

                        fprintf(f, "  node %-3d      %-9s %10s total %10s free  tier %d\n", n->id,
                                n->has_cpus ? "cpus" : "cpu-less", format_bytes(n->total_bytes, b1, sizeof(b1)),
                                format_bytes(n->free_bytes, b2, sizeof(b2)), n->tier);
                }
                fprintf(f, "tiers           %d (from %s)\n", t->n_tiers, topology_source_to_string(t->source));
                for (int k = 0; k < t->n_tiers; k++) {
                        format_id_list(t->tiers[k].nodes, list, sizeof(list));
                        if (t->tiers[k].kernel_id >= 0)
                                snprintf(b2, sizeof(b2), "memory_tier%d", t->tiers[k].kernel_id);
                        else
                                snprintf(b2, sizeof(b2), "derived");
                        fprintf(f, "  tier %d%-8s nodes %-8s %10s  (%s)\n", k, k == 0 ? " fast" : "",
                                list, format_bytes(t->tiers[k].total_bytes, b1, sizeof(b1)), b2);
                }
        }
        fprintf(f, "demotion        %s\n", p->demotion_enabled < 0 ? "unknown" : p->demotion_enabled ? "enabled" : "disabled");
        fprintf(f, "numa_balancing  %s\n", numa_balancing_mode(p->numa_balancing));
        fprintf(f, "cgroup v2       %s; memory controller %s; xattrs user %s, trusted %s\n",
                p->cgroup_mount ? p->cgroup_mount : "not mounted", yesno(p->cgroup_memory), yesno(p->xattr_user),
                yesno(p->xattr_trusted));
        fprintf(f, "page_idle       bitmap %s; pagemap PFNs %s; kpageflags %s; kpagecgroup %s\n",
                yesno(p->page_idle_bitmap), yesno(p->pagemap_pfn), yesno(p->kpageflags), yesno(p->kpagecgroup));
        fprintf(f, "DAMON           sysfs %s; operations ", yesno(p->damon_sysfs));
        print_names(f, &p->damon_operations);
        fputs("\n                actions ", f);
        print_names(f, &p->damos_actions);
        fputs("\n                filters ", f);
        print_names(f, &p->damos_filters);
        fputc('\n', f);
        fprintf(f, "MGLRU           %s; debugfs lru_gen %s\n",
                !p->lru_gen_present ? "absent" : (p->lru_gen_enabled & 1) ? "enabled" : "disabled",
                yesno(p->lru_gen_debugfs));
        fprintf(f, "BPF             BTF %s; tracepoints", yesno(p->btf));
        for (int i = 0; i < p->n_tracepoints; i++)
                fprintf(f, " %s%s", p->tracepoints[i].present ? "" : "!", p->tracepoints[i].name);
        fputc('\n', f);
        fputs("backends\n", f);
        for (int i = 0; i < _BACKEND_MAX; i++)
                fprintf(f, "  %-14s %s%s%s\n", backend_names[i], p->backends[i].usable ? "usable" : "unusable",
                        p->backends[i].usable ? "" : ": ", p->backends[i].usable ? "" : p->backends[i].reason);
}
