/* SPDX-License-Identifier: MIT */
/* The OCI hook's parsing and plan; see oci.h. Pure: no I/O. */
#include "oci.h"

#include <errno.h>
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "annotations.h"
#include "kube.h"
#include "util.h"

void hook_input_done(HookInput *in) {
        for (size_t i = 0; i < in->n_annotations; i++) {
                free(in->annotations[i].name);
                free(in->annotations[i].value);
        }
        free(in->id);
        free(in->bundle);
        free(in->cgroups_path);
        free(in->stash);
        *in = (HookInput) { 0 };
}

void hook_plan_done(HookPlan *p) {
        free(p->container_cgroup);
        free(p->pod_cgroup);
        *p = (HookPlan) { 0 };
}

static int parse_json(const char *text, json_object **ret, const char **ret_why) {
        json_tokener *tok;
        json_object *o;
        size_t len = strlen(text);

        if (len >= INT32_MAX) {
                *ret_why = "is too large";
                return -EINVAL;
        }
        tok = json_tokener_new();
        if (!tok)
                return -ENOMEM;
        json_tokener_set_flags(tok, JSON_TOKENER_STRICT);
        o = json_tokener_parse_ex(tok, text, (int) len + 1);
        if (!o || json_tokener_get_error(tok) != json_tokener_success || !json_object_is_type(o, json_type_object)) {
                json_tokener_free(tok);
                json_object_put(o);
                *ret_why = "is not a JSON object";
                return -EINVAL;
        }
        json_tokener_free(tok);
        *ret = o;
        return 0;
}

static int dup_string(json_object *o, const char *key, char **ret) {
        json_object *v;

        if (!json_object_object_get_ex(o, key, &v) || !json_object_is_type(v, json_type_string))
                return 0;
        free(*ret);
        *ret = strdup(json_object_get_string(v));
        return *ret ? 1 : -ENOMEM;
}

static int take_annotations(json_object *o, HookInput *in) {
        json_object *a;

        if (!json_object_object_get_ex(o, "annotations", &a) || !json_object_is_type(a, json_type_object))
                return 0;
        for (size_t i = 0; i < in->n_annotations; i++) {
                free(in->annotations[i].name);
                free(in->annotations[i].value);
        }
        in->n_annotations = 0;
        in->dropped = 0;
        json_object_object_foreach(a, key, v) {
                HookAnnotation *x;

                if (!json_object_is_type(v, json_type_string))
                        continue;
                if (in->n_annotations >= HOOK_MAX_ANNOTATIONS) {
                        in->dropped++;
                        continue;
                }
                x = &in->annotations[in->n_annotations];
                x->name = strdup(key);
                x->value = strdup(json_object_get_string(v));
                in->n_annotations++;
                if (!x->name || !x->value)
                        return -ENOMEM;
        }
        return 0;
}

int hook_parse_state(const char *text, HookInput *ret, const char **ret_why) {
        json_object *o = NULL, *pid;
        int r;

        r = parse_json(text, &o, ret_why);
        if (r < 0)
                return r;
        if (json_object_object_get_ex(o, "pid", &pid) && json_object_is_type(pid, json_type_int)) {
                int64_t p = json_object_get_int64(pid);

                ret->pid = p > 0 && p <= INT32_MAX ? (pid_t) p : 0;
        }
        r = dup_string(o, "id", &ret->id);
        if (r >= 0)
                r = dup_string(o, "bundle", &ret->bundle);
        if (r >= 0)
                r = take_annotations(o, ret);
        json_object_put(o);
        return r < 0 ? r : 0;
}

int hook_parse_config(const char *text, HookInput *in, const char **ret_why) {
        json_object *o = NULL, *linux_o;
        int r;

        r = parse_json(text, &o, ret_why);
        if (r < 0)
                return r;
        r = take_annotations(o, in);
        if (r >= 0 && json_object_object_get_ex(o, "linux", &linux_o) && json_object_is_type(linux_o, json_type_object))
                r = dup_string(linux_o, "cgroupsPath", &in->cgroups_path);
        json_object_put(o);
        return r < 0 ? r : 0;
}

