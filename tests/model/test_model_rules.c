/*
 * test_model_rules.c - one test per validation rule of wadm (exact message
 * text, level, location) and for the schema findings (unknown fields with
 * did-you-mean, missing fields, wrong types), in YAML and JSON.
 */
#include "model_test.h"

#define HDR "apiVersion: core.oam.dev/v1beta1\nkind: Application\n"
#define META(name) "metadata:\n  name: " name "\n  annotations:\n    version: v1\n"

/* A valid manifest used as the starting point. */
static const char VALID[] = HDR META("demo") "spec:\n"
                                             "  components:\n"
                                             "    - name: web\n" /* line 8 */
                                             "      type: component\n"
                                             "      properties:\n"
                                             "        image: ghcr.io/x/web:1\n"
                                             "      traits:\n"
                                             "        - type: spreadscaler\n" /* line 13 */
                                             "          properties:\n"
                                             "            instances: 2\n"
                                             "    - name: httpserver\n" /* line 16 */
                                             "      type: capability\n"
                                             "      properties:\n"
                                             "        image: ghcr.io/x/http:1\n"
                                             "      traits:\n"
                                             "        - type: link\n" /* line 21 */
                                             "          properties:\n"
                                             "            namespace: wasi\n"
                                             "            package: http\n"
                                             "            interfaces: [incoming-handler]\n"
                                             "            target:\n"
                                             "              name: web\n";

START_TEST(test_rules_valid_base)
{
    mt_result res = mt_parse(VALID, LT_MODEL_FORMAT_YAML);
    if (res.r->count != 0)
        mt_dump(res.r);
    ck_assert_int_eq(res.st, LT_OK);
    ck_assert_uint_eq(res.r->count, 0);
    ck_assert_str_eq(res.m->name, "demo");
    ck_assert_str_eq(res.m->version, "v1");
    ck_assert_uint_eq(res.m->component_count, 2);
    ck_assert_int_eq(res.m->components[1].traits[0].kind, LT_MODEL_TRAIT_LINK);
    ck_assert_ptr_null(lt_model_report_first_error(res.r));
    mt_done(&res);
}
END_TEST

START_TEST(test_rule1_name)
{
    mt_result res = mt_parse(HDR "metadata:\n  name: my.app\n  annotations: {}\nspec:\n"
                                 "  components: []\n",
                             LT_MODEL_FORMAT_YAML);
    ck_assert_int_eq(res.st, LT_ERR_INVALID);
    mt_expect(&res, LT_MODEL_ERROR,
              "manifest name [my.app] is not allowed (should match regex [^[-\\w]+$])", 4, 9);
    ck_assert_str_eq(lt_model_report_first_error(res.r),
                     "manifest name [my.app] is not allowed (should match regex [^[-\\w]+$])");
    mt_done(&res);
    ck_assert(lt_model_name_is_valid("my-manifest_v2"));
    ck_assert(!lt_model_name_is_valid("my manifest"));
    ck_assert(!lt_model_name_is_valid(""));
}
END_TEST

START_TEST(test_rule2_latest)
{
    mt_result res = mt_parse(HDR "metadata:\n  name: a\n  annotations:\n    version: latest\n"
                                 "spec:\n  components: []\n",
                             LT_MODEL_FORMAT_YAML);
    mt_expect(&res, LT_MODEL_ERROR, "latest is not allowed in wadm", 6, 14);
    mt_done(&res);
}
END_TEST

