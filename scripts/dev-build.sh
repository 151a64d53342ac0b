#!/usr/bin/env bash
# Builds the extension into build/dev-NAME and stages an importable package there, so several
# people can build and test side by side without installing into .venv.
# Usage: scripts/dev-build.sh NAME  ->  then: PYTHONPATH=build/dev-NAME/site .venv/bin/python -m pytest ...
set -euo pipefail
cd "$(dirname "$0")/.."
name=${1:?usage: scripts/dev-build.sh NAME}
dir=build/dev-$name
.venv/bin/cmake -S . -B "$dir" -G Ninja -DTB_BUILD_TESTS=OFF -DTB_BUILD_PYTHON=ON \
  -DPython_EXECUTABLE="$PWD/.venv/bin/python" >/dev/null
.venv/bin/cmake --build "$dir" --target _ext _ext_stub
rm -rf "$dir/site" && mkdir -p "$dir/site/tensorbridge"
for f in python/tensorbridge/*; do ln -s "$PWD/$f" "$dir/site/tensorbridge/"; done
ln -s "$PWD"/"$dir"/python/_ext*.so "$PWD/$dir/python/_ext.pyi" "$dir/site/tensorbridge/"
echo "PYTHONPATH=$dir/site"
