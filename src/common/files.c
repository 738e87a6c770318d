/* files.c - paths, directories and atomic writes. */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "common/common.h"

int
sl_mkdir_p(const char *path, struct sl_err *err)
{
    char *p = sl_strdup(path), *s;
    int rc = SL_OK;

    for (s = p + 1; *s; s++) {
        if (*s != '/')
            continue;
        *s = '\0';
        if (mkdir(p, 0750) != 0 && errno != EEXIST) {
            rc = SL_ERR(err, SL_EIO, "%s: cannot create directory: %s", p,
                        strerror(errno));
            goto out;
        }
        *s = '/';
    }
    if (mkdir(p, 0750) != 0 && errno != EEXIST)
        rc = SL_ERR(err, SL_EIO, "%s: cannot create directory: %s", p,
                    strerror(errno));
out:
    free(p);
    return rc;
}

int
sl_open_new(const char *path, int mode)
{
    int fd, tries;

    /* O_EXCL with O_NOFOLLOW: never write through a link someone left at
     * the name, never into a file that was there. A leftover of ours (a
     * killed run's temporary file) is removed once and made again. */
    for (tries = 0; tries < 2; tries++) {
        fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
                  mode);
        if (fd >= 0 || errno != EEXIST || tries > 0)
            return fd;
        if (unlink(path) != 0)
            return -1;
    }
    return -1;
}

int
sl_mkdir_private(const char *path, const char *what, struct sl_err *err)
{
    struct stat st;
    int rc;

    if (stat(path, &st) == 0) {
        if (!S_ISDIR(st.st_mode))
            return SL_ERR(err, SL_EUSAGE, "%s: the %s folder is not a folder",
                          path, what);
        if (st.st_uid != geteuid() || (st.st_mode & 022) != 0)
            return SL_ERR(err, SL_EUSAGE,
                          "%s: the %s folder must belong to you and not be "
                          "writable by others (it holds patient data)",
                          path, what);
        return SL_OK;
    }
    if ((rc = sl_mkdir_p(path, err)) != SL_OK)
        return rc;
    if (chmod(path, 0700) != 0)
        return SL_ERR(err, SL_EIO, "%s: cannot make the %s folder private: %s",
                      path, what, strerror(errno));
    return SL_OK;
}

int
sl_dir_shared(const char *path)
{
    struct stat st;

    return stat(path, &st) == 0 && S_ISDIR(st.st_mode) &&
           (st.st_mode & S_ISVTX) != 0 && (st.st_mode & 002) != 0;
}

char *
sl_path_join(const char *a, const char *b)
{
    size_t la = strlen(a), lb = strlen(b), sep;
    char *p;

    if (la == 0)
        return sl_strdup(b);
    /* no printf: joined once per item of a run */
    sep = a[la - 1] == '/' ? 0 : 1;
    p = sl_malloc(la + sep + lb + 1);
    memcpy(p, a, la);
    if (sep)
        p[la] = '/';
    memcpy(p + la + sep, b, lb + 1);
    return p;
}

char *
sl_path_dir(const char *path)
{
    const char *slash = strrchr(path, '/');

    if (slash == NULL)
        return sl_strdup(".");
    if (slash == path)
        return sl_strdup("/");
    return sl_strndup(path, (size_t)(slash - path));
}

char *
sl_path_resolve(const char *base_dir, const char *rel)
{
    if (rel[0] == '/' || base_dir == NULL)
        return sl_strdup(rel);
    return sl_path_join(base_dir, rel);
}

int
sl_path_exists(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0;
}

int
sl_path_is_dir(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

int
sl_file_read(const char *path, char **out, size_t *len, struct sl_err *err)
{
    struct sl_buf b;
    char chunk[8192];
    size_t n;
    FILE *f;

    f = fopen(path, "rb");
    if (f == NULL)
        return SL_ERR(err, SL_EIO, "%s: cannot open: %s", path,
                      strerror(errno));
    sl_buf_init(&b);
    while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0)
        sl_buf_add(&b, chunk, n);
    if (ferror(f)) {
        fclose(f);
        sl_buf_free(&b);
        return SL_ERR(err, SL_EIO, "%s: read error", path);
    }
    fclose(f);
    if (len)
        *len = b.len;
    *out = sl_buf_steal(&b);
    return SL_OK;
}

