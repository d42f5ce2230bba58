/*
 * e2e.c - the end-to-end harness of e2e.h: processes by PID with their logs
 * in a temp directory, the API over NATS, and a passive observer that keeps
 * each host's latest heartbeat and the links latticed installed.
 */
#include "e2e.h"

#include <check.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <nats/nats.h>

#include "latticed/host/v1/command.pb-c.h"
#include "latticed/host/v1/host.pb-c.h"
#include "lt_ce.h"
#include "lt_config.h"
#include "lt_natsrv.h"
#include "lt_testutil.h"
#include "e2e_internal.h"

int64_t e2e_now_ms(void)
{
    return lt_test_now_ms();
}

void e2e_sleep_ms(int64_t ms)
{
    lt_test_sleep_ms(ms);
}

const char *e2e_url(const e2e *e)
{
    return e->urls;
}

const char *e2e_dir(const e2e *e)
{
    return e->dir;
}

lt_natcluster *e2e_cluster(e2e *e)
{
    return e->cluster;
}

static e2e *new_on(bool cluster, const lt_natsrv_opts *opts)
{
    e2e *e = calloc(1, sizeof(*e));
    natsOptions *o = NULL;
    const char *servers[LT_NATCLUSTER_NODES];
    int i;

    ck_assert_ptr_nonnull(e);
    pthread_mutex_init(&e->mu, NULL);
    if (cluster) {
        ck_assert_int_eq(lt_natcluster_start(&e->cluster), LT_OK);
        snprintf(e->urls, sizeof(e->urls), "%s", lt_natcluster_urls(e->cluster));
    } else {
        ck_assert_int_eq(lt_natsrv_start(&e->srv, opts), LT_OK);
        snprintf(e->urls, sizeof(e->urls), "%s", lt_natsrv_url(e->srv));
    }
    ck_assert_int_eq(lt_test_tmpdir(&e->dir, "lt-e2e"), LT_OK);
    ck_assert_int_eq(natsOptions_Create(&o), NATS_OK);
    if (cluster) {
        for (i = 0; i < LT_NATCLUSTER_NODES; i++)
            servers[i] = lt_natsrv_url(lt_natcluster_node(e->cluster, i));
        natsOptions_SetServers(o, servers, LT_NATCLUSTER_NODES);
        natsOptions_SetReconnectWait(o, 200);
    } else {
        natsOptions_SetURL(o, lt_natsrv_url(e->srv));
    }
    natsOptions_SetMaxReconnect(o, -1);
    ck_assert_int_eq(natsConnection_Connect(&e->nc, o), NATS_OK);
    natsOptions_Destroy(o);
    return e;
}

e2e *e2e_new(void)
{
    return new_on(false, NULL);
}

e2e *e2e_new_with(const lt_natsrv_opts *opts)
{
    return new_on(false, opts);
}

e2e *e2e_new_cluster(void)
{
    return new_on(true, NULL);
}

/* ---------------------------------------------------------------------------------------------
 * Processes
 * ------------------------------------------------------------------------------------------- */

static pid_t spawn(e2e *e, const char *name, const char *bin, char **argv)
{
    e2e_proc *p;
    pid_t parent = getpid(), pid;

    ck_assert_uint_lt(e->n_procs, MAX_PROCS);
    p = &e->procs[e->n_procs++];
    snprintf(p->name, sizeof(p->name), "%s", name);
    snprintf(p->log, sizeof(p->log), "%s/%s-%zu.log", e->dir, name, e->n_procs);
    pid = fork();
    ck_assert_int_ge(pid, 0);
    if (pid == 0) {
        int fd = open(p->log, O_WRONLY | O_CREAT | O_APPEND, 0600);

        prctl(PR_SET_PDEATHSIG, SIGKILL);
        if (getppid() != parent)
            _exit(1);
        if (fd >= 0) {
            dup2(fd, STDOUT_FILENO);
            dup2(fd, STDERR_FILENO);
        }
        lt_test_close_fds_from(3);
        execv(bin, argv);
        _exit(127);
    }
    p->pid = pid;
    p->alive = true;
    return pid;
}

pid_t e2e_spawn(e2e *e, const char *name, const char *const *argv)
{
    char *args[64];
    size_t n;

    for (n = 0; argv[n] != NULL && n < 63; n++)
        args[n] = (char *)argv[n];
    args[n] = NULL;
    return spawn(e, name, args[0], args);
}

pid_t e2e_latticed(e2e *e, const char *const *extra)
{
    return e2e_latticed_at(e, e->urls, extra);
}

