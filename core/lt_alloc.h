/*
 * lt_alloc.h - allocation through one replaceable table, so tests can count
 * allocations and fail the Nth one. All latticed code allocates through these.
 */
#ifndef LT_ALLOC_H
#define LT_ALLOC_H

#include <stddef.h>

typedef struct {
    void *(*malloc_fn)(size_t size);
    void *(*calloc_fn)(size_t n, size_t size);
    void *(*realloc_fn)(void *p, size_t size);
    void (*free_fn)(void *p);
} lt_allocator;

/** Replace the allocator (NULL restores libc). Not thread-safe: call at start-up. */
void lt_alloc_set(const lt_allocator *a);

void *lt_malloc(size_t size);
void *lt_calloc(size_t n, size_t size);
void *lt_realloc(void *p, size_t size);
void lt_free(void *p);

/** Duplicate a NUL-terminated string; NULL on NULL input or out of memory. */
char *lt_strdup(const char *s);

/** Duplicate len bytes and add a NUL; NULL on out of memory. */
char *lt_strndup(const char *s, size_t len);

#endif
