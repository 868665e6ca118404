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
# A day of one host's history (hawk-bench backfill) for the 24 h figures;
# the out-of-order window must cover it, as the server's own series are
# already at now.
start_server "$dir" -demo -demo-interval 2s -out-of-order-window 25h
bin/hawk-bench backfill -addr "$AGENT_ADDR" -instance backfill-host -span 24h -step 15s
# Wait (bounded) until the agent's data gives every chart points: a few
# collections, so that rates have two samples.
for _ in $(seq 1 60); do
	n=$(curl -sf "http://$HTTP_ADDR/api/v1/query" --data-urlencode 'query=count_over_time(node_load1[1m])' |
		sed -n 's/.*"value":\[[0-9.]*,"\([0-9]*\)"\].*/\1/p')
	[ "${n:-0}" -ge 5 ] && break
	sleep 1
done
HAWK_E2E_URL="http://$HTTP_ADDR" HAWK_E2E_SHOTS="$shots" HAWK_E2E_HOST=backfill-host \
	go test -tags e2e -count=1 -v -run 'TestE2E' ./internal/web/ 2>&1 | grep -E '^(=== RUN|---|ok|FAIL|panic)|_test.go:[0-9]+:'
echo "UI screenshots: $shots"
