/*
 * util.c - small pure helpers of the host: key/value lists, subject token
 * and id checks, duration and size parsing, and label templates for
 * simulated hosts ("zone={east|west|moon}", "rack=r{i%4}").
 */
#include "host_int.h"

#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lt_alloc.h"
#include "lt_subject.h"

lt_status lt__host_kvs_set(lt__host_kvs *l, const char *key, const char *val)
{
    char *k = NULL, *v = NULL;

    for (size_t i = 0; i < l->n; i++) {
        if (strcmp(l->v[i].key, key) == 0) {
            v = lt_strdup(val);
            if (v == NULL)
                return LT_ERR_NOMEM;
            lt_free(l->v[i].val);
            l->v[i].val = v;
            return LT_OK;
        }
    }
    if (l->n == l->cap) {
        size_t ncap = l->cap ? l->cap * 2 : 4;
        lt__host_kv *nv = lt_realloc(l->v, ncap * sizeof(*nv));

        if (nv == NULL)
            return LT_ERR_NOMEM;
        l->v = nv;
        l->cap = ncap;
    }
    k = lt_strdup(key);
    v = lt_strdup(val);
    if (k == NULL || v == NULL) {
        lt_free(k);
        lt_free(v);
        return LT_ERR_NOMEM;
    }
    l->v[l->n].key = k;
    l->v[l->n].val = v;
    l->n++;
    return LT_OK;
}

const char *lt__host_kvs_get(const lt__host_kvs *l, const char *key)
{
    for (size_t i = 0; i < l->n; i++) {
        if (strcmp(l->v[i].key, key) == 0)
            return l->v[i].val;
    }
    return NULL;
}

void lt__host_kvs_cleanup(lt__host_kvs *l)
{
    if (l == NULL)
        return;
    for (size_t i = 0; i < l->n; i++) {
        lt_free(l->v[i].key);
        lt_free(l->v[i].val);
    }
    lt_free(l->v);
    l->v = NULL;
    l->n = l->cap = 0;
}

bool lt__host_token_ok(const char *s, size_t max)
{
    return lt_subject_token_ok(s) && strlen(s) <= max;
}

bool lt__host_prefix_ok(const char *s)
{
    return s != NULL && strlen(s) <= LT_MAX_SUBJECT / 2 && lt_subject_check(s, false) == LT_OK;
}

bool lt__host_id_ok(const char *s)
{
    size_t n = 0;

    if (s == NULL || *s == '\0' || *s == '.')
        return false;
    for (; *s != '\0'; s++, n++) {
        if (n >= LT_HOST_MAX_ID ||
            !(isalnum((unsigned char)*s) || *s == '-' || *s == '_' || *s == ':' || *s == '.'))
            return false;
    }
    return true;
}

/* Leading decimal integer of s; *end after it. false when none or overflow. */
static bool leading_int(const char *s, uint64_t *out, const char **end)
{
    char *e;
    unsigned long long v;

    if (!isdigit((unsigned char)*s))
        return false;
    errno = 0;
    v = strtoull(s, &e, 10);
    if (errno != 0)
        return false;
    *out = v;
    *end = e;
    return true;
}

lt_status lt__host_parse_duration_ms(const char *what, const char *s, int64_t *out)
{
    uint64_t v, mult;
    const char *u;

    if (s == NULL || !leading_int(s, &v, &u))
        goto bad;
    if (*u == '\0' || strcmp(u, "s") == 0)
        mult = 1000;
    else if (strcmp(u, "ms") == 0)
        mult = 1;
    else if (strcmp(u, "m") == 0)
        mult = 60000;
    else
        goto bad;
    if (v > (uint64_t)INT64_MAX / mult / 1000) /* keep far from overflow */
        goto bad;
    *out = (int64_t)(v * mult);
    return LT_OK;
bad:
    return LT_FAIL(LT_ERR_INVALID, "%s: expected a duration like 250ms, 5s or 2m, got '%s'", what,
                   s ? s : "");
}

