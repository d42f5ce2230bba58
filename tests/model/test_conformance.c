/*
 * test_conformance.c - walks the shared wadm conformance corpus in place
 * (EXPECTED.tsv under $LT_CONFORMANCE_DIR, default <source>/../shared/
 * conformance) and checks every row: valid, valid+warn (a wadm warning with
 * the text), invalid (an error with the text), deploy-fails (must parse and
 * validate here). Every accepted manifest must also survive the canonical
 * JSON round trip with the same ids and the same wadm findings. Exits 77
 * (skipped) when the corpus is absent.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lt_alloc.h"
#include "lt_config.h"
#include "lt_limits.h"
#include "lt_model.h"
#include "lt_testutil.h"

#define MAX_ROWS 256

typedef struct {
    char *file;
    char *verdict;
    char *text;
} row;

static row rows[MAX_ROWS];
static size_t nrows;
static char wadm_dir[8192];

/* Split the TSV into rows: file, verdict, expected text; '#' lines are comments. */
static bool load_rows(const char *tsv)
{
    char *data = NULL;
    if (lt_test_read_file(tsv, 1 << 20, &data, NULL) != LT_OK)
        return false;
    char *line = data;
    while (line != NULL && *line != '\0' && nrows < MAX_ROWS) {
        char *nl = strchr(line, '\n');
        if (nl != NULL)
            *nl = '\0';
        char *tab1 = strchr(line, '\t');
        char *tab2 = tab1 != NULL ? strchr(tab1 + 1, '\t') : NULL;
        if (line[0] != '#' && tab1 != NULL) {
            *tab1 = '\0';
            if (tab2 != NULL)
                *tab2 = '\0';
            rows[nrows++] =
                (row){ strdup(line), strdup(tab1 + 1), strdup(tab2 != NULL ? tab2 + 1 : "") };
        }
        line = nl != NULL ? nl + 1 : NULL;
    }
    lt_free(data);
    return nrows > 0;
}

/* wadm-coded findings of a level, except the raw-document warnings of rule 15 (the canonical
 * form rewrites the deprecated keys they are about), one message per line. */
static void wadm_findings(const lt_model_report *r, lt_model_level lvl, lt_buf *out)
{
    for (size_t i = 0; i < r->count; i++) {
        const lt_model_diag *d = &r->items[i];
        if (d->level != lvl || strcmp(d->code, "wadm") != 0 ||
            strstr(d->message, "_config key, please use") != NULL)
            continue;
        LT_IGNORE(lt_buf_appendf(out, "%s\n", d->message));
    }
}

static bool has(const lt_model_report *r, lt_model_level lvl, const char *code, const char *text)
{
    for (size_t i = 0; i < r->count; i++) {
        const lt_model_diag *d = &r->items[i];
        if (d->level == lvl && (code == NULL || strcmp(d->code, code) == 0) &&
            strstr(d->message, text) != NULL)
            return true;
    }
    return false;
}

static void dump(const lt_model_report *r)
{
    for (size_t i = 0; i < r->count; i++)
        fprintf(stderr, "    %s %u:%u %s: %s\n", r->items[i].level ? "W" : "E", r->items[i].line,
                r->items[i].column, r->items[i].code, r->items[i].message);
}

static void check_round_trip(const row *rw, const lt_model *m, const lt_model_report *r)
{
    lt_buf c1, c2, f1, f2;
    lt_buf_init(&c1, 16u << 20);
    lt_buf_init(&c2, 16u << 20);
    lt_buf_init(&f1, 1u << 20);
    lt_buf_init(&f2, 1u << 20);
    ck_assert_int_eq(lt_model_to_json(m, 0, &c1), LT_OK);
    lt_model *m2 = NULL;
    lt_model_report *r2 = NULL;
    lt_model_parse_opts o = { .format = LT_MODEL_FORMAT_JSON, .source_name = rw->file };
    lt_status st = lt_model_parse(c1.ptr, c1.len, &o, &m2, &r2);
    if (st != LT_OK)
        dump(r2);
    ck_assert_msg(st == LT_OK, "%s: canonical form does not parse", rw->file);
    ck_assert_int_eq(lt_model_to_json(m2, 0, &c2), LT_OK);
    ck_assert_msg(strcmp(c1.ptr, c2.ptr) == 0, "%s: canonical form not stable", rw->file);
    ck_assert_uint_eq(m->component_count, m2->component_count);
    for (size_t i = 0; i < m->component_count; i++)
        ck_assert_str_eq(m->components[i].id, m2->components[i].id);
    wadm_findings(r, LT_MODEL_WARNING, &f1);
    wadm_findings(r2, LT_MODEL_WARNING, &f2);
    ck_assert_msg(strcmp(f1.ptr, f2.ptr) == 0, "%s: findings changed:\n%s---\n%s", rw->file, f1.ptr,
                  f2.ptr);
    lt_model_free(m2);
    lt_model_report_free(r2);
    lt_buf_cleanup(&c1);
    lt_buf_cleanup(&c2);
    lt_buf_cleanup(&f1);
    lt_buf_cleanup(&f2);
}

