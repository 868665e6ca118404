package inputs

import (
	"errors"
	"fmt"
	"log/slog"
	"sort"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"

	"hawk/internal/options"
)

// Limits bound what the inputs may cost.
type Limits struct {
	MaxSeriesPerInput int // series one scrape or command may yield
	MaxSamples        int // samples waiting for the collect loop, all inputs together
	MaxBodyBytes      int // bytes one scrape body or command output may have
}

// Config is the inputs' part of the agent's options.
type Config struct {
	Scrape          Targets
	Exec            Commands
	ProcessConfig   string
	ProcessInterval time.Duration
	Process         ProcessOptions
	Limits          Limits
}

// Declare declares the inputs' options.
func (c *Config) Declare(s *options.Set) {
	s.Var(&c.Scrape, "scrape", "URL of a local exporter to scrape (repeatable); the config file's scrape section also takes interval, timeout, job, labels, basic_auth, authorization, tls_config per target", true)
	s.Var(&c.Exec, "exec", "command run with /bin/sh -c whose output, in the Prometheus text format, is sent along (repeatable); the config file's exec section also takes name, interval, timeout, env, user", true)
	s.String(&c.ProcessConfig, "process-config", "", "process-exporter configuration file (process_names) of the process groups to watch ; its groups become namedprocess_namegroup_* series, re-read on SIGHUP")
	s.Duration(&c.ProcessInterval, "process-interval", defaultInterval, "how often the process groups of -process-config are read")
	s.Bool(&c.Process.Children, "process-children", true, "a process no process_names entry takes joins the group of its nearest ancestor that has one (process-exporter's -children)")
	s.Bool(&c.Process.Smaps, "process-smaps", true, "read each grouped process's smaps_rollup for the memory_bytes{memtype=\"proportionalResident\"} and {memtype=\"proportionalSwapped\"} series (process-exporter's -gather-smaps)")
	s.Int(&c.Limits.MaxSeriesPerInput, "input-max-series", 20000, "series one scrape or command may yield; more fails the run (up 0), as Prometheus' sample_limit")
	s.Int(&c.Limits.MaxSamples, "input-max-samples", 100000, "samples of all inputs waiting for the next collection; results past it are dropped and counted")
	s.Int(&c.Limits.MaxBodyBytes, "input-max-body-bytes", 16<<20, "bytes one scrape body or command output may have")
}

// Defaults of a target or command that does not set them.
const (
	defaultInterval = 15 * time.Second
	defaultTimeout  = 10 * time.Second
	defaultJob      = "scrape"
)

// Target is one scrape target. In YAML it is either a URL or a mapping:
//
//   - url: http://127.0.0.1:9100/metrics
//     job: node_exporter
//     interval: 15s
//     timeout: 10s
//     labels: {team: db}
//     basic_auth: {username: u, password_file: /etc/hawk/pw}
//     tls_config: {ca_file: /etc/hawk/ca.pem}
type Target struct {
	URL      string            `yaml:"url"`
	Job      string            `yaml:"job"`
	Interval time.Duration     `yaml:"interval"`
	Timeout  time.Duration     `yaml:"timeout"`
	Labels   map[string]string `yaml:"labels"`
	// HTTP is the client: basic_auth, authorization, tls_config,
	// proxy_url... as in a Prometheus scrape_config, from the same mapping.
	HTTP HTTPConfig `yaml:",inline"`
}

// Targets is the -scrape option: each flag adds a URL; the YAML value is a
// list of URLs or Target mappings.
type Targets []Target

func (t *Targets) Set(s string) error {
	*t = append(*t, Target{URL: s})
	return nil
}

func (t *Targets) String() string {
	var u []string
	for _, x := range *t {
		u = append(u, x.URL)
	}
	return strings.Join(u, ",")
}

