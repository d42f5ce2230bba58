/*
 * child.c - the real host's instances as supervised child processes. Each
 * instance is a process group led by the child we fork: a file:// ref is
 * exec'd directly (a .wasm component through wasmtime run|serve), a runner
 * command through /bin/sh -c. Config, links and identity reach the child
 * through its environment (docs/host.md). The child
 * dies with the host (PR_SET_PDEATHSIG); stops are SIGTERM, a grace period,
 * then SIGKILL to the whole group; crashes are reported and restarted with
 * exponential backoff up to --restart-limit.
 */
#include "host_rt_int.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <jansson.h>
#include <linux/close_range.h>

#include "lt_alloc.h"
#include "lt_log.h"
#include "lt_pbjson.h"

extern char **environ;

#define MAX_BACKOFF_MS 30000

/* ---- environment ------------------------------------------------------------------ */

typedef struct {
    char **v;
    size_t n, cap;
} strv;

static void strv_free(strv *s)
{
    for (size_t i = 0; i < s->n; i++)
        lt_free(s->v[i]);
    lt_free(s->v);
    memset(s, 0, sizeof(*s));
}

/* Append "k=v" (v may be NULL for an already formed entry in k). */
static lt_status strv_add(strv *s, const char *k, const char *v)
{
    lt_buf b;
    char *e;

    if (s->n + 2 > s->cap) {
        size_t ncap = s->cap ? s->cap * 2 : 64;
        char **nv = lt_realloc(s->v, ncap * sizeof(*nv));

        if (nv == NULL)
            return LT_ERR_NOMEM;
        s->v = nv;
        s->cap = ncap;
    }
    lt_buf_init(&b, LT_MAX_MESSAGE);
    if (lt_buf_appends(&b, k) != LT_OK ||
        (v != NULL && (lt_buf_appendc(&b, '=') != LT_OK || lt_buf_appends(&b, v) != LT_OK)) ||
        (e = lt_buf_take(&b)) == NULL) {
        lt_buf_cleanup(&b);
        return LT_ERR_NOMEM;
    }
    s->v[s->n++] = e;
    s->v[s->n] = NULL;
    return LT_OK;
}

/* JSON array (proto3 JSON of LinkSpec) of the links whose source is inst. */
static char *links_json(lt__host_state *h, const lt__host_inst *inst)
{
    json_t *arr = json_array(), *j;
    lt__host_link *l;
    size_t it = 0;
    char *text = NULL, *copy = NULL;

    if (arr == NULL)
        return NULL;
    while ((l = lt_map_next(&h->links, &it)) != NULL) {
        ProtobufCMessage *m;

        if (strcmp(l->source, inst->id) != 0)
            continue;
        m = protobuf_c_message_unpack(&latticed__host__v1__link_spec__descriptor,
                                      &lt__host_pb_alloc, l->enc_len, l->enc);
        if (m == NULL)
            goto out;
        j = NULL;
        if (lt_pbjson_to_json(m, 0, &j) != LT_OK || json_array_append_new(arr, j) != 0) {
            protobuf_c_message_free_unpacked(m, &lt__host_pb_alloc);
            goto out;
        }
        protobuf_c_message_free_unpacked(m, &lt__host_pb_alloc);
    }
    text = json_dumps(arr, JSON_COMPACT);
    if (text != NULL)
        copy = lt_strdup(text);
    free(text); /* jansson's allocator */
out:
    json_decref(arr);
    return copy;
}

static char *config_json(const lt__host_inst *inst)
{
    json_t *o = json_object();
    char *text, *copy = NULL;

    if (o == NULL)
        return NULL;
    for (size_t i = 0; i < inst->n_config; i++) {
        if (json_object_set_new(o, inst->config[i].key, json_string(inst->config[i].val)) != 0)
            goto out;
    }
    text = json_dumps(o, JSON_COMPACT);
    if (text != NULL)
        copy = lt_strdup(text);
    free(text);
out:
    json_decref(o);
    return copy;
}

