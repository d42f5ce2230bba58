/*
 * main.c - latticed's command line: the option table (flags, environment
 * variables and config-file keys all come from it) and the hand-off to
 * lt_daemon_run().
 */
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "daemon.h"
#include "lt_admin.h"
#include "lt_alloc.h"
#include "lt_config.h"
#include "lt_log.h"
#include "lt_opts.h"
#include "lt_subject.h"
#include "lt_trace_otlp.h"

#define F(field) offsetof(lt_daemon_config, field)

/* Option tables: one option per row. */
/* clang-format off */
static const lt_opt options[] = {
    { "help", 'h', NULL, LT_OPT_FLAG, NULL, NULL, "show this help and exit", F(help), 0, 0 },
    { "version", 'V', NULL, LT_OPT_FLAG, NULL, NULL, "show the version and exit", F(version),
      0, 0 },
    { "config", 'c', "LATTICED_CONFIG", LT_OPT_STRING, "FILE", NULL,
      "read options from FILE ('name = value' lines, names as the long options)",
      F(config_file), 0, 0 },
    { "dev", 0, "LATTICED_DEV", LT_OPT_FLAG, NULL, NULL,
      "development mode: start nats-server (JetStream in a temp dir, free loopback port) as a "
      "child and use it",
      F(dev), 0, 0 },
    { "nats-url", 's', "LATTICED_NATS_URL", LT_OPT_STRING, "URL", "nats://127.0.0.1:4222",
      "NATS server URL(s), comma-separated; user:password@ allowed", F(nats_url), 0, 0 },
    { "nats-creds", 0, "LATTICED_NATS_CREDS", LT_OPT_STRING, "FILE", NULL,
      "NATS credentials file (JWT + nkey seed)", F(nats_creds), 0, 0 },
    { "nats-jwt", 0, "LATTICED_NATS_JWT", LT_OPT_STRING, "FILE", NULL,
      "NATS user JWT file (needs --nats-seed)", F(nats_jwt), 0, 0 },
    { "nats-nkey", 0, "LATTICED_NATS_NKEY", LT_OPT_STRING, "PUBKEY", NULL,
      "NATS user nkey public key for nkey auth (needs --nats-seed)", F(nats_nkey), 0, 0 },
    { "nats-seed", 0, "LATTICED_NATS_SEED", LT_OPT_STRING, "FILE", NULL,
      "NATS user nkey seed file", F(nats_seed), 0, 0 },
    { "nats-tls-ca", 0, "LATTICED_NATS_TLS_CA", LT_OPT_STRING, "FILE", NULL,
      "CA bundle to verify the NATS server; requires TLS", F(nats_tls_ca), 0, 0 },
    { "nats-tls-cert", 0, "LATTICED_NATS_TLS_CERT", LT_OPT_STRING, "FILE", NULL,
      "client certificate for NATS mutual TLS", F(nats_tls_cert), 0, 0 },
    { "nats-tls-key", 0, "LATTICED_NATS_TLS_KEY", LT_OPT_STRING, "FILE", NULL,
      "client private key for NATS mutual TLS", F(nats_tls_key), 0, 0 },
    { "nats-ping-ms", 0, "LATTICED_NATS_PING_MS", LT_OPT_INT, "MS", "2000",
      "PING the NATS server this often; 2 unanswered PINGs mean the connection is dead "
      "(reconnect; nothing is evicted meanwhile)", F(nats_ping_ms), 100, 600000 },
    { "nats-connect-wait-ms", 0, "LATTICED_NATS_CONNECT_WAIT_MS", LT_OPT_INT, "MS", "0",
      "at start-up, when no server of --nats-url answers, try again each second this long "
      "(0: exit with code 3 at once)", F(nats_connect_wait_ms), 0, INT64_C(86400000) },
    { "nats-server-bin", 0, "LATTICED_NATS_SERVER", LT_OPT_STRING, "PATH", NULL,
      "--dev: nats-server binary (default: PATH, then /usr/sbin)", F(nats_server_bin), 0, 0 },
    { "api-prefix", 0, "LATTICED_API_PREFIX", LT_OPT_STRING, "PREFIX", LT_SUBJECT_API_PREFIX,
      "subject prefix of the wadm-compatible API", F(api_prefix), 0, 0 },
    { "api-workers", 0, "LATTICED_API_WORKERS", LT_OPT_INT, "N", "8",
      "API handler threads: one app's requests run in order on one of them, other apps' "
      "side by side",
      F(api_workers), 1, 64 },
    { "api-timeout-ms", 0, "LATTICED_API_TIMEOUT_MS", LT_OPT_INT, "MS", "8000",
      "a write request (put, deploy, undeploy, delete) answers within this long of arriving, "
      "whatever JetStream does; an outcome unknown by then is answered as unknown (keep it "
      "below your clients' request timeout)",
      F(api_timeout_ms), 100, 600000 },
    { "storage", 0, "LATTICED_STORAGE", LT_OPT_STRING, "file|memory", "file",
      "JetStream storage of latticed's buckets and streams", F(storage), 0, 0 },
    { "replicas", 0, "LATTICED_REPLICAS", LT_OPT_INT, "N", "1",
      "JetStream replicas of latticed's buckets and streams (3 in a cluster)", F(replicas), 1,
      5 },
    { "events-max-bytes", 0, "LATTICED_EVENTS_MAX_BYTES", LT_OPT_INT, "BYTES", "67108864",
      "size bound of the control plane event stream", F(events_max_bytes), 1024,
      INT64_C(1) << 40 },
    { "dev-host-bin", 0, "LATTICED_DEV_HOST_BIN", LT_OPT_STRING, "PATH", NULL,
      "--dev: latticed-host binary of the local host (default: next to latticed, then PATH)",
      F(dev_host_bin), 0, 0 },
    { "dev-example", 0, "LATTICED_DEV_EXAMPLE", LT_OPT_STRING, "FILE", NULL,
      "--dev: manifest applied at start (default docs/examples/hello.yaml; 'none': nothing)",
      F(dev_example), 0, 0 },
    { "lattice", 0, "LATTICED_LATTICE", LT_OPT_STRING, "LIST", NULL,
      "lattices to schedule, comma-separated (default: every lattice seen)", F(lattices), 0,
      0 },
    { "lattice-prefix", 0, "LATTICED_LATTICE_PREFIX", LT_OPT_STRING, "PREFIX",
      LT_SUBJECT_LATTICE_PREFIX,
      "subject prefix of host events and commands", F(lattice_prefix), 0, 0 },
    { "replica-id", 0, "LATTICED_REPLICA_ID", LT_OPT_STRING, "ID", NULL,
      "unique name of this replica in leader elections (default: hostname-pid)",
      F(replica_id), 0, 0 },
    { "host-interval-ms", 0, "LATTICED_HOST_INTERVAL_MS", LT_OPT_INT, "MS", "5000",
      "heartbeat interval assumed for hosts that report none", F(host_interval_ms), 10,
      3600000 },
    { "host-timeout-ms", 0, "LATTICED_HOST_TIMEOUT_MS", LT_OPT_INT, "MS", "0",
      "a host silent this long is lost and its instances replaced (0: 3 heartbeat intervals)",
      F(host_timeout_ms), 0, INT64_C(86400000) },
    { "partition-percent", 0, "LATTICED_PARTITION_PERCENT", LT_OPT_INT, "PCT", "50",
      "when more than this share of hosts goes silent within 2 host timeouts, evict nothing "
      "(a partition; latticectl hosts --evict-silent overrides)",
      F(partition_percent), 1, 100 },
    { "lease-ttl-ms", 0, "LATTICED_LEASE_TTL_MS", LT_OPT_INT, "MS", "6000",
      "leader lease: a standby takes over after this long without renewal", F(lease_ttl_ms),
      300, 600000 },
    { "command-timeout-ms", 0, "LATTICED_COMMAND_TIMEOUT_MS", LT_OPT_INT, "MS", "5000",
      "a host request without answer has failed (retried with backoff)",
      F(command_timeout_ms), 100, 600000 },
    { "warmup-ms", 0, "LATTICED_WARMUP_MS", LT_OPT_INT, "MS", "0",
      "listen to hosts this long before acting (0: 1.5 heartbeat intervals, -1: none)",
      F(warmup_ms), -1, 3600000 },
    { "command-signing-seed", 0, "LATTICED_COMMAND_SIGNING_SEED", LT_OPT_STRING, "FILE", NULL,
      "nkey seed file: sign every host command (hosts started with --leader-key refuse the "
      "unsigned)", F(command_signing_seed), 0, 0 },
    { "wasmcloud-v2", 0, "LATTICED_WASMCLOUD_V2", LT_OPT_STRING, "LIST", NULL,
      "lattices scheduled on wasmCloud 2.x hosts (wash host), comma-separated: the hosts "
      "whose --environment names the lattice ('default' for none); see docs/wasmcloud-v2.md",
      F(wasmcloud_v2), 0, 0 },
    { "v2-host-prefix", 0, "LATTICED_V2_HOST_PREFIX", LT_OPT_STRING, "PREFIX", "runtime.host",
      "wasmCloud 2.x: subject prefix of host commands", F(v2_host_prefix), 0, 0 },
    { "v2-operator-prefix", 0, "LATTICED_V2_OPERATOR_PREFIX", LT_OPT_STRING, "PREFIX",
      "runtime.operator", "wasmCloud 2.x: subject prefix of host heartbeats",
      F(v2_operator_prefix), 0, 0 },
    { "v2-start-timeout-ms", 0, "LATTICED_V2_START_TIMEOUT_MS", LT_OPT_INT, "MS", "60000",
      "wasmCloud 2.x: a workload.start without answer has failed (image pulls happen inside)",
      F(v2_start_timeout_ms), 100, 3600000 },
    { "v2-status-timeout-ms", 0, "LATTICED_V2_STATUS_TIMEOUT_MS", LT_OPT_INT, "MS", "5000",
      "wasmCloud 2.x: timeout of workload.status", F(v2_status_timeout_ms), 100, 600000 },
    { "v2-stop-timeout-ms", 0, "LATTICED_V2_STOP_TIMEOUT_MS", LT_OPT_INT, "MS", "30000",
      "wasmCloud 2.x: timeout of workload.stop", F(v2_stop_timeout_ms), 100, 600000 },
    { "v2-probe-timeout-ms", 0, "LATTICED_V2_PROBE_TIMEOUT_MS", LT_OPT_INT, "MS", "5000",
      "wasmCloud 2.x: a host whose heartbeat is late and that does not answer the heartbeat "
      "probe within this is lost", F(v2_probe_timeout_ms), 100, 600000 },
    { "v2-status-interval-ms", 0, "LATTICED_V2_STATUS_INTERVAL_MS", LT_OPT_INT, "MS", "30000",
      "wasmCloud 2.x: every workload latticed started is checked with workload.status this "
      "often (heartbeats carry only counts)", F(v2_status_interval_ms), 100, 3600000 },
    { "v2-heartbeat-ms", 0, "LATTICED_V2_HEARTBEAT_MS", LT_OPT_INT, "MS", "15000",
      "wasmCloud 2.x: the hosts' heartbeat interval (wash host: 15 s); a heartbeat late by "
      "more than 1 s is probed", F(v2_heartbeat_ms), 100, 3600000 },
    { "max-lattices", 0, "LATTICED_MAX_LATTICES", LT_OPT_INT, "N", "1000",
      "serve at most this many lattices discovered from host events (more are ignored; "
      "lattices of stored apps are always served)",
      F(max_lattices), 1, 100000 },
    { "http-admin", 0, "LATTICED_HTTP_ADMIN", LT_OPT_STRING, "ADDR", NULL,
      "serve /livez, /readyz, /metrics and /debug/state over HTTP on ADDR (host:port; port 0 "
      "picks a free one, logged; 'off': none). Default: none; --dev: 127.0.0.1 on a free port",
      F(http_admin), 0, 0 },
    { "log-level", 0, "LATTICED_LOG_LEVEL", LT_OPT_STRING, "LEVEL", "info",
      "debug, info, warn or error", F(log_level), 0, 0 },
    { "log-format", 0, "LATTICED_LOG_FORMAT", LT_OPT_STRING, "text|json", "text",
      "log line format on stderr", F(log_format), 0, 0 },
    { "otlp-endpoint", 0, "LATTICED_OTLP_ENDPOINT", LT_OPT_STRING, "URL", NULL,
      "export spans over OTLP/HTTP JSON to URL (e.g. http://127.0.0.1:4318/v1/traces); "
      "default: none", F(otlp_endpoint), 0, 0 },
};
/* clang-format on */

