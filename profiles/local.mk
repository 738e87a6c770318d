# Profiles are installed under $(pkgdatadir) with their source path kept
# (nobase): profiles/deid/basic.xml -> $(pkgdatadir)/profiles/deid/basic.xml,
# where sl_profile_dir() looks for them.
profilesdir = $(pkgdatadir)
nobase_dist_profiles_DATA = %reldir%/deid/profile.xsd \
	%reldir%/deid/basic.xml %reldir%/deid/longitudinal.xml \
	%reldir%/deid/safe-harbor.xml
