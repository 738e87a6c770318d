#!/bin/sh
# sluice deid --reid-map and sluice reid: original -> pseudonym pairs
# encrypted with a second key; round trip, lookup, append, wrong key,
# a tampered byte, no original value in clear in the map.
. "${top_srcdir}/tests/integration/lib.sh"
plan 17
if ! command -v jq >/dev/null 2>&1 || ! command -v dcmdump >/dev/null 2>&1; then
    i=0; while [ $i -lt 17 ]; do skip "jq or dcmdump not installed"; i=$((i + 1)); done
    exit 0
fi
sluice synth --patients 3 --seed 5 -o "$T/in" >/dev/null 2>&1
sluice keygen >"$T/key"
sluice keygen >"$T/key2"
sluice keygen >"$T/key3"
dval() { dcmdump +P "$2" "$1" 2>/dev/null | sed -n 's/.*\[\(.*\)\].*/\1/p'; }

sluice -j 4 deid --key-file "$T/key" --reid-map "$T/map" \
    --reid-key-file "$T/key2" -o "$T/out" "$T/in" >/dev/null 2>"$T/err"
check "deid with --reid-map exits 0" [ $? -eq 0 ]
check "the map exists, mode 0600" sh -c "test -s '$T/map' && test \$(stat -c %a '$T/map') = 600"

# originals of the input
for f in $(find "$T/in" -name '*.dcm'); do
    for t in 0010,0020 0020,000d 0020,000e 0008,0018 0008,0050; do dval "$f" $t; done
done | sort -u | grep -v '^$' >"$T/orig.txt"
jq -r '.entry[].resource | select(.resourceType=="Patient") | .identifier[] |
       select(.type.coding[0].code=="MR") | .value' "$T"/in/fhir/*.json | sort -u >"$T/mrn.txt"
leaks=0
while IFS= read -r v; do
    if grep -qaF -- "$v" "$T/map"; then leaks=$((leaks + 1)); fi
done <"$T/orig.txt"
check "no original value in clear in the map ($(wc -l <"$T/orig.txt") checked, $leaks found)" [ $leaks -eq 0 ]

sluice reid --reid-key-file "$T/key2" "$T/map" >"$T/pairs" 2>"$T/rerr"
check "reid exits 0" [ $? -eq 0 ]
check "reid warns on stderr that the output holds patient data" grep -q "patient data" "$T/rerr"
cut -f2 "$T/pairs" | sort -u >"$T/got.txt"
check "every DICOM original is in the map" sh -c "comm -23 '$T/orig.txt' '$T/got.txt' | grep -q . && exit 1 || exit 0"
check "every FHIR MRN is in the map" sh -c "test -s '$T/mrn.txt' && ! comm -23 '$T/mrn.txt' '$T/got.txt' | grep -q ."
# each pair's pseudonym is what the output holds
bad=0
for f in $(find "$T/out/dicom" -name '*.dcm'); do
    sop=$(dval "$f" 0008,0018)
    grep -q "	$sop\$" "$T/pairs" || bad=$((bad + 1))
done
check "every output SOP Instance UID is a pseudonym in the map ($bad missing)" [ $bad -eq 0 ]
pid=$(dval "$(find "$T/out/dicom" -name '*.dcm' | head -n 1)" 0010,0020)
sluice reid --reid-key-file "$T/key2" --lookup "$pid" "$T/map" >"$T/one" 2>/dev/null
check "--lookup prints the entries of one pseudonym" sh -c "test -s '$T/one' && ! cut -f3 '$T/one' | grep -qv '^$pid\$'"

n1=$(wc -l <"$T/pairs")
sluice deid --key-file "$T/key" --reid-map "$T/map" \
    --reid-key-file "$T/key2" -o "$T/out2" "$T/in" >/dev/null 2>&1
n2=$(sluice reid --reid-key-file "$T/key2" "$T/map" 2>/dev/null | wc -l)
check "a second run appends to the map ($n1 then $n2 records)" [ "$n2" -eq $((n1 * 2)) ]

sluice reid --reid-key-file "$T/key3" "$T/map" >"$T/wout" 2>"$T/werr"
rc=$?
check "a wrong key: exit 1, a clear error, nothing printed (exit $rc)" \
    sh -c "[ $rc -eq 1 ] && grep -q 'wrong key' '$T/werr' && test ! -s '$T/wout'"

cp "$T/map" "$T/tampered"
# flip one byte inside the 3rd record's ciphertext: header 44 bytes, and
# record lengths read from the file
off=44; i=1
while [ $i -lt 3 ]; do
    len=$(od -An -tu1 -j $off -N4 "$T/map" | awk '{print $1*16777216+$2*65536+$3*256+$4}')
    off=$((off + 4 + 12 + len + 16)); i=$((i + 1))
done
pos=$((off + 4 + 12 + 2))
b=$(od -An -tu1 -j $pos -N1 "$T/map" | tr -d ' ')
printf "$(printf '\\%03o' $(( (b + 1) % 256 )))" | dd of="$T/tampered" bs=1 seek=$pos conv=notrunc 2>/dev/null
sluice reid --reid-key-file "$T/key2" "$T/tampered" >/dev/null 2>"$T/terr"
rc=$?
check "a tampered byte: an error naming record 3 (exit $rc)" \
    sh -c "[ $rc -ne 0 ] && grep -q 'record 3 ' '$T/terr'"

size=$(stat -c %s "$T/map")
head -c $((size - 5)) "$T/map" >"$T/cut"
nrec=$(sluice reid --reid-key-file "$T/key2" "$T/map" 2>/dev/null | wc -l)
sluice reid --reid-key-file "$T/key2" "$T/cut" >/dev/null 2>"$T/cerr"
rc=$?
check "a truncated map: an error naming the last record, $nrec (exit $rc)" \
    sh -c "[ $rc -eq 2 ] && grep -q 'record $nrec ' '$T/cerr'"
sluice deid --key-file "$T/key" --reid-map "$T/cut" --reid-key-file "$T/key2" \
    -o "$T/out5" "$T/in" >/dev/null 2>"$T/aerr"
rc=$?
check "appending to a truncated map is refused (exit $rc)" \
    sh -c "[ $rc -ne 0 ] && grep -q 'truncated' '$T/aerr'"
sluice deid --key-file "$T/key" --reid-map "$T/m2" --reid-key-file "$T/key" \
    -o "$T/out3" "$T/in" >/dev/null 2>"$T/serr"
rc=$?
check "the pseudonym key as the map's key is refused (exit $rc)" \
    sh -c "[ $rc -eq 1 ] && grep -q 'must differ' '$T/serr'"
sluice deid --key-file "$T/key" --reid-map "$T/m3" -o "$T/out4" "$T/in" >/dev/null 2>&1
rc=$?
check "--reid-map without --reid-key-file is a usage error (exit $rc)" [ $rc -eq 1 ]
if command -v flock >/dev/null 2>&1; then
    flock "$T/map" $SLUICE_WRAP "$SLUICE" deid --key-file "$T/key" --reid-map "$T/map" \
        --reid-key-file "$T/key2" -o "$T/out6" "$T/in" >/dev/null 2>"$T/lerr"
    rc=$?
    check "a map another run holds is refused (exit $rc)" \
        sh -c "[ $rc -eq 2 ] && grep -q 'in use' '$T/lerr'"
else
    skip "flock is not installed"
fi
finish
