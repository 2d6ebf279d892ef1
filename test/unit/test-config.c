/* SPDX-License-Identifier: MIT */
#include <check.h>

#include "unit.h"
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>

#include "config.h"
#include "util.h"

#define SHIPPED FIXTURES "/../../config/tierd.json"

/* ---- helpers ---------------------------------------------------------- */




/* The settings of two configurations, ignoring origins and file lists. */
static bool config_eq(const Config *a, const Config *b) {
        if (a->n_classes != b->n_classes || a->n_rules != b->n_rules || a->n_tiers != b->n_tiers)
                return false;
        for (int i = 0; i < a->n_classes; i++)
                if (strcmp(a->classes[i].name, b->classes[i].name) != 0 || a->classes[i].weight != b->classes[i].weight ||
                    !unit_spec_eq(&a->classes[i].defaults, &b->classes[i].defaults))
                        return false;
        for (int i = 0; i < a->n_rules; i++)
                if (strcmp(a->rules[i].match, b->rules[i].match) != 0 ||
                    !unit_spec_eq(&a->rules[i].policy, &b->rules[i].policy))
                        return false;
        for (int t = 0; t < a->n_tiers; t++)
                if (a->tiers[t] != b->tiers[t])
                        return false;
        return unit_spec_eq(&a->defaults, &b->defaults) && strcmp(a->scanner.backend, b->scanner.backend) == 0 &&
               a->scanner.period_ms == b->scanner.period_ms &&
               a->scanner.cpu_budget_permille == b->scanner.cpu_budget_permille &&
               strcmp(a->mover.backend, b->mover.backend) == 0 && a->mover.batch_pages == b->mover.batch_pages &&
               a->mover.hysteresis_ms == b->mover.hysteresis_ms && unit_quantity_eq(&a->budget_rate, &b->budget_rate) &&
               unit_quantity_eq(&a->budget_burst, &b->budget_burst) &&
               strcmp(a->control.socket, b->control.socket) == 0 &&
               strcmp(a->control.read_group, b->control.read_group) == 0 &&
               strcmp(a->metrics.listen, b->metrics.listen) == 0;
}

static Config *new_default(void) {
        Config *c = NULL;

        ck_assert_int_eq(config_new_default(&c), 0);
        ck_assert_ptr_nonnull(c);
        return c;
}

static void apply_ok(Config *c, const char *name, const char *json) {
        char *error = NULL;
        int r;

        r = config_apply_json(c, name, json, &error);
        ck_assert_msg(r == 0, "%s rejected: %s", json, error ? error : "(no message)");
        ck_assert_ptr_null(error);
}

/* Applies json to a fresh default config under the name "tierd.json" and
 * asserts the exact message; the config must be left unchanged. */
static void expect_error(const char *json, const char *message) {
        _cleanup_(config_freep) Config *c = new_default(), *before = new_default();
        _cleanup_free_ char *error = NULL;

        memcpy(before, c, sizeof(*c));
        ck_assert_int_eq(config_apply_json(c, "tierd.json", json, &error), -EINVAL);
        ck_assert_ptr_nonnull(error);
        ck_assert_str_eq(error, message);
        ck_assert_mem_eq(c, before, sizeof(*c));
}

static void write_file(const char *dir, const char *name, const char *text, mode_t mode) {
        _cleanup_free_ char *path = NULL;
        FILE *f;

        ck_assert_int_ge(asprintf(&path, "%s/%s", dir, name), 0);
        f = fopen(path, "w");
        ck_assert_ptr_nonnull(f);
        fputs(text, f);
        ck_assert_int_eq(fclose(f), 0);
        ck_assert_int_eq(chmod(path, mode), 0);
}

static char *make_tree(void) {
        char *dir = strdup("/tmp/tierd-config-XXXXXX");
        _cleanup_free_ char *d = NULL;

        ck_assert_ptr_nonnull(mkdtemp(dir));
        ck_assert_int_ge(asprintf(&d, "%s/tierd.d", dir), 0);
        ck_assert_int_eq(mkdir(d, 0755), 0);
        return dir;
}

static void remove_tree(const char *dir) {
        _cleanup_free_ char *cmd = NULL;

        /* Test scratch under /tmp only. */
        ck_assert(strncmp(dir, "/tmp/tierd-config-", 18) == 0);
        ck_assert_int_ge(asprintf(&cmd, "rm -rf '%s'", dir), 0);
        ck_assert_int_eq(system(cmd), 0);
}

static char *path_in(const char *dir, const char *name) {
        char *p;

        ck_assert_int_ge(asprintf(&p, "%s/%s", dir, name), 0);
        return p;
}

/* ---- defaults --------------------------------------------------------- */

START_TEST(test_config_defaults) {
        _cleanup_(config_freep) Config *c = new_default();
        static const char *const names[] = { "critical", "latency", "standard", "batch", "scavenger" };
        static const uint32_t weights[] = { 1000, 500, 100, 20, 1 };
        static const uint64_t rates_m[] = { 256, 128, 64, 32, 8 };

        ck_assert_int_eq(c->n_classes, 5);
        for (int i = 0; i < 5; i++) {
                const ConfigClass *k = &c->classes[i];

                ck_assert_str_eq(k->name, names[i]);
                ck_assert_uint_eq(k->weight, weights[i]);
                ck_assert_int_eq(config_class_index(c, names[i]), i);
                ck_assert(k->defaults.promote_rate.set && !k->defaults.promote_rate.unlimited);
                ck_assert_uint_eq(k->defaults.promote_rate.bytes, rates_m[i] << 20);
                ck_assert_uint_eq(k->defaults.promote_burst.bytes, 4 * (rates_m[i] << 20));
                ck_assert(k->defaults.demote_rate.set);
                ck_assert_uint_ge(k->defaults.demote_rate.bytes, k->defaults.promote_rate.bytes);
                ck_assert_str_eq(k->defaults.class_name, "");
                ck_assert_int_eq(k->defaults.mode, MODE_UNSET);
                ck_assert_str_eq(k->origin, "built-in");
        }
        ck_assert_int_eq(config_class_index(c, "gold"), -1);
        ck_assert_str_eq(c->defaults.class_name, "standard");
        ck_assert_int_eq(c->defaults.mode, MODE_ENFORCE);
        ck_assert_int_eq(c->n_rules, 0);
        ck_assert_str_eq(c->scanner.backend, "auto");
        ck_assert_uint_eq(c->scanner.period_ms, 10000);
        ck_assert_uint_eq(c->scanner.cpu_budget_permille, 50);
        ck_assert_str_eq(c->mover.backend, "auto");
        ck_assert_uint_eq(c->mover.batch_pages, 512);
        ck_assert_uint_eq(c->mover.hysteresis_ms, 60000);
        ck_assert_uint_eq(c->budget_rate.bytes, UINT64_C(512) << 20);
        ck_assert_uint_eq(c->budget_burst.bytes, UINT64_C(2) << 30);
        ck_assert_int_eq(c->n_tiers, 0);
        ck_assert_int_eq(c->n_files, 0);
        ck_assert_ptr_null(config_free(NULL));
}
END_TEST

