/*
 * lt_proxy_main.c - `lt_proxy LISTEN_PORT TARGET_PORT`: a TCP proxy on the
 * loopback for fault injection in tests, controlled by signals:
 *
 *   SIGHUP   forward: accept connections and relay bytes both ways (the start mode)
 *   SIGUSR1  cut:     reset every open connection and close the listening socket, so new
 *                     connections are refused
 *   SIGUSR2  stall:   keep every connection open but relay nothing and accept nothing new
 *                     (a half-open link: the peers see silence, not a close)
 *   SIGTERM  exit
 *
 * LISTEN_PORT 0 picks a free port. The proxy writes "port N" on stdout once it listens and
 * "mode forward|cut|stall" after each change took effect, so a controller can wait for the
 * acknowledgement (tests/support/lt_proxy.h does). Only 127.0.0.1, at most MAX_PAIRS
 * connections at once; a connection whose target refuses is closed. No allocation: every
 * buffer is static and bounded.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <unistd.h>

#define MAX_PAIRS 64
#define BUF_BYTES 65536

typedef enum {
    MODE_FORWARD,
    MODE_CUT,
    MODE_STALL
} proxy_mode;

/* One relayed connection: a = the client side, b = the target side. */
typedef struct {
    int a, b;
    char ab[BUF_BYTES], ba[BUF_BYTES]; /* pending bytes a->b and b->a */
    size_t ab_len, ab_off, ba_len, ba_off;
} pair;

static pair pairs[MAX_PAIRS];
static int listen_port, target_port, listen_fd = -1;
static proxy_mode mode = MODE_FORWARD;

static const char *mode_name(proxy_mode m)
{
    return m == MODE_FORWARD ? "forward" : m == MODE_CUT ? "cut" : "stall";
}

static int open_listener(void)
{
    struct sockaddr_in a = { .sin_family = AF_INET };
    socklen_t alen = sizeof(a);
    int one = 1, fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);

    if (fd < 0)
        return -1;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    a.sin_port = htons((uint16_t)listen_port);
    if (bind(fd, (struct sockaddr *)&a, sizeof(a)) != 0 || listen(fd, 64) != 0 ||
        getsockname(fd, (struct sockaddr *)&a, &alen) != 0) {
        close(fd);
        return -1;
    }
    listen_port = ntohs(a.sin_port);
    return fd;
}

/* Close both ends; with reset, send RST instead of FIN (a cut, not a goodbye). */
static void pair_close(pair *p, bool reset)
{
    struct linger lg = { .l_onoff = 1, .l_linger = 0 };

    if (reset) {
        setsockopt(p->a, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
        setsockopt(p->b, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
    }
    close(p->a);
    close(p->b);
    p->a = p->b = -1;
    p->ab_len = p->ab_off = p->ba_len = p->ba_off = 0;
}

static void accept_one(void)
{
    struct sockaddr_in t = { .sin_family = AF_INET };
    int a = accept4(listen_fd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK), b;
    size_t i;

    if (a < 0)
        return;
    for (i = 0; i < MAX_PAIRS && pairs[i].a >= 0; i++)
        ;
    b = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    t.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    t.sin_port = htons((uint16_t)target_port);
    if (i == MAX_PAIRS || b < 0 || connect(b, (struct sockaddr *)&t, sizeof(t)) != 0) {
        close(a);
        if (b >= 0)
            close(b);
        return;
    }
    fcntl(b, F_SETFL, fcntl(b, F_GETFL) | O_NONBLOCK);
    pairs[i].a = a;
    pairs[i].b = b;
}

/* Move bytes from -> buffer -> to; false when the connection is finished. */
static bool relay(int from, int to, char *buf, size_t *len, size_t *off, short rev, short wev)
{
    if ((rev & (POLLIN | POLLHUP | POLLERR)) && *len == 0) {
        ssize_t n = read(from, buf, BUF_BYTES);

        if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR))
            return false;
        if (n > 0) {
            *len = (size_t)n;
            *off = 0;
        }
    }
    if ((wev & (POLLOUT | POLLERR)) && *len > *off) {
        ssize_t n = send(to, buf + *off, *len - *off, MSG_NOSIGNAL);

        if (n < 0 && errno != EAGAIN && errno != EINTR)
            return false;
        if (n > 0)
            *off += (size_t)n;
        if (*off == *len)
            *len = *off = 0;
    }
    return true;
}

