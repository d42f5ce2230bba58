/*
 * test_ctl_context.c - latticectl's contexts and its NATS connect error, the binary run as a
 * process with no NATS server: every URL points at a closed loopback port, so the URL in
 * "cannot connect to NATS at URL" says which setting won. Checks flag > environment >
 * context > default, --context / LATTICE_CONTEXT, $XDG_CONFIG_HOME and ~/.config, refusals
 * (unknown context or key, exit 2), and `context list|show|use` (use rewrites only the
 * current-context line, atomically, and refuses an unknown name).
 */
#include <check.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "lt_alloc.h"
#include "lt_fs.h"
#include "lt_testutil.h"

#define URL_FLAG "nats://127.0.0.1:1"
#define URL_ENV "nats://127.0.0.1:2"
#define URL_A "nats://127.0.0.1:3"
#define URL_B "nats://127.0.0.1:5"

static const char *config_text = "# contexts of the test (this comment must survive `use`)\n"
                                 "current-context: a\n"
                                 "contexts:\n"
                                 "  - name: a\n"
                                 "    nats-url: " URL_A "\n"
                                 "    lattice: la\n"
                                 "  - name: b\n"
                                 "    nats-url: " URL_B "\n"
                                 "extra: kept\n";

static char *dir;
static char home_env[600], xdg_env[600], cfg_path[600];

static void setup(void)
{
    ck_assert_int_eq(lt_fs_tmpdir(&dir, "ctlctx"), LT_OK);
    snprintf(home_env, sizeof(home_env), "HOME=%s", dir);
    snprintf(xdg_env, sizeof(xdg_env), "XDG_CONFIG_HOME=");
    snprintf(cfg_path, sizeof(cfg_path), "%s/c.yaml", dir);
    ck_assert_int_eq(lt_test_write_file(cfg_path, config_text, strlen(config_text)), LT_OK);
}

static void teardown(void)
{
    LT_IGNORE(lt_fs_rmtree(dir));
    lt_free(dir);
}

/* Run latticectl with args and extra env (NULL-terminated, may be NULL); HOME is the temp dir
 * and XDG_CONFIG_HOME empty (ignored, as relative) unless env sets them. */
static void ctl(lt_test_cmd_result *res, const char *const *env_extra, const char *const *args)
{
    const char *argv[24], *env[16];
    size_t n = 0, k = 0;
    lt_test_cmd cmd = { .argv = argv, .env = env, .timeout_ms = 20000 };

    argv[n++] = getenv("LATTICECTL_BIN");
    for (size_t i = 0; args[i] != NULL; i++)
        argv[n++] = args[i];
    argv[n] = NULL;
    for (size_t i = 0; env_extra != NULL && env_extra[i] != NULL; i++)
        env[k++] = env_extra[i];
    env[k++] = home_env;
    if (k == 1 || strncmp(env[0], "XDG_CONFIG_HOME=", 16) != 0)
        env[k++] = xdg_env;
    env[k] = NULL;
    ck_assert_int_eq(lt_test_run(&cmd, res), LT_OK);
}

/* `latticectl list -t 2 ARGS` fails with exit 3 naming url. */
static void expect_url(const char *const *env, const char *const *args, const char *url)
{
    const char *argv[16] = { "list", "-t", "2" };
    size_t n = 3;
    lt_test_cmd_result r;
    char want[256];

    for (size_t i = 0; args != NULL && args[i] != NULL; i++)
        argv[n++] = args[i];
    argv[n] = NULL;
    ctl(&r, env, argv);
    snprintf(want, sizeof(want), "latticectl: cannot connect to NATS at %s: ", url);
    ck_assert_msg(r.exit_code == 3 && strstr(r.err, want) != NULL &&
                      strstr(r.err, "(set -s/--nats-url or LATTICE_NATS_URL, or a context)\n"),
                  "want exit 3 and '%s...', got exit %d: %s", want, r.exit_code, r.err);
    lt_test_cmd_result_cleanup(&r);
}

