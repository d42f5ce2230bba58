/*
 * sim_v2.c - the simulator's wasmCloud v2 mode: N hosts that speak the wire
 * of a wasmCloud 2.x `wash host` (docs/host.md "wasmCloud v2 mode") in one
 * process, on one NATS connection with one subscription per host on
 * "<host-prefix>.<id>.>" as a real host has (delivered by nats.c's shared
 * pool of threads, the host found by id in a hash table), one loop thread.
 * Each host has a random UUIDv4 id and a friendly name, publishes its bare
 * HostHeartbeat JSON on "<operator-prefix>.heartbeat.<id>" at once and every
 * interval (staggered over the interval after the first), and answers
 * heartbeat and workload.start/status/stop with pretty-printed JSON, or not
 * at all when a real host could not decode the request. A host handles one
 * request at a time in arrival order: while a start "pulls" (--reply-delay-ms,
 * one loop timer) it queues the others and owes its heartbeat, as the
 * sequential loop of a real host does; other hosts are not delayed.
 */
#include "sim_v2_int.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <sys/signalfd.h>
#include <time.h>
#include <unistd.h>

#include "host_rt_int.h"
#include "lt_alloc.h"
#include "lt_conn.h"
#include "lt_log.h"

#define TICK_MS 10

/* ---- output -------------------------------------------------------------------------- */

static void publish(lt__host_v2_sim *sim, const char *subject, const char *data, size_t len)
{
    natsStatus s = natsConnection_Publish(sim->nc, subject, data, (int)len);

    if (s != NATS_OK) {
        sim->n_errors++;
        LT_DEBUG("v2sim", "publish %s: %s", subject, natsStatus_GetText(s));
    }
}

static void heartbeat(lt__host_v2_sim *sim, lt__host_v2_host *h)
{
    char subject[LT_MAX_SUBJECT], *text = NULL;
    size_t len = 0;

    h->beat_owed = false;
    if (lt__host_v2_heartbeat_encode(h, false, &text, &len) != LT_OK) {
        sim->n_errors++;
        LT_WARN("v2sim", "%s: heartbeat not sent: %s", h->id, lt_error_message());
        return;
    }
    snprintf(subject, sizeof(subject), "%s.heartbeat.%s", sim->cfg->v2_operator_prefix, h->id);
    publish(sim, subject, text, len);
    sim->n_beats++;
    lt_free(text);
}

static void dropped(lt__host_v2_sim *sim, lt__host_v2_host *h, const char *command, const char *why)
{
    sim->n_dropped++;
    LT_WARN("v2sim", "%s: error handling command %s: %s (no reply)", h->id, command, why);
    printf("v2sim host %s dropped %s (%s)\n", h->id, command, why);
    fflush(stdout);
}

static void send_status(lt__host_v2_sim *sim, natsMsg *msg, lt__host_v2_cmd cmd, const char *id,
                        int state, const char *message)
{
    const char *to = natsMsg_GetReply(msg);
    char *text = NULL;
    size_t len = 0;

    if (to == NULL || to[0] == '\0')
        return;
    if (lt__host_v2_reply_encode(cmd, id, state, message, &text, &len) != LT_OK) {
        sim->n_errors++;
        return;
    }
    publish(sim, to, text, len);
    lt_free(text);
}

/* ---- commands ------------------------------------------------------------------------ */

static void wl_free(lt__host_v2_wl *w)
{
    if (w == NULL)
        return;
    lt_free(w->id);
    lt_free(w->name);
    lt_free(w);
}

/* The pull of a start: the first component (or service) image --refuse-image matches. */
static const char *refused(const lt_host_config *cfg, const Wasmcloud__Runtime__V2__Workload *w,
                           const char **comp)
{
    const char *t = cfg->refuse_image;

    if (t == NULL || t[0] == '\0')
        return NULL;
    for (size_t i = 0; w->wit_world != NULL && i < w->wit_world->n_components; i++) {
        *comp = w->wit_world->components[i]->name;
        if (strstr(w->wit_world->components[i]->image, t) != NULL)
            return w->wit_world->components[i]->image;
    }
    *comp = NULL;
    if (w->service != NULL && strstr(w->service->image, t) != NULL)
        return w->service->image;
    return NULL;
}

