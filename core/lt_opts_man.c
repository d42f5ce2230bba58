/*
 * lt_opts_man.c - man pages (roff, man(7) macros) generated from option tables, as --help is:
 * escaping of text for roff, an option table as .TP paragraphs, and a whole page for a
 * program with one option table (latticed, latticed-host).
 */
#include <string.h>

#include "lt_opts.h"

void lt_opts_man_text(FILE *out, const char *s)
{
    bool bol = true; /* at the beginning of an output line */

    for (; *s; s++) {
        if (bol && (*s == '.' || *s == '\''))
            fputs("\\&", out); /* would be read as a request */
        bol = false;
        if (*s == '\\')
            fputs("\\e", out);
        else if (*s == '\n') {
            fputc('\n', out);
            bol = true;
        } else
            fputc(*s, out);
    }
}

/* An option name or argument in bold/italic: every '-' as \- (a real minus, copy-pastable). */
static void dashes(FILE *out, const char *s)
{
    for (; *s; s++) {
        if (*s == '-')
            fputs("\\-", out);
        else if (*s == '\\')
            fputs("\\e", out);
        else
            fputc(*s, out);
    }
}

void lt_opts_man_paragraphs(FILE *out, const char *text)
{
    bool nofill = false;
    const char *line = text;

    fputs(".PP\n", out);
    while (line != NULL && *line != '\0') {
        const char *nl = strchr(line, '\n');
        size_t len = nl ? (size_t)(nl - line) : strlen(line);
        char buf[512];

        if (len >= sizeof(buf))
            len = sizeof(buf) - 1;
        memcpy(buf, line, len);
        buf[len] = '\0';
        if (buf[0] == ' ' && !nofill) {
            fputs(".PP\n.RS 2\n.nf\n", out); /* an indented example line: kept as written */
            nofill = true;
        } else if (buf[0] != ' ' && nofill) {
            fputs(".fi\n.RE\n.PP\n", out);
            nofill = false;
        }
        if (buf[0] == '\0')
            fputs(".PP\n", out);
        else {
            lt_opts_man_text(out, nofill ? buf + strspn(buf, " ") : buf);
            fputc('\n', out);
        }
        line = nl ? nl + 1 : NULL;
    }
    if (nofill)
        fputs(".fi\n.RE\n", out);
}

void lt_opts_man_options(FILE *out, const lt_opt *opts, size_t n, bool (*skip)(const lt_opt *))
{
    for (size_t i = 0; i < n; i++) {
        const lt_opt *o = &opts[i];

        if (skip != NULL && skip(o))
            continue;
        fputs(".TP\n", out);
        if (o->short_name)
            fprintf(out, "\\fB\\-%c\\fR, ", o->short_name);
        fputs("\\fB\\-\\-", out);
        dashes(out, o->name);
        fputs("\\fR", out);
        if (o->argname != NULL) {
            fputs(" \\fI", out);
            dashes(out, o->argname);
            fputs("\\fR", out);
        }
        fputc('\n', out);
        lt_opts_man_text(out, o->help);
        if (o->def != NULL && o->kind != LT_OPT_FLAG) {
            fputs(" (default: ", out);
            lt_opts_man_text(out, o->def);
            fputc(')', out);
        }
        if (o->env != NULL)
            fprintf(out, " [env: %s]", o->env);
        fputc('\n', out);
    }
}

void lt_opts_man_head(FILE *out, const char *name, const char *version, const char *what)
{
    char upper[64];
    size_t i;

    for (i = 0; name[i] != '\0' && i + 1 < sizeof(upper); i++)
        upper[i] = (char)(name[i] >= 'a' && name[i] <= 'z' ? name[i] - 'a' + 'A' : name[i]);
    upper[i] = '\0';
    fprintf(out, ".\\\" Generated from the option table of %s; do not edit.\n", name);
    fprintf(out, ".TH %s 1 \"\" \"latticed %s\" \"User Commands\"\n.SH NAME\n", upper, version);
    dashes(out, name);
    fputs(" \\- ", out);
    lt_opts_man_text(out, what);
    fputc('\n', out);
}

void lt_opts_man(const lt_opts_spec *spec, const char *version, const char *what,
                 const char *see_also, FILE *out)
{
    bool env = false;

    lt_opts_man_head(out, spec->prog, version, what);
    fputs(".SH SYNOPSIS\n.nf\n", out);
    lt_opts_man_text(out, spec->usage);
    fputs("\n.fi\n.SH DESCRIPTION\n", out);
    lt_opts_man_paragraphs(out, spec->summary);
    fputs(".SH OPTIONS\n", out);
    if (spec->config_opt != NULL)
        fprintf(out,
                "Every option can also be set by its environment variable, or in the file "
                "named by \\fB\\-\\-%s\\fR as a \\fIname\\fR = \\fIvalue\\fR line. "
                "Precedence: defaults < config file < environment < command line.\n",
                spec->config_opt);
    lt_opts_man_options(out, spec->opts, spec->nopts, NULL);
    for (size_t i = 0; i < spec->nopts; i++)
        env |= spec->opts[i].env != NULL;
    if (env) {
        fputs(".SH ENVIRONMENT\n", out);
        for (size_t i = 0; i < spec->nopts; i++) {
            if (spec->opts[i].env == NULL)
                continue;
            fprintf(out, ".TP\n.B %s\n\\fB\\-\\-", spec->opts[i].env);
            dashes(out, spec->opts[i].name);
            fputs("\\fR\n", out);
        }
    }
    if (see_also != NULL)
        fprintf(out, ".SH SEE ALSO\n%s\n", see_also);
}
