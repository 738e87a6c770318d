# tests of the pipeline area
