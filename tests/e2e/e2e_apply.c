/*
 * e2e_apply.c - the chaos suite's manifest applier (a thread putting and
 * deploying a new version of a template every period, recording the versions
 * acknowledged) and the checks after a scenario: every acknowledged version
 * readable, the deployed version converged (desired counts, nothing else, no
 * instance twice, status deployed for it). See e2e.h.
 */
#include <check.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "e2e_internal.h"
#include "lt_alloc.h"
#include "lt_testutil.h"

#define MAX_ACKED 4096
#define API_TIMEOUT_MS 2500 /* short: a frozen replica takes its share of requests */

struct e2e_applier {
    e2e *e;
    char lattice[64], prefix[32];
    char *tmpl;
    int64_t period_ms;
    pthread_t thread;
    bool running;
    pthread_mutex_t mu;
    bool stop;
    size_t tried, n_acked;
    size_t max_dups;     /* most instance ids seen on two hosts at once, sampled every round */
    size_t max_excess;   /* most workers of one version beyond its desired count */
    int64_t last_ack_ms; /* when the newest acknowledged deploy was answered */
    char last_miss[256]; /* why the newest unacknowledged round was not acknowledged */
    char acked[MAX_ACKED][48];
};

int e2e_replicas(const char *version)
{
    size_t n = strlen(version);

    while (n > 0 && version[n - 1] >= '0' && version[n - 1] <= '9')
        n--;
    return 2 + atoi(version + n) % 4;
}

/* The template with @VERSION@ and @N@ replaced (malloc'd). */
static char *render(const char *tmpl, const char *version)
{
    size_t cap = strlen(tmpl) + 1024, len = 0;
    char *out = malloc(cap), num[16];
    const char *p = tmpl;

    ck_assert_ptr_nonnull(out);
    snprintf(num, sizeof(num), "%d", e2e_replicas(version));
    while (*p != '\0' && len + 80 < cap) {
        if (strncmp(p, "@VERSION@", 9) == 0) {
            len += (size_t)snprintf(out + len, cap - len, "%s", version);
            p += 9;
        } else if (strncmp(p, "@N@", 3) == 0) {
            len += (size_t)snprintf(out + len, cap - len, "%s", num);
            p += 3;
        } else {
            out[len++] = *p++;
        }
    }
    out[len] = '\0';
    return out;
}

static const char *result_of(json_t *j)
{
    const char *r = json_string_value(json_object_get(j, "result"));

    return r != NULL ? r : "";
}

/* One put + deploy of version; true when both were acknowledged. */
static bool apply_one(e2e_applier *a, const char *version, char *why, size_t cap)
{
    char *text = render(a->tmpl, version), body[128];
    json_t *put, *dep = NULL;
    bool ok = false;
    const char *name;

    put = e2e_api_try(a->e, a->lattice, "put", NULL, text, strlen(text), API_TIMEOUT_MS);
    if (put != NULL &&
        (strcmp(result_of(put), "created") == 0 || strcmp(result_of(put), "newversion") == 0)) {
        name = json_string_value(json_object_get(put, "name"));
        snprintf(body, sizeof(body), "{\"version\":\"%s\"}", version);
        dep = e2e_api_try(a->e, a->lattice, "deploy", name != NULL ? name : "", body, strlen(body),
                          API_TIMEOUT_MS);
        ok = dep != NULL && strcmp(result_of(dep), "acknowledged") == 0;
    }
    if (!ok) {
        json_t *j = dep != NULL ? dep : put;
        const char *m = json_string_value(json_object_get(j, "message"));

        bool put_ok =
            put != NULL && j == put && dep == NULL &&
            (strcmp(result_of(put), "created") == 0 || strcmp(result_of(put), "newversion") == 0);

        if (put_ok) /* put acknowledged, deploy unanswered */
            j = NULL;
        snprintf(why, cap, "%s %s: %s %s", version, put_ok || dep != NULL ? "deploy" : "put",
                 j != NULL ? result_of(j) : "no reply", j != NULL && m != NULL ? m : "");
    }
    json_decref(put);
    json_decref(dep);
    free(text);
    return ok;
}

