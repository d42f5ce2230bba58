/*
 * cmd_hosts.c - `latticectl hosts`: the lattice's hosts as the scheduler's
 * leader sees them (labels, capacity, instance count, last-seen age, alive or
 * unreachable), asked on `{lattice-prefix}.{lattice}.hosts`.
 */
#include <stdio.h>
#include <string.h>

#include "lctl_api.h"
#include "lctl_sched.h"
#include "lt_alloc.h"
#include "lt_limits.h"
#include "lt_subject.h"

typedef struct {
    lctl_api_cfg api; /* first: lctl_api_parse fills it */
    const char *prefix;
    bool evict_silent;
} hosts_cfg;

#define H(field) offsetof(hosts_cfg, field)

/* Option tables: one option per row. */
/* clang-format off */
static const lt_opt hosts_options[] = {
    LCTL_GLOBAL_OPTS,
    { "lattice-prefix", 0, "LATTICE_PREFIX", LT_OPT_STRING, "PREFIX", LT_SUBJECT_LATTICE_PREFIX,
      "subject prefix of the native host protocol", H(prefix), 0, 0 },
    { "evict-silent", 0, NULL, LT_OPT_FLAG, NULL, NULL,
      "override the partition guard: declare every silent host lost now so its instances "
      "are replaced (use when those hosts are really gone)", H(evict_silent), 0, 0 },
};
/* clang-format on */

const lt_opts_spec lctl_hosts_opts = {
    .prog = "latticectl hosts",
    .usage = "latticectl hosts [OPTIONS]",
    .summary = "List the hosts of the lattice: state, driver (native or wasmcloud-v2), instances, "
               "links, capacity, last heartbeat and labels, as latticed's scheduler sees them.",
    .opts = hosts_options,
    .nopts = sizeof(hosts_options) / sizeof(hosts_options[0]),
};

static void human_bytes(uint64_t b, char *out, size_t n)
{
    static const char *const units[] = { "B", "KiB", "MiB", "GiB", "TiB" };
    double v = (double)b;
    int u = 0;

    while (v >= 1024 && u < 4) {
        v /= 1024;
        u++;
    }
    snprintf(out, n, u == 0 ? "%.0f %s" : "%.1f %s", v, units[u]);
}

static void print_table(const json_t *doc)
{
    const json_t *hosts = json_object_get(doc, "hosts"), *h;
    size_t i;

    if (json_is_true(json_object_get(doc, "partitioned")))
        printf("(partition guard active: silent hosts are kept, nothing is evicted)\n");
    printf("%-24s %-12s %-12s %9s %6s %12s %6s %10s  %s\n", "HOST", "STATE", "DRIVER", "INSTANCES",
           "LINKS", "MEMORY", "SLOTS", "LAST SEEN", "LABELS");
    json_array_foreach (hosts, i, h) {
        const json_t *cap = json_object_get(h, "capacity"), *labels = json_object_get(h, "labels");
        const char *k;
        json_t *v;
        char mem[32], slots[16], seen[32], lab[512] = "";
        size_t off = 0;

        human_bytes((uint64_t)json_integer_value(json_object_get(cap, "memory_total_bytes")), mem,
                    sizeof(mem));
        if (json_integer_value(json_object_get(cap, "memory_total_bytes")) == 0)
            snprintf(mem, sizeof(mem), "-");
        if (json_integer_value(json_object_get(cap, "instance_slots_total")) == 0)
            snprintf(slots, sizeof(slots), "-");
        else
            snprintf(slots, sizeof(slots), "%lld",
                     (long long)json_integer_value(json_object_get(cap, "instance_slots_total")));
        snprintf(seen, sizeof(seen), "%.1fs",
                 (double)json_integer_value(json_object_get(h, "last_seen_ms")) / 1000.0);
        json_object_foreach ((json_t *)labels, k, v) {
            int w = snprintf(lab + off, sizeof(lab) - off, "%s%s=%s", off ? "," : "", k,
                             json_string_value(v));

            if (w < 0 || (size_t)w >= sizeof(lab) - off)
                break;
            off += (size_t)w;
        }
        printf("%-24s %-12s %-12s %9lld %6lld %12s %6s %10s  %s\n", lctl_str(h, "id", ""),
               lctl_str(h, "state", ""), lctl_str(h, "driver", "native"),
               (long long)json_integer_value(json_object_get(h, "instances")),
               (long long)json_integer_value(json_object_get(h, "links")), mem, slots, seen, lab);
    }
    if (json_array_size(hosts) == 0)
        printf("(no hosts)\n");
    if (json_is_true(json_object_get(doc, "truncated")))
        printf("(showing %zu of %lld hosts: the rest does not fit in one reply)\n",
               json_array_size(hosts),
               (long long)json_integer_value(json_object_get(doc, "total")));
}

int lctl_cmd_hosts(const lctl_command *cmd, int argc, char **argv)
{
    hosts_cfg cfg;
    lctl_client c;
    const char *pos[1];
    char subj[LT_MAX_SUBJECT];
    natsMsg *reply = NULL;
    json_t *doc = NULL;
    json_error_t err;
    natsStatus ns;
    int npos = 0, code;

    memset(&cfg, 0, sizeof(cfg));
    code = lctl_api_parse(cmd, &cfg.api, argc, argv, pos, 0, &npos);
    if (code != 0)
        return code < 0 ? 0 : code;
    code = lctl_connect(&c, &cfg.api);
    if (code != 0)
        return code;
    if (lt_subject_hosts(subj, sizeof(subj), cfg.prefix, cfg.api.lattice) != LT_OK) {
        fprintf(stderr, "latticectl hosts: subject too long\n");
        code = LCTL_EXIT_USAGE;
        goto out;
    }
    ns = natsConnection_RequestString(&reply, c.nc, subj,
                                      cfg.evict_silent ? "{\"evict_silent\":true}" : "",
                                      (int64_t)cfg.api.timeout * 1000);
    if (ns != NATS_OK) {
        fprintf(stderr,
                "latticectl hosts: no answer on %s: %s (is latticed running and "
                "leading lattice %s?)\n",
                subj, natsStatus_GetText(ns), cfg.api.lattice);
        code = LCTL_EXIT_NET;
        goto out;
    }
    doc = json_loadb(natsMsg_GetData(reply), (size_t)natsMsg_GetDataLength(reply), 0, &err);
    if (doc == NULL) {
        fprintf(stderr, "latticectl hosts: the answer is not JSON: %s\n", err.text);
        code = LCTL_EXIT_FAIL;
        goto out;
    }
    if (strcmp(cfg.api.output, "json") == 0)
        printf("%.*s\n", natsMsg_GetDataLength(reply), natsMsg_GetData(reply));
    else if (strcmp(cfg.api.output, "yaml") == 0)
        lctl_print_yaml(stdout, doc);
    else if (!lctl_print_doc(&cfg.api, doc, NULL)) /* -o jsonpath=EXPR */
        print_table(doc);
out:
    json_decref(doc);
    natsMsg_Destroy(reply);
    lctl_close(&c);
    return code;
}
