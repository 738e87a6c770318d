/* val_prim.c - the R4 primitive types' JSON representations and value
 * domains (FHIR R4 datatypes.html: the regular expressions of each type's
 * definition, the JSON kinds of json.html), compiled once. */
#include "config.h"

#include <math.h>
#include <pthread.h>
#include <regex.h>
#include <stdlib.h>
#include <string.h>

#include "validate/validate_int.h"

#define DATE_RE                                                          \
    "([0-9]([0-9]([0-9][1-9]|[1-9]0)|[1-9]00)|[1-9]000)(-(0[1-9]|1[0-2])" \
    "(-(0[1-9]|[1-2][0-9]|3[0-1]))?)?"
#define TIME_RE "([01][0-9]|2[0-3]):[0-5][0-9]:([0-5][0-9]|60)(\\.[0-9]+)?"
#define ZONE_RE "(Z|(\\+|-)((0[0-9]|1[0-3]):[0-5][0-9]|14:00))"

static const struct prim {
    const char *type;
    const char *re; /* anchored below */
    const char *what;
} prims[] = {
    {"base64Binary", "([[:space:]]*[0-9a-zA-Z+/=]{4}[[:space:]]*)+",
     "is not base64 (groups of 4 of A-Z a-z 0-9 + / =)"},
    {"canonical", "[^[:space:]]*", "is not a canonical URL (no spaces)"},
    {"code", "[^[:space:]]+([[:space:]][^[:space:]]+)*",
     "is not a code (no leading, trailing or double spaces)"},
    {"date", DATE_RE, "is not a date (YYYY, YYYY-MM or YYYY-MM-DD)"},
    {"dateTime", DATE_RE "(T" TIME_RE ZONE_RE ")?",
     "is not a dateTime (YYYY, YYYY-MM, YYYY-MM-DD or "
     "YYYY-MM-DDThh:mm:ss with a zone, +hh:mm or Z)"},
    {"id", "[A-Za-z0-9.-]{1,64}",
     "is not an id (1 to 64 of A-Z a-z 0-9 - .)"},
    {"instant",
     "([0-9]([0-9]([0-9][1-9]|[1-9]0)|[1-9]00)|[1-9]000)-(0[1-9]|1[0-2])-"
     "(0[1-9]|[1-2][0-9]|3[0-1])T" TIME_RE ZONE_RE,
     "is not an instant (YYYY-MM-DDThh:mm:ss with a zone, +hh:mm or Z)"},
    {"oid", "urn:oid:[0-2](\\.(0|[1-9][0-9]*))+",
     "is not an OID (urn:oid:1.2.3)"},
    {"time", TIME_RE, "is not a time (hh:mm:ss)"},
    {"uri", "[^[:space:]]*", "is not a URI (no spaces)"},
    {"url", "[^[:space:]]*", "is not a URL (no spaces)"},
    {"uuid",
     "urn:uuid:[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}",
     "is not a UUID (urn:uuid: and lower-case hex 8-4-4-4-12)"},
};
#define NPRIMS (sizeof(prims) / sizeof(prims[0]))

static regex_t res[NPRIMS];
static int res_ok[NPRIMS];
static pthread_once_t once = PTHREAD_ONCE_INIT;

static void
compile(void)
{
    size_t i;

    for (i = 0; i < NPRIMS; i++) {
        char *re = sl_asprintf("^(%s)$", prims[i].re);
        res_ok[i] = regcomp(&res[i], re, REG_EXTENDED | REG_NOSUB) == 0;
        free(re);
    }
}

static const struct prim *
prim_find(const char *type, size_t *ix)
{
    size_t i;

    for (i = 0; i < NPRIMS; i++)
        if (strcmp(prims[i].type, type) == 0) {
            *ix = i;
            return &prims[i];
        }
    return NULL;
}

static int
leap(int y)
{
    return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

/* The day of a date exists in its month (2023-02-30 does not). */
static int
day_ok(const char *s)
{
    static const int mdays[] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30,
                                31};
    int y, m, d;

    if (strlen(s) < 10 || s[4] != '-' || s[7] != '-')
        return 1;
    /* four digits, checked by the regex */
    y = (s[0] - '0') * 1000 + (s[1] - '0') * 100 + (s[2] - '0') * 10 +
        (s[3] - '0');
    m = (s[5] - '0') * 10 + (s[6] - '0');
    d = (s[8] - '0') * 10 + (s[9] - '0');
    if (m < 1 || m > 12)
        return 0;
    if (m == 2 && d == 29)
        return leap(y);
    return d <= mdays[m - 1];
}

