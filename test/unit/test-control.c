/* SPDX-License-Identifier: MIT */
/* control.c: request parsing, the authorization decision (pure), the
 * Groups: line, group resolution, and the server on an sd-event loop
 * answering a client in a child process (as root: also a child that drops
 * to another uid before connecting). No kernel state is touched. */
#include <json-c/json.h>
#include <grp.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>

#include "control.h"
#include "unit.h"
#include "util.h"

static void parse_ok(const char *line, ControlCommand want) {
        _cleanup_free_ char *error = NULL;
        ControlCommand c = _CONTROL_COMMAND_INVALID;

        ck_assert_msg(control_parse_request(line, &c, &error) == 0, "%s: %s", line, error ? error : "");
        ck_assert_int_eq(c, want);
        ck_assert_ptr_null(error);
}

static void parse_bad(const char *line, const char *message) {
        _cleanup_free_ char *error = NULL;
        ControlCommand c;

        ck_assert_int_eq(control_parse_request(line, &c, &error), -EINVAL);
        ck_assert_ptr_nonnull(error);
        ck_assert_str_eq(error, message);
}

START_TEST(test_control_parse_request) {
        parse_ok("{\"command\":\"status\"}", CONTROL_STATUS);
        parse_ok("{\"command\":\"status\"}\n", CONTROL_STATUS);
        parse_ok(" { \"command\" : \"reload\" }\r\n", CONTROL_RELOAD);
        parse_bad("", "empty request (expected a JSON object like {\"command\":\"status\"})");
        parse_bad("\n", "empty request (expected a JSON object like {\"command\":\"status\"})");
        parse_bad("status", "bad JSON in the request: unexpected character");
        parse_bad("{\"command\":\"status\"", "bad JSON in the request: unexpected end of input");
        parse_bad("{\"command\":\"status\"} {}", "bad JSON in the request: unexpected character");
        parse_bad("[\"status\"]", "the request is not a JSON object");
        parse_bad("{}", "the request has no \"command\"");
        parse_bad("{\"command\":1}", "\"command\" is not a string");
        parse_bad("{\"command\":\"stop\"}", "unknown command \"stop\" (status or reload)");
        parse_bad("{\"command\":\"Status\"}", "unknown command \"Status\" (status or reload)");
        parse_bad("{\"command\":\"status\",\"verbose\":true}", "unknown key \"verbose\" in the request");
        ck_assert_str_eq(control_command_to_string(CONTROL_RELOAD), "reload");
        ck_assert_ptr_null(control_command_to_string(_CONTROL_COMMAND_MAX));
}
END_TEST

START_TEST(test_control_authorize) {
        static const gid_t supp[] = { 10, 20, 30 };
        ControlPeer root = { .uid = 0, .gid = 0 }, root_other_gid = { .uid = 0, .gid = 999 },
                    member_primary = { .uid = 1000, .gid = 20 },
                    member_supp = { .uid = 1000, .gid = 1000, .groups = supp, .n_groups = 3 },
                    stranger = { .uid = 1000, .gid = 1000, .groups = supp, .n_groups = 2 };
        const char *why = NULL;

        /* root: everything, with or without a read group */
        ck_assert_int_eq(control_authorize(CONTROL_STATUS, &root, false, 0, &why), 0);
        ck_assert_int_eq(control_authorize(CONTROL_RELOAD, &root, false, 0, &why), 0);
        ck_assert_int_eq(control_authorize(CONTROL_RELOAD, &root_other_gid, true, 30, &why), 0);
        /* no read group: root only */
        ck_assert_int_eq(control_authorize(CONTROL_STATUS, &member_primary, false, 20, &why), -EPERM);
        ck_assert_str_eq(why, "only root may read the status (no control.read_group is configured)");
        /* members read, by primary or supplementary group */
        ck_assert_int_eq(control_authorize(CONTROL_STATUS, &member_primary, true, 20, &why), 0);
        ck_assert_int_eq(control_authorize(CONTROL_STATUS, &member_supp, true, 30, &why), 0);
        /* 30 is the third group: a peer listing two is not a member */
        ck_assert_int_eq(control_authorize(CONTROL_STATUS, &stranger, true, 30, &why), -EPERM);
        ck_assert_str_eq(why, "not root and not a member of control.read_group");
        /* read group 0 is a real group (root's): its members may read */
        ck_assert_int_eq(control_authorize(CONTROL_STATUS, &(ControlPeer) { .uid = 5, .gid = 0 }, true, 0, &why), 0);
        /* reload needs uid 0 even for members */
        why = NULL;
        ck_assert_int_eq(control_authorize(CONTROL_RELOAD, &member_primary, true, 20, &why), -EPERM);
        ck_assert_str_eq(why, "only root may change the daemon's state");
        ck_assert_int_eq(control_authorize(CONTROL_RELOAD, &(ControlPeer) { .uid = 1, .gid = 0 }, true, 0, &why),
                         -EPERM);
}
END_TEST

