/* SPDX-License-Identifier: MIT */
/* dgram-sink: bind a Unix datagram socket and append every datagram to a
 * file, each followed by a line "--". Stands in for systemd's notify
 * socket ($NOTIFY_SOCKET) and journald's native socket
 * (/run/systemd/journal/socket) in the VM testbed, which runs neither.
 *
 *   dgram-sink SOCKET_PATH OUTPUT_FILE
 *
 * Runs until killed; creates the socket's directory if missing. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

int main(int argc, char **argv) {
        struct sockaddr_un sa = { .sun_family = AF_UNIX };
        static char buf[1 << 17];
        char dir[sizeof(sa.sun_path)], *slash;
        FILE *out;
        int fd;

        if (argc != 3 || strlen(argv[1]) >= sizeof(sa.sun_path)) {
                fprintf(stderr, "usage: dgram-sink SOCKET_PATH OUTPUT_FILE\n");
                return 2;
        }
        snprintf(dir, sizeof(dir), "%s", argv[1]);
        slash = strrchr(dir, '/');
        if (slash && slash != dir) {
                *slash = '\0';
                for (char *p = dir + 1; *p; p++)
                        if (*p == '/') {
                                *p = '\0';
                                mkdir(dir, 0755);
                                *p = '/';
                        }
                mkdir(dir, 0755);
        }
        out = fopen(argv[2], "a");
        if (!out) {
                fprintf(stderr, "dgram-sink: %s: %s\n", argv[2], strerror(errno));
                return 1;
        }
        fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
        memcpy(sa.sun_path, argv[1], strlen(argv[1]) + 1);
        unlink(argv[1]);
        if (fd < 0 || bind(fd, (struct sockaddr *) &sa, sizeof(sa)) < 0 || chmod(argv[1], 0666) < 0) {
                fprintf(stderr, "dgram-sink: %s: %s\n", argv[1], strerror(errno));
                return 1;
        }
        for (;;) {
                ssize_t n = recv(fd, buf, sizeof(buf), 0);

                if (n < 0) {
                        if (errno == EINTR)
                                continue;
                        fprintf(stderr, "dgram-sink: recv: %s\n", strerror(errno));
                        return 1;
                }
                fwrite(buf, 1, (size_t) n, out);
                fputs(n > 0 && buf[n - 1] == '\n' ? "--\n" : "\n--\n", out);
                fflush(out);
        }
}
