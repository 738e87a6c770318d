#!/bin/sh
# sink_dicom_layouts.sh - the dicom-folder sink's layouts folders,
# dicomdir and zip through `sluice run`: manifests whose SHA-256 match
# the delivered files, right counts, no original value anywhere, a
# DICOMDIR that DCMTK reads, a zip that unzip lists; a second run of a
# scheduled job adds only its new instances; a plain copy job is
# refused instance by instance; kill -9 and resume deliver each instance
# exactly once with a manifest that matches.
. "${top_srcdir}/tests/integration/lib.sh"
for tool in dcmdump dcmmkdir dcmodify unzip jq sha256sum; do
    if ! command -v $tool >/dev/null; then
        echo "1..0 # SKIP $tool is not installed"
        exit 0
    fi
done
plan 47

# conf DIR: jobs f, d, z (one per layout, with <deid>) and copy (none).
conf() {
    mkdir -p "$1/in/dicom"
    sluice keygen >"$1/key" 2>/dev/null
    cat >"$1/sluice.xml" <<EOC
<?xml version="1.0"?>
<sluice xmlns="urn:sluice:config:1">
  <keys pseudonym="file:key"/>
  <state path="state/sluice.db"/>
  <quarantine path="quarantine"/>
  <source id="pacs" type="dicom-folder" path="in/dicom"/>
  <target id="tf" type="dicom-folder" path="out/folders" layout="folders"/>
  <target id="td" type="dicom-folder" path="out/dicomdir" layout="dicomdir"/>
  <target id="tz" type="dicom-folder" path="out/zip" layout="zip"/>
  <target id="tc" type="dicom-folder" path="out/copy" layout="folders"/>
  <job id="f" schedule="0 2 * * *"><pull from="pacs"/><deid profile="basic"/><push dicom="tf"/></job>
  <job id="d" schedule="0 2 * * *"><pull from="pacs"/><deid profile="basic"/><push dicom="td"/></job>
  <job id="z" schedule="0 2 * * *"><pull from="pacs"/><deid profile="basic"/><push dicom="tz"/></job>
  <job id="copy"><pull from="pacs"/><push dicom="tc"/></job>
</sluice>
EOC
}

