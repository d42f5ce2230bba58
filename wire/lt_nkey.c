/*
 * lt_nkey.c - nkeys text form and ed25519 command signatures through
 * libcrypto (see lt_nkey.h). Written from the published nkeys format.
 */
#include "lt_nkey.h"

#include <string.h>

#include <openssl/evp.h>

#define KIND_SEED (18u << 3) /* 'S' */
#define KIND_USER (20u << 3) /* 'U' */
#define SIG_DOMAIN "latticed-cmd-v1\n"
#define MAX_SIGNED (8u * 1024u * 1024u) /* a command is at most a NATS message */

static const char B32[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";

/* CRC-16/XMODEM: polynomial 0x1021, initial value 0. */
static unsigned crc16(const uint8_t *p, size_t n)
{
    unsigned crc = 0;

    for (size_t i = 0; i < n; i++) {
        crc ^= (unsigned)p[i] << 8;
        for (int b = 0; b < 8; b++)
            crc = (crc & 0x8000u) ? ((crc << 1) ^ 0x1021u) : (crc << 1);
        crc &= 0xffffu;
    }
    return crc;
}

void lt_nkey_base32(const uint8_t *p, size_t n, char *out)
{
    unsigned buf = 0;
    int bits = 0;
    size_t o = 0;

    for (size_t i = 0; i < n; i++) {
        buf = (buf << 8) | p[i];
        bits += 8;
        while (bits >= 5) {
            out[o++] = B32[(buf >> (bits - 5)) & 31u];
            bits -= 5;
        }
        buf &= (1u << bits) - 1u;
    }
    if (bits > 0)
        out[o++] = B32[(buf << (5 - bits)) & 31u];
    out[o] = '\0';
}

/* Exactly n bytes from base32 text of exactly the right length; false otherwise. */
static bool b32_decode(const char *t, size_t tlen, uint8_t *out, size_t n)
{
    unsigned buf = 0;
    int bits = 0;
    size_t o = 0;

    if (tlen != (n * 8 + 4) / 5)
        return false;
    for (size_t i = 0; i < tlen; i++) {
        const char *c = t[i] != '\0' ? strchr(B32, t[i]) : NULL;

        if (c == NULL)
            return false;
        buf = (buf << 5) | (unsigned)(c - B32);
        bits += 5;
        if (bits >= 8) {
            if (o == n)
                return false;
            out[o++] = (uint8_t)(buf >> (bits - 8));
            bits -= 8;
            buf &= (1u << bits) - 1u;
        }
    }
    return o == n && buf == 0; /* leftover bits must be zero padding */
}

/* Trimmed view of text into [*start, *start + *len). */
static void trim(const char *text, const char **start, size_t *len)
{
    const char *e;

    while (*text == ' ' || *text == '\t' || *text == '\n' || *text == '\r')
        text++;
    e = text + strlen(text);
    while (e > text && (e[-1] == ' ' || e[-1] == '\t' || e[-1] == '\n' || e[-1] == '\r'))
        e--;
    *start = text;
    *len = (size_t)(e - text);
}

static bool crc_ok(const uint8_t *p, size_t n)
{
    return crc16(p, n - 2) == ((unsigned)p[n - 2] | ((unsigned)p[n - 1] << 8));
}

static void put_crc(uint8_t *p, size_t n)
{
    unsigned c = crc16(p, n - 2);

    p[n - 2] = (uint8_t)(c & 0xffu);
    p[n - 1] = (uint8_t)(c >> 8);
}

lt_status lt_nkey_parse_seed(const char *text, uint8_t raw[32])
{
    uint8_t b[36];
    const char *t;
    size_t n;

    trim(text != NULL ? text : "", &t, &n);
    if (!b32_decode(t, n, b, sizeof(b)) || !crc_ok(b, sizeof(b)) || (b[0] & 0xf8u) != KIND_SEED)
        return LT_FAIL(LT_ERR_PARSE, "not an nkey seed");
    memcpy(raw, b + 2, 32);
    return LT_OK;
}

lt_status lt_nkey_parse_public(const char *text, uint8_t raw[32])
{
    uint8_t b[35];
    const char *t;
    size_t n;

    trim(text != NULL ? text : "", &t, &n);
    if (!b32_decode(t, n, b, sizeof(b)) || !crc_ok(b, sizeof(b)) || b[0] == KIND_SEED)
        return LT_FAIL(LT_ERR_PARSE, "not an nkey public key");
    memcpy(raw, b + 1, 32);
    return LT_OK;
}

/* The nkeys prefix byte of a kind: its base32 letter's value in the top five bits. */
static int prefix_of(char kind)
{
    switch (kind) {
    case 'U':
        return (int)KIND_USER;
    case 'A':
        return 0;
    case 'O':
        return 14 << 3;
    case 'N':
        return 13 << 3;
    default:
        return -1;
    }
}

lt_status lt_nkey_text(const uint8_t raw[32], char kind, bool seed, char *text)
{
    int prefix = prefix_of(kind);
    uint8_t b[36];

    if (prefix < 0)
        return LT_FAIL(LT_ERR_INVALID, "unknown nkey kind '%c'", kind);
    if (seed) {
        b[0] = (uint8_t)(KIND_SEED | ((unsigned)prefix >> 5));
        b[1] = (uint8_t)(((unsigned)prefix & 31u) << 3);
        memcpy(b + 2, raw, 32);
        put_crc(b, 36);
        lt_nkey_base32(b, 36, text);
    } else {
        b[0] = (uint8_t)prefix;
        memcpy(b + 1, raw, 32);
        put_crc(b, 35);
        lt_nkey_base32(b, 35, text);
    }
    return LT_OK;
}

void lt_nkey_seed_text(const uint8_t seed[32], char *text)
{
    LT_IGNORE(lt_nkey_text(seed, 'U', true, text));
}

lt_status lt_nkey_public_of(const uint8_t seed[32], uint8_t pub[32], char *text)
{
    EVP_PKEY *k = EVP_PKEY_new_raw_private_key(EVP_PKEY_ED25519, NULL, seed, 32);
    size_t n = 32;
    lt_status st = LT_OK;

    if (k == NULL || EVP_PKEY_get_raw_public_key(k, pub, &n) != 1 || n != 32) {
        st = LT_FAIL(LT_ERR_IO, "libcrypto: no ed25519 key");
        goto out;
    }
    if (text != NULL)
        st = lt_nkey_text(pub, 'U', false, text);
out:
    EVP_PKEY_free(k);
    return st;
}

/* The signed bytes: domain, subject, newline, body. NULL when too big or out of memory. */
static uint8_t *signed_bytes(const char *subject, const void *body, size_t len, size_t *n)
{
    size_t dl = strlen(SIG_DOMAIN), sl = strlen(subject);
    uint8_t *m;

    if (len > MAX_SIGNED || sl > MAX_SIGNED)
        return NULL;
    *n = dl + sl + 1 + len;
    m = OPENSSL_malloc(*n > 0 ? *n : 1);
    if (m == NULL)
        return NULL;
    memcpy(m, SIG_DOMAIN, dl);
    memcpy(m + dl, subject, sl);
    m[dl + sl] = '\n';
    if (len > 0)
        memcpy(m + dl + sl + 1, body, len);
    return m;
}

lt_status lt_nkey_sign_command(const uint8_t seed[32], const char *subject, const void *body,
                               size_t len, char *sig)
{
    EVP_PKEY *k = EVP_PKEY_new_raw_private_key(EVP_PKEY_ED25519, NULL, seed, 32);
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    uint8_t raw[64], b64[96];
    size_t n = 0, sl = sizeof(raw);
    uint8_t *m = signed_bytes(subject, body, len, &n);
    lt_status st = LT_OK;
    int el;

    if (k == NULL || ctx == NULL || m == NULL ||
        EVP_DigestSignInit(ctx, NULL, NULL, NULL, k) != 1 ||
        EVP_DigestSign(ctx, raw, &sl, m, n) != 1 || sl != 64) {
        st = LT_FAIL(LT_ERR_IO, "libcrypto: cannot sign the command");
        goto out;
    }
    el = EVP_EncodeBlock(b64, raw, 64); /* 88 characters, two of them '=' */
    for (int i = 0; i < el && i < LT_NKEY_SIG_TEXT; i++)
        sig[i] = b64[i] == '+' ? '-' : b64[i] == '/' ? '_' : (char)b64[i];
    sig[LT_NKEY_SIG_TEXT] = '\0';
out:
    OPENSSL_free(m);
    EVP_MD_CTX_free(ctx);
    EVP_PKEY_free(k);
    return st;
}

bool lt_nkey_verify_command(const uint8_t pub[32], const char *subject, const void *body,
                            size_t len, const char *sig)
{
    uint8_t b64[LT_NKEY_SIG_TEXT + 3], raw[66];
    EVP_PKEY *k = NULL;
    EVP_MD_CTX *ctx = NULL;
    uint8_t *m = NULL;
    size_t n = 0;
    bool ok = false;

    if (sig == NULL || strlen(sig) != LT_NKEY_SIG_TEXT)
        return false;
    for (size_t i = 0; i < LT_NKEY_SIG_TEXT; i++) {
        char c = sig[i];

        if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
              c == '-' || c == '_'))
            return false;
        b64[i] = c == '-' ? '+' : c == '_' ? '/' : (uint8_t)c;
    }
    b64[LT_NKEY_SIG_TEXT] = '=';
    b64[LT_NKEY_SIG_TEXT + 1] = '=';
    if (EVP_DecodeBlock(raw, b64, LT_NKEY_SIG_TEXT + 2) != 66) /* 64 bytes + 2 of padding */
        return false;
    k = EVP_PKEY_new_raw_public_key(EVP_PKEY_ED25519, NULL, pub, 32);
    ctx = EVP_MD_CTX_new();
    m = signed_bytes(subject, body, len, &n);
    ok = k != NULL && ctx != NULL && m != NULL &&
         EVP_DigestVerifyInit(ctx, NULL, NULL, NULL, k) == 1 &&
         EVP_DigestVerify(ctx, raw, 64, m, n) == 1;
    OPENSSL_free(m);
    EVP_MD_CTX_free(ctx);
    EVP_PKEY_free(k);
    return ok;
}
