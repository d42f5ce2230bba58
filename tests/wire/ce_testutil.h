/*
 * ce_testutil.h - helpers shared by the CloudEvents tests (test_ce, test_ce_json).
 */
#ifndef CE_TESTUTIL_H
#define CE_TESTUTIL_H

#include <stddef.h>

#include "lt_ce.h"

/** Every attribute, extension and the data of a decoded event equal ev's (Check asserts). */
void assert_same_event(const lt_ce *ce, const lt_ce_event *ev);

/** A sample event with every optional attribute and two extensions; data is borrowed. */
lt_ce_event sample_event(const void *data, size_t len, const char *ct);

#endif
