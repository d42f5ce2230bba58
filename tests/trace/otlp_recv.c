/*
 * otlp_recv.c - the test OTLP receiver: one thread accepting loopback
 * connections, one request per connection (Connection: close), bodies parsed
 * with jansson and checked for the OTLP JSON shape the exporter must send.
 */
#include "otlp_recv.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

struct otlp_recv {
    int fd;
    pthread_t thread;
    pthread_mutex_t mu;
    volatile int stop;
    json_t *spans;
    int bad;
    char url[64];
};

static const char *str_or_empty(json_t *v)
{
    const char *s = json_string_value(v);

    return s != NULL ? s : "";
}

/* The spans of one body, or -1 when it is not resourceSpans/scopeSpans/spans with hex ids and
 * string times. */
static int take_body(otlp_recv *r, const char *body, size_t len)
{
    json_t *doc = json_loadb(body, len, 0, NULL), *rs, *ss, *sp;
    size_t i, j, k;
    int n = 0;

    if (doc == NULL || !json_is_array(rs = json_object_get(doc, "resourceSpans")))
        goto bad;
    json_array_foreach (rs, i, ss) {
        json_t *attrs = json_object_get(json_object_get(ss, "resource"), "attributes"), *a;
        const char *service = "";
        json_t *scopes = json_object_get(ss, "scopeSpans"), *scope;

        json_array_foreach (attrs, k, a) {
            if (strcmp(str_or_empty(json_object_get(a, "key")), "service.name") == 0)
                service = str_or_empty(json_object_get(json_object_get(a, "value"), "stringValue"));
        }
        if (!json_is_array(scopes))
            goto bad;
        json_array_foreach (scopes, j, scope) {
            json_t *spans = json_object_get(scope, "spans");

            if (!json_is_array(spans))
                goto bad;
            json_array_foreach (spans, k, sp) {
                const char *tid = json_string_value(json_object_get(sp, "traceId"));
                const char *sid = json_string_value(json_object_get(sp, "spanId"));

                if (tid == NULL || strlen(tid) != 32 || sid == NULL || strlen(sid) != 16 ||
                    !json_is_string(json_object_get(sp, "startTimeUnixNano")) ||
                    !json_is_string(json_object_get(sp, "endTimeUnixNano")) ||
                    !json_is_string(json_object_get(sp, "name")))
                    goto bad;
                json_object_set_new(sp, "_service", json_string(service));
                pthread_mutex_lock(&r->mu);
                json_array_append(r->spans, sp);
                pthread_mutex_unlock(&r->mu);
                n++;
            }
        }
    }
    json_decref(doc);
    return n;
bad:
    json_decref(doc);
    return -1;
}

/* Read one request (headers, Content-Length body) and answer it. */
static void serve(otlp_recv *r, int c)
{
    size_t cap = 1 << 20, got = 0, need = 0;
    char *buf = malloc(cap + 1), *body = NULL;
    static const char ok[] = "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
                             "Content-Length: 2\r\nConnection: close\r\n\r\n{}";

    if (buf == NULL)
        return;
    for (;;) {
        struct pollfd p = { .fd = c, .events = POLLIN };
        ssize_t n;

        if (poll(&p, 1, 5000) <= 0)
            break;
        n = read(c, buf + got, cap - got);
        if (n <= 0)
            break;
        got += (size_t)n;
        buf[got] = '\0';
        if (body == NULL && (body = strstr(buf, "\r\n\r\n")) != NULL) {
            char *cl = strcasestr(buf, "content-length:");

            body += 4;
            need = cl != NULL ? (size_t)strtoul(cl + 15, NULL, 10) : 0;
        }
        if (body != NULL && got - (size_t)(body - buf) >= need)
            break;
        if (got == cap)
            break;
    }
    if (body != NULL && got - (size_t)(body - buf) >= need) {
        if (take_body(r, body, need) < 0) {
            pthread_mutex_lock(&r->mu);
            r->bad++;
            pthread_mutex_unlock(&r->mu);
        }
        if (write(c, ok, sizeof(ok) - 1) < 0) {
            /* the client went away */
        }
    }
    free(buf);
}

static void *accept_main(void *p)
{
    otlp_recv *r = p;

    while (!r->stop) {
        struct pollfd pf = { .fd = r->fd, .events = POLLIN };
        int c;

        if (poll(&pf, 1, 100) <= 0)
            continue;
        c = accept(r->fd, NULL, NULL);
        if (c < 0)
            continue;
        serve(r, c);
        close(c);
    }
    return NULL;
}

otlp_recv *otlp_recv_start(void)
{
    otlp_recv *r = calloc(1, sizeof(*r));
    struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
    socklen_t alen = sizeof(a);

    if (r == NULL)
        return NULL;
    r->fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (r->fd < 0 || bind(r->fd, (struct sockaddr *)&a, sizeof(a)) != 0 || listen(r->fd, 16) != 0 ||
        getsockname(r->fd, (struct sockaddr *)&a, &alen) != 0) {
        if (r->fd >= 0)
            close(r->fd);
        free(r);
        return NULL;
    }
    snprintf(r->url, sizeof(r->url), "http://127.0.0.1:%d/v1/traces", ntohs(a.sin_port));
    r->spans = json_array();
    pthread_mutex_init(&r->mu, NULL);
    if (pthread_create(&r->thread, NULL, accept_main, r) != 0) {
        close(r->fd);
        json_decref(r->spans);
        free(r);
        return NULL;
    }
    return r;
}

const char *otlp_recv_url(const otlp_recv *r)
{
    return r->url;
}

json_t *otlp_recv_spans(otlp_recv *r, int *bad)
{
    json_t *copy;

    pthread_mutex_lock(&r->mu);
    copy = json_deep_copy(r->spans);
    if (bad != NULL)
        *bad = r->bad;
    pthread_mutex_unlock(&r->mu);
    return copy;
}

void otlp_recv_stop(otlp_recv *r)
{
    if (r == NULL)
        return;
    r->stop = 1;
    pthread_join(r->thread, NULL);
    close(r->fd);
    json_decref(r->spans);
    pthread_mutex_destroy(&r->mu);
    free(r);
}
