#!/bin/sh
# A second opinion on sluice validate: the resources of `sluice synth`,
# of `sluice deid` over them and of `sluice translate` over them are
# validated by sluice and by Medplum's validateResource (@medplum/core, an
# implementation nobody on this project wrote, installed from npm as the
# test FHIR server is): both must call every one valid. Copies broken in
# one way each (cardinality, a wrong type, a bad date, an unknown element,
# a broken reference) must be invalid for both. Skipped only when node or
# npm is missing or the packages cannot be installed.
. "${top_srcdir}/tests/integration/lib.sh"
. "${top_srcdir}/tests/integration/connectors_lib.sh"
plan 8
conn_need 8
cp "$top_srcdir/tests/validate/medplum_validate.mjs" "$T/server/"
medplum() { (cd "$T/server" && node medplum_validate.mjs "$@"); }
# every resource of the Bundles under a folder, one a line
resources() { find "$1" -name '*.json' | sort | xargs jq -c '.entry[].resource'; }

sluice synth --patients 10 --seed 11 --no-dicom -o "$T/syn" >/dev/null 2>&1
printf 'trial-key-0123456789abcdef0123456789abcdef' >"$T/key"
chmod 600 "$T/key"
sluice deid --key-file "$T/key" -o "$T/deid" "$T/syn/fhir" >/dev/null 2>&1
sluice translate --map lab-local-to-loinc -o "$T/tr" "$T/syn/fhir" >/dev/null 2>&1
for what in syn deid tr; do
    d=$T/$what
    [ $what = syn ] && d=$T/syn/fhir
    resources "$d" >"$T/$what.ndjson"
done
for what in syn deid tr; do
    n=$(wc -l <"$T/$what.ndjson")
    sluice validate "$T/$what.ndjson" >"$T/$what.sl" 2>"$T/$what.err"
    rc=$?
    medplum "$T/$what.ndjson" >"$T/$what.mp"
    nmp=$(grep -c '^valid$' "$T/$what.mp")
    [ $rc -eq 0 ] || diag "$(head -5 "$T/$what.err")"
    [ "$nmp" -eq "$n" ] || diag "$(grep -v '^valid$' "$T/$what.mp" | head -3)"
    check "$what: all $n resources valid for sluice and for Medplum" \
        sh -c '[ $1 -eq 0 ] && [ $2 -gt 0 ] && [ $2 -eq $3 ]' _ $rc "$n" "$nmp"
done

# broken copies of each Patient and Observation, one fault each
jq -c 'select(.resourceType=="Patient" or .resourceType=="Observation")' "$T/syn.ndjson" >"$T/base.ndjson"
jq -c 'if .resourceType=="Patient" then .gender = ["female"] else .status = ["final"] end' "$T/base.ndjson" >"$T/b-card.ndjson"
jq -c 'if .resourceType=="Patient" then .active = "yes" else .issued = 20200101 end' "$T/base.ndjson" >"$T/b-type.ndjson"
jq -c 'if .resourceType=="Patient" then .birthDate = "1980-02-30T" else .effectiveDateTime = "2020-13-01" end' "$T/base.ndjson" >"$T/b-date.ndjson"
jq -c '.colour = "blue"' "$T/base.ndjson" >"$T/b-unknown.ndjson"
jq -c 'if .resourceType=="Patient" then .managingOrganization = "Organization/1" else .subject = "Patient/1" end' "$T/base.ndjson" >"$T/b-ref.ndjson"
nb=$(wc -l <"$T/base.ndjson")
for fault in card type date unknown ref; do
    sluice validate "$T/b-$fault.ndjson" >"$T/b-$fault.sl" 2>/dev/null
    nsl=$(jq -c 'select([.issue[] | select(.severity=="error")] | length > 0)' "$T/b-$fault.sl" | wc -l)
    nmp=$(medplum "$T/b-$fault.ndjson" | grep -c '^invalid')
    check "broken ($fault): all $nb invalid for sluice and for Medplum" \
        sh -c '[ $1 -gt 0 ] && [ $1 -eq $2 ] && [ $1 -eq $3 ]' _ "$nb" "$nsl" "$nmp"
done
finish
