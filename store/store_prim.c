/*
 * store_prim.c - the store's KV primitives: leader reads of a key's last
 * message (so a revision read is never stale), compare-and-set writes through
 * a JetStream publish with an expected last subject sequence (a conflict is
 * JetStream error 10071, typed) whose lost replies are resolved by sending the
 * same write again, and filtered scans. Every wait honours the thread's
 * deadline (lt_store_deadline_set).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "lt_alloc.h"
#include "lt_conn.h"
#include "lt_log.h"
#include "store_int.h"

#define KV_OP_HEADER "KV-Operation"
#define WRITE_ID_HEADER "Lt-Write-Id" /**< unique per write: tells ours apart on a read-back */
#define SCAN_QUIET_MS 2500 /* a scan's values quiet this long without the end marker: read again */
#define SCAN_READINGS 3    /* quiet 2.5, 5, 10 s (an API request's deadline cuts them short) */

static lt_status subject_of(const char *bucket, const char *key, lt_buf *out)
{
    lt_buf_reset(out);
    if (lt_buf_appendf(out, "$KV.%s.%s", bucket, key) != LT_OK)
        return LT_FAIL(LT_ERR_TOO_BIG, "subject too long");
    return LT_OK;
}

/* The last message of key (NULL when it never existed); LT_OK or a read failure. */
static lt_status kv_last_msg(lt_store *s, const char *bucket, const char *key, natsMsg **msg)
{
    char sbuf[LT__KEY_MAX], stream[LT__KEY_MAX];
    lt_buf subj;
    jsErrCode jerr = 0;
    natsStatus ns;
    lt_status st = LT_OK;
    *msg = NULL;
    jsOptions o;

    lt_buf_init_on(&subj, sbuf, sizeof(sbuf), LT__KEY_MAX);
    if ((st = subject_of(bucket, key, &subj)) != LT_OK)
        goto out;
    if (lt__store_out_of_time()) {
        st = LT_FAIL(LT_ERR_TIMEOUT, "cannot read %s: out of time", key);
        goto out;
    }
    snprintf(stream, sizeof(stream), "KV_%s", bucket);
    jsOptions_Init(&o);
    o.Wait = lt__store_wait_ms(LT__JS_WAIT_MS);
    ns = js_GetLastMsg(msg, s->js, stream, subj.ptr, &o, &jerr);
    if (ns == NATS_NOT_FOUND || jerr == JSNoMessageFoundErr) {
        natsMsg_Destroy(*msg);
        *msg = NULL; /* never written */
    } else if (ns != NATS_OK) {
        *msg = NULL;
        st = lt__store_nats_fail(ns, jerr, "cannot read", key);
    }
out:
    lt_buf_cleanup(&subj);
    return st;
}

lt_status lt__store_kv_last(lt_store *s, const char *bucket, const char *key, char **value,
                            size_t *len, uint64_t *rev)
{
    natsMsg *msg = NULL;
    const char *op = NULL;
    lt_status st;

    *value = NULL;
    if (len != NULL)
        *len = 0;
    *rev = 0;
    if ((st = kv_last_msg(s, bucket, key, &msg)) != LT_OK || msg == NULL)
        goto out;
    *rev = natsMsg_GetSequence(msg);
    if (natsMsgHeader_Get(msg, KV_OP_HEADER, &op) == NATS_OK && op != NULL)
        goto out; /* DEL or PURGE marker: deleted */
    *value = lt_strndup(natsMsg_GetData(msg), (size_t)natsMsg_GetDataLength(msg));
    if (*value == NULL) {
        st = LT_FAIL(LT_ERR_NOMEM, "out of memory");
        goto out;
    }
    if (len != NULL)
        *len = (size_t)natsMsg_GetDataLength(msg);
out:
    natsMsg_Destroy(msg);
    return st;
}

/*
 * Did a publish that failed without an answer from JetStream commit? Only a
 * failure that may have reached the stream (timeout, lost connection) is
 * ambiguous; JetStream's own error, no responders or a local error are not.
 */
static bool ambiguous(natsStatus ns, jsErrCode jerr)
{
    if (jerr != 0)
        return false;
    switch (ns) {
    case NATS_NO_RESPONDERS:
    case NATS_INVALID_ARG:
    case NATS_INVALID_SUBJECT:
    case NATS_MAX_PAYLOAD:
    case NATS_NO_MEMORY:
        return false;
    default:
        return true;
    }
}

