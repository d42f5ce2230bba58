/*
 * plan_int.h - what scheduler/plan.c (the shadow run) hands to plan_json.c (the
 * reply): the commands the shadow sent, round by round. Not for use outside
 * scheduler/.
 */
#ifndef LT_SCHED_PLAN_INT_H
#define LT_SCHED_PLAN_INT_H

#include "sched_int.h"

/** One command item the shadow sent. */
typedef struct {
    lt_sched_verb verb;
    unsigned round; /**< 1.. */
    char *host, *id, *app, *comp, *version;
    char *detail;  /**< link: "{source id} -({ns}:{pkg}/{name})-> {target id}" */
    uint8_t *spec; /**< start: the packed InstanceSpec (to report it running) */
    size_t spec_len;
} plan_op;

/** One request of the current round, to be answered. */
typedef struct {
    uint64_t no;
    lt_sched_verb verb;
    char *host;
    size_t first, n; /**< its items: ops[first .. first + n) */
} plan_batch;

typedef struct {
    lt_sched *sh;   /**< the shadow */
    pvec ops;       /**< plan_op *, in the order sent */
    pvec batches;   /**< plan_batch * of the round being answered */
    pvec borrowed;  /**< sched_app * of the shadow whose spec is the real scheduler's */
    unsigned round; /**< while running: the round being captured; after: rounds that sent */
    bool truncated; /**< stopped at LT_SCHED_PLAN_MAX_ROUNDS, still sending */
    lt_status st;   /**< first failure inside the sink */
} plan_ctx;

/**
 * Append the plan's JSON to out: old is the real deployed spec of the app (NULL: none), now
 * the spec compiled from the manifest (both borrowed), x the finished shadow run.
 */
LT_NODISCARD lt_status lt__sched_plan_write(plan_ctx *x, const lt_sched_spec *old,
                                            const lt_sched_spec *now_spec, int64_t now,
                                            lt_buf *out);

#endif
