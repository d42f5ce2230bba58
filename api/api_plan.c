/*
 * api_plan.c - model.plan, a latticed extension: what `model.apply` of the same manifest would
 * do, with nothing stored. The API replica runs apply's own decision (a stored version with
 * other content is refused the same way; a manifest without a version gets the version apply
 * would give it) and wadm's deploy checks, then asks the lattice's leader, which holds the
 * hosts, to run its scheduler on a shadow copy (`{sched prefix}.{lattice}.plan`,
 * scheduler/svc_plan.c). Replicas that do not lead answer too when they know nothing of the
 * lattice; their answer (header Latticed-Leader: false) is taken only when no leader answers
 * within a second. The reply is the leader's plan with wadm's result/message words added.
 */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "api_int.h"
#include "lt_alloc.h"
#include "lt_conn.h"
#include "lt_log.h"
#include "lt_subject.h"
#include "lt_time.h"

#define PLAN_TIMEOUT_MS 10000  /* the leader's answer */
#define FOLLOWER_GRACE_MS 1000 /* after a non-leader's answer, for the leader's */

static bool from_leader(natsMsg *m)
{
    const char *v = NULL;

    return natsMsgHeader_Get(m, "Latticed-Leader", &v) != NATS_OK || v == NULL ||
           strcmp(v, "false") != 0; /* answers of earlier releases carry no header */
}

/* Ask every replica on subj; the leader's answer, else a follower's. NULL: none in time. */
static natsMsg *ask_leader(natsConnection *nc, const char *subj, const char *body, size_t len)
{
    char inbox[LT_MAX_SUBJECT];
    natsSubscription *sub = NULL;
    natsMsg *best = NULL, *m = NULL;
    natsInbox *ib = NULL;
    int64_t deadline = lt_time_mono_ms() + PLAN_TIMEOUT_MS;

    if (natsInbox_Create(&ib) != NATS_OK)
        return NULL;
    snprintf(inbox, sizeof(inbox), "%s", (const char *)ib);
    natsInbox_Destroy(ib);
    if (natsConnection_SubscribeSync(&sub, nc, inbox) != NATS_OK)
        return NULL;
    if (natsConnection_PublishRequest(nc, subj, inbox, body, (int)len) != NATS_OK)
        goto out;
    while (lt_time_mono_ms() < deadline) {
        int64_t left = deadline - lt_time_mono_ms();

        if (natsSubscription_NextMsg(&m, sub, left > 0 ? left : 1) != NATS_OK)
            break;
        if (natsMsg_IsNoResponders(m)) {
            natsMsg_Destroy(m);
            break;
        }
        if (from_leader(m)) {
            natsMsg_Destroy(best);
            best = m;
            break;
        }
        if (best == NULL) {
            best = m;
            if (deadline > lt_time_mono_ms() + FOLLOWER_GRACE_MS)
                deadline = lt_time_mono_ms() + FOLLOWER_GRACE_MS;
        } else {
            natsMsg_Destroy(m);
        }
    }
out:
    lt_conn_sub_free(nc, sub,
                     LT_CONN_SETTLE_MS); /* other replicas' answers may be arriving (lt_conn.h) */
    return best;
}

json_t *lt__api_plan(const lt__api_req *r)
{
    lt__api_body *b = r->body;
    lt_model *m = b->model;
    char subj[LT_MAX_SUBJECT];
    natsMsg *answer = NULL;
    json_t *plan = NULL, *reply = NULL;
    json_error_t err;
    bool put = false;
    lt_buf msg, body;
    lt_status st;

    lt_buf_init(&msg, 128 * 1024);
    lt_buf_init(&body, LT_STORE_MAX_VALUE_BYTES);
    if (r->nc == NULL) {
        reply = lt__api_err("model.plan needs latticed's NATS connection");
        goto out;
    }
    if ((reply = lt__api_apply_decide(r, m, !b->assigned, &b->canon, &b->canon_len, &put)) != NULL)
        goto out; /* apply would refuse it the same way */
    st = lt_api_check_deploy(r->store, r->lattice, m, &msg);
    if (st == LT_ERR_REFUSED) {
        reply = lt__api_deploy_reply("error", msg.ptr, m->name, m->version);
        goto out;
    }
    if (st != LT_OK) {
        LT_WARN("api", "plan %s/%s: %s", r->lattice, m->name, lt_error_message());
        reply = lt__api_err("Internal storage error");
        goto out;
    }
    if (lt_subject_plan(subj, sizeof(subj), r->sched_prefix, r->lattice) != LT_OK) {
        reply = lt__api_err("plan subject too long");
        goto out;
    }
    /* the manifest as apply would deploy it: with the version decide gave it */
    if (lt_model_to_json(m, 0, &body) != LT_OK) {
        reply = lt__api_err("Internal error: out of memory");
        goto out;
    }
    answer = ask_leader(r->nc, subj, body.ptr, body.len);
    if (answer == NULL) {
        reply = lt__api_err("No scheduler answered the plan of lattice %s within %d s (is a "
                            "latticed leading it?)",
                            r->lattice, PLAN_TIMEOUT_MS / 1000);
        goto out;
    }
    plan = json_loadb(natsMsg_GetData(answer), (size_t)natsMsg_GetDataLength(answer), 0, &err);
    if (!json_is_object(plan)) {
        reply = lt__api_err("The scheduler's plan is not JSON: %s", err.text);
        goto out;
    }
    if (json_object_get(plan, "error") != NULL) {
        reply = lt__api_err("%s", json_string_value(json_object_get(plan, "error")) != NULL
                                      ? json_string_value(json_object_get(plan, "error"))
                                      : "the scheduler could not plan it");
        goto out;
    }
    {
        char text[512];

        snprintf(text, sizeof(text), "Plan of %s %s: apply would %s", m->name, m->version,
                 put ? "store it as a new version and deploy it"
                 : json_is_true(json_object_get(plan, "unchanged"))
                     ? "change nothing (it is deployed)"
                     : "deploy the stored version");
        if (json_object_set_new(plan, "result", json_string("success")) != 0 ||
            json_object_set_new(plan, "message", json_string(text)) != 0 ||
            json_object_set_new(plan, "stores_version", json_boolean(put)) != 0) {
            reply = lt__api_err("Internal error: out of memory");
            goto out;
        }
    }
    reply = plan;
    plan = NULL;
out:
    json_decref(plan);
    natsMsg_Destroy(answer);
    lt_buf_cleanup(&msg);
    lt_buf_cleanup(&body);
    return reply;
}
