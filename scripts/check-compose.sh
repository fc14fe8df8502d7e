#!/usr/bin/env bash
# Checks of the compose lab that need no Docker engine: promtool on the Prometheus config and
# rules, the rules' unit tests, and the compose/deploy tests (stand-in docker). When Docker
# Compose v2 is installed it also has compose validate the file with every profile.
set -euo pipefail
cd "$(dirname "$0")/.."
lab=subjects/tikv/operator_tikv/lab/compose

if command -v promtool >/dev/null 2>&1; then
  promtool check config "$lab/prometheus/prometheus.yml"
  promtool check rules "$lab"/prometheus/rules/*.yml
  (cd tests/subjects/tikv/lab/promtool && promtool test rules operator.rules.test.yml)
else
  echo "check-compose: promtool not found (apt-get install prometheus); Prometheus checks skipped" >&2
fi

if docker compose version >/dev/null 2>&1; then
  docker compose -f "$lab/docker-compose.yml" --profile load --profile operator config --quiet
  echo "docker compose config: ok"
else
  echo "check-compose: Docker Compose v2 not found; 'docker compose config' skipped" >&2
fi

uv run pytest -q tests/subjects/tikv/lab