/* workload.start once its images are "pulled": the order of the washlet (§1.5). */
static void do_start(lt__host_v2_sim *sim, lt__host_v2_host *h, const lt__host_v2_req *r,
                     natsMsg *msg)
{
    const Wasmcloud__Runtime__V2__Workload *w = r->start->workload;
    const char *id = r->workload_id, *comp = NULL, *image = refused(sim->cfg, w, &comp);
    const char *name = w->name[0] != '\0' ? w->name : "-";
    char text[1024];
    int state = V2WS(RUNNING);
    lt__host_v2_wl *wl = NULL;

    snprintf(text, sizeof(text), "Workload started successfully");
    if (image != NULL && comp != NULL) {
        snprintf(text, sizeof(text),
                 "failed to pull image for component '%s': simulated pull failure: image '%s' "
                 "contains '%s' (--refuse-image)",
                 comp, image, sim->cfg->refuse_image);
        state = V2WS(ERROR);
    } else if (image != NULL) {
        snprintf(text, sizeof(text),
                 "failed to pull service image: simulated pull failure: image '%s' contains "
                 "'%s' (--refuse-image)",
                 image, sim->cfg->refuse_image);
        state = V2WS(ERROR);
    } else if (lt_map_get(&h->wls, id) != NULL) {
        snprintf(text, sizeof(text),
                 "Workload ID [%s] already exists (the exising workload must be stopped to "
                 "reuse the ID)",
                 id);
        state = V2WS(ERROR);
    } else if (!sim->cfg->v2_not_found_after_start) {
        wl = lt_calloc(1, sizeof(*wl));
        if (wl != NULL) {
            wl->id = lt_strdup(id);
            wl->name = lt_strdup(w->name);
            wl->state = V2WS(RUNNING);
        }
        if (wl == NULL || wl->id == NULL || wl->name == NULL ||
            lt_map_add(&h->wls, wl->id, wl) != LT_OK) {
            wl_free(wl);
            snprintf(text, sizeof(text), "failed to start workload: out of memory");
            state = V2WS(ERROR);
        } else {
            h->running++;
        }
    }
    send_status(sim, msg, LT_HOST_V2_START, id, state, text);
    printf("v2sim host %s start %s %s %s\n", h->id, id, lt__host_v2_state_name(state), name);
    fflush(stdout);
}

static void do_status(lt__host_v2_sim *sim, lt__host_v2_host *h, const char *id, natsMsg *msg)
{
    lt__host_v2_wl *wl = lt_map_get(&h->wls, id);
    char text[LT_MAX_SUBJECT + 64];
    const char *st = wl != NULL ? lt__host_v2_state_name(wl->state) : NULL;

    if (wl == NULL) {
        snprintf(text, sizeof(text), "Workload not found: %s", id);
        send_status(sim, msg, LT_HOST_V2_STATUS, id, V2WS(NOT_FOUND), text);
        return;
    }
    /* "Workload is Running": the state as the host's Rust enum prints it */
    snprintf(text, sizeof(text), "Workload is %s", st);
    for (char *c = text + strlen("Workload is ") + 1; *c != '\0'; c++)
        *c = *c >= 'A' && *c <= 'Z' ? (char)(*c - 'A' + 'a') : *c;
    send_status(sim, msg, LT_HOST_V2_STATUS, id, wl->state, text);
}

static void do_stop(lt__host_v2_sim *sim, lt__host_v2_host *h, const char *id, natsMsg *msg)
{
    lt__host_v2_wl *wl = lt_map_del(&h->wls, id);

    if (wl == NULL) {
        send_status(sim, msg, LT_HOST_V2_STOP, id, V2WS(NOT_FOUND), "Workload not found");
        printf("v2sim host %s stop %s NOT_FOUND\n", h->id, id);
    } else {
        if (wl->state == V2WS(RUNNING))
            h->running--;
        wl_free(wl);
        send_status(sim, msg, LT_HOST_V2_STOP, id, V2WS(STOPPING), "Workload stopped successfully");
        printf("v2sim host %s stop %s STOPPING\n", h->id, id);
    }
    fflush(stdout);
}

static int64_t pull_done(lt_loop *loop, void *arg);

