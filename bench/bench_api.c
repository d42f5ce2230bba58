/*
 * bench_api.c - latticed's wadm API under load (issue 11): with N apps stored, the sequential
 * latency of put, deploy, status, get and list next to two floors measured in the same run on
 * the same nats-server (a JetStream KV put, and a request/reply to a trivial responder of our
 * own), then C deploys sent at once (time to the last reply, rate). Every reply's result word
 * is checked; a wrong one fails the run (exit 1), slowness never does.
 *   bench_api [--apps 1000[,10000]] [--requests 200] [--list-requests 50] [--concurrent 1000]
 *             [--json FILE] [--smoke] LATTICED
 */
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "lt_alloc.h"
#include "lt_conn.h"
#include "lt_natsrv.h"
#include "lt_subject.h"
#include "lt_bench.h"
#include "bench_build.h"

#define LATTICE "default"
#define MAX_SERIES 4

enum {
    OP_PUT,
    OP_DEPLOY,
    OP_STATUS,
    OP_GET,
    OP_LIST,
    FLOOR_KV,
    FLOOR_REQ,
    FLOOR_LIST,
    N_MEAS
};
static const char *const meas_name[N_MEAS] = {
    "put", "deploy", "status", "get", "list", "floor_kv_put", "floor_request", "floor_list_reply"
};

typedef struct {
    int apps;
    lt_bench_stats st[N_MEAS];
    int64_t conc_ms; /* C deploys at once: first sent to last reply */
    int conc_n, conc_ok;
} series;

static int failures;
static int put_seq;
static size_t list_bytes; /* of the last list reply (sequential) */

static void fail(const char *what, int i)
{
    if (failures++ < 10)
        fprintf(stderr, "bench_api: wrong result: %s #%d\n", what, i);
}

/* ---- pipelined replies (storing apps, the concurrent deploys) ----------------------------- */

static atomic_int n_replies, n_ok;
static atomic_llong last_reply_us;
static const char *want_result;

static void on_reply(natsConnection *nc, natsSubscription *sub, natsMsg *msg, void *closure)
{
    char want[64];

    (void)nc, (void)sub, (void)closure;
    snprintf(want, sizeof(want), "\"result\":\"%s\"", want_result);
    if (strstr(natsMsg_GetData(msg), want) != NULL)
        atomic_fetch_add(&n_ok, 1);
    atomic_store(&last_reply_us, lt_bench_now_us());
    atomic_fetch_add(&n_replies, 1);
    natsMsg_Destroy(msg);
}

/* Send requests [from, to) built by make(i) with at most window in flight; wait for every reply
 * (60 s). Returns the replies whose result was want. */
static int pipeline(natsConnection *nc, int from, int to, int window, const char *want,
                    void (*make)(int i, char *subj, size_t sc, char *body, size_t bc))
{
    natsSubscription *sub = NULL;
    char subj[256], rep[64], *body = lt_malloc(4096);
    int i, sent = 0;
    int64_t t0;

    want_result = want;
    atomic_store(&n_replies, 0);
    atomic_store(&n_ok, 0);
    if (body == NULL ||
        natsConnection_Subscribe(&sub, nc, "bench.pipe.*", on_reply, NULL) != NATS_OK)
        goto out;
    natsSubscription_SetPendingLimits(sub, -1, -1);
    natsConnection_Flush(nc);
    for (i = from; i < to; i++, sent++) {
        t0 = lt_bench_now_ms();
        while (window > 0 && sent - atomic_load(&n_replies) >= window &&
               lt_bench_now_ms() - t0 < 30000)
            lt_bench_sleep_ms(1);
        make(i, subj, sizeof(subj), body, 4096);
        snprintf(rep, sizeof(rep), "bench.pipe.%d", i);
        natsConnection_PublishRequestString(nc, subj, rep, body);
    }
    natsConnection_Flush(nc);
    t0 = lt_bench_now_ms();
    while (atomic_load(&n_replies) < sent && lt_bench_now_ms() - t0 < 60000)
        lt_bench_sleep_ms(1);
out:
    lt_conn_sub_free(nc, sub, LT_CONN_SETTLE_MS); /* late replies may come: wire/lt_conn.h */
    lt_free(body);
    return atomic_load(&n_ok);
}

static void app_name(int i, char *out, size_t cap)
{
    snprintf(out, cap, "app-%05d", i);
}

