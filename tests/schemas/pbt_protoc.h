/*
 * pbt_protoc.h - test helpers for schema golden tests: run the reference
 * `protoc --encode/--decode` as a subprocess on the project's .proto files,
 * read golden files, and pack protobuf-c messages.
 */
#ifndef PBT_PROTOC_H
#define PBT_PROTOC_H

#include <stddef.h>
#include <stdint.h>

#include <protobuf-c/protobuf-c.h>

#include "lt_status.h"

/**
 * Run `protoc --<mode>=<type> <proto>` (mode "encode" or "decode") with
 * --proto_path set to the schemas source dir and the WKT dir, feeding in/len
 * on stdin. On success *new_out is stdout (NUL-terminated, lt_free it) and
 * *out_len its length. LT_ERR_IO if protoc cannot run, LT_ERR_PARSE if it
 * exits non-zero (its stderr goes to the test log).
 */
LT_NODISCARD lt_status pbt_protoc(const char *mode, const char *type, const char *proto,
                                  const void *in, size_t len, char **new_out, size_t *out_len);

/** Read a whole file (NUL-terminated, lt_free it); LT_ERR_IO on failure. */
LT_NODISCARD lt_status pbt_read_file(const char *path, char **new_data, size_t *out_len);

/** Read tests/schemas/golden/<name>; LT_ERR_IO on failure. */
LT_NODISCARD lt_status pbt_read_golden(const char *name, char **new_data, size_t *out_len);

/** Write data to <build dir>/<name> (for a failed comparison); best effort. */
void pbt_write_actual(const char *name, const char *data, size_t len);

/** Pack a message into a new buffer (lt_free it); NULL when out of memory. */
uint8_t *pbt_pack(const ProtobufCMessage *m, size_t *out_len);

#endif