START_TEST(test_rule3_4_label_keys)
{
    mt_result res = mt_parse(HDR "metadata:\n  name: a\n  annotations:\n    -bad: x\n"
                                 "    experimental.wasmcloud.dev/shared: 'true'\n"
                                 "  labels:\n    \"bad key\": \"v\\\"q\"\n    app.oam.io/name: ok\n"
                                 "spec:\n  components: []\n",
                             LT_MODEL_FORMAT_YAML);
    mt_expect(&res, LT_MODEL_ERROR, "Invalid OAM label: (\"bad key\", \"v\\\"q\")", 9, 5);
    mt_expect(&res, LT_MODEL_ERROR, "Invalid OAM annotation: (\"-bad\", \"x\")", 6, 5);
    ck_assert_uint_eq(res.r->error_count, 2);
    /* labels are checked before annotations, as wadm does */
    ck_assert_str_eq(lt_model_report_first_error(res.r),
                     "Invalid OAM label: (\"bad key\", \"v\\\"q\")");
    mt_done(&res);
    ck_assert(lt_model_label_key_is_valid("wasmcloud.dev/authors"));
    ck_assert(!lt_model_label_key_is_valid("1abc.dev/x"));
    ck_assert(!lt_model_label_key_is_valid("a/b/c"));
    ck_assert(!lt_model_label_key_is_valid("x-"));
}
END_TEST

static const char DUPS[] = HDR META("dups") "spec:\n"
                                            "  components:\n"
                                            "    - name: a\n" /* 9 */
                                            "      type: component\n"
                                            "      properties: {image: x, id: same}\n"
                                            "    - name: a\n" /* 12 */
                                            "      type: capability\n"
                                            "      properties: {image: y, id: other}\n"
                                            "    - name: b\n" /* 15 */
                                            "      type: capability\n"
                                            "      properties: {image: y, id: same}\n";

START_TEST(test_rule5_6_duplicates)
{
    mt_result res = mt_parse(DUPS, LT_MODEL_FORMAT_YAML);
    mt_expect(&res, LT_MODEL_ERROR, "Duplicate component name in manifest: a", 12, 13);
    mt_expect(&res, LT_MODEL_ERROR, "Duplicate component identifier in manifest: same", 17, 34);
    ck_assert_uint_eq(res.r->error_count, 2);
    const lt_model_diag *d = mt_find(res.r, LT_MODEL_ERROR, "identifier", false);
    ck_assert_str_eq(d->path, "spec.components[2].properties.id");
    ck_assert_str_eq(d->code, "wadm");
    mt_done(&res);
}
END_TEST

START_TEST(test_rule7_missing_targets)
{
    mt_result res = mt_parse(
        HDR META(
            "m") "spec:\n  components:\n"
                 "    - name: c\n      type: component\n      properties: {image: x}\n"
                 "      traits:\n"
                 "        - type: link\n" /* 13 */
                 "          properties: {namespace: n, package: p, interfaces: [i], target: zeta}\n"
                 "        - type: linkdef\n" /* 15 */
                 "          properties: {namespace: n, package: p, interfaces: [i], target: {name: "
                 "alpha}}\n"
                 "        - type: link\n"
                 "          properties: {namespace: n, package: q, interfaces: [i], target: "
                 "zeta}\n",
        LT_MODEL_FORMAT_YAML);
    /* a set, sorted; any trait whose properties decode as a link counts */
    mt_expect(&res, LT_MODEL_ERROR,
              "The following capability component(s) are missing from the manifest: "
              "[\"alpha\", \"zeta\"]",
              14, 75);
    ck_assert_uint_eq(mt_count(res.r, LT_MODEL_WARNING, "is not a listed component"), 2);
    mt_expect(&res, LT_MODEL_WARNING,
              "link (target [zeta]) target [zeta] is not a listed component", 0, 0);
    mt_done(&res);
}
END_TEST

START_TEST(test_rule8_interfaces)
{
    mt_result res =
        mt_parse(HDR META(
                     "i") "spec:\n  components:\n"
                          "    - name: c\n      type: component\n      properties: {image: x}\n"
                          "      traits:\n"
                          "        - type: link\n"
                          "          properties:\n"
                          "            {namespace: wasi, package: keyvalue, interfaces: [atomic, "
                          "store], target: c}\n"
                          "        - type: link\n"
                          "          properties:\n"
                          "            {namespace: wasmcloud, package: postgres, interfaces: "
                          "[query], target: c}\n"
                          "        - type: link\n"
                          "          properties: {namespace: mine, package: kv, interfaces: [x], "
                          "target: c}\n",
                 LT_MODEL_FORMAT_YAML);
    ck_assert_int_eq(res.st, LT_OK);
    mt_expect(&res, LT_MODEL_WARNING, "unrecognized interface [wasi:keyvalue/atomic]", 15, 63);
    mt_expect(&res, LT_MODEL_WARNING, "unrecognized interface [wasmcloud:postgres/query]", 0, 0);
    ck_assert_uint_eq(res.r->warning_count, 2);
    const lt_model_diag *d = mt_find(res.r, LT_MODEL_WARNING, "atomic]", false);
    ck_assert_str_eq(d->path, "spec.components[0].traits[0].properties.interfaces[0]");
    mt_done(&res);
}
END_TEST