START_TEST(test_config_apply_full_schema) {
        _cleanup_(config_freep) Config *c = new_default();

        apply_ok(c, "tierd.json",
                 "{\n"
                 "  \"comment\": \"every section\",\n"
                 "  \"classes\": [ { \"name\": \"gold\", \"weight\": 800, \"comment\": \"x\",\n"
                 "                   \"promote.rate\": 1048576, \"tier0.max\": \"8G\", \"mode\": \"observe\" } ],\n"
                 "  \"default\": { \"class\": \"gold\", \"tier1.low\": \"10%\" },\n"
                 "  \"rules\": [ { \"match\": \"a/**\", \"comment\": \"y\", \"policy\": { \"class\": \"batch\", \"tier0.max\": \"max\" } } ],\n"
                 "  \"scanner\": { \"backend\": \"damon\", \"period\": \"500ms\", \"cpu_budget\": \"2.5%\" },\n"
                 "  \"mover\": { \"backend\": \"move_pages\", \"batch_pages\": 64, \"hysteresis\": \"2m\" },\n"
                 "  \"migration_budget\": { \"rate\": \"max\", \"burst\": \"1G\" },\n"
                 "  \"tiers\": [ [0, 1], [2] ]\n"
                 "}\n");
        ck_assert_int_eq(c->n_classes, 6);
        ck_assert_str_eq(c->classes[5].name, "gold");
        ck_assert_uint_eq(c->classes[5].weight, 800);
        ck_assert_uint_eq(c->classes[5].defaults.promote_rate.bytes, 1048576);
        ck_assert_int_eq(c->classes[5].defaults.tier_max[0].kind, LIMIT_BYTES);
        ck_assert_int_eq(c->classes[5].defaults.mode, MODE_OBSERVE);
        ck_assert_str_eq(c->classes[5].origin, "tierd.json: classes[0]");
        ck_assert_str_eq(c->defaults.class_name, "gold");
        ck_assert_int_eq(c->defaults.mode, MODE_ENFORCE);
        ck_assert_uint_eq(c->defaults.tier_low[1].permyriad, 1000);
        ck_assert_int_eq(c->n_rules, 1);
        ck_assert_str_eq(c->rules[0].match, "a/**");
        ck_assert_str_eq(c->rules[0].policy.class_name, "batch");
        ck_assert_int_eq(c->rules[0].policy.tier_max[0].kind, LIMIT_MAX);
        ck_assert_str_eq(c->rules[0].origin, "tierd.json: rules[0]");
        ck_assert_str_eq(c->scanner.backend, "damon");
        ck_assert_uint_eq(c->scanner.period_ms, 500);
        ck_assert_uint_eq(c->scanner.cpu_budget_permille, 25);
        ck_assert_str_eq(c->mover.backend, "move_pages");
        ck_assert_uint_eq(c->mover.batch_pages, 64);
        ck_assert_uint_eq(c->mover.hysteresis_ms, 120000);
        ck_assert(c->budget_rate.unlimited);
        ck_assert_uint_eq(c->budget_burst.bytes, UINT64_C(1) << 30);
        ck_assert_int_eq(c->n_tiers, 2);
        ck_assert_uint_eq(c->tiers[0], 3);
        ck_assert_uint_eq(c->tiers[1], 4);
        ck_assert_int_eq(c->n_files, 1);
        ck_assert_str_eq(c->files[0], "tierd.json");
}
END_TEST

START_TEST(test_config_durations) {
        _cleanup_(config_freep) Config *c = new_default();

        apply_ok(c, "a.json", "{\"scanner\": {\"period\": \"2m\"}, \"mover\": {\"hysteresis\": \"0s\"}}");
        ck_assert_uint_eq(c->scanner.period_ms, 120000);
        ck_assert_uint_eq(c->mover.hysteresis_ms, 0);
        apply_ok(c, "b.json", "{\"scanner\": {\"period\": \"1h\", \"cpu_budget\": \"100%\"}, \"mover\": {\"hysteresis\": \"24h\"}}");
        ck_assert_uint_eq(c->scanner.period_ms, 3600000);
        ck_assert_uint_eq(c->scanner.cpu_budget_permille, 1000);
        ck_assert_uint_eq(c->mover.hysteresis_ms, 86400000);
        apply_ok(c, "c.json", "{\"scanner\": {\"period\": \"100ms\", \"cpu_budget\": \"0.1%\"}}");
        ck_assert_uint_eq(c->scanner.period_ms, 100);
        ck_assert_uint_eq(c->scanner.cpu_budget_permille, 1);
}
END_TEST

/* ---- merge rules ------------------------------------------------------ */

START_TEST(test_config_merge_classes) {
        _cleanup_(config_freep) Config *c = new_default();

        apply_ok(c, "tierd.json", "{\"classes\": [{\"name\": \"gold\", \"weight\": 700, \"promote.rate\": \"1G\"}]}");
        /* an existing class: the keys given replace, the rest and the place stay */
        apply_ok(c, "tierd.d/10-a.json",
                 "{\"classes\": [{\"name\": \"batch\", \"promote.rate\": \"48M\"},"
                 "               {\"name\": \"gold\", \"weight\": 750},"
                 "               {\"name\": \"bronze\", \"weight\": 5}]}");
        ck_assert_int_eq(c->n_classes, 7);
        ck_assert_str_eq(c->classes[3].name, "batch");
        ck_assert_uint_eq(c->classes[3].weight, 20);
        ck_assert_uint_eq(c->classes[3].defaults.promote_rate.bytes, UINT64_C(48) << 20);
        ck_assert_uint_eq(c->classes[3].defaults.promote_burst.bytes, UINT64_C(128) << 20);
        ck_assert_str_eq(c->classes[3].origin, "tierd.d/10-a.json: classes[0]");
        ck_assert_str_eq(c->classes[5].name, "gold");
        ck_assert_uint_eq(c->classes[5].weight, 750);
        ck_assert_uint_eq(c->classes[5].defaults.promote_rate.bytes, UINT64_C(1) << 30);
        ck_assert_str_eq(c->classes[5].origin, "tierd.d/10-a.json: classes[1]");
        /* a new name is appended: lowest priority last */
        ck_assert_str_eq(c->classes[6].name, "bronze");
        ck_assert_int_eq(config_class_index(c, "bronze"), 6);
        /* the same name again in a later file is a merge, not a duplicate */
        apply_ok(c, "tierd.d/20-b.json", "{\"classes\": [{\"name\": \"bronze\", \"weight\": 6}]}");
        ck_assert_int_eq(c->n_classes, 7);
        ck_assert_uint_eq(c->classes[6].weight, 6);
}
END_TEST

START_TEST(test_config_merge_default_and_sections) {
        _cleanup_(config_freep) Config *c = new_default();

        apply_ok(c, "tierd.json",
                 "{\"default\": {\"tier0.max\": \"50%\"}, \"scanner\": {\"backend\": \"damon\"},"
                 " \"mover\": {\"batch_pages\": 128}, \"migration_budget\": {\"rate\": \"1G\"}}");
        apply_ok(c, "tierd.d/10-a.json",
                 "{\"default\": {\"mode\": \"observe\"}, \"scanner\": {\"period\": \"5s\"},"
                 " \"mover\": {\"hysteresis\": \"30s\"}, \"migration_budget\": {\"burst\": \"4G\"}}");
        /* default: keys merged */
        ck_assert_str_eq(c->defaults.class_name, "standard");
        ck_assert_int_eq(c->defaults.mode, MODE_OBSERVE);
        ck_assert_uint_eq(c->defaults.tier_max[0].permyriad, 5000);
        /* scanner, mover, migration_budget: keys merged */
        ck_assert_str_eq(c->scanner.backend, "damon");
        ck_assert_uint_eq(c->scanner.period_ms, 5000);
        ck_assert_uint_eq(c->scanner.cpu_budget_permille, 50);
        ck_assert_uint_eq(c->mover.batch_pages, 128);
        ck_assert_uint_eq(c->mover.hysteresis_ms, 30000);
        ck_assert_str_eq(c->mover.backend, "auto");
        ck_assert_uint_eq(c->budget_rate.bytes, UINT64_C(1) << 30);
        ck_assert_uint_eq(c->budget_burst.bytes, UINT64_C(4) << 30);
}
END_TEST

START_TEST(test_config_merge_rules_appended) {
        _cleanup_(config_freep) Config *c = new_default();

        apply_ok(c, "tierd.json",
                 "{\"rules\": [{\"match\": \"a\", \"policy\": {\"class\": \"batch\"}},"
                 "            {\"match\": \"b\", \"policy\": {}}]}");
        apply_ok(c, "tierd.d/10-a.json", "{\"rules\": [{\"match\": \"a\", \"policy\": {\"class\": \"latency\"}}]}");
        ck_assert_int_eq(c->n_rules, 3);
        ck_assert_str_eq(c->rules[0].policy.class_name, "batch");
        ck_assert_str_eq(c->rules[1].match, "b");
        ck_assert_str_eq(c->rules[2].policy.class_name, "latency");
        ck_assert_str_eq(c->rules[2].origin, "tierd.d/10-a.json: rules[0]");
        ck_assert_int_eq(c->n_files, 2);
        ck_assert_str_eq(c->files[1], "tierd.d/10-a.json");
}
END_TEST

