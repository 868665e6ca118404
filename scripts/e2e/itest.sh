#!/usr/bin/env bash
# End-to-end tests of the built binaries (internal/itest, build tag e2e):
# promtool reads back exactly what a v2 client sent for two minutes; kill -9
# of the server mid-stream loses nothing acknowledged and stores resends once.
set -euo pipefail
go test -tags e2e -count=1 -race -v ./internal/itest 2>&1 | grep -E '^(=== RUN|---|ok|FAIL|panic)|_test.go:[0-9]+:'