pid_t e2e_latticed_at(e2e *e, const char *url, const char *const *extra)
{
    char *argv[64];
    int n = 0;
    size_t i;

    argv[n++] = (char *)getenv("LATTICED_BIN");
    argv[n++] = (char *)"--nats-url";
    argv[n++] = (char *)url;
    argv[n++] = (char *)"--host-interval-ms";
    argv[n++] = (char *)"500";
    argv[n++] = (char *)"--warmup-ms";
    argv[n++] = (char *)"800";
    argv[n++] = (char *)"--lease-ttl-ms";
    argv[n++] = (char *)"2000";
    argv[n++] = (char *)"--command-timeout-ms";
    argv[n++] = (char *)"5000";
    argv[n++] = (char *)"--host-timeout-ms"; /* 5 heartbeats: robust under sanitizers */
    argv[n++] = (char *)"2500";
    for (i = 0; extra != NULL && extra[i] != NULL && n < 62; i++)
        argv[n++] = (char *)extra[i];
    argv[n] = NULL;
    return spawn(e, "latticed", argv[0], argv);
}

pid_t e2e_hosts(e2e *e, const char *lattice, const char *prefix, int n_hosts,
                const char *const *labels, const char *const *extra)
{
    char *argv[64], num[16];
    int n = 0;
    size_t i;

    snprintf(num, sizeof(num), "%d", n_hosts);
    argv[n++] = (char *)getenv("LATTICED_HOST_BIN");
    argv[n++] = (char *)"--nats-url";
    argv[n++] = e->urls;
    argv[n++] = (char *)"--lattice";
    argv[n++] = (char *)lattice;
    argv[n++] = (char *)"--simulate";
    argv[n++] = num;
    argv[n++] = (char *)"--id-prefix";
    argv[n++] = (char *)prefix;
    argv[n++] = (char *)"--heartbeat-interval";
    argv[n++] = (char *)"500ms";
    for (i = 0; labels != NULL && labels[i] != NULL && n < 58; i++) {
        argv[n++] = (char *)"--label";
        argv[n++] = (char *)labels[i];
    }
    for (i = 0; extra != NULL && extra[i] != NULL && n < 62; i++)
        argv[n++] = (char *)extra[i];
    argv[n] = NULL;
    return spawn(e, prefix, argv[0], argv);
}

int e2e_kill_status(e2e *e, pid_t pid, int sig, bool reap)
{
    size_t i;
    int status = -1;

    for (i = 0; i < e->n_procs; i++) {
        e2e_proc *p = &e->procs[i];
        int64_t deadline = e2e_now_ms() + 15000;

        if (p->pid != pid || !p->alive)
            continue;
        kill(pid, sig);
        if (!reap)
            return -1;
        if (sig != SIGKILL && sig != SIGCONT)
            kill(pid, SIGCONT); /* a stopped process must run to handle sig */
        while (waitpid(pid, &status, WNOHANG) == 0) {
            if (e2e_now_ms() > deadline) {
                kill(pid, SIGKILL);
                waitpid(pid, &status, 0);
                break;
            }
            e2e_sleep_ms(20);
        }
        p->alive = false;
    }
    return status;
}

void e2e_kill(e2e *e, pid_t pid, int sig, bool reap)
{
    (void)e2e_kill_status(e, pid, sig, reap);
}

void e2e_dump_logs(e2e *e)
{
    size_t i;

    for (i = 0; i < e->n_procs; i++) {
        char *data = NULL;
        size_t len = 0;

        if (lt_test_read_file(e->procs[i].log, 64u << 20, &data, &len) != LT_OK)
            continue;
        fprintf(stderr, "----- %s (pid %d), last lines -----\n%s\n", e->procs[i].name,
                (int)e->procs[i].pid, len > 6000 ? data + len - 6000 : data);
        free(data);
    }
}

static void print_status_kv(e2e *e, const char *lattice, const char *app)
{
    jsCtx *js = NULL;
    kvStore *kv = NULL;
    kvEntry *ent = NULL;
    char key[256];
    natsStatus s;

    snprintf(key, sizeof(key), "%s.%s", lattice, app);
    s = natsConnection_JetStream(&js, e->nc, NULL);
    if (s == NATS_OK)
        s = js_KeyValue(&kv, js, "latticed_status");
    if (s == NATS_OK)
        s = kvStore_Get(&ent, kv, key);
    if (s == NATS_OK)
        fprintf(stderr, "----- status KV %s (revision %llu) -----\n%.*s\n", key,
                (unsigned long long)kvEntry_Revision(ent), kvEntry_ValueLen(ent),
                kvEntry_ValueString(ent));
    else
        fprintf(stderr, "----- status KV %s: %s -----\n", key, natsStatus_GetText(s));
    kvEntry_Destroy(ent);
    kvStore_Destroy(kv);
    jsCtx_Destroy(js);
}

