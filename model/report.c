/*
 * report.c - collecting findings while parsing: the JSON path of the node
 * being decoded, diagnostics with their locations, the report's lifetime, its
 * location strings and its JSON form. At most LT__MAX_FINDINGS findings are
 * kept (counts stay exact) so hostile input cannot make the report huge.
 */
#include <ctype.h>
#include <stdio.h>
#include <string.h>

#include "lt_alloc.h"
#include "lt_limits.h"
#include "model_int.h"

#define LT__MAX_FINDINGS 1000u
#define REPORT_ARENA_LIMIT (64u << 20)
#define PATH_KEY_MAX 64u

const char LT__MODEL_CODE_SYNTAX[] = "syntax";
const char LT__MODEL_CODE_LIMIT[] = "limit";
const char LT__MODEL_CODE_SCHEMA[] = "schema";
const char LT__MODEL_CODE_WADM[] = "wadm";
const char LT__MODEL_CODE_LATTICED[] = "latticed";

struct lt__report_priv {
    struct lt__arena *arena;
    lt_model_diag *items;
    size_t cap;
    size_t dropped;
};

lt_model_report *lt__model_report_new(const char *source)
{
    lt_model_report *r = lt_calloc(1, sizeof(*r));
    if (r == NULL)
        return NULL;
    r->priv_ = lt_calloc(1, sizeof(*r->priv_));
    if (r->priv_ == NULL || lt__model_arena_new(REPORT_ARENA_LIMIT, &r->priv_->arena) != LT_OK)
        goto fail;
    r->source = lt__model_arena_strdup(r->priv_->arena, source);
    if (r->source == NULL)
        goto fail;
    return r;
fail:
    lt_model_report_free(r);
    return NULL;
}

void lt_model_report_free(lt_model_report *r)
{
    if (r == NULL)
        return;
    if (r->priv_ != NULL) {
        lt__model_arena_free(r->priv_->arena);
        lt_free(r->priv_->items);
        lt_free(r->priv_);
    }
    lt_free(r);
}

const char *lt_model_report_first_error(const lt_model_report *r)
{
    if (r == NULL)
        return NULL;
    for (size_t i = 0; i < r->count; i++) {
        if (r->items[i].level == LT_MODEL_ERROR)
            return r->items[i].message;
    }
    return NULL;
}

/* Cut a message that reached the buffer size at a UTF-8 boundary and mark it. */
static void mark_truncated(char *msg, size_t size)
{
    size_t end = size - 4;
    while (end > 0 && ((unsigned char)msg[end] & 0xC0) == 0x80)
        end--;
    memcpy(msg + end, "...", 4);
}

/* Append one finding without the cap (the caller checked it). */
static void append(lt__model_ctx *cx, lt_model_level lvl, const char *code, uint32_t line,
                   uint32_t column, const char *path, const char *fmt, va_list ap) LT_PRINTF(7, 0);
static void append(lt__model_ctx *cx, lt_model_level lvl, const char *code, uint32_t line,
                   uint32_t column, const char *path, const char *fmt, va_list ap)
{
    lt_model_report *r = cx->report;
    struct lt__report_priv *p = r->priv_;
    if (r->count == p->cap) {
        size_t cap = p->cap == 0 ? 16 : p->cap * 2;
        lt_model_diag *items = lt_realloc(p->items, cap * sizeof(*items));
        if (items == NULL) {
            cx->nomem = true;
            return;
        }
        p->items = items;
        p->cap = cap;
        r->items = items;
    }
    va_list ap2;
    va_copy(ap2, ap);
    int need = vsnprintf(NULL, 0, fmt, ap2);
    va_end(ap2);
    size_t size = need < 0 ? 1 : (size_t)need + 1;
    bool cut = size > LT__MESSAGE_MAX;
    if (cut)
        size = LT__MESSAGE_MAX;
    char *msg = lt__model_arena_alloc(p->arena, size);
    char *pcopy = lt__model_arena_strdup(p->arena, path);
    if (msg == NULL || pcopy == NULL) {
        cx->nomem = true;
        return;
    }
    if (vsnprintf(msg, size, fmt, ap) < 0)
        msg[0] = '\0';
    if (cut)
        mark_truncated(msg, size);
    p->items[r->count++] = (lt_model_diag){
        .level = lvl,
        .code = code,
        .message = msg,
        .path = pcopy,
        .line = line,
        .column = column,
    };
}

