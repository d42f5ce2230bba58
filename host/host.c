/*
 * host.c - the real reference host: one host state, one NATS connection and
 * one subscription ("{prefix}.{lattice}.host.{id}.*"), heartbeats on a timer,
 * children supervised through a signalfd for SIGCHLD, and a clean shutdown
 * on SIGINT/SIGTERM: host.stopping, every child stopped (SIGTERM, grace,
 * SIGKILL) and reported, exit 0.
 */
#include "host_rt_int.h"

#include <dirent.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include "lt_alloc.h"
#include "lt_config.h"
#include "lt_log.h"

#define TICK_MS 50

static lt__host_state *lookup_own(void *ctx, const char *id)
{
    lt__host_rt *rt = ctx;

    return strcmp(id, rt->h.id) == 0 ? &rt->h : NULL;
}

static lt__host_state *each_own(void *ctx, size_t i)
{
    lt__host_rt *rt = ctx;

    return i == 0 ? &rt->h : NULL;
}

static void on_reconnect(void *ctx)
{
    lt__host_rt *rt = ctx;

    if (!rt->stopping)
        lt__host_srv_heartbeat(&rt->srv, &rt->h); /* tell the control plane at once */
}

static int64_t heartbeat_timer(lt_loop *loop, void *arg)
{
    lt__host_rt *rt = arg;

    (void)loop;
    if (rt->stopping)
        return LT_TIMER_STOP;
    lt__host_srv_heartbeat(&rt->srv, &rt->h);
    return rt->cfg->heartbeat_ms;
}

/* Shutdown ends when no child is left: flush what we published, stop the loop. */
static void maybe_finish(lt__host_rt *rt)
{
    if (!rt->stopping || lt__host_child_count(rt) > 0)
        return;
    LT_INFO("host", "every instance stopped; leaving");
    lt__host_srv_flush(&rt->srv, 2000);
    rt->exit_code = 0;
    lt_loop_stop(rt->loop);
}

static int64_t tick_timer(lt_loop *loop, void *arg)
{
    lt__host_rt *rt = arg;

    (void)loop;
    lt__host_child_tick(rt);
    lt__host_srv_idle(&rt->srv);
    maybe_finish(rt);
    return TICK_MS;
}

static void begin_shutdown(lt__host_rt *rt, int sig)
{
    const char *why = sig == SIGINT ? "SIGINT" : "SIGTERM";

    if (rt->stopping) {
        /* A second signal: no more grace. */
        LT_WARN("host", "%s again: killing every instance now", why);
        rt->shutdown_deadline = lt_loop_now_ms();
        lt__host_child_stop_all(rt);
        lt__host_child_tick(rt);
        return;
    }
    LT_INFO("host", "%s: stopping %zu instance(s), grace %lld ms", why, rt->h.insts.count,
            (long long)rt->cfg->stop_grace_ms);
    rt->stopping = true;
    rt->h.shutting_down = true;
    rt->shutdown_deadline = lt_loop_now_ms() + rt->cfg->stop_grace_ms;
    lt__host_srv_stopping(&rt->srv, &rt->h, why, lt__host_wall_ms() + rt->cfg->stop_grace_ms);
    lt__host_child_stop_all(rt);
    maybe_finish(rt);
}

static void on_signal_fd(lt_loop *loop, int fd, short revents, void *arg)
{
    lt__host_rt *rt = arg;
    struct signalfd_siginfo si;
    bool chld = false;

    (void)loop;
    (void)revents;
    while (read(fd, &si, sizeof(si)) == (ssize_t)sizeof(si)) {
        if (si.ssi_signo == SIGCHLD)
            chld = true;
        else
            begin_shutdown(rt, (int)si.ssi_signo);
    }
    if (chld) {
        lt__host_child_reap(rt);
        maybe_finish(rt);
    }
}

