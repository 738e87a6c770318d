#!/bin/sh
echo "demo: not ready yet"
