#!/bin/sh
# A Megatest-style runscript: it reports its own steps and a measured value.
set -e
trellis step render --state start
echo "rendering 12 pages"
trellis step render --state end --status PASS
trellis set-value pages 12 --expected 12 --tol 0 --units pages
