/*
 * fleet.c - the fake fleet of fleet.h: applies the scheduler's batches to
 * in-memory hosts as a thin host would, queues their answers until the tick
 * returns (the sink may not call back), and builds heartbeats.
 */
#include "fleet.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <check.h>

#include "google/protobuf/timestamp.pb-c.h"
#include "sched_int.h" /* lt__sched_check_consistent */

#define RC(x) LATTICED__HOST__V1__RESULT_CODE__RESULT_CODE_##x
#define IS(x) LATTICED__HOST__V1__INSTANCE_STATE__INSTANCE_STATE_##x

typedef struct reply {
    uint64_t no;
    size_t host;
    size_t n;
    int *codes;
    char msg[128];
    bool inv;   /* an inventory request */
    bool start; /* a start request */
    int whole;  /* != 0: whole-request refusal (STALE_EPOCH) */
    uint64_t newest;
    struct reply *next;
} reply;

static reply *replies_head, *replies_tail;

static void copy(char *dst, size_t n, const char *src)
{
    snprintf(dst, n, "%s", src != NULL ? src : "");
}

fleet_host *fleet_find(fleet *f, const char *id)
{
    size_t i;

    for (i = 0; i < f->n_hosts; i++)
        if (strcmp(f->hosts[i].id, id) == 0)
            return &f->hosts[i];
    return NULL;
}

static fleet_inst *find_inst(fleet_host *h, const char *id)
{
    size_t i;

    for (i = 0; i < h->n_inst; i++)
        if (strcmp(h->inst[i].id, id) == 0)
            return &h->inst[i];
    return NULL;
}

static int do_start(fleet *f, fleet_host *h, const Latticed__Host__V1__InstanceSpec *sp)
{
    fleet_inst *in = find_inst(h, sp->instance_id);
    size_t i;

    if (h->refuse_code != 0)
        return h->refuse_code;
    if (in != NULL && in->state != IS(FAILED))
        return strcmp(in->digest, sp->spec_digest) == 0 ? RC(ALREADY_DONE) : RC(OK);
    if (in == NULL) { /* a FAILED one is started afresh in its slot, as a host does */
        if (h->n_inst >= FLEET_MAX_INST || (h->slots != 0 && h->n_inst >= h->slots))
            return RC(NO_CAPACITY);
        in = &h->inst[h->n_inst++];
    }
    f->started++;
    memset(in, 0, sizeof(*in));
    in->since = f->now;
    snprintf(in->placement, sizeof(in->placement), "1.%llu", (unsigned long long)++h->starts);
    copy(in->id, sizeof(in->id), sp->instance_id);
    copy(in->app, sizeof(in->app), sp->app_name);
    copy(in->version, sizeof(in->version), sp->app_version);
    copy(in->comp, sizeof(in->comp), sp->component_name);
    copy(in->comp_id, sizeof(in->comp_id), sp->component_id);
    copy(in->image, sizeof(in->image), sp->image_ref);
    copy(in->digest, sizeof(in->digest), sp->spec_digest);
    for (i = 0; i < sp->n_annotations && i < 6; i++) {
        copy(in->anns[i][0], 64, sp->annotations[i]->key);
        copy(in->anns[i][1], 64, sp->annotations[i]->value);
        in->n_anns = i + 1;
    }
    for (i = 0; i < sp->n_config; i++) {
        size_t l = strlen(in->cfg);

        snprintf(in->cfg + l, sizeof(in->cfg) - l, "%s=%s;", sp->config[i]->key,
                 sp->config[i]->value);
    }
    in->mem = sp->resources != NULL ? sp->resources->memory_bytes : 0;
    in->state = IS(RUNNING);
    return RC(OK);
}

static void remove_links_of(fleet_host *h, const char *source)
{
    size_t i = 0;

    while (i < h->n_links) {
        if (strcmp(h->links[i].source, source) == 0)
            h->links[i] = h->links[--h->n_links];
        else
            i++;
    }
}

