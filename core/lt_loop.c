/*
 * lt_loop.c - single-owner event loop: a mutex-protected FIFO of posted items
 * woken through an eventfd, a binary min-heap of timers and a few fd watches,
 * all multiplexed with poll(2).
 */
#include "lt_loop.h"

#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

#include "lt_alloc.h"

struct item {
    struct item *next;
    lt_loop_fn fn;
    lt_loop_drop_fn drop;
    void *arg;
};

struct timer {
    int64_t deadline; /* lt_loop_now_ms() when it fires */
    uint64_t seq;     /* tie-break: earlier armed fires first */
    uint64_t id;
    lt_timer_fn cb;
    void *arg;
};

struct watch {
    int fd;
    short events;
    lt_fd_fn cb;
    void *arg;
};

struct lt_loop {
    pthread_mutex_t lock; /* guards head, tail, npending */
    struct item *head, *tail;
    size_t npending;
    bool closed; /* lt_loop_close ran (under lock): posts are refused */
    int wakefd;  /* eventfd: posted items or stop */
    atomic_bool stopping;

    struct timer *timers; /* min-heap on (deadline, seq); loop thread only */
    size_t ntimers, captimers;
    uint64_t next_id;

    struct watch watches[LT_LOOP_MAX_FDS];
    size_t nwatches;
};

int64_t lt_loop_now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

lt_status lt_loop_new(lt_loop **new_loop)
{
    lt_loop *loop = lt_calloc(1, sizeof(*loop));

    if (loop == NULL)
        return LT_ERR_NOMEM;
    loop->wakefd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    if (loop->wakefd < 0) {
        lt_free(loop);
        return LT_FAIL(LT_ERR_IO, "eventfd: errno %d", errno);
    }
    pthread_mutex_init(&loop->lock, NULL);
    atomic_init(&loop->stopping, false);
    loop->next_id = 1;
    *new_loop = loop;
    return LT_OK;
}

void lt_loop_free(lt_loop *loop)
{
    struct item *it, *next;

    if (loop == NULL)
        return;
    for (it = loop->head; it != NULL; it = next) {
        next = it->next;
        if (it->drop != NULL)
            it->drop(it->arg);
        lt_free(it);
    }
    lt_free(loop->timers);
    close(loop->wakefd);
    pthread_mutex_destroy(&loop->lock);
    lt_free(loop);
}

static void wake(lt_loop *loop)
{
    uint64_t one = 1;

    /* EAGAIN means the counter is already non-zero: the loop will wake. */
    if (write(loop->wakefd, &one, sizeof(one)) < 0) {
    }
}

lt_status lt_loop_post(lt_loop *loop, lt_loop_fn fn, void *arg, lt_loop_drop_fn drop)
{
    struct item *it;
    bool was_empty;

    if (atomic_load(&loop->stopping))
        return LT_ERR_CLOSED;
    it = lt_malloc(sizeof(*it));
    if (it == NULL)
        return LT_ERR_NOMEM;
    *it = (struct item){ .fn = fn, .drop = drop, .arg = arg };
    pthread_mutex_lock(&loop->lock);
    if (loop->closed) { /* lt_loop_close ran: the queue stays empty */
        pthread_mutex_unlock(&loop->lock);
        lt_free(it);
        return LT_ERR_CLOSED;
    }
    was_empty = loop->head == NULL;
    if (loop->tail != NULL)
        loop->tail->next = it;
    else
        loop->head = it;
    loop->tail = it;
    loop->npending++;
    pthread_mutex_unlock(&loop->lock);
    if (was_empty)
        wake(loop);
    return LT_OK;
}

void lt_loop_stop(lt_loop *loop)
{
    atomic_store(&loop->stopping, true);
    wake(loop);
}

