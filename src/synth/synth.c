/* synth.c - a deterministic generator of synthetic patients: one FHIR R4
 * Bundle per patient and the matching DICOM study, written through the
 * DCMTK shim. All PHI is fake but shaped like the real thing (MRNs, SSNs
 * in the never-issued 9xx area, 555-01xx phone numbers, example.com
 * mail), so that de-identification has something realistic to find.
 * This file holds the random streams, the pools of names and places, the
 * patient and the run; synth_fhir.c writes the bundle, synth_dicom.c the
 * study. */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "dicom/dicom.h"
#include "synth/synth_int.h"

/* ---- random numbers: xoshiro256** seeded through splitmix64 ----------- */

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
void
synth_rng_seed(struct synth_rng *r, uint64_t seed, uint64_t stream)
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
uint64_t
synth_rng_below(struct synth_rng *r, uint64_t n)
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

long
synth_rng_range(struct synth_rng *r, long lo, long hi)
{
    return lo + (long)synth_rng_below(r, (uint64_t)(hi - lo + 1));
}

/* Uniform in [0, 1). */
double
synth_rng_unit(struct synth_rng *r)
{
    return (double)(rng_next(r) >> 11) * (1.0 / 9007199254740992.0);
}

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
void
synth_uuid_make(struct synth_rng *r, char *buf, size_t len)
{
    uint64_t a = rng_next(r), b = rng_next(r);

    a = (a & 0xFFFFFFFFFFFF0FFFULL) | 0x0000000000004000ULL;
    b = (b & 0x3FFFFFFFFFFFFFFFULL) | 0x8000000000000000ULL;
    snprintf(buf, len, "%08x-%04x-%04x-%04x-%012llx", (unsigned)(a >> 32),
             (unsigned)((a >> 16) & 0xFFFF), (unsigned)(a & 0xFFFF),
             (unsigned)(b >> 48), (unsigned long long)(b & 0xFFFFFFFFFFFFULL));
}

/* ---- dates ------------------------------------------------------------- */

/* Days since 1970-01-01 to a civil date (H. Hinnant's algorithm). */
struct synth_date
synth_date_from_days(long z)
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

long
synth_days_from_date(int y, int m, int d)
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
    "Mary",     "Patricia", "Jennifer", "Linda",   "Elizabeth", "Barbara",
    "Susan",    "Jessica",  "Sarah",    "Karen",   "Nancy",     "Lisa",
    "Margaret", "Sandra",   "Ashley",   "Emily",   "Donna",     "Michelle",
    "Carol",    "Amanda",   "Dorothy",  "Melissa", "Deborah",   "Stephanie",
    "Rebecca",  "Laura",    "Sharon",   "Cynthia", "Kathleen",  "Amy",
    "Maria",    "Olivia",   "Sofia",    "Aaliyah", "Mei",       "Priya",
};
static const char *const given_male[] = {
    "James",   "Robert",  "John",   "Michael",  "David",  "William",
    "Richard", "Joseph",  "Thomas", "Charles",  "Daniel", "Matthew",
    "Anthony", "Mark",    "Donald", "Steven",   "Paul",   "Andrew",
    "Joshua",  "Kenneth", "Kevin",  "Brian",    "George", "Timothy",
    "Ronald",  "Edward",  "Jason",  "Jeffrey",  "Ryan",   "Jacob",
    "Jose",    "Wei",     "Arjun",  "Mohammed", "Luis",   "Kwame",
};
static const char *const family_names[] = {
    "Smith",     "Johnson",  "Williams", "Brown",     "Jones",
    "Garcia",    "Miller",   "Davis",    "Rodriguez", "Martinez",
    "Hernandez", "Lopez",    "Gonzalez", "Wilson",    "Anderson",
    "Thomas",    "Taylor",   "Moore",    "Jackson",   "Martin",
    "Lee",       "Perez",    "Thompson", "White",     "Harris",
    "Sanchez",   "Clark",    "Ramirez",  "Lewis",     "Robinson",
    "Walker",    "Young",    "Allen",    "King",      "Wright",
    "Scott",     "Nguyen",   "Hill",     "Flores",    "Green",
    "Adams",     "Nelson",   "Baker",    "Hall",      "Rivera",
    "Campbell",  "Mitchell", "Carter",   "O'Brien",   "Van der Berg",
    "Okafor",    "Kowalski", "Chen",     "Patel",
};
static const char *const street_names[] = {
    "Main St",      "Oak Ave",        "Maple St",    "Cedar Ln",
    "Elm St",       "Washington Ave", "Lake Dr",     "Hillcrest Rd",
    "Park Ave",     "Pine St",        "Sunset Blvd", "River Rd",
    "Highland Ave", "Church St",      "Mill Rd",     "Chestnut St",
};
/* A few ZIPs sit in 3-digit areas of fewer than 20,000 people (036, 059,
 * 692, 830, 893), which Safe Harbor requires to become 000. */
