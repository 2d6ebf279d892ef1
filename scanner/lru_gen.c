/* SPDX-License-Identifier: MIT */
/* The MGLRU backend: the kernel's multi-generational LRU sorts every
 * (memcg, node) lruvec into generations by access recency; tierd asks it to
 * age once per period and reads the generation sizes from DEBUGFS/lru_gen
 * (format in lru_gen.h).
 *
 * Each scan():
 *  1. reads the file, for the memcg ids and each lruvec's youngest
 *     generation number (max_gen_nr);
 *  2. writes "+ memcg_id node_id max_gen_nr 1 1" for every memcg in every
 *     target's subtree, on every node listed (the nodes with memory). The
 *     kernel walks the page tables of that memcg's processes, moves the
 *     pages accessed since the previous aging into generation max_gen_nr
 *     and opens max_gen_nr + 1. can_swap=1: otherwise a kernel without
 *     swap skips anonymous mappings, which is most of what a tenant
 *     holds; force_scan=1: walk every page table, not only those its
 *     Bloom filter flagged (accuracy over kernel CPU). A refusal
 *     (-EINVAL, -ERANGE: the generation moved on, or the memcg went away)
 *     is retried once from a fresh read; a memcg that is gone is skipped;
 *  3. reads again and sums, per target, the pages of its memcg and every
 *     descendant by (tier of the node, lru_gen_age()). A target's first
 *     scan only ages it (step 2): its generations say nothing about one
 *     period yet. Which targets were aged is kept by cgroup id from one
 *     scan to the next, so targets can come, go and change order.
 *
 * Passes (TenantHeat.pass, lru_gen_pass()): every scan after a target's
 * arming one is a whole pass over its memory (the aging walks all of its
 * memcgs' page tables, the generations count all their pages), reported
 * as BEGIN|END|BYTE_ONLY, and EXACT unless an aging write for a memcg of
 * its subtree was refused even after the retry. No pass in its arming
 * scan, nor when it has no memcg (the cgroup is gone).
 *
 * Ages: lru_gen_age() (lru_gen.h). The kernel keeps at most MAX_NR_GENS
 * (4 in 6.12) generations per lruvec and folds the oldest into the next
 * when an aging opens a fifth, so this backend reports ages 0, 1 and 2
 * only: 2 means "not accessed for two periods or more". Aging the kernel
 * does on its own (kswapd, direct reclaim) also opens generations, so
 * under memory pressure an age can count more than one period.
 *
 * What this backend cannot give: addresses. Generations are page counts
 * per (memcg, node); which pages they hold is not visible from userspace.
 * So there are no candidates and no ranges (TenantHeat.cold/hot/ranges
 * stay empty even with HEAT_WANT_RANGES): a reclaim-based mover (for
 * example memory.reclaim or demotion through "- memcg_id node_id
 * min_gen_nr" eviction of the oldest generations) works from the byte
 * counts instead of from address ranges. Pages are the memcg's whole
 * lruvec: anon and file, mapped or not, so the target's pids are not used.
 *
 * Needs MGLRU enabled (/sys/kernel/mm/lru_gen/enabled != 0x0000) and debugfs
 * mounted. tierd never flips the global switch itself: it changes reclaim
 * for the whole machine, so it is the operator's call. */
#include "lru_gen.h"

#include <ctype.h>
#include <dirent.h>
#include <fcntl.h>
#include <inttypes.h>
#include <string.h>

#include "scanner.h"
#include "topology.h"
#include "util.h"

/* ---- parser ----------------------------------------------------------- */

LruGenTable *lru_gen_table_free(LruGenTable *t) {
        if (!t)
                return NULL;
        for (size_t i = 0; i < t->n_memcgs; i++) {
                LruGenMemcg *m = &t->memcgs[i];

                for (size_t j = 0; j < m->n_nodes; j++)
                        free(m->nodes[j].gens);
                free(m->nodes);
                free(m->path);
        }
        free(t->memcgs);
        free(t);
        return NULL;
}

/* Makes room for one more element of SIZE bytes in *ARRAY holding N of
 * *ALLOC; adds what it allocates to *BYTES. */
static int grow(void **array, size_t n, size_t *alloc, size_t size, size_t *bytes) {
        size_t na;
        void *p;

        if (n < *alloc)
                return 0;
        na = *alloc ? *alloc * 2 : 4;
        p = realloc(*array, na * size);
        if (!p)
                return -ENOMEM;
        *bytes += (na - *alloc) * size;
        *array = p;
        *alloc = na;
        return 0;
}

