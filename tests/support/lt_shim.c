/*
 * lt_shim.c - an LD_PRELOAD fault shim for tests: wraps the nats.c calls that
 * latticed's store, writer, lease and driver make (JetStream publish and
 * message gets, KV get/put/create/update/delete/watch, core publish and request,
 * natsMsgHeader_Get: where a subscription callback reads what it got, nats.c's
 * natsMsg_create: where its reader makes an incoming message, and
 * natsSubscription_NextMsg: where a synchronous subscriber such as a KV watcher takes one)
 * and, where a rule configured in the environment matches, fails the call,
 * loses its reply (the call is made, then NATS_TIMEOUT is returned as if the
 * ack never came) or delays it. Everything else passes through untouched.
 *
 *   LT_SHIM="RULE;RULE;..."   RULE = FUNC[:FIELD]...   (at most 16 rules)
 *     FUNC        a wrapped function name, or a glob over them ("kvStore_*")
 *     subj=GLOB   fnmatch() glob over the call's subject: the message subject,
 *                 or "$KV.<bucket>.<key>" for kvStore_* calls (default "*")
 *     mode=fail | lost_reply | drop | delay=MS   (default fail)
 *                 drop: the call is not made and NATS_OK returned, as if the message
 *                 was lost on its way (for publishes: they return nothing else)
 *     err=timeout|noresp|closed|notfound|err  status returned (default timeout)
 *     count=N     fire at most N times (default: always)
 *     skip=N      let the first N matching calls pass first
 *     onfile=PATH the rule is armed only while PATH exists (checked per call);
 *                 skip/count only advance while armed
 *     touch=PATH  create PATH when the rule fires (arms the onfile rules of PATH:
 *                 "after this reply is lost, reads fail")
 *   LT_SHIM_LOG=PATH   append one line "FUNC SUBJECT MODE" per fired rule
 *
 * Nested calls (a wrapped function that nats.c implements with another one)
 * pass through, so each API call is judged once. Thread-safe: rule counters
 * under one mutex, the sleep of a delay outside it. No allocation: the shim
 * is loaded into processes it knows nothing about. docs/testing.md.
 */
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <nats/nats.h>

#define SHIM_MAX_RULES 16
#define SHIM_MAX_TEXT 256

typedef enum {
    SHIM_FAIL = 0,
    SHIM_LOST_REPLY,
    SHIM_DROP,
    SHIM_DELAY
} shim_mode;

typedef struct {
    char func[SHIM_MAX_TEXT];
    char subj[SHIM_MAX_TEXT];
    char onfile[SHIM_MAX_TEXT];
    char touch[SHIM_MAX_TEXT];
    shim_mode mode;
    long delay_ms;
    natsStatus err;
    long count; /* < 0: unlimited */
    long skip;
    long seen, fired;
} shim_rule;

static shim_rule rules[SHIM_MAX_RULES];
static int nrules;
static char log_path[SHIM_MAX_TEXT];
static pthread_once_t once = PTHREAD_ONCE_INIT;
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static _Thread_local int depth;

static void copy_text(char *dst, const char *src, size_t n)
{
    size_t len = strnlen(src, n - 1);

    memcpy(dst, src, len);
    dst[len] = '\0';
}

static natsStatus err_of(const char *name)
{
    if (strcmp(name, "noresp") == 0)
        return NATS_NO_RESPONDERS;
    if (strcmp(name, "closed") == 0)
        return NATS_CONNECTION_CLOSED;
    if (strcmp(name, "notfound") == 0)
        return NATS_NOT_FOUND;
    if (strcmp(name, "err") == 0)
        return NATS_ERR;
    return NATS_TIMEOUT;
}

static void parse_field(shim_rule *r, const char *f)
{
    if (strncmp(f, "subj=", 5) == 0 || strncmp(f, "key=", 4) == 0)
        copy_text(r->subj, strchr(f, '=') + 1, sizeof(r->subj));
    else if (strcmp(f, "mode=fail") == 0)
        r->mode = SHIM_FAIL;
    else if (strcmp(f, "mode=lost_reply") == 0)
        r->mode = SHIM_LOST_REPLY;
    else if (strcmp(f, "mode=drop") == 0)
        r->mode = SHIM_DROP;
    else if (strncmp(f, "mode=delay=", 11) == 0 || strncmp(f, "delay=", 6) == 0) {
        r->mode = SHIM_DELAY;
        r->delay_ms = strtol(strrchr(f, '=') + 1, NULL, 10);
    } else if (strncmp(f, "err=", 4) == 0)
        r->err = err_of(f + 4);
    else if (strncmp(f, "count=", 6) == 0)
        r->count = strtol(f + 6, NULL, 10);
    else if (strncmp(f, "skip=", 5) == 0)
        r->skip = strtol(f + 5, NULL, 10);
    else if (strncmp(f, "onfile=", 7) == 0)
        copy_text(r->onfile, f + 7, sizeof(r->onfile));
    else if (strncmp(f, "touch=", 6) == 0)
        copy_text(r->touch, f + 6, sizeof(r->touch));
    else
        fprintf(stderr, "lt_shim: ignoring unknown field '%s'\n", f);
}

