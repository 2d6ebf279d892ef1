/* SPDX-License-Identifier: MIT */
/* cgroup discovery: one pre-order walk of a cgroup2 tree with the usage of
 * each cgroup. Every file is opened relative to the directory fd of its
 * cgroup (no path is resolved twice) and read with, as a rule, a single
 * read(2) into a scratch buffer the walker owns and reuses. */
#include "cgroup.h"

#include <dirent.h>
#include <fcntl.h>
#include <stddef.h>
#include <string.h>
#include <sys/stat.h>

#include "util.h"

#define SCRATCH_INITIAL (64u << 10)
#define SCRATCH_MAX (64u << 20)
#define DENTS_SIZE (32u << 10)
/* The largest struct dirent64: header, a 255-byte name, NUL, alignment. */
#define DIRENT_MAX (offsetof(struct dirent64, d_name) + 256 + 8)

/* cgroupfs files are seq_files: one read(2) returns whole records and stops
 * when the next one does not fit in the kernel's buffer (one page, bigger
 * only for a record that needs it). The memory files and cgroup.events are
 * one record each; cgroup.procs is one record per pid (at most 8 bytes). So
 * a first read shorter than a page minus a record is the whole file, and
 * only a longer one needs a second read to see the end. Regular files (the
 * unit tests' trees) behave the same. */
#define SHORT_READ_IS_EOF (4096u - 64u)

static bool errno_is_vanished(int r) {
        return r == -ENOENT || r == -ENODEV || r == -ESRCH;
}

/* ---- parsers ---------------------------------------------------------- */

#define STAT_FIELD(f) { #f, sizeof(#f) - 1, offsetof(CgroupMemoryStat, f) }
static const struct {
        const char *name;
        size_t len;
        size_t offset;
} stat_fields[_CGROUP_STAT_FIELD_MAX] = {
        [CGROUP_STAT_ANON] = STAT_FIELD(anon),
        [CGROUP_STAT_FILE] = STAT_FIELD(file),
        [CGROUP_STAT_SHMEM] = STAT_FIELD(shmem),
        [CGROUP_STAT_FILE_MAPPED] = STAT_FIELD(file_mapped),
        [CGROUP_STAT_ACTIVE_ANON] = STAT_FIELD(active_anon),
        [CGROUP_STAT_INACTIVE_ANON] = STAT_FIELD(inactive_anon),
        [CGROUP_STAT_ACTIVE_FILE] = STAT_FIELD(active_file),
        [CGROUP_STAT_INACTIVE_FILE] = STAT_FIELD(inactive_file),
        [CGROUP_STAT_PGPROMOTE_SUCCESS] = STAT_FIELD(pgpromote_success),
        [CGROUP_STAT_PGDEMOTE_KSWAPD] = STAT_FIELD(pgdemote_kswapd),
        [CGROUP_STAT_PGDEMOTE_DIRECT] = STAT_FIELD(pgdemote_direct),
        [CGROUP_STAT_PGDEMOTE_KHUGEPAGED] = STAT_FIELD(pgdemote_khugepaged),
};

const char *cgroup_stat_field_to_string(CgroupStatField f) {
        if ((unsigned) f >= _CGROUP_STAT_FIELD_MAX)
                return NULL;
        return stat_fields[f].name;
}

uint64_t cgroup_memory_stat_get(const CgroupMemoryStat *s, CgroupStatField f) {
        if ((unsigned) f >= _CGROUP_STAT_FIELD_MAX)
                return 0;
        return *(const uint64_t *) ((const char *) s + stat_fields[f].offset);
}

/* Decimal digits at *p into *ret, advancing *p past them. */
static int parse_decimal(const char **p, uint64_t *ret) {
        const char *s = *p;
        uint64_t v = 0;

        if (*s < '0' || *s > '9')
                return -EINVAL;
        for (; *s >= '0' && *s <= '9'; s++) {
                unsigned d = (unsigned) (*s - '0');

                if (v > (UINT64_MAX - d) / 10)
                        return -ERANGE;
                v = v * 10 + d;
        }
        *p = s;
        *ret = v;
        return 0;
}

/* The end of the line at LINE (its '\n' or the final NUL). */
static const char *line_end(const char *line) {
        return strchrnul(line, '\n');
}

static const char *next_line(const char *eol) {
        return *eol ? eol + 1 : eol;
}

