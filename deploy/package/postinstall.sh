#!/bin/sh
# hawk packages (@NAME@): enable the unit on a first install, restart it on
# an upgrade. An upgraded agent resends whatever the server had not
# acknowledged (its spool survives); an upgraded server drains first.
# deb calls this with "configure" and the old version on upgrades; rpm
# with the number of installed versions (1 install, 2 upgrade).
set -e
unit=@NAME@.service
upgrade=
case "$1" in
configure) [ -n "${2:-}" ] && upgrade=1 ;;
[0-9]*) [ "$1" -gt 1 ] && upgrade=1 ;;
*) exit 0 ;;
esac
install -d -o hawk -g hawk -m 0750 @STATE@
if [ -d /run/systemd/system ]; then
	systemctl daemon-reload >/dev/null || true
	if [ -n "$upgrade" ]; then
		systemctl try-restart "$unit" >/dev/null || true
	else
		systemctl enable "$unit" >/dev/null || true
		echo "@NAME@: edit @CONF@, then: systemctl start $unit"
	fi
fi
exit 0
