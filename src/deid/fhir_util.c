/* fhir_util.c - the FHIR engine's helpers: ZIP codes, UUIDs from
 * pseudonyms, base64 and content types (see fhir_int.h). The set of
 * learned values is fhir_vset.c; the type table and FHIR dates are in
 * src/fhir/. */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "common/common.h"
#include "common/hash.h"
#include "deid/fhir_int.h"

/* ---- ZIP codes and UUIDs ---- */

int
sl_fhir_zip3(const char *zip, char *out)
{
    /* 3-digit ZIP areas with 20,000 or fewer people (HHS guidance on
     * 164.514(b)(2)(i)(B), 2000 census) */
    static const char *const restricted[] = { "036", "059", "063", "102", "203",
                                              "556", "692", "790", "821", "823",
                                              "830", "831", "878", "879", "884",
                                              "890", "893" };
    size_t i;

    if (strspn(zip, "0123456789") < 3)
        return 0;
    memcpy(out, zip, 3);
    out[3] = '\0';
    for (i = 0; i < sizeof(restricted) / sizeof(restricted[0]); i++)
        if (strcmp(out, restricted[i]) == 0) {
            memcpy(out, "000", 4);
            break;
        }
    return 1;
}

void
sl_fhir_uuid_from_pseudonym(const char *ps, char *out)
{
    unsigned char b[17] = { 0 };
    unsigned long acc = 0;
    int bits = 0, nb = 0, i, o = 0;
    const char *p;

    /* base32 (a-z, 2-7) back to bytes: 26 characters give 16 bytes */
    for (p = ps; *p && nb < 16; p++) {
        int v = (*p >= 'a' && *p <= 'z') ? *p - 'a' : *p - '2' + 26;
        acc = (acc << 5) | (unsigned long)(v & 31);
        bits += 5;
        if (bits >= 8) {
            b[nb++] = (unsigned char)(acc >> (bits - 8));
            bits -= 8;
        }
    }
    b[6] = (unsigned char)((b[6] & 0x0f) | 0x40);
    b[8] = (unsigned char)((b[8] & 0x3f) | 0x80);
    for (i = 0; i < 16; i++) {
        if (i == 4 || i == 6 || i == 8 || i == 10)
            out[o++] = '-';
        out[o++] = "0123456789abcdef"[b[i] >> 4];
        out[o++] = "0123456789abcdef"[b[i] & 15];
    }
    out[o] = '\0';
}

static unsigned char
lower(unsigned char c)
{
    return (c >= 'A' && c <= 'Z') ? (unsigned char)(c - 'A' + 'a') : c;
}

/* ---- attachments ---- */

static int
b64_val(unsigned char c)
{
    if (c >= 'A' && c <= 'Z')
        return c - 'A';
    if (c >= 'a' && c <= 'z')
        return c - 'a' + 26;
    if (c >= '0' && c <= '9')
        return c - '0' + 52;
    if (c == '+')
        return 62;
    if (c == '/')
        return 63;
    return -1;
}

unsigned char *
sl_fhir_b64_decode(const char *s, size_t len, size_t *n)
{
    unsigned char *out = sl_malloc(len / 4 * 3 + 4);
    unsigned long acc = 0;
    size_t i, o = 0, q = 0, pad = 0;

    for (i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        int v;
        if (c == ' ' || c == '\t' || c == '\n' || c == '\r')
            continue;
        if (c == '=') {
            /* padding: one or two, at the end of a quad */
            if (q < 2 || ++pad > 2)
                goto bad;
            q++;
        } else {
            if (pad || (v = b64_val(c)) < 0)
                goto bad;
            acc = (acc << 6) | (unsigned long)v;
            q++;
        }
        if (q == 4) {
            acc <<= 6 * pad;
            out[o++] = (unsigned char)(acc >> 16);
            if (pad < 2)
                out[o++] = (unsigned char)(acc >> 8);
            if (pad < 1)
                out[o++] = (unsigned char)acc;
            acc = 0;
            q = 0;
            if (pad)
                pad = 3; /* nothing may follow the padding */
        }
    }
    if (q != 0)
        goto bad;
    out[o] = '\0';
    *n = o;
    return out;
bad:
    sl_freezero(out, len / 4 * 3 + 4);
    return NULL;
}

