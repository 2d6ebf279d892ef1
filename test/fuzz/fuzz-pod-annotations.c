/* SPDX-License-Identifier: MIT */
/* A pod's tierd.io/ annotations (config/pods.h), written by pod authors,
 * and cgroup paths as the kubelet names them (cgroup/kube.h), which
 * anyone with a delegated subtree can imitate. Input "NAME\0VALUE":
 *  - pod_annotation_parse(NAME, VALUE): 0 only for a tierd.io/ name whose
 *    key is a policy key (its field number round-trips) and whose
 *    container, if any, is a DNS label; the name rebuilt from the parts is
 *    NAME; -ENOENT exactly for names without the prefix; a reason with
 *    every other failure;
 *  - kube_path_parse(NAME): a pod UID and container ID of the allowed
 *    characters, NUL-terminated in their fields, and the pod's depth in
 *    the path. */
#include "fuzz.h"

#include <errno.h>

#include "kube.h"
#include "pods.h"

static void check_kube(const char *path) {
        KubePath k;
        int r = kube_path_parse(path, &k);

        FUZZ_CHECK(r == 0 || r == -ENOENT);
        if (r < 0) {
                FUZZ_CHECK(k.pod_depth == -1 && !k.pod_uid[0] && !k.container_id[0]);
                return;
        }
        FUZZ_CHECK(k.pod_depth >= 0 && k.pod_uid[0]);
        FUZZ_CHECK(strnlen(k.pod_uid, sizeof(k.pod_uid)) < sizeof(k.pod_uid));
        FUZZ_CHECK(strnlen(k.container_id, sizeof(k.container_id)) < sizeof(k.container_id));
        FUZZ_CHECK(strspn(k.pod_uid, "0123456789abcdefABCDEF-") == strlen(k.pod_uid));
        FUZZ_CHECK(!strchr(k.container_id, '/') && !strchr(k.container_id, '.'));
        FUZZ_CHECK(strstr(path, k.pod_uid) || strchr(path, '_'));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        _cleanup_free_ char *name = NULL;
        const char *why = NULL;
        PodAnnotation a;
        char *value, rebuilt[256], buf[32];
        int r;

        if (fuzz_split(data, size, &name, &value) < 0)
                return 0;
        check_kube(name);

        r = pod_annotation_parse(name, value, &a, &why);
        if (strncmp(name, POD_ANNOTATION_PREFIX, strlen(POD_ANNOTATION_PREFIX)) != 0) {
                FUZZ_CHECK(r == -ENOENT);
                return 0;
        }
        FUZZ_CHECK(r == 0 || ((r == -EINVAL || r == -ERANGE) && why));
        r = pod_annotation_name_parse(name, &a, &why);
        if (r < 0) {
                FUZZ_CHECK(r == -EINVAL && why && !a.key[0] && !a.container[0]);
                return 0;
        }
        FUZZ_CHECK(pod_field_of_key(a.key) >= 0);
        FUZZ_CHECK(strcmp(pod_field_name(pod_field_of_key(a.key), buf, sizeof(buf)), a.key) == 0);
        FUZZ_CHECK(!a.container[0] || pod_dns_label_valid(a.container));
        snprintf(rebuilt, sizeof(rebuilt), "%s%s%s%s", POD_ANNOTATION_PREFIX, a.key, a.container[0] ? "." : "",
                 a.container);
        FUZZ_CHECK(strcmp(rebuilt, name) == 0);
        return 0;
}
