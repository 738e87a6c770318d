/* fp_lex.c - FHIRPath text to tokens. Columns are 1-based so that an
 * error can say "at column 12". */
#include "config.h"

#include <ctype.h>
#include <string.h>

#include "fhirpath/fp_int.h"

static void
push(struct fp_lexer *lx, int kind, int pos, char *text)
{
    if (lx->n == lx->cap) {
        lx->cap = lx->cap ? lx->cap * 2 : 16;
        lx->toks = sl_realloc(lx->toks, lx->cap * sizeof(*lx->toks));
    }
    lx->toks[lx->n].kind = kind;
    lx->toks[lx->n].pos = pos;
    lx->toks[lx->n].text = text;
    lx->n++;
}

void
fp_lex_free(struct fp_lexer *lx)
{
    size_t i;

    for (i = 0; i < lx->n; i++)
        free(lx->toks[i].text);
    free(lx->toks);
    lx->toks = NULL;
    lx->n = lx->cap = 0;
}

/* Appends the UTF-8 form of code point u. */
static void
add_utf8(struct sl_buf *b, unsigned u)
{
    if (u < 0x80) {
        sl_buf_addc(b, (char)u);
    } else if (u < 0x800) {
        sl_buf_addc(b, (char)(0xC0 | (u >> 6)));
        sl_buf_addc(b, (char)(0x80 | (u & 0x3F)));
    } else {
        sl_buf_addc(b, (char)(0xE0 | (u >> 12)));
        sl_buf_addc(b, (char)(0x80 | ((u >> 6) & 0x3F)));
        sl_buf_addc(b, (char)(0x80 | (u & 0x3F)));
    }
}

/* A quoted string or delimited identifier from src[*i] (the quote q);
 * escapes resolved. */
static int
quoted(const char *src, size_t *i, char q, char **out, struct sl_err *err)
{
    struct sl_buf b;
    size_t start = *i, k = *i + 1;

    sl_buf_init(&b);
    for (;;) {
        char c = src[k];
        if (c == '\0') {
            sl_buf_free(&b);
            return SL_ERR(err, SL_EPARSE, "column %zu: unterminated %s",
                          start + 1, q == '`' ? "identifier" : "string");
        }
        if (c == q) {
            k++;
            break;
        }
        if (c == '\\') {
            char e = src[k + 1];
            k += 2;
            switch (e) {
            case 'n': sl_buf_addc(&b, '\n'); break;
            case 't': sl_buf_addc(&b, '\t'); break;
            case 'r': sl_buf_addc(&b, '\r'); break;
            case 'f': sl_buf_addc(&b, '\f'); break;
            case 'u': {
                unsigned u = 0;
                int d;
                for (d = 0; d < 4; d++) {
                    char h = src[k + (size_t)d];
                    if (!isxdigit((unsigned char)h)) {
                        sl_buf_free(&b);
                        return SL_ERR(err, SL_EPARSE, "column %zu: bad \\u "
                                      "escape", k - 1);
                    }
                    u = u * 16 + (unsigned)(isdigit((unsigned char)h)
                                                ? h - '0'
                                                : (tolower((unsigned char)h)
                                                   - 'a' + 10));
                }
                k += 4;
                add_utf8(&b, u);
                break;
            }
            case '\0':
                sl_buf_free(&b);
                return SL_ERR(err, SL_EPARSE, "column %zu: unterminated "
                              "string", start + 1);
            default: sl_buf_addc(&b, e); break; /* \' \" \` \\ \/ */
            }
            continue;
        }
        sl_buf_addc(&b, c);
        k++;
    }
    *i = k;
    *out = sl_buf_steal(&b);
    return SL_OK;
}

/* The date/time literal after '@': digits, '-', ':', 'T', '.', 'Z', '+'
 * (a zone; '+' never starts an expression right after a literal). */
static size_t
datetime_len(const char *s)
{
    size_t n = 0;

    while (isdigit((unsigned char)s[n]) || s[n] == '-' || s[n] == ':' ||
           s[n] == 'T' || s[n] == '.' || s[n] == 'Z' || s[n] == '+') {
        /* '-' followed by something other than a digit ends it (a minus) */
        if ((s[n] == '-' || s[n] == '+') && !isdigit((unsigned char)s[n + 1]))
            break;
        if (s[n] == '.' && !isdigit((unsigned char)s[n + 1]))
            break;
        n++;
    }
    return n;
}

/* The byte offset of the first byte that is not part of valid UTF-8, or
 * -1 when all is valid. */
static long
bad_utf8(const char *s)
{
    const unsigned char *p = (const unsigned char *)s;
    long i = 0;

    while (p[i]) {
        int n = p[i] < 0x80 ? 0 : (p[i] & 0xE0) == 0xC0 ? 1
                              : (p[i] & 0xF0) == 0xE0 ? 2
                              : (p[i] & 0xF8) == 0xF0 ? 3 : -1;
        int k;
        if (n < 0 || (n == 1 && p[i] < 0xC2))
            return i;
        for (k = 1; k <= n; k++)
            if ((p[i + k] & 0xC0) != 0x80)
                return i;
        i += n + 1;
    }
    return -1;
}

