/* synth_fhir.c - one synthetic patient as a FHIR R4 collection Bundle:
 * Patient, Encounter, Condition, Observations (LOINC and local lab codes),
 * MedicationRequest, DiagnosticReport and the ImagingStudy that matches
 * the DICOM study. */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "synth/synth_int.h"

/* ---- pools of fake clinical data -------------------------------------- */

struct synth_code {
    const char *code, *display;
};
static const struct synth_code conditions[] = {
    { "38341003", "Hypertensive disorder, systemic arterial (disorder)" },
    { "44054006", "Diabetes mellitus type 2 (disorder)" },
    { "195967001", "Asthma (disorder)" },
    { "13645005", "Chronic obstructive lung disease (disorder)" },
    { "49436004", "Atrial fibrillation (disorder)" },
    { "233604007", "Pneumonia (disorder)" },
    { "84114007", "Heart failure (disorder)" },
    { "55822004", "Hyperlipidemia (disorder)" },
    { "35489007", "Depressive disorder (disorder)" },
    { "396275006", "Osteoarthritis (disorder)" },
    { "254637007", "Non-small cell lung cancer (disorder)" },
};
/* The same conditions in the hospital's own problem list (--local-
 * conditions), in the order above: what the shipped map
 * terminology/condition-local-to-snomed.json translates. Codes and
 * displays made up by the sluice developers. */
#define LOCAL_CONDITIONS "http://hospital.example.org/condition-codes"
static const struct synth_code local_conditions[] = {
    { "HTN", "Hypertension" },
    { "DM2", "Type 2 diabetes" },
    { "ASTHMA", "Asthma" },
    { "COPD", "COPD" },
    { "AF", "Atrial fibrillation" },
    { "PNEU", "Pneumonia" },
    { "HF", "Heart failure" },
    { "HLD", "Hyperlipidaemia" },
    { "DEP", "Depression" },
    { "OA", "Osteoarthritis" },
    { "NSCLC", "Lung cancer, non-small cell" },
};
static const struct synth_code medications[] = {
    { "314076", "lisinopril 10 MG Oral Tablet" },
    { "197361", "amlodipine 5 MG Oral Tablet" },
    { "860975", "24 HR metformin hydrochloride 500 MG Extended Release Oral "
                "Tablet" },
    { "617314", "atorvastatin 10 MG Oral Tablet" },
    { "745679", "200 ACTUAT albuterol 0.09 MG/ACTUAT Metered Dose Inhaler" },
    { "855332", "warfarin sodium 5 MG Oral Tablet" },
    { "310965", "ibuprofen 200 MG Oral Tablet" },
    { "312961", "simvastatin 20 MG Oral Tablet" },
    { "313782", "acetaminophen 325 MG Oral Tablet" },
};

struct synth_test {
    const char *code, *display, *unit, *ucum;
    double lo, hi;
    int decimals;
    int vital; /* category vital-signs, else laboratory */
};
static const struct synth_test loinc_tests[] = {
    { "8867-4", "Heart rate", "beats/minute", "/min", 55, 110, 0, 1 },
    { "8480-6", "Systolic blood pressure", "mmHg", "mm[Hg]", 100, 170, 0, 1 },
    { "8462-4", "Diastolic blood pressure", "mmHg", "mm[Hg]", 60, 100, 0, 1 },
    { "29463-7", "Body weight", "kg", "kg", 45, 120, 1, 1 },
    { "8302-2", "Body height", "cm", "cm", 150, 195, 1, 1 },
    { "8310-5", "Body temperature", "C", "Cel", 36.1, 38.5, 1, 1 },
    { "2339-0", "Glucose [Mass/volume] in Blood", "mg/dL", "mg/dL", 70, 180, 0,
      0 },
    { "718-7", "Hemoglobin [Mass/volume] in Blood", "g/dL", "g/dL", 10, 17, 1,
      0 },
    { "2160-0", "Creatinine [Mass/volume] in Serum or Plasma", "mg/dL", "mg/dL",
      0.6, 1.8, 2, 0 },
    { "6690-2", "Leukocytes [#/volume] in Blood by Automated count", "10*3/uL",
      "10*3/uL", 4, 12, 1, 0 },
    { "4548-4", "Hemoglobin A1c/Hemoglobin.total in Blood", "%", "%", 5, 9, 1,
      0 },
};
/* Codes of the hospital's own lab system: what terminology maps are for. */
static const struct synth_test local_tests[] = {
    { "K-SER", "Potassium, serum", "mmol/L", "mmol/L", 3.4, 5.3, 1, 0 },
    { "NA-SER", "Sodium, serum", "mmol/L", "mmol/L", 133, 147, 0, 0 },
    { "CRP-HS", "C-reactive protein, high sensitivity", "mg/L", "mg/L", 0.2, 12,
      1, 0 },
    { "TSH-3G", "TSH, third generation", "mIU/L", "m[IU]/L", 0.3, 5, 2, 0 },
    { "LDL-CALC", "LDL cholesterol, calculated", "mg/dL", "mg/dL", 60, 190, 0,
      0 },
};

