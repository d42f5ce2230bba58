/*
 * valid.c - is a decoded command well formed? The host checks the whole
 * request (its request_id and every item) before it looks at the epoch, so a
 * request that is empty, malformed or meant for nobody can never raise the
 * host's epoch fence (issue 8: "a host accepts a higher epoch only on a
 * well-formed command for its lattice"). command.c refuses such a request
 * whole with RESULT_CODE_INVALID; nothing in it is applied.
 */
#include "host_int.h"

#include <stdio.h>
#include <string.h>

/* A printable ASCII string of 1..max bytes (request ids end up in logs). */
static bool printable(const char *s, size_t max)
{
    size_t n = 0;

    if (s == NULL || *s == '\0')
        return false;
    for (; *s != '\0'; s++, n++) {
        if (n >= max || (unsigned char)*s < 0x21 || (unsigned char)*s > 0x7e)
            return false;
    }
    return true;
}

static const char *const verb_names[] = { "start", "stop", "link", "unlink", "inventory" };

bool lt__host_head_ok(lt__host_verb verb, const char *request_id, size_t nitems, char *why,
                      size_t n)
{
    if (!printable(request_id, LT_HOST_MAX_REQUEST_ID)) {
        snprintf(why, n, "request_id must be 1-%u printable ASCII characters",
                 LT_HOST_MAX_REQUEST_ID);
        return false;
    }
    if (nitems == 0 && verb != LT_HOST_INVENTORY) {
        snprintf(why, n, "a %s request without items", verb_names[verb]);
        return false;
    }
    return true;
}

static bool id_ok(const char *what, const char *id, char *why, size_t n)
{
    if (lt__host_id_ok(id))
        return true;
    snprintf(why, n, "%s must be 1-%u characters of [A-Za-z0-9._:-], not starting with '.'", what,
             LT_HOST_MAX_ID);
    return false;
}

static bool start_ok(const hpb_spec *s, char *why, size_t n)
{
    if (!id_ok("instance_id", s->instance_id, why, n))
        return false;
    if (s->image_ref[0] == '\0' || strlen(s->image_ref) > LT_HOST_MAX_REF) {
        snprintf(why, n, "image_ref must be 1-%u bytes", LT_HOST_MAX_REF);
        return false;
    }
    if (s->spec_digest[0] == '\0' || strlen(s->spec_digest) > LT_HOST_MAX_ID) {
        snprintf(why, n, "spec_digest must be 1-%u bytes", LT_HOST_MAX_ID);
        return false;
    }
    return true;
}

bool lt__host_item_ok(lt__host_verb verb, const ProtobufCMessage *m, size_t i, char *why, size_t n)
{
    switch (verb) {
    case LT_HOST_START:
        return start_ok(((const Latticed__Host__V1__StartRequest *)(const void *)m)->instances[i],
                        why, n);
    case LT_HOST_STOP: {
        const Latticed__Host__V1__StopItem *it =
            ((const Latticed__Host__V1__StopRequest *)(const void *)m)->items[i];

        if (!id_ok("instance_id", it->instance_id, why, n))
            return false;
        if (it->placement[0] != '\0' && !printable(it->placement, LT_HOST_MAX_PLACEMENT)) {
            snprintf(why, n, "placement must be at most %u printable ASCII characters",
                     LT_HOST_MAX_PLACEMENT);
            return false;
        }
        return true;
    }
    case LT_HOST_LINK: {
        const hpb_link *l = ((const Latticed__Host__V1__LinkRequest *)(const void *)m)->links[i];

        return id_ok("link_id", l->link_id, why, n) &&
               id_ok("source_instance_id", l->source_instance_id, why, n);
    }
    case LT_HOST_UNLINK: {
        const Latticed__Host__V1__UnlinkItem *it =
            ((const Latticed__Host__V1__UnlinkRequest *)(const void *)m)->items[i];

        return id_ok("link_id", it->link_id, why, n) &&
               (it->source_instance_id[0] == '\0' ||
                id_ok("source_instance_id", it->source_instance_id, why, n));
    }
    case LT_HOST_INVENTORY:
        return id_ok("instance id",
                     ((const Latticed__Host__V1__InventoryRequest *)(const void *)m)
                         ->instance_ids[i],
                     why, n);
    }
    snprintf(why, n, "unknown verb");
    return false;
}