static void make_put(int i, char *subj, size_t sc, char *body, size_t bc)
{
    char name[32];

    app_name(i, name, sizeof(name));
    LT_IGNORE(lt_subject_api(subj, sc, LT_SUBJECT_API_PREFIX, LATTICE, "put", NULL));
    lt_bench_manifest(body, bc, name, "v0", 2);
}

static void make_deploy(int i, char *subj, size_t sc, char *body, size_t bc)
{
    char name[32];

    app_name(i, name, sizeof(name));
    LT_IGNORE(lt_subject_api(subj, sc, LT_SUBJECT_API_PREFIX, LATTICE, "deploy", name));
    snprintf(body, bc, "%s", "");
}

/* ---- sequential latencies ------------------------------------------------------------------ */

static int list_count(natsMsg *r)
{
    json_t *j = json_loadb(natsMsg_GetData(r), (size_t)natsMsg_GetDataLength(r), 0, NULL);
    int n = j != NULL && json_is_array(json_object_get(j, "models"))
                ? (int)json_array_size(json_object_get(j, "models"))
                : -1;

    json_decref(j);
    return n;
}

/* R requests of op, one at a time, on apps k % apps; samples in us. */
static void sequential(natsConnection *nc, int op, int apps, int r, int64_t *us,
                       lt_bench_stats *out)
{
    static const char *const api_op[] = { "put", "deploy", "status", "get", "get" };
    static const char *const want[] = { "newversion", "acknowledged", "ok", "success", "success" };
    char name[32], body[1024], ver[32];
    int k;

    for (k = 0; k < r; k++) {
        natsMsg *reply = NULL;
        bool ok;

        app_name(k % apps, name, sizeof(name));
        body[0] = '\0';
        if (op == OP_PUT) {
            snprintf(ver, sizeof(ver), "p%d", ++put_seq);
            lt_bench_manifest(body, sizeof(body), name, ver, 2);
        }
        ok = lt_bench_api(nc, LATTICE, api_op[op], op == OP_PUT || op == OP_LIST ? NULL : name,
                          body, 10000, want[op], op == OP_LIST ? &reply : NULL);
        us[k] = lt_bench_api_rtt_us(); /* the round trip: the reply is checked after it */
        if (ok && op == OP_LIST)
            list_bytes = (size_t)natsMsg_GetDataLength(reply);
        if (ok && op == OP_LIST && list_count(reply) != apps) {
            if (failures < 10)
                fprintf(stderr, "bench_api: the list has %d apps, not %d\n", list_count(reply),
                        apps);
            ok = false;
        }
        if (!ok && reply != NULL && failures < 10)
            fprintf(stderr, "bench_api: %s replied %.200s\n", meas_name[op],
                    natsMsg_GetData(reply));
        if (!ok)
            fail(meas_name[op], k);
        natsMsg_Destroy(reply);
    }
    lt_bench_stats_of(us, (size_t)r, out);
}

#define BIG_REPLY_MAX (8 * 1024 * 1024) /* the bench's nats-server max_payload (main) */

static char big_reply[BIG_REPLY_MAX];

/* The floors' responder: a small answer, or as many bytes as a request "N" asks for (the list
 * reply's floor: the same bytes through NATS without latticed). */
static void on_echo(natsConnection *nc, natsSubscription *sub, natsMsg *msg, void *closure)
{
    char body[32] = "";
    long n;

    (void)sub, (void)closure;
    if (natsMsg_GetDataLength(msg) > 0 && natsMsg_GetDataLength(msg) < (int)sizeof(body))
        memcpy(body, natsMsg_GetData(msg), (size_t)natsMsg_GetDataLength(msg));
    n = strtol(body, NULL, 10);
    if (n > 0 && n <= BIG_REPLY_MAX)
        natsConnection_Publish(nc, natsMsg_GetReply(msg), big_reply, (int)n);
    else
        natsConnection_PublishString(nc, natsMsg_GetReply(msg), "{\"result\":\"ok\"}");
    natsMsg_Destroy(msg);
}

