/*
 * test_secrets.c - secrets never show in what latticed, latticed-host and
 * latticectl print, in the status KV documents or in the control plane's
 * events: passwords and tokens in URLs, nkey seeds, creds file contents (user
 * JWT and seed), and secret references in manifests (key, field, backend).
 * Everything runs at debug log level, through successes and failures (wrong
 * password, unknown nkey, unknown account, bad token), and all of the output
 * plus every revision of the status bucket and every event kept in the event
 * stream is searched for each distinctive secret string.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <nats/nats.h>

#include "lt_alloc.h"
#include "lt_buf.h"
#include "lt_nkeys.h"
#include "sec.h"
#include "lt_testutil.h"

#define LD_PW "Ld-LEAK-pw-71x4"
#define CTL_PW "Ctl-LEAK-pw-52q9"
#define WRONG_PW "Wrong-LEAK-pw-3391"
#define TOKEN "Tok-LEAK-7781"
#define AT_PW "Wrong@LEAK-at-4242" /* an unencoded '@' in a password */
#define REF_KEY "secret/LEAK-key-8813"
#define REF_FIELD "LEAK-field-2290"
#define REF_BACKEND "LEAK-backend-5521"

static const char app_with_secrets[] = "apiVersion: core.oam.dev/v1beta1\n"
                                       "kind: Application\n"
                                       "metadata:\n"
                                       "  name: secapp\n"
                                       "  annotations:\n"
                                       "    version: v1\n"
                                       "spec:\n"
                                       "  policies:\n"
                                       "    - name: vault\n"
                                       "      type: policy.secret.wasmcloud.dev/v1alpha1\n"
                                       "      properties:\n"
                                       "        backend: " REF_BACKEND "\n"
                                       "  components:\n"
                                       "    - name: comp\n"
                                       "      type: component\n"
                                       "      properties:\n"
                                       "        image: ghcr.io/example/sec-comp:0.1.0\n"
                                       "        secrets:\n"
                                       "          - name: db-password\n"
                                       "            properties:\n"
                                       "              policy: vault\n"
                                       "              key: " REF_KEY "\n"
                                       "              field: " REF_FIELD "\n"
                                       "      traits:\n"
                                       "        - type: spreadscaler\n"
                                       "          properties:\n"
                                       "            instances: 2\n";

/* Everything the programs printed, the status bucket and the event stream, for the search. */
typedef struct {
    lt_buf all;
} seen;

static void seen_add(seen *v, const char *what, const char *text)
{
    ck_assert_int_eq(lt_buf_appendf(&v->all, "\n==== %s\n%s", what, text), LT_OK);
}

static void seen_procs(seen *v, const sec *s)
{
    for (size_t i = 0; i < s->n_procs; i++) {
        char *log = sec_log(&s->procs[i]);

        seen_add(v, s->procs[i].log, log);
        lt_free(log);
    }
}

/* Run latticectl, keep its output; returns the exit code. */
static int ctl(sec *s, seen *v, const char *const *conn, const char *const *args)
{
    lt_test_cmd_result r;
    int code = sec_ctl(s, conn, args, &r);

    seen_add(v, "latticectl stdout", r.out);
    seen_add(v, "latticectl stderr", r.err);
    lt_test_cmd_result_cleanup(&r);
    return code;
}

/* A program run to completion (expected to fail), its output kept. */
static void run_failing(sec *s, seen *v, const char *bin_env, const char *const *args)
{
    const char *argv[32];
    size_t n = 0;
    lt_test_cmd c = { .argv = argv, .cwd = s->dir, .timeout_ms = 30000 };
    lt_test_cmd_result r;

    argv[n++] = getenv(bin_env);
    for (size_t i = 0; args[i] != NULL; i++)
        argv[n++] = args[i];
    argv[n] = NULL;
    ck_assert_int_eq(lt_test_run(&c, &r), LT_OK);
    ck_assert_msg(r.exit_code != 0, "%s did not fail: %s", argv[0], r.err);
    seen_add(v, argv[0], r.out);
    seen_add(v, argv[0], r.err);
    lt_test_cmd_result_cleanup(&r);
}

