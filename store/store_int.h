/*
 * store_int.h - internals shared by the files of the store module: the
 * handle, KV key builders, the low-level KV primitives (leader read of a
 * key's last message, compare-and-set publish, filtered scan) and the index
 * JSON codec. Not a public header.
 */
#ifndef LT_STORE_INT_H
#define LT_STORE_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lt_buf.h"
#include "lt_store.h"

typedef struct lt__store_view lt__store_view;

struct lt_store {
    jsCtx *js;          /**< borrowed */
    natsConnection *nc; /**< borrowed, may be NULL: js's connection (lt_store_config.nc) */
    kvStore *manifests; /**< owned */
    kvStore *status;    /**< owned */
    char *mbucket;      /**< manifest bucket name */
    char *sbucket;      /**< status bucket name */
    unsigned cas_retries, max_versions, max_history;
    lt__store_view *view;       /**< NULL until lt_store_view_start (store_view.c) */
    size_t view_manifest_bytes; /**< the view's manifest budget */
};

#define LT__KEY_MAX 512u /**< bytes in a KV key we build */

/* Key builders (into out, LT__KEY_MAX); LT_ERR_INVALID for a bad name. */
LT_NODISCARD lt_status lt__store_key_index(const char *lattice, const char *app, lt_buf *out);
LT_NODISCARD lt_status lt__store_key_manifest(const char *lattice, const char *app, const char *id,
                                              lt_buf *out);
LT_NODISCARD lt_status lt__store_key_status(const char *lattice, const char *app, lt_buf *out);

/**
 * Leader read of the last message of key. *value gets a NUL-terminated heap
 * copy (NULL when the key never existed or its last operation deleted it),
 * *rev the subject's last sequence (0 when it never existed).
 */
LT_NODISCARD lt_status lt__store_kv_last(lt_store *s, const char *bucket, const char *key,
                                         char **value, size_t *len, uint64_t *rev);

/** The thread's deadline (lt_store_deadline_set) has passed. */
bool lt__store_out_of_time(void);

/** How long a round trip may wait: wait_ms, cut to what is left before the thread's deadline
 * (at least 1 ms, so that an answer already there is taken). */
int64_t lt__store_wait_ms(int64_t wait_ms);

/** JetStream's own wait for an answer, where nothing else is set (nats.c's default). */
#define LT__JS_WAIT_MS 5000

#define LT__RESOLVE_TRIES 6u     /**< sends again (or read-backs) after an unanswered write */
#define LT__RESOLVE_FIRST_MS 100 /**< first pause between them (doubling, at most 16x) */

/**
 * Write (or, with del, delete) key only if its last sequence is still rev
 * (0: it must never have existed). LT_ERR_CONFLICT when it moved on.
 * Each write carries a unique id header. When the reply is lost (timeout,
 * lost connection) the same write is sent again (LT__RESOLVE_TRIES times at
 * most, within the thread's deadline): acknowledged, or a conflict with our
 * id on top = committed (LT_OK, *new_rev set); otherwise LT_ERR_AMBIGUOUS: the
 * write may or may not have been applied, and the caller must not act as if
 * it had not been (e.g. delete what it may have named).
 */
LT_NODISCARD lt_status lt__store_kv_cas(lt_store *s, const char *bucket, const char *key,
                                        const void *data, size_t len, bool del, uint64_t rev,
                                        uint64_t *new_rev);

/** A compare-and-set write sent by lt__store_kv_cas_send, not yet answered. */
typedef struct {
    lt_store *s;
    const char *bucket; /**< borrowed: outlives the write */
    char key[LT__KEY_MAX];
    char wid[LT_STORE_ULID_LEN + 1];
    uint64_t rev;
    natsConnection *nc;    /**< borrowed: the connection it went out on */
    natsSubscription *sub; /**< the reply inbox's */
    bool sent;
} lt__store_pending;

/**
 * lt__store_kv_cas without waiting: the write (never a delete) goes out on nc now, its answer
 * is read by lt__store_kv_cas_wait. Writes sent on one connection reach a stream in the order
 * sent, so a write waited for after this one is applied after it. On failure nothing was sent
 * and p holds nothing. Otherwise p must go to lt__store_kv_cas_wait.
 */
LT_NODISCARD lt_status lt__store_kv_cas_send(lt_store *s, natsConnection *nc, const char *bucket,
                                             const char *key, const void *data, size_t len,
                                             uint64_t rev, lt__store_pending *p);

