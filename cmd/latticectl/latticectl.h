/*
 * latticectl.h - the latticectl command table and what its command handlers
 * share: exit codes, input reading. Each command lives in its own file
 * (cmd_<name>.c) and is listed once in the table in main.c; `--help` texts
 * are generated from that table and from each command's option table.
 */
#ifndef LATTICECTL_H
#define LATTICECTL_H

#include <stddef.h>
#include <stdio.h>

#include "lt_opts.h"
#include "lt_status.h"

enum {
    LCTL_EXIT_OK = 0,    /**< success (validate: the manifest is valid) */
    LCTL_EXIT_FAIL = 1,  /**< the operation failed (validate: the manifest is invalid) */
    LCTL_EXIT_USAGE = 2, /**< bad command line, or input/output error */
};

typedef struct lctl_command lctl_command;

/** A command handler; argv[0] is the command name. Returns an LCTL_EXIT_* code. */
typedef int (*lctl_handler)(const lctl_command *cmd, int argc, char **argv);

struct lctl_command {
    const char *name;         /**< "validate" */
    const char *summary;      /**< one line for `latticectl --help` */
    const lt_opts_spec *opts; /**< usage, description and options for `<cmd> --help` */
    lctl_handler run;
};

/** The command table (main.c), terminated by an entry with name NULL. */
extern const lctl_command lctl_commands[];

/** Print `<cmd> --help` to stdout (generated from cmd->opts). */
void lctl_command_help(const lctl_command *cmd);

/** `latticectl help --man`: the latticectl(1) man page, roff, from the command table. */
int lctl_help_man(FILE *out);

/**
 * Read the whole of path ("-" for standard input) into a NUL-terminated heap buffer the
 * caller frees with lt_free. At most max + 1 bytes are read, so an over-limit input is seen
 * as such without reading all of it. LT_ERR_IO (errno in the error message), LT_ERR_NOMEM.
 */
LT_NODISCARD lt_status lctl_read_input(const char *path, size_t max, char **new_data,
                                       size_t *out_len);

/** One manifest of a command's input (input_docs.c). */
typedef struct {
    char *source; /**< "a.yaml", "a.yaml#2" (its second document), "<stdin>" */
    char *data;   /**< the document; the lines before it in its file kept empty */
    size_t len;
    const char *content_type; /**< from the file name: application/json, application/yaml, NULL */
} lctl_doc;

typedef struct {
    lctl_doc *items;
    size_t count, cap;
} lctl_docs;

/** The option of spec that the word a names (`--long`, `--long=value` or `-s`), or NULL. */
const lt_opt *lctl_opt_of(const lt_opts_spec *spec, const char *a);

/**
 * The values of every -f/--file option of argv, in order (at most max into out, borrowed from
 * argv); spec tells which other options take a value. Returns how many.
 */
size_t lctl_file_args(const lt_opts_spec *spec, int argc, char **argv, const char **out,
                      size_t max);

/**
 * Append the manifests of path to docs: "-" (standard input), a file (several YAML documents
 * split at `---` lines), or a directory (its *.yaml, *.yml, *.json in name order). Blank
 * documents are skipped; an input without any is LT_ERR_INVALID. LT_ERR_IO, LT_ERR_TOO_BIG,
 * LT_ERR_NOMEM; the message names the path.
 */
LT_NODISCARD lt_status lctl_docs_load(lctl_docs *docs, const char *path);

/** Free what docs holds and empty it. */
void lctl_docs_cleanup(lctl_docs *docs);
/**
 * The hidden `latticectl __complete apps|versions APP|hosts` (cmd_complete.c), outside the
 * table: names for the completion scripts, one per line, nothing and exit 0 on any failure.
 */
extern const lctl_command lctl_complete_command;
extern const lt_opts_spec lctl_complete_opts;
int lctl_cmd_complete(const lctl_command *cmd, int argc, char **argv);

/* Command handlers, one per cmd_<name>.c. */
int lctl_cmd_validate(const lctl_command *cmd, int argc, char **argv);
extern const lt_opts_spec lctl_validate_opts;

#endif
