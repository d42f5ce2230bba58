/*
 * api_server.c - the API's transport and routing: the queue subscription,
 * wadm's subject grammar (`{prefix}.{lattice}.{category}.{operation}[.{name}]`
 * with wadm's "Invalid subject" / "Unsupported subject" errors), dispatch to
 * the handlers, and the reply. Requests without a reply subject are dropped
 * with a log line. No state is shared between requests.
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "api_int.h"
#include "lt_alloc.h"
#include "lt_conn.h"
#include "lt_utf8.h"
#include "lt_limits.h"
#include "lt_log.h"
#include "lt_trace.h"
#include "lt_trace_otlp.h"
#include "lt_subject.h"
#include "lt_time.h"

/* lt_api_stop: how long a drain may take before nats.c drops the subscription, and how long
 * the whole stop waits for the subscription to end (longer: a handler may be running). */
#define API_DRAIN_MS 5000
#define API_STOP_WAIT_S 10

struct lt_api {
    natsConnection *nc;
    natsSubscription *sub;
    lt_store *store;
    lt_api_config cfg;
    char *prefix; /* trimmed */
    char *queue;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    bool complete; /* the subscription delivered its last message */
    lt__api_pool *pool;
    lt__api_list_cache *list_cache;
    _Atomic int64_t stop_deadline; /* lt_api_stop: after this, queued requests are refused */
    lt__api_stats stats;           /* for the admin listener (api_stats.c) */
};

/* ---- small shared helpers ------------------------------------------------------------------ */

json_t *lt__api_err(const char *fmt, ...)
{
    char msg[4096];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    /* Echoed input (subject, content type) and truncation must not make the reply unbuildable. */
    lt_utf8_scrub(msg, strlen(msg));
    return json_pack("{s:s, s:s}", "result", "error", "message", msg);
}

const char *lt__api_store_error(lt_status st, bool write, char *buf, size_t cap)
{
    if (st == LT_ERR_AMBIGUOUS)
        snprintf(buf, cap, "%s", lt_error_message());
    else if (st == LT_ERR_TIMEOUT || st == LT_ERR_TRANSPORT || st == LT_ERR_CLOSED)
        snprintf(buf, cap, LT__API_STORAGE_ERROR ": %s (%s)%s",
                 st == LT_ERR_TIMEOUT ? "the store did not answer in time"
                                      : "the store could not be reached",
                 lt_error_message(), write ? "; nothing was changed" : "");
    else
        snprintf(buf, cap, LT__API_STORAGE_ERROR);
    return buf;
}

json_t *lt__api_str_or_null(const char *s)
{
    return s != NULL ? json_string(s) : json_null();
}

/** True when the body is empty or only whitespace. */
static bool body_empty(const char *data, size_t len)
{
    for (size_t i = 0; i < len; i++)
        if (data[i] != ' ' && data[i] != '\t' && data[i] != '\r' && data[i] != '\n')
            return false;
    return true;
}

/**
 * Parse an optional `{"version": string|null}` body. *version gets a heap
 * copy (NULL when absent/null). On a malformed body returns false and writes
 * the reason to why.
 */
static bool body_version(const char *data, size_t len, char **version, char *why, size_t whysize)
{
    json_error_t jerr;
    json_t *root, *v;

    *version = NULL;
    if (body_empty(data, len))
        return true;
    root = json_loadb(data, len, JSON_DECODE_ANY, &jerr);
    if (root == NULL) {
        snprintf(why, whysize, "%s at line %d column %d", jerr.text, jerr.line, jerr.column);
        return false;
    }
    if (!json_is_object(root)) {
        snprintf(why, whysize, "expected a JSON object");
        json_decref(root);
        return false;
    }
    v = json_object_get(root, "version");
    if (v != NULL && !json_is_null(v) && !json_is_string(v)) {
        snprintf(why, whysize, "version must be a string or null");
        json_decref(root);
        return false;
    }
    if (json_is_string(v) && json_string_length(v) > LT_STORE_MAX_VERSION) {
        /* no stored version is longer; bounded, handlers may echo it in their replies */
        snprintf(why, whysize, "version is longer than %u characters", LT_STORE_MAX_VERSION);
        json_decref(root);
        return false;
    }
    if (json_is_string(v) && (*version = lt_strdup(json_string_value(v))) == NULL) {
        snprintf(why, whysize, "out of memory");
        json_decref(root);
        return false;
    }
    json_decref(root);
    return true;
}

