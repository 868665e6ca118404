#!/bin/sh
# hawk packages (@NAME@): stop and disable the unit when the package is
# removed, not when it is upgraded (deb "upgrade", rpm 1).
set -e
case "$1" in
remove | 0)
	if [ -d /run/systemd/system ]; then
		systemctl stop @NAME@.service >/dev/null 2>&1 || true
		systemctl disable @NAME@.service >/dev/null 2>&1 || true
	fi
	;;
esac
exit 0