/* R requests for a reply as large as the last list reply, after the list's measurement. */
static void list_floor(natsConnection *nc, int r, int64_t *us, series *s)
{
    char size[32];

    if (list_bytes == 0) { /* no list reply came: nothing to compare with */
        fail("floor list reply (no list reply)", 0);
        return;
    }
    snprintf(size, sizeof(size), "%zu", list_bytes < BIG_REPLY_MAX ? list_bytes : BIG_REPLY_MAX);
    for (int k = 0; k < r; k++) {
        natsMsg *m = NULL;
        int64_t t0 = lt_bench_now_us();

        if (natsConnection_RequestString(&m, nc, "bench.echo", size, 10000) != NATS_OK)
            fail("floor list reply", k);
        us[k] = lt_bench_now_us() - t0;
        natsMsg_Destroy(m);
    }
    lt_bench_stats_of(us, (size_t)r, &s->st[FLOOR_LIST]);
}

static void floors(natsConnection *nc, kvStore *kv, int r, int64_t *us, series *s)
{
    char body[1024];
    int k;

    lt_bench_manifest(body, sizeof(body), "floor-app", "v1", 2);
    for (k = 0; k < r; k++) {
        char key[32];
        int64_t t0 = lt_bench_now_us();

        snprintf(key, sizeof(key), "k%d", k % 100);
        if (kvStore_Put(NULL, kv, key, body, (int)strlen(body)) != NATS_OK)
            fail("floor kv put", k);
        us[k] = lt_bench_now_us() - t0;
    }
    lt_bench_stats_of(us, (size_t)r, &s->st[FLOOR_KV]);
    for (k = 0; k < r; k++) {
        natsMsg *m = NULL;
        int64_t t0 = lt_bench_now_us();

        if (natsConnection_RequestString(&m, nc, "bench.echo", "{}", 10000) != NATS_OK)
            fail("floor request", k);
        us[k] = lt_bench_now_us() - t0;
        natsMsg_Destroy(m);
    }
    lt_bench_stats_of(us, (size_t)r, &s->st[FLOOR_REQ]);
}

static void run_series(natsConnection *nc, kvStore *kv, series *s, int stored, int r, int rl, int c)
{
    int64_t *us = lt_calloc((size_t)(r > rl ? r : rl), sizeof(int64_t)), t0;
    int op, ok;

    if (us == NULL)
        return;
    /* store apps [stored, apps) (not measured) */
    t0 = lt_bench_now_ms();
    ok = pipeline(nc, stored, s->apps, 50, "created", make_put);
    if (ok != s->apps - stored)
        fail("store (created)", ok);
    printf("stored apps %d..%d in %lld ms\n", stored, s->apps - 1,
           (long long)(lt_bench_now_ms() - t0));
    /* C deploys at once, of the last C apps (never deployed yet) */
    s->conc_n = c < s->apps ? c : s->apps;
    t0 = lt_bench_now_us();
    s->conc_ok = pipeline(nc, s->apps - s->conc_n, s->apps, 0, "acknowledged", make_deploy);
    s->conc_ms = (atomic_load(&last_reply_us) - t0) / 1000;
    if (s->conc_ok != s->conc_n)
        fail("concurrent deploy (acknowledged)", s->conc_ok);
    floors(nc, kv, r, us, s);
    for (op = OP_PUT; op <= OP_LIST; op++)
        sequential(nc, op, s->apps, op == OP_LIST ? rl : r, us, &s->st[op]);
    list_floor(nc, rl, us, s);
    lt_free(us);
}

/* ---- report -------------------------------------------------------------------------------- */

