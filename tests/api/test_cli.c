/*
 * test_cli.c - latticectl as a process against latticed's API (in-process
 * server on a real nats-server): exit codes (0/1/2/3) with one-line reasons,
 * -o json/yaml, -f files and stdin, NAME from -f for undeploy/delete, global
 * options before or after the command and from the environment, completion
 * scripts, status --watch until Ctrl-C, and two latticectl processes applying
 * versions of one app at once without losing any.
 */
#include <check.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/select.h>
#include <sys/wait.h>
#include <unistd.h>

#include "api_fixture.h"
#include "lt_alloc.h"
#include "lt_testutil.h"

static char *tmp;
static char url_env[256];

static const char *bin(void)
{
    const char *b = getenv("LATTICECTL_BIN");

    ck_assert_msg(b != NULL, "LATTICECTL_BIN not set");
    return b;
}

static void setup(void)
{
    fx_setup();
    snprintf(url_env, sizeof(url_env), "LATTICE_NATS_URL=%s", lt_natsrv_url(fx_srv));
    ck_assert_int_eq(lt_test_tmpdir(&tmp, "lctl"), LT_OK);
}

static void teardown(void)
{
    LT_IGNORE(lt_test_rmtree(tmp));
    lt_free(tmp);
    fx_teardown();
}

/* Run latticectl with up to 8 arguments (NULL-terminated), stdin optional. */
static void run_in(lt_test_cmd_result *res, const char *input, const char *const *extra_env,
                   const char *a0, ...)
{
    const char *argv[16] = { bin() };
    const char *env[8] = { url_env };
    lt_test_cmd cmd = { .argv = argv, .env = env, .timeout_ms = 30000 };
    va_list ap;
    int n = 1;

    va_start(ap, a0);
    for (const char *a = a0; a != NULL && n < 15; a = va_arg(ap, const char *))
        argv[n++] = a;
    va_end(ap);
    for (int i = 0, k = 1; extra_env != NULL && extra_env[i] != NULL && i < 6; i++) {
        if (strncmp(extra_env[i], "LATTICE_NATS_URL=", 17) == 0)
            env[0] = extra_env[i]; /* replaces the fixture's server */
        else
            env[k++] = extra_env[i];
    }
    if (input != NULL) {
        cmd.stdin_data = input;
        cmd.stdin_len = strlen(input);
    }
    ck_assert_int_eq(lt_test_run(&cmd, res), LT_OK);
}

#define RUN(res, ...) run_in((res), NULL, NULL, __VA_ARGS__, (const char *)NULL)

static char *write_manifest(const char *file, const char *name, const char *version,
                            const char *tag)
{
    char *path = lt_malloc(4096), *m = fx_manifest(name, version, tag, NULL);

    snprintf(path, 4096, "%s/%s", tmp, file);
    ck_assert_int_eq(lt_test_write_file(path, m, strlen(m)), LT_OK);
    lt_free(m);
    return path;
}

static int lines(const char *s)
{
    int n = 0;

    for (; *s; s++)
        n += *s == '\n';
    return n;
}

START_TEST(usage_errors_exit_2)
{
    lt_test_cmd_result r;

    RUN(&r, "bogus");
    ck_assert_int_eq(r.exit_code, 2);
    ck_assert_int_eq(lines(r.err), 1);
    lt_test_cmd_result_cleanup(&r);
    RUN(&r, "get", "a", "b");
    ck_assert_int_eq(r.exit_code, 2);
    lt_test_cmd_result_cleanup(&r);
    RUN(&r, "list", "-o", "xml");
    ck_assert_int_eq(r.exit_code, 2);
    ck_assert_ptr_nonnull(strstr(r.err, "--output must be table, json or yaml"));
    lt_test_cmd_result_cleanup(&r);
    RUN(&r, "deploy");
    ck_assert_int_eq(r.exit_code, 2);
    ck_assert_ptr_nonnull(strstr(r.err, "missing application NAME"));
    lt_test_cmd_result_cleanup(&r);
    RUN(&r, "apply");
    ck_assert_int_eq(r.exit_code, 2);
    lt_test_cmd_result_cleanup(&r);
    RUN(&r, "list", "--timeout", "0");
    ck_assert_int_eq(r.exit_code, 2);
    lt_test_cmd_result_cleanup(&r);
    RUN(&r, "put", "-f", "/nonexistent/file.yaml");
    ck_assert_int_eq(r.exit_code, 2);
    lt_test_cmd_result_cleanup(&r);
    RUN(&r, "list", "--help");
    ck_assert_int_eq(r.exit_code, 0);
    ck_assert_ptr_nonnull(strstr(r.out, "--nats-url"));
    lt_test_cmd_result_cleanup(&r);
}
END_TEST

