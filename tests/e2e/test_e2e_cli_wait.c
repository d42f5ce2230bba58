/*
 * test_e2e_cli_wait.c - latticectl waiting on rollouts, against real processes
 * (nats-server, latticed, simulated latticed-hosts) and the project's manifests
 * (manifests/wait-*.yaml):
 *  - `apply --wait` returns 0 only once the APPLIED version is deployed (right after it
 *    exits, model.status shows that version deployed at its count, also on an upgrade while
 *    the previous version is deployed), printing one timestamped line per change;
 *  - `status --wait-for deployed|undeployed` with -o jsonpath, and a context that gives the
 *    URL and the lattice;
 *  - rollouts that cannot finish: with no hosts `apply --wait --wait-timeout` exits 1 in
 *    about that time, saying what it still is; an unsatisfiable spread ends the wait at once
 *    with exit 1 and the reasons ("failed"); a bad duration is a usage error;
 *  - `status --watch` prints each change with an RFC 3339 UTC time.
 */
#include <check.h>
#include <ctype.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "e2e.h"
#include "lt_alloc.h"
#include "lt_fs.h"
#include "lt_testutil.h"

#define L "default"

/* Run latticectl (e2e_ctl: this lattice's URL and lattice in the environment). */
static void ctl(e2e *e, lt_test_cmd_result *r, const char *const *args)
{
    e2e_ctl(e, L, r, args);
}

/* model.status of app: its status type and latticed.version / running into the buffers. */
static void api_status(e2e *e, const char *app, char *type, char *version, long long *running)
{
    json_t *rep = e2e_api(e, L, "status", app, NULL, 0);
    json_t *st = json_object_get(rep, "status");
    json_t *ld = json_object_get(st, "latticed");
    const char *t = json_string_value(json_object_get(json_object_get(st, "status"), "type"));
    const char *v = json_string_value(json_object_get(ld, "version"));

    snprintf(type, 32, "%s", t != NULL ? t : "");
    snprintf(version, 32, "%s", v != NULL ? v : "");
    *running = json_integer_value(json_object_get(ld, "running"));
    json_decref(rep);
}

static bool api_up(e2e *e, void *arg)
{
    json_t *rep = e2e_api_try(e, L, "list", NULL, NULL, 0, 2000);

    (void)arg;
    json_decref(rep);
    return rep != NULL;
}

/* latticed answering on this lattice, n simulated hosts (extra: their options, may be NULL). */
static void start(e2e *e, const char *prefix, int n, const char *const *extra)
{
    e2e_observe(e, L);
    e2e_hosts(e, L, prefix, n, NULL, extra);
    e2e_latticed(e, NULL);
    ck_assert_msg(e2e_wait(e, api_up, NULL, 30000), "latticed's API never answered");
}

/* Whether text has a line "YYYY-MM-DDTHH:MM:SS.mmmZ <rest...>" with rest containing needle. */
static bool has_stamped_line(const char *text, const char *needle)
{
    for (const char *l = text; l != NULL && *l; l = strchr(l, '\n') ? strchr(l, '\n') + 1 : NULL) {
        size_t n = strcspn(l, "\n");
        char *line = lt_strndup(l, n);
        bool ok = n > 25 && isdigit((unsigned char)line[0]) && line[4] == '-' && line[10] == 'T' &&
                  line[13] == ':' && line[19] == '.' && line[23] == 'Z' && line[24] == ' ' &&
                  strstr(line + 25, needle) != NULL;

        lt_free(line);
        if (ok)
            return true;
    }
    return false;
}

/* The last line of text (a static copy). */
static const char *last_line(const char *text)
{
    static char line[1024];
    size_t n = strlen(text), start;

    while (n > 0 && text[n - 1] == '\n')
        n--;
    start = n;
    while (start > 0 && text[start - 1] != '\n')
        start--;
    snprintf(line, sizeof(line), "%.*s", (int)(n - start), text + start);
    return line;
}

