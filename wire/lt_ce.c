/*
 * lt_ce.c - CloudEvents 1.0: attribute validation (the builder shared by the
 * binary-mode codec in lt_ce_binary.c and the structured one in
 * lt_ce_json.c), media types, and unpacking the
 * data into protobuf-c messages.
 */
#include "ce_int.h"

#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/random.h>

#include "lt_alloc.h"
#include "lt_limits.h"
#include "lt_pbjson.h"
#include "lt_time.h"

#define ARENA_MAX \
    (LT_MAX_MESSAGE + (LT__CE_ATTR_COUNT + 2u * LT_CE_MAX_EXTENSIONS) * (LT_MAX_HEADER_VALUE + 1u))

static const char *const attr_names[LT__CE_ATTR_COUNT] = {
    [LT__CE_SPECVERSION] = "specversion",
    [LT__CE_ID] = "id",
    [LT__CE_SOURCE] = "source",
    [LT__CE_TYPE] = "type",
    [LT__CE_SUBJECT] = "subject",
    [LT__CE_TIME] = "time",
    [LT__CE_DATACONTENTTYPE] = "datacontenttype",
    [LT__CE_DATASCHEMA] = "dataschema",
};

const char *lt__ce_attr_name(lt__ce_attr a)
{
    return (unsigned)a < LT__CE_ATTR_COUNT ? attr_names[a] : "?";
}

/* ---- strings ---- */

int lt__ce_clip(const char *s, size_t max)
{
    size_t n = strlen(s);

    if (n <= max)
        return (int)n;
    n = max;
    while (n > 0 && ((unsigned char)s[n] & 0xC0) == 0x80)
        n--;
    return (int)n;
}

const char *lt__ce_printable(const char *s, char *buf, size_t cap)
{
    size_t i = 0;

    for (; s != NULL && s[i] != '\0' && i + 1 < cap; i++)
        buf[i] = (unsigned char)s[i] >= 0x20 && (unsigned char)s[i] < 0x7f ? s[i] : '?';
    if (cap > 0)
        buf[i] = '\0';
    return buf;
}

/* Decode one UTF-8 sequence; 0 when invalid (overlong, surrogate, > U+10FFFF). */
static size_t utf8_next(const unsigned char *p, size_t len, uint32_t *cp)
{
    unsigned char c = p[0];
    unsigned char lo = 0x80, hi = 0xBF;
    size_t n;

    if (c < 0x80) {
        *cp = c;
        return 1;
    }
    if (c >= 0xC2 && c <= 0xDF) {
        n = 2;
        *cp = c & 0x1F;
    } else if (c >= 0xE0 && c <= 0xEF) {
        n = 3;
        *cp = c & 0x0F;
        lo = c == 0xE0 ? 0xA0 : 0x80;
        hi = c == 0xED ? 0x9F : 0xBF;
    } else if (c >= 0xF0 && c <= 0xF4) {
        n = 4;
        *cp = c & 0x07;
        lo = c == 0xF0 ? 0x90 : 0x80;
        hi = c == 0xF4 ? 0x8F : 0xBF;
    } else {
        return 0;
    }
    if (len < n || p[1] < lo || p[1] > hi)
        return 0;
    for (size_t i = 1; i < n; i++) {
        if ((p[i] & 0xC0) != 0x80)
            return 0;
        *cp = (*cp << 6) | (p[i] & 0x3F);
    }
    return n;
}

static bool forbidden_cp(uint32_t cp)
{
    return cp <= 0x1F || (cp >= 0x7F && cp <= 0x9F) || (cp >= 0xFDD0 && cp <= 0xFDEF) ||
           (cp & 0xFFFE) == 0xFFFE;
}

/**
 * Check a string attribute value: valid UTF-8 (no overlongs, surrogates or
 * code points above U+10FFFF), none of the characters CloudEvents forbids
 * (U+0000-001F, U+007F-009F, noncharacters). what names it in errors.
 */
