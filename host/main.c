/*
 * main.c - latticed-host's command line: the option table (flags,
 * LATTICED_HOST_* environment variables and config-file keys all come from
 * it), the repeatable --label and --runner flags, value checks, and the
 * hand-off to lt_host_run() or lt_host_sim_run().
 */
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "host_int.h"
#include "lt_alloc.h"
#include "lt_config.h"
#include "lt_host.h"
#include "lt_log.h"
#include "lt_nkey.h"
#include "lt_opts.h"
#include "lt_subject.h"

typedef struct {
    bool help, version, no_file_refs, no_instance_events;
    const char *config_file;
    const char *nats_url, *nats_creds, *nats_jwt, *nats_nkey, *nats_seed;
    const char *nats_tls_ca, *nats_tls_cert, *nats_tls_key;
    const char *lattice, *prefix, *host_id, *name, *label, *runner;
    const char *heartbeat_interval, *stop_grace, *memory, *restart_backoff;
    int64_t slots, cpu_millis, restart_limit;
    const char *default_runner, *file_root, *run_dir;
    int64_t simulate, reply_delay_ms, seed, crash_after_ms, crash_limit;
    const char *id_prefix, *fail_rate, *refuse_image, *stats_interval;
    const char *crash_image, *crash_message;
    const char *leader_key;
    const char *log_level, *log_format;
    const char *protocol, *v2_host_prefix, *v2_operator_prefix, *environment;
    const char *wasmcloud_version, *export_list;
    bool v2_never_reply, v2_not_found_after_start;
} opts_t;

#define F(field) offsetof(opts_t, field)
#define E(name) "LATTICED_HOST_" name

