/*
 * test_v2.c - the scheduler core in wasmCloud v2 mode (lt_sched_config.wasmcloud_v2) against
 * the fake fleet: linked components become one workload placed by its lead, capability links
 * become host interfaces with merged config, hosts must export what a workload needs (wasi
 * built-ins exempt), nothing is linked, digests cover the whole template, links to shared
 * components fail the app, lt_sched_host_gone evicts within the partition guard, and native
 * mode keeps its batches and hosts document.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fleet.h"
#include "lt_alloc.h"
#include "lt_buf.h"
#include "lt_sched.h"
#include "sched_int.h" /* compiled specs (digests) */
#include "lt_testutil.h"
#include "tmodel.h"

/* What the sink saw of START batches (workloads are borrowed: copied out as text). */
typedef struct {
    size_t start_items, with_workload, link_batches, unlink_batches;
    bool native_null; /* every START batch had workloads == NULL */
    char comps[512];  /* component_name of every start item, ';'-separated */
    char wl[2048];    /* the last workload, as text */
    uint64_t mem;     /* the last start's resources.memory_bytes */
} seen_t;

static seen_t seen;

static void kvs_text(char *out, size_t n, void **e, size_t ne)
{
    size_t i, off = strlen(out);

    for (i = 0; i < ne && off < n; i++) {
        const pb_kv_entry *kv = e[i];

        off += (size_t)snprintf(out + off, n - off, "%s%s=%s", i ? ";" : "", kv->key, kv->value);
    }
}

static void on_batch(void *arg, const lt_sched_batch *b)
{
    size_t i, j, off;

    (void)arg;
    seen.link_batches += b->verb == LT_SCHED_LINK;
    seen.unlink_batches += b->verb == LT_SCHED_UNLINK;
    if (b->verb != LT_SCHED_START)
        return;
    if (b->workloads != NULL)
        seen.native_null = false;
    for (i = 0; i < b->count; i++) {
        const Wasmcloud__Runtime__V2__Workload *w = b->workloads != NULL ? b->workloads[i] : NULL;

        seen.start_items++;
        off = strlen(seen.comps);
        snprintf(seen.comps + off, sizeof(seen.comps) - off, "%s;", b->starts[i]->component_name);
        seen.mem = b->starts[i]->resources != NULL ? b->starts[i]->resources->memory_bytes : 0;
        if (w == NULL)
            continue;
        seen.with_workload++;
        snprintf(seen.wl, sizeof(seen.wl), "%s/%s ann=%zu", w->namespace_, w->name,
                 w->n_annotations);
        for (j = 0; w->wit_world != NULL && j < w->wit_world->n_components; j++) {
            const Wasmcloud__Runtime__V2__Component *c = w->wit_world->components[j];

            off = strlen(seen.wl);
            snprintf(seen.wl + off, sizeof(seen.wl) - off, " C[%s %s%s", c->name, c->image,
                     c->local_resources != NULL ? " {" : " NOLR");
            if (c->local_resources != NULL) {
                kvs_text(seen.wl, sizeof(seen.wl), (void **)c->local_resources->config,
                         c->local_resources->n_config);
                off = strlen(seen.wl);
                snprintf(seen.wl + off, sizeof(seen.wl) - off, "}");
            }
            off = strlen(seen.wl);
            snprintf(seen.wl + off, sizeof(seen.wl) - off, "]");
        }
        for (j = 0; w->wit_world != NULL && j < w->wit_world->n_host_interfaces; j++) {
            const Wasmcloud__Runtime__V2__WitInterface *h = w->wit_world->host_interfaces[j];
            size_t k;

            off = strlen(seen.wl);
            snprintf(seen.wl + off, sizeof(seen.wl) - off, " H[%s:%s@%s #%s", h->namespace_,
                     h->package, h->version, h->name);
            for (k = 0; k < h->n_interfaces; k++) {
                off = strlen(seen.wl);
                snprintf(seen.wl + off, sizeof(seen.wl) - off, " /%s", h->interfaces[k]);
            }
            off = strlen(seen.wl);
            snprintf(seen.wl + off, sizeof(seen.wl) - off, " {");
            kvs_text(seen.wl, sizeof(seen.wl), (void **)h->config, h->n_config);
            off = strlen(seen.wl);
            snprintf(seen.wl + off, sizeof(seen.wl) - off, "}]");
        }
    }
}

