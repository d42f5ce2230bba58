/*
 * cmd_apps.c - latticectl commands that store and read manifests: apply,
 * put, get, list, versions and history. Each is one request to latticed's
 * API; tables for people, the exact reply with -o json.
 */
#include <stdlib.h>
#include <string.h>

#include "lctl_api.h"
#include "lctl_sched.h"
#include "lctl_select.h"
#include "lt_alloc.h"

/* ---- a tiny column table --------------------------------------------------------------------- */

#define MAX_COLS 6

typedef struct {
    size_t ncols, nrows, cap;
    char **cells; /* row-major, owned */
    size_t width[MAX_COLS];
} table;

static void table_add(table *t, const char *const *row)
{
    if (t->nrows == t->cap) {
        size_t ncap = t->cap ? t->cap * 2 : 16;
        char **p = lt_realloc(t->cells, ncap * t->ncols * sizeof(char *));

        if (p == NULL)
            return;
        t->cells = p;
        t->cap = ncap;
    }
    for (size_t i = 0; i < t->ncols; i++) {
        const char *v = row[i] != NULL ? row[i] : "";

        t->cells[t->nrows * t->ncols + i] = lt_strdup(v);
        if (strlen(v) > t->width[i])
            t->width[i] = strlen(v);
    }
    t->nrows++;
}

static void table_print(table *t)
{
    for (size_t r = 0; r < t->nrows; r++) {
        for (size_t i = 0; i < t->ncols; i++) {
            const char *v = t->cells[r * t->ncols + i];

            if (i + 1 == t->ncols)
                printf("%s\n", v ? v : "");
            else
                printf("%-*s  ", (int)t->width[i], v ? v : "");
        }
    }
    for (size_t i = 0; i < t->nrows * t->ncols; i++)
        lt_free(t->cells[i]);
    lt_free(t->cells);
}

/* ---- option tables --------------------------------------------------------------------------- */

/* Option tables: one option per row. */
/* clang-format off */
static const lt_opt apply_options[] = { LCTL_GLOBAL_OPTS,
                                        LCTL_OPT_FILE("manifest to apply (YAML or JSON); - reads "
                                                      "standard input"),
                                        LCTL_OPT_WAIT,
                                        LCTL_OPT_WAIT_TIMEOUT,
    { "dry-run", 0, NULL, LT_OPT_FLAG, NULL, NULL,
      "store nothing: show what applying would do, as latticectl plan does (same output and "
      "exit status)", LCTL_F(dry_run), 0, 0 } };
LCTL_SPEC(apply, apply_options,
          "latticectl apply -f FILE|- [--wait [--wait-timeout D]] [--dry-run]",
          "Store the manifest as a new version and deploy it, in one step (model.apply). An\n"
          "unchanged manifest changes nothing; the reply says what changed. --wait then\n"
          "follows the app's status until the applied version is deployed (exit 0), failed or\n"
          "not there within --wait-timeout (exit 1, saying what is pending).");

static const lt_opt put_options[] = { LCTL_GLOBAL_OPTS,
                                      LCTL_OPT_FILE("manifest to store (YAML or JSON); - reads "
                                                    "standard input") };
LCTL_SPEC(put, put_options, "latticectl put -f FILE|-",
          "Store the manifest as a new version without deploying it (model.put). A manifest\n"
          "without a version annotation gets a ULID.");

static const lt_opt get_options[] = { LCTL_GLOBAL_OPTS,
                                      LCTL_OPT_VERSION("version to show (default: the latest)") };
LCTL_SPEC(get, get_options, "latticectl get [NAME] [--version V]",
          "Show the manifest of an application (as YAML in table mode), or list every\n"
          "application of the lattice when no NAME is given.");

static const lt_opt list_options[] = { LCTL_GLOBAL_OPTS,
                                       LCTL_OPT_SELECTOR("only the applications whose manifest "
                                                         "labels (metadata.labels of the deployed "
                                                         "version, else the latest) match: "
                                                         "key=value, key!=value, key, !key") };
LCTL_SPEC(list, list_options, "latticectl list [-l SELECTOR]",
          "List the applications of the lattice: latest and deployed version, status.");

static const lt_opt versions_options[] = { LCTL_GLOBAL_OPTS };
LCTL_SPEC(versions, versions_options, "latticectl versions NAME",
          "List the stored versions of an application, oldest first; * marks the deployed one.");

static const lt_opt history_options[] = { LCTL_GLOBAL_OPTS };
LCTL_SPEC(history, history_options, "latticectl history NAME",
          "Show what happened to an application: put, deploy, undeploy and delete events with\n"
          "their times (RFC 3339, UTC).");
/* clang-format on */

/* ---- shared runner --------------------------------------------------------------------------- */

