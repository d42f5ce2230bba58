/*
 * test_conn.c - latticed, latticed-host and latticectl connect to a real
 * nats-server configured for each way of securing NATS: user/password, TLS
 * (server verified against a CA made here with openssl), mutual TLS (client
 * certificate), nkey users, and operator mode with JWT credentials (operator,
 * account and user JWTs signed here; resolver MEMORY with preload). Each case
 * runs the full round trip (latticectl applies an app, latticed schedules it,
 * a host runs it, status says deployed) and checks the refusals: wrong
 * password, untrusted CA, missing client certificate, unknown nkey or
 * account give one clear error line and a non-zero exit for each program.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lt_alloc.h"
#include "lt_nkeys.h"
#include "sec.h"
#include "lt_testutil.h"

#define PASSWORD "pw-Sec-8cQ2xv"

typedef enum {
    P_LATTICED,
    P_HOST,
    P_CTL
} prog;

static const char *prog_name(prog p)
{
    return p == P_LATTICED ? "latticed" : p == P_HOST ? "latticed-host" : "latticectl";
}

/*
 * Run one program with conn options against the server and expect a refusal: a non-zero exit
 * within 30 s, exactly one line of output, naming NATS and containing want.
 */
static void refused(sec *s, prog p, const char *const *conn, const char *want)
{
    const char *argv[48];
    size_t n = 0;
    lt_test_cmd c = { .argv = argv, .cwd = s->dir, .timeout_ms = 30000 };
    lt_test_cmd_result r;

    argv[n++] = getenv(p == P_LATTICED ? "LATTICED_BIN"
                       : p == P_HOST   ? "LATTICED_HOST_BIN"
                                       : "LATTICECTL_BIN");
    ck_assert_ptr_nonnull(argv[0]);
    if (p == P_HOST) {
        argv[n++] = "--simulate";
        argv[n++] = "1";
    } else if (p == P_CTL) {
        argv[n++] = "list";
    }
    if (p != P_CTL) {
        argv[n++] = "--log-level";
        argv[n++] = "debug";
    }
    for (size_t i = 0; conn[i] != NULL; i++)
        argv[n++] = conn[i];
    argv[n] = NULL;
    ck_assert_int_eq(lt_test_run(&c, &r), LT_OK);
    ck_assert_msg(!r.timed_out && r.exit_code != 0, "%s was not refused (exit %d): %s%s",
                  prog_name(p), r.exit_code, r.out, r.err);
    ck_assert_msg(sec_lines(r.out) + sec_lines(r.err) == 1, "%s: want one error line, got:\n%s%s",
                  prog_name(p), r.out, r.err);
    ck_assert_msg(strstr(r.err, "cannot connect to NATS") != NULL && strstr(r.err, want) != NULL,
                  "%s: want '%s' in: %s", prog_name(p), want, r.err);
    lt_test_cmd_result_cleanup(&r);
}

/* Every program refused the same way: daemon-style options for latticed and host, ctl's own. */
static void refused_all(sec *s, const char *const *dconn, const char *const *cconn,
                        const char *want)
{
    refused(s, P_LATTICED, dconn, want);
    refused(s, P_HOST, dconn, want);
    refused(s, P_CTL, cconn, want);
}

/* The round trip with these options, then a clean stop of both daemons. */
static void round_trip(sec *s, const char *const *dconn, const char *const *cconn)
{
    sec_proc *d = sec_latticed(s, dconn);
    sec_proc *h = sec_hosts(s, "sec", 1, dconn);

    sec_apply_deployed(s, cconn);
    ck_assert_msg(h->alive && d->alive, "a daemon exited");
    ck_assert_int_eq(sec_stop(h), 0);
    ck_assert_int_eq(sec_stop(d), 0);
}

/* ---- user/password ---------------------------------------------------------------------- */

START_TEST(user_password)
{
    sec s;

    sec_init(&s, false);
    sec_server(&s, "authorization { users: [ { user: ltsec, password: \"" PASSWORD "\" } ] }\n",
               true);
    {
        const char *const ok[] = { "--nats-url", sec_url(&s, "ltsec:" PASSWORD), NULL };
        const char *const bad[] = { "--nats-url", sec_url(&s, "ltsec:wrong-pass"), NULL };
        const char *const none[] = { "--nats-url", sec_url(&s, NULL), NULL };

        round_trip(&s, ok, ok);
        refused_all(&s, bad, bad, "Authorization Violation");
        refused_all(&s, none, none, "Authorization Violation");
    }
    sec_cleanup(&s);
}
END_TEST

/* ---- TLS and mutual TLS ------------------------------------------------------------------ */

START_TEST(tls_server)
{
    sec s;

    sec_init(&s, true);
    sec_server(&s,
               "tls { cert_file: \"@SEC@/server.pem\", key_file: \"@SEC@/server.key\" }\n"
               "authorization { users: [ { user: ltsec, password: \"" PASSWORD "\" } ] }\n",
               true);
    {
        const char *url = sec_url(&s, "ltsec:" PASSWORD);
        const char *ca = sec_path(&s, "ca.pem"), *other = sec_path(&s, "other-ca.pem");
        const char *const d_ok[] = { "--nats-url", url, "--nats-tls-ca", ca, NULL };
        const char *const c_ok[] = { "--nats-url", url, "--tls-ca", ca, NULL };
        const char *const d_bad[] = { "--nats-url", url, "--nats-tls-ca", other, NULL };
        const char *const c_bad[] = { "--nats-url", url, "--tls-ca", other, NULL };
        const char *const plain[] = { "--nats-url", url, NULL };

        round_trip(&s, d_ok, c_ok);
        refused_all(&s, d_bad, c_bad, "not signed by the given TLS CA");
        refused_all(&s, plain, plain, "the server requires TLS");
    }
    sec_cleanup(&s);
}
END_TEST

