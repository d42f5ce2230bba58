/*
 * sim.c - `latticed-host --simulate N`: N virtual hosts in one process on one
 * NATS connection and one wildcard subscription ("...host.*.*", the host
 * found by id in a hash table), one loop thread and no child processes:
 * instances are bookkeeping. Heartbeats are staggered evenly over the
 * interval by one timer; faults can be injected (--fail-rate with a seeded
 * PRNG, --reply-delay-ms, --refuse-image, and crashes after start:
 * --crash-after-ms with --crash-image, --crash-message, --crash-limit, reported
 * as the real host reports a child that exited past its restart limit).
 */
#include "host_rt_int.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include "lt_alloc.h"
#include "lt_config.h"
#include "lt_log.h"
#include "lt_rand.h"

#define TICK_MS 10

typedef struct {
    const lt_host_config *cfg;
    lt_loop *loop;
    lt__host_srv srv;
    lt__host_ops ops;
    lt__host_state *hosts;
    size_t n;
    lt_map by_id;
    lt_rand rng; /* --fail-rate draws, deterministic for a given --seed */
    int sigfd;
    int64_t t0;     /* schedule origin (monotonic ms) */
    uint64_t round; /* heartbeat round of hosts[next] */
    size_t next;    /* next host to heartbeat */
    uint64_t starts, refused;
    int64_t stats_at; /* last stats line */
    uint64_t stats_hb, stats_req;
    int exit_code;
    /* --crash-after-ms: pending crashes in due order (one constant delay: a FIFO). */
    struct sim_crash {
        lt__host_state *h;
        char *id;
        int64_t due;
    } * crashq;
    size_t crash_head, crash_n, crash_cap;
    uint64_t crashes;
} lt_host_sim;

static lt__host_state *lookup_sim(void *ctx, const char *id)
{
    lt_host_sim *sim = ctx;

    return lt_map_get(&sim->by_id, id);
}

static lt__host_state *each_sim(void *ctx, size_t i)
{
    lt_host_sim *sim = ctx;

    return i < sim->n ? &sim->hosts[i] : NULL;
}

/* ---- --crash-after-ms ------------------------------------------------------------- */

/* Queue inst's crash when it matches (a lost entry only loses one simulated crash). */
static void crash_arm(lt_host_sim *sim, lt__host_state *h, lt__host_inst *inst)
{
    const lt_host_config *cfg = sim->cfg;
    struct sim_crash *e;

    if (cfg->crash_after_ms <= 0 || (cfg->crash_limit != 0 && sim->crashes >= cfg->crash_limit) ||
        (cfg->crash_image != NULL && strstr(inst->image_ref, cfg->crash_image) == NULL))
        return;
    if (sim->crash_head > 0 && sim->crash_head == sim->crash_n) {
        sim->crash_head = sim->crash_n = 0; /* drained: reuse from the start */
    } else if (sim->crash_n == sim->crash_cap) {
        size_t cap = sim->crash_cap != 0 ? sim->crash_cap * 2 : 64;

        if (sim->crash_head > 0) { /* compact first */
            memmove(sim->crashq, sim->crashq + sim->crash_head,
                    (sim->crash_n - sim->crash_head) * sizeof(*sim->crashq));
            sim->crash_n -= sim->crash_head;
            sim->crash_head = 0;
        }
        if (sim->crash_n == sim->crash_cap) {
            e = lt_realloc(sim->crashq, cap * sizeof(*e));
            if (e == NULL)
                return;
            sim->crashq = e;
            sim->crash_cap = cap;
        }
    }
    e = &sim->crashq[sim->crash_n];
    e->id = lt_strdup(inst->id);
    if (e->id == NULL)
        return;
    e->h = h;
    e->due = lt_loop_now_ms() + cfg->crash_after_ms;
    inst->crash_at_ms = e->due;
    sim->crash_n++;
}