START_TEST(test_control_parse_groups) {
        _cleanup_free_ gid_t *g = NULL;
        gid_t *e = NULL;
        size_t n = 99;

        ck_assert_int_eq(control_parse_groups("Name:\tsh\nUid:\t1000\t1000\t1000\t1000\nGroups:\t4 24 27 4294967294 \n"
                                              "NStgid:\t1\n", &g, &n), 0);
        ck_assert_uint_eq(n, 4);
        ck_assert_uint_eq(g[0], 4);
        ck_assert_uint_eq(g[2], 27);
        ck_assert_uint_eq(g[3], 4294967294u);
        ck_assert_int_eq(control_parse_groups("Name:\tx\nGroups:\t\nNStgid:\t1\n", &e, &n), 0);
        ck_assert_uint_eq(n, 0);
        free(e);
        ck_assert_int_eq(control_parse_groups("Name:\tx\nGroups:\t1 x\n", &e, &n), -EINVAL);
        ck_assert_int_eq(control_parse_groups("Name:\tx\nNGroups:\t1\n", &e, &n), -ENOENT);
}
END_TEST

START_TEST(test_control_resolve_group) {
        _cleanup_free_ char *error = NULL;
        bool set = true;
        gid_t gid = 1;

        ck_assert_int_eq(control_resolve_group("", &set, &gid, &error), 0);
        ck_assert(!set);
        ck_assert_int_eq(control_resolve_group("4321", &set, &gid, &error), 0);
        ck_assert(set);
        ck_assert_uint_eq(gid, 4321);
        ck_assert_int_eq(control_resolve_group("0", &set, &gid, &error), 0);
        ck_assert(set);
        ck_assert_uint_eq(gid, 0);
        ck_assert_int_eq(control_resolve_group("no-such-group-tierd-unit", &set, &gid, &error), -ENOENT);
        ck_assert_ptr_nonnull(error);
        ck_assert_msg(strncmp(error, "control.read_group: no group \"no-such-group-tierd-unit\"", 55) == 0, "%s", error);
}
END_TEST

START_TEST(test_control_error_line) {
        _cleanup_free_ char *l = control_error_line("bad \"x\"\n/y");

        ck_assert_str_eq(l, "{\"ok\":false,\"error\":\"bad \\\"x\\\"\\n/y\"}");
}
END_TEST

/* ---- the server, with a client in a child process ---- */

static unsigned handled[_CONTROL_COMMAND_MAX];

static int handler(ControlCommand cmd, void *userdata, json_object **ret) {
        json_object *o = json_object_new_object();

        (void) userdata;
        handled[cmd]++;
        json_object_object_add(o, "ok", json_object_new_boolean(true));
        if (cmd == CONTROL_STATUS)
                json_object_object_add(o, "status", json_object_new_string("fine"));
        *ret = o;
        return 0;
}

/* Runs the loop until child PID exits; returns its exit status. */
static int serve_until(sd_event *e, pid_t pid) {
        for (;;) {
                int st;

                ck_assert_int_ge(sd_event_run(e, 50 * 1000), 0);
                if (waitpid(pid, &st, WNOHANG) == pid)
                        return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
        }
}

/* In the child: send REQUEST (raw, no newline added), close the sending
 * side, and compare the
 * response line with WANT; exit 0 if equal. */