/* KEY at the start of [line, eol) followed by a space or the end. */
static bool line_has_key(const char *line, const char *eol, const char *key, size_t klen) {
        return (size_t) (eol - line) >= klen && memcmp(line, key, klen) == 0 &&
               (line + klen == eol || line[klen] == ' ');
}

/* " N0=123 N1=456" up to EOL. */
static int parse_node_values(const char *p, const char *eol, uint64_t *nodes, uint64_t values[static CGROUP_MAX_NODES]) {
        while (p < eol) {
                uint64_t node, v;
                int r;

                if (*p == ' ') {
                        p++;
                        continue;
                }
                if (*p != 'N')
                        return -EINVAL;
                p++;
                r = parse_decimal(&p, &node);
                if (r < 0)
                        return -EINVAL;
                if (*p != '=')
                        return -EINVAL;
                p++;
                r = parse_decimal(&p, &v);
                if (r < 0)
                        return r;
                if (p < eol && *p != ' ')
                        return -EINVAL;
                if (node < CGROUP_MAX_NODES) {
                        values[node] = v;
                        *nodes |= UINT64_C(1) << node;
                }
        }
        return 0;
}

int cgroup_parse_numa_stat(const char *text, CgroupNumaStat *ret) {
        bool anon = false, file = false;

        *ret = (CgroupNumaStat) {};
        for (const char *line = text, *eol; *line; line = next_line(eol)) {
                int r;

                eol = line_end(line);
                if (line_has_key(line, eol, "anon", 4)) {
                        r = parse_node_values(line + 4, eol, &ret->nodes, ret->anon);
                        anon = true;
                } else if (line_has_key(line, eol, "file", 4)) {
                        r = parse_node_values(line + 4, eol, &ret->nodes, ret->file);
                        file = true;
                } else if (line_has_key(line, eol, "file_mapped", 11)) {
                        uint64_t nodes = 0;

                        /* its nodes are anon's and file's: not counted */
                        r = parse_node_values(line + 11, eol, &nodes, ret->file_mapped);
                } else
                        continue;
                if (r < 0)
                        return r;
        }
        return anon && file ? 0 : -EINVAL;
}

int cgroup_parse_memory_stat(const char *text, CgroupMemoryStat *ret) {
        bool any = false;

        *ret = (CgroupMemoryStat) {};
        for (const char *line = text, *eol; *line; line = next_line(eol)) {
                const char *sp;
                size_t klen;

                eol = line_end(line);
                if (line == eol)
                        continue;
                sp = memchr(line, ' ', (size_t) (eol - line));
                if (!sp || sp == line)
                        return -EINVAL;
                klen = (size_t) (sp - line);
                any = true;
                for (unsigned f = 0; f < _CGROUP_STAT_FIELD_MAX; f++) {
                        const char *p = sp + 1;
                        uint64_t v;
                        int r;

                        if (stat_fields[f].len != klen || memcmp(stat_fields[f].name, line, klen) != 0)
                                continue;
                        r = parse_decimal(&p, &v);
                        if (r < 0)
                                return r;
                        if (p != eol)
                                return -EINVAL;
                        *(uint64_t *) ((char *) ret + stat_fields[f].offset) = v;
                        ret->present |= UINT32_C(1) << f;
                        break;
                }
        }
        return any ? 0 : -EINVAL;
}

static int parse_flag(const char *p, const char *eol, bool *ret) {
        if (eol - p != 1 || (*p != '0' && *p != '1'))
                return -EINVAL;
        *ret = *p == '1';
        return 0;
}

int cgroup_parse_events(const char *text, CgroupEvents *ret) {
        bool populated = false;

        *ret = (CgroupEvents) {};
        for (const char *line = text, *eol; *line; line = next_line(eol)) {
                int r;

                eol = line_end(line);
                if (line_has_key(line, eol, "populated", 9)) {
                        r = parse_flag(line + 10, eol, &ret->populated);
                        populated = true;
                } else if (line_has_key(line, eol, "frozen", 6))
                        r = parse_flag(line + 7, eol, &ret->frozen);
                else
                        continue;
                if (r < 0)
                        return r;
        }
        return populated ? 0 : -EINVAL;
}

