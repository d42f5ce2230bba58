/*
 * test_e2e_trace.c - W3C trace context on the API (issue 13, "Traces"), end to
 * end with real processes: latticed started with --otlp-endpoint pointing at
 * the test's own OTLP/HTTP receiver (tests/trace/otlp_recv.c, loopback). An
 * API request carrying a traceparent header gets a span in that trace, whose
 * parent is the sender's span, exported over OTLP JSON; latticed's log lines
 * for the request carry its trace id; the wadm reply is unchanged. A request
 * without one (or with an invalid one: version ff) starts a new trace. A
 * deploy's trace reaches, through the store, the scheduler's host commands
 * (a span each, a child of the deploy's) and the host events they cause
 * (traceparent header, simulated hosts); the scheduler's log lines about the
 * work it caused carry its trace id.
 */
#include <check.h>
#include <errno.h>
#include <nats/nats.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "e2e.h"
#include "lt_alloc.h"
#include "lt_natsrv.h"
#include "lt_subject.h"
#include "lt_testhttp.h"
#include "otlp_recv.h"

#define TRACE_ERR "5bf92f3577b34da6a3ce929d0e0e4737"
#define TRACE_ID "4bf92f3577b34da6a3ce929d0e0e4736"
#define PARENT_ID "00f067aa0ba902b7"

/* model.get (the app list) on lattice with traceparent tp (NULL: none); the reply's "result". */
/* A request on subject with body, the traceparent tp under the header name hdr; its result. */
static void request_with(natsConnection *nc, const char *subject, const char *body, const char *hdr,
                         const char *tp, char *result, size_t size)
{
    natsMsg *m = NULL, *reply = NULL;
    json_t *doc;

    ck_assert_int_eq(natsMsg_Create(&m, subject, NULL, body, (int)strlen(body)), NATS_OK);
    if (tp != NULL)
        ck_assert_int_eq(natsMsgHeader_Set(m, hdr, tp), NATS_OK);
    ck_assert_int_eq(natsConnection_RequestMsg(&reply, nc, m, 10000), NATS_OK);
    doc = json_loadb(natsMsg_GetData(reply), (size_t)natsMsg_GetDataLength(reply), 0, NULL);
    ck_assert_ptr_nonnull(doc);
    snprintf(result, size, "%s", json_string_value(json_object_get(doc, "result")));
    json_decref(doc);
    natsMsg_Destroy(reply);
    natsMsg_Destroy(m);
}

static void list_with(natsConnection *nc, const char *lattice, const char *tp, char *result,
                      size_t size)
{
    char subject[128];

    snprintf(subject, sizeof(subject), "wadm.api.%s.model.get", lattice);
    request_with(nc, subject, "", "traceparent", tp, result, size);
}

typedef struct {
    otlp_recv *r;
    const char *trace_id; /* NULL: any span not in TRACE_ID */
    json_t *found;        /* a copy of the span */
} span_wait;

static bool span_seen(e2e *e, void *p)
{
    span_wait *w = p;
    json_t *spans = otlp_recv_spans(w->r, NULL), *sp;
    size_t i;

    (void)e;
    json_array_foreach (spans, i, sp) {
        const char *tid = json_string_value(json_object_get(sp, "traceId"));

        if (w->trace_id != NULL ? strcmp(tid, w->trace_id) == 0 : strcmp(tid, TRACE_ID) != 0) {
            w->found = json_deep_copy(sp);
            break;
        }
    }
    json_decref(spans);
    return w->found != NULL;
}

static const char *field(json_t *span, const char *key)
{
    const char *s = json_string_value(json_object_get(span, key));

    return s != NULL ? s : "";
}

