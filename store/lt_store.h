/*
 * lt_store.h - latticed's desired state in JetStream KV. Creates the assets
 * idempotently (manifest and status buckets, control plane event stream) and
 * gives typed access to them: one small index per app (versions, deployed
 * version, timestamps, capped history) plus one key per stored manifest
 * (canonical JSON), every update compare-and-set on the KV revision, a
 * watcher on the index keys, and per-app status JSON. Everything is keyed by
 * lattice. Layout and caps: docs/internals/store.md.
 *
 * Threading: an lt_store is immutable after lt_store_open (and
 * lt_store_view_start) and every function may be called from any thread
 * (nats.c objects are thread-safe; the view has its own lock). Watch
 * callbacks run on the watcher's own thread: post to your loop from there.
 */
#ifndef LT_STORE_H
#define LT_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <nats/nats.h>

#include "lt_status.h"

#define LT_STORE_MANIFEST_BUCKET "latticed_manifests"
#define LT_STORE_STATUS_BUCKET "latticed_status"
#define LT_STORE_EVENTS_STREAM "latticed_events"

#define LT_STORE_CAS_RETRIES 16u    /**< default CAS attempts of one update */
#define LT_STORE_MAX_VERSIONS 1000u /**< default cap on stored versions per app */
#define LT_STORE_MAX_HISTORY 200u   /**< default cap on history events per app (oldest dropped) */
#define LT_STORE_MAX_NAME 128u      /**< bytes in a lattice or app name */
#define LT_STORE_MAX_VERSION 256u   /**< bytes in a version string */
#define LT_STORE_MAX_INDEX_BYTES (512u * 1024u)  /**< serialised index limit */
#define LT_STORE_MAX_VALUE_BYTES (1000u * 1024u) /**< one manifest/status value (< 1 MiB payload) */
#define LT_STORE_ULID_LEN 26u                    /**< characters in a ULID */

typedef struct {
    const char *manifest_bucket; /**< NULL = LT_STORE_MANIFEST_BUCKET */
    const char *status_bucket;   /**< NULL = LT_STORE_STATUS_BUCKET */
    const char *events_stream;   /**< NULL = LT_STORE_EVENTS_STREAM */
    const char *events_subjects; /**< subjects of the events stream; NULL = "lattice.*.evt.cp.>" */
    int replicas;                /**< 1..5; 0 = 1 */
    bool memory;                 /**< memory storage instead of file */
    int64_t events_max_bytes;    /**< bound of the events stream; 0 = 64 MiB */
    /** lt_store_open: the connection js was made from, on which the store's KV watchers are
     * retired (lt_conn_watcher_free); NULL: they are parked until lt_conn_parked_free */
    natsConnection *nc;
    unsigned cas_retries;       /**< lt_store_open: attempts per update; 0 = LT_STORE_CAS_RETRIES */
    unsigned max_versions;      /**< lt_store_open: 0 = LT_STORE_MAX_VERSIONS */
    unsigned max_history;       /**< lt_store_open: 0 = LT_STORE_MAX_HISTORY */
    size_t view_manifest_bytes; /**< lt_store_view_start: manifest JSON kept in memory;
                                     0 = LT_STORE_VIEW_MANIFEST_BYTES */
} lt_store_config;

/**
 * Create every bucket and stream that does not exist yet; existing ones are
 * made to match cfg (replicas, history, events bound) where JetStream allows
 * it, see lt_store_bucket_ensure. Safe to call from several replicas at once.
 * LT_ERR_REFUSED for a setting that cannot be applied (storage type, more
 * replicas than servers), LT_ERR_TRANSPORT with a reason naming the asset
 * when JetStream refuses (e.g. JetStream not enabled).
 */
LT_NODISCARD lt_status lt_store_ensure_assets(jsCtx *js, const lt_store_config *cfg);

/** What an existing bucket or stream must match (see lt_store_bucket_ensure). */
typedef struct {
    int replicas;      /**< --replicas; 0 = 1 */
    bool memory;       /**< --storage memory */
    int64_t history;   /**< values kept per key / messages per subject; 0 = not checked */
    int64_t max_bytes; /**< size bound of a stream; 0 = not checked */
    int64_t ttl_ms;    /**< buckets created here: value expiry; 0 = none (not checked) */
} lt_store_settings;