static int do_stop(fleet *f, fleet_host *h, const Latticed__Host__V1__StopItem *it)
{
    fleet_inst *in = find_inst(h, it->instance_id);
    const char *id = it->instance_id;

    copy(f->last_stop_placement, sizeof(f->last_stop_placement), it->placement);
    if (in == NULL)
        return RC(ALREADY_DONE);
    if (it->placement[0] != '\0' && strcmp(it->placement, in->placement) != 0) {
        f->stops_left_alone++; /* another incarnation: left alone, as a host does */
        return RC(ALREADY_DONE);
    }
    remove_links_of(h, id);
    *in = h->inst[--h->n_inst];
    return RC(OK);
}

static int do_link(fleet_host *h, const Latticed__Host__V1__LinkSpec *l)
{
    size_t i;
    fleet_link *fl = NULL;

    if (find_inst(h, l->source_instance_id) == NULL)
        return RC(NOT_FOUND);
    for (i = 0; i < h->n_links; i++)
        if (strcmp(h->links[i].link_id, l->link_id) == 0 &&
            strcmp(h->links[i].source, l->source_instance_id) == 0)
            fl = &h->links[i];
    if (fl == NULL) {
        if (h->n_links == 512)
            return RC(LIMIT_EXCEEDED);
        fl = &h->links[h->n_links++];
    }
    memset(fl, 0, sizeof(*fl));
    copy(fl->link_id, sizeof(fl->link_id), l->link_id);
    copy(fl->source, sizeof(fl->source), l->source_instance_id);
    copy(fl->target, sizeof(fl->target), l->target_instance_id);
    fl->local = l->local;
    for (i = 0; i < l->n_source_config; i++) {
        size_t n = strlen(fl->src_cfg);

        snprintf(fl->src_cfg + n, sizeof(fl->src_cfg) - n, "%s=%s;", l->source_config[i]->key,
                 l->source_config[i]->value);
    }
    return RC(OK);
}

static int do_unlink(fleet_host *h, const Latticed__Host__V1__UnlinkItem *u)
{
    size_t i;

    for (i = 0; i < h->n_links; i++)
        if (strcmp(h->links[i].link_id, u->link_id) == 0 &&
            (u->source_instance_id[0] == '\0' ||
             strcmp(h->links[i].source, u->source_instance_id) == 0)) {
            h->links[i] = h->links[--h->n_links];
            return RC(OK);
        }
    return RC(ALREADY_DONE);
}

/* lt_sched_batch.items_bytes: the items' packed sizes added up, which the driver's size bound
 * relies on (svc_driver.c). */
static size_t items_bytes(const lt_sched_batch *b)
{
    size_t i, sum = 0;

    for (i = 0; i < b->count; i++) {
        const ProtobufCMessage *m = b->verb == LT_SCHED_START  ? &b->starts[i]->base
                                    : b->verb == LT_SCHED_STOP ? &b->stops[i]->base
                                    : b->verb == LT_SCHED_LINK ? &b->links[i]->base
                                                               : &b->unlinks[i]->base;

        sum += protobuf_c_message_get_packed_size(m);
    }
    return sum;
}