START_TEST(test_api_request_span_and_logs)
{
    otlp_recv *r = otlp_recv_start();
    const char *extra[] = { "--otlp-endpoint", NULL, "--log-level", "debug", NULL };
    natsConnection *nc = NULL;
    char result[64];
    span_wait w = { 0 };
    e2e *e;
    pid_t pid;
    int bad = -1;

    ck_assert_ptr_nonnull(r);
    extra[1] = otlp_recv_url(r);
    e = e2e_new();
    pid = e2e_latticed(e, extra);
    ck_assert(e2e_wait_log(e, pid, "exporting spans to", 20000));
    ck_assert(e2e_wait_log(e, pid, "api: serving", 20000)); /* else: no responders yet */
    ck_assert_int_eq(natsConnection_ConnectTo(&nc, e2e_url(e)), NATS_OK);

    /* With a traceparent: the span continues the sender's trace, its parent the sender's. */
    list_with(nc, "trc", "00-" TRACE_ID "-" PARENT_ID "-01", result, sizeof(result));
    ck_assert_str_eq(result, "success"); /* wadm's reply, unchanged */
    w = (span_wait){ r, TRACE_ID, NULL };
    ck_assert_msg(e2e_wait(e, span_seen, &w, 20000), "no span with trace id " TRACE_ID);
    ck_assert_str_eq(field(w.found, "parentSpanId"), PARENT_ID);
    ck_assert_str_ne(field(w.found, "spanId"), PARENT_ID);
    ck_assert_str_eq(field(w.found, "name"), "model get");
    ck_assert_str_eq(field(w.found, "_service"), "latticed");
    ck_assert_int_eq(json_integer_value(json_object_get(w.found, "kind")), 2);
    json_decref(w.found);
    /* The request's log record carries the trace id. */
    ck_assert(e2e_wait_log(e, pid, "request wadm.api.trc.model.get trace_id=" TRACE_ID, 10000));

    /* An invalid traceparent (version ff) is ignored: a new trace, no parent. */
    list_with(nc, "trc", "ff-" TRACE_ID "-" PARENT_ID "-01", result, sizeof(result));
    ck_assert_str_eq(result, "success");
    w = (span_wait){ r, NULL, NULL };
    ck_assert_msg(e2e_wait(e, span_seen, &w, 20000), "no span of a new trace");
    ck_assert_uint_eq(strlen(field(w.found, "traceId")), 32);
    ck_assert_ptr_null(json_object_get(w.found, "parentSpanId"));
    json_decref(w.found);

    /* A request that fails, its header canonicalised by a client library ("Traceparent"):
     * still that trace, and the span's status is an error (OTLP code 2). */
    request_with(nc, "wadm.api.trc.model.put", "{", "Traceparent",
                 "00-" TRACE_ERR "-" PARENT_ID "-01", result, sizeof(result));
    ck_assert_str_eq(result, "error");
    w = (span_wait){ r, TRACE_ERR, NULL };
    ck_assert_msg(e2e_wait(e, span_seen, &w, 20000), "no span with trace id " TRACE_ERR);
    ck_assert_int_eq(json_integer_value(
                         json_object_get(json_object_get(w.found, "status"), "code")),
                     2);
    json_decref(w.found);

    json_decref(otlp_recv_spans(r, &bad));
    ck_assert_int_eq(bad, 0);
    natsConnection_Destroy(nc);
    e2e_free(e);
    otlp_recv_stop(r);
}
END_TEST

#define TRACE2 "0af7651916cd43dd8448eb211c80319c"
#define PARENT2 "b7ad6b7169203331"

/* Host events (or v2 requests) seen carrying a traceparent of TRACE2. */
typedef struct {
    pthread_mutex_t mu;
    int traced;
    char subject[256];
} ev_seen;

static void on_event(natsConnection *nc, natsSubscription *sub, natsMsg *m, void *closure)
{
    ev_seen *ev = closure;
    const char *tp = NULL;

    (void)nc;
    (void)sub;
    if (natsMsgHeader_Get(m, "traceparent", &tp) == NATS_OK && tp != NULL &&
        strncmp(tp, "00-" TRACE2 "-", 36) == 0) {
        pthread_mutex_lock(&ev->mu);
        ev->traced++;
        snprintf(ev->subject, sizeof(ev->subject), "%s", natsMsg_GetSubject(m));
        pthread_mutex_unlock(&ev->mu);
    }
    natsMsg_Destroy(m);
}

static bool events_traced(e2e *e, void *p)
{
    ev_seen *ev = p;
    bool ok;

    (void)e;
    pthread_mutex_lock(&ev->mu);
    ok = ev->traced > 0;
    pthread_mutex_unlock(&ev->mu);
    return ok;
}

