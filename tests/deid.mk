# sluice deid and the <deid> stage, end to end
TESTS += tests/integration/deid_cli.sh tests/integration/deid_engine.sh tests/integration/deid_numbers.sh tests/integration/deid_job.sh \
	tests/integration/deid_reid.sh tests/integration/deid_refs.sh tests/integration/deid_learn.sh
EXTRA_DIST += tests/integration/deid_cli.sh tests/integration/deid_engine.sh tests/integration/deid_numbers.sh tests/integration/deid_job.sh \
	tests/integration/deid_reid.sh tests/integration/deid_refs.sh tests/integration/deid_learn.sh
