/*
 * api_fixture.h - shared fixture of the API tests: a nats-server, the store
 * and an in-process API server on it, a client connection, and helpers to
 * make requests and read JSON replies.
 */
#ifndef API_FIXTURE_H
#define API_FIXTURE_H

#include <jansson.h>
#include <nats/nats.h>

#include "lt_api.h"
#include "lt_natsrv.h"
#include "lt_store.h"

extern lt_natsrv *fx_srv;
extern natsConnection *fx_nc;     /* the server's connection */
extern natsConnection *fx_client; /* the test client's */
extern lt_store *fx_store;
extern lt_api *fx_api;

/** Start everything (API max request: max_request, 0 = default). */
void fx_setup_with(size_t max_request);
void fx_setup(void);
void fx_teardown(void);

/** Request subject "wadm.api.<lattice>.<rest>"; body may be NULL; ct NULL = no header. */
json_t *fx_req(const char *lattice, const char *rest, const char *body, const char *ct);

/** Same on lattice "default". */
json_t *fx_call(const char *rest, const char *body, const char *ct);

/** A YAML manifest: name, version (NULL: none), image tag, explicit id of the component (NULL). */
char *fx_manifest(const char *name, const char *version, const char *tag, const char *id);

/** reply["result"] / reply["message"] (borrowed, "" when absent). */
const char *fx_result(const json_t *reply);
const char *fx_message(const json_t *reply);

/** Assert the reply's result and free it. */
void fx_expect(json_t *reply, const char *result);

#endif
