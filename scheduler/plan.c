/*
 * plan.c - lt_sched_plan_json: what the scheduler would do for a manifest. A shadow
 * lt_sched is built from the real one's hosts (fed as heartbeats) and the other apps'
 * deployed specs (borrowed), the manifest is deployed there, and the shadow runs round after
 * round with every command answered as done, its commands captured by its sink. The same
 * core decides, so the prediction follows every placement and rollout rule. The reply is
 * built by plan_json.c.
 */
#include <stdio.h>
#include <string.h>

#include "lt_alloc.h"
#include "lt_limits.h"
#include "lt_sched_plan.h"
#include "plan_int.h"
#include "sched_int.h"

#define RC(x) LATTICED__HOST__V1__RESULT_CODE__RESULT_CODE_##x
#define IS(x) LATTICED__HOST__V1__INSTANCE_STATE__INSTANCE_STATE_##x

#define PLAN_FOREVER_MS (24LL * 3600 * 1000) /* no timeout fires during a plan */
#define PLAN_STEP_MS 100                     /* simulated time between two rounds */

/* ---------------------------------------------------------------------------------------------
 * The capturing sink
 * ------------------------------------------------------------------------------------------- */

static void op_free(plan_op *op)
{
    if (op == NULL)
        return;
    lt_free(op->host);
    lt_free(op->id);
    lt_free(op->app);
    lt_free(op->comp);
    lt_free(op->version);
    lt_free(op->detail);
    lt_free(op->spec);
    lt_free(op);
}

static void obs_names(plan_ctx *x, plan_op *op, const char *host, const char *instance)
{
    sched_obs *o = lt__sched_inv_obs_on(x->sh, instance, lt__sched_inv_host(x->sh, host));

    op->app = lt__sched_strdup0(o != NULL ? o->app : "");
    op->comp = lt__sched_strdup0(o != NULL ? o->comp : "");
    op->version = lt__sched_strdup0(o != NULL ? o->version : "");
}

static plan_op *op_new(plan_ctx *x, const lt_sched_batch *b, size_t i)
{
    plan_op *op = lt_calloc(1, sizeof(*op));
    char label[LT_MAX_TOKEN * 4];

    if (op == NULL)
        return NULL;
    op->verb = b->verb;
    op->round = x->round;
    op->host = lt_strdup(b->host_id);
    if (b->verb == LT_SCHED_START) {
        const Latticed__Host__V1__InstanceSpec *si = b->starts[i];

        op->id = lt__sched_strdup0(si->instance_id);
        op->app = lt__sched_strdup0(si->app_name);
        op->comp = lt__sched_strdup0(si->component_name);
        op->version = lt__sched_strdup0(si->app_version);
        op->spec_len = latticed__host__v1__instance_spec__get_packed_size(si);
        op->spec = lt_malloc(op->spec_len + 1);
        if (op->spec != NULL)
            latticed__host__v1__instance_spec__pack(si, op->spec);
    } else if (b->verb == LT_SCHED_STOP) {
        op->id = lt__sched_strdup0(b->stops[i]->instance_id);
        obs_names(x, op, b->host_id, b->stops[i]->instance_id);
    } else if (b->verb == LT_SCHED_LINK) {
        const Latticed__Host__V1__LinkSpec *l = b->links[i];

        op->id = lt__sched_strdup0(l->link_id);
        obs_names(x, op, b->host_id, l->source_instance_id);
        snprintf(label, sizeof(label), "%s -(%s:%s/%s)-> %s", l->source_component_id,
                 l->wit_namespace, l->wit_package, l->name, l->target_component_id);
        op->detail = lt_strdup(label);
    } else {
        op->id = lt__sched_strdup0(b->unlinks[i]->link_id);
        obs_names(x, op, b->host_id, b->unlinks[i]->source_instance_id);
    }
    if (op->host == NULL || op->id == NULL || op->app == NULL || op->comp == NULL ||
        op->version == NULL || (b->verb == LT_SCHED_START && op->spec == NULL) ||
        (b->verb == LT_SCHED_LINK && op->detail == NULL)) {
        op_free(op);
        return NULL;
    }
    return op;
}

