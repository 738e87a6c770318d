# tests of the dicom area
