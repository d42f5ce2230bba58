/*
 * test_opts.c - option tables: defaults < config file < environment < argv,
 * type checks with the origin named, help generated from the table, and the
 * "did you mean" suggestions (edit distance) for mistyped options and commands.
 */
#include <check.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lt_alloc.h"
#include "lt_opts.h"
#include "lt_testutil.h"

typedef struct {
    bool flag;
    const char *url;
    const char *config;
    int64_t count;
} cfg_t;

/* Option tables: one option per row. */
/* clang-format off */
static const lt_opt opts[] = {
    { "flag", 'f', "TOPT_FLAG", LT_OPT_FLAG, NULL, NULL, "a flag", offsetof(cfg_t, flag), 0, 0 },
    { "url", 'u', "TOPT_URL", LT_OPT_STRING, "URL", "nats://default", "a url",
      offsetof(cfg_t, url), 0, 0 },
    { "config", 'c', "TOPT_CONFIG", LT_OPT_STRING, "FILE", NULL, "config",
      offsetof(cfg_t, config), 0, 0 },
    { "count", 0, "TOPT_COUNT", LT_OPT_INT, "N", "3", "a count", offsetof(cfg_t, count), 1, 10 },
};
/* clang-format on */

static const lt_opts_spec spec = { "t", "t [OPTIONS]", "test", opts, 4, "config" };

static lt_status parse(cfg_t *c, int argc, char **argv, int *first, char **text)
{
    memset(c, 0, sizeof(*c));
    return lt_opts_parse(&spec, c, argc, argv, first, text);
}

static void clear_env(void)
{
    unsetenv("TOPT_FLAG");
    unsetenv("TOPT_URL");
    unsetenv("TOPT_CONFIG");
    unsetenv("TOPT_COUNT");
}

START_TEST(test_opts_defaults_and_argv)
{
    char *argv[] = { "t", "--url", "nats://x", "-f", "--count=7", "pos", NULL };
    cfg_t c;
    char *text;
    int first;

    clear_env();
    ck_assert_int_eq(parse(&c, 1, argv, &first, &text), LT_OK);
    ck_assert_str_eq(c.url, "nats://default");
    ck_assert_int_eq(c.count, 3);
    ck_assert(!c.flag);
    ck_assert_int_eq(parse(&c, 6, argv, &first, &text), LT_OK);
    ck_assert_str_eq(c.url, "nats://x");
    ck_assert(c.flag);
    ck_assert_int_eq(c.count, 7);
    ck_assert_int_eq(first, 5);
    ck_assert_str_eq(argv[first], "pos");
}
END_TEST

START_TEST(test_opts_precedence)
{
    char path[] = "/tmp/lt-opts-XXXXXX";
    int fd = mkstemp(path);
    const char *body = "# comment\nurl = \"nats://file\"\ncount: 5\nflag = yes\n";
    char *argv[] = { "t", "--config", path, "--count", "9", NULL };
    cfg_t c;
    char *text;
    int first;

    ck_assert_int_ge(fd, 0);
    ck_assert_int_eq(write(fd, body, strlen(body)), (ssize_t)strlen(body));
    close(fd);
    clear_env();
    ck_assert_int_eq(parse(&c, 3, argv, &first, &text), LT_OK);
    ck_assert_str_eq(c.url, "nats://file");
    ck_assert_int_eq(c.count, 5);
    ck_assert(c.flag);
    lt_free(text);
    setenv("TOPT_URL", "nats://env", 1);
    setenv("TOPT_FLAG", "false", 1);
    ck_assert_int_eq(parse(&c, 5, argv, &first, &text), LT_OK);
    ck_assert_str_eq(c.url, "nats://env"); /* env beats file */
    ck_assert(!c.flag);
    ck_assert_int_eq(c.count, 9); /* argv beats file */
    lt_free(text);
    clear_env();
    unlink(path);
}
END_TEST

START_TEST(test_opts_errors_name_origin)
{
    char *bad_int[] = { "t", "--count", "11", NULL };
    char *unknown[] = { "t", "--nope", NULL };
    char *missing[] = { "t", "--url", NULL };
    char *nofile[] = { "t", "--config", "/nonexistent/x.conf", NULL };
    cfg_t c;
    char *text;
    int first;

    clear_env();
    ck_assert_int_eq(parse(&c, 3, bad_int, &first, &text), LT_ERR_INVALID);
    ck_assert_ptr_nonnull(strstr(lt_error_message(), "--count expects an integer from 1 to 10"));
    ck_assert_int_eq(parse(&c, 2, unknown, &first, &text), LT_ERR_INVALID);
    ck_assert_ptr_nonnull(strstr(lt_error_message(), "unknown option '--nope'"));
    ck_assert_int_eq(parse(&c, 2, missing, &first, &text), LT_ERR_INVALID);
    ck_assert_ptr_nonnull(strstr(lt_error_message(), "--url needs a value"));
    ck_assert_int_eq(parse(&c, 3, nofile, &first, &text), LT_ERR_IO);
    setenv("TOPT_COUNT", "abc", 1);
    ck_assert_int_eq(parse(&c, 1, unknown, &first, &text), LT_ERR_INVALID);
    ck_assert_ptr_nonnull(strstr(lt_error_message(), "environment TOPT_COUNT"));
    clear_env();
}
END_TEST

