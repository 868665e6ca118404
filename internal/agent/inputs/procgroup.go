package inputs

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/user"
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
			if d.Username == "" && d.user != nil {
				d.Username = d.user()
			}
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
	user                             func() string // fills Username when a name uses it
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
func (m *procMatcher) match(comm string, argv []string, pid int, user func() string) (string, bool) {
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
	return m.name.execute(&procTemplateData{Comm: comm, ExeBase: exeBase, ExeFull: exeFull, PID: pid, Matches: matches, user: user}), true
}

// procKey tells a process from a later one reusing its PID.
type procKey struct {
	pid   int
	start uint64
}

// The counters a group sums over its processes, in procCounters.c and
// groupStats.total.
const (
	cUser = iota
	cSystem
	cRead
	cWrite
	cMinorFaults
	cMajorFaults
	cCtxVoluntary
	cCtxNonvoluntary
	nCounters
)

// procCounters are a process's cumulative counters at the last run, and
// the group it was counted in.
type procCounters struct {
	c     [nCounters]float64
	group string
	child bool // in its group as a descendant of a member, not by a matcher
}

// The states process-exporter reports, from the state letter of
// /proc/PID/stat: R running, S sleeping, D waiting (uninterruptible),
// Z zombie, anything else other.
const (
	stRunning = iota
	stSleeping
	stWaiting
	stZombie
	stOther
	nStates
)

var stateNames = [nStates]string{"Running", "Sleeping", "Waiting", "Zombie", "Other"}

func procState(b byte) int {
	switch b {
	case 'R':
		return stRunning
	case 'S':
		return stSleeping
	case 'D':
		return stWaiting
	case 'Z':
		return stZombie
	}
	return stOther
}

type groupStats struct {
	procs, threads, fds float64
	rss, vsz, swap      float64
	pss, swapPss        float64 // from smaps_rollup
	worstFDRatio        float64
	oldest              float64
	states              [nStates]float64
	total               [nCounters]float64 // running totals, never decreasing
	seen                bool
}

// ProcessOptions are the process groups' settings beyond the config
// file: process-exporter's -children and -gather-smaps.
type ProcessOptions struct {
	Children bool // a process no matcher takes joins its nearest ancestor's group
	Smaps    bool // read smaps_rollup for the proportional memory series
}

// procGroups gathers process-exporter's namedprocess_namegroup_* series.
type procGroups struct {
	path     string
	procPath string
	matchers []procMatcher
	opts     ProcessOptions
	interval time.Duration
	prev     map[procKey]procCounters
	groups   map[string]*groupStats
	scan     []procScan
	byPID    map[int]int // index in scan
	users    map[string]string
	buf      []byte
	bootTime float64
	failures map[string]uint64
}

// procScan is what the first pass over /proc learns of one process.
type procScan struct {
	key     procKey
	ppid    int
	comm    string
	state   byte
	num     [22]float64 // the numeric fields of stat after the command that are used
	group   string
	grouped bool
	child   bool
	walked  bool // the ancestor walk has run for it
}

func newProcGroups(path string, interval time.Duration, opts ProcessOptions) (*procGroups, error) {
	ms, err := loadProcessConfig(path)
	if err != nil {
		return nil, err
	}
	return &procGroups{path: path, procPath: "/proc", matchers: ms, opts: opts, interval: interval, prev: map[procKey]procCounters{},
		groups: map[string]*groupStats{}, byPID: map[int]int{}, users: map[string]string{}, buf: make([]byte, 4096), failures: map[string]uint64{}}, nil
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
		*g = groupStats{total: g.total, seen: g.seen}
	}
	d, err := os.Open(p.procPath)
	if err != nil {
		p.failures["error"]++
		return appendFailures(nil, p.failures, p.kind(), p.path, now.UnixMilli())
	}
	names, _ := d.Readdirnames(-1)
	d.Close()
	p.scan = p.scan[:0]
	clear(p.byPID)
	for _, n := range names {
		pid, err := strconv.Atoi(n)
		if err != nil {
			continue
		}
		p.scanProc(pid)
	}
	if p.opts.Children {
		for i := range p.scan {
			p.inherit(i, 0)
		}
	}
	cur := make(map[procKey]procCounters, len(p.prev))
	for i := range p.scan {
		if p.scan[i].grouped {
			p.count(&p.scan[i], cur)
		}
	}
	p.prev = cur
	return p.samples(now)
}