/* One request of h (not busy). Takes msg unless it starts a pull (then h keeps it). */
static void handle(lt__host_v2_sim *sim, lt__host_v2_host *h, natsMsg *msg, const char *command)
{
    lt__host_v2_req r;
    char *text = NULL;
    size_t len = 0;
    const char *to = natsMsg_GetReply(msg);

    sim->n_requests++;
    if (sim->cfg->v2_never_reply && strncmp(command, "workload.", 9) == 0) {
        dropped(sim, h, command, "--v2-never-reply");
        goto out;
    }
    if (lt__host_v2_decode(command, natsMsg_GetData(msg), (size_t)natsMsg_GetDataLength(msg),
                           sim->version, &r) != LT_OK) {
        dropped(sim, h, command, lt_error_message());
        goto out;
    }
    switch (r.cmd) {
    case LT_HOST_V2_HEARTBEAT:
        if (to != NULL && to[0] != '\0' &&
            lt__host_v2_heartbeat_encode(h, true, &text, &len) == LT_OK)
            publish(sim, to, text, len);
        lt_free(text);
        break;
    case LT_HOST_V2_START:
        if (sim->cfg->reply_delay_ms > 0 &&
            lt_loop_timer_add(sim->loop, sim->cfg->reply_delay_ms, pull_done, h, NULL) == LT_OK) {
            h->busy = true;
            h->pending = r;
            h->pending_msg = msg;
            return;
        }
        do_start(sim, h, &r, msg);
        break;
    case LT_HOST_V2_STATUS:
        do_status(sim, h, r.workload_id, msg);
        break;
    case LT_HOST_V2_STOP:
        do_stop(sim, h, r.workload_id, msg);
        break;
    }
    lt__host_v2_req_cleanup(&r);
out:
    natsMsg_Destroy(msg);
}

/* "<host-prefix>.<id>.<command>": the id token and the command after it. */
static bool split_subject(const lt__host_v2_sim *sim, const char *subj, char *id, size_t idsize,
                          const char **command)
{
    size_t pl = strlen(sim->cfg->v2_host_prefix);
    const char *p, *dot;

    if (strncmp(subj, sim->cfg->v2_host_prefix, pl) != 0 || subj[pl] != '.')
        return false;
    p = subj + pl + 1;
    dot = strchr(p, '.');
    if (dot == NULL || (size_t)(dot - p) >= idsize)
        return false;
    memcpy(id, p, (size_t)(dot - p));
    id[dot - p] = '\0';
    *command = dot + 1;
    return true;
}

/* Handle what h queued while busy, until it is busy again. */
static void run_queue(lt__host_v2_sim *sim, lt__host_v2_host *h)
{
    while (!h->busy && h->qhead != NULL) {
        lt__host_v2_msg *q = h->qhead;
        char id[LT_UUID_LEN + 1];
        const char *command = "";

        h->qhead = q->next;
        if (h->qhead == NULL)
            h->qtail = NULL;
        LT_IGNORE(split_subject(sim, natsMsg_GetSubject(q->msg), id, sizeof(id), &command));
        handle(sim, h, q->msg, command);
        lt_free(q);
    }
}

static int64_t pull_done(lt_loop *loop, void *arg)
{
    lt__host_v2_host *h = arg;
    lt__host_v2_sim *sim = h->sim;

    (void)loop;
    do_start(sim, h, &h->pending, h->pending_msg);
    lt__host_v2_req_cleanup(&h->pending);
    natsMsg_Destroy(h->pending_msg);
    h->pending_msg = NULL;
    h->busy = false;
    if (h->beat_owed) /* the heartbeat tick that fell due while the loop was blocked */
        heartbeat(sim, h);
    run_queue(sim, h);
    return LT_TIMER_STOP;
}

/* On the loop: find the host, queue behind a pull or handle at once. */
static void on_loop(lt_loop *loop, void *arg)
{
    lt__host_v2_msg *q = arg;
    lt__host_v2_sim *sim = q->sim;
    char id[LT_UUID_LEN + 1];
    const char *command = NULL;
    lt__host_v2_host *h = NULL;

    (void)loop;
    if (split_subject(sim, natsMsg_GetSubject(q->msg), id, sizeof(id), &command))
        h = lt_map_get(&sim->by_id, id);
    if (h == NULL) { /* not one of ours */
        natsMsg_Destroy(q->msg);
        lt_free(q);
        return;
    }
    if (h->busy) {
        if (h->qtail != NULL)
            h->qtail->next = q;
        else
            h->qhead = q;
        h->qtail = q;
        return;
    }
    handle(sim, h, q->msg, command);
    lt_free(q);
}

static void drop_posted(void *arg)
{
    lt__host_v2_msg *q = arg;

    natsMsg_Destroy(q->msg);
    lt_free(q);
}

/* nats.c thread: post and return; the loop owns all state. */
static void on_msg(natsConnection *nc, natsSubscription *sub, natsMsg *msg, void *closure)
{
    lt__host_v2_msg *q = lt_malloc(sizeof(*q));

    (void)nc;
    (void)sub;
    if (q == NULL) {
        natsMsg_Destroy(msg);
        return;
    }
    q->msg = msg;
    q->next = NULL;
    q->sim = closure;
    if (lt_loop_post(q->sim->loop, on_loop, q, drop_posted) != LT_OK)
        drop_posted(q);
}

