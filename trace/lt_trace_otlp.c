/*
 * lt_trace_otlp.c - the OTLP/HTTP JSON span exporter: a bounded queue filled
 * by any thread (never blocking), drained in batches by one thread that POSTs
 * them with libcurl.
 */
#include "lt_trace_otlp.h"

#include <curl/curl.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "lt_alloc.h"
#include "lt_buf.h"
#include "lt_config.h"
#include "lt_log.h"
#include "lt_utf8.h"

#define QUEUE_MAX 1024    /* spans waiting for export */
#define BATCH_MAX 256     /* spans per POST */
#define BATCH_WAIT_MS 200 /* a batch leaves this long after its first span at most */
#define POST_TIMEOUT_MS 2000
#define BODY_MAX (4u * 1024u * 1024u)

static struct {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    bool running, stopping;
    pthread_t thread;
    char *endpoint, *service;
    lt_trace_span *q; /* ring of QUEUE_MAX */
    size_t head, n;
    uint64_t dropped, failed;
} ex = { .mu = PTHREAD_MUTEX_INITIALIZER, .cv = PTHREAD_COND_INITIALIZER };

uint64_t lt_trace_now_ns(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_REALTIME, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* Copy src into dst (cap bytes, NUL included) whole UTF-8 characters at a time: what does not
 * fit is left out from the first character that would be cut; an invalid byte becomes '?'. */
static void copy_utf8(char *dst, size_t cap, const char *src)
{
    const unsigned char *p = (const unsigned char *)(src != NULL ? src : "");
    size_t left = strlen((const char *)p), n = 0;

    while (left > 0) {
        size_t k = lt_utf8_seq(p, left);

        if (n + (k > 0 ? k : 1) >= cap)
            break;
        if (k == 0) {
            dst[n++] = '?';
            k = 1;
        } else {
            memcpy(dst + n, p, k);
            n += k;
        }
        p += k;
        left -= k;
    }
    dst[n] = '\0';
}

void lt_trace_span_attr(lt_trace_span *s, int i, const char *key, const char *value)
{
    if (i < 0 || i >= LT_TRACE_MAX_ATTRS)
        return;
    copy_utf8(s->attrs[i].key, sizeof(s->attrs[i].key), key);
    copy_utf8(s->attrs[i].value, sizeof(s->attrs[i].value), value);
}

void lt_trace_span_name(lt_trace_span *s, const char *name)
{
    copy_utf8(s->name, sizeof(s->name), name);
}

static void hex(lt_buf *b, const uint8_t *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        LT_IGNORE(lt_buf_appendf(b, "%02x", p[i]));
}

static void encode_span(lt_buf *b, const lt_trace_span *s)
{
    static const uint8_t zero[8];

    LT_IGNORE(lt_buf_appends(b, "{\"traceId\":\""));
    hex(b, s->ctx.trace_id, 16);
    LT_IGNORE(lt_buf_appends(b, "\",\"spanId\":\""));
    hex(b, s->ctx.span_id, 8);
    if (memcmp(s->parent_span_id, zero, 8) != 0) {
        LT_IGNORE(lt_buf_appends(b, "\",\"parentSpanId\":\""));
        hex(b, s->parent_span_id, 8);
    }
    LT_IGNORE(lt_buf_appends(b, "\",\"name\":"));
    LT_IGNORE(lt_buf_json_str(b, s->name));
    LT_IGNORE(lt_buf_appendf(b,
                             ",\"kind\":%d,\"startTimeUnixNano\":\"%llu\","
                             "\"endTimeUnixNano\":\"%llu\",\"attributes\":[",
                             (int)s->kind, (unsigned long long)s->start_ns,
                             (unsigned long long)s->end_ns));
    for (int i = 0; i < LT_TRACE_MAX_ATTRS && s->attrs[i].key[0] != '\0'; i++) {
        LT_IGNORE(lt_buf_appends(b, i > 0 ? ",{\"key\":" : "{\"key\":"));
        LT_IGNORE(lt_buf_json_str(b, s->attrs[i].key));
        LT_IGNORE(lt_buf_appends(b, ",\"value\":{\"stringValue\":"));
        LT_IGNORE(lt_buf_json_str(b, s->attrs[i].value));
        LT_IGNORE(lt_buf_appends(b, "}}"));
    }
    LT_IGNORE(lt_buf_appendf(b, "],\"status\":{\"code\":%d}}", (int)s->status));
}

/* One ExportTraceServiceRequest of the n spans in batch. */
static lt_status encode(lt_buf *b, const lt_trace_span *batch, size_t n)
{
    LT_IGNORE(lt_buf_appends(b, "{\"resourceSpans\":[{\"resource\":{\"attributes\":[{\"key\":"
                                "\"service.name\",\"value\":{\"stringValue\":"));
    LT_IGNORE(lt_buf_json_str(b, ex.service));
    LT_IGNORE(lt_buf_appends(b, "}}]},\"scopeSpans\":[{\"scope\":{\"name\":\"latticed\","
                                "\"version\":\"" LT_VERSION "\"},\"spans\":["));
    for (size_t i = 0; i < n; i++) {
        if (i > 0)
            LT_IGNORE(lt_buf_appendc(b, ','));
        encode_span(b, &batch[i]);
    }
    return lt_buf_appends(b, "]}]}]}");
}

static size_t discard(char *p, size_t size, size_t n, void *ud)
{
    (void)p;
    (void)ud;
    return size * n;
}

/* POST one batch; false when the endpoint did not answer 2xx. */
static bool post(CURL *curl, const lt_trace_span *batch, size_t n)
{
    struct curl_slist *hdr = NULL;
    lt_buf body;
    long code = 0;
    bool ok = false;

    lt_buf_init(&body, BODY_MAX);
    if (encode(&body, batch, n) != LT_OK)
        goto out;
    hdr = curl_slist_append(NULL, "Content-Type: application/json");
    curl_easy_reset(curl);
    curl_easy_setopt(curl, CURLOPT_URL, ex.endpoint);
    curl_easy_setopt(curl, CURLOPT_HTTPHEADER, hdr);
    curl_easy_setopt(curl, CURLOPT_POSTFIELDS, body.ptr);
    curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE, (long)body.len);
    curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, (long)POST_TIMEOUT_MS);
    curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, discard);
    if (curl_easy_perform(curl) == CURLE_OK &&
        curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &code) == CURLE_OK && code >= 200 &&
        code < 300)
        ok = true;
