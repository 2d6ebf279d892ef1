/* SPDX-License-Identifier: MIT */
/* The command line of tierd and tierctl, read the same way by both: a
 * command word and options before or after it (getopt_long() permutes
 * them), the globals, which every command takes, and the chosen command's
 * own. A mistake is said on stderr as "PROG: MESSAGE", PROG being the
 * program or "PROGRAM COMMAND", and with --json anywhere on the line as
 * {"error": MESSAGE} on stdout too, so that a script always gets JSON. */
#pragma once

#include <getopt.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "util.h"

/* The exit status of a mistake in the command line. */
#define CMDLINE_EXIT_USAGE 2

/* Says the message FMT on stderr after "PROG: ", and with JSON as
 * {"error": ...} on stdout too. Returns STATUS, for the caller to return. */
int cmdline_error(bool json, const char *prog, int status, const char *fmt, ...) _printf_(4, 5);

/* A program's option tables, for the pre-scan: the I-th, NULL after the
 * last. Every command's own, then the globals. */
typedef const struct option *(*CmdlineTables)(size_t i);
/* Called for each option the pre-scan finds, with its code (getopt_long()'s
 * val, or the letter of a short one). */
typedef void (*CmdlineNote)(int opt, void *userdata);

/* The command word: the first argument that is neither an option nor an
 * option's value, as getopt_long() will read them; NULL for none. Every
 * option named on the line, in any command's table, is passed to NOTE at
 * once, so that a program can apply --json (or -v) before it knows the
 * command: a mistake found before --json is JSON too. SHORTS: the short
 * options, none of which takes a value ("vh"). */
const char *cmdline_prescan(int argc, char **argv, const char *shorts, CmdlineTables tables, CmdlineNote note,
                            void *userdata);

typedef struct CmdlineParser {
        const char *shorts;             /* the short options, none with a value ("vh") */
        const struct option *globals;
        const struct option *own;       /* the chosen command's; NULL: none */
        /* One option: 0, or the exit status after a message. */
        int (*option)(int opt, const char *arg, void *userdata);
        void *userdata;
        const bool *json;               /* --json, read at a mistake: an option before it may set it */
        const char *prog;               /* the messages' prefix */
} CmdlineParser;

/* Parses the whole line with getopt_long(), the globals' and the chosen
 * command's options together; an unknown or ambiguous option, a missing
 * value or one given to an option without any is said here. 0, or the exit
 * status after a message. The arguments are left at argv[optind...]. */
int cmdline_parse(const CmdlineParser *p, int argc, char **argv);

/* After cmdline_parse(): what getopt_long() left must begin with WORD, the
 * command word cmdline_prescan() found (the same string: an abbreviated
 * option can take it as its value instead); steps optind past it. WORD
 * NULL: nothing to do. 0, or the exit status after a message. */
int cmdline_skip_word(bool json, const char *prog, int argc, char **argv, const char *word);

/* The value ARG of the option NAME ("--periods"): a whole number between
 * MIN and MAX. 0, or the exit status after a message. */
int cmdline_parse_number(bool json, const char *prog, const char *name, const char *arg, uint64_t min, uint64_t max,
                         uint64_t *ret);
/* The value ARG of the option NAME: a duration between MIN_MS and MAX_MS; a
 * bare number is in BARE_UNIT_MS (0: refused, a unit is needed). 0, or the
 * exit status after a message. */
int cmdline_parse_duration(bool json, const char *prog, const char *name, const char *arg, uint64_t bare_unit_ms,
                           uint64_t min_ms, uint64_t max_ms, uint64_t *ret_ms);