/* Parse, connect, request op (with the -f file as body when with_file), print. */
static int run(const lctl_command *cmd, int argc, char **argv, const char *op, int min_pos,
               int max_pos, bool with_file, void (*tbl)(lctl_client *c))
{
    lctl_api_cfg cfg;
    lctl_client c;
    const char *pos[2] = { NULL, NULL }, *ct = NULL;
    char *data = NULL, body[512];
    size_t len = 0;
    int npos = 0, code;

    code = lctl_api_parse(cmd, &cfg, argc, argv, pos, max_pos, &npos);
    if (code != 0)
        return code < 0 ? LCTL_EXIT_OK : code;
    if (npos < min_pos) {
        fprintf(stderr, "latticectl %s: missing application NAME (usage: %s)\n", cmd->name,
                cmd->opts->usage);
        return LCTL_EXIT_USAGE;
    }
    if (with_file) {
        if (cfg.file == NULL) {
            fprintf(stderr, "latticectl %s: -f FILE is required (- for standard input)\n",
                    cmd->name);
            return LCTL_EXIT_USAGE;
        }
        if ((code = lctl_read_manifest(cfg.file, &data, &len, &ct)) != 0)
            return code;
    } else if (cfg.version != NULL) {
        json_t *o = json_pack("{s:s}", "version", cfg.version);
        char *t = o ? json_dumps(o, JSON_COMPACT) : NULL;

        snprintf(body, sizeof(body), "%s", t ? t : "");
        free(t);
        json_decref(o);
        data = lt_strdup(body);
        len = strlen(body);
    }
    if ((code = lctl_connect(&c, &cfg)) == 0) {
        code = lctl_request(&c, op, npos > 0 ? pos[0] : NULL, data, len, ct);
        if (code == 0)
            code = lctl_finish(&c, tbl);
        if (code == 0 && cfg.wait)
            code = lctl_wait_applied(&c); /* apply --wait: cmd_wait.c */
    }
    lctl_close(&c);
    lt_free(data);
    return code;
}

/* ---- tables ---------------------------------------------------------------------------------- */

static void print_apply(lctl_client *c)
{
    const json_t *ch = json_object_get(c->reply, "changed");

    printf("%s (%s%s%s)\n", lctl_str(c->reply, "message", ""),
           json_is_true(json_object_get(ch, "put")) ? "stored a new version" : "nothing stored",
           ", ", json_is_true(json_object_get(ch, "deploy")) ? "deployed" : "deployment unchanged");
}

static void print_list(lctl_client *c)
{
    const json_t *models = json_is_array(c->reply) ? c->reply : json_object_get(c->reply, "models");
    table t = { .ncols = 5 };
    const char *head[] = { "NAME", "LATEST", "DEPLOYED", "STATUS", "DESCRIPTION" };
    size_t i;
    json_t *m;

    if (json_array_size(models) == 0) {
        printf("No applications in lattice %s\n", c->cfg->lattice);
        return;
    }
    table_add(&t, head);
    json_array_foreach ((json_t *)models, i, m) {
        const char *status =
            lctl_str(json_object_get(json_object_get(m, "detailed_status"), "status"), "type",
                     lctl_str(m, "status", ""));
        const char *row[] = { lctl_str(m, "name", ""), lctl_str(m, "version", "-"),
                              lctl_str(m, "deployed_version", "-"), status,
                              lctl_str(m, "description", "") };

        table_add(&t, row);
    }
    table_print(&t);
}

static void print_manifest(lctl_client *c)
{
    lctl_print_yaml(stdout, json_object_get(c->reply, "manifest"));
}

static void print_versions(lctl_client *c)
{
    table t = { .ncols = 2 };
    const char *head[] = { "VERSION", "DEPLOYED" };
    size_t i;
    json_t *v;

    table_add(&t, head);
    json_array_foreach (json_object_get(c->reply, "versions"), i, v) {
        const char *row[] = { lctl_str(v, "version", ""),
                              json_is_true(json_object_get(v, "deployed")) ? "*" : "" };

        table_add(&t, row);
    }
    table_print(&t);
}

static void print_history(lctl_client *c)
{
    table t = { .ncols = 3 };
    const char *head[] = { "TIME", "EVENT", "VERSION" };
    size_t i;
    json_t *e;

    table_add(&t, head);
    json_array_foreach (json_object_get(c->reply, "history"), i, e) {
        const char *row[] = { lctl_str(e, "time", "-"), lctl_str(e, "event", ""),
                              lctl_str(e, "version", "-") };

        table_add(&t, row);
    }
    table_print(&t);
}

/* ---- handlers -------------------------------------------------------------------------------- */

int lctl_cmd_apply(const lctl_command *cmd, int argc, char **argv)
{
    for (int i = 1; i < argc; i++)
        if (strcmp(argv[i], "--dry-run") == 0)
            return lctl_plan_run(cmd, argc, argv); /* cmd_plan.c */
    return run(cmd, argc, argv, "apply", 0, 0, true, print_apply);
}

int lctl_cmd_put(const lctl_command *cmd, int argc, char **argv)
{
    return run(cmd, argc, argv, "put", 0, 0, true, NULL);
}

int lctl_cmd_get(const lctl_command *cmd, int argc, char **argv)
{
    const char *pos[1];
    lctl_api_cfg probe;
    int npos = 0, code;

    /* get without NAME lists (model.get); with NAME shows one manifest */
    code = lctl_api_parse(cmd, &probe, argc, argv, pos, 1, &npos);
    if (code != 0)
        return code < 0 ? LCTL_EXIT_OK : code;
    if (npos == 0)
        return run(cmd, argc, argv, "get", 0, 0, false, print_list);
    return run(cmd, argc, argv, "get", 1, 1, false, print_manifest);
}

int lctl_cmd_list(const lctl_command *cmd, int argc, char **argv)
{
    return lctl_select_list(cmd, argc, argv, print_list); /* cmd_select.c: also -l */
}

int lctl_cmd_versions(const lctl_command *cmd, int argc, char **argv)
{
    return run(cmd, argc, argv, "versions", 1, 1, false, print_versions);
}

int lctl_cmd_history(const lctl_command *cmd, int argc, char **argv)
{
    return run(cmd, argc, argv, "history", 1, 1, false, print_history);
}
