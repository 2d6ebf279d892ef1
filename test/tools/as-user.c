/* SPDX-License-Identifier: MIT */
/* as-user UID GID CMD [ARG...]: run CMD with the given numeric uid and gid
 * and no supplementary groups (busybox in the testbed has no setpriv
 * --reuid). For tests of delegated cgroups. */
#include <errno.h>
#include <grp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int main(int argc, char **argv) {
        char *end;
        long uid, gid;

        if (argc < 4) {
                fprintf(stderr, "usage: as-user UID GID CMD [ARG...]\n");
                return 2;
        }
        uid = strtol(argv[1], &end, 10);
        if (*end || uid < 0) {
                fprintf(stderr, "as-user: bad uid '%s'\n", argv[1]);
                return 2;
        }
        gid = strtol(argv[2], &end, 10);
        if (*end || gid < 0) {
                fprintf(stderr, "as-user: bad gid '%s'\n", argv[2]);
                return 2;
        }
        if (setgroups(0, NULL) < 0 || setgid((gid_t) gid) < 0 || setuid((uid_t) uid) < 0) {
                fprintf(stderr, "as-user: cannot switch to %ld:%ld: %s\n", uid, gid, strerror(errno));
                return 125;
        }
        execvp(argv[3], argv + 3);
        fprintf(stderr, "as-user: cannot run %s: %s\n", argv[3], strerror(errno));
        return 127;
}
