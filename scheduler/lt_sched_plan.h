/*
 * lt_sched_plan.h - what the scheduler would do for a manifest, without doing it
 * (`latticectl plan`, `apply --dry-run`), and the per-instance view of an app
 * (`latticectl instances`). Both answer from the leader's lt_sched: the plan
 * runs the real scheduler core on a copy of its inventory and desired state
 * (scheduler/plan.c), so a prediction and the real rollout share every rule.
 * docs/internals/scheduler.md, "Plans", explains it; docs/api.md the replies.
 */
#ifndef LT_SCHED_PLAN_H
#define LT_SCHED_PLAN_H

#include <stdint.h>

#include "lt_buf.h"
#include "lt_model.h"
#include "lt_sched.h"
#include "lt_status.h"

/** Most rounds of simulated rollout a plan runs (each round = one pass of commands). */
#define LT_SCHED_PLAN_MAX_ROUNDS 64

/**
 * Plan the deploy of m (a validated manifest with a version annotation: instance ids derive
 * from it; LT_ERR_INVALID without) on s's lattice at monotonic time now, and append the plan as one
 * JSON object to out (docs/api.md, "Plans"). s is not changed: a shadow scheduler is built
 * from s's hosts (their labels, capacity, state and the instances and links they report) and
 * the other apps' deployed specs, m is deployed there, and the shadow is run round after
 * round, every command answered as done and every started instance reported running, until
 * it sends nothing more (at most LT_SCHED_PLAN_MAX_ROUNDS). Every array in the reply is
 * sorted, so the same state gives the same bytes. LT_ERR_INVALID (with a message) for a
 * model the scheduler cannot use, LT_ERR_TOO_BIG from out, LT_ERR_NOMEM.
 */
LT_NODISCARD lt_status lt_sched_plan_json(const lt_sched *s, const lt_model *m, int64_t now,
                                          lt_buf *out);

/**
 * Append the instances of app (observed on hosts, and starts sent but not yet seen) as JSON
 * to out: {"lattice","app","version","found":bool,"instances":[{"id","component",
 * "component_id","version","host","state","restarts","started_at","message","last_error",
 * "digest_current":bool}..],"truncated":bool}, sorted by component, then host, then id.
 * "found" is false when the scheduler knows no such app. LT_ERR_TOO_BIG is not returned:
 * the list stops early with "truncated" true.
 */
LT_NODISCARD lt_status lt_sched_instances_json(const lt_sched *s, const char *app, lt_buf *out);

#endif
