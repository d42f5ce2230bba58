/*
 * links.c - links of one app's instances: for every running source instance,
 * the links it should carry (its own app's, plus those other apps declare on
 * a shared component), marked local when a target instance shares the host;
 * install what is missing or changed (config values are updated in place),
 * remove what is no longer wanted, and compute each declared link's status.
 */
#include "sched_int.h"

#include <stdio.h>
#include <string.h>

#include "lt_alloc.h"

#define IS(st) LATTICED__HOST__V1__INSTANCE_STATE__INSTANCE_STATE_##st
#define REASON(x) LATTICED__CP__V1__APP_FAILURE_REASON__APP_FAILURE_REASON_##x

static bool busy(const lt_sched *s, const sched_obs *o, int64_t now)
{
    return (o->stop_sent != 0 && now - o->stop_sent < 2 * s->cfg.command_timeout_ms) ||
           (o->link_sent != 0 && now - o->link_sent < 2 * s->cfg.command_timeout_ms);
}

/* A running instance of the link's target on the same host as o, or NULL. */
static const sched_obs *local_target(const spec_link *l, const sched_obs *o)
{
    const sched_obs *t;

    if (l->target_comp[0] == '\0')
        return NULL;
    for (t = o->host->obs_head; t != NULL; t = t->host_next)
        if (t->owner != NULL && t->state == IS(RUNNING) && t->stop_sent == 0 &&
            strcmp(t->owner->name, l->target_app) == 0 && strcmp(t->comp, l->target_comp) == 0)
            return t;
    return NULL;
}

/* Content digest of l as installed for o (the local target is part of it). */
static void link_digest(const spec_link *l, const sched_obs *t, char *out)
{
    sched_sha h;

    lt__sched_sha_init(&h);
    lt__sched_sha_str(&h, l->digest);
    lt__sched_sha_update(&h, "/", 1);
    lt__sched_sha_str(&h, t != NULL ? t->id : "");
    lt__sched_sha_hex(&h, out, 32);
}

static const acked_link *acked_find(const sched_obs *o, const char *link_id)
{
    size_t i;

    for (i = 0; i < o->n_links; i++)
        if (strcmp(o->links[i].link_id, link_id) == 0)
            return &o->links[i];
    return NULL;
}

/* Installed as acknowledged, and the host still lists it (after heartbeat lag). */
static bool installed(const lt_sched *s, const sched_obs *o, const acked_link *e,
                      const char *digest, int64_t now)
{
    int64_t lag = 2 * (int64_t)(o->host->interval_ms != 0 ? o->host->interval_ms
                                                          : s->cfg.default_interval_ms);

    if (e == NULL || strcmp(e->digest, digest) != 0)
        return false;
    return lt_map_get(&o->host->links, e->link_id) != NULL || now - e->at < lag;
}

static bool in_backoff(lt_sched *s, const spec_link *l, int64_t now)
{
    sched_app *d = lt__sched_app_get(s, l->app, false);
    link_rt *r = d != NULL ? lt__sched_link_rt(d, l->link_id, false) : NULL;

    return r != NULL && now < r->retry_at;
}

/* The links o should carry: its own app's for its component, then foreign ones. */
static void wanted_links(lt_sched *s, const sched_app *a, const sched_obs *o, pvec *out)
{
    const spec_comp *c = a->spec != NULL ? lt__sched_spec_find(a->spec, o->comp) : NULL;
    const pvec *foreign;
    char key[512];
    size_t i;

    if (c != NULL && c->shared_app == NULL)
        for (i = 0; i < c->n_links; i++)
            LT_IGNORE(lt__sched_pvec_push(out, &c->links[i]));
    snprintf(key, sizeof(key), "%s/%s", a->name, o->comp);
    foreign = lt_map_get(&s->shared_links, key);
    for (i = 0; foreign != NULL && i < foreign->len; i++)
        LT_IGNORE(lt__sched_pvec_push(out, foreign->items[i]));
}