static void cap_send(void *arg, const lt_sched_batch *b)
{
    plan_ctx *x = arg;
    plan_batch *pb;
    size_t i;

    if (x->st != LT_OK || b->verb > LT_SCHED_UNLINK || b->host_id == NULL)
        return;
    pb = lt_calloc(1, sizeof(*pb));
    if (pb == NULL || (pb->host = lt_strdup(b->host_id)) == NULL ||
        lt__sched_pvec_push(&x->batches, pb) != LT_OK) {
        if (pb != NULL)
            lt_free(pb->host);
        lt_free(pb);
        x->st = LT_FAIL(LT_ERR_NOMEM, "plan batch");
        return;
    }
    pb->no = b->request_no;
    pb->verb = b->verb;
    pb->first = x->ops.len;
    for (i = 0; i < b->count; i++) {
        plan_op *op = op_new(x, b, i);

        if (op == NULL || lt__sched_pvec_push(&x->ops, op) != LT_OK) {
            op_free(op);
            x->st = LT_FAIL(LT_ERR_NOMEM, "plan item");
            return;
        }
        pb->n++;
    }
}

static void cap_status(void *arg, const char *app, lt_sched_state state, const char *json)
{
    (void)arg;
    (void)app;
    (void)state;
    (void)json;
}

static void cap_event(void *arg, const char *type, const ProtobufCMessage *msg)
{
    (void)arg;
    (void)type;
    (void)msg;
}

/* ---------------------------------------------------------------------------------------------
 * The shadow
 * ------------------------------------------------------------------------------------------- */