/* Path of inst's links file into out. */
static void links_path(const lt__host_rt *rt, const lt__host_inst *inst, char *out, size_t n)
{
    snprintf(out, n, "%s/%s.links.json", rt->run_dir, inst->id);
}

/* Write the links file atomically (tmp + rename). */
static lt_status write_links(lt__host_rt *rt, lt__host_inst *inst, const char *json)
{
    char path[LT_MAX_PATH], tmp[LT_MAX_PATH + 8];
    size_t len = strlen(json);
    int fd;
    bool ok;

    links_path(rt, inst, path, sizeof(path));
    snprintf(tmp, sizeof(tmp), "%s.tmp", path);
    fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0)
        return LT_FAIL(LT_ERR_IO, "%s: errno %d", tmp, errno);
    ok = write(fd, json, len) == (ssize_t)len && write(fd, "\n", 1) == 1;
    ok = close(fd) == 0 && ok;
    if (!ok || rename(tmp, path) != 0) {
        unlink(tmp);
        return LT_FAIL(LT_ERR_IO, "%s: write failed", path);
    }
    return LT_OK;
}

/* LATTICE_CONFIG_<KEY>: upper case, anything but [A-Z0-9] becomes '_'. */
static void config_var(const char *key, char *out, size_t n)
{
    size_t o = (size_t)snprintf(out, n, "LATTICE_CONFIG_");

    for (; *key != '\0' && o + 1 < n; key++)
        out[o++] = isalnum((unsigned char)*key) ? (char)toupper((unsigned char)*key) : '_';
    out[o] = '\0';
}

static lt_status build_env(lt__host_rt *rt, lt__host_inst *inst, const char *links, strv *env)
{
    char num[32], var[LT_MAX_TOKEN + 32], path[LT_MAX_PATH];
    char *cfg = NULL;
    lt_status st = LT_OK;

    /* The host's own environment, minus anything of ours (credentials paths). */
    for (char **e = environ; st == LT_OK && e != NULL && *e != NULL; e++) {
        if (strncmp(*e, "LATTICE_", 8) != 0 && strncmp(*e, "LATTICED_", 9) != 0)
            st = strv_add(env, *e, NULL);
    }
    links_path(rt, inst, path, sizeof(path));
    cfg = config_json(inst);
    if (cfg == NULL)
        st = LT_ERR_NOMEM;
#define ADD(k, v)    \
    if (st == LT_OK) \
    st = strv_add(env, (k), (v))
    ADD("LATTICE_HOST_ID", rt->h.id);
    ADD("LATTICE_NAME", rt->h.lattice);
    ADD("LATTICE_INSTANCE_ID", inst->id);
    ADD("LATTICE_APP_NAME", inst->app_name);
    ADD("LATTICE_APP_VERSION", inst->app_version);
    ADD("LATTICE_COMPONENT_NAME", inst->component_name);
    ADD("LATTICE_COMPONENT_ID", inst->component_id);
    ADD("LATTICE_IMAGE_REF", inst->image_ref);
    ADD("LATTICE_SPEC_DIGEST", inst->spec_digest);
    snprintf(num, sizeof(num), "%u", inst->ordinal);
    ADD("LATTICE_ORDINAL", num);
    snprintf(num, sizeof(num), "%u", inst->max_instances);
    ADD("LATTICE_MAX_INSTANCES", num);
    snprintf(num, sizeof(num), "%u", inst->restarts);
    ADD("LATTICE_RESTARTS", num);
    ADD("LATTICE_CONFIG", cfg);
    ADD("LATTICE_LINKS", links);
    ADD("LATTICE_LINKS_FILE", path);
    ADD("LATTICE_SECRETS", inst->secrets_json != NULL ? inst->secrets_json : "[]");
    for (size_t i = 0; st == LT_OK && i < inst->n_config; i++) {
        config_var(inst->config[i].key, var, sizeof(var));
        ADD(var, inst->config[i].val);
    }
#undef ADD
    lt_free(cfg);
    return st;
}

/* The address `wasmtime serve` listens on: the component's config `address` (host:port), else
 * 127.0.0.1 and port 8080 + the instance's ordinal (two instances on one host do not collide,
 * and nothing listens beyond loopback unless the manifest says so). */
