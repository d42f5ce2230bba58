/*
 * lt_fs.c - small file-system and process helpers shared by the nats-server
 * launcher (core/lt_natsrv) and the tests: temp directories, recursive
 * removal, whole-file I/O, closing inherited descriptors in a child.
 */
#include "lt_fs.h"

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "lt_alloc.h"
#include "lt_buf.h"
#include "lt_limits.h"

lt_status lt_fs_tmpdir(char **new_path, const char *prefix)
{
    const char *base = getenv("TMPDIR");
    lt_buf b;
    lt_status st;

    *new_path = NULL;
    if (base == NULL || base[0] == '\0')
        base = "/tmp";
    lt_buf_init(&b, LT_MAX_PATH);
    st = lt_buf_appendf(&b, "%s/%s-XXXXXX", base, prefix != NULL ? prefix : "lt");
    if (st != LT_OK) {
        lt_buf_cleanup(&b);
        return LT_FAIL(st, "temp dir path too long under %s", base);
    }
    if (mkdtemp(b.ptr) == NULL) {
        int e = errno;

        lt_buf_cleanup(&b);
        return LT_FAIL(LT_ERR_IO, "mkdtemp under %s failed: errno %d", base, e);
    }
    *new_path = lt_buf_take(&b);
    lt_buf_cleanup(&b);
    if (*new_path == NULL)
        return LT_ERR_NOMEM;
    return LT_OK;
}

static _Thread_local int rmtree_errno;

static int rmtree_entry(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
    (void)sb;
    (void)ftw;
    if (flag == FTW_DP || flag == FTW_D) {
        if (rmdir(path) != 0 && errno != ENOENT && rmtree_errno == 0)
            rmtree_errno = errno;
    } else if (unlink(path) != 0 && errno != ENOENT && rmtree_errno == 0) {
        rmtree_errno = errno;
    }
    return 0; /* keep walking: remove as much as possible */
}

lt_status lt_fs_rmtree(const char *path)
{
    struct stat sb;

    if (path == NULL || lstat(path, &sb) != 0)
        return LT_OK;
    rmtree_errno = 0;
    if (nftw(path, rmtree_entry, 16, FTW_DEPTH | FTW_PHYS) != 0 && rmtree_errno == 0)
        rmtree_errno = errno != 0 ? errno : EIO;
    if (rmtree_errno != 0)
        return LT_FAIL(LT_ERR_IO, "could not remove %s: errno %d", path, rmtree_errno);
    return LT_OK;
}

lt_status lt_fs_read_file(const char *path, size_t max, char **new_data, size_t *out_len)
{
    lt_buf b;
    char chunk[8192];
    lt_status st = LT_OK;
    int fd;

    *new_data = NULL;
    if (out_len != NULL)
        *out_len = 0;
    fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        if (errno == ENOENT)
            return LT_FAIL(LT_ERR_NOT_FOUND, "no such file: %s", path);
        return LT_FAIL(LT_ERR_IO, "open %s: errno %d", path, errno);
    }
    lt_buf_init(&b, max);
    for (;;) {
        ssize_t n = read(fd, chunk, sizeof(chunk));

        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            st = LT_FAIL(LT_ERR_IO, "read %s: errno %d", path, errno);
            goto out;
        }
        if (n == 0)
            break;
        st = lt_buf_append(&b, chunk, (size_t)n);
        if (st != LT_OK) {
            st = LT_FAIL(st, "%s: larger than %zu bytes", path, max);
            goto out;
        }
    }
    if (out_len != NULL)
        *out_len = b.len;
    *new_data = lt_buf_take(&b);
    if (*new_data == NULL)
        st = LT_ERR_NOMEM;
out:
    close(fd);
    lt_buf_cleanup(&b);
    return st;
}

lt_status lt_fs_write_file(const char *path, const void *data, size_t len)
{
    const char *p = data;
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);

    if (fd < 0)
        return LT_FAIL(LT_ERR_IO, "create %s: errno %d", path, errno);
    while (len > 0) {
        ssize_t n = write(fd, p, len);

        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            int e = errno;

            close(fd);
            return LT_FAIL(LT_ERR_IO, "write %s: errno %d", path, e);
        }
        p += n;
        len -= (size_t)n;
    }
    if (close(fd) != 0)
        return LT_FAIL(LT_ERR_IO, "close %s: errno %d", path, errno);
    return LT_OK;
}

void lt_fs_close_fds_from(int lowfd)
{
#ifdef SYS_close_range
    if (syscall(SYS_close_range, (unsigned)lowfd, ~0u, 0u) == 0)
        return;
#endif
    {
        long max = sysconf(_SC_OPEN_MAX);

        if (max < 0 || max > 65536)
            max = 65536;
        for (int fd = lowfd; fd < (int)max; fd++)
            close(fd);
    }
}
