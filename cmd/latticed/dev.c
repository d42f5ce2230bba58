/*
 * dev.c - what `latticed --dev` adds to a normal start: one local host (the
 * reference host, latticed-host, as a child process that runs a stand-in
 * command for every OCI image and file:// .wasm components with wasmtime when
 * it is on PATH, stopped on shutdown), the example app applied through the
 * API, and its status printed once it is deployed, saying which instances are
 * stand-ins, with the full path of latticectl in the commands to try.
 */
#include "daemon.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "lt_alloc.h"
#include "lt_api.h"
#include "lt_config.h"
#include "lt_limits.h"
#include "lt_log.h"
#include "lt_sched_svc.h"
#include "lt_subject.h"

#define DEV_LATTICE "default"
#define DEV_WAIT_MS 60000

typedef struct {
    lt_sched_svc *svc;
    char app[LT_MAX_TOKEN + 1];
    int64_t deadline;
    char stand_ins[512]; /* components of the example the host runs as stand-ins, ", "-separated */
    char url[256];       /* the NATS URL clients use */
} dev_watch;

static dev_watch watch;

/* A program of ours: next to latticed (installed: the same bindir), else at build_rel from
 * latticed's directory (the build tree), as a full path in buf; NULL when neither has it. */
static const char *find_sibling(const char *name, const char *build_rel, char *buf, size_t n)
{
    char self[LT_MAX_PATH - 128], real[PATH_MAX];
    ssize_t len = readlink("/proc/self/exe", self, sizeof(self) - 1);
    char *slash;

    if (len <= 0)
        return NULL;
    self[len] = '\0';
    slash = strrchr(self, '/');
    if (slash == NULL)
        return NULL;
    *slash = '\0';
    snprintf(buf, n, "%s/%s", self, name);
    if (access(buf, X_OK) == 0)
        return buf;
    snprintf(buf, n, "%s/%s", self, build_rel);
    if (access(buf, X_OK) != 0)
        return NULL;
    if (realpath(buf, real) != NULL && strlen(real) < n)
        memcpy(buf, real, strlen(real) + 1); /* no "/../../" in what we print */
    return buf;
}

/* The host binary: --dev-host-bin, else next to latticed, else the build tree, else PATH. */
static const char *find_host(const char *hint, char *buf, size_t n)
{
    const char *found;

    if (hint != NULL)
        return hint;
    found = find_sibling("latticed-host", "../../host/latticed-host", buf, n);
    return found != NULL ? found : "latticed-host";
}

/* The first executable name in $PATH into buf, or NULL (the host looks the same way). */
static const char *on_path(const char *name, char *buf, size_t n)
{
    const char *path = getenv("PATH");

    while (path != NULL && *path != '\0') {
        size_t len = strcspn(path, ":");
        int w = snprintf(buf, n, "%.*s/%s", (int)len, len ? path : ".", name);

        if (w > 0 && (size_t)w < n && access(buf, X_OK) == 0)
            return buf;
        path += len + (path[len] == ':');
    }
    return NULL;
}

lt_status lt_dev_host_start(const lt_daemon_config *cfg, const char *url, pid_t *out)
{
    char buf[LT_MAX_PATH];
    const char *bin = find_host(cfg->dev_host_bin, buf, sizeof(buf));
    char *argv[] = { (char *)bin,
                     (char *)"--nats-url",
                     (char *)url,
                     (char *)"--lattice",
                     (char *)DEV_LATTICE,
                     (char *)"--prefix",
                     (char *)(cfg->lattice_prefix != NULL ? cfg->lattice_prefix
                                                          : LT_SUBJECT_LATTICE_PREFIX),
                     (char *)"--host-id",
                     (char *)"dev-host",
                     (char *)"--label",
                     (char *)"dev=true",
                     (char *)"--heartbeat-interval",
                     (char *)"1s",
                     (char *)"--default-runner",
                     (char *)"exec sleep 2147483647",
                     NULL };
    pid_t parent = getpid(), pid;

    *out = 0;
    snprintf(watch.url, sizeof(watch.url), "%s", url);
    pid = fork();
    if (pid < 0)
        return LT_FAIL(LT_ERR_IO, "cannot start the local host: fork: errno %d", errno);
    if (pid == 0) {
        int devnull = open("/dev/null", O_RDWR);

        prctl(PR_SET_PDEATHSIG, SIGTERM); /* never outlive latticed */
        if (getppid() != parent)
            _exit(1);
        if (devnull >= 0)
            dup2(devnull, STDOUT_FILENO); /* its "host_id=" line; logs stay on stderr */
        execvp(bin, argv);
        _exit(127);
    }
    *out = pid;
    LT_INFO("dev", "started local host %s (pid %d)", bin, (int)pid);
    return LT_OK;
}

