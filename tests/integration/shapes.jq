# shapes.jq - what deid_shapes.sh asks of FHIR output, in any shape.
# $in and $out: the input and output documents (Bundles or resources, in
# the same file and line order, as --slurpfile reads them). Prints one
# JSON object of findings; the shell script judges them.

# every resource with the fullUrl of its entry (null outside a Bundle)
def flat: [ .[] | if .resourceType == "Bundle"
                  then .entry[] | {u: .fullUrl, r: .resource}
                  else {u: null, r: .} end ];

# the date every resource of the synthetic data has, to the day or year
def first_date: [ .effectiveDateTime, .recordedDate, .authoredOn, .started,
                  .period.start, .birthDate ] | map(select(. != null)) | .[0];
def days: .[0:10] | strptime("%Y-%m-%d") | mktime / 86400 | floor;

($in | flat) as $i
| ($out | flat) as $o
# name (fullUrl or Type/id) -> index in $o
| (reduce range(0; $o | length) as $k ({};
      ($o[$k]) as $e
      | (if $e.u then .[$e.u] = $k else . end)
      | (if $e.r.id then .[$e.r.resourceType + "/" + $e.r.id] = $k
         else . end))) as $names
| def target: sub("/_history/.*$"; "") as $r | $names[$r];
# the index of the Patient resource k belongs to (through an Encounter)
  def patient_of($k):
      $o[$k].r as $r
      | if $r.resourceType == "Patient" then $k
        elif $r.subject.reference then ($r.subject.reference | target)
        elif $r.encounter.reference then
            ($r.encounter.reference | target) as $e
            | if $e == null then null
              else ($o[$e].r.subject.reference // "" | target) end
        else null end;
  [ $o[].r | .. | objects | .reference? // empty | strings
    | select(startswith("#") | not) | select(target == null) ] as $dangling
# (a birth date over 89 years back is capped, not shifted: left out)
| [ range(0; $o | length) as $k
    | { p: patient_of($k),
        shift: (if ($o[$k].r | first_date | length) >= 10
                   and ($i[$k].r.birthDate // "9999" | .[0:4] | tonumber)
                       >= 1940
                then (($o[$k].r | first_date | days)
                      - ($i[$k].r | first_date | days))
                else null end),
        date: ($o[$k].r | first_date) } ] as $per
| { n_in: ($i | length), n_out: ($o | length),
    types_agree: ([$i[].r.resourceType] == [$o[].r.resourceType]),
    dangling: ($dangling | length),
    refs: ([ $o[].r | .. | objects | .reference? // empty ] | length),
    no_patient: ([ $per[] | select(.p == null) ] | length),
    # distinct shifts per patient: [1, 1, 1] when each has one
    shifts_per_patient: ([ $per | group_by(.p)[]
                           | map(.shift | select(. != null)) | unique
                           | length ]),
    shifts: ([ $per[].shift | select(. != null) ] | unique),
    not_year: ([ $per[].date | select(length != 4) ] | length),
    # per ImagingStudy: study UID, its patient's MRN, the day it started
    studies: [ range(0; $o | length) as $k | $o[$k].r
               | select(.resourceType == "ImagingStudy")
               | { uid: ([ .identifier[]? | select(.system == "urn:dicom:uid")
                           | .value | ltrimstr("urn:oid:") ] | .[0]),
                   mrn: ([ $o[patient_of($k)].r.identifier[]?
                           | select(.type.coding[0].code == "MR") | .value ]
                         | .[0]),
                   day: (.started | if length >= 10
                                    then .[0:10] | gsub("-"; "") else "" end),
                   series: [ .series[].uid ],
                   instances: [ .series[].instance[].uid ] } ],
    mrns: [ $o[].r | select(.resourceType == "Patient")
            | .identifier[]? | select(.type.coding[0].code == "MR") | .value ],
    in_mrns: [ $i[].r | select(.resourceType == "Patient")
               | .identifier[]? | select(.type.coding[0].code == "MR")
               | .value ],
    obs_agree: ([ $i[].r | select(.resourceType == "Observation")
                  | [.code, .valueQuantity] ]
                == [ $o[].r | select(.resourceType == "Observation")
                     | [.code, .valueQuantity] ]) }