// scanProc reads a process's stat and command line and matches it.
func (p *procGroups) scanProc(pid int) {
	dir := filepath.Join(p.procPath, strconv.Itoa(pid))
	stat := p.read(filepath.Join(dir, "stat"))
	i, j := bytes.IndexByte(stat, '('), bytes.LastIndexByte(stat, ')')
	if i < 0 || j < i {
		return
	}
	f := bytes.Fields(stat[j+1:])
	if len(f) < 22 || len(f[0]) != 1 {
		return
	}
	s := procScan{comm: string(stat[i+1 : j]), state: f[0][0]}
	ppid, _ := strconv.Atoi(string(f[1]))
	s.ppid = ppid
	// Fields after the command (state is f[0], ppid f[1]): minflt 7,
	// majflt 9, utime 11, stime 12, num_threads 17, starttime 19,
	// vsize 20, rss 21. Parsed now: the buffer is reused by the next read.
	for _, k := range []int{7, 9, 11, 12, 17, 19, 20, 21} {
		v, _ := strconv.ParseUint(string(f[k]), 10, 64)
		s.num[k] = float64(v)
	}
	s.key = procKey{pid, uint64(s.num[19])}
	cmd := p.read(filepath.Join(dir, "cmdline"))
	var argv []string
	if len(cmd) > 0 {
		for _, a := range bytes.Split(bytes.TrimRight(cmd, "\x00"), []byte{0}) {
			argv = append(argv, string(a))
		}
	}
	user := func() string { return p.username(filepath.Join(dir, "status")) }
	for k := range p.matchers {
		if s.group, s.grouped = p.matchers[k].match(s.comm, argv, pid, user); s.grouped {
			break
		}
	}
	p.byPID[pid] = len(p.scan)
	p.scan = append(p.scan, s)
}

// username returns the name of the effective user of a process from its
// status file, or the number if the user has no name (as process-exporter
// names groups by {{.Username}}). Names are looked up once per user id.
func (p *procGroups) username(statusPath string) string {
	st := p.read(statusPath)
	i := bytes.Index(st, []byte("\nUid:"))
	if i < 0 {
		return ""
	}
	f := bytes.Fields(st[i+len("\nUid:"):])
	if len(f) < 2 {
		return ""
	}
	uid := string(f[1])
	if name, ok := p.users[uid]; ok {
		return name
	}
	name := uid
	if u, err := user.LookupId(uid); err == nil {
		name = u.Username
	}
	if len(p.users) < maxUsers {
		p.users[uid] = name
	}
	return name
}

// maxUsers bounds the user name cache.
const maxUsers = 1024

// maxAncestry bounds the walk up the parent chain.
const maxAncestry = 64

// inherit puts an unmatched process into the group of its nearest
// ancestor that has one, as process-exporter's -children does. A
// process once counted as a child stays in that group, as there, even
// after its parent ends. It returns the group, ok false if none.
func (p *procGroups) inherit(i, depth int) (string, bool) {
	s := &p.scan[i]
	if s.grouped || s.walked {
		return s.group, s.grouped
	}
	s.walked = true
	if old, ok := p.prev[s.key]; ok && old.child {
		s.group, s.grouped, s.child = old.group, true, true
		return s.group, true
	}
	j, ok := p.byPID[s.ppid]
	if !ok || depth >= maxAncestry || s.ppid == s.key.pid {
		return "", false
	}
	g, ok := p.inherit(j, depth+1)
	if ok {
		s = &p.scan[i]
		s.group, s.grouped, s.child = g, true, true
	}
	return g, ok
}

// count reads the rest of a grouped process and adds it to its group.
func (p *procGroups) count(s *procScan, cur map[procKey]procCounters) {
	dir := filepath.Join(p.procPath, strconv.Itoa(s.key.pid))
	c := procCounters{group: s.group, child: s.child}
	c.c[cUser], c.c[cSystem] = s.num[11]/userHZ, s.num[12]/userHZ
	c.c[cMinorFaults], c.c[cMajorFaults] = s.num[7], s.num[9]
	io := p.read(filepath.Join(dir, "io"))
	c.c[cRead], c.c[cWrite] = field(io, "read_bytes:"), field(io, "write_bytes:")
	status := p.read(filepath.Join(dir, "status"))
	swap := field(status, "VmSwap:") * 1024
	c.c[cCtxVoluntary], c.c[cCtxNonvoluntary] = field(status, "voluntary_ctxt_switches:"), field(status, "nonvoluntary_ctxt_switches:")
	g := p.groups[s.group]
	if g == nil {
		g = &groupStats{}
		p.groups[s.group] = g
	}
	// Counters grow by what each process did since the last run; a process
	// seen for the first time after the first run counts whole, as it
	// started since.
	old, had := p.prev[s.key]
	for k := range c.c {
		if had && old.group == s.group {
			g.total[k] += c.c[k] - old.c[k]
		} else {
			g.total[k] += c.c[k]
		}
	}
	cur[s.key] = c
	g.procs++
	p.countStates(g, dir, s)
	g.threads += s.num[17]
	g.vsz += s.num[20]
	g.rss += s.num[21] * float64(os.Getpagesize())
	g.swap += swap
	st := p.bootTime + s.num[19]/userHZ
	if g.oldest == 0 || st < g.oldest {
		g.oldest = st
	}
	if fds, err := os.ReadDir(filepath.Join(dir, "fd")); err == nil {
		g.fds += float64(len(fds))
		if lim := openFilesLimit(p.read(filepath.Join(dir, "limits"))); lim > 0 {
			g.worstFDRatio = max(g.worstFDRatio, float64(len(fds))/lim)
		}
	}
	if p.opts.Smaps {
		sm := p.read(filepath.Join(dir, "smaps_rollup"))
		g.pss += field(sm, "Pss:") * 1024
		g.swapPss += field(sm, "SwapPss:") * 1024
	}
}

