/*
 * parse_yaml.c - YAML text to the document tree with libyaml's event API:
 * every node keeps its line and column; plain scalars are typed with the
 * YAML 1.2 core schema; duplicate keys, several documents, NUL characters and
 * unknown tags are errors; depth and node count (alias expansions included,
 * so anchor/alias bombs stop early) are bounded. Aliases share the anchored
 * subtree rather than copying it.
 */
#include <errno.h>
#include <stdarg.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <yaml.h>

#include "lt_alloc.h"
#include "lt_map.h"
#include "model_int.h"

#define TAG_PREFIX "tag:yaml.org,2002:"

struct frame {
    lt__model_node *node;
    size_t base; /* first child in the value stack */
};

typedef struct {
    lt__model_ctx *cx;
    const char *data;
    size_t len;
    lt__model_node **stack; /* children of the open containers */
    size_t sp, scap;
    struct frame *frames;
    size_t depth, fcap;
    lt_map anchors;    /* name (in the tree's arena) -> lt__model_node */
    uint64_t expanded; /* nodes seen, alias expansions included */
    lt__model_node *root;
    size_t docs;
    bool stop;
} yparse;

/* ---- small growable arrays ------------------------------------------------------------------ */

static bool grow(void **arr, size_t *cap, size_t need, size_t elem)
{
    if (need <= *cap)
        return true;
    size_t ncap = *cap == 0 ? 32 : *cap;
    while (ncap < need)
        ncap *= 2;
    void *p = lt_realloc(*arr, ncap * elem);
    if (p == NULL)
        return false;
    *arr = p;
    *cap = ncap;
    return true;
}

static void nomem(yparse *y)
{
    y->cx->nomem = true;
    y->stop = true;
}

static void fail_at(yparse *y, const char *code, uint32_t line, uint32_t col, const char *fmt, ...)
    LT_PRINTF(5, 6);
static void fail_at(yparse *y, const char *code, uint32_t line, uint32_t col, const char *fmt, ...)
{
    lt__model_node at = { .line = line, .column = col };
    va_list ap;
    va_start(ap, fmt);
    lt__model_vdiag(y->cx, LT_MODEL_ERROR, code, &at, fmt, ap);
    va_end(ap);
    y->stop = true;
}

/* ---- anchors -------------------------------------------------------------------------------- */

/* Define (or redefine: the latest wins, as YAML says) an anchor. */
static void anchor_set(yparse *y, const yaml_char_t *name, lt__model_node *node)
{
    if (name == NULL)
        return;
    /* the name is copied into the tree's arena; a redefinition replaces value and key */
    char *key = lt__model_arena_strdup(y->cx->tree, (const char *)name);
    if (key == NULL || lt_map_put(&y->anchors, key, node) != LT_OK)
        nomem(y);
}

static lt__model_node *anchor_get(yparse *y, const char *name)
{
    return lt_map_get(&y->anchors, name);
}

/* ---- nodes ---------------------------------------------------------------------------------- */

static bool count_nodes(yparse *y, uint64_t n, const yaml_mark_t *mark)
{
    y->expanded += n;
    if (y->expanded <= y->cx->max_nodes)
        return true;
    lt__model_node at = { .line = (uint32_t)mark->line + 1, .column = (uint32_t)mark->column + 1 };
    lt__model_diag(y->cx, LT_MODEL_ERROR, LT__MODEL_CODE_LIMIT, &at,
                   "document has more than %zu nodes (YAML aliases expanded); refusing it",
                   y->cx->max_nodes);
    y->stop = true;
    return false;
}

static lt__model_node *new_node(yparse *y, lt__model_node_kind kind, const yaml_mark_t *mark)
{
    lt__model_node *n = lt__model_arena_alloc(y->cx->tree, sizeof(*n));
    if (n == NULL) {
        nomem(y);
        return NULL;
    }
    n->kind = kind;
    n->line = (uint32_t)mark->line + 1;
    n->column = (uint32_t)mark->column + 1;
    return n;
}