/* ---- routing ------------------------------------------------------------------------------- */

/* Copy prefix without leading/trailing dots and spaces (wadm trims both). */
static char *trim_prefix(const char *p)
{
    size_t a = 0, b;

    if (p == NULL)
        p = LT_API_DEFAULT_PREFIX;
    b = strlen(p);
    while (a < b && (p[a] == '.' || p[a] == ' '))
        a++;
    while (b > a && (p[b - 1] == '.' || p[b - 1] == ' '))
        b--;
    return lt_strndup(p + a, b - a);
}

typedef json_t *(*handler_fn)(const lt__api_req *r);

typedef struct {
    const char *op;
    bool with_name;
    lt__api_op id;
    handler_fn fn;
    const char *body_word; /* the body is {"version"}: the word of its parse error; else NULL */
} route;

static json_t *list_new(const lt__api_req *r)
{
    return lt__api_list(r, false);
}

static json_t *list_bare(const lt__api_req *r)
{
    return lt__api_list(r, true);
}

static const route routes[] = {
    { "put", false, LT__OP_PUT, lt__api_put, NULL },
    { "apply", false, LT__OP_APPLY, lt__api_apply, NULL },
    { "plan", false, LT__OP_PLAN, lt__api_plan, NULL },
    { "get", false, LT__OP_LIST, list_new, NULL },
    { "list", false, LT__OP_LIST_BARE, list_bare, NULL },
    { "get", true, LT__OP_GET, lt__api_get, "get" },
    { "versions", true, LT__OP_VERSIONS, lt__api_versions, NULL },
    { "del", true, LT__OP_DEL, lt__api_delete, "delete" },
    { "deploy", true, LT__OP_DEPLOY, lt__api_deploy, "deploy" },
    { "undeploy", true, LT__OP_UNDEPLOY, lt__api_undeploy, NULL },
    { "rollback", true, LT__OP_ROLLBACK, lt__api_rollback, "rollback" },
    { "status", true, LT__OP_STATUS, lt__api_status, NULL },
    { "history", true, LT__OP_HISTORY, lt__api_history, NULL },
};

#define SUBJECT_EXTRA                                                                \
    "Found extra components of subject, ensure your manifest name consists of only " \
    "alphanumeric characters, dashes, and underscores."

/* Split the part after the prefix into at most 4 tokens (r->tok); the reply on a subject error. */
static json_t *route_of(lt__api_req *r, const char *rest, const route **found)
{
    static const char *const missing[] = { "Expected to find lattice ID",
                                           "Expected to find API category",
                                           "Expected to find operation" };
    const char *p = rest;
    size_t n = 0;

    *found = NULL;
    /* Handlers echo the lattice and name in their replies: they must be valid UTF-8. */
    if (!lt_utf8_valid(rest, strlen(rest)))
        return lt__api_err("Invalid subject: it is not valid UTF-8");
    for (;;) { /* split('.') like wadm: "a." is "a" and an empty token */
        const char *dot = strchr(p, '.');
        size_t len = dot != NULL ? (size_t)(dot - p) : strlen(p);

        if (n == 4)
            return lt__api_err("Invalid subject: %s", SUBJECT_EXTRA);
        if (len > LT_MAX_TOKEN)
            return lt__api_err("Invalid subject: a token is longer than %u characters",
                               LT_MAX_TOKEN);
        memcpy(r->tok[n], p, len);
        r->tok[n++][len] = '\0';
        if (dot == NULL)
            break;
        p = dot + 1;
    }
    if (n < 3)
        return lt__api_err("Invalid subject: %s", missing[n]);
    if (!lt_store_name_is_valid(r->tok[0]))
        return lt__api_err("Invalid subject: lattice ID '%s' may only contain alphanumeric "
                           "characters, dashes, and underscores",
                           r->tok[0]);
    if (strcmp(r->tok[1], "model") == 0)
        for (size_t i = 0; i < sizeof(routes) / sizeof(routes[0]); i++)
            if (strcmp(routes[i].op, r->tok[2]) == 0 && routes[i].with_name == (n == 4))
                *found = &routes[i];
    if (*found == NULL)
        return lt__api_err("Unsupported subject: %s", r->subject);
    r->op = (*found)->id;
    r->lattice = r->tok[0];
    r->name = n == 4 ? r->tok[3] : NULL;
    return NULL;
}

