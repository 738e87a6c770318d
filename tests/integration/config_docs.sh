#!/bin/sh
# config_docs.sh - docs/configuration.md's reference section is exactly
# what `sluice check-config --options` prints, so the documentation cannot
# drift from the option table. `make update-config-docs` rewrites it.
. "$top_srcdir/tests/integration/lib.sh"
plan 1
doc=$top_srcdir/docs/configuration.md
sed -n '/^<!-- BEGIN generated/,/^<!-- END generated/p' "$doc" |
    sed '1d;$d' >"$T/doc"
sluice check-config --options >"$T/opts"
if cmp -s "$T/doc" "$T/opts"; then
    ok "docs/configuration.md matches check-config --options"
else
    diff -u "$T/doc" "$T/opts" | sed 's/^/# /'
    not_ok "docs/configuration.md matches check-config --options (run make update-config-docs)"
fi
exit $TAP_FAILED
