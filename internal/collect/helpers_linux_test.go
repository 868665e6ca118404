package collect

import (
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"go.uber.org/goleak"
	"golang.org/x/sys/unix"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

// fixtureConfig reads testdata/ and fakes the clock and system calls.
func fixtureConfig(t *testing.T) Config {
	t.Helper()
	return Config{
		ProcPath:   filepath.Join("testdata", "proc"),
		SysPath:    filepath.Join("testdata", "sys"),
		RootfsPath: filepath.Join("testdata", "rootfs"),
		Now: func() time.Time {
			return time.Date(2026, 11, 26, 9, 30, 0, 500e6, time.FixedZone("CET", 3600))
		},
		seams: sysSeams{statfs: fakeStatfs, adjtimex: fakeAdjtimex, pagesize: func() int { return 4096 }},
	}
}

// fakeStatfs gives a fixed answer, derived from the path length so that
// mounts differ, and fails for any mount point named "broken".
func fakeStatfs(path string, st *unix.Statfs_t) error {
	if strings.HasSuffix(path, "broken") {
		return unix.EIO
	}
	n := int64(len(path))
	*st = unix.Statfs_t{Bsize: 4096, Blocks: uint64(1000 * n), Bfree: uint64(500 * n), Bavail: uint64(400 * n), Files: uint64(100 * n), Ffree: uint64(90 * n)}
	return nil
}

func fakeAdjtimex(tx *unix.Timex) (int, error) {
	*tx = unix.Timex{
		Offset: -1500, Freq: 655360, Maxerror: 16000, Esterror: 2000, Status: 0x2001, Constant: 7,
		Tick: 10000, Ppsfreq: 65536, Jitter: 250, Shift: 4, Stabil: 131072,
		Jitcnt: 1, Calcnt: 2, Errcnt: 3, Stbcnt: 4, Tai: 37,
	}
	return 0, nil // TIME_OK
}

// sample is a Metric copied out of the emit call, with labels as a string.
type sample struct {
	Name   string
	Help   string
	Type   ValueType
	Labels string // `a="1",b="2"` in emitted order
	Value  float64
}

func (s sample) String() string {
	return fmt.Sprintf("%s{%s} %s %v", s.Name, s.Labels, s.Type, s.Value)
}

func copySample(m Metric) sample {
	var b strings.Builder
	for i, l := range m.Labels {
		if i > 0 {
			b.WriteByte(',')
		}
		fmt.Fprintf(&b, "%s=%q", l.Name, l.Value)
	}
	return sample{m.Name, m.Help, m.Type, b.String(), m.Value}
}

// collectWith runs one collector over cfg and returns its samples, without
// the node_scrape_collector_* ones, and its Stat.
func collectWith(t *testing.T, cfg Config, name string) ([]sample, Stat) {
	t.Helper()
	s := only(t, cfg, name)
	return samples(s), s.Stats()[0]
}

// only returns a Set of the one collector name over cfg.
func only(t *testing.T, cfg Config, name string) *Set {
	t.Helper()
	cfg.Enable = map[string]bool{}
	for _, c := range Collectors() {
		cfg.Enable[c.Name] = c.Name == name
	}
	s, err := New(cfg, nil)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return s
}

// samples collects once from s and returns the samples, without the
// node_scrape_collector_* ones.
func samples(s *Set) []sample {
	var out []sample
	s.Collect(func(m Metric) {
		if !strings.HasPrefix(m.Name, "node_scrape_collector_") {
			out = append(out, copySample(m))
		}
	})
	return out
}

// collectFixture runs one collector over testdata and fails on an error.
func collectFixture(t *testing.T, name string) []sample {
	t.Helper()
	out, st := collectWith(t, fixtureConfig(t), name)
	if st.Failures != 0 || st.NoData != 0 {
		t.Fatalf("%s: stat %+v", name, st)
	}
	return out
}

// check asserts that exactly one sample has name and labels, with type and
// value.
func check(t *testing.T, got []sample, name, labels string, typ ValueType, want float64) {
	t.Helper()
	n := 0
	for _, s := range got {
		if s.Name != name || s.Labels != labels {
			continue
		}
		n++
		if s.Type != typ {
			t.Errorf("%s{%s}: type %v, want %v", name, labels, s.Type, typ)
		}
		if s.Value != want && math.Abs(s.Value-want) > 1e-9*math.Abs(want) {
			t.Errorf("%s{%s} = %v, want %v", name, labels, s.Value, want)
		}
		if s.Help == "" {
			t.Errorf("%s{%s}: no help", name, labels)
		}
	}
	if n != 1 {
		t.Errorf("%s{%s}: %d samples, want 1", name, labels, n)
	}
}

// absent asserts that no sample has the name (and labels, when given).
func absent(t *testing.T, got []sample, name string, labels ...string) {
	t.Helper()
	for _, s := range got {
		if s.Name == name && (len(labels) == 0 || s.Labels == labels[0]) {
			t.Errorf("unexpected sample %v", s)
		}
	}
}

// names returns the distinct metric names of got, sorted.
func names(got []sample) []string {
	var out []string
	for _, s := range got {
		out = append(out, s.Name)
	}
	slices.Sort(out)
	return slices.Compact(out)
}

// fakeCollector is a collector with a scripted outcome.
type fakeCollector struct {
	err   error
	panic bool
}

func (f *fakeCollector) update(e *emitter) error {
	if f.panic {
		panic("boom")
	}
	e.gauge("fake_metric", "A fake.", 1, Label{"k", "v"})
	return f.err
}

var errFake = errors.New("fake failure")

// writeFile is os.WriteFile that fails the test.
func writeFile(t *testing.T, path, content string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}
