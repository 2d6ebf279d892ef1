/* SPDX-License-Identifier: MIT */
/* The record of the kdamond a tierd process created, shared by the DAMON
 * scanner backends (scanner/damon.c) and the DAMOS mover
 * (migrate/damos.c): both use kdamonds/0, at most one at a time, and the
 * record says whose it is (damon_owner.h). */
#include "damon_owner.h"
#include "damon_sysfs.h"
#include "procpid.h"

#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "util.h"

const char *damon_user_name(DamonUser u) {
        return u == DAMON_USER_MOVER                 ? "mover"
               : u == DAMON_USER_SCANNER_PADDR       ? "scanner+paddr"
               : u == DAMON_USER_SCANNER_PADDR_DAMOS ? "scanner+paddr+damos"
                                                     : "scanner";
}

unsigned damon_user_kdamonds(DamonUser u) {
        return u == DAMON_USER_SCANNER_PADDR_DAMOS ? 3 : u == DAMON_USER_SCANNER_PADDR ? 2 : 1;
}

/* ---- the record (pure) --------------------------------------------------- */

int damon_owner_format(const DamonOwner *o, char *buf, size_t size) {
        int n = snprintf(buf, size, "tierd_pid=%d tierd_start=%llu boot_id=%s kdamond_pid=%d user=%s\n",
                         (int) o->tierd_pid, (unsigned long long) o->tierd_start, o->boot_id, (int) o->kdamond_pid,
                         damon_user_name(o->user));

        return n < 0 || (size_t) n >= size ? -ENOBUFS : 0;
}

int damon_owner_parse(const char *s, DamonOwner *ret) {
        DamonOwner o = { 0 };
        unsigned seen = 0;

        while (*s) {
                const char *w = s, *eq, *end;
                size_t klen, vlen;
                char val[64];
                uint64_t v;

                while (*w == ' ' || *w == '\n')
                        w++;
                if (!*w)
                        break;
                end = w + strcspn(w, " \n");
                eq = memchr(w, '=', (size_t) (end - w));
                if (!eq)
                        return -EINVAL;
                klen = (size_t) (eq - w);
                vlen = (size_t) (end - eq - 1);
                if (vlen == 0 || vlen >= sizeof(val))
                        return -EINVAL;
                memcpy(val, eq + 1, vlen);
                val[vlen] = '\0';
                if (klen == 4 && strncmp(w, "user", 4) == 0) {
                        if (strcmp(val, "scanner") == 0)
                                o.user = DAMON_USER_SCANNER;
                        else if (strcmp(val, "mover") == 0)
                                o.user = DAMON_USER_MOVER;
                        else if (strcmp(val, "scanner+paddr") == 0)
                                o.user = DAMON_USER_SCANNER_PADDR;
                        else if (strcmp(val, "scanner+paddr+damos") == 0)
                                o.user = DAMON_USER_SCANNER_PADDR_DAMOS;
                        else
                                return -EINVAL;
                } else if (klen == 7 && strncmp(w, "boot_id", 7) == 0) {
                        if (vlen >= sizeof(o.boot_id))
                                return -EINVAL;
                        memcpy(o.boot_id, val, vlen + 1);
                        seen |= 4;
                } else {
                        if (parse_u64(val, &v) < 0)
                                return -EINVAL;
                        if (klen == 9 && strncmp(w, "tierd_pid", 9) == 0 && v > 0 && v <= INT32_MAX) {
                                o.tierd_pid = (pid_t) v;
                                seen |= 1;
                        } else if (klen == 11 && strncmp(w, "tierd_start", 11) == 0) {
                                o.tierd_start = v;
                                seen |= 2;
                        } else if (klen == 11 && strncmp(w, "kdamond_pid", 11) == 0 && v <= INT32_MAX) {
                                o.kdamond_pid = (pid_t) v;
                                seen |= 8;
                        } else
                                return -EINVAL;
                }
                s = end;
        }
        if (seen != 15)
                return -EINVAL;
        *ret = o;
        return 0;
}

bool damon_leftover_is_ours(const DamonOwner *o, const DamonSeen *seen, const char **ret_why) {
        const char *why = "ours";
        bool ours = false;

        if (!seen->boot_id || strcmp(o->boot_id, seen->boot_id) != 0)
                why = "the record is of another boot";
        else if (seen->owner_alive)
                why = "the tierd that created it still runs";
        else if (seen->nr_kdamonds != damon_user_kdamonds(o->user))
                why = damon_user_kdamonds(o->user) == 3   ? "there are not exactly the three kdamonds tierd's record "
                                                              "says it created"
                      : damon_user_kdamonds(o->user) == 2 ? "there are not exactly the two kdamonds tierd's record "
                                                              "says it created"
                                                          : "there is not exactly one kdamond";
        else if (seen->on && (o->kdamond_pid <= 0 || seen->kdamond_pid != o->kdamond_pid))
                why = "the running kdamond is not the recorded one";
        else if (!seen->on && !seen->shape_ours)
                why = "the stopped kdamond's context is not tierd's";
        else
                ours = true;
        if (ret_why)
                *ret_why = why;
        return ours;
}

