/*
 * serve.c - the NATS side of latticed-host, shared by the real host and the
 * simulator: one connection, one subscription ("...host.{id}.*" or
 * "...host.*.*" for all simulated hosts), nats.c callbacks that only post the
 * message to the loop, and on the loop: subject parsing, lookup of the
 * addressed host (O(1)), lt__host_request, the reply (optionally delayed),
 * heartbeats and CloudEvents.
 */
#include "host_rt_int.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <pthread.h>
#include <sys/signalfd.h>

#include "lt_alloc.h"
#include "lt_log.h"
#include "lt_nkey.h"
#include "lt_pbjson.h"
#include "lt_subject.h"

static void srv_publish(lt__host_srv *srv, lt__host_state *h, const char *type, const lt_buf *b,
                        const char *tp);

struct lt__host_delayed {
    lt__host_delayed *next, *prev;
    lt__host_srv *srv;
    char *reply;
    bool json;
    size_t len;
    char data[];
};

void lt__host_srv_init(lt__host_srv *srv, const lt_host_config *cfg, lt_loop *loop,
                       lt__host_lookup_fn lookup, void *lookup_ctx, const lt__host_ops *ops)
{
    memset(srv, 0, sizeof(*srv));
    srv->cfg = cfg;
    srv->loop = loop;
    srv->lookup = lookup;
    srv->lookup_ctx = lookup_ctx;
    srv->ops = ops;
    lt_buf_init(&srv->out, LT_MAX_MESSAGE);
    lt_buf_init(&srv->ev, LT_MAX_MESSAGE);
    lt_buf_init(&srv->evq, 2 * LT_HOST_EVENT_QUEUE);
    /* Too long a prefix or lattice leaves bcast "": lt__host_srv_subscribe then fails. */
    LT_IGNORE(lt_subject_inventory(srv->bcast, sizeof(srv->bcast), cfg->prefix, cfg->lattice));
}

/* ---- connection events: nats.c threads post, the loop acts ------------------ */

static void reconnected_on_loop(lt_loop *loop, void *arg)
{
    lt__host_srv *srv = arg;

    (void)loop;
    if (srv->on_reconnect != NULL)
        srv->on_reconnect(srv->lookup_ctx);
}

static void conn_reconnected(void *arg)
{
    lt__host_srv *srv = arg;

    LT_IGNORE(lt_loop_post(srv->loop, reconnected_on_loop, srv, NULL));
}

lt_status lt__host_srv_connect(lt__host_srv *srv, const char *conn_name)
{
    lt_conn_config cc = srv->cfg->conn;

    cc.name = conn_name;
    srv->events.reconnected = conn_reconnected;
    srv->events.arg = srv;
    return lt_conn_connect(&srv->nc, &cc, &srv->events);
}

/* ---- batched destruction and deferred events ------------------------------------- */

static void destroy_trash(lt__host_srv *srv)
{
    for (size_t i = 0; i < srv->ntrash; i++)
        natsMsg_Destroy(srv->trash[i]);
    srv->ntrash = 0;
}

/* Destroy m later, with others (see LT_HOST_TRASH). */
static void trash(lt__host_srv *srv, natsMsg *m)
{
    if (srv->ntrash == LT_HOST_TRASH)
        destroy_trash(srv);
    srv->trash[srv->ntrash++] = m;
}

/* A queued event: this header, then `len` payload bytes, in srv->evq. */
typedef struct {
    lt__host_state *h;
    const char *type; /* a string literal of command.c/child.c */
    size_t len;
    int64_t at;                       /* when it was queued (monotonic ms) */
    char tp[LT_TRACE_PARENT_LEN + 1]; /* the causing command's traceparent, "" if none */
} evrec;

/* Publish up to max queued events, oldest first (max 0: all of them). */
static void flush_events(lt__host_srv *srv, size_t max)
{
    size_t n = 0;

    while (srv->evq_head < srv->evq.len && (max == 0 || n < max)) {
        evrec r;
        lt_buf view;

        memcpy(&r, srv->evq.ptr + srv->evq_head, sizeof(r));
        srv->evq_head += sizeof(r);
        view = (lt_buf){ srv->evq.ptr + srv->evq_head, r.len, r.len, r.len, false, LT_OK };
        srv_publish(srv, r.h, r.type, &view, r.tp);
        srv->evq_head += r.len;
        n++;
    }
    if (srv->evq_head == srv->evq.len) {
        lt_buf_reset(&srv->evq);
        srv->evq_head = 0;
    }
}