void lt__api_body_cleanup(lt__api_body *body)
{
    if (body == NULL)
        return;
    lt_free(body->version);
    lt_model_free(body->model);
    lt_free(body->canon);
    *body = (lt__api_body){ 0 };
}

/* The route of r (parsed), or NULL with *err_reply set. */
static const route *parse_route(const char *prefix, lt__api_req *r, json_t **err_reply)
{
    size_t plen = strlen(prefix);
    const route *rt = NULL;

    if (strncmp(r->subject, prefix, plen) != 0 || r->subject[plen] != '.')
        *err_reply = lt__api_err("Unsupported subject: %s", r->subject);
    else
        *err_reply = route_of(r, r->subject + plen + 1, &rt);
    return *err_reply == NULL ? rt : NULL;
}

lt_status lt__api_parse(const char *prefix, lt__api_req *r, lt__api_body *body, json_t **err_reply)
{
    const route *rt;
    char why[256];
    bool ok = true;

    *body = (lt__api_body){ 0 };
    *err_reply = NULL;
    r->body = body;
    r->lattice = r->name = NULL;
    if ((rt = parse_route(prefix, r, err_reply)) == NULL) {
        ok = false;
    } else if (rt->id == LT__OP_PUT || rt->id == LT__OP_APPLY || rt->id == LT__OP_PLAN) {
        lt__api_parse_manifest(r, &body->model, &body->canon, &body->canon_len, &body->assigned,
                               err_reply);
        ok = *err_reply == NULL && body->model != NULL && body->canon != NULL;
    } else if (rt->body_word != NULL &&
               !body_version(r->data, r->len, &body->version, why, sizeof(why))) {
        *err_reply = lt__api_err("Unable to parse %s application request: %s", rt->body_word, why);
        ok = false;
    }
    if (ok)
        return LT_OK;
    lt__api_body_cleanup(body);
    if (*err_reply == NULL) /* the error reply itself could not be built */
        return LT_FAIL(LT_ERR_NOMEM, "out of memory building the reply");
    return LT_OK;
}

/* Run the handler of a parsed request: its new reply (NULL when out of memory). */
static json_t *run_handler(const lt__api_req *r)
{
    for (size_t i = 0; i < sizeof(routes) / sizeof(routes[0]); i++)
        if (routes[i].id == r->op)
            return routes[i].fn(r);
    return NULL;
}

static json_t *dispatch(lt__api_req *r, const char *prefix)
{
    lt__api_body body;
    json_t *reply = NULL;

    if (lt__api_parse(prefix, r, &body, &reply) != LT_OK)
        return NULL;
    if (reply == NULL)
        reply = run_handler(r);
    lt__api_body_cleanup(&body);
    return reply;
}

json_t *lt__api_raw_written(void)
{
    return json_true(); /* a singleton never used as a whole reply */
}

/* Append out's compact JSON to reply and release out (NULL: out of memory; the raw marker:
 * the handler wrote the reply itself). */
static lt_status reply_text(json_t *out, lt_buf *reply)
{
    char *text;
    lt_status st;

    if (out == lt__api_raw_written())
        return LT_OK;
    if (out == NULL)
        return LT_FAIL(LT_ERR_NOMEM, "out of memory building the reply");
    text = json_dumps(out, JSON_COMPACT | JSON_PRESERVE_ORDER | JSON_ENCODE_ANY);
    json_decref(out);
    if (text == NULL)
        return LT_FAIL(LT_ERR_NOMEM, "out of memory building the reply");
    st = lt_buf_appends(reply, text);
    free(text);
    if (st != LT_OK)
        return LT_FAIL(st, "reply over %zu bytes", reply->max);
    return LT_OK;
}