/* "a-b-c.slice" -> "a.slice/a-b.slice/a-b-c.slice", as systemd nests
 * slices; "-.slice" -> "". */
static int expand_slice(const char *slice, char **ret) {
        _cleanup_free_ char *out = NULL;
        size_t n = strlen(slice), len = 0, stem;

        if (strcmp(slice, "-.slice") == 0)
                return (*ret = strdup("")) ? 0 : -ENOMEM;
        if (n <= strlen(".slice") || strcmp(slice + n - strlen(".slice"), ".slice") != 0 || strchr(slice, '/'))
                return -EINVAL;
        stem = n - strlen(".slice");
        if (slice[0] == '-' || slice[stem - 1] == '-' || strstr(slice, "--"))
                return -EINVAL;
        out = malloc(n * (n + 1) + 1);
        if (!out)
                return -ENOMEM;
        for (size_t i = 0; i <= stem; i++) {
                if (i < stem && slice[i] != '-')
                        continue;
                len += (size_t) sprintf(out + len, "%s%.*s.slice", len ? "/" : "", (int) i, slice);
        }
        *ret = TAKE_PTR(out);
        return 0;
}

static bool path_safe(const char *p) {
        const char *seg = p;

        for (;;) {
                size_t l = strcspn(seg, "/");

                if ((l == 1 && seg[0] == '.') || (l == 2 && seg[0] == '.' && seg[1] == '.'))
                        return false;
                if (!seg[l])
                        return true;
                seg += l + 1;
        }
}

int hook_cgroup_path(const char *cgroups_path, char **ret) {
        const char *c1 = strchr(cgroups_path, ':'), *c2;
        _cleanup_free_ char *slice = NULL, *unit = NULL, *out = NULL;
        int r;

        if (!c1) {
                const char *p = cgroups_path;
                size_t n;

                while (*p == '/')
                        p++;
                out = strdup(p);
                if (!out)
                        return -ENOMEM;
                n = strlen(out);
                while (n > 0 && out[n - 1] == '/')
                        out[--n] = '\0';
                if (!*out || strstr(out, "//") || !path_safe(out))
                        return -EINVAL;
                *ret = TAKE_PTR(out);
                return 0;
        }
        c2 = strchr(c1 + 1, ':');
        if (!c2 || strchr(c2 + 1, ':') || !c2[1] || strchr(c2 + 1, '/') || memchr(cgroups_path, '/', (size_t) (c2 - cgroups_path)))
                return -EINVAL;
        slice = c1 == cgroups_path ? strdup("system.slice") : strndup(cgroups_path, (size_t) (c1 - cgroups_path));
        if (!slice)
                return -ENOMEM;
        r = expand_slice(slice, &out);
        if (r < 0)
                return r;
        if (strlen(c2 + 1) > strlen(".slice") && strcmp(c2 + 1 + strlen(c2 + 1) - strlen(".slice"), ".slice") == 0)
                unit = strdup(c2 + 1);
        else if (c2 == c1 + 1)
                r = asprintf(&unit, "%s.scope", c2 + 1);
        else
                r = asprintf(&unit, "%.*s-%s.scope", (int) (c2 - c1 - 1), c1 + 1, c2 + 1);
        if (r < 0 || !unit)
                return -ENOMEM;
        if (!path_safe(unit))
                return -EINVAL;
        if (asprintf(ret, "%s%s%s", out, *out ? "/" : "", unit) < 0)
                return -ENOMEM;
        return 0;
}

static const char *annotation(const HookInput *in, const char *name) {
        for (size_t i = 0; i < in->n_annotations; i++)
                if (strcmp(in->annotations[i].name, name) == 0)
                        return in->annotations[i].value;
        return NULL;
}

static const char *first_annotation(const HookInput *in, const char *a, const char *b) {
        const char *v = annotation(in, a);

        return v ? v : annotation(in, b);
}

/* A pod name: a DNS subdomain ([a-z0-9.-], at most 253). */
static bool subdomain_valid(const char *s) {
        size_t n = strlen(s);

        if (n == 0 || n >= POD_NAME_MAX)
                return false;
        return strspn(s, "abcdefghijklmnopqrstuvwxyz0123456789.-") == n;
}

