/*
 * cmd_context.c - latticectl's contexts: named connection settings (NATS URL, credentials,
 * TLS files, lattice, API prefix) in a YAML config file with a current-context, as kubectl's
 * kubeconfig. lctl_context_resolve fills what the command line and the environment left at
 * the defaults; `latticectl context list|use|show` reads and switches them (use rewrites the
 * file atomically, changing only the current-context line).
 */
#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <yaml.h>

#include "lctl_api.h"
#include "lt_alloc.h"
#include "lt_buf.h"
#include "lt_fs.h"
#include "lt_limits.h"

#define CONFIG_MAX (1u << 20)
#define YAML_DEPTH 16

/* The option names a context may set (each is also a global option of the API commands). */
static const char *const context_keys[] = { "nats-url", "creds",   "nkey",    "seed",      "tls-ca",
                                            "tls-cert", "tls-key", "lattice", "api-prefix" };
#define N_KEYS (sizeof(context_keys) / sizeof(context_keys[0]))

static json_t *loaded; /* the config file in use, kept until exit: cfg fields point into it */

static void free_loaded(void)
{
    json_decref(loaded);
    loaded = NULL;
}

/* ---- the file -------------------------------------------------------------------------------- */

/* The config file path into out: --config / LATTICE_CONFIG, else the XDG location. */
static bool config_path(const lctl_api_cfg *cfg, char *out, size_t cap)
{
    const char *xdg = getenv("XDG_CONFIG_HOME"), *home = getenv("HOME");
    int n;

    if (cfg->config != NULL)
        n = snprintf(out, cap, "%s", cfg->config);
    else if (xdg != NULL && xdg[0] == '/')
        n = snprintf(out, cap, "%s/latticectl/config.yaml", xdg);
    else if (home != NULL && home[0] != '\0')
        n = snprintf(out, cap, "%s/.config/latticectl/config.yaml", home);
    else
        return false;
    return n > 0 && (size_t)n < cap;
}

static json_t *yaml_to_json(yaml_document_t *doc, yaml_node_t *nd, int depth)
{
    json_t *v = NULL;

    if (nd == NULL || depth > YAML_DEPTH)
        return NULL;
    if (nd->type == YAML_SCALAR_NODE) {
        v = json_stringn((const char *)nd->data.scalar.value, nd->data.scalar.length);
    } else if (nd->type == YAML_SEQUENCE_NODE) {
        v = json_array();
        for (yaml_node_item_t *it = nd->data.sequence.items.start;
             v != NULL && it < nd->data.sequence.items.top; it++) {
            json_t *x = yaml_to_json(doc, yaml_document_get_node(doc, *it), depth + 1);

            if (x == NULL || json_array_append_new(v, x) != 0)
                json_decref(v), v = NULL;
        }
    } else if (nd->type == YAML_MAPPING_NODE) {
        v = json_object();
        for (yaml_node_pair_t *p = nd->data.mapping.pairs.start;
             v != NULL && p < nd->data.mapping.pairs.top; p++) {
            yaml_node_t *k = yaml_document_get_node(doc, p->key);
            json_t *x = yaml_to_json(doc, yaml_document_get_node(doc, p->value), depth + 1);

            if (k == NULL || k->type != YAML_SCALAR_NODE || x == NULL ||
                json_object_set_new(v, (const char *)k->data.scalar.value, x) != 0)
                json_decref(v), v = NULL, json_decref(x);
        }
    }
    return v;
}

/* Parse the YAML text (libyaml, as the manifests) into JSON: scalars become strings. */
static lt_status parse_config(const char *path, const char *text, size_t len, json_t **out)
{
    yaml_parser_t parser;
    yaml_document_t doc;
    yaml_node_t *root;
    lt_status st = LT_OK;

    *out = NULL;
    if (!yaml_parser_initialize(&parser))
        return LT_FAIL(LT_ERR_NOMEM, "yaml parser");
    yaml_parser_set_input_string(&parser, (const unsigned char *)text, len);
    if (!yaml_parser_load(&parser, &doc)) {
        st = LT_FAIL(LT_ERR_INVALID, "%s:%zu: %s", path, parser.problem_mark.line + 1,
                     parser.problem != NULL ? parser.problem : "not YAML");
        yaml_parser_delete(&parser);
        return st;
    }
    root = yaml_document_get_root_node(&doc);
    if (root == NULL)
        *out = json_object(); /* empty file */
    else if (root->type != YAML_MAPPING_NODE || (*out = yaml_to_json(&doc, root, 0)) == NULL)
        st = LT_FAIL(LT_ERR_INVALID, "%s: expected a mapping with current-context and contexts",
                     path);
    yaml_document_delete(&doc);
    yaml_parser_delete(&parser);
    return st;
}

