/*
 * cmd_api_common.c - the shared machinery of latticectl's API commands:
 * option parsing with options anywhere, hoisting global options written
 * before the command, connecting, one request/reply, table/json/yaml output
 * with the exit codes, reading manifests, and the Markdown CLI reference.
 */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "jsonpath.h"
#include "lctl_api.h"
#include "lt_alloc.h"
#include "lt_conn.h"
#include "lt_limits.h"
#include "lt_model.h"
#include "lt_subject.h"
#include "wait_status.h"
#include "wait_status.h"

const lt_opt lctl_global_opts[LCTL_GLOBAL_COUNT] = { LCTL_GLOBAL_OPTS };

/* ---- options --------------------------------------------------------------------------------- */

const lt_opt *lctl_opt_of(const lt_opts_spec *spec, const char *a)
{
    for (size_t i = 0; i < spec->nopts; i++) {
        const lt_opt *o = &spec->opts[i];

        if (a[1] == '-') {
            size_t n = strcspn(a + 2, "=");

            if (strlen(o->name) == n && strncmp(o->name, a + 2, n) == 0)
                return o;
        } else if (a[1] != '\0' && a[2] == '\0' && o->short_name == a[1]) {
            return o;
        }
    }
    return NULL;
}

/* Does the option word a take the next word as its value? */
static bool takes_value(const lt_opts_spec *spec, const char *a)
{
    const lt_opt *o = lctl_opt_of(spec, a);

    return o != NULL && o->kind != LT_OPT_FLAG && strchr(a, '=') == NULL;
}

/*
 * --timeout D: each request waits min(D, 10 s) when the command waits for a rollout (then D is
 * the whole wait, like `helm --wait --timeout` and `kubectl rollout status --timeout`, unless
 * --wait-timeout says otherwise), else D. Without --timeout: 10 s per request, 5 min in all.
 */
static int timeouts(const lctl_command *cmd, lctl_api_cfg *cfg)
{
    int64_t ms = cfg->timeout_text != NULL ? lctl_duration_ms(cfg->timeout_text) : 10000;
    bool waits = cfg->wait || (cfg->wait_for != NULL && cfg->wait_for[0] != '\0');

    if (ms < 1000 || ms > 24 * 3600 * 1000) {
        fprintf(stderr,
                "latticectl %s: --timeout wants a duration from 1s to 24h like 30s, 5m or plain "
                "seconds, got '%s'\n",
                cmd->name, cfg->timeout_text);
        return LCTL_EXIT_USAGE;
    }
    if (waits && cfg->wait_timeout == NULL && cfg->timeout_text != NULL)
        cfg->wait_timeout = cfg->timeout_text;
    if (cfg->wait_timeout == NULL)
        cfg->wait_timeout = "5m";
    if (waits && ms > 10000)
        ms = 10000;
    cfg->timeout = (ms + 999) / 1000;
    return 0;
}