static void backoff_sleep(unsigned attempt)
{
    int64_t ms = (int64_t)LT__RESOLVE_FIRST_MS << (attempt < 4 ? attempt : 4);

    nats_Sleep(lt__store_wait_ms(ms));
}

/*
 * Read key back after an ambiguous CAS that expected revision rev and carried
 * write id wid. LT_OK with *new_rev when the last message is ours
 * (committed); failed (the write's own status) when the key is still at rev
 * (not applied: only as sure as failed says; pass LT_ERR_AMBIGUOUS when a
 * write of ours may still be pending in the stream's log); LT_ERR_AMBIGUOUS
 * when it moved on without our write on top, or could not be read at all.
 */
static lt_status resolve(lt_store *s, const char *bucket, const char *key, uint64_t rev,
                         const char *wid, lt_status failed, uint64_t *new_rev)
{
    char why[256];
    natsMsg *msg = NULL;
    const char *got = NULL;
    lt_status st;

    snprintf(why, sizeof(why), "%s", lt_error_message());
    st = LT_FAIL(LT_ERR_TIMEOUT, "out of time"); /* when no read-back can begin */
    for (unsigned i = 0; i < LT__RESOLVE_TRIES && !lt__store_out_of_time(); i++) {
        if (i > 0)
            backoff_sleep(i - 1);
        if ((st = kv_last_msg(s, bucket, key, &msg)) == LT_OK)
            break;
    }
    if (st != LT_OK)
        return LT_FAIL(LT_ERR_AMBIGUOUS,
                       "%s; cannot read it back to learn whether it was applied: %s", why,
                       lt_error_message());
    if (msg == NULL ? rev == 0 : natsMsg_GetSequence(msg) == rev) {
        natsMsg_Destroy(msg);
        LT_DEBUG("store", "%s: not applied (%s)", key, why);
        return LT_FAIL(failed, "%s (read back: not applied%s)", why,
                       failed == LT_ERR_AMBIGUOUS ? " yet, and it may still be" : "");
    }
    if (msg != NULL && natsMsgHeader_Get(msg, WRITE_ID_HEADER, &got) == NATS_OK && got != NULL &&
        strcmp(got, wid) == 0) {
        if (new_rev != NULL)
            *new_rev = natsMsg_GetSequence(msg);
        natsMsg_Destroy(msg);
        LT_INFO("store", "%s: the reply was lost but the write was applied (%s)", key, why);
        return LT_OK;
    }
    natsMsg_Destroy(msg);
    return LT_FAIL(LT_ERR_AMBIGUOUS,
                   "%s; %s changed since, so whether this write was applied is unknown", why, key);
}

/*
 * The write msg (write id wid, expecting revision rev under po) got no answer (failed): send the
 * same message again until JetStream answers, the tries run out or the thread's deadline passes.
 * A read-back alone cannot tell "not applied" from "not applied yet": in a cluster the first
 * write may wait in the stream's log for a quorum and land later, after we said it failed. The
 * same write again settles it. Both carry the write id as Nats-Msg-Id, so JetStream stores at
 * most one of them (deduplication is judged when a write is applied; nats-server 2.9 judges the
 * expected revision of a clustered write only when it is proposed, so that alone would let both
 * land): an acknowledgement (new, or "duplicate" with the first one's sequence) means applied,
 * and a conflict is resolved by reading the key back (our write id on top: applied).
 */