static void child_request(const char *path, const char *request, size_t len, const char *want, uid_t uid, gid_t gid,
                          gid_t supp) {
        struct sockaddr_un sa = { .sun_family = AF_UNIX };
        char buf[8192];
        size_t got = 0;
        int fd;

        if (uid != 0) {
                if (setgroups(supp != (gid_t) -1 ? 1 : 0, &supp) < 0 || setgid(gid) < 0 || setuid(uid) < 0)
                        _exit(90);
        }
        fd = socket(AF_UNIX, SOCK_STREAM, 0);
        snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
        if (connect(fd, (struct sockaddr *) &sa, sizeof(sa)) < 0)
                _exit(91);
        if (len && write(fd, request, len) != (ssize_t) len)
                _exit(92);
        /* the end of the request (a line without its newline counts) */
        shutdown(fd, SHUT_WR);
        for (;;) {
                ssize_t n = read(fd, buf + got, sizeof(buf) - 1 - got);

                if (n <= 0)
                        break;
                got += (size_t) n;
        }
        buf[got] = '\0';
        if (strcmp(buf, want) != 0) {
                fprintf(stderr, "got '%s', want '%s'\n", buf, want);
                _exit(93);
        }
        _exit(0);
}

static int request(sd_event *e, const char *path, const char *req, size_t len, const char *want, uid_t uid, gid_t gid,
                   gid_t supp) {
        pid_t pid = fork();

        ck_assert_int_ge(pid, 0);
        if (pid == 0)
                child_request(path, req, len, want, uid, gid, supp);
        return serve_until(e, pid);
}

#define REQ(s) s, strlen(s)

