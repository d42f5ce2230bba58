/*
 * fuzz_model.c - libFuzzer target for the manifest model: every input is
 * parsed as YAML and as JSON (the two parsers of lt_model_parse). When one is
 * accepted, its canonical JSON must parse again and serialise to the same
 * bytes, and the report must render as JSON; a violation aborts.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "lt_model.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_canonical(const lt_model *m)
{
    lt_buf c1, c2;
    lt_buf_init(&c1, 8u << 20);
    lt_buf_init(&c2, 8u << 20);
    if (lt_model_to_json(m, 0, &c1) != LT_OK)
        abort();
    /* deprecated link forms grow a little when rewritten: allow more nodes */
    lt_model_parse_opts o = { .format = LT_MODEL_FORMAT_JSON,
                              .max_bytes = 8u << 20,
                              .max_nodes = 4 * LT_MODEL_MAX_NODES };
    lt_model *m2 = NULL;
    lt_status st = lt_model_parse(c1.ptr, c1.len, &o, &m2, NULL);
    if (st != LT_OK)
        abort(); /* a valid model's canonical form must be valid */
    if (lt_model_to_json(m2, 0, &c2) != LT_OK || c1.len != c2.len ||
        memcmp(c1.ptr, c2.ptr, c1.len) != 0)
        abort(); /* and stable */
    lt_model_free(m2);
    lt_buf_cleanup(&c1);
    lt_buf_cleanup(&c2);
}

static void one(const uint8_t *data, size_t size, lt_model_format format)
{
    lt_model_parse_opts o = { .format = format, .source_name = "fuzz" };
    lt_model *m = NULL;
    lt_model_report *r = NULL;
    lt_status st = lt_model_parse(data, size, &o, &m, &r);
    if ((st == LT_OK) != (m != NULL) || (st != LT_ERR_NOMEM && r == NULL))
        abort();
    if (r != NULL) {
        lt_buf out;
        lt_buf_init(&out, 64u << 20);
        if (lt_model_report_to_json(r, &out) != LT_OK)
            abort();
        lt_buf_cleanup(&out);
        if ((st == LT_OK) != (r->error_count == 0) || r->count > 1001)
            abort();
    }
    if (m != NULL)
        check_canonical(m);
    lt_model_free(m);
    lt_model_report_free(r);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    one(data, size, LT_MODEL_FORMAT_YAML);
    one(data, size, LT_MODEL_FORMAT_JSON);
    return 0;
}