lt_status lt_api_handle(lt_store *store, const lt_api_config *cfg, const lt_api_request *req,
                        lt_buf *reply)
{
    lt__api_req r = {
        .store = store,
        .subject = req->subject,
        .content_type = req->content_type,
        .replace = req->replace,
        .data = req->data != NULL ? req->data : "",
        .len = req->data != NULL ? req->len : 0,
        .max_request = cfg != NULL && cfg->max_request ? cfg->max_request : LT_MAX_MANIFEST_BYTES,
    };
    char *prefix = trim_prefix(cfg != NULL ? cfg->prefix : NULL);
    json_t *out;

    r.raw = reply;
    if (prefix == NULL)
        return LT_FAIL(LT_ERR_NOMEM, "out of memory");
    out = dispatch(&r, prefix);
    lt_free(prefix);
    return reply_text(out, reply);
}

/* ---- transport ----------------------------------------------------------------------------- */

static const char *content_type_of(natsMsg *msg)
{
    const char *ct = NULL;

    if (natsMsgHeader_Get(msg, "Content-Type", &ct) == NATS_OK && ct != NULL)
        return ct;
    if (natsMsgHeader_Get(msg, "content-type", &ct) == NATS_OK && ct != NULL)
        return ct;
    return NULL;
}

/* A latticed extension header set to "true" (`Latticed-Replace`, `Latticed-If-Undeployed`;
 * lower_name is its lower-case spelling, which some clients send). */
static bool flag_header(natsMsg *msg, const char *name, const char *lower_name)
{
    const char *v = NULL;

    if (natsMsgHeader_Get(msg, name, &v) != NATS_OK || v == NULL)
        v = NULL;
    if (v == NULL && (natsMsgHeader_Get(msg, lower_name, &v) != NATS_OK || v == NULL))
        return false;
    return strcmp(v, "true") == 0;
}

/* put --replace (latticed extension): header `Latticed-Replace: true`. */
static bool replace_of(natsMsg *msg)
{
    return flag_header(msg, "Latticed-Replace", "latticed-replace");
}

/* One request between the intake (on_msg) and its worker. r points into msg and body. */
typedef struct {
    natsMsg *msg;
    lt__api_req r;
    lt__api_body body;
    json_t *reply;      /* the parser's error reply; else the handler's */
    bool parsed_ok;     /* the parser neither failed nor answered: run the handler */
    int64_t t0_ns;      /* received (lt_hist_now_ns), for the latency histogram */
    lt_trace_span span; /* the request's span: a child of its traceparent, else a new trace */
} job;

static void job_free(job *j)
{
    lt__api_body_cleanup(&j->body);
    json_decref(j->reply);
    natsMsg_Destroy(j->msg);
    lt_free(j);
}

/* How an error reply starts (the span's status is then an error). */
#define ERROR_REPLY "{\"result\":\"error\""

/* The W3C traceparent header of msg, in the spelling the spec gives or canonicalised by a
 * client library ("Traceparent"); NULL when absent. */
static const char *traceparent_of(natsMsg *msg)
{
    const char *tp = NULL;

    if (natsMsgHeader_Get(msg, LT_TRACE_HEADER, &tp) == NATS_OK && tp != NULL)
        return tp;
    if (natsMsgHeader_Get(msg, "Traceparent", &tp) == NATS_OK && tp != NULL)
        return tp;
    return NULL;
}

/* Delivery thread: the request's span context, a child of the W3C traceparent header it carries
 * (docs/api.md, a latticed extension), else the root of a new trace. */
static void trace_accept(job *j)
{
    const char *tp = traceparent_of(j->msg);
    lt_trace_ctx parent;

    j->span.start_ns = lt_trace_now_ns();
    j->span.kind = LT_TRACE_KIND_SERVER;
    if (tp != NULL && lt_trace_parse(tp, strlen(tp), &parent) == LT_OK) {
        lt_trace_child(&parent, &j->span.ctx);
        memcpy(j->span.parent_span_id, parent.span_id, sizeof(parent.span_id));
    } else {
        lt_trace_new(&j->span.ctx);
    }
}

