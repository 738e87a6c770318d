/* val_qr.c - a QuestionnaireResponse against its Questionnaire (found by
 * the canonical URL in QuestionnaireResponse.questionnaire among the
 * resources loaded: --ig, ig=): every item's linkId is one of the
 * Questionnaire's at that level, answers only where the item is a
 * question and of the item's type, required items answered in a completed
 * response, no repeated item or answer unless it repeats, answers among
 * answerOption (and no other answer beside an exclusive option), the
 * minValue, maxValue, maxDecimalPlaces, regex and maxOccurs extensions,
 * Quantity limits and units, attachment types and sizes, the resource
 * types a reference may name; enableWhen (and an enableWhen expression)
 * evaluated, so that a disabled item has no answer and an enabled
 * required one has. Messages name the linkId (from the Questionnaire,
 * not patient data), never an answer. */
#include "config.h"

#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fhirpath/fhirpath.h"
#include "validate/val_profile.h"

#define PX "Questionnaire"
#define SDX "http://hl7.org/fhir/StructureDefinition/"
#define SDCX "http://hl7.org/fhir/uv/sdc/StructureDefinition/"
#define MAXSCOPE 40

/* Where an item is in the response: the arrays of items from the
 * outermost (QuestionnaireResponse.item) to the one being checked, so
 * that enableWhen finds the nearest answer to its question. */
struct qctx {
    const struct sl_validator *v;
    const json_t *qr;
    const json_t *scope[MAXSCOPE];
    int n;
};

static const char *
str(const json_t *o, const char *k)
{
    return json_string_value(json_object_get(o, k));
}

static const json_t *
ext(const json_t *item, const char *url)
{
    const json_t *e;
    size_t i;

    json_array_foreach(json_object_get(item, "extension"), i, e) {
        const char *u = str(e, "url");
        if (u && strcmp(u, url) == 0)
            return e;
    }
    return NULL;
}

/* The value[x] of an object (an answer, an extension): its key. */
static const json_t *
value_of(const json_t *o, const char **key)
{
    const char *k;
    const json_t *v;

    json_object_foreach((json_t *)o, k, v)
        if (strncmp(k, "value", 5) == 0 && k[5] >= 'A' && k[5] <= 'Z') {
            *key = k;
            return v;
        }
    return NULL;
}

/* The answer value type an item type takes ("" for none). */
static const char *
answer_type(const char *t)
{
    static const char *const map[][2] = {
        {"boolean", "Boolean"},     {"decimal", "Decimal"},
        {"integer", "Integer"},     {"date", "Date"},
        {"dateTime", "DateTime"},   {"time", "Time"},
        {"string", "String"},       {"text", "String"},
        {"url", "Uri"},             {"choice", "Coding"},
        {"open-choice", "Coding"},  {"attachment", "Attachment"},
        {"reference", "Reference"}, {"quantity", "Quantity"},
    };
    size_t i;

    for (i = 0; i < sizeof(map) / sizeof(map[0]); i++)
        if (strcmp(map[i][0], t) == 0)
            return map[i][1];
    return NULL;
}

/* Compares two values of one primitive type: numbers by value, dates and
 * times as strings over their common precision (ISO order). */
static int
cmp_values(const json_t *a, const json_t *b)
{
    if (json_is_number(a) && json_is_number(b)) {
        double x = json_number_value(a), y = json_number_value(b);
        return x < y ? -1 : x > y;
    }
    if (json_is_string(a) && json_is_string(b)) {
        const char *x = json_string_value(a), *y = json_string_value(b);
        size_t n = strlen(x) < strlen(y) ? strlen(x) : strlen(y);
        return strncmp(x, y, n);
    }
    return 0;
}

/* Whether answerOption opt is the answer value v (member key). */
static int
option_match(const json_t *opt, const char *key, const json_t *v)
{
    const char *ok = NULL;
    const json_t *ov = value_of(opt, &ok);

    if (ov == NULL || strcmp(ok, key) != 0)
        return 0;
    if (json_is_object(ov))
        return str(ov, "code") && str(v, "code") &&
               strcmp(str(ov, "code"), str(v, "code")) == 0 &&
               (!str(ov, "system") || !str(v, "system") ||
                strcmp(str(ov, "system"), str(v, "system")) == 0);
    return json_equal(ov, v) || (json_is_number(ov) && cmp_values(ov, v) == 0);
}