typedef struct {
    otlp_recv *r;
    const char *name;
    const char *parent; /* the parentSpanId it must have */
} named_wait;

static bool named_span(e2e *e, void *p)
{
    named_wait *w = p;
    json_t *spans = otlp_recv_spans(w->r, NULL), *sp;
    size_t i;
    bool found = false;

    (void)e;
    json_array_foreach (spans, i, sp) {
        if (strcmp(field(sp, "traceId"), TRACE2) == 0 && strcmp(field(sp, "name"), w->name) == 0 &&
            strcmp(field(sp, "parentSpanId"), w->parent) == 0)
            found = true;
    }
    json_decref(spans);
    return found;
}

/* The deploy span's spanId (cap 17), "" until it arrives. */
static bool deploy_span_id(e2e *e, void *p)
{
    named_wait *w = p;
    json_t *spans = otlp_recv_spans(w->r, NULL), *sp;
    size_t i;

    (void)e;
    json_array_foreach (spans, i, sp) {
        if (strcmp(field(sp, "traceId"), TRACE2) == 0 &&
            strcmp(field(sp, "name"), "model deploy") == 0 &&
            strcmp(field(sp, "parentSpanId"), PARENT2) == 0)
            snprintf((char *)w->parent, 17, "%s", field(sp, "spanId"));
    }
    json_decref(spans);
    return ((char *)w->parent)[0] != '\0';
}

/* put manifest (no trace), then deploy it to lattice with traceparent tp: acknowledged. */
static void deploy_traced(e2e *e, natsConnection *nc, const char *lattice, const char *manifest,
                          const char *app, const char *tp)
{
    char *data = NULL, subj[256], body[128];
    size_t len = 0;
    natsMsg *m = NULL, *reply = NULL;
    json_t *put, *rep;

    ck_assert_int_eq(lt_test_read_file(e2e_manifest(manifest), 1u << 20, &data, &len), LT_OK);
    put = e2e_api(e, lattice, "put", NULL, data, len);
    free(data);
    snprintf(body, sizeof(body), "{\"version\":\"%s\"}",
             json_string_value(json_object_get(put, "current_version")));
    json_decref(put);
    snprintf(subj, sizeof(subj), "wadm.api.%s.model.deploy.%s", lattice, app);
    ck_assert_int_eq(natsMsg_Create(&m, subj, NULL, body, (int)strlen(body)), NATS_OK);
    ck_assert_int_eq(natsMsgHeader_Set(m, "traceparent", tp), NATS_OK);
    ck_assert_int_eq(natsConnection_RequestMsg(&reply, nc, m, 10000), NATS_OK);
    rep = json_loadb(natsMsg_GetData(reply), (size_t)natsMsg_GetDataLength(reply), 0, NULL);
    ck_assert_str_eq(json_string_value(json_object_get(rep, "result")), "acknowledged");
    json_decref(rep);
    natsMsg_Destroy(reply);
    natsMsg_Destroy(m);
}