static const char *skip_blanks(const char *p) {
        while (*p == ' ' || *p == '\t')
                p++;
        return p;
}

/* One unsigned decimal field at *P (after blanks); advances *P. */
static int parse_field(const char **p, uint64_t *ret) {
        const char *s = skip_blanks(*p);
        unsigned long long v;
        char *end;

        if (!isdigit((unsigned char) *s))
                return -EINVAL;
        errno = 0;
        v = strtoull(s, &end, 10);
        if (errno == ERANGE)
                return -EINVAL;
        if (*end != '\0' && *end != '\n' && *end != ' ' && *end != '\t')
                return -EINVAL;
        *p = end;
        *ret = v;
        return 0;
}

/* Whether only blanks are left on the line at P. */
static bool at_eol(const char *p) {
        p = skip_blanks(p);
        return *p == '\0' || *p == '\n';
}

static bool starts_with_word(const char *p, const char *word) {
        size_t n = strlen(word);

        return strncmp(p, word, n) == 0 && (p[n] == ' ' || p[n] == '\t');
}

typedef struct Parser {
        LruGenTable *t;
        size_t memcgs_alloc, nodes_alloc, gens_alloc;
} Parser;

static LruGenMemcg *cur_memcg(Parser *ps) {
        return ps->t->n_memcgs ? &ps->t->memcgs[ps->t->n_memcgs - 1] : NULL;
}

static LruGenNode *cur_node(Parser *ps) {
        LruGenMemcg *m = cur_memcg(ps);

        return m && m->n_nodes ? &m->nodes[m->n_nodes - 1] : NULL;
}

/* A node must list at least one generation before the next line that is
 * not a generation. */
static int close_node(Parser *ps) {
        LruGenNode *n = cur_node(ps);

        return n && n->n_gens == 0 ? -EINVAL : 0;
}

static int parse_memcg_line(Parser *ps, const char *p) {
        const char *eol;
        LruGenMemcg *m;
        uint64_t id;
        int r;

        r = close_node(ps);
        if (r < 0)
                return r;
        r = parse_field(&p, &id);
        if (r < 0)
                return r;
        if (id > UINT32_MAX)
                return -EINVAL;
        /* One space, then the path to the end of the line (a cgroup name
         * may hold blanks); nothing at all without memcg support. */
        if (*p == ' ')
                p++;
        else if (*p != '\0' && *p != '\n')
                return -EINVAL;
        eol = p + strcspn(p, "\n");

        r = grow((void **) &ps->t->memcgs, ps->t->n_memcgs, &ps->memcgs_alloc, sizeof(LruGenMemcg), &ps->t->bytes);
        if (r < 0)
                return r;
        m = &ps->t->memcgs[ps->t->n_memcgs];
        *m = (LruGenMemcg) { .id = (uint32_t) id, .path = strndup(p, (size_t) (eol - p)) };
        if (!m->path)
                return -ENOMEM;
        ps->t->bytes += (size_t) (eol - p) + 1;
        ps->t->n_memcgs++;
        ps->nodes_alloc = 0;
        return 0;
}

static int parse_node_line(Parser *ps, const char *p) {
        LruGenMemcg *m = cur_memcg(ps);
        uint64_t id;
        int r;

        if (!m)
                return -EINVAL; /* a node outside a memcg */
        r = close_node(ps);
        if (r < 0)
                return r;
        r = parse_field(&p, &id);
        if (r < 0)
                return r;
        if (!at_eol(p) || id >= TOPOLOGY_MAX_NODES)
                return -EINVAL;
        if (lru_gen_memcg_node(m, (int) id))
                return -EINVAL; /* listed twice */
        r = grow((void **) &m->nodes, m->n_nodes, &ps->nodes_alloc, sizeof(LruGenNode), &ps->t->bytes);
        if (r < 0)
                return r;
        m->nodes[m->n_nodes++] = (LruGenNode) { .node = (int) id };
        ps->gens_alloc = 0;
        return 0;
}

