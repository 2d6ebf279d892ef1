/* SPDX-License-Identifier: MIT */
/* Pods: the tierd.io/ annotation names and values (config/pods.c), the
 * "pods" grants of the configuration, the xattrs the OCI hook records
 * (cgroup/annotations.c), the kubelet's cgroup names (cgroup/kube.c) and
 * the origin "pod" in policy resolution (core/resolve.c). */
#include <check.h>
#include <errno.h>

#include "unit.h"

#include "annotations.h"
#include "config.h"
#include "kube.h"
#include "pods.h"
#include "resolve.h"
#include "util.h"

/* ---- annotation names and values --------------------------------------- */

START_TEST(test_pod_annotation_name_pod_scope) {
        PodAnnotation a;
        const char *why = NULL;

        ck_assert_int_eq(pod_annotation_name_parse("tierd.io/class", &a, &why), 0);
        ck_assert_str_eq(a.key, "class");
        ck_assert_str_eq(a.container, "");
        ck_assert_int_eq(pod_annotation_name_parse("tierd.io/tier0.max", &a, &why), 0);
        ck_assert_str_eq(a.key, "tier0.max");
        ck_assert_str_eq(a.container, "");
        ck_assert_int_eq(pod_annotation_name_parse("tierd.io/promote.rate", &a, &why), 0);
        ck_assert_str_eq(a.key, "promote.rate");
}
END_TEST

START_TEST(test_pod_annotation_name_container_scope) {
        PodAnnotation a;
        const char *why = NULL;

        ck_assert_int_eq(pod_annotation_name_parse("tierd.io/tier0.max.web", &a, &why), 0);
        ck_assert_str_eq(a.key, "tier0.max");
        ck_assert_str_eq(a.container, "web");
        ck_assert_int_eq(pod_annotation_name_parse("tierd.io/class.side-car2", &a, &why), 0);
        ck_assert_str_eq(a.key, "class");
        ck_assert_str_eq(a.container, "side-car2");
        /* a container named like the end of a key is still a container */
        ck_assert_int_eq(pod_annotation_name_parse("tierd.io/mode.max", &a, &why), 0);
        ck_assert_str_eq(a.key, "mode");
        ck_assert_str_eq(a.container, "max");
}
END_TEST

START_TEST(test_pod_annotation_name_not_ours_or_bad) {
        PodAnnotation a;
        const char *why = NULL;

        ck_assert_int_eq(pod_annotation_name_parse("io.kubernetes.pod.name", &a, &why), -ENOENT);
        ck_assert_int_eq(pod_annotation_name_parse("tierd.iox/class", &a, &why), -ENOENT);
        ck_assert_int_eq(pod_annotation_name_parse("class.memtierd.nri.io", &a, &why), -ENOENT);
        ck_assert_int_eq(pod_annotation_name_parse("tierd.io/", &a, &why), -EINVAL);
        ck_assert_str_eq(why, "names no tierd policy key (tierd.io/KEY or tierd.io/KEY.CONTAINER)");
        ck_assert_int_eq(pod_annotation_name_parse("tierd.io/colour", &a, &why), -EINVAL);
        ck_assert_int_eq(pod_annotation_name_parse("tierd.io/tier9.max", &a, &why), -EINVAL);
        ck_assert_int_eq(pod_annotation_name_parse("tierd.io/tier0.max.Web", &a, &why), -EINVAL);
        ck_assert_str_eq(why, "names a container that is not a DNS label ([a-z0-9-], at most 63)");
        ck_assert_int_eq(pod_annotation_name_parse("tierd.io/class.-web", &a, &why), -EINVAL);
        ck_assert_int_eq(pod_annotation_name_parse("tierd.io/class.", &a, &why), -EINVAL);
        ck_assert_int_eq(pod_annotation_name_parse("tierd.io/.web", &a, &why), -EINVAL);
        ck_assert_int_eq(pod_annotation_name_parse(
                "tierd.io/class.aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", &a, &why), -EINVAL);
        ck_assert_str_eq(a.key, ""); /* nothing half-filled on failure */
}
END_TEST