static const struct synth_city cities[] = {
    { "Boston", "MA", "02118", "Suffolk" },
    { "Springfield", "IL", "62704", "Sangamon" },
    { "Austin", "TX", "78701", "Travis" },
    { "Seattle", "WA", "98109", "King" },
    { "Denver", "CO", "80203", "Denver" },
    { "Columbus", "OH", "43215", "Franklin" },
    { "Madison", "WI", "53703", "Dane" },
    { "Portland", "OR", "97205", "Multnomah" },
    { "Atlanta", "GA", "30303", "Fulton" },
    { "Phoenix", "AZ", "85004", "Maricopa" },
    { "Nashville", "TN", "37203", "Davidson" },
    { "Walpole", "NH", "03608", "Cheshire" },
    { "Colebrook", "NH", "03576", "Coos" },
    { "Glendive", "MT", "59330", "Dawson" },
    { "Valentine", "NE", "69201", "Cherry" },
    { "Jackson", "WY", "83001", "Teton" },
    { "Ely", "NV", "89301", "White Pine" },
};

static const struct synth_procedure procedures[] = {
    { "CT",
      "24627-2",
      "CT Chest",
      "CHEST",
      "1.2.840.10008.5.1.4.1.1.2",
      { "AXIAL 5MM", "CORONAL MPR", "LUNG 1MM" } },
    { "CT",
      "24725-4",
      "CT Head",
      "HEAD",
      "1.2.840.10008.5.1.4.1.1.2",
      { "AXIAL 5MM BRAIN", "AXIAL BONE", "SAGITTAL MPR" } },
    { "MR",
      "24590-2",
      "MR Brain",
      "BRAIN",
      "1.2.840.10008.5.1.4.1.1.4",
      { "AX T1", "AX T2 FLAIR", "SAG T1" } },
};
static const char *const institutions[] = {
    "Example General Hospital",
    "St. Synthia Medical Center",
    "Riverside Imaging Institute",
    "Lakeview University Hospital",
};

