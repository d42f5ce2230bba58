/*
 * lt_natsd.c - nats-server child process management (see lt_natsd.h).
 */
#include "lt_natsd.h"

#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <nats/nats.h>

#include "lt_alloc.h"
#include "lt_config.h"
#include "lt_limits.h"
#include "lt_log.h"

struct lt_natsd {
    pid_t pid;
    int port;
    bool own_dir;
    bool jetstream;
    int ready_timeout_ms;
    char binary[LT_MAX_PATH];
    char dir[LT_MAX_PATH];
    char store[LT_MAX_PATH];
    char config[LT_MAX_PATH];
    char url[64];
};

static bool is_exec(const char *p)
{
    return p != NULL && p[0] != '\0' && access(p, X_OK) == 0;
}

const char *lt_natsd_find_binary(const char *hint)
{
    static _Thread_local char found[LT_MAX_PATH];
    const char *env = getenv("LT_NATS_SERVER");
    const char *path = getenv("PATH");
    const char *fixed[] = { LT_NATS_SERVER, "/usr/sbin/nats-server",
                            "/usr/local/sbin/nats-server", "/usr/local/bin/nats-server" };

    if (hint != NULL && hint[0] != '\0')
        return is_exec(hint) ? hint : NULL;
    if (is_exec(env))
        return env;
    while (path != NULL && *path != '\0') {
        const char *colon = strchr(path, ':');
        size_t len = colon ? (size_t)(colon - path) : strlen(path);

        snprintf(found, sizeof(found), "%.*s/nats-server", (int)len, path);
        if (len > 0 && is_exec(found))
            return found;
        path = colon ? colon + 1 : NULL;
    }
    for (size_t i = 0; i < sizeof(fixed) / sizeof(fixed[0]); i++) {
        if (is_exec(fixed[i]))
            return fixed[i];
    }
    return NULL;
}

int lt_natsd_free_port(void)
{
    struct sockaddr_in a = { .sin_family = AF_INET };
    socklen_t len = sizeof(a);
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    int port = 0;

    if (fd < 0)
        return 0;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (bind(fd, (struct sockaddr *)&a, sizeof(a)) == 0 &&
        getsockname(fd, (struct sockaddr *)&a, &len) == 0)
        port = ntohs(a.sin_port);
    close(fd);
    return port;
}

lt_status lt_natsd_rmtree(const char *path)
{
    DIR *d = opendir(path);
    struct dirent *e;
    lt_status st = LT_OK;

    if (d == NULL)
        return errno == ENOENT ? LT_OK : LT_ERR_IO;
    while ((e = readdir(d)) != NULL) {
        char child[LT_MAX_PATH];
        struct stat sb;

        if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
            continue;
        if ((size_t)snprintf(child, sizeof(child), "%s/%s", path, e->d_name) >= sizeof(child)) {
            st = LT_ERR_TOO_BIG;
            continue;
        }
        if (lstat(child, &sb) == 0 && S_ISDIR(sb.st_mode)) {
            if (lt_natsd_rmtree(child) != LT_OK)
                st = LT_ERR_IO;
        } else if (unlink(child) != 0) {
            st = LT_ERR_IO;
        }
    }
    closedir(d);
    if (rmdir(path) != 0)
        st = LT_ERR_IO;
    return st;
}

/* The last lines of the server log, for an error message. */
static void log_tail(const lt_natsd *srv, char *out, size_t outsize)
{
    char path[LT_MAX_PATH + 16];
    FILE *f;
    long size;
    size_t n;

    out[0] = '\0';
    snprintf(path, sizeof(path), "%s/nats.log", srv->dir);
    f = fopen(path, "r");
    if (f == NULL)
        return;
    fseek(f, 0, SEEK_END);
    size = ftell(f);
    fseek(f, size > (long)outsize - 1 ? size - (long)outsize + 1 : 0, SEEK_SET);
    n = fread(out, 1, outsize - 1, f);
    out[n] = '\0';
    fclose(f);
    for (char *p = out; *p; p++) {
        if (*p == '\n')
            *p = ' ';
    }
}