char *
sl_fhir_b64_encode(const unsigned char *p, size_t n)
{
    static const char al[] =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    char *out = sl_malloc((n + 2) / 3 * 4 + 1), *o = out;
    size_t i;

    for (i = 0; i + 2 < n; i += 3) {
        unsigned long v = ((unsigned long)p[i] << 16) |
                          ((unsigned long)p[i + 1] << 8) | p[i + 2];
        *o++ = al[(v >> 18) & 63];
        *o++ = al[(v >> 12) & 63];
        *o++ = al[(v >> 6) & 63];
        *o++ = al[v & 63];
    }
    if (i < n) {
        unsigned long v = (unsigned long)p[i] << 16;
        if (i + 1 < n)
            v |= (unsigned long)p[i + 1] << 8;
        *o++ = al[(v >> 18) & 63];
        *o++ = al[(v >> 12) & 63];
        *o++ = i + 1 < n ? al[(v >> 6) & 63] : '=';
        *o++ = '=';
    }
    *o = '\0';
    return out;
}

int
sl_fhir_content_kind(const char *ct)
{
    char t[128];
    size_t n, i;

    if (ct == NULL)
        return SL_FHIR_CT_OTHER;
    while (*ct == ' ' || *ct == '\t')
        ct++;
    n = strcspn(ct, "; \t");
    if (n == 0 || n >= sizeof(t))
        return SL_FHIR_CT_OTHER;
    for (i = 0; i < n; i++)
        t[i] = (char)lower((unsigned char)ct[i]);
    t[n] = '\0';
    if (strcmp(t, "text/rtf") == 0 || strcmp(t, "application/rtf") == 0)
        return SL_FHIR_CT_RTF;
    if (strcmp(t, "text/html") == 0 || strcmp(t, "text/xml") == 0 ||
        strcmp(t, "application/xml") == 0 ||
        (n > 4 && strcmp(t + n - 4, "+xml") == 0))
        return SL_FHIR_CT_XML;
    if (strncmp(t, "text/", 5) == 0)
        return SL_FHIR_CT_TEXT;
    if (strcmp(t, "application/pdf") == 0)
        return SL_FHIR_CT_PDF;
    return SL_FHIR_CT_OTHER;
}

int
sl_fhir_utf8_ok(const unsigned char *p, size_t n)
{
    size_t i = 0, k, len;

    while (i < n) {
        unsigned c = p[i];
        uint32_t v;
        if (c == 0)
            return 0;
        if (c < 0x80) {
            i++;
            continue;
        }
        len = c >= 0xC2 && c <= 0xDF   ? 2
              : c >= 0xE0 && c <= 0xEF ? 3
              : c >= 0xF0 && c <= 0xF4 ? 4
                                       : 0;
        if (len == 0 || n - i < len)
            return 0;
        v = c & (len == 2 ? 0x1F : len == 3 ? 0x0F : 0x07);
        for (k = 1; k < len; k++) {
            if ((p[i + k] & 0xC0) != 0x80)
                return 0;
            v = (v << 6) | (p[i + k] & 0x3F);
        }
        if ((len == 3 && v < 0x800) || (len == 4 && v < 0x10000) ||
            v > 0x10FFFF || (v >= 0xD800 && v <= 0xDFFF))
            return 0;
        i += len;
    }
    return 1;
}

int
sl_fhir_rtf_escaped(const char *s)
{
    const char *p;

    for (p = strchr(s, '\\'); p; p = strchr(p + 1, '\\')) {
        if (p[1] == '\\') { /* an escaped backslash */
            p++;
            continue;
        }
        if (p[1] == '\'' ||
            (p[1] == 'u' && ((p[2] >= '0' && p[2] <= '9') || p[2] == '-')))
            return 1;
    }
    return 0;
}