int lctl_api_parse(const lctl_command *cmd, lctl_api_cfg *cfg, int argc, char **argv,
                   const char **pos, int maxpos, int *npos)
{
    char **perm = lt_calloc((size_t)argc + 2, sizeof(char *));
    char *config_text = NULL;
    int n = 1, first = 0, code = 0, i;
    bool rest_positional = false;

    *npos = 0;
    if (perm == NULL)
        return LCTL_EXIT_USAGE;
    memset(cfg, 0, sizeof(*cfg));
    perm[0] = argv[0];
    for (i = 1; i < argc; i++) { /* options first, in their order */
        const char *a = argv[i];

        if (rest_positional || a[0] != '-' || a[1] == '\0')
            continue;
        if (strcmp(a, "--") == 0) {
            rest_positional = true;
            continue;
        }
        perm[n++] = argv[i];
        if (takes_value(cmd->opts, a) && i + 1 < argc)
            perm[n++] = argv[++i];
    }
    rest_positional = false;
    for (i = 1; i < argc; i++) { /* then the positionals */
        const char *a = argv[i];

        if (!rest_positional && strcmp(a, "--") == 0) {
            rest_positional = true;
            continue;
        }
        if (!rest_positional && a[0] == '-' && a[1] != '\0') {
            if (takes_value(cmd->opts, a))
                i++;
            continue;
        }
        if (*npos == maxpos) {
            fprintf(stderr, "latticectl %s: unexpected argument '%s' (see --help)\n", cmd->name, a);
            code = LCTL_EXIT_USAGE;
            goto out;
        }
        pos[(*npos)++] = a;
    }
    if (lt_opts_parse(cmd->opts, cfg, n, perm, &first, &config_text) != LT_OK) {
        fprintf(stderr, "latticectl %s: %s\n", cmd->name, lt_error_message());
        code = LCTL_EXIT_USAGE;
        goto out;
    }
    if (cfg->help) {
        lctl_command_help(cmd);
        code = -1;
        goto out;
    }
    if (strncmp(cfg->output, "jsonpath=", 9) == 0) {
        lctl_jsonpath *jp = NULL;

        cfg->jsonpath = cfg->output + 9;
        if (lctl_jsonpath_compile(cfg->jsonpath, &jp) != LT_OK) {
            fprintf(stderr, "latticectl %s: -o jsonpath: %s\n", cmd->name, lt_error_message());
            code = LCTL_EXIT_USAGE;
            goto out;
        }
        lctl_jsonpath_free(jp);
    } else if (strcmp(cfg->output, "table") != 0 && strcmp(cfg->output, "json") != 0 &&
               strcmp(cfg->output, "yaml") != 0) {
        fprintf(stderr,
                "latticectl %s: --output must be table, json or yaml, or jsonpath=EXPR, got '%s'\n",
                cmd->name, cfg->output);
        code = LCTL_EXIT_USAGE;
        goto out;
    }
    if ((code = timeouts(cmd, cfg)) != 0)
        goto out;
    if (cfg->wait_timeout != NULL && lctl_duration_ms(cfg->wait_timeout) < 0) {
        fprintf(stderr,
                "latticectl %s: --wait-timeout wants a duration like 90s, 5m, 1h30m or plain "
                "seconds, got '%s'\n",
                cmd->name, cfg->wait_timeout);
        code = LCTL_EXIT_USAGE;
        goto out;
    }
    if ((code = lctl_context_resolve(cmd->opts, cfg)) != 0)
        goto out;
    if (cfg->lattice != NULL && (strchr(cfg->lattice, '.') != NULL ||
                                 strpbrk(cfg->lattice, "*> ") != NULL || cfg->lattice[0] == '\0')) {
        fprintf(stderr, "latticectl %s: invalid lattice name '%s'\n", cmd->name, cfg->lattice);
        code = LCTL_EXIT_USAGE;
    }
out:
    lt_free(config_text);
    lt_free(perm);
    return code;
}

bool lctl_hoist_globals(int argc, char **argv)
{
    static const lt_opts_spec globals = { .opts = lctl_global_opts, .nopts = LCTL_GLOBAL_COUNT };
    int i = 1;
    char *command;

    while (i < argc && argv[i][0] == '-' && strcmp(argv[i], "--") != 0) {
        if (lctl_opt_of(&globals, argv[i]) == NULL)
            return false; /* not ours: let main report it */
        i += takes_value(&globals, argv[i]) ? 2 : 1;
    }
    if (i == 1 || i >= argc)
        return false;
    command = argv[i];
    memmove(&argv[2], &argv[1], (size_t)(i - 1) * sizeof(char *));
    argv[1] = command;
    return true;
}

/* ---- NATS ------------------------------------------------------------------------------------ */

