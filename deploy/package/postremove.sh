#!/bin/sh
# hawk packages (@NAME@): a purge deletes the data directory; a removal
# keeps it. The hawk user stays (another hawk package may use it, and
# files it owned may remain elsewhere).
set -e
case "$1" in
purge)
	rm -rf @STATE@
	;;
esac
if [ -d /run/systemd/system ]; then
	systemctl daemon-reload >/dev/null 2>&1 || true
fi
exit 0
