/*
 * lt_rand.h - random numbers, the one place for them: a fast seeded PRNG
 * (xorshift64*) with an explicit state for deterministic users (scheduler
 * jitter, the simulator's --seed), kernel randomness (getrandom(2)) to seed it
 * or fill bytes, and version 4 UUID text. Nothing here is for secrets.
 */
#ifndef LT_RAND_H
#define LT_RAND_H

#include <stddef.h>
#include <stdint.h>

#include "lt_status.h"

/** Length of a UUID's text (8-4-4-4-12 lowercase hex), without the NUL. */
#define LT_UUID_LEN 36

/** A PRNG state; one per thread (not locked). Zero-initialised is not seeded. */
typedef struct {
    uint64_t s;
} lt_rand;

/** Seed r; the same seed gives the same sequence. 0 stands for a fixed default seed. */
void lt_rand_seed(lt_rand *r, uint64_t seed);

/**
 * Seed r from the kernel (getrandom); when that fails, from the clock, the PID
 * and a process-wide counter. Thread-safe: each call gets its own seed.
 */
void lt_rand_seed_random(lt_rand *r);

/** The next 64 random bits (xorshift64*). */
uint64_t lt_rand_next(lt_rand *r);

/** A double uniform in [0, 1) from the top 53 bits of lt_rand_next. */
double lt_rand_unit(lt_rand *r);

/**
 * Fill p with n bytes from the kernel (getrandom, retried on EINTR).
 * LT_ERR_IO when the kernel's random source fails.
 */
LT_NODISCARD lt_status lt_rand_bytes(void *p, size_t n);

/** A random (version 4, RFC 4122 variant) UUID from kernel randomness. LT_ERR_IO as above. */
LT_NODISCARD lt_status lt_rand_uuid(char out[LT_UUID_LEN + 1]);

/** The same from r's stream: no syscall, for ids made by the thousand (event ids). */
void lt_rand_uuid_from(lt_rand *r, char out[LT_UUID_LEN + 1]);

#endif