static int parse_gen_line(Parser *ps, const char *p) {
        LruGenNode *n = cur_node(ps);
        LruGenGeneration g;
        int r;

        if (!n)
                return -EINVAL; /* a generation outside a node */
        r = parse_field(&p, &g.seq);
        if (r < 0)
                return r;
        r = parse_field(&p, &g.age_ms);
        if (r < 0)
                return r;
        r = parse_field(&p, &g.anon_pages);
        if (r < 0)
                return r;
        r = parse_field(&p, &g.file_pages);
        if (r < 0)
                return r;
        if (!at_eol(p))
                return -EINVAL;
        if (n->n_gens > 0 && g.seq <= n->gens[n->n_gens - 1].seq)
                return -EINVAL;
        r = grow((void **) &n->gens, n->n_gens, &ps->gens_alloc, sizeof(LruGenGeneration), &ps->t->bytes);
        if (r < 0)
                return r;
        n->gens[n->n_gens++] = g;
        return 0;
}

int lru_gen_parse(const char *text, LruGenTable **ret) {
        _cleanup_(lru_gen_table_freep) LruGenTable *t = NULL;
        Parser ps = { 0 };
        int r;

        t = calloc(1, sizeof(*t));
        if (!t)
                return -ENOMEM;
        t->bytes = sizeof(*t);
        ps.t = t;
        for (const char *line = text; *line;) {
                const char *p = skip_blanks(line), *nl = strchr(line, '\n');

                if (*p == '\n' || *p == '\0')
                        r = 0; /* blank line */
                else if (p == line && starts_with_word(p, "memcg"))
                        r = parse_memcg_line(&ps, p + strlen("memcg"));
                else if (starts_with_word(p, "node"))
                        r = parse_node_line(&ps, p + strlen("node"));
                else if (isdigit((unsigned char) *p))
                        r = parse_gen_line(&ps, p);
                else
                        r = -EINVAL;
                if (r < 0)
                        return r;
                if (!nl)
                        break;
                line = nl + 1;
        }
        r = close_node(&ps);
        if (r < 0)
                return r;
        *ret = TAKE_PTR(t);
        return 0;
}

/* ---- lookups and heat ------------------------------------------------- */

static const char *strip_slashes(const char *p) {
        while (*p == '/')
                p++;
        return p;
}

/* Length of P without its trailing '/'. */
static size_t trimmed_len(const char *p) {
        size_t n = strlen(p);

        while (n > 0 && p[n - 1] == '/')
                n--;
        return n;
}

bool lru_gen_in_subtree(const char *memcg_path, const char *cgroup_path) {
        const char *m = strip_slashes(memcg_path), *c = strip_slashes(cgroup_path);
        size_t cn = trimmed_len(c), mn = trimmed_len(m);

        if (cn == 0)
                return true; /* the root covers every memcg */
        if (mn < cn || strncmp(m, c, cn) != 0)
                return false;
        return mn == cn || m[cn] == '/';
}

const LruGenMemcg *lru_gen_find(const LruGenTable *t, const char *cgroup_path) {
        const char *c = strip_slashes(cgroup_path);
        size_t cn = trimmed_len(c);

        for (size_t i = 0; i < t->n_memcgs; i++) {
                const char *m = strip_slashes(t->memcgs[i].path);

                if (trimmed_len(m) == cn && strncmp(m, c, cn) == 0)
                        return &t->memcgs[i];
        }
        return NULL;
}

const LruGenMemcg *lru_gen_find_id(const LruGenTable *t, uint32_t id) {
        for (size_t i = 0; i < t->n_memcgs; i++)
                if (t->memcgs[i].id == id)
                        return &t->memcgs[i];
        return NULL;
}

const LruGenNode *lru_gen_memcg_node(const LruGenMemcg *m, int node) {
        for (size_t i = 0; i < m->n_nodes; i++)
                if (m->nodes[i].node == node)
                        return &m->nodes[i];
        return NULL;
}

unsigned lru_gen_pass(bool armed, bool found, bool refused) {
        if (!armed || !found)
                return 0;
        return HEAT_PASS_BEGIN | HEAT_PASS_END | HEAT_PASS_BYTE_ONLY | (refused ? 0u : HEAT_PASS_EXACT);
}

unsigned lru_gen_age(uint64_t max_seq, uint64_t seq) {
        uint64_t d;

        if (seq >= max_seq)
                return 0;
        d = max_seq - seq - 1;
        return d > HEAT_MAX_AGE ? HEAT_MAX_AGE : (unsigned) d;
}

