/*
 * lctl_api.h - what latticectl's API commands share: their configuration
 * (global options with LATTICE_* environment variables, plus per-command
 * options), option parsing that also takes options after positional
 * arguments, the NATS connection, one request/reply to latticed's API,
 * output as table/json/yaml and the exit codes (0 ok, 1 the server said
 * error/notfound, 2 usage, 3 NATS unreachable or no reply).
 */
#ifndef LCTL_API_H
#define LCTL_API_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <jansson.h>
#include <nats/nats.h>

#include "latticectl.h"

#define LCTL_EXIT_NET 3 /**< cannot reach NATS, or no reply in time */

typedef struct {
    bool help;
    const char *nats_url, *creds, *nkey, *seed, *tls_ca, *tls_cert, *tls_key, *lattice, *output,
        *api_prefix;
    int64_t timeout;          /**< seconds: each request (from timeout_text) */
    const char *timeout_text; /**< --timeout D as given (NULL: 10 s) */
    const char *file, *version, *to;
    bool watch;
    bool force, latest, full, replace; /**< delete --force, get --latest/--full, put --replace */
    bool manifest_only;                /**< get --manifest-only (the default of -o json|yaml) */
    const char *context, *config;      /**< --context NAME, --config FILE (cmd_context.c) */
    bool wait;                         /**< apply --wait */
    const char *wait_for;              /**< status --wait-for deployed|undeployed */
    const char *wait_timeout;          /**< --wait-timeout D (90s, 5m, 1h, plain seconds) */
    const char *jsonpath;              /**< EXPR of -o jsonpath=EXPR, else NULL */
    bool dry_run;                      /**< apply --dry-run: run plan instead (cmd_plan.c) */
} lctl_api_cfg;

#define LCTL_F(field) offsetof(lctl_api_cfg, field)

/* clang-format off */
/* The global options, first rows of every API command's option table. */
#define LCTL_GLOBAL_OPTS                                                                          \
    { "nats-url", 's', "LATTICE_NATS_URL", LT_OPT_STRING, "URL", "nats://127.0.0.1:4222",        \
      "NATS server URL(s), comma-separated", LCTL_F(nats_url), 0, 0 },                            \
    { "creds", 0, "LATTICE_CREDS", LT_OPT_STRING, "FILE", NULL,                                  \
      "NATS credentials file (JWT + nkey seed)", LCTL_F(creds), 0, 0 },                           \
    { "nkey", 0, "LATTICE_NKEY", LT_OPT_STRING, "PUBKEY", NULL,                                 \
      "NATS user nkey public key for nkey auth (needs --seed)", LCTL_F(nkey), 0, 0 },            \
    { "seed", 0, "LATTICE_SEED", LT_OPT_STRING, "FILE", NULL,                                    \
      "NATS user nkey seed file", LCTL_F(seed), 0, 0 },                                           \
    { "tls-ca", 0, "LATTICE_TLS_CA", LT_OPT_STRING, "FILE", NULL,                                \
      "CA bundle to verify the NATS server (enables TLS)", LCTL_F(tls_ca), 0, 0 },                \
    { "tls-cert", 0, "LATTICE_TLS_CERT", LT_OPT_STRING, "FILE", NULL,                            \
      "client certificate for NATS mutual TLS (needs --tls-key)", LCTL_F(tls_cert), 0, 0 },      \
    { "tls-key", 0, "LATTICE_TLS_KEY", LT_OPT_STRING, "FILE", NULL,                              \
      "client private key for NATS mutual TLS", LCTL_F(tls_key), 0, 0 },                          \
    { "lattice", 'x', "LATTICE_LATTICE", LT_OPT_STRING, "NAME", "default",                       \
      "lattice to work on (-x as in wash; -l is the label selector)", LCTL_F(lattice), 0, 0 },    \
    { "timeout", 't', "LATTICE_TIMEOUT", LT_OPT_STRING, "D", NULL,                               \
      "how long to wait for NATS and each reply (default 10s; 30s, 2m or plain seconds); with "  \
      "--wait/--wait-for also the whole wait, unless --wait-timeout is given",                    \
      LCTL_F(timeout_text), 0, 0 },                                                               \
    { "output", 'o', "LATTICE_OUTPUT", LT_OPT_STRING, "table|json|yaml|jsonpath=EXPR", "table",  \
      "table for people, json for the exact API reply, yaml, or fields of the reply picked "      \
      "by a kubectl-style JSONPath template ('{.status.status.type}')", LCTL_F(output), 0, 0 },   \
    { "api-prefix", 0, "LATTICE_API_PREFIX", LT_OPT_STRING, "PREFIX", "wadm.api",                \
      "subject prefix of latticed's API", LCTL_F(api_prefix), 0, 0 },                             \
    { "context", 0, "LATTICE_CONTEXT", LT_OPT_STRING, "NAME", NULL,                              \
      "context of the config file to use (default: its current-context)", LCTL_F(context), 0, 0 },\
    { "config", 0, "LATTICE_CONFIG", LT_OPT_STRING, "FILE", NULL,                                \
      "config file with the contexts (default: $XDG_CONFIG_HOME/latticectl/config.yaml, "        \
      "~/.config/latticectl/config.yaml)", LCTL_F(config), 0, 0 },                              \
    { "help", 'h', NULL, LT_OPT_FLAG, NULL, NULL, "show this help and exit", LCTL_F(help), 0, 0 }

