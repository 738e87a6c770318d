#!/bin/sh
# PDF attachments (issue 10, section 4): removed under basic; kept only
# when a profile keeps them, and then their text (poppler) is leak-scanned:
# a PDF naming the patient sends its resource to quarantine, a PDF that
# does not is delivered unchanged, a PDF that cannot be read is
# quarantined. The PDFs are made here (python3 writes them, with a correct
# cross-reference table); the input is synthetic.
. "${top_srcdir}/tests/integration/lib.sh"
plan 8
PY=${PYTHON:-/usr/bin/python3}
sluice keygen -o "$T/key"
mkdir -p "$T/in"
"$PY" - "$T" <<'PY'
import base64, json, sys
t = sys.argv[1]
def pdf(lines):
    text = "BT /F1 12 Tf 72 720 Td 14 TL " + " ".join(
        "(%s) '" % l for l in lines) + " ET"
    objs = [
        "<< /Type /Catalog /Pages 2 0 R >>",
        "<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] "
        "/Resources << /Font << /F1 4 0 R >> >> /Contents 5 0 R >>",
        "<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
        "<< /Length %d >>\nstream\n%s\nendstream" % (len(text), text),
    ]
    out = b"%PDF-1.4\n"
    offs = []
    for i, o in enumerate(objs, 1):
        offs.append(len(out))
        out += ("%d 0 obj\n%s\nendobj\n" % (i, o)).encode()
    x = len(out)
    out += ("xref\n0 %d\n0000000000 65535 f \n" % (len(objs) + 1)).encode()
    for o in offs:
        out += ("%010d 00000 n \n" % o).encode()
    out += ("trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n"
            % (len(objs) + 1, x)).encode()
    return base64.b64encode(out).decode()
named = pdf(["Discharge summary", "Patient: Quimby Zanzibar", "Stable."])
clean = pdf(["Chest X-ray", "No acute findings.", "Heart size normal."])
broken = base64.b64encode(b"%PDF-1.4\n1 0 obj << /Type /Cat").decode()
pat = {"resourceType": "Patient", "id": "p1",
       "identifier": [{"system": "http://hospital/mrn", "value": "MRN4471"}],
       "name": [{"family": "Zanzibar", "given": ["Quimby"]}]}
def doc(i, data):
    return {"resourceType": "DocumentReference", "id": "d%d" % i,
            "status": "current", "subject": {"reference": "Patient/p1"},
            "content": [{"attachment": {"contentType": "application/pdf",
                                        "data": data}}]}
with open(t + "/in/a.ndjson", "w") as f:
    for r in (pat, doc(1, named), doc(2, clean), doc(3, broken)):
        f.write(json.dumps(r) + "\n")
with open(t + "/clean.b64", "w") as f:
    f.write(clean)
PY
cat >"$T/site.xml" <<'EOX'
<profile xmlns="urn:sluice:deid:1" name="site-pdf" version="1" extends="basic">
  <fhir>
    <rule id="text-attachment-data" path="Attachment.data" method="keep"/>
  </fhir>
</profile>
EOX
out=$T/out/fhir/000001.ndjson

sluice deid --key-file "$T/key" -o "$T/out" --quarantine "$T/q" "$T/in" \
    >/dev/null 2>"$T/err"
rc=$?
check "basic removes every PDF (exit $rc)" \
    sh -c "[ $rc -eq 0 ] && [ \$(grep -c DocumentReference '$out') -eq 3 ] && ! grep -q '\"data\"' '$out'"

rm -rf "$T/out" "$T/q"
sluice deid --profile "$T/site.xml" --key-file "$T/key" -o "$T/out" \
    --quarantine "$T/q" "$T/in" >/dev/null 2>"$T/err"
rc=$?
check "a kept PDF naming the patient, and one that cannot be read: quarantined (exit $rc)" \
    [ $rc -eq 3 ]
check "the PDF naming the patient is quarantined by the leak scan" \
    grep -q 'leak scan: a value learned.*content.attachment.data' \
    "$T/q/in000001-line000002.reason.txt"
check "the PDF that cannot be read is quarantined as unreadable" \
    grep -q 'cannot read what the profile keeps' \
    "$T/q/in000001-line000004.reason.txt"
check "the clean PDF is delivered, its bytes unchanged" \
    grep -q "\"data\":\"$(cat "$T/clean.b64")\"" "$out"
check "only the clean PDF's resource is delivered" \
    [ "$(grep -c DocumentReference "$out")" -eq 1 ]
check "nothing of the documents printed (poppler's messages silenced)" \
    sh -c "! grep -qi -e Zanzibar -e 'syntax error' -e 'Catalog' '$T/err'"
check "the patient's name is in no output" \
    sh -c "! grep -rqi zanzibar '$T/out'"
finish
