/*
 * lt_natcluster.c - three lt_natsrv nodes with a cluster block in their config
 * text (routes to all three), started without waiting for JetStream one by one
 * (a single node has no quorum), then waited on together (lt_natcluster.h).
 */
#include "lt_natcluster.h"

#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <nats/nats.h>

#include "lt_alloc.h"
#include "lt_testutil.h"

#define READY_TIMEOUT_MS 30000
#define START_ATTEMPTS 3

struct lt_natcluster {
    lt_natsrv *node[LT_NATCLUSTER_NODES];
    char name[LT_NATCLUSTER_NODES][48];
    char urls[LT_NATCLUSTER_NODES * 40];
};

static lt_status start_nodes(lt_natcluster *c, unsigned attempt)
{
    int port[LT_NATCLUSTER_NODES], route[LT_NATCLUSTER_NODES];
    char conf[1024];
    lt_status st = LT_OK;
    int i, n;

    for (i = 0; i < LT_NATCLUSTER_NODES && st == LT_OK; i++) {
        st = lt_natsrv_free_port(&port[i]);
        if (st == LT_OK)
            st = lt_natsrv_free_port(&route[i]);
    }
    if (st != LT_OK)
        return st;
    /* JetStream's store is <dir>/js per node (lt_natsrv passes -js -sd) */
    n = snprintf(conf, sizeof(conf),
                 "cluster {\n  name: ltc\n  listen: 127.0.0.1:@ROUTE@\n  routes: [\n");
    for (i = 0; i < LT_NATCLUSTER_NODES; i++)
        n += snprintf(conf + n, sizeof(conf) - (size_t)n, "    nats-route://127.0.0.1:%d\n",
                      route[i]);
    snprintf(conf + n, sizeof(conf) - (size_t)n, "  ]\n}\n");
    c->urls[0] = '\0';
    for (i = 0; i < LT_NATCLUSTER_NODES && st == LT_OK; i++) {
        char text[1200], *hit;
        size_t len;
        lt_natsrv_opts o = { 0 };

        snprintf(text, sizeof(text), "%s", conf);
        hit = strstr(text, "@ROUTE@");
        snprintf(hit, sizeof(text) - (size_t)(hit - text), "%d%s", route[i],
                 strstr(conf, "@ROUTE@") + 7);
        snprintf(c->name[i], sizeof(c->name[i]), "ltc-%ld-%u-n%d", (long)getpid(), attempt, i);
        o.port = port[i];
        o.server_name = c->name[i];
        o.config_text = text;
        o.no_js_probe = true; /* no quorum yet: ready at PING, JetStream waited on below */
        st = lt_natsrv_start(&c->node[i], &o);
        len = strlen(c->urls);
        snprintf(c->urls + len, sizeof(c->urls) - len, "%s%s", i > 0 ? "," : "",
                 st == LT_OK ? lt_natsrv_url(c->node[i]) : "");
    }
    for (i = 0; i < LT_NATCLUSTER_NODES && st == LT_OK; i++)
        st = lt_natsrv_wait_js(c->node[i], READY_TIMEOUT_MS);
    return st;
}

static void stop_nodes(lt_natcluster *c)
{
    for (int i = 0; i < LT_NATCLUSTER_NODES; i++) {
        LT_IGNORE(lt_natsrv_stop(c->node[i]));
        c->node[i] = NULL;
    }
}

lt_status lt_natcluster_start(lt_natcluster **new_cluster)
{
    lt_natcluster *c = lt_calloc(1, sizeof(*c));
    lt_status st = LT_ERR_STATE;

    *new_cluster = NULL;
    if (c == NULL)
        return LT_ERR_NOMEM;
    for (unsigned attempt = 0; attempt < START_ATTEMPTS; attempt++) {
        st = start_nodes(c, attempt);
        if (st == LT_OK || st == LT_ERR_UNSUPPORTED || st == LT_ERR_NOMEM)
            break;
        stop_nodes(c);
    }
    if (st != LT_OK) {
        stop_nodes(c);
        lt_free(c);
        return st;
    }
    *new_cluster = c;
    return LT_OK;
}

lt_status lt_natcluster_stop(lt_natcluster *c)
{
    lt_status st = LT_OK;

    if (c == NULL)
        return LT_OK;
    for (int i = 0; i < LT_NATCLUSTER_NODES; i++) {
        lt_status s1 = lt_natsrv_stop(c->node[i]);

        if (st == LT_OK)
            st = s1;
    }
    lt_free(c);
    return st;
}

const char *lt_natcluster_urls(const lt_natcluster *c)
{
    return c->urls;
}

lt_natsrv *lt_natcluster_node(lt_natcluster *c, int i)
{
    return c->node[i];
}

const char *lt_natcluster_name(const lt_natcluster *c, int i)
{
    return c->name[i];
}

lt_status lt_natcluster_down(lt_natcluster *c, int i, bool hard)
{
    return lt_natsrv_down(c->node[i], hard);
}

lt_status lt_natcluster_up(lt_natcluster *c, int i)
{
    lt_status st = lt_natsrv_up(c->node[i]);

    if (st == LT_OK)
        st = lt_natsrv_wait_js(c->node[i], READY_TIMEOUT_MS);
    return st;
}

lt_status lt_natcluster_stream_leader(lt_natcluster *c, const char *stream, int *out)
{
    natsConnection *nc = NULL;
    natsOptions *o = NULL;
    natsMsg *reply = NULL;
    char subj[256], leader[64];
    const char *hit;
    lt_status st = LT_OK;
    natsStatus ns;

    *out = -1;
    snprintf(subj, sizeof(subj), "$JS.API.STREAM.INFO.%s", stream);
    ns = natsOptions_Create(&o);
    if (ns == NATS_OK)
        ns = natsOptions_SetServers(o,
                                    (const char *[]){ lt_natsrv_url(c->node[0]),
                                                      lt_natsrv_url(c->node[1]),
                                                      lt_natsrv_url(c->node[2]) },
                                    LT_NATCLUSTER_NODES);
    if (ns == NATS_OK)
        ns = natsOptions_SetTimeout(o, 2000);
    if (ns == NATS_OK)
        ns = natsConnection_Connect(&nc, o);
    if (ns == NATS_OK)
        ns = natsConnection_Request(&reply, nc, subj, "", 0, 5000);
    if (ns != NATS_OK) {
        st = LT_FAIL(LT_ERR_TRANSPORT, "%s: %s", subj, natsStatus_GetText(ns));
        goto out;
    }
    hit = strstr(natsMsg_GetData(reply), "\"leader\":\"");
    if (hit == NULL || sscanf(hit + 10, "%63[^\"]", leader) != 1) {
        st = LT_FAIL(LT_ERR_NOT_FOUND, "%s: no leader in %.200s", subj, natsMsg_GetData(reply));
        goto out;
    }
    for (int i = 0; i < LT_NATCLUSTER_NODES; i++)
        if (strcmp(leader, c->name[i]) == 0)
            *out = i;
    if (*out < 0)
        st = LT_FAIL(LT_ERR_NOT_FOUND, "%s: leader %s is not one of ours", subj, leader);
out:
    natsMsg_Destroy(reply);
    natsConnection_Destroy(nc);
    natsOptions_Destroy(o);
    return st;
}
