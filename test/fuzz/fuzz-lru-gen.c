/* SPDX-License-Identifier: MIT */
/* lru_gen_parse(): the text of DEBUGFS/lru_gen. A parsed table keeps
 * what lru_gen.h promises: every node has generations, their sequence
 * numbers strictly increase, no node twice in a memcg; and lookups by
 * path and id find each memcg. */
#include "fuzz.h"

#include <errno.h>

#include "lru_gen.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        _cleanup_free_ char *text = fuzz_strdup(data, size);
        _cleanup_(lru_gen_table_freep) LruGenTable *t = NULL;
        int r;

        if (!text)
                return 0;
        r = lru_gen_parse(text, &t);
        FUZZ_CHECK(r == 0 || r == -EINVAL || r == -ENOMEM);
        if (r < 0)
                return 0;
        FUZZ_CHECK(t);
        for (size_t m = 0; m < t->n_memcgs; m++) {
                const LruGenMemcg *mc = &t->memcgs[m];

                FUZZ_CHECK(mc->path);
                FUZZ_CHECK(lru_gen_find_id(t, mc->id));
                (void) lru_gen_find(t, mc->path);
                (void) lru_gen_in_subtree(mc->path, "a/b");
                for (size_t i = 0; i < mc->n_nodes; i++) {
                        const LruGenNode *nd = &mc->nodes[i];

                        FUZZ_CHECK(nd->n_gens >= 1);
                        FUZZ_CHECK(lru_gen_memcg_node(mc, nd->node) == nd);
                        for (size_t g = 1; g < nd->n_gens; g++)
                                FUZZ_CHECK(nd->gens[g - 1].seq < nd->gens[g].seq);
                }
        }
        return 0;
}