/**
 * Make an existing stream match want: replicas, history and size bound are
 * updated in place (js_UpdateStream); a storage type that differs, or an
 * update JetStream refuses (e.g. 3 replicas on a single server), is
 * LT_ERR_REFUSED with a message naming the flag (--storage, --replicas) and
 * how to migrate. what names the asset in messages. LT_ERR_NOT_FOUND when
 * the stream does not exist, LT_ERR_TRANSPORT.
 */
LT_NODISCARD lt_status lt_store_stream_settle(jsCtx *js, const char *stream, const char *what,
                                              const lt_store_settings *want);

/**
 * Open KV bucket (created with want and description when missing; racing
 * creators are fine) and make it match want as lt_store_stream_settle does.
 * *new_kv (optional) receives the open bucket (kvStore_Destroy it).
 * LT_ERR_REFUSED (mismatch that cannot be applied), LT_ERR_TRANSPORT.
 */
LT_NODISCARD lt_status lt_store_bucket_ensure(jsCtx *js, const char *bucket,
                                              const char *description,
                                              const lt_store_settings *want, kvStore **new_kv);

/* ---------------------------------------------------------------------------------------------
 * Handle
 * ------------------------------------------------------------------------------------------- */

typedef struct lt_store lt_store;

/**
 * CONSTRUCTOR. Bind to the (existing) buckets of cfg through js, which must
 * outlive the store. LT_ERR_NOT_FOUND when a bucket is missing (call
 * lt_store_ensure_assets first), LT_ERR_TRANSPORT, LT_ERR_NOMEM.
 */
LT_NODISCARD lt_status lt_store_open(lt_store **new_store, jsCtx *js, const lt_store_config *cfg);

/** DESTRUCTOR. Stops the view (lt_store_view_start), nothing else (watchers must be stopped
 * first). NULL-safe. */
void lt_store_close(lt_store *s);

/** True when name is a valid lattice or app name: 1..LT_STORE_MAX_NAME of [A-Za-z0-9_-]. */
bool lt_store_name_is_valid(const char *name);

/* ---------------------------------------------------------------------------------------------
 * The app index: everything about an app except the manifests themselves.
 * ------------------------------------------------------------------------------------------- */

typedef struct {
    char *version;  /**< as given or assigned (ULID) */
    char *key;      /**< id of the manifest key ("manifest.{lattice}.{app}.{key}") */
    int64_t put_ms; /**< Unix ms when it was stored */
} lt_store_version;

typedef enum {
    LT_STORE_EV_PUT = 0,  /**< a version was stored */
    LT_STORE_EV_DEPLOY,   /**< a version was deployed (also re-deploy and rollback) */
    LT_STORE_EV_UNDEPLOY, /**< the app was undeployed */
    LT_STORE_EV_DELETE,   /**< one version was deleted */
} lt_store_event_kind;

typedef struct {
    lt_store_event_kind kind;
    char *version; /**< version concerned; NULL for an undeploy of nothing */
    int64_t time_ms;
} lt_store_event;

typedef struct lt_store_app {
    char *lattice;
    char *name;
    lt_store_version *versions; /**< insertion order; the last is the latest */
    size_t version_count;
    size_t version_cap_;    /**< private */
    char *deployed_version; /**< NULL while undeployed */
    int64_t deployed_ms;    /**< last deploy, 0 if never */
    int64_t undeployed_ms;  /**< last undeploy, 0 if never */
    int64_t created_ms, updated_ms;
    char *description;   /**< description annotation of the latest version, or NULL */
    bool latest_shared;  /**< latest version is a shared application */
    char **deployed_ids; /**< explicit component ids of the deployed version */
    size_t deployed_id_count;
    lt_store_event *history; /**< oldest first, capped */
    size_t history_count;
    size_t history_cap_;     /**< private */
    uint64_t revision;       /**< KV revision read (0: the app does not exist yet) */
    bool deleted;            /**< set by an update callback to delete the whole app */
    char *deployed_trace;    /**< W3C traceparent of the request that last deployed, or NULL:
                               "deployed_traceparent" in the index (latticed extension) */
    char *deployed_manifest; /**< lt_store_watch's live changes only: the deployed version's
                                  manifest, read ahead (NULL: read it with
                                  lt_store_manifest_get, as always). Owned; never copied. */
    size_t deployed_manifest_len;
} lt_store_app;

/** DESTRUCTOR. NULL-safe. */
void lt_store_app_free(lt_store_app *app);