static lt_status send_again(lt_store *s, const char *bucket, const char *key, uint64_t rev,
                            const char *wid, natsMsg *msg, jsPubOptions *po, lt_status failed,
                            uint64_t *new_rev)
{
    char why[256];

    snprintf(why, sizeof(why), "%s", lt_error_message());
    for (unsigned i = 0; i < LT__RESOLVE_TRIES && !lt__store_out_of_time(); i++) {
        jsPubAck *pa = NULL;
        jsErrCode jerr = 0;
        natsStatus ns;

        backoff_sleep(i);
        if (lt__store_out_of_time())
            break;
        po->MaxWait = lt__store_wait_ms(LT__JS_WAIT_MS);
        ns = js_PublishMsg(&pa, s->js, msg, po, &jerr);
        if (ns == NATS_OK && new_rev != NULL)
            *new_rev = pa->Sequence;
        jsPubAck_Destroy(pa);
        if (ns == NATS_OK) {
            LT_INFO("store", "%s: no answer to its write (%s); sent again: applied", key, why);
            return LT_OK;
        }
        if (jerr == JSStreamWrongLastSequenceErr) { /* moved: by our first write, or another */
            LT_FAIL(failed, "%s", why);
            /* a leader that has not applied its log yet shows the old revision: not proof */
            return resolve(s, bucket, key, rev, wid, LT_ERR_AMBIGUOUS, new_rev);
        }
        if (!ambiguous(ns, jerr))
            return LT_FAIL(LT_ERR_AMBIGUOUS,
                           "%s; sent again: %s (JetStream error %d), so whether it was applied is "
                           "unknown",
                           why, natsStatus_GetText(ns), (int)jerr);
    }
    return LT_FAIL(LT_ERR_AMBIGUOUS,
                   "%s; no answer when sent again either, so whether it was applied is unknown",
                   why);
}

lt_status lt__store_kv_cas(lt_store *s, const char *bucket, const char *key, const void *data,
                           size_t len, bool del, uint64_t rev, uint64_t *new_rev)
{
    char sbuf[LT__KEY_MAX], wid[LT_STORE_ULID_LEN + 1];
    lt_buf subj;
    natsMsg *msg = NULL;
    jsPubAck *pa = NULL;
    jsPubOptions po;
    jsErrCode jerr = 0;
    natsStatus ns;
    lt_status st = LT_OK;

    lt_buf_init_on(&subj, sbuf, sizeof(sbuf), LT__KEY_MAX);
    if ((st = subject_of(bucket, key, &subj)) != LT_OK)
        goto out;
    if (len > LT_STORE_MAX_VALUE_BYTES) {
        st = LT_FAIL(LT_ERR_TOO_BIG, "value of %s is %zu bytes (limit %u)", key, len,
                     LT_STORE_MAX_VALUE_BYTES);
        goto out;
    }
    lt_store_ulid(wid);
    ns = natsMsg_Create(&msg, subj.ptr, NULL, del ? NULL : data, del ? 0 : (int)len);
    if (ns == NATS_OK && del)
        ns = natsMsgHeader_Set(msg, KV_OP_HEADER, "DEL");
    if (ns == NATS_OK)
        ns = natsMsgHeader_Set(msg, WRITE_ID_HEADER, wid);
    if (ns != NATS_OK) {
        st = lt__store_nats_fail(ns, 0, "cannot build the write of", key);
        goto out;
    }
    if (lt__store_out_of_time()) { /* not sent: a definite failure */
        st = LT_FAIL(LT_ERR_TIMEOUT, "cannot write %s: out of time", key);
        goto out;
    }
    jsPubOptions_Init(&po);
    po.MaxWait = lt__store_wait_ms(LT__JS_WAIT_MS);
    po.MsgId = wid; /* one of its sends lands at most (send_again) */
    if (rev == 0)
        po.ExpectNoMessage = true;
    else
        po.ExpectLastSubjectSeq = rev;
    ns = js_PublishMsg(&pa, s->js, msg, &po, &jerr);
    if (jerr == JSStreamWrongLastSequenceErr) {
        st = LT_FAIL(LT_ERR_CONFLICT, "%s changed since revision %llu", key,
                     (unsigned long long)rev);
        goto out;
    }
    if (ns != NATS_OK) {
        st = lt__store_nats_fail(ns, jerr, "cannot write", key);
        if (ambiguous(ns, jerr))
            st = send_again(s, bucket, key, rev, wid, msg, &po, st, new_rev);
        goto out;
    }
    if (new_rev != NULL)
        *new_rev = pa->Sequence;
out:
    jsPubAck_Destroy(pa);
    natsMsg_Destroy(msg);
    lt_buf_cleanup(&subj);
    return st;
}

/* ---- a compare-and-set sent now and awaited later ------------------------------------------ */

