/* fhir_learn_values.c - the identifying values pass 1 learns (see
 * fhir_int.h), which free text is scrubbed of and the output is scanned
 * for: the names, contacts and addresses of every person and
 * organisation the input names (Patient, RelatedPerson, Practitioner,
 * PractitionerRole, Person, Organization, Patient.contact, contained
 * ones), the display of references to them, the author of a note
 * (Annotation.authorString), and identifying extensions (mother's
 * maiden name, birth place, names' parts, and the string values of any
 * extension of a person). A person's name is learned whole and by
 * part (family, each given name, each word of HumanName.text), titles and
 * particles left out; an organisation's name whole only ("General" or
 * "Hospital" alone names nobody). */
#include "config.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "deid/fhir_int.h"
#include "fhir/jtape.h"

void
fhir_lv_add(struct fd_lvals *l, const char *s, size_t n)
{
    if (s == NULL || n == 0)
        return;
    if (l->n == l->cap) {
        l->cap = l->cap ? l->cap * 2 : 32;
        l->v = sl_realloc(l->v, l->cap * sizeof(*l->v));
    }
    l->v[l->n].s = s;
    l->v[l->n].n = n;
    l->n++;
}

static void
lv_str(struct fd_lvals *l, const char *s)
{
    if (s)
        fhir_lv_add(l, s, strlen(s));
}

/* s is kept (and wiped, freed) with l. */
static void
lv_own(struct fd_lvals *l, char *s)
{
    if (l->nown == l->capown) {
        l->capown = l->capown ? l->capown * 2 : 8;
        l->own = sl_realloc(l->own, l->capown * sizeof(*l->own));
    }
    l->own[l->nown++] = s;
    lv_str(l, s);
}

void
fhir_lv_free(struct fd_lvals *l)
{
    size_t i;

    for (i = 0; i < l->nown; i++)
        sl_freezero(l->own[i], strlen(l->own[i]));
    free(l->own);
    free(l->v);
    memset(l, 0, sizeof(*l));
}

/* Words of a name that name nobody alone: titles, degrees, generation
 * suffixes, particles (shorter ones are below MIN_LEARNED anyway). */
static int
not_a_name(const char *w, size_t n)
{
    static const char *const stop[] = {
        "mr",   "mrs",   "ms",    "miss",   "mx",   "dr",   "prof", "sir",
        "dame", "rev",   "nurse", "sister", "md",   "phd",  "rn",   "np",
        "jr",   "sr",    "iii",   "esq",    "van",  "von",  "der",  "den",
        "del",  "della", "des",   "dos",    "das",  "bin",  "ibn",  "abu",
        "the",  "and",   "dds",   "dvm",    "mbbs", "frcp", "msc",  "bsc",
        "lpn",  "aprn",  "dnp",   "pharmd",
    };
    size_t i;

    for (i = 0; i < sizeof(stop) / sizeof(stop[0]); i++)
        if (strlen(stop[i]) == n && strncasecmp(w, stop[i], n) == 0)
            return 1;
    return 0;
}

/* A person's name: whole, and each word of it (split at white space,
 * hyphens, commas and full stops) that is not a title or a particle. */
static void
lv_name_words(struct fd_lvals *l, const char *s)
{
    const char *p = s, *w;

    if (s == NULL)
        return;
    lv_str(l, s);
    while (*p) {
        p += strspn(p, " \t\r\n-,.;/()\"");
        w = p;
        p += strcspn(p, " \t\r\n-,.;/()\"");
        if (p > w && (size_t)(p - w) < strlen(s) && !not_a_name(w, p - w))
            fhir_lv_add(l, w, (size_t)(p - w));
    }
}

static void
lv_each(struct fd_lvals *l, const struct sl_jtape *t, size_t v,
        void (*fn)(struct fd_lvals *, const struct sl_jtape *, size_t))
{
    size_t k;

    if (v && t->n[v].type == SL_JT_ARRAY)
        for (k = sl_jt_first(t, v); k; k = sl_jt_next(t, v, k))
            fn(l, t, k);
    else if (v)
        fn(l, t, v);
}

static void
lv_str_node(struct fd_lvals *l, const struct sl_jtape *t, size_t v)
{
    lv_str(l, sl_jt_str(t, v));
}

static void
lv_word_node(struct fd_lvals *l, const struct sl_jtape *t, size_t v)
{
    lv_name_words(l, sl_jt_str(t, v));
}

/* A HumanName, or an Organization's name (a string: whole only). The
 * family name and the first given name are also learned run together,
 * as names in Chinese, Japanese and Korean are written. */
