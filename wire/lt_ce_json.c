/*
 * lt_ce_json.c - the CloudEvents JSON event format (structured content mode):
 * a strict decoder into lt_ce (through the validating builder of lt_ce.c) and
 * an encoder from lt_ce_event, with "data" for JSON payloads and
 * "data_base64" for everything else.
 */
#include <inttypes.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lt_alloc.h"
#include "ce_int.h"
#include "lt_limits.h"
#include "pbjson_int.h"

/* ---- base64 (RFC 4648, standard alphabet, padded) ---- */

static const char b64chars[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

static int b64val(unsigned char c)
{
    const char *p = c != 0 ? strchr(b64chars, c) : NULL;

    return p != NULL ? (int)(p - b64chars) : -1;
}

/* Strict: length a multiple of 4, padding only at the end, zero pad bits. */
static lt_status b64_decode(const char *s, size_t len, lt_buf *out)
{
    if (len % 4 != 0)
        goto bad;
    for (size_t i = 0; i < len; i += 4) {
        int v[4];
        size_t pad = 0;
        unsigned char o[3];

        for (int k = 0; k < 4; k++) {
            v[k] = b64val((unsigned char)s[i + k]);
            if (s[i + k] == '=' && i + 4 == len && k >= 2) {
                v[k] = 0;
                pad++;
            } else if (v[k] < 0 || pad > 0) {
                goto bad;
            }
        }
        o[0] = (unsigned char)(v[0] << 2 | v[1] >> 4);
        o[1] = (unsigned char)((v[1] & 0x0F) << 4 | v[2] >> 2);
        o[2] = (unsigned char)((v[2] & 0x03) << 6 | v[3]);
        if ((pad == 2 && (v[1] & 0x0F) != 0) || (pad == 1 && (v[2] & 0x03) != 0))
            goto bad;
        if (lt_buf_append(out, o, 3 - pad) != LT_OK)
            return LT_FAIL(LT_ERR_TOO_BIG, "cloudevent: data_base64 decodes to more than %u bytes",
                           LT_MAX_MESSAGE);
    }
    return LT_OK;
bad:
    return LT_FAIL(LT_ERR_INVALID, "cloudevent: \"data_base64\" is not valid base64");
}

static char *b64_encode(const unsigned char *p, size_t len)
{
    size_t olen = (len + 2) / 3 * 4, o = 0;
    char *out = lt_malloc(olen + 1);

    if (out == NULL)
        return NULL;
    for (size_t i = 0; i < len; i += 3) {
        uint32_t v = (uint32_t)p[i] << 16;

        if (i + 1 < len)
            v |= (uint32_t)p[i + 1] << 8;
        if (i + 2 < len)
            v |= p[i + 2];
        out[o++] = b64chars[v >> 18 & 0x3F];
        out[o++] = b64chars[v >> 12 & 0x3F];
        out[o++] = i + 1 < len ? b64chars[v >> 6 & 0x3F] : '=';
        out[o++] = i + 2 < len ? b64chars[v & 0x3F] : '=';
    }
    out[o] = '\0';
    return out;
}

/* ---- decoding ---- */

static bool is_core(const char *name)
{
    for (int a = 0; a < LT__CE_ATTR_COUNT; a++) {
        if (strcmp(name, lt__ce_attr_name(a)) == 0)
            return true;
    }
    return false;
}

/* One member that is an attribute: strings as they are, integer/boolean extensions as text. */
static lt_status json_attr(lt__ce_builder *b, const char *key, size_t klen, json_t *v)
{
    char nm[LT_CE_MAX_NAME + 1], num[32];
    const char *text;
    lt_status st = lt__ce_check_name(b, key, klen, nm);

    if (st != LT_OK)
        return st;
    if (json_is_string(v))
        return lt__ce_builder_attr(b, nm, klen, json_string_value(v), json_string_length(v));
    if (is_core(nm))
        return LT_FAIL(LT_ERR_INVALID, "cloudevent: attribute \"%s\" must be a string", nm);
    if (json_is_boolean(v)) {
        text = json_is_true(v) ? "true" : "false";
    } else if (json_is_integer(v)) {
        json_int_t i = json_integer_value(v);

        if (i < INT32_MIN || i > INT32_MAX)
            return LT_FAIL(LT_ERR_INVALID,
                           "cloudevent: extension \"%s\" is outside the 32-bit integer range", nm);
        snprintf(num, sizeof(num), "%" PRId64, (int64_t)i);
        text = num;
    } else if (json_is_real(v)) {
        return LT_FAIL(LT_ERR_INVALID,
                       "cloudevent: extension \"%s\" must be an integer, not a fraction", nm);
    } else {
        return LT_FAIL(LT_ERR_INVALID,
                       "cloudevent: extension \"%s\" must be a string, integer or boolean", nm);
    }
    return lt__ce_builder_attr(b, nm, klen, text, strlen(text));
}

/* "data" / "data_base64" into the builder, after the attributes are known. */
static lt_status json_data(lt__ce_builder *b, json_t *data, json_t *data_b64)
{
    lt_buf bytes;
    lt_ce_datatype dt = LT_CE_DATA_JSON;
    const char *ct;
    lt_status st = LT_OK;
    char *text;

    if (data != NULL && data_b64 != NULL)
        return LT_FAIL(LT_ERR_INVALID, "cloudevent: both \"data\" and \"data_base64\" present");
    if (data_b64 != NULL) {
        if (!json_is_string(data_b64))
            return LT_FAIL(LT_ERR_INVALID, "cloudevent: \"data_base64\" must be a string");
        lt_buf_init(&bytes, LT_MAX_MESSAGE);
        st = b64_decode(json_string_value(data_b64), json_string_length(data_b64), &bytes);
        if (st == LT_OK)
            st = lt__ce_builder_data(b, bytes.ptr, bytes.len);
        lt_buf_cleanup(&bytes);
        return st;
    }
    if (data == NULL)
        return LT_OK;
    ct = lt__ce_builder_get(b, LT__CE_DATACONTENTTYPE);
    if (ct == NULL) { /* the format says: treat as application/json, and say so */
        st = lt__ce_builder_attr(b, "datacontenttype", 15, LT_CE_CT_JSON, strlen(LT_CE_CT_JSON));
        if (st != LT_OK)
            return st;
    } else {
        st = lt_ce_classify(ct, &dt);
        if (st != LT_OK)
            return st;
    }
    if (dt != LT_CE_DATA_JSON) {
        if (!json_is_string(data))
            return LT_FAIL(LT_ERR_INVALID, "cloudevent: \"data\" must be a string when the "
                                           "datacontenttype is not JSON");
        return lt__ce_builder_data(b, json_string_value(data), json_string_length(data));
    }
    text = json_dumps(data, JSON_ENCODE_ANY | JSON_COMPACT);
    if (text == NULL)
        return LT_ERR_NOMEM;
    st = lt__ce_builder_data(b, text, strlen(text));
    free(text); /* jansson's allocation */
    return st;
}

lt_status lt_ce_from_json(lt_ce *ce, const void *json, size_t len)
{
    lt__ce_builder b;
    json_t *root = NULL, *data = NULL, *data_b64 = NULL;
    json_error_t err;
    char why[sizeof(err.text)];
    lt_status st = LT_OK;

    lt_ce_cleanup(ce);
    lt__ce_builder_init(&b, false);
    if (json == NULL && len > 0)
        return LT_FAIL(LT_ERR_INVALID, "cloudevent: no input");
    if (len > LT_MAX_MESSAGE)
        return LT_FAIL(LT_ERR_TOO_BIG,
                       "cloudevent: structured event is %zu bytes, more than the limit of %u", len,
                       LT_MAX_MESSAGE);
    if (lt__wire_json_too_deep(json, len) < len)
        return LT_FAIL(LT_ERR_TOO_BIG, "cloudevent: JSON nested deeper than %u", LT_MAX_JSON_DEPTH);
    root = json_loadb(len > 0 ? json : "", len, JSON_REJECT_DUPLICATES, &err);
    if (root == NULL)
        return LT_FAIL(LT_ERR_PARSE,
                       "cloudevent: structured event is not JSON: %s (line %d, column %d)",
                       lt__ce_printable(err.text, why, sizeof(why)), err.line, err.column);
    if (!json_is_object(root)) {
        st = LT_FAIL(LT_ERR_PARSE, "cloudevent: structured event is not a JSON object");
        goto out;
    }
    st = lt__ce_builder_reserve(&b, len + 64); /* attributes and data fit in the input */
    for (void *it = json_object_iter(root); it != NULL && st == LT_OK;
         it = json_object_iter_next(root, it)) {
        const char *key = json_object_iter_key(it);
        size_t klen = json_object_iter_key_len(it);
        json_t *v = json_object_iter_value(it);

        if (klen == 4 && strcmp(key, "data") == 0)
            data = v;
        else if (klen == 11 && strcmp(key, "data_base64") == 0)
            data_b64 = json_is_null(v) ? NULL : v;
        else if (!json_is_null(v)) /* null means unset */
            st = json_attr(&b, key, klen, v);
    }
    if (st == LT_OK)
        st = json_data(&b, data, data_b64);
    if (st == LT_OK)
        st = lt__ce_builder_finish(&b, ce, true);
out:
    lt__ce_builder_cleanup(&b);
    json_decref(root);
    return st;
}

/* ---- encoding ---- */

static lt_status set_str(json_t *o, const char *k, const char *v)
{
    if (v == NULL)
        return LT_OK;
    return json_object_set_new(o, k, json_string(v)) == 0 ? LT_OK : LT_ERR_NOMEM;
}

/* The payload: JSON data embedded, anything else as data_base64. */
static lt_status put_data(json_t *o, const lt_ce_event *ev)
{
    lt_ce_datatype dt = LT_CE_DATA_NONE;
    json_error_t err;
    char why[sizeof(err.text)];
    json_t *v;
    char *b64;
    lt_status st;

    if (ev->datacontenttype == NULL)
        return LT_OK;
    st = lt_ce_classify(ev->datacontenttype, &dt);
    if (st != LT_OK)
        return st;
    if (dt == LT_CE_DATA_JSON) {
        if (lt__wire_json_too_deep(ev->data, ev->data_len) < ev->data_len)
            return LT_FAIL(LT_ERR_TOO_BIG, "cloudevent: JSON data nested deeper than %u",
                           LT_MAX_JSON_DEPTH);
        v = json_loadb(ev->data_len > 0 ? ev->data : "", ev->data_len,
                       JSON_DECODE_ANY | JSON_REJECT_DUPLICATES, &err);
        if (v == NULL)
            return LT_FAIL(LT_ERR_PARSE, "cloudevent: JSON data is not JSON: %s",
                           lt__ce_printable(err.text, why, sizeof(why)));
        return json_object_set_new(o, "data", v) == 0 ? LT_OK : LT_ERR_NOMEM;
    }
    b64 = b64_encode(ev->data, ev->data_len);
    if (b64 == NULL)
        return LT_ERR_NOMEM;
    st = set_str(o, "data_base64", b64);
    lt_free(b64);
    return st;
}

lt_status lt_ce_to_json(char **new_json, size_t *out_len, const lt_ce_event *ev)
{
    json_t *o = NULL;
    char *text = NULL;
    size_t n;
    lt_status st;

    *new_json = NULL;
    if (out_len != NULL)
        *out_len = 0;
    st = lt_ce_validate(ev);
    if (st != LT_OK)
        return st;
    if (ev->id == NULL)
        return LT_FAIL(LT_ERR_INVALID, "cloudevent: id must be set to encode JSON");
    o = json_object();
    if (o == NULL)
        return LT_ERR_NOMEM;
    st = set_str(o, "specversion", LT_CE_SPECVERSION);
    if (st == LT_OK)
        st = set_str(o, "id", ev->id);
    if (st == LT_OK)
        st = set_str(o, "source", ev->source);
    if (st == LT_OK)
        st = set_str(o, "type", ev->type);
    if (st == LT_OK)
        st = set_str(o, "subject", ev->subject);
    if (st == LT_OK)
        st = set_str(o, "time", ev->time);
    if (st == LT_OK)
        st = set_str(o, "datacontenttype", ev->datacontenttype);
    if (st == LT_OK)
        st = set_str(o, "dataschema", ev->dataschema);
    for (size_t i = 0; i < ev->ext_count && st == LT_OK; i++)
        st = set_str(o, ev->ext[i].name, ev->ext[i].value);
    if (st == LT_OK)
        st = put_data(o, ev);
    if (st != LT_OK)
        goto out;
    n = json_dumpb(o, NULL, 0, JSON_COMPACT);
    if (n == 0 || n > LT_MAX_MESSAGE) {
        st = LT_FAIL(n == 0 ? LT_ERR_NOMEM : LT_ERR_TOO_BIG,
                     "cloudevent: JSON event is %zu bytes, more than the limit of %u", n,
                     LT_MAX_MESSAGE);
        goto out;
    }
    text = lt_malloc(n + 1);
    if (text == NULL) {
        st = LT_ERR_NOMEM;
        goto out;
    }
    if (json_dumpb(o, text, n, JSON_COMPACT) != n) {
        st = LT_FAIL(LT_ERR_STATE, "cloudevent: JSON size changed while encoding");
        goto out;
    }
    text[n] = '\0';
    if (out_len != NULL)
        *out_len = n;
    *new_json = text;
    text = NULL;
out:
    lt_free(text);
    json_decref(o);
    return st;
}