static void print_series(const series *s)
{
    const lt_bench_stats *kv = &s->st[FLOOR_KV], *rq = &s->st[FLOOR_REQ];
    int op;

    printf("\n%d apps stored             p50 ms   p99 ms  mean ms   ratio     target\n", s->apps);
    for (op = 0; op < N_MEAS; op++) {
        const lt_bench_stats *st = &s->st[op];
        char ratio[64] = "", target[64] = "";

        if (op == OP_PUT || op == OP_DEPLOY) {
            snprintf(ratio, sizeof(ratio), "%.2fx KV", st->p50_ms / kv->p50_ms);
            snprintf(target, sizeof(target), "<= 2x KV put floor: %s",
                     st->p50_ms <= 2 * kv->p50_ms ? "met" : "NOT met");
        } else if (op == OP_STATUS || op == OP_GET) {
            snprintf(ratio, sizeof(ratio), "%.2fx req", st->p50_ms / rq->p50_ms);
            snprintf(target, sizeof(target), "<= 1.5x request floor: %s",
                     st->p50_ms <= 1.5 * rq->p50_ms ? "met" : "NOT met");
        } else if (op == OP_LIST) {
            snprintf(ratio, sizeof(ratio), "%.2fx big", st->p50_ms / s->st[FLOOR_LIST].p50_ms);
            if (s->apps == 1000)
                snprintf(target, sizeof(target), "<= 5 ms at 1,000 apps: %s",
                         st->p50_ms <= 5.0 ? "met" : "NOT met");
        } else if (op == FLOOR_LIST) {
            snprintf(target, sizeof(target), "(%zu bytes, as the list's reply)", list_bytes);
        }
        printf("%-24s %8.3f %8.3f %8.3f %9s   %s\n", meas_name[op], st->p50_ms, st->p99_ms,
               st->mean_ms, ratio, target);
    }
    printf("%d deploys at once: all %d replies %s in %lld ms (%.0f deploys/s); target <= 500 ms "
           "for 1,000: %s\n",
           s->conc_n, s->conc_n, s->conc_ok == s->conc_n ? "acknowledged" : "NOT acknowledged",
           (long long)s->conc_ms, s->conc_ms > 0 ? s->conc_n * 1000.0 / (double)s->conc_ms : 0.0,
           s->conc_n < 1000    ? "n/a"
           : s->conc_ms <= 500 ? "met"
                               : "NOT met");
}

static void print_growth(const series *a, const series *b)
{
    int op;

    printf("\ncost at %d apps / cost at %d apps (p50), target <= 1.2x\n", b->apps, a->apps);
    for (op = OP_PUT; op < OP_LIST; op++) {
        double g = b->st[op].p50_ms / a->st[op].p50_ms;

        printf("%-24s %6.2fx  %s\n", meas_name[op], g, g <= 1.2 ? "met" : "NOT met");
    }
    printf("%-24s %6.2fx  (the reply holds every app: grows with their number)\n", "list",
           b->st[OP_LIST].p50_ms / a->st[OP_LIST].p50_ms);
    printf("%-24s %6.2fx  %s\n", "concurrent deploys",
           (double)b->conc_ms / (double)(a->conc_ms > 0 ? a->conc_ms : 1),
           b->conc_ms <= 1.2 * (double)a->conc_ms ? "met" : "NOT met");
}

static void write_json(FILE *f, const series *ser, int n, int r, int rl)
{
    int i, op;

    fprintf(f,
            "{\"benchmark\":\"api\",\"build\":\"%s\",\"requests\":%d,"
            "\"list_requests\":%d,\"failures\":%d,\"series\":[",
            LT_BENCH_BUILDTYPE, r, rl, failures);
    for (i = 0; i < n; i++) {
        fprintf(f, "%s{\"apps\":%d", i > 0 ? "," : "", ser[i].apps);
        for (op = 0; op < N_MEAS; op++)
            fprintf(f, ",\"%s\":{\"n\":%zu,\"p50_ms\":%.4f,\"p99_ms\":%.4f,\"mean_ms\":%.4f}",
                    meas_name[op], ser[i].st[op].n, ser[i].st[op].p50_ms, ser[i].st[op].p99_ms,
                    ser[i].st[op].mean_ms);
        fprintf(f, ",\"concurrent_deploys\":{\"n\":%d,\"acknowledged\":%d,\"ms\":%lld}}",
                ser[i].conc_n, ser[i].conc_ok, (long long)ser[i].conc_ms);
    }
    fprintf(f, "]}\n");
}

