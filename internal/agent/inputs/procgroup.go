package inputs

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"

	"hawk/internal/wire"
)

// processConfig is process-exporter's configuration file: process_names,
// a list of matchers. A process belongs to the first one it matches; all
// the selectors an item gives must match (comm and exe: any of their
// strings; cmdline: every regular expression).
type processConfig struct {
	ProcessNames []struct {
		Name    string   `yaml:"name"`
		Comm    []string `yaml:"comm"`
		Exe     []string `yaml:"exe"`
		Cmdline []string `yaml:"cmdline"`
	} `yaml:"process_names"`
}

type procMatcher struct {
	name    nameTemplate
	comm    map[string]bool
	exe     []string
	cmdline []*regexp.Regexp
}

// nameTemplate is a group's name as process-exporter writes it, a Go
// template: text and the actions {{.Comm}}, {{.ExeBase}}, {{.ExeFull}},
// {{.Username}}, {{.PID}} and {{.Matches.NAME}}. Those are read here
// rather than with text/template, whose reflection kept every exported
// method of the agent in its binary (2.3 MB of 13.7, and their pages in
// its RSS); any other action is refused when the file is read.
type nameTemplate []namePart

// namePart is literal text, or a variable (field, and key for Matches).
type namePart struct {
	lit, field, key string
}

var nameFields = map[string]bool{"Comm": true, "ExeBase": true, "ExeFull": true, "Username": true, "PID": true}

func parseNameTemplate(s string) (nameTemplate, error) {
	var t nameTemplate
	for s != "" {
		i := strings.Index(s, "{{")
		if i < 0 {
			t = append(t, namePart{lit: s})
			break
		}
		if i > 0 {
			t = append(t, namePart{lit: s[:i]})
		}
		s = s[i+2:]
		j := strings.Index(s, "}}")
		if j < 0 {
			return nil, errors.New("unclosed action")
		}
		act := strings.TrimSpace(s[:j])
		s = s[j+2:]
		f, ok := strings.CutPrefix(act, ".")
		switch key, isMatch := strings.CutPrefix(f, "Matches."); {
		case ok && nameFields[f]:
			t = append(t, namePart{field: f})
		case ok && isMatch && key != "" && labelNameLen([]byte(key)) == len(key):
			t = append(t, namePart{field: "Matches", key: key})
		default:
			return nil, fmt.Errorf("unsupported action {{%s}}: a name takes {{.Comm}}, {{.ExeBase}}, {{.ExeFull}}, {{.Username}}, {{.PID}} and {{.Matches.NAME}}", act)
		}
	}
	return t, nil
}

func (t nameTemplate) execute(d *procTemplateData) string {
	if len(t) == 1 && t[0].field == "Comm" {
		return d.Comm
	}
	var b strings.Builder
	for _, p := range t {
		switch p.field {
		case "":
			b.WriteString(p.lit)
		case "Comm":
			b.WriteString(d.Comm)
		case "ExeBase":
			b.WriteString(d.ExeBase)
		case "ExeFull":
			b.WriteString(d.ExeFull)
		case "Username":
			b.WriteString(d.Username)
		case "PID":
			b.WriteString(strconv.Itoa(d.PID))
		case "Matches":
			b.WriteString(d.Matches[p.key])
		}
	}
	return b.String()
}

// procTemplateData are the variables of a name template.
type procTemplateData struct {
	Comm, ExeBase, ExeFull, Username string
	PID                              int
	Matches                          map[string]string
}

func loadProcessConfig(path string) ([]procMatcher, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("process-config: %w", err)
	}
	var pc processConfig
	if err := yaml.Unmarshal(b, &pc); err != nil {
		return nil, fmt.Errorf("process-config %s: %w", path, err)
	}
	var ms []procMatcher
	for i, p := range pc.ProcessNames {
		if len(p.Comm)+len(p.Exe)+len(p.Cmdline) == 0 {
			return nil, fmt.Errorf("process-config %s: process_names[%d]: no comm, exe or cmdline selector", path, i)
		}
		name := p.Name
		if name == "" {
			name = "{{.ExeBase}}"
		}
		t, err := parseNameTemplate(name)
		if err != nil {
			return nil, fmt.Errorf("process-config %s: process_names[%d]: name: %w", path, i, err)
		}
		m := procMatcher{name: t, exe: p.Exe}
		if len(p.Comm) > 0 {
			m.comm = map[string]bool{}
			for _, c := range p.Comm {
				m.comm[c] = true
			}
		}
		for _, re := range p.Cmdline {
			r, err := regexp.Compile(re)
			if err != nil {
				return nil, fmt.Errorf("process-config %s: process_names[%d]: cmdline: %w", path, i, err)
			}
			m.cmdline = append(m.cmdline, r)
		}
		ms = append(ms, m)
	}
	return ms, nil
}

