/* sink_files.c - file helpers the sinks share: folders made durably,
 * syncs of a file, a stream or a whole file system, removing a tree, and
 * the names crashes leave. Below every sink file; calls none of them. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "sinks/sinks_int.h"

int
sinks_mkdir_durable(const char *root, const char *dir, int sync_each,
                    struct sl_err *err)
{
    char *p;
    int rc;

    if (sl_path_is_dir(dir))
        return SL_OK;
    if ((rc = sl_mkdir_p(dir, err)) != SL_OK)
        return SL_ERR(err, rc, "cannot create a folder in the target: %s",
                      strerror(errno));
    if (!sync_each)
        return SL_OK;
    /* fsync each new level's parent, up to the root. */
    p = sl_strdup(dir);
    while (strlen(p) > strlen(root)) {
        char *up;
        sl_fsync_dir_of(p);
        up = sl_path_dir(p);
        free(p);
        p = up;
    }
    free(p);
    return SL_OK;
}

/* One syscall for the whole file system, instead of one fsync per file. */
int
sinks_syncfs(const char *dir)
{
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC), rc;

    if (fd < 0)
        return -1;
    rc = syncfs(fd);
    close(fd);
    return rc;
}

int
sinks_fsync_path(const char *path)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC), rc;

    if (fd < 0)
        return -1;
    rc = fsync(fd);
    close(fd);
    return rc == 0 ? sl_fsync_dir_of(path) : -1;
}

int
sinks_stream_sync(FILE *f)
{
    if (fflush(f) != 0 || fsync(fileno(f)) != 0)
        return -1;
    return 0;
}

int
sinks_is_copy_tmp(const char *base)
{
    const char *t;

    if (base[0] == '.' && strstr(base, ".tmp.") != NULL)
        return 1; /* sl_file_copy's */
    /* sl_file_write_atomic's: NAME.tmp.PID (a manifest cut short) */
    if ((t = strstr(base, ".tmp.")) == NULL || t[5] == '\0')
        return 0;
    for (t += 5; *t; t++)
        if (*t < '0' || *t > '9')
            return 0;
    return 1;
}

/* nftw callback of sinks_rm_tree(): everything goes, folders last. */
static int
rm_any(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
    (void)sb;
    (void)ftw;
    if (flag == FTW_DP)
        rmdir(path);
    else
        unlink(path);
    return 0;
}

void
sinks_rm_tree(const char *dir)
{
    nftw(dir, rm_any, 16, FTW_DEPTH | FTW_PHYS);
}

int
sinks_type_ok(const char *t)
{
    size_t i;

    if (t == NULL || t[0] == '\0' || strlen(t) > 64)
        return 0;
    for (i = 0; t[i]; i++)
        if (!((t[i] >= 'A' && t[i] <= 'Z') || (t[i] >= 'a' && t[i] <= 'z')))
            return 0;
    return 1;
}
