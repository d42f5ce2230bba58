/*
 * lt_testutil.h - small helpers for latticed tests: poll a predicate until a
 * deadline, create and remove temporary directories, read a whole file, run a
 * command capturing its output, count connection events, read /proc/PID/stat,
 * and build and run the Check suites of every test main. Test code only: never
 * linked into a shipped binary.
 */
#ifndef LT_TESTUTIL_H
#define LT_TESTUTIL_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include <check.h>

#include "lt_status.h"

/** Monotonic milliseconds. */
int64_t lt_test_now_ms(void);

/** Sleep ms milliseconds (restarted on EINTR). */
void lt_test_sleep_ms(int64_t ms);

/** A condition polled by lt_test_wait_until; must be cheap and side-effect free. */
typedef bool (*lt_test_pred)(void *arg);

/**
 * Call pred(arg) until it returns true or timeout_ms passes, sleeping a short,
 * growing interval (1 ms up to 50 ms) between calls. pred is always called at
 * least once and once more at the deadline.
 * Returns LT_OK when pred became true, LT_ERR_TIMEOUT otherwise.
 */
LT_NODISCARD lt_status lt_test_wait_until(lt_test_pred pred, void *arg, int64_t timeout_ms);

/**
 * Create a fresh directory "$TMPDIR/<prefix>-XXXXXX" (mode 0700; /tmp when
 * TMPDIR is unset). *new_path receives a heap string the caller frees with
 * lt_free (and usually removes with lt_test_rmtree first).
 * LT_ERR_IO when mkdtemp fails, LT_ERR_TOO_BIG for an overlong path.
 */
LT_NODISCARD lt_status lt_test_tmpdir(char **new_path, const char *prefix);

/**
 * Remove path recursively (files, directories, symlinks — never following a
 * symlink). A missing path is LT_OK. LT_ERR_IO on the first entry that could
 * not be removed (the walk continues and removes what it can).
 */
LT_NODISCARD lt_status lt_test_rmtree(const char *path);

/**
 * Read a whole file of at most max bytes. *new_data receives a NUL-terminated
 * heap copy (free with lt_free); *out_len (optional) its length.
 * LT_ERR_NOT_FOUND for a missing file, LT_ERR_TOO_BIG over max, LT_ERR_IO otherwise.
 */
LT_NODISCARD lt_status lt_test_read_file(const char *path, size_t max, char **new_data,
                                         size_t *out_len);

/** Write len bytes to path (created or truncated, mode 0600). LT_ERR_IO on failure. */
LT_NODISCARD lt_status lt_test_write_file(const char *path, const void *data, size_t len);

/** A command to run with lt_test_run. Only argv is required. */
typedef struct {
    const char *const *argv; /**< NULL-terminated; argv[0] is looked up in PATH */
    const char *const *env;  /**< NULL or NULL-terminated "K=V" added to the environment
                                    (replacing a variable of the same name) */
    const char *cwd;         /**< working directory, or NULL for the current one */
    const void *stdin_data;  /**< written to the child's stdin, then closed (NULL: empty stdin) */
    size_t stdin_len;
    int64_t timeout_ms; /**< 0 means 30000; on expiry the child gets SIGKILL */
    size_t max_output;  /**< per stream; 0 means 1 MiB; the rest is read and dropped */
} lt_test_cmd;

/** What lt_test_run observed. Release with lt_test_cmd_result_cleanup. */
typedef struct {
    int exit_code;   /**< exit status, or -1 when ended by a signal */
    int term_signal; /**< signal that ended the child, or 0 */
    bool timed_out;  /**< true when the timeout killed it */
    bool truncated;  /**< true when a stream exceeded max_output */
    int exec_errno;  /**< errno of a failed exec (then exit_code is 127), else 0 */
    char *out;       /**< stdout, NUL-terminated, never NULL on LT_OK */
    size_t out_len;
    char *err; /**< stderr, NUL-terminated, never NULL on LT_OK */
    size_t err_len;
} lt_test_cmd_result;

/**
 * Run a command to completion, feeding stdin and capturing stdout and stderr
 * separately. The child cannot inherit other descriptors of this process.
 * Returns LT_OK whenever the child ran (check res->exit_code / timed_out);
 * LT_ERR_IO when it could not be started (fork/pipe failure; an exec failure
 * shows as exit code 127 with exec_errno set), LT_ERR_INVALID for an empty argv, LT_ERR_NOMEM.
 * res is filled on LT_OK and zeroed otherwise.
 */
LT_NODISCARD lt_status lt_test_run(const lt_test_cmd *cmd, lt_test_cmd_result *res);

/** Free the buffers of a result. NULL-safe. */
void lt_test_cmd_result_cleanup(lt_test_cmd_result *res);

/**
 * Close every descriptor >= lowfd. Async-signal-safe: meant for a child
 * between fork and exec (close_range, or a loop when that is missing).
 */
void lt_test_close_fds_from(int lowfd);

/**
 * A test case named name, added to s, holding the tests of the NULL-terminated list in order,
 * with a timeout of timeout_s seconds (0: Check's default, CK_DEFAULT_TIMEOUT). Add fixtures to
 * the case it returns.
 */
TCase *lt_test_tcase(Suite *s, const char *name, int timeout_s, const TTest *const *tests);

/**
 * A test executable's main: run the NULL-terminated suites with CK_ENV (CK_VERBOSITY,
 * CK_RUN_SUITE=name, CK_RUN_CASE=name choose) and free them. EXIT_SUCCESS when no test
 * failed, EXIT_FAILURE otherwise.
 */
int lt_test_run_suites(Suite *const *suites);

/** lt_test_run_suites of the one suite s. */
int lt_test_run_suite(Suite *s);

/**
 * Connection events counted by callbacks that take the counter as their arg (an lt_conn_events
 * with .disconnected = lt_test_count_down, .reconnected = lt_test_count_up, .arg = &count).
 * Start it with lt_test_conn_count_init before the connection exists.
 */
typedef struct {
    atomic_int down; /**< disconnections seen */
    atomic_int up;   /**< reconnections seen */
} lt_test_conn_count;

/** Zero both counts. */
void lt_test_conn_count_init(lt_test_conn_count *count);
/** Count one disconnection (arg: lt_test_conn_count *). */
void lt_test_count_down(void *count);
/** Count one reconnection (arg: lt_test_conn_count *). */
void lt_test_count_up(void *count);
/** lt_test_pred: whether a disconnection was counted (arg: lt_test_conn_count *). */
bool lt_test_was_down(void *count);
/** lt_test_pred: whether a reconnection was counted (arg: lt_test_conn_count *). */
bool lt_test_was_up(void *count);

/**
 * State (field 3) and parent (field 4) of /proc/PID/stat, read from after the last ')' (the
 * command name may hold blanks and parentheses). false when it cannot be read.
 */
bool lt_test_proc_stat(pid_t pid, pid_t *ppid, char *state);
/** Whether pid exists and is neither a zombie nor dead (per /proc/PID/stat). */
bool lt_test_pid_running(pid_t pid);

#endif