func checkProcessConfig(path string) error {
	_, err := loadProcessConfig(path)
	return err
}

// match returns the group name of a process, ok false if m does not take it.
func (m *procMatcher) match(comm string, argv []string, pid int) (string, bool) {
	if m.comm != nil && !m.comm[comm] {
		return "", false
	}
	exeFull := ""
	if len(argv) > 0 {
		exeFull = argv[0]
	}
	exeBase := filepath.Base(exeFull)
	if len(m.exe) > 0 {
		ok := false
		for _, e := range m.exe {
			if (strings.Contains(e, "/") && e == exeFull) || (!strings.Contains(e, "/") && e == exeBase) {
				ok = true
				break
			}
		}
		if !ok {
			return "", false
		}
	}
	var matches map[string]string
	if len(m.cmdline) > 0 {
		cl := strings.Join(argv, " ")
		matches = map[string]string{}
		for _, re := range m.cmdline {
			sub := re.FindStringSubmatch(cl)
			if sub == nil {
				return "", false
			}
			for i, n := range re.SubexpNames() {
				if n != "" {
					matches[n] = sub[i]
				}
			}
		}
	}
	return m.name.execute(&procTemplateData{Comm: comm, ExeBase: exeBase, ExeFull: exeFull, PID: pid, Matches: matches}), true
}

// procKey tells a process from a later one reusing its PID.
type procKey struct {
	pid   int
	start uint64
}

// procCounters are a process's cumulative counters at the last run.
type procCounters struct {
	user, system, read, write float64
	group                     string
}

type groupStats struct {
	procs, threads, fds       float64
	rss, vsz, swap            float64
	oldest                    float64
	user, system, read, write float64 // running totals, never decreasing
	seen                      bool
}

// procGroups gathers process-exporter's namedprocess_namegroup_* series.
type procGroups struct {
	path     string
	procPath string
	matchers []procMatcher
	interval time.Duration
	prev     map[procKey]procCounters
	groups   map[string]*groupStats
	buf      []byte
	bootTime float64
	failures map[string]uint64
}

func newProcGroups(path string, interval time.Duration) (*procGroups, error) {
	ms, err := loadProcessConfig(path)
	if err != nil {
		return nil, err
	}
	return &procGroups{path: path, procPath: "/proc", matchers: ms, interval: interval, prev: map[procKey]procCounters{},
		groups: map[string]*groupStats{}, buf: make([]byte, 4096), failures: map[string]uint64{}}, nil
}

func (p *procGroups) id() string           { return p.path }
func (p *procGroups) kind() string         { return "process" }
func (p *procGroups) every() time.Duration { return p.interval }
func (p *procGroups) close()               {}

const userHZ = 100

func (p *procGroups) gather(_ context.Context, now time.Time) []Sample {
	if p.bootTime == 0 {
		p.bootTime = readBootTime(p.procPath)
	}
	for _, g := range p.groups {
		g.procs, g.threads, g.fds, g.rss, g.vsz, g.swap, g.oldest = 0, 0, 0, 0, 0, 0, 0
	}
	d, err := os.Open(p.procPath)
	if err != nil {
		p.failures["error"]++
		return appendFailures(nil, p.failures, p.kind(), p.path, now.UnixMilli())
	}
	names, _ := d.Readdirnames(-1)
	d.Close()
	cur := make(map[procKey]procCounters, len(p.prev))
	for _, n := range names {
		pid, err := strconv.Atoi(n)
		if err != nil {
			continue
		}
		p.proc(pid, cur)
	}
	p.prev = cur
	return p.samples(now)
}