START_TEST(test_pod_annotation_values) {
        PodAnnotation a;
        const char *why = NULL;

        ck_assert_int_eq(pod_annotation_parse("tierd.io/tier0.max", "512M", &a, &why), 0);
        ck_assert_int_eq(pod_annotation_parse("tierd.io/tier0.low.db", "25%", &a, &why), 0);
        ck_assert_int_eq(pod_annotation_parse("tierd.io/class", "latency", &a, &why), 0);
        ck_assert_int_eq(pod_annotation_parse("tierd.io/mode", "observe", &a, &why), 0);
        ck_assert_int_eq(pod_annotation_parse("tierd.io/tier0.max", "12Q", &a, &why), -EINVAL);
        ck_assert_str_eq(why, "is not a size");
        ck_assert_int_eq(pod_annotation_parse("tierd.io/tier0.low", "101%", &a, &why), -ERANGE);
        ck_assert_int_eq(pod_annotation_parse("tierd.io/mode", "fast", &a, &why), -EINVAL);
        ck_assert_int_eq(pod_annotation_parse("tierd.io/class", "no/slash", &a, &why), -EINVAL);
        ck_assert_int_eq(pod_annotation_parse("other/class", "latency", &a, &why), -ENOENT);
}
END_TEST

START_TEST(test_pod_field_numbers_round_trip) {
        char buf[32];

        for (int f = 0; f < POD_FIELDS; f++)
                ck_assert_int_eq(pod_field_of_key(pod_field_name(f, buf, sizeof(buf))), f);
        ck_assert_int_eq(pod_field_of_key("tier1.low"), POD_FIELD_TIER_LOW + 1);
        ck_assert_int_eq(pod_field_of_key("nope"), -1);
}
END_TEST

/* ---- grants in the configuration ---------------------------------------- */

static Config *cfg;
static Resolution *res; /* of the last resolution: the strings of its notes and names */

static void setup(void) {
        char *err = NULL;

        ck_assert_int_eq(config_new_default(&cfg), 0);
        ck_assert_msg(config_apply_json(cfg, "tierd.d/20-pods.json",
                                         "{\"pods\": {\"grants\": ["
                                         " {\"namespaces\": [\"prod-*\", \"db\"], \"classes\": [\"latency\"],"
                                         "  \"keys\": [\"tier0.low\"], \"comment\": \"the shop\"},"
                                         " {\"namespaces\": [\"batch-?\"], \"keys\": [\"tier0.max\", \"demote.rate\"]}"
                                         "]}, \"rules\": ["
                                         " {\"match\": \"**/kubepods.slice/kubepods-burstable.slice\", \"policy\": {\"class\": \"standard\"}},"
                                         " {\"match\": \"**/kubepods.slice/kubepods-burstable.slice/*/*\", \"policy\": {\"tier0.max\": \"1G\"}}"
                                         "]}",
                                         &err) == 0,
                      "config: %s", err ? err : "?");
        free(err);
}

static void teardown(void) {
        res = resolution_free(res);
        cfg = config_free(cfg);
}

START_TEST(test_pod_grants_loaded_and_matched) {
        int latency = config_class_index(cfg, "latency"), critical = config_class_index(cfg, "critical");
        const ConfigPodGrant *g;

        ck_assert_int_eq(cfg->n_pod_grants, 2);
        ck_assert_str_eq(cfg->pod_grants[0].origin, "tierd.d/20-pods.json: pods.grants[0]");
        g = config_pod_grant(cfg, "prod-eu", 0, latency);
        ck_assert_ptr_eq(g, &cfg->pod_grants[0]);
        ck_assert_ptr_eq(config_pod_grant(cfg, "db", 0, latency), &cfg->pod_grants[0]);
        ck_assert_ptr_null(config_pod_grant(cfg, "prod-eu", 0, critical));
        ck_assert_ptr_null(config_pod_grant(cfg, "dev", 0, latency));
        ck_assert_ptr_null(config_pod_grant(cfg, "", 0, latency));
        ck_assert_ptr_null(config_pod_grant(cfg, NULL, 0, latency));
        ck_assert_ptr_eq(config_pod_grant(cfg, "prod-eu", pod_field_of_key("tier0.low"), -1), &cfg->pod_grants[0]);
        ck_assert_ptr_null(config_pod_grant(cfg, "prod-eu", pod_field_of_key("tier0.max"), -1));
        ck_assert_ptr_eq(config_pod_grant(cfg, "batch-1", pod_field_of_key("tier0.max"), -1), &cfg->pod_grants[1]);
        ck_assert_ptr_null(config_pod_grant(cfg, "batch-12", pod_field_of_key("tier0.max"), -1));
}
END_TEST