/* Place a finished value: the root, or the next child of the open container. */
static void push_value(yparse *y, lt__model_node *n)
{
    if (y->depth == 0) {
        y->root = n;
        return;
    }
    struct frame *f = &y->frames[y->depth - 1];
    bool is_key = f->node->kind == LT__NODE_MAP && (y->sp - f->base) % 2 == 0;
    if (is_key && (n->kind == LT__NODE_SEQ || n->kind == LT__NODE_MAP)) {
        lt__model_node at = { .line = n->line, .column = n->column };
        lt__model_diag(y->cx, LT_MODEL_ERROR, LT__MODEL_CODE_SYNTAX, &at,
                       "mapping keys must be scalars, found a %s",
                       lt__model_node_kind_name(n->kind));
        y->stop = true;
        return;
    }
    if (!grow((void **)&y->stack, &y->scap, y->sp + 1, sizeof(*y->stack))) {
        nomem(y);
        return;
    }
    y->stack[y->sp++] = n;
}

/* ---- scalar typing (YAML 1.2 core schema) --------------------------------------------------- */

static bool all_digits(const char *s, const char *set)
{
    if (*s == '\0')
        return false;
    for (; *s != '\0'; s++) {
        if (strchr(set, *s) == NULL)
            return false;
    }
    return true;
}

static bool is_float_text(const char *s)
{
    const char *p = s;
    if (*p == '+' || *p == '-')
        p++;
    if (strcmp(p, ".inf") == 0 || strcmp(p, ".Inf") == 0 || strcmp(p, ".INF") == 0)
        return true;
    if (strcmp(s, ".nan") == 0 || strcmp(s, ".NaN") == 0 || strcmp(s, ".NAN") == 0)
        return true;
    size_t digits = 0;
    while (*p >= '0' && *p <= '9')
        p++, digits++;
    if (*p == '.') {
        p++;
        while (*p >= '0' && *p <= '9')
            p++, digits++;
    }
    if (digits == 0)
        return false;
    if (*p == 'e' || *p == 'E') {
        p++;
        if (*p == '+' || *p == '-')
            p++;
        if (!all_digits(p, "0123456789"))
            return false;
        return true;
    }
    return *p == '\0';
}

static double float_value(const char *s)
{
    const char *p = s + (s[0] == '+' || s[0] == '-');
    if (p[0] == '.' && (p[1] == 'i' || p[1] == 'I'))
        return s[0] == '-' ? -INFINITY : INFINITY;
    if (p[0] == '.' && (p[1] == 'n' || p[1] == 'N'))
        return NAN;
    return strtod(s, NULL);
}

static bool in_list(const char *s, const char *const *list, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (strcmp(s, list[i]) == 0)
            return true;
    }
    return false;
}

/* An integer literal (decimal, 0x hex, 0o octal) into n. Decimal literals out of the int64
 * range become floats, as serde_yaml reads them; out-of-range hex/octal stay strings. */
static bool resolve_int(lt__model_node *n, const char *s)
{
    int base = 0;
    const char *digits = s;
    if (s[0] == '0' && s[1] == 'x' && all_digits(s + 2, "0123456789abcdefABCDEF")) {
        base = 16;
        digits = s + 2;
    } else if (s[0] == '0' && s[1] == 'o' && all_digits(s + 2, "01234567")) {
        base = 8;
        digits = s + 2;
    } else if (all_digits(s + (s[0] == '+' || s[0] == '-'), "0123456789")) {
        base = 10;
    }
    if (base == 0)
        return false;
    errno = 0;
    char *end = NULL;
    long long v = strtoll(digits, &end, base);
    if (errno == 0 && *end == '\0') {
        n->kind = LT__NODE_INT;
        n->v.i = v;
        return true;
    }
    if (base != 10)
        return false;
    n->kind = LT__NODE_FLOAT;
    n->v.d = strtod(s, NULL);
    return true;
}

/* Type a plain scalar with the YAML 1.2 core schema; text is NUL-terminated. Returns false
 * when it is none of null/bool/int/float (then it stays a string). */
static bool resolve_plain(lt__model_node *n, const char *s)
{
    static const char *const nulls[] = { "", "~", "null", "Null", "NULL" };
    static const char *const trues[] = { "true", "True", "TRUE" };
    static const char *const falses[] = { "false", "False", "FALSE" };
    if (in_list(s, nulls, 5)) {
        n->kind = LT__NODE_NULL;
        return true;
    }
    if (in_list(s, trues, 3) || in_list(s, falses, 3)) {
        n->kind = LT__NODE_BOOL;
        n->v.b = s[0] == 't' || s[0] == 'T';
        return true;
    }
    if (resolve_int(n, s))
        return true;
    if (is_float_text(s)) {
        n->kind = LT__NODE_FLOAT;
        n->v.d = float_value(s);
        return true;
    }
    return false;
}

