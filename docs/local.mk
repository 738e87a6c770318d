dist_doc_DATA = %reldir%/user-guide.md %reldir%/configuration.md \
	%reldir%/architecture.md %reldir%/troubleshooting.md \
	%reldir%/fuzzing.md %reldir%/deid.md %reldir%/connectors.md \
	%reldir%/terminology.md %reldir%/pacs.md \
	%reldir%/validation.md
dist_man_MANS += man/sluice.1 man/sluice.xml.5
