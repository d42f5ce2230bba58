/*
 * test_proxy.c - the chaos suite's TCP proxy (tests/support/lt_proxy.h) on its
 * own, against a plain loopback listener of the test: bytes are relayed both
 * ways; a stall keeps the connection open but relays nothing until resumed,
 * then the held bytes arrive; a cut resets the connection and refuses new
 * ones; forward after a cut accepts again on the same port.
 */
#include <arpa/inet.h>
#include <check.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "lt_natsrv.h"
#include "lt_proxy.h"
#include "lt_testutil.h"

static int listen_on(int *port)
{
    struct sockaddr_in a = { .sin_family = AF_INET };
    socklen_t alen = sizeof(a);
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

    ck_assert_int_ge(fd, 0);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ck_assert_int_eq(bind(fd, (struct sockaddr *)&a, sizeof(a)), 0);
    ck_assert_int_eq(listen(fd, 8), 0);
    ck_assert_int_eq(getsockname(fd, (struct sockaddr *)&a, &alen), 0);
    *port = ntohs(a.sin_port);
    return fd;
}

/* connect() to the port: the fd, or -1 with errno. */
static int dial(int port)
{
    struct sockaddr_in a = { .sin_family = AF_INET };
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

    ck_assert_int_ge(fd, 0);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    a.sin_port = htons((uint16_t)port);
    if (connect(fd, (struct sockaddr *)&a, sizeof(a)) != 0) {
        int e = errno;

        close(fd);
        errno = e;
        return -1;
    }
    return fd;
}

static int accept_within(int lfd, int ms)
{
    struct pollfd p = { .fd = lfd, .events = POLLIN };

    if (poll(&p, 1, ms) <= 0)
        return -1;
    return accept(lfd, NULL, NULL);
}

/* Read up to cap bytes within ms: count read, 0 on EOF, -1 on reset, -2 on timeout. */
static ssize_t read_within(int fd, char *buf, size_t cap, int ms)
{
    struct pollfd p = { .fd = fd, .events = POLLIN };
    ssize_t n;

    if (poll(&p, 1, ms) <= 0)
        return -2;
    n = recv(fd, buf, cap, 0);
    return n < 0 ? -1 : n;
}

static void send_all(int fd, const char *s)
{
    ck_assert_int_eq(send(fd, s, strlen(s), MSG_NOSIGNAL), (ssize_t)strlen(s));
}

static void expect(int fd, const char *want)
{
    char buf[256];
    size_t got = 0, n = strlen(want);

    while (got < n) {
        ssize_t r = read_within(fd, buf + got, sizeof(buf) - 1 - got, 5000);

        ck_assert_int_gt(r, 0);
        got += (size_t)r;
    }
    buf[got] = '\0';
    ck_assert_str_eq(buf, want);
}

START_TEST(test_forward_stall_cut)
{
    lt_proxy *p = NULL;
    int port, lfd = listen_on(&port), c, s, c2;
    char buf[64];

    ck_assert_int_eq(lt_proxy_start(&p, port), LT_OK);
    ck_assert_int_gt(lt_proxy_port(p), 0);
    ck_assert_int_ne(lt_proxy_port(p), port);

    /* forward: both ways */
    c = dial(lt_proxy_port(p));
    ck_assert_int_ge(c, 0);
    s = accept_within(lfd, 5000);
    ck_assert_int_ge(s, 0);
    send_all(c, "ping");
    expect(s, "ping");
    send_all(s, "pong");
    expect(c, "pong");

    /* stall: open but silent in both directions, no close seen */
    ck_assert_int_eq(lt_proxy_set(p, LT_PROXY_STALL), LT_OK);
    send_all(c, "held-up");
    send_all(s, "held-down");
    ck_assert_int_eq(read_within(s, buf, sizeof(buf), 500), -2);
    ck_assert_int_eq(read_within(c, buf, sizeof(buf), 100), -2);
    /* a new connection gets no service either (it waits in the backlog) */
    c2 = dial(lt_proxy_port(p));
    ck_assert_int_ge(c2, 0);
    ck_assert_int_eq(accept_within(lfd, 300), -1);

    /* resume: what was held arrives, the waiting connection is served */
    ck_assert_int_eq(lt_proxy_set(p, LT_PROXY_FORWARD), LT_OK);
    expect(s, "held-up");
    expect(c, "held-down");
    {
        int s2 = accept_within(lfd, 5000);

        ck_assert_int_ge(s2, 0);
        send_all(c2, "late");
        expect(s2, "late");
        close(s2);
    }
    close(c2);

    /* cut: the client sees its connection die, new connections are refused */
    ck_assert_int_eq(lt_proxy_set(p, LT_PROXY_CUT), LT_OK);
    ck_assert_int_le(read_within(c, buf, sizeof(buf), 5000), 0);
    ck_assert_int_le(read_within(s, buf, sizeof(buf), 5000), 0);
    close(c);
    close(s);
    ck_assert_int_eq(dial(lt_proxy_port(p)), -1);
    ck_assert_int_eq(errno, ECONNREFUSED);

    /* forward again on the same port */
    ck_assert_int_eq(lt_proxy_set(p, LT_PROXY_FORWARD), LT_OK);
    c = dial(lt_proxy_port(p));
    ck_assert_int_ge(c, 0);
    s = accept_within(lfd, 5000);
    ck_assert_int_ge(s, 0);
    send_all(c, "again");
    expect(s, "again");
    close(c);
    close(s);
    close(lfd);
    ck_assert_int_eq(lt_proxy_stop(p), LT_OK);
}
END_TEST

int main(void)
{
    Suite *su = suite_create("chaos_proxy");

    lt_test_tcase(su, "proxy", 60, (const TTest *const[]){ test_forward_stall_cut, NULL });
    return lt_test_run_suite(su);
}