/* Crash what is due and still the same incarnation (not stopped or replaced since). */
static void crash_due(lt_host_sim *sim, int64_t now)
{
    const char *msg = sim->cfg->crash_message != NULL ? sim->cfg->crash_message
                                                      : "exited with code 1 (simulated crash)";

    while (sim->crash_head < sim->crash_n && sim->crashq[sim->crash_head].due <= now) {
        struct sim_crash *e = &sim->crashq[sim->crash_head++];
        lt__host_inst *inst = lt_map_get(&e->h->insts, e->id);

        if (inst != NULL && inst->crash_at_ms == e->due && inst->state == HIS(RUNNING) &&
            (sim->cfg->crash_limit == 0 || sim->crashes < sim->cfg->crash_limit)) {
            sim->crashes++;
            inst->crash_at_ms = 0;
            /* As the real host reports a child that exited past its restart limit. */
            lt__host_set_state(e->h, inst, HIS(FAILED), msg);
            LT_INFO("sim", "instance %s on %s crashed: %s", inst->id, e->h->id, msg);
            lt__host_emit_instance(e->h, &sim->ops, "instance.failed", inst, HRC(START_FAILED), msg,
                                   false);
        }
        lt_free(e->id);
    }
}

static void crash_cleanup(lt_host_sim *sim)
{
    for (size_t i = sim->crash_head; i < sim->crash_n; i++)
        lt_free(sim->crashq[i].id);
    lt_free(sim->crashq);
}

/* ---- lt__host_ops of a simulated host ---------------------------------------------- */

static int sim_start(void *ctx, lt__host_state *h, lt__host_inst *inst, char *msg, size_t msgsize)
{
    lt_host_sim *sim = ctx;
    const char *refuse = sim->cfg->refuse_image;

    sim->starts++;
    if (refuse != NULL && refuse[0] != '\0' && strstr(inst->image_ref, refuse) != NULL) {
        snprintf(msg, msgsize, "simulated refusal: image_ref contains '%s' (--refuse-image)",
                 refuse);
        sim->refused++;
        return HRC(START_FAILED);
    }
    if (sim->cfg->fail_rate > 0 && lt_rand_unit(&sim->rng) < sim->cfg->fail_rate) {
        snprintf(msg, msgsize, "simulated start failure (--fail-rate %g)", sim->cfg->fail_rate);
        sim->refused++;
        return HRC(START_FAILED);
    }
    lt__host_set_state(h, inst, HIS(RUNNING), NULL);
    crash_arm(sim, h, inst);
    return HRC(OK);
}

static bool sim_stop(void *ctx, lt__host_state *h, lt__host_inst *inst, uint32_t grace_ms)
{
    (void)ctx;
    (void)h;
    (void)inst;
    (void)grace_ms;
    return true; /* nothing runs: gone at once */
}

static void sim_discard(void *ctx, lt__host_state *h, lt__host_inst *inst)
{
    (void)ctx;
    (void)h;
    (void)inst;
}

static void sim_emit(void *ctx, lt__host_state *h, const char *type, const void *data, size_t len)
{
    lt_host_sim *sim = ctx;

    if (!sim->cfg->instance_events &&
        (strncmp(type, "instance.", 9) == 0 || strncmp(type, "instances.", 10) == 0))
        return;
    lt__host_srv_emit(&sim->srv, h, type, data, len);
}

/* ---- heartbeats, staggered: host i beats at t0 + k*interval + i*interval/N ---------- */

static int64_t beat_timer(lt_loop *loop, void *arg)
{
    lt_host_sim *sim = arg;
    int64_t now = lt_loop_now_ms(), iv = sim->cfg->heartbeat_ms;
    size_t sent = 0;

    (void)loop;
    crash_due(sim, now);
    while (sent < sim->n) {
        int64_t due =
            sim->t0 + (int64_t)sim->round * iv + (int64_t)sim->next * iv / (int64_t)sim->n;

        if (due > now)
            break;
        lt__host_srv_heartbeat(&sim->srv, &sim->hosts[sim->next]);
        sent++;
        if (++sim->next == sim->n) {
            sim->next = 0;
            sim->round++;
        }
    }
    lt__host_srv_idle(&sim->srv);
    if (sent == sim->n &&
        sim->t0 + (int64_t)sim->round * iv + (int64_t)sim->next * iv / (int64_t)sim->n <= now) {
        /* still a whole round behind: start the schedule again from now */
        sim->t0 = now;
        sim->round = 0;
        sim->next = 0;
    }
    return TICK_MS;
}

static long rss_kib(void)
{
    struct rusage ru;

    return getrusage(RUSAGE_SELF, &ru) == 0 ? ru.ru_maxrss : 0;
}

