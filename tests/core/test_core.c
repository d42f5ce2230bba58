/*
 * test_core.c - bounded buffers, status texts, error origin, log level
 * parsing and allocator failure injection.
 */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "lt_alloc.h"
#include "lt_buf.h"
#include "lt_log.h"
#include "lt_status.h"
#include "lt_utf8.h"
#include "lt_testutil.h"

START_TEST(test_buf_append_and_limit)
{
    lt_buf b;

    lt_buf_init(&b, 10);
    ck_assert_str_eq(b.ptr, "");
    ck_assert_int_eq(lt_buf_appends(&b, "hello"), LT_OK);
    ck_assert_int_eq(lt_buf_appendf(&b, "-%d", 42), LT_OK);
    ck_assert_str_eq(b.ptr, "hello-42");
    ck_assert_uint_eq(b.len, 8);
    /* Over the limit: refused, content unchanged. */
    ck_assert_int_eq(lt_buf_appends(&b, "xyz"), LT_ERR_TOO_BIG);
    ck_assert_int_eq(lt_buf_appendf(&b, "%s", "xyz"), LT_ERR_TOO_BIG);
    ck_assert_str_eq(b.ptr, "hello-42");
    /* The first error sticks: an append that would fit now does nothing. */
    ck_assert_int_eq(lt_buf_status(&b), LT_ERR_TOO_BIG);
    ck_assert_int_eq(lt_buf_appends(&b, "ab"), LT_ERR_TOO_BIG);
    ck_assert_int_eq(lt_buf_appendc(&b, 'a'), LT_ERR_TOO_BIG);
    ck_assert_str_eq(b.ptr, "hello-42");
    /* Truncating to a mark clears it. */
    lt_buf_truncate(&b, 5);
    ck_assert_int_eq(lt_buf_status(&b), LT_OK);
    ck_assert_str_eq(b.ptr, "hello");
    ck_assert_int_eq(lt_buf_appends(&b, "-42ab"), LT_OK);
    ck_assert_uint_eq(b.len, 10);
    ck_assert_int_eq(lt_buf_appendc(&b, 'c'), LT_ERR_TOO_BIG);
    lt_buf_reset(&b);
    ck_assert_int_eq(lt_buf_status(&b), LT_OK);
    ck_assert_int_eq(lt_buf_appends(&b, "again"), LT_OK);
    ck_assert_str_eq(b.ptr, "again");
    lt_buf_cleanup(&b);
    lt_buf_cleanup(NULL);
}
END_TEST

START_TEST(test_buf_stack_then_heap)
{
    char mem[8];
    lt_buf b;
    char *s;

    lt_buf_init_on(&b, mem, sizeof(mem), 1000);
    ck_assert_int_eq(lt_buf_appends(&b, "abc"), LT_OK);
    ck_assert_ptr_eq(b.ptr, mem);
    ck_assert(!b.owned);
    ck_assert_int_eq(lt_buf_appends(&b, "defghijkl"), LT_OK);
    ck_assert_ptr_ne(b.ptr, mem);
    ck_assert(b.owned);
    ck_assert_str_eq(b.ptr, "abcdefghijkl");
    s = lt_buf_take(&b);
    ck_assert_str_eq(s, "abcdefghijkl");
    ck_assert_uint_eq(b.len, 0);
    lt_free(s);
    lt_buf_reset(&b);
    lt_buf_cleanup(&b);
}
END_TEST

/* A text built as a plain sequence: one status check at the end sees the first error. */
START_TEST(test_buf_sticky_sequence)
{
    lt_buf b;

    lt_buf_init(&b, 8);
    LT_IGNORE(lt_buf_appends(&b, "{\"a\":"));
    LT_IGNORE(lt_buf_appendf(&b, "%d", 123456)); /* does not fit */
    LT_IGNORE(lt_buf_appendc(&b, '}'));          /* would fit, must not land */
    ck_assert_int_eq(lt_buf_status(&b), LT_ERR_TOO_BIG);
    ck_assert_str_eq(b.ptr, "{\"a\":");
    lt_buf_cleanup(&b);
    ck_assert_int_eq(lt_buf_status(&b), LT_OK);
}
END_TEST

START_TEST(test_buf_json_str)
{
    static const char raw[] = "a\"b\\c\nd\re\tf\x01g\x1fh\x7f\xc3\xa9\b\f";
    lt_buf b;

    lt_buf_init(&b, 1000);
    ck_assert_int_eq(lt_buf_json_str(&b, raw), LT_OK);
    ck_assert_str_eq(b.ptr, "\"a\\\"b\\\\c\\nd\\re\\tf\\u0001g\\u001fh\x7f\xc3\xa9\\b\\f\"");
    lt_buf_reset(&b);
    ck_assert_int_eq(lt_buf_json_str(&b, NULL), LT_OK);
    ck_assert_str_eq(b.ptr, "\"\"");
    lt_buf_reset(&b);
    /* embedded NUL with an explicit length, no quotes */
    ck_assert_int_eq(lt_buf_json_escape(&b, "x\0y", 3), LT_OK);
    ck_assert_str_eq(b.ptr, "x\\u0000y");
    lt_buf_cleanup(&b);
    /* too long: error, the part before stays */
    lt_buf_init(&b, 6);
    ck_assert_int_eq(lt_buf_json_str(&b, "abc\ndef"), LT_ERR_TOO_BIG);
    ck_assert_str_eq(b.ptr, "\"abc\\n");
    lt_buf_cleanup(&b);
}
END_TEST

