/* SPDX-License-Identifier: MIT */
/* tierd-oci-hook's input (hook/oci.h): the OCI state a runtime writes
 * and the bundle's config.json, whose annotations a pod author writes.
 * Input "STATE\0CONFIG":
 *  - hook_parse_state() and hook_parse_config(): 0 or -EINVAL with a
 *    reason; at most HOOK_MAX_ANNOTATIONS kept;
 *  - hook_cgroup_path(linux.cgroupsPath): a relative path without "."
 *    or ".." segments, or -EINVAL;
 *  - hook_plan() on that path (or a pod's): the pod's cgroup is the
 *    container's or a prefix of it, each write is a trusted.tierd.pod.KEY
 *    of a policy key or one of the trusted.tierd.k8s.* names (the
 *    containers' stash on the pod's cgroup, whole lines), and names
 *    recorded are DNS names;
 *  - the same configuration as a stash read back (a container of a
 *    runtime that gives the annotations to the sandbox only): the same
 *    properties. */
#include "fuzz.h"

#include <errno.h>

#include "annotations.h"
#include "oci.h"

static bool has_dot_segment(const char *p) {
        for (const char *seg = p;;) {
                size_t l = strcspn(seg, "/");

                if (l == 0 || (l == 1 && seg[0] == '.') || (l == 2 && seg[0] == '.' && seg[1] == '.'))
                        return true;
                if (!seg[l])
                        return false;
                seg += l + 1;
        }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        _cleanup_free_ char *state = NULL, *path = NULL;
        HookInput in = { 0 };
        HookPlan plan = { 0 };
        const char *why = NULL;
        char *config;
        int r;

        if (fuzz_split(data, size, &state, &config) < 0)
                return 0;
        r = hook_parse_state(state, &in, &why);
        FUZZ_CHECK(r == 0 || (r == -EINVAL && why));
        r = hook_parse_config(config, &in, &why);
        FUZZ_CHECK(r == 0 || (r == -EINVAL && why));
        FUZZ_CHECK(in.n_annotations <= HOOK_MAX_ANNOTATIONS);

        if (in.cgroups_path) {
                r = hook_cgroup_path(in.cgroups_path, &path);
                FUZZ_CHECK(r == 0 || r == -EINVAL);
                if (r == 0)
                        FUZZ_CHECK(path[0] != '/' && (!path[0] || !has_dot_segment(path)));
        }
        r = hook_plan(&in, path && path[0] ? path : "kubepods/pod1/ctr", &plan);
        for (size_t i = 0; r == 0 && i < plan.n_writes; i++)
                if (strcmp(plan.writes[i].attr, ANNOTATION_K8S_PREFIX "containers") == 0 && !in.stash)
                        in.stash = strdup(plan.writes[i].value);
        FUZZ_CHECK(r == 0);
        FUZZ_CHECK(strncmp(plan.container_cgroup, plan.pod_cgroup, strlen(plan.pod_cgroup)) == 0);
        FUZZ_CHECK(plan.n_writes <= HOOK_MAX_WRITES);
        FUZZ_CHECK(plan.n_pod_errors <= HOOK_MAX_ERRORS && plan.n_container_errors <= HOOK_MAX_ERRORS);
        for (size_t i = 0; i < plan.n_writes; i++) {
                const HookWrite *w = &plan.writes[i];

                if (strncmp(w->attr, ANNOTATION_POD_PREFIX, strlen(ANNOTATION_POD_PREFIX)) == 0)
                        FUZZ_CHECK(pod_field_of_key(w->attr + strlen(ANNOTATION_POD_PREFIX)) >= 0 &&
                                   strlen(w->value) < ANNOTATION_VALUE_MAX);
                else
                        FUZZ_CHECK(strcmp(w->attr, ANNOTATION_K8S_PREFIX "pod") == 0 ||
                                   strcmp(w->attr, ANNOTATION_K8S_PREFIX "namespace") == 0 ||
                                   strcmp(w->attr, ANNOTATION_K8S_PREFIX "container") == 0 ||
                                   (strcmp(w->attr, ANNOTATION_K8S_PREFIX "containers") == 0 && w->pod &&
                                    w->value[strlen(w->value) - 1] == '\n'));
        }
        FUZZ_CHECK(!plan.ns[0] || pod_dns_label_valid(plan.ns));
        FUZZ_CHECK(!plan.container[0] || pod_dns_label_valid(plan.container));
        hook_plan_done(&plan);

        /* the stash read back by a container "web" without annotations */
        if (in.stash) {
                HookInput in2 = { .stash = TAKE_PTR(in.stash), .n_annotations = 1 };

                in2.annotations[0].name = strdup("io.kubernetes.container.name");
                in2.annotations[0].value = strdup("web");
                FUZZ_CHECK(in2.annotations[0].name && in2.annotations[0].value);
                FUZZ_CHECK(hook_plan(&in2, "kubepods/pod1/ctr", &plan) == 0);
                for (size_t i = 0; i < plan.n_writes; i++)
                        FUZZ_CHECK(!plan.writes[i].pod || strcmp(plan.writes[i].attr, ANNOTATION_K8S_PREFIX "containers"));
                hook_plan_done(&plan);
                hook_input_done(&in2);
        }
        hook_input_done(&in);
        return 0;
}
