/*
 * test_v2_wire.c - the pure parts of the wasmCloud 2.x driver (scheduler/v2_wire.c): host
 * versions, the lattice a heartbeat's environment names, and the workload.start request:
 * the instance's owner annotations plus ours, the instance id as workload id, and no field
 * the host's release does not know (a v2 host drops such a request without a reply).
 */
#include <check.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "lt_alloc.h"
#include "lt_pbjson.h"
#include "lt_testutil.h"
#include "sched_v2_int.h"

START_TEST(test_versions)
{
    ck_assert_uint_eq(lt__sched_v2_version("2.7.0"), 20700);
    ck_assert_uint_eq(lt__sched_v2_version("v2.6.1"), 20601);
    ck_assert_uint_eq(lt__sched_v2_version("2.10.3-rc.1"), 21003);
    ck_assert_uint_eq(lt__sched_v2_version(""), 20000); /* unknown: the oldest v2 */
    ck_assert_uint_eq(lt__sched_v2_version(NULL), 20000);
    ck_assert_uint_eq(lt__sched_v2_version("garbage"), 20000);
    ck_assert_uint_eq(lt__sched_v2_version("1.9.0"), 20000);
    ck_assert_uint_eq(lt__sched_v2_version("3.0.0"), 30000);
    ck_assert_str_eq(lt__sched_v2_lattice_of(""), "default");
    ck_assert_str_eq(lt__sched_v2_lattice_of(NULL), "default");
    ck_assert_str_eq(lt__sched_v2_lattice_of("prod"), "prod");
}
END_TEST

/* A template with the version-gated fields set, and the instance that starts it. */
typedef struct {
    Wasmcloud__Runtime__V2__Workload w;
    Wasmcloud__Runtime__V2__WitWorld world;
    Wasmcloud__Runtime__V2__Component comp, *compp[1];
    Wasmcloud__Runtime__V2__LocalResources lr;
    Wasmcloud__Runtime__V2__LocalResources__ConfigEntry cfg, *cfgp[1];
    char *lookups[1], *ports[1];
    Latticed__Host__V1__InstanceSpec spec;
    Latticed__Host__V1__InstanceSpec__AnnotationsEntry ann[2], *annp[2];
} fixture;

static void fixture_init(fixture *f)
{
    f->w = (Wasmcloud__Runtime__V2__Workload)WASMCLOUD__RUNTIME__V2__WORKLOAD__INIT;
    f->world = (Wasmcloud__Runtime__V2__WitWorld)WASMCLOUD__RUNTIME__V2__WIT_WORLD__INIT;
    f->comp = (Wasmcloud__Runtime__V2__Component)WASMCLOUD__RUNTIME__V2__COMPONENT__INIT;
    f->lr = (Wasmcloud__Runtime__V2__LocalResources)WASMCLOUD__RUNTIME__V2__LOCAL_RESOURCES__INIT;
    f->cfg = (Wasmcloud__Runtime__V2__LocalResources__ConfigEntry)
        WASMCLOUD__RUNTIME__V2__LOCAL_RESOURCES__CONFIG_ENTRY__INIT;
    f->cfg.key = "greeting";
    f->cfg.value = "hi";
    f->cfgp[0] = &f->cfg;
    f->lr.n_config = 1;
    f->lr.config = f->cfgp;
    f->lookups[0] = "example.com";
    f->ports[0] = "5432";
    f->lr.n_allowed_ip_name_lookups = 1;
    f->lr.allowed_ip_name_lookups = f->lookups;
    f->lr.n_allowed_host_loopback_ports = 1;
    f->lr.allowed_host_loopback_ports = f->ports;
    f->comp.image = "ghcr.io/acme/api:1";
    f->comp.name = "api";
    f->comp.max_concurrency = 8;
    f->comp.local_resources = &f->lr;
    f->compp[0] = &f->comp;
    f->world.n_components = 1;
    f->world.components = f->compp;
    f->w.namespace_ = "default";
    f->w.name = "shop-api";
    f->w.wit_world = &f->world;
    f->spec = (Latticed__Host__V1__InstanceSpec)LATTICED__HOST__V1__INSTANCE_SPEC__INIT;
    f->spec.instance_id = "i-0123456789abcdef0123456789abcdef";
    f->spec.component_name = "api";
    f->spec.component_id = "shop-api";
    f->spec.spec_digest = "d1";
    for (int i = 0; i < 2; i++) {
        f->ann[i] = (Latticed__Host__V1__InstanceSpec__AnnotationsEntry)
            LATTICED__HOST__V1__INSTANCE_SPEC__ANNOTATIONS_ENTRY__INIT;
        f->annp[i] = &f->ann[i];
    }
    f->ann[0].key = "latticed.dev/managed-by";
    f->ann[0].value = "latticed";
    f->ann[1].key = "latticed.dev/app";
    f->ann[1].value = "shop";
    f->spec.n_annotations = 2;
    f->spec.annotations = f->annp;
}

