/*
 * cmd_plan.c - `latticectl plan -f FILE` (and `apply --dry-run`): what deploying a manifest
 * would do, asked of the lattice's leader on `{lattice-prefix}.{lattice}.plan` (a latticed
 * extension: the leader runs its own scheduler core on a copy of its state, docs/api.md):
 * the manifest's changes per component and link, the commands round by round and per host,
 * and what cannot be placed, with the reason. Nothing is stored. Exit 0 when everything can
 * be placed, 1 when something cannot (CI fails before the deploy would).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lctl_api.h"
#include "lctl_sched.h"
#include "lt_alloc.h"
#include "lt_limits.h"
#include "lt_subject.h"

typedef struct {
    lctl_api_cfg api; /* first: lctl_api_parse fills it */
    const char *prefix;
} plan_cfg;

#define P(field) offsetof(plan_cfg, field)

/* Option tables: one option per row. */
/* clang-format off */
#define PLAN_MAX_FILES 257 /* -f options of one plan (one more to tell too many) */

static const lt_opt plan_options[] = {
    LCTL_GLOBAL_OPTS,
    LCTL_OPT_FILE("manifest to plan (YAML or JSON); - reads standard input"),
    { "lattice-prefix", 0, "LATTICE_PREFIX", LT_OPT_STRING, "PREFIX", LT_SUBJECT_LATTICE_PREFIX,
      "subject prefix of the native host protocol (the leader answers there)", P(prefix), 0, 0 },
};
/* clang-format on */

const lt_opts_spec lctl_plan_opts = {
    .prog = "latticectl plan",
    .usage = "latticectl plan -f FILE|-",
    .summary =
        "Show what deploying the manifest would do, without storing anything: the changes\n"
        "against the deployed version (per component and link), the instances to start and\n"
        "stop and the links to add and remove, round by round as the rollout would go and per\n"
        "host, and what cannot be placed and why. The lattice's leader computes it with its\n"
        "own scheduler. Sorted output (CI can diff it). Exit 0 when everything can be placed,\n"
        "1 when something cannot. `apply --dry-run` is the same.",
    .opts = plan_options,
    .nopts = sizeof(plan_options) / sizeof(plan_options[0]),
};

static long long num(const json_t *o, const char *key)
{
    return (long long)json_integer_value(json_object_get(o, key));
}

static void print_diff(const json_t *doc)
{
    const json_t *diff = json_object_get(doc, "diff"), *c, *f;
    size_t i, k;

    printf("\nManifest changes:\n");
    json_array_foreach (json_object_get(diff, "components"), i, c) {
        const char *ch = lctl_str(c, "change", "");
        char mark = strcmp(ch, "added") == 0     ? '+'
                    : strcmp(ch, "removed") == 0 ? '-'
                    : strcmp(ch, "changed") == 0 ? '~'
                                                 : ' ';

        printf("  %c component %s (%s", mark, lctl_str(c, "name", ""), ch);
        json_array_foreach (json_object_get(c, "fields"), k, f)
            printf("%s%s", k == 0 ? ": " : ", ", json_string_value(f));
        printf(")\n");
    }
    json_array_foreach (json_object_get(diff, "links"), i, c) {
        const char *ch = lctl_str(c, "change", "");
        char mark = strcmp(ch, "added") == 0     ? '+'
                    : strcmp(ch, "removed") == 0 ? '-'
                    : strcmp(ch, "changed") == 0 ? '~'
                                                 : ' ';

        printf("  %c link %s -(%s/%s)-> %s (%s)\n", mark, lctl_str(c, "source", ""),
               lctl_str(c, "interface", ""), lctl_str(c, "name", ""), lctl_str(c, "target", ""),
               ch);
    }
}