/* ---- the record (files) -------------------------------------------------- */

static int boot_id(const char *procfs_root, char *buf, size_t size) {
        _cleanup_free_ char *id = NULL;
        int r = read_one_line(procfs_root ? procfs_root : "/proc", "/sys/kernel/random/boot_id", &id);

        if (r < 0)
                return r;
        snprintf(buf, size, "%s", id);
        return 0;
}

/* Writes the record (atomically: a temporary file renamed). */
int damon_owner_write(const char *run_dir, const char *procfs_root, DamonUser user, pid_t kdamond_pid) {
        _cleanup_free_ char *path = NULL, *tmp = NULL;
        DamonOwner o = { .tierd_pid = getpid(), .kdamond_pid = kdamond_pid, .user = user };
        char buf[256];
        int r;

        r = boot_id(procfs_root, o.boot_id, sizeof(o.boot_id));
        if (r >= 0)
                r = proc_pid_start_time(procfs_root, o.tierd_pid, &o.tierd_start);
        if (r >= 0)
                r = damon_owner_format(&o, buf, sizeof(buf));
        if (r < 0)
                return r;
        if (asprintf(&path, "%s/kdamond", run_dir) < 0 || asprintf(&tmp, "%s/.kdamond.tmp", run_dir) < 0)
                return -ENOMEM;
        if (mkdir(run_dir, 0755) < 0 && errno != EEXIST)
                return -errno;
        {
                _cleanup_close_ int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
                size_t len = strlen(buf);

                if (fd < 0)
                        return -errno;
                if (write(fd, buf, len) != (ssize_t) len)
                        return -EIO;
        }
        if (rename(tmp, path) < 0)
                return -errno;
        return 0;
}

void damon_owner_remove(const char *run_dir) {
        _cleanup_free_ char *path = NULL;

        if (asprintf(&path, "%s/kdamond", run_dir) < 0)
                return;
        if (unlink(path) < 0 && errno != ENOENT)
                log_warning("cannot remove %s, ignoring: %s", path, strerror(errno));
}

/* Whether kdamonds/0 at KD has the context shape of USER's kdamond: one
 * context; the scanner's vaddr with nr_regions 300..3000, the DAMOS
 * mover's paddr with only migrate_hot and migrate_cold schemes. */
static bool shape_ours(const char *kd, DamonUser user) {
        _cleanup_free_ char *ops = NULL;
        uint64_t nctx = 0, lo = 0, hi = 0, ns = 0;

        if (damon_sysfs_read_u64(kd, "contexts/nr_contexts", &nctx) < 0 || nctx != 1 ||
            damon_sysfs_read_line(kd, "contexts/0/operations", &ops) < 0)
                return false;
        if (user != DAMON_USER_MOVER)
                return strcmp(ops, "vaddr") == 0 &&
                       damon_sysfs_read_u64(kd, "contexts/0/monitoring_attrs/nr_regions/min", &lo) >= 0 &&
                       damon_sysfs_read_u64(kd, "contexts/0/monitoring_attrs/nr_regions/max", &hi) >= 0 &&
                       lo == 300 && hi == 3000;
        if (strcmp(ops, "paddr") != 0 || damon_sysfs_read_u64(kd, "contexts/0/schemes/nr_schemes", &ns) < 0 ||
            ns == 0)
                return false;
        for (uint64_t i = 0; i < ns; i++) {
                _cleanup_free_ char *dir = NULL, *action = NULL;

                if (asprintf(&dir, "%s/contexts/0/schemes/%llu", kd, (unsigned long long) i) < 0 ||
                    damon_sysfs_read_line(dir, "action", &action) < 0 ||
                    (strcmp(action, "migrate_hot") != 0 && strcmp(action, "migrate_cold") != 0))
                        return false;
        }
        return true;
}

/* With NR kdamonds present: whether they are one left by a dead tierd
 * (the record says so, damon_leftover_is_ours()); if so, stops and
 * removes it and returns 1. 0: someone else's (*RET_WHY says why). */
