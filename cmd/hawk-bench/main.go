// Command hawk-bench simulates many hawk agents against a hawk-server (or
// the same samples as Influx line protocol against another TSDB) and
// reports throughput, latency, losses and the server's CPU and memory.
// The logic is in internal/bench; this file parses flags and handles
// signals.
//
//	hawk-bench load   -addr 127.0.0.1:9876 -agents 1000 -series 300 -interval 10s -duration 60s -pid N
//	hawk-bench conns  -addr 127.0.0.1:9876 -agents 100000 -hold 60s -pid N
//	hawk-bench audit  -addr 127.0.0.1:9876 -api http://127.0.0.1:9877 -agents 1000 -duration 60s
//	hawk-bench influx -addr 127.0.0.1:8089 -agents 100 -duration 30s -pid N
//	hawk-bench attack -addr 127.0.0.1:9876 -http http://127.0.0.1:9877 -attack all -server-pid N
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"hawk/internal/bench"
)

const usage = `usage: hawk-bench <command> [flags]

commands:
  load    agents send host series over v2; ack latency, throughput, server CPU/RSS
  conns   idle agents that only heartbeat; connections held, echo latency, RSS per connection
  audit   deterministic samples through GOAWAY/ERROR/reconnects, then checked via the query API
  influx  the load's series and samples as Influx line protocol over TCP
  backfill  one host's history (e.g. 24 h) sent at once, for UI and query tests
  attack  a good agent's ack latency alone and under each issue-17 attack; server RSS

Run "hawk-bench <command> -h" for its flags.
`

// errFailed is returned when a run completed but its check failed.
var errFailed = errors.New("check failed")