START_TEST(test_pod_grants_dropins_append) {
        char *err = NULL;

        ck_assert_int_eq(config_apply_json(cfg, "tierd.d/30.json",
                                           "{\"pods\": {\"grants\": [{\"namespaces\": [\"x\"], \"classes\": [\"batch\"]}]}}",
                                           &err), 0);
        ck_assert_int_eq(cfg->n_pod_grants, 3);
        ck_assert_str_eq(cfg->pod_grants[2].origin, "tierd.d/30.json: pods.grants[0]");
}
END_TEST

static void expect_error(const char *json, const char *msg) {
        char *err = NULL;

        ck_assert_int_eq(config_apply_json(cfg, "t.json", json, &err), -EINVAL);
        ck_assert_ptr_nonnull(err);
        ck_assert_msg(strcmp(err, msg) == 0, "got: %s\nwanted: %s", err, msg);
        free(err);
}

START_TEST(test_pod_grants_errors) {
        int before = cfg->n_pod_grants;

        expect_error("{\"pods\": []}", "t.json: pods: expected an object");
        expect_error("{\"pods\": {\"grant\": []}}", "t.json: pods.grant: unknown key");
        expect_error("{\"pods\": {\"grants\": [{\"classes\": [\"latency\"]}]}}",
                     "t.json: pods.grants[0]: a grant needs \"namespaces\" (at least one)");
        expect_error("{\"pods\": {\"grants\": [{\"namespaces\": [\"a\"]}]}}",
                     "t.json: pods.grants[0]: a grant needs \"classes\" or \"keys\" (it grants nothing)");
        expect_error("{\"pods\": {\"grants\": [{\"namespaces\": [\"Prod/x\"], \"classes\": [\"latency\"]}]}}",
                     "t.json: pods.grants[0].namespaces[0]: \"Prod/x\" is not a namespace or a glob of namespaces "
                     "([a-z0-9-] and * ? [...])");
        expect_error("{\"pods\": {\"grants\": [{\"namespaces\": [\"a\"], \"classes\": [\"turbo\"]}]}}",
                     "t.json: pods.grants[0].classes[0]: \"turbo\" is not a defined class");
        expect_error("{\"pods\": {\"grants\": [{\"namespaces\": [\"a\"], \"keys\": [\"class\"]}]}}",
                     "t.json: pods.grants[0].keys[0]: \"class\" is granted with \"classes\", not \"keys\"");
        expect_error("{\"pods\": {\"grants\": [{\"namespaces\": [\"a\"], \"keys\": [\"tier7.max\"]}]}}",
                     "t.json: pods.grants[0].keys[0]: \"tier7.max\" is not a policy key");
        expect_error("{\"pods\": {\"grants\": [{\"namespaces\": \"a\", \"keys\": [\"mode\"]}]}}",
                     "t.json: pods.grants[0].namespaces: expected an array");
        ck_assert_int_eq(cfg->n_pod_grants, before);
}
END_TEST

/* ---- the xattrs the hook records --------------------------------------- */

typedef struct Value {
        const char *attr, *value;
} Value;

static ssize_t get(const char *attr, char *buf, size_t size, void *userdata) {
        for (const Value *v = userdata; v->attr; v++) {
                size_t n;

                if (strcmp(v->attr, attr) != 0)
                        continue;
                n = strlen(v->value);
                if (n > size)
                        return -ERANGE;
                memcpy(buf, v->value, n);
                return (ssize_t) n;
        }
        return -ENODATA;
}

#define LIST(s) s, sizeof(s) - 1

