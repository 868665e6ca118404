#!/usr/bin/env bash
# CPU per sample of the agent's inputs against the programs they replace,
# side by side in one run (docs/performance.md, "Agent inputs"):
#   - scraping prometheus-node-exporter every 1 s: hawk-agent -scrape vs
#     Debian's prometheus scraping the same target at the same interval;
#   - process groups every 1 s: hawk-agent -process-config vs
#     prometheus-process-exporter on the same config, scraped every 1 s by
#     the same prometheus (its own share is not counted: the exporter's
#     CPU alone is compared).
# The agent under test runs with every node collector off, so its CPU is
# the inputs' (plus its spool and send path). A fourth agent has the
# configuration of issue #18's memory goal: 3 scrape targets
# (node_exporter, process-exporter, hawk-server), 2 commands and the 5
# process groups, every 1 s; its RSS is reported.
# With BEFORE=path/to/hawk-agent, that binary runs the same four
# configurations alongside, for a side-by-side comparison.
# Usage: scripts/inputs-bench.sh [SECONDS]
set -euo pipefail
cd "$(dirname "$0")/.."
secs=${1:-60}
make -s build
. scripts/e2e/lib.sh
dir=$(mktemp -d)
pids=()
cleanup() { for p in "${pids[@]}"; do stop_pid "$p"; done; [ -n "${SERVER_PID:-}" ] && stop_pid "$SERVER_PID"; rm -rf "$dir"; }
trap cleanup EXIT
port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
cpu() { awk '{print ($14+$15)/100}' "/proc/$1/stat"; } # utime+stime, seconds
start_server "$dir"
np=$(port); pp=$(port); prp=$(port)
prometheus-node-exporter --web.listen-address="127.0.0.1:$np" >"$dir/node.log" 2>&1 & pids+=($!)
cat >"$dir/process.yml" <<'YML'
process_names:
  - name: "{{.Comm}}"
    comm: [bash, sleep, sshd, systemd, cron]
YML
for s in 501 502 503; do sleep "$s" & pids+=($!); done
prometheus-process-exporter -config.path "$dir/process.yml" -web.listen-address "127.0.0.1:$pp" >"$dir/pe.log" 2>&1 & pe=$!; pids+=($pe)
cat >"$dir/prom.yml" <<YML
global: {scrape_interval: 1s, scrape_timeout: 1s}
scrape_configs:
  - {job_name: node, static_configs: [{targets: ["127.0.0.1:$np"]}]}
  - {job_name: pe, static_configs: [{targets: ["127.0.0.1:$pp"]}]}
YML
prometheus --config.file "$dir/prom.yml" --storage.tsdb.path "$dir/prom" --web.listen-address "127.0.0.1:$prp" >"$dir/prom.log" 2>&1 & prom=$!; pids+=($prom)
{ echo "server: [$AGENT_ADDR]"; echo "interval: 1s"; echo "spool: $dir/spool"; echo "collector:"
  bin/hawk-agent -help 2>&1 | sed -n 's/^  -collector\.\([a-z_]*\)$/  \1: false/p'; } >"$dir/base.yml"
cp "$dir/base.yml" "$dir/scrape.yml"; printf 'scrape:\n  - {url: "http://127.0.0.1:%s/metrics", job: node, interval: 1s}\n' "$np" >>"$dir/scrape.yml"
cp "$dir/base.yml" "$dir/proc.yml"; printf "process-config: %s\nprocess-interval: 1s\n" "$dir/process.yml" >>"$dir/proc.yml"
cp "$dir/base.yml" "$dir/full.yml"
printf 'echo "disk_ok{dev=\\"sda\\"} 1"\n' >"$dir/disk.sh"
printf 'echo "# TYPE backup_age_seconds gauge"; echo "backup_age_seconds 3600"\n' >"$dir/backup.sh"
{ echo "scrape:"
  for p in "$np" "$pp" "${HTTP_ADDR##*:}"; do printf '  - {url: "http://127.0.0.1:%s/metrics", job: j%s, interval: 1s}\n' "$p" "$p"; done
  echo "exec:"
  printf '  - {command: "sh %s/disk.sh", name: disk, interval: 1s}\n' "$dir"
  printf '  - {command: "sh %s/backup.sh", name: backup, interval: 1s}\n' "$dir"
  printf "process-config: %s\nprocess-interval: 1s\n" "$dir/process.yml"; } >>"$dir/full.yml"