/* Option tables: one option per row. */
/* clang-format off */
static const lt_opt options[] = {
    { "help", 'h', NULL, LT_OPT_FLAG, NULL, NULL, "show this help and exit", F(help), 0, 0 },
    { "version", 'V', NULL, LT_OPT_FLAG, NULL, NULL, "show the version and exit", F(version),
      0, 0 },
    { "config", 'c', E("CONFIG"), LT_OPT_STRING, "FILE", NULL,
      "read options from FILE ('name = value' lines, names as the long options)",
      F(config_file), 0, 0 },
    { "nats-url", 's', E("NATS_URL"), LT_OPT_STRING, "URL", "nats://127.0.0.1:4222",
      "NATS server URL(s), comma-separated; user:password@ allowed", F(nats_url), 0, 0 },
    { "nats-creds", 0, E("NATS_CREDS"), LT_OPT_STRING, "FILE", NULL,
      "NATS credentials file (JWT + nkey seed)", F(nats_creds), 0, 0 },
    { "nats-jwt", 0, E("NATS_JWT"), LT_OPT_STRING, "FILE", NULL,
      "NATS user JWT file (needs --nats-seed)", F(nats_jwt), 0, 0 },
    { "nats-nkey", 0, E("NATS_NKEY"), LT_OPT_STRING, "PUBKEY", NULL,
      "NATS user nkey public key (needs --nats-seed)", F(nats_nkey), 0, 0 },
    { "nats-seed", 0, E("NATS_SEED"), LT_OPT_STRING, "FILE", NULL, "NATS user nkey seed file",
      F(nats_seed), 0, 0 },
    { "nats-tls-ca", 0, E("NATS_TLS_CA"), LT_OPT_STRING, "FILE", NULL,
      "CA bundle to verify the NATS server; requires TLS", F(nats_tls_ca), 0, 0 },
    { "nats-tls-cert", 0, E("NATS_TLS_CERT"), LT_OPT_STRING, "FILE", NULL,
      "client certificate for NATS mutual TLS", F(nats_tls_cert), 0, 0 },
    { "nats-tls-key", 0, E("NATS_TLS_KEY"), LT_OPT_STRING, "FILE", NULL,
      "client private key for NATS mutual TLS", F(nats_tls_key), 0, 0 },
    { "leader-key", 0, E("LEADER_KEY"), LT_OPT_STRING, "PUBKEY", NULL,
      "nkey public key of latticed's --command-signing-seed: refuse commands it did not sign",
      F(leader_key), 0, 0 },
    { "lattice", 'l', E("LATTICE"), LT_OPT_STRING, "NAME", "default",
      "lattice to join (a subject token)", F(lattice), 0, 0 },
    { "prefix", 0, E("PREFIX"), LT_OPT_STRING, "PREFIX", LT_SUBJECT_LATTICE_PREFIX,
      "subject prefix of the native protocol", F(prefix), 0, 0 },
    { "host-id", 0, E("ID"), LT_OPT_STRING, "ID", NULL,
      "host id (a subject token); default <hostname>-<8 random hex>", F(host_id), 0, 0 },
    { "name", 0, E("NAME"), LT_OPT_STRING, "NAME", NULL,
      "friendly name shown in listings; default the hostname", F(name), 0, 0 },
    { "label", 0, E("LABELS"), LT_OPT_STRING, "KEY=VALUE", NULL,
      "host label, repeatable; VALUE may hold {i} {i%N} {i/N} {id} {a|b|c} (simulated host "
      "number); env/config: comma-separated list",
      F(label), 0, 0 },
    { "heartbeat-interval", 0, E("HEARTBEAT_INTERVAL"), LT_OPT_STRING, "DURATION", NULL,
      "heartbeat interval (250ms, 5s, 1m); default 5s, 15s with --protocol wasmcloud-v2",
      F(heartbeat_interval), 0, 0 },
    { "memory", 0, E("MEMORY"), LT_OPT_STRING, "BYTES", NULL,
      "memory capacity reported and enforced (512Mi, 4G); default physical memory",
      F(memory), 0, 0 },
    { "slots", 0, E("SLOTS"), LT_OPT_INT, "N", "0", "instance slots; 0 = unlimited", F(slots),
      0, 1000000 },
    { "cpu-millis", 0, E("CPU_MILLIS"), LT_OPT_INT, "N", "0",
      "CPU capacity in millicores; 0 = 1000 per online CPU", F(cpu_millis), 0, 100000000 },
    { "runner", 0, E("RUNNER"), LT_OPT_STRING, "PREFIX=COMMAND", NULL,
      "run image refs starting with PREFIX with the shell COMMAND ($1 = the ref), "
      "repeatable; the longest prefix wins",
      F(runner), 0, 0 },
    { "default-runner", 0, E("DEFAULT_RUNNER"), LT_OPT_STRING, "COMMAND", NULL,
      "shell command for refs no --runner matches (e.g. 'sleep infinity'); default: refuse",
      F(default_runner), 0, 0 },
    { "file-root", 0, E("FILE_ROOT"), LT_OPT_STRING, "DIR", NULL,
      "file:// refs must lie under DIR; default anywhere", F(file_root), 0, 0 },
    { "no-file-refs", 0, E("NO_FILE_REFS"), LT_OPT_FLAG, NULL, NULL,
      "refuse file:// image refs", F(no_file_refs), 0, 0 },
    { "run-dir", 0, E("RUN_DIR"), LT_OPT_STRING, "DIR", NULL,
      "where the host's run directory (links files) is created; default $TMPDIR or /tmp",
      F(run_dir), 0, 0 },
    { "stop-grace", 0, E("STOP_GRACE"), LT_OPT_STRING, "DURATION", "5s",
      "SIGTERM to SIGKILL grace of a stop (unless the request says) and of shutdown",
      F(stop_grace), 0, 0 },
    { "restart-limit", 0, E("RESTART_LIMIT"), LT_OPT_INT, "N", "3",
      "restarts of a crashed instance before it stays FAILED; 0 = never restart",
      F(restart_limit), 0, 1000000 },
    { "restart-backoff", 0, E("RESTART_BACKOFF"), LT_OPT_STRING, "DURATION", "1s",
      "first restart delay, doubled per restart up to 30s", F(restart_backoff), 0, 0 },
    { "simulate", 0, E("SIMULATE"), LT_OPT_INT, "N", "0",
      "run N simulated hosts in this process instead of one real host", F(simulate), 0,
      1000000 },
    { "id-prefix", 0, E("ID_PREFIX"), LT_OPT_STRING, "PREFIX", "sim",
      "simulated host ids are PREFIX-00000, PREFIX-00001, ...", F(id_prefix), 0, 0 },
    { "fail-rate", 0, E("FAIL_RATE"), LT_OPT_STRING, "P", "0",
      "simulate: fraction (0..1) of starts refused with START_FAILED", F(fail_rate), 0, 0 },
    { "reply-delay-ms", 0, E("REPLY_DELAY_MS"), LT_OPT_INT, "MS", "0",
      "delay every reply by MS milliseconds (fault injection)", F(reply_delay_ms), 0, 600000 },
    { "refuse-image", 0, E("REFUSE_IMAGE"), LT_OPT_STRING, "TEXT", NULL,
      "simulate: refuse starts whose image_ref contains TEXT", F(refuse_image), 0, 0 },
    { "seed", 0, E("SEED"), LT_OPT_INT, "N", "1", "simulate: seed of the --fail-rate PRNG",
      F(seed), 0, INT64_MAX },
    { "crash-after-ms", 0, E("CRASH_AFTER_MS"), LT_OPT_INT, "MS", "0",
      "simulate: a RUNNING instance crashes (FAILED, instance.failed) MS after it started; "
      "0 = never", F(crash_after_ms), 0, 86400000 },
    { "crash-image", 0, E("CRASH_IMAGE"), LT_OPT_STRING, "TEXT", NULL,
      "simulate: --crash-after-ms only for image_refs containing TEXT (default: all)",
      F(crash_image), 0, 0 },
    { "crash-message", 0, E("CRASH_MESSAGE"), LT_OPT_STRING, "TEXT",
      "exited with code 1 (simulated crash)", "simulate: the message of a simulated crash",
      F(crash_message), 0, 0 },
    { "crash-limit", 0, E("CRASH_LIMIT"), LT_OPT_INT, "N", "0",
      "simulate: stop crashing after N crashes in all; 0 = no limit", F(crash_limit), 0,
      INT64_MAX },
    { "no-instance-events", 0, E("NO_INSTANCE_EVENTS"), LT_OPT_FLAG, NULL, NULL,
      "simulate: publish no instance.* or instances.* events (heartbeats and replies still "
      "tell all); a benchmark knob", F(no_instance_events), 0, 0 },
    { "stats-interval", 0, E("STATS_INTERVAL"), LT_OPT_STRING, "DURATION", "0",
      "simulate: log throughput counters this often (0 = only at exit)", F(stats_interval),
      0, 0 },
    { "protocol", 0, E("PROTOCOL"), LT_OPT_STRING, "native|wasmcloud-v2", "native",
      "wire protocol; wasmcloud-v2 (wasmCloud 2.x hosts) needs --simulate for now",
      F(protocol), 0, 0 },
    { "v2-host-prefix", 0, E("V2_HOST_PREFIX"), LT_OPT_STRING, "PREFIX", "runtime.host",
      "wasmcloud-v2: requests come on PREFIX.<host id>.<command>", F(v2_host_prefix), 0, 0 },
    { "v2-operator-prefix", 0, E("V2_OPERATOR_PREFIX"), LT_OPT_STRING, "PREFIX",
      "runtime.operator", "wasmcloud-v2: heartbeats go to PREFIX.heartbeat.<host id>",
      F(v2_operator_prefix), 0, 0 },
    { "environment", 0, E("ENVIRONMENT"), LT_OPT_STRING, "NAME", NULL,
      "wasmcloud-v2: the heartbeat's environment (tenancy); default none",
      F(environment), 0, 0 },
    { "wasmcloud-version", 0, E("WASMCLOUD_VERSION"), LT_OPT_STRING, "VERSION", "2.7.0",
      "wasmcloud-v2: the version reported; fields newer than it are refused",
      F(wasmcloud_version), 0, 0 },
    { "export", 0, E("EXPORTS"), LT_OPT_STRING, "NS:PKG/IF1,IF2[@VERSION]", NULL,
      "wasmcloud-v2: an interface set of the heartbeat's exports, repeatable ('none' = no "
      "exports; default: the plugins of a plain `wash host`); env/config: space-separated",
      F(export_list), 0, 0 },
    { "v2-never-reply", 0, E("V2_NEVER_REPLY"), LT_OPT_FLAG, NULL, NULL,
      "wasmcloud-v2: drop every workload.* request unanswered (heartbeats go on)",
      F(v2_never_reply), 0, 0 },
    { "v2-not-found-after-start", 0, E("V2_NOT_FOUND_AFTER_START"), LT_OPT_FLAG, NULL, NULL,
      "wasmcloud-v2: starts answer RUNNING but keep nothing (status: NOT_FOUND)",
      F(v2_not_found_after_start), 0, 0 },
    { "log-level", 0, E("LOG_LEVEL"), LT_OPT_STRING, "LEVEL", "info",
      "debug, info, warn or error", F(log_level), 0, 0 },
    { "log-format", 0, E("LOG_FORMAT"), LT_OPT_STRING, "text|json", "text",
      "log line format on stderr", F(log_format), 0, 0 },
};
/* clang-format on */

