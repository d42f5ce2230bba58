/*
 * test_log.c - the log sink never blocks: a real process (log_flood) whose
 * stderr is a pipe nobody reads finishes and counts the records it dropped;
 * with a sink that keeps up every record arrives whole, with its trace id.
 */
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "lt_config.h"
#include "lt_alloc.h"
#include "lt_fs.h"
#include "lt_log.h"
#include "lt_testutil.h"

#define FLOOD LT_BUILD_ROOT "/tests/core/log_flood"

/* Run log_flood with stderr on errfd; wait at most timeout_s; its stdout into out. Returns its
 * exit status, or -1 when it had to be killed (it blocked). */
static int run_flood(char *const argv[], int errfd, int timeout_s, char *out, size_t outsize)
{
    int opipe[2];
    pid_t pid;
    int status = -1;
    size_t got = 0;
    time_t end = time(NULL) + timeout_s;

    ck_assert_int_eq(pipe(opipe), 0);
    pid = fork();
    ck_assert_int_ge(pid, 0);
    if (pid == 0) {
        dup2(opipe[1], STDOUT_FILENO);
        dup2(errfd, STDERR_FILENO);
        execv(FLOOD, argv);
        _exit(127);
    }
    close(opipe[1]);
    for (;;) {
        pid_t w = waitpid(pid, &status, WNOHANG);

        if (w == pid)
            break;
        if (time(NULL) > end) {
            kill(pid, SIGKILL);
            waitpid(pid, NULL, 0);
            status = -1;
            break;
        }
        usleep(20000);
    }
    fcntl(opipe[0], F_SETFL, O_NONBLOCK);
    for (;;) {
        ssize_t n = read(opipe[0], out + got, outsize - 1 - got);

        if (n <= 0)
            break;
        got += (size_t)n;
    }
    out[got] = '\0';
    close(opipe[0]);
    return status;
}

/* stderr is a pipe nobody reads: 64 KiB of pipe and the 256 KiB ring fill, then records must be
 * dropped, not block the process. 4000 records of 500 bytes are 2 MB. */
START_TEST(test_full_pipe_drops_not_blocks)
{
    char *const argv[] = { (char *)FLOOD, (char *)"4000", (char *)"500", NULL };
    char out[256];
    int epipe[2];
    int status;
    unsigned long long dropped = 0;

    ck_assert_int_eq(pipe(epipe), 0);
    status = run_flood(argv, epipe[1], 30, out, sizeof(out));
    ck_assert_msg(status != -1, "log_flood blocked on its full stderr pipe");
    ck_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    ck_assert_int_eq(sscanf(out, "dropped=%llu", &dropped), 1);
    ck_assert_msg(dropped > 1000, "dropped=%llu", dropped);
    close(epipe[0]);
    close(epipe[1]);
}
END_TEST

/* A sink that keeps up (a file): nothing dropped, every record there at exit (the exit flush),
 * each one line ending with the thread's trace id. */
START_TEST(test_file_sink_complete_with_trace)
{
    char *const argv[] = { (char *)FLOOD, (char *)"200", (char *)"300",
                           (char *)"4bf92f3577b34da6a3ce929d0e0e4736", NULL };
    char dir[] = "/tmp/lt-test-log-XXXXXX";
    char path[256], out[256];
    char *text = NULL;
    size_t len = 0;
    int fd, status, lines = 0, traced = 0;
    unsigned long long dropped = 99;

    ck_assert_ptr_nonnull(mkdtemp(dir));
    snprintf(path, sizeof(path), "%s/err", dir);
    fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    ck_assert_int_ge(fd, 0);
    status = run_flood(argv, fd, 30, out, sizeof(out));
    close(fd);
    ck_assert(status != -1 && WIFEXITED(status) && WEXITSTATUS(status) == 0);
    ck_assert_int_eq(sscanf(out, "dropped=%llu", &dropped), 1);
    ck_assert_uint_eq(dropped, 0);
    ck_assert_int_eq(lt_fs_read_file(path, 1 << 24, &text, &len), LT_OK);
    for (char *p = text, *nl; (nl = strchr(p, '\n')) != NULL; p = nl + 1) {
        *nl = '\0';
        lines++;
        if (strstr(p, "flood: record ") != NULL &&
            strstr(p, " trace_id=4bf92f3577b34da6a3ce929d0e0e4736") == nl - 42)
            traced++;
    }
    ck_assert_int_eq(lines, 200);
    ck_assert_int_eq(traced, 200);
    lt_free(text);
    unlink(path);
    rmdir(dir);
}
END_TEST

/* In-process: the thread's trace id is per thread and cleared by NULL. */
START_TEST(test_trace_set_get)
{
    ck_assert_str_eq(lt_log_trace_get(), "");
    lt_log_trace_set("0af7651916cd43dd8448eb211c80319c");
    ck_assert_str_eq(lt_log_trace_get(), "0af7651916cd43dd8448eb211c80319c");
    lt_log_trace_set(NULL);
    ck_assert_str_eq(lt_log_trace_get(), "");
}
END_TEST

int main(void)
{
    Suite *s = suite_create("log");

    lt_test_tcase(s, "log", 120,
                  (const TTest *const[]){ test_full_pipe_drops_not_blocks,
                                          test_file_sink_complete_with_trace, test_trace_set_get,
                                          NULL });
    return lt_test_run_suite(s);
}
