# Shared helpers for the e2e scripts (sourced, not run). Servers bind port 0
# on loopback; their addresses are read back from their logs.

# start_server DIR [flags...]: starts bin/hawk-server (or $SERVER_BIN) with
# data in DIR/data and sets SERVER_PID, AGENT_ADDR and HTTP_ADDR.
start_server() {
	local dir=$1
	shift
	"${SERVER_BIN:-bin/hawk-server}" -data "$dir/data" -listen 127.0.0.1:0 -http 127.0.0.1:0 "$@" >"$dir/server.log" 2>&1 &
	SERVER_PID=$!
	local i
	for i in $(seq 1 300); do
		if grep -q 'hawk-server started' "$dir/server.log"; then
			AGENT_ADDR=$(sed -n 's/.*hawk-server started.* agents=\([^ ]*\).*/\1/p' "$dir/server.log" | tail -n1)
			HTTP_ADDR=$(sed -n 's/.*hawk-server started.* http=\([^ ]*\).*/\1/p' "$dir/server.log" | tail -n1)
			return 0
		fi
		kill -0 "$SERVER_PID" 2>/dev/null || break
		sleep 0.1
	done
	echo "hawk-server did not start:" >&2
	cat "$dir/server.log" >&2
	return 1
}

# stop_pid PID: SIGTERM, then SIGKILL after 30 s; only for PIDs we started.
# An empty or non-positive PID (a process never started) is a no-op: kill 0
# would signal this script's whole process group, make and CI included.
stop_pid() {
	local pid=${1:-} i
	[[ $pid =~ ^[0-9]+$ ]] && [ "$pid" -gt 0 ] || return 0
	kill -0 "$pid" 2>/dev/null || return 0
	kill -TERM "$pid"
	for i in $(seq 1 300); do
		kill -0 "$pid" 2>/dev/null || return 0
		sleep 0.1
	done
	kill -KILL "$pid" 2>/dev/null || true
}

# metric NAME_AND_LABELS: the value of one self-metric of the server.
metric() {
	curl -sf "http://$HTTP_ADDR/metrics" | awk -v m="$1" '$1 == m { print $2 }'
}
