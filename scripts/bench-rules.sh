#!/usr/bin/env bash
# Cost of evaluating the shipped rules (deploy/rules/hawk-host.yml) over
# simulated agents: two hawk-servers in turn, without and with the rules,
# under the same hawk-bench load; prints each one's CPU and, for the one
# with rules, the rule groups' own evaluation time per interval.
# Usage: scripts/bench-rules.sh [agents] [seconds]   (default 1000 120)
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/e2e/lib.sh
agents=${1:-1000}
secs=${2:-120}
tmp=$(mktemp -d)
trap 'stop_pid "${SERVER_PID:-}" 2>/dev/null; rm -rf "$tmp"' EXIT
run() { # name, server flags...
	local name=$1
	shift
	mkdir -p "$tmp/$name"
	start_server "$tmp/$name" -liveness-interval 10s "$@"
	# Warm up: let every agent connect and the TSDB hold 2 minutes of series
	# (the rules' [5m]/[1h] ranges then read what exists).
	bin/hawk-bench load -addr "$AGENT_ADDR" -agents "$agents" -series 300 -interval 15s \
		-duration "${secs}s" -pid "$SERVER_PID" -metrics "http://$HTTP_ADDR/metrics" >"$tmp/$name/bench.txt" 2>&1
	echo "== $name"
	grep -iE 'cpu|samples/s' "$tmp/$name/bench.txt" || cat "$tmp/$name/bench.txt"
	if [ "$name" = rules ]; then
		curl -sf "http://$HTTP_ADDR/metrics" | grep -E '^prometheus_rule_group_(last_duration_seconds|interval_seconds|iterations_total)' || true
		curl -sf "http://$HTTP_ADDR/metrics" | grep -E '^prometheus_rule_evaluation_failures_total' | awk '$2 > 0' || true
	fi
	stop_pid "$SERVER_PID"
}
run baseline
run rules -rule-file deploy/rules/hawk-host.yml
