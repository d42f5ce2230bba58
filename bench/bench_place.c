/*
 * bench_place.c - the scheduler core's first placement pass on one core, without NATS: H hosts
 * heard (no instances), A apps of I instances deployed at once, then the one pass that places
 * them all. The sink packs every start batch into protobuf as the native driver does before
 * publishing, and keeps nothing. Prints the time of the deploys and of the pass, per instance,
 * the best and the median of R rounds (a fresh scheduler each). Not a test.
 *   bench_place [hosts=1000] [apps=100] [instances=100] [rounds=10]
 *   bench_place --smoke (20 hosts, 4 apps of 10, 2 rounds, any build type)
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "google/protobuf/timestamp.pb-c.h"
#include "latticed/host/v1/command.pb-c.h"
#include "lt_log.h"
#include "lt_model.h"
#include "lt_sched.h"
#include "bench_build.h"

typedef struct {
    size_t batches, items, bytes, statuses, events;
    uint8_t buf[1 << 20];
} sink_counts;

static double now_s(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* What svc_driver.c does with a start batch before publishing it: pack it, into a buffer
 * sized from the batch's items_bytes (no sizing pass over the items). */
static void on_send(void *arg, const lt_sched_batch *b)
{
    sink_counts *c = arg;
    Latticed__Host__V1__StartRequest sr = LATTICED__HOST__V1__START_REQUEST__INIT;

    c->batches++;
    c->items += b->count;
    if (b->verb != LT_SCHED_START)
        return;
    sr.epoch = 1, sr.lattice = "bench", sr.request_id = "bench-1";
    sr.n_instances = b->count, sr.instances = b->starts;
    if (b->items_bytes + b->count * 11 + 256 <= sizeof(c->buf))
        c->bytes += latticed__host__v1__start_request__pack(&sr, c->buf);
}

static void on_status(void *arg, const char *app, lt_sched_state state, const char *json)
{
    (void)app;
    (void)state;
    ((sink_counts *)arg)->statuses += json != NULL;
}

static void on_event(void *arg, const char *type, const ProtobufCMessage *msg)
{
    (void)type;
    (void)msg;
    ((sink_counts *)arg)->events++;
}

static int dbl_cmp(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;

    return x < y ? -1 : x > y;
}

/* One round: a fresh scheduler, the hosts, the deploys (timed), the pass (timed). */
static int round_once(size_t nh, size_t na, int ni, sink_counts *c, double *t_dep, double *t_pass)
{
    lt_sched_config cfg = { .lattice = "bench", .warmup_ms = -1, .inventory_ms = -1 };
    lt_sched_sink sink = { .arg = c, .send = on_send, .status = on_status, .event = on_event };
    Latticed__Host__V1__Heartbeat hb = LATTICED__HOST__V1__HEARTBEAT__INIT;
    Latticed__Host__V1__Capacity cap = LATTICED__HOST__V1__CAPACITY__INIT;
    Google__Protobuf__Timestamp started = GOOGLE__PROTOBUF__TIMESTAMP__INIT;
    lt_model **models = calloc(na, sizeof(*models));
    lt_sched *s = NULL;
    int64_t now = 1000;
    double t0;
    size_t h, a;
    int rc = 1;

    if (models == NULL || lt_sched_new(&s, &cfg, &sink, now) != LT_OK)
        goto out;
    started.seconds = 1700000000;
    hb.capacity = &cap;
    hb.started_at = &started;
    hb.interval_ms = 5000;
    for (h = 0; h < nh; h++) {
        char id[32];

        snprintf(id, sizeof(id), "s0-%05zu", h);
        hb.host_id = id;
        hb.sequence = 1;
        if (lt_sched_on_heartbeat(s, id, &hb, now) != LT_OK)
            goto out;
    }
    for (a = 0; a < na; a++) {
        char body[1024];

        snprintf(body, sizeof(body),
                 "{\"apiVersion\":\"core.oam.dev/v1beta1\",\"kind\":\"Application\","
                 "\"metadata\":{\"name\":\"app-%04zu\",\"annotations\":{\"version\":\"v1\"}},"
                 "\"spec\":{\"components\":[{\"name\":\"web\",\"type\":\"component\","
                 "\"properties\":{\"image\":\"ghcr.io/acme/web:1.0.0\"},\"traits\":[{\"type\":"
                 "\"spreadscaler\",\"properties\":{\"instances\":%d}}]}]}}",
                 a, ni);
        if (lt_model_parse(body, strlen(body), NULL, &models[a], NULL) != LT_OK)
            goto out;
    }
    lt_sched_set_leader(s, true, 1, now);
    lt_sched_set_apps_loaded(s, true);
    now += 10;
    t0 = now_s();
    for (a = 0; a < na; a++)
        if (lt_sched_deploy(s, models[a], now) != LT_OK)
            goto out;
    *t_dep = now_s() - t0;
    now += 1000; /* past the debounce */
    t0 = now_s();
    (void)lt_sched_tick(s, now);
    *t_pass = now_s() - t0;
    rc = 0;
out:
    lt_sched_free(s);
    for (a = 0; models != NULL && a < na; a++)
        lt_model_free(models[a]);
    free(models);
    return rc;
}