void e2e_diagnose(e2e *e, const char *lattice, const char *app)
{
    size_t i;

    print_status_kv(e, lattice, app);
    if (system("command -v gdb >/dev/null 2>&1") != 0)
        return;
    for (i = 0; i < e->n_procs; i++) {
        char cmd[256];

        if (!e->procs[i].alive || strcmp(e->procs[i].name, "latticed") != 0)
            continue;
        fprintf(stderr, "----- latticed (pid %d) threads -----\n", (int)e->procs[i].pid);
        fflush(stderr);
        snprintf(cmd, sizeof(cmd),
                 "gdb -batch -nx -ex 'thread apply all bt' -p %d 2>&1 | grep -E '^(Thread|#)' "
                 "1>&2",
                 (int)e->procs[i].pid);
        if (system(cmd) != 0)
            fprintf(stderr, "(gdb could not attach)\n");
    }
}

/* Sanitizer findings in any process's log (the processes are ASan builds in build-asan). */
static void check_logs(e2e *e)
{
    size_t i;

    for (i = 0; i < e->n_procs; i++) {
        char *data = NULL;
        size_t len = 0;
        const char *hit;

        if (lt_test_read_file(e->procs[i].log, 64u << 20, &data, &len) != LT_OK)
            continue;
        hit = strstr(data, "ERROR: AddressSanitizer");
        if (hit == NULL)
            hit = strstr(data, "ERROR: LeakSanitizer");
        if (hit == NULL)
            hit = strstr(data, "runtime error:");
        if (hit != NULL) {
            fprintf(stderr, "----- %s (pid %d) -----\n%.6000s\n", e->procs[i].name,
                    (int)e->procs[i].pid, hit);
            free(data);
            ck_abort_msg("sanitizer finding in %s", e->procs[i].name);
        }
        free(data);
    }
}

void e2e_free(e2e *e)
{
    size_t i;

    if (e == NULL)
        return;
    if (getenv("E2E_LOGS") != NULL)
        e2e_dump_logs(e);
    /* hosts first (they say goodbye), latticed last */
    for (i = e->n_procs; i-- > 0;)
        if (strcmp(e->procs[i].name, "latticed") != 0)
            e2e_kill(e, e->procs[i].pid, SIGTERM, true);
    for (i = 0; i < e->n_procs; i++)
        e2e_kill(e, e->procs[i].pid, SIGTERM, true);
    check_logs(e);
    /* Stop the observer's callbacks before freeing what they use: drain waits for the one
     * running (a plain destroy does not). */
    pthread_mutex_lock(&e->mu);
    e->closing = true;
    pthread_mutex_unlock(&e->mu);
    for (i = 0; i < e->n_subs; i++) {
        if (natsSubscription_Drain(e->subs[i]) == NATS_OK)
            natsSubscription_WaitForDrainCompletion(e->subs[i], 10000);
        natsSubscription_Destroy(e->subs[i]);
    }
    natsConnection_Close(e->nc);
    natsConnection_Destroy(e->nc);
    for (i = 0; i < e->n_hosts; i++) {
        free(e->hosts[i].inst);
        free(e->hosts[i].link_ids);
    }
    e2e_chaos_free(e);
    LT_IGNORE(lt_natsrv_stop(e->srv));
    LT_IGNORE(lt_natcluster_stop(e->cluster));
    LT_IGNORE(lt_test_rmtree(e->dir));
    free(e->dir);
    pthread_mutex_destroy(&e->mu);
    free(e);
}

/* ---------------------------------------------------------------------------------------------
 * Observer (nats.c thread; everything under e->mu)
 * ------------------------------------------------------------------------------------------- */

static obs_host *host_slot(e2e *e, const char *lattice, const char *id)
{
    size_t i;

    for (i = 0; i < e->n_hosts; i++)
        if (strcmp(e->hosts[i].id, id) == 0 && strcmp(e->hosts[i].lattice, lattice) == 0)
            return &e->hosts[i];
    if (e->n_hosts == MAX_HOSTS)
        return NULL;
    memset(&e->hosts[e->n_hosts], 0, sizeof(obs_host));
    snprintf(e->hosts[e->n_hosts].lattice, 64, "%s", lattice);
    snprintf(e->hosts[e->n_hosts].id, 128, "%s", id);
    return &e->hosts[e->n_hosts++];
}