/* Queued time of the oldest unpublished event (the queue is not empty). */
static int64_t oldest_event(const lt__host_srv *srv)
{
    evrec r;

    memcpy(&r, srv->evq.ptr + srv->evq_head, sizeof(r));
    return r.at;
}

void lt__host_srv_idle(lt__host_srv *srv)
{
    bool quiet = srv->n_requests == srv->idle_requests;

    srv->idle_requests = srv->n_requests;
    /* In slices, so a burst of requests that resumes waits one slice at most;
     * slice after slice while no request is waiting. */
    while (srv->evq.len > srv->evq_head &&
           (quiet || lt_loop_now_ms() - oldest_event(srv) >= LT_HOST_EVENT_DELAY_MS)) {
        flush_events(srv, LT_HOST_EVENT_SLICE);
        destroy_trash(srv);
        if (lt_loop_pending(srv->loop) > 0)
            break;
    }
    destroy_trash(srv);
}

void lt__host_srv_drain(lt__host_srv *srv)
{
    flush_events(srv, 0);
    destroy_trash(srv);
}

/* ---- commands ------------------------------------------------------------------ */

/* A message handed from a nats.c thread to the loop. */
typedef struct {
    lt__host_srv *srv;
    natsMsg *msg;
} posted;

static void drop_posted(void *arg)
{
    posted *p = arg;

    natsMsg_Destroy(p->msg);
    lt_free(p);
}

/* Protobuf replies go without headers (protobuf is the protocol's default
 * encoding, and a header-less publish costs no natsMsg); JSON ones say so. */
static lt_status send_reply(lt__host_srv *srv, const char *reply, bool json, const void *data,
                            size_t len)
{
    natsMsg *m = NULL;
    natsStatus s;

    if (!json) {
        s = natsConnection_Publish(srv->nc, reply, data, (int)len);
    } else {
        s = natsMsg_Create(&m, reply, NULL, data, (int)len);
        if (s == NATS_OK)
            s = natsMsgHeader_Set(m, "content-type", "application/json");
        if (s == NATS_OK)
            s = natsConnection_PublishMsg(srv->nc, m);
        if (m != NULL)
            trash(srv, m);
    }
    if (s != NATS_OK) {
        srv->n_errors++;
        return LT_FAIL(LT_ERR_TRANSPORT, "reply: %s", natsStatus_GetText(s));
    }
    return LT_OK;
}

static void delayed_unlink(lt__host_delayed *d)
{
    if (d->prev != NULL)
        d->prev->next = d->next;
    else
        d->srv->delayed = d->next;
    if (d->next != NULL)
        d->next->prev = d->prev;
}

static int64_t delayed_fire(lt_loop *loop, void *arg)
{
    lt__host_delayed *d = arg;

    (void)loop;
    LT_IGNORE(send_reply(d->srv, d->reply, d->json, d->data, d->len));
    delayed_unlink(d);
    lt_free(d->reply);
    lt_free(d);
    return LT_TIMER_STOP;
}

/* Reply now, or after --reply-delay-ms (the state change is already applied). */
static void reply(lt__host_srv *srv, const char *to, bool json, const lt_buf *b)
{
    lt__host_delayed *d;

    if (srv->cfg->reply_delay_ms <= 0) {
        LT_IGNORE(send_reply(srv, to, json, b->ptr, b->len));
        return;
    }
    d = lt_malloc(sizeof(*d) + b->len);
    if (d == NULL || (d->reply = lt_strdup(to)) == NULL) {
        lt_free(d);
        LT_IGNORE(send_reply(srv, to, json, b->ptr, b->len));
        return;
    }
    d->srv = srv;
    d->json = json;
    d->len = b->len;
    memcpy(d->data, b->ptr, b->len);
    if (lt_loop_timer_add(srv->loop, srv->cfg->reply_delay_ms, delayed_fire, d, NULL) != LT_OK) {
        LT_IGNORE(send_reply(srv, to, json, b->ptr, b->len));
        lt_free(d->reply);
        lt_free(d);
        return;
    }
    d->prev = NULL;
    d->next = srv->delayed;
    if (d->next != NULL)
        d->next->prev = d;
    srv->delayed = d;
}

