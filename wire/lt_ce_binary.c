/*
 * lt_ce_binary.c - the binary content mode of the CloudEvents NATS binding:
 * attributes as "ce-*" headers with the binding's percent-encoding, the data
 * as the message body; encoding (also straight from a protobuf-c message) and
 * strict decoding, which hands structured-mode messages to lt_ce_json.c.
 */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "lt_alloc.h"
#include "ce_int.h"
#include "lt_limits.h"
#include "lt_pbjson.h"
#include "lt_rand.h"
#include "lt_subject.h"
#include "lt_time.h"

/* ---- binary mode: encoding ---- */

/* Bytes the binding's percent-encoding keeps: 0x21..0x7E except '"' and '%'. */
static bool keep_byte(unsigned char c)
{
    return c > 0x20 && c < 0x7f && c != '"' && c != '%';
}

/*
 * The binding's percent-encoding of v. Returns v itself when nothing needs
 * encoding (the usual case), else buf (cap >= 3 * LT_MAX_HEADER_VALUE + 1;
 * validated values are at most LT_MAX_HEADER_VALUE bytes).
 */
static const char *percent_encode(const char *v, char *buf, size_t cap)
{
    static const char hex[] = "0123456789ABCDEF";
    const unsigned char *p = (const unsigned char *)v;
    size_t o = 0;

    while (*p != '\0' && keep_byte(*p))
        p++;
    if (*p == '\0')
        return v;
    for (p = (const unsigned char *)v; *p != '\0' && o + 4 <= cap; p++) {
        if (keep_byte(*p)) {
            buf[o++] = (char)*p;
        } else {
            buf[o++] = '%';
            buf[o++] = hex[*p >> 4];
            buf[o++] = hex[*p & 0x0F];
        }
    }
    buf[o] = '\0';
    return buf;
}

static lt_status set_header(natsMsg *m, const char *key, const char *value)
{
    natsStatus ns = natsMsgHeader_Set(m, key, value);

    if (ns != NATS_OK)
        return LT_FAIL(ns == NATS_NO_MEMORY ? LT_ERR_NOMEM : LT_ERR_TRANSPORT,
                       "cloudevent: setting header %s: %s", key, natsStatus_GetText(ns));
    return LT_OK;
}

static lt_status put_attr(natsMsg *m, char *enc, const char *name, const char *value)
{
    char key[LT_CE_MAX_NAME + 4];

    if (value == NULL)
        return LT_OK;
    memcpy(key, "ce-", 3);
    memcpy(key + 3, name, strlen(name) + 1); /* names were validated: <= 20 bytes */
    return set_header(m, key, percent_encode(value, enc, LT__CE_RAW_VALUE_MAX + 1));
}

/* Every attribute of ev as a header of m (id and time given separately). */
static lt_status put_all(natsMsg *m, const lt_ce_event *ev, const char *id, const char *time)
{
    char *enc = lt_malloc(LT__CE_RAW_VALUE_MAX + 1);
    lt_status st;

    if (enc == NULL)
        return LT_ERR_NOMEM;
    st = put_attr(m, enc, "specversion", LT_CE_SPECVERSION);
    if (st == LT_OK)
        st = put_attr(m, enc, "id", id);
    if (st == LT_OK)
        st = put_attr(m, enc, "source", ev->source);
    if (st == LT_OK)
        st = put_attr(m, enc, "type", ev->type);
    if (st == LT_OK)
        st = put_attr(m, enc, "subject", ev->subject);
    if (st == LT_OK)
        st = put_attr(m, enc, "time", time);
    if (st == LT_OK)
        st = put_attr(m, enc, "dataschema", ev->dataschema);
    if (st == LT_OK)
        st = put_attr(m, enc, "datacontenttype", ev->datacontenttype);
    for (size_t i = 0; i < ev->ext_count && st == LT_OK; i++)
        st = put_attr(m, enc, ev->ext[i].name, ev->ext[i].value);
    if (st == LT_OK && ev->datacontenttype != NULL)
        st = set_header(m, "content-type", ev->datacontenttype);
    lt_free(enc);
    return st;
}