/* One heartbeat saying what the real scheduler knows of h, then h's flags and links. */
static lt_status host_copy(plan_ctx *x, const lt_sched *s, const sched_host *h, int64_t now)
{
    Latticed__Host__V1__Heartbeat hb = LATTICED__HOST__V1__HEARTBEAT__INIT;
    Latticed__Host__V1__Capacity cap = LATTICED__HOST__V1__CAPACITY__INIT;
    Latticed__Host__V1__Heartbeat__LabelsEntry *lab = NULL, **labp = NULL;
    Latticed__Host__V1__Instance *in = NULL, **inp = NULL;
    Latticed__Host__V1__ResourceRequests *res = NULL;
    Latticed__Host__V1__Instance__AnnotationsEntry *ann = NULL, **annp = NULL;
    char **links = NULL;
    const sched_obs *o;
    sched_host *sh;
    size_t i, n, nl = 0;
    lt_status st = LT_OK;

    lab = lt_calloc(h->labels.count + 1, sizeof(*lab));
    labp = lt_calloc(h->labels.count + 1, sizeof(*labp));
    in = lt_calloc(h->n_obs + 1, sizeof(*in));
    inp = lt_calloc(h->n_obs + 1, sizeof(*inp));
    res = lt_calloc(h->n_obs + 1, sizeof(*res));
    ann = lt_calloc(3 * (size_t)h->n_obs + 1, sizeof(*ann));
    annp = lt_calloc(3 * (size_t)h->n_obs + 1, sizeof(*annp));
    links = lt_calloc(h->links.count + 1, sizeof(*links));
    if (lab == NULL || labp == NULL || in == NULL || inp == NULL || res == NULL || ann == NULL ||
        annp == NULL || links == NULL) {
        st = LT_FAIL(LT_ERR_NOMEM, "plan heartbeat");
        goto out;
    }
    for (i = 0; i < h->labels.count; i++) {
        latticed__host__v1__heartbeat__labels_entry__init(&lab[i]);
        lab[i].key = h->labels.items[i].key;
        lab[i].value = h->labels.items[i].value;
        labp[i] = &lab[i];
    }
    /* Reported last first: the shadow prepends each, so its list has the leader's order (the
     * first running link target on a host is the local one, part of a link's digest). */
    for (n = 0, o = h->obs_head; o != NULL && n < h->n_obs; o = o->host_next, n++) {
        Latticed__Host__V1__Instance *e = &in[h->n_obs - 1 - n];

        latticed__host__v1__instance__init(e);
        latticed__host__v1__resource_requests__init(&res[n]);
        e->instance_id = o->id;
        e->state = (Latticed__Host__V1__InstanceState)o->state;
        e->app_name = (char *)o->app; /* borrowed for the copy; protobuf-c's fields are not const */
        e->app_version = (char *)o->version;
        e->component_name = (char *)o->comp;
        e->component_id = (char *)o->comp_id;
        e->image_ref = (char *)o->image;
        e->spec_digest = (char *)o->digest;
        e->message = (char *)o->message;
        e->placement = o->placement;
        e->restarts = o->restarts;
        res[n].memory_bytes = o->mem;
        res[n].cpu_millis = (uint32_t)o->cpu;
        e->resources = &res[n];
        if (o->managed) {
            const char *kv[3][2] = { { LT_SCHED_ANN_MANAGED_BY, LT_SCHED_MANAGER },
                                     { LT_SCHED_ANN_LATTICE, s->lattice },
                                     { LT_SCHED_ANN_APP, o->app } };

            for (i = 0; i < 3; i++) {
                latticed__host__v1__instance__annotations_entry__init(&ann[3 * n + i]);
                ann[3 * n + i].key = (char *)kv[i][0];
                ann[3 * n + i].value = (char *)kv[i][1];
                annp[3 * n + i] = &ann[3 * n + i];
            }
            e->annotations = &annp[3 * n];
            e->n_annotations = 3;
        }
        inp[h->n_obs - 1 - n] = e;
    }
    for (i = 0; i < h->links.cap; i++)
        if (h->links.slots[i].key != NULL)
            links[nl++] = (char *)h->links.slots[i].key;
    cap.memory_total_bytes = h->mem_total;
    cap.instance_slots_total = h->slots_total;
    cap.cpu_millis_total = h->cpu_total;
    hb.host_id = h->id;
    hb.lattice = s->lattice;
    hb.friendly_name = h->friendly;
    hb.version = h->version;
    hb.labels = labp;
    hb.n_labels = h->labels.count;
    hb.capacity = &cap;
    hb.instances = inp + (h->n_obs - n); /* n < n_obs only if the list were short */
    hb.n_instances = n;
    hb.sequence = 1;
    hb.interval_ms = h->interval_ms;
    hb.link_ids = links;
    hb.n_link_ids = nl;
    st = lt__sched_inv_heartbeat(x->sh, h->id, &hb, now, now); /* the copy's first view */
    if (st != LT_OK || (sh = lt__sched_inv_host(x->sh, h->id)) == NULL)
        goto out;
    sh->state = h->state;
    sh->stopping = h->stopping;
    sh->fenced = h->fenced;
    sh->quarantined = h->quarantined;
    sh->claimed_epoch = h->claimed_epoch;
    if ((st = lt_sched_set_host_mode(x->sh, h->id, h->mode, now)) != LT_OK) /* cordoned... */
        goto out;
    if (h->n_caps > 0 && (sh->caps = lt_calloc(h->n_caps + 1, sizeof(char *))) != NULL) {
        for (i = 0; i < h->n_caps && (sh->caps[i] = lt_strdup(h->caps[i])) != NULL; i++)
            sh->n_caps = i + 1;
        memcpy(sh->caps_digest, h->caps_digest, sizeof(sh->caps_digest));
    }
    for (o = h->obs_head; o != NULL; o = o->host_next) {
        sched_obs *so = lt__sched_inv_obs_on(x->sh, o->id, sh);

        for (i = 0; so != NULL && i < o->n_links; i++)
            lt__sched_out_acked_set(so, o->links[i].link_id, o->links[i].digest, o->links[i].at);
    }
    x->sh->inv_gen++;
out:
    lt_free(lab);
    lt_free(labp);
    lt_free(in);
    lt_free(inp);
    lt_free(res);
    lt_free(ann);
    lt_free(annp);
    lt_free(links);
    return st;
}

