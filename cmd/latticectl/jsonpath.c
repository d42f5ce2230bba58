/*
 * jsonpath.c - kubectl-style JSONPath templates for `-o jsonpath=EXPR`: a template compiles
 * to a flat list of nodes (text, path, range, end; each range knows its end), and evaluates
 * recursively on a jansson document. See jsonpath.h for the subset.
 */
#include "jsonpath.h"

#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "lt_alloc.h"

#define MAX_DEPTH 32 /* nested ranges */

typedef enum {
    STEP_KEY,
    STEP_INDEX,
    STEP_ALL
} step_kind;

typedef struct {
    step_kind kind;
    char *key;
    long long index;
} step;

typedef enum {
    NODE_TEXT,
    NODE_PATH,
    NODE_RANGE,
    NODE_END
} node_kind;

typedef struct {
    node_kind kind;
    char *text; /* NODE_TEXT */
    bool from_root;
    step *steps;
    size_t nsteps;
    size_t end; /* NODE_RANGE: index of its NODE_END */
} node;

struct lctl_jsonpath {
    node *nodes;
    size_t n, cap;
};

void lctl_jsonpath_free(lctl_jsonpath *jp)
{
    if (jp == NULL)
        return;
    for (size_t i = 0; i < jp->n; i++) {
        lt_free(jp->nodes[i].text);
        for (size_t s = 0; s < jp->nodes[i].nsteps; s++)
            lt_free(jp->nodes[i].steps[s].key);
        lt_free(jp->nodes[i].steps);
    }
    lt_free(jp->nodes);
    lt_free(jp);
}

static node *add_node(lctl_jsonpath *jp, node_kind kind)
{
    if (jp->n == jp->cap) {
        size_t ncap = jp->cap ? jp->cap * 2 : 8;
        node *p = lt_realloc(jp->nodes, ncap * sizeof(*p));

        if (p == NULL)
            return NULL;
        jp->nodes = p;
        jp->cap = ncap;
    }
    memset(&jp->nodes[jp->n], 0, sizeof(node));
    jp->nodes[jp->n].kind = kind;
    return &jp->nodes[jp->n++];
}

static lt_status add_step(node *nd, step_kind kind, const char *key, size_t keylen, long long index)
{
    step *p = lt_realloc(nd->steps, (nd->nsteps + 1) * sizeof(*p));

    if (p == NULL)
        return LT_FAIL(LT_ERR_NOMEM, "jsonpath");
    nd->steps = p;
    p[nd->nsteps] = (step){ .kind = kind, .index = index };
    if (key != NULL && (p[nd->nsteps].key = lt_strndup(key, keylen)) == NULL)
        return LT_FAIL(LT_ERR_NOMEM, "jsonpath");
    nd->nsteps++;
    return LT_OK;
}

/* A quoted string at *p (after the quote q) up to the closing q, with \n \t \\ \q escapes. */
static lt_status unquote(const char **p, char q, char **out)
{
    lt_buf b;
    const char *s = *p;
    lt_status st;

    lt_buf_init(&b, 1u << 16);
    for (; *s && *s != q; s++) {
        char c = *s;

        if (c == '\\' && s[1] != '\0') {
            s++;
            c = *s == 'n' ? '\n' : *s == 't' ? '\t' : *s == 'r' ? '\r' : *s;
        }
        LT_IGNORE(lt_buf_appendc(&b, c));
    }
    if (*s != q) {
        lt_buf_cleanup(&b);
        return LT_FAIL(LT_ERR_INVALID, "unterminated string (missing %c)", q);
    }
    *p = s + 1;
    st = lt_buf_appendc(&b, '\0') == LT_OK ? LT_OK : LT_FAIL(LT_ERR_NOMEM, "jsonpath");
    *out = st == LT_OK ? lt_buf_take(&b) : NULL;
    lt_buf_cleanup(&b);
    return *out != NULL ? LT_OK : LT_FAIL(LT_ERR_NOMEM, "jsonpath");
}

