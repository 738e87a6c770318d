sluiceconfdir = $(sysconfdir)/sluice
dist_sluiceconf_DATA = %reldir%/sluice.xml
dist_pkgdata_DATA = %reldir%/sluice.xsd
EXTRA_DIST += %reldir%/demo.sh

# make demo: synthetic data through the example job, files to files.
demo: sluice$(EXEEXT)
	@$(SHELL) $(srcdir)/%reldir%/demo.sh $(abs_builddir)/sluice$(EXEEXT) \
		$(abs_srcdir)/%reldir%/sluice.xml $(abs_builddir)/demo
.PHONY: demo
clean-local-demo:
	rm -rf $(abs_builddir)/demo
CLEAN_LOCAL_DEPS = clean-local-demo
clean-local: $(CLEAN_LOCAL_DEPS)
.PHONY: clean-local-demo
