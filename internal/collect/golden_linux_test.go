package collect

import (
	"bytes"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite testdata/golden.txt")

// TestGolden runs every collector over the fixtures and compares the output,
// in emission order, with testdata/golden.txt. Durations vary and are
// written as 0; the textfile path is made relative.
func TestGolden(t *testing.T) {
	cfg := fixtureConfig(t)
	cfg.TextfileDir = textfileDir(t, "textfile")
	enable := map[string]bool{}
	for _, c := range Collectors() {
		enable[c.Name] = true
	}
	cfg.Enable = enable
	s, err := New(cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	render := func() []byte {
		var buf bytes.Buffer
		s.Collect(func(m Metric) {
			smp := copySample(m)
			if m.Name == "node_scrape_collector_duration_seconds" {
				smp.Value = 0
			}
			smp.Labels = strings.ReplaceAll(smp.Labels, cfg.TextfileDir, "TEXTFILE_DIR")
			fmt.Fprintf(&buf, "%s # %s\n", smp, strings.ReplaceAll(m.Help, cfg.TextfileDir, "TEXTFILE_DIR"))
		})
		return buf.Bytes()
	}
	got := render()
	// A second collection must give the same output: buffers and caches are
	// reused between calls.
	if again := render(); !bytes.Equal(got, again) {
		t.Error("second collection differs from the first")
	}
	path := filepath.Join("testdata", "golden.txt")
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run with -update to create it)", err)
	}
	if !bytes.Equal(got, want) {
		gl, wl := strings.Split(string(got), "\n"), strings.Split(string(want), "\n")
		for i := range max(len(gl), len(wl)) {
			var g, w string
			if i < len(gl) {
				g = gl[i]
			}
			if i < len(wl) {
				w = wl[i]
			}
			if g != w {
				t.Fatalf("output differs from %s at line %d:\n got: %s\nwant: %s\n(run with -update if the change is intended)", path, i+1, g, w)
			}
		}
	}
	for _, st := range s.Stats() {
		if st.Failures != 0 {
			t.Errorf("collector %s failed over the fixtures", st.Name)
		}
	}
}
