/*
 * cmd_deploy.c - latticectl commands that change or watch what runs:
 * deploy, undeploy, rollback, delete and status (--watch and --wait-for follow
 * `wadm.status.{lattice}.{name}`: cmd_wait.c). undeploy and delete also
 * take the name from a manifest file (-f), as kubectl users expect.
 */
#include <stdlib.h>
#include <string.h>

#include "lctl_api.h"
#include "lt_alloc.h"
#include "lt_subject.h"

/* Option tables: one option per row. */
/* clang-format off */
static const lt_opt deploy_options[] = {
    LCTL_GLOBAL_OPTS,
    LCTL_OPT_VERSION("version to deploy (default: the latest)"),
};
LCTL_SPEC(deploy, deploy_options, "latticectl deploy NAME [--version V]",
          "Deploy a stored version of an application (model.deploy).");

static const lt_opt undeploy_options[] = {
    LCTL_GLOBAL_OPTS,
    LCTL_OPT_FILE("take NAME from this manifest"),
};
LCTL_SPEC(undeploy, undeploy_options, "latticectl undeploy NAME | -f FILE",
          "Stop running an application; its versions stay stored (model.undeploy). Exit 1 when\n"
          "the application does not exist.");

static const lt_opt rollback_options[] = {
    LCTL_GLOBAL_OPTS,
    { "to", 0, NULL, LT_OPT_STRING, "V", NULL,
      "version to deploy (default: the one deployed before the current one)", LCTL_F(to), 0,
      0 },
};
LCTL_SPEC(rollback, rollback_options, "latticectl rollback NAME [--to V]",
          "Deploy an earlier version again (model.rollback).");

static const lt_opt delete_options[] = {
    LCTL_GLOBAL_OPTS,
    LCTL_OPT_VERSION("delete only this version"),
    LCTL_OPT_FILE("take NAME from this manifest"),
    { "force", 0, NULL, LT_OPT_FLAG, NULL, NULL,
      "also when that undeploys the application, or deletes its last version", LCTL_F(force),
      0, 0 },
};
LCTL_SPEC(delete, delete_options, "latticectl delete NAME [--version V] [--force] | -f FILE",
          "Delete an application (every version, undeploying it) or one version (model.del).\n"
          "Deleting an application that is deployed, or the deployed or last version of one,\n"
          "needs --force (without it: exit 2 and the command to use). Exit 1 when the\n"
          "application or version does not exist.");

static const lt_opt status_options[] = {
    LCTL_GLOBAL_OPTS,
    { "watch", 'w', NULL, LT_OPT_FLAG, NULL, NULL,
      "then print every status change, with its time (RFC 3339, UTC), until Ctrl-C",
      LCTL_F(watch), 0, 0 },
    { "wait-for", 0, NULL, LT_OPT_STRING, "deployed|undeployed", NULL,
      "wait until the app is deployed (exit 0; 1 when it failed or --wait-timeout passed) "
      "or undeployed", LCTL_F(wait_for), 0, 0 },
    LCTL_OPT_WAIT_TIMEOUT,
};
LCTL_SPEC(status, status_options,
          "latticectl status NAME [--watch | --wait-for deployed|undeployed [--wait-timeout D]]",
          "Show the status of an application (model.status): its version and state, then per\n"
          "component and link the instances running/desired, the state and its reason. Exit 1\n"
          "when the status is failed (the reasons on stderr) or the application does not\n"
          "exist. --watch keeps following it on wadm.status.{lattice}.{name}. --wait-for\n"
          "follows it until the app is deployed or undeployed, showing progress (live on a\n"
          "terminal, a timestamped line per change otherwise); with -o json/yaml/jsonpath the\n"
          "final status is printed in that form.");
/* clang-format on */

/* ---- shared ---------------------------------------------------------------------------------- */