// proc reads one process and adds it to its group.
func (p *procGroups) proc(pid int, cur map[procKey]procCounters) {
	dir := filepath.Join(p.procPath, strconv.Itoa(pid))
	stat := p.read(filepath.Join(dir, "stat"))
	i, j := bytes.IndexByte(stat, '('), bytes.LastIndexByte(stat, ')')
	if i < 0 || j < i {
		return
	}
	comm := string(stat[i+1 : j])
	f := bytes.Fields(stat[j+1:])
	if len(f) < 22 {
		return
	}
	// Fields after the command (state is f[0]): utime 11, stime 12,
	// num_threads 17, starttime 19, vsize 20, rss 21. Parsed now: the
	// buffer is reused by the next read.
	var num [22]float64
	for _, k := range []int{11, 12, 17, 19, 20, 21} {
		v, _ := strconv.ParseUint(string(f[k]), 10, 64)
		num[k] = float64(v)
	}
	u := func(k int) float64 { return num[k] }
	cmd := p.read(filepath.Join(dir, "cmdline"))
	var argv []string
	for _, a := range bytes.Split(bytes.TrimRight(cmd, "\x00"), []byte{0}) {
		argv = append(argv, string(a))
	}
	if len(cmd) == 0 {
		argv = nil
	}
	group, ok := "", false
	for k := range p.matchers {
		if group, ok = p.matchers[k].match(comm, argv, pid); ok {
			break
		}
	}
	if !ok {
		return
	}
	start := u(19)
	key := procKey{pid, uint64(start)}
	c := procCounters{user: u(11) / userHZ, system: u(12) / userHZ, group: group}
	io := p.read(filepath.Join(dir, "io"))
	c.read, c.write = field(io, "read_bytes:"), field(io, "write_bytes:")
	g := p.groups[group]
	if g == nil {
		g = &groupStats{}
		p.groups[group] = g
	}
	// Counters grow by what each process did since the last run; a process
	// seen for the first time after the first run counts whole, as it
	// started since.
	old, had := p.prev[key]
	if had && old.group == group {
		g.user += c.user - old.user
		g.system += c.system - old.system
		g.read += c.read - old.read
		g.write += c.write - old.write
	} else {
		g.user += c.user
		g.system += c.system
		g.read += c.read
		g.write += c.write
	}
	cur[key] = c
	g.procs++
	g.threads += u(17)
	g.vsz += u(20)
	g.rss += u(21) * float64(os.Getpagesize())
	status := p.read(filepath.Join(dir, "status"))
	g.swap += field(status, "VmSwap:") * 1024
	st := p.bootTime + start/userHZ
	if g.oldest == 0 || st < g.oldest {
		g.oldest = st
	}
	if fds, err := os.ReadDir(filepath.Join(dir, "fd")); err == nil {
		g.fds += float64(len(fds))
	}
}

func (p *procGroups) samples(now time.Time) []Sample {
	ms := now.UnixMilli()
	var out []Sample
	add := func(name, help string, typ wire.MetricType, group string, v float64, extra ...wire.Label) {
		ls := append([]wire.Label{{Name: "groupname", Value: group}}, extra...)
		out = append(out, Sample{Name: name, Help: help, Type: typ, Labels: ls, Own: true, T: ms, V: v})
	}
	for _, name := range sortedKeys(p.groups) {
		g := p.groups[name]
		g.seen = true
		const pre = "namedprocess_namegroup_"
		add(pre+"num_procs", "number of processes in this group", wire.TypeGauge, name, g.procs)
		add(pre+"cpu_seconds_total", "Cpu user usage in seconds", wire.TypeCounter, name, g.user, wire.Label{Name: "mode", Value: "user"})
		add(pre+"cpu_seconds_total", "Cpu user usage in seconds", wire.TypeCounter, name, g.system, wire.Label{Name: "mode", Value: "system"})
		add(pre+"read_bytes_total", "number of bytes read by this group", wire.TypeCounter, name, g.read)
		add(pre+"write_bytes_total", "number of bytes written by this group", wire.TypeCounter, name, g.write)
		add(pre+"memory_bytes", "number of bytes of memory in use", wire.TypeGauge, name, g.rss, wire.Label{Name: "memtype", Value: "resident"})
		add(pre+"memory_bytes", "number of bytes of memory in use", wire.TypeGauge, name, g.vsz, wire.Label{Name: "memtype", Value: "virtual"})
		add(pre+"memory_bytes", "number of bytes of memory in use", wire.TypeGauge, name, g.swap, wire.Label{Name: "memtype", Value: "swapped"})
		add(pre+"open_filedesc", "number of open file descriptors for this group", wire.TypeGauge, name, g.fds)
		add(pre+"num_threads", "Number of threads", wire.TypeGauge, name, g.threads)
		add(pre+"oldest_start_time_seconds", "start time in seconds since 1970/01/01 of oldest process in group", wire.TypeGauge, name, g.oldest)
	}
	return appendFailures(out, p.failures, p.kind(), p.path, ms)
}

// read returns a /proc file's content in p's reused buffer; empty if it
// cannot be read (the process ended, or the agent may not read it).
func (p *procGroups) read(path string) []byte {
	f, err := os.Open(path)
	if err != nil {
		return nil
	}
	defer f.Close()
	n := 0
	for {
		if n == len(p.buf) {
			p.buf = append(p.buf, make([]byte, len(p.buf))...)
		}
		m, err := f.Read(p.buf[n:])
		n += m
		if err != nil || m == 0 {
			break
		}
	}
	return p.buf[:n:n]
}

// field returns the number after key in a "key: value" /proc file.
func field(b []byte, key string) float64 {
	i := bytes.Index(b, []byte(key))
	if i < 0 {
		return 0
	}
	rest := bytes.TrimLeft(b[i+len(key):], " \t")
	if j := bytes.IndexAny(rest, " \n"); j >= 0 {
		rest = rest[:j]
	}
	v, _ := strconv.ParseFloat(string(rest), 64)
	return v
}

func readBootTime(procPath string) float64 {
	b, err := os.ReadFile(filepath.Join(procPath, "stat"))
	if err != nil {
		return 0
	}
	return field(b, "btime")
}