static void parse(void)
{
    const char *env = getenv("LT_SHIM"), *lp = getenv("LT_SHIM_LOG");
    char buf[4096], *save = NULL, *rule;

    if (lp != NULL)
        copy_text(log_path, lp, sizeof(log_path));
    if (env == NULL)
        return;
    copy_text(buf, env, sizeof(buf));
    for (rule = strtok_r(buf, ";", &save); rule != NULL && nrules < SHIM_MAX_RULES;
         rule = strtok_r(NULL, ";", &save)) {
        shim_rule *r = &rules[nrules];
        char *fsave = NULL, *f = strtok_r(rule, ":", &fsave);

        if (f == NULL)
            continue;
        memset(r, 0, sizeof(*r));
        copy_text(r->func, f, sizeof(r->func));
        copy_text(r->subj, "*", sizeof(r->subj));
        r->err = NATS_TIMEOUT;
        r->count = -1;
        while ((f = strtok_r(NULL, ":", &fsave)) != NULL)
            parse_field(r, f);
        nrules++;
    }
}

static void log_fire(const char *func, const char *subj, const shim_rule *r)
{
    static const char *const names[] = { "fail", "lost_reply", "drop", "delay" };
    char line[2 * SHIM_MAX_TEXT + 32];
    int n = snprintf(line, sizeof(line), "%s %s %s\n", func, subj ? subj : "-", names[r->mode]);
    int fd;

    if (n <= 0)
        return;
    if ((size_t)n >= sizeof(line))
        n = (int)sizeof(line) - 1;
    fprintf(stderr, "lt_shim: %s", line);
    if (log_path[0] == '\0' || (fd = open(log_path, O_WRONLY | O_CREAT | O_APPEND, 0600)) < 0)
        return;
    if (write(fd, line, (size_t)n) < 0)
        fprintf(stderr, "lt_shim: cannot write %s: %s\n", log_path, strerror(errno));
    close(fd);
}

/* The rule that fires for this call (a copy in *out), or false. */
static bool decide(const char *func, const char *subj, shim_rule *out)
{
    bool hit = false;

    pthread_once(&once, parse);
    if (nrules == 0 || depth > 0)
        return false;
    pthread_mutex_lock(&lock);
    for (int i = 0; i < nrules && !hit; i++) {
        shim_rule *r = &rules[i];

        if (fnmatch(r->func, func, 0) != 0 || fnmatch(r->subj, subj ? subj : "", 0) != 0)
            continue;
        if (r->onfile[0] != '\0' && access(r->onfile, F_OK) != 0)
            continue;
        if (r->seen++ < r->skip)
            continue;
        if (r->count >= 0 && r->fired >= r->count)
            continue;
        r->fired++;
        *out = *r;
        hit = true;
        if (r->touch[0] != '\0') { /* before the call goes on: later calls see it armed */
            int fd = open(r->touch, O_WRONLY | O_CREAT, 0600);

            if (fd >= 0)
                close(fd);
        }
    }
    pthread_mutex_unlock(&lock);
    if (hit)
        log_fire(func, subj, out);
    return hit;
}

static void *real(const char *name)
{
    void *p = dlsym(RTLD_NEXT, name);

    if (p == NULL) {
        fprintf(stderr, "lt_shim: no next definition of %s\n", name);
        abort();
    }
    return p;
}

static void sleep_ms(long ms)
{
    struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

    while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
        ;
}

static void kv_subject(char *out, size_t n, kvStore *kv, const char *key)
{
    snprintf(out, n, "$KV.%s.%s", kv != NULL ? kvStore_Bucket(kv) : "?", key ? key : "");
}