static void
lv_name(struct fd_lvals *l, const struct sl_jtape *t, size_t n)
{
    const char *fam, *giv;

    if (t->n[n].type == SL_JT_STRING) {
        lv_str(l, sl_jt_str(t, n));
        return;
    }
    if (t->n[n].type != SL_JT_OBJECT)
        return;
    fam = sl_jt_str(t, sl_jt_get(t, n, "family"));
    lv_name_words(l, fam);
    lv_name_words(l, sl_jt_str(t, sl_jt_get(t, n, "text")));
    lv_each(l, t, sl_jt_get(t, n, "given"), lv_word_node);
    giv = sl_jt_str(t, sl_jt_first(t, sl_jt_get(t, n, "given")));
    if (giv == NULL)
        giv = sl_jt_str(t, sl_jt_get(t, n, "given"));
    if (fam && giv &&
        ((unsigned char)fam[0] >= 0x80 || (unsigned char)giv[0] >= 0x80)) {
        lv_own(l, FHIR_JOIN(fam, giv, ""));
        lv_own(l, FHIR_JOIN(giv, fam, ""));
    }
}

static void
lv_telecom(struct fd_lvals *l, const struct sl_jtape *t, size_t v)
{
    lv_str(l, sl_jt_str(t, sl_jt_get(t, v, "value")));
}

static void
lv_address(struct fd_lvals *l, const struct sl_jtape *t, size_t a)
{
    lv_each(l, t, sl_jt_get(t, a, "line"), lv_str_node);
    lv_str(l, sl_jt_str(t, sl_jt_get(t, a, "city")));
    lv_str(l, sl_jt_str(t, sl_jt_get(t, a, "district")));
    lv_str(l, sl_jt_str(t, sl_jt_get(t, a, "text")));
    lv_str(l, sl_jt_str(t, sl_jt_get(t, a, "postalCode")));
}

void
fhir_learn_party(struct fd_lvals *l, const struct sl_jtape *t, size_t o)
{
    lv_each(l, t, sl_jt_get(t, o, "name"), lv_name);
    lv_each(l, t, sl_jt_get(t, o, "alias"), lv_str_node);
    lv_each(l, t, sl_jt_get(t, o, "telecom"), lv_telecom);
    lv_each(l, t, sl_jt_get(t, o, "address"), lv_address);
    lv_each(l, t, sl_jt_get(t, o, "contact"), fhir_learn_party);
}

int
fhir_learn_is_party(const char *type)
{
    return strcmp(type, "Patient") == 0 || strcmp(type, "RelatedPerson") == 0 ||
           strcmp(type, "Practitioner") == 0 || strcmp(type, "Person") == 0 ||
           strcmp(type, "Organization") == 0 ||
           strcmp(type, "PractitionerRole") == 0;
}

/* ---- Reference.display ---- */

enum { DISP_NONE, DISP_PERSON, DISP_ORG };

/* What the display of a reference to a resource of type names. */
static int
disp_of_type(const char *type, size_t n)
{
    static const char *const person[] = { "Patient", "Practitioner",
                                          "PractitionerRole", "RelatedPerson",
                                          "Person" };
    size_t i;

    for (i = 0; i < sizeof(person) / sizeof(person[0]); i++)
        if (strlen(person[i]) == n && strncmp(type, person[i], n) == 0)
            return DISP_PERSON;
    if (n == 12 && strncmp(type, "Organization", 12) == 0)
        return DISP_ORG;
    return DISP_NONE;
}

/* The elements whose references name people or organisations, for a
 * display that says nothing of its target's type. */
static int
disp_of_key(const char *key)
{
    static const char *const person[] = {
        "performer",
        "author",
        "requester",
        "recorder",
        "asserter",
        "informant",
        "subject",
        "patient",
        "individual",
        "actor",
        "practitioner",
        "participant",
        "party",
        "sender",
        "recipient",
        "who",
        "onBehalfOf",
        "collector",
        "operator",
        "enterer",
        "provider",
        "beneficiary",
        "policyHolder",
        "subscriber",
        "authenticator",
        "legalAuthenticator",
        "resultsInterpreter",
        "referrer",
        "generalPractitioner",
        "authorReference",
        "attester",
        "verifier",
        "receiver",
        "dispenser",
        "orderer",
        "surgeon",
        "attending",
        "careManager",
        "agent",
        "witness",
        "signer",
        "responsible",
        "requestor",
        "primarySource",
        "assessor",
        "source",
        "contact",
        "caregiver",
    };
    static const char *const org[] = {
        "organization",
        "managingOrganization",
        "custodian",
        "insurer",
        "payor",
        "issuer",
        "serviceProvider",
        "providedBy",
        "performingOrganization",
        "requestingOrganization",
        "facility",
        "institution",
    };
    size_t i;

    for (i = 0; i < sizeof(person) / sizeof(person[0]); i++)
        if (strcmp(key, person[i]) == 0)
            return DISP_PERSON;
    for (i = 0; i < sizeof(org) / sizeof(org[0]); i++)
        if (strcmp(key, org[i]) == 0)
            return DISP_ORG;
    return DISP_NONE;
}

