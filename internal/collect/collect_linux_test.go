package collect

import (
	"errors"
	"log/slog"
	"slices"
	"testing"
)

func TestCollectorsListed(t *testing.T) {
	infos := Collectors()
	want := []string{"arp", "conntrack", "cpu", "cpufreq", "diskstats", "entropy", "filefd", "filesystem",
		"hwmon", "loadavg", "meminfo", "netclass", "netdev", "netstat", "os", "powersupplyclass", "pressure",
		"process", "schedstat", "sockstat", "softnet", "stat", "textfile", "thermal_zone", "time", "timex",
		"udp_queues", "uname", "vmstat"}
	var got []string
	for _, in := range infos {
		got = append(got, in.Name)
		if in.Description == "" {
			t.Errorf("%s: no description", in.Name)
		}
	}
	if !slices.Equal(got, want) {
		t.Errorf("Collectors() = %v\nwant %v", got, want)
	}
}

func TestNewUnknownCollector(t *testing.T) {
	_, err := New(Config{Enable: map[string]bool{"nosuch": true}}, nil)
	if err == nil {
		t.Fatal("New accepted an unknown collector")
	}
}

func TestNewEnableOverrides(t *testing.T) {
	s, err := New(Config{Enable: map[string]bool{"cpu": false, "loadavg": true}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	got := s.Enabled()
	if slices.Contains(got, "cpu") || !slices.Contains(got, "loadavg") || !slices.Contains(got, "meminfo") {
		t.Errorf("Enabled() = %v", got)
	}
}

// TestCollectOutcomes checks that failure, no data and panics are counted,
// reported through node_scrape_collector_success, and do not stop the
// collectors after them.
func TestCollectOutcomes(t *testing.T) {
	s := &Set{logger: slog.New(slog.DiscardHandler)}
	for _, c := range []struct {
		name string
		c    collector
	}{
		{"a_fail", &fakeCollector{err: errFake}},
		{"b_nodata", &fakeCollector{err: ErrNoData}},
		{"c_panic", &fakeCollector{panic: true}},
		{"d_ok", &fakeCollector{}},
	} {
		s.entries = append(s.entries, entry{name: c.name, c: c.c, stat: Stat{Name: c.name}})
	}
	for range 2 {
		success := map[string]float64{}
		durations := 0
		s.Collect(func(m Metric) {
			switch m.Name {
			case "node_scrape_collector_success":
				success[m.Labels[0].Value] = m.Value
			case "node_scrape_collector_duration_seconds":
				durations++
				if m.Value < 0 {
					t.Errorf("negative duration %v", m.Value)
				}
			}
		})
		want := map[string]float64{"a_fail": 0, "b_nodata": 0, "c_panic": 0, "d_ok": 1}
		for k, v := range want {
			if got, ok := success[k]; !ok || got != v {
				t.Errorf("success{%s} = %v (present %v), want %v", k, got, ok, v)
			}
		}
		if durations != 4 {
			t.Errorf("%d duration samples, want 4", durations)
		}
	}
	want := []Stat{
		{"a_fail", 2, 2, 0},
		{"b_nodata", 2, 0, 2},
		{"c_panic", 2, 2, 0},
		{"d_ok", 2, 0, 0},
	}
	if got := s.Stats(); !slices.Equal(got, want) {
		t.Errorf("Stats() = %+v, want %+v", got, want)
	}
}

func TestNoDataIsNotFailure(t *testing.T) {
	cfg := fixtureConfig(t)
	cfg.ProcPath = t.TempDir() // no /proc/pressure, no /proc/schedstat
	for _, name := range []string{"pressure", "schedstat", "meminfo", "process"} {
		_, st := collectWith(t, cfg, name)
		if st.NoData != 1 || st.Failures != 0 {
			t.Errorf("%s over an empty /proc: %+v, want one NoData run", name, st)
		}
	}
}

func TestMalformedInputIsFailure(t *testing.T) {
	for _, tc := range []struct{ collector, file, content string }{
		{"loadavg", "loadavg", "1.0 x\n"},
		{"meminfo", "meminfo", "MemTotal 12 kB\n"},
		{"meminfo", "meminfo", "MemTotal: 12 MB\n"},
		{"cpu", "stat", "cpu0 1 2 x 4 5 6 7 8\n"},
		{"cpu", "stat", "cpu0 1 2\n"},
		{"diskstats", "diskstats", " 8 0 sda 1 2 3\n"},
		{"netdev", "net/dev", "h\nh\n eth0: 1 2 3\n"},
		{"netstat", "net/netstat", "TcpExt: A B\nTcpExt: 1\n"},
		{"softnet", "net/softnet_stat", "zz 00\n"},
		{"filefd", "sys/fs/file-nr", "1 2\n"},
		{"pressure", "pressure/cpu", "some avg10=0 avg60=0 avg300=0 total=x\n"},
		{"process", "self/stat", "1 (a) S 1 2 3\n"},
		{"process", "self/stat", "1 no parenthesis\n"},
	} {
		t.Run(tc.collector+"/"+tc.content, func(t *testing.T) {
			cfg := fixtureConfig(t)
			cfg.ProcPath = t.TempDir()
			writeFile(t, cfg.ProcPath+"/"+tc.file, tc.content)
			_, st := collectWith(t, cfg, tc.collector)
			if st.Failures != 1 {
				t.Errorf("stat %+v, want one failure", st)
			}
		})
	}
}

func TestErrNoDataWraps(t *testing.T) {
	err := noData(errors.New("other"))
	if errors.Is(err, ErrNoData) {
		t.Error("noData turned an arbitrary error into ErrNoData")
	}
}
