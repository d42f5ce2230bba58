/*
 * cmd_validate.c - `latticectl validate`: parse and validate manifests
 * offline with the model module (every -f: files, directories, multi-document
 * YAML, see input_docs.c) and print every error and warning with its
 * location, as a table (text) or as JSON/YAML objects. Exit 0 all valid, 1
 * any invalid, 2 usage or I/O error.
 */
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "latticectl.h"
#include "lctl_api.h"
#include "lt_alloc.h"
#include "lt_buf.h"
#include "lt_limits.h"
#include "lt_model.h"

typedef struct {
    bool help;
    const char *file;
    const char *output;
    const char *format;
} validate_cfg;

#define F(field) offsetof(validate_cfg, field)

/* Option tables: one option per row. */
/* clang-format off */
static const lt_opt validate_options[] = {
    { "file", 'f', NULL, LT_OPT_STRING, "FILE", NULL,
      "manifest(s) to check: a YAML (several documents allowed) or JSON file, a directory (its "
      "*.yaml, *.yml, *.json in name order), - for standard input; repeat -f for more",
      F(file), 0, 0 },
    { "output", 'o', NULL, LT_OPT_STRING, "table|json|yaml", "table",
      "table: one line per finding (text is the same, kept for scripts); json or yaml: "
      "{\"valid\",\"errors\",\"warnings\"} per manifest (a list when there are several)",
      F(output), 0, 0 },
    { "input-format", 0, NULL, LT_OPT_STRING, "auto|yaml|json", "auto",
      "how to read the manifest (auto: by file extension, else by content)", F(format), 0,
      0 },
    { "help", 'h', NULL, LT_OPT_FLAG, NULL, NULL, "show this help and exit", F(help), 0, 0 },
};
/* clang-format on */

const lt_opts_spec lctl_validate_opts = {
    .prog = "latticectl validate",
    .usage = "latticectl validate -f FILE|DIR|- [-f ...] [-o table|json|yaml] "
             "[--input-format auto|yaml|json]",
    .summary = "Check manifests without a server, with wadm's rules (same messages) and\n"
               "latticed's. Every error and warning is printed with its location:\n"
               "file:line:column for YAML, the JSON path (spec.components[0]...) for JSON; the\n"
               "second document of a file is named file#2. Every manifest is checked.\n"
               "Exit status: 0 all valid (warnings may be printed), 1 any invalid, 2 usage or\n"
               "I/O error.",
    .opts = validate_options,
    .nopts = sizeof(validate_options) / sizeof(validate_options[0]),
};

#define MAX_FILES 256 /* -f options of one command */

/* The parser's format for d: --input-format, else by the file name, else by content. */
static bool pick_format(const validate_cfg *cfg, const lctl_doc *d, lt_model_format *out)
{
    if (strcmp(cfg->format, "yaml") == 0)
        *out = LT_MODEL_FORMAT_YAML;
    else if (strcmp(cfg->format, "json") == 0)
        *out = LT_MODEL_FORMAT_JSON;
    else if (strcmp(cfg->format, "auto") != 0)
        return false;
    else if (d->content_type != NULL && strcmp(d->content_type, "application/json") == 0)
        *out = LT_MODEL_FORMAT_JSON;
    else if (d->content_type != NULL)
        *out = LT_MODEL_FORMAT_YAML;
    else
        *out = LT_MODEL_FORMAT_AUTO;
    return true;
}

static void print_text(const lt_model_report *r)
{
    lt_buf loc;
    lt_buf_init(&loc, LT_MAX_PATH + 64);
    for (size_t i = 0; i < r->count; i++) {
        const lt_model_diag *d = &r->items[i];
        lt_buf_reset(&loc);
        LT_IGNORE(lt_model_diag_location(r, d, &loc));
        const char *level = d->level == LT_MODEL_ERROR ? "error" : "warning";
        if (d->line > 0 && d->path[0] != '\0')
            printf("%s: %s: %s [%s]\n", loc.ptr, level, d->message, d->path);
        else if (d->line > 0 || d->path[0] == '\0')
            printf("%s: %s: %s\n", loc.ptr, level, d->message);
        else /* JSON input: the file, then the JSON path */
            printf("%s: %s: %s: %s\n", r->source, loc.ptr, level, d->message);
    }
    lt_buf_cleanup(&loc);
    if (r->error_count > 0)
        printf("%s: invalid: %zu error%s, %zu warning%s\n", r->source, r->error_count,
               r->error_count == 1 ? "" : "s", r->warning_count, r->warning_count == 1 ? "" : "s");
    else
        printf("%s: valid (%zu warning%s)\n", r->source, r->warning_count,
               r->warning_count == 1 ? "" : "s");
}

/* Append r as JSON to all (one object per manifest). */
static int add_json(const lt_model_report *r, json_t *all)
{
    lt_buf out;
    json_t *v = NULL;

    lt_buf_init(&out, 64u << 20);
    if (lt_model_report_to_json(r, &out) == LT_OK)
        v = json_loads(out.ptr, 0, NULL);
    lt_buf_cleanup(&out);
    if (v != NULL) /* which manifest, when there are several */
        json_object_set_new(v, "source", json_string(r->source));
    if (v == NULL || json_array_append_new(all, v) != 0) {
        fprintf(stderr, "latticectl validate: cannot format the result of %s\n", r->source);
        return -1;
    }
    return 0;
}

