# tests of the config area
