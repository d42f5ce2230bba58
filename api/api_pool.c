/*
 * api_pool.c - the API's workers: a fixed set of threads, each with its own
 * bounded FIFO of jobs. A job goes to the worker its key picks (the lattice
 * and app of the request), so requests for one app run one at a time in the
 * order they arrived, while requests for different apps wait on their KV
 * round trips side by side. Producers block while the chosen queue is full,
 * in jobs or in bytes (back-pressure reaches nats.c's pending limits instead
 * of memory): a queue of large manifests is bounded like one of small ones.
 */
#include <pthread.h>
#include <stdint.h>

#include "api_int.h"
#include "lt_alloc.h"

typedef struct {
    void *job;
    size_t bytes;
} slot;

typedef struct {
    pthread_t thread;
    pthread_mutex_t mu;
    pthread_cond_t cv; /* jobs arrived (worker waits) or room freed (producers wait) */
    slot *ring;
    size_t head, count;
    size_t bytes; /* of the queued jobs and the one running */
    bool stopping;
    bool started;
    lt__api_pool *pool;
} worker;

struct lt__api_pool {
    worker *workers;
    size_t n;
    size_t cap;       /* jobs per worker queue */
    size_t cap_bytes; /* bytes per worker queue (one job of any size is always let in) */
    lt__api_pool_run_fn run;
    void *arg;
};

static void *worker_main(void *p)
{
    worker *w = p;

    pthread_mutex_lock(&w->mu);
    for (;;) {
        slot job;

        while (w->count == 0 && !w->stopping)
            pthread_cond_wait(&w->cv, &w->mu);
        if (w->count == 0) /* stopping, and every queued job has run */
            break;
        job = w->ring[w->head];
        w->head = (w->head + 1) % w->pool->cap;
        w->count--;
        pthread_cond_broadcast(&w->cv);
        pthread_mutex_unlock(&w->mu);
        w->pool->run(job.job, w->pool->arg);
        pthread_mutex_lock(&w->mu);
        w->bytes -= job.bytes; /* its message is freed now */
        pthread_cond_broadcast(&w->cv);
    }
    pthread_mutex_unlock(&w->mu);
    return NULL;
}

lt_status lt__api_pool_new(lt__api_pool **new_pool, size_t workers, size_t queue,
                           size_t queue_bytes, lt__api_pool_run_fn run, void *arg)
{
    lt__api_pool *pool;
    lt_status st = LT_OK;

    *new_pool = NULL;
    if (workers == 0 || workers > LT_API_MAX_WORKERS || queue == 0 || queue_bytes == 0)
        return LT_FAIL(LT_ERR_INVALID, "API workers must be 1..%u", LT_API_MAX_WORKERS);
    if ((pool = lt_calloc(1, sizeof(*pool))) == NULL ||
        (pool->workers = lt_calloc(workers, sizeof(*pool->workers))) == NULL) {
        lt_free(pool);
        return LT_FAIL(LT_ERR_NOMEM, "out of memory");
    }
    pool->n = workers;
    pool->cap = queue;
    pool->cap_bytes = queue_bytes;
    pool->run = run;
    pool->arg = arg;
    for (size_t i = 0; i < workers; i++) {
        pool->workers[i].pool = pool;
        pthread_mutex_init(&pool->workers[i].mu, NULL);
        pthread_cond_init(&pool->workers[i].cv, NULL);
    }
    for (size_t i = 0; i < workers; i++) {
        worker *w = &pool->workers[i];

        if ((w->ring = lt_calloc(queue, sizeof(*w->ring))) == NULL) {
            st = LT_FAIL(LT_ERR_NOMEM, "out of memory");
            break;
        }
        if (pthread_create(&w->thread, NULL, worker_main, w) != 0) {
            st = LT_FAIL(LT_ERR_NOMEM, "cannot start an API worker thread");
            break;
        }
        w->started = true;
    }
    if (st != LT_OK) {
        lt__api_pool_free(pool);
        return st;
    }
    *new_pool = pool;
    return LT_OK;
}

/* FNV-1a: the same key always picks the same worker. */
size_t lt__api_pool_pick(const lt__api_pool *pool, const char *a, const char *b)
{
    uint64_t h = 1469598103934665603ull;

    for (const char *s = a; s != NULL && *s != '\0'; s++)
        h = (h ^ (unsigned char)*s) * 1099511628211ull;
    h = (h ^ '.') * 1099511628211ull;
    for (const char *s = b; s != NULL && *s != '\0'; s++)
        h = (h ^ (unsigned char)*s) * 1099511628211ull;
    return (size_t)(h % pool->n);
}

void lt__api_pool_push(lt__api_pool *pool, size_t which, void *job, size_t bytes)
{
    worker *w = &pool->workers[which % pool->n];

    pthread_mutex_lock(&w->mu);
    while (w->count == pool->cap || (w->bytes > 0 && w->bytes + bytes > pool->cap_bytes))
        pthread_cond_wait(&w->cv, &w->mu);
    w->ring[(w->head + w->count) % pool->cap] = (slot){ job, bytes };
    w->count++;
    w->bytes += bytes;
    pthread_cond_broadcast(&w->cv);
    pthread_mutex_unlock(&w->mu);
}

void lt__api_pool_free(lt__api_pool *pool)
{
    if (pool == NULL)
        return;
    for (size_t i = 0; i < pool->n; i++) {
        worker *w = &pool->workers[i];

        pthread_mutex_lock(&w->mu);
        w->stopping = true;
        pthread_cond_broadcast(&w->cv);
        pthread_mutex_unlock(&w->mu);
    }
    for (size_t i = 0; i < pool->n; i++) {
        worker *w = &pool->workers[i];

        if (w->started)
            pthread_join(w->thread, NULL);
        pthread_cond_destroy(&w->cv);
        pthread_mutex_destroy(&w->mu);
        lt_free(w->ring);
    }
    lt_free(pool->workers);
    lt_free(pool);
}
