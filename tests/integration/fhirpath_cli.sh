#!/bin/sh
# fhirpath_cli.sh - sluice fhirpath as a user meets it: the result on one
# line of JSON, types with --types, a list of expressions, standard input,
# and the errors: a syntax error names the column (exit 1), a broken or
# missing file is a runtime error (exit 2) that quotes nothing of the data.
. "${top_srcdir}/tests/integration/lib.sh"
D="$top_srcdir/tests/data/fhirpath"
plan 12
out=$(sluice fhirpath "name.where(use = 'official').given" "$D/patient.json")
check "the result is one line of JSON" [ "$out" = '["Alex","Sam"]' ]
out=$(sluice fhirpath "value" "$D/observation.json")
check "a Quantity prints as its JSON" \
    [ "$out" = '[{"value":185.5,"unit":"lbs","system":"http://unitsofmeasure.org","code":"[lb_av]"}]' ]
out=$(sluice fhirpath "value > 80 'kg' and effective < @2013" "$D/observation.json")
check "quantities in UCUM units and partial dates compare" [ "$out" = '[true]' ]
out=$(sluice fhirpath --types "birthDate | 1.5 'mg'" "$D/patient.json")
check "--types names each item's type" \
    [ "$out" = "$(printf '%s\n' '["1974-12-25","1.5 '"'mg'"'"]' FHIR.date System.Quantity)" ]
out=$(sluice fhirpath "entry.resource.ofType(Condition).subject.resolve().name.family" - <"$D/bundle.json")
check "standard input; resolve() finds the Bundle's entries" [ "$out" = '["Entry"]' ]
printf 'id\nname.given.count(\n\nname.given.first().length()\n' >"$T/list"
out=$(sluice fhirpath -e "$T/list" "$D/patient.json" 2>"$T/err"); rc=$?
check "--expressions: one line per expression, ERROR for the bad one (exit 2)" \
    [ "$out" = "$(printf '%s\n' '["example"]' ERROR '[4]')" -a $rc -eq 2 ]
check "--expressions: the bad one's line and column on stderr" \
    grep -q 'expression 2: column 18' "$T/err"
sluice fhirpath "name.given.count(" "$D/patient.json" >/dev/null 2>"$T/err"; rc=$?
check "a syntax error exits 1 and names the column" \
    sh -c "[ $rc -eq 1 ] && grep -q 'column 18' '$T/err'"
printf '{"resourceType":"Patient","name":[{"family":"Secretname"' >"$T/broken.json"
sluice fhirpath "name" "$T/broken.json" >/dev/null 2>"$T/err"; rc=$?
check "broken JSON exits 2 with the line and column" \
    sh -c "[ $rc -eq 2 ] && grep -q 'not valid JSON at line 1' '$T/err'"
check "... and quotes nothing of the data" sh -c "! grep -q Secretname '$T/err'"
sluice fhirpath "name.given.startsWith('A')" "$D/patient.json" >/dev/null 2>"$T/err"; rc=$?
check "a run-time error exits 2 and says why" \
    sh -c "[ $rc -eq 2 ] && grep -q 'startsWith() needs a single item' '$T/err'"
sluice fhirpath "name" "$T/none.json" >/dev/null 2>&1; rc=$?
check "a missing file exits 2" [ $rc -eq 2 ]
finish
