/*
 * lt_trace.c - W3C traceparent parsing and formatting, random trace and span
 * ids (a PRNG per thread, seeded from the kernel: unique, not unguessable).
 */
#include "lt_trace.h"

#include <stdbool.h>
#include <string.h>
#include <time.h>

#include "lt_rand.h"

static int hexval(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    return -1; /* uppercase is invalid in traceparent */
}

/* n bytes from 2n lowercase hex digits; false on a bad digit. */
static bool unhex(const char *s, uint8_t *out, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        int hi = hexval(s[2 * i]), lo = hexval(s[2 * i + 1]);

        if (hi < 0 || lo < 0)
            return false;
        out[i] = (uint8_t)(hi << 4 | lo);
    }
    return true;
}

static bool all_zero(const uint8_t *p, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (p[i] != 0)
            return false;
    }
    return true;
}

lt_status lt_trace_parse(const char *s, size_t len, lt_trace_ctx *out)
{
    uint8_t version;
    lt_trace_ctx c;

    if (s == NULL || len < LT_TRACE_PARENT_LEN || !unhex(s, &version, 1) || s[2] != '-' ||
        s[35] != '-' || s[52] != '-')
        return LT_FAIL(LT_ERR_INVALID, "traceparent: malformed");
    if (version == 0xff)
        return LT_FAIL(LT_ERR_INVALID, "traceparent: version ff is invalid");
    if (version == 0 && len != LT_TRACE_PARENT_LEN)
        return LT_FAIL(LT_ERR_INVALID, "traceparent: version 00 is 55 bytes");
    if (len > LT_TRACE_PARENT_LEN && s[LT_TRACE_PARENT_LEN] != '-')
        return LT_FAIL(LT_ERR_INVALID, "traceparent: malformed after the flags");
    if (!unhex(s + 3, c.trace_id, 16) || !unhex(s + 36, c.span_id, 8) ||
        !unhex(s + 53, &c.flags, 1))
        return LT_FAIL(LT_ERR_INVALID, "traceparent: not lowercase hex");
    if (all_zero(c.trace_id, 16) || all_zero(c.span_id, 8))
        return LT_FAIL(LT_ERR_INVALID, "traceparent: all-zero id");
    *out = c;
    return LT_OK;
}

static void tohex(const uint8_t *p, size_t n, char *out)
{
    static const char digits[] = "0123456789abcdef";

    for (size_t i = 0; i < n; i++) {
        out[2 * i] = digits[p[i] >> 4];
        out[2 * i + 1] = digits[p[i] & 15];
    }
    out[2 * n] = '\0';
}

void lt_trace_format(const lt_trace_ctx *c, char out[LT_TRACE_PARENT_LEN + 1])
{
    memcpy(out, "00-", 3);
    tohex(c->trace_id, 16, out + 3);
    out[35] = '-';
    tohex(c->span_id, 8, out + 36);
    out[52] = '-';
    tohex(&c->flags, 1, out + 53);
}

void lt_trace_id_hex(const lt_trace_ctx *c, char out[LT_TRACE_ID_HEX])
{
    tohex(c->trace_id, 16, out);
}

void lt_trace_span_hex(const lt_trace_ctx *c, char out[LT_TRACE_SPAN_HEX])
{
    tohex(c->span_id, 8, out);
}

/* n random bytes, never all zero (an all-zero id is invalid), from a PRNG of the calling
 * thread seeded from the kernel on its first use: the scheduler makes a span id per command
 * sent (a thousand in one pass), and a getrandom(2) for each cost more than the rest of the
 * span. Ids need to be unique, not secret (W3C Trace Context, "Privacy"). */
static void random_id(uint8_t *p, size_t n)
{
    static _Thread_local lt_rand rng;
    static _Thread_local bool seeded;
    uint64_t x = 0;

    if (!seeded) {
        lt_rand_seed_random(&rng);
        seeded = true;
    }
    for (size_t i = 0; i < n; i++) {
        if (i % 8 == 0)
            x = lt_rand_next(&rng);
        p[i] = (uint8_t)(x >> (8 * (i % 8)));
    }
    if (all_zero(p, n))
        p[n - 1] = 1;
}

void lt_trace_new(lt_trace_ctx *out)
{
    uint8_t r[24];

    random_id(r, sizeof(r));
    memcpy(out->trace_id, r, 16);
    memcpy(out->span_id, r + 16, 8);
    if (all_zero(out->trace_id, 16))
        out->trace_id[15] = 1;
    if (all_zero(out->span_id, 8))
        out->span_id[7] = 1;
    out->flags = 1;
}

void lt_trace_child(const lt_trace_ctx *parent, lt_trace_ctx *out)
{
    memcpy(out->trace_id, parent->trace_id, sizeof(out->trace_id));
    out->flags = parent->flags;
    random_id(out->span_id, sizeof(out->span_id));
}
