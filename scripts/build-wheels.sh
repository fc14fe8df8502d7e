#!/usr/bin/env sh
# Builds the wheels of every package of the workspace (operator-tui and its subject plugins)
# into DIR. The container image runs exactly this, and a test runs it outside Docker.
set -eu
out="${1:?usage: scripts/build-wheels.sh DIR}"
cd "$(dirname "$0")/.."
uv build --all-packages --wheel --out-dir "$out" --quiet
ls "$out"/*.whl
