/*
 * lt_fuzz_driver.c - runs a libFuzzer target without libFuzzer, so every
 * harness also builds with gcc and runs as an ordinary (valgrind-able) test:
 * each file given on the command line or found in a given directory, then
 * -runs=N deterministic pseudo-random mutations of them (byte flips, inserts,
 * deletes, splices between inputs, JSON-ish tokens, truncation), seeded by
 * -seed=S (LT_FUZZ_RUNS=N in the environment caps N). A crash (abort, sanitizer report)
 * fails the test; exit 0 otherwise.
 * Shared by every fuzz target: link it with exactly one LLVMFuzzerTestOneInput.
 */
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define DRIVER_MAX_INPUT (256u * 1024u) /* corpus files above this are skipped */
#define DRIVER_MAX_FILES 4096u

typedef struct {
    uint8_t *data;
    size_t len;
} input;

static input corpus[DRIVER_MAX_FILES];
static size_t n_corpus;

static void add_file(const char *path)
{
    FILE *f = fopen(path, "rb");
    uint8_t *buf;
    size_t n;

    if (f == NULL || n_corpus == DRIVER_MAX_FILES) {
        if (f != NULL)
            fclose(f);
        return;
    }
    buf = malloc(DRIVER_MAX_INPUT);
    n = buf ? fread(buf, 1, DRIVER_MAX_INPUT, f) : 0;
    if (buf != NULL && (n == DRIVER_MAX_INPUT || ferror(f))) {
        free(buf);
        buf = NULL;
    }
    fclose(f);
    if (buf != NULL)
        corpus[n_corpus++] = (input){ buf, n };
}

