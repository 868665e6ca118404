#!/usr/bin/env bash
# The built-in UI in headless Chromium (chromedp), against a live hawk-server
# fed by a real agent (-demo), and against the UI's fake backend. Screenshots
# of the fleet and host pages go to $HAWK_E2E_SHOTS (default a new folder,
# printed at the end).
set -euo pipefail
source "$(dirname "$0")/lib.sh"
dir=$(mktemp -d)
shots=${HAWK_E2E_SHOTS:-$(mktemp -d /tmp/hawk-ui-shots.XXXXXX)}
trap 'stop_pid ${SERVER_PID:-0}; rm -rf "$dir"' EXIT
start_server "$dir" -demo -demo-interval 2s
# Wait (bounded) until the agent's data gives every chart points: a few
# collections, so that rates have two samples.
for _ in $(seq 1 60); do
	n=$(curl -sf "http://$HTTP_ADDR/api/v1/query" --data-urlencode 'query=count_over_time(node_load1[1m])' |
		sed -n 's/.*"value":\[[0-9.]*,"\([0-9]*\)"\].*/\1/p')
	[ "${n:-0}" -ge 5 ] && break
	sleep 1
done
HAWK_E2E_URL="http://$HTTP_ADDR" HAWK_E2E_SHOTS="$shots" \
	go test -tags e2e -count=1 -v -run 'TestE2E' ./internal/web/ 2>&1 | grep -E '^(=== RUN|---|ok|FAIL|panic)|_test.go:[0-9]+:'
echo "UI screenshots: $shots"
