package daemon

import (
	"flag"
	"os"
	"time"

	"hawk/internal/options"
)

// Config is hawk-server's configuration. Each option is declared once, in
// declare (and Security.declare, RemoteWrite.declare): its flag, its key in
// the -config YAML file (the same name), its default and its help.
type Config struct {
	Listen            string
	HTTP              string
	Data              string
	Retention         time.Duration
	OutOfOrderWindow  time.Duration
	HeartbeatInterval time.Duration
	MissedHeartbeats  int
	LivenessInterval  time.Duration
	MaxConns          int
	MaxSeries         int
	MaxBatchSamples   int
	Legacy            bool
	QueryTimeout      time.Duration
	QueryMaxSamples   int
	ShutdownTimeout   time.Duration
	LogLevel          string
	ServerID          string
	PIDFile           string
	UpgradeTimeout    time.Duration
	LocalTSDB         bool
	RemoteWrite       RemoteWrite
	Demo              bool
	DemoInterval      time.Duration
	Security          Security
	Limits            Limits
	Enrolment         Enrolment
	Fleet             Fleet
	Alerting          Alerting
}

// Declare declares every option of hawk-server into a new Set, with c's
// fields as their homes, and sets them to their defaults.
func Declare(c *Config) *options.Set {
	s := options.New()
	c.declare(s)
	return s
}

func (c *Config) declare(s *options.Set) {
	host, _ := os.Hostname()
	s.String(&c.Listen, "listen", ":9876", "address for agent connections (legacy and v2)")
	s.String(&c.HTTP, "http", ":9877", "address of the query API, the UI and /metrics")
	s.String(&c.Data, "data", "./data", "data directory: the embedded TSDB and the per-agent stored batch sequences")
	s.Duration(&c.Retention, "retention", 15*24*time.Hour, "how long samples are kept (e.g. 15d)")
	s.Duration(&c.OutOfOrderWindow, "out-of-order-window", 6*time.Hour, "how far in the past a late sample is still stored")
	s.Duration(&c.HeartbeatInterval, "heartbeat-interval", 2*time.Second, "heartbeat interval asked of agents")
	s.Int(&c.MissedHeartbeats, "missed-heartbeats", 3, "heartbeat intervals of silence before an agent is offline")
	s.Duration(&c.LivenessInterval, "liveness-interval", 10*time.Second, "how often hawk_agent_* series are written")
	s.Int(&c.MaxConns, "max-connections", 100000, "agent connections open at most")
	s.Int(&c.MaxSeries, "max-series-per-connection", 100000, "series dictionary entries per agent connection")
	s.Int(&c.MaxBatchSamples, "max-batch-samples", 200000, "samples in one batch at most")
	s.Bool(&c.Legacy, "legacy", true, "serve the legacy JSON protocol")
	s.Duration(&c.QueryTimeout, "query-timeout", 2*time.Minute, "longest a query may run")
	s.Int(&c.QueryMaxSamples, "query-max-samples", 50000000, "samples a query may load at most")
	s.Duration(&c.ShutdownTimeout, "shutdown-timeout", 30*time.Second, "longest a drain may take on SIGTERM")
	s.String(&c.LogLevel, "log-level", "info", "debug, info, warn or error")
	s.String(&c.ServerID, "server-id", host, "name of this server in WELCOME and logs")
	s.String(&c.PIDFile, "pid-file", "", "file the serving process writes its PID to (rewritten by each upgrade)")
	s.Duration(&c.UpgradeTimeout, "upgrade-timeout", time.Minute, "how long a new process may take to become ready on SIGHUP")
	s.Bool(&c.LocalTSDB, "storage.tsdb", true, "store in the embedded TSDB under -data; false with -remote-write makes a stateless collector")
	s.Alias("storage-tsdb", "storage.tsdb")
	c.RemoteWrite.declare(s)
	s.Bool(&c.Demo, "demo", false, "also run an agent for this host inside the server (spool in <data>/demo-agent)")
	s.Duration(&c.DemoInterval, "demo-interval", 5*time.Second, "collection interval of the -demo agent")
	c.Security.declare(s)
	c.Limits.declare(s)
	c.Enrolment.declare(s)
	c.Fleet.declare(s)
	c.Alerting.declare(s)
}

// DefaultConfig returns the defaults the flags show.
func DefaultConfig() Config {
	var c Config
	Declare(&c)
	return c
}

// ParseFlags parses args into c: defaults, then the -config file if one is
// named, then the flags given on the command line, which win. It returns
// warnings to log (deprecated keys in the file).
func ParseFlags(fs *flag.FlagSet, c *Config, args []string) (warnings []string, err error) {
	s := Declare(c)
	s.ConfigFlag("config", "YAML file of settings (keys are the flag names; flags on the command line win)")
	err = s.Parse(fs, args)
	return s.Warnings(), err
}