int damon_leftover_remove(const char *admin, const char *run_dir, const char *procfs_root, uint64_t nr,
                          const char **ret_why) {
        _cleanup_free_ char *path = NULL, *text = NULL, *kd = NULL, *st = NULL;
        DamonOwner o;
        DamonSeen seen = { .nr_kdamonds = nr };
        char bid[40];
        uint64_t start, v;
        bool on = false;
        int r;

        *ret_why = "there is no record of a kdamond of tierd's";
        if (asprintf(&path, "%s/kdamond", run_dir) < 0)
                return -ENOMEM;
        r = read_one_line(NULL, path, &text);
        if (r == -ENOMEM)
                return r;
        if (r < 0)
                return 0;
        if (damon_owner_parse(text, &o) < 0) {
                *ret_why = "the record of tierd's kdamond is malformed";
                return 0;
        }
        if (asprintf(&kd, "%s/kdamonds/0", admin) < 0)
                return -ENOMEM;
        if (boot_id(procfs_root, bid, sizeof(bid)) >= 0)
                seen.boot_id = bid;
        seen.owner_alive = proc_pid_start_time(procfs_root, o.tierd_pid, &start) >= 0 && start == o.tierd_start;
        if (damon_sysfs_read_line(kd, "state", &st) >= 0)
                on = strcmp(st, "on") == 0;
        seen.on = on;
        if (on && damon_sysfs_read_u64(kd, "pid", &v) >= 0)
                seen.kdamond_pid = (pid_t) v;
        seen.shape_ours = shape_ours(kd, o.user);
        if (!damon_leftover_is_ours(&o, &seen, ret_why))
                return 0;
        log_warning("removing the kdamond%s%.0d (of its %s) left by tierd %d, which ended without removing it "
                    "(killed?)", seen.on ? " " : " (stopped)", seen.on ? (int) seen.kdamond_pid : 0,
                    o.user == DAMON_USER_MOVER ? "DAMOS mover" : "scanner", (int) o.tierd_pid);
        if (seen.on) {
                r = damon_sysfs_write("off", "%s/state", kd);
                if (r < 0 && r != -EINVAL)
                        return log_error_errno(r, "cannot stop the kdamond left by tierd %d: %m", (int) o.tierd_pid);
        }
        /* the paddr kdamond beside it, and the DAMOS one after it, run
         * until stopped: stopped too (writing "off" to a stopped kdamond
         * is -EINVAL) */
        for (unsigned i = 1; i < damon_user_kdamonds(o.user); i++) {
                r = damon_sysfs_write("off", "%s/kdamonds/%u/state", admin, i);
                if (r < 0 && r != -EINVAL)
                        return log_error_errno(r, "cannot stop kdamond %u left by tierd %d: %m", i, (int) o.tierd_pid);
        }
        r = damon_sysfs_write("0", "%s/kdamonds/nr_kdamonds", admin);
        if (r < 0)
                return log_error_errno(r, "cannot remove the kdamond left by tierd %d (nr_kdamonds 0): %m",
                                       (int) o.tierd_pid);
        damon_owner_remove(run_dir);
        return 1;
}

/* The claim both kdamond users make before creating kdamonds/0 (damon.h). */
int damon_owner_claim(const char *admin, const char *run_dir, const char *procfs_root, DamonUser user,
                      const char *prefix, const char *busy_hint) {
        uint64_t nr;
        int r;

        r = damon_sysfs_read_u64(admin, "kdamonds/nr_kdamonds", &nr);
        if (r < 0)
                return log_error_errno(r, "%scannot read %s/kdamonds/nr_kdamonds: %m", prefix, admin);
        if (nr > 0) {
                const char *why;

                r = damon_leftover_remove(admin, run_dir, procfs_root, nr, &why);
                if (r < 0)
                        return r;
                if (r == 0) {
                        log_error("%sDAMON is in use by someone else: %s/kdamonds/nr_kdamonds is %llu (not a kdamond "
                                  "left by tierd: %s); tierd creates its own kdamond only when there is none%s",
                                  prefix, admin, (unsigned long long) nr, why, busy_hint);
                        return -EBUSY;
                }
        }
        /* the record first: a tierd killed from here on leaves a kdamond
         * the next one can prove its own */
        r = damon_owner_write(run_dir, procfs_root, user, 0);
        if (r == -ENOMEM)
                return r;
        if (r < 0)
                log_warning_errno(r, "%scannot write %s/kdamond (a kdamond left by a killed tierd could not be "
                                  "recognised and removed later), ignoring: %m", prefix, run_dir);
        r = damon_sysfs_write_u64(damon_user_kdamonds(user), "%s/kdamonds/nr_kdamonds", admin);
        if (r < 0)
                return log_error_errno(r, "%scannot create a kdamond (%s/kdamonds/nr_kdamonds): %m", prefix, admin);
        return 0;
}
