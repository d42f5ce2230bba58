/*
 * cmd_apps.c - latticectl commands that read manifests: get (the deployed
 * version by default, the manifest alone with -o json|yaml), list, versions
 * and history; and what the API commands share for truthful output: a
 * not-found reply becomes "application 'X' not found in lattice 'L'" with
 * exit 1, and a small text table.
 */
#include <stdlib.h>
#include <string.h>

#include "lctl_api.h"
#include "lctl_sched.h"
#include "lctl_select.h"
#include "lt_alloc.h"

/* ---- a tiny column table --------------------------------------------------------------------- */

void lctl_table_add(lctl_table *t, const char *const *row)
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

void lctl_table_print(lctl_table *t, FILE *out)
{
    for (size_t r = 0; out != NULL && r < t->nrows; r++) {
        char *const *row = &t->cells[r * t->ncols];
        size_t last = t->ncols; /* no padding after the last non-empty cell */

        while (last > 1 && (row[last - 1] == NULL || row[last - 1][0] == '\0'))
            last--;
        for (size_t i = 0; i < last; i++) {
            const char *v = row[i] != NULL ? row[i] : "";

            if (i + 1 == last)
                fprintf(out, "%s\n", v);
            else
                fprintf(out, "%-*s  ", (int)t->width[i], v);
        }
    }
    for (size_t i = 0; i < t->nrows * t->ncols; i++)
        lt_free(t->cells[i]);
    lt_free(t->cells);
    t->cells = NULL;
    t->nrows = t->cap = 0;
}

/* ---- not found ------------------------------------------------------------------------------- */

int lctl_not_found(lctl_client *c, const char *name, const char *version)
{
    const char *result = json_is_object(c->reply) ? lctl_str(c->reply, "result", "") : "";
    const char *msg = lctl_str(c->reply, "message", "");

    if (strcmp(result, "notfound") != 0)
        return -1;
    (void)lctl_print_doc(c->cfg, c->reply, c->raw); /* -o json|yaml|jsonpath */
    /* wadm says "Application with the name X not found" when the app is missing */
    if (version != NULL && strstr(msg, "Application with the name") == NULL)
        fprintf(stderr, "latticectl: version '%s' of application '%s' not found in lattice '%s'\n",
                version, name, c->cfg->lattice);
    else
        fprintf(stderr, "latticectl: application '%s' not found in lattice '%s'\n", name,
                c->cfg->lattice);
    return LCTL_EXIT_FAIL;
}

int lctl_finish_app(lctl_client *c, const char *name, const char *version,
                    void (*table)(lctl_client *c))
{
    int code = lctl_not_found(c, name, version);

    return code >= 0 ? code : lctl_finish(c, table);
}

/* ---- option tables --------------------------------------------------------------------------- */

/* Option tables: one option per row. */
/* clang-format off */
static const lt_opt get_options[] = {
    LCTL_GLOBAL_OPTS,
    LCTL_OPT_VERSION("version to show (default: the deployed one, else the latest)"),
    { "latest", 0, NULL, LT_OPT_FLAG, NULL, NULL,
      "show the latest stored version instead of the deployed one", LCTL_F(latest), 0, 0 },
    { "full", 0, NULL, LT_OPT_FLAG, NULL, NULL,
      "with -o json|yaml: the whole API reply (result, message, manifest), not only the manifest",
      LCTL_F(full), 0, 0 },
    { "manifest-only", 0, NULL, LT_OPT_FLAG, NULL, NULL,
      "with -o json|yaml: only the manifest, which apply takes unchanged (the default)",
      LCTL_F(manifest_only), 0, 0 },
};
LCTL_SPEC(get, get_options,
          "latticectl get [NAME] [--version V | --latest] [--manifest-only | --full]",
          "Show the manifest of an application: the deployed version (--latest: the latest\n"
          "stored one; --version V: that one; the latest when none is deployed). -o yaml and\n"
          "-o json print only the manifest, which `apply -f` takes unchanged (--full: the API\n"
          "reply). Without NAME, list every application of the lattice.");

static const lt_opt list_options[] = { LCTL_GLOBAL_OPTS,
                                       LCTL_OPT_SELECTOR("only the applications whose manifest "
                                                         "labels (metadata.labels of the deployed "
                                                         "version, else the latest) match: "
                                                         "key=value, key!=value, key, !key") };
