/*
 * v2_hosts.c - the host side of wasmCloud v2 mode (docs/internals/scheduler.md, "wasmCloud v2
 * mode"): the capabilities each host reports (kept in both modes), whether a host exports what
 * a workload needs and what is missing when none does, the status of riders and capability
 * components, and lt_sched_host_gone (a host that stopped answering its liveness probe).
 */
#include "sched_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lt_alloc.h"

static int str_cmp(const void *pa, const void *pb)
{
    return strcmp(*(char *const *)pa, *(char *const *)pb);
}

static void caps_free(char **caps, size_t n)
{
    size_t i;

    for (i = 0; i < n; i++)
        lt_free(caps[i]);
    lt_free(caps);
}

void lt__sched_v2_host_free(sched_host *h)
{
    caps_free(h->caps, h->n_caps);
    h->caps = NULL;
    h->n_caps = 0;
}

void lt__sched_v2_host_caps(lt_sched *s, sched_host *h, const Latticed__Host__V1__Heartbeat *hb)
{
    sched_sha sha;
    char digest[17], buf[1024];
    char **caps;
    size_t i, j, n = 0, k = 0;

    /* Cheap when nothing changed (the usual heartbeat): compare a digest of the list. */
    lt__sched_sha_init(&sha);
    for (i = 0; i < hb->n_capabilities; i++) {
        const Latticed__Host__V1__WitCapability *c = hb->capabilities[i];

        if (c == NULL)
            continue;
        lt__sched_sha_str(&sha, c->namespace_);
        lt__sched_sha_update(&sha, ":", 1);
        lt__sched_sha_str(&sha, c->package);
        for (j = 0; j < c->n_interfaces; j++) {
            lt__sched_sha_update(&sha, "/", 1);
            lt__sched_sha_str(&sha, c->interfaces[j]);
        }
        lt__sched_sha_update(&sha, "\x1e", 1);
        n += c->n_interfaces;
    }
    lt__sched_sha_hex(&sha, digest, 16);
    if (strcmp(digest, h->caps_digest) == 0)
        return;
    caps = lt_calloc(n + 1, sizeof(*caps));
    if (caps == NULL)
        return; /* out of memory: keep the old list */
    for (i = 0; i < hb->n_capabilities; i++) {
        const Latticed__Host__V1__WitCapability *c = hb->capabilities[i];

        for (j = 0; c != NULL && j < c->n_interfaces; j++) {
            snprintf(buf, sizeof(buf), "%s:%s/%s", c->namespace_ != NULL ? c->namespace_ : "",
                     c->package != NULL ? c->package : "",
                     c->interfaces[j] != NULL ? c->interfaces[j] : "");
            if ((caps[k] = lt_strdup(buf)) == NULL) {
                caps_free(caps, k);
                return;
            }
            k++;
        }
    }
    qsort(caps, k, sizeof(*caps), str_cmp);
    lt__sched_v2_host_free(h);
    h->caps = caps;
    h->n_caps = k;
    memcpy(h->caps_digest, digest, sizeof(h->caps_digest));
    if (s->cfg.wasmcloud_v2) { /* workloads waiting for an export may fit now */
        s->inv_gen++;
        s->hosts_changed = true;
    }
}

static bool has_cap(const sched_host *h, const char *want)
{
    return h->n_caps > 0 && bsearch(&want, h->caps, h->n_caps, sizeof(*h->caps), str_cmp) != NULL;
}

bool lt__sched_v2_exports_ok(const sched_host *h, const spec_comp *c)
{
    size_t i;

    for (i = 0; i < c->n_exports; i++)
        if (!has_cap(h, c->exports[i]))
            return false;
    return true;
}

size_t lt__sched_v2_qualified(const pvec *hosts, const spec_comp *c, char *msg, size_t n)
{
    size_t i, j, ok = 0, off;
    bool any_missing = false;

    for (i = 0; i < hosts->len; i++)
        ok += lt__sched_v2_exports_ok(hosts->items[i], c);
    if (ok > 0 || n == 0)
        return ok;
    /* Name the exports no eligible host has; when each is somewhere, but never all on one
     * host, name them all. */
    off = (size_t)snprintf(msg, n, "no host exports ");
    for (j = 0; j < 2 && !any_missing; j++) {
        for (i = 0; i < c->n_exports && off < n; i++) {
            size_t k;
            bool found = false;

            for (k = 0; j == 0 && k < hosts->len && !found; k++)
                found = has_cap(hosts->items[k], c->exports[i]);
            if (found)
                continue;
            off += (size_t)snprintf(msg + off, n - off, "%s%s", any_missing ? ", " : "",
                                    c->exports[i]);
            any_missing = true;
        }
    }
    if (off < n)
        snprintf(msg + off, n - off, " (needed by %s)", c->wl_name != NULL ? c->wl_name : c->name);
    return 0;
}

void lt__sched_v2_status(sched_app *a)
{
    const lt_sched_spec *spec = a->spec;
    size_t i, k;

    if (spec == NULL || !spec->v2)
        return;
    for (i = 0; i < spec->n_comps; i++) {
        const spec_comp *c = &spec->comps[i];
        comp_rt *rt = lt__sched_comp_rt(a, c->name);
        const comp_rt *lr;

        if (rt == NULL)
            continue;
        if (c->role == V2_RIDER) { /* runs inside its lead's workload */
            lr = lt__sched_comp_rt(a, spec->comps[c->lead].name);
            if (lr == NULL)
                continue;
            rt->desired = lr->desired;
            rt->running = lr->running;
            rt->failed = lr->failed;
            rt->state = lr->state;
            rt->reason = lr->reason;
            lt__sched_set_str(&rt->message, lr->message != NULL ? lr->message : "");
        } else if (c->role == V2_CAPABILITY) { /* placed by no one: mirrors its users' failure */
            rt->desired = rt->running = rt->failed = 0;
            rt->state = LT_SCHED_DEPLOYED;
            rt->reason = 0;
            lt__sched_set_str(&rt->message, "");
            for (k = 0; k < c->n_users; k++) {
                lr = lt__sched_comp_rt(a, spec->comps[c->users[k]].name);
                if (lr != NULL && lr->state == LT_SCHED_FAILED) {
                    rt->state = LT_SCHED_FAILED;
                    rt->reason = lr->reason;
                    lt__sched_set_str(&rt->message, lr->message != NULL ? lr->message : "");
                    break;
                }
            }
        }
    }
}

void lt_sched_host_gone(lt_sched *s, const char *host_id, int64_t now)
{
    sched_host *h = host_id != NULL ? lt__sched_inv_host(s, host_id) : NULL;

    (void)now;
    if (h == NULL)
        return;
    h->gone = true;
    s->gone_pending = true;
}
