/* SPDX-License-Identifier: MIT */
/* cgroup/walk.c: the parsers on files captured from the testbed kernels
 * (test/fixtures/cgroup/, see test/fixtures/capture-cgroup) and on malformed
 * text; cgroup_walk() over small trees of plain files written here, laid
 * out like cgroupfs, with cgroups that "vanish" (a directory without
 * cgroup.procs is what a removed cgroup looks like through a held fd). */
#include <check.h>

#include "unit.h"
#include <string.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cgroup.h"
#include "topology.h"
#include "util.h"

#ifndef FIXTURES
#error "FIXTURES must point at test/fixtures"
#endif

#define MIB (UINT64_C(1) << 20)

static const char *const kernels[] = { "stock", "idle" };

static char *fixture(const char *kernel, const char *cgroup, const char *file) {
        char path[512];
        char *data = NULL;

        snprintf(path, sizeof(path), "%s/cgroup/%s/%s/%s", FIXTURES, kernel, cgroup, file);
        ck_assert_int_eq(read_full_file(NULL, path, &data, NULL), 0);
        return data;
}


static void make_dir(const char *rel) {
        char path[512];

        snprintf(path, sizeof(path), "%s/%s", unit_tmproot(), rel);
        ck_assert_int_eq(mkdir(path, 0755), 0);
}

/* A cgroup with the memory controller, its files copied from a capture. */
static void write_captured_cgroup(const char *rel, const char *kernel, const char *from) {
        static const char *const files[] = { "cgroup.events", "cgroup.procs", "memory.current", "memory.stat",
                                             "memory.numa_stat" };
        char path[512];

        for (size_t i = 0; i < ELEMENTSOF(files); i++) {
                _cleanup_free_ char *data = fixture(kernel, from, files[i]);

                snprintf(path, sizeof(path), "%s/%s", rel, files[i]);
                unit_write_file(path, data);
        }
}



/* ---- parsers on the captures --------------------------------------- */

START_TEST(test_parse_numa_stat_captured) {
        CgroupNumaStat s;

        for (size_t k = 0; k < ELEMENTSOF(kernels); k++) {
                _cleanup_free_ char *work = fixture(kernels[k], "work", "memory.numa_stat");
                _cleanup_free_ char *empty = fixture(kernels[k], "empty", "memory.numa_stat");

                ck_assert_int_eq(cgroup_parse_numa_stat(work, &s), 0);
                ck_assert_uint_eq(s.nodes, 3);
                /* 64 MiB held bound to node 1, 8 MiB of tmpfs written bound to node 0 */
                ck_assert_uint_eq(s.anon[0], 0);
                ck_assert_uint_ge(s.anon[1], 64 * MIB);
                ck_assert_uint_lt(s.anon[1], 64 * MIB + 64 * MIB / 20);
                ck_assert_uint_eq(s.file[0], 8 * MIB);
                ck_assert_uint_lt(s.file[1], MIB);
                /* the tmpfs file was written, not mapped: page cache no
                 * address scanner sees (the binary's pages are mapped) */
                ck_assert_uint_lt(s.file_mapped[0], MIB);
                ck_assert_uint_le(s.file_mapped[1], s.file[1]);
                for (int n = 2; n < CGROUP_MAX_NODES; n++)
                        ck_assert_uint_eq(s.anon[n] + s.file[n], 0);

                ck_assert_int_eq(cgroup_parse_numa_stat(empty, &s), 0);
                ck_assert_uint_eq(s.nodes, 3);
        }
        /* file_mapped by node, and its key not taken for file's */
        ck_assert_int_eq(cgroup_parse_numa_stat("anon N0=0 N1=0\nfile N0=8192 N1=4096\nfile_mapped N0=4096 N1=0\n"
                                                "file_dirty N0=8192 N1=0\n", &s), 0);
        ck_assert_uint_eq(s.file[0], 8192);
        ck_assert_uint_eq(s.file_mapped[0], 4096);
        ck_assert_uint_eq(s.file_mapped[1], 0);
}
END_TEST

START_TEST(test_parse_memory_stat_captured) {
        for (size_t k = 0; k < ELEMENTSOF(kernels); k++) {
                _cleanup_free_ char *text = fixture(kernels[k], "work", "memory.stat");
                _cleanup_free_ char *numa_text = fixture(kernels[k], "work", "memory.numa_stat");
                CgroupMemoryStat s;
                CgroupNumaStat numa;

                ck_assert_int_eq(cgroup_parse_memory_stat(text, &s), 0);
                ck_assert_int_eq(cgroup_parse_numa_stat(numa_text, &numa), 0);
                /* 6.12 lists every field tierd reads */
                ck_assert_uint_eq(s.present, (UINT32_C(1) << _CGROUP_STAT_FIELD_MAX) - 1);
                ck_assert_uint_eq(s.anon, numa.anon[0] + numa.anon[1]);
                ck_assert_uint_eq(s.file, numa.file[0] + numa.file[1]);
                ck_assert_uint_eq(s.shmem, 8 * MIB + 4096);
                ck_assert_uint_ge(s.active_anon + s.inactive_anon, s.anon);
                ck_assert_uint_eq(s.pgpromote_success, 0);
                ck_assert_uint_eq(cgroup_memory_stat_get(&s, CGROUP_STAT_ANON), s.anon);
                ck_assert_uint_eq(cgroup_memory_stat_get(&s, CGROUP_STAT_PGDEMOTE_KHUGEPAGED), s.pgdemote_khugepaged);
        }
}
END_TEST