static void serve_addr(const lt__host_inst *inst, char *out, size_t n)
{
    for (size_t i = 0; i < inst->n_config; i++) {
        if (strcmp(inst->config[i].key, "address") == 0 && inst->config[i].val[0] != '\0') {
            snprintf(out, n, "%s", inst->config[i].val);
            return;
        }
    }
    snprintf(out, n, "127.0.0.1:%u", 8080u + (inst->ordinal % 1000u));
}

/* `wasmtime run|serve [--addr A] --env NAME... FILE`: WASI gives the guest no host variable
 * unless named, so each LATTICE_* variable of env (identity, config, links) is passed on. */
static lt_status wasm_argv(const lt__host_plan *plan, const lt__host_inst *inst, const strv *env,
                           strv *av)
{
    char addr[LT_MAX_TOKEN + 16];
    lt_status st = strv_add(av, plan->path, NULL);

    if (st == LT_OK)
        st = strv_add(av, plan->verb, NULL);
    if (st == LT_OK && strcmp(plan->verb, "serve") == 0) {
        serve_addr(inst, addr, sizeof(addr));
        st = strv_add(av, "--addr", NULL);
        if (st == LT_OK)
            st = strv_add(av, addr, NULL);
    }
    for (size_t i = 0; st == LT_OK && i < env->n; i++) {
        const char *e = env->v[i], *eq = strchr(e, '=');
        char name[LT_MAX_TOKEN + 32];

        if (strncmp(e, "LATTICE_", 8) != 0 || eq == NULL || (size_t)(eq - e) >= sizeof(name))
            continue;
        memcpy(name, e, (size_t)(eq - e));
        name[eq - e] = '\0';
        st = strv_add(av, "--env", NULL);
        if (st == LT_OK)
            st = strv_add(av, name, NULL); /* the value comes from the child's environment */
    }
    if (st == LT_OK)
        st = strv_add(av, plan->wasm, NULL);
    return st;
}

/* ---- spawning -------------------------------------------------------------------- */

/* In the child between fork and exec: async-signal-safe calls only. */
static void child_exec(const char *file, char *const argv[], char *const envp[], int errfd,
                       pid_t parent)
{
    sigset_t none;
    int fd;

    setpgid(0, 0);
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (getppid() != parent) /* the host died before prctl took effect */
        _exit(127);
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, NULL);
    signal(SIGPIPE, SIG_DFL);
    fd = open("/dev/null", O_RDONLY);
    if (fd >= 0 && fd != STDIN_FILENO) {
        dup2(fd, STDIN_FILENO);
        close(fd);
    }
    /* Every other descriptor of the host closes at exec (errfd already does). */
    if (close_range(3, ~0u, CLOSE_RANGE_CLOEXEC) != 0) {
        for (int i = 3; i < 4096; i++)
            fcntl(i, F_SETFD, FD_CLOEXEC);
    }
    execve(file, argv, envp);
    fd = errno;
    if (write(errfd, &fd, sizeof(fd)) < 0) {
    }
    _exit(127);
}

