/*
 * test_shim.c - the LD_PRELOAD fault shim, preloaded into a real process
 * (shim_probe) talking to a real nats-server: a `fail` rule fires on the
 * matching key only and stops after its count, `lost_reply` performs the
 * write yet reports a timeout, `skip` lets the first calls through, `delay`
 * delays, an `onfile` rule is armed only while its file exists, every fired
 * rule is logged, and without LT_SHIM nothing changes.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lt_alloc.h"
#include "lt_natsrv.h"
#include "lt_shimctl.h"
#include "lt_testutil.h"

static lt_natsrv *srv;
static char *dir;
static char log_path[1024], flag_path[1024];

static void setup(void)
{
    ck_assert_int_eq(lt_natsrv_start(&srv, NULL), LT_OK);
    ck_assert_int_eq(lt_test_tmpdir(&dir, "lt-shim"), LT_OK);
    snprintf(log_path, sizeof(log_path), "%s/shim.log", dir);
    snprintf(flag_path, sizeof(flag_path), "%s/armed", dir);
}

static void teardown(void)
{
    ck_assert_int_eq(lt_natsrv_stop(srv), LT_OK);
    LT_IGNORE(lt_test_rmtree(dir));
    lt_free(dir);
    srv = NULL;
}

/* Run the probe with rules (NULL: no shim at all) and ops; its stdout (lt_free). */
static char *probe(const char *rules, const char *const *ops)
{
    const char *argv[32];
    lt_shim_env env;
    lt_test_cmd cmd = { 0 };
    lt_test_cmd_result res;
    size_t n = 0;
    char *out;

    argv[n++] = getenv("LT_SHIM_PROBE");
    argv[n++] = lt_natsrv_url(srv);
    for (size_t i = 0; ops[i] != NULL && n < 31; i++)
        argv[n++] = ops[i];
    argv[n] = NULL;
    lt_shim_env_init(&env, rules ? rules : "", log_path);
    cmd.argv = argv;
    cmd.env = rules ? env.env : NULL;
    cmd.timeout_ms = 60000;
    ck_assert_int_eq(lt_test_run(&cmd, &res), LT_OK);
    if (res.exit_code != 0)
        fprintf(stderr, "probe stderr: %s\n", res.err);
    ck_assert_int_eq(res.exit_code, 0);
    out = res.out;
    res.out = NULL;
    lt_test_cmd_result_cleanup(&res);
    return out;
}

/* Line i (0-based) of out, without its trailing elapsed-ms field. */
static const char *line(const char *out, int i, char *buf, size_t n)
{
    const char *p = out, *nl, *sp;

    for (; i > 0 && p != NULL; i--)
        p = (nl = strchr(p, '\n')) ? nl + 1 : NULL;
    ck_assert_ptr_nonnull(p);
    nl = strchr(p, '\n');
    ck_assert_ptr_nonnull(nl);
    for (sp = nl; sp > p && sp[-1] != ' '; sp--)
        ;
    snprintf(buf, n, "%.*s", (int)(sp - p - 1), p);
    return buf;
}

static long elapsed(const char *out, int i)
{
    const char *p = out, *nl;

    for (; i > 0 && p != NULL; i--)
        p = (nl = strchr(p, '\n')) ? nl + 1 : NULL;
    nl = strchr(p, '\n');
    while (nl > p && nl[-1] != ' ')
        nl--;
    return strtol(nl, NULL, 10);
}

START_TEST(fail_matches_and_counts)
{
    const char *ops[] = { "put:a:1", "put:b:1", "put:a:2", "put:a:3", "get:a", "get:b", NULL };
    char *out = probe("kvStore_Put*:subj=$KV.probe.a:mode=fail:count=2", ops);
    char b[256];

    ck_assert_str_eq(line(out, 0, b, sizeof(b)), "put a Timeout -");
    ck_assert_str_eq(line(out, 1, b, sizeof(b)), "put b OK -");
    ck_assert_str_eq(line(out, 2, b, sizeof(b)), "put a Timeout -");
    ck_assert_str_eq(line(out, 3, b, sizeof(b)), "put a OK -");
    ck_assert_str_eq(line(out, 4, b, sizeof(b)), "get a OK 3");
    ck_assert_str_eq(line(out, 5, b, sizeof(b)), "get b OK 1");
    ck_assert_uint_eq(lt_shim_fired(log_path, "kvStore_PutString"), 2);
    ck_assert_uint_eq(lt_shim_fired(log_path, NULL), 2);
    lt_free(out);
}
END_TEST