int lru_gen_heat(const LruGenTable *t, const char *cgroup_path, const Topology *topo, uint64_t page_size,
                 HeatSummary *heat, uint64_t *ret_tracked) {
        uint64_t tracked = 0;

        if (!lru_gen_find(t, cgroup_path))
                return 0;
        for (size_t i = 0; i < t->n_memcgs; i++) {
                const LruGenMemcg *m = &t->memcgs[i];

                if (!lru_gen_in_subtree(m->path, cgroup_path))
                        continue;
                for (size_t j = 0; j < m->n_nodes; j++) {
                        const LruGenNode *n = &m->nodes[j];
                        const TopologyNode *tn = topology_node(topo, n->node);
                        uint64_t max_seq = lru_gen_max_seq(n);

                        if (!tn || tn->tier < 0 || tn->tier >= HEAT_MAX_TIERS)
                                continue; /* a node the topology does not place */
                        for (size_t g = 0; g < n->n_gens; g++) {
                                uint64_t b = (n->gens[g].anon_pages + n->gens[g].file_pages) * page_size;

                                heat->bytes[tn->tier][lru_gen_age(max_seq, n->gens[g].seq)] += b;
                                tracked += b;
                        }
                }
        }
        *ret_tracked += tracked;
        return 1;
}

/* ---- the backend ------------------------------------------------------ */

struct Scanner {
        char *path;             /* DEBUGFS/lru_gen */
        int fd;                 /* written to for aging */
        const Topology *topo;
        uint64_t page_size;
        uint64_t *aged;         /* cgroup ids of the targets the last scan aged, sorted */
        size_t n_aged;
        uint64_t mem_bytes;     /* heap the last scan used: texts read + tables, summed */
        uint64_t mem_pages;     /* pages the last scan summed */
};

static void lru_gen_close(Scanner *s) {
        if (!s)
                return;
        if (s->fd >= 0)
                close(s->fd);
        free(s->aged);
        free(s->path);
        free(s);
}

/* An unmounted mount point is an empty (or missing) directory. */
static bool dir_is_empty(const char *path) {
        DIR *d = opendir(path);
        struct dirent *de;
        bool empty = true;

        if (!d)
                return true;
        while (empty && (de = readdir(d)))
                empty = strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0;
        closedir(d);
        return empty;
}

static int lru_gen_open(const ScanOptions *opts, Scanner **ret) {
        _cleanup_free_ char *enabled = NULL, *debug_dir = NULL;
        Scanner *s;
        unsigned long caps;
        char *end;
        int r;

        /* The global switch: a hex bitmask, 0x0001 the core, 0x0002 the
         * page-table walk of the aging, 0x0004 the accessed bit of
         * non-leaf PMDs. */
        r = read_one_line(opts->sysfs_root, LRU_GEN_ENABLED_PATH, &enabled);
        if (r == -ENOENT) {
                log_error("lru_gen: %s%s does not exist: this kernel has no MGLRU (CONFIG_LRU_GEN)",
                          opts->sysfs_root, LRU_GEN_ENABLED_PATH);
                return -EOPNOTSUPP;
        }
        if (r < 0)
                return log_error_errno(r, "lru_gen: cannot read %s%s: %m", opts->sysfs_root, LRU_GEN_ENABLED_PATH);
        errno = 0;
        caps = strtoul(enabled, &end, 16);
        if (errno || end == enabled || !at_eol(end)) {
                log_error("lru_gen: %s%s holds '%s', not a hex mask", opts->sysfs_root, LRU_GEN_ENABLED_PATH, enabled);
                return -EINVAL;
        }
        if (caps == 0) {
                log_error("lru_gen: MGLRU is disabled (%s%s is %s); tierd does not flip this machine-wide switch "
                          "itself: the operator enables it with `echo y > /sys/kernel/mm/lru_gen/enabled`",
                          opts->sysfs_root, LRU_GEN_ENABLED_PATH, enabled);
                return -EOPNOTSUPP;
        }
        if (!(caps & 0x0002))
                log_warning("lru_gen: %s%s is %s, without 0x0002: aging does not walk page tables, so accesses "
                            "are seen only as reclaim finds them and the heat lags",
                            opts->sysfs_root, LRU_GEN_ENABLED_PATH, enabled);

        s = calloc(1, sizeof(*s));
        if (!s)
                return -ENOMEM;
        s->fd = -1;
        s->topo = opts->topology;
        s->page_size = (uint64_t) sysconf(_SC_PAGESIZE);
        r = path_join_root(opts->sysfs_root, LRU_GEN_DEBUGFS_PATH, &s->path);
        if (r < 0)
                goto fail;
        s->fd = open(s->path, O_WRONLY | O_CLOEXEC);
        if (s->fd < 0) {
                r = -errno;
                if (r == -ENOENT && path_join_root(opts->sysfs_root, "/kernel/debug", &debug_dir) >= 0 &&
                    dir_is_empty(debug_dir))
                        log_error("lru_gen: %s does not exist: debugfs is not mounted at %s "
                                  "(mount -t debugfs debugfs %s)", s->path, debug_dir, debug_dir);
                else if (r == -ENOENT)
                        log_error("lru_gen: %s does not exist although debugfs is mounted: this kernel has no MGLRU",
                                  s->path);
                else if (r == -EACCES || r == -EPERM)
                        log_error_errno(r, "lru_gen: cannot open %s for writing (aging needs root): %m", s->path);
                else
                        log_error_errno(r, "lru_gen: cannot open %s: %m", s->path);
                if (r == -ENOENT)
                        r = -EOPNOTSUPP;
                goto fail;
        }
        *ret = s;
        return 0;
fail:
        lru_gen_close(s);
        return r;
}

