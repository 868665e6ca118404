package daemon

import (
	"flag"
	"fmt"
	"os"
	"time"

	"github.com/prometheus/common/model"
	"go.yaml.in/yaml/v3"
)

// Config is hawk-server's configuration: flags, optionally read from a
// YAML file first. Keys in the file are the flag names.
type Config struct {
	Listen            string         `yaml:"listen"`
	HTTP              string         `yaml:"http"`
	Data              string         `yaml:"data"`
	Retention         model.Duration `yaml:"retention"`
	OutOfOrderWindow  model.Duration `yaml:"out-of-order-window"`
	HeartbeatInterval model.Duration `yaml:"heartbeat-interval"`
	MissedHeartbeats  int            `yaml:"missed-heartbeats"`
	LivenessInterval  model.Duration `yaml:"liveness-interval"`
	MaxConns          int            `yaml:"max-connections"`
	MaxSeries         int            `yaml:"max-series-per-connection"`
	MaxBatchSamples   int            `yaml:"max-batch-samples"`
	Legacy            bool           `yaml:"legacy"`
	QueryTimeout      model.Duration `yaml:"query-timeout"`
	QueryMaxSamples   int            `yaml:"query-max-samples"`
	ShutdownTimeout   model.Duration `yaml:"shutdown-timeout"`
	LogLevel          string         `yaml:"log-level"`
	ServerID          string         `yaml:"server-id"`
	PIDFile           string         `yaml:"pid-file"`
	UpgradeTimeout    model.Duration `yaml:"upgrade-timeout"`
	LocalTSDB         bool           `yaml:"storage-tsdb"`
	RemoteWrite       RemoteWrite    `yaml:"remote-write"`
	Demo              bool           `yaml:"demo"`
	DemoInterval      model.Duration `yaml:"demo-interval"`
	Security          Security       `yaml:",inline"`
}

// DefaultConfig returns the defaults the flags show.
func DefaultConfig() Config {
	host, _ := os.Hostname()
	return Config{
		Listen:            ":9876",
		HTTP:              ":9877",
		Data:              "./data",
		Retention:         model.Duration(15 * 24 * time.Hour),
		OutOfOrderWindow:  model.Duration(6 * time.Hour),
		HeartbeatInterval: model.Duration(2 * time.Second),
		MissedHeartbeats:  3,
		LivenessInterval:  model.Duration(10 * time.Second),
		MaxConns:          100000,
		MaxSeries:         100000,
		MaxBatchSamples:   200000,
		Legacy:            true,
		QueryTimeout:      model.Duration(2 * time.Minute),
		QueryMaxSamples:   50000000,
		ShutdownTimeout:   model.Duration(30 * time.Second),
		LogLevel:          "info",
		ServerID:          host,
		DemoInterval:      model.Duration(5 * time.Second),
		UpgradeTimeout:    model.Duration(time.Minute),
		LocalTSDB:         true,
		Security:          defaultSecurity(),
	}
}

// RegisterFlags defines a flag for every field of c, with c's values as
// defaults.
func (c *Config) RegisterFlags(fs *flag.FlagSet) {
	fs.StringVar(&c.Listen, "listen", c.Listen, "address for agent connections (legacy and v2)")
	fs.StringVar(&c.HTTP, "http", c.HTTP, "address of the query API, the UI and /metrics")
	fs.StringVar(&c.Data, "data", c.Data, "data directory of the embedded TSDB")
	fs.Var(&c.Retention, "retention", "how long samples are kept (e.g. 15d)")
	fs.Var(&c.OutOfOrderWindow, "out-of-order-window", "how far in the past a late sample is still stored")
	fs.Var(&c.HeartbeatInterval, "heartbeat-interval", "heartbeat interval asked of agents")
	fs.IntVar(&c.MissedHeartbeats, "missed-heartbeats", c.MissedHeartbeats, "heartbeat intervals of silence before an agent is offline")
	fs.Var(&c.LivenessInterval, "liveness-interval", "how often hawk_agent_* series are written")
	fs.IntVar(&c.MaxConns, "max-connections", c.MaxConns, "agent connections open at most")
	fs.IntVar(&c.MaxSeries, "max-series-per-connection", c.MaxSeries, "series dictionary entries per agent connection")
	fs.IntVar(&c.MaxBatchSamples, "max-batch-samples", c.MaxBatchSamples, "samples in one batch at most")
	fs.BoolVar(&c.Legacy, "legacy", c.Legacy, "serve the legacy JSON protocol")
	fs.Var(&c.QueryTimeout, "query-timeout", "longest a query may run")
	fs.IntVar(&c.QueryMaxSamples, "query-max-samples", c.QueryMaxSamples, "samples a query may load at most")
	fs.Var(&c.ShutdownTimeout, "shutdown-timeout", "longest a drain may take on SIGTERM")
	fs.StringVar(&c.LogLevel, "log-level", c.LogLevel, "debug, info, warn or error")
	fs.StringVar(&c.ServerID, "server-id", c.ServerID, "name of this server in WELCOME and logs")
	fs.StringVar(&c.PIDFile, "pid-file", c.PIDFile, "file the serving process writes its PID to (rewritten by each upgrade)")
	fs.Var(&c.UpgradeTimeout, "upgrade-timeout", "how long a new process may take to become ready on SIGHUP")
	fs.BoolVar(&c.LocalTSDB, "storage.tsdb", c.LocalTSDB, "store in the embedded TSDB under -data; false with -remote-write makes a stateless collector")
	c.RemoteWrite.registerFlags(fs)
	fs.BoolVar(&c.Demo, "demo", c.Demo, "also run an agent for this host inside the server (spool in <data>/demo-agent)")
	fs.Var(&c.DemoInterval, "demo-interval", "collection interval of the -demo agent")
	c.Security.registerFlags(fs)
}

// Load reads a YAML file into c. Unknown keys are an error.
func (c *Config) Load(path string) error {
	f, err := os.Open(path)
	if err != nil {
		return fmt.Errorf("config: %w", err)
	}
	defer f.Close()
	dec := yaml.NewDecoder(f)
	dec.KnownFields(true)
	if err := dec.Decode(c); err != nil {
		return fmt.Errorf("config %s: %w", path, err)
	}
	return nil
}

// ParseFlags parses args into c: defaults, then the -config file if one is
// named, then the flags given on the command line, which win.
func ParseFlags(fs *flag.FlagSet, c *Config, args []string) error {
	configPath := fs.String("config", "", "YAML file of settings (keys are the flag names)")
	c.RegisterFlags(fs)
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *configPath == "" {
		return nil
	}
	given := map[string]string{} // flags set on the command line win over the file
	fs.Visit(func(f *flag.Flag) { given[f.Name] = f.Value.String() })
	if err := c.Load(*configPath); err != nil {
		return err
	}
	for name, v := range given {
		if l, ok := fs.Lookup(name).Value.(*listFlag); ok {
			l.replace(v) // a list given on the command line replaces the file's
			continue
		}
		if err := fs.Set(name, v); err != nil {
			return err
		}
	}
	return nil
}
