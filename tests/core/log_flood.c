/*
 * log_flood.c - a real process for test_log: writes COUNT log records of
 * SIZE bytes through lt_log, then prints "dropped=N" (lt_log_dropped) on
 * stdout and exits. test_log points its stderr at a pipe nobody reads.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lt_log.h"

int main(int argc, char **argv)
{
    long count = argc > 1 ? strtol(argv[1], NULL, 10) : 1000;
    long size = argc > 2 ? strtol(argv[2], NULL, 10) : 500;
    char pad[1024];

    if (size < 1 || size >= (long)sizeof(pad))
        size = 500;
    memset(pad, 'x', (size_t)size);
    pad[size] = '\0';
    if (argc > 3)
        lt_log_trace_set(argv[3]);
    for (long i = 0; i < count; i++)
        LT_INFO("flood", "record %ld %s", i, pad);
    printf("dropped=%llu\n", (unsigned long long)lt_log_dropped());
    fflush(stdout);
    return 0;
}
