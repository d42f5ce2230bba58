/*
 * svc_plan.c - the plan and instances queries (latticed extensions, docs/api.md):
 * `{prefix}.{lattice}.plan` (body: a manifest, YAML or JSON) and
 * `{prefix}.{lattice}.instances` (body: {"app":NAME}), answered like `hosts` by the
 * lattice's leader, the one replica that holds the inventory and the in-flight work, from
 * its lt_sched on the loop thread. The manifest is parsed on the subscription's thread.
 */
#include <jansson.h>
#include <string.h>

#include "lt_alloc.h"
#include "lt_conn.h"
#include "lt_loop.h"
#include "lt_sched_plan.h"
#include "lt_subject.h"
#include "sched_svc_int.h"

#define QUERY_REPLY_MAX (1000u * 1024u) /* one NATS message (default max_payload 1 MiB) */
#define PLANS_WAITING_MAX 4 /* plans queued for the loop at once; more are told "busy" */

typedef struct {
    lt_sched_svc *svc;
    natsMsg *msg;
    bool plan;
    bool counted;    /* in svc->plans_waiting until dropped */
    lt_model *model; /* plan: the parsed manifest */
    char *app;       /* instances: the app asked for */
    char *error;     /* why the request cannot be answered, or NULL */
} query_item;

static void query_drop(void *arg)
{
    query_item *it = arg;

    if (it->counted)
        atomic_fetch_sub(&it->svc->plans_waiting, 1);
    natsMsg_Destroy(it->msg);
    lt_model_free(it->model);
    lt_free(it->app);
    lt_free(it->error);
    lt_free(it);
}

static void error_reply(lt_buf *b, const char *lattice, const char *msg)
{
    lt_buf_reset(b);
    LT_IGNORE(lt_buf_appends(b, "{\"lattice\":"));
    LT_IGNORE(lt_buf_json_str(b, lattice));
    LT_IGNORE(lt_buf_appends(b, ",\"error\":"));
    LT_IGNORE(lt_buf_json_str(b, msg));
    LT_IGNORE(lt_buf_appendc(b, '}'));
}

/* A plan for a lattice this replica has no scheduler of: an empty one (no hosts, no apps). */
static lt_status plan_empty(const char *lattice, const lt_model *m, int64_t now, lt_buf *b)
{
    lt_sched_config cfg = { 0 };
    lt_sched *s = NULL;
    lt_status st;

    cfg.lattice = lattice;
    st = lt_sched_new(&s, &cfg, NULL, now);
    if (st == LT_OK)
        st = lt_sched_plan_json(s, m, now, b);
    lt_sched_free(s);
    return st;
}

static void query_apply(lt_loop *loop, void *arg)
{
    query_item *it = arg;
    char lattice[LT_SUBJECT_TOKEN_BUF];
    const char *rest, *reply = natsMsg_GetReply(it->msg);
    svc_lattice *l;
    lt_status st = LT_OK;
    lt_buf b;

    (void)loop;
    lt_buf_init(&b, QUERY_REPLY_MAX);
    if (reply == NULL || !lt_subject_split_lattice(it->svc->prefix, natsMsg_GetSubject(it->msg),
                                                   lattice, sizeof(lattice), &rest))
        goto out;
    l = lt__sched_svc_lattice_get(it->svc, lattice, false);
    if (l != NULL && !lt_sched_leading(l->s, NULL))
        goto out; /* the leader answers */
    if (it->error != NULL) {
        error_reply(&b, lattice, it->error);
    } else if (it->plan) {
        st = l != NULL ? lt_sched_plan_json(l->s, it->model, lt_loop_now_ms(), &b)
                       : plan_empty(lattice, it->model, lt_loop_now_ms(), &b);
    } else if (l != NULL) {
        st = lt_sched_instances_json(l->s, it->app, &b);
    } else {
        LT_IGNORE(lt_buf_appends(&b, "{\"lattice\":"));
        LT_IGNORE(lt_buf_json_str(&b, lattice));
        LT_IGNORE(lt_buf_appends(&b, ",\"app\":"));
        LT_IGNORE(lt_buf_json_str(&b, it->app));
        st = lt_buf_appends(&b, ",\"version\":\"\",\"found\":false,\"instances\":[],"
                                "\"truncated\":false}");
    }
    if (st != LT_OK)
        error_reply(&b, lattice,
                    st == LT_ERR_TOO_BIG ? "the plan is larger than one NATS message"
                    : lt_error_message() != NULL && lt_error_message()[0] != '\0'
                        ? lt_error_message()
                        : lt_status_str(st));
    {
        /* Latticed-Leader: false when this replica knows nothing of the lattice (no hosts, no
         * apps seen): a replica that just started says so too, and model.plan prefers the
         * leader's answer (api/api_plan.c) */
        natsMsg *m = NULL;

        if (natsMsg_Create(&m, reply, NULL, b.ptr, (int)b.len) == NATS_OK &&
            natsMsgHeader_Set(m, "Latticed-Leader", l != NULL ? "true" : "false") == NATS_OK)
            natsConnection_PublishMsg(it->svc->cfg.nc, m);
        natsMsg_Destroy(m);
    }
out:
    lt_buf_cleanup(&b);
    query_drop(it);
}