/* Give every shadow app's instance list the leader's order (which instance a pass picks
 * first follows it). */
static void app_order_copy(plan_ctx *x, const lt_sched *s)
{
    size_t i, n;

    for (i = 0; i < s->apps.cap; i++) {
        const sched_app *a = s->apps.slots[i].val;
        sched_app *sa;
        sched_obs **v;
        const sched_obs *o;

        if (s->apps.slots[i].key == NULL || (sa = lt_map_get(&x->sh->apps, a->name)) == NULL ||
            sa->n_obs != a->n_obs || a->n_obs == 0 || (v = lt_calloc(a->n_obs, sizeof(*v))) == NULL)
            continue;
        for (n = 0, o = a->obs_head; o != NULL && n < a->n_obs; o = o->app_next, n++) {
            v[n] = lt__sched_inv_obs_on(x->sh, o->id, lt__sched_inv_host(x->sh, o->host->id));
            if (v[n] == NULL || v[n]->owner != sa)
                break;
        }
        if (n == a->n_obs) {
            for (n = 0; n < a->n_obs; n++) {
                v[n]->app_prev = n > 0 ? v[n - 1] : NULL;
                v[n]->app_next = n + 1 < a->n_obs ? v[n + 1] : NULL;
            }
            sa->obs_head = v[0];
        }
        lt_free(v);
    }
}

/* The other apps: deployed ones with their spec borrowed, unreadable ones left alone. */
static lt_status apps_copy(plan_ctx *x, const lt_sched *s, const char *target, int64_t now)
{
    size_t i;
    lt_status st;

    for (i = 0; i < s->apps.cap; i++) {
        const sched_app *a = s->apps.slots[i].val;
        sched_app *sa;

        if (s->apps.slots[i].key == NULL || strcmp(a->name, target) == 0)
            continue;
        if (a->unreadable != NULL) {
            st = lt_sched_unreadable(x->sh, a->name, a->unreadable_version, a->unreadable, now);
            if (st != LT_OK)
                return st;
            continue;
        }
        if (!a->deployed || a->spec == NULL)
            continue;
        sa = lt__sched_app_get(x->sh, a->name, true);
        if (sa == NULL || lt__sched_pvec_push(&x->borrowed, sa) != LT_OK)
            return LT_FAIL(LT_ERR_NOMEM, "plan app");
        sa->spec = a->spec;
        sa->deployed = true;
        sa->deploy_seq = ++x->sh->deploy_seq;
    }
    return LT_OK;
}

static lt_status shadow_new(plan_ctx *x, const lt_sched *s, const char *target, int64_t now)
{
    lt_sched_config cfg = s->cfg;
    lt_sched_sink sink = { .arg = x, .send = cap_send, .status = cap_status, .event = cap_event };
    sched_app *a;
    size_t i;
    lt_status st;

    cfg.lattice = s->lattice;
    cfg.warmup_ms = -1;
    cfg.inventory_ms = -1;
    cfg.host_timeout_ms = PLAN_FOREVER_MS;
    cfg.command_timeout_ms = PLAN_FOREVER_MS;
    cfg.confirm_timeout_ms = PLAN_FOREVER_MS;
    cfg.full_pass_ms = PLAN_FOREVER_MS;
    st = lt_sched_new(&x->sh, &cfg, &sink, now);
    if (st != LT_OK)
        return st;
    lt_sched_set_leader(x->sh, true, 1, now);
    for (i = 0; i < s->host_list.len; i++)
        if ((st = host_copy(x, s, s->host_list.items[i], now)) != LT_OK)
            return st;
    if ((st = apps_copy(x, s, target, now)) != LT_OK)
        return st;
    app_order_copy(x, s);
    for (i = 0; i < s->sels.cap; i++) {
        const sched_sel *sel = s->sels.slots[i].val;
        sched_sel *ss;

        if (s->sels.slots[i].key != NULL &&
            (ss = lt__sched_inv_selector(x->sh, sel->key, &sel->req)) != NULL)
            ss->cursor = sel->cursor; /* the same hosts come first */
    }
    /* Only what the deploy touches is reconciled: the rest stays as the real leader has it. */
    while ((a = x->sh->dirty_head) != NULL) {
        x->sh->dirty_head = a->dirty_next;
        a->dirty = false;
    }
    x->sh->all_dirty = false;
    x->sh->hosts_changed = false;
    x->sh->last_full = now;
    return LT_OK;
}

