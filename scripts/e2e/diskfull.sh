#!/usr/bin/env bash
# The server's data directory on a real 40 MiB tmpfs fills up under
# hawk-bench audit (20 agents x 300 series): the server must refuse batches
# while full, survive kill -9 while full (restarted every 2 s, as the unit
# does), and after space is freed and one more kill -9, the audit must find
# every acknowledged sample stored exactly once. SIGTERM while full must exit
# non-zero with an ERROR line. Then a hawk-agent's spool
# on a 1 MiB tmpfs is kept full for AGENT_FULL seconds (default 10) and
# freed: the server must have a new sample of the agent within 2 intervals
# (1 s here). Needs root (mount); skipped otherwise. Bounded: about 60 s.
set -euo pipefail
cd "$(dirname "$0")/../.."
if [[ $(id -u) != 0 ]]; then
	echo "diskfull: skipped (needs root to mount a tmpfs)"
	exit 0
fi
PORT=${PORT:-29876}
HTTP=${HTTP:-29877}
dir=$(mktemp -d /tmp/hawk-diskfull.XXXXXX)
pid=
bench_pid=
cleanup() {
	for p in $bench_pid $pid; do kill -KILL "$p" 2>/dev/null || true; done
	for p in $bench_pid $pid; do wait "$p" 2>/dev/null || true; done
	[[ -z ${KEEP:-} ]] || cp -r "$dir/data/wal" "$dir/wal-copy" 2>/dev/null || true # for a post-mortem
	[[ -z ${agent_pid:-} ]] || { kill -KILL "$agent_pid" 2>/dev/null; wait "$agent_pid" 2>/dev/null; } || true
	umount "$dir/spool" 2>/dev/null || true
	umount "$dir/data" 2>/dev/null || true
	if [[ -n ${KEEP:-} ]]; then echo "kept $dir" >&2; else rm -rf "$dir"; fi
}
trap cleanup EXIT
mkdir -p "$dir/data"
if ! mount -t tmpfs -o size=40m tmpfs "$dir/data"; then
	echo "diskfull: skipped (mount failed)"
	exit 0
fi
[[ -x bin/hawk-server && -x bin/hawk-bench && -x bin/hawk-agent ]] ||
	CGO_ENABLED=0 go build -o bin/ ./cmd/hawk-server ./cmd/hawk-bench ./cmd/hawk-agent

start() {
	bin/hawk-server -listen "127.0.0.1:$PORT" -http "127.0.0.1:$HTTP" -data "$dir/data" >>"$dir/server.log" 2>&1 &
	pid=$!
}
# up: the query API answers (the server opened its storage).
up() { curl -sf "http://127.0.0.1:$HTTP/metrics" >/dev/null 2>&1; }
metric() { curl -sf "http://127.0.0.1:$HTTP/metrics" | awk -v m="$1" '$1 == m { print $2 }'; }
# restart_kill: kill -9, then restart.
restart_kill() {
	kill -KILL "$pid"
	wait "$pid" 2>/dev/null || true
	restart
}
# restart: start every 2 s until it serves (at most 10 tries), as the unit does.
restart() {
	local try
	for try in $(seq 10); do
		start
		for _ in $(seq 40); do
			if up; then return 0; fi
			kill -0 "$pid" 2>/dev/null || break
			sleep 0.1
		done
		kill -KILL "$pid" 2>/dev/null || true
		wait "$pid" 2>/dev/null || true
		echo "diskfull: start $try failed; again in 2 s"
		sleep 2
	done
	echo "diskfull: the server did not come back" >&2
	tail -n 30 "$dir/server.log" >&2
	return 1
}

start
for _ in $(seq 100); do up && break; sleep 0.1; done
bin/hawk-bench audit -addr "127.0.0.1:$PORT" -api "http://127.0.0.1:$HTTP" -agents 20 -series 300 \
	-duration 30s -drain 40s -backoff-max 1s >"$dir/audit.txt" 2>"$dir/progress.txt" &
bench_pid=$!
sleep 6
dd if=/dev/zero of="$dir/data/fill" bs=1M 2>/dev/null || true # until ENOSPC
for _ in $(seq 150); do
	[[ $(metric hawk_store_accepting) == 0 ]] && break
	sleep 0.1