int
sl_fsync_dir_of(const char *path)
{
    char *dir = sl_path_dir(path);
    int fd, rc = 0;

    fd = open(dir, O_RDONLY | O_DIRECTORY);
    if (fd >= 0) {
        rc = fsync(fd);
        close(fd);
    }
    free(dir);
    return rc;
}

int
sl_file_write_atomic(const char *path, const void *data, size_t len,
                     struct sl_err *err)
{
    char *tmp = sl_asprintf("%s.tmp.%ld", path, (long)getpid());
    const char *p = data;
    int fd, rc = SL_OK;

    fd = sl_open_new(tmp, 0640);
    if (fd < 0) {
        rc = SL_ERR(err, SL_EIO, "%s: cannot create: %s", tmp,
                    strerror(errno));
        goto out;
    }
    while (len > 0) {
        ssize_t w = write(fd, p, len);
        if (w < 0) {
            if (errno == EINTR)
                continue;
            rc = SL_ERR(err, SL_EIO, "%s: write failed: %s", tmp,
                        strerror(errno));
            close(fd);
            unlink(tmp);
            goto out;
        }
        p += w;
        len -= (size_t)w;
    }
    if (fsync(fd) != 0 || close(fd) != 0) {
        rc = SL_ERR(err, SL_EIO, "%s: cannot sync: %s", tmp, strerror(errno));
        unlink(tmp);
        goto out;
    }
    if (rename(tmp, path) != 0) {
        rc = SL_ERR(err, SL_EIO, "%s: cannot rename: %s", path,
                    strerror(errno));
        unlink(tmp);
        goto out;
    }
    sl_fsync_dir_of(path);
out:
    free(tmp);
    return rc;
}

/* The folders on the path being walked (device and inode), so that a link
 * back to one of them is not walked again. */
struct walk_path {
    dev_t dev;
    ino_t ino;
    const struct walk_path *up;
};

static int
walk(const char *root, const char *rel, int follow,
     const struct walk_path *up, struct sl_strv *out, struct sl_err *err)
{
    char *dirpath = rel[0] ? sl_path_join(root, rel) : sl_strdup(root);
    struct dirent *de;
    DIR *d;
    int rc = SL_OK;

    d = opendir(dirpath);
    if (d == NULL) {
        /* No path: folder names under an input often carry a patient's
         * name. The caller prefixes which input or source this is. */
        if (rel[0])
            rc = SL_ERR(err, SL_EIO, "sub-folder unreadable: %s",
                        strerror(errno));
        else
            rc = SL_ERR(err, SL_EIO, "folder unreadable: %s",
                        strerror(errno));
        free(dirpath);
        return rc;
    }
    while ((de = readdir(d)) != NULL) {
        struct stat st, lst;
        char *full, *r;

        if (de->d_name[0] == '.')
            continue;
        r = rel[0] ? sl_path_join(rel, de->d_name) : sl_strdup(de->d_name);
#ifdef DT_REG
        if (de->d_type == DT_REG) {
            /* the folder says what it is: no stat needed (a large
             * folder of small instances is walked more than once) */
            sl_strv_push_owned(out, r);
            continue;
        }
#endif
        full = sl_path_join(root, r);
        if (lstat(full, &lst) == 0 && S_ISLNK(lst.st_mode) && !follow) {
            /* Listed, not followed: the source reports it by position
             * and never reads or copies what it points to. */
            sl_strv_push_owned(out, r);
        } else if (stat(full, &st) != 0) {
            /* A dangling link or a race: listed so the source reports it. */
            sl_strv_push_owned(out, r);
        } else if (S_ISDIR(st.st_mode)) {
            const struct walk_path *w;
            struct walk_path here = {st.st_dev, st.st_ino, up};
            for (w = up; w != NULL; w = w->up)
                if (w->dev == st.st_dev && w->ino == st.st_ino)
                    break;
            if (w == NULL) /* else a link back up the path: a loop */
                rc = walk(root, r, follow, &here, out, err);
            free(r);
        } else if (S_ISREG(st.st_mode)) {
            sl_strv_push_owned(out, r);
        } else {
            free(r);
        }
        free(full);
        if (rc != SL_OK)
            break;
    }
    closedir(d);
    free(dirpath);
    return rc;
}