static void link_drop(e2e *e, const char *lattice, const char *link_id, const char *source)
{
    size_t i = 0;

    while (i < e->n_links) {
        obs_link *l = &e->links[i];

        if (strcmp(l->lattice, lattice) == 0 && strcmp(l->source, source) == 0 &&
            (link_id == NULL || strcmp(l->link_id, link_id) == 0))
            *l = e->links[--e->n_links];
        else
            i++;
    }
}

static void on_link_request(e2e *e, const char *lattice, const char *host, natsMsg *msg)
{
    Latticed__Host__V1__LinkRequest *r =
        latticed__host__v1__link_request__unpack(NULL, (size_t)natsMsg_GetDataLength(msg),
                                                 (const uint8_t *)natsMsg_GetData(msg));
    size_t i, j;

    if (r == NULL)
        return;
    for (i = 0; i < r->n_links; i++) {
        Latticed__Host__V1__LinkSpec *l = r->links[i];
        obs_link *o;

        link_drop(e, lattice, l->link_id, l->source_instance_id);
        if (e->n_links == MAX_LINKS)
            break;
        o = &e->links[e->n_links++];
        memset(o, 0, sizeof(*o));
        snprintf(o->lattice, sizeof(o->lattice), "%s", lattice);
        snprintf(o->host, sizeof(o->host), "%s", host);
        snprintf(o->link_id, sizeof(o->link_id), "%s", l->link_id);
        snprintf(o->source, sizeof(o->source), "%s", l->source_instance_id);
        for (j = 0; j < l->n_source_config; j++) {
            size_t n = strlen(o->cfg);

            snprintf(o->cfg + n, sizeof(o->cfg) - n, "%s=%s;", l->source_config[j]->key,
                     l->source_config[j]->value);
        }
    }
    latticed__host__v1__link_request__free_unpacked(r, NULL);
}

static void on_command(e2e *e, const char *lattice, const char *host, const char *verb,
                       natsMsg *msg)
{
    size_t i;

    if (strcmp(verb, "link") == 0) {
        on_link_request(e, lattice, host, msg);
    } else if (strcmp(verb, "unlink") == 0) {
        Latticed__Host__V1__UnlinkRequest *r =
            latticed__host__v1__unlink_request__unpack(NULL, (size_t)natsMsg_GetDataLength(msg),
                                                       (const uint8_t *)natsMsg_GetData(msg));

        for (i = 0; r != NULL && i < r->n_items; i++)
            link_drop(e, lattice, r->items[i]->link_id, r->items[i]->source_instance_id);
        if (r != NULL)
            latticed__host__v1__unlink_request__free_unpacked(r, NULL);
    } else if (strcmp(verb, "stop") == 0) {
        Latticed__Host__V1__StopRequest *r =
            latticed__host__v1__stop_request__unpack(NULL, (size_t)natsMsg_GetDataLength(msg),
                                                     (const uint8_t *)natsMsg_GetData(msg));

        for (i = 0; r != NULL && i < r->n_items; i++)
            link_drop(e, lattice, NULL, r->items[i]->instance_id);
        if (r != NULL)
            latticed__host__v1__stop_request__free_unpacked(r, NULL);
    } else if (strcmp(verb, "start") == 0) {
        Latticed__Host__V1__StartRequest *r =
            latticed__host__v1__start_request__unpack(NULL, (size_t)natsMsg_GetDataLength(msg),
                                                      (const uint8_t *)natsMsg_GetData(msg));

        for (i = 0; i < e->n_start_lattices; i++)
            if (strcmp(e->start_lattice[i], lattice) == 0)
                break;
        if (i == e->n_start_lattices && i < 8)
            snprintf(e->start_lattice[e->n_start_lattices++], 64, "%s", lattice);
        if (i < 8 && r != NULL)
            e->starts[i] += r->n_instances;
        if (r != NULL)
            latticed__host__v1__start_request__free_unpacked(r, NULL);
    }
}

static const char *ann(const Latticed__Host__V1__Instance *in, const char *key);

