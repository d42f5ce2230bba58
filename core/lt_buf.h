/*
 * lt_buf.h - a growable, always NUL-terminated byte buffer with a mandatory
 * per-instance maximum, and lt_str, a non-owning (pointer, length) slice.
 * Appending past the maximum fails with LT_ERR_TOO_BIG and leaves the buffer
 * unchanged, so callers never see a silently truncated subject or document.
 * The first failure sticks: later appends do nothing and return it, so text
 * is built as a plain sequence of appends with one status check at the end
 * (lt_buf_status). lt_buf_reset/lt_buf_truncate clear it.
 */
#ifndef LT_BUF_H
#define LT_BUF_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>

#include "lt_status.h"

typedef struct {
    char *ptr;     /**< data, NUL-terminated; never NULL after init */
    size_t len;    /**< bytes used, excluding the NUL */
    size_t cap;    /**< bytes allocated (or of the initial stack array) */
    size_t max;    /**< hard limit on len */
    bool owned;    /**< ptr is heap memory we must free */
    lt_status err; /**< first failed append (sticky), LT_OK while none failed */
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

/** Drop the content and the sticky error but keep the memory. */
void lt_buf_reset(lt_buf *b);

/**
 * Cut the content back to len bytes (a mark taken earlier from b->len) and
 * clear the sticky error: rolls back a part that did not fit. len > b->len is
 * ignored (only the error is cleared).
 */
void lt_buf_truncate(lt_buf *b, size_t len);

/**
 * The first error of an append since init/reset/truncate (LT_ERR_TOO_BIG,
 * LT_ERR_NOMEM, LT_ERR_INVALID for a bad format), or LT_OK.
 */
LT_NODISCARD lt_status lt_buf_status(const lt_buf *b);

/*
 * Appends. Each returns LT_OK, or the buffer's first error: LT_ERR_TOO_BIG past
 * the maximum, LT_ERR_NOMEM; once one failed, the later ones append nothing.
 */
LT_NODISCARD lt_status lt_buf_append(lt_buf *b, const void *data, size_t len);
LT_NODISCARD lt_status lt_buf_appends(lt_buf *b, const char *s);
LT_NODISCARD lt_status lt_buf_appendc(lt_buf *b, char c);
LT_NODISCARD lt_status lt_buf_appendf(lt_buf *b, const char *fmt, ...) LT_PRINTF(2, 3);
LT_NODISCARD lt_status lt_buf_vappendf(lt_buf *b, const char *fmt, va_list ap) LT_PRINTF(2, 0);

/**
 * Append s (len bytes, NUL bytes included) escaped for the inside of a JSON
 * string, without quotes: '"' and '\\' escaped, \b \f \n \r \t as such, other bytes
 * below 0x20 as \u00xx; all other bytes (UTF-8) copied. Status as for the
 * appends; on failure the part that fitted stays (the error sticks).
 */
LT_NODISCARD lt_status lt_buf_json_escape(lt_buf *b, const char *s, size_t len);

/** Append s as a JSON string literal, quotes included; NULL is written as "". */
LT_NODISCARD lt_status lt_buf_json_str(lt_buf *b, const char *s);

/**
 * Move the content out as a heap string the caller frees with lt_free; the
 * buffer is left empty. Returns NULL only when out of memory.
 */
char *lt_buf_take(lt_buf *b);

/** True when s equals the NUL-terminated c string. */
bool lt_str_eq(lt_str s, const char *c);

#endif
