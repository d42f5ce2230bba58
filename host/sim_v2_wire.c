/*
 * sim_v2_wire.c - the wasmcloud.runtime.v2 payloads of the simulator's
 * wasmCloud v2 mode, as a real `wash host` writes and reads them (proto3 JSON
 * through lt_pbjson): the --export specs, friendly names, the HostHeartbeat
 * (compact when published, pretty as an RPC reply), strict request decoding
 * (unknown fields refused, and fields the reported version does not know yet)
 * and the pretty-printed WorkloadStatus replies.
 */
#include "sim_v2_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include "google/protobuf/timestamp.pb-c.h"
#include "lt_alloc.h"
#include "lt_pbjson.h"

/* ---- versions and --export -------------------------------------------------------- */

lt_status lt__host_v2_version(const char *s, uint32_t *out)
{
    unsigned long part[3] = { 0, 0, 0 };
    const char *p = s;

    for (int i = 0; i < 3; i++) {
        char *end = NULL;

        if (p == NULL || *p < '0' || *p > '9')
            return LT_FAIL(LT_ERR_INVALID, "version '%s': expected MAJOR.MINOR.PATCH", s);
        part[i] = strtoul(p, &end, 10);
        if (part[i] > 999 || (i < 2 && *end != '.') ||
            (i == 2 && *end != '\0' && *end != '-' && *end != '+'))
            return LT_FAIL(LT_ERR_INVALID, "version '%s': expected MAJOR.MINOR.PATCH", s);
        p = end + 1;
    }
    *out = LT_HOST_V2_VERSION(part[0], part[1], part[2]);
    return LT_OK;
}

/* The plugin worlds of a plain `wash host` (docs/host.md). */
static const char *const default_exports[] = {
    "wasi:config/store@0.2.0-rc.1",
    "wasi:logging/logging",
    "wasi:keyvalue/store,atomics,batch",
    "wasi:blobstore/blobstore,container,types@0.2.0-draft",
    "wasmcloud:messaging/consumer,types,handler@0.2.0",
};

static bool name_ok(const char *s, size_t n)
{
    if (n == 0)
        return false;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];

        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '-' || c == '_'))
            return false;
    }
    return true;
}

static char *dup_n(const char *s, size_t n)
{
    char *d = lt_malloc(n + 1);

    if (d != NULL) {
        memcpy(d, s, n);
        d[n] = '\0';
    }
    return d;
}

static void wit_free(lt__host_v2_wit *w)
{
    if (w == NULL)
        return;
    lt_free(w->namespace_);
    lt_free(w->package);
    if (w->version != protobuf_c_empty_string)
        lt_free(w->version);
    for (size_t i = 0; i < w->n_interfaces; i++)
        lt_free(w->interfaces[i]);
    lt_free(w->interfaces);
    lt_free(w);
}

/* "ns:pkg/if1,if2[@version]" -> a new WitInterface. */
static lt_status wit_parse(const char *spec, lt__host_v2_wit **out)
{
    const char *colon = strchr(spec, ':'), *slash = strchr(spec, '/'), *at = strchr(spec, '@');
    const char *end = at != NULL ? at : spec + strlen(spec), *p;
    lt__host_v2_wit *w;
    size_t n = 1;

    *out = NULL;
    if (colon == NULL || slash == NULL || slash < colon || slash > end ||
        !name_ok(spec, (size_t)(colon - spec)) ||
        !name_ok(colon + 1, (size_t)(slash - colon - 1)) || (at != NULL && at[1] == '\0'))
        return LT_FAIL(LT_ERR_INVALID, "--export '%s': expected NS:PKG/IF1,IF2[@VERSION]", spec);
    for (p = slash + 1; p < end; p++)
        n += *p == ',';
    w = lt_calloc(1, sizeof(*w));
    if (w == NULL)
        return LT_ERR_NOMEM;
    wasmcloud__runtime__v2__wit_interface__init(w);
    w->namespace_ = dup_n(spec, (size_t)(colon - spec));
    w->package = dup_n(colon + 1, (size_t)(slash - colon - 1));
    if (at != NULL)
        w->version = lt_strdup(at + 1);
    w->interfaces = lt_calloc(n, sizeof(char *));
    if (w->namespace_ == NULL || w->package == NULL || w->version == NULL ||
        w->interfaces == NULL) {
        wit_free(w);
        return LT_ERR_NOMEM;
    }
    for (p = slash + 1; p <= end; p++) {
        const char *comma = memchr(p, ',', (size_t)(end - p));
        const char *stop = comma != NULL ? comma : end;

        if (!name_ok(p, (size_t)(stop - p))) {
            wit_free(w);
            return LT_FAIL(LT_ERR_INVALID, "--export '%s': bad interface name", spec);
        }
        w->interfaces[w->n_interfaces] = dup_n(p, (size_t)(stop - p));
        if (w->interfaces[w->n_interfaces++] == NULL) {
            wit_free(w);
            return LT_ERR_NOMEM;
        }
        p = stop;
    }
    *out = w;
    return LT_OK;
}

