// Command hawk-server is hawk's collector: agents connect to -listen, the
// query API, the UI and /metrics are on -http, samples are kept in -data.
// SIGHUP upgrades in place; SIGTERM and SIGINT drain and exit.
package main

import (
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"syscall"

	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/trace/noop"

	"hawk/internal/daemon"
	"hawk/internal/procs"
)

func main() {
	if err := run(os.Args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, "hawk-server:", err)
		os.Exit(1)
	}
}

func run(args []string) error {
	fs := flag.NewFlagSet("hawk-server", flag.ContinueOnError)
	cfg := daemon.DefaultConfig()
	version := fs.Bool("version", false, "print the version and exit")
	warnings, err := daemon.ParseFlags(fs, &cfg, args)
	if err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nil
		}
		return err
	}
	if *version {
		fmt.Println("hawk-server", daemon.Version)
		return nil
	}
	var level slog.Level
	if err := level.UnmarshalText([]byte(cfg.LogLevel)); err != nil {
		return fmt.Errorf("-log-level: %w", err)
	}
	log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: level})).With("pid", os.Getpid())
	for _, w := range warnings {
		log.Warn("config", "warning", w)
	}
	if from, to := procs.Raise(); to != from {
		log.Info("GOMAXPROCS raised so that the garbage collector runs dedicated mark workers", "cpus", procs.CPUs(), "from", from, "to", to)
	}
	// No tracing is configured, so the PromQL engine's spans go nowhere, as
	// Prometheus' do without a tracing endpoint. OpenTelemetry's default
	// global tracer made a span value on the heap for every node of every
	// expression evaluated: a seventh of what the promql attack's queries
	// allocated (docs/security.md, section 9).
	otel.SetTracerProvider(noop.NewTracerProvider())
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, syscall.SIGHUP, syscall.SIGINT, syscall.SIGTERM)
	defer signal.Stop(sig)
	return daemon.Run(cfg, log, sig)
}