/* Load path; *doc NULL when the file does not exist. Exit code. */
static int load(const char *path, json_t **doc)
{
    char *text = NULL;
    size_t len = 0;
    lt_status st;

    *doc = NULL;
    if (access(path, F_OK) != 0 && errno == ENOENT)
        return 0;
    st = lt_fs_read_file(path, CONFIG_MAX, &text, &len);
    if (st == LT_OK)
        st = parse_config(path, text, len, doc);
    lt_free(text);
    if (st != LT_OK) {
        fprintf(stderr, "latticectl: config file %s: %s\n", path, lt_error_message());
        return LCTL_EXIT_USAGE;
    }
    return 0;
}

/* The context called name in doc, or NULL. */
static json_t *find_context(const json_t *doc, const char *name)
{
    size_t i;
    json_t *c;

    json_array_foreach (json_object_get(doc, "contexts"), i, c)
        if (strcmp(lctl_str(c, "name", ""), name) == 0)
            return c;
    return NULL;
}

static bool is_context_key(const char *key)
{
    for (size_t i = 0; i < N_KEYS; i++)
        if (strcmp(context_keys[i], key) == 0)
            return true;
    return false;
}

/* Every key of ctx is name or a context key, every value a string. Exit code. */
static int check_context(const char *path, const json_t *ctx)
{
    const char *key;
    json_t *v;

    if (!json_is_object(ctx)) {
        fprintf(stderr, "latticectl: config file %s: a context is a mapping\n", path);
        return LCTL_EXIT_USAGE;
    }
    json_object_foreach ((json_t *)ctx, key, v) {
        if (strcmp(key, "name") != 0 && !is_context_key(key)) {
            fprintf(stderr,
                    "latticectl: config file %s: context '%s': unknown key '%s' (known: name, "
                    "nats-url, creds, nkey, seed, tls-ca, tls-cert, tls-key, lattice, "
                    "api-prefix)\n",
                    path, lctl_str(ctx, "name", ""), key);
            return LCTL_EXIT_USAGE;
        }
    }
    return 0;
}

static bool has_opt(const lt_opts_spec *spec, const char *name)
{
    for (size_t i = 0; i < spec->nopts; i++)
        if (strcmp(spec->opts[i].name, name) == 0)
            return true;
    return false;
}

int lctl_context_resolve(const lt_opts_spec *spec, lctl_api_cfg *cfg)
{
    char path[LT_MAX_PATH];
    const char *name;
    json_t *doc = NULL, *ctx;
    int code;

    if (!has_opt(spec, "nats-url"))
        return 0; /* a command without connection settings */
    if (!config_path(cfg, path, sizeof(path)))
        return 0;
    if ((code = load(path, &doc)) != 0)
        return code;
    if (doc == NULL && (cfg->context != NULL || cfg->config != NULL)) {
        fprintf(stderr, "latticectl: config file %s does not exist (see latticectl context)\n",
                path);
        return LCTL_EXIT_USAGE;
    }
    name = cfg->context != NULL ? cfg->context : lctl_str(doc, "current-context", NULL);
    if (doc == NULL || name == NULL || name[0] == '\0') {
        json_decref(doc);
        return 0;
    }
    if ((ctx = find_context(doc, name)) == NULL) {
        fprintf(stderr,
                "latticectl: no context '%s' in %s (see latticectl context list, or set "
                "--context)\n",
                name, path);
        json_decref(doc);
        return LCTL_EXIT_USAGE;
    }
    if ((code = check_context(path, ctx)) != 0) {
        json_decref(doc);
        return code;
    }
    for (size_t i = 0; i < spec->nopts; i++) {
        const lt_opt *o = &spec->opts[i];
        const char **field = (const char **)(void *)((char *)cfg + o->offset);
        const char *v = lctl_str(ctx, o->name, NULL);

        /* lt_opts stores a default as the table's own pointer: anything else came from the
         * command line or the environment, which win over the context */
        if (v != NULL && is_context_key(o->name) && o->kind == LT_OPT_STRING &&
            (*field == NULL || *field == o->def))
            *field = v;
    }
    if (loaded == NULL)
        atexit(free_loaded);
    json_decref(loaded);
    loaded = doc;
    return 0;
}

/* ---- latticectl context ---------------------------------------------------------------------- */

