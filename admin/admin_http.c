/*
 * admin_http.c - the admin listener: a socket bound here (so port 0 can be
 * read back), served by libmicrohttpd's internal polling thread. Handlers
 * answer from the last snapshot the loop published (a reference taken under
 * a mutex held only for that; the text is sent from the shared copy), from
 * the loop's heartbeat (an atomic), and for /debug/state from a state the
 * loop builds when asked (the handler waits for it on its own thread).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <microhttpd.h>

#include "lt_admin.h"
#include "lt_alloc.h"
#include "lt_hist.h"

#define ADDR_MAX 128

/* A published text, shared by the responses that send it: freed by whoever drops the last ref. */
typedef struct {
    atomic_int refs;
    size_t len;
    char *text;
} snap;

struct lt_admin {
    struct MHD_Daemon *mhd;
    char addr[ADDR_MAX];
    int64_t stale_ns;
    _Atomic int64_t beat_ns;  /* CLOCK_MONOTONIC of the loop's last beat */
    atomic_bool state_wanted; /* a /debug/state request waits for the loop */
    pthread_mutex_t mu;       /* what follows */
    pthread_cond_t state_cv;  /* a new state was published */
    bool published, ready;
    char reason[256];
    snap *metrics, *state;
    uint64_t state_gen; /* states published so far */
};

lt_status lt_admin_parse_addr(const char *addr, char *host, size_t hostsize, unsigned *port)
{
    const char *colon, *hs = addr, *he;
    char *end;
    unsigned long p;

    if (addr == NULL)
        return LT_FAIL(LT_ERR_INVALID, "no admin address");
    if (addr[0] == '[') {
        hs = addr + 1;
        he = strchr(hs, ']');
        if (he == NULL || he[1] != ':')
            return LT_FAIL(LT_ERR_INVALID, "admin address '%s': expected [v6-address]:port", addr);
        colon = he + 1;
    } else {
        colon = strrchr(addr, ':');
        if (colon == NULL || memchr(addr, ':', (size_t)(colon - addr)) != NULL)
            return LT_FAIL(LT_ERR_INVALID,
                           "admin address '%s': expected host:port (e.g. 127.0.0.1:9090)", addr);
        he = colon;
    }
    if ((size_t)(he - hs) >= hostsize)
        return LT_FAIL(LT_ERR_INVALID, "admin address '%s': host too long", addr);
    errno = 0;
    p = strtoul(colon + 1, &end, 10);
    if (colon[1] < '0' || colon[1] > '9' || *end != '\0' || errno != 0 || p > 65535)
        return LT_FAIL(LT_ERR_INVALID, "admin address '%s': the port must be 0 to 65535", addr);
    memcpy(host, hs, (size_t)(he - hs));
    host[he - hs] = '\0';
    *port = (unsigned)p;
    return LT_OK;
}

/* Bind and listen on addr; *fd and the address actually bound in a->addr. */
static lt_status listen_on(lt_admin *a, const char *addr, int *fd)
{
    struct addrinfo hints = { .ai_family = AF_UNSPEC,
                              .ai_socktype = SOCK_STREAM,
                              .ai_flags = AI_PASSIVE | AI_NUMERICSERV };
    struct addrinfo *res = NULL, *ai;
    struct sockaddr_storage ss;
    socklen_t sl = sizeof(ss);
    char host[ADDR_MAX], port[8], ip[INET6_ADDRSTRLEN];
    unsigned p;
    int s = -1, one = 1, err = 0, rc;
    lt_status st;

    if ((st = lt_admin_parse_addr(addr, host, sizeof(host), &p)) != LT_OK)
        return st;
    snprintf(port, sizeof(port), "%u", p);
    rc = getaddrinfo(host[0] ? host : NULL, port, &hints, &res);
    if (rc != 0)
        return LT_FAIL(LT_ERR_INVALID, "admin address '%s': %s", addr, gai_strerror(rc));
    for (ai = res; ai != NULL; ai = ai->ai_next) {
        s = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC, ai->ai_protocol);
        if (s < 0) {
            err = errno;
            continue;
        }
        setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
        if (bind(s, ai->ai_addr, ai->ai_addrlen) == 0 && listen(s, 64) == 0)
            break;
        err = errno;
        close(s);
        s = -1;
    }
    freeaddrinfo(res);
    if (s < 0)
        return LT_FAIL(LT_ERR_IO, "cannot listen on admin address '%s' (errno %d)", addr, err);
    getsockname(s, (struct sockaddr *)&ss, &sl);
    if (ss.ss_family == AF_INET6) {
        struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&ss;

        inet_ntop(AF_INET6, &s6->sin6_addr, ip, sizeof(ip));
        snprintf(a->addr, sizeof(a->addr), "[%s]:%u", ip, (unsigned)ntohs(s6->sin6_port));
    } else {
        struct sockaddr_in *s4 = (struct sockaddr_in *)&ss;

        inet_ntop(AF_INET, &s4->sin_addr, ip, sizeof(ip));
        snprintf(a->addr, sizeof(a->addr), "%s:%u", ip, (unsigned)ntohs(s4->sin_port));
    }
    *fd = s;
    return LT_OK;
}

