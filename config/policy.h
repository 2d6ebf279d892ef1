/* SPDX-License-Identifier: MIT */
/* The tenant policy model shared by the configuration (config/), the cgroup
 * annotations (cgroup/) and resolution: one set of keys, one value grammar.
 *
 * Keys (the same in JSON policy objects and in trusted./user.tierd.KEY):
 *   class                      a class name defined in the configuration
 *   tierN.max, tierN.low       N = 0..POLICY_MAX_TIERS-1: SIZE | PERCENT | "max"
 *   promote.rate, demote.rate  bytes per second: SIZE | "max"
 *   promote.burst, demote.burst  bytes: SIZE | "max"
 *   mode                       enforce | observe | off
 *
 * SIZE: a decimal integer with an optional binary unit K, M, G, T, P, E (also
 * KiB/MiB/..., case-insensitive, "B" alone allowed): "4096", "512M", "4G",
 * "1.5G" (fractions allowed with a unit; the result is rounded down to a
 * byte). PERCENT: "25%", "12.5%", 0..100, of the tenant's memory.current. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define POLICY_MAX_TIERS 4
#define POLICY_NAME_MAX 64

typedef enum LimitKind {
        LIMIT_UNSET = 0,
        LIMIT_BYTES,
        LIMIT_PERCENT,
        LIMIT_MAX,
} LimitKind;

typedef struct Limit {
        LimitKind kind;
        uint64_t bytes;         /* LIMIT_BYTES */
        uint32_t permyriad;     /* LIMIT_PERCENT: hundredths of a percent, 0..10000 */
} Limit;

typedef enum PolicyMode {
        MODE_UNSET = 0,
        MODE_OFF,       /* order matters: off < observe < enforce (strictness) */
        MODE_OBSERVE,
        MODE_ENFORCE,
} PolicyMode;

/* A rate or burst: unset, a byte count, or unlimited. */
typedef struct Quantity {
        bool set;
        bool unlimited;
        uint64_t bytes;
} Quantity;

typedef enum PolicyKey {
        KEY_CLASS,
        KEY_MODE,
        KEY_PROMOTE_RATE,
        KEY_PROMOTE_BURST,
        KEY_DEMOTE_RATE,
        KEY_DEMOTE_BURST,
        KEY_TIER_MAX,   /* with a tier index */
        KEY_TIER_LOW,   /* with a tier index */
        _KEY_INVALID = -1,
} PolicyKey;

/* A set of policy values, each possibly unset: what one rule, one class,
 * the default section or one cgroup's annotations say. */
typedef struct PolicySpec {
        char class_name[POLICY_NAME_MAX]; /* "" = unset */
        PolicyMode mode;
        Quantity promote_rate, promote_burst, demote_rate, demote_burst;
        Limit tier_max[POLICY_MAX_TIERS];
        Limit tier_low[POLICY_MAX_TIERS];
} PolicySpec;

/* Parses a key name ("tier0.max") into key and tier index (-1 when the
 * key has none). Returns 0 or -EINVAL for an unknown key, -ERANGE for a
 * tier index out of range. */
int policy_key_parse(const char *name, PolicyKey *ret_key, int *ret_tier);

/* Value grammar. Each returns 0, or -EINVAL/-ERANGE with a static
 * human reason in *ret_why ("is not a size", "percentage above 100%"). */
int policy_parse_size(const char *s, uint64_t *ret, const char **ret_why);
int policy_parse_limit(const char *s, Limit *ret, const char **ret_why);
int policy_parse_quantity(const char *s, Quantity *ret, const char **ret_why);
int policy_parse_mode(const char *s, PolicyMode *ret, const char **ret_why);
/* Class names: [A-Za-z0-9_-]{1,63}; existence is checked by the caller. */
int policy_parse_class_name(const char *s, const char **ret_why);

/* Sets KEY (by name) in spec from its string value. On failure nothing in
 * spec changes and *ret_why says why: -EINVAL/-ERANGE for a bad value,
 * -ENOKEY for an unknown key or a tier index out of range. */
int policy_spec_set(PolicySpec *spec, const char *key, const char *value, const char **ret_why);

/* Overlays every value set in src onto dst (src wins). */
void policy_spec_overlay(PolicySpec *dst, const PolicySpec *src);

/* Formatting, for reports: "512 MiB" style sizes are not used here; these
 * print the canonical grammar back ("512M", "25%", "max"). */
const char *limit_to_string(const Limit *l, char *buf, size_t size);
const char *quantity_to_string(const Quantity *q, char *buf, size_t size);
const char *policy_mode_to_string(PolicyMode m);

/* Calls visit(key, value) for each value set in spec, in canonical key
 * order (class, mode, quotas, then tier limits by tier), values in the
 * canonical grammar. Stops at and returns the first negative return. */
typedef int (*PolicySpecVisit)(const char *key, const char *value, void *userdata);
int policy_spec_foreach(const PolicySpec *spec, PolicySpecVisit visit, void *userdata);

/* A limit as bytes for a tenant using USAGE bytes; LIMIT_MAX and
 * LIMIT_UNSET give UINT64_MAX. */
uint64_t limit_resolve(const Limit *l, uint64_t usage);