/* Bytes in base64 text (white space skipped, padding not counted). */
static size_t
b64_len(const char *s)
{
    size_t n = 0, pad = 0;

    for (; *s; s++) {
        if (*s == '=')
            pad++;
        else if (*s != ' ' && *s != '\n' && *s != '\r' && *s != '\t')
            n++;
    }
    return (n + pad) / 4 * 3 - (pad > 2 ? 2 : pad);
}

/* A Quantity answer against a limit (a Quantity): the comparison of the
 * answer with the limit in the limit's UCUM unit, or an error when the
 * two cannot be compared. sign -1: a minimum, 1: a maximum. */
static void
check_qty_limit(struct sl_val_result *out, const json_t *qi, const json_t *v,
                const json_t *lim, int sign, const char *expr)
{
    const char *what = sign < 0 ? "minimum" : "maximum";
    const char *cv = str(v, "code"), *cl = str(lim, "code");
    double x;

    if (!json_is_number(json_object_get(v, "value")) ||
        !json_is_number(json_object_get(lim, "value")))
        return;
    if (cv == NULL || cl == NULL || str(v, "system") == NULL ||
        str(lim, "system") == NULL) {
        sl_val_add(out, SL_SEV_ERROR, "value", PX, expr,
                   "the answer to item %s cannot be compared with its %s: "
                   "the quantities need a UCUM system and code",
                   str(qi, "linkId"), what);
        return;
    }
    if (sl_fp_ucum_convert(json_number_value(json_object_get(v, "value")),
                           cv, cl, &x) != 0) {
        sl_val_add(out, SL_SEV_ERROR, "value", PX, expr,
                   "the answer to item %s cannot be compared with its %s: "
                   "its unit is not convertible to the limit's",
                   str(qi, "linkId"), what);
        return;
    }
    if (sign * (x - json_number_value(json_object_get(lim, "value"))) > 0)
        sl_val_add(out, SL_SEV_ERROR, "value", PX, expr,
                   "the answer to item %s is %s the item's %s",
                   str(qi, "linkId"), sign < 0 ? "below" : "above", what);
}

/* Quantity, Attachment and Reference answers against the item's
 * extensions. */
