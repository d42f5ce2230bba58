/*
 * test_redact.c - lt_conn_redact_url, the only form in which a NATS URL is
 * logged: every user:password@ or token@ part is hidden, up to the last '@'
 * of the first URL, and the rest of a URL list is not shown at all.
 */
#include <check.h>
#include <string.h>

#include "lt_conn.h"
#include "lt_testutil.h"

static void redacts(const char *url, const char *want)
{
    char out[256];

    lt_conn_redact_url(url, out, sizeof(out));
    ck_assert_msg(strcmp(out, want) == 0, "%s -> %s, want %s", url ? url : "(null)", out, want);
}

START_TEST(redact)
{
    redacts("nats://127.0.0.1:4222", "nats://127.0.0.1:4222");
    redacts("nats://user:pw@127.0.0.1:4222", "nats://***@127.0.0.1:4222");
    redacts("nats://s3cr3t-token@h:4222", "nats://***@h:4222");
    redacts("nats://user:p@ss@w@rd@h:4222", "nats://***@h:4222");
    redacts("tls://user:pw@h1:4222,nats://other:pw2@h2:4222",
            "tls://***@h1:4222,nats://***@h2:4222"); /* a list: every URL */
    redacts("user:pw@h:4222", "***@h:4222");
    redacts(NULL, LT_CONN_DEFAULT_URL);
    {
        char tiny[8];

        lt_conn_redact_url("nats://user:secretpw@h", tiny, sizeof(tiny));
        ck_assert_ptr_null(strstr(tiny, "secret"));
    }
}
END_TEST

int main(void)
{
    Suite *su = suite_create("redact");

    lt_test_tcase(su, "redact", 0, (const TTest *const[]){ redact, NULL });
    return lt_test_run_suite(su);
}