static void on_send(void *arg, const lt_sched_batch *b)
{
    fleet *f = arg;
    fleet_host *h;

    if (b->verb != LT_SCHED_INVENTORY)
        ck_assert_uint_eq(b->items_bytes, items_bytes(b));

    if (b->host_id == NULL) { /* every host answers the lattice-wide inventory */
        for (size_t k = 0; k < f->n_hosts; k++) {
            lt_sched_batch one = *b;

            one.host_id = f->hosts[k].id;
            on_send(f, &one);
            f->batches[b->verb]--;
        }
        f->batches[b->verb]++;
        return;
    }
    if (f->on_batch != NULL)
        f->on_batch(f->on_batch_arg, b);
    h = fleet_find(f, b->host_id);
    reply *r;
    size_t i;
    uint64_t epoch = 0;

    f->sent[b->verb] += b->count;
    f->batches[b->verb]++;
    if (b->count > f->max_batch_seen)
        f->max_batch_seen = b->count;
    if (h == NULL || !h->up)
        return; /* a dead host never answers: the scheduler times out */
    r = calloc(1, sizeof(*r));
    r->no = b->request_no;
    r->host = (size_t)(h - f->hosts);
    r->n = b->count;
    r->codes = calloc(b->count + 1, sizeof(int));
    r->inv = b->verb == LT_SCHED_INVENTORY;
    r->start = b->verb == LT_SCHED_START;
    copy(r->msg, sizeof(r->msg), h->refuse_msg);
    lt_sched_leading(f->s, &epoch);
    if (epoch < h->newest_epoch) { /* the fence of a real host */
        r->whole = RC(STALE_EPOCH);
        r->n = 0;
    } else {
        h->newest_epoch = epoch;
    }
    r->newest = h->newest_epoch;
    for (i = 0; i < r->n; i++) {
        switch (b->verb) {
        case LT_SCHED_START:
            r->codes[i] = do_start(f, h, b->starts[i]);
            break;
        case LT_SCHED_STOP:
            r->codes[i] = do_stop(f, h, b->stops[i]);
            break;
        case LT_SCHED_LINK:
            r->codes[i] = do_link(h, b->links[i]);
            break;
        case LT_SCHED_UNLINK:
            r->codes[i] = do_unlink(h, b->unlinks[i]);
            break;
        case LT_SCHED_INVENTORY:
            break;
        }
    }
    if (replies_tail != NULL)
        replies_tail->next = r;
    else
        replies_head = r;
    replies_tail = r;
}

/* An inventory answer: the host's heartbeat first (the scheduler folds the same data), then
 * the reply with the links it carries. */
static void deliver_inventory(fleet *f, reply *r)
{
    Latticed__Host__V1__InventoryReply ir = LATTICED__HOST__V1__INVENTORY_REPLY__INIT;
    fleet_host *h = &f->hosts[r->host];
    Latticed__Host__V1__LinkSpec *ls = calloc(h->n_links + 1, sizeof(*ls));
    Latticed__Host__V1__LinkSpec **lp = calloc(h->n_links + 1, sizeof(*lp));
    size_t i;

    if (r->whole == 0)
        fleet_heartbeat(f, h);
    for (i = 0; i < h->n_links; i++) {
        static const Latticed__Host__V1__LinkSpec init = LATTICED__HOST__V1__LINK_SPEC__INIT;

        ls[i] = init;
        ls[i].link_id = h->links[i].link_id;
        ls[i].source_instance_id = h->links[i].source;
        lp[i] = &ls[i];
    }
    ir.host_id = h->id;
    ir.code = r->whole != 0 ? r->whole : RC(OK);
    ir.newest_epoch = r->newest;
    ir.n_links = r->whole != 0 ? 0 : h->n_links;
    ir.links = lp;
    f->inventories++;
    lt_sched_on_inventory(f->s, r->no, &ir, LT_OK, f->now);
    free(ls);
    free(lp);
}

static void deliver(fleet *f)
{
    while (replies_head != NULL && !f->hold_replies) {
        reply *r = replies_head;
        Latticed__Host__V1__CommandReply cr = LATTICED__HOST__V1__COMMAND_REPLY__INIT;
        Latticed__Host__V1__ItemResult *res = calloc(r->n + 1, sizeof(*res));
        Latticed__Host__V1__ItemResult **rp = calloc(r->n + 1, sizeof(*rp));
        size_t i;

        replies_head = r->next;
        if (replies_head == NULL)
            replies_tail = NULL;
        if (r->inv) {
            deliver_inventory(f, r);
            free(res);
            free(rp);
            free(r->codes);
            free(r);
            continue;
        }
        for (i = 0; i < r->n; i++) {
            static const Latticed__Host__V1__ItemResult init =
                LATTICED__HOST__V1__ITEM_RESULT__INIT;

            res[i] = init;
            res[i].code = r->codes[i];
            if (r->start && r->codes[i] == RC(OK))
                res[i].state = f->reply_state;
            res[i].message =
                r->codes[i] == RC(OK) || r->codes[i] == RC(ALREADY_DONE) ? (char *)"" : r->msg;
            rp[i] = &res[i];
        }
        cr.host_id = f->hosts[r->host].id;
        cr.code = r->whole != 0 ? r->whole : RC(OK);
        cr.newest_epoch = r->newest;
        cr.n_results = r->n;
        cr.results = rp;
        lt_sched_on_reply(f->s, r->no, &cr, LT_OK, f->now);
        free(res);
        free(rp);
        free(r->codes);
        free(r);
    }
}