#define LCTL_GLOBAL_COUNT 14

/* Option rows that several commands take, with their own help text. */
#define LCTL_OPT_FILE(help)                                                                       \
    { "file", 'f', NULL, LT_OPT_STRING, "FILE", NULL, help, LCTL_F(file), 0, 0 }
#define LCTL_OPT_VERSION(help)                                                                    \
    { "version", 0, NULL, LT_OPT_STRING, "V", NULL, help, LCTL_F(version), 0, 0 }

/* --wait-timeout, the overall deadline of apply --wait and status --wait-for (cmd_wait.c). */
#define LCTL_OPT_WAIT_TIMEOUT                                                                     \
    { "wait-timeout", 0, "LATTICE_WAIT_TIMEOUT", LT_OPT_STRING, "D", NULL,                       \
      "how long --wait/--wait-for may take in all (default 5m, or --timeout when given; 90s, "   \
      "1h30m or plain seconds)", LCTL_F(wait_timeout), 0, 0 }

/* apply --wait (cmd_wait.c). */
#define LCTL_OPT_WAIT                                                                             \
    { "wait", 0, NULL, LT_OPT_FLAG, NULL, NULL,                                                  \
      "then wait until the applied version is deployed (exit 1 when it failed or "               \
      "--wait-timeout passed)", LCTL_F(wait), 0, 0 }

/* Defines `lctl_<cmd>_opts`, the option spec of command cmd, from its option table. */
#define LCTL_SPEC(cmd, opts_array, usage_text, summary_text)                                     \
    const lt_opts_spec lctl_##cmd##_opts = {                                                      \
        .prog = "latticectl " #cmd,                                                              \
        .usage = usage_text,                                                                     \
        .summary = summary_text,                                                                 \
        .opts = opts_array,                                                                      \
        .nopts = sizeof(opts_array) / sizeof(opts_array[0]),                                     \
    }
/* clang-format on */

/** The global option rows alone (for `latticectl --help` and the docs). */
extern const lt_opt lctl_global_opts[LCTL_GLOBAL_COUNT];

/**
 * Parse a command's options wherever they appear among its arguments
 * (options before positionals are not required). Positionals are returned
 * in pos[0..*npos) (borrowed from argv; at most maxpos). Prints --help and
 * returns -1 for help, LCTL_EXIT_USAGE (after a one-line reason) on a bad
 * command line, 0 to go on.
 */
int lctl_api_parse(const lctl_command *cmd, lctl_api_cfg *cfg, int argc, char **argv,
                   const char **pos, int maxpos, int *npos);

/**
 * Move global options written before the command behind it
 * (`latticectl --lattice x get` -> `latticectl get --lattice x`), so the
 * command's own parser sees them. Returns true when argv changed.
 */
bool lctl_hoist_globals(int argc, char **argv);

/** An API client: a connection and the reply of the last request. */
typedef struct {
    const lctl_api_cfg *cfg;
    natsConnection *nc;
    json_t *reply;                     /**< parsed reply */
    char *raw;                         /**< reply bytes as received (for -o json) */
    const char *header, *header_value; /**< one more request header (put --replace), or NULL */
} lctl_client;

/** Connect (exit code: 0 or LCTL_EXIT_NET with a reason on stderr). */
int lctl_connect(lctl_client *c, const lctl_api_cfg *cfg);

/** Close and free. NULL-safe fields. */
void lctl_close(lctl_client *c);

/**
 * Request `{prefix}.{lattice}.model.{op}[.{name}]` with body (may be NULL)
 * and an optional content type. 0 on a reply, LCTL_EXIT_NET when none came
 * (reason on stderr), LCTL_EXIT_FAIL when the reply is not JSON.
 */
int lctl_request(lctl_client *c, const char *op, const char *name, const char *body, size_t len,
                 const char *content_type);

/**
 * The usual ending: with -o json print the raw reply, with -o yaml its YAML
 * form, otherwise call table(c) (may be NULL: print the message). Returns 1
 * when reply.result is error/notfound (message on stderr in table mode), else 0.
 */
int lctl_finish(lctl_client *c, void (*table)(lctl_client *c));

/** Print a JSON value as YAML (block style) to out. */
void lctl_print_yaml(FILE *out, const json_t *v);