int
sl_dir_walk_links(const char *dir, int follow, struct sl_strv *out,
                  struct sl_err *err)
{
    struct stat st;
    struct walk_path top = {0, 0, NULL};
    int rc;

    if (stat(dir, &st) == 0) {
        top.dev = st.st_dev;
        top.ino = st.st_ino;
    }
    rc = walk(dir, "", follow, &top, out, err);
    if (rc == SL_OK)
        sl_strv_sort(out);
    return rc;
}

int
sl_dir_walk(const char *dir, struct sl_strv *out, struct sl_err *err)
{
    return sl_dir_walk_links(dir, 1, out, err);
}

int
sl_is_symlink(const char *path)
{
    struct stat st;

    return lstat(path, &st) == 0 && S_ISLNK(st.st_mode);
}

double
sl_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

void
sl_time_iso(char *buf, size_t len)
{
    struct timespec ts;
    struct tm tm;

    clock_gettime(CLOCK_REALTIME, &ts);
    gmtime_r(&ts.tv_sec, &tm);
    strftime(buf, len, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

int
sl_ncpu(void)
{
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    return n < 1 ? 1 : (int)n;
}

int
sl_file_copy(const char *src, const char *dst, int sync, struct sl_err *err)
{
    char *dir = sl_path_dir(dst), *tmp;
    const char *base = strrchr(dst, '/') ? strrchr(dst, '/') + 1 : dst;
    char *buf = sl_malloc(SL_COPY_CHUNK);
    int in = -1, out = -1, rc = SL_OK;
    ssize_t n;

    /* hidden, so that folder walks never take a half-written copy */
    tmp = sl_asprintf("%s/.%s.tmp.%ld", dir, base, (long)getpid());
    if ((in = open(src, O_RDONLY | O_CLOEXEC)) < 0) {
        rc = SL_ERR(err, SL_EIO, "cannot open the input: %s", strerror(errno));
        goto out;
    }
    out = sl_open_new(tmp, 0640);
    if (out < 0) {
        rc = SL_ERR(err, SL_EIO, "cannot create a file in the destination "
                    "folder: %s", strerror(errno));
        goto out;
    }
    while ((n = read(in, buf, SL_COPY_CHUNK)) != 0) {
        const char *p = buf;
        if (n < 0) {
            if (errno == EINTR)
                continue;
            rc = SL_ERR(err, SL_EIO, "read error: %s", strerror(errno));
            goto out;
        }
        while (n > 0) {
            ssize_t w = write(out, p, (size_t)n);
            if (w < 0) {
                if (errno == EINTR)
                    continue;
                rc = SL_ERR(err, SL_EIO, "write error: %s", strerror(errno));
                goto out;
            }
            p += w;
            n -= w;
        }
    }
    if (sync && fsync(out) != 0) {
        rc = SL_ERR(err, SL_EIO, "cannot sync: %s", strerror(errno));
        goto out;
    }
    if (close(out) != 0) {
        out = -1;
        rc = SL_ERR(err, SL_EIO, "write error: %s", strerror(errno));
        goto out;
    }
    out = -1;
    if (rename(tmp, dst) != 0) {
        rc = SL_ERR(err, SL_EIO, "cannot rename into place: %s",
                    strerror(errno));
        goto out;
    }
    if (sync && sl_fsync_dir_of(dst) != 0)
        rc = SL_ERR(err, SL_EIO, "cannot sync the destination folder: %s",
                    strerror(errno));
out:
    if (in >= 0)
        close(in);
    if (out >= 0)
        close(out);
    if (rc != SL_OK)
        unlink(tmp);
    free(buf);
    free(tmp);
    free(dir);
    return rc;
}
