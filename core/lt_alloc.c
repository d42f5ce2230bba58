/*
 * lt_alloc.c - the replaceable allocator table behind lt_malloc and friends.
 */
#include "lt_alloc.h"

#include <stdlib.h>
#include <string.h>

static lt_allocator current = { malloc, calloc, realloc, free };

void lt_alloc_set(const lt_allocator *a)
{
    if (a == NULL) {
        current = (lt_allocator){ malloc, calloc, realloc, free };
        return;
    }
    current = *a;
}

void *lt_malloc(size_t size)
{
    return current.malloc_fn(size ? size : 1);
}

void *lt_calloc(size_t n, size_t size)
{
    return current.calloc_fn(n ? n : 1, size ? size : 1);
}

void *lt_realloc(void *p, size_t size)
{
    return current.realloc_fn(p, size ? size : 1);
}

void lt_free(void *p)
{
    if (p != NULL)
        current.free_fn(p);
}

char *lt_strndup(const char *s, size_t len)
{
    char *d;

    if (s == NULL)
        return NULL;
    d = lt_malloc(len + 1);
    if (d == NULL)
        return NULL;
    memcpy(d, s, len);
    d[len] = '\0';
    return d;
}

char *lt_strdup(const char *s)
{
    if (s == NULL)
        return NULL;
    return lt_strndup(s, strlen(s));
}
