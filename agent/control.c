/* SPDX-License-Identifier: MIT */
#include "control.h"

#include <fcntl.h>
#include <grp.h>
#include <inttypes.h>
#include <poll.h>
#include <stdarg.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>

#include "util.h"

static const char *const command_names[_CONTROL_COMMAND_MAX] = {
        [CONTROL_STATUS] = "status",
        [CONTROL_RELOAD] = "reload",
};

const char *control_command_to_string(ControlCommand c) {
        return c >= 0 && c < _CONTROL_COMMAND_MAX ? command_names[c] : NULL;
}

static void json_tokener_freep_(json_tokener **t) {
        if (*t)
                json_tokener_free(*t);
}

int control_parse_request(const char *line, ControlCommand *ret, char **ret_error) {
        _cleanup_(json_tokener_freep_) json_tokener *tok = NULL;
        json_object *o, *cmd = NULL;
        size_t len = strlen(line);
        int r = -EINVAL;

        while (len > 0 && (line[len - 1] == '\n' || line[len - 1] == '\r'))
                len--;
        if (len == 0)
                return set_error_message(ret_error, 0, "empty request (expected a JSON object like {\"command\":\"status\"})") < 0
                               ? -ENOMEM : -EINVAL;
        tok = json_tokener_new();
        if (!tok)
                return -ENOMEM;
        json_tokener_set_flags(tok, JSON_TOKENER_STRICT | JSON_TOKENER_VALIDATE_UTF8);
        o = json_tokener_parse_ex(tok, line, (int) len);
        if (!o || json_tokener_get_error(tok) != json_tokener_success ||
            json_tokener_get_parse_end(tok) != len) {
                enum json_tokener_error e = json_tokener_get_error(tok);

                json_object_put(o);
                if (set_error_message(ret_error, 0, "bad JSON in the request: %s",
                              e == json_tokener_success ? "trailing characters after the object"
                              : e == json_tokener_continue ? "unexpected end of input"
                                                            : json_tokener_error_desc(e)) < 0)
                        return -ENOMEM;
                return -EINVAL;
        }
        if (!json_object_is_type(o, json_type_object))
                set_error_message(ret_error, 0, "the request is not a JSON object");
        else if (!json_object_object_get_ex(o, "command", &cmd))
                set_error_message(ret_error, 0, "the request has no \"command\"");
        else if (!json_object_is_type(cmd, json_type_string))
                set_error_message(ret_error, 0, "\"command\" is not a string");
        else {
                const char *name = json_object_get_string(cmd);
                bool other = false;

                json_object_object_foreach(o, key, v) {
                        (void) v;
                        if (strcmp(key, "command") != 0 && !other) {
                                set_error_message(ret_error, 0, "unknown key \"%s\" in the request", key);
                                other = true;
                        }
                }
                if (!other) {
                        r = -EINVAL;
                        for (int i = 0; i < _CONTROL_COMMAND_MAX; i++)
                                if (strcmp(name, command_names[i]) == 0) {
                                        *ret = (ControlCommand) i;
                                        r = 0;
                                }
                        if (r < 0)
                                set_error_message(ret_error, 0, "unknown command \"%s\" (status or reload)", name);
                }
        }
        json_object_put(o);
        return r;
}

int control_authorize(ControlCommand cmd, const ControlPeer *peer, bool have_read_group, gid_t read_group,
                      const char **ret_why) {
        if (peer->uid == 0)
                return 0;
        if (cmd != CONTROL_STATUS) {
                *ret_why = "only root may change the daemon's state";
                return -EPERM;
        }
        if (!have_read_group) {
                *ret_why = "only root may read the status (no control.read_group is configured)";
                return -EPERM;
        }
        if (peer->gid == read_group)
                return 0;
        for (size_t i = 0; i < peer->n_groups; i++)
                if (peer->groups[i] == read_group)
                        return 0;
        *ret_why = "not root and not a member of control.read_group";
        return -EPERM;
}

