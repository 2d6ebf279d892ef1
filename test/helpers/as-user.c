/* SPDX-License-Identifier: MIT */
/* as-user: run a command as another (numeric) user, for tests in the VM
 * testbed, whose busybox has no users to name.
 *
 *   as-user UID GID [SUPPLEMENTARY,GIDS|-] -- CMD [ARG...]
 *
 * Sets the supplementary groups (none with "-"), then the gid, then the
 * uid, and executes CMD. Exit status 127 if that fails. */
#include <errno.h>
#include <grp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static int parse_id(const char *s, unsigned *ret) {
        char *end;
        unsigned long v;

        errno = 0;
        v = strtoul(s, &end, 10);
        if (!*s || *end || errno || v >= 0xffffffffUL)
                return -1;
        *ret = (unsigned) v;
        return 0;
}

int main(int argc, char **argv) {
        gid_t groups[64];
        size_t n = 0;
        unsigned uid, gid;
        int cmd = 3;

        if (argc < 5 || parse_id(argv[1], &uid) < 0 || parse_id(argv[2], &gid) < 0) {
                fprintf(stderr, "usage: as-user UID GID [GID,GID...|-] -- CMD [ARG...]\n");
                return 2;
        }
        if (strcmp(argv[3], "--") != 0) {
                if (strcmp(argv[3], "-") != 0) {
                        char *list = strdup(argv[3]), *save = NULL;

                        for (char *t = strtok_r(list, ",", &save); t && n < 64; t = strtok_r(NULL, ",", &save)) {
                                unsigned g;

                                if (parse_id(t, &g) < 0) {
                                        fprintf(stderr, "as-user: '%s' is not a group id\n", t);
                                        return 2;
                                }
                                groups[n++] = (gid_t) g;
                        }
                        free(list);
                }
                cmd = 4;
        }
        if (cmd >= argc || strcmp(argv[cmd], "--") != 0 || cmd + 1 >= argc) {
                fprintf(stderr, "usage: as-user UID GID [GID,GID...|-] -- CMD [ARG...]\n");
                return 2;
        }
        if (setgroups(n, groups) < 0 || setgid((gid_t) gid) < 0 || setuid((uid_t) uid) < 0) {
                fprintf(stderr, "as-user: cannot become %u:%u: %s\n", uid, gid, strerror(errno));
                return 127;
        }
        execvp(argv[cmd + 1], argv + cmd + 1);
        fprintf(stderr, "as-user: cannot run %s: %s\n", argv[cmd + 1], strerror(errno));
        return 127;
}
