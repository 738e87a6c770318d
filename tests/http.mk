# tests of src/http: authentication against independent implementations
# (tests/auth-server) on 127.0.0.1
check_PROGRAMS += tests/tools/auth_get
tests_tools_auth_get_SOURCES = tests/tools/auth_get.c
tests_tools_auth_get_LDADD = $(SL_LIBS) $(SL_LIBS) $(SL_EXT_LIBS)
nodist_EXTRA_tests_tools_auth_get_SOURCES = force-cxx-link.cc
HTTP_AUTH_TESTS = tests/integration/auth_oauth.sh \
	tests/integration/auth_sigv4.sh tests/integration/auth_mtls.sh \
	tests/integration/auth_basic.sh
TESTS += $(HTTP_AUTH_TESTS)
EXTRA_DIST += $(HTTP_AUTH_TESTS) tests/integration/auth_lib.sh tests/auth-server/package.json \
	tests/auth-server/package-lock.json tests/auth-server/server.mjs
# Node 20 for the auth tests' peers, fetched from npm when the PATH has an
# older one (tests/integration/auth_lib.sh)
clean-local: clean-node20
clean-node20:
	-rm -rf tests/.node20 tests/.node20.lock
.PHONY: clean-node20
# the Google service account key file's reader (docs/fuzzing.md)
FUZZ_TARGETS += tests/fuzz/fuzz_google_key
FUZZ_RUN += google_key
tests_fuzz_fuzz_google_key_SOURCES = tests/fuzz/fuzz_google_key.c \
	$(FUZZ_COMMON) $(FUZZ_DRIVER)
tests_fuzz_fuzz_google_key_LDFLAGS = $(AM_LDFLAGS) $(FUZZ_LDFLAGS)
tests_fuzz_fuzz_google_key_LDADD = $(SL_TEST_LDADD)
nodist_EXTRA_tests_fuzz_fuzz_google_key_SOURCES = force-cxx-link.cc
TESTS += tests/integration/google_key_fuzz.sh
EXTRA_DIST += tests/integration/google_key_fuzz.sh