static void
check_typed(const struct qctx *cx, struct sl_val_result *out,
            const json_t *qi, const char *want, const json_t *v,
            const char *expr)
{
    const json_t *e, *lim;
    const char *lk = NULL;
    size_t i;

    if (strcmp(want, "Quantity") == 0) {
        int nopt = 0, hit = 0;
        if (((e = ext(qi, SDCX "sdc-questionnaire-minQuantity")) ||
             (e = ext(qi, SDX "minValue"))) &&
            (lim = value_of(e, &lk)) && json_is_object(lim))
            check_qty_limit(out, qi, v, lim, -1, expr);
        if (((e = ext(qi, SDCX "sdc-questionnaire-maxQuantity")) ||
             (e = ext(qi, SDX "maxValue"))) &&
            (lim = value_of(e, &lk)) && json_is_object(lim))
            check_qty_limit(out, qi, v, lim, 1, expr);
        json_array_foreach(json_object_get(qi, "extension"), i, e) {
            const json_t *c = json_object_get(e, "valueCoding");
            if (!str(e, "url") ||
                strcmp(str(e, "url"), SDX "questionnaire-unitOption") != 0)
                continue;
            nopt++;
            hit |= str(c, "code") && str(v, "code") &&
                   strcmp(str(c, "code"), str(v, "code")) == 0 &&
                   (!str(c, "system") || !str(v, "system") ||
                    strcmp(str(c, "system"), str(v, "system")) == 0);
        }
        if (nopt > 0 && !hit)
            sl_val_add(out, SL_SEV_ERROR, "value", PX, expr,
                       "the unit of the answer to item %s is not one of the "
                       "item's unitOptions", str(qi, "linkId"));
        if ((e = ext(qi, SDX "questionnaire-unitValueSet")) &&
            str(e, "valueCanonical")) {
            /* the unit bound to the ValueSet as a required binding is */
            json_t *el = json_pack("{s:{s:s,s:s}}", "binding", "strength",
                                   "required", "valueSet",
                                   str(e, "valueCanonical"));
            if (str(v, "code") == NULL)
                sl_val_add(out, SL_SEV_ERROR, "value", PX, expr,
                           "the answer to item %s has no unit code, so its "
                           "unit is not in the item's unitValueSet",
                           str(qi, "linkId"));
            else if (el)
                sl_val_binding(cx->v, el, v, "the answer's unit", PX, expr,
                               out);
            json_decref(el);
        }
    } else if (strcmp(want, "Attachment") == 0) {
        int nmime = 0, hit = 0;
        const json_t *sz = json_object_get(v, "size");
        json_array_foreach(json_object_get(qi, "extension"), i, e) {
            if (!str(e, "url") || strcmp(str(e, "url"), SDX "mimeType") != 0)
                continue;
            nmime++;
            hit |= str(e, "valueCode") && str(v, "contentType") &&
                   strcmp(str(e, "valueCode"), str(v, "contentType")) == 0;
        }
        if (nmime > 0 && !hit)
            sl_val_add(out, SL_SEV_ERROR, "value", PX, expr,
                       "the attachment's contentType in the answer to item "
                       "%s is not one of the item's mimeTypes",
                       str(qi, "linkId"));
        if ((e = ext(qi, SDX "maxSize")) &&
            json_is_number(json_object_get(e, "valueDecimal"))) {
            double max = json_number_value(json_object_get(e, "valueDecimal"));
            double n = json_is_integer(sz) ? (double)json_integer_value(sz)
                       : str(v, "data") ? (double)b64_len(str(v, "data"))
                                        : 0;
            if (n > max)
                sl_val_add(out, SL_SEV_ERROR, "value", PX, expr,
                           "the attachment in the answer to item %s is "
                           "larger than the item's maxSize (%.0f bytes)",
                           str(qi, "linkId"), max);
        }
    } else if (strcmp(want, "Reference") == 0 && str(v, "reference")) {
        const char *r = str(v, "reference"), *sl = strchr(r, '/');
        int nt = 0, hit = 0;
        json_array_foreach(json_object_get(qi, "extension"), i, e) {
            const char *t = str(e, "valueCode");
            if (!str(e, "url") ||
                strcmp(str(e, "url"), SDX "questionnaire-referenceResource") != 0)
                continue;
            nt++;
            hit |= t && sl && strlen(t) == (size_t)(sl - r) &&
                   strncmp(t, r, (size_t)(sl - r)) == 0;
        }
        if (nt > 0 && !hit && sl && r[0] != '#' && strstr(r, "://") == NULL &&
            strncmp(r, "urn:", 4) != 0)
            sl_val_add(out, SL_SEV_ERROR, "value", PX, expr,
                       "the answer to item %s names a resource of a type "
                       "the item's referenceResource does not allow",
                       str(qi, "linkId"));
    }
}

