/*
 * test_otlp.c - the OTLP/HTTP JSON exporter against the test receiver
 * (otlp_recv.c, a real HTTP server on loopback): spans arrive batched with
 * their ids, parent, name, kind, times and attributes; recording never blocks
 * and counts what a full queue drops; a dead endpoint counts failed batches.
 * Spans are well-formed: status UNSET unless set, an end time always, a span
 * of a not-sampled context not exported, strings cut between UTF-8 characters.
 */
#include <arpa/inet.h>
#include <check.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>
#include <stdlib.h>
#include <string.h>

#include "lt_trace.h"
#include "lt_trace_otlp.h"
#include "lt_testutil.h"
#include "otlp_recv.h"

typedef struct {
    otlp_recv *r;
    size_t want;
} recv_wait;

static bool have_spans(void *p)
{
    recv_wait *w = p;
    json_t *s = otlp_recv_spans(w->r, NULL);
    bool ok = json_array_size(s) >= w->want;

    json_decref(s);
    return ok;
}

START_TEST(test_export_reaches_receiver)
{
    otlp_recv *r = otlp_recv_start();
    lt_trace_ctx root;
    lt_trace_span s = { 0 };
    char tid[LT_TRACE_ID_HEX], sid[LT_TRACE_SPAN_HEX];
    recv_wait w;
    json_t *spans, *sp;
    size_t i;
    int bad = -1, children = 0;

    ck_assert_ptr_nonnull(r);
    ck_assert_int_eq(lt_trace_otlp_start(otlp_recv_url(r), "test-svc"), LT_OK);
    ck_assert(lt_trace_otlp_enabled());
    ck_assert_int_eq(lt_trace_otlp_start(otlp_recv_url(r), "again"), LT_ERR_INVALID);
    lt_trace_new(&root);
    lt_trace_id_hex(&root, tid);
    lt_trace_span_hex(&root, sid);
    s.ctx = root;
    snprintf(s.name, sizeof(s.name), "model.deploy");
    s.kind = LT_TRACE_KIND_SERVER;
    s.start_ns = lt_trace_now_ns();
    s.end_ns = s.start_ns + 1000;
    lt_trace_span_attr(&s, 0, "lattice", "default");
    lt_trace_otlp_record(&s);
    for (int k = 0; k < 3; k++) {
        lt_trace_span c = s;

        lt_trace_child(&root, &c.ctx);
        memcpy(c.parent_span_id, root.span_id, 8);
        snprintf(c.name, sizeof(c.name), "host.start");
        c.kind = LT_TRACE_KIND_PRODUCER;
        c.status = k == 2 ? LT_TRACE_STATUS_ERROR : LT_TRACE_STATUS_UNSET;
        lt_trace_otlp_record(&c);
    }
    w = (recv_wait){ r, 4 };
    ck_assert_int_eq(lt_test_wait_until(have_spans, &w, 20000), LT_OK);
    lt_trace_otlp_stop();
    ck_assert(!lt_trace_otlp_enabled());
    spans = otlp_recv_spans(r, &bad);
    ck_assert_int_eq(bad, 0);
    ck_assert_uint_eq(json_array_size(spans), 4);
    json_array_foreach (spans, i, sp) {
        ck_assert_str_eq(json_string_value(json_object_get(sp, "traceId")), tid);
        ck_assert_str_eq(json_string_value(json_object_get(sp, "_service")), "test-svc");
        if (strcmp(json_string_value(json_object_get(sp, "name")), "host.start") == 0) {
            children++;
            ck_assert_str_eq(json_string_value(json_object_get(sp, "parentSpanId")), sid);
            ck_assert_int_eq(json_integer_value(json_object_get(sp, "kind")), 4);
        } else {
            ck_assert_str_eq(json_string_value(json_object_get(sp, "spanId")), sid);
            ck_assert_ptr_null(json_object_get(sp, "parentSpanId"));
            ck_assert_int_eq(json_integer_value(json_object_get(sp, "kind")), 2);
            ck_assert_str_eq(json_string_value(json_object_get(
                                 json_object_get(json_array_get(json_object_get(sp, "attributes"),
                                                                0),
                                                 "value"),
                                 "stringValue")),
                             "default");
        }
    }
    ck_assert_int_eq(children, 3);
    json_decref(spans);
    otlp_recv_stop(r);
}
END_TEST

static json_t *span_named(json_t *spans, const char *name)
{
    json_t *sp;
    size_t i;

    json_array_foreach (spans, i, sp) {
        if (strcmp(json_string_value(json_object_get(sp, "name")), name) == 0)
            return sp;
    }
    return NULL;
}

static long long status_code(json_t *sp)
{
    json_t *code = json_object_get(json_object_get(sp, "status"), "code");

    return code != NULL ? json_integer_value(code) : -1;
}

/* OTLP well-formedness: a span nobody marked has status UNSET (0), not OK; OK and ERROR when
 * set. A span recorded without an end time gets one (not 0, not before its start). A span of a
 * not-sampled context (traceparent flags 00) is not exported. A name or attribute value cut to
 * its field is cut between UTF-8 characters: the body stays valid JSON (jansson refuses invalid
 * UTF-8, the receiver would count it bad) and keeps the whole characters before the cut. */
