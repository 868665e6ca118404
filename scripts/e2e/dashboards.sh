#!/usr/bin/env bash
# Node Exporter Full against hawk: hawk-server -demo collects this host every
# 5 s for about two minutes, then coverage.py runs every dashboard expression
# that reads only core metrics (CPU, memory, disk, filesystem, network, load;
# metrics every Linux host has) and fails if any of them returns no data,
# as an instant or as a range query. See docs/dashboards.md.
#
# Run from the repository root after `make build`. Environment:
#   DASHBOARDS_DIR   the node-exporter-full folder (default ../shared/... beside
#                    the repository, then /work/shared/...)
#   DASHBOARDS_WAIT  seconds of collection before the check (default 120)
set -euo pipefail

dash=${DASHBOARDS_DIR:-}
if [ -z "$dash" ]; then
	for d in ../shared/dashboards/node-exporter-full /work/shared/dashboards/node-exporter-full; do
		if [ -f "$d/coverage.py" ]; then
			dash=$d
			break
		fi
	done
fi
if [ -z "$dash" ] || [ ! -f "$dash/coverage.py" ] || [ ! -f "$dash/exprs.json" ]; then
	echo "dashboards: no node-exporter-full folder (coverage.py, exprs.json) found" >&2
	exit 1
fi
wait_s=${DASHBOARDS_WAIT:-120}

tmp=$(mktemp -d)
pid=
cleanup() {
	if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then
		kill -TERM "$pid"
		for _ in $(seq 1 100); do
			kill -0 "$pid" 2>/dev/null || break
			sleep 0.1
		done
		kill -KILL "$pid" 2>/dev/null || true
	fi
	rm -rf "$tmp"
}
trap cleanup EXIT

# The core subset: expressions whose every metric name is one of these.
# The "baseline" marks each as hitting in both modes, so coverage.py itself
# exits 1 on any miss.
python3 - "$dash/exprs.json" "$tmp/core.json" "$tmp/core-baseline.json" <<'EOF'
import json, re, sys
core = re.compile(r"^node_(cpu_seconds_total|load(1|5|15)"
                  r"|memory_(MemTotal|MemFree|MemAvailable|Buffers|Cached)_bytes"
                  r"|disk_(reads_completed|writes_completed|read_bytes|written_bytes|io_time_seconds)_total"
                  r"|filesystem_(size|avail|free)_bytes"
                  r"|network_(receive|transmit)_(bytes|packets)_total)$")
exprs = json.load(open(sys.argv[1]))
sel = []
for e in exprs:
    names = set(re.findall(r"\b(node_[A-Za-z0-9_]+|process_[a-z_]+|go_[a-z_]+|up)\b", e["expr"]))
    if names and all(core.match(n) for n in names):
        sel.append(e)
if len(sel) < 30:
    sys.exit("dashboards: only %d core expressions in %s" % (len(sel), sys.argv[1]))
json.dump(sel, open(sys.argv[2], "w"), indent=1)
json.dump([dict(e, instant=True, range=True, data=True) for e in sel], open(sys.argv[3], "w"), indent=1)
print("dashboards: %d of %d expressions read only core metrics" % (len(sel), len(exprs)))
EOF

start=$(date +%s)
: >"$tmp/server.log" # exists before the background redirection opens it
bin/hawk-server -demo -demo-interval 5s -data "$tmp/data" -listen 127.0.0.1:0 -http 127.0.0.1:0 \
	-log-level info >"$tmp/server.log" 2>&1 &
pid=$!

# The server logs its addresses once it listens; port 0 picks free ones.
http=
for _ in $(seq 1 300); do
	http=$(sed -n 's/.*hawk-server started.* http=\([^ ]*\).*/\1/p' "$tmp/server.log" | tail -n1) || true
	[ -n "$http" ] && break
	kill -0 "$pid" 2>/dev/null || break
	sleep 0.1
done
if [ -z "$http" ]; then
	echo "dashboards: hawk-server did not start:" >&2
	cat "$tmp/server.log" >&2
	exit 1
fi

# Ready when the dashboard's variables resolve: node_uname_info is stored.
ready=
for _ in $(seq 1 60); do
	if curl -sf "http://$http/api/v1/label/instance/values?match%5B%5D=node_uname_info" | grep -q '"data":\["'; then
		ready=1
		break
	fi
	kill -0 "$pid" 2>/dev/null || break
	sleep 1
done
if [ -z "$ready" ]; then
	echo "dashboards: no node_uname_info at http://$http after 60 s:" >&2
	tail -n 20 "$tmp/server.log" >&2
	exit 1
fi
echo "dashboards: hawk-server $pid ready at http://$http after $(($(date +%s) - start)) s; collecting until ${wait_s} s"

# rate(...[1m]) needs samples across the 5-minute range window; wait until
# wait_s seconds after start, checking that the server stays up.
while [ $(($(date +%s) - start)) -lt "$wait_s" ]; do
	kill -0 "$pid" 2>/dev/null || {
		echo "dashboards: hawk-server exited:" >&2
		tail -n 20 "$tmp/server.log" >&2
		exit 1
	}
	sleep 5
done

python3 "$dash/coverage.py" "http://$http" --exprs "$tmp/core.json" --baseline "$tmp/core-baseline.json" \
	--name "hawk (core)" -v
