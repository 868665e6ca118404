#!/usr/bin/env bash
# Agent overhead, side by side for the same minutes: hawk-agent sending to a
# hawk-server, and Debian's prometheus-node-exporter scraped at the same
# interval (as a Prometheus would), half an interval away from the agent's
# collections. Prints CPU seconds, samples collected, CPU per sample and RSS
# of each, and their ratio.
#
#   scripts/overhead.sh            # INTERVAL=5s DURATION=120s by default
#   AGENT=/tmp/old/hawk-agent scripts/overhead.sh   # another build's agent
# Run from the repository root after `make build`.
set -euo pipefail
source "$(dirname "$0")/e2e/lib.sh"
interval=${INTERVAL:-5s}
duration=${DURATION:-120}
ivl=${interval%s}
ne=$(command -v prometheus-node-exporter || true)

dir=$(mktemp -d)
agent_pid= ne_pid=
trap 'stop_pid ${agent_pid:-0}; stop_pid ${ne_pid:-0}; stop_pid ${SERVER_PID:-0}; rm -rf "$dir"' EXIT
start_server "$dir"
"${AGENT:-bin/hawk-agent}" -server "$AGENT_ADDR" -interval "$interval" -spool "$dir/spool" -hostname overhead-host >"$dir/agent.log" 2>&1 &
agent_pid=$!
if [ -n "$ne" ]; then
	port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
	"$ne" --web.listen-address="127.0.0.1:$port" >"$dir/ne.log" 2>&1 &
	ne_pid=$!
fi

# CPU seconds of every thread of PID, from the nanoseconds each has run
# (/proc/PID/task/*/schedstat, field 1). utime and stime in /proc/PID/stat
# are sampled at the 100 Hz tick: too coarse for an agent that uses a few
# hundredths of a second in two minutes.
cpu() { cat /proc/"$1"/task/*/schedstat | awk '{ ns += $1 } END { printf "%.4f", ns / 1e9 }'; }
rss() { awk '/^VmRSS/ { printf "%.1f", $2 / 1024 }' "/proc/$1/status"; }
hwm() { awk '/^VmHWM/ { printf "%.1f", $2 / 1024 }' "/proc/$1/status"; }

sleep 3 # both started; their start-up is not what is measured
# The agent collects at its own offset within each interval (it logs it).
# node_exporter is scraped half an interval away from that, so that neither
# collection runs while the other does: both read the same kernel files, and
# overlapping reads slowed both by an amount that changed from run to run.
offset_ms=$(sed -n 's/.*msg=collecting .*offset_ms=\([0-9]*\).*/\1/p' "$dir/agent.log" | head -1)
[ -n "$offset_ms" ] || { echo "agent did not log its schedule" >&2; exit 1; }
a0=$(cpu "$agent_pid")
stored0=$(metric 'hawk_server_samples_total{outcome="stored"}')
[ -n "$ne_pid" ] && n0=$(cpu "$ne_pid")
start=$(date +%s)
ne_samples=0 scrapes=0
if [ -n "$ne_pid" ]; then
	# Scrapes by a Python loop, whose CPU is nobody's measured figure.
	read -r scrapes ne_samples < <(python3 - "$port" "$ivl" "$offset_ms" "$duration" <<'PY'
import sys, time, urllib.request
port, ivl, off, dur = sys.argv[1], float(sys.argv[2]), int(sys.argv[3]) / 1000, float(sys.argv[4])
phase = (off + ivl / 2) % ivl
end = time.time() + dur
scrapes = samples = 0
while True:
    now = time.time()
    t = now - now % ivl + phase
    if t <= now:
        t += ivl
    if t >= end:
        break
    time.sleep(t - now)
    body = urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=10).read().decode()
    samples += sum(1 for l in body.splitlines() if l and not l.startswith("#"))
    scrapes += 1
time.sleep(max(0, end - time.time()))
print(scrapes, samples)
PY
)
else
	sleep "$duration"
fi
a1=$(cpu "$agent_pid")
[ -n "$ne_pid" ] && n1=$(cpu "$ne_pid")
elapsed=$(($(date +%s) - start))
# Samples the agent delivered in the window, counted by the server.
stored1=$(metric 'hawk_server_samples_total{outcome="stored"}')
agent_samples=$(awk -v a="$stored0" -v b="$stored1" 'BEGIN { printf "%d", b - a }')

printf '\n%-22s %8s %10s %14s %9s %9s\n' "" "CPU s" "samples" "CPU µs/sample" "RSS MiB" "peak MiB"
ap=$(awk -v c="$(echo "$a1 - $a0" | bc)" -v s="$agent_samples" 'BEGIN { printf "%.2f", c * 1e6 / s }')
printf '%-22s %8.3f %10d %14s %9s %9s\n' "hawk-agent" "$(echo "$a1 - $a0" | bc)" "$agent_samples" "$ap" "$(rss "$agent_pid")" "$(hwm "$agent_pid")"
if [ -n "$ne_pid" ]; then
	np=$(awk -v c="$(echo "$n1 - $n0" | bc)" -v s="$ne_samples" 'BEGIN { printf "%.2f", c * 1e6 / s }')
	printf '%-22s %8.3f %10d %14s %9s %9s\n' "node_exporter" "$(echo "$n1 - $n0" | bc)" "$ne_samples" "$np" "$(rss "$ne_pid")" "$(hwm "$ne_pid")"
	awk -v a="$ap" -v n="$np" 'BEGIN { printf "\nhawk-agent CPU per sample = %.2f × node_exporter'"'"'s (target ≤ 0.25)\n", a / n }'
else
	echo "(prometheus-node-exporter not installed: no side-by-side figures)"
fi
echo "interval $interval, ${elapsed}s measured"