static fleet *v2_fleet(bool v2)
{
    lt_sched_config cfg = { .wasmcloud_v2 = v2 };
    fleet *f = fleet_new("default", &cfg);

    ck_assert_ptr_nonnull(f);
    memset(&seen, 0, sizeof(seen));
    seen.native_null = true;
    f->on_batch = on_batch;
    return f;
}

static void deploy(fleet *f, lt_model *m)
{
    ck_assert_int_eq(lt_sched_deploy(f->s, m, f->now), LT_OK);
    tm_free(m);
    FLEET_CHECK(f);
}

static const lt_sched_component_status *comp_status(fleet *f, const char *app, const char *comp)
{
    lt_sched_app_status st;
    size_t i;

    ck_assert_int_eq(lt_sched_app_status_get(f->s, app, &st), LT_OK);
    for (i = 0; i < st.component_count; i++)
        if (strcmp(st.components[i].name, comp) == 0)
            return &st.components[i];
    ck_abort_msg("no status of %s/%s", app, comp);
    return NULL;
}

static const char *app_message(fleet *f, const char *app)
{
    lt_sched_app_status st;

    ck_assert_int_eq(lt_sched_app_status_get(f->s, app, &st), LT_OK);
    return st.message;
}

/* api x2 (config mode=fast, 100 B) -> store x3 (200 B) over a component link: one group. */
static lt_model *pair_app_n(const char *version, const char *api_mode, uint64_t n_api,
                            uint64_t n_store)
{
    lt_model *m = tm_app("shop", version);
    lt_model_component *api = tm_comp(m, "api", "ghcr.io/api:1", false);
    lt_model_component *store = tm_comp(m, "store", "ghcr.io/store:1", false);

    tm_scaler(api, false, n_api);
    tm_config(api, "apicfg", "mode", api_mode);
    tm_resources(api, 100, 0);
    tm_scaler(store, false, n_store);
    tm_resources(store, 200, 0);
    tm_link(api, "store", "wasmcloud", "example", "store", "pool=4");
    return m;
}

static lt_model *pair_app(const char *version, const char *api_mode)
{
    return pair_app_n(version, api_mode, 2, 3);
}

/* counter x2 linked to a keyvalue provider (redis) and served by an http server. */
static lt_model *kv_app(const char *version, const char *bucket)
{
    lt_model *m = tm_app("kv", version);
    lt_model_component *counter = tm_comp(m, "counter", "ghcr.io/counter:1", false);
    lt_model_component *redis = tm_comp(m, "redis", "ghcr.io/redis-provider:1", true);
    lt_model_component *http = tm_comp(m, "httpserver", "ghcr.io/http-server:1", true);
    lt_model_link *l;

    tm_scaler(counter, false, 2);
    tm_config(redis, "redis", "url", "redis://a");
    tm_config(redis, "more", "pool", "8");
    tm_scaler(redis, false, 1);
    l = tm_link(counter, "redis", "wasi", "keyvalue", "store", bucket);
    tm_link_target_config(counter, l, "url=redis://b");
    tm_link(http, "counter", "wasi", "http", "incoming-handler", "address=0.0.0.0:8080");
    return m;
}

