/*
 * lt_store.c - idempotent creation of latticed's JetStream assets, and
 * opening/closing the store handle on them.
 */
#include "lt_store.h"

#include <stdio.h>
#include <string.h>

#include "lt_alloc.h"
#include "lt_conn.h"
#include "lt_log.h"
#include "lt_subject.h"
#include "store_int.h"

static int replicas_of(const lt_store_config *cfg)
{
    return cfg->replicas > 0 ? cfg->replicas : 1;
}

static lt_status ensure_events(jsCtx *js, const lt_store_config *cfg)
{
    const char *name = cfg->events_stream ? cfg->events_stream : LT_STORE_EVENTS_STREAM;
    char all_cp[LT_MAX_SUBJECT];
    const char *subject = cfg->events_subjects != NULL ? cfg->events_subjects : all_cp;
    lt_store_settings want = { .replicas = replicas_of(cfg), .memory = cfg->memory };
    char what[LT__KEY_MAX];
    jsStreamInfo *si = NULL;
    jsStreamConfig sc;
    jsErrCode jerr = 0;
    natsStatus s;

    if (lt_subject_cp_events(all_cp, sizeof(all_cp), LT_SUBJECT_LATTICE_PREFIX, LT_SUBJECT_ANY) !=
        LT_OK)
        return LT_FAIL(LT_ERR_TOO_BIG, "event stream subject too long");
    jsStreamConfig_Init(&sc);
    sc.Name = name;
    sc.Description = "latticed control plane events";
    sc.Subjects = &subject;
    sc.SubjectsLen = 1;
    sc.Retention = js_LimitsPolicy;
    sc.Discard = js_DiscardOld;
    sc.MaxBytes = cfg->events_max_bytes > 0 ? cfg->events_max_bytes : 64 * 1024 * 1024;
    sc.Storage = cfg->memory ? js_MemoryStorage : js_FileStorage;
    sc.Replicas = replicas_of(cfg);
    sc.Duplicates = 2LL * 60 * 1000 * 1000 * 1000; /* 2 min, in ns */
    want.max_bytes = sc.MaxBytes;
    snprintf(what, sizeof(what), "the event stream %s", name);

    s = js_GetStreamInfo(&si, js, name, NULL, &jerr);
    jsStreamInfo_Destroy(si);
    si = NULL;
    if (s == NATS_NOT_FOUND) {
        s = js_AddStream(&si, js, &sc, NULL, &jerr);
        jsStreamInfo_Destroy(si);
        if (s == NATS_OK) {
            LT_INFO("store", "created stream %s (max %lld bytes)", name, (long long)sc.MaxBytes);
            return LT_OK;
        } /* else another replica may have created it: check it below */
    }
    if (s != NATS_OK && s != NATS_ERR)
        return LT_FAIL(lt_conn_status(s), "cannot create stream %s: %s (JetStream error %d)", name,
                       nats_GetLastError(NULL), (int)jerr);
    return lt_store_stream_settle(js, name, what, &want);
}

lt_status lt_store_ensure_assets(jsCtx *js, const lt_store_config *cfg)
{
    lt_store_settings want = { .replicas = replicas_of(cfg), .memory = cfg->memory, .history = 1 };
    lt_status st;

    st = lt_store_bucket_ensure(js,
                                cfg->manifest_bucket ? cfg->manifest_bucket
                                                     : LT_STORE_MANIFEST_BUCKET,
                                "latticed application manifests", &want, NULL);
    if (st != LT_OK)
        return st;
    st =
        lt_store_bucket_ensure(js, cfg->status_bucket ? cfg->status_bucket : LT_STORE_STATUS_BUCKET,
                               "latticed application status", &want, NULL);
    if (st != LT_OK)
        return st;
    return ensure_events(js, cfg);
}

lt_status lt_store_open(lt_store **new_store, jsCtx *js, const lt_store_config *cfg)
{
    const char *mb = cfg->manifest_bucket ? cfg->manifest_bucket : LT_STORE_MANIFEST_BUCKET;
    const char *sb = cfg->status_bucket ? cfg->status_bucket : LT_STORE_STATUS_BUCKET;
    lt_store *s;
    natsStatus ns;

    *new_store = NULL;
    if ((s = lt_calloc(1, sizeof(*s))) == NULL)
        return LT_FAIL(LT_ERR_NOMEM, "out of memory");
    s->js = js;
    s->nc = cfg->nc;
    s->cas_retries = cfg->cas_retries;
    s->max_versions = cfg->max_versions;
    s->max_history = cfg->max_history;
    s->view_manifest_bytes =
        cfg->view_manifest_bytes ? cfg->view_manifest_bytes : LT_STORE_VIEW_MANIFEST_BYTES;
    s->mbucket = lt_strdup(mb);
    s->sbucket = lt_strdup(sb);
    if (s->mbucket == NULL || s->sbucket == NULL) {
        lt_store_close(s);
        return LT_FAIL(LT_ERR_NOMEM, "out of memory");
    }
    ns = js_KeyValue(&s->manifests, js, mb);
    if (ns == NATS_OK)
        ns = js_KeyValue(&s->status, js, sb);
    if (ns != NATS_OK) {
        lt_status st = LT_FAIL(ns == NATS_NOT_FOUND ? LT_ERR_NOT_FOUND : lt_conn_status(ns),
                               "cannot open KV buckets %s/%s: %s", mb, sb, natsStatus_GetText(ns));

        lt_store_close(s);
        return st;
    }
    *new_store = s;
    return LT_OK;
}

void lt_store_close(lt_store *s)
{
    if (s == NULL)
        return;
    lt__store_view_free(s->view);
    kvStore_Destroy(s->manifests);
    kvStore_Destroy(s->status);
    lt_free(s->mbucket);
    lt_free(s->sbucket);
    lt_free(s);
}
