/*
 * lt_rand.c - xorshift64* (Marsaglia's xorshift with Vigna's multiplier),
 * getrandom(2) with its EINTR loop, and UUIDv4 text from 16 random bytes.
 */
#include "lt_rand.h"

#include <errno.h>
#include <stdatomic.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#define DEFAULT_SEED 0x9e3779b97f4a7c15ull

void lt_rand_seed(lt_rand *r, uint64_t seed)
{
    r->s = seed != 0 ? seed : DEFAULT_SEED;
}

void lt_rand_seed_random(lt_rand *r)
{
    static atomic_uint_fast64_t counter;
    uint64_t seed = 0;

    if (lt_rand_bytes(&seed, sizeof(seed)) != LT_OK || seed == 0) {
        struct timespec ts;

        clock_gettime(CLOCK_REALTIME, &ts);
        seed = ((uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec) ^
               ((uint64_t)getpid() << 32) ^ (atomic_fetch_add(&counter, 1) + 1) * DEFAULT_SEED;
    }
    lt_rand_seed(r, seed);
}

uint64_t lt_rand_next(lt_rand *r)
{
    r->s ^= r->s >> 12;
    r->s ^= r->s << 25;
    r->s ^= r->s >> 27;
    return r->s * 0x2545F4914F6CDD1Dull;
}

double lt_rand_unit(lt_rand *r)
{
    return (double)(lt_rand_next(r) >> 11) / 9007199254740992.0; /* 2^53 */
}

lt_status lt_rand_bytes(void *p, size_t n)
{
    unsigned char *b = p;
    size_t got = 0;

    while (got < n) {
        ssize_t k = getrandom(b + got, n - got, 0);

        if (k < 0 && errno == EINTR)
            continue;
        if (k <= 0)
            return LT_FAIL(LT_ERR_IO, "getrandom failed: errno %d", errno);
        got += (size_t)k;
    }
    return LT_OK;
}

/* 16 bytes as version 4 UUID text. */
static void uuid_text(unsigned char r[16], char out[LT_UUID_LEN + 1])
{
    static const char hex[] = "0123456789abcdef";
    size_t o = 0;

    r[6] = (unsigned char)((r[6] & 0x0F) | 0x40); /* version 4 */
    r[8] = (unsigned char)((r[8] & 0x3F) | 0x80); /* RFC 4122 variant */
    for (size_t i = 0; i < 16; i++) {
        if (i == 4 || i == 6 || i == 8 || i == 10)
            out[o++] = '-';
        out[o++] = hex[r[i] >> 4];
        out[o++] = hex[r[i] & 0x0F];
    }
    out[o] = '\0';
}

lt_status lt_rand_uuid(char out[LT_UUID_LEN + 1])
{
    unsigned char r[16];
    lt_status st = lt_rand_bytes(r, sizeof(r));

    out[0] = '\0';
    if (st != LT_OK)
        return st;
    uuid_text(r, out);
    return LT_OK;
}

void lt_rand_uuid_from(lt_rand *r, char out[LT_UUID_LEN + 1])
{
    unsigned char b[16];
    uint64_t x = lt_rand_next(r), y = lt_rand_next(r);

    for (int i = 0; i < 8; i++) {
        b[i] = (unsigned char)(x >> (8 * i));
        b[8 + i] = (unsigned char)(y >> (8 * i));
    }
    uuid_text(b, out);
}