int cgroup_parse_procs(const char *text, pid_t **ret_pids, size_t *ret_n_pids) {
        _cleanup_free_ pid_t *pids = NULL;
        size_t n = 0, lines = 0;

        for (const char *p = text; *p; p++)
                if (*p == '\n')
                        lines++;
        if (*text && text[strlen(text) - 1] != '\n')
                lines++;
        if (lines > 0) {
                pids = malloc(lines * sizeof(pid_t));
                if (!pids)
                        return -ENOMEM;
        }
        for (const char *line = text, *eol; *line; line = next_line(eol)) {
                const char *p = line;
                uint64_t v;

                eol = line_end(line);
                if (parse_decimal(&p, &v) < 0 || p != eol || v > INT32_MAX)
                        return -EINVAL;
                /* Exiting processes stay listed until they are released
                 * (Linux 6.7+), and one whose pid is already gone prints
                 * as 0 (seen in the VM walk test under cgroup churn). */
                if (v == 0)
                        continue;
                pids[n++] = (pid_t) v;
        }
        *ret_pids = n > 0 ? TAKE_PTR(pids) : NULL;
        *ret_n_pids = n;
        return 0;
}

/* ---- the walk --------------------------------------------------------- */

typedef struct Walker {
        CgroupTree *tree;
        CgroupWalkFlags flags;
        int node_tier[CGROUP_MAX_NODES];        /* -1: no tier */
        size_t alloc;                           /* capacity of tree->cgroups */
        char *dents;                            /* one getdents64() result */
        char *buf;                              /* one file's text */
        size_t buf_size;
        char *path;                             /* of the cgroup at hand */
        size_t path_len, path_alloc;
        const char *file;                       /* the file a failure is about */
        CgroupNumaStat numa;                    /* memory.numa_stat of the cgroup at hand */
        size_t max_cgroups, max_depth;          /* the bounds (cgroup_walk_bounded()) */
        size_t path_bytes;                      /* in the tree's arena */
} Walker;

/* The paths of one tree come from a list of chunks, freed together: no
 * malloc and free per cgroup. */
typedef struct CgroupArena {
        struct CgroupArena *next;
        size_t used, size;      /* in bytes of data */
        uint64_t data[];
} CgroupArena;

#define ARENA_CHUNK (64u << 10)

static void *arena_alloc(CgroupTree *t, size_t size) {
        CgroupArena *a = t->arena;
        void *p;

        size = (size + 7) & ~(size_t) 7;
        if (!a || a->size - a->used < size) {
                size_t data = ARENA_CHUNK - sizeof(CgroupArena);

                if (data < size)
                        data = size;
                a = malloc(sizeof(CgroupArena) + data);
                if (!a)
                        return NULL;
                *a = (CgroupArena) { .next = t->arena, .size = data };
                t->arena = a;
        }
        p = (char *) a->data + a->used;
        a->used += size;
        return p;
}

static void cgroup_info_done(CgroupInfo *c) {
        free(c->pids);
        free(c->numa);
}

/* Reads DFD/NAME into w->buf, NUL-terminated. */
static int read_at(Walker *w, int dfd, const char *name) {
        _cleanup_close_ int fd = -1;
        size_t len = 0;

        w->file = name;
        fd = openat(dfd, name, O_RDONLY | O_CLOEXEC | O_NOCTTY);
        if (fd < 0)
                return -errno;
        for (;;) {
                ssize_t n;

                if (w->buf_size - len < 2) {
                        char *nb;

                        if (w->buf_size >= SCRATCH_MAX)
                                return -EFBIG;
                        nb = realloc(w->buf, w->buf_size * 2);
                        if (!nb)
                                return -ENOMEM;
                        w->buf = nb;
                        w->buf_size *= 2;
                }
                n = read(fd, w->buf + len, w->buf_size - len - 1);
                if (n < 0) {
                        if (errno == EINTR)
                                continue;
                        return -errno;
                }
                if (n == 0)
                        break;
                len += (size_t) n;
                if (len == (size_t) n && len < SHORT_READ_IS_EOF)
                        break;
        }
        w->buf[len] = '\0';
        return 0;
}

static void sum_tiers(const Walker *w, CgroupInfo *c) {
        const CgroupNumaStat *numa = &w->numa;

        for (int n = 0; n < CGROUP_MAX_NODES; n++) {
                int t;

                if (!(numa->nodes & (UINT64_C(1) << n)))
                        continue;
                t = w->node_tier[n];
                if (t < 0)
                        continue;
                c->tier_anon[t] += numa->anon[n];
                c->tier_file[t] += numa->file[n];
                c->tier_file_mapped[t] += min_u64(numa->file_mapped[n], numa->file[n]);
        }
}