static void keep_heartbeat(obs_host *h, const Latticed__Host__V1__Heartbeat *hb)
{
    size_t i;

    free(h->inst);
    free(h->link_ids);
    h->inst = calloc(hb->n_instances + 1, sizeof(*h->inst));
    h->link_ids = calloc(hb->n_link_ids + 1, sizeof(*h->link_ids));
    h->n_inst = hb->n_instances;
    h->n_link_ids = hb->n_link_ids;
    for (i = 0; i < hb->n_instances; i++) {
        const Latticed__Host__V1__Instance *in = hb->instances[i];
        obs_inst *o = &h->inst[i];

        snprintf(o->id, sizeof(o->id), "%s", in->instance_id);
        snprintf(o->app, sizeof(o->app), "%s", ann(in, "latticed.dev/app"));
        snprintf(o->comp, sizeof(o->comp), "%s", in->component_name);
        snprintf(o->version, sizeof(o->version), "%s", in->app_version);
        snprintf(o->image, sizeof(o->image), "%s", in->image_ref);
        o->state = in->state;
    }
    for (i = 0; i < hb->n_link_ids; i++)
        snprintf(h->link_ids[i], sizeof(h->link_ids[i]), "%s", hb->link_ids[i]);
    h->newest_epoch = hb->newest_epoch;
    h->interval_ms = hb->interval_ms;
    h->seen = true;
}

/* Host events carry the host id in their protobuf body too: decode the body only (no CE
 * header parsing on this hot path). */
static void on_event(e2e *e, const char *lattice, const char *type, natsMsg *msg)
{
    size_t len = (size_t)natsMsg_GetDataLength(msg);
    const uint8_t *data = (const uint8_t *)natsMsg_GetData(msg);
    obs_host *h;

    if (strcmp(type, "host.heartbeat") == 0) {
        Latticed__Host__V1__Heartbeat *hb = latticed__host__v1__heartbeat__unpack(NULL, len, data);

        if (hb == NULL)
            return;
        h = host_slot(e, lattice, hb->host_id);
        if (h != NULL) {
            keep_heartbeat(h, hb);
            h->at = e2e_now_ms();
            h->gone = false;
        }
        latticed__host__v1__heartbeat__free_unpacked(hb, NULL);
    } else if (strcmp(type, "host.stopping") == 0) {
        Latticed__Host__V1__HostStopping *m =
            latticed__host__v1__host_stopping__unpack(NULL, len, data);

        if (m == NULL)
            return;
        h = host_slot(e, lattice, m->host_id);
        if (h != NULL)
            h->gone = true;
        latticed__host__v1__host_stopping__free_unpacked(m, NULL);
    }
}

/* "lattice.{L}.evt.h.{id}.{type}" (or the older "lattice.{L}.evt.{type}"), or
 * "lattice.{L}.host.{id}.{verb}"; the rest (cp events, _INBOX replies) to e2e_chaos.c */
void e2e_on_msg(natsConnection *nc, natsSubscription *sub, natsMsg *msg, void *closure)
{
    e2e *e = closure;
    char subj[512], *tok[8], *save = NULL, *t;
    int n = 0;

    (void)nc;
    (void)sub;
    snprintf(subj, sizeof(subj), "%s", natsMsg_GetSubject(msg));
    for (t = strtok_r(subj, ".", &save); t != NULL && n < 8; t = strtok_r(NULL, ".", &save))
        tok[n++] = t;
    pthread_mutex_lock(&e->mu);
    if (e->closing) {
        /* shutting down: nothing */
    } else if (n == 7 && strcmp(tok[2], "evt") == 0 && strcmp(tok[3], "h") == 0) {
        char type[128];

        snprintf(type, sizeof(type), "%s.%s", tok[5], tok[6]);
        on_event(e, tok[1], type, msg);
    } else if (n == 5 && strcmp(tok[2], "evt") == 0) {
        char type[128];

        snprintf(type, sizeof(type), "%s.%s", tok[3], tok[4]);
        on_event(e, tok[1], type, msg);
    } else if (n == 5 && strcmp(tok[2], "host") == 0) {
        on_command(e, tok[1], tok[3], tok[4], msg);
        e2e_chaos_on_msg(e, tok, n, msg);
    } else {
        e2e_chaos_on_msg(e, tok, n, msg); /* cp events, replies on _INBOX */
    }
    pthread_mutex_unlock(&e->mu);
    natsMsg_Destroy(msg);
}

void e2e_observe(e2e *e, const char *lattice)
{
    char subj[256];

    ck_assert_uint_lt(e->n_subs, 8);
    snprintf(subj, sizeof(subj), "lattice.%s.>", lattice);
    ck_assert_int_eq(natsConnection_Subscribe(&e->subs[e->n_subs], e->nc, subj, e2e_on_msg, e),
                     NATS_OK);
    natsSubscription_SetPendingLimits(e->subs[e->n_subs], 1000000, 1024 * 1024 * 1024);
    e->n_subs++;
    ck_assert_int_eq(natsConnection_Flush(e->nc), NATS_OK);
}

