#!/usr/bin/env bash
# Run HERE (with network): downloads the .deb files that the GPU machine lacks
# (GoogleTest, LAPACK/BLAS and their Fortran runtime, inih) into .carry/debs,
# which git ignores.  Then call bench/device-check.sh there with carry [".carry"].
set -euo pipefail
cd "$(dirname "$0")/.."
mkdir -p .carry/debs
cd .carry/debs
apt-get download libgtest-dev googletest liblapack3 libblas3 libgfortran5 libquadmath0 libinih1 libinih-dev
ls -la