int main(int argc, char **argv)
{
    bool smoke = argc > 1 && strcmp(argv[1], "--smoke") == 0;
    size_t nh = smoke ? 20 : argc > 1 ? strtoul(argv[1], NULL, 10) : 1000;
    size_t na = smoke ? 4 : argc > 2 ? strtoul(argv[2], NULL, 10) : 100;
    int ni = smoke ? 10 : argc > 3 ? atoi(argv[3]) : 100;
    int rounds = smoke ? 2 : argc > 4 ? atoi(argv[4]) : 10, r;
    static sink_counts c;
    double *dep, *pass;

    if (!smoke && lt_bench_require_release("bench_place") != 0)
        return 2;
    if (nh == 0 || na == 0 || ni <= 0 || rounds <= 0) {
        fprintf(stderr, "usage: bench_place [hosts] [apps] [instances] [rounds]\n");
        return 2;
    }
    lt_log_configure(LT_LOG_WARN, false); /* not a line per deploy */
    dep = calloc((size_t)rounds, sizeof(double));
    pass = calloc((size_t)rounds, sizeof(double));
    if (dep == NULL || pass == NULL)
        return 1;
    for (r = 0; r < rounds; r++) {
        memset(&c, 0, offsetof(sink_counts, buf));
        if (round_once(nh, na, ni, &c, &dep[r], &pass[r]) != 0) {
            fprintf(stderr, "bench_place: round %d failed\n", r);
            return 1;
        }
        if (c.items != na * (size_t)ni) {
            fprintf(stderr, "bench_place: %zu of %zu instances placed\n", c.items, na * (size_t)ni);
            return 1;
        }
    }
    printf("first round: deploys %.2f ms, pass %.2f ms\n", dep[0] * 1e3, pass[0] * 1e3);
    qsort(dep, (size_t)rounds, sizeof(double), dbl_cmp);
    qsort(pass, (size_t)rounds, sizeof(double), dbl_cmp);
    printf("%zu hosts, %zu apps of %d instances: %zu start batches, %zu bytes packed, %zu "
           "statuses, %zu events\n",
           nh, na, ni, c.batches, c.bytes, c.statuses, c.events);
    printf("deploys: best %.2f ms, median %.2f ms\n", dep[0] * 1e3, dep[rounds / 2] * 1e3);
    printf("pass:    best %.2f ms, median %.2f ms (%.2f us per instance)\n", pass[0] * 1e3,
           pass[rounds / 2] * 1e3, pass[rounds / 2] * 1e6 / ((double)na * ni));
    free(dep);
    free(pass);
    return 0;
}
