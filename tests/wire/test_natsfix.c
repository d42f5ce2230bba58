/*
 * test_natsfix.c - wire/lt_natsfix.c: the base64url encoder libnats uses for
 * the nonce signature in CONNECT is ours in every program that links wire,
 * and it encodes a signature whose first byte is 0 (libnats 3.4.1 sent no
 * "sig" then, and nats-server refused the login: 1 connection in 256).
 *
 * Case "encode" is deterministic: a fixed user seed and nonce whose ed25519
 * signature begins with 0x00, signed by libnats itself (nats_Sign), encoded
 * through the symbol as the dynamic linker resolves it for libnats. Case
 * "connect" logs in to a real nats-server as an nkey user many times: with
 * the 3.4.1 encoder, 1500 logins all pass with probability (255/256)^1500,
 * about 0.3 %.
 */
#include <check.h>
#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <nats/nats.h>

#include "lt_alloc.h"
#include "lt_natsrv.h"
#include "lt_testutil.h"

/* Seed bytes 1..32 as a user nkey, and a nonce whose signature starts with 0x00
 * (found offline with an independent ed25519 implementation). */
#define SEED "SUAACAQDAQCQMBYIBEFAWDANBYHRAEISCMKBKFQXDAMRUGY4DUPB6IC5CQ"
#define PUBKEY "UB43KVROR7TFJ6KAPCYRF2FJROTZAH4FHLTJLPWX4DRZCC5NASLGJBFE"
#define NONCE "lt-nonce-000084"
#define NONCE_SIG \
    "AO2mqonZQrBcjsSYhkZ2oSII4Qf0aTwrUzTlxRF6yvaCF-f21XGG-JDMLfd5iO8fgye5e_ghaQGGYBl17HkXAg"

typedef natsStatus (*encode_fn)(const unsigned char *src, int len, char **out);

/* The encoder as libnats' PLT call binds it (global lookup scope, executable first). */
static encode_fn bound_encoder(void)
{
    void *f = dlsym(RTLD_DEFAULT, "nats_Base64RawURL_EncodeString");
    encode_fn fn;

    ck_assert_msg(f != NULL, "libnats does not export nats_Base64RawURL_EncodeString");
    memcpy(&fn, &f, sizeof(fn)); /* POSIX: dlsym's object pointer holds the function */
    return fn;
}

/* The object that holds function f. */
static const char *object_of(void (*f)(void), Dl_info *info)
{
    void *addr;

    memcpy(&addr, &f, sizeof(addr));
    ck_assert(dladdr(addr, info) != 0);
    return info->dli_fname;
}

static void check_encode(encode_fn enc, const char *raw, int len, const char *want)
{
    char *out = NULL;

    ck_assert_int_eq(enc((const unsigned char *)raw, len, &out), NATS_OK);
    ck_assert_msg(out != NULL, "no text for %d bytes (want %s)", len, want);
    ck_assert_str_eq(out, want);
    free(out); /* malloc'ed, as nats.c frees it */
}

START_TEST(binds_to_the_executable)
{
    Dl_info where, self;
    const char *lib = object_of((void (*)(void))bound_encoder(), &where);
    const char *exe = object_of((void (*)(void))bound_encoder, &self);

    ck_assert_msg(strcmp(lib, exe) == 0,
                  "nats_Base64RawURL_EncodeString resolves to %s, not to this program (%s)", lib,
                  exe);
}
END_TEST

START_TEST(signature_beginning_with_zero_is_encoded)
{
    unsigned char *sig = NULL;
    int len = 0;

    ck_assert_int_eq(nats_Open(-1), NATS_OK);
    ck_assert_int_eq(nats_Sign(SEED, NONCE, &sig, &len), NATS_OK);
    ck_assert_int_eq(len, 64);
    ck_assert_int_eq(sig[0], 0); /* the case 3.4.1 dropped */
    check_encode(bound_encoder(), (const char *)sig, len, NONCE_SIG);
    free(sig);
    nats_Close();
}
END_TEST

START_TEST(rfc4648_vectors_and_edges)
{
    encode_fn enc = bound_encoder();
    char *out = (char *)1;

    check_encode(enc, "f", 1, "Zg");
    check_encode(enc, "fo", 2, "Zm8");
    check_encode(enc, "foo", 3, "Zm9v");
    check_encode(enc, "foob", 4, "Zm9vYg");
    check_encode(enc, "fooba", 5, "Zm9vYmE");
    check_encode(enc, "foobar", 6, "Zm9vYmFy");
    check_encode(enc, "\xfb\xff", 2, "-_8"); /* URL alphabet, no padding */
    check_encode(enc, "\0\0\0", 3, "AAAA");
    check_encode(enc, "\0", 1, "AA");
    ck_assert_int_eq(enc(NULL, 0, &out), NATS_OK);
    ck_assert_ptr_null(out);
    out = (char *)1;
    ck_assert_int_eq(enc((const unsigned char *)"x", 0, &out), NATS_OK);
    ck_assert_ptr_null(out);
}
END_TEST

START_TEST(nkey_logins_all_pass)
{
    const int logins = getenv("LT_UNDER_VALGRIND") != NULL ? 100 : 1500;
    lt_natsrv_opts o = { .no_jetstream = true, .info_probe = true };
    lt_natsrv *srv = NULL;
    char *dir = NULL, seedfile[600], conf[256];

    ck_assert_int_eq(lt_test_tmpdir(&dir, "lt-natsfix"), LT_OK);
    snprintf(seedfile, sizeof(seedfile), "%s/user.nk", dir);
    ck_assert_int_eq(lt_test_write_file(seedfile, SEED "\n", strlen(SEED) + 1), LT_OK);
    snprintf(conf, sizeof(conf), "authorization { users: [ { nkey: %s } ] }\n", PUBKEY);
    o.config_text = conf;
    ck_assert_int_eq(lt_natsrv_start(&srv, &o), LT_OK);
    for (int i = 0; i < logins; i++) {
        natsOptions *opts = NULL;
        natsConnection *nc = NULL;
        natsStatus s;

        ck_assert_int_eq(natsOptions_Create(&opts), NATS_OK);
        ck_assert_int_eq(natsOptions_SetURL(opts, lt_natsrv_url(srv)), NATS_OK);
        ck_assert_int_eq(natsOptions_SetNKeyFromSeed(opts, PUBKEY, seedfile), NATS_OK);
        s = natsConnection_Connect(&nc, opts);
        ck_assert_msg(s == NATS_OK, "login %d of %d refused: %s (%s)", i + 1, logins,
                      natsStatus_GetText(s), nats_GetLastError(NULL));
        natsConnection_Destroy(nc);
        natsOptions_Destroy(opts);
    }
    ck_assert_int_eq(lt_natsrv_stop(srv), LT_OK);
    ck_assert_int_eq(lt_test_rmtree(dir), LT_OK);
    lt_free(dir);
    nats_Close();
}
END_TEST

int main(void)
{
    Suite *su = suite_create("natsfix");

    lt_test_tcase(su, "encode", 0,
                  (const TTest *const[]){ binds_to_the_executable,
                                          signature_beginning_with_zero_is_encoded,
                                          rfc4648_vectors_and_edges, NULL });
    lt_test_tcase(su, "connect", 300, (const TTest *const[]){ nkey_logins_all_pass, NULL });
    return lt_test_run_suite(su);
}