static lt_status check_string(const char *what, const char *v, size_t len)
{
    const unsigned char *p = (const unsigned char *)v;

    for (size_t i = 0; i < len;) {
        uint32_t cp = 0;
        size_t n;

        if (p[i] >= 0x20 && p[i] < 0x7f) { /* printable ASCII: the common case */
            i++;
            continue;
        }
        n = utf8_next(p + i, len - i, &cp);

        if (n == 0)
            return LT_FAIL(LT_ERR_INVALID,
                           "cloudevent: attribute \"%s\" is not valid UTF-8 (byte %zu)", what, i);
        if (forbidden_cp(cp))
            return LT_FAIL(LT_ERR_INVALID,
                           "cloudevent: attribute \"%s\" contains the "
                           "forbidden character U+%04X (byte %zu)",
                           what, (unsigned)cp, i);
        i += n;
    }
    return LT_OK;
}

/* RFC 3986 characters (unreserved, reserved) plus '%' HEX HEX. */
static bool uri_chars_ok(const char *s)
{
    for (; *s != '\0'; s++) {
        unsigned char c = (unsigned char)*s;

        if (c == '%') {
            if (!isxdigit((unsigned char)s[1]) || !isxdigit((unsigned char)s[2]))
                return false;
            s += 2;
            continue;
        }
        /* printable ASCII except space " < > \ ^ ` { | } */
        if (c <= 0x20 || c >= 0x7f || strchr("\"<>\\^`{|}", c) != NULL)
            return false;
    }
    return true;
}

/* An absolute URI starts with scheme ":" (scheme = ALPHA *(ALPHA / DIGIT / "+" / "-" / ".")). */
static bool absolute_uri_ok(const char *s)
{
    size_t i = 0;

    if (!isalpha((unsigned char)s[0]))
        return false;
    while (isalnum((unsigned char)s[i]) || s[i] == '+' || s[i] == '-' || s[i] == '.')
        i++;
    return s[i] == ':' && uri_chars_ok(s);
}

/* ---- media types ---- */

static bool is_tchar(unsigned char c)
{
    return c != 0 && c < 0x80 && (isalnum(c) || strchr("!#$%&'*+-.^_`|~", c) != NULL);
}

lt_status lt_ce_classify(const char *media_type, lt_ce_datatype *out)
{
    const char *p = media_type, *type, *sub;
    size_t tlen, slen;

    *out = LT_CE_DATA_NONE;
    if (p == NULL)
        return LT_FAIL(LT_ERR_INVALID, "cloudevent: no media type");
    while (*p == ' ' || *p == '\t')
        p++;
    type = p;
    while (is_tchar((unsigned char)*p))
        p++;
    tlen = (size_t)(p - type);
    if (tlen == 0 || *p != '/')
        goto bad;
    sub = ++p;
    while (is_tchar((unsigned char)*p))
        p++;
    slen = (size_t)(p - sub);
    if (slen == 0)
        goto bad;
    while (*p == ' ' || *p == '\t')
        p++;
    if (*p != '\0' && *p != ';')
        goto bad;
    for (const char *q = p; *q != '\0'; q++) { /* parameters: printable ASCII */
        if ((unsigned char)*q < 0x20 || (unsigned char)*q > 0x7e)
            goto bad;
    }
    if (tlen == 11 && strncasecmp(type, "application", 11) == 0 &&
        ((slen == 8 && strncasecmp(sub, "protobuf", 8) == 0) ||
         (slen == 10 && strncasecmp(sub, "x-protobuf", 10) == 0))) {
        *out = LT_CE_DATA_PROTOBUF;
        return LT_OK;
    }
    if ((slen == 4 && strncasecmp(sub, "json", 4) == 0) ||
        (slen > 5 && strncasecmp(sub + slen - 5, "+json", 5) == 0)) {
        *out = LT_CE_DATA_JSON;
        return LT_OK;
    }
    return LT_FAIL(LT_ERR_UNSUPPORTED,
                   "cloudevent: unsupported content type \"%.*s\" (want "
                   "application/protobuf or application/json)",
                   lt__ce_clip(media_type, 128), media_type);
bad:
    return LT_FAIL(LT_ERR_INVALID, "cloudevent: content type \"%.*s\" is not a media type",
                   lt__ce_clip(media_type, 128), media_type);
}

