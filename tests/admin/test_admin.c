/*
 * test_admin.c - admin/: the Prometheus text writer (HELP/TYPE, label value
 * escaping, cumulative histogram buckets ending in +Inf, _sum/_count), the
 * lock-free histogram, the address parser, and the listener itself on a free
 * loopback port (every endpoint, 404, 405, a stale heartbeat failing /livez).
 */
#include <check.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "lt_admin.h"
#include "lt_testhttp.h"
#include "lt_testutil.h"

START_TEST(test_prom_escape)
{
    lt_buf b;
    lt_admin_label l[2] = { { "op", "a\"b\\c\nd" }, { "result", "ok" } };

    lt_buf_init(&b, 4096);
    lt_admin_prom_family(&b, "x_total", "counter", "line\\one\ntwo");
    lt_admin_prom_sample(&b, "x_total", l, 2, 3);
    lt_admin_prom_sample(&b, "y", NULL, 0, 0.25);
    lt_admin_prom_sample(&b, "z", NULL, 0, 0.001);
    ck_assert_int_eq(lt_buf_status(&b), LT_OK);
    ck_assert_str_eq(b.ptr, "# HELP x_total line\\\\one\\ntwo\n"
                            "# TYPE x_total counter\n"
                            "x_total{op=\"a\\\"b\\\\c\\nd\",result=\"ok\"} 3\n"
                            "y 0.25\n"
                            "z 0.001\n");
    lt_buf_cleanup(&b);
}
END_TEST

START_TEST(test_prom_hist)
{
    static const double bounds[] = { 0.01, 0.1, 1 };
    lt_hist h;
    lt_hist_snap snap;
    lt_buf b;
    lt_admin_label l = { "op", "put" };

    lt_hist_init(&h, bounds, 3);
    lt_hist_observe_ns(&h, 5000000);    /* 5 ms: <= 0.01 */
    lt_hist_observe_ns(&h, 10000000);   /* 10 ms: on the bound, still <= 0.01 */
    lt_hist_observe_ns(&h, 500000000);  /* 0.5 s: <= 1 */
    lt_hist_observe_ns(&h, 3000000000); /* 3 s: +Inf only */
    lt_hist_read(&h, &snap);
    ck_assert_uint_eq(snap.count, 4);
    lt_buf_init(&b, 4096);
    lt_admin_prom_hist(&b, "d_seconds", &l, 1, &snap);
    ck_assert_int_eq(lt_buf_status(&b), LT_OK);
    ck_assert_str_eq(b.ptr, "d_seconds_bucket{op=\"put\",le=\"0.01\"} 2\n"
                            "d_seconds_bucket{op=\"put\",le=\"0.1\"} 2\n"
                            "d_seconds_bucket{op=\"put\",le=\"1\"} 3\n"
                            "d_seconds_bucket{op=\"put\",le=\"+Inf\"} 4\n"
                            "d_seconds_sum{op=\"put\"} 3.515\n"
                            "d_seconds_count{op=\"put\"} 4\n");
    lt_buf_cleanup(&b);
    /* all-zero memory: the default bounds, no label */
    memset(&h, 0, sizeof(h));
    lt_hist_observe_ns(&h, -5);
    lt_hist_read(&h, &snap);
    ck_assert_uint_eq(snap.n, LT_HIST_DEFAULT_N);
    ck_assert_uint_eq(snap.cumulative[0], 1);
    lt_buf_init(&b, 4096);
    lt_admin_prom_hist(&b, "e_seconds", NULL, 0, &snap);
    ck_assert_ptr_nonnull(strstr(b.ptr, "e_seconds_bucket{le=\"+Inf\"} 1\ne_seconds_sum 0\n"));
    lt_buf_cleanup(&b);
}
END_TEST

START_TEST(test_parse_addr)
{
    char host[64];
    unsigned port = 1;

    ck_assert_int_eq(lt_admin_parse_addr("127.0.0.1:9090", host, sizeof(host), &port), LT_OK);
    ck_assert_str_eq(host, "127.0.0.1");
    ck_assert_uint_eq(port, 9090);
    ck_assert_int_eq(lt_admin_parse_addr(":0", host, sizeof(host), &port), LT_OK);
    ck_assert_str_eq(host, "");
    ck_assert_uint_eq(port, 0);
    ck_assert_int_eq(lt_admin_parse_addr("[::1]:80", host, sizeof(host), &port), LT_OK);
    ck_assert_str_eq(host, "::1");
    ck_assert_int_eq(lt_admin_parse_addr("localhost", host, sizeof(host), &port), LT_ERR_INVALID);
    ck_assert_int_eq(lt_admin_parse_addr("h:99999", host, sizeof(host), &port), LT_ERR_INVALID);
    ck_assert_int_eq(lt_admin_parse_addr("h:", host, sizeof(host), &port), LT_ERR_INVALID);
    ck_assert_int_eq(lt_admin_parse_addr("h:-1", host, sizeof(host), &port), LT_ERR_INVALID);
    ck_assert_int_eq(lt_admin_parse_addr("::1:80", host, sizeof(host), &port), LT_ERR_INVALID);
    ck_assert_int_eq(lt_admin_parse_addr("[::1]80", host, sizeof(host), &port), LT_ERR_INVALID);
}
END_TEST

static int get(const lt_admin *a, const char *method, const char *path, lt_test_http_res *r)
{
    lt_test_http_cleanup(r);
    ck_assert_int_eq(lt_test_http(lt_admin_addr(a), method, path, 10000, r), 0);
    return r->status;
}

