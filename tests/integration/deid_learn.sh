#!/bin/sh
# Free text loses every identifying value the input names, wherever it is
# named (issue 10, section 2): a name only in HumanName.text, only in a
# contained Patient, only in a Reference.display; a mother's maiden name
# and an SSN only in extensions; staff only as performer.display; a
# relative's name in CodeableConcept.text, a description and a comment;
# names in other scripts and spellings (NFD, upper case, no spaces). One
# transaction Bundle through `sluice deid` under each built-in profile:
# nothing quarantined, the values gone, the clinical words around them
# kept. The input is synthetic, made here; the names are invented.
. "${top_srcdir}/tests/integration/lib.sh"
plan 12
sluice keygen -o "$T/key"
mkdir -p "$T/in"
P=urn:uuid:4c0e7a52-8f1d-4b6e-9a3c-2d5e6f7a8b01
cat >"$T/in/bundle.json" <<EOJ
{"resourceType": "Bundle", "type": "transaction", "entry": [
 {"fullUrl": "$P", "request": {"method": "POST", "url": "Patient"},
  "resource": {"resourceType": "Patient",
   "name": [{"text": "Quintessa Varga-Lindqvist"}],
   "extension": [
     {"url": "http://hl7.org/fhir/StructureDefinition/patient-mothersMaidenName", "valueString": "Oyelaran"},
     {"url": "http://hospital.example.org/fhir/StructureDefinition/ssn", "valueString": "219-09-9999"}]}},
 {"fullUrl": "urn:uuid:4c0e7a52-8f1d-4b6e-9a3c-2d5e6f7a8b02", "request": {"method": "POST", "url": "Observation"},
  "resource": {"resourceType": "Observation", "status": "final",
   "code": {"coding": [{"system": "http://loinc.org", "code": "8310-5"}]},
   "subject": {"reference": "$P", "display": "Q. Varga-Lindqvist"},
   "performer": [{"display": "Dr. Bartholomew Nkemelu"}],
   "valueString": "Quintessa reports chest pain; mother (nee OYELARAN) had angina; SSN 219-09-9999 checked; reviewed with Nkemelu",
   "note": [{"text": "VARGA-LINDQVIST to start metformin"}]}},
 {"fullUrl": "urn:uuid:4c0e7a52-8f1d-4b6e-9a3c-2d5e6f7a8b03", "request": {"method": "POST", "url": "DiagnosticReport"},
  "resource": {"resourceType": "DiagnosticReport", "status": "final",
   "contained": [{"resourceType": "RelatedPerson", "id": "rp", "patient": {"reference": "$P"},
                  "name": [{"family": "Ṣọlá", "given": ["Ìbùkún"]}]}],
   "code": {"coding": [{"system": "http://loinc.org", "code": "36643-5"}], "text": "Chest X-ray, requested by Ibukun Sola"},
   "subject": {"reference": "$P"},
   "conclusion": "No acute findings; IBUKUN SOLA informed"}},
 {"fullUrl": "urn:uuid:4c0e7a52-8f1d-4b6e-9a3c-2d5e6f7a8b04", "request": {"method": "POST", "url": "Appointment"},
  "resource": {"resourceType": "Appointment", "status": "booked",
   "participant": [{"actor": {"reference": "$P"}, "status": "accepted"}],
   "description": "Cardiology review with Quintessa",
   "comment": "Oyelaran family history; bring echo report"}}]}
EOJ
names='Quintessa|Lindqvist|Varga|Oyelaran|219-09-9999|Nkemelu|Bartholomew|Ibukun|Sola'
for prof in basic longitudinal safe-harbor; do
    sluice deid --profile $prof --key-file "$T/key" -o "$T/$prof" \
        --quarantine "$T/$prof.q" "$T/in" >/dev/null 2>"$T/$prof.err"
    rc=$?
    check "$prof: de-identified, nothing quarantined (exit $rc)" [ $rc -eq 0 ]
    check "$prof: no name, maiden name or SSN in the output" \
        sh -c "! grep -Eiq '$names' '$T/$prof/fhir/000001.json'"
done
out=$T/basic/fhir/000001.json
check "basic: the clinical words around them survived" \
    sh -c "grep -q '\"\\[redacted\\] reports chest pain; mother (nee \\[redacted\\]) had angina; SSN \\[redacted\\] checked; reviewed with \\[redacted\\]\"' '$out' &&
           grep -q '\\[redacted\\] to start metformin' '$out'"
check "basic: the contained relative's name (another script, accents) left the report" \
    sh -c "grep -q 'Chest X-ray, requested by \\[redacted\\] \\[redacted\\]' '$out' &&
           grep -q 'No acute findings; \\[redacted\\] \\[redacted\\] informed' '$out' &&
           ! grep -q 'Ìbùkún' '$out'"
check "basic: description and comment scrubbed, not removed" \
    sh -c "grep -q '\"description\": *\"Cardiology review with \\[redacted\\]\"' '$out' &&
           grep -q '\"comment\": *\"\\[redacted\\] family history; bring echo report\"' '$out'"
check "safe-harbor: description and comment removed, the code's text scrubbed" \
    sh -c "! grep -q 'Cardiology review' '$T/safe-harbor/fhir/000001.json' &&
           ! grep -q 'echo report' '$T/safe-harbor/fhir/000001.json' &&
           grep -q 'Chest X-ray, requested by \\[redacted\\]' '$T/safe-harbor/fhir/000001.json'"
# a site profile that keeps a free-text element whole: the leak scan,
# which reads the same learned values, quarantines it
cat >"$T/keep.xml" <<'EOX'
<?xml version="1.0" encoding="UTF-8"?>
<profile xmlns="urn:sluice:deid:1" name="keep" version="1" extends="basic">
  <fhir>
    <rule id="text-comment" element="comment" method="keep"/>
  </fhir>
</profile>
EOX
sluice deid --profile "$T/keep.xml" --key-file "$T/key" -o "$T/keep" \
    --quarantine "$T/keep.q" "$T/in" >/dev/null 2>"$T/keep.err"
rc=$?
check "a comment kept whole is caught by the leak scan (exit $rc)" \
    sh -c "[ $rc -eq 3 ] && grep -q 'remains at Bundle.entry.resource.comment' '$T'/keep.q/*.reason.txt"
# a site profile with a rule on an element R4 does not have, after good
# ones, is an error naming its line, not a crash
cat >"$T/bad.xml" <<'EOX'
<?xml version="1.0" encoding="UTF-8"?>
<profile xmlns="urn:sluice:deid:1" name="bad" version="1" extends="basic">
  <fhir>
    <rule id="keep-comment" element="comment" method="keep"/>
    <rule id="x" path="Appointment.commentary" method="keep"/>
  </fhir>
</profile>
EOX
sluice deid --profile "$T/bad.xml" --key-file "$T/key" -o "$T/bad" \
    "$T/in" >/dev/null 2>"$T/bad.err"
rc=$?
check "a rule on no R4 element is refused with its line (exit $rc)" \
    sh -c "[ $rc -eq 1 ] && grep -q 'bad.xml:5: rule x: Appointment.commentary is not an element of FHIR R4' '$T/bad.err'"
finish