/* ---- the builder ---- */

void lt__ce_builder_init(lt__ce_builder *b, bool hdr)
{
    memset(b, 0, sizeof(*b));
    b->hdr = hdr;
}

void lt__ce_builder_cleanup(lt__ce_builder *b)
{
    lt_free(b->mem);
    b->mem = NULL;
    b->len = b->cap = 0;
    memset(b->set, 0, sizeof(b->set));
    b->n_ext = 0;
    b->has_data = false;
}

const char *lt__ce_builder_get(const lt__ce_builder *b, lt__ce_attr a)
{
    return b->set[a] ? b->mem + b->off[a] : NULL;
}

/* "ce-<name>" in binary mode, "<name>" in structured mode. */
static void label(const lt__ce_builder *b, const char *name, char out[LT_CE_MAX_NAME + 4])
{
    size_t n = strlen(name);

    if (n > LT_CE_MAX_NAME)
        n = LT_CE_MAX_NAME;
    if (b->hdr) {
        memcpy(out, "ce-", 3);
        memcpy(out + 3, name, n);
        out[n + 3] = '\0';
    } else {
        memcpy(out, name, n);
        out[n] = '\0';
    }
}

/* Up to 40 bytes of a name (not NUL-terminated) for a message, '?' for odd bytes. */
static const char *name_for_error(const char *name, size_t n, char out[48])
{
    size_t i;

    for (i = 0; i < n && i < 40; i++)
        out[i] = name[i] > 0x20 && name[i] < 0x7f && name[i] != '"' ? name[i] : '?';
    out[i] = '\0';
    return out;
}

lt_status lt__ce_check_name(const lt__ce_builder *b, const char *name, size_t n,
                            char out[LT_CE_MAX_NAME + 1])
{
    char pn[48];

    if (n == 0)
        return LT_FAIL(LT_ERR_INVALID, "cloudevent: empty attribute name");
    if (n > LT_CE_MAX_NAME)
        return LT_FAIL(LT_ERR_INVALID,
                       "cloudevent: attribute name \"%s%s\" is longer than %u characters",
                       b->hdr ? "ce-" : "", name_for_error(name, n, pn), LT_CE_MAX_NAME);
    for (size_t i = 0; i < n; i++) {
        char c = name[i];

        if (b->fold && c >= 'A' && c <= 'Z')
            c = (char)(c - 'A' + 'a');
        if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9')))
            return LT_FAIL(LT_ERR_INVALID,
                           "cloudevent: invalid attribute name \"%s%s\" (only a-z and 0-9 allowed)",
                           b->hdr ? "ce-" : "", name_for_error(name, n, pn));
        out[i] = c;
    }
    out[n] = '\0';
    return LT_OK;
}

lt_status lt__ce_builder_reserve(lt__ce_builder *b, size_t n)
{
    size_t want, cap;
    char *m;

    if (n > ARENA_MAX || b->len > ARENA_MAX - n)
        return LT_FAIL(LT_ERR_TOO_BIG, "cloudevent: event larger than %u bytes",
                       (unsigned)ARENA_MAX);
    want = b->len + n;
    if (want <= b->cap)
        return LT_OK;
    cap = b->cap > 0 ? b->cap : 256;
    while (cap < want)
        cap *= 2;
    m = lt_realloc(b->mem, cap);
    if (m == NULL)
        return LT_ERR_NOMEM;
    b->mem = m;
    b->cap = cap;
    return LT_OK;
}

