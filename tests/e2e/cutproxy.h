/*
 * cutproxy.h - a loopback TCP proxy for fault injection: it forwards every
 * connection to an upstream port until it is cut. A cut closes every
 * forwarded connection at once (the client sees EOF, as when a link drops)
 * and, until it is healed, accepts new connections only to close them.
 * One thread; test code only.
 */
#ifndef LT_CUTPROXY_H
#define LT_CUTPROXY_H

#include <stdbool.h>

typedef struct cutproxy cutproxy;

/** CONSTRUCTOR. Listen on a free 127.0.0.1 port and forward to 127.0.0.1:upstream_port. */
cutproxy *cutproxy_start(int upstream_port);
/** "nats://127.0.0.1:<port>" of the proxy. Borrowed. */
const char *cutproxy_url(const cutproxy *p);
/** Cut (true) or heal (false); returns once the proxy thread applied it. */
void cutproxy_cut(cutproxy *p, bool cut);
/** Connections accepted and forwarded so far (not counting those refused while cut). */
unsigned cutproxy_accepted(cutproxy *p);
/** DESTRUCTOR. Close everything, join the thread. NULL-safe. */
void cutproxy_stop(cutproxy *p);

#endif