static const char *const ops2[] = {"<=", ">=", "!=", "!~", NULL};

int
fp_lex(const char *src, struct fp_lexer *lx, struct sl_err *err)
{
    size_t i = 0;
    int rc;

    memset(lx, 0, sizeof(*lx));
    lx->src = src;
    if (bad_utf8(src) >= 0)
        return SL_ERR(err, SL_EPARSE, "column %ld: not valid UTF-8",
                      bad_utf8(src) + 1);
    for (;;) {
        char c = src[i], *text = NULL;
        int pos = (int)i + 1;
        size_t k;

        if (c == '\0')
            break;
        if (isspace((unsigned char)c)) {
            i++;
            continue;
        }
        if (c == '/' && src[i + 1] == '/') {
            while (src[i] && src[i] != '\n')
                i++;
            continue;
        }
        if (c == '/' && src[i + 1] == '*') {
            const char *e = strstr(src + i + 2, "*/");
            if (e == NULL)
                return SL_ERR(err, SL_EPARSE, "column %d: unterminated "
                              "comment", pos);
            i = (size_t)(e - src) + 2;
            continue;
        }
        if (isalpha((unsigned char)c) || c == '_') {
            for (k = i; isalnum((unsigned char)src[k]) || src[k] == '_'; k++)
                ;
            push(lx, FT_IDENT, pos, sl_strndup(src + i, k - i));
            i = k;
            continue;
        }
        if (c == '`' || c == '\'') {
            if ((rc = quoted(src, &i, c, &text, err)) != SL_OK)
                return rc;
            push(lx, c == '`' ? FT_IDENT : FT_STRING, pos, text);
            continue;
        }
        if (c == '"') /* older FHIRPath text; read as a delimited name */
        {
            if ((rc = quoted(src, &i, c, &text, err)) != SL_OK)
                return rc;
            push(lx, FT_STRING, pos, text);
            continue;
        }
        if (isdigit((unsigned char)c)) {
            for (k = i; isdigit((unsigned char)src[k]); k++)
                ;
            if (src[k] == '.' && isdigit((unsigned char)src[k + 1]))
                for (k++; isdigit((unsigned char)src[k]); k++)
                    ;
            if (src[k] == 'L' && !isalnum((unsigned char)src[k + 1])) {
                push(lx, FT_LONG, pos, sl_strndup(src + i, k - i));
                i = k + 1;
                continue;
            }
            push(lx, FT_NUMBER, pos, sl_strndup(src + i, k - i));
            i = k;
            continue;
        }
        if (c == '@') {
            if (src[i + 1] == 'T') {
                k = datetime_len(src + i + 2);
                push(lx, FT_TIME, pos, sl_strndup(src + i + 2, k));
                i += 2 + k;
            } else {
                k = datetime_len(src + i + 1);
                if (k == 0)
                    return SL_ERR(err, SL_EPARSE, "column %d: '@' without a "
                                  "date", pos);
                push(lx, FT_DATE, pos, sl_strndup(src + i + 1, k));
                i += 1 + k;
            }
            continue;
        }
        if (c == '%') {
            if (src[i + 1] == '`' || src[i + 1] == '\'') {
                i++;
                if ((rc = quoted(src, &i, src[i], &text, err)) != SL_OK)
                    return rc;
                push(lx, FT_VAR, pos, text);
                continue;
            }
            for (k = i + 1; isalnum((unsigned char)src[k]) || src[k] == '_' ||
                            src[k] == '-';
                 k++)
                ;
            if (k == i + 1)
                return SL_ERR(err, SL_EPARSE, "column %d: '%%' without a "
                              "name", pos);
            push(lx, FT_VAR, pos, sl_strndup(src + i + 1, k - i - 1));
            i = k;
            continue;
        }
        if (c == '$') {
            for (k = i + 1; isalnum((unsigned char)src[k]); k++)
                ;
            text = sl_strndup(src + i + 1, k - i - 1);
            if (strcmp(text, "this") != 0 && strcmp(text, "index") != 0 &&
                strcmp(text, "total") != 0) {
                free(text);
                return SL_ERR(err, SL_EPARSE, "column %d: unknown special "
                              "variable (only $this, $index, $total)", pos);
            }
            push(lx, FT_SPECIAL, pos, text);
            i = k;
            continue;
        }
        for (k = 0; ops2[k]; k++)
            if (strncmp(src + i, ops2[k], 2) == 0)
                break;
        if (ops2[k]) {
            push(lx, FT_OP, pos, sl_strndup(src + i, 2));
            i += 2;
            continue;
        }
        if (strchr(".[](),+-*/|=~<>&{}", c)) {
            push(lx, FT_OP, pos, sl_strndup(src + i, 1));
            i++;
            continue;
        }
        return SL_ERR(err, SL_EPARSE, "column %d: unexpected character", pos);
    }
    push(lx, FT_EOF, (int)i + 1, NULL);
    return SL_OK;
}
