/*
 * test_model_forms.c - the typed model read from YAML and JSON, the canonical
 * JSON form (exact bytes for a small manifest, round trips), ids and derived
 * names as wadm computes them, lookups and lt_model_set_annotation.
 */
#include "model_test.h"

static const char APP[] =
    "apiVersion: core.oam.dev/v1beta1\n"
    "kind: Application\n"
    "metadata:\n"
    "  name: Hello_App\n"
    "  annotations: {description: demo, version: v2, experimental.wasmcloud.dev/shared: 'true'}\n"
    "  labels: {team: a}\n"
    "spec:\n"
    "  policies:\n"
    "    - {name: vault, type: policy.secret.wasmcloud.dev/v1alpha1, properties: {backend: v, "
    "role: r}}\n"
    "  components:\n"
    "    - name: http.component\n"
    "      type: actor\n"
    "      properties:\n"
    "        image: ghcr.io/x:1\n"
    "        config: [{name: lang, properties: {z: '1', a: '2'}}, {name: external}]\n"
    "        secrets: [{name: tok, properties: {policy: vault, key: k, field: f}}]\n"
    "      traits:\n"
    "        - type: spreadscaler\n"
    "          properties: {replicas: 4, spread: [{name: east, requirements: {zone: e}, "
    "weight: 80}, {name: west}]}\n"
    "        - type: my-custom\n"
    "          properties: {z: [1, {b: 2, a: 1}], a: 0.5}\n"
    "    - name: httpserver\n"
    "      type: capability\n"
    "      properties: {image: ghcr.io/h:1, id: http_server}\n"
    "      traits:\n"
    "        - type: link\n"
    "          properties:\n"
    "            namespace: wasi\n"
    "            package: http\n"
    "            interfaces: [incoming-handler]\n"
    "            target: http.component\n"
    "            target_config: [{name: tc, properties: {k: v}}]\n"
    "            source_config: [{name: sc}]\n"
    "    - name: shared-thing\n"
    "      type: capability\n"
    "      properties: {application: {name: Other App, component: Client}}\n";

static const char APP_CANONICAL[] =
    "{\"apiVersion\":\"core.oam.dev/v1beta1\",\"kind\":\"Application\","
    "\"metadata\":{\"name\":\"Hello_App\",\"annotations\":{\"description\":\"demo\","
    "\"experimental.wasmcloud.dev/shared\":\"true\",\"version\":\"v2\"},"
    "\"labels\":{\"team\":\"a\"}},\"spec\":{\"components\":["
    "{\"name\":\"http.component\",\"type\":\"component\",\"properties\":{"
    "\"image\":\"ghcr.io/x:1\",\"config\":[{\"name\":\"lang\",\"properties\":{\"a\":\"2\","
    "\"z\":\"1\"}},{\"name\":\"external\"}],\"secrets\":[{\"name\":\"tok\",\"properties\":{"
    "\"policy\":\"vault\",\"key\":\"k\",\"field\":\"f\"}}]},\"traits\":["
    "{\"type\":\"spreadscaler\",\"properties\":{\"instances\":4,\"spread\":[{\"name\":\"east\","
    "\"requirements\":{\"zone\":\"e\"},\"weight\":80},{\"name\":\"west\"}]}},"
    "{\"type\":\"my-custom\",\"properties\":{\"a\":0.5,\"z\":[1,{\"a\":1,\"b\":2}]}}]},"
    "{\"name\":\"httpserver\",\"type\":\"capability\",\"properties\":{\"image\":\"ghcr.io/h:1\","
    "\"id\":\"http_server\"},\"traits\":[{\"type\":\"link\",\"properties\":{"
    "\"namespace\":\"wasi\",\"package\":\"http\",\"interfaces\":[\"incoming-handler\"],"
    "\"source\":{\"config\":[{\"name\":\"sc\"}]},\"target\":{\"name\":\"http.component\","
    "\"config\":[{\"name\":\"tc\",\"properties\":{\"k\":\"v\"}}]}}}]},"
    "{\"name\":\"shared-thing\",\"type\":\"capability\",\"properties\":{\"application\":{"
    "\"name\":\"Other App\",\"component\":\"Client\"}}}],"
    "\"policies\":[{\"name\":\"vault\",\"properties\":{\"backend\":\"v\",\"role\":\"r\"},"
    "\"type\":\"policy.secret.wasmcloud.dev/v1alpha1\"}]}}";