/* nats.c delivery thread: the last message of a closed subscription has been handled. */
static void on_sub_done(void *closure)
{
    lt__host_v2_sim *sim = closure;

    atomic_fetch_add(&sim->subs_done, 1);
}

/*
 * Unsubscribe every host, then wait (5 s at most) until nats.c's shared delivery threads are
 * done with what they had queued for them. nats_CloseAndWait stops nats.c's garbage collector
 * before those threads, and a message one of them destroys after that is never freed (a
 * leak under ASan, now and then, when a request arrived as the simulator stopped).
 */
static void unsubscribe_all(lt__host_v2_sim *sim)
{
    int64_t end = lt_loop_now_ms() + 5000;
    struct timespec ms = { 0, 1000000 };

    for (size_t i = 0; sim->hosts != NULL && i < sim->n; i++)
        if (sim->hosts[i].sub != NULL)
            LT_IGNORE(lt_conn_status(natsSubscription_Unsubscribe(sim->hosts[i].sub)));
    while (atomic_load(&sim->subs_done) < sim->subs_armed && lt_loop_now_ms() < end)
        nanosleep(&ms, NULL);
    if (atomic_load(&sim->subs_done) < sim->subs_armed)
        LT_WARN("v2sim", "nats.c's delivery of %zu subscriptions did not finish within 5 s",
                sim->subs_armed - atomic_load(&sim->subs_done));
}

/* ---- heartbeats: all at once at start, then host i at t0 + k*interval + i*interval/N ---- */

static int64_t beat_timer(lt_loop *loop, void *arg)
{
    lt__host_v2_sim *sim = arg;
    int64_t now = lt_loop_now_ms(), iv = sim->cfg->heartbeat_ms;
    size_t sent = 0;

    (void)loop;
    while (sent < sim->n) {
        int64_t due =
            sim->t0 + (int64_t)sim->round * iv + (int64_t)sim->next * iv / (int64_t)sim->n;
        lt__host_v2_host *h = &sim->hosts[sim->next];

        if (due > now)
            break;
        if (h->busy)
            h->beat_owed = true; /* a real host's loop is blocked by the pull */
        else
            heartbeat(sim, h);
        sent++;
        if (++sim->next == sim->n) {
            sim->next = 0;
            sim->round++;
        }
    }
    if (sent == sim->n &&
        sim->t0 + (int64_t)sim->round * iv + (int64_t)sim->next * iv / (int64_t)sim->n <= now) {
        sim->t0 = now; /* still a whole round behind: start the schedule again from now */
        sim->round = 0;
        sim->next = 0;
    }
    return TICK_MS;
}

static void log_stats(const lt__host_v2_sim *sim)
{
    size_t wls = 0;

    for (size_t i = 0; i < sim->n; i++)
        wls += sim->hosts[i].wls.count;
    LT_INFO("v2sim",
            "%zu wasmCloud v2 hosts, %zu workloads; totals: %" PRIu64 " heartbeats, %" PRIu64
            " requests (%" PRIu64 " unanswered), %" PRIu64 " errors",
            sim->n, wls, sim->n_beats, sim->n_requests, sim->n_dropped, sim->n_errors);
}

static void on_signal_fd(lt_loop *loop, int fd, short revents, void *arg)
{
    lt__host_v2_sim *sim = arg;
    struct signalfd_siginfo si;

    (void)revents;
    if (read(fd, &si, sizeof(si)) != (ssize_t)sizeof(si))
        return;
    /* A v2 host has no "stopping" message: it just goes silent. */
    LT_INFO("v2sim", "%s: %zu simulated hosts stopping",
            si.ssi_signo == SIGINT ? "SIGINT" : "SIGTERM", sim->n);
    if (sim->nc != NULL)
        LT_IGNORE(lt_conn_status(natsConnection_FlushTimeout(sim->nc, 5000)));
    log_stats(sim);
    sim->exit_code = 0;
    lt_loop_stop(loop);
}

/* ---- set-up -------------------------------------------------------------------------- */