int main(int argc, char **argv)
{
    static const char *const opts[] = { "--apps", "--requests", "--list-requests", "--concurrent",
                                        NULL };
    const char *vals[] = { "1000", "200", "50", "1000" };
    const char *log = "/tmp/bench_api_latticed.log";
    lt_bench_cli cli;
    lt_natsrv *srv = NULL;
    lt_natsrv_opts no = { 0 };
    natsConnection *nc = NULL, *nc2 = NULL;
    natsOptions *o2 = NULL; /* the responder sends at once: no flusher delay in the floor */
    natsSubscription *echo = NULL;
    jsCtx *js = NULL;
    kvStore *kv = NULL;
    kvConfig kc;
    series ser[MAX_SERIES];
    int n_ser = 0, stored = 0, i, rc = 1;
    pid_t ld = -1;
    char *list = NULL, *tok, *save = NULL;
    FILE *jf = NULL;

    setvbuf(stdout, NULL, _IOLBF, 0);          /* progress shows in a log file */
    memset(big_reply, 'x', sizeof(big_reply)); /* before the responder subscribes */
    if (!lt_bench_parse(argc, argv, opts, vals, &cli) || cli.n_args != 1) {
        fprintf(stderr, "usage: bench_api [--apps 1000[,10000]] [--requests R] [--list-requests "
                        "R] [--concurrent C] [--json FILE] [--smoke] LATTICED\n");
        return 2;
    }
    if (cli.smoke) { /* small, any build type: the result is checked, not the speed */
        vals[0] = "20,40";
        vals[1] = "20";
        vals[2] = "5";
        vals[3] = "20";
        log = NULL;
    } else if (lt_bench_require_release("bench_api") != 0) {
        return 2;
    }
    memset(ser, 0, sizeof(ser));
    list = lt_strdup(vals[0]);
    for (tok = strtok_r(list, ",", &save); tok != NULL && n_ser < MAX_SERIES;
         tok = strtok_r(NULL, ",", &save))
        ser[n_ser++].apps = atoi(tok);
    lt_free(list);
    for (i = 0; i < n_ser; i++)
        if (ser[i].apps <= 0 || (i > 0 && ser[i].apps <= ser[i - 1].apps)) {
            fprintf(stderr, "--apps: increasing positive counts\n");
            return 2;
        }
    /* the list of 10,000 apps is over NATS's default 1 MiB max_payload (latticed then replies
     * an error): the benchmark's server takes 8 MiB messages */
    no.config_text = "max_payload: 8388608\n";
    if (lt_natsrv_start(&srv, &no) != LT_OK) {
        fprintf(stderr, "nats-server did not start\n");
        return 1;
    }
    if (log != NULL)
        remove(log);
    {
        const char *a[] = { cli.args[0],   "--nats-url", lt_natsrv_url(srv),
                            "--log-level", "warn",       NULL };

        ld = lt_bench_spawn(a, log);
    }
    if (natsConnection_ConnectTo(&nc, lt_natsrv_url(srv)) != NATS_OK ||
        natsOptions_Create(&o2) != NATS_OK || natsOptions_SetURL(o2, lt_natsrv_url(srv)) ||
        natsOptions_SetSendAsap(o2, true) != NATS_OK || natsConnection_Connect(&nc2, o2) ||
        natsConnection_Subscribe(&echo, nc2, "bench.echo", on_echo, NULL) != NATS_OK ||
        natsConnection_Flush(nc2) != NATS_OK ||
        natsConnection_JetStream(&js, nc, NULL) != NATS_OK || kvConfig_Init(&kc) != NATS_OK) {
        fprintf(stderr, "bench_api: NATS setup failed\n");
        goto out;
    }
    kc.Bucket = "bench_floor";
    kc.History = 1;
    kc.StorageType = js_FileStorage; /* as latticed's default --storage file */
    if (js_CreateKeyValue(&kv, js, &kc) != NATS_OK || !lt_bench_wait_api(nc, LATTICE, 30000)) {
        fprintf(stderr, "bench_api: latticed's API does not answer (or no KV)\n");
        goto out;
    }
    for (i = 0; i < n_ser; i++) {
        run_series(nc, kv, &ser[i], stored, atoi(vals[1]), atoi(vals[2]), atoi(vals[3]));
        stored = ser[i].apps;
        print_series(&ser[i]);
    }
    if (n_ser > 1)
        print_growth(&ser[0], &ser[n_ser - 1]);
    if (!lt_bench_alive(ld))
        fail("latticed exited", 0);
    jf = lt_bench_json_open(&cli);
    if (jf != NULL) {
        write_json(jf, ser, n_ser, atoi(vals[1]), atoi(vals[2]));
        fclose(jf);
    }
    printf("\n%s: %d wrong results\n", failures == 0 ? "OK" : "FAILED", failures);
    rc = failures == 0 && (cli.json == NULL || jf != NULL) ? 0 : 1;
out:
    if (ld > 0 && lt_bench_stop(ld) != 0) {
        fprintf(stderr, "bench_api: latticed did not exit 0 on SIGTERM\n");
        rc = 1;
    }
    natsSubscription_Destroy(echo);
    kvStore_Destroy(kv);
    jsCtx_Destroy(js);
    natsConnection_Destroy(nc2);
    natsOptions_Destroy(o2);
    natsConnection_Destroy(nc);
    LT_IGNORE(lt_natsrv_stop(srv));
    nats_Close();
    return rc;
}