static void add_error(char errors[][192], size_t *n, const char *name, const char *value, const char *why) {
        if (*n >= HOOK_MAX_ERRORS)
                return;
        snprintf(errors[(*n)++], 192, "%.80s=%.48s: %s", name, value, why);
}

static void add_write(HookPlan *p, bool pod, const char *prefix, const char *key, const char *value) {
        HookWrite *w = NULL;

        for (size_t i = 0; i < p->n_writes; i++)
                if (p->writes[i].pod == pod && strcmp(p->writes[i].attr + strlen(prefix), key) == 0 &&
                    strncmp(p->writes[i].attr, prefix, strlen(prefix)) == 0)
                        w = &p->writes[i];
        if (!w) {
                if (p->n_writes >= HOOK_MAX_WRITES)
                        return;
                w = &p->writes[p->n_writes++];
        }
        w->pod = pod;
        snprintf(w->attr, sizeof(w->attr), "%s%s", prefix, key);
        snprintf(w->value, sizeof(w->value), "%s", value);
}

/* The value of whichever of A (containerd's own key) and B (the one CRI-O
 * takes from the kubelet's labels) the configuration has. Each runtime
 * writes its own key after the pod's annotations, so that one is the
 * runtime's word; but CRI-O copies the pod's annotations into every
 * configuration of the pod, so a pod author can add containerd's key with
 * any value (and containerd passes on what its pod_annotations list lets
 * through). When both are there and differ, neither is taken: NULL, and
 * the plan's identity_error says which. */
static const char *runtime_name(const HookInput *in, const char *a, const char *b, HookPlan *p) {
        const char *va = annotation(in, a), *vb = annotation(in, b);
        size_t len = strlen(p->identity_error);

        if (!va || !vb || strcmp(va, vb) == 0)
                return va ? va : vb;
        snprintf(p->identity_error + len, sizeof(p->identity_error) - len, "%s%s=%.64s but %s=%.64s",
                 len ? "; " : "", a, va, b, vb);
        return NULL;
}

static void plan_identity(const HookInput *in, HookPlan *p) {
        const char *pod = runtime_name(in, "io.kubernetes.cri.sandbox-name", "io.kubernetes.pod.name", p);
        const char *ns = runtime_name(in, "io.kubernetes.cri.sandbox-namespace", "io.kubernetes.pod.namespace", p);
        const char *ctr = runtime_name(in, "io.kubernetes.cri.container-name", "io.kubernetes.container.name", p);
        const char *type = first_annotation(in, "io.kubernetes.cri.container-type", "io.kubernetes.cri-o.ContainerType");

        p->sandbox = (type && strcmp(type, "sandbox") == 0) || (ctr && strcmp(ctr, "POD") == 0);
        if (pod && subdomain_valid(pod))
                snprintf(p->pod, sizeof(p->pod), "%s", pod);
        if (ns && pod_dns_label_valid(ns))
                snprintf(p->ns, sizeof(p->ns), "%s", ns);
        if (ctr && !p->sandbox && pod_dns_label_valid(ctr))
                snprintf(p->container, sizeof(p->container), "%s", ctr);
}

int hook_pod_cgroup(const char *cgroup, char **ret) {
        KubePath k;

        if (kube_path_parse(cgroup, &k) == 0 && k.container_id[0]) {
                const char *end = cgroup;

                for (int d = 0; d <= k.pod_depth; d++)
                        end += strcspn(end, "/") + (d < k.pod_depth);
                *ret = strndup(cgroup, (size_t) (end - cgroup));
        } else
                *ret = strdup(cgroup);
        return *ret ? 0 : -ENOMEM;
}

