/*
 * daemon.c - latticed start-up and shutdown. Everything the control plane
 * owns runs on one lt_loop thread (this one); nats.c callbacks only post to
 * it. SIGINT/SIGTERM stop the loop; then the NATS connection is closed, the
 * --dev child stopped and its temporary directory removed.
 */
#include "daemon.h"

#include <signal.h>
#include <stdio.h>
#include <string.h>

#include <nats/nats.h>

#include "lt_api.h"
#include "lt_config.h"
#include "lt_conn.h"
#include "lt_log.h"
#include "lt_loop.h"
#include "lt_natsrv.h"
#include "lt_store.h"

/* The bulk connection's write buffer: a burst of start requests (about 3 KB each for 10
 * instances) goes out in writes of this size. */
#define LT_DAEMON_BULK_BUF (256 * 1024)

static lt_loop *signal_loop; /* the loop SIGINT/SIGTERM stop */

static void on_signal(int sig)
{
    (void)sig;
    if (signal_loop != NULL)
        lt_loop_stop(signal_loop); /* async-signal-safe */
}

static void install_signals(lt_loop *loop)
{
    struct sigaction sa;

    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    sa.sa_flags = SA_RESTART;
    signal_loop = loop;
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);
}

static void restore_signals(void)
{
    signal(SIGINT, SIG_DFL);
    signal(SIGTERM, SIG_DFL);
    signal_loop = NULL;
}

/* Connection events arrive on nats.c threads: hand them to the loop. */
static void note_disconnected(lt_loop *loop, void *arg)
{
    (void)loop;
    (void)arg;
    LT_DEBUG("daemon", "loop saw the NATS disconnect");
    lt_daemon_sched_connection(false);
}

static void conn_disconnected(void *arg)
{
    LT_IGNORE(lt_loop_post(arg, note_disconnected, NULL, NULL));
}

static void note_reconnected(lt_loop *loop, void *arg)
{
    (void)loop;
    (void)arg;
    lt_daemon_sched_connection(true);
}

static void conn_reconnected(void *arg)
{
    LT_IGNORE(lt_loop_post(arg, note_reconnected, NULL, NULL));
}

static int64_t tick(lt_loop *loop, void *arg)
{
    (void)loop;
    (void)arg;
    /* The reconciler's periodic full pass will hang off this timer. */
    return 5000;
}

/* Start-up waits for NATS only until SIGINT/SIGTERM. */
static bool not_stopping(void *arg)
{
    return !lt_loop_stopping(arg);
}

static lt_conn_config conn_config_of(const lt_daemon_config *cfg, const char *url)
{
    return (lt_conn_config){
        .url = url,
        .name = "latticed",
        .creds_file = cfg->nats_creds,
        .jwt_file = cfg->nats_jwt,
        .nkey = cfg->nats_nkey,
        .seed_file = cfg->nats_seed,
        .tls_ca = cfg->nats_tls_ca,
        .tls_cert = cfg->nats_tls_cert,
        .tls_key = cfg->nats_tls_key,
        .ping_ms = (int)cfg->nats_ping_ms,
        .connect_wait_ms = cfg->nats_connect_wait_ms,
        /* A command queued during a reconnect could reach a host after another replica
         * took over: nothing is buffered, the scheduler retries after the reconnect. */
        .no_reconnect_buffer = true,
        .send_asap = true,
    };
}