START_TEST(test_precedence)
{
    char cfg_env[700];
    const char *with_cfg[] = { cfg_env, NULL };
    const char *with_cfg_env[] = { cfg_env, "LATTICE_NATS_URL=" URL_ENV, NULL };

    snprintf(cfg_env, sizeof(cfg_env), "LATTICE_CONFIG=%s", cfg_path);
    /* default: no config file anywhere */
    expect_url(NULL, NULL, "nats://127.0.0.1:4222");
    /* context (the current one) over the default */
    expect_url(with_cfg, NULL, URL_A);
    expect_url(NULL, (const char *[]){ "--config", cfg_path, NULL }, URL_A);
    /* environment over the context */
    expect_url(with_cfg_env, NULL, URL_ENV);
    /* flag over environment */
    expect_url(with_cfg_env, (const char *[]){ "-s", URL_FLAG, NULL }, URL_FLAG);
    /* another context by flag and by environment */
    expect_url(with_cfg, (const char *[]){ "--context", "b", NULL }, URL_B);
    expect_url((const char *[]){ cfg_env, "LATTICE_CONTEXT=b", NULL }, NULL, URL_B);
}
END_TEST

START_TEST(test_default_locations)
{
    char xdg[700], path[700];

    /* ~/.config/latticectl/config.yaml */
    snprintf(path, sizeof(path), "%s/.config", dir);
    ck_assert_int_eq(mkdir(path, 0700), 0);
    snprintf(path, sizeof(path), "%s/.config/latticectl", dir);
    ck_assert_int_eq(mkdir(path, 0700), 0);
    snprintf(path, sizeof(path), "%s/.config/latticectl/config.yaml", dir);
    ck_assert_int_eq(lt_test_write_file(path, config_text, strlen(config_text)), LT_OK);
    expect_url(NULL, NULL, URL_A);
    /* $XDG_CONFIG_HOME/latticectl/config.yaml wins over ~/.config (here: current b) */
    snprintf(path, sizeof(path), "%s/x", dir);
    ck_assert_int_eq(mkdir(path, 0700), 0);
    snprintf(path, sizeof(path), "%s/x/latticectl", dir);
    ck_assert_int_eq(mkdir(path, 0700), 0);
    snprintf(path, sizeof(path), "%s/x/latticectl/config.yaml", dir);
    {
        const char *t = "current-context: b\ncontexts:\n  - {name: b, nats-url: " URL_B "}\n";

        ck_assert_int_eq(lt_test_write_file(path, t, strlen(t)), LT_OK);
    }
    snprintf(xdg, sizeof(xdg), "XDG_CONFIG_HOME=%s/x", dir);
    expect_url((const char *[]){ xdg, NULL }, NULL, URL_B);
}
END_TEST

START_TEST(test_refusals)
{
    lt_test_cmd_result r;
    char path[700];
    const char *bad = "current-context: a\ncontexts:\n  - name: a\n    nats_url: x\n";

    ctl(&r, NULL, (const char *[]){ "list", "--config", cfg_path, "--context", "zz", NULL });
    ck_assert_int_eq(r.exit_code, 2);
    ck_assert_ptr_nonnull(strstr(r.err, "no context 'zz' in"));
    lt_test_cmd_result_cleanup(&r);
    snprintf(path, sizeof(path), "%s/bad.yaml", dir);
    ck_assert_int_eq(lt_test_write_file(path, bad, strlen(bad)), LT_OK);
    ctl(&r, NULL, (const char *[]){ "list", "--config", path, NULL });
    ck_assert_int_eq(r.exit_code, 2);
    ck_assert_ptr_nonnull(strstr(r.err, "unknown key 'nats_url'"));
    lt_test_cmd_result_cleanup(&r);
    ctl(&r, NULL, (const char *[]){ "list", "--config", "/nonexistent/c.yaml", NULL });
    ck_assert_int_eq(r.exit_code, 2);
    ck_assert_ptr_nonnull(strstr(r.err, "does not exist"));
    lt_test_cmd_result_cleanup(&r);
    bad = "contexts: [a\n";
    ck_assert_int_eq(lt_test_write_file(path, bad, strlen(bad)), LT_OK);
    ctl(&r, NULL, (const char *[]){ "list", "--config", path, NULL });
    ck_assert_int_eq(r.exit_code, 2);
    ck_assert_ptr_nonnull(strstr(r.err, "bad.yaml:"));
    lt_test_cmd_result_cleanup(&r);
}
END_TEST