/* ---------------------------------------------------------------------------------------------
 * Rounds: answer every command of the round as done, as a host would
 * ------------------------------------------------------------------------------------------- */

static void report_started(plan_ctx *x, const plan_op *op, int64_t now)
{
    Latticed__Host__V1__InstanceSpec *si;
    Latticed__Host__V1__Instance in = LATTICED__HOST__V1__INSTANCE__INIT;
    Latticed__Host__V1__InstanceStarted m = LATTICED__HOST__V1__INSTANCE_STARTED__INIT;

    si = latticed__host__v1__instance_spec__unpack(NULL, op->spec_len, op->spec);
    if (si == NULL) {
        x->st = LT_FAIL(LT_ERR_NOMEM, "plan start");
        return;
    }
    in.instance_id = si->instance_id;
    in.state = IS(RUNNING);
    in.app_name = si->app_name;
    in.app_version = si->app_version;
    in.component_name = si->component_name;
    in.component_id = si->component_id;
    in.image_ref = si->image_ref;
    /* Every map<string,string> entry of protobuf-c has one layout (pb_kv_entry): only the
     * keys and values are read. */
    in.annotations = (Latticed__Host__V1__Instance__AnnotationsEntry **)si->annotations;
    in.n_annotations = si->n_annotations;
    in.spec_digest = si->spec_digest;
    in.resources = si->resources;
    in.placement = (char *)"plan";
    m.host_id = op->host;
    m.lattice = x->sh->lattice;
    m.instance = &in;
    if (lt_sched_on_instance_started(x->sh, op->host, &m, now) != LT_OK)
        x->st = LT_FAIL(LT_ERR_STATE, "plan: start of %s not taken", op->id);
    latticed__host__v1__instance_spec__free_unpacked(si, NULL);
}

static void report_stopped(plan_ctx *x, const plan_op *op, int64_t now)
{
    Latticed__Host__V1__Instance in = LATTICED__HOST__V1__INSTANCE__INIT;
    Latticed__Host__V1__InstanceStopped m = LATTICED__HOST__V1__INSTANCE_STOPPED__INIT;

    in.instance_id = op->id;
    in.state = IS(STOPPED);
    m.host_id = op->host;
    m.lattice = x->sh->lattice;
    m.instance = &in;
    m.reason = (char *)"stop requested";
    if (lt_sched_on_instance_stopped(x->sh, op->host, &m, now) != LT_OK)
        x->st = LT_FAIL(LT_ERR_STATE, "plan: stop of %s not taken", op->id);
}

