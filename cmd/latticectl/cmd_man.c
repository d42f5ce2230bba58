/*
 * cmd_man.c - `latticectl help --man`: the latticectl(1) man page (roff) generated from the
 * command table and each command's option table, as `--help` and docs/cli.md are, so it
 * cannot list a command or an option that does not exist. meson builds and installs it.
 */
#include <string.h>

#include "lctl_api.h"
#include "lt_config.h"

/* A command's own rows only: the global options have their own section. */
static bool is_global(const lt_opt *o)
{
    for (size_t g = 0; g < LCTL_GLOBAL_COUNT; g++) {
        if (strcmp(lctl_global_opts[g].name, o->name) == 0)
            return true;
    }
    return false;
}

static void commands(FILE *out)
{
    fputs(".SH COMMANDS\n", out);
    for (const lctl_command *c = lctl_commands; c->name != NULL; c++) {
        fprintf(out, ".TP\n.B %s\n", c->name);
        lt_opts_man_text(out, c->summary);
        fputc('\n', out);
    }
    fputs(".SH GLOBAL OPTIONS\n"
          "The options of every command that talks to latticed, written before or after the "
          "command.\n",
          out);
    lt_opts_man_options(out, lctl_global_opts, LCTL_GLOBAL_COUNT, NULL);
    fputs(".TP\n\\fB\\-V\\fR, \\fB\\-\\-version\\fR\nshow the version and exit\n", out);
    fputs(".SH COMMAND REFERENCE\n", out);
    for (const lctl_command *c = lctl_commands; c->name != NULL; c++) {
        fprintf(out, ".SS \"latticectl %s\"\n", c->name);
        if (c->opts == NULL)
            continue;
        fputs(".nf\n", out);
        lt_opts_man_text(out, c->opts->usage);
        fputs("\n.fi\n", out);
        lt_opts_man_paragraphs(out, c->opts->summary);
        lt_opts_man_options(out, c->opts->opts, c->opts->nopts, is_global);
    }
}

int lctl_help_man(FILE *out)
{
    lt_opts_man_head(out, "latticectl", LT_VERSION,
                     "drive latticed, a declarative control plane for WebAssembly hosts on NATS "
                     "JetStream");
    fputs(".SH SYNOPSIS\n.nf\n"
          "\\fBlatticectl\\fR [\\fIGLOBAL OPTIONS\\fR] \\fICOMMAND\\fR [\\fIARGS\\fR] "
          "[\\fIOPTIONS\\fR]\n"
          "\\fBlatticectl help\\fR [\\fICOMMAND\\fR]\n"
          "\\fBlatticectl\\fR \\fICOMMAND\\fR \\fB\\-\\-help\\fR\n"
          ".fi\n"
          ".SH DESCRIPTION\n"
          "\\fBlatticectl\\fR drives \\fBlatticed\\fR through its wadm-compatible NATS API: it "
          "validates, stores and deploys application manifests (OAM), shows their status, "
          "versions and history, and lists the hosts and the control plane's events.\n"
          ".PP\n"
          "Output (\\fB\\-o\\fR): \\fBtable\\fR for people (the default), \\fBjson\\fR for the "
          "exact API reply, \\fByaml\\fR for the reply as YAML.\n",
          out);
    commands(out);
    fputs(".SH EXIT STATUS\n"
          ".TP\n.B 0\nsuccess\n"
          ".TP\n.B 1\nthe operation failed: the server answered error or notfound, or the "
          "manifest is invalid\n"
          ".TP\n.B 2\nusage error, input/output error, or a refusal that needs "
          "\\fB\\-\\-force\\fR\n"
          ".TP\n.B 3\nNATS unreachable, or no reply in time\n"
          ".PP\nEvery failure prints one line on standard error, prefixed "
          "\\(lqlatticectl:\\(rq.\n"
          ".SH ENVIRONMENT\n",
          out);
    for (size_t i = 0; i < LCTL_GLOBAL_COUNT; i++) {
        if (lctl_global_opts[i].env == NULL)
            continue;
        fprintf(out, ".TP\n.B %s\n\\fB\\-\\-", lctl_global_opts[i].env);
        for (const char *s = lctl_global_opts[i].name; *s; s++)
            fputs(*s == '-' ? "\\-" : (char[2]){ *s, '\0' }, out);
        fputs("\\fR\n", out);
    }
    fputs(".SH SEE ALSO\n"
          "\\fBlatticed\\fR(1), \\fBlatticed\\-host\\fR(1); docs/cli.md in the source tree\n",
          out);
    return LCTL_EXIT_OK;
}