/*
 * WRAP: the body shared by every wrapper. PRE decides; `fail` returns the
 * rule's error; `delay` sleeps and calls; `lost_reply` calls, runs DROP (free
 * what the call returned) and returns NATS_TIMEOUT when the call succeeded.
 */
#define WRAP(NAME, SUBJ, PROTO, ARGS, DROP)                   \
    {                                                         \
        static void *next_;                                   \
        void *p_ = __atomic_load_n(&next_, __ATOMIC_ACQUIRE); \
        natsStatus(*fn) PROTO;                                \
        shim_rule r;                                          \
        natsStatus s;                                         \
        if (p_ == NULL) {                                     \
            p_ = real(NAME);                                  \
            __atomic_store_n(&next_, p_, __ATOMIC_RELEASE);   \
        }                                                     \
        *(void **)&fn = p_;                                   \
        if (!decide(NAME, SUBJ, &r)) {                        \
            depth++;                                          \
            s = fn ARGS;                                      \
            depth--;                                          \
            return s;                                         \
        }                                                     \
        if (r.mode == SHIM_FAIL)                              \
            return r.err;                                     \
        if (r.mode == SHIM_DROP)                              \
            return NATS_OK;                                   \
        if (r.mode == SHIM_DELAY)                             \
            sleep_ms(r.delay_ms);                             \
        depth++;                                              \
        s = fn ARGS;                                          \
        depth--;                                              \
        if (r.mode == SHIM_LOST_REPLY && s == NATS_OK) {      \
            DROP;                                             \
            return r.err;                                     \
        }                                                     \
        return s;                                             \
    }

#define NOTHING ((void)0)

/* ---- JetStream ------------------------------------------------------------------------------ */

natsStatus js_PublishMsg(jsPubAck **pa, jsCtx *js, natsMsg *msg, jsPubOptions *o, jsErrCode *e)
    WRAP(
        "js_PublishMsg", natsMsg_GetSubject(msg),
        (jsPubAck **, jsCtx *, natsMsg *, jsPubOptions *, jsErrCode *), (pa, js, msg, o, e),
        if (pa != NULL) {
            jsPubAck_Destroy(*pa);
            *pa = NULL;
        })

        natsStatus
    js_Publish(jsPubAck **pa, jsCtx *js, const char *subj, const void *data, int len,
               jsPubOptions *o, jsErrCode *e)
        WRAP(
            "js_Publish", subj,
            (jsPubAck **, jsCtx *, const char *, const void *, int, jsPubOptions *, jsErrCode *),
            (pa, js, subj, data, len, o, e),
            if (pa != NULL) {
                jsPubAck_Destroy(*pa);
                *pa = NULL;
            })

            natsStatus js_GetLastMsg(natsMsg **m, jsCtx *js, const char *stream, const char *subj,
                                     jsOptions *o, jsErrCode *e)
                WRAP("js_GetLastMsg", subj,
                     (natsMsg **, jsCtx *, const char *, const char *, jsOptions *, jsErrCode *),
                     (m, js, stream, subj, o, e),
                     {
                         natsMsg_Destroy(*m);
                         *m = NULL;
                     })

                    natsStatus
    js_DirectGetMsg(natsMsg **m, jsCtx *js, const char *stream, jsOptions *o,
                    jsDirectGetMsgOptions *dg)
        WRAP("js_DirectGetMsg",
             dg == NULL          ? NULL
             : dg->LastBySubject ? dg->LastBySubject
                                 : dg->NextBySubject,
             (natsMsg **, jsCtx *, const char *, jsOptions *, jsDirectGetMsgOptions *),
             (m, js, stream, o, dg),
             {
                 natsMsg_Destroy(*m);
                 *m = NULL;
             })

/* ---- KV ------------------------------------------------------------------------------------- */

#define KV_WRAP(NAME, PROTO, ARGS, DROP)         \
    {                                            \
        char subj[2 * SHIM_MAX_TEXT];            \
        kv_subject(subj, sizeof(subj), kv, key); \
        WRAP(NAME, subj, PROTO, ARGS, DROP)      \
    }

            natsStatus kvStore_Get(kvEntry **en, kvStore *kv, const char *key)
                KV_WRAP("kvStore_Get", (kvEntry **, kvStore *, const char *), (en, kv, key),
                        {
                            kvEntry_Destroy(*en);
                            *en = NULL;
                        })

    /* A watcher's creation (subject: $KV.<bucket>.<keys>): `fail` is JetStream not creating it. A
 * `lost_reply` watcher is stopped before it goes (its consumer's delete is answered by the
 * reader after any earlier message: wire/lt_conn.h). */
    natsStatus kvStore_Watch(kvWatcher **w, kvStore *kv, const char *keys, kvWatchOptions *o)
{
    const char *key = keys;

    KV_WRAP("kvStore_Watch", (kvWatcher **, kvStore *, const char *, kvWatchOptions *),
            (w, kv, keys, o), {
                (void)kvWatcher_Stop(*w);
                kvWatcher_Destroy(*w);
                *w = NULL;
            })
}