lt_status lt_ce_to_msg(natsMsg **new_msg, const char *subject, const lt_ce_event *ev)
{
    natsMsg *m = NULL;
    char tbuf[LT_TIME_TEXT_MAX];
    char id[LT_CE_ID_LEN + 1];
    const char *time;
    lt_status st;
    natsStatus ns;

    *new_msg = NULL;
    st = lt_subject_check(subject, false);
    if (st == LT_OK)
        st = lt_ce_validate(ev);
    if (st == LT_OK && ev->id == NULL)
        st = lt_rand_uuid(id);
    if (st != LT_OK)
        goto out;
    time = ev->time;
    if (time == NULL) {
        struct timespec now;

        clock_gettime(CLOCK_REALTIME, &now);
        if (lt_time_format((int64_t)now.tv_sec, (int32_t)now.tv_nsec, LT_TIME_FRAC_AUTO, tbuf) ==
            0) {
            st = LT_FAIL(LT_ERR_INVALID, "cloudevent: the clock is outside years 1..9999");
            goto out;
        }
        time = tbuf;
    }
    /* natsMsg_Destroy needs the library open; a no-op when it already is. */
    ns = nats_Open(-1);
    if (ns == NATS_OK)
        ns = natsMsg_Create(&m, subject, NULL, ev->data_len > 0 ? ev->data : "", (int)ev->data_len);
    if (ns != NATS_OK) {
        st = LT_FAIL(ns == NATS_NO_MEMORY ? LT_ERR_NOMEM : LT_ERR_TRANSPORT,
                     "cloudevent: natsMsg_Create: %s", natsStatus_GetText(ns));
        goto out;
    }
    st = put_all(m, ev, ev->id != NULL ? ev->id : id, time);
    if (st != LT_OK)
        goto out;
    *new_msg = m;
    m = NULL;
out:
    natsMsg_Destroy(m);
    return st;
}

lt_status lt_ce_to_msg_proto(natsMsg **new_msg, const char *subject, const lt_ce_event *attrs,
                             const ProtobufCMessage *m, bool json)
{
    lt_ce_event ev;
    char *buf = NULL;
    size_t len = 0;
    lt_status st = LT_OK;

    *new_msg = NULL;
    if (attrs == NULL || m == NULL)
        return LT_FAIL(LT_ERR_INVALID, "cloudevent: no attributes or no message");
    ev = *attrs;
    if (json) {
        st = lt_pbjson_encode(m, 0, &buf, &len);
        if (st != LT_OK)
            goto out;
        ev.datacontenttype = LT_CE_CT_JSON;
    } else {
        len = protobuf_c_message_get_packed_size(m);
        if (len > LT_MAX_MESSAGE) {
            st = LT_FAIL(LT_ERR_TOO_BIG,
                         "cloudevent: %s packs to %zu bytes, more than the limit of %u",
                         m->descriptor->name, len, LT_MAX_MESSAGE);
            goto out;
        }
        buf = lt_malloc(len);
        if (buf == NULL) {
            st = LT_ERR_NOMEM;
            goto out;
        }
        len = protobuf_c_message_pack(m, (uint8_t *)buf);
        ev.datacontenttype = LT_CE_CT_PROTOBUF;
    }
    ev.data = buf;
    ev.data_len = len;
    st = lt_ce_to_msg(new_msg, subject, &ev);
out:
    lt_free(buf);
    return st;
}

/* ---- binary mode: decoding ---- */

