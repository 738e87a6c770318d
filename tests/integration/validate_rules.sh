#!/bin/sh
# Rules of sluice validate beyond structure, each on a case a user would
# write (fixtures in tests/data/validate/, written for sluice, CC0):
# QuestionnaireResponses against their Questionnaire (enableWhen, an
# exclusive option, a Quantity maximum converted between UCUM units);
# narratives (XHTML: allowed elements and attributes, no active content,
# some text); a profile's minValue/maxValue of a Quantity in UCUM units;
# Bundle link relations; an Attachment's size; extension contexts;
# unknown extensions (a warning, an error with --unknown-extensions error);
# document entries reachable from the Composition; JSON with comments
# (--allow-comments); a profile's narrative language and source controls;
# type profiles (a value conforms to one of the profiles of its type);
# the same checks turned on by <validate> attributes in a job.
. "${top_srcdir}/tests/integration/lib.sh"
plan 38
D="$top_srcdir/tests/data/validate"
mkdir -p "$T/ig"
cp "$D/q/questionnaire.json" "$T/ig/"
sluice validate --ig "$T/ig" "$D/q/responses.ndjson" >"$T/q.out" 2>/dev/null
rc=$?
errs() { sed -n "$1p" "$T/q.out" | jq -c '[.issue[] | select(.severity=="error") | .expression[0] + " " + .details.text]'; }
check "questionnaire: exit 3, the first two responses valid (80000 g under 300 kg; a disabled item left out)" \
    sh -c '[ $1 -eq 3 ] && [ "$2" = "[]" ] && [ "$3" = "[]" ]' _ $rc "$(errs 1)" "$(errs 2)"
check "enableWhen: an answer to a disabled item is an error at the item" \
    sh -c 'echo "$1" | grep -q "^\[\"QuestionnaireResponse.item\[1\] item per-day has an answer, but its enableWhen conditions do not hold"' _ "$(errs 3)"
check "enableWhen: an enabled required item left out is an error" \
    sh -c 'echo "$1" | grep -q "required item per-day is missing"' _ "$(errs 4)"
check "an exclusive option given with another answer is an error at it" \
    sh -c 'echo "$1" | grep -q "item\[1\].answer\[1\] the answer to item symptoms is an exclusive option"' _ "$(errs 5)"
check "400000 g is above a maximum of 300 kg" \
    sh -c 'echo "$1" | grep -q "weight is above the item.s maximum"' _ "$(errs 6)"
check "metres cannot be compared with a maximum in kg" \
    sh -c 'echo "$1" | grep -q "weight cannot be compared with its maximum"' _ "$(errs 7)"
check "regex with \\s in brackets (as FHIR writes them): a@b.org matches, the other answer does not" \
    sh -c 'echo "$1" | grep -q "item\[1\].answer\[1\] the answer to item email does not match" && ! echo "$1" | grep -q "answer\[0\] the answer to item email"' _ "$(errs 8)"
check "no answer value in the outcomes" \
    sh -c '! grep -q "400000\|80000\|cough" "$1"' _ "$T/q.out"

# narratives: tests/data/validate/narratives.ndjson, one Patient a line
sluice validate "$D/narratives.ndjson" >"$T/n.out" 2>/dev/null
rc=$?
nerrs() { sed -n "$1p" "$T/n.out" | jq -c '[.issue[] | select(.severity=="error") | .expression[0] + " " + .details.text]'; }
check "narrative: basic formatting, a character reference and an image are valid; exit 3 for the others" \
    sh -c '[ $1 -eq 3 ] && [ "$2" = "[]" ]' _ $rc "$(nerrs 1)"
check "narrative: a <script> is refused at Patient.text.div (txt-1)" \
    sh -c 'echo "$1" | grep -q "Patient.text.div the narrative holds a <script> element" && echo "$1" | grep -q "txt-1"' _ "$(nerrs 2)"
check "narrative: an event attribute is refused" \
    sh -c 'echo "$1" | grep -q "has an event attribute"' _ "$(nerrs 3)"
check "narrative: only white space is refused (txt-2)" \
    sh -c 'echo "$1" | grep -q "txt-2: the narrative has no text"' _ "$(nerrs 4)"
check "narrative: a javascript: link is refused" \
    sh -c 'echo "$1" | grep -q "<a> href is a script"' _ "$(nerrs 5)"