static void add(lt__model_ctx *cx, lt_model_level lvl, const char *code, uint32_t line,
                uint32_t column, const char *path, const char *fmt, va_list ap) LT_PRINTF(7, 0);
static void add(lt__model_ctx *cx, lt_model_level lvl, const char *code, uint32_t line,
                uint32_t column, const char *path, const char *fmt, va_list ap)
{
    lt_model_report *r = cx->report;
    if (lvl == LT_MODEL_ERROR)
        r->error_count++;
    else
        r->warning_count++;
    if (r->count >= LT__MAX_FINDINGS) {
        r->priv_->dropped++;
        return;
    }
    append(cx, lvl, code, line, column, path, fmt, ap);
}

static void append_note(lt__model_ctx *cx, lt_model_level lvl, const char *fmt, ...)
    LT_PRINTF(3, 4);
static void append_note(lt__model_ctx *cx, lt_model_level lvl, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    append(cx, lvl, LT__MODEL_CODE_LIMIT, 0, 0, "", fmt, ap);
    va_end(ap);
}

void lt__model_vdiag(lt__model_ctx *cx, lt_model_level lvl, const char *code,
                     const lt__model_node *at, const char *fmt, va_list ap)
{
    if (lvl == LT_MODEL_ERROR)
        cx->errors++;
    if (cx->quiet > 0)
        return;
    add(cx, lvl, code, at != NULL ? at->line : 0, at != NULL ? at->column : 0, cx->path.ptr, fmt,
        ap);
}

void lt__model_diag(lt__model_ctx *cx, lt_model_level lvl, const char *code,
                    const lt__model_node *at, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    lt__model_vdiag(cx, lvl, code, at, fmt, ap);
    va_end(ap);
}


/* Append the dropped-findings note (not counted); called once when parsing ends. */
void lt__model_report_finish(lt__model_ctx *cx)
{
    size_t dropped = cx->report->priv_->dropped;
    if (dropped == 0)
        return;
    append_note(cx, cx->report->error_count > 0 ? LT_MODEL_ERROR : LT_MODEL_WARNING,
                "too many findings: %zu more not shown", dropped);
}

lt_model_loc lt__model_loc(lt__model_ctx *cx, const lt__model_node *at)
{
    lt_model_loc loc = { 0, 0, "" };
    if (at != NULL) {
        loc.line = at->line;
        loc.column = at->column;
    }
    char *p = lt__model_arena_strndup(cx->model, cx->path.ptr, cx->path.len);
    if (p == NULL)
        cx->nomem = true;
    else
        loc.path = p;
    return loc;
}

static bool plain_key(const char *key)
{
    if (!(isalpha((unsigned char)key[0]) || key[0] == '_'))
        return false;
    for (const char *c = key; *c != '\0'; c++) {
        if (!(isalnum((unsigned char)*c) || *c == '_' || *c == '-'))
            return false;
    }
    return true;
}

bool lt__model_path_append_key(lt_buf *b, const char *key)
{
    size_t saved = b->len;
    lt_status st = LT_OK;
    if (plain_key(key)) {
        if (b->len > 0)
            LT_IGNORE(lt_buf_appendc(b, '.'));
        st = lt_buf_appends(b, key);
    } else {
        /* at most PATH_KEY_MAX bytes, cut before a character (not inside one) */
        size_t n = 0;
        while (key[n] != '\0' && (n < PATH_KEY_MAX || ((unsigned char)key[n] & 0xC0) == 0x80))
            n++;
        LT_IGNORE(lt_buf_appends(b, "[\""));
        LT_IGNORE(lt_buf_json_escape(b, key, n));
        if (key[n] != '\0')
            LT_IGNORE(lt_buf_appends(b, "..."));
        st = lt_buf_appends(b, "\"]");
    }
    if (st != LT_OK)
        lt_buf_truncate(b, saved);
    return st == LT_OK;
}

