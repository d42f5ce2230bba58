/*
 * e2e_v2.c - the harness of e2e_v2.h: v2 simulators by PID with their stdout folded into what
 * runs where, and the passive observer of latticed's runtime.host.*.workload.* requests.
 */
#include <check.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <nats/nats.h>

#include "e2e_v2.h"
#include "lt_testutil.h"

#define T 30000 /* ms for the hosts to follow latticed */

/* ---- the passive observer of latticed's requests -------------------------------------------- */

#define MAX_REQ 4096

static pthread_mutex_t req_mu = PTHREAD_MUTEX_INITIALIZER;
static e2e_v2_req reqs[MAX_REQ];
static size_t n_reqs;

static void cat(char *dst, size_t cap, const char *s)
{
    size_t len = strlen(dst);

    if (len < cap)
        snprintf(dst + len, cap - len, "%s", s);
}

static void cat_map(char *dst, size_t cap, json_t *map)
{
    const char *k;
    json_t *v;
    bool first = true;

    cat(dst, cap, "{");
    json_object_foreach (map, k, v) {
        if (!first)
            cat(dst, cap, ",");
        cat(dst, cap, k);
        cat(dst, cap, "=");
        cat(dst, cap, json_string_value(v) != NULL ? json_string_value(v) : "?");
        first = false;
    }
    cat(dst, cap, "}");
}

static const char *jstr(json_t *o, const char *k)
{
    const char *s = json_string_value(json_object_get(o, k));

    return s != NULL ? s : "";
}

static void on_request(natsConnection *nc, natsSubscription *sub, natsMsg *m, void *arg)
{
    const char *subj = natsMsg_GetSubject(m);
    json_t *doc = json_loadb(natsMsg_GetData(m), (size_t)natsMsg_GetDataLength(m), 0, NULL);
    json_t *w = json_object_get(doc, "workload"), *ann = json_object_get(w, "annotations");
    json_t *world = json_object_get(w, "witWorld"), *x;
    const char *host = subj + strlen("runtime.host."), *dot = strchr(host, '.');
    size_t i;
    e2e_v2_req r;

    (void)nc, (void)sub, (void)arg;
    memset(&r, 0, sizeof(r));
    snprintf(r.host, sizeof(r.host), "%.*s", dot != NULL ? (int)(dot - host) : 0, host);
    snprintf(r.verb, sizeof(r.verb), "%s", strrchr(subj, '.') + 1);
    snprintf(r.wid, sizeof(r.wid), "%s", jstr(doc, "workloadId"));
    snprintf(r.lattice, sizeof(r.lattice), "%s", jstr(ann, "latticed.dev/lattice"));
    snprintf(r.app, sizeof(r.app), "%s", jstr(ann, "latticed.dev/app"));
    snprintf(r.version, sizeof(r.version), "%s", jstr(ann, "latticed.dev/version"));
    snprintf(r.kind, sizeof(r.kind), "%s", jstr(ann, "latticed.dev/kind"));
    r.managed = strcmp(jstr(ann, "latticed.dev/managed-by"), "latticed") == 0;
    json_array_foreach (json_object_get(world, "components"), i, x) {
        if (i > 0)
            cat(r.comps, sizeof(r.comps), " ");
        cat(r.comps, sizeof(r.comps), jstr(x, "name"));
        cat_map(r.comps, sizeof(r.comps),
                json_object_get(json_object_get(x, "localResources"), "config"));
    }
    json_array_foreach (json_object_get(world, "hostInterfaces"), i, x) {
        json_t *f;
        size_t j;

        if (i > 0)
            cat(r.ifaces, sizeof(r.ifaces), " ");
        cat(r.ifaces, sizeof(r.ifaces), jstr(x, "namespace"));
        cat(r.ifaces, sizeof(r.ifaces), ":");
        cat(r.ifaces, sizeof(r.ifaces), jstr(x, "package"));
        cat(r.ifaces, sizeof(r.ifaces), "/");
        json_array_foreach (json_object_get(x, "interfaces"), j, f) {
            if (j > 0)
                cat(r.ifaces, sizeof(r.ifaces), ",");
            cat(r.ifaces, sizeof(r.ifaces),
                json_string_value(f) != NULL ? json_string_value(f) : "?");
        }
        cat_map(r.ifaces, sizeof(r.ifaces), json_object_get(x, "config"));
    }
    r.at = e2e_now_ms();
    json_decref(doc);
    pthread_mutex_lock(&req_mu);
    if (n_reqs < MAX_REQ)
        reqs[n_reqs++] = r;
    pthread_mutex_unlock(&req_mu);
    natsMsg_Destroy(m);
}

static natsConnection *obs_nc;
static natsSubscription *obs_sub;

void e2e_v2_watch(e2e *e)
{
    pthread_mutex_lock(&req_mu);
    n_reqs = 0;
    pthread_mutex_unlock(&req_mu);
    ck_assert_int_eq(natsConnection_ConnectTo(&obs_nc, e2e_url(e)), NATS_OK);
    ck_assert_int_eq(natsConnection_Subscribe(&obs_sub, obs_nc, "runtime.host.*.workload.*",
                                              on_request, NULL),
                     NATS_OK);
    ck_assert_int_eq(natsConnection_Flush(obs_nc), NATS_OK);
}