START_TEST(test_deploy_trace_reaches_hosts)
{
    otlp_recv *r = otlp_recv_start();
    const char *extra[] = { "--otlp-endpoint", NULL, NULL };
    natsConnection *nc = NULL;
    natsSubscription *sub = NULL;
    ev_seen ev = { .mu = PTHREAD_MUTEX_INITIALIZER };
    char subj[256], deploy_id[17] = "";
    named_wait w;
    e2e *e;

    ck_assert_ptr_nonnull(r);
    extra[1] = otlp_recv_url(r);
    e = e2e_new();
    e2e_latticed(e, extra);
    e2e_hosts(e, "trc2", "th", 2, NULL, NULL);
    ck_assert_int_eq(natsConnection_ConnectTo(&nc, e2e_url(e)), NATS_OK);
    ck_assert_int_eq(lt_subject_events(subj, sizeof(subj), "lattice", "trc2"), LT_OK);
    ck_assert_int_eq(natsConnection_Subscribe(&sub, nc, subj, on_event, &ev), NATS_OK);
    ck_assert_int_eq(natsConnection_Flush(nc), NATS_OK);

    deploy_traced(e, nc, "trc2", "traced.yaml", "traced", "00-" TRACE2 "-" PARENT2 "-01");

    /* The API's span, a child of the sender's; the host command's, a child of the API's. */
    w = (named_wait){ r, NULL, deploy_id };
    ck_assert_msg(e2e_wait(e, deploy_span_id, &w, 20000), "no model deploy span");
    w = (named_wait){ r, "host start", deploy_id };
    ck_assert_msg(e2e_wait(e, named_span, &w, 30000), "no host start span under the deploy's");
    /* The simulated hosts' events for those commands carry the trace. */
    ck_assert_msg(e2e_wait(e, events_traced, &ev, 30000), "no host event with trace " TRACE2);
    pthread_mutex_lock(&ev.mu);
    ck_assert_msg(strstr(ev.subject, ".evt.h.th-") != NULL, "%s", ev.subject);
    pthread_mutex_unlock(&ev.mu);

    natsConnection_Close(nc); /* joins nats.c's reader: events still come (wire/lt_conn.h) */
    natsSubscription_Destroy(sub);
    natsConnection_Destroy(nc);
    e2e_free(e);
    otlp_recv_stop(r);
}
END_TEST

#define TRACE4 "1af7651916cd43dd8448eb211c80319d"

/* The line of latticed's log (process pid) that contains needle, into out; false if none. */
static bool log_line(e2e *e, pid_t pid, const char *needle, char *out, size_t cap)
{
    char *data = NULL;
    const char *p, *b, *end;
    size_t len = 0;
    bool found = false;

    if (lt_test_read_file(e2e_log_path(e, pid), 64u << 20, &data, &len) != LT_OK)
        return false;
    p = strstr(data, needle);
    if (p != NULL) {
        for (b = p; b > data && b[-1] != '\n'; b--) {
        }
        end = strchr(p, '\n');
        snprintf(out, cap, "%.*s", (int)(end != NULL ? end - b : (ptrdiff_t)strlen(b)), b);
        found = true;
    }
    free(data);
    return found;
}

static bool ends_with(const char *s, const char *tail)
{
    size_t n = strlen(s), k = strlen(tail);

    return n >= k && strcmp(s + n - k, tail) == 0;
}

/* Issue 13, "Every log line that belongs to a request carries its trace id": the scheduler's
 * lines about the work a traced deploy caused, on latticed's loop thread. The simulated host
 * refuses the app's image, so each start command fails; latticed logs the deploy and each
 * failure with the deploy's trace id, and lines about no app (the lattice served) with none. */
START_TEST(test_scheduler_lines_carry_deploy_trace)
{
    const char *refuse[] = { "--refuse-image", "traced-worker", NULL };
    natsConnection *nc = NULL;
    char line[2048];
    e2e *e;
    pid_t pid;

    e = e2e_new();
    pid = e2e_latticed(e, NULL);
    e2e_hosts(e, "trc4", "tr", 1, NULL, refuse);
    ck_assert_int_eq(natsConnection_ConnectTo(&nc, e2e_url(e)), NATS_OK);
    deploy_traced(e, nc, "trc4", "traced.yaml", "traced", "00-" TRACE4 "-" PARENT2 "-01");
    ck_assert_msg(e2e_wait_log(e, pid, "app traced component worker: failure 2 on host", 60000),
                  "no start failure logged");
    ck_assert(
        log_line(e, pid, "app traced component worker: failure 1 on host", line, sizeof(line)));
    ck_assert_msg(ends_with(line, " trace_id=" TRACE4), "%s", line);
    ck_assert_msg(strstr(line, "--refuse-image") != NULL, "%s", line); /* the host's reason */
    ck_assert(
        log_line(e, pid, "app traced component worker: failure 2 on host", line, sizeof(line)));
    ck_assert_msg(ends_with(line, " trace_id=" TRACE4), "%s", line);
    ck_assert(log_line(e, pid, "lattice trc4: app traced version v1 deployed", line, sizeof(line)));
    ck_assert_msg(ends_with(line, " trace_id=" TRACE4), "%s", line);
    ck_assert(log_line(e, pid, "serving lattice trc4", line, sizeof(line)));
    ck_assert_msg(strstr(line, "trace_id=") == NULL, "%s", line);

    natsConnection_Destroy(nc);
    e2e_free(e);
}
END_TEST