START_TEST(test_rule9_dangling_and_custom_links)
{
    mt_result res = mt_parse(
        HDR META(
            "d") "spec:\n  components:\n"
                 "    - name: c\n      type: component\n      properties: {image: x}\n"
                 "      traits:\n"
                 "        - type: link\n"
                 "          properties: {name: n1, namespace: a, package: b, interfaces: [i], "
                 "target: {name: ghost}}\n"
                 "        - type: link\n"
                 "          properties: {package: b, interfaces: [i]}\n"
                 "        - type: link\n"
                 "          properties: {package: b, interfaces: [i], target: c}\n"
                 "        - type: link\n"
                 "          properties: {package: b, interfaces: [i], target: {name: nobody}}\n",
        LT_MODEL_FORMAT_YAML);
    mt_expect(&res, LT_MODEL_WARNING, "link (name [n1]) target [ghost] is not a listed component",
              14, 85);
    mt_expect(&res, LT_MODEL_ERROR, "custom link is missing 'target' property", 16, 23);
    mt_expect(&res, LT_MODEL_ERROR, "custom link is missing 'target' name property", 18, 61);
    mt_expect(&res, LT_MODEL_WARNING, "custom link target [nobody] is not a listed component", 20,
              61);
    /* rule 11 for each, then the reason at the field */
    ck_assert_uint_eq(mt_count(res.r, LT_MODEL_ERROR, "Link trait deserialized as custom trait"),
                      3);
    mt_expect(&res, LT_MODEL_ERROR,
              "Link trait deserialized as custom trait, ensure fields are correct: "
              "{\"interfaces\":[\"i\"],\"package\":\"b\"}",
              16, 23);
    ck_assert_uint_eq(mt_count(res.r, LT_MODEL_ERROR, "missing field `namespace`"), 3);
    mt_done(&res);
}
END_TEST

START_TEST(test_rule10_secrets)
{
    mt_result res = mt_parse(
        HDR META(
            "s") "spec:\n"
                 "  policies:\n"
                 "    - {name: good, type: policy.secret.wasmcloud.dev/v1alpha1, properties: "
                 "{backend: v}}\n"
                 "    - {name: nobackend, type: policy.secret.wasmcloud.dev/v1alpha1, properties: "
                 "{a: b}}\n"
                 "    - {name: other, type: something, properties: {backend: v}}\n"
                 "  components:\n"
                 "    - name: c\n      type: component\n"
                 "      properties:\n"
                 "        image: x\n"
                 "        secrets:\n"
                 "          - {name: s1, properties: {policy: good, key: k}}\n"
                 "          - {name: s2, properties: {policy: missing, key: k}}\n" /* 19 */
                 "          - {name: s3, properties: {policy: nobackend, key: k}}\n"
                 "          - {name: s4, properties: {policy: other, key: k, field: f, version: "
                 "'2'}}\n"
                 "      traits:\n"
                 "        - type: link\n"
                 "          properties:\n"
                 "            namespace: a\n            package: b\n            interfaces: [c]\n"
                 "            target:\n              name: c\n"
                 "              secrets: [{name: s5, properties: {policy: nope, key: k}}]\n",
        LT_MODEL_FORMAT_YAML);
    mt_expect(&res, LT_MODEL_ERROR, "secret 's2' is mapped to unknown policy 'missing'", 19, 45);
    mt_expect(&res, LT_MODEL_ERROR,
              "secret 's3' is mapped to policy 'nobackend' which does not include a 'backend' "
              "property",
              20, 45);
    mt_expect(&res, LT_MODEL_ERROR,
              "secret 's4' is mapped to policy 'other' which is not a secret policy. Expected "
              "type 'policy.secret.wasmcloud.dev/v1alpha1'",
              21, 45);
    mt_expect(&res, LT_MODEL_ERROR, "secret 's5' is mapped to unknown policy 'nope'", 0, 0);
    ck_assert_uint_eq(res.r->error_count, 4);
    /* link secrets come first, as in wadm */
    ck_assert_str_eq(lt_model_report_first_error(res.r),
                     "secret 's5' is mapped to unknown policy 'nope'");
    mt_done(&res);
}
END_TEST

