package bench

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"slices"
	"strings"
	"time"
)

// An attack can run in a process of its own (AttackConfig.Worker), as a
// real attacker's would: in one process the good agent's ACKs also wait
// for the attack's goroutines to be scheduled, and part of what is
// measured is the bench itself. The protocol on the worker's stdin and
// stdout, one line each:
//
//	worker → parent  ready            (after its preparation: open-batch encodes its parts)
//	parent → worker  go               (the phase under attack starts)
//	worker → parent  {"outcomes":…}   (when the attack ends, at most Under later)
//
// The worker's stderr is the parent's.

// workerResult is the worker's last line.
type workerResult struct {
	Outcomes map[string]uint64 `json:"outcomes"`
	Err      string            `json:"err,omitempty"`
	// CPU is the worker's CPU time (user and system) from go to the
	// outcome, its preparation left out; 0 where /proc cannot tell.
	CPU time.Duration `json:"cpu_ns,omitempty"`
}

// WorkerFlags are the flags that make `hawk-bench attack` a worker; the
// parent adds them to AttackConfig.Worker.
func workerFlags(name, goodID, prefix string) []string {
	return []string{"-worker-attack", name, "-worker-good-id", goodID, "-worker-prefix", prefix}
}

// attackWorker is a started worker process.
type attackWorker struct {
	cmd   *exec.Cmd
	stdin io.WriteCloser
	lines chan string // the worker's stdout, a line each; closed at its end
}

// startWorker starts the worker of one attack and waits for it to be
// ready (at most a minute: open-batch's preparation takes seconds).
func startWorker(ctx context.Context, cfg *AttackConfig, name, goodID, prefix string) (*attackWorker, error) {
	args := append(slices.Clone(cfg.Worker[1:]), workerFlags(name, goodID, prefix)...)
	cmd := exec.Command(cfg.Worker[0], args...)
	cmd.Stderr = os.Stderr
	stdin, err := cmd.StdinPipe()
	if err != nil {
		return nil, err
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("bench: worker of %s: %w", name, err)
	}
	w := &attackWorker{cmd: cmd, stdin: stdin, lines: make(chan string, 2)}
	go func() { // ends with the worker's stdout
		defer close(w.lines)
		sc := bufio.NewScanner(stdout)
		sc.Buffer(nil, 1<<20)
		for sc.Scan() {
			w.lines <- sc.Text()
		}
	}()
	select {
	case l, ok := <-w.lines:
		if ok && l == "ready" {
			return w, nil
		}
		err = fmt.Errorf("bench: worker of %s: %q instead of ready", name, l)
	case <-time.After(time.Minute):
		err = fmt.Errorf("bench: worker of %s not ready within a minute", name)
	case <-ctx.Done():
		err = ctx.Err()
	}
	w.stop()
	return nil, err
}

// run starts the attack and waits for its outcome (at most under and a
// grace period), adding it to out. It returns the CPU time the worker
// says the attack took.
func (w *attackWorker) run(ctx context.Context, under time.Duration, out *errCounts) (time.Duration, error) {
	defer w.stop()
	if _, err := io.WriteString(w.stdin, "go\n"); err != nil {
		return 0, fmt.Errorf("bench: worker: %w", err)
	}
	grace := time.NewTimer(under + 30*time.Second)
	defer grace.Stop()
	select {
	case l, ok := <-w.lines:
		if !ok {
			return 0, errors.New("bench: worker ended without its outcome")
		}
		var r workerResult
		if err := json.Unmarshal([]byte(l), &r); err != nil {
			return 0, fmt.Errorf("bench: worker's outcome %q: %w", l, err)
		}
		for k, v := range r.Outcomes {
			out.add(k, v)
		}
		if r.Err != "" {
			return r.CPU, errors.New(r.Err)
		}
		return r.CPU, nil
	case <-grace.C:
		return 0, errors.New("bench: worker did not end in time")
	case <-ctx.Done():
		return 0, ctx.Err()
	}
}

// stop ends the worker: its stdin closed, then, if it has not ended
// within 10 s, killed (it is this process's child, by its PID).
func (w *attackWorker) stop() {
	w.stdin.Close() //nolint:errcheck // the worker may be gone
	done := make(chan struct{})
	go func() { // ends with the worker
		defer close(done)
		for range w.lines { // its stdout, to its end
		}
		w.cmd.Wait() //nolint:errcheck // its outcome was read, or the run failed already
	}()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		w.cmd.Process.Kill() //nolint:errcheck // our child
		<-done
	}
}

// RunAttackWorker is a worker's side: it prepares the attack name against
// the server of cfg, says ready on out, waits for go on in, runs the
// attack for cfg.Under and writes its outcome. goodID is the good agent's
// id (hijack and forge aim at it), prefix that of the attack's agent ids.
func RunAttackWorker(ctx context.Context, cfg AttackConfig, name, goodID, prefix string, in io.Reader, out io.Writer) error {
	f, ok := attackFuncs[name]
	if !ok {
		return fmt.Errorf("bench: unknown attack %q", name)
	}
	if cfg.Under <= 0 {
		cfg.Under = 10 * time.Second
	}
	cfg.Sizes.setDefaults()
	if err := CheckLoopback(cfg.Addr); err != nil {
		return err
	}
	if cfg.HTTP != "" {
		if err := CheckLoopbackURL(cfg.HTTP); err != nil {
			return err
		}
	}
	tr := &http.Transport{MaxIdleConnsPerHost: 64, DisableCompression: true}
	defer tr.CloseIdleConnections()
	a := &attack{cfg: &cfg, sz: &cfg.Sizes, good: &goodAgent{id: goodID}, prefix: prefix,
		client: &http.Client{Transport: tr, Timeout: cfg.Under + 5*time.Second}}
	if name == "open-batch" {
		var err error
		if a.parts, err = openBatchParts(cfg.Sizes.OpenBatchSamples, cfg.Sizes.OpenBatchPart); err != nil {
			return err
		}
	}
	if _, err := io.WriteString(out, "ready\n"); err != nil {
		return err
	}
	line, err := bufio.NewReader(in).ReadString('\n')
	if strings.TrimSpace(line) != "go" {
		return fmt.Errorf("bench: worker: %q instead of go (%v)", line, err)
	}
	actx, cancel := context.WithTimeout(ctx, cfg.Under)
	defer cancel()
	self := os.Getpid()
	start, cpuErr := cfg.Proc.Read(self)
	r := workerResult{}
	if err := f(a, actx); err != nil {
		r.Err = err.Error()
	}
	r.Outcomes = a.out.snapshot()
	if end, err := cfg.Proc.Read(self); cpuErr == nil && err == nil {
		r.CPU = end.CPU - start.CPU
	}
	return json.NewEncoder(out).Encode(r)
}
