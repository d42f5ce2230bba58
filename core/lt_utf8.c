/*
 * lt_utf8.c - strict UTF-8 validation and scrubbing.
 */
#include "lt_utf8.h"

#include <stdint.h>

size_t lt_utf8_seq(const unsigned char *s, size_t left)
{
    unsigned char c = s[0];
    size_t n;
    uint32_t cp;

    if (c < 0x80)
        return 1;
    if (c >= 0xc2 && c <= 0xdf)
        n = 2, cp = c & 0x1fu;
    else if (c >= 0xe0 && c <= 0xef)
        n = 3, cp = c & 0x0fu;
    else if (c >= 0xf0 && c <= 0xf4)
        n = 4, cp = c & 0x07u;
    else
        return 0;
    if (left < n)
        return 0;
    for (size_t i = 1; i < n; i++) {
        if ((s[i] & 0xc0) != 0x80)
            return 0;
        cp = (cp << 6) | (s[i] & 0x3fu);
    }
    if ((n == 3 && cp < 0x800) || (n == 4 && cp < 0x10000) || cp > 0x10ffff ||
        (cp >= 0xd800 && cp <= 0xdfff))
        return 0;
    return n;
}

bool lt_utf8_valid(const char *s, size_t len)
{
    for (size_t i = 0, n; i < len; i += n) {
        n = lt_utf8_seq((const unsigned char *)s + i, len - i);
        if (n == 0)
            return false;
    }
    return true;
}

void lt_utf8_scrub(char *s, size_t len)
{
    for (size_t i = 0, n; i < len; i += n) {
        n = lt_utf8_seq((const unsigned char *)s + i, len - i);
        if (n == 0) {
            s[i] = '?';
            n = 1;
        }
    }
}