START_TEST(test_v2_group_is_one_workload)
{
    fleet *f = v2_fleet(true);
    const lt_sched_component_status *cs;

    fleet_host_add(f, "h1", "", 0, 0);
    fleet_host_add(f, "h2", "", 0, 0);
    fleet_host_add(f, "h3", "", 0, 0);
    deploy(f, pair_app("v1", "fast"));
    fleet_settle(f, 100);
    /* The lead (store, most instances) is placed with its own count; the rider gets nothing. */
    ck_assert_uint_eq(fleet_count(f, NULL, "shop", "store"), 3);
    ck_assert_uint_eq(fleet_count(f, NULL, "shop", "api"), 0);
    ck_assert_uint_eq(fleet_max_per_host(f, "shop", "store"), 1);
    ck_assert_uint_eq(seen.start_items, 3);
    ck_assert_str_eq(seen.comps, "store;store;store;");
    ck_assert_uint_eq(seen.with_workload, 3);
    ck_assert_str_eq(seen.wl, "default/shop-store ann=0 C[api ghcr.io/api:1 {mode=fast}]"
                              " C[store ghcr.io/store:1 {}]");
    ck_assert_uint_eq(seen.mem, 300); /* the members' resources summed */
    /* Nothing link-related is ever sent. */
    ck_assert_uint_eq(seen.link_batches + seen.unlink_batches, 0);
    ck_assert_uint_eq(f->sent[LT_SCHED_LINK] + f->sent[LT_SCHED_UNLINK], 0);
    ck_assert_int_eq(fleet_state(f, "shop"), LT_SCHED_DEPLOYED);
    cs = comp_status(f, "shop", "api"); /* the rider reports its lead's counts */
    ck_assert_uint_eq(cs->desired, 3);
    ck_assert_uint_eq(cs->running, 3);
    ck_assert_int_eq(cs->state, LT_SCHED_DEPLOYED);
    /* A lost host: the workload is re-placed, still never the rider. */
    fleet_host_stop(f, "h3");
    fleet_settle(f, 100);
    ck_assert_uint_eq(fleet_count(f, NULL, "shop", "store"), 3);
    ck_assert_uint_eq(fleet_count(f, NULL, "shop", "api"), 0);
    ck_assert(strstr(seen.comps, "api") == NULL);
    fleet_free(f);
}
END_TEST

START_TEST(test_v2_host_interfaces_and_exports)
{
    fleet *f = v2_fleet(true);
    fleet_host *h2;
    const lt_sched_component_status *cs;

    fleet_host_add(f, "h1", "", 0, 0);
    h2 = fleet_host_add(f, "h2", "", 0, 0);
    snprintf(h2->caps, sizeof(h2->caps), "wasi:keyvalue/store,wasi:blobstore/blobstore");
    fleet_heartbeat(f, h2);
    deploy(f, kv_app("v1", "bucket=b1"));
    fleet_settle(f, 100);
    /* Only h2 exports wasi:keyvalue/store (wasi:http is a built-in nobody lists). */
    ck_assert_uint_eq(fleet_count(f, "h2", "kv", "counter"), 2);
    ck_assert_uint_eq(fleet_count(f, "h1", "kv", NULL), 0);
    ck_assert_uint_eq(fleet_count(f, NULL, "kv", "redis") +
                          fleet_count(f, NULL, "kv", "httpserver"),
                      0);
    ck_assert_str_eq(seen.comps, "counter;counter;");
    /* Host interfaces sorted; config: provider's own, link source, link target (wins). */
    ck_assert_str_eq(seen.wl, "default/kv-counter ann=0 C[counter ghcr.io/counter:1 {}]"
                              " H[wasi:http@ # /incoming-handler {address=0.0.0.0:8080}]"
                              " H[wasi:keyvalue@ # /store {bucket=b1;pool=8;url=redis://b}]");
    ck_assert_int_eq(fleet_state(f, "kv"), LT_SCHED_DEPLOYED);
    cs = comp_status(f, "kv", "redis");
    ck_assert_uint_eq(cs->desired, 0);
    ck_assert_int_eq(cs->state, LT_SCHED_DEPLOYED);
    ck_assert_uint_eq(seen.link_batches, 0);
    fleet_free(f);
}
END_TEST