// countStates adds a process's threads to the group's states, as
// process-exporter counts them: one per thread, from each task's stat (a
// process of one thread is its own task).
func (p *procGroups) countStates(g *groupStats, dir string, s *procScan) {
	if s.num[17] <= 1 {
		g.states[procState(s.state)]++
		return
	}
	d, err := os.Open(filepath.Join(dir, "task"))
	if err != nil {
		g.states[procState(s.state)]++
		return
	}
	tids, _ := d.Readdirnames(-1)
	d.Close()
	n := 0
	for _, tid := range tids {
		stat := p.read(filepath.Join(dir, "task", tid, "stat"))
		j := bytes.LastIndexByte(stat, ')')
		if j < 0 || j+2 >= len(stat) {
			continue
		}
		g.states[procState(stat[j+2])]++
		n++
	}
	if n == 0 { // the tasks ended between the reads
		g.states[procState(s.state)]++
	}
}

// openFilesLimit returns the soft limit on open files in a
// /proc/PID/limits file, 0 if it is missing or unlimited.
func openFilesLimit(b []byte) float64 {
	i := bytes.Index(b, []byte("Max open files"))
	if i < 0 {
		return 0
	}
	f := bytes.Fields(b[i+len("Max open files"):])
	if len(f) == 0 {
		return 0
	}
	v, err := strconv.ParseUint(string(f[0]), 10, 64)
	if err != nil {
		return 0
	}
	return float64(v)
}

func (p *procGroups) samples(now time.Time) []Sample {
	ms := now.UnixMilli()
	var out []Sample
	add := func(name, help string, typ wire.MetricType, group string, v float64, extra ...wire.Label) {
		ls := append([]wire.Label{{Name: "groupname", Value: group}}, extra...)
		out = append(out, Sample{Name: name, Help: help, Type: typ, Labels: ls, Own: true, T: ms, V: v})
	}
	l := func(name, value string) wire.Label { return wire.Label{Name: name, Value: value} }
	for _, name := range sortedKeys(p.groups) {
		g := p.groups[name]
		g.seen = true
		const pre = "namedprocess_namegroup_"
		add(pre+"num_procs", "processes in the group", wire.TypeGauge, name, g.procs)
		add(pre+"cpu_seconds_total", "CPU time of the group's processes, by mode", wire.TypeCounter, name, g.total[cUser], l("mode", "user"))
		add(pre+"cpu_seconds_total", "CPU time of the group's processes, by mode", wire.TypeCounter, name, g.total[cSystem], l("mode", "system"))
		add(pre+"read_bytes_total", "bytes the group's processes read from storage", wire.TypeCounter, name, g.total[cRead])
		add(pre+"write_bytes_total", "bytes the group's processes wrote to storage", wire.TypeCounter, name, g.total[cWrite])
		add(pre+"major_page_faults_total", "page faults of the group's processes that needed I/O", wire.TypeCounter, name, g.total[cMajorFaults])
		add(pre+"minor_page_faults_total", "page faults of the group's processes served without I/O", wire.TypeCounter, name, g.total[cMinorFaults])
		add(pre+"context_switches_total", "context switches of the group's processes, voluntary or not", wire.TypeCounter, name, g.total[cCtxVoluntary], l("ctxswitchtype", "voluntary"))
		add(pre+"context_switches_total", "context switches of the group's processes, voluntary or not", wire.TypeCounter, name, g.total[cCtxNonvoluntary], l("ctxswitchtype", "nonvoluntary"))
		add(pre+"memory_bytes", "memory of the group's processes, by kind", wire.TypeGauge, name, g.rss, l("memtype", "resident"))
		add(pre+"memory_bytes", "memory of the group's processes, by kind", wire.TypeGauge, name, g.vsz, l("memtype", "virtual"))
		add(pre+"memory_bytes", "memory of the group's processes, by kind", wire.TypeGauge, name, g.swap, l("memtype", "swapped"))
		if p.opts.Smaps {
			add(pre+"memory_bytes", "memory of the group's processes, by kind", wire.TypeGauge, name, g.pss, l("memtype", "proportionalResident"))
			add(pre+"memory_bytes", "memory of the group's processes, by kind", wire.TypeGauge, name, g.swapPss, l("memtype", "proportionalSwapped"))
		}
		add(pre+"open_filedesc", "file descriptors the group's processes hold open", wire.TypeGauge, name, g.fds)
		add(pre+"worst_fd_ratio", "highest ratio, among the group's processes, of open file descriptors to the soft limit", wire.TypeGauge, name, g.worstFDRatio)
		add(pre+"num_threads", "threads of the group's processes", wire.TypeGauge, name, g.threads)
		add(pre+"oldest_start_time_seconds", "Unix time at which the group's oldest process started", wire.TypeGauge, name, g.oldest)
		for k, st := range stateNames {
			add(pre+"states", "threads of the group's processes in each scheduler state", wire.TypeGauge, name, g.states[k], l("state", st))
		}
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