void e2e_v2_unwatch(void)
{
    natsSubscription_Unsubscribe(obs_sub);
    natsConnection_Close(obs_nc); /* joins nats.c's reader before the destroy (wire/lt_conn.h) */
    natsSubscription_Destroy(obs_sub);
    natsConnection_Destroy(obs_nc);
    obs_sub = NULL;
    obs_nc = NULL;
}

/* The newest start request for workload id wid (copied into out); whether there is one. */
bool e2e_v2_start_of(const char *wid, e2e_v2_req *out)
{
    bool found = false;

    pthread_mutex_lock(&req_mu);
    for (size_t i = n_reqs; i-- > 0 && !found;)
        if (strcmp(reqs[i].verb, "start") == 0 && strcmp(reqs[i].wid, wid) == 0) {
            *out = reqs[i];
            found = true;
        }
    pthread_mutex_unlock(&req_mu);
    return found;
}

size_t e2e_v2_requests(const char *verb, const char *host, const char *wid, const char *lattice,
                       int64_t since_ms)
{
    size_t n = 0;

    pthread_mutex_lock(&req_mu);
    for (size_t i = 0; i < n_reqs; i++) {
        const e2e_v2_req *r = &reqs[i];

        n += strcmp(r->verb, verb) == 0 && r->at >= since_ms &&
             (host == NULL || strcmp(r->host, host) == 0) &&
             (wid == NULL || strcmp(r->wid, wid) == 0) &&
             (lattice == NULL || strcmp(r->lattice, lattice) == 0);
    }
    pthread_mutex_unlock(&req_mu);
    return n;
}

/* ---- the simulators and what their stdout says ---------------------------------------------- */

#define MAX_SIMS 8

typedef struct {
    pid_t pid;
    bool dead;
    char name[32];
} sim;

static sim sims[MAX_SIMS];
static size_t n_sims;

/* latticed-host --simulate n --protocol wasmcloud-v2 + extra (NULL-terminated, may be NULL). */
pid_t e2e_v2_sim(e2e *e, const char *name, int n, const char *const *extra)
{
    const char *argv[48];
    char num[16];
    size_t k = 0;

    snprintf(num, sizeof(num), "%d", n);
    argv[k++] = getenv("LATTICED_HOST_BIN");
    argv[k++] = "--nats-url";
    argv[k++] = e2e_url(e);
    argv[k++] = "--simulate";
    argv[k++] = num;
    argv[k++] = "--protocol";
    argv[k++] = "wasmcloud-v2";
    argv[k++] = "--id-prefix"; /* distinct ids across simulators if the ids are not UUIDs */
    argv[k++] = name;
    for (size_t i = 0; extra != NULL && extra[i] != NULL && k < 47; i++)
        argv[k++] = extra[i];
    argv[k] = NULL;
    ck_assert_uint_lt(n_sims, MAX_SIMS);
    sims[n_sims].pid = e2e_spawn(e, name, argv);
    sims[n_sims].dead = false;
    snprintf(sims[n_sims].name, sizeof(sims[n_sims].name), "%s", name);
    return sims[n_sims++].pid;
}

void e2e_v2_kill(e2e *e, pid_t pid)
{
    for (size_t i = 0; i < n_sims; i++)
        if (sims[i].pid == pid)
            sims[i].dead = true;
    e2e_kill(e, pid, SIGKILL, true);
}


static void fold_one(e2e *e, const sim *s, e2e_v2_fold *f)
{
    const char *path = e2e_log_path(e, s->pid);
    char *data = NULL, *line, *save = NULL;
    size_t len = 0;

    if (path == NULL || lt_test_read_file(path, 64u << 20, &data, &len) != LT_OK)
        return;
    for (line = strtok_r(data, "\n", &save); line != NULL; line = strtok_r(NULL, "\n", &save)) {
        char host[64] = "", verb[16] = "", wid[80] = "", state[48] = "";
        int got = sscanf(line, "v2sim host %63s %15s %79s %47s", host, verb, wid, state);

        if (got >= 2 && strcmp(verb, "ready") == 0) {
            f->ready++;
            if (f->n_hosts < 64)
                snprintf(f->hosts[f->n_hosts++], 64, "%s", host);
        } else if (got >= 2 && strcmp(verb, "dropped") == 0) {
            f->dropped++;
        } else if (got == 4 && strcmp(verb, "start") == 0) {
            bool there = false;

            f->starts++;
            f->starts_error += strstr(state, "ERROR") != NULL;
            if (strstr(state, "RUNNING") == NULL)
                continue;
            f->starts_running++;
            for (size_t i = 0; i < f->n_run && !there; i++)
                there = strcmp(f->run[i].host, host) == 0 && strcmp(f->run[i].wid, wid) == 0;
            if (!there && f->n_run < E2E_V2_MAX_RUN) {
                snprintf(f->run[f->n_run].host, 64, "%s", host);
                snprintf(f->run[f->n_run].wid, 80, "%s", wid);
                f->run[f->n_run++].pid = s->pid;
            }
        } else if (got >= 3 && strcmp(verb, "stop") == 0) {
            f->stops++;
            for (size_t i = 0; i < f->n_run; i++)
                if (strcmp(f->run[i].host, host) == 0 && strcmp(f->run[i].wid, wid) == 0)
                    f->run[i] = f->run[--f->n_run];
        }
    }
    free(data);
}