static const char *const conclusions[] = {
    "No acute findings.",
    "Findings consistent with the clinical history; follow-up advised.",
    "Stable appearance compared with the prior examination.",
    "Small nonspecific finding, recommend follow-up imaging in 6 months.",
};

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
fmt_datetime(char *buf, size_t len, struct synth_date d, int hh, int mm, int ss)
{
    snprintf(buf, len, "%04d-%02d-%02dT%02d:%02d:%02d-05:00", d.y, d.m, d.d, hh,
             mm, ss);
}

/* The same moment plus minutes, as a UTC instant. */
static void
fmt_instant(char *buf, size_t len, struct synth_date d, int hh, int mm, int ss,
            int plus_minutes)
{
    long days = synth_days_from_date(d.y, d.m, d.d);
    long sec =
        ((long)hh + 5) * 3600 + (long)mm * 60 + ss + (long)plus_minutes * 60;
    struct synth_date u;

    days += sec / 86400;
    sec %= 86400;
    u = synth_date_from_days(days);
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
    return must(json_pack("{s:[{s:s, s:s, s:s}]}", "coding", "system", system,
                          "code", code, "display", display));
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

    snprintf(url, sizeof(url), "https://ehr.example.org/fhir/%s/%s", type, id);
    /* json_pack "o" steals res */
    json_array_append_new(entries, must(json_pack("{s:s, s:o}", "fullUrl", url,
                                                  "resource", res)));
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
        "resourceType", "Patient", "id", p->patient_id, "identifier", "use",
        "usual", "type",
        coding1_text("http://terminology.hl7.org/CodeSystem/v2-0203", "MR",
                     "Medical Record Number"),
        "system", SL_SYNTH_MRN_SYSTEM, "value", p->mrn, "use", "official",
        "type",
        coding1_text("http://terminology.hl7.org/CodeSystem/v2-0203", "SS",
                     "Social Security number"),
        "system", SL_SYNTH_SSN_SYSTEM, "value", p->ssn, "active", 1, "name",
        "use", "official", "family", p->family, "given", given, "telecom",
        "system", "phone", "value", p->phone, "use", "home", "system", "email",
        "value", p->email, "gender", p->gender, "birthDate", birth, "address",
        "use", "home", "type", "physical", "line", p->street, "city",
        p->city->city, "district", p->city->district, "state", p->city->state,
        "postalCode", p->city->zip, "country", "US"));
    return res;
}

static json_t *
fhir_encounter(const struct synth_patient *p)
{
    char start[40], end[40], doctor[96];
    static const char *const cls[][2] = { { "AMB", "ambulatory" },
                                          { "IMP", "inpatient encounter" },
                                          { "EMER", "emergency" } };
    int c = (int)(p->index % 3);

    fmt_datetime(start, sizeof(start), p->visit, p->hh, p->mm, p->ss);
    fmt_datetime(end, sizeof(end), p->visit, p->hh + 1, p->mm, p->ss);
    snprintf(doctor, sizeof(doctor), "Dr. %s %s", p->ref_given, p->ref_family);
    return must(json_pack(
        "{s:s, s:s, s:s, s:{s:s, s:s, s:s}, s:o, s:{s:s, s:s},"
        " s:[{s:{s:s}}], s:{s:s}}",
        "resourceType", "Encounter", "id", p->encounter_id, "status",
        "finished", "class", "system",
        "http://terminology.hl7.org/CodeSystem/v3-ActCode", "code", cls[c][0],
        "display", cls[c][1], "subject", ref("Patient", p->patient_id),
        "period", "start", start, "end", end, "participant", "individual",
        "display", doctor, "serviceProvider", "display", p->institution));
}