/** Index of version v in app->versions, or -1. */
long lt_store_app_find(const lt_store_app *app, const char *v);

/** The latest version entry, or NULL when the app has none. Borrowed. */
const lt_store_version *lt_store_app_latest(const lt_store_app *app);

/** Text of an event kind: "put", "deploy", "undeploy", "delete". */
const char *lt_store_event_name(lt_store_event_kind k);

/** Append an event (dropping the oldest beyond the history cap of s). LT_ERR_NOMEM. */
LT_NODISCARD lt_status lt_store_app_add_event(const lt_store *s, lt_store_app *app,
                                              lt_store_event_kind k, const char *version,
                                              int64_t time_ms);

/** Set (or clear, with NULL) the deployed version, clearing deployed_trace; LT_ERR_NOMEM.
 * Does not add an event. */
LT_NODISCARD lt_status lt_store_app_set_deployed(lt_store_app *app, const char *version,
                                                 const char *const *ids, size_t id_count);

/** Append a version entry (copies v and key). LT_ERR_NOMEM. Does not add an event. */
LT_NODISCARD lt_status lt_store_app_add_version(lt_store_app *app, const char *v, const char *key,
                                                int64_t put_ms);

/** Remove version entry i (its manifest key is deleted by lt_store_update). */
void lt_store_app_remove_version(lt_store_app *app, size_t i);

/**
 * Read an app's index. LT_ERR_NOT_FOUND when the app does not exist (or was
 * deleted); *out is then NULL. On LT_OK the caller frees *out.
 */
LT_NODISCARD lt_status lt_store_app_get(lt_store *s, const char *lattice, const char *name,
                                        lt_store_app **out);

/**
 * lt_store_app_get from KV (a leader read) even with a started view: for a
 * decision a view lagging another replica's write must not make (the store
 * watcher's redeliveries use it). Same statuses.
 */
LT_NODISCARD lt_status lt_store_app_get_fresh(lt_store *s, const char *lattice, const char *name,
                                              lt_store_app **out);

/**
 * Every app of a lattice, sorted by name. *out receives an array of *count
 * indexes (free with lt_store_app_list_free). LT_OK with 0 apps is normal.
 */
LT_NODISCARD lt_status lt_store_app_list(lt_store *s, const char *lattice, lt_store_app ***out,
                                         size_t *count);

/** DESTRUCTOR for lt_store_app_list results. NULL-safe. */
void lt_store_app_list_free(lt_store_app **apps, size_t count);

/* ---------------------------------------------------------------------------------------------
 * Updates: read, decide, compare-and-set, retry on conflict.
 * ------------------------------------------------------------------------------------------- */

/** What an update callback decided. */
typedef enum {
    LT_STORE_WRITE = 0, /**< store the modified index (or delete the app if app->deleted) */
    LT_STORE_SKIP,      /**< change nothing, succeed */
} lt_store_decision;

/** A manifest an update stores along with the index (see lt_store_update). */
typedef struct {
    const char *json; /**< canonical manifest JSON */
    size_t len;
} lt_store_manifest;

/**
 * Decide an update. app is the current index (revision 0 and no versions
 * when the app does not exist). The callback may modify app and set
 * *decision; it must not keep pointers into app and must be safe to call
 * again (it is re-run on the fresh index after a conflict). Return a status
 * other than LT_OK to abort the update with that status (e.g. a business
 * error the caller recorded in arg). new_key is the key id under which the
 * manifest given to lt_store_update was stored (NULL when none): use it for a
 * new lt_store_version.
 */
typedef lt_status (*lt_store_update_fn)(lt_store_app *app, const char *new_key,
                                        lt_store_decision *decision, void *arg);

/**
 * Apply fn to the app's index with compare-and-set on the KV revision,
 * re-reading and re-running fn on each conflict, at most cfg.cas_retries
 * times (then LT_ERR_CONFLICT: nothing was overwritten). When manifest is
 * not NULL it is first stored under a fresh key id (passed to fn as new_key)
 * and removed again if the index is not written or no longer refers to it.
 * Manifest keys of versions fn removed, and all of them when fn deletes the
 * app, are deleted after the index was written. *out (optional) receives the
 * index as written (or as read, for SKIP; NULL after a delete).
 * A write whose reply is lost is resolved by reading the index back (see
 * docs/internals/store.md): applied = success; not applied = the write's
 * error; undecidable = LT_ERR_AMBIGUOUS with a message for the user, and
 * then no manifest key is deleted (the index may name the new one, and may
 * still name removed ones).
 * Statuses: fn's own, LT_ERR_CONFLICT, LT_ERR_TOO_BIG (index or manifest over
 * the limits), LT_ERR_TRANSPORT/LT_ERR_TIMEOUT (not applied),
 * LT_ERR_AMBIGUOUS, LT_ERR_NOMEM.
 */
