/* fhir_json.c - a FHIR resource's JSON text from its jansson document,
 * written exactly as json_dumps() writes it (the same escaping,
 * separators, indentation and key order) except for decimals: jansson
 * prints every real with 17 significant digits, so the 4.2 of a lab value
 * read from the input came out as 4.2000000000000002, a precision the
 * source never claimed and a text no reader expects. Here a real is the
 * shortest text of up to 17 digits that reads back as the same double
 * (4.2, 0.1, 1234567.891), with ".0" added to a whole number so that it
 * stays a decimal and the exponent written as jansson writes it (1e-5,
 * 1.5e20). Used wherever a resource leaves sluice (the targets, the
 * quarantine, stages that rewrite a resource). */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/common.h"
#include "fhir/fhir_json.h"
#include "fhir/jtape.h"

size_t
sl_fhir_real_text(double d, char *buf, size_t cap)
{
    char *e, *from;
    size_t n = 0;
    int p;

    if (cap < 32 || d != d || d - d != 0)
        return 0;
    for (p = 1; p <= 17; p++) {
        int r = snprintf(buf, cap, "%.*g", p, d);

        if (r <= 0 || (size_t)r >= cap)
            return 0;
        n = (size_t)r;
        if (p == 17 || strtod(buf, NULL) == d)
            break;
    }
    if (strchr(buf, '.') == NULL && strchr(buf, 'e') == NULL) {
        memcpy(buf + n, ".0", 3);
        n += 2;
    }
    /* "1.5e+20" -> "1.5e20", "1e-05" -> "1e-5", as jansson writes them */
    if ((e = strchr(buf, 'e')) != NULL) {
        e++;
        if (*e == '-')
            e++;
        from = e;
        if (*from == '+')
            from++;
        while (*from == '0' && from[1] != '\0')
            from++;
        if (from != e) {
            memmove(e, from, strlen(from) + 1);
            n = strlen(buf);
        }
    }
    return n;
}

static void
put_string(struct sl_buf *b, const char *s, size_t len)
{
    static const char hex[] = "0123456789ABCDEF";
    size_t i, run = 0;

    sl_buf_addc(b, '"');
    for (i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        const char *esc = NULL;
        char u[7];

        if (c >= 0x20 && c != '"' && c != '\\')
            continue;
        sl_buf_add(b, s + run, i - run);
        switch (c) {
        case '"': esc = "\\\""; break;
        case '\\': esc = "\\\\"; break;
        case '\b': esc = "\\b"; break;
        case '\f': esc = "\\f"; break;
        case '\n': esc = "\\n"; break;
        case '\r': esc = "\\r"; break;
        case '\t': esc = "\\t"; break;
        default:
            memcpy(u, "\\u00", 4);
            u[4] = hex[c >> 4];
            u[5] = hex[c & 15];
            u[6] = '\0';
            esc = u;
        }
        sl_buf_adds(b, esc);
        run = i + 1;
    }
    sl_buf_add(b, s + run, len - run);
    sl_buf_addc(b, '"');
}

static void
indent(struct sl_buf *b, size_t flags, int depth, int space)
{
    size_t n = JSON_INDENT(31) & flags, k;

    if (n > 0) {
        sl_buf_addc(b, '\n');
        for (k = 0; k < n * (size_t)depth; k++)
            sl_buf_addc(b, ' ');
    } else if (space && !(flags & JSON_COMPACT)) {
        sl_buf_addc(b, ' ');
    }
}

static int
cmp_key(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static int
dump(struct sl_buf *b, const json_t *j, size_t flags, int depth)
{
    char num[64];
    size_t n, i;

    switch (json_typeof(j)) {
    case JSON_NULL:
        sl_buf_adds(b, "null");
        return 0;
    case JSON_TRUE:
        sl_buf_adds(b, "true");
        return 0;
    case JSON_FALSE:
        sl_buf_adds(b, "false");
        return 0;
    case JSON_INTEGER:
        sl_buf_addf(b, "%" JSON_INTEGER_FORMAT, json_integer_value(j));
        return 0;
    case JSON_REAL: {
        const char *t = sl_jtape_real_text(j, &n);
        if (t != NULL) { /* as it was read: 1.50 stays 1.50 */
            sl_buf_add(b, t, n);
            return 0;
        }
        if ((n = sl_fhir_real_text(json_real_value(j), num, sizeof(num))) ==
            0)
            return -1;
        sl_buf_add(b, num, n);
        return 0;
    }
    case JSON_STRING:
        put_string(b, json_string_value(j), json_string_length(j));
        return 0;
    case JSON_ARRAY:
        n = json_array_size(j);
        sl_buf_addc(b, '[');
        if (n == 0) {
            sl_buf_addc(b, ']');
            return 0;
        }
        indent(b, flags, depth + 1, 0);
        for (i = 0; i < n; i++) {
            if (dump(b, json_array_get(j, i), flags, depth + 1) != 0)
                return -1;
            if (i + 1 < n) {
                sl_buf_addc(b, ',');
                indent(b, flags, depth + 1, 1);
            } else {
                indent(b, flags, depth, 0);
            }
        }
        sl_buf_addc(b, ']');
        return 0;
    case JSON_OBJECT: {
        const char **keys;
        const char *k;
        json_t *v;
        int rc = 0;

        n = json_object_size(j);
        sl_buf_addc(b, '{');
        if (n == 0) {
            sl_buf_addc(b, '}');
            return 0;
        }
        keys = sl_calloc(n, sizeof(*keys));
        i = 0;
        json_object_foreach((json_t *)j, k, v)
            if (i < n)
                keys[i++] = k;
        n = i;
        if (flags & JSON_SORT_KEYS)
            qsort(keys, n, sizeof(*keys), cmp_key);
        indent(b, flags, depth + 1, 0);
        for (i = 0; i < n && rc == 0; i++) {
            put_string(b, keys[i], strlen(keys[i]));
            sl_buf_adds(b, flags & JSON_COMPACT ? ":" : ": ");
            rc = dump(b, json_object_get(j, keys[i]), flags, depth + 1);
            if (i + 1 < n) {
                sl_buf_addc(b, ',');
                indent(b, flags, depth + 1, 1);
            } else {
                indent(b, flags, depth, 0);
            }
        }
        free(keys);
        sl_buf_addc(b, '}');
        return rc;
    }
    }
    return -1;
}

char *
sl_fhir_json_dumps(const json_t *j, size_t flags)
{
    struct sl_buf b;

    if (j == NULL)
        return NULL;
    sl_buf_init(&b);
    if (dump(&b, j, flags, 0) != 0) {
        sl_buf_free(&b);
        return NULL;
    }
    return sl_buf_steal(&b);
}

json_t *
sl_fhir_json_loadb(const char *text, size_t len, size_t flags,
                   json_error_t *je)
{
    struct sl_jtape t = {0};
    json_t *v = NULL;
    char *copy;

    if (je != NULL)
        memset(je, 0, sizeof(*je)); /* as jansson leaves it on success */
    if (text != NULL && len > 0 && len <= SL_FHIR_JSON_TAPE_MAX &&
        (copy = malloc(len + 1)) != NULL) {
        memcpy(copy, text, len); /* the reader decodes strings in place */
        copy[len] = '\0';
        if (sl_jtape_parse(&t, copy, len))
            v = sl_jtape_to_json(&t, SL_JT_ROOT);
        sl_jtape_free(&t);
        free(copy);
        if (v != NULL)
            return v;
    }
    return json_loadb(text != NULL ? text : "", len, flags, je);
}
