/*
 * pbt_protoc.c - runs the reference protoc as a subprocess for golden tests
 * (stdin/stdout through temporary files, so no pipe deadlocks), and small
 * file helpers. Paths come from the build: LT_TEST_PROTOC, LT_TEST_SCHEMAS_DIR,
 * LT_TEST_WKT_DIR, LT_TEST_GOLDEN_DIR, LT_TEST_OUT_DIR.
 */
#include "pbt_protoc.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "lt_alloc.h"
#include "lt_buf.h"

#define PBT_MAX_FILE (4u << 20)

static lt_status write_all(int fd, const void *data, size_t len)
{
    const char *p = data;
    while (len > 0) {
        ssize_t n = write(fd, p, len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return LT_FAIL(LT_ERR_IO, "write failed (errno %d)", errno);
        p += n;
        len -= (size_t)n;
    }
    return LT_OK;
}

static lt_status read_fd(int fd, char **new_data, size_t *out_len)
{
    lt_buf b;
    char chunk[4096];
    lt_status st = LT_OK;
    lt_buf_init(&b, PBT_MAX_FILE);
    for (;;) {
        ssize_t n = read(fd, chunk, sizeof chunk);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            st = LT_FAIL(LT_ERR_IO, "read failed (errno %d)", errno);
        if (n <= 0 || st != LT_OK)
            break;
        st = lt_buf_append(&b, chunk, (size_t)n);
        if (st != LT_OK)
            break;
    }
    if (st == LT_OK) {
        *out_len = b.len;
        *new_data = lt_buf_take(&b);
        if (!*new_data)
            st = LT_FAIL(LT_ERR_NOMEM, "file copy");
    }
    lt_buf_cleanup(&b);
    return st;
}

/* Child side: stdin/stdout redirected, then exec protoc. Never returns. */
static void exec_protoc(int in_fd, int out_fd, const char *mode_arg, const char *proto)
{
    const char *argv[] = { LT_TEST_PROTOC,
                           "--proto_path=" LT_TEST_SCHEMAS_DIR,
                           "--proto_path=" LT_TEST_WKT_DIR,
                           mode_arg,
                           proto,
                           NULL };
    if (dup2(in_fd, 0) < 0 || dup2(out_fd, 1) < 0)
        _exit(126);
    execv(argv[0], (char *const *)argv);
    _exit(127);
}

lt_status pbt_protoc(const char *mode, const char *type, const char *proto, const void *in,
                     size_t len, char **new_out, size_t *out_len)
{
    char in_path[] = "/tmp/lt-pbt-in-XXXXXX";
    char out_path[] = "/tmp/lt-pbt-out-XXXXXX";
    int in_fd = mkstemp(in_path), out_fd = mkstemp(out_path), wstatus = 0;
    lt_buf arg;
    lt_status st = LT_OK;
    lt_buf_init(&arg, 512);
    if (in_fd < 0 || out_fd < 0) {
        st = LT_FAIL(LT_ERR_IO, "mkstemp failed (errno %d)", errno);
        goto out;
    }
    st = lt_buf_appendf(&arg, "--%s=%s", mode, type);
    if (st == LT_OK)
        st = write_all(in_fd, in, len);
    if (st == LT_OK && lseek(in_fd, 0, SEEK_SET) < 0)
        st = LT_FAIL(LT_ERR_IO, "lseek failed (errno %d)", errno);
    if (st != LT_OK)
        goto out;
    fflush(NULL);
    pid_t pid = fork();
    if (pid < 0) {
        st = LT_FAIL(LT_ERR_IO, "fork failed (errno %d)", errno);
        goto out;
    }
    if (pid == 0)
        exec_protoc(in_fd, out_fd, arg.ptr, proto);
    while (waitpid(pid, &wstatus, 0) < 0 && errno == EINTR)
        ;
    if (!WIFEXITED(wstatus) || WEXITSTATUS(wstatus) != 0) {
        st = LT_FAIL(LT_ERR_PARSE, "protoc %s failed (status %d)", arg.ptr, wstatus);
        goto out;
    }
    if (lseek(out_fd, 0, SEEK_SET) < 0)
        st = LT_FAIL(LT_ERR_IO, "lseek failed (errno %d)", errno);
    else
        st = read_fd(out_fd, new_out, out_len);
out:
    if (in_fd >= 0) {
        close(in_fd);
        unlink(in_path);
    }
    if (out_fd >= 0) {
        close(out_fd);
        unlink(out_path);
    }
    lt_buf_cleanup(&arg);
    return st;
}

lt_status pbt_read_file(const char *path, char **new_data, size_t *out_len)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return LT_FAIL(LT_ERR_IO, "cannot open %s (errno %d)", path, errno);
    lt_status st = read_fd(fd, new_data, out_len);
    close(fd);
    return st;
}

lt_status pbt_read_golden(const char *name, char **new_data, size_t *out_len)
{
    lt_buf path;
    lt_buf_init(&path, 4096);
    lt_status st = lt_buf_appendf(&path, "%s/%s", LT_TEST_GOLDEN_DIR, name);
    if (st == LT_OK)
        st = pbt_read_file(path.ptr, new_data, out_len);
    lt_buf_cleanup(&path);
    return st;
}

void pbt_write_actual(const char *name, const char *data, size_t len)
{
    lt_buf path;
    lt_buf_init(&path, 4096);
    if (lt_buf_appendf(&path, "%s/%s", LT_TEST_OUT_DIR, name) == LT_OK) {
        FILE *fp = fopen(path.ptr, "wb");
        if (fp) {
            fwrite(data, 1, len, fp);
            fclose(fp);
            fprintf(stderr, "actual output written to %s\n", path.ptr);
        }
    }
    lt_buf_cleanup(&path);
}

uint8_t *pbt_pack(const ProtobufCMessage *m, size_t *out_len)
{
    size_t len = protobuf_c_message_get_packed_size(m);
    uint8_t *buf = lt_malloc(len ? len : 1);
    if (!buf)
        return NULL;
    *out_len = protobuf_c_message_pack(m, buf);
    return buf;
}