START_TEST(lost_reply_writes)
{
    const char *ops[] = { "pub:k:one", "get:k", "last:k", NULL };
    char *out = probe("js_PublishMsg:subj=$KV.probe.*:mode=lost_reply:count=1", ops);
    char b[256];

    ck_assert_str_eq(line(out, 0, b, sizeof(b)), "pub k Timeout -");
    ck_assert_str_eq(line(out, 1, b, sizeof(b)), "get k OK one"); /* it was written */
    ck_assert_str_eq(line(out, 2, b, sizeof(b)), "last k OK one");
    lt_free(out);
}
END_TEST

START_TEST(skip_err_and_delay)
{
    const char *ops[] = { "put:x:1", "get:x", "get:x", "get:x", "last:x", "last:x", NULL };
    char *out = probe("kvStore_Get:mode=fail:err=noresp:skip=1:count=1;"
                      "js_GetLastMsg:mode=delay=400:count=1",
                      ops);
    char b[256];

    ck_assert_str_eq(line(out, 1, b, sizeof(b)), "get x OK 1");
    ck_assert_str_eq(line(out, 2, b, sizeof(b)), "get x No responders available for request -");
    ck_assert_str_eq(line(out, 3, b, sizeof(b)), "get x OK 1");
    ck_assert_str_eq(line(out, 4, b, sizeof(b)), "last x OK 1");
    ck_assert_int_ge(elapsed(out, 4), 400);
    ck_assert_str_eq(line(out, 5, b, sizeof(b)), "last x OK 1");
    lt_free(out);
}
END_TEST

START_TEST(onfile_switches)
{
    char touch[1100], rm[1100], rules[1200];
    const char *ops[] = { "put:f:1", touch, "get:f", "get:f", rm, "get:f", NULL };
    char *out;
    char b[256];

    snprintf(touch, sizeof(touch), "touch:%s", flag_path);
    snprintf(rm, sizeof(rm), "rm:%s", flag_path);
    snprintf(rules, sizeof(rules), "kvStore_Get:mode=fail:onfile=%s", flag_path);
    out = probe(rules, ops);
    ck_assert_str_eq(line(out, 0, b, sizeof(b)), "put f OK -");
    ck_assert_str_eq(line(out, 1, b, sizeof(b)), "get f Timeout -");
    ck_assert_str_eq(line(out, 2, b, sizeof(b)), "get f Timeout -");
    ck_assert_str_eq(line(out, 3, b, sizeof(b)), "get f OK 1");
    ck_assert_uint_eq(lt_shim_fired(log_path, "kvStore_Get"), 2);
    lt_free(out);
}
END_TEST

/* touch= arms the onfile rules of its file: "after this reply is lost, reads fail". */
START_TEST(touch_arms_onfile)
{
    char rules[2400];
    const char *ops[] = { "get:t", "pub:t:1", "get:t", "get:t", NULL };
    char *out;
    char b[256];

    snprintf(rules, sizeof(rules),
             "js_PublishMsg:mode=lost_reply:count=1:touch=%s;kvStore_Get:mode=fail:onfile=%s",
             flag_path, flag_path);
    out = probe(rules, ops);
    ck_assert_str_eq(line(out, 0, b, sizeof(b)), "get t Not Found -"); /* not armed yet */
    ck_assert_str_eq(line(out, 1, b, sizeof(b)), "pub t Timeout -");
    ck_assert_str_eq(line(out, 2, b, sizeof(b)), "get t Timeout -");
    ck_assert_str_eq(line(out, 3, b, sizeof(b)), "get t Timeout -");
    ck_assert_uint_eq(lt_shim_fired(log_path, "kvStore_Get"), 2);
    lt_free(out);
}
END_TEST

START_TEST(no_rules_pass_through)
{
    const char *ops[] = { "put:p:1", "get:p", "pub:p:2", "last:p", NULL };
    char *out = probe(NULL, ops);
    char b[256];

    ck_assert_str_eq(line(out, 1, b, sizeof(b)), "get p OK 1");
    ck_assert_str_eq(line(out, 2, b, sizeof(b)), "pub p OK -");
    ck_assert_str_eq(line(out, 3, b, sizeof(b)), "last p OK 2");
    lt_free(out);
    out = probe("natsConnection_Request:subj=no.such.subject:mode=fail", ops);
    ck_assert_str_eq(line(out, 3, b, sizeof(b)), "last p OK 2");
    ck_assert_uint_eq(lt_shim_fired(log_path, NULL), 0);
    lt_free(out);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("shim");
    TCase *tc;

    if (getenv("LT_SHIM_PROBE") == NULL) {
        fprintf(stderr, "LT_SHIM_PROBE is not set (meson test sets it)\n");
        return EXIT_FAILURE;
    }
    tc = lt_test_tcase(s, "preloaded", 120,
                       (const TTest *const[]){ fail_matches_and_counts, lost_reply_writes,
                                               skip_err_and_delay, onfile_switches,
                                               touch_arms_onfile, no_rules_pass_through, NULL });
    tcase_add_checked_fixture(tc, setup, teardown);
    return lt_test_run_suite(s);
}
