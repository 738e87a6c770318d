/* quarantine_dir.c - a `sluice deid` quarantine folder as a quarantine
 * (quarantine.h), read-only.
 *
 * sluice deid writes, for each item it could not make safe, QDIR/ID.EXT
 * (the item: .dcm, .json, .ndjson, or an empty .reason-only when nothing
 * could be read) and QDIR/ID.reason.txt:
 *
 *   item: ID
 *   position: file N[ line L]
 *   reason: WHY
 *   input: INPUT PATH
 *
 * The reason file is the entry: an item file without one is not listed.
 * The input path (the last field, so a reason cannot cut it short) is
 * the item's origin, shown only by `sluice quarantine show`.
 *
 * A folder written with a quarantine key (`sluice deid --quarantine-key`)
 * has the input path as "sealed:" text and each item file sealed whole
 * (seal.h, the state store's contexts): opened here with the key, or
 * marked sealed with data and origin dropped when there is none or it is
 * another one. */
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

#include <jansson.h>

#include "common/seal.h"
#include "state/quarantine.h"

#define REASON_SUFFIX ".reason.txt"
/* A reason file is a few lines; anything much larger is not one. */
#define REASON_MAX (64 * 1024)

struct qdir {
    char *dir;
    unsigned char *key; /* the quarantine key, or NULL */
    size_t keylen;
};

/* The item file's extensions, in the order they are looked for, and the
 * kind each holds. */
static const struct {
    const char *ext;
    const char *kind;
} item_exts[] = {
    { ".dcm", "dicom" },
    { ".ndjson", "fhir" },
    { ".json", "fhir" },
    { ".reason-only", "raw" },
};

/* True when name can be an item id: letters, digits, '-' and '_' (what
 * sluice deid makes: in000002-line000001), so never a path. */
static int
valid_name(const char *name)
{
    const char *p;

    if (*name == '\0' || strlen(name) > 200)
        return 0;
    for (p = name; *p; p++)
        if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
              (*p >= '0' && *p <= '9') || *p == '-' || *p == '_'))
            return 0;
    return 1;
}

/* Reads a whole file into one allocation, NUL-terminated, so that it can
 * be wiped in one go (sl_qitem_clear). At most max bytes (0: no limit). */
static int
read_all(const char *path, size_t max, char **out, size_t *len,
         struct sl_err *err)
{
    struct stat sb;
    char *buf = NULL;
    size_t n = 0;
    ssize_t r;
    int fd, rc = SL_OK;

    if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
        return SL_ERR(err, errno == ENOENT ? SL_ENOTFOUND : SL_EIO,
                      "cannot open: %s", strerror(errno));
    if (fstat(fd, &sb) != 0 || !S_ISREG(sb.st_mode)) {
        rc = SL_ERR(err, SL_EIO, "not a regular file");
        goto out;
    }
    if (max && (size_t)sb.st_size > max) {
        rc = SL_ERR(err, SL_EIO, "larger than %zu bytes", max);
        goto out;
    }
    buf = sl_malloc((size_t)sb.st_size + 1);
    while (n < (size_t)sb.st_size) {
        r = read(fd, buf + n, (size_t)sb.st_size - n);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0) {
            rc = SL_ERR(err, SL_EIO, "read error: %s", strerror(errno));
            goto out;
        }
        if (r == 0)
            break; /* shrank while read */
        n += (size_t)r;
    }
    buf[n] = '\0';
    *out = buf;
    *len = n;
    buf = NULL;
out:
    if (buf)
        sl_freezero(buf, (size_t)sb.st_size + 1);
    close(fd);
    return rc;
}

/* The text after "\n<key>: " (or at the start) up to the end of its line,
 * or NULL. */
static char *
field(const char *text, const char *key)
{
    size_t kl = strlen(key);
    const char *p = text, *end;

    for (;;) {
        if (strncmp(p, key, kl) == 0 && p[kl] == ':' && p[kl + 1] == ' ') {
            p += kl + 2;
            end = strchr(p, '\n');
            return end ? sl_strndup(p, (size_t)(end - p)) : sl_strdup(p);
        }
        if ((p = strchr(p, '\n')) == NULL)
            return NULL;
        p++;
    }
}

/* Without the key, or with another one: data and origin dropped. */
static void
mark_sealed(struct sl_qitem *q)
{
    if (q->origin)
        sl_freezero(q->origin, strlen(q->origin));
    q->origin = NULL;
    if (q->data)
        sl_freezero(q->data, q->data_len);
    q->data = NULL;
    q->sealed = 1;
}