done
echo "diskfull: disk full; accepting=$(metric hawk_store_accepting) wal_write_faults=$(metric hawk_store_wal_write_faults_total)"
sleep 3
echo "diskfull: kill -9 while full"
restart_kill
sleep 3
# A shutdown that cannot flush (sequences, TSDB) must exit non-zero and say
# so at ERROR, so that the supervisor and the operator see it.
echo "diskfull: SIGTERM while full"
kill -TERM "$pid"
term_rc=0
wait "$pid" || term_rc=$?
if [[ $term_rc == 0 ]] || ! grep -q 'level=ERROR.*stopped without flushing everything' "$dir/server.log"; then
	echo "diskfull: SIGTERM while full exited with status $term_rc; want non-zero and an ERROR line" >&2
	tail -n 20 "$dir/server.log" >&2
	exit 1
fi
echo "diskfull: SIGTERM while full exited with status $term_rc"
restart
sleep 2
rm -f "$dir/data/fill"
echo "diskfull: space freed"
for _ in $(seq 100); do
	[[ $(metric hawk_store_accepting) == 1 ]] && break
	sleep 0.1
done
sleep 4
echo "diskfull: kill -9 after space was freed"
restart_kill
rc=0
wait "$bench_pid" || rc=$?
bench_pid=
cat "$dir/audit.txt"
if grep -q "Deleting all segments newer" "$dir/server.log"; then
	echo "diskfull: the TSDB's repair deleted WAL segments" >&2
	rc=1
fi
grep -E 'level=(ERROR|WARN).*(WAL|TSDB)' "$dir/server.log" | cut -c1-240 | sort | uniq -c | sort -rn | head -n 8 || true
if [[ $rc != 0 ]]; then
	echo "diskfull: FAILED" >&2
	tail -n 40 "$dir/server.log" >&2
	exit 1
fi

# The agent's spool disk: full for AGENT_FULL s, then freed.
mkdir -p "$dir/spool"
mount -t tmpfs -o size=1m tmpfs "$dir/spool"
bin/hawk-agent -server "127.0.0.1:$PORT" -interval 1s -spool "$dir/spool/s" >"$dir/agent.log" 2>&1 &
agent_pid=$!
# newest: the timestamp (s) of the agent's newest stored MemTotal sample.
# Its own: the audit's agents above store node_memory_MemTotal_bytes too,
# and with them the disk once filled before the agent had written its id.
agent_id=
newest() {
	curl -sf "http://127.0.0.1:$HTTP/api/v1/query" \
		--data-urlencode "query=max(timestamp(node_memory_MemTotal_bytes{agent_id=\"$agent_id\"}))" |
		sed -n 's/.*"value":\[[^,]*,"\([0-9.]*\)".*/\1/p'
}
# The disk fills only once the agent delivers (its start, id included, is
# done): at most 30 s on a loaded machine.
for _ in $(seq 300); do
	[[ -n $agent_id ]] || agent_id=$(cat "$dir/spool/s/id" 2>/dev/null || true)
	[[ -n $agent_id && -n $(newest) ]] && break
	sleep 0.1
done
if [[ -z $agent_id || -z $(newest) ]]; then
	echo "diskfull: the agent delivered nothing within 30 s of its start" >&2
	tail -n 20 "$dir/agent.log" >&2
	exit 1
fi
dd if=/dev/zero of="$dir/spool/fill" bs=64k 2>/dev/null || true
sleep "${AGENT_FULL:-10}"
errs=$(grep -c 'collection not spooled' "$dir/agent.log" || true)
rm -f "$dir/spool/fill"
freed=$(date +%s.%N)
resumed=
for _ in $(seq 100); do
	n=$(newest)
	if [[ -n $n ]] && awk -v n="$n" -v f="$freed" 'BEGIN { exit !(n >= f - 0.001) }'; then
		resumed=$(awk -v f="$freed" -v now="$(date +%s.%N)" 'BEGIN { printf "%.2f", now - f }')
		break
	fi
	sleep 0.1
done
echo "diskfull: agent spool full ${AGENT_FULL:-10}s ($errs collections not spooled); delivery resumed ${resumed:-never} s after space was freed"
if [[ -z $resumed ]] || awk -v r="$resumed" 'BEGIN { exit !(r > 2.5) }'; then
	echo "diskfull: agent delivery did not resume within 2 intervals" >&2
	tail -n 20 "$dir/agent.log" >&2
	exit 1
fi
echo "diskfull: ok"