START_TEST(test_str_eq)
{
    lt_str s = { "hello world", 5 };

    ck_assert(lt_str_eq(s, "hello"));
    ck_assert(!lt_str_eq(s, "hello world"));
    ck_assert(lt_str_eq(LT_STR("x"), "x"));
}
END_TEST

START_TEST(test_status_texts)
{
    ck_assert_str_eq(lt_status_name(LT_ERR_TIMEOUT), "ERR_TIMEOUT");
    ck_assert_str_eq(lt_status_str(LT_ERR_TIMEOUT), "timed out");
    ck_assert_str_eq(lt_status_str(LT_OK), "success");
    ck_assert_str_eq(lt_status_name((lt_status)999), "UNKNOWN");
    for (int i = 0; i < LT_STATUS_COUNT_; i++)
        ck_assert_ptr_nonnull(lt_status_str((lt_status)i));
}
END_TEST

START_TEST(test_error_origin)
{
    lt_status st;

    lt_error_clear();
    ck_assert_str_eq(lt_error_message(), "");
    st = LT_FAIL(LT_ERR_PARSE, "bad %s at %d", "token", 7);
    ck_assert_int_eq(st, LT_ERR_PARSE);
    ck_assert_str_eq(lt_error_message(), "bad token at 7");
    ck_assert_ptr_nonnull(strstr(lt_error_origin(), "test_core.c:"));
    ck_assert_ptr_nonnull(strstr(lt_error_origin(), "test_error_origin"));
    /* a message that wraps the previous one (formatting must not read what it overwrites) */
    LT_FAIL(LT_ERR_AMBIGUOUS, "outer (%s), again (%s)", lt_error_message(), lt_error_message());
    ck_assert_str_eq(lt_error_message(), "outer (bad token at 7), again (bad token at 7)");
}
END_TEST

START_TEST(test_log_levels)
{
    lt_log_level l;

    ck_assert_int_eq(lt_log_level_parse("debug", &l), LT_OK);
    ck_assert_int_eq(l, LT_LOG_DEBUG);
    ck_assert_int_eq(lt_log_level_parse("warning", &l), LT_OK);
    ck_assert_int_eq(l, LT_LOG_WARN);
    ck_assert_int_eq(lt_log_level_parse("loud", &l), LT_ERR_INVALID);
    lt_log_configure(LT_LOG_WARN, false);
    ck_assert(!lt_log_enabled(LT_LOG_INFO));
    ck_assert(lt_log_enabled(LT_LOG_ERROR));
    lt_log_configure(LT_LOG_INFO, false);
}
END_TEST

/* An allocator that fails every call after `budget` successes. */
static int budget;
static void *fail_malloc(size_t n)
{
    return budget-- > 0 ? malloc(n) : NULL;
}
static void *fail_calloc(size_t n, size_t s)
{
    return budget-- > 0 ? calloc(n, s) : NULL;
}
static void *fail_realloc(void *p, size_t n)
{
    return budget-- > 0 ? realloc(p, n) : NULL;
}

START_TEST(test_alloc_failure_injection)
{
    lt_allocator a = { fail_malloc, fail_calloc, fail_realloc, free };
    lt_buf b;

    budget = 0;
    lt_alloc_set(&a);
    lt_buf_init(&b, 100);
    ck_assert_int_eq(lt_buf_appends(&b, "abc"), LT_ERR_NOMEM);
    ck_assert_str_eq(b.ptr, "");
    ck_assert_ptr_null(lt_strdup("x"));
    budget = 1;
    ck_assert_int_eq(lt_buf_appends(&b, "abc"), LT_ERR_NOMEM); /* sticky */
    lt_buf_reset(&b);
    ck_assert_int_eq(lt_buf_appends(&b, "abc"), LT_OK);
    lt_alloc_set(NULL);
    lt_buf_cleanup(&b);
}
END_TEST

START_TEST(test_utf8_strict)
{
    char scrub[] = "ok\xff\xc3\xa9\xed\xa0\x80!";

    ck_assert(lt_utf8_valid("plain", 5));
    ck_assert(lt_utf8_valid("\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80", 9)); /* é € 😀 */
    ck_assert(!lt_utf8_valid("\xc0\xaf", 2));                            /* overlong '/' */
    ck_assert(!lt_utf8_valid("\xed\xa0\x80", 3));                        /* surrogate U+D800 */
    ck_assert(!lt_utf8_valid("\xf4\x90\x80\x80", 4));                    /* above U+10FFFF */
    ck_assert(!lt_utf8_valid("\xe2\x82", 2));                            /* truncated */
    ck_assert_uint_eq(lt_utf8_seq((const unsigned char *)"\xe2\x82\xac", 3), 3);
    lt_utf8_scrub(scrub, strlen(scrub));
    ck_assert_str_eq(scrub, "ok?\xc3\xa9???"
                            "!");
}
END_TEST

static Suite *core_suite(void)
{
    Suite *s = suite_create("core");

    lt_test_tcase(s, "core", 0,
                  (const TTest *const[]){ test_buf_append_and_limit, test_buf_stack_then_heap,
                                          test_buf_sticky_sequence, test_buf_json_str, test_str_eq,
                                          test_status_texts, test_error_origin, test_log_levels,
                                          test_alloc_failure_injection, test_utf8_strict, NULL });
    return s;
}

int main(void)
{
    return lt_test_run_suite(core_suite());
}
