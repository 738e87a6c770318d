#!/bin/sh
# sluice validate and the <validate> stage: synthetic resources are valid
# against R4; copies broken in one way each (cardinality, a wrong type, a
# bad date, an unknown element, a broken reference) are invalid with an
# issue at the broken element and no value of the resource in the output;
# unreadable input gets a fatal issue; a profile from an IG package (.tgz)
# is applied; in a job, invalid resources are quarantined with a reason
# and the run summary counts findings per profile and message; --jobs 2
# gives the same outcomes and summary as --jobs 1, byte for byte.
. "${top_srcdir}/tests/integration/lib.sh"
plan 32
sluice synth --patients 5 --seed 7 --no-dicom -o "$T/syn" >/dev/null 2>&1
sluice validate "$T/syn/fhir" >"$T/ok.out" 2>"$T/ok.err"
check "synthetic Bundles are valid (exit 0)" [ $? -eq 0 ]
check "one OperationOutcome per input, no error" \
    sh -c '[ $(wc -l <"$1") -eq 5 ] && ! grep -q "\"error\"" "$1"' _ "$T/ok.out"

# --jobs changes nothing a user sees: 40 patients as NDJSON (several
# chunks of items), every tenth resource broken, one line unreadable; the
# outcomes of -j 1 and -j 2 are the same bytes, and so is the summary
# (progress lines aside, which a slow machine may print)
sluice synth --patients 40 --seed 7 --no-dicom -o "$T/syn40" >/dev/null 2>&1
cat "$T"/syn40/fhir/*.json | jq -c '.entry[].resource' |
    awk 'NR % 10 == 0 { sub(/"resourceType"/, "\"unknownElement\": 1, \"resourceType\"") }
         NR == 57 { print "{\"resourceType\": \"Patient\"," } { print }' >"$T/j40.ndjson"
sluice -j 1 validate "$T/j40.ndjson" >"$T/j1.out" 2>"$T/j1.err"
rc1=$?
sluice -j 2 validate "$T/j40.ndjson" >"$T/j2.out" 2>"$T/j2.err"
rc2=$?
check "-j 1 and -j 2: exit 3 both, one outcome per line, the same bytes" \
    sh -c '[ $1 -eq 3 ] && [ $2 -eq 3 ] && [ $(wc -l <"$3") -eq $(wc -l <"$5") ] && cmp -s "$3" "$4"' \
    _ $rc1 $rc2 "$T/j1.out" "$T/j2.out" "$T/j40.ndjson"
check "-j 1 and -j 2: the same summary, errors counted in it" \
    sh -c '[ "$(grep -v "progress" "$1")" = "$(grep -v "progress" "$2")" ] && grep -q "42 invalid, 1 unreadable" "$1" && grep -q "unknownElement is not an element" "$1"' \
    _ "$T/j1.err" "$T/j2.err"

# one Patient, then broken copies of it
jq -c '.entry[0].resource' "$T/syn/fhir/bundle-000001.json" >"$T/p.json"
family=$(jq -r '.name[0].family' "$T/p.json")
mkdir -p "$T/bad"
jq -c '.gender = ["male"]' "$T/p.json" >"$T/bad/1-card.json"
jq -c '.active = "yes"' "$T/p.json" >"$T/bad/2-type.json"
jq -c '.birthDate = "1970-13-01"' "$T/p.json" >"$T/bad/3-date.json"
jq -c '.favouriteColour = "blue"' "$T/p.json" >"$T/bad/4-unknown.json"
jq -c '.managingOrganization = {"reference": "#org1"}' "$T/p.json" >"$T/bad/5-ref.json"
i=0
for f in card:Patient.gender type:Patient.active date:Patient.birthDate \
    unknown:Patient.favouriteColour ref:Patient.managingOrganization.reference; do
    i=$((i + 1))
    what=${f%%:*} path=${f#*:}
    sluice validate "$T/bad/$i-$what.json" >"$T/b$i.out" 2>/dev/null
    rc=$?
    check "broken ($what): exit 3, an error at $path" \
        sh -c '[ $1 -eq 3 ] && jq -e --arg p "$3" "[.issue[] | select(.severity==\"error\" and .expression[0]==\$p)] | length == 1" "$2" >/dev/null' \
        _ $rc "$T/b$i.out" "$path"
done
check "no value of the resource in the outcomes" \
    sh -c '! grep -qF -- "$1" "$2"/b*.out && ! grep -q "1970-13-01\|favouriteColour\"*: *\"blue" "$2"/b*.out' _ "$family" "$T"

# XML: read into its JSON form, checked the same way
cat >"$T/p.xml" <<EOC
<Patient xmlns="http://hl7.org/fhir">
  <id value="x1"/>
  <active value="true"/>
  <name><family value="Doe"/><given value="A"/><given value="B"/></name>
  <gender value="female"/>
  <birthDate value="1970-02-30"><extension url="http://example.org/e"><valueString value="s"/></extension></birthDate>
</Patient>
EOC
sluice validate "$T/p.xml" >"$T/x.out" 2>/dev/null
check "XML: a bad date is one error at Patient.birthDate" \
    sh -c '[ $1 -eq 3 ] && jq -e "[.issue[] | select(.severity==\"error\")] | length == 1 and .[0].expression[0] == \"Patient.birthDate\"" "$2" >/dev/null' _ $? "$T/x.out"
sed 's/1970-02-30/1970-02-28/' "$T/p.xml" >"$T/p2.xml"
sluice validate "$T/p2.xml" >/dev/null 2>&1
check "XML: the corrected Patient is valid" [ $? -eq 0 ]

# a value used as a member name is not repeated in the outcome
jq -c '. + {"Ann Smith 1970-01-02": true}' "$T/p.json" >"$T/k.json"
sluice validate "$T/k.json" >"$T/k.out" 2>&1
check "an unknown member whose name is not an element name is not printed" \
    sh -c '[ $1 -eq 3 ] && ! grep -q "Ann Smith" "$2" && grep -q "not an element name" "$2"' _ $? "$T/k.out"

# NDJSON: a broken line gets a fatal issue; the others are validated
{ cat "$T/p.json"; echo '{"resourceType": "Patient",'; cat "$T/bad/3-date.json"; } >"$T/mix.ndjson"
sluice --jobs 2 validate "$T/mix.ndjson" >"$T/mix.out" 2>"$T/mix.err"
check "NDJSON with a bad line: exit 3" [ $? -eq 3 ]
check "three outcomes in line order: valid, fatal at line 2, invalid" \
    sh -c '[ "$(jq -r "[.issue[0].severity, .extension[0].valueString] | join(\" \")" "$1" | tr "\n" ,)" = "information file 1 line 1,fatal file 1 line 2,error file 1 line 3," ]' _ "$T/mix.out"
check "the summary counts findings per profile and message" \
    grep -q '^ *1  R4: the date value is not a date' "$T/mix.err"

# an IG as a FHIR package (.tgz) with a profile: gender required, fixed
# active; its canonical URL given with --profile, and through meta.profile
mkdir -p "$T/ig/package"
cat >"$T/ig/package/StructureDefinition-strict-patient.json" <<EOC
{"resourceType": "StructureDefinition", "id": "strict-patient",
 "url": "http://example.org/fhir/StructureDefinition/strict-patient",
 "name": "StrictPatient", "status": "draft", "kind": "resource",
 "abstract": false, "type": "Patient", "derivation": "constraint",
 "baseDefinition": "http://hl7.org/fhir/StructureDefinition/Patient",
 "differential": {"element": [
   {"id": "Patient.gender", "path": "Patient.gender", "min": 1},
   {"id": "Patient.active", "path": "Patient.active", "fixedBoolean": true},
   {"id": "Patient.photo", "path": "Patient.photo", "max": "0"}]}}
EOC
echo '{"name": "example.strict", "version": "0.1.0"}' >"$T/ig/package/package.json"
tar -C "$T/ig" -czf "$T/strict.tgz" package
U=http://example.org/fhir/StructureDefinition/strict-patient
jq -c 'del(.gender) | .active = false' "$T/p.json" >"$T/np.json"
sluice validate --ig "$T/strict.tgz" --profile $U "$T/p.json" >/dev/null 2>&1
check "--ig PKG.tgz --profile URL: a conforming Patient is valid" [ $? -eq 0 ]
sluice validate --ig "$T/strict.tgz" --profile $U "$T/np.json" >"$T/np.out" 2>&1
check "--profile: missing gender and a wrong fixed value are 2 errors" \
    sh -c '[ "$(jq "[.issue[]? | select(.severity==\"error\" and .diagnostics==\"StrictPatient\")] | length" "$1" 2>/dev/null | head -1)" = 2 ]' _ "$T/np.out"
# an invariant the profile adds (FHIRPath)
jq '.differential.element += [{"id": "Patient", "path": "Patient", "constraint": [{"key": "sp-1", "severity": "error", "human": "A strict patient has a telecom", "expression": "telecom.exists()"}]}]' \
    "$T/ig/package/StructureDefinition-strict-patient.json" >"$T/inv.json"
jq -c 'del(.telecom)' "$T/p.json" >"$T/nt.json"
sluice validate --profile "$T/inv.json" "$T/nt.json" >"$T/nt.out" 2>/dev/null
check "a profile's invariant: sp-1 fails on a Patient without telecom" \
    sh -c '[ $1 -eq 3 ] && grep -q "sp-1: A strict patient has a telecom" "$2"' _ $? "$T/nt.out"
jq -c --arg u $U 'del(.gender) | .meta.profile = [$u]' "$T/p.json" >"$T/mp.json"
sluice validate --ig "$T/strict.tgz" "$T/mp.json" >"$T/mp.out" 2>/dev/null
check "meta.profile is honoured" [ $? -eq 3 ]
sluice validate "$T/mp.json" >"$T/mp2.out" 2>/dev/null
check "an unknown meta.profile is a warning, not a silent pass" \
    sh -c '[ $1 -eq 0 ] && grep -q "\"warning\".*not known" "$2"' _ $? "$T/mp2.out"
printf 'not a tar' | gzip >"$T/broken.tgz"
sluice validate --ig "$T/broken.tgz" "$T/p.json" >/dev/null 2>"$T/ig.err"
check "a broken IG package is a usage error naming it" \
    sh -c '[ $1 -eq 1 ] && grep -q "broken.tgz" "$2"' _ $? "$T/ig.err"

# bindings of a profile against a local ValueSet and CodeSystem (an IG
# folder): required -> error; a ValueSet that cannot be expanded -> warning
mkdir -p "$T/ig2"
cat >"$T/ig2/cs.json" <<'EOC'
{"resourceType": "CodeSystem", "url": "http://example.org/cs/ms", "status": "active",
 "content": "complete", "concept": [{"code": "a", "concept": [{"code": "a1"}]}, {"code": "b"}]}
EOC
cat >"$T/ig2/vs.json" <<'EOC'
{"resourceType": "ValueSet", "url": "http://example.org/vs/ms", "status": "active",
 "compose": {"include": [{"system": "http://example.org/cs/ms",
   "filter": [{"property": "concept", "op": "is-a", "value": "a"}]}]}}
EOC
cat >"$T/ig2/vs2.json" <<'EOC'
{"resourceType": "ValueSet", "url": "http://example.org/vs/far", "status": "active",
 "compose": {"include": [{"system": "http://snomed.info/sct"}]}}
EOC
cat >"$T/ig2/sd.json" <<'EOC'
{"resourceType": "StructureDefinition", "url": "http://example.org/sd/ms", "name": "MS",
 "kind": "resource", "abstract": false, "type": "Patient", "derivation": "constraint",
 "baseDefinition": "http://hl7.org/fhir/StructureDefinition/Patient",
 "differential": {"element": [
  {"id": "Patient.maritalStatus", "path": "Patient.maritalStatus",
   "binding": {"strength": "required", "valueSet": "http://example.org/vs/ms"}},
  {"id": "Patient.language", "path": "Patient.language",
   "binding": {"strength": "required", "valueSet": "http://example.org/vs/far"}}]}}
EOC
ms() { jq -c --arg c "$1" '.maritalStatus = {"coding": [{"system": "http://example.org/cs/ms", "code": $c}]} | .language = "en"' "$T/p.json"; }
{ ms a1; ms b; } >"$T/ms.ndjson"
sluice validate --ig "$T/ig2" --profile http://example.org/sd/ms "$T/ms.ndjson" >"$T/ms.out" 2>/dev/null
check "binding: a code below the is-a filter is in the local ValueSet" \
    sh -c '[ "$(sed -n 1p "$1" | jq "[.issue[] | select(.severity==\"error\")] | length")" = 0 ]' _ "$T/ms.out"
check "binding: a code outside it is an error at Patient.maritalStatus" \
    sh -c 'sed -n 2p "$1" | jq -e "[.issue[] | select(.severity==\"error\" and .expression[0]==\"Patient.maritalStatus\")] | length == 1" >/dev/null' _ "$T/ms.out"
check "binding: a ValueSet that cannot be expanded is a could-not-check warning" \
    sh -c 'sed -n 1p "$1" | jq -e "[.issue[] | select(.severity==\"warning\" and .expression[0]==\"Patient.language\" and (.details.text | test(\"could not check\")))] | length == 1" >/dev/null' _ "$T/ms.out"

# slicing: blood pressure components sliced by code (pattern), closed,
# systolic required once, each slice's value a Quantity
cat >"$T/bp.json" <<'EOC'
{"resourceType": "StructureDefinition", "url": "http://example.org/fhir/StructureDefinition/bp",
 "name": "BP", "status": "draft", "kind": "resource", "abstract": false, "type": "Observation",
 "derivation": "constraint", "baseDefinition": "http://hl7.org/fhir/StructureDefinition/Observation",
 "differential": {"element": [
  {"id": "Observation.component", "path": "Observation.component",
   "slicing": {"discriminator": [{"type": "pattern", "path": "code"}], "rules": "closed"}},
  {"id": "Observation.component:sys", "path": "Observation.component", "sliceName": "sys", "min": 1, "max": "1"},
  {"id": "Observation.component:sys.code", "path": "Observation.component.code",
   "patternCodeableConcept": {"coding": [{"system": "http://loinc.org", "code": "8480-6"}]}},
  {"id": "Observation.component:sys.value[x]", "path": "Observation.component.value[x]", "min": 1,
   "type": [{"code": "Quantity"}]},
  {"id": "Observation.component:dia", "path": "Observation.component", "sliceName": "dia", "min": 0, "max": "1"},
  {"id": "Observation.component:dia.code", "path": "Observation.component.code",
   "patternCodeableConcept": {"coding": [{"system": "http://loinc.org", "code": "8462-4"}]}}]}}
EOC
comp() { printf '{"code":{"coding":[{"system":"http://loinc.org","code":"%s"}]},"valueQuantity":{"value":%s,"unit":"mm[Hg]"}}' "$1" "$2"; }
obs() { printf '{"resourceType":"Observation","status":"final","code":{"coding":[{"system":"http://loinc.org","code":"85354-9"}]},"component":[%s]}\n' "$1"; }
{ obs "$(comp 8480-6 120),$(comp 8462-4 80)"; obs "$(comp 8462-4 80)"; obs "$(comp 8480-6 120),$(comp 9999-9 1)"; } >"$T/bp.ndjson"
sluice validate --profile "$T/bp.json" "$T/bp.ndjson" >"$T/bp.out" 2>/dev/null
check "slicing: a systolic and a diastolic component conform" \
    sh -c '[ "$(sed -n 1p "$1" | jq "[.issue[] | select(.severity==\"error\")] | length")" = 0 ]' _ "$T/bp.out"
check "slicing: the required systolic slice missing is an error" \
    sh -c 'sed -n 2p "$1" | jq -e "[.issue[] | select(.severity==\"error\" and (.details.text | test(\"sys: the profile needs at least 1\")))] | length == 1" >/dev/null' _ "$T/bp.out"
check "slicing: closed, a component of no slice is an error at it" \
    sh -c 'sed -n 3p "$1" | jq -e "[.issue[] | select(.severity==\"error\" and .expression[0]==\"Observation.component[1]\")] | length == 1" >/dev/null' _ "$T/bp.out"

# in a job: the broken copies quarantined with their reason, counted
write_config "$T/j"
cp "$T/p.json" "$T/bad/"*.json "$T/j/in/fhir/"
sed -i 's|<push |<validate on-error="quarantine"/>\n    <push |' "$T/j/sluice.xml"
sluice --config "$T/j/sluice.xml" check-config >/dev/null 2>"$T/cc.err"
check "check-config accepts <validate>" [ $? -eq 0 ]
(cd "$T/j" && sluice --config sluice.xml run t >"$T/run.out" 2>"$T/run.err")
check "the job exits 3 with the broken resources quarantined" \
    sh -c '[ $1 -eq 3 ] && [ "$(ls "$2"/out/fhir | wc -l)" -ge 1 ]' _ $? "$T/j"
(cd "$T/j" && sluice --config sluice.xml runs >"$T/runs.out" 2>&1)
check "sluice runs counts the validation findings per profile and message" \
    grep -q "validate/R4: the date value is not a date" "$T/runs.out"
(cd "$T/j" && sluice --config sluice.xml quarantine list >"$T/ql.out" 2>&1)
check "5 quarantined by validate, the reason names the element" \
    sh -c '[ $(grep -c "validate" "$1") -eq 5 ] && grep -q "Patient.birthDate" "$1"' _ "$T/ql.out"
finish