/* ---- one patient --------------------------------------------------------- */

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
    synth_uuid_make(r, p->bundle_id, sizeof(p->bundle_id));
    synth_uuid_make(r, p->patient_id, sizeof(p->patient_id));
    synth_uuid_make(r, p->encounter_id, sizeof(p->encounter_id));
    synth_uuid_make(r, p->condition_id, sizeof(p->condition_id));
    synth_uuid_make(r, p->medreq_id, sizeof(p->medreq_id));
    synth_uuid_make(r, p->report_id, sizeof(p->report_id));
    synth_uuid_make(r, p->imaging_id, sizeof(p->imaging_id));

    g = (int)synth_rng_below(r, 100);
    if (g < 49) {
        p->gender = "female";
        p->sex[0] = 'F';
        p->given = *PICK(r, given_female);
        p->middle = synth_rng_below(r, 2) ? *PICK(r, given_female) : NULL;
    } else if (g < 98) {
        p->gender = "male";
        p->sex[0] = 'M';
        p->given = *PICK(r, given_male);
        p->middle = synth_rng_below(r, 2) ? *PICK(r, given_male) : NULL;
    } else {
        p->gender = "other";
        p->sex[0] = 'O';
        p->given = synth_rng_below(r, 2) ? *PICK(r, given_female)
                                         : *PICK(r, given_male);
        p->middle = NULL;
    }
    p->family = *PICK(r, family_names);

    /* Ages on the reference date: about 5% over 89 (Safe Harbor folds
     * them into one group), some children, mostly adults. */
    ref_days = synth_days_from_date(2025, 1, 1);
    g = (int)synth_rng_below(r, 100);
    if (g < 5)
        age_years = synth_rng_range(r, 90, 104);
    else if (g < 15)
        age_years = synth_rng_range(r, 0, 17);
    else
        age_years = synth_rng_range(r, 18, 89);
    birth_days =
        ref_days - age_years * 36525 / 100 - synth_rng_range(r, 1, 360);
    p->birth = synth_date_from_days(birth_days);
    p->over_89 = age_at(p->birth, synth_date_from_days(ref_days)) > 89;

    snprintf(p->mrn, sizeof(p->mrn), "%08lu",
             (unsigned long)synth_rng_range(r, 10000000, 99999999));
    /* Area 900-999 is never issued: shaped like an SSN, never a real one. */
    snprintf(p->ssn, sizeof(p->ssn), "%03ld-%02ld-%04ld",
             synth_rng_range(r, 900, 999), synth_rng_range(r, 1, 99),
             synth_rng_range(r, 1, 9999));
    p->city = PICK(r, cities);
    snprintf(p->phone, sizeof(p->phone), "(%03ld) 555-01%02ld",
             synth_rng_range(r, 201, 989), synth_rng_range(r, 0, 99));
    snprintf(p->email, sizeof(p->email), "%c%s%02ld@example.com",
             p->given[0] | 0x20, p->family, synth_rng_range(r, 1, 99));
    for (i = 0; p->email[i] != '\0'; i++) {
        char c = p->email[i];
        if (c >= 'A' && c <= 'Z')
            p->email[i] = (char)(c | 0x20);
        else if (c == ' ' || c == '\'')
            p->email[i] = '.';
    }
    snprintf(p->street, sizeof(p->street), "%ld %s",
             synth_rng_range(r, 1, 9899), *PICK(r, street_names));
    p->institution = *PICK(r, institutions);
    p->ref_given =
        synth_rng_below(r, 2) ? *PICK(r, given_female) : *PICK(r, given_male);
    p->ref_family = *PICK(r, family_names);

    /* The visit: 2019-2024, never before birth. */
    first = synth_days_from_date(2019, 1, 1);
    last = synth_days_from_date(2024, 12, 31);
    if (first <= birth_days)
        first = birth_days + 1;
    visit_days = synth_rng_range(r, first, last);
    p->visit = synth_date_from_days(visit_days);
    p->age_at_study = age_at(p->birth, p->visit);
    p->hh = (int)synth_rng_range(r, 7, 18);
    p->mm = (int)synth_rng_range(r, 0, 59);
    p->ss = (int)synth_rng_range(r, 0, 59);
    snprintf(p->accession, sizeof(p->accession), "ACC%08lu",
             (unsigned long)synth_rng_range(r, 0, 99999999));
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
                                       : (int)synth_rng_range(r, 2, 3);
        s->inst = sl_calloc((size_t)s->ninst, sizeof(*s->inst));
        for (j = 0; j < s->ninst; j++)
            uid_make(r, s->inst[j].uid, sizeof(s->inst[j].uid));
    }
    p->pixel_seed = rng_next(r);
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
        rc =
            SL_ERR(err, SL_EIO, "%s: cannot create: %s", name, strerror(errno));
        goto out;
    }
    if (json_dumpf(bundle, f, JSON_INDENT(2) | JSON_REAL_PRECISION(10)) != 0 ||
        fputc('\n', f) == EOF) {
        fclose(f);
        rc = SL_ERR(err, SL_EIO, "%s: write failed", name);
        goto out;
    }
    if (fclose(f) != 0)
        rc = SL_ERR(err, SL_EIO, "%s: write failed: %s", name, strerror(errno));
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
    struct synth_bulk bulk;
    char *fhir_dir, *dicom_dir;
    char msg[256];
    long i;
    int rc;

    memset(&st, 0, sizeof(st));
    memset(&p, 0, sizeof(p));
    synth_bulk_init(&bulk, NULL);
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
    bulk.dir = fhir_dir;
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

        synth_rng_seed(&r, opts->seed, (uint64_t)i);
        patient_make(&p, &r, i, opts);
        p.local_conditions = opts->local_conditions;
        bundle = synth_fhir_bundle(&p, &r, &nres);
        synth_shape_bundle(bundle, opts->shape);
        if (opts->shape == SL_SYNTH_SHAPE_BULK)
            rc = synth_bulk_add(&bulk, bundle, err);
        else
            rc = bundle_write(fhir_dir, i, bundle, err);
        json_decref(bundle);
        if (rc != SL_OK)
            goto out;
        st.patients++;
        st.resources += nres;
        st.over_89 += (uint64_t)p.over_89;
        if (opts->write_dicom) {
            int s;
            if ((rc = synth_dicom_study_write(dicom_dir, &p, err)) != SL_OK)
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
    rc = synth_bulk_close(&bulk, err);
out:
    synth_bulk_close(&bulk, NULL);
    patient_free(&p);
    if (stats)
        *stats = st;
    free(fhir_dir);
    free(dicom_dir);
    return rc;
}
