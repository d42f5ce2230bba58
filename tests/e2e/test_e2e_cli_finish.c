/*
 * test_e2e_cli_finish.c - latticectl's finishing touches against a real cluster (nats-server,
 * latticed, simulated hosts) and the project's own manifests (tests/e2e/manifests/):
 *  - did-you-mean: a mistyped command or option names the nearest one (exit 2);
 *  - `latticectl __complete apps|versions APP|hosts` prints the names latticed knows, one a
 *    line, and nothing (exit 0, no error) when NATS is unreachable;
 *  - the bash completion script (`latticectl completion bash`), loaded in a real bash with
 *    COMP_WORDS/COMP_CWORD set, completes application names, versions after --version, the
 *    values of -o, and takes the server from `-s URL` on the line.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "e2e.h"
#include "lt_alloc.h"
#include "lt_testutil.h"

#define L "default"

/* latticectl with args (NULL-terminated) and env (NULL-terminated or NULL), no server given. */
static void ctl_plain(lt_test_cmd_result *res, const char *const *args, const char *const *env)
{
    const char *argv[16];
    lt_test_cmd cmd = { .argv = argv, .env = env, .timeout_ms = 30000 };
    size_t n = 0;

    ck_assert_msg(getenv("LATTICECTL_BIN") != NULL, "LATTICECTL_BIN not set");
    argv[n++] = getenv("LATTICECTL_BIN");
    for (size_t i = 0; args[i] != NULL && n < 15; i++)
        argv[n++] = args[i];
    argv[n] = NULL;
    ck_assert_int_eq(lt_test_run(&cmd, res), LT_OK);
}

/* Whether text has line as one whole line. */
static bool has_line(const char *text, const char *line)
{
    size_t n = strlen(line);

    for (const char *p = text; (p = strstr(p, line)) != NULL; p++) {
        if ((p == text || p[-1] == '\n') && (p[n] == '\n' || p[n] == '\0'))
            return true;
    }
    return false;
}

static size_t lines(const char *text)
{
    size_t n = 0;

    for (; *text; text++)
        n += *text == '\n';
    return n;
}

START_TEST(test_did_you_mean)
{
    const char *typo_cmd[] = { "stauts", "hello", NULL };
    const char *typo_opt[] = { "status", "--nats-ulr", "nats://127.0.0.1:1", NULL };
    const char *typo_eq[] = { "status", "hello", "--nats-ulr=nats://127.0.0.1:1", NULL };
    const char *typo_global[] = { "--nats-ulr", "nats://127.0.0.1:1", "status", "hello", NULL };
    const char *far[] = { "xyzzy", NULL };
    lt_test_cmd_result res;

    ctl_plain(&res, typo_cmd, NULL);
    ck_assert_int_eq(res.exit_code, 2);
    ck_assert_str_eq(res.err, "latticectl: unknown command 'stauts'. Did you mean 'status'?\n");
    ck_assert_str_eq(res.out, "");
    lt_test_cmd_result_cleanup(&res);
    ctl_plain(&res, typo_opt, NULL);
    ck_assert_int_eq(res.exit_code, 2);
    ck_assert_msg(strstr(res.err, "unknown option '--nats-ulr'. Did you mean '--nats-url'?"),
                  "stderr: %s", res.err);
    lt_test_cmd_result_cleanup(&res);
    ctl_plain(&res, typo_eq, NULL);
    ck_assert_int_eq(res.exit_code, 2);
    ck_assert_msg(strstr(res.err, "unknown option '--nats-ulr=nats://127.0.0.1:1'. Did you mean "
                                  "'--nats-url'?"),
                  "stderr: %s", res.err);
    lt_test_cmd_result_cleanup(&res);
    ctl_plain(&res, typo_global, NULL);
    ck_assert_int_eq(res.exit_code, 2);
    ck_assert_msg(strstr(res.err, "unknown option '--nats-ulr'. Did you mean '--nats-url'?"),
                  "stderr: %s", res.err);
    lt_test_cmd_result_cleanup(&res);
    ctl_plain(&res, far, NULL); /* nothing close: no suggestion */
    ck_assert_int_eq(res.exit_code, 2);
    ck_assert_str_eq(res.err, "latticectl: unknown command 'xyzzy' (see latticectl --help)\n");
    lt_test_cmd_result_cleanup(&res);
}
END_TEST