static int by_name(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Files of a directory in name order, so runs are reproducible. */
static void add_dir(const char *dir)
{
    DIR *d = opendir(dir);
    struct dirent *e;
    char *names[DRIVER_MAX_FILES];
    size_t n = 0;

    if (d == NULL)
        return;
    while ((e = readdir(d)) != NULL && n < DRIVER_MAX_FILES)
        if (e->d_name[0] != '.')
            names[n++] = strdup(e->d_name);
    closedir(d);
    qsort(names, n, sizeof(names[0]), by_name);
    for (size_t i = 0; i < n; i++) {
        char path[4096];
        struct stat st;
        snprintf(path, sizeof(path), "%s/%s", dir, names[i]);
        if (stat(path, &st) == 0 && S_ISREG(st.st_mode))
            add_file(path);
        free(names[i]);
    }
}

static uint64_t rng_state;

static uint64_t rnd(void)
{
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return rng_state;
}

static const char *const tokens[] = {
    "{",
    "}",
    "[",
    "]",
    "\"",
    ":",
    ",",
    "null",
    "true",
    "false",
    "-",
    "0",
    "-0",
    "1.5",
    "1e2",
    "1e309",
    "-1e-400",
    "2147483648",
    "-2147483649",
    "4294967296",
    "9223372036854775808",
    "18446744073709551616",
    "\"NaN\"",
    "\"Infinity\"",
    "\"-Infinity\"",
    "\\u0000",
    "\\ud800",
    "\\u00e9",
    "\xff",
    "\xc3\xa9",
    " ",
    "\n",
    "\"\"",
    "{}",
    "[]",
    "\"1\"",
    "\"-1\"",
    "\"1e3\"",
    "\"QUJD\"",
    "\"_-8=\"",
    "Z",
    "+01:00",
    "-23:59",
    ".123456789",
    "T",
    "s",
    "\"a,bC\"",
};

/* Apply one random mutation to buf (len bytes used, cap bytes available). */
static size_t mutate(uint8_t *buf, size_t len, size_t cap)
{
    size_t pos = len ? (size_t)(rnd() % (len + 1)) : 0;

    switch (rnd() % 6) {
    case 0: /* flip bits */
        if (len > 0)
            buf[pos % len] ^= (uint8_t)(1u << (rnd() % 8));
        return len;
    case 1: /* delete a run */
        if (len > 0) {
            size_t n = 1 + (size_t)(rnd() % 8);
            size_t p = pos % len;
            if (n > len - p)
                n = len - p;
            memmove(buf + p, buf + p + n, len - p - n);
            len -= n;
        }
        return len;
    case 2: /* truncate */
        return pos;
    case 3: { /* insert a token */
        const char *t = tokens[rnd() % (sizeof(tokens) / sizeof(tokens[0]))];
        size_t n = strlen(t);
        if (len + n > cap)
            return len;
        memmove(buf + pos + n, buf + pos, len - pos);
        memcpy(buf + pos, t, n);
        return len + n;
    }
    case 4: { /* splice in a chunk of another input */
        const input *o = &corpus[rnd() % n_corpus];
        size_t from = o->len ? (size_t)(rnd() % o->len) : 0;
        size_t n = o->len ? 1 + (size_t)(rnd() % (o->len - from)) : 0;
        if (len + n > cap)
            return len;
        memmove(buf + pos + n, buf + pos, len - pos);
        memcpy(buf + pos, o->data + from, n);
        return len + n;
    }
    default: /* duplicate a run in place */
        if (len > 0 && len < cap) {
            size_t p = pos % len;
            size_t n = 1 + (size_t)(rnd() % 16);
            if (n > len - p)
                n = len - p;
            if (len + n > cap)
                return len;
            memmove(buf + p + n, buf + p, len - p);
            len += n;
        }
        return len;
    }
}

static void run_one(const uint8_t *data, size_t len)
{
    /* An exact-size heap copy, so reads past the end are caught by ASan/valgrind. */
    uint8_t *copy = malloc(len ? len : 1);

    if (copy == NULL)
        abort();
    memcpy(copy, data, len);
    LLVMFuzzerTestOneInput(copy, len);
    free(copy);
}

int main(int argc, char **argv)
{
    unsigned long runs = 10000;
    size_t cap = 2 * DRIVER_MAX_INPUT;
    uint8_t *buf = malloc(cap);

    rng_state = 0x9e3779b97f4a7c15ull;
    for (int i = 1; i < argc; i++) {
        struct stat st;
        if (strncmp(argv[i], "-runs=", 6) == 0)
            runs = strtoul(argv[i] + 6, NULL, 10);
        else if (strncmp(argv[i], "-seed=", 6) == 0)
            rng_state = strtoull(argv[i] + 6, NULL, 10) | 1u;
        else if (stat(argv[i], &st) == 0 && S_ISDIR(st.st_mode))
            add_dir(argv[i]);
        else
            add_file(argv[i]);
    }
    if (buf == NULL)
        return 2;
    /* LT_FUZZ_RUNS=N caps the mutations (the valgrind test setup sets it: memcheck is ~50x
     * slower, and the corpus inputs still all run). */
    if (getenv("LT_FUZZ_RUNS") != NULL) {
        unsigned long cap_runs = strtoul(getenv("LT_FUZZ_RUNS"), NULL, 10);

        if (cap_runs < runs)
            runs = cap_runs;
    }
    if (n_corpus == 0)
        corpus[n_corpus++] = (input){ calloc(1, 1), 0 };
    for (size_t i = 0; i < n_corpus; i++)
        run_one(corpus[i].data, corpus[i].len);
    for (unsigned long r = 0; r < runs; r++) {
        const input *in = &corpus[r % n_corpus];
        size_t len = in->len, k = 1 + (size_t)(rnd() % 4);
        memcpy(buf, in->data, len);
        while (k-- > 0)
            len = mutate(buf, len, cap);
        run_one(buf, len);
    }
    printf("lt_fuzz_driver: %zu corpus inputs and %lu mutations ran without a crash\n", n_corpus,
           runs);
    for (size_t i = 0; i < n_corpus; i++)
        free(corpus[i].data);
    free(buf);
    return 0;
}