/* Copy len bytes and a NUL into the arena; *off gets where they start. */
static lt_status arena_put(lt__ce_builder *b, const void *p, size_t len, size_t *off)
{
    lt_status st = lt__ce_builder_reserve(b, len + 1);

    if (st != LT_OK)
        return st;
    *off = b->len;
    if (len > 0)
        memcpy(b->mem + b->len, p, len);
    b->mem[b->len + len] = '\0';
    b->len += len + 1;
    return LT_OK;
}

/* True when one of a, b is a proper prefix of the other. */
static bool prefix_pair(const char *a, const char *b)
{
    size_t la = strlen(a), lb = strlen(b);

    return la != lb && strncmp(a, b, la < lb ? la : lb) == 0;
}

/*
 * An extension name may not be a proper prefix of another attribute name,
 * nor have one as its prefix ("trace" / "traceparent", "time" / "timestamp"):
 * nats.c 3.4 header lookups can return the longer key's value for the shorter
 * one. Refused both ways so that every event we accept can be sent and read.
 */
static lt_status check_prefixes(const lt__ce_builder *b, const char *nm)
{
    const char *clash = NULL;

    for (int a = 0; a < LT__CE_ATTR_COUNT && clash == NULL; a++) {
        if (prefix_pair(nm, attr_names[a]))
            clash = attr_names[a];
    }
    for (size_t i = 0; i < b->n_ext && clash == NULL; i++) {
        if (prefix_pair(nm, b->mem + b->ext_name[i]))
            clash = b->mem + b->ext_name[i];
    }
    if (clash == NULL)
        return LT_OK;
    return LT_FAIL(LT_ERR_INVALID,
                   "cloudevent: attribute names \"%s%s\" and \"%s%s\" clash: "
                   "one is a prefix of the other, which NATS header lookups (nats.c 3.4) confuse",
                   b->hdr ? "ce-" : "", nm, b->hdr ? "ce-" : "", clash);
}

lt_status lt__ce_builder_attr(lt__ce_builder *b, const char *name, size_t name_len,
                              const char *value, size_t len)
{
    char nm[LT_CE_MAX_NAME + 1], lb[LT_CE_MAX_NAME + 4];
    lt_status st = lt__ce_check_name(b, name, name_len, nm);

    if (st != LT_OK)
        return st;
    label(b, nm, lb);
    if (strcmp(nm, "data") == 0)
        return LT_FAIL(LT_ERR_INVALID, "cloudevent: \"%s\" is reserved, not an attribute", lb);
    if (len > LT_MAX_HEADER_VALUE)
        return LT_FAIL(LT_ERR_TOO_BIG,
                       "cloudevent: attribute \"%s\" is %zu bytes, more than the limit of %u", lb,
                       len, LT_MAX_HEADER_VALUE);
    /* Empty values are refused: the spec forbids them for every core attribute
     * but the extensions, and an empty extension carries nothing. */
    if (len == 0)
        return LT_FAIL(LT_ERR_INVALID, "cloudevent: %sattribute \"%s\" is empty",
                       strcmp(nm, "specversion") == 0 || strcmp(nm, "id") == 0 ||
                               strcmp(nm, "source") == 0 || strcmp(nm, "type") == 0
                           ? "required "
                           : "",
                       lb);
    st = check_string(lb, value, len);
    if (st != LT_OK)
        return st;
    for (int a = 0; a < LT__CE_ATTR_COUNT; a++) {
        if (strcmp(nm, attr_names[a]) != 0)
            continue;
        if (b->set[a])
            return LT_FAIL(LT_ERR_INVALID, "cloudevent: duplicate attribute \"%s\"", lb);
        st = arena_put(b, value, len, &b->off[a]);
        b->set[a] = st == LT_OK;
        return st;
    }
    for (size_t i = 0; i < b->n_ext; i++) {
        if (strcmp(b->mem + b->ext_name[i], nm) == 0)
            return LT_FAIL(LT_ERR_INVALID, "cloudevent: duplicate attribute \"%s\"", lb);
    }
    st = check_prefixes(b, nm);
    if (st != LT_OK)
        return st;
    if (b->n_ext >= LT_CE_MAX_EXTENSIONS)
        return LT_FAIL(LT_ERR_TOO_BIG, "cloudevent: more than %u extension attributes",
                       LT_CE_MAX_EXTENSIONS);
    st = arena_put(b, nm, strlen(nm), &b->ext_name[b->n_ext]);
    if (st == LT_OK)
        st = arena_put(b, value, len, &b->ext_value[b->n_ext]);
    if (st == LT_OK)
        b->n_ext++;
    return st;
}