static void
check_answer(const struct qctx *cx, struct sl_val_result *out,
             const json_t *qi, const json_t *ans, const char *expr)
{
    const char *type = str(qi, "type"), *key = NULL, *want;
    const json_t *v = value_of(ans, &key), *e, *lim, *opt;
    const char *lk = NULL;
    size_t i;

    if (v == NULL || type == NULL || (want = answer_type(type)) == NULL)
        return;
    /* a string answer to a choice item is what R4 validators accept (the
     * reference validator too): R4 has no answerConstraint yet */
    if (strcmp(key + 5, want) != 0 &&
        !((strcmp(type, "open-choice") == 0 ||
           strcmp(type, "choice") == 0) &&
          strcmp(key, "valueString") == 0)) {
        sl_val_add(out, SL_SEV_ERROR, "structure", PX, expr,
                   "the answer to item %s must be of type %s, not %s",
                   str(qi, "linkId"), want, key + 5);
        return;
    }
    if ((e = ext(qi, SDX "minValue")) && (lim = value_of(e, &lk)) &&
        cmp_values(v, lim) < 0)
        sl_val_add(out, SL_SEV_ERROR, "value", PX, expr,
                   "the answer to item %s is below the item's minValue",
                   str(qi, "linkId"));
    if ((e = ext(qi, SDX "maxValue")) && (lim = value_of(e, &lk)) &&
        cmp_values(v, lim) > 0)
        sl_val_add(out, SL_SEV_ERROR, "value", PX, expr,
                   "the answer to item %s is above the item's maxValue",
                   str(qi, "linkId"));
    if ((e = ext(qi, SDX "maxDecimalPlaces")) && json_is_real(v)) {
        char buf[64];
        const char *dot;
        long max = (long)json_integer_value(json_object_get(e, "valueInteger"));
        snprintf(buf, sizeof(buf), "%.15g", json_real_value(v));
        dot = strchr(buf, '.');
        if (dot && (long)strlen(dot + 1) > max)
            sl_val_add(out, SL_SEV_ERROR, "value", PX, expr,
                       "the answer to item %s has more decimal places than "
                       "its maxDecimalPlaces (%ld)", str(qi, "linkId"), max);
    }
    if ((e = ext(qi, SDX "regex")) && json_is_string(v) &&
        str(e, "valueString")) {
        regex_t re;
        char *ere = sl_fp_regex_ere(str(e, "valueString"));
        int crc = regcomp(&re, ere, REG_EXTENDED | REG_NOSUB);
        free(ere);
        if (crc == 0) {
            if (regexec(&re, json_string_value(v), 0, NULL, 0) != 0)
                sl_val_add(out, SL_SEV_ERROR, "value", PX, expr,
                           "the answer to item %s does not match the "
                           "item's regex", str(qi, "linkId"));
            regfree(&re);
        }
    }
    if (json_is_object(v))
        check_typed(cx, out, qi, want, v, expr);
    opt = json_object_get(qi, "answerOption");
    if (json_array_size(opt) > 0 &&
        !(strcmp(type, "open-choice") == 0 && strcmp(key, "valueString") == 0)) {
        int hit = 0;
        json_array_foreach(opt, i, e)
            hit |= option_match(e, key, v);
        if (!hit)
            sl_val_add(out, SL_SEV_ERROR, "value", PX, expr,
                       "the answer to item %s is not one of its "
                       "answerOptions", str(qi, "linkId"));
    }
    if (strcmp(want, "Reference") == 0 && str(v, "reference")) {
        const char *r = str(v, "reference");
        const char *s = strrchr(r, '/');
        char rt[128];
        size_t n;
        if (strchr(r, ' ')) {
            sl_val_add(out, SL_SEV_ERROR, "value", PX, expr,
                       "the reference in the answer to item %s is not a "
                       "valid reference (a space)", str(qi, "linkId"));
        }
        if (s && s > r && r[0] != '#') {
            const char *b = s - 1;
            while (b > r && b[-1] != '/')
                b--;
            n = (size_t)(s - b);
            if (n < sizeof(rt)) {
                memcpy(rt, b, n);
                rt[n] = '\0';
                if (sl_val_type_find(rt) == NULL)
                    sl_val_add(out, SL_SEV_ERROR, "value", PX, expr,
                               "the reference in the answer to item %s "
                               "names a type that is not a resource type",
                               str(qi, "linkId"));
            }
        }
    }
}

static const json_t *
find_qitem(const json_t *qitems, const char *link)
{
    const json_t *q;
    size_t i;

    json_array_foreach(qitems, i, q) {
        const char *l = str(q, "linkId");
        if (l && link && strcmp(l, link) == 0)
            return q;
    }
    return NULL;
}

/* The first item with linkId link in items or below them (their items
 * and their answers' items), or NULL. */
static const json_t *
find_ritem(const json_t *items, const char *link, int depth)
{
    const json_t *it, *a, *r;
    size_t i, j;

    if (depth > 32)
        return NULL;
    json_array_foreach(items, i, it) {
        if (str(it, "linkId") && strcmp(str(it, "linkId"), link) == 0)
            return it;
        if ((r = find_ritem(json_object_get(it, "item"), link, depth + 1)))
            return r;
        json_array_foreach(json_object_get(it, "answer"), j, a)
            if ((r = find_ritem(json_object_get(a, "item"), link, depth + 1)))
                return r;
    }
    return NULL;
}

/* Whether answer value v (member "valueX") meets the enableWhen's
 * operator and answer (member "answerX"). */