static enum MHD_Result reply(struct MHD_Connection *c, unsigned code, const char *type,
                             const char *body, size_t len)
{
    struct MHD_Response *r;
    enum MHD_Result ret;

    r = MHD_create_response_from_buffer(len, (void *)(uintptr_t)body, MHD_RESPMEM_MUST_COPY);
    if (r == NULL)
        return MHD_NO;
    MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, type);
    MHD_add_response_header(r, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
    if (code == MHD_HTTP_METHOD_NOT_ALLOWED)
        MHD_add_response_header(r, MHD_HTTP_HEADER_ALLOW, "GET, HEAD");
    ret = MHD_queue_response(c, code, r);
    MHD_destroy_response(r);
    return ret;
}

#define TEXT "text/plain; charset=utf-8"

static enum MHD_Result text(struct MHD_Connection *c, unsigned code, const char *s)
{
    return reply(c, code, TEXT, s, strlen(s));
}

/* The loop's beat is fresh: "" ; else the reason. */
static bool alive(lt_admin *a, char *why, size_t whysize)
{
    int64_t age = lt_hist_now_ns() - atomic_load(&a->beat_ns);

    if (age <= a->stale_ns)
        return true;
    snprintf(why, whysize, "loop stalled: no heartbeat for %lld ms\n", (long long)(age / 1000000));
    return false;
}

static enum MHD_Result readyz(lt_admin *a, struct MHD_Connection *c)
{
    char why[300];
    bool ok;

    if (!alive(a, why, sizeof(why)))
        return text(c, MHD_HTTP_SERVICE_UNAVAILABLE, why);
    pthread_mutex_lock(&a->mu);
    ok = a->published && a->ready;
    snprintf(why, sizeof(why), "%s\n", !a->published ? "starting" : ok ? "ready" : a->reason);
    pthread_mutex_unlock(&a->mu);
    return text(c, ok ? MHD_HTTP_OK : MHD_HTTP_SERVICE_UNAVAILABLE, why);
}

static snap *snap_new(lt_buf *b)
{
    size_t len = b->len;
    char *text = lt_buf_take(b);
    snap *sn;

    if (text == NULL || (sn = lt_malloc(sizeof(*sn))) == NULL) {
        lt_free(text);
        return NULL;
    }
    atomic_init(&sn->refs, 1);
    sn->len = len;
    sn->text = text;
    return sn;
}

static void snap_unref(void *arg)
{
    snap *sn = arg;

    if (sn != NULL && atomic_fetch_sub(&sn->refs, 1) == 1) {
        lt_free(sn->text);
        lt_free(sn);
    }
}

/* A reference to *slot (NULL when none), taken under the lock. */
static snap *snap_ref(lt_admin *a, snap **slot)
{
    snap *sn;

    pthread_mutex_lock(&a->mu);
    sn = *slot;
    if (sn != NULL)
        atomic_fetch_add(&sn->refs, 1);
    pthread_mutex_unlock(&a->mu);
    return sn;
}

/* Send sn's text, no copy: the response drops the reference when MHD is done with it. */
static enum MHD_Result send_snap(struct MHD_Connection *c, const char *type, snap *sn,
                                 const char *empty)
{
    struct MHD_Response *r;
    enum MHD_Result ret;

    if (sn == NULL)
        return reply(c, MHD_HTTP_OK, type, empty, strlen(empty));
    r = MHD_create_response_from_buffer_with_free_callback_cls(sn->len, sn->text, snap_unref, sn);
    if (r == NULL) {
        snap_unref(sn);
        return MHD_NO;
    }
    MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, type);
    MHD_add_response_header(r, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
    ret = MHD_queue_response(c, MHD_HTTP_OK, r);
    MHD_destroy_response(r);
    return ret;
}

/* /debug/state: ask the loop for a fresh one and wait for it (this connection's thread only). */
static enum MHD_Result debug_state(lt_admin *a, struct MHD_Connection *c)
{
    struct timespec until;
    uint64_t gen;
    bool fresh;
    snap *sn = NULL;
    int rc = 0;

    clock_gettime(CLOCK_REALTIME, &until);
    until.tv_sec += LT_ADMIN_STATE_WAIT_MS / 1000;
    until.tv_nsec += (LT_ADMIN_STATE_WAIT_MS % 1000) * 1000000L;
    if (until.tv_nsec >= 1000000000L) {
        until.tv_sec++;
        until.tv_nsec -= 1000000000L;
    }
    pthread_mutex_lock(&a->mu);
    gen = a->state_gen;
    atomic_store(&a->state_wanted, true);
    while (a->state_gen == gen && rc == 0)
        rc = pthread_cond_timedwait(&a->state_cv, &a->mu, &until);
    fresh = a->state_gen != gen;
    if (fresh && a->state != NULL) {
        sn = a->state;
        atomic_fetch_add(&sn->refs, 1);
    }
    pthread_mutex_unlock(&a->mu);
    if (!fresh)
        return text(c, MHD_HTTP_SERVICE_UNAVAILABLE,
                    "the loop did not build the state in time: try again\n");
    return send_snap(c, "application/json", sn, "{}");
}

