/*
 * test_host_unit.c - the pure parts of the reference host, without NATS: the
 * option parsers and label templates, runner mapping (wasmtime for .wasm), and the
 * protocol state machine driven through lt__host_handle with a fake runtime
 * (idempotent start, replace on a new digest, epoch fence, wrong lattice,
 * stop of unknown ids, links, inventory, capacity, JSON bodies) plus the
 * heartbeat encoding and its per-instance cache.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "host_int.h"
#include "lt_alloc.h"
#include "lt_testutil.h"

/* ---- parsers and templates ------------------------------------------------- */

START_TEST(test_tokens_and_ids)
{
    ck_assert(lt__host_token_ok("sim-00001", LT_MAX_TOKEN));
    ck_assert(!lt__host_token_ok("", LT_MAX_TOKEN));
    ck_assert(!lt__host_token_ok("a.b", LT_MAX_TOKEN));
    ck_assert(!lt__host_token_ok("a*", LT_MAX_TOKEN));
    ck_assert(!lt__host_token_ok(">", LT_MAX_TOKEN));
    ck_assert(!lt__host_token_ok("a b", LT_MAX_TOKEN));
    ck_assert(!lt__host_token_ok("abcd", 3));
    ck_assert(lt__host_prefix_ok("lattice"));
    ck_assert(lt__host_prefix_ok("acme.lattice"));
    ck_assert(!lt__host_prefix_ok("acme..lattice"));
    ck_assert(!lt__host_prefix_ok("acme."));
    ck_assert(!lt__host_prefix_ok("a.*"));
    ck_assert(lt__host_id_ok("i-0123abcd"));
    ck_assert(!lt__host_id_ok(".hidden"));
    ck_assert(!lt__host_id_ok("a/b"));
    ck_assert(!lt__host_id_ok(""));
}
END_TEST

START_TEST(test_durations_and_sizes)
{
    int64_t ms;
    uint64_t b;

    ck_assert_int_eq(lt__host_parse_duration_ms("x", "250ms", &ms), LT_OK);
    ck_assert_int_eq(ms, 250);
    ck_assert_int_eq(lt__host_parse_duration_ms("x", "5s", &ms), LT_OK);
    ck_assert_int_eq(ms, 5000);
    ck_assert_int_eq(lt__host_parse_duration_ms("x", "7", &ms), LT_OK);
    ck_assert_int_eq(ms, 7000);
    ck_assert_int_eq(lt__host_parse_duration_ms("x", "2m", &ms), LT_OK);
    ck_assert_int_eq(ms, 120000);
    ck_assert_int_eq(lt__host_parse_duration_ms("x", "5h", &ms), LT_ERR_INVALID);
    ck_assert_int_eq(lt__host_parse_duration_ms("x", "-5s", &ms), LT_ERR_INVALID);
    ck_assert_int_eq(lt__host_parse_duration_ms("x", "", &ms), LT_ERR_INVALID);
    ck_assert_int_eq(lt__host_parse_size("m", "512Mi", &b), LT_OK);
    ck_assert_uint_eq(b, 512ull << 20);
    ck_assert_int_eq(lt__host_parse_size("m", "4G", &b), LT_OK);
    ck_assert_uint_eq(b, 4000000000ull);
    ck_assert_int_eq(lt__host_parse_size("m", "1024", &b), LT_OK);
    ck_assert_uint_eq(b, 1024);
    ck_assert_int_eq(lt__host_parse_size("m", "1Q", &b), LT_ERR_INVALID);
    ck_assert_int_eq(lt__host_parse_size("m", "99999999999999999999Ti", &b), LT_ERR_INVALID);
}
END_TEST

static void expect_expand(const char *tmpl, size_t i, const char *want)
{
    char *out = NULL;

    ck_assert_int_eq(lt__host_label_expand(tmpl, i, "sim-00042", &out), LT_OK);
    ck_assert_str_eq(out, want);
    lt_free(out);
}

START_TEST(test_label_templates)
{
    lt__host_kvs l = { 0 };
    char *out = NULL;

    expect_expand("east", 5, "east");
    expect_expand("z{i%3}", 7, "z1");
    expect_expand("rack-{i/10}", 42, "rack-4");
    expect_expand("{i}", 42, "42");
    expect_expand("{id}", 0, "sim-00042");
    expect_expand("{east|west|moon}", 0, "east");
    expect_expand("{east|west|moon}", 4, "west");
    expect_expand("{east|west|moon}", 5, "moon");
    expect_expand("{{x}}", 1, "{x}");
    ck_assert_int_eq(lt__host_label_expand("{nope}", 1, "h", &out), LT_ERR_INVALID);
    ck_assert_int_eq(lt__host_label_expand("{i%0}", 1, "h", &out), LT_ERR_INVALID);
    ck_assert_int_eq(lt__host_label_expand("{i", 1, "h", &out), LT_ERR_INVALID);
    ck_assert_int_eq(lt__host_label_add(&l, "zone={a|b}", 3, "h"), LT_OK);
    ck_assert_int_eq(lt__host_label_add(&l, "zone=c", 3, "h"), LT_OK); /* replaces */
    ck_assert_int_eq(lt__host_label_add(&l, "novalue", 0, "h"), LT_ERR_INVALID);
    ck_assert_int_eq(lt__host_label_add(&l, "=v", 0, "h"), LT_ERR_INVALID);
    ck_assert_uint_eq(l.n, 1);
    ck_assert_str_eq(lt__host_kvs_get(&l, "zone"), "c");
    lt__host_kvs_cleanup(&l);
}
END_TEST

