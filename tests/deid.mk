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
	tests/integration/deid_learn.sh \
	tests/integration/deid_freetext.sh
TESTS += $(DEID_TESTS)
EXTRA_DIST += $(DEID_TESTS) tests/integration/shapes.jq

# the free-text detectors measured on a marked test set (issue 10,
# section 2): tests/tools/freetext_gen.py writes the set,
# tests/tools/freetext_eval prints recall and precision per category
check_PROGRAMS += tests/tools/freetext_eval
tests_tools_freetext_eval_SOURCES = tests/tools/freetext_eval.c
tests_tools_freetext_eval_LDADD = $(SL_LIBS) $(SL_LIBS) $(SL_EXT_LIBS)
nodist_EXTRA_tests_tools_freetext_eval_SOURCES = force-cxx-link.cc
EXTRA_DIST += tests/tools/freetext_gen.py tests/data/freetext/sentences.txt
