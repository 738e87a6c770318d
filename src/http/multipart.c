/* multipart.c - the streaming multipart/related reader (multipart.h).
 *
 * The body is read as if it began with CRLF, so that every delimiter,
 * the first one too, is CRLF "--" boundary. A window holds the bytes not
 * yet decided: in a part's content, all but the last (delimiter length -
 * 1) bytes are handed on at once, since no delimiter can begin before
 * them. */
#include "config.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "http/multipart.h"

#define WINDOW       (64u * 1024)
#define HEADERS_MAX  (16u * 1024)
#define BOUNDARY_MAX 70 /* RFC 2046 */

enum state {
    ST_PREAMBLE, /* before the first delimiter */
    ST_AFTER,    /* just after a delimiter: "--", or padding and CRLF */
    ST_HEADERS,  /* a part's header block */
    ST_BODY,     /* a part's content */
    ST_DONE,     /* after the closing delimiter: the epilogue */
    ST_FAILED,
};

struct sl_multipart {
    const struct sl_multipart_cb *cb;
    void *arg;
    char *boundary;
    char *delim; /* CRLF "--" boundary */
    size_t dlen;
    enum state st;
    char *win; /* the window: WINDOW + HEADERS_MAX bytes */
    size_t len;
    size_t wcap;
    size_t offset; /* body offset of win[0], counting the virtual CRLF */
    size_t parts;
};

static void
set_boundary(struct sl_multipart *m, const char *b, size_t n)
{
    free(m->boundary);
    free(m->delim);
    m->boundary = sl_strndup(b, n);
    m->delim = sl_asprintf("\r\n--%s", m->boundary);
    m->dlen = strlen(m->delim);
}

struct sl_multipart *
sl_multipart_new(const char *boundary, const struct sl_multipart_cb *cb,
                 void *arg)
{
    struct sl_multipart *m = sl_calloc(1, sizeof(*m));

    m->cb = cb;
    m->arg = arg;
    if (boundary != NULL)
        set_boundary(m, boundary, strlen(boundary));
    m->wcap = WINDOW + HEADERS_MAX + 2 * BOUNDARY_MAX;
    m->win = sl_malloc(m->wcap);
    memcpy(m->win, "\r\n", 2); /* the virtual CRLF */
    m->len = 2;
    return m;
}

void
sl_multipart_free(struct sl_multipart *m)
{
    if (m == NULL)
        return;
    free(m->boundary);
    free(m->delim);
    free(m->win);
    free(m);
}

size_t
sl_multipart_parts(const struct sl_multipart *m)
{
    return m->parts;
}

const char *
sl_multipart_boundary(const struct sl_multipart *m)
{
    return m->boundary;
}

static void
drop(struct sl_multipart *m, size_t n)
{
    memmove(m->win, m->win + n, m->len - n);
    m->len -= n;
    m->offset += n;
}

static int
fail(struct sl_multipart *m, size_t at, struct sl_err *err, const char *what)
{
    m->st = ST_FAILED;
    /* the virtual CRLF is not in the body */
    at += m->offset;
    return SL_ERR(err, SL_EPARSE, "multipart body, part %zu, byte %zu: %s",
                  m->parts ? m->parts : 1, at >= 2 ? at - 2 : 0, what);
}

static const char *
find(const char *hay, size_t n, const char *needle, size_t k)
{
    return k <= n ? memmem(hay, n, needle, k) : NULL;
}

/* The Content-Type value of a header block (n bytes, lines by CRLF), or
 * NULL. Caller frees. */
static char *
header_content_type(const char *h, size_t n)
{
    static const char name[] = "content-type:";
    const char *p = h, *end = h + n;

    while (p < end) {
        const char *eol = find(p, (size_t)(end - p), "\r\n", 2);
        size_t ln = eol ? (size_t)(eol - p) : (size_t)(end - p);
        if (ln > sizeof(name) - 1 &&
            strncasecmp(p, name, sizeof(name) - 1) == 0) {
            const char *v = p + sizeof(name) - 1, *ve = p + ln;
            while (v < ve && (*v == ' ' || *v == '\t'))
                v++;
            while (ve > v && (ve[-1] == ' ' || ve[-1] == '\t'))
                ve--;
            return sl_strndup(v, (size_t)(ve - v));
        }
        p += ln + 2;
    }
    return NULL;
}

