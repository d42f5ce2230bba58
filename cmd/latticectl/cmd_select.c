/*
 * cmd_select.c - label selectors (lctl_select.h): parsing kubectl's
 * equality-based syntax, matching a JSON label object, and `list -l`, which
 * filters the app list on the client by each manifest's metadata.labels
 * (wadm's list reply carries no labels and stays as it is).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lctl_select.h"
#include "lt_alloc.h"

typedef enum {
    SEL_EQ = 0,
    SEL_NE,
    SEL_HAS,
    SEL_HAS_NOT
} sel_op;

struct lctl_select_req {
    char *key, *value;
    sel_op op;
};

static bool key_char(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
           c == '_' || c == '.' || c == '/';
}

/* Keys: non-empty, may hold '/' (prefix/name); values: may be empty, no '/'. */
static bool word_ok(const char *s, size_t n, bool is_key)
{
    if (n == 0)
        return !is_key;
    for (size_t i = 0; i < n; i++)
        if (!key_char(s[i]) || (s[i] == '/' && !is_key))
            return false;
    return true;
}

/* One requirement s[0..n) into r. */
static bool parse_one(const char *s, size_t n, struct lctl_select_req *r)
{
    const char *eq = memchr(s, '=', n);
    size_t klen, voff;

    if (n > 0 && s[0] == '!' && eq == NULL) {
        r->op = SEL_HAS_NOT;
        s++, n--;
        klen = n, voff = n;
    } else if (eq == NULL) {
        r->op = SEL_HAS;
        klen = n, voff = n;
    } else if (eq > s && eq[-1] == '!') {
        r->op = SEL_NE;
        klen = (size_t)(eq - s) - 1, voff = (size_t)(eq - s) + 1;
    } else {
        r->op = SEL_EQ;
        klen = (size_t)(eq - s);
        voff = klen + 1 + (klen + 1 < n && s[klen + 1] == '=');
    }
    if (!word_ok(s, klen, true) || !word_ok(s + voff, n - voff, false))
        return false;
    r->key = lt_strndup(s, klen);
    r->value = lt_strndup(s + voff, n - voff);
    return r->key != NULL && r->value != NULL;
}

int lctl_select_parse(const char *text, lctl_select *out)
{
    const char *p = text;

    memset(out, 0, sizeof(*out));
    if (text == NULL || text[0] == '\0')
        return 0;
    for (;;) {
        const char *end = strchr(p, ',');
        size_t n = end != NULL ? (size_t)(end - p) : strlen(p);
        struct lctl_select_req *nr = lt_realloc(out->reqs, (out->n + 1) * sizeof(*nr));

        if (nr == NULL) {
            fprintf(stderr, "latticectl: out of memory\n");
            lctl_select_free(out);
            return LCTL_EXIT_FAIL;
        }
        out->reqs = nr;
        memset(&nr[out->n], 0, sizeof(*nr));
        out->n++;
        if (!parse_one(p, n, &nr[out->n - 1])) {
            fprintf(stderr,
                    "latticectl: bad label selector '%.*s' in '%s' (use key=value, key==value, "
                    "key!=value, key or !key, comma-separated)\n",
                    (int)n, p, text);
            lctl_select_free(out);
            return LCTL_EXIT_USAGE;
        }
        if (end == NULL)
            return 0;
        p = end + 1;
    }
}

bool lctl_select_match(const lctl_select *sel, const json_t *labels)
{
    for (size_t i = 0; sel != NULL && i < sel->n; i++) {
        const struct lctl_select_req *r = &sel->reqs[i];
        const char *v = json_string_value(json_object_get(labels, r->key));

        switch (r->op) {
        case SEL_EQ:
            if (v == NULL || strcmp(v, r->value) != 0)
                return false;
            break;
        case SEL_NE: /* kubectl: absent counts as different */
            if (v != NULL && strcmp(v, r->value) == 0)
                return false;
            break;
        case SEL_HAS:
            if (v == NULL)
                return false;
            break;
        default:
            if (v != NULL)
                return false;
            break;
        }
    }
    return true;
}

void lctl_select_free(lctl_select *sel)
{
    if (sel == NULL)
        return;
    for (size_t i = 0; i < sel->n; i++) {
        lt_free(sel->reqs[i].key);
        lt_free(sel->reqs[i].value);
    }
    lt_free(sel->reqs);
    memset(sel, 0, sizeof(*sel));
}

/* The labels of app m's manifest (deployed version, else latest) match? Exit code in *code. */
static bool app_matches(lctl_client *c, const json_t *m, const lctl_select *sel, int *code)
{
    lctl_client one = { .cfg = c->cfg, .nc = c->nc };
    const char *v = json_string_value(json_object_get(m, "deployed_version"));
    json_t *body = json_pack("{s:s?}", "version", v);
    char *txt = body != NULL ? json_dumps(body, JSON_COMPACT) : NULL;
    bool yes = false;

    *code = lctl_request(&one, "get", lctl_str(m, "name", ""), txt, txt ? strlen(txt) : 0, NULL);
    if (*code == 0)
        yes = lctl_select_match(sel, json_object_get(json_object_get(json_object_get(one.reply,
                                                                                     "manifest"),
                                                                     "metadata"),
                                                     "labels"));
    free(txt);
    json_decref(body);
    json_decref(one.reply);
    lt_free(one.raw);
    return yes;
}

int lctl_select_list(const lctl_command *cmd, int argc, char **argv, void (*tbl)(lctl_client *c))
{
    lctl_select_cfg cfg;
    lctl_select sel;
    lctl_client c;
    const char *pos[1];
    json_t *models;
    int npos = 0, code;
    size_t i;

    memset(&cfg, 0, sizeof(cfg));
    code = lctl_api_parse(cmd, &cfg.api, argc, argv, pos, 0, &npos);
    if (code != 0)
        return code < 0 ? LCTL_EXIT_OK : code;
    if ((code = lctl_select_parse(cfg.selector, &sel)) != 0)
        return code;
    if ((code = lctl_connect(&c, &cfg.api)) != 0) {
        lctl_select_free(&sel);
        return code;
    }
    code = lctl_request(&c, "get", NULL, NULL, 0, NULL);
    models = json_is_array(c.reply) ? c.reply : json_object_get(c.reply, "models");
    for (i = 0; code == 0 && sel.n > 0 && i < json_array_size(models);) {
        int rc = 0;

        if (app_matches(&c, json_array_get(models, i), &sel, &rc))
            i++;
        else if (rc == 0 || rc == LCTL_EXIT_FAIL)
            json_array_remove(models, i); /* not matching, or gone meanwhile */
        else
            code = rc;
    }
    if (code == 0 && sel.n > 0) { /* -o json: the filtered list, in the reply's shape */
        char *txt = json_dumps(c.reply, JSON_COMPACT | JSON_PRESERVE_ORDER);

        lt_free(c.raw);
        c.raw = txt != NULL ? lt_strdup(txt) : NULL;
        free(txt);
        if (c.raw == NULL)
            code = LCTL_EXIT_FAIL;
    }
    if (code == 0)
        code = lctl_finish(&c, tbl);
    lctl_close(&c);
    lctl_select_free(&sel);
    return code;
}
