/*
 * lt_subject.c - validation of user-supplied subject tokens and bounded
 * subject building.
 */
#include "lt_subject.h"

#include <string.h>

#include "lt_limits.h"

/* Why byte c may not appear in a user token, or NULL when it may. */
static const char *token_byte_problem(unsigned char c)
{
    if (c == '.')
        return "must not contain '.'";
    if (c == '*' || c == '>')
        return "must not contain the wildcards '*' or '>'";
    if (c == ' ' || c == '\t')
        return "must not contain whitespace";
    if (c < 0x20 || c == 0x7f)
        return "must not contain control characters";
    if (c > 0x7e)
        return "must be printable ASCII";
    return NULL;
}

bool lt_subject_token_ok(const char *token)
{
    size_t n = 0;

    if (token == NULL || token[0] == '\0')
        return false;
    for (const unsigned char *p = (const unsigned char *)token; *p != '\0'; p++, n++) {
        if (n >= LT_MAX_TOKEN || token_byte_problem(*p) != NULL)
            return false;
    }
    return true;
}

lt_status lt_subject_check_token(const char *what, const char *token)
{
    size_t len;

    if (what == NULL)
        what = "subject token";
    if (token == NULL || token[0] == '\0')
        return LT_FAIL(LT_ERR_INVALID, "%s must not be empty", what);
    len = strlen(token);
    if (len > LT_MAX_TOKEN)
        return LT_FAIL(LT_ERR_TOO_BIG, "%s is %zu bytes, more than the limit of %u", what, len,
                       LT_MAX_TOKEN);
    for (size_t i = 0; i < len; i++) {
        const char *why = token_byte_problem((unsigned char)token[i]);

        if (why != NULL)    /* the byte as hex: never echo control bytes into logs */
            return LT_FAIL(LT_ERR_INVALID, "%s %s (byte %zu is 0x%02x)", what, why, i,
                           (unsigned)(unsigned char)token[i]);
    }
    return LT_OK;
}

lt_status lt_subject_check(const char *subject, bool allow_wildcards)
{
    size_t len, start = 0;

    if (subject == NULL || subject[0] == '\0')
        return LT_FAIL(LT_ERR_INVALID, "subject must not be empty");
    len = strlen(subject);
    if (len > LT_MAX_SUBJECT)
        return LT_FAIL(LT_ERR_TOO_BIG, "subject is %zu bytes, more than the limit of %u", len,
                       LT_MAX_SUBJECT);
    for (size_t i = 0; i <= len; i++) {
        unsigned char c = (unsigned char)subject[i];
        size_t tlen;

        if (c != '.' && c != '\0') {
            if (c <= 0x20 || c >= 0x7f)
                return LT_FAIL(LT_ERR_INVALID, "subject byte %zu (0x%02x) is not printable "
                               "ASCII", i, (unsigned)c);
            continue;
        }
        tlen = i - start;
        if (tlen == 0)
            return LT_FAIL(LT_ERR_INVALID, "subject has an empty token at byte %zu", i);
        for (size_t j = start; j < i; j++) {
            char w = subject[j];

            if (w != '*' && w != '>')
                continue;
            if (!allow_wildcards)
                return LT_FAIL(LT_ERR_INVALID, "subject must not contain wildcards");
            if (tlen != 1 || (w == '>' && c != '\0'))
                return LT_FAIL(LT_ERR_INVALID, "misplaced wildcard '%c' in subject", w);
        }
        start = i + 1;
    }
    return LT_OK;
}

static lt_status append_checked(lt_buf *b, const char *part)
{
    size_t add = strlen(part) + (b->len > 0 ? 1 : 0);
    lt_status st;

    if (b->len + add > LT_MAX_SUBJECT)
        return LT_FAIL(LT_ERR_TOO_BIG, "subject would exceed %u bytes", LT_MAX_SUBJECT);
    st = lt_buf_appendf(b, "%s%s", b->len > 0 ? "." : "", part);

    if (st == LT_ERR_TOO_BIG)
        return LT_FAIL(st, "subject would exceed %zu bytes", b->max);
    return st;
}

lt_status lt_subject_append(lt_buf *b, const char *part)
{
    lt_status st = lt_subject_check(part, false);

    if (st != LT_OK)
        return st;
    return append_checked(b, part);
}

lt_status lt_subject_append_token(lt_buf *b, const char *what, const char *token)
{
    lt_status st = lt_subject_check_token(what, token);

    if (st != LT_OK)
        return st;
    return append_checked(b, token);
}