/* A display that reads as an organisation's name, not a person's. */
static int
looks_like_org(const char *s)
{
    static const char *const words[] = {
        "hospital",  "clinic",     "center",    "centre",     "health",
        "medical",   "department", "lab",       "laboratory", "inc",
        "ltd",       "llc",        "gmbh",      "university", "ward",
        "unit",      "group",      "services",  "pharmacy",   "practice",
        "insurance", "trust",      "institute", "foundation", "care",
    };
    const char *p = s, *w;
    size_t i, n;

    while (*p) {
        p += strspn(p, " \t-,.&()/'");
        w = p;
        p += strcspn(p, " \t-,.&()/'");
        n = (size_t)(p - w);
        for (i = 0; i < sizeof(words) / sizeof(words[0]); i++)
            if (n == strlen(words[i]) && strncasecmp(w, words[i], n) == 0)
                return 1;
    }
    return 0;
}

/* A display that starts with a title: a person, whatever it names. */
static int
has_title(const char *s)
{
    static const char *const titles[] = { "dr",   "mr",  "mrs",   "ms",
                                          "miss", "mx",  "prof",  "sir",
                                          "dame", "rev", "nurse", "sister" };
    size_t n = strcspn(s, " ."), i;

    if (s[n] != ' ' && s[n] != '.')
        return 0;
    for (i = 0; i < sizeof(titles) / sizeof(titles[0]); i++)
        if (strlen(titles[i]) == n && strncasecmp(s, titles[i], n) == 0)
            return 1;
    return 0;
}

/* The display of obj, when obj is a Reference (key: the member it is
 * the value of): learned when it names a person or an organisation, by
 * the type of its target, else by the element. */
static void
lv_display(struct fd_lvals *l, const struct sl_jtape *t, size_t obj,
           const char *key)
{
    const char *disp = sl_jt_str(t, sl_jt_get(t, obj, "display"));
    const char *ref, *type;
    int kind = DISP_NONE;

    if (disp == NULL || sl_jt_get(t, obj, "code") ||
        sl_jt_get(t, obj, "system"))
        return; /* a Coding's display is the code system's */
    ref = sl_jt_str(t, sl_jt_get(t, obj, "reference"));
    type = sl_jt_str(t, sl_jt_get(t, obj, "type"));
    if (type) {
        const char *u = strrchr(type, '/'); /* a StructureDefinition URL */
        u = u ? u + 1 : type;
        kind = disp_of_type(u, strlen(u));
    } else if (ref && ref[0] != '#' && strncmp(ref, "urn:", 4) != 0 &&
               strchr(ref, '/') != NULL) {
        /* Type/id, or base/Type/id[/_history/v]: the segment before the
         * id is the type */
        const char *h = strstr(ref, "/_history/");
        const char *end = h ? h : ref + strlen(ref), *p, *tb, *te;
        for (p = end; p > ref && p[-1] != '/'; p--)
            ;
        te = p > ref ? p - 1 : ref;
        for (tb = te; tb > ref && tb[-1] != '/'; tb--)
            ;
        kind = disp_of_type(tb, (size_t)(te - tb));
    } else if (key)
        kind = disp_of_key(key);
    if (kind == DISP_NONE && has_title(disp))
        kind = DISP_PERSON;
    if (kind == DISP_PERSON && looks_like_org(disp) && !has_title(disp))
        kind = DISP_ORG;
    if (kind == DISP_PERSON)
        lv_name_words(l, disp);
    else if (kind == DISP_ORG)
        lv_str(l, disp);
}

/* ---- extensions ---- */

/* Extensions known to say nothing that identifies (codes of race,
 * ethnicity, sex, gender; why a value is absent); a site's own may hold
 * anything. */
static int
ext_safe(const char *url)
{
    static const char *const safe[] = {
        "us-core-race",
        "us-core-ethnicity",
        "us-core-birthsex",
        "us-core-genderIdentity",
        "us-core-sex",
        "individual-genderIdentity",
        "patient-genderIdentity",
        "data-absent-reason",
        "patient-interpreterRequired",
        "patient-nationality",
        "patient-religion",
        "patient-disability",
        "patient-cadavericDonor",
        "patient-importance",
    };
    const char *u = strrchr(url, '/');
    size_t i;

    u = u ? u + 1 : url;
    for (i = 0; i < sizeof(safe) / sizeof(safe[0]); i++)
        if (strcmp(u, safe[i]) == 0)
            return 1;
    return 0;
}

