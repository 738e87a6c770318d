# tests of the state area
