#!/bin/sh
# deid_dicom_cases.sh - the DICOM engine's data-driven cases
# (tests/data/deid/dicom/cases.txt): per case, the output equals the
# expected dump (or the instance is quarantined with the expected reason),
# the input's PHI is gone from the output's bytes, and dciodvfy reports no
# error the input did not have.
. "$top_srcdir/tests/integration/lib.sh"
D="$top_srcdir/tests/data/deid/dicom"
RUN="$top_builddir/tests/tools/dicom_deid_run"
SLUICE_PROFILE_DIR="$top_srcdir/profiles/deid"; export SLUICE_PROFILE_DIR
if ! command -v dump2dcm >/dev/null || ! command -v dcmdump >/dev/null; then
    echo "1..0 # SKIP dcmtk's dump2dcm and dcmdump are not installed"
    exit 0
fi
HAVE_DCIODVFY=0
command -v dciodvfy >/dev/null && HAVE_DCIODVFY=1
grep -v '^#' "$D/cases.txt" | grep -v '^ *$' >"$T/cases"
plan $((4 * $(wc -l <"$T/cases")))

# Error lines of dciodvfy without the values they quote.
iod_errors() {
    dciodvfy "$1" 2>&1 | grep '^Error' | sed 's/ Value=<[^>]*>//g' | sort -u
}

while read -r name input chain allowed iod; do
    dump=${input%%!*}
    variant=
    case $input in *!*) variant=${input#*!} ;; esac
    in="$T/$name.in.dcm"
    out="$T/$name.out"
    mkdir -p "$out"
    case $variant in
    big) dump2dcm -q +tb "$D/input/$dump.dump" "$in" ;;
    implicit) dump2dcm -q +ti "$D/input/$dump.dump" "$in" ;;
    truncate)
        dump2dcm -q "$D/input/$dump.dump" "$T/full.dcm"
        head -c $(($(wc -c <"$T/full.dcm") - 7)) "$T/full.dcm" >"$in" ;;
    *) dump2dcm -q "$D/input/$dump.dump" "$in" ;;
    esac
    args=
    for p in $(echo "$chain" | tr ',' ' '); do
        args="$args -p $D/profiles/$p.xml"
    done
    # shellcheck disable=SC2086
    $SLUICE_WRAP "$RUN" $args "$out" "$in" >"$T/$name.res" 2>"$T/$name.err"
    rc=$?
    status=$(cut -d' ' -f2 "$T/$name.res")
    if [ "$status" = ok ]; then
        dcmdump -q +L "$out/1.dcm" >"$T/$name.txt" 2>&1
    else
        cut -d' ' -f2- "$T/$name.res" >"$T/$name.txt"
    fi
    check "$name: the engine ran (exit $rc)" test $rc = 0
    if [ "${REGEN:-0}" = 1 ]; then
        cp "$T/$name.txt" "$D/expected/$name.txt"
    fi
    if cmp -s "$T/$name.txt" "$D/expected/$name.txt"; then
        ok "$name: output as expected ($status)"
    else
        not_ok "$name: output differs from expected/$name.txt"
        diff "$D/expected/$name.txt" "$T/$name.txt" | sed 's/^/# /' | head -20
    fi
    # PHI gone: no value of the input's "# PHI:" line in the output bytes
    # (nor in a quarantine reason).
    phi=$(sed -n 's/^# PHI: //p' "$D/input/$dump.dump" | head -1)
    leaked=
    target="$T/$name.txt"
    [ "$status" = ok ] && target="$out/1.dcm"
    old_ifs=$IFS
    IFS='|'
    for v in $phi; do
        [ "$allowed" != - ] && echo "$v" | grep -Eq "$allowed" && continue
        # Names are written with ^ in dumps; look for each component.
        for part in $(echo "$v" | tr '^' '|'); do
            if grep -aqF -- "$part" "$target"; then leaked="$leaked $part"; fi
        done
    done
    IFS=$old_ifs
    if [ -z "$leaked" ]; then
        ok "$name: the input's identifiers are gone"
    else
        not_ok "$name: identifiers left in the output:$leaked"
    fi
    if [ "$status" != ok ]; then
        ok "$name: quarantined, nothing written # $(cut -d' ' -f3- "$T/$name.res")"
    elif [ "$iod" = iod-errors-expected ]; then
        ok "$name: dciodvfy not asked (the profile breaks the IOD on purpose)"
    elif [ $HAVE_DCIODVFY = 0 ]; then
        skip "$name: dciodvfy (dicom3tools) is not installed"
    else
        iod_errors "$in" >"$T/$name.iod.in"
        iod_errors "$out/1.dcm" >"$T/$name.iod.out"
        new=$(comm -13 "$T/$name.iod.in" "$T/$name.iod.out")
        if [ -z "$new" ]; then
            ok "$name: dciodvfy reports no new error"
        else
            not_ok "$name: dciodvfy reports new errors"
            echo "$new" | sed 's/^/# /'
        fi
    fi
done <"$T/cases"
finish
