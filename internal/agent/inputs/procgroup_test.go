package inputs

import (
	"os"
	"os/exec"
	"path/filepath"
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
	p, err := newProcGroups(conf, time.Second)
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
