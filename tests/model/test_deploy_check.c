/*
 * test_deploy_check.c - wadm's deploy check of model/deploy_check.c on its own, with a
 * table of other apps standing in for the store or the scheduler's specs: wadm's exact
 * messages, which rule wins, and that a failing answer from the caller is passed on.
 */
#include <check.h>
#include <string.h>

#include "lt_model.h"
#include "model_test.h"

/* The other deployed apps: explicit ids they claim and their shared components. */
typedef struct {
    const char *app;
    const char *id;     /* an explicit id it claims, or NULL */
    const char *shared; /* a component of a shared app, or NULL */
    lt_model_kind kind;
} other;

typedef struct {
    const other *v;
    size_t n;
    lt_status fail; /* returned by every answer when not LT_OK */
    int asked;
} table;

static lt_status id_owner(void *ctx, const char *id, const char **app)
{
    table *t = ctx;

    t->asked++;
    *app = NULL;
    for (size_t i = 0; t->fail == LT_OK && i < t->n; i++)
        if (t->v[i].id != NULL && strcmp(t->v[i].id, id) == 0)
            *app = t->v[i].app;
    return t->fail;
}

static lt_status shared_has(void *ctx, const char *app, const char *component, lt_model_kind kind,
                            bool *ok)
{
    table *t = ctx;

    t->asked++;
    *ok = false;
    for (size_t i = 0; t->fail == LT_OK && i < t->n; i++)
        if (strcmp(t->v[i].app, app) == 0 && t->v[i].shared != NULL &&
            strcmp(t->v[i].shared, component) == 0 && t->v[i].kind == kind)
            *ok = true;
    return t->fail;
}

static const other others[] = {
    { "shared-http", "http_server", "httpserver", LT_MODEL_CAPABILITY },
    { "shared-http", NULL, "hello", LT_MODEL_COMPONENT },
};

START_TEST(test_check_ok)
{
    table t = { others, 2, LT_OK, 0 };
    lt_model_deploy_env env = { &t, id_owner, shared_has };
    const lt_model_deploy_comp comps[] = {
        { "web", "my_web", LT_MODEL_COMPONENT, NULL, NULL },
        { "http", NULL, LT_MODEL_CAPABILITY, "shared-http", "httpserver" },
    };
    lt_buf why;

    lt_buf_init(&why, 1024);
    ck_assert_int_eq(lt_model_check_deploy(comps, 2, &env, &why), LT_OK);
    ck_assert_str_eq(why.ptr, "");
    ck_assert_int_eq(t.asked, 2);
    lt_buf_cleanup(&why);
}
END_TEST

START_TEST(test_check_id_taken)
{
    table t = { others, 2, LT_OK, 0 };
    lt_model_deploy_env env = { &t, id_owner, shared_has };
    const lt_model_deploy_comp comps[] = {
        { "ref", NULL, LT_MODEL_COMPONENT, "nowhere", "x" }, /* unresolvable, but ids come first */
        { "srv", "http_server", LT_MODEL_CAPABILITY, NULL, NULL },
    };
    lt_buf why;

    lt_buf_init(&why, 1024);
    ck_assert_int_eq(lt_model_check_deploy(comps, 2, &env, &why), LT_ERR_REFUSED);
    ck_assert_str_eq(why.ptr, "Component identifier 'http_server' is already deployed in a "
                              "different application 'shared-http'.");
    lt_buf_cleanup(&why);
}
END_TEST

START_TEST(test_check_shared_missing)
{
    table t = { others, 2, LT_OK, 0 };
    lt_model_deploy_env env = { &t, id_owner, shared_has };
    const lt_model_deploy_comp comps[] = {
        { "a", NULL, LT_MODEL_COMPONENT, "shared-http", "httpserver" },  /* wrong kind */
        { "b", NULL, LT_MODEL_CAPABILITY, "shared-http", "httpserver" }, /* fine */
        { "c\"d", NULL, LT_MODEL_COMPONENT, "other", "hello" },          /* no such app */
    };
    lt_buf why, names;
    size_t n = 99;

    lt_buf_init(&why, 1024);
    ck_assert_int_eq(lt_model_check_deploy(comps, 3, &env, &why), LT_ERR_REFUSED);
    ck_assert_str_eq(why.ptr, "Application contains shared components that are not deployed in "
                              "other applications: [\"a\", \"c\\\"d\"]");
    lt_buf_init(&names, 1024);
    ck_assert_int_eq(lt_model_shared_missing(comps, 3, &env, &names, &n), LT_OK);
    ck_assert_uint_eq(n, 2);
    ck_assert_str_eq(names.ptr, "[\"a\", \"c\\\"d\"]");
    lt_buf_reset(&names);
    ck_assert_int_eq(lt_model_shared_missing(comps + 1, 1, &env, &names, &n), LT_OK);
    ck_assert_uint_eq(n, 0);
    ck_assert_str_eq(names.ptr, "");
    lt_buf_cleanup(&names);
    lt_buf_cleanup(&why);
}
END_TEST

START_TEST(test_check_caller_failure)
{
    table t = { others, 2, LT_ERR_TRANSPORT, 0 };
    lt_model_deploy_env env = { &t, id_owner, shared_has };
    const lt_model_deploy_comp with_id[] = { { "w", "x", LT_MODEL_COMPONENT, NULL, NULL } };
    const lt_model_deploy_comp with_ref[] = { { "r", NULL, LT_MODEL_COMPONENT, "s", "c" } };
    lt_buf why;

    lt_buf_init(&why, 1024);
    ck_assert_int_eq(lt_model_check_deploy(with_id, 1, &env, &why), LT_ERR_TRANSPORT);
    ck_assert_int_eq(lt_model_check_deploy(with_ref, 1, &env, &why), LT_ERR_TRANSPORT);
    ck_assert_str_eq(why.ptr, "");
    lt_buf_cleanup(&why);
}
END_TEST

Suite *model_deploy_check_suite(void)
{
    Suite *s = suite_create("model_deploy_check");
    TCase *tc = tcase_create("deploy_check");

    tcase_add_test(tc, test_check_ok);
    tcase_add_test(tc, test_check_id_taken);
    tcase_add_test(tc, test_check_shared_missing);
    tcase_add_test(tc, test_check_caller_failure);
    suite_add_tcase(s, tc);
    return s;
}
