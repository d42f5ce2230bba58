/*
 * pvec.c - the scheduler's pointer array, pvec (its hash maps are core/lt_map).
 */
#include "sched_int.h"

#include <string.h>

#include "lt_alloc.h"

lt_status lt__sched_pvec_push(pvec *v, void *p)
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

void lt__sched_pvec_cleanup(pvec *v)
{
    if (v == NULL)
        return;
    lt_free(v->items);
    v->items = NULL;
    v->len = v->cap = 0;
}