static void answer_round(plan_ctx *x, int64_t now)
{
    size_t i, j;

    for (i = 0; i < x->batches.len && x->st == LT_OK; i++) {
        plan_batch *pb = x->batches.items[i];
        Latticed__Host__V1__CommandReply reply = LATTICED__HOST__V1__COMMAND_REPLY__INIT;
        Latticed__Host__V1__ItemResult *res = lt_calloc(pb->n + 1, sizeof(*res));
        Latticed__Host__V1__ItemResult **resp = lt_calloc(pb->n + 1, sizeof(*resp));

        if (res == NULL || resp == NULL) {
            lt_free(res);
            lt_free(resp);
            x->st = LT_FAIL(LT_ERR_NOMEM, "plan reply");
            break;
        }
        for (j = 0; j < pb->n; j++) {
            const plan_op *op = x->ops.items[pb->first + j];

            latticed__host__v1__item_result__init(&res[j]);
            res[j].id = op->id;
            res[j].code = RC(OK);
            res[j].state = pb->verb == LT_SCHED_START  ? IS(RUNNING)
                           : pb->verb == LT_SCHED_STOP ? IS(STOPPED)
                                                       : IS(UNSPECIFIED);
            resp[j] = &res[j];
        }
        reply.host_id = pb->host;
        reply.code = RC(OK);
        reply.newest_epoch = 1;
        reply.results = resp;
        reply.n_results = pb->n;
        lt_sched_on_reply(x->sh, pb->no, &reply, LT_OK, now);
        for (j = 0; j < pb->n && x->st == LT_OK; j++) {
            const plan_op *op = x->ops.items[pb->first + j];

            if (pb->verb == LT_SCHED_START)
                report_started(x, op, now);
            else if (pb->verb == LT_SCHED_STOP)
                report_stopped(x, op, now);
        }
        lt_free(res);
        lt_free(resp);
    }
    for (i = 0; i < x->batches.len; i++) {
        plan_batch *pb = x->batches.items[i];

        lt_free(pb->host);
        lt_free(pb);
    }
    x->batches.len = 0;
}

/* Run the shadow until two ticks in a row send nothing (x->round: rounds that sent). */
static void run_rounds(plan_ctx *x, int64_t now)
{
    unsigned quiet = 0, step, next = 1;

    for (step = 0; step < 2 * LT_SCHED_PLAN_MAX_ROUNDS && quiet < 2 && x->st == LT_OK; step++) {
        size_t before = x->ops.len;

        if (next > LT_SCHED_PLAN_MAX_ROUNDS)
            break;
        x->round = next;
        now += PLAN_STEP_MS;
        (void)lt_sched_tick(x->sh, now);
        if (x->ops.len == before) {
            quiet++;
            continue;
        }
        quiet = 0;
        next++;
        answer_round(x, now);
    }
    x->round = next - 1;
    if (quiet < 2 && x->st == LT_OK)
        x->truncated = true;
}

static void ctx_cleanup(plan_ctx *x)
{
    size_t i;

    for (i = 0; i < x->borrowed.len; i++) {
        sched_app *a = x->borrowed.items[i];

        a->spec = NULL; /* the real scheduler's */
    }
    lt_sched_free(x->sh);
    for (i = 0; i < x->ops.len; i++)
        op_free(x->ops.items[i]);
    lt__sched_pvec_cleanup(&x->ops);
    for (i = 0; i < x->batches.len; i++) {
        plan_batch *pb = x->batches.items[i];

        lt_free(pb->host);
        lt_free(pb);
    }
    lt__sched_pvec_cleanup(&x->batches);
    lt__sched_pvec_cleanup(&x->borrowed);
}

lt_status lt_sched_plan_json(const lt_sched *s, const lt_model *m, int64_t now, lt_buf *out)
{
    plan_ctx x;
    lt_sched_spec *probe = NULL;
    const sched_app *real;
    lt_status st;

    memset(&x, 0, sizeof(x));
    st = lt__sched_spec_compile(m, s->lattice, s->cfg.wasmcloud_v2, &probe);
    if (st != LT_OK)
        return st;
    if (probe->version == NULL || probe->version[0] == '\0') {
        lt_sched_spec_free(probe);
        return LT_FAIL(LT_ERR_INVALID, "the manifest has no version annotation: give it one "
                                       "to plan (instance ids are derived from it)");
    }
    real = lt_map_get(&s->apps, probe->app);
    st = shadow_new(&x, s, probe->app, now);
    if (st == LT_OK)
        st = lt_sched_deploy(x.sh, m, now);
    if (st == LT_OK) {
        run_rounds(&x, now);
        st = x.st;
    }
    if (st == LT_OK)
        st = lt__sched_plan_write(&x, real != NULL && real->deployed ? real->spec : NULL, probe,
                                  now, out);
    lt_sched_spec_free(probe);
    ctx_cleanup(&x);
    return st;
}
