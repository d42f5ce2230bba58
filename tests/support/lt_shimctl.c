/*
 * lt_shimctl.c - environment and log helpers around the LD_PRELOAD fault shim
 * (see lt_shimctl.h).
 */
#include "lt_shimctl.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lt_alloc.h"
#include "lt_config.h"
#include "lt_testutil.h"

static const char *const names[4] = { "LD_PRELOAD", "LT_SHIM", "LT_SHIM_LOG", "ASAN_OPTIONS" };
static char *saved[4];
static int saved_set[4];

const char *lt_shim_path(void)
{
    static char path[1024];
    const char *env = getenv("LT_SHIM_SO");

    if (env != NULL && env[0] != '\0')
        return env;
    snprintf(path, sizeof(path), "%s/tests/support/lt_shim.so", LT_BUILD_ROOT);
    return path;
}

void lt_shim_env_init(lt_shim_env *e, const char *rules, const char *log)
{
    const char *asan = getenv("ASAN_OPTIONS");
    size_t n = 0;

    snprintf(e->vars[0], LT_SHIMCTL_VAR, "LD_PRELOAD=%s", lt_shim_path());
    snprintf(e->vars[1], LT_SHIMCTL_VAR, "LT_SHIM=%s", rules ? rules : "");
    snprintf(e->vars[2], LT_SHIMCTL_VAR, "LT_SHIM_LOG=%s", log ? log : "");
    snprintf(e->vars[3], LT_SHIMCTL_VAR, "ASAN_OPTIONS=%s%sverify_asan_link_order=0",
             asan ? asan : "", asan && asan[0] ? ":" : "");
    for (size_t i = 0; i < 4; i++)
        e->env[n++] = e->vars[i];
    e->env[n] = NULL;
}

lt_status lt_shim_set(const char *rules, const char *log)
{
    lt_shim_env *e = lt_calloc(1, sizeof(*e));

    if (e == NULL)
        return LT_FAIL(LT_ERR_NOMEM, "out of memory");
    lt_shim_env_init(e, rules, log);
    for (size_t i = 0; i < 4; i++) {
        const char *old = getenv(names[i]);

        lt_free(saved[i]);
        saved[i] = old ? lt_strdup(old) : NULL;
        saved_set[i] = old != NULL;
        setenv(names[i], strchr(e->vars[i], '=') + 1, 1);
    }
    lt_free(e);
    return LT_OK;
}

void lt_shim_unset(void)
{
    for (size_t i = 0; i < 4; i++) {
        if (saved_set[i] && saved[i] != NULL)
            setenv(names[i], saved[i], 1);
        else
            unsetenv(names[i]);
        lt_free(saved[i]);
        saved[i] = NULL;
        saved_set[i] = 0;
    }
}

size_t lt_shim_fired(const char *log, const char *func)
{
    char *data = NULL;
    size_t n = 0, flen = func ? strlen(func) : 0;

    if (lt_test_read_file(log, 16u << 20, &data, NULL) != LT_OK)
        return 0;
    for (char *line = data; line != NULL && *line != '\0';) {
        char *nl = strchr(line, '\n');

        if (func == NULL || (strncmp(line, func, flen) == 0 && line[flen] == ' '))
            n++;
        line = nl ? nl + 1 : NULL;
    }
    lt_free(data);
    return n;
}

lt_status lt_shim_rerun_self(const lt_shim_rerun *r, lt_test_cmd_result *res)
{
    char exe[1024], marker[128], kase[128], asan[LT_SHIMCTL_VAR + 128], tun[256];
    const char *argv[2] = { exe, NULL }, *env[8];
    lt_shim_env shim;
    lt_test_cmd cmd = { .argv = argv, .env = env, .timeout_ms = 60000 };
    ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
    size_t k = 0;

    memset(res, 0, sizeof(*res));
    if (n <= 0)
        return LT_FAIL(LT_ERR_IO, "cannot find this program");
    exe[n] = '\0';
    lt_shim_env_init(&shim, r->rules, r->log);
    snprintf(marker, sizeof(marker), "%s=1", r->marker);
    snprintf(kase, sizeof(kase), "CK_RUN_CASE=%s", r->tcase);
    snprintf(asan, sizeof(asan), "%s%s%s", shim.vars[3], r->asan_extra ? ":" : "",
             r->asan_extra ? r->asan_extra : "");
    env[k++] = shim.vars[0];
    env[k++] = shim.vars[1];
    env[k++] = shim.vars[2];
    env[k++] = asan;
    env[k++] = marker;
    env[k++] = kase;
    if (r->tunables != NULL) {
        snprintf(tun, sizeof(tun), "GLIBC_TUNABLES=%s", r->tunables);
        env[k++] = tun;
    }
    env[k] = NULL;
    return lt_test_run(&cmd, res);
}

void lt_shim_rule_hold(char *rule, size_t size, const char *subj, int hold_ms)
{
    snprintf(rule, size, "natsSubscription_NextMsg:subj=%s:count=1:mode=delay=%d", subj, hold_ms);
}

void lt_shim_expect_child(const char *marker, const char *tcase, const char *rule, const char *func,
                          size_t fired)
{
    char rules[LT_SHIMCTL_VAR - 16], log[LT_SHIMCTL_VAR / 2], *dir = NULL;
    lt_shim_rerun r = { .rules = rules, .log = log, .marker = marker, .tcase = tcase };
    lt_test_cmd_result res;

    ck_assert_int_eq(lt_test_tmpdir(&dir, "lt-shim"), LT_OK);
    snprintf(log, sizeof(log), "%s/shim.log", dir);
    free(dir);
    snprintf(rules, sizeof(rules), "%s:onfile=%s.arm", rule, log);
    ck_assert_int_eq(lt_shim_rerun_self(&r, &res), LT_OK);
    ck_assert_msg(res.exit_code == 0, "the shimmed child: exit %d, signal %d\n%s\n%s",
                  res.exit_code, res.term_signal, res.out, res.err);
    if (func != NULL)
        ck_assert_uint_eq(lt_shim_fired(log, func), fired);
    lt_test_cmd_result_cleanup(&res);
    lt_shim_log_remove(log);
}

void lt_shim_log_remove(const char *log)
{
    char dir[LT_SHIMCTL_VAR];
    char *slash;

    snprintf(dir, sizeof(dir), "%s", log);
    if ((slash = strrchr(dir, '/')) == NULL)
        return;
    *slash = '\0';
    LT_IGNORE(lt_test_rmtree(dir));
}

lt_status lt_shim_arm(void)
{
    const char *log = getenv("LT_SHIM_LOG");
    char arm[LT_SHIMCTL_VAR];

    if (log == NULL || log[0] == '\0')
        return LT_FAIL(LT_ERR_IO, "no LT_SHIM_LOG: not a shimmed child");
    snprintf(arm, sizeof(arm), "%s.arm", log);
    return lt_test_write_file(arm, "", 0);
}

bool lt_shim_wait_fired(const char *func, size_t n, int64_t timeout_ms)
{
    const char *log = getenv("LT_SHIM_LOG");
    int64_t end = lt_test_now_ms() + timeout_ms;

    while (lt_shim_fired(log, func) < n) {
        if (lt_test_now_ms() > end)
            return false;
        lt_test_sleep_ms(5);
    }
    return true;
}
