/*
 * store_util.c - small helpers of the store module: name checks, KV key
 * builders, ULIDs (48-bit ms time + 80 random bits, Crockford base32) and
 * NATS status translation.
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "lt_rand.h"
#include "store_int.h"
#include "lt_time.h"

bool lt_store_name_is_valid(const char *name)
{
    size_t n;

    if (name == NULL)
        return false;
    n = strlen(name);
    if (n == 0 || n > LT_STORE_MAX_NAME)
        return false;
    for (size_t i = 0; i < n; i++) {
        char c = name[i];

        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '_' || c == '-'))
            return false;
    }
    return true;
}

static lt_status key_of(lt_buf *out, const char *prefix, const char *lattice, const char *app,
                        const char *id)
{
    if (!lt_store_name_is_valid(lattice))
        return LT_FAIL(LT_ERR_INVALID, "invalid lattice name");
    if (!lt_store_name_is_valid(app))
        return LT_FAIL(LT_ERR_INVALID, "invalid application name");
    if (id != NULL && !lt_store_name_is_valid(id))
        return LT_FAIL(LT_ERR_INVALID, "invalid manifest key id");
    lt_buf_reset(out);
    if (prefix != NULL && lt_buf_appendf(out, "%s.", prefix) != LT_OK)
        return LT_FAIL(LT_ERR_TOO_BIG, "key too long");
    if (lt_buf_appendf(out, "%s.%s", lattice, app) != LT_OK ||
        (id != NULL && lt_buf_appendf(out, ".%s", id) != LT_OK))
        return LT_FAIL(LT_ERR_TOO_BIG, "key too long");
    return LT_OK;
}

lt_status lt__store_key_index(const char *lattice, const char *app, lt_buf *out)
{
    return key_of(out, "app", lattice, app, NULL);
}

lt_status lt__store_key_manifest(const char *lattice, const char *app, const char *id, lt_buf *out)
{
    return key_of(out, "manifest", lattice, app, id);
}

lt_status lt__store_key_status(const char *lattice, const char *app, lt_buf *out)
{
    return key_of(out, NULL, lattice, app, NULL);
}

/* ---- ULID ------------------------------------------------------------------------------------ */

static const char crockford[] = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";
static pthread_mutex_t ulid_mu = PTHREAD_MUTEX_INITIALIZER;
static int64_t ulid_last_ms;
static unsigned char ulid_last_rand[10];

static void fill_random(unsigned char *p, size_t n)
{
    if (lt_rand_bytes(p, n) != LT_OK) {
        /* No entropy source: fall back on time-derived bytes (still unique per ms + counter). */
        for (size_t i = 0; i < n; i++)
            p[i] = (unsigned char)(clock() ^ (i * 131u));
    }
}

void lt_store_ulid(char out[LT_STORE_ULID_LEN + 1])
{
    unsigned char b[16];
    int64_t ms = lt_store_now_ms();

    /* Monotonic within a millisecond (ULID spec): increment the random part. */
    pthread_mutex_lock(&ulid_mu);
    if (ms <= ulid_last_ms) {
        ms = ulid_last_ms;
        for (int i = 9; i >= 0; i--)
            if (++ulid_last_rand[i] != 0)
                break;
    } else {
        ulid_last_ms = ms;
        fill_random(ulid_last_rand, sizeof(ulid_last_rand));
    }
    memcpy(b + 6, ulid_last_rand, 10);
    pthread_mutex_unlock(&ulid_mu);
    for (int i = 5; i >= 0; i--) {
        b[i] = (unsigned char)(ms & 0xff);
        ms >>= 8;
    }
    /* 128 bits -> 26 base32 characters, the first one holding the top 3 bits. */
    for (int i = 0; i < 26; i++) {
        int bit =
            128 - 5 * (26 - i); /* index of the first bit of this character; -2 for the first */
        unsigned v = 0;

        for (int j = 0; j < 5; j++) {
            int k = bit + j;

            v <<= 1;
            if (k >= 0 && (b[k / 8] >> (7 - k % 8)) & 1)
                v |= 1;
        }
        out[i] = crockford[v];
    }
    out[26] = '\0';
}

/* ---- time ------------------------------------------------------------------------------------ */

int64_t lt_store_now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* ---- the calling thread's deadline (lt_store_deadline_set) ---------------------------------- */

static _Thread_local int64_t deadline_ns;

void lt_store_deadline_set(int64_t deadline)
{
    deadline_ns = deadline;
}

bool lt__store_out_of_time(void)
{
    return deadline_ns != 0 && lt_time_mono_ns() >= deadline_ns;
}

int64_t lt__store_wait_ms(int64_t wait_ms)
{
    int64_t left;

    if (deadline_ns == 0)
        return wait_ms;
    left = (deadline_ns - lt_time_mono_ns()) / 1000000;
    if (left < 1)
        left = 1; /* an answer already waiting is still taken */
    return left < wait_ms ? left : wait_ms;
}

lt_status lt__store_nats_fail(natsStatus ns, int jerr, const char *what, const char *key)
{
    lt_status st = ns == NATS_TIMEOUT             ? LT_ERR_TIMEOUT
                   : ns == NATS_NO_MEMORY         ? LT_ERR_NOMEM
                   : ns == NATS_MAX_PAYLOAD       ? LT_ERR_TOO_BIG
                   : ns == NATS_CONNECTION_CLOSED ? LT_ERR_CLOSED
                                                  : LT_ERR_TRANSPORT;

    return LT_FAIL(st, "%s %s: %s (JetStream error %d)", what, key, natsStatus_GetText(ns), jerr);
}

void lt__store_nats_last(char *out, size_t size)
{
    const char *text = nats_GetLastError(NULL);

    snprintf(out, size, "%s", text != NULL ? text : "");
}

void lt__store_nats_why(natsStatus ns, const char *before, char *out, size_t size)
{
    natsStatus last = NATS_OK;
    const char *text = nats_GetLastError(&last), *p;

    if (ns == NATS_OK || last != ns || text == NULL || text[0] == '\0' ||
        strncmp(text, before, size - 1) == 0) {
        snprintf(out, size, "%s", natsStatus_GetText(ns)); /* nothing new from nats.c */
        return;
    }
    if (text[0] == '(' && (p = strstr(text, "): ")) != NULL)
        text = p + 3; /* "(jsm.c:2867): stream not found" */
    snprintf(out, size, "%s", text);
}