/* Parse and find NAME (positional, or from -f when allowed). *name is lt_free'd by the caller. */
static int name_and_cfg(const lctl_command *cmd, int argc, char **argv, lctl_api_cfg *cfg,
                        bool file_ok, char **name)
{
    const char *pos[1];
    int npos = 0, code;

    *name = NULL;
    code = lctl_api_parse(cmd, cfg, argc, argv, pos, 1, &npos);
    if (code != 0)
        return code;
    if (file_ok && cfg->file != NULL) {
        if (npos > 0) {
            fprintf(stderr, "latticectl %s: give NAME or -f FILE, not both\n", cmd->name);
            return LCTL_EXIT_USAGE;
        }
        return lctl_name_from_file(cfg->file, name);
    }
    if (npos == 0) {
        fprintf(stderr, "latticectl %s: missing application NAME (usage: %s)\n", cmd->name,
                cmd->opts->usage);
        return LCTL_EXIT_USAGE;
    }
    *name = lt_strdup(pos[0]);
    return *name != NULL ? 0 : LCTL_EXIT_FAIL;
}

/* One request with an optional {"version": v} body. */
static int call(const lctl_command *cmd, int argc, char **argv, const char *op, bool file_ok,
                int which_version, void (*tbl)(lctl_client *c))
{
    lctl_api_cfg cfg;
    lctl_client c = { 0 };
    char *name = NULL, *body = NULL;
    const char *v;
    int code = name_and_cfg(cmd, argc, argv, &cfg, file_ok, &name);

    if (code != 0)
        return code < 0 ? LCTL_EXIT_OK : code;
    v = which_version == 1 ? cfg.version : which_version == 2 ? cfg.to : NULL;
    if (v != NULL) {
        json_t *o = json_pack("{s:s}", "version", v);

        body = o != NULL ? json_dumps(o, JSON_COMPACT) : NULL;
        json_decref(o);
    }
    if ((code = lctl_connect(&c, &cfg)) == 0) {
        code = lctl_request(&c, op, name, body, body ? strlen(body) : 0, NULL);
        if (code == 0)
            code = lctl_finish_app(&c, name, v, tbl);
    }
    lctl_close(&c);
    free(body);
    lt_free(name);
    return code;
}

int lctl_cmd_deploy(const lctl_command *cmd, int argc, char **argv)
{
    return call(cmd, argc, argv, "deploy", false, 1, NULL);
}

int lctl_cmd_undeploy(const lctl_command *cmd, int argc, char **argv)
{
    return call(cmd, argc, argv, "undeploy", true, 0, NULL);
}

int lctl_cmd_rollback(const lctl_command *cmd, int argc, char **argv)
{
    return call(cmd, argc, argv, "rollback", false, 2, NULL);
}

/* ---- delete --------------------------------------------------------------------------------- */

/* Whether delete may go on without --force, from the app's versions (in c->reply); else prints
 * why and the command to use, and returns the exit code. */
static int delete_allowed(lctl_client *c, const char *name, const char *version)
{
    const json_t *list = json_object_get(c->reply, "versions");
    const char *deployed = NULL, *why;
    char lat[600] = "";
    bool found = version == NULL;
    size_t i;
    json_t *v;

    json_array_foreach ((json_t *)list, i, v) {
        if (json_is_true(json_object_get(v, "deployed")))
            deployed = lctl_str(v, "version", "");
        if (version != NULL && strcmp(lctl_str(v, "version", ""), version) == 0)
            found = true;
    }
    if (!found) {
        fprintf(stderr, "latticectl: version '%s' of application '%s' not found in lattice '%s'\n",
                version, name, c->cfg->lattice);
        return LCTL_EXIT_FAIL;
    }
    if (c->cfg->force)
        return 0;
    if (version == NULL)
        why = deployed != NULL ? "is deployed: deleting it undeploys it" : NULL;
    else if (deployed != NULL && strcmp(deployed, version) == 0)
        why = "is the deployed version: deleting it undeploys the application";
    else if (json_array_size(list) == 1)
        why = "is the last version: deleting it deletes the application";
    else
        why = NULL;
    if (why == NULL)
        return 0;
    if (strcmp(c->cfg->lattice, "default") != 0)
        snprintf(lat, sizeof(lat), " --lattice %s", c->cfg->lattice);
    if (version == NULL)
        fprintf(stderr,
                "latticectl: application '%s' (version %s) %s; to delete it anyway: latticectl "
                "delete %s --force%s\n",
                name, deployed, why, name, lat);
    else
        fprintf(stderr,
                "latticectl: version %s of application '%s' %s; to delete it anyway: latticectl "
                "delete %s --version %s --force%s\n",
                version, name, why, name, version, lat);
    return LCTL_EXIT_USAGE;
}