/* ---- runners ---------------------------------------------------------------- */

START_TEST(test_runner_mapping)
{
    lt__host_runners r = { 0 };
    lt__host_plan plan;
    char msg[512], *dir = NULL, exe[4200], plain[4200], ref[4300];

    ck_assert_int_eq(lt_test_tmpdir(&dir, "lt-host-runner"), LT_OK);
    snprintf(exe, sizeof(exe), "%s/run.sh", dir);
    snprintf(plain, sizeof(plain), "%s/data.txt", dir);
    ck_assert_int_eq(lt_test_write_file(exe, "#!/bin/sh\n", 10), LT_OK);
    ck_assert_int_eq(chmod(exe, 0755), 0);
    ck_assert_int_eq(lt_test_write_file(plain, "x", 1), LT_OK);

    snprintf(ref, sizeof(ref), "file://%s", exe);
    ck_assert_int_eq(lt__host_runner_resolve(&r, ref, &plan, msg, sizeof(msg)), HRC(OK));
    ck_assert_str_eq(plan.path, exe);
    ck_assert_ptr_null(plan.command);
    snprintf(ref, sizeof(ref), "file://%s/missing", dir);
    ck_assert_int_eq(lt__host_runner_resolve(&r, ref, &plan, msg, sizeof(msg)),
                     HRC(IMAGE_PULL_FAILED));
    ck_assert_ptr_nonnull(strstr(msg, "no such file"));
    snprintf(ref, sizeof(ref), "file://%s", plain);
    ck_assert_int_eq(lt__host_runner_resolve(&r, ref, &plan, msg, sizeof(msg)),
                     HRC(IMAGE_PULL_FAILED));
    ck_assert_ptr_nonnull(strstr(msg, "not executable"));
    snprintf(ref, sizeof(ref), "file://%s", dir);
    ck_assert_int_eq(lt__host_runner_resolve(&r, ref, &plan, msg, sizeof(msg)),
                     HRC(IMAGE_PULL_FAILED));
    ck_assert_int_eq(lt__host_runner_resolve(&r, "file://relative/x", &plan, msg, sizeof(msg)),
                     HRC(INVALID));

    /* No runner: OCI refs are refused with a reason. */
    ck_assert_int_eq(lt__host_runner_resolve(&r, "ghcr.io/acme/api:1", &plan, msg, sizeof(msg)),
                     HRC(UNSUPPORTED));
    ck_assert_ptr_nonnull(strstr(msg, "no runner"));
    ck_assert_int_eq(lt__host_runners_add(&r, "ghcr.io/=sleep 100"), LT_OK);
    ck_assert_int_eq(lt__host_runners_add(&r, "ghcr.io/acme/=sleep 200"), LT_OK);
    ck_assert_int_eq(lt__host_runners_add(&r, "noequals"), LT_ERR_INVALID);
    ck_assert_int_eq(lt__host_runners_add(&r, "=cmd"), LT_ERR_INVALID);
    ck_assert_int_eq(lt__host_runner_resolve(&r, "ghcr.io/acme/api:1", &plan, msg, sizeof(msg)),
                     HRC(OK));
    ck_assert_str_eq(plan.command, "sleep 200"); /* longest prefix */
    ck_assert_int_eq(lt__host_runner_resolve(&r, "ghcr.io/other:1", &plan, msg, sizeof(msg)),
                     HRC(OK));
    ck_assert_str_eq(plan.command, "sleep 100");
    ck_assert_int_eq(lt__host_runner_resolve(&r, "docker.io/x", &plan, msg, sizeof(msg)),
                     HRC(UNSUPPORTED));
    r.default_cmd = lt_strdup("sleep infinity");
    ck_assert_int_eq(lt__host_runner_resolve(&r, "docker.io/x", &plan, msg, sizeof(msg)), HRC(OK));
    ck_assert_str_eq(plan.command, "sleep infinity");
    ck_assert_int_eq(lt__host_runner_resolve(&r, "", &plan, msg, sizeof(msg)), HRC(INVALID));

    /* file root and disabling file refs. */
    r.file_root = lt_strdup("/usr");
    snprintf(ref, sizeof(ref), "file://%s", exe);
    ck_assert_int_eq(lt__host_runner_resolve(&r, ref, &plan, msg, sizeof(msg)), HRC(UNSUPPORTED));
    ck_assert_ptr_nonnull(strstr(msg, "outside"));
    lt_free(r.file_root);
    r.file_root = lt_strdup(dir);
    ck_assert_int_eq(lt__host_runner_resolve(&r, ref, &plan, msg, sizeof(msg)), HRC(OK));
    r.no_file = true;
    ck_assert_int_eq(lt__host_runner_resolve(&r, ref, &plan, msg, sizeof(msg)), HRC(UNSUPPORTED));
    lt__host_runners_cleanup(&r);
    ck_assert_int_eq(lt_test_rmtree(dir), LT_OK);
    lt_free(dir);
}
END_TEST