static bool is_json(natsMsg *msg)
{
    const char *ct = NULL;

    if (natsMsgHeader_Get(msg, "content-type", &ct) != NATS_OK || ct == NULL)
        return false;
    return strncmp(ct, "application/json", 16) == 0;
}

/*
 * With --leader-key, a command must carry the leader's signature over its subject and body:
 * anything else is answered INVALID without being looked at (its epoch changes nothing).
 * True when the request may go on.
 */
static bool signed_ok(lt__host_srv *srv, lt__host_state *h, natsMsg *msg, const char *to)
{
    const char *sig = NULL;
    Latticed__Host__V1__CommandReply rep = LATTICED__HOST__V1__COMMAND_REPLY__INIT;
    char *text = NULL;
    size_t len = 0;
    bool json = is_json(msg);

    if (!srv->cfg->check_signatures)
        return true;
    if (natsMsgHeader_Get(msg, LT_NKEY_SIG_HEADER, &sig) != NATS_OK)
        sig = NULL;
    if (lt_nkey_verify_command(srv->cfg->leader_key, natsMsg_GetSubject(msg), natsMsg_GetData(msg),
                               (size_t)natsMsg_GetDataLength(msg), sig))
        return true;
    srv->n_unsigned++;
    if (srv->n_unsigned == 1 || srv->n_unsigned % 1000 == 0)
        LT_WARN("host", "%s: refused %llu command(s) not signed by the leader key (latest on %s)",
                h->id, (unsigned long long)srv->n_unsigned, natsMsg_GetSubject(msg));
    rep.host_id = h->id;
    rep.code = HRC(INVALID);
    rep.message = (char *)"the command is not signed by the leader key this host trusts";
    rep.newest_epoch = h->newest_epoch;
    lt_buf_reset(&srv->out);
    if (json && lt_pbjson_encode(&rep.base, 0, &text, &len) == LT_OK) {
        LT_IGNORE(lt_buf_append(&srv->out, text, len));
    } else {
        uint8_t pb[512]; /* host id, message and codes: well under it */
        size_t n = protobuf_c_message_get_packed_size(&rep.base);

        json = false;
        if (n <= sizeof(pb))
            LT_IGNORE(lt_buf_append(&srv->out, pb, protobuf_c_message_pack(&rep.base, pb)));
    }
    lt_free(text);
    reply(srv, to, json, &srv->out);
    return false;
}

/* The lattice-wide inventory request: one reply per host served. */
static void handle_bcast(lt__host_srv *srv, natsMsg *msg, const char *to)
{
    lt__host_state *h;
    size_t i;

    for (i = 0; srv->each != NULL && (h = srv->each(srv->lookup_ctx, i)) != NULL; i++) {
        bool json = is_json(msg);

        if (!signed_ok(srv, h, msg, to))
            continue;
        srv->n_requests++;
        lt_buf_reset(&srv->out);
        if (lt__host_request(h, srv->ops, "inventory", natsMsg_GetData(msg),
                             (size_t)natsMsg_GetDataLength(msg), &json, &srv->out) != LT_OK) {
            srv->n_errors++;
            continue;
        }
        reply(srv, to, json, &srv->out);
    }
}

/* The command's W3C traceparent (docs/protocol.md): the events its handling publishes carry
 * it (normalised to version 00), and the log records its trace id. */
static void trace_begin(lt__host_srv *srv, natsMsg *msg)
{
    const char *tp = NULL;
    lt_trace_ctx c;
    char tid[LT_TRACE_ID_HEX];

    srv->cur_trace[0] = '\0';
    if ((natsMsgHeader_Get(msg, LT_TRACE_HEADER, &tp) != NATS_OK || tp == NULL) &&
        (natsMsgHeader_Get(msg, "Traceparent", &tp) != NATS_OK || tp == NULL))
        return; /* absent in both spellings (a client may canonicalise the name) */
    if (lt_trace_parse(tp, strlen(tp), &c) != LT_OK)
        return;
    lt_trace_format(&c, srv->cur_trace);
    lt_trace_id_hex(&c, tid);
    lt_log_trace_set(tid);
}

