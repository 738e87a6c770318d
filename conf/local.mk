sluiceconfdir = $(sysconfdir)/sluice
dist_sluiceconf_DATA = %reldir%/sluice.xml
dist_pkgdata_DATA = %reldir%/sluice.xsd
EXTRA_DIST += %reldir%/demo.sh %reldir%/sluice.service.in

# The systemd unit, with this build's paths (docs/operations.md).
if HAVE_SYSTEMDUNITDIR
systemdsystemunit_DATA = %reldir%/sluice.service
endif
%reldir%/sluice.service: %reldir%/sluice.service.in Makefile
	$(AM_V_GEN)$(MKDIR_P) %reldir% && sed -e 's|@bindir[@]|$(bindir)|g' \
		-e 's|@sysconfdir[@]|$(sysconfdir)|g' \
		$(srcdir)/%reldir%/sluice.service.in >$@
all-local: %reldir%/sluice.service
CLEANFILES += %reldir%/sluice.service

# make demo: synthetic data through the example job, files to files.
demo: sluice$(EXEEXT) sluice-dicom.so$(EXEEXT)
	@$(SHELL) $(srcdir)/%reldir%/demo.sh $(abs_builddir)/sluice$(EXEEXT) \
		$(abs_srcdir)/%reldir%/sluice.xml $(abs_builddir)/demo
.PHONY: demo
clean-local-demo:
	rm -rf $(abs_builddir)/demo
CLEAN_LOCAL_DEPS = clean-local-demo
clean-local: $(CLEAN_LOCAL_DEPS)
.PHONY: clean-local-demo