int lctl_connect(lctl_client *c, const lctl_api_cfg *cfg)
{
    lt_conn_config cc = {
        .url = cfg->nats_url,
        .name = "latticectl",
        .creds_file = cfg->creds,
        .nkey = cfg->nkey,
        .seed_file = cfg->seed,
        .tls_ca = cfg->tls_ca,
        .tls_cert = cfg->tls_cert,
        .tls_key = cfg->tls_key,
        .timeout_ms = (int)(cfg->timeout * 1000),
        .no_reconnect = true,
    };
    lt_status st;

    memset(c, 0, sizeof(*c));
    c->cfg = cfg;
    st = lt_conn_connect(&c->nc, &cc, NULL);
    if (st == LT_ERR_INVALID) {
        fprintf(stderr, "latticectl: %s\n", lt_error_message());
        nats_Close(); /* joins the threads nats.c started for the attempt */
        return LCTL_EXIT_USAGE;
    }
    if (st != LT_OK) { /* lt_conn says "cannot connect to NATS at URL: reason" */
        fprintf(stderr, "latticectl: %s (set -s/--nats-url or LATTICE_NATS_URL, or a context)\n",
                lt_error_message());
        nats_Close();
        return LCTL_EXIT_NET;
    }
    return 0;
}

void lctl_close(lctl_client *c)
{
    json_decref(c->reply);
    lt_free(c->raw);
    if (c->nc != NULL) {
        natsConnection_Close(c->nc);
        lt_conn_parked_free(); /* subscriptions whose retiring found no flush: closed now */
        natsConnection_Destroy(c->nc);
        nats_Close(); /* joins nats.c's threads: one connection per process */
    }
    memset(c, 0, sizeof(*c));
}

int lctl_request(lctl_client *c, const char *op, const char *name, const char *body, size_t len,
                 const char *content_type)
{
    char subject[LT_MAX_SUBJECT];
    natsMsg *msg = NULL, *reply = NULL;
    natsStatus ns;
    int code = 0;

    json_decref(c->reply);
    lt_free(c->raw);
    c->reply = NULL;
    c->raw = NULL;
    if (name != NULL && (strpbrk(name, ".*> \t") != NULL || name[0] == '\0')) {
        fprintf(stderr, "latticectl: invalid application name '%s'\n", name);
        return LCTL_EXIT_USAGE;
    }
    if (lt_subject_api(subject, sizeof(subject), c->cfg->api_prefix, c->cfg->lattice, op, name) !=
        LT_OK) {
        fprintf(stderr, "latticectl: the request subject is longer than %u bytes\n",
                LT_MAX_SUBJECT - 1);
        return LCTL_EXIT_USAGE;
    }
    ns = natsMsg_Create(&msg, subject, NULL, body, body ? (int)len : 0);
    if (ns == NATS_OK && content_type != NULL)
        ns = natsMsgHeader_Set(msg, "Content-Type", content_type);
    if (ns == NATS_OK && c->header != NULL)
        ns = natsMsgHeader_Set(msg, c->header, c->header_value);
    if (ns == NATS_OK)
        ns = natsConnection_RequestMsg(&reply, c->nc, msg, c->cfg->timeout * 1000);
    if (ns == NATS_NO_RESPONDERS) {
        fprintf(stderr,
                "latticectl: no latticed is serving %s (is it running, with this API prefix?)\n",
                subject);
        code = LCTL_EXIT_NET;
    } else if (ns == NATS_TIMEOUT) {
        fprintf(stderr, "latticectl: no reply from latticed on %s within %lld s\n", subject,
                (long long)c->cfg->timeout);
        code = LCTL_EXIT_NET;
    } else if (ns == NATS_MAX_PAYLOAD) {
        fprintf(stderr, "latticectl: the request is larger than the NATS server accepts\n");
        code = LCTL_EXIT_FAIL;
    } else if (ns != NATS_OK) {
        fprintf(stderr, "latticectl: request on %s failed: %s\n", subject, natsStatus_GetText(ns));
        code = LCTL_EXIT_NET;
    } else {
        c->raw = lt_strndup(natsMsg_GetData(reply), (size_t)natsMsg_GetDataLength(reply));
        c->reply = c->raw ? json_loads(c->raw, JSON_DECODE_ANY, NULL) : NULL;
        if (c->reply == NULL) {
            fprintf(stderr, "latticectl: the reply on %s is not JSON\n", subject);
            code = LCTL_EXIT_FAIL;
        }
    }
    natsMsg_Destroy(msg);
    natsMsg_Destroy(reply);
    return code;
}