lt_status lt__host_v2_exports_parse(const char *const *specs, size_t nspecs, lt__host_v2_wit ***out,
                                    size_t *n)
{
    lt__host_v2_wit **v = NULL;
    lt_status st = LT_OK;
    size_t k = 0;

    *out = NULL;
    *n = 0;
    if (specs == NULL) {
        specs = default_exports;
        nspecs = sizeof(default_exports) / sizeof(default_exports[0]);
    }
    if (nspecs == 1 && strcmp(specs[0], "none") == 0)
        return LT_OK;
    v = lt_calloc(nspecs + 1, sizeof(*v));
    if (v == NULL)
        return LT_ERR_NOMEM;
    for (k = 0; k < nspecs; k++) {
        st = wit_parse(specs[k], &v[k]);
        if (st != LT_OK)
            goto out;
    }
out:
    if (st != LT_OK) {
        lt__host_v2_exports_free(v, k);
        return st;
    }
    *out = v;
    *n = nspecs;
    return LT_OK;
}

void lt__host_v2_exports_free(lt__host_v2_wit **v, size_t n)
{
    for (size_t i = 0; v != NULL && i < n; i++)
        wit_free(v[i]);
    lt_free(v);
}

/* ---- friendly names ----------------------------------------------------------------- */

static const char *const adjectives[] = {
    "agile", "bold",   "brave",  "calm",  "clever", "cosmic", "crisp",  "daring",
    "eager", "exotic", "fancy",  "fuzzy", "gentle", "giddy",  "happy",  "humble",
    "jolly", "keen",   "lively", "lucky", "mellow", "nimble", "noble",  "polite",
    "proud", "quick",  "quiet",  "rapid", "rustic", "shiny",  "silent", "sleepy",
    "snowy", "sunny",  "swift",  "tidy",  "vivid",  "witty",  "young",  "zesty",
};
static const char *const nouns[] = {
    "badger",  "bison",  "canyon",  "cloud",  "comet",  "coral",  "crane",  "delta",
    "ember",   "falcon", "fjord",   "forest", "galaxy", "geyser", "harbor", "island",
    "lagoon",  "lake",   "lynx",    "meadow", "mesa",   "moon",   "otter",  "panda",
    "pebble",  "pine",   "prairie", "quartz", "raven",  "reef",   "river",  "sierra",
    "sparrow", "star",   "summit",  "toes",   "tundra", "valley", "willow", "zephyr",
};

void lt__host_v2_friendly_name(lt_rand *r, char *out, size_t size)
{
    size_t na = sizeof(adjectives) / sizeof(adjectives[0]), nn = sizeof(nouns) / sizeof(nouns[0]);
    uint64_t x = lt_rand_next(r);

    snprintf(out, size, "%s-%s-%04u", adjectives[x % na], nouns[(x / na) % nn],
             (unsigned)((x / na / nn) % 10000));
}

/* ---- heartbeats ---------------------------------------------------------------------- */

