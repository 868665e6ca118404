#!/usr/bin/env bash
# Two hawk-agent binaries side by side, for comparing builds:
#
#   scripts/agent-ab.sh A_BIN B_BIN [SECONDS] [INTERVAL]     # default 60 5s
#
# Both agents get the same agent id, hence the same schedule offset, so
# they collect at the same instants and whatever else runs on the machine
# disturbs both alike; each sends to its own hawk-server (same id, so not
# one server). Prints each one's CPU (from /proc/PID/task/*/schedstat) per
# second of wall time, their ratio and their RSS. Extra server flags for
# B's server: SERVER_B_FLAGS (e.g. "-heartbeat-interval 60s").
# Run from the repository root after `make build`.
set -euo pipefail
source "$(dirname "$0")/e2e/lib.sh"
a_bin=$1 b_bin=$2 secs=${3:-60} ivl=${4:-5s}
dir=$(mktemp -d)
a= b= p1= p2=
trap 'stop_pid ${a:-0}; stop_pid ${b:-0}; stop_pid ${p1:-0}; stop_pid ${p2:-0}; rm -rf "$dir"' EXIT
mkdir -p "$dir/s1" "$dir/s2" "$dir/spoolA" "$dir/spoolB"
start_server "$dir/s1"
p1=$SERVER_PID addr1=$AGENT_ADDR
# shellcheck disable=SC2086 # flags are words
start_server "$dir/s2" ${SERVER_B_FLAGS:-}
p2=$SERVER_PID addr2=$AGENT_ADDR
echo 0123456789abcdef0123456789abcdef >"$dir/spoolA/id"
cp "$dir/spoolA/id" "$dir/spoolB/id"
"$a_bin" -server "$addr1" -interval "$ivl" -spool "$dir/spoolA" -hostname ab >"$dir/a.log" 2>&1 &
a=$!
"$b_bin" -server "$addr2" -interval "$ivl" -spool "$dir/spoolB" -hostname ab >"$dir/b.log" 2>&1 &
b=$!
sleep 4 # start-up is not measured
ns() { cat /proc/"$1"/task/*/schedstat | awk '{ s += $1 } END { print s }'; }
a0=$(ns "$a") b0=$(ns "$b")
sleep "$secs"
a1=$(ns "$a") b1=$(ns "$b")
rss() { awk '/^VmRSS/ { printf "%.1f MiB", $2 / 1024 }' /proc/"$1"/status; }
awk -v a=$((a1 - a0)) -v b=$((b1 - b0)) -v s="$secs" -v ra="$(rss "$a")" -v rb="$(rss "$b")" 'BEGIN {
	printf "A %.3f ms CPU/s, RSS %s\nB %.3f ms CPU/s, RSS %s\nB/A %.3f\n", a / 1e6 / s, ra, b / 1e6 / s, rb, b / a }'