out:
    curl_slist_free_all(hdr);
    lt_buf_cleanup(&body);
    return ok;
}

static void deadline_in(struct timespec *dl, long ms)
{
    clock_gettime(CLOCK_REALTIME, dl);
    dl->tv_nsec += ms * 1000000L;
    dl->tv_sec += dl->tv_nsec / 1000000000L;
    dl->tv_nsec %= 1000000000L;
}

static void *exporter_main(void *arg)
{
    lt_trace_span *batch = arg;
    CURL *curl = curl_easy_init();

    pthread_mutex_lock(&ex.mu);
    for (;;) {
        struct timespec dl;
        size_t n = 0;

        while (ex.n == 0 && !ex.stopping)
            pthread_cond_wait(&ex.cv, &ex.mu);
        if (ex.n == 0)
            break; /* stopping, nothing left */
        deadline_in(&dl, BATCH_WAIT_MS);
        while (ex.n < BATCH_MAX && !ex.stopping &&
               pthread_cond_timedwait(&ex.cv, &ex.mu, &dl) == 0) {
        }
        while (ex.n > 0 && n < BATCH_MAX) {
            batch[n++] = ex.q[ex.head];
            ex.head = (ex.head + 1) % QUEUE_MAX;
            ex.n--;
        }
        pthread_mutex_unlock(&ex.mu);
        if (curl == NULL || !post(curl, batch, n)) {
            pthread_mutex_lock(&ex.mu);
            ex.failed++;
            pthread_mutex_unlock(&ex.mu);
            LT_WARN("trace", "OTLP export of %zu spans to %s failed", n, ex.endpoint);
        }
        pthread_mutex_lock(&ex.mu);
        if (n > 0 && ex.stopping && ex.failed > 0 && ex.n > 0) {
            ex.dropped += ex.n; /* stopping and the endpoint fails: do not hold the exit */
            ex.n = 0;
        }
    }
    pthread_mutex_unlock(&ex.mu);
    curl_easy_cleanup(curl);
    return batch; /* lt_trace_otlp_stop frees it */
}

