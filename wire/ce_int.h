/*
 * ce_int.h - internals shared by lt_ce.c (validation), lt_ce_binary.c
 * (binary mode) and lt_ce_json.c (structured mode): the builder that collects
 * attributes into one arena and turns them into a validated lt_ce.
 */
#ifndef LT_CE_INT_H
#define LT_CE_INT_H

#include "lt_ce.h"
#include "lt_limits.h"

/* A raw header value may take 3 bytes per decoded byte (percent-encoding). */
#define LT__CE_RAW_VALUE_MAX (3u * LT_MAX_HEADER_VALUE + 2u)

/** The core attributes, in the order they are emitted. */
typedef enum {
    LT__CE_SPECVERSION = 0,
    LT__CE_ID,
    LT__CE_SOURCE,
    LT__CE_TYPE,
    LT__CE_SUBJECT,
    LT__CE_TIME,
    LT__CE_DATACONTENTTYPE,
    LT__CE_DATASCHEMA,
    LT__CE_ATTR_COUNT
} lt__ce_attr;

/** Collects one event while decoding; arena offsets become pointers at finish. */
typedef struct {
    char *mem;       /* the arena: every string and the data */
    size_t len, cap; /* bytes used / allocated in mem */
    bool hdr;        /* name attributes "ce-x" in errors (binary mode) */
    bool fold;       /* fold ASCII upper case in names (received headers) */
    bool set[LT__CE_ATTR_COUNT];
    size_t off[LT__CE_ATTR_COUNT];
    size_t ext_name[LT_CE_MAX_EXTENSIONS];
    size_t ext_value[LT_CE_MAX_EXTENSIONS];
    size_t n_ext;
    bool has_data;
    size_t data_off, data_len;
} lt__ce_builder;

/** Name of a core attribute ("datacontenttype"). */
const char *lt__ce_attr_name(lt__ce_attr a);

void lt__ce_builder_init(lt__ce_builder *b, bool hdr);

/** Make room for about n more bytes up front (one allocation for the event). */
LT_NODISCARD lt_status lt__ce_builder_reserve(lt__ce_builder *b, size_t n);
void lt__ce_builder_cleanup(lt__ce_builder *b);

/**
 * Add attribute name (name_len bytes; with b->fold ASCII upper case is
 * folded) = value (len bytes, already unescaped). Checks the name, the value
 * (valid UTF-8, no control characters or noncharacters, at most
 * LT_MAX_HEADER_VALUE bytes), duplicates and the extension count.
 */
LT_NODISCARD lt_status lt__ce_builder_attr(lt__ce_builder *b, const char *name, size_t name_len,
                                           const char *value, size_t len);

/**
 * Check an attribute name (1..LT_CE_MAX_NAME of a-z0-9; with b->fold ASCII
 * upper case is folded, as header names are case-insensitive) and write it,
 * normalised and NUL-terminated, to out.
 * LT_ERR_INVALID naming it (only when it is printable).
 */
LT_NODISCARD lt_status lt__ce_check_name(const lt__ce_builder *b, const char *name, size_t n,
                                         char out[LT_CE_MAX_NAME + 1]);

/** The value of core attribute a (NUL-terminated, inside the arena), or NULL. */
const char *lt__ce_builder_get(const lt__ce_builder *b, lt__ce_attr a);

/** Set the data (at most LT_MAX_MESSAGE bytes). Once only. */
LT_NODISCARD lt_status lt__ce_builder_data(lt__ce_builder *b, const void *data, size_t len);

/**
 * Validate the whole event (required attributes, specversion, time, URIs,
 * content type versus data) and move it into ce (which must be empty).
 * The builder is left empty either way.
 */
LT_NODISCARD lt_status lt__ce_builder_finish(lt__ce_builder *b, lt_ce *ce, bool structured);

/**
 * Copy s into buf (cap bytes) for an error message: bytes outside
 * 0x20..0x7E become '?', and it is cut to cap - 1 bytes. Returns buf.
 */
const char *lt__ce_printable(const char *s, char *buf, size_t cap);

/** Number of bytes of s (at most max) to print without cutting a UTF-8 sequence. */
int lt__ce_clip(const char *s, size_t max);

#endif
