#!/bin/sh
# Ctrl-C (SIGINT) in the middle of a run of local sources, at -j 1 (one
# thread reads, processes and writes) and -j 2 (the calling thread reads,
# writes and works beside one worker): the run stops with exit 2 and says
# how to resume; run again, it resumes the same run and every item reaches
# the sink exactly once.
. "${top_srcdir}/tests/integration/lib.sh"
plan 10
sluice synth --patients 150 --seed 5 -o "$T/syn" >/dev/null 2>&1
for j in 1 2; do
    d="$T/j$j"
    write_config "$d" ndjson
    cp -r "$T/syn/fhir/." "$d/in/fhir/"
    cp -r "$T/syn/dicom/." "$d/in/dicom/"
    n_fhir=$(count_entries "$d/in/fhir")
    n_dcm=$(find "$d/in/dicom" -type f | wc -l)
    # a checkpoint after every item slows the run down enough for the
    # signal to land in the middle; try shorter delays until one does.
    # The signal is sent once the run has opened its target (sluice then
    # catches it): a background job of a script ignores SIGINT until then.
    stopped=0
    for delay in 0.2 0.1 0.05 0.02 0; do
        rm -rf "$d/state" "$d/out" "$d/quarantine"
        $SLUICE --config "$d/sluice.xml" -q -j $j run t --no-progress \
            --commit-every 1 >/dev/null 2>"$d/err.txt" &
        pid=$!
        n=0
        while [ $n -lt 2000 ] && ! ls -d "$d"/out/fhir/run-* >/dev/null 2>&1 &&
            kill -0 $pid 2>/dev/null; do
            sleep 0.01
            n=$((n + 1))
        done
        sleep $delay
        kill -INT $pid 2>/dev/null
        wait $pid
        rc=$?
        if [ $rc -eq 2 ]; then
            stopped=1
            break
        fi
    done
    check "-j $j: SIGINT mid-run stops it with exit 2 ($rc)" [ $stopped -eq 1 ]
    check "-j $j: the message says to run the job again" \
        grep -q 'interrupted by signal 2; run the job again to resume it' "$d/err.txt"
    sluice --config "$d/sluice.xml" -q -j $j run t --no-progress >/dev/null 2>"$d/err2.txt"
    rc=$?
    [ $rc -eq 0 ] || sed 's/^/# /' "$d/err2.txt"
    check "-j $j: the next run finishes (exit $rc)" [ $rc -eq 0 ]
    runs=$(ls -d "$d"/out/fhir/run-* | wc -l)
    lines=$(cat "$d"/out/fhir/run-*/*.ndjson | wc -l)
    dups=$(cat "$d"/out/fhir/run-*/*.ndjson | sort | uniq -d | wc -l)
    check "-j $j: one run, resumed; $lines of $n_fhir resources, $dups duplicates" \
        [ "$runs" -eq 1 ] && [ "$lines" -eq "$n_fhir" ] && [ "$dups" -eq 0 ]
    n_dout=$(find "$d/out/dicom" -name '*.dcm' | wc -l)
    check "-j $j: DICOM exactly once: $n_dout of $n_dcm" [ "$n_dout" -eq "$n_dcm" ]
done
finish
