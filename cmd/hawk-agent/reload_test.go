package main

import (
	"bufio"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// agentProc is a hawk-agent process this test started, and its log lines.
type agentProc struct {
	cmd   *exec.Cmd
	lines chan string
}

func startAgent(t *testing.T, args ...string) *agentProc {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "hawk-agent")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("build: %v\n%s", err, out)
	}
	cmd := exec.Command(bin, args...)
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	p := &agentProc{cmd: cmd, lines: make(chan string, 1000)}
	go func() {
		defer close(p.lines)
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			p.lines <- sc.Text()
		}
	}()
	t.Cleanup(func() {
		cmd.Process.Signal(syscall.SIGKILL) //nolint:errcheck // the process this test started, by PID
		cmd.Wait()                          //nolint:errcheck // already judged
	})
	return p
}

// waitLog waits (bounded) for a log line containing all of want.
func (p *agentProc) waitLog(t *testing.T, want ...string) string {
	t.Helper()
	timeout := time.After(20 * time.Second)
	for {
		select {
		case l, ok := <-p.lines:
			if !ok {
				t.Fatalf("agent exited before logging %q", want)
			}
			all := true
			for _, w := range want {
				all = all && strings.Contains(l, w)
			}
			if all {
				return l
			}
		case <-timeout:
			t.Fatalf("no log line with %q", want)
		}
	}
}

// TestSIGHUPReloads: SIGHUP re-reads the configuration file and the process
// keeps running; a bad file keeps the running configuration; SIGTERM still
// stops it cleanly.
func TestSIGHUPReloads(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the agent")
	}
	dir := t.TempDir()
	conf := filepath.Join(dir, "agent.yml")
	write := func(s string) {
		if err := os.WriteFile(conf, []byte(s), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("interval: 1s\nexec:\n  - echo a 1\n")
	p := startAgent(t, "-config", conf, "-spool", filepath.Join(dir, "spool"), "-server", "127.0.0.1:1")
	p.waitLog(t, "hawk-agent started", "inputs=1")

	write("interval: 1s\nexec:\n  - echo a 1\n  - command: echo b 2\n    name: b\n")
	if err := p.cmd.Process.Signal(syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	p.waitLog(t, "configuration reloaded", "inputs=2")

	write("interval: 1s\nexec: [\n")
	if err := p.cmd.Process.Signal(syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	p.waitLog(t, "reload failed")

	write("interval: 5s\nexec:\n  - echo a 1\n")
	if err := p.cmd.Process.Signal(syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	p.waitLog(t, "take effect at the next start", "interval")
	p.waitLog(t, "configuration reloaded", "inputs=1")

	if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	for range p.lines {
	}
	if err := p.cmd.Wait(); err != nil {
		t.Fatalf("agent exit after SIGHUPs and SIGTERM: %v", err)
	}
}

// TestCheckConfig: -check-config accepts a good file and names the fault
// of a bad one.
func TestCheckConfig(t *testing.T) {
	dir := t.TempDir()
	good := filepath.Join(dir, "good.yml")
	bad := filepath.Join(dir, "bad.yml")
	os.WriteFile(good, []byte("server: a:1\nscrape:\n  - url: http://127.0.0.1:9100/metrics\n    job: node_exporter\nexec: [echo a 1]\n"), 0o644) //nolint:errcheck // checked by the run
	os.WriteFile(bad, []byte("server: a:1\nscrape:\n  - url: ftp://x/\n"), 0o644)                                                                 //nolint:errcheck // checked by the run
	if err := run([]string{"-check-config", good}); err != nil {
		t.Fatalf("good file: %v", err)
	}
	if err := run([]string{"-check-config", bad}); err == nil || !strings.Contains(err.Error(), "ftp://x/") {
		t.Fatalf("bad file: %v", err)
	}
	typo := filepath.Join(dir, "typo.yml")
	os.WriteFile(typo, []byte("servre: a:1\n"), 0o644) //nolint:errcheck // checked by the run
	if err := run([]string{"-check-config", typo}); err == nil || !strings.Contains(err.Error(), "servre") {
		t.Fatalf("unknown key: %v", err)
	}
}
