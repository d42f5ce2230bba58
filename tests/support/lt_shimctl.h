/*
 * lt_shimctl.h - helpers for tests that preload the fault shim (lt_shim.so,
 * tests/support/lt_shim.c, rules documented in docs/testing.md) into a child
 * process: where the library is, the environment that loads it (LD_PRELOAD,
 * LT_SHIM, LT_SHIM_LOG, and ASAN_OPTIONS relaxed so a sanitized child accepts
 * a preloaded library ahead of the ASan runtime), and how often a rule fired.
 */
#ifndef LT_SHIMCTL_H
#define LT_SHIMCTL_H

#include <stddef.h>

#include "lt_status.h"

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

/** Lines of the shim log whose function is func (NULL: all). 0 when no log exists. */
size_t lt_shim_fired(const char *log, const char *func);

#endif
