/* SPDX-License-Identifier: MIT */
/* The control socket: a Unix stream socket on which a client sends one
 * JSON request line and reads one JSON response line.
 *
 *   {"command":"status"}  -> {"ok":true,"status":{...}}   (read: uid 0 or
 *                            a member of control.read_group)
 *   {"command":"reload"}  -> {"ok":true} | {"ok":false,"error":"..."} (uid 0)
 *
 * Anything else is answered {"ok":false,"error":"..."} naming what was
 * wrong. The server runs in the daemon's sd-event loop, non-blocking: a
 * request is at most CONTROL_MAX_REQUEST bytes and a connection lives at
 * most CONTROL_TIMEOUT_MS, so a slow client cannot stall the periods. */
#pragma once

#include <json-c/json.h>
#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>
#include <systemd/sd-event.h>

#define CONTROL_SOCKET_DEFAULT "/run/tierd/control.sock"
#define CONTROL_MAX_REQUEST 4096
#define CONTROL_MAX_RESPONSE (16u << 20)
#define CONTROL_TIMEOUT_MS 5000
#define CONTROL_MAX_CLIENTS 16

typedef enum ControlCommand {
        CONTROL_STATUS,
        CONTROL_RELOAD,
        _CONTROL_COMMAND_MAX,
        _CONTROL_COMMAND_INVALID = -1,
} ControlCommand;

const char *control_command_to_string(ControlCommand c);

/* Parses one request line (without or with its newline). -EINVAL with a
 * message in *RET_ERROR (caller frees) naming what was wrong; -ENOMEM. */
int control_parse_request(const char *line, ControlCommand *ret, char **ret_error);

/* The peer of a connection: its credentials and supplementary groups. */
typedef struct ControlPeer {
        uid_t uid;
        gid_t gid;
        const gid_t *groups;
        size_t n_groups;
} ControlPeer;

/* Whether PEER may run CMD: commands that change state (reload) need uid
 * 0; reading (status) is allowed to uid 0 and, when HAVE_READ_GROUP, to
 * members of READ_GROUP (primary or supplementary). 0, or -EPERM with a
 * static reason in *RET_WHY. Pure. */
int control_authorize(ControlCommand cmd, const ControlPeer *peer, bool have_read_group, gid_t read_group,
                      const char **ret_why);

/* The "Groups:" line of a /proc/PID/status text: -ENOENT without one,
 * -EINVAL for a field that is not a gid, -ENOMEM. */
int control_parse_groups(const char *status_text, gid_t **ret, size_t *ret_n);

/* control.read_group: "" -> none (*RET_SET false); a number; or a group
 * name looked up with getgrnam(). -EINVAL/-ENOENT with a message. */
int control_resolve_group(const char *name, bool *ret_set, gid_t *ret_gid, char **ret_error);

/* {"ok":false,"error":MSG} as a compact line (no newline); caller frees. */
char *control_error_line(const char *msg);

typedef struct ControlServer ControlServer;
/* Answers CMD: fills *RET_RESPONSE with the whole response object
 * ({"ok":...}); returning < 0 answers with a generic error. */
typedef int (*ControlHandler)(ControlCommand cmd, void *userdata, json_object **ret_response);

/* Binds PATH (its directory made 0755 if missing, a stale socket
 * replaced), mode 0660, group READ_GROUP when HAVE_READ_GROUP else root.
 * PROCFS: where /PID/status is read for supplementary groups. */
int control_server_new(sd_event *e, const char *path, bool have_read_group, gid_t read_group, const char *procfs,
                       ControlHandler handler, void *userdata, ControlServer **ret, char **ret_error);
/* A new control.read_group (reload): the socket's group and the check. */
int control_server_set_group(ControlServer *s, bool have_read_group, gid_t read_group);
const char *control_server_path(const ControlServer *s);
/* Closes every connection and the socket, removes its file; accepts NULL. */
ControlServer *control_server_free(ControlServer *s);

/* Client: connects to PATH, sends REQUEST (one line), reads the response
 * line into *RET_RESPONSE. On failure -errno and a message for the
 * operator in *RET_ERROR (a daemon not running is said plainly). */
int control_call(const char *path, const char *request, int timeout_ms, char **ret_response, char **ret_error);