static int hexval(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/* Scratch space for decoding one header value. */
typedef struct {
    char unq[LT__CE_RAW_VALUE_MAX + 1]; /* after removing double quotes */
    char val[LT_MAX_HEADER_VALUE + 1];  /* after percent-decoding */
    size_t len;                         /* bytes in val */
} value_buf;

/*
 * A header value as the binding says to read it: printable ASCII, optional
 * whitespace around it, optionally one double-quoted string (backslash
 * escapes), then one round of percent-decoding. Result in vb->val/len.
 */
static lt_status decode_value(const char *rawkey, const char *raw, value_buf *vb)
{
    char key[72];
    size_t len = strlen(raw), i, o = 0;
    const char *src = raw;

    vb->len = 0;
    for (i = 0; i < len && i <= LT__CE_RAW_VALUE_MAX; i++) {
        unsigned char c = (unsigned char)raw[i];

        if ((c < 0x20 && c != '\t') || c > 0x7e)
            return LT_FAIL(LT_ERR_INVALID,
                           "cloudevent: header %s has a byte that is not "
                           "printable ASCII (0x%02x at %zu)",
                           lt__ce_printable(rawkey, key, sizeof(key)), (unsigned)c, i);
    }
    if (len > LT__CE_RAW_VALUE_MAX)
        return LT_FAIL(LT_ERR_TOO_BIG,
                       "cloudevent: header %s is %zu bytes, more than the limit of %u",
                       lt__ce_printable(rawkey, key, sizeof(key)), len,
                       (unsigned)LT__CE_RAW_VALUE_MAX);
    while (len > 0 && (src[len - 1] == ' ' || src[len - 1] == '\t'))
        len--;
    while (len > 0 && (*src == ' ' || *src == '\t')) {
        src++;
        len--;
    }
    if (len > 0 && src[0] == '"') {
        for (i = 1; i < len && src[i] != '"'; i++) {
            if (src[i] == '\\' && ++i >= len)
                break;
            vb->unq[o++] = src[i];
        }
        if (i + 1 != len)
            return LT_FAIL(LT_ERR_INVALID, "cloudevent: header %s has a malformed quoted string",
                           lt__ce_printable(rawkey, key, sizeof(key)));
        src = vb->unq;
        len = o;
    }
    for (i = 0, o = 0; i < len; i++, o++) {
        char c = src[i];

        if (o >= LT_MAX_HEADER_VALUE)
            return LT_FAIL(LT_ERR_TOO_BIG, "cloudevent: header %s decodes to more than %u bytes",
                           lt__ce_printable(rawkey, key, sizeof(key)), LT_MAX_HEADER_VALUE);
        if (c == '%') {
            int hi = i + 1 < len ? hexval(src[i + 1]) : -1;
            int lo = i + 2 < len ? hexval(src[i + 2]) : -1;

            if (hi < 0 || lo < 0)
                return LT_FAIL(LT_ERR_INVALID,
                               "cloudevent: header %s has a malformed percent-encoding at byte %zu",
                               lt__ce_printable(rawkey, key, sizeof(key)), i);
            c = (char)(hi << 4 | lo);
            i += 2;
        }
        vb->val[o] = c;
    }
    vb->val[o] = '\0';
    vb->len = o;
    return LT_OK;
}

/*
 * The single value of header keys[k], or an error when it has several.
 * nats.c 3.4 looks header keys up by hash plus a prefix compare, and its hash
 * ignores bytes 4..7 of each 8-byte block: "ce-e" can find the entry of
 * "ce-epoch". A longer key that starts with ours and yields the very same
 * value strings means the lookup went wrong; such a message is refused.
 */
static lt_status one_value(natsMsg *msg, const char **keys, int nkeys, int k, const char **out)
{
    const char **vals = NULL, **other = NULL;
    const char *key = keys[k];
    size_t klen = strlen(key);
    char pk[72], po[72];
    int n = 0, n2 = 0;
    natsStatus ns = natsMsgHeader_Values(msg, key, &vals, &n);
    lt_status st = LT_OK;

    *out = NULL;
    if (ns != NATS_OK) {
        st = LT_FAIL(LT_ERR_PARSE, "cloudevent: header %s unreadable: %s",
                     lt__ce_printable(key, pk, sizeof(pk)), natsStatus_GetText(ns));
        goto out;
    }
    if (n != 1) {
        st = LT_FAIL(LT_ERR_INVALID, "cloudevent: header %s appears %d times",
                     lt__ce_printable(key, pk, sizeof(pk)), n);
        goto out;
    }
    for (int i = 0; i < nkeys; i++) {
        if (i == k || strlen(keys[i]) <= klen || strncmp(keys[i], key, klen) != 0)
            continue;
        if (natsMsgHeader_Values(msg, keys[i], &other, &n2) == NATS_OK && n2 > 0 &&
            other[0] == vals[0]) {
            st = LT_FAIL(LT_ERR_UNSUPPORTED,
                         "cloudevent: headers %s and %s cannot both be "
                         "read (nats.c 3.4 confuses them)",
                         lt__ce_printable(key, pk, sizeof(pk)),
                         lt__ce_printable(keys[i], po, sizeof(po)));
            goto out;
        }
        free((void *)other); /* allocated by nats.c */
        other = NULL;
    }
    *out = vals[0];
out:
    free((void *)vals); /* allocated by nats.c */
    free((void *)other);
    return st;
}

/* Find the content-type header (any case); *out NULL when absent. */
static lt_status content_type(natsMsg *msg, const char **keys, int nkeys, const char **out)
{
    int found = -1;

    *out = NULL;
    for (int i = 0; i < nkeys; i++) {
        if (strcasecmp(keys[i], "content-type") != 0)
            continue;
        if (found >= 0)
            return LT_FAIL(LT_ERR_INVALID, "cloudevent: more than one content-type header");
        found = i;
    }
    if (found < 0)
        return LT_OK;
    return one_value(msg, keys, nkeys, found, out);
}

/* Structured mode? Decided by content-type, or a header-less JSON object body. */
static lt_status detect_structured(const char *ct, int nkeys, const char *data, int dlen,
                                   bool *structured)
{
    static const char prefix[] = "application/cloudevents";
    size_t plen = sizeof(prefix) - 1, n;

    *structured = false;
    if (ct == NULL) {
        int i = 0;

        while (i < dlen &&
               (data[i] == ' ' || data[i] == '\t' || data[i] == '\r' || data[i] == '\n'))
            i++;
        *structured = nkeys == 0 && i < dlen && data[i] == '{';
        return LT_OK;
    }
    while (*ct == ' ' || *ct == '\t')
        ct++;
    if (strncasecmp(ct, prefix, plen) != 0)
        return LT_OK;
    n = strcspn(ct, "; \t");
    if (n == plen + 5 && strncasecmp(ct + plen, "+json", 5) == 0) {
        *structured = true;
        return LT_OK;
    }
    return LT_FAIL(LT_ERR_UNSUPPORTED,
                   "cloudevent: unsupported event format \"%.*s\" (want " LT_CE_CT_STRUCTURED ")",
                   lt__ce_clip(ct, 128), ct);
}

/* Collect every ce-* header into b; the content-type header into ct. */
static lt_status binary_attrs(lt__ce_builder *b, natsMsg *msg, const char **keys, int nkeys)
{
    value_buf vb; /* about 4 KiB of stack: no allocation per header */
    lt_status st = LT_OK;

    for (int i = 0; i < nkeys && st == LT_OK; i++) {
        const char *raw = NULL;

        if (strncasecmp(keys[i], "ce-", 3) != 0)
            continue;
        st = one_value(msg, keys, nkeys, i, &raw);
        if (st == LT_OK)
            st = decode_value(keys[i], raw, &vb);
        if (st == LT_OK)
            st = lt__ce_builder_attr(b, keys[i] + 3, strlen(keys[i] + 3), vb.val, vb.len);
    }
    return st;
}

/* content-type and ce-datacontenttype must agree; the header fills a missing attribute. */
static lt_status merge_content_type(lt__ce_builder *b, const char *ct)
{
    const char *attr = lt__ce_builder_get(b, LT__CE_DATACONTENTTYPE);
    size_t len;

    if (ct == NULL)
        return LT_OK;
    while (*ct == ' ' || *ct == '\t')
        ct++;
    len = strlen(ct);
    while (len > 0 && (ct[len - 1] == ' ' || ct[len - 1] == '\t'))
        len--;
    for (size_t i = 0; i < len; i++) {
        if ((unsigned char)ct[i] < 0x20 || (unsigned char)ct[i] > 0x7e)
            return LT_FAIL(LT_ERR_INVALID, "cloudevent: content-type header is not printable "
                                           "ASCII");
    }
    if (attr == NULL)
        return lt__ce_builder_attr(b, "datacontenttype", 15, ct, len);
    if (strlen(attr) != len || strncmp(attr, ct, len) != 0)
        return LT_FAIL(LT_ERR_INVALID,
                       "cloudevent: content-type \"%.*s\" differs from ce-datacontenttype \"%.*s\"",
                       len > 128 ? 128 : (int)len, ct, lt__ce_clip(attr, 128), attr);
    return LT_OK;
}

lt_status lt_ce_from_msg(lt_ce *ce, natsMsg *msg)
{
    const char **keys = NULL;
    const char *ct = NULL, *data;
    int nkeys = 0, dlen;
    bool structured = false;
    lt__ce_builder b;
    lt_status st = LT_OK;
    natsStatus ns;

    lt_ce_cleanup(ce);
    lt__ce_builder_init(&b, true);
    b.fold = true;
    if (msg == NULL)
        return LT_FAIL(LT_ERR_INVALID, "cloudevent: no message");
    data = natsMsg_GetData(msg);
    dlen = natsMsg_GetDataLength(msg);
    if (dlen < 0 || (unsigned)dlen > LT_MAX_MESSAGE)
        return LT_FAIL(LT_ERR_TOO_BIG, "cloudevent: message is %d bytes, more than the limit of %u",
                       dlen, LT_MAX_MESSAGE);
    ns = natsMsgHeader_Keys(msg, &keys, &nkeys);
    if (ns == NATS_NOT_FOUND) {
        nkeys = 0;
    } else if (ns != NATS_OK) {
        st = LT_FAIL(LT_ERR_PARSE, "cloudevent: unreadable NATS headers: %s",
                     natsStatus_GetText(ns));
        goto out;
    }
    if (nkeys > (int)LT_CE_MAX_HEADERS) {
        st = LT_FAIL(LT_ERR_TOO_BIG, "cloudevent: %d headers, more than the limit of %u", nkeys,
                     LT_CE_MAX_HEADERS);
        goto out;
    }
    st = content_type(msg, keys, nkeys, &ct);
    if (st == LT_OK)
        st = detect_structured(ct, nkeys, data, dlen, &structured);
    if (st != LT_OK)
        goto out;
    if (structured) {
        st = lt_ce_from_json(ce, data, (size_t)dlen);
        goto out;
    }
    st = lt__ce_builder_reserve(&b, (size_t)dlen + 512); /* typically the only allocation */
    if (st == LT_OK)
        st = binary_attrs(&b, msg, keys, nkeys);
    if (st == LT_OK)
        st = merge_content_type(&b, ct);
    if (st == LT_OK && (dlen > 0 || ct != NULL))
        st = lt__ce_builder_data(&b, data, (size_t)dlen);
    if (st == LT_OK)
        st = lt__ce_builder_finish(&b, ce, false);
out:
    lt__ce_builder_cleanup(&b);
    free((void *)keys); /* allocated by nats.c */
    return st;
}