void lt_dev_host_stop(pid_t pid)
{
    int64_t waited = 0;
    int status;

    if (pid <= 0)
        return;
    kill(pid, SIGTERM); /* it publishes host.stopping and stops its instances */
    while (waitpid(pid, &status, WNOHANG) == 0) {
        struct timespec ts = { 0, 50 * 1000000L };

        if (waited >= 10000) {
            kill(pid, SIGKILL);
            waitpid(pid, &status, 0);
            break;
        }
        nanosleep(&ts, NULL);
        waited += 50;
    }
    LT_INFO("dev", "local host (pid %d) stopped", (int)pid);
}


/* Which components of m the dev host will run as stand-ins: every image but a file:// one
 * (an executable, or a .wasm component while wasmtime is on PATH). */
static void note_stand_ins(const lt_model *m)
{
    char rt[LT_MAX_PATH];
    bool wasmtime = on_path("wasmtime", rt, sizeof(rt)) != NULL;
    size_t off = 0;

    watch.stand_ins[0] = '\0';
    for (size_t i = 0; i < m->component_count; i++) {
        const char *img = m->components[i].image;
        size_t len = img != NULL ? strlen(img) : 0;
        bool wasm = len > 5 && strcmp(img + len - 5, ".wasm") == 0;
        int w;

        if (img == NULL || (strncmp(img, "file://", 7) == 0 && (!wasm || wasmtime)))
            continue;
        w = snprintf(watch.stand_ins + off, sizeof(watch.stand_ins) - off, "%s%s", off ? ", " : "",
                     m->components[i].name);
        if (w < 0 || (size_t)w >= sizeof(watch.stand_ins) - off)
            break;
        off += (size_t)w;
    }
}

/* What the app's instances really are, and the commands to try with latticectl's full path. */
static void print_hints(const char *app)
{
    char buf[LT_MAX_PATH], rt[LT_MAX_PATH];
    const char *ctl = find_sibling("latticectl", "../latticectl/latticectl", buf, sizeof(buf));
    const char *wasmtime = on_path("wasmtime", rt, sizeof(rt));

    if (watch.stand_ins[0] != '\0')
        printf("Note: %s run as stand-ins: the dev host starts a `sleep` process for each\n"
               "instance of an OCI image, so they serve nothing (no HTTP listener). A\n"
               "file:///...wasm component runs for real with wasmtime (%s%s);\n"
               "see docs/host.md and docs/examples/wasm.yaml.\n",
               watch.stand_ins, wasmtime ? "found: " : "not found on PATH",
               wasmtime ? wasmtime : "");
    if (ctl == NULL)
        printf("(latticectl is neither next to latticed nor in its build tree: install it)\n");
    ctl = ctl != NULL ? ctl : "latticectl";
    printf("Try:\n  %s -s %s status %s\n  %s -s %s hosts\n  %s -s %s events\n", ctl, watch.url, app,
           ctl, watch.url, ctl, watch.url);
}