/* ---- apply --wait, status --wait-for, jsonpath, a context --------------------------------- */

START_TEST(test_apply_wait_waits_for_the_applied_version)
{
    e2e *e = e2e_new();
    lt_test_cmd_result r;
    char type[32], version[32], path[600], cfg_env[700], *dir = NULL;
    long long running;

    /* slow hosts (every reply 1.5 s late): a rollout takes a while, so an early end shows */
    start(e, "hw", 2, (const char *[]){ "--reply-delay-ms", "1500", NULL });
    /* v1: exit 0 once v1 runs 2/2, one timestamped line per change on stdout (not a tty) */
    ctl(e, &r,
        (const char *[]){ "apply", "-f", e2e_manifest("wait-v1.yaml"), "--wait", "--wait-timeout",
                          "90s", NULL });
    ck_assert_msg(r.exit_code == 0, "apply --wait v1: exit %d\n%s%s", r.exit_code, r.out, r.err);
    api_status(e, "wait", type, version, &running);
    ck_assert_msg(strcmp(type, "deployed") == 0 && strcmp(version, "v1") == 0 && running == 2,
                  "after apply --wait v1: %s %s %lld running\n%s", type, version, running, r.out);
    ck_assert_msg(has_stamped_line(last_line(r.out), "wait deployed (version v1, 2/2 running)"),
                  "%s", r.out);
    lt_test_cmd_result_cleanup(&r);
    /* v2 while v1 is deployed: v1's "deployed" must not end the wait */
    ctl(e, &r,
        (const char *[]){ "apply", "-f", e2e_manifest("wait-v2.yaml"), "--wait", "-o", "json",
                          NULL });
    ck_assert_msg(r.exit_code == 0, "apply --wait v2: exit %d\n%s%s", r.exit_code, r.out, r.err);
    api_status(e, "wait", type, version, &running);
    ck_assert_msg(strcmp(type, "deployed") == 0 && strcmp(version, "v2") == 0 && running == 3,
                  "after apply --wait v2: %s %s %lld running\n%s", type, version, running, r.err);
    /* -o json: stdout is the apply reply alone, the progress went to stderr */
    ck_assert_msg(r.out[0] == '{' && strstr(r.out, "\"version\":\"v2\"") != NULL &&
                      strchr(r.out, '\n') == r.out + strlen(r.out) - 1,
                  "%s", r.out);
    /* what ended the wait: the applied version deployed, the last line of the progress */
    ck_assert_msg(has_stamped_line(last_line(r.err), "wait deployed (version v2, 3/3 running)"),
                  "%s", r.err);
    lt_test_cmd_result_cleanup(&r);
    /* status --wait-for deployed with a JSONPath of the final status */
    ctl(e, &r,
        (const char *[]){ "status", "wait", "--wait-for", "deployed", "-o",
                          "jsonpath={.latticed.version}/{.latticed.running}", NULL });
    ck_assert_msg(r.exit_code == 0, "exit %d: %s", r.exit_code, r.err);
    ck_assert_str_eq(r.out, "v2/3");
    lt_test_cmd_result_cleanup(&r);
    /* -o jsonpath on a command that is not an API reply (the scheduler's host list) */
    ctl(e, &r, (const char *[]){ "hosts", "-o", "jsonpath={.hosts[*].state}", NULL });
    ck_assert_msg(r.exit_code == 0 && strcmp(r.out, "alive alive") == 0, "exit %d: %s%s",
                  r.exit_code, r.out, r.err);
    lt_test_cmd_result_cleanup(&r);
    /* a context gives the URL and the lattice; another lattice does not show the app */
    ck_assert_int_eq(lt_fs_tmpdir(&dir, "ctlwait"), LT_OK);
    snprintf(path, sizeof(path), "%s/config.yaml", dir);
    {
        char text[1024];
        lt_test_cmd cmd = { .env = (const char *[]){ cfg_env, NULL }, .timeout_ms = 30000 };

        snprintf(text, sizeof(text),
                 "current-context: here\ncontexts:\n  - name: here\n    nats-url: %s\n"
                 "    lattice: " L "\n  - name: there\n    nats-url: %s\n    lattice: nowhere\n",
                 e2e_url(e), e2e_url(e));
        ck_assert_int_eq(lt_test_write_file(path, text, strlen(text)), LT_OK);
        snprintf(cfg_env, sizeof(cfg_env), "LATTICE_CONFIG=%s", path);
        cmd.argv = (const char *[]){ getenv("LATTICECTL_BIN"), "get", "-o",
                                     "jsonpath={.models[*].name}", NULL };
        ck_assert_int_eq(lt_test_run(&cmd, &r), LT_OK);
        ck_assert_msg(r.exit_code == 0 && strcmp(r.out, "wait") == 0, "exit %d: %s%s", r.exit_code,
                      r.out, r.err);
        lt_test_cmd_result_cleanup(&r);
        cmd.argv =
            (const char *[]){ getenv("LATTICECTL_BIN"),     "get", "--context", "there", "-o",
                              "jsonpath={.models[*].name}", "-t",  "3",         NULL };
        ck_assert_int_eq(lt_test_run(&cmd, &r), LT_OK);
        ck_assert_msg(strstr(r.out, "wait") == NULL, "lattice nowhere lists: %s", r.out);
        lt_test_cmd_result_cleanup(&r);
    }
    LT_IGNORE(lt_fs_rmtree(dir));
    lt_free(dir);
    /* undeploy, then wait for undeployed */
    ctl(e, &r, (const char *[]){ "undeploy", "wait", NULL });
    ck_assert_int_eq(r.exit_code, 0);
    lt_test_cmd_result_cleanup(&r);
    ctl(e, &r, (const char *[]){ "status", "wait", "--wait-for", "undeployed", NULL });
    ck_assert_msg(r.exit_code == 0, "exit %d: %s%s", r.exit_code, r.out, r.err);
    ck_assert_msg(has_stamped_line(r.out, "wait undeployed"), "%s", r.out);
    lt_test_cmd_result_cleanup(&r);
    api_status(e, "wait", type, version, &running);
    ck_assert_str_eq(type, "undeployed");
    e2e_free(e);
}
END_TEST

