#!/bin/sh
# dicom_module.sh - the sluice executable does not link DCMTK (nor
# libcurl and libmicrohttpd, see test 2): the
# functions of src/dicom/dicom.h load the DICOM module (sluice-dicom.so)
# the first time one is called (src/dicom/dicom_load.c). A command without
# DICOM runs without the module; a DICOM command finds it next to the
# executable or where it is installed; a missing module, or one of another
# build, stops the command with exit 2 and a message naming the file.
. "$(dirname "$0")/lib.sh"
plan 9
mod="$top_builddir/sluice-dicom.so"
def="$top_srcdir/src/dicom/dicom_api.def"

# A sanitizer build's sluice links DCMTK itself (configure.ac: LeakSanitizer
# cannot scan a module's thread-local storage): what needs the module
# loaded is skipped there.
linked=${SLUICE_LINKS_DICOM:-no}
# 1: no DCMTK library is mapped at start
if [ "$linked" = yes ]; then
    skip "a sanitizer build links DCMTK (SLUICE_LINKS_DICOM=yes)"
elif ldd "$SLUICE" | grep -q 'libdcm\|libofstd\|libopenjp2'; then
    not_ok "sluice links DCMTK: $(ldd "$SLUICE" | grep -c libdcm) libraries"
else
    ok "sluice itself links no DCMTK library"
fi
# 2: nor libcurl and libmicrohttpd (src/http/curl_load.c,
# src/metrics/mhd_load.c: opened when first needed; the HTTP and metrics
# tests use them through the executable)
if ldd "$SLUICE" | grep -q 'libcurl\|libmicrohttpd'; then
    not_ok "sluice links $(ldd "$SLUICE" | grep -o 'libcurl[^ ]*\|libmicrohttpd[^ ]*' | tr '\n' ' ')"
else
    ok "sluice itself links neither libcurl nor libmicrohttpd"
fi
# 3: the module has every function of the API list, and the list every
# function of the module
sed -n 's/^SL_DICOM_FN([^,]*, *\(sl_dicom_[a-z0-9_]*\),.*/\1/p
        s/^SL_DICOM_VOID(\(sl_dicom_[a-z0-9_]*\),.*/\1/p' "$def" | sort >"$T/def"
nm -D --defined-only "$mod" | awk '$2 == "T" && $3 ~ /^sl_dicom_/ { print $3 }' |
    sort >"$T/mod"
if [ -s "$T/def" ] && cmp -s "$T/def" "$T/mod"; then
    ok "dicom_api.def lists the module's $(wc -l <"$T/mod") functions"
else
    not_ok "dicom_api.def and the module differ: $(diff "$T/def" "$T/mod" | grep '^[<>]' | tr '\n' ' ')"
fi
# 4: a DICOM command through the module
sluice synth --patients 1 --seed 5 -o "$T/in" >/dev/null 2>&1
sluice keygen >"$T/key" 2>/dev/null && chmod 600 "$T/key"
n_in=$(find "$T/in/dicom" -type f | wc -l)
sluice deid --key-file "$T/key" --quarantine "$T/q" -o "$T/out" "$T/in" \
    >/dev/null 2>"$T/err"
n_out=$(find "$T/out/dicom" -type f -name '*.dcm' 2>/dev/null | wc -l)
if [ "$n_in" -gt 0 ] && [ "$n_out" = "$n_in" ]; then
    ok "sluice deid writes $n_out of $n_in DICOM instances through the module"
else
    not_ok "sluice deid wrote $n_out of $n_in instances: $(head -3 "$T/err")"
fi

# the executable alone, in a folder without the module
mkdir -p "$T/bin" && cp "$SLUICE" "$T/bin/sluice"
installed="${SLUICE_MODULEDIR:-/nonexistent}/sluice-dicom.so"
# 5: a command without DICOM does not need the module
rm -rf "$T/out2"
if $SLUICE_WRAP "$T/bin/sluice" deid --key-file "$T/key" --quarantine "$T/q2" \
    -o "$T/out2" "$T/in/fhir" >/dev/null 2>"$T/err" &&
    [ -n "$(ls "$T/out2/fhir")" ]; then
    ok "FHIR de-identification runs without the module"
else
    not_ok "FHIR de-identification without the module: $(head -3 "$T/err")"
fi
# 6: a DICOM command without it stops with exit 2, naming the file
if [ "$linked" = yes ]; then
    skip "a sanitizer build links DCMTK: no module to miss"
elif [ -e "$installed" ]; then
    skip "a module is installed at $installed: the copy would load it"
else
    rc=0
    $SLUICE_WRAP "$T/bin/sluice" deid --key-file "$T/key" --quarantine "$T/q3" \
        -o "$T/out3" "$T/in/dicom" >/dev/null 2>"$T/err" || rc=$?
    if [ "$rc" = 2 ] && grep -q "cannot load .*sluice-dicom.so, its DICOM module" "$T/err"; then
        ok "without the module a DICOM command exits 2 and names it"
    else
        not_ok "without the module: exit $rc, $(head -3 "$T/err")"
    fi
fi
# 7: the module next to the executable is the one loaded
cp "$mod" "$T/bin/sluice-dicom.so"
rm -rf "$T/out4"
if $SLUICE_WRAP "$T/bin/sluice" deid --key-file "$T/key" --quarantine "$T/q4" \
    -o "$T/out4" "$T/in/dicom" >/dev/null 2>"$T/err" &&
    [ "$(find "$T/out4" -type f -name '*.dcm' | wc -l)" = "$n_in" ]; then
    ok "the module next to the executable is found"
else
    not_ok "module next to the executable: $(head -3 "$T/err")"
fi
# 8: a module of another build is refused
CC=${CC:-cc}
printf 'const char sl_dicom_module_abi[] = "sluice-dicom 0.0.0-other";\n' >"$T/other.c"
if [ "$linked" = yes ]; then
    skip "a sanitizer build links DCMTK: no module to refuse"
elif "$CC" -shared -fPIC -o "$T/bin/sluice-dicom.so" "$T/other.c" 2>"$T/cc"; then
    rc=0
    $SLUICE_WRAP "$T/bin/sluice" deid --key-file "$T/key" --quarantine "$T/q5" \
        -o "$T/out5" "$T/in/dicom" >/dev/null 2>"$T/err" || rc=$?
    if [ "$rc" = 2 ] && grep -q "of another build" "$T/err"; then
        ok "a module of another build is refused (exit 2)"
    else
        not_ok "module of another build: exit $rc, $(head -3 "$T/err")"
    fi
else
    skip "no C compiler to make a foreign module: $(head -1 "$T/cc")"
fi
# 9: --version and --help need no module either
if $SLUICE_WRAP "$T/bin/sluice" --version >/dev/null 2>&1 &&
    $SLUICE_WRAP "$T/bin/sluice" --help >/dev/null 2>&1; then
    ok "--version and --help run with a broken module beside them"
else
    not_ok "--version or --help needs the module"
fi
exit $TAP_FAILED
