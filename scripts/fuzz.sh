#!/usr/bin/env bash
# Runs every fuzz target of the module for FUZZTIME (default 30s) each.
set -euo pipefail
fuzztime=${FUZZTIME:-30s}
for pkg in $(go list ./...); do
	for target in $(go test -list '^Fuzz' "$pkg" | grep '^Fuzz' || true); do
		echo "fuzz $pkg $target ($fuzztime)"
		go test -run '^$' -fuzz "^${target}\$" -fuzztime "$fuzztime" "$pkg" | tail -n 2
	done
done
