/*
 * host_driver.c - the test control plane of host_driver.h.
 */
#include "host_driver.h"

#include "lt_ce.h"

#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

int64_t drv_now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static const char *header(natsMsg *m, const char *k)
{
    const char *v = NULL;

    if (natsMsgHeader_Get(m, k, &v) != NATS_OK)
        return NULL;
    return v;
}

static void on_event(natsConnection *nc, natsSubscription *sub, natsMsg *m, void *closure)
{
    drv *d = closure;
    drv_event e;
    const char *t = header(m, "ce-type"), *src = header(m, "ce-source");
    const char *ct = header(m, "content-type");
    size_t tl;

    (void)nc;
    (void)sub;
    memset(&e, 0, sizeof(e));
    if (t != NULL && strncmp(t, "dev.latticed.", 13) == 0 && (tl = strlen(t)) > 16 &&
        strcmp(t + tl - 3, ".v1") == 0)
        snprintf(e.type, sizeof(e.type), "%.*s", (int)(tl - 16), t + 13);
    snprintf(e.source, sizeof(e.source), "%s", src != NULL ? src : "");
    snprintf(e.subject, sizeof(e.subject), "%s", natsMsg_GetSubject(m));
    e.headers_ok = header(m, "ce-specversion") != NULL &&
                   strcmp(header(m, "ce-specversion"), "1.0") == 0 && header(m, "ce-id") != NULL &&
                   strlen(header(m, "ce-id")) == 36 && header(m, "ce-time") != NULL && ct != NULL &&
                   strcmp(ct, "application/protobuf") == 0;
    {
        /* And the project's strict decoder (the scheduler's) accepts it. */
        lt_ce ce;

        lt_ce_init(&ce);
        e.headers_ok = e.headers_ok && lt_ce_from_msg(&ce, m) == LT_OK &&
                       ce.datatype == LT_CE_DATA_PROTOBUF && !ce.structured && ce.has_time &&
                       src != NULL && strcmp(ce.ev.source, src) == 0;
        lt_ce_cleanup(&ce);
    }
    e.at_ms = drv_now_ms();
    e.len = (size_t)natsMsg_GetDataLength(m);
    e.data = malloc(e.len + 1);
    if (e.len > 0)
        memcpy(e.data, natsMsg_GetData(m), e.len);
    if (strcmp(e.type, "instance.started") == 0) {
        e.started = 1;
    } else if (strcmp(e.type, "instances.started") == 0) {
        Latticed__Host__V1__InstancesStarted *b =
            latticed__host__v1__instances_started__unpack(NULL, e.len, e.data);

        e.started = b != NULL ? b->n_instances : 0;
        latticed__host__v1__instances_started__free_unpacked(b, NULL);
    }
    pthread_mutex_lock(&d->lock);
    if (d->n == d->cap) {
        d->cap = d->cap ? d->cap * 2 : 1024;
        d->ev = realloc(d->ev, d->cap * sizeof(*d->ev));
    }
    d->ev[d->n++] = e;
    pthread_mutex_unlock(&d->lock);
    natsMsg_Destroy(m);
}

void drv_open(drv *d, const char *url, const char *events_subject)
{
    natsOptions *o = NULL;

    memset(d, 0, sizeof(*d));
    pthread_mutex_init(&d->lock, NULL);
    ck_assert_int_eq(natsOptions_Create(&o), NATS_OK);
    ck_assert_int_eq(natsOptions_SetURL(o, url), NATS_OK);
    ck_assert_int_eq(natsConnection_Connect(&d->nc, o), NATS_OK);
    natsOptions_Destroy(o);
    ck_assert_int_eq(natsConnection_Subscribe(&d->sub, d->nc, events_subject, on_event, d),
                     NATS_OK);
    ck_assert_int_eq(natsSubscription_SetPendingLimits(d->sub, -1, -1), NATS_OK);
    ck_assert_int_eq(natsConnection_Flush(d->nc), NATS_OK);
}

void drv_close(drv *d)
{
    /* Drain: returns once no callback runs any more (d may be on the stack). */
    if (natsSubscription_Drain(d->sub) == NATS_OK)
        natsSubscription_WaitForDrainCompletion(d->sub, 10000);
    natsSubscription_Destroy(d->sub);
    natsConnection_Close(d->nc);
    natsConnection_Destroy(d->nc);
    for (size_t i = 0; i < d->n; i++)
        free(d->ev[i].data);
    free(d->ev);
    pthread_mutex_destroy(&d->lock);
    memset(d, 0, sizeof(*d));
}

static bool matches(const drv_event *e, const char *type, const char *source)
{
    return (type == NULL || strcmp(e->type, type) == 0) &&
           (source == NULL || strcmp(e->source, source) == 0);
}