/* Every message kept in a stream (all subjects of filter), with headers, into v. The
 * subscription goes to *keep: destroyed by the caller once nc is closed (latticed may still
 * write there, and nats.c 3.4's reader uses a subscription unlocked: wire/lt_conn.h). */
static void seen_stream(seen *v, natsConnection *nc, const char *stream, const char *filter,
                        natsSubscription **keep)
{
    jsCtx *js = NULL;
    jsSubOptions so;
    natsSubscription *sub = NULL;
    natsMsg *m = NULL;
    jsErrCode jerr = 0;
    size_t n = 0;

    ck_assert_int_eq(natsConnection_JetStream(&js, nc, NULL), NATS_OK);
    jsSubOptions_Init(&so);
    so.Stream = stream;
    so.Config.DeliverPolicy = js_DeliverAll;
    so.Config.AckPolicy = js_AckNone;
    ck_assert_int_eq(js_SubscribeSync(&sub, js, filter, NULL, &so, &jerr), NATS_OK);
    while (natsSubscription_NextMsg(&m, sub, 1500) == NATS_OK) {
        const char **keys = NULL;
        int nk = 0;

        seen_add(v, stream, natsMsg_GetSubject(m));
        if (natsMsgHeader_Keys(m, &keys, &nk) == NATS_OK) {
            for (int i = 0; i < nk; i++) {
                const char *val = NULL;

                if (natsMsgHeader_Get(m, keys[i], &val) == NATS_OK)
                    seen_add(v, keys[i], val);
            }
            free((void *)keys);
        }
        ck_assert_int_eq(lt_buf_appendf(&v->all, "\n%.*s", natsMsg_GetDataLength(m),
                                        natsMsg_GetData(m)),
                         LT_OK);
        natsMsg_Destroy(m);
        n++;
    }
    *keep = sub;
    ck_assert_msg(n > 0, "stream %s is empty: nothing was checked", stream);
    jsCtx_Destroy(js);
}

static void seen_stores(seen *v, const char *url, const char *creds)
{
    natsOptions *o = NULL;
    natsConnection *nc = NULL;
    natsSubscription *subs[2] = { NULL, NULL };

    ck_assert_int_eq(natsOptions_Create(&o), NATS_OK);
    ck_assert_int_eq(natsOptions_SetURL(o, url), NATS_OK);
    if (creds != NULL)
        ck_assert_int_eq(natsOptions_SetUserCredentialsFromFiles(o, creds, NULL), NATS_OK);
    {
        natsStatus st = natsConnection_Connect(&nc, o);

        ck_assert_msg(st == NATS_OK, "connect to read the stores: %s (%s)", natsStatus_GetText(st),
                      nats_GetLastError(NULL));
    }
    seen_stream(v, nc, "KV_latticed_status", "$KV.latticed_status.>", &subs[0]);
    seen_stream(v, nc, "latticed_events", "lattice.*.evt.cp.>", &subs[1]);
    natsConnection_Close(nc); /* joins nats.c's reader: then the subscriptions can go */
    natsSubscription_Destroy(subs[0]);
    natsSubscription_Destroy(subs[1]);
    natsConnection_Destroy(nc);
    natsOptions_Destroy(o);
}

static void assert_absent(const seen *v, const char *secret)
{
    const char *at = strstr(v->all.ptr, secret);

    if (at != NULL) {
        const char *from = at - v->all.ptr > 300 ? at - 300 : v->all.ptr;

        ck_abort_msg("secret '%s' found in output:\n%.400s", secret, from);
    }
}

