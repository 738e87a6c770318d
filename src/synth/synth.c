/* synth.c - a deterministic generator of synthetic patients: one FHIR R4
 * Bundle per patient and the matching DICOM study, written through the
 * DCMTK shim. All PHI is fake but shaped like the real thing (MRNs, SSNs
 * in the never-issued 9xx area, 555-01xx phone numbers, example.com
 * mail), so that de-identification has something realistic to find. */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "dicom/dicom.h"
#include "synth/synth.h"

/* ---- random numbers: xoshiro256** seeded through splitmix64 ----------- */

struct synth_rng {
    uint64_t s[4];
};

static uint64_t
splitmix64(uint64_t *x)
{
    uint64_t z = (*x += 0x9E3779B97F4A7C15ULL);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    return z ^ (z >> 31);
}

static uint64_t
rotl(uint64_t x, int k)
{
    return (x << k) | (x >> (64 - k));
}

/* One independent stream per (seed, patient). */
static void
rng_seed(struct synth_rng *r, uint64_t seed, uint64_t stream)
{
    uint64_t x = seed ^ rotl(stream * 0xD1B54A32D192ED03ULL, 17);
    int i;

    splitmix64(&x);
    for (i = 0; i < 4; i++)
        r->s[i] = splitmix64(&x);
}

static uint64_t
rng_next(struct synth_rng *r)
{
    uint64_t *s = r->s;
    uint64_t result = rotl(s[1] * 5, 7) * 9, t = s[1] << 17;

    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rotl(s[3], 45);
    return result;
}

/* Uniform in [0, n) without modulo bias. */
static uint64_t
rng_below(struct synth_rng *r, uint64_t n)
{
    uint64_t limit, x;

    if (n <= 1)
        return 0;
    limit = UINT64_MAX - UINT64_MAX % n;
    do
        x = rng_next(r);
    while (x >= limit);
    return x % n;
}

static long
rng_range(struct synth_rng *r, long lo, long hi)
{
    return lo + (long)rng_below(r, (uint64_t)(hi - lo + 1));
}

/* Uniform in [0, 1). */
static double
rng_unit(struct synth_rng *r)
{
    return (double)(rng_next(r) >> 11) * (1.0 / 9007199254740992.0);
}

#define PICK(r, arr) (&(arr)[rng_below((r), sizeof(arr) / sizeof((arr)[0]))])

/* ---- identifiers ------------------------------------------------------- */

/* "2.25." and the decimal form of a 128-bit random number (PS3.5 B.2). */
static void
uid_make(struct synth_rng *r, char *buf, size_t len)
{
    uint32_t limb[4];
    char digits[48];
    size_t nd = 0, i;
    uint64_t hi = rng_next(r) | (1ULL << 63), lo = rng_next(r);
    int nonzero = 1;

    limb[0] = (uint32_t)(hi >> 32);
    limb[1] = (uint32_t)hi;
    limb[2] = (uint32_t)(lo >> 32);
    limb[3] = (uint32_t)lo;
    /* Long division by 10 on four 32-bit limbs, most significant first. */
    while (nonzero) {
        uint64_t rem = 0;
        nonzero = 0;
        for (i = 0; i < 4; i++) {
            uint64_t cur = (rem << 32) | limb[i];
            limb[i] = (uint32_t)(cur / 10);
            rem = cur % 10;
            if (limb[i] != 0)
                nonzero = 1;
        }
        digits[nd++] = (char)('0' + rem);
    }
    snprintf(buf, len, "2.25.");
    for (i = 0; i < nd && 5 + i + 1 < len; i++)
        buf[5 + i] = digits[nd - 1 - i];
    buf[5 + i] = '\0';
}

/* A version 4 UUID (lower case), used as resource id. */
static void
uuid_make(struct synth_rng *r, char *buf, size_t len)
{
    uint64_t a = rng_next(r), b = rng_next(r);

    a = (a & 0xFFFFFFFFFFFF0FFFULL) | 0x0000000000004000ULL;
    b = (b & 0x3FFFFFFFFFFFFFFFULL) | 0x8000000000000000ULL;
    snprintf(buf, len, "%08x-%04x-%04x-%04x-%012llx",
             (unsigned)(a >> 32), (unsigned)((a >> 16) & 0xFFFF),
             (unsigned)(a & 0xFFFF), (unsigned)(b >> 48),
             (unsigned long long)(b & 0xFFFFFFFFFFFFULL));
}

/* ---- dates ------------------------------------------------------------- */

struct synth_date {
    int y, m, d;
};

/* Days since 1970-01-01 to a civil date (H. Hinnant's algorithm). */
static struct synth_date
date_from_days(long z)
{
    struct synth_date out;
    long era, doe, yoe, doy, mp;

    z += 719468;
    era = (z >= 0 ? z : z - 146096) / 146097;
    doe = z - era * 146097;
    yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    mp = (5 * doy + 2) / 153;
    out.d = (int)(doy - (153 * mp + 2) / 5 + 1);
    out.m = (int)(mp < 10 ? mp + 3 : mp - 9);
    out.y = (int)(yoe + era * 400 + (out.m <= 2));
    return out;
}

