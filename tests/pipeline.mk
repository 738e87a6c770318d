# tests of the pipeline: jobs end to end on synthetic data
TESTS += tests/integration/run_e2e.sh tests/integration/run_kill9.sh \
	tests/integration/run_malformed.sh
EXTRA_DIST += tests/integration/run_e2e.sh tests/integration/run_kill9.sh \
	tests/integration/run_malformed.sh
