/*
 * test_loop.c - the single-owner loop: FIFO order across threads, wake-up
 * from another thread, timers (order, re-arm, cancel), fd watches, and
 * shutdown with items still queued (they are dropped, never run, never leaked),
 * and lt_loop_close dropping them at once.
 */
#include <check.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <unistd.h>

#include "lt_alloc.h"
#include "lt_loop.h"
#include "lt_testutil.h"

/* ---- FIFO order --------------------------------------------------------- */

struct order_ctx {
    int seen[1000];
    int n;
    int stop_at;
};

struct order_item {
    struct order_ctx *ctx;
    int value;
};

static void order_fn(lt_loop *loop, void *arg)
{
    struct order_item *it = arg;

    it->ctx->seen[it->ctx->n++] = it->value;
    if (it->ctx->n == it->ctx->stop_at)
        lt_loop_stop(loop);
    free(it);
}

START_TEST(test_loop_fifo_order)
{
    lt_loop *loop = NULL;
    struct order_ctx ctx = { .stop_at = 500 };

    ck_assert_int_eq(lt_loop_new(&loop), LT_OK);
    for (int i = 0; i < 500; i++) {
        struct order_item *it = malloc(sizeof(*it));
        *it = (struct order_item){ &ctx, i };
        ck_assert_int_eq(lt_loop_post(loop, order_fn, it, free), LT_OK);
    }
    ck_assert_uint_eq(lt_loop_pending(loop), 500);
    ck_assert_int_eq(lt_loop_run(loop), LT_OK);
    ck_assert_int_eq(ctx.n, 500);
    for (int i = 0; i < 500; i++)
        ck_assert_int_eq(ctx.seen[i], i);
    ck_assert_uint_eq(lt_loop_pending(loop), 0);
    lt_loop_free(loop);
}
END_TEST

/* ---- wake-up from other threads ----------------------------------------- */

struct producer {
    lt_loop *loop;
    struct order_ctx *ctx;
    int base;
};

static void *producer_main(void *arg)
{
    struct producer *p = arg;

    for (int i = 0; i < 100; i++) {
        struct order_item *it = malloc(sizeof(*it));
        *it = (struct order_item){ p->ctx, p->base + i };
        if (lt_loop_post(p->loop, order_fn, it, free) != LT_OK)
            free(it);
        if (i % 10 == 0)
            usleep(1000); /* let the loop go to sleep in between */
    }
    return NULL;
}

START_TEST(test_loop_wakeup_from_threads)
{
    lt_loop *loop = NULL;
    struct order_ctx ctx = { .stop_at = 300 };
    struct producer p[3];
    pthread_t th[3];

    ck_assert_int_eq(lt_loop_new(&loop), LT_OK);
    for (int t = 0; t < 3; t++) {
        p[t] = (struct producer){ loop, &ctx, t * 1000 };
        pthread_create(&th[t], NULL, producer_main, &p[t]);
    }
    /* The loop starts with nothing queued and must be woken by the posts. */
    ck_assert_int_eq(lt_loop_run(loop), LT_OK);
    for (int t = 0; t < 3; t++)
        pthread_join(th[t], NULL);
    ck_assert_int_eq(ctx.n, 300);
    /* Per producer, order is preserved. */
    for (int t = 0; t < 3; t++) {
        int last = -1;
        for (int i = 0; i < ctx.n; i++) {
            int v = ctx.seen[i];
            if (v / 1000 != t)
                continue;
            ck_assert_int_gt(v, last);
            last = v;
        }
        ck_assert_int_eq(last, t * 1000 + 99);
    }
    lt_loop_free(loop);
}
END_TEST

/* ---- shutdown with items pending ----------------------------------------- */

static atomic_int dropped;
static atomic_int ran;

static void count_fn(lt_loop *loop, void *arg)
{
    atomic_fetch_add(&ran, 1);
    if (atomic_load(&ran) == 10)
        lt_loop_stop(loop);
    free(arg);
}

static void count_drop(void *arg)
{
    atomic_fetch_add(&dropped, 1);
    free(arg);
}

START_TEST(test_loop_shutdown_with_pending)
{
    lt_loop *loop = NULL;
    void *extra;

    atomic_store(&dropped, 0);
    atomic_store(&ran, 0);
    ck_assert_int_eq(lt_loop_new(&loop), LT_OK);
    for (int i = 0; i < 50; i++)
        ck_assert_int_eq(lt_loop_post(loop, count_fn, malloc(8), count_drop), LT_OK);
    ck_assert_int_eq(lt_loop_run(loop), LT_OK);
    ck_assert_int_eq(atomic_load(&ran), 10);
    ck_assert(lt_loop_stopping(loop));
    /* After stop, posts are refused and the caller keeps ownership. */
    extra = malloc(8);
    ck_assert_int_eq(lt_loop_post(loop, count_fn, extra, count_drop), LT_ERR_CLOSED);
    free(extra);
    ck_assert_uint_eq(lt_loop_pending(loop), 40);
    lt_loop_free(loop);
    ck_assert_int_eq(atomic_load(&dropped), 40);
    ck_assert_int_eq(atomic_load(&ran), 10);
}
END_TEST

/* lt_loop_close drops what is queued now, on the caller's thread, and refuses later posts
 * even of a loop that was never stopped (the host closes it before nats_Close). */
