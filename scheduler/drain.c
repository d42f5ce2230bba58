/*
 * drain.c - the scheduling eligibility of hosts, as the operator sets it
 * (`latticectl hosts cordon|drain|uncordon`): a cordoned host gets no new
 * instances and keeps what it runs; a draining one also counts as outside
 * every spread, so reconcile.c replaces its instances elsewhere within the
 * app's rollout bound, exactly as an upgrade does. Modes are kept by host id
 * (a host may be cordoned while it is away); the service persists them in KV.
 */
#include "sched_int.h"

#include <string.h>

#include "lt_alloc.h"
#include "lt_limits.h"

typedef struct {
    char *id;
    lt_sched_host_mode mode;
} sched_mode;

static const char *const words[] = { "ready", "cordoned", "draining" };

const char *lt_sched_host_mode_word(lt_sched_host_mode m)
{
    return (unsigned)m < sizeof(words) / sizeof(words[0]) ? words[m] : "ready";
}

bool lt_sched_host_mode_parse(const char *word, lt_sched_host_mode *out)
{
    for (size_t i = 0; word != NULL && i < sizeof(words) / sizeof(words[0]); i++)
        if (strcmp(word, words[i]) == 0) {
            *out = (lt_sched_host_mode)i;
            return true;
        }
    return false;
}

lt_sched_host_mode lt_sched_host_mode_get(const lt_sched *s, const char *host_id)
{
    const sched_mode *m = lt_map_get(&s->host_modes, host_id);

    return m != NULL ? m->mode : LT_SCHED_HOST_READY;
}

bool lt_sched_host_known(const lt_sched *s, const char *host_id)
{
    return lt__sched_inv_host(s, host_id) != NULL;
}

void lt__sched_drain_host_init(const lt_sched *s, sched_host *h)
{
    h->mode = lt_sched_host_mode_get(s, h->id);
}

lt_status lt_sched_set_host_mode(lt_sched *s, const char *host_id, lt_sched_host_mode m,
                                 int64_t now)
{
    sched_mode *cur = lt_map_get(&s->host_modes, host_id);
    sched_host *h = lt__sched_inv_host(s, host_id);
    sched_obs *o;

    if (host_id == NULL || host_id[0] == '\0' || strlen(host_id) > LT_MAX_HOST_ID)
        return LT_FAIL(LT_ERR_INVALID, "bad host id");
    if (lt_sched_host_mode_get(s, host_id) == m)
        return LT_OK;
    if (m == LT_SCHED_HOST_READY) {
        lt_map_del(&s->host_modes, host_id);
        lt_free(cur->id);
        lt_free(cur);
    } else if (cur != NULL) {
        cur->mode = m;
    } else {
        cur = lt_calloc(1, sizeof(*cur));
        if (cur == NULL || (cur->id = lt_strdup(host_id)) == NULL ||
            lt_map_put(&s->host_modes, cur->id, cur) != LT_OK) {
            if (cur != NULL)
                lt_free(cur->id);
            lt_free(cur);
            return LT_FAIL(LT_ERR_NOMEM, "host mode");
        }
        cur->mode = m;
    }
    if (h == NULL)
        return LT_OK;
    h->mode = m;
    s->inv_gen++; /* the selectors' host lists are rebuilt */
    s->hosts_changed = true;
    for (o = h->obs_head; o != NULL; o = o->host_next) /* draining: they move */
        if (o->owner != NULL)
            lt__sched_mark_dirty(s, o->owner, now);
    s->all_dirty = true; /* a host fewer (or more) for every app */
    return LT_OK;
}

const char *lt_sched_host_scheduling(const lt_sched *s, const char *host_id)
{
    const sched_host *h = lt__sched_inv_host(s, host_id);
    lt_sched_host_mode m = lt_sched_host_mode_get(s, host_id);
    const sched_obs *o;

    if (m != LT_SCHED_HOST_DRAINING || h == NULL)
        return lt_sched_host_mode_word(m);
    if (h->pend_slots > 0)
        return "draining";
    for (o = h->obs_head; o != NULL; o = o->host_next)
        if (o->managed)
            return "draining";
    return "drained";
}

void lt__sched_drain_free_all(lt_sched *s)
{
    size_t it = 0;
    sched_mode *m;

    while ((m = lt_map_next(&s->host_modes, &it)) != NULL) {
        lt_free(m->id);
        lt_free(m);
    }
    lt_map_cleanup(&s->host_modes);
}
