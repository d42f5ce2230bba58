/*
 * lt_opts.c - option table parsing (argv, environment, "key = value" config file), and the
 * "did you mean" suggestions for mistyped options and commands (edit distance).
 */
#include "lt_opts.h"

#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "lt_alloc.h"
#include "lt_buf.h"
#include "lt_limits.h"

static lt_status parse_bool(const char *v, bool *out)
{
    if (!strcmp(v, "1") || !strcmp(v, "true") || !strcmp(v, "yes") || !strcmp(v, "on")) {
        *out = true;
        return LT_OK;
    }
    if (!strcmp(v, "0") || !strcmp(v, "false") || !strcmp(v, "no") || !strcmp(v, "off") ||
        !strcmp(v, "")) {
        *out = false;
        return LT_OK;
    }
    return LT_ERR_INVALID;
}

/* Store value into the field of opt; origin names the source for errors. */
static lt_status assign(const lt_opt *opt, void *cfg, const char *value, const char *origin)
{
    char *field = (char *)cfg + opt->offset;
    char *end;
    long long n;

    switch (opt->kind) {
    case LT_OPT_FLAG:
        if (parse_bool(value, (bool *)field) != LT_OK)
            return LT_FAIL(LT_ERR_INVALID, "%s: --%s expects true or false, got '%s'", origin,
                           opt->name, value);
        return LT_OK;
    case LT_OPT_STRING:
        *(const char **)field = value;
        return LT_OK;
    case LT_OPT_INT:
        errno = 0;
        n = strtoll(value, &end, 10);
        if (errno != 0 || end == value || *end != '\0' || n < opt->min || n > opt->max)
            return LT_FAIL(LT_ERR_INVALID,
                           "%s: --%s expects an integer from %" PRId64 " to %" PRId64 ", got '%s'",
                           origin, opt->name, opt->min, opt->max, value);
        *(int64_t *)field = n;
        return LT_OK;
    }
    return LT_ERR_INVALID;
}

static const lt_opt *find_long(const lt_opts_spec *spec, const char *name, size_t len)
{
    for (size_t i = 0; i < spec->nopts; i++) {
        if (strlen(spec->opts[i].name) == len && !strncmp(spec->opts[i].name, name, len))
            return &spec->opts[i];
    }
    return NULL;
}

size_t lt_opts_distance(const char *a, const char *b)
{
    size_t la = strlen(a), lb = strlen(b);
    size_t rows[3][LT_OPTS_WORD_MAX + 1]; /* rows i, i - 1 and i - 2 of the matrix, rotating */

    if (la > LT_OPTS_WORD_MAX || lb > LT_OPTS_WORD_MAX)
        return SIZE_MAX;
    for (size_t j = 0; j <= lb; j++)
        rows[0][j] = j;
    for (size_t i = 1; i <= la; i++) {
        size_t *cur = rows[i % 3], *prev = rows[(i + 2) % 3], *prev2 = rows[(i + 1) % 3];

        cur[0] = i;
        for (size_t j = 1; j <= lb; j++) {
            size_t cost = a[i - 1] == b[j - 1] ? 0 : 1;
            size_t d = prev[j] + 1; /* deletion */

            if (cur[j - 1] + 1 < d) /* insertion */
                d = cur[j - 1] + 1;
            if (prev[j - 1] + cost < d) /* substitution */
                d = prev[j - 1] + cost;
            if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] &&
                prev2[j - 2] + 1 < d) /* transposition */
                d = prev2[j - 2] + 1;
            cur[j] = d;
        }
    }
    return rows[la % 3][lb];
}

/* The nearest of the names name_at(ctx, 0..n) to word per lt_opts_suggest's rule, or NULL. */
static const char *nearest(const char *word, const char *(*name_at)(const void *, size_t),
                           const void *ctx, size_t n)
{
    const char *best = NULL;
    size_t best_d = SIZE_MAX;

    for (size_t i = 0; i < n; i++) {
        const char *name = name_at(ctx, i);
        size_t d = lt_opts_distance(word, name);

        if (d == 0)
            return NULL;
        if (d < best_d) {
            best = name;
            best_d = d;
        }
    }
    return best_d <= LT_OPTS_SUGGEST_DIST && best_d < strlen(word) ? best : NULL;
}

static const char *cand_at(const void *ctx, size_t i)
{
    return ((const char *const *)ctx)[i];
}

static const char *opt_at(const void *ctx, size_t i)
{
    return ((const lt_opts_spec *)ctx)->opts[i].name;
}