static const lt_opts_spec spec = {
    .prog = "latticed-host",
    .usage = "latticed-host [OPTIONS]",
    .summary = "latticed-host: the reference thin host of latticed. Joins a lattice over NATS\n"
               "(no JetStream), heartbeats, obeys start/stop/link/unlink/inventory and runs\n"
               "each instance as a supervised child process; --simulate N runs N virtual\n"
               "hosts in one process for tests and benchmarks. See docs/host.md.",
    .opts = options,
    .nopts = sizeof(options) / sizeof(options[0]),
    .config_opt = "config",
};

/* The repeatable flags, taken out of argv before lt_opts_parse sees it. */
typedef struct {
    char **argv; /* argv without --label/--runner/--export */
    int argc;
    const char **labels, **runners, **exports;
    size_t nlabels, nrunners, nexports;
    char *env_labels;  /* heap copy of the comma list from env/config */
    char *env_exports; /* heap copy of the space-separated list from env/config */
} multi_t;

static int take_repeatable(multi_t *mv, int argc, char **argv)
{
    mv->argv = lt_calloc((size_t)argc + 1, sizeof(char *));
    mv->labels = lt_calloc((size_t)argc + 1, sizeof(char *));
    mv->runners = lt_calloc((size_t)argc + 1, sizeof(char *));
    mv->exports = lt_calloc((size_t)argc + 1, sizeof(char *));
    if (mv->argv == NULL || mv->labels == NULL || mv->runners == NULL || mv->exports == NULL)
        return 1;
    mv->argv[mv->argc++] = argv[0];
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        bool lab = strncmp(a, "--label", 7) == 0 && (a[7] == '\0' || a[7] == '=');
        bool run = strncmp(a, "--runner", 8) == 0 && (a[8] == '\0' || a[8] == '=');
        bool exp = strncmp(a, "--export", 8) == 0 && (a[8] == '\0' || a[8] == '=');

        if (strcmp(a, "--") == 0) {
            while (i < argc)
                mv->argv[mv->argc++] = argv[i++];
            break;
        }
        if (!lab && !run && !exp) {
            mv->argv[mv->argc++] = argv[i];
            continue;
        }
        const char *eq = strchr(a, '=');
        const char *val = eq != NULL ? eq + 1 : (i + 1 < argc ? argv[++i] : NULL);

        if (val == NULL) {
            fprintf(stderr, "latticed-host: option %s needs a value\n", a);
            return 2;
        }
        if (lab)
            mv->labels[mv->nlabels++] = val;
        else if (run)
            mv->runners[mv->nrunners++] = val;
        else
            mv->exports[mv->nexports++] = val;
    }
    return 0;
}

