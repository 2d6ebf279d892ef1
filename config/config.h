/* SPDX-License-Identifier: MIT */
/* tierd's configuration: /etc/tierd/tierd.json plus drop-ins
 * /etc/tierd/tierd.d/NAME.json applied in lexical order. Loaded with json-c
 * and validated strictly: an unknown key or a bad value is an error naming
 * the file, the JSON path and the reason, e.g.
 *   tierd.d/10-k8s.json: rules[2].policy.tier0.max: "12Q" is not a size
 *
 * Merge rules for drop-ins (later files win):
 *   classes            a class with a new name is appended (lowest priority
 *                      last); a class with an existing name has the keys
 *                      given replaced, keeping its place in the order
 *   default            keys merged
 *   rules              appended
 *   scanner, mover,    keys merged
 *   control, metrics
 *   migration_budget   keys merged
 *   pods.grants        appended
 *   tiers              replaced as a whole */
#pragma once

#include <json-c/json.h>
#include <stdbool.h>
#include <stdint.h>

#include "pods.h"
#include "policy.h"

#define CONFIG_MAX_CLASSES 16
#define CONFIG_MAX_RULES 256
#define CONFIG_MAX_TIERS POLICY_MAX_TIERS

typedef struct ConfigClass {
        char name[POLICY_NAME_MAX];
        uint32_t weight;        /* 1..10000 */
        PolicySpec defaults;    /* class_name unset; quotas, limits, mode */
        char origin[256];       /* "tierd.json: classes[1]" */
} ConfigClass;

typedef struct ConfigRule {
        char match[512];        /* glob over the cgroup path relative to the
                                 * cgroup root, no leading '/': '*' and '?'
                                 * stay within one path segment, '**' matches
                                 * any number of segments (zero included) */
        PolicySpec policy;
        char origin[256];       /* "tierd.d/10-k8s.json: rules[2]" */
} ConfigRule;

#define CONFIG_MAX_POD_GRANTS 32
#define CONFIG_POD_GRANT_MAX_NAMESPACES 16

/* "pods": {"grants": [...]}: which Kubernetes namespaces may ask, with
 * tierd.io/ pod annotations (pods.h), for more than their cgroups get
 * without them. A pod of a namespace that no grant names can only tighten. */
typedef struct ConfigPodGrant {
        int n_namespaces;
        char namespaces[CONFIG_POD_GRANT_MAX_NAMESPACES][POD_NAMESPACE_MAX]; /* fnmatch globs */
        uint32_t classes;       /* bit i: Config.classes[i] may be asked for */
        uint32_t fields;        /* bit f: key field f (pods.h) may take any value; never class */
        char origin[256];       /* "tierd.d/20-pods.json: pods.grants[0]" */
} ConfigPodGrant;

typedef struct ConfigScanner {
        char backend[32];       /* auto | idle_page | damon | lru_gen | bpf */
        uint64_t period_ms;     /* control period */
        uint32_t cpu_budget_permille; /* scan CPU budget, per mille of one CPU */
} ConfigScanner;

typedef struct ConfigMover {
        char backend[32];       /* auto | move_pages | damos | reclaim */
        uint32_t batch_pages;
        uint64_t hysteresis_ms; /* a moved page is not moved back within this */
} ConfigMover;

typedef struct ConfigControl {
        char socket[108];       /* Unix socket path; "": no control socket */
        char read_group[64];    /* group allowed to read the status; "": root only */
} ConfigControl;

typedef struct ConfigMetrics {
        char listen[128];       /* "host:port", "[v6]:port", ":port"; "": off */
} ConfigMetrics;

typedef struct Config {
        int n_classes;          /* in priority order: [0] is the highest */
        ConfigClass classes[CONFIG_MAX_CLASSES];
        PolicySpec defaults;    /* the "default" section; class must be set */
        int n_rules;
        ConfigRule rules[CONFIG_MAX_RULES];
        ConfigScanner scanner;
        ConfigMover mover;
        ConfigControl control;
        ConfigMetrics metrics;
        Quantity budget_rate, budget_burst; /* global migration budget */
        int n_pod_grants;
        ConfigPodGrant pod_grants[CONFIG_MAX_POD_GRANTS];
        int n_tiers;            /* 0: no override; else tiers[k] node masks */
        uint64_t tiers[CONFIG_MAX_TIERS];
        int n_files;
        char files[64][256];    /* files loaded, in order */
        bool main_file;         /* the main file was there and loaded (not the built-in defaults alone) */
} Config;

/* Built-in defaults (the five classes, scanner and mover settings) with
 * no files applied. */
int config_new_default(Config **ret);

/* Applies one JSON text as if read from NAME (used in messages). On error
 * returns -EINVAL and a malloc'd message in *ret_error; cfg is unchanged. */
int config_apply_json(Config *cfg, const char *name, const char *text, char **ret_error);

/* Loads PATH (the main file; absent is fine: defaults) and then
 * DIR/NAME.json in lexical order. DIR NULL: PATH's directory + "/tierd.d".
 * Messages name files relative to PATH's directory.
 *
 * The directories on the way are checked too (-EPERM and a message): each
 * directory from the file's up to "/", for PATH as given and as its
 * symbolic links resolve, and the drop-in directory's, must not be
 * writable by group or others, unless root owns it with the sticky bit set
 * (/tmp) or it is on a read-only mount (a Kubernetes ConfigMap volume), and
 * must belong to root (or the effective user). Whoever can write one of
 * them can remove tierd.json, and tierd would run on the built-in
 * defaults, or swap tierd.d. */
int config_load(const char *path, const char *dropin_dir, Config **ret, char **ret_error);

/* config_load() for a reload of RUNNING: a main file that RUNNING was
 * loaded from must still be there (-ENOENT with a message otherwise), so
 * that removing it cannot silently put the node on the built-in defaults. */
int config_reload(const Config *running, const char *path, const char *dropin_dir, Config **ret, char **ret_error);

/* Refuses (-EPERM, with a message naming PATH, its mode or owner and why)
 * a file or directory writable by group or others, or owned by anyone but
 * root or the effective user. config_load applies the same check to every
 * file it reads (on the opened file) and to the drop-in directory. */
int config_check_file_safety(const char *path, char **ret_error);

Config *config_free(Config *c);
static inline void config_freep(Config **c) { config_free(*c); }

/* Index of a class by name, -1 if none. */
int config_class_index(const Config *c, const char *name);

/* The first grant that lets a pod of namespace NS set key field FIELD
 * (pods.h) to any value or, for the class (field 0), ask for class
 * CLASS_INDEX; NULL when none does (the pod can only tighten). */
const ConfigPodGrant *config_pod_grant(const Config *c, const char *ns, int field, int class_index);

/* Whether glob PATTERN matches cgroup PATH (both relative, no leading '/'). */
bool config_glob_match(const char *pattern, const char *path);

/* A metrics.listen value: "HOST:PORT", "[V6]:PORT" or ":PORT" (every
 * address), PORT 1..65535. 0, or -EINVAL with a static reason. */
int config_check_listen(const char *s, const char **ret_why);

/* The effective configuration, for `tierd --check-config --json`. */
json_object *config_to_json(const Config *c);