lt_status lt__host_parse_size(const char *what, const char *s, uint64_t *out)
{
    static const struct {
        const char *suffix;
        uint64_t mult;
    } units[] = {
        { "", 1 },
        { "K", 1000ull },
        { "M", 1000000ull },
        { "G", 1000000000ull },
        { "T", 1000000000000ull },
        { "Ki", 1ull << 10 },
        { "Mi", 1ull << 20 },
        { "Gi", 1ull << 30 },
        { "Ti", 1ull << 40 },
    };
    uint64_t v;
    const char *u;

    if (s == NULL || !leading_int(s, &v, &u))
        goto bad;
    for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
        if (strcmp(u, units[i].suffix) == 0) {
            if (v > UINT64_MAX / units[i].mult)
                goto bad;
            *out = v * units[i].mult;
            return LT_OK;
        }
    }
bad:
    return LT_FAIL(LT_ERR_INVALID, "%s: expected a size like 512Mi, 4G or 1073741824, got '%s'",
                   what, s ? s : "");
}

/* Expand one placeholder body (between braces, len bytes) into b. */
static lt_status expand_one(const char *p, size_t len, size_t index, const char *host_id, lt_buf *b)
{
    const char *bar = memchr(p, '|', len);
    uint64_t m;
    const char *end;

    if (len == 2 && memcmp(p, "id", 2) == 0)
        return lt_buf_appends(b, host_id);
    if (len == 1 && p[0] == 'i')
        return lt_buf_appendf(b, "%zu", index);
    if (len > 2 && p[0] == 'i' && (p[1] == '%' || p[1] == '/') && leading_int(p + 2, &m, &end) &&
        end == p + len && m > 0)
        return lt_buf_appendf(b, "%" PRIu64,
                              p[1] == '%' ? (uint64_t)index % m : (uint64_t)index / m);
    if (bar != NULL) {
        size_t nchoices = 1, pick;
        const char *c = p, *stop = p + len;

        for (const char *q = p; q < stop; q++)
            nchoices += *q == '|';
        pick = index % nchoices;
        while (pick-- > 0)
            c = (const char *)memchr(c, '|', (size_t)(stop - c)) + 1;
        end = memchr(c, '|', (size_t)(stop - c));
        return lt_buf_append(b, c, (size_t)((end ? end : stop) - c));
    }
    return LT_FAIL(LT_ERR_INVALID,
                   "unknown placeholder '{%.*s}' (use {i}, {i%%N}, {i/N}, {id} or {a|b|c})",
                   (int)len, p);
}

lt_status lt__host_label_expand(const char *tmpl, size_t index, const char *host_id, char **out)
{
    lt_buf b;
    lt_status st = LT_OK;
    const char *p = tmpl;

    lt_buf_init(&b, 4096);
    while (st == LT_OK && *p != '\0') {
        if ((p[0] == '{' && p[1] == '{') || (p[0] == '}' && p[1] == '}')) {
            st = lt_buf_appendc(&b, p[0]);
            p += 2;
        } else if (*p == '{') {
            const char *close = strchr(p, '}');

            if (close == NULL) {
                st = LT_FAIL(LT_ERR_INVALID, "unterminated '{' in '%s'", tmpl);
                break;
            }
            st = expand_one(p + 1, (size_t)(close - p - 1), index, host_id, &b);
            p = close + 1;
        } else {
            st = lt_buf_appendc(&b, *p++);
        }
    }
    if (st == LT_OK) {
        *out = lt_buf_take(&b);
        if (*out == NULL)
            st = LT_ERR_NOMEM;
    }
    lt_buf_cleanup(&b);
    return st;
}

lt_status lt__host_label_add(lt__host_kvs *l, const char *kv, size_t index, const char *host_id)
{
    const char *eq = strchr(kv, '=');
    char key[LT_MAX_TOKEN + 1], why[256];
    char *val = NULL;
    lt_status st;

    if (eq == NULL || eq == kv || (size_t)(eq - kv) > LT_MAX_TOKEN)
        return LT_FAIL(LT_ERR_INVALID, "label '%s': expected KEY=VALUE", kv);
    memcpy(key, kv, (size_t)(eq - kv));
    key[eq - kv] = '\0';
    st = lt__host_label_expand(eq + 1, index, host_id, &val);
    if (st != LT_OK) {
        snprintf(why, sizeof(why), "%s", lt_error_message()); /* LT_FAIL rewrites it */
        return LT_FAIL(st, "label '%s': %s", kv, why);
    }
    st = lt__host_kvs_set(l, key, val);
    lt_free(val);
    return st;
}
