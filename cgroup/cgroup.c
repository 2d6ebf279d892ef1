/* SPDX-License-Identifier: MIT */
#include "cgroup.h"

#include <string.h>
#include <sys/xattr.h>

#include "util.h"

/* mountinfo escapes space, tab, newline and backslash as \ooo. */
static char *unescape_octal(const char *s, size_t len) {
        char *out = malloc(len + 1), *o = out;

        if (!out)
                return NULL;
        for (size_t i = 0; i < len; i++) {
                if (s[i] == '\\' && i + 3 < len + 1 && s[i + 1] >= '0' && s[i + 1] <= '3' &&
                    s[i + 2] >= '0' && s[i + 2] <= '7' && s[i + 3] >= '0' && s[i + 3] <= '7') {
                        *o++ = (char) (((s[i + 1] - '0') << 6) | ((s[i + 2] - '0') << 3) | (s[i + 3] - '0'));
                        i += 3;
                } else
                        *o++ = s[i];
        }
        *o = '\0';
        return out;
}

int cgroup_mount_from_mountinfo(const char *mountinfo, char **ret_path) {
        const char *line = mountinfo;

        while (line && *line) {
                const char *eol = strchr(line, '\n');
                size_t len = eol ? (size_t) (eol - line) : strlen(line);
                const char *sep = NULL;

                /* Fields: id parent maj:min root mountpoint opts [optional...] - fstype source superopts */
                for (const char *p = line; p + 3 <= line + len; p++)
                        if (p[0] == ' ' && p[1] == '-' && p[2] == ' ') {
                                sep = p;
                                break;
                        }
                if (sep && strncmp(sep + 3, "cgroup2 ", 8) == 0) {
                        const char *p = line;
                        int field = 0;

                        while (field < 4 && p < sep) {
                                p = memchr(p, ' ', (size_t) (sep - p));
                                if (!p)
                                        break;
                                p++;
                                field++;
                        }
                        if (p && field == 4) {
                                const char *end = memchr(p, ' ', (size_t) (sep - p) + 1);
                                char *path;

                                if (!end)
                                        return -EINVAL;
                                path = unescape_octal(p, (size_t) (end - p));
                                if (!path)
                                        return -ENOMEM;
                                *ret_path = path;
                                return 0;
                        }
                }
                line = eol ? eol + 1 : NULL;
        }
        return -ENOENT;
}

int cgroup_find_mount(const char *proc_root, char **ret_path) {
        _cleanup_free_ char *data = NULL;
        int r;

        r = read_full_file(proc_root, "/self/mountinfo", &data, NULL);
        if (r < 0)
                return r;
        return cgroup_mount_from_mountinfo(data, ret_path);
}

int cgroup_xattr_supported(const char *path, const char *prefix) {
        char name[64];

        snprintf(name, sizeof(name), "%stierd.probe-absent", prefix);
        if (getxattr(path, name, NULL, 0) >= 0)
                return 1; /* somebody set it: the namespace works */
        switch (errno) {
        case ENODATA:
                return 1;
        case ENOTSUP:
                return 0;
        default:
                return -errno;
        }
}

int cgroup_has_controller(const char *path, const char *controller, bool subtree) {
        _cleanup_free_ char *line = NULL, *file = NULL;
        char *save = NULL;
        int r;

        if (asprintf(&file, "%s/%s", path, subtree ? "cgroup.subtree_control" : "cgroup.controllers") < 0)
                return -ENOMEM;
        r = read_one_line(NULL, file, &line);
        if (r < 0)
                return r;
        for (char *tok = strtok_r(line, " ", &save); tok; tok = strtok_r(NULL, " ", &save))
                if (strcmp(tok, controller) == 0)
                        return 1;
        return 0;
}