size_t lt__model_path_push_key(lt__model_ctx *cx, const char *key)
{
    size_t saved = cx->path.len;
    (void)lt__model_path_append_key(&cx->path, key);
    return saved;
}

size_t lt__model_path_push_index(lt__model_ctx *cx, size_t i)
{
    size_t saved = cx->path.len;
    if (lt_buf_appendf(&cx->path, "[%zu]", i) != LT_OK)
        lt_buf_truncate(&cx->path, saved);
    return saved;
}

void lt__model_path_pop(lt__model_ctx *cx, size_t saved)
{
    if (saved <= cx->path.len)
        lt_buf_truncate(&cx->path, saved);
}

lt_status lt_model_diag_location(const lt_model_report *r, const lt_model_diag *d, lt_buf *out)
{
    if (d->line > 0)
        return lt_buf_appendf(out, "%s:%u:%u", r->source, d->line, d->column);
    if (d->path[0] != '\0')
        return lt_buf_appends(out, d->path);
    return lt_buf_appends(out, r->source);
}

/* A JSON string for s; bytes of a non-UTF-8 s (a file name) become '?'. */
static json_t *jstr(const char *s)
{
    json_t *j = json_string(s);
    if (j != NULL)
        return j;
    char *c = lt_strdup(s);
    if (c == NULL)
        return NULL;
    for (char *p = c; *p != '\0'; p++) {
        if ((unsigned char)*p >= 0x80)
            *p = '?';
    }
    j = json_string(c);
    lt_free(c);
    return j;
}

static lt_status diag_json(const lt_model_report *r, const lt_model_diag *d, json_t *arr)
{
    lt_status st = LT_OK;
    lt_buf loc;
    lt_buf_init(&loc, LT_MAX_PATH + 64);
    json_t *o = json_object();
    if (o == NULL)
        return LT_FAIL(LT_ERR_NOMEM, "json");
    st = lt_model_diag_location(r, d, &loc);
    if (st != LT_OK)
        goto out;
    int rc = json_object_set_new(o, "message", jstr(d->message));
    rc |= json_object_set_new(o, "location", jstr(loc.ptr));
    rc |= json_object_set_new(o, "path", jstr(d->path));
    rc |= json_object_set_new(o, "code", jstr(d->code));
    if (d->line > 0) {
        rc |= json_object_set_new(o, "line", json_integer(d->line));
        rc |= json_object_set_new(o, "column", json_integer(d->column));
    }
    if (rc != 0 || json_array_append(arr, o) != 0)
        st = LT_FAIL(LT_ERR_NOMEM, "json");
out:
    json_decref(o);
    lt_buf_cleanup(&loc);
    return st;
}

static int dump_cb(const char *buffer, size_t size, void *data)
{
    return lt_buf_append(data, buffer, size) == LT_OK ? 0 : -1;
}

lt_status lt_model_report_to_json(const lt_model_report *r, lt_buf *out)
{
    lt_status st = LT_OK;
    json_t *root = json_object();
    json_t *errors = json_array();
    json_t *warnings = json_array();
    if (root == NULL || errors == NULL || warnings == NULL) {
        st = LT_FAIL(LT_ERR_NOMEM, "json");
        goto out;
    }
    for (size_t i = 0; st == LT_OK && i < r->count; i++) {
        const lt_model_diag *d = &r->items[i];
        st = diag_json(r, d, d->level == LT_MODEL_ERROR ? errors : warnings);
    }
    if (st != LT_OK)
        goto out;
    int rc = json_object_set_new(root, "valid", json_boolean(r->error_count == 0));
    rc |= json_object_set(root, "errors", errors);
    rc |= json_object_set(root, "warnings", warnings);
    if (rc != 0) {
        st = LT_FAIL(LT_ERR_NOMEM, "json");
        goto out;
    }
    if (json_dump_callback(root, dump_cb, out, JSON_COMPACT) != 0)
        st = LT_FAIL(LT_ERR_TOO_BIG, "report does not fit");
out:
    json_decref(root);
    json_decref(errors);
    json_decref(warnings);
    return st;
}
