profilesdir = $(pkgdatadir)/profiles
nobase_dist_profiles_DATA =
