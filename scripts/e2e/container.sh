#!/usr/bin/env bash
# Builds the container image if a container builder is here, and says so
# when it is not. The build needs the base images (golang, busybox,
# distroless), so a machine without a registry mirror skips too.
set -euo pipefail
cd "$(dirname "$0")/../.."
builder=
for b in docker podman; do
	if command -v "$b" >/dev/null && timeout 10 "$b" info >/dev/null 2>&1; then
		builder=$b
		break
	fi
done
if [ -z "$builder" ]; then
	echo "container: SKIPPED (no docker or podman daemon here)"
	exit 0
fi
tag=hawk-e2e:$$
trap '$builder rmi -f "$tag" >/dev/null 2>&1 || true' EXIT
timeout 600 "$builder" build -q -t "$tag" . >/dev/null
user=$($builder image inspect -f '{{.Config.User}}' "$tag")
[ "$user" = 65532:65532 ] || { echo "container: FAIL: image runs as '$user'" >&2; exit 1; }
$builder image inspect -f '{{json .Config.Healthcheck}}' "$tag" | grep -q /metrics ||
	{ echo "container: FAIL: no /metrics health check" >&2; exit 1; }
echo "container: ok ($builder, non-root, /metrics health check)"
