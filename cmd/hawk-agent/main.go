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
	"strings"
	"syscall"
	"time"

	"hawk/internal/agent"
	"hawk/internal/collect"
	"hawk/internal/wire"
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
	if err := run(os.Args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, "hawk-agent:", err)
		os.Exit(1)
	}
}

func run(args []string) error {
	fs := flag.NewFlagSet("hawk-agent", flag.ContinueOnError)
	cfg, logLevel, showVersion := agentFlags(fs)
	tf := tlsFlags(fs)
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nil
		}
		return err
	}
	if err := tf.apply(cfg); err != nil {
		return err
	}
	if *showVersion {
		fmt.Println("hawk-agent", version)
		return nil
	}
	var lvl slog.Level
	if err := lvl.UnmarshalText([]byte(*logLevel)); err != nil {
		return fmt.Errorf("-log-level: %w", err)
	}
	if len(cfg.Servers) == 0 {
		cfg.Servers = []string{"127.0.0.1:9876"}
	}
	cfg.Logger = slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: lvl}))
	cfg.Version = version
	a, err := agent.New(*cfg)
	if err != nil {
		return err
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	cfg.Logger.Info("hawk-agent started", "version", version, "id", a.ID(), "servers", cfg.Servers,
		"interval", cfg.Interval, "spool", cfg.SpoolDir, "tls", tf.enabled())
	return a.Run(ctx)
}

// tlsSettings are the agent's TLS flags.
type tlsSettings struct {
	on   bool
	opts agent.TLSOptions
}

func tlsFlags(fs *flag.FlagSet) *tlsSettings {
	t := &tlsSettings{}
	fs.BoolVar(&t.on, "tls", false, "connect with TLS (implied by the other -tls-* flags)")
	fs.StringVar(&t.opts.CAFile, "tls-ca-file", "", "CA bundle (PEM) that verifies the server (default the system's roots)")
	fs.StringVar(&t.opts.CertFile, "tls-cert-file", "", "client certificate (PEM) for mutual TLS; its CN or a SAN must be the agent id if the server binds them")
	fs.StringVar(&t.opts.KeyFile, "tls-key-file", "", "private key (PEM) of -tls-cert-file")
	fs.StringVar(&t.opts.ServerName, "tls-server-name", "", "name expected in the server certificate (default the host of -server)")
	fs.BoolVar(&t.opts.InsecureSkipVerify, "tls-insecure-skip-verify", false, "do not verify the server's certificate (testing only)")
	return t
}

func (t *tlsSettings) enabled() bool {
	return t.on || t.opts != (agent.TLSOptions{})
}

// apply makes cfg dial with TLS if any TLS flag is set.
func (t *tlsSettings) apply(cfg *agent.Config) error {
	if !t.enabled() {
		return nil
	}
	c, err := t.opts.TLSConfig()
	if err != nil {
		return err
	}
	cfg.Dial = agent.TLSDial(c, 10*time.Second)
	return nil
}

// agentFlags defines every flag and returns the config they fill.
func agentFlags(fs *flag.FlagSet) (cfg *agent.Config, logLevel *string, showVersion *bool) {
	cfg = &agent.Config{Collect: collect.Config{Enable: map[string]bool{}}}
	fs.Func("server", "collector address host:port; a comma-separated list fails over in order (default 127.0.0.1:9876)", func(s string) error {
		for _, a := range strings.Split(s, ",") {
			if a = strings.TrimSpace(a); a != "" {
				cfg.Servers = append(cfg.Servers, a)
			}
		}
		return nil
	})
	fs.DurationVar(&cfg.Interval, "interval", 10*time.Second, "collection interval")
	fs.StringVar(&cfg.SpoolDir, "spool", "/var/lib/hawk-agent", "spool directory: unacknowledged batches and the agent id")
	fs.Int64Var(&cfg.SpoolMax, "spool-max-bytes", 512<<20, "most bytes the spool may hold; the oldest batches are dropped past it")
	fs.DurationVar(&cfg.SpoolAge, "spool-max-age", 24*time.Hour, "oldest batch the spool keeps")
	fs.BoolVar(&cfg.SpoolSyncAlways, "spool-sync-always", false, "fsync every batch as it is spooled; by default batches are fsynced only while the server has not acknowledged the one before")
	fs.StringVar(&cfg.Collect.TextfileDir, "textfile-dir", "", "directory of *.prom files to send along (textfile collector)")
	fs.StringVar(&cfg.Collect.ProcPath, "procfs", "/proc", "procfs mount point")
	fs.StringVar(&cfg.Collect.SysPath, "sysfs", "/sys", "sysfs mount point")
	fs.StringVar(&cfg.Collect.RootfsPath, "rootfs", "/", "root of the host's filesystems")
	fs.StringVar(&cfg.Job, "job", "node", "job label of every series")
	fs.StringVar(&cfg.Instance, "instance", "", "instance label of every series (default the host name)")
	fs.StringVar(&cfg.Hostname, "hostname", "", "host name reported to the server (default the system's)")
	fs.StringVar(&cfg.Token, "token", os.Getenv("HAWK_TOKEN"), "credentials for the server (default $HAWK_TOKEN)")
	fs.Func("label", "static label name=value added to every series (repeatable)", func(s string) error {
		name, value, ok := strings.Cut(s, "=")
		if !ok || name == "" {
			return fmt.Errorf("want name=value, got %q", s)
		}
		cfg.Labels = append(cfg.Labels, wire.Label{Name: name, Value: value})
		return nil
	})
	for _, c := range collect.Collectors() {
		name := c.Name
		fs.BoolFunc("collector."+name, fmt.Sprintf("enable the %s collector (default %v): %s", name, c.Default, c.Description), func(string) error {
			cfg.Collect.Enable[name] = true
			return nil
		})
		fs.BoolFunc("no-collector."+name, "disable the "+name+" collector", func(string) error {
			cfg.Collect.Enable[name] = false
			return nil
		})
	}
	logLevel = fs.String("log-level", "info", "debug, info, warn or error")
	showVersion = fs.Bool("version", false, "print the version and exit")
	return cfg, logLevel, showVersion
}