/* Reads one optional file: 1 read, 0 absent, -errno. */
static int read_optional(Walker *w, int dfd, const char *name, bool *absent) {
        int r;

        r = read_at(w, dfd, name);
        if (r == -ENOENT) {
                *absent = true;
                return 0;
        }
        return r < 0 ? r : 1;
}

/* Fills C from the files of the cgroup at DFD. A cgroup that went away
 * gives -ENOENT, -ENODEV or -ESRCH. */
static int read_cgroup(Walker *w, int dfd, CgroupInfo *c) {
        bool absent = false, no_memory = false, procs_read = false;
        int r;

        r = read_optional(w, dfd, "cgroup.events", &absent);
        if (r < 0)
                return r;
        if (r > 0) {
                r = cgroup_parse_events(w->buf, &c->events);
                if (r < 0)
                        return r;
                c->has_events = true;
        }

        r = read_optional(w, dfd, "memory.current", &no_memory);
        if (r < 0)
                return r;
        if (r > 0) {
                r = parse_u64(w->buf, &c->memory_current);
                if (r < 0)
                        return r;
                c->has_memory = true;
        }

        if (c->has_memory && !(w->flags & CGROUP_WALK_SKIP_MEMORY_STAT)) {
                r = read_optional(w, dfd, "memory.stat", &absent);
                if (r < 0)
                        return r;
                if (r > 0) {
                        r = cgroup_parse_memory_stat(w->buf, &c->stat);
                        if (r < 0)
                                return r;
                        c->has_memory_stat = true;
                }
        }

        if (c->has_memory && !(w->flags & CGROUP_WALK_SKIP_NUMA_STAT)) {
                r = read_optional(w, dfd, "memory.numa_stat", &absent);
                if (r < 0)
                        return r;
                if (r > 0) {
                        r = cgroup_parse_numa_stat(w->buf, &w->numa);
                        if (r < 0)
                                return r;
                        c->has_numa_stat = true;
                        sum_tiers(w, c);
                        if (w->flags & CGROUP_WALK_NUMA_NODES) {
                                c->numa = malloc(sizeof(CgroupNumaStat));
                                if (!c->numa)
                                        return -ENOMEM;
                                *c->numa = w->numa;
                        }
                }
        }

        if (!(w->flags & CGROUP_WALK_SKIP_PIDS)) {
                if (c->has_events && !c->events.populated)
                        /* No process here or below: the list is empty
                         * without asking (at this instant, as any read). */
                        c->has_pids = true;
                else {
                        r = read_optional(w, dfd, "cgroup.procs", &absent);
                        if (r < 0)
                                return r;
                        if (r > 0) {
                                r = cgroup_parse_procs(w->buf, &c->pids, &c->n_pids);
                                if (r < 0)
                                        return r;
                                c->has_pids = true;
                                procs_read = true;
                        }
                }
        }

        /* A missing file is either not offered (no memory controller, the
         * root's cgroup.events, a kernel without NUMA) or the cgroup was
         * removed while we read it: cgroup.procs exists in every live one. */
        if ((absent || no_memory) && !procs_read) {
                w->file = "cgroup.procs";
                if (faccessat(dfd, "cgroup.procs", F_OK, 0) < 0)
                        return -errno;
        }
        return 0;
}

/* Decides what a failure about one cgroup means for the walk. */
static int skip_cgroup(Walker *w, int r, const char *what) {
        if (r == -ENOMEM)
                return r;
        if (errno_is_vanished(r)) {
                w->tree->n_vanished++;
                log_internal(LOG_LVL_DEBUG, r, "cgroup '%s' went away during the walk (%s): %m", w->path, what);
        } else {
                w->tree->n_failed++;
                log_internal(LOG_LVL_DEBUG, r, "cgroup '%s': %s: %m, skipping", w->path, what);
        }
        return 0;
}

/* Sets w->path to the path of child NAME of the cgroup whose path is the
 * first BASE_LEN bytes of it. */
static int path_set_child(Walker *w, size_t base_len, const char *name) {
        size_t nlen = strlen(name), need = base_len + 1 + nlen + 1;

        if (need > w->path_alloc) {
                size_t a = w->path_alloc ? w->path_alloc : 256;
                char *np;

                while (a < need)
                        a *= 2;
                np = realloc(w->path, a);
                if (!np)
                        return -ENOMEM;
                w->path = np;
                w->path_alloc = a;
        }
        w->path_len = base_len;
        if (base_len > 0)
                w->path[w->path_len++] = '/';
        memcpy(w->path + w->path_len, name, nlen + 1);
        w->path_len += nlen;
        return 0;
}