START_TEST(test_v2_missing_export_fails_then_places)
{
    fleet *f = v2_fleet(true);
    fleet_host *h1;
    const lt_sched_component_status *cs;

    h1 = fleet_host_add(f, "h1", "", 0, 0);
    fleet_host_add(f, "h2", "", 0, 0);
    snprintf(h1->caps, sizeof(h1->caps), "wasi:blobstore/blobstore,wasi:keyvalue/atomics");
    fleet_heartbeat(f, h1);
    deploy(f, kv_app("v1", "bucket=b1"));
    fleet_settle(f, 50);
    ck_assert_uint_eq(seen.start_items, 0);
    ck_assert_int_eq(fleet_state(f, "kv"), LT_SCHED_FAILED);
    cs = comp_status(f, "kv", "counter");
    ck_assert_int_eq(cs->state, LT_SCHED_FAILED);
    ck_assert_str_eq(cs->message, "no host exports wasi:keyvalue/store (needed by kv-counter)");
    ck_assert_str_eq(app_message(f, "kv"),
                     "no host exports wasi:keyvalue/store (needed by kv-counter)"); /* once */
    cs = comp_status(f, "kv", "redis"); /* the provider mirrors its user's failure */
    ck_assert_int_eq(cs->state, LT_SCHED_FAILED);
    /* The export appears: the workload goes there, and only there. */
    snprintf(h1->caps, sizeof(h1->caps), "wasi:keyvalue/atomics,wasi:keyvalue/store");
    fleet_settle(f, 100);
    ck_assert_uint_eq(fleet_count(f, "h1", "kv", "counter"), 2);
    ck_assert_uint_eq(fleet_count(f, "h2", "kv", NULL), 0);
    ck_assert_int_eq(fleet_state(f, "kv"), LT_SCHED_DEPLOYED);
    fleet_free(f);
}
END_TEST

START_TEST(test_v2_daemon_needs_exports)
{
    fleet *f = v2_fleet(true);
    fleet_host *h;
    lt_model *m = tm_app("d", "v1");
    lt_model_component *w = tm_comp(m, "worker", "ghcr.io/w:1", false);
    lt_model_component *nats = tm_comp(m, "nats", "ghcr.io/nats:1", true);

    tm_scaler(w, true, 1);
    tm_scaler(nats, false, 1);
    tm_link(w, "nats", "wasmcloud", "messaging", "consumer", NULL);
    fleet_host_add(f, "h1", "", 0, 0);
    h = fleet_host_add(f, "h2", "", 0, 0);
    snprintf(h->caps, sizeof(h->caps), "wasmcloud:messaging/consumer");
    fleet_heartbeat(f, h);
    h = fleet_host_add(f, "h3", "", 0, 0);
    snprintf(h->caps, sizeof(h->caps), "wasmcloud:messaging/consumer");
    fleet_heartbeat(f, h);
    deploy(f, m);
    fleet_settle(f, 100);
    ck_assert_uint_eq(fleet_count(f, "h1", "d", NULL), 0);
    ck_assert_uint_eq(fleet_count(f, "h2", "d", "worker"), 1);
    ck_assert_uint_eq(fleet_count(f, "h3", "d", "worker"), 1);
    ck_assert_uint_eq(comp_status(f, "d", "worker")->desired, 2);
    ck_assert_int_eq(fleet_state(f, "d"), LT_SCHED_DEPLOYED);
    fleet_free(f);
}
END_TEST

