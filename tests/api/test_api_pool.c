/*
 * test_api_pool.c - the API's worker queues (api/api_pool.c), pure threads, no server: a job
 * runs in push order on the worker its key picks; a push blocks while the worker's queue is full
 * in jobs or in bytes (a job's bytes count until its run returns), and a job larger than the
 * whole byte budget still gets in when nothing else is held.
 */
#include <check.h>
#include <pthread.h>
#include <stdatomic.h>
#include <string.h>

#include "api_int.h"
#include "lt_testutil.h"

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cv = PTHREAD_COND_INITIALIZER;
static bool gate_open;
static char order[16];
static size_t n_run, n_started;

/* A job is a letter; 'A' waits at the gate until the test opens it. */
static void run(void *job, void *arg)
{
    char c = (char)(intptr_t)job;

    (void)arg;
    pthread_mutex_lock(&mu);
    n_started++;
    pthread_cond_broadcast(&cv);
    if (c == 'A')
        while (!gate_open)
            pthread_cond_wait(&cv, &mu);
    if (n_run < sizeof(order) - 1)
        order[n_run++] = c;
    pthread_cond_broadcast(&cv);
    pthread_mutex_unlock(&mu);
}

/* Wait until *counter (n_run or n_started) reaches n. */
static void wait_count(const size_t *counter, size_t n)
{
    int64_t deadline = lt_test_now_ms() + 10000;
    size_t got;

    for (;;) {
        pthread_mutex_lock(&mu);
        got = *counter;
        pthread_mutex_unlock(&mu);
        if (got >= n || lt_test_now_ms() > deadline)
            break;
        lt_test_sleep_ms(5);
    }
    ck_assert_uint_ge(got, n);
}

static void wait_runs(size_t n)
{
    wait_count(&n_run, n);
}

typedef struct {
    lt__api_pool *pool;
    char job;
    size_t bytes;
    atomic_bool done;
} pusher;

static void *push_main(void *p)
{
    pusher *x = p;

    lt__api_pool_push(x->pool, 0, (void *)(intptr_t)x->job, x->bytes);
    atomic_store(&x->done, true);
    return NULL;
}

static void reset(void)
{
    gate_open = false;
    n_run = n_started = 0;
    memset(order, 0, sizeof(order));
}

static void open_gate(void)
{
    pthread_mutex_lock(&mu);
    gate_open = true;
    pthread_cond_broadcast(&cv);
    pthread_mutex_unlock(&mu);
}

/* Bytes: A (60, running) + B (30) fill 90 of 100; C (30) waits until A's run returns. */
START_TEST(test_push_waits_for_bytes)
{
    lt__api_pool *pool = NULL;
    pusher c = { .job = 'C', .bytes = 30 };
    pthread_t t;

    reset();
    ck_assert_int_eq(lt__api_pool_new(&pool, 1, 8, 100, run, NULL), LT_OK);
    c.pool = pool;
    lt__api_pool_push(pool, 0, (void *)(intptr_t)'A', 60);
    lt__api_pool_push(pool, 0, (void *)(intptr_t)'B', 30);
    ck_assert_int_eq(pthread_create(&t, NULL, push_main, &c), 0);
    lt_test_sleep_ms(300); /* a window for a wrong push to get through, not a condition */
    ck_assert_msg(!atomic_load(&c.done), "C got in past the byte budget");
    open_gate();
    pthread_join(t, NULL);
    ck_assert(atomic_load(&c.done));
    wait_runs(3);
    ck_assert_str_eq(order, "ABC");
    lt__api_pool_free(pool);
}
END_TEST

/* Jobs: a queue of 2 holds B and C while A runs; D waits for a free place. */
START_TEST(test_push_waits_for_a_place)
{
    lt__api_pool *pool = NULL;
    pusher d = { .job = 'D', .bytes = 1 };
    pthread_t t;

    reset();
    ck_assert_int_eq(lt__api_pool_new(&pool, 1, 2, 1000, run, NULL), LT_OK);
    d.pool = pool;
    lt__api_pool_push(pool, 0, (void *)(intptr_t)'A', 1);
    wait_count(&n_started, 1); /* A is off the queue: it runs, held at the gate */
    lt__api_pool_push(pool, 0, (void *)(intptr_t)'B', 1);
    lt__api_pool_push(pool, 0, (void *)(intptr_t)'C', 1);
    ck_assert_int_eq(pthread_create(&t, NULL, push_main, &d), 0);
    lt_test_sleep_ms(300);
    ck_assert_msg(!atomic_load(&d.done), "D got into a full queue");
    open_gate();
    pthread_join(t, NULL);
    wait_runs(4);
    ck_assert_str_eq(order, "ABCD");
    lt__api_pool_free(pool);
}
END_TEST

/* A job larger than the whole budget runs when nothing else is held; the next one waits. */
START_TEST(test_large_job_alone)
{
    lt__api_pool *pool = NULL;
    pusher b = { .job = 'B', .bytes = 1 };
    pthread_t t;

    reset();
    ck_assert_int_eq(lt__api_pool_new(&pool, 2, 8, 100, run, NULL), LT_OK);
    b.pool = pool;
    lt__api_pool_push(pool, 0, (void *)(intptr_t)'A', 5000);
    ck_assert_int_eq(pthread_create(&t, NULL, push_main, &b), 0);
    lt_test_sleep_ms(300);
    ck_assert_msg(!atomic_load(&b.done), "B got in while A held more than the budget");
    /* another worker is not held up by this one's bytes */
    lt__api_pool_push(pool, 1, (void *)(intptr_t)'Z', 50);
    wait_runs(1);
    ck_assert_int_eq(order[0], 'Z');
    open_gate();
    pthread_join(t, NULL);
    wait_runs(3);
    ck_assert_str_eq(order, "ZAB");
    lt__api_pool_free(pool);
}
END_TEST

START_TEST(test_bad_sizes)
{
    lt__api_pool *pool = NULL;

    ck_assert_int_eq(lt__api_pool_new(&pool, 0, 8, 100, run, NULL), LT_ERR_INVALID);
    ck_assert_int_eq(lt__api_pool_new(&pool, 1, 0, 100, run, NULL), LT_ERR_INVALID);
    ck_assert_int_eq(lt__api_pool_new(&pool, 1, 8, 0, run, NULL), LT_ERR_INVALID);
    ck_assert_ptr_null(pool);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("api_pool");

    lt_test_tcase(s, "pool", 60,
                  (const TTest *const[]){ test_push_waits_for_bytes, test_push_waits_for_a_place,
                                          test_large_job_alone, test_bad_sizes, NULL });
    return lt_test_run_suite(s);
}