static lt_status spawn(lt_natsd *srv)
{
    char port[16], logpath[LT_MAX_PATH + 16];
    const char *argv[16];
    int argc = 0;
    pid_t parent = getpid();
    pid_t pid;

    snprintf(port, sizeof(port), "%d", srv->port);
    snprintf(logpath, sizeof(logpath), "%s/nats.log", srv->dir);
    argv[argc++] = srv->binary;
    argv[argc++] = "-a";
    argv[argc++] = "127.0.0.1";
    argv[argc++] = "-p";
    argv[argc++] = port;
    if (srv->jetstream) {
        argv[argc++] = "-js";
        argv[argc++] = "-sd";
        argv[argc++] = srv->store;
    }
    if (srv->config[0] != '\0') {
        argv[argc++] = "-c";
        argv[argc++] = srv->config;
    }
    argv[argc] = NULL;

    pid = fork();
    if (pid < 0)
        return LT_FAIL(LT_ERR_IO, "fork: errno %d", errno);
    if (pid == 0) {
        int fd = open(logpath, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);

        prctl(PR_SET_PDEATHSIG, SIGKILL);
        if (getppid() != parent)
            _exit(127);
        if (fd >= 0) {
            dup2(fd, STDOUT_FILENO);
            dup2(fd, STDERR_FILENO);
        }
        setpgid(0, 0); /* a Ctrl-C at the terminal reaches us, not the child */
        execv(srv->binary, (char *const *)argv);
        _exit(127);
    }
    srv->pid = pid;
    return LT_OK;
}

/* Connect (and ask JetStream for its account info) until it works. */
static lt_status wait_ready(lt_natsd *srv)
{
    int64_t deadline_ms = srv->ready_timeout_ms;
    struct timespec pause = { 0, 20 * 1000 * 1000 };

    for (int64_t waited = 0; waited < deadline_ms; waited += 20) {
        natsConnection *nc = NULL;
        natsOptions *o = NULL;
        int wst;

        if (waitpid(srv->pid, &wst, WNOHANG) == srv->pid) {
            srv->pid = 0;
            return LT_ERR_IO;
        }
        if (natsOptions_Create(&o) == NATS_OK && natsOptions_SetURL(o, srv->url) == NATS_OK &&
            natsOptions_SetAllowReconnect(o, false) == NATS_OK &&
            natsOptions_SetTimeout(o, 500) == NATS_OK &&
            natsConnection_Connect(&nc, o) == NATS_OK) {
            bool ok = true;

            if (srv->jetstream) {
                natsMsg *reply = NULL;

                ok = natsConnection_RequestString(&reply, nc, "$JS.API.INFO", "", 1000) ==
                     NATS_OK;
                natsMsg_Destroy(reply);
            }
            natsConnection_Destroy(nc);
            natsOptions_Destroy(o);
            if (ok)
                return LT_OK;
        } else {
            natsConnection_Destroy(nc);
            natsOptions_Destroy(o);
        }
        nanosleep(&pause, NULL);
    }
    return LT_ERR_TIMEOUT;
}

/* Start on srv->port, or on fresh free ports when another process won a race. */
static lt_status start_child(lt_natsd *srv, bool fixed_port)
{
    char tail[400];
    lt_status st = LT_ERR_IO;

    for (int attempt = 0; attempt < 5; attempt++) {
        if (!fixed_port || srv->port == 0)
            srv->port = lt_natsd_free_port();
        if (srv->port == 0)
            return LT_FAIL(LT_ERR_IO, "no free loopback port");
        snprintf(srv->url, sizeof(srv->url), "nats://127.0.0.1:%d", srv->port);
        st = spawn(srv);
        if (st != LT_OK)
            return st;
        st = wait_ready(srv);
        if (st == LT_OK)
            return LT_OK;
        if (srv->pid > 0)
            lt_natsd_kill(srv, SIGKILL);
        if (fixed_port)
            break;
    }
    log_tail(srv, tail, sizeof(tail));
    return LT_FAIL(LT_ERR_IO, "nats-server (%s) did not start on 127.0.0.1:%d: %s",
                   srv->binary, srv->port, tail[0] ? tail : "no output");
}