START_TEST(test_forms_typed_model)
{
    mt_result res = mt_parse(APP, LT_MODEL_FORMAT_AUTO);
    if (res.st != LT_OK)
        mt_dump(res.r);
    ck_assert_int_eq(res.st, LT_OK);
    const lt_model *m = res.m;
    ck_assert_str_eq(m->description, "demo");
    ck_assert(m->shared);
    ck_assert_uint_eq(m->labels.count, 1);
    const lt_model_component *c = lt_model_find_component(m, "http.component");
    ck_assert_ptr_nonnull(c);
    ck_assert_int_eq(c->kind, LT_MODEL_COMPONENT); /* actor is an alias */
    ck_assert_str_eq(c->id, "hello_app-http_component");
    ck_assert_uint_eq(c->config_count, 2);
    ck_assert(c->config[0].has_properties);
    ck_assert_str_eq(c->config[0].properties.items[0].key, "a"); /* sorted */
    ck_assert(!c->config[1].has_properties);
    ck_assert_str_eq(c->secrets[0].field, "f");
    ck_assert_ptr_null(c->secrets[0].version);
    ck_assert_int_eq(c->traits[0].kind, LT_MODEL_TRAIT_SPREADSCALER);
    ck_assert_uint_eq(c->traits[0].scaler.instances, 4);
    ck_assert_int_eq(c->traits[1].kind, LT_MODEL_TRAIT_CUSTOM);
    ck_assert_int_eq(c->traits[1].shape, LT_MODEL_SHAPE_CUSTOM);
    ck_assert_str_eq(c->traits[1].properties_json, "{\"a\":0.5,\"z\":[1,{\"a\":1,\"b\":2}]}");
    const lt_model_component *srv = lt_model_find_component(m, "httpserver");
    ck_assert_str_eq(srv->id, "http_server");
    const lt_model_link *l = &srv->traits[0].link;
    ck_assert_str_eq(l->name, "default");
    ck_assert(!l->name_explicit);
    ck_assert_str_eq(l->wit_namespace, "wasi");
    ck_assert_int_eq(l->colocate, LT_MODEL_COLOCATE_UNSET);
    const lt_model_component *sh = lt_model_find_component(m, "shared-thing");
    ck_assert_ptr_null(sh->image);
    ck_assert_str_eq(sh->id, "other_app-client"); /* from the shared app and component */
    ck_assert_ptr_null(lt_model_find_component(m, "nope"));
    mt_done(&res);
}
END_TEST

START_TEST(test_forms_canonical_exact)
{
    mt_result res = mt_parse(APP, LT_MODEL_FORMAT_YAML);
    ck_assert_int_eq(res.st, LT_OK);
    lt_buf b;
    lt_buf_init(&b, 1 << 20);
    ck_assert_int_eq(lt_model_to_json(res.m, 0, &b), LT_OK);
    ck_assert_str_eq(b.ptr, APP_CANONICAL);
    lt_buf_cleanup(&b);
    mt_done(&res);
}
END_TEST

/* canonical(parse(x)) is want, byte for byte, and stable: parsing it again gives the same
 * bytes and the same ids. */
static void round_trip(const char *text, const char *want)
{
    mt_result a = mt_parse(text, LT_MODEL_FORMAT_AUTO);
    if (a.st != LT_OK)
        mt_dump(a.r);
    ck_assert_int_eq(a.st, LT_OK);
    lt_buf c1, c2, pretty;
    lt_buf_init(&c1, 1 << 22);
    lt_buf_init(&c2, 1 << 22);
    lt_buf_init(&pretty, 1 << 22);
    ck_assert_int_eq(lt_model_to_json(a.m, 0, &c1), LT_OK);
    ck_assert_str_eq(c1.ptr, want);
    ck_assert_int_eq(lt_model_to_json(a.m, LT_MODEL_JSON_PRETTY, &pretty), LT_OK);
    ck_assert_ptr_nonnull(strchr(pretty.ptr, '\n'));
    mt_result b = mt_parse(c1.ptr, LT_MODEL_FORMAT_JSON);
    ck_assert_int_eq(b.st, LT_OK);
    ck_assert_int_eq(lt_model_to_json(b.m, 0, &c2), LT_OK);
    ck_assert_str_eq(c1.ptr, c2.ptr);
    mt_result p = mt_parse(pretty.ptr, LT_MODEL_FORMAT_AUTO);
    ck_assert_int_eq(p.st, LT_OK);
    ck_assert_uint_eq(a.m->component_count, b.m->component_count);
    for (size_t i = 0; i < a.m->component_count; i++)
        ck_assert_str_eq(a.m->components[i].id, b.m->components[i].id);
    lt_buf_cleanup(&c1);
    lt_buf_cleanup(&c2);
    lt_buf_cleanup(&pretty);
    mt_done(&a);
    mt_done(&b);
    mt_done(&p);
}

