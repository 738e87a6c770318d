#!/bin/sh
# kill -9 at random moments, then resume: every item reaches the sink
# exactly once (no loss, no duplicate), for NDJSON and Bundle output, and
# for a job with two FHIR targets and one DICOM target (each gets every
# item of its kind exactly once); the NDJSON job again at -j 1, where the
# run reads, de-identifies and writes on one thread.
. "${top_srcdir}/tests/integration/lib.sh"
plan 27
sluice synth --patients 40 --seed 11 -o "$T/syn" >/dev/null 2>&1
for fmt in ndjson bundle multi one; do
    d="$T/$fmt"
    jobs=2
    if [ $fmt = one ]; then
        write_config "$d" ndjson
        jobs=1
    elif [ $fmt = multi ]; then
        write_config "$d" ndjson
        # a second FHIR target (Bundles) beside the first, named by to=
        sed -i -e 's|<target id="dicom-out"|<target id="fhir-out2" type="fhir-files" path="out/fhir2" format="bundle" bundle-size="30"/>\n  &|' \
            -e 's|<push fhir="fhir-out" dicom="dicom-out"/>|<push to="fhir-out fhir-out2 dicom-out"/>|' "$d/sluice.xml"
    else
        write_config "$d" "$fmt"
    fi
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
        $SLUICE --config "$d/sluice.xml" -q -j $jobs run t --no-progress --commit-every 1 \
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
        sluice --config "$d/sluice.xml" -q -j $jobs run t --no-progress --log-format json >"$d/sum.json" 2>"$d/err.txt"
        rc=$?
    fi
    [ $rc -eq 0 ] || sed 's/^/# /' "$d/err.txt" 2>/dev/null
    check "$fmt: final run finishes (exit $rc) after $kills kills" [ $rc -eq 0 ]
    check "$fmt: at least one kill landed mid-run" [ $kills -ge 1 ]
    runs=$(ls -d "$d"/out/fhir/run-* | wc -l)
    check "$fmt: one run, resumed (not restarted)" [ "$runs" -eq 1 ]
    if [ $fmt != bundle ]; then
        lines=$(cat "$d"/out/fhir/run-*/*.ndjson | wc -l)
        dups=$(cat "$d"/out/fhir/run-*/*.ndjson | sort | uniq -d | wc -l)
    else
        lines=$(cat "$d"/out/fhir/run-*/bundle-*.json | grep -o '"request"' | wc -l)
        dups=$(cat "$d"/out/fhir/run-*/bundle-*.json | grep -o '"fullUrl":"[^"]*"' | sort | uniq -d | wc -l)
    fi
    check "$fmt: exactly once: $lines of $n_fhir resources, $dups duplicates" \
        [ "$lines" -eq "$n_fhir" ] && [ "$dups" -eq 0 ]
    if [ $fmt = multi ]; then
        l2=$(cat "$d"/out/fhir2/run-*/bundle-*.json | grep -o '"request"' | wc -l)
        d2=$(cat "$d"/out/fhir2/run-*/bundle-*.json | grep -o '"fullUrl":"[^"]*"' | sort | uniq -d | wc -l)
        check "$fmt: second FHIR target exactly once: $l2 of $n_fhir, $d2 duplicates" \
            [ "$l2" -eq "$n_fhir" ] && [ "$d2" -eq 0 ]
        # the same resources in both: ids of the NDJSON = fullUrls of the Bundles
        cat "$d"/out/fhir/run-*/*.ndjson | grep -o '^{"resourceType":"[A-Za-z]*","id":"[^"]*"' | sed 's/.*"resourceType":"\([A-Za-z]*\)","id":"\([^"]*\)"/\1\/\2/' | sort >"$d/ids1"
        cat "$d"/out/fhir2/run-*/bundle-*.json | grep -o '"fullUrl":"[^"]*"' | sed 's/"fullUrl":"//; s/"$//; s|.*/\([A-Za-z]*/[^/]*\)$|\1|' | sort >"$d/ids2"
        n1=$(wc -l <"$d/ids1")
        check "$fmt: both FHIR targets hold the same $n1 resources" \
            sh -c "[ $n1 -eq $n_fhir ] && cmp -s '$d/ids1' '$d/ids2'"
        check "$fmt: sluice jobs names the three targets" \
            sh -c "$SLUICE --config '$d/sluice.xml' jobs | grep -q 'fhir-out fhir-out2 dicom-out'"
    fi
    n_dout=$(find "$d/out/dicom" -name '*.dcm' | wc -l)
    check "$fmt: DICOM exactly once: $n_dout of $n_dcm" [ "$n_dout" -eq "$n_dcm" ]
    find "$d/out" -name '.*' -o -name '*.tmp.*' -o -name 'pending-*' >"$d/left"
    left=$(wc -l <"$d/left")
    sed "s|^$d/|# left: |" "$d/left"
    check "$fmt: no temporary or pending files left in the output ($left)" [ "$left" -eq 0 ]
done
finish
