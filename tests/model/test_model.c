/*
 * test_model.c - runs the model unit suites: wadm's rules, the model's forms
 * (canonical JSON, ids), latticed's extensions, hostile input.
 */
#include <stdlib.h>

#include "model_test.h"

int main(void)
{
    SRunner *sr = srunner_create(model_rules_suite());
    srunner_add_suite(sr, model_forms_suite());
    srunner_add_suite(sr, model_ext_suite());
    srunner_add_suite(sr, model_hostile_suite());
    srunner_add_suite(sr, model_deploy_check_suite());
    srunner_run_all(sr, CK_ENV);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