/* The three extensions: link colocate, resources trait, rollout policy (and a linkdef, kept as
 * a custom trait). */
static const char EXT_APP[] =
    "apiVersion: v\nkind: Application\nmetadata: {name: x}\nspec:\n  components:\n"
    "    - name: a\n      type: component\n      properties: {image: i}\n"
    "      traits: []\n"
    "    - name: b\n      type: capability\n      properties: {image: i}\n"
    "      traits:\n"
    "        - type: link\n"
    "          properties: {name: n, namespace: a, package: b, interfaces: [], "
    "target: {name: a, secrets: [{name: s, properties: {policy: p, key: k, "
    "version: '1'}}]}, source: {}, latticed.dev/colocate: required}\n"
    "        - type: latticed.dev/resources\n"
    "          properties: {memory: 64Mi, cpu: 0.25}\n"
    "        - type: linkdef\n"
    "          properties: {namespace: a, package: b, interfaces: [c], target: a}\n"
    "  policies:\n"
    "    - {name: p, type: policy.secret.wasmcloud.dev/v1alpha1, properties: {backend: b}}\n"
    "    - {name: r, type: latticed.dev/rollout, properties: {maxUnavailable: '2'}}\n";

static const char EXT_CANONICAL[] =
    "{\"apiVersion\":\"v\",\"kind\":\"Application\",\"metadata\":{\"name\":\"x\"},"
    "\"spec\":{\"components\":[{\"name\":\"a\",\"type\":\"component\",\"properties\":"
    "{\"image\":\"i\"},\"traits\":[]},{\"name\":\"b\",\"type\":\"capability\","
    "\"properties\":{\"image\":\"i\"},\"traits\":[{\"type\":\"link\",\"properties\":{"
    "\"namespace\":\"a\",\"package\":\"b\",\"interfaces\":[],\"source\":{},\"target\":{"
    "\"name\":\"a\",\"secrets\":[{\"name\":\"s\",\"properties\":{\"policy\":\"p\","
    "\"key\":\"k\",\"version\":\"1\"}}]},\"name\":\"n\",\"latticed.dev/colocate\":\"required\"}},"
    "{\"type\":\"latticed.dev/resources\",\"properties\":{\"cpu\":0.25,\"memory\":\"64Mi\"}},"
    "{\"type\":\"linkdef\",\"properties\":{\"interfaces\":[\"c\"],\"namespace\":\"a\","
    "\"package\":\"b\",\"target\":\"a\"}}]}],"
    "\"policies\":[{\"name\":\"p\",\"properties\":{\"backend\":\"b\"},"
    "\"type\":\"policy.secret.wasmcloud.dev/v1alpha1\"},"
    "{\"name\":\"r\",\"properties\":{\"maxUnavailable\":\"2\"},"
    "\"type\":\"latticed.dev/rollout\"}]}}";

