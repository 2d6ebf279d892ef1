/* SPDX-License-Identifier: MIT */
#include <assert.h>
#include <inttypes.h>
#include <json-c/json.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmdline.h"

int cmdline_error(bool json, const char *prog, int status, const char *fmt, ...) {
        _cleanup_free_ char *msg = NULL;
        va_list ap;

        va_start(ap, fmt);
        if (vasprintf(&msg, fmt, ap) < 0)
                msg = NULL;
        va_end(ap);
        if (json) {
                json_object *o = json_object_new_object();

                json_object_object_add(o, "error", json_object_new_string(msg ? msg : "out of memory"));
                puts(json_object_to_json_string_ext(o, JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_NOSLASHESCAPE));
                json_object_put(o);
        }
        /* cgroup names and values come from other users: no terminal
         * escapes reach the operator's terminal */
        fprintf(stderr, "%s: ", prog);
        fputs_printable(msg ? msg : "out of memory", stderr);
        fputc('\n', stderr);
        return status;
}

/* The option that WORD ("--NAME" or "--NAME=VALUE") names in TABLES, as
 * getopt_long() reads it: exact, else an abbreviation. NULL: none, or
 * abbreviations that disagree on a value. */
static const struct option *option_lookup(CmdlineTables tables, const char *word) {
        const char *name = word + 2;
        size_t len = strcspn(name, "=");
        const struct option *found = NULL, *table;
        bool mixed = false;

        for (size_t t = 0; (table = tables(t)); t++)
                for (const struct option *o = table; o->name; o++) {
                        if (strncmp(o->name, name, len) != 0)
                                continue;
                        if (o->name[len] == '\0')
                                return o;
                        mixed = mixed || (found && found->has_arg != o->has_arg);
                        found = o;
                }
        return mixed ? NULL : found;
}

const char *cmdline_prescan(int argc, char **argv, const char *shorts, CmdlineTables tables, CmdlineNote note,
                            void *userdata) {
        const char *word = NULL;

        for (int i = 1; i < argc; i++) {
                const char *w = argv[i];
                const struct option *o;

                if (strcmp(w, "--") == 0)
                        return word ? word : i + 1 < argc ? argv[i + 1] : NULL;
                if (w[0] != '-' || w[1] == '\0') {
                        if (!word)
                                word = w;
                        continue;
                }
                if (w[1] != '-') {
                        /* short options, together or not: no values */
                        if (strspn(w + 1, shorts) == strlen(w + 1))
                                for (const char *s = w + 1; *s; s++)
                                        note(*s, userdata);
                        continue;
                }
                o = option_lookup(tables, w);
                if (!o)
                        continue;
                note(o->val, userdata);
                if (o->has_arg == required_argument && !strchr(w, '='))
                        i++;
        }
        return word;
}

static const struct option *option_by_val(const struct option *table, int val) {
        for (; table->name; table++)
                if (table->val == val)
                        return table;
        return NULL;
}

/* getopt_long() returned '?' or ':' (C) for argv[optind - 1]. */
static int option_error(bool json, const char *prog, int c, const struct option *table, char **argv) {
        const struct option *o = option_by_val(table, optopt);
        const char *word = argv[optind - 1];
        size_t len = strcspn(word, "=");
        char matches[256] = "";
        int n = 0;

        if (c == ':')
                return cmdline_error(json, prog, CMDLINE_EXIT_USAGE, "option --%s needs a value (see %s --help)",
                                     o ? o->name : "?", prog);
        if (o)
                return cmdline_error(json, prog, CMDLINE_EXIT_USAGE, "option --%s takes no value (see %s --help)",
                                     o->name, prog);
        if (optopt)
                return cmdline_error(json, prog, CMDLINE_EXIT_USAGE, "unknown option -%c (see %s --help)", optopt,
                                     prog);
        for (const struct option *p = table; p->name && len > 2; p++)
                if (strncmp(p->name, word + 2, len - 2) == 0)
                        n++, snprintf(matches + strlen(matches), sizeof(matches) - strlen(matches), "%s--%s",
                                      n > 1 ? ", " : "", p->name);
        if (n > 1)
                return cmdline_error(json, prog, CMDLINE_EXIT_USAGE, "ambiguous option %.*s: %s", (int) len, word,
                                     matches);
        return cmdline_error(json, prog, CMDLINE_EXIT_USAGE, "unknown option %.*s (see %s --help)", (int) len, word,
                             prog);
}

int cmdline_parse(const CmdlineParser *p, int argc, char **argv) {
        const struct option *parts[] = { p->globals, p->own };
        struct option table[64];
        char optstring[32];
        size_t n = 0;
        int opt, r;

        for (size_t k = 0; k < ELEMENTSOF(parts); k++)
                for (const struct option *o = parts[k]; o && o->name; o++) {
                        assert(n + 1 < ELEMENTSOF(table));
                        table[n++] = *o;
                }
        table[n] = (struct option) {};
        /* ':' first: a missing value is ':', not '?' */
        r = snprintf(optstring, sizeof(optstring), ":%s", p->shorts);
        assert(r > 0 && (size_t) r < sizeof(optstring));

        optind = 0; /* GNU getopt starts afresh */
        opterr = 0; /* the messages are ours */
        while ((opt = getopt_long(argc, argv, optstring, table, NULL)) >= 0) {
                if (opt == '?' || opt == ':')
                        return option_error(*p->json, p->prog, opt, table, argv);
                r = p->option(opt, optarg, p->userdata);
                if (r != 0)
                        return r;
        }
        return 0;
}

int cmdline_skip_word(bool json, const char *prog, int argc, char **argv, const char *word) {
        if (!word)
                return 0;
        if (optind >= argc || argv[optind] != word)
                return cmdline_error(json, prog, CMDLINE_EXIT_USAGE,
                                     "'%s' was read as an option's value: spell the option in full", word);
        optind++;
        return 0;
}

int cmdline_parse_number(bool json, const char *prog, const char *name, const char *arg, uint64_t min, uint64_t max,
                         uint64_t *ret) {
        uint64_t v;

        if (parse_u64(arg, &v) < 0 || v < min || v > max)
                return cmdline_error(json, prog, CMDLINE_EXIT_USAGE,
                                     "%s: '%s' is not a whole number between %" PRIu64 " and %" PRIu64, name, arg, min,
                                     max);
        *ret = v;
        return 0;
}

int cmdline_parse_duration(bool json, const char *prog, const char *name, const char *arg, uint64_t bare_unit_ms,
                           uint64_t min_ms, uint64_t max_ms, uint64_t *ret_ms) {
        char lo[32], hi[32];
        uint64_t ms;
        int r;

        r = parse_duration_ms(arg, bare_unit_ms, &ms);
        if (r < 0)
                return cmdline_error(json, prog, CMDLINE_EXIT_USAGE, "%s: '%s' %s", name, arg, duration_error(r));
        if (ms < min_ms || ms > max_ms)
                return cmdline_error(json, prog, CMDLINE_EXIT_USAGE, "%s: '%s' is not between %s and %s", name, arg,
                                     format_duration_ms(min_ms, lo, sizeof(lo)),
                                     format_duration_ms(max_ms, hi, sizeof(hi)));
        *ret_ms = ms;
        return 0;
}