static const lt_opts_spec spec = {
    .prog = "latticed",
    .usage = "latticed [OPTIONS]",
    .summary = "latticed: a declarative control plane for WebAssembly thin hosts on NATS\n"
               "JetStream, compatible with wadm's API. `latticed --dev` runs a whole local\n"
               "system with no setup.",
    .opts = options,
    .nopts = sizeof(options) / sizeof(options[0]),
    .config_opt = "config",
};

/* Semantic checks the table cannot express; one-line reason on stderr. */
static int check_config(const lt_daemon_config *cfg)
{
    lt_log_level lvl;

    if (strcmp(cfg->storage, "file") != 0 && strcmp(cfg->storage, "memory") != 0) {
        fprintf(stderr, "latticed: --storage must be file or memory, got '%s'\n", cfg->storage);
        return 2;
    }
    if (lt_log_level_parse(cfg->log_level, &lvl) != LT_OK) {
        fprintf(stderr, "latticed: --log-level must be debug, info, warn or error, got '%s'\n",
                cfg->log_level);
        return 2;
    }
    if (strcmp(cfg->log_format, "text") != 0 && strcmp(cfg->log_format, "json") != 0) {
        fprintf(stderr, "latticed: --log-format must be text or json, got '%s'\n", cfg->log_format);
        return 2;
    }
    if (cfg->http_admin != NULL && strcmp(cfg->http_admin, "off") != 0) {
        char host[128];
        unsigned port;

        if (lt_admin_parse_addr(cfg->http_admin, host, sizeof(host), &port) != LT_OK) {
            fprintf(stderr, "latticed: --http-admin: %s\n", lt_error_message());
            return 2;
        }
    }
    lt_log_configure(lvl, strcmp(cfg->log_format, "json") == 0);
    return 0;
}

