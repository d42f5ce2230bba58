/*
 * test_pbjson_interop.c - interop tests of lt_pbjson against wasmCloud v2
 * payloads and protoc. (Placeholder: the tests land in the next commit.)
 */
#include "test_pbjson.h"

Suite *pbjson_interop_suite(void)
{
    return suite_create("pbjson_interop");
}