static bool api_up(e2e *e, void *arg)
{
    const char *args[] = { "list", NULL };
    lt_test_cmd_result res;
    bool ok;

    (void)arg;
    e2e_ctl(e, L, &res, args);
    ok = res.exit_code == 0;
    lt_test_cmd_result_cleanup(&res);
    return ok;
}

static void put_ok(e2e *e, const char *manifest)
{
    const char *args[] = { "put", "-f", e2e_manifest(manifest), NULL };
    lt_test_cmd_result res;

    ck_assert_msg(e2e_wait(e, api_up, NULL, 30000), "latticed's API does not answer");
    e2e_ctl(e, L, &res, args);
    ck_assert_msg(res.exit_code == 0, "put %s: exit %d: %s", manifest, res.exit_code, res.err);
    lt_test_cmd_result_cleanup(&res);
}

static bool hosts_complete(e2e *e, void *arg)
{
    const char *args[] = { "__complete", "hosts", NULL };
    lt_test_cmd_result res;
    bool ok;

    (void)arg;
    e2e_ctl(e, L, &res, args);
    ok = res.exit_code == 0 && has_line(res.out, "hc-00000") && has_line(res.out, "hc-00001") &&
         lines(res.out) == 2;
    lt_test_cmd_result_cleanup(&res);
    return ok;
}

START_TEST(test_complete_names)
{
    e2e *e = e2e_new();
    const char *apps[] = { "__complete", "apps", NULL };
    const char *versions[] = { "__complete", "versions", "roll", NULL };
    const char *nosuch[] = { "__complete", "versions", "nosuch", NULL };
    const char *bad_kind[] = { "__complete", "bogus", NULL };
    const char *unreachable[] = { "__complete", "apps", "-s", "nats://127.0.0.1:1", NULL };
    lt_test_cmd_result res;

    e2e_hosts(e, L, "hc", 2, NULL, NULL);
    e2e_latticed(e, NULL);
    put_ok(e, "roll-v1.yaml");
    put_ok(e, "roll-v2.yaml");
    put_ok(e, "greet.yaml");
    e2e_ctl(e, L, &res, apps);
    ck_assert_int_eq(res.exit_code, 0);
    ck_assert_msg(has_line(res.out, "roll") && has_line(res.out, "greet") && lines(res.out) == 2,
                  "__complete apps: %s", res.out);
    ck_assert_str_eq(res.err, "");
    lt_test_cmd_result_cleanup(&res);
    e2e_ctl(e, L, &res, versions);
    ck_assert_int_eq(res.exit_code, 0);
    ck_assert_msg(has_line(res.out, "v1") && has_line(res.out, "v2") && lines(res.out) == 2,
                  "__complete versions roll: %s", res.out);
    lt_test_cmd_result_cleanup(&res);
    ck_assert_msg(e2e_wait(e, hosts_complete, NULL, 20000), "__complete hosts: not hc-0000[01]");
    /* Nothing to say is said quietly: an unknown app, an unknown kind, no server. */
    e2e_ctl(e, L, &res, nosuch);
    ck_assert_int_eq(res.exit_code, 0);
    ck_assert_str_eq(res.out, "");
    ck_assert_str_eq(res.err, "");
    lt_test_cmd_result_cleanup(&res);
    e2e_ctl(e, L, &res, bad_kind);
    ck_assert_int_eq(res.exit_code, 0);
    ck_assert_str_eq(res.out, "");
    lt_test_cmd_result_cleanup(&res);
    ctl_plain(&res, unreachable, NULL);
    ck_assert_int_eq(res.exit_code, 0);
    ck_assert_str_eq(res.out, "");
    ck_assert_str_eq(res.err, "");
    lt_test_cmd_result_cleanup(&res);
    e2e_free(e);
}
END_TEST

/*
 * Complete `line` (words separated by single spaces; the last one, possibly empty, is the word
 * being completed) with the bash script of `latticectl completion bash` in a real bash, as bash
 * would call it (COMP_WORDS, COMP_CWORD, COMP_LINE). With url, LATTICE_NATS_URL is set to it.
 * The candidates, one a line (lt_free).
 */
