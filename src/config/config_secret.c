/* config_secret.c - secrets given as env:NAME or file:PATH, read without
 * leaving copies behind. */
#include <config.h> /* autoconf's, not config/config.h */

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config/config_int.h"

#define SECRET_MAX_BYTES (64L * 1024)

int
config_env_name_valid(const char *s)
{
    if (!(isalpha((unsigned char)*s) || *s == '_'))
        return 0;
    for (; *s; s++)
        if (!(isalnum((unsigned char)*s) || *s == '_'))
            return 0;
    return 1;
}

/* ---- secrets ---------------------------------------------------------- */

int
sl_secret_read(const char *ref, const char *base_dir, char **out, size_t *len,
               struct sl_err *err)
{
    char *buf = NULL, *path = NULL;
    size_t n = 0, cap = 0;
    struct stat st;
    ssize_t r;
    int fd = -1, rc;

    if (strncmp(ref, "env:", 4) == 0) {
        const char *v = getenv(ref + 4);
        if (!config_env_name_valid(ref + 4))
            return SL_ERR(err, SL_EKEY,
                          "a secret given as env: needs a variable name");
        if (v == NULL || v[0] == '\0')
            return SL_ERR(err, SL_EKEY,
                          "environment variable %s is not set or empty",
                          ref + 4);
        n = strlen(v);
        *out = sl_strndup(v, n);
        *len = n;
        return SL_OK;
    }
    if (strncmp(ref, "file:", 5) != 0 || ref[5] == '\0')
        return SL_ERR(err, SL_EKEY,
                      "a secret must be given as env:NAME or file:PATH");

    path = sl_path_resolve(base_dir, ref + 5);
    fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        rc = SL_ERR(err, SL_EKEY, "secret file %s: cannot open: %s", path,
                    strerror(errno));
        goto out;
    }
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) ||
        st.st_size > SECRET_MAX_BYTES) {
        rc = SL_ERR(err, SL_EKEY,
                    "secret file %s: not a regular file of at most %ld "
                    "bytes",
                    path, SECRET_MAX_BYTES);
        goto out;
    }
    /* One buffer of the final size: no copies of the secret are left
     * behind in memory by reallocation. */
    cap = (size_t)st.st_size + 1;
    buf = sl_malloc(cap);
    while (n + 1 < cap) {
        r = read(fd, buf + n, cap - 1 - n);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0) {
            rc = SL_ERR(err, SL_EKEY, "secret file %s: read error: %s", path,
                        strerror(errno));
            goto out;
        }
        if (r == 0)
            break;
        n += (size_t)r;
    }
    if (n > 0 && buf[n - 1] == '\n') {
        n--;
        if (n > 0 && buf[n - 1] == '\r')
            n--;
    }
    buf[n] = '\0';
    if (n == 0) {
        rc = SL_ERR(err, SL_EKEY, "secret file %s is empty", path);
        goto out;
    }
    *out = buf;
    *len = n;
    buf = NULL; /* ownership moves to the caller */
    rc = SL_OK;
out:
    if (buf != NULL)
        sl_freezero(buf, cap);
    if (fd >= 0)
        close(fd);
    free(path);
    return rc;
}