static void on_status(void *arg, const char *app, lt_sched_state state, const char *json)
{
    fleet *f = arg;
    size_t i;

    (void)state;
    f->statuses++;
    for (i = 0; i < f->n_status; i++)
        if (strcmp(f->last_status[i][0], app) == 0)
            break;
    if (i == f->n_status) {
        if (f->n_status == 64)
            return;
        f->n_status++;
    }
    copy(f->last_status[i][0], sizeof(f->last_status[i][0]), app);
    copy(f->last_status[i][1], sizeof(f->last_status[i][1]), json);
}

/* An instances.placed event: count it and its items, and check each item against the fleet:
 * the instance runs (or starts) on the event's host with that app, version, component, image. */
static void on_placed(fleet *f, const Latticed__Cp__V1__InstancesPlaced *m)
{
    fleet_host *h = NULL;
    size_t i, k;

    f->ev_placed_events++;
    f->ev_placed += m->n_instances;
    for (k = 0; k < f->n_hosts; k++)
        if (strcmp(f->hosts[k].id, m->host_id) == 0)
            h = &f->hosts[k];
    if (h == NULL || m->n_instances == 0 || m->epoch == 0 || m->time == NULL ||
        strcmp(m->lattice, f->lattice) != 0) {
        f->ev_placed_wrong += m->n_instances > 0 ? m->n_instances : 1;
        return;
    }
    for (i = 0; i < m->n_instances; i++) {
        const Latticed__Cp__V1__InstancePlaced *it = m->instances[i];
        const fleet_inst *x = NULL;

        for (k = 0; k < h->n_inst; k++)
            if (strcmp(h->inst[k].id, it->instance_id) == 0)
                x = &h->inst[k];
        if (x == NULL || strcmp(x->app, it->app) != 0 || strcmp(x->version, it->version) != 0 ||
            strcmp(x->comp, it->component) != 0 || strcmp(x->image, it->image_ref) != 0 ||
            it->lattice[0] != '\0' || it->host_id[0] != '\0' || it->time != NULL)
            f->ev_placed_wrong++;
    }
}

static void on_event(void *arg, const char *type, const ProtobufCMessage *msg)
{
    fleet *f = arg;

    f->events++;
    if (strcmp(type, "host.lost") == 0)
        f->ev_host_lost++;
    else if (strcmp(type, "app.deployed") == 0)
        f->ev_app_deployed++;
    else if (strcmp(type, "app.failed") == 0)
        f->ev_app_failed++;
    else if (strcmp(type, "instances.placed") == 0)
        on_placed(f, (const Latticed__Cp__V1__InstancesPlaced *)(const void *)msg);
    else if (strcmp(type, "instance.lost") == 0)
        f->ev_inst_lost++;
    else if (strcmp(type, "app.undeployed") == 0)
        f->ev_undeployed++;
    else if (strcmp(type, "host.quarantined") == 0)
        f->ev_quarantined++;
}

static void on_stale(void *arg, const char *host_id, uint64_t claimed)
{
    fleet *f = arg;

    f->stale_calls++;
    copy(f->stale_host, sizeof(f->stale_host), host_id);
    f->stale_claimed = claimed;
}

