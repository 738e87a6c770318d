# tests of validation: sluice validate, the <validate> stage, profiles and
# IG packages, HL7's validator test cases, a second opinion by Medplum
EXTRA_DIST += tests/validate/cases.py
TESTS += tests/integration/validate.sh
EXTRA_DIST += tests/integration/validate.sh

# a second opinion: Medplum's validateResource (npm, as the test FHIR
# server installs it) on what sluice synth, deid and translate write
TESTS += tests/integration/validate_medplum.sh
EXTRA_DIST += tests/integration/validate_medplum.sh \
	tests/validate/medplum_validate.mjs