START_TEST(test_parse_events_captured) {
        for (size_t k = 0; k < ELEMENTSOF(kernels); k++) {
                _cleanup_free_ char *work = fixture(kernels[k], "work", "cgroup.events");
                _cleanup_free_ char *empty = fixture(kernels[k], "empty", "cgroup.events");
                _cleanup_free_ char *frozen = fixture(kernels[k], "frozen", "cgroup.events");
                CgroupEvents e;

                ck_assert_int_eq(cgroup_parse_events(work, &e), 0);
                ck_assert(e.populated && !e.frozen);
                ck_assert_int_eq(cgroup_parse_events(empty, &e), 0);
                ck_assert(!e.populated && !e.frozen);
                ck_assert_int_eq(cgroup_parse_events(frozen, &e), 0);
                ck_assert(e.populated && e.frozen);
        }
}
END_TEST

START_TEST(test_parse_procs_captured) {
        for (size_t k = 0; k < ELEMENTSOF(kernels); k++) {
                _cleanup_free_ char *work = fixture(kernels[k], "work", "cgroup.procs");
                _cleanup_free_ char *empty = fixture(kernels[k], "empty", "cgroup.procs");
                _cleanup_free_ char *root = fixture(kernels[k], "root", "cgroup.procs");
                _cleanup_free_ pid_t *pids = NULL, *root_pids = NULL;
                pid_t *none = (pid_t *) &k;
                size_t n, lines = 0;

                /* the holding shell and its sleep */
                ck_assert_int_eq(cgroup_parse_procs(work, &pids, &n), 0);
                ck_assert_uint_eq(n, 2);
                ck_assert_int_gt(pids[0], 1);
                ck_assert_int_gt(pids[1], 1);
                ck_assert_int_eq(cgroup_parse_procs(empty, &none, &n), 0);
                ck_assert_uint_eq(n, 0);
                ck_assert_ptr_null(none);

                for (const char *p = root; *p; p++)
                        lines += *p == '\n';
                ck_assert_int_eq(cgroup_parse_procs(root, &root_pids, &n), 0);
                ck_assert_uint_eq(n, lines);
                ck_assert_int_eq(root_pids[0], 1);
        }
}
END_TEST

/* ---- parsers on malformed text ------------------------------------- */

START_TEST(test_parse_numa_stat_malformed) {
        CgroupNumaStat s;

        ck_assert_int_eq(cgroup_parse_numa_stat("", &s), -EINVAL);
        ck_assert_int_eq(cgroup_parse_numa_stat("anon N0=1\n", &s), -EINVAL);            /* no file line */
        ck_assert_int_eq(cgroup_parse_numa_stat("file N0=1\n", &s), -EINVAL);            /* no anon line */
        ck_assert_int_eq(cgroup_parse_numa_stat("anon N0=x\nfile N0=1\n", &s), -EINVAL);
        ck_assert_int_eq(cgroup_parse_numa_stat("anon 0=1\nfile N0=1\n", &s), -EINVAL);
        ck_assert_int_eq(cgroup_parse_numa_stat("anon N0\nfile N0=1\n", &s), -EINVAL);
        ck_assert_int_eq(cgroup_parse_numa_stat("anon N0=\nfile N0=1\n", &s), -EINVAL);
        ck_assert_int_eq(cgroup_parse_numa_stat("anon N0=1N1=2\nfile N0=1\n", &s), -EINVAL);
        ck_assert_int_eq(cgroup_parse_numa_stat("anon N=1\nfile N0=1\n", &s), -EINVAL);
        ck_assert_int_eq(cgroup_parse_numa_stat("anon N0=-1\nfile N0=1\n", &s), -EINVAL);
        ck_assert_int_eq(cgroup_parse_numa_stat("anon N0=99999999999999999999999\nfile N0=1\n", &s), -ERANGE);

        /* other lines are not looked at; a key must match whole */
        ck_assert_int_eq(cgroup_parse_numa_stat("anonymous garbage\nanon N0=5 N1=7\nkernel x\nfile N1=3", &s), 0);
        ck_assert_uint_eq(s.nodes, 3);
        ck_assert_uint_eq(s.anon[0], 5);
        ck_assert_uint_eq(s.anon[1], 7);
        ck_assert_uint_eq(s.file[0], 0);
        ck_assert_uint_eq(s.file[1], 3);

        /* node ids past CGROUP_MAX_NODES are left out; 63 is the last one */
        ck_assert_int_eq(cgroup_parse_numa_stat("anon N64=1 N63=2 N200=3\nfile N63=4\n", &s), 0);
        ck_assert_uint_eq(s.nodes, UINT64_C(1) << 63);
        ck_assert_uint_eq(s.anon[63], 2);
        ck_assert_uint_eq(s.file[63], 4);

        /* a machine without nodes listed: both lines there, nothing in them */
        ck_assert_int_eq(cgroup_parse_numa_stat("anon\nfile\n", &s), 0);
        ck_assert_uint_eq(s.nodes, 0);
}
END_TEST

