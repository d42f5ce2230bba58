/*
 * arena.c - a bump allocator for the document tree and the model: many small
 * objects, freed all at once. A byte limit bounds what hostile input can make
 * us allocate; exceeding it is reported apart from a real out-of-memory.
 */
#include <stdint.h>
#include <string.h>

#include "lt_alloc.h"
#include "model_int.h"

#define CHUNK_MIN (16u * 1024u)
#define ALIGN 16u

struct chunk {
    struct chunk *next;
    size_t size; /* usable bytes after the header */
    size_t used;
    _Alignas(16) unsigned char data[];
};

struct lt__arena {
    struct chunk *head;
    size_t total; /* bytes obtained from the allocator */
    size_t limit;
    bool hit_limit;
};

lt_status lt__model_arena_new(size_t limit, struct lt__arena **new_arena)
{
    struct lt__arena *a = lt_calloc(1, sizeof(*a));
    if (a == NULL)
        return LT_FAIL(LT_ERR_NOMEM, "arena");
    a->limit = limit;
    *new_arena = a;
    return LT_OK;
}

void lt__model_arena_free(struct lt__arena *a)
{
    if (a == NULL)
        return;
    struct chunk *c = a->head;
    while (c != NULL) {
        struct chunk *next = c->next;
        lt_free(c);
        c = next;
    }
    lt_free(a);
}

void *lt__model_arena_alloc(struct lt__arena *a, size_t size)
{
    if (size == 0)
        size = 1;
    if (size > SIZE_MAX - ALIGN)
        return NULL;
    size = (size + ALIGN - 1) & ~(size_t)(ALIGN - 1);
    struct chunk *c = a->head;
    if (c == NULL || c->size - c->used < size) {
        /* Large blocks get a chunk of their own behind the head, so the
         * head's free space is not wasted. */
        bool own = size >= CHUNK_MIN / 4 && a->head != NULL;
        size_t want = size > CHUNK_MIN || own ? size : CHUNK_MIN;
        if (want > a->limit || a->total + sizeof(struct chunk) > a->limit - want) {
            a->hit_limit = true;
            return NULL;
        }
        c = lt_malloc(sizeof(struct chunk) + want);
        if (c == NULL)
            return NULL;
        c->size = want;
        c->used = 0;
        if (own) {
            c->next = a->head->next;
            a->head->next = c;
        } else {
            c->next = a->head;
            a->head = c;
        }
        a->total += want + sizeof(struct chunk);
    }
    void *p = c->data + c->used;
    c->used += size;
    memset(p, 0, size);
    return p;
}

void *lt__model_arena_array(struct lt__arena *a, size_t n, size_t size)
{
    if (size != 0 && n > SIZE_MAX / size)
        return NULL;
    return lt__model_arena_alloc(a, n * size);
}

char *lt__model_arena_strndup(struct lt__arena *a, const char *s, size_t len)
{
    if (len == SIZE_MAX)
        return NULL;
    char *p = lt__model_arena_alloc(a, len + 1);
    if (p == NULL)
        return NULL;
    if (len > 0)
        memcpy(p, s, len);
    p[len] = '\0';
    return p;
}

char *lt__model_arena_strdup(struct lt__arena *a, const char *s)
{
    return lt__model_arena_strndup(a, s, strlen(s));
}

bool lt__model_arena_hit_limit(const struct lt__arena *a)
{
    return a->hit_limit;
}