#define EXPECT_SEQ_HEADER "Nats-Expected-Last-Subject-Sequence"
#define MSG_ID_HEADER "Nats-Msg-Id"
#define ACK_WAIT_MS LT__JS_WAIT_MS /**< as long as a waited write */

lt_status lt__store_kv_cas_send(lt_store *s, natsConnection *nc, const char *bucket,
                                const char *key, const void *data, size_t len, uint64_t rev,
                                lt__store_pending *p)
{
    char subj[LT__KEY_MAX], seq[24];
    lt_buf sb;
    natsInbox *inbox = NULL;
    natsMsg *msg = NULL;
    natsStatus ns;
    lt_status st;

    memset(p, 0, sizeof(*p));
    p->s = s;
    p->nc = nc;
    p->bucket = bucket;
    p->rev = rev;
    snprintf(p->key, sizeof(p->key), "%s", key);
    lt_buf_init_on(&sb, subj, sizeof(subj), LT__KEY_MAX);
    if ((st = subject_of(bucket, key, &sb)) != LT_OK)
        goto out;
    if (len > LT_STORE_MAX_VALUE_BYTES) {
        st = LT_FAIL(LT_ERR_TOO_BIG, "value of %s is %zu bytes (limit %u)", key, len,
                     LT_STORE_MAX_VALUE_BYTES);
        goto out;
    }
    lt_store_ulid(p->wid);
    snprintf(seq, sizeof(seq), "%llu", (unsigned long long)rev);
    /* The reply's own inbox, subscribed before the write goes out on the same connection. */
    ns = natsInbox_Create(&inbox);
    if (ns == NATS_OK)
        ns = natsConnection_SubscribeSync(&p->sub, nc, inbox);
    if (ns == NATS_OK)
        ns = natsMsg_Create(&msg, sb.ptr, inbox, data, (int)len);
    if (ns == NATS_OK)
        ns = natsMsgHeader_Set(msg, EXPECT_SEQ_HEADER, seq);
    if (ns == NATS_OK)
        ns = natsMsgHeader_Set(msg, MSG_ID_HEADER, p->wid); /* as lt__store_kv_cas */
    if (ns == NATS_OK)
        ns = natsMsgHeader_Set(msg, WRITE_ID_HEADER, p->wid);
    if (ns != NATS_OK) {
        st = lt__store_nats_fail(ns, 0, "cannot build the write of", key);
        goto out;
    }
    if ((ns = natsConnection_PublishMsg(nc, msg)) != NATS_OK) {
        /* never handed to the server: nothing to resolve */
        st = lt__store_nats_fail(ns, 0, "cannot write", key);
        goto out;
    }
    p->sent = true;
out:
    natsMsg_Destroy(msg);
    natsInbox_Destroy(inbox);
    lt_buf_cleanup(&sb);
    if (st != LT_OK) {
        natsSubscription_Destroy(p->sub);
        p->sub = NULL;
    }
    return st;
}

/* The answer of JetStream to a write: LT_OK with *seq, a definite failure, or timeout. */
static lt_status pub_ack(const lt__store_pending *p, natsMsg *msg, uint64_t *seq)
{
    const char *data = natsMsg_GetData(msg);
    int len = natsMsg_GetDataLength(msg);
    json_t *o = data != NULL && len > 0 ? json_loadb(data, (size_t)len, 0, NULL) : NULL;
    const json_t *err = json_object_get(o, "error");
    lt_status st = LT_OK;

    if (json_is_object(err)) {
        long long code = json_integer_value(json_object_get(err, "err_code"));
        const char *why = json_string_value(json_object_get(err, "description"));

        st = LT_FAIL(code == JSStreamWrongLastSequenceErr ? LT_ERR_CONFLICT : LT_ERR_TRANSPORT,
                     "cannot write %s: %s", p->key, why != NULL ? why : "JetStream refused it");
    } else if (json_is_integer(json_object_get(o, "seq"))) {
        *seq = (uint64_t)json_integer_value(json_object_get(o, "seq"));
    } else { /* no responders (a status message without a body), or not JetStream's */
        st = LT_FAIL(LT_ERR_TRANSPORT, "cannot write %s: no JetStream stream answered", p->key);
    }
    json_decref(o);
    return st;
}