START_TEST(test_rule11_custom_scaler)
{
    mt_result res =
        mt_parse(HDR META(
                     "x") "spec:\n  components:\n"
                          "    - name: c\n      type: component\n      properties: {image: x}\n"
                          "      traits:\n"
                          "        - type: daemonscaler\n"
                          "          properties:\n"
                          "            instances: 1\n"
                          "            incorect: [1, 2.5, true, null]\n" /* 16 */
                          "        - type: spreadscaler\n"
                          "          properties:\n"
                          "            instances: '3'\n", /* 19 */
                 LT_MODEL_FORMAT_YAML);
    mt_expect(&res, LT_MODEL_ERROR,
              "Scaler trait deserialized as custom trait, ensure fields are correct: "
              "{\"incorect\":[1,2.5,true,null],\"instances\":1}",
              15, 13);
    mt_expect(&res, LT_MODEL_ERROR,
              "unknown field `incorect`, expected one of `instances`, `replicas`, `spread`", 16,
              13);
    mt_expect(&res, LT_MODEL_ERROR, "invalid type: string \"3\", expected a non-negative integer",
              19, 24);
    const lt_model_diag *d = mt_find(res.r, LT_MODEL_ERROR, "invalid type: string", false);
    ck_assert_str_eq(d->path, "spec.components[0].traits[1].properties.instances");
    mt_done(&res);
}
END_TEST

START_TEST(test_rule12_component_properties)
{
    mt_result res =
        mt_parse(HDR META("p") "spec:\n  components:\n"
                               "    - {name: both, type: component, properties: {image: x, "
                               "application: {name: a, component: b}}}\n"
                               "    - {name: none, type: capability, properties: {}}\n"
                               "    - {name: cfg, type: capability, properties: {application: "
                               "{name: shr, component: b}, config: [{name: c}]}}\n"
                               "    - {name: sec, type: capability, properties: {application: "
                               "{name: shr2, component: b},"
                               " secrets: [{name: s, properties: {policy: p, key: k}}]}}\n"
                               "    - name: scl\n      type: component\n"
                               "      properties: {application: {name: shr3, component: b}}\n"
                               "      traits: [{type: spreadscaler, properties: {instances: 1}}]\n",
                 LT_MODEL_FORMAT_YAML);
    mt_expect(&res, LT_MODEL_ERROR,
              "Component cannot have both 'image' and 'application' properties", 9, 49);
    mt_expect(&res, LT_MODEL_ERROR, "Component must have either 'image' or 'application' property",
              10, 50);
    mt_expect(&res, LT_MODEL_ERROR, "Shared component 'shr' cannot specify additional 'config'", 0,
              0);
    mt_expect(&res, LT_MODEL_ERROR, "Shared component 'shr2' cannot specify additional 'secrets'",
              0, 0);
    mt_expect(&res, LT_MODEL_ERROR, "Shared component 'shr3' cannot include a scaler trait", 16,
              15);
    mt_done(&res);
}
END_TEST

