/*
 * lt_buf.h - a growable, always NUL-terminated byte buffer with a mandatory
 * per-instance maximum, and lt_str, a non-owning (pointer, length) slice.
 * Appending past the maximum fails with LT_ERR_TOO_BIG and leaves the buffer
 * unchanged, so callers never see a silently truncated subject or document.
 */
#ifndef LT_BUF_H
#define LT_BUF_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>

#include "lt_status.h"

typedef struct {
    char *ptr;      /**< data, NUL-terminated; never NULL after init */
    size_t len;     /**< bytes used, excluding the NUL */
    size_t cap;     /**< bytes allocated (or of the initial stack array) */
    size_t max;     /**< hard limit on len */
    bool owned;     /**< ptr is heap memory we must free */
} lt_buf;

typedef struct {
    const char *ptr;
    size_t len;
} lt_str;

#define LT_STR(lit) ((lt_str){ (lit), sizeof(lit) - 1 })

/** Initialise an empty buffer limited to max bytes; no allocation yet. */
void lt_buf_init(lt_buf *b, size_t max);

/**
 * Initialise on caller memory (e.g. a stack array for a short subject); it
 * moves to the heap only if it outgrows that array.
 */
void lt_buf_init_on(lt_buf *b, char *mem, size_t memsize, size_t max);

/** Release memory owned by b; b may then be re-initialised. NULL-safe. */
void lt_buf_cleanup(lt_buf *b);

/** Drop the content but keep the memory. */
void lt_buf_reset(lt_buf *b);

LT_NODISCARD lt_status lt_buf_append(lt_buf *b, const void *data, size_t len);
LT_NODISCARD lt_status lt_buf_appends(lt_buf *b, const char *s);
LT_NODISCARD lt_status lt_buf_appendc(lt_buf *b, char c);
LT_NODISCARD lt_status lt_buf_appendf(lt_buf *b, const char *fmt, ...) LT_PRINTF(2, 3);
LT_NODISCARD lt_status lt_buf_vappendf(lt_buf *b, const char *fmt, va_list ap) LT_PRINTF(2, 0);

/**
 * Move the content out as a heap string the caller frees with lt_free; the
 * buffer is left empty. Returns NULL only when out of memory.
 */
char *lt_buf_take(lt_buf *b);

/** True when s equals the NUL-terminated c string. */
bool lt_str_eq(lt_str s, const char *c);

#endif
