/* SPDX-License-Identifier: MIT */
/* page-counts.h: where a process's pages are, by node, as move_pages(2)'s
 * status query reports them, and their JSON (an object with one key per
 * node holding pages, plus "absent" and "error"), for the test helpers
 * that report placement (workload, bench-mp). Header only. */
#pragma once

#include <errno.h>
#include <json-c/json.h>
#include <stdint.h>
#include <stdio.h>

#define PAGE_COUNTS_NODES 64

typedef struct PageCounts {
        uint64_t node[PAGE_COUNTS_NODES];
        uint64_t absent;        /* -ENOENT: never touched, or unmapped */
        uint64_t error;         /* any other status, or a failed query */
} PageCounts;

/* One page's status from move_pages(2) with nodes == NULL. */
static inline void page_counts_add(PageCounts *c, int status) {
        if (status >= 0 && status < PAGE_COUNTS_NODES)
                c->node[status]++;
        else if (status == -ENOENT)
                c->absent++;
        else
                c->error++;
}

static inline json_object *page_counts_json(const PageCounts *c) {
        json_object *o = json_object_new_object();
        char key[16];

        for (int i = 0; i < PAGE_COUNTS_NODES; i++)
                if (c->node[i]) {
                        snprintf(key, sizeof(key), "%d", i);
                        json_object_object_add(o, key, json_object_new_uint64(c->node[i]));
                }
        json_object_object_add(o, "absent", json_object_new_uint64(c->absent));
        json_object_object_add(o, "error", json_object_new_uint64(c->error));
        return o;
}