START_TEST(test_conformance_row)
{
    const row *rw = &rows[_i];
    char path[16384];
    snprintf(path, sizeof(path), "%s/%s", wadm_dir, rw->file);
    char *data = NULL;
    size_t len = 0;
    ck_assert_msg(lt_test_read_file(path, LT_MAX_MANIFEST_BYTES, &data, &len) == LT_OK,
                  "cannot read %s", path);
    lt_model *m = NULL;
    lt_model_report *r = NULL;
    lt_model_parse_opts o = { .source_name = rw->file };
    lt_status st = lt_model_parse(data, len, &o, &m, &r);
    lt_free(data);
    ck_assert_ptr_nonnull(r);
    bool ok;
    if (strcmp(rw->verdict, "valid") == 0) {
        /* no error, and no warning from wadm's rules (latticed's own notes are allowed) */
        ok = st == LT_OK;
        for (size_t i = 0; ok && i < r->count; i++)
            ok = strcmp(r->items[i].code, "wadm") != 0;
    } else if (strcmp(rw->verdict, "valid+warn") == 0) {
        ok = st == LT_OK && has(r, LT_MODEL_WARNING, "wadm", rw->text);
    } else if (strcmp(rw->verdict, "invalid") == 0) {
        ok = st != LT_OK && m == NULL && has(r, LT_MODEL_ERROR, NULL, rw->text);
    } else if (strcmp(rw->verdict, "deploy-fails") == 0) {
        /* put is accepted; the deploy-time checks belong to the scheduler. The text, when
         * given, is an id the manifest uses that another application owns. */
        ok = st == LT_OK;
        bool found = rw->text[0] == '\0';
        for (size_t i = 0; ok && i < m->component_count; i++)
            found = found || strcmp(m->components[i].id, rw->text) == 0;
        ok = ok && found;
    } else {
        ok = false;
    }
    if (!ok) {
        fprintf(stderr, "FAIL %s (%s, expected \"%s\"), status %s:\n", rw->file, rw->verdict,
                rw->text, lt_status_name(st));
        dump(r);
    }
    ck_assert_msg(ok, "%s: not %s", rw->file, rw->verdict);
    if (m != NULL)
        check_round_trip(rw, m, r);
    lt_model_free(m);
    lt_model_report_free(r);
}
END_TEST

int main(void)
{
    const char *dir = getenv("LT_CONFORMANCE_DIR");
    char base[4096], tsv[8300];
    snprintf(base, sizeof(base), "%s", dir != NULL ? dir : LT_SOURCE_ROOT "/../shared/conformance");
    snprintf(wadm_dir, sizeof(wadm_dir), "%s/wadm", base);
    snprintf(tsv, sizeof(tsv), "%s/EXPECTED.tsv", wadm_dir);
    if (!load_rows(tsv)) {
        printf("SKIP: conformance corpus not found (%s)\n", tsv);
        return 77;
    }
    printf("conformance: %zu rows from %s\n", nrows, tsv);
    Suite *s = suite_create("model_conformance");
    TCase *tc = tcase_create("wadm_corpus");
    tcase_set_timeout(tc, 60);
    tcase_add_loop_test(tc, test_conformance_row, 0, (int)nrows);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_ENV);
    int failed = srunner_ntests_failed(sr);
    printf("conformance: %zu/%zu rows pass\n", nrows - (size_t)failed, nrows);
    srunner_free(sr);
    for (size_t i = 0; i < nrows; i++) {
        free(rows[i].file);
        free(rows[i].verdict);
        free(rows[i].text);
    }
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