static lt_status host_init(lt__host_v2_sim *sim, lt__host_v2_host *h, size_t i, lt_map *names)
{
    const lt_host_config *cfg = sim->cfg;
    lt_status st;

    h->sim = sim;
    h->index = i;
    lt_map_init(&h->wls);
    lt_rand_uuid_from(&sim->rng, h->id);
    do { /* friendly names are unique here: the operator names Host objects after them */
        lt__host_v2_friendly_name(&sim->rng, h->friendly, sizeof(h->friendly));
    } while (lt_map_get(names, h->friendly) != NULL);
    st = lt_map_add(names, h->friendly, h);
    if (st == LT_OK)
        st = lt__host_kvs_set(&h->labels_kv, "hostgroup", "default");
    for (size_t j = 0; st == LT_OK && j < cfg->nlabels; j++)
        st = lt__host_label_add(&h->labels_kv, cfg->labels[j], i, h->id);
    if (st != LT_OK)
        return st;
    h->labels = lt_calloc(h->labels_kv.n + 1, sizeof(*h->labels));
    h->plabels = lt_calloc(h->labels_kv.n + 1, sizeof(*h->plabels));
    if (h->labels == NULL || h->plabels == NULL)
        return LT_ERR_NOMEM;
    for (size_t j = 0; j < h->labels_kv.n; j++) {
        wasmcloud__runtime__v2__host_heartbeat__labels_entry__init(&h->labels[j]);
        h->labels[j].key = h->labels_kv.v[j].key;
        h->labels[j].value = h->labels_kv.v[j].val;
        h->plabels[j] = &h->labels[j];
    }
    return lt_map_add(&sim->by_id, h->id, h);
}

static void host_cleanup(lt__host_v2_host *h)
{
    size_t it = 0;
    lt__host_v2_wl *w;

    while ((w = lt_map_next(&h->wls, &it)) != NULL)
        wl_free(w);
    lt_map_cleanup(&h->wls);
    while (h->qhead != NULL) {
        lt__host_v2_msg *q = h->qhead;

        h->qhead = q->next;
        natsMsg_Destroy(q->msg);
        lt_free(q);
    }
    lt__host_v2_req_cleanup(&h->pending);
    if (h->pending_msg != NULL)
        natsMsg_Destroy(h->pending_msg);
    h->pending_msg = NULL;
    lt__host_kvs_cleanup(&h->labels_kv);
    lt_free(h->labels);
    lt_free(h->plabels);
}

static lt_status make_hosts(lt__host_v2_sim *sim)
{
    struct timespec ts;
    lt_map names;
    lt_status st = LT_OK;

    if (gethostname(sim->hostname, sizeof(sim->hostname) - 1) != 0 || sim->hostname[0] == '\0')
        snprintf(sim->hostname, sizeof(sim->hostname), "localhost");
    clock_gettime(CLOCK_REALTIME, &ts);
    sim->started_sec = (int64_t)ts.tv_sec;
    sim->started_nsec = (int32_t)(ts.tv_nsec / 1000 * 1000); /* microseconds, as Rust prints */
    st = lt__host_v2_version(sim->cfg->wasmcloud_version, &sim->version);
    if (st == LT_OK)
        st = lt__host_v2_exports_parse(sim->cfg->exports, sim->cfg->nexports, &sim->exports,
                                       &sim->nexports);
    if (st != LT_OK)
        return st;
    sim->hosts = lt_calloc(sim->n, sizeof(*sim->hosts));
    if (sim->hosts == NULL)
        return LT_ERR_NOMEM;
    lt_map_init(&sim->by_id);
    lt_map_init(&names);
    for (size_t i = 0; st == LT_OK && i < sim->n; i++)
        st = host_init(sim, &sim->hosts[i], i, &names);
    lt_map_cleanup(&names);
    return st;
}

