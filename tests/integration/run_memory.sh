#!/bin/sh
# Memory stays flat as the input grows: the peak resident memory of a run
# over 20 times more patients stays within 1.5 times that of the small run
# (items stream; only a bounded window is in flight).
. "${top_srcdir}/tests/integration/lib.sh"
plan 3
# Under AddressSanitizer (--enable-sanitizers) freed memory waits in a
# quarantine that grows with the work done: turn it off here, so what is
# measured is what sluice itself holds.
ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}quarantine_size_mb=0"
export ASAN_OPTIONS
peak() { grep -o '"peak_memory_kib":[0-9]*' "$1" | grep -o '[0-9]*$'; }
for n in 10 200; do
    d="$T/p$n"
    write_config "$d"
    sluice synth --patients $n --seed 5 -o "$d/syn" >/dev/null 2>&1
    mv "$d/syn/fhir"/* "$d/in/fhir/"
    mv "$d/syn/dicom"/* "$d/in/dicom/"
    $SLUICE --config "$d/sluice.xml" -q -j 2 run t --no-progress --log-format json >"$d/sum.json" 2>/dev/null
done
small=$(peak "$T/p10/sum.json")
big=$(peak "$T/p200/sum.json")
diag "peak memory: 10 patients ${small} KiB, 200 patients ${big} KiB"
check "the small run reports its peak memory" [ -n "$small" ]
check "the big run reports its peak memory" [ -n "$big" ]
check "memory flat: 20x the input, at most 1.5x the memory" [ "$big" -le $((small * 3 / 2)) ]
finish