fleet *fleet_new(const char *lattice, const lt_sched_config *cfg)
{
    fleet *f = calloc(1, sizeof(*f));
    lt_sched_config c = { 0 };
    lt_sched_sink sink = {
        .arg = f, .send = on_send, .status = on_status, .event = on_event, .stale = on_stale
    };

    if (cfg != NULL)
        c = *cfg;
    c.lattice = lattice;
    snprintf(f->lattice, sizeof(f->lattice), "%s", lattice);
    if (c.default_interval_ms == 0)
        c.default_interval_ms = 1000;
    if (c.warmup_ms == 0)
        c.warmup_ms = -1;
    if (c.inventory_ms == 0)
        c.inventory_ms = 1; /* fleet hosts answer at once: a round is over after a step */
    if (c.debounce_ms == 0)
        c.debounce_ms = 1;
    f->now = 1000000;
    if (lt_sched_new(&f->s, &c, &sink, f->now) != LT_OK) {
        free(f);
        return NULL;
    }
    lt_sched_set_leader(f->s, true, 1, f->now);
    return f;
}

void fleet_free(fleet *f)
{
    size_t i;

    if (f == NULL)
        return;
    FLEET_CHECK(f);
    lt_sched_free(f->s);
    while (replies_head != NULL) {
        reply *r = replies_head;

        replies_head = r->next;
        free(r->codes);
        free(r);
    }
    replies_tail = NULL;
    for (i = 0; i < f->n_hosts; i++)
        free(f->hosts[i].inst);
    free(f);
}

/* Parse "k=v,k=v" into heartbeat label entries (caller frees both arrays). */
static size_t labels_of(const char *spec, Latticed__Host__V1__Heartbeat__LabelsEntry **arr,
                        Latticed__Host__V1__Heartbeat__LabelsEntry ***parr, char *buf, size_t bn)
{
    size_t n = 0, i;
    char *p;

    copy(buf, bn, spec);
    for (p = buf; *p != '\0'; p++)
        n += *p == '=';
    *arr = calloc(n + 1, sizeof(**arr));
    *parr = calloc(n + 1, sizeof(**parr));
    p = buf;
    for (i = 0; i < n; i++) {
        static const Latticed__Host__V1__Heartbeat__LabelsEntry init =
            LATTICED__HOST__V1__HEARTBEAT__LABELS_ENTRY__INIT;
        char *eq = strchr(p, '='), *comma;

        (*arr)[i] = init;
        *eq = '\0';
        (*arr)[i].key = p;
        (*arr)[i].value = eq + 1;
        comma = strchr(eq + 1, ',');
        if (comma != NULL) {
            *comma = '\0';
            p = comma + 1;
        }
        (*parr)[i] = &(*arr)[i];
    }
    return n;
}

/* Fill *in from fi; an/ap have room for fi's annotations. Borrows fi's strings. */
static void fill_inst(fleet_inst *fi, Latticed__Host__V1__Instance *in,
                      Latticed__Host__V1__Instance__AnnotationsEntry *an,
                      Latticed__Host__V1__Instance__AnnotationsEntry **ap,
                      Latticed__Host__V1__ResourceRequests *rr)
{
    static const Latticed__Host__V1__Instance init = LATTICED__HOST__V1__INSTANCE__INIT;
    static const Latticed__Host__V1__ResourceRequests rinit =
        LATTICED__HOST__V1__RESOURCE_REQUESTS__INIT;
    size_t j;

    *in = init;
    in->instance_id = fi->id;
    in->state = fi->state;
    in->app_name = fi->app;
    in->app_version = fi->version;
    in->component_name = fi->comp;
    in->component_id = fi->comp_id;
    in->image_ref = fi->image;
    in->spec_digest = fi->digest;
    in->message = fi->msg;
    in->placement = fi->placement;
    in->annotations = ap;
    for (j = 0; j < fi->n_anns; j++) {
        static const Latticed__Host__V1__Instance__AnnotationsEntry ainit =
            LATTICED__HOST__V1__INSTANCE__ANNOTATIONS_ENTRY__INIT;

        an[j] = ainit;
        an[j].key = fi->anns[j][0];
        an[j].value = fi->anns[j][1];
        ap[j] = &an[j];
    }
    in->n_annotations = fi->n_anns;
    *rr = rinit;
    rr->memory_bytes = fi->mem;
    in->resources = rr;
}

