// Command hawk-server is hawk's collector: agents connect to -listen, the
// query API, the UI and /metrics are on -http, samples are kept in -data.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"syscall"
	"time"

	"hawk/internal/daemon"
	"hawk/internal/server"
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
	if err := daemon.ParseFlags(fs, &cfg, args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nil
		}
		return err
	}
	if *version {
		fmt.Println("hawk-server", daemon.Version)
		return nil
	}
	log, err := newLogger(cfg.LogLevel)
	if err != nil {
		return err
	}
	d, err := daemon.Start(cfg, daemon.Listeners{}, log)
	if err != nil {
		return err
	}
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, syscall.SIGINT, syscall.SIGTERM)
	defer signal.Stop(sig)
	select {
	case s := <-sig:
		log.Info("draining", "signal", s.String())
	case err := <-d.Err():
		if !errors.Is(err, server.ErrServerClosed) {
			log.Error("listener failed", "err", err)
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Duration(cfg.ShutdownTimeout))
	defer cancel()
	return d.Shutdown(ctx)
}

func newLogger(level string) (*slog.Logger, error) {
	var l slog.Level
	if err := l.UnmarshalText([]byte(level)); err != nil {
		return nil, fmt.Errorf("-log-level: %w", err)
	}
	return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: l})), nil
}
