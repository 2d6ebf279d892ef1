/* SPDX-License-Identifier: MIT */
/* status_snapshot_from_json(): tierctl reading the daemon's status answer
 * (after json-c's tokenizer). An accepted snapshot serializes back
 * (status_snapshot_to_json) to an object that is accepted again, and a
 * deep copy of it can be made and freed. */
#include "fuzz.h"

#include <errno.h>

#include "status.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        _cleanup_free_ char *text = fuzz_strdup(data, size), *error = NULL, *error2 = NULL;
        StatusSnapshot s = { 0 }, s2 = { 0 }, copy = { 0 };
        json_object *o, *back;
        int r;

        if (!text)
                return 0;
        o = json_tokener_parse(text);
        if (!o)
                return 0;
        r = status_snapshot_from_json(o, &s, &error);
        json_object_put(o);
        FUZZ_CHECK(r == 0 || r == -EINVAL || r == -ENOMEM);
        if (r < 0) {
                FUZZ_CHECK(r == -ENOMEM || error);
                return 0;
        }
        back = status_snapshot_to_json(&s);
        FUZZ_CHECK(back);
        r = status_snapshot_from_json(back, &s2, &error2);
        if (r < 0)
                fprintf(stderr, "round trip refused: %s\n", error2 ? error2 : "?");
        FUZZ_CHECK(r == 0);
        FUZZ_CHECK(s2.n_tenants == s.n_tenants && s2.n_tiers == s.n_tiers);
        json_object_put(back);
        if (status_snapshot_copy(&s, &copy) == 0)
                status_snapshot_done(&copy);
        status_snapshot_done(&s2);
        status_snapshot_done(&s);
        return 0;
}
