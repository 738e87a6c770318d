#!/bin/sh
# The systemd unit (conf/sluice.service.in) as `make install` writes it:
# systemd-analyze verify passes on it, and systemd-analyze security rates
# its exposure "OK" or better (docs/operations.md records the score); the
# hardening the operations issue names is there; `make install` puts it in
# the unit folder.
. "${top_srcdir}/tests/integration/lib.sh"
plan 5
if ! command -v systemd-analyze >/dev/null; then
    echo "1..0 # SKIP systemd-analyze missing (Debian package systemd)"
    exit 0
fi
unit=$T/sluice.service
sed -e "s|@bindir@|$(dirname "$SLUICE")|g" -e "s|@sysconfdir@|$T/etc|g" \
    "${top_srcdir}/conf/sluice.service.in" >"$unit"
# The unit names the binary by its installed name; here it is the build's.
[ "$(basename "$SLUICE")" = sluice ] || sed -i "s|/sluice --config|/$(basename "$SLUICE") --config|" "$unit"
systemd-analyze verify --man=no "$unit" >"$T/verify" 2>&1
rc=$?
sed 's/^/# /' "$T/verify"
check "systemd-analyze verify passes, with nothing to say (exit $rc)" \
    sh -c "[ $rc -eq 0 ] && ! grep -q . '$T/verify'"
systemd-analyze security --offline=yes "$unit" >"$T/sec" 2>&1
level=$(sed -n 's/.*Overall exposure level for sluice.service: \([0-9.]*\) \([A-Z]*\).*/\1 \2/p' "$T/sec")
diag "exposure: $level"
check "systemd-analyze security rates it OK or better ($level)" \
    sh -c "echo '$level' | grep -Eq ' (OK|SAFE|PERFECT)$'"
check "the hardening named by the issue is set" sh -c "
    for k in 'Type=notify' 'ProtectSystem=strict' 'PrivateTmp=yes' \
        'NoNewPrivileges=yes' 'ProtectHome=yes' 'CapabilityBoundingSet=\$' \
        'RestrictAddressFamilies=AF_UNIX AF_INET AF_INET6' 'User=sluice'; do
        grep -q \"^\$k\" '$unit' || exit 1
    done"
check "the only writable paths are the state directory" \
    sh -c "[ \"\$(grep -c '^ReadWritePaths=' '$unit')\" = 1 ] && grep -q '^ReadWritePaths=/var/lib/sluice$' '$unit'"
# make install (to a scratch DESTDIR) installs the unit with real paths.
make -C "$top_builddir" install DESTDIR="$T/dest" >"$T/install.log" 2>&1
u=$(find "$T/dest" -name sluice.service | head -1)
check "make install puts sluice.service in the unit folder, paths filled in" \
    sh -c "[ -n '$u' ] && grep -q '^ExecStart=/.*/bin/sluice --config /.*/sluice.xml' '$u' && ! grep -Eq '@(bindir|sysconfdir)@' '$u'"
finish