START_TEST(test_parse_memory_stat_malformed) {
        CgroupMemoryStat s;

        ck_assert_int_eq(cgroup_parse_memory_stat("", &s), -EINVAL);
        ck_assert_int_eq(cgroup_parse_memory_stat("anon\n", &s), -EINVAL);
        ck_assert_int_eq(cgroup_parse_memory_stat("anon x\n", &s), -EINVAL);
        ck_assert_int_eq(cgroup_parse_memory_stat("anon 1 2\n", &s), -EINVAL);
        ck_assert_int_eq(cgroup_parse_memory_stat("anon 12x\n", &s), -EINVAL);
        ck_assert_int_eq(cgroup_parse_memory_stat(" 1\n", &s), -EINVAL);
        ck_assert_int_eq(cgroup_parse_memory_stat("file 1\nnovalue\n", &s), -EINVAL);
        ck_assert_int_eq(cgroup_parse_memory_stat("anon 99999999999999999999999\n", &s), -ERANGE);

        /* an older kernel: no pgdemote_khugepaged, no promotion counters */
        ck_assert_int_eq(cgroup_parse_memory_stat("anon 4096\nfile 8192\npgdemote_kswapd 3\nnew_field 1 2 3\n", &s), 0);
        ck_assert_uint_eq(s.anon, 4096);
        ck_assert_uint_eq(s.file, 8192);
        ck_assert_uint_eq(s.pgdemote_kswapd, 3);
        ck_assert_uint_eq(s.pgdemote_khugepaged, 0);
        ck_assert_uint_eq(s.present, (UINT32_C(1) << CGROUP_STAT_ANON) | (UINT32_C(1) << CGROUP_STAT_FILE) |
                                             (UINT32_C(1) << CGROUP_STAT_PGDEMOTE_KSWAPD));
        /* a prefix of a known key is another key */
        ck_assert_int_eq(cgroup_parse_memory_stat("anon_thp 5\nfile_dirty 6\n", &s), 0);
        ck_assert_uint_eq(s.present, 0);
        ck_assert_uint_eq(s.anon, 0);

        ck_assert_str_eq(cgroup_stat_field_to_string(CGROUP_STAT_PGPROMOTE_SUCCESS), "pgpromote_success");
        ck_assert_str_eq(cgroup_stat_field_to_string(CGROUP_STAT_INACTIVE_FILE), "inactive_file");
        ck_assert_ptr_null(cgroup_stat_field_to_string(_CGROUP_STAT_FIELD_MAX));
        s.shmem = 77;
        ck_assert_uint_eq(cgroup_memory_stat_get(&s, CGROUP_STAT_SHMEM), 77);
        ck_assert_uint_eq(cgroup_memory_stat_get(&s, _CGROUP_STAT_FIELD_MAX), 0);
}
END_TEST

START_TEST(test_parse_events_malformed) {
        CgroupEvents e;

        ck_assert_int_eq(cgroup_parse_events("", &e), -EINVAL);
        ck_assert_int_eq(cgroup_parse_events("frozen 0\n", &e), -EINVAL);     /* populated required */
        ck_assert_int_eq(cgroup_parse_events("populated 2\n", &e), -EINVAL);
        ck_assert_int_eq(cgroup_parse_events("populated\n", &e), -EINVAL);
        ck_assert_int_eq(cgroup_parse_events("populated 10\n", &e), -EINVAL);
        ck_assert_int_eq(cgroup_parse_events("populated 1\nfrozen yes\n", &e), -EINVAL);

        /* before 5.2 there was no frozen line; unknown lines are ignored */
        ck_assert_int_eq(cgroup_parse_events("populated 1", &e), 0);
        ck_assert(e.populated && !e.frozen);
        ck_assert_int_eq(cgroup_parse_events("future 7\nfrozen 1\npopulated 0\n", &e), 0);
        ck_assert(!e.populated && e.frozen);
}
END_TEST

