/*
 * ids.c - names and ids as wadm computes them (component ids, managed config
 * and secret config names), the name and OAM label-key rules, wadm's table of
 * known interfaces, did-you-mean suggestions, Rust Debug string quoting for
 * wadm's messages, resource quantities, and the model's derived fields.
 */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "lt_alloc.h"
#include "model_int.h"

#define SUGGEST_MAX_LEN 64u

/* ---- did you mean --------------------------------------------------------------------------- */

/** Levenshtein distance, capped: returns cap + 1 when larger. */
static size_t edit_distance(const char *a, const char *b, size_t cap)
{
    size_t la = strlen(a), lb = strlen(b);
    if (la > SUGGEST_MAX_LEN || lb > SUGGEST_MAX_LEN)
        return cap + 1;
    if ((la > lb ? la - lb : lb - la) > cap)
        return cap + 1;
    size_t prev[SUGGEST_MAX_LEN + 1], cur[SUGGEST_MAX_LEN + 1];
    for (size_t j = 0; j <= lb; j++)
        prev[j] = j;
    for (size_t i = 1; i <= la; i++) {
        cur[0] = i;
        size_t row_min = cur[0];
        for (size_t j = 1; j <= lb; j++) {
            size_t cost = a[i - 1] == b[j - 1] ? 0 : 1;
            size_t best = prev[j - 1] + cost;
            if (prev[j] + 1 < best)
                best = prev[j] + 1;
            if (cur[j - 1] + 1 < best)
                best = cur[j - 1] + 1;
            cur[j] = best;
            if (best < row_min)
                row_min = best;
        }
        if (row_min > cap)
            return cap + 1;
        memcpy(prev, cur, (lb + 1) * sizeof(prev[0]));
    }
    return prev[lb] > cap ? cap + 1 : prev[lb];
}

const char *lt__model_suggest(const char *word, const char *const *candidates, size_t n)
{
    size_t len = strlen(word);
    size_t cap = len <= 3 ? 1 : len <= 8 ? 2 : 3;
    const char *best = NULL;
    size_t best_d = cap + 1;
    for (size_t i = 0; i < n; i++) {
        size_t d = edit_distance(word, candidates[i], cap);
        if (d < best_d && d < len && d < strlen(candidates[i])) {
            best = candidates[i];
            best_d = d;
        }
    }
    if (best != NULL)
        return best;
    /* an old or longer spelling of a name ("linkdef" for "link") */
    for (size_t i = 0; i < n && len > 4; i++) {
        size_t cl = strlen(candidates[i]);
        if (cl >= 4 && cl < len && strncmp(word, candidates[i], cl) == 0)
            return candidates[i];
    }
    return NULL;
}

/* ---- wadm message helpers ------------------------------------------------------------------- */

lt_status lt__model_rust_debug_str(lt_buf *out, const char *s)
{
    lt_status st = lt_buf_appendc(out, '"');
    for (const unsigned char *c = (const unsigned char *)s; st == LT_OK && *c != '\0'; c++) {
        switch (*c) {
        case '"':
            st = lt_buf_appends(out, "\\\"");
            break;
        case '\\':
            st = lt_buf_appends(out, "\\\\");
            break;
        case '\n':
            st = lt_buf_appends(out, "\\n");
            break;
        case '\r':
            st = lt_buf_appends(out, "\\r");
            break;
        case '\t':
            st = lt_buf_appends(out, "\\t");
            break;
        default:
            if (*c < 0x20 || *c == 0x7f)
                st = lt_buf_appendf(out, "\\u{%x}", *c);
            else
                st = lt_buf_appendc(out, (char)*c);
        }
    }
    return st == LT_OK ? lt_buf_appendc(out, '"') : st;
}

/* wadm's KNOWN_INTERFACE_LOOKUP: namespace, package, interfaces. */
static const struct {
    const char *ns;
    const char *pkg;
    const char *ifaces[5];
} KNOWN[] = {
    { "wrpc", "blobstore", { "blobstore" } },
    { "wrpc", "keyvalue", { "atomics", "store" } },
    { "wrpc", "http", { "incoming-handler", "outgoing-handler" } },
    { "wasi", "blobstore", { "blobstore" } },
    { "wasi", "config", { "runtime" } },
    { "wasi", "keyvalue", { "atomics", "store", "batch", "watch" } },
    { "wasi", "http", { "incoming-handler", "outgoing-handler" } },
    { "wasi", "logging", { "logging" } },
    { "wasmcloud", "messaging", { "consumer", "handler" } },
};

bool lt__model_interface_unrecognized(const char *ns, const char *pkg, const char *iface)
{
    bool ns_known = false;
    for (size_t i = 0; i < sizeof(KNOWN) / sizeof(KNOWN[0]); i++) {
        if (strcmp(KNOWN[i].ns, ns) != 0)
            continue;
        ns_known = true;
        if (strcmp(KNOWN[i].pkg, pkg) != 0)
            continue;
        for (size_t k = 0; k < 5 && KNOWN[i].ifaces[k] != NULL; k++) {
            if (strcmp(KNOWN[i].ifaces[k], iface) == 0)
                return false;
        }
        return true; /* known namespace and package, unknown interface */
    }
    return ns_known; /* known namespace, unknown package; unknown namespaces are custom */
}

