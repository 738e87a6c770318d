# tests of the dicom-folder sink's layouts with manifests (folders,
# dicomdir, zip) through `sluice run`
SINK_TESTS = tests/integration/sink_dicom_layouts.sh
TESTS += $(SINK_TESTS)
EXTRA_DIST += $(SINK_TESTS)
