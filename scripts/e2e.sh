#!/usr/bin/env bash
# End-to-end tests against real processes: each test script starts what it
# needs on loopback and stops it by PID.
set -euo pipefail
cd "$(dirname "$0")/.."
for t in scripts/e2e/*.sh; do
	[ -e "$t" ] || continue
	[ "$(basename "$t")" = lib.sh ] && continue # sourced by the others
	echo "== $t"
	bash "$t"
done