static int
ew_answer(const char *op, const char *akey, const json_t *want,
          const char *vkey, const json_t *v)
{
    int c;

    if (strcmp(akey + 6, vkey + 5) != 0)
        return strcmp(op, "!=") == 0;
    if (json_is_object(want)) {
        int eq;
        if (json_is_number(json_object_get(want, "value"))) {
            /* Quantity: same unit only */
            if (!json_is_number(json_object_get(v, "value")) ||
                !str(want, "code") || !str(v, "code") ||
                strcmp(str(want, "code"), str(v, "code")) != 0)
                return strcmp(op, "!=") == 0;
            c = cmp_values(json_object_get(v, "value"),
                           json_object_get(want, "value"));
            goto cmp;
        }
        eq = str(want, "code") && str(v, "code") &&
             strcmp(str(want, "code"), str(v, "code")) == 0 &&
             (!str(want, "system") || !str(v, "system") ||
              strcmp(str(want, "system"), str(v, "system")) == 0);
        if (!eq && str(want, "reference") && str(v, "reference"))
            eq = strcmp(str(want, "reference"), str(v, "reference")) == 0;
        return strcmp(op, "=") == 0 ? eq : strcmp(op, "!=") == 0 ? !eq : 0;
    }
    if (json_is_string(want) && json_is_string(v) &&
        json_string_length(want) != json_string_length(v) &&
        (strcmp(op, "=") == 0 || strcmp(op, "!=") == 0))
        c = 1; /* dates of different precision are not equal */
    else if (json_is_boolean(want) || json_is_boolean(v))
        c = json_equal(want, v) ? 0 : 1;
    else
        c = cmp_values(v, want);
cmp:
    if (strcmp(op, "=") == 0)
        return c == 0;
    if (strcmp(op, "!=") == 0)
        return c != 0;
    if (strcmp(op, ">") == 0)
        return c > 0;
    if (strcmp(op, "<") == 0)
        return c < 0;
    if (strcmp(op, ">=") == 0)
        return c >= 0;
    if (strcmp(op, "<=") == 0)
        return c <= 0;
    return 0;
}

/* One enableWhen: its question's answers (the nearest item with that
 * linkId, from the items around the one asked about outwards) against
 * its operator and answer. */
static int
ew_one(const struct qctx *cx, const json_t *ew)
{
    const char *q = str(ew, "question"), *op = str(ew, "operator");
    const char *akey = NULL, *vkey = NULL;
    const json_t *want = NULL, *it = NULL, *a, *v;
    const char *k;
    size_t i;
    int l;

    if (q == NULL || op == NULL)
        return 1;
    json_object_foreach((json_t *)ew, k, v)
        if (strncmp(k, "answer", 6) == 0 && k[6] >= 'A' && k[6] <= 'Z') {
            akey = k;
            want = v;
        }
    if (want == NULL)
        return 1;
    for (l = cx->n - 1; l >= 0 && it == NULL; l--)
        it = find_ritem(cx->scope[l], q, 0);
    if (strcmp(op, "exists") == 0)
        return json_is_true(want) ==
               (json_array_size(json_object_get(it, "answer")) > 0);
    json_array_foreach(json_object_get(it, "answer"), i, a)
        if ((v = value_of(a, &vkey)) && ew_answer(op, akey, want, vkey, v))
            return 1;
    return 0;
}

/* Whether item qi is enabled where the response's items are cx: its
 * enableWhen (enableBehavior any, or all by default), or its enableWhen
 * expression (SDC's extension, and the one the reference validator also
 * reads) evaluated on the response; an expression that cannot be
 * evaluated leaves the item enabled. */
