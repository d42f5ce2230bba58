/*
 * model.c - lt_model_parse: size check, format choice, parse to the document
 * tree, decode to the typed model, derive ids, run wadm's rules then
 * latticed's, and hand out the model (when valid) and the report. Also the
 * model's lifetime and lt_model_set_annotation.
 */
#include <string.h>

#include "lt_alloc.h"
#include "lt_limits.h"
#include "model_int.h"

#define PATH_MAX_BYTES (16u << 10)
#define ARENA_BASE (64u << 20)
#define ARENA_PER_BYTE 16u

static bool looks_like_json(const char *data, size_t len)
{
    size_t i = 0;
    if (len >= 3 && memcmp(data, "\xEF\xBB\xBF", 3) == 0)
        i = 3;
    while (i < len && (data[i] == ' ' || data[i] == '\t' || data[i] == '\r' || data[i] == '\n'))
        i++;
    return i < len && data[i] == '{';
}

/* Parse the text with the chosen format. AUTO tries JSON (quietly) for documents that start
 * with '{', then YAML, as wadm tries both. */
static lt__model_node *parse_text(lt__model_ctx *cx, lt_model_format format, const char *data,
                                  size_t len)
{
    if (format == LT_MODEL_FORMAT_JSON)
        return lt__model_parse_json(cx, data, len);
    if (format == LT_MODEL_FORMAT_AUTO && looks_like_json(data, len)) {
        uint64_t before = cx->errors;
        cx->quiet++;
        lt__model_node *root = lt__model_parse_json(cx, data, len);
        cx->quiet--;
        cx->errors = before;
        if (root != NULL || cx->nomem)
            return root;
    }
    return lt__model_parse_yaml(cx, data, len);
}

static void analyse(lt__model_ctx *cx, const lt__model_node *root, lt_model *m)
{
    cx->root = root;
    lt__model_build(cx, root, m);
    lt_buf_reset(&cx->path);
    if (cx->nomem)
        return;
    if (lt__model_derive(m) != LT_OK) {
        cx->nomem = true;
        return;
    }
    lt__model_validate_wadm(cx, m, root);
    lt__model_validate_latticed(cx, m);
}

/* The canonical form is what gets stored: YAML aliases must not blow it up. It may be up to
 * twice the size limit (JSON quotes what YAML does not). */
static void check_expanded_size(lt__model_ctx *cx, const lt_model *m, size_t max_bytes)
{
    lt_buf b;
    lt_buf_init(&b, max_bytes);
    lt_status st = lt_model_to_json(m, 0, &b);
    if (st == LT_ERR_TOO_BIG)
        lt__model_diag(
            cx, LT_MODEL_ERROR, LT__MODEL_CODE_LIMIT, NULL,
            "manifest expands (YAML aliases) to more than %zu bytes in its stored JSON form "
            "(twice the size limit)",
            max_bytes);
    else if (st != LT_OK)
        cx->nomem = true;
    lt_buf_cleanup(&b);
}