START_TEST(test_spans_well_formed)
{
    static const char quiet_tp[] = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-00";
    otlp_recv *r = otlp_recv_start();
    lt_trace_ctx quiet;
    lt_trace_span q = { 0 }, s = { 0 }, ok, err;
    char value[200], name[100], want_value[160], want_name[64];
    recv_wait w;
    json_t *spans, *sp;
    const char *got;
    unsigned long long start, end;
    int bad = -1;

    ck_assert_ptr_nonnull(r);
    ck_assert_int_eq(lt_trace_otlp_start(otlp_recv_url(r), "test-svc"), LT_OK);
    /* not sampled, recorded first: had it been queued it would leave before the others */
    ck_assert_int_eq(lt_trace_parse(quiet_tp, strlen(quiet_tp), &quiet), LT_OK);
    lt_trace_child(&quiet, &q.ctx);
    lt_trace_span_name(&q, "quiet");
    q.start_ns = lt_trace_now_ns();
    q.end_ns = q.start_ns + 1;
    lt_trace_otlp_record(&q);

    /* 158 ASCII bytes then a 2-byte character: the value field holds 159 bytes */
    memset(value, 'v', 158);
    memcpy(value + 158, "\xc3\xa9", 3);
    /* 62 ASCII bytes then a 3-byte character (the euro sign): the name field holds 63 */
    memset(name, 'n', 62);
    memcpy(name + 62, "\xe2\x82\xac", 4);
    lt_trace_new(&s.ctx);
    lt_trace_span_name(&s, name);
    lt_trace_span_attr(&s, 0, "cut", value);
    lt_trace_span_attr(&s, 1, "bad", "a\xff\xc3z"); /* invalid bytes: '?' */
    s.start_ns = lt_trace_now_ns();
    s.end_ns = 0; /* never ended by its caller */
    lt_trace_otlp_record(&s);
    ok = s;
    lt_trace_span_name(&ok, "ok");
    ok.status = LT_TRACE_STATUS_OK;
    ok.end_ns = ok.start_ns + 5;
    lt_trace_otlp_record(&ok);
    err = ok;
    lt_trace_span_name(&err, "err");
    err.status = LT_TRACE_STATUS_ERROR;
    lt_trace_otlp_record(&err);

    w = (recv_wait){ r, 3 };
    ck_assert_int_eq(lt_test_wait_until(have_spans, &w, 20000), LT_OK);
    lt_trace_otlp_stop(); /* sends anything still queued */
    spans = otlp_recv_spans(r, &bad);
    ck_assert_int_eq(bad, 0);
    ck_assert_uint_eq(json_array_size(spans), 3);
    ck_assert_ptr_null(span_named(spans, "quiet"));

    memset(want_name, 'n', 62);
    want_name[62] = '\0';
    sp = span_named(spans, want_name);
    ck_assert_ptr_nonnull(sp);
    ck_assert_int_eq(status_code(sp), 0);
    start = strtoull(json_string_value(json_object_get(sp, "startTimeUnixNano")), NULL, 10);
    end = strtoull(json_string_value(json_object_get(sp, "endTimeUnixNano")), NULL, 10);
    ck_assert_uint_ne(end, 0);
    ck_assert_uint_ge(end, start);
    memset(want_value, 'v', 158);
    want_value[158] = '\0';
    got = json_string_value(
        json_object_get(json_object_get(json_array_get(json_object_get(sp, "attributes"), 0),
                                        "value"),
                        "stringValue"));
    ck_assert_str_eq(got, want_value);
    got = json_string_value(
        json_object_get(json_object_get(json_array_get(json_object_get(sp, "attributes"), 1),
                                        "value"),
                        "stringValue"));
    ck_assert_str_eq(got, "a??z");
    ck_assert_int_eq(status_code(span_named(spans, "ok")), 1);
    ck_assert_int_eq(status_code(span_named(spans, "err")), 2);
    json_decref(spans);
    otlp_recv_stop(r);
}
END_TEST

/* An endpoint that accepts connections and never answers: the exporter is stuck in its POST
 * (2 s timeout), recording stays instant, the queue's overflow is counted as dropped and the
 * timed-out POSTs as failed; stop returns. Recording with no exporter is a no-op. */
START_TEST(test_stuck_endpoint_drops_and_fails)
{
    lt_trace_span s = { 0 };
    struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
    socklen_t alen = sizeof(a);
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    char url[64];
    uint64_t t0;

    lt_trace_otlp_record(&s); /* no exporter: nothing */
    ck_assert_uint_eq(lt_trace_otlp_dropped(), 0);
    ck_assert_int_eq(lt_trace_otlp_start("ftp://x", NULL), LT_ERR_INVALID);
    ck_assert_int_ge(fd, 0);
    ck_assert_int_eq(bind(fd, (struct sockaddr *)&a, sizeof(a)), 0);
    ck_assert_int_eq(listen(fd, 16), 0); /* the kernel accepts; nobody reads */
    ck_assert_int_eq(getsockname(fd, (struct sockaddr *)&a, &alen), 0);
    snprintf(url, sizeof(url), "http://127.0.0.1:%d/v1/traces", ntohs(a.sin_port));
    ck_assert_int_eq(lt_trace_otlp_start(url, NULL), LT_OK);
    lt_trace_new(&s.ctx);
    snprintf(s.name, sizeof(s.name), "x");
    lt_trace_otlp_record(&s);
    usleep(400000); /* past the batch wait: the first POST is under way, and stuck */
    t0 = lt_trace_now_ns();
    for (int i = 0; i < 5000; i++)
        lt_trace_otlp_record(&s);
    ck_assert_uint_lt(lt_trace_now_ns() - t0, 1000000000u); /* 5000 records in well under 1 s */
    ck_assert_uint_eq(lt_trace_otlp_dropped(), 5000 - 1024);
    lt_trace_otlp_stop();
    ck_assert_uint_ge(lt_trace_otlp_failed(), 1);
    close(fd);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("otlp");

    lt_test_tcase(s, "otlp", 90,
                  (const TTest *const[]){ test_export_reaches_receiver, test_spans_well_formed,
                                          test_stuck_endpoint_drops_and_fails, NULL });
    return lt_test_run_suite(s);
}