static int
item_enabled(const struct qctx *cx, const json_t *qi)
{
    static const char *const exts[] = {
        SDCX "sdc-questionnaire-enableWhenExpression",
        "http://phr.kanta.fi/StructureDefinition/"
        "fiphr-ext-questionnaire-enablewhen",
    };
    const json_t *ews = json_object_get(qi, "enableWhen"), *ew, *e;
    const char *beh = str(qi, "enableBehavior");
    size_t i;
    int any = beh && strcmp(beh, "any") == 0, r;

    for (i = 0; i < sizeof(exts) / sizeof(exts[0]); i++)
        if ((e = ext(qi, exts[i])) != NULL) {
            const char *x = str(e, "valueString");
            struct sl_fp_expr *fx = NULL;
            struct sl_fp_env env = {0};
            struct sl_err err = {0};
            int val = -1;
            if (x == NULL)
                x = str(json_object_get(e, "valueExpression"), "expression");
            if (x == NULL || sl_fp_compile(x, &fx, &err) != SL_OK)
                return 1;
            env.resource = (json_t *)cx->qr;
            env.root = (json_t *)cx->qr;
            r = sl_fp_eval_bool(fx, &env, (json_t *)cx->qr, &val, &err);
            sl_fp_free(fx);
            return r != SL_OK || val != 0;
        }
    if (json_array_size(ews) == 0)
        return 1;
    json_array_foreach(ews, i, ew) {
        r = ew_one(cx, ew);
        if (any && r)
            return 1;
        if (!any && !r)
            return 0;
    }
    return !any;
}

/* Whether a response item holds an answer (itself or its items). */
static int
has_answer(const json_t *it, int depth)
{
    const json_t *c;
    size_t i;

    if (depth > 32)
        return 0;
    if (json_array_size(json_object_get(it, "answer")) > 0)
        return 1;
    json_array_foreach(json_object_get(it, "item"), i, c)
        if (has_answer(c, depth + 1))
            return 1;
    return 0;
}

static void
check_items(struct sl_val_result *out, struct qctx *cx, const json_t *qitems,
            const json_t *items, const char *expr, int done, int depth)
{
    const json_t *it, *qi;
    char e[1024], ea[1100];
    size_t i, j, k;

    if (depth > 32 || cx->n >= MAXSCOPE)
        return;
    cx->scope[cx->n++] = items;
    json_array_foreach(items, i, it) {
        const char *link = str(it, "linkId"), *type;
        const json_t *answers = json_object_get(it, "answer"), *a;
        int enabled;
        snprintf(e, sizeof(e), "%.900s.item[%zu]", expr, i);
        qi = find_qitem(qitems, link);
        if (qi == NULL) {
            sl_val_add(out, SL_SEV_ERROR, "structure", PX, e,
                       "the linkId is not an item of the Questionnaire at "
                       "this level: correct it");
            continue;
        }
        type = str(qi, "type");
        enabled = item_enabled(cx, qi);
        if (!enabled) {
            if (has_answer(it, 0))
                sl_val_add(out, SL_SEV_ERROR, "structure", PX, e,
                           "item %s has an answer, but its enableWhen "
                           "conditions do not hold, so it is not enabled: "
                           "remove the answer", link);
            continue;
        }
        for (k = 0; k < i; k++) {
            const json_t *prev = json_array_get(items, k);
            if (str(prev, "linkId") && strcmp(str(prev, "linkId"), link) == 0 &&
                !json_is_true(json_object_get(qi, "repeats")) &&
                (type == NULL || strcmp(type, "group") != 0 ||
                 !json_is_true(json_object_get(qi, "repeats")))) {
                sl_val_add(out, SL_SEV_ERROR, "structure", PX, e,
                           "item %s does not repeat: give it once", link);
                break;
            }
        }
        if (type && (strcmp(type, "group") == 0 ||
                     strcmp(type, "display") == 0 ||
                     strcmp(type, "question") == 0) &&
            json_array_size(answers) > 0) {
            sl_val_add(out, SL_SEV_ERROR, "structure", PX, e,
                       "item %s is of type %s, which has no answers: "
                       "remove them", link, type);
            continue;
        }
        if (json_array_size(answers) > 1 &&
            !json_is_true(json_object_get(qi, "repeats")))
            sl_val_add(out, SL_SEV_ERROR, "structure", PX, e,
                       "item %s does not repeat: give one answer", link);
        {
            const json_t *mo = ext(qi, SDX "questionnaire-maxOccurs");
            json_int_t max = json_integer_value(json_object_get(mo,
                                                                "valueInteger"));
            if (mo && (json_int_t)json_array_size(answers) > max)
                sl_val_add(out, SL_SEV_ERROR, "structure", PX, e,
                           "item %s has more answers than its maxOccurs "
                           "(%lld)", link, (long long)max);
        }
        json_array_foreach(answers, j, a) {
            snprintf(ea, sizeof(ea), "%s.answer[%zu]", e, j);
            check_answer(cx, out, qi, a, ea);
            if (json_array_size(answers) > 1) {
                /* an exclusive option is the only answer */
                const json_t *o;
                const char *key = NULL;
                const json_t *v = value_of(a, &key);
                size_t m;
                json_array_foreach(json_object_get(qi, "answerOption"), m, o) {
                    const json_t *x = ext(o, SDX "questionnaire-optionExclusive");
                    if (v && x && json_is_true(json_object_get(x, "valueBoolean")) &&
                        option_match(o, key, v)) {
                        sl_val_add(out, SL_SEV_ERROR, "structure", PX, ea,
                                   "the answer to item %s is an exclusive "
                                   "option: it cannot be given with other "
                                   "answers", link);
                        break;
                    }
                }
            }
            if (json_object_get(a, "item"))
                check_items(out, cx, json_object_get(qi, "item"),
                            json_object_get(a, "item"), ea, done, depth + 1);
        }
        if (type && strcmp(type, "group") == 0 && done &&
            json_is_true(json_object_get(qi, "required")) &&
            json_array_size(json_object_get(it, "item")) == 0)
            sl_val_add(out, SL_SEV_ERROR, "required", PX, e,
                       "the required group %s has no items: answer them",
                       link);
        if (json_object_get(it, "item"))
            check_items(out, cx, json_object_get(qi, "item"),
                        json_object_get(it, "item"), e, done, depth + 1);
        if (type && strcmp(type, "group") != 0 && done &&
            json_is_true(json_object_get(qi, "required")) &&
            json_array_size(answers) == 0)
            sl_val_add(out, SL_SEV_ERROR, "required", PX, e,
                       "the required item %s has no answer: answer it",
                       link);
    }
    /* required items left out altogether, when they are enabled */
    if (done)
        json_array_foreach(qitems, j, qi) {
            const char *link = str(qi, "linkId");
            int found = 0;
            if (!json_is_true(json_object_get(qi, "required")) || link == NULL)
                continue;
            json_array_foreach(items, i, it)
                found |= str(it, "linkId") &&
                         strcmp(str(it, "linkId"), link) == 0;
            if (!found && item_enabled(cx, qi))
                sl_val_add(out, SL_SEV_ERROR, "required", PX, expr,
                           "the required item %s is missing: answer it",
                           link);
        }
    cx->n--;
}