LT_NODISCARD lt_status lt_store_update(lt_store *s, const char *lattice, const char *name,
                                       const lt_store_manifest *manifest, lt_store_update_fn fn,
                                       void *arg, lt_store_app **out);

/* ---------------------------------------------------------------------------------------------
 * Manifests
 * ------------------------------------------------------------------------------------------- */

/**
 * The canonical JSON of version v of app (v NULL: the latest; use
 * app->deployed_version for the deployed one). *new_json is NUL-terminated
 * (lt_free it), *len optional. LT_ERR_NOT_FOUND when the app or version is
 * missing.
 */
LT_NODISCARD lt_status lt_store_manifest_get(lt_store *s, const lt_store_app *app, const char *v,
                                             char **new_json, size_t *len);

/* ---------------------------------------------------------------------------------------------
 * Watching index changes (deployed state and versions)
 * ------------------------------------------------------------------------------------------- */

typedef struct lt_store_watch lt_store_watch;

/**
 * One change. For LT_STORE_CHANGE_INITIAL_DONE only kind is set. app is
 * passed to the callback to keep: free it with lt_store_app_free (NULL for a
 * delete).
 */
typedef enum {
    LT_STORE_CHANGE_PUT = 0,      /**< the index was written (app holds it) */
    LT_STORE_CHANGE_DELETE,       /**< the app was deleted */
    LT_STORE_CHANGE_INITIAL_DONE, /**< every existing app was delivered once */
} lt_store_change_kind;

/**
 * Return LT_OK when the change was taken. Any other status asks for it again:
 * the app's index is re-read and delivered anew after a backoff (250 ms
 * doubling to LT_STORE_WATCH_RETRY_MAX_MS), until the callback takes it or a
 * newer change of the same app arrives (which is delivered instead). Used when
 * what the index names (the deployed manifest) cannot be read yet.
 */
typedef lt_status (*lt_store_watch_fn)(lt_store_change_kind kind, const char *lattice,
                                       const char *name, lt_store_app *app, void *arg);

#define LT_STORE_WATCH_RETRY_MAX_MS 10000 /**< longest pause between redeliveries */

/**
 * A KV watcher whose initial values went this long without a delivery and without nats.c's end
 * marker is replaced by a new one (lt_store_watch: each new one given twice the time, up to
 * 60 s) or read again (lt_store_kv_read_all: twice the wait each reading).
 * nats.c derives the marker from the consumer's pending counts, which do not always add up when
 * a key is written while the watch is created: the marker then never comes. Taking the values
 * as complete instead would be wrong when the server is only slow (a scheduler would stop the
 * instances of every app it has not seen yet).
 */
#define LT_STORE_WATCH_QUIET_MS 5000

/** Called by lt_store_kv_read_all for each value; e is destroyed after it returns. */
typedef void (*lt_store_kv_entry_fn)(kvEntry *e, void *arg);

/** How lt_store_kv_read_all reads. */
typedef struct {
    const char *what;    /**< what is read, in messages (the bucket's name, a key filter) */
    const char *filter;  /**< the keys to read (KV wildcards); NULL: every key */
    bool ignore_deletes; /**< skip delete markers */
    int wait_ms;         /**< the longest wait for the next value; 0 = LT_STORE_WATCH_QUIET_MS */
    int tries;           /**< readings in all (quiet without the marker, or failed); 0 = 1 */
    /** Called before each reading after the first (NULL: none): forget what the last gave. */
    void (*restart)(void *arg);
} lt_store_read_opts;