/* Hand-written forms of the commonest types: the same languages as
 * their regular expressions, without the regex engine's cost. */
static int
no_space(const char *s)
{
    for (; *s; s++)
        if (*s == ' ' || (*s >= '\t' && *s <= '\r'))
            return 0;
    return 1;
}

static int
is_ws(char c)
{
    return c == ' ' || (c >= '\t' && c <= '\r');
}

/* [^\s]+(\s[^\s]+)* */
static int
code_ok(const char *s)
{
    if (*s == '\0' || is_ws(*s))
        return 0;
    for (; *s; s++)
        if (is_ws(*s) && (s[1] == '\0' || is_ws(s[1])))
            return 0;
    return 1;
}

/* [A-Za-z0-9\-\.]{1,64} */
static int
id_ok(const char *s)
{
    size_t n = 0;

    for (; *s; s++, n++)
        if (!((*s >= 'A' && *s <= 'Z') || (*s >= 'a' && *s <= 'z') ||
              (*s >= '0' && *s <= '9') || *s == '-' || *s == '.'))
            return 0;
    return n >= 1 && n <= 64;
}

const char *
sl_val_prim_check(const char *type, const json_t *value)
{
    const struct prim *p;
    const char *s;
    size_t ix;

    pthread_once(&once, compile);
    if (strcmp(type, "boolean") == 0)
        return json_is_boolean(value) ? NULL
                                      : "must be a JSON boolean (true/false)";
    if (strcmp(type, "integer") == 0 || strcmp(type, "positiveInt") == 0 ||
        strcmp(type, "unsignedInt") == 0) {
        json_int_t n;
        if (!json_is_integer(value))
            return "must be a JSON number without a fraction";
        n = json_integer_value(value);
        if (n > 2147483647 || n < -2147483647 - 1)
            return "is out of the 32-bit range of integer";
        if (type[0] == 'p' && n < 1)
            return "must be 1 or more (positiveInt)";
        if (type[0] == 'u' && n < 0)
            return "must be 0 or more (unsignedInt)";
        return NULL;
    }
    if (strcmp(type, "decimal") == 0) {
        if (!json_is_number(value))
            return "must be a JSON number";
        if (json_is_real(value) && !isfinite(json_real_value(value)))
            return "is not a finite decimal";
        return NULL;
    }
    if (!json_is_string(value))
        return "must be a JSON string";
    s = json_string_value(value);
    if (json_string_length(value) == 0)
        return "is empty: leave the element out instead";
    if (strcmp(type, "string") == 0 || strcmp(type, "markdown") == 0) {
        if (json_string_length(value) > 1024 * 1024)
            return "is longer than 1 MB";
        if (strspn(s, " \t\r\n") == json_string_length(value))
            return "holds only white space: leave the element out instead";
        return NULL;
    }
    if (strcmp(type, "xhtml") == 0)
        return strncmp(s, "<div", 4) == 0 ? NULL
                                          : "must be XHTML in a <div>";
    if ((p = prim_find(type, &ix)) == NULL || !res_ok[ix])
        return NULL;
    if (strlen(s) != json_string_length(value))
        return "holds a NUL character";
    if (strcmp(type, "uri") == 0 || strcmp(type, "url") == 0 ||
        strcmp(type, "canonical") == 0) {
        const struct prim *u;
        size_t ux;
        if (!no_space(s))
            return p->what;
        /* a uri that says it is a UUID or an OID must be one (as the
         * reference validator holds) */
        if (strncmp(s, "urn:uuid:", 9) == 0 &&
            (u = prim_find("uuid", &ux)) != NULL && res_ok[ux] &&
            regexec(&res[ux], s, 0, NULL, 0) != 0)
            return u->what;
        if (strncmp(s, "urn:oid:", 8) == 0 &&
            (u = prim_find("oid", &ux)) != NULL && res_ok[ux] &&
            regexec(&res[ux], s, 0, NULL, 0) != 0)
            return u->what;
        return NULL;
    }
    if (strcmp(type, "code") == 0)
        return code_ok(s) ? NULL : p->what;
    if (strcmp(type, "id") == 0)
        return id_ok(s) ? NULL : p->what;
    if (regexec(&res[ix], s, 0, NULL, 0) != 0)
        return p->what;
    if ((strcmp(type, "date") == 0 || strcmp(type, "dateTime") == 0 ||
         strcmp(type, "instant") == 0) &&
        !day_ok(s))
        return "names a day its month does not have";
    return NULL;
}