/* Reads and parses the file; counts what it holds in s->mem_bytes (the
 * text is freed before returning, the table is the caller's). */
static int read_table(Scanner *s, LruGenTable **ret) {
        _cleanup_free_ char *text = NULL;
        size_t size = 0;
        int r;

        r = read_full_file(NULL, s->path, &text, &size);
        if (r < 0)
                return log_error_errno(r, "lru_gen: cannot read %s: %m", s->path);
        r = lru_gen_parse(text, ret);
        if (r == -EINVAL)
                log_error("lru_gen: %s is not in the format this version of tierd knows (6.12)", s->path);
        if (r < 0)
                return r;
        s->mem_bytes += size + 1 + (*ret)->bytes;
        return 0;
}

static int age_write(Scanner *s, uint32_t id, int node, uint64_t max_seq) {
        char cmd[96];
        int n;

        n = snprintf(cmd, sizeof(cmd), "+ %" PRIu32 " %d %" PRIu64 " 1 1\n", id, node, max_seq);
        if (write(s->fd, cmd, (size_t) n) < 0)
                return -errno;
        return 0;
}

/* Ages one lruvec; a refusal is retried once from a fresh read (the
 * generation may have moved on under us), a memcg that is gone is
 * skipped. Returns 1 when it was refused again. Only -ENOMEM and read
 * failures are errors. */
static int age_lruvec(Scanner *s, const LruGenMemcg *m, const LruGenNode *n) {
        _cleanup_(lru_gen_table_freep) LruGenTable *fresh = NULL;
        const LruGenMemcg *fm;
        const LruGenNode *fn;
        int r;

        r = age_write(s, m->id, n->node, lru_gen_max_seq(n));
        if (r >= 0)
                return 0;
        log_debug("lru_gen: aging memcg %" PRIu32 " (%s) node %d at generation %" PRIu64 " refused (%s), retrying",
                  m->id, m->path, n->node, lru_gen_max_seq(n), strerror(-r));
        r = read_table(s, &fresh);
        if (r < 0)
                return r;
        fm = lru_gen_find_id(fresh, m->id);
        if (!fm || strcmp(fm->path, m->path) != 0 || !(fn = lru_gen_memcg_node(fm, n->node))) {
                log_debug("lru_gen: memcg %" PRIu32 " (%s) node %d is gone, skipping it", m->id, m->path, n->node);
                return 0;
        }
        r = age_write(s, fm->id, fn->node, lru_gen_max_seq(fn));
        if (r < 0) {
                log_debug("lru_gen: aging memcg %" PRIu32 " (%s) node %d refused again (%s), skipping it this period",
                          fm->id, fm->path, fn->node, strerror(-r));
                return 1;
        }
        return 0;
}

static int cmp_u64(const void *a, const void *b) {
        uint64_t x = *(const uint64_t *) a, y = *(const uint64_t *) b;

        return (x > y) - (x < y);
}

/* Whether the last scan aged the target with cgroup id ID. */
static bool was_aged(const Scanner *s, uint64_t id) {
        return s->n_aged > 0 && bsearch(&id, s->aged, s->n_aged, sizeof(*s->aged), cmp_u64);
}

/* Ages every memcg of the targets' subtrees in BEFORE, once each (two
 * agings in one period would split it into two generations).
 * RET_REFUSED[k]: an aging in target k's subtree was refused for good.
 * RET_AGED: the ids of the targets whose memcg exists, sorted. */
