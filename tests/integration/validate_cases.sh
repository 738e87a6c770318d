#!/bin/sh
# HL7's validator test cases (../shared/corpora/fhir-validator-cases, with
# the outcomes of HL7's Java reference validator) run through sluice
# validate by tests/validate/cases.py: it reports verdict agreement and
# error-count agreement in percent, and lists every disagreement (see
# docs/validation.md, "Validator"). Fails when verdict agreement falls
# under the figure reached when it was last recorded (or error-count
# agreement under 85%), so a regression is seen, and on a verdict
# disagreement not listed with its cause in
# tests/data/validate/known-differences.txt (or a listed case that now
# agrees). Skipped when the corpus is not beside the source tree (it is not
# distributed with sluice); SLUICE_CORPORA names another place.
. "${top_srcdir}/tests/integration/lib.sh"
plan 1
C=${SLUICE_CORPORA:-$top_srcdir/../shared/corpora}/fhir-validator-cases
if [ ! -f "$C/cases.json" ]; then
    skip "the HL7 validator cases are not at $C (set SLUICE_CORPORA)"
    finish
fi
if ! command -v python3 >/dev/null 2>&1; then
    skip "needs python3"
    finish
fi
python3 "$top_srcdir/tests/validate/cases.py" "$SLUICE" "$C" -v \
    --min-verdict 95 --min-count 85 --known "$top_srcdir/tests/data/validate/known-differences.txt" \
    >"$T/out" 2>&1
rc=$?
cat "$T/out"
check "HL7 validator cases: $(tail -n 1 "$T/out" | sed 's/^# //')" [ $rc -eq 0 ]
finish
