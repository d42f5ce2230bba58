/*
 * store_view_int.h - the in-memory view of the store (store_view.c keeps it,
 * store_view_read.c answers from it): per lattice, the app indexes and the
 * statuses with their KV revisions (delete markers included), the stored
 * manifests up to a byte budget and a component id -> deploying apps map, kept
 * by one KV watch per bucket. Not a public header; see docs/internals/store.md.
 */
#ifndef LT_STORE_VIEW_INT_H
#define LT_STORE_VIEW_INT_H

#include <pthread.h>
#include <stdatomic.h>

#include "lt_map.h"
#include "store_int.h"

/** An app index: app NULL after a delete marker (whose revision is kept). */
typedef struct {
    char *name; /* map key */
    lt_store_app *app;
    uint64_t rev;
    unsigned gen;
} lt__store_vindex;

/** A status value: json NULL after a delete marker. */
typedef struct {
    char *name; /* map key */
    char *json;
    size_t len;
    uint64_t rev;
    unsigned gen;
} lt__store_vstatus;

/** A stored manifest, keyed "{app}.{id}" (manifest keys are never rewritten). */
typedef struct {
    char *key;
    char *json;
    size_t len;
    unsigned gen;
} lt__store_vmanifest;

/** The apps whose deployed version has an explicit component id (usually one). */
typedef struct {
    char *id; /* map key */
    char **apps;
    size_t n, cap;
} lt__store_vowners;

typedef struct {
    char *name;
    lt_map apps;      /* name -> lt__store_vindex */
    lt_map statuses;  /* name -> lt__store_vstatus */
    lt_map manifests; /* "{app}.{id}" -> lt__store_vmanifest */
    lt_map owners;    /* component id -> lt__store_vowners */
    uint64_t changed; /* the view's changes when an index or status of it last changed */
} lt__store_vlattice;

typedef struct lt__store_view lt__store_view;

/** One KV watch (one bucket) and the thread following it. */
typedef struct {
    lt__store_view *v;
    kvStore *kv; /* borrowed from the store */
    bool status; /* the status bucket (else the manifest bucket) */
    pthread_t thread;
    bool started;
    atomic_bool synced;  /* every value up to the watch start applied, watch unbroken */
    atomic_ullong epoch; /* the connection's reconnect count when the watch started */
    unsigned gen;        /* watch generation (under the view's write lock) */
    unsigned reset_gen;  /* a generation started on a recreated bucket: its first value of
                            each key wins whatever its revision (revisions start over) */
    int64_t created;     /* the bucket's stream creation time (ns) when the watch started */
    bool replaced;       /* the watch ended because the bucket was replaced (follower thread) */
} lt__store_follower;

struct lt__store_view {
    pthread_rwlock_t lock;  /* guards lattices, manifest_bytes, the gens */
    lt_map lattices;        /* name -> lt__store_vlattice */
    size_t manifest_bytes;  /* held manifest JSON, at most manifest_budget */
    size_t manifest_budget; /* the store's view_manifest_bytes */
    uint64_t changes; /* counts the changes of indexes and statuses (lt_store_app_revs_mark) */
    bool over_budget_logged;
    natsConnection *nc; /* borrowed: its state tells whether the view may be behind */
    atomic_bool stop;
    atomic_bool hold;          /* tests: the followers apply nothing (a lagging replica) */
    lt__store_follower fm, fs; /* manifest and status buckets */
    atomic_ullong view_reads, kv_reads, manifest_hits, manifest_misses;
};

/** Has the follower a complete, unbroken watch on the connection as it is now? */
bool lt__store_view_usable(lt__store_follower *f);

/** The lattice's tables, or NULL (read or write lock held). */
lt__store_vlattice *lt__store_view_lattice(lt__store_view *v, const char *lattice);

/** Deep copy of an index (lt_store_app_free it). LT_ERR_NOMEM. */
LT_NODISCARD lt_status lt__store_app_dup(const lt_store_app *a, lt_store_app **out);

#endif