START_TEST(test_rule13_14_duplicate_links_and_configs)
{
    mt_result res = mt_parse(
        HDR META("l") "spec:\n  components:\n"
                      "    - name: c\n      type: component\n      properties: {image: x}\n"
                      "      traits:\n"
                      "        - type: link\n"
                      "          properties:\n"
                      "            {namespace: wasi, package: keyvalue, interfaces: [atomics, "
                      "store], target: c,"
                      " source: {config: [{name: cfg1, properties: {a: b}}, {name: ext}]}}\n"
                      "        - type: link\n" /* 16 */
                      "          properties:\n"
                      "            {name: other, namespace: wasi, package: keyvalue, interfaces: "
                      "[atomics],"
                      " target: {name: c, config: [{name: ext}, {name: cfg1, properties: {}}]}}\n"
                      "        - type: link\n" /* 19 */
                      "          properties:\n"
                      "            {namespace: wasi, package: keyvalue, interfaces: [store], "
                      "target: c}\n",
        LT_MODEL_FORMAT_YAML);
    mt_expect(&res, LT_MODEL_ERROR,
              "Duplicate link found inside component 'c': default (wasi:keyvalue/store)", 21, 13);
    ck_assert_uint_eq(mt_count(res.r, LT_MODEL_ERROR, "Duplicate link found"), 1);
    /* only configs with properties must be unique; `ext` twice is fine */
    mt_expect(&res, LT_MODEL_ERROR, "Duplicate link config name found: 'cfg1'", 0, 0);
    ck_assert_uint_eq(mt_count(res.r, LT_MODEL_ERROR, "Duplicate link config"), 1);
    mt_done(&res);
}
END_TEST

START_TEST(test_rule15_deprecated_keys)
{
    mt_result res = mt_parse(
        HDR META(
            "dep") "spec:\n  components:\n"
                   "    - name: c\n      type: component\n      properties: {image: x}\n"
                   "      traits:\n"
                   "        - type: link\n"
                   "          properties:\n"
                   "            namespace: a\n            package: b\n            interfaces: [c]\n"
                   "            target: c\n"
                   "            target_config: [{name: t, properties: {k: v}}]\n" /* 19 */
                   "            source_config: [{name: s, properties: {k: v}}]\n",
        LT_MODEL_FORMAT_YAML);
    ck_assert_int_eq(res.st, LT_OK);
    mt_expect(&res, LT_MODEL_WARNING,
              "one of the components' link trait contains a target_config key, please use "
              "target:config: rather",
              19, 13);
    mt_expect(&res, LT_MODEL_WARNING,
              "one of the components' link trait contains a source_config key, please use "
              "source:config: rather",
              20, 13);
    const lt_model_link *l = &res.m->components[0].traits[0].link;
    ck_assert_str_eq(l->target, "c");
    ck_assert_uint_eq(l->target_config_count, 1);
    ck_assert_str_eq(l->target_config[0].name, "t");
    ck_assert(l->has_source);
    ck_assert_str_eq(l->source_config[0].name, "s");
    mt_done(&res);
}
END_TEST

/* ---- schema findings ------------------------------------------------------------------------ */

START_TEST(test_schema_unknown_fields_did_you_mean)
{
    mt_result res = mt_parse(HDR "metadata:\n  name: a\n  anotations: {}\n" /* 5 */
                                 "spec:\n  components:\n"
                                 "    - name: c\n      type: componnet\n" /* 9 */
                                 "      properties: {imgae: x}\n"         /* 10 */
                                 "      traits:\n"
                                 "        - type: spreadscalar\n" /* 12 */
                                 "          properties: {replica: 2}\n"
                                 "extra: 1\n",
                             LT_MODEL_FORMAT_YAML);
    mt_expect(&res, LT_MODEL_WARNING,
              "unknown field `anotations` is ignored (did you mean 'annotations'?)", 5, 3);
    mt_expect(&res, LT_MODEL_ERROR,
              "unknown variant `componnet`, expected one of `component`, `actor`, `capability` "
              "(did you mean 'component'?)",
              9, 13);
    mt_expect(&res, LT_MODEL_ERROR,
              "unknown field `imgae`, expected one of `image`, `application`, `id`, `config`, "
              "`secrets` (did you mean 'image'?)",
              10, 20);
    mt_expect(&res, LT_MODEL_WARNING,
              "trait type 'spreadscalar' is not one latticed knows: it is kept but has no effect "
              "(did you mean 'spreadscaler'?)",
              12, 17);
    mt_expect(&res, LT_MODEL_ERROR,
              "unknown field `extra`, expected one of `apiVersion`, `kind`, `metadata`, `spec`", 14,
              1);
    mt_done(&res);
}
END_TEST