/* "<hostname>-<8 hex>", hostname reduced to a subject token. */
static void generate_id(char *out, size_t n)
{
    char host[64] = "host", uuid[37];
    size_t o = 0;

    if (gethostname(host, sizeof(host) - 1) != 0)
        snprintf(host, sizeof(host), "host");
    host[sizeof(host) - 1] = '\0';
    for (const char *p = host; *p != '\0' && o < 40 && o + 1 < n; p++) {
        unsigned char c = (unsigned char)*p;

        out[o++] = (c > ' ' && c < 0x7f && c != '.' && c != '*' && c != '>') ? (char)c : '-';
    }
    lt__host_uuid(uuid);
    snprintf(out + o, n - o, "-%.8s", uuid);
}

static lt_status make_run_dir(lt__host_rt *rt)
{
    const char *parent = rt->cfg->run_dir;
    char path[LT_MAX_PATH];

    if (parent == NULL || parent[0] == '\0')
        parent = getenv("TMPDIR");
    if (parent == NULL || parent[0] == '\0')
        parent = "/tmp";
    snprintf(path, sizeof(path), "%s/latticed-host-%s-XXXXXX", parent, rt->h.id);
    if (mkdtemp(path) == NULL)
        return LT_FAIL(LT_ERR_IO, "cannot create a run directory under %s (errno %d)", parent,
                       errno);
    rt->run_dir = lt_strdup(path);
    return rt->run_dir != NULL ? LT_OK : LT_ERR_NOMEM;
}

/* Remove our run directory (flat: links files only). */
static void remove_run_dir(const char *dir)
{
    char path[LT_MAX_PATH];
    struct dirent *de;
    DIR *d;

    if (dir == NULL || (d = opendir(dir)) == NULL)
        return;
    while ((de = readdir(d)) != NULL) {
        if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
            continue;
        snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
        unlink(path);
    }
    closedir(d);
    rmdir(dir);
}

/* Identity, labels, capacity and runners from the configuration. */
static lt_status setup_state(lt__host_rt *rt)
{
    const lt_host_config *cfg = rt->cfg;
    char id[LT_MAX_HOST_ID + 1], name[256];
    lt_status st;

    if (cfg->host_id != NULL && cfg->host_id[0] != '\0')
        snprintf(id, sizeof(id), "%s", cfg->host_id);
    else
        generate_id(id, sizeof(id));
    if (!lt__host_token_ok(id, LT_MAX_HOST_ID))
        return LT_FAIL(LT_ERR_INVALID, "host id '%s' is not a valid subject token", id);
    if (cfg->name != NULL && cfg->name[0] != '\0')
        snprintf(name, sizeof(name), "%s", cfg->name);
    else if (gethostname(name, sizeof(name) - 1) != 0)
        snprintf(name, sizeof(name), "%s", id);
    name[sizeof(name) - 1] = '\0';
    st = lt__host_state_init(&rt->h, id, cfg->lattice, name, LT_VERSION);
    if (st != LT_OK)
        return st;
    rt->h.mem_total = cfg->memory;
    rt->h.slots_total = cfg->slots;
    rt->h.cpu_total = cfg->cpu_millis;
    rt->h.interval_ms = (uint32_t)cfg->heartbeat_ms;
    rt->h.measure = true;
    for (size_t i = 0; st == LT_OK && i < cfg->nlabels; i++)
        st = lt__host_label_add(&rt->h.labels, cfg->labels[i], 0, id);
    for (size_t i = 0; st == LT_OK && i < cfg->nrunners; i++)
        st = lt__host_runners_add(&rt->runners, cfg->runners[i]);
    if (st == LT_OK && cfg->default_runner != NULL && cfg->default_runner[0] != '\0' &&
        (rt->runners.default_cmd = lt_strdup(cfg->default_runner)) == NULL)
        st = LT_ERR_NOMEM;
    if (st == LT_OK && cfg->file_root != NULL && cfg->file_root[0] != '\0' &&
        (rt->runners.file_root = lt_strdup(cfg->file_root)) == NULL)
        st = LT_ERR_NOMEM;
    rt->runners.no_file = cfg->no_file_refs;
    return st;
}