natsStatus kvStore_GetRevision(kvEntry **en, kvStore *kv, const char *key, uint64_t rev)
    KV_WRAP("kvStore_GetRevision", (kvEntry **, kvStore *, const char *, uint64_t),
            (en, kv, key, rev),
            {
                kvEntry_Destroy(*en);
                *en = NULL;
            })

        natsStatus kvStore_Put(uint64_t *rev, kvStore *kv, const char *key, const void *d, int len)
            KV_WRAP("kvStore_Put", (uint64_t *, kvStore *, const char *, const void *, int),
                    (rev, kv, key, d, len), NOTHING)

                natsStatus
    kvStore_PutString(uint64_t *rev, kvStore *kv, const char *key, const char *d)
        KV_WRAP("kvStore_PutString", (uint64_t *, kvStore *, const char *, const char *),
                (rev, kv, key, d), NOTHING)

            natsStatus
    kvStore_Create(uint64_t *rev, kvStore *kv, const char *key, const void *d, int len)
        KV_WRAP("kvStore_Create", (uint64_t *, kvStore *, const char *, const void *, int),
                (rev, kv, key, d, len), NOTHING)

            natsStatus
    kvStore_CreateString(uint64_t *rev, kvStore *kv, const char *key, const char *d)
        KV_WRAP("kvStore_CreateString", (uint64_t *, kvStore *, const char *, const char *),
                (rev, kv, key, d), NOTHING)

            natsStatus kvStore_Update(uint64_t *rev, kvStore *kv, const char *key, const void *d,
                                      int len, uint64_t last)
                KV_WRAP("kvStore_Update",
                        (uint64_t *, kvStore *, const char *, const void *, int, uint64_t),
                        (rev, kv, key, d, len, last), NOTHING)

                    natsStatus
    kvStore_UpdateString(uint64_t *rev, kvStore *kv, const char *key, const char *d, uint64_t last)
        KV_WRAP("kvStore_UpdateString",
                (uint64_t *, kvStore *, const char *, const char *, uint64_t),
                (rev, kv, key, d, last), NOTHING)

            natsStatus kvStore_Delete(kvStore *kv, const char *key)
                KV_WRAP("kvStore_Delete", (kvStore *, const char *), (kv, key), NOTHING)

    /* ---- core NATS -------------------------------------------------------------------------- */

    natsStatus natsConnection_Publish(natsConnection *nc, const char *subj, const void *d, int len)
        WRAP("natsConnection_Publish", subj, (natsConnection *, const char *, const void *, int),
             (nc, subj, d, len), NOTHING)

            natsStatus natsConnection_PublishMsg(natsConnection *nc, natsMsg *msg)
                WRAP("natsConnection_PublishMsg", natsMsg_GetSubject(msg),
                     (natsConnection *, natsMsg *), (nc, msg), NOTHING)

                    natsStatus
    natsConnection_PublishRequest(natsConnection *nc, const char *subj, const char *reply,
                                  const void *d, int len)
        WRAP("natsConnection_PublishRequest", subj,
             (natsConnection *, const char *, const char *, const void *, int),
             (nc, subj, reply, d, len), NOTHING)

            natsStatus natsConnection_Request(natsMsg **m, natsConnection *nc, const char *subj,
                                              const void *d, int len,
                                              int64_t timeout) WRAP("natsConnection_Request", subj,
                                                                    (natsMsg **, natsConnection *,
                                                                     const char *, const void *,
                                                                     int, int64_t),
                                                                    (m, nc, subj, d, len, timeout),
                                                                    {
                                                                        natsMsg_Destroy(*m);
                                                                        *m = NULL;
                                                                    })

                natsStatus natsConnection_RequestMsg(natsMsg **m, natsConnection *nc, natsMsg *req,
                                                     int64_t timeout)
                    WRAP("natsConnection_RequestMsg", natsMsg_GetSubject(req),
                         (natsMsg **, natsConnection *, natsMsg *, int64_t), (m, nc, req, timeout),
                         {
                             natsMsg_Destroy(*m);
                             *m = NULL;
                         })

    /* ---- message headers: what a subscription callback reads ---- */

    natsStatus natsMsgHeader_Get(natsMsg *msg, const char *key, const char **value)
        WRAP("natsMsgHeader_Get", msg != NULL ? natsMsg_GetSubject(msg) : NULL,
             (natsMsg *, const char *, const char **), (msg, key, value), NOTHING)

    /* ---- nats.c's reader: an incoming message is made into a natsMsg ---- */

    /* nats.c's own function (src/msg.h, exported, called through the PLT from the reader): the
 * reader calls it after matching the message to a subscription, before using that subscription,
 * so a `delay` here widens the window in which nats.c 3.4 holds the subscription unlocked
 * (lt_conn_sub_free in wire/lt_conn.h). Its subject is not NUL-terminated. */
    natsStatus natsMsg_create(natsMsg **newMsg, const char *subject, int subjLen, const char *reply,
                              int replyLen, const char *buf, int bufLen, int hdrLen);

