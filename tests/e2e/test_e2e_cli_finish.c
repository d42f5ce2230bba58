/*
 * test_e2e_cli_finish.c - latticectl's finishing touches against a real cluster (nats-server,
 * latticed, simulated hosts) and the project's own manifests (tests/e2e/manifests/):
 *  - did-you-mean: a mistyped command or option names the nearest one (exit 2);
 *  - `latticectl __complete apps|versions APP|hosts` prints the names latticed knows, one a
 *    line, and nothing (exit 0, no error) when NATS is unreachable;
 *  - the bash completion script (`latticectl completion bash`), loaded in a real bash with
 *    COMP_WORDS/COMP_CWORD set, completes application names, versions after --version, the
 *    values of -o, and takes the server from `-s URL` on the line;
 *  - a real latticed-host runs file:// .wasm components with the `wasmtime` on its PATH (a
 *    fake one, a script that records its arguments): `run` for a component, `serve` for one
 *    naming wasi:http/incoming-handler; without wasmtime, its default runner's stand-in.
 */
#include <check.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sys/stat.h>

#include "e2e.h"
#include "lt_alloc.h"
#include "lt_buf.h"
#include "lt_fs.h"
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
    out = bash_complete("latticectl status --wat", NULL);
    ck_assert_str_eq(out, "--watch\n");
    lt_free(out);
    out = bash_complete("latticectl status --wait-", NULL);
    ck_assert_str_eq(out, "--wait-for\n--wait-timeout\n");
    lt_free(out);
    e2e_free(e);
}
END_TEST

/* ---- the host's wasmtime runner ----------------------------------------------------------- */

typedef struct {
    char *dir;           /* temp dir: cli.wasm, web.wasm, bin/wasmtime, empty/, argv.PID */
    char manifest[4200]; /* wasm-file.yaml with @DIR@ filled in */
} wasm_fixture;

static void wasm_fixture_init(wasm_fixture *f)
{
    char path[4300], *text = NULL;
    const char *p, *at;
    static const char cli[] = "\0asm\x0d\0\x01\0 wasi:cli/run";
    static const char http[] = "\0asm\x0d\0\x01\0 ... wasi:http/incoming-handler@0.2.0 ...";
    size_t len;
    lt_buf b;

    ck_assert_int_eq(lt_test_tmpdir(&f->dir, "lt-e2e-wasm"), LT_OK);
    snprintf(path, sizeof(path), "%s/cli.wasm", f->dir);
    ck_assert_int_eq(lt_test_write_file(path, cli, sizeof(cli) - 1), LT_OK);
    snprintf(path, sizeof(path), "%s/web.wasm", f->dir);
    ck_assert_int_eq(lt_test_write_file(path, http, sizeof(http) - 1), LT_OK);
    snprintf(path, sizeof(path), "%s/bin", f->dir);
    ck_assert_int_eq(mkdir(path, 0755), 0);
    snprintf(path, sizeof(path), "%s/empty", f->dir);
    ck_assert_int_eq(mkdir(path, 0755), 0);
    /* the fake wasmtime: records its arguments in argv.<its pid>, then stays up */
    lt_buf_init(&b, 8192);
    LT_IGNORE(lt_buf_appendf(&b,
                             "#!/bin/sh\nprintf '%%s\\n' \"$*\" > '%s/argv.'$$\n"
                             "exec /bin/sleep 600\n",
                             f->dir));
    snprintf(path, sizeof(path), "%s/bin/wasmtime", f->dir);
    ck_assert_int_eq(lt_test_write_file(path, b.ptr, b.len), LT_OK);
    ck_assert_int_eq(chmod(path, 0755), 0);
    lt_buf_cleanup(&b);
    /* the manifest, from the project's template */
    ck_assert_int_eq(lt_fs_read_file(e2e_manifest("wasm-file.yaml"), 1 << 20, &text, &len), LT_OK);
    lt_buf_init(&b, 1 << 20);
    for (p = text; (at = strstr(p, "@DIR@")) != NULL; p = at + 5) {
        LT_IGNORE(lt_buf_append(&b, p, (size_t)(at - p)));
        LT_IGNORE(lt_buf_appends(&b, f->dir));
    }
    LT_IGNORE(lt_buf_appends(&b, p));
    ck_assert_int_eq(lt_buf_status(&b), LT_OK);
    snprintf(f->manifest, sizeof(f->manifest), "%s/wasm-file.yaml", f->dir);
    ck_assert_int_eq(lt_test_write_file(f->manifest, b.ptr, b.len), LT_OK);
    lt_buf_cleanup(&b);
    lt_free(text);
}

static void wasm_fixture_cleanup(wasm_fixture *f)
{
    LT_IGNORE(lt_test_rmtree(f->dir));
    lt_free(f->dir);
}

/* The one line the fake wasmtime of pid recorded ("" when it recorded none). */
static void recorded(const wasm_fixture *f, pid_t pid, char *out, size_t n)
{
    char path[4300];
    FILE *fp;

    out[0] = '\0';
    snprintf(path, sizeof(path), "%s/argv.%d", f->dir, (int)pid);
    fp = fopen(path, "r");
    if (fp == NULL)
        return;
    if (fgets(out, (int)n, fp) == NULL)
        out[0] = '\0';
    out[strcspn(out, "\n")] = '\0';
    fclose(fp);
}