START_TEST(tls_mutual)
{
    sec s;

    sec_init(&s, true);
    sec_server(&s,
               "tls { cert_file: \"@SEC@/server.pem\", key_file: \"@SEC@/server.key\",\n"
               "      ca_file: \"@SEC@/ca.pem\", verify: true }\n",
               true);
    {
        const char *url = sec_url(&s, NULL);
        const char *ca = sec_path(&s, "ca.pem"), *cert = sec_path(&s, "client.pem");
        const char *key = sec_path(&s, "client.key"), *other = sec_path(&s, "other-ca.pem");
        const char *const d_ok[] = {
            "--nats-url", url, "--nats-tls-ca", ca, "--nats-tls-cert", cert, "--nats-tls-key",
            key,          NULL
        };
        const char *const c_ok[] = { "--nats-url", url,         "--tls-ca", ca,  "--tls-cert",
                                     cert,         "--tls-key", key,        NULL };
        const char *const d_nocert[] = { "--nats-url", url, "--nats-tls-ca", ca, NULL };
        const char *const c_nocert[] = { "--nats-url", url, "--tls-ca", ca, NULL };
        const char *const d_other[] = {
            "--nats-url", url, "--nats-tls-ca", other, "--nats-tls-cert", cert, "--nats-tls-key",
            key,          NULL
        };
        const char *const c_other[] = { "--nats-url", url,         "--tls-ca", other, "--tls-cert",
                                        cert,         "--tls-key", key,        NULL };

        round_trip(&s, d_ok, c_ok);
        refused_all(&s, d_nocert, c_nocert, "mutual TLS");
        refused_all(&s, d_other, c_other, "not signed by the given TLS CA");
    }
    sec_cleanup(&s);
}
END_TEST

/* ---- nkey users (no JWT) ----------------------------------------------------------------- */

START_TEST(nkey_user)
{
    lt_nkey user, stranger;
    char conf[512], seed_text[80];
    sec s;

    ck_assert_int_eq(lt_nkey_new(&user, 'U'), LT_OK);
    ck_assert_int_eq(lt_nkey_new(&stranger, 'U'), LT_OK);
    sec_init(&s, false);
    snprintf(conf, sizeof(conf), "authorization { users: [ { nkey: %s } ] }\n", user.public_key);
    sec_server(&s, conf, true);
    snprintf(seed_text, sizeof(seed_text), "%s\n", user.seed);
    sec_write(&s, "user.nk", seed_text);
    snprintf(seed_text, sizeof(seed_text), "%s\n", stranger.seed);
    sec_write(&s, "stranger.nk", seed_text);
    {
        const char *url = sec_url(&s, NULL);
        const char *const d_ok[] = { "--nats-url",  url,
                                     "--nats-nkey", user.public_key,
                                     "--nats-seed", sec_path(&s, "user.nk"),
                                     NULL };
        const char *const c_ok[] = {
            "--nats-url", url, "--nkey", user.public_key, "--seed", sec_path(&s, "user.nk"), NULL
        };
        const char *const d_bad[] = { "--nats-url",  url,
                                      "--nats-nkey", stranger.public_key,
                                      "--nats-seed", sec_path(&s, "stranger.nk"),
                                      NULL };
        const char *const c_bad[] = { "--nats-url", url,
                                      "--nkey",     stranger.public_key,
                                      "--seed",     sec_path(&s, "stranger.nk"),
                                      NULL };

        round_trip(&s, d_ok, c_ok);
        refused_all(&s, d_bad, c_bad, "Authorization Violation");
    }
    sec_cleanup(&s);
}
END_TEST

/* ---- operator mode: JWT + nkey creds ------------------------------------------------------ */

START_TEST(jwt_creds)
{
    char *conf;
    sec s;

    sec_init(&s, false);
    conf = sec_operator_config(&s, NULL);
    sec_server(&s, conf, true);
    lt_free(conf);
    sec_operator_ready(&s); /* one first login, not two at once */
    {
        const char *url = sec_url(&s, NULL);
        const char *const d_ok[] = { "--nats-url", url, "--nats-creds", sec_path(&s, "user.creds"),
                                     NULL };
        const char *const c_ok[] = { "--nats-url", url, "--creds", sec_path(&s, "user.creds"),
                                     NULL };
        const char *const d_bad[] = { "--nats-url", url, "--nats-creds",
                                      sec_path(&s, "rogue.creds"), NULL };
        const char *const c_bad[] = { "--nats-url", url, "--creds", sec_path(&s, "rogue.creds"),
                                      NULL };

        round_trip(&s, d_ok, c_ok);
        refused_all(&s, d_bad, c_bad, "Authorization Violation");
    }
    sec_cleanup(&s);
}
END_TEST

int main(void)
{
    Suite *su = suite_create("security_conn");

    lt_test_tcase(su, "conn", 240,
                  (const TTest *const[]){ user_password, tls_server, tls_mutual, nkey_user,
                                          jwt_creds, NULL });
    return lt_test_run_suite(su);
}
