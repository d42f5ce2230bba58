/*
 * api_int.h - internals of the API module: the parsed request handed to each
 * handler, reply builders and the handlers themselves. Not a public header.
 */
#ifndef LT_API_INT_H
#define LT_API_INT_H

#include <jansson.h>

#include "lt_api.h"

typedef struct {
    lt_store *store;
    const char *subject;      /**< full subject */
    const char *lattice;      /**< validated lattice token */
    const char *name;         /**< object token, NULL when absent */
    const char *content_type; /**< NULL when absent */
    const char *data;
    size_t len;
    size_t max_request;
} lt__req;

/* Handlers: each returns a new reply value (NULL only when out of memory). */
json_t *lt__api_put(const lt__req *r);
json_t *lt__api_apply(const lt__req *r);
json_t *lt__api_get(const lt__req *r);
json_t *lt__api_list(const lt__req *r, bool bare);
json_t *lt__api_versions(const lt__req *r);
json_t *lt__api_delete(const lt__req *r);
json_t *lt__api_deploy(const lt__req *r);
json_t *lt__api_undeploy(const lt__req *r);
json_t *lt__api_rollback(const lt__req *r);
json_t *lt__api_status(const lt__req *r);
json_t *lt__api_history(const lt__req *r);

/** {"result":"error","message":<fmt>}. */
json_t *lt__err(const char *fmt, ...) LT_PRINTF(1, 2);

/** A string value that may be NULL (-> null). */
json_t *lt__str_or_null(const char *s);

/** True when the body is empty or only whitespace. */
bool lt__body_empty(const char *data, size_t len);

/**
 * Parse an optional `{"version": string|null}` body. *version gets a heap
 * copy (NULL when absent/null). On a malformed body returns false and writes
 * the reason to why.
 */
bool lt__body_version(const char *data, size_t len, char **version, char *why, size_t whysize);

/**
 * Parse a manifest request body the way wadm's put does (content type, then
 * sniffing). On success *m is the valid model with its version annotation
 * set (a ULID assigned when none: *assigned true) and *canon its canonical
 * JSON (lt_free). On failure *m is NULL and *err_reply gets wadm's error reply.
 */
void lt__parse_manifest(const lt__req *r, lt_model **m, char **canon, size_t *canon_len,
                        bool *assigned, json_t **err_reply);

/** Description and shared flag of a canonical manifest JSON (for indexes). */
void lt__manifest_meta(const char *json, size_t len, char **description, bool *shared);

/** Canonical JSON of version v (NULL: latest) parsed into a model (JSON). */
LT_NODISCARD lt_status lt__load_model(lt_store *s, const lt_store_app *app, const char *v,
                                      lt_model **m, char **json, size_t *len);

/** Status object of an app as model.status returns it (stored, or wadm's defaults). */
json_t *lt__app_status(lt_store *s, const char *lattice, const char *name,
                       const lt_store_app *app, const char *stored_json);

/**
 * Deploy version v of an app (deploy, rollback, apply share it): checks the
 * model, sets the deployed version with CAS and records the event. Returns
 * the reply (acknowledged with msg_ok, or wadm's errors).
 */
json_t *lt__deploy_version(const lt__req *r, const lt_store_app *app, const char *v,
                           const char *msg_ok);

/** {"result","message","name","version"} (DeployModelResponse). */
json_t *lt__deploy_reply(const char *result, const char *message, const char *name,
                         const char *version);

#endif
