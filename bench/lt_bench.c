/*
 * lt_bench.c - the helpers the benchmarks share (lt_bench.h): processes by PID, clocks,
 * percentiles, wadm API requests with their result word checked, latticed's hosts and leader,
 * and the common flags.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "lt_subject.h"
#include "lt_bench.h"

int64_t lt_bench_now_us(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

int64_t lt_bench_now_ms(void)
{
    return lt_bench_now_us() / 1000;
}

void lt_bench_sleep_ms(int64_t ms)
{
    struct timespec ts = { (time_t)(ms / 1000), (long)(ms % 1000) * 1000000L };

    while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
        ;
}

pid_t lt_bench_spawn(const char *const *argv, const char *log)
{
    pid_t pid = fork();

    if (pid == 0) {
        int fd = log != NULL ? open(log, O_WRONLY | O_CREAT | O_APPEND, 0600) : -1;

        prctl(PR_SET_PDEATHSIG, SIGKILL);
        if (fd >= 0) {
            dup2(fd, 1);
            dup2(fd, 2);
            close(fd);
        }
        execv(argv[0], (char *const *)argv);
        _exit(127);
    }
    return pid;
}

/* Every thread's stack of pid on stderr, by gdb when it is installed: what a process that does
 * not exit is waiting for. */
static void print_stacks(pid_t pid)
{
    char p[24];
    pid_t g;
    int st;

    snprintf(p, sizeof(p), "%d", (int)pid);
    if ((g = fork()) == 0) {
        dup2(STDERR_FILENO, STDOUT_FILENO);
        execlp("gdb", "gdb", "-batch", "-nx", "-p", p, "-ex", "thread apply all bt", (char *)NULL);
        _exit(127);
    }
    if (g > 0)
        waitpid(g, &st, 0);
}

int lt_bench_stop(pid_t pid)
{
    int st = 0;
    int64_t t0 = lt_bench_now_ms();

    if (pid <= 0)
        return 0;
    kill(pid, SIGTERM);
    while (waitpid(pid, &st, WNOHANG) == 0) {
        if (lt_bench_now_ms() - t0 > 10000) {
            fprintf(stderr, "pid %d still running 10 s after SIGTERM; its threads:\n", (int)pid);
            print_stacks(pid);
            kill(pid, SIGKILL);
            waitpid(pid, &st, 0);
            break;
        }
        lt_bench_sleep_ms(5);
    }
    return st;
}

void lt_bench_kill9(pid_t pid)
{
    int st;

    if (pid <= 0)
        return;
    kill(pid, SIGKILL);
    waitpid(pid, &st, 0);
}

bool lt_bench_alive(pid_t pid)
{
    int st;

    return pid > 0 && waitpid(pid, &st, WNOHANG) == 0;
}

double lt_bench_cpu_ms(pid_t pid)
{
    char path[64], line[1024], *p;
    unsigned long long ut = 0, st = 0;
    long hz = sysconf(_SC_CLK_TCK);
    FILE *f;

    snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
    if ((f = fopen(path, "r")) == NULL)
        return -1;
    p = fgets(line, sizeof(line), f) != NULL ? strrchr(line, ')') : NULL;
    fclose(f);
    /* after "pid (comm)": state is field 3, utime and stime fields 14 and 15 */
    if (p == NULL ||
        sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu", &ut, &st) != 2 ||
        hz <= 0)
        return -1;
    return (double)(ut + st) * 1000.0 / (double)hz;
}

long lt_bench_peak_rss_kib(pid_t pid)
{
    char path[64], line[256];
    long kib = -1;
    FILE *f;

    snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
    f = fopen(path, "r");
    while (f != NULL && fgets(line, sizeof(line), f) != NULL)
        if (strncmp(line, "VmHWM:", 6) == 0)
            kib = strtol(line + 6, NULL, 10);
    if (f != NULL)
        fclose(f);
    return kib;
}

size_t lt_bench_count_lines(const char *path, const char *const *words)
{
    char line[1024];
    size_t n = 0, i;
    FILE *f = fopen(path, "r");

    while (f != NULL && fgets(line, sizeof(line), f) != NULL) {
        for (i = 0; words[i] != NULL && strstr(line, words[i]) != NULL; i++)
            ;
        n += words[i] == NULL;
    }
    if (f != NULL)
        fclose(f);
    return n;
}

static int cmp64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;

    return x < y ? -1 : x > y;
}

void lt_bench_stats_of(int64_t *v, size_t n, lt_bench_stats *out)
{
    double sum = 0;
    size_t i;

    memset(out, 0, sizeof(*out));
    if (n == 0)
        return;
    qsort(v, n, sizeof(*v), cmp64);
    for (i = 0; i < n; i++)
        sum += (double)v[i];
    out->n = n;
    out->p50_ms = (double)v[n / 2] / 1000.0;
    out->p99_ms = (double)v[(n * 99) / 100] / 1000.0;
    out->mean_ms = sum / (double)n / 1000.0;
    out->max_ms = (double)v[n - 1] / 1000.0;
}

static int64_t last_rtt_us;

int64_t lt_bench_api_rtt_us(void)
{
    return last_rtt_us;
}