START_TEST(test_parse_procs_malformed) {
        _cleanup_free_ pid_t *pids = NULL;
        size_t n;

        ck_assert_int_eq(cgroup_parse_procs("12\n\n13\n", &pids, &n), -EINVAL);
        ck_assert_int_eq(cgroup_parse_procs("abc\n", &pids, &n), -EINVAL);
        ck_assert_int_eq(cgroup_parse_procs("-5\n", &pids, &n), -EINVAL);
        ck_assert_int_eq(cgroup_parse_procs("5 6\n", &pids, &n), -EINVAL);
        ck_assert_int_eq(cgroup_parse_procs("4294967296\n", &pids, &n), -EINVAL);
        ck_assert_ptr_null(pids);

        ck_assert_int_eq(cgroup_parse_procs("7\n4194304", &pids, &n), 0);
        ck_assert_uint_eq(n, 2);
        ck_assert_int_eq(pids[0], 7);
        ck_assert_int_eq(pids[1], 4194304);
}
END_TEST

START_TEST(test_parse_procs_exiting_zero) {
        _cleanup_free_ pid_t *pids = NULL, *none = NULL;
        size_t n = 99;

        /* An exiting process whose pid is gone is listed as 0: skipped. */
        ck_assert_int_eq(cgroup_parse_procs("5\n0\n6\n", &pids, &n), 0);
        ck_assert_uint_eq(n, 2);
        ck_assert_int_eq(pids[0], 5);
        ck_assert_int_eq(pids[1], 6);
        ck_assert_int_eq(cgroup_parse_procs("0\n", &none, &n), 0);
        ck_assert_uint_eq(n, 0);
        ck_assert_ptr_null(none);
}
END_TEST

/* ---- cgroup_walk on written trees ---------------------------------- */

/*   /                cgroup.procs, a memory.stat that must not be read
 *   a/               captured "work" cgroup of the stock kernel, owned 1234:5678
 *   a/x/             captured "empty"
 *   a/x/deep/        captured "frozen"
 *   b/               no memory controller: cgroup.events and cgroup.procs
 *   c/               vanished: nothing in it (its child is never reached)
 *   c/child/
 *   d/               unreadable: a memory.stat that does not parse
 *   e/               a kernel without NUMA: no memory.numa_stat
 *   link -> a        not a cgroup
 *   notes.txt        not a cgroup */
static void write_tree(void) {
        char path[512];

        unit_write_file("cgroup.procs", "1\n2\n");
        unit_write_file("memory.stat", "garbage\n");
        unit_write_file("cgroup.controllers", "cpuset memory\n");
        write_captured_cgroup("a", "stock", "work");
        write_captured_cgroup("a/x", "stock", "empty");
        write_captured_cgroup("a/x/deep", "stock", "frozen");
        unit_write_file("b/cgroup.events", "populated 0\nfrozen 0\n");
        unit_write_file("b/cgroup.procs", "");
        make_dir("c");
        write_captured_cgroup("c/child", "stock", "work");
        write_captured_cgroup("d", "stock", "work");
        unit_write_file("d/memory.stat", "anon x\n");
        write_captured_cgroup("e", "stock", "work");
        snprintf(path, sizeof(path), "%s/e/memory.numa_stat", unit_tmproot());
        ck_assert_int_eq(unlink(path), 0);
        unit_write_file("notes.txt", "not a cgroup\n");
        snprintf(path, sizeof(path), "%s/link", unit_tmproot());
        ck_assert_int_eq(symlink("a", path), 0);
        if (geteuid() == 0) {
                snprintf(path, sizeof(path), "%s/a", unit_tmproot());
                ck_assert_int_eq(chown(path, 1234, 5678), 0);
        }
}

