/* SPDX-License-Identifier: MIT */
#include "annotations.h"

#include <fcntl.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <sys/xattr.h>

#include "util.h"

#define TRUSTED_PREFIX "trusted.tierd."
#define USER_PREFIX "user.tierd."

static int read_one(AnnotationGetFn get, void *userdata, const char *attr, Annotation *out) {
        char buf[ANNOTATION_VALUE_MAX];
        ssize_t n;

        n = get(attr, buf, sizeof(buf) - 1, userdata);
        if (n < 0) {
                if (n == -ERANGE) {
                        /* longer than any valid value: keep it visible as invalid */
                        out->truncated = true;
                        n = 0;
                } else
                        return (int) n;
        }
        buf[n] = '\0';
        /* values written by `echo` style tools may end in a newline */
        while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == ' '))
                buf[--n] = '\0';
        memcpy(out->value, buf, (size_t) n + 1);
        return 0;
}

/* systemd's parse_boolean(), its true half. */
static bool is_true(const char *v) {
        static const char *const yes[] = { "1", "yes", "y", "true", "t", "on" };

        for (size_t i = 0; i < ELEMENTSOF(yes); i++)
                if (strcasecmp(v, yes[i]) == 0)
                        return true;
        return false;
}

/* trusted.delegate / user.delegate: systemd marks the cgroup of a unit
 * with Delegate=yes (and other managers may do the same). Anything but a
 * true value leaves the cgroup as it is. */
static int read_delegate(AnnotationGetFn get, void *userdata, const char *attr, Annotations *ret) {
        Annotation tmp = { 0 };
        int r = read_one(get, userdata, attr, &tmp);

        if (r == -ENODATA)
                return 0;
        if (r < 0)
                return r;
        if (!tmp.truncated && is_true(tmp.value))
                ret->delegate = true;
        return 0;
}

/* trusted.tierd.k8s.NAME into the identity; unknown names are ignored. */
static int read_k8s(AnnotationGetFn get, void *userdata, const char *attr, Annotations *ret) {
        const char *name = attr + strlen(ANNOTATION_K8S_PREFIX);
        char buf[K8S_NAME_MAX + 1], *dst;
        size_t size;
        ssize_t n;

        if (strcmp(name, "pod") == 0)
                dst = ret->k8s.pod, size = sizeof(ret->k8s.pod);
        else if (strcmp(name, "namespace") == 0)
                dst = ret->k8s.namespace_, size = sizeof(ret->k8s.namespace_);
        else if (strcmp(name, "container") == 0)
                dst = ret->k8s.container, size = sizeof(ret->k8s.container);
        else
                return 0;
        n = get(attr, buf, size - 1, userdata);
        if (n == -ENODATA || n == -ERANGE)
                return 0; /* gone, or longer than Kubernetes allows: not a name */
        if (n < 0)
                return (int) n;
        memcpy(dst, buf, (size_t) n);
        dst[n] = '\0';
        return 0;
}

int annotations_parse(const char *list, size_t size, AnnotationGetFn get, void *userdata, Annotations *ret) {
        for (const char *p = list; p < list + size; p += strnlen(p, (size_t) (list + size - p)) + 1) {
                bool trusted, user, pod;
                const char *key;
                Annotation *a;
                int r;

                /* the kernel ends every name with a NUL; a last name
                 * without one is not read past the list */
                if (!memchr(p, '\0', (size_t) (list + size - p)))
                        break;
                if (strcmp(p, "trusted.delegate") == 0 || strcmp(p, "user.delegate") == 0) {
                        r = read_delegate(get, userdata, p, ret);
                        if (r < 0)
                                return r;
                        continue;
                }
                if (strncmp(p, ANNOTATION_K8S_PREFIX, strlen(ANNOTATION_K8S_PREFIX)) == 0) {
                        r = read_k8s(get, userdata, p, ret);
                        if (r < 0)
                                return r;
                        continue;
                }
                pod = strncmp(p, ANNOTATION_POD_PREFIX, strlen(ANNOTATION_POD_PREFIX)) == 0;
                trusted = strncmp(p, TRUSTED_PREFIX, strlen(TRUSTED_PREFIX)) == 0;
                user = strncmp(p, USER_PREFIX, strlen(USER_PREFIX)) == 0;
                if (!trusted && !user)
                        continue;
                key = p + (pod ? strlen(ANNOTATION_POD_PREFIX) : trusted ? strlen(TRUSTED_PREFIX) : strlen(USER_PREFIX));
                if (ret->n >= ANNOTATIONS_MAX) {
                        ret->dropped++;
                        continue;
                }
                a = &ret->items[ret->n];
                *a = (Annotation) { .trusted = trusted, .pod = pod };
                if (strlen(key) >= sizeof(a->key)) {
                        a->truncated = true;
                        snprintf(a->key, sizeof(a->key), "%.*s", (int) sizeof(a->key) - 1, key);
                } else
                        snprintf(a->key, sizeof(a->key), "%s", key);
                r = read_one(get, userdata, p, a);
                if (r == -ENODATA)
                        continue; /* removed between list and get */
                if (r < 0)
                        return r;
                ret->n++;
        }
        return 0;
}

static ssize_t get_fd(const char *attr, char *buf, size_t size, void *userdata) {
        ssize_t n = fgetxattr(*(const int *) userdata, attr, buf, size);

        return n < 0 ? -errno : n;
}

int annotations_read_at(int dir_fd, const char *name, Annotations *ret) {
        _cleanup_close_ int fd = -1;
        _cleanup_free_ char *list = NULL;
        struct stat st;
        ssize_t size;

        *ret = (Annotations) { 0 };
        fd = openat(dir_fd, name, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (fd < 0)
                return -errno;
        if (fstat(fd, &st) < 0)
                return -errno;
        ret->owner = st.st_uid;

        for (;;) {
                size = flistxattr(fd, NULL, 0);
                if (size < 0)
                        return errno == ENOTSUP ? 0 : -errno;
                if (size == 0)
                        return 0;
                free(list);
                list = malloc((size_t) size);
                if (!list)
                        return -ENOMEM;
                size = flistxattr(fd, list, (size_t) size);
                if (size >= 0)
                        break;
                if (errno != ERANGE) /* grew between the calls: retry */
                        return -errno;
        }

        return annotations_parse(list, (size_t) size, get_fd, &fd, ret);
}

int annotations_read(const char *path, Annotations *ret) {
        return annotations_read_at(AT_FDCWD, path, ret);
}

const Annotation *annotations_get(const Annotations *a, const char *key, bool trusted) {
        for (int i = 0; i < a->n; i++)
                if (a->items[i].trusted == trusted && !a->items[i].pod && strcmp(a->items[i].key, key) == 0)
                        return &a->items[i];
        return NULL;
}

const Annotation *annotations_get_pod(const Annotations *a, const char *key) {
        for (int i = 0; i < a->n; i++)
                if (a->items[i].pod && strcmp(a->items[i].key, key) == 0)
                        return &a->items[i];
        return NULL;
}

int annotation_write(const char *path, const char *key, const char *value, bool trusted) {
        char attr[ANNOTATION_KEY_MAX + 32];

        snprintf(attr, sizeof(attr), "%s%s", trusted ? TRUSTED_PREFIX : USER_PREFIX, key);
        if (!value) {
                if (removexattr(path, attr) < 0 && errno != ENODATA)
                        return -errno;
                return 0;
        }
        if (setxattr(path, attr, value, strlen(value), 0) < 0)
                return -errno;
        return 0;
}