const char *lctl_str(const json_t *o, const char *key, const char *dflt)
{
    const char *s = json_string_value(json_object_get(o, key));

    return s != NULL ? s : dflt;
}

/* ---- output ---------------------------------------------------------------------------------- */

/* A plain YAML scalar is safe when it cannot be read as anything but this string. */
static bool plain_ok(const char *s)
{
    static const char *const special[] = { "true", "false", "yes", "no", "on",
                                           "off",  "null",  "~",   "y",  "n" };

    if (s[0] == '\0' || strchr("-?:,[]{}#&*!|>'\"%@` ", s[0]) != NULL)
        return false;
    if (strspn(s, "0123456789.+-eE") == strlen(s))
        return false; /* looks like a number */
    for (size_t i = 0; i < sizeof(special) / sizeof(special[0]); i++)
        if (strcasecmp(s, special[i]) == 0)
            return false;
    for (const char *p = s; *p; p++)
        if ((unsigned char)*p < 0x20 || *p == '#' || (*p == ':' && (p[1] == ' ' || !p[1])))
            return false;
    return s[strlen(s) - 1] != ' ';
}

static void yaml_scalar(FILE *out, const json_t *v)
{
    char *text;

    if (json_is_string(v) && plain_ok(json_string_value(v))) {
        fputs(json_string_value(v), out);
        return;
    }
    text = json_dumps(v, JSON_ENCODE_ANY); /* JSON scalars are YAML flow scalars */
    fputs(text != NULL ? text : "null", out);
    free(text);
}

static bool is_container(const json_t *v)
{
    return (json_is_object(v) && json_object_size(v) > 0) ||
           (json_is_array(v) && json_array_size(v) > 0);
}

static void yaml_value(FILE *out, const json_t *v, int indent);

static void yaml_key(FILE *out, const char *key)
{
    json_t *k = json_string(key);

    yaml_scalar(out, k);
    json_decref(k);
    fputc(':', out);
}

static void yaml_object(FILE *out, const json_t *v, int indent, bool first_inline)
{
    const char *key;
    json_t *val;
    bool first = true;

    json_object_foreach ((json_t *)v, key, val) {
        if (!(first && first_inline))
            fprintf(out, "%*s", indent, "");
        first = false;
        yaml_key(out, key);
        if (is_container(val)) {
            fputc('\n', out);
            yaml_value(out, val, json_is_array(val) ? indent : indent + 2);
        } else {
            fputc(' ', out);
            yaml_value(out, val, indent + 2);
            fputc('\n', out);
        }
    }
}

static void yaml_value(FILE *out, const json_t *v, int indent)
{
    size_t i;
    json_t *it;

    if (json_is_object(v) && json_object_size(v) > 0) {
        yaml_object(out, v, indent, false);
    } else if (json_is_array(v) && json_array_size(v) > 0) {
        json_array_foreach ((json_t *)v, i, it) {
            fprintf(out, "%*s- ", indent, "");
            if (json_is_object(it) && json_object_size(it) > 0) {
                yaml_object(out, it, indent + 2, true);
            } else if (is_container(it)) {
                fputc('\n', out);
                yaml_value(out, it, indent + 2);
            } else {
                yaml_value(out, it, indent + 2);
                fputc('\n', out);
            }
        }
    } else if (json_is_object(v)) {
        fputs("{}", out);
    } else if (json_is_array(v)) {
        fputs("[]", out);
    } else {
        yaml_scalar(out, v);
    }
}

void lctl_print_yaml(FILE *out, const json_t *v)
{
    yaml_value(out, v, 0);
    if (!is_container(v))
        fputc('\n', out);
}