lt_status lt__host_v2_heartbeat_encode(lt__host_v2_host *h, bool pretty, char **out, size_t *len)
{
    lt__host_v2_sim *sim = h->sim;
    Wasmcloud__Runtime__V2__HostHeartbeat hb = WASMCLOUD__RUNTIME__V2__HOST_HEARTBEAT__INIT;
    Google__Protobuf__Timestamp at = GOOGLE__PROTOBUF__TIMESTAMP__INIT;
    uint64_t total = sim->cfg->memory, used = (uint64_t)(256u << 20) + h->wls.count * (32u << 20);
    long avail = sysconf(_SC_AVPHYS_PAGES), page = sysconf(_SC_PAGESIZE);
    uint64_t sysfree = avail > 0 && page > 0 ? (uint64_t)avail * (uint64_t)page : total / 2;

    at.seconds = sim->started_sec;
    at.nanos = sim->started_nsec;
    hb.id = h->id;
    hb.hostname = sim->hostname;
    hb.friendly_name = h->friendly;
    hb.version = (char *)sim->cfg->wasmcloud_version;
    hb.n_labels = h->labels_kv.n;
    hb.labels = h->plabels;
    hb.started_at = &at;
    hb.os_arch = (char *)"x86_64";
    hb.os_name = (char *)"linux";
    hb.os_kernel = (char *)"unix";
    hb.system_cpu_usage = (float)(0.5 + 4.5 * lt_rand_unit(&sim->rng));
    hb.system_memory_total = total;
    if (sysfree > total)
        sysfree = total;
    hb.system_memory_free = sysfree > used ? sysfree - used : 0;
    hb.component_count = h->running;
    hb.workload_count = h->wls.count;
    hb.n_exports = sim->nexports;
    hb.exports = sim->exports;
    hb.http_port = 0;
    /* environment is new in 2.1.0: an older host does not know the field */
    if (sim->version >= LT_HOST_V2_VERSION(2, 1, 0))
        hb.environment = (char *)sim->cfg->environment;
    return lt_pbjson_encode(&hb.base, pretty ? LT_PBJSON_PRETTY : 0, out, len);
}

/* ---- requests -------------------------------------------------------------------------- */

/* A field of a newer proto than the host's: names (camelCase, snake_case), version. */
typedef struct {
    const char *camel, *snake;
    uint32_t since;
    const char *since_text;
} newer_field;

static const newer_field res_fields[] = {
    { "allowedIpNameLookups", "allowed_ip_name_lookups", LT_HOST_V2_VERSION(2, 6, 0), "2.6.0" },
    { "allowedHostLoopbackPorts", "allowed_host_loopback_ports", LT_HOST_V2_VERSION(2, 7, 0),
      "2.7.0" },
};
static const newer_field comp_fields[] = {
    { "maxConcurrency", "max_concurrency", LT_HOST_V2_VERSION(2, 7, 0), "2.7.0" },
};

static json_t *get2(const json_t *o, const char *camel, const char *snake)
{
    json_t *v = json_is_object(o) ? json_object_get(o, camel) : NULL;

    return v != NULL ? v : (json_is_object(o) ? json_object_get(o, snake) : NULL);
}

static lt_status check_fields(const json_t *o, const newer_field *f, size_t n, uint32_t version,
                              const char *path)
{
    for (size_t i = 0; json_is_object(o) && i < n; i++) {
        if (version >= f[i].since)
            continue;
        if (json_object_get(o, f[i].camel) != NULL || json_object_get(o, f[i].snake) != NULL)
            return LT_FAIL(LT_ERR_INVALID,
                           "%s: unknown field \"%s\" (new in wasmCloud %s, this host reports "
                           "an older version)",
                           path, json_object_get(o, f[i].camel) != NULL ? f[i].camel : f[i].snake,
                           f[i].since_text);
    }
    return LT_OK;
}

/* The fields of a start request the reported version does not know. */
static lt_status check_version(const char *body, size_t len, uint32_t version)
{
    json_t *root = json_loadb(body, len, 0, NULL), *wl, *comps;
    char path[96];
    lt_status st = LT_OK;

    if (root == NULL)
        return LT_FAIL(LT_ERR_PARSE, "not JSON");
    wl = get2(root, "workload", "workload");
    comps = get2(get2(wl, "witWorld", "wit_world"), "components", "components");
    for (size_t i = 0; st == LT_OK && json_is_array(comps) && i < json_array_size(comps); i++) {
        json_t *c = json_array_get(comps, i);

        snprintf(path, sizeof(path), "workload.witWorld.components[%zu]", i);
        st = check_fields(c, comp_fields, sizeof(comp_fields) / sizeof(comp_fields[0]), version,
                          path);
        snprintf(path, sizeof(path), "workload.witWorld.components[%zu].localResources", i);
        if (st == LT_OK)
            st = check_fields(get2(c, "localResources", "local_resources"), res_fields,
                              sizeof(res_fields) / sizeof(res_fields[0]), version, path);
    }
    if (st == LT_OK)
        st = check_fields(get2(get2(wl, "service", "service"), "localResources", "local_resources"),
                          res_fields, sizeof(res_fields) / sizeof(res_fields[0]), version,
                          "workload.service.localResources");
    json_decref(root);
    return st;
}

