/*
 * model_int.h - internals of the model module shared by its files: the
 * arena, the generic document tree both parsers produce (with source
 * locations), the parse context that carries limits, the current JSON path
 * and the diagnostics being collected. Not a public header.
 */
#ifndef LT_MODEL_INT_H
#define LT_MODEL_INT_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "lt_buf.h"
#include "lt_model.h"
#include "lt_status.h"

#define LT__JSON_TEXT_MAX (64u << 20) /**< bytes of JSON text we produce for one value */
#define LT__MESSAGE_MAX (16u << 10)   /**< bytes of one diagnostic message (longer: cut) */

/* ---- arena (arena.c) ------------------------------------------------------------------------ */

struct lt__arena;

/** CONSTRUCTOR. An arena that refuses to grow past limit bytes. LT_ERR_NOMEM. */
LT_NODISCARD lt_status lt__model_arena_new(size_t limit, struct lt__arena **new_arena);
/** DESTRUCTOR. NULL-safe. */
void lt__model_arena_free(struct lt__arena *a);
/** Zeroed memory, 16-byte aligned; NULL when out of memory or over the limit. */
void *lt__model_arena_alloc(struct lt__arena *a, size_t size);
/** Array of n elements of size; NULL on overflow, out of memory or limit. */
void *lt__model_arena_array(struct lt__arena *a, size_t n, size_t size);
/** Copy len bytes and add a NUL; NULL on failure. */
char *lt__model_arena_strndup(struct lt__arena *a, const char *s, size_t len);
char *lt__model_arena_strdup(struct lt__arena *a, const char *s);
/** True once an allocation was refused because of the limit (not the system). */
bool lt__model_arena_hit_limit(const struct lt__arena *a);

/* ---- document tree (tree.c) ----------------------------------------------------------------- */

typedef enum {
    LT__NODE_NULL = 0,
    LT__NODE_BOOL,
    LT__NODE_INT,
    LT__NODE_FLOAT,
    LT__NODE_STR,
    LT__NODE_SEQ,
    LT__NODE_MAP,
} lt__model_node_kind;

typedef struct lt__model_node lt__model_node;
struct lt__model_node {
    lt__model_node_kind kind;
    uint32_t line; /**< 1-based, 0 for JSON input */
    uint32_t column;
    const char *text; /**< scalars: the text (STR: the value); NUL-terminated */
    size_t text_len;
    union {
        bool b;
        int64_t i;
        double d;
    } v;
    size_t count;           /**< SEQ items / MAP entries */
    lt__model_node **items; /**< SEQ items, MAP values */
    lt__model_node **keys;  /**< MAP keys (STR nodes) */
    uint64_t weight;        /**< nodes in the subtree, alias expansions included */
};

/** Human name of a node kind ("a string", "integer"...), for messages. */
const char *lt__model_node_kind_name(lt__model_node_kind k);
/** Value of key in a MAP node, or NULL (also NULL when n is not a map). */
lt__model_node *lt__model_node_get(const lt__model_node *n, const char *key);
/** The key node of key in a MAP node (for locations), or NULL. */
lt__model_node *lt__model_node_key_node(const lt__model_node *n, const char *key);
/** The node a JSON path (as the report writes them) names, or the deepest ancestor that
 *  exists; NULL when root is NULL. */
const lt__model_node *lt__model_node_at_path(const lt__model_node *root, const char *path);
/** MAP key i as a C string. */
const char *lt__model_node_key(const lt__model_node *n, size_t i);
/** Canonical compact JSON text of a subtree, in the arena. NULL on failure: *invalid tells
 *  a value JSON cannot hold (.inf, .nan) from out of memory. */
char *lt__model_node_json_text(struct lt__arena *a, const lt__model_node *n, bool *invalid);

/* ---- parse context and diagnostics (report.c) ------------------------------------------------ */

extern const char LT__MODEL_CODE_SYNTAX[];
extern const char LT__MODEL_CODE_LIMIT[];
extern const char LT__MODEL_CODE_SCHEMA[];
extern const char LT__MODEL_CODE_WADM[];
extern const char LT__MODEL_CODE_LATTICED[];

typedef struct {
    struct lt__arena *tree;     /**< owns the document tree */
    struct lt__arena *model;    /**< owns the model under construction */
    lt_model_report *report;    /**< findings under construction */
    const lt__model_node *root; /**< the document, once parsed (locations of findings) */
    const char *source;
    size_t max_depth;
    size_t max_nodes;
    lt_buf path;     /**< JSON path of the node being decoded */
    int quiet;       /**< > 0: count errors, emit nothing */
    uint64_t errors; /**< errors raised so far, quiet or not */
    bool nomem;      /**< an allocation failed: the result is incomplete */
    bool aliases;    /**< the YAML document used aliases (its expansion is bounded) */
} lt__model_ctx;

/** CONSTRUCTOR. A report with no findings. NULL when out of memory. */
lt_model_report *lt__model_report_new(const char *source);

/**
 * Record a finding at node `at` (may be NULL) and the current path. Errors are counted in
 * cx->errors even while quiet; while quiet nothing is recorded. Out of memory sets cx->nomem.
 */
void lt__model_diag(lt__model_ctx *cx, lt_model_level lvl, const char *code,
                    const lt__model_node *at, const char *fmt, ...) LT_PRINTF(5, 6);

void lt__model_vdiag(lt__model_ctx *cx, lt_model_level lvl, const char *code,
                     const lt__model_node *at, const char *fmt, va_list ap) LT_PRINTF(5, 0);

