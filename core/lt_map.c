/*
 * lt_map.c - open-addressing string map (linear probing, load <= 3/4,
 * backward-shift deletion). Formerly two copies: scheduler/map.c's smap and
 * host/hmap.c's lt_host_map.
 */
#include "lt_map.h"

#include <stdbool.h>
#include <string.h>

#include "lt_alloc.h"

uint64_t lt_map_hash(const char *s)
{
    uint64_t h = 1469598103934665603ull; /* FNV-1a, then a final mix */

    while (*s != '\0') {
        h ^= (unsigned char)*s++;
        h *= 1099511628211ull;
    }
    h ^= h >> 33;
    h *= 0xff51afd7ed558ccdull;
    h ^= h >> 33;
    return h;
}

void lt_map_init(lt_map *m)
{
    m->slots = NULL;
    m->cap = 0;
    m->count = 0;
}

void lt_map_cleanup(lt_map *m)
{
    if (m == NULL)
        return;
    lt_free(m->slots);
    lt_map_init(m);
}

static size_t find_slot(const lt_map *m, const char *key, uint64_t h)
{
    size_t mask = m->cap - 1, i = (size_t)h & mask;

    while (m->slots[i].key != NULL) {
        if (m->slots[i].hash == h && strcmp(m->slots[i].key, key) == 0)
            return i;
        i = (i + 1) & mask;
    }
    return i;
}

void *lt_map_get(const lt_map *m, const char *key)
{
    size_t i;

    if (m->count == 0 || key == NULL)
        return NULL;
    i = find_slot(m, key, lt_map_hash(key));
    return m->slots[i].key != NULL ? m->slots[i].val : NULL;
}

static lt_status grow(lt_map *m)
{
    size_t ncap = m->cap ? m->cap * 2 : 16, i;
    lt_map_slot *old = m->slots, *ns;
    size_t ocap = m->cap;

    ns = lt_calloc(ncap, sizeof(*ns));
    if (ns == NULL)
        return LT_FAIL(LT_ERR_NOMEM, "hash map of %zu slots", ncap);
    m->slots = ns;
    m->cap = ncap;
    for (i = 0; i < ocap; i++) {
        if (old[i].key != NULL) {
            size_t j = (size_t)old[i].hash & (ncap - 1);

            while (ns[j].key != NULL)
                j = (j + 1) & (ncap - 1);
            ns[j] = old[i];
        }
    }
    lt_free(old);
    return LT_OK;
}

/* Insert key, or (replace) give it a new value. */
static lt_status put(lt_map *m, const char *key, void *val, bool replace)
{
    uint64_t h = lt_map_hash(key);
    size_t i;

    if ((m->count + 1) * 4 > m->cap * 3) {
        lt_status st = grow(m);

        if (st != LT_OK)
            return st;
    }
    i = find_slot(m, key, h);
    if (m->slots[i].key != NULL && !replace)
        return LT_FAIL(LT_ERR_CONFLICT, "duplicate key '%s'", key);
    if (m->slots[i].key == NULL)
        m->count++;
    m->slots[i].key = key;
    m->slots[i].hash = h;
    m->slots[i].val = val;
    return LT_OK;
}

lt_status lt_map_put(lt_map *m, const char *key, void *val)
{
    return put(m, key, val, true);
}

lt_status lt_map_add(lt_map *m, const char *key, void *val)
{
    return put(m, key, val, false);
}

void *lt_map_del(lt_map *m, const char *key)
{
    size_t mask, i, j;
    void *val;

    if (m->count == 0 || key == NULL)
        return NULL;
    mask = m->cap - 1;
    i = find_slot(m, key, lt_map_hash(key));
    if (m->slots[i].key == NULL)
        return NULL;
    val = m->slots[i].val;
    /* Backward shift: pull later members of the probe run into the hole. */
    j = i;
    for (;;) {
        size_t home;

        j = (j + 1) & mask;
        if (m->slots[j].key == NULL)
            break;
        home = (size_t)m->slots[j].hash & mask;
        /* Move j into i unless its home lies cyclically in (i, j]. */
        if ((i <= j) ? (home <= i || home > j) : (home <= i && home > j)) {
            m->slots[i] = m->slots[j];
            i = j;
        }
    }
    m->slots[i].key = NULL;
    m->slots[i].val = NULL;
    m->count--;
    return val;
}

void *lt_map_next(const lt_map *m, size_t *iter)
{
    while (*iter < m->cap) {
        size_t i = (*iter)++;

        if (m->slots[i].key != NULL)
            return m->slots[i].val;
    }
    return NULL;
}
