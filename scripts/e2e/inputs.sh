#!/usr/bin/env bash
# Agent inputs against real components: Debian's prometheus-node-exporter
# scraped by the agent; an exporter answering 500, one never answering, one
# with 100,000 series; a hung command and one printing garbage. Everything
# arrives at a real hawk-server through the spool; the script checks it
# with the query API. About 20 s.
set -euo pipefail
cd "$(dirname "$0")/../.."
. scripts/e2e/lib.sh
dir=$(mktemp -d)
pids=()
cleanup() {
	for p in "${pids[@]}"; do stop_pid "$p"; done
	[ -n "${SERVER_PID:-}" ] && stop_pid "$SERVER_PID"
	rm -rf "$dir"
}
trap cleanup EXIT
port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

start_server "$dir"
node_port=$(port)
prometheus-node-exporter --web.listen-address="127.0.0.1:$node_port" >"$dir/node.log" 2>&1 &
pids+=($!)
# 500, never answering (listens, never accepts), 100,000 series.
python3 - "$dir" >"$dir/fake.log" 2>&1 <<'PY' &
import http.server, socket, sys, threading
d = sys.argv[1]
big = "".join('big_series{i="%d"} 1\n' % i for i in range(100000)).encode()
class H(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        if self.server.kind == "500":
            self.send_error(500, "boom"); return
        self.send_response(200); self.send_header("Content-Type", "text/plain; version=0.0.4")
        self.end_headers(); self.wfile.write(big)
    def log_message(self, *a): pass
ports = []
for kind in ("500", "big"):
    s = http.server.ThreadingHTTPServer(("127.0.0.1", 0), H); s.kind = kind
    threading.Thread(target=s.serve_forever, daemon=True).start(); ports.append(s.server_address[1])
hang = socket.socket(); hang.bind(("127.0.0.1", 0)); hang.listen(16); ports.append(hang.getsockname()[1])
open(d + "/ports", "w").write(" ".join(map(str, ports)) + "\n")
threading.Event().wait()
PY
pids+=($!)
for i in $(seq 1 100); do [ -s "$dir/ports" ] && break; sleep 0.1; done
read -r p500 pbig phang <"$dir/ports"

# process-exporter side by side: the same config, three sleepers, and the
# agent scrapes process-exporter too, so both arrive in the same server.
cat >"$dir/process.yml" <<'YML'
process_names:
  - name: "sleepers-{{.Matches.secs}}"
    comm: [sleep]
    cmdline: ['^sleep (?P<secs>4[0-9][0-9])$']
  - name: family
    cmdline: ['hawk-parent$']
YML
for s in 401 401 402; do sleep "$s" & pids+=($!); done
# A parent with two children no entry takes: with -children (both sides'
# default) the group "family" has 3 processes.
bash -c 'sleep 503 & echo $! >"$0.1"; sleep 504 & echo $! >"$0.2"; wait' "$dir/hawk-parent" &
pids+=($!)
for i in $(seq 1 100); do [ -s "$dir/hawk-parent.2" ] && break; sleep 0.1; done
pids+=("$(cat "$dir/hawk-parent.1")" "$(cat "$dir/hawk-parent.2")")
pe_port=$(port)
prometheus-process-exporter -config.path "$dir/process.yml" -web.listen-address "127.0.0.1:$pe_port" >"$dir/pe.log" 2>&1 &
pids+=($!)

cat >"$dir/agent.yml" <<YML
server: [$AGENT_ADDR]
interval: 1s
spool: $dir/spool
scrape:
  - {url: "http://127.0.0.1:$node_port/metrics", job: node_exporter, interval: 2s, timeout: 1s}
  - {url: "http://127.0.0.1:$p500/metrics", job: e500, interval: 2s, timeout: 1s}
  - {url: "http://127.0.0.1:$pbig/metrics", job: big, interval: 2s, timeout: 2s}
  - {url: "http://127.0.0.1:$phang/metrics", job: hang, interval: 2s, timeout: 1s}
  - {url: "http://127.0.0.1:$pe_port/metrics", job: process-exporter, interval: 2s, timeout: 1s}
process-config: $dir/process.yml
exec:
  - {command: "sleep 300", name: hung, interval: 2s, timeout: 1s}
  - {command: "echo 'this is { garbage'", name: garbage, interval: 2s}
  - {command: "printf 'ok_metric 42\\\\n'", name: ok, interval: 2s}
YML
bin/hawk-agent -check-config "$dir/agent.yml"
bin/hawk-agent -config "$dir/agent.yml" -instance e2e-host >"$dir/agent.log" 2>&1 &
agent=$!
pids+=($agent)

q() { curl -sf "http://$HTTP_ADDR/api/v1/query" --data-urlencode "query=$1" | python3 -c 'import json,sys; r=json.load(sys.stdin)["data"]["result"]; print(r[0]["value"][1] if r else "none")'; }
want() { # want QUERY VALUE: waits up to 20 s for the query to return VALUE
	local got i
	for i in $(seq 1 100); do
		got=$(q "$1")
		[ "$got" = "$2" ] && { echo "ok   $1 = $2"; return 0; }
		sleep 0.2
	done
	echo "FAIL $1 = $got, want $2" >&2
	tail -n 30 "$dir/agent.log" >&2
	exit 1
}
want 'up{job="node_exporter",instance="e2e-host:'"$node_port"'"}' 1
want 'count(node_cpu_seconds_total{job="node_exporter"}) > bool 0' 1
want 'scrape_samples_scraped{job="node_exporter"} > bool 100' 1
want 'up{job="e500"}' 0
want 'up{job="hang"}' 0
want 'up{job="big"}' 0
want 'count(big_series) or vector(0)' 0
want 'hawk_input_failures_total{kind="scrape",input="http://127.0.0.1:'"$pbig"'/metrics",reason="series-limit"} > bool 0' 1
want 'hawk_exec_up{command="hung"}' 0
want 'hawk_exec_exit_code{command="hung"}' -1
want 'hawk_exec_up{command="garbage"}' 0
want 'hawk_exec_up{command="ok"}' 1
want 'ok_metric{job="node",instance="e2e-host"}' 42
# Same names and labels, same values for the stable series.
for m in num_procs num_threads open_filedesc worst_fd_ratio oldest_start_time_seconds 'memory_bytes{memtype="resident"' 'memory_bytes{memtype="virtual"' 'states{state="Sleeping"'; do
	sel="namedprocess_namegroup_${m}"
	case $sel in *'{'*) sel="$sel,groupname=\"sleepers-401\"}" ;; *) sel="$sel{groupname=\"sleepers-401\"}" ;; esac
	agent_sel=${sel/\{/\{job=\"node\",}
	pe_sel=${sel/\{/\{job=\"process-exporter\",}
	want "abs(sum($agent_sel) / sum($pe_sel) - 1) <= bool 0.01" 1
done
want 'namedprocess_namegroup_num_procs{job="node",groupname="family"}' 3
want 'namedprocess_namegroup_num_procs{job="process-exporter",groupname="family"}' 3
rss=$(awk '/VmRSS/ {print $2}' /proc/$agent/status)
echo "agent RSS ${rss} KiB with 4 scrape targets (one of 100,000 series) and 3 commands"
kill -HUP "$agent"
for i in $(seq 1 100); do grep -q 'configuration reloaded' "$dir/agent.log" && break; sleep 0.1; done
grep -q 'configuration reloaded' "$dir/agent.log"
kill -0 "$agent"
echo "ok   SIGHUP reloaded, agent still running"