static void multi_free(multi_t *mv)
{
    lt_free(mv->argv);
    lt_free(mv->labels);
    lt_free(mv->runners);
    lt_free(mv->exports);
    lt_free(mv->env_labels);
    lt_free(mv->env_exports);
}

/* Labels and the runner from env/config, when no flag gave any. */
static int fill_from_table(multi_t *mv, const opts_t *o)
{
    if (mv->nlabels == 0 && o->label != NULL && o->label[0] != '\0') {
        char *save = NULL, *tok;
        size_t n = 1;

        for (const char *p = o->label; *p != '\0'; p++)
            n += *p == ',';
        lt_free(mv->labels);
        mv->labels = lt_calloc(n + 1, sizeof(char *));
        mv->env_labels = lt_strdup(o->label);
        if (mv->labels == NULL || mv->env_labels == NULL)
            return 1;
        for (tok = strtok_r(mv->env_labels, ",", &save); tok != NULL;
             tok = strtok_r(NULL, ",", &save))
            mv->labels[mv->nlabels++] = tok;
    }
    if (mv->nrunners == 0 && o->runner != NULL && o->runner[0] != '\0')
        mv->runners[mv->nrunners++] = o->runner;
    if (mv->nexports == 0 && o->export_list != NULL && o->export_list[0] != '\0') {
        char *save = NULL, *tok;
        size_t n = 1;

        for (const char *p = o->export_list; *p != '\0'; p++)
            n += *p == ' ';
        lt_free(mv->exports);
        mv->exports = lt_calloc(n + 1, sizeof(char *));
        mv->env_exports = lt_strdup(o->export_list);
        if (mv->exports == NULL || mv->env_exports == NULL)
            return 1;
        for (tok = strtok_r(mv->env_exports, " ", &save); tok != NULL;
             tok = strtok_r(NULL, " ", &save))
            mv->exports[mv->nexports++] = tok;
    }
    return 0;
}