lt_status lt__ce_builder_data(lt__ce_builder *b, const void *data, size_t len)
{
    lt_status st;

    if (b->has_data)
        return LT_FAIL(LT_ERR_INVALID, "cloudevent: data given twice");
    if (len > LT_MAX_MESSAGE)
        return LT_FAIL(LT_ERR_TOO_BIG, "cloudevent: data is %zu bytes, more than the limit of %u",
                       len, LT_MAX_MESSAGE);
    st = arena_put(b, len > 0 ? data : "", len, &b->data_off);
    if (st != LT_OK)
        return st;
    b->data_len = len;
    b->has_data = true;
    return LT_OK;
}

static lt_status check_required(const lt__ce_builder *b)
{
    static const lt__ce_attr req[] = { LT__CE_SPECVERSION, LT__CE_ID, LT__CE_SOURCE, LT__CE_TYPE };
    char lb[LT_CE_MAX_NAME + 4];

    for (size_t i = 0; i < sizeof(req) / sizeof(req[0]); i++) {
        label(b, attr_names[req[i]], lb);
        if (!b->set[req[i]])
            return LT_FAIL(LT_ERR_INVALID, "cloudevent: missing required attribute \"%s\"", lb);
        if (lt__ce_builder_get(b, req[i])[0] == '\0')
            return LT_FAIL(LT_ERR_INVALID, "cloudevent: required attribute \"%s\" is empty", lb);
    }
    return LT_OK;
}

/* Everything but presence: specversion, URIs, time, content type. */
static lt_status check_values(const lt__ce_builder *b, lt_ce_datatype *dt, int64_t *sec,
                              int32_t *nsec)
{
    const char *v;
    char lb[LT_CE_MAX_NAME + 4];

    v = lt__ce_builder_get(b, LT__CE_SPECVERSION);
    if (strcmp(v, LT_CE_SPECVERSION) != 0)
        return LT_FAIL(LT_ERR_INVALID,
                       "cloudevent: unsupported specversion \"%.*s\" (want "
                       "\"" LT_CE_SPECVERSION "\")",
                       lt__ce_clip(v, 64), v);
    for (int a = LT__CE_SUBJECT; a < LT__CE_ATTR_COUNT; a++) {
        label(b, attr_names[a], lb);
        if (b->set[a] && lt__ce_builder_get(b, a)[0] == '\0')
            return LT_FAIL(LT_ERR_INVALID, "cloudevent: attribute \"%s\" is empty", lb);
    }
    label(b, "source", lb);
    v = lt__ce_builder_get(b, LT__CE_SOURCE);
    if (!uri_chars_ok(v))
        return LT_FAIL(LT_ERR_INVALID,
                       "cloudevent: attribute \"%s\" is not a URI-reference: \"%.*s\"", lb,
                       lt__ce_clip(v, 128), v);
    label(b, "dataschema", lb);
    v = lt__ce_builder_get(b, LT__CE_DATASCHEMA);
    if (v != NULL && !absolute_uri_ok(v))
        return LT_FAIL(LT_ERR_INVALID,
                       "cloudevent: attribute \"%s\" is not an absolute URI: \"%.*s\"", lb,
                       lt__ce_clip(v, 128), v);
    label(b, "time", lb);
    v = lt__ce_builder_get(b, LT__CE_TIME);
    if (v != NULL && lt_time_parse(v, LT_TIME_LEAP_SECOND | LT_TIME_YEAR_ZERO, sec, nsec) != LT_OK)
        return LT_FAIL(LT_ERR_INVALID,
                       "cloudevent: attribute \"%s\" is not an RFC 3339 timestamp: \"%.*s\"", lb,
                       lt__ce_clip(v, 64), v);
    v = lt__ce_builder_get(b, LT__CE_DATACONTENTTYPE);
    *dt = LT_CE_DATA_NONE;
    if (v != NULL)
        return lt_ce_classify(v, dt);
    if (b->has_data && b->data_len > 0)
        return LT_FAIL(LT_ERR_INVALID, "cloudevent: data without a content type (%s)",
                       b->hdr ? "no \"content-type\" header" : "no \"datacontenttype\"");
    return LT_OK;
}