START_TEST(passwords_seeds_refs)
{
    lt_nkey hostkey, stranger;
    char conf[1024], text[80];
    seen v;
    sec s;

    lt_buf_init(&v.all, 64u << 20);
    ck_assert_int_eq(lt_nkey_new(&hostkey, 'U'), LT_OK);
    ck_assert_int_eq(lt_nkey_new(&stranger, 'U'), LT_OK);
    sec_init(&s, false);
    sec_write(&s, "app.yaml", app_with_secrets);
    snprintf(text, sizeof(text), "%s\n", hostkey.seed);
    sec_write(&s, "host.nk", text);
    snprintf(text, sizeof(text), "%s\n", stranger.seed);
    sec_write(&s, "stranger.nk", text);
    snprintf(conf, sizeof(conf),
             "authorization { users: [\n"
             "  { user: latticed, password: \"" LD_PW "\" }\n"
             "  { user: ctl, password: \"" CTL_PW "\" }\n"
             "  { nkey: %s }\n] }\n",
             hostkey.public_key);
    sec_server(&s, conf, true);
    {
        const char *const dconn[] = { "--nats-url", sec_url(&s, "latticed:" LD_PW), NULL };
        const char *const hconn[] = { "--nats-url",
                                      sec_url(&s, NULL),
                                      "--nats-nkey",
                                      hostkey.public_key,
                                      "--nats-seed",
                                      sec_path(&s, "host.nk"),
                                      "--host-id",
                                      "sechost",
                                      "--default-runner",
                                      "sleep 600",
                                      "--heartbeat-interval",
                                      "500ms",
                                      "--log-level",
                                      "debug",
                                      NULL };
        const char *const cconn[] = { "--nats-url", sec_url(&s, "ctl:" CTL_PW), NULL };
        const char *argv[24];
        size_t i;
        sec_proc *d, *h;

        d = sec_latticed(&s, dconn);
        argv[0] = getenv("LATTICED_HOST_BIN");
        for (i = 0; hconn[i] != NULL; i++)
            argv[i + 1] = hconn[i];
        argv[i + 1] = NULL;
        h = sec_spawn(&s, "host", argv);
        sec_apply_deployed(&s, cconn);
        {
            const char *const cmds[][6] = {
                { "status", "secapp", NULL },     { "status", "secapp", "-o", "json", NULL },
                { "hosts", "-o", "json", NULL },  { "events", NULL },
                { "events", "-o", "json", NULL }, { "list", NULL },
            };

            for (i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++)
                ck_assert_int_eq(ctl(&s, &v, cconn, cmds[i]), 0);
        }
        seen_stores(&v, sec_url(&s, "latticed:" LD_PW), NULL);
        ck_assert_int_eq(sec_stop(h), 0);
        ck_assert_int_eq(sec_stop(d), 0);
    }
    { /* failures: wrong password, unknown nkey, a token nobody accepts */
        const char *const ld_wrong[] = { "--nats-url", sec_url(&s, "latticed:" WRONG_PW),
                                         "--log-level", "debug", NULL };
        const char *const ld_token[] = { "--nats-url", sec_url(&s, TOKEN), "--log-level", "debug",
                                         NULL };
        const char *const h_wrong[] = { "--nats-url", sec_url(&s, "x:" WRONG_PW), "--log-level",
                                        "debug", NULL };
        const char *const h_stranger[] = { "--nats-url",  sec_url(&s, NULL),
                                           "--nats-nkey", stranger.public_key,
                                           "--nats-seed", sec_path(&s, "stranger.nk"),
                                           "--log-level", "debug",
                                           NULL };
        const char *const ld_at[] = { "--nats-url", sec_url(&s, "latticed:" AT_PW), "--log-level",
                                      "debug", NULL };
        const char *const c_at[] = { "list", "--nats-url", sec_url(&s, "ctl:" AT_PW), NULL };
        const char *const c_wrong[] = { "list", "--nats-url", sec_url(&s, "ctl:" WRONG_PW), NULL };
        const char *const c_token[] = { "status", "secapp", "--nats-url", sec_url(&s, TOKEN),
                                        NULL };
        const char *const c_stranger[] = { "list",
                                           "--nats-url",
                                           sec_url(&s, NULL),
                                           "--nkey",
                                           stranger.public_key,
                                           "--seed",
                                           sec_path(&s, "stranger.nk"),
                                           NULL };

        run_failing(&s, &v, "LATTICED_BIN", ld_wrong);
        run_failing(&s, &v, "LATTICED_BIN", ld_token);
        run_failing(&s, &v, "LATTICED_HOST_BIN", h_wrong);
        run_failing(&s, &v, "LATTICED_HOST_BIN", h_stranger);
        run_failing(&s, &v, "LATTICED_BIN", ld_at);
        run_failing(&s, &v, "LATTICECTL_BIN", c_at);
        run_failing(&s, &v, "LATTICECTL_BIN", c_wrong);
        run_failing(&s, &v, "LATTICECTL_BIN", c_token);
        run_failing(&s, &v, "LATTICECTL_BIN", c_stranger);
    }
    seen_procs(&v, &s);
    /* the search means something: what is not secret is there */
    ck_assert_ptr_nonnull(strstr(v.all.ptr, "secapp"));
    ck_assert_ptr_nonnull(strstr(v.all.ptr, "sechost"));
    ck_assert_ptr_nonnull(strstr(v.all.ptr, "Authorization Violation"));
    assert_absent(&v, LD_PW);
    assert_absent(&v, CTL_PW);
    assert_absent(&v, WRONG_PW);
    assert_absent(&v, TOKEN);
    assert_absent(&v, "LEAK-at-4242");
    assert_absent(&v, hostkey.seed);
    assert_absent(&v, stranger.seed);
    assert_absent(&v, REF_KEY);
    assert_absent(&v, REF_FIELD);
    assert_absent(&v, REF_BACKEND);
    lt_buf_cleanup(&v.all);
    sec_cleanup(&s);
    nats_Close();
}
END_TEST

