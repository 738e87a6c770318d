#!/bin/sh
# Quantity units on synthetic data: sluice translate --units units-si turns
# every glucose, cholesterol, creatinine and hemoglobin value of `sluice
# synth` into its SI unit, each value equal to an independent computation
# (Python's decimal module over the table's factor, same rounding rule; the
# precision is the digits the value is written with: 139.0 has four),
# keeps the originals in an extension with --units-original, leaves other
# Quantities alone and reports the count; a broken table is refused with
# its line before anything is written.
. "${top_srcdir}/tests/integration/lib.sh"
plan 7
sluice synth --patients 30 --seed 5 --no-dicom -o "$T/syn" >/dev/null 2>&1
sluice translate --units units-si --units-original "$T/syn/fhir" -o "$T/o" >"$T/o.out" 2>"$T/o.err"
rc=$?
check "translate --units exits 0" [ $rc -eq 0 ]
# code, value, unit, original value, original unit of every Quantity,
# each number as written (Python's Decimal keeps 5.30 as 5.30; jq would not)
qtsv() {
    python3 - "$@" <<'EOP'
import json, sys
from decimal import Decimal
def num(x):
    return '' if x is None else str(x if isinstance(x, Decimal) else Decimal(x))
for path in sys.argv[1:]:
    doc = json.load(open(path), parse_float=Decimal)
    for e in doc.get('entry', []):
        r = e['resource']
        q = r.get('valueQuantity')
        if r.get('resourceType') != 'Observation' or q is None:
            continue
        o = (q.get('extension') or [{}])[0].get('valueQuantity') or {}
        print('\t'.join([r['code']['coding'][0]['code'], num(q.get('value')), q.get('unit', ''),
                         num(o.get('value')), o.get('unit', '')]))
EOP
}
qtsv "$T"/o/*.json >"$T/q.tsv"
qtsv "$T"/syn/fhir/*.json | cut -f1-3 >"$T/in.tsv"
nconv=$(awk -F'\t' '$4 != ""' "$T/q.tsv" | wc -l)
check "the report counts the conversions ($nconv)" \
    sh -c '[ "$1" -gt 0 ] && grep -q "units units-si: $1 converted, 0 not converted" "$2"' _ "$nconv" "$T/o.err"
check "no glucose, cholesterol, creatinine or hemoglobin left in mass units" \
    sh -c '! awk -F"\t" "(\$1==\"2339-0\"||\$1==\"LDL-CALC\"||\$1==\"2160-0\"||\$1==\"718-7\") && \$3 !~ /^(mmol\/L|umol\/L|g\/L)\$/" "$1" | grep -q .' _ "$T/q.tsv"
python3 - "$T/q.tsv" >"$T/py.out" 2>&1 <<'EOP'
import sys
from decimal import Decimal, ROUND_HALF_UP, getcontext
getcontext().prec = 60
F = {'2339-0': Decimal(10) / Decimal('180.156'), 'LDL-CALC': Decimal(10) / Decimal('386.664'),
     '2160-0': Decimal(10000) / Decimal('113.12'), '718-7': Decimal(10)}
bad = 0
for line in open(sys.argv[1]):
    code, v, unit, ov, ounit = line.rstrip('\n').split('\t')
    if not ov:
        continue
    d = Decimal(ov)
    sig = len(''.join(map(str, d.as_tuple().digits)).lstrip('0')) or 1
    r = d * F[code]
    x = min(r.adjusted() - sig + 1, 0)
    want = r.quantize(Decimal(1).scaleb(x), rounding=ROUND_HALF_UP)
    if v != str(want):
        bad += 1
        print('%s %s -> %s, expected %s' % (code, ov, v, want))
print('mismatches', bad)
EOP
check "every converted value is the exact decimal result at the original's precision, written with its digits" \
    grep -qx "mismatches 0" "$T/py.out"
check "the originals are kept: same values and units as the input" \
    sh -c '[ "$(awk -F"\t" "\$4 != \"\" {print \$1\"\t\"\$4\"\t\"\$5}" "$1" | sort | md5sum)" = "$(awk -F"\t" "(\$1==\"2339-0\"||\$1==\"LDL-CALC\"||\$1==\"2160-0\"||\$1==\"718-7\")" "$2" | sort | md5sum)" ]' _ "$T/q.tsv" "$T/in.tsv"
printf 'analyte system,analyte code,analyte,from,to,factor\nhttp://loinc.org,2339-0,Glucose,mg/dL,mmol/L,0.0555,x\n' >"$T/bad.csv"
sluice translate --units "$T/bad.csv" "$T/syn/fhir" -o "$T/o2" >/dev/null 2>"$T/o2.err"
rc=$?
check "a broken table: exit 1, file and line named, nothing written" \
    sh -c '[ "$1" -eq 1 ] && grep -q "bad.csv:2: 7 fields, 6 expected" "$2" && [ ! -e "$3" ]' _ $rc "$T/o2.err" "$T/o2"
# a job: <translate units="units-si"/> without maps
write_config "$T/job"
cp "$T"/syn/fhir/*.json "$T/job/in/fhir/"
sed -i 's|<pull from="ehr pacs"/>|<pull from="ehr pacs"/>\n    <translate units="units-si"/>|' "$T/job/sluice.xml"
sluice --config "$T/job/sluice.xml" run t --no-progress >"$T/job.out" 2>"$T/job.err"
rc=$?
check "a job with <translate units=\"units-si\"/> converts (exit 0, counted in the summary)" \
    sh -c '[ "$1" -eq 0 ] && grep -Eq "translate +info +converted:units-si +$2\$" "$3"' _ $rc "$nconv" "$T/job.out"
finish
