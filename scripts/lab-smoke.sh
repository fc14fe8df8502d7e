#!/usr/bin/env bash
# The lab end to end, on a machine with Docker and Compose v2: start it, see every store Up,
# kill a store and watch the operator and Prometheus notice, start it again, tear down.
# Stops at the first step that fails (exit 1); the lab is removed on exit either way.
set -euo pipefail
cd "$(dirname "$0")/.."
PD=http://127.0.0.1:2379
PROM=http://127.0.0.1:9090
op() { uv run operator-tui --pd "$PD" --prometheus "$PROM" "$@"; }
trap 'uv run operator-tui deploy local down >/dev/null 2>&1 || true' EXIT

step() { printf '\n== %s\n' "$*"; }

step "deploy local up"
uv run operator-tui deploy local up
uv run operator-tui deploy local status

step "check: a healthy cluster exits 0"
op check

store=$(uv run python -c "import httpx; print(httpx.get('$PD/pd/api/v1/stores').json()['stores'][0]['store']['id'])")
step "chaos kill $store"
uv run operator-tui chaos kill "$store"

step "check reports store_down for store $store (up to 60 s)"
found=""
for _ in $(seq 1 30); do
  set +e
  out=$(op check --json)
  rc=$?
  set -e
  if [ "$rc" -eq 1 ] && printf '%s' "$out" | uv run python -c "
import json, sys
v = json.load(sys.stdin)['violations']
sys.exit(0 if any(x['invariant'] == 'store_down' and x.get('store_id') == $store for x in v) else 1)
"; then found=yes; break; fi
  sleep 2
done
[ -n "$found" ] || { echo "lab-smoke: check never reported store_down for store $store" >&2; exit 1; }

step "Prometheus fires OperatorStoreDown (up to 60 s)"
fired=""
for _ in $(seq 1 30); do
  if uv run python -c "
import httpx, sys
alerts = httpx.get('$PROM/api/v1/alerts').json()['data']['alerts']
sys.exit(0 if any(a['labels']['alertname'] == 'OperatorStoreDown' and a['state'] == 'firing' for a in alerts) else 1)
"; then fired=yes; break; fi
  sleep 2
done
[ -n "$fired" ] || { echo "lab-smoke: OperatorStoreDown never fired" >&2; exit 1; }

step "chaos start $store; check is healthy again (up to 120 s)"
uv run operator-tui chaos start "$store"
healthy=""
for _ in $(seq 1 60); do
  if op check >/dev/null 2>&1; then healthy=yes; break; fi
  sleep 2
done
[ -n "$healthy" ] || { echo "lab-smoke: the cluster did not become healthy again" >&2; exit 1; }

step "deploy local down"
uv run operator-tui deploy local down
trap - EXIT
echo "lab-smoke: ok"