lt_status lt__host_v2_decode(const char *command, const char *body, size_t len, uint32_t version,
                             lt__host_v2_req *out)
{
    ProtobufCMessage *m = NULL;
    lt_status st;

    memset(out, 0, sizeof(*out));
    out->workload_id = "";
    if (strcmp(command, "heartbeat") == 0) {
        out->cmd = LT_HOST_V2_HEARTBEAT; /* the body is not read */
        return LT_OK;
    }
    if (strcmp(command, "workload.start") == 0) {
        out->cmd = LT_HOST_V2_START;
        st = lt_pbjson_decode(&wasmcloud__runtime__v2__workload_start_request__descriptor, body,
                              len, 0, &m);
        if (st != LT_OK)
            return st;
        out->start = (Wasmcloud__Runtime__V2__WorkloadStartRequest *)m;
        out->workload_id = out->start->workload_id;
        if (out->start->workload == NULL)
            st = LT_FAIL(LT_ERR_INVALID, "workload is missing");
        else if (out->workload_id[0] == '\0')
            st = LT_FAIL(LT_ERR_INVALID, "workloadId is empty");
        else if (version < LT_HOST_V2_VERSION(2, 7, 0))
            st = check_version(body, len, version);
    } else if (strcmp(command, "workload.status") == 0) {
        out->cmd = LT_HOST_V2_STATUS;
        st = lt_pbjson_decode(&wasmcloud__runtime__v2__workload_status_request__descriptor, body,
                              len, 0, &m);
        if (st == LT_OK) {
            out->status = (Wasmcloud__Runtime__V2__WorkloadStatusRequest *)m;
            out->workload_id = out->status->workload_id;
        }
    } else if (strcmp(command, "workload.stop") == 0) {
        out->cmd = LT_HOST_V2_STOP;
        st = lt_pbjson_decode(&wasmcloud__runtime__v2__workload_stop_request__descriptor, body, len,
                              0, &m);
        if (st == LT_OK) {
            out->stop = (Wasmcloud__Runtime__V2__WorkloadStopRequest *)m;
            out->workload_id = out->stop->workload_id;
        }
    } else {
        return LT_FAIL(LT_ERR_INVALID, "unknown command");
    }
    if (st != LT_OK)
        lt__host_v2_req_cleanup(out);
    return st;
}

void lt__host_v2_req_cleanup(lt__host_v2_req *r)
{
    if (r == NULL)
        return;
    if (r->start != NULL)
        protobuf_c_message_free_unpacked(&r->start->base, NULL);
    if (r->status != NULL)
        protobuf_c_message_free_unpacked(&r->status->base, NULL);
    if (r->stop != NULL)
        protobuf_c_message_free_unpacked(&r->stop->base, NULL);
    r->start = NULL;
    r->status = NULL;
    r->stop = NULL;
    r->workload_id = "";
}

/* ---- replies ----------------------------------------------------------------------------- */

lt_status lt__host_v2_reply_encode(lt__host_v2_cmd cmd, const char *id, int state,
                                   const char *message, char **out, size_t *len)
{
    Wasmcloud__Runtime__V2__WorkloadStatus ws = WASMCLOUD__RUNTIME__V2__WORKLOAD_STATUS__INIT;
    Wasmcloud__Runtime__V2__WorkloadStartResponse start =
        WASMCLOUD__RUNTIME__V2__WORKLOAD_START_RESPONSE__INIT;
    Wasmcloud__Runtime__V2__WorkloadStatusResponse status =
        WASMCLOUD__RUNTIME__V2__WORKLOAD_STATUS_RESPONSE__INIT;
    Wasmcloud__Runtime__V2__WorkloadStopResponse stop =
        WASMCLOUD__RUNTIME__V2__WORKLOAD_STOP_RESPONSE__INIT;
    const ProtobufCMessage *m = &status.base;

    ws.workload_id = (char *)id;
    ws.workload_state = (Wasmcloud__Runtime__V2__WorkloadState)state;
    ws.message = (char *)message;
    start.workload_status = status.workload_status = stop.workload_status = &ws;
    if (cmd == LT_HOST_V2_START)
        m = &start.base;
    else if (cmd == LT_HOST_V2_STOP)
        m = &stop.base;
    return lt_pbjson_encode(m, LT_PBJSON_PRETTY, out, len);
}

const char *lt__host_v2_state_name(int state)
{
    switch (state) {
    case V2WS(STARTING):
        return "STARTING";
    case V2WS(RUNNING):
        return "RUNNING";
    case V2WS(COMPLETED):
        return "COMPLETED";
    case V2WS(STOPPING):
        return "STOPPING";
    case V2WS(ERROR):
        return "ERROR";
    case V2WS(NOT_FOUND):
        return "NOT_FOUND";
    default:
        return "UNSPECIFIED";
    }
}