START_TEST(unreachable_exit_3)
{
    const char *env[] = { "LATTICE_NATS_URL=nats://127.0.0.1:1", NULL };
    lt_test_cmd_result r;

    run_in(&r, NULL, env, "list", (const char *)NULL);
    ck_assert_int_eq(r.exit_code, 3);
    ck_assert_int_eq(lines(r.err), 1);
    ck_assert_ptr_nonnull(strstr(r.err, "cannot connect to NATS"));
    lt_test_cmd_result_cleanup(&r);
    /* NATS is there but nothing serves this prefix */
    RUN(&r, "--api-prefix", "nobody.home", "list");
    ck_assert_int_eq(r.exit_code, 3);
    ck_assert_int_eq(lines(r.err), 1);
    ck_assert_ptr_nonnull(strstr(r.err, "no latticed is serving"));
    lt_test_cmd_result_cleanup(&r);
    /* hosts: the API is served but no scheduler leads the lattice (tests/e2e/test_e2e_cli.c
     * has the answers of one that does) */
    RUN(&r, "hosts", "-t", "2");
    ck_assert_int_eq(r.exit_code, 3);
    ck_assert_int_eq(lines(r.err), 1);
    ck_assert_msg(strstr(r.err, "no answer on lattice.default.hosts") != NULL &&
                      strstr(r.err, "leading lattice default") != NULL,
                  "%s", r.err);
    lt_test_cmd_result_cleanup(&r);
}
END_TEST

START_TEST(apply_get_list_json)
{
    char *f = write_manifest("app.yaml", "cli-app", "v1", "1");
    lt_test_cmd_result r;
    json_t *j;

    RUN(&r, "apply", "-f", f);
    ck_assert_int_eq(r.exit_code, 0);
    ck_assert_str_eq(r.out, "cli-app v1 deployed\n");
    lt_test_cmd_result_cleanup(&r);
    /* -o json prints the exact API reply */
    RUN(&r, "apply", "-f", f, "-o", "json");
    ck_assert_int_eq(r.exit_code, 0);
    j = json_loads(r.out, 0, NULL);
    ck_assert_str_eq(fx_result(j), "noop");
    json_decref(j);
    lt_test_cmd_result_cleanup(&r);
    RUN(&r, "-o", "json", "get", "cli-app", "--full");
    j = json_loads(r.out, 0, NULL);
    ck_assert_str_eq(fx_result(j), "success");
    ck_assert_str_eq(json_string_value(json_object_get(
                         json_object_get(json_object_get(j, "manifest"), "metadata"), "name")),
                     "cli-app");
    json_decref(j);
    lt_test_cmd_result_cleanup(&r);
    RUN(&r, "get", "cli-app"); /* table mode: the manifest as YAML */
    ck_assert_int_eq(r.exit_code, 0);
    ck_assert_ptr_nonnull(strstr(r.out, "name: cli-app\n"));
    lt_test_cmd_result_cleanup(&r);
    /* no scheduler here: no status written yet, the version comes from model.versions */
    RUN(&r, "status", "cli-app");
    ck_assert_int_eq(r.exit_code, 0);
    ck_assert_str_eq(r.out, "cli-app v1: waiting: Waiting for status: Lattice contains no hosts, "
                            "deployment not started.\n");
    lt_test_cmd_result_cleanup(&r);
    RUN(&r, "list");
    ck_assert_int_eq(r.exit_code, 0);
    ck_assert_ptr_nonnull(strstr(r.out, "NAME"));
    ck_assert_ptr_nonnull(strstr(r.out, "cli-app"));
    ck_assert_ptr_nonnull(strstr(r.out, "waiting"));
    lt_test_cmd_result_cleanup(&r);
    RUN(&r, "list", "-o", "yaml");
    ck_assert_ptr_nonnull(strstr(r.out, "result: success\n"));
    ck_assert_ptr_nonnull(strstr(r.out, "- name: cli-app\n"));
    lt_test_cmd_result_cleanup(&r);
    /* notfound: exit 1, one line on stderr; with -o json the reply on stdout */
    RUN(&r, "get", "nope");
    ck_assert_int_eq(r.exit_code, 1);
    ck_assert_str_eq(r.err, "latticectl: application 'nope' not found in lattice 'default'\n");
    lt_test_cmd_result_cleanup(&r);
    RUN(&r, "deploy", "nope", "-o", "json");
    ck_assert_int_eq(r.exit_code, 1);
    j = json_loads(r.out, 0, NULL);
    ck_assert_str_eq(fx_result(j), "notfound");
    json_decref(j);
    lt_test_cmd_result_cleanup(&r);
    lt_free(f);
}
END_TEST