natsStatus natsMsg_create(natsMsg **newMsg, const char *subject, int subjLen, const char *reply,
                          int replyLen, const char *buf, int bufLen, int hdrLen)
{
    char subj[SHIM_MAX_TEXT];
    size_t n = subjLen > 0 && (size_t)subjLen < sizeof(subj) ? (size_t)subjLen : 0;

    memcpy(subj, subject, n);
    subj[n] = '\0';
    WRAP("natsMsg_create", subj,
         (natsMsg **, const char *, int, const char *, int, const char *, int, int),
         (newMsg, subject, subjLen, reply, replyLen, buf, bufLen, hdrLen), {
             natsMsg_Destroy(*newMsg);
             *newMsg = NULL;
         })
}

/* ---- a message handed to a synchronous subscriber (a KV watcher) ---- */

/* The message a rule held in natsSubscription_NextMsg, until it is destroyed. */
static natsMsg *_Atomic held_msg;

/* Judged on the message it returns (subject: the message's), after the real call: a `delay`
 * holds that message before its caller gets it, so a test can stop the caller meanwhile (a KV
 * watcher stopped from another thread: kvWatcher_Next of nats.c 3.4 then leaks it). `fail`
 * destroys the message and returns the rule's error. The held message is watched: when it is
 * destroyed, natsMsg_Destroy below logs "natsMsg_Destroy SUBJECT delay". */
natsStatus natsSubscription_NextMsg(natsMsg **m, natsSubscription *sub, int64_t timeout)
{
    static void *next_;
    void *p_ = __atomic_load_n(&next_, __ATOMIC_ACQUIRE);
    natsStatus (*fn)(natsMsg **, natsSubscription *, int64_t);
    shim_rule r;
    natsStatus s;

    if (p_ == NULL) {
        p_ = real("natsSubscription_NextMsg");
        __atomic_store_n(&next_, p_, __ATOMIC_RELEASE);
    }
    *(void **)&fn = p_;
    depth++;
    s = fn(m, sub, timeout);
    depth--;
    if (s != NATS_OK || !decide("natsSubscription_NextMsg", natsMsg_GetSubject(*m), &r))
        return s;
    if (r.mode == SHIM_FAIL) {
        natsMsg_Destroy(*m);
        *m = NULL;
        return r.err;
    }
    if (r.mode == SHIM_DELAY) {
        atomic_store(&held_msg, *m);
        sleep_ms(r.delay_ms);
    }
    return s;
}

/* Passes through; logs when the message held above is destroyed (see natsSubscription_NextMsg). */
void natsMsg_Destroy(natsMsg *msg)
{
    static void *next_;
    void *p_ = __atomic_load_n(&next_, __ATOMIC_ACQUIRE);
    void (*fn)(natsMsg *);
    natsMsg *want = msg;
    shim_rule held = { .mode = SHIM_DELAY };

    if (p_ == NULL) {
        p_ = real("natsMsg_Destroy");
        __atomic_store_n(&next_, p_, __ATOMIC_RELEASE);
    }
    *(void **)&fn = p_;
    if (msg != NULL && atomic_compare_exchange_strong(&held_msg, &want, NULL))
        log_fire("natsMsg_Destroy", natsMsg_GetSubject(msg), &held);
    fn(msg);
}