static void print_rounds(const json_t *doc)
{
    static const char *const verbs[] = { "start", "stop", "link", "unlink" };
    static const char marks[] = { '+', '-', '+', '-' };
    const json_t *rounds = json_object_get(doc, "rounds"), *r, *op;
    size_t i, k;

    printf("\nRollout (%zu round%s):\n", json_array_size(rounds),
           json_array_size(rounds) == 1 ? "" : "s");
    json_array_foreach (rounds, i, r) {
        printf("  round %lld:\n", num(r, "round"));
        for (int v = 0; v < 4; v++)
            json_array_foreach (json_object_get(r, verbs[v]), k, op) {
                printf("    %c %-6s %-16s %-34s on %s", marks[v], verbs[v],
                       lctl_str(op, "component", ""), lctl_str(op, "id", ""),
                       lctl_str(op, "host", ""));
                if (json_object_get(op, "link") != NULL)
                    printf("  %s", lctl_str(op, "link", ""));
                if (strcmp(lctl_str(op, "app", ""), lctl_str(doc, "app", "")) != 0)
                    printf("  (app %s)", lctl_str(op, "app", ""));
                printf("\n");
            }
    }
    printf("\nPer host:\n  %-32s %6s %6s %6s %6s\n", "HOST", "START", "STOP", "LINK", "UNLINK");
    json_array_foreach (json_object_get(doc, "hosts"), i, r)
        printf("  %-32s %6lld %6lld %6lld %6lld\n", lctl_str(r, "host", ""), num(r, "start"),
               num(r, "stop"), num(r, "link"), num(r, "unlink"));
}

static void print_plan(const json_t *doc)
{
    const json_t *t = json_object_get(doc, "totals"), *u;
    size_t i;

    printf("Plan: %s %s in lattice %s", lctl_str(doc, "app", ""), lctl_str(doc, "version", ""),
           lctl_str(doc, "lattice", ""));
    if (lctl_str(doc, "deployed_version", "")[0] != '\0')
        printf(" (deployed: %s)\n", lctl_str(doc, "deployed_version", ""));
    else
        printf(" (not deployed)\n");
    if (json_is_true(json_object_get(doc, "unchanged")))
        printf("\nNo changes: this manifest is what is deployed.\n");
    else
        print_diff(doc);
    if (json_array_size(json_object_get(doc, "rounds")) > 0)
        print_rounds(doc);
    if (json_array_size(json_object_get(doc, "unplaced")) > 0) {
        printf("\nCannot be placed:\n");
        json_array_foreach (json_object_get(doc, "unplaced"), i, u)
            printf("  %s: %lld of %lld placed (%s): %s\n", lctl_str(u, "component", ""),
                   num(u, "placed"), num(u, "desired"), lctl_str(u, "reason", ""),
                   lctl_str(u, "message", ""));
    }
    if (json_is_true(json_object_get(doc, "truncated")))
        printf("\n(the rollout did not finish within the round limit: shown as far as it "
               "went)\n");
    printf("\n%lld to start, %lld to stop, %lld link(s) to add, %lld to remove; then: %s%s%s\n",
           num(t, "start"), num(t, "stop"), num(t, "link"), num(t, "unlink"),
           lctl_str(doc, "state", ""), lctl_str(doc, "message", "")[0] != '\0' ? ": " : "",
           lctl_str(doc, "message", ""));
}

/* Plan one manifest: ask the leader on subj, print the answer. An LCTL_EXIT_* code. */
static int plan_one(lctl_client *c, const plan_cfg *cfg, const lctl_command *cmd, const char *subj,
                    const lctl_doc *d)
{
    natsMsg *reply = NULL;
    json_t *doc = NULL;
    json_error_t err;
    natsStatus ns;
    int code;

    ns = natsConnection_Request(&reply, c->nc, subj, d->data, (int)d->len,
                                (int64_t)cfg->api.timeout * 1000);
    if (ns != NATS_OK) {
        fprintf(stderr,
                "latticectl %s: no answer on %s: %s (is latticed running and leading lattice "
                "%s?)\n",
                cmd->name, subj, natsStatus_GetText(ns), cfg->api.lattice);
        return LCTL_EXIT_NET;
    }
    doc = json_loadb(natsMsg_GetData(reply), (size_t)natsMsg_GetDataLength(reply), 0, &err);
    if (doc == NULL) {
        fprintf(stderr, "latticectl %s: the answer is not JSON: %s\n", cmd->name, err.text);
        code = LCTL_EXIT_FAIL;
    } else if (json_object_get(doc, "error") != NULL) {
        fprintf(stderr, "latticectl %s: %s: %s\n", cmd->name, d->source,
                lctl_str(doc, "error", ""));
        code = LCTL_EXIT_FAIL;
    } else {
        if (strcmp(cfg->api.output, "json") == 0)
            printf("%.*s\n", natsMsg_GetDataLength(reply), natsMsg_GetData(reply));
        else if (!lctl_print_doc(&cfg->api, doc, NULL)) /* yaml, jsonpath */
            print_plan(doc);
        code = json_is_true(json_object_get(doc, "placeable")) ? LCTL_EXIT_OK : LCTL_EXIT_FAIL;
    }
    json_decref(doc);
    natsMsg_Destroy(reply);
    return code;
}

