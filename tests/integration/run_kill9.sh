#!/bin/sh
# kill -9 at random moments, then resume: every item reaches the sink
# exactly once (no loss, no duplicate), for NDJSON and Bundle output.
. "${top_srcdir}/tests/integration/lib.sh"
plan 12
sluice synth --patients 40 --seed 11 -o "$T/syn" >/dev/null 2>&1
for fmt in ndjson bundle; do
    d="$T/$fmt"
    write_config "$d" "$fmt"
    cp -r "$T/syn/fhir/." "$d/in/fhir/"
    cp -r "$T/syn/dicom/." "$d/in/dicom/"
    n_fhir=$(count_entries "$d/in/fhir")
    n_dcm=$(find "$d/in/dicom" -type f | wc -l)
    kills=0
    done_early=0
    # Checkpoint after every item, so that a kill can land anywhere.
    # Kill until a run gets to finish on its own: every start after a
    # kill must resume the same run.
    for delay in 0.3 0.15 0.4 0.2 0.35 0.25 0.5 0.1; do
        $SLUICE --config "$d/sluice.xml" -q -j 2 run t --no-progress --commit-every 1 \
            >/dev/null 2>&1 &
        pid=$!
        sleep $delay
        if kill -9 $pid 2>/dev/null; then
            kills=$((kills + 1))
            wait $pid 2>/dev/null
            # The kill may have hit a run that had just finished.
            if sluice --config "$d/sluice.xml" runs --json 2>/dev/null |
                grep -q '"status": *"finished"'; then
                done_early=1
                rc=0
                break
            fi
        else
            wait $pid
            rc=$?
            done_early=1
            break
        fi
    done
    if [ $done_early = 0 ]; then
        sluice --config "$d/sluice.xml" -q run t --no-progress --log-format json >"$d/sum.json" 2>"$d/err.txt"
        rc=$?
    fi
    [ $rc -eq 0 ] || sed 's/^/# /' "$d/err.txt" 2>/dev/null
    check "$fmt: final run finishes (exit $rc) after $kills kills" [ $rc -eq 0 ]
    check "$fmt: at least one kill landed mid-run" [ $kills -ge 1 ]
    runs=$(ls -d "$d"/out/fhir/run-* | wc -l)
    check "$fmt: one run, resumed (not restarted)" [ "$runs" -eq 1 ]
    if [ $fmt = ndjson ]; then
        lines=$(cat "$d"/out/fhir/run-*/*.ndjson | wc -l)
        dups=$(cat "$d"/out/fhir/run-*/*.ndjson | sort | uniq -d | wc -l)
    else
        lines=$(cat "$d"/out/fhir/run-*/bundle-*.json | grep -o '"request"' | wc -l)
        dups=$(cat "$d"/out/fhir/run-*/bundle-*.json | grep -o '"fullUrl":"[^"]*"' | sort | uniq -d | wc -l)
    fi
    check "$fmt: exactly once: $lines of $n_fhir resources, $dups duplicates" \
        [ "$lines" -eq "$n_fhir" ] && [ "$dups" -eq 0 ]
    n_dout=$(find "$d/out/dicom" -name '*.dcm' | wc -l)
    check "$fmt: DICOM exactly once: $n_dout of $n_dcm" [ "$n_dout" -eq "$n_dcm" ]
    left=$(find "$d/out" -name '.*' -o -name '*.tmp.*' -o -name 'pending-*' | wc -l)
    check "$fmt: no temporary or pending files left in the output ($left)" [ "$left" -eq 0 ]
done
finish
