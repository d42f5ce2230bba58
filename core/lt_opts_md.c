/*
 * lt_opts_md.c - a Markdown reference section generated from an option table, as --help and
 * the man pages are (`latticed --help-markdown`, `latticed-host --help-markdown`; assembled
 * into docs/reference.md by scripts/gen-reference.sh): one row per option with its
 * environment variable, config-file key and default, so the reference cannot disagree with
 * what the program parses.
 */
#include <string.h>

#include "lt_opts.h"

void lt_opts_md_text(FILE *out, const char *text)
{
    for (; *text; text++) {
        if (*text == '|')
            fputs("\\|", out); /* would end a table cell */
        else if (*text == '\n')
            fputc(' ', out);
        else
            fputc(*text, out);
    }
}

/* `text` as inline code (a table cell's value), or nothing when text is NULL. */
static void code(FILE *out, const char *text)
{
    if (text == NULL)
        return;
    fputc('`', out);
    lt_opts_md_text(out, text);
    fputc('`', out);
}

void lt_opts_markdown(const lt_opts_spec *spec, FILE *out)
{
    fprintf(out, "## %s\n\n```\n%s\n```\n\n%s\n\n", spec->prog, spec->usage, spec->summary);
    if (spec->config_opt != NULL)
        fprintf(out,
                "Every option can also be set by its environment variable, or in the file "
                "named by `--%s` as a `key = value` line (the key is the long option without "
                "dashes). Precedence: defaults < config file < environment < command line. "
                "A flag (no argument) takes `true`/`false`/`1`/`0`/`yes`/`no` there.\n\n",
                spec->config_opt);
    fputs("| option | environment | config key | default | meaning |\n"
          "|---|---|---|---|---|\n",
          out);
    for (size_t i = 0; i < spec->nopts; i++) {
        const lt_opt *o = &spec->opts[i];
        bool is_config = spec->config_opt != NULL && strcmp(o->name, spec->config_opt) == 0;
        char opt[128];

        if (o->short_name)
            snprintf(opt, sizeof(opt), "-%c, --%s%s%s", o->short_name, o->name,
                     o->argname ? " " : "", o->argname ? o->argname : "");
        else
            snprintf(opt, sizeof(opt), "--%s%s%s", o->name, o->argname ? " " : "",
                     o->argname ? o->argname : "");
        fputs("| ", out);
        code(out, opt);
        fputs(" | ", out);
        code(out, o->env);
        fputs(" | ", out);
        code(out, spec->config_opt != NULL && !is_config ? o->name : NULL);
        fputs(" | ", out);
        code(out, o->kind != LT_OPT_FLAG ? o->def : NULL);
        fputs(" | ", out);
        lt_opts_md_text(out, o->help);
        if (o->kind == LT_OPT_INT)
            fprintf(out, " (%lld..%lld)", (long long)o->min, (long long)o->max);
        fputs(" |\n", out);
    }
}
