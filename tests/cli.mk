# tests of the command line
TESTS += tests/integration/cli_help.sh
EXTRA_DIST += tests/integration/cli_help.sh