int lctl_cmd_delete(const lctl_command *cmd, int argc, char **argv)
{
    lctl_api_cfg cfg;
    lctl_client c = { 0 };
    char *name = NULL, *body = NULL;
    const char *result;
    int code = name_and_cfg(cmd, argc, argv, &cfg, true, &name);

    if (code != 0)
        return code < 0 ? LCTL_EXIT_OK : code;
    if (cfg.version != NULL) {
        json_t *o = json_pack("{s:s}", "version", cfg.version);

        body = o != NULL ? json_dumps(o, JSON_COMPACT) : NULL;
        json_decref(o);
    }
    if ((code = lctl_connect(&c, &cfg)) != 0)
        goto out;
    /* what exists and what is deployed decide whether it needs --force */
    if ((code = lctl_request(&c, "versions", name, NULL, 0, NULL)) != 0)
        goto out;
    if ((code = lctl_not_found(&c, name, NULL)) >= 0 ||
        (strcmp(lctl_str(c.reply, "result", ""), "success") != 0 &&
         (code = lctl_finish(&c, NULL)) != 0))
        goto out;
    if ((code = delete_allowed(&c, name, cfg.version)) != 0)
        goto out;
    if (!cfg.force) { /* a deploy landing between the look and the delete is not undone */
        c.header = "Latticed-If-Undeployed";
        c.header_value = "true";
    }
    if ((code = lctl_request(&c, "del", name, body, body ? strlen(body) : 0, NULL)) != 0)
        goto out;
    result = lctl_str(c.reply, "result", "");
    if (strcmp(result, "noop") == 0) { /* deleted meanwhile */
        c.reply = (json_decref(c.reply), json_pack("{s:s}", "result", "notfound"));
        code = lctl_not_found(&c, name, cfg.version);
        goto out;
    }
    code = lctl_finish(&c, NULL);
out:
    lctl_close(&c);
    free(body);
    lt_free(name);
    return code;
}

/* ---- status ---------------------------------------------------------------------------------- */

static char deployed_version[512]; /* from model.versions when the status names none */

/* The status table: "<app> <version>: <state>[: message]", then one row per component (running
 * and desired instances from latticed's section) and per link (wadm's scalers). */
static void print_status(const json_t *status, const char *name)
{
    const json_t *info = json_object_get(status, "status");
    const json_t *lt = json_object_get(status, "latticed");
    const char *msg = lctl_str(info, "message", "");
    const char *version = lctl_str(lt, "deploying", lctl_str(lt, "version", ""));
    lctl_table t = { .ncols = 5 };
    const char *head[] = { "KIND", "NAME", "RUNNING", "STATUS", "REASON" };
    size_t i;
    json_t *x;

    if (version[0] == '\0')
        version = deployed_version; /* before the scheduler wrote a status */
    printf("%s%s%s: %s%s%s\n", name, version[0] ? " " : "", version,
           lctl_str(info, "type", "unknown"), msg[0] ? ": " : "", msg);
    lctl_table_add(&t, head);
    json_array_foreach (json_object_get(lt, "components"), i, x) {
        const json_t *si = json_object_get(x, "status");
        char counts[64];
        const char *row[] = { lctl_str(x, "kind", ""), lctl_str(x, "name", ""), counts,
                              lctl_str(si, "type", ""), lctl_str(si, "message", "") };

        snprintf(counts, sizeof(counts), "%lld/%lld",
                 (long long)json_integer_value(json_object_get(x, "running")),
                 (long long)json_integer_value(json_object_get(x, "desired")));
        lctl_table_add(&t, row);
    }
    json_array_foreach (json_object_get(status, "scalers"), i, x) {
        const json_t *si = json_object_get(x, "status");
        bool link = strcmp(lctl_str(x, "kind", ""), "LinkScaler") == 0;
        const char *row[] = { link ? "link" : lctl_str(x, "kind", ""), lctl_str(x, "name", ""), "-",
                              lctl_str(si, "type", ""), lctl_str(si, "message", "") };

        /* components are listed above from latticed's counts; wadm's other scalers here */
        if (link || json_array_size(json_object_get(lt, "components")) == 0)
            lctl_table_add(&t, row);
    }
    if (t.nrows > 1)
        lctl_table_print(&t, stdout);
    else
        lctl_table_print(&t, NULL); /* frees it */
}

