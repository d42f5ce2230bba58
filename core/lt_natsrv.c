/*
 * lt_natsrv.c - a real nats-server as a child process (see lt_natsrv.h): the
 * public API, setting up a server's directory, name and options, and starting
 * it with retries when another process took its port.
 */
#include "natsrv_int.h"

#include <dirent.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "lt_alloc.h"
#include "lt_buf.h"
#include "lt_fs.h"
#include "lt_limits.h"
#include "lt_loop.h"
#include "lt_time.h"

#define DEFAULT_START_TIMEOUT_MS 20000
#define DEFAULT_STOP_TIMEOUT_MS 10000
#define START_ATTEMPTS 5

/* ---- start with retries ---- */

/* Wait for readiness; *exited tells that the child died meanwhile. */
static lt_status wait_ready(lt_natsrv *s, bool *exited)
{
    int64_t deadline = lt_loop_now_ms() + s->start_timeout_ms;

    *exited = false;
    for (;;) {
        int wst = 0;
        pid_t r = waitpid(s->pid, &wst, WNOHANG);

        if (r == s->pid) {
            s->pid = 0;
            *exited = true;
            return LT_FAIL(LT_ERR_STATE, "nats-server exited during start-up (status 0x%x)", wst);
        }
        switch (lt__core_natsrv_probe(s)) {
        case LT__NATSRV_READY:
            return LT_OK;
        case LT__NATSRV_FATAL:
            return LT_FAIL(LT_ERR_REFUSED, "nats-server refused the readiness probe "
                                           "(credentials?)");
        case LT__NATSRV_NOT_YET:
            break;
        }
        if (lt_loop_now_ms() >= deadline)
            return LT_FAIL(LT_ERR_TIMEOUT, "nats-server not ready within %lld ms",
                           (long long)s->start_timeout_ms);
        lt_time_sleep_ms(20);
    }
}

static lt_status pick_ports(lt_natsrv *s)
{
    lt_status st = lt_natsrv_free_port(&s->port);

    if (st == LT_OK && s->monitor)
        st = lt_natsrv_free_port(&s->mport);
    if (st == LT_OK)
        snprintf(s->url, sizeof(s->url), "nats://127.0.0.1:%d", s->port);
    return st;
}

/* Spawn and wait, retrying when the port turned out to be taken. */
static lt_status launch(lt_natsrv *s, const char *what)
{
    lt_status st = LT_ERR_STATE;

    for (int attempt = 0; attempt < START_ATTEMPTS; attempt++) {
        off_t from;
        bool exited = false, busy;
        char *since;

        if (s->auto_port && attempt > 0) {
            st = pick_ports(s);
            if (st != LT_OK)
                return st;
        }
        from = lt__core_natsrv_log_size(s);
        lt__core_natsrv_log_marker(s, what);
        st = lt__core_natsrv_spawn(s);
        if (st != LT_OK)
            return st;
        st = wait_ready(s, &exited);
        if (st == LT_OK)
            return LT_OK;
        if (!exited) {
            lt__core_natsrv_print_log_tail(s, from, lt_error_message());
            LT_IGNORE(lt__core_natsrv_terminate(s, true));
            return st;
        }
        since = lt__core_natsrv_log_since(s, from, 64u << 10);
        busy = since != NULL && strstr(since, "address already in use") != NULL;
        lt_free(since);
        if (!busy) {
            lt__core_natsrv_print_log_tail(s, from, "nats-server exited during start-up");
            return st;
        }
        lt_time_sleep_ms(s->auto_port ? 0 : 200); /* fixed port: wait for it to free up */
    }
    return LT_FAIL(LT_ERR_STATE, "nats-server: port busy after %d attempts", START_ATTEMPTS);
}

/* ---- set-up of the struct ---- */

static char *dup_opt(const char *s, bool *oom)
{
    char *d;

    if (s == NULL)
        return NULL;
    d = lt_strdup(s);
    if (d == NULL)
        *oom = true;
    return d;
}

static char *path_in(const char *dir, const char *name, bool *oom)
{
    lt_buf b;
    char *p;

    lt_buf_init(&b, LT_MAX_PATH);
    if (lt_buf_appendf(&b, "%s/%s", dir, name) != LT_OK) {
        lt_buf_cleanup(&b);
        *oom = true;
        return NULL;
    }
    p = lt_buf_take(&b);
    lt_buf_cleanup(&b);
    if (p == NULL)
        *oom = true;
    return p;
}

/* config_text with every "@DIR@" replaced, written to <dir>/server.conf. */
static lt_status write_config(lt_natsrv *s, const char *text, bool *oom)
{
    lt_buf b;
    lt_status st;
    const char *p = text, *hit;

    s->conf = path_in(s->dir, "server.conf", oom);
    if (s->conf == NULL)
        return LT_ERR_NOMEM;
    lt_buf_init(&b, 1u << 20);
    while ((hit = strstr(p, "@DIR@")) != NULL) {
        LT_IGNORE(lt_buf_append(&b, p, (size_t)(hit - p)));
        LT_IGNORE(lt_buf_appends(&b, s->dir));
        p = hit + 5;
    }
    st = lt_buf_appends(&b, p);
    if (st == LT_OK)
        st = lt_fs_write_file(s->conf, b.ptr, b.len);
    lt_buf_cleanup(&b);
    return st;
}

