/*
 * lt_subject.h - the subject grammar of latticed: one named builder per subject (and the
 * matching subscription patterns and parsers for its consumers), so producer and consumer
 * cannot spell a subject differently; and validation of the user-supplied tokens that go
 * into subjects, so no one can inject a separator or a wildcard.
 *
 *     char subj[LT_MAX_SUBJECT];
 *     st = lt_subject_check_token("lattice", name);       // where user input enters
 *     st = lt_subject_host_event(subj, sizeof(subj), prefix, name, host_id, "host.heartbeat");
 */
#ifndef LT_SUBJECT_H
#define LT_SUBJECT_H

#include <stdbool.h>
#include <stddef.h>

#include "lt_limits.h"
#include "lt_status.h"

#define LT_SUBJECT_TOKEN_BUF (LT_MAX_TOKEN + 1)  /**< a lattice token and its NUL */
#define LT_SUBJECT_HOST_BUF (LT_MAX_HOST_ID + 1) /**< a host id and its NUL */

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


/* ---------------------------------------------------------------------------------------------
 * The subjects (docs/host.md, docs/protocol.md, docs/api.md). Every builder writes a
 * NUL-terminated subject to out (cap bytes) and returns LT_OK, or LT_ERR_TOO_BIG (out then
 * holds "") when it does not fit. Parts are tokens the caller checked where they entered
 * (lt_subject_check_token); prefixes may hold dots. Where a pattern is wanted, a part may be
 * LT_SUBJECT_ANY.
 * ------------------------------------------------------------------------------------------- */

#define LT_SUBJECT_ANY "*"
#define LT_SUBJECT_LATTICE_PREFIX "lattice"    /**< default {prefix} of host and cp subjects */
#define LT_SUBJECT_STATUS_PREFIX "wadm.status" /**< default {status_prefix} */
#define LT_SUBJECT_API_PREFIX "wadm.api"       /**< default {api_prefix} */

/** A host's event: `{prefix}.{lattice}.evt.h.{host_id}.{type}` (type e.g. "host.heartbeat"). */
LT_NODISCARD lt_status lt_subject_host_event(char *out, size_t cap, const char *prefix,
                                             const char *lattice, const char *host_id,
                                             const char *type);

/** Every event of a lattice, hosts' and the control plane's: `{prefix}.{lattice}.evt.>`. */
LT_NODISCARD lt_status lt_subject_events(char *out, size_t cap, const char *prefix,
                                         const char *lattice);

/**
 * Parse a subject matched by lt_subject_events: `{prefix}.{lattice}.evt.h.{host_id}.{type}`
 * gives lattice, host_id and *type (a pointer into subject); the older
 * `{prefix}.{lattice}.evt.{type}` gives host_id "" (so `evt.cp.{type}` gives *type
 * "cp.{type}"). False when subject is neither or a part is empty or too long.
 */
bool lt_subject_host_event_parse(const char *prefix, const char *subject,
                                 char lattice[LT_SUBJECT_TOKEN_BUF],
                                 char host_id[LT_SUBJECT_HOST_BUF], const char **type);

/** A command to one host: `{prefix}.{lattice}.host.{host_id}.{verb}`. */
LT_NODISCARD lt_status lt_subject_host_command(char *out, size_t cap, const char *prefix,
                                               const char *lattice, const char *host_id,
                                               const char *verb);

/**
 * Parse a subject built by lt_subject_host_command for this prefix and lattice: host_id and
 * *verb (a pointer into subject, may hold dots). False when it is not one.
 */
bool lt_subject_host_command_parse(const char *prefix, const char *lattice, const char *subject,
                                   char host_id[LT_SUBJECT_HOST_BUF], const char **verb);

/** The inventory request every host of a lattice answers: `{prefix}.{lattice}.inventory`. */
LT_NODISCARD lt_status lt_subject_inventory(char *out, size_t cap, const char *prefix,
                                            const char *lattice);

/** The hosts query latticed answers (latticectl hosts): `{prefix}.{lattice}.hosts`. */
LT_NODISCARD lt_status lt_subject_hosts(char *out, size_t cap, const char *prefix,
                                        const char *lattice);

/** The plan query the leader answers (latticectl plan): `{prefix}.{lattice}.plan`. */
LT_NODISCARD lt_status lt_subject_plan(char *out, size_t cap, const char *prefix,
                                       const char *lattice);

/** The instances query the leader answers (latticectl instances):
 * `{prefix}.{lattice}.instances`. */
LT_NODISCARD lt_status lt_subject_instances(char *out, size_t cap, const char *prefix,
                                            const char *lattice);

/**
 * `{prefix}.{lattice}.{rest}` -> lattice and *rest (a pointer into subject). False when
 * subject does not start with prefix, or the lattice is empty or does not fit ln bytes.
 */
bool lt_subject_split_lattice(const char *prefix, const char *subject, char *lattice, size_t ln,
                              const char **rest);

/** A control-plane event: `{prefix}.{lattice}.evt.cp.{type}` (type e.g. "app.deployed"). */
LT_NODISCARD lt_status lt_subject_cp_event(char *out, size_t cap, const char *prefix,
                                           const char *lattice, const char *type);

/** Every control-plane event of a lattice: `{prefix}.{lattice}.evt.cp.>`. */
LT_NODISCARD lt_status lt_subject_cp_events(char *out, size_t cap, const char *prefix,
                                            const char *lattice);

/** An app's status document (wadm's): `{status_prefix}.{lattice}.{app}`. */
LT_NODISCARD lt_status lt_subject_app_status(char *out, size_t cap, const char *status_prefix,
                                             const char *lattice, const char *app);

/** A wadm API request: `{api_prefix}.{lattice}.model.{operation}[.{name}]` (name NULL: none). */
LT_NODISCARD lt_status lt_subject_api(char *out, size_t cap, const char *api_prefix,
                                      const char *lattice, const char *operation, const char *name);

/** Every API request, latticed's subscription: `{api_prefix}.>`. */
LT_NODISCARD lt_status lt_subject_api_all(char *out, size_t cap, const char *api_prefix);

#endif