const char *lt_opts_suggest(const char *word, const char *const *cands, size_t n)
{
    return nearest(word, cand_at, cands, n);
}

/* " Did you mean '--NAME'?" for an unknown long option name (len bytes), else "". */
static void suggest_long(const lt_opts_spec *spec, const char *name, size_t len, const char *dash,
                         char *out, size_t outsize)
{
    char word[LT_OPTS_WORD_MAX + 1];
    const char *best;

    out[0] = '\0';
    if (len > LT_OPTS_WORD_MAX)
        return;
    memcpy(word, name, len);
    word[len] = '\0';
    best = nearest(word, opt_at, spec, spec->nopts);
    if (best != NULL)
        snprintf(out, outsize, ". Did you mean '%s%s'?", dash, best);
}

static const lt_opt *find_short(const lt_opts_spec *spec, char c)
{
    for (size_t i = 0; i < spec->nopts; i++) {
        if (spec->opts[i].short_name == c)
            return &spec->opts[i];
    }
    return NULL;
}

static char *trim(char *s)
{
    char *e;

    while (*s == ' ' || *s == '\t')
        s++;
    e = s + strlen(s);
    while (e > s && (e[-1] == ' ' || e[-1] == '\t' || e[-1] == '\r' || e[-1] == '\n'))
        *--e = '\0';
    return s;
}

/* Read path into a heap string (bounded to 1 MiB). */
static lt_status read_file(const char *path, char **out)
{
    FILE *f = fopen(path, "r");
    lt_buf b;
    char chunk[4096];
    size_t n;
    lt_status st = LT_OK;

    if (f == NULL)
        return LT_FAIL(LT_ERR_IO, "cannot open config file '%s' (errno %d)", path, errno);
    lt_buf_init(&b, 1u << 20);
    while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0) {
        st = lt_buf_append(&b, chunk, n);
        if (st != LT_OK) {
            st = LT_FAIL(st, "config file '%s' is too large", path);
            break;
        }
    }
    fclose(f);
    if (st == LT_OK) {
        *out = lt_buf_take(&b);
        if (*out == NULL)
            st = LT_ERR_NOMEM;
    }
    lt_buf_cleanup(&b);
    return st;
}

/* Apply "key = value" (or "key: value") lines; '#' starts a comment line. */
static lt_status apply_config(const lt_opts_spec *spec, void *cfg, const char *path, char *text)
{
    char origin[LT_MAX_PATH + 32];
    int lineno = 0;
    char *line = text;

    while (line != NULL && *line != '\0') {
        char *next = strchr(line, '\n');
        char *sep, *key, *val;
        const lt_opt *opt;
        lt_status st;

        if (next != NULL)
            *next++ = '\0';
        lineno++;
        key = trim(line);
        line = next;
        if (*key == '\0' || *key == '#')
            continue;
        snprintf(origin, sizeof(origin), "%s:%d", path, lineno);
        sep = strpbrk(key, "=:");
        if (sep == NULL)
            return LT_FAIL(LT_ERR_INVALID, "%s: expected 'key = value'", origin);
        *sep = '\0';
        val = trim(sep + 1);
        key = trim(key);
        if (strlen(val) >= 2 && (val[0] == '"' || val[0] == '\'') &&
            val[strlen(val) - 1] == val[0]) {
            val[strlen(val) - 1] = '\0';
            val++;
        }
        opt = find_long(spec, key, strlen(key));
        if (opt == NULL || (spec->config_opt && !strcmp(opt->name, spec->config_opt))) {
            char hint[LT_OPTS_WORD_MAX + 32];

            suggest_long(spec, key, strlen(key), "", hint, sizeof(hint));
            return LT_FAIL(LT_ERR_INVALID, "%s: unknown option '%s'%s", origin, key, hint);
        }
        st = assign(opt, cfg, val, origin);
        if (st != LT_OK)
            return st;
    }
    return LT_OK;
}

/* Find the config file path from argv or the environment, before anything else. */
static const char *config_path(const lt_opts_spec *spec, int argc, char **argv)
{
    const lt_opt *copt;
    const char *path = NULL;
    size_t n;

    if (spec->config_opt == NULL)
        return NULL;
    copt = find_long(spec, spec->config_opt, strlen(spec->config_opt));
    if (copt == NULL)
        return NULL;
    if (copt->env != NULL && getenv(copt->env) != NULL)
        path = getenv(copt->env);
    n = strlen(copt->name);
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];

        if (!strcmp(a, "--"))
            break;
        if (!strncmp(a, "--", 2) && !strncmp(a + 2, copt->name, n)) {
            if (a[2 + n] == '=')
                path = a + 3 + n;
            else if (a[2 + n] == '\0' && i + 1 < argc)
                path = argv[i + 1];
        }
    }
    return path;
}

