/*
 * lt_loop.h - the single-owner event loop (docs/internals/scheduler.md, "Threads").
 *
 * One thread runs lt_loop_run() and owns all scheduler state. Other threads
 * (nats.c callbacks, signal handlers) never touch that state: they hand work
 * to the loop with lt_loop_post(), which is the only thread-safe entry point
 * besides lt_loop_stop(). Timers and fd watches run on the loop thread.
 */
#ifndef LT_LOOP_H
#define LT_LOOP_H

#include <stdbool.h>
#include <stddef.h>
#include <poll.h>
#include <stdint.h>

#include "lt_status.h"

typedef struct lt_loop lt_loop;

/** A unit of posted work; runs on the loop thread. */
typedef void (*lt_loop_fn)(lt_loop *loop, void *arg);

/** Releases arg of an item that will never run (loop freed first). May be NULL. */
typedef void (*lt_loop_drop_fn)(void *arg);

/** Timer callback: return the next delay in ms, or LT_TIMER_STOP. */
typedef int64_t (*lt_timer_fn)(lt_loop *loop, void *arg);
#define LT_TIMER_STOP ((int64_t)-1)

/** fd watch callback; revents are poll(2) bits. */
typedef void (*lt_fd_fn)(lt_loop *loop, int fd, short revents, void *arg);

/** CONSTRUCTOR. Create a loop. LT_ERR_NOMEM or LT_ERR_IO (eventfd). */
LT_NODISCARD lt_status lt_loop_new(lt_loop **new_loop);

/**
 * DESTRUCTOR. Free a loop that is not running. Items still queued are not
 * run: their drop function releases their argument. Timers and watches are
 * discarded. NULL-safe.
 */
void lt_loop_free(lt_loop *loop);

/**
 * Queue fn(arg) to run on the loop thread, after everything posted before it
 * (FIFO across all posting threads). Thread-safe. On LT_OK the loop owns arg
 * (drop is called if it never runs); on error (LT_ERR_CLOSED after
 * lt_loop_stop, LT_ERR_NOMEM) the caller keeps it.
 */
LT_NODISCARD lt_status lt_loop_post(lt_loop *loop, lt_loop_fn fn, void *arg, lt_loop_drop_fn drop);

/**
 * Run until lt_loop_stop(). Must be called from one thread only; that thread
 * becomes the loop thread. Returns LT_OK after a stop, or LT_ERR_IO if
 * waiting failed.
 */
LT_NODISCARD lt_status lt_loop_run(lt_loop *loop);

/**
 * Ask the loop to return from lt_loop_run() after the item it is running.
 * Thread-safe and async-signal-safe (an atomic store and a write(2)).
 * Later posts fail with LT_ERR_CLOSED.
 */
void lt_loop_stop(lt_loop *loop);

/**
 * Stop the loop for good and drop, now and on the calling thread, every item
 * still queued (their drop functions run before this returns). Posts that
 * race with or follow it fail with LT_ERR_CLOSED, so none is left for
 * lt_loop_free. For an owner whose items hold resources of a library that it
 * shuts down before freeing the loop (natsMsg after nats_Close). Thread-safe,
 * not async-signal-safe. NULL-safe.
 */
void lt_loop_close(lt_loop *loop);

/** True once lt_loop_stop() was called. Thread-safe. */
bool lt_loop_stopping(const lt_loop *loop);

/**
 * Arm a timer (loop thread only, or before run): cb fires after delay_ms and
 * then again after each delay it returns. *id (optional) identifies it for
 * lt_loop_timer_cancel. LT_ERR_NOMEM on failure.
 */
LT_NODISCARD lt_status lt_loop_timer_add(lt_loop *loop, int64_t delay_ms, lt_timer_fn cb, void *arg,
                                         uint64_t *id);

/** Cancel a timer (loop thread only). LT_ERR_NOT_FOUND if it is gone. */
lt_status lt_loop_timer_cancel(lt_loop *loop, uint64_t id);

/**
 * Watch fd for the poll(2) events (loop thread only, or before run). At most
 * LT_LOOP_MAX_FDS watches. LT_ERR_TOO_BIG when full.
 */
#define LT_LOOP_MAX_FDS 16
LT_NODISCARD lt_status lt_loop_watch_fd(lt_loop *loop, int fd, short events, lt_fd_fn cb,
                                        void *arg);

/** Stop watching fd. LT_ERR_NOT_FOUND if it was not watched. */
lt_status lt_loop_unwatch_fd(lt_loop *loop, int fd);

/** Items queued and not yet run. Thread-safe; for metrics and tests. */
size_t lt_loop_pending(lt_loop *loop);

/** Monotonic milliseconds. */
int64_t lt_loop_now_ms(void);

#endif
