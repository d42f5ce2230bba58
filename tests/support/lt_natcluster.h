/*
 * lt_natcluster.h - a 3-node JetStream cluster of real nats-server children
 * (lt_natsrv) on free loopback ports, routed to each other, for tests of R3
 * storage and node loss. Ready when the meta leader is elected and JetStream
 * answers through every node. A node can be killed (SIGKILL, like a crash) or
 * stopped (SIGTERM) and started again on the same ports, name and store, and
 * everything is stopped by PID at the end.
 *
 * R3 on nats-server 2.9.10 (docs/operations.md, "Durability"): never delete and re-create a bucket
 * or stream under a reused name in a test that kills nodes (replicas diverge);
 * a SIGKILL of a stream leader leaves writes unavailable for ~6 s.
 *
 * Typical use:
 *     lt_natcluster *c = NULL;
 *     ck_assert_int_eq(lt_natcluster_start(&c), LT_OK);
 *     ... clients use lt_natcluster_urls(c) ("nats://..:a,nats://..:b,nats://..:c") ...
 *     ck_assert_int_eq(lt_natcluster_down(c, 1, true), LT_OK);
 *     ck_assert_int_eq(lt_natcluster_up(c, 1), LT_OK);
 *     ck_assert_int_eq(lt_natcluster_stop(c), LT_OK);
 */
#ifndef LT_NATCLUSTER_H
#define LT_NATCLUSTER_H

#include <stdbool.h>
#include <stdint.h>

#include "lt_natsrv.h"
#include "lt_status.h"

#define LT_NATCLUSTER_NODES 3

typedef struct lt_natcluster lt_natcluster;

/**
 * CONSTRUCTOR. Start LT_NATCLUSTER_NODES servers named "<prefix>-n0".. with JetStream,
 * client and route ports picked free, and wait (up to 30 s) until JetStream answers
 * through each of them. Retries with new ports if one was taken meanwhile. Nothing is
 * left running on failure. Statuses as lt_natsrv_start.
 */
LT_NODISCARD lt_status lt_natcluster_start(lt_natcluster **new_cluster);

/** DESTRUCTOR. lt_natsrv_stop on every node (SIGTERM, then SIGKILL), free. NULL-safe. */
LT_NODISCARD lt_status lt_natcluster_stop(lt_natcluster *c);

/** Comma-separated client URLs of all nodes. Borrowed. */
const char *lt_natcluster_urls(const lt_natcluster *c);

/** Node i (0..LT_NATCLUSTER_NODES-1). Borrowed. */
lt_natsrv *lt_natcluster_node(lt_natcluster *c, int i);

/** Server name of node i (as in JetStream's cluster info). Borrowed. */
const char *lt_natcluster_name(const lt_natcluster *c, int i);

/** Take node i down: hard = SIGKILL at once (a crash), else SIGTERM (graceful). */
LT_NODISCARD lt_status lt_natcluster_down(lt_natcluster *c, int i, bool hard);

/**
 * Start node i again on its ports, name and store, and wait (up to 30 s) until JetStream
 * answers through it.
 */
LT_NODISCARD lt_status lt_natcluster_up(lt_natcluster *c, int i);

/**
 * Index of the node that leads stream (e.g. "KV_bucket") per $JS.API.STREAM.INFO asked
 * through any running node, in *out. LT_ERR_NOT_FOUND when no leader is known.
 */
LT_NODISCARD lt_status lt_natcluster_stream_leader(lt_natcluster *c, const char *stream, int *out);

#endif