bool lctl_print_doc(const lctl_api_cfg *cfg, const json_t *doc, const char *raw)
{
    lctl_jsonpath *jp = NULL;
    lt_buf b;

    if (strcmp(cfg->output, "json") == 0) {
        char *text = raw != NULL ? NULL : json_dumps(doc, JSON_COMPACT | JSON_ENCODE_ANY);

        printf("%s\n", raw != NULL ? raw : text != NULL ? text : "null");
        free(text);
        return true;
    }
    if (strcmp(cfg->output, "yaml") == 0) {
        lctl_print_yaml(stdout, doc);
        return true;
    }
    if (cfg->jsonpath == NULL)
        return false;
    lt_buf_init(&b, 64u << 20);
    if (lctl_jsonpath_compile(cfg->jsonpath, &jp) == LT_OK &&
        lctl_jsonpath_eval(jp, doc, &b) == LT_OK)
        fwrite(b.ptr != NULL ? b.ptr : "", 1, b.len, stdout); /* no newline added, as kubectl */
    lctl_jsonpath_free(jp);
    lt_buf_cleanup(&b);
    return true;
}

int lctl_finish(lctl_client *c, void (*table)(lctl_client *c))
{
    const char *result = json_is_object(c->reply) ? lctl_str(c->reply, "result", "") : "";
    bool failed = strcmp(result, "error") == 0 || strcmp(result, "notfound") == 0;

    if (lctl_print_doc(c->cfg, c->reply, c->raw)) {
        if (failed && c->cfg->jsonpath != NULL)
            fprintf(stderr, "latticectl: %s\n", lctl_str(c->reply, "message", result));
    } else if (failed) {
        fprintf(stderr, "latticectl: %s\n", lctl_str(c->reply, "message", result));
    } else if (table != NULL) {
        table(c);
    } else {
        printf("%s\n", lctl_str(c->reply, "message", result));
    }
    return failed ? LCTL_EXIT_FAIL : LCTL_EXIT_OK;
}

/* ---- manifests ------------------------------------------------------------------------------- */

static bool has_suffix(const char *s, const char *suffix)
{
    size_t n = strlen(s), m = strlen(suffix);

    return n >= m && strcasecmp(s + n - m, suffix) == 0;
}

int lctl_read_manifest(const char *path, char **data, size_t *len, const char **content_type)
{
    if (lctl_read_input(path, LT_MAX_MANIFEST_BYTES, data, len) != LT_OK) {
        fprintf(stderr, "latticectl: %s\n", lt_error_message());
        return LCTL_EXIT_USAGE;
    }
    if (*len > LT_MAX_MANIFEST_BYTES) {
        fprintf(stderr, "latticectl: %s is larger than %u bytes\n", path, LT_MAX_MANIFEST_BYTES);
        lt_free(*data);
        *data = NULL;
        return LCTL_EXIT_USAGE;
    }
    *content_type = has_suffix(path, ".json")                               ? "application/json"
                    : has_suffix(path, ".yaml") || has_suffix(path, ".yml") ? "application/yaml"
                                                                            : NULL;
    return 0;
}

int lctl_name_from_file(const char *path, char **name)
{
    lt_model_parse_opts opts = { .source_name = path };
    lt_model *m = NULL;
    lt_model_report *rep = NULL;
    const char *ct = NULL;
    char *data = NULL;
    size_t len = 0;
    int code;

    *name = NULL;
    if ((code = lctl_read_manifest(path, &data, &len, &ct)) != 0)
        return code;
    if (lt_model_parse(data, len, &opts, &m, &rep) != LT_OK || m->name == NULL) {
        fprintf(stderr, "latticectl: %s: %s\n", path,
                lt_model_report_first_error(rep) ? lt_model_report_first_error(rep)
                                                 : "not a valid manifest");
        code = LCTL_EXIT_FAIL;
    } else if ((*name = lt_strdup(m->name)) == NULL) {
        code = LCTL_EXIT_FAIL;
    }
    lt_model_free(m);
    lt_model_report_free(rep);
    lt_free(data);
    return code;
}

