/*
 * test_model_ext.c - latticed's extensions (resources trait, rollout policy,
 * link co-location) and latticed's own rules (zero weights, clashing ids,
 * ignored provider-to-provider links...).
 */
#include <stdio.h>

#include "model_test.h"

#define HDR "apiVersion: core.oam.dev/v1beta1\nkind: Application\nmetadata: {name: e}\n"

static mt_result with_traits(const char *traits)
{
    char text[4096];
    snprintf(text, sizeof(text),
             HDR "spec:\n  components:\n"
                 "    - name: c\n      type: component\n      properties: {image: x}\n"
                 "      traits:\n%s",
             traits);
    return mt_parse(text, LT_MODEL_FORMAT_YAML);
}

START_TEST(test_ext_resources)
{
    struct {
        const char *props;
        uint64_t memory;
        uint32_t cpu;
    } ok[] = {
        { "{memory: 128Mi, cpu: 250m}", 128u << 20, 250 },
        { "{memory: 1G}", 1000000000u, 0 },
        { "{memory: 1.5Ki}", 1536, 0 },
        { "{memory: 4096}", 4096, 0 },
        { "{cpu: 0.5}", 0, 500 },
        { "{cpu: 2}", 0, 2000 },
        { "{cpu: '1.25'}", 0, 1250 },
    };
    for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
        char t[256];
        snprintf(t, sizeof(t), "        - type: latticed.dev/resources\n          properties: %s\n",
                 ok[i].props);
        mt_result res = with_traits(t);
        if (res.st != LT_OK)
            mt_dump(res.r);
        ck_assert_int_eq(res.st, LT_OK);
        const lt_model_component *c = &res.m->components[0];
        ck_assert_int_eq(c->traits[0].kind, LT_MODEL_TRAIT_RESOURCES);
        ck_assert_ptr_nonnull(c->resources);
        ck_assert_uint_eq(c->resources->memory_bytes, ok[i].memory);
        ck_assert_uint_eq(c->resources->cpu_millis, ok[i].cpu);
        ck_assert_uint_eq(res.r->count, 0); /* a known trait type: no warning */
        mt_done(&res);
    }
    const char *bad[] = { "{memory: 12X}",
                          "{memory: 0}",
                          "{cpu: 0.0001}",
                          "{cpu: -1}",
                          "{memory: 1.5}",
                          "{}",
                          "{memory: 1Gi, gpu: 1}",
                          "[1]",
                          "{memory: 99999999999999999999Pi}" };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        char t[256];
        snprintf(t, sizeof(t), "        - type: latticed.dev/resources\n          properties: %s\n",
                 bad[i]);
        mt_result res = with_traits(t);
        ck_assert_msg(res.st == LT_ERR_INVALID, "accepted %s", bad[i]);
        ck_assert_ptr_null(res.m);
        mt_done(&res);
    }
    mt_result res = with_traits("        - {type: latticed.dev/resources, properties: {cpu: 1, "
                                "memroy: 1Gi}}\n");
    mt_expect(&res, LT_MODEL_ERROR,
              "unknown field `memroy`, expected `memory` or `cpu` (did you mean 'memory'?)", 0, 0);
    mt_done(&res);
    res = with_traits("        - {type: latticed.dev/resources, properties: {cpu: 1}}\n"
                      "        - {type: latticed.dev/resources, properties: {cpu: 2}}\n");
    mt_expect(&res, LT_MODEL_ERROR, "component 'c' has more than one latticed.dev/resources trait",
              0, 0);
    mt_done(&res);
}
END_TEST

START_TEST(test_ext_resources_on_shared)
{
    mt_result res = mt_parse(HDR "spec:\n  components:\n"
                                 "    - name: c\n      type: capability\n"
                                 "      properties: {application: {name: s, component: x}}\n"
                                 "      traits: [{type: latticed.dev/resources, properties: "
                                 "{cpu: 1}}]\n",
                             LT_MODEL_FORMAT_YAML);
    mt_expect(&res, LT_MODEL_ERROR,
              "Shared component 's' cannot specify resources: the shared application sets them", 0,
              0);
    mt_done(&res);
}
END_TEST

