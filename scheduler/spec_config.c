/*
 * spec_config.c - config and secrets of compiled components and links: managed configs merged
 * into one map, secret references with their policy's backend, and how both enter digests.
 */
#include "sched_int.h"

#include <string.h>

#include "lt_alloc.h"

lt_status lt__sched_merge_config(const lt_model_config *cfg, size_t n, skvs *out, lt_buf *ext)
{
    size_t i, j;
    lt_status st;

    for (i = 0; i < n; i++) {
        if (!cfg[i].has_properties) {
            if (ext != NULL) {
                st = ext->len > 0 ? lt_buf_appendc(ext, ',') : LT_OK;
                if (st == LT_OK)
                    st = lt_buf_appends(ext, cfg[i].name);
                if (st != LT_OK)
                    return st;
            }
            continue;
        }
        for (j = 0; j < cfg[i].properties.count; j++) {
            st = lt__sched_skvs_set(out, cfg[i].properties.items[j].key,
                                    cfg[i].properties.items[j].value);
            if (st != LT_OK)
                return st;
        }
    }
    return LT_OK;
}

lt_status lt__sched_build_secrets(const lt_model *m, const lt_model_secret *sec, size_t n,
                                  Latticed__Host__V1__SecretRef **out,
                                  Latticed__Host__V1__SecretRef ***outp, size_t *nout)
{
    static const Latticed__Host__V1__SecretRef init = LATTICED__HOST__V1__SECRET_REF__INIT;
    Latticed__Host__V1__SecretRef *a;
    size_t i, j;

    *nout = 0;
    if (n == 0)
        return LT_OK;
    a = lt_calloc(n, sizeof(*a));
    *outp = lt_calloc(n, sizeof(**outp));
    *out = a;
    if (a == NULL || *outp == NULL)
        return LT_FAIL(LT_ERR_NOMEM, "secrets");
    for (i = 0; i < n; i++) {
        const char *backend = "";

        for (j = 0; j < m->policy_count; j++)
            if (strcmp(m->policies[j].name, sec[i].policy) == 0) {
                const char *b = lt_model_map_get(&m->policies[j].properties, "backend");

                backend = b != NULL ? b : "";
            }
        a[i] = init;
        a[i].name = lt__sched_strdup0(sec[i].name);
        a[i].backend = lt__sched_strdup0(backend);
        a[i].key = lt__sched_strdup0(sec[i].key);
        a[i].field = lt__sched_strdup0(sec[i].field);
        a[i].version = lt__sched_strdup0(sec[i].version);
        *nout = i + 1;
        (*outp)[i] = &a[i];
        if (a[i].name == NULL || a[i].backend == NULL || a[i].key == NULL || a[i].field == NULL ||
            a[i].version == NULL)
            return LT_FAIL(LT_ERR_NOMEM, "secret");
    }
    return LT_OK;
}

void lt__sched_sha_secrets(sched_sha *h, const Latticed__Host__V1__SecretRef *sec, size_t n)
{
    size_t i;

    for (i = 0; i < n; i++) {
        lt__sched_sha_str(h, sec[i].name);
        lt__sched_sha_update(h, "\x1f", 1);
        lt__sched_sha_str(h, sec[i].backend);
        lt__sched_sha_update(h, "\x1f", 1);
        lt__sched_sha_str(h, sec[i].key);
        lt__sched_sha_update(h, "\x1f", 1);
        lt__sched_sha_str(h, sec[i].field);
        lt__sched_sha_update(h, "\x1f", 1);
        lt__sched_sha_str(h, sec[i].version);
        lt__sched_sha_update(h, "\n", 1);
    }
    lt__sched_sha_update(h, "\x1e", 1);
}

void lt__sched_free_secrets(Latticed__Host__V1__SecretRef *sec, size_t n)
{
    size_t i;

    for (i = 0; i < n; i++) {
        lt_free(sec[i].name);
        lt_free(sec[i].backend);
        lt_free(sec[i].key);
        lt_free(sec[i].field);
        lt_free(sec[i].version);
    }
    lt_free(sec);
}
