#!/usr/bin/env bash
# The Python package's tests (tests/python) against the built libdetcgd.so and CLI, on an interpreter with NumPy,
# SciPy, pandas and pytest (.ci/setup installs Debian's; $DETCGD_PYTHON to choose another).
# Usage: tests/python_check.sh BUILD_DIR
set -euo pipefail
build=$(cd "$1" && pwd)
root=$(cd "$(dirname "$0")/.." && pwd)
for py in ${DETCGD_PYTHON:-} /usr/bin/python3 python3; do
  if "$py" -c "import numpy, scipy, pandas, pytest" 2>/dev/null; then
    cd "$root"
    DETCGD_LIBRARY=$build/libdetcgd.so DETCGD_CLI=$build/detcgd DETCGD_SHARED_DATA=$root/../shared/data/libsvm \
      PYTHONPATH=$root/python exec "$py" -m pytest -q -p no:cacheprovider tests/python
  fi
done
echo "python_check: no interpreter with numpy, scipy, pandas and pytest (run .ci/setup, or set DETCGD_PYTHON)"
exit 1
