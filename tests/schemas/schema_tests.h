/*
 * schema_tests.h - test cases of the schemas test executable that live in
 * their own files (test_schemas.c assembles the suite).
 */
#ifndef SCHEMA_TESTS_H
#define SCHEMA_TESTS_H

#include <check.h>

/** Wire lock: field names/numbers/types of every message equal golden/wire_lock.txt. */
TCase *schema_lock_tcase(void);

#endif