# a profile's limits: 0 to 300 kg on Observation.valueQuantity
sluice validate --profile "$D/weight-profile.json" "$D/limits.ndjson" >"$T/l.out" 2>/dev/null
lerrs() { sed -n "$1p" "$T/l.out" | jq -c '[.issue[] | select(.severity=="error") | .details.text]'; }
check "profile limits: 70000 g is within 0-300 kg" [ "$(lerrs 1)" = "[]" ]
check "profile limits: 400 kg is more than the maxValue, -5 [lb_av] less than the minValue" \
    sh -c 'echo "$1" | grep -q "more than the profile.s maxValue" && echo "$2" | grep -q "less than the profile.s minValue"' _ "$(lerrs 2)" "$(lerrs 3)"
check "profile limits: metres cannot be compared with kg (an error, not a pass)" \
    sh -c 'echo "$1" | grep -q "cannot be compared with the profile.s minValue"' _ "$(lerrs 4)"

# a Bundle with two self links; Attachments whose size is and is not that of their data
sluice validate "$D/rules.ndjson" >"$T/r.out" 2>/dev/null
rerrs() { sed -n "$1p" "$T/r.out" | jq -c '[.issue[] | select(.severity=="error") | .expression[0] + " " + .details.text]'; }
check "Bundle: a second link with the relation self is an error at it" \
    sh -c 'echo "$1" | grep -q "Bundle.link\[1\] a link with the same relation as link 0"' _ "$(rerrs 1)"
check "SearchParameter: a composite one without components is an error" \
    sh -c 'echo "$1" | grep -q "a composite SearchParameter combines two or more components"' _ "$(rerrs 4)"
check "Bundle: Practitioner/UUID where the entry with that urn:uuid is an Organization is an error" \
    sh -c 'echo "$1" | grep -q "generalPractitioner\[0\].reference the reference names a resource of another type"' _ "$(rerrs 5)"
check "contained: a ValueSet named by a canonical (#vs1) is referenced (dom-3 holds)" \
    [ "$(rerrs 6)" = "[]" ]
check "Attachment: a stated size other than the data's is an error; the right one is valid" \
    sh -c 'echo "$1" | grep -q "Media.content.size the stated size is not the size" && [ "$2" = "[]" ]' _ "$(rerrs 2)" "$(rerrs 3)"

# an extension defined for Patient and DomainResource.text, with a contextInvariant
mkdir -p "$T/ext"
cp "$D/ext-smoker.json" "$T/ext/"
sluice validate --ig "$T/ext" "$D/extensions.ndjson" >"$T/x.out" 2>/dev/null
xerrs() { sed -n "$1p" "$T/x.out" | jq -c '[.issue[] | select(.severity=="error") | .expression[0] + " " + .details.text]'; }
check "extension contexts: on a Patient and on its text (DomainResource.text) it is valid" \
    sh -c '[ "$1" = "[]" ] && [ "$2" = "[]" ]' _ "$(xerrs 1)" "$(xerrs 2)"
check "extension contexts: on an Organization and on Patient.name it is an error at the extension" \
    sh -c 'echo "$1" | grep -q "Organization.extension\[0\] the extension http://example.org/StructureDefinition/smoker may not be used on Organization" && echo "$2" | grep -q "Patient.name\[0\].extension\[0\] .* may not be used on Patient.name"' _ "$(xerrs 3)" "$(xerrs 4)"
check "extension contexts: a contextInvariant that does not hold is an error" \
    sh -c 'echo "$1" | grep -q "contextInvariant does not hold"' _ "$(xerrs 5)"

# an extension whose definition is not loaded
sluice validate "$D/unknown-ext.ndjson" >"$T/u1.out" 2>/dev/null
rc1=$?
sluice validate --unknown-extensions error "$D/unknown-ext.ndjson" >"$T/u2.out" 2>/dev/null
rc2=$?
sev() { sed -n "$2p" "$1" | jq -r '[.issue[] | select(.expression[0]=="Patient.extension[0]") | .severity] | join(",")'; }
check "unknown extension: a warning by default (exit 0)" \
    sh -c '[ $1 -eq 0 ] && [ "$2" = warning ] && [ "$3" = warning ]' _ $rc1 "$(sev "$T/u1.out" 1)" "$(sev "$T/u1.out" 2)"
