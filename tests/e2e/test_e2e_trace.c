/*
 * test_e2e_trace.c - W3C trace context on the API (issue 13, "Traces"), end to
 * end with real processes: latticed started with --otlp-endpoint pointing at
 * the test's own OTLP/HTTP receiver (tests/trace/otlp_recv.c, loopback). An
 * API request carrying a traceparent header gets a span in that trace, whose
 * parent is the sender's span, exported over OTLP JSON; latticed's log lines
 * for the request carry its trace id; the wadm reply is unchanged. A request
 * without one (or with an invalid one: version ff) starts a new trace.
 */
#include <check.h>
#include <nats/nats.h>
#include <stdio.h>
#include <string.h>

#include "e2e.h"
#include "otlp_recv.h"

#define TRACE_ID "4bf92f3577b34da6a3ce929d0e0e4736"
#define PARENT_ID "00f067aa0ba902b7"

/* model.get (the app list) on lattice with traceparent tp (NULL: none); the reply's "result". */
static void list_with(natsConnection *nc, const char *lattice, const char *tp, char *result,
                      size_t size)
{
    char subject[128];
    natsMsg *m = NULL, *reply = NULL;
    json_t *doc;

    snprintf(subject, sizeof(subject), "wadm.api.%s.model.get", lattice);
    ck_assert_int_eq(natsMsg_Create(&m, subject, NULL, "", 0), NATS_OK);
    if (tp != NULL)
        ck_assert_int_eq(natsMsgHeader_Set(m, "traceparent", tp), NATS_OK);
    ck_assert_int_eq(natsConnection_RequestMsg(&reply, nc, m, 10000), NATS_OK);
    doc = json_loadb(natsMsg_GetData(reply), (size_t)natsMsg_GetDataLength(reply), 0, NULL);
    ck_assert_ptr_nonnull(doc);
    snprintf(result, size, "%s", json_string_value(json_object_get(doc, "result")));
    json_decref(doc);
    natsMsg_Destroy(reply);
    natsMsg_Destroy(m);
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
    json_array_foreach(spans, i, sp)
    {
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

    json_decref(otlp_recv_spans(r, &bad));
    ck_assert_int_eq(bad, 0);
    natsConnection_Destroy(nc);
    e2e_free(e);
    otlp_recv_stop(r);
}
END_TEST

int main(void)
{
    return e2e_run_suite("e2e_trace", 120,
                         (const TTest *const[]){ test_api_request_span_and_logs, NULL });
}
