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
