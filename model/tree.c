/*
 * tree.c - the generic document tree shared by the YAML and JSON parsers:
 * lookups, kind names for messages, and conversion of a subtree to canonical
 * JSON (object keys sorted) for custom traits and wadm's messages.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "lt_alloc.h"
#include "model_int.h"

static LT_NODISCARD lt_status node_to_json(const lt__model_node *n, json_t **new_json);

const char *lt__model_node_kind_name(lt__model_node_kind k)
{
    switch (k) {
    case LT__NODE_NULL:
        return "null";
    case LT__NODE_BOOL:
        return "boolean";
    case LT__NODE_INT:
        return "integer";
    case LT__NODE_FLOAT:
        return "floating point";
    case LT__NODE_STR:
        return "string";
    case LT__NODE_SEQ:
        return "sequence";
    case LT__NODE_MAP:
        return "map";
    }
    return "value";
}

lt__model_node *lt__model_node_get(const lt__model_node *n, const char *key)
{
    if (n == NULL || n->kind != LT__NODE_MAP)
        return NULL;
    for (size_t i = 0; i < n->count; i++) {
        if (strcmp(n->keys[i]->text, key) == 0)
            return n->items[i];
    }
    return NULL;
}

lt__model_node *lt__model_node_key_node(const lt__model_node *n, const char *key)
{
    if (n == NULL || n->kind != LT__NODE_MAP)
        return NULL;
    for (size_t i = 0; i < n->count; i++) {
        if (strcmp(n->keys[i]->text, key) == 0)
            return n->keys[i];
    }
    return NULL;
}

const char *lt__model_node_key(const lt__model_node *n, size_t i)
{
    return n->keys[i]->text;
}

/* One key segment of a path ("name" or a ["quoted"] one, unescaped) into buf. */
static const char *path_key(const char *p, char *buf, size_t size)
{
    size_t n = 0;
    if (p[0] == '[' && p[1] == '"') {
        p += 2;
        while (*p != '\0' && *p != '"' && n + 1 < size) {
            if (p[0] == '\\' && p[1] == 'u') {
                unsigned v = 0;
                for (int k = 2; k < 6 && p[k] != '\0'; k++)
                    v = v * 16 + (unsigned)(p[k] <= '9' ? p[k] - '0' : (p[k] | 0x20) - 'a' + 10);
                buf[n++] = (char)v;
                p += 6;
            } else {
                if (p[0] == '\\' && p[1] != '\0')
                    p++;
                buf[n++] = *p++;
            }
        }
        if (*p != '"' || p[1] != ']')
            return NULL;
        buf[n] = '\0';
        return p + 2;
    }
    while (*p != '\0' && *p != '.' && *p != '[' && n + 1 < size)
        buf[n++] = *p++;
    buf[n] = '\0';
    return n > 0 ? p : NULL;
}

const lt__model_node *lt__model_node_at_path(const lt__model_node *root, const char *path)
{
    const lt__model_node *n = root;
    const char *p = path;
    char key[256];
    while (n != NULL && *p != '\0') {
        const lt__model_node *next = NULL;
        if (*p == '.')
            p++;
        if (p[0] == '[' && p[1] != '"') {
            char *end = NULL;
            unsigned long long i = strtoull(p + 1, &end, 10);
            if (end == NULL || *end != ']')
                break;
            if (n->kind == LT__NODE_SEQ && i < n->count)
                next = n->items[i];
            p = end + 1;
        } else {
            p = path_key(p, key, sizeof(key));
            if (p == NULL)
                break;
            next = lt__model_node_get(n, key);
        }
        if (next == NULL)
            break;
        n = next;
    }
    return n;
}

static int cmp_key_index(const void *a, const void *b, void *arg)
{
    const lt__model_node *n = arg;
    size_t ia = *(const size_t *)a;
    size_t ib = *(const size_t *)b;
    return strcmp(n->keys[ia]->text, n->keys[ib]->text);
}

static lt_status map_to_json(const lt__model_node *n, json_t **new_json)
{
    lt_status st = LT_OK;
    size_t *order = NULL;
    json_t *obj = json_object();
    if (obj == NULL)
        return LT_FAIL(LT_ERR_NOMEM, "json object");
    if (n->count > 0) {
        order = lt_calloc(n->count, sizeof(*order));
        if (order == NULL) {
            st = LT_FAIL(LT_ERR_NOMEM, "key order");
            goto out;
        }
        for (size_t i = 0; i < n->count; i++)
            order[i] = i;
        qsort_r(order, n->count, sizeof(*order), cmp_key_index, (void *)n);
    }
    for (size_t k = 0; k < n->count; k++) {
        size_t i = order[k];
        json_t *v = NULL;
        st = node_to_json(n->items[i], &v);
        if (st != LT_OK)
            goto out;
        if (json_object_set_new(obj, n->keys[i]->text, v) != 0) {
            st = LT_FAIL(LT_ERR_NOMEM, "json set");
            goto out;
        }
    }
    *new_json = obj;
    obj = NULL;
out:
    lt_free(order);
    json_decref(obj);
    return st;
}

/**
 * Convert a subtree to a jansson value with object keys in sorted order (canonical).
 * LT_ERR_INVALID for a non-finite float, LT_ERR_NOMEM.
 */
static lt_status node_to_json(const lt__model_node *n, json_t **new_json)
{
    json_t *j = NULL;
    switch (n->kind) {
    case LT__NODE_NULL:
        j = json_null();
        break;
    case LT__NODE_BOOL:
        j = json_boolean(n->v.b);
        break;
    case LT__NODE_INT:
        j = json_integer((json_int_t)n->v.i);
        break;
    case LT__NODE_FLOAT:
        if (!isfinite(n->v.d))
            return LT_FAIL(LT_ERR_INVALID, "non-finite number");
        j = json_real(n->v.d);
        break;
    case LT__NODE_STR:
        j = json_stringn_nocheck(n->text, n->text_len);
        break;
    case LT__NODE_SEQ:
        j = json_array();
        for (size_t i = 0; j != NULL && i < n->count; i++) {
            json_t *v = NULL;
            lt_status st = node_to_json(n->items[i], &v);
            if (st != LT_OK) {
                json_decref(j);
                return st;
            }
            if (json_array_append_new(j, v) != 0) {
                json_decref(j);
                j = NULL;
            }
        }
        break;
    case LT__NODE_MAP:
        return map_to_json(n, new_json);
    }
    if (j == NULL)
        return LT_FAIL(LT_ERR_NOMEM, "json value");
    *new_json = j;
    return LT_OK;
}

static int dump_to_buf(const char *buffer, size_t size, void *data)
{
    return lt_buf_append(data, buffer, size) == LT_OK ? 0 : -1;
}

char *lt__model_node_json_text(struct lt__arena *a, const lt__model_node *n, bool *invalid)
{
    json_t *j = NULL;
    char *res = NULL;
    lt_buf b;
    lt_buf_init(&b, LT__JSON_TEXT_MAX);
    lt_status st = node_to_json(n, &j);
    *invalid = st == LT_ERR_INVALID;
    if (st != LT_OK)
        goto out;
    if (json_dump_callback(j, dump_to_buf, &b, JSON_COMPACT | JSON_ENCODE_ANY) != 0)
        goto out;
    res = lt__model_arena_strndup(a, b.ptr, b.len);
out:
    json_decref(j);
    lt_buf_cleanup(&b);
    return res;
}