int control_parse_groups(const char *text, gid_t **ret, size_t *ret_n) {
        _cleanup_free_ gid_t *g = NULL;
        const char *p = text;
        size_t n = 0, alloc = 0;

        for (;;) {
                if (strncmp(p, "Groups:", 7) == 0)
                        break;
                p = strchr(p, '\n');
                if (!p)
                        return -ENOENT;
                p++;
        }
        p += 7;
        for (;;) {
                char *end;
                unsigned long v;

                while (*p == ' ' || *p == '\t')
                        p++;
                if (*p == '\n' || *p == '\0')
                        break;
                errno = 0;
                v = strtoul(p, &end, 10);
                if (end == p || errno || v > UINT32_MAX)
                        return -EINVAL;
                if (n == alloc) {
                        gid_t *ng = realloc(g, (alloc = alloc ? alloc * 2 : 16) * sizeof(*g));

                        if (!ng)
                                return -ENOMEM;
                        g = ng;
                }
                g[n++] = (gid_t) v;
                p = end;
        }
        *ret = TAKE_PTR(g);
        *ret_n = n;
        return 0;
}

int control_resolve_group(const char *name, bool *ret_set, gid_t *ret_gid, char **ret_error) {
        uint64_t v;
        struct group *gr;

        if (!name || !*name) {
                *ret_set = false;
                *ret_gid = 0;
                return 0;
        }
        if (parse_u64(name, &v) >= 0) {
                if (v >= UINT32_MAX)
                        return set_error_message(ret_error, 0, "control.read_group: \"%s\" is not a valid group id", name) < 0
                                       ? -ENOMEM : -EINVAL;
                *ret_set = true;
                *ret_gid = (gid_t) v;
                return 0;
        }
        errno = 0;
        gr = getgrnam(name);
        if (!gr)
                return set_error_message(ret_error, 0, "control.read_group: no group \"%s\"%s%s", name, errno ? ": " : "",
                                 errno ? strerror(errno) : "") < 0 ? -ENOMEM : -ENOENT;
        *ret_set = true;
        *ret_gid = gr->gr_gid;
        return 0;
}

char *control_error_line(const char *msg) {
        json_object *o = json_object_new_object();
        char *s;

        json_object_object_add(o, "ok", json_object_new_boolean(false));
        json_object_object_add(o, "error", json_object_new_string(msg));
        s = strdup(json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE));
        json_object_put(o);
        return s;
}

/* ---- the server ---- */

typedef struct Conn Conn;
struct ControlServer {
        sd_event *event;
        sd_event_source *listen_source;
        int fd;
        char *path;
        char *procfs;
        bool have_read_group;
        gid_t read_group;
        dev_t sock_dev;         /* the socket file bind() made: its group and mode */
        ino_t sock_ino;         /* are changed only while the path still names it */
        ControlHandler handler;
        void *userdata;
        Conn *conns;
        unsigned n_conns;
};

struct Conn {
        ControlServer *server;
        Conn *next, *prev;
        int fd;
        sd_event_source *io, *timer;
        struct ucred cred;
        char in[CONTROL_MAX_REQUEST + 1];
        size_t in_len;
        char *out;
        size_t out_len, out_off;
};

static void conn_free(Conn *c) {
        ControlServer *s = c->server;

        if (c->prev)
                c->prev->next = c->next;
        else
                s->conns = c->next;
        if (c->next)
                c->next->prev = c->prev;
        s->n_conns--;
        sd_event_source_disable_unref(c->io);
        sd_event_source_disable_unref(c->timer);
        if (c->fd >= 0)
                close(c->fd);
        free(c->out);
        free(c);
}

static int conn_groups(Conn *c, gid_t **ret, size_t *ret_n) {
        _cleanup_free_ char *path = NULL, *text = NULL;
        int r;

        if (asprintf(&path, "/%d/status", (int) c->cred.pid) < 0)
                return -ENOMEM;
        r = read_full_file(c->server->procfs, path, &text, NULL);
        if (r < 0)
                return r;
        return control_parse_groups(text, ret, ret_n);
}