START_TEST(test_context_commands)
{
    lt_test_cmd_result r;
    char *text = NULL;
    size_t len = 0, files = 0;
    struct dirent *de;
    DIR *d;

    ctl(&r, NULL, (const char *[]){ "context", "list", "--config", cfg_path, NULL });
    ck_assert_int_eq(r.exit_code, 0);
    ck_assert_ptr_nonnull(strstr(r.out, "*        a "));
    ck_assert_ptr_nonnull(strstr(r.out, "\n         b "));
    lt_test_cmd_result_cleanup(&r);
    ctl(&r, NULL, (const char *[]){ "context", "show", "b", "--config", cfg_path, NULL });
    ck_assert_int_eq(r.exit_code, 0);
    ck_assert_ptr_nonnull(strstr(r.out, "nats-url:    " URL_B "\n"));
    lt_test_cmd_result_cleanup(&r);
    /* use: only the current-context line changes, the file is replaced whole */
    ctl(&r, NULL, (const char *[]){ "context", "use", "b", "--config", cfg_path, NULL });
    ck_assert_msg(r.exit_code == 0, "%s", r.err);
    ck_assert_str_eq(r.out, "Switched to context \"b\".\n");
    lt_test_cmd_result_cleanup(&r);
    ck_assert_int_eq(lt_fs_read_file(cfg_path, 1 << 20, &text, &len), LT_OK);
    {
        const char *at = strstr(config_text, "current-context: a\n");
        char want[1024];

        snprintf(want, sizeof(want), "%.*scurrent-context: b\n%s", (int)(at - config_text),
                 config_text, at + strlen("current-context: a\n"));
        ck_assert_str_eq(text, want);
    }
    lt_free(text);
    ck_assert_ptr_nonnull(d = opendir(dir));
    while ((de = readdir(d)) != NULL)
        files += de->d_name[0] != '.';
    closedir(d);
    ck_assert_uint_eq(files, 1); /* no temporary file left */
    expect_url(NULL, (const char *[]){ "--config", cfg_path, NULL }, URL_B);
    /* an unknown name: exit 1, the file unchanged */
    ctl(&r, NULL, (const char *[]){ "context", "use", "zz", "--config", cfg_path, NULL });
    ck_assert_int_eq(r.exit_code, 1);
    ck_assert_ptr_nonnull(strstr(r.err, "no context 'zz'"));
    lt_test_cmd_result_cleanup(&r);
    ck_assert_int_eq(lt_fs_read_file(cfg_path, 1 << 20, &text, &len), LT_OK);
    ck_assert_ptr_nonnull(strstr(text, "current-context: b\n"));
    lt_free(text);
    ctl(&r, NULL, (const char *[]){ "context", "frob", "--config", cfg_path, NULL });
    ck_assert_int_eq(r.exit_code, 2);
    lt_test_cmd_result_cleanup(&r);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("ctl_context");
    TCase *tc = lt_test_tcase(s, "context", 60,
                              (const TTest *const[]){ test_precedence, test_default_locations,
                                                      test_refusals, test_context_commands, NULL });

    tcase_add_checked_fixture(tc, setup, teardown);
    return lt_test_run_suite(s);
}