START_TEST(test_pod_xattrs_parsed_apart) {
        static const Value values[] = {
                { "trusted.tierd.pod.class", "latency" },
                { "trusted.tierd.class", "batch" },
                { "trusted.tierd.k8s.pod", "web-5d8f" },
                { "trusted.tierd.k8s.namespace", "prod-eu" },
                { "trusted.tierd.k8s.container", "nginx" },
                { "trusted.tierd.k8s.other", "x" },
                { NULL, NULL },
        };
        Annotations a = { 0 };

        ck_assert_int_eq(annotations_parse(LIST("trusted.tierd.pod.class\0trusted.tierd.class\0trusted.tierd.k8s.pod\0"
                                                "trusted.tierd.k8s.namespace\0trusted.tierd.k8s.container\0"
                                                "trusted.tierd.k8s.other\0"),
                                           get, (void *) values, &a), 0);
        ck_assert_int_eq(a.n, 2);
        ck_assert_str_eq(annotations_get_pod(&a, "class")->value, "latency");
        ck_assert_str_eq(annotations_get(&a, "class", true)->value, "batch");
        ck_assert(annotations_get_pod(&a, "class")->trusted);
        ck_assert_str_eq(a.k8s.pod, "web-5d8f");
        ck_assert_str_eq(a.k8s.namespace_, "prod-eu");
        ck_assert_str_eq(a.k8s.container, "nginx");
}
END_TEST

/* ---- the kubelet's cgroup names ------------------------------------------ */

START_TEST(test_kube_path_systemd_driver) {
        KubePath k;

        ck_assert_int_eq(kube_path_parse("kubepods.slice/kubepods-burstable.slice/"
                                         "kubepods-burstable-pod0e3d7ad6_8c5b_4a4e_9c3e_2f0c9d1b7a11.slice/"
                                         "cri-containerd-4f1c2b3a.scope", &k), 0);
        ck_assert_str_eq(k.qos, "burstable");
        ck_assert_str_eq(k.pod_uid, "0e3d7ad6-8c5b-4a4e-9c3e-2f0c9d1b7a11");
        ck_assert_str_eq(k.container_id, "4f1c2b3a");
        ck_assert_int_eq(k.pod_depth, 2);
        ck_assert_int_eq(kube_path_parse("kubepods.slice/kubepods-pod1234.slice", &k), 0);
        ck_assert_str_eq(k.qos, "guaranteed");
        ck_assert_str_eq(k.pod_uid, "1234");
        ck_assert_str_eq(k.container_id, "");
        ck_assert_int_eq(kube_path_parse("kubepods.slice/kubepods-besteffort.slice/kubepods-besteffort-podab.slice/"
                                         "crio-conmon-99.scope", &k), 0);
        ck_assert_str_eq(k.qos, "besteffort");
        ck_assert_str_eq(k.container_id, ""); /* conmon is no container */
        ck_assert_int_eq(kube_path_parse("kubepods.slice/kubepods-besteffort.slice/kubepods-besteffort-podab.slice/"
                                         "crio-77.scope/init", &k), 0);
        ck_assert_str_eq(k.container_id, "77");
}
END_TEST

