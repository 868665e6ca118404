#!/usr/bin/env bash
# hawk builds for every system it supports, go vet passes for each, and the
# linux/arm64 agent passes its tests and collects for real under
# qemu-user-static (scripts/deps.sh installs it).
set -euo pipefail
cd "$(dirname "$0")/../.."
export CGO_ENABLED=0
source scripts/e2e/lib.sh
out=$(mktemp -d)
pid= agent=
trap 'stop_pid ${agent:-0}; stop_pid ${pid:-0}; rm -rf "$out"' EXIT

# The agent for every target; the server (which embeds the agent for
# -demo, and is most of the compile time) once per system, the packages'
# arm64 included.
for t in linux/arm64 linux/386 linux/arm darwin/amd64 darwin/arm64 freebsd/amd64 windows/amd64; do
	echo "cross: build $t"
	cmds=./cmd/hawk-agent
	case $t in linux/arm64 | darwin/amd64 | freebsd/amd64 | windows/amd64) cmds="./cmd/hawk-agent ./cmd/hawk-server" ;; esac
	# shellcheck disable=SC2086 # two words
	GOOS=${t%/*} GOARCH=${t#*/} go build -o "$out/$t/" $cmds
done
# linux/amd64 is make build. go vet type-checks every package (tests
# too) for each system; ./... on linux is make vet. On windows the
# tests of server and store drive Unix processes and signals and do not
# build; their code is built above.
for os in darwin freebsd; do
	echo "cross: vet $os"
	GOOS=$os go vet ./...
done
# 32 bits: int is 32 bits wide (constants such as 1 << 40 do not fit).
echo "cross: vet linux/386"
GOARCH=386 go vet ./...
echo "cross: vet windows"
GOOS=windows go vet $(GOOS=windows go list ./... | grep -v -e '/internal/server$' -e '/internal/store$')

if ! command -v qemu-aarch64-static >/dev/null && ! [ -e /proc/sys/fs/binfmt_misc/qemu-aarch64 ]; then
	echo "cross: linux/arm64 under qemu SKIPPED (no qemu-user-static)"
	exit 0
fi
qemu=qemu-aarch64-static
echo "cross: linux/arm64 tests under qemu"
# qemu-user makes up /proc/self/stat with zero CPU time and RSS, which
# TestSelfStat rightly rejects.
GOARCH=arm64 go test -short -count=1 -exec "$qemu" -skip '^TestSelfStat$' ./internal/rawio ./internal/collect ./internal/wire ./internal/agent

# A short real collection: the arm64 agent sends to the host's server.
echo "cross: linux/arm64 agent collecting under qemu"
mkdir -p "$out/data" "$out/spool"
start_server "$out/data"
pid=$SERVER_PID
"$qemu" "$out/linux/arm64/hawk-agent" -server "$AGENT_ADDR" -interval 1s -spool "$out/spool" -instance qemu-arm64 >"$out/agent.log" 2>&1 &
agent=$!
for _ in $(seq 60); do
	if curl -fsS "http://$HTTP_ADDR/api/v1/query" --data-urlencode 'query=node_memory_MemTotal_bytes{instance="qemu-arm64"}' 2>/dev/null | grep -q '"value"'; then
		echo "cross: linux/arm64 agent ok"
		exit 0
	fi
	sleep 1
done
cat "$out/agent.log" >&2
echo "cross: FAIL: no node_memory_MemTotal_bytes from the arm64 agent within 60 s" >&2
exit 1