void
sl_val_qr_check(const struct sl_validator *v, const json_t *qr,
                const char *expr, struct sl_val_result *out)
{
    const char *url = str(qr, "questionnaire"), *status = str(qr, "status");
    const json_t *q;
    struct qctx cx;
    int done;

    if (url == NULL)
        return;
    q = sl_val_def_find(v, NULL, url);
    if (q == NULL && strncmp(url, "http://hl7.org/fhir/", 20) == 0 &&
        strstr(url, "/Questionnaire/") == NULL) {
        /* a canonical of R4 core: the core has no Questionnaire by it */
        sl_val_add(out, SL_SEV_ERROR, "invalid", PX, expr,
                   "QuestionnaireResponse.questionnaire names a resource of "
                   "R4 core that is not a Questionnaire");
        return;
    }
    if (q == NULL) {
        sl_val_add(out, SL_SEV_WARNING, "not-found", PX, expr,
                   "the Questionnaire is not known, so the answers were not "
                   "checked against it: load it (--ig)");
        return;
    }
    if (strcmp(str(q, "resourceType"), "Questionnaire") != 0) {
        sl_val_add(out, SL_SEV_ERROR, "invalid", PX, expr,
                   "QuestionnaireResponse.questionnaire names a %s, not a "
                   "Questionnaire", str(q, "resourceType"));
        return;
    }
    done = status && (strcmp(status, "completed") == 0 ||
                      strcmp(status, "amended") == 0);
    cx.v = v;
    cx.qr = qr;
    cx.n = 0;
    check_items(out, &cx, json_object_get(q, "item"),
                json_object_get(qr, "item"), expr, done, 0);
}
