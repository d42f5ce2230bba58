/*
 * test_nkey.c - nkeys text form and command signatures (wire/lt_nkey.h):
 * seeds and public keys round-trip and are checked (base32, CRC, kind), a
 * signature verifies only for the same key, subject and body, and anything
 * malformed in its place is refused.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lt_nkey.h"
#include "lt_testutil.h"

static const uint8_t SEED_A[32] = {
    1,  2,  3,  4,  5,  6,  7,  8,  9,  10, 11, 12, 13, 14, 15, 16,
    17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30, 31, 32
};
static const uint8_t SEED_B[32] = { 9 };

START_TEST(seed_and_public_round_trip)
{
    char seed_text[LT_NKEY_SEED_TEXT + 1], pub_text[LT_NKEY_PUBLIC_TEXT + 1], padded[128];
    uint8_t raw[32], pub[32], pub2[32];

    lt_nkey_seed_text(SEED_A, seed_text);
    ck_assert_uint_eq(strlen(seed_text), LT_NKEY_SEED_TEXT);
    ck_assert(strncmp(seed_text, "SU", 2) == 0);
    snprintf(padded, sizeof(padded), "  %s\n", seed_text); /* as read from a file */
    ck_assert_int_eq(lt_nkey_parse_seed(padded, raw), LT_OK);
    ck_assert(memcmp(raw, SEED_A, 32) == 0);
    ck_assert_int_eq(lt_nkey_public_of(SEED_A, pub, pub_text), LT_OK);
    ck_assert_uint_eq(strlen(pub_text), LT_NKEY_PUBLIC_TEXT);
    ck_assert_int_eq(pub_text[0], 'U');
    ck_assert_int_eq(lt_nkey_parse_public(pub_text, pub2), LT_OK);
    ck_assert(memcmp(pub, pub2, 32) == 0);
    /* kinds are not mixed up */
    ck_assert_int_eq(lt_nkey_parse_seed(pub_text, raw), LT_ERR_PARSE);
    ck_assert_int_eq(lt_nkey_parse_public(seed_text, raw), LT_ERR_PARSE);
    /* one flipped character breaks the CRC */
    pub_text[20] = pub_text[20] == 'A' ? 'B' : 'A';
    ck_assert_int_eq(lt_nkey_parse_public(pub_text, pub2), LT_ERR_PARSE);
    ck_assert_int_eq(lt_nkey_parse_public("", pub2), LT_ERR_PARSE);
    ck_assert_int_eq(lt_nkey_parse_public("U1!", pub2), LT_ERR_PARSE);
    ck_assert_int_eq(lt_nkey_parse_seed(NULL, raw), LT_ERR_PARSE);
}
END_TEST

START_TEST(signatures_bind_key_subject_and_body)
{
    const char *subj = "lattice.default.host.h1.start", body[] = "\x08\x07\x12\x07"
                                                                 "default";
    char sig[LT_NKEY_SIG_TEXT + 1], bad[LT_NKEY_SIG_TEXT + 1];
    uint8_t pub_a[32], pub_b[32];

    ck_assert_int_eq(lt_nkey_public_of(SEED_A, pub_a, NULL), LT_OK);
    ck_assert_int_eq(lt_nkey_public_of(SEED_B, pub_b, NULL), LT_OK);
    ck_assert_int_eq(lt_nkey_sign_command(SEED_A, subj, body, sizeof(body) - 1, sig), LT_OK);
    ck_assert_uint_eq(strlen(sig), LT_NKEY_SIG_TEXT);
    ck_assert(lt_nkey_verify_command(pub_a, subj, body, sizeof(body) - 1, sig));
    /* another key, subject (host or verb) or body does not verify */
    ck_assert(!lt_nkey_verify_command(pub_b, subj, body, sizeof(body) - 1, sig));
    ck_assert(!lt_nkey_verify_command(pub_a, "lattice.default.host.h2.start", body,
                                      sizeof(body) - 1, sig));
    ck_assert(!lt_nkey_verify_command(pub_a, "lattice.default.host.h1.stop", body, sizeof(body) - 1,
                                      sig));
    ck_assert(!lt_nkey_verify_command(pub_a, subj, body, sizeof(body) - 2, sig));
    /* missing, short, altered, or not base64url */
    ck_assert(!lt_nkey_verify_command(pub_a, subj, body, sizeof(body) - 1, NULL));
    ck_assert(!lt_nkey_verify_command(pub_a, subj, body, sizeof(body) - 1, ""));
    ck_assert(!lt_nkey_verify_command(pub_a, subj, body, sizeof(body) - 1, sig + 1));
    memcpy(bad, sig, sizeof(bad));
    bad[10] = bad[10] == 'A' ? 'B' : 'A';
    ck_assert(!lt_nkey_verify_command(pub_a, subj, body, sizeof(body) - 1, bad));
    memcpy(bad, sig, sizeof(bad));
    bad[0] = '+';
    ck_assert(!lt_nkey_verify_command(pub_a, subj, body, sizeof(body) - 1, bad));
    /* an empty body is signed too (an inventory request of everything) */
    ck_assert_int_eq(lt_nkey_sign_command(SEED_A, subj, "", 0, sig), LT_OK);
    ck_assert(lt_nkey_verify_command(pub_a, subj, "", 0, sig));
}
END_TEST

int main(void)
{
    Suite *s = suite_create("nkey");

    lt_test_tcase(s, "nkey", 0,
                  (const TTest *const[]){ seed_and_public_round_trip,
                                          signatures_bind_key_subject_and_body, NULL });
    return lt_test_run_suite(s);
}