/* ---- names and ids -------------------------------------------------------------------------- */

bool lt_model_name_is_valid(const char *name)
{
    if (name == NULL || name[0] == '\0')
        return false;
    for (const char *c = name; *c != '\0'; c++) {
        if (!(isalnum((unsigned char)*c) || *c == '_' || *c == '-'))
            return false;
    }
    return true;
}

static bool valid_dns_subdomain(const char *s, size_t len)
{
    if (len == 0 || len > 253)
        return false;
    size_t start = 0;
    for (size_t i = 0; i <= len; i++) {
        if (i < len && s[i] != '.')
            continue;
        size_t plen = i - start;
        const char *p = s + start;
        if (plen == 0 || plen > 63 || !isalpha((unsigned char)p[0]) ||
            !isalnum((unsigned char)p[plen - 1]))
            return false;
        for (size_t k = 0; k < plen; k++) {
            if (!(isalnum((unsigned char)p[k]) || p[k] == '-'))
                return false;
        }
        start = i + 1;
    }
    return true;
}

static bool valid_label_name(const char *s)
{
    size_t len = strlen(s);
    if (len == 0 || len > 63 || !isalnum((unsigned char)s[0]) ||
        !isalnum((unsigned char)s[len - 1]))
        return false;
    for (size_t k = 0; k < len; k++) {
        if (!(isalnum((unsigned char)s[k]) || s[k] == '-' || s[k] == '_' || s[k] == '.'))
            return false;
    }
    return true;
}

bool lt_model_label_key_is_valid(const char *key)
{
    const char *slash = strchr(key, '/');
    if (slash == NULL)
        return valid_label_name(key);
    return valid_dns_subdomain(key, (size_t)(slash - key)) && valid_label_name(slash + 1);
}

/* One part of an id: lower-cased, every character but an ASCII letter or digit -> '_'. */
static lt_status id_part(lt_buf *out, const char *s)
{
    lt_status st = LT_OK;
    const unsigned char *c = (const unsigned char *)s;
    while (st == LT_OK && *c != '\0') {
        if (*c < 0x80) {
            st = lt_buf_appendc(out, isalnum(*c) ? (char)tolower(*c) : '_');
            c++;
            continue;
        }
        size_t n = (*c & 0xE0) == 0xC0 ? 2 : (*c & 0xF0) == 0xE0 ? 3 : (*c & 0xF8) == 0xF0 ? 4 : 1;
        /* Rust's to_lowercase maps two characters to ASCII: KELVIN SIGN to 'k', and LATIN
         * CAPITAL I WITH DOT ABOVE to 'i' plus a combining dot (then '_'). */
        if (n == 3 && c[0] == 0xE2 && c[1] == 0x84 && c[2] == 0xAA)
            st = lt_buf_appendc(out, 'k');
        else if (n == 2 && c[0] == 0xC4 && c[1] == 0xB0)
            st = lt_buf_appends(out, "i_");
        else
            st = lt_buf_appendc(out, '_');
        for (size_t k = 0; k < n && *c != '\0'; k++)
            c++;
    }
    return st;
}

lt_status lt_model_compute_id(const char *app, const char *name, lt_buf *out)
{
    LT_IGNORE(id_part(out, app));
    LT_IGNORE(lt_buf_appendc(out, '-'));
    return id_part(out, name);
}

const lt_model_component *lt_model_find_component(const lt_model *m, const char *name)
{
    for (size_t i = 0; i < m->component_count; i++) {
        if (strcmp(m->components[i].name, name) == 0)
            return &m->components[i];
    }
    return NULL;
}

const char *lt_model_map_get(const lt_model_map *map, const char *key)
{
    for (size_t i = 0; i < map->count; i++) {
        if (strcmp(map->items[i].key, key) == 0)
            return map->items[i].value;
    }
    return NULL;
}

uint64_t lt_model_rollout_max_unavailable(const lt_model_rollout *r, uint64_t instances)
{
    bool percent = r->set ? r->percent : true;
    uint64_t value = r->set ? r->max_unavailable : 25;
    if (!percent)
        return value;
    uint64_t n = instances / 100 * value + instances % 100 * value / 100;
    return n == 0 && value > 0 ? 1 : n;
}

/* ---- quantities ----------------------------------------------------------------------------- */

