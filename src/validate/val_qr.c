/* val_qr.c - a QuestionnaireResponse against its Questionnaire (found by
 * the canonical URL in QuestionnaireResponse.questionnaire among the
 * resources loaded: --ig, ig=): every item's linkId is one of the
 * Questionnaire's at that level, answers only where the item is a
 * question and of the item's type, required items answered in a completed
 * response, no repeated item or answer unless it repeats, answers among
 * answerOption, and the minValue, maxValue, maxDecimalPlaces, regex and
 * maxOccurs extensions. Messages name the linkId (from the Questionnaire,
 * not patient data), never an answer. */
#include "config.h"

#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "validate/val_profile.h"

#define PX "Questionnaire"
#define SDX "http://hl7.org/fhir/StructureDefinition/"

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

static void
check_answer(struct sl_val_result *out, const json_t *qi, const json_t *ans,
             const char *expr)
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
        if (regcomp(&re, str(e, "valueString"), REG_EXTENDED | REG_NOSUB) == 0) {
            if (regexec(&re, json_string_value(v), 0, NULL, 0) != 0)
                sl_val_add(out, SL_SEV_ERROR, "value", PX, expr,
                           "the answer to item %s does not match the "
                           "item's regex", str(qi, "linkId"));
            regfree(&re);
        }
    }
    opt = json_object_get(qi, "answerOption");
    if (json_array_size(opt) > 0 &&
        !(strcmp(type, "open-choice") == 0 && strcmp(key, "valueString") == 0)) {
        int hit = 0;
        json_array_foreach(opt, i, e) {
            const char *ok = NULL;
            const json_t *ov = value_of(e, &ok);
            if (ov == NULL || strcmp(ok, key) != 0)
                continue;
            if (json_is_object(ov))
                hit |= str(ov, "code") && str(v, "code") &&
                       strcmp(str(ov, "code"), str(v, "code")) == 0 &&
                       (!str(ov, "system") || !str(v, "system") ||
                        strcmp(str(ov, "system"), str(v, "system")) == 0);
            else
                hit |= json_equal(ov, v) ||
                       (json_is_number(ov) && cmp_values(ov, v) == 0);
        }
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

static void check_items(struct sl_val_result *out, const json_t *qitems,
                        const json_t *items, const char *expr, int done,
                        int depth);

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

static void
check_items(struct sl_val_result *out, const json_t *qitems,
            const json_t *items, const char *expr, int done, int depth)
{
    const json_t *it, *qi;
    char e[1024], ea[1100];
    size_t i, j, k;

    if (depth > 32)
        return;
    json_array_foreach(items, i, it) {
        const char *link = str(it, "linkId"), *type;
        const json_t *answers = json_object_get(it, "answer"), *a;
        snprintf(e, sizeof(e), "%.900s.item[%zu]", expr, i);
        qi = find_qitem(qitems, link);
        if (qi == NULL) {
            sl_val_add(out, SL_SEV_ERROR, "structure", PX, e,
                       "the linkId is not an item of the Questionnaire at "
                       "this level: correct it");
            continue;
        }
        type = str(qi, "type");
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
            check_answer(out, qi, a, ea);
            if (json_object_get(a, "item"))
                check_items(out, json_object_get(qi, "item"),
                            json_object_get(a, "item"), ea, done, depth + 1);
        }
        if (type && strcmp(type, "group") == 0 && done &&
            json_is_true(json_object_get(qi, "required")) &&
            json_array_size(json_object_get(it, "item")) == 0)
            sl_val_add(out, SL_SEV_ERROR, "required", PX, e,
                       "the required group %s has no items: answer them",
                       link);
        if (json_object_get(it, "item"))
            check_items(out, json_object_get(qi, "item"),
                        json_object_get(it, "item"), e, done, depth + 1);
        if (type && strcmp(type, "group") != 0 && done &&
            json_is_true(json_object_get(qi, "required")) &&
            json_array_size(answers) == 0 &&
            json_object_get(qi, "enableWhen") == NULL)
            sl_val_add(out, SL_SEV_ERROR, "required", PX, e,
                       "the required item %s has no answer: answer it",
                       link);
    }
    /* required items left out altogether (enableWhen not evaluated: an
     * item that may be disabled is not asked for) */
    if (!done)
        return;
    json_array_foreach(qitems, j, qi) {
        const char *link = str(qi, "linkId");
        int found = 0;
        if (!json_is_true(json_object_get(qi, "required")) ||
            json_object_get(qi, "enableWhen") || link == NULL)
            continue;
        json_array_foreach(items, i, it)
            found |= str(it, "linkId") && strcmp(str(it, "linkId"), link) == 0;
        if (!found)
            sl_val_add(out, SL_SEV_ERROR, "required", PX, expr,
                       "the required item %s is missing: answer it", link);
    }
}

void
sl_val_qr_check(const struct sl_validator *v, const json_t *qr,
                const char *expr, struct sl_val_result *out)
{
    const char *url = str(qr, "questionnaire"), *status = str(qr, "status");
    const json_t *q;
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
    check_items(out, json_object_get(q, "item"), json_object_get(qr, "item"),
                expr, done, 0);
}