START_TEST(test_loop_close_drops_now)
{
    lt_loop *loop = NULL;
    void *extra;

    atomic_store(&dropped, 0);
    atomic_store(&ran, 0);
    ck_assert_int_eq(lt_loop_new(&loop), LT_OK);
    for (int i = 0; i < 20; i++)
        ck_assert_int_eq(lt_loop_post(loop, count_fn, malloc(8), count_drop), LT_OK);
    lt_loop_close(loop);
    ck_assert_int_eq(atomic_load(&dropped), 20); /* before lt_loop_free */
    ck_assert_uint_eq(lt_loop_pending(loop), 0);
    ck_assert(lt_loop_stopping(loop));
    extra = malloc(8);
    ck_assert_int_eq(lt_loop_post(loop, count_fn, extra, count_drop), LT_ERR_CLOSED);
    free(extra);
    lt_loop_close(loop); /* twice is harmless */
    lt_loop_free(loop);
    lt_loop_close(NULL);
    ck_assert_int_eq(atomic_load(&dropped), 20);
    ck_assert_int_eq(atomic_load(&ran), 0);
}
END_TEST

/* ---- timers ---------------------------------------------------------------- */

struct timer_ctx {
    char log[64];
    int n;
    int repeats;
    uint64_t cancel_id;
};

static int64_t timer_a(lt_loop *loop, void *arg)
{
    struct timer_ctx *c = arg;

    c->log[c->n++] = 'a';
    return LT_TIMER_STOP;
}

static int64_t timer_b(lt_loop *loop, void *arg)
{
    struct timer_ctx *c = arg;

    c->log[c->n++] = 'b';
    return LT_TIMER_STOP;
}

static int64_t timer_repeat(lt_loop *loop, void *arg)
{
    struct timer_ctx *c = arg;

    c->log[c->n++] = 'r';
    if (++c->repeats == 3)
        return LT_TIMER_STOP;
    return 5;
}

static int64_t timer_never(lt_loop *loop, void *arg)
{
    struct timer_ctx *c = arg;

    c->log[c->n++] = 'X';
    return LT_TIMER_STOP;
}

static int64_t timer_end(lt_loop *loop, void *arg)
{
    lt_loop_stop(loop);
    return LT_TIMER_STOP;
}

static void cancel_fn(lt_loop *loop, void *arg)
{
    struct timer_ctx *c = arg;

    ck_assert_int_eq(lt_loop_timer_cancel(loop, c->cancel_id), LT_OK);
    ck_assert_int_eq(lt_loop_timer_cancel(loop, c->cancel_id), LT_ERR_NOT_FOUND);
}

START_TEST(test_loop_timers)
{
    lt_loop *loop = NULL;
    struct timer_ctx c = { 0 };
    int64_t t0 = lt_loop_now_ms();

    ck_assert_int_eq(lt_loop_new(&loop), LT_OK);
    ck_assert_int_eq(lt_loop_timer_add(loop, 30, timer_b, &c, NULL), LT_OK);
    ck_assert_int_eq(lt_loop_timer_add(loop, 10, timer_a, &c, NULL), LT_OK);
    ck_assert_int_eq(lt_loop_timer_add(loop, 40, timer_repeat, &c, NULL), LT_OK);
    ck_assert_int_eq(lt_loop_timer_add(loop, 20, timer_never, &c, &c.cancel_id), LT_OK);
    ck_assert_int_eq(lt_loop_timer_add(loop, 100, timer_end, &c, NULL), LT_OK);
    ck_assert_int_eq(lt_loop_post(loop, cancel_fn, &c, NULL), LT_OK);
    ck_assert_int_eq(lt_loop_run(loop), LT_OK);
    c.log[c.n] = '\0';
    ck_assert_str_eq(c.log, "abrrr");
    /* The end timer cannot fire early. */
    ck_assert_int_ge(lt_loop_now_ms() - t0, 100);
    lt_loop_free(loop);
}
END_TEST

/* ---- fd watches --------------------------------------------------------------- */

static void on_readable(lt_loop *loop, int fd, short revents, void *arg)
{
    char buf[16];
    int *got = arg;
    ssize_t n = read(fd, buf, sizeof(buf));

    *got = (int)n;
    ck_assert_int_eq(lt_loop_unwatch_fd(loop, fd), LT_OK);
    lt_loop_stop(loop);
}

START_TEST(test_loop_fd_watch)
{
    lt_loop *loop = NULL;
    int fds[2], got = -1;

    ck_assert_int_eq(pipe(fds), 0);
    ck_assert_int_eq(lt_loop_new(&loop), LT_OK);
    ck_assert_int_eq(lt_loop_watch_fd(loop, fds[0], POLLIN, on_readable, &got), LT_OK);
    ck_assert_int_eq(write(fds[1], "hello", 5), 5);
    ck_assert_int_eq(lt_loop_run(loop), LT_OK);
    ck_assert_int_eq(got, 5);
    ck_assert_int_eq(lt_loop_unwatch_fd(loop, fds[0]), LT_ERR_NOT_FOUND);
    lt_loop_free(loop);
    close(fds[0]);
    close(fds[1]);
}
END_TEST

static Suite *loop_suite(void)
{
    Suite *s = suite_create("loop");

    lt_test_tcase(s, "loop", 20,
                  (const TTest *const[]){ test_loop_fifo_order, test_loop_wakeup_from_threads,
                                          test_loop_shutdown_with_pending,
                                          test_loop_close_drops_now, test_loop_timers,
                                          test_loop_fd_watch, NULL });
    return s;
}

int main(void)
{
    return lt_test_run_suite(loop_suite());
}
