#!/usr/bin/env bash
# bench-audit.sh: loss audit across a server restart. hawk-bench audit runs
# AGENTS agents; after RESTART_AT the server is stopped with SIGNAL (TERM: a
# drain with GOAWAY; KILL: a crash) and started again on the same data
# directory and ports after DOWN; or, with SIGNAL=HUP, it upgrades itself in
# place (tableflip: the listeners pass to a new process, found through
# -pid-file). The audit then checks every sample through the query API and
# exits non-zero on any loss or duplicate.
#
# With ROUNDS=N the restart is repeated N times, EVERY seconds apart.
#
# Usage: scripts/bench-audit.sh
# Env:   AGENTS=500 SERIES=300 DURATION=40s RESTART_AT=15 DOWN=0 SIGNAL=TERM|KILL|HUP ROUNDS=1 EVERY=10
#        PORT=19876 HTTP=19877 KEEP=1
set -euo pipefail

AGENTS=${AGENTS:-500}
SERIES=${SERIES:-300}
DURATION=${DURATION:-40s}
RESTART_AT=${RESTART_AT:-15}
ROUNDS=${ROUNDS:-1}
EVERY=${EVERY:-10}
DOWN=${DOWN:-0}
SIGNAL=${SIGNAL:-TERM}
PORT=${PORT:-19876}
HTTP=${HTTP:-19877}

root=$(cd "$(dirname "$0")/.." && pwd)
work=$(mktemp -d /tmp/bench-audit.XXXXXX)
pid=
bench_pid=

cleanup() {
	for p in $bench_pid $pid; do kill "$p" 2>/dev/null || true; done
	for p in $bench_pid $pid; do wait "$p" 2>/dev/null || true; done
	# After an upgrade the server is not our child: wait for it by polling.
	for _ in $(seq 300); do
		if [[ -z $pid ]] || ! kill -0 "$pid" 2>/dev/null; then break; fi
		sleep 0.1
	done
	if [[ -z ${KEEP:-} ]]; then rm -rf "$work"; else echo "kept $work" >&2; fi
}
trap cleanup EXIT

(cd "$root" && go build -o "$work/hawk-server" ./cmd/hawk-server && go build -o "$work/hawk-bench" ./cmd/hawk-bench)
ulimit -n "$(ulimit -Hn)"

start_server() {
	"$work/hawk-server" -listen "127.0.0.1:$PORT" -http "127.0.0.1:$HTTP" -data "$work/data" \
		-pid-file "$work/hawk.pid" -log-level info >>"$work/server.log" 2>&1 &
	pid=$!
	for _ in $(seq 300); do
		if (exec 3<>"/dev/tcp/127.0.0.1/$HTTP") 2>/dev/null; then return 0; fi
		sleep 0.1
	done
	echo "server did not start" >&2
	return 1
}

start_server
echo "\$ hawk-bench audit -addr 127.0.0.1:$PORT -api http://127.0.0.1:$HTTP -agents $AGENTS -series $SERIES -duration $DURATION" \
	"  (server SIG$SIGNAL at ${RESTART_AT}s, down ${DOWN}s)"
"$work/hawk-bench" audit -addr "127.0.0.1:$PORT" -api "http://127.0.0.1:$HTTP" -agents "$AGENTS" -series "$SERIES" \
	-duration "$DURATION" >"$work/audit.txt" 2>"$work/progress.txt" &
bench_pid=$!
# wait_gone PID: the process has exited (after an upgrade it is not our child).
wait_gone() {
	wait "$1" 2>/dev/null || true
	for _ in $(seq 600); do
		kill -0 "$1" 2>/dev/null || return 0
		sleep 0.05
	done
}

restart_once() {
	t0=$(date +%s.%N)
	if [[ $SIGNAL == HUP ]]; then
		old=$pid
		kill -s HUP "$old"
		for _ in $(seq 600); do
			new=$(cat "$work/hawk.pid" 2>/dev/null || true)
			if [[ -n $new && $new != "$old" ]]; then break; fi
			sleep 0.05
		done
		pid=$new
		wait_gone "$old"
		t1=$(date +%s.%N)
		awk -v a="$t0" -v b="$t1" 'BEGIN { printf "server: upgraded in place; old process exited after %.2fs\n", b - a }'
	else
		kill -s "$SIGNAL" "$pid"
		wait_gone "$pid"
		pid=
		t1=$(date +%s.%N)
		sleep "$DOWN"
		start_server
		t2=$(date +%s.%N)
		awk -v a="$t0" -v b="$t1" -v c="$t2" 'BEGIN { printf "server: stop took %.2fs, restarted (listening) after %.2fs\n", b - a, c - a }'
	fi
}

sleep "$RESTART_AT"
for round in $(seq 1 "$ROUNDS"); do
	echo -n "round $round/$ROUNDS: "
	restart_once
	[[ $round -lt $ROUNDS ]] && sleep "$EVERY"
done
rc=0
wait "$bench_pid" || rc=$?
bench_pid=
cat "$work/audit.txt"
grep -hoE 'wal_replay_duration=[^ ]+|msg="ingest resumed after upgrade" pause=[^ ]+' "$work/server.log" | sed 's/^/server log: /' || true
exit "$rc"
