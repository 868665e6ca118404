package main

import (
	"fmt"
	"os"
	"sort"
	"strconv"
	"strings"
	"time"

	"hawk/internal/agent"
	"hawk/internal/agent/inputs"
	"hawk/internal/collect"
	"hawk/internal/options"
	"hawk/internal/wire"
)

// agentOptions is hawk-agent's configuration. Each option is declared once,
// in declare: its flag, its key in the -config YAML file (the same name),
// its default and its help.
type agentOptions struct {
	cfg         agent.Config
	tls         agent.TLSOptions
	tlsOn       bool
	inputs      inputs.Config
	logLevel    string
	showVersion bool
	checkConfig string // -check-config: a command, not a setting
}

// declareAgent declares every option of hawk-agent into a new Set, with o's
// fields as their homes, and sets them to their defaults.
func declareAgent(o *agentOptions) *options.Set {
	s := options.New()
	o.declare(s)
	return s
}

func (o *agentOptions) declare(s *options.Set) {
	c := &o.cfg
	c.Collect.Enable = map[string]bool{}
	s.Var((*serversValue)(&c.Servers), "server", "collector address host:port; a comma-separated list fails over in order (default 127.0.0.1:9876)", true)
	s.Duration(&c.Interval, "interval", 10*time.Second, "collection interval")
	s.String(&c.SpoolDir, "spool", "/var/lib/hawk-agent", "spool directory: unacknowledged batches and the agent id")
	c.SpoolMax = 512 << 20
	s.Var((*int64Value)(&c.SpoolMax), "spool-max-bytes", "most bytes the spool may hold; the oldest batches are dropped past it", false)
	s.Duration(&c.SpoolAge, "spool-max-age", 24*time.Hour, "oldest batch the spool keeps")
	s.Bool(&c.SpoolSyncAlways, "spool-sync-always", false, "fsync every batch as it is spooled; by default batches are fsynced only while the server has not acknowledged the one before")
	s.String(&c.Collect.TextfileDir, "textfile-dir", "", "directory of *.prom files to send along (textfile collector)")
	s.String(&c.Collect.ProcPath, "procfs", "/proc", "procfs mount point")
	s.String(&c.Collect.SysPath, "sysfs", "/sys", "sysfs mount point")
	s.String(&c.Collect.RootfsPath, "rootfs", "/", "root of the host's filesystems")
	s.String(&c.Job, "job", "node", "job label of every series")
	s.String(&c.Instance, "instance", "", "instance label of every series (default the host name)")
	s.String(&c.Hostname, "hostname", "", "host name reported to the server (default the system's)")
	s.String(&c.Token, "token", "", "credentials for the server (default $HAWK_TOKEN)")
	s.Var((*labelsValue)(&c.Labels), "label", "static label name=value added to every series (repeatable)", true)
	for _, col := range collect.Collectors() {
		s.Var(&collectorValue{enable: c.Collect.Enable, name: col.Name, on: true}, "collector."+col.Name,
			fmt.Sprintf("enable the %s collector (default %v): %s", col.Name, col.Default, col.Description), false)
		s.Var(&collectorValue{enable: c.Collect.Enable, name: col.Name, on: false}, "no-collector."+col.Name,
			"disable the "+col.Name+" collector", false)
	}
	s.Bool(&o.tlsOn, "tls", false, "connect with TLS (implied by the other -tls-* flags)")
	s.String(&o.tls.CAFile, "tls-ca-file", "", "CA bundle (PEM) that verifies the server (default the system's roots)")
	s.String(&o.tls.CertFile, "tls-cert-file", "", "client certificate (PEM) for mutual TLS; its CN or a SAN must be the agent id if the server binds them")
	s.String(&o.tls.KeyFile, "tls-key-file", "", "private key (PEM) of -tls-cert-file")
	s.String(&o.tls.ServerName, "tls-server-name", "", "name expected in the server certificate (default the host of -server)")
	s.Bool(&o.tls.InsecureSkipVerify, "tls-insecure-skip-verify", false, "do not verify the server's certificate (testing only)")
	o.inputs.Declare(s)
	s.String(&o.logLevel, "log-level", "info", "debug, info, warn or error")
	s.Bool(&o.showVersion, "version", false, "print the version and exit")
}

