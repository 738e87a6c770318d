#!/bin/sh
# deid_dicom_freetext.sh - DICOM free text through the free-text detectors
# (issue 10, section 2, as section 6 asks: the same scrubber as FHIR's):
# a description outside PS3.15 Table E.1-1 that names a doctor, a phone
# number and a date the instance states nowhere else loses them under
# basic (the date to its year, the rest as many X), and under
# longitudinal its date moves by the same days as the instance's
# StudyDate; clinical words survive. The instance is made here with
# pydicom (synthetic).
. "$top_srcdir/tests/integration/lib.sh"
SLUICE_PROFILE_DIR="$top_srcdir/profiles/deid"; export SLUICE_PROFILE_DIR
PY=/usr/bin/python3
if ! $PY -c 'import pydicom' 2>/dev/null; then
    echo "1..0 # SKIP python3-pydicom is not installed (apt-get install python3-pydicom)"
    exit 0
fi
plan 4
sluice keygen >"$T/key"
mkdir -p "$T/in"
$PY - "$T/in/a.dcm" <<'PYEOF' || { echo "Bail out! cannot make the instance"; exit 1; }
import sys
from pydicom.dataset import FileDataset, FileMetaDataset
from pydicom.uid import ExplicitVRLittleEndian
CT = "1.2.840.10008.5.1.4.1.1.2"
meta = FileMetaDataset()
meta.MediaStorageSOPClassUID = CT
meta.MediaStorageSOPInstanceUID = "1.2.826.0.1.3680043.9.6363.77.1.1"
meta.TransferSyntaxUID = ExplicitVRLittleEndian
ds = FileDataset(None, {}, file_meta=meta, preamble=b"\0" * 128)
ds.SOPClassUID = CT
ds.SOPInstanceUID = meta.MediaStorageSOPInstanceUID
ds.StudyInstanceUID = "1.2.826.0.1.3680043.9.6363.77"
ds.SeriesInstanceUID = "1.2.826.0.1.3680043.9.6363.77.1"
ds.Modality = "CT"
ds.PatientName = "Textor^Tess"
ds.PatientID = "FT-77"
ds.StudyDate = "20210610"
ds.InterventionDescription = ("Planned by Dr. Smith on 2021-06-10, call "
                              "555-123-4567; Parkinson disease")
ds.is_little_endian = True
ds.is_implicit_VR = False
ds.save_as(sys.argv[1], write_like_original=False)
PYEOF
get() { # FILE KEYWORD
    $PY -c 'import sys, pydicom
print(getattr(pydicom.dcmread(sys.argv[1]), sys.argv[2], ""))' "$1" "$2" 2>/dev/null
}
run() { # NAME PROFILE: the output instance at $T/NAME.dcm
    sluice deid --profile "$2" --key-file "$T/key" -o "$T/o-$1" "$T/in/a.dcm" \
        >"$T/$1.log" 2>&1
    rc=$?
    cp "$(find "$T/o-$1/dicom" -name '*.dcm' | head -n 1)" "$T/$1.dcm"
    return $rc
}

run basic basic
rc=$?
got=$(get "$T/basic.dcm" InterventionDescription)
diag "basic: $got"
check "basic: de-identified (exit $rc)" [ $rc -eq 0 ]
check "basic: the doctor and the phone become X, the date its year, the rest stays" \
    [ "$got" = "Planned by Dr. XXXXX on 2021, call XXXXXXXXXXXX; Parkinson disease" ]

run long longitudinal
rc=$?
got=$(get "$T/long.dcm" InterventionDescription)
sd=$(get "$T/long.dcm" StudyDate)
iso=$(printf '%s' "$sd" | sed 's/^\(....\)\(..\)\(..\)$/\1-\2-\3/')
diag "longitudinal: $got (StudyDate $sd)"
check "longitudinal: de-identified (exit $rc)" [ $rc -eq 0 ]
check "longitudinal: the text's date moved as StudyDate did ($iso)" \
    [ "$sd" != 20210610 -a "$got" = "Planned by Dr. XXXXX on $iso, call XXXXXXXXXXXX; Parkinson disease" ]
finish