/** Append a note about findings dropped over the cap; call once at the end. */
void lt__model_report_finish(lt__model_ctx *cx);

/** Location record for node `at` and the current path, in the model arena. */
lt_model_loc lt__model_loc(lt__model_ctx *cx, const lt__model_node *at);

/** Append one key segment to a path (".key", or ["k.e/y"] quoted); false when it does not fit
 *  (then b is unchanged). */
bool lt__model_path_append_key(lt_buf *b, const char *key);
/** Current path length, to restore with lt__model_path_pop. */
size_t lt__model_path_push_key(lt__model_ctx *cx, const char *key);
size_t lt__model_path_push_index(lt__model_ctx *cx, size_t i);
void lt__model_path_pop(lt__model_ctx *cx, size_t saved);

/* ---- parsers (parse_yaml.c, parse_json.c) --------------------------------------------------- */

/** Parse YAML into a tree in cx->tree. Returns NULL after recording findings. */
lt__model_node *lt__model_parse_yaml(lt__model_ctx *cx, const char *data, size_t len);
/** Parse JSON into a tree in cx->tree. Returns NULL after recording findings. */
lt__model_node *lt__model_parse_json(lt__model_ctx *cx, const char *data, size_t len);

/* ---- typed model (build.c, build_trait.c) --------------------------------------------------- */

/** Decode the whole tree into m (fields allocated in cx->model). Findings go to cx. */
void lt__model_build(lt__model_ctx *cx, const lt__model_node *root, lt_model *m);

/** Decode one trait (build_trait.c); cx->path points at the trait. */
void lt__model_build_trait(lt__model_ctx *cx, const lt__model_node *n, lt_model_trait *t);

/** Record why a link- or scaler-typed trait did not decode as one (after wadm's message). */
void lt__model_explain_trait(lt__model_ctx *cx, const lt__model_node *props,
                             const lt_model_trait *t);

/* Shared decoding helpers (build.c). Each records its own findings. */
bool lt__model_want_map(lt__model_ctx *cx, const lt__model_node *n);
bool lt__model_want_seq(lt__model_ctx *cx, const lt__model_node *n);
bool lt__model_want_string(lt__model_ctx *cx, const lt__model_node *n, const char **out);
bool lt__model_want_uint(lt__model_ctx *cx, const lt__model_node *n, uint64_t *out);
bool lt__model_want_string_map(lt__model_ctx *cx, const lt__model_node *n, lt_model_map *out);
/**
 * Check a map's keys against known field names: unknown keys are errors (strict) or
 * warnings ("is ignored"), with a did-you-mean suggestion when one is close.
 */
void lt__model_check_fields(lt__model_ctx *cx, const lt__model_node *map, const char *const *known,
                            size_t n, bool strict);
/** A required field: records "missing field `name`" at the map when absent. */
const lt__model_node *lt__model_need(lt__model_ctx *cx, const lt__model_node *map,
                                     const char *name);
/**
 * A sequence decoded into a new cx->model array of n->count elements of size bytes: element i
 * by one(cx, n->items[i], element) with the path at [i]. False, *arr NULL, when n is not a
 * sequence (recorded) or memory ran out (cx->nomem); *arr is NULL for an empty sequence.
 */
bool lt__model_decode_seq(lt__model_ctx *cx, const lt__model_node *n, size_t size,
                          void (*one)(lt__model_ctx *cx, const lt__model_node *item, void *elem),
                          void **arr);
bool lt__model_decode_configs(lt__model_ctx *cx, const lt__model_node *n,
                              const lt_model_config **out, size_t *count);
bool lt__model_decode_secrets(lt__model_ctx *cx, const lt__model_node *n,
                              const lt_model_secret **out, size_t *count);

/* ---- validation (validate.c, validate_ext.c) ------------------------------------------------ */

/** wadm's validate_manifest rules, in wadm's order, then the raw-document check. */
void lt__model_validate_wadm(lt__model_ctx *cx, const lt_model *m, const lt__model_node *root);
/** latticed's own rules: decode the rollout policy into m->rollout, check the extensions and
 *  what would crash or mislead a scheduler. */
void lt__model_validate_latticed(lt__model_ctx *cx, lt_model *m);

/* ---- helpers (ids.c) ------------------------------------------------------------------------ */

/** The candidate closest to word when close enough to be a likely typo, else NULL. */
const char *lt__model_suggest(const char *word, const char *const *candidates, size_t n);
/** Append s as Rust's Debug formatting of a str would ("a\"b"). */
LT_NODISCARD lt_status lt__model_rust_debug_str(lt_buf *out, const char *s);
/** wadm's known-interface check: true when ns:pkg/iface is a likely typo. */
bool lt__model_interface_unrecognized(const char *ns, const char *pkg, const char *iface);
/** Parse a memory quantity ("128Mi", "1G", "1048576"). */
bool lt__model_parse_memory(const char *s, uint64_t *out);
/** Parse a CPU quantity ("250m", "0.5", "2") into millicores. */
bool lt__model_parse_cpu(const char *s, uint64_t *out);
/** Sort a map's items by key (byte order). */
void lt__model_map_sort(lt_model_kv *items, size_t n);
/** Fill the derived fields of m: version, description, shared, component ids, resources.
 *  LT_ERR_NOMEM. */
LT_NODISCARD lt_status lt__model_derive(lt_model *m);
/** Flags for keys[0..n): flags[i] is true when an equal key comes earlier. lt_free it.
 *  NULL when out of memory. */
bool *lt__model_dup_flags(const char *const *keys, size_t n);

#endif