static enum MHD_Result handle(void *cls, struct MHD_Connection *c, const char *url,
                              const char *method, const char *version, const char *upload,
                              size_t *upload_size, void **con_cls)
{
    lt_admin *a = cls;
    char why[300];

    (void)version;
    (void)upload;
    (void)upload_size;
    (void)con_cls;
    if (strcmp(url, "/livez") != 0 && strcmp(url, "/readyz") != 0 && strcmp(url, "/metrics") != 0 &&
        strcmp(url, "/debug/state") != 0)
        return text(c, MHD_HTTP_NOT_FOUND,
                    "not found: try /livez, /readyz, /metrics or /debug/state\n");
    if (strcmp(method, MHD_HTTP_METHOD_GET) != 0 && strcmp(method, MHD_HTTP_METHOD_HEAD) != 0)
        return text(c, MHD_HTTP_METHOD_NOT_ALLOWED, "method not allowed: use GET\n");
    if (strcmp(url, "/livez") == 0)
        return alive(a, why, sizeof(why)) ? text(c, MHD_HTTP_OK, "ok\n")
                                          : text(c, MHD_HTTP_SERVICE_UNAVAILABLE, why);
    if (strcmp(url, "/readyz") == 0)
        return readyz(a, c);
    if (strcmp(url, "/metrics") == 0)
        return send_snap(c, "text/plain; version=0.0.4; charset=utf-8", snap_ref(a, &a->metrics),
                         "");
    return debug_state(a, c);
}

lt_status lt_admin_start(lt_admin **new_a, const char *addr, int64_t stale_ms)
{
    lt_admin *a = NULL;
    int fd = -1;
    lt_status st;

    *new_a = NULL;
    if ((a = lt_calloc(1, sizeof(*a))) == NULL)
        return LT_FAIL(LT_ERR_NOMEM, "out of memory");
    pthread_mutex_init(&a->mu, NULL);
    pthread_cond_init(&a->state_cv, NULL);
    a->stale_ns = (stale_ms > 0 ? stale_ms : LT_ADMIN_STALE_MS) * INT64_C(1000000);
    atomic_store(&a->beat_ns, lt_hist_now_ns());
    if ((st = listen_on(a, addr, &fd)) != LT_OK)
        goto out;
    /* a thread per connection: a /debug/state request waiting for the loop holds up no other */
    a->mhd = MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_THREAD_PER_CONNECTION |
                                  MHD_USE_AUTO,
                              0, NULL, NULL, handle, a, MHD_OPTION_LISTEN_SOCKET, fd,
                              MHD_OPTION_CONNECTION_LIMIT, 64u, MHD_OPTION_CONNECTION_TIMEOUT, 10u,
                              MHD_OPTION_END);
    if (a->mhd == NULL) {
        close(fd);
        st = LT_FAIL(LT_ERR_IO, "cannot start the admin listener on %s", a->addr);
        goto out;
    }
    *new_a = a;
    a = NULL;
out:
    lt_admin_stop(a);
    return st;
}

void lt_admin_stop(lt_admin *a)
{
    if (a == NULL)
        return;
    if (a->mhd != NULL)
        MHD_stop_daemon(a->mhd); /* closes the listening socket */
    pthread_cond_destroy(&a->state_cv);
    pthread_mutex_destroy(&a->mu);
    snap_unref(a->metrics);
    snap_unref(a->state);
    lt_free(a);
}

const char *lt_admin_addr(const lt_admin *a)
{
    return a->addr;
}

void lt_admin_beat(lt_admin *a)
{
    atomic_store(&a->beat_ns, lt_hist_now_ns());
}

void lt_admin_publish(lt_admin *a, bool ready, const char *reason, lt_buf *metrics)
{
    snap *m = snap_new(metrics), *old;

    pthread_mutex_lock(&a->mu);
    old = a->metrics;
    a->metrics = m;
    a->published = true;
    a->ready = ready;
    snprintf(a->reason, sizeof(a->reason), "%s", reason != NULL ? reason : "not ready");
    pthread_mutex_unlock(&a->mu);
    snap_unref(old); /* responses still sending it keep it */
}

bool lt_admin_state_wanted(lt_admin *a)
{
    return atomic_load(&a->state_wanted);
}

void lt_admin_publish_state(lt_admin *a, lt_buf *state)
{
    snap *s = snap_new(state), *old;

    pthread_mutex_lock(&a->mu);
    old = a->state;
    a->state = s;
    a->state_gen++;
    atomic_store(&a->state_wanted, false);
    pthread_cond_broadcast(&a->state_cv);
    pthread_mutex_unlock(&a->mu);
    snap_unref(old);
}
