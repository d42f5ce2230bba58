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
          "Stop running an application; its versions stay stored (model.undeploy).");

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
};
LCTL_SPEC(delete, delete_options, "latticectl delete NAME [--version V] | -f FILE",
          "Delete an application (every version, undeploying it) or one version (model.del).");

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
          "Show the status of an application (model.status); --watch keeps following it on\n"
          "wadm.status.{lattice}.{name}. --wait-for follows it until the app is deployed or\n"
          "undeployed, showing progress (live on a terminal, a timestamped line per change\n"
          "otherwise); with -o json/yaml/jsonpath the final status is printed in that form.");
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
            code = lctl_finish(&c, tbl);
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

int lctl_cmd_delete(const lctl_command *cmd, int argc, char **argv)
{
    return call(cmd, argc, argv, "del", true, 1, NULL);
}

/* ---- status ---------------------------------------------------------------------------------- */

static void print_status(const json_t *status, const char *prefix)
{
    const json_t *info = json_object_get(status, "status");
    const char *msg = lctl_str(info, "message", "");
    size_t i;
    json_t *s;

    printf("%s%s%s%s\n", prefix, lctl_str(info, "type", "unknown"), msg[0] ? ": " : "", msg);
    json_array_foreach (json_object_get(status, "scalers"), i, s) {
        const json_t *si = json_object_get(s, "status");
        const char *sm = lctl_str(si, "message", "");

        printf("  %-14s %-28s %s%s%s\n", lctl_str(s, "kind", ""), lctl_str(s, "name", ""),
               lctl_str(si, "type", ""), sm[0] ? ": " : "", sm);
    }
}

static void print_status_reply(lctl_client *c)
{
    print_status(json_object_get(c->reply, "status"), "");
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
            code = lctl_finish(&c, print_status_reply);
    }
    lctl_close(&c);
    lt_free(name);
    return code;
}