bool e2e_fresh(const obs_host *h, const char *lattice)
{
    int64_t window =
        3 * (int64_t)h->interval_ms > FRESH_MS ? 3 * (int64_t)h->interval_ms : FRESH_MS;

    return h->seen && !h->gone && strcmp(h->lattice, lattice) == 0 && e2e_now_ms() - h->at < window;
}

static bool fresh(const obs_host *h, const char *lattice)
{
    return e2e_fresh(h, lattice);
}

static const char *ann(const Latticed__Host__V1__Instance *in, const char *key)
{
    size_t i;

    for (i = 0; i < in->n_annotations; i++)
        if (strcmp(in->annotations[i]->key, key) == 0)
            return in->annotations[i]->value;
    return "";
}

static bool match(const obs_inst *in, const char *app, const char *comp, const char *version)
{
    return (in->state == IS(RUNNING) || in->state == IS(STARTING)) &&
           (app == NULL || strcmp(in->app, app) == 0) &&
           (comp == NULL || strcmp(in->comp, comp) == 0) &&
           (version == NULL || strcmp(in->version, version) == 0);
}

size_t e2e_host_count(e2e *e, const char *lattice)
{
    size_t i, n = 0;

    pthread_mutex_lock(&e->mu);
    for (i = 0; i < e->n_hosts; i++)
        n += fresh(&e->hosts[i], lattice);
    pthread_mutex_unlock(&e->mu);
    return n;
}

size_t e2e_count(e2e *e, const char *lattice, const char *app, const char *comp,
                 const char *version, const char *host)
{
    size_t i, j, n = 0;

    pthread_mutex_lock(&e->mu);
    for (i = 0; i < e->n_hosts; i++) {
        const obs_host *h = &e->hosts[i];

        if (!fresh(h, lattice) || (host != NULL && strcmp(h->id, host) != 0))
            continue;
        for (j = 0; j < h->n_inst; j++)
            n += match(&h->inst[j], app, comp, version);
    }
    pthread_mutex_unlock(&e->mu);
    return n;
}

size_t e2e_count_image(e2e *e, const char *lattice, const char *app, const char *image_sub)
{
    size_t i, j, n = 0;

    pthread_mutex_lock(&e->mu);
    for (i = 0; i < e->n_hosts; i++) {
        const obs_host *h = &e->hosts[i];

        if (!fresh(h, lattice))
            continue;
        for (j = 0; j < h->n_inst; j++)
            n += match(&h->inst[j], app, NULL, NULL) && strstr(h->inst[j].image, image_sub) != NULL;
    }
    pthread_mutex_unlock(&e->mu);
    return n;
}

size_t e2e_max_per_host(e2e *e, const char *lattice, const char *app, const char *comp)
{
    size_t i, best = 0;
    char ids[MAX_HOSTS][128];
    size_t n;

    pthread_mutex_lock(&e->mu);
    n = e->n_hosts;
    for (i = 0; i < n; i++)
        snprintf(ids[i], 128, "%s", e->hosts[i].id);
    pthread_mutex_unlock(&e->mu);
    for (i = 0; i < n; i++) {
        size_t c = e2e_count(e, lattice, app, comp, NULL, ids[i]);

        if (c > best)
            best = c;
    }
    return best;
}

const char *e2e_busiest(e2e *e, const char *lattice, const char *app, const char *host_prefix)
{
    static char best_id[128];
    size_t i, best = 0;

    best_id[0] = '\0';
    for (i = 0; i < e->n_hosts; i++) {
        char id[128];
        size_t c;

        pthread_mutex_lock(&e->mu);
        snprintf(id, sizeof(id), "%s", e->hosts[i].id);
        pthread_mutex_unlock(&e->mu);
        if (strncmp(id, host_prefix, strlen(host_prefix)) != 0)
            continue;
        c = e2e_count(e, lattice, app, NULL, NULL, id);
        if (c >= best && c > 0) {
            best = c;
            snprintf(best_id, sizeof(best_id), "%s", id);
        }
    }
    return best_id;
}

size_t e2e_link_count(e2e *e, const char *lattice)
{
    size_t i, n = 0;

    pthread_mutex_lock(&e->mu);
    for (i = 0; i < e->n_hosts; i++)
        if (fresh(&e->hosts[i], lattice))
            n += e->hosts[i].n_link_ids;
    pthread_mutex_unlock(&e->mu);
    return n;
}

