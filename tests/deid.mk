# sluice deid and the <deid> stage, end to end
TESTS += tests/integration/deid_cli.sh tests/integration/deid_engine.sh tests/integration/deid_numbers.sh tests/integration/deid_job.sh \
	tests/integration/deid_reid.sh tests/integration/deid_refs.sh \
	tests/integration/deid_freetext.sh
EXTRA_DIST += tests/integration/deid_cli.sh tests/integration/deid_engine.sh tests/integration/deid_numbers.sh tests/integration/deid_job.sh \
	tests/integration/deid_reid.sh tests/integration/deid_refs.sh \
	tests/integration/deid_freetext.sh

# the free-text detectors measured on a marked test set (issue 10,
# section 2): tests/tools/freetext_gen.py writes the set,
# tests/tools/freetext_eval prints recall and precision per category
check_PROGRAMS += tests/tools/freetext_eval
tests_tools_freetext_eval_SOURCES = tests/tools/freetext_eval.c
tests_tools_freetext_eval_LDADD = $(SL_LIBS) $(SL_LIBS) $(SL_EXT_LIBS)
nodist_EXTRA_tests_tools_freetext_eval_SOURCES = force-cxx-link.cc
EXTRA_DIST += tests/tools/freetext_gen.py tests/data/freetext/sentences.txt