/* Default example: the source tree's docs/examples/hello.yaml. */
static const char *example_path(const lt_daemon_config *cfg, char *buf, size_t n)
{
    if (cfg->dev_example != NULL)
        return cfg->dev_example[0] != '\0' && strcmp(cfg->dev_example, "none") != 0
                   ? cfg->dev_example
                   : NULL;
    snprintf(buf, n, "%s/docs/examples/hello.yaml", LT_SOURCE_ROOT);
    return access(buf, R_OK) == 0 ? buf : NULL;
}

lt_status lt_dev_apply_example(const lt_daemon_config *cfg, lt_store *store, char *app,
                               size_t appsize)
{
    char pbuf[LT_MAX_PATH], subj[LT_MAX_SUBJECT], *data = NULL;
    const char *path = example_path(cfg, pbuf, sizeof(pbuf));
    lt_api_config ac = { .prefix = cfg->api_prefix };
    lt_api_request req = { 0 };
    lt_model *m = NULL;
    lt_buf reply;
    size_t len = 0;
    FILE *f;
    lt_status st = LT_OK;

    app[0] = '\0';
    if (path == NULL)
        return LT_OK;
    lt_buf_init(&reply, LT_API_MAX_REPLY);
    f = fopen(path, "rb");
    data = lt_malloc(LT_MAX_MANIFEST_BYTES + 1);
    if (f == NULL || data == NULL) {
        st = LT_FAIL(LT_ERR_IO, "cannot read the example %s", path);
        goto out;
    }
    len = fread(data, 1, LT_MAX_MANIFEST_BYTES, f);
    if (lt_model_parse(data, len, NULL, &m, NULL) == LT_OK) {
        snprintf(app, appsize, "%s", m->name);
        note_stand_ins(m);
    }
    LT_IGNORE(lt_subject_api(subj, sizeof(subj),
                             cfg->api_prefix != NULL ? cfg->api_prefix : LT_SUBJECT_API_PREFIX,
                             DEV_LATTICE, "apply", NULL));
    req.subject = subj;
    req.data = data;
    req.len = len;
    st = lt_api_handle(store, &ac, &req, &reply);
    if (st == LT_OK)
        LT_INFO("dev", "applied %s: %s", path, reply.ptr);
out:
    if (f != NULL)
        fclose(f);
    lt_model_free(m);
    lt_free(data);
    lt_buf_cleanup(&reply);
    return st;
}

/* ---------------------------------------------------------------------------------------------
 * Print the app's status once it is deployed (a loop timer polling the scheduler)
 * ------------------------------------------------------------------------------------------- */

static int64_t on_watch(lt_loop *loop, void *arg)
{
    dev_watch *w = arg;
    lt_sched *s = lt_sched_svc_lattice(w->svc, DEV_LATTICE);
    lt_sched_app_status st;
    size_t i;

    (void)loop;
    if (s != NULL && lt_sched_app_status_get(s, w->app, &st) == LT_OK &&
        st.state == LT_SCHED_DEPLOYED) {
        printf("app %s %s is deployed:\n", w->app, st.version);
        for (i = 0; i < st.component_count; i++)
            printf("  %-24s %u/%u running\n", st.components[i].name, st.components[i].running,
                   st.components[i].desired);
        print_hints(w->app);
        fflush(stdout);
        return LT_TIMER_STOP;
    }
    if (lt_loop_now_ms() > w->deadline) {
        printf("app %s is not deployed after %d s:\n", w->app, DEV_WAIT_MS / 1000);
        print_hints(w->app);
        fflush(stdout);
        return LT_TIMER_STOP;
    }
    return 200;
}

lt_status lt_dev_watch_app(lt_loop *loop, lt_sched_svc *svc, const char *app)
{
    if (app == NULL || app[0] == '\0' || svc == NULL)
        return LT_OK;
    watch.svc = svc;
    snprintf(watch.app, sizeof(watch.app), "%s", app);
    watch.deadline = lt_loop_now_ms() + DEV_WAIT_MS;
    return lt_loop_timer_add(loop, 200, on_watch, &watch, NULL);
}