START_TEST(test_walk_synthetic_tree) {
        _cleanup_(cgroup_tree_freep) CgroupTree *t = NULL;
        _cleanup_(topology_freep) Topology *topo = NULL;
        const CgroupInfo *c;
        struct stat st;
        char path[512];
        size_t i;

        write_tree();
        ck_assert_int_eq(topology_load(FIXTURES "/vm-stock/sys", &topo), 0);
        ck_assert_int_eq(cgroup_walk(unit_tmproot(), topo, CGROUP_WALK_NUMA_NODES, &t), 0);

        /* pre-order, siblings by name; c (vanished) and d (unreadable) dropped */
        ck_assert_uint_eq(t->n_cgroups, 6);
        ck_assert_str_eq(t->cgroups[0].path, "");
        ck_assert_str_eq(t->cgroups[1].path, "a");
        ck_assert_str_eq(t->cgroups[2].path, "a/x");
        ck_assert_str_eq(t->cgroups[3].path, "a/x/deep");
        ck_assert_str_eq(t->cgroups[4].path, "b");
        ck_assert_str_eq(t->cgroups[5].path, "e");
        ck_assert_uint_eq(t->n_vanished, 1); /* c; its child is never reached */
        ck_assert_uint_eq(t->n_failed, 1);   /* d */
        ck_assert_int_eq(t->n_tiers, 2);
        ck_assert_str_eq(t->mount, unit_tmproot());

        /* depth, parent, subtree */
        ck_assert_int_eq(t->cgroups[0].depth, 0);
        ck_assert_int_eq(t->cgroups[0].parent, -1);
        ck_assert_uint_eq(t->cgroups[0].subtree_end, 6);
        ck_assert_int_eq(t->cgroups[3].depth, 3);
        ck_assert_int_eq(t->cgroups[3].parent, 2);
        ck_assert_int_eq(t->cgroups[2].parent, 1);
        ck_assert_int_eq(t->cgroups[1].parent, 0);
        ck_assert_int_eq(t->cgroups[4].parent, 0);
        ck_assert_int_eq(t->cgroups[5].parent, 0);
        ck_assert_int_eq(t->cgroups[5].depth, 1);
        ck_assert_uint_eq(t->cgroups[1].subtree_end, 4);
        ck_assert_uint_eq(t->cgroups[3].subtree_end, 4);
        ck_assert_uint_eq(t->cgroups[4].subtree_end, 5);

        /* b: alive (it has cgroup.procs), without the memory controller */
        c = cgroup_tree_get(t, "b");
        ck_assert(!c->has_memory && !c->has_memory_stat && !c->has_numa_stat);
        ck_assert(c->has_events && c->has_pids && !c->events.populated);

        /* the root: listed, no usage even though a memory.stat is there */
        c = &t->cgroups[0];
        ck_assert(!c->has_memory && !c->has_memory_stat && !c->has_numa_stat);
        ck_assert(c->has_pids);
        ck_assert_uint_eq(c->n_pids, 2);
        ck_assert(!c->has_events && c->events.populated);

        /* a: the capture of 64 MiB on node 1 and 8 MiB of file on node 0 */
        c = cgroup_tree_get(t, "a");
        ck_assert_ptr_eq(c, &t->cgroups[1]);
        ck_assert(c->has_memory && c->has_memory_stat && c->has_numa_stat && c->has_pids && c->has_events);
        ck_assert_uint_eq(c->memory_current, 76111872);
        ck_assert_ptr_nonnull(c->numa);
        ck_assert_uint_eq(c->numa->nodes, 3);
        ck_assert_uint_eq(c->numa->anon[1], 67309568);
        ck_assert_uint_eq(c->tier_anon[0], 0);
        ck_assert_uint_eq(c->tier_anon[1], 67309568);
        ck_assert_uint_eq(c->tier_file[0], 8 * MIB);
        ck_assert_uint_eq(c->tier_file[1], 4096);
        ck_assert_uint_eq(c->stat.anon, 67309568);
        ck_assert_uint_eq(c->n_pids, 2);
        ck_assert(c->events.populated && !c->events.frozen);
        snprintf(path, sizeof(path), "%s/a", unit_tmproot());
        ck_assert_int_eq(stat(path, &st), 0);
        ck_assert_uint_eq(c->id, (uint64_t) st.st_ino);
        ck_assert_uint_eq(c->uid, st.st_uid);
        ck_assert_uint_eq(c->gid, st.st_gid);
        if (geteuid() == 0)
                ck_assert(c->uid == 1234 && c->gid == 5678);

        c = cgroup_tree_get(t, "a/x");
        ck_assert(c->has_pids && c->n_pids == 0 && !c->pids);
        ck_assert(!c->events.populated);
        ck_assert(cgroup_tree_get(t, "a/x/deep")->events.frozen);

        /* e: usage without numa_stat, so no per-node or per-tier bytes */
        c = cgroup_tree_get(t, "e");
        ck_assert(c->has_memory && c->has_memory_stat && !c->has_numa_stat);
        ck_assert_uint_eq(c->tier_anon[1], 0);

        /* lookups */
        ck_assert_int_eq(cgroup_tree_find(t, "", &i), 0);
        ck_assert_uint_eq(i, 0);
        ck_assert_int_eq(cgroup_tree_find(t, "/", &i), 0);
        ck_assert_uint_eq(i, 0);
        ck_assert_int_eq(cgroup_tree_find(t, "/a/x/deep/", &i), 0);
        ck_assert_uint_eq(i, 3);
        ck_assert_int_eq(cgroup_tree_find(t, "a/x/dee", &i), -ENOENT);
        ck_assert_int_eq(cgroup_tree_find(t, "c", &i), -ENOENT);
        ck_assert_int_eq(cgroup_tree_find(t, "c/child", &i), -ENOENT);
        ck_assert_int_eq(cgroup_tree_find(t, "link", &i), -ENOENT);
        ck_assert_ptr_null(cgroup_tree_get(t, "notes.txt"));
}
END_TEST