/* Apply an explicit standard tag; false when the tag is unsupported or does not fit. */
static bool apply_tag(lt__model_node *n, const char *tag, const char *s)
{
    if (strcmp(tag, "!") == 0 || strcmp(tag, TAG_PREFIX "str") == 0)
        return true; /* already a string */
    lt__model_node probe = *n;
    if (!resolve_plain(&probe, s))
        return false;
    bool fits = (strcmp(tag, TAG_PREFIX "null") == 0 && probe.kind == LT__NODE_NULL) ||
                (strcmp(tag, TAG_PREFIX "bool") == 0 && probe.kind == LT__NODE_BOOL) ||
                (strcmp(tag, TAG_PREFIX "int") == 0 && probe.kind == LT__NODE_INT);
    if (strcmp(tag, TAG_PREFIX "float") == 0 && probe.kind == LT__NODE_INT) {
        probe.v.d = (double)probe.v.i;
        probe.kind = LT__NODE_FLOAT;
    }
    fits = fits || (strcmp(tag, TAG_PREFIX "float") == 0 && probe.kind == LT__NODE_FLOAT);
    if (fits)
        *n = probe;
    return fits;
}

static void on_scalar(yparse *y, const yaml_event_t *ev)
{
    const yaml_mark_t *mark = &ev->start_mark;
    const char *value = (const char *)ev->data.scalar.value;
    size_t len = ev->data.scalar.length;
    if (!count_nodes(y, 1, mark))
        return;
    if (memchr(value, '\0', len) != NULL) {
        fail_at(y, LT__MODEL_CODE_SYNTAX, (uint32_t)mark->line + 1, (uint32_t)mark->column + 1,
                "%s", "strings must not contain NUL characters");
        return;
    }
    lt__model_node *n = new_node(y, LT__NODE_STR, mark);
    if (n == NULL)
        return;
    n->text = lt__model_arena_strndup(y->cx->tree, value, len);
    if (n->text == NULL) {
        nomem(y);
        return;
    }
    n->text_len = len;
    n->weight = 1;
    const char *tag = (const char *)ev->data.scalar.tag;
    if (tag != NULL) {
        if (!apply_tag(n, tag, n->text)) {
            fail_at(y, LT__MODEL_CODE_SYNTAX, n->line, n->column,
                    "unsupported YAML tag or a value that does not fit it: %s", tag);
            return;
        }
    } else if (ev->data.scalar.style == YAML_PLAIN_SCALAR_STYLE) {
        resolve_plain(n, n->text);
    }
    anchor_set(y, ev->data.scalar.anchor, n);
    push_value(y, n);
}

static void on_start(yparse *y, const yaml_event_t *ev, lt__model_node_kind kind)
{
    const yaml_mark_t *mark = &ev->start_mark;
    const char *tag = (const char *)(kind == LT__NODE_MAP ? ev->data.mapping_start.tag
                                                          : ev->data.sequence_start.tag);
    const yaml_char_t *anchor =
        kind == LT__NODE_MAP ? ev->data.mapping_start.anchor : ev->data.sequence_start.anchor;
    if (!count_nodes(y, 1, mark))
        return;
    if (tag != NULL &&
        strcmp(tag, kind == LT__NODE_MAP ? TAG_PREFIX "map" : TAG_PREFIX "seq") != 0) {
        fail_at(y, LT__MODEL_CODE_SYNTAX, (uint32_t)mark->line + 1, (uint32_t)mark->column + 1,
                "unsupported YAML tag: %s", tag);
        return;
    }
    if (y->depth >= y->cx->max_depth) {
        lt__model_node at = { .line = (uint32_t)mark->line + 1,
                              .column = (uint32_t)mark->column + 1 };
        lt__model_diag(y->cx, LT_MODEL_ERROR, LT__MODEL_CODE_LIMIT, &at,
                       "document nests deeper than %zu levels; refusing it", y->cx->max_depth);
        y->stop = true;
        return;
    }
    lt__model_node *n = new_node(y, kind, mark);
    if (n == NULL)
        return;
    if (!grow((void **)&y->frames, &y->fcap, y->depth + 1, sizeof(*y->frames))) {
        nomem(y);
        return;
    }
    /* weight stays 0 until the end event: an alias to it before then is recursive. */
    anchor_set(y, anchor, n);
    y->frames[y->depth++] = (struct frame){ n, y->sp };
}