/**
 * The outcome of p's write, as lt__store_kv_cas gives it (a lost answer is resolved by reading
 * the key back; LT_ERR_AMBIGUOUS when that cannot tell). Releases what p holds.
 */
LT_NODISCARD lt_status lt__store_kv_cas_wait(lt__store_pending *p, uint64_t *new_rev);


/** The connection of s's view (lt_store_view_start), NULL without one. */
natsConnection *lt__store_view_conn(const lt_store *s);

/** One value found by lt__store_kv_scan. */
typedef struct {
    char *key;
    char *value;
    size_t len;
} lt__store_kv_item;

/** Current values of the keys matching filter in kv, one of s's buckets (deleted ones skipped),
 * in key order. */
LT_NODISCARD lt_status lt__store_kv_scan(lt_store *s, kvStore *kv, const char *filter,
                                         lt__store_kv_item **out, size_t *count);
void lt__store_kv_items_free(lt__store_kv_item *items, size_t count);

/** Parse an index JSON into a new app (lattice and name given). LT_ERR_PARSE. */
LT_NODISCARD lt_status lt__store_index_decode(const char *lattice, const char *name,
                                              const char *json, size_t len, lt_store_app **out);
/** Serialise an index (LT_ERR_TOO_BIG over LT_STORE_MAX_INDEX_BYTES). Caller lt_frees. */
LT_NODISCARD lt_status lt__store_index_encode(const lt_store_app *app, char **out, size_t *len);
/** A new, empty app index. */
LT_NODISCARD lt_status lt__store_app_new(const char *lattice, const char *name, lt_store_app **out);

/* ---- the view (store_view.c, store_view_read.c); every hook is a no-op without one ---- */

/** Apply this replica's write of an index (app NULL: deleted) at its new revision rev. */
void lt__store_view_put_index(lt_store *s, const char *lattice, const char *name,
                              const lt_store_app *app, uint64_t rev);
/** Apply this replica's write of a status (json NULL: deleted) at its new revision rev. */
void lt__store_view_put_status(lt_store *s, const char *lattice, const char *name, const char *json,
                               size_t len, uint64_t rev);
/*
 * Lookups: false when the view cannot answer (none, not synced, watch or
 * connection broken; a manifest it does not hold): read KV. When true, *st
 * says how (LT_ERR_NOT_FOUND included) and the outputs are owned copies.
 */
/** An index and the revision to compare-and-set on (a delete marker's too; 0: never written). */
bool lt__store_view_index(lt_store *s, const char *lattice, const char *name, lt_store_app **out,
                          uint64_t *rev, lt_status *st);
bool lt__store_view_app_list(lt_store *s, const char *lattice, lt_store_app ***out, size_t *n,
                             lt_status *st);
/** A manifest held in memory (keys are immutable, so a hit is right even when not synced). */
bool lt__store_view_manifest(lt_store *s, const char *lattice, const char *name, const char *id,
                             char **json, size_t *len);
bool lt__store_view_status_get(lt_store *s, const char *lattice, const char *name, char **json,
                               size_t *len, lt_status *st);
bool lt__store_view_status_list(lt_store *s, const char *lattice, lt_store_status_entry **out,
                                size_t *n, lt_status *st);
/** Tests: hold (on) or release the view's followers, to play a replica whose watch lags. */
void lt__store_view_hold(lt_store *s, bool on);
/** Stop the view's threads and free it (lt_store_close). NULL-safe. */
void lt__store_view_free(lt__store_view *v);


/** natsStatus + JetStream error code to lt_status with a reason. */
lt_status lt__store_nats_fail(natsStatus ns, int jerr, const char *what, const char *key);

#define LT__STORE_WHY_MAX 256 /**< bytes of a nats.c error text kept (lt__store_nats_why) */

/** This thread's last nats.c error text into out (size bytes; "" when none): taken before a
 *  call, so lt__store_nats_why can tell a text the call left from an older one. */
void lt__store_nats_last(char *out, size_t size);
/** What a call that returned ns went wrong with, in words, into out (size bytes): the text
 *  nats.c left for it (a JetStream error's description, its "(file.c:N): " cut) when it is about
 *  ns and differs from before (lt__store_nats_last before the call), else ns's own text. Call it
 *  right after the call: any other nats.c call may replace the text. */
void lt__store_nats_why(natsStatus ns, const char *before, char *out, size_t size);

#endif