/* Value checks the table cannot express, and conversion to lt_host_config.
 * Prints a one-line reason and returns 2 on a bad value. */
static int to_config(const opts_t *o, const multi_t *mv, lt_host_config *c)
{
    lt_log_level lvl;
    char *end = NULL;
    long ncpu;

    c->conn = (lt_conn_config){
        .url = o->nats_url,
        .creds_file = o->nats_creds,
        .jwt_file = o->nats_jwt,
        .nkey = o->nats_nkey,
        .seed_file = o->nats_seed,
        .tls_ca = o->nats_tls_ca,
        .tls_cert = o->nats_tls_cert,
        .tls_key = o->nats_tls_key,
    };
    if (lt_log_level_parse(o->log_level, &lvl) != LT_OK) {
        fprintf(stderr, "latticed-host: --log-level must be debug, info, warn or error\n");
        return 2;
    }
    if (strcmp(o->log_format, "text") != 0 && strcmp(o->log_format, "json") != 0) {
        fprintf(stderr, "latticed-host: --log-format must be text or json\n");
        return 2;
    }
    lt_log_configure(lvl, strcmp(o->log_format, "json") == 0);
    if (!lt__host_token_ok(o->lattice, LT_MAX_TOKEN)) {
        fprintf(stderr, "latticed-host: --lattice '%s' is not a valid subject token\n", o->lattice);
        return 2;
    }
    if (o->leader_key != NULL && lt_nkey_parse_public(o->leader_key, c->leader_key) != LT_OK) {
        fprintf(stderr, "latticed-host: --leader-key is not an nkey public key\n");
        return 2;
    }
    c->check_signatures = o->leader_key != NULL;
    if (!lt__host_prefix_ok(o->prefix)) {
        fprintf(stderr, "latticed-host: --prefix '%s' is not a valid subject prefix\n", o->prefix);
        return 2;
    }
    if (o->host_id != NULL && !lt__host_token_ok(o->host_id, LT_MAX_HOST_ID)) {
        fprintf(stderr, "latticed-host: --host-id '%s' is not a valid subject token\n", o->host_id);
        return 2;
    }
    if (!lt__host_token_ok(o->id_prefix, 64)) {
        fprintf(stderr, "latticed-host: --id-prefix '%s' is not a valid subject token\n",
                o->id_prefix);
        return 2;
    }
    if (strcmp(o->protocol, "native") != 0 && strcmp(o->protocol, "wasmcloud-v2") != 0) {
        fprintf(stderr, "latticed-host: --protocol must be native or wasmcloud-v2\n");
        return 2;
    }
    c->wasmcloud_v2 = strcmp(o->protocol, "wasmcloud-v2") == 0;
    if (c->wasmcloud_v2 && o->simulate <= 0) {
        fprintf(stderr, "latticed-host: --protocol wasmcloud-v2 needs --simulate N (the real "
                        "host speaks the native protocol only)\n");
        return 2;
    }
    if (!lt__host_prefix_ok(o->v2_host_prefix) || !lt__host_prefix_ok(o->v2_operator_prefix)) {
        fprintf(stderr, "latticed-host: --v2-host-prefix and --v2-operator-prefix must be "
                        "valid subject prefixes\n");
        return 2;
    }
    if (lt__host_parse_duration_ms("--heartbeat-interval",
                                   o->heartbeat_interval != NULL ? o->heartbeat_interval
                                   : c->wasmcloud_v2             ? "15s"
                                                                 : "5s",
                                   &c->heartbeat_ms) != LT_OK ||
        lt__host_parse_duration_ms("--stop-grace", o->stop_grace, &c->stop_grace_ms) != LT_OK ||
        lt__host_parse_duration_ms("--restart-backoff", o->restart_backoff,
                                   &c->restart_backoff_ms) != LT_OK ||
        lt__host_parse_duration_ms("--stats-interval", o->stats_interval, &c->stats_ms) != LT_OK ||
        (o->memory != NULL && lt__host_parse_size("--memory", o->memory, &c->memory) != LT_OK)) {
        fprintf(stderr, "latticed-host: %s\n", lt_error_message());
        return 2;
    }
    if (c->heartbeat_ms < 10 || c->heartbeat_ms > 3600000) {
        fprintf(stderr, "latticed-host: --heartbeat-interval must be from 10ms to 1h\n");
        return 2;
    }
    if (c->restart_backoff_ms < 1)
        c->restart_backoff_ms = 1;
    c->fail_rate = strtod(o->fail_rate, &end);
    if (end == o->fail_rate || *end != '\0' || !(c->fail_rate >= 0.0 && c->fail_rate <= 1.0)) {
        fprintf(stderr, "latticed-host: --fail-rate must be a number from 0 to 1, got '%s'\n",
                o->fail_rate);
        return 2;
    }
    if (o->memory == NULL)
        c->memory = (uint64_t)sysconf(_SC_PHYS_PAGES) * (uint64_t)sysconf(_SC_PAGESIZE);
    ncpu = sysconf(_SC_NPROCESSORS_ONLN);
    c->cpu_millis =
        o->cpu_millis > 0 ? (uint32_t)o->cpu_millis : (uint32_t)(ncpu > 0 ? ncpu : 1) * 1000u;
    c->lattice = o->lattice;
    c->prefix = o->prefix;
    c->host_id = o->host_id;
    c->name = o->name;
    c->slots = (uint32_t)o->slots;
    c->labels = mv->labels;
    c->nlabels = mv->nlabels;
    c->runners = mv->runners;
    c->nrunners = mv->nrunners;
    c->default_runner = o->default_runner;
    c->file_root = o->file_root;
    c->no_file_refs = o->no_file_refs;
    c->run_dir = o->run_dir;
    c->restart_limit = (uint32_t)o->restart_limit;
    c->simulate = (size_t)o->simulate;
    c->id_prefix = o->id_prefix;
    c->reply_delay_ms = o->reply_delay_ms;
    c->refuse_image = o->refuse_image;
    c->crash_after_ms = o->crash_after_ms;
    c->crash_image = o->crash_image;
    c->crash_message = o->crash_message;
    c->crash_limit = (uint64_t)o->crash_limit;
    c->seed = (uint64_t)o->seed;
    c->instance_events = !o->no_instance_events;
    c->v2_host_prefix = o->v2_host_prefix;
    c->v2_operator_prefix = o->v2_operator_prefix;
    c->environment = o->environment != NULL ? o->environment : "";
    c->wasmcloud_version = o->wasmcloud_version;
    c->exports = mv->nexports > 0 ? mv->exports : NULL;
    c->nexports = mv->nexports;
    c->v2_never_reply = o->v2_never_reply;
    c->v2_not_found_after_start = o->v2_not_found_after_start;
    return 0;
}

