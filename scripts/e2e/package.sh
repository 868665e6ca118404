#!/usr/bin/env bash
# The hawk-agent and hawk-server .debs install, upgrade and purge cleanly,
# and lintian reports no errors. It installs for real, so it runs only as
# root on a machine with dpkg (CI's throwaway machine), and says why when it
# skips. Packages are built for the host's architecture only; `make
# package` builds both.
set -euo pipefail
cd "$(dirname "$0")/../.."
if [ "$(id -u)" != 0 ] || ! command -v dpkg >/dev/null; then
	echo "package: SKIPPED (needs root and dpkg)"
	exit 0
fi
if dpkg -s hawk-agent >/dev/null 2>&1 || dpkg -s hawk-server >/dev/null 2>&1; then
	echo "package: SKIPPED (hawk packages already installed on this machine; not touching them)"
	exit 0
fi
arch=$(go env GOARCH)
dir=$(mktemp -d)
trap 'dpkg --purge hawk-agent hawk-server >/dev/null 2>&1 || true; rm -rf "$dir"' EXIT
fail() { echo "package: FAIL: $*" >&2; exit 1; }

# dpkg refuses to run while another install holds its lock: wait (bounded).
dpkg_do() {
	local i out
	for i in $(seq 120); do
		if out=$(dpkg "$@" 2>&1); then return 0; fi
		grep -q "lock" <<<"$out" || { echo "$out" >&2; return 1; }
		sleep 1
	done
	echo "$out" >&2
	return 1
}

CGO_ENABLED=0 go build -trimpath -ldflags '-s -w' -o "$dir/bin/" ./cmd/hawk-agent ./cmd/hawk-server
go run ./scripts/package -arch "$arch" -bin "$dir/bin" -version 0.1.0+1 -out "$dir/v1" >/dev/null
go run ./scripts/package -arch "$arch" -bin "$dir/bin" -version 0.1.0+2 -out "$dir/v2" >/dev/null
ls "$dir"/v1/*.rpm >/dev/null || fail "no .rpm built"

if command -v lintian >/dev/null; then
	if lintian --tag-display-limit 0 "$dir"/v1/*.deb 2>/dev/null | grep '^E:'; then
		fail "lintian reports errors"
	fi
else
	echo "package: lintian not installed, not run"
fi

dpkg_do -i "$dir"/v1/hawk-agent_*.deb "$dir"/v1/hawk-server_*.deb
for f in /usr/bin/hawk-agent /usr/bin/hawk-server /etc/hawk/hawk-agent.env /etc/hawk/hawk-server.yml \
	/usr/lib/systemd/system/hawk-agent.service /usr/lib/systemd/system/hawk-server.service; do
	[ -e "$f" ] || fail "$f not installed"
done
getent passwd hawk >/dev/null || fail "no hawk user"
for d in /var/lib/hawk-agent /var/lib/hawk; do
	[ "$(stat -c %U:%G "$d")" = hawk:hawk ] || fail "$d owned by $(stat -c %U:%G "$d")"
done
grep -q '^ExecStart=/usr/bin/hawk-agent ' /usr/lib/systemd/system/hawk-agent.service || fail "agent unit does not run /usr/bin/hawk-agent"
grep -q '^User=hawk' /usr/lib/systemd/system/hawk-agent.service || fail "agent unit does not run as hawk"
if [ -d /run/systemd/system ]; then
	systemctl cat hawk-agent.service >/dev/null || fail "systemctl cat hawk-agent.service"
	systemctl is-enabled hawk-agent.service >/dev/null || fail "hawk-agent.service not enabled"
else
	echo "package: no systemd running here: unit checked as a file only"
fi
/usr/bin/hawk-agent -help >/dev/null 2>&1 || [ $? = 2 ] || fail "installed hawk-agent does not run"

# An edited configuration file survives the upgrade.
echo "# edited by the package test" >>/etc/hawk/hawk-agent.env
dpkg_do -i "$dir"/v2/hawk-agent_*.deb "$dir"/v2/hawk-server_*.deb
[ "$(dpkg-query -W -f '${Version}' hawk-agent)" = 0.1.0+2 ] || fail "not upgraded"
grep -q "edited by the package test" /etc/hawk/hawk-agent.env || fail "upgrade replaced the edited /etc/hawk/hawk-agent.env"

dpkg_do --purge hawk-agent hawk-server
for f in /usr/bin/hawk-agent /etc/hawk/hawk-agent.env /etc/hawk/hawk-server.yml /var/lib/hawk-agent /var/lib/hawk \
	/usr/lib/systemd/system/hawk-agent.service; do
	[ ! -e "$f" ] || fail "$f left after purge"
done
dpkg -s hawk-agent >/dev/null 2>&1 && fail "hawk-agent still known to dpkg"
echo "package: ok (install, upgrade keeping an edited conffile, purge; lintian without errors)"
