/*
 * lt_pbjson_text.c - the text-level helpers of the proto3 JSON codec: strict
 * UTF-8 validation, base64 (standard out; standard or URL-safe, padded or
 * not, in), JSON number literals (grammar check, exact integral value),
 * Go-protojson-compatible number formatting, short value descriptions for
 * error messages, and the serializer that turns a json_t tree into text
 * (jansson's own prints 3.2 as 3.2000000000000002).
 */
#include <float.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "lt_alloc.h"
#include "lt_utf8.h"
#include "pbjson_int.h"

/* ---- UTF-8 ----------------------------------------------------------------- */

bool lt__pbjson_utf8_valid(const char *s, size_t len)
{
    return lt_utf8_valid(s, len);
}

/* ---- base64 ---------------------------------------------------------------- */

static const char b64_std[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

lt_status lt__pbjson_base64_encode(const uint8_t *data, size_t len, json_t **out)
{
    size_t olen = (len + 2) / 3 * 4;
    char *buf = lt_malloc(olen + 1);
    size_t o = 0;

    if (buf == NULL)
        return LT_FAIL(LT_ERR_NOMEM, "out of memory encoding base64");
    for (size_t i = 0; i < len; i += 3) {
        uint32_t v = (uint32_t)data[i] << 16;
        size_t rest = len - i;
        if (rest > 1)
            v |= (uint32_t)data[i + 1] << 8;
        if (rest > 2)
            v |= data[i + 2];
        buf[o++] = b64_std[(v >> 18) & 63];
        buf[o++] = b64_std[(v >> 12) & 63];
        buf[o++] = rest > 1 ? b64_std[(v >> 6) & 63] : '=';
        buf[o++] = rest > 2 ? b64_std[v & 63] : '=';
    }
    buf[o] = '\0';
    *out = json_stringn_nocheck(buf, o);
    lt_free(buf);
    return *out ? LT_OK : LT_FAIL(LT_ERR_NOMEM, "out of memory encoding base64");
}

/* Sextet of ch in the standard (url=false) or URL-safe alphabet, -1 if none. */
static int b64_val(char ch, bool url)
{
    if (ch >= 'A' && ch <= 'Z')
        return ch - 'A';
    if (ch >= 'a' && ch <= 'z')
        return ch - 'a' + 26;
    if (ch >= '0' && ch <= '9')
        return ch - '0' + 52;
    if (ch == (url ? '-' : '+'))
        return 62;
    if (ch == (url ? '_' : '/'))
        return 63;
    return -1;
}

int lt__pbjson_base64_decode(const char *s, size_t len, uint8_t **data, size_t *out_len,
                             size_t *bad_at)
{
    bool url = memchr(s, '-', len) != NULL || memchr(s, '_', len) != NULL;
    size_t n = len, o = 0;
    uint32_t acc = 0;
    uint8_t *buf;

    *data = NULL;
    *out_len = 0;
    *bad_at = 0;
    if (len % 4 == 0 && n > 0 && s[n - 1] == '=')
        n -= (n > 1 && s[n - 2] == '=') ? 2 : 1;
    for (size_t i = 0; i < n; i++) {
        if (b64_val(s[i], url) < 0) {
            *bad_at = i;
            return -1;
        }
    }
    if (n % 4 == 1) { /* a lone trailing character carries no whole byte */
        *bad_at = n - 1;
        return -1;
    }
    buf = malloc(n / 4 * 3 + 3);
    if (buf == NULL)
        return -2;
    for (size_t i = 0; i < n; i++) {
        acc = (acc << 6) | (uint32_t)b64_val(s[i], url);
        if (i % 4 == 3) {
            buf[o++] = (uint8_t)(acc >> 16);
            buf[o++] = (uint8_t)(acc >> 8);
            buf[o++] = (uint8_t)acc;
        }
    }
    if (n % 4 == 2)
        buf[o++] = (uint8_t)(acc >> 4);
    else if (n % 4 == 3) {
        buf[o++] = (uint8_t)(acc >> 10);
        buf[o++] = (uint8_t)(acc >> 2);
    }
    if (o == 0) {
        free(buf);
        buf = NULL;
    }
    *data = buf;
    *out_len = o;
    return 0;
}

/* ---- number literals -------------------------------------------------------- */

static bool is_digit(char ch)
{
    return ch >= '0' && ch <= '9';
}

bool lt__pbjson_number_literal_ok(const char *s)
{
    if (*s == '-')
        s++;
    if (*s == '0')
        s++;
    else if (*s >= '1' && *s <= '9')
        while (is_digit(*s))
            s++;
    else
        return false;
    if (*s == '.') {
        if (!is_digit(*++s))
            return false;
        while (is_digit(*s))
            s++;
    }
    if (*s == 'e' || *s == 'E') {
        s++;
        if (*s == '+' || *s == '-')
            s++;
        if (!is_digit(*s))
            return false;
        while (is_digit(*s))
            s++;
    }
    return *s == '\0';
}

/* Exponent of a literal, saturated at +-100000 (more than any digit count we accept). */
static long parse_exponent(const char *e)
{
    long v = 0;
    bool neg = false;

    if (*e == '+' || *e == '-')
        neg = *e++ == '-';
    for (; is_digit(*e); e++)
        if (v < 100000)
            v = v * 10 + (*e - '0');
    return neg ? -v : v;
}

/*
 * Value of a literal as sign and magnitude, exactly: digits dropped by a
 * negative exponent must be zeros, digits added by a positive one overflow
 * unless the value is zero.
 */
int lt__pbjson_parse_integer_literal(const char *s, bool *neg, uint64_t *mag)
{
    const char *digits, *frac = NULL, *e;
    size_t nint = 0, nfrac = 0;
    long exp = 0, keep;
    uint64_t v = 0;
    bool nonzero_dropped = false;

    if (!lt__pbjson_number_literal_ok(s))
        return -1;
    *neg = (*s == '-');
    digits = *neg ? s + 1 : s;
    while (is_digit(digits[nint]))
        nint++;
    if (digits[nint] == '.') {
        frac = digits + nint + 1;
        while (is_digit(frac[nfrac]))
            nfrac++;
    }
    e = (frac ? frac + nfrac : digits + nint);
    if (*e == 'e' || *e == 'E')
        exp = parse_exponent(e + 1);
    keep = (long)nint + exp; /* digits left of the decimal point after scaling */
    for (long i = 0; i < (long)(nint + nfrac); i++) {
        char ch = i < (long)nint ? digits[i] : frac[i - (long)nint];
        unsigned d = (unsigned)(ch - '0');
        if (i >= keep) {
            nonzero_dropped |= d != 0;
            continue;
        }
        if (v > (UINT64_MAX - d) / 10)
            return -3;
        v = v * 10 + d;
    }
    if (nonzero_dropped)
        return -2;
    for (long i = (long)(nint + nfrac); i < keep && v != 0; i++) {
        if (v > UINT64_MAX / 10)
            return -3;
        v *= 10;
    }
    *mag = v;
    return 0;
}

/* ---- number formatting ------------------------------------------------------ */

bool lt__pbjson_double_fits_float(double d)
{
    return fabs(d) < (double)FLT_MAX + ldexp(1.0, 103);
}

double lt__pbjson_float_shortest(float f)
{
    char tmp[32];

    if (!isfinite(f) || f == 0.0f)
        return (double)f;
    for (int p = 1; p <= 9; p++) {
        double d;
        snprintf(tmp, sizeof(tmp), "%.*e", p - 1, (double)f);
        d = strtod(tmp, NULL);
        if (lt__pbjson_double_fits_float(d) && (float)d == f)
            return d;
    }
    return (double)f;
}

/* Shortest "d.ddde[+-]x" that reads back as v: digits without the point in dig. */
static int shortest_digits(double v, char *dig, size_t cap, int *exp10)
{
    char tmp[40];
    int nd = 0;

    for (int p = 1; p <= 17; p++) {
        snprintf(tmp, sizeof(tmp), "%.*e", p - 1, v);
        if (strtod(tmp, NULL) == v || p == 17)
            break;
    }
    for (const char *t = tmp; *t != 'e' && *t != '\0'; t++)
        if (is_digit(*t) && (size_t)nd + 1 < cap)
            dig[nd++] = *t;
    while (nd > 1 && dig[nd - 1] == '0')
        nd--;
    dig[nd] = '\0';
    *exp10 = atoi(strchr(tmp, 'e') + 1);
    return nd;
}

/* Format a finite double as Go's protojson does; returns length. */
static size_t format_double(double v, char *buf, size_t cap)
{
    char dig[24];
    int exp10, nd;
    double a = fabs(v);
    lt_buf b;
    size_t n;

    lt_buf_init_on(&b, buf, cap, cap - 1);
    if (signbit(v))
        LT_IGNORE(lt_buf_appendc(&b, '-'));
    if (a == 0.0) { /* "-0.0", not Go's "-0": parsers such as jansson read "-0" as integer 0 */
        LT_IGNORE(lt_buf_appends(&b, signbit(v) ? "0.0" : "0"));
        return b.len;
    }
    nd = shortest_digits(a, dig, sizeof(dig), &exp10);
    if (a < 1e-6 || a >= 1e21) { /* Go: exponent form, "1e+21", "1.5e-7" */
        LT_IGNORE(lt_buf_appendc(&b, dig[0]));
        if (nd > 1)
            LT_IGNORE(lt_buf_appendf(&b, ".%s", dig + 1));
        LT_IGNORE(lt_buf_appendf(&b, "e%c%d", exp10 < 0 ? '-' : '+', exp10 < 0 ? -exp10 : exp10));
    } else if (exp10 < 0) {
        LT_IGNORE(lt_buf_appends(&b, "0."));
        for (int i = -1; i > exp10; i--)
            LT_IGNORE(lt_buf_appendc(&b, '0'));
        LT_IGNORE(lt_buf_appends(&b, dig));
    } else {
        for (int i = 0; i <= exp10 || i < nd; i++) {
            if (i == exp10 + 1)
                LT_IGNORE(lt_buf_appendc(&b, '.'));
            LT_IGNORE(lt_buf_appendc(&b, i < nd ? dig[i] : '0'));
        }
    }
    n = b.len;
    return n;
}

void lt__pbjson_describe(const json_t *j, char *buf, size_t cap)
{
    char num[40];

    switch (json_typeof(j)) {
    case JSON_STRING: {
        const char *s = json_string_value(j);
        size_t len = json_string_length(j), n = 0;
        char tmp[36];
        for (; n < len && n < 32; n++) {
            unsigned char ch = (unsigned char)s[n];
            tmp[n] = (ch < 0x20 || ch >= 0x7f) ? '?' : (char)ch;
        }
        tmp[n] = '\0';
        snprintf(buf, cap, "string \"%s%s\"", tmp, len > n ? "..." : "");
        return;
    }
    case JSON_INTEGER:
        snprintf(buf, cap, "number %" JSON_INTEGER_FORMAT, json_integer_value(j));
        return;
    case JSON_REAL:
        format_double(json_real_value(j), num, sizeof(num));
        snprintf(buf, cap, "number %s", num);
        return;
    case JSON_OBJECT:
        snprintf(buf, cap, "object");
        return;
    case JSON_ARRAY:
        snprintf(buf, cap, "array");
        return;
    case JSON_TRUE:
    case JSON_FALSE:
        snprintf(buf, cap, "boolean %s", json_is_true(j) ? "true" : "false");
        return;
    default:
        snprintf(buf, cap, "null");
    }
}

lt_status lt__wire_type_error(const lt__pbjson_ctx *c, const char *want, const json_t *j)
{
    char got[64];

    lt__pbjson_describe(j, got, sizeof(got));
    return PBJ_FAIL(c, LT_ERR_INVALID, "expected %s, got %s", want, got);
}

/* ---- serializer ------------------------------------------------------------- */

/* The dump_* writers append in plain sequences: b keeps its first error (core/lt_buf). */
static lt_status dump_string(const char *s, size_t len, lt_buf *b)
{
    LT_IGNORE(lt_buf_appendc(b, '"'));
    LT_IGNORE(lt_buf_json_escape(b, s, len));
    return lt_buf_appendc(b, '"');
}

static lt_status dump_value(const json_t *j, bool pretty, unsigned ind, lt_buf *b);

static lt_status dump_newline(bool pretty, unsigned ind, lt_buf *b)
{
    if (!pretty)
        return LT_OK;
    LT_IGNORE(lt_buf_appendc(b, '\n'));
    for (unsigned i = 0; i < ind; i++)
        LT_IGNORE(lt_buf_append(b, "  ", 2));
    return lt_buf_status(b);
}

static lt_status dump_object(json_t *j, bool pretty, unsigned ind, lt_buf *b)
{
    bool first = true;
    void *it;

    LT_IGNORE(lt_buf_appendc(b, '{'));
    for (it = json_object_iter(j); it != NULL && lt_buf_status(b) == LT_OK;
         it = json_object_iter_next(j, it)) {
        if (!first)
            LT_IGNORE(lt_buf_appendc(b, ','));
        first = false;
        LT_IGNORE(dump_newline(pretty, ind + 1, b));
        LT_IGNORE(dump_string(json_object_iter_key(it), json_object_iter_key_len(it), b));
        LT_IGNORE(lt_buf_appends(b, pretty ? ": " : ":"));
        LT_IGNORE(dump_value(json_object_iter_value(it), pretty, ind + 1, b));
    }
    if (!first)
        LT_IGNORE(dump_newline(pretty, ind, b));
    return lt_buf_appendc(b, '}');
}

static lt_status dump_array(json_t *j, bool pretty, unsigned ind, lt_buf *b)
{
    size_t n = json_array_size(j);

    LT_IGNORE(lt_buf_appendc(b, '['));
    for (size_t i = 0; i < n && lt_buf_status(b) == LT_OK; i++) {
        if (i > 0)
            LT_IGNORE(lt_buf_appendc(b, ','));
        LT_IGNORE(dump_newline(pretty, ind + 1, b));
        LT_IGNORE(dump_value(json_array_get(j, i), pretty, ind + 1, b));
    }
    if (n > 0)
        LT_IGNORE(dump_newline(pretty, ind, b));
    return lt_buf_appendc(b, ']');
}

static lt_status dump_value(const json_t *j, bool pretty, unsigned ind, lt_buf *b)
{
    char num[40];
    json_t *mj = (json_t *)j; /* jansson's iteration API is not const-qualified */

    switch (json_typeof(j)) {
    case JSON_OBJECT:
        return dump_object(mj, pretty, ind, b);
    case JSON_ARRAY:
        return dump_array(mj, pretty, ind, b);
    case JSON_STRING:
        return dump_string(json_string_value(j), json_string_length(j), b);
    case JSON_INTEGER:
        return lt_buf_appendf(b, "%" JSON_INTEGER_FORMAT, json_integer_value(j));
    case JSON_REAL:
        format_double(json_real_value(j), num, sizeof(num));
        return lt_buf_appends(b, num);
    case JSON_TRUE:
        return lt_buf_appends(b, "true");
    case JSON_FALSE:
        return lt_buf_appends(b, "false");
    default:
        return lt_buf_appends(b, "null");
    }
}

lt_status lt__pbjson_dump(const json_t *j, bool pretty, lt_buf *b)
{
    lt_status st = dump_value(j, pretty, 0, b);

    if (st == LT_ERR_TOO_BIG)
        return LT_FAIL(st, "encoded JSON exceeds the limit of %zu bytes", b->max);
    if (st != LT_OK)
        return LT_FAIL(st, "out of memory writing JSON");
    return LT_OK;
}
