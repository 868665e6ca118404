#!/usr/bin/env bash
# bench-attack.sh: a well-behaved agent's ack latency alone and under each
# issue-17 attack at full strength, and the server's RSS (docs/security.md,
# section 9). Starts bin/hawk-server on loopback with a temporary data
# directory and an API bearer token, runs hawk-bench attack against it and
# stops the server by PID. Not part of make check: a measurement, about
# 22 s per attack and round (all ten attacks, 3 rounds: about 11 minutes;
# two attacks took 2 min 12 s). Run make build first.
#
# Usage: scripts/bench-attack.sh [hawk-bench attack flags...]
# Env:   ATTACKS=all QUIET=10s UNDER=10s ROUNDS=3 MAX_SERIES=200000 KEEP=1
#        (QUIET and UNDER are per round; ROUNDS quiet/attack rounds per attack)
#        SERVER_BIN=path/to/hawk-server (default bin/hawk-server: e.g. a
#        baseline built from another checkout, to compare side by side)
#        SERVER_FLAGS="-flag value ..." (more hawk-server flags)
#        CONTROL=1: a second server, started alike, takes the attacks while
#        the good agent sends to the first, which nothing else loads: what
#        the good agent's p99 still rises by is the machine's busy cores,
#        not the attacked server's (RSS and CPU are the attacked server's)
#        ATTACKER_IDLE=1: the attack processes at SCHED_IDLE
#        (-attacker-idle): the attacker gets only the CPU the server and the
#        good agent leave, as a remote attacker's CPU is not the server's
set -euo pipefail

ATTACKS=${ATTACKS:-all}
QUIET=${QUIET:-10s}
UNDER=${UNDER:-10s}
ROUNDS=${ROUNDS:-3}
MAX_SERIES=${MAX_SERIES:-200000}

root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
# shellcheck source=scripts/e2e/lib.sh
. scripts/e2e/lib.sh
work=$(mktemp -d /tmp/bench-attack.XXXXXX)
SERVER_PID=
GOOD_PID=
cleanup() {
	stop_pid "$SERVER_PID"
	stop_pid "$GOOD_PID"
	if [[ -z ${KEEP:-} ]]; then rm -rf "$work"; else echo "kept $work" >&2; fi
}
trap cleanup EXIT

SERVER_BIN=${SERVER_BIN:-bin/hawk-server}
export SERVER_BIN
for b in "$SERVER_BIN" bin/hawk-bench; do
	[[ -x $b ]] || { echo "$b missing: run make build" >&2; exit 2; }
done
ulimit -n "$(ulimit -Hn)"
head -c 24 /dev/urandom | od -An -tx1 | tr -d ' \n' >"$work/token"
extra=()
help=$("$SERVER_BIN" -help 2>&1 || true)
if [[ $ATTACKS != hijack && $help == *-auth-failure-penalty* ]]; then
	# hijack gets 127.0.0.1 penalised (-max-auth-failures-per-source), and
	# every attack's good agent connects from there too: a short penalty
	# lets the next attack's agent in. The delay, which bounds the attack's
	# rate, stays at its default.
	extra=(-auth-failure-penalty 3s)
fi
# shellcheck disable=SC2086 # SERVER_FLAGS is a list of words
start_server "$work" -http-auth-token-file "$work/token" -max-series "$MAX_SERIES" "${extra[@]}" ${SERVER_FLAGS:-}
echo "server $SERVER_BIN pid $SERVER_PID, agents $AGENT_ADDR, http $HTTP_ADDR; -max-series $MAX_SERIES ${extra[*]} ${SERVER_FLAGS:-}, other limits default" >&2
bflags=()
if [[ -n ${CONTROL:-} ]]; then
	GOOD_PID=$SERVER_PID
	bflags=(-good-addr "$AGENT_ADDR")
	mkdir "$work/attacked"
	# shellcheck disable=SC2086 # SERVER_FLAGS is a list of words
	start_server "$work/attacked" -http-auth-token-file "$work/token" -max-series "$MAX_SERIES" "${extra[@]}" ${SERVER_FLAGS:-}
	echo "control: the attacks go to a second server, pid $SERVER_PID, agents $AGENT_ADDR, http $HTTP_ADDR" >&2
fi
rc=0
if [[ -n ${ATTACKER_IDLE:-} ]]; then bflags+=(-attacker-idle); fi
bin/hawk-bench attack -addr "$AGENT_ADDR" -http "http://$HTTP_ADDR" -http-token-file "$work/token" "${bflags[@]}" \
	-server-pid "$SERVER_PID" -attack "$ATTACKS" -quiet "$QUIET" -under "$UNDER" -rounds "$ROUNDS" "$@" || rc=$?
# The server's CPU time (user and system) over its whole run.
awk -v hz="$(getconf CLK_TCK)" '{ printf "server: cpu %.1f s\n", ($14 + $15) / hz }' "/proc/$SERVER_PID/stat" || true
grep -hoE 'hawk_server_(errors_total|connections_refused_total)\{[^}]*\} [0-9.e+]+' \
	<(curl -sf -H "Authorization: Bearer $(cat "$work/token")" "http://$HTTP_ADDR/metrics") | sed 's/^/server: /' || true
exit "$rc"
