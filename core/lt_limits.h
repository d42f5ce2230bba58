/*
 * lt_limits.h - every named size limit of latticed in one place.
 * Inputs over a limit are refused with LT_ERR_TOO_BIG, never truncated silently.
 */
#ifndef LT_LIMITS_H
#define LT_LIMITS_H

#define LT_MAX_SUBJECT 512u       /**< bytes in a NATS subject */
#define LT_MAX_TOKEN 128u         /**< bytes in one user-supplied subject token */
#define LT_MAX_HOST_ID 128u       /**< bytes in a host id */
#define LT_MAX_MESSAGE (1u << 20) /**< bytes in one wire message (nats default max_payload) */
#define LT_MAX_JSON_DEPTH 64u     /**< nesting of JSON objects/arrays we accept */
#define LT_MAX_HEADER_VALUE 1024u /**< bytes in one NATS header value we accept */
#define LT_MAX_MANIFEST_BYTES (1u << 20) /**< default manifest size limit */
#define LT_MAX_PATH 4096u                /**< bytes in a file system path */

#endif