/* The lead's digest covers every member's config and the capability links' config. */
START_TEST(test_v2_digest_covers_template)
{
    lt_sched_spec *a, *b, *n1, *n2;
    lt_model *m;
    const spec_comp *la, *lb;

    m = pair_app("v1", "fast");
    ck_assert_int_eq(lt__sched_spec_compile(m, "default", true, &a), LT_OK);
    tm_free(m);
    m = pair_app("v1", "slow"); /* only the rider's config differs */
    ck_assert_int_eq(lt__sched_spec_compile(m, "default", true, &b), LT_OK);
    tm_free(m);
    la = lt__sched_spec_find(a, "store");
    lb = lt__sched_spec_find(b, "store");
    ck_assert_int_eq(la->role, V2_LEAD);
    ck_assert_int_eq(lt__sched_spec_find(a, "api")->role, V2_RIDER);
    ck_assert_str_ne(la->digest, lb->digest);
    ck_assert_str_ne(a->digest, b->digest);
    ck_assert_uint_eq(lt__sched_spec_find(a, "api")->n_links, 0); /* links dropped */
    lt_sched_spec_free(a);
    lt_sched_spec_free(b);
    m = kv_app("v1", "bucket=b1");
    ck_assert_int_eq(lt__sched_spec_compile(m, "default", true, &a), LT_OK);
    tm_free(m);
    m = kv_app("v1", "bucket=b2"); /* only a capability link's config differs */
    ck_assert_int_eq(lt__sched_spec_compile(m, "default", true, &b), LT_OK);
    tm_free(m);
    ck_assert_str_ne(lt__sched_spec_find(a, "counter")->digest,
                     lt__sched_spec_find(b, "counter")->digest);
    ck_assert_uint_eq(lt__sched_spec_find(a, "counter")->n_exports, 1);
    ck_assert_str_eq(lt__sched_spec_find(a, "counter")->exports[0], "wasi:keyvalue/store");
    ck_assert_int_eq(lt__sched_spec_find(a, "redis")->role, V2_CAPABILITY);
    lt_sched_spec_free(a);
    lt_sched_spec_free(b);
    /* Native compiles keep the rider's config out of the other component's digest. */
    m = pair_app("v1", "fast");
    ck_assert_int_eq(lt_sched_spec_compile(m, "default", &n1), LT_OK);
    tm_free(m);
    m = pair_app("v1", "slow");
    ck_assert_int_eq(lt_sched_spec_compile(m, "default", &n2), LT_OK);
    tm_free(m);
    ck_assert_str_eq(lt__sched_spec_find(n1, "store")->digest,
                     lt__sched_spec_find(n2, "store")->digest);
    ck_assert_ptr_null(lt__sched_spec_find(n1, "store")->wl);
    ck_assert_uint_eq(lt__sched_spec_find(n1, "api")->n_links, 1);
    lt_sched_spec_free(n1);
    lt_sched_spec_free(n2);
}
END_TEST

START_TEST(test_v2_member_change_rolls_workload)
{
    fleet *f = v2_fleet(true);

    fleet_host_add(f, "h1", "", 0, 0);
    fleet_host_add(f, "h2", "", 0, 0);
    fleet_host_add(f, "h3", "", 0, 0);
    deploy(f, pair_app("v1", "fast"));
    fleet_settle(f, 100);
    ck_assert_uint_eq(fleet_count_version(f, "shop", "store", "v1"), 3);
    deploy(f, pair_app("v2", "slow"));
    fleet_settle(f, 300);
    ck_assert_uint_eq(fleet_count_version(f, "shop", "store", "v2"), 3);
    ck_assert_uint_eq(fleet_count_version(f, "shop", "store", "v1"), 0);
    ck_assert(strstr(seen.wl, "{mode=slow}") != NULL);
    ck_assert_uint_eq(fleet_count(f, NULL, "shop", "api"), 0);
    fleet_free(f);
}
END_TEST

/* v1's lead (api) is v2's rider: its workloads are replaced by the new lead's, within the
 * rollout bound, and never left running. */
START_TEST(test_v2_lead_change_replaces_old_workloads)
{
    fleet *f = v2_fleet(true);
    lt_model *m;

    fleet_host_add(f, "h1", "", 0, 0);
    fleet_host_add(f, "h2", "", 0, 0);
    fleet_host_add(f, "h3", "", 0, 0);
    deploy(f, pair_app_n("v1", "fast", 3, 1));
    fleet_settle(f, 100);
    ck_assert_uint_eq(fleet_count(f, NULL, "shop", "api"), 3);
    ck_assert_uint_eq(fleet_count(f, NULL, "shop", "store"), 0);
    ck_assert(strstr(seen.wl, "default/shop-api ") == seen.wl);
    m = pair_app_n("v2", "fast", 1, 2);
    m->rollout.set = true;
    m->rollout.max_unavailable = 1;
    deploy(f, m);
    fleet_settle(f, 300);
    ck_assert_uint_eq(fleet_count_version(f, "shop", "store", "v2"), 2);
    ck_assert_uint_eq(fleet_count(f, NULL, "shop", "api"), 0);
    ck_assert_int_eq(fleet_state(f, "shop"), LT_SCHED_DEPLOYED);
    fleet_free(f);
}
END_TEST

