package inputs

import (
	"fmt"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"
	"text/template"
	"time"
)

func TestProcessGroups(t *testing.T) {
	conf := filepath.Join(t.TempDir(), "p.yml")
	os.WriteFile(conf, []byte(`process_names:
  - name: "sleepers-{{.Matches.secs}}"
    comm: [sleep]
    cmdline: ['^sleep (?P<secs>[0-9]+)$']
  - name: "{{.Comm}}"
    exe: [sleep]
  - comm: [nothing-has-this-name]
`), 0o644) //nolint:errcheck // read back below
	var cmds []*exec.Cmd
	for _, a := range []string{"301", "301", "302.5"} {
		c := exec.Command("sleep", a)
		if err := c.Start(); err != nil {
			t.Fatal(err)
		}
		cmds = append(cmds, c)
	}
	defer func() {
		for _, c := range cmds {
			c.Process.Kill() //nolint:errcheck // the children this test started, by PID
			c.Wait()         //nolint:errcheck // killed
		}
	}()
	p, err := newProcGroups(conf, time.Second, ProcessOptions{Children: true, Smaps: true})
	if err != nil {
		t.Fatal(err)
	}
	out := p.gather(t.Context(), time.Now())
	n := find(out, "namedprocess_namegroup_num_procs")
	// Other tests' sleep processes may exist on the machine: at least ours.
	if n["groupname=sleepers-301"].V < 2 || n["groupname=sleep"].V < 1 {
		t.Fatalf("num_procs %v", n)
	}
	if _, ok := n["groupname=nothing-has-this-name"]; ok {
		t.Error("a group with no process was reported")
	}
	mem := find(out, "namedprocess_namegroup_memory_bytes")
	if mem["groupname=sleepers-301,memtype=resident"].V <= 0 || mem["groupname=sleepers-301,memtype=virtual"].V <= 0 {
		t.Errorf("memory %v", mem)
	}
	thr := find(out, "namedprocess_namegroup_num_threads")
	if thr["groupname=sleepers-301"].V < 2 {
		t.Errorf("threads %v", thr)
	}
	old := find(out, "namedprocess_namegroup_oldest_start_time_seconds")["groupname=sleepers-301"].V
	if d := float64(time.Now().Unix()) - old; d < -2 || d > 60 {
		t.Errorf("oldest start %v, %v s ago", old, d)
	}
	for _, s := range out {
		if !s.Own || !strings.HasPrefix(s.Name, "namedprocess_namegroup_") {
			t.Errorf("sample %+v", s)
		}
	}
	// A process that ends does not make the group's counters go back.
	cpu1 := find(out, "namedprocess_namegroup_cpu_seconds_total")["groupname=sleepers-301,mode=user"].V
	cmds[0].Process.Kill() //nolint:errcheck // ours
	cmds[0].Wait()         //nolint:errcheck // killed
	out = p.gather(t.Context(), time.Now())
	if cpu2 := find(out, "namedprocess_namegroup_cpu_seconds_total")["groupname=sleepers-301,mode=user"].V; cpu2 < cpu1 {
		t.Errorf("cpu went from %v to %v", cpu1, cpu2)
	}
	if n := find(out, "namedprocess_namegroup_num_procs")["groupname=sleepers-301"].V; n < 1 {
		t.Errorf("num_procs after one ended: %v", n)
	}
}

func TestProcessConfigErrors(t *testing.T) {
	dir := t.TempDir()
	for name, doc := range map[string]string{
		"no-selector": "process_names:\n  - name: x\n",
		"bad-regexp":  "process_names:\n  - cmdline: ['(']\n",
		"bad-name":    "process_names:\n  - name: '{{'\n    comm: [a]\n",
	} {
		p := filepath.Join(dir, name)
		os.WriteFile(p, []byte(doc), 0o644) //nolint:errcheck // read back below
		if err := checkProcessConfig(p); err == nil {
			t.Errorf("%s accepted", name)
		}
	}
}

