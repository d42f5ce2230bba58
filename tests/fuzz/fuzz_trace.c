/*
 * fuzz_trace.c - libFuzzer target for the W3C traceparent parser
 * (trace/lt_trace.c): any accepted input formats back to a version-00 header
 * that parses to the same context, equal to the input when it was version 00;
 * a rejected input leaves the output untouched. Built with libFuzzer under
 * -Dfuzz=true, and with tests/fuzz/lt_fuzz_driver.c as a smoke test.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "lt_trace.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    lt_trace_ctx c, back;
    char text[LT_TRACE_PARENT_LEN + 1];
    char *copy = malloc(size + 1); /* exact size: ASan sees any read past len */

    if (copy == NULL)
        return 0;
    memcpy(copy, data, size);
    memset(&c, 0xa5, sizeof(c));
    if (lt_trace_parse(copy, size, &c) != LT_OK) {
        for (size_t i = 0; i < sizeof(c); i++) {
            if (((unsigned char *)&c)[i] != 0xa5)
                abort();
        }
        free(copy);
        return 0;
    }
    lt_trace_format(&c, text);
    if (lt_trace_parse(text, strlen(text), &back) != LT_OK || memcmp(&c, &back, sizeof(c)) != 0)
        abort();
    if (copy[0] == '0' && copy[1] == '0' && memcmp(text, copy, LT_TRACE_PARENT_LEN) != 0)
        abort();
    free(copy);
    return 0;
}
