/* test_deid_fhir.h - what the two files of test_deid_fhir share: the
 * key, the engine run over items, and the tests of the second file
 * (test_deid_fhir_e2e.c) that main() lists. */
#ifndef TEST_DEID_FHIR_H
#define TEST_DEID_FHIR_H

#include <stdio.h>

#include <jansson.h>

#include "keys/keys.h"

extern char srcdir[1024]; /* top_srcdir */

struct outcome {
    json_t *out; /* the items after de-identification */
    int rc;      /* the first failure */
    char reason[1024];
};

/* 32 bytes of 'k'. */
struct sl_keys *key32(void);
/* A .json (one value) or .ndjson (one a line) file as an array. */
json_t *read_items(const char *path);
/* Learns every item, then de-identifies a copy of each into o->out. */
int run_engine(const char *profile, json_t *items, struct sl_keys *k,
               struct outcome *o, FILE *explain);

void test_synth_basic(void **state);
void test_synth_longitudinal(void **state);
void test_synth_safe_harbor(void **state);
void test_narrative_phi_gone(void **state);
void test_attachment_phi_gone(void **state);
void test_leak_quarantined(void **state);
void test_explain(void **state);
void test_encrypt(void **state);
void test_provenance(void **state);
void test_threads(void **state);
void test_profile_errors(void **state);

#endif