START_TEST(test_kube_path_cgroupfs_driver_and_podman) {
        KubePath k;

        ck_assert_int_eq(kube_path_parse("kubepods/besteffort/pod0e3d7ad6-8c5b/4f1c2b3a", &k), 0);
        ck_assert_str_eq(k.qos, "besteffort");
        ck_assert_str_eq(k.pod_uid, "0e3d7ad6-8c5b");
        ck_assert_str_eq(k.container_id, "4f1c2b3a");
        ck_assert_int_eq(kube_path_parse("kubepods/pod77/crio-abc", &k), 0);
        ck_assert_str_eq(k.qos, "guaranteed");
        ck_assert_str_eq(k.container_id, "abc");
        ck_assert_int_eq(kube_path_parse("machine.slice/machine-libpod_pod_5a6b.slice/libpod-c0ffee.scope", &k), 0);
        ck_assert_str_eq(k.pod_uid, "5a6b");
        ck_assert_str_eq(k.container_id, "c0ffee");
        /* podman's IDs are 64 hex digits (as test/vm/test-pods.py's pods have) */
        ck_assert_int_eq(kube_path_parse("machine.slice/machine-libpod_pod_"
                                         "3465427581e877101956f22b656807b7986c286dd9cb531f7d328f2c6ace6387.slice/libpod-"
                                         "085c240d9c1d77945a53a4429fb338c0e6e3b9043c158c43ed62f9eb74f0055b.scope/container",
                                         &k), 0);
        ck_assert_int_eq(k.pod_depth, 1);
        ck_assert_str_eq(k.pod_uid, "3465427581e877101956f22b656807b7986c286dd9cb531f7d328f2c6ace6387");
        ck_assert_str_eq(k.container_id, "085c240d9c1d77945a53a4429fb338c0e6e3b9043c158c43ed62f9eb74f0055b");
        ck_assert_int_eq(kube_path_parse("system.slice/pod1.service", &k), -ENOENT);
        ck_assert_int_eq(kube_path_parse("kubepods", &k), -ENOENT);
        ck_assert_int_eq(kube_path_parse("kubepods/burstable", &k), -ENOENT);
        ck_assert_int_eq(kube_path_parse("other/podxyz", &k), -ENOENT);
        ck_assert_int_eq(kube_path_parse("", &k), -ENOENT);
        ck_assert_int_eq(k.pod_depth, -1);
}
END_TEST

/* ---- the origin "pod" in resolution -------------------------------------- */

#define POD "kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod1.slice"
#define CTR POD "/cri-containerd-1.scope"

static void request(Annotations *a, const char *key, const char *value) {
        Annotation *x = &a->items[a->n++];

        *x = (Annotation) { .trusted = true, .pod = true };
        snprintf(x->key, sizeof(x->key), "%s", key);
        snprintf(x->value, sizeof(x->value), "%s", value);
}

/* root, kubepods.slice, the QoS slice, the pod (with ANN), its container
 * (with CANN) */
static void resolve5(const Annotations *ann, const Annotations *cann, EffectivePolicy out[5]) {
        /* static: the resolution names cgroups by their index into it */
        static ResolveInput in[5];

        in[0] = (ResolveInput) { .path = "", .parent = -1 };
        in[1] = (ResolveInput) { .path = "kubepods.slice", .parent = 0 };
        in[2] = (ResolveInput) { .path = "kubepods.slice/kubepods-burstable.slice", .parent = 1 };
        in[3] = (ResolveInput) { .path = POD, .parent = 2, .annotations = ann };
        in[4] = (ResolveInput) { .path = CTR, .parent = 3, .annotations = cann };

        resolution_free(res);
        ck_assert_ptr_nonnull(res = resolution_new(cfg, NULL, NULL));
        ck_assert_int_eq(resolve_policies(res, in, 5, out), 0);
}

static Annotations pod_in(const char *ns) {
        Annotations a = { 0 };

        snprintf(a.k8s.pod, sizeof(a.k8s.pod), "web");
        snprintf(a.k8s.namespace_, sizeof(a.k8s.namespace_), "%s", ns);
        return a;
}

START_TEST(test_resolve_pod_granted_class) {
        Annotations a = pod_in("prod-eu");
        EffectivePolicy out[5];
        char b[400];

        request(&a, "class", "latency");
        resolve5(&a, NULL, out);
        ck_assert_str_eq(cfg->classes[out[3].class_index].name, "latency");
        ck_assert_int_eq(out[3].class_origin.kind, ORIGIN_POD);
        ck_assert_str_eq(origin_to_string(res, &out[3].class_origin, b, sizeof(b)), "tierd.io pod annotation on " POD);
        ck_assert_str_eq(origin_note(res, &out[3].class_origin),
                         "granted to namespace prod-eu by tierd.d/20-pods.json: pods.grants[0]");
        ck_assert(!out[3].pod_refused);
        ck_assert_int_eq(out[3].pod_root, 3);
        ck_assert_int_eq(out[4].pod_root, 3);
        /* the container inherits the pod's class */
        ck_assert_str_eq(cfg->classes[out[4].class_index].name, "latency");
}
END_TEST

