// Command hawk-agent collects this host's metrics, named as node_exporter
// names them, and sends them to hawk-server over a persistent connection,
// keeping what the server has not acknowledged in an on-disk spool.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"runtime"
	"runtime/debug"
	"syscall"
	"time"

	"hawk/internal/agent"
	"hawk/internal/agent/inputs"
)

// version is set at build time with -ldflags "-X main.version=...".
var version = "0.1.0-dev"

func main() {
	// The agent's live heap is about 1 MiB; the default GOGC lets it grow to
	// several times that between collections. 40 keeps its RSS small at a
	// CPU cost too small to measure (docs/performance.md, agent overhead).
	debug.SetGCPercent(40)
	// Collection, spooling and sending take turns and never need two
	// threads at once. With one P the runtime does not wake a second thread
	// to spin for work each time a goroutine becomes runnable, which was a
	// tenth of the agent's CPU. GOMAXPROCS in the environment still wins.
	if os.Getenv("GOMAXPROCS") == "" {
		runtime.GOMAXPROCS(1)
	}
	trimTextPages()
	if err := run(os.Args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, "hawk-agent:", err)
		os.Exit(1)
	}
}

// trimAfter is how long after start-up or a reload the pages of the
// agent's code it touched only then are dropped from its RSS.
const trimAfter = 30 * time.Second

func run(args []string) error {
	o, warnings, err := parseArgs(args)
	if err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nil
		}
		return err
	}
	if o.showVersion {
		fmt.Println("hawk-agent", version)
		return nil
	}
	if o.checkConfig != "" {
		return checkConfig(o.checkConfig)
	}
	var lvl slog.LevelVar
	if err := lvl.UnmarshalText([]byte(o.logLevel)); err != nil {
		return fmt.Errorf("-log-level: %w", err)
	}
	cfg := &o.cfg
	cfg.Logger = slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: &lvl}))
	for _, w := range warnings {
		cfg.Logger.Warn("config", "warning", w)
	}
	cfg.Version = version
	if cfg.Inputs, err = o.inputs.Build(hostnameFor(cfg), cfg.Logger.With("component", "inputs")); err != nil {
		return err
	}
	a, err := agent.New(*cfg)
	if err != nil {
		cfg.Inputs.Stop()
		return err
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	defer signal.Stop(hup)
	reloaded := make(chan struct{})
	// Start-up and a reload run code the agent then no longer needs (flag
	// and YAML parsing, the inputs' set-up): its pages leave the RSS a
	// while after each.
	trim := time.NewTimer(trimAfter)
	go func() {
		defer close(reloaded)
		defer trim.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-hup:
				reload(a, args, o, &lvl, cfg.Logger)
				trim.Reset(trimAfter)
			case <-trim.C:
				trimTextPages()
			}
		}
	}()
	cfg.Logger.Info("hawk-agent started", "version", version, "id", a.ID(), "servers", cfg.Servers,
		"interval", cfg.Interval, "spool", cfg.SpoolDir, "tls", o.tlsEnabled(), "inputs", cfg.Inputs.Len())
	err = a.Run(ctx)
	stop()
	<-reloaded
	return err
}

// parseArgs declares the options and parses the command line and the
// -config file it names.
func parseArgs(args []string) (*agentOptions, []string, error) {
	o := &agentOptions{}
	s := declareAgent(o)
	s.ConfigFlag("config", "YAML file of settings (keys are the flag names; flags on the command line win); SIGHUP reloads it")
	fs := flag.NewFlagSet("hawk-agent", flag.ContinueOnError)
	fs.StringVar(&o.checkConfig, "check-config", "", "check this configuration file (and the process config it names) and exit")
	if err := s.Parse(fs, args); err != nil {
		return nil, nil, err
	}
	if err := o.finish(); err != nil {
		return nil, nil, err
	}
	return o, s.Warnings(), nil
}

// checkConfig loads a configuration file as a start would, builds its
// inputs without running them, and reports.
func checkConfig(path string) error {
	o, warnings, err := parseArgs([]string{"-config", path})
	if err != nil {
		return err
	}
	r, err := o.inputs.Build(hostnameFor(&o.cfg), nil)
	if err != nil {
		return err
	}
	r.Stop()
	for _, w := range warnings {
		fmt.Fprintln(os.Stderr, "warning:", w)
	}
	fmt.Printf("%s: OK (%d inputs)\n", path, r.Len())
	return nil
}

// reload re-reads the command line's -config file and replaces the inputs
// and the log level. The connection and the spool stay; options that only
// take effect at start are reported if they changed. A bad file keeps the
// running configuration.
func reload(a *agent.Agent, args []string, cur *agentOptions, lvl *slog.LevelVar, log *slog.Logger) {
	o, warnings, err := parseArgs(args)
	var r *inputs.Runner
	if err == nil {
		r, err = o.inputs.Build(hostnameFor(&cur.cfg), log.With("component", "inputs"))
	}
	if err == nil {
		var l slog.Level
		if err = l.UnmarshalText([]byte(o.logLevel)); err != nil {
			r.Stop()
			err = fmt.Errorf("-log-level: %w", err)
		} else {
			lvl.Set(l)
		}
	}
	if err != nil {
		a.ReloadDone(false)
		log.Error("reload failed; the running configuration stays", "err", err)
		return
	}
	for _, w := range warnings {
		log.Warn("config", "warning", w)
	}
	if changed := restartOnly(cur, o); len(changed) > 0 {
		log.Warn("reload: these options take effect at the next start", "options", changed)
	}
	a.SetInputs(r)
	a.ReloadDone(true)
	log.Info("configuration reloaded", "inputs", r.Len())
}

// hostnameFor is the name a loopback scrape target's instance label gets.
func hostnameFor(c *agent.Config) string {
	if c.Instance != "" {
		return c.Instance
	}
	if c.Hostname != "" {
		return c.Hostname
	}
	h, _ := os.Hostname()
	return h
}