func main() {
	if len(os.Args) < 2 {
		fmt.Fprint(os.Stderr, usage)
		os.Exit(2)
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	err := run(ctx, os.Args[1], os.Args[2:], os.Stdout)
	stop()
	switch {
	case errors.Is(err, flag.ErrHelp):
	case errors.Is(err, errFailed):
		os.Exit(1)
	case err != nil:
		fmt.Fprintln(os.Stderr, "hawk-bench:", err)
		os.Exit(2)
	}
}

func run(ctx context.Context, cmd string, args []string, out io.Writer) error {
	fs := flag.NewFlagSet("hawk-bench "+cmd, flag.ContinueOnError)
	switch cmd {
	case "load":
		return runLoad(ctx, fs, args, out)
	case "conns":
		return runConns(ctx, fs, args, out)
	case "audit":
		return runAudit(ctx, fs, args, out)
	case "influx":
		return runInflux(ctx, fs, args, out)
	case "backfill":
		return runBackfill(ctx, fs, args, out)
	case "attack":
		return runAttack(ctx, fs, args, out)
	case "-h", "-help", "--help", "help":
		fmt.Fprint(out, usage)
		return nil
	}
	return fmt.Errorf("unknown command %q\n%s", cmd, usage)
}

// common are the flags every command has.
type common struct {
	addr     string
	agents   int
	sources  int
	perAddr  int
	connect  int
	pid      int
	duration time.Duration
}

func (c *common) register(fs *flag.FlagSet, addr string) {
	fs.StringVar(&c.addr, "addr", addr, "server address (loopback only)")
	fs.IntVar(&c.agents, "agents", 100, "simulated agents, one connection each")
	fs.IntVar(&c.sources, "sources", -1, "source addresses 127.0.0.2... to spread connections over (-1: agents/per-addr, 0: none)")
	fs.IntVar(&c.perAddr, "per-addr", 10000, "connections per source address when -sources is -1")
	fs.IntVar(&c.connect, "connect", 64, "handshakes in progress at once")
	fs.IntVar(&c.pid, "pid", 0, "server process to measure CPU and RSS of (/proc/PID/stat, status)")
	fs.DurationVar(&c.duration, "duration", 10*time.Second, "how long to send")
}

// setup checks the address and raises the open files limit.
func (c *common) setup() error {
	for _, a := range strings.Split(c.addr, ",") { // audit takes a failover list
		if err := bench.CheckLoopback(a); err != nil {
			return err
		}
	}
	if c.sources < 0 {
		c.sources = bench.SourcesFor(c.agents, c.perAddr)
	}
	if _, err := bench.RaiseFileLimit(uint64(c.agents) + 1024); err != nil {
		// Go on: the connections beyond the limit fail with EMFILE and
		// are counted, which is what a scale run should report.
		fmt.Fprintln(os.Stderr, "hawk-bench: warning:", err)
	}
	return nil
}

func runLoad(ctx context.Context, fs *flag.FlagSet, args []string, out io.Writer) error {
	var c common
	c.register(fs, "127.0.0.1:9876")
	cfg := bench.LoadConfig{}
	fs.IntVar(&cfg.Series, "series", 300, "series per agent")
	fs.DurationVar(&cfg.Interval, "interval", 10*time.Second, "time between an agent's batches; 0 sends as fast as the window allows")
	rate := fs.Float64("rate", 0, "target samples/s over all agents; sets -interval to agents*series/rate")
	fs.IntVar(&cfg.Batches, "batches", 0, "batches per agent at most (0: until -duration)")
	fs.IntVar(&cfg.Window, "window", 0, "unacknowledged batches per agent (0: the server's WELCOME window)")
	fs.DurationVar(&cfg.Drain, "drain", 10*time.Second, "how long to wait for outstanding ACKs")
	fs.StringVar(&cfg.Prefix, "prefix", "bench-", "agent id prefix")
	seed := fs.Uint64("seed", 1, "seeds the series values")
	fs.StringVar(&cfg.Metrics, "metrics", "", "the server's /metrics URL, to read -counter before and after")
	fs.StringVar(&cfg.Counter, "counter", `hawk_server_samples_total{outcome="stored"}`, "series on -metrics counting stored samples")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if err := c.setup(); err != nil {
		return err
	}
	cfg.Addr, cfg.Agents, cfg.Sources, cfg.Connect, cfg.PID, cfg.Duration, cfg.Seed =
		c.addr, c.agents, c.sources, c.connect, c.pid, c.duration, *seed
	if *rate > 0 {
		cfg.Interval = time.Duration(float64(c.agents*cfg.Series) / *rate * float64(time.Second))
	}
	fmt.Fprintf(out, "load: %d agents x %d series, interval %v, duration %v, %d source addresses\n",
		cfg.Agents, cfg.Series, cfg.Interval, cfg.Duration, cfg.Sources)
	res, err := bench.RunLoad(ctx, cfg)
	if err != nil {
		return err
	}
	res.Print(out)
	return nil
}

func runConns(ctx context.Context, fs *flag.FlagSet, args []string, out io.Writer) error {
	var c common
	c.register(fs, "127.0.0.1:9876")
	cfg := bench.ConnsConfig{Progress: os.Stderr}
	fs.DurationVar(&cfg.Ramp, "ramp", 3*time.Minute, "longest time to open every connection")
	fs.DurationVar(&cfg.Hold, "hold", 30*time.Second, "how long to hold the connections once open")
	fs.DurationVar(&cfg.Heartbeat, "heartbeat", 0, "heartbeat interval (0: the server's WELCOME interval)")
	fs.StringVar(&cfg.Prefix, "prefix", "idle-", "agent id prefix")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if err := c.setup(); err != nil {
		return err
	}
	cfg.Addr, cfg.Agents, cfg.Sources, cfg.Connect, cfg.PID = c.addr, c.agents, c.sources, c.connect, c.pid
	fmt.Fprintf(out, "conns: %d idle agents, %d source addresses, ramp at most %v, hold %v\n", cfg.Agents, cfg.Sources, cfg.Ramp, cfg.Hold)
	res, err := bench.RunConns(ctx, cfg)
	if err != nil {
		return err
	}
	res.Print(out)
	return nil
}

func runAudit(ctx context.Context, fs *flag.FlagSet, args []string, out io.Writer) error {
	var c common
	c.register(fs, "127.0.0.1:9876")
	cfg := bench.AuditConfig{Progress: os.Stderr}
	fs.StringVar(&cfg.API, "api", "http://127.0.0.1:9877", "query API base URL (empty: no check)")
	fs.IntVar(&cfg.Series, "series", 300, "series per agent")
	fs.DurationVar(&cfg.Interval, "interval", time.Second, "time between an agent's batches and between their timestamps")
	fs.DurationVar(&cfg.Drain, "drain", time.Minute, "how long to wait for the last ACKs")
	fs.IntVar(&cfg.Window, "window", 0, "unacknowledged batches per connection (0: the server's WELCOME window)")
	fs.DurationVar(&cfg.BackoffMin, "backoff-min", 100*time.Millisecond, "first reconnect delay after a failure")
	fs.DurationVar(&cfg.BackoffMax, "backoff-max", 5*time.Second, "longest reconnect delay")
	fs.StringVar(&cfg.Prefix, "prefix", "", "agent id prefix, new to the server (default audit-<unix time>-)")
	fs.StringVar(&cfg.FlushURL, "flush", "", "URL fetched before the check, e.g. VictoriaMetrics' /internal/force_flush")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if err := c.setup(); err != nil {
		return err
	}
	cfg.Addr, cfg.Agents, cfg.Sources, cfg.Connect, cfg.Duration = c.addr, c.agents, c.sources, c.connect, c.duration
	fmt.Fprintf(out, "audit: %d agents x %d series every %v for %v, check via %q\n", cfg.Agents, cfg.Series, cfg.Interval, cfg.Duration, cfg.API)
	res, err := bench.RunAudit(ctx, cfg)
	if err != nil {
		return err
	}
	res.Print(out)
	if cfg.API != "" && !res.OK() {
		return errFailed
	}
	return nil
}

func runInflux(ctx context.Context, fs *flag.FlagSet, args []string, out io.Writer) error {
	var c common
	c.register(fs, "127.0.0.1:8089")
	cfg := bench.InfluxConfig{}
	fs.IntVar(&cfg.Series, "series", 300, "series per agent")
	fs.IntVar(&cfg.Batches, "batches", 0, "scrapes per agent at most (0: until -duration)")
	fs.StringVar(&cfg.Prefix, "prefix", "bench-", "agent id prefix (the instance label), as for load")
	seed := fs.Uint64("seed", 1, "seeds the series values, as for load")
	fs.StringVar(&cfg.Metrics, "metrics", "", "the server's /metrics URL, polled until -counter has grown by the samples sent")
	fs.StringVar(&cfg.Counter, "counter", `vm_rows_inserted_total{type="influx"}`, "series on -metrics counting ingested samples")
	fs.DurationVar(&cfg.Drain, "drain", time.Minute, "how long to wait for -counter to catch up")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if err := c.setup(); err != nil {
		return err
	}
	cfg.Addr, cfg.Agents, cfg.Sources, cfg.PID, cfg.Duration, cfg.Seed = c.addr, c.agents, c.sources, c.pid, c.duration, *seed
	fmt.Fprintf(out, "influx: %d agents x %d series, batches %d, duration %v\n", cfg.Agents, cfg.Series, cfg.Batches, cfg.Duration)
	res, err := bench.RunInflux(ctx, cfg)
	if err != nil {
		return err
	}
	res.Print(out)
	return nil
}

func runBackfill(ctx context.Context, fs *flag.FlagSet, args []string, out io.Writer) error {
	cfg := bench.BackfillConfig{}
	fs.StringVar(&cfg.Addr, "addr", "127.0.0.1:9876", "server address (loopback only)")
	fs.StringVar(&cfg.Instance, "instance", "backfill-host", "instance label of the host")
	fs.IntVar(&cfg.Series, "series", 300, "series of the host")
	fs.DurationVar(&cfg.Span, "span", 24*time.Hour, "history to send, ending now (the server's -out-of-order-window must cover it)")
	fs.DurationVar(&cfg.Step, "step", 15*time.Second, "time between a series' samples")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if err := bench.CheckLoopback(cfg.Addr); err != nil {
		return err
	}
	start := time.Now()
	n, err := bench.RunBackfill(ctx, cfg)
	fmt.Fprintf(out, "backfill: %d batches of %d series (%v at %v) acknowledged in %v\n", n, cfg.Series, cfg.Span, cfg.Step, time.Since(start).Round(time.Millisecond))
	return err
}

func runAttack(ctx context.Context, fs *flag.FlagSet, args []string, out io.Writer) error {
	cfg := bench.AttackConfig{Progress: os.Stderr}
	fs.StringVar(&cfg.Addr, "addr", "127.0.0.1:9876", "server agent address (loopback only)")
	fs.StringVar(&cfg.GoodAddr, "good-addr", "", "agent address of the good agent's server, when not -addr: a control run, the attacks aimed at another server on the same machine, to tell the machine's share of the latency from the attacked server's (loopback only)")
	fs.StringVar(&cfg.HTTP, "http", "http://127.0.0.1:9877", "server query API base URL (loopback only)")
	tokenFile := fs.String("http-token-file", "", "file holding the API's bearer token (the slow-http attack sends none)")
	names := fs.String("attack", "all", "attacks to run, comma-separated, or all: "+strings.Join(bench.AttackNames, ",")+
		"; and the control "+bench.SpinAttack+" (busy threads, nothing sent; not in all)")
	fs.DurationVar(&cfg.Quiet, "quiet", 10*time.Second, "the good agent alone before each attack, per round")
	fs.DurationVar(&cfg.Under, "under", 10*time.Second, "how long each attack runs, per round")
	fs.DurationVar(&cfg.Settle, "settle", 2*time.Second, "pause after each attack (and between an attack's rounds)")
	fs.IntVar(&cfg.Rounds, "rounds", 3, "quiet and attack phases alternated per attack, 1 to 100; the verdict is on each phase's ACK latencies pooled over the rounds")
	fs.DurationVar(&cfg.Interval, "interval", 50*time.Millisecond, "the good agent's batch interval")
	fs.IntVar(&cfg.Series, "series", 300, "the good agent's series")
	fs.IntVar(&cfg.PID, "server-pid", 0, "server process to read VmRSS and VmHWM of (/proc/PID/status)")
	fs.StringVar(&cfg.Prefix, "prefix", "", "agent id prefix, new to the server (default atk-<unix time>-)")
	sz := &cfg.Sizes
	for _, f := range []struct {
		v    *int
		name string
		help string
	}{
		{&sz.Workers, "workers", "concurrent loops of the HELLO and HTTP attacks (0: 8)"},
		{&sz.Hijacks, "hijacks", "HELLOs with the good agent's id at most (0: 200000)"},
		{&sz.QueryBytes, "query-bytes", "length of the 1+1+... query (0: 8000)"},
		{&sz.QueryDepth, "query-depth", "levels the 1+1+... query nests at most (0: 100, -query.max-depth; a depth over half its length makes it one chain)"},
		{&sz.Queries, "queries", "HTTP requests per attack at most (0: 100000)"},
		{&sz.OpenBatchConns, "open-batch-conns", "connections holding unfinished batches (0: 200)"},
		{&sz.OpenBatchSamples, "open-batch-samples", "samples of the batch whose final part never comes (0: 400000)"},
		{&sz.SlowConns, "slow-conns", "silent HTTP connections (0: 2000)"},
		{&sz.FloodAgents, "flood-agents", "new agent ids defining series (0: 100)"},
		{&sz.FloodSeries, "flood-series", "series each defines (0: 50000)"},
		{&sz.HelloIDs, "hello-ids", "agent ids sending huge HELLOs (0: 2000)"},
		{&sz.LegacyAddrs, "legacy-addrs", "legacy peers, one source address each (0: 12000)"},
		{&sz.ChurnAgents, "churn-agents", "agents changing version string (0: 50)"},
		{&sz.ChurnRounds, "churn-rounds", "reconnects of each (0: 1000)"},
		{&sz.ForgeAgents, "forge-agents", "agents forging the good agent's series (0: 20)"},
		{&sz.ForgeSeries, "forge-series", "forged series per batch (0: 300)"},
		{&sz.SpinThreads, "spin-threads", "threads the spin control keeps busy (0: the machine's CPUs)"},
	} {
		fs.IntVar(f.v, f.name, 0, f.help)
	}
	fs.DurationVar(&sz.ForgeInterval, "forge-interval", 100*time.Millisecond, "forging agents' batch interval")
	ownProcess := fs.Bool("attack-process", true, "run each attack in a process of its own (this program, with the same flags), so that the good agent measured does not share its process with the attackers")
	attackerIdle := fs.Bool("attacker-idle", false, "run each attack's process at Linux's SCHED_IDLE (with chrt --idle 0), so that the attacker gets only the CPU the server and the good agent leave, as a remote attacker's CPU is not the server's (a nice value does not do as much: a waking thread does not always preempt a niced one)")
	workerAttack := fs.String("worker-attack", "", "internal: run this one attack as the worker of another hawk-bench attack")
	workerGood := fs.String("worker-good-id", "", "internal: the good agent's id, for the worker")
	workerPrefix := fs.String("worker-prefix", "", "internal: the attack's agent id prefix, for the worker")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *attackerIdle && !*ownProcess {
		return errors.New("-attacker-idle needs -attack-process")
	}
	if sz.SpinThreads < 0 || sz.SpinThreads > bench.MaxSpinThreads {
		return fmt.Errorf("-spin-threads %d: want 0 (the CPUs) to %d", sz.SpinThreads, bench.MaxSpinThreads)
	}
	if cfg.Rounds < 1 || cfg.Rounds > bench.MaxAttackRounds {
		return fmt.Errorf("-rounds %d: want 1 to %d", cfg.Rounds, bench.MaxAttackRounds)
	}
	var err error
	if cfg.Attacks, err = bench.ParseAttacks(*names); err != nil {
		return err
	}
	if *tokenFile != "" {
		b, err := os.ReadFile(*tokenFile)
		if err != nil {
			return err
		}
		cfg.HTTPToken = strings.TrimSpace(string(b))
	}
	if _, err := bench.RaiseFileLimit(uint64(max(sz.SlowConns, 2000, sz.OpenBatchConns)) + 4096); err != nil {
		fmt.Fprintln(os.Stderr, "hawk-bench: warning:", err)
	}
	if *workerAttack != "" {
		return bench.RunAttackWorker(ctx, cfg, *workerAttack, *workerGood, *workerPrefix, os.Stdin, out)
	}
	if *ownProcess {
		exe, err := os.Executable()
		if err != nil {
			return err
		}
		cfg.Worker = append([]string{exe, "attack"}, args...)
		if *attackerIdle {
			cfg.Worker = append([]string{"chrt", "--idle", "0"}, cfg.Worker...)
		}
	}
	fmt.Fprintf(out, "attack: %s; good agent %d series every %v; %v quiet then %v under attack, %d round(s) each\n",
		strings.Join(cfg.Attacks, ","), cfg.Series, cfg.Interval, cfg.Quiet, cfg.Under, cfg.Rounds)
	if cfg.GoodAddr != "" && cfg.GoodAddr != cfg.Addr {
		fmt.Fprintf(out, "control: the attacks go to %s, the good agent to %s; no verdict\n", cfg.Addr, cfg.GoodAddr)
	}
	res, err := bench.RunAttack(ctx, cfg)
	for _, r := range res {
		r.Print(out)
	}
	bench.PrintAttackTable(out, res)
	if err != nil {
		return err
	}
	for _, r := range res {
		if !r.Met() && !r.Control {
			return errFailed
		}
	}
	return nil
}