static mt_result with_policies(const char *policies)
{
    char text[4096];
    snprintf(text, sizeof(text), HDR "spec:\n  components: []\n  policies:\n%s", policies);
    return mt_parse(text, LT_MODEL_FORMAT_YAML);
}

START_TEST(test_ext_rollout)
{
    mt_result res = with_policies("    - {name: r, type: latticed.dev/rollout, properties: "
                                  "{maxUnavailable: '25%'}}\n");
    ck_assert_int_eq(res.st, LT_OK);
    ck_assert(res.m->rollout.set);
    ck_assert(res.m->rollout.percent);
    ck_assert_uint_eq(res.m->rollout.max_unavailable, 25);
    ck_assert_uint_eq(lt_model_rollout_max_unavailable(&res.m->rollout, 10), 2);
    ck_assert_uint_eq(lt_model_rollout_max_unavailable(&res.m->rollout, 3), 1); /* at least one */
    ck_assert_uint_eq(lt_model_rollout_max_unavailable(&res.m->rollout, 9001), 2250);
    mt_done(&res);

    res = with_policies("    - {name: r, type: latticed.dev/rollout, properties: "
                        "{maxUnavailable: '0'}}\n");
    ck_assert_int_eq(res.st, LT_OK);
    ck_assert(!res.m->rollout.percent);
    ck_assert_uint_eq(lt_model_rollout_max_unavailable(&res.m->rollout, 10), 0);
    mt_done(&res);

    res = with_policies("    - {name: other, type: foo, properties: {}}\n");
    ck_assert(!res.m->rollout.set);
    ck_assert_uint_eq(lt_model_rollout_max_unavailable(&res.m->rollout, 8), 2); /* default 25% */
    ck_assert_uint_eq(lt_model_rollout_max_unavailable(&res.m->rollout, 1), 1);
    mt_done(&res);

    const char *bad[] = { "{maxUnavailable: '101%'}", "{maxUnavailable: 'x'}", "{}",
                          "{maxUnavailable: '1', maxUnavaliable: '2'}", "{maxUnavailable: 1}" };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        char p[256];
        snprintf(p, sizeof(p), "    - {name: r, type: latticed.dev/rollout, properties: %s}\n",
                 bad[i]);
        res = with_policies(p);
        ck_assert_msg(res.st == LT_ERR_INVALID, "accepted %s", bad[i]);
        mt_done(&res);
    }
    res = with_policies("    - {name: r1, type: latticed.dev/rollout, properties: "
                        "{maxUnavailable: '1'}}\n"
                        "    - {name: r2, type: latticed.dev/rollout, properties: "
                        "{maxUnavailable: '2'}}\n");
    mt_expect(&res, LT_MODEL_ERROR,
              "only one latticed.dev/rollout policy is allowed (policy 'r1' is the first)", 0, 0);
    mt_done(&res);
}
END_TEST

START_TEST(test_ext_colocate)
{
    const char *vals[] = { "none", "preferred", "required" };
    for (size_t i = 0; i < 3; i++) {
        char t[512];
        snprintf(t, sizeof(t),
                 "        - type: link\n          properties: {namespace: a, package: b, "
                 "interfaces: [c], target: c, latticed.dev/colocate: %s}\n",
                 vals[i]);
        mt_result res = with_traits(t);
        ck_assert_int_eq(res.st, LT_OK);
        ck_assert_int_eq(res.m->components[0].traits[0].link.colocate,
                         (lt_model_colocate)(LT_MODEL_COLOCATE_NONE + i));
        mt_done(&res);
    }
    mt_result res = with_traits("        - type: link\n          properties: {namespace: a, "
                                "package: b, interfaces: [c], target: c, "
                                "latticed.dev/colocate: prefered}\n");
    mt_expect(&res, LT_MODEL_ERROR,
              "invalid value \"prefered\" for latticed.dev/colocate: expected `none`, "
              "`preferred` or `required` (did you mean 'preferred'?)",
              0, 0);
    mt_done(&res);
    /* an unknown key in a link is ignored, as wadm does, but said */
    res = with_traits("        - type: link\n          properties: {namespace: a, package: b, "
                      "interfaces: [c], target: c, colocate: required}\n");
    ck_assert_int_eq(res.st, LT_OK);
    mt_expect(&res, LT_MODEL_WARNING, "unknown field `colocate` is ignored", 0, 0);
    mt_done(&res);
}
END_TEST

