#!/usr/bin/env bash
# Scale-out: Debian's victoria-metrics on loopback; two stateless
# hawk-servers (-storage.tsdb=false) forwarding to it by remote write; 50
# simulated agents spread over both with failover; one server killed with
# SIGKILL mid-run. At the end every sample must be in VictoriaMetrics, read
# back through its query API: none missing, none doubled.
#
# Env: AGENTS=50 SERIES=100 DURATION=40s KILL_AT=15
set -euo pipefail
source "$(dirname "$0")/lib.sh"
AGENTS=${AGENTS:-50}
SERIES=${SERIES:-100}
DURATION=${DURATION:-40s}
KILL_AT=${KILL_AT:-15}
vm=$(command -v victoria-metrics || true)
if [ -z "$vm" ]; then
	echo "scaleout: victoria-metrics is not installed (scripts/deps.sh installs it)" >&2
	exit 1
fi
dir=$(mktemp -d)
vm_pid= s1= s2= bench_pid=
trap 'for p in $bench_pid $s1 $s2 $vm_pid; do stop_pid "$p"; done; rm -rf "$dir"' EXIT

port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
# Identical (series, timestamp, value) resent after the kill is kept once:
# -dedup.minScrapeInterval=1ms. Fresh samples are visible at once:
# -search.latencyOffset=0s.
"$vm" -storageDataPath "$dir/vm" -httpListenAddr "127.0.0.1:$port" -dedup.minScrapeInterval=1ms \
	-search.latencyOffset=0s -search.disableCache -loggerLevel=ERROR >"$dir/vm.log" 2>&1 &
vm_pid=$!
for _ in $(seq 1 100); do
	curl -sf "http://127.0.0.1:$port/health" >/dev/null && break
	sleep 0.1
done
rw="http://127.0.0.1:$port/api/v1/write"
mkdir -p "$dir/a" "$dir/b"
start_server "$dir/a" -storage.tsdb=false -remote-write "$rw"
s1=$SERVER_PID a1=$AGENT_ADDR
start_server "$dir/b" -storage.tsdb=false -remote-write "$rw"
s2=$SERVER_PID a2=$AGENT_ADDR

echo "\$ hawk-bench audit -addr $a1,$a2 -api http://127.0.0.1:$port -agents $AGENTS -series $SERIES -duration $DURATION (server 1 SIGKILL at ${KILL_AT}s)"
bin/hawk-bench audit -addr "$a1,$a2" -api "http://127.0.0.1:$port" -flush "http://127.0.0.1:$port/internal/force_flush" \
	-agents "$AGENTS" -series "$SERIES" -duration "$DURATION" -sources 0 -drain 60s >"$dir/audit.txt" 2>"$dir/progress.txt" &
bench_pid=$!
sleep "$KILL_AT"
kill -KILL "$s1"
echo "server 1 ($a1) killed at ${KILL_AT}s; agents fail over to server 2 ($a2)"
rc=0
wait "$bench_pid" || rc=$?
bench_pid=
cat "$dir/audit.txt"
exit "$rc"