static json_t *
fhir_condition(const struct synth_patient *p, struct synth_rng *r)
{
    const struct synth_code *c = PICK(r, conditions);
    char onset[16], recorded[40];
    struct synth_date d = synth_date_from_days(
        synth_days_from_date(p->visit.y, p->visit.m, p->visit.d) -
        synth_rng_range(r, 0, 700));
    struct synth_date birth1 = synth_date_from_days(
        synth_days_from_date(p->birth.y, p->birth.m, p->birth.d) + 1);

    if (synth_days_from_date(d.y, d.m, d.d) <=
        synth_days_from_date(p->birth.y, p->birth.m, p->birth.d))
        d = birth1;
    fmt_date(onset, sizeof(onset), d);
    fmt_datetime(recorded, sizeof(recorded), p->visit, p->hh, p->mm, p->ss);
    return must(json_pack(
        "{s:s, s:s, s:o, s:o, s:[o], s:o, s:o, s:o, s:s, s:s}", "resourceType",
        "Condition", "id", p->condition_id, "clinicalStatus",
        coding1("http://terminology.hl7.org/CodeSystem/condition-clinical",
                "active", "Active"),
        "verificationStatus",
        coding1("http://terminology.hl7.org/CodeSystem/"
                "condition-ver-status",
                "confirmed", "Confirmed"),
        "category",
        coding1("http://terminology.hl7.org/CodeSystem/condition-category",
                "encounter-diagnosis", "Encounter Diagnosis"),
        "code",
        p->local_conditions
            ? coding1_text(LOCAL_CONDITIONS,
                           local_conditions[c - conditions].code,
                           local_conditions[c - conditions].display)
            : coding1_text("http://snomed.info/sct", c->code, c->display),
        "subject", ref("Patient", p->patient_id), "encounter",
        ref("Encounter", p->encounter_id), "onsetDateTime", onset,
        "recordedDate", recorded));
}

static json_t *
fhir_observation(const struct synth_patient *p, struct synth_rng *r,
                 const struct synth_test *t, const char *system, int k)
{
    char id[SYNTH_ID_LEN], eff[40], issued[40];
    double v = t->lo + (t->hi - t->lo) * synth_rng_unit(r), scale = 1;
    int i, minutes = 10 + k * 7;

    for (i = 0; i < t->decimals; i++)
        scale *= 10;
    v = (double)(long)(v * scale + 0.5) / scale;
    synth_uuid_make(r, id, sizeof(id));
    fmt_datetime(eff, sizeof(eff), p->visit, p->hh, p->mm, p->ss);
    fmt_instant(issued, sizeof(issued), p->visit, p->hh, p->mm, p->ss,
                minutes + (int)synth_rng_range(r, 30, 240));
    return must(json_pack(
        "{s:s, s:s, s:s, s:[o], s:o, s:o, s:o, s:s, s:s,"
        " s:{s:f, s:s, s:s, s:s}}",
        "resourceType", "Observation", "id", id, "status", "final", "category",
        coding1("http://terminology.hl7.org/CodeSystem/observation-category",
                t->vital ? "vital-signs" : "laboratory",
                t->vital ? "Vital Signs" : "Laboratory"),
        "code", coding1_text(system, t->code, t->display), "subject",
        ref("Patient", p->patient_id), "encounter",
        ref("Encounter", p->encounter_id), "effectiveDateTime", eff, "issued",
        issued, "valueQuantity", "value", v, "unit", t->unit, "system",
        "http://unitsofmeasure.org", "code", t->ucum));
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

    fmt_datetime(authored, sizeof(authored), p->visit, p->hh + 1, p->mm, p->ss);
    snprintf(requester, sizeof(requester), "Dr. %s %s", p->ref_given,
             p->ref_family);
    return must(json_pack(
        "{s:s, s:s, s:s, s:s, s:o, s:o, s:o, s:s, s:{s:s}, s:[{s:s}]}",
        "resourceType", "MedicationRequest", "id", p->medreq_id, "status",
        "active", "intent", "order", "medicationCodeableConcept",
        coding1_text("http://www.nlm.nih.gov/research/umls/rxnorm", m->code,
                     m->display),
        "subject", ref("Patient", p->patient_id), "encounter",
        ref("Encounter", p->encounter_id), "authoredOn", authored, "requester",
        "display", requester, "dosageInstruction", "text", *PICK(r, sig)));
}