START_TEST(test_walk_no_memory_controller) {
        _cleanup_(cgroup_tree_freep) CgroupTree *t = NULL;
        const CgroupInfo *c;

        /* b has cgroup.procs: alive, without the memory controller */
        unit_write_file("cgroup.procs", "1\n");
        unit_write_file("b/cgroup.events", "populated 0\nfrozen 0\n");
        unit_write_file("b/cgroup.procs", "");
        ck_assert_int_eq(cgroup_walk(unit_tmproot(), NULL, CGROUP_WALK_DEFAULT, &t), 0);
        ck_assert_uint_eq(t->n_cgroups, 2);
        ck_assert_int_eq(t->n_tiers, 0);
        c = cgroup_tree_get(t, "b");
        ck_assert_ptr_nonnull(c);
        ck_assert(!c->has_memory && !c->has_memory_stat && !c->has_numa_stat);
        ck_assert(c->has_events && c->has_pids);
        t = cgroup_tree_free(t);

        /* and when the walk does not read cgroup.procs, it still checks it */
        ck_assert_int_eq(cgroup_walk(unit_tmproot(), NULL, CGROUP_WALK_SKIP_PIDS, &t), 0);
        ck_assert_uint_eq(t->n_cgroups, 2);
        ck_assert(!t->cgroups[1].has_pids);
}
END_TEST

START_TEST(test_walk_unpopulated_procs_not_read) {
        _cleanup_(cgroup_tree_freep) CgroupTree *t = NULL;
        const CgroupInfo *c;

        /* populated 0 says cgroup.procs is empty: it is not read */
        unit_write_file("cgroup.procs", "1\n");
        unit_write_file("idle/cgroup.events", "populated 0\nfrozen 0\n");
        unit_write_file("idle/cgroup.procs", "not read\n");
        unit_write_file("busy/cgroup.events", "populated 1\nfrozen 0\n");
        unit_write_file("busy/cgroup.procs", "42\n");
        ck_assert_int_eq(cgroup_walk(unit_tmproot(), NULL, CGROUP_WALK_DEFAULT, &t), 0);
        ck_assert_uint_eq(t->n_cgroups, 3);
        c = cgroup_tree_get(t, "idle");
        ck_assert(c->has_pids && c->n_pids == 0 && !c->pids);
        c = cgroup_tree_get(t, "busy");
        ck_assert(c->has_pids && c->n_pids == 1 && c->pids[0] == 42);
}
END_TEST

START_TEST(test_walk_flags) {
        _cleanup_(cgroup_tree_freep) CgroupTree *t = NULL;
        _cleanup_(topology_freep) Topology *topo = NULL;

        write_tree();
        ck_assert_int_eq(topology_load(FIXTURES "/vm-stock/sys", &topo), 0);
        ck_assert_int_eq(cgroup_walk(unit_tmproot(), topo, CGROUP_WALK_SKIP_PIDS | CGROUP_WALK_SKIP_NUMA_STAT, &t), 0);
        ck_assert_uint_eq(t->n_cgroups, 6);
        for (size_t i = 0; i < t->n_cgroups; i++) {
                const CgroupInfo *c = &t->cgroups[i];

                ck_assert(!c->has_pids && !c->pids && !c->has_numa_stat);
                ck_assert_uint_eq(c->tier_anon[1], 0);
                bool memory = i > 0 && strcmp(c->path, "b") != 0;

                ck_assert(c->has_memory == memory);
                ck_assert(c->has_memory_stat == memory);
        }
        t = cgroup_tree_free(t);

        /* memory.stat skipped: d's bad memory.stat is not read either */
        ck_assert_int_eq(cgroup_walk(unit_tmproot(), topo, CGROUP_WALK_SKIP_MEMORY_STAT, &t), 0);
        ck_assert_uint_eq(t->n_cgroups, 7);
        ck_assert_uint_eq(t->n_failed, 0);
        ck_assert(!cgroup_tree_get(t, "d")->has_memory_stat);
        ck_assert_uint_eq(cgroup_tree_get(t, "d")->tier_anon[1], 67309568);
}
END_TEST