static char *conn_answer(Conn *c) {
        ControlServer *s = c->server;
        _cleanup_free_ char *error = NULL;
        _cleanup_free_ gid_t *groups = NULL;
        ControlCommand cmd;
        ControlPeer peer = { .uid = c->cred.uid, .gid = c->cred.gid };
        const char *why = NULL;
        json_object *resp = NULL;
        char *line;
        int r;

        c->in[c->in_len] = '\0';
        if (strlen(c->in) != c->in_len)
                return control_error_line("bad request: it contains a NUL byte");
        r = control_parse_request(c->in, &cmd, &error);
        if (r == -ENOMEM)
                return NULL;
        if (r < 0)
                return control_error_line(error ? error : "bad request");
        /* the groups only matter for a non-root reader with a read group */
        if (peer.uid != 0 && s->have_read_group && cmd == CONTROL_STATUS && peer.gid != s->read_group) {
                r = conn_groups(c, &groups, &peer.n_groups);
                if (r == -ENOMEM)
                        return NULL;
                if (r < 0)
                        log_debug("control: cannot read the groups of pid %d, checking its gid only: %s",
                                  (int) c->cred.pid, strerror(-r));
                peer.groups = groups;
        }
        r = control_authorize(cmd, &peer, s->have_read_group, s->read_group, &why);
        if (r < 0) {
                _cleanup_free_ char *msg = NULL;

                log_debug("control: %s from uid %u refused: %s", control_command_to_string(cmd),
                          (unsigned) peer.uid, why);
                if (asprintf(&msg, "permission denied: %s (uid %u, command %s)", why, (unsigned) peer.uid,
                             control_command_to_string(cmd)) < 0)
                        return NULL;
                return control_error_line(msg);
        }
        r = s->handler(cmd, s->userdata, &resp);
        if (r < 0 || !resp) {
                json_object_put(resp);
                return control_error_line(r == -ENOMEM ? "out of memory" : "internal error");
        }
        line = strdup(json_object_to_json_string_ext(resp, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE));
        json_object_put(resp);
        return line;
}

/* Queues LINE (taken) as the answer; the request side is closed. */
static void conn_send_line(Conn *c, char *line) {
        if (!line) {
                conn_free(c);
                return;
        }
        size_t len = strlen(line);
        char *out = realloc(line, len + 2);

        if (!out) {
                free(line);
                conn_free(c);
                return;
        }
        c->out = out;
        c->out_len = len;
        c->out[c->out_len++] = '\n';
        c->out[c->out_len] = '\0';
        shutdown(c->fd, SHUT_RD);
        if (sd_event_source_set_io_events(c->io, EPOLLOUT) < 0)
                conn_free(c);
}

static int conn_io(sd_event_source *es, int fd, uint32_t revents, void *userdata) {
        Conn *c = userdata;
        ssize_t n;

        (void) es;
        if (c->out) {
                while (c->out_off < c->out_len) {
                        n = send(fd, c->out + c->out_off, c->out_len - c->out_off, MSG_NOSIGNAL | MSG_DONTWAIT);
                        if (n < 0) {
                                if (errno == EAGAIN || errno == EINTR)
                                        return 0;
                                break;
                        }
                        c->out_off += (size_t) n;
                }
                conn_free(c); /* all sent, or the peer is gone */
                return 0;
        }
        if (!(revents & (EPOLLIN | EPOLLHUP | EPOLLERR)))
                return 0;
        n = recv(fd, c->in + c->in_len, CONTROL_MAX_REQUEST - c->in_len, MSG_DONTWAIT);
        if (n < 0) {
                if (errno == EAGAIN || errno == EINTR)
                        return 0;
                conn_free(c);
                return 0;
        }
        if (n == 0) {
                if (c->in_len == 0) {
                        conn_free(c);
                        return 0;
                }
                conn_send_line(c, conn_answer(c)); /* a request without its newline */
                return 0;
        }
        c->in_len += (size_t) n;
        {
                char *nl = memchr(c->in, '\n', c->in_len);

                if (nl) {
                        c->in_len = (size_t) (nl - c->in);
                        conn_send_line(c, conn_answer(c));
                } else if (c->in_len >= CONTROL_MAX_REQUEST) {
                        char msg[96];

                        snprintf(msg, sizeof(msg), "request too long (at most %u bytes)", CONTROL_MAX_REQUEST);
                        conn_send_line(c, control_error_line(msg));
                }
        }
        return 0;
}