static size_t recordings(const wasm_fixture *f)
{
    DIR *d = opendir(f->dir);
    struct dirent *de;
    size_t n = 0;

    ck_assert_ptr_nonnull(d);
    while ((de = readdir(d)) != NULL)
        n += strncmp(de->d_name, "argv.", 5) == 0;
    closedir(d);
    return n;
}

typedef struct {
    pid_t host;
    size_t want;
} kids_arg;

static bool host_has_kids(e2e *e, void *arg)
{
    kids_arg *k = arg;
    pid_t pids[16];

    (void)e;
    return e2e_children(k->host, pids, 16) == k->want;
}

/* A real host with PATH=path (restored after), deploying the wasm-file app; its pid. */
static pid_t wasm_host_deploy(e2e *e, const wasm_fixture *f, const char *path)
{
    const char *runner[] = { "--default-runner", "exec /bin/sleep 600", NULL };
    char *old = lt_strdup(getenv("PATH"));
    kids_arg kids;
    char *ack;
    pid_t host;

    e2e_observe(e, L);
    setenv("PATH", path, 1);
    host = e2e_real_host(e, L, "wasm-1", runner);
    setenv("PATH", old, 1);
    lt_free(old);
    e2e_latticed(e, NULL);
    ck_assert_msg(e2e_wait(e, api_up, NULL, 30000), "latticed's API does not answer");
    ack = e2e_put_deploy(e, L, f->manifest);
    ck_assert_msg(strcmp(ack, "acknowledged") == 0, "deploy: %s", ack);
    lt_free(ack);
    kids.host = host;
    kids.want = 2;
    if (!e2e_wait_status(e, L, "wasmfile", "deployed", 30000) ||
        !e2e_wait(e, host_has_kids, &kids, 20000)) {
        e2e_dump_logs(e);
        ck_abort_msg("wasmfile is not running as 2 children of the host");
    }
    return host;
}

static bool ends_with(const char *s, const char *end)
{
    size_t n = strlen(s), m = strlen(end);

    return n >= m && strcmp(s + n - m, end) == 0;
}

START_TEST(test_host_runs_wasm_with_wasmtime)
{
    e2e *e = e2e_new();
    wasm_fixture f;
    char path[4300], line[4400], want_run[4400], want_serve[4400];
    pid_t host, pids[16];
    size_t n, runs = 0, serves = 0;

    wasm_fixture_init(&f);
    snprintf(path, sizeof(path), "%s/bin:/usr/bin:/bin", f.dir);
    host = wasm_host_deploy(e, &f, path);
    snprintf(want_run, sizeof(want_run), " %s/cli.wasm", f.dir);
    snprintf(want_serve, sizeof(want_serve), " %s/web.wasm", f.dir);
    n = e2e_children(host, pids, 16);
    for (size_t i = 0; i < n; i++) {
        for (int64_t deadline = e2e_now_ms() + 10000; e2e_now_ms() < deadline;) {
            recorded(&f, pids[i], line, sizeof(line));
            if (line[0] != '\0')
                break;
            e2e_sleep_ms(50); /* the script writes its file right after the exec */
        }
        /* wasmtime run|serve [--addr A] --env NAME... FILE: the guest gets its identity,
         * config and links only through the variables named */
        ck_assert_msg(strstr(line, " --env LATTICE_INSTANCE_ID ") != NULL &&
                          strstr(line, " --env LATTICE_CONFIG ") != NULL &&
                          strstr(line, " --env LATTICE_LINKS_FILE ") != NULL,
                      "wasmtime without the instance's variables: %s", line);
        runs += strncmp(line, "run --env ", 10) == 0 && ends_with(line, want_run);
        serves += strncmp(line, "serve --addr 127.0.0.1:8080 --env ", 34) == 0 &&
                  ends_with(line, want_serve);
    }
    ck_assert_msg(runs == 1 && serves == 1, "wasmtime calls: %zu run, %zu serve (of %zu)", runs,
                  serves, n);
    e2e_free(e);
    wasm_fixture_cleanup(&f);
}
END_TEST

START_TEST(test_host_without_wasmtime_runs_stand_ins)
{
    e2e *e = e2e_new();
    wasm_fixture f;
    char path[4300];

    wasm_fixture_init(&f);
    snprintf(path, sizeof(path), "%s/empty", f.dir); /* no wasmtime anywhere on PATH */
    wasm_host_deploy(e, &f, path);
    ck_assert_uint_eq(recordings(&f), 0); /* the stand-ins ran, not the fake wasmtime */
    e2e_free(e);
    wasm_fixture_cleanup(&f);
}
END_TEST

int main(void)
{
    return e2e_run_suite("e2e_cli_finish", 120,
                         (const TTest *const[]){ test_did_you_mean, test_complete_names,
                                                 test_bash_completion,
                                                 test_host_runs_wasm_with_wasmtime,
                                                 test_host_without_wasmtime_runs_stand_ins, NULL });
}
