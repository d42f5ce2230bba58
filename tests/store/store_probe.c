/*
 * store_probe.c - one lt_store update in a process of its own, so that
 * test_store_faults can preload the fault shim into it (and only into it):
 *   store_probe URL put    LATTICE APP VERSION JSON   store a version and deploy it
 *   store_probe URL delete LATTICE APP VERSION        delete one version
 * Prints "<STATUS_NAME> <message>" on one line and exits 0 when it ran.
 */
#include <stdio.h>
#include <string.h>

#include <nats/nats.h>

#include "lt_store.h"

typedef struct {
    const char *version;
    bool put;
    lt_store *s;
} probe_arg;

static lt_status cb(lt_store_app *app, const char *new_key, lt_store_decision *d, void *arg)
{
    probe_arg *a = arg;
    long i = lt_store_app_find(app, a->version);
    int64_t now = lt_store_now_ms();
    lt_status st;

    *d = LT_STORE_WRITE;
    if (!a->put) {
        if (i < 0)
            return LT_ERR_NOT_FOUND;
        if (app->deployed_version != NULL && strcmp(app->deployed_version, a->version) == 0 &&
            (st = lt_store_app_set_deployed(app, NULL, NULL, 0)) != LT_OK)
            return st;
        lt_store_app_remove_version(app, (size_t)i);
        return lt_store_app_add_event(a->s, app, LT_STORE_EV_DELETE, a->version, now);
    }
    if (i >= 0)
        return LT_ERR_STATE;
    if ((st = lt_store_app_add_version(app, a->version, new_key, now)) != LT_OK ||
        (st = lt_store_app_add_event(a->s, app, LT_STORE_EV_PUT, a->version, now)) != LT_OK ||
        (st = lt_store_app_set_deployed(app, a->version, NULL, 0)) != LT_OK)
        return st;
    return lt_store_app_add_event(a->s, app, LT_STORE_EV_DEPLOY, a->version, now);
}

int main(int argc, char **argv)
{
    natsConnection *nc = NULL;
    jsCtx *js = NULL;
    lt_store *s = NULL;
    lt_store_config cfg = { .memory = true };
    probe_arg a;
    lt_store_manifest m;
    lt_status st;

    if (argc < 6 || natsConnection_ConnectTo(&nc, argv[1]) != NATS_OK ||
        natsConnection_JetStream(&js, nc, NULL) != NATS_OK ||
        (cfg.nc = nc, lt_store_open(&s, js, &cfg)) != LT_OK) {
        fprintf(stderr, "store_probe: bad arguments or cannot connect\n");
        return 2;
    }
    a = (probe_arg){ argv[5], strcmp(argv[2], "put") == 0, s };
    m = (lt_store_manifest){ argc > 6 ? argv[6] : "", argc > 6 ? strlen(argv[6]) : 0 };
    lt_error_clear();
    st = lt_store_update(s, argv[3], argv[4], a.put ? &m : NULL, cb, &a, NULL);
    printf("%s %s\n", lt_status_name(st), st == LT_OK ? "" : lt_error_message());
    fflush(stdout);
    lt_store_close(s);
    jsCtx_Destroy(js);
    natsConnection_Destroy(nc);
    nats_Close();
    return 0;
}
