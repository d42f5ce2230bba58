/*
 * wait_status.h - reading an application's status document for apply --wait and
 * status --wait-for (wait_status.c): the verdict, a one-line summary, what is pending, and
 * the --wait-timeout durations. Pure logic on jansson values, no NATS.
 */
#ifndef LCTL_WAIT_STATUS_H
#define LCTL_WAIT_STATUS_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "lt_buf.h"

enum {
    LCTL_WAIT_PENDING,
    LCTL_WAIT_REACHED,
    LCTL_WAIT_FAILED
};

/** "90s", "5m", "1h30m", "250ms", "45" (seconds) -> milliseconds; -1 when not a duration. */
int64_t lctl_duration_ms(const char *s);

/** latticed.version of a status document ("" when absent). Borrowed. */
const char *lctl_status_version(const json_t *st);

/**
 * Where st stands for a wait on want ("deployed" or "undeployed"): LCTL_WAIT_REACHED,
 * LCTL_WAIT_FAILED (deployed wanted, status "failed") or LCTL_WAIT_PENDING. With version
 * non-NULL only a status of that version counts (the status of the version deployed before
 * an apply is pending, whatever it says); "deployed" needs latticed's counts, so the
 * placeholder model.status gives before the scheduler wrote anything never counts.
 */
int lctl_status_verdict(const json_t *st, const char *want, const char *version);

/** Append "TYPE[: message] (version V, R/D running)" to b. */
void lctl_status_summary(const json_t *st, lt_buf *b);

/**
 * Append what is not there yet, entries separated by sep: "COMP R/D TYPE[: message]" for each
 * component short of its count or not deployed, "link NAME TYPE[: message]" for each link
 * not deployed. Returns how many.
 */
size_t lctl_status_pending(const json_t *st, lt_buf *b, const char *sep);

#endif
