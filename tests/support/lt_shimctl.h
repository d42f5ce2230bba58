/*
 * lt_shimctl.h - helpers for tests that preload the fault shim (lt_shim.so,
 * tests/support/lt_shim.c, rules documented in docs/testing.md) into a child
 * process: where the library is, the environment that loads it (LD_PRELOAD,
 * LT_SHIM, LT_SHIM_LOG, and ASAN_OPTIONS relaxed so a sanitized child accepts
 * a preloaded library ahead of the ASan runtime), and how often a rule fired.
 */
#ifndef LT_SHIMCTL_H
#define LT_SHIMCTL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lt_status.h"
#include "lt_testutil.h"

#define LT_SHIMCTL_VAR 4352u /**< bytes of one "K=V" entry */

/** The environment of a shimmed child, as "K=V" strings (env is NULL-terminated). */
typedef struct {
    char vars[4][LT_SHIMCTL_VAR];
    const char *env[5];
} lt_shim_env;

/** Path of lt_shim.so: env LT_SHIM_SO, else the one of this build tree. Static string. */
const char *lt_shim_path(void);

/**
 * Fill *e with the variables that preload the shim with rules (LT_SHIM syntax)
 * and log every fired rule to log (NULL: no log file). For lt_test_cmd.env.
 */
void lt_shim_env_init(lt_shim_env *e, const char *rules, const char *log);

/**
 * Put the same variables into this process's environment (for spawn helpers
 * that inherit it, e.g. e2e_latticed), remembering what they replace;
 * lt_shim_unset restores it. Not thread-safe with concurrent getenv: call
 * around the spawn only. LT_ERR_NOMEM.
 */
LT_NODISCARD lt_status lt_shim_set(const char *rules, const char *log);
void lt_shim_unset(void);

/** A test case run again in a child of its own program with the shim preloaded. */
typedef struct {
    const char *rules;      /**< LT_SHIM rules */
    const char *log;        /**< LT_SHIM_LOG (NULL: none) */
    const char *marker;     /**< a variable set to 1 in the child: "you are the shimmed child" */
    const char *tcase;      /**< CK_RUN_CASE of the child: the case's own TCase */
    const char *asan_extra; /**< appended to the child's ASAN_OPTIONS, or NULL */
    const char *tunables;   /**< the child's GLIBC_TUNABLES, or NULL */
} lt_shim_rerun;

/**
 * Run this test program (/proc/self/exe) again as described by *r, 60 s at most, and wait for
 * it: a test whose fault needs the shim preloaded runs itself in such a child (it knows it is
 * the child by r->marker). The child's result in *res (lt_test_cmd_result_cleanup) on LT_OK;
 * LT_ERR_IO when it could not be started.
 */
LT_NODISCARD lt_status lt_shim_rerun_self(const lt_shim_rerun *r, lt_test_cmd_result *res);

/**
 * The parent's half of a test whose fault needs the shim preloaded (it is loaded when a process
 * starts): run this case again in a child (lt_shim_rerun_self; marker, tcase as in
 * lt_shim_rerun) with the one rule RULE (LT_SHIM syntax) armed only while LOG.arm exists
 * ("RULE:onfile=LOG.arm"; the child arms it with lt_shim_arm once it is ready for the fault) and
 * a log LOG in a new temporary directory. Asserts that the child exits 0 (its output in the
 * message) and, when func is not NULL, that func fired `fired` times; then removes the directory.
 */
void lt_shim_expect_child(const char *marker, const char *tcase, const char *rule, const char *func,
                          size_t fired);

/**
 * Define the check test NAME whose fault needs the shim: the shimmed child (its MARKER set) runs
 * the statement CHILD_CALL; the parent is lt_shim_expect_child(MARKER, TCASE, RULE, FUNC, FIRED).
 * NAME must be the only test of the TCase named TCASE (the child runs that whole case).
 */
#define LT_SHIM_TEST(NAME, CHILD_CALL, MARKER, TCASE, RULE, FUNC, FIRED) \
    START_TEST(NAME)                                                     \
    {                                                                    \
        if (getenv(MARKER) != NULL) {                                    \
            CHILD_CALL;                                                  \
            return;                                                      \
        }                                                                \
        lt_shim_expect_child(MARKER, TCASE, RULE, FUNC, FIRED);          \
    }                                                                    \
    END_TEST

/** Into rule (size bytes): the rule that holds the next KV update of subj that a watcher takes,
 *  for hold_ms, in natsSubscription_NextMsg (count=1). For lt_shim_expect_child. */
void lt_shim_rule_hold(char *rule, size_t size, const char *subj, int hold_ms);

/** Remove the directory holding log, a test's temporary one (lt_shim_expect_child makes one),
 *  once the test passed: a failed test keeps it for its log. */
void lt_shim_log_remove(const char *log);

/** In a shimmed child: arm the rules that wait for LT_SHIM_LOG.arm (create it). LT_ERR_IO. */
LT_NODISCARD lt_status lt_shim_arm(void);

/** In a shimmed child: wait until func fired n times (LT_SHIM_LOG); false after timeout_ms. */
bool lt_shim_wait_fired(const char *func, size_t n, int64_t timeout_ms);

/** Lines of the shim log whose function is func (NULL: all). 0 when no log exists. */
size_t lt_shim_fired(const char *log, const char *func);

#endif
