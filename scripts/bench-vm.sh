#!/usr/bin/env bash
# bench-vm.sh: side-by-side ingest comparison on this machine, in one run.
#
#   hawk-server   <- hawk-bench load   (v2 over TCP, acknowledged, embedded Prometheus TSDB)
#   VictoriaMetrics <- hawk-bench influx (Influx line protocol over TCP, no acknowledgement)
#
# Both get the same agents, series, samples and timestamps rule
# (AGENTS x SERIES x BATCHES samples, sent as fast as each takes them); for
# VictoriaMetrics the run ends when vm_rows_inserted_total{type="influx"}
# has counted every sample. Server CPU comes from /proc/PID/stat. Rounds
# alternate hawk and VictoriaMetrics to spread the noise of a shared machine.
#
# Usage: scripts/bench-vm.sh            (from the repository root)
# Env:   AGENTS=100 SERIES=300 BATCHES=600 ROUNDS=3 DURATION=120s
#        HAWK_PORT=19876 HAWK_HTTP=19877 VM_HTTP=18428 VM_INFLUX=18089 KEEP=1 (keep the temp dir)
#
# It installs victoria-metrics with apt if /usr/bin/victoria-metrics is
# missing (and stops a service the install started), starts both servers on
# loopback with temporary data directories, and stops them by PID.
set -euo pipefail

AGENTS=${AGENTS:-100}
SERIES=${SERIES:-300}
BATCHES=${BATCHES:-600}
ROUNDS=${ROUNDS:-3}
DURATION=${DURATION:-120s}
HAWK_PORT=${HAWK_PORT:-19876}
HAWK_HTTP=${HAWK_HTTP:-19877}
VM_HTTP=${VM_HTTP:-18428}
VM_INFLUX=${VM_INFLUX:-18089}
VM=/usr/bin/victoria-metrics

root=$(cd "$(dirname "$0")/.." && pwd)
work=$(mktemp -d /tmp/bench-vm.XXXXXX)
pids=()

cleanup() {
	for pid in "${pids[@]}"; do
		kill "$pid" 2>/dev/null || true
	done
	for pid in "${pids[@]}"; do
		wait "$pid" 2>/dev/null || true
	done
	if [[ -z ${KEEP:-} ]]; then rm -rf "$work"; else echo "kept $work"; fi
}
trap cleanup EXIT

if [[ ! -x $VM ]]; then
	echo "installing victoria-metrics" >&2
	was_active=$(systemctl is-active victoria-metrics 2>/dev/null || true)
	DEBIAN_FRONTEND=noninteractive apt-get install -y victoria-metrics >"$work/apt.log" 2>&1
	if [[ $was_active != active ]] && systemctl is-active --quiet victoria-metrics 2>/dev/null; then
		systemctl disable --now victoria-metrics >&2 # the package started it; this run did not ask for it
	fi
fi

echo "building hawk-server and hawk-bench" >&2
(cd "$root" && go build -o "$work/hawk-server" ./cmd/hawk-server && go build -o "$work/hawk-bench" ./cmd/hawk-bench)

ulimit -n "$(ulimit -Hn)" # as many open files as allowed

wait_port() { # host port
	for _ in $(seq 100); do
		if (exec 3<>"/dev/tcp/$1/$2") 2>/dev/null; then return 0; fi
		sleep 0.1
	done
	echo "port $1:$2 did not open" >&2
	return 1
}

"$work/hawk-server" -listen "127.0.0.1:$HAWK_PORT" -http "127.0.0.1:$HAWK_HTTP" -data "$work/hawk" \
	-log-level warn >"$work/hawk.log" 2>&1 &
hawk_pid=$!
pids+=("$hawk_pid")
"$VM" -storageDataPath "$work/vm" -httpListenAddr "127.0.0.1:$VM_HTTP" -influxListenAddr "127.0.0.1:$VM_INFLUX" \
	-influxSkipSingleField -loggerLevel ERROR >"$work/vm.log" 2>&1 &
vm_pid=$!
pids+=("$vm_pid")
wait_port 127.0.0.1 "$HAWK_PORT"
wait_port 127.0.0.1 "$VM_INFLUX"
wait_port 127.0.0.1 "$VM_HTTP"
"$VM" -version >&2 || true
echo "hawk-server pid $hawk_pid, victoria-metrics pid $vm_pid; $AGENTS agents x $SERIES series x $BATCHES batches = $((AGENTS * SERIES * BATCHES)) samples per run" >&2

hawk_cmd=("$work/hawk-bench" load -addr "127.0.0.1:$HAWK_PORT" -agents "$AGENTS" -series "$SERIES" -interval 0
	-batches "$BATCHES" -duration "$DURATION" -pid "$hawk_pid")
vm_cmd=("$work/hawk-bench" influx -addr "127.0.0.1:$VM_INFLUX" -agents "$AGENTS" -series "$SERIES"
	-batches "$BATCHES" -duration "$DURATION" -pid "$vm_pid" -metrics "http://127.0.0.1:$VM_HTTP/metrics")
echo "hawk: hawk-bench ${hawk_cmd[*]:1}" | sed "s|$work/||g" >&2
echo "vm:   hawk-bench ${vm_cmd[*]:1}" | sed "s|$work/||g" >&2

# rate and ns/sample from a hawk-bench report
rate() { awk -v k="$2" '$1 == k { print $NF == "samples/s" ? $(NF-1) : "" }' "$1"; }
nsps() { awk '$1 == "server" && $2 == "cpu:" { for (i = 1; i <= NF; i++) if ($i == "ns/sample") print $(i-1) }' "$1"; }

printf '\n%-6s %-16s %14s %14s %10s\n' round server samples/s cpu-ns/sample sent
for r in $(seq "$ROUNDS"); do
	"${hawk_cmd[@]}" >"$work/hawk.$r.txt"
	"${vm_cmd[@]}" >"$work/vm.$r.txt"
	hs=$(rate "$work/hawk.$r.txt" acked:) hn=$(nsps "$work/hawk.$r.txt")
	vs=$(rate "$work/vm.$r.txt" ingested:) vn=$(nsps "$work/vm.$r.txt")
	printf '%-6s %-16s %14s %14s %10s\n' "$r" hawk "$hs" "$hn" "$(awk '$1=="acked:"{print $2}' "$work/hawk.$r.txt")"
	printf '%-6s %-16s %14s %14s %10s\n' "$r" victoria-metrics "$vs" "$vn" "$(awk '$1=="ingested:"{print $2}' "$work/vm.$r.txt")"
	awk -v hs="$hs" -v vs="$vs" -v hn="$hn" -v vn="$vn" -v r="$r" 'BEGIN {
		if (vs > 0 && vn > 0) printf "%-6s %-16s %13.2fx %13.2fx\n", r, "hawk/vm", hs / vs, hn / vn }'
	for f in "$work/hawk.$r.txt" "$work/vm.$r.txt"; do grep -E '^errors:' "$f" | grep -v 'errors: 0$' | sed "s|^|$(basename "$f"): |" >&2 || true; done
done
echo
echo "last round, full reports:"
cat "$work/hawk.$ROUNDS.txt" "$work/vm.$ROUNDS.txt"
