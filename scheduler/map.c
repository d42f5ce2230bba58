/*
 * map.c - the scheduler's containers: smap, an open-addressing hash map from
 * borrowed NUL-terminated keys to pointers (linear probing, backward-shift
 * deletion, so no tombstones slow lookups down over time), and pvec, a
 * growable pointer array.
 */
#include "sched_int.h"

#include <string.h>

#include "lt_alloc.h"

uint64_t sched_hash(const char *s)
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

void smap_init(smap *m)
{
    m->slots = NULL;
    m->cap = 0;
    m->count = 0;
}

void smap_cleanup(smap *m)
{
    if (m == NULL)
        return;
    lt_free(m->slots);
    smap_init(m);
}

static size_t find_slot(const smap *m, const char *key, uint64_t h)
{
    size_t mask = m->cap - 1, i = (size_t)h & mask;

    while (m->slots[i].key != NULL) {
        if (m->slots[i].hash == h && strcmp(m->slots[i].key, key) == 0)
            return i;
        i = (i + 1) & mask;
    }
    return i;
}

void *smap_get(const smap *m, const char *key)
{
    size_t i;

    if (m->count == 0)
        return NULL;
    i = find_slot(m, key, sched_hash(key));
    return m->slots[i].key != NULL ? m->slots[i].val : NULL;
}

static lt_status grow(smap *m)
{
    size_t ncap = m->cap ? m->cap * 2 : 16, i;
    smap_slot *old = m->slots, *ns;
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

lt_status smap_put(smap *m, const char *key, void *val)
{
    uint64_t h = sched_hash(key);
    size_t i;

    if ((m->count + 1) * 4 > m->cap * 3) {
        lt_status st = grow(m);

        if (st != LT_OK)
            return st;
    }
    i = find_slot(m, key, h);
    if (m->slots[i].key == NULL)
        m->count++;
    m->slots[i].key = key;
    m->slots[i].hash = h;
    m->slots[i].val = val;
    return LT_OK;
}

void *smap_del(smap *m, const char *key)
{
    size_t mask, i, j;
    void *val;

    if (m->count == 0)
        return NULL;
    mask = m->cap - 1;
    i = find_slot(m, key, sched_hash(key));
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

lt_status pvec_push(pvec *v, void *p)
{
    if (v->len == v->cap) {
        size_t ncap = v->cap ? v->cap * 2 : 8;
        void **np = lt_realloc(v->items, ncap * sizeof(*np));

        if (np == NULL)
            return LT_FAIL(LT_ERR_NOMEM, "pointer array of %zu", ncap);
        v->items = np;
        v->cap = ncap;
    }
    v->items[v->len++] = p;
    return LT_OK;
}

void pvec_cleanup(pvec *v)
{
    if (v == NULL)
        return;
    lt_free(v->items);
    v->items = NULL;
    v->len = v->cap = 0;
}