/** Read a manifest file ("-": stdin); content type guessed from the extension (or NULL). */
int lctl_read_manifest(const char *path, char **data, size_t *len, const char **content_type);

/** The app name of a manifest file (for `-f FILE` on undeploy/delete). Exit code. */
int lctl_name_from_file(const char *path, char **name);

/** Small text helpers for tables. */
const char *lctl_str(const json_t *o, const char *key, const char *dflt);

/* Handlers and option tables of the API commands (cmd_apps.c, cmd_deploy.c, cmd_completion.c). */
#define LCTL_DECLARE(name)                                               \
    int lctl_cmd_##name(const lctl_command *cmd, int argc, char **argv); \
    extern const lt_opts_spec lctl_##name##_opts
LCTL_DECLARE(apply);
LCTL_DECLARE(put);
LCTL_DECLARE(get);
LCTL_DECLARE(list);
LCTL_DECLARE(versions);
LCTL_DECLARE(history);
LCTL_DECLARE(deploy);
LCTL_DECLARE(undeploy);
LCTL_DECLARE(rollback);
LCTL_DECLARE(delete);
LCTL_DECLARE(status);
LCTL_DECLARE(completion);

/* Truthful output (cmd_apps.c): not-found replies and small tables. */

/**
 * When the reply is a `notfound` about application name (version: the version asked for, or
 * NULL): print the reply as -o json/yaml ask, and on stderr `latticectl: application 'X' not
 * found in lattice 'L'` (or `version 'V' of application 'X' ...`); return LCTL_EXIT_FAIL.
 * Otherwise -1 (nothing printed).
 */
int lctl_not_found(lctl_client *c, const char *name, const char *version);

/** lctl_not_found, else lctl_finish. */
int lctl_finish_app(lctl_client *c, const char *name, const char *version,
                    void (*table)(lctl_client *c));

#define LCTL_TABLE_COLS 8

/** A text table: add rows (the first is the header), then print (out NULL: only free) it. */
typedef struct {
    size_t ncols, nrows, cap;
    char **cells; /* row-major, owned */
    size_t width[LCTL_TABLE_COLS];
} lctl_table;

void lctl_table_add(lctl_table *t, const char *const *row);
void lctl_table_print(lctl_table *t, FILE *out);
/**
 * Fill the connection settings the command line and the environment left at their defaults
 * (or unset) from a context of the config file (--config / LATTICE_CONFIG, else
 * $XDG_CONFIG_HOME/latticectl/config.yaml or ~/.config/latticectl/config.yaml): the one named
 * by --context / LATTICE_CONTEXT, else the file's current-context. No file and no --context:
 * nothing changes. Precedence: flag > environment > context > default. Exit code: 0, or
 * LCTL_EXIT_USAGE after a one-line reason (unreadable file, unknown context). cmd_context.c.
 */
int lctl_context_resolve(const lt_opts_spec *spec, lctl_api_cfg *cfg);

/** `latticectl context list|use NAME|show [NAME]` (cmd_context.c). */
LCTL_DECLARE(context);

/**
 * Follow wadm.status.{lattice}.{name} (subscribed before the first model.status request, so no
 * change is missed) until the app is `want` ("deployed" or "undeployed"; with version non-NULL,
 * deployed means that version is deployed), showing progress (live on a terminal, one
 * timestamped line per change otherwise). Exit code: 0 reached, 1 failed (reasons printed) or
 * the --wait-timeout passed (what is pending printed), LCTL_EXIT_NET. Progress goes to stdout
 * in table mode, else to stderr; print_final prints the final status in the -o form (json,
 * yaml, jsonpath) on stdout. cmd_wait.c.
 */
int lctl_wait(lctl_client *c, const char *name, const char *want, const char *version,
              bool print_final);

/** apply --wait: lctl_wait for the name and version of the apply reply in c->reply. */
int lctl_wait_applied(lctl_client *c);

/**
 * `status --watch`: subscribe to the app's status, then ask model.status (so no change is
 * missed), then print each change until SIGINT/SIGTERM: in table mode the status lines behind
 * an RFC 3339 UTC time (milliseconds), with -o jsonpath a line per status document; with -o
 * json/yaml the first reply through lctl_finish(c, table), then each status document.
 */
int lctl_watch(lctl_client *c, const char *name, void (*table)(lctl_client *c));

/**
 * Print doc (raw: its exact text, may be NULL) in the -o form of cfg: json, yaml or jsonpath.
 * Returns false, printing nothing, in table mode. jsonpath.c's evaluator does the picking.
 */
bool lctl_print_doc(const lctl_api_cfg *cfg, const json_t *doc, const char *raw);

/** The global options for `latticectl --help` (generated from lctl_global_opts). */
void lctl_global_help(FILE *out);

/** `latticectl help --markdown`: the CLI reference (docs/cli.md) from the command table. */
int lctl_help_markdown(FILE *out);

#endif
