#!/usr/bin/env bash
# Runs every fuzz target of the module for FUZZTIME (default 30s) each.
# A target's last 2 lines are shown; all of its output if it fails.
#
# FUZZMINIMIZE (default 1000x) bounds each minimization, of a new input
# as of a failing one. Go's default is 60 s. In a package that imports
# the TSDB, every run snapshots coverage counters for all of it (about
# 3,000 runs a second), and minimizing one new input took the whole
# 30 s: no input was tried meanwhile.
#
# A target that fails with a bare "context deadline exceeded" and writes
# no failing input is run once more. That is Go's fuzzing coordinator
# (go.dev/issue/75804, fixed in Go 1.27): at the -fuzztime deadline it can
# read its context's error before the workers' context is cancelled, and
# report the end of the run as a failure. Any other failure, and a second
# such one, fails the step.
set -euo pipefail
fuzztime=${FUZZTIME:-30s}
minimize=${FUZZMINIMIZE:-1000x}
log=$(mktemp)
trap 'rm -f "$log"' EXIT

# fuzz runs one target and leaves its output in $log.
fuzz() {
	go test -run '^$' -fuzz "^${2}\$" -fuzztime "$fuzztime" -fuzzminimizetime "$minimize" "$1" >"$log" 2>&1
}

# coordinator_deadline reports whether $log is the coordinator's deadline
# report alone: no failing input written, no panic or test failure.
coordinator_deadline() {
	grep -q '^    context deadline exceeded$' "$log" &&
		! grep -q -e 'Failing input written' -e '^panic' -e '_test\.go:[0-9]*:' "$log"
}

for pkg in $(go list ./...); do
	for target in $(go test -list '^Fuzz' "$pkg" | grep '^Fuzz' || true); do
		echo "fuzz $pkg $target ($fuzztime)"
		rc=0
		fuzz "$pkg" "$target" || rc=$?
		if [[ $rc != 0 ]] && coordinator_deadline; then
			tail -n 3 "$log"
			echo "fuzz $pkg $target: the coordinator's deadline report and no failing input (go.dev/issue/75804): once more"
			rc=0
			fuzz "$pkg" "$target" || rc=$?
		fi
		if [[ $rc != 0 ]]; then
			tail -n 80 "$log"
			exit 1
		fi
		tail -n 2 "$log"
	done
done