START_TEST(test_forms_round_trip)
{
    round_trip(APP, APP_CANONICAL);
    round_trip(EXT_APP, EXT_CANONICAL);
    /* The canonical form still means the extensions, not only their text. */
    {
        mt_result r = mt_parse(EXT_CANONICAL, LT_MODEL_FORMAT_JSON);
        const lt_model_component *b;

        ck_assert_int_eq(r.st, LT_OK);
        b = lt_model_find_component(r.m, "b");
        ck_assert_ptr_nonnull(b);
        ck_assert_uint_eq(b->trait_count, 3);
        ck_assert_int_eq(b->traits[0].link.colocate, LT_MODEL_COLOCATE_REQUIRED);
        ck_assert_ptr_nonnull(b->resources);
        ck_assert_uint_eq(b->resources->memory_bytes, 64u << 20);
        ck_assert_uint_eq(b->resources->cpu_millis, 250);
        ck_assert(r.m->rollout.set);
        ck_assert(!r.m->rollout.percent);
        ck_assert_uint_eq(r.m->rollout.max_unavailable, 2);
        mt_done(&r);
    }
    round_trip("{\"apiVersion\":\"v\",\"kind\":\"Application\",\"metadata\":{\"name\":\"j\","
               "\"annotations\":{}},\"spec\":{\"components\":[{\"name\":\"a\",\"type\":\"actor\","
               "\"properties\":{\"image\":\"i\",\"config\":[{\"name\":\"c\",\"properties\":{}}]},"
               "\"traits\":[{\"type\":\"x\",\"properties\":null},{\"type\":\"y\",\"properties\":"
               "[1e300,\"s\",false]}]}]}}",
               "{\"apiVersion\":\"v\",\"kind\":\"Application\",\"metadata\":{\"name\":\"j\"},"
               "\"spec\":{\"components\":[{\"name\":\"a\",\"type\":\"component\",\"properties\":"
               "{\"image\":\"i\",\"config\":[{\"name\":\"c\",\"properties\":{}}]},\"traits\":["
               "{\"type\":\"x\",\"properties\":null},{\"type\":\"y\",\"properties\":"
               "[1.0000000000000001e300,\"s\",false]}]}]}}");
}
END_TEST

START_TEST(test_forms_ids)
{
    struct {
        const char *app, *name, *id;
    } cases[] = {
        { "mymodel", "echo-component", "mymodel-echo_component" },
        { "some model name with spaces cause yaml", "echo",
          "some_model_name_with_spaces_cause_yaml-echo" },
        { "My ThInG", "thing.wasm", "my_thing-thing_wasm" },
        { "hello-simple", "hello", "hello_simple-hello" },
        { "caf\xc3\xa9",
          "\xe2\x84\xaa"
          "elvin",
          "caf_-kelvin" },
        { "\xc4\xb0stanbul", "x", "i_stanbul-x" },
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        lt_buf b;
        lt_buf_init(&b, 256);
        ck_assert_int_eq(lt_model_compute_id(cases[i].app, cases[i].name, &b), LT_OK);
        ck_assert_str_eq(b.ptr, cases[i].id);
        lt_buf_cleanup(&b);
    }
}
END_TEST

START_TEST(test_forms_set_annotation)
{
    mt_result res = mt_parse("apiVersion: v\nkind: Application\nmetadata: {name: x}\n"
                             "spec: {components: []}\n",
                             LT_MODEL_FORMAT_YAML);
    ck_assert_int_eq(res.st, LT_OK);
    ck_assert_ptr_null(res.m->version);
    ck_assert_int_eq(lt_model_set_annotation(res.m, "version", "01J0000000"), LT_OK);
    ck_assert_str_eq(res.m->version, "01J0000000");
    ck_assert_int_eq(lt_model_set_annotation(res.m, "description", "d"), LT_OK);
    ck_assert_int_eq(lt_model_set_annotation(res.m, "version", "v2"), LT_OK);
    ck_assert_str_eq(res.m->version, "v2");
    ck_assert_uint_eq(res.m->annotations.count, 2);
    ck_assert_str_eq(res.m->annotations.items[0].key, "description");
    lt_buf b;
    lt_buf_init(&b, 4096);
    ck_assert_int_eq(lt_model_to_json(res.m, 0, &b), LT_OK);
    ck_assert_ptr_nonnull(
        strstr(b.ptr, "\"annotations\":{\"description\":\"d\",\"version\":\"v2\"}"));
    lt_buf_cleanup(&b);
    mt_done(&res);
}
END_TEST

