/*
 * cmd_apply.c - `latticectl apply` and `latticectl put`: every manifest of
 * every -f (files, directories, multi-document YAML; input_docs.c) sent in
 * order, one request each, one summary line per manifest. Like kubectl, a
 * failed manifest does not stop the others; the exit status is 1 when any
 * failed, and the last line on stderr says which.
 */
#include <stdlib.h>
#include <string.h>

#include "lctl_api.h"
#include "lctl_sched.h"
#include "lt_alloc.h"
#include "lt_buf.h"

#define MAX_FILES 257 /* -f options of one command (one more to tell too many) */

/* Option tables: one option per row. */
/* clang-format off */
static const lt_opt apply_options[] = {
    LCTL_GLOBAL_OPTS,
    LCTL_OPT_FILE("manifest(s) to apply: a YAML (several documents allowed) or JSON file, a "
                  "directory (its *.yaml, *.yml, *.json in name order), - for standard input; "
                  "repeat -f for more"),
    LCTL_OPT_WAIT,
    LCTL_OPT_WAIT_TIMEOUT,
    { "dry-run", 0, NULL, LT_OPT_FLAG, NULL, NULL,
      "store nothing: show what applying would do, as latticectl plan does (same output and "
      "exit status)", LCTL_F(dry_run), 0, 0 },
};
LCTL_SPEC(apply, apply_options,
          "latticectl apply -f FILE|DIR|- [-f ...] [--wait [--wait-timeout D]] [--dry-run]",
          "Store each manifest as a new version and deploy it, in one step (model.apply), in\n"
          "order, one line per manifest (`hello v0.2.0 deployed`, `hello v0.2.0 unchanged`).\n"
          "An unchanged manifest changes nothing. A manifest that fails does not stop the\n"
          "others; the exit status is then 1 and the last line names the failed ones. -o json\n"
          "prints each reply on a line of its own, -o yaml each as a document. --wait then\n"
          "follows each applied app's status, in order, until the applied version is deployed\n"
          "(exit 0), failed or not there within --wait-timeout (exit 1, saying what is\n"
          "pending); it does not wait when a manifest failed.");

static const lt_opt put_options[] = {
    LCTL_GLOBAL_OPTS,
    LCTL_OPT_FILE("manifest(s) to store: a YAML (several documents allowed) or JSON file, a "
                  "directory (its *.yaml, *.yml, *.json in name order), - for standard input; "
                  "repeat -f for more"),
    { "replace", 0, NULL, LT_OPT_FLAG, NULL, NULL,
      "store new content under an existing version; refused while that version is deployed "
      "(latticed extension)", LCTL_F(replace), 0, 0 },
};
LCTL_SPEC(put, put_options, "latticectl put -f FILE|DIR|- [-f ...] [--replace]",
          "Store each manifest as a new version without deploying it (model.put), in order, one\n"
          "line per manifest. A manifest without a version annotation gets a ULID. A manifest\n"
          "that fails does not stop the others (exit status 1, the failed ones named last).");
/* clang-format on */

/* The summary line of one reply (table mode); false when the manifest failed. */
static bool summary(const lctl_client *c, const char *op, const lctl_doc *d)
{
    const json_t *r = c->reply;
    const char *result = lctl_str(r, "result", ""), *msg = lctl_str(r, "message", "");
    const char *name = lctl_str(r, "name", "?");
    const char *v = lctl_str(r, "version", lctl_str(r, "current_version", "?"));
    const char *but = strstr(msg, ", but ");

    if (strcmp(result, "created") != 0 && strcmp(result, "newversion") != 0 &&
        strcmp(result, "deployed") != 0 && strcmp(result, "noop") != 0 &&
        strcmp(result, "replaced") != 0) {
        fprintf(stderr, "latticectl: %s: %s\n", d->source, msg[0] ? msg : result);
        return false;
    }
    if (strcmp(c->cfg->output, "table") != 0)
        return true;
    if (strcmp(op, "put") == 0)
        printf("%s %s %s%s%s%s\n", name, v, strcmp(result, "replaced") == 0 ? "replaced" : "stored",
               but != NULL ? " (" : "", but != NULL ? but + 2 : "", but != NULL ? ")" : "");
    else if (strcmp(result, "noop") == 0)
        printf("%s %s unchanged\n", name, v);
    else if (strcmp(result, "deployed") == 0)
        printf("%s %s deployed (unchanged manifest, it was not deployed)\n", name, v);
    else
        printf("%s %s deployed\n", name, v);
    return true;
}

