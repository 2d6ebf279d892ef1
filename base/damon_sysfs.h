/* SPDX-License-Identifier: MIT */
/* File I/O on DAMON's sysfs interface, shared by the DAMON scanner
 * (scanner/damon.c) and the DAMOS mover (migrate/damos.c). DAMON's sysfs
 * takes a trylock on its global lock and answers -EBUSY while another
 * command is in flight: these retry for about 2 s. */
#pragma once

#include <stdint.h>

#include "util.h"

/* Writes VALUE to the file at the printf-style path. */
int damon_sysfs_write(const char *value, const char *fmt, ...) _printf_(2, 3);
int damon_sysfs_write_u64(uint64_t v, const char *fmt, ...) _printf_(2, 3);
/* Reads the first line of DIR/NAME, without its newline. */
int damon_sysfs_read_line(const char *dir, const char *name, char **ret);
int damon_sysfs_read_u64(const char *dir, const char *name, uint64_t *ret);