START_TEST(test_config_merge_tiers_replaced) {
        _cleanup_(config_freep) Config *c = new_default();

        apply_ok(c, "tierd.json", "{\"tiers\": [[0, 1], [2, 3], [4]]}");
        ck_assert_int_eq(c->n_tiers, 3);
        apply_ok(c, "tierd.d/10-a.json", "{\"tiers\": [[1], [0]]}");
        ck_assert_int_eq(c->n_tiers, 2);
        ck_assert_uint_eq(c->tiers[0], 2);
        ck_assert_uint_eq(c->tiers[1], 1);
        ck_assert_uint_eq(c->tiers[2], 0);
        apply_ok(c, "tierd.d/20-b.json", "{\"scanner\": {}}");
        ck_assert_int_eq(c->n_tiers, 2); /* not mentioned: kept */
        apply_ok(c, "tierd.d/30-c.json", "{\"tiers\": []}");
        ck_assert_int_eq(c->n_tiers, 0); /* the override dropped */
        ck_assert_uint_eq(c->tiers[0], 0);
}
END_TEST

START_TEST(test_config_class_defined_later_in_same_file) {
        _cleanup_(config_freep) Config *c = new_default();

        /* classes are applied first wherever they stand in the file */
        apply_ok(c, "tierd.json",
                 "{\"default\": {\"class\": \"gold\"}, \"rules\": [{\"match\": \"x\", \"policy\": {\"class\": \"gold\"}}],"
                 " \"classes\": [{\"name\": \"gold\", \"weight\": 1}]}");
        ck_assert_str_eq(c->defaults.class_name, "gold");
}
END_TEST

/* ---- validation errors ------------------------------------------------ */

START_TEST(test_config_error_syntax) {
        expect_error("", "tierd.json: line 1: JSON syntax error: unexpected end of data");
        expect_error("{\n  \"scanner\": {},\n}\n", "tierd.json: line 3: JSON syntax error: unexpected character");
        expect_error("{\n  \"scanner\": {\n", "tierd.json: line 3: JSON syntax error: unexpected end of data");
        expect_error("{} {}", "tierd.json: line 1: JSON syntax error: unexpected character");
        expect_error("{\"a\": \"\xff\"}", "tierd.json: line 1: JSON syntax error: invalid utf-8 string");
        expect_error("[]", "tierd.json: expected a JSON object at the top level");
        expect_error("\"x\"", "tierd.json: expected a JSON object at the top level");
}
END_TEST

START_TEST(test_config_error_unknown_keys) {
        expect_error("{\"bogus\": 1}", "tierd.json: bogus: unknown key");
        expect_error("{\"scanner\": {\"bogus\": 1}}", "tierd.json: scanner.bogus: unknown key");
        expect_error("{\"mover\": {\"period\": \"1s\"}}", "tierd.json: mover.period: unknown key");
        expect_error("{\"migration_budget\": {\"rate\": \"1G\", \"limit\": 1}}",
                     "tierd.json: migration_budget.limit: unknown key");
        expect_error("{\"default\": {\"tier0.maximum\": \"1G\"}}", "tierd.json: default.tier0.maximum: unknown key");
        expect_error("{\"default\": {\"tier4.max\": \"1G\"}}",
                     "tierd.json: default.tier4.max: unknown key (tier indexes are 0..3)");
        expect_error("{\"rules\": [{\"match\": \"a\", \"policy\": {}, \"class\": \"batch\"}]}",
                     "tierd.json: rules[0].class: unknown key");
        expect_error("{\"classes\": [{\"name\": \"batch\", \"bogus\": 1}]}", "tierd.json: classes[0].bogus: unknown key");
        expect_error("{\"classes\": [{\"name\": \"batch\", \"class\": \"latency\"}]}",
                     "tierd.json: classes[0].class: not allowed in a class definition");
        /* keys are printed escaped */
        expect_error("{\"a\\nb\\\"\": 1}", "tierd.json: a\\x0ab\\\": unknown key");
}
END_TEST

START_TEST(test_config_error_types) {
        expect_error("{\"comment\": 1}", "tierd.json: comment: expected a string");
        expect_error("{\"classes\": {}}", "tierd.json: classes: expected an array");
        expect_error("{\"classes\": [1]}", "tierd.json: classes[0]: expected an object");
        expect_error("{\"classes\": [{\"name\": 1}]}", "tierd.json: classes[0].name: expected a string");
        expect_error("{\"classes\": [{\"name\": \"batch\", \"weight\": \"5\"}]}",
                     "tierd.json: classes[0].weight: expected an integer");
        expect_error("{\"default\": []}", "tierd.json: default: expected an object");
        expect_error("{\"default\": {\"class\": 1}}", "tierd.json: default.class: expected a string");
        expect_error("{\"default\": {\"mode\": null}}", "tierd.json: default.mode: expected a string");
        expect_error("{\"default\": {\"tier0.max\": true}}",
                     "tierd.json: default.tier0.max: expected a string or an integer");
        expect_error("{\"default\": {\"promote.rate\": 1.5}}",
                     "tierd.json: default.promote.rate: expected a string or an integer");
        expect_error("{\"rules\": {}}", "tierd.json: rules: expected an array");
        expect_error("{\"rules\": [\"a\"]}", "tierd.json: rules[0]: expected an object");
        expect_error("{\"rules\": [{\"match\": 1, \"policy\": {}}]}", "tierd.json: rules[0].match: expected a string");
        expect_error("{\"rules\": [{\"match\": \"a\", \"policy\": 1}]}",
                     "tierd.json: rules[0].policy: expected an object");
        expect_error("{\"scanner\": 1}", "tierd.json: scanner: expected an object");
        expect_error("{\"scanner\": {\"period\": 10}}", "tierd.json: scanner.period: expected a string");
        expect_error("{\"scanner\": {\"cpu_budget\": 5}}", "tierd.json: scanner.cpu_budget: expected a string");
        expect_error("{\"mover\": {\"batch_pages\": \"512\"}}", "tierd.json: mover.batch_pages: expected an integer");
        expect_error("{\"migration_budget\": {\"rate\": false}}",
                     "tierd.json: migration_budget.rate: expected a string or an integer");
        expect_error("{\"tiers\": {}}", "tierd.json: tiers: expected an array");
        expect_error("{\"tiers\": [0]}", "tierd.json: tiers[0]: expected an array");
        expect_error("{\"tiers\": [[\"0\"]]}", "tierd.json: tiers[0][0]: expected a node id (an integer)");
}
END_TEST

START_TEST(test_config_error_values) {
        expect_error("{\"rules\": [{\"match\": \"a\", \"policy\": {}}, {\"match\": \"b\", \"policy\": {}},"
                     " {\"match\": \"c\", \"policy\": {\"tier0.max\": \"12Q\"}}]}",
                     "tierd.json: rules[2].policy.tier0.max: \"12Q\" is not a size");
        expect_error("{\"default\": {\"tier0.low\": \"150%\"}}", "tierd.json: default.tier0.low: \"150%\" is above 100%");
        expect_error("{\"default\": {\"tier0.low\": \"100.01%\"}}",
                     "tierd.json: default.tier0.low: \"100.01%\" is above 100%");
        expect_error("{\"default\": {\"mode\": \"fast\"}}",
                     "tierd.json: default.mode: \"fast\" is not one of enforce, observe, off");
        expect_error("{\"default\": {\"promote.rate\": \"16E\"}}", "tierd.json: default.promote.rate: \"16E\" is too large");
        expect_error("{\"default\": {\"promote.rate\": -1}}", "tierd.json: default.promote.rate: \"-1\" is not a size");
        expect_error("{\"default\": {\"demote.burst\": \"25%\"}}",
                     "tierd.json: default.demote.burst: \"25%\" is a percentage, but rates and bursts take a size or max");
        expect_error("{\"default\": {\"tier1.max\": \"1.5\"}}",
                     "tierd.json: default.tier1.max: \"1.5\" is not a whole number of bytes (a fraction needs a unit)");
        expect_error("{\"default\": {\"tier1.max\": \"a\\\"b\\n\"}}",
                     "tierd.json: default.tier1.max: \"a\\\"b\\x0a\" is not a size");
        expect_error("{\"classes\": [{\"name\": \"gold\", \"weight\": 0}]}",
                     "tierd.json: classes[0].weight: \"0\" is not a weight between 1 and 10000");
        expect_error("{\"classes\": [{\"name\": \"gold\", \"weight\": 10001}]}",
                     "tierd.json: classes[0].weight: \"10001\" is not a weight between 1 and 10000");
        expect_error("{\"classes\": [{\"name\": \"go ld\", \"weight\": 1}]}",
                     "tierd.json: classes[0].name: \"go ld\" is not a class name (letters, digits, '_' and '-' only)");
        expect_error("{\"scanner\": {\"backend\": \"magic\"}}",
                     "tierd.json: scanner.backend: \"magic\" is not one of auto, idle_page, damon, lru_gen, bpf");
        expect_error("{\"scanner\": {\"period\": \"10\"}}",
                     "tierd.json: scanner.period: \"10\" is not a duration (like 500ms, 10s, 2m or 1h)");
        expect_error("{\"scanner\": {\"period\": \"10 s\"}}",
                     "tierd.json: scanner.period: \"10 s\" is not a duration (like 500ms, 10s, 2m or 1h)");
        expect_error("{\"scanner\": {\"period\": \"99ms\"}}",
                     "tierd.json: scanner.period: \"99ms\" is not between 100ms and 1h");
        expect_error("{\"scanner\": {\"period\": \"61m\"}}",
                     "tierd.json: scanner.period: \"61m\" is not between 100ms and 1h");
        expect_error("{\"scanner\": {\"period\": \"99999999999999999999h\"}}",
                     "tierd.json: scanner.period: \"99999999999999999999h\" is too large");
        expect_error("{\"scanner\": {\"cpu_budget\": \"5\"}}",
                     "tierd.json: scanner.cpu_budget: \"5\" is not a percentage of one CPU (like 5%)");
        expect_error("{\"scanner\": {\"cpu_budget\": \"0%\"}}",
                     "tierd.json: scanner.cpu_budget: \"0%\" is not between 0.1% and 100%");
        expect_error("{\"scanner\": {\"cpu_budget\": \"0.05%\"}}",
                     "tierd.json: scanner.cpu_budget: \"0.05%\" is finer than 0.1%");
        expect_error("{\"scanner\": {\"cpu_budget\": \"101%\"}}",
                     "tierd.json: scanner.cpu_budget: \"101%\" is above 100%");
        expect_error("{\"mover\": {\"backend\": \"teleport\"}}",
                     "tierd.json: mover.backend: \"teleport\" is not one of auto, move_pages, damos, reclaim");
        expect_error("{\"mover\": {\"batch_pages\": 0}}", "tierd.json: mover.batch_pages: \"0\" is not between 1 and 65536");
        expect_error("{\"mover\": {\"hysteresis\": \"25h\"}}",
                     "tierd.json: mover.hysteresis: \"25h\" is not between 0s and 24h");
        expect_error("{\"migration_budget\": {\"burst\": \"lots\"}}",
                     "tierd.json: migration_budget.burst: \"lots\" is not a size");
}
END_TEST

