/*
 * cmd_validate.c - `latticectl validate`: parse and validate a manifest
 * offline with the model module and print every error and warning with its
 * location, as text or as one JSON object. Exit 0 valid, 1 invalid, 2 usage
 * or I/O error.
 */
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "latticectl.h"
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
      "manifest to check (YAML or JSON); - reads standard input", F(file), 0, 0 },
    { "output", 'o', NULL, LT_OPT_STRING, "text|json", "text",
      "text: one line per finding; json: {\"valid\",\"errors\",\"warnings\"}", F(output), 0, 0 },
    { "input-format", 0, NULL, LT_OPT_STRING, "auto|yaml|json", "auto",
      "how to read the manifest (auto: by file extension, else by content)", F(format), 0,
      0 },
    { "help", 'h', NULL, LT_OPT_FLAG, NULL, NULL, "show this help and exit", F(help), 0, 0 },
};
/* clang-format on */

const lt_opts_spec lctl_validate_opts = {
    .prog = "latticectl validate",
    .usage = "latticectl validate -f FILE|- [-o text|json] [--input-format auto|yaml|json]",
    .summary = "Check a manifest without a server, with wadm's rules (same messages) and\n"
               "latticed's. Every error and warning is printed with its location:\n"
               "file:line:column for YAML, the JSON path (spec.components[0]...) for JSON.\n"
               "Exit status: 0 valid (warnings may be printed), 1 invalid, 2 usage or I/O error.",
    .opts = validate_options,
    .nopts = sizeof(validate_options) / sizeof(validate_options[0]),
};

static bool ends_with(const char *s, const char *suffix)
{
    size_t n = strlen(s), m = strlen(suffix);
    return n >= m && strcmp(s + n - m, suffix) == 0;
}

static bool pick_format(const validate_cfg *cfg, lt_model_format *out)
{
    if (strcmp(cfg->format, "yaml") == 0)
        *out = LT_MODEL_FORMAT_YAML;
    else if (strcmp(cfg->format, "json") == 0)
        *out = LT_MODEL_FORMAT_JSON;
    else if (strcmp(cfg->format, "auto") != 0)
        return false;
    else if (ends_with(cfg->file, ".json"))
        *out = LT_MODEL_FORMAT_JSON;
    else if (ends_with(cfg->file, ".yaml") || ends_with(cfg->file, ".yml"))
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

static int print_json(const lt_model_report *r)
{
    lt_buf out;
    lt_buf_init(&out, 64u << 20);
    lt_status st = lt_model_report_to_json(r, &out);
    if (st == LT_OK)
        printf("%s\n", out.ptr);
    else
        fprintf(stderr, "latticectl validate: cannot format the result: %s\n", lt_error_message());
    lt_buf_cleanup(&out);
    return st == LT_OK ? 0 : -1;
}

/* Parse argv into cfg; returns -1 to go on, else the exit code. */
static int parse_args(const lctl_command *cmd, int argc, char **argv, validate_cfg *cfg)
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
    if (cfg->file == NULL && first == argc - 1)
        cfg->file = argv[first]; /* `validate app.yaml` works too */
    else if (first < argc) {
        fprintf(stderr, "latticectl validate: unexpected argument '%s' (see --help)\n",
                argv[first]);
        return LCTL_EXIT_USAGE;
    }
    if (cfg->file == NULL) {
        fprintf(stderr, "latticectl validate: -f FILE is required (- for standard input)\n");
        return LCTL_EXIT_USAGE;
    }
    if (strcmp(cfg->output, "text") != 0 && strcmp(cfg->output, "json") != 0) {
        fprintf(stderr, "latticectl validate: -o must be text or json, not '%s'\n", cfg->output);
        return LCTL_EXIT_USAGE;
    }
    return -1;
}

int lctl_cmd_validate(const lctl_command *cmd, int argc, char **argv)
{
    validate_cfg cfg = { 0 };
    int rc = parse_args(cmd, argc, argv, &cfg);
    if (rc >= 0)
        return rc;
    lt_model_parse_opts opts = { .source_name = strcmp(cfg.file, "-") == 0 ? "<stdin>" : cfg.file,
                                 .max_bytes = LT_MAX_MANIFEST_BYTES };
    if (!pick_format(&cfg, &opts.format)) {
        fprintf(stderr, "latticectl validate: --input-format must be auto, yaml or json\n");
        return LCTL_EXIT_USAGE;
    }
    char *data = NULL;
    size_t len = 0;
    lt_status st = lctl_read_input(cfg.file, opts.max_bytes, &data, &len);
    if (st != LT_OK) {
        fprintf(stderr, "latticectl validate: %s\n", lt_error_message());
        return LCTL_EXIT_USAGE;
    }
    lt_model *m = NULL;
    lt_model_report *r = NULL;
    st = lt_model_parse(data, len, &opts, &m, &r);
    lt_free(data);
    if (r == NULL) {
        fprintf(stderr, "latticectl validate: %s\n", lt_status_str(st));
        return LCTL_EXIT_USAGE;
    }
    if (strcmp(cfg.output, "json") == 0) {
        if (print_json(r) != 0)
            rc = LCTL_EXIT_USAGE;
    } else {
        print_text(r);
    }
    if (rc < 0)
        rc = st == LT_OK ? LCTL_EXIT_OK : LCTL_EXIT_FAIL;
    lt_model_free(m);
    lt_model_report_free(r);
    return rc;
}
