/*
 * cmd_hosts.c - `latticectl hosts`: the lattice's hosts as the scheduler's
 * leader sees them (labels, capacity, instance count, last-seen age, alive or
 * unreachable, scheduling), asked on `{lattice-prefix}.{lattice}.hosts`, with
 * -l to select by label; and `hosts cordon|drain|uncordon HOST` (the same
 * subject with an action in the body, a latticed extension), drain waiting
 * until the host is empty unless --detach.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lctl_api.h"
#include "lctl_sched.h"
#include "lctl_select.h"
#include "lt_alloc.h"
#include "lt_limits.h"
#include "lt_loop.h"
#include "lt_subject.h"

typedef struct {
    lctl_select_cfg sc; /* first: lctl_api_parse fills its api */
    const char *prefix;
    bool evict_silent, detach, wait;
    int64_t wait_timeout;
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
    LCTL_OPT_SELECTOR("only the hosts whose labels match: key=value, key==value, key!=value, "
                      "key or !key, comma-separated (all must hold)"),
    { "wait", 0, NULL, LT_OPT_FLAG, NULL, NULL,
      "drain: wait until the host is drained (the default)", H(wait), 0, 0 },
    { "detach", 0, NULL, LT_OPT_FLAG, NULL, NULL,
      "drain: return once the host is draining, do not wait", H(detach), 0, 0 },
    { "wait-timeout", 0, NULL, LT_OPT_INT, "S", "600",
      "drain: give up waiting after S seconds (exit 1; the drain goes on)", H(wait_timeout), 1,
      86400 },
};
/* clang-format on */

