package agent

import (
	"context"
	"errors"
	"fmt"
	"hash/fnv"
	"log/slog"
	"net"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"hawk/internal/agent/inputs"
	"hawk/internal/collect"
	"hawk/internal/spool"
	"hawk/internal/wire"
)

// Config configures an Agent. Zero fields take the defaults noted.
type Config struct {
	Servers  []string      // host:port of collectors, in failover order; required
	Interval time.Duration // collection interval (default 10s)
	SpoolDir string        // on-disk buffer and identity; required
	SpoolMax int64         // bytes the spool may hold (default 512 MiB)
	SpoolAge time.Duration // oldest batch the spool keeps (default 24h)
	// SpoolSyncAlways fsyncs every batch as it is spooled. By default a
	// batch is fsynced only while the server is behind: when the batch
	// before it has not been acknowledged yet. An acknowledged batch is
	// durable on the server, so with the server up and acking, a power loss
	// can cost at most the newest batch, which was then in flight.
	SpoolSyncAlways bool

	Hostname string       // default os.Hostname
	Job      string       // the job label (default "node")
	Instance string       // the instance label (default Hostname)
	Labels   []wire.Label // static labels added to every series
	Token    string       // credentials sent in HELLO
	Version  string       // agent version sent in HELLO

	Collect collect.Config // what to collect and from where

	// Inputs gathers scrape targets, commands and process groups; nil for
	// none. Agent.SetInputs replaces it while the agent runs.
	Inputs *inputs.Runner

	// Dial opens a connection to a collector; default a TCP dial with a 5s
	// timeout. TLS wraps it here.
	Dial func(ctx context.Context, addr string) (net.Conn, error)

	BackoffMin time.Duration // first reconnect delay bound (default 100ms)
	BackoffMax time.Duration // largest reconnect delay bound (default 30s)

	Logger *slog.Logger
	Now    func() time.Time // clock seam
	// BootTime returns the host's boot time in Unix seconds, sent in HELLO
	// so the server can tell a reboot from other outages; default btime
	// from /proc/stat (0 when unknown). A seam for tests.
	BootTime func() int64
}

func (c *Config) setDefaults() error {
	if len(c.Servers) == 0 {
		return errors.New("agent: no server address")
	}
	if c.SpoolDir == "" {
		return errors.New("agent: no spool directory")
	}
	if c.Interval <= 0 {
		c.Interval = 10 * time.Second
	}
	if c.Hostname == "" {
		h, err := os.Hostname()
		if err != nil {
			return fmt.Errorf("agent: hostname: %w", err)
		}
		c.Hostname = h
	}
	if c.Job == "" {
		c.Job = "node"
	}
	if c.Instance == "" {
		c.Instance = c.Hostname
	}
	if c.BackoffMin <= 0 {
		c.BackoffMin = 100 * time.Millisecond
	}
	if c.BackoffMax <= 0 {
		c.BackoffMax = 30 * time.Second
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	if c.Dial == nil {
		d := net.Dialer{Timeout: 5 * time.Second, KeepAlive: 30 * time.Second}
		c.Dial = func(ctx context.Context, addr string) (net.Conn, error) {
			conn, err := d.DialContext(ctx, "tcp", addr)
			if err != nil {
				return nil, err
			}
			return withRawIO(conn), nil
		}
	}
	return nil
}

// Agent collects, spools and sends. Run it once.
type Agent struct {
	cfg    Config
	log    *slog.Logger
	id     string
	spool  *spool.Spool
	set    *collect.Set
	stats  stats
	self   selfStat // used by the collect loop only
	inputs inputSlot
}

// stats are what the agent knows about itself, exported as hawk_agent_*
// series with every collection.
type stats struct {
	rtt       atomic.Int64 // ns, last heartbeat round trip
	offset    atomic.Int64 // ns, agent clock minus server clock
	connected atomic.Bool
	sent      atomic.Uint64 // batches written to a server
	acked     atomic.Uint64 // highest sequence acknowledged
	reconnect atomic.Uint64 // connections opened
	collectNs atomic.Int64  // duration of the last collection
	disk      diskStats     // spool write failures and samples too old to send, see collectloop.go
}

// New opens the spool, loads or creates the agent id and prepares the
// collectors.
func New(cfg Config) (*Agent, error) {
	if err := cfg.setDefaults(); err != nil {
		return nil, err
	}
	if err := os.MkdirAll(cfg.SpoolDir, 0o755); err != nil {
		return nil, fmt.Errorf("agent: %w", err)
	}
	id, err := spool.LoadOrCreateID(cfg.SpoolDir)
	if err != nil {
		return nil, fmt.Errorf("agent: identity: %w", err)
	}
	set, err := collect.New(cfg.Collect, cfg.Logger.With("component", "collect"))
	if err != nil {
		return nil, fmt.Errorf("agent: %w", err)
	}
	sp, err := spool.Open(cfg.SpoolDir, spool.Options{MaxBytes: cfg.SpoolMax, MaxAge: cfg.SpoolAge, Sync: cfg.SpoolSyncAlways,
		Logger: cfg.Logger.With("component", "spool")})
	if err != nil {
		return nil, fmt.Errorf("agent: %w", err)
	}
	a := &Agent{cfg: cfg, log: cfg.Logger, id: id, spool: sp, set: set}
	a.inputs.r = cfg.Inputs
	return a, nil
}

// ID returns the agent's stable id.
func (a *Agent) ID() string { return a.id }

// Run collects and sends until ctx ends, then closes the spool. Whatever
// was collected and not acknowledged stays in the spool for the next run.
func (a *Agent) Run(ctx context.Context) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	a.startInputs()
	defer a.stopInputs()
	var wg sync.WaitGroup
	var fatal error // set by the collect loop before cancel
	wg.Add(2)
	go func() {
		defer wg.Done()
		defer a.self.close()
		if fatal = a.collectLoop(ctx); fatal != nil {
			cancel()
		}
	}()
	go func() { defer wg.Done(); a.sendLoop(ctx) }()
	wg.Wait()
	return errors.Join(fatal, a.spool.Close())
}

// hash64 is a stable hash of the agent id: it places the agent's
// collections within the interval and picks its first server, so a fleet
// spreads evenly over both.
func (a *Agent) hash64(salt string) uint64 {
	h := fnv.New64a()
	h.Write([]byte(salt))
	h.Write([]byte(a.id))
	return h.Sum64()
}