START_TEST(test_v2_shared_links_fail)
{
    fleet *f = v2_fleet(true);
    lt_model *lib = tm_app("lib", "v1"), *web;
    lt_model_component *c, *ref;

    tm_shared(lib);
    c = tm_comp(lib, "db", "ghcr.io/db:1", false);
    tm_scaler(c, false, 1);
    fleet_host_add(f, "h1", "", 0, 0);
    deploy(f, lib);
    web = tm_app("web", "v1");
    c = tm_comp(web, "front", "ghcr.io/front:1", false);
    tm_scaler(c, false, 2);
    ref = tm_comp(web, "shared-db", NULL, false);
    tm_ref(ref, "lib", "db");
    tm_link(c, "shared-db", "wasmcloud", "example", "db", NULL);
    deploy(f, web);
    fleet_settle(f, 50);
    ck_assert_uint_eq(fleet_count(f, NULL, "lib", "db"), 1); /* the shared app itself runs */
    ck_assert_uint_eq(fleet_count(f, NULL, "web", NULL), 0);
    ck_assert_int_eq(fleet_state(f, "web"), LT_SCHED_FAILED);
    ck_assert_msg(strstr(fleet_status(f, "web"),
                         "links to shared components are not supported on wasmcloud-v2 "
                         "lattices: shared-db") != NULL,
                  "%s", fleet_status(f, "web"));
    fleet_free(f);
}
END_TEST

static size_t hosts_with(fleet *f, const char *app)
{
    size_t i, n = 0;

    for (i = 0; i < f->n_hosts; i++)
        n += fleet_count(f, f->hosts[i].id, app, NULL) > 0;
    return n;
}

START_TEST(test_v2_host_gone)
{
    fleet *f = v2_fleet(true);
    fleet_host *victim = NULL;
    size_t i, lost;

    for (i = 0; i < 5; i++) {
        char id[16];

        snprintf(id, sizeof(id), "h%zu", i);
        fleet_host_add(f, id, "", 0, 0);
    }
    deploy(f, pair_app("v1", "fast"));
    fleet_settle(f, 100);
    for (i = 0; i < f->n_hosts && victim == NULL; i++)
        if (fleet_count(f, f->hosts[i].id, "shop", NULL) > 0)
            victim = &f->hosts[i];
    ck_assert_ptr_nonnull(victim);
    lt_sched_host_gone(f->s, "nobody", f->now); /* unknown: ignored */
    /* Our own connection is down: a failed probe proves nothing. */
    victim->up = false;
    lt_sched_set_connected(f->s, false, f->now);
    lt_sched_host_gone(f->s, victim->id, f->now);
    FLEET_CHECK(f);
    fleet_step(f, 10);
    ck_assert_uint_eq(lt_sched_host_count(f->s), 5);
    lt_sched_set_connected(f->s, true, f->now); /* reconnecting forgives it */
    fleet_step(f, 300);                         /* a host check, well within its timeout */
    ck_assert_uint_eq(lt_sched_host_count(f->s), 5);
    /* Connected: lost at the next tick, long before its 3 s timeout. */
    lost = f->ev_host_lost;
    lt_sched_host_gone(f->s, victim->id, f->now);
    FLEET_CHECK(f);
    ck_assert_int_lt(lt_sched_tick(f->s, f->now + 1), 1000);
    FLEET_CHECK(f);
    ck_assert_uint_eq(lt_sched_host_count(f->s), 4);
    ck_assert_uint_eq(f->ev_host_lost, lost + 1);
    fleet_settle(f, 100);
    ck_assert_uint_eq(fleet_count(f, NULL, "shop", "store"),
                      3 + fleet_count(f, victim->id, "shop", "store"));
    ck_assert_uint_eq(hosts_with(f, "shop") - (fleet_count(f, victim->id, "shop", NULL) > 0), 3);
    /* A heartbeat revives a host marked gone before the tick saw it. */
    lt_sched_host_gone(f->s, "h4", f->now);
    fleet_step(f, 10); /* h4 beats before the tick */
    ck_assert_uint_eq(lt_sched_host_count(f->s), 4);
    fleet_free(f);
}
END_TEST

