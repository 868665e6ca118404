#!/bin/sh
# hawk packages: before unpacking, make the system user the files belong to.
set -e
if ! getent group hawk >/dev/null 2>&1; then
	groupadd --system hawk
fi
if ! getent passwd hawk >/dev/null 2>&1; then
	useradd --system --gid hawk --home-dir /nonexistent --no-create-home \
		--shell /usr/sbin/nologin --comment "hawk monitoring" hawk
fi
exit 0