func (t *Targets) UnmarshalYAML(n *yaml.Node) error {
	*t = nil
	for _, it := range seq(n) {
		var x Target
		if it.Kind == yaml.ScalarNode {
			x.URL = it.Value
		} else {
			if err := checkKeys(it); err != nil {
				return fmt.Errorf("line %d: %w", it.Line, err)
			}
			if err := it.Decode(&x); err != nil {
				return fmt.Errorf("line %d: %w", it.Line, err)
			}
		}
		*t = append(*t, x)
	}
	return nil
}

// Command is one command to run. In YAML it is either the command line or
// a mapping:
//
//   - command: /usr/local/bin/check-raid
//     name: raid
//     interval: 1m
//     timeout: 20s
//     env: [LC_ALL=C]
//     user: nobody
type Command struct {
	Command  string        `yaml:"command"`
	Name     string        `yaml:"name"`
	Interval time.Duration `yaml:"interval"`
	Timeout  time.Duration `yaml:"timeout"`
	Env      []string      `yaml:"env"`
	User     string        `yaml:"user"`
}

// Commands is the -exec option.
type Commands []Command

func (c *Commands) Set(s string) error {
	*c = append(*c, Command{Command: s})
	return nil
}

func (c *Commands) String() string {
	var u []string
	for _, x := range *c {
		u = append(u, x.Command)
	}
	return strings.Join(u, ",")
}

func (c *Commands) UnmarshalYAML(n *yaml.Node) error {
	*c = nil
	for _, it := range seq(n) {
		var x Command
		if it.Kind == yaml.ScalarNode {
			x.Command = it.Value
		} else if err := it.Decode(&x); err != nil {
			return fmt.Errorf("line %d: %w", it.Line, err)
		}
		*c = append(*c, x)
	}
	return nil
}

func seq(n *yaml.Node) []*yaml.Node {
	if n.Kind == yaml.SequenceNode {
		return n.Content
	}
	if n.Kind == yaml.ScalarNode && n.Tag == "!!null" {
		return nil
	}
	return []*yaml.Node{n}
}

// Build checks the configuration and returns a Runner for it, not started.
// hostname replaces a loopback host in a target's instance label.
func (c *Config) Build(hostname string, log *slog.Logger) (*Runner, error) {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	l := c.Limits
	if l.MaxSeriesPerInput <= 0 || l.MaxSamples <= 0 || l.MaxBodyBytes <= 0 {
		return nil, errors.New("inputs: the input-max-* limits must be positive")
	}
	r := &Runner{maxSamples: l.MaxSamples, log: log}
	fail := func(err error) (*Runner, error) { r.Stop(); return nil, err }
	for _, t := range c.Scrape {
		if t.Job == "" {
			t.Job = defaultJob
		}
		t.Interval, t.Timeout = orDefault(t.Interval, defaultInterval), orDefault(t.Timeout, defaultTimeout)
		if t.Timeout > t.Interval {
			t.Timeout = t.Interval
		}
		if err := t.HTTP.Validate(); err != nil {
			return fail(fmt.Errorf("scrape %s: %w", t.URL, err))
		}
		s, err := newScraper(t, hostname, l, log)
		if err != nil {
			return fail(err)
		}
		r.inputs = append(r.inputs, s)
	}
	for _, x := range c.Exec {
		x.Interval, x.Timeout = orDefault(x.Interval, defaultInterval), orDefault(x.Timeout, defaultTimeout)
		if x.Timeout > x.Interval {
			x.Timeout = x.Interval
		}
		e, err := newExecer(x, l, log)
		if err != nil {
			return fail(err)
		}
		r.inputs = append(r.inputs, e)
	}
	if c.ProcessConfig != "" {
		p, err := newProcGroups(c.ProcessConfig, orDefault(c.ProcessInterval, defaultInterval), c.Process)
		if err != nil {
			return fail(err)
		}
		r.inputs = append(r.inputs, p)
	}
	return r, nil
}

func orDefault(d, def time.Duration) time.Duration {
	if d <= 0 {
		return def
	}
	return d
}

func sortedKeys[V any](m map[string]V) []string {
	k := make([]string, 0, len(m))
	for x := range m {
		k = append(k, x)
	}
	sort.Strings(k)
	return k
}