/* wasmCloud 2.x (docs/wasmcloud-v2.md): the workload.start requests of a traced deploy carry a
 * child of the deploy's span, exported as "host workload.start". Simulated v2 hosts. */
START_TEST(test_v2_start_carries_trace)
{
    otlp_recv *r = otlp_recv_start();
    const char *extra[] = { "--otlp-endpoint",
                            NULL,
                            "--wasmcloud-v2",
                            "trc3",
                            "--v2-heartbeat-ms",
                            "1000",
                            "--v2-status-interval-ms",
                            "1000",
                            NULL };
    const char *sim[] = { getenv("LATTICED_HOST_BIN"),
                          "--nats-url",
                          NULL,
                          "--simulate",
                          "2",
                          "--protocol",
                          "wasmcloud-v2",
                          "--id-prefix",
                          "tv",
                          "--environment",
                          "trc3",
                          "--heartbeat-interval",
                          "1s",
                          NULL };
    natsConnection *nc = NULL;
    natsSubscription *sub = NULL;
    ev_seen ev = { .mu = PTHREAD_MUTEX_INITIALIZER };
    char deploy_id[17] = "";
    named_wait w;
    e2e *e;

    ck_assert_ptr_nonnull(r);
    extra[1] = otlp_recv_url(r);
    e = e2e_new();
    sim[2] = e2e_url(e);
    e2e_spawn(e, "v2sim", sim);
    e2e_latticed(e, extra);
    ck_assert_int_eq(natsConnection_ConnectTo(&nc, e2e_url(e)), NATS_OK);
    ck_assert_int_eq(natsConnection_Subscribe(&sub, nc, "runtime.host.*.workload.start", on_event,
                                              &ev),
                     NATS_OK);
    ck_assert_int_eq(natsConnection_Flush(nc), NATS_OK);
    deploy_traced(e, nc, "trc3", "v2-shop-v1.yaml", "shop", "00-" TRACE2 "-" PARENT2 "-01");
    w = (named_wait){ r, NULL, deploy_id };
    ck_assert_msg(e2e_wait(e, deploy_span_id, &w, 20000), "no model deploy span");
    ck_assert_msg(e2e_wait(e, events_traced, &ev, 30000), "no workload.start with the trace");
    w = (named_wait){ r, "host workload.start", deploy_id };
    ck_assert_msg(e2e_wait(e, named_span, &w, 30000), "no host workload.start span");

    natsConnection_Close(nc); /* joins nats.c's reader: events still come (wire/lt_conn.h) */
    natsSubscription_Destroy(sub);
    natsConnection_Destroy(nc);
    e2e_free(e);
    otlp_recv_stop(r);
}
END_TEST

/* Logs never block the loop (issue 13, "Logs"): latticed's stderr is a pipe the test does not
 * read while 3,000 API requests each log a debug line of about 230 bytes (some 690 KB: far over
 * the 64 KiB pipe and the 256 KiB log buffer). Every request is still answered; once the test
 * reads the pipe, latticed reports the lines it dropped, and its admin listener's
 * latticed_log_lines_dropped_total counts them. A blocking logger stalls the API worker at the
 * first full pipe and the requests time out. */
