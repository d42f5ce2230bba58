/*
 * lt_subject.h - NATS subjects built from untrusted parts. Every subject token
 * that comes from a user (lattice, host id, app name, ...) is validated so
 * that no one can inject a separator or a wildcard, and subjects are built in
 * a bounded lt_buf so they never exceed LT_MAX_SUBJECT.
 *
 *     lt_buf b;
 *     lt_buf_init(&b, LT_MAX_SUBJECT);
 *     st = lt_subject_append(&b, prefix);                 // "lattice" (fixed, may hold dots)
 *     st = lt_subject_append_token(&b, "lattice", name);  // user input: one token
 *     st = lt_subject_append(&b, "evt.host.heartbeat");
 */
#ifndef LT_SUBJECT_H
#define LT_SUBJECT_H

#include <stdbool.h>
#include <stddef.h>

#include "lt_buf.h"
#include "lt_status.h"

/**
 * True when token is a safe user-supplied subject token: 1..LT_MAX_TOKEN
 * bytes of printable ASCII (0x21..0x7E) other than '.', '*' and '>'. So no
 * whitespace, control characters, non-ASCII bytes or empty tokens.
 */
bool lt_subject_token_ok(const char *token);

/**
 * Like lt_subject_token_ok, with a reason: LT_ERR_INVALID (message names what,
 * e.g. `host id "a.b": must not contain '.'`), LT_ERR_TOO_BIG over
 * LT_MAX_TOKEN bytes. what is a short noun for the message ("lattice").
 */
LT_NODISCARD lt_status lt_subject_check_token(const char *what, const char *token);

/**
 * Validate a whole subject: 1..LT_MAX_SUBJECT bytes, tokens separated by
 * single dots, none empty, printable ASCII only. With allow_wildcards, a
 * token may be exactly "*", and the last token exactly ">"; without, '*'
 * and '>' are refused anywhere (a subject to publish to).
 * LT_ERR_INVALID / LT_ERR_TOO_BIG with a message saying what is wrong.
 */
LT_NODISCARD lt_status lt_subject_check(const char *subject, bool allow_wildcards);

/**
 * Append a trusted fixed part (one or more dot-separated tokens, no
 * wildcards, e.g. a configured prefix "wasmbus.evt") to b, preceded by '.'
 * when b is not empty. The part is validated like a publish subject.
 * On error b is unchanged. LT_ERR_INVALID, LT_ERR_TOO_BIG (over b's max or
 * LT_MAX_SUBJECT), LT_ERR_NOMEM.
 */
LT_NODISCARD lt_status lt_subject_append(lt_buf *b, const char *part);

/**
 * Append one untrusted token (checked with lt_subject_check_token; what names
 * it in errors), preceded by '.' when b is not empty. On error b is unchanged.
 */
LT_NODISCARD lt_status lt_subject_append_token(lt_buf *b, const char *what, const char *token);

#endif