/* Fork and exec inst per plan; ResultCode OK with inst->pid set, or START_FAILED. */
static int spawn(lt__host_rt *rt, lt__host_inst *inst, char *msg, size_t msgsize)
{
    lt__host_plan plan;
    strv env = { 0 }, wav = { 0 };
    char *links = NULL;
    char *argv[6];
    const char *file;
    int code, pfd[2] = { -1, -1 }, err = 0;
    pid_t pid, self = getpid();
    ssize_t n;

    code = lt__host_runner_resolve(&rt->runners, inst->image_ref, &plan, msg, msgsize);
    if (code != HRC(OK))
        return code;
    code = HRC(START_FAILED);
    links = links_json(&rt->h, inst);
    if (links == NULL || write_links(rt, inst, links) != LT_OK ||
        build_env(rt, inst, links, &env) != LT_OK) {
        snprintf(msg, msgsize, "cannot prepare the environment: %s", lt_error_message());
        goto out;
    }
    if (plan.wasm != NULL) { /* wasmtime run|serve [--addr A] --env NAME... FILE.wasm */
        if (wasm_argv(&plan, inst, &env, &wav) != LT_OK) {
            snprintf(msg, msgsize, "cannot prepare the wasmtime command: out of memory");
            goto out;
        }
        file = plan.path;
    } else if (plan.path != NULL) {
        file = plan.path;
        argv[0] = (char *)plan.path;
        argv[1] = NULL;
    } else {
        file = "/bin/sh";
        argv[0] = (char *)"sh";
        argv[1] = (char *)"-c";
        argv[2] = (char *)plan.command;
        argv[3] = (char *)"latticed-runner";
        argv[4] = inst->image_ref;
        argv[5] = NULL;
    }
    if (pipe2(pfd, O_CLOEXEC) != 0) {
        snprintf(msg, msgsize, "pipe: errno %d", errno);
        goto out;
    }
    pid = fork();
    if (pid < 0) {
        snprintf(msg, msgsize, "fork: errno %d", errno);
        goto out;
    }
    if (pid == 0)
        child_exec(file, plan.wasm != NULL ? wav.v : argv, env.v, pfd[1], self);
    setpgid(pid, pid); /* also here: no race with an early kill(-pid) */
    close(pfd[1]);
    pfd[1] = -1;
    do
        n = read(pfd[0], &err, sizeof(err));
    while (n < 0 && errno == EINTR);
    if (n > 0) {
        /* exec failed: the child exits 127; reap it now. */
        while (waitpid(pid, NULL, 0) < 0 && errno == EINTR) {
        }
        snprintf(msg, msgsize, "cannot execute '%s': errno %d", file, err);
        goto out;
    }
    inst->pid = pid;
    code = HRC(OK);
    LT_INFO("host", "instance %s: pid %d runs %s", inst->id, (int)pid, inst->image_ref);
out:
    if (pfd[0] >= 0)
        close(pfd[0]);
    if (pfd[1] >= 0)
        close(pfd[1]);
    lt_free(links);
    strv_free(&env);
    strv_free(&wav);
    return code;
}

/* ---- lt__host_ops of the real host ------------------------------------------------- */

static int op_start(void *ctx, lt__host_state *h, lt__host_inst *inst, char *msg, size_t msgsize)
{
    lt__host_rt *rt = ctx;
    int code = spawn(rt, inst, msg, msgsize);

    if (code == HRC(OK))
        lt__host_set_state(h, inst, HIS(RUNNING), NULL);
    return code;
}

static bool op_stop(void *ctx, lt__host_state *h, lt__host_inst *inst, uint32_t grace_ms)
{
    lt__host_rt *rt = ctx;
    int64_t grace = grace_ms > 0 ? grace_ms : rt->cfg->stop_grace_ms;

    (void)h;
    inst->restart_at_ms = 0;
    if (inst->pid <= 0)
        return true; /* failed or waiting for a restart: nothing runs */
    kill(-inst->pid, SIGTERM);
    inst->kill_at_ms = lt_loop_now_ms() + grace;
    return false;
}

static void op_discard(void *ctx, lt__host_state *h, lt__host_inst *inst)
{
    lt__host_rt *rt = ctx;
    lt__host_orphan *o;

    (void)h;
    if (inst->pid <= 0)
        return;
    if (rt->norphans == rt->cap_orphans) {
        size_t ncap = rt->cap_orphans ? rt->cap_orphans * 2 : 8;

        o = lt_realloc(rt->orphans, ncap * sizeof(*o));
        if (o == NULL) { /* cannot track it: kill it at once */
            kill(-inst->pid, SIGKILL);
            inst->pid = 0;
            return;
        }
        rt->orphans = o;
        rt->cap_orphans = ncap;
    }
    kill(-inst->pid, SIGTERM);
    rt->orphans[rt->norphans++] =
        (lt__host_orphan){ inst->pid, lt_loop_now_ms() + rt->cfg->stop_grace_ms };
    inst->pid = 0;
}