/* clang-format off */
static const lt_opt context_options[] = {
    { "config", 0, "LATTICE_CONFIG", LT_OPT_STRING, "FILE", NULL,
      "config file (default: $XDG_CONFIG_HOME/latticectl/config.yaml, "
      "~/.config/latticectl/config.yaml)", LCTL_F(config), 0, 0 },
    { "output", 'o', NULL, LT_OPT_STRING, "table|json|yaml", "table",
      "list/show as a table, or the contexts as JSON or YAML", LCTL_F(output), 0, 0 },
    { "help", 'h', NULL, LT_OPT_FLAG, NULL, NULL, "show this help and exit", LCTL_F(help), 0, 0 },
};
LCTL_SPEC(context, context_options, "latticectl context list | use NAME | show [NAME]",
          "Named connection settings, as kubectl's contexts. The config file (YAML) holds\n"
          "`current-context: NAME` and `contexts:`, a list of mappings with `name` and any of\n"
          "nats-url, creds, nkey, seed, tls-ca, tls-cert, tls-key, lattice, api-prefix (the\n"
          "global options of the same names). Commands use the context named by --context or\n"
          "LATTICE_CONTEXT, else the current one, for what neither a flag nor an environment\n"
          "variable sets (flag > environment > context > default). `list` shows the contexts\n"
          "(* marks the current one), `use NAME` makes NAME current (rewriting only that line\n"
          "of the file, atomically), `show [NAME]` prints a context's settings.");
/* clang-format on */

static int ctx_list(const lctl_api_cfg *cfg, const json_t *doc)
{
    const char *cur = lctl_str(doc, "current-context", "");
    size_t i;
    json_t *c;

    if (lctl_print_doc(cfg, json_object_get(doc, "contexts"), NULL))
        return 0;
    printf("%-7s  %-20s  %-32s  %s\n", "CURRENT", "NAME", "NATS URL", "LATTICE");
    json_array_foreach (json_object_get(doc, "contexts"), i, c) {
        const char *n = lctl_str(c, "name", "");

        printf("%-7s  %-20s  %-32s  %s\n", strcmp(n, cur) == 0 ? "*" : "", n,
               lctl_str(c, "nats-url", "-"), lctl_str(c, "lattice", "-"));
    }
    return 0;
}

static int ctx_show(const lctl_api_cfg *cfg, const json_t *doc, const char *path, const char *name)
{
    const json_t *ctx;

    if (name == NULL)
        name = lctl_str(doc, "current-context", NULL);
    if (name == NULL) {
        fprintf(stderr,
                "latticectl context: %s has no current-context (give NAME, or run "
                "latticectl context use NAME)\n",
                path);
        return LCTL_EXIT_FAIL;
    }
    if ((ctx = find_context(doc, name)) == NULL) {
        fprintf(stderr,
                "latticectl context: no context '%s' in %s (see latticectl context "
                "list)\n",
                name, path);
        return LCTL_EXIT_FAIL;
    }
    if (lctl_print_doc(cfg, ctx, NULL))
        return 0;
    printf("%-12s %s%s\n", "name:", name,
           strcmp(name, lctl_str(doc, "current-context", "")) == 0 ? " (current)" : "");
    for (size_t i = 0; i < N_KEYS; i++) {
        const char *v = lctl_str(ctx, context_keys[i], NULL);
        char key[32];

        snprintf(key, sizeof(key), "%s:", context_keys[i]);
        if (v != NULL)
            printf("%-12s %s\n", key, v);
    }
    return 0;
}

/* Write text to path atomically: a temporary file beside it (same mode), fsync, rename. */
static int write_atomic(const char *path, const char *text, size_t len)
{
    char tmp[LT_MAX_PATH + 32];
    struct stat sb;
    FILE *f;
    int ok;

    snprintf(tmp, sizeof(tmp), "%s.tmp.%ld", path, (long)getpid());
    if ((f = fopen(tmp, "w")) == NULL) {
        fprintf(stderr, "latticectl context: cannot write %s (errno %d)\n", tmp, errno);
        return LCTL_EXIT_USAGE;
    }
    if (stat(path, &sb) == 0)
        LT_IGNORE(fchmod(fileno(f), sb.st_mode & 07777));
    ok = fwrite(text, 1, len, f) == len && fflush(f) == 0 && fsync(fileno(f)) == 0;
    ok = fclose(f) == 0 && ok;
    if (!ok || rename(tmp, path) != 0) {
        fprintf(stderr, "latticectl context: cannot write %s (errno %d)\n", path, errno);
        unlink(tmp);
        return LCTL_EXIT_USAGE;
    }
    return 0;
}