/* One bracket step at *p (just after '['). */
static lt_status parse_bracket(node *nd, const char **p)
{
    const char *s = *p;
    lt_status st;

    if (*s == '*' && s[1] == ']') {
        *p = s + 2;
        return add_step(nd, STEP_ALL, NULL, 0, 0);
    }
    if (*s == '\'' || *s == '"') {
        char *key = NULL;

        s++;
        if ((st = unquote(&s, s[-1], &key)) != LT_OK)
            return st;
        if (*s != ']') {
            lt_free(key);
            return LT_FAIL(LT_ERR_INVALID, "expected ] after a quoted key");
        }
        *p = s + 1;
        st = add_step(nd, STEP_KEY, key, strlen(key), 0);
        lt_free(key);
        return st;
    }
    if (*s == '-' || isdigit((unsigned char)*s)) {
        char *end;
        long long v;

        errno = 0;
        v = strtoll(s, &end, 10);
        if (errno != 0 || end == s || *end != ']')
            return LT_FAIL(LT_ERR_INVALID, "bad index [%.*s (only [N], [-N], [*], ['key'])",
                           (int)strcspn(s, "]"), s);
        *p = end + 1;
        return add_step(nd, STEP_INDEX, NULL, 0, v);
    }
    return LT_FAIL(LT_ERR_INVALID, "unsupported [%.*s (only [N], [-N], [*], ['key'])",
                   (int)strcspn(s, "]"), s);
}

/* A path: [$|@] then .key, .*, [..] steps; "." alone is the current value. */
static lt_status parse_path(node *nd, const char *s)
{
    lt_status st = LT_OK;

    nd->kind = NODE_PATH;
    if (*s == '$')
        nd->from_root = true, s++;
    else if (*s == '@')
        s++;
    else if (*s != '.' && *s != '[')
        return LT_FAIL(LT_ERR_INVALID, "'%s' is not a path (start with . or $)", s);
    if (strcmp(s, ".") == 0)
        return LT_OK;
    while (*s && st == LT_OK) {
        if (*s == '[') {
            s++;
            st = parse_bracket(nd, &s);
        } else if (*s == '.') {
            size_t n;

            s++;
            if (*s == '.')
                return LT_FAIL(LT_ERR_INVALID, "recursive descent (..) is not supported");
            if (*s == '*') {
                s++;
                st = add_step(nd, STEP_ALL, NULL, 0, 0);
                continue;
            }
            if (*s == '[')
                continue; /* .[0] as [0] */
            n = strcspn(s, ".[ ");
            if (n == 0)
                return LT_FAIL(LT_ERR_INVALID, "empty key in the path");
            st = add_step(nd, STEP_KEY, s, n, 0);
            s += n;
        } else {
            return LT_FAIL(LT_ERR_INVALID, "unexpected '%s' in the path", s);
        }
    }
    return st;
}

/* The action between { and } (text: its content, trimmed). */
static lt_status parse_action(lctl_jsonpath *jp, char *text, size_t *stack, size_t *depth)
{
    node *nd;
    lt_status st;

    if (strcmp(text, "end") == 0) {
        if (*depth == 0)
            return LT_FAIL(LT_ERR_INVALID, "{end} without {range}");
        if ((nd = add_node(jp, NODE_END)) == NULL)
            return LT_FAIL(LT_ERR_NOMEM, "jsonpath");
        jp->nodes[stack[--*depth]].end = jp->n - 1;
        return LT_OK;
    }
    if ((nd = add_node(jp, NODE_PATH)) == NULL)
        return LT_FAIL(LT_ERR_NOMEM, "jsonpath");
    if (text[0] == '"' || text[0] == '\'') {
        const char *s = text + 1;

        nd->kind = NODE_TEXT;
        if ((st = unquote(&s, text[0], &nd->text)) != LT_OK)
            return st;
        return *s == '\0' ? LT_OK : LT_FAIL(LT_ERR_INVALID, "text after the string: '%s'", s);
    }
    if (strncmp(text, "range ", 6) == 0) {
        if (*depth == MAX_DEPTH)
            return LT_FAIL(LT_ERR_INVALID, "more than %d nested ranges", MAX_DEPTH);
        stack[(*depth)++] = jp->n - 1;
        st = parse_path(nd, text + 6 + strspn(text + 6, " "));
        nd->kind = NODE_RANGE;
        return st;
    }
    return parse_path(nd, text);
}

/* The end of the action starting at s (just after '{'): its '}', skipping quoted strings. */
static const char *action_end(const char *s)
{
    char q = 0;

    for (; *s; s++) {
        if (q != 0 && *s == '\\' && s[1] != '\0')
            s++;
        else if (q != 0 && *s == q)
            q = 0;
        else if (q == 0 && (*s == '"' || *s == '\''))
            q = *s;
        else if (q == 0 && *s == '}')
            return s;
    }
    return NULL;
}

