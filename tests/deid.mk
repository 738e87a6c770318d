# sluice deid and the <deid> stage, end to end
# (one test a line, so that branches adding tests do not collide)
DEID_TESTS = \
	tests/integration/deid_cli.sh \
	tests/integration/deid_engine.sh \
	tests/integration/deid_numbers.sh \
	tests/integration/deid_pdf.sh \
	tests/integration/deid_job.sh \
	tests/integration/deid_reid.sh \
	tests/integration/deid_refs.sh \
	tests/integration/deid_shapes.sh \
	tests/integration/deid_learn.sh
TESTS += $(DEID_TESTS)
EXTRA_DIST += $(DEID_TESTS) tests/integration/shapes.jq
