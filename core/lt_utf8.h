/*
 * lt_utf8.h - strict UTF-8 checks shared by every module that copies
 * untrusted bytes into JSON or protobuf strings (no overlongs, surrogates or
 * code points above U+10FFFF).
 */
#ifndef LT_UTF8_H
#define LT_UTF8_H

#include <stdbool.h>
#include <stddef.h>

/** Length (1-4) of the valid UTF-8 sequence at s, of at most left bytes; 0 if invalid. */
size_t lt_utf8_seq(const unsigned char *s, size_t left);

/** True when the len bytes at s are valid UTF-8. */
bool lt_utf8_valid(const char *s, size_t len);

/** Replace every byte of the len bytes at s that is not part of valid UTF-8 with '?'. */
void lt_utf8_scrub(char *s, size_t len);

#endif