lt_status lt__ce_builder_finish(lt__ce_builder *b, lt_ce *ce, bool structured)
{
    lt_ce_datatype dt = LT_CE_DATA_NONE;
    int64_t sec = 0;
    int32_t nsec = 0;
    char *mem;
    lt_status st = check_required(b);

    if (st == LT_OK)
        st = check_values(b, &dt, &sec, &nsec);
    if (st != LT_OK)
        goto out;
    mem = b->mem; /* the arena moves into ce */
    b->mem = NULL;
    lt_ce_cleanup(ce);
    ce->mem = mem;
    ce->ev.specversion = mem + b->off[LT__CE_SPECVERSION];
    ce->ev.id = mem + b->off[LT__CE_ID];
    ce->ev.source = mem + b->off[LT__CE_SOURCE];
    ce->ev.type = mem + b->off[LT__CE_TYPE];
    ce->ev.subject = b->set[LT__CE_SUBJECT] ? mem + b->off[LT__CE_SUBJECT] : NULL;
    ce->ev.time = b->set[LT__CE_TIME] ? mem + b->off[LT__CE_TIME] : NULL;
    ce->ev.datacontenttype =
        b->set[LT__CE_DATACONTENTTYPE] ? mem + b->off[LT__CE_DATACONTENTTYPE] : NULL;
    ce->ev.dataschema = b->set[LT__CE_DATASCHEMA] ? mem + b->off[LT__CE_DATASCHEMA] : NULL;
    ce->ev.data = b->has_data ? mem + b->data_off : NULL;
    ce->ev.data_len = b->has_data ? b->data_len : 0;
    for (size_t i = 0; i < b->n_ext; i++)
        ce->ext[i] = (lt_ce_ext){ mem + b->ext_name[i], mem + b->ext_value[i] };
    ce->ev.ext = b->n_ext > 0 ? ce->ext : NULL;
    ce->ev.ext_count = b->n_ext;
    ce->datatype = dt;
    ce->structured = structured;
    ce->has_data = b->has_data;
    ce->has_time = b->set[LT__CE_TIME];
    ce->time_sec = sec;
    ce->time_nsec = nsec;
out:
    lt__ce_builder_cleanup(b);
    return st;
}

/* ---- public lifecycle and validation ---- */

void lt_ce_init(lt_ce *ce)
{
    memset(ce, 0, sizeof(*ce));
}

void lt_ce_cleanup(lt_ce *ce)
{
    if (ce == NULL)
        return;
    lt_free(ce->mem);
    lt_ce_init(ce);
}

