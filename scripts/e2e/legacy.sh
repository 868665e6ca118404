#!/usr/bin/env bash
# A client that behaves like the original demo agent (a heartbeat every 2 s,
# 300 goroutines each sending a report a second, one connection) runs a
# minute against hawk-server: every frame answered with its exact line,
# none rejected.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
dir=$(mktemp -d)
trap 'stop_pid ${SERVER_PID:-0}; rm -rf "$dir"' EXIT
start_server "$dir"
go test -count=1 -run '^TestLegacyDemoAgent$' ./internal/server -v \
	-legacy.addr "$AGENT_ADDR" -legacy.duration "${LEGACY_DURATION:-60s}" | grep -E '^(---|ok|FAIL|\s+legacy_soak)'
for outcome in bad_check bad_tail stalled; do
	v=$(metric "hawk_server_frames_total{outcome=\"$outcome\"}")
	if [ -n "$v" ] && [ "$v" != 0 ]; then
		echo "server rejected $v frames ($outcome)" >&2
		exit 1
	fi
done
ok=$(metric 'hawk_server_frames_total{outcome="ok"}')
echo "legacy soak: server accepted ${ok:-0} frames, rejected none"