int lt_daemon_run(const lt_daemon_config *cfg)
{
    lt_natsrv *natsd = NULL;
    lt_loop *loop = NULL;
    natsConnection *nc = NULL, *bulk_nc = NULL;
    jsCtx *js = NULL;
    lt_store *store = NULL, *api_store = NULL;
    lt_api *api = NULL;
    lt_api_config ac = { .prefix = cfg->api_prefix,
                         .workers = (unsigned)cfg->api_workers,
                         .timeout_ms = (unsigned)cfg->api_timeout_ms,
                         .sched_prefix = cfg->lattice_prefix };
    lt_conn_config cc;
    lt_conn_events events = { .disconnected = conn_disconnected, .reconnected = conn_reconnected };
    lt_sched_svc *sched = NULL;
    lt_daemon_admin *admin = NULL;
    const char *admin_addr = cfg->http_admin != NULL ? cfg->http_admin
                             : cfg->dev              ? "127.0.0.1:0"
                                                     : NULL;
    pid_t devhost = 0;
    char devapp[256] = "";
    lt_store_config sc = {
        .replicas = (int)cfg->replicas,
        .memory = cfg->storage != NULL && strcmp(cfg->storage, "memory") == 0,
        .events_max_bytes = cfg->events_max_bytes,
    };
    const char *url = cfg->nats_url;
    char shown[256];
    int code = 1;
    lt_status st;

    if (lt_loop_new(&loop) != LT_OK) {
        LT_ERROR("daemon", "cannot create the event loop");
        goto out;
    }
    /* Signals first, so a Ctrl-C during start-up still cleans up. */
    install_signals(loop);
    events.arg = loop;
    if (cfg->dev) {
        lt_natsrv_opts no = { .binary = cfg->nats_server_bin };

        st = lt_natsrv_start(&natsd, &no);
        if (st != LT_OK) {
            LT_ERROR("dev", "%s", lt_error_message());
            code = 3;
            goto out;
        }
        url = lt_natsrv_url(natsd);
        LT_INFO("dev", "started nats-server pid %d with JetStream in %s", (int)lt_natsrv_pid(natsd),
                lt_natsrv_dir(natsd));
    }
    cc = conn_config_of(cfg, url);
    cc.keep_waiting = not_stopping;
    cc.keep_waiting_arg = loop;
    st = lt_conn_connect(&nc, &cc, &events);
    if (st != LT_OK && lt_loop_stopping(loop)) {
        code = 0; /* stopped while waiting for NATS */
        goto out;
    }
    if (st != LT_OK) {
        LT_ERROR("daemon", "%s", lt_error_message());
        code = st == LT_ERR_INVALID ? 2 : 3;
        goto out;
    }
    if (natsConnection_JetStream(&js, nc, NULL) != NATS_OK) {
        LT_ERROR("daemon", "cannot open a JetStream context");
        goto out;
    }
    st = lt_store_ensure_assets(js, &sc);
    if (st != LT_OK) {
        LT_ERROR("daemon", "%s", lt_error_message());
        code = 3;
        goto out;
    }
    /* The API's store keeps the in-memory view (store/store_view.c) and answers reads and
     * checks from it; the scheduler's reads KV as before (its own handle, no view). */
    sc.nc = nc; /* js's: the stores' watchers are retired on it (lt_conn_watcher_free) */
    if (lt_store_open(&store, js, &sc) != LT_OK || lt_store_open(&api_store, js, &sc) != LT_OK ||
        lt_store_view_start(api_store, nc) != LT_OK ||
        lt_api_start(&api, nc, api_store, &ac) != LT_OK) {
        LT_ERROR("daemon", "%s", lt_error_message());
        goto out;
    }
    /* The scheduler lives on this loop; its blocking KV work runs on its own threads. */
    /* Bulk traffic goes out on a connection of its own that does not write each message at
     * once: the control-plane events and the native hosts' commands (a pass sends a start
     * request to every host it placed on). nats.c coalesces a burst into a few large socket
     * writes (within about 1 ms, or when its buffer fills); the API's replies on nc keep their
     * latency. Like nc it buffers nothing while reconnecting. */
    cc.name = "latticed-bulk";
    cc.send_asap = false;
    cc.io_buf_size = LT_DAEMON_BULK_BUF;
    if (lt_conn_connect(&bulk_nc, &cc, NULL) != LT_OK) {
        LT_WARN("daemon", "bulk connection: %s; events and commands share the main connection",
                lt_error_message());
        bulk_nc = NULL;
    }
    if (lt_daemon_sched_start(cfg, nc, js, bulk_nc, store, loop, &sched) != LT_OK) {
        LT_ERROR("daemon", "%s", lt_error_message());
        goto out;
    }
    if (cfg->dev && (lt_dev_host_start(cfg, url, &devhost) != LT_OK ||
                     lt_dev_apply_example(cfg, store, devapp, sizeof(devapp)) != LT_OK ||
                     lt_dev_watch_app(loop, sched, devapp) != LT_OK))
        LT_WARN("dev", "%s", lt_error_message()); /* the control plane still runs */
    if (lt_loop_timer_add(loop, 5000, tick, NULL, NULL) != LT_OK)
        goto out;
    if (admin_addr != NULL && strcmp(admin_addr, "off") != 0 &&
        (st = lt_daemon_admin_start(admin_addr, loop, nc, api, api_store, sched, &admin)) !=
            LT_OK) {
        LT_ERROR("admin", "%s", lt_error_message());
        code = st == LT_ERR_INVALID ? 2 : 1;
        goto out;
    }
    lt_conn_redact_url(url, shown, sizeof(shown));
    LT_INFO("daemon", "latticed %s ready: NATS %s, API prefix %s", LT_VERSION, shown,
            cfg->api_prefix);
    if (cfg->dev) {
        printf("latticed --dev is up. Point clients at it with:\n"
               "  export LATTICE_NATS_URL=%s\n",
               url);
        if (admin != NULL)
            printf("Health and metrics: http://%s/readyz and /metrics\n",
                   lt_daemon_admin_addr(admin));
        printf("Press Ctrl-C to stop.\n");
        fflush(stdout);
    }
    if (lt_loop_stopping(loop)) {
        code = 0;
        goto out;
    }
    st = lt_loop_run(loop);
    code = st == LT_OK ? 0 : 1;
    LT_INFO("daemon", "shutting down");
out:
    restore_signals();
    lt_daemon_admin_stop(admin);
    lt_dev_host_stop(devhost); /* while NATS is still there for its goodbye */
    lt_daemon_sched_stop(sched);
    lt_api_stop(api);
    lt_store_close(api_store);
    lt_store_close(store);
    jsCtx_Destroy(js);
    if (bulk_nc != NULL) {
        natsConnection_Close(bulk_nc); /* flushes what the writer published */
        natsConnection_Destroy(bulk_nc);
    }
    if (nc != NULL) {
        natsConnection_Close(nc);
        natsConnection_Destroy(nc);
    }
    /* Items posted and not run may hold natsMsgs (ingest's hosts_drop): destroy them while
     * libnats lives, and refuse later posts (see host/host.c). */
    lt_loop_close(loop);
    lt_conn_parked_free(); /* every connection is closed: what waited for it can go */
    /* Wait (bounded) for nats.c's own threads: a reconnect thread still running when NATS was
     * unreachable at shutdown kept the connection alive past exit (LeakSanitizer, e2e_conn). */
    if (nats_CloseAndWait(5000) == NATS_TIMEOUT)
        LT_WARN("daemon", "nats.c's threads did not finish within 5 s");
    lt_loop_free(loop);
    if (natsd != NULL) {
        LT_INFO("dev", "stopping nats-server pid %d and removing %s", (int)lt_natsrv_pid(natsd),
                lt_natsrv_dir(natsd));
        if (lt_natsrv_stop(natsd) != LT_OK)
            LT_WARN("dev", "%s", lt_error_message());
    }
    return code;
}