START_TEST(test_walk_many_pids_and_cgroups) {
        _cleanup_(cgroup_tree_freep) CgroupTree *t = NULL;
        _cleanup_free_ char *procs = NULL;
        size_t len = 0;

        /* cgroup.procs far bigger than one page and than the scratch buffer */
        procs = malloc(20000 * 12);
        ck_assert_ptr_nonnull(procs);
        for (int p = 1; p <= 20000; p++)
                len += (size_t) sprintf(procs + len, "%d\n", 4000000 + p);
        unit_write_file("cgroup.procs", procs);
        /* and enough cgroups to grow the array and the index a few times */
        for (int i = 0; i < 30; i++)
                for (int j = 0; j < 30; j++) {
                        char rel[64];

                        snprintf(rel, sizeof(rel), "p%02d/c%02d/cgroup.procs", i, j);
                        unit_write_file(rel, "");
                        if (j == 0) {
                                snprintf(rel, sizeof(rel), "p%02d/cgroup.procs", i);
                                unit_write_file(rel, "");
                        }
                }
        ck_assert_int_eq(cgroup_walk(unit_tmproot(), NULL, CGROUP_WALK_DEFAULT, &t), 0);
        ck_assert_uint_eq(t->cgroups[0].n_pids, 20000);
        ck_assert_int_eq(t->cgroups[0].pids[19999], 4020000);
        ck_assert_uint_eq(t->n_cgroups, 1 + 30 + 30 * 30);
        ck_assert_str_eq(t->cgroups[1].path, "p00");
        ck_assert_str_eq(t->cgroups[2].path, "p00/c00");
        ck_assert_str_eq(t->cgroups[32].path, "p01");
        ck_assert_uint_eq(t->cgroups[1].subtree_end, 32);
        for (size_t i = 0; i < t->n_cgroups; i++) {
                size_t k;

                ck_assert_int_eq(cgroup_tree_find(t, t->cgroups[i].path, &k), 0);
                ck_assert_uint_eq(k, i);
        }
}
END_TEST

START_TEST(test_walk_errors) {
        _cleanup_(cgroup_tree_freep) CgroupTree *t = NULL;
        char path[512];

        snprintf(path, sizeof(path), "%s/absent", unit_tmproot());
        ck_assert_int_eq(cgroup_walk(path, NULL, CGROUP_WALK_DEFAULT, &t), -ENOENT);
        unit_write_file("file", "x");
        snprintf(path, sizeof(path), "%s/file", unit_tmproot());
        ck_assert_int_eq(cgroup_walk(path, NULL, CGROUP_WALK_DEFAULT, &t), -ENOTDIR);
        /* a root that is not a cgroup (no cgroup.procs) is not walked */
        ck_assert_int_eq(cgroup_walk(unit_tmproot(), NULL, CGROUP_WALK_DEFAULT, &t), -ENOENT);
        /* nor one whose files do not parse */
        unit_write_file("cgroup.procs", "x\n");
        ck_assert_int_eq(cgroup_walk(unit_tmproot(), NULL, CGROUP_WALK_DEFAULT, &t), -EINVAL);
        ck_assert_ptr_null(t);

        ck_assert_int_eq(cgroup_tree_find(NULL, "", NULL), -ENOENT);
        ck_assert_ptr_null(cgroup_tree_free(NULL));
}
END_TEST

/* A chain TOP/c0/c1/.../c(N-1) under the root, each a cgroup without
 * memory, made with *at() calls (its paths grow past PATH_MAX). */