static lt_status parse_argv(const lt_opts_spec *spec, void *cfg, int argc, char **argv,
                            int *first_arg)
{
    int i;

    for (i = 1; i < argc; i++) {
        const char *a = argv[i], *val = NULL, *eq = NULL;
        const lt_opt *opt;
        char shown[96];
        lt_status st;

        if (!strcmp(a, "--")) {
            i++;
            break;
        }
        if (a[0] != '-' || a[1] == '\0')
            break;
        if (a[1] == '-') {
            eq = strchr(a + 2, '=');
            opt = find_long(spec, a + 2, eq ? (size_t)(eq - a - 2) : strlen(a + 2));
            if (eq)
                val = eq + 1;
        } else {
            opt = a[2] == '\0' ? find_short(spec, a[1]) : NULL;
        }
        if (opt == NULL) {
            char hint[LT_OPTS_WORD_MAX + 32] = "";

            if (a[1] == '-')
                suggest_long(spec, a + 2, eq ? (size_t)(eq - a - 2) : strlen(a + 2), "--", hint,
                             sizeof(hint));
            return LT_FAIL(LT_ERR_INVALID, "unknown option '%s'%s (see --help)", a, hint);
        }
        snprintf(shown, sizeof(shown), "option --%s", opt->name);
        if (opt->kind == LT_OPT_FLAG) {
            st = assign(opt, cfg, val ? val : "true", shown);
        } else {
            if (val == NULL) {
                if (i + 1 >= argc)
                    return LT_FAIL(LT_ERR_INVALID, "option --%s needs a value (%s)", opt->name,
                                   opt->argname ? opt->argname : "VALUE");
                val = argv[++i];
            }
            st = assign(opt, cfg, val, shown);
        }
        if (st != LT_OK)
            return st;
    }
    *first_arg = i;
    return LT_OK;
}

lt_status lt_opts_parse(const lt_opts_spec *spec, void *cfg, int argc, char **argv, int *first_arg,
                        char **config_text)
{
    const char *path;
    char envorigin[128];
    lt_status st;

    *config_text = NULL;
    for (size_t i = 0; i < spec->nopts; i++) {
        if (spec->opts[i].def != NULL) {
            st = assign(&spec->opts[i], cfg, spec->opts[i].def, "default");
            if (st != LT_OK)
                return st;
        }
    }
    path = config_path(spec, argc, argv);
    if (path != NULL && path[0] != '\0') {
        st = read_file(path, config_text);
        if (st != LT_OK)
            return st;
        st = apply_config(spec, cfg, path, *config_text);
        if (st != LT_OK)
            return st;
    }
    for (size_t i = 0; i < spec->nopts; i++) {
        const lt_opt *opt = &spec->opts[i];
        const char *v = opt->env ? getenv(opt->env) : NULL;

        if (v == NULL)
            continue;
        snprintf(envorigin, sizeof(envorigin), "environment %s", opt->env);
        st = assign(opt, cfg, v, envorigin);
        if (st != LT_OK)
            return st;
    }
    return parse_argv(spec, cfg, argc, argv, first_arg);
}

void lt_opts_help(const lt_opts_spec *spec, FILE *out)
{
    fprintf(out, "Usage: %s\n\n%s\n\nOptions:\n", spec->usage, spec->summary);
    for (size_t i = 0; i < spec->nopts; i++) {
        const lt_opt *o = &spec->opts[i];
        char left[96];

        if (o->short_name)
            snprintf(left, sizeof(left), "-%c, --%s%s%s", o->short_name, o->name,
                     o->argname ? " " : "", o->argname ? o->argname : "");
        else
            snprintf(left, sizeof(left), "    --%s%s%s", o->name, o->argname ? " " : "",
                     o->argname ? o->argname : "");
        fprintf(out, "  %-30s %s", left, o->help);
        if (o->def != NULL && o->kind != LT_OPT_FLAG)
            fprintf(out, " [default: %s]", o->def);
        if (o->env != NULL)
            fprintf(out, " [env: %s]", o->env);
        fputc('\n', out);
    }
}