size_t drv_count(drv *d, const char *type, const char *source)
{
    size_t n = 0;

    pthread_mutex_lock(&d->lock);
    for (size_t i = 0; i < d->n; i++)
        n += matches(&d->ev[i], type, source);
    pthread_mutex_unlock(&d->lock);
    return n;
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

size_t drv_sources(drv *d, const char *type)
{
    char **s;
    size_t n = 0, distinct = 0;

    pthread_mutex_lock(&d->lock);
    s = malloc((d->n + 1) * sizeof(*s));
    for (size_t i = 0; i < d->n; i++) {
        if (matches(&d->ev[i], type, NULL))
            s[n++] = d->ev[i].source;
    }
    qsort(s, n, sizeof(*s), cmp_str);
    for (size_t i = 0; i < n; i++)
        distinct += i == 0 || strcmp(s[i], s[i - 1]) != 0;
    pthread_mutex_unlock(&d->lock);
    free(s);
    return distinct;
}

size_t drv_started(drv *d, const char *source)
{
    size_t n = 0;

    pthread_mutex_lock(&d->lock);
    for (size_t i = 0; i < d->n; i++)
        if (source == NULL || strcmp(d->ev[i].source, source) == 0)
            n += d->ev[i].started;
    pthread_mutex_unlock(&d->lock);
    return n;
}

bool drv_wait_started(drv *d, const char *source, size_t n, int64_t timeout_ms)
{
    int64_t end = drv_now_ms() + timeout_ms;

    while (drv_started(d, source) < n) {
        if (drv_now_ms() > end)
            return false;
        usleep(5000);
    }
    return true;
}

bool drv_wait(drv *d, const char *type, const char *source, size_t n, int64_t timeout_ms)
{
    int64_t end = drv_now_ms() + timeout_ms;

    for (;;) {
        if (drv_count(d, type, source) >= n)
            return true;
        if (drv_now_ms() > end)
            return false;
        usleep(5000);
    }
}

ProtobufCMessage *drv_last(drv *d, const char *type, const char *source,
                           const ProtobufCMessageDescriptor *desc)
{
    ProtobufCMessage *m = NULL;

    pthread_mutex_lock(&d->lock);
    for (size_t i = d->n; i-- > 0;) {
        if (matches(&d->ev[i], type, source)) {
            m = protobuf_c_message_unpack(desc, NULL, d->ev[i].len, d->ev[i].data);
            break;
        }
    }
    pthread_mutex_unlock(&d->lock);
    return m;
}

bool drv_event_at(drv *d, size_t i, drv_event *out)
{
    bool ok;

    pthread_mutex_lock(&d->lock);
    ok = i < d->n;
    if (ok) {
        *out = d->ev[i];
        out->data = NULL; /* not shared: callers only look at the header fields */
    }
    pthread_mutex_unlock(&d->lock);
    return ok;
}

ProtobufCMessage *drv_request(drv *d, const char *subject, const ProtobufCMessage *m,
                              const ProtobufCMessageDescriptor *desc, int64_t timeout_ms)
{
    size_t n = protobuf_c_message_get_packed_size(m);
    uint8_t *buf = malloc(n + 1);
    natsMsg *reply = NULL;
    ProtobufCMessage *out = NULL;
    natsStatus s;

    protobuf_c_message_pack(m, buf);
    s = natsConnection_Request(&reply, d->nc, subject, buf, (int)n, timeout_ms);
    free(buf);
    if (s != NATS_OK)
        return NULL;
    out = protobuf_c_message_unpack(desc, NULL, (size_t)natsMsg_GetDataLength(reply),
                                    (const uint8_t *)natsMsg_GetData(reply));
    natsMsg_Destroy(reply);
    return out;
}

pid_t drv_spawn(const char *bin, char *const argv[], const char *log)
{
    pid_t pid;

    fflush(stdout); /* no buffered output duplicated into the child */
    fflush(stderr);
    pid = fork();
    if (pid < 0)
        abort(); /* no ck_assert: benchmarks call this outside Check tests too */
    if (pid == 0) {
        int fd = open(log, O_WRONLY | O_CREAT | O_APPEND, 0644);

        prctl(PR_SET_PDEATHSIG, SIGKILL); /* a failed test leaves no host behind */

        if (fd >= 0) {
            dup2(fd, STDOUT_FILENO);
            dup2(fd, STDERR_FILENO);
            close(fd);
        }
        if (getenv("LT_UNDER_VALGRIND") != NULL && access("/usr/bin/valgrind", X_OK) == 0) {
            /* meson test --setup=valgrind: check the host binary too. */
            char *vargv[80];
            int n = 0;

            vargv[n++] = (char *)"valgrind";
            vargv[n++] = (char *)"--quiet";
            vargv[n++] = (char *)"--error-exitcode=99";
            vargv[n++] = (char *)"--leak-check=full";
            vargv[n++] = (char *)"--errors-for-leak-kinds=definite";
            vargv[n++] = (char *)"--show-leak-kinds=definite";
            vargv[n++] = (char *)bin;
            for (int i = 1; argv[i] != NULL && n < 79; i++)
                vargv[n++] = argv[i];
            vargv[n] = NULL;
            execv("/usr/bin/valgrind", vargv);
        }
        execv(bin, argv);
        _exit(127);
    }
    return pid;
}

int drv_stop(pid_t pid, int sig, int64_t timeout_ms)
{
    int64_t end = drv_now_ms() + timeout_ms;
    int status;

    if (sig != 0)
        kill(pid, sig);
    for (;;) {
        pid_t r = waitpid(pid, &status, WNOHANG);

        if (r == pid)
            return status;
        if (r < 0 && errno != EINTR)
            return -1;
        if (drv_now_ms() > end) {
            kill(pid, SIGKILL);
            waitpid(pid, &status, 0);
            return -1;
        }
        usleep(10000);
    }
}

bool drv_pid_gone(pid_t pid)
{
    char path[64], buf[512];
    FILE *f;
    bool zombie = false;

    if (kill(pid, 0) != 0 && errno == ESRCH)
        return true;
    snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
    f = fopen(path, "r");
    if (f == NULL)
        return true;
    if (fgets(buf, sizeof(buf), f) != NULL) {
        const char *rp = strrchr(buf, ')');

        zombie = rp != NULL && rp[1] == ' ' && rp[2] == 'Z';
    }
    fclose(f);
    return zombie;
}
