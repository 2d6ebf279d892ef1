/* SPDX-License-Identifier: MIT */
/* Kubernetes names from cgroup paths; see kube.h. Pure. */
#include "kube.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "util.h"

static bool starts_with(const char *s, size_t len, const char *prefix) {
        size_t n = strlen(prefix);

        return len >= n && memcmp(s, prefix, n) == 0;
}

static bool ends_with(const char *s, size_t len, const char *suffix) {
        size_t n = strlen(suffix);

        return len >= n && memcmp(s + len - n, suffix, n) == 0;
}

/* A pod UID as the path writes it: hex digits and '-' (cgroupfs) or '_'
 * (systemd, which reserves '-'); copied with '-' for '_'. */
static bool copy_uid(const char *s, size_t len, char *dst, size_t size) {
        if (len == 0 || len >= size)
                return false;
        for (size_t i = 0; i < len; i++) {
                char c = s[i];

                if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F') || c == '-' ||
                      c == '_'))
                        return false;
                dst[i] = c == '_' ? '-' : c;
        }
        dst[len] = '\0';
        return true;
}

/* A container's ID: the segment below the pod, without the runtime's
 * prefix and ".scope"; conmon's scope (CRI-O, podman) is no container. */
static void container_of(const char *s, size_t len, KubePath *ret) {
        static const char *const prefixes[] = { "cri-containerd-", "crio-", "docker-", "cri-dockerd-", "libpod-" };

        if (starts_with(s, len, "crio-conmon-") || starts_with(s, len, "libpod-conmon-"))
                return;
        if (ends_with(s, len, ".scope"))
                len -= strlen(".scope");
        else if (ends_with(s, len, ".slice"))
                return; /* a sub-slice, not a container */
        for (size_t i = 0; i < ELEMENTSOF(prefixes); i++)
                if (starts_with(s, len, prefixes[i])) {
                        s += strlen(prefixes[i]);
                        len -= strlen(prefixes[i]);
                        break;
                }
        if (len == 0 || len >= sizeof(ret->container_id))
                return;
        for (size_t i = 0; i < len; i++)
                if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'z') || (s[i] >= 'A' && s[i] <= 'Z') ||
                      s[i] == '-' || s[i] == '_'))
                        return;
        memcpy(ret->container_id, s, len);
        ret->container_id[len] = '\0';
}

/* systemd driver: "[...]kubepods[-QOS]-pod<UID>.slice"; podman:
 * "machine-libpod_pod_<ID>.slice". */
static bool pod_slice(const char *s, size_t len, KubePath *ret) {
        const char *pod;

        if (!ends_with(s, len, ".slice"))
                return false;
        len -= strlen(".slice");
        if (starts_with(s, len, "machine-libpod_pod_")) {
                if (!copy_uid(s + strlen("machine-libpod_pod_"), len - strlen("machine-libpod_pod_"), ret->pod_uid,
                              sizeof(ret->pod_uid)))
                        return false;
                ret->qos[0] = '\0';
                return true;
        }
        if (!memmem(s, len, "kubepods", strlen("kubepods")))
                return false;
        pod = memmem(s, len, "-pod", 4);
        if (!pod || !copy_uid(pod + 4, len - (size_t) (pod + 4 - s), ret->pod_uid, sizeof(ret->pod_uid)))
                return false;
        if (memmem(s, (size_t) (pod - s) + 1, "-burstable-", strlen("-burstable-")))
                snprintf(ret->qos, sizeof(ret->qos), "burstable");
        else if (memmem(s, (size_t) (pod - s) + 1, "-besteffort-", strlen("-besteffort-")))
                snprintf(ret->qos, sizeof(ret->qos), "besteffort");
        else
                snprintf(ret->qos, sizeof(ret->qos), "guaranteed");
        return true;
}

int kube_path_parse(const char *path, KubePath *ret) {
        bool kubepods = false;
        const char *seg = path;
        int depth = 0;

        *ret = (KubePath) { .pod_depth = -1 };
        while (*seg == '/')
                seg++;
        while (*seg) {
                size_t len = strcspn(seg, "/");

                if (ret->pod_depth >= 0) {
                        if (depth == ret->pod_depth + 1)
                                container_of(seg, len, ret);
                } else if (pod_slice(seg, len, ret))
                        ret->pod_depth = depth;
                else if (len == strlen("kubepods") && memcmp(seg, "kubepods", len) == 0)
                        kubepods = true;
                else if (kubepods && starts_with(seg, len, "pod") &&
                         copy_uid(seg + 3, len - 3, ret->pod_uid, sizeof(ret->pod_uid))) {
                        ret->pod_depth = depth;
                        if (!ret->qos[0])
                                snprintf(ret->qos, sizeof(ret->qos), "guaranteed");
                } else if (kubepods && len == strlen("burstable") && memcmp(seg, "burstable", len) == 0)
                        snprintf(ret->qos, sizeof(ret->qos), "burstable");
                else if (kubepods && len == strlen("besteffort") && memcmp(seg, "besteffort", len) == 0)
                        snprintf(ret->qos, sizeof(ret->qos), "besteffort");
                seg += len;
                while (*seg == '/')
                        seg++;
                depth++;
        }
        if (ret->pod_depth < 0) {
                *ret = (KubePath) { .pod_depth = -1 };
                return -ENOENT;
        }
        return 0;
}
