/* auth_sigv4.c - the canonical query string of AWS Signature Version 4.
 *
 * SigV4 signs the query in canonical form: every name and value
 * percent-encoded (all but A-Z a-z 0-9 - _ . ~, hex in upper case), the
 * pairs sorted by name, then by value. libcurl before 8.3 (Debian 12 has
 * 7.88) signs the query exactly as the URL writes it, so a search such as
 * `Patient?name=x&_count=50` is refused by AWS with 403. sluice therefore
 * rewrites the URL's query into that form before the request: the server
 * reads the same parameters, and what libcurl signs is canonical. A `+`
 * is taken as itself (RFC 3986), not as a space: write a space as `%20`. */
#include <config.h> /* autoconf's, not config/config.h */

#include <stdlib.h>
#include <string.h>

#include "http/auth_int.h"

struct qparam {
    char *name, *value; /* both canonically encoded */
};

static int
hexval(int c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/* Decodes %XX in [p, p + n) (a '%' without two hex digits is taken as
 * itself) and encodes the bytes again canonically. */
static char *
recode(const char *p, size_t n)
{
    static const char hex[] = "0123456789ABCDEF";
    struct sl_buf b;
    size_t i;

    sl_buf_init(&b);
    for (i = 0; i < n; i++) {
        unsigned char c = (unsigned char)p[i];
        if (c == '%' && i + 2 < n && hexval(p[i + 1]) >= 0 &&
            hexval(p[i + 2]) >= 0) {
            c = (unsigned char)(hexval(p[i + 1]) * 16 + hexval(p[i + 2]));
            i += 2;
        }
        if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
            (c >= '0' && c <= '9') || c == '-' || c == '_' || c == '.' ||
            c == '~') {
            sl_buf_addc(&b, (char)c);
        } else {
            sl_buf_addc(&b, '%');
            sl_buf_addc(&b, hex[c >> 4]);
            sl_buf_addc(&b, hex[c & 15]);
        }
    }
    sl_buf_addc(&b, '\0');
    return sl_buf_steal(&b);
}

static int
param_cmp(const void *x, const void *y)
{
    const struct qparam *a = x, *b = y;
    int c = strcmp(a->name, b->name);

    return c != 0 ? c : strcmp(a->value, b->value);
}

char *
auth_sigv4_canonical_url(const char *url)
{
    const char *q = strchr(url, '?'), *end, *p, *amp, *eq;
    struct qparam *ps = NULL;
    size_t n = 0, i;
    struct sl_buf b;

    if (q == NULL)
        return sl_strdup(url);
    end = q + 1 + strcspn(q + 1, "#");
    for (p = q + 1; p < end; p = amp + 1) {
        amp = memchr(p, '&', (size_t)(end - p));
        if (amp == NULL)
            amp = end;
        if (amp > p) { /* "a&&b": the empty one is not a parameter */
            eq = memchr(p, '=', (size_t)(amp - p));
            ps = sl_realloc(ps, (n + 1) * sizeof(*ps));
            ps[n].name = recode(p, (size_t)((eq ? eq : amp) - p));
            ps[n].value =
                eq ? recode(eq + 1, (size_t)(amp - eq - 1)) : sl_strdup("");
            n++;
        }
        if (amp == end)
            break;
    }
    qsort(ps, n, sizeof(*ps), param_cmp);
    sl_buf_init(&b);
    sl_buf_add(&b, url, (size_t)(q - url));
    for (i = 0; i < n; i++) {
        sl_buf_addc(&b, i == 0 ? '?' : '&');
        sl_buf_adds(&b, ps[i].name);
        sl_buf_addc(&b, '=');
        sl_buf_adds(&b, ps[i].value);
        free(ps[i].name);
        free(ps[i].value);
    }
    free(ps);
    sl_buf_adds(&b, end); /* a fragment, which libcurl does not send */
    sl_buf_addc(&b, '\0');
    return sl_buf_steal(&b);
}

char *
sl_http_auth_url(const struct sl_http_auth *a, const char *url)
{
    if (a == NULL || a->kind != AUTH_AWS_SIGV4)
        return NULL;
    return auth_sigv4_canonical_url(url);
}

int
sl_http_auth_signs_headers(const struct sl_http_auth *a)
{
    return a != NULL && a->kind == AUTH_AWS_SIGV4;
}
