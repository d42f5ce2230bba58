/*
 * lt_nkeys.h - NATS nkeys and JWTs made in tests, for nats-server in operator
 * mode (resolver: MEMORY) and for nkey users: ed25519 keys (libcrypto) encoded
 * per the nkeys format (prefix byte(s), raw key, CRC-16/XMODEM little-endian,
 * base32 without padding), and JWTs with the header
 * {"typ":"JWT","alg":"ed25519-nkey"} signed by an issuer's nkey. Test code only.
 */
#ifndef LT_NKEYS_H
#define LT_NKEYS_H

#include <stddef.h>

#include <jansson.h>

#include "lt_status.h"

#define LT_NKEY_PUBLIC_LEN 56 /**< 35 bytes in base32 */
#define LT_NKEY_SEED_LEN 58   /**< 36 bytes in base32 */

/** A key pair: its raw ed25519 seed and both encoded forms. */
typedef struct {
    unsigned char raw_seed[32];
    unsigned char raw_public[32];
    char public_key[LT_NKEY_PUBLIC_LEN + 1]; /**< "O...", "A...", "U..." */
    char seed[LT_NKEY_SEED_LEN + 1];         /**< "SO...", "SA...", "SU..." */
} lt_nkey;

/**
 * Make a fresh random key pair of a kind: 'O' operator, 'A' account, 'U' user,
 * 'N' server. LT_ERR_INVALID for another kind, LT_ERR_IO when libcrypto fails.
 */
LT_NODISCARD lt_status lt_nkey_new(lt_nkey *k, char kind);

/**
 * Sign claims as issuer: sets "iss" (issuer's public key), "iat" (now) and
 * "jti" (base32 SHA-512/256 of the claims without it) in claims (borrowed,
 * modified), and returns the JWT in *new_jwt (lt_free). claims must already
 * hold "sub", "name" and "nats".
 */
LT_NODISCARD lt_status lt_jwt_sign(const lt_nkey *issuer, json_t *claims, char **new_jwt);

/**
 * Write a .creds file (user JWT + user seed in the decorated format nats.c and
 * the nats CLI read) at path, mode 0600.
 */
LT_NODISCARD lt_status lt_creds_write(const char *path, const char *user_jwt, const lt_nkey *user);

#endif