static int cmp_keys(const void *a, const void *b)
{
    const lt__model_node *const *ka = a;
    const lt__model_node *const *kb = b;
    int c = strcmp((*ka)->text, (*kb)->text);
    if (c != 0)
        return c;
    /* equal keys: document order, so the later one is reported */
    if ((*ka)->line != (*kb)->line)
        return (*ka)->line < (*kb)->line ? -1 : 1;
    return (*ka)->column < (*kb)->column ? -1 : (*ka)->column > (*kb)->column;
}

/* Report duplicate keys of a finished map (sorting a scratch copy: O(n log n)). */
static void check_duplicates(yparse *y, lt__model_node *m)
{
    if (m->count < 2)
        return;
    lt__model_node **sorted = lt_calloc(m->count, sizeof(*sorted));
    if (sorted == NULL) {
        nomem(y);
        return;
    }
    memcpy(sorted, m->keys, m->count * sizeof(*sorted));
    qsort(sorted, m->count, sizeof(*sorted), cmp_keys);
    for (size_t i = 1; i < m->count && !y->stop; i++) {
        if (strcmp(sorted[i - 1]->text, sorted[i]->text) == 0) {
            lt__model_node at = { .line = sorted[i]->line, .column = sorted[i]->column };
            lt__model_diag(y->cx, LT_MODEL_ERROR, LT__MODEL_CODE_SYNTAX, &at,
                           "duplicate key `%s` (first at line %u, column %u)", sorted[i]->text,
                           sorted[i - 1]->line, sorted[i - 1]->column);
        }
    }
    lt_free(sorted);
}

static void on_end(yparse *y)
{
    struct frame f = y->frames[--y->depth];
    lt__model_node *n = f.node;
    size_t nchild = y->sp - f.base;
    lt__model_node **child = nchild > 0 ? y->stack + f.base : NULL;
    uint64_t weight = 1;
    for (size_t i = 0; i < nchild; i++)
        weight += child[i]->weight;
    n->weight = weight;
    if (n->kind == LT__NODE_SEQ) {
        n->count = nchild;
        n->items = lt__model_arena_array(y->cx->tree, nchild, sizeof(*n->items));
        if (n->items == NULL && nchild > 0) {
            nomem(y);
            return;
        }
        for (size_t i = 0; i < nchild; i++)
            n->items[i] = child[i];
    } else {
        n->count = nchild / 2;
        n->items = lt__model_arena_array(y->cx->tree, n->count, sizeof(*n->items));
        n->keys = lt__model_arena_array(y->cx->tree, n->count, sizeof(*n->keys));
        if ((n->items == NULL || n->keys == NULL) && n->count > 0) {
            nomem(y);
            return;
        }
        for (size_t i = 0; i < n->count; i++) {
            n->keys[i] = child[2 * i];
            n->items[i] = child[2 * i + 1];
        }
        check_duplicates(y, n);
    }
    y->sp = f.base;
    push_value(y, n);
}

static void on_alias(yparse *y, const yaml_event_t *ev)
{
    const yaml_mark_t *mark = &ev->start_mark;
    const char *name = (const char *)ev->data.alias.anchor;
    lt__model_node *target = anchor_get(y, name);
    if (target == NULL) {
        fail_at(y, LT__MODEL_CODE_SYNTAX, (uint32_t)mark->line + 1, (uint32_t)mark->column + 1,
                "unknown YAML alias *%s", name);
        return;
    }
    if (target->weight == 0) {
        fail_at(y, LT__MODEL_CODE_SYNTAX, (uint32_t)mark->line + 1, (uint32_t)mark->column + 1,
                "recursive YAML alias *%s", name);
        return;
    }
    if (!count_nodes(y, target->weight, mark))
        return;
    y->cx->aliases = true;
    push_value(y, target);
}