static int conn_timeout(sd_event_source *es, uint64_t usec, void *userdata) {
        Conn *c = userdata;

        (void) es;
        (void) usec;
        log_debug("control: a client (pid %d) took longer than %u ms, closed", (int) c->cred.pid,
                  CONTROL_TIMEOUT_MS);
        conn_free(c);
        return 0;
}

static int on_accept(sd_event_source *es, int fd, uint32_t revents, void *userdata) {
        ControlServer *s = userdata;
        socklen_t len;
        Conn *c;
        int cfd, r;

        (void) es;
        (void) revents;
        cfd = accept4(fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (cfd < 0) {
                if (errno != EAGAIN && errno != EINTR)
                        log_debug("control: accept failed: %m");
                return 0;
        }
        if (s->n_conns >= CONTROL_MAX_CLIENTS) {
                static const char busy[] = "{\"ok\":false,\"error\":\"too many clients, try again\"}\n";

                (void) !send(cfd, busy, sizeof(busy) - 1, MSG_NOSIGNAL | MSG_DONTWAIT);
                close(cfd);
                return 0;
        }
        c = calloc(1, sizeof(*c));
        if (!c) {
                close(cfd);
                return 0;
        }
        c->server = s;
        c->fd = cfd;
        c->next = s->conns;
        if (s->conns)
                s->conns->prev = c;
        s->conns = c;
        s->n_conns++;
        len = sizeof(c->cred);
        if (getsockopt(cfd, SOL_SOCKET, SO_PEERCRED, &c->cred, &len) < 0) {
                log_debug("control: SO_PEERCRED failed: %m");
                conn_free(c);
                return 0;
        }
        r = sd_event_add_io(s->event, &c->io, cfd, EPOLLIN, conn_io, c);
        if (r >= 0)
                r = sd_event_add_time_relative(s->event, &c->timer, CLOCK_MONOTONIC,
                                               (uint64_t) CONTROL_TIMEOUT_MS * 1000, 0, conn_timeout, c);
        if (r < 0) {
                log_debug("control: cannot watch a client: %s", strerror(-r));
                conn_free(c);
        }
        return 0;
}

static int mkdir_parents(const char *path) {
        _cleanup_free_ char *d = strdup(path);
        char *slash;

        if (!d)
                return -ENOMEM;
        slash = strrchr(d, '/');
        if (!slash || slash == d)
                return 0;
        *slash = '\0';
        for (char *p = d + 1; *p; p++)
                if (*p == '/') {
                        *p = '\0';
                        if (mkdir(d, 0755) < 0 && errno != EEXIST)
                                return -errno;
                        *p = '/';
                }
        if (mkdir(d, 0755) < 0 && errno != EEXIST)
                return -errno;
        return 0;
}

/* The socket file's group and mode 0660. Done by name, so without
 * following a symbolic link and only while the name is still the socket
 * bind() made: whoever could replace it (a socket directory others may
 * write) must not get another file chowned and chmodded instead. */
static int apply_group(ControlServer *s) {
        _cleanup_free_ char *dir = NULL;
        _cleanup_close_ int dfd = -1;
        const char *slash = strrchr(s->path, '/'), *base = slash ? slash + 1 : s->path;
        struct stat st;

        dir = slash ? strndup(s->path, slash == s->path ? 1 : (size_t) (slash - s->path)) : strdup(".");
        if (!dir)
                return -ENOMEM;
        dfd = open(dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
        if (dfd < 0)
                return -errno;
        if (fstatat(dfd, base, &st, AT_SYMLINK_NOFOLLOW) < 0)
                return -errno;
        if (!S_ISSOCK(st.st_mode) || st.st_dev != s->sock_dev || st.st_ino != s->sock_ino)
                return -ENOTSOCK; /* replaced since bind() */
        if (fchownat(dfd, base, (uid_t) -1, s->have_read_group ? s->read_group : 0, AT_SYMLINK_NOFOLLOW) < 0)
                return -errno;
        if (fchmodat(dfd, base, 0660, AT_SYMLINK_NOFOLLOW) < 0)
                return -errno;
        return 0;
}

int control_server_new(sd_event *e, const char *path, bool have_read_group, gid_t read_group, const char *procfs,
                       ControlHandler handler, void *userdata, ControlServer **ret, char **ret_error) {
        struct sockaddr_un sa = { .sun_family = AF_UNIX };
        ControlServer *s;
        struct stat st;
        mode_t old;
        int r;

        if (strlen(path) >= sizeof(sa.sun_path))
                return set_error_message(ret_error, 0, "control socket %s: path too long (at most %zu bytes)", path,
                                 sizeof(sa.sun_path) - 1) < 0 ? -ENOMEM : -ENAMETOOLONG;
        s = calloc(1, sizeof(*s));
        if (!s)
                return -ENOMEM;
        s->fd = -1;
        s->event = e;
        s->handler = handler;
        s->userdata = userdata;
        s->have_read_group = have_read_group;
        s->read_group = read_group;
        s->path = strdup(path);
        s->procfs = strdup(procfs ? procfs : "/proc");
        if (!s->path || !s->procfs) {
                control_server_free(s);
                return -ENOMEM;
        }
        r = mkdir_parents(path);
        if (r < 0) {
                control_server_free(s);
                return set_error_message(ret_error, 0, "control socket %s: cannot create its directory: %s", path,
                                 strerror(-r)) < 0 ? -ENOMEM : r;
        }
        /* a stale socket of an earlier run is replaced; a live one (another
         * tierd answers) or anything else is not ours */
        memcpy(sa.sun_path, path, strlen(path) + 1);
        if (lstat(path, &st) == 0) {
                _cleanup_close_ int probe = -1;

                if (!S_ISSOCK(st.st_mode)) {
                        control_server_free(s);
                        return set_error_message(ret_error, 0, "control socket %s: exists and is not a socket, not replaced",
                                         path) < 0 ? -ENOMEM : -EEXIST;
                }
                probe = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
                if (probe >= 0 && connect(probe, (struct sockaddr *) &sa, sizeof(sa)) == 0) {
                        control_server_free(s);
                        return set_error_message(ret_error, 0, "control socket %s: another tierd is running and answers on it",
                                         path) < 0 ? -ENOMEM : -EADDRINUSE;
                }
                (void) unlink(path);
        }
        s->fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
        if (s->fd < 0) {
                r = -errno;
                control_server_free(s);
                return set_error_message(ret_error, 0, "control socket: socket() failed: %s", strerror(-r)) < 0 ? -ENOMEM : r;
        }
        old = umask(0117); /* never a moment with wider permissions than 0660 */
        r = bind(s->fd, (struct sockaddr *) &sa, sizeof(sa)) < 0 ? -errno : 0;
        umask(old);
        if (r >= 0)
                r = lstat(path, &st) < 0 ? -errno : 0;
        if (r >= 0) {
                s->sock_dev = st.st_dev;
                s->sock_ino = st.st_ino;
                r = apply_group(s);
        }
        if (r >= 0 && listen(s->fd, 16) < 0)
                r = -errno;
        if (r >= 0)
                r = sd_event_add_io(e, &s->listen_source, s->fd, EPOLLIN, on_accept, s);
        if (r < 0) {
                int q = set_error_message(ret_error, 0, "control socket %s: %s", path, strerror(-r));

                control_server_free(s);
                return q < 0 ? -ENOMEM : r;
        }
        *ret = s;
        return 0;
}

int control_server_set_group(ControlServer *s, bool have_read_group, gid_t read_group) {
        s->have_read_group = have_read_group;
        s->read_group = read_group;
        return apply_group(s);
}

const char *control_server_path(const ControlServer *s) {
        return s->path;
}

ControlServer *control_server_free(ControlServer *s) {
        if (!s)
                return NULL;
        while (s->conns)
                conn_free(s->conns);
        sd_event_source_disable_unref(s->listen_source);
        if (s->fd >= 0) {
                close(s->fd);
                (void) unlink(s->path);
        }
        free(s->path);
        free(s->procfs);
        free(s);
        return NULL;
}

/* ---- the client ---- */

static uint64_t mono_ms(void) {
        struct timespec ts;

        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (uint64_t) ts.tv_sec * 1000 + (uint64_t) ts.tv_nsec / 1000000;
}

static int wait_fd(int fd, short events, uint64_t deadline) {
        for (;;) {
                uint64_t now = mono_ms();
                struct pollfd p = { .fd = fd, .events = events };
                int r;

                if (now >= deadline)
                        return -ETIMEDOUT;
                r = poll(&p, 1, (int) (deadline - now));
                if (r < 0 && errno == EINTR)
                        continue;
                if (r < 0)
                        return -errno;
                if (r > 0)
                        return 0;
        }
}

int control_call(const char *path, const char *request, int timeout_ms, char **ret_response, char **ret_error) {
        struct sockaddr_un sa = { .sun_family = AF_UNIX };
        _cleanup_close_ int fd = -1;
        _cleanup_free_ char *buf = NULL;
        size_t len = 0, alloc = 0, rl = strlen(request), off = 0;
        uint64_t deadline = mono_ms() + (uint64_t) timeout_ms;
        int r;

        if (strlen(path) >= sizeof(sa.sun_path))
                return set_error_message(ret_error, 0, "%s: path too long for a Unix socket", path) < 0 ? -ENOMEM : -ENAMETOOLONG;
        memcpy(sa.sun_path, path, strlen(path) + 1);
        fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
        if (fd < 0)
                return -errno;
        if (connect(fd, (struct sockaddr *) &sa, sizeof(sa)) < 0) {
                r = -errno;
                if (r == -ENOENT || r == -ECONNREFUSED)
                        return set_error_message(ret_error, 0, "tierd is not running: %s %s", path,
                                         r == -ENOENT ? "does not exist" : "refuses connections") < 0 ? -ENOMEM : r;
                if (r == -EACCES || r == -EPERM)
                        return set_error_message(ret_error, 0, "permission denied connecting to %s (root or a member of the "
                                         "socket's group, control.read_group)", path) < 0 ? -ENOMEM : r;
                if (r != -EINPROGRESS && r != -EAGAIN)
                        return set_error_message(ret_error, 0, "cannot connect to %s: %s", path, strerror(-r)) < 0 ? -ENOMEM : r;
                r = wait_fd(fd, POLLOUT, deadline);
                if (r < 0)
                        return set_error_message(ret_error, 0, "cannot connect to %s: %s", path, strerror(-r)) < 0 ? -ENOMEM : r;
        }
        while (off < rl || off == rl) {
                const char *what = off < rl ? request + off : "\n";
                size_t n = off < rl ? rl - off : 1;
                ssize_t w;

                r = wait_fd(fd, POLLOUT, deadline);
                if (r < 0)
                        return set_error_message(ret_error, 0, "sending to %s: %s", path, strerror(-r)) < 0 ? -ENOMEM : r;
                w = send(fd, what, n, MSG_NOSIGNAL);
                if (w < 0 && (errno == EAGAIN || errno == EINTR))
                        continue;
                if (w < 0)
                        return set_error_message(ret_error, 0, "sending to %s: %m", path) < 0 ? -ENOMEM : -errno;
                off += (size_t) w;
                if (off > rl)
                        break;
        }
        for (;;) {
                ssize_t n;

                if (len + 4096 + 1 > alloc) {
                        char *nb;

                        if (alloc >= CONTROL_MAX_RESPONSE)
                                return set_error_message(ret_error, 0, "%s: response too long", path) < 0 ? -ENOMEM : -EFBIG;
                        nb = realloc(buf, alloc = alloc ? alloc * 2 : 65536);
                        if (!nb)
                                return -ENOMEM;
                        buf = nb;
                }
                r = wait_fd(fd, POLLIN, deadline);
                if (r < 0)
                        return set_error_message(ret_error, 0, "no answer from %s within %d ms", path, timeout_ms) < 0 ? -ENOMEM : r;
                n = recv(fd, buf + len, alloc - len - 1, 0);
                if (n < 0 && (errno == EAGAIN || errno == EINTR))
                        continue;
                if (n < 0)
                        return set_error_message(ret_error, 0, "reading from %s: %m", path) < 0 ? -ENOMEM : -errno;
                if (n == 0)
                        break;
                len += (size_t) n;
                if (memchr(buf + len - n, '\n', (size_t) n))
                        break;
        }
        buf[len] = '\0';
        if (len == 0)
                return set_error_message(ret_error, 0, "%s closed the connection without an answer", path) < 0 ? -ENOMEM : -EPIPE;
        *ret_response = TAKE_PTR(buf);
        return 0;
}