agents() { # BIN TAG: the four agents
	"$1" -config "$dir/base.yml" -spool "$dir/s0$2" >"$dir/a0$2.log" 2>&1 & pids+=($!); echo -n "$! "
	"$1" -config "$dir/scrape.yml" -spool "$dir/s1$2" >"$dir/a1$2.log" 2>&1 & pids+=($!); echo -n "$! "
	"$1" -config "$dir/proc.yml" -spool "$dir/s2$2" >"$dir/a2$2.log" 2>&1 & pids+=($!); echo -n "$! "
	"$1" -config "$dir/full.yml" -spool "$dir/s3$2" >"$dir/a3$2.log" 2>&1 & pids+=($!); echo "$!"
}
read -r a0 a1 a2 a3 < <(agents bin/hawk-agent "")
pids+=($a0 $a1 $a2 $a3)
if [ -n "${BEFORE:-}" ]; then read -r b0 b1 b2 b3 < <(agents "$BEFORE" b); pids+=($b0 $b1 $b2 $b3); fi
sleep 10 # warm-up: every program has scraped a few times
samples=$(curl -s "http://127.0.0.1:$np/metrics" | grep -vc '^#')
groups_samples=$(curl -s "http://127.0.0.1:$pp/metrics" | grep -c '^namedprocess_namegroup_')
declare -A c0
for p in $a0 $a1 $a2 $a3 $prom $pe ${b0:-} ${b1:-} ${b2:-} ${b3:-}; do c0[$p]=$(cpu "$p"); done
# The RSS of the fourth agent(s) every second: one reading at the end
# depends on where each GC cycle stands.
( while :; do for p in $a3 ${b3:-}; do awk -v p="$p" '/VmRSS/ {print p, $2}' "/proc/$p/status"; done; sleep 1; done ) >"$dir/rss.log" 2>/dev/null &
sampler=$!; pids+=($sampler)
sleep "$secs"
kill "$sampler"
rssmean() { awk -v p="$1" '$1 == p { s += $2; n++; if ($2 > m) m = $2 } END { printf "mean %.1f MiB, max %.1f MiB over %d readings", s / n / 1024, m / 1024, n }' "$dir/rss.log"; }
d() { echo "$(cpu "$1") - ${c0[$1]}" | bc -l; }
base=$(d $a0); scr=$(d $a1); prc=$(d $a2); pr=$(d $prom); pex=$(d $pe)
per() { echo "scale=3; ($1) * 1000000 / (($2) * $secs)" | bc -l; } # µs per sample
echo "run ${secs}s, interval 1s; node_exporter exposes $samples samples, process-exporter $groups_samples group samples"
echo "agent, no inputs (baseline):            cpu ${base}s"
echo "agent, scrape node_exporter:            cpu ${scr}s  -> $(per "$scr - $base" "$samples") µs/sample over baseline"
echo "prometheus, scrape node_exporter + pe:  cpu ${pr}s  -> at most $(per "$pr" "$samples + $groups_samples") µs/sample (both jobs)"
echo "agent, process groups:                  cpu ${prc}s  -> $(per "$prc - $base" "$groups_samples") µs/sample over baseline"
echo "process-exporter:                       cpu ${pex}s  -> $(per "$pex" "$groups_samples") µs/sample"
rss() { awk '/VmRSS/ {printf "%.1f MiB", $2/1024}' "/proc/$1/status"; }
echo "RSS: no inputs $(rss $a0), scrape $(rss $a1), process groups $(rss $a2), 3 scrape + 2 exec + 5 groups $(rss $a3) (cpu $(d $a3)s)"
echo "RSS of 3 scrape + 2 exec + 5 groups, every second: $(rssmean "$a3")"
if [ -n "${BEFORE:-}" ]; then
	echo "BEFORE, the same: $(rssmean "$b3")"
	bscr=$(d $b1); bbase=$(d $b0)
	echo "BEFORE ($BEFORE): no inputs cpu ${bbase}s, scrape cpu ${bscr}s -> $(per "$bscr - $bbase" "$samples") µs/sample over its baseline"
	echo "BEFORE RSS: no inputs $(rss $b0), scrape $(rss $b1), process groups $(rss $b2), 3 scrape + 2 exec + 5 groups $(rss $b3) (cpu $(d $b3)s)"
fi
grep -h 'level=WARN\|level=ERROR' "$dir"/a*.log | sort | uniq -c | sort -rn | head -5 || true
