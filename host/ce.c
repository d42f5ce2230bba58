/*
 * ce.c - host events as CloudEvents 1.0 in NATS binary content mode: the
 * protobuf payload is the message body, the context attributes are the
 * ce-specversion, ce-type, ce-source, ce-id and ce-time headers, and
 * content-type says application/protobuf (schemas/latticed/host/v1/host.proto).
 */
#include "host_int.h"

#include <stdio.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#include "lt_conn.h"

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
    uint8_t b[16];
    uint64_t a = rng_next(), c = rng_next();

    for (int i = 0; i < 8; i++) {
        b[i] = (uint8_t)(a >> (8 * i));
        b[8 + i] = (uint8_t)(c >> (8 * i));
    }
    b[6] = (uint8_t)((b[6] & 0x0f) | 0x40); /* version 4 */
    b[8] = (uint8_t)((b[8] & 0x3f) | 0x80); /* RFC 4122 variant */
    snprintf(out, 37,
             "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x", b[0], b[1],
             b[2], b[3], b[4], b[5], b[6], b[7], b[8], b[9], b[10], b[11], b[12], b[13], b[14],
             b[15]);
}

void lt_host_rfc3339(int64_t wall_ms, char out[64])
{
    time_t secs = (time_t)(wall_ms / 1000);
    struct tm tm;

    gmtime_r(&secs, &tm);
    snprintf(out, 64, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900, tm.tm_mon + 1,
             tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, (int)(wall_ms % 1000));
}

lt_status lt_host_ce_publish(natsConnection *nc, const char *prefix, const char *lattice,
                             const char *type, const char *host_id, const void *data, size_t len)
{
    char subject[LT_MAX_SUBJECT], cetype[128], id[37], when[64];
    natsMsg *msg = NULL;
    natsStatus s;
    int n;

    n = snprintf(subject, sizeof(subject), "%s.%s.evt.%s", prefix, lattice, type);
    if (n < 0 || (size_t)n >= sizeof(subject))
        return LT_FAIL(LT_ERR_TOO_BIG, "event subject too long");
    snprintf(cetype, sizeof(cetype), "dev.latticed.%s.v1", type);
    lt_host_uuid(id);
    lt_host_rfc3339(lt_host_wall_ms(), when);
    s = natsMsg_Create(&msg, subject, NULL, data, (int)len);
    if (s == NATS_OK)
        s = natsMsgHeader_Set(msg, "ce-specversion", "1.0");
    if (s == NATS_OK)
        s = natsMsgHeader_Set(msg, "ce-type", cetype);
    if (s == NATS_OK)
        s = natsMsgHeader_Set(msg, "ce-source", host_id);
    if (s == NATS_OK)
        s = natsMsgHeader_Set(msg, "ce-id", id);
    if (s == NATS_OK)
        s = natsMsgHeader_Set(msg, "ce-time", when);
    if (s == NATS_OK)
        s = natsMsgHeader_Set(msg, "content-type", "application/protobuf");
    if (s == NATS_OK)
        s = natsConnection_PublishMsg(nc, msg);
    natsMsg_Destroy(msg);
    if (s != NATS_OK)
        return LT_FAIL(lt_conn_status(s), "publish %s: %s", subject, natsStatus_GetText(s));
    return LT_OK;
}
