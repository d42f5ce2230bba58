/*
 * model_test.h - helpers shared by the model tests: parse a text and look
 * findings up by level and message.
 */
#ifndef MODEL_TEST_H
#define MODEL_TEST_H

#include <check.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "lt_model.h"

/* The result of one parse; release with mt_done. */
typedef struct {
    lt_status st;
    lt_model *m;
    lt_model_report *r;
} mt_result;

mt_result mt_parse(const char *text, lt_model_format fmt);
mt_result mt_parse_opts(const void *data, size_t len, const lt_model_parse_opts *opts);
void mt_done(mt_result *res);

/* First finding of that level whose message contains substr (exactly equal when exact). */
const lt_model_diag *mt_find(const lt_model_report *r, lt_model_level lvl, const char *text,
                             bool exact);
size_t mt_count(const lt_model_report *r, lt_model_level lvl, const char *substr);
/* Print every finding (for failing tests). */
void mt_dump(const lt_model_report *r);

/* Assert a finding exists (exact message) at line:column (0 = don't check). */
#define mt_expect(res, lvl, msg, ln, col)                                \
    do {                                                                 \
        const lt_model_diag *d_ = mt_find((res)->r, (lvl), (msg), true); \
        if (d_ == NULL || getenv("MT_DUMP") != NULL)                     \
            mt_dump((res)->r);                                           \
        ck_assert_msg(d_ != NULL, "missing finding: %s", (msg));         \
        if ((ln) > 0) {                                                  \
            ck_assert_uint_eq(d_->line, (ln));                           \
            ck_assert_uint_eq(d_->column, (col));                        \
        }                                                                \
    } while (0)

Suite *model_rules_suite(void);
Suite *model_forms_suite(void);
Suite *model_ext_suite(void);
Suite *model_hostile_suite(void);
Suite *model_deploy_check_suite(void);

#endif
