/* SPDX-License-Identifier: MIT */
/* The movers without state of their own (move_pages, reclaim) as MoverOps,
 * and the table of mover.backend values. */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "mover.h"
#include "util.h"

struct Mover {
        MoverEnv env;
};

int mover_env_copy(const MoverEnv *in, MoverEnv *out) {
        *out = *in;
        out->sysfs_root = in->sysfs_root ? strdup(in->sysfs_root) : NULL;
        out->procfs_root = in->procfs_root ? strdup(in->procfs_root) : NULL;
        out->cgroup_mount = in->cgroup_mount ? strdup(in->cgroup_mount) : NULL;
        if ((in->sysfs_root && !out->sysfs_root) || (in->procfs_root && !out->procfs_root) ||
            (in->cgroup_mount && !out->cgroup_mount)) {
                mover_env_done(out);
                return -ENOMEM;
        }
        return 0;
}

void mover_env_done(MoverEnv *e) {
        free((char *) e->sysfs_root);
        free((char *) e->procfs_root);
        free((char *) e->cgroup_mount);
        *e = (MoverEnv) {};
}

static int plain_open(const MoverEnv *env, Mover **ret) {
        Mover *m = calloc(1, sizeof(*m));

        if (!m || mover_env_copy(env, &m->env) < 0) {
                free(m);
                return -ENOMEM;
        }
        *ret = m;
        return 0;
}

static void plain_close(Mover *m) {
        if (!m)
                return;
        mover_env_done(&m->env);
        free(m);
}

static int move_pages_apply(Mover *m, const MoverRequest *req, MoverResult *ret) {
        MovePagesOptions o = {
                .node = req->to_node,
                .batch = m->env.batch_pages,
                .max_bytes = req->bytes,
                .procfs_root = m->env.procfs_root,
                .ident = req->ident,
                .cgroup_mount = m->env.cgroup_mount,
        };
        MovePagesResult *mr = &ret->pages;
        int r;

        *ret = (MoverResult) {};
        if (!req->has_range || req->range.kind != SCAN_RANGE_VADDR)
                return -EINVAL;
        /* -ENOMEM here is the kernel's: migrate_pages() found no free page
         * on the target node (a full fast tier), and move_pages(2) then
         * fails as a whole. A failed move, not tierd out of memory. */
        r = mover_move_pages(req->range.pid, &req->range, 1, &o, mr);
        ret->error = r < 0 ? r : 0;
        ret->moved = min_u64(mr->bytes_moved, req->bytes);
        /* pages the kernel refuses to move (pinned, shared, not movable),
         * absent ones, or a call refused as a whole (not for a full node:
         * -ENOMEM passes) */
        ret->backoff = (r < 0 && r != -ENOMEM) || mr->pages[MOVE_BUSY] + mr->pages[MOVE_ACCES] +
                                                                  mr->pages[MOVE_FAULT] + mr->pages[MOVE_NOENT] +
                                                                  mr->pages[MOVE_OTHER] > 0;
        return 0;
}

static int reclaim_apply(Mover *m, const MoverRequest *req, MoverResult *ret) {
        ReclaimResult rr;
        int r;

        *ret = (MoverResult) {};
        if (req->direction != MOVER_DEMOTE)
                return -EINVAL;
        r = mover_reclaim(m->env.cgroup_mount, req->cgroup, req->bytes, m->env.sysfs_root, &rr);
        if (r == -ENOMEM)
                return r;
        if (r < 0) {
                log_debug("%s: memory.reclaim of %" PRIu64 " bytes failed: %s", req->cgroup, req->bytes,
                          strerror(-r));
                ret->error = r;
        } else
                ret->moved = min_u64(rr.diff.moved_bytes, req->bytes);
        return 0;
}

const MoverOps mover_move_pages_ops = {
        .name = "move_pages",
        .caps = MOVER_CAP_RANGES | MOVER_CAP_VIRTUAL | MOVER_CAP_PROMOTE | MOVER_CAP_DEMOTE,
        .open = plain_open,
        .apply = move_pages_apply,
        .close = plain_close,
};

const MoverOps mover_reclaim_ops = {
        .name = "reclaim",
        .caps = MOVER_CAP_BYTES | MOVER_CAP_PHYSICAL | MOVER_CAP_DEMOTE | MOVER_CAP_NEEDS_DEMOTION,
        .open = plain_open,
        .apply = reclaim_apply,
        .close = plain_close,
};

/* ---- mover.backend ------------------------------------------------------ */

static const MoverBackend backend_auto = {
        .name = "auto",
        .ranges = &mover_move_pages_ops,
        .bytes = &mover_reclaim_ops,
        .help = "ranges with move_pages(2); byte-only demotions through memory.reclaim when demotion is enabled",
};
static const MoverBackend backend_move_pages = {
        .name = "move_pages",
        .ranges = &mover_move_pages_ops,
        .help = "ranges only: byte-only demotions are skipped",
};
static const MoverBackend backend_reclaim = {
        .name = "reclaim",
        .ranges = &mover_move_pages_ops,
        .bytes = &mover_reclaim_ops,
        .demotions_as_bytes = true,
        .help = "every demotion through memory.reclaim (needs demotion enabled); promotions with move_pages(2)",
};
static const MoverBackend backend_damos = {
        .name = "damos",
        .deferred = &mover_damos_ops,
        .help = "the plan's bytes per tenant as DAMOS migrate_hot/migrate_cold quotas on a kdamond of tierd's own",
};

static const MoverBackend *const backends[] = {
        &backend_auto, &backend_move_pages, &backend_reclaim, &backend_damos, NULL,
};

const MoverBackend *const *mover_backends(void) {
        return backends;
}

const MoverBackend *mover_backend_find(const char *name) {
        for (size_t i = 0; backends[i]; i++)
                if (strcmp(backends[i]->name, name) == 0)
                        return backends[i];
        return NULL;
}

const char *mover_backend_effective(const MoverBackend *b, bool ranges) {
        if (!b)
                return "";
        if (b->deferred)
                return b->deferred->name;
        if (b->bytes && (b->demotions_as_bytes || !ranges))
                return b->bytes->name;
        return b->ranges ? b->ranges->name : "";
}

unsigned mover_backend_caps(const MoverBackend *b) {
        unsigned c = 0;

        if (b->ranges)
                c |= b->ranges->caps;
        if (b->bytes)
                c |= b->bytes->caps;
        if (b->deferred)
                c |= b->deferred->caps;
        return c;
}
