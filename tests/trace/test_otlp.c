/*
 * test_otlp.c - the OTLP/HTTP JSON exporter against the test receiver
 * (otlp_recv.c, a real HTTP server on loopback): spans arrive batched with
 * their ids, parent, name, kind, times and attributes; recording never blocks
 * and counts what a full queue drops; a dead endpoint counts failed batches.
 */
#include <arpa/inet.h>
#include <check.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>
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
        c.error = k == 2;
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
                  (const TTest *const[]){ test_export_reaches_receiver,
                                          test_stuck_endpoint_drops_and_fails, NULL });
    return lt_test_run_suite(s);
}