void lt_loop_close(lt_loop *loop)
{
    struct item *it, *next;

    if (loop == NULL)
        return;
    pthread_mutex_lock(&loop->lock);
    atomic_store(&loop->stopping, true);
    loop->closed = true;
    it = loop->head;
    loop->head = loop->tail = NULL;
    loop->npending = 0;
    pthread_mutex_unlock(&loop->lock);
    for (; it != NULL; it = next) {
        next = it->next;
        if (it->drop != NULL)
            it->drop(it->arg);
        lt_free(it);
    }
    wake(loop);
}

bool lt_loop_stopping(const lt_loop *loop)
{
    return atomic_load(&((lt_loop *)loop)->stopping);
}

size_t lt_loop_pending(lt_loop *loop)
{
    size_t n;

    pthread_mutex_lock(&loop->lock);
    n = loop->npending;
    pthread_mutex_unlock(&loop->lock);
    return n;
}

/* ---- timers: binary min-heap ------------------------------------------ */

static bool timer_before(const struct timer *a, const struct timer *b)
{
    return a->deadline < b->deadline || (a->deadline == b->deadline && a->seq < b->seq);
}

static void heap_swap(lt_loop *loop, size_t i, size_t j)
{
    struct timer t = loop->timers[i];

    loop->timers[i] = loop->timers[j];
    loop->timers[j] = t;
}

static void heap_up(lt_loop *loop, size_t i)
{
    while (i > 0) {
        size_t parent = (i - 1) / 2;

        if (!timer_before(&loop->timers[i], &loop->timers[parent]))
            break;
        heap_swap(loop, i, parent);
        i = parent;
    }
}

static void heap_down(lt_loop *loop, size_t i)
{
    for (;;) {
        size_t l = 2 * i + 1, r = l + 1, m = i;

        if (l < loop->ntimers && timer_before(&loop->timers[l], &loop->timers[m]))
            m = l;
        if (r < loop->ntimers && timer_before(&loop->timers[r], &loop->timers[m]))
            m = r;
        if (m == i)
            break;
        heap_swap(loop, i, m);
        i = m;
    }
}

static void heap_remove(lt_loop *loop, size_t i)
{
    loop->ntimers--;
    if (i == loop->ntimers)
        return;
    loop->timers[i] = loop->timers[loop->ntimers];
    heap_down(loop, i);
    heap_up(loop, i);
}

static lt_status heap_push(lt_loop *loop, struct timer t)
{
    if (loop->ntimers == loop->captimers) {
        size_t ncap = loop->captimers ? loop->captimers * 2 : 16;
        struct timer *nt = lt_realloc(loop->timers, ncap * sizeof(*nt));

        if (nt == NULL)
            return LT_ERR_NOMEM;
        loop->timers = nt;
        loop->captimers = ncap;
    }
    loop->timers[loop->ntimers++] = t;
    heap_up(loop, loop->ntimers - 1);
    return LT_OK;
}

lt_status lt_loop_timer_add(lt_loop *loop, int64_t delay_ms, lt_timer_fn cb, void *arg,
                            uint64_t *id)
{
    struct timer t = {
        .deadline = lt_loop_now_ms() + (delay_ms > 0 ? delay_ms : 0),
        .seq = loop->next_id,
        .id = loop->next_id,
        .cb = cb,
        .arg = arg,
    };
    lt_status st = heap_push(loop, t);

    if (st != LT_OK)
        return st;
    loop->next_id++;
    if (id != NULL)
        *id = t.id;
    return LT_OK;
}

lt_status lt_loop_timer_cancel(lt_loop *loop, uint64_t id)
{
    for (size_t i = 0; i < loop->ntimers; i++) {
        if (loop->timers[i].id == id) {
            heap_remove(loop, i);
            return LT_OK;
        }
    }
    return LT_ERR_NOT_FOUND;
}

/* Fire every due timer once; re-arm those that ask for it. */
static void run_timers(lt_loop *loop)
{
    int64_t now = lt_loop_now_ms();

    while (loop->ntimers > 0 && loop->timers[0].deadline <= now && !atomic_load(&loop->stopping)) {
        struct timer t = loop->timers[0];
        int64_t next;

        heap_remove(loop, 0);
        next = t.cb(loop, t.arg);
        if (next >= 0) {
            t.deadline = lt_loop_now_ms() + next;
            t.seq = loop->next_id++;
            if (heap_push(loop, t) != LT_OK)
                continue; /* the timer is lost only when memory is */
        }
    }
}