check "unknown extension: an error with --unknown-extensions error, HL7's own a warning" \
    sh -c '[ $1 -eq 3 ] && [ "$2" = error ] && [ "$3" = warning ]' _ $rc2 "$(sev "$T/u2.out" 1)" "$(sev "$T/u2.out" 2)"

# documents: every entry reachable from the Composition (a Provenance
# pointing back at it is); an Organization nothing refers to is not
sluice validate "$D/documents.ndjson" >"$T/d.out" 2>/dev/null
derrs() { sed -n "$1p" "$T/d.out" | jq -c '[.issue[] | select(.severity=="error") | .expression[0] + " " + .details.text]'; }
check "document: an entry no reference reaches is an error at it; the rest are reachable" \
    sh -c '[ "$1" = "[]" ] && echo "$2" | grep -q "^\[\"Bundle.entry\[4\] the entry is not reachable"' _ "$(derrs 1)" "$(derrs 2)"

# JSON with comments: malformed JSON, unless --allow-comments
sluice validate "$D/comments.json" >"$T/c1.out" 2>/dev/null
rc1=$?
sluice validate --allow-comments "$D/comments.json" >"$T/c2.out" 2>/dev/null
rc2=$?
check "comments: malformed JSON (exit 3, fatal at line 1) without --allow-comments, valid with it" \
    sh -c '[ $1 -eq 3 ] && grep -q "\"fatal\".*line 1 column" "$3" && [ $2 -eq 0 ] && ! grep -q "\"error\"" "$4"' _ $rc1 $rc2 "$T/c1.out" "$T/c2.out"

# a profile's narrative controls: no language sections, a class on each part
sluice validate --profile "$D/narrative-profile.json" "$D/narrative-controls.ndjson" >"$T/nc.out" 2>/dev/null
ncerrs() { sed -n "$1p" "$T/nc.out" | jq -c '[.issue[] | select(.severity=="error") | .expression[0] + " " + .details.text]'; }
check "narrative controls: a language section and a part without a class are errors at Patient.text" \
    sh -c '[ "$1" = "[]" ] && echo "$2" | grep -q "Patient.text the narrative has language sections (de)" && echo "$2" | grep -q "Patient.text 1 part of the narrative has no class"' _ "$(ncerrs 1)" "$(ncerrs 2)"

# type profiles: Patient.address must be one of two Address profiles
sluice validate --ig "$D/type-profiles" --profile http://example.org/StructureDefinition/patient-addresses \
    "$D/type-profiles.ndjson" >"$T/tp.out" 2>/dev/null
tperrs() { sed -n "$1p" "$T/tp.out" | jq -c '[.issue[] | select(.severity=="error") | .expression[0] + " " + .details.text]'; }
check "type profiles: an address with a city conforms to one; one with neither use nor city to none (an error, and why for each)" \
    sh -c '[ "$1" = "[]" ] && echo "$2" | grep -q "Patient.address\[0\] Patient.address: the value conforms to none" && echo "$2" | grep -q "Address.use: the profile needs at least 1" && echo "$2" | grep -q "Address.city: the profile needs at least 1"' _ "$(tperrs 1)" "$(tperrs 2)"

# slicing by profile: a Bundle needs one entry whose Patient conforms to a profile (gender given)
sluice validate --ig "$D/type-profiles" --profile http://example.org/StructureDefinition/bundle-with-patient \
    "$D/profile-slicing.ndjson" >"$T/ps.out" 2>/dev/null
pserrs() { sed -n "$1p" "$T/ps.out" | jq -c '[.issue[] | select(.severity=="error") | .expression[0] + " " + .details.text]'; }
check "slicing by profile: the entry whose Patient conforms fills the slice; one that does not leaves it empty (an error)" \
    sh -c '[ "$1" = "[]" ] && echo "$2" | grep -q "slice Bundle.entry:patient: the profile needs at least 1"' _ "$(pserrs 1)" "$(pserrs 2)"

# target profiles in a Bundle: the Observation's subject must be a Patient with a gender
sluice validate --ig "$D/type-profiles" --profile http://example.org/StructureDefinition/bundle-of-observations \
    "$D/target-profiles.ndjson" >"$T/tg.out" 2>/dev/null
tgerrs() { sed -n "$1p" "$T/tg.out" | jq -c '[.issue[] | select(.severity=="error") | .expression[0] + " " + .details.text]'; }
check "target profiles: a subject that conforms fills the slice; one that does not leaves it empty (an error)" \
    sh -c '[ "$1" = "[]" ] && echo "$2" | grep -q "slice Bundle.entry:obs: the profile needs at least 1"' _ "$(tgerrs 1)" "$(tgerrs 2)"