START_TEST(test_schema_missing_and_types)
{
    mt_result res = mt_parse(HDR "metadata:\n  annotations:\n    version: 1.0\n"
                                 "  labels: {port: 8080}\n"
                                 "spec:\n  components:\n"
                                 "    - type: component\n      properties: {image: [x]}\n",
                             LT_MODEL_FORMAT_YAML);
    mt_expect(&res, LT_MODEL_ERROR, "missing field `name`", 4, 3);
    mt_expect(&res, LT_MODEL_ERROR,
              "invalid type: floating point `1.0`, expected a string (quote the value to make it "
              "one: '1.0')",
              5, 14);
    mt_expect(&res, LT_MODEL_ERROR,
              "invalid type: integer `8080`, expected a string (quote the value to make it one: "
              "'8080')",
              6, 18);
    mt_expect(&res, LT_MODEL_ERROR, "invalid type: sequence, expected a string", 10, 27);
    const lt_model_diag *d = mt_find(res.r, LT_MODEL_ERROR, "sequence", false);
    ck_assert_str_eq(d->path, "spec.components[0].properties.image");
    mt_done(&res);
}
END_TEST

START_TEST(test_schema_json_paths)
{
    const char *json =
        "{\"apiVersion\":\"core.oam.dev/v1beta1\",\"kind\":\"Application\","
        "\"metadata\":{\"name\":\"j\",\"annotations\":{}},\"spec\":{\"components\":["
        "{\"name\":\"a\",\"type\":\"component\",\"properties\":{\"image\":\"x\"}},"
        "{\"name\":\"b\",\"type\":\"component\",\"properties\":{\"image\":\"y\"},"
        "\"traits\":[{\"type\":\"spreadscaler\",\"properties\":{\"instances\":-2}}]}]}}";
    mt_result res = mt_parse(json, LT_MODEL_FORMAT_JSON);
    mt_expect(&res, LT_MODEL_ERROR, "invalid value: integer `-2`, expected a non-negative integer",
              0, 0);
    const lt_model_diag *d = mt_find(res.r, LT_MODEL_ERROR, "invalid value", false);
    ck_assert_str_eq(d->path, "spec.components[1].traits[0].properties.instances");
    ck_assert_uint_eq(d->line, 0);
    lt_buf loc;
    lt_buf_init(&loc, 256);
    ck_assert_int_eq(lt_model_diag_location(res.r, d, &loc), LT_OK);
    ck_assert_str_eq(loc.ptr, "spec.components[1].traits[0].properties.instances");
    lt_buf_cleanup(&loc);
    mt_done(&res);

    /* annotation keys with dots and slashes are quoted in paths */
    res = mt_parse("{\"apiVersion\":\"v\",\"kind\":\"Application\",\"metadata\":{\"name\":\"j\","
                   "\"annotations\":{\"a.b/c\":1}},\"spec\":{\"components\":[]}}",
                   LT_MODEL_FORMAT_JSON);
    d = mt_find(res.r, LT_MODEL_ERROR, "expected a string", false);
    ck_assert_ptr_nonnull(d);
    ck_assert_str_eq(d->path, "metadata.annotations[\"a.b/c\"]");
    mt_expect(&res, LT_MODEL_WARNING, "apiVersion 'v' is not 'core.oam.dev/v1beta1'", 0, 0);
    mt_done(&res);
}
END_TEST

START_TEST(test_schema_yaml_location_string)
{
    lt_model_parse_opts o = { .source_name = "apps/x.yaml" };
    const char *text = HDR "metadata: {name: a}\nspec: {components: [{name: c}]}\n";
    mt_result res = mt_parse_opts(text, strlen(text), &o);
    const lt_model_diag *d = mt_find(res.r, LT_MODEL_ERROR, "missing field `type`", true);
    ck_assert_ptr_nonnull(d);
    lt_buf loc;
    lt_buf_init(&loc, 256);
    ck_assert_int_eq(lt_model_diag_location(res.r, d, &loc), LT_OK);
    ck_assert_str_eq(loc.ptr, "apps/x.yaml:4:21");
    ck_assert_str_eq(d->path, "spec.components[0]");
    lt_buf_cleanup(&loc);
    mt_expect(&res, LT_MODEL_ERROR, "missing field `properties`", 4, 21);
    mt_done(&res);
}
END_TEST