bool lt_bench_api(natsConnection *nc, const char *lattice, const char *op, const char *name,
                  const char *body, int timeout_ms, const char *want, natsMsg **reply_out)
{
    char subj[LT_MAX_SUBJECT];
    natsMsg *r = NULL;
    json_t *j = NULL;
    bool ok = false;
    int64_t t0;
    natsStatus s;

    if (reply_out != NULL)
        *reply_out = NULL;
    if (lt_subject_api(subj, sizeof(subj), LT_SUBJECT_API_PREFIX, lattice, op, name) != LT_OK)
        return false;
    t0 = lt_bench_now_us();
    s = natsConnection_Request(&r, nc, subj, body, body != NULL ? (int)strlen(body) : 0,
                               timeout_ms);
    last_rtt_us = lt_bench_now_us() - t0;
    if (s != NATS_OK)
        return false;
    if (want == NULL) {
        ok = true;
    } else {
        j = json_loadb(natsMsg_GetData(r), (size_t)natsMsg_GetDataLength(r), 0, NULL);
        ok = j != NULL && json_is_string(json_object_get(j, "result")) &&
             strcmp(json_string_value(json_object_get(j, "result")), want) == 0;
        json_decref(j);
    }
    if (reply_out != NULL)
        *reply_out = r;
    else
        natsMsg_Destroy(r);
    return ok;
}

int lt_bench_host_count(natsConnection *nc, const char *lattice)
{
    natsMsg *r = NULL;
    json_t *j = NULL;
    int n = -1;
    char subj[LT_MAX_SUBJECT];

    if (lt_subject_hosts(subj, sizeof(subj), LT_SUBJECT_LATTICE_PREFIX, lattice) != LT_OK ||
        natsConnection_RequestString(&r, nc, subj, "", 5000) != NATS_OK)
        return -1;
    j = json_loadb(natsMsg_GetData(r), (size_t)natsMsg_GetDataLength(r), 0, NULL);
    if (j != NULL && json_is_integer(json_object_get(j, "total")))
        n = (int)json_integer_value(json_object_get(j, "total"));
    json_decref(j);
    natsMsg_Destroy(r);
    return n;
}

bool lt_bench_wait_api(natsConnection *nc, const char *lattice, int64_t timeout_ms)
{
    int64_t t0 = lt_bench_now_ms();

    while (lt_bench_now_ms() - t0 < timeout_ms) {
        if (lt_bench_api(nc, lattice, "get", NULL, NULL, 1000, "success", NULL))
            return true;
        lt_bench_sleep_ms(50);
    }
    return false;
}

void lt_bench_leader(natsConnection *nc, const char *lattice, char *out, size_t cap)
{
    jsCtx *js = NULL;
    kvStore *kv = NULL;
    kvEntry *ent = NULL;
    json_t *j = NULL;

    out[0] = '\0';
    if (natsConnection_JetStream(&js, nc, NULL) == NATS_OK &&
        js_KeyValue(&kv, js, "latticed_leases") == NATS_OK &&
        kvStore_Get(&ent, kv, lattice) == NATS_OK)
        j = json_loadb(kvEntry_Value(ent), (size_t)kvEntry_ValueLen(ent), 0, NULL);
    if (j != NULL && json_is_string(json_object_get(j, "holder")))
        snprintf(out, cap, "%s", json_string_value(json_object_get(j, "holder")));
    json_decref(j);
    kvEntry_Destroy(ent);
    kvStore_Destroy(kv);
    jsCtx_Destroy(js);
}

void lt_bench_manifest(char *out, size_t cap, const char *name, const char *version, int instances)
{
    char ann[160] = "";

    if (version != NULL)
        snprintf(ann, sizeof(ann), ",\"annotations\":{\"version\":\"%s\"}", version);
    snprintf(out, cap,
             "{\"apiVersion\":\"core.oam.dev/v1beta1\",\"kind\":\"Application\","
             "\"metadata\":{\"name\":\"%s\"%s},"
             "\"spec\":{\"components\":[{\"name\":\"web\",\"type\":\"component\","
             "\"properties\":{\"image\":\"ghcr.io/acme/web:1.0.0\"},\"traits\":[{\"type\":"
             "\"spreadscaler\",\"properties\":{\"instances\":%d}}]}]}}",
             name, ann, instances);
}

bool lt_bench_parse(int argc, char **argv, const char *const *opts, const char **vals,
                    lt_bench_cli *cli)
{
    int i, k;

    memset(cli, 0, sizeof(*cli));
    for (i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--smoke") == 0) {
            cli->smoke = true;
            continue;
        }
        if (strcmp(argv[i], "--json") == 0 && i + 1 < argc) {
            cli->json = argv[++i];
            continue;
        }
        for (k = 0; opts != NULL && opts[k] != NULL && strcmp(opts[k], argv[i]) != 0; k++)
            ;
        if (opts != NULL && opts[k] != NULL) {
            if (i + 1 >= argc) {
                fprintf(stderr, "%s needs a value\n", argv[i]);
                return false;
            }
            vals[k] = argv[++i];
            continue;
        }
        if (strncmp(argv[i], "--", 2) == 0 || cli->n_args >= 16) {
            fprintf(stderr, "unknown argument %s\n", argv[i]);
            return false;
        }
        cli->args[cli->n_args++] = argv[i];
    }
    return true;
}

FILE *lt_bench_json_open(const lt_bench_cli *cli)
{
    FILE *f;

    if (cli->json == NULL)
        return NULL;
    f = fopen(cli->json, "w");
    if (f == NULL)
        fprintf(stderr, "cannot write %s (errno %d)\n", cli->json, errno);
    return f;
}