lt_status lctl_jsonpath_compile(const char *expr, lctl_jsonpath **new_jp)
{
    lctl_jsonpath *jp = lt_calloc(1, sizeof(*jp));
    size_t stack[MAX_DEPTH], depth = 0;
    const char *p = expr;
    char *action = NULL;
    lt_status st = LT_OK;

    *new_jp = NULL;
    if (jp == NULL)
        return LT_FAIL(LT_ERR_NOMEM, "jsonpath");
    while (*p && st == LT_OK) {
        const char *e;
        node *nd;

        if (*p != '{') {
            size_t n = strcspn(p, "{");

            if ((nd = add_node(jp, NODE_TEXT)) == NULL || (nd->text = lt_strndup(p, n)) == NULL)
                st = LT_FAIL(LT_ERR_NOMEM, "jsonpath");
            p += n;
            continue;
        }
        if ((e = action_end(p + 1)) == NULL) {
            st = LT_FAIL(LT_ERR_INVALID, "unclosed { at offset %zu", (size_t)(p - expr));
            break;
        }
        lt_free(action);
        if ((action = lt_strndup(p + 1, (size_t)(e - p - 1))) == NULL) {
            st = LT_FAIL(LT_ERR_NOMEM, "jsonpath");
            break;
        }
        {
            char *a = action + strspn(action, " \t"), *z = a + strlen(a);

            while (z > a && (z[-1] == ' ' || z[-1] == '\t'))
                *--z = '\0';
            if (*a == '\0')
                st = LT_FAIL(LT_ERR_INVALID, "empty {} at offset %zu", (size_t)(p - expr));
            else
                st = parse_action(jp, a, stack, &depth);
        }
        p = e + 1;
    }
    if (st == LT_OK && depth > 0)
        st = LT_FAIL(LT_ERR_INVALID, "{range} without {end}");
    lt_free(action);
    if (st != LT_OK) {
        lctl_jsonpath_free(jp);
        return st;
    }
    *new_jp = jp;
    return LT_OK;
}

/* ---- evaluation ------------------------------------------------------------------------------ */

/* The values of nd's path from cur (root for $), appended to the array out. */
static void eval_path(const node *nd, json_t *root, json_t *cur, json_t *out)
{
    json_t *set = json_array(), *next;
    size_t i, k;
    json_t *v, *x;

    if (set == NULL)
        return;
    json_array_append(set, nd->from_root ? root : cur);
    for (k = 0; k < nd->nsteps; k++) {
        const step *s = &nd->steps[k];

        if ((next = json_array()) == NULL)
            break;
        json_array_foreach (set, i, v) {
            if (s->kind == STEP_KEY && json_is_object(v)) {
                if ((x = json_object_get(v, s->key)) != NULL)
                    json_array_append(next, x);
            } else if (s->kind == STEP_INDEX && json_is_array(v)) {
                long long n = (long long)json_array_size(v),
                          at = s->index < 0 ? n + s->index : s->index;

                if (at >= 0 && at < n)
                    json_array_append(next, json_array_get(v, (size_t)at));
            } else if (s->kind == STEP_ALL && json_is_array(v)) {
                json_array_extend(next, v);
            } else if (s->kind == STEP_ALL && json_is_object(v)) {
                const char *key;

                json_object_foreach (v, key, x)
                    json_array_append(next, x);
            }
        }
        json_decref(set);
        set = next;
    }
    json_array_extend(out, set);
    json_decref(set);
}

static void print_value(lt_buf *out, const json_t *v)
{
    char *text;

    if (json_is_string(v)) {
        LT_IGNORE(lt_buf_append(out, json_string_value(v), json_string_length(v)));
        return;
    }
    text = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);
    LT_IGNORE(lt_buf_appends(out, text != NULL ? text : "null"));
    free(text);
}

/* Evaluate nodes [from, to) with cur as the current value. */
static void eval_nodes(const lctl_jsonpath *jp, size_t from, size_t to, json_t *root, json_t *cur,
                       lt_buf *out)
{
    size_t i = from, k;
    json_t *v;

    while (i < to) {
        const node *nd = &jp->nodes[i];
        json_t *vals;

        if (nd->kind == NODE_TEXT) {
            LT_IGNORE(lt_buf_appends(out, nd->text));
            i++;
            continue;
        }
        if ((vals = json_array()) == NULL)
            return;
        eval_path(nd, root, cur, vals);
        json_array_foreach (vals, k, v) {
            if (nd->kind == NODE_RANGE) {
                eval_nodes(jp, i + 1, nd->end, root, v, out);
            } else {
                if (k > 0)
                    LT_IGNORE(lt_buf_appendc(out, ' '));
                print_value(out, v);
            }
        }
        json_decref(vals);
        i = nd->kind == NODE_RANGE ? nd->end + 1 : i + 1;
    }
}

lt_status lctl_jsonpath_eval(const lctl_jsonpath *jp, const json_t *doc, lt_buf *out)
{
    eval_nodes(jp, 0, jp->n, (json_t *)doc, (json_t *)doc, out);
    return lt_buf_status(out);
}
