/*
 * cmd_events.c - `latticectl events [--follow]`: the control plane's own
 * CloudEvents of a lattice (app deployed/failed/undeployed, instance
 * placed/lost, host joined/lost), read from the bounded `latticed_events`
 * stream with an ordered consumer filtered on
 * `{lattice-prefix}.{lattice}.evt.cp.>`; with --follow, new ones as they come.
 * An instances.placed event is printed as one instance.placed row per instance.
 */
#include <signal.h>
#include <stdio.h>
#include <string.h>

#include "latticed/cp/v1/events.pb-c.h"
#include "lctl_api.h"
#include "lctl_sched.h"
#include "lt_alloc.h"
#include "lt_ce.h"
#include "lt_limits.h"
#include "lt_pbjson.h"
#include "lt_subject.h"

typedef struct {
    lctl_api_cfg api; /* first: lctl_api_parse fills it */
    const char *prefix, *stream;
    bool follow;
    int64_t last;
} events_cfg;

#define E(field) offsetof(events_cfg, field)

/* Option tables: one option per row. */
/* clang-format off */
static const lt_opt events_options[] = {
    LCTL_GLOBAL_OPTS,
    { "follow", 'f', NULL, LT_OPT_FLAG, NULL, NULL, "keep printing new events until Ctrl-C",
      E(follow), 0, 0 },
    { "last", 'n', NULL, LT_OPT_INT, "N", "0",
      "start with about the last N stored events (0: all that are kept)", E(last), 0,
      INT64_C(1) << 40 },
    { "lattice-prefix", 0, "LATTICE_PREFIX", LT_OPT_STRING, "PREFIX", LT_SUBJECT_LATTICE_PREFIX,
      "subject prefix of the native host protocol", E(prefix), 0, 0 },
    { "stream", 0, "LATTICE_EVENTS_STREAM", LT_OPT_STRING, "NAME", "latticed_events",
      "JetStream stream holding the events", E(stream), 0, 0 },
};
/* clang-format on */

const lt_opts_spec lctl_events_opts = {
    .prog = "latticectl events",
    .usage = "latticectl events [--follow] [OPTIONS]",
    .summary = "Print the control plane's events of the lattice (apps deployed, failed or "
               "undeployed, instances placed or lost, hosts joined or lost), oldest first.",
    .opts = events_options,
    .nopts = sizeof(events_options) / sizeof(events_options[0]),
};

static const struct {
    const char *type;
    const ProtobufCMessageDescriptor *desc;
} kinds[] = {
    { "app.deployed", &latticed__cp__v1__app_deployed__descriptor },
    { "app.undeployed", &latticed__cp__v1__app_undeployed__descriptor },
    { "app.failed", &latticed__cp__v1__app_failed__descriptor },
    { "instances.placed", &latticed__cp__v1__instances_placed__descriptor },
    { "instance.placed", &latticed__cp__v1__instance_placed__descriptor }, /* before 0.2 */
    { "instance.lost", &latticed__cp__v1__instance_lost__descriptor },
    { "host.joined", &latticed__cp__v1__host_joined__descriptor },
    { "host.lost", &latticed__cp__v1__host_lost__descriptor },
};

static volatile sig_atomic_t interrupted;

static void on_sigint(int sig)
{
    (void)sig;
    interrupted = 1;
}

/* "dev.latticed.cp.host.lost.v1" -> its descriptor and short type, or NULL. */
static const ProtobufCMessageDescriptor *desc_of(const char *cetype, const char **shorttype)
{
    size_t i, n;

    if (strncmp(cetype, "dev.latticed.cp.", 16) != 0)
        return NULL;
    for (i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++) {
        n = strlen(kinds[i].type);
        if (strncmp(cetype + 16, kinds[i].type, n) == 0 && strcmp(cetype + 16 + n, ".v1") == 0) {
            *shorttype = kinds[i].type;
            return kinds[i].desc;
        }
    }
    return NULL;
}

/* One row: the event's type, time and data (m as JSON). */
static void print_row(const events_cfg *cfg, const lt_ce *ce, const char *type,
                      const ProtobufCMessage *m)
{
    char *json = NULL;

    if (lt_pbjson_encode(m, 0, &json, NULL) != LT_OK) {
        fprintf(stderr, "latticectl events: skipped an event that does not convert to JSON\n");
        return;
    }
    if (strcmp(cfg->api.output, "table") == 0) {
        printf("%-24s %-16s %s\n", ce->ev.time != NULL ? ce->ev.time : "-", type, json);
    } else {
        json_t *o = json_pack("{s:s,s:s,s:s,s:s?}", "type", type, "source", ce->ev.source, "id",
                              ce->ev.id, "time", ce->ev.time);
        json_t *data = json_loads(json, 0, NULL);

        if (o != NULL && data != NULL) {
            json_object_set_new(o, "data", data);
            data = NULL;
            if (strcmp(cfg->api.output, "json") == 0) {
                char *text = json_dumps(o, JSON_COMPACT);

                if (text != NULL)
                    printf("%s\n", text);
                free(text);
            } else if (cfg->api.jsonpath != NULL) {
                lctl_print_doc(&cfg->api, o, NULL); /* -o jsonpath=EXPR: a line per event */
                putchar('\n');
            } else {
                printf("---\n");
                lctl_print_yaml(stdout, o);
            }
        }
        json_decref(data);
        json_decref(o);
    }
    lt_free(json);
}