/* On the loop: "{prefix}.{lattice}.host.{id}.{verb}" -> host state -> reply. */
static void handle_on_loop(lt_loop *loop, void *arg)
{
    posted *p = arg;
    lt__host_srv *srv = p->srv;
    const char *subj = natsMsg_GetSubject(p->msg), *to = natsMsg_GetReply(p->msg);
    char id[LT_SUBJECT_HOST_BUF];
    const char *verb;
    lt__host_state *h;
    bool json;
    lt_status st;

    (void)loop;
    if (strcmp(subj, srv->bcast) == 0 && to != NULL && to[0] != '\0') {
        handle_bcast(srv, p->msg, to);
        goto out;
    }
    if (!lt_subject_host_command_parse(srv->cfg->prefix, srv->cfg->lattice, subj, id, &verb))
        goto out;
    h = srv->lookup(srv->lookup_ctx, id);
    if (h == NULL || to == NULL || to[0] == '\0')
        goto out; /* not one of ours, or nobody to answer */
    if (!signed_ok(srv, h, p->msg, to))
        goto out;
    json = is_json(p->msg);
    srv->n_requests++;
    lt_buf_reset(&srv->out);
    trace_begin(srv, p->msg);
    st = lt__host_request(h, srv->ops, verb, natsMsg_GetData(p->msg),
                          (size_t)natsMsg_GetDataLength(p->msg), &json, &srv->out);
    if (st != LT_OK) {
        srv->n_errors++;
        LT_WARN("host", "%s: no reply: %s", subj, lt_error_message());
        goto out;
    }
    reply(srv, to, json, &srv->out);
out:
    srv->cur_trace[0] = '\0';
    lt_log_trace_set(NULL);
    trash(srv, p->msg);
    lt_free(p);
}

/* nats.c thread: post and return; the loop owns all state. */
static void on_msg(natsConnection *nc, natsSubscription *sub, natsMsg *msg, void *closure)
{
    lt__host_srv *srv = closure;
    posted *p = lt_malloc(sizeof(*p));

    (void)nc;
    (void)sub;
    if (p == NULL) {
        natsMsg_Destroy(msg);
        return;
    }
    p->srv = srv;
    p->msg = msg;
    if (lt_loop_post(srv->loop, handle_on_loop, p, drop_posted) != LT_OK)
        drop_posted(p); /* stopping: the message is dropped */
}

lt_status lt__host_srv_subscribe(lt__host_srv *srv, const char *id)
{
    const char *subj = srv->cmds;
    natsStatus s;

    if (lt_subject_host_command(srv->cmds, sizeof(srv->cmds), srv->cfg->prefix, srv->cfg->lattice,
                                id, "*") != LT_OK ||
        srv->bcast[0] == '\0')
        return LT_FAIL(LT_ERR_TOO_BIG, "subscription subject too long");
    s = natsConnection_Subscribe(&srv->sub, srv->nc, subj, on_msg, srv);
    if (s == NATS_OK) /* commands can come in bursts (100,000 at once) */
        s = natsSubscription_SetPendingLimits(srv->sub, 1000000, 1024 * 1024 * 1024);
    if (s == NATS_OK && srv->each != NULL)
        s = natsConnection_Subscribe(&srv->bsub, srv->nc, srv->bcast, on_msg, srv);
    if (s == NATS_OK)
        s = natsConnection_Flush(srv->nc);
    if (s != NATS_OK)
        return LT_FAIL(lt_conn_status(s), "subscribe %s: %s", subj, natsStatus_GetText(s));
    return LT_OK;
}

/* ---- events ---------------------------------------------------------------------- */

/** Publish bytes already encoded as event type of host h; tp (NULL or "": none) is the
 * causing command's traceparent, carried as the CloudEvents distributed-tracing extension. */
static void srv_publish(lt__host_srv *srv, lt__host_state *h, const char *type, const lt_buf *b,
                        const char *tp)
{
    natsMsg *m = NULL;
    natsStatus s = NATS_OK;

    if (lt__host_ce_msg(&m, srv->cfg->prefix, h->lattice, type, h->id, b->ptr, b->len) != LT_OK) {
        srv->n_errors++;
        LT_DEBUG("host", "%s", lt_error_message());
        return;
    }
    if (tp != NULL && tp[0] != '\0')
        s = natsMsgHeader_Set(m, LT_TRACE_HEADER, tp);
    if (s == NATS_OK)
        s = natsConnection_PublishMsg(srv->nc, m);
    trash(srv, m);
    if (s != NATS_OK) {
        srv->n_errors++;
        LT_DEBUG("host", "publish %s: %s", type, natsStatus_GetText(s));
        return;
    }
    srv->n_events++;
}

