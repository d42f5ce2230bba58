/*
 * main.c - latticectl's entry point: the static command table (name, summary,
 * option table, handler), the top-level --help generated from it, --version,
 * `help COMMAND`, and dispatch. Commands that talk to latticed are added here
 * as one table line each, with their handler in cmd_<name>.c.
 */
#include <stdio.h>
#include <string.h>

#include "latticectl.h"
#include "lt_config.h"

static int cmd_help(const lctl_command *cmd, int argc, char **argv);

static const lt_opt help_options[] = {
    { "help", 'h', NULL, LT_OPT_FLAG, NULL, NULL, "show this help and exit", 0, 0, 0 },
};

static const lt_opts_spec help_opts = {
    .prog = "latticectl help",
    .usage = "latticectl help [COMMAND]",
    .summary = "Show the list of commands, or the help of one command.",
    .opts = help_options,
    .nopts = sizeof(help_options) / sizeof(help_options[0]),
};

const lctl_command lctl_commands[] = {
    { "validate", "check a manifest offline: every error and warning, with its location",
      &lctl_validate_opts, lctl_cmd_validate },
    { "help", "show the help of a command", &help_opts, cmd_help },
    { NULL, NULL, NULL, NULL },
};

static const lctl_command *find_command(const char *name)
{
    for (const lctl_command *c = lctl_commands; c->name != NULL; c++) {
        if (strcmp(c->name, name) == 0)
            return c;
    }
    return NULL;
}

static void usage(FILE *out)
{
    fprintf(out,
            "Usage: latticectl [--help] [--version] COMMAND [ARGS...]\n\n"
            "latticectl drives latticed, a declarative control plane for WebAssembly hosts\n"
            "on NATS JetStream (wadm-compatible manifests).\n\nCommands:\n");
    for (const lctl_command *c = lctl_commands; c->name != NULL; c++)
        fprintf(out, "  %-12s %s\n", c->name, c->summary);
    fprintf(out,
            "\nOptions:\n"
            "  -h, --help     show this help and exit\n"
            "  -V, --version  show the version and exit\n\n"
            "Run 'latticectl COMMAND --help' for the options of a command.\n"
            "Exit status: 0 success, 1 failure (e.g. an invalid manifest), 2 usage or I/O "
            "error.\n");
}

void lctl_command_help(const lctl_command *cmd)
{
    lt_opts_help(cmd->opts, stdout);
}

static int cmd_help(const lctl_command *cmd, int argc, char **argv)
{
    if (argc > 1 && strcmp(argv[1], "-h") != 0 && strcmp(argv[1], "--help") != 0) {
        const lctl_command *c = find_command(argv[1]);
        if (c == NULL) {
            fprintf(stderr, "latticectl: unknown command '%s' (see latticectl --help)\n",
                    argv[1]);
            return LCTL_EXIT_USAGE;
        }
        lctl_command_help(c);
        return LCTL_EXIT_OK;
    }
    if (argc > 1)
        lctl_command_help(cmd);
    else
        usage(stdout);
    return LCTL_EXIT_OK;
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        usage(stderr);
        return LCTL_EXIT_USAGE;
    }
    const char *first = argv[1];
    if (strcmp(first, "-h") == 0 || strcmp(first, "--help") == 0) {
        usage(stdout);
        return LCTL_EXIT_OK;
    }
    if (strcmp(first, "-V") == 0 || strcmp(first, "--version") == 0) {
        printf("latticectl %s\n", LT_VERSION);
        return LCTL_EXIT_OK;
    }
    if (first[0] == '-') {
        fprintf(stderr, "latticectl: unknown option '%s' (see latticectl --help)\n", first);
        return LCTL_EXIT_USAGE;
    }
    const lctl_command *c = find_command(first);
    if (c == NULL) {
        fprintf(stderr, "latticectl: unknown command '%s' (see latticectl --help)\n", first);
        return LCTL_EXIT_USAGE;
    }
    return c->run(c, argc - 1, argv + 1);
}
