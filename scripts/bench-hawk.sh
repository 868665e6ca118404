#!/usr/bin/env bash
# bench-hawk.sh: hawk-server figures for docs/performance.md, each next to a
# baseline taken in the same run (shared machines are noisy).
#
#   1. maximum ingest: AGENTS agents sending as fast as the window allows
#   2. ack latency at half that rate, against a light-load baseline (1/20)
#   3. bytes on the wire per sample: a fleet of FLEET agents at a 10 s interval
#   4. connection scale: CONNS idle heartbeating agents against a baseline of
#      CONNS_BASE, on a fresh server, RSS per connection and echo latency
#
# Usage: scripts/bench-hawk.sh [steps...]   (default: 1 2 3 4)
# Env:   AGENTS=100 FLEET=1000 CONNS=19000 CONNS_BASE=1000 HOLD=30s PORT=19876 HTTP=19877 KEEP=1
set -euo pipefail

AGENTS=${AGENTS:-100}
FLEET=${FLEET:-1000}
CONNS=${CONNS:-19000}
CONNS_BASE=${CONNS_BASE:-1000}
HOLD=${HOLD:-30s}
PORT=${PORT:-19876}
HTTP=${HTTP:-19877}
steps=("${@:-1 2 3 4}")
steps=(${steps[*]})

root=$(cd "$(dirname "$0")/.." && pwd)
work=$(mktemp -d /tmp/bench-hawk.XXXXXX)
pid=

stop_server() {
	if [[ -n $pid ]]; then
		kill "$pid" 2>/dev/null || true
		wait "$pid" 2>/dev/null || true
		pid=
	fi
}
cleanup() {
	stop_server
	if [[ -z ${KEEP:-} ]]; then rm -rf "$work"; else echo "kept $work" >&2; fi
}
trap cleanup EXIT

(cd "$root" && go build -o "$work/hawk-server" ./cmd/hawk-server && go build -o "$work/hawk-bench" ./cmd/hawk-bench)
ulimit -n "$(ulimit -Hn)" # as many open files as allowed; hawk-bench raises its own further if it may
echo "open files limit: $(ulimit -n) (hard $(ulimit -Hn)), nr_open $(cat /proc/sys/fs/nr_open)" >&2

start_server() { # name
	stop_server
	"$work/hawk-server" -listen "127.0.0.1:$PORT" -http "127.0.0.1:$HTTP" -data "$work/data-$1" \
		-log-level warn >"$work/server-$1.log" 2>&1 &
	pid=$!
	for _ in $(seq 100); do
		if (exec 3<>"/dev/tcp/127.0.0.1/$PORT") 2>/dev/null; then return 0; fi
		sleep 0.1
	done
	echo "server did not start" >&2
	return 1
}

bench() { # name args...
	local name=$1
	shift
	echo "\$ hawk-bench $*" | tee "$work/$name.txt"
	"$work/hawk-bench" "$@" | tee -a "$work/$name.txt"
	echo
}
field() { awk -v k="$2" '$1 == k { print $(NF-1) }' "$work/$1.txt"; } # "acked: ... N samples/s"
lat() { awk -v q="$2" '$1 == "ack" && $2 == "latency:" { for (i = 1; i <= NF; i++) if ($i == q) print $(i+1) }' "$work/$1.txt" | tr -d ms; }

for step in "${steps[@]}"; do
	case $step in
	1)
		start_server ingest
		bench warmup load -addr "127.0.0.1:$PORT" -agents "$AGENTS" -interval 0 -duration 10s -pid "$pid" -prefix w-
		bench max load -addr "127.0.0.1:$PORT" -agents "$AGENTS" -interval 0 -duration 20s -pid "$pid" -prefix m- \
			-metrics "http://127.0.0.1:$HTTP/metrics"
		;;
	2)
		max=$(field max acked:)
		half=$(awk -v m="$max" 'BEGIN { printf "%d", m / 2 }')
		light=$(awk -v m="$max" 'BEGIN { printf "%d", m / 20 }')
		bench half load -addr "127.0.0.1:$PORT" -agents "$AGENTS" -rate "$half" -duration 30s -pid "$pid" -prefix m-
		bench light load -addr "127.0.0.1:$PORT" -agents "$AGENTS" -rate "$light" -duration 30s -pid "$pid" -prefix m-
		for q in p50 p99 max; do
			awk -v q=$q -v h="$(lat half $q)" -v l="$(lat light $q)" 'BEGIN {
				printf "ack latency %s: %.3fms at half the maximum rate, %.3fms at 1/20 of it: %.2fx\n", q, h, l, h / l }'
		done
		;;
	3)
		start_server fleet
		bench fleet load -addr "127.0.0.1:$PORT" -agents "$FLEET" -interval 10s -duration 60s -pid "$pid" -prefix f- \
			-metrics "http://127.0.0.1:$HTTP/metrics"
		;;
	4)
		start_server conns-base
		bench conns-base conns -addr "127.0.0.1:$PORT" -agents "$CONNS_BASE" -hold "$HOLD" -pid "$pid"
		start_server conns
		bench conns conns -addr "127.0.0.1:$PORT" -agents "$CONNS" -connect 512 -hold "$HOLD" -pid "$pid"
		;;
	esac
done