/* Parse what the request carries, off the loop. */
static void parse_body(query_item *it)
{
    const char *data = natsMsg_GetData(it->msg);
    size_t len = (size_t)natsMsg_GetDataLength(it->msg);
    lt_model_report *rep = NULL;
    json_t *body;

    if (it->plan) {
        if (lt_model_parse(data, len, NULL, &it->model, &rep) != LT_OK) {
            const char *why = lt_model_report_first_error(rep);
            lt_buf e;

            lt_buf_init(&e, 4096);
            LT_IGNORE(
                lt_buf_appendf(&e, "invalid manifest: %s", why != NULL ? why : "cannot be parsed"));
            it->error = lt_buf_status(&e) == LT_OK ? lt_strdup(e.ptr) : NULL;
            lt_buf_cleanup(&e);
            if (it->error == NULL)
                it->error = lt_strdup("invalid manifest");
        }
        lt_model_report_free(rep);
        return;
    }
    body = len > 0 && len <= 4096 ? json_loadb(data, len, 0, NULL) : NULL;
    if (json_is_string(json_object_get(body, "app")))
        it->app = lt_strdup(json_string_value(json_object_get(body, "app")));
    else
        it->error = lt_strdup("the request needs {\"app\": NAME}");
    json_decref(body);
}

static void on_query(lt_sched_svc *svc, natsMsg *msg, bool plan)
{
    query_item *it = lt_calloc(1, sizeof(*it));

    if (it == NULL || !lt__sched_svc_cb_enter(svc)) {
        lt_free(it);
        natsMsg_Destroy(msg);
        return;
    }
    it->svc = svc;
    it->msg = msg;
    it->plan = plan;
    parse_body(it);
    /* A plan runs on the loop (a large rollout: hundreds of ms): a few may wait, more would
     * hold heartbeats and replies up; those are told to come back. */
    it->counted = plan;
    if (plan && atomic_fetch_add(&svc->plans_waiting, 1) >= PLANS_WAITING_MAX) {
        const char *reply = natsMsg_GetReply(msg);
        static const char busy[] = "{\"error\":\"the scheduler is busy with other plans: "
                                   "try again in a moment\"}";

        if (reply != NULL)
            natsConnection_PublishString(svc->cfg.nc, reply, busy);
        query_drop(it);
    } else if (lt_loop_post(svc->cfg.loop, query_apply, it, query_drop) != LT_OK) {
        query_drop(it);
    }
    lt__sched_svc_cb_leave(svc);
}

static void on_plan(natsConnection *nc, natsSubscription *sub, natsMsg *msg, void *closure)
{
    (void)nc;
    (void)sub;
    on_query(closure, msg, true);
}

static void on_instances(natsConnection *nc, natsSubscription *sub, natsMsg *msg, void *closure)
{
    (void)nc;
    (void)sub;
    on_query(closure, msg, false);
}

lt_status lt__sched_svc_plan_start(lt_sched_svc *svc)
{
    char subj[LT_MAX_SUBJECT];
    natsStatus s;

    if (lt_subject_plan(subj, sizeof(subj), svc->prefix, LT_SUBJECT_ANY) != LT_OK)
        return LT_FAIL(LT_ERR_TOO_BIG, "plan subject too long");
    s = natsConnection_Subscribe(&svc->query_sub[0], svc->cfg.nc, subj, on_plan, svc);
    if (s != NATS_OK)
        return LT_FAIL(LT_ERR_TRANSPORT, "subscribe %s: %s", subj, natsStatus_GetText(s));
    if (lt_subject_instances(subj, sizeof(subj), svc->prefix, LT_SUBJECT_ANY) != LT_OK)
        return LT_FAIL(LT_ERR_TOO_BIG, "instances subject too long");
    s = natsConnection_Subscribe(&svc->query_sub[1], svc->cfg.nc, subj, on_instances, svc);
    if (s != NATS_OK)
        return LT_FAIL(LT_ERR_TRANSPORT, "subscribe %s: %s", subj, natsStatus_GetText(s));
    return LT_OK;
}

void lt__sched_svc_plan_stop(lt_sched_svc *svc)
{
    size_t i;

    lt_conn_subs_free(svc->cfg.nc, svc->query_sub, 2, LT_CONN_SETTLE_MS);
    for (i = 0; i < 2; i++)
        svc->query_sub[i] = NULL;
}