START_TEST(test_resolve_pod_class_refused_without_grant) {
        Annotations a = pod_in("dev");
        EffectivePolicy out[5];

        request(&a, "class", "latency");
        resolve5(&a, NULL, out);
        ck_assert_str_eq(cfg->classes[out[3].class_index].name, "standard");
        ck_assert_int_ne(out[3].class_origin.kind, ORIGIN_POD);
        ck_assert(out[3].pod_refused);
        ck_assert_msg(strstr(origin_note(res, &out[3].class_origin),
                             "tierd.io/class=latency refused: a pod of namespace dev (no pods.grants entry for it) "
                             "cannot raise its class above standard"),
                      "note: %s", origin_note(res, &out[3].class_origin));
        /* a class the grant does not name, in a granted namespace */
        a = pod_in("prod-eu");
        request(&a, "class", "critical");
        resolve5(&a, NULL, out);
        ck_assert_str_eq(cfg->classes[out[3].class_index].name, "standard");
        ck_assert(out[3].pod_refused);
}
END_TEST

START_TEST(test_resolve_pod_may_tighten_without_grant) {
        Annotations a = pod_in("dev");
        EffectivePolicy out[5];

        request(&a, "class", "batch");
        request(&a, "tier0.max", "256M");
        request(&a, "mode", "enforce");
        resolve5(&a, NULL, out);
        ck_assert_str_eq(cfg->classes[out[3].class_index].name, "batch");
        ck_assert_int_eq(out[3].class_origin.kind, ORIGIN_POD);
        ck_assert_uint_eq(out[3].tier_max[0].bytes, 256u << 20);
        ck_assert_int_eq(out[3].tier_max[0].origin.kind, ORIGIN_POD);
        ck_assert(!out[3].pod_refused);
        /* the container below is clamped to the pod's limit */
        ck_assert_uint_eq(out[4].tier_max[0].bytes, 256u << 20);
}
END_TEST

START_TEST(test_resolve_pod_keys_refused_or_granted) {
        Annotations a = pod_in("dev"), c = { 0 };
        EffectivePolicy out[5];

        /* the rule gives the container 1G; without a grant it cannot ask for 2G */
        request(&c, "tier0.max", "2G");
        request(&c, "tier0.low", "64M");
        request(&c, "demote.rate", "1M");
        resolve5(&a, &c, out);
        ck_assert_uint_eq(out[4].tier_max[0].bytes, 1u << 30);
        ck_assert_int_eq(out[4].tier_max[0].origin.kind, ORIGIN_RULE);
        ck_assert(strstr(origin_note(res, &out[4].tier_max[0].origin), "tierd.io/tier0.max=2G refused"));
        ck_assert_uint_eq(out[4].tier_low[0].bytes, 0);
        ck_assert(strstr(origin_note(res, &out[4].tier_low[0].origin), "tierd.io/tier0.low=64M refused"));
        ck_assert(strstr(origin_note(res, &out[4].demote_rate.origin), "demotion quotas are not delegable"));
        ck_assert(out[4].pod_refused);
        ck_assert(!out[3].pod_refused);

        /* batch-1 may set tier0.max and demote.rate to anything */
        a = pod_in("batch-1");
        resolve5(&a, &c, out);
        ck_assert_uint_eq(out[4].tier_max[0].bytes, 2u << 30);
        ck_assert_int_eq(out[4].tier_max[0].origin.kind, ORIGIN_POD);
        ck_assert_uint_eq(out[4].demote_rate.value.bytes, 1u << 20);
        ck_assert_uint_eq(out[4].tier_low[0].bytes, 0); /* tier0.low is not granted to batch-* */
        ck_assert(out[4].pod_refused);
}
END_TEST

START_TEST(test_resolve_pod_without_namespace_and_trusted_wins) {
        Annotations a = { 0 };
        EffectivePolicy out[5];

        request(&a, "class", "latency");
        resolve5(&a, NULL, out);
        ck_assert_str_eq(cfg->classes[out[3].class_index].name, "standard");
        ck_assert(strstr(origin_note(res, &out[3].class_origin), "a pod whose namespace is not recorded"));
        ck_assert_int_eq(out[3].pod_root, -1);

        a = pod_in("prod-eu");
        request(&a, "class", "latency");
        {
                Annotation *x = &a.items[a.n++];

                *x = (Annotation) { .trusted = true };
                snprintf(x->key, sizeof(x->key), "class");
                snprintf(x->value, sizeof(x->value), "batch");
        }
        resolve5(&a, NULL, out);
        ck_assert_str_eq(cfg->classes[out[3].class_index].name, "batch");
        ck_assert_int_eq(out[3].class_origin.kind, ORIGIN_TRUSTED);
}
END_TEST