static void set_mode(proxy_mode m)
{
    size_t i;

    if (m == MODE_CUT) {
        for (i = 0; i < MAX_PAIRS; i++)
            if (pairs[i].a >= 0)
                pair_close(&pairs[i], true);
        if (listen_fd >= 0)
            close(listen_fd);
        listen_fd = -1;
    } else if (listen_fd < 0) {
        listen_fd = open_listener();
        if (listen_fd < 0) {
            fprintf(stderr, "lt_proxy: cannot listen again on %d: errno %d\n", listen_port, errno);
            exit(1);
        }
    }
    mode = m;
    printf("mode %s\n", mode_name(m));
    fflush(stdout);
}

/* pfd[0] = signals, pfd[1] = listener (fd -1 unless forwarding), then 2 per pair. */
static void loop(int sfd)
{
    static struct pollfd pfd[2 + 2 * MAX_PAIRS];
    size_t i;

    for (;;) {
        pfd[0] = (struct pollfd){ .fd = sfd, .events = POLLIN };
        pfd[1] = (struct pollfd){ .fd = mode == MODE_FORWARD ? listen_fd : -1, .events = POLLIN };
        for (i = 0; i < MAX_PAIRS; i++) {
            pair *p = &pairs[i];
            bool on = mode == MODE_FORWARD && p->a >= 0;

            pfd[2 + 2 * i] = (struct pollfd){ .fd = on ? p->a : -1,
                                              .events = (short)((p->ab_len == 0 ? POLLIN : 0) |
                                                                (p->ba_len > 0 ? POLLOUT : 0)) };
            pfd[3 + 2 * i] = (struct pollfd){ .fd = on ? p->b : -1,
                                              .events = (short)((p->ba_len == 0 ? POLLIN : 0) |
                                                                (p->ab_len > 0 ? POLLOUT : 0)) };
        }
        if (poll(pfd, 2 + 2 * MAX_PAIRS, -1) < 0) {
            if (errno == EINTR)
                continue;
            exit(1);
        }
        if (pfd[0].revents & POLLIN) {
            struct signalfd_siginfo si;

            if (read(sfd, &si, sizeof(si)) == (ssize_t)sizeof(si)) {
                if (si.ssi_signo == SIGTERM || si.ssi_signo == SIGINT)
                    return;
                set_mode(si.ssi_signo == SIGUSR1   ? MODE_CUT
                         : si.ssi_signo == SIGUSR2 ? MODE_STALL
                                                   : MODE_FORWARD);
            }
            continue; /* the poll set is stale after a mode change */
        }
        if (pfd[1].revents & POLLIN)
            accept_one();
        for (i = 0; i < MAX_PAIRS; i++) {
            pair *p = &pairs[i];
            short ra = pfd[2 + 2 * i].revents, rb = pfd[3 + 2 * i].revents;

            if (p->a < 0 || pfd[2 + 2 * i].fd < 0)
                continue;
            if (!relay(p->a, p->b, p->ab, &p->ab_len, &p->ab_off, ra, rb) ||
                !relay(p->b, p->a, p->ba, &p->ba_len, &p->ba_off, rb, ra))
                pair_close(p, false);
        }
    }
}

static int parse_port(const char *s)
{
    char *end = NULL;
    long v = strtol(s, &end, 10);

    return (end == s || *end != '\0' || v < 0 || v > 65535) ? -1 : (int)v;
}

int main(int argc, char **argv)
{
    sigset_t set;
    int sfd;
    size_t i;

    if (argc != 3 || (listen_port = parse_port(argv[1])) < 0 ||
        (target_port = parse_port(argv[2])) <= 0) {
        fprintf(stderr, "usage: lt_proxy LISTEN_PORT TARGET_PORT\n"
                        "signals: SIGHUP forward, SIGUSR1 cut, SIGUSR2 stall, SIGTERM exit\n");
        return 2;
    }
    for (i = 0; i < MAX_PAIRS; i++)
        pairs[i].a = pairs[i].b = -1;
    sigemptyset(&set);
    sigaddset(&set, SIGHUP);
    sigaddset(&set, SIGUSR1);
    sigaddset(&set, SIGUSR2);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGINT);
    sigprocmask(SIG_BLOCK, &set, NULL);
    signal(SIGPIPE, SIG_IGN);
    sfd = signalfd(-1, &set, SFD_CLOEXEC);
    listen_fd = open_listener();
    if (sfd < 0 || listen_fd < 0) {
        fprintf(stderr, "lt_proxy: cannot listen on 127.0.0.1:%d: errno %d\n", listen_port, errno);
        return 1;
    }
    printf("port %d\n", listen_port);
    fflush(stdout);
    loop(sfd);
    for (i = 0; i < MAX_PAIRS; i++)
        if (pairs[i].a >= 0)
            pair_close(&pairs[i], false);
    close(listen_fd);
    close(sfd);
    return 0;
}
