/*
 * ce.c - host events as CloudEvents 1.0 in NATS binary content mode, built
 * with the project's binding (wire/lt_ce.h): the protobuf payload is the
 * body; ce-type "dev.latticed.{type}.v1", ce-source the host id, ce-id a v4
 * UUID from a fast PRNG (not a syscall per event), ce-time formatted once per
 * millisecond (schemas/latticed/host/v1/host.proto).
 */
#include "host_int.h"

#include <stdio.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#include "lt_ce.h"
#include "lt_subject.h"

static uint64_t rng_state;

/* splitmix64: fast, and plenty for event ids (uniqueness, not secrecy). */
static uint64_t rng_next(void)
{
    uint64_t z;

    if (rng_state == 0) {
        if (getrandom(&rng_state, sizeof(rng_state), 0) != (ssize_t)sizeof(rng_state))
            rng_state = (uint64_t)time(NULL) ^ ((uint64_t)getpid() << 32);
        rng_state |= 1;
    }
    z = (rng_state += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

void lt_host_uuid(char out[37])
{
    static const char hex[] = "0123456789abcdef";
    uint8_t b[16];
    uint64_t a = rng_next(), c = rng_next();
    size_t o = 0;

    for (int i = 0; i < 8; i++) {
        b[i] = (uint8_t)(a >> (8 * i));
        b[8 + i] = (uint8_t)(c >> (8 * i));
    }
    b[6] = (uint8_t)((b[6] & 0x0f) | 0x40); /* version 4 */
    b[8] = (uint8_t)((b[8] & 0x3f) | 0x80); /* RFC 4122 variant */
    for (int i = 0; i < 16; i++) {
        if (i == 4 || i == 6 || i == 8 || i == 10)
            out[o++] = '-';
        out[o++] = hex[b[i] >> 4];
        out[o++] = hex[b[i] & 15];
    }
    out[o] = '\0';
}

void lt_host_rfc3339(int64_t wall_ms, char out[64])
{
    time_t secs = (time_t)(wall_ms / 1000);
    struct tm tm;

    gmtime_r(&secs, &tm);
    snprintf(out, 64, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900, tm.tm_mon + 1,
             tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, (int)(wall_ms % 1000));
}

/* ce-time of now, formatted at most once per millisecond. */
static const char *now_rfc3339(void)
{
    static char cached[64];
    static int64_t cached_ms = -1;
    int64_t now = lt_host_wall_ms();

    if (now != cached_ms) {
        lt_host_rfc3339(now, cached);
        cached_ms = now;
    }
    return cached;
}

lt_status lt_host_ce_msg(natsMsg **new_msg, const char *prefix, const char *lattice,
                         const char *type, const char *host_id, const void *data, size_t len)
{
    char subject[LT_MAX_SUBJECT], cetype[128], id[37];
    lt_ce_event ev;
    int n;

    if (lt_subject_host_event(subject, sizeof(subject), prefix, lattice, host_id, type) != LT_OK)
        return LT_FAIL(LT_ERR_TOO_BIG, "event subject too long");
    n = snprintf(cetype, sizeof(cetype), "dev.latticed.%s.v1", type);
    if (n < 0 || (size_t)n >= sizeof(cetype))
        return LT_FAIL(LT_ERR_TOO_BIG, "event type too long");
    lt_host_uuid(id);
    memset(&ev, 0, sizeof(ev));
    ev.type = cetype;
    ev.source = host_id;
    ev.id = id;
    ev.time = now_rfc3339();
    ev.datacontenttype = LT_CE_CT_PROTOBUF;
    ev.data = data;
    ev.data_len = len;
    return lt_ce_to_msg(new_msg, subject, &ev);
}