/* ---- rollouts that cannot finish: timeout, failed ----------------------------------------- */

START_TEST(test_wait_timeout_and_failed)
{
    e2e *e = e2e_new();
    lt_test_cmd_result r;
    int64_t t0, took;

    /* no hosts yet: the app stays "waiting" */
    e2e_observe(e, L);
    e2e_latticed(e, NULL);
    ck_assert_msg(e2e_wait(e, api_up, NULL, 30000), "latticed's API never answered");
    ctl(e, &r,
        (const char *[]){ "apply", "-f", e2e_manifest("wait-v1.yaml"), "--wait", "--wait-timeout",
                          "x5", NULL });
    ck_assert_int_eq(r.exit_code, 2);
    ck_assert_ptr_nonnull(strstr(r.err, "--wait-timeout wants a duration"));
    lt_test_cmd_result_cleanup(&r);
    t0 = e2e_now_ms();
    ctl(e, &r,
        (const char *[]){ "apply", "-f", e2e_manifest("wait-v1.yaml"), "--wait", "--wait-timeout",
                          "3s", NULL });
    took = e2e_now_ms() - t0;
    ck_assert_msg(r.exit_code == 1 && took >= 2500 && took < 25000, "exit %d in %lld ms\n%s%s",
                  r.exit_code, (long long)took, r.out, r.err);
    ck_assert_msg(strstr(r.err, "latticectl: wait is not deployed at version v1 after 3s: still "
                                "waiting") != NULL,
                  "%s", r.err);
    lt_test_cmd_result_cleanup(&r);
    /* status --wait-for, in plain seconds */
    ctl(e, &r,
        (const char *[]){ "status", "wait", "--wait-for", "deployed", "--wait-timeout", "1",
                          NULL });
    ck_assert_msg(r.exit_code == 1 && strstr(r.err, "wait is not deployed after 1s: still") != NULL,
                  "exit %d: %s", r.exit_code, r.err);
    lt_test_cmd_result_cleanup(&r);
    /* --timeout D is the whole wait too (helm --wait --timeout) without --wait-timeout */
    t0 = e2e_now_ms();
    ctl(e, &r,
        (const char *[]){ "status", "wait", "--wait-for", "deployed", "--timeout", "2s", NULL });
    took = e2e_now_ms() - t0;
    ck_assert_msg(r.exit_code == 1 && took >= 1500 && took < 20000 &&
                      strstr(r.err, "wait is not deployed after 2s: still") != NULL,
                  "exit %d in %lld ms: %s", r.exit_code, (long long)took, r.err);
    lt_test_cmd_result_cleanup(&r);
    ctl(e, &r, (const char *[]){ "status", "wait", "--wait-for", "running", NULL });
    ck_assert_int_eq(r.exit_code, 2);
    lt_test_cmd_result_cleanup(&r);
    /* hosts come: the same wait now ends deployed */
    e2e_hosts(e, L, "hs", 2, NULL, NULL);
    ctl(e, &r, (const char *[]){ "status", "wait", "--wait-for", "deployed", NULL });
    ck_assert_msg(r.exit_code == 0, "exit %d: %s%s", r.exit_code, r.out, r.err);
    lt_test_cmd_result_cleanup(&r);
    /* a spread no host satisfies: "failed" for 10 s (a start in backoff would recover), exit 1
     * with the reasons, without waiting out the 5 minutes */
    t0 = e2e_now_ms();
    ctl(e, &r, (const char *[]){ "apply", "-f", e2e_manifest("wait-stuck.yaml"), "--wait", NULL });
    took = e2e_now_ms() - t0;
    ck_assert_msg(r.exit_code == 1 && took >= 9000 && took < 60000, "exit %d in %lld ms\n%s%s",
                  r.exit_code, (long long)took, r.out, r.err);
    ck_assert_msg(strstr(r.err, "latticectl: waitstuck failed (version s1): Could not satisfy "
                                "spread nowhere") != NULL &&
                      strstr(r.err, "\n  lonely 0/2 failed: ") != NULL,
                  "%s", r.err);
    lt_test_cmd_result_cleanup(&r);
    e2e_free(e);
}
END_TEST

