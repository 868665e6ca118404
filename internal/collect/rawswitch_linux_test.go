package collect

import (
	"bytes"
	"fmt"
	"slices"
	"strings"
	"testing"

	"hawk/internal/rawio"
)

// withRaw runs f with raw system calls on or off (package rawio).
func withRaw(on bool, f func()) {
	was := rawio.SetRaw(on)
	defer rawio.SetRaw(was)
	f()
}

// Every collector gives the same output over the fixtures with raw system
// calls and with ordinary ones.
func TestRawSwitchFixtures(t *testing.T) {
	render := func() string {
		cfg := fixtureConfig(t)
		cfg.TextfileDir = textfileDir(t, "textfile")
		cfg.Enable = map[string]bool{}
		for _, c := range Collectors() {
			cfg.Enable[c.Name] = true
		}
		s, err := New(cfg, nil)
		if err != nil {
			t.Fatal(err)
		}
		var buf bytes.Buffer
		for range 2 { // the second collection reads kept files again
			buf.Reset()
			s.Collect(func(m Metric) {
				smp := copySample(m)
				if m.Name == "node_scrape_collector_duration_seconds" {
					smp.Value = 0
				}
				fmt.Fprintln(&buf, strings.ReplaceAll(smp.String(), cfg.TextfileDir, "TEXTFILE_DIR"))
			})
		}
		return buf.String()
	}
	var raw, ordinary string
	withRaw(true, func() { raw = render() })
	withRaw(false, func() { ordinary = render() })
	if raw == "" || raw != ordinary {
		t.Fatalf("output with raw calls differs from output with ordinary calls:\nraw:\n%s\nordinary:\n%s", raw, ordinary)
	}
}

// On the live system both ways give the same series (values move between
// the two collections, the series do not), including those of collectors
// whose raw calls the fixtures replace (statfs, statx, adjtimex).
func TestRawSwitchLive(t *testing.T) {
	stable := []string{"cpu", "diskstats", "filesystem", "loadavg", "meminfo", "netdev", "os", "stat", "timex", "uname", "vmstat"}
	series := func() []string {
		enable := map[string]bool{}
		for _, c := range Collectors() {
			enable[c.Name] = slices.Contains(stable, c.Name)
		}
		s, err := New(Config{Enable: enable}, nil)
		if err != nil {
			t.Fatal(err)
		}
		var out []string
		s.Collect(func(m Metric) {
			smp := copySample(m)
			if m.Name == "node_scrape_collector_success" && smp.Value != 1 {
				t.Errorf("collector failed: %s", smp)
			}
			out = append(out, m.Name+"{"+smp.Labels+"}")
		})
		return out
	}
	var raw, ordinary []string
	withRaw(true, func() { raw = series() })
	withRaw(false, func() { ordinary = series() })
	if len(raw) == 0 || !slices.Equal(raw, ordinary) {
		t.Fatalf("series with raw calls differ from those with ordinary calls:\nraw: %v\nordinary: %v", raw, ordinary)
	}
}