static void op_links_changed(void *ctx, lt__host_state *h, lt__host_inst *inst)
{
    lt__host_rt *rt = ctx;
    char *links = links_json(h, inst);

    if (links == NULL || write_links(rt, inst, links) != LT_OK)
        LT_WARN("host", "instance %s: links file not updated: %s", inst->id, lt_error_message());
    lt_free(links);
}

static void op_emit(void *ctx, lt__host_state *h, const char *type, const void *data, size_t len)
{
    lt__host_rt *rt = ctx;

    lt__host_srv_emit(&rt->srv, h, type, data, len);
}

void lt__host_child_ops(lt__host_rt *rt)
{
    rt->ops = (lt__host_ops){ op_start, op_stop, op_discard, op_links_changed, op_emit, rt };
}

/* ---- exits, restarts, deadlines ---------------------------------------------------- */

static void describe_exit(int status, char *out, size_t n)
{
    if (WIFEXITED(status))
        snprintf(out, n, "exited with code %d", WEXITSTATUS(status));
    else if (WIFSIGNALED(status))
        snprintf(out, n, "killed by signal %d", WTERMSIG(status));
    else
        snprintf(out, n, "ended (status %d)", status);
}

static lt__host_inst *inst_by_pid(lt__host_rt *rt, pid_t pid)
{
    lt__host_inst *inst;
    size_t it = 0;

    while ((inst = lt_map_next(&rt->h.insts, &it)) != NULL) {
        if (inst->pid == pid)
            return inst;
    }
    return NULL;
}

/* An instance's process ended: a requested stop, or a crash to report. */
static void child_exited(lt__host_rt *rt, lt__host_inst *inst, int status)
{
    char what[64], msg[256];
    uint32_t backoff;

    kill(-inst->pid, SIGKILL); /* whatever is left of its process group */
    inst->pid = 0;
    describe_exit(status, what, sizeof(what));
    if (inst->state == HIS(STOPPING)) {
        LT_INFO("host", "instance %s stopped (%s)", inst->id, what);
        lt__host_stopped(&rt->h, &rt->ops, inst);
        return;
    }
    if (inst->restarts < rt->cfg->restart_limit && !rt->stopping) {
        backoff = (uint32_t)rt->cfg->restart_backoff_ms;
        for (uint32_t i = 0; i < inst->restarts && backoff < MAX_BACKOFF_MS; i++)
            backoff *= 2;
        if (backoff > MAX_BACKOFF_MS)
            backoff = MAX_BACKOFF_MS;
        inst->restarts++;
        snprintf(msg, sizeof(msg), "%s; restart %u of %u in %u ms", what, inst->restarts,
                 rt->cfg->restart_limit, backoff);
        inst->restart_at_ms = lt_loop_now_ms() + backoff;
        lt__host_set_state(&rt->h, inst, HIS(STARTING), msg);
        LT_WARN("host", "instance %s %s", inst->id, msg);
        lt__host_emit_instance(&rt->h, &rt->ops, "instance.failed", inst, HRC(START_FAILED), msg,
                               true);
        return;
    }
    snprintf(msg, sizeof(msg), "%s%s", what,
             rt->cfg->restart_limit > 0 ? " (restart limit reached)" : "");
    lt__host_set_state(&rt->h, inst, HIS(FAILED), msg);
    LT_WARN("host", "instance %s failed: %s", inst->id, msg);
    lt__host_emit_instance(&rt->h, &rt->ops, "instance.failed", inst, HRC(START_FAILED), msg,
                           false);
}

void lt__host_child_reap(lt__host_rt *rt)
{
    int status;
    pid_t pid;

    while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
        lt__host_inst *inst = inst_by_pid(rt, pid);

        if (inst != NULL) {
            child_exited(rt, inst, status);
            continue;
        }
        for (size_t i = 0; i < rt->norphans; i++) {
            if (rt->orphans[i].pid == pid) {
                kill(-pid, SIGKILL);
                rt->orphans[i] = rt->orphans[--rt->norphans];
                break;
            }
        }
        /* Otherwise a grandchild we adopted as subreaper: reaped, nothing to say. */
    }
}