/* Worker thread: this request's trace id on the thread's log records. */
static void trace_begin(job *j)
{
    char tid[LT_TRACE_ID_HEX];

    lt_trace_id_hex(&j->span.ctx, tid);
    lt_log_trace_set(tid);
    LT_DEBUG("api", "request %s", j->r.subject);
}

/* Worker thread: the request's span to the exporter (when one runs); the log's trace id off. */
static void trace_end(job *j, bool error)
{
    lt_trace_span *s = &j->span;
    char name[2 * sizeof(j->r.tok[0]) + 1];

    if (lt_trace_otlp_enabled()) {
        s->end_ns = lt_trace_now_ns();
        s->status = error ? LT_TRACE_STATUS_ERROR : LT_TRACE_STATUS_UNSET;
        snprintf(name, sizeof(name), "%s %s", j->r.tok[1][0] ? j->r.tok[1] : "api",
                 j->r.tok[2][0] ? j->r.tok[2] : "request");
        lt_trace_span_name(s, name); /* truncated between characters */
        lt_trace_span_attr(s, 0, "messaging.destination.name", j->r.subject);
        lt_trace_span_attr(s, 1, "lattice", j->r.tok[0]);
        lt_trace_span_attr(s, 2, "app", j->r.name != NULL ? j->r.name : "");
        lt_trace_otlp_record(s);
    }
    lt_log_trace_set(NULL);
}

/* Worker thread: run the handler, publish the reply. */
static void run_job(void *p, void *closure)
{
    job *j = p;
    lt_api *api = closure;
    const char *reply_to = natsMsg_GetReply(j->msg);
    int64_t deadline;
    lt_buf out;
    natsStatus ns;

    trace_begin(j);
    lt_buf_init(&out, LT_API_MAX_REPLY);
    j->r.raw = &out;
    j->r.list_cache = api->list_cache;
    j->r.nc = api->nc;
    j->r.sched_prefix =
        api->cfg.sched_prefix != NULL ? api->cfg.sched_prefix : LT_SUBJECT_LATTICE_PREFIX;
    deadline = atomic_load(&api->stop_deadline);
    if (deadline != 0 && (lt_time_mono_ms() > deadline ||
                          natsConnection_Status(api->nc) != NATS_CONN_STATUS_CONNECTED)) {
        /* Stopping, and the requests still queued did not make it in time (or cannot be
         * answered): refuse them at once rather than hold the shutdown on KV timeouts. */
        json_decref(j->reply);
        j->reply = lt__api_err("latticed is shutting down: send the request again");
    } else if (j->parsed_ok) {
        unsigned ms = api->cfg.timeout_ms ? api->cfg.timeout_ms : LT_API_DEFAULT_TIMEOUT_MS;

        /* answered before the client gives up, however slow JetStream is (an unknown outcome
         * is answered as such) */
        lt_store_deadline_set(j->t0_ns + (int64_t)ms * 1000000);
        j->reply = run_handler(&j->r);
        lt_store_deadline_set(0);
    }
    if (reply_text(j->reply, &out) != LT_OK) {
        LT_ERROR("api", "cannot answer %s: %s", j->r.subject, lt_error_message());
        lt_buf_reset(&out);
        LT_IGNORE(lt_buf_appends(&out, "{\"result\":\"error\",\"message\":\"Internal error: the "
                                       "reply could not be built\"}"));
    }
    j->reply = NULL; /* reply_text released it */
    ns = natsConnection_Publish(api->nc, reply_to, out.ptr, (int)out.len);
    if (ns == NATS_MAX_PAYLOAD) {
        LT_WARN("api", "reply to %s is %zu bytes, over the server's limit", j->r.subject, out.len);
        ns = natsConnection_PublishString(api->nc, reply_to,
                                          "{\"result\":\"error\",\"message\":\"The reply is "
                                          "larger than the NATS server's max_payload\"}");
    }
    if (ns != NATS_OK)
        LT_WARN("api", "cannot reply to %s: %s", j->r.subject, natsStatus_GetText(ns));
    trace_end(j, ns != NATS_OK || strncmp(out.ptr, ERROR_REPLY, sizeof(ERROR_REPLY) - 1) == 0);
    lt__api_stats_note(&api->stats, &j->r, out.ptr, out.len, j->t0_ns);
    lt_buf_cleanup(&out);
    job_free(j);
}

