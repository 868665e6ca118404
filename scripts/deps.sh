#!/usr/bin/env bash
# Installs what hawk's tests need on a fresh Debian machine: promtool (from
# the prometheus package) for the API compatibility test, chromium for the
# UI test, victoria-metrics for the scale-out test. Idempotent; quiet when
# everything is there already.
set -euo pipefail
need=()
command -v promtool >/dev/null || need+=(prometheus)
command -v chromium >/dev/null || need+=(chromium)
command -v victoria-metrics >/dev/null || need+=(victoria-metrics)
# The packaging test (lintian) and the linux/arm64 tests (qemu-user-static).
command -v lintian >/dev/null || need+=(lintian)
command -v qemu-aarch64-static >/dev/null || need+=(qemu-user-static)
command -v prometheus-alertmanager >/dev/null || need+=(prometheus-alertmanager)
command -v prometheus-node-exporter >/dev/null || need+=(prometheus-node-exporter) # agent inputs e2e (scrape)
command -v prometheus-process-exporter >/dev/null || need+=(prometheus-process-exporter) # agent inputs e2e (process groups)
if [ ${#need[@]} -gt 0 ]; then
	echo "installing: ${need[*]}"
	export DEBIAN_FRONTEND=noninteractive
	apt-get -o DPkg::Lock::Timeout=600 update -qq
	# Packages may try to start their own services; a policy-rc.d that
	# refuses keeps them from running behind the tests' back.
	printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d && chmod +x /usr/sbin/policy-rc.d
	apt-get -o DPkg::Lock::Timeout=600 install -y -qq --no-install-recommends "${need[@]}" >/dev/null
	rm -f /usr/sbin/policy-rc.d
fi
