/*
 * fleet.h - an in-memory fleet of fake hosts wired to an lt_sched for unit
 * tests: the scheduler's batches are applied to the fake hosts and answered,
 * heartbeats are generated from their state, and simulated time advances in
 * steps. Faults: a host refusing starts, a silent (dead) host, instances that
 * crash after they started (at once with fleet_fail, or crash_after_ms after
 * each start like `latticed-host --simulate --crash-after-ms`).
 */
#ifndef LT_FLEET_H
#define LT_FLEET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lt_sched.h"

#define FLEET_MAX_HOSTS 64
#define FLEET_MAX_INST 20000

typedef struct {
    char id[40];
    char app[64], version[32], comp[64], comp_id[96], image[160], digest[40];
    char anns[6][2][64]; /* owner annotations as started */
    size_t n_anns;
    int state;
    uint64_t mem;
    bool foreign;       /* not started by latticed (no annotations) */
    char cfg[128];      /* "k=v;k=v" of the start's config */
    char msg[128];      /* FAILED: the host's message */
    char placement[48]; /* this incarnation, "1.{n}" as the reference host's */
    int64_t since;      /* when it was (re)started */
} fleet_inst;

typedef struct {
    char link_id[40];
    char source[40];
    char target[40];
    bool local;
    char src_cfg[128];
} fleet_link;

typedef struct {
    char id[64];
    char labels[256]; /* "k=v,k=v" */
    uint32_t slots;
    uint64_t mem;
    bool up;         /* heartbeats and answers */
    int refuse_code; /* != 0: starts answer this ResultCode */
    char refuse_msg[128];
    fleet_inst *inst; /* FLEET_MAX_INST entries */
    size_t n_inst;
    fleet_link links[512];
    size_t n_links;
    uint64_t seq;
    int64_t hb_next;       /* fleet_stagger: next heartbeat due */
    uint64_t newest_epoch; /* fences like a real host: older epochs get STALE_EPOCH */
    uint64_t starts;       /* instances created: n of their placements */
    char caps[256];        /* heartbeat capabilities "ns:pkg/iface,..." (one interface each) */
} fleet_host;

typedef struct {
    lt_sched *s;
    char lattice[64];
    int64_t now;
    fleet_host hosts[FLEET_MAX_HOSTS];
    size_t n_hosts;
    /* counters */
    size_t sent[5]; /* items per verb */
    size_t batches[5];
    size_t max_batch_seen;
    size_t events;
    size_t ev_quarantined, inventories, stale_calls;
    char stale_host[64];
    uint64_t stale_claimed;
    size_t ev_host_lost, ev_app_deployed, ev_app_failed, ev_placed, ev_inst_lost, ev_undeployed;
    /* instances.placed: events (ev_placed counts their items); items whose fields disagree with
     * the fleet (app, version, component, image, instance on the event's host) */
    size_t ev_placed_events, ev_placed_wrong;
    size_t statuses;
    char last_status[64][2][4096]; /* [n][0]=app [1]=json, ring */
    size_t n_status;
    bool hold_replies;            /* queue batches without answering */
    int reply_state;              /* state a start's OK result reports (0: none, as before) */
    bool answer_late;             /* answer at the next step instead of during send */
    int64_t hb_interval;          /* 0: every up host beats at every step; else see fleet_stagger */
    size_t started;               /* instances a start really ran (new or a FAILED one again) */
    char last_stop_placement[80]; /* StopItem.placement of the last stop item */
    size_t stops_left_alone;      /* stops naming a placement that is gone (ALREADY_DONE) */
    /* Crash after start: with crash_after_ms > 0, a RUNNING instance whose image contains
     * crash_image fails (crash_msg) that long after it started, at most crash_limit times in
     * all (0 = no limit); with crash_events an instance.failed event is sent too. */
    int64_t crash_after_ms;
    char crash_image[64];
    char crash_msg[128];
    size_t crash_limit, crashes;
    bool crash_events;
    /* Called with every batch before the fleet applies it (NULL: none). */
    void (*on_batch)(void *arg, const lt_sched_batch *b);
    void *on_batch_arg;
} fleet;

/** A fleet with a leading scheduler (epoch 1), no warm-up, inventory rounds of 1 ms (unless
 * cfg says otherwise); cfg may be NULL. */
fleet *fleet_new(const char *lattice, const lt_sched_config *cfg);
void fleet_free(fleet *f);

/** Add a host (labels "k=v,..."; slots/mem 0 = unlimited) and heartbeat it. */
fleet_host *fleet_host_add(fleet *f, const char *id, const char *labels, uint32_t slots,
                           uint64_t mem);
fleet_host *fleet_find(fleet *f, const char *id);
/** Host announces host.stopping and goes away. */
void fleet_host_stop(fleet *f, const char *id);
/** Run a foreign (unmanaged) instance on a host. */
void fleet_foreign(fleet *f, const char *host, const char *id, const char *comp_id);

void fleet_heartbeat(fleet *f, fleet_host *h);
/**
 * From now on every host beats once per interval_ms (its heartbeat's interval stays what the
 * host reports), host i of n first at now + i * interval_ms / n: staggered, as real hosts are.
 */
void fleet_stagger(fleet *f, int64_t interval_ms);
/**
 * Fail up to max RUNNING managed instances of app (and comp; NULL = any) on
 * host (NULL = every host) as a host reports a crash it will not restart:
 * state FAILED with msg in the next heartbeats and, with event, an
 * instance.failed (will_restart false) at once. Returns how many failed.
 */
size_t fleet_fail(fleet *f, const char *host, const char *app, const char *comp, size_t max,
                  const char *msg, bool event);
/** Advance time by ms, heartbeat every up host, tick, answer. */
void fleet_step(fleet *f, int64_t ms);
/** Steps until nothing is sent for a while (or max steps); returns steps taken. */
int fleet_settle(fleet *f, int max_steps);

/**
 * Fail the running test, naming the caller's file:line, unless the scheduler's inventory
 * indexes agree (lt__sched_check_consistent, scheduler/sched_int.h). fleet_step, fleet_fail,
 * fleet_host_stop and fleet_free check by themselves; tests check after calling lt_sched_*
 * directly.
 */
#define FLEET_CHECK(f) fleet_check_at((f), __FILE__, __LINE__)
void fleet_check_at(const fleet *f, const char *file, int line);

/** Instances of app (and comp, NULL = any) on host (NULL = all hosts), any version. */
size_t fleet_count(const fleet *f, const char *host, const char *app, const char *comp);
size_t fleet_count_version(const fleet *f, const char *app, const char *comp, const char *version);
/** Max instances of app/comp on a single host. */
size_t fleet_max_per_host(const fleet *f, const char *app, const char *comp);
/** Links installed anywhere with that source config substring (NULL = any). */
size_t fleet_links(const fleet *f, const char *cfg_sub, size_t *local);
const char *fleet_status(const fleet *f, const char *app);
lt_sched_state fleet_state(const fleet *f, const char *app);

#endif