START_TEST(test_config_error_unknown_class) {
        expect_error("{\"default\": {\"class\": \"gold\"}}", "tierd.json: default.class: \"gold\" is not a defined class");
        expect_error("{\"rules\": [{\"match\": \"a\", \"policy\": {\"class\": \"gold\"}}]}",
                     "tierd.json: rules[0].policy.class: \"gold\" is not a defined class");
        expect_error("{\"rules\": [{\"match\": \"a\", \"policy\": {\"class\": \"\"}}]}",
                     "tierd.json: rules[0].policy.class: \"\" is not a class name: it is empty");
}
END_TEST

START_TEST(test_config_error_classes) {
        _cleanup_free_ char *many = NULL;
        char *p;

        expect_error("{\"classes\": [{\"name\": \"gold\", \"weight\": 5}, {\"name\": \"gold\", \"weight\": 6}]}",
                     "tierd.json: classes[1].name: \"gold\" is defined twice in this file");
        expect_error("{\"classes\": [{\"name\": \"batch\"}, {\"name\": \"batch\", \"weight\": 6}]}",
                     "tierd.json: classes[1].name: \"batch\" is defined twice in this file");
        expect_error("{\"classes\": [{\"weight\": 5}]}", "tierd.json: classes[0]: missing \"name\"");
        expect_error("{\"classes\": [{\"name\": \"gold\"}]}",
                     "tierd.json: classes[0]: missing \"weight\" (required for a new class)");

        /* 5 built-in + 11 = 16 fit; the 12th new one does not */
        many = malloc(4096);
        ck_assert_ptr_nonnull(many);
        p = many + sprintf(many, "{\"classes\": [");
        for (int i = 0; i < 12; i++)
                p += sprintf(p, "%s{\"name\": \"c%d\", \"weight\": 1}", i ? ", " : "", i);
        sprintf(p, "]}");
        expect_error(many, "tierd.json: classes[11]: too many classes (at most 16)");
}
END_TEST

START_TEST(test_config_error_rules) {
        expect_error("{\"rules\": [{\"match\": \"\", \"policy\": {}}]}", "tierd.json: rules[0].match: \"\" is an empty glob");
        expect_error("{\"rules\": [{\"match\": \"/system.slice\", \"policy\": {}}]}",
                     "tierd.json: rules[0].match: \"/system.slice\" must be relative to the cgroup root (no leading '/')");
        expect_error("{\"rules\": [{\"match\": \"a//b\", \"policy\": {}}]}",
                     "tierd.json: rules[0].match: \"a//b\" has an empty path segment");
        expect_error("{\"rules\": [{\"match\": \"a/\", \"policy\": {}}]}",
                     "tierd.json: rules[0].match: \"a/\" has an empty path segment");
        expect_error("{\"rules\": [{\"match\": \"a**/b\", \"policy\": {}}]}",
                     "tierd.json: rules[0].match: \"a**/b\" has '**' inside a path segment (it must be a whole segment)");
        expect_error("{\"rules\": [{\"match\": \"pod[0-9/x]\", \"policy\": {}}]}",
                     "tierd.json: rules[0].match: \"pod[0-9/x]\" has an unterminated '[' (a bracket expression stays "
                     "within one segment)");
        expect_error("{\"rules\": [{\"policy\": {}}]}", "tierd.json: rules[0]: missing \"match\"");
        expect_error("{\"rules\": [{\"match\": \"a\"}]}", "tierd.json: rules[0]: missing \"policy\"");
}
END_TEST

START_TEST(test_config_error_too_many_rules) {
        _cleanup_(config_freep) Config *c = new_default();
        _cleanup_free_ char *json = NULL, *error = NULL;
        char *p;

        json = malloc(64 * 300);
        ck_assert_ptr_nonnull(json);
        p = json + sprintf(json, "{\"rules\": [");
        for (int i = 0; i < CONFIG_MAX_RULES; i++)
                p += sprintf(p, "%s{\"match\": \"r%d\", \"policy\": {}}", i ? ", " : "", i);
        sprintf(p, "]}");
        apply_ok(c, "tierd.json", json);
        ck_assert_int_eq(c->n_rules, CONFIG_MAX_RULES);
        ck_assert_int_eq(config_apply_json(c, "tierd.d/x.json", "{\"rules\": [{\"match\": \"x\", \"policy\": {}}]}", &error),
                         -EINVAL);
        ck_assert_str_eq(error, "tierd.d/x.json: rules[0]: too many rules (at most 256)");
}
END_TEST

START_TEST(test_config_error_tiers) {
        expect_error("{\"tiers\": [[0], [1, 0]]}", "tierd.json: tiers[1][1]: \"0\" is already listed in tiers[0]");
        expect_error("{\"tiers\": [[0, 0]]}", "tierd.json: tiers[0][1]: \"0\" is already listed in tiers[0]");
        expect_error("{\"tiers\": [[0], []]}", "tierd.json: tiers[1]: a tier needs at least one node");
        expect_error("{\"tiers\": [[64]]}", "tierd.json: tiers[0][0]: \"64\" is not a node id between 0 and 63");
        expect_error("{\"tiers\": [[-1]]}", "tierd.json: tiers[0][0]: \"-1\" is not a node id between 0 and 63");
        expect_error("{\"tiers\": [[0], [1], [2], [3], [4]]}", "tierd.json: tiers: 5 tiers given, at most 4 are supported");
}
END_TEST

START_TEST(test_config_error_leaves_config_unchanged) {
        _cleanup_(config_freep) Config *c = new_default(), *before = NULL;
        _cleanup_free_ char *error = NULL;

        apply_ok(c, "tierd.json", "{\"rules\": [{\"match\": \"a\", \"policy\": {}}]}");
        before = malloc(sizeof(*before));
        ck_assert_ptr_nonnull(before);
        memcpy(before, c, sizeof(*c));
        /* valid sections come first and are applied to the copy only */
        ck_assert_int_eq(config_apply_json(c, "tierd.d/10-x.json",
                                           "{\"classes\": [{\"name\": \"gold\", \"weight\": 5}],"
                                           " \"scanner\": {\"period\": \"1s\"},"
                                           " \"rules\": [{\"match\": \"b\", \"policy\": {}}],"
                                           " \"tiers\": [[0]], \"mover\": {\"bogus\": 1}}",
                                           &error),
                         -EINVAL);
        ck_assert_str_eq(error, "tierd.d/10-x.json: mover.bogus: unknown key");
        ck_assert_mem_eq(c, before, sizeof(*c));
        /* a NULL ret_error is allowed */
        ck_assert_int_eq(config_apply_json(c, "x.json", "{", NULL), -EINVAL);
}
END_TEST