START_TEST(test_ext_latticed_rules)
{
    mt_result res = with_traits("        - {type: spreadscaler, properties: {instances: 3, spread:"
                                " [{name: a, weight: 0}, {name: b, weight: 0}]}}\n"
                                "        - {type: daemonscaler, properties: {instances: 1}}\n");
    mt_expect(&res, LT_MODEL_ERROR,
              "the spreads of component 'c' all have weight 0: instances cannot be divided", 0, 0);
    mt_expect(&res, LT_MODEL_WARNING,
              "component 'c' has more than one scaler trait: each runs its own instances", 0, 0);
    mt_done(&res);

    res = with_traits("        - {type: spreadscaler, properties: {instances: "
                      "9223372036854775807, spread: [{name: a, weight: 3}]}}\n");
    mt_expect(&res, LT_MODEL_ERROR,
              "instances and spread weights of component 'c' are too large to compute with", 0, 0);
    mt_done(&res);

    res = with_traits("        - {type: spreadscaler, properties: {namespace: a, package: b, "
                      "interfaces: [c], target: c}}\n");
    ck_assert_int_eq(res.st, LT_OK); /* wadm accepts it, and ignores it */
    mt_expect(&res, LT_MODEL_WARNING,
              "spreadscaler trait has link properties (namespace, package, interfaces): it is "
              "read as a link and ignored, so nothing is scaled",
              0, 0);
    mt_done(&res);

    res = with_traits("        - {type: link, properties: {instances: 1}}\n");
    mt_expect(&res, LT_MODEL_ERROR,
              "Link trait deserialized as custom trait, ensure fields are correct: "
              "{\"instances\":1}",
              0, 0);
    mt_done(&res);

    res = mt_parse(HDR "spec:\n  policies:\n    - {name: p, type: a, properties: {}}\n"
                       "    - {name: p, type: b, properties: {}}\n"
                       "  components:\n"
                       "    - {name: a.b, type: component, properties: {image: x}}\n"
                       "    - {name: a_b, type: component, properties: {image: x}}\n"
                       "    - name: p1\n      type: capability\n      properties: {image: x}\n"
                       "      traits: [{type: link, properties: {namespace: a, package: b, "
                       "interfaces: [c], target: p2}}]\n"
                       "    - {name: p2, type: capability, properties: {image: x}}\n",
                   LT_MODEL_FORMAT_YAML);
    ck_assert_int_eq(res.st, LT_OK);
    mt_expect(&res, LT_MODEL_WARNING, "duplicate policy name 'p': the last one is used", 0, 0);
    mt_expect(&res, LT_MODEL_WARNING,
              "components 'a.b' and 'a_b' get the same id 'e-a_b'; give one an explicit `id`", 0,
              0);
    mt_expect(&res, LT_MODEL_WARNING,
              "link from capability 'p1' to capability 'p2' is ignored: a capability links only "
              "to components",
              0, 0);
    mt_done(&res);
}
END_TEST

Suite *model_ext_suite(void)
{
    Suite *s = suite_create("model_ext");
    TCase *tc = tcase_create("extensions");
    tcase_set_timeout(tc, 30);
    tcase_add_test(tc, test_ext_resources);
    tcase_add_test(tc, test_ext_resources_on_shared);
    tcase_add_test(tc, test_ext_rollout);
    tcase_add_test(tc, test_ext_colocate);
    tcase_add_test(tc, test_ext_latticed_rules);
    suite_add_tcase(s, tc);
    return s;
}
