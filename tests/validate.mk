# tests of validation: sluice validate, the <validate> stage, profiles and
# IG packages, HL7's validator test cases, a second opinion by Medplum
EXTRA_DIST += tests/validate/cases.py
TESTS += tests/integration/validate.sh
EXTRA_DIST += tests/integration/validate.sh