static long
days_from_date(int y, int m, int d)
{
    long era, yoe, doy, doe;

    y -= m <= 2;
    era = (y >= 0 ? y : y - 399) / 400;
    yoe = y - era * 400;
    doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
    doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

/* Whole years between two dates. */
static int
age_at(struct synth_date birth, struct synth_date on)
{
    int age = on.y - birth.y;

    if (on.m < birth.m || (on.m == birth.m && on.d < birth.d))
        age--;
    return age;
}

/* ---- pools of fake data ------------------------------------------------ */

static const char *const given_female[] = {
    "Mary",   "Patricia", "Jennifer", "Linda",  "Elizabeth", "Barbara",
    "Susan",  "Jessica",  "Sarah",    "Karen",  "Nancy",     "Lisa",
    "Margaret", "Sandra", "Ashley",   "Emily",  "Donna",     "Michelle",
    "Carol",  "Amanda",   "Dorothy",  "Melissa", "Deborah",  "Stephanie",
    "Rebecca", "Laura",   "Sharon",   "Cynthia", "Kathleen", "Amy",
    "Maria",  "Olivia",   "Sofia",    "Aaliyah", "Mei",      "Priya",
};
static const char *const given_male[] = {
    "James",  "Robert",   "John",    "Michael", "David",  "William",
    "Richard", "Joseph",  "Thomas",  "Charles", "Daniel", "Matthew",
    "Anthony", "Mark",    "Donald",  "Steven",  "Paul",   "Andrew",
    "Joshua", "Kenneth",  "Kevin",   "Brian",   "George", "Timothy",
    "Ronald", "Edward",   "Jason",   "Jeffrey", "Ryan",   "Jacob",
    "Jose",   "Wei",      "Arjun",   "Mohammed", "Luis",  "Kwame",
};
static const char *const family_names[] = {
    "Smith",     "Johnson",  "Williams", "Brown",    "Jones",    "Garcia",
    "Miller",    "Davis",    "Rodriguez", "Martinez", "Hernandez", "Lopez",
    "Gonzalez",  "Wilson",   "Anderson", "Thomas",   "Taylor",   "Moore",
    "Jackson",   "Martin",   "Lee",      "Perez",    "Thompson", "White",
    "Harris",    "Sanchez",  "Clark",    "Ramirez",  "Lewis",    "Robinson",
    "Walker",    "Young",    "Allen",    "King",     "Wright",   "Scott",
    "Nguyen",    "Hill",     "Flores",   "Green",    "Adams",    "Nelson",
    "Baker",     "Hall",     "Rivera",   "Campbell", "Mitchell", "Carter",
    "O'Brien",   "Van der Berg", "Okafor", "Kowalski", "Chen",   "Patel",
};
static const char *const street_names[] = {
    "Main St",     "Oak Ave",      "Maple St",    "Cedar Ln",
    "Elm St",      "Washington Ave", "Lake Dr",   "Hillcrest Rd",
    "Park Ave",    "Pine St",      "Sunset Blvd", "River Rd",
    "Highland Ave", "Church St",   "Mill Rd",     "Chestnut St",
};
struct synth_city {
    const char *city, *state, *zip, *district;
};
/* A few ZIPs sit in 3-digit areas of fewer than 20,000 people (036, 059,
 * 692, 830, 893), which Safe Harbor requires to become 000. */
static const struct synth_city cities[] = {
    {"Boston", "MA", "02118", "Suffolk"},
    {"Springfield", "IL", "62704", "Sangamon"},
    {"Austin", "TX", "78701", "Travis"},
    {"Seattle", "WA", "98109", "King"},
    {"Denver", "CO", "80203", "Denver"},
    {"Columbus", "OH", "43215", "Franklin"},
    {"Madison", "WI", "53703", "Dane"},
    {"Portland", "OR", "97205", "Multnomah"},
    {"Atlanta", "GA", "30303", "Fulton"},
    {"Phoenix", "AZ", "85004", "Maricopa"},
    {"Nashville", "TN", "37203", "Davidson"},
    {"Walpole", "NH", "03608", "Cheshire"},
    {"Colebrook", "NH", "03576", "Coos"},
    {"Glendive", "MT", "59330", "Dawson"},
    {"Valentine", "NE", "69201", "Cherry"},
    {"Jackson", "WY", "83001", "Teton"},
    {"Ely", "NV", "89301", "White Pine"},
};

struct synth_code {
    const char *code, *display;
};
static const struct synth_code conditions[] = {
    {"38341003", "Hypertensive disorder, systemic arterial (disorder)"},
    {"44054006", "Diabetes mellitus type 2 (disorder)"},
    {"195967001", "Asthma (disorder)"},
    {"13645005", "Chronic obstructive lung disease (disorder)"},
    {"49436004", "Atrial fibrillation (disorder)"},
    {"233604007", "Pneumonia (disorder)"},
    {"84114007", "Heart failure (disorder)"},
    {"55822004", "Hyperlipidemia (disorder)"},
    {"35489007", "Depressive disorder (disorder)"},
    {"396275006", "Osteoarthritis (disorder)"},
    {"254637007", "Non-small cell lung cancer (disorder)"},
};
static const struct synth_code medications[] = {
    {"314076", "lisinopril 10 MG Oral Tablet"},
    {"197361", "amlodipine 5 MG Oral Tablet"},
    {"860975", "24 HR metformin hydrochloride 500 MG Extended Release Oral "
               "Tablet"},
    {"617314", "atorvastatin 10 MG Oral Tablet"},
    {"745679", "200 ACTUAT albuterol 0.09 MG/ACTUAT Metered Dose Inhaler"},
    {"855332", "warfarin sodium 5 MG Oral Tablet"},
    {"310965", "ibuprofen 200 MG Oral Tablet"},
    {"312961", "simvastatin 20 MG Oral Tablet"},
    {"313782", "acetaminophen 325 MG Oral Tablet"},
};

struct synth_test {
    const char *code, *display, *unit, *ucum;
    double lo, hi;
    int decimals;
    int vital; /* category vital-signs, else laboratory */
};
static const struct synth_test loinc_tests[] = {
    {"8867-4", "Heart rate", "beats/minute", "/min", 55, 110, 0, 1},
    {"8480-6", "Systolic blood pressure", "mmHg", "mm[Hg]", 100, 170, 0, 1},
    {"8462-4", "Diastolic blood pressure", "mmHg", "mm[Hg]", 60, 100, 0, 1},
    {"29463-7", "Body weight", "kg", "kg", 45, 120, 1, 1},
    {"8302-2", "Body height", "cm", "cm", 150, 195, 1, 1},
    {"8310-5", "Body temperature", "C", "Cel", 36.1, 38.5, 1, 1},
    {"2339-0", "Glucose [Mass/volume] in Blood", "mg/dL", "mg/dL", 70, 180,
     0, 0},
    {"718-7", "Hemoglobin [Mass/volume] in Blood", "g/dL", "g/dL", 10, 17, 1,
     0},
    {"2160-0", "Creatinine [Mass/volume] in Serum or Plasma", "mg/dL",
     "mg/dL", 0.6, 1.8, 2, 0},
    {"6690-2", "Leukocytes [#/volume] in Blood by Automated count",
     "10*3/uL", "10*3/uL", 4, 12, 1, 0},
    {"4548-4", "Hemoglobin A1c/Hemoglobin.total in Blood", "%", "%", 5, 9, 1,
     0},
};
/* Codes of the hospital's own lab system: what terminology maps are for. */
static const struct synth_test local_tests[] = {
    {"K-SER", "Potassium, serum", "mmol/L", "mmol/L", 3.4, 5.3, 1, 0},
    {"NA-SER", "Sodium, serum", "mmol/L", "mmol/L", 133, 147, 0, 0},
    {"CRP-HS", "C-reactive protein, high sensitivity", "mg/L", "mg/L", 0.2,
     12, 1, 0},
    {"TSH-3G", "TSH, third generation", "mIU/L", "m[IU]/L", 0.3, 5, 2, 0},
    {"LDL-CALC", "LDL cholesterol, calculated", "mg/dL", "mg/dL", 60, 190, 0,
     0},
};

struct synth_procedure {
    const char *modality, *loinc, *display, *body_part, *sop_class;
    const char *series_desc[3];
};
static const struct synth_procedure procedures[] = {
    {"CT", "24627-2", "CT Chest", "CHEST", "1.2.840.10008.5.1.4.1.1.2",
     {"AXIAL 5MM", "CORONAL MPR", "LUNG 1MM"}},
    {"CT", "24725-4", "CT Head", "HEAD", "1.2.840.10008.5.1.4.1.1.2",
     {"AXIAL 5MM BRAIN", "AXIAL BONE", "SAGITTAL MPR"}},
    {"MR", "24590-2", "MR Brain", "BRAIN", "1.2.840.10008.5.1.4.1.1.4",
     {"AX T1", "AX T2 FLAIR", "SAG T1"}},
};
static const char *const institutions[] = {
    "Example General Hospital", "St. Synthia Medical Center",
    "Riverside Imaging Institute", "Lakeview University Hospital",
};
static const char *const conclusions[] = {
    "No acute findings.",
    "Findings consistent with the clinical history; follow-up advised.",
    "Stable appearance compared with the prior examination.",
    "Small nonspecific finding, recommend follow-up imaging in 6 months.",
};

/* ---- one patient --------------------------------------------------------- */

#define SYNTH_ID_LEN 40
#define SYNTH_UID_LEN 65

struct synth_instance {
    char uid[SYNTH_UID_LEN];
};
struct synth_series {
    char uid[SYNTH_UID_LEN];
    const char *desc;
    int ninst;
    struct synth_instance *inst;
};

/* Everything about one patient that FHIR and DICOM must agree on. */
struct synth_patient {
    long index; /* 1-based */
    char patient_id[SYNTH_ID_LEN], encounter_id[SYNTH_ID_LEN];
    char condition_id[SYNTH_ID_LEN], medreq_id[SYNTH_ID_LEN];
    char report_id[SYNTH_ID_LEN], imaging_id[SYNTH_ID_LEN];
    char bundle_id[SYNTH_ID_LEN];
    const char *given, *middle, *family;
    const char *gender; /* FHIR: male, female, other */
    char sex[2];        /* DICOM: M, F, O */
    struct synth_date birth;
    int age_at_study;
    int over_89;
    char mrn[16], ssn[16], phone[24], email[96];
    char street[64];
    const struct synth_city *city;
    const char *institution;
    const char *ref_given, *ref_family; /* the referring physician */
    /* the encounter and the study, same day */
    struct synth_date visit;
    int hh, mm, ss;
    char accession[16];
    const struct synth_procedure *proc;
    char study_uid[SYNTH_UID_LEN], frame_uid[SYNTH_UID_LEN];
    int nseries;
    struct synth_series *series;
    uint64_t pixel_seed;
};

static void
patient_free(struct synth_patient *p)
{
    int i;

    if (p == NULL)
        return;
    for (i = 0; i < p->nseries; i++)
        free(p->series[i].inst);
    free(p->series);
    /* Fake, but treated like the real thing it stands for. */
    explicit_bzero(p, sizeof(*p));
}

static void
patient_make(struct synth_patient *p, struct synth_rng *r, long index,
             const struct sl_synth_opts *opts)
{
    long ref_days, birth_days, first, last, visit_days;
    long age_years;
    int i, j, g;

    memset(p, 0, sizeof(*p));
    p->index = index;
    uuid_make(r, p->bundle_id, sizeof(p->bundle_id));
    uuid_make(r, p->patient_id, sizeof(p->patient_id));
    uuid_make(r, p->encounter_id, sizeof(p->encounter_id));
    uuid_make(r, p->condition_id, sizeof(p->condition_id));
    uuid_make(r, p->medreq_id, sizeof(p->medreq_id));
    uuid_make(r, p->report_id, sizeof(p->report_id));
    uuid_make(r, p->imaging_id, sizeof(p->imaging_id));

    g = (int)rng_below(r, 100);
    if (g < 49) {
        p->gender = "female";
        p->sex[0] = 'F';
        p->given = *PICK(r, given_female);
        p->middle = rng_below(r, 2) ? *PICK(r, given_female) : NULL;
    } else if (g < 98) {
        p->gender = "male";
        p->sex[0] = 'M';
        p->given = *PICK(r, given_male);
        p->middle = rng_below(r, 2) ? *PICK(r, given_male) : NULL;
    } else {
        p->gender = "other";
        p->sex[0] = 'O';
        p->given = rng_below(r, 2) ? *PICK(r, given_female)
                                   : *PICK(r, given_male);
        p->middle = NULL;
    }
    p->family = *PICK(r, family_names);

    /* Ages on the reference date: about 5% over 89 (Safe Harbor folds
     * them into one group), some children, mostly adults. */
    ref_days = days_from_date(2025, 1, 1);
    g = (int)rng_below(r, 100);
    if (g < 5)
        age_years = rng_range(r, 90, 104);
    else if (g < 15)
        age_years = rng_range(r, 0, 17);
    else
        age_years = rng_range(r, 18, 89);
    birth_days = ref_days - age_years * 36525 / 100 - rng_range(r, 1, 360);
    p->birth = date_from_days(birth_days);
    p->over_89 = age_at(p->birth, date_from_days(ref_days)) > 89;

    snprintf(p->mrn, sizeof(p->mrn), "%08lu",
             (unsigned long)rng_range(r, 10000000, 99999999));
    /* Area 900-999 is never issued: shaped like an SSN, never a real one. */
    snprintf(p->ssn, sizeof(p->ssn), "%03ld-%02ld-%04ld",
             rng_range(r, 900, 999), rng_range(r, 1, 99),
             rng_range(r, 1, 9999));
    p->city = PICK(r, cities);
    snprintf(p->phone, sizeof(p->phone), "(%03ld) 555-01%02ld",
             rng_range(r, 201, 989), rng_range(r, 0, 99));
    snprintf(p->email, sizeof(p->email), "%c%s%02ld@example.com",
             p->given[0] | 0x20, p->family, rng_range(r, 1, 99));
    for (i = 0; p->email[i] != '\0'; i++) {
        char c = p->email[i];
        if (c >= 'A' && c <= 'Z')
            p->email[i] = (char)(c | 0x20);
        else if (c == ' ' || c == '\'')
            p->email[i] = '.';
    }
    snprintf(p->street, sizeof(p->street), "%ld %s", rng_range(r, 1, 9899),
             *PICK(r, street_names));
    p->institution = *PICK(r, institutions);
    p->ref_given = rng_below(r, 2) ? *PICK(r, given_female)
                                   : *PICK(r, given_male);
    p->ref_family = *PICK(r, family_names);

    /* The visit: 2019-2024, never before birth. */
    first = days_from_date(2019, 1, 1);
    last = days_from_date(2024, 12, 31);
    if (first <= birth_days)
        first = birth_days + 1;
    visit_days = rng_range(r, first, last);
    p->visit = date_from_days(visit_days);
    p->age_at_study = age_at(p->birth, p->visit);
    p->hh = (int)rng_range(r, 7, 18);
    p->mm = (int)rng_range(r, 0, 59);
    p->ss = (int)rng_range(r, 0, 59);
    snprintf(p->accession, sizeof(p->accession), "ACC%08lu",
             (unsigned long)rng_range(r, 0, 99999999));
    p->proc = PICK(r, procedures);

    uid_make(r, p->study_uid, sizeof(p->study_uid));
    uid_make(r, p->frame_uid, sizeof(p->frame_uid));
    p->nseries = opts->series;
    p->series = sl_calloc((size_t)p->nseries, sizeof(*p->series));
    for (i = 0; i < p->nseries; i++) {
        struct synth_series *s = &p->series[i];
        uid_make(r, s->uid, sizeof(s->uid));
        s->desc = p->proc->series_desc[i % 3];
        s->ninst = opts->instances > 0 ? opts->instances
                                       : (int)rng_range(r, 2, 3);
        s->inst = sl_calloc((size_t)s->ninst, sizeof(*s->inst));
        for (j = 0; j < s->ninst; j++)
            uid_make(r, s->inst[j].uid, sizeof(s->inst[j].uid));
    }
    p->pixel_seed = rng_next(r);
}

/* ---- FHIR -------------------------------------------------------------- */

/* json_pack fails only on a bug (NULL string, bad format): stop loudly. */
static json_t *
must(json_t *j)
{
    if (j == NULL) {
        fputs("sluice: internal error building synthetic JSON\n", stderr);
        abort();
    }
    return j;
}

static void
fmt_date(char *buf, size_t len, struct synth_date d)
{
    snprintf(buf, len, "%04d-%02d-%02d", d.y, d.m, d.d);
}

/* A local date-time with the hospital's offset. */
static void
fmt_datetime(char *buf, size_t len, struct synth_date d, int hh, int mm,
             int ss)
{
    snprintf(buf, len, "%04d-%02d-%02dT%02d:%02d:%02d-05:00", d.y, d.m,
             d.d, hh, mm, ss);
}

/* The same moment plus minutes, as a UTC instant. */
static void
fmt_instant(char *buf, size_t len, struct synth_date d, int hh, int mm,
            int ss, int plus_minutes)
{
    long days = days_from_date(d.y, d.m, d.d);
    long sec = ((long)hh + 5) * 3600 + (long)mm * 60 + ss +
               (long)plus_minutes * 60;
    struct synth_date u;

    days += sec / 86400;
    sec %= 86400;
    u = date_from_days(days);
    snprintf(buf, len, "%04d-%02d-%02dT%02ld:%02ld:%02ldZ", u.y, u.m, u.d,
             sec / 3600, sec / 60 % 60, sec % 60);
}

static json_t *
ref(const char *type, const char *id)
{
    char buf[96];

    snprintf(buf, sizeof(buf), "%s/%s", type, id);
    return must(json_pack("{s:s}", "reference", buf));
}

static json_t *
coding1(const char *system, const char *code, const char *display)
{
    return must(json_pack("{s:[{s:s, s:s, s:s}]}", "coding", "system",
                          system, "code", code, "display", display));
}

static json_t *
coding1_text(const char *system, const char *code, const char *display)
{
    json_t *c = coding1(system, code, display);
    json_object_set_new(c, "text", json_string(display));
    return c;
}

static void
bundle_add(json_t *entries, const char *type, const char *id, json_t *res)
{
    char url[128];

    snprintf(url, sizeof(url), "https://ehr.example.org/fhir/%s/%s", type,
             id);
    /* json_pack "o" steals res */
    json_array_append_new(entries, must(json_pack("{s:s, s:o}", "fullUrl",
                                                  url, "resource", res)));
}

static json_t *
fhir_patient(const struct synth_patient *p)
{
    char birth[16];
    json_t *given, *res;

    fmt_date(birth, sizeof(birth), p->birth);
    given = must(json_pack("[s]", p->given));
    if (p->middle)
        json_array_append_new(given, json_string(p->middle));
    res = must(json_pack(
        "{s:s, s:s, s:[{s:s, s:o, s:s, s:s}, {s:s, s:o, s:s, s:s}],"
        " s:b, s:[{s:s, s:s, s:o}],"
        " s:[{s:s, s:s, s:s}, {s:s, s:s}], s:s, s:s,"
        " s:[{s:s, s:s, s:[s], s:s, s:s, s:s, s:s, s:s}]}",
        "resourceType", "Patient", "id", p->patient_id, "identifier",
        "use", "usual", "type",
        coding1_text("http://terminology.hl7.org/CodeSystem/v2-0203", "MR",
                     "Medical Record Number"),
        "system", SL_SYNTH_MRN_SYSTEM, "value", p->mrn,
        "use", "official", "type",
        coding1_text("http://terminology.hl7.org/CodeSystem/v2-0203", "SS",
                     "Social Security number"),
        "system", SL_SYNTH_SSN_SYSTEM, "value", p->ssn,
        "active", 1,
        "name", "use", "official", "family", p->family, "given", given,
        "telecom", "system", "phone", "value", p->phone, "use", "home",
        "system", "email", "value", p->email,
        "gender", p->gender, "birthDate", birth,
        "address", "use", "home", "type", "physical", "line", p->street,
        "city", p->city->city, "district", p->city->district, "state",
        p->city->state, "postalCode", p->city->zip, "country", "US"));
    return res;
}

static json_t *
fhir_encounter(const struct synth_patient *p)
{
    char start[40], end[40], doctor[96];
    static const char *const cls[][2] = {
        {"AMB", "ambulatory"}, {"IMP", "inpatient encounter"},
        {"EMER", "emergency"}};
    int c = (int)(p->index % 3);

    fmt_datetime(start, sizeof(start), p->visit, p->hh, p->mm, p->ss);
    fmt_datetime(end, sizeof(end), p->visit, p->hh + 1, p->mm, p->ss);
    snprintf(doctor, sizeof(doctor), "Dr. %s %s", p->ref_given,
             p->ref_family);
    return must(json_pack(
        "{s:s, s:s, s:s, s:{s:s, s:s, s:s}, s:o, s:{s:s, s:s},"
        " s:[{s:{s:s}}], s:{s:s}}",
        "resourceType", "Encounter", "id", p->encounter_id, "status",
        "finished", "class", "system",
        "http://terminology.hl7.org/CodeSystem/v3-ActCode", "code",
        cls[c][0], "display", cls[c][1], "subject",
        ref("Patient", p->patient_id), "period", "start", start, "end", end,
        "participant", "individual", "display", doctor,
        "serviceProvider", "display", p->institution));
}

static json_t *
fhir_condition(const struct synth_patient *p, struct synth_rng *r)
{
    const struct synth_code *c = PICK(r, conditions);
    char onset[16], recorded[40];
    struct synth_date d = date_from_days(
        days_from_date(p->visit.y, p->visit.m, p->visit.d) -
        rng_range(r, 0, 700));
    struct synth_date birth1 = date_from_days(
        days_from_date(p->birth.y, p->birth.m, p->birth.d) + 1);

    if (days_from_date(d.y, d.m, d.d) <=
        days_from_date(p->birth.y, p->birth.m, p->birth.d))
        d = birth1;
    fmt_date(onset, sizeof(onset), d);
    fmt_datetime(recorded, sizeof(recorded), p->visit, p->hh, p->mm, p->ss);
    return must(json_pack(
        "{s:s, s:s, s:o, s:o, s:[o], s:o, s:o, s:o, s:s, s:s}",
        "resourceType", "Condition", "id", p->condition_id, "clinicalStatus",
        coding1("http://terminology.hl7.org/CodeSystem/condition-clinical",
                "active", "Active"),
        "verificationStatus",
        coding1("http://terminology.hl7.org/CodeSystem/"
                "condition-ver-status",
                "confirmed", "Confirmed"),
        "category",
        coding1("http://terminology.hl7.org/CodeSystem/condition-category",
                "encounter-diagnosis", "Encounter Diagnosis"),
        "code", coding1_text("http://snomed.info/sct", c->code, c->display),
        "subject", ref("Patient", p->patient_id), "encounter",
        ref("Encounter", p->encounter_id), "onsetDateTime", onset,
        "recordedDate", recorded));
}

static json_t *
fhir_observation(const struct synth_patient *p, struct synth_rng *r,
                 const struct synth_test *t, const char *system, int k)
{
    char id[SYNTH_ID_LEN], eff[40], issued[40];
    double v = t->lo + (t->hi - t->lo) * rng_unit(r), scale = 1;
    int i, minutes = 10 + k * 7;

    for (i = 0; i < t->decimals; i++)
        scale *= 10;
    v = (double)(long)(v * scale + 0.5) / scale;
    uuid_make(r, id, sizeof(id));
    fmt_datetime(eff, sizeof(eff), p->visit, p->hh, p->mm, p->ss);
    fmt_instant(issued, sizeof(issued), p->visit, p->hh, p->mm, p->ss,
                minutes + (int)rng_range(r, 30, 240));
    return must(json_pack(
        "{s:s, s:s, s:s, s:[o], s:o, s:o, s:o, s:s, s:s,"
        " s:{s:f, s:s, s:s, s:s}}",
        "resourceType", "Observation", "id", id, "status", "final",
        "category",
        coding1("http://terminology.hl7.org/CodeSystem/observation-category",
                t->vital ? "vital-signs" : "laboratory",
                t->vital ? "Vital Signs" : "Laboratory"),
        "code", coding1_text(system, t->code, t->display), "subject",
        ref("Patient", p->patient_id), "encounter",
        ref("Encounter", p->encounter_id), "effectiveDateTime", eff,
        "issued", issued, "valueQuantity", "value", v, "unit", t->unit,
        "system", "http://unitsofmeasure.org", "code", t->ucum));
}

static json_t *
fhir_medreq(const struct synth_patient *p, struct synth_rng *r)
{
    const struct synth_code *m = PICK(r, medications);
    char authored[40], requester[96];
    static const char *const sig[] = {
        "Take 1 tablet by mouth once daily",
        "Take 1 tablet by mouth twice daily with meals",
        "Take as needed, no more than 4 times a day",
    };

    fmt_datetime(authored, sizeof(authored), p->visit, p->hh + 1, p->mm,
                 p->ss);
    snprintf(requester, sizeof(requester), "Dr. %s %s", p->ref_given,
             p->ref_family);
    return must(json_pack(
        "{s:s, s:s, s:s, s:s, s:o, s:o, s:o, s:s, s:{s:s}, s:[{s:s}]}",
        "resourceType", "MedicationRequest", "id", p->medreq_id, "status",
        "active", "intent", "order", "medicationCodeableConcept",
        coding1_text("http://www.nlm.nih.gov/research/umls/rxnorm", m->code,
                     m->display),
        "subject", ref("Patient", p->patient_id), "encounter",
        ref("Encounter", p->encounter_id), "authoredOn", authored,
        "requester", "display", requester, "dosageInstruction", "text",
        *PICK(r, sig)));
}

static json_t *
fhir_report(const struct synth_patient *p, struct synth_rng *r)
{
    char eff[40], issued[40], conclusion[512];

    fmt_datetime(eff, sizeof(eff), p->visit, p->hh, p->mm, p->ss);
    fmt_instant(issued, sizeof(issued), p->visit, p->hh, p->mm, p->ss,
                (int)rng_range(r, 60, 600));
    /* Free text that names the patient, as dictated reports do: the
     * de-identifier must scrub it. */
    snprintf(conclusion, sizeof(conclusion), "%s for %s %s (MRN %s): %s",
             p->proc->display, p->given, p->family, p->mrn,
             *PICK(r, conclusions));
    return must(json_pack(
        "{s:s, s:s, s:s, s:[o], s:o, s:o, s:o, s:s, s:s, s:[{s:s, s:s}],"
        " s:[o], s:s}",
        "resourceType", "DiagnosticReport", "id", p->report_id, "status",
        "final", "category",
        coding1("http://loinc.org", "LP29684-5", "Radiology"), "code",
        coding1_text("http://loinc.org", p->proc->loinc, p->proc->display),
        "subject", ref("Patient", p->patient_id), "encounter",
        ref("Encounter", p->encounter_id), "effectiveDateTime", eff,
        "issued", issued, "performer", "display", p->institution,
        "reference", "Organization/example-radiology", "imagingStudy",
        ref("ImagingStudy", p->imaging_id), "conclusion", conclusion));
}

static json_t *
fhir_imaging(const struct synth_patient *p, uint64_t *ninst)
{
    char started[40], study[80], referrer[96], sop_class[80];
    json_t *series = json_array(), *res;
    int i, j;

    *ninst = 0;
    snprintf(sop_class, sizeof(sop_class), "urn:oid:%s", p->proc->sop_class);
    for (i = 0; i < p->nseries; i++) {
        const struct synth_series *s = &p->series[i];
        json_t *inst = json_array();
        for (j = 0; j < s->ninst; j++)
            json_array_append_new(
                inst, must(json_pack("{s:s, s:{s:s, s:s}, s:i}", "uid",
                                     s->inst[j].uid, "sopClass", "system",
                                     "urn:ietf:rfc:3986", "code", sop_class,
                                     "number", j + 1)));
        json_array_append_new(
            series, must(json_pack(
                        "{s:s, s:i, s:{s:s, s:s}, s:s, s:i, s:{s:s, s:s, s:s},"
                        " s:o}",
                        "uid", s->uid, "number", i + 1, "modality", "system",
                        "http://dicom.nema.org/resources/ontology/DCM",
                        "code", p->proc->modality, "description", s->desc,
                        "numberOfInstances", s->ninst, "bodySite", "system",
                        "http://snomed.info/sct", "code",
                        strcmp(p->proc->body_part, "CHEST") == 0 ? "51185008"
                                                                 : "69536005",
                        "display",
                        strcmp(p->proc->body_part, "CHEST") == 0 ? "Thorax"
                                                                 : "Head",
                        "instance", inst)));
        *ninst += (uint64_t)s->ninst;
    }
    fmt_datetime(started, sizeof(started), p->visit, p->hh, p->mm, p->ss);
    snprintf(study, sizeof(study), "urn:oid:%s", p->study_uid);
    snprintf(referrer, sizeof(referrer), "Dr. %s %s", p->ref_given,
             p->ref_family);
    res = must(json_pack(
        "{s:s, s:s, s:[{s:s, s:s}, {s:o, s:s, s:s}], s:s, s:[{s:s, s:s}],"
        " s:o, s:o, s:s, s:{s:s}, s:i, s:i, s:[o], s:s, s:o}",
        "resourceType", "ImagingStudy", "id", p->imaging_id, "identifier",
        "system", "urn:dicom:uid", "value", study, "type",
        coding1("http://terminology.hl7.org/CodeSystem/v2-0203", "ACSN",
                "Accession ID"),
        "system", "http://hospital.example.org/accession", "value",
        p->accession, "status", "available", "modality", "system",
        "http://dicom.nema.org/resources/ontology/DCM", "code",
        p->proc->modality, "subject", ref("Patient", p->patient_id),
        "encounter", ref("Encounter", p->encounter_id), "started", started,
        "referrer", "display", referrer, "numberOfSeries", p->nseries,
        "numberOfInstances", (int)*ninst, "procedureCode",
        coding1_text("http://loinc.org", p->proc->loinc, p->proc->display),
        "description", p->proc->display, "series", series));
    return res;
}

/* Builds the bundle of one patient; *nres gets the number of resources. */
static json_t *
fhir_bundle(const struct synth_patient *p, struct synth_rng *r,
            uint64_t *nres)
{
    json_t *entries = json_array(), *bundle;
    uint64_t ninst;
    int nobs, k;

    bundle_add(entries, "Patient", p->patient_id, fhir_patient(p));
    bundle_add(entries, "Encounter", p->encounter_id, fhir_encounter(p));
    bundle_add(entries, "Condition", p->condition_id, fhir_condition(p, r));
    /* 2-4 standard observations and 1-2 with local lab codes */
    nobs = (int)rng_range(r, 2, 4);
    for (k = 0; k < nobs + (int)rng_range(r, 1, 2); k++) {
        const struct synth_test *t;
        const char *system;
        json_t *obs;
        if (k < nobs) {
            t = PICK(r, loinc_tests);
            system = "http://loinc.org";
        } else {
            t = PICK(r, local_tests);
            system = SL_SYNTH_LAB_SYSTEM;
        }
        obs = fhir_observation(p, r, t, system, k);
        bundle_add(entries, "Observation",
                   json_string_value(json_object_get(obs, "id")), obs);
    }
    bundle_add(entries, "MedicationRequest", p->medreq_id,
               fhir_medreq(p, r));
    bundle_add(entries, "DiagnosticReport", p->report_id, fhir_report(p, r));
    bundle_add(entries, "ImagingStudy", p->imaging_id,
               fhir_imaging(p, &ninst));
    *nres = json_array_size(entries);
    /* json_pack "o" steals entries */
    bundle = must(json_pack("{s:s, s:s, s:s, s:o}", "resourceType", "Bundle",
                            "id", p->bundle_id, "type", "collection", "entry",
                            entries));
    return bundle;
}

/* ---- DICOM --------------------------------------------------------------- */

struct synth_attr {
    uint16_t g, e;
    const char *v;
};

/* A 64x64 12-bit image: a gradient, a bright disc that moves with the
 * instance number, and noise, so every instance differs. */
static void
pixels_make(uint16_t *px, int rows, int cols, uint64_t seed, int n)
{
    struct synth_rng r;
    int y, x;
    int cy = rows / 2, cx = cols / 4 + (n * 7) % (cols / 2);

    rng_seed(&r, seed, (uint64_t)n);
    for (y = 0; y < rows; y++)
        for (x = 0; x < cols; x++) {
            long v = 200 + (long)(x + y) * 1200 / (rows + cols);
            int dy = y - cy, dx = x - cx;
            if (dx * dx + dy * dy < (rows / 6) * (rows / 6))
                v += 1800;
            v += (long)rng_below(&r, 120);
            px[y * cols + x] = (uint16_t)(v > 4095 ? 4095 : v);
        }
}

static int
dicom_instance_write(const struct synth_patient *p, int si, int ii,
                     const char *path, struct sl_err *err)
{
    enum { ROWS = 64, COLS = 64 };
    const struct synth_series *s = &p->series[si];
    struct sl_dicom_builder *b = sl_dicom_builder_new();
    char pname[128], refname[128], birth[16], date[16], time[16], age[16];
    char seriesno[16], instno[16], pos[64], loc[16];
    char issuer[64];
    uint16_t *px = NULL;
    int ct = strcmp(p->proc->modality, "CT") == 0;
    size_t i;
    int rc;

    snprintf(pname, sizeof(pname), "%s^%s%s%s", p->family, p->given,
             p->middle ? "^" : "", p->middle ? p->middle : "");
    snprintf(refname, sizeof(refname), "%s^%s", p->ref_family, p->ref_given);
    snprintf(birth, sizeof(birth), "%04d%02d%02d", p->birth.y, p->birth.m,
             p->birth.d);
    snprintf(date, sizeof(date), "%04d%02d%02d", p->visit.y, p->visit.m,
             p->visit.d);
    snprintf(time, sizeof(time), "%02d%02d%02d", p->hh, p->mm, p->ss);
    snprintf(age, sizeof(age), "%03dY", p->age_at_study);
    snprintf(seriesno, sizeof(seriesno), "%d", si + 1);
    snprintf(instno, sizeof(instno), "%d", ii + 1);
    snprintf(pos, sizeof(pos), "-160\\-160\\%d", -ii * 5);
    snprintf(loc, sizeof(loc), "%d", -ii * 5);
    /* the MRN system's OID, without "urn:oid:" */
    snprintf(issuer, sizeof(issuer), "%s",
             SL_SYNTH_MRN_SYSTEM + strlen("urn:oid:"));
    {
        const struct synth_attr attrs[] = {
            {0x0008, 0x0005, "ISO_IR 100"},
            {0x0008, 0x0008, "ORIGINAL\\PRIMARY\\AXIAL"},
            {0x0008, 0x0012, date},
            {0x0008, 0x0013, time},
            {0x0008, 0x0016, p->proc->sop_class},
            {0x0008, 0x0018, s->inst[ii].uid},
            {0x0008, 0x0020, date},
            {0x0008, 0x0021, date},
            {0x0008, 0x0023, date},
            {0x0008, 0x0030, time},
            {0x0008, 0x0031, time},
            {0x0008, 0x0033, time},
            {0x0008, 0x0050, p->accession},
            {0x0008, 0x0060, p->proc->modality},
            {0x0008, 0x0070, "SLUICE Synthetic Imaging"},
            {0x0008, 0x0080, p->institution},
            {0x0008, 0x0090, refname},
            {0x0008, 0x1030, p->proc->display},
            {0x0008, 0x103E, s->desc},
            {0x0010, 0x0010, pname},
            {0x0010, 0x0020, p->mrn},
            {0x0010, 0x0021, issuer},
            {0x0010, 0x0030, birth},
            {0x0010, 0x0040, p->sex},
            {0x0010, 0x1010, age},
            {0x0018, 0x0015, p->proc->body_part},
            {0x0018, 0x0050, "5"},
            {0x0020, 0x000D, p->study_uid},
            {0x0020, 0x000E, s->uid},
            {0x0020, 0x0010, p->accession + 3},
            {0x0020, 0x0011, seriesno},
            {0x0020, 0x0013, instno},
            {0x0020, 0x0032, pos},
            {0x0020, 0x0037, "1\\0\\0\\0\\1\\0"},
            {0x0020, 0x0052, p->frame_uid},
            {0x0020, 0x1041, loc},
            {0x0028, 0x0004, "MONOCHROME2"},
            {0x0028, 0x0030, "0.7\\0.7"},
        };
        for (i = 0; i < sizeof(attrs) / sizeof(attrs[0]); i++)
            if ((rc = sl_dicom_builder_set_string(b, attrs[i].g, attrs[i].e,
                                                  attrs[i].v, err)) != SL_OK)
                goto out;
    }
    if (ct) {
        if ((rc = sl_dicom_builder_set_string(b, 0x0018, 0x0060, "120",
                                              err)) != SL_OK ||
            (rc = sl_dicom_builder_set_string(b, 0x0028, 0x1052, "-1024",
                                              err)) != SL_OK ||
            (rc = sl_dicom_builder_set_string(b, 0x0028, 0x1053, "1",
                                              err)) != SL_OK)
            goto out;
    } else if ((rc = sl_dicom_builder_set_string(b, 0x0018, 0x0087, "1.5",
                                                 err)) != SL_OK) {
        goto out;
    }
    {
        const struct {
            uint16_t e, v;
        } us[] = {{0x0002, 1},  {0x0010, ROWS}, {0x0011, COLS},
                  {0x0100, 16}, {0x0101, 12},   {0x0102, 11},
                  {0x0103, 0}};
        for (i = 0; i < sizeof(us) / sizeof(us[0]); i++)
            if ((rc = sl_dicom_builder_set_u16(b, 0x0028, us[i].e, us[i].v,
                                               err)) != SL_OK)
                goto out;
    }
    /* The requested procedure as a code sequence. */
    if ((rc = sl_dicom_builder_seq_add_item(b, 0x0008, 0x1032, err)) !=
            SL_OK ||
        (rc = sl_dicom_builder_seq_set_string(b, 0x0008, 0x1032, 0x0008,
                                              0x0100, p->proc->loinc, err)) !=
            SL_OK ||
        (rc = sl_dicom_builder_seq_set_string(b, 0x0008, 0x1032, 0x0008,
                                              0x0102, "LN", err)) != SL_OK ||
        (rc = sl_dicom_builder_seq_set_string(b, 0x0008, 0x1032, 0x0008,
                                              0x0104, p->proc->display,
                                              err)) != SL_OK)
        goto out;
    /* Private elements, one of which hides an identifier, as vendors'
     * private groups often do. */
    if ((rc = sl_dicom_builder_set_private(b, 0x0011,
                                           SL_SYNTH_PRIVATE_CREATOR, 0x01,
                                           "LO", "synthetic test data",
                                           err)) != SL_OK ||
        (rc = sl_dicom_builder_set_private(b, 0x0011,
                                           SL_SYNTH_PRIVATE_CREATOR, 0x02,
                                           "LO", p->mrn, err)) != SL_OK)
        goto out;
    px = sl_malloc(sizeof(*px) * ROWS * COLS);
    pixels_make(px, ROWS, COLS, p->pixel_seed + (uint64_t)si * 1000,
                ii + 1);
    if ((rc = sl_dicom_builder_set_pixels16(b, px, ROWS * COLS, err)) !=
        SL_OK)
        goto out;
    rc = sl_dicom_builder_save(b, path, err);
out:
    free(px);
    sl_dicom_builder_free(b);
    return rc;
}

static int
dicom_study_write(const char *dicom_dir, const struct synth_patient *p,
                  struct sl_err *err)
{
    char name[32];
    char *study_dir, *series_dir = NULL, *path = NULL;
    int rc = SL_OK, si, ii;

    snprintf(name, sizeof(name), "%06ld", p->index);
    study_dir = sl_path_join(dicom_dir, name);
    for (si = 0; si < p->nseries; si++) {
        snprintf(name, sizeof(name), "%d", si + 1);
        free(series_dir);
        series_dir = sl_path_join(study_dir, name);
        if ((rc = sl_mkdir_p(series_dir, err)) != SL_OK)
            goto out;
        for (ii = 0; ii < p->series[si].ninst; ii++) {
            snprintf(name, sizeof(name), "%d.dcm", ii + 1);
            free(path);
            path = sl_path_join(series_dir, name);
            if ((rc = dicom_instance_write(p, si, ii, path, err)) != SL_OK) {
                sl_err_prefix(err, "patient %ld series %d instance %d: ",
                              p->index, si + 1, ii + 1);
                goto out;
            }
        }
    }
out:
    free(path);
    free(series_dir);
    free(study_dir);
    return rc;
}

/* ---- the run ------------------------------------------------------------- */

static int
bundle_write(const char *fhir_dir, long index, json_t *bundle,
             struct sl_err *err)
{
    char name[32];
    char *path;
    FILE *f;
    int rc = SL_OK;

    snprintf(name, sizeof(name), "bundle-%06ld.json", index);
    path = sl_path_join(fhir_dir, name);
    f = fopen(path, "w");
    if (f == NULL) {
        rc = SL_ERR(err, SL_EIO, "%s: cannot create: %s", name,
                    strerror(errno));
        goto out;
    }
    if (json_dumpf(bundle, f, JSON_INDENT(2) | JSON_REAL_PRECISION(10)) !=
            0 ||
        fputc('\n', f) == EOF) {
        fclose(f);
        rc = SL_ERR(err, SL_EIO, "%s: write failed", name);
        goto out;
    }
    if (fclose(f) != 0)
        rc = SL_ERR(err, SL_EIO, "%s: write failed: %s", name,
                    strerror(errno));
out:
    free(path);
    return rc;
}

void
sl_synth_opts_init(struct sl_synth_opts *opts)
{
    memset(opts, 0, sizeof(*opts));
    opts->seed = 1;
    opts->patients = 1;
    opts->series = 2;
    opts->instances = 0;
    opts->write_dicom = 1;
}

int
sl_synth_run(const char *dir, const struct sl_synth_opts *opts,
             struct sl_synth_stats *stats, struct sl_err *err)
{
    struct sl_synth_stats st;
    struct synth_patient p;
    char *fhir_dir, *dicom_dir;
    char msg[256];
    long i;
    int rc;

    memset(&st, 0, sizeof(st));
    memset(&p, 0, sizeof(p));
    fhir_dir = sl_path_join(dir, "fhir");
    dicom_dir = sl_path_join(dir, "dicom");
    if (opts->patients < 1 || opts->patients > SL_SYNTH_MAX_PATIENTS ||
        opts->series < 1 || opts->series > 16 || opts->instances < 0 ||
        opts->instances > 64) {
        rc = SL_ERR(err, SL_EUSAGE, "synth: option out of range");
        goto out;
    }
    if ((rc = sl_mkdir_p(fhir_dir, err)) != SL_OK)
        goto out;
    if (opts->write_dicom) {
        if (sl_dicom_init(msg, sizeof(msg)) != 0) {
            rc = SL_ERR(err, SL_EDICOM, "%s", msg);
            goto out;
        }
        if ((rc = sl_mkdir_p(dicom_dir, err)) != SL_OK)
            goto out;
    }
    for (i = 1; i <= opts->patients; i++) {
        struct synth_rng r;
        uint64_t nres = 0;
        json_t *bundle;

        rng_seed(&r, opts->seed, (uint64_t)i);
        patient_make(&p, &r, i, opts);
        bundle = fhir_bundle(&p, &r, &nres);
        rc = bundle_write(fhir_dir, i, bundle, err);
        json_decref(bundle);
        if (rc != SL_OK)
            goto out;
        st.patients++;
        st.resources += nres;
        st.over_89 += (uint64_t)p.over_89;
        if (opts->write_dicom) {
            int s;
            if ((rc = dicom_study_write(dicom_dir, &p, err)) != SL_OK)
                goto out;
            st.studies++;
            st.series += (uint64_t)p.nseries;
            for (s = 0; s < p.nseries; s++)
                st.instances += (uint64_t)p.series[s].ninst;
        }
        patient_free(&p);
        if (!opts->quiet && i % 10000 == 0 && i < opts->patients)
            sl_log(SL_LOG_INFO, "synth: %ld of %ld patients written", i,
                   opts->patients);
    }
    rc = SL_OK;
out:
    patient_free(&p);
    if (stats)
        *stats = st;
    free(fhir_dir);
    free(dicom_dir);
    return rc;
}