static json_t *
fhir_report(const struct synth_patient *p, struct synth_rng *r)
{
    char eff[40], issued[40], conclusion[512];

    fmt_datetime(eff, sizeof(eff), p->visit, p->hh, p->mm, p->ss);
    fmt_instant(issued, sizeof(issued), p->visit, p->hh, p->mm, p->ss,
                (int)synth_rng_range(r, 60, 600));
    /* Free text that names the patient, as dictated reports do: the
     * de-identifier must scrub it. */
    snprintf(conclusion, sizeof(conclusion), "%s for %s %s (MRN %s): %s",
             p->proc->display, p->given, p->family, p->mrn,
             *PICK(r, conclusions));
    return must(json_pack(
        "{s:s, s:s, s:s, s:[o], s:o, s:o, s:o, s:s, s:s, s:[{s:s}],"
        " s:[o], s:s}",
        "resourceType", "DiagnosticReport", "id", p->report_id, "status",
        "final", "category",
        coding1("http://loinc.org", "LP29684-5", "Radiology"), "code",
        coding1_text("http://loinc.org", p->proc->loinc, p->proc->display),
        "subject", ref("Patient", p->patient_id), "encounter",
        ref("Encounter", p->encounter_id), "effectiveDateTime", eff, "issued",
        issued, "performer", "display", p->institution, "imagingStudy",
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
            series,
            must(json_pack(
                "{s:s, s:i, s:{s:s, s:s}, s:s, s:i, s:{s:s, s:s, s:s},"
                " s:o}",
                "uid", s->uid, "number", i + 1, "modality", "system",
                "http://dicom.nema.org/resources/ontology/DCM", "code",
                p->proc->modality, "description", s->desc, "numberOfInstances",
                s->ninst, "bodySite", "system", "http://snomed.info/sct",
                "code",
                strcmp(p->proc->body_part, "CHEST") == 0 ? "51185008"
                                                         : "69536005",
                "display",
                strcmp(p->proc->body_part, "CHEST") == 0 ? "Thorax" : "Head",
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

json_t *
synth_fhir_bundle(const struct synth_patient *p, struct synth_rng *r,
                  uint64_t *nres)
{
    json_t *entries = json_array(), *bundle;
    uint64_t ninst;
    int nobs, k;

    bundle_add(entries, "Patient", p->patient_id, fhir_patient(p));
    bundle_add(entries, "Encounter", p->encounter_id, fhir_encounter(p));
    bundle_add(entries, "Condition", p->condition_id, fhir_condition(p, r));
    /* 2-4 standard observations and 1-2 with local lab codes */
    nobs = (int)synth_rng_range(r, 2, 4);
    for (k = 0; k < nobs + (int)synth_rng_range(r, 1, 2); k++) {
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
    bundle_add(entries, "MedicationRequest", p->medreq_id, fhir_medreq(p, r));
    bundle_add(entries, "DiagnosticReport", p->report_id, fhir_report(p, r));
    bundle_add(entries, "ImagingStudy", p->imaging_id, fhir_imaging(p, &ninst));
    *nres = json_array_size(entries);
    /* json_pack "o" steals entries */
    bundle =
        must(json_pack("{s:s, s:s, s:s, s:o}", "resourceType", "Bundle", "id",
                       p->bundle_id, "type", "collection", "entry", entries));
    return bundle;
}
