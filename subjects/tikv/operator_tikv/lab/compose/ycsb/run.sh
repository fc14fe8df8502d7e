#!/bin/sh
# Load the records, then run the workload against raw TiKV until the container is stopped.
# YCSB_WORKLOAD picks a file in /workloads (uniform, hotkey); YCSB_TARGET caps ops/s.
set -eu
workload="/workloads/${YCSB_WORKLOAD:-hotkey}"
if [ ! -f "$workload" ]; then
  echo "ycsb-run: unknown workload '${YCSB_WORKLOAD:-}'; choose one of: $(ls /workloads | tr '\n' ' ')" >&2
  exit 2
fi
pd="${YCSB_PD:-pd0:2379,pd1:2379,pd2:2379}"
threads="${YCSB_THREADS:-8}"
go-ycsb load tikv -P "$workload" -p tikv.pd="$pd" -p tikv.type=raw --threads "$threads"
exec go-ycsb run tikv -P "$workload" -p tikv.pd="$pd" -p tikv.type=raw \
  --threads "$threads" --target "${YCSB_TARGET:-2000}" --interval 10
