/*
 * cmd_complete.c - the hidden `latticectl __complete apps|versions APP|hosts` that the
 * completion scripts (cmd_completion.c) call for names only latticed knows: application
 * names, the versions of one application, host ids, one per line. It never prints an error
 * and always exits 0: no output simply means nothing to offer (NATS unreachable, no reply).
 */
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "lctl_api.h"
#include "lt_limits.h"
#include "lt_subject.h"

#define COMPLETE_TIMEOUT_S 2 /* a shell waits on this: never the 10 s default */

typedef struct {
    lctl_api_cfg api; /* first: lctl_api_parse fills it */
    const char *prefix;
} complete_cfg;

#define C(field) offsetof(complete_cfg, field)

/* Option tables: one option per row. */
/* clang-format off */
static const lt_opt complete_options[] = {
    LCTL_GLOBAL_OPTS,
    { "lattice-prefix", 0, "LATTICE_PREFIX", LT_OPT_STRING, "PREFIX", LT_SUBJECT_LATTICE_PREFIX,
      "subject prefix of the native host protocol (hosts)", C(prefix), 0, 0 },
};
/* clang-format on */

const lt_opts_spec lctl_complete_opts = {
    .prog = "latticectl __complete",
    .usage = "latticectl __complete apps|versions APP|hosts [OPTIONS]",
    .summary = "Print names for shell completion, one per line: the applications, the versions "
               "of APP, or the host ids. Prints nothing and exits 0 when latticed cannot be "
               "asked (at most 2 s).",
    .opts = complete_options,
    .nopts = sizeof(complete_options) / sizeof(complete_options[0]),
};

const lctl_command lctl_complete_command = { "__complete", "names for the completion scripts",
                                             &lctl_complete_opts, lctl_cmd_complete };

static void print_names(const json_t *arr, const char *key)
{
    size_t i;
    json_t *v;

    json_array_foreach ((json_t *)arr, i, v) {
        const char *s = lctl_str(v, key, NULL);

        if (s != NULL && s[0] != '\0' && strpbrk(s, " \t\n") == NULL)
            printf("%s\n", s);
    }
}

static void hosts(lctl_client *c, const complete_cfg *cfg)
{
    char subj[LT_MAX_SUBJECT];
    natsMsg *reply = NULL;
    json_t *doc = NULL;

    if (lt_subject_hosts(subj, sizeof(subj), cfg->prefix, cfg->api.lattice) != LT_OK)
        return;
    if (natsConnection_RequestString(&reply, c->nc, subj, "", cfg->api.timeout * 1000) != NATS_OK)
        return;
    doc = json_loadb(natsMsg_GetData(reply), (size_t)natsMsg_GetDataLength(reply), 0, NULL);
    print_names(json_object_get(doc, "hosts"), "id");
    json_decref(doc);
    natsMsg_Destroy(reply);
}

int lctl_cmd_complete(const lctl_command *cmd, int argc, char **argv)
{
    complete_cfg cfg;
    lctl_client c;
    const char *pos[2] = { NULL, NULL };
    int npos = 0, devnull = open("/dev/null", O_WRONLY);

    if (devnull >= 0) { /* quiet: a completion never prints an error into the prompt */
        dup2(devnull, STDERR_FILENO);
        close(devnull);
    }
    memset(&cfg, 0, sizeof(cfg));
    if (lctl_api_parse(cmd, &cfg.api, argc, argv, pos, 2, &npos) != 0 || npos == 0)
        return LCTL_EXIT_OK;
    if (cfg.api.timeout > COMPLETE_TIMEOUT_S)
        cfg.api.timeout = COMPLETE_TIMEOUT_S;
    if (strcmp(pos[0], "apps") != 0 && strcmp(pos[0], "hosts") != 0 &&
        (strcmp(pos[0], "versions") != 0 || npos < 2))
        return LCTL_EXIT_OK;
    if (lctl_connect(&c, &cfg.api) != 0)
        return LCTL_EXIT_OK;
    if (strcmp(pos[0], "hosts") == 0) {
        hosts(&c, &cfg);
    } else if (strcmp(pos[0], "apps") == 0) {
        if (lctl_request(&c, "get", NULL, NULL, 0, NULL) == 0)
            print_names(json_is_array(c.reply) ? c.reply : json_object_get(c.reply, "models"),
                        "name");
    } else if (lctl_request(&c, "versions", pos[1], NULL, 0, NULL) == 0) {
        print_names(json_object_get(c.reply, "versions"), "version");
    }
    lctl_close(&c);
    return LCTL_EXIT_OK;
}
