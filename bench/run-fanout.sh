#!/usr/bin/env bash
# Measures chat fan-out of KinLink (full path: session actors, encryption,
# SQLite store) against the bare actix-ws broadcast server, in one run on
# one machine. Each server is pinned to CPU 0 with one worker thread; the
# load generator runs on CPU 1. Runs are interleaved (bare, then KinLink, at
# each rate) and repeated; the summary reports medians.
#
# Usage: bench/run-fanout.sh [RESULTS_FILE]
# Environment: RATES (messages per second, space-separated), REPEATS,
# DURATION and WARMUP (seconds), CONNECTIONS, ROOMS.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$HOME/.cache/kinlink-target}
results=${1:-$root/bench/fanout-results.jsonl}
rates=${RATES:-"1000 2000 4000 8000 16000"}
repeats=${REPEATS:-3}
duration=${DURATION:-5}
warmup=${WARMUP:-1}
connections=${CONNECTIONS:-1000}
rooms=${ROOMS:-100}

ulimit -n "$(ulimit -Hn)" || true
cargo build --release -p kinlink-server -p kinlink-bench >&2
bin=$CARGO_TARGET_DIR/release
work=$(mktemp -d)
pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  rm -rf "$work"
}
trap cleanup EXIT

free_port() {
  python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# Starts a fresh KinLink with load fixtures; sets kinlink_address.
start_kinlink() {
  local data=$work/kinlink-$1
  mkdir -p "$data"
  KINLINK__DATA_DIR=$data RUST_LOG=error "$bin/kinlink" seed-load \
    --users $((connections / rooms)) --conversations "$rooms" --out "$data/fixtures.json" >/dev/null
  local port
  port=$(free_port)
  KINLINK__DATA_DIR=$data KINLINK__SERVER__LISTEN=127.0.0.1:$port KINLINK__SERVER__WORKERS=1 \
    RUST_LOG=error taskset -c 0 "$bin/kinlink" serve --ready-file "$data/ready.json" \
    >"$data/server.log" 2>&1 &
  kinlink_pid=$!
  pids+=("$kinlink_pid")
  for _ in $(seq 100); do [[ -s $data/ready.json ]] && break; sleep 0.1; done
  kinlink_address=http://127.0.0.1:$port
  kinlink_fixtures=$data/fixtures.json
}

start_bare() {
  local port
  port=$(free_port)
  taskset -c 0 "$bin/bare_broadcast" --listen "127.0.0.1:$port" >/dev/null 2>&1 &
  bare_pid=$!
  pids+=("$bare_pid")
  sleep 0.5
  bare_address=http://127.0.0.1:$port
}

resident_kib() {
  awk '/VmRSS/ { print $2 }' "/proc/$1/status"
}

load() {
  taskset -c 1 "$bin/fanout" --connections "$connections" --rooms "$rooms" \
    --duration "$duration" --warmup "$warmup" "$@" 2>/dev/null
}

: >"$results"
for repeat in $(seq "$repeats"); do
  for rate in $rates; do
    # A fresh server for every run, so no run inherits another's backlog.
    start_bare
    load --target bare --address "$bare_address" --rate "$rate" |
      sed "s/^{/{\"repeat\":$repeat,/" >>"$results"
    kill "$bare_pid"
    start_kinlink "$repeat-$rate"
    load --target kinlink --address "$kinlink_address" --fixtures "$kinlink_fixtures" --rate "$rate" |
      sed "s/^{/{\"repeat\":$repeat,/" >>"$results"
    kill "$kinlink_pid"
    wait 2>/dev/null || true
  done
done

# Memory per idle connection: resident memory with all connections open
# and subscribed, less resident memory before they connected.
for target in bare kinlink; do
  for repeat in $(seq "$repeats"); do
    if [[ $target == bare ]]; then
      start_bare; pid=$bare_pid; args=(--target bare --address "$bare_address")
    else
      start_kinlink "idle-$repeat"; pid=$kinlink_pid
      args=(--target kinlink --address "$kinlink_address" --fixtures "$kinlink_fixtures")
    fi
    load "${args[@]}" --idle-seconds 8 >"$work/idle.out" &
    loader=$!
    for _ in $(seq 100); do grep -q signed_in "$work/idle.out" 2>/dev/null && break; sleep 0.1; done
    sleep 1
    before=$(resident_kib "$pid")
    for _ in $(seq 300); do grep -q idle_connections "$work/idle.out" 2>/dev/null && break; sleep 0.1; done
    sleep 3
    during=$(resident_kib "$pid")
    wait "$loader" || true
    kill "$pid"
    echo "{\"repeat\":$repeat,\"target\":\"$target\",\"idle_connections\":$connections,\"rss_before_kib\":$before,\"rss_idle_kib\":$during}" >>"$results"
  done
done

python3 "$root/bench/summarise.py" "$results"
