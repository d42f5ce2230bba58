/*
 * lt_nkey.h - NATS nkeys (ed25519 keys in the nkeys text form: a prefix byte
 * naming the kind, the raw key, a CRC-16/XMODEM, base32 without padding) and
 * the signed commands built on them: a leader configured with a seed signs
 * every host command, a host configured with the public key refuses commands
 * without a valid signature (docs/internals/scheduler.md, "Signed commands").
 *
 * The signature covers "latticed-cmd-v1\n" + subject + "\n" + body: the
 * subject binds the host and the verb, the body carries lattice, epoch and
 * request id. It travels base64url-encoded (86 characters, no padding) in the
 * NATS header LT_NKEY_SIG_HEADER.
 */
#ifndef LT_NKEY_H
#define LT_NKEY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lt_status.h"

#define LT_NKEY_PUBLIC_TEXT 56 /**< characters of a public key ("U...") */
#define LT_NKEY_SEED_TEXT 58   /**< characters of a seed ("SU...") */
#define LT_NKEY_SIG_TEXT 86    /**< characters of a base64url ed25519 signature */
#define LT_NKEY_SIG_HEADER "Latticed-Signature"

/**
 * Parse a seed ("S" + kind + ...; blanks around it ignored). raw receives the
 * 32-byte ed25519 seed. LT_ERR_PARSE for anything that is not a valid seed
 * (bad base32, CRC or prefix); the text itself is never put in the message.
 */
LT_NODISCARD lt_status lt_nkey_parse_seed(const char *text, uint8_t raw[32]);

/** Parse a public key of any kind ("U...", "N...", "A..."...). LT_ERR_PARSE. */
LT_NODISCARD lt_status lt_nkey_parse_public(const char *text, uint8_t raw[32]);

/**
 * The public key of seed, raw (pub) and as text of kind 'U' (text may be NULL;
 * else LT_NKEY_PUBLIC_TEXT + 1 bytes). LT_ERR_IO when libcrypto fails.
 */
LT_NODISCARD lt_status lt_nkey_public_of(const uint8_t seed[32], uint8_t pub[32], char *text);

/** Encode a raw seed as a user seed ("SU...", LT_NKEY_SEED_TEXT + 1 bytes). */
void lt_nkey_seed_text(const uint8_t seed[32], char *text);

/**
 * Encode a raw 32-byte key of kind ('U' user, 'A' account, 'O' operator, 'N' server) as its
 * public key text (seed false, LT_NKEY_PUBLIC_TEXT + 1 bytes) or seed text (seed true,
 * LT_NKEY_SEED_TEXT + 1 bytes). LT_ERR_INVALID for another kind.
 */
LT_NODISCARD lt_status lt_nkey_text(const uint8_t raw[32], char kind, bool seed, char *text);

/** RFC 4648 base32 without padding; out holds (n * 8 + 4) / 5 + 1 bytes. */
void lt_nkey_base32(const uint8_t *p, size_t n, char *out);

/**
 * Sign a command: subject and body as published; sig receives the header
 * value (LT_NKEY_SIG_TEXT + 1 bytes). LT_ERR_IO when libcrypto fails.
 */
LT_NODISCARD lt_status lt_nkey_sign_command(const uint8_t seed[32], const char *subject,
                                            const void *body, size_t len, char *sig);

/** True when sig (a header value, may be NULL) signs subject + body for pub. */
bool lt_nkey_verify_command(const uint8_t pub[32], const char *subject, const void *body,
                            size_t len, const char *sig);

#endif
