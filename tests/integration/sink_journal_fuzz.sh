#!/bin/sh
# The dicom-folder sink's journal parser replays its seed corpus
# (tests/fuzz/corpus/sink_journal/: journals the sink wrote, and lines
# that must be refused: paths out of the folder, bad hashes, missing
# fields) without a crash or a broken promise.
. "${top_srcdir}/tests/integration/lib.sh"
plan 1
fuzz_replay sink_journal
finish