lt_status lt_trace_otlp_start(const char *endpoint, const char *service)
{
    lt_trace_span *batch = NULL;
    sigset_t all, old;
    lt_status st = LT_OK;

    if (endpoint == NULL ||
        (strncmp(endpoint, "http://", 7) != 0 && strncmp(endpoint, "https://", 8) != 0))
        return LT_FAIL(LT_ERR_INVALID, "--otlp-endpoint: an http:// or https:// URL is needed");
    pthread_mutex_lock(&ex.mu);
    if (ex.running) {
        st = LT_FAIL(LT_ERR_INVALID, "the OTLP exporter runs already");
        goto out;
    }
    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
        st = LT_FAIL(LT_ERR_IO, "libcurl did not initialise");
        goto out;
    }
    ex.endpoint = lt_strdup(endpoint);
    ex.service = lt_strdup(service != NULL ? service : "latticed");
    ex.q = lt_calloc(QUEUE_MAX, sizeof(*ex.q));
    batch = lt_calloc(BATCH_MAX, sizeof(*batch));
    if (ex.endpoint == NULL || ex.service == NULL || ex.q == NULL || batch == NULL) {
        st = LT_FAIL(LT_ERR_NOMEM, "OTLP exporter");
        goto out;
    }
    ex.head = ex.n = 0;
    ex.stopping = false;
    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, &old);
    if (pthread_create(&ex.thread, NULL, exporter_main, batch) != 0)
        st = LT_FAIL(LT_ERR_IO, "cannot start the OTLP exporter thread");
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    if (st == LT_OK) {
        ex.running = true;
        batch = NULL; /* the thread's */
    }
out:
    if (st != LT_OK && !ex.running) {
        lt_free(ex.endpoint);
        lt_free(ex.service);
        lt_free(ex.q);
        ex.endpoint = ex.service = NULL;
        ex.q = NULL;
    }
    pthread_mutex_unlock(&ex.mu);
    lt_free(batch);
    return st;
}

void lt_trace_otlp_stop(void)
{
    pthread_mutex_lock(&ex.mu);
    if (!ex.running) {
        pthread_mutex_unlock(&ex.mu);
        return;
    }
    ex.stopping = true;
    pthread_cond_broadcast(&ex.cv);
    pthread_mutex_unlock(&ex.mu);
    {
        void *batch = NULL; /* the thread's batch buffer, returned to be freed here */

        pthread_join(ex.thread, &batch);
        lt_free(batch);
    }
    pthread_mutex_lock(&ex.mu);
    ex.running = false;
    lt_free(ex.endpoint);
    lt_free(ex.service);
    lt_free(ex.q);
    ex.endpoint = ex.service = NULL;
    ex.q = NULL;
    pthread_mutex_unlock(&ex.mu);
    curl_global_cleanup();
}

bool lt_trace_otlp_enabled(void)
{
    bool on;

    pthread_mutex_lock(&ex.mu);
    on = ex.running && !ex.stopping;
    pthread_mutex_unlock(&ex.mu);
    return on;
}

void lt_trace_otlp_record(const lt_trace_span *s)
{
    if ((s->ctx.flags & 1) == 0)
        return; /* not sampled: the sender asked for no recording */
    pthread_mutex_lock(&ex.mu);
    if (ex.running && !ex.stopping) {
        if (ex.n == QUEUE_MAX) {
            ex.dropped++;
        } else {
            lt_trace_span *q = &ex.q[(ex.head + ex.n) % QUEUE_MAX];

            *q = *s;
            if (q->end_ns == 0)
                q->end_ns = lt_trace_now_ns();
            if (q->start_ns == 0 || q->start_ns > q->end_ns)
                q->start_ns = q->end_ns;
            if (++ex.n == 1 || ex.n == BATCH_MAX)
                pthread_cond_signal(&ex.cv);
        }
    }
    pthread_mutex_unlock(&ex.mu);
}

uint64_t lt_trace_otlp_dropped(void)
{
    uint64_t n;

    pthread_mutex_lock(&ex.mu);
    n = ex.dropped;
    pthread_mutex_unlock(&ex.mu);
    return n;
}

uint64_t lt_trace_otlp_failed(void)
{
    uint64_t n;

    pthread_mutex_lock(&ex.mu);
    n = ex.failed;
    pthread_mutex_unlock(&ex.mu);
    return n;
}