/* ---- fd watches ---------------------------------------------------------- */

lt_status lt_loop_watch_fd(lt_loop *loop, int fd, short events, lt_fd_fn cb, void *arg)
{
    if (loop->nwatches == LT_LOOP_MAX_FDS)
        return LT_ERR_TOO_BIG;
    loop->watches[loop->nwatches++] = (struct watch){ fd, events, cb, arg };
    return LT_OK;
}

lt_status lt_loop_unwatch_fd(lt_loop *loop, int fd)
{
    for (size_t i = 0; i < loop->nwatches; i++) {
        if (loop->watches[i].fd == fd) {
            loop->watches[i] = loop->watches[--loop->nwatches];
            return LT_OK;
        }
    }
    return LT_ERR_NOT_FOUND;
}

/* ---- running -------------------------------------------------------------- */

/* Run the items queued at this moment, in order; newer posts wait a turn. */
static void run_items(lt_loop *loop)
{
    struct item *batch, *it;
    uint64_t drain;

    if (read(loop->wakefd, &drain, sizeof(drain)) < 0) {
        /* EAGAIN: nothing signalled, there may still be items */
    }
    pthread_mutex_lock(&loop->lock);
    batch = loop->head;
    loop->head = loop->tail = NULL;
    pthread_mutex_unlock(&loop->lock);

    while ((it = batch) != NULL) {
        if (atomic_load(&loop->stopping)) {
            /* Put the rest back so lt_loop_free drops them. */
            pthread_mutex_lock(&loop->lock);
            struct item *last = batch;
            while (last->next != NULL)
                last = last->next;
            last->next = loop->head;
            if (loop->head == NULL)
                loop->tail = last;
            loop->head = batch;
            pthread_mutex_unlock(&loop->lock);
            return;
        }
        batch = it->next;
        pthread_mutex_lock(&loop->lock);
        loop->npending--;
        pthread_mutex_unlock(&loop->lock);
        it->fn(loop, it->arg);
        lt_free(it);
    }
}

static int poll_timeout(lt_loop *loop)
{
    int64_t wait;

    if (loop->ntimers == 0)
        return -1;
    wait = loop->timers[0].deadline - lt_loop_now_ms();
    if (wait < 0)
        return 0;
    return wait > 60000 ? 60000 : (int)wait;
}

lt_status lt_loop_run(lt_loop *loop)
{
    struct pollfd pfds[LT_LOOP_MAX_FDS + 1];

    while (!atomic_load(&loop->stopping)) {
        size_t n = loop->nwatches;
        int rc;

        pfds[0] = (struct pollfd){ .fd = loop->wakefd, .events = POLLIN };
        for (size_t i = 0; i < n; i++)
            pfds[i + 1] =
                (struct pollfd){ .fd = loop->watches[i].fd, .events = loop->watches[i].events };
        rc = poll(pfds, n + 1, poll_timeout(loop));
        if (rc < 0 && errno != EINTR)
            return LT_FAIL(LT_ERR_IO, "poll: errno %d", errno);
        if (rc > 0) {
            for (size_t i = 0; i < n && !atomic_load(&loop->stopping); i++) {
                if (pfds[i + 1].revents == 0)
                    continue;
                /* The callback may unwatch: look the fd up again. */
                for (size_t j = 0; j < loop->nwatches; j++) {
                    if (loop->watches[j].fd == pfds[i + 1].fd) {
                        struct watch w = loop->watches[j];
                        w.cb(loop, w.fd, pfds[i + 1].revents, w.arg);
                        break;
                    }
                }
            }
        }
        run_items(loop);
        run_timers(loop);
    }
    return LT_OK;
}
