/*
 * lt_subject.c - validation of user-supplied subject tokens, bounded subject building, and
 * the named subjects of latticed's protocol with their patterns and parsers.
 */
#include "lt_subject.h"

#include <stdarg.h>
#include <stdio.h>
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

        if (why != NULL) /* the byte as hex: never echo control bytes into logs */
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
                return LT_FAIL(LT_ERR_INVALID, "subject byte %zu (0x%02x) is not printable ASCII",
                               i, (unsigned)c);
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


/* ---- the named subjects --------------------------------------------------------------------- */

/* out = fmt expanded; LT_ERR_TOO_BIG (out "") when it does not fit. */
static lt_status build(char *out, size_t cap, const char *fmt, ...) LT_PRINTF(3, 4);

static lt_status build(char *out, size_t cap, const char *fmt, ...)
{
    va_list ap;
    int n;

    va_start(ap, fmt);
    n = vsnprintf(out, cap, fmt, ap);
    va_end(ap);
    if (n < 0 || (size_t)n >= cap) {
        if (cap > 0)
            out[0] = '\0';
        return LT_FAIL(LT_ERR_TOO_BIG, "subject over %zu bytes", cap > 0 ? cap - 1 : 0);
    }
    return LT_OK;
}

lt_status lt_subject_host_event(char *out, size_t cap, const char *prefix, const char *lattice,
                                const char *host_id, const char *type)
{
    /* The host id in the subject lets NATS permissions bind a host to its own events. */
    return build(out, cap, "%s.%s.evt.h.%s.%s", prefix, lattice, host_id, type);
}

lt_status lt_subject_events(char *out, size_t cap, const char *prefix, const char *lattice)
{
    return build(out, cap, "%s.%s.evt.>", prefix, lattice);
}

/* Copy the token at s (up to '.' or the end) into out (size n); its end in *end. */
static bool take_token(const char *s, char *out, size_t n, const char **end)
{
    const char *dot = strchr(s, '.');
    size_t len = dot != NULL ? (size_t)(dot - s) : strlen(s);

    if (len == 0 || len >= n)
        return false;
    memcpy(out, s, len);
    out[len] = '\0';
    *end = s + len;
    return true;
}

bool lt_subject_split_lattice(const char *prefix, const char *subject, char *lattice, size_t ln,
                              const char **rest)
{
    size_t pl = strlen(prefix);
    const char *end;

    if (strncmp(subject, prefix, pl) != 0 || subject[pl] != '.' ||
        !take_token(subject + pl + 1, lattice, ln, &end) || *end != '.')
        return false;
    *rest = end + 1;
    return true;
}

bool lt_subject_host_event_parse(const char *prefix, const char *subject,
                                 char lattice[LT_SUBJECT_TOKEN_BUF],
                                 char host_id[LT_SUBJECT_HOST_BUF], const char **type)
{
    const char *rest, *end;

    host_id[0] = '\0';
    if (!lt_subject_split_lattice(prefix, subject, lattice, LT_SUBJECT_TOKEN_BUF, &rest) ||
        strncmp(rest, "evt.", 4) != 0)
        return false;
    rest += 4;
    if (strncmp(rest, "h.", 2) == 0) { /* evt.h.{host_id}.{type} */
        if (!take_token(rest + 2, host_id, LT_SUBJECT_HOST_BUF, &end) || *end != '.')
            return false;
        rest = end + 1;
    }
    if (*rest == '\0')
        return false;
    *type = rest;
    return true;
}

lt_status lt_subject_host_command(char *out, size_t cap, const char *prefix, const char *lattice,
                                  const char *host_id, const char *verb)
{
    return build(out, cap, "%s.%s.host.%s.%s", prefix, lattice, host_id, verb);
}

bool lt_subject_host_command_parse(const char *prefix, const char *lattice, const char *subject,
                                   char host_id[LT_SUBJECT_HOST_BUF], const char **verb)
{
    size_t pl = strlen(prefix), ll = strlen(lattice);
    const char *p = subject, *end;

    if (strncmp(p, prefix, pl) != 0 || p[pl] != '.')
        return false;
    p += pl + 1;
    if (strncmp(p, lattice, ll) != 0 || strncmp(p + ll, ".host.", 6) != 0)
        return false;
    p += ll + 6;
    if (!take_token(p, host_id, LT_SUBJECT_HOST_BUF, &end) || *end != '.' || end[1] == '\0')
        return false;
    *verb = end + 1;
    return true;
}

lt_status lt_subject_inventory(char *out, size_t cap, const char *prefix, const char *lattice)
{
    return build(out, cap, "%s.%s.inventory", prefix, lattice);
}

lt_status lt_subject_hosts(char *out, size_t cap, const char *prefix, const char *lattice)
{
    return build(out, cap, "%s.%s.hosts", prefix, lattice);
}

lt_status lt_subject_plan(char *out, size_t cap, const char *prefix, const char *lattice)
{
    return build(out, cap, "%s.%s.plan", prefix, lattice);
}

lt_status lt_subject_instances(char *out, size_t cap, const char *prefix, const char *lattice)
{
    return build(out, cap, "%s.%s.instances", prefix, lattice);
}

lt_status lt_subject_cp_event(char *out, size_t cap, const char *prefix, const char *lattice,
                              const char *type)
{
    return build(out, cap, "%s.%s.evt.cp.%s", prefix, lattice, type);
}

lt_status lt_subject_cp_events(char *out, size_t cap, const char *prefix, const char *lattice)
{
    return build(out, cap, "%s.%s.evt.cp.>", prefix, lattice);
}

lt_status lt_subject_app_status(char *out, size_t cap, const char *status_prefix,
                                const char *lattice, const char *app)
{
    return build(out, cap, "%s.%s.%s", status_prefix, lattice, app);
}

lt_status lt_subject_api(char *out, size_t cap, const char *api_prefix, const char *lattice,
                         const char *operation, const char *name)
{
    return build(out, cap, "%s.%s.model.%s%s%s", api_prefix, lattice, operation,
                 name != NULL ? "." : "", name != NULL ? name : "");
}

lt_status lt_subject_api_all(char *out, size_t cap, const char *api_prefix)
{
    return build(out, cap, "%s.>", api_prefix);
}
