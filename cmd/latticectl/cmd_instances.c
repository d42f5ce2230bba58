/*
 * cmd_instances.c - `latticectl instances APP [-o wide]`: every instance of an app as the
 * lattice's leader knows it (id, component, version, host, state, restarts, age, last
 * error), asked on `{lattice-prefix}.{lattice}.instances` (a latticed extension,
 * docs/api.md). Sorted by component, host and id. Exit 1 when the app is unknown.
 */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "lctl_api.h"
#include "lctl_sched.h"
#include "lt_alloc.h"
#include "lt_limits.h"
#include "lt_subject.h"
#include "lt_time.h"

typedef struct {
    lctl_api_cfg api; /* first: lctl_api_parse fills it */
    const char *prefix;
    bool wide;
} inst_cfg;

#define I(field) offsetof(inst_cfg, field)

/* Option tables: one option per row. */
/* clang-format off */
static const lt_opt instances_options[] = {
    LCTL_GLOBAL_OPTS,
    { "lattice-prefix", 0, "LATTICE_PREFIX", LT_OPT_STRING, "PREFIX", LT_SUBJECT_LATTICE_PREFIX,
      "subject prefix of the native host protocol (the leader answers there)", I(prefix), 0, 0 },
    { "wide", 'w', NULL, LT_OPT_FLAG, NULL, NULL,
      "more columns: component id, start time, whether the instance runs the deployed spec, "
      "the whole last error (same as -o wide)", I(wide), 0, 0 },
};
/* clang-format on */

const lt_opts_spec lctl_instances_opts = {
    .prog = "latticectl instances",
    .usage = "latticectl instances NAME [-o wide]",
    .summary = "List every instance of an application, as the lattice's leader knows it: id,\n"
               "component, version, host, state, restarts, age and the last error its host\n"
               "reported (kept after it runs again). Starts sent and not yet reported show as\n"
               "starting. Exit 1 when the lattice has no such application.",
    .opts = instances_options,
    .nopts = sizeof(instances_options) / sizeof(instances_options[0]),
};

/* "-o wide" / "--output wide" / "-owide" / "--output=wide" -> "--wide" (the shared -o takes
 * table|json|yaml). Compacts argv in place; returns the new argc. */
static int take_wide(int argc, char **argv)
{
    static char wide[] = "--wide";
    int i, n = 1;

    for (i = 1; i < argc; i++) {
        if ((strcmp(argv[i], "-o") == 0 || strcmp(argv[i], "--output") == 0) && i + 1 < argc &&
            strcmp(argv[i + 1], "wide") == 0) {
            argv[n++] = wide;
            i++;
        } else if (strcmp(argv[i], "-owide") == 0 || strcmp(argv[i], "--output=wide") == 0) {
            argv[n++] = wide;
        } else {
            argv[n++] = argv[i];
        }
    }
    return n;
}

static void age_text(const char *started, time_t now, char *out, size_t n)
{
    int64_t sec, d;
    int32_t ns;

    if (started == NULL || started[0] == '\0' ||
        lt_time_parse(started, LT_TIME_UTC_ONLY, &sec, &ns) != LT_OK) {
        snprintf(out, n, "-");
        return;
    }
    d = (int64_t)now - sec;
    if (d < 0)
        d = 0;
    if (d < 120)
        snprintf(out, n, "%llds", (long long)d);
    else if (d < 7200)
        snprintf(out, n, "%lldm", (long long)(d / 60));
    else if (d < 172800)
        snprintf(out, n, "%lldh", (long long)(d / 3600));
    else
        snprintf(out, n, "%lldd", (long long)(d / 86400));
}

static void print_table(const json_t *doc, bool wide)
{
    const json_t *in;
    size_t i;
    time_t now = time(NULL);

    if (wide)
        printf("%-34s  %-16s  %-24s  %-10s  %-24s  %-9s  %8s  %5s  %-20s  %-7s  %s\n", "INSTANCE",
               "COMPONENT", "COMPONENT ID", "VERSION", "HOST", "STATE", "RESTARTS", "AGE",
               "STARTED", "CURRENT", "LAST ERROR");
    else
        printf("%-34s  %-16s  %-10s  %-24s  %-9s  %8s  %5s  %s\n", "INSTANCE", "COMPONENT",
               "VERSION", "HOST", "STATE", "RESTARTS", "AGE", "LAST ERROR");
    json_array_foreach (json_object_get(doc, "instances"), i, in) {
        char age[32], err[64];
        const char *le = lctl_str(in, "last_error", "");

        age_text(lctl_str(in, "started_at", ""), now, age, sizeof(age));
        if (wide) {
            printf("%-34s  %-16s  %-24s  %-10s  %-24s  %-9s  %8lld  %5s  %-20s  %-7s  %s\n",
                   lctl_str(in, "id", ""), lctl_str(in, "component", ""),
                   lctl_str(in, "component_id", ""), lctl_str(in, "version", ""),
                   lctl_str(in, "host", ""), lctl_str(in, "state", ""),
                   (long long)json_integer_value(json_object_get(in, "restarts")), age,
                   lctl_str(in, "started_at", "-")[0] ? lctl_str(in, "started_at", "-") : "-",
                   json_is_true(json_object_get(in, "current")) ? "yes" : "no", le[0] ? le : "-");
            continue;
        }
        snprintf(err, sizeof(err), "%s", le[0] ? le : "-");
        if (strlen(le) >= sizeof(err))
            memcpy(err + sizeof(err) - 4, "...", 4);
        printf("%-34s  %-16s  %-10s  %-24s  %-9s  %8lld  %5s  %s\n", lctl_str(in, "id", ""),
               lctl_str(in, "component", ""), lctl_str(in, "version", ""), lctl_str(in, "host", ""),
               lctl_str(in, "state", ""),
               (long long)json_integer_value(json_object_get(in, "restarts")), age, err);
    }
    if (json_array_size(json_object_get(doc, "instances")) == 0)
        printf("(no instances)\n");
    if (json_is_true(json_object_get(doc, "truncated")))
        printf("(more instances than fit in one reply: the list stops here)\n");
}