// tlsEnabled reports whether any TLS option is set.
func (o *agentOptions) tlsEnabled() bool {
	return o.tlsOn || o.tls != (agent.TLSOptions{})
}

// finish fills what the options leave to the environment and the TLS dial.
func (o *agentOptions) finish() error {
	if o.cfg.Token == "" {
		o.cfg.Token = os.Getenv("HAWK_TOKEN")
	}
	if len(o.cfg.Servers) == 0 {
		o.cfg.Servers = []string{"127.0.0.1:9876"}
	}
	if !o.tlsEnabled() {
		return nil
	}
	c, err := o.tls.TLSConfig()
	if err != nil {
		return err
	}
	o.cfg.Dial = agent.TLSDial(c, 10*time.Second)
	return nil
}

// serversValue is -server: each use adds the addresses of a comma-separated
// list.
type serversValue []string

func (v *serversValue) Set(s string) error {
	for _, a := range strings.Split(s, ",") {
		if a = strings.TrimSpace(a); a != "" {
			*v = append(*v, a)
		}
	}
	return nil
}
func (v *serversValue) String() string { return strings.Join(*v, ",") }

// labelsValue is -label name=value.
type labelsValue []wire.Label

func (v *labelsValue) Set(s string) error {
	name, value, ok := strings.Cut(s, "=")
	if !ok || name == "" {
		return fmt.Errorf("want name=value, got %q", s)
	}
	*v = append(*v, wire.Label{Name: name, Value: value})
	return nil
}

func (v *labelsValue) String() string {
	var b []string
	for _, l := range *v {
		b = append(b, l.Name+"="+l.Value)
	}
	return strings.Join(b, ",")
}

// collectorValue is -collector.NAME (on) or -no-collector.NAME (off): a
// boolean flag; in YAML "collector.cpu: false" turns cpu off as well.
type collectorValue struct {
	enable map[string]bool
	name   string
	on     bool
}

func (v *collectorValue) IsBoolFlag() bool { return true }
func (v *collectorValue) String() string   { return "" }
func (v *collectorValue) Set(s string) error {
	b, err := strconv.ParseBool(s)
	if err != nil {
		return err
	}
	v.enable[v.name] = b == v.on
	return nil
}

type int64Value int64

func (v *int64Value) Set(s string) error {
	n, err := strconv.ParseInt(strings.TrimSpace(s), 10, 64)
	if err != nil {
		return err
	}
	*v = int64Value(n)
	return nil
}
func (v *int64Value) String() string { return strconv.FormatInt(int64(*v), 10) }

// restartOnly lists the options that differ between a and b and only take
// effect at start: everything but the inputs and the log level.
func restartOnly(a, b *agentOptions) []string {
	var changed []string
	va, vb := optionValues(a), optionValues(b)
	for name, v := range va {
		if vb[name] != v {
			changed = append(changed, name)
		}
	}
	sort.Strings(changed)
	return changed
}

// optionValues returns the text of every restart-only option of o.
func optionValues(o *agentOptions) map[string]string {
	return map[string]string{
		"server": strings.Join(o.cfg.Servers, ","), "interval": o.cfg.Interval.String(), "spool": o.cfg.SpoolDir,
		"spool-max-bytes": strconv.FormatInt(o.cfg.SpoolMax, 10), "spool-max-age": o.cfg.SpoolAge.String(),
		"spool-sync-always": strconv.FormatBool(o.cfg.SpoolSyncAlways), "textfile-dir": o.cfg.Collect.TextfileDir,
		"job": o.cfg.Job, "instance": o.cfg.Instance, "hostname": o.cfg.Hostname,
		"label": fmt.Sprint(o.cfg.Labels), "collector.*": fmt.Sprint(o.cfg.Collect.Enable),
		"tls": fmt.Sprint(o.tlsOn, o.tls),
	}
}