static json_t *start_json(const fixture *f, uint32_t ver)
{
    char *text = NULL;
    json_t *j;

    ck_assert_int_eq(lt__sched_v2_start_json(&f->w, &f->spec, ver, &text), LT_OK);
    j = json_loads(text, 0, NULL);
    ck_assert_ptr_nonnull(j);
    lt_free(text);
    return j;
}

START_TEST(test_start_request)
{
    fixture f;
    json_t *j, *w, *c, *lr, *ann;

    fixture_init(&f);
    j = start_json(&f, 20700);
    ck_assert_str_eq(json_string_value(json_object_get(j, "workloadId")), f.spec.instance_id);
    w = json_object_get(j, "workload");
    ck_assert_str_eq(json_string_value(json_object_get(w, "name")), "shop-api");
    ann = json_object_get(w, "annotations");
    ck_assert_str_eq(json_string_value(json_object_get(ann, "latticed.dev/managed-by")),
                     "latticed");
    ck_assert_str_eq(json_string_value(json_object_get(ann, "latticed.dev/app")), "shop");
    ck_assert_str_eq(json_string_value(json_object_get(ann, LT_SCHED_V2_ANN_COMPONENT)), "api");
    ck_assert_str_eq(json_string_value(json_object_get(ann, LT_SCHED_V2_ANN_COMPONENT_ID)),
                     "shop-api");
    ck_assert_str_eq(json_string_value(json_object_get(ann, LT_SCHED_V2_ANN_DIGEST)), "d1");
    c = json_array_get(json_object_get(json_object_get(w, "witWorld"), "components"), 0);
    ck_assert_int_eq(json_integer_value(json_object_get(c, "maxConcurrency")), 8);
    lr = json_object_get(c, "localResources");
    ck_assert_str_eq(json_string_value(json_object_get(json_object_get(lr, "config"), "greeting")),
                     "hi");
    ck_assert_ptr_nonnull(json_object_get(lr, "allowedIpNameLookups"));
    ck_assert_ptr_nonnull(json_object_get(lr, "allowedHostLoopbackPorts"));
    json_decref(j);
    /* the template itself is untouched (it is the scheduler's, shared by every start) */
    ck_assert_uint_eq(f.w.n_annotations, 0);
    ck_assert_int_eq(f.comp.max_concurrency, 8);
}
END_TEST

/* A 2.6 host knows allowedIpNameLookups but not maxConcurrency nor the loopback ports; a 2.5
 * host none of the three; the rest of the request is the same. */
START_TEST(test_fields_by_version)
{
    fixture f;
    json_t *j, *c, *lr;

    fixture_init(&f);
    j = start_json(&f, 20600);
    c = json_array_get(json_object_get(json_object_get(json_object_get(j, "workload"), "witWorld"),
                                       "components"),
                       0);
    lr = json_object_get(c, "localResources");
    ck_assert_ptr_null(json_object_get(c, "maxConcurrency"));
    ck_assert_ptr_nonnull(json_object_get(lr, "allowedIpNameLookups"));
    ck_assert_ptr_null(json_object_get(lr, "allowedHostLoopbackPorts"));
    ck_assert_ptr_nonnull(json_object_get(lr, "config"));
    json_decref(j);
    j = start_json(&f, 20500);
    c = json_array_get(json_object_get(json_object_get(json_object_get(j, "workload"), "witWorld"),
                                       "components"),
                       0);
    lr = json_object_get(c, "localResources");
    ck_assert_ptr_null(json_object_get(c, "maxConcurrency"));
    ck_assert_ptr_null(json_object_get(lr, "allowedIpNameLookups"));
    ck_assert_ptr_null(json_object_get(lr, "allowedHostLoopbackPorts"));
    ck_assert_str_eq(json_string_value(json_object_get(c, "image")), "ghcr.io/acme/api:1");
    json_decref(j);
    ck_assert_uint_eq(f.lr.n_allowed_ip_name_lookups, 1); /* template untouched */
}
END_TEST

int main(void)
{
    Suite *s = suite_create("v2_wire");

    lt_test_tcase(s, "wire", 30,
                  (const TTest *const[]){ test_versions, test_start_request, test_fields_by_version,
                                          NULL });
    return lt_test_run_suite(s);
}
