package agent

import (
	"context"
	"log/slog"
	"os"
	"path/filepath"
	"testing"
	"time"

	"hawk/internal/collect"
	"hawk/internal/server"
)

// TestEnrolmentSecretKept: the agent keeps the secret its first WELCOME
// issued, in a file only its user reads, and a restarted agent (same spool)
// is welcomed again while a HELLO for its id without the secret is not.
func TestEnrolmentSecretKept(t *testing.T) {
	enrolments, err := server.OpenEnrolments("", 0)
	if err != nil {
		t.Fatal(err)
	}
	srv := startSecServer(t, func(c *server.Config) { c.Enrolment = enrolments })
	spoolDir := t.TempDir()
	run := func() (stop func()) {
		lb := &logBuf{}
		a, err := New(Config{
			Servers: []string{srv.addr}, Interval: 100 * time.Millisecond, SpoolDir: spoolDir, Hostname: "testhost",
			Collect:    collect.Config{Enable: map[string]bool{"cpu": false, "filesystem": false, "diskstats": false}},
			BackoffMin: 10 * time.Millisecond, BackoffMax: 100 * time.Millisecond,
			Logger: slog.New(slog.NewTextHandler(lb, nil)),
		})
		if err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan error, 1)
		go func() { done <- a.Run(ctx) }()
		return func() {
			cancel()
			if err := <-done; err != nil {
				t.Errorf("agent: %v", err)
			}
			if lb.has("refused") {
				t.Errorf("agent log: %s", lb)
			}
		}
	}
	stop := run()
	eventually(t, "data stored", func() bool { return len(srv.sink.Get(memTotal)) >= 2 })
	stop()
	st, err := os.Stat(filepath.Join(spoolDir, secretFile))
	if err != nil || st.Mode().Perm() != 0o600 {
		t.Fatalf("secret file: %v, %v", st, err)
	}
	if enrolments.Len() != 1 {
		t.Fatalf("%d enrolled, want 1", enrolments.Len())
	}
	n := len(srv.sink.Get(memTotal))
	stop = run()
	eventually(t, "data stored after a restart", func() bool { return len(srv.sink.Get(memTotal)) >= n+2 })
	stop()
	if got := srv.refused(t, "enrolment"); got != 0 {
		t.Fatalf("refused{enrolment} = %v", got)
	}
}
