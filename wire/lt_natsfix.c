/*
 * lt_natsfix.c - a correct replacement, linked into every program that links
 * wire, for a libnats 3.4.1 function that breaks signed authentication.
 *
 * To log in with a user JWT (creds file) or an nkey, nats.c signs the nonce of
 * the server's INFO (ed25519, 64 raw bytes) and sends it base64url-encoded as
 * "sig" in CONNECT. In 3.4.1 the encoder, nats_Base64RawURL_EncodeString,
 * returns no text at all when its input begins with a 0 byte (it tests
 * src[0] == '\0', as if the bytes were a C string). The nonce is random, so
 * one connection in 256 went out with a JWT and no "sig", and nats-server
 * refused it ("Signature missing", then -ERR 'Authorization Violation', which
 * nats.c reports as NATS_CONNECTION_AUTH_FAILED), with a creds file that had
 * worked a moment before. Upstream fixed it in nats.c 3.8 (nats-io/nats.c#705);
 * Debian ships 3.4.1.
 *
 * libnats exports that function and calls it through its PLT, and the
 * executable comes first in the dynamic linker's lookup, so this definition
 * replaces the library's for every call, libnats' own included (the symbol is
 * exported from the executable because libnats defines it: the same rule that
 * lets a program replace malloc). tests/wire/test_natsfix checks that the
 * symbol resolves here and that a signature beginning with a 0 byte is
 * encoded. The result is freed by nats.c with free(), so it is allocated
 * with malloc, not through lt_alloc.h. Same contract as the original: no
 * padding, URL alphabet, *pDest NULL (and NATS_OK) only for NULL or empty input.
 */
#include <stdlib.h>

#include <nats/nats.h>

/* Declared here: libnats exports it but no installed header declares it. */
natsStatus nats_Base64RawURL_EncodeString(const unsigned char *src, int srcLen, char **pDest);

natsStatus nats_Base64RawURL_EncodeString(const unsigned char *src, int srcLen, char **pDest)
{
    static const char abc[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    size_t n, o = 0;
    char *out;

    if (pDest == NULL)
        return NATS_INVALID_ARG;
    *pDest = NULL;
    if (src == NULL || srcLen <= 0) /* the only case 3.4.1 got right: nothing to encode */
        return NATS_OK;
    n = (size_t)srcLen;
    out = malloc((n * 8 + 5) / 6 + 1); /* freed by nats.c with free() */
    if (out == NULL)
        return NATS_NO_MEMORY;
    for (size_t i = 0; i < n; i += 3) {
        unsigned long v = (unsigned long)src[i] << 16;

        if (i + 1 < n)
            v |= (unsigned long)src[i + 1] << 8;
        if (i + 2 < n)
            v |= src[i + 2];
        out[o++] = abc[(v >> 18) & 63u];
        out[o++] = abc[(v >> 12) & 63u];
        if (i + 1 < n)
            out[o++] = abc[(v >> 6) & 63u];
        if (i + 2 < n)
            out[o++] = abc[v & 63u];
    }
    out[o] = '\0';
    *pDest = out;
    return NATS_OK;
}
