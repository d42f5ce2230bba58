/*
 * fence.c - what keeps a term safe in the core, without clocks of its own:
 *
 * - The inventory round. A new term (lt_sched_set_leader with a new epoch, or
 *   leading again after a pause) first sends an InventoryRequest with the new
 *   epoch to every known host. A host that accepts it will refuse the old
 *   leader from then on. Nothing is started, stopped or linked until every
 *   host answered or the round's time (inventory_ms) ran out. Each answer is
 *   folded in as the freshest heartbeat of that host (unless it may be older
 *   than what is known: lt__sched_inv_heartbeat in sched_int.h),
 *   and the links it lists become known as installed: links nobody wants any
 *   more (removed while no replica led) are then unlinked by the normal pass.
 * - Hosts that refuse our epoch (a STALE_EPOCH answer, or a heartbeat with a
 *   newer epoch) are fenced off at once: nothing is placed on them or sent to
 *   them. The sink's stale callback asks the lease owner who is wrong: it
 *   either steps down, raises the epoch (fences whose claim is below the new
 *   epoch are lifted), or confirms the claim is bogus (lt_sched_quarantine).
 *   One bad host never stalls the lattice: the others converge meanwhile.
 */
#include "sched_int.h"

#include <stdio.h>
#include <string.h>

#include "lt_alloc.h"
#include "lt_log.h"

#define RC(x) LATTICED__HOST__V1__RESULT_CODE__RESULT_CODE_##x
#define BCAST_MS 1000 /* how long a new term listens for hosts it did not know */

/* To h, or (h NULL) to every host of the lattice: those we know nothing of yet answer too. */
static void send_inventory(lt_sched *s, sched_host *h, int64_t now)
{
    lt_sched_batch b = { 0 };
    sched_req *r = lt__sched_out_req_new(s, h != NULL ? h->id : "", LT_SCHED_INVENTORY, now);

    if (r == NULL)
        return; /* out of memory: the round just does not wait for this host */
    b.verb = LT_SCHED_INVENTORY;
    b.host_id = h != NULL ? h->id : NULL;
    b.request_no = r->no;
    if (h != NULL)
        s->inv_waiting++;
    if (s->sink.send != NULL)
        s->sink.send(s->sink.arg, &b);
}

void lt__sched_fence_begin(lt_sched *s, int64_t now)
{
    size_t i;

    s->inv_waiting = 0;
    s->inv_until = s->bcast_until = 0;
    if (s->cfg.inventory_ms < 0)
        return;
    s->inv_until = now + s->cfg.inventory_ms;
    /* Hosts we never heard of (a fresh process, hosts with long heartbeat intervals) answer
     * the lattice-wide request; they get a short while, known hosts the whole round. */
    s->bcast_until = now + (s->cfg.inventory_ms < BCAST_MS ? s->cfg.inventory_ms : BCAST_MS);
    send_inventory(s, NULL, now);
    for (i = 0; i < s->host_list.len; i++) {
        sched_host *h = s->host_list.items[i];

        if (h->state == HOST_ALIVE)
            send_inventory(s, h, now);
    }
    if (s->inv_waiting > 0)
        LT_INFO("sched", "lattice %s: epoch %llu: asking %zu host(s) for their inventory first",
                s->lattice, (unsigned long long)s->epoch, s->inv_waiting);
}

bool lt__sched_fence_ready(const lt_sched *s, int64_t now)
{
    return (s->inv_waiting == 0 && now >= s->bcast_until) || now >= s->inv_until;
}

static void mark_host_apps(lt_sched *s, sched_host *h, int64_t now)
{
    sched_obs *o;

    for (o = h->obs_head; o != NULL; o = o->host_next)
        if (o->owner != NULL)
            lt__sched_mark_dirty(s, o->owner, now);
    s->inv_gen++;
    s->hosts_changed = true;
}

void lt__sched_fence_on_stale(lt_sched *s, sched_host *h, uint64_t claimed, int64_t now)
{
    if (!s->leading || claimed <= s->epoch)
        return;
    if (!h->fenced) {
        h->fenced = true;
        LT_WARN("sched",
                "lattice %s: host %s claims epoch %llu, newer than ours (%llu): nothing "
                "more goes to it until the lease is checked",
                s->lattice, h->id, (unsigned long long)claimed, (unsigned long long)s->epoch);
        mark_host_apps(s, h, now);
    }
    if (claimed > h->claimed_epoch) {
        h->claimed_epoch = claimed;
        if (s->sink.stale != NULL)
            s->sink.stale(s->sink.arg, h->id, claimed);
    }
}

void lt__sched_fence_lift(lt_sched *s, int64_t now)
{
    size_t i;

    for (i = 0; i < s->host_list.len; i++) {
        sched_host *h = s->host_list.items[i];

        if (!h->fenced || (s->leading && h->claimed_epoch > s->epoch))
            continue;
        if (s->leading)
            LT_INFO("sched", "lattice %s: host %s usable again (epoch %llu is above its claim)",
                    s->lattice, h->id, (unsigned long long)s->epoch);
        h->fenced = h->quarantined = false;
        h->claimed_epoch = 0;
        mark_host_apps(s, h, now);
    }
}