void fleet_heartbeat(fleet *f, fleet_host *h)
{
    Latticed__Host__V1__Heartbeat hb = LATTICED__HOST__V1__HEARTBEAT__INIT;
    Latticed__Host__V1__Capacity cap = LATTICED__HOST__V1__CAPACITY__INIT;
    Google__Protobuf__Timestamp started = GOOGLE__PROTOBUF__TIMESTAMP__INIT;
    Latticed__Host__V1__Heartbeat__LabelsEntry *le, **lp;
    Latticed__Host__V1__Instance *in = calloc(h->n_inst + 1, sizeof(*in));
    Latticed__Host__V1__Instance **ip = calloc(h->n_inst + 1, sizeof(*ip));
    Latticed__Host__V1__Instance__AnnotationsEntry *an = calloc(h->n_inst * 6 + 1, sizeof(*an));
    Latticed__Host__V1__Instance__AnnotationsEntry **ap = calloc(h->n_inst * 6 + 1, sizeof(*ap));
    Latticed__Host__V1__ResourceRequests *rr = calloc(h->n_inst + 1, sizeof(*rr));
    char **lids = calloc(h->n_links + 1, sizeof(*lids));
    char lbuf[256];
    size_t i, j, k = 0, nl = 0;

    hb.n_labels = labels_of(h->labels, &le, &lp, lbuf, sizeof(lbuf));
    hb.labels = lp;
    hb.host_id = h->id;
    hb.lattice = "";
    cap.instance_slots_total = h->slots;
    cap.memory_total_bytes = h->mem;
    hb.capacity = &cap;
    started.seconds = 1700000000 + (int64_t)(h - f->hosts);
    hb.started_at = &started;
    hb.sequence = ++h->seq;
    hb.interval_ms = 1000;
    hb.newest_epoch = h->newest_epoch;
    for (i = 0; i < h->n_inst; i++) {
        fill_inst(&h->inst[i], &in[i], &an[k], &ap[k], &rr[i]);
        k += h->inst[i].n_anns;
        ip[i] = &in[i];
    }
    hb.n_instances = h->n_inst;
    hb.instances = ip;
    for (i = 0; i < h->n_links; i++) {
        for (j = 0; j < nl; j++)
            if (strcmp(lids[j], h->links[i].link_id) == 0)
                break;
        if (j == nl)
            lids[nl++] = h->links[i].link_id;
    }
    hb.n_link_ids = nl;
    hb.link_ids = lids;
    {
        Latticed__Host__V1__WitCapability wc[16], *wcp[16];
        char cbuf[256], *save = NULL, *tok, *colon, *slash, *ifp[16];
        size_t nc = 0;

        copy(cbuf, sizeof(cbuf), h->caps);
        for (tok = strtok_r(cbuf, ",", &save); tok != NULL && nc < 16;
             tok = strtok_r(NULL, ",", &save)) {
            if ((colon = strchr(tok, ':')) == NULL || (slash = strchr(colon, '/')) == NULL)
                continue;
            *colon = *slash = '\0';
            wc[nc] = (Latticed__Host__V1__WitCapability)LATTICED__HOST__V1__WIT_CAPABILITY__INIT;
            wc[nc].namespace_ = tok;
            wc[nc].package = colon + 1;
            wc[nc].n_interfaces = 1;
            ifp[nc] = slash + 1;
            wc[nc].interfaces = &ifp[nc];
            wcp[nc] = &wc[nc];
            nc++;
        }
        hb.n_capabilities = nc;
        hb.capabilities = wcp;
        if (lt_sched_on_heartbeat(f->s, h->id, &hb, f->now) != LT_OK)
            fprintf(stderr, "heartbeat of %s refused: %s\n", h->id, lt_error_message());
    }
    free(le);
    free(lp);
    free(in);
    free(ip);
    free(an);
    free(ap);
    free(rr);
    free(lids);
}

fleet_host *fleet_host_add(fleet *f, const char *id, const char *labels, uint32_t slots,
                           uint64_t mem)
{
    fleet_host *h = &f->hosts[f->n_hosts++];

    memset(h, 0, sizeof(*h));
    copy(h->id, sizeof(h->id), id);
    copy(h->labels, sizeof(h->labels), labels);
    h->slots = slots;
    h->mem = mem;
    h->up = true;
    h->inst = calloc(FLEET_MAX_INST, sizeof(fleet_inst));
    fleet_heartbeat(f, h);
    return h;
}