lt_status lt_natsd_start(lt_natsd **new_srv, const lt_natsd_opts *opts)
{
    static const lt_natsd_opts defaults = { 0 };
    lt_natsd *srv = NULL;
    const char *bin, *tmp = getenv("TMPDIR");
    lt_status st;

    if (opts == NULL)
        opts = &defaults;
    bin = lt_natsd_find_binary(opts->binary);
    if (bin == NULL)
        return LT_FAIL(LT_ERR_NOT_FOUND,
                       "nats-server not found%s%s (install the Debian package nats-server)",
                       opts->binary ? " at " : " on PATH or in /usr/sbin",
                       opts->binary ? opts->binary : "");
    srv = lt_calloc(1, sizeof(*srv));
    if (srv == NULL)
        return LT_ERR_NOMEM;
    snprintf(srv->binary, sizeof(srv->binary), "%s", bin);
    snprintf(srv->dir, sizeof(srv->dir), "%s/latticed-nats-XXXXXX",
             tmp && tmp[0] ? tmp : "/tmp");
    if (mkdtemp(srv->dir) == NULL) {
        st = LT_FAIL(LT_ERR_IO, "cannot create a temporary directory (errno %d)", errno);
        lt_free(srv);
        return st;
    }
    srv->own_dir = true;
    srv->jetstream = !opts->no_jetstream;
    srv->port = opts->port;
    srv->ready_timeout_ms = opts->ready_timeout_ms > 0 ? opts->ready_timeout_ms : 10000;
    snprintf(srv->store, sizeof(srv->store), "%s",
             opts->store_dir ? opts->store_dir : srv->dir);
    if (opts->config_file != NULL)
        snprintf(srv->config, sizeof(srv->config), "%s", opts->config_file);
    st = start_child(srv, opts->port != 0);
    if (st != LT_OK) {
        lt_natsd_stop(srv);
        return st;
    }
    *new_srv = srv;
    return LT_OK;
}

lt_status lt_natsd_restart(lt_natsd *srv)
{
    if (srv->pid > 0)
        lt_natsd_kill(srv, SIGTERM);
    return start_child(srv, true);
}

void lt_natsd_kill(lt_natsd *srv, int sig)
{
    struct timespec pause = { 0, 10 * 1000 * 1000 };

    if (srv == NULL || srv->pid <= 0)
        return;
    kill(srv->pid, sig);
    if (sig == SIGSTOP || sig == SIGCONT)
        return;
    for (int i = 0; i < 500; i++) { /* 5 s, then force */
        if (waitpid(srv->pid, NULL, WNOHANG) == srv->pid) {
            srv->pid = 0;
            return;
        }
        nanosleep(&pause, NULL);
    }
    kill(srv->pid, SIGKILL);
    waitpid(srv->pid, NULL, 0);
    srv->pid = 0;
}

void lt_natsd_stop(lt_natsd *srv)
{
    if (srv == NULL)
        return;
    if (srv->pid > 0) {
        kill(srv->pid, SIGCONT); /* a paused server cannot handle SIGTERM */
        lt_natsd_kill(srv, SIGTERM);
    }
    if (srv->own_dir && lt_natsd_rmtree(srv->dir) != LT_OK)
        LT_WARN("natsd", "could not remove %s", srv->dir);
    lt_free(srv);
}

const char *lt_natsd_url(const lt_natsd *srv)
{
    return srv->url;
}

int lt_natsd_port(const lt_natsd *srv)
{
    return srv->port;
}

pid_t lt_natsd_pid(const lt_natsd *srv)
{
    return srv->pid;
}

const char *lt_natsd_dir(const lt_natsd *srv)
{
    return srv->dir;
}