/* A file:// .wasm component runs with the wasmtime on PATH: `serve` when it mentions
 * wasi:http/incoming-handler (also across the scanner's 64 KiB reads), `run` otherwise; without
 * wasmtime, the default runner's stand-in, or a refusal that says why. */
START_TEST(test_runner_wasm)
{
    lt__host_runners r = { 0 };
    lt__host_plan plan;
    char msg[512], *dir = NULL, bin[4200], rt[4300], cli[4300], http[4300], ref[4400];
    char *old_path = getenv("PATH") ? lt_strdup(getenv("PATH")) : NULL;
    static char big[200000];
    const char *needle = "wasi:http/incoming-handler";

    ck_assert_int_eq(lt_test_tmpdir(&dir, "lt-host-wasm"), LT_OK);
    snprintf(bin, sizeof(bin), "%s/bin", dir);
    ck_assert_int_eq(mkdir(bin, 0755), 0);
    snprintf(rt, sizeof(rt), "%s/wasmtime", bin);
    snprintf(cli, sizeof(cli), "%s/cli.wasm", dir);
    snprintf(http, sizeof(http), "%s/http.wasm", dir);
    ck_assert_int_eq(lt_test_write_file(rt, "#!/bin/sh\n", 10), LT_OK);
    ck_assert_int_eq(chmod(rt, 0755), 0);
    ck_assert_int_eq(lt_test_write_file(cli, "\0asm\x0d\0\x01\0wasi:cli/run", 20), LT_OK);
    /* the name straddles the first 64 KiB read */
    memset(big, 'x', sizeof(big));
    memcpy(big + 65550, needle, strlen(needle)); /* 64 KiB + 27 bytes a read */
    ck_assert_int_eq(lt_test_write_file(http, big, sizeof(big)), LT_OK);

    setenv("PATH", bin, 1);
    snprintf(ref, sizeof(ref), "file://%s", cli); /* not executable itself: fine for .wasm */
    ck_assert_int_eq(lt__host_runner_resolve(&r, ref, &plan, msg, sizeof(msg)), HRC(OK));
    ck_assert_str_eq(plan.path, rt);
    ck_assert_str_eq(plan.wasm, cli);
    ck_assert_str_eq(plan.verb, "run");
    ck_assert_ptr_null(plan.command);
    snprintf(ref, sizeof(ref), "file://%s", http);
    ck_assert_int_eq(lt__host_runner_resolve(&r, ref, &plan, msg, sizeof(msg)), HRC(OK));
    ck_assert_str_eq(plan.verb, "serve");
    ck_assert_str_eq(plan.wasm, http);
    snprintf(ref, sizeof(ref), "file://%s/missing.wasm", dir);
    ck_assert_int_eq(lt__host_runner_resolve(&r, ref, &plan, msg, sizeof(msg)),
                     HRC(IMAGE_PULL_FAILED));

    setenv("PATH", dir, 1); /* no wasmtime there */
    snprintf(ref, sizeof(ref), "file://%s", http);
    ck_assert_int_eq(lt__host_runner_resolve(&r, ref, &plan, msg, sizeof(msg)), HRC(UNSUPPORTED));
    ck_assert_msg(strstr(msg, "needs wasmtime on PATH") != NULL, "%s", msg);
    r.default_cmd = lt_strdup("exec sleep 600");
    ck_assert_int_eq(lt__host_runner_resolve(&r, ref, &plan, msg, sizeof(msg)), HRC(OK));
    ck_assert_str_eq(plan.command, "exec sleep 600"); /* the stand-in */
    ck_assert_ptr_null(plan.wasm);
    ck_assert_ptr_null(plan.path);

    if (old_path != NULL)
        setenv("PATH", old_path, 1);
    lt_free(old_path);
    lt__host_runners_cleanup(&r);
    ck_assert_int_eq(lt_test_rmtree(dir), LT_OK);
    lt_free(dir);
}
END_TEST

/* test_host_proto.c: the protocol state machine. */
TCase *proto_tcase(void);

static Suite *host_suite(void)
{
    Suite *s = suite_create("host_unit");

    lt_test_tcase(s, "pure", 0,
                  (const TTest *const[]){ test_tokens_and_ids, test_durations_and_sizes,
                                          test_label_templates, test_runner_mapping,
                                          test_runner_wasm, NULL });
    suite_add_tcase(s, proto_tcase());
    return s;
}

int main(void)
{
    return lt_test_run_suite(host_suite());
}
