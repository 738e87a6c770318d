# tests of operations (issue 16): schedules, the daemon
TESTS += tests/integration/daemon.sh
EXTRA_DIST += tests/integration/daemon.sh tests/tools/notify_listen.py
TESTS += tests/integration/systemd_unit.sh
EXTRA_DIST += tests/integration/systemd_unit.sh
TESTS += tests/integration/audit.sh
EXTRA_DIST += tests/integration/audit.sh
TESTS += tests/integration/quarantine_sealed.sh
EXTRA_DIST += tests/integration/quarantine_sealed.sh
TESTS += tests/integration/report.sh
EXTRA_DIST += tests/integration/report.sh
TESTS += tests/integration/metrics.sh
EXTRA_DIST += tests/integration/metrics.sh
TESTS += tests/integration/daemon_missed.sh
EXTRA_DIST += tests/integration/daemon_missed.sh
TESTS += tests/integration/log_journal.sh
EXTRA_DIST += tests/integration/log_journal.sh
