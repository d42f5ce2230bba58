/*
 * test_model.c - runs the model unit suites: wadm's rules, the model's forms
 * (canonical JSON, ids), latticed's extensions, hostile input.
 */
#include <stdlib.h>

#include "model_test.h"
#include "lt_testutil.h"

int main(void)
{
    return lt_test_run_suites((Suite *const[]){ model_rules_suite(), model_forms_suite(),
                                                model_ext_suite(), model_hostile_suite(),
                                                model_deploy_check_suite(), NULL });
}