lt_status lt__store_kv_cas_wait(lt__store_pending *p, uint64_t *new_rev)
{
    natsMsg *msg = NULL;
    uint64_t seq = 0;
    natsStatus ns;
    lt_status st;

    if (!p->sent)
        return LT_FAIL(LT_ERR_STATE, "no write of %s was sent", p->key);
    ns = natsSubscription_NextMsg(&msg, p->sub, lt__store_wait_ms(ACK_WAIT_MS));
    if (ns == NATS_OK) {
        st = pub_ack(p, msg, &seq);
        if (st == LT_OK && new_rev != NULL)
            *new_rev = seq;
    } else {
        st = lt__store_nats_fail(ns, 0, "no answer to the write of", p->key);
        /* the answer may be arriving now: the inbox goes once nats.c's reader is done with it */
        lt_conn_sub_free(p->nc, p->sub, lt__store_wait_ms(LT_CONN_SETTLE_MS));
        p->sub = NULL;
        st = resolve(p->s, p->bucket, p->key, p->rev, p->wid, st, new_rev);
    }
    natsMsg_Destroy(msg);
    natsSubscription_Destroy(p->sub); /* the one answer came: nothing else will */
    p->sub = NULL;
    p->sent = false;
    return st;
}

static int item_cmp(const void *a, const void *b)
{
    return strcmp(((const lt__store_kv_item *)a)->key, ((const lt__store_kv_item *)b)->key);
}

void lt__store_kv_items_free(lt__store_kv_item *items, size_t count)
{
    for (size_t i = 0; i < count; i++) {
        lt_free(items[i].key);
        lt_free(items[i].value);
    }
    lt_free(items);
}

/* What lt__store_kv_scan collects: the values of the reading under way. */
typedef struct {
    lt__store_kv_item *items;
    size_t n, cap;
    lt_status st;
} scan_ctx;

static void scan_restart(void *arg)
{
    scan_ctx *c = arg;

    lt__store_kv_items_free(c->items, c->n);
    *c = (scan_ctx){ .st = LT_OK };
}

static void scan_one(kvEntry *e, void *arg)
{
    scan_ctx *c = arg;
    lt__store_kv_item *it;

    if (c->st != LT_OK)
        return;
    if (c->n == c->cap) {
        size_t ncap = c->cap ? c->cap * 2 : 16;
        lt__store_kv_item *p = lt_realloc(c->items, ncap * sizeof(*p));

        if (p == NULL) {
            c->st = LT_FAIL(LT_ERR_NOMEM, "out of memory");
            return;
        }
        c->items = p;
        c->cap = ncap;
    }
    it = &c->items[c->n++];
    it->len = (size_t)kvEntry_ValueLen(e);
    it->key = lt_strdup(kvEntry_Key(e));
    it->value = lt_strndup(kvEntry_Value(e), it->len);
    if (it->key == NULL || it->value == NULL)
        c->st = LT_FAIL(LT_ERR_NOMEM, "out of memory");
}

lt_status lt__store_kv_scan(lt_store *s, kvStore *kv, const char *filter, lt__store_kv_item **out,
                            size_t *count)
{
    /* A reading whose end marker never comes (store_read_all.c) is done again, within the
     * request's deadline, rather than failing the list. */
    lt_store_read_opts o = { .what = filter,
                             .filter = filter,
                             .ignore_deletes = true,
                             .wait_ms = SCAN_QUIET_MS,
                             .tries = SCAN_READINGS,
                             .restart = scan_restart };
    scan_ctx c = { .st = LT_OK };
    size_t n = 0;
    lt_status st;

    *out = NULL;
    *count = 0;
    st = lt_store_kv_read_all(kv, s->nc, &o, scan_one, &c, NULL, &n);
    if (st != LT_OK && st != LT_ERR_TIMEOUT && st != LT_ERR_NOMEM && st != LT_ERR_CLOSED)
        st = LT_FAIL(LT_ERR_TRANSPORT, "%s", lt_error_message()); /* not "no such app" */
    if (st == LT_OK)
        st = c.st;
    if (st != LT_OK) {
        lt__store_kv_items_free(c.items, c.n);
        return st;
    }
    if (c.n > 1)
        qsort(c.items, c.n, sizeof(*c.items), item_cmp);
    *out = c.items;
    *count = c.n;
    return LT_OK;
}