/* Labels and runners are checked once here, so a typo fails at start-up. */
static int check_lists(const lt_host_config *c)
{
    lt__host_kvs kvs = { 0 };
    lt__host_runners r = { 0 };
    int code = 0;

    for (size_t i = 0; code == 0 && i < c->nlabels; i++) {
        if (lt__host_label_add(&kvs, c->labels[i], 0, "x") != LT_OK)
            code = 2;
    }
    for (size_t i = 0; code == 0 && i < c->nrunners; i++) {
        if (lt__host_runners_add(&r, c->runners[i]) != LT_OK)
            code = 2;
    }
    if (code != 0)
        fprintf(stderr, "latticed-host: %s\n", lt_error_message());
    lt__host_kvs_cleanup(&kvs);
    lt__host_runners_cleanup(&r);
    return code;
}

int main(int argc, char **argv)
{
    opts_t o = { 0 };
    multi_t mv = { 0 };
    lt_host_config cfg = { 0 };
    char *config_text = NULL;
    int first = argc, code;

    if (argc == 2 && strcmp(argv[1], "--man") == 0) { /* latticed-host.1, built by meson */
        lt_opts_man(&spec, LT_VERSION, "the reference thin host of latticed",
                    "\\fBlatticed\\fR(1), \\fBlatticectl\\fR(1); docs/host.md", stdout);
        return 0;
    }
    if (argc == 2 && strcmp(argv[1], "--help-markdown") == 0) { /* docs/reference.md */
        lt_opts_markdown(&spec, stdout);
        return 0;
    }
    code = take_repeatable(&mv, argc, argv);
    if (code != 0)
        goto out;
    if (lt_opts_parse(&spec, &o, mv.argc, mv.argv, &first, &config_text) != LT_OK) {
        fprintf(stderr, "latticed-host: %s\n", lt_error_message());
        code = 2;
        goto out;
    }
    if (o.help) {
        lt_opts_help(&spec, stdout);
        goto out;
    }
    if (o.version) {
        printf("latticed-host %s\n", LT_VERSION);
        goto out;
    }
    if (first < mv.argc) {
        fprintf(stderr, "latticed-host: unexpected argument '%s' (see --help)\n", mv.argv[first]);
        code = 2;
        goto out;
    }
    if (fill_from_table(&mv, &o) != 0) {
        code = 1;
        goto out;
    }
    code = to_config(&o, &mv, &cfg);
    if (code == 0)
        code = check_lists(&cfg);
    if (code != 0)
        goto out;
    if (cfg.wasmcloud_v2)
        code = lt_host_sim_v2_run(&cfg);
    else
        code = cfg.simulate > 0 ? lt_host_sim_run(&cfg) : lt_host_run(&cfg);
out:
    multi_free(&mv);
    lt_free(config_text);
    return code;
}
