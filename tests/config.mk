# tests of the config area
CONFIG_TESTS = tests/integration/config_errors.sh \
	tests/integration/config_cli.sh tests/integration/config_docs.sh
TESTS += $(CONFIG_TESTS)
EXTRA_DIST += $(CONFIG_TESTS)

if HAVE_CMOCKA
check_PROGRAMS += tests/unit/test_config
TESTS += tests/unit/test_config
tests_unit_test_config_SOURCES = tests/unit/test_config.c
tests_unit_test_config_CFLAGS = $(AM_CFLAGS) $(CMOCKA_CFLAGS)
tests_unit_test_config_LDADD = $(SL_TEST_LDADD)
nodist_EXTRA_tests_unit_test_config_SOURCES = force-cxx-link.cc
endif

# make update-config-docs: rewrites the generated reference at the end of
# docs/configuration.md from `sluice check-config --options` (the
# config_docs.sh test fails until this is run after a table change).
update-config-docs: sluice$(EXEEXT)
	$(AM_V_GEN)doc=$(srcdir)/docs/configuration.md; \
	{ sed '/^<!-- BEGIN generated/q' "$$doc" && \
	  ./sluice$(EXEEXT) check-config --options && \
	  echo '<!-- END generated -->'; } >"$$doc.tmp" && mv "$$doc.tmp" "$$doc"
.PHONY: update-config-docs
