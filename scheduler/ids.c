/*
 * ids.c - the deterministic instance and link ids of types.proto: a tag, '-' and the first
 * 32 hex digits of a SHA-256 over the id's parts.
 */
#include "sched_int.h"

/* tag + "-" + the first 32 hex digits of SHA-256 over parts[0] seps[0] parts[1] ... */
static void hash_id(char tag, const char *const *parts, const char *seps, size_t n, char *out)
{
    sched_sha h;

    lt__sched_sha_init(&h);
    for (size_t i = 0; i < n; i++) {
        if (i > 0)
            lt__sched_sha_update(&h, &seps[i - 1], 1);
        lt__sched_sha_str(&h, parts[i]);
    }
    out[0] = tag;
    out[1] = '-';
    lt__sched_sha_hex(&h, out + 2, 32);
}

void lt_sched_instance_id(const char *lattice, const char *app, const char *version,
                          const char *component, const char *ordinal, char *out)
{
    const char *parts[] = { lattice, app, version, component, ordinal };

    hash_id('i', parts, "////", 5, out);
}

void lt_sched_link_id(const char *lattice, const char *app, const char *source_id, const char *ns,
                      const char *pkg, const char *name, const char *target_id, char *out)
{
    const char *parts[] = { lattice, app, source_id, ns, pkg, name, target_id };

    hash_id('l', parts, "///://", 7, out);
}
