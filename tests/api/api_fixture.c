/*
 * api_fixture.c - see api_fixture.h.
 */
#include "api_fixture.h"

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lt_alloc.h"

lt_natsrv *fx_srv;
natsConnection *fx_nc;
natsConnection *fx_client;
lt_store *fx_store;
lt_api *fx_api;
static jsCtx *fx_js;

void fx_setup_with(size_t max_request)
{
    lt_store_config cfg = { .memory = true };
    lt_api_config ac = { .max_request = max_request };

    ck_assert_int_eq(lt_natsrv_start(&fx_srv, NULL), LT_OK);
    ck_assert_int_eq(natsConnection_ConnectTo(&fx_nc, lt_natsrv_url(fx_srv)), NATS_OK);
    ck_assert_int_eq(natsConnection_ConnectTo(&fx_client, lt_natsrv_url(fx_srv)), NATS_OK);
    ck_assert_int_eq(natsConnection_JetStream(&fx_js, fx_nc, NULL), NATS_OK);
    ck_assert_int_eq(lt_store_ensure_assets(fx_js, &cfg), LT_OK);
    cfg.nc = fx_nc;
    ck_assert_int_eq(lt_store_open(&fx_store, fx_js, &cfg), LT_OK);
    ck_assert_int_eq(lt_store_view_start(fx_store, fx_nc), LT_OK); /* as latticed's API has */
    ck_assert_int_eq(lt_api_start(&fx_api, fx_nc, fx_store, &ac), LT_OK);
    ck_assert_int_eq(natsConnection_Flush(fx_nc), NATS_OK);
}

void fx_setup(void)
{
    fx_setup_with(0);
}

void fx_teardown(void)
{
    lt_api_stop(fx_api);
    fx_api = NULL;
    lt_store_close(fx_store);
    fx_store = NULL;
    jsCtx_Destroy(fx_js);
    fx_js = NULL;
    natsConnection_Destroy(fx_client);
    natsConnection_Destroy(fx_nc);
    fx_client = fx_nc = NULL;
    ck_assert_int_eq(lt_natsrv_stop(fx_srv), LT_OK);
    fx_srv = NULL;
}

json_t *fx_req(const char *lattice, const char *rest, const char *body, const char *ct)
{
    char subject[512];
    natsMsg *msg = NULL, *reply = NULL;
    json_error_t jerr;
    json_t *out;

    snprintf(subject, sizeof(subject), "wadm.api.%s.%s", lattice, rest);
    ck_assert_int_eq(natsMsg_Create(&msg, subject, NULL, body, body ? (int)strlen(body) : 0),
                     NATS_OK);
    if (ct != NULL)
        ck_assert_int_eq(natsMsgHeader_Set(msg, "Content-Type", ct), NATS_OK);
    ck_assert_int_eq(natsConnection_RequestMsg(&reply, fx_client, msg, 20000), NATS_OK);
    out = json_loadb(natsMsg_GetData(reply), (size_t)natsMsg_GetDataLength(reply), JSON_DECODE_ANY,
                     &jerr);
    ck_assert_msg(out != NULL, "reply is not JSON: %.*s", natsMsg_GetDataLength(reply),
                  natsMsg_GetData(reply));
    natsMsg_Destroy(msg);
    natsMsg_Destroy(reply);
    return out;
}

json_t *fx_call(const char *rest, const char *body, const char *ct)
{
    return fx_req("default", rest, body, ct);
}

char *fx_manifest(const char *name, const char *version, const char *tag, const char *id)
{
    char *out = lt_malloc(4096);
    char ver[256] = "", idl[256] = "";

    ck_assert_ptr_nonnull(out);
    if (version != NULL)
        snprintf(ver, sizeof(ver), "    version: %s\n", version);
    if (id != NULL)
        snprintf(idl, sizeof(idl), "        id: %s\n", id);
    snprintf(out, 4096,
             "apiVersion: core.oam.dev/v1beta1\n"
             "kind: Application\n"
             "metadata:\n"
             "  name: %s\n"
             "  annotations:\n"
             "%s    description: test app %s\n"
             "spec:\n"
             "  components:\n"
             "    - name: http-component\n"
             "      type: component\n"
             "      properties:\n"
             "        image: ghcr.io/wasmcloud/components/http-hello-world-rust:%s\n"
             "%s      traits:\n"
             "        - type: spreadscaler\n"
             "          properties:\n"
             "            instances: 1\n",
             name, ver, name, tag, idl);
    return out;
}

const char *fx_result(const json_t *reply)
{
    const char *s = json_string_value(json_object_get(reply, "result"));

    return s != NULL ? s : "";
}

const char *fx_message(const json_t *reply)
{
    const char *s = json_string_value(json_object_get(reply, "message"));

    return s != NULL ? s : "";
}

void fx_expect(json_t *reply, const char *result)
{
    ck_assert_msg(strcmp(fx_result(reply), result) == 0, "expected %s, got %s: %s", result,
                  fx_result(reply), fx_message(reply));
    json_decref(reply);
}
