/*
 * input.c - reading a command's input file or standard input ("-") with a
 * size bound, for latticectl commands that take -f FILE.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "latticectl.h"
#include "lt_alloc.h"

/* errno as text (GNU strerror_r, thread-safe). */
static const char *errno_text(int e, char *buf, size_t size)
{
    return strerror_r(e, buf, size);
}

lt_status lctl_read_input(const char *path, size_t max, char **new_data, size_t *out_len)
{
    lt_status st = LT_OK;
    bool is_stdin = strcmp(path, "-") == 0;
    FILE *f = is_stdin ? stdin : fopen(path, "rb");
    char *buf = NULL;
    size_t len = 0, cap = 0;
    char etext[128];
    if (f == NULL)
        return LT_FAIL(LT_ERR_IO, "cannot open %s: %s", path,
                       errno_text(errno, etext, sizeof(etext)));
    for (;;) {
        if (len + 1 >= cap) {
            size_t ncap = cap == 0 ? 64 * 1024 : cap * 2;
            if (ncap > max + 2)
                ncap = max + 2; /* room for max + 1 bytes and the NUL */
            if (ncap <= cap)    /* read max + 1 bytes: enough to know it is over */
                break;
            char *p = lt_realloc(buf, ncap);
            if (p == NULL) {
                st = LT_FAIL(LT_ERR_NOMEM, "reading %s", path);
                goto out;
            }
            buf = p;
            cap = ncap;
        }
        size_t want = cap - 1 - len;
        if (want == 0)
            break;
        size_t n = fread(buf + len, 1, want, f);
        len += n;
        if (n < want) {
            if (ferror(f)) {
                st = LT_FAIL(LT_ERR_IO, "cannot read %s: %s", path,
                             errno_text(errno, etext, sizeof(etext)));
                goto out;
            }
            break;
        }
    }
    if (buf == NULL) {
        buf = lt_malloc(1);
        if (buf == NULL) {
            st = LT_FAIL(LT_ERR_NOMEM, "reading %s", path);
            goto out;
        }
    }
    buf[len] = '\0';
    *new_data = buf;
    *out_len = len;
    buf = NULL;
out:
    lt_free(buf);
    if (!is_stdin)
        fclose(f);
    return st;
}