LCTL_SPEC(list, list_options, "latticectl list [-l SELECTOR]",
          "List the applications of the lattice: latest and deployed version, status.");

static const lt_opt versions_options[] = { LCTL_GLOBAL_OPTS };
LCTL_SPEC(versions, versions_options, "latticectl versions NAME",
          "List the stored versions of an application, oldest first; * marks the deployed one.\n"
          "Exit 1 when the application does not exist.");

static const lt_opt history_options[] = { LCTL_GLOBAL_OPTS };
LCTL_SPEC(history, history_options, "latticectl history NAME",
          "Show what happened to an application: put, deploy, undeploy and delete events with\n"
          "their times (RFC 3339, UTC). Exit 1 when the application does not exist.");
/* clang-format on */

/* ---- shared runner --------------------------------------------------------------------------- */

/* Parse, connect, request op on NAME (when min_pos), print. */
static int run(const lctl_command *cmd, int argc, char **argv, const char *op, int min_pos,
               void (*tbl)(lctl_client *c))
{
    lctl_api_cfg cfg;
    lctl_client c;
    const char *pos[1] = { NULL };
    int npos = 0, code;

    code = lctl_api_parse(cmd, &cfg, argc, argv, pos, min_pos, &npos);
    if (code != 0)
        return code < 0 ? LCTL_EXIT_OK : code;
    if (npos < min_pos) {
        fprintf(stderr, "latticectl %s: missing application NAME (usage: %s)\n", cmd->name,
                cmd->opts->usage);
        return LCTL_EXIT_USAGE;
    }
    if ((code = lctl_connect(&c, &cfg)) == 0) {
        code = lctl_request(&c, op, npos > 0 ? pos[0] : NULL, NULL, 0, NULL);
        if (code == 0)
            code = npos > 0 ? lctl_finish_app(&c, pos[0], NULL, tbl) : lctl_finish(&c, tbl);
    }
    lctl_close(&c);
    return code;
}

/* ---- tables ---------------------------------------------------------------------------------- */

static void print_list(lctl_client *c)
{
    const json_t *models = json_is_array(c->reply) ? c->reply : json_object_get(c->reply, "models");
    lctl_table t = { .ncols = 5 };
    const char *head[] = { "NAME", "LATEST", "DEPLOYED", "STATUS", "DESCRIPTION" };
    size_t i;
    json_t *m;

    if (json_array_size(models) == 0) {
        printf("No applications in lattice %s\n", c->cfg->lattice);
        return;
    }
    lctl_table_add(&t, head);
    json_array_foreach ((json_t *)models, i, m) {
        const char *status =
            lctl_str(json_object_get(json_object_get(m, "detailed_status"), "status"), "type",
                     lctl_str(m, "status", ""));
        const char *row[] = { lctl_str(m, "name", ""), lctl_str(m, "version", "-"),
                              lctl_str(m, "deployed_version", "-"), status,
                              lctl_str(m, "description", "") };

        lctl_table_add(&t, row);
    }
    lctl_table_print(&t, stdout);
}

static void print_versions(lctl_client *c)
{
    lctl_table t = { .ncols = 2 };
    const char *head[] = { "VERSION", "DEPLOYED" };
    size_t i;
    json_t *v;

    lctl_table_add(&t, head);
    json_array_foreach (json_object_get(c->reply, "versions"), i, v) {
        const char *row[] = { lctl_str(v, "version", ""),
                              json_is_true(json_object_get(v, "deployed")) ? "*" : "" };

        lctl_table_add(&t, row);
    }
    lctl_table_print(&t, stdout);
}

static void print_history(lctl_client *c)
{
    lctl_table t = { .ncols = 3 };
    const char *head[] = { "TIME", "EVENT", "VERSION" };
    size_t i;
    json_t *e;

    lctl_table_add(&t, head);
    json_array_foreach (json_object_get(c->reply, "history"), i, e) {
        const char *row[] = { lctl_str(e, "time", "-"), lctl_str(e, "event", ""),
                              lctl_str(e, "version", "-") };

        lctl_table_add(&t, row);
    }
    lctl_table_print(&t, stdout);
}