# --security-checks: HTML markup in a string
sluice validate "$D/security.ndjson" >/dev/null 2>&1
rc1=$?
sluice validate --security-checks "$D/security.ndjson" >"$T/s.out" 2>/dev/null
rc2=$?
serrs() { sed -n "$1p" "$T/s.out" | jq -c '[.issue[] | select(.severity=="error") | .expression[0] + " " + .details.text]'; }
check "security checks: markup in a string is an error only with --security-checks; a < b is not markup" \
    sh -c '[ $1 -eq 0 ] && [ $2 -eq 3 ] && echo "$3" | grep -q "Patient.name\[0\].text the string holds HTML markup (a <script> tag)" && [ "$4" = "[]" ]' _ $rc1 $rc2 "$(serrs 1)" "$(serrs 2)"

# a type profile that is R4's own definition of a resource type
sluice validate --ig "$D/type-profiles" --profile http://example.org/StructureDefinition/bundle-of-patients \
    "$D/core-type-profiles.ndjson" >"$T/ct.out" 2>/dev/null
cterrs() { sed -n "$1p" "$T/ct.out" | jq -c '[.issue[] | select(.severity=="error") | .expression[0] + " " + .details.text]'; }
check "core type profiles: a Patient entry is valid, an Organization entry is an error at it" \
    sh -c '[ "$1" = "[]" ] && echo "$2" | grep -q "Bundle.entry\[0\].resource Bundle.entry.resource: a Patient is needed here"' _ "$(cterrs 1)" "$(cterrs 2)"

# --no-example-urls: a placeholder URL left in the data
sluice validate "$D/example-urls.ndjson" >/dev/null 2>&1
rc1=$?
sluice validate --no-example-urls "$D/example-urls.ndjson" >"$T/ex.out" 2>/dev/null
rc2=$?
exerrs() { sed -n "$1p" "$T/ex.out" | jq -c '[.issue[] | select(.severity=="error") | .expression[0] + " " + .details.text]'; }
check "example URLs: an error only with --no-example-urls, and only on an example domain" \
    sh -c '[ $1 -eq 0 ] && [ $2 -eq 3 ] && echo "$3" | grep -q "DocumentReference.content\[0\].attachment.url the url is on an example domain" && [ "$4" = "[]" ]' _ $rc1 $rc2 "$(exerrs 1)" "$(exerrs 2)"

# in a job: the same two checks by <validate> attributes, off by default
for v in off on; do
    write_config "$T/j$v"
    cp "$D/security.ndjson" "$D/example-urls.ndjson" "$T/j$v/in/fhir/"
    if [ $v = on ]; then a=' security-checks="yes" example-urls="error"'; else a=''; fi
    sed -i "s|<push |<validate on-error=\"quarantine\"$a/>\n    <push |" "$T/j$v/sluice.xml"
    (cd "$T/j$v" && sluice --config sluice.xml run t >/dev/null 2>&1)
    echo $? >"$T/j$v.rc"
    (cd "$T/j$v" && sluice --config sluice.xml quarantine list >"$T/j$v.q" 2>&1)
done
check "a job without the attributes passes markup and example URLs (exit 0, nothing quarantined)" \
    sh -c '[ "$(cat "$1")" = 0 ] && ! grep -q validate "$2"' _ "$T/joff.rc" "$T/joff.q"
check "security-checks=yes and example-urls=error: exit 3, the two resources quarantined with the element" \
    sh -c '[ "$(cat "$1")" = 3 ] && [ $(grep -c validate "$2") -eq 2 ] && grep -q "Patient.name\[0\].text" "$2" && grep -q "DocumentReference.content\[0\].attachment.url" "$2"' _ "$T/jon.rc" "$T/jon.q"
sed 's|security-checks="yes"|security-checks="maybe"|' "$T/jon/sluice.xml" >"$T/jbad.xml"
sluice --config "$T/jbad.xml" check-config >/dev/null 2>"$T/jbad.err"
check "check-config names a wrong value of security-checks with its line" \
    sh -c '[ $1 -ne 0 ] && grep -q "jbad.xml:[0-9]*.*security-checks" "$2"' _ $? "$T/jbad.err"
finish