/* Extensions that hold a person's name or part of one. */
static int
ext_name(const char *url)
{
    static const char *const names[] = {
        "patient-mothersMaidenName", "humanname-own-name",
        "humanname-partner-name",    "humanname-fathers-family",
        "humanname-mothers-family",  "humanname-own-prefix",
        "humanname-partner-prefix",  "patient-congregation",
    };
    const char *u = strrchr(url, '/');
    size_t i;

    u = u ? u + 1 : url;
    for (i = 0; i < sizeof(names) / sizeof(names[0]); i++)
        if (strcmp(u, names[i]) == 0)
            return 1;
    return 0;
}

/* "123-45-6789": an SSN wherever an extension holds it */
static int
ssn_shape(const char *s)
{
    static const char shape[] = "ddd-dd-dddd";
    size_t i;

    for (i = 0; shape[i]; i++)
        if (shape[i] == 'd' ? (s[i] < '0' || s[i] > '9') : s[i] != '-')
            return 0;
    return s[i] == '\0';
}

/* One extension (an item of an extension array), and the extensions in
 * it (relative URLs: the parts of this one). party: it is on a person or
 * an organisation, whose extensions are theirs. */
static void
lv_ext(struct fd_lvals *l, const struct sl_jtape *t, size_t x, int party,
       int depth)
{
    const char *url = sl_jt_str(t, sl_jt_get(t, x, "url"));
    size_t k, v;
    int named;

    if (t->n[x].type != SL_JT_OBJECT || depth > 4)
        return;
    if (url && ext_safe(url))
        return;
    named = url && ext_name(url);
    for (k = sl_jt_first(t, x); k; k = sl_jt_next(t, x, k)) {
        const char *key = t->n[k].v.s;
        v = k + 1;
        if (strncmp(key, "value", 5) != 0)
            continue;
        if (strcmp(key, "valueString") == 0) {
            const char *s = sl_jt_str(t, v);
            if (named)
                lv_name_words(l, s);
            else if (party || (s && ssn_shape(s)))
                lv_str(l, s);
        } else if (strcmp(key, "valueHumanName") == 0)
            lv_name(l, t, v);
        else if (strcmp(key, "valueAddress") == 0) {
            if (party || named || (url && strstr(url, "birthPlace") != NULL))
                lv_address(l, t, v);
        } else if (strcmp(key, "valueContactPoint") == 0)
            lv_telecom(l, t, v);
        else if (strcmp(key, "valueIdentifier") == 0)
            lv_str(l, sl_jt_str(t, sl_jt_get(t, v, "value")));
    }
    v = sl_jt_get(t, x, "extension");
    if (v && t->n[v].type == SL_JT_ARRAY)
        for (k = sl_jt_first(t, v); k; k = sl_jt_next(t, v, k))
            lv_ext(l, t, k, party || named, depth + 1);
}

void
fhir_learn_parameter(struct fd_lvals *l, const struct sl_jtape *t, size_t p)
{
    size_t k;

    for (k = sl_jt_first(t, p); k; k = sl_jt_next(t, p, k)) {
        const char *m = t->n[k].v.s;
        if (strncmp(m, "value", 5) != 0)
            continue;
        if (strcmp(m, "valueHumanName") == 0)
            lv_name(l, t, k + 1);
        else if (strcmp(m, "valueAddress") == 0)
            lv_address(l, t, k + 1);
        else if (strcmp(m, "valueContactPoint") == 0)
            lv_telecom(l, t, k + 1);
        else if (strcmp(m, "valueIdentifier") == 0)
            lv_str(l, sl_jt_str(t, sl_jt_get(t, k + 1, "value")));
        else if (strcmp(m, "valueReference") == 0)
            lv_display(l, t, k + 1, NULL);
    }
}

void
fhir_learn_object(struct fd_lvals *l, const struct sl_jtape *t, size_t obj,
                  const char *key, int party)
{
    /* an extension's own parts were read with it (lv_ext) */
    int in_ext = key && (strcmp(key, "extension") == 0 ||
                         strcmp(key, "modifierExtension") == 0);
    size_t k, x;

    /* one look at the members: this runs for every object of pass 1 */
    for (k = sl_jt_first(t, obj); k; k = sl_jt_next(t, obj, k)) {
        const char *m = t->n[k].v.s;
        if (m[0] == 'd' && strcmp(m, "display") == 0)
            lv_display(l, t, obj, key);
        else if (m[0] == 'a' && strcmp(m, "authorString") == 0)
            lv_name_words(l, sl_jt_str(t, k + 1)); /* a note's author */
        else if (!in_ext &&
                 ((m[0] == 'e' && strcmp(m, "extension") == 0) ||
                  (m[0] == 'm' && strcmp(m, "modifierExtension") == 0)) &&
                 t->n[k + 1].type == SL_JT_ARRAY)
            for (x = sl_jt_first(t, k + 1); x; x = sl_jt_next(t, k + 1, x))
                lv_ext(l, t, x, party, 0);
    }
}