/**
 * Call fn for every current value of kv, read with a KV watcher until nats.c's end marker. A
 * reading that waits o->wait_ms for a next value without the marker is done again with a new
 * watcher and twice the wait, o->tries readings in all, so fn may see a value more than once
 * (make it idempotent, or reset in o->restart). Within an API request's deadline
 * (lt_store_deadline_set) no wait for a value outlasts it and no reading starts after it.
 * A reading that ends with an error answer (NATS_ERR: a stream not found, one a cluster cannot
 * serve yet, a consumer lost to a leader change), no JetStream responder or not found, whether
 * its watcher was created or not, counts as a reading too, and the next comes after a pause
 * (250 ms, then twice as long). After a watcher that was not created, the next reading starts
 * only with the pause and a whole JetStream wait (5 s) left.
 * *n: the values of the last reading. keep not NULL: the watcher of the complete reading goes to
 * *keep (the caller follows later changes with it and retires it, lt_conn_watcher_free);
 * otherwise it is retired on nc. LT_ERR_TIMEOUT when no reading ended with the marker,
 * LT_ERR_TRANSPORT, LT_ERR_NOMEM (message: "reading WHAT: ...").
 */
LT_NODISCARD lt_status lt_store_kv_read_all(kvStore *kv, natsConnection *nc,
                                            const lt_store_read_opts *o, lt_store_kv_entry_fn fn,
                                            void *arg, kvWatcher **keep, size_t *n);

/**
 * CONSTRUCTOR. Start a thread that delivers the current index of every app
 * of lattice (NULL: of every lattice), then INITIAL_DONE (at nats.c's end marker; a
 * watcher without one after LT_STORE_WATCH_QUIET_MS is replaced), then each change,
 * in KV order, to fn on that thread. Changes after INITIAL_DONE that arrive
 * together are delivered as a batch whose deployed manifests were read side
 * by side beforehand (lt_store_app.deployed_manifest; a read that failed is
 * left to fn). LT_ERR_TRANSPORT, LT_ERR_NOMEM.
 */
LT_NODISCARD lt_status lt_store_watch_start(lt_store_watch **new_w, lt_store *s,
                                            const char *lattice, lt_store_watch_fn fn, void *arg);

/** DESTRUCTOR. Stop the watcher and join its thread, within LT_CONN_WATCH_POLL_MS when it is
 * waiting (fn is not called afterwards). NULL-safe. */
void lt_store_watch_stop(lt_store_watch *w);

/* ---------------------------------------------------------------------------------------------
 * Status (written by the scheduler; wadm's Status JSON object)
 * ------------------------------------------------------------------------------------------- */

/** Store the status JSON of an app (last writer wins). LT_ERR_TOO_BIG over the value limit. */
LT_NODISCARD lt_status lt_store_status_put(lt_store *s, const char *lattice, const char *name,
                                           const char *json, size_t len);

/** Read it. LT_ERR_NOT_FOUND when none was written. *new_json NUL-terminated (lt_free). */
LT_NODISCARD lt_status lt_store_status_get(lt_store *s, const char *lattice, const char *name,
                                           char **new_json, size_t *len);

/** Remove it (deleted app). A missing status is LT_OK. */
LT_NODISCARD lt_status lt_store_status_delete(lt_store *s, const char *lattice, const char *name);

typedef struct {
    char *name;
    char *json;
} lt_store_status_entry;

/** Every status of a lattice, sorted by app name (free with lt_store_status_list_free). */
LT_NODISCARD lt_status lt_store_status_list(lt_store *s, const char *lattice,
                                            lt_store_status_entry **out, size_t *count);

void lt_store_status_list_free(lt_store_status_entry *e, size_t count);

/* ---------------------------------------------------------------------------------------------
 * The view: the indexes, statuses and manifests in memory, kept by a KV watch
 * ------------------------------------------------------------------------------------------- */

#define LT_STORE_VIEW_MANIFEST_BYTES (64u * 1024u * 1024u) /**< default manifest budget */

/**
 * Start the in-memory view of s: two threads watch the manifest and status
 * buckets (every lattice) and keep each key's newest value and revision,
 * delete markers included, plus manifests up to cfg.view_manifest_bytes.
 * From then on lt_store_app_get, lt_store_app_list, lt_store_manifest_get,
 * lt_store_status_get, lt_store_status_list and the first attempt of
 * lt_store_update answer from memory while the view is synced: after each
 * watch has delivered every initial value, and while neither the watch nor
 * nc (whose state is read, may be NULL in tests) broke since (a reconnect
 * restarts the watch). Otherwise, and for an app absent from the view, they read
 * KV as without a view. Writes through s are applied to the view at once.
 * nc must be the connection s's jsCtx was made from: lt_store_update then sends a new
 * manifest on nc without waiting, before the index on the jsCtx, and relies on one
 * connection's order to store the manifest first.
 * Call once, before s is shared between threads; lt_store_close stops it.
 * LT_ERR_STATE when already started, LT_ERR_NOMEM.
 */