// TestNameTemplateLikeTextTemplate: the names process-exporter's
// templates give, as text/template (test-only here) gives them.
func TestNameTemplateLikeTextTemplate(t *testing.T) {
	d := procTemplateData{Comm: "nginx", ExeBase: "nginx", ExeFull: "/usr/sbin/nginx", Username: "www", PID: 42,
		Matches: map[string]string{"Cfg": "main", "x_1": "y"}}
	for _, s := range []string{"{{.Comm}}", "{{.ExeBase}}", "{{.ExeFull}}:{{.Matches.Cfg}}", "{{ .Username }}-{{.PID}}",
		"static", "", "{{.Matches.missing}}x", "a}}b{{.Matches.x_1}}"} {
		mine, err := parseNameTemplate(s)
		if err != nil {
			t.Fatalf("%q: %v", s, err)
		}
		ref := template.Must(template.New("n").Option("missingkey=zero").Parse(s))
		var b strings.Builder
		if err := ref.Execute(&b, d); err != nil {
			t.Fatal(err)
		}
		if got := mine.execute(&d); got != b.String() {
			t.Errorf("%q: %q, text/template gives %q", s, got, b.String())
		}
	}
	for _, s := range []string{"{{.Comm", "{{.StartTime}}", "{{if .Comm}}x{{end}}", "{{.Comm | printf \"%s\"}}", "{{- .Comm}}", "{{.Matches}}"} {
		if _, err := parseNameTemplate(s); err == nil {
			t.Errorf("%q accepted", s)
		}
	}
}

// fakeProc is a /proc tree of made-up processes for the process groups'
// arithmetic: what each file holds is chosen by the test.
type fakeProc struct {
	t    *testing.T
	root string
}

type fakeProcess struct {
	pid, ppid           int
	comm, cmdline       string
	state               byte
	minflt, majflt      int
	utime, stime, start int
	threads, rssPages   int
	read, write         int
	vol, nonvol         int
	fds, fdLimit        int
	pssKB, swapPssKB    int
	tasks               string // the state letter of each thread, if more than one
	euid                int
}

func newFakeProc(t *testing.T) *fakeProc {
	root := t.TempDir()
	if err := os.WriteFile(filepath.Join(root, "stat"), []byte("cpu  1 2 3\nbtime 1700000000\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	return &fakeProc{t, root}
}

func (f *fakeProc) put(p fakeProcess) {
	dir := filepath.Join(f.root, strconv.Itoa(p.pid))
	os.RemoveAll(dir) //nolint:errcheck // replaced below
	if err := os.MkdirAll(filepath.Join(dir, "fd"), 0o755); err != nil {
		f.t.Fatal(err)
	}
	files := map[string]string{
		"stat": fmt.Sprintf("%d (%s) %c %d 1 1 0 -1 0 %d 0 %d 0 %d %d 0 0 20 0 %d 0 %d 1000000 %d 0 0\n",
			p.pid, p.comm, p.state, p.ppid, p.minflt, p.majflt, p.utime, p.stime, p.threads, p.start, p.rssPages),
		"cmdline":      strings.ReplaceAll(p.cmdline, " ", "\x00") + "\x00",
		"io":           fmt.Sprintf("rchar: 1\nwchar: 2\nread_bytes: %d\nwrite_bytes: %d\n", p.read, p.write),
		"status":       fmt.Sprintf("Name:\t%s\nUid:\t1000\t%d\t0\t0\nVmSwap:\t       0 kB\nvoluntary_ctxt_switches:\t%d\nnonvoluntary_ctxt_switches:\t%d\n", p.comm, p.euid, p.vol, p.nonvol),
		"limits":       fmt.Sprintf("Limit                     Soft Limit           Hard Limit           Units     \nMax open files            %d                 524288               files     \n", p.fdLimit),
		"smaps_rollup": fmt.Sprintf("00400000-7fff [rollup]\nRss:  100 kB\nPss:  %d kB\nSwapPss:  %d kB\n", p.pssKB, p.swapPssKB),
	}
	for name, s := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(s), 0o644); err != nil {
			f.t.Fatal(err)
		}
	}
	for i, st := range p.tasks {
		tdir := filepath.Join(dir, "task", strconv.Itoa(p.pid+100*i))
		if err := os.MkdirAll(tdir, 0o755); err != nil {
			f.t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(tdir, "stat"), fmt.Appendf(nil, "%d (%s) %c %d\n", p.pid+100*i, p.comm, st, p.ppid), 0o644); err != nil {
			f.t.Fatal(err)
		}
	}
	for i := range p.fds {
		if err := os.WriteFile(filepath.Join(dir, "fd", strconv.Itoa(i)), nil, 0o644); err != nil {
			f.t.Fatal(err)
		}
	}
}