START_TEST(test_full_stderr_pipe_keeps_serving)
{
    char name[121], subj[256], buf[65536];
    char *argv[] = { getenv("LATTICED_BIN"), "--nats-url", NULL, "--log-level", "debug",
                     "--http-admin",         NULL,         NULL };
    char admin[64];
    natsConnection *nc = NULL;
    lt_test_http_res res = { 0 };
    const char *metric;
    int errp[2], status = 0, port = 0;
    double dropped = -1;
    int http_status = 0;
    unsigned long long reported_n = 0;
    const char *hit;
    bool reported = false;
    int64_t end;
    pid_t pid;
    e2e *e;

    ck_assert_ptr_nonnull(argv[0]);
    e = e2e_new();
    argv[2] = (char *)e2e_url(e);
    ck_assert_int_eq(lt_natsrv_free_port(&port), LT_OK);
    snprintf(admin, sizeof(admin), "127.0.0.1:%d", port);
    argv[6] = admin;
    ck_assert_int_eq(pipe(errp), 0);
    pid = fork();
    ck_assert_int_ge(pid, 0);
    if (pid == 0) {
        int devnull = open("/dev/null", O_WRONLY);

        dup2(devnull, STDOUT_FILENO);
        dup2(errp[1], STDERR_FILENO);
        close(errp[0]);
        execv(argv[0], argv);
        _exit(127);
    }
    close(errp[1]);
    ck_assert_int_eq(natsConnection_ConnectTo(&nc, e2e_url(e)), NATS_OK);
    memset(name, 'a', sizeof(name) - 1);
    name[sizeof(name) - 1] = '\0';
    snprintf(subj, sizeof(subj), "wadm.api.trc.model.get.%s", name);
    for (int i = 0; i < 3000; i++) {
        natsMsg *reply = NULL;
        natsStatus st = natsConnection_RequestString(&reply, nc, subj, "", 10000);

        /* the first requests may find latticed not subscribed yet */
        for (int k = 0; st == NATS_NO_RESPONDERS && i == 0 && k < 200; k++) {
            e2e_sleep_ms(50);
            st = natsConnection_RequestString(&reply, nc, subj, "", 10000);
        }
        ck_assert_msg(st == NATS_OK, "request %d not answered: %s (the log blocked?)", i,
                      natsStatus_GetText(st));
        natsMsg_Destroy(reply);
    }
    /* Now read: the writer drains what it kept, then says how many lines it dropped. */
    fcntl(errp[0], F_SETFL, O_NONBLOCK);
    end = e2e_now_ms() + 20000;
    while (!reported && e2e_now_ms() < end) {
        struct pollfd p = { .fd = errp[0], .events = POLLIN };
        ssize_t n;

        if (poll(&p, 1, 200) <= 0)
            continue;
        n = read(errp[0], buf, sizeof(buf) - 1);
        if (n <= 0)
            break;
        buf[n] = '\0';
        if ((hit = strstr(buf, " log lines dropped: stderr could not keep up")) != NULL) {
            while (hit > buf && hit[-1] >= '0' && hit[-1] <= '9')
                hit--; /* the count the report gives */
            reported_n = strtoull(hit, NULL, 10);
            reported = true;
        }
    }
    /* The counter, asked until the admin endpoint answers (it may be slow on a loaded
     * machine): http_status says what the last try got. */
    end = e2e_now_ms() + 20000;
    while (dropped < 0 && e2e_now_ms() < end) {
        if (lt_test_http(admin, "GET", "/metrics", 10000, &res) == 0 && res.status == 200 &&
            (metric = strstr(res.body, "\nlatticed_log_lines_dropped_total ")) != NULL)
            dropped = strtod(metric + strlen("\nlatticed_log_lines_dropped_total "), NULL);
        http_status = res.status;
        lt_test_http_cleanup(&res);
        memset(&res, 0, sizeof(res));
        if (dropped < 0)
            e2e_sleep_ms(200);
    }
    kill(pid, SIGTERM);
    while (read(errp[0], buf, sizeof(buf)) > 0 ||
           (errno == EAGAIN && waitpid(pid, &status, WNOHANG) == 0))
        e2e_sleep_ms(10);
    waitpid(pid, &status, 0);
    close(errp[0]);
    natsConnection_Destroy(nc);
    e2e_free(e);
    ck_assert_msg(reported, "latticed did not report dropped log lines");
    ck_assert_msg(dropped > 0,
                  "latticed_log_lines_dropped_total %g (-1: not read; HTTP status %d); the log "
                  "reported %llu dropped",
                  dropped, http_status, reported_n);
    ck_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0);
}
END_TEST

int main(void)
{
    return e2e_run_suite("e2e_trace", 120,
                         (const TTest *const[]){
                             test_api_request_span_and_logs, test_deploy_trace_reaches_hosts,
                             test_scheduler_lines_carry_deploy_trace, test_v2_start_carries_trace,
                             test_full_stderr_pipe_keeps_serving, NULL });
}