static const char *status_name; /* the app of lctl_cmd_status, for print_status_reply */

static void print_status_reply(lctl_client *c)
{
    print_status(json_object_get(c->reply, "status"), status_name);
}


/* A status reply of model.status: exit 1 (with the reasons) when it is failed. When the status
 * names no version (the scheduler has written none yet, or wadm's "undeployed" for an app latticed
 * never heard of), ask model.versions: the deployed version, or "not found". */
static int status_reply(lctl_client *c, const char *name, bool check_exists)
{
    const json_t *info = json_object_get(json_object_get(c->reply, "status"), "status");
    const json_t *lt = json_object_get(json_object_get(c->reply, "status"), "latticed");
    const char *type = lctl_str(info, "type", "");
    json_t *saved = NULL, *v;
    char *raw = NULL;
    size_t i;
    int code;
    bool missing = false;

    deployed_version[0] = '\0';
    if (check_exists && strcmp(lctl_str(c->reply, "result", ""), "ok") == 0 &&
        (strcmp(type, "undeployed") == 0 || lctl_str(lt, "version", "")[0] == '\0')) {
        saved = json_incref(c->reply);
        raw = lt_strdup(c->raw);
        if ((code = lctl_request(c, "versions", name, NULL, 0, NULL)) != 0)
            goto out;
        missing = strcmp(lctl_str(c->reply, "result", ""), "notfound") == 0;
        json_array_foreach (json_object_get(c->reply, "versions"), i, v)
            if (json_is_true(json_object_get(v, "deployed")))
                snprintf(deployed_version, sizeof(deployed_version), "%s",
                         lctl_str(v, "version", ""));
        json_decref(c->reply);
        lt_free(c->raw);
        c->reply = saved;
        c->raw = raw;
        saved = NULL;
        raw = NULL;
    }
    if (missing) { /* -o json|yaml: wadm's status reply as it is; the reason on stderr */
        (void)lctl_print_doc(c->cfg, c->reply, c->raw); /* -o json|yaml|jsonpath */
        fprintf(stderr, "latticectl: application '%s' not found in lattice '%s'\n", name,
                c->cfg->lattice);
        return LCTL_EXIT_FAIL;
    }
    status_name = name;
    code = lctl_finish(c, print_status_reply);
    if (code == 0 && strcmp(type, "failed") == 0) {
        fprintf(stderr, "latticectl: application '%s' failed: %s\n", name,
                lctl_str(info, "message", "(no reason given)"));
        code = LCTL_EXIT_FAIL;
    }
out:
    json_decref(saved);
    lt_free(raw);
    return code;
}

int lctl_cmd_status(const lctl_command *cmd, int argc, char **argv)
{
    lctl_api_cfg cfg;
    lctl_client c = { 0 };
    char *name = NULL;
    int code = name_and_cfg(cmd, argc, argv, &cfg, false, &name);

    if (code != 0)
        return code < 0 ? LCTL_EXIT_OK : code;
    if (cfg.wait_for != NULL && strcmp(cfg.wait_for, "deployed") != 0 &&
        strcmp(cfg.wait_for, "undeployed") != 0) {
        fprintf(stderr, "latticectl status: --wait-for is deployed or undeployed, not '%s'\n",
                cfg.wait_for);
        code = LCTL_EXIT_USAGE;
    } else if (cfg.wait_for != NULL && cfg.watch) {
        fprintf(stderr, "latticectl status: give --watch or --wait-for, not both\n");
        code = LCTL_EXIT_USAGE;
    } else if ((code = lctl_connect(&c, &cfg)) == 0 && cfg.wait_for != NULL) {
        code = lctl_wait(&c, name, cfg.wait_for, NULL, true); /* cmd_wait.c */
    } else if (code == 0 && cfg.watch) {
        code = lctl_watch(&c, name, print_status_reply); /* cmd_wait.c */
    } else if (code == 0) {
        code = lctl_request(&c, "status", name, NULL, 0, NULL);
        if (code == 0)
            code = status_reply(&c, name, true);
    }
    lctl_close(&c);
    lt_free(name);
    return code;
}