static int age_targets(Scanner *s, const LruGenTable *before, const ScanTarget *targets, size_t n, bool *ret_refused,
                       uint64_t **ret_aged, size_t *ret_n_aged) {
        _cleanup_free_ uint64_t *aged = NULL;
        size_t na = 0;
        int r;

        for (size_t i = 0; i < before->n_memcgs; i++) {
                const LruGenMemcg *m = &before->memcgs[i];
                bool wanted = false, refused = false;

                for (size_t k = 0; k < n && !wanted; k++)
                        wanted = lru_gen_in_subtree(m->path, targets[k].cgroup_path);
                if (!wanted)
                        continue;
                for (size_t j = 0; j < m->n_nodes; j++) {
                        r = age_lruvec(s, m, &m->nodes[j]);
                        if (r < 0)
                                return r;
                        refused = refused || r > 0;
                }
                for (size_t k = 0; k < n && refused; k++)
                        if (lru_gen_in_subtree(m->path, targets[k].cgroup_path))
                                ret_refused[k] = true;
        }
        if (n > 0) {
                aged = malloc(n * sizeof(*aged));
                if (!aged)
                        return -ENOMEM;
        }
        for (size_t k = 0; k < n; k++)
                if (lru_gen_find(before, targets[k].cgroup_path))
                        aged[na++] = targets[k].cgroup_id;
        qsort_safe(aged, na, sizeof(*aged), cmp_u64);
        *ret_aged = TAKE_PTR(aged);
        *ret_n_aged = na;
        return 0;
}

static int lru_gen_scan(Scanner *s, const ScanTarget *targets, size_t n, TenantHeat *out) {
        _cleanup_(lru_gen_table_freep) LruGenTable *before = NULL, *after = NULL;
        _cleanup_free_ bool *refused = calloc(n ? n : 1, sizeof(*refused)), *armed = calloc(n ? n : 1, sizeof(*armed));
        _cleanup_free_ uint64_t *aged = NULL;
        size_t n_aged = 0;
        uint64_t pages = 0;
        bool any = false;
        int r;

        if (!refused || !armed)
                return -ENOMEM;
        s->mem_bytes = sizeof(*s) + strlen(s->path) + 1 + s->n_aged * sizeof(*s->aged);
        r = read_table(s, &before);
        if (r < 0)
                return r;
        r = age_targets(s, before, targets, n, refused, &aged, &n_aged);
        if (r < 0)
                return r;
        /* a target aged in the last scan too: its generations now measure
         * one period; the others were armed just now */
        for (size_t k = 0; k < n; k++)
                any = (armed[k] = was_aged(s, targets[k].cgroup_id)) || any;
        free(s->aged);
        s->aged = TAKE_PTR(aged);
        s->n_aged = n_aged;
        if (!any)
                return 0;

        r = read_table(s, &after);
        if (r < 0)
                return r;
        for (size_t k = 0; k < n; k++) {
                if (!armed[k])
                        continue;
                /* No addresses: candidates and ranges stay empty (see the
                 * top of this file). */
                r = lru_gen_heat(after, targets[k].cgroup_path, s->topo, s->page_size, &out[k].heat,
                                 &out[k].tracked_bytes);
                if (r == 0)
                        log_debug("lru_gen: cgroup %s has no memcg (gone?): nothing to report for it",
                                  targets[k].cgroup_path);
                out[k].pass = lru_gen_pass(true, r > 0, refused[k]);
                pages += out[k].tracked_bytes / s->page_size;
        }
        s->mem_pages = pages;
        return 0;
}

static void lru_gen_memory(const Scanner *s, uint64_t *ret_bytes, uint64_t *ret_pages) {
        /* Nothing is kept between periods: what one scan allocated (the
         * texts read and the parsed tables, summed, so an upper bound of
         * its peak) for the pages it summed. */
        *ret_bytes = s ? s->mem_bytes : 0;
        *ret_pages = s ? s->mem_pages : 0;
}

const ScannerOps scanner_lru_gen_ops = {
        .name = "lru_gen",
        .caps = 0,
        .needs = SCANNER_NEEDS_LRU_GEN,
        .arming_periods = 1,
        .open = lru_gen_open,
        .scan = lru_gen_scan,
        .memory = lru_gen_memory,
        .close = lru_gen_close,
};