/* Connect, subscribe, announce every host, arm timers. Exit code on failure, else 0. */
static int start_serving(lt__host_v2_sim *sim)
{
    char subject[LT_MAX_SUBJECT];
    lt_conn_config cc = sim->cfg->conn;
    natsStatus s;
    lt_status st;

    cc.name = "latticed-host-sim-v2";
    cc.shared_delivery = true; /* a subscription per host, not a thread per host */
    st = lt_conn_connect(&sim->nc, &cc, NULL);
    if (st != LT_OK) {
        LT_ERROR("v2sim", "%s", lt_error_message());
        return st == LT_ERR_INVALID ? 2 : 3;
    }
    /* A plain subscription (no queue group) per host on "<host-prefix>.<id>.>", as a real
     * host has: a request to a host that is gone then gets "no responders" from the server
     * at once, even while other simulated hosts live on the same server. */
    s = NATS_OK;
    for (size_t i = 0; s == NATS_OK && i < sim->n; i++) {
        lt__host_v2_host *h = &sim->hosts[i];

        snprintf(subject, sizeof(subject), "%s.%s.>", sim->cfg->v2_host_prefix, h->id);
        s = natsConnection_Subscribe(&h->sub, sim->nc, subject, on_msg, sim);
        if (s == NATS_OK)
            s = natsSubscription_SetPendingLimits(h->sub, 100000, 256 * 1024 * 1024);
        if (s == NATS_OK)
            s = natsSubscription_SetOnCompleteCB(h->sub, on_sub_done, sim);
        if (s == NATS_OK)
            sim->subs_armed++;
    }
    if (s == NATS_OK)
        s = natsConnection_Flush(sim->nc);
    if (s != NATS_OK ||
        lt_loop_watch_fd(sim->loop, sim->sigfd, POLLIN, on_signal_fd, sim) != LT_OK ||
        lt_loop_timer_add(sim->loop, TICK_MS, beat_timer, sim, NULL) != LT_OK) {
        LT_ERROR("v2sim", "cannot start serving: %s",
                 s != NATS_OK ? natsStatus_GetText(s) : lt_error_message());
        return 1;
    }
    for (size_t i = 0; i < sim->n; i++) {
        printf("v2sim host %s ready\n", sim->hosts[i].id);
        heartbeat(sim, &sim->hosts[i]); /* the first one at once */
    }
    fflush(stdout);
    LT_IGNORE(lt_conn_status(natsConnection_FlushTimeout(sim->nc, 5000)));
    sim->t0 = lt_loop_now_ms();
    sim->round = 1;
    LT_INFO("v2sim",
            "%zu simulated wasmCloud %s hosts ready (requests on %s.<id>.*, heartbeats on "
            "%s.heartbeat.<id> every %lld ms)",
            sim->n, sim->cfg->wasmcloud_version, sim->cfg->v2_host_prefix,
            sim->cfg->v2_operator_prefix, (long long)sim->cfg->heartbeat_ms);
    return 0;
}

int lt_host_sim_v2_run(const lt_host_config *cfg)
{
    lt__host_v2_sim sim;
    int code = 1;

    memset(&sim, 0, sizeof(sim));
    sim.cfg = cfg;
    sim.n = cfg->simulate;
    sim.sigfd = -1;
    sim.exit_code = 1;
    lt_rand_seed_random(&sim.rng);
    if (lt__host_signals(false, &sim.sigfd) != LT_OK) {
        LT_ERROR("v2sim", "%s", lt_error_message());
        goto out;
    }
    if (lt_loop_new(&sim.loop) != LT_OK) {
        LT_ERROR("v2sim", "cannot create the event loop");
        goto out;
    }
    if (make_hosts(&sim) != LT_OK) {
        LT_ERROR("v2sim", "%s", lt_error_message());
        code = 2;
        goto out;
    }
    code = start_serving(&sim);
    if (code != 0)
        goto out;
    if (lt_loop_run(sim.loop) != LT_OK)
        LT_ERROR("v2sim", "event loop failed: %s", lt_error_message());
    code = sim.exit_code;
out:
    unsubscribe_all(&sim);
    /* Closing joins nats.c's reader, which may still hold a subscription unlocked
     * (wire/lt_conn.h): only then are they destroyed. */
    if (sim.nc != NULL)
        natsConnection_Close(sim.nc);
    for (size_t i = 0; sim.hosts != NULL && i < sim.n; i++) {
        natsSubscription_Destroy(sim.hosts[i].sub);
        sim.hosts[i].sub = NULL;
    }
    natsConnection_Destroy(sim.nc);
    /* Posted messages and those hosts hold are natsMsgs: destroy them while libnats lives. */
    lt_loop_close(sim.loop);
    for (size_t i = 0; sim.hosts != NULL && i < sim.n; i++)
        host_cleanup(&sim.hosts[i]);
    /* Wait for nats.c's threads (the delivery threads are done with our subscriptions, above;
     * this waits for the rest) before the loop is freed. */
    if (nats_CloseAndWait(5000) != NATS_OK)
        LT_WARN("v2sim", "nats.c's threads did not finish within 5 s");
    lt_loop_free(sim.loop);
    lt_free(sim.hosts);
    lt_map_cleanup(&sim.by_id);
    lt__host_v2_exports_free(sim.exports, sim.nexports);
    if (sim.sigfd >= 0)
        close(sim.sigfd);
    return code;
}