static size_t total_instances(const lt_host_sim *sim)
{
    size_t n = 0;

    for (size_t i = 0; i < sim->n; i++)
        n += sim->hosts[i].insts.count;
    return n;
}

static void log_stats(lt_host_sim *sim, const char *when)
{
    int64_t now = lt_loop_now_ms(), dt = now - sim->stats_at;

    if (dt <= 0)
        dt = 1;
    LT_INFO("sim",
            "%s: %zu hosts, %zu instances; %.0f heartbeats/s, %.0f requests/s; totals: "
            "%" PRIu64 " heartbeats, %" PRIu64 " requests, %" PRIu64 " events, %" PRIu64
            " starts (%" PRIu64 " refused), %" PRIu64 " errors; max RSS %ld KiB",
            when, sim->n, total_instances(sim),
            (double)(sim->srv.n_heartbeats - sim->stats_hb) * 1000.0 / (double)dt,
            (double)(sim->srv.n_requests - sim->stats_req) * 1000.0 / (double)dt,
            sim->srv.n_heartbeats, sim->srv.n_requests, sim->srv.n_events, sim->starts,
            sim->refused, sim->srv.n_errors, rss_kib());
    sim->stats_at = now;
    sim->stats_hb = sim->srv.n_heartbeats;
    sim->stats_req = sim->srv.n_requests;
}

static int64_t stats_timer(lt_loop *loop, void *arg)
{
    lt_host_sim *sim = arg;

    (void)loop;
    log_stats(sim, "stats");
    return sim->cfg->stats_ms;
}

static void on_signal_fd(lt_loop *loop, int fd, short revents, void *arg)
{
    lt_host_sim *sim = arg;
    struct signalfd_siginfo si;
    int64_t wall = lt__host_wall_ms();

    (void)revents;
    if (read(fd, &si, sizeof(si)) != (ssize_t)sizeof(si))
        return;
    LT_INFO("sim", "%s: %zu simulated hosts stopping",
            si.ssi_signo == SIGINT ? "SIGINT" : "SIGTERM", sim->n);
    lt__host_srv_drain(&sim->srv); /* queued instance events before host.stopping */
    for (size_t i = 0; i < sim->n; i++) {
        sim->hosts[i].shutting_down = true;
        lt__host_srv_stopping(&sim->srv, &sim->hosts[i],
                              si.ssi_signo == SIGINT ? "SIGINT" : "SIGTERM", wall);
    }
    lt__host_srv_flush(&sim->srv, 5000);
    log_stats(sim, "final");
    sim->exit_code = 0;
    lt_loop_stop(loop);
}

/* ---- set-up ------------------------------------------------------------------------ */

static lt_status make_hosts(lt_host_sim *sim)
{
    const lt_host_config *cfg = sim->cfg;
    char id[LT_MAX_HOST_ID + 1];
    int width = 5;
    lt_status st = LT_OK;

    for (size_t m = sim->n - 1; m >= 100000; m /= 10)
        width++;
    sim->hosts = lt_calloc(sim->n, sizeof(*sim->hosts));
    if (sim->hosts == NULL)
        return LT_ERR_NOMEM;
    lt_map_init(&sim->by_id);
    for (size_t i = 0; st == LT_OK && i < sim->n; i++) {
        lt__host_state *h = &sim->hosts[i];

        int len = snprintf(id, sizeof(id), "%s-%0*zu", cfg->id_prefix, width, i);

        if (len < 0 || (size_t)len >= sizeof(id) || !lt__host_token_ok(id, LT_MAX_HOST_ID))
            return LT_FAIL(LT_ERR_INVALID, "host id '%s' is not a valid subject token", id);
        st = lt__host_state_init(h, id, cfg->lattice, NULL, LT_VERSION);
        if (st != LT_OK)
            break;
        h->index = i;
        h->mem_total = cfg->memory;
        h->slots_total = cfg->slots;
        h->cpu_total = cfg->cpu_millis;
        h->interval_ms = (uint32_t)cfg->heartbeat_ms;
        for (size_t j = 0; st == LT_OK && j < cfg->nlabels; j++)
            st = lt__host_label_add(&h->labels, cfg->labels[j], i, id);
        if (st == LT_OK)
            st = lt_map_add(&sim->by_id, h->id, h);
    }
    return st;
}