/* ---- driver --------------------------------------------------------------------------------- */

/* Line and column (1-based) of a byte offset, for reader errors that only give an offset. */
static void offset_position(const char *data, size_t len, size_t off, uint32_t *line, uint32_t *col)
{
    uint32_t l = 1, c = 1;
    for (size_t i = 0; i < off && i < len; i++) {
        if (data[i] == '\n')
            l++, c = 1;
        else if (((unsigned char)data[i] & 0xC0) != 0x80)
            c++;
    }
    *line = l;
    *col = c;
}

static void syntax_error(yparse *y, const yaml_parser_t *p)
{
    lt__model_ctx *cx = y->cx;
    lt__model_node at = { 0 };
    if (p->error == YAML_MEMORY_ERROR) {
        nomem(y);
        return;
    }
    if (p->error == YAML_READER_ERROR) {
        offset_position(y->data, y->len, p->problem_offset, &at.line, &at.column);
        lt__model_diag(cx, LT_MODEL_ERROR, LT__MODEL_CODE_SYNTAX, &at,
                       "invalid text: %s (byte offset %zu); manifests must be UTF-8",
                       p->problem != NULL ? p->problem : "unreadable input", p->problem_offset);
        return;
    }
    at.line = (uint32_t)p->problem_mark.line + 1;
    at.column = (uint32_t)p->problem_mark.column + 1;
    if (p->context != NULL)
        lt__model_diag(cx, LT_MODEL_ERROR, LT__MODEL_CODE_SYNTAX, &at,
                       "YAML syntax error: %s (%s at line %zu, column %zu)",
                       p->problem != NULL ? p->problem : "invalid YAML", p->context,
                       p->context_mark.line + 1, p->context_mark.column + 1);
    else
        lt__model_diag(cx, LT_MODEL_ERROR, LT__MODEL_CODE_SYNTAX, &at, "YAML syntax error: %s",
                       p->problem != NULL ? p->problem : "invalid YAML");
}

static void handle_event(yparse *y, const yaml_event_t *ev)
{
    switch (ev->type) {
    case YAML_DOCUMENT_START_EVENT:
        if (++y->docs > 1)
            fail_at(y, LT__MODEL_CODE_SYNTAX, (uint32_t)ev->start_mark.line + 1,
                    (uint32_t)ev->start_mark.column + 1, "%s",
                    "a manifest must be a single YAML document; found a second one");
        break;
    case YAML_SCALAR_EVENT:
        on_scalar(y, ev);
        break;
    case YAML_SEQUENCE_START_EVENT:
        on_start(y, ev, LT__NODE_SEQ);
        break;
    case YAML_MAPPING_START_EVENT:
        on_start(y, ev, LT__NODE_MAP);
        break;
    case YAML_SEQUENCE_END_EVENT:
    case YAML_MAPPING_END_EVENT:
        on_end(y);
        break;
    case YAML_ALIAS_EVENT:
        on_alias(y, ev);
        break;
    default:
        break;
    }
}

lt__model_node *lt__model_parse_yaml(lt__model_ctx *cx, const char *data, size_t len)
{
    yparse y = { .cx = cx, .data = data, .len = len };
    yaml_parser_t parser;
    if (!yaml_parser_initialize(&parser)) {
        cx->nomem = true;
        return NULL;
    }
    yaml_parser_set_input_string(&parser, (const unsigned char *)data, len);
    bool done = false;
    while (!done && !y.stop) {
        yaml_event_t ev;
        if (!yaml_parser_parse(&parser, &ev)) {
            syntax_error(&y, &parser);
            y.stop = true;
            break;
        }
        done = ev.type == YAML_STREAM_END_EVENT;
        handle_event(&y, &ev);
        yaml_event_delete(&ev);
    }
    yaml_parser_delete(&parser);
    lt_free(y.stack);
    lt_free(y.frames);
    lt_map_cleanup(&y.anchors);
    if (y.stop)
        return NULL;
    if (y.root == NULL) {
        lt__model_diag(cx, LT_MODEL_ERROR, LT__MODEL_CODE_SCHEMA, NULL, "%s",
                       "the manifest is empty");
        return NULL;
    }
    return y.root;
}
