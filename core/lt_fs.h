/*
 * lt_fs.h - small file-system and process helpers: a fresh temp directory,
 * recursive removal, whole-file read and write, and closing inherited
 * descriptors between fork and exec. Used by core/lt_natsrv and the tests
 * (tests/support/lt_testutil.h wraps them as lt_test_*).
 */
#ifndef LT_FS_H
#define LT_FS_H

#include <stddef.h>

#include "lt_status.h"

/**
 * Create a fresh directory "$TMPDIR/<prefix>-XXXXXX" (mode 0700; /tmp when
 * TMPDIR is unset; prefix NULL = "lt"). *new_path receives a heap string the
 * caller frees with lt_free. LT_ERR_IO when mkdtemp fails, LT_ERR_TOO_BIG for
 * an overlong path, LT_ERR_NOMEM.
 */
LT_NODISCARD lt_status lt_fs_tmpdir(char **new_path, const char *prefix);

/**
 * Remove path recursively (files, directories, symlinks - never following a
 * symlink). A missing path is LT_OK. LT_ERR_IO on the first entry that could
 * not be removed (the walk continues and removes what it can).
 */
LT_NODISCARD lt_status lt_fs_rmtree(const char *path);

/**
 * Read a whole file of at most max bytes. *new_data receives a NUL-terminated
 * heap copy (free with lt_free); *out_len (optional) its length.
 * LT_ERR_NOT_FOUND for a missing file, LT_ERR_TOO_BIG over max, LT_ERR_IO otherwise.
 */
LT_NODISCARD lt_status lt_fs_read_file(const char *path, size_t max, char **new_data,
                                       size_t *out_len);

/** Write len bytes to path (created or truncated, mode 0600). LT_ERR_IO on failure. */
LT_NODISCARD lt_status lt_fs_write_file(const char *path, const void *data, size_t len);

/**
 * Close every descriptor >= lowfd. Async-signal-safe: meant for a child
 * between fork and exec (close_range, or a loop when that is missing).
 */
void lt_fs_close_fds_from(int lowfd);

#endif
