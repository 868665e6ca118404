package agent

import (
	"context"
	"errors"
	"log/slog"
	"strings"
	"testing"
	"time"

	"hawk/internal/collect"
	"hawk/internal/faultfs"
	"hawk/internal/server"
	"hawk/internal/spool"
	"hawk/internal/wire"
)

// withFaultySpool reopens the agent's spool with a fault injector.
func withFaultySpool(t *testing.T, a *Agent, fault *faultfs.Injector) {
	t.Helper()
	if err := a.spool.Close(); err != nil {
		t.Fatal(err)
	}
	sp, err := spool.Open(a.cfg.SpoolDir, spool.Options{Fault: fault})
	if err != nil {
		t.Fatal(err)
	}
	a.spool = sp
}

// TestAgentSpoolDiskFullRecovers reproduces issue 16's fourth defect: one
// failed spool write stopped delivery for good. With the spool's disk full
// the agent keeps what it has and counts the failed collections; once space
// is freed, collections are spooled and delivered again without a restart.
func TestAgentSpoolDiskFullRecovers(t *testing.T) {
	ss := startSecServer(t, func(*server.Config) {})
	fault := faultfs.New()
	a, _ := runSecAgent(t, ss.addr, func(a *Agent, _ *Config) { withFaultySpool(t, a, fault) })
	eventually(t, "first deliveries", func() bool { return len(ss.sink.Get(memTotal)) >= 2 })
	fault.Set(faultfs.Rule{Op: faultfs.OpWrite, PathContains: ".seg", Budget: 50})
	eventually(t, "3 failed collections", func() bool { return a.stats.disk.spoolFailures.Load() >= 3 })
	fault.Set() // space freed
	freed := time.Now().UnixMilli()
	eventually(t, "deliveries after space was freed", func() bool {
		n := 0
		for _, s := range ss.sink.Get(memTotal) {
			if s.T >= freed {
				n++
			}
		}
		return n >= 3
	})
	if got := a.stats.disk.consecutive.Load(); got != 0 {
		t.Fatalf("failures in a row = %d after recovery, want 0", got)
	}
	if st := a.spool.Stats(); st.Recovered == 0 {
		t.Fatalf("spool stats %+v: no recovery counted", st)
	}
}

// TestAgentExitsAfterSpoolFailures: a spool that stays broken makes Run
// return an error after maxSpoolFailures collections (spoolFailWindow
// shortened), so a supervisor restarts the agent.
func TestAgentExitsAfterSpoolFailures(t *testing.T) {
	defer func(w time.Duration) { spoolFailWindow = w }(spoolFailWindow)
	spoolFailWindow = 300 * time.Millisecond
	cfg := Config{
		Servers: []string{"127.0.0.1:1"}, Interval: 20 * time.Millisecond, SpoolDir: t.TempDir(), Hostname: "testhost",
		Collect:    collect.Config{Enable: map[string]bool{"cpu": false, "filesystem": false, "diskstats": false}},
		BackoffMin: 10 * time.Millisecond, BackoffMax: 50 * time.Millisecond,
		Logger: slog.New(slog.DiscardHandler),
	}
	a, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	withFaultySpool(t, a, faultfs.New(faultfs.Rule{Op: faultfs.OpWrite, PathContains: ".seg", Err: faultfs.EIO}))
	done := make(chan error, 1)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() { done <- a.Run(ctx) }()
	select {
	case err := <-done:
		if err == nil || !strings.Contains(err.Error(), "could not be spooled") || !errors.Is(err, faultfs.EIO) {
			t.Fatalf("Run = %v, want the spool failure", err)
		}
		if n := a.stats.disk.spoolFailures.Load(); n < maxSpoolFailures {
			t.Fatalf("%d failures counted, want at least %d", n, maxSpoolFailures)
		}
	case <-time.After(30 * time.Second):
		cancel()
		<-done
		t.Fatal("agent did not exit with its spool failing")
	}
}

// TestDropTooOld: samples older than WELCOME's MaxSampleAge, on the
// server's clock, are not sent, and are counted.
func TestDropTooOld(t *testing.T) {
	now := time.Unix(100000, 0)
	a := &Agent{cfg: Config{Now: func() time.Time { return now }}}
	a.stats.offset.Store(int64(-time.Minute)) // the server's clock is a minute ahead
	s := &sendState{a: a, maxAge: time.Hour}
	cut := now.Add(time.Minute - time.Hour).UnixMilli()
	s.rec.Samples = []wire.Sample{{ID: 1, T: cut - 1}, {ID: 2, T: cut}, {ID: 3, T: cut - 7200e3}, {ID: 4, T: now.UnixMilli()}}
	s.dropTooOld()
	if len(s.rec.Samples) != 2 || s.rec.Samples[0].ID != 2 || s.rec.Samples[1].ID != 4 {
		t.Fatalf("kept %+v, want ids 2 and 4", s.rec.Samples)
	}
	if n := a.stats.disk.tooOld.Load(); n != 2 {
		t.Fatalf("tooOld = %d, want 2", n)
	}
	s.maxAge = 0
	s.rec.Samples = []wire.Sample{{ID: 1, T: 0}}
	if s.dropTooOld(); len(s.rec.Samples) != 1 {
		t.Fatal("no MaxSampleAge: a sample was dropped")
	}
}

// TestWelcomeMaxSampleAge: the server's MaxSampleAge reaches the agent,
// which warns that its spool keeps more than the server stores.
func TestWelcomeMaxSampleAge(t *testing.T) {
	ss := startSecServer(t, func(c *server.Config) { c.MaxSampleAge = time.Hour })
	_, lb := runSecAgent(t, ss.addr, func(_ *Agent, c *Config) { c.SpoolAge = 2 * time.Hour })
	eventually(t, "the warning", func() bool { return lb.has("server_max_sample_age=1h0m0s") })
}