/*
 * nats.c delivery thread: parse (no store access), then hand the request to the worker of its
 * app, so that one app's requests keep their order while other apps' run side by side. A put
 * or apply names its app in the manifest; a list names only the lattice.
 */
static void on_msg(natsConnection *nc, natsSubscription *sub, natsMsg *msg, void *closure)
{
    lt_api *api = closure;
    const char *reply_to = natsMsg_GetReply(msg);
    const char *app = NULL;
    job *j;

    (void)nc;
    (void)sub;
    if (reply_to == NULL || reply_to[0] == '\0') {
        LT_INFO("api", "dropping a request on %s: it has no reply subject",
                natsMsg_GetSubject(msg));
        natsMsg_Destroy(msg);
        return;
    }
    if ((j = lt_calloc(1, sizeof(*j))) == NULL) {
        LT_ERROR("api", "out of memory: dropping a request on %s", natsMsg_GetSubject(msg));
        natsMsg_Destroy(msg);
        return;
    }
    j->msg = msg;
    j->t0_ns = lt_hist_now_ns();
    j->r = (lt__api_req){
        .store = api->store,
        .subject = natsMsg_GetSubject(msg),
        .content_type = content_type_of(msg),
        .replace = replace_of(msg),
        .if_undeployed = flag_header(msg, "Latticed-If-Undeployed", "latticed-if-undeployed"),
        .data = natsMsg_GetData(msg) != NULL ? natsMsg_GetData(msg) : "",
        .len = (size_t)natsMsg_GetDataLength(msg),
        .max_request = api->cfg.max_request ? api->cfg.max_request : LT_MAX_MANIFEST_BYTES,
    };
    trace_accept(j);
    lt_trace_format(&j->span.ctx, j->r.traceparent);
    if (lt__api_parse(api->prefix, &j->r, &j->body, &j->reply) == LT_OK && j->reply == NULL) {
        j->parsed_ok = true;
        app = j->body.model != NULL ? j->body.model->name : j->r.name;
    }
    lt__api_pool_push(api->pool, lt__api_pool_pick(api->pool, j->r.lattice, app), j,
                      sizeof(*j) + 4 * j->r.len); /* the message, and the model parsed from it */
}

void lt_api_stats_get(lt_api *api, lt_api_stats *out)
{
    lt__api_stats_read(&api->stats, out);
}

static void on_complete(void *closure)
{
    lt_api *api = closure;

    pthread_mutex_lock(&api->mu);
    api->complete = true;
    pthread_cond_broadcast(&api->cv);
    pthread_mutex_unlock(&api->mu);
}

static void api_free(lt_api *api)
{
    if (api == NULL)
        return;
    natsSubscription_Destroy(api->sub);
    lt__api_pool_free(api->pool);
    lt__api_list_cache_free(api->list_cache);
    pthread_cond_destroy(&api->cv);
    pthread_mutex_destroy(&api->mu);
    lt_free(api->prefix);
    lt_free(api->queue);
    lt_free(api);
}