/* ---- globs ------------------------------------------------------------ */

START_TEST(test_config_glob_match) {
        static const struct {
                const char *pattern, *path;
                bool match;
        } cases[] = {
                { "a", "a", true },
                { "a", "b", false },
                { "a", "a/b", false },
                { "a/b", "a", false },
                { "*", "system.slice", true },
                { "*", "a/b", false },
                { "*", "", false },
                { "*.slice", "system.slice", true },
                { "*.slice", "a/b.slice", false },
                { "a/*", "a/b", true },
                { "a/*", "a", false },
                { "a/*", "a/b/c", false },
                { "a?c", "abc", true },
                { "a?c", "a/c", false },
                { "?", "ab", false },
                { "[ab]x", "bx", true },
                { "[!ab]x", "bx", false },
                { "[!ab]x", "cx", true },
                { "**", "", true },
                { "**", "a/b/c", true },
                { "a/**", "a", true },
                { "a/**", "a/b/c", true },
                { "a/**", "ab", false },
                { "**/x", "x", true },
                { "**/x", "a/b/x", true },
                { "**/x", "a/x/b", false },
                { "**/x", "ax", false },
                { "a/**/b", "a/b", true },
                { "a/**/b", "a/x/y/b", true },
                { "a/**/b", "a/x/y/c", false },
                { "a/**/b", "a/b/b/b", true },
                { "**/a/**/b/**", "x/a/y/b", true },
                { "**/a/**/b/**", "x/b/y/a", false },
                { "**/**/c", "c", true },
                { "**/*.scope", "system.slice/docker-1.scope", true },
                { "x*", "x/y", false },
                /* empty path segments in the path are ignored */
                { "a/b", "a//b/", true },
        };

        for (size_t i = 0; i < ELEMENTSOF(cases); i++)
                ck_assert_msg(config_glob_match(cases[i].pattern, cases[i].path) == cases[i].match,
                              "'%s' vs '%s': expected %s", cases[i].pattern, cases[i].path,
                              cases[i].match ? "a match" : "no match");
}
END_TEST

/* ---- files ------------------------------------------------------------ */

START_TEST(test_config_load_dropin_order) {
        _cleanup_free_ char *dir = make_tree(), *main_path = path_in(dir, "tierd.json"),
                            *dropins = path_in(dir, "tierd.d"), *error = NULL;
        _cleanup_(config_freep) Config *c = NULL;

        write_file(dir, "tierd.json", "{\"scanner\": {\"period\": \"1s\"}, \"rules\": [{\"match\": \"m\", \"policy\": {}}]}",
                   0644);
        write_file(dropins, "10-a.json", "{\"scanner\": {\"period\": \"2s\"}, \"rules\": [{\"match\": \"a\", \"policy\": {}}]}",
                   0644);
        /* lexical: "9-b" sorts after "10-a" */
        write_file(dropins, "9-b.json", "{\"scanner\": {\"period\": \"3s\"}, \"rules\": [{\"match\": \"b\", \"policy\": {}}]}",
                   0600);
        write_file(dropins, "20-c.json.disabled", "{\"bogus\": 1}", 0644);
        write_file(dropins, ".20-d.json", "{\"bogus\": 1}", 0644);
        write_file(dropins, "README", "not json", 0644);

        ck_assert_int_eq(config_load(main_path, NULL, &c, &error), 0);
        ck_assert_ptr_null(error);
        ck_assert_int_eq(c->n_files, 3);
        ck_assert_str_eq(c->files[0], "tierd.json");
        ck_assert_str_eq(c->files[1], "tierd.d/10-a.json");
        ck_assert_str_eq(c->files[2], "tierd.d/9-b.json");
        ck_assert_uint_eq(c->scanner.period_ms, 3000);
        ck_assert_int_eq(c->n_rules, 3);
        ck_assert_str_eq(c->rules[0].match, "m");
        ck_assert_str_eq(c->rules[1].match, "a");
        ck_assert_str_eq(c->rules[2].match, "b");
        ck_assert_str_eq(c->rules[2].origin, "tierd.d/9-b.json: rules[0]");
        remove_tree(dir);
}
END_TEST

START_TEST(test_config_load_main_absent) {
        _cleanup_free_ char *dir = make_tree(), *main_path = path_in(dir, "tierd.json"),
                            *dropins = path_in(dir, "tierd.d"), *error = NULL;
        _cleanup_(config_freep) Config *c = NULL, *d = new_default();

        /* no files at all: the built-in defaults */
        ck_assert_int_eq(config_load(main_path, NULL, &c, &error), 0);
        ck_assert(config_eq(c, d));
        ck_assert_int_eq(c->n_files, 0);
        c = config_free(c);

        write_file(dropins, "50-x.json", "{\"mover\": {\"batch_pages\": 8}}", 0644);
        ck_assert_int_eq(config_load(main_path, NULL, &c, &error), 0);
        ck_assert_int_eq(c->n_files, 1);
        ck_assert_str_eq(c->files[0], "tierd.d/50-x.json");
        ck_assert_uint_eq(c->mover.batch_pages, 8);
        c = config_free(c);

        /* no drop-in directory either */
        ck_assert_int_eq(config_load("/tmp/tierd-config-nonexistent/tierd.json", NULL, &c, &error), 0);
        ck_assert_int_eq(c->n_files, 0);
        remove_tree(dir);
}
END_TEST

START_TEST(test_config_load_error_in_dropin) {
        _cleanup_free_ char *dir = make_tree(), *main_path = path_in(dir, "tierd.json"),
                            *dropins = path_in(dir, "tierd.d"), *error = NULL;
        Config *c = (Config *) 0x1;

        write_file(dir, "tierd.json", "{}", 0644);
        write_file(dropins, "10-k8s.json",
                   "{\"rules\": [{\"match\": \"a\", \"policy\": {}}, {\"match\": \"b\", \"policy\": {}},\n"
                   "           {\"match\": \"c\", \"policy\": {\"tier0.max\": \"12Q\"}}]}",
                   0644);
        ck_assert_int_eq(config_load(main_path, NULL, &c, &error), -EINVAL);
        ck_assert_str_eq(error, "tierd.d/10-k8s.json: rules[2].policy.tier0.max: \"12Q\" is not a size");
        ck_assert_ptr_eq(c, (Config *) 0x1); /* untouched */
        free(error);
        error = NULL;

        write_file(dropins, "10-k8s.json", "{\n\"rules\": [\n}", 0644);
        ck_assert_int_eq(config_load(main_path, NULL, &c, &error), -EINVAL);
        ck_assert_str_eq(error, "tierd.d/10-k8s.json: line 3: JSON syntax error: unexpected character");
        remove_tree(dir);
}
END_TEST

START_TEST(test_config_load_unreadable) {
        _cleanup_free_ char *dir = make_tree(), *main_path = path_in(dir, "tierd.json"),
                            *dropins = path_in(dir, "tierd.d"), *link = path_in(dropins, "10-gone.json"), *error = NULL;
        Config *c = NULL;

        /* a directory where the main file should be */
        ck_assert_int_eq(mkdir(main_path, 0755), 0);
        ck_assert_int_eq(config_load(main_path, NULL, &c, &error), -EINVAL);
        ck_assert_str_eq(error, "tierd.json: not a regular file");
        ck_assert_int_eq(rmdir(main_path), 0);
        free(error);
        error = NULL;

        /* a drop-in that cannot be opened */
        ck_assert_int_eq(symlink("/tmp/tierd-config-nonexistent/x.json", link), 0);
        ck_assert_int_eq(config_load(main_path, NULL, &c, &error), -ENOENT);
        ck_assert_str_eq(error, "tierd.d/10-gone.json: cannot open: No such file or directory");
        ck_assert_int_eq(unlink(link), 0);
        free(error);
        error = NULL;

        /* unreadable by permission (root reads anything, so only unprivileged) */
        if (geteuid() != 0) {
                write_file(dir, "tierd.json", "{}", 0200);
                ck_assert_int_eq(config_load(main_path, NULL, &c, &error), -EACCES);
                ck_assert_str_eq(error, "tierd.json: cannot open: Permission denied");
        }
        ck_assert_ptr_null(c);
        remove_tree(dir);
}
END_TEST