lt_status lt_model_parse(const void *data, size_t len, const lt_model_parse_opts *opts,
                         lt_model **new_model, lt_model_report **new_report)
{
    lt_model_parse_opts o = opts != NULL ? *opts : (lt_model_parse_opts){ 0 };
    size_t max_bytes = o.max_bytes != 0 ? o.max_bytes : LT_MAX_MANIFEST_BYTES;
    lt_status st = LT_OK;
    lt_model *m = NULL;
    lt__model_ctx cx = { .max_depth = o.max_depth != 0 ? o.max_depth : LT_MODEL_MAX_DEPTH,
                         .max_nodes = o.max_nodes != 0 ? o.max_nodes : LT_MODEL_MAX_NODES };
    lt_buf_init(&cx.path, PATH_MAX_BYTES);
    if (data == NULL) { /* an empty document */
        data = "";
        len = 0;
    }
    *new_model = NULL;
    if (new_report != NULL)
        *new_report = NULL;
    cx.report = lt__model_report_new(o.source_name != NULL ? o.source_name : "<input>");
    if (cx.report == NULL)
        return LT_FAIL(LT_ERR_NOMEM, "report");
    if (len > max_bytes) {
        lt__model_diag(&cx, LT_MODEL_ERROR, LT__MODEL_CODE_LIMIT, NULL,
                       "manifest is %zu bytes, over the limit of %zu bytes", len, max_bytes);
        st = LT_FAIL(LT_ERR_TOO_BIG, "manifest of %zu bytes", len);
        goto out;
    }
    size_t limit = ARENA_BASE + (len > SIZE_MAX / ARENA_PER_BYTE ? 0 : len * ARENA_PER_BYTE);
    m = lt_calloc(1, sizeof(*m));
    if (m == NULL || lt__model_arena_new(limit, &m->arena_) != LT_OK ||
        lt__model_arena_new(limit, &cx.tree) != LT_OK) {
        st = LT_FAIL(LT_ERR_NOMEM, "arenas");
        goto out;
    }
    cx.model = m->arena_;
    const lt__model_node *root = parse_text(&cx, o.format, data, len);
    if (root != NULL && !cx.nomem)
        analyse(&cx, root, m);
    if (!cx.nomem && cx.aliases && cx.report->error_count == 0)
        check_expanded_size(&cx, m, max_bytes > SIZE_MAX / 2 ? SIZE_MAX : 2 * max_bytes);
    if (cx.nomem) {
        if (!lt__model_arena_hit_limit(cx.tree) && !lt__model_arena_hit_limit(cx.model)) {
            st = LT_FAIL(LT_ERR_NOMEM, "parsing the manifest");
            goto out;
        }
        lt__model_diag(&cx, LT_MODEL_ERROR, LT__MODEL_CODE_LIMIT, NULL,
                       "manifest needs more memory than allowed (%zu bytes); refusing it", limit);
    }
    lt__model_report_finish(&cx);
    if (cx.report->error_count > 0)
        st = LT_FAIL(LT_ERR_INVALID, "manifest has %zu errors", cx.report->error_count);
out:
    lt__model_arena_free(cx.tree);
    lt_buf_cleanup(&cx.path);
    if (st == LT_OK) {
        *new_model = m;
        m = NULL;
    }
    lt_model_free(m);
    if (st != LT_ERR_NOMEM && new_report != NULL) {
        *new_report = cx.report;
        cx.report = NULL;
    }
    lt_model_report_free(cx.report);
    return st;
}

void lt_model_free(lt_model *m)
{
    if (m == NULL)
        return;
    lt__model_arena_free(m->arena_);
    lt_free(m);
}

lt_status lt_model_set_annotation(lt_model *m, const char *key, const char *value)
{
    size_t n = m->annotations.count;
    lt_model_kv *items = lt__model_arena_array(m->arena_, n + 1, sizeof(*items));
    const char *v = lt__model_arena_strdup(m->arena_, value);
    const char *k = lt__model_arena_strdup(m->arena_, key);
    if (items == NULL || v == NULL || k == NULL)
        return LT_FAIL(LT_ERR_NOMEM, "annotation");
    size_t used = 0;
    bool replaced = false;
    for (size_t i = 0; i < n; i++) {
        items[used] = m->annotations.items[i];
        if (strcmp(items[used].key, key) == 0) {
            items[used].value = v;
            replaced = true;
        }
        used++;
    }
    if (!replaced)
        items[used++] = (lt_model_kv){ k, v };
    lt__model_map_sort(items, used);
    m->annotations = (lt_model_map){ items, used };
    m->version = lt_model_map_get(&m->annotations, LT_MODEL_ANN_VERSION);
    m->description = lt_model_map_get(&m->annotations, LT_MODEL_ANN_DESCRIPTION);
    const char *shared = lt_model_map_get(&m->annotations, LT_MODEL_ANN_SHARED);
    m->shared = shared != NULL && strcmp(shared, "true") == 0;
    return LT_OK;
}
