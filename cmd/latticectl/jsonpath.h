/*
 * jsonpath.h - the kubectl subset of JSONPath templates for `latticectl -o jsonpath=EXPR`:
 * literal text with `{...}` actions: `{.a.b}`, `{.items[0].x}`, `{.items[-1]}`,
 * `{.items[*].name}`, `{['key.with.dots']}`, `{$.a}`, `{"\n"}` and
 * `{range .items[*]}...{end}`. Pure logic (jansson in, text out), no NATS.
 */
#ifndef LCTL_JSONPATH_H
#define LCTL_JSONPATH_H

#include <jansson.h>

#include "lt_buf.h"
#include "lt_status.h"

typedef struct lctl_jsonpath lctl_jsonpath;

/**
 * Compile a template. LT_ERR_INVALID with the reason and the offending position in
 * lt_error_message() (unclosed `{`, unknown token, `range` without `end`...), LT_ERR_NOMEM.
 * Free *new_jp with lctl_jsonpath_free.
 */
LT_NODISCARD lt_status lctl_jsonpath_compile(const char *expr, lctl_jsonpath **new_jp);

/** NULL-safe. */
void lctl_jsonpath_free(lctl_jsonpath *jp);

/**
 * Append the template evaluated on doc to out. A path yielding several values prints them
 * separated by one space; strings print bare, other values as compact JSON; a missing key or
 * an index out of range yields nothing (as `kubectl get -o jsonpath`). LT_ERR_NOMEM / the
 * buffer's limit only.
 */
LT_NODISCARD lt_status lctl_jsonpath_eval(const lctl_jsonpath *jp, const json_t *doc, lt_buf *out);

#endif
