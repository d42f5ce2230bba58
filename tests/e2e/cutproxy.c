/*
 * cutproxy.c - see cutproxy.h. A poll loop over the listener and up to
 * MAX_PAIRS client/upstream socket pairs; commands (cut, heal, stop) come
 * through a pipe so they take effect between two poll rounds.
 */
#include "cutproxy.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define MAX_PAIRS 32

struct cutproxy {
    int lfd, upstream, ctl[2], ack[2];
    int pairs[MAX_PAIRS][2]; /* [client, upstream], -1 when free */
    bool cut;
    unsigned accepted;
    pthread_t th;
    pthread_mutex_t mu;
    char url[64];
};

static void close_pair(cutproxy *p, int i)
{
    close(p->pairs[i][0]);
    close(p->pairs[i][1]);
    p->pairs[i][0] = p->pairs[i][1] = -1;
}

static int dial(int port)
{
    struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port) };
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (fd >= 0 && connect(fd, (struct sockaddr *)&a, sizeof(a)) != 0) {
        close(fd);
        fd = -1;
    }
    return fd;
}

static void on_accept(cutproxy *p)
{
    int c = accept4(p->lfd, NULL, NULL, SOCK_CLOEXEC), u, i;

    if (c < 0)
        return;
    if (p->cut || (u = dial(p->upstream)) < 0) {
        close(c);
        return;
    }
    for (i = 0; i < MAX_PAIRS; i++)
        if (p->pairs[i][0] < 0)
            break;
    if (i == MAX_PAIRS) {
        close(c);
        close(u);
        return;
    }
    p->pairs[i][0] = c;
    p->pairs[i][1] = u;
    pthread_mutex_lock(&p->mu);
    p->accepted++;
    pthread_mutex_unlock(&p->mu);
}

/* Copy what is readable on pairs[i][side] to the other side; false when the pair ends. */
static bool pump(cutproxy *p, int i, int side)
{
    char buf[65536];
    ssize_t n = read(p->pairs[i][side], buf, sizeof(buf)), off = 0;

    if (n <= 0)
        return false;
    while (off < n) {
        ssize_t w = send(p->pairs[i][!side], buf + off, (size_t)(n - off), MSG_NOSIGNAL);

        if (w <= 0)
            return false;
        off += w;
    }
    return true;
}

static void *run(void *arg)
{
    cutproxy *p = arg;
    struct pollfd pf[2 + 2 * MAX_PAIRS];
    int idx[2 + 2 * MAX_PAIRS];

    for (;;) {
        int n = 0, i;
        char cmd;

        pf[n++] = (struct pollfd){ .fd = p->ctl[0], .events = POLLIN };
        pf[n++] = (struct pollfd){ .fd = p->lfd, .events = POLLIN };
        for (i = 0; i < MAX_PAIRS; i++) {
            if (p->pairs[i][0] < 0)
                continue;
            idx[n] = i;
            pf[n++] = (struct pollfd){ .fd = p->pairs[i][0], .events = POLLIN };
            idx[n] = i;
            pf[n++] = (struct pollfd){ .fd = p->pairs[i][1], .events = POLLIN };
        }
        if (poll(pf, (nfds_t)n, -1) < 0)
            continue;
        if (pf[0].revents & POLLIN) {
            if (read(p->ctl[0], &cmd, 1) != 1 || cmd == 's')
                break;
            p->cut = cmd == 'c';
            if (p->cut)
                for (i = 0; i < MAX_PAIRS; i++)
                    if (p->pairs[i][0] >= 0)
                        close_pair(p, i);
            if (write(p->ack[1], &cmd, 1) != 1)
                break;
            continue;
        }
        if (pf[1].revents & POLLIN)
            on_accept(p);
        for (i = 2; i < n; i++) {
            int pi = idx[i];

            if (pf[i].revents == 0 || p->pairs[pi][0] < 0)
                continue;
            if (!pump(p, pi, pf[i].fd == p->pairs[pi][0] ? 0 : 1))
                close_pair(p, pi);
        }
    }
    for (int i = 0; i < MAX_PAIRS; i++)
        if (p->pairs[i][0] >= 0)
            close_pair(p, i);
    return NULL;
}

cutproxy *cutproxy_start(int upstream_port)
{
    cutproxy *p = calloc(1, sizeof(*p));
    struct sockaddr_in a = { .sin_family = AF_INET };
    socklen_t al = sizeof(a);
    int i;

    if (p == NULL)
        return NULL;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    p->upstream = upstream_port;
    for (i = 0; i < MAX_PAIRS; i++)
        p->pairs[i][0] = p->pairs[i][1] = -1;
    pthread_mutex_init(&p->mu, NULL);
    p->lfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (p->lfd < 0 || bind(p->lfd, (struct sockaddr *)&a, sizeof(a)) != 0 ||
        listen(p->lfd, 16) != 0 || getsockname(p->lfd, (struct sockaddr *)&a, &al) != 0 ||
        pipe(p->ctl) != 0 || pipe(p->ack) != 0 || pthread_create(&p->th, NULL, run, p) != 0) {
        if (p->lfd >= 0)
            close(p->lfd);
        free(p);
        return NULL;
    }
    snprintf(p->url, sizeof(p->url), "nats://127.0.0.1:%d", (int)ntohs(a.sin_port));
    return p;
}

const char *cutproxy_url(const cutproxy *p)
{
    return p->url;
}

void cutproxy_cut(cutproxy *p, bool cut)
{
    char cmd = cut ? 'c' : 'h', ack;

    if (write(p->ctl[1], &cmd, 1) == 1 && read(p->ack[0], &ack, 1) == 1)
        return;
}

unsigned cutproxy_accepted(cutproxy *p)
{
    unsigned n;

    pthread_mutex_lock(&p->mu);
    n = p->accepted;
    pthread_mutex_unlock(&p->mu);
    return n;
}

void cutproxy_stop(cutproxy *p)
{
    char cmd = 's';

    if (p == NULL)
        return;
    if (write(p->ctl[1], &cmd, 1) == 1)
        pthread_join(p->th, NULL);
    close(p->lfd);
    close(p->ctl[0]);
    close(p->ctl[1]);
    close(p->ack[0]);
    close(p->ack[1]);
    pthread_mutex_destroy(&p->mu);
    free(p);
}
