/*
 * main.c - latticectl's entry point: the static command table (name, summary,
 * option table, handler), the top-level --help generated from it, --version,
 * `help COMMAND`, and dispatch. Commands that talk to latticed are added here
 * as one table line each, with their handler in cmd_<name>.c.
 */
#include <stdio.h>
#include <string.h>

#include "latticectl.h"
#include "lctl_api.h"
#include "lctl_sched.h"
#include "lt_config.h"

static int cmd_help(const lctl_command *cmd, int argc, char **argv);

/* Option tables: one option per row. */
/* clang-format off */
static const lt_opt help_options[] = {
    { "help", 'h', NULL, LT_OPT_FLAG, NULL, NULL, "show this help and exit", 0, 0, 0 },
};
/* clang-format on */

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
    { "apply", "store a manifest as a new version and deploy it (no-op when unchanged)",
      &lctl_apply_opts, lctl_cmd_apply },
    { "put", "store a manifest as a new version without deploying it", &lctl_put_opts,
      lctl_cmd_put },
    { "get", "show an application's manifest, or list the applications", &lctl_get_opts,
      lctl_cmd_get },
    { "list", "list the applications of the lattice with their status", &lctl_list_opts,
      lctl_cmd_list },
    { "versions", "list the stored versions of an application", &lctl_versions_opts,
      lctl_cmd_versions },
    { "deploy", "deploy a stored version of an application", &lctl_deploy_opts, lctl_cmd_deploy },
    { "undeploy", "stop running an application (keeps its versions)", &lctl_undeploy_opts,
      lctl_cmd_undeploy },
    { "rollback", "deploy an earlier version again", &lctl_rollback_opts, lctl_cmd_rollback },
    { "delete", "delete an application or one of its versions", &lctl_delete_opts,
      lctl_cmd_delete },
    { "status", "show (or --watch) the status of an application", &lctl_status_opts,
      lctl_cmd_status },
    { "history", "show the put/deploy/undeploy/delete events of an application", &lctl_history_opts,
      lctl_cmd_history },
    { "hosts", "list the hosts of the lattice: state, instances, capacity, labels",
      &lctl_hosts_opts, lctl_cmd_hosts },
    { "events", "print (or --follow) the control plane's events of the lattice", &lctl_events_opts,
      lctl_cmd_events },
    { "plan", "show what deploying a manifest would do, and what cannot be placed", &lctl_plan_opts,
      lctl_cmd_plan },
    { "instances", "list every instance of an application: host, state, restarts, last error",
      &lctl_instances_opts, lctl_cmd_instances },
    { "context", "list, switch or show the named connection settings (contexts)",
      &lctl_context_opts, lctl_cmd_context },
    { "completion", "print a bash, zsh or fish completion script", &lctl_completion_opts,
      lctl_cmd_completion },
    { "help", "show the help of a command", &help_opts, cmd_help },
    { NULL, NULL, NULL, NULL },
};

#define MAX_NAMES 128 /* commands, or global options, offered as "did you mean" */

static const lctl_command *find_command(const char *name)
{
    for (const lctl_command *c = lctl_commands; c->name != NULL; c++) {
        if (strcmp(c->name, name) == 0)
            return c;
    }
    return NULL;
}

/* `latticectl: unknown command 'stauts'. Did you mean 'status'?` (exit 2). */
static int unknown_command(const char *name)
{
    const char *names[MAX_NAMES], *best;
    size_t n = 0;

    for (const lctl_command *c = lctl_commands; c->name != NULL && n < MAX_NAMES; c++)
        names[n++] = c->name;
    best = lt_opts_suggest(name, names, n);
    if (best != NULL)
        fprintf(stderr, "latticectl: unknown command '%s'. Did you mean '%s'?\n", name, best);
    else
        fprintf(stderr, "latticectl: unknown command '%s' (see latticectl --help)\n", name);
    return LCTL_EXIT_USAGE;
}

/* An unknown option before the command: the nearest global option, --help or --version. */
static int unknown_option(const char *arg)
{
    const char *names[MAX_NAMES], *best = NULL;
    char word[LT_OPTS_WORD_MAX + 1];
    size_t n = 0, len;

    if (strncmp(arg, "--", 2) == 0) {
        len = strcspn(arg + 2, "=");
        if (len <= LT_OPTS_WORD_MAX) {
            memcpy(word, arg + 2, len);
            word[len] = '\0';
            for (size_t i = 0; i < LCTL_GLOBAL_COUNT; i++)
                names[n++] = lctl_global_opts[i].name;
            names[n++] = "version";
            best = lt_opts_suggest(word, names, n);
        }
    }
    if (best != NULL)
        fprintf(stderr, "latticectl: unknown option '%s'. Did you mean '--%s'?\n", arg, best);
    else
        fprintf(stderr, "latticectl: unknown option '%s' (see latticectl --help)\n", arg);
    return LCTL_EXIT_USAGE;
}

static void usage(FILE *out)
{
    fprintf(out, "Usage: latticectl [--help] [--version] COMMAND [ARGS...]\n\n"
                 "latticectl drives latticed, a declarative control plane for WebAssembly hosts\n"
                 "on NATS JetStream (wadm-compatible manifests).\n\nCommands:\n");
    for (const lctl_command *c = lctl_commands; c->name != NULL; c++)
        fprintf(out, "  %-12s %s\n", c->name, c->summary);
    fprintf(out, "\nOptions:\n"
                 "  -h, --help     show this help and exit\n"
                 "  -V, --version  show the version and exit\n\n"
                 "Run 'latticectl COMMAND --help' for the options of a command.\n"
                 "Exit status: 0 success, 1 failure (e.g. an invalid manifest), 2 usage or I/O "
                 "error, 3 NATS unreachable or no reply in time.\n");
    lctl_global_help(out);
}

void lctl_command_help(const lctl_command *cmd)
{
    lt_opts_help(cmd->opts, stdout);
}

static int cmd_help(const lctl_command *cmd, int argc, char **argv)
{
    if (argc == 2 && strcmp(argv[1], "--markdown") == 0)
        return lctl_help_markdown(stdout); /* docs/cli.md */
    if (argc == 2 && strcmp(argv[1], "--man") == 0)
        return lctl_help_man(stdout); /* latticectl.1, built and installed by meson */
    if (argc > 1 && strcmp(argv[1], "-h") != 0 && strcmp(argv[1], "--help") != 0) {
        const lctl_command *c = find_command(argv[1]);
        if (c == NULL)
            return unknown_command(argv[1]);
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
    if (first[0] == '-' && lctl_hoist_globals(argc, argv))
        first = argv[1]; /* `latticectl --lattice x get` -> `get --lattice x` */
    if (first[0] == '-')
        return unknown_option(first);
    if (strcmp(first, lctl_complete_command.name) == 0) /* hidden: the completion scripts' */
        return lctl_cmd_complete(&lctl_complete_command, argc - 1, argv + 1);
    const lctl_command *c = find_command(first);
    if (c == NULL)
        return unknown_command(first);
    return c->run(c, argc - 1, argv + 1);
}