size_t e2e_links_with(e2e *e, const char *lattice, const char *cfg)
{
    size_t i, j, k, n = 0;

    pthread_mutex_lock(&e->mu);
    for (i = 0; i < e->n_links; i++) {
        const obs_link *l = &e->links[i];

        if (strcmp(l->lattice, lattice) != 0 || (cfg != NULL && strstr(l->cfg, cfg) == NULL))
            continue;
        for (j = 0; j < e->n_hosts; j++) {
            const obs_host *h = &e->hosts[j];
            bool src = false, installed = false;

            if (!fresh(h, lattice) || strcmp(h->id, l->host) != 0)
                continue;
            for (k = 0; k < h->n_inst; k++)
                src |= strcmp(h->inst[k].id, l->source) == 0;
            for (k = 0; k < h->n_link_ids; k++)
                installed |= strcmp(h->link_ids[k], l->link_id) == 0;
            n += src && installed;
        }
    }
    pthread_mutex_unlock(&e->mu);
    return n;
}

size_t e2e_starts_sent(e2e *e, const char *lattice)
{
    size_t i, n = 0;

    pthread_mutex_lock(&e->mu);
    for (i = 0; i < e->n_start_lattices; i++)
        if (strcmp(e->start_lattice[i], lattice) == 0)
            n = e->starts[i];
    pthread_mutex_unlock(&e->mu);
    return n;
}

/* ---------------------------------------------------------------------------------------------
 * API
 * ------------------------------------------------------------------------------------------- */

json_t *e2e_api(e2e *e, const char *lattice, const char *op, const char *name, const char *body,
                size_t len)
{
    char subj[512];
    natsMsg *reply = NULL;
    json_t *j = NULL;
    natsStatus s;
    int attempt;

    if (name != NULL)
        snprintf(subj, sizeof(subj), "wadm.api.%s.model.%s.%s", lattice, op, name);
    else
        snprintf(subj, sizeof(subj), "wadm.api.%s.model.%s", lattice, op);
    for (attempt = 0; attempt < 3; attempt++) { /* latticed may still be starting */
        s = natsConnection_Request(&reply, e->nc, subj, body != NULL ? body : "", (int)len, 10000);
        if (s == NATS_OK)
            break;
        e2e_sleep_ms(500);
    }
    ck_assert_msg(s == NATS_OK, "no API reply on %s: %s", subj, natsStatus_GetText(s));
    j = json_loadb(natsMsg_GetData(reply), (size_t)natsMsg_GetDataLength(reply), 0, NULL);
    ck_assert_msg(j != NULL, "API reply on %s is not JSON", subj);
    natsMsg_Destroy(reply);
    return j;
}

char *e2e_put_deploy(e2e *e, const char *lattice, const char *path)
{
    char *data = NULL, body[512], *out;
    size_t len = 0;
    json_t *put, *dep;
    const char *result, *name, *version;

    ck_assert_int_eq(lt_test_read_file(path, 1u << 20, &data, &len), LT_OK);
    put = e2e_api(e, lattice, "put", NULL, data, len);
    result = json_string_value(json_object_get(put, "result"));
    ck_assert_msg(result != NULL &&
                      (strcmp(result, "created") == 0 || strcmp(result, "newversion") == 0),
                  "put %s: %s", path, json_string_value(json_object_get(put, "message")));
    name = json_string_value(json_object_get(put, "name"));
    version = json_string_value(json_object_get(put, "current_version"));
    snprintf(body, sizeof(body), "{\"version\":\"%s\"}", version);
    dep = e2e_api(e, lattice, "deploy", name, body, strlen(body));
    result = json_string_value(json_object_get(dep, "result"));
    if (result != NULL && strcmp(result, "acknowledged") == 0) {
        out = strdup("acknowledged");
    } else {
        const char *msg = json_string_value(json_object_get(dep, "message"));

        out = malloc(1024);
        snprintf(out, 1024, "%s: %s", result != NULL ? result : "?", msg != NULL ? msg : "");
    }
    json_decref(put);
    json_decref(dep);
    free(data);
    return out;
}

char *e2e_status(e2e *e, const char *lattice, const char *app, char **message)
{
    json_t *r = e2e_api(e, lattice, "status", app, NULL, 0);
    json_t *st = json_object_get(json_object_get(json_object_get(r, "status"), "status"), "type");
    const char *msg = json_string_value(
        json_object_get(json_object_get(json_object_get(r, "status"), "status"), "message"));
    char *out = strdup(json_string_value(st) != NULL ? json_string_value(st) : "");

    if (message != NULL)
        *message = strdup(msg != NULL ? msg : "");
    json_decref(r);
    return out;
}