START_TEST(creds_files)
{
    sec_secrets sx;
    char *conf;
    seen v;
    sec s;

    lt_buf_init(&v.all, 64u << 20);
    sec_init(&s, false);
    sec_write(&s, "app.yaml", app_with_secrets);
    conf = sec_operator_config(&s, &sx);
    sec_server(&s, conf, true);
    lt_free(conf);
    sec_operator_ready(&s); /* one first login, not three at once */
    {
        const char *creds = sec_path(&s, "user.creds"), *rogue = sec_path(&s, "rogue.creds");
        const char *const dconn[] = { "--nats-url", sec_url(&s, NULL), "--nats-creds", creds,
                                      NULL };
        const char *const cconn[] = { "--nats-url", sec_url(&s, NULL), "--creds", creds, NULL };
        const char *const ld_rogue[] = { "--nats-url", sec_url(&s, NULL), "--nats-creds",
                                         rogue,        "--log-level",     "debug",
                                         NULL };
        const char *const h_rogue[] = { "--nats-url", sec_url(&s, NULL), "--nats-creds",
                                        rogue,        "--log-level",     "debug",
                                        NULL };
        const char *const c_rogue[] = { "list",    "--nats-url", sec_url(&s, NULL),
                                        "--creds", rogue,        NULL };
        const char *const status[] = { "status", "secapp", "-o", "json", NULL };
        const char *const events[] = { "events", "-o", "json", NULL };
        sec_proc *d = sec_latticed(&s, dconn), *h = sec_hosts(&s, "sec", 2, dconn);

        sec_apply_deployed(&s, cconn);
        ck_assert_int_eq(ctl(&s, &v, cconn, status), 0);
        ck_assert_int_eq(ctl(&s, &v, cconn, events), 0);
        seen_stores(&v, sec_url(&s, NULL), creds);
        ck_assert_int_eq(sec_stop(h), 0);
        ck_assert_int_eq(sec_stop(d), 0);
        run_failing(&s, &v, "LATTICED_BIN", ld_rogue);
        run_failing(&s, &v, "LATTICED_HOST_BIN", h_rogue);
        run_failing(&s, &v, "LATTICECTL_BIN", c_rogue);
    }
    seen_procs(&v, &s);
    ck_assert_ptr_nonnull(strstr(v.all.ptr, "secapp"));
    ck_assert_ptr_nonnull(strstr(v.all.ptr, "Authorization Violation"));
    assert_absent(&v, sx.user_seed);
    assert_absent(&v, sx.rogue_seed);
    assert_absent(&v, sx.user_jwt_sig);
    assert_absent(&v, sx.rogue_jwt_sig);
    assert_absent(&v, REF_KEY);
    assert_absent(&v, REF_FIELD);
    assert_absent(&v, REF_BACKEND);
    lt_buf_cleanup(&v.all);
    sec_cleanup(&s);
    nats_Close();
}
END_TEST

int main(void)
{
    Suite *su = suite_create("security_secrets");

    lt_test_tcase(su, "secrets", 240,
                  (const TTest *const[]){ passwords_seeds_refs, creds_files, NULL });
    return lt_test_run_suite(su);
}
