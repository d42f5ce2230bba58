/*
 * parse_json.c - JSON text to the document tree with jansson: strict parse
 * (duplicate keys, NUL characters and invalid UTF-8 refused by jansson), then
 * a copy into our tree bounded in depth and node count. JSON nodes carry no
 * line/column; findings point at them by JSON path.
 */
#include <stdio.h>
#include <string.h>

#include "model_int.h"

typedef struct {
    lt__model_ctx *cx;
    uint64_t nodes;
    bool stop;
} jparse;

static lt__model_node *convert(jparse *p, json_t *j, size_t depth);

static lt__model_node *new_node(jparse *p, lt__model_node_kind kind)
{
    if (++p->nodes > p->cx->max_nodes) {
        lt__model_diag(p->cx, LT_MODEL_ERROR, LT__MODEL_CODE_LIMIT, NULL,
                       "document has more than %zu nodes; refusing it", p->cx->max_nodes);
        p->stop = true;
        return NULL;
    }
    lt__model_node *n = lt__model_arena_alloc(p->cx->tree, sizeof(*n));
    if (n == NULL) {
        p->cx->nomem = true;
        p->stop = true;
        return NULL;
    }
    n->kind = kind;
    n->weight = 1;
    return n;
}

static bool set_text(jparse *p, lt__model_node *n, const char *s, size_t len)
{
    n->text = lt__model_arena_strndup(p->cx->tree, s, len);
    n->text_len = len;
    if (n->text == NULL) {
        p->cx->nomem = true;
        p->stop = true;
        return false;
    }
    return true;
}

static lt__model_node *convert_container(jparse *p, json_t *j, size_t depth)
{
    bool is_map = json_is_object(j);
    if (depth >= p->cx->max_depth) {
        lt__model_diag(p->cx, LT_MODEL_ERROR, LT__MODEL_CODE_LIMIT, NULL,
                       "document nests deeper than %zu levels; refusing it", p->cx->max_depth);
        p->stop = true;
        return NULL;
    }
    lt__model_node *n = new_node(p, is_map ? LT__NODE_MAP : LT__NODE_SEQ);
    if (n == NULL)
        return NULL;
    size_t count = is_map ? json_object_size(j) : json_array_size(j);
    n->count = count;
    n->items = lt__model_arena_array(p->cx->tree, count, sizeof(*n->items));
    if (is_map)
        n->keys = lt__model_arena_array(p->cx->tree, count, sizeof(*n->keys));
    if (n->items == NULL || (is_map && n->keys == NULL)) {
        p->cx->nomem = true;
        p->stop = true;
        return NULL;
    }
    size_t i = 0;
    if (is_map) {
        const char *key;
        size_t klen;
        json_t *v;
        json_object_keylen_foreach (j, key, klen, v) {
            lt__model_node *k = new_node(p, LT__NODE_STR);
            if (k == NULL || !set_text(p, k, key, klen))
                return NULL;
            n->keys[i] = k;
            n->items[i] = convert(p, v, depth + 1);
            if (n->items[i] == NULL)
                return NULL;
            n->weight += n->items[i]->weight;
            i++;
        }
    } else {
        json_t *v;
        json_array_foreach (j, i, v) {
            n->items[i] = convert(p, v, depth + 1);
            if (n->items[i] == NULL)
                return NULL;
            n->weight += n->items[i]->weight;
        }
    }
    return n;
}

static lt__model_node *convert(jparse *p, json_t *j, size_t depth)
{
    lt__model_node *n = NULL;
    switch (json_typeof(j)) {
    case JSON_OBJECT:
    case JSON_ARRAY:
        return convert_container(p, j, depth);
    case JSON_STRING:
        n = new_node(p, LT__NODE_STR);
        if (n != NULL && !set_text(p, n, json_string_value(j), json_string_length(j)))
            return NULL;
        return n;
    case JSON_INTEGER:
        n = new_node(p, LT__NODE_INT);
        if (n != NULL)
            n->v.i = (int64_t)json_integer_value(j);
        return n;
    case JSON_REAL:
        n = new_node(p, LT__NODE_FLOAT);
        if (n != NULL)
            n->v.d = json_real_value(j);
        return n;
    case JSON_TRUE:
    case JSON_FALSE:
        n = new_node(p, LT__NODE_BOOL);
        if (n != NULL)
            n->v.b = json_is_true(j);
        return n;
    case JSON_NULL:
        return new_node(p, LT__NODE_NULL);
    }
    return NULL;
}

/* Scalar text for messages (integers, floats, booleans), like the YAML parser keeps. */
static void fill_scalar_text(jparse *p, lt__model_node *n)
{
    if (p->stop || n == NULL)
        return;
    if (n->kind == LT__NODE_SEQ || n->kind == LT__NODE_MAP) {
        for (size_t i = 0; i < n->count && !p->stop; i++)
            fill_scalar_text(p, n->items[i]);
        return;
    }
    if (n->text != NULL)
        return;
    char tmp[64];
    switch (n->kind) {
    case LT__NODE_INT:
        snprintf(tmp, sizeof(tmp), "%lld", (long long)n->v.i);
        break;
    case LT__NODE_FLOAT:
        snprintf(tmp, sizeof(tmp), "%.17g", n->v.d);
        break;
    case LT__NODE_BOOL:
        snprintf(tmp, sizeof(tmp), "%s", n->v.b ? "true" : "false");
        break;
    default:
        snprintf(tmp, sizeof(tmp), "null");
        break;
    }
    set_text(p, n, tmp, strlen(tmp));
}

lt__model_node *lt__model_parse_json(lt__model_ctx *cx, const char *data, size_t len)
{
    json_error_t err;
    json_t *root = json_loadb(data, len, JSON_REJECT_DUPLICATES, &err);
    if (root == NULL) {
        lt__model_node at = { .line = err.line > 0 ? (uint32_t)err.line : 0,
                              .column = err.column > 0 ? (uint32_t)err.column : 0 };
        lt__model_diag(cx, LT_MODEL_ERROR, LT__MODEL_CODE_SYNTAX, &at, "JSON syntax error: %s",
                       err.text);
        return NULL;
    }
    jparse p = { .cx = cx };
    lt__model_node *n = convert(&p, root, 0);
    fill_scalar_text(&p, n);
    json_decref(root);
    return p.stop ? NULL : n;
}