void lctl_global_help(FILE *out)
{
    fputs("\nGlobal options of the commands that talk to latticed (before or after COMMAND):\n",
          out);
    for (size_t i = 0; i < LCTL_GLOBAL_COUNT; i++) {
        const lt_opt *o = &lctl_global_opts[i];
        char left[64];

        if (strcmp(o->name, "help") == 0)
            continue;
        if (o->short_name)
            snprintf(left, sizeof(left), "-%c, --%s %s", o->short_name, o->name, o->argname);
        else
            snprintf(left, sizeof(left), "    --%s %s", o->name, o->argname);
        fprintf(out, "  %-32s %s (env %s", left, o->help, o->env);
        if (o->def != NULL)
            fprintf(out, ", default %s", o->def);
        fputs(")\n", out);
    }
}

/* ---- Markdown reference ---------------------------------------------------------------------- */

static void md_escape(FILE *out, const char *s)
{
    for (; *s; s++) {
        if (*s == '|')
            fputs("\\|", out);
        else if (*s == '\n')
            fputc(' ', out);
        else
            fputc(*s, out);
    }
}

static void md_options(FILE *out, const lt_opt *opts, size_t n, bool skip_globals)
{
    fprintf(out, "| option | environment | default | meaning |\n|---|---|---|---|\n");
    for (size_t i = 0; i < n; i++) {
        const lt_opt *o = &opts[i];
        bool global = false;

        for (size_t g = 0; skip_globals && g < LCTL_GLOBAL_COUNT; g++)
            global |= strcmp(lctl_global_opts[g].name, o->name) == 0;
        if (global)
            continue;
        fputs("| ", out);
        if (o->short_name)
            fprintf(out, "`-%c`, ", o->short_name);
        fprintf(out, "`--%s%s", o->name, o->argname ? " " : "");
        md_escape(out, o->argname ? o->argname : "");
        fputc('`', out);
        fprintf(out, " | %s%s%s | %s%s%s | ", o->env ? "`" : "", o->env ? o->env : "",
                o->env ? "`" : "", o->def ? "`" : "", o->def ? o->def : "", o->def ? "`" : "");
        md_escape(out, o->help);
        fputs(" |\n", out);
    }
}

int lctl_help_markdown(FILE *out)
{
    fprintf(out,
            "# latticectl command reference\n\n"
            "<!-- Generated by `latticectl help --markdown` from the command table; do not "
            "edit. A test checks that this file matches. -->\n\n"
            "`latticectl [GLOBAL OPTIONS] COMMAND [ARGS] [OPTIONS]` drives latticed through its "
            "wadm-compatible NATS API (see [api.md](api.md)). Global options may be written "
            "before or after the command.\n\n"
            "Exit status: 0 success; 1 the server answered `error` or `notfound` (or the "
            "manifest is invalid); 2 usage error; 3 NATS unreachable or no reply in time. "
            "Every failure prints one line on standard error.\n\n"
            "Output (`-o`): `table` for people (default), `json` for the exact API reply, "
            "`yaml` for the reply as YAML.\n\n## Global options\n\n");
    md_options(out, lctl_global_opts, LCTL_GLOBAL_COUNT, false);
    fputs("\n## Commands\n\n| command | summary |\n|---|---|\n", out);
    for (const lctl_command *c = lctl_commands; c->name != NULL; c++) {
        fprintf(out, "| [`%s`](#latticectl-%s) | ", c->name, c->name);
        md_escape(out, c->summary);
        fputs(" |\n", out);
    }
    for (const lctl_command *c = lctl_commands; c->name != NULL; c++) {
        fprintf(out, "\n## latticectl %s\n\n", c->name);
        if (c->opts == NULL)
            continue;
        fprintf(out, "```\n%s\n```\n\n%s\n\n", c->opts->usage, c->opts->summary);
        md_options(out, c->opts->opts, c->opts->nopts, true);
    }
    return LCTL_EXIT_OK;
}