START_TEST(put_stdin_versions_deploy_rollback_history)
{
    char *m2 = fx_manifest("flow", "v2", "2", NULL);
    char *f1 = write_manifest("flow1.yaml", "flow", "v1", "1");
    lt_test_cmd_result r;

    RUN(&r, "put", "-f", f1);
    ck_assert_int_eq(r.exit_code, 0);
    ck_assert_str_eq(r.out, "flow v1 stored\n");
    lt_test_cmd_result_cleanup(&r);
    run_in(&r, m2, NULL, "put", "-f", "-", (const char *)NULL);
    ck_assert_int_eq(r.exit_code, 0);
    lt_test_cmd_result_cleanup(&r);
    RUN(&r, "deploy", "flow", "--version", "v1");
    ck_assert_int_eq(r.exit_code, 0);
    lt_test_cmd_result_cleanup(&r);
    RUN(&r, "deploy", "flow");
    ck_assert_int_eq(r.exit_code, 0);
    ck_assert_ptr_nonnull(strstr(r.out, "Successfully deployed application flow v2"));
    lt_test_cmd_result_cleanup(&r);
    RUN(&r, "versions", "flow");
    ck_assert_int_eq(r.exit_code, 0);
    ck_assert_ptr_nonnull(strstr(r.out, "v1"));
    ck_assert_ptr_nonnull(strstr(r.out, "v2       *"));
    lt_test_cmd_result_cleanup(&r);
    RUN(&r, "rollback", "flow");
    ck_assert_int_eq(r.exit_code, 0);
    ck_assert_ptr_nonnull(strstr(r.out, "rolled back application flow to v1"));
    lt_test_cmd_result_cleanup(&r);
    RUN(&r, "rollback", "flow", "--to", "v2");
    ck_assert_int_eq(r.exit_code, 0);
    lt_test_cmd_result_cleanup(&r);
    RUN(&r, "deploy", "flow", "--version", "v9");
    ck_assert_int_eq(r.exit_code, 1);
    lt_test_cmd_result_cleanup(&r);
    RUN(&r, "history", "flow");
    ck_assert_int_eq(r.exit_code, 0);
    ck_assert_ptr_nonnull(strstr(r.out, "TIME"));
    ck_assert_int_eq(lines(r.out), 1 + 2 + 4); /* header, 2 puts, 4 deploys */
    lt_test_cmd_result_cleanup(&r);
    lt_free(m2);
    lt_free(f1);
}
END_TEST