const lt_opts_spec lctl_hosts_opts = {
    .prog = "latticectl hosts",
    .usage = "latticectl hosts [-l SELECTOR] [OPTIONS]\n"
             "       latticectl hosts cordon|uncordon|drain HOST [--detach]",
    .summary = "List the hosts of the lattice: state, scheduling, driver (native or wasmcloud-v2), "
               "instances, links, capacity, last heartbeat and labels, as latticed's scheduler "
               "sees them.\n"
               "`hosts cordon HOST` places nothing new on the host (what runs there stays); "
               "`hosts drain HOST` cordons it and moves its instances to other hosts within each "
               "app's rollout bound (replacements start before the old ones stop), and waits "
               "until the host is drained (--detach: do not wait); `hosts uncordon HOST` makes "
               "it eligible again. The state is kept in JetStream KV: it survives a leader "
               "failover and a restart. SCHEDULING is ready, cordoned, draining or drained.",
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
    printf("%-24s %-12s %-10s %-12s %9s %6s %12s %6s %10s  %s\n", "HOST", "STATE", "SCHEDULING",
           "DRIVER", "INSTANCES", "LINKS", "MEMORY", "SLOTS", "LAST SEEN", "LABELS");
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
        printf("%-24s %-12s %-10s %-12s %9lld %6lld %12s %6s %10s  %s\n", lctl_str(h, "id", ""),
               lctl_str(h, "state", ""), lctl_str(h, "scheduling", "ready"),
               lctl_str(h, "driver", "native"),
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

/* One request on the hosts subject; *doc receives the parsed reply, *raw its bytes. Exit code
 * (LCTL_EXIT_NET when nothing answered, with a line on stderr unless quiet). */
static int ask(lctl_client *c, const char *subj, const char *body, bool quiet, json_t **doc,
               char **raw)
{
    natsMsg *reply = NULL;
    json_error_t err;
    natsStatus ns;

    *doc = NULL;
    *raw = NULL;
    ns = natsConnection_RequestString(&reply, c->nc, subj, body, (int64_t)c->cfg->timeout * 1000);
    if (ns != NATS_OK) {
        if (!quiet)
            fprintf(stderr,
                    "latticectl hosts: no answer on %s: %s (is latticed running and "
                    "leading lattice %s?)\n",
                    subj, natsStatus_GetText(ns), c->cfg->lattice);
        return LCTL_EXIT_NET;
    }
    *raw = lt_strndup(natsMsg_GetData(reply), (size_t)natsMsg_GetDataLength(reply));
    *doc = json_loadb(natsMsg_GetData(reply), (size_t)natsMsg_GetDataLength(reply), 0, &err);
    natsMsg_Destroy(reply);
    if (*doc == NULL || *raw == NULL) {
        fprintf(stderr, "latticectl hosts: the answer is not JSON: %s\n", err.text);
        return LCTL_EXIT_FAIL;
    }
    return LCTL_EXIT_OK;
}

static int list_hosts(lctl_client *c, const hosts_cfg *cfg, const char *subj)
{
    lctl_select sel;
    json_t *doc = NULL, *hosts;
    char *raw = NULL;
    int code;
    size_t i;

    if ((code = lctl_select_parse(cfg->sc.selector, &sel)) != 0)
        return code;
    code = ask(c, subj, cfg->evict_silent ? "{\"evict_silent\":true}" : "", false, &doc, &raw);
    if (code != 0)
        goto out;
    hosts = json_object_get(doc, "hosts");
    for (i = 0; sel.n > 0 && i < json_array_size(hosts);) {
        if (lctl_select_match(&sel, json_object_get(json_array_get(hosts, i), "labels")))
            i++;
        else
            json_array_remove(hosts, i);
    }
    if (strcmp(cfg->sc.api.output, "json") == 0 && sel.n == 0) {
        printf("%s\n", raw); /* the exact reply */
    } else if (strcmp(cfg->sc.api.output, "json") == 0) {
        char *txt = json_dumps(doc, JSON_COMPACT | JSON_PRESERVE_ORDER);

        printf("%s\n", txt != NULL ? txt : "");
        free(txt);
    } else if (strcmp(cfg->sc.api.output, "yaml") == 0) {
        lctl_print_yaml(stdout, doc);
    } else if (!lctl_print_doc(&cfg->sc.api, doc, NULL)) { /* -o jsonpath=EXPR */
        print_table(doc);
    }
out:
    json_decref(doc);
    lt_free(raw);
    lctl_select_free(&sel);
    return code;
}

/* The entry of host in a hosts reply, or NULL. */
static const json_t *find_host(const json_t *doc, const char *host)
{
    const json_t *h;
    size_t i;

    json_array_foreach (json_object_get(doc, "hosts"), i, h)
        if (strcmp(lctl_str(h, "id", ""), host) == 0)
            return h;
    return NULL;
}

/* drain: poll until the host says "drained" (or left the lattice), or the wait times out. */
static int wait_drained(lctl_client *c, const hosts_cfg *cfg, const char *subj, const char *host)
{
    int64_t deadline = lt_loop_now_ms() + cfg->wait_timeout * 1000;
    long long last = -1, left = -1;
    bool tell = strcmp(cfg->sc.api.output, "table") == 0;
    int code = -1; /* -1: keep waiting */

    while (code < 0) {
        json_t *doc = NULL;
        char *raw = NULL;
        const json_t *h;

        if (ask(c, subj, "", true, &doc, &raw) == 0) { /* no answer: a failover? ask again */
            const char *word;

            h = find_host(doc, host);
            word = h != NULL ? lctl_str(h, "scheduling", "") : "";
            left = h != NULL ? (long long)json_integer_value(json_object_get(h, "instances")) : 0;
            if (h == NULL) {
                if (tell)
                    printf("host %s left the lattice: nothing runs there\n", host);
                code = LCTL_EXIT_OK;
            } else if (strcmp(word, "drained") == 0) {
                if (tell)
                    printf("host %s drained\n", host);
                code = LCTL_EXIT_OK;
            } else if (strcmp(word, "draining") != 0) {
                fprintf(stderr,
                        "latticectl: host %s is no longer draining (now %s): someone ran "
                        "uncordon or cordon meanwhile\n",
                        host, word);
                code = LCTL_EXIT_FAIL;
            } else if (tell && left != last) {
                fprintf(stderr, "host %s: draining, %lld instance(s) left\n", host, left);
                last = left;
            }
        }
        json_decref(doc);
        lt_free(raw);
        if (code < 0 && lt_loop_now_ms() >= deadline) {
            fprintf(stderr,
                    "latticectl: host %s still has %lld instance(s) after %lld s; the drain goes "
                    "on (latticectl hosts shows it; --wait-timeout waits longer)\n",
                    host, left, (long long)cfg->wait_timeout);
            code = LCTL_EXIT_FAIL;
        }
        if (code < 0)
            nats_Sleep(300);
    }
    return code;
}

static int host_action(lctl_client *c, const hosts_cfg *cfg, const char *subj, const char *action,
                       const char *host)
{
    json_t *body = json_pack("{s:s,s:s}", "action", action, "host", host), *doc = NULL;
    char *txt = body != NULL ? json_dumps(body, JSON_COMPACT) : NULL, *raw = NULL;
    const char *result;
    int code;

    json_decref(body);
    if (txt == NULL)
        return LCTL_EXIT_FAIL;
    code = ask(c, subj, txt, false, &doc, &raw);
    free(txt);
    if (code != 0)
        goto out;
    result = lctl_str(doc, "result", "");
    if (strcmp(cfg->sc.api.output, "json") == 0)
        printf("%s\n", raw);
    else if (strcmp(cfg->sc.api.output, "yaml") == 0)
        lctl_print_yaml(stdout, doc);
    if (strcmp(result, "ok") != 0) {
        fprintf(stderr, "latticectl: %s\n", lctl_str(doc, "message", "refused"));
        code = LCTL_EXIT_FAIL;
        goto out;
    }
    if (strcmp(cfg->sc.api.output, "table") == 0)
        printf("%s\n", lctl_str(doc, "message", ""));
    if (strcmp(action, "drain") == 0 && !cfg->detach)
        code = wait_drained(c, cfg, subj, host);
out:
    json_decref(doc);
    lt_free(raw);
    return code;
}

int lctl_cmd_hosts(const lctl_command *cmd, int argc, char **argv)
{
    static const char *const actions[] = { "cordon", "uncordon", "drain" };
    hosts_cfg cfg;
    lctl_client c;
    const char *pos[2] = { NULL, NULL };
    char subj[LT_MAX_SUBJECT];
    int npos = 0, code;
    size_t i;

    memset(&cfg, 0, sizeof(cfg));
    code = lctl_api_parse(cmd, &cfg.sc.api, argc, argv, pos, 2, &npos);
    if (code != 0)
        return code < 0 ? 0 : code;
    for (i = 0; npos > 0 && i < sizeof(actions) / sizeof(actions[0]); i++)
        if (strcmp(pos[0], actions[i]) == 0)
            break;
    if (npos > 0 && i == sizeof(actions) / sizeof(actions[0])) {
        fprintf(stderr,
                "latticectl hosts: unknown action '%s' (cordon, uncordon or drain HOST; "
                "see latticectl hosts --help)\n",
                pos[0]);
        return LCTL_EXIT_USAGE;
    }
    if (npos == 1) {
        fprintf(stderr, "latticectl hosts %s: missing HOST (latticectl hosts lists them)\n",
                pos[0]);
        return LCTL_EXIT_USAGE;
    }
    if (npos > 0 && (cfg.sc.selector != NULL || cfg.evict_silent)) {
        fprintf(stderr, "latticectl hosts %s: -l and --evict-silent go with the list only\n",
                pos[0]);
        return LCTL_EXIT_USAGE;
    }
    if (lt_subject_hosts(subj, sizeof(subj), cfg.prefix, cfg.sc.api.lattice) != LT_OK) {
        fprintf(stderr, "latticectl hosts: subject too long\n");
        return LCTL_EXIT_USAGE;
    }
    code = lctl_connect(&c, &cfg.sc.api);
    if (code != 0)
        return code;
    if (npos == 0)
        code = list_hosts(&c, &cfg, subj);
    else
        code = host_action(&c, &cfg, subj, pos[0], pos[1]);
    lctl_close(&c);
    return code;
}