/* Parse "<digits>[.<digits>]" then a unit from units (scale per unit); result must be whole. */
static bool parse_quantity(const char *s, const char *const *units, const uint64_t *scales,
                           size_t nunits, uint64_t default_scale, uint64_t *out)
{
    uint64_t ip = 0, frac = 0, fdiv = 1;
    const char *p = s;
    if (!isdigit((unsigned char)*p))
        return false;
    for (; isdigit((unsigned char)*p); p++) {
        if (__builtin_mul_overflow(ip, 10, &ip) ||
            __builtin_add_overflow(ip, (uint64_t)(*p - '0'), &ip))
            return false;
    }
    if (*p == '.') {
        p++;
        if (!isdigit((unsigned char)*p))
            return false;
        for (; isdigit((unsigned char)*p); p++) {
            if (fdiv >= 1000000000u)
                return false; /* more precision than we keep */
            frac = frac * 10 + (uint64_t)(*p - '0');
            fdiv *= 10;
        }
    }
    uint64_t scale = default_scale;
    if (*p != '\0') {
        size_t i = 0;
        while (i < nunits && strcmp(p, units[i]) != 0)
            i++;
        if (i == nunits)
            return false;
        scale = scales[i];
    }
    uint64_t whole, part;
    if (__builtin_mul_overflow(ip, scale, &whole))
        return false;
    if (__builtin_mul_overflow(frac, scale, &part) || part % fdiv != 0)
        return false;
    return !__builtin_add_overflow(whole, part / fdiv, out);
}

bool lt__model_parse_memory(const char *s, uint64_t *out)
{
    static const char *const units[] = {
        "k", "K", "M", "G", "T", "P", "Ki", "Mi", "Gi", "Ti", "Pi"
    };
    static const uint64_t scales[] = { 1000u,       1000u,          1000000u,
                                       1000000000u, 1000000000000u, 1000000000000000u,
                                       1u << 10,    1u << 20,       1u << 30,
                                       1ull << 40,  1ull << 50 };
    return parse_quantity(s, units, scales, sizeof(units) / sizeof(units[0]), 1, out);
}

bool lt__model_parse_cpu(const char *s, uint64_t *out)
{
    static const char *const units[] = { "m" };
    static const uint64_t scales[] = { 1 };
    return parse_quantity(s, units, scales, 1, 1000, out);
}

/* ---- maps and derived fields ---------------------------------------------------------------- */

static int cmp_kv(const void *a, const void *b)
{
    return strcmp(((const lt_model_kv *)a)->key, ((const lt_model_kv *)b)->key);
}

void lt__model_map_sort(lt_model_kv *items, size_t n)
{
    if (n > 1)
        qsort(items, n, sizeof(*items), cmp_kv);
}

static const char *component_id(lt_model *m, const lt_model_component *c)
{
    if (c->explicit_id != NULL)
        return c->explicit_id;
    lt_buf b;
    lt_buf_init(&b, LT__JSON_TEXT_MAX);
    lt_status st = c->image == NULL && c->shared_app != NULL
                       ? lt_model_compute_id(c->shared_app, c->shared_component, &b)
                       : lt_model_compute_id(m->name, c->name, &b);
    const char *id = st == LT_OK ? lt__model_arena_strndup(m->arena_, b.ptr, b.len) : NULL;
    lt_buf_cleanup(&b);
    return id;
}

lt_status lt__model_derive(lt_model *m)
{
    m->version = lt_model_map_get(&m->annotations, LT_MODEL_ANN_VERSION);
    m->description = lt_model_map_get(&m->annotations, LT_MODEL_ANN_DESCRIPTION);
    const char *shared = lt_model_map_get(&m->annotations, LT_MODEL_ANN_SHARED);
    m->shared = shared != NULL && strcmp(shared, "true") == 0;
    for (size_t i = 0; i < m->component_count; i++) {
        lt_model_component *c = (lt_model_component *)&m->components[i];
        c->id = component_id(m, c);
        if (c->id == NULL)
            return LT_FAIL(LT_ERR_NOMEM, "component id");
        c->resources = NULL;
        for (size_t k = 0; k < c->trait_count && c->resources == NULL; k++) {
            if (c->traits[k].kind == LT_MODEL_TRAIT_RESOURCES)
                c->resources = &c->traits[k].resources;
        }
    }
    return LT_OK;
}

struct dup_key {
    const char *key;
    size_t index;
};

static int cmp_dup(const void *a, const void *b)
{
    const struct dup_key *x = a, *y = b;
    int c = strcmp(x->key, y->key);
    if (c != 0)
        return c;
    return x->index < y->index ? -1 : x->index > y->index;
}

bool *lt__model_dup_flags(const char *const *keys, size_t n)
{
    bool *flags = lt_calloc(n > 0 ? n : 1, sizeof(*flags));
    struct dup_key *sorted = lt_calloc(n > 0 ? n : 1, sizeof(*sorted));
    if (flags == NULL || sorted == NULL) {
        lt_free(flags);
        lt_free(sorted);
        return NULL;
    }
    for (size_t i = 0; i < n; i++)
        sorted[i] = (struct dup_key){ keys[i], i };
    qsort(sorted, n, sizeof(*sorted), cmp_dup);
    for (size_t i = 1; i < n; i++) {
        if (strcmp(sorted[i - 1].key, sorted[i].key) == 0)
            flags[sorted[i].index] = true;
    }
    lt_free(sorted);
    return flags;
}