/* "current-context: NAME\n", NAME quoted (JSON is YAML) unless plainly safe. */
static void current_line(lt_buf *b, const char *name)
{
    LT_IGNORE(lt_buf_appends(b, "current-context: "));
    if (name[0] != '\0' && isalpha((unsigned char)name[0]) &&
        strspn(name, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.-") ==
            strlen(name))
        LT_IGNORE(lt_buf_appends(b, name));
    else
        LT_IGNORE(lt_buf_json_str(b, name));
    LT_IGNORE(lt_buf_appendc(b, '\n'));
}

/* Replace (or add at the top) the `current-context:` line of the file, keeping the rest. */
static int ctx_use(const json_t *doc, const char *path, const char *name)
{
    char *text = NULL;
    size_t len = 0, at = 0;
    lt_buf b;
    bool done = false;
    int code;

    if (find_context(doc, name) == NULL) {
        fprintf(stderr,
                "latticectl context: no context '%s' in %s (see latticectl context "
                "list)\n",
                name, path);
        return LCTL_EXIT_FAIL;
    }
    if (lt_fs_read_file(path, CONFIG_MAX, &text, &len) != LT_OK) {
        fprintf(stderr, "latticectl context: %s\n", lt_error_message());
        return LCTL_EXIT_USAGE;
    }
    lt_buf_init(&b, 2 * CONFIG_MAX);
    while (at < len) { /* line by line */
        size_t n = strcspn(text + at, "\n");
        bool nl = at + n < len;

        if (!done && strncmp(text + at, "current-context:", 16) == 0) {
            current_line(&b, name);
            done = true;
        } else {
            LT_IGNORE(lt_buf_append(&b, text + at, n + (nl ? 1 : 0)));
        }
        at += n + (nl ? 1 : 0);
    }
    if (!done) {
        lt_buf tmp;

        lt_buf_init(&tmp, 2 * CONFIG_MAX);
        current_line(&tmp, name);
        LT_IGNORE(lt_buf_append(&tmp, b.ptr, b.len));
        lt_buf_cleanup(&b);
        b = tmp;
    }
    if (lt_buf_status(&b) != LT_OK) {
        fprintf(stderr, "latticectl context: %s is too large\n", path);
        code = LCTL_EXIT_USAGE;
    } else if ((code = write_atomic(path, b.ptr, b.len)) == 0) {
        printf("Switched to context \"%s\".\n", name);
    }
    lt_buf_cleanup(&b);
    lt_free(text);
    return code;
}

int lctl_cmd_context(const lctl_command *cmd, int argc, char **argv)
{
    lctl_api_cfg cfg;
    const char *pos[2] = { NULL, NULL };
    char path[LT_MAX_PATH];
    json_t *doc = NULL;
    int npos = 0, code = lctl_api_parse(cmd, &cfg, argc, argv, pos, 2, &npos);

    if (code != 0)
        return code < 0 ? LCTL_EXIT_OK : code;
    if (npos == 0 || (strcmp(pos[0], "list") == 0 && npos == 1) ||
        (strcmp(pos[0], "show") == 0 && npos <= 2) || (strcmp(pos[0], "use") == 0 && npos == 2)) {
        if (npos == 0) {
            fprintf(stderr,
                    "latticectl context: missing list, use NAME or show [NAME] (usage: "
                    "%s)\n",
                    cmd->opts->usage);
            return LCTL_EXIT_USAGE;
        }
    } else {
        fprintf(stderr,
                "latticectl context: expected list, use NAME or show [NAME], got '%s' "
                "(usage: %s)\n",
                pos[0], cmd->opts->usage);
        return LCTL_EXIT_USAGE;
    }
    if (!config_path(&cfg, path, sizeof(path))) {
        fprintf(stderr, "latticectl context: set HOME, XDG_CONFIG_HOME or --config\n");
        return LCTL_EXIT_USAGE;
    }
    if ((code = load(path, &doc)) != 0)
        return code;
    if (doc == NULL && strcmp(pos[0], "list") != 0) {
        fprintf(stderr,
                "latticectl context: %s does not exist: write its contexts first "
                "(see latticectl context --help)\n",
                path);
        return LCTL_EXIT_FAIL;
    }
    if (doc == NULL)
        doc = json_object();
    if (strcmp(pos[0], "list") == 0)
        code = ctx_list(&cfg, doc);
    else if (strcmp(pos[0], "show") == 0)
        code = ctx_show(&cfg, doc, path, pos[1]);
    else
        code = ctx_use(doc, path, pos[1]);
    json_decref(doc);
    return code;
}