/* ---- get ------------------------------------------------------------------------------------- */

/* The deployed version of name (model.versions): a copy in out, "" when none is deployed.
 * 0, or the exit code after the reason (not found...) was printed. */
static int deployed_version(lctl_client *c, const char *name, char *out, size_t size)
{
    size_t i;
    json_t *v;
    int code = lctl_request(c, "versions", name, NULL, 0, NULL);

    out[0] = '\0';
    if (code != 0)
        return code;
    if ((code = lctl_not_found(c, name, NULL)) >= 0)
        return code;
    if (strcmp(lctl_str(c->reply, "result", ""), "success") != 0)
        return lctl_finish(c, NULL);
    json_array_foreach (json_object_get(c->reply, "versions"), i, v)
        if (json_is_true(json_object_get(v, "deployed")))
            snprintf(out, size, "%s", lctl_str(v, "version", ""));
    return 0;
}

static void print_manifest(lctl_client *c)
{
    lctl_print_yaml(stdout, json_object_get(c->reply, "manifest"));
}

/* get NAME: the manifest only, unless --full (then the reply, as every command prints it). */
static int get_one(lctl_api_cfg *cfg, const char *name)
{
    lctl_client c;
    char deployed[512], *body = NULL;
    const char *v = cfg->version;
    int code;

    if (cfg->latest && cfg->version != NULL) {
        fprintf(stderr, "latticectl get: give --version V or --latest, not both\n");
        return LCTL_EXIT_USAGE;
    }
    if (cfg->full && cfg->manifest_only) {
        fprintf(stderr, "latticectl get: give --manifest-only or --full, not both\n");
        return LCTL_EXIT_USAGE;
    }
    if ((code = lctl_connect(&c, cfg)) != 0)
        goto out;
    if (v == NULL && !cfg->latest) {
        if ((code = deployed_version(&c, name, deployed, sizeof(deployed))) != 0)
            goto out;
        v = deployed[0] != '\0' ? deployed : NULL; /* nothing deployed: the latest */
    }
    if (v != NULL) {
        json_t *o = json_pack("{s:s}", "version", v);

        body = o != NULL ? json_dumps(o, JSON_COMPACT) : NULL;
        json_decref(o);
    }
    if ((code = lctl_request(&c, "get", name, body, body ? strlen(body) : 0, NULL)) != 0)
        goto out;
    if ((code = lctl_not_found(&c, name, v)) >= 0)
        goto out;
    code = 0;
    if (cfg->full || strcmp(lctl_str(c.reply, "result", ""), "success") != 0 ||
        strcmp(cfg->output, "table") == 0) {
        code = lctl_finish(&c, print_manifest);
    } else if (strcmp(cfg->output, "json") == 0) {
        char *text = json_dumps(json_object_get(c.reply, "manifest"), JSON_INDENT(2));

        printf("%s\n", text != NULL ? text : "null");
        free(text);
    } else { /* yaml, jsonpath: of the manifest */
        (void)lctl_print_doc(cfg, json_object_get(c.reply, "manifest"), NULL);
    }
out:
    lctl_close(&c);
    free(body);
    return code;
}

/* ---- handlers -------------------------------------------------------------------------------- */

int lctl_cmd_get(const lctl_command *cmd, int argc, char **argv)
{
    const char *pos[1];
    lctl_api_cfg cfg;
    int npos = 0, code;

    /* get without NAME lists (model.get); with NAME shows one manifest */
    code = lctl_api_parse(cmd, &cfg, argc, argv, pos, 1, &npos);
    if (code != 0)
        return code < 0 ? LCTL_EXIT_OK : code;
    if (npos == 0)
        return run(cmd, argc, argv, "get", 0, print_list);
    return get_one(&cfg, pos[0]);
}

int lctl_cmd_list(const lctl_command *cmd, int argc, char **argv)
{
    return lctl_select_list(cmd, argc, argv, print_list); /* cmd_select.c: also -l */
}

int lctl_cmd_versions(const lctl_command *cmd, int argc, char **argv)
{
    return run(cmd, argc, argv, "versions", 1, print_versions);
}

int lctl_cmd_history(const lctl_command *cmd, int argc, char **argv)
{
    return run(cmd, argc, argv, "history", 1, print_history);
}
