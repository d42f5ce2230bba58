/*
 * store_settle.c - settings enforced on assets that already exist: a KV
 * bucket or stream created earlier with other replicas, storage or history
 * than latticed is now started with is updated where JetStream allows it
 * (replicas and history: js_UpdateStream) and refused otherwise (storage
 * type), with a message naming the flag and how to migrate.
 */
#include <stdio.h>
#include <string.h>

#include "lt_conn.h"
#include "lt_log.h"
#include "store_int.h"

static const char *storage_word(jsStorageType t)
{
    return t == js_MemoryStorage ? "memory" : "file";
}

static lt_status refuse_replicas(const char *stream, const char *what, int have, int want,
                                 const char *why, int jerr)
{
    return LT_FAIL(LT_ERR_REFUSED,
                   "%s (stream %s) has %d replica(s) but latticed was started with --replicas "
                   "%d, which cannot be applied: %s (JetStream error %d; a single server holds "
                   "1 replica, a cluster at most as many as it has servers). Start latticed "
                   "with --replicas %d, or change it where the servers allow it: `nats stream "
                   "edit %s --replicas %d`",
                   what, stream, have, want, why, jerr, have, stream, want);
}

lt_status lt_store_stream_settle(jsCtx *js, const char *stream, const char *what,
                                 const lt_store_settings *want)
{
    jsStreamInfo *si = NULL, *upd = NULL;
    jsStreamConfig sc;
    jsErrCode jerr = 0;
    jsStorageType storage = want->memory ? js_MemoryStorage : js_FileStorage;
    int replicas = want->replicas > 0 ? want->replicas : 1;
    bool change = false;
    natsStatus ns;
    lt_status st = LT_OK;

    ns = js_GetStreamInfo(&si, js, stream, NULL, &jerr);
    if (ns != NATS_OK) {
        st = LT_FAIL(ns == NATS_NOT_FOUND ? LT_ERR_NOT_FOUND : lt_conn_status(ns),
                     "cannot read the configuration of %s (stream %s): %s", what, stream,
                     natsStatus_GetText(ns));
        goto out;
    }
    if (si->Config->Storage != storage) {
        st = LT_FAIL(LT_ERR_REFUSED,
                     "%s (stream %s) has %s storage but latticed was started with --storage %s, "
                     "and JetStream cannot change the storage of a stream. Start latticed with "
                     "--storage %s, or migrate: save what it holds, remove it with `nats stream "
                     "rm %s` and start latticed again to create it with %s storage "
                     "(docs/operations.md, \"Changing storage or replicas\")",
                     what, stream, storage_word(si->Config->Storage), storage_word(storage),
                     storage_word(si->Config->Storage), stream, storage_word(storage));
        goto out;
    }
    if (replicas > 1 && (si->Cluster == NULL || si->Cluster->Name == NULL ||
                         si->Cluster->Name[0] == '\0')) { /* it would accept and hold one copy */
        st = refuse_replicas(stream, what, si->Config->Replicas, replicas,
                             "the server is not part of a JetStream cluster", 0);
        goto out;
    }
    sc = *si->Config;
    if (sc.Replicas != replicas) {
        LT_INFO("store", "%s: replicas %d -> %d (--replicas)", what, (int)sc.Replicas, replicas);
        sc.Replicas = replicas;
        change = true;
    }
    if (want->history > 0 && sc.MaxMsgsPerSubject != want->history) {
        LT_INFO("store", "%s: history %lld -> %lld", what, (long long)sc.MaxMsgsPerSubject,
                (long long)want->history);
        sc.MaxMsgsPerSubject = want->history;
        change = true;
    }
    if (want->max_bytes > 0 && sc.MaxBytes != want->max_bytes) {
        LT_INFO("store", "%s: size bound %lld -> %lld bytes", what, (long long)sc.MaxBytes,
                (long long)want->max_bytes);
        sc.MaxBytes = want->max_bytes;
        change = true;
    }
    if (!change)
        goto out;
    jerr = 0;
    ns = js_UpdateStream(&upd, js, &sc, NULL, &jerr);
    if (ns == NATS_OK && upd->Config->Replicas != replicas) {
        st = refuse_replicas(stream, what, upd->Config->Replicas, replicas,
                             "JetStream kept the old number", 0);
        goto out;
    }
    if (ns != NATS_OK) {
        const char *why = nats_GetLastError(NULL);

        if (si->Config->Replicas != replicas)
            st = refuse_replicas(stream, what, si->Config->Replicas, replicas,
                                 why != NULL ? why : natsStatus_GetText(ns), (int)jerr);
        else
            st =
                LT_FAIL(lt_conn_status(ns), "cannot update %s (stream %s): %s (JetStream error %d)",
                        what, stream, why != NULL ? why : natsStatus_GetText(ns), (int)jerr);
        goto out;
    }
out:
    jsStreamInfo_Destroy(upd);
    jsStreamInfo_Destroy(si);
    return st;
}

lt_status lt_store_bucket_ensure(jsCtx *js, const char *bucket, const char *description,
                                 const lt_store_settings *want, kvStore **new_kv)
{
    char stream[LT__KEY_MAX], what[LT__KEY_MAX];
    kvStore *kv = NULL;
    kvConfig kc;
    natsStatus ns;
    lt_status st;

    if (new_kv != NULL)
        *new_kv = NULL;
    snprintf(stream, sizeof(stream), "KV_%s", bucket);
    snprintf(what, sizeof(what), "KV bucket %s", bucket);
    ns = js_KeyValue(&kv, js, bucket);
    if (ns == NATS_NOT_FOUND) {
        kvConfig_Init(&kc);
        kc.Bucket = bucket;
        kc.Description = description;
        kc.History = (uint8_t)(want->history > 0 ? want->history : 1);
        kc.Replicas = want->replicas > 0 ? want->replicas : 1;
        kc.StorageType = want->memory ? js_MemoryStorage : js_FileStorage;
        kc.TTL = want->ttl_ms * 1000000LL;
        ns = js_CreateKeyValue(&kv, js, &kc);
        if (ns == NATS_OK) {
            LT_INFO("store", "created KV bucket %s (replicas %d, %s)", bucket, kc.Replicas,
                    want->memory ? "memory" : "file");
        } else { /* another replica may have created it meanwhile: check it like any other */
            kvStore_Destroy(kv);
            kv = NULL;
            ns = js_KeyValue(&kv, js, bucket);
        }
    }
    if (ns != NATS_OK) {
        st = LT_FAIL(lt_conn_status(ns), "cannot open or create KV bucket %s: %s", bucket,
                     nats_GetLastError(NULL) != NULL ? nats_GetLastError(NULL)
                                                     : natsStatus_GetText(ns));
        goto out;
    }
    if ((st = lt_store_stream_settle(js, stream, what, want)) != LT_OK)
        goto out;
    if (new_kv != NULL) {
        *new_kv = kv;
        kv = NULL;
    }
out:
    kvStore_Destroy(kv);
    return st;
}