func (f *fakeProc) remove(pid int) {
	if err := os.RemoveAll(filepath.Join(f.root, strconv.Itoa(pid))); err != nil {
		f.t.Fatal(err)
	}
}

// TestProcessGroupsFromFakeProc checks every series against a /proc whose
// content the test chose: children join their ancestor's group and stay
// there when it ends, states, page faults, context switches, the worst
// descriptor ratio and the proportional memory.
func TestProcessGroupsFromFakeProc(t *testing.T) {
	fp := newFakeProc(t)
	conf := filepath.Join(t.TempDir(), "p.yml")
	os.WriteFile(conf, []byte("process_names:\n  - name: db\n    comm: [postgres]\n  - name: \"{{.Comm}}\"\n    comm: [cron]\n  - name: \"u-{{.Username}}\"\n    comm: [other]\n"), 0o644) //nolint:errcheck // read back below
	p, err := newProcGroups(conf, time.Second, ProcessOptions{Children: true, Smaps: true})
	if err != nil {
		t.Fatal(err)
	}
	p.procPath = fp.root
	// 10 postgres (matched) → 11 worker (child) → 12 helper (grandchild);
	// 20 cron (its own group) is a child of 10 too; 30 is unrelated.
	fp.put(fakeProcess{pid: 10, ppid: 1, comm: "postgres", cmdline: "postgres -D /db", state: 'S', minflt: 100, majflt: 3, utime: 200, stime: 100, start: 500, threads: 1, rssPages: 10, read: 4096, write: 8192, vol: 50, nonvol: 5, fds: 4, fdLimit: 1024, pssKB: 30, swapPssKB: 1})
	fp.put(fakeProcess{pid: 11, ppid: 10, comm: "worker", cmdline: "postgres: worker", state: 'R', minflt: 10, majflt: 1, utime: 50, stime: 50, start: 600, threads: 2, rssPages: 5, read: 1, write: 2, vol: 7, nonvol: 3, fds: 8, fdLimit: 16, pssKB: 20, tasks: "RS"})
	fp.put(fakeProcess{pid: 12, ppid: 11, comm: "helper", cmdline: "helper", state: 'D', minflt: 1, start: 700, threads: 1, fds: 1, fdLimit: 1024})
	fp.put(fakeProcess{pid: 20, ppid: 10, comm: "cron", cmdline: "cron", state: 'Z', start: 550, threads: 1, fdLimit: 1024})
	fp.put(fakeProcess{pid: 30, ppid: 1, comm: "other", cmdline: "other", state: 'S', start: 100, threads: 1, fdLimit: 1024})
	fp.put(fakeProcess{pid: 31, ppid: 1, comm: "other", cmdline: "other", state: 'S', start: 100, threads: 1, fdLimit: 1024, euid: 4242424})

	out := p.gather(t.Context(), time.Unix(1700001000, 0))
	want := map[string]float64{
		"namedprocess_namegroup_num_procs{groupname=db}":                                         3,
		"namedprocess_namegroup_num_procs{groupname=cron}":                                       1,
		"namedprocess_namegroup_num_threads{groupname=db}":                                       4,
		"namedprocess_namegroup_cpu_seconds_total{groupname=db,mode=user}":                       2.5,
		"namedprocess_namegroup_cpu_seconds_total{groupname=db,mode=system}":                     1.5,
		"namedprocess_namegroup_minor_page_faults_total{groupname=db}":                           111,
		"namedprocess_namegroup_major_page_faults_total{groupname=db}":                           4,
		"namedprocess_namegroup_context_switches_total{ctxswitchtype=voluntary,groupname=db}":    57,
		"namedprocess_namegroup_context_switches_total{ctxswitchtype=nonvoluntary,groupname=db}": 8,
		"namedprocess_namegroup_read_bytes_total{groupname=db}":                                  4097,
		"namedprocess_namegroup_write_bytes_total{groupname=db}":                                 8194,
		"namedprocess_namegroup_open_filedesc{groupname=db}":                                     13,
		"namedprocess_namegroup_worst_fd_ratio{groupname=db}":                                    0.5,
		"namedprocess_namegroup_memory_bytes{groupname=db,memtype=resident}":                     15 * float64(os.Getpagesize()),
		"namedprocess_namegroup_memory_bytes{groupname=db,memtype=proportionalResident}":         50 * 1024,
		"namedprocess_namegroup_memory_bytes{groupname=db,memtype=proportionalSwapped}":          1024,
		"namedprocess_namegroup_oldest_start_time_seconds{groupname=db}":                         1700000005,
		"namedprocess_namegroup_states{groupname=db,state=Running}":                              1,
		"namedprocess_namegroup_states{groupname=db,state=Sleeping}":                             2,
		"namedprocess_namegroup_states{groupname=db,state=Waiting}":                              1,
		"namedprocess_namegroup_states{groupname=db,state=Zombie}":                               0,
		"namedprocess_namegroup_states{groupname=cron,state=Zombie}":                             1,
	}
	checkSeries(t, out, want)
	got := seriesValues(out)
	if _, ok := got["namedprocess_namegroup_num_procs{groupname=helper}"]; ok {
		t.Error("a process in its ancestor's group made a group of its own")
	}
	// {{.Username}}: the effective user's name, its number without one.
	if got["namedprocess_namegroup_num_procs{groupname=u-root}"] != 1 || got["namedprocess_namegroup_num_procs{groupname=u-4242424}"] != 1 {
		t.Errorf("groups by user name: %v", got)
	}

	// The parent ends: its children stay in db (the worker is reparented
	// to 1), and the group's counters do not go back; the worker's grow.
	fp.remove(10)
	fp.put(fakeProcess{pid: 11, ppid: 1, comm: "worker", cmdline: "postgres: worker", state: 'S', minflt: 20, majflt: 1, utime: 150, stime: 50, start: 600, threads: 2, rssPages: 5, read: 1, write: 2, vol: 9, nonvol: 3, fds: 8, fdLimit: 16, tasks: "SS"})
	out = p.gather(t.Context(), time.Unix(1700001001, 0))
	checkSeries(t, out, map[string]float64{
		"namedprocess_namegroup_num_procs{groupname=db}":                                      2,
		"namedprocess_namegroup_cpu_seconds_total{groupname=db,mode=user}":                    3.5,
		"namedprocess_namegroup_minor_page_faults_total{groupname=db}":                        121,
		"namedprocess_namegroup_context_switches_total{ctxswitchtype=voluntary,groupname=db}": 59,
		"namedprocess_namegroup_oldest_start_time_seconds{groupname=db}":                      1700000006,
		"namedprocess_namegroup_states{groupname=db,state=Sleeping}":                          2,
		"namedprocess_namegroup_states{groupname=db,state=Waiting}":                           1,
		"namedprocess_namegroup_worst_fd_ratio{groupname=db}":                                 0.5,
	})

	// Without -process-children the descendants are not counted, and
	// without -process-smaps there are no proportional series.
	p2, err := newProcGroups(conf, time.Second, ProcessOptions{})
	if err != nil {
		t.Fatal(err)
	}
	p2.procPath = fp.root
	fp.put(fakeProcess{pid: 10, ppid: 1, comm: "postgres", cmdline: "postgres", state: 'S', start: 500, threads: 1, fdLimit: 1024})
	out = p2.gather(t.Context(), time.Unix(1700001002, 0))
	got = seriesValues(out)
	if n := got["namedprocess_namegroup_num_procs{groupname=db}"]; n != 1 {
		t.Errorf("num_procs without children = %v, want 1", n)
	}
	for k := range got {
		if strings.Contains(k, "proportional") {
			t.Errorf("%s reported without -process-smaps", k)
		}
	}
}

// seriesValues maps name{sorted labels} to value.
func seriesValues(out []Sample) map[string]float64 {
	m := map[string]float64{}
	for _, s := range out {
		ls := make([]string, 0, len(s.Labels))
		for _, l := range s.Labels {
			ls = append(ls, l.Name+"="+l.Value)
		}
		sort.Strings(ls)
		m[s.Name+"{"+strings.Join(ls, ",")+"}"] = s.V
	}
	return m
}

func checkSeries(t *testing.T, out []Sample, want map[string]float64) {
	t.Helper()
	got := seriesValues(out)
	for k, v := range want {
		g, ok := got[k]
		if !ok {
			t.Errorf("%s missing", k)
		} else if math.Abs(g-v) > 1e-9*math.Max(1, math.Abs(v)) {
			t.Errorf("%s = %v, want %v", k, g, v)
		}
	}
}