static int cmp_names(const void *a, const void *b, void *userdata) {
        const char *names = userdata;

        return strcmp(names + *(const size_t *) a, names + *(const size_t *) b);
}

/* Names of the subdirectories of the directory DFD (the child cgroups),
 * sorted, as offsets into one buffer. getdents64(2) straight into the
 * walker's buffer: no DIR to allocate, and, as with read_at(), a result
 * that left room for one more entry of any name was the last one (cgroupfs
 * and the usual file systems fill the buffer as far as entries fit). */
static int list_children(Walker *w, int dfd, char **ret_names, size_t **ret_offsets, size_t *ret_n) {
        _cleanup_free_ char *names = NULL;
        _cleanup_free_ size_t *offsets = NULL;
        size_t n = 0, len = 0, names_alloc = 0, offsets_alloc = 0;

        for (;;) {
                ssize_t got = getdents64(dfd, w->dents, DENTS_SIZE);

                if (got < 0) {
                        if (errno == EINTR)
                                continue;
                        return -errno;
                }
                if (got == 0)
                        break;
                for (size_t off = 0; off < (size_t) got;) {
                        const struct dirent64 *de = (const struct dirent64 *) (w->dents + off);
                        size_t nlen;

                        off += de->d_reclen;
                        if (de->d_type == DT_UNKNOWN) {
                                struct stat st;

                                if (fstatat(dfd, de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0 || !S_ISDIR(st.st_mode))
                                        continue;
                        } else if (de->d_type != DT_DIR)
                                continue;
                        if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
                                continue;

                        nlen = strlen(de->d_name) + 1;
                        if (len + nlen > names_alloc) {
                                size_t a = names_alloc ? names_alloc * 2 : 1024;
                                char *nb;

                                while (a < len + nlen)
                                        a *= 2;
                                nb = realloc(names, a);
                                if (!nb)
                                        return -ENOMEM;
                                names = nb;
                                names_alloc = a;
                        }
                        if (n == offsets_alloc) {
                                size_t a = offsets_alloc ? offsets_alloc * 2 : 16;
                                size_t *no = realloc(offsets, a * sizeof(size_t));

                                if (!no)
                                        return -ENOMEM;
                                offsets = no;
                                offsets_alloc = a;
                        }
                        memcpy(names + len, de->d_name, nlen);
                        offsets[n++] = len;
                        len += nlen;
                }
                if ((size_t) got + DIRENT_MAX <= DENTS_SIZE)
                        break;
        }
        if (n > 1)
                qsort_r(offsets, n, sizeof(size_t), cmp_names, names);
        *ret_names = TAKE_PTR(names);
        *ret_offsets = TAKE_PTR(offsets);
        *ret_n = n;
        return 0;
}

/* Child w->path of a listed cgroup is left out with its subtree: past a
 * bound. */
static int skip_bound(Walker *w, bool depth) {
        CgroupTree *t = w->tree;

        if (depth)
                t->n_skipped_depth++;
        else
                t->n_skipped_count++;
        if (!t->first_skipped) {
                char *p = arena_alloc(t, w->path_len + 1);

                if (!p)
                        return -ENOMEM;
                t->first_skipped = memcpy(p, w->path, w->path_len + 1);
        }
        return 0;
}

/* Walks the cgroup open at DFD (consumed) and its subtree; w->path is its
 * path. Returns -errno only for what aborts the whole walk. */
static int walk_one(Walker *w, int dfd, int parent, int depth) {
        _cleanup_close_ int fd = dfd;
        _cleanup_free_ char *names = NULL;
        _cleanup_free_ size_t *offsets = NULL;
        CgroupTree *t = w->tree;
        size_t index, n_children = 0, base_len;
        struct stat st;
        CgroupInfo *c;
        int r;

        if (fstat(fd, &st) < 0)
                return depth == 0 ? -errno : skip_cgroup(w, -errno, "stat");

        if (t->n_cgroups == w->alloc) {
                size_t a = w->alloc ? w->alloc * 2 : 64;
                CgroupInfo *nc = realloc(t->cgroups, a * sizeof(CgroupInfo));

                if (!nc)
                        return -ENOMEM;
                t->cgroups = nc;
                w->alloc = a;
        }
        index = t->n_cgroups;
        c = &t->cgroups[index];
        *c = (CgroupInfo) {
                .depth = depth,
                .parent = parent,
                .id = (uint64_t) st.st_ino,
                .uid = st.st_uid,
                .gid = st.st_gid,
        };
        r = read_cgroup(w, fd, c);
        if (r >= 0) {
                char *p = arena_alloc(t, w->path_len + 1);

                if (p) {
                        c->path = memcpy(p, w->path, w->path_len + 1);
                        w->path_bytes += w->path_len + 1;
                } else
                        r = -ENOMEM;
        }
        if (r < 0) {
                cgroup_info_done(c);
                return depth == 0 || r == -ENOMEM ? r : skip_cgroup(w, r, w->file);
        }
        if (depth == 0 && !c->has_events)
                c->events.populated = true; /* the root, always */
        t->n_cgroups++;

        /* On cgroupfs (kernfs), as on most file systems, a directory's
         * link count is 2 plus its subdirectories: at 2 it is a leaf and
         * needs no listing. (Those that do not count say 1: listed.) */
        r = st.st_nlink == 2 ? 0 : list_children(w, fd, &names, &offsets, &n_children);
        if (r < 0) {
                /* Listed already; its children are not. */
                if (r == -ENOMEM)
                        return r;
                log_internal(LOG_LVL_DEBUG, r, "cgroup '%s': cannot list children: %m", w->path);
                n_children = 0;
        }

        base_len = w->path_len;
        for (size_t i = 0; i < n_children; i++) {
                const char *name = names + offsets[i];
                int cfd;

                r = path_set_child(w, base_len, name);
                if (r < 0)
                        return r;
                if ((size_t) depth + 1 > w->max_depth) {
                        r = skip_bound(w, true);
                        if (r < 0)
                                return r;
                        continue;
                }
                if (t->n_cgroups >= w->max_cgroups || w->path_bytes + w->path_len + 1 > CGROUP_WALK_MAX_PATH_BYTES) {
                        r = skip_bound(w, false);
                        if (r < 0)
                                return r;
                        continue;
                }
                cfd = openat(fd, name, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
                if (cfd < 0)
                        r = skip_cgroup(w, -errno, "open");
                else
                        r = walk_one(w, cfd, (int) index, depth + 1);
                if (r < 0)
                        return r;
        }
        w->path_len = base_len;
        w->path[base_len] = '\0';
        t->cgroups[index].subtree_end = t->n_cgroups;
        return 0;
}

static uint64_t hash_path(const char *s, size_t len) {
        uint64_t h = UINT64_C(0xcbf29ce484222325);

        for (size_t i = 0; i < len; i++) {
                h ^= (unsigned char) s[i];
                h *= UINT64_C(0x100000001b3);
        }
        return h;
}

static int tree_build_index(CgroupTree *t) {
        size_t size = 16;

        while (size < t->n_cgroups * 2)
                size *= 2;
        t->index = calloc(size, sizeof(size_t));
        if (!t->index)
                return -ENOMEM;
        t->index_size = size;
        for (size_t i = 0; i < t->n_cgroups; i++) {
                const char *p = t->cgroups[i].path;
                size_t h = (size_t) hash_path(p, strlen(p)) & (size - 1);

                while (t->index[h])
                        h = (h + 1) & (size - 1);
                t->index[h] = i + 1;
        }
        return 0;
}

int cgroup_tree_find(const CgroupTree *t, const char *path, size_t *ret_index) {
        size_t len, h;

        if (!t || !t->index)
                return -ENOENT;
        while (*path == '/')
                path++;
        len = strlen(path);
        while (len > 0 && path[len - 1] == '/')
                len--;
        for (h = (size_t) hash_path(path, len) & (t->index_size - 1); t->index[h];
             h = (h + 1) & (t->index_size - 1)) {
                size_t i = t->index[h] - 1;
                const char *p = t->cgroups[i].path;

                if (strncmp(p, path, len) == 0 && p[len] == '\0') {
                        if (ret_index)
                                *ret_index = i;
                        return 0;
                }
        }
        return -ENOENT;
}

const CgroupInfo *cgroup_tree_get(const CgroupTree *t, const char *path) {
        size_t i;

        if (cgroup_tree_find(t, path, &i) < 0)
                return NULL;
        return &t->cgroups[i];
}

CgroupTree *cgroup_tree_free(CgroupTree *t) {
        if (!t)
                return NULL;
        for (size_t i = 0; i < t->n_cgroups; i++)
                cgroup_info_done(&t->cgroups[i]);
        free(t->cgroups);
        free(t->index);
        while (t->arena) {
                CgroupArena *next = t->arena->next;

                free(t->arena);
                t->arena = next;
        }
        free(t->mount);
        free(t);
        return NULL;
}

/* Whether the last walk of this process was past a bound: the warning is
 * said when that starts, not every period. */
static bool walk_was_bounded;

static void log_bounds(const CgroupTree *t, size_t max_cgroups, size_t max_depth) {
        if (t->n_skipped_depth + t->n_skipped_count == 0) {
                if (walk_was_bounded)
                        log_info("cgroup tree: back within the bounds (%zu cgroups, depth %zu): every cgroup is walked again",
                                 max_cgroups, max_depth);
                walk_was_bounded = false;
                return;
        }
        log_internal(walk_was_bounded ? LOG_LVL_DEBUG : LOG_LVL_WARNING, 0,
                     "cgroup tree past the walk's bounds: %zu subtree(s) deeper than %zu, %zu after the first %zu "
                     "cgroups or %u MiB of paths in walk order (the first: %.*s%s) are left out, without policy, "
                     "their processes neither scanned nor moved; carrying on with the %zu cgroups walked",
                     t->n_skipped_depth, max_depth, t->n_skipped_count, max_cgroups, CGROUP_WALK_MAX_PATH_BYTES >> 20,
                     strlen(t->first_skipped) > 160 ? 160 : (int) strlen(t->first_skipped), t->first_skipped,
                     strlen(t->first_skipped) > 160 ? "..." : "", t->n_cgroups);
        walk_was_bounded = true;
}

int cgroup_walk(const char *mount, const Topology *topo, CgroupWalkFlags flags, CgroupTree **ret) {
        return cgroup_walk_bounded(mount, topo, flags, CGROUP_WALK_MAX_CGROUPS, CGROUP_WALK_MAX_DEPTH, ret);
}

int cgroup_walk_bounded(const char *mount, const Topology *topo, CgroupWalkFlags flags, size_t max_cgroups,
                        size_t max_depth, CgroupTree **ret) {
        _cleanup_(cgroup_tree_freep) CgroupTree *t = NULL;
        _cleanup_free_ char *buf = NULL, *path = NULL, *dents = NULL;
        Walker w = { .flags = flags, .max_cgroups = max_cgroups ? max_cgroups : 1, .max_depth = max_depth };
        int fd, r;

        t = calloc(1, sizeof(CgroupTree));
        if (!t)
                return -ENOMEM;
        t->mount = strdup(mount);
        if (!t->mount)
                return -ENOMEM;
        w.tree = t;

        for (int n = 0; n < CGROUP_MAX_NODES; n++)
                w.node_tier[n] = -1;
        if (topo) {
                for (int i = 0; i < topo->n_nodes; i++) {
                        const TopologyNode *node = &topo->nodes[i];

                        if (node->id >= 0 && node->id < CGROUP_MAX_NODES && node->tier >= 0 &&
                            node->tier < CGROUP_MAX_TIERS)
                                w.node_tier[node->id] = node->tier;
                }
                t->n_tiers = topo->n_tiers < CGROUP_MAX_TIERS ? topo->n_tiers : CGROUP_MAX_TIERS;
        }

        buf = malloc(SCRATCH_INITIAL);
        path = calloc(1, 256);
        dents = malloc(DENTS_SIZE);
        if (!buf || !path || !dents)
                return -ENOMEM;
        w.dents = dents;
        w.buf = buf;
        w.buf_size = SCRATCH_INITIAL;
        w.path = path;
        w.path_alloc = 256;

        fd = open(mount, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (fd < 0)
                return -errno;
        r = walk_one(&w, fd, -1, 0);
        /* The scratch buffers may have moved. */
        buf = w.buf;
        path = w.path;
        if (r < 0)
                return r;

        r = tree_build_index(t);
        if (r < 0)
                return r;
        log_bounds(t, w.max_cgroups, max_depth);
        *ret = TAKE_PTR(t);
        return 0;
}