START_TEST(test_forms_json_input_and_auto)
{
    /* a YAML flow mapping starting with '{' is still read (JSON first, then YAML) */
    mt_result res = mt_parse("{apiVersion: v, kind: Application, metadata: {name: x}, "
                             "spec: {components: []}}",
                             LT_MODEL_FORMAT_AUTO);
    ck_assert_int_eq(res.st, LT_OK);
    mt_done(&res);
    /* the same text refused as strict JSON, with its position */
    res = mt_parse("{apiVersion: v}", LT_MODEL_FORMAT_JSON);
    ck_assert_int_eq(res.st, LT_ERR_INVALID);
    ck_assert_str_eq(res.r->items[0].code, "syntax");
    ck_assert_ptr_nonnull(strstr(res.r->items[0].message, "JSON syntax error"));
    ck_assert_uint_eq(res.r->items[0].line, 1);
    mt_done(&res);
}
END_TEST

START_TEST(test_forms_report_json)
{
    mt_result res = mt_parse("apiVersion: v\nkind: Application\nmetadata: {name: a.b}\n"
                             "spec: {components: []}\n",
                             LT_MODEL_FORMAT_YAML);
    lt_buf b;
    lt_buf_init(&b, 1 << 16);
    ck_assert_int_eq(lt_model_report_to_json(res.r, &b), LT_OK);
    ck_assert_str_eq(b.ptr,
                     "{\"valid\":false,\"errors\":[{\"message\":\"manifest name [a.b] is not "
                     "allowed (should match regex [^[-\\\\w]+$])\",\"location\":\"t.yaml:3:18\","
                     "\"path\":\"metadata.name\",\"code\":\"wadm\",\"line\":3,\"column\":18}],"
                     "\"warnings\":[{\"message\":\"apiVersion 'v' is not 'core.oam.dev/v1beta1'\","
                     "\"location\":\"t.yaml:1:13\",\"path\":\"apiVersion\",\"code\":\"latticed\","
                     "\"line\":1,\"column\":13}]}");
    lt_buf_cleanup(&b);
    mt_done(&res);
}
END_TEST

START_TEST(test_forms_yaml_scalar_types)
{
    /* YAML 1.2 core schema for plain scalars; quoted scalars and other words are strings */
    mt_result res = mt_parse(
        "apiVersion: v\nkind: Application\nmetadata: {name: s}\nspec:\n  components:\n"
        "    - name: c\n      type: component\n      properties: {image: x}\n"
        "      traits:\n        - type: t\n          properties: [~, null, \"\", true, False, "
        "0x1F, 0o17, 010, -5, +3, 1.5, .5, 1e3, yes, 1.0.0, 99999999999999999999, !!float 2, "
        "\"7\", '8']\n",
        LT_MODEL_FORMAT_YAML);
    ck_assert_int_eq(res.st, LT_OK);
    ck_assert_str_eq(res.m->components[0].traits[0].properties_json,
                     "[null,null,\"\",true,false,31,15,10,-5,3,1.5,0.5,1000.0,\"yes\",\"1.0.0\","
                     "1e20,2.0,\"7\",\"8\"]");
    mt_done(&res);
    /* .inf and .nan have no JSON form */
    res = mt_parse("apiVersion: v\nkind: Application\nmetadata: {name: s}\nspec:\n  components:\n"
                   "    - {name: c, type: component, properties: {image: x}, traits: [{type: t, "
                   "properties: {a: .nan}}]}\n",
                   LT_MODEL_FORMAT_YAML);
    mt_expect(&res, LT_MODEL_ERROR,
              "trait properties cannot be represented as JSON (.inf and .nan are not allowed)", 0,
              0);
    mt_done(&res);
}
END_TEST

Suite *model_forms_suite(void)
{
    Suite *s = suite_create("model_forms");
    TCase *tc = tcase_create("forms");
    tcase_set_timeout(tc, 30);
    tcase_add_test(tc, test_forms_typed_model);
    tcase_add_test(tc, test_forms_canonical_exact);
    tcase_add_test(tc, test_forms_round_trip);
    tcase_add_test(tc, test_forms_ids);
    tcase_add_test(tc, test_forms_set_annotation);
    tcase_add_test(tc, test_forms_json_input_and_auto);
    tcase_add_test(tc, test_forms_report_json);
    tcase_add_test(tc, test_forms_yaml_scalar_types);
    suite_add_tcase(s, tc);
    return s;
}