static void write_chain(const char *top, int n) {
        int fd;

        unit_write_file("cgroup.procs", "");
        fd = open(unit_tmproot(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        ck_assert_int_ge(fd, 0);
        for (int d = -1; d < n; d++) {
                char name[32];
                int nfd, pfd;

                if (d < 0)
                        snprintf(name, sizeof(name), "%s", top);
                else
                        snprintf(name, sizeof(name), "c%d", d);
                ck_assert_int_eq(mkdirat(fd, name, 0755), 0);
                nfd = openat(fd, name, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
                ck_assert_int_ge(nfd, 0);
                close(fd);
                fd = nfd;
                pfd = openat(fd, "cgroup.procs", O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
                ck_assert_int_ge(pfd, 0);
                close(pfd);
        }
        close(fd);
}

START_TEST(test_walk_depth_bound) {
        _cleanup_(cgroup_tree_freep) CgroupTree *t = NULL;
        size_t i;

        /* top/c0/.../c9: top is depth 1, c(k) depth k + 2 */
        write_chain("top", 10);
        unit_write_file("side/cgroup.procs", "");
        ck_assert_int_eq(cgroup_walk_bounded(unit_tmproot(), NULL, CGROUP_WALK_DEFAULT, 1000, 4, &t), 0);
        /* root, top, c0, c1, c2 (depth 4), side; c3 and below left out */
        ck_assert_uint_eq(t->n_cgroups, 6);
        ck_assert_int_eq(cgroup_tree_find(t, "top/c0/c1/c2", &i), 0);
        ck_assert_int_eq(t->cgroups[i].depth, 4);
        ck_assert_uint_eq(t->cgroups[i].subtree_end, i + 1);
        ck_assert_int_eq(cgroup_tree_find(t, "top/c0/c1/c2/c3", &i), -ENOENT);
        ck_assert_int_eq(cgroup_tree_find(t, "side", &i), 0);
        /* one subtree left out for depth (c3: its own children are never opened) */
        ck_assert_uint_eq(t->n_skipped_depth, 1);
        ck_assert_uint_eq(t->n_skipped_count, 0);
        ck_assert_str_eq(t->first_skipped, "top/c0/c1/c2/c3");
        t = cgroup_tree_free(t);

        /* the shipped bound: a 300-deep chain stops at depth 256 */
        write_chain("deep", 300);
        ck_assert_int_eq(cgroup_walk(unit_tmproot(), NULL, CGROUP_WALK_DEFAULT, &t), 0);
        ck_assert_uint_eq(t->n_skipped_depth, 1);
        for (i = 0; i < t->n_cgroups; i++)
                ck_assert_int_le(t->cgroups[i].depth, CGROUP_WALK_MAX_DEPTH);
        /* root, side, top and its 10, deep and its 255 (depths 2..256) */
        ck_assert_uint_eq(t->n_cgroups, 1 + 1 + 11 + 256);
}
END_TEST

START_TEST(test_walk_count_bound) {
        _cleanup_(cgroup_tree_freep) CgroupTree *t = NULL;
        size_t i;

        /* a/ with 5 children, b/ with 5: pre-order is /, a, a/0..a/4, b, b/0..b/4 */
        for (int k = 0; k < 5; k++) {
                char f[64];

                snprintf(f, sizeof(f), "a/%d/cgroup.procs", k);
                unit_write_file(f, "");
                snprintf(f, sizeof(f), "b/%d/cgroup.procs", k);
                unit_write_file(f, "");
        }
        unit_write_file("cgroup.procs", "");
        unit_write_file("a/cgroup.procs", "");
        unit_write_file("b/cgroup.procs", "");
        ck_assert_int_eq(cgroup_walk_bounded(unit_tmproot(), NULL, CGROUP_WALK_DEFAULT, 9, 256, &t), 0);
        /* the first 9 in walk order: /, a, a/0-4, b, b/0 */
        ck_assert_uint_eq(t->n_cgroups, 9);
        ck_assert_int_eq(cgroup_tree_find(t, "b/0", &i), 0);
        ck_assert_int_eq(cgroup_tree_find(t, "b/1", &i), -ENOENT);
        ck_assert_uint_eq(t->n_skipped_count, 4);
        ck_assert_uint_eq(t->n_skipped_depth, 0);
        ck_assert_str_eq(t->first_skipped, "b/1");
        /* the tree stays consistent: subtree ends within the listed cgroups */
        ck_assert_int_eq(cgroup_tree_find(t, "b", &i), 0);
        ck_assert_uint_eq(t->cgroups[i].subtree_end, 9);
        ck_assert_uint_eq(t->cgroups[0].subtree_end, 9);
        t = cgroup_tree_free(t);

        /* within the bound: nothing left out, nothing named */
        ck_assert_int_eq(cgroup_walk(unit_tmproot(), NULL, CGROUP_WALK_DEFAULT, &t), 0);
        ck_assert_uint_eq(t->n_cgroups, 13);
        ck_assert_uint_eq(t->n_skipped_count + t->n_skipped_depth, 0);
        ck_assert_ptr_null(t->first_skipped);
        /* per-node numbers only when asked for */
        ck_assert_ptr_null(t->cgroups[1].numa);
}
END_TEST

int main(void) {
        Suite *s = suite_create("walk");
        TCase *fx = tcase_create("fixtures"), *bad = tcase_create("malformed"), *syn = tcase_create("synthetic");

        tcase_add_test(fx, test_parse_numa_stat_captured);
        tcase_add_test(fx, test_parse_memory_stat_captured);
        tcase_add_test(fx, test_parse_events_captured);
        tcase_add_test(fx, test_parse_procs_captured);
        tcase_add_test(bad, test_parse_numa_stat_malformed);
        tcase_add_test(bad, test_parse_memory_stat_malformed);
        tcase_add_test(bad, test_parse_events_malformed);
        tcase_add_test(bad, test_parse_procs_malformed);
        tcase_add_test(bad, test_parse_procs_exiting_zero);
        tcase_add_checked_fixture(syn, unit_tmp_setup, unit_tmp_teardown);
        tcase_add_test(syn, test_walk_synthetic_tree);
        tcase_add_test(syn, test_walk_no_memory_controller);
        tcase_add_test(syn, test_walk_unpopulated_procs_not_read);
        tcase_add_test(syn, test_walk_flags);
        tcase_add_test(syn, test_walk_many_pids_and_cgroups);
        tcase_add_test(syn, test_walk_errors);
        tcase_add_test(syn, test_walk_depth_bound);
        tcase_add_test(syn, test_walk_count_bound);
        suite_add_tcase(s, fx);
        suite_add_tcase(s, bad);
        suite_add_tcase(s, syn);
        return unit_run(s);
}
