#!/bin/sh
# deid_unknown.sh - what the profile does not know is removed, under each
# built-in profile, by `sluice deid` (issue 10, section 5): extensions with
# an unknown or a relative URL inside data types the profile keeps
# (CodeableConcept, Coding, Identifier, Reference) holding the patient's
# name, a vendor's element (Medplum's meta.project), a misspelt element;
# a modifier extension quarantines its resource. What the profile keeps
# (a data-absent-reason extension, meta.versionId, the value) survives, and
# --explain counts the removals by path. The input is synthetic, made here.
. "${top_srcdir}/tests/integration/lib.sh"
plan 27
sluice keygen -o "$T/key"
mkdir -p "$T/in"
cat >"$T/in/a.ndjson" <<'EOJ'
{"resourceType":"Patient","id":"p1","identifier":[{"type":{"coding":[{"system":"http://terminology.hl7.org/CodeSystem/v2-0203","code":"MR"}]},"system":"http://hospital.example.org/mrn","value":"MRN-4471"}],"name":[{"family":"Zyxwq","given":["Annabel"]}],"gender":"female","birthDate":"1970-05-06"}
{"resourceType":"Observation","id":"o1","meta":{"project":"proj-qvx","versionId":"2"},"status":"final","code":{"coding":[{"system":"http://loinc.org","code":"2339-0","extension":[{"url":"http://example.org/fhir/StructureDefinition/coder","valueString":"Zyxwq Annabel"}]}],"text":"Glucose","extension":[{"url":"entered-by","valueString":"Zyxwq Annabel"},{"url":"http://hl7.org/fhir/StructureDefinition/data-absent-reason","valueCode":"unknown"}]},"identifier":[{"system":"http://hospital.example.org/lab","value":"L-88","extension":[{"url":"owner","valueString":"Zyxwq Annabel"}]}],"subject":{"reference":"Patient/p1","extension":[{"url":"display-name","valueString":"Zyxwq Annabel"}]},"effectiveDateTime":"2021-03-04T10:00:00Z","valueQuantity":{"value":6,"unit":"mmol/L"},"valueQuantityy":{"value":7,"unit":"Zyxwq"}}
EOJ
cat >"$T/in/b.json" <<'EOJ'
{"resourceType":"Procedure","id":"pr1","status":"completed","code":{"text":"Appendectomy"},"subject":{"reference":"Patient/p1"},"modifierExtension":[{"url":"http://example.org/fhir/StructureDefinition/not-performed","valueBoolean":true}]}
EOJ
for p in basic longitudinal safe-harbor; do
    o="$T/out-$p" q="$T/q-$p"
    sluice deid --profile $p --key-file "$T/key" --explain -o "$o" \
        --quarantine "$q" "$T/in" >"$T/explain-$p" 2>"$T/err-$p"
    rc=$?
    check "$p: the resource with a modifier extension is quarantined (exit $rc)" \
        [ $rc -eq 3 ]
    check "$p: only that resource is quarantined (the Observation is not: nothing of the name is left in it)" \
        grep -q '2 de-identified, 1 quarantined' "$T/err-$p"
    check "$p: the reason names the element, not the URL" \
        sh -c "grep -q 'reason: Procedure.modifierExtension: a modifier extension the profile does not keep' '$q'/in000002.reason.txt && ! grep -q not-performed '$q'/in000002.reason.txt '$T/err-$p'"
    check "$p: the name in unknown extensions is in no output" \
        sh -c "! grep -rq Zyxwq '$o'"
    check "$p: no extension with a relative URL, meta.project or valueQuantityy is left" \
        sh -c "! grep -rqE 'entered-by|\"owner\"|display-name|project|proj-qvx|valueQuantityy' '$o'"
    check "$p: the known extension, meta.versionId and the value survive" \
        sh -c "grep -q 'data-absent-reason\",\"valueCode\":\"unknown\"' '$o'/fhir/000001.ndjson && grep -q '\"versionId\":\"2\"' '$o'/fhir/000001.ndjson && grep -q '\"valueQuantity\":{\"value\":6' '$o'/fhir/000001.ndjson"
    check "$p: --explain counts meta.project and valueQuantityy as not in R4" \
        sh -c "sed -n '/^rule (not in FHIR R4)/,/^rule /p' '$T/explain-$p' | grep -q '^  Observation.meta.? 1' && sed -n '/^rule (not in FHIR R4)/,/^rule /p' '$T/explain-$p' | grep -q '^  Observation.? 1'"
    check "$p: --explain counts the extensions removed in the kept types" \
        sh -c "sed -n '/^rule extension (remove/,/^rule /p' '$T/explain-$p' | grep -q '^  Observation.code.coding.extension 1' && sed -n '/^rule extension (remove/,/^rule /p' '$T/explain-$p' | grep -q '^  Observation.subject.extension 1'"
    check "$p: --explain prints no value" \
        sh -c "! grep -qE 'Zyxwq|proj-qvx|entered-by' '$T/explain-$p'"
done
finish
