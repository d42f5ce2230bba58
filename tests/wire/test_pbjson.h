/*
 * test_pbjson.h - shared helpers of the lt_pbjson tests (test_pbjson.c,
 * test_pbjson_bad.c, test_pbjson_interop.c): decode/encode that must
 * succeed, expected failures with exact messages, and JSON value comparison.
 */
#ifndef TEST_PBJSON_H
#define TEST_PBJSON_H

#include <check.h>
#include <stdbool.h>

#include "kinds.pb-c.h"
#include "kinds2.pb-c.h"
#include "lt_pbjson.h"

#define KINDS (&lttest__kinds__descriptor)

/* Decode json (NUL-terminated) as d with flags; fails the test otherwise. */
ProtobufCMessage *tp_decode(const ProtobufCMessageDescriptor *d, const char *json, unsigned flags);

/* Encode m with flags; fails the test otherwise. lt_free the result. */
char *tp_encode(const ProtobufCMessage *m, unsigned flags);

/* Decode json as d, re-encode with flags and require exactly want. */
void tp_reencode(const ProtobufCMessageDescriptor *d, const char *json, unsigned flags,
                 const char *want);

/* Decoding json must fail with status st and exactly message msg. */
void tp_decode_fails(const ProtobufCMessageDescriptor *d, const char *json, unsigned flags,
                     lt_status st, const char *msg);

/* JSON values equal, numbers compared by value (5 equals 5.0). */
bool tp_json_same(const json_t *a, const json_t *b);

/* Parse text with jansson (must succeed). json_decref the result. */
json_t *tp_json(const char *text);

Suite *pbjson_core_suite(void);
Suite *pbjson_bad_suite(void);
Suite *pbjson_interop_suite(void);

#endif