START_TEST(test_control_server) {
        _cleanup_free_ char *path = NULL, *error = NULL, *big = NULL;
        sd_event *e = NULL;
        ControlServer *s = NULL;
        struct stat st;

        ck_assert_int_ge(asprintf(&path, "%s/run/sub/control.sock", unit_tmproot()), 0);
        ck_assert_int_eq(sd_event_new(&e), 0);
        ck_assert_int_eq(control_server_new(e, path, false, 0, "/proc", handler, NULL, &s, &error), 0);
        /* the directories made, the socket 0660 */
        ck_assert_int_eq(lstat(path, &st), 0);
        ck_assert(S_ISSOCK(st.st_mode));
        ck_assert_uint_eq(st.st_mode & 07777, 0660);
        memset(handled, 0, sizeof(handled));

        ck_assert_int_eq(request(e, path, REQ("{\"command\":\"status\"}\n"), "{\"ok\":true,\"status\":\"fine\"}\n", 0, 0, 0), 0);
        ck_assert_int_eq(request(e, path, REQ("{\"command\":\"reload\"}"), "{\"ok\":true}\n", 0, 0, 0), 0);
        ck_assert_int_eq(request(e, path, REQ("{\"command\":\"halt\"}\n"),
                                 "{\"ok\":false,\"error\":\"unknown command \\\"halt\\\" (status or reload)\"}\n", 0, 0, 0), 0);
        ck_assert_int_eq(request(e, path, REQ("status\n"),
                                 "{\"ok\":false,\"error\":\"bad JSON in the request: unexpected character\"}\n", 0, 0, 0), 0);
        /* more than the bound without a newline */
        big = malloc(CONTROL_MAX_REQUEST + 100);
        memset(big, ' ', CONTROL_MAX_REQUEST + 100);
        ck_assert_int_eq(request(e, path, big, CONTROL_MAX_REQUEST + 100,
                                 "{\"ok\":false,\"error\":\"request too long (at most 4096 bytes)\"}\n", 0, 0, 0), 0);
        ck_assert_uint_eq(handled[CONTROL_STATUS], 1);
        ck_assert_uint_eq(handled[CONTROL_RELOAD], 1);

        /* a client that connects and sends nothing does not hold up the
         * next one (served in well under the 5 s connection timeout) */
        {
                struct sockaddr_un sa = { .sun_family = AF_UNIX };
                int slow = socket(AF_UNIX, SOCK_STREAM, 0);
                struct timespec t0, t1;

                snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
                ck_assert_int_eq(connect(slow, (struct sockaddr *) &sa, sizeof(sa)), 0);
                ck_assert_int_eq(write(slow, "{\"comm", 6), 6);
                clock_gettime(CLOCK_MONOTONIC, &t0);
                ck_assert_int_eq(request(e, path, REQ("{\"command\":\"status\"}\n"), "{\"ok\":true,\"status\":\"fine\"}\n",
                                         0, 0, 0), 0);
                clock_gettime(CLOCK_MONOTONIC, &t1);
                ck_assert_int_lt((t1.tv_sec - t0.tv_sec) * 1000 + (t1.tv_nsec - t0.tv_nsec) / 1000000, 2000);
                close(slow);
        }

        /* the client from a library call */
        {
                pid_t pid = fork();

                if (pid == 0) {
                        _cleanup_free_ char *resp = NULL, *err = NULL;

                        if (control_call(path, "{\"command\":\"status\"}", 5000, &resp, &err) < 0)
                                _exit(1);
                        _exit(strcmp(resp, "{\"ok\":true,\"status\":\"fine\"}\n") == 0 ? 0 : 2);
                }
                ck_assert_int_eq(serve_until(e, pid), 0);
        }

        if (geteuid() == 0) {
                /* other uids: no read group -> status refused, reload refused */
                ck_assert_int_eq(chmod(unit_tmproot(), 0755), 0);
                ck_assert_int_eq(control_server_set_group(s, true, 4242), 0);
                ck_assert_int_eq(chmod(path, 0666), 0); /* the test's clients need to connect at all */
                ck_assert_int_eq(request(e, path, REQ("{\"command\":\"status\"}\n"),
                                         "{\"ok\":false,\"error\":\"permission denied: not root and not a member of "
                                         "control.read_group (uid 1234, command status)\"}\n", 1234, 1234, (gid_t) -1), 0);
                /* a member through a supplementary group (read from /proc/PID/status) */
                ck_assert_int_eq(request(e, path, REQ("{\"command\":\"status\"}\n"),
                                         "{\"ok\":true,\"status\":\"fine\"}\n", 1234, 1234, 4242), 0);
                ck_assert_int_eq(request(e, path, REQ("{\"command\":\"status\"}\n"),
                                         "{\"ok\":true,\"status\":\"fine\"}\n", 1234, 4242, (gid_t) -1), 0);
                ck_assert_int_eq(request(e, path, REQ("{\"command\":\"reload\"}\n"),
                                         "{\"ok\":false,\"error\":\"permission denied: only root may change the "
                                         "daemon's state (uid 1234, command reload)\"}\n", 1234, 4242, 4242), 0);
                ck_assert_uint_eq(handled[CONTROL_RELOAD], 1);
        }

        /* a second server on a live socket is refused, the first kept */
        {
                ControlServer *s2 = NULL;
                _cleanup_free_ char *err2 = NULL;

                ck_assert_int_eq(control_server_new(e, path, false, 0, "/proc", handler, NULL, &s2, &err2), -EADDRINUSE);
                ck_assert_msg(strstr(err2, "another tierd is running"), "%s", err2);
                ck_assert_int_eq(lstat(path, &st), 0);
        }
        s = control_server_free(s);
        ck_assert_int_eq(lstat(path, &st), -1); /* removed */
        /* a stale socket file (nobody listening) is replaced */
        {
                struct sockaddr_un sa = { .sun_family = AF_UNIX };
                int fd = socket(AF_UNIX, SOCK_STREAM, 0);

                snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
                ck_assert_int_eq(bind(fd, (struct sockaddr *) &sa, sizeof(sa)), 0);
                close(fd);
                free(error);
                error = NULL;
                ck_assert_int_eq(control_server_new(e, path, false, 0, "/proc", handler, NULL, &s, &error), 0);
                s = control_server_free(s);
        }
        sd_event_unref(e);
}
END_TEST

START_TEST(test_control_call_not_running) {
        _cleanup_free_ char *path = NULL, *error = NULL, *resp = NULL;
        struct sockaddr_un sa = { .sun_family = AF_UNIX };
        int fd;

        ck_assert_int_ge(asprintf(&path, "%s/none.sock", unit_tmproot()), 0);
        ck_assert_int_eq(control_call(path, "{}", 1000, &resp, &error), -ENOENT);
        ck_assert_msg(strstr(error, "tierd is not running") && strstr(error, "does not exist"), "%s", error);
        free(error);
        error = NULL;
        /* a socket file nobody listens on */
        fd = socket(AF_UNIX, SOCK_STREAM, 0);
        snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
        ck_assert_int_eq(bind(fd, (struct sockaddr *) &sa, sizeof(sa)), 0);
        close(fd);
        ck_assert_int_eq(control_call(path, "{}", 1000, &resp, &error), -ECONNREFUSED);
        ck_assert_msg(strstr(error, "tierd is not running") && strstr(error, "refuses connections"), "%s", error);
}
END_TEST