static void *applier_main(void *arg)
{
    e2e_applier *a = arg;
    size_t k = 0;

    for (;;) {
        char version[48], why[256];
        size_t dups, excess;
        int64_t next = e2e_now_ms() + a->period_ms;
        bool ok;

        pthread_mutex_lock(&a->mu);
        if (a->stop) {
            pthread_mutex_unlock(&a->mu);
            break;
        }
        pthread_mutex_unlock(&a->mu);
        snprintf(version, sizeof(version), "%s%zu", a->prefix, ++k);
        ok = apply_one(a, version, why, sizeof(why));
        dups = e2e_duplicate_ids(a->e, a->lattice);
        excess = e2e_excess(a->e, a->lattice, "chaos", "worker");
        pthread_mutex_lock(&a->mu);
        a->tried++;
        if (dups > a->max_dups)
            a->max_dups = dups;
        if (excess > a->max_excess)
            a->max_excess = excess;
        if (!ok)
            snprintf(a->last_miss, sizeof(a->last_miss), "%s", why);
        if (ok && a->n_acked < MAX_ACKED) {
            snprintf(a->acked[a->n_acked++], sizeof(a->acked[0]), "%s", version);
            a->last_ack_ms = e2e_now_ms();
        }
        pthread_mutex_unlock(&a->mu);
        while (e2e_now_ms() < next)
            e2e_sleep_ms(20);
    }
    nats_ReleaseThreadMemory();
    return NULL;
}

e2e_applier *e2e_applier_start(e2e *e, const char *lattice, const char *template_path,
                               const char *prefix, int64_t period_ms)
{
    e2e_applier *a = calloc(1, sizeof(*a));
    size_t len = 0;

    ck_assert_ptr_nonnull(a);
    a->e = e;
    snprintf(a->lattice, sizeof(a->lattice), "%s", lattice);
    snprintf(a->prefix, sizeof(a->prefix), "%s", prefix);
    a->period_ms = period_ms;
    ck_assert_int_eq(lt_test_read_file(template_path, 1u << 20, &a->tmpl, &len), LT_OK);
    pthread_mutex_init(&a->mu, NULL);
    ck_assert_int_eq(pthread_create(&a->thread, NULL, applier_main, a), 0);
    a->running = true;
    return a;
}

void e2e_applier_stop(e2e_applier *a)
{
    if (!a->running)
        return;
    pthread_mutex_lock(&a->mu);
    a->stop = true;
    pthread_mutex_unlock(&a->mu);
    pthread_join(a->thread, NULL);
    a->running = false;
}

void e2e_applier_free(e2e_applier *a)
{
    if (a == NULL)
        return;
    e2e_applier_stop(a);
    pthread_mutex_destroy(&a->mu);
    lt_free(a->tmpl);
    free(a);
}

size_t e2e_applier_acked(e2e_applier *a)
{
    size_t n;

    pthread_mutex_lock(&a->mu);
    n = a->n_acked;
    pthread_mutex_unlock(&a->mu);
    return n;
}

const char *e2e_applier_version(e2e_applier *a, size_t i)
{
    return a->acked[i]; /* written once before n_acked grew past i */
}

size_t e2e_applier_tried(e2e_applier *a)
{
    size_t n;

    pthread_mutex_lock(&a->mu);
    n = a->tried;
    pthread_mutex_unlock(&a->mu);
    return n;
}

size_t e2e_applier_max_dups(e2e_applier *a)
{
    size_t n;

    pthread_mutex_lock(&a->mu);
    n = a->max_dups;
    pthread_mutex_unlock(&a->mu);
    return n;
}

int64_t e2e_applier_last_ack_ms(e2e_applier *a)
{
    int64_t t;

    pthread_mutex_lock(&a->mu);
    t = a->last_ack_ms;
    pthread_mutex_unlock(&a->mu);
    return t;
}

size_t e2e_applier_max_excess(e2e_applier *a)
{
    size_t n;

    pthread_mutex_lock(&a->mu);
    n = a->max_excess;
    pthread_mutex_unlock(&a->mu);
    return n;
}

/* ---- checks ---- */

/* get --version v: the manifest that was put, or a description of what came back. */
static bool readable(e2e *e, const char *lattice, const char *app, const char *version, char *why,
                     size_t cap)
{
    char body[128];
    json_t *r;
    const char *got;
    bool ok;

    snprintf(body, sizeof(body), "{\"version\":\"%s\"}", version);
    r = e2e_api_try(e, lattice, "get", app, body, strlen(body), API_TIMEOUT_MS);
    if (r == NULL) {
        snprintf(why, cap, "no reply");
        return false;
    }
    got = json_string_value(
        json_object_get(json_object_get(json_object_get(json_object_get(r, "manifest"), "metadata"),
                                        "annotations"),
                        "version"));
    ok = strcmp(result_of(r), "success") == 0 && got != NULL && strcmp(got, version) == 0;
    if (!ok) {
        const char *m = json_string_value(json_object_get(r, "message"));

        snprintf(why, cap, "%s: %s (version %s)", result_of(r), m != NULL ? m : "",
                 got != NULL ? got : "none");
    }
    json_decref(r);
    return ok;
}

