#!/bin/sh
# config_errors.sh - every kind of configuration error, data-driven.
#
# Each fixture tests/data/config/bad-*.xml lists on its first line, as
# <!-- expect: LINE: TEXT --> comments, every problem `sluice check-config`
# must report for it ({} in TEXT stands for a part that varies, such as an
# absolute path). For each fixture: the exit status is 1; stderr holds
# exactly those problems, each as FILE:LINE: message; and no secret value
# (the fixtures' secrets all start with NOT-TO-BE-SHOWN) is printed.
. "$top_srcdir/tests/integration/lib.sh"

D=$top_srcdir/tests/data/config
n=0
for f in "$D"/bad-*.xml; do n=$((n + 1)); done
plan $((n * 3))

# The fixture for a missing environment variable relies on this.
unset SLUICE_TEST_UNSET_KEY

# has_problem FILE PREFIX TEXT: a line of FILE starts with PREFIX and then
# holds the parts of TEXT between {} in order.
has_problem() {
    awk -v prefix="$2" -v text="$3" '
    function parts_in(s, t,    i, p) {
        while ((i = index(t, "{}")) > 0) {
            p = index(s, substr(t, 1, i - 1))
            if (p == 0) return 0
            s = substr(s, p + i - 1)
            t = substr(t, i + 2)
        }
        return index(s, t) > 0
    }
    index($0, prefix) == 1 && parts_in(substr($0, length(prefix) + 1), text) { found = 1 }
    END { exit !found }' "$1"
}

for f in "$D"/bad-*.xml; do
    name=$(basename "$f" .xml)
    sluice check-config --config "$f" >"$T/out" 2>"$T/err"
    rc=$?
    if [ "$rc" = 1 ]; then ok "$name: exit status 1"
    else not_ok "$name: exit status $rc, want 1"; fi

    head -n 1 "$f" | sed 's/<!-- expect: /\
/g; s/ -->//g' | sed '/^$/d' >"$T/expect"
    good=1
    while IFS= read -r e; do
        line=${e%%: *}
        text=${e#*: }
        if ! has_problem "$T/err" "$f:$line: " "$text"; then
            diag "missing: $f:$line: $text"
            good=0
        fi
    done <"$T/expect"
    want=$(wc -l <"$T/expect")
    got=$(wc -l <"$T/err")
    if [ "$want" != "$got" ]; then
        diag "$got problems reported, $want expected"
        good=0
    fi
    if [ $good = 1 ]; then ok "$name: the expected problems at their lines"
    else sed 's/^/# /' "$T/err"; not_ok "$name: the expected problems at their lines"; fi

    if grep -q NOT-TO-BE-SHOWN "$T/out" "$T/err"; then
        not_ok "$name: a secret value was printed"
    else ok "$name: no secret value printed"; fi
done
exit $TAP_FAILED
