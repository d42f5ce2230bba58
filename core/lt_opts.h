/*
 * lt_opts.h - table-driven command-line options for the latticed binaries.
 * One static table gives each option its long name, short letter, environment
 * variable, argument kind, default and help; --help text, environment
 * variables and config-file keys all come from that table, so they cannot
 * disagree. Precedence: defaults < config file < environment < command line.
 */
#ifndef LT_OPTS_H
#define LT_OPTS_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "lt_status.h"

typedef enum {
    LT_OPT_FLAG,   /**< no argument; sets a bool (env/config: true/false/1/0/yes/no) */
    LT_OPT_STRING, /**< const char * (points into argv, environ or the config copy) */
    LT_OPT_INT,    /**< int64_t within [min, max] */
} lt_opt_kind;

typedef struct {
    const char *name; /**< long name without dashes ("nats-url"); also the config key */
    char short_name;  /**< 0 for none */
    const char *env;  /**< environment variable or NULL */
    lt_opt_kind kind;
    const char *argname; /**< shown in help ("URL") */
    const char *def;     /**< default as text, or NULL */
    const char *help;    /**< one line */
    size_t offset;       /**< offsetof() the target field in the config struct */
    int64_t min, max;    /**< for LT_OPT_INT */
} lt_opt;

typedef struct {
    const char *prog;    /**< program name for messages */
    const char *usage;   /**< "latticed [OPTIONS]" */
    const char *summary; /**< paragraph printed under usage */
    const lt_opt *opts;
    size_t nopts;
    const char *config_opt; /**< name of the option holding a config file path, or NULL */
} lt_opts_spec;

/**
 * Fill cfg from defaults, the config file (if config_opt is set), the
 * environment and argv. On LT_ERR_INVALID, lt_error_message() holds a
 * one-line reason naming the option and where it came from. *first_arg gets
 * the index of the first positional argument (argc when none).
 * The config file's contents are kept in *config_text (lt_free it).
 */
LT_NODISCARD lt_status lt_opts_parse(const lt_opts_spec *spec, void *cfg, int argc, char **argv,
                                     int *first_arg, char **config_text);

/**
 * The optimal string alignment distance of a and b (Damerau-Levenshtein: insertions, deletions,
 * substitutions and transpositions of two adjacent characters, each 1). Words longer than
 * LT_OPTS_WORD_MAX bytes are never close: the result is then SIZE_MAX.
 */
size_t lt_opts_distance(const char *a, const char *b);

#define LT_OPTS_WORD_MAX 64    /**< longest word lt_opts_distance compares */
#define LT_OPTS_SUGGEST_DIST 2 /**< farthest suggestion, as git and kubectl */

/**
 * The "did you mean" for a mistyped word: the candidate of cands[0..n) nearest to word, when
 * its distance is at most LT_OPTS_SUGGEST_DIST and smaller than the word's length (so "x" does
 * not suggest "h"); the first one on a tie. NULL when none is close or word is a candidate.
 * Returns a borrow of cands[i].
 */
const char *lt_opts_suggest(const char *word, const char *const *cands, size_t n);

/** Print the --help text generated from the table. */
void lt_opts_help(const lt_opts_spec *spec, FILE *out);

/* ---- man pages (lt_opts_man.c): roff with the man(7) macros, generated like --help ---- */

/** Write text escaped for roff (backslashes; '.' and '\'' opening a line). */
void lt_opts_man_text(FILE *out, const char *text);

/**
 * Write a help summary as roff paragraphs: lines starting with a space (examples) are kept as
 * written, indented; an empty line starts a new paragraph.
 */
void lt_opts_man_paragraphs(FILE *out, const char *text);

/** Write opts[0..n) as .TP paragraphs (name, argument, help, default, env); skip may be NULL. */
void lt_opts_man_options(FILE *out, const lt_opt *opts, size_t n, bool (*skip)(const lt_opt *));

/** Write a page's comment, .TH (section 1, "latticed VERSION") and NAME ("name \- what"). */
void lt_opts_man_head(FILE *out, const char *name, const char *version, const char *what);

/**
 * Write the whole man page of a program with one option table: NAME (spec->prog and what),
 * SYNOPSIS (spec->usage), DESCRIPTION (spec->summary), OPTIONS, ENVIRONMENT and, when
 * see_also is not NULL, SEE ALSO (roff text such as "\fBlatticectl\fR(1)").
 */
void lt_opts_man(const lt_opts_spec *spec, const char *version, const char *what,
                 const char *see_also, FILE *out);

/* ---- Markdown (lt_opts_md.c): the reference docs/reference.md is assembled from ---- */

/** Write text for a Markdown table cell: '|' escaped, newlines as spaces. */
void lt_opts_md_text(FILE *out, const char *text);

/**
 * Write a program's reference section: "## prog", the usage, the summary, how the config file
 * and the environment set options (when spec->config_opt is set), and one table row per
 * option: the option and its argument, environment variable, config key, default, and the
 * help with the range of an integer.
 */
void lt_opts_markdown(const lt_opts_spec *spec, FILE *out);

#endif