bool e2e_wait_status(e2e *e, const char *lattice, const char *app, const char *want,
                     int64_t timeout_ms)
{
    int64_t deadline = e2e_now_ms() + timeout_ms;

    for (;;) {
        char *st = e2e_status(e, lattice, app, NULL);
        bool ok = strcmp(st, want) == 0;

        free(st);
        if (ok)
            return true;
        if (e2e_now_ms() > deadline)
            return false;
        e2e_sleep_ms(200);
    }
}

bool e2e_wait(e2e *e, e2e_cond cond, void *arg, int64_t timeout_ms)
{
    int64_t deadline = e2e_now_ms() + timeout_ms;

    for (;;) {
        if (cond(e, arg))
            return true;
        if (e2e_now_ms() > deadline)
            return cond(e, arg);
        e2e_sleep_ms(100);
    }
}

/* ---------------------------------------------------------------------------------------------
 * Fault injection and logs
 * ------------------------------------------------------------------------------------------- */

lt_natsrv *e2e_natsrv(e2e *e)
{
    return e->srv;
}

const char *e2e_log_path(e2e *e, pid_t pid)
{
    size_t i;

    for (i = 0; i < e->n_procs; i++)
        if (e->procs[i].pid == pid)
            return e->procs[i].log;
    return NULL;
}

void e2e_require_bins(void)
{
    if (getenv("LATTICED_BIN") == NULL || getenv("LATTICED_HOST_BIN") == NULL) {
        printf("LATTICED_BIN / LATTICED_HOST_BIN not set (meson test sets them)\n");
        exit(1); /* a broken setup, never a skip */
    }
}

/* ---------------------------------------------------------------------------------------------
 * Real hosts, latticectl and /proc (issue 9: untested paths)
 * ------------------------------------------------------------------------------------------- */

pid_t e2e_real_host(e2e *e, const char *lattice, const char *id, const char *const *extra)
{
    char *argv[64];
    int n = 0;
    size_t i;

    argv[n++] = (char *)getenv("LATTICED_HOST_BIN");
    argv[n++] = (char *)"--nats-url";
    argv[n++] = e->urls;
    argv[n++] = (char *)"--lattice";
    argv[n++] = (char *)lattice;
    argv[n++] = (char *)"--host-id";
    argv[n++] = (char *)id;
    argv[n++] = (char *)"--heartbeat-interval";
    argv[n++] = (char *)"500ms";
    for (i = 0; extra != NULL && extra[i] != NULL && n < 62; i++)
        argv[n++] = (char *)extra[i];
    argv[n] = NULL;
    return spawn(e, id, argv[0], argv);
}

bool e2e_pid_running(pid_t pid)
{
    return lt_test_pid_running(pid);
}

size_t e2e_children(pid_t parent, pid_t *out, size_t max)
{
    DIR *d = opendir("/proc");
    struct dirent *de;
    size_t n = 0;

    ck_assert_ptr_nonnull(d);
    while ((de = readdir(d)) != NULL) {
        char *end;
        long pid = strtol(de->d_name, &end, 10);
        pid_t pp;
        char state;

        if (*end != '\0' || pid <= 0 || !lt_test_proc_stat((pid_t)pid, &pp, &state) ||
            pp != parent || state == 'Z' || state == 'X')
            continue;
        if (n < max)
            out[n] = (pid_t)pid;
        n++;
    }
    closedir(d);
    return n;
}

void e2e_ctl(e2e *e, const char *lattice, lt_test_cmd_result *res, const char *const *args)
{
    const char *argv[32];
    char url_env[300], lat_env[128];
    const char *env[] = { url_env, lat_env, NULL };
    lt_test_cmd cmd = { .argv = argv, .env = env, .timeout_ms = 30000 };
    size_t n = 0;

    ck_assert_msg(getenv("LATTICECTL_BIN") != NULL, "LATTICECTL_BIN not set");
    argv[n++] = getenv("LATTICECTL_BIN");
    for (size_t i = 0; args[i] != NULL && n < 31; i++)
        argv[n++] = args[i];
    argv[n] = NULL;
    snprintf(url_env, sizeof(url_env), "LATTICE_NATS_URL=%s", e->urls);
    snprintf(lat_env, sizeof(lat_env), "LATTICE_LATTICE=%s", lattice);
    ck_assert_int_eq(lt_test_run(&cmd, res), LT_OK);
}

size_t e2e_heard_since(e2e *e, const char *lattice, int64_t since_ms)
{
    size_t i, n = 0;

    pthread_mutex_lock(&e->mu);
    for (i = 0; i < e->n_hosts; i++)
        n += e->hosts[i].seen && strcmp(e->hosts[i].lattice, lattice) == 0 &&
             e->hosts[i].at >= since_ms;
    pthread_mutex_unlock(&e->mu);
    return n;
}