/* Connect, subscribe, announce, arm timers. Exit code on failure, else 0. */
static int start_serving(lt__host_rt *rt)
{
    char shown[256];
    lt_status st;

    lt__host_child_ops(rt);
    lt__host_srv_init(&rt->srv, rt->cfg, rt->loop, lookup_own, rt, &rt->ops);
    rt->srv.each = each_own;
    rt->srv.on_reconnect = on_reconnect;
    st = lt__host_srv_connect(&rt->srv, "latticed-host");
    if (st != LT_OK) {
        LT_ERROR("host", "%s", lt_error_message());
        return st == LT_ERR_INVALID ? 2 : 3;
    }
    if (lt__host_srv_subscribe(&rt->srv, rt->h.id) != LT_OK ||
        lt_loop_watch_fd(rt->loop, rt->sigfd, POLLIN, on_signal_fd, rt) != LT_OK ||
        lt_loop_timer_add(rt->loop, rt->cfg->heartbeat_ms, heartbeat_timer, rt, NULL) != LT_OK ||
        lt_loop_timer_add(rt->loop, TICK_MS, tick_timer, rt, NULL) != LT_OK) {
        LT_ERROR("host", "cannot start serving: %s", lt_error_message());
        return 1;
    }
    lt__host_srv_started(&rt->srv, &rt->h);
    lt__host_srv_heartbeat(&rt->srv, &rt->h);
    lt__host_srv_flush(&rt->srv, 2000);
    lt_conn_redact_url(rt->cfg->conn.url, shown, sizeof(shown));
    LT_INFO("host", "host %s ready in lattice %s: NATS %s, commands on %s, run dir %s", rt->h.id,
            rt->h.lattice, shown, rt->srv.cmds, rt->run_dir);
    printf("host_id=%s\n", rt->h.id);
    fflush(stdout);
    return 0;
}

int lt_host_run(const lt_host_config *cfg)
{
    lt__host_rt rt;
    int code = 1;

    memset(&rt, 0, sizeof(rt));
    rt.cfg = cfg;
    rt.sigfd = -1;
    rt.exit_code = 1;
    /* Signals first, before nats.c starts threads: they all inherit the mask. */
    if (lt__host_signals(true, &rt.sigfd) != LT_OK) {
        LT_ERROR("host", "%s", lt_error_message());
        goto out;
    }
    prctl(PR_SET_CHILD_SUBREAPER, 1); /* orphaned grandchildren come back to us */
    if (lt_loop_new(&rt.loop) != LT_OK) {
        LT_ERROR("host", "cannot create the event loop");
        goto out;
    }
    if (setup_state(&rt) != LT_OK) {
        LT_ERROR("host", "%s", lt_error_message());
        code = 2;
        goto out;
    }
    if (make_run_dir(&rt) != LT_OK) {
        LT_ERROR("host", "%s", lt_error_message());
        goto out;
    }
    code = start_serving(&rt);
    if (code != 0)
        goto out;
    if (lt_loop_run(rt.loop) != LT_OK)
        LT_ERROR("host", "event loop failed: %s", lt_error_message());
    code = rt.exit_code;
out:
    lt__host_child_kill_all(&rt); /* children never outlive the host */
    lt__host_srv_cleanup(&rt.srv);
    /* Commands posted by on_msg and not run hold natsMsgs: destroy them now, while libnats
     * lives (natsMsg_Destroy after nats_Close crashed in natsGC_collect), and refuse any
     * later post, which on_msg then drops on its own nats.c thread. */
    lt_loop_close(rt.loop);
    /* and wait for nats.c's threads: one could still be in on_msg, posting to the loop freed
     * below */
    if (nats_CloseAndWait(5000) != NATS_OK)
        LT_WARN("host", "nats.c's threads did not finish within 5 s");
    lt_loop_free(rt.loop);
    lt__host_state_cleanup(&rt.h);
    remove_run_dir(rt.run_dir);
    lt_free(rt.run_dir);
    lt_free(rt.orphans);
    lt__host_runners_cleanup(&rt.runners);
    if (rt.sigfd >= 0)
        close(rt.sigfd);
    return code;
}
