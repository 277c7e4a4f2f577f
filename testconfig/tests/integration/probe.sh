#!/bin/sh
# Copied into the work folder with the rest of the test's files.
echo "probing $1:$2"
trellis set-value port "$2" --expected "$2"
