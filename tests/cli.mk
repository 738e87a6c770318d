# tests of the command line
TESTS += tests/integration/cli_help.sh
EXTRA_DIST += tests/integration/cli_help.sh
# the commonest commands once each (make check-valgrind-unit runs them under valgrind)
TESTS += tests/integration/cli_tour.sh
EXTRA_DIST += tests/integration/cli_tour.sh