START_TEST(test_config_load_explicit_dropin_dir) {
        _cleanup_free_ char *dir = make_tree(), *main_path = path_in(dir, "main.json"),
                            *other = path_in(dir, "tierd.d"), *error = NULL, *expected = NULL;
        _cleanup_(config_freep) Config *c = NULL;

        write_file(other, "10-a.json", "{}", 0644);
        write_file(dir, "main.json", "{}", 0644);
        ck_assert_int_eq(config_load(main_path, other, &c, &error), 0);
        ck_assert_int_eq(c->n_files, 2);
        ck_assert_str_eq(c->files[0], "main.json");
        ck_assert_str_eq(c->files[1], "tierd.d/10-a.json");
        c = config_free(c);

        /* a drop-in directory elsewhere is named in full */
        write_file(other, "10-a.json", "{\"x\": 1}", 0644);
        ck_assert_int_eq(config_load("/tmp/tierd-config-nonexistent/tierd.json", other, &c, &error), -EINVAL);
        ck_assert_int_ge(asprintf(&expected, "%s/10-a.json: x: unknown key", other), 0);
        ck_assert_str_eq(error, expected);
        remove_tree(dir);
}
END_TEST

/* Whoever can write a directory on the way can remove tierd.json (tierd
 * then runs on the built-in defaults) or swap tierd.d. */
START_TEST(test_config_load_refuses_unsafe_directories) {
        _cleanup_free_ char *dir = make_tree(), *sub = path_in(dir, "etc"), *conf = path_in(sub, "tierd"),
                            *main_path = path_in(conf, "tierd.json"), *open_dir = path_in(dir, "open"),
                            *link = NULL, *expected = NULL, *error = NULL;
        Config *c = NULL;

        ck_assert_int_eq(chmod(dir, 0755), 0);
        ck_assert_int_eq(mkdir(sub, 0755), 0);
        ck_assert_int_eq(mkdir(conf, 0755), 0);
        write_file(conf, "tierd.json", "{}", 0644);
        ck_assert_int_eq(config_load(main_path, NULL, &c, &error), 0);
        c = config_free(c);

        /* the file's directory */
        ck_assert_int_eq(chmod(conf, 0777), 0);
        ck_assert_int_eq(config_load(main_path, NULL, &c, &error), -EPERM);
        ck_assert_int_ge(asprintf(&expected, "tierd.json: refusing the directory %s, writable by group and others "
                                             "(mode 0777); whoever can write it can remove or replace tierd's "
                                             "configuration; tierd runs as root and moves other programs' memory, so "
                                             "only root may change its configuration", conf), 0);
        ck_assert_str_eq(error, expected);
        free(error), error = NULL;
        /* a sticky one of root's (/tmp) is fine: others cannot remove or
         * rename what they do not own there */
        if (geteuid() == 0) {
                ck_assert_int_eq(chmod(conf, 01777), 0);
                ck_assert_int_eq(config_load(main_path, NULL, &c, &error), 0);
                c = config_free(c);
        }
        ck_assert_int_eq(chmod(conf, 0755), 0);

        /* one further up, and with the main file absent: still refused */
        ck_assert_int_eq(chmod(sub, 0775), 0);
        ck_assert_int_eq(config_load(main_path, NULL, &c, &error), -EPERM);
        ck_assert_msg(strstr(error, "refusing the directory") && strstr(error, "/etc, writable by group (mode 0775)"),
                      "%s", error);
        free(error), error = NULL;
        ck_assert_int_eq(unlink(main_path), 0);
        ck_assert_int_eq(config_load(main_path, NULL, &c, &error), -EPERM);
        free(error), error = NULL;
        ck_assert_int_eq(chmod(sub, 0755), 0);

        /* a symbolic link to a file in a directory others can write */
        ck_assert_int_eq(mkdir(open_dir, 0755), 0);
        write_file(open_dir, "tierd.json", "{}", 0644);
        ck_assert_int_eq(chmod(open_dir, 0777), 0);
        link = path_in(open_dir, "tierd.json");
        ck_assert_int_eq(symlink(link, main_path), 0);
        ck_assert_int_eq(config_load(main_path, NULL, &c, &error), -EPERM);
        ck_assert_msg(strstr(error, "/open, writable by group and others"), "%s", error);
        free(error), error = NULL;
        ck_assert_int_eq(chmod(open_dir, 0755), 0);
        ck_assert_int_eq(config_load(main_path, NULL, &c, &error), 0);
        c = config_free(c);

        /* owned by someone else: only root can set that up */
        if (geteuid() == 0) {
                ck_assert_int_eq(chown(sub, 12345, 0), 0);
                ck_assert_int_eq(config_load(main_path, NULL, &c, &error), -EPERM);
                ck_assert_msg(strstr(error, "/etc, owned by uid 12345, not root (mode 0755)"), "%s", error);
                free(error), error = NULL;
                ck_assert_int_eq(chown(sub, 0, 0), 0);
        }
        ck_assert_ptr_null(c);
        remove_tree(dir);
}
END_TEST

/* A reload does not fall back to the built-in defaults because the main
 * file went away; a start without one still does. */
START_TEST(test_config_reload_needs_the_main_file_it_had) {
        _cleanup_free_ char *dir = make_tree(), *main_path = path_in(dir, "tierd.json"), *error = NULL;
        Config *running = NULL, *c = NULL;

        write_file(dir, "tierd.json", "{\"default\": {\"class\": \"batch\"}}", 0644);
        ck_assert_int_eq(config_load(main_path, NULL, &running, &error), 0);
        ck_assert(running->main_file);
        ck_assert_int_eq(config_reload(running, main_path, NULL, &c, &error), 0);
        c = config_free(c);

        ck_assert_int_eq(unlink(main_path), 0);
        ck_assert_int_eq(config_reload(running, main_path, NULL, &c, &error), -ENOENT);
        ck_assert_str_eq(error, "tierd.json: cannot open: No such file or directory; the running configuration was "
                                "loaded from it, and tierd does not fall back to the built-in defaults on a reload");
        ck_assert_ptr_null(c);
        free(error), error = NULL;

        /* at start (and for tierctl): the defaults */
        running = config_free(running);
        ck_assert_int_eq(config_load(main_path, NULL, &running, &error), 0);
        ck_assert(!running->main_file);
        /* a running configuration that had none: none needed */
        ck_assert_int_eq(config_reload(running, main_path, NULL, &c, &error), 0);
        c = config_free(c);
        running = config_free(running);
        remove_tree(dir);
}
END_TEST

START_TEST(test_config_load_refuses_unsafe_files) {
        _cleanup_free_ char *dir = make_tree(), *main_path = path_in(dir, "tierd.json"),
                            *dropins = path_in(dir, "tierd.d"), *dropin = path_in(dropins, "10-a.json"),
                            *error = NULL, *expected = NULL;
        Config *c = NULL;

        write_file(dir, "tierd.json", "{}", 0664);
        ck_assert_int_eq(config_load(main_path, NULL, &c, &error), -EPERM);
        ck_assert_str_eq(error, "tierd.json: refusing a file writable by group (mode 0664); tierd runs as root and "
                                "moves other programs' memory, so only root may change its configuration");
        free(error);
        error = NULL;

        ck_assert_int_eq(chmod(main_path, 0644), 0);
        write_file(dropins, "10-a.json", "{}", 0666);
        ck_assert_int_eq(config_load(main_path, NULL, &c, &error), -EPERM);
        ck_assert_str_eq(error, "tierd.d/10-a.json: refusing a file writable by group and others (mode 0666); tierd "
                                "runs as root and moves other programs' memory, so only root may change its "
                                "configuration");
        free(error);
        error = NULL;
        ck_assert_int_eq(config_check_file_safety(dropin, &error), -EPERM);
        ck_assert_int_ge(asprintf(&expected, "%s: refusing a file writable by group and others (mode 0666); tierd "
                                             "runs as root and moves other programs' memory, so only root may change "
                                             "its configuration", dropin), 0);
        ck_assert_str_eq(error, expected);
        free(error);
        error = NULL;

        /* a drop-in directory others can write to lets them add files */
        ck_assert_int_eq(chmod(dropin, 0644), 0);
        ck_assert_int_eq(chmod(dropins, 0757), 0);
        ck_assert_int_eq(config_load(main_path, NULL, &c, &error), -EPERM);
        ck_assert_str_eq(error, "tierd.d: refusing a directory writable by others (mode 0757); tierd runs as root and "
                                "moves other programs' memory, so only root may change its configuration");
        free(error);
        error = NULL;
        ck_assert_int_eq(chmod(dropins, 0755), 0);

        ck_assert_int_eq(config_check_file_safety(main_path, &error), 0);
        ck_assert_int_eq(config_load(main_path, NULL, &c, &error), 0);
        c = config_free(c);

        /* owned by someone else: only root can set that up */
        if (geteuid() == 0) {
                ck_assert_int_eq(chown(dropin, 12345, 0), 0);
                ck_assert_int_eq(config_load(main_path, NULL, &c, &error), -EPERM);
                ck_assert_str_eq(error, "tierd.d/10-a.json: refusing a file owned by uid 12345, not root (mode 0644); "
                                        "tierd runs as root and moves other programs' memory, so only root may "
                                        "change its configuration");
                free(error);
                error = NULL;
        }
        ck_assert_int_eq(config_check_file_safety("/tmp/tierd-config-nonexistent", &error), -ENOENT);
        ck_assert_str_eq(error, "/tmp/tierd-config-nonexistent: cannot stat: No such file or directory");
        free(error);
        error = NULL;
        ck_assert_ptr_null(c);
        remove_tree(dir);
}
END_TEST