void e2e_check_versions(e2e *e, const char *lattice, e2e_applier *a)
{
    size_t i, n = e2e_applier_acked(a);

    for (i = 0; i < n; i++) {
        char why[512] = "";
        int attempt;
        bool ok = false;

        for (attempt = 0; attempt < 5 && !ok; attempt++) {
            ok = readable(e, lattice, "chaos", e2e_applier_version(a, i), why, sizeof(why));
            if (!ok)
                e2e_sleep_ms(1000);
        }
        ck_assert_msg(ok, "acknowledged version %s is not readable: %s", e2e_applier_version(a, i),
                      why);
    }
    printf("  %zu acknowledged versions (of %zu tried) all readable%s%s\n", n, e2e_applier_tried(a),
           a->last_miss[0] != '\0' ? "; last miss: " : "", a->last_miss);
}

/* The deployed version per the versions API ("" if none or no answer). */
static void deployed_version(e2e *e, const char *lattice, const char *app, char *out, size_t cap)
{
    json_t *r = e2e_api_try(e, lattice, "versions", app, NULL, 0, API_TIMEOUT_MS);
    json_t *vs = json_object_get(r, "versions"), *v;
    size_t i;

    out[0] = '\0';
    json_array_foreach (vs, i, v) {
        if (json_is_true(json_object_get(v, "deployed")))
            snprintf(out, cap, "%s", json_string_value(json_object_get(v, "version")));
    }
    json_decref(r);
}

/* Status word and version of app ("" when unknown). */
static void status_of(e2e *e, const char *lattice, const char *app, char *type, char *version,
                      size_t cap)
{
    json_t *r = e2e_api_try(e, lattice, "status", app, NULL, 0, API_TIMEOUT_MS);
    json_t *st = json_object_get(r, "status");
    const char *t = json_string_value(json_object_get(json_object_get(st, "status"), "type"));
    /* latticed's own section names the version the status is about */
    const char *v = json_string_value(json_object_get(json_object_get(st, "latticed"), "version"));

    snprintf(type, cap, "%s", t != NULL ? t : "");
    snprintf(version, cap, "%s", v != NULL ? v : "");
    json_decref(r);
}

/* One look: does everything hold? what into seen (for the failure message). */
static bool converged_now(e2e *e, const char *lattice, const char *app, char *version, char *seen,
                          size_t cap)
{
    char st[64], st_v[64];
    size_t want, workers, gateways, total, dups;

    deployed_version(e, lattice, app, version, 64);
    if (version[0] == '\0') {
        snprintf(seen, cap, "no deployed version known");
        return false;
    }
    want = (size_t)e2e_replicas(version);
    workers = e2e_count(e, lattice, app, "worker", version, NULL);
    /* an unchanged capability keeps running across versions (its app_version stays) */
    gateways = e2e_count(e, lattice, app, "gateway", NULL, NULL);
    total = e2e_count(e, lattice, app, NULL, NULL, NULL);
    dups = e2e_duplicate_ids(e, lattice);
    status_of(e, lattice, app, st, st_v, sizeof(st));
    snprintf(seen, cap,
             "deployed %s: worker %zu/%zu, gateway %zu/1, %zu instances in all, %zu duplicate "
             "ids, status %s for '%s'",
             version, workers, want, gateways, total, dups, st, st_v);
    return workers == want && gateways == 1 && total == want + 1 && dups == 0 &&
           strcmp(st, "deployed") == 0 && strcmp(st_v, version) == 0;
}

int64_t e2e_wait_converged(e2e *e, const char *lattice, const char *app, int64_t since_ms,
                           int64_t timeout_ms, char *version)
{
    int64_t deadline = e2e_now_ms() + timeout_ms, took = -1;
    char v[64], seen[512] = "";

    for (;;) {
        if (converged_now(e, lattice, app, v, seen, sizeof(seen))) {
            if (took < 0)
                took = e2e_now_ms() - since_ms;
            e2e_sleep_ms(2000); /* settled: still true, nothing extra started meanwhile */
            if (converged_now(e, lattice, app, v, seen, sizeof(seen)))
                break;
            took = -1;
        }
        if (e2e_now_ms() > deadline) {
            printf("  not converged after %lld ms: %s\n", (long long)timeout_ms, seen);
            return -1;
        }
        e2e_sleep_ms(250);
    }
    if (version != NULL)
        snprintf(version, 64, "%s", v);
    printf("  converged in %lld ms: %s\n", (long long)took, seen);
    return took;
}