int lctl_plan_run(const lctl_command *cmd, int argc, char **argv)
{
    plan_cfg cfg;
    lctl_client c = { 0 };
    lctl_docs docs = { 0 };
    const char *pos[1], *prefix, *files[PLAN_MAX_FILES];
    char subj[LT_MAX_SUBJECT];
    size_t nfiles, i;
    int npos = 0, code, worst = LCTL_EXIT_OK;

    memset(&cfg, 0, sizeof(cfg));
    code = lctl_api_parse(cmd, &cfg.api, argc, argv, pos, 0, &npos);
    if (code != 0)
        return code < 0 ? LCTL_EXIT_OK : code;
    if (cfg.api.wait) {
        fprintf(stderr,
                "latticectl %s: --dry-run stores nothing, so there is nothing to --wait "
                "for (drop one of them)\n",
                cmd->name);
        return LCTL_EXIT_USAGE;
    }
    nfiles = lctl_file_args(cmd->opts, argc, argv, files, PLAN_MAX_FILES);
    if (nfiles == 0) {
        fprintf(stderr, "latticectl %s: -f FILE is required (- for standard input)\n", cmd->name);
        return LCTL_EXIT_USAGE;
    }
    if (nfiles == PLAN_MAX_FILES) {
        fprintf(stderr, "latticectl %s: at most %d -f options (give a directory)\n", cmd->name,
                PLAN_MAX_FILES - 1);
        return LCTL_EXIT_USAGE;
    }
    /* apply --dry-run has no --lattice-prefix option: the environment or the default */
    prefix = cfg.prefix != NULL                 ? cfg.prefix
             : getenv("LATTICE_PREFIX") != NULL ? getenv("LATTICE_PREFIX")
                                                : LT_SUBJECT_LATTICE_PREFIX;
    if (lt_subject_plan(subj, sizeof(subj), prefix, cfg.api.lattice) != LT_OK) {
        fprintf(stderr, "latticectl %s: subject too long\n", cmd->name);
        return LCTL_EXIT_USAGE;
    }
    for (i = 0; i < nfiles; i++) { /* everything read before anything is asked */
        if (lctl_docs_load(&docs, files[i]) != LT_OK) {
            fprintf(stderr, "latticectl %s: %s\n", cmd->name, lt_error_message());
            lctl_docs_cleanup(&docs);
            return LCTL_EXIT_USAGE;
        }
    }
    if ((code = lctl_connect(&c, &cfg.api)) != 0)
        goto out;
    for (i = 0; i < docs.count && worst != LCTL_EXIT_NET; i++) {
        if (docs.count > 1 && strcmp(cfg.api.output, "table") == 0)
            printf("%s==> %s <==\n", i > 0 ? "\n" : "", docs.items[i].source);
        code = plan_one(&c, &cfg, cmd, subj, &docs.items[i]);
        if (code > worst)
            worst = code;
    }
    code = worst;
out:
    lctl_close(&c);
    lctl_docs_cleanup(&docs);
    return code;
}

int lctl_cmd_plan(const lctl_command *cmd, int argc, char **argv)
{
    return lctl_plan_run(cmd, argc, argv);
}