static char *bash_complete(const char *line, const char *url)
{
    const char *script = "source <(\"$LATTICECTL_BIN\" completion bash) || exit 9\n"
                         "read -ra COMP_WORDS <<<\"$LINE\"\n"
                         "[[ $LINE == *' ' ]] && COMP_WORDS+=('')\n"
                         "COMP_WORDS[0]=$LATTICECTL_BIN\n"
                         "COMP_CWORD=$((${#COMP_WORDS[@]} - 1))\n"
                         "COMP_LINE=$LINE COMP_POINT=${#LINE}\n"
                         "_latticectl\n"
                         "printf '%s\\n' \"${COMPREPLY[@]}\"\n";
    const char *argv[] = { "bash", "-c", script, NULL };
    char line_env[512], url_env[300];
    const char *env[] = { line_env, url_env, NULL };
    lt_test_cmd cmd = { .argv = argv, .env = env, .timeout_ms = 30000 };
    lt_test_cmd_result res;
    char *out;

    snprintf(line_env, sizeof(line_env), "LINE=%s", line);
    snprintf(url_env, sizeof(url_env), "LATTICE_NATS_URL=%s", url ? url : "nats://127.0.0.1:1");
    ck_assert_int_eq(lt_test_run(&cmd, &res), LT_OK);
    ck_assert_msg(res.exit_code == 0, "bash completion of '%s': exit %d: %s", line, res.exit_code,
                  res.err);
    ck_assert_msg(strstr(res.err, "latticectl") == NULL, "completion printed an error: %s",
                  res.err);
    out = lt_strdup(res.out);
    lt_test_cmd_result_cleanup(&res);
    return out;
}

START_TEST(test_bash_completion)
{
    e2e *e = e2e_new();
    char line[512], *out;

    e2e_latticed(e, NULL);
    put_ok(e, "roll-v1.yaml");
    put_ok(e, "roll-v2.yaml");
    put_ok(e, "greet.yaml");
    /* application names: every one, then those with the typed prefix */
    out = bash_complete("latticectl status ", e2e_url(e));
    ck_assert_msg(has_line(out, "roll") && has_line(out, "greet") && lines(out) == 2,
                  "status <TAB>: %s", out);
    lt_free(out);
    out = bash_complete("latticectl deploy gr", e2e_url(e));
    ck_assert_str_eq(out, "greet\n");
    lt_free(out);
    /* versions of the application on the line */
    out = bash_complete("latticectl deploy roll --version ", e2e_url(e));
    ck_assert_msg(has_line(out, "v1") && has_line(out, "v2") && lines(out) == 2,
                  "deploy roll --version <TAB>: %s", out);
    lt_free(out);
    /* the server named on the line (-s URL) beats the environment (unreachable here) */
    snprintf(line, sizeof(line), "latticectl -s %s versions ", e2e_url(e));
    out = bash_complete(line, NULL);
    ck_assert_msg(has_line(out, "roll") && has_line(out, "greet"), "-s URL versions: %s", out);
    lt_free(out);
    /* no server: no names, no error */
    out = bash_complete("latticectl status ", NULL);
    ck_assert_str_eq(out, "\n");
    lt_free(out);
    /* from the table: -o values, commands, options, a command's own words */
    out = bash_complete("latticectl status roll -o ", NULL);
    ck_assert_msg(has_line(out, "table") && has_line(out, "json") && has_line(out, "yaml"),
                  "-o <TAB>: %s", out);
    lt_free(out);
    out = bash_complete("latticectl sta", NULL);
    ck_assert_str_eq(out, "status\n");
    lt_free(out);
    out = bash_complete("latticectl completion ", NULL);
    ck_assert_str_eq(out, "bash\nzsh\nfish\n");
    lt_free(out);
    out = bash_complete("latticectl status --wa", NULL);
    ck_assert_str_eq(out, "--watch\n");
    lt_free(out);
    e2e_free(e);
}
END_TEST

int main(void)
{
    return e2e_run_suite("e2e_cli_finish", 120,
                         (const TTest *const[]){ test_did_you_mean, test_complete_names,
                                                 test_bash_completion, NULL });
}