void fleet_host_stop(fleet *f, const char *id)
{
    Latticed__Host__V1__HostStopping m = LATTICED__HOST__V1__HOST_STOPPING__INIT;
    fleet_host *h = fleet_find(f, id);

    h->up = false;
    h->n_inst = 0;
    h->n_links = 0;
    m.host_id = h->id;
    m.reason = "test";
    if (lt_sched_on_host_stopping(f->s, id, &m, f->now) != LT_OK)
        fprintf(stderr, "host.stopping refused\n");
    FLEET_CHECK(f);
}

void fleet_foreign(fleet *f, const char *host, const char *id, const char *comp_id)
{
    fleet_host *h = fleet_find(f, host);
    fleet_inst *in = &h->inst[h->n_inst++];

    memset(in, 0, sizeof(*in));
    copy(in->id, sizeof(in->id), id);
    copy(in->comp_id, sizeof(in->comp_id), comp_id);
    copy(in->comp, sizeof(in->comp), comp_id);
    in->state = IS(RUNNING);
    in->foreign = true;
}

/* Instance in of host h crashes: FAILED with msg, and instance.failed when event. */
static void crash(fleet *f, fleet_host *h, fleet_inst *in, const char *msg, bool event)
{
    Latticed__Host__V1__InstanceFailed m = LATTICED__HOST__V1__INSTANCE_FAILED__INIT;
    Latticed__Host__V1__Instance pb;
    Latticed__Host__V1__Instance__AnnotationsEntry an[6], *ap[6];
    Latticed__Host__V1__ResourceRequests rr;

    in->state = IS(FAILED);
    copy(in->msg, sizeof(in->msg), msg);
    if (!event)
        return;
    fill_inst(in, &pb, an, ap, &rr);
    m.host_id = h->id;
    m.lattice = "";
    m.instance = &pb;
    m.code = RC(START_FAILED);
    m.message = in->msg;
    m.will_restart = false;
    if (lt_sched_on_instance_failed(f->s, h->id, &m, f->now) != LT_OK)
        fprintf(stderr, "instance.failed of %s refused: %s\n", in->id, lt_error_message());
}

size_t fleet_fail(fleet *f, const char *host, const char *app, const char *comp, size_t max,
                  const char *msg, bool event)
{
    size_t i, j, n = 0;

    for (i = 0; i < f->n_hosts && n < max; i++) {
        fleet_host *h = &f->hosts[i];

        if (!h->up || (host != NULL && strcmp(h->id, host) != 0))
            continue;
        for (j = 0; j < h->n_inst && n < max; j++) {
            fleet_inst *in = &h->inst[j];

            if (in->foreign || in->state != IS(RUNNING) || strcmp(in->app, app) != 0 ||
                (comp != NULL && strcmp(in->comp, comp) != 0))
                continue;
            crash(f, h, in, msg, event);
            n++;
        }
    }
    FLEET_CHECK(f);
    return n;
}

/* The crash-after fault: instances that ran crash_after_ms fail. */
static void crash_due(fleet *f)
{
    size_t i, j;

    for (i = 0; i < f->n_hosts && f->crash_after_ms > 0; i++) {
        fleet_host *h = &f->hosts[i];

        for (j = 0; h->up && j < h->n_inst; j++) {
            fleet_inst *in = &h->inst[j];

            if (f->crash_limit != 0 && f->crashes >= f->crash_limit)
                return;
            if (in->foreign || in->state != IS(RUNNING) ||
                strstr(in->image, f->crash_image) == NULL || f->now - in->since < f->crash_after_ms)
                continue;
            f->crashes++;
            crash(f, h, in, f->crash_msg, f->crash_events);
        }
    }
}

