/*
 * lt_testhttp.c - the test HTTP client of lt_testhttp.h: connect, write the
 * request, read until EOF, split status line, headers and body.
 */
#include "lt_testhttp.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include "lt_alloc.h"
#include "lt_buf.h"

static int connect_to(const char *addr, int timeout_ms)
{
    struct sockaddr_in sa = { .sin_family = AF_INET };
    struct timeval tv = { .tv_sec = timeout_ms / 1000, .tv_usec = (timeout_ms % 1000) * 1000 };
    char host[64];
    const char *colon = strrchr(addr, ':');
    int fd;

    if (colon == NULL || (size_t)(colon - addr) >= sizeof(host))
        return -1;
    memcpy(host, addr, (size_t)(colon - addr));
    host[colon - addr] = '\0';
    sa.sin_port = htons((unsigned short)atoi(colon + 1));
    if (inet_pton(AF_INET, host, &sa.sin_addr) != 1)
        return -1;
    if ((fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0)) < 0)
        return -1;
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
    if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0) {
        close(fd);
        return -1;
    }
    return fd;
}

int lt_test_http(const char *addr, const char *method, const char *path, int timeout_ms,
                 lt_test_http_res *res)
{
    char req[512], chunk[4096];
    lt_buf in;
    char *sep;
    ssize_t n;
    int fd, rc = -1;

    memset(res, 0, sizeof(*res));
    lt_buf_init(&in, 64u << 20);
    if ((fd = connect_to(addr, timeout_ms)) < 0)
        goto out;
    snprintf(req, sizeof(req), "%s %s HTTP/1.0\r\nHost: %s\r\nConnection: close\r\n\r\n", method,
             path, addr);
    if (write(fd, req, strlen(req)) != (ssize_t)strlen(req))
        goto out;
    while ((n = read(fd, chunk, sizeof(chunk))) > 0)
        if (lt_buf_append(&in, chunk, (size_t)n) != LT_OK)
            goto out;
    if (sscanf(in.ptr, "HTTP/%*d.%*d %d", &res->status) != 1 ||
        (sep = strstr(in.ptr, "\r\n\r\n")) == NULL) {
        res->status = 0;
        goto out;
    }
    res->headers = lt_strndup(in.ptr, (size_t)(sep - in.ptr));
    res->body_len = in.len - (size_t)(sep + 4 - in.ptr);
    res->body = lt_strndup(sep + 4, res->body_len);
    rc = res->headers != NULL && res->body != NULL ? 0 : -1;
out:
    if (fd >= 0)
        close(fd);
    lt_buf_cleanup(&in);
    return rc;
}

void lt_test_http_cleanup(lt_test_http_res *res)
{
    if (res == NULL)
        return;
    lt_free(res->headers);
    lt_free(res->body);
    res->headers = res->body = NULL;
}