int lctl_cmd_instances(const lctl_command *cmd, int argc, char **argv)
{
    inst_cfg cfg;
    lctl_client c = { 0 };
    const char *pos[1] = { NULL };
    char subj[LT_MAX_SUBJECT], *body = NULL;
    natsMsg *reply = NULL;
    json_t *doc = NULL, *req = NULL;
    json_error_t err;
    natsStatus ns;
    int npos = 0, code;

    memset(&cfg, 0, sizeof(cfg));
    argc = take_wide(argc, argv);
    code = lctl_api_parse(cmd, &cfg.api, argc, argv, pos, 1, &npos);
    if (code != 0)
        return code < 0 ? LCTL_EXIT_OK : code;
    if (npos < 1) {
        fprintf(stderr, "latticectl instances: missing application NAME (usage: %s)\n",
                cmd->opts->usage);
        return LCTL_EXIT_USAGE;
    }
    if (lt_subject_instances(subj, sizeof(subj), cfg.prefix, cfg.api.lattice) != LT_OK) {
        fprintf(stderr, "latticectl instances: subject too long\n");
        return LCTL_EXIT_USAGE;
    }
    req = json_pack("{s:s}", "app", pos[0]);
    body = req != NULL ? json_dumps(req, JSON_COMPACT) : NULL;
    if (body == NULL) {
        fprintf(stderr, "latticectl instances: out of memory\n");
        code = LCTL_EXIT_FAIL;
        goto out;
    }
    if ((code = lctl_connect(&c, &cfg.api)) != 0)
        goto out;
    ns = natsConnection_RequestString(&reply, c.nc, subj, body, (int64_t)cfg.api.timeout * 1000);
    if (ns != NATS_OK) {
        fprintf(stderr,
                "latticectl instances: no answer on %s: %s (is latticed running and leading "
                "lattice %s?)\n",
                subj, natsStatus_GetText(ns), cfg.api.lattice);
        code = LCTL_EXIT_NET;
        goto out;
    }
    doc = json_loadb(natsMsg_GetData(reply), (size_t)natsMsg_GetDataLength(reply), 0, &err);
    if (doc == NULL) {
        fprintf(stderr, "latticectl instances: the answer is not JSON: %s\n", err.text);
        code = LCTL_EXIT_FAIL;
        goto out;
    }
    if (json_object_get(doc, "error") != NULL) {
        fprintf(stderr, "latticectl instances: %s\n", lctl_str(doc, "error", ""));
        code = LCTL_EXIT_FAIL;
        goto out;
    }
    if (strcmp(cfg.api.output, "json") == 0)
        printf("%.*s\n", natsMsg_GetDataLength(reply), natsMsg_GetData(reply));
    else if (strcmp(cfg.api.output, "yaml") == 0)
        lctl_print_yaml(stdout, doc);
    else
        print_table(doc, cfg.wide);
    if (!json_is_true(json_object_get(doc, "found"))) {
        /* the scheduler knows deployed apps only: one stored and never deployed exists */
        if (lctl_request(&c, "versions", pos[0], NULL, 0, NULL) == 0 &&
            strcmp(lctl_str(c.reply, "result", ""), "success") == 0) {
            fprintf(stderr, "latticectl instances: %s is not deployed: no instances\n", pos[0]);
        } else {
            fprintf(stderr,
                    "latticectl instances: application '%s' not found in lattice %s (see "
                    "latticectl list)\n",
                    pos[0], cfg.api.lattice);
            code = LCTL_EXIT_FAIL;
        }
    }
out:
    free(body);
    json_decref(req);
    json_decref(doc);
    natsMsg_Destroy(reply);
    lctl_close(&c);
    return code;
}