void lt__host_srv_emit(lt__host_srv *srv, lt__host_state *h, const char *type, const void *data,
                       size_t len)
{
    lt_buf b = { (char *)data, len, len, len, false, LT_OK }; /* a read-only view */
    evrec r = { h, type, len, 0, "" };

    if (srv->defer_events) {
        size_t before;

        if (srv->evq.len > LT_HOST_EVENT_QUEUE)
            flush_events(srv, 0); /* bound the queue */
        r.at = lt_loop_now_ms();
        memcpy(r.tp, srv->cur_trace, sizeof(r.tp));
        before = srv->evq.len;
        if (lt_buf_append(&srv->evq, &r, sizeof(r)) == LT_OK &&
            lt_buf_append(&srv->evq, data, len) == LT_OK)
            return;
        lt_buf_truncate(&srv->evq, before); /* cannot queue it: publish all now, in order */
        flush_events(srv, 0);
    }
    srv_publish(srv, h, type, &b, srv->cur_trace);
}

void lt__host_srv_heartbeat(lt__host_srv *srv, lt__host_state *h)
{
    h->sequence++;
    lt_buf_reset(&srv->ev);
    if (lt__host_heartbeat_encode(h, NULL, 0, &srv->ev) != LT_OK) {
        srv->n_errors++;
        LT_WARN("host", "%s: heartbeat not sent: %s", h->id, lt_error_message());
        return;
    }
    srv_publish(srv, h, "host.heartbeat", &srv->ev, NULL);
    srv->n_heartbeats++;
}

void lt__host_srv_started(lt__host_srv *srv, lt__host_state *h)
{
    lt_buf_reset(&srv->ev);
    if (lt__host_started_encode(h, &srv->ev) == LT_OK)
        srv_publish(srv, h, "host.started", &srv->ev, NULL);
}

void lt__host_srv_stopping(lt__host_srv *srv, lt__host_state *h, const char *reason,
                           int64_t deadline_wall_ms)
{
    lt_buf_reset(&srv->ev);
    if (lt__host_stopping_encode(h, reason, deadline_wall_ms, &srv->ev) == LT_OK)
        srv_publish(srv, h, "host.stopping", &srv->ev, NULL);
}

void lt__host_srv_flush(lt__host_srv *srv, int timeout_ms)
{
    if (srv->nc != NULL)
        LT_IGNORE(lt_conn_status(natsConnection_FlushTimeout(srv->nc, timeout_ms)));
}

void lt__host_srv_cleanup(lt__host_srv *srv)
{
    lt__host_delayed *d, *next;

    if (srv == NULL)
        return;
    if (srv->nc != NULL)
        flush_events(srv, 0);
    destroy_trash(srv);
    /* No more commands; the subscriptions are destroyed only once the connection is closed:
     * closing joins nats.c's reader, which may still hold one unlocked (wire/lt_conn.h). */
    if (srv->bsub != NULL)
        LT_IGNORE(lt_conn_status(natsSubscription_Unsubscribe(srv->bsub)));
    if (srv->sub != NULL)
        LT_IGNORE(lt_conn_status(natsSubscription_Unsubscribe(srv->sub)));
    if (srv->nc != NULL)
        natsConnection_Close(srv->nc);
    natsSubscription_Destroy(srv->bsub);
    natsSubscription_Destroy(srv->sub);
    srv->bsub = srv->sub = NULL;
    natsConnection_Destroy(srv->nc);
    srv->nc = NULL;
    for (d = srv->delayed; d != NULL; d = next) {
        next = d->next;
        lt_free(d->reply);
        lt_free(d);
    }
    srv->delayed = NULL;
    lt_buf_cleanup(&srv->out);
    lt_buf_cleanup(&srv->ev);
    lt_buf_cleanup(&srv->evq);
}

lt_status lt__host_signals(bool chld, int *fd)
{
    sigset_t set;
    int sfd;

    sigemptyset(&set);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGTERM);
    if (chld)
        sigaddset(&set, SIGCHLD);
    signal(SIGPIPE, SIG_IGN);
    if (pthread_sigmask(SIG_BLOCK, &set, NULL) != 0)
        return LT_FAIL(LT_ERR_IO, "cannot block signals");
    sfd = signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC);
    if (sfd < 0)
        return LT_FAIL(LT_ERR_IO, "signalfd: errno %d", errno);
    *fd = sfd;
    return LT_OK;
}