int main(int argc, char **argv)
{
    lt_daemon_config cfg = { 0 };
    char *config_text = NULL;
    int first = argc, code;

    if (argc == 2 && strcmp(argv[1], "--man") == 0) { /* latticed.1, built by meson */
        lt_opts_man(&spec, LT_VERSION,
                    "a declarative control plane for WebAssembly hosts on NATS JetStream",
                    "\\fBlatticectl\\fR(1), \\fBlatticed\\-host\\fR(1), "
                    "\\fBnats\\-server\\fR(8); docs/operations.md",
                    stdout);
        return 0;
    }
    if (argc == 2 && strcmp(argv[1], "--help-markdown") == 0) { /* docs/reference.md */
        lt_opts_markdown(&spec, stdout);
        return 0;
    }
    if (lt_opts_parse(&spec, &cfg, argc, argv, &first, &config_text) != LT_OK) {
        fprintf(stderr, "latticed: %s\n", lt_error_message());
        code = 2;
        goto out;
    }
    if (cfg.help) {
        lt_opts_help(&spec, stdout);
        code = 0;
        goto out;
    }
    if (cfg.version) {
        printf("latticed %s\n", LT_VERSION);
        code = 0;
        goto out;
    }
    if (first < argc) {
        fprintf(stderr, "latticed: unexpected argument '%s' (see --help)\n", argv[first]);
        code = 2;
        goto out;
    }
    code = check_config(&cfg);
    if (code != 0)
        goto out;
    if (cfg.otlp_endpoint != NULL && cfg.otlp_endpoint[0] != '\0') {
        if (lt_trace_otlp_start(cfg.otlp_endpoint, "latticed") != LT_OK) {
            fprintf(stderr, "latticed: %s\n", lt_error_message());
            code = 2;
            goto out;
        }
        LT_INFO("trace", "exporting spans to %s", cfg.otlp_endpoint);
    }
    code = lt_daemon_run(&cfg);
    lt_trace_otlp_stop();
out:
    lt_free(config_text);
    return code;
}