/* Fold the live simulators (pid 0), or one simulator even if dead. */
void e2e_v2_fold_sims(e2e *e, pid_t pid, e2e_v2_fold *f)
{
    memset(f, 0, sizeof(*f));
    for (size_t i = 0; i < n_sims; i++)
        if (pid == 0 ? !sims[i].dead : sims[i].pid == pid)
            fold_one(e, &sims[i], f);
}

/* Workloads running on the live simulators (pid 0) or on pid, whose start request was latticed's
 * for app (NULL = any managed) and version (NULL = any). */
size_t e2e_v2_running(e2e *e, pid_t pid, const char *app, const char *version)
{
    e2e_v2_fold f;
    size_t n = 0;
    e2e_v2_req r;

    e2e_v2_fold_sims(e, pid, &f);
    for (size_t i = 0; i < f.n_run; i++)
        n += e2e_v2_start_of(f.run[i].wid, &r) && r.managed &&
             (app == NULL || strcmp(r.app, app) == 0) &&
             (version == NULL || strcmp(r.version, version) == 0);
    return n;
}

/* Hosts (of live simulators) running workload id wid. */
size_t e2e_v2_running_wid(e2e *e, const char *wid)
{
    e2e_v2_fold f;
    size_t n = 0;

    e2e_v2_fold_sims(e, 0, &f);
    for (size_t i = 0; i < f.n_run; i++)
        n += strcmp(f.run[i].wid, wid) == 0;
    return n;
}

/* Workload ids running on two hosts (live simulators) at once. */
size_t e2e_v2_duplicates(e2e *e)
{
    e2e_v2_fold f;
    size_t n = 0;

    e2e_v2_fold_sims(e, 0, &f);
    for (size_t i = 0; i < f.n_run; i++)
        for (size_t j = i + 1; j < f.n_run; j++)
            n += strcmp(f.run[i].wid, f.run[j].wid) == 0;
    return n;
}

typedef struct {
    pid_t pid;
    const char *app, *version;
    size_t want;
} count_arg;

static bool count_is(e2e *e, void *arg)
{
    const count_arg *a = arg;

    return e2e_v2_running(e, a->pid, a->app, a->version) == a->want;
}

void e2e_v2_expect_running(e2e *e, pid_t pid, const char *app, const char *version, size_t want,
                           int64_t timeout_ms)
{
    count_arg a = { pid, app, version, want };

    if (!e2e_wait(e, count_is, &a, timeout_ms)) {
        e2e_dump_logs(e);
        ck_abort_msg("%zu workloads of %s %s running, want %zu",
                     e2e_v2_running(e, pid, app, version), app != NULL ? app : "any app",
                     version != NULL ? version : "", want);
    }
}

/* Wait until pid printed n ready lines and latticed's inventory of lattice lists each host. */
void e2e_v2_wait_ready(e2e *e, const char *lattice, pid_t pid, int n, e2e_v2_fold *f)
{
    int64_t deadline = e2e_now_ms() + T;

    for (;;) {
        size_t known = 0;

        e2e_v2_fold_sims(e, pid, f);
        for (size_t i = 0; i < f->n_hosts && (int)f->ready >= n; i++)
            known += e2e_inventory_instances(e, lattice, f->hosts[i]) >= 0;
        if ((int)f->ready >= n && known == (size_t)n)
            return;
        if (e2e_now_ms() > deadline) {
            e2e_dump_logs(e);
            ck_abort_msg("%s: %zu of %d v2 hosts ready, %zu in latticed's inventory", lattice,
                         f->ready, n, known);
        }
        e2e_sleep_ms(200);
    }
}

/* The whole wadm status reply of app as text (caller frees). */
char *e2e_v2_status_text(e2e *e, const char *lattice, const char *app)
{
    json_t *r = e2e_api(e, lattice, "status", app, NULL, 0);
    char *s = json_dumps(r, JSON_COMPACT);

    json_decref(r);
    return s;
}

pid_t e2e_v2_latticed(e2e *e, const char *lattices, const char *const *more)
{
    const char *argv[32] = { "--wasmcloud-v2", lattices };
    size_t k = 2;

    for (size_t i = 0; more != NULL && more[i] != NULL && k < 31; i++)
        argv[k++] = more[i];
    argv[k] = NULL;
    return e2e_latticed(e, argv);
}

void e2e_v2_reset(void)
{
    n_sims = 0;
}