# shas DIR: the files of DIR/manifest.csv whose SHA-256 differ from
# sha256sum's (none when all match), and DIR's instance files the
# manifest does not list.
shas() {
    ( cd "$1" && tail -n +2 manifest.csv | while IFS=, read -r path rest; do
        want=${rest##*,}
        got=$(sha256sum "$path" 2>/dev/null | cut -d' ' -f1)
        [ "$want" = "$got" ] || echo "bad $path"
    done
    find . -type f ! -name 'manifest.*' ! -name DICOMDIR | sed 's|^\./||' |
        while read -r f; do
            grep -q "^$f," manifest.csv || echo "unlisted $f"
        done ) 2>&1
}

# originals DIR: PatientID, PatientName and UIDs of the input instances.
originals() {
    find "$1" -type f -exec dcmdump -q +P 0010,0020 +P 0010,0010 \
        +P 0020,000d +P 0020,000e +P 0008,0018 {} + 2>/dev/null |
        sed -n 's/^[^[]*\[\([^]]*\)\].*/\1/p' | sort -u
}

# leaks FILE...: lines with an original value (none expected).
leaks() { grep -F -f "$T/orig.txt" "$@"; }

conf "$T"
sluice synth --patients 5 --seed 21 -o "$T/syn" >/dev/null 2>&1
# run 1: patients 1 to 3; run 2 adds patients 4 and 5
cp -r "$T/syn/dicom/000001" "$T/syn/dicom/000002" "$T/syn/dicom/000003" "$T/in/dicom/"
n1=$(find "$T/in/dicom" -type f | wc -l)
originals "$T/syn/dicom" >"$T/orig.txt"

sluice --config "$T/sluice.xml" check-config >/dev/null 2>&1
check "check-config accepts layouts folders, dicomdir and zip" [ $? -eq 0 ]
sed 's/layout="zip"/layout="tarball"/' "$T/sluice.xml" >"$T/bad.xml"
sluice --config "$T/bad.xml" check-config >"$T/bad.txt" 2>&1
rc=$?
line=$(grep -n 'layout="tarball"' "$T/bad.xml" | cut -d: -f1)
check "an unknown layout: exit 1, the file and line named (line $line)" \
    sh -c "[ $rc -eq 1 ] && grep -q 'bad.xml:$line:.*layout' '$T/bad.txt'"

for j in f d z; do
    sluice --config "$T/sluice.xml" -q run $j --no-progress >"$T/run1-$j.txt" 2>&1
    check "run 1 of the $j job: exit 0" [ $? -eq 0 ]
done

# folders
O="$T/out/folders"
check "folders: $n1 instances delivered" [ "$(find "$O" -name '*.dcm' | wc -l)" -eq "$n1" ]
shas "$O" >"$T/f.sha"
check "folders: manifest.csv lists every file, SHA-256 equal to sha256sum" \
    sh -c "[ ! -s '$T/f.sha' ] && [ \$(tail -n +2 '$O/manifest.csv' | wc -l) -eq $n1 ]"
check "folders: manifest.json counts 3 patients, 3 studies, $n1 instances" \
    [ "$(jq -r '"\(.patients) \(.studies|length) \(.instances) \([.studies[].instances]|add)"' "$O/manifest.json")" = "3 3 $n1 $n1" ]
check "folders: manifest.json names the layout and the de-identification method" \
    [ "$(jq -r '"\(.layout) \(.deidentification_methods|length)"' "$O/manifest.json")" = "folders 1" ]

# dicomdir
O="$T/out/dicomdir"
check "dicomdir: $n1 instances delivered" [ "$(find "$O" -type f -name 'I*' | wc -l)" -eq "$n1" ]
n=$(dcmdump "$O/DICOMDIR" 2>/dev/null | grep -c ReferencedFileID)
check "dicomdir: dcmdump reads the DICOMDIR, which references the $n1 instances ($n)" [ "$n" -eq "$n1" ]
shas "$O" >"$T/d.sha"
check "dicomdir: manifest SHA-256 equal to sha256sum, every file listed" [ ! -s "$T/d.sha" ]
cp -r "$O" "$T/ddcheck"
( cd "$T/ddcheck" && dcmmkdir -q +U +I -Pgp +r P0* ) >"$T/dcmmkdir.txt" 2>&1
rc=$?
n=$(dcmdump "$T/ddcheck/DICOMDIR" 2>/dev/null | grep -c ReferencedFileID)
check "dicomdir: dcmmkdir --update takes the DICOMDIR, with no new record (exit $rc, $n)" \
    sh -c "[ $rc -eq 0 ] && [ $n -eq $n1 ]"

# zip
O="$T/out/zip"
z1=$(ls "$O"/run-*.zip 2>/dev/null)
check "zip: one zip, named by the run" [ "$(echo "$z1" | wc -w)" -eq 1 ]
unzip -l "$z1" >"$T/z1.list" 2>&1
check "zip: unzip -l lists the $n1 instances and both manifests" \
    sh -c "[ \$(grep -c '\.dcm\$' '$T/z1.list') -eq $n1 ] && grep -q ' manifest.json\$' '$T/z1.list' && grep -q ' manifest.csv\$' '$T/z1.list'"
mkdir -p "$T/zx1" && (cd "$T/zx1" && unzip -q "$z1")
shas "$T/zx1" >"$T/z.sha"
check "zip: extracted files' SHA-256 equal manifest.csv" [ ! -s "$T/z.sha" ]
check "zip: manifest.json names the run" \
    [ "$(jq -r .run "$T/zx1/manifest.json")" = "$(basename "$z1" .zip)" ]
check "zip: nothing else in the folder (no staging, no temporary)" \
    [ "$(find "$O" -mindepth 1 | wc -l)" -eq 1 ]

# no original value: manifests, paths, zip listings, the journals
find "$T/out" >"$T/paths.txt"
check "no original PatientID, name or UID in any path" sh -c "! leaks '$T/paths.txt' >/dev/null"
check "no original value in any manifest" \
    sh -c "! leaks '$T'/out/*/manifest.* '$T'/zx1/manifest.* '$T/z1.list' >/dev/null"
check "no original value in the sink's journals" \
    sh -c "! leaks '$T'/state/sinks/*/journal.tsv >/dev/null"

# run 2 of the scheduled jobs: two more patients
cp -r "$T/syn/dicom/000004" "$T/syn/dicom/000005" "$T/in/dicom/"
n2=$(find "$T/in/dicom" -type f | wc -l)
for j in f d z; do
    sluice --config "$T/sluice.xml" -q run $j --no-progress >"$T/run2-$j.txt" 2>&1
    check "run 2 of the $j job: exit 0" [ $? -eq 0 ]
done
O="$T/out/folders"
shas "$O" >"$T/f2.sha"
check "folders, run 2: the manifests cover all $n2 instances delivered so far" \
    sh -c "[ ! -s '$T/f2.sha' ] && [ \$(jq .instances '$O/manifest.json') -eq $n2 ] && [ \$(find '$O' -name '*.dcm' | wc -l) -eq $n2 ]"
O="$T/out/dicomdir"
n=$(dcmdump "$O/DICOMDIR" 2>/dev/null | grep -c ReferencedFileID)
shas "$O" >"$T/d2.sha"
check "dicomdir, run 2: the DICOMDIR lists all $n2 instances ($n)" \
    sh -c "[ $n -eq $n2 ] && [ ! -s '$T/d2.sha' ] && [ \$(jq .instances '$O/manifest.json') -eq $n2 ]"
rm -rf "$T/ddcheck2" && cp -r "$O" "$T/ddcheck2"
( cd "$T/ddcheck2" && dcmmkdir -q +U +I -Pgp +r P0* ) >"$T/dcmmkdir2.txt" 2>&1
rc=$?
n=$(dcmdump "$T/ddcheck2/DICOMDIR" 2>/dev/null | grep -c ReferencedFileID)
check "dicomdir, run 2: dcmmkdir --update takes the DICOMDIR, with no new record (exit $rc, $n)" \
    sh -c "[ $rc -eq 0 ] && [ $n -eq $n2 ]"
check "dicomdir, run 2: earlier instances keep their names" \
    sh -c "[ \$(find '$O' -type f -name 'I*' | wc -l) -eq $n2 ] && [ -e '$O/P0000001/S0000001/R0000001/I0000001' ]"
O="$T/out/zip"
check "zip, run 2: a second zip, the first untouched" \
    sh -c "[ \$(ls '$O'/run-*.zip | wc -l) -eq 2 ] && unzip -l '$z1' | cmp -s - '$T/z1.list'"
z2=$(ls "$O"/run-*.zip | grep -v "$z1")
mkdir -p "$T/zx2" && (cd "$T/zx2" && unzip -q "$z2")
shas "$T/zx2" >"$T/z2.sha"
check "zip, run 2: only the $((n2 - n1)) new instances, with their own manifests" \
    sh -c "[ ! -s '$T/z2.sha' ] && [ \$(find '$T/zx2' -name '*.dcm' | wc -l) -eq $((n2 - n1)) ] && [ \$(jq .instances '$T/zx2/manifest.json') -eq $((n2 - n1)) ]"
cat "$T"/zx1/manifest.csv "$T"/zx2/manifest.csv | grep -v '^path,' | cut -d, -f5 | sort | uniq -d >"$T/zdup.txt"
check "zip: no instance in both zips" [ ! -s "$T/zdup.txt" ]
sluice --config "$T/sluice.xml" -q run z --no-progress >/dev/null 2>&1
check "zip, run 3 with nothing new: no zip" [ "$(ls "$O"/run-*.zip | wc -l)" -eq 2 ]

# a plain copy job into a layout with a manifest
sluice --config "$T/sluice.xml" -q run copy --no-progress >"$T/copy.txt" 2>&1
rc=$?
check "copy job (no <deid>): exit 3, every instance quarantined" \
    sh -c "[ $rc -eq 3 ] && [ \$(find '$T/out/copy' -name '*.dcm' | wc -l) -eq 0 ]"
sluice --config "$T/sluice.xml" quarantine list >"$T/q.txt" 2>&1
check "copy job: the reason says de-identified instances only" \
    grep -q 'delivers de-identified instances only' "$T/q.txt"
check "copy job: its manifest lists nothing and no original value" \
    sh -c "[ \$(jq .instances '$T/out/copy/manifest.json') -eq 0 ] && ! leaks '$T'/out/copy/manifest.* >/dev/null"
check "copy job: no original value in its messages" sh -c "! leaks '$T/copy.txt' '$T/q.txt' >/dev/null"

# An instance DCMTK will not index is quarantined, not a DICOMDIR that
# fails at every end of run.
X="$T/x"
conf "$X"
cp "$T/syn/dicom/000001/1/1.dcm" "$X/in/dicom/ok.dcm"
cp "$T/syn/dicom/000002/1/1.dcm" "$X/in/dicom/odd.dcm"
dcmodify -nb -m "(0008,0016)=1.2.826.0.1.3680043.99999.1" "$X/in/dicom/odd.dcm" >/dev/null 2>&1
sluice --config "$X/sluice.xml" -q run d --no-progress >/dev/null 2>&1
rc=$?
sluice --config "$X/sluice.xml" quarantine list >"$X/q.txt" 2>&1
n=$(dcmdump "$X/out/dicomdir/DICOMDIR" 2>/dev/null | grep -c ReferencedFileID)
check "dicomdir: an instance DCMTK cannot index is quarantined (exit $rc), the other delivered ($n)" \
    sh -c "[ $rc -eq 3 ] && [ $n -eq 1 ] && grep -q 'DICOMDIR: cannot index' '$X/q.txt'"
rm -rf "$X/state/sinks"
sluice --config "$X/sluice.xml" -q run d --no-progress >/dev/null 2>"$X/err.txt"
rc=$?
check "dicomdir: a media set the journal does not know is refused (exit $rc)" \
    sh -c "[ $rc -eq 1 ] && grep -q 'did not deliver' '$X/err.txt'"

# kill -9 mid-run, then resume: exactly once, manifests that match
K="$T/k"
conf "$K"
sluice synth --patients 40 --seed 11 -o "$K/syn" >/dev/null 2>&1
cp -r "$K/syn/dicom/." "$K/in/dicom/"
nk=$(find "$K/in/dicom" -type f | wc -l)
for j in f d z; do
    kills=0
    rc=1
    for delay in 0.1 0.05 0.15 0.08 0.2 0.12 0.3 0.1 0.25 0.15; do
        $SLUICE --config "$K/sluice.xml" -q -j 2 run $j --no-progress \
            --commit-every 1 >/dev/null 2>>"$K/loop-$j.txt" &
        pid=$!
        sleep $delay
        if kill -9 $pid 2>/dev/null; then
            wait $pid 2>/dev/null
            kills=$((kills + 1))
            # The kill may have hit a run that had just finished.
            if sluice --config "$K/sluice.xml" runs 2>/dev/null |
                grep -q " $j  *finished"; then
                rc=0
                break
            fi
        else
            wait $pid
            rc=$?
            break
        fi
    done
    if [ $rc -ne 0 ]; then
        sluice --config "$K/sluice.xml" -q run $j --no-progress >/dev/null 2>"$K/err-$j.txt"
        rc=$?
    fi
    [ $rc -eq 0 ] || sed 's/^/# /' "$K/loop-$j.txt" "$K/err-$j.txt" 2>/dev/null | tail -n 20
    runs=$(sluice --config "$K/sluice.xml" runs 2>/dev/null | grep -c " $j  *finished")
    check "kill -9 ($j): finishes (exit $rc) after $kills kills, one run resumed" \
        sh -c "[ $rc -eq 0 ] && [ $kills -ge 1 ] && [ $runs -eq 1 ]"
done
O="$K/out/folders"
shas "$O" >"$K/f.sha"
check "kill -9 (folders): each instance exactly once, manifest matching" \
    sh -c "[ \$(find '$O' -name '*.dcm' | wc -l) -eq $nk ] && [ \$(tail -n +2 '$O/manifest.csv' | cut -d, -f5 | sort -u | wc -l) -eq $nk ] && [ ! -s '$K/f.sha' ]"
O="$K/out/dicomdir"
shas "$O" >"$K/d.sha"
n=$(dcmdump "$O/DICOMDIR" 2>/dev/null | grep -c ReferencedFileID)
check "kill -9 (dicomdir): each instance exactly once, DICOMDIR and manifest matching ($n)" \
    sh -c "[ \$(find '$O' -type f -name 'I*' | wc -l) -eq $nk ] && [ $n -eq $nk ] && [ \$(tail -n +2 '$O/manifest.csv' | wc -l) -eq $nk ] && [ ! -s '$K/d.sha' ]"
O="$K/out/zip"
mkdir -p "$K/zx" && (cd "$K/zx" && unzip -q "$O"/run-*.zip)
shas "$K/zx" >"$K/z.sha"
check "kill -9 (zip): one zip, each instance exactly once, manifest matching" \
    sh -c "[ \$(ls '$O' | wc -l) -eq 1 ] && [ \$(find '$K/zx' -name '*.dcm' | wc -l) -eq $nk ] && [ \$(tail -n +2 '$K/zx/manifest.csv' | wc -l) -eq $nk ] && [ ! -s '$K/z.sha' ]"
# A run stopped after it started and before its first checkpoint resumes
# from the beginning (it used to fail for ever with "has no checkpoint").
if command -v sqlite3 >/dev/null; then
    sqlite3 "$K/state/sluice.db" "INSERT INTO runs (id, job, status, started, attempts) VALUES ('run-20000101-000000-000000', 'f', 'running', '2000-01-01T00:00:00Z', 1)"
    sluice --config "$K/sluice.xml" -q run f --no-progress >/dev/null 2>"$K/nock.txt"
    rc=$?
    O="$K/out/folders"
    shas "$O" >"$K/f2.sha"
    check "a run killed before its first checkpoint resumes from the start (exit $rc), still exactly once" \
        sh -c "[ $rc -eq 0 ] && [ \$(find '$O' -name '*.dcm' | wc -l) -eq $nk ] && [ \$(tail -n +2 '$O/manifest.csv' | wc -l) -eq $nk ] && [ ! -s '$K/f2.sha' ]"
else
    skip "sqlite3 is not installed"
fi
# the next scheduled run: nothing new, the last run's zip staging goes
for j in f d z; do
    sluice --config "$K/sluice.xml" -q run $j --no-progress >/dev/null 2>&1
done
check "kill -9: the next runs deliver nothing new (still one zip)" \
    sh -c "[ \$(ls '$K/out/zip' | wc -l) -eq 1 ] && [ \$(find '$K/out/folders' -name '*.dcm' | wc -l) -eq $nk ]"
left=$(find "$K/out" "$K/state/sinks" -name '.*' -o -name '*.tmp*' -o -name '*.zip.*' -o -type d -name 'run-*' | wc -l)
check "kill -9: no temporary, staging or partial file left ($left)" [ "$left" -eq 0 ]
finish