START_TEST(test_resolve_pod_no_grant_in_delegated_subtree) {
        Annotations a = pod_in("prod-eu");
        ResolveInput in[3] = {
                { .path = "", .parent = -1 },
                { .path = "user.slice/user-1000.slice/user@1000.service", .parent = 0, .owner = 1000 },
                { .path = "user.slice/user-1000.slice/user@1000.service/pod", .parent = 1, .owner = 1000,
                  .annotations = &a },
        };
        EffectivePolicy out[3];

        request(&a, "class", "latency");
        resolution_free(res);
        ck_assert_ptr_nonnull(res = resolution_new(cfg, NULL, NULL));
        ck_assert_int_eq(resolve_policies(res, in, 3, out), 0);
        ck_assert_str_eq(cfg->classes[out[2].class_index].name, "standard");
        ck_assert(out[2].pod_refused);
        ck_assert(strstr(origin_note(res, &out[2].class_origin), "a pod in a delegated subtree"));
}
END_TEST

START_TEST(test_resolve_pod_bad_value_reported) {
        Annotations a = pod_in("prod-eu");
        EffectivePolicy out[5];

        request(&a, "tier0.max", "12Q");
        request(&a, "class", "turbo");
        resolve5(&a, NULL, out);
        ck_assert_int_eq(out[3].n_errors, 2);
        ck_assert_str_eq(resolve_error(res, &out[3], 0), POD ": tierd.io/tier0.max: \"12Q\" is not a size");
        ck_assert_str_eq(resolve_error(res, &out[3], 1),
                         POD ": tierd.io/class: \"turbo\" is not a class defined in the configuration");
        ck_assert_uint_eq(out[3].tier_max[0].bytes, UINT64_MAX);
}
END_TEST

/* The names come from the pod's cgroup (namespace, pod) and from the
 * nearest cgroup up to it that names a container; each cgroup keeps only
 * their indices into the resolution's strings. */
START_TEST(test_resolve_pod_identity) {
        Annotations a = pod_in("prod-eu"), c = { 0 };
        EffectivePolicy out[5];
        K8sIdentity id;

        snprintf(c.k8s.container, sizeof(c.k8s.container), "app");
        resolve5(&a, &c, out);
        resolve_pod_identity(res, &out[2], &id);
        ck_assert_str_eq(id.pod, "");
        ck_assert_str_eq(id.namespace_, "");
        resolve_pod_identity(res, &out[3], &id);
        ck_assert_str_eq(id.pod, "web");
        ck_assert_str_eq(id.namespace_, "prod-eu");
        ck_assert_str_eq(id.container, "");
        resolve_pod_identity(res, &out[4], &id);
        ck_assert_str_eq(id.pod, "web");
        ck_assert_str_eq(id.namespace_, "prod-eu");
        ck_assert_str_eq(id.container, "app");
        ck_assert_uint_eq(out[3].pod_name, out[4].pod_name);
        ck_assert_uint_eq(out[3].pod_namespace, out[4].pod_namespace);

        /* the pod's cgroup's own container name reaches below it, one
         * above the pod's cgroup does not */
        {
                Annotations up = { 0 };
                ResolveInput in[3] = {
                        { .path = "", .parent = -1, .annotations = &up },
                        { .path = "pod", .parent = 0, .annotations = &a },
                        { .path = "pod/c", .parent = 1 },
                };
                EffectivePolicy o3[3];

                snprintf(up.k8s.container, sizeof(up.k8s.container), "outside");
                resolution_free(res);
                ck_assert_ptr_nonnull(res = resolution_new(cfg, NULL, NULL));
                ck_assert_int_eq(resolve_policies(res, in, 3, o3), 0);
                resolve_pod_identity(res, &o3[2], &id);
                ck_assert_str_eq(id.pod, "web");
                ck_assert_str_eq(id.container, "");
                snprintf(a.k8s.container, sizeof(a.k8s.container), "sidecar");
                ck_assert_int_eq(resolve_policies(res, in, 3, o3), 0);
                resolve_pod_identity(res, &o3[2], &id);
                ck_assert_str_eq(id.container, "sidecar");
        }
}
END_TEST