/* The container-scoped annotations of IN, valid ones only, as stash lines. */
static void make_stash(const HookInput *in, char *buf, size_t size) {
        size_t len = 0;

        buf[0] = '\0';
        for (size_t i = 0; i < in->n_annotations; i++) {
                const HookAnnotation *a = &in->annotations[i];
                const char *why;
                PodAnnotation pa;
                int n;

                if (pod_annotation_parse(a->name, a->value, &pa, &why) < 0 || !pa.container[0] ||
                    strlen(a->value) >= ANNOTATION_VALUE_MAX)
                        continue;
                n = snprintf(buf + len, size - len, "%s=%s\n", a->name, a->value);
                if (n < 0 || (size_t) n >= size - len) {
                        buf[len] = '\0'; /* the ones that fit */
                        return;
                }
                len += (size_t) n;
        }
}

/* The stash's lines as annotations into RET (pointers into BUF, which is
 * modified); how many. */
static size_t parse_stash(char *buf, HookAnnotation *ret, size_t max) {
        size_t n = 0;

        for (char *line = buf, *next; line && *line && n < max; line = next) {
                char *eq;

                next = strchr(line, '\n');
                if (next)
                        *next++ = '\0';
                eq = strchr(line, '=');
                if (!eq)
                        continue;
                *eq = '\0';
                ret[n++] = (HookAnnotation) { .name = line, .value = eq + 1 };
        }
        return n;
}

int hook_plan(const HookInput *in, const char *cgroup, HookPlan *ret) {
        _cleanup_free_ HookAnnotation *stashed = NULL;
        _cleanup_free_ char *stash_copy = NULL;
        char stash[HOOK_STASH_MAX];
        size_t n_stashed = 0;
        bool separate;

        *ret = (HookPlan) { 0 };
        ret->container_cgroup = strdup(cgroup);
        if (!ret->container_cgroup)
                return -ENOMEM;
        if (hook_pod_cgroup(cgroup, &ret->pod_cgroup) < 0)
                return -ENOMEM;
        separate = strcmp(ret->pod_cgroup, ret->container_cgroup) != 0;
        plan_identity(in, ret);

        if (ret->pod[0])
                add_write(ret, true, ANNOTATION_K8S_PREFIX, "pod", ret->pod);
        if (ret->ns[0])
                add_write(ret, true, ANNOTATION_K8S_PREFIX, "namespace", ret->ns);
        if (ret->container[0])
                add_write(ret, false, ANNOTATION_K8S_PREFIX, "container", ret->container);
        /* the container-scoped ones for the containers to come; and, when
         * this configuration has none, this container's from the stash */
        make_stash(in, stash, sizeof(stash));
        if (stash[0] && separate)
                add_write(ret, true, ANNOTATION_K8S_PREFIX, "containers", stash);
        if (!stash[0] && in->stash && ret->container[0]) {
                stash_copy = strdup(in->stash);
                stashed = calloc(HOOK_MAX_ANNOTATIONS, sizeof(*stashed));
                if (!stash_copy || !stashed)
                        return -ENOMEM;
                n_stashed = parse_stash(stash_copy, stashed, HOOK_MAX_ANNOTATIONS);
        }

        /* the pod's keys first, so that a container's own replace them when
         * both land on one cgroup; bad names count as the pod's */
        for (int pass = 0; pass < 2; pass++)
                for (size_t i = 0; i < in->n_annotations + (pass ? n_stashed : 0); i++) {
                        const HookAnnotation *a = i < in->n_annotations ? &in->annotations[i]
                                                                        : &stashed[i - in->n_annotations];
                        const char *why = NULL;
                        PodAnnotation pa;
                        int r = pod_annotation_parse(a->name, a->value, &pa, &why);
                        char (*errors)[192] = pass ? ret->container_errors : ret->pod_errors;
                        size_t *n_errors = pass ? &ret->n_container_errors : &ret->n_pod_errors;

                        if (r == -ENOENT || (pass == 0) != !pa.container[0])
                                continue;
                        if (pass == 1 && strcmp(pa.container, ret->container) != 0)
                                continue; /* another container's */
                        if (r == 0 && strlen(a->value) >= ANNOTATION_VALUE_MAX) {
                                r = -EINVAL;
                                why = "is too long";
                        }
                        if (r < 0) {
                                add_error(errors, n_errors, a->name, a->value, why);
                                continue;
                        }
                        add_write(ret, pass == 0 || !separate, ANNOTATION_POD_PREFIX, pa.key, a->value);
                }
        return 0;
}
