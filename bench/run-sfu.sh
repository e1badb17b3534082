#!/usr/bin/env bash
# Measures the SFU of live calls against a plain UDP forwarder, in one run
# on one machine. Each server is a fresh process pinned to CPU 0. The
# publisher and every subscriber run in the driver, pinned to CPU 1. Runs
# alternate between the two servers at each subscriber count and repeat;
# the summary reports medians. See bench/src/bin/sfu.rs for the stream.
#
# Usage: bench/run-sfu.sh [RESULTS_FILE]
# Environment: SUBSCRIBERS (comma-separated counts), ROUNDS, DURATION and
# WARMUP (seconds).
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$HOME/.cache/kinlink-target}
results=${1:-$root/bench/sfu-results.jsonl}

ulimit -n "$(ulimit -Hn)" || true
cargo build --release -p kinlink-bench --bin sfu >&2
taskset -c 1 "$CARGO_TARGET_DIR/release/sfu" drive --server-core 0 \
  --subscribers "${SUBSCRIBERS:-10,25,50,100}" --rounds "${ROUNDS:-3}" \
  --seconds "${DURATION:-15}" --warmup "${WARMUP:-3}" >"$results"
python3 "$root/bench/summarise-sfu.py" "$results"
