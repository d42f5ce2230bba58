/*
 * host_driver.h - a test control plane for latticed-host: spawn the binary,
 * record every host CloudEvent of a lattice (thread-safe), send protobuf
 * commands and decode replies. Test code only.
 */
#ifndef HOST_DRIVER_H
#define HOST_DRIVER_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include <nats/nats.h>
#include <protobuf-c/protobuf-c.h>

#include "latticed/host/v1/command.pb-c.h"
#include "latticed/host/v1/host.pb-c.h"

typedef struct {
    char type[64];    /* ce-type without "dev.latticed." and ".v1": "host.heartbeat" */
    char source[128]; /* ce-source */
    char subject[256];
    bool headers_ok; /* ce-specversion 1.0, ce-id, ce-time, content-type protobuf */
    int64_t at_ms;   /* monotonic receive time */
    size_t started;  /* instances it says started: 1 for instance.started, each of an
                        instances.started (0 when that does not decode), else 0 */
    uint8_t *data;
    size_t len;
} drv_event;

typedef struct {
    natsConnection *nc;
    natsSubscription *sub;
    pthread_mutex_t lock;
    drv_event *ev;
    size_t n, cap;
} drv;

/** Connect to url and record "{prefix}.{lattice}.evt.>". */
void drv_open(drv *d, const char *url, const char *events_subject);
void drv_close(drv *d);

/** Events of type from source (NULL = any) so far. */
size_t drv_count(drv *d, const char *type, const char *source);
/** Distinct sources of events of type so far. */
size_t drv_sources(drv *d, const char *type);
/** Wait until drv_count(type, source) >= n; false on timeout. */
bool drv_wait(drv *d, const char *type, const char *source, size_t n, int64_t timeout_ms);
/** Instances source (NULL = any) said started so far: by instance.started and instances.started. */
size_t drv_started(drv *d, const char *source);
/** Wait until drv_started(source) >= n; false on timeout. */
bool drv_wait_started(drv *d, const char *source, size_t n, int64_t timeout_ms);
/** Decode the newest event of type from source with desc (free with
 *  protobuf_c_message_free_unpacked(m, NULL)); NULL when none. */
ProtobufCMessage *drv_last(drv *d, const char *type, const char *source,
                           const ProtobufCMessageDescriptor *desc);
/** Copy of the i-th event (any type) so far; false past the end. */
bool drv_event_at(drv *d, size_t i, drv_event *out);

/** Request on subject with m packed; reply decoded with desc, or NULL on timeout/no responders. */
ProtobufCMessage *drv_request(drv *d, const char *subject, const ProtobufCMessage *m,
                              const ProtobufCMessageDescriptor *desc, int64_t timeout_ms);

/** fork/exec bin with argv (NULL-terminated, argv[0] included); stdout+stderr to log. */
pid_t drv_spawn(const char *bin, char *const argv[], const char *log);
/** Send sig, wait up to timeout_ms for exit; returns the wait status, or -1 on timeout
 *  (then the process is SIGKILLed and reaped). */
int drv_stop(pid_t pid, int sig, int64_t timeout_ms);
/** True when no process pid exists (or it is a zombie). */
bool drv_pid_gone(pid_t pid);

int64_t drv_now_ms(void);

#endif
