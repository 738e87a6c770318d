/* fhir_elem.c - a JSON member name as an element of FHIR R4 (see fhir.h):
 * its table path and its type, choice elements ("valueQuantity") included. */
#include "config.h"

#include <string.h>

#include "fhir/fhir.h"

/* Copies the first type of a '|' list. */
static void
first_type(const char *types, char *out, size_t len)
{
    size_t n = strcspn(types, "|");
    if (n >= len)
        n = len - 1;
    memcpy(out, types, n);
    out[n] = '\0';
}

int
sl_fhir_elem_resolve(const char *base, const char *key, char *canon,
                     size_t canon_len, char *type, size_t type_len)
{
    const char *t, *p;
    size_t klen = strlen(key), i, n;

    size_t blen = strlen(base);

    if (blen + 1 + klen + 4 > canon_len)
        return 0;
    memcpy(canon, base, blen);
    canon[blen] = '.';
    memcpy(canon + blen + 1, key, klen + 1);
    if ((t = sl_fhir_type_lookup(canon)) != NULL) {
        first_type(t, type, type_len);
        return 1;
    }
    /* a choice: valueQuantity is value[x] of type Quantity */
    for (i = 1; i < klen; i++) {
        if (key[i] < 'A' || key[i] > 'Z')
            continue;
        memcpy(canon + blen + 1, key, i);
        memcpy(canon + blen + 1 + i, "[x]", 4);
        if ((t = sl_fhir_type_lookup(canon)) == NULL)
            continue;
        for (p = t; *p; p += n + (p[n] == '|')) {
            n = strcspn(p, "|");
            if (n == klen - i && n < type_len &&
                (p[0] == key[i] || p[0] - 'a' + 'A' == key[i]) &&
                strncmp(p + 1, key + i + 1, n - 1) == 0) {
                memcpy(type, p, n);
                type[n] = '\0';
                return 1;
            }
        }
        return 0;
    }
    return 0;
}
