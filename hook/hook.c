/* SPDX-License-Identifier: MIT */
/* The OCI hook's I/O; see hook.h. */
#include "hook.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/xattr.h>

#include "annotations.h"
#include "procpid.h"
#include "util.h"

#define STATE_MAX (1u << 20)
#define CONFIG_MAX (16u << 20)

int hook_read_input(int fd, HookInput *ret, const char **ret_why) {
        _cleanup_free_ char *state = NULL, *config = NULL, *path = NULL;
        _cleanup_close_ int cfd = -1;
        const char *why = NULL;
        size_t size;
        int r;

        r = read_full_fd(fd, STATE_MAX, &state, &size);
        if (r < 0) {
                *ret_why = "cannot read the OCI state on stdin";
                return r;
        }
        r = hook_parse_state(state, ret, ret_why);
        if (r < 0)
                return r;
        if (!ret->bundle || ret->bundle[0] != '/')
                return 0;
        if (asprintf(&path, "%s/config.json", ret->bundle) < 0)
                return -ENOMEM;
        cfd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
        if (cfd < 0 || read_full_fd(cfd, CONFIG_MAX, &config, &size) < 0)
                return 0; /* the state's annotations and /proc then */
        r = hook_parse_config(config, ret, &why);
        return r == -ENOMEM ? r : 0;
}

static bool is_dir_at(int root_fd, const char *path) {
        struct stat st;

        if (!*path)
                return false; /* never the root cgroup */
        return fstatat(root_fd, path, &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISDIR(st.st_mode);
}

int hook_find_cgroup(const HookInput *in, int root_fd, const char *proc_root, char **ret) {
        _cleanup_free_ char *path = NULL, *text = NULL, *rel = NULL, *file = NULL;
        int r;

        if (in->cgroups_path && hook_cgroup_path(in->cgroups_path, &path) >= 0 && is_dir_at(root_fd, path)) {
                *ret = TAKE_PTR(path);
                return 0;
        }
        if (in->pid <= 0)
                return -ENOENT;
        if (asprintf(&file, "/%d/cgroup", (int) in->pid) < 0)
                return -ENOMEM;
        r = read_full_file(proc_root, file, &text, NULL);
        if (r < 0)
                return r == -ENOMEM ? r : -ENOENT;
        r = proc_parse_cgroup(text, &rel);
        if (r < 0)
                return r == -ENOMEM ? r : -ENOENT;
        path = strdup(rel[0] == '/' ? rel + 1 : rel);
        if (!path)
                return -ENOMEM;
        if (!is_dir_at(root_fd, path) || strstr(path, ".."))
                return -ENOENT;
        *ret = TAKE_PTR(path);
        return 0;
}

int hook_read_stash(int root_fd, const char *pod_cgroup, HookInput *in) {
        _cleanup_close_ int fd = -1;
        char buf[HOOK_STASH_MAX];
        ssize_t n;

        fd = openat(root_fd, pod_cgroup, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
        if (fd < 0)
                return 0;
        n = fgetxattr(fd, ANNOTATION_K8S_PREFIX "containers", buf, sizeof(buf) - 1);
        if (n <= 0)
                return 0;
        buf[n] = '\0';
        free(in->stash);
        in->stash = strdup(buf);
        return in->stash ? 0 : -ENOMEM;
}

int hook_apply(const HookPlan *p, int root_fd, bool *ret_first) {
        _cleanup_close_ int pod_fd = -1, ctr_fd = -1;
        char buf[8];

        *ret_first = false;
        ctr_fd = openat(root_fd, p->container_cgroup, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
        if (ctr_fd < 0)
                return -errno;
        pod_fd = openat(root_fd, p->pod_cgroup, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
        if (pod_fd < 0)
                return -errno;
        *ret_first = strcmp(p->pod_cgroup, p->container_cgroup) == 0 ||
                     (fgetxattr(pod_fd, ANNOTATION_K8S_PREFIX "pod", buf, sizeof(buf)) < 0 && errno == ENODATA);
        for (size_t i = 0; i < p->n_writes; i++) {
                const HookWrite *w = &p->writes[i];

                if (fsetxattr(w->pod ? pod_fd : ctr_fd, w->attr, w->value, strlen(w->value), 0) < 0)
                        return -errno;
        }
        return 0;
}