void fleet_step(fleet *f, int64_t ms)
{
    size_t i;

    f->now += ms;
    crash_due(f);
    for (i = 0; i < f->n_hosts; i++) {
        fleet_host *h = &f->hosts[i];

        if (f->hb_interval > 0) {
            if (f->now < h->hb_next)
                continue;
            while (h->hb_next <= f->now)
                h->hb_next += f->hb_interval; /* silent hosts keep their place in the round */
        }
        if (h->up)
            fleet_heartbeat(f, h);
    }
    if (f->answer_late)
        deliver(f);
    lt_sched_tick(f->s, f->now);
    if (!f->answer_late)
        deliver(f);
    FLEET_CHECK(f);
}

void fleet_check_at(const fleet *f, const char *file, int line)
{
    lt_status st = lt__sched_check_consistent(f->s);

    ck_assert_msg(st == LT_OK, "%s:%d: scheduler inventory inconsistent: %s", file, line,
                  lt_error_message());
}

void fleet_stagger(fleet *f, int64_t interval_ms)
{
    size_t i;

    f->hb_interval = interval_ms;
    for (i = 0; i < f->n_hosts; i++)
        f->hosts[i].hb_next = f->now + (int64_t)i * interval_ms / (int64_t)f->n_hosts;
}

int fleet_settle(fleet *f, int max_steps)
{
    int steps, quiet = 0;

    for (steps = 0; steps < max_steps && quiet < 8; steps++) {
        size_t before = f->sent[0] + f->sent[1] + f->sent[2] + f->sent[3];

        fleet_step(f, 100);
        if (f->sent[0] + f->sent[1] + f->sent[2] + f->sent[3] == before && replies_head == NULL)
            quiet++;
        else
            quiet = 0;
    }
    return steps;
}

size_t fleet_count(const fleet *f, const char *host, const char *app, const char *comp)
{
    size_t i, j, n = 0;

    for (i = 0; i < f->n_hosts; i++) {
        const fleet_host *h = &f->hosts[i];

        if (host != NULL && strcmp(h->id, host) != 0)
            continue;
        for (j = 0; j < h->n_inst; j++)
            if ((app == NULL || strcmp(h->inst[j].app, app) == 0) &&
                (comp == NULL || strcmp(h->inst[j].comp, comp) == 0) && !h->inst[j].foreign)
                n++;
    }
    return n;
}

size_t fleet_count_version(const fleet *f, const char *app, const char *comp, const char *version)
{
    size_t i, j, n = 0;

    for (i = 0; i < f->n_hosts; i++)
        for (j = 0; j < f->hosts[i].n_inst; j++) {
            const fleet_inst *in = &f->hosts[i].inst[j];

            if (strcmp(in->app, app) == 0 && strcmp(in->comp, comp) == 0 &&
                strcmp(in->version, version) == 0)
                n++;
        }
    return n;
}

size_t fleet_max_per_host(const fleet *f, const char *app, const char *comp)
{
    size_t i, best = 0;

    for (i = 0; i < f->n_hosts; i++) {
        size_t n = fleet_count(f, f->hosts[i].id, app, comp);

        if (n > best)
            best = n;
    }
    return best;
}

size_t fleet_links(const fleet *f, const char *cfg_sub, size_t *local)
{
    size_t i, j, n = 0;

    if (local != NULL)
        *local = 0;
    for (i = 0; i < f->n_hosts; i++)
        for (j = 0; j < f->hosts[i].n_links; j++) {
            const fleet_link *l = &f->hosts[i].links[j];

            if (cfg_sub != NULL && strstr(l->src_cfg, cfg_sub) == NULL)
                continue;
            n++;
            if (local != NULL && l->local)
                (*local)++;
        }
    return n;
}

const char *fleet_status(const fleet *f, const char *app)
{
    size_t i;

    for (i = 0; i < f->n_status; i++)
        if (strcmp(f->last_status[i][0], app) == 0)
            return f->last_status[i][1];
    return "";
}

lt_sched_state fleet_state(const fleet *f, const char *app)
{
    lt_sched_app_status st;

    if (lt_sched_app_status_get(f->s, app, &st) != LT_OK)
        return LT_SCHED_UNDEPLOYED;
    return st.state;
}