/* Feed ev into a builder (data included unless skip_data). */
static lt_status feed(lt__ce_builder *b, const lt_ce_event *ev, const char *id, bool with_data)
{
    const char *vals[LT__CE_ATTR_COUNT] = {
        [LT__CE_SPECVERSION] = ev->specversion != NULL ? ev->specversion : LT_CE_SPECVERSION,
        [LT__CE_ID] = id,
        [LT__CE_SOURCE] = ev->source,
        [LT__CE_TYPE] = ev->type,
        [LT__CE_SUBJECT] = ev->subject,
        [LT__CE_TIME] = ev->time,
        [LT__CE_DATACONTENTTYPE] = ev->datacontenttype,
        [LT__CE_DATASCHEMA] = ev->dataschema,
    };
    lt_status st = LT_OK;

    for (int a = 0; a < LT__CE_ATTR_COUNT && st == LT_OK; a++) {
        if (vals[a] != NULL)
            st = lt__ce_builder_attr(b, attr_names[a], strlen(attr_names[a]), vals[a],
                                     strlen(vals[a]));
    }
    if (st == LT_OK && ev->ext_count > LT_CE_MAX_EXTENSIONS)
        return LT_FAIL(LT_ERR_TOO_BIG, "cloudevent: more than %u extension attributes",
                       LT_CE_MAX_EXTENSIONS);
    for (size_t i = 0; i < ev->ext_count && st == LT_OK; i++) {
        const lt_ce_ext *x = &ev->ext[i];

        if (x->name == NULL || x->value == NULL)
            return LT_FAIL(LT_ERR_INVALID, "cloudevent: extension %zu has no name or value", i);
        for (int a = 0; a < LT__CE_ATTR_COUNT; a++) {
            if (strcmp(x->name, attr_names[a]) == 0)
                return LT_FAIL(LT_ERR_INVALID,
                               "cloudevent: extension \"%s\" shadows a core attribute",
                               attr_names[a]);
        }
        st = lt__ce_builder_attr(b, x->name, strlen(x->name), x->value, strlen(x->value));
    }
    if (st == LT_OK && ev->data_len > 0 && ev->data == NULL)
        return LT_FAIL(LT_ERR_INVALID, "cloudevent: data_len %zu with no data", ev->data_len);
    if (st == LT_OK && ev->data_len > LT_MAX_MESSAGE)
        return LT_FAIL(LT_ERR_TOO_BIG, "cloudevent: data is %zu bytes, more than the limit of %u",
                       ev->data_len, LT_MAX_MESSAGE);
    if (st == LT_OK && with_data)
        st = lt__ce_builder_data(b, ev->data, ev->data_len);
    return st;
}

lt_status lt_ce_validate(const lt_ce_event *ev)
{
    lt__ce_builder b;
    lt_ce_datatype dt;
    int64_t sec;
    int32_t nsec;
    lt_status st;

    if (ev == NULL)
        return LT_FAIL(LT_ERR_INVALID, "cloudevent: no event");
    lt__ce_builder_init(&b, true);
    /* id and time may be left to lt_ce_to_msg: validate with stand-ins. */
    st = feed(&b, ev, ev->id != NULL ? ev->id : "x", false);
    if (st == LT_OK) {
        b.has_data = ev->data_len > 0;
        b.data_len = ev->data_len;
        st = check_required(&b);
    }
    if (st == LT_OK)
        st = check_values(&b, &dt, &sec, &nsec);
    lt__ce_builder_cleanup(&b);
    return st;
}

/* ---- data ---- */

lt_status lt_ce_unpack(const lt_ce *ce, const ProtobufCMessageDescriptor *desc,
                       ProtobufCMessage **out)
{
    *out = NULL;
    if (ce == NULL || desc == NULL)
        return LT_FAIL(LT_ERR_INVALID, "cloudevent: nothing to unpack");
    switch (ce->datatype) {
    case LT_CE_DATA_PROTOBUF:
        *out = protobuf_c_message_unpack(desc, NULL, ce->ev.data_len,
                                         ce->ev.data_len > 0 ? ce->ev.data : (const void *)"");
        if (*out == NULL)
            return LT_FAIL(LT_ERR_INVALID, "cloudevent %s: data is not a valid %s message",
                           ce->ev.type != NULL ? ce->ev.type : "?", desc->name);
        return LT_OK;
    case LT_CE_DATA_JSON:
        return lt_pbjson_decode(desc, ce->ev.data_len > 0 ? ce->ev.data : "", ce->ev.data_len, 0,
                                out);
    case LT_CE_DATA_NONE:
        break;
    }
    return LT_FAIL(LT_ERR_INVALID, "cloudevent %s: no data to unpack",
                   ce->ev.type != NULL ? ce->ev.type : "?");
}
