/*
 * lt_nkeys.c - nkeys (ed25519 through libcrypto, nkeys text encoding) and
 * ed25519-nkey JWTs for tests. Written from the published formats.
 */
#include "lt_nkeys.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

#include <openssl/evp.h>
#include <openssl/rand.h>

#include "lt_alloc.h"
#include "lt_nkey.h"

/* base64url without padding (JWT segments). out must hold 4 * ((n + 2) / 3) + 1. */
static void base64url(const unsigned char *p, size_t n, char *out)
{
    int len = EVP_EncodeBlock((unsigned char *)out, p, (int)n);

    while (len > 0 && out[len - 1] == '=')
        len--;
    out[len] = '\0';
    for (int i = 0; i < len; i++) {
        if (out[i] == '+')
            out[i] = '-';
        else if (out[i] == '/')
            out[i] = '_';
    }
}

lt_status lt_nkey_new(lt_nkey *k, char kind)
{
    EVP_PKEY *pkey = NULL;
    size_t publen = sizeof(k->raw_public);
    lt_status st = LT_OK;

    memset(k, 0, sizeof(*k));
    if (lt_nkey_text(k->raw_seed, kind, true, k->seed) != LT_OK) /* checks the kind */
        return LT_ERR_INVALID;
    if (RAND_bytes(k->raw_seed, (int)sizeof(k->raw_seed)) != 1)
        return LT_FAIL(LT_ERR_IO, "RAND_bytes failed");
    pkey = EVP_PKEY_new_raw_private_key(EVP_PKEY_ED25519, NULL, k->raw_seed, sizeof(k->raw_seed));
    if (pkey == NULL || EVP_PKEY_get_raw_public_key(pkey, k->raw_public, &publen) != 1 ||
        publen != sizeof(k->raw_public)) {
        st = LT_FAIL(LT_ERR_IO, "ed25519 key generation failed");
        goto out;
    }
    LT_IGNORE(lt_nkey_text(k->raw_public, kind, false, k->public_key));
    LT_IGNORE(lt_nkey_text(k->raw_seed, kind, true, k->seed));
out:
    EVP_PKEY_free(pkey);
    return st;
}

static lt_status sign(const lt_nkey *k, const char *msg, size_t len, unsigned char sig[64])
{
    EVP_PKEY *pkey = EVP_PKEY_new_raw_private_key(EVP_PKEY_ED25519, NULL, k->raw_seed, 32);
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    size_t siglen = 64;
    lt_status st = LT_OK;

    if (pkey == NULL || ctx == NULL || EVP_DigestSignInit(ctx, NULL, NULL, NULL, pkey) != 1 ||
        EVP_DigestSign(ctx, sig, &siglen, (const unsigned char *)msg, len) != 1 || siglen != 64)
        st = LT_FAIL(LT_ERR_IO, "ed25519 signature failed");
    EVP_MD_CTX_free(ctx);
    EVP_PKEY_free(pkey);
    return st;
}

lt_status lt_jwt_sign(const lt_nkey *issuer, json_t *claims, char **new_jwt)
{
    static const char header[] = "{\"typ\":\"JWT\",\"alg\":\"ed25519-nkey\"}";
    unsigned char digest[32], sig[64];
    unsigned int dlen = sizeof(digest);
    char jti[64], *body = NULL, *h64 = NULL, *b64 = NULL, *out = NULL, sig64[100];
    size_t blen, tlen;
    lt_status st = LT_OK;

    *new_jwt = NULL;
    json_object_del(claims, "jti");
    if (json_object_set_new(claims, "iss", json_string(issuer->public_key)) != 0 ||
        json_object_set_new(claims, "iat", json_integer((json_int_t)time(NULL))) != 0)
        return LT_ERR_NOMEM;
    body = json_dumps(claims, JSON_COMPACT | JSON_SORT_KEYS);
    if (body == NULL ||
        EVP_Digest(body, strlen(body), digest, &dlen, EVP_sha512_256(), NULL) != 1) {
        st = LT_FAIL(LT_ERR_IO, "claims hash failed");
        goto out;
    }
    lt_nkey_base32(digest, dlen, jti);
    free(body);
    if (json_object_set_new(claims, "jti", json_string(jti)) != 0 ||
        (body = json_dumps(claims, JSON_COMPACT | JSON_SORT_KEYS)) == NULL) {
        st = LT_ERR_NOMEM;
        goto out;
    }
    blen = strlen(body);
    h64 = lt_malloc(sizeof(header) * 2);
    b64 = lt_malloc(4 * ((blen + 2) / 3) + 1);
    if (h64 == NULL || b64 == NULL) {
        st = LT_ERR_NOMEM;
        goto out;
    }
    base64url((const unsigned char *)header, sizeof(header) - 1, h64);
    base64url((const unsigned char *)body, blen, b64);
    tlen = strlen(h64) + 1 + strlen(b64);
    out = lt_malloc(tlen + 1 + sizeof(sig64));
    if (out == NULL) {
        st = LT_ERR_NOMEM;
        goto out;
    }
    snprintf(out, tlen + 1, "%s.%s", h64, b64);
    st = sign(issuer, out, tlen, sig);
    if (st != LT_OK)
        goto out;
    base64url(sig, sizeof(sig), sig64);
    snprintf(out + tlen, 1 + sizeof(sig64), ".%s", sig64);
    *new_jwt = out;
    out = NULL;
out:
    free(body);
    lt_free(h64);
    lt_free(b64);
    lt_free(out);
    return st;
}

lt_status lt_creds_write(const char *path, const char *user_jwt, const lt_nkey *user)
{
    FILE *f = fopen(path, "w");
    int bad;

    if (f == NULL)
        return LT_FAIL(LT_ERR_IO, "cannot create %s", path);
    fprintf(f,
            "-----BEGIN NATS USER JWT-----\n%s\n------END NATS USER JWT------\n\n"
            "************************* IMPORTANT *************************\n"
            "NKEY Seed printed below can be used to sign and prove identity.\n"
            "NKEYs are sensitive and should be treated as secrets.\n\n"
            "-----BEGIN USER NKEY SEED-----\n%s\n------END USER NKEY SEED------\n\n"
            "*************************************************************\n",
            user_jwt, user->seed);
    bad = ferror(f);
    if (fclose(f) != 0 || bad)
        return LT_FAIL(LT_ERR_IO, "cannot write %s", path);
    return LT_OK;
}
