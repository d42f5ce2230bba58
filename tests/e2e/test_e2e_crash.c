/*
 * test_e2e_crash.c - instances that crash after they started, with real
 * processes: nats-server, latticed and `latticed-host --simulate` with
 * --crash-after-ms (issue 8, item 8). The crashing component is replaced
 * once per crash (never doubled), its retries back off exponentially, the
 * status says `failed` with the host's own message and never `deployed`
 * while it loops, and once the crashes stop (--crash-limit) it goes back to
 * `deployed`. The manifest is the project's own (tests/e2e/manifests/).
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "e2e.h"
#include "lt_config.h"

#define L "default"
#define WHY "exited with code 3: panic: out of cheese"

static bool hosts_up(e2e *e, void *arg)
{
    const size_t *want = arg;

    return e2e_host_count(e, L) == *want;
}

static bool both_heard_since(e2e *e, void *arg)
{
    return e2e_heard_since(e, L, *(const int64_t *)arg) >= 2;
}

START_TEST(test_crash_loop)
{
    e2e *e = e2e_new();
    const char *crash[] = { "--crash-after-ms",
                            "500",
                            "--crash-image",
                            "crashy",
                            "--crash-message",
                            WHY,
                            "--crash-limit",
                            "3",
                            NULL };
    size_t two = 2, starts = 0, n;
    int64_t t0 = e2e_now_ms(), at[8] = { 0 }, deadline;
    bool failed_seen = false;
    char *r, *st = NULL, *msg = NULL;

    e2e_observe(e, L);
    e2e_hosts(e, L, "cr", 2, NULL, crash);
    e2e_latticed(e, NULL);
    ck_assert(e2e_wait(e, hosts_up, &two, 20000));
    r = e2e_put_deploy(e, L, LT_SOURCE_ROOT "/tests/e2e/manifests/crashy.yaml");
    ck_assert_msg(strcmp(r, "acknowledged") == 0, "deploy: %s", r);
    free(r);
    /* Follow the loop: when each start went out, and what status says meanwhile. */
    deadline = e2e_now_ms() + 60000;
    for (;;) {
        ck_assert_msg(e2e_now_ms() < deadline, "not deployed after 60 s: %s: %s", st, msg);
        n = e2e_starts_sent(e, L);
        for (; starts < n && starts < 8; starts++)
            at[starts] = e2e_now_ms() - t0;
        free(st);
        free(msg);
        st = e2e_status(e, L, "crashy", &msg);
        if (strcmp(st, "failed") == 0) {
            ck_assert_msg(strstr(msg, WHY) != NULL, "failed without the host's message: %s", msg);
            failed_seen = true;
        }
        /* Deployed again after a crash: only right once the crashes ran out (checked below:
         * 2 web + 1 api starts, then one per crash). */
        if (strcmp(st, "deployed") == 0 && failed_seen)
            break;
        e2e_sleep_ms(50);
    }
    free(st);
    free(msg);
    printf("crash loop: starts at");
    for (size_t i = 0; i < starts && i < 8; i++)
        printf(" %lld", (long long)at[i]);
    printf(" ms; deployed at %lld ms\n", (long long)(e2e_now_ms() - t0));
    /* 3 web/api starts at once, then one api start per crash: 3 crashes, 3 replacements. */
    ck_assert_uint_eq(starts, 6);
    /* Exponential (1, 2, 4 s +-20%, plus 0.5 s running each time): every gap longer. */
    ck_assert_int_gt(at[4] - at[3], at[3] - at[2]);
    ck_assert_int_gt(at[5] - at[4], at[4] - at[3]);
    ck_assert_int_ge(at[5] - at[4], 3000);
    ck_assert_uint_eq(e2e_count(e, L, "crashy", "api", NULL, NULL), 1);
    ck_assert_uint_eq(e2e_count(e, L, "crashy", "web", NULL, NULL), 2);
    /* Stable: nothing more is started, and it stays deployed. Judged once both hosts have
     * heartbeated twice more, the first time past --crash-after-ms of the last start: a
     * crash of it would have been reported and answered by then. */
    ck_assert(e2e_wait(e, both_heard_since, &(int64_t){ e2e_now_ms() + 600 }, 10000));
    ck_assert(e2e_wait(e, both_heard_since, &(int64_t){ e2e_now_ms() }, 10000));
    ck_assert_uint_eq(e2e_starts_sent(e, L), 6);
    st = e2e_status(e, L, "crashy", NULL);
    ck_assert_str_eq(st, "deployed");
    free(st);
    e2e_free(e);
}
END_TEST

int main(void)
{
    const TTest *const tests[] = { test_crash_loop, NULL };

    return e2e_run_suite("e2e_crash", 120, tests);
}