LT_NODISCARD lt_status lt_store_view_start(lt_store *s, natsConnection *nc);

/** What the view holds and how reads were answered (for tests and diagnostics). */
typedef struct {
    bool indexes_synced, statuses_synced; /**< usable now */
    uint64_t view_reads;                  /**< index/status reads answered from memory */
    uint64_t kv_reads;                    /**< index/status reads the view passed to KV */
    uint64_t manifest_hits, manifest_misses;
    size_t apps, statuses, manifests; /**< keys held (apps and statuses: delete markers too) */
    size_t manifest_bytes;
} lt_store_view_stat;

/** Fill *out (all zero without a view). */
void lt_store_view_stats(lt_store *s, lt_store_view_stat *out);

/** Compare-and-set conflicts retried by lt_store_update in this process so far (any thread). */
uint64_t lt_store_cas_retries(void);

/**
 * Which app of lattice other than except deploys a version with the explicit
 * component id, answered from the view in O(1): LT_OK with *found and its
 * name in owner (the first by name when several do). LT_ERR_STATE when the
 * view is not started or not synced: list the apps instead (lt_store_app_list).
 */
LT_NODISCARD lt_status lt_store_id_owner(lt_store *s, const char *lattice, const char *id,
                                         const char *except, char owner[LT_STORE_MAX_NAME + 1],
                                         bool *found);

/** One app of lt_store_app_revs. */
typedef struct {
    char *name;
    uint64_t index_rev;  /**< its index's KV revision */
    uint64_t status_rev; /**< its status's KV revision; 0 without one */
    uint64_t epoch;      /**< changes when a bucket was deleted and created again (a restore):
                              revisions start over then, so they are compared within an epoch */
} lt_store_app_rev;

/**
 * The apps of lattice (sorted by name) with the revisions of their index and status, from the
 * view, copying neither: what a cache of per-app results needs to tell which apps changed.
 * Free with lt_store_app_revs_free. LT_ERR_STATE when the view is not started or not synced
 * (read the apps instead: lt_store_app_list), LT_ERR_NOMEM.
 */
LT_NODISCARD lt_status lt_store_app_revs(lt_store *s, const char *lattice, lt_store_app_rev **out,
                                         size_t *count);

/**
 * A mark of lattice's apps in the view: it moves on with every change of an index or status
 * of the lattice the view applies (own writes, the watch, a recreated bucket), and never comes
 * back to an earlier value, so two equal marks mean lt_store_app_revs lists the same apps with
 * the same index and status revisions (its epoch may differ: a recreated bucket that changed no
 * value of the lattice). Take it before the listing it stands for. 0 when the view holds nothing
 * of the lattice. LT_ERR_STATE when the view is not usable (as lt_store_app_revs).
 */
LT_NODISCARD lt_status lt_store_app_revs_mark(lt_store *s, const char *lattice, uint64_t *mark);

/** DESTRUCTOR for lt_store_app_revs results. NULL-safe. */
void lt_store_app_revs_free(lt_store_app_rev *revs, size_t count);

/* ---------------------------------------------------------------------------------------------
 * Helpers shared with the API
 * ------------------------------------------------------------------------------------------- */

/** A new ULID (26 Crockford base32 characters + NUL) for the current time. */
void lt_store_ulid(char out[LT_STORE_ULID_LEN + 1]);

/** Unix time now in ms. */
int64_t lt_store_now_ms(void);

/**
 * The calling thread's deadline for the store's KV round trips: deadline_ns on CLOCK_MONOTONIC
 * (the clock of lt_hist_now_ns), 0 for none (each round trip then waits up to JetStream's 5 s,
 * and a write whose reply is lost is sent again up to LT__RESOLVE_TRIES times). With one, a
 * change not begun by then is not begun, every wait is cut to what is left, no write, send again
 * or read-back starts once it has passed (delete markers of what nothing names are still sent),
 * and a write whose reply did not come in time ends LT_ERR_AMBIGUOUS (nothing is rolled back).
 * The API sets it per request, so that it answers before its client gives up. Thread-local: set
 * and clear it on the thread that makes the calls.
 */
void lt_store_deadline_set(int64_t deadline_ns);


#endif