static lt_status copy_opts(lt_natsrv *s, const lt_natsrv_opts *o)
{
    bool oom = false;
    size_t n = 0;

    s->js = !o->no_jetstream;
    s->js_probe = !o->no_js_probe;
    s->info_probe = o->info_probe;
    s->monitor = o->monitor;
    s->start_timeout_ms = o->start_timeout_ms > 0 ? o->start_timeout_ms : DEFAULT_START_TIMEOUT_MS;
    s->stop_timeout_ms = o->stop_timeout_ms > 0 ? o->stop_timeout_ms : DEFAULT_STOP_TIMEOUT_MS;
    s->probe_user = dup_opt(o->probe_user, &oom);
    s->probe_pass = dup_opt(o->probe_password, &oom);
    while (o->extra_args != NULL && o->extra_args[n] != NULL)
        n++;
    if (n > 0) {
        s->extra = lt_calloc(n + 1, sizeof(char *));
        if (s->extra == NULL)
            return LT_ERR_NOMEM;
        for (size_t i = 0; i < n; i++)
            s->extra[i] = dup_opt(o->extra_args[i], &oom);
    }
    s->store = path_in(s->dir, "js", &oom);
    s->log = path_in(s->dir, "server.log", &oom);
    if (o->config_text != NULL) {
        lt_status st = write_config(s, o->config_text, &oom);

        if (st != LT_OK)
            return st;
    } else {
        s->conf = dup_opt(o->config_file, &oom);
    }
    return oom ? LT_ERR_NOMEM : LT_OK;
}

static lt_status set_name(lt_natsrv *s, const char *given)
{
    char name[64];
    unsigned n;

    if (given != NULL) {
        s->name = lt_strdup(given);
        return s->name != NULL ? LT_OK : LT_ERR_NOMEM;
    }
    n = lt__core_natsrv_next_serial();
    snprintf(name, sizeof(name), "lt-natsrv-%ld-%u", (long)getpid(), n);
    s->name = lt_strdup(name);
    return s->name != NULL ? LT_OK : LT_ERR_NOMEM;
}

static void srv_free(lt_natsrv *s)
{
    if (s == NULL)
        return;
    for (size_t i = 0; s->extra != NULL && s->extra[i] != NULL; i++)
        lt_free(s->extra[i]);
    lt_free(s->extra);
    lt_free(s->bin);
    lt_free(s->dir);
    lt_free(s->store);
    lt_free(s->log);
    lt_free(s->conf);
    lt_free(s->name);
    lt_free(s->probe_user);
    lt_free(s->probe_pass);
    lt_free(s);
}

lt_status lt_natsrv_start(lt_natsrv **new_srv, const lt_natsrv_opts *opts)
{
    static const lt_natsrv_opts defaults;
    const char *bin;
    lt_natsrv *s = NULL;
    char prefix[48];
    lt_status st = LT_OK;

    *new_srv = NULL;
    if (opts == NULL)
        opts = &defaults;
    bin = lt__core_natsrv_find_binary(opts->binary);
    if (bin == NULL)
        return LT_FAIL(LT_ERR_UNSUPPORTED,
                       "nats-server not found%s%s; install the nats-server "
                       "package or set LT_NATS_SERVER",
                       opts->binary != NULL ? " at " : "",
                       opts->binary != NULL ? opts->binary : "");
    s = lt_calloc(1, sizeof(*s));
    if (s == NULL)
        return LT_ERR_NOMEM;
    s->owner = getpid();
    s->bin = lt_strdup(bin);
    if (s->bin == NULL) {
        st = LT_ERR_NOMEM;
        goto out;
    }
    lt__core_natsrv_sweep_stale_dirs();
    snprintf(prefix, sizeof(prefix), "lt-natsrv-%ld", (long)s->owner);
    st = lt_fs_tmpdir(&s->dir, prefix);
    if (st != LT_OK)
        goto out;
    st = copy_opts(s, opts);
    if (st == LT_OK)
        st = set_name(s, opts->server_name);
    if (st != LT_OK)
        goto out;
    s->auto_port = opts->port == 0;
    if (s->auto_port) {
        st = pick_ports(s);
    } else {
        s->port = opts->port;
        if (s->monitor)
            st = lt_natsrv_free_port(&s->mport);
        snprintf(s->url, sizeof(s->url), "nats://127.0.0.1:%d", s->port);
    }
    if (st != LT_OK)
        goto out;
    lt__core_natsrv_reg_add(s);
    st = launch(s, "start");
    if (st != LT_OK) {
        lt__core_natsrv_reg_remove(s);
        goto out;
    }
    *new_srv = s;
    s = NULL;
out:
    if (s != NULL) {
        LT_IGNORE(lt__core_natsrv_terminate(s, true));
        LT_IGNORE(lt_fs_rmtree(s->dir));
        srv_free(s);
    }
    return st;
}

