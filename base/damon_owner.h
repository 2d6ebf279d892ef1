/* SPDX-License-Identifier: MIT */
/* Who owns kdamonds/0: the record shared by the DAMON scanner backends
 * (scanner/damon.c) and the DAMOS mover (migrate/damos.c). */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* The record of the kdamond a tierd process created (<run_dir>/kdamond),
 * so that the next tierd can tell a kdamond left by one that was killed
 * (SIGKILL, a crash: close() never ran) from someone else's. Written
 * before nr_kdamonds goes to 1 (kdamond_pid 0), rewritten with the
 * kdamond's pid once it runs, removed when tierd removes its kdamond. One
 * line of key=value words (damon_owner_format()). The scanner's kdamond
 * (damon/bpf backends, a vaddr context) and the DAMOS mover's (a paddr
 * context with migrate schemes) share the format and the file: both use
 * kdamonds/0, so at most one exists; "user" says whose it is, and so
 * which context shape to expect of it. */
typedef enum DamonUser {
        DAMON_USER_SCANNER,     /* "scanner" (also a record without "user": written before it existed) */
        DAMON_USER_MOVER,       /* "mover" */
        DAMON_USER_SCANNER_PADDR, /* "scanner+paddr": the scanner's kdamonds/0 and a paddr kdamonds/1 beside it
                                   * (the classification of unmapped pages); written by tierd before the
                                   * DAMOS kdamond below, still recognised */
        DAMON_USER_SCANNER_PADDR_DAMOS, /* "scanner+paddr+damos": the same and kdamonds/2, created off, which
                                         * the DAMOS schemes of unmapped pages use (scanner/damon.c,
                                         * migrate/damos.c DamosOptions.kdamond) */
} DamonUser;

/* How many kdamonds USER creates: 2 for DAMON_USER_SCANNER_PADDR, 3 for
 * DAMON_USER_SCANNER_PADDR_DAMOS, else 1. */
unsigned damon_user_kdamonds(DamonUser u);

const char *damon_user_name(DamonUser u);

typedef struct DamonOwner {
        pid_t tierd_pid;
        uint64_t tierd_start;   /* its start time (/proc/PID/stat field 22): tells a reused pid */
        char boot_id[40];       /* /proc/sys/kernel/random/boot_id: the record is of this boot */
        pid_t kdamond_pid;      /* 0: created, not started */
        DamonUser user;
} DamonOwner;

/* What DAMON and /proc show now, for damon_leftover_is_ours(). */
typedef struct DamonSeen {
        const char *boot_id;
        bool owner_alive;       /* the recorded tierd (same pid and start time) still runs */
        uint64_t nr_kdamonds;
        bool on;                /* kdamonds/0/state */
        pid_t kdamond_pid;      /* kdamonds/0/pid when on */
        bool shape_ours;        /* kdamonds/0 has the recorded user's context: one, vaddr with nr_regions
                                 * 300..3000 (scanner), paddr with only migrate_hot/cold schemes (mover) */
} DamonSeen;

/* "tierd_pid=P tierd_start=T boot_id=B kdamond_pid=K user=U\n" into BUF;
 * -ENOBUFS when it does not fit. */
int damon_owner_format(const DamonOwner *o, char *buf, size_t size);
/* The reverse; -EINVAL when a word is missing, unknown or malformed. */
int damon_owner_parse(const char *s, DamonOwner *ret);
/* Whether the kdamond DAMON shows is the one the tierd of O created and
 * left behind: the same boot; that tierd no longer runs; exactly one
 * kdamond, or two for "scanner+paddr", three for "scanner+paddr+damos" (tierd never creates more); and
 * kdamonds/0 running with the recorded pid,
 * or stopped (it stops by itself when its processes exit; tierd may also
 * have died before starting it) with tierd's context shape. Anything else
 * is someone else's, left alone. *RET_WHY says why not (or "ours"). */
bool damon_leftover_is_ours(const DamonOwner *o, const DamonSeen *seen, const char **ret_why);

/* The record's files, under RUN_DIR ("/run/tierd"); PROCFS_ROOT NULL is
 * "/proc". damon_owner_write(): this process's record (atomically
 * replaced). damon_owner_remove(): removes it (a failure is a warning). */
int damon_owner_write(const char *run_dir, const char *procfs_root, DamonUser user, pid_t kdamond_pid);
void damon_owner_remove(const char *run_dir);
/* With NR kdamonds present under ADMIN (<sysfs>/kernel/mm/damon/admin):
 * whether they are one left by a dead tierd, scanner's or mover's (the
 * record says so, damon_leftover_is_ours()); if so, stops and removes it
 * and its record and returns 1. 0: someone else's (*RET_WHY says why). */
int damon_leftover_remove(const char *admin, const char *run_dir, const char *procfs_root, uint64_t nr,
                          const char **ret_why);
/* Creates kdamonds/0 for USER when DAMON's sysfs has no kdamond or only
 * one a dead tierd left (removed first): writes the record, then
 * nr_kdamonds 1. 0: created (the caller removes it); -EBUSY: someone
 * else's kdamond is there. USER says how many to create
 * (damon_user_kdamonds()). Every error is logged, each message starting
 * with PREFIX ("" or "damos: "); BUSY_HINT ends the -EBUSY one. */
int damon_owner_claim(const char *admin, const char *run_dir, const char *procfs_root, DamonUser user,
                      const char *prefix, const char *busy_hint);