/* instances.placed (one event per host answer) as one instance.placed row per instance, each
 * with the lattice, host, time and epoch of the event, as they were sent before 0.2 (the rows
 * of one event share its CloudEvent id and time). */
static void print_placed(const events_cfg *cfg, const lt_ce *ce,
                         const Latticed__Cp__V1__InstancesPlaced *m)
{
    size_t i;

    for (i = 0; i < m->n_instances; i++) {
        Latticed__Cp__V1__InstancePlaced row = *m->instances[i];

        row.lattice = m->lattice;
        row.host_id = m->host_id;
        row.time = m->time;
        row.epoch = m->epoch;
        print_row(cfg, ce, "instance.placed", &row.base);
    }
}

static void print_event(const events_cfg *cfg, natsMsg *msg)
{
    const ProtobufCMessageDescriptor *d;
    ProtobufCMessage *m = NULL;
    const char *type = NULL;
    lt_ce ce;

    lt_ce_init(&ce);
    if (lt_ce_from_msg(&ce, msg) != LT_OK || (d = desc_of(ce.ev.type, &type)) == NULL ||
        lt_ce_unpack(&ce, d, &m) != LT_OK) {
        fprintf(stderr, "latticectl events: skipped an undecodable event on %s\n",
                natsMsg_GetSubject(msg));
        goto out;
    }
    if (d == &latticed__cp__v1__instances_placed__descriptor)
        print_placed(cfg, &ce, (const Latticed__Cp__V1__InstancesPlaced *)(const void *)m);
    else
        print_row(cfg, &ce, type, m);
    fflush(stdout);
out:
    if (m != NULL)
        protobuf_c_message_free_unpacked(m, NULL);
    lt_ce_cleanup(&ce);
}

/* Subscribe: deliver everything kept, or from about --last events before the end. */
static natsStatus subscribe(const events_cfg *cfg, jsCtx *js, const char *subj,
                            natsSubscription **sub)
{
    jsSubOptions so;
    jsStreamInfo *si = NULL;
    jsErrCode jerr = 0;
    natsStatus s;

    jsSubOptions_Init(&so);
    so.Stream = cfg->stream;
    so.Ordered = true;
    so.Config.DeliverPolicy = js_DeliverAll;
    if (cfg->last > 0 && js_GetStreamInfo(&si, js, cfg->stream, NULL, &jerr) == NATS_OK) {
        uint64_t lastseq = si->State.LastSeq;

        if (lastseq > (uint64_t)cfg->last) {
            so.Config.DeliverPolicy = js_DeliverByStartSequence;
            so.Config.OptStartSeq = lastseq - (uint64_t)cfg->last + 1;
        }
        jsStreamInfo_Destroy(si);
    }
    s = js_SubscribeSync(sub, js, subj, NULL, &so, &jerr);
    return s;
}

int lctl_cmd_events(const lctl_command *cmd, int argc, char **argv)
{
    events_cfg cfg;
    lctl_client c;
    const char *pos[1];
    char subj[LT_MAX_SUBJECT];
    jsCtx *js = NULL;
    natsSubscription *sub = NULL;
    natsStatus s;
    int npos = 0, code;

    memset(&cfg, 0, sizeof(cfg));
    code = lctl_api_parse(cmd, &cfg.api, argc, argv, pos, 0, &npos);
    if (code != 0)
        return code < 0 ? 0 : code;
    code = lctl_connect(&c, &cfg.api);
    if (code != 0)
        return code;
    if (lt_subject_cp_events(subj, sizeof(subj), cfg.prefix, cfg.api.lattice) != LT_OK) {
        code = LCTL_EXIT_USAGE;
        goto out;
    }
    s = natsConnection_JetStream(&js, c.nc, NULL);
    if (s == NATS_OK)
        s = subscribe(&cfg, js, subj, &sub);
    if (s != NATS_OK) {
        fprintf(stderr, "latticectl events: cannot read stream %s: %s\n", cfg.stream,
                natsStatus_GetText(s));
        code = LCTL_EXIT_NET;
        goto out;
    }
    signal(SIGINT, on_sigint);
    signal(SIGTERM, on_sigint);
    while (!interrupted) {
        natsMsg *msg = NULL;
        jsMsgMetaData *meta = NULL;
        bool caught_up = false;

        s = natsSubscription_NextMsg(&msg, sub, cfg.follow ? 500 : 2000);
        if (s == NATS_TIMEOUT) {
            if (!cfg.follow)
                break; /* nothing (more) stored */
            continue;
        }
        if (s != NATS_OK) {
            fprintf(stderr, "latticectl events: %s\n", natsStatus_GetText(s));
            code = LCTL_EXIT_NET;
            break;
        }
        print_event(&cfg, msg);
        if (natsMsg_GetMetaData(&meta, msg) == NATS_OK) {
            caught_up = meta->NumPending == 0;
            jsMsgMetaData_Destroy(meta);
        }
        natsMsg_Destroy(msg);
        if (caught_up && !cfg.follow)
            break;
    }
out:
    /* Closed first: closing joins nats.c's reader, which may still hold the subscription
     * (wire/lt_conn.h). The ordered consumer is left to the server to remove, as before. */
    if (c.nc != NULL)
        natsConnection_Close(c.nc);
    natsSubscription_Destroy(sub);
    jsCtx_Destroy(js);
    lctl_close(&c);
    return code;
}
