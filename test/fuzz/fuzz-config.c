/* SPDX-License-Identifier: MIT */
/* config_apply_json(): the input up to its first NUL is applied as
 * tierd.json, the rest (if any) as a drop-in on top, so the merge rules
 * are exercised too. An accepted configuration must serialize
 * (config_to_json) and a refused one must leave cfg as it was. */
#include "fuzz.h"

#include <errno.h>

#include "config.h"

/* A Config is some 300 KiB: allocated once, not per input (ASan maps
 * and unmaps blocks that large on each malloc). */
static Config *defaults, *cfg, *before;

static int apply(const char *name, const char *text) {
        _cleanup_free_ char *error = NULL;
        int r;

        memcpy(before, cfg, sizeof(*before));
        r = config_apply_json(cfg, name, text, &error);
        if (r < 0) {
                FUZZ_CHECK(r == -EINVAL || r == -ENOMEM);
                FUZZ_CHECK(r == -ENOMEM || (error && *error));
                FUZZ_CHECK(memcmp(before, cfg, sizeof(*before)) == 0); /* "cfg is unchanged" */
                return r;
        }
        FUZZ_CHECK(cfg->n_classes >= 1 && cfg->n_classes <= CONFIG_MAX_CLASSES);
        FUZZ_CHECK(cfg->n_rules >= 0 && cfg->n_rules <= CONFIG_MAX_RULES);
        FUZZ_CHECK(cfg->n_tiers >= 0 && cfg->n_tiers <= CONFIG_MAX_TIERS);
        return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        _cleanup_free_ char *main_text = NULL;
        char *dropin;
        json_object *o;

        if (!defaults) {
                FUZZ_CHECK(config_new_default(&defaults) == 0);
                cfg = malloc(sizeof(*cfg));
                before = malloc(sizeof(*before));
                FUZZ_CHECK(cfg && before);
        }
        if (fuzz_split(data, size, &main_text, &dropin) < 0)
                return 0;
        memcpy(cfg, defaults, sizeof(*cfg));
        if (apply("tierd.json", main_text) < 0)
                return 0;
        if (dropin < main_text + size && apply("tierd.d/10-fuzz.json", dropin) < 0)
                return 0;
        o = config_to_json(cfg);
        FUZZ_CHECK(o);
        FUZZ_CHECK(json_object_to_json_string(o));
        json_object_put(o);
        return 0;
}