static void free_hosts(lt_host_sim *sim)
{
    for (size_t i = 0; sim->hosts != NULL && i < sim->n; i++)
        lt__host_state_cleanup(&sim->hosts[i]);
    lt_free(sim->hosts);
    lt_map_cleanup(&sim->by_id);
}

/* Connect, subscribe, announce every host, arm timers. Exit code on failure, else 0. */
static int start_serving(lt_host_sim *sim)
{
    lt_status st;

    sim->ops = (lt__host_ops){ sim_start, sim_stop, sim_discard, NULL, sim_emit, sim };
    lt__host_srv_init(&sim->srv, sim->cfg, sim->loop, lookup_sim, sim, &sim->ops);
    sim->srv.each = each_sim;
    sim->srv.defer_events = true; /* replies to a burst first, its events right after */
    st = lt__host_srv_connect(&sim->srv, "latticed-host-sim");
    if (st != LT_OK) {
        LT_ERROR("sim", "%s", lt_error_message());
        return st == LT_ERR_INVALID ? 2 : 3;
    }
    if (lt__host_srv_subscribe(&sim->srv, "*") != LT_OK ||
        lt_loop_watch_fd(sim->loop, sim->sigfd, POLLIN, on_signal_fd, sim) != LT_OK ||
        lt_loop_timer_add(sim->loop, 0, beat_timer, sim, NULL) != LT_OK ||
        (sim->cfg->stats_ms > 0 &&
         lt_loop_timer_add(sim->loop, sim->cfg->stats_ms, stats_timer, sim, NULL) != LT_OK)) {
        LT_ERROR("sim", "cannot start serving: %s", lt_error_message());
        return 1;
    }
    for (size_t i = 0; i < sim->n; i++)
        lt__host_srv_started(&sim->srv, &sim->hosts[i]);
    lt__host_srv_flush(&sim->srv, 5000);
    sim->t0 = sim->stats_at = lt_loop_now_ms();
    LT_INFO("sim", "%zu simulated hosts %s..%s ready in lattice %s (heartbeat every %lld ms)",
            sim->n, sim->hosts[0].id, sim->hosts[sim->n - 1].id, sim->cfg->lattice,
            (long long)sim->cfg->heartbeat_ms);
    printf("simulating=%zu first=%s last=%s\n", sim->n, sim->hosts[0].id,
           sim->hosts[sim->n - 1].id);
    fflush(stdout);
    return 0;
}

int lt_host_sim_run(const lt_host_config *cfg)
{
    lt_host_sim sim;
    int code = 1;

    memset(&sim, 0, sizeof(sim));
    sim.cfg = cfg;
    sim.n = cfg->simulate;
    sim.sigfd = -1;
    sim.exit_code = 1;
    lt_rand_seed(&sim.rng, cfg->seed);
    if (lt__host_signals(false, &sim.sigfd) != LT_OK) {
        LT_ERROR("sim", "%s", lt_error_message());
        goto out;
    }
    if (lt_loop_new(&sim.loop) != LT_OK) {
        LT_ERROR("sim", "cannot create the event loop");
        goto out;
    }
    if (make_hosts(&sim) != LT_OK) {
        LT_ERROR("sim", "%s", lt_error_message());
        code = 2;
        goto out;
    }
    code = start_serving(&sim);
    if (code != 0)
        goto out;
    if (lt_loop_run(sim.loop) != LT_OK)
        LT_ERROR("sim", "event loop failed: %s", lt_error_message());
    code = sim.exit_code;
out:
    lt__host_srv_cleanup(&sim.srv);
    /* Commands posted by on_msg and not run hold natsMsgs: destroy them now, while libnats
     * lives (natsMsg_Destroy after nats_Close crashed in natsGC_collect), and refuse any
     * later post, which on_msg then drops on its own nats.c thread. */
    lt_loop_close(sim.loop);
    /* and wait for nats.c's threads: one could still be in on_msg, posting to the loop freed
     * below */
    if (nats_CloseAndWait(5000) != NATS_OK)
        LT_WARN("sim", "nats.c's threads did not finish within 5 s");
    lt_loop_free(sim.loop);
    free_hosts(&sim);
    crash_cleanup(&sim);
    if (sim.sigfd >= 0)
        close(sim.sigfd);
    return code;
}
