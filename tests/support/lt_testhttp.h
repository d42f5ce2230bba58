/*
 * lt_testhttp.h - a minimal HTTP/1.0 client for tests of the admin listener:
 * one request over a loopback TCP socket, the whole answer read until the
 * server closes it. Not a general client (no chunked encoding, IPv4 only).
 */
#ifndef LT_TESTHTTP_H
#define LT_TESTHTTP_H

#include <stddef.h>

typedef struct {
    int status;    /**< HTTP status code; 0 when no answer */
    char *headers; /**< the header block (lt_free'd by cleanup) */
    char *body;    /**< NUL-terminated body (lt_free'd by cleanup) */
    size_t body_len;
} lt_test_http_res;

/**
 * Send `method path` to addr ("127.0.0.1:port") and read the answer within
 * timeout_ms. Returns 0, or -1 when nothing could be read (res->status 0).
 */
int lt_test_http(const char *addr, const char *method, const char *path, int timeout_ms,
                 lt_test_http_res *res);

/** Free what res holds. NULL-safe. */
void lt_test_http_cleanup(lt_test_http_res *res);

#endif
