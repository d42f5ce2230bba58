/*
 * lt_map.h - the project's one hash table: string keys to pointers, open
 * addressing with linear probing and backward-shift deletion (no tombstones,
 * so lookups stay fast under churn). Keys are borrowed, usually from the value
 * itself (an id field). Used by the scheduler (apps, hosts, instances,
 * requests) and the host (instances, links, simulated hosts).
 */
#ifndef LT_MAP_H
#define LT_MAP_H

#include <stddef.h>
#include <stdint.h>

#include "lt_status.h"

typedef struct {
    const char *key; /**< borrowed, NULL = empty slot */
    uint64_t hash;
    void *val;
} lt_map_slot;

/**
 * A map; zero-initialised (or lt_map_init) is empty. The slots may be walked
 * directly (key != NULL marks a member) or with lt_map_next, never while the
 * map changes.
 */
typedef struct {
    lt_map_slot *slots;
    size_t cap;   /**< power of two, 0 before the first put */
    size_t count; /**< members */
} lt_map;

/** The hash of a key (FNV-1a with a final mix); stable within a build. */
uint64_t lt_map_hash(const char *key);

/** An empty map, no allocation. */
void lt_map_init(lt_map *m);

/** Free the slots (not the keys or values); m is empty again. NULL-safe. */
void lt_map_cleanup(lt_map *m);

/** The value stored under key, or NULL (also for a NULL key). */
void *lt_map_get(const lt_map *m, const char *key);

/**
 * Insert, or replace the value (and the key pointer) under an existing key.
 * key must stay valid while it is in the map. LT_ERR_NOMEM.
 */
LT_NODISCARD lt_status lt_map_put(lt_map *m, const char *key, void *val);

/** Insert a new key: LT_ERR_CONFLICT when it is already there, LT_ERR_NOMEM. */
LT_NODISCARD lt_status lt_map_add(lt_map *m, const char *key, void *val);

/** Remove key; returns its value, or NULL when absent. Moves other slots. */
void *lt_map_del(lt_map *m, const char *key);

/**
 * Iterate the values: start with *iter = 0; returns NULL at the end (so values
 * must not be NULL). The map must not change meanwhile.
 */
void *lt_map_next(const lt_map *m, size_t *iter);

#endif