static int
open_origin(struct qdir *d, const char *name, struct sl_qitem *q,
            struct sl_err *err)
{
    char *o = NULL;
    int rc;

    if (d->key == NULL || q->sealed == 1) {
        mark_sealed(q);
        return SL_OK;
    }
    rc = sl_unseal_text(d->key, d->keylen, SL_SEAL_CTX_QORIGIN, q->origin, &o,
                        err);
    if (rc == SL_EKEY) {
        mark_sealed(q);
        return SL_OK;
    }
    if (rc != SL_OK) {
        sl_err_prefix(err, "item %s: input path", name);
        return rc;
    }
    sl_freezero(q->origin, strlen(q->origin));
    q->origin = o;
    q->sealed = 2;
    return SL_OK;
}

static int
open_data(struct qdir *d, const char *name, struct sl_qitem *q,
          struct sl_err *err)
{
    unsigned char *p = NULL;
    size_t n = 0;
    int rc;

    if (d->key == NULL || q->sealed == 1) {
        mark_sealed(q);
        return SL_OK;
    }
    rc = sl_unseal(d->key, d->keylen, SL_SEAL_CTX_QDATA, q->data, q->data_len,
                   &p, &n, err);
    if (rc == SL_EKEY) {
        mark_sealed(q);
        return SL_OK;
    }
    if (rc != SL_OK) {
        sl_err_prefix(err, "item %s", name);
        return rc;
    }
    sl_freezero(q->data, q->data_len);
    q->data = (char *)p;
    q->data_len = n;
    q->sealed = 2;
    return SL_OK;
}

/* Fills q from ID.reason.txt and the item file beside it; with_data, the
 * item file's bytes too. */
static int
entry_load(struct qdir *d, const char *name, int with_data, struct sl_qitem *q,
           struct sl_err *err)
{
    char *rname = sl_asprintf("%s%s", name, REASON_SUFFIX);
    char *rpath = sl_path_join(d->dir, rname), *text = NULL, *item = NULL;
    const char *in, *rs;
    struct stat sb;
    struct tm tm;
    char created[32];
    size_t len = 0, i;
    int rc;

    memset(q, 0, sizeof(*q));
    if ((rc = read_all(rpath, REASON_MAX, &text, &len, err)) != SL_OK) {
        if (rc == SL_ENOTFOUND)
            rc = SL_ERR(err, SL_ENOTFOUND, "no quarantined item %s", name);
        else
            sl_err_prefix(err, "item %s: reason file", name);
        goto out;
    }
    q->name = sl_strdup(name);
    q->pos = field(text, "position");
    /* which stage quarantined it ("read": the input could not be read);
     * folders written before the line existed: deid */
    if ((q->stage = field(text, "stage")) == NULL)
        q->stage = sl_strdup("deid");
    q->status = sl_strdup("open");
    /* The input path is the last field: the reason runs up to it. */
    in = NULL;
    for (rs = strstr(text, "\ninput: "); rs; rs = strstr(rs + 1, "\ninput: "))
        in = rs;
    rs = strstr(text, "\nreason: ");
    if (rs && (in == NULL || rs < in))
        q->reason = in ? sl_strndup(rs + 9, (size_t)(in - (rs + 9)))
                       : field(rs + 1, "reason");
    if (in) {
        size_t l = strlen(in + 8);

        if (l > 0 && in[8 + l - 1] == '\n')
            l--;
        q->origin = sl_strndup(in + 8, l);
        if (sl_sealed_text(q->origin) &&
            (rc = open_origin(d, name, q, err)) != SL_OK)
            goto out;
    }
    if (stat(rpath, &sb) == 0 && gmtime_r(&sb.st_mtime, &tm) != NULL &&
        strftime(created, sizeof(created), "%Y-%m-%dT%H:%M:%SZ", &tm) > 0)
        q->created = sl_strdup(created);
    for (i = 0; i < sizeof(item_exts) / sizeof(item_exts[0]); i++) {
        char *iname = sl_asprintf("%s%s", name, item_exts[i].ext);

        item = sl_path_join(d->dir, iname);
        free(iname);
        if (stat(item, &sb) == 0 && S_ISREG(sb.st_mode))
            break;
        free(item);
        item = NULL;
    }
    if (item == NULL) {
        q->kind = sl_strdup("raw"); /* the reason alone */
        rc = SL_OK;
        goto out;
    }
    q->kind = sl_strdup(item_exts[i].kind);
    q->path = sl_strdup(item);
    q->data_len = (size_t)sb.st_size;
    if (sl_sealed_file(item) && q->sealed == 0)
        q->sealed = d->key ? 2 : 1;
    if (with_data && strcmp(q->kind, "dicom") != 0) {
        if ((rc = read_all(item, 0, &q->data, &q->data_len, err)) != SL_OK) {
            sl_err_prefix(err, "item %s", name);
            goto out;
        }
        if (sl_sealed(q->data, q->data_len) &&
            (rc = open_data(d, name, q, err)) != SL_OK)
            goto out;
        /* A line that did not parse is kept as it was read: raw. */
        if (q->data != NULL && strcmp(q->kind, "fhir") == 0) {
            json_t *j = json_loadb(q->data, q->data_len, JSON_DECODE_ANY, NULL);

            if (j == NULL) {
                free(q->kind);
                q->kind = sl_strdup("raw");
            }
            json_decref(j);
        }
    }
    rc = SL_OK;
out:
    if (rc != SL_OK)
        sl_qitem_clear(q);
    if (text)
        sl_freezero(text, len); /* holds the input path */
    free(item);
    free(rname);
    free(rpath);
    return rc;
}