/* Parse argv into cfg and the input paths; returns -1 to go on, else the exit code. */
static int parse_args(const lctl_command *cmd, int argc, char **argv, validate_cfg *cfg,
                      const char **files, size_t *nfiles)
{
    char *config_text = NULL;
    int first = 0;
    lt_status st = lt_opts_parse(cmd->opts, cfg, argc, argv, &first, &config_text);
    lt_free(config_text);
    if (st != LT_OK) {
        fprintf(stderr, "latticectl validate: %s\n", lt_error_message());
        return LCTL_EXIT_USAGE;
    }
    if (cfg->help) {
        lctl_command_help(cmd);
        return LCTL_EXIT_OK;
    }
    *nfiles = lctl_file_args(cmd->opts, argc, argv, files, MAX_FILES);
    for (; first < argc && *nfiles < MAX_FILES; first++) { /* `validate app.yaml b.yaml` too */
        if (argv[first][0] == '-' && argv[first][1] != '\0') {
            fprintf(stderr,
                    "latticectl validate: unexpected argument '%s' (options go before "
                    "FILE; see --help)\n",
                    argv[first]);
            return LCTL_EXIT_USAGE;
        }
        files[(*nfiles)++] = argv[first];
    }
    if (*nfiles == 0) {
        fprintf(stderr, "latticectl validate: -f FILE is required (- for standard input)\n");
        return LCTL_EXIT_USAGE;
    }
    if (strcmp(cfg->output, "text") == 0)
        cfg->output = "table"; /* the name before -o table|json|yaml */
    if (strcmp(cfg->output, "table") != 0 && strcmp(cfg->output, "json") != 0 &&
        strcmp(cfg->output, "yaml") != 0) {
        fprintf(stderr, "latticectl validate: -o must be table, json or yaml, not '%s'\n",
                cfg->output);
        return LCTL_EXIT_USAGE;
    }
    return -1;
}

/* Check one manifest: 0 valid, 1 invalid, 2 not checked (reason printed). */
static int check(const validate_cfg *cfg, const lctl_doc *d, json_t *all)
{
    lt_model_parse_opts opts = { .source_name = d->source, .max_bytes = LT_MAX_MANIFEST_BYTES };
    lt_model *m = NULL;
    lt_model_report *r = NULL;
    lt_status st;
    int rc;

    if (!pick_format(cfg, d, &opts.format)) {
        fprintf(stderr, "latticectl validate: --input-format must be auto, yaml or json\n");
        return LCTL_EXIT_USAGE;
    }
    st = lt_model_parse(d->data, d->len, &opts, &m, &r);
    if (r == NULL) {
        fprintf(stderr, "latticectl validate: %s\n", lt_status_str(st));
        return LCTL_EXIT_USAGE;
    }
    rc = st == LT_OK ? LCTL_EXIT_OK : LCTL_EXIT_FAIL;
    if (strcmp(cfg->output, "table") == 0)
        print_text(r);
    else if (add_json(r, all) != 0)
        rc = LCTL_EXIT_USAGE;
    lt_model_free(m);
    lt_model_report_free(r);
    return rc;
}

int lctl_cmd_validate(const lctl_command *cmd, int argc, char **argv)
{
    validate_cfg cfg = { 0 };
    const char *files[MAX_FILES];
    size_t nfiles = 0, i;
    lctl_docs docs = { 0 };
    json_t *all;
    int rc = parse_args(cmd, argc, argv, &cfg, files, &nfiles);

    if (rc >= 0)
        return rc;
    for (i = 0; i < nfiles; i++) {
        if (lctl_docs_load(&docs, files[i]) != LT_OK) {
            fprintf(stderr, "latticectl validate: %s\n", lt_error_message());
            lctl_docs_cleanup(&docs);
            return LCTL_EXIT_USAGE;
        }
    }
    rc = LCTL_EXIT_OK;
    all = json_array();
    for (i = 0; i < docs.count && all != NULL; i++) {
        int one = check(&cfg, &docs.items[i], all);

        rc = one > rc ? one : rc; /* usage (2) over invalid (1) over valid */
    }
    if (all == NULL) {
        rc = LCTL_EXIT_USAGE;
    } else if (strcmp(cfg.output, "table") != 0 && json_array_size(all) == docs.count) {
        /* one manifest: its object, as before; several: the list */
        const json_t *v = docs.count == 1 ? json_array_get(all, 0) : all;

        if (strcmp(cfg.output, "yaml") == 0) {
            lctl_print_yaml(stdout, v);
        } else {
            char *text = json_dumps(v, JSON_COMPACT);

            printf("%s\n", text != NULL ? text : "null");
            free(text);
        }
    }
    json_decref(all);
    lctl_docs_cleanup(&docs);
    return rc;
}