/* Send one manifest; true when it was taken. */
static bool send_doc(lctl_client *c, const char *op, const lctl_doc *d, size_t ndocs, int *net)
{
    const char *out = c->cfg->output;
    int code = lctl_request(c, op, NULL, d->data, d->len, d->content_type);

    if (code != 0) {
        *net = code;
        return false;
    }
    if (strcmp(out, "yaml") == 0 && ndocs > 1)
        printf("---\n");
    (void)lctl_print_doc(c->cfg, c->reply, c->raw); /* -o json|yaml|jsonpath */
    return summary(c, op, d);
}

static int run_docs(const lctl_command *cmd, int argc, char **argv, const char *op)
{
    lctl_api_cfg cfg;
    lctl_client c = { 0 };
    lctl_docs docs = { 0 };
    const char *files[MAX_FILES], *pos[1];
    size_t nfiles, i, failed = 0;
    int npos = 0, code, net = 0;
    json_t *applied = NULL; /* apply --wait: the replies to wait on */
    lt_buf which;

    code = lctl_api_parse(cmd, &cfg, argc, argv, pos, 0, &npos);
    if (code != 0)
        return code < 0 ? LCTL_EXIT_OK : code;
    if (cfg.dry_run) /* --dry-run in any spelling the parser takes (=true, =1, ...) */
        return lctl_plan_run(cmd, argc, argv); /* cmd_plan.c: nothing is stored */
    nfiles = lctl_file_args(cmd->opts, argc, argv, files, MAX_FILES);
    if (nfiles == MAX_FILES) {
        fprintf(stderr, "latticectl %s: at most %d -f options (give a directory)\n", cmd->name,
                MAX_FILES - 1);
        return LCTL_EXIT_USAGE;
    }
    if (nfiles == 0) {
        fprintf(stderr, "latticectl %s: -f FILE is required (- for standard input)\n", cmd->name);
        return LCTL_EXIT_USAGE;
    }
    /* read everything first: a missing file stops the command before anything is sent */
    for (i = 0; i < nfiles; i++) {
        if (lctl_docs_load(&docs, files[i]) != LT_OK) {
            fprintf(stderr, "latticectl %s: %s\n", cmd->name, lt_error_message());
            lctl_docs_cleanup(&docs);
            return LCTL_EXIT_USAGE;
        }
    }
    lt_buf_init(&which, 64 * 1024);
    if (cfg.wait && strcmp(op, "apply") == 0)
        applied = json_array();
    if ((code = lctl_connect(&c, &cfg)) == 0) {
        if (cfg.replace) {
            c.header = "Latticed-Replace";
            c.header_value = "true";
        }
        for (i = 0; i < docs.count && net == 0; i++) {
            if (send_doc(&c, op, &docs.items[i], docs.count, &net)) {
                if (applied != NULL)
                    json_array_append(applied, c.reply);
                continue;
            }
            failed++;
            LT_IGNORE(lt_buf_appendf(&which, "%s%s", which.len ? ", " : "", docs.items[i].source));
        }
        if (net != 0)
            code = net;
        else if (failed > 0 && docs.count > 1)
            fprintf(stderr, "latticectl %s: %zu of %zu manifests failed: %s\n", cmd->name, failed,
                    docs.count, which.ptr);
        if (code == 0 && failed > 0)
            code = LCTL_EXIT_FAIL;
        for (i = 0; code == 0 && applied != NULL && i < json_array_size(applied); i++) {
            json_decref(c.reply); /* --wait, for each app in turn, as if its reply just came */
            c.reply = json_incref(json_array_get(applied, i));
            code = lctl_wait_applied(&c); /* cmd_wait.c */
        }
    }
    json_decref(applied);
    lctl_close(&c);
    lctl_docs_cleanup(&docs);
    lt_buf_cleanup(&which);
    return code;
}

int lctl_cmd_apply(const lctl_command *cmd, int argc, char **argv)
{
    return run_docs(cmd, argc, argv, "apply");
}

int lctl_cmd_put(const lctl_command *cmd, int argc, char **argv)
{
    return run_docs(cmd, argc, argv, "put");
}
