/*
 * string_map.c - the scheduler's sorted string maps (skvs: labels, spread requirements,
 * config and annotations before they become protobuf map entries) and small string helpers.
 */
#include "sched_int.h"

#include <string.h>

#include "lt_alloc.h"

char *lt__sched_strdup0(const char *s)
{
    return lt_strdup(s != NULL ? s : "");
}

bool lt__sched_streq(const char *a, const char *b)
{
    return strcmp(a != NULL ? a : "", b != NULL ? b : "") == 0;
}

void lt__sched_set_str(char **dst, const char *src)
{
    char *n;

    if (src != NULL && *dst != NULL && strcmp(*dst, src) == 0)
        return;
    n = src != NULL ? lt_strdup(src) : NULL;
    if (src != NULL && n == NULL)
        return; /* out of memory: keep the old text */
    lt_free(*dst);
    *dst = n;
}

void lt__sched_skvs_cleanup(skvs *m)
{
    size_t i;

    if (m == NULL)
        return;
    for (i = 0; i < m->count; i++) {
        lt_free(m->items[i].key);
        lt_free(m->items[i].value);
    }
    lt_free(m->items);
    m->items = NULL;
    m->count = 0;
}

lt_status lt__sched_skvs_set(skvs *m, const char *key, const char *value)
{
    size_t lo = 0, hi = m->count;
    char *k, *v;
    skv *ni;

    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        int c = strcmp(m->items[mid].key, key);

        if (c == 0) {
            v = lt_strdup(value);
            if (v == NULL)
                return LT_FAIL(LT_ERR_NOMEM, "map value");
            lt_free(m->items[mid].value);
            m->items[mid].value = v;
            return LT_OK;
        }
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    k = lt_strdup(key);
    v = lt_strdup(value);
    ni = lt_realloc(m->items, (m->count + 1) * sizeof(*ni));
    if (k == NULL || v == NULL || ni == NULL) {
        lt_free(k);
        lt_free(v);
        if (ni != NULL)
            m->items = ni;
        return LT_FAIL(LT_ERR_NOMEM, "map entry");
    }
    m->items = ni;
    memmove(&ni[lo + 1], &ni[lo], (m->count - lo) * sizeof(*ni));
    ni[lo].key = k;
    ni[lo].value = v;
    m->count++;
    return LT_OK;
}

bool lt__sched_skvs_equal(const skvs *a, const skvs *b)
{
    size_t i;

    if (a->count != b->count)
        return false;
    for (i = 0; i < a->count; i++)
        if (strcmp(a->items[i].key, b->items[i].key) != 0 ||
            strcmp(a->items[i].value, b->items[i].value) != 0)
            return false;
    return true;
}

bool lt__sched_skvs_match(const skvs *labels, const skvs *req)
{
    size_t i = 0, j = 0;

    /* Both sorted: one merge walk. */
    while (j < req->count) {
        int c;

        if (i == labels->count)
            return false;
        c = strcmp(labels->items[i].key, req->items[j].key);
        if (c < 0) {
            i++;
            continue;
        }
        if (c > 0 || strcmp(labels->items[i].value, req->items[j].value) != 0)
            return false;
        i++;
        j++;
    }
    return true;
}

void lt__sched_sha_skvs(sched_sha *h, const skvs *m)
{
    size_t i;

    for (i = 0; i < m->count; i++) {
        lt__sched_sha_str(h, m->items[i].key);
        lt__sched_sha_update(h, "=", 1);
        lt__sched_sha_str(h, m->items[i].value);
        lt__sched_sha_update(h, "\n", 1);
    }
    lt__sched_sha_update(h, "\x1e", 1);
}