static void restart(lt__host_rt *rt, lt__host_inst *inst)
{
    char msg[512];
    int code;

    inst->restart_at_ms = 0;
    msg[0] = '\0';
    code = spawn(rt, inst, msg, sizeof(msg));
    if (code == HRC(OK)) {
        lt__host_set_state(&rt->h, inst, HIS(RUNNING), NULL);
        lt__host_emit_instance(&rt->h, &rt->ops, "instance.started", inst, code, NULL, false);
        return;
    }
    lt__host_set_state(&rt->h, inst, HIS(FAILED), msg);
    lt__host_emit_instance(&rt->h, &rt->ops, "instance.failed", inst, code, msg, false);
}

void lt__host_child_tick(lt__host_rt *rt)
{
    int64_t now = lt_loop_now_ms();
    lt__host_inst *due[32];
    lt__host_inst *inst;
    size_t it = 0, ndue = 0;

    while ((inst = lt_map_next(&rt->h.insts, &it)) != NULL) {
        if (inst->pid > 0 && inst->state == HIS(STOPPING) && inst->kill_at_ms != 0 &&
            now >= inst->kill_at_ms) {
            kill(-inst->pid, SIGKILL);
            inst->kill_at_ms = 0;
        }
        if (inst->restart_at_ms != 0 && now >= inst->restart_at_ms && ndue < 32)
            due[ndue++] = inst;
    }
    for (size_t i = 0; i < rt->norphans; i++) {
        if (rt->orphans[i].kill_at_ms != 0 && now >= rt->orphans[i].kill_at_ms) {
            kill(-rt->orphans[i].pid, SIGKILL);
            rt->orphans[i].kill_at_ms = 0;
        }
    }
    /* Restarts change the table: after the walk. */
    for (size_t i = 0; i < ndue && !rt->stopping; i++)
        restart(rt, due[i]);
}

size_t lt__host_child_count(const lt__host_rt *rt)
{
    const lt__host_inst *inst;
    size_t it = 0, n = rt->norphans;

    while ((inst = lt_map_next(&rt->h.insts, &it)) != NULL)
        n += inst->pid > 0;
    return n;
}

void lt__host_child_stop_all(lt__host_rt *rt)
{
    lt__host_inst **all;
    lt__host_inst *inst;
    size_t it = 0, n = 0;

    all = lt_malloc((rt->h.insts.count + 1) * sizeof(*all));
    if (all == NULL) {
        lt__host_child_kill_all(rt);
        return;
    }
    while ((inst = lt_map_next(&rt->h.insts, &it)) != NULL)
        all[n++] = inst;
    for (size_t i = 0; i < n; i++) {
        inst = all[i];
        lt_free(inst->stop_reason);
        inst->stop_reason = lt_strdup("host stopping");
        inst->restart_at_ms = 0;
        if (inst->pid > 0 && inst->state != HIS(STOPPING)) {
            kill(-inst->pid, SIGTERM);
            lt__host_set_state(&rt->h, inst, HIS(STOPPING), NULL);
        }
        if (inst->pid > 0) {
            inst->kill_at_ms = rt->shutdown_deadline;
        } else {
            lt__host_stopped(&rt->h, &rt->ops, inst);
        }
    }
    for (size_t i = 0; i < rt->norphans; i++)
        rt->orphans[i].kill_at_ms = rt->shutdown_deadline;
    lt_free(all);
}

void lt__host_child_kill_all(lt__host_rt *rt)
{
    lt__host_inst *inst;
    size_t it = 0;

    while ((inst = lt_map_next(&rt->h.insts, &it)) != NULL) {
        if (inst->pid > 0) {
            kill(-inst->pid, SIGKILL);
            while (waitpid(inst->pid, NULL, 0) < 0 && errno == EINTR) {
            }
            inst->pid = 0;
        }
    }
    for (size_t i = 0; i < rt->norphans; i++) {
        kill(-rt->orphans[i].pid, SIGKILL);
        while (waitpid(rt->orphans[i].pid, NULL, 0) < 0 && errno == EINTR) {
        }
    }
    rt->norphans = 0;
    while (waitpid(-1, NULL, WNOHANG) > 0) {
    }
}
