/*
 * hmap.c - the host module's string-keyed hash table: open addressing with
 * linear probing and backward-shift deletion, keys borrowed from the values.
 * Host id -> simulated host, instance id -> instance, link id -> link: every
 * lookup of a request is O(1), never a scan of the fleet.
 */
#include "host_int.h"

#include <string.h>

#include "lt_alloc.h"

/* FNV-1a, 64 bit; good enough for ids we generate or receive (not a DoS-proof
 * hash: tables are bounded by request limits and capacity). */
static uint64_t hash_str(const char *s)
{
    uint64_t h = 1469598103934665603ull;

    for (; *s != '\0'; s++) {
        h ^= (unsigned char)*s;
        h *= 1099511628211ull;
    }
    return h | 1; /* 0 marks an empty slot */
}

void lt_host_map_init(lt_host_map *m, lt_host_key_fn key_of)
{
    memset(m, 0, sizeof(*m));
    m->key_of = key_of;
}

void lt_host_map_cleanup(lt_host_map *m)
{
    if (m == NULL)
        return;
    lt_free(m->slots);
    m->slots = NULL;
    m->cap = m->n = 0;
}

static size_t find_slot(const lt_host_map *m, const char *key, uint64_t h)
{
    size_t mask = m->cap - 1, i = (size_t)h & mask;

    while (m->slots[i].hash != 0) {
        if (m->slots[i].hash == h && strcmp(m->key_of(m->slots[i].val), key) == 0)
            return i;
        i = (i + 1) & mask;
    }
    return i;
}

void *lt_host_map_get(const lt_host_map *m, const char *key)
{
    size_t i;

    if (m->n == 0 || key == NULL)
        return NULL;
    i = find_slot(m, key, hash_str(key));
    return m->slots[i].hash != 0 ? m->slots[i].val : NULL;
}

static lt_status grow(lt_host_map *m)
{
    size_t ncap = m->cap ? m->cap * 2 : 8;
    lt_host_slot *old = m->slots, *ns;
    size_t ocap = m->cap;

    ns = lt_calloc(ncap, sizeof(*ns));
    if (ns == NULL)
        return LT_ERR_NOMEM;
    m->slots = ns;
    m->cap = ncap;
    for (size_t i = 0; i < ocap; i++) {
        if (old[i].hash != 0) {
            size_t j = (size_t)old[i].hash & (ncap - 1);

            while (ns[j].hash != 0)
                j = (j + 1) & (ncap - 1);
            ns[j] = old[i];
        }
    }
    lt_free(old);
    return LT_OK;
}

lt_status lt_host_map_put(lt_host_map *m, void *val)
{
    const char *key = m->key_of(val);
    uint64_t h = hash_str(key);
    size_t i;

    /* Load factor <= 3/4. */
    if ((m->n + 1) * 4 > m->cap * 3) {
        lt_status st = grow(m);

        if (st != LT_OK)
            return st;
    }
    i = find_slot(m, key, h);
    if (m->slots[i].hash != 0)
        return LT_FAIL(LT_ERR_CONFLICT, "duplicate key '%s'", key);
    m->slots[i].hash = h;
    m->slots[i].val = val;
    m->n++;
    return LT_OK;
}

void *lt_host_map_del(lt_host_map *m, const char *key)
{
    size_t mask, i, j;
    void *val;

    if (m->n == 0)
        return NULL;
    mask = m->cap - 1;
    i = find_slot(m, key, hash_str(key));
    if (m->slots[i].hash == 0)
        return NULL;
    val = m->slots[i].val;
    /* Backward-shift: move later members of the probe run into the hole. */
    j = i;
    for (;;) {
        size_t home;

        j = (j + 1) & mask;
        if (m->slots[j].hash == 0)
            break;
        home = (size_t)m->slots[j].hash & mask;
        /* Leave j alone if its home lies cyclically in (i, j]. */
        if (i <= j ? (i < home && home <= j) : (i < home || home <= j))
            continue;
        m->slots[i] = m->slots[j];
        i = j;
    }
    m->slots[i].hash = 0;
    m->slots[i].val = NULL;
    m->n--;
    return val;
}

void *lt_host_map_next(const lt_host_map *m, size_t *iter)
{
    while (*iter < m->cap) {
        size_t i = (*iter)++;

        if (m->slots[i].hash != 0)
            return m->slots[i].val;
    }
    return NULL;
}