/* ---- the shipped configuration ---------------------------------------- */

/* The shipped file is read and applied directly: config_load's ownership
 * check is about the installed file, not a source checkout. */
static Config *load_shipped(void) {
        _cleanup_free_ char *text = NULL;
        Config *c = new_default();

        ck_assert_int_eq(read_full_file(NULL, SHIPPED, &text, NULL), 0);
        apply_ok(c, "tierd.json", text);
        return c;
}

/* The class a cgroup ends up with when children inherit: the deepest
 * ancestor-or-self with a matching rule that sets a class, the last
 * matching rule winning at one level. */
static const char *inherited_class(const Config *c, const char *path) {
        _cleanup_free_ char *p = strdup(path);
        const char *found = NULL;
        size_t len = strlen(path);

        ck_assert_ptr_nonnull(p);
        for (size_t end = 0; end <= len; end++) {
                if (p[end] != '/' && p[end] != '\0')
                        continue;
                {
                        char saved = p[end];

                        p[end] = '\0';
                        for (int r = 0; r < c->n_rules; r++)
                                if (c->rules[r].policy.class_name[0] && config_glob_match(c->rules[r].match, p))
                                        found = c->rules[r].policy.class_name;
                        p[end] = saved;
                }
        }
        return found ? found : "(none)";
}

/* The class of the rules that match this very cgroup. */
static const char *own_class(const Config *c, const char *path) {
        const char *found = "(none)";

        for (int r = 0; r < c->n_rules; r++)
                if (config_glob_match(c->rules[r].match, path))
                        found = c->rules[r].policy.class_name;
        return found;
}

START_TEST(test_config_shipped_loads) {
        _cleanup_(config_freep) Config *c = load_shipped(), *d = new_default();

        /* it restates the built-in classes exactly */
        ck_assert_int_eq(c->n_classes, d->n_classes);
        for (int i = 0; i < c->n_classes; i++) {
                ck_assert_str_eq(c->classes[i].name, d->classes[i].name);
                ck_assert_uint_eq(c->classes[i].weight, d->classes[i].weight);
                ck_assert(unit_spec_eq(&c->classes[i].defaults, &d->classes[i].defaults));
        }
        ck_assert(unit_spec_eq(&c->defaults, &d->defaults));
        ck_assert_uint_eq(c->scanner.period_ms, d->scanner.period_ms);
        ck_assert_uint_eq(c->mover.hysteresis_ms, d->mover.hysteresis_ms);
        ck_assert_int_ge(c->n_rules, 9);
        for (int r = 0; r < c->n_rules; r++)
                ck_assert_int_ge(config_class_index(c, c->rules[r].policy.class_name), 0);
}
END_TEST

START_TEST(test_config_shipped_rules_systemd) {
        _cleanup_(config_freep) Config *c = load_shipped();

        ck_assert_str_eq(own_class(c, "system.slice"), "standard");
        ck_assert_str_eq(own_class(c, "user.slice"), "standard");
        ck_assert_str_eq(own_class(c, "machine.slice"), "standard");
        ck_assert_str_eq(inherited_class(c, "system.slice/sshd.service"), "standard");
        ck_assert_str_eq(inherited_class(c, "user.slice/user-1000.slice/session-2.scope"), "standard");
        ck_assert_str_eq(own_class(c, "init.scope"), "(none)");
        ck_assert_str_eq(own_class(c, "kubepods.slice"), "(none)");

        /* Kubernetes, systemd cgroup driver */
        ck_assert_str_eq(own_class(c, "kubepods.slice/kubepods-besteffort.slice"), "batch");
        ck_assert_str_eq(own_class(c, "kubepods.slice/kubepods-burstable.slice"), "standard");
        ck_assert_str_eq(own_class(c, "kubepods.slice/kubepods-pod0f3e.slice"), "latency");
        /* a pod slice under a QoS slice is matched by no rule itself (it
         * inherits), and never by the guaranteed-pod rule */
        ck_assert_str_eq(own_class(c, "kubepods.slice/kubepods-besteffort.slice/kubepods-besteffort-pod123.slice"),
                         "(none)");
        ck_assert_str_eq(own_class(c, "kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod1.slice"),
                         "(none)");
        ck_assert_str_eq(inherited_class(c, "kubepods.slice/kubepods-besteffort.slice/"
                                            "kubepods-besteffort-pod123.slice/cri-containerd-abc.scope"),
                         "batch");
        ck_assert_str_eq(inherited_class(c, "kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod1.slice"),
                         "standard");
        ck_assert_str_eq(inherited_class(c, "kubepods.slice/kubepods-pod9f.slice/cri-containerd-x.scope"), "latency");
        /* at any depth, e.g. a kubelet inside a container */
        ck_assert_str_eq(own_class(c, "system.slice/containerd.service/kubepods.slice/kubepods-besteffort.slice"),
                         "batch");
        ck_assert_str_eq(inherited_class(c, "system.slice/docker-1.scope/kubepods.slice/kubepods-pod1.slice/x.scope"),
                         "latency");
}
END_TEST

START_TEST(test_config_shipped_rules_cgroupfs) {
        _cleanup_(config_freep) Config *c = load_shipped();

        ck_assert_str_eq(own_class(c, "kubepods"), "(none)");
        ck_assert_str_eq(own_class(c, "kubepods/besteffort"), "batch");
        ck_assert_str_eq(own_class(c, "kubepods/burstable"), "standard");
        ck_assert_str_eq(own_class(c, "kubepods/pod3c1d"), "latency");
        ck_assert_str_eq(own_class(c, "kubepods/besteffort/pod123"), "(none)");
        ck_assert_str_eq(inherited_class(c, "kubepods/besteffort/pod123/0123abcd"), "batch");
        ck_assert_str_eq(inherited_class(c, "kubepods/burstable/pod1/ctr"), "standard");
        ck_assert_str_eq(inherited_class(c, "kubepods/pod1/ctr"), "latency");
        ck_assert_str_eq(inherited_class(c, "docker/abc/kubepods/besteffort/pod1"), "batch");
}
END_TEST