START_TEST(name_from_file_and_globals)
{
    char *f = write_manifest("named.yaml", "from-file", "v1", "1");
    const char *env[] = { "LATTICE_LATTICE=elsewhere", NULL };
    lt_test_cmd_result r;
    json_t *j;

    RUN(&r, "apply", "-f", f);
    ck_assert_int_eq(r.exit_code, 0);
    lt_test_cmd_result_cleanup(&r);
    RUN(&r, "undeploy", "-f", f);
    ck_assert_int_eq(r.exit_code, 0);
    ck_assert_ptr_nonnull(strstr(r.out, "Successfully undeployed application from-file"));
    lt_test_cmd_result_cleanup(&r);
    RUN(&r, "delete", "-f", f);
    ck_assert_int_eq(r.exit_code, 0);
    ck_assert_ptr_nonnull(strstr(r.out, "Successfully deleted application from-file"));
    lt_test_cmd_result_cleanup(&r);
    RUN(&r, "delete", "from-file", "-f", f); /* both: usage */
    ck_assert_int_eq(r.exit_code, 2);
    lt_test_cmd_result_cleanup(&r);
    /* the lattice from the environment, and from a global option before the command */
    run_in(&r, NULL, env, "apply", "-f", f, (const char *)NULL);
    ck_assert_int_eq(r.exit_code, 0);
    lt_test_cmd_result_cleanup(&r);
    j = fx_req("elsewhere", "model.versions.from-file", NULL, NULL);
    ck_assert_str_eq(fx_result(j), "success");
    json_decref(j);
    RUN(&r, "--lattice", "elsewhere", "-o", "json", "list");
    ck_assert_int_eq(r.exit_code, 0);
    j = json_loads(r.out, 0, NULL);
    ck_assert_int_eq(json_array_size(json_object_get(j, "models")), 1);
    json_decref(j);
    lt_test_cmd_result_cleanup(&r);
    RUN(&r, "--lattice=default", "list", "-o", "json");
    j = json_loads(r.out, 0, NULL);
    ck_assert_int_eq(json_array_size(json_object_get(j, "models")), 0);
    json_decref(j);
    lt_test_cmd_result_cleanup(&r);
    lt_free(f);
}
END_TEST

START_TEST(completion_scripts)
{
    lt_test_cmd_result r;
    char path[4096];
    const char *bash_argv[] = { "bash", "-n", path, NULL };
    lt_test_cmd bash_n = { .argv = bash_argv };

    RUN(&r, "completion", "bash");
    ck_assert_int_eq(r.exit_code, 0);
    ck_assert_ptr_nonnull(strstr(r.out, "complete -o default -F _latticectl latticectl"));
    ck_assert_ptr_nonnull(strstr(r.out, "    rollback)\n"));
    snprintf(path, sizeof(path), "%s/completion.bash", tmp);
    ck_assert_int_eq(lt_test_write_file(path, r.out, r.out_len), LT_OK);
    lt_test_cmd_result_cleanup(&r);
    ck_assert_int_eq(lt_test_run(&bash_n, &r), LT_OK);
    ck_assert_msg(r.exit_code == 0, "bash -n: %s", r.err);
    lt_test_cmd_result_cleanup(&r);
    RUN(&r, "completion", "zsh");
    ck_assert_int_eq(r.exit_code, 0);
    ck_assert_ptr_nonnull(strstr(r.out, "#compdef latticectl"));
    ck_assert_ptr_nonnull(strstr(r.out, "'status:"));
    lt_test_cmd_result_cleanup(&r);
    RUN(&r, "completion", "fish");
    ck_assert_ptr_nonnull(strstr(r.out, "__fish_seen_subcommand_from status' -l watch"));
    lt_test_cmd_result_cleanup(&r);
    RUN(&r, "completion", "tcsh");
    ck_assert_int_eq(r.exit_code, 2);
    lt_test_cmd_result_cleanup(&r);
}
END_TEST

