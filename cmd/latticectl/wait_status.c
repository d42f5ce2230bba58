/*
 * wait_status.c - reading an application's status document (what latticed's scheduler
 * publishes on wadm.status.{lattice}.{name} and model.status returns) for apply --wait and
 * status --wait-for: has it reached what we wait for, a one-line summary, what is pending.
 * Pure logic, no NATS (unit-tested in tests/api/test_ctl_wait_status.c).
 */
#include "wait_status.h"

#include <ctype.h>
#include <string.h>

static const char *str(const json_t *o, const char *key, const char *dflt)
{
    const char *s = json_string_value(json_object_get(o, key));

    return s != NULL ? s : dflt;
}

int64_t lctl_duration_ms(const char *s)
{
    int64_t total = 0;

    if (s == NULL || *s == '\0')
        return -1;
    while (*s) {
        int64_t n = 0, unit = 1000;

        if (!isdigit((unsigned char)*s))
            return -1;
        while (isdigit((unsigned char)*s)) {
            n = n * 10 + (*s++ - '0');
            if (n > 100000000)
                return -1;
        }
        if (*s == 'h')
            unit = 3600000, s++;
        else if (*s == 'm' && s[1] == 's')
            unit = 1, s += 2;
        else if (*s == 'm')
            unit = 60000, s++;
        else if (*s == 's')
            s++;
        else if (*s != '\0')
            return -1;
        total += n * unit;
    }
    return total;
}

static const char *type_of(const json_t *st)
{
    return str(json_object_get(st, "status"), "type", "unknown");
}

const char *lctl_status_version(const json_t *st)
{
    return str(json_object_get(st, "latticed"), "version", "");
}

int lctl_status_verdict(const json_t *st, const char *want, const char *version)
{
    const char *type = type_of(st);

    if (strcmp(want, "undeployed") == 0) { /* and nothing runs any more: the stops are sent
                                              * when the scheduler says undeployed */
        const json_t *ld = json_object_get(st, "latticed");

        return strcmp(type, "undeployed") == 0 &&
                       (ld == NULL || json_integer_value(json_object_get(ld, "running")) == 0)
                   ? LCTL_WAIT_REACHED
                   : LCTL_WAIT_PENDING;
    }
    if (version != NULL && strcmp(lctl_status_version(st), version) != 0)
        return LCTL_WAIT_PENDING; /* still the previous version's status */
    if (strcmp(type, "deployed") == 0 && json_object_get(st, "latticed") != NULL)
        return LCTL_WAIT_REACHED;
    return strcmp(type, "failed") == 0 ? LCTL_WAIT_FAILED : LCTL_WAIT_PENDING;
}

/* "TYPE[: message] (version V, R/D running)" */
void lctl_status_summary(const json_t *st, lt_buf *b)
{
    const json_t *ld = json_object_get(st, "latticed");
    const char *msg = str(json_object_get(st, "status"), "message", "");

    LT_IGNORE(lt_buf_appendf(b, "%s%s%s", type_of(st), msg[0] ? ": " : "", msg));
    if (ld != NULL)
        LT_IGNORE(lt_buf_appendf(b, " (version %s, %lld/%lld running)",
                                 lctl_status_version(st)[0] ? lctl_status_version(st) : "-",
                                 json_integer_value(json_object_get(ld, "running")),
                                 json_integer_value(json_object_get(ld, "desired"))));
}

/* What is not there yet: components short of their count or not deployed, links not up.
 * sep between entries; returns how many. */
size_t lctl_status_pending(const json_t *st, lt_buf *b, const char *sep)
{
    const json_t *comps = json_object_get(json_object_get(st, "latticed"), "components");
    size_t i, n = 0;
    json_t *c;

    json_array_foreach (comps, i, c) {
        const json_t *cs = json_object_get(c, "status");
        long long run = json_integer_value(json_object_get(c, "running")),
                  want = json_integer_value(json_object_get(c, "desired"));
        const char *type = str(cs, "type", ""), *msg = str(cs, "message", "");

        if (run >= want && strcmp(type, "deployed") == 0)
            continue;
        LT_IGNORE(lt_buf_appendf(b, "%s%s %lld/%lld %s%s%s", n++ ? sep : "", str(c, "name", "?"),
                                 run, want, type, msg[0] ? ": " : "", msg));
    }
    json_array_foreach (json_object_get(st, "scalers"), i, c) {
        const json_t *cs = json_object_get(c, "status");
        const char *type = str(cs, "type", ""), *msg = str(cs, "message", "");

        if (strcmp(str(c, "kind", ""), "LinkScaler") != 0 || strcmp(type, "deployed") == 0)
            continue;
        LT_IGNORE(lt_buf_appendf(b, "%slink %s %s%s%s", n++ ? sep : "", str(c, "name", "?"), type,
                                 msg[0] ? ": " : "", msg));
    }
    return n;
}