/* Works through the window as far as it can. */
static int
run(struct sl_multipart *m, struct sl_err *err)
{
    const char *hit;
    size_t i;
    int rc;

    for (;;) {
        switch (m->st) {
        case ST_PREAMBLE:
            if (m->delim == NULL) {
                /* the first line gives the boundary: CRLF "--" B CRLF */
                const char *eol;
                if (m->len < 4)
                    return SL_OK;
                if (memcmp(m->win, "\r\n--", 4) != 0)
                    return fail(m, 2, err,
                                "the body does not begin with a "
                                "boundary delimiter");
                eol = find(m->win + 4, m->len - 4, "\r\n", 2);
                if (eol == NULL) {
                    if (m->len - 4 > BOUNDARY_MAX + 8)
                        return fail(m, 4, err,
                                    "boundary longer than 70 "
                                    "characters");
                    return SL_OK;
                }
                i = (size_t)(eol - (m->win + 4));
                if (i > BOUNDARY_MAX + 8)
                    return fail(m, 4, err,
                                "boundary longer than 70 "
                                "characters");
                while (i > 0 &&
                       (m->win[4 + i - 1] == ' ' || m->win[4 + i - 1] == '\t'))
                    i--; /* transport padding */
                if (i == 0 || i > BOUNDARY_MAX)
                    return fail(m, 4, err, "empty or over-long boundary");
                set_boundary(m, m->win + 4, i);
            }
            hit = find(m->win, m->len, m->delim, m->dlen);
            if (hit == NULL) {
                if (m->len >= m->dlen)
                    drop(m, m->len - (m->dlen - 1));
                return SL_OK;
            }
            drop(m, (size_t)(hit - m->win) + m->dlen);
            m->st = ST_AFTER;
            break;
        case ST_AFTER:
            if (m->len < 2)
                return SL_OK;
            if (memcmp(m->win, "--", 2) == 0) {
                drop(m, 2);
                m->st = ST_DONE;
                break;
            }
            for (i = 0; i < m->len && (m->win[i] == ' ' || m->win[i] == '\t');
                 i++)
                ;
            if (i > BOUNDARY_MAX)
                return fail(m, i, err,
                            "a delimiter is followed by "
                            "neither CRLF nor \"--\"");
            if (m->len - i < 2)
                return SL_OK;
            if (memcmp(m->win + i, "\r\n", 2) != 0)
                return fail(m, i, err,
                            "a delimiter is followed by "
                            "neither CRLF nor \"--\"");
            drop(m, i + 2);
            m->st = ST_HEADERS;
            break;
        case ST_HEADERS: {
            char *ct;
            size_t hn;
            if (m->len >= 2 && memcmp(m->win, "\r\n", 2) == 0) {
                hn = 0; /* no header at all */
                hit = m->win;
            } else {
                hit = find(m->win, m->len, "\r\n\r\n", 4);
                if (hit == NULL) {
                    if (m->len > HEADERS_MAX)
                        return fail(m, m->len, err,
                                    "part headers longer "
                                    "than 16 KiB");
                    return SL_OK;
                }
                hn = (size_t)(hit - m->win) + 2;
                /* the same verdict whatever the pieces the body came in */
                if (hn > HEADERS_MAX)
                    return fail(m, m->len, err,
                                "part headers longer "
                                "than 16 KiB");
            }
            m->parts++;
            ct = header_content_type(m->win, hn);
            rc = m->cb->part_begin ? m->cb->part_begin(m->arg, ct, err) : SL_OK;
            free(ct);
            if (rc != SL_OK) {
                m->st = ST_FAILED;
                return rc;
            }
            drop(m, hn + 2);
            m->st = ST_BODY;
            break;
        }
        case ST_BODY: {
            size_t give;
            hit = find(m->win, m->len, m->delim, m->dlen);
            give = hit ? (size_t)(hit - m->win)
                       : (m->len >= m->dlen ? m->len - (m->dlen - 1) : 0);
            if (give > 0 && m->cb->part_data &&
                (rc = m->cb->part_data(m->arg, m->win, give, err)) != SL_OK) {
                m->st = ST_FAILED;
                return rc;
            }
            drop(m, give);
            if (hit == NULL)
                return SL_OK;
            drop(m, m->dlen);
            if (m->cb->part_end &&
                (rc = m->cb->part_end(m->arg, err)) != SL_OK) {
                m->st = ST_FAILED;
                return rc;
            }
            m->st = ST_AFTER;
            break;
        }
        case ST_DONE:
            m->offset += m->len;
            m->len = 0;
            return SL_OK;
        case ST_FAILED:
            return SL_ERR(err, SL_EPARSE,
                          "multipart body: read after an "
                          "error");
        }
    }
}

int
sl_multipart_feed(struct sl_multipart *m, const char *data, size_t n,
                  struct sl_err *err)
{
    int rc;

    if (m->st == ST_FAILED)
        return SL_ERR(err, SL_EPARSE, "multipart body: read after an error");
    while (n > 0) {
        size_t room = m->wcap - m->len, k = n < room ? n : room;
        if (k == 0) /* run() always leaves room: a guard, not a path */
            return fail(m, m->len, err, "internal: window full");
        memcpy(m->win + m->len, data, k);
        m->len += k;
        data += k;
        n -= k;
        if ((rc = run(m, err)) != SL_OK)
            return rc;
        /* run() keeps at most a header block or a delimiter's length */
    }
    return SL_OK;
}

int
sl_multipart_finish(struct sl_multipart *m, struct sl_err *err)
{
    int rc;

    if (m->st == ST_FAILED)
        return SL_ERR(err, SL_EPARSE, "multipart body: read after an error");
    if ((rc = run(m, err)) != SL_OK)
        return rc;
    switch (m->st) {
    case ST_DONE:
        return SL_OK;
    case ST_PREAMBLE:
        return fail(m, m->len, err,
                    "no boundary delimiter in the body "
                    "(empty, or not multipart)");
    case ST_BODY:
        return fail(m, m->len, err,
                    "the body ends inside the part's "
                    "content (truncated)");
    default:
        return fail(m, m->len, err,
                    "the body ends without the closing "
                    "delimiter (truncated)");
    }
}

char *
sl_multipart_boundary_of(const char *ct)
{
    const char *p;

    if (ct == NULL || strncasecmp(ct, "multipart/", 10) != 0)
        return NULL;
    for (p = strchr(ct, ';'); p != NULL; p = strchr(p + 1, ';')) {
        const char *q = p + 1, *e;
        while (*q == ' ' || *q == '\t')
            q++;
        if (strncasecmp(q, "boundary=", 9) != 0)
            continue;
        q += 9;
        if (*q == '"') {
            e = strchr(q + 1, '"');
            if (e == NULL || e == q + 1 || e - q - 1 > BOUNDARY_MAX)
                return NULL;
            return sl_strndup(q + 1, (size_t)(e - q - 1));
        }
        for (e = q; *e && *e != ';' && *e != ' ' && *e != '\t'; e++)
            ;
        if (e == q || e - q > BOUNDARY_MAX)
            return NULL;
        return sl_strndup(q, (size_t)(e - q));
    }
    return NULL;
}
