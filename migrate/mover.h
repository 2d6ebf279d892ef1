/* SPDX-License-Identifier: MIT */
/* Page movers. At this stage: the move_pages(2) capability check. */
#pragma once

/* Asks move_pages(2) where one page of our own memory lives, moving
 * nothing. Returns 0 and the node id, or -errno: -ENOSYS when the kernel
 * has no NUMA migration, -EPERM when the call is refused. */
int move_pages_query_self(int *ret_node);
