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
#include <time.h>
#include <unistd.h>

#include "lt_ce.h"
#include "lt_subject.h"
#include "lt_rand.h"
#include "lt_time.h"

static lt_rand rng; /* the loop thread's; seeded on first use */

void lt__host_uuid(char out[37])
{
    if (rng.s == 0)
        lt_rand_seed_random(&rng);
    lt_rand_uuid_from(&rng, out);
}

/* ce-time of now, formatted at most once per millisecond. */
static const char *now_rfc3339(void)
{
    static char cached[LT_TIME_TEXT_MAX];
    static int64_t cached_ms = -1;
    int64_t now = lt__host_wall_ms();

    if (now != cached_ms) {
        lt_time_format_ms(now, cached);
        cached_ms = now;
    }
    return cached;
}

lt_status lt__host_ce_msg(natsMsg **new_msg, const char *prefix, const char *lattice,
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
    lt__host_uuid(id);
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
