/*
 * model_test_util.c - helpers of model_test.h.
 */
#include <stdio.h>

#include "model_test.h"

mt_result mt_parse_opts(const void *data, size_t len, const lt_model_parse_opts *opts)
{
    mt_result res = { 0 };
    res.st = lt_model_parse(data, len, opts, &res.m, &res.r);
    ck_assert_ptr_nonnull(res.r);
    ck_assert((res.st == LT_OK) == (res.m != NULL));
    ck_assert((res.st == LT_OK) == (res.r->error_count == 0));
    return res;
}

mt_result mt_parse(const char *text, lt_model_format fmt)
{
    lt_model_parse_opts o = { .format = fmt, .source_name = "t.yaml" };
    return mt_parse_opts(text, strlen(text), &o);
}

void mt_done(mt_result *res)
{
    lt_model_free(res->m);
    lt_model_report_free(res->r);
    *res = (mt_result){ 0 };
}

const lt_model_diag *mt_find(const lt_model_report *r, lt_model_level lvl, const char *text,
                             bool exact)
{
    for (size_t i = 0; i < r->count; i++) {
        const lt_model_diag *d = &r->items[i];
        if (d->level != lvl)
            continue;
        if (exact ? strcmp(d->message, text) == 0 : strstr(d->message, text) != NULL)
            return d;
    }
    return NULL;
}

size_t mt_count(const lt_model_report *r, lt_model_level lvl, const char *substr)
{
    size_t n = 0;
    for (size_t i = 0; i < r->count; i++) {
        if (r->items[i].level == lvl && strstr(r->items[i].message, substr) != NULL)
            n++;
    }
    return n;
}

void mt_dump(const lt_model_report *r)
{
    for (size_t i = 0; i < r->count; i++) {
        const lt_model_diag *d = &r->items[i];
        fprintf(stderr, "  %s %u:%u [%s] (%s) %s\n", d->level == LT_MODEL_ERROR ? "E" : "W",
                d->line, d->column, d->path, d->code, d->message);
    }
}