void lt__sched_fence_refused(lt_sched *s, const sched_req *r, sched_host *h, uint64_t claimed,
                             int64_t now)
{
    size_t i;

    for (i = 0; i < r->n; i++) {
        const req_item *it = &r->items[i];
        sched_start *st;
        sched_obs *o;

        switch (r->verb) {
        case LT_SCHED_START: /* not a failure of the app: place it elsewhere */
            st = lt_map_get(&s->starts_by_id, it->id);
            if (st != NULL && st->host == h) {
                sched_app *a = st->app;

                lt__sched_start_remove(s, st);
                if (a != NULL)
                    lt__sched_mark_dirty(s, a, now);
            }
            break;
        case LT_SCHED_STOP:
            o = h != NULL ? lt__sched_inv_obs_on(s, it->id, h) : NULL;
            if (o != NULL) {
                o->stop_sent = 0;
                if (o->owner != NULL)
                    lt__sched_mark_dirty(s, o->owner, now);
            }
            break;
        default:
            o = h != NULL && it->aux != NULL ? lt__sched_inv_obs_on(s, it->aux, h) : NULL;
            if (o != NULL)
                o->link_sent = 0;
            break;
        }
    }
    if (h != NULL)
        lt__sched_fence_on_stale(s, h, claimed, now);
}

void lt_sched_quarantine(lt_sched *s, const char *host_id, uint64_t claimed, int64_t now)
{
    sched_host *h = lt__sched_inv_host(s, host_id);

    if (h == NULL || !s->leading || claimed <= s->epoch)
        return;
    if (!h->fenced) {
        h->fenced = true;
        mark_host_apps(s, h, now);
    }
    if (claimed > h->claimed_epoch)
        h->claimed_epoch = claimed;
    if (h->quarantined)
        return;
    h->quarantined = true;
    LT_WARN("sched",
            "lattice %s: host %s quarantined: it claims epoch %llu, which no term had "
            "(ours is %llu); no placements on it until it restarts",
            s->lattice, h->id, (unsigned long long)h->claimed_epoch, (unsigned long long)s->epoch);
    lt__sched_cp_host_quarantined(s, h);
}

/* Links the host says it has: known as installed (content unknown), so the pass keeps or
 * removes them like links it sent itself. */
static void recover_links(lt_sched *s, sched_host *h, const Latticed__Host__V1__InventoryReply *rep,
                          int64_t now)
{
    size_t i;

    for (i = 0; i < rep->n_links; i++) {
        const Latticed__Host__V1__LinkSpec *l = rep->links[i];
        sched_obs *o;
        size_t k;

        if (l == NULL || l->link_id == NULL || l->source_instance_id == NULL)
            continue;
        o = lt__sched_inv_obs_on(s, l->source_instance_id, h);
        if (o == NULL)
            continue;
        for (k = 0; k < o->n_links; k++)
            if (strcmp(o->links[k].link_id, l->link_id) == 0)
                break;
        if (k == o->n_links) {
            static const char unknown[33] = ""; /* content unknown: never equal to a digest */

            lt__sched_out_acked_set(o, l->link_id, unknown, now);
            if (o->owner != NULL)
                lt__sched_mark_dirty(s, o->owner, now);
        }
    }
}

void lt_sched_on_inventory(lt_sched *s, uint64_t request_no,
                           const Latticed__Host__V1__InventoryReply *reply, lt_status transport,
                           int64_t now)
{
    char key[24];
    sched_req *r;
    sched_host *h;
    const char *hid;
    bool bcast;

    snprintf(key, sizeof(key), "%llu", (unsigned long long)request_no);
    r = lt_map_get(&s->reqs, key);
    if (r == NULL || r->verb != LT_SCHED_INVENTORY)
        return;
    bcast = r->host_id[0] == '\0'; /* many answers; it stays until the round's time is over */
    if (reply == NULL || reply->host_id == NULL ||
        (!bcast && strcmp(reply->host_id, r->host_id) != 0)) {
        if (reply == NULL && !bcast)
            LT_DEBUG("sched", "lattice %s: host %s: no inventory (%s)", s->lattice, r->host_id,
                     lt_status_str(transport));
        goto done;
    }
    hid = reply->host_id;
    h = lt__sched_inv_host(s, hid);
    if (reply->code == RC(STALE_EPOCH)) {
        if (h != NULL)
            lt__sched_fence_on_stale(s, h, reply->newest_epoch, now);
        goto done;
    }
    if (reply->code != RC(OK))
        goto done;
    if (reply->heartbeat != NULL &&
        lt__sched_inv_heartbeat(s, hid, reply->heartbeat, r->sent, now) != LT_OK)
        LT_DEBUG("sched", "lattice %s: host %s: inventory not usable: %s", s->lattice, hid,
                 lt_error_message());
    h = lt__sched_inv_host(s, hid); /* new, or replaced by a restarted host */
    if (h != NULL)
        recover_links(s, h, reply, now);
    lt__sched_cp_placed_flush(s); /* starts the inventory showed before their reply came */
done:
    if (!bcast)
        lt_sched_on_reply(s, request_no, NULL, LT_OK, now); /* closes the request */
}