/* ---- status --watch ------------------------------------------------------------------------ */

START_TEST(test_watch_prints_timestamped_changes)
{
    e2e *e = e2e_new();
    pid_t watcher;
    char *log = NULL;
    size_t len = 0;

    start(e, "hv", 2, NULL);
    watcher = e2e_spawn(e, "watch",
                        (const char *[]){ getenv("LATTICECTL_BIN"), "status", "wait", "--watch",
                                          "-s", e2e_url(e), NULL });
    /* the first status (the reply to model.status, asked once subscribed) has its time too */
    ck_assert_msg(e2e_wait_log(e, watcher, "undeployed", 20000), "no first status");
    e2e_deploy_ok(e, L, "wait-v1.yaml");
    ck_assert_msg(e2e_wait_log(e, watcher, "Z deployed", 30000), "no deployed change");
    e2e_kill(e, watcher, SIGINT, true);
    ck_assert_int_eq(lt_fs_read_file(e2e_log_path(e, watcher), 1 << 20, &log, &len), LT_OK);
    ck_assert_msg(has_stamped_line(log, "undeployed") && has_stamped_line(log, "deployed"), "%s",
                  log);
    lt_free(log);
    e2e_free(e);
}
END_TEST

int main(void)
{
    return e2e_run_suite("e2e_cli_wait", 240,
                         (const TTest *const[]){ test_apply_wait_waits_for_the_applied_version,
                                                 test_wait_timeout_and_failed,
                                                 test_watch_prints_timestamped_changes, NULL });
}