START_TEST(test_opts_help_from_table)
{
    char *out = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&out, &len);

    lt_opts_help(&spec, f);
    fclose(f);
    ck_assert_ptr_nonnull(strstr(out, "-u, --url URL"));
    ck_assert_ptr_nonnull(strstr(out, "[default: nats://default] [env: TOPT_URL]"));
    ck_assert_ptr_nonnull(strstr(out, "--count N"));
    free(out);
}
END_TEST

START_TEST(test_opts_distance)
{
    char long_word[LT_OPTS_WORD_MAX + 2];

    ck_assert_uint_eq(lt_opts_distance("", ""), 0);
    ck_assert_uint_eq(lt_opts_distance("status", "status"), 0);
    ck_assert_uint_eq(lt_opts_distance("", "abc"), 3);
    ck_assert_uint_eq(lt_opts_distance("abc", ""), 3);
    ck_assert_uint_eq(lt_opts_distance("stauts", "status"), 1); /* one transposition */
    ck_assert_uint_eq(lt_opts_distance("nats-ulr", "nats-url"), 1);
    ck_assert_uint_eq(lt_opts_distance("lst", "list"), 1);       /* insertion */
    ck_assert_uint_eq(lt_opts_distance("listt", "list"), 1);     /* deletion */
    ck_assert_uint_eq(lt_opts_distance("lisp", "list"), 1);      /* substitution */
    ck_assert_uint_eq(lt_opts_distance("kitten", "sitting"), 3); /* the textbook pair */
    ck_assert_uint_eq(lt_opts_distance("ca", "abc"), 3);         /* OSA, not full Damerau (2) */
    ck_assert_uint_eq(lt_opts_distance("hsost", "hosts"), 2);
    memset(long_word, 'a', sizeof(long_word) - 1);
    long_word[sizeof(long_word) - 1] = '\0';
    ck_assert_uint_eq(lt_opts_distance(long_word, "a"), SIZE_MAX);
    long_word[LT_OPTS_WORD_MAX] = '\0'; /* exactly the limit: compared */
    ck_assert_uint_eq(lt_opts_distance(long_word, long_word), 0);
}
END_TEST

START_TEST(test_opts_suggest)
{
    const char *cmds[] = { "validate", "apply", "put", "get", "list", "status", "hosts", "help" };
    const size_t n = sizeof(cmds) / sizeof(cmds[0]);

    ck_assert_str_eq(lt_opts_suggest("stauts", cmds, n), "status");
    ck_assert_str_eq(lt_opts_suggest("aplpy", cmds, n), "apply");
    ck_assert_str_eq(lt_opts_suggest("hsost", cmds, n), "hosts"); /* distance 2 still offered */
    ck_assert_str_eq(lt_opts_suggest("gte", cmds, n), "get");
    ck_assert_ptr_null(lt_opts_suggest("status", cmds, n)); /* a known word */
    ck_assert_ptr_null(lt_opts_suggest("xyzzy", cmds, n));  /* nothing close */
    ck_assert_ptr_null(lt_opts_suggest("vldte", cmds, n));  /* distance 3 */
    ck_assert_ptr_null(lt_opts_suggest("x", cmds, n));      /* not shorter than the word */
    ck_assert_ptr_null(lt_opts_suggest("stauts", cmds, 0));
    ck_assert_str_eq(lt_opts_suggest("gut", cmds, n), "put"); /* a tie: the first of put, get */
}
END_TEST

START_TEST(test_opts_unknown_suggests)
{
    char *typo[] = { "t", "--cuont", "4", NULL };
    char *typo_eq[] = { "t", "--ulr=x", NULL };
    char *far[] = { "t", "--zzzzzz", NULL };
    char path[] = "/tmp/lt-opts-XXXXXX";
    int fd = mkstemp(path);
    const char *body = "flga = true\n";
    char *withconf[] = { "t", "--config", path, NULL };
    cfg_t c;
    char *text = NULL;
    int first;

    clear_env();
    ck_assert_int_eq(parse(&c, 3, typo, &first, &text), LT_ERR_INVALID);
    ck_assert_str_eq(lt_error_message(),
                     "unknown option '--cuont'. Did you mean '--count'? (see --help)");
    ck_assert_int_eq(parse(&c, 2, typo_eq, &first, &text), LT_ERR_INVALID);
    ck_assert_str_eq(lt_error_message(),
                     "unknown option '--ulr=x'. Did you mean '--url'? (see --help)");
    ck_assert_int_eq(parse(&c, 2, far, &first, &text), LT_ERR_INVALID);
    ck_assert_str_eq(lt_error_message(), "unknown option '--zzzzzz' (see --help)");
    /* The config file's keys get the same hint, without dashes. */
    ck_assert_int_ge(fd, 0);
    ck_assert_int_eq(write(fd, body, strlen(body)), (ssize_t)strlen(body));
    close(fd);
    ck_assert_int_eq(parse(&c, 3, withconf, &first, &text), LT_ERR_INVALID);
    ck_assert_ptr_nonnull(
        strstr(lt_error_message(), "unknown option 'flga'. Did you mean 'flag'?"));
    lt_free(text);
    unlink(path);
}
END_TEST

static Suite *opts_suite(void)
{
    Suite *s = suite_create("opts");

    lt_test_tcase(s, "opts", 0,
                  (const TTest *const[]){ test_opts_defaults_and_argv, test_opts_precedence,
                                          test_opts_errors_name_origin, test_opts_help_from_table,
                                          test_opts_distance, test_opts_suggest,
                                          test_opts_unknown_suggests, NULL });
    return s;
}

int main(void)
{
    return lt_test_run_suite(opts_suite());
}