START_TEST(test_schema_scaler_fields)
{
    mt_result res = mt_parse(
        HDR META("s") "spec:\n  components:\n"
                      "    - name: c\n      type: component\n      properties: {image: x}\n"
                      "      traits:\n"
                      "        - {type: spreadscaler, properties: {instances: 1, replicas: 2}}\n"
                      "        - {type: daemonscaler, properties: {replicas: 3, spread: [{name: a, "
                      "weight: -1, colour: red}]}}\n",
        LT_MODEL_FORMAT_YAML);
    mt_expect(&res, LT_MODEL_ERROR, "duplicate field `instances` (`replicas` is its alias)", 0, 0);
    mt_expect(&res, LT_MODEL_ERROR,
              "unknown field `colour`, expected one of `name`, `requirements`, `weight`", 0, 0);
    mt_expect(&res, LT_MODEL_ERROR, "invalid value: integer `-1`, expected a non-negative integer",
              0, 0);
    mt_done(&res);

    res = mt_parse(
        HDR META("s") "spec:\n  components:\n"
                      "    - name: c\n      type: component\n      properties: {image: x}\n"
                      "      traits:\n"
                      "        - {type: daemonscaler, properties: {replicas: 3, spread: [{name: a},"
                      " {name: b, weight: 7, requirements: {zone: z}}]}}\n",
        LT_MODEL_FORMAT_YAML);
    ck_assert_int_eq(res.st, LT_OK);
    const lt_model_trait *t = &res.m->components[0].traits[0];
    ck_assert_int_eq(t->kind, LT_MODEL_TRAIT_DAEMONSCALER);
    ck_assert_uint_eq(t->scaler.instances, 3);
    ck_assert_uint_eq(t->scaler.spread_count, 2);
    ck_assert(!t->scaler.spreads[0].has_weight);
    ck_assert_uint_eq(t->scaler.spreads[0].weight, 100);
    ck_assert_uint_eq(t->scaler.spreads[1].weight, 7);
    ck_assert_str_eq(lt_model_map_get(&t->scaler.spreads[1].requirements, "zone"), "z");
    mt_done(&res);
}
END_TEST

Suite *model_rules_suite(void)
{
    Suite *s = suite_create("model_rules");
    TCase *tc = tcase_create("wadm");
    tcase_set_timeout(tc, 30);
    tcase_add_test(tc, test_rules_valid_base);
    tcase_add_test(tc, test_rule1_name);
    tcase_add_test(tc, test_rule2_latest);
    tcase_add_test(tc, test_rule3_4_label_keys);
    tcase_add_test(tc, test_rule5_6_duplicates);
    tcase_add_test(tc, test_rule7_missing_targets);
    tcase_add_test(tc, test_rule8_interfaces);
    tcase_add_test(tc, test_rule9_dangling_and_custom_links);
    tcase_add_test(tc, test_rule10_secrets);
    tcase_add_test(tc, test_rule11_custom_scaler);
    tcase_add_test(tc, test_rule12_component_properties);
    tcase_add_test(tc, test_rule13_14_duplicate_links_and_configs);
    tcase_add_test(tc, test_rule15_deprecated_keys);
    suite_add_tcase(s, tc);
    tc = tcase_create("schema");
    tcase_set_timeout(tc, 30);
    tcase_add_test(tc, test_schema_unknown_fields_did_you_mean);
    tcase_add_test(tc, test_schema_missing_and_types);
    tcase_add_test(tc, test_schema_json_paths);
    tcase_add_test(tc, test_schema_yaml_location_string);
    tcase_add_test(tc, test_schema_scaler_fields);
    suite_add_tcase(s, tc);
    return s;
}