static int
cmp_name(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static int
dir_list(void *be, const char *status, struct sl_qitem **out, size_t *n,
         struct sl_err *err)
{
    struct qdir *d = be;
    struct sl_strv names = { 0 };
    struct sl_qitem *v = NULL;
    struct dirent *de;
    size_t nv = 0, i;
    DIR *dh;
    int rc = SL_OK;

    if ((dh = opendir(d->dir)) == NULL)
        return SL_ERR(err, SL_EIO, "%s: cannot list: %s", d->dir,
                      strerror(errno));
    while ((de = readdir(dh)) != NULL) {
        size_t l = strlen(de->d_name), sl = strlen(REASON_SUFFIX);
        char *stem;

        if (de->d_name[0] == '.' || l <= sl ||
            strcmp(de->d_name + l - sl, REASON_SUFFIX) != 0)
            continue;
        stem = sl_strndup(de->d_name, l - sl);
        if (valid_name(stem))
            sl_strv_push_owned(&names, stem);
        else
            free(stem); /* not written by sluice deid */
    }
    closedir(dh);
    qsort(names.v, names.n, sizeof(char *), cmp_name);
    /* Every item in a folder is open: it has no status to change. */
    if (status == NULL || strcmp(status, "open") == 0) {
        v = sl_calloc(names.n ? names.n : 1, sizeof(*v));
        for (i = 0; i < names.n; i++) {
            if ((rc = entry_load(d, names.v[i], 0, &v[nv], err)) != SL_OK)
                goto out;
            nv++;
        }
    }
    *out = v;
    *n = nv;
    v = NULL;
    nv = 0;
out:
    sl_quarantine_items_free(v, nv);
    sl_strv_free(&names);
    return rc;
}

static int
dir_get(void *be, const char *name, struct sl_qitem *out, struct sl_err *err)
{
    if (!valid_name(name))
        return SL_ERR(err, SL_EUSAGE, "'%s' is not an item id here", name);
    return entry_load(be, name, 1, out, err);
}

static void
dir_close(void *be)
{
    struct qdir *d = be;

    if (d == NULL)
        return;
    if (d->key)
        sl_freezero(d->key, d->keylen);
    free(d->dir);
    free(d);
}

static const struct sl_quarantine_ops dir_ops = {
    .name = "folder",
    .list = dir_list,
    .get = dir_get,
    .set_status = NULL, /* what sluice deid wrote stays as it is */
    .close = dir_close,
};

int
sl_quarantine_dir_open(const char *dir, const void *key, size_t keylen,
                       struct sl_quarantine **out, struct sl_err *err)
{
    struct qdir *d;

    if (!sl_path_is_dir(dir))
        return SL_ERR(err, SL_ENOTFOUND, "%s: no quarantine folder here", dir);
    d = sl_calloc(1, sizeof(*d));
    d->dir = sl_strdup(dir);
    if (key != NULL) {
        d->key = sl_malloc(keylen);
        memcpy(d->key, key, keylen);
        d->keylen = keylen;
    }
    *out = sl_quarantine_new(&dir_ops, d);
    return SL_OK;
}