START_TEST(test_config_to_json_round_trip) {
        _cleanup_(config_freep) Config *c = load_shipped(), *again = new_default();
        json_object *o, *a;
        const char *text;

        apply_ok(c, "tierd.d/10-x.json",
                 "{\"classes\": [{\"name\": \"gold\", \"weight\": 3, \"tier0.low\": \"12.5%\"}],"
                 " \"default\": {\"mode\": \"observe\"},"
                 " \"rules\": [{\"match\": \"a/**\", \"policy\": {\"class\": \"gold\", \"promote.rate\": \"max\"}}],"
                 " \"scanner\": {\"period\": \"1500ms\", \"cpu_budget\": \"0.5%\"}, \"mover\": {\"hysteresis\": \"90s\"},"
                 " \"migration_budget\": {\"rate\": \"4097\"}, \"tiers\": [[1, 2, 3], [0]],"
                 " \"control\": {\"socket\": \"/run/x/c.sock\", \"read_group\": \"adm\"},"
                 " \"metrics\": {\"listen\": \"[::1]:9464\"}}");
        o = config_to_json(c);
        ck_assert_ptr_nonnull(o);
        ck_assert(json_object_object_get_ex(o, "files", &a));
        ck_assert_int_eq(json_object_array_length(a), 2);
        ck_assert_str_eq(json_object_get_string(json_object_array_get_idx(a, 1)), "tierd.d/10-x.json");

        /* without the report-only keys it is a valid configuration */
        json_object_object_del(o, "files");
        ck_assert(json_object_object_get_ex(o, "classes", &a));
        for (size_t i = 0; i < json_object_array_length(a); i++)
                json_object_object_del(json_object_array_get_idx(a, i), "origin");
        ck_assert(json_object_object_get_ex(o, "rules", &a));
        for (size_t i = 0; i < json_object_array_length(a); i++)
                json_object_object_del(json_object_array_get_idx(a, i), "origin");
        text = json_object_to_json_string(o);
        apply_ok(again, "effective.json", text);
        ck_assert(config_eq(c, again));
        json_object_put(o);
}
END_TEST

START_TEST(test_config_service_keys) {
        _cleanup_(config_freep) Config *c = new_default();

        /* defaults */
        ck_assert_str_eq(c->control.socket, "/run/tierd/control.sock");
        ck_assert_str_eq(c->control.read_group, "");
        ck_assert_str_eq(c->metrics.listen, "");
        apply_ok(c, "tierd.json", "{\"control\": {\"socket\": \"/tmp/t.sock\", \"read_group\": \"tierd-read\"},"
                                  " \"metrics\": {\"listen\": \"127.0.0.1:9464\"}}");
        ck_assert_str_eq(c->control.socket, "/tmp/t.sock");
        ck_assert_str_eq(c->control.read_group, "tierd-read");
        ck_assert_str_eq(c->metrics.listen, "127.0.0.1:9464");
        /* keys merged: a drop-in changing one keeps the others */
        apply_ok(c, "tierd.d/10-a.json", "{\"control\": {\"read_group\": \"1234\"}, \"metrics\": {\"listen\": \":9100\"}}");
        ck_assert_str_eq(c->control.socket, "/tmp/t.sock");
        ck_assert_str_eq(c->control.read_group, "1234");
        ck_assert_str_eq(c->metrics.listen, ":9100");
        apply_ok(c, "tierd.d/20-b.json", "{\"control\": {\"socket\": \"\"}, \"metrics\": {\"listen\": \"\"}}");
        ck_assert_str_eq(c->control.socket, "");
        ck_assert_str_eq(c->metrics.listen, "");
        apply_ok(c, "tierd.d/30-c.json", "{\"metrics\": {\"listen\": \"[fe80::1%2]:65535\"}}");
        apply_ok(c, "tierd.d/40-d.json", "{\"metrics\": {\"listen\": \"metrics.example-host:1\"}}");
}
END_TEST

START_TEST(test_config_check_listen) {
        static const struct { const char *s; const char *why; } bad[] = {
                { "9464", "needs a port: HOST:PORT, [IPV6]:PORT or :PORT" },
                { "localhost", "needs a port: HOST:PORT, [IPV6]:PORT or :PORT" },
                { ":", "has a port that is not a number between 1 and 65535" },
                { ":0", "has a port that is not a number between 1 and 65535" },
                { ":65536", "has a port that is not a number between 1 and 65535" },
                { "host:12x", "has a port that is not a number between 1 and 65535" },
                { "host: 80", "has a port that is not a number between 1 and 65535" },
                { "::1:9464", "has more than one ':' (an IPv6 address is written in brackets, [::1]:9464)" },
                { "[::1:9464", "has a '[' without its ']' (an IPv6 address is written [::1]:9464)" },
                { "[::1]9464", "needs :PORT after the ] of the IPv6 address" },
                { "[]:80", "has an empty IPv6 address between [ and ]" },
                { "[zz::1]:80", "has a character that is not part of an IPv6 address between [ and ]" },
                { "ho st:80", "has a host that is not a name or an IPv4 address" },
                { "http://x:80", "has more than one ':' (an IPv6 address is written in brackets, [::1]:9464)" },
        };
        static const char *const good[] = { ":9464", "0.0.0.0:80", "127.0.0.1:9464", "[::]:9464", "[::1]:1", "node-1.lan:65535" };
        const char *why;

        for (size_t i = 0; i < ELEMENTSOF(good); i++)
                ck_assert_msg(config_check_listen(good[i], &why) == 0, "%s refused", good[i]);
        for (size_t i = 0; i < ELEMENTSOF(bad); i++) {
                why = NULL;
                ck_assert_msg(config_check_listen(bad[i].s, &why) == -EINVAL, "%s accepted", bad[i].s);
                ck_assert_str_eq(why, bad[i].why);
        }
}
END_TEST

START_TEST(test_config_error_service_keys) {
        expect_error("{\"metrics\": {\"listen\": \"9464\"}}",
                     "tierd.json: metrics.listen: \"9464\" needs a port: HOST:PORT, [IPV6]:PORT or :PORT");
        expect_error("{\"metrics\": {\"listen\": 9464}}", "tierd.json: metrics.listen: expected a string");
        expect_error("{\"metrics\": {\"port\": \"1\"}}", "tierd.json: metrics.port: unknown key");
        expect_error("{\"control\": {\"socket\": \"run/c.sock\"}}",
                     "tierd.json: control.socket: \"run/c.sock\" is not an absolute path (or \"\" for no socket)");
        expect_error("{\"control\": {\"socket\": \"/run/tierd/\"}}",
                     "tierd.json: control.socket: \"/run/tierd/\" names a directory, not a socket file");
        expect_error("{\"control\": {\"read_group\": \"a b\"}}",
                     "tierd.json: control.read_group: \"a b\" is not a group name or number");
        expect_error("{\"control\": {\"read_group\": \"-x\"}}",
                     "tierd.json: control.read_group: \"-x\" is not a group name or number");
        expect_error("{\"control\": {\"group\": \"x\"}}", "tierd.json: control.group: unknown key");
        expect_error("{\"control\": \"/run/x\"}", "tierd.json: control: expected an object");
}
END_TEST

int main(void) {
        Suite *s = suite_create("config");
        TCase *tc = tcase_create("core");

        tcase_add_test(tc, test_config_defaults);
        tcase_add_test(tc, test_config_apply_full_schema);
        tcase_add_test(tc, test_config_durations);
        tcase_add_test(tc, test_config_merge_classes);
        tcase_add_test(tc, test_config_merge_default_and_sections);
        tcase_add_test(tc, test_config_merge_rules_appended);
        tcase_add_test(tc, test_config_merge_tiers_replaced);
        tcase_add_test(tc, test_config_class_defined_later_in_same_file);
        tcase_add_test(tc, test_config_error_syntax);
        tcase_add_test(tc, test_config_error_unknown_keys);
        tcase_add_test(tc, test_config_error_types);
        tcase_add_test(tc, test_config_error_values);
        tcase_add_test(tc, test_config_error_unknown_class);
        tcase_add_test(tc, test_config_error_classes);
        tcase_add_test(tc, test_config_error_rules);
        tcase_add_test(tc, test_config_error_too_many_rules);
        tcase_add_test(tc, test_config_error_tiers);
        tcase_add_test(tc, test_config_error_leaves_config_unchanged);
        tcase_add_test(tc, test_config_glob_match);
        tcase_add_test(tc, test_config_load_dropin_order);
        tcase_add_test(tc, test_config_load_main_absent);
        tcase_add_test(tc, test_config_load_error_in_dropin);
        tcase_add_test(tc, test_config_load_unreadable);
        tcase_add_test(tc, test_config_load_explicit_dropin_dir);
        tcase_add_test(tc, test_config_load_refuses_unsafe_files);
        tcase_add_test(tc, test_config_load_refuses_unsafe_directories);
        tcase_add_test(tc, test_config_reload_needs_the_main_file_it_had);
        tcase_add_test(tc, test_config_shipped_loads);
        tcase_add_test(tc, test_config_shipped_rules_systemd);
        tcase_add_test(tc, test_config_shipped_rules_cgroupfs);
        tcase_add_test(tc, test_config_to_json_round_trip);
        tcase_add_test(tc, test_config_service_keys);
        tcase_add_test(tc, test_config_check_listen);
        tcase_add_test(tc, test_config_error_service_keys);
        suite_add_tcase(s, tc);
        return unit_run(s);
}