START_TEST(test_v2_host_gone_partition_guard)
{
    fleet *f = v2_fleet(true);
    size_t i;

    for (i = 0; i < 6; i++) {
        char id[16];

        snprintf(id, sizeof(id), "h%zu", i);
        fleet_host_add(f, id, "", 0, 0);
    }
    deploy(f, pair_app("v1", "fast"));
    fleet_settle(f, 100);
    for (i = 0; i < 4; i++) { /* most of the fleet stops answering at once */
        f->hosts[i].up = false;
        lt_sched_host_gone(f->s, f->hosts[i].id, f->now);
    }
    FLEET_CHECK(f);
    fleet_step(f, 10);
    ck_assert(lt_sched_partitioned(f->s));
    ck_assert_uint_eq(lt_sched_host_count(f->s), 6);
    ck_assert_uint_eq(f->ev_host_lost, 0);
    /* The operator's override still evicts them. */
    ck_assert_uint_eq(lt_sched_evict_silent(f->s, f->now), 4);
    FLEET_CHECK(f);
    ck_assert_uint_eq(lt_sched_host_count(f->s), 2);
    fleet_free(f);
}
END_TEST

START_TEST(test_native_unchanged)
{
    fleet *f = v2_fleet(false);
    lt_buf b;

    fleet_host_add(f, "h1", "", 0, 0);
    fleet_host_add(f, "h2", "", 0, 0);
    deploy(f, pair_app("v1", "fast"));
    fleet_settle(f, 100);
    ck_assert_uint_eq(fleet_count(f, NULL, "shop", "api"), 2);
    ck_assert_uint_eq(fleet_count(f, NULL, "shop", "store"), 3);
    ck_assert(seen.native_null);
    ck_assert_uint_eq(seen.with_workload, 0);
    ck_assert_uint_eq(f->sent[LT_SCHED_LINK], 2);
    lt_buf_init(&b, 1u << 20);
    ck_assert_int_eq(lt_sched_hosts_json(f->s, f->now, &b), LT_OK);
    ck_assert(strstr(b.ptr, "\"driver\":\"native\"") != NULL);
    lt_buf_cleanup(&b);
    fleet_free(f);
    f = v2_fleet(true);
    fleet_host_add(f, "h1", "", 0, 0);
    lt_buf_init(&b, 1u << 20);
    ck_assert_int_eq(lt_sched_hosts_json(f->s, f->now, &b), LT_OK);
    ck_assert(strstr(b.ptr, "\"driver\":\"wasmcloud-v2\"") != NULL);
    lt_buf_cleanup(&b);
    fleet_free(f);
}
END_TEST

static Suite *v2_suite(void)
{
    Suite *s = suite_create("sched_v2");

    lt_test_tcase(s, "v2", 0,
                  (const TTest *const[]){
                      test_v2_group_is_one_workload, test_v2_host_interfaces_and_exports,
                      test_v2_missing_export_fails_then_places, test_v2_daemon_needs_exports,
                      test_v2_digest_covers_template, test_v2_member_change_rolls_workload,
                      test_v2_lead_change_replaces_old_workloads, test_v2_shared_links_fail,
                      test_v2_host_gone, test_v2_host_gone_partition_guard, test_native_unchanged,
                      NULL });
    return s;
}

int main(void)
{
    return lt_test_run_suite(v2_suite());
}