lt_status lt_api_start(lt_api **new_api, natsConnection *nc, lt_store *store,
                       const lt_api_config *cfg)
{
    lt_api *api = NULL;
    char subject[LT_MAX_SUBJECT];
    natsStatus ns;
    lt_status st;

    *new_api = NULL;
    /* jansson seeds its hash function on first use; do it here, before handler threads. */
    json_object_seed(0);
    if ((api = lt_calloc(1, sizeof(*api))) == NULL)
        return LT_FAIL(LT_ERR_NOMEM, "out of memory");
    pthread_mutex_init(&api->mu, NULL);
    pthread_cond_init(&api->cv, NULL);
    api->nc = nc;
    api->store = store;
    api->prefix = trim_prefix(cfg != NULL ? cfg->prefix : NULL);
    api->queue = lt_strdup(cfg != NULL && cfg->queue ? cfg->queue : LT_API_DEFAULT_QUEUE);
    api->list_cache = lt__api_list_cache_new();
    if (api->prefix == NULL || api->queue == NULL || api->list_cache == NULL) {
        api_free(api);
        return LT_FAIL(LT_ERR_NOMEM, "out of memory");
    }
    if (api->prefix[0] == '\0' || strpbrk(api->prefix, "*> \t") != NULL ||
        strstr(api->prefix, "..") != NULL) {
        api_free(api);
        return LT_FAIL(LT_ERR_INVALID, "API prefix '%s' is empty or not a valid subject prefix",
                       cfg != NULL && cfg->prefix ? cfg->prefix : "");
    }
    api->cfg.prefix = api->prefix;
    api->cfg.queue = api->queue;
    api->cfg.max_request = cfg != NULL ? cfg->max_request : 0;
    api->cfg.sched_prefix = cfg != NULL ? cfg->sched_prefix : NULL;
    api->cfg.timeout_ms = cfg != NULL ? cfg->timeout_ms : 0;
    st = lt__api_pool_new(&api->pool,
                          cfg != NULL && cfg->workers ? cfg->workers : LT_API_DEFAULT_WORKERS,
                          LT_API_QUEUE_PER_WORKER, LT_API_QUEUE_BYTES_PER_WORKER, run_job, api);
    if (st != LT_OK) {
        api_free(api);
        return st;
    }
    LT_IGNORE(lt_subject_api_all(subject, sizeof(subject), api->prefix)); /* "" fails below */
    ns = natsConnection_QueueSubscribe(&api->sub, nc, subject, api->queue, on_msg, api);
    if (ns == NATS_OK)
        ns = natsSubscription_SetOnCompleteCB(api->sub, on_complete, api);
    if (ns == NATS_OK)
        ns = natsSubscription_SetPendingLimits(api->sub, 4096, 256 * 1024 * 1024);
    if (ns != NATS_OK) {
        st = LT_FAIL(LT_ERR_TRANSPORT, "cannot subscribe to %s: %s", subject,
                     natsStatus_GetText(ns));

        lt_conn_sub_free(nc, api->sub, LT_CONN_SETTLE_MS); /* NULL-safe; wire/lt_conn.h */
        api->sub = NULL;
        api_free(api);
        return st;
    }
    LT_INFO("api", "serving %s (queue group %s)", subject, api->queue);
    *new_api = api;
    return LT_OK;
}

void lt_api_stop(lt_api *api)
{
    struct timespec deadline;

    if (api == NULL)
        return;
    /* Requests queued on the workers get API_DRAIN_MS to be answered, then are refused. */
    atomic_store(&api->stop_deadline, lt_time_mono_ms() + API_DRAIN_MS);
    /*
     * Connected: drain, so requests already received are answered, then the handler returns
     * for good. A drain first flushes to the server: while NATS is down (a shutdown during a
     * reconnect) that cannot succeed, so it is bounded (API_DRAIN_MS, after which nats.c drops
     * the subscription itself) and skipped when the link is already down: nothing received
     * could be answered then, and unsubscribing ends the subscription at once. An unbounded
     * drain outlived the wait below, and api (with its subscription, which holds a reference
     * on the natsConnection) was leaked.
     */
    if (natsConnection_Status(api->nc) != NATS_CONN_STATUS_CONNECTED ||
        natsSubscription_DrainTimeout(api->sub, API_DRAIN_MS) != NATS_OK) {
        if (natsSubscription_Unsubscribe(api->sub) != NATS_OK) {
            /* Connection already closed: nats.c completes the subscription itself. */
        }
    }
    clock_gettime(CLOCK_REALTIME, &deadline);
    deadline.tv_sec += API_STOP_WAIT_S;
    pthread_mutex_lock(&api->mu);
    while (!api->complete)
        if (pthread_cond_timedwait(&api->cv, &api->mu, &deadline) != 0)
            break;
    pthread_mutex_unlock(&api->mu);
    if (!api->complete) {
        /* A handler may still be running: leak api rather than free it under its feet. */
        LT_WARN("api", "the API subscription did not complete in time");
        return;
    }
    /* freed once nats.c's reader is done with it (lt_conn.h) */
    lt_conn_sub_free(api->nc, api->sub, LT_CONN_SETTLE_MS);
    api->sub = NULL;
    api_free(api);
}