static void links_of_obs(lt_sched *s, sched_app *a, sched_obs *o, int64_t now)
{
    pvec want = { 0 };
    bool sent = false, keep_all;
    size_t i, j;

    if (o->state != IS(RUNNING) || !HOST_USABLE(o->host) || busy(s, o, now))
        return;
    /* While the app is undeployed but its shared component is still used, links stay. */
    keep_all = a->spec == NULL;
    if (a->deployed || a->spec != NULL)
        wanted_links(s, a, o, &want);
    for (i = 0; i < want.len; i++) {
        const spec_link *l = want.items[i];
        const sched_obs *t = local_target(l, o);
        char digest[33];

        link_digest(l, t, digest);
        if (installed(s, o, acked_find(o, l->link_id), digest, now) || in_backoff(s, l, now))
            continue;
        if (lt__sched_out_link(s, o->host, l, o->id, t != NULL ? t->id : "", digest) == LT_OK) {
            sched_app *d = lt__sched_app_get(s, l->app, false); /* failures are its status */
            const link_rt *r = d != NULL ? lt__sched_link_rt(d, l->link_id, false) : NULL;

            if (r != NULL && r->failures > 0) /* sent again after it failed */
                s->n_cmd_retried[LT_SCHED_LINK]++;
            sent = true;
        }
    }
    for (i = 0; i < o->n_links && !keep_all; i++) {
        for (j = 0; j < want.len; j++)
            if (strcmp(((const spec_link *)want.items[j])->link_id, o->links[i].link_id) == 0)
                break;
        if (j == want.len && lt__sched_out_unlink(s, o->host, o->links[i].link_id, o->id) == LT_OK)
            sent = true;
    }
    if (sent)
        o->link_sent = now;
    lt__sched_pvec_cleanup(&want);
}

/* Status of one declared link: how many running source instances carry it. */
static void link_status(lt_sched *s, sched_app *a, const spec_link *l, int64_t now)
{
    link_rt *r = lt__sched_link_rt(a, l->link_id, true);
    sched_app *src =
        strcmp(l->source_app, a->name) == 0 ? a : lt__sched_app_get(s, l->source_app, false);
    const sched_obs *o;
    char label[1024], msg[1200];

    if (r == NULL)
        return;
    r->want = r->done = 0;
    r->pass = a->pass;
    for (o = src != NULL ? src->obs_head : NULL; o != NULL; o = o->app_next) {
        if (o->state != IS(RUNNING) || strcmp(o->comp, l->source_comp) != 0 || o->stop_sent != 0)
            continue;
        r->want++;
        r->done += acked_find(o, l->link_id) != NULL;
    }
    snprintf(label, sizeof(label), "%s -(%s:%s)-> %s", l->source_id, l->ns, l->pkg, l->target_id);
    lt__sched_set_str(&r->label, label);
    if (r->done >= r->want) {
        r->state = LT_SCHED_DEPLOYED;
        lt__sched_set_str(&r->message, "");
        r->failures = 0;
    } else if (r->fail_msg != NULL && r->failures > 0 && now < r->retry_at + 1) {
        r->state = LT_SCHED_FAILED;
        lt__sched_set_str(&r->message, r->fail_msg);
    } else {
        r->state = LT_SCHED_RECONCILING;
        snprintf(msg, sizeof(msg), "Putting link definition between %s and %s", l->source_id,
                 l->target_id);
        lt__sched_set_str(&r->message, msg);
    }
}

void lt__sched_rec_links(lt_sched *s, sched_app *a, int64_t now)
{
    sched_obs *o;
    size_t i, j;

    for (o = a->obs_head; o != NULL; o = o->app_next)
        links_of_obs(s, a, o, now);
    if (a->spec == NULL || !a->deployed)
        return;
    for (i = 0; i < a->spec->n_comps; i++)
        for (j = 0; j < a->spec->comps[i].n_links; j++)
            link_status(s, a, &a->spec->comps[i].links[j], now);
}
