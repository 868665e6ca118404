package collect

import (
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"time"
)

// ErrNoData is returned by a collector whose source does not exist on this
// host (no PSI, no /proc/schedstat...). It is not a failure: the Set counts it
// apart from errors and logs it at debug level only.
var ErrNoData = errors.New("collect: no data")

// Config says where a Set reads from and which collectors it runs. The zero
// value reads the live /proc, /sys and / with node_exporter's default set of
// collectors.
type Config struct {
	ProcPath   string // procfs mount point; default "/proc"
	SysPath    string // sysfs mount point; default "/sys"
	RootfsPath string // host root for statfs and /etc; default "/"

	// TextfileDir is the directory whose *.prom files the textfile collector
	// reads. Empty disables reading (only node_textfile_scrape_error is sent).
	TextfileDir string

	// Enable overrides the per-collector defaults listed by Collectors:
	// Enable["cpu"] = false turns cpu off, Enable["x"] = true turns x on. An
	// unknown name is an error from New.
	Enable map[string]bool

	// Now is the clock of the time collector; nil means time.Now.
	Now func() time.Time

	seams sysSeams // system calls, replaced by tests; see seams_linux.go
}

func (c *Config) setDefaults() {
	if c.ProcPath == "" {
		c.ProcPath = "/proc"
	}
	if c.SysPath == "" {
		c.SysPath = "/sys"
	}
	if c.RootfsPath == "" {
		c.RootfsPath = "/"
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	c.seams.setDefaults()
}

// Info describes one collector.
type Info struct {
	Name        string // node_exporter's collector name, e.g. "meminfo"
	Default     bool   // enabled unless Config.Enable says otherwise
	Description string // one line
}

// collector is one source of metrics. update sends its samples through e and
// returns ErrNoData (possibly wrapped) when its source is absent. A
// collector is only ever called by one goroutine at a time, so it may keep
// buffers between calls.
type collector interface {
	update(e *emitter) error
}

type factory func(cfg *Config, logger *slog.Logger) (collector, error)

type registration struct {
	info Info
	new  factory
}

// registry holds every collector, filled by init functions; sorted by name
// in Collectors.
var registry = map[string]registration{}

// register adds a collector; it is called from init functions only.
func register(name string, def bool, desc string, f factory) {
	if _, dup := registry[name]; dup {
		panic("collect: collector registered twice: " + name)
	}
	registry[name] = registration{Info{name, def, desc}, f}
}

// Collectors lists every collector this build has, sorted by name.
func Collectors() []Info {
	out := make([]Info, 0, len(registry))
	for _, r := range registry {
		out = append(out, r.info)
	}
	slices.SortFunc(out, func(a, b Info) int {
		if a.Name < b.Name {
			return -1
		}
		if a.Name > b.Name {
			return 1
		}
		return 0
	})
	return out
}

// Stat counts the outcomes of one collector's runs.
type Stat struct {
	Name     string
	Runs     uint64 // calls of the collector
	Failures uint64 // runs that returned an error other than ErrNoData
	NoData   uint64 // runs that found their source absent
}

type entry struct {
	name string
	c    collector
	stat Stat
}

// Set runs the enabled collectors. It is safe for concurrent use; calls of
// Collect are serialised because collectors reuse their buffers.
type Set struct {
	mu      sync.Mutex // held during Collect and Stats
	logger  *slog.Logger
	entries []entry // enabled collectors in run order: by name, those that may block last
	em      emitter // reused label buffer and emit function
}

// New builds a Set from cfg. It fails on an unknown name in cfg.Enable or
// when a collector cannot be set up. A nil logger discards logs.
func New(cfg Config, logger *slog.Logger) (*Set, error) {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	cfg.setDefaults()
	for name := range cfg.Enable {
		if _, ok := registry[name]; !ok {
			return nil, fmt.Errorf("collect: unknown collector %q", name)
		}
	}
	s := &Set{logger: logger}
	for _, info := range Collectors() {
		on := info.Default
		if v, ok := cfg.Enable[info.Name]; ok {
			on = v
		}
		if !on {
			continue
		}
		c, err := registry[info.Name].new(&cfg, logger.With("collector", info.Name))
		if err != nil {
			return nil, fmt.Errorf("collect: set up collector %s: %w", info.Name, err)
		}
		s.entries = append(s.entries, entry{name: info.Name, c: c, stat: Stat{Name: info.Name}})
	}
	// Collectors whose system calls may block run last: see mayBlock.
	slices.SortStableFunc(s.entries, func(a, b entry) int {
		return cmpBool(mayBlock[a.name], mayBlock[b.name])
	})
	return s, nil
}

// mayBlock names the collectors that make system calls which may sleep:
// statfs(2) of every mount, reads of sensor drivers and regular files. The
// others read only procfs and sysfs, with raw system calls that the Go
// runtime does not see (fileReader.mayBlock). Running them first keeps the
// runtime's monitor thread asleep for most of a collection: the first
// ordinary system call wakes it, and from then on it polls every 20 µs
// until the process is idle again.
var mayBlock = map[string]bool{
	"filesystem": true, "hwmon": true, "os": true, "powersupplyclass": true, "textfile": true, "thermal_zone": true,
}

func cmpBool(a, b bool) int {
	switch {
	case a == b:
		return 0
	case a:
		return 1
	}
	return -1
}

// Enabled returns the names of the collectors the Set runs, sorted.
func (s *Set) Enabled() []string {
	out := make([]string, len(s.entries))
	for i := range s.entries {
		out[i] = s.entries[i].name
	}
	slices.Sort(out)
	return out
}

const (
	helpSuccess  = "node_exporter: Whether a collector succeeded."
	helpDuration = "node_exporter: Duration of a collector scrape."
)

// Collect runs every enabled collector in turn and calls emit for each
// sample, then node_scrape_collector_duration_seconds and
// node_scrape_collector_success for that collector. A failing collector is
// logged at debug level and counted; the others still run.
//
// The Metric passed to emit, and in particular its Labels slice, is only
// valid during the call: emit must copy what it keeps. emit must not call
// Collect.
func (s *Set) Collect(emit func(Metric)) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.em.fn = emit
	for i := range s.entries {
		en := &s.entries[i]
		start := time.Now()
		err := s.run(en)
		d := time.Since(start).Seconds()
		success := 1.0
		en.stat.Runs++
		switch {
		case err == nil:
		case errors.Is(err, ErrNoData):
			en.stat.NoData++
			success = 0 // as node_exporter
			s.logger.Debug("collector returned no data", "collector", en.name, "err", err)
		default:
			en.stat.Failures++
			success = 0
			s.logger.Debug("collector failed", "collector", en.name, "err", err)
		}
		s.em.gauge("node_scrape_collector_duration_seconds", helpDuration, d, Label{"collector", en.name})
		s.em.gauge("node_scrape_collector_success", helpSuccess, success, Label{"collector", en.name})
	}
	s.em.fn = nil
}

// run calls one collector, turning a panic into an error so that a bug in
// one collector cannot stop the agent.
func (s *Set) run(en *entry) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("collect: collector %s panicked: %v", en.name, r)
		}
	}()
	return en.c.update(&s.em)
}

// Stats returns a copy of the per-collector counters, sorted by name.
func (s *Set) Stats() []Stat {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]Stat, len(s.entries))
	for i := range s.entries {
		out[i] = s.entries[i].stat
	}
	slices.SortFunc(out, func(a, b Stat) int { return strings.Compare(a.Name, b.Name) })
	return out
}