/* Notes and errors stop at RESOLVE_STRINGS_MAX (a delegatee can make as
 * many as it has cgroups); the namespaces that grants are checked against
 * are kept past it, so a full table does not take a pod's grant away. */
START_TEST(test_resolve_pod_namespace_past_full_strings) {
        /* a namespace longer than what the shortest error leaves over */
        Annotations bad = { 0 }, a = pod_in("prod-eu-0123456789012345678901234567890123456789012345678901");
        ResolveInput top = { .path = "", .parent = -1 }, in;
        EffectivePolicy root, p;
        char path[300];
        size_t k = 0;

        res = resolution_free(res);
        ck_assert_ptr_nonnull(res = resolution_new(cfg, NULL, NULL));
        ck_assert_int_eq(resolve_one(res, &top, 0, NULL, &root), 0);
        bad.n = 1;
        bad.items[0] = (Annotation) { .trusted = true, .key = "tier0.max", .value = "12Q" };
        /* distinct errors until one is dropped, long ones then short ones */
        for (int w = 250; w > 0; w = w > 20 ? 20 : 0)
                do {
                        snprintf(path, sizeof(path), "%0*zu", w, k++);
                        in = (ResolveInput) { .path = path, .parent = 0, .annotations = &bad };
                        ck_assert_int_eq(resolve_one(res, &in, 1, &root, &p), 0);
                } while (p.n_errors == 1);
        ck_assert_uint_gt(k, RESOLVE_STRINGS_MAX / 300);

        request(&a, "class", "latency");
        in = (ResolveInput) { .path = POD, .parent = 0, .annotations = &a };
        ck_assert_int_eq(resolve_one(res, &in, 1, &root, &p), 0);
        ck_assert_str_eq(cfg->classes[p.class_index].name, "latency");
        ck_assert_int_eq(p.class_origin.kind, ORIGIN_POD);
}
END_TEST

int main(void) {
        Suite *s = suite_create("pods");
        TCase *tc = tcase_create("parse"), *tg = tcase_create("grants");

        tcase_add_test(tc, test_pod_annotation_name_pod_scope);
        tcase_add_test(tc, test_pod_annotation_name_container_scope);
        tcase_add_test(tc, test_pod_annotation_name_not_ours_or_bad);
        tcase_add_test(tc, test_pod_annotation_values);
        tcase_add_test(tc, test_pod_field_numbers_round_trip);
        tcase_add_test(tc, test_pod_xattrs_parsed_apart);
        tcase_add_test(tc, test_kube_path_systemd_driver);
        tcase_add_test(tc, test_kube_path_cgroupfs_driver_and_podman);
        suite_add_tcase(s, tc);
        tcase_add_checked_fixture(tg, setup, teardown);
        tcase_add_test(tg, test_pod_grants_loaded_and_matched);
        tcase_add_test(tg, test_pod_grants_dropins_append);
        tcase_add_test(tg, test_pod_grants_errors);
        tcase_add_test(tg, test_resolve_pod_granted_class);
        tcase_add_test(tg, test_resolve_pod_class_refused_without_grant);
        tcase_add_test(tg, test_resolve_pod_may_tighten_without_grant);
        tcase_add_test(tg, test_resolve_pod_keys_refused_or_granted);
        tcase_add_test(tg, test_resolve_pod_without_namespace_and_trusted_wins);
        tcase_add_test(tg, test_resolve_pod_no_grant_in_delegated_subtree);
        tcase_add_test(tg, test_resolve_pod_bad_value_reported);
        tcase_add_test(tg, test_resolve_pod_identity);
        tcase_add_test(tg, test_resolve_pod_namespace_past_full_strings);
        suite_add_tcase(s, tg);
        return unit_run(s);
}