/* A stand-in for the daemon's loop: publishes {"x":N} whenever a /debug/state request waits. */
typedef struct {
    lt_admin *a;
    atomic_bool stop;
    int built;
} state_loop;

static void *state_loop_run(void *arg)
{
    state_loop *l = arg;

    while (!atomic_load(&l->stop)) {
        if (lt_admin_state_wanted(l->a)) {
            lt_buf b;

            lt_buf_init(&b, 1024);
            LT_IGNORE(lt_buf_appendf(&b, "{\"x\":%d}", ++l->built));
            lt_admin_publish_state(l->a, &b);
            lt_buf_cleanup(&b);
        }
        lt_test_sleep_ms(20);
    }
    return NULL;
}

START_TEST(test_listener)
{
    state_loop sl = { 0 };
    pthread_t th;
    lt_admin *a = NULL;
    lt_test_http_res r = { 0 };
    lt_buf m;

    ck_assert_int_eq(lt_admin_start(&a, "127.0.0.1:0", 700), LT_OK);
    ck_assert_str_ne(lt_admin_addr(a), "127.0.0.1:0");
    ck_assert_int_eq(get(a, "GET", "/livez", &r), 200);
    ck_assert_int_eq(get(a, "GET", "/readyz", &r), 503);
    ck_assert_str_eq(r.body, "starting\n");
    lt_buf_init(&m, 1024);
    LT_IGNORE(lt_buf_appends(&m, "# TYPE a gauge\na 1\n"));
    lt_admin_publish(a, false, "NATS disconnected", &m);
    ck_assert_uint_eq(m.len, 0);
    /* /debug/state is built only when asked: nobody asked yet */
    ck_assert(!lt_admin_state_wanted(a));
    sl.a = a;
    ck_assert_int_eq(pthread_create(&th, NULL, state_loop_run, &sl), 0);
    ck_assert_int_eq(get(a, "GET", "/readyz", &r), 503);
    ck_assert_str_eq(r.body, "NATS disconnected\n");
    ck_assert_int_eq(get(a, "GET", "/metrics", &r), 200);
    ck_assert_str_eq(r.body, "# TYPE a gauge\na 1\n");
    ck_assert_ptr_nonnull(strstr(r.headers, "text/plain; version=0.0.4"));
    /* each request gets a state built after it asked */
    ck_assert_int_eq(get(a, "GET", "/debug/state", &r), 200);
    ck_assert_ptr_nonnull(strstr(r.headers, "application/json"));
    ck_assert_str_eq(r.body, "{\"x\":1}");
    ck_assert(!lt_admin_state_wanted(a));
    ck_assert_int_eq(get(a, "GET", "/debug/state", &r), 200);
    ck_assert_str_eq(r.body, "{\"x\":2}");
    atomic_store(&sl.stop, true);
    pthread_join(th, NULL);
    ck_assert_int_eq(sl.built, 2); /* only when asked */
    /* the metrics text a response holds outlives the next publish */
    LT_IGNORE(lt_buf_appends(&m, "# TYPE b gauge\nb 2\n"));
    lt_admin_publish(a, true, NULL, &m);
    ck_assert_int_eq(get(a, "GET", "/metrics", &r), 200);
    ck_assert_str_eq(r.body, "# TYPE b gauge\nb 2\n");
    ck_assert_int_eq(get(a, "GET", "/readyz", &r), 200);
    ck_assert_int_eq(get(a, "GET", "/nope", &r), 404);
    ck_assert_int_eq(get(a, "POST", "/metrics", &r), 405);
    ck_assert_int_eq(get(a, "DELETE", "/livez", &r), 405);
    /* no beat for longer than stale_ms (700): /livez and /readyz fail */
    lt_test_sleep_ms(1200);
    ck_assert_int_eq(get(a, "GET", "/livez", &r), 503);
    ck_assert_ptr_nonnull(strstr(r.body, "loop stalled"));
    ck_assert_int_eq(get(a, "GET", "/readyz", &r), 503);
    lt_admin_beat(a);
    ck_assert_int_eq(get(a, "GET", "/livez", &r), 200);
    ck_assert_int_eq(get(a, "GET", "/readyz", &r), 200);
    /* nobody builds the state (a stalled loop): 503 after LT_ADMIN_STATE_WAIT_MS, still wanted */
    ck_assert_int_eq(get(a, "GET", "/debug/state", &r), 503);
    ck_assert_ptr_nonnull(strstr(r.body, "did not build the state"));
    ck_assert(lt_admin_state_wanted(a));
    lt_test_http_cleanup(&r);
    lt_buf_cleanup(&m);
    lt_admin_stop(a);
}
END_TEST

START_TEST(test_listen_errors)
{
    lt_admin *a = NULL, *b = NULL;
    char addr[64];

    ck_assert_int_eq(lt_admin_start(&a, "nonsense", 0), LT_ERR_INVALID);
    ck_assert_ptr_null(a);
    ck_assert_int_eq(lt_admin_start(&a, "127.0.0.1:0", 0), LT_OK);
    snprintf(addr, sizeof(addr), "%s", lt_admin_addr(a));
    ck_assert_int_eq(lt_admin_start(&b, addr, 0), LT_ERR_IO); /* port in use */
    ck_assert_ptr_null(b);
    lt_admin_stop(a);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("admin");

    lt_test_tcase(s, "all", 60,
                  (const TTest *const[]){ test_prom_escape, test_prom_hist, test_parse_addr,
                                          test_listener, test_listen_errors, NULL });
    return lt_test_run_suite(s);
}
