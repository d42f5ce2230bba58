/*
 * lt_buf.c - bounded growable buffer with a sticky first error, and JSON
 * string escaping on top of it.
 */
#include "lt_buf.h"

#include <stdio.h>
#include <string.h>

#include "lt_alloc.h"

static char empty_str[1];

void lt_buf_init(lt_buf *b, size_t max)
{
    b->ptr = empty_str;
    b->len = 0;
    b->cap = 0;
    b->max = max;
    b->owned = false;
    b->err = LT_OK;
}

void lt_buf_init_on(lt_buf *b, char *mem, size_t memsize, size_t max)
{
    lt_buf_init(b, max);
    if (mem != NULL && memsize > 0) {
        b->ptr = mem;
        b->cap = memsize;
        mem[0] = '\0';
    }
}

void lt_buf_cleanup(lt_buf *b)
{
    if (b == NULL)
        return;
    if (b->owned)
        lt_free(b->ptr);
    lt_buf_init(b, b->max);
}

void lt_buf_reset(lt_buf *b)
{
    b->len = 0;
    b->err = LT_OK;
    if (b->cap > 0)
        b->ptr[0] = '\0';
}

void lt_buf_truncate(lt_buf *b, size_t len)
{
    b->err = LT_OK;
    if (len < b->len) {
        b->len = len;
        b->ptr[len] = '\0';
    }
}

lt_status lt_buf_status(const lt_buf *b)
{
    return b->err;
}

/* Record the first failure; every later append returns it. */
static lt_status fail(lt_buf *b, lt_status st)
{
    if (b->err == LT_OK)
        b->err = st;
    return b->err;
}

/* Make room for len more bytes plus the NUL. */
static lt_status reserve(lt_buf *b, size_t len)
{
    size_t need, ncap;
    char *np;

    if (b->err != LT_OK)
        return b->err;
    if (len > b->max || b->len > b->max - len)
        return fail(b, LT_ERR_TOO_BIG);
    need = b->len + len + 1;
    if (need <= b->cap)
        return LT_OK;
    ncap = b->cap ? b->cap : 64;
    while (ncap < need)
        ncap *= 2;
    if (b->owned) {
        np = lt_realloc(b->ptr, ncap);
        if (np == NULL)
            return fail(b, LT_ERR_NOMEM);
    } else {
        np = lt_malloc(ncap);
        if (np == NULL)
            return fail(b, LT_ERR_NOMEM);
        memcpy(np, b->ptr, b->len);
        np[b->len] = '\0';
    }
    b->ptr = np;
    b->cap = ncap;
    b->owned = true;
    return LT_OK;
}

lt_status lt_buf_append(lt_buf *b, const void *data, size_t len)
{
    lt_status st = reserve(b, len);

    if (st != LT_OK)
        return st;
    if (len > 0)
        memcpy(b->ptr + b->len, data, len);
    b->len += len;
    b->ptr[b->len] = '\0';
    return LT_OK;
}

lt_status lt_buf_appends(lt_buf *b, const char *s)
{
    return lt_buf_append(b, s, strlen(s));
}

lt_status lt_buf_appendc(lt_buf *b, char c)
{
    return lt_buf_append(b, &c, 1);
}

lt_status lt_buf_vappendf(lt_buf *b, const char *fmt, va_list ap)
{
    va_list ap2;
    int n;
    lt_status st;

    if (b->err != LT_OK)
        return b->err;
    va_copy(ap2, ap);
    n = vsnprintf(NULL, 0, fmt, ap2);
    va_end(ap2);
    if (n < 0)
        return fail(b, LT_ERR_INVALID);
    st = reserve(b, (size_t)n);
    if (st != LT_OK)
        return st;
    vsnprintf(b->ptr + b->len, (size_t)n + 1, fmt, ap);
    b->len += (size_t)n;
    return LT_OK;
}

lt_status lt_buf_appendf(lt_buf *b, const char *fmt, ...)
{
    va_list ap;
    lt_status st;

    va_start(ap, fmt);
    st = lt_buf_vappendf(b, fmt, ap);
    va_end(ap);
    return st;
}

char *lt_buf_take(lt_buf *b)
{
    char *s;

    if (b->owned) {
        s = b->ptr;
        lt_buf_init(b, b->max);
        return s;
    }
    s = lt_strndup(b->ptr, b->len);
    if (s != NULL)
        lt_buf_init(b, b->max);
    return s;
}

lt_status lt_buf_json_escape(lt_buf *b, const char *s, size_t len)
{
    static const char hex[] = "0123456789abcdef";
    size_t i, run = 0;

    for (i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        char esc[6] = { '\\', 0, '0', '0', 0, 0 };
        size_t n = 2;

        if (c == '"' || c == '\\')
            esc[1] = (char)c;
        else if (c == '\n')
            esc[1] = 'n';
        else if (c == '\r')
            esc[1] = 'r';
        else if (c == '\t')
            esc[1] = 't';
        else if (c == '\b')
            esc[1] = 'b';
        else if (c == '\f')
            esc[1] = 'f';
        else if (c < 0x20) {
            esc[1] = 'u';
            esc[4] = hex[c >> 4];
            esc[5] = hex[c & 15];
            n = 6;
        } else
            continue;
        /* copy the plain run before this byte in one go, then the escape */
        LT_IGNORE(lt_buf_append(b, s + run, i - run));
        LT_IGNORE(lt_buf_append(b, esc, n));
        run = i + 1;
    }
    LT_IGNORE(lt_buf_append(b, s + run, len - run));
    return b->err;
}

lt_status lt_buf_json_str(lt_buf *b, const char *s)
{
    if (s == NULL)
        s = "";
    LT_IGNORE(lt_buf_appendc(b, '"'));
    LT_IGNORE(lt_buf_json_escape(b, s, strlen(s)));
    return lt_buf_appendc(b, '"');
}

bool lt_str_eq(lt_str s, const char *c)
{
    size_t n = strlen(c);

    return n == s.len && memcmp(s.ptr, c, n) == 0;
}