START_TEST(test_control_server_refuses_non_socket) {
        _cleanup_free_ char *path = NULL, *error = NULL;
        sd_event *e = NULL;
        ControlServer *s = NULL;
        FILE *f;

        ck_assert_int_ge(asprintf(&path, "%s/file", unit_tmproot()), 0);
        f = fopen(path, "w");
        ck_assert_ptr_nonnull(f);
        fclose(f);
        ck_assert_int_eq(sd_event_new(&e), 0);
        ck_assert_int_eq(control_server_new(e, path, false, 0, "/proc", handler, NULL, &s, &error), -EEXIST);
        ck_assert_msg(strstr(error, "exists and is not a socket"), "%s", error);
        ck_assert_int_eq(access(path, F_OK), 0); /* left alone */
        sd_event_unref(e);
}
END_TEST

/* On reload the socket gets control.read_group by name: a socket path
 * replaced by a symbolic link (a socket directory others may write) must
 * not make tierd chown and chmod the link's target. */
START_TEST(test_control_server_set_group_no_symlink) {
        _cleanup_free_ char *path = NULL, *victim = NULL, *error = NULL;
        sd_event *e = NULL;
        ControlServer *s = NULL;
        struct stat st;
        FILE *f;

        ck_assert_int_ge(asprintf(&path, "%s/control.sock", unit_tmproot()), 0);
        ck_assert_int_ge(asprintf(&victim, "%s/shadow", unit_tmproot()), 0);
        f = fopen(victim, "w");
        ck_assert_ptr_nonnull(f);
        fclose(f);
        ck_assert_int_eq(chmod(victim, 0600), 0);
        ck_assert_int_eq(sd_event_new(&e), 0);
        ck_assert_int_eq(control_server_new(e, path, false, 0, "/proc", handler, NULL, &s, &error), 0);
        ck_assert_int_eq(lstat(path, &st), 0);
        ck_assert(S_ISSOCK(st.st_mode) && (st.st_mode & 07777) == 0660);

        /* the socket itself: its group changes */
        ck_assert_int_eq(control_server_set_group(s, true, getgid()), 0);

        ck_assert_int_eq(unlink(path), 0);
        ck_assert_int_eq(symlink(victim, path), 0);
        ck_assert_int_lt(control_server_set_group(s, true, 4242), 0);
        ck_assert_int_eq(stat(victim, &st), 0);
        ck_assert_msg((st.st_mode & 07777) == 0600, "the link's target got mode %04o", (unsigned) (st.st_mode & 07777));
        ck_assert_uint_eq(st.st_gid, getgid());
        /* another socket in its place is not ours either */
        ck_assert_int_eq(unlink(path), 0);
        {
                struct sockaddr_un sa = { .sun_family = AF_UNIX };
                int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

                ck_assert_int_ge(fd, 0);
                memcpy(sa.sun_path, path, strlen(path) + 1);
                ck_assert_int_eq(bind(fd, (struct sockaddr *) &sa, sizeof(sa)), 0);
                ck_assert_int_eq(chmod(path, 0600), 0);
                ck_assert_int_eq(control_server_set_group(s, true, 4242), -ENOTSOCK);
                ck_assert_int_eq(lstat(path, &st), 0);
                ck_assert_uint_eq(st.st_mode & 07777, 0600);
                close(fd);
        }
        control_server_free(s);
        sd_event_unref(e);
}
END_TEST

int main(void) {
        Suite *s = suite_create("control");
        TCase *tc = tcase_create("core");

        tcase_add_checked_fixture(tc, unit_tmp_setup, unit_tmp_teardown);
        tcase_set_timeout(tc, 30);
        tcase_add_test(tc, test_control_parse_request);
        tcase_add_test(tc, test_control_authorize);
        tcase_add_test(tc, test_control_parse_groups);
        tcase_add_test(tc, test_control_resolve_group);
        tcase_add_test(tc, test_control_error_line);
        tcase_add_test(tc, test_control_server);
        tcase_add_test(tc, test_control_call_not_running);
        tcase_add_test(tc, test_control_server_refuses_non_socket);
        tcase_add_test(tc, test_control_server_set_group_no_symlink);
        suite_add_tcase(s, tc);
        return unit_run(s);
}