lt_status lt_natsrv_stop(lt_natsrv *srv)
{
    lt_status st;

    if (srv == NULL)
        return LT_OK;
    lt__core_natsrv_reg_remove(srv);
    LT_IGNORE(lt__core_natsrv_terminate(srv, false));
    st = lt_fs_rmtree(srv->dir);
    srv_free(srv);
    return st;
}

const char *lt_natsrv_url(const lt_natsrv *srv)
{
    return srv->url;
}

int lt_natsrv_port(const lt_natsrv *srv)
{
    return srv->port;
}

int lt_natsrv_monitor_port(const lt_natsrv *srv)
{
    return srv->monitor ? srv->mport : 0;
}

pid_t lt_natsrv_pid(const lt_natsrv *srv)
{
    return srv->pid;
}

const char *lt_natsrv_dir(const lt_natsrv *srv)
{
    return srv->dir;
}

const char *lt_natsrv_log_path(const lt_natsrv *srv)
{
    return srv->log;
}

lt_status lt_natsrv_down(lt_natsrv *srv, bool hard)
{
    return lt__core_natsrv_terminate(srv, hard);
}

lt_status lt_natsrv_up(lt_natsrv *srv)
{
    bool auto_port = srv->auto_port;
    lt_status st;

    if (srv->pid > 0)
        return LT_FAIL(LT_ERR_STATE, "nats-server %s is already running", srv->name);
    srv->auto_port = false; /* clients expect the same URL */
    st = launch(srv, "restart");
    srv->auto_port = auto_port;
    return st;
}

lt_status lt_natsrv_restart(lt_natsrv *srv)
{
    lt_status st = lt_natsrv_down(srv, false);

    if (st == LT_OK)
        st = lt_natsrv_up(srv);
    return st;
}

lt_status lt_natsrv_wait_js(lt_natsrv *srv, int64_t timeout_ms)
{
    int64_t deadline = lt_loop_now_ms() + timeout_ms;
    bool js_probe = srv->js_probe, js = srv->js;
    lt__core_natsrv_probe_result r = LT__NATSRV_NOT_YET;

    srv->js_probe = srv->js = true;
    while (srv->pid > 0 && lt_loop_now_ms() < deadline) {
        if (waitpid(srv->pid, NULL, WNOHANG) == srv->pid) {
            srv->pid = 0;
            break;
        }
        r = lt__core_natsrv_probe(srv);
        if (r != LT__NATSRV_NOT_YET)
            break;
        lt_time_sleep_ms(50);
    }
    srv->js_probe = js_probe;
    srv->js = js;
    if (r == LT__NATSRV_READY)
        return LT_OK;
    if (srv->pid <= 0)
        return LT_FAIL(LT_ERR_STATE, "nats-server %s is down", srv->name);
    return LT_FAIL(LT_ERR_TIMEOUT, "nats-server %s: JetStream not available within %lld ms",
                   srv->name, (long long)timeout_ms);
}

/* True when every thread of pid is in the stopped state ('T' in /proc). */
static bool all_threads_stopped(pid_t pid)
{
    char path[64];
    DIR *d;
    struct dirent *e;
    bool stopped = true;

    snprintf(path, sizeof(path), "/proc/%ld/task", (long)pid);
    d = opendir(path);
    if (d == NULL)
        return false;
    while (stopped && (e = readdir(d)) != NULL) {
        char stat_path[400], *text = NULL, *paren;

        if (e->d_name[0] == '.')
            continue;
        snprintf(stat_path, sizeof(stat_path), "%s/%s/stat", path, e->d_name);
        if (lt_fs_read_file(stat_path, 4096, &text, NULL) != LT_OK)
            continue; /* thread gone meanwhile */
        paren = strrchr(text, ')');
        stopped = paren != NULL && paren[1] == ' ' && paren[2] == 'T';
        lt_free(text);
    }
    closedir(d);
    return stopped;
}

lt_status lt_natsrv_pause(lt_natsrv *srv)
{
    if (srv->pid <= 0)
        return LT_FAIL(LT_ERR_STATE, "nats-server %s is down", srv->name);
    if (kill(srv->pid, SIGSTOP) != 0)
        return LT_FAIL(LT_ERR_IO, "SIGSTOP %ld: errno %d", (long)srv->pid, errno);
    srv->paused = true;
    /* kill() returns before every thread has stopped: wait for the group stop. */
    for (int64_t deadline = lt_loop_now_ms() + 5000; !all_threads_stopped(srv->pid);) {
        if (lt_loop_now_ms() >= deadline)
            return LT_FAIL(LT_ERR_TIMEOUT, "nats-server %s: not stopped within 5000 ms", srv->name);
        lt_time_sleep_ms(2);
    }
    return LT_OK;
}

lt_status lt_natsrv_resume(lt_natsrv *srv)
{
    if (srv->pid <= 0)
        return LT_FAIL(LT_ERR_STATE, "nats-server %s is down", srv->name);
    if (kill(srv->pid, SIGCONT) != 0)
        return LT_FAIL(LT_ERR_IO, "SIGCONT %ld: errno %d", (long)srv->pid, errno);
    srv->paused = false;
    return LT_OK;
}