START_TEST(status_watch_until_ctrl_c)
{
    int out[2];
    pid_t pid;
    char buf[8192] = "";
    size_t got = 0;
    int status = 0;
    const char *st = "{\"status\":{\"type\":\"deployed\",\"message\":\"all good\"},"
                     "\"scalers\":[],\"version\":\"\",\"components\":[]}";

    ck_assert_int_eq(pipe(out), 0);
    pid = fork();
    ck_assert_int_ge(pid, 0);
    if (pid == 0) {
        dup2(out[1], STDOUT_FILENO);
        close(out[0]);
        setenv("LATTICE_NATS_URL", lt_natsrv_url(fx_srv), 1);
        execl(bin(), bin(), "status", "watched", "--watch", (char *)NULL);
        _exit(127);
    }
    close(out[1]);
    /* the first line is the current status; then publish until the watcher prints it */
    for (int i = 0; i < 200 && strstr(buf, "all good") == NULL; i++) {
        struct timeval tv = { 0, 50000 };
        fd_set fds;

        natsConnection_PublishString(fx_client, "wadm.status.default.watched", st);
        natsConnection_Flush(fx_client);
        FD_ZERO(&fds);
        FD_SET(out[0], &fds);
        if (select(out[0] + 1, &fds, NULL, NULL, &tv) > 0) {
            ssize_t n = read(out[0], buf + got, sizeof(buf) - 1 - got);

            if (n > 0)
                got += (size_t)n;
        }
        buf[got] = '\0';
    }
    ck_assert_ptr_nonnull(strstr(buf, "undeployed"));
    ck_assert_ptr_nonnull(strstr(buf, "deployed: all good"));
    kill(pid, SIGINT);
    ck_assert_int_eq(waitpid(pid, &status, 0), pid);
    ck_assert(WIFEXITED(status));
    ck_assert_int_eq(WEXITSTATUS(status), 0);
    close(out[0]);
}
END_TEST

/* Two latticectl processes, each applying 10 versions of one app. */
START_TEST(two_processes_apply_concurrently)
{
    char script[8192];
    const char *sh_argv[] = { "sh", "-c", script, NULL };
    pid_t pids[2];
    json_t *j;

    for (int i = 0; i < 10; i++) {
        char file[64], v[32];

        for (int p = 0; p < 2; p++) {
            snprintf(file, sizeof(file), "p%d-%d.yaml", p, i);
            snprintf(v, sizeof(v), "p%d-v%d", p, i);
            lt_free(write_manifest(file, "shared-app", v, v));
        }
    }
    for (int p = 0; p < 2; p++) {
        snprintf(script, sizeof(script),
                 "for i in 0 1 2 3 4 5 6 7 8 9; do \"%s\" apply -f \"%s/p%d-$i.yaml\" "
                 ">/dev/null || exit 1; done",
                 bin(), tmp, p);
        pids[p] = fork();
        ck_assert_int_ge(pids[p], 0);
        if (pids[p] == 0) {
            setenv("LATTICE_NATS_URL", lt_natsrv_url(fx_srv), 1);
            execvp("sh", (char *const *)sh_argv);
            _exit(127);
        }
    }
    for (int p = 0; p < 2; p++) {
        int status = 0;

        ck_assert_int_eq(waitpid(pids[p], &status, 0), pids[p]);
        ck_assert(WIFEXITED(status));
        ck_assert_int_eq(WEXITSTATUS(status), 0);
    }
    j = fx_call("model.versions.shared-app", NULL, NULL);
    ck_assert_int_eq(json_array_size(json_object_get(j, "versions")), 20);
    json_decref(j);
}
END_TEST

int main(void)
{
    int rc;
    Suite *s = suite_create("cli");
    TCase *tc;

    tc = lt_test_tcase(s, "cli", 180,
                       (const TTest *const[]){
                           usage_errors_exit_2, unreachable_exit_3, apply_get_list_json,
                           put_stdin_versions_deploy_rollback_history, name_from_file_and_globals,
                           completion_scripts, status_watch_until_ctrl_c,
                           two_processes_apply_concurrently, NULL });
    tcase_add_checked_fixture(tc, setup, teardown);
    rc = lt_test_run_suite(s);
    nats_Close();
    return rc;
}
