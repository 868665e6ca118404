package inputs

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"strings"
	"time"

	"hawk/internal/wire"
)

// execer runs one command. Commands come only from the agent's own flags
// and configuration file, never from the network.
type execer struct {
	c         Command
	name      string
	as        runAs // nil: the agent's own user
	env       []string
	maxOut    int
	maxSeries int
	log       *slog.Logger
	failures  map[string]uint64
	lastLog   time.Time // of stderr, for rate limiting
	muted     int       // stderr reports not logged since lastLog
	parser    *parser   // kept between runs
}

// stderrEvery is the least time between two logs of one command's stderr.
const stderrEvery = time.Minute

func newExecer(c Command, lim Limits, log *slog.Logger) (*execer, error) {
	if strings.TrimSpace(c.Command) == "" {
		return nil, errors.New("exec: empty command")
	}
	e := &execer{c: c, name: c.Name, maxOut: lim.MaxBodyBytes, maxSeries: lim.MaxSeriesPerInput, failures: map[string]uint64{}, parser: newParser()}
	if e.name == "" {
		e.name = c.Command
	}
	e.log = log.With("input", "exec", "command", e.name)
	// The agent's environment minus its own secret, then the command's.
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "HAWK_TOKEN=") {
			e.env = append(e.env, kv)
		}
	}
	for _, kv := range c.Env {
		if !strings.Contains(kv, "=") {
			return nil, fmt.Errorf("exec %s: env %q: want NAME=value", e.name, kv)
		}
		e.env = append(e.env, kv)
	}
	if c.User != "" {
		as, err := lookupRunAs(c.User)
		if err != nil {
			return nil, fmt.Errorf("exec %s: %w", e.name, err)
		}
		e.as = as
	}
	return e, nil
}

func (e *execer) id() string           { return e.name }
func (e *execer) kind() string         { return "exec" }
func (e *execer) every() time.Duration { return e.c.Interval }
func (e *execer) close()               {}

func (e *execer) gather(ctx context.Context, now time.Time) []Sample {
	cmdLabel := []wire.Label{{Name: "command", Value: e.name}}
	c := converter{base: nil, own: true, now: now.UnixMilli(), maxSeries: e.maxSeries}
	code, reason, err := e.run(ctx, &c)
	up := 1.0
	if err != nil {
		up, c.out = 0, c.out[:0]
		e.failures[reason]++
		if ctx.Err() == nil {
			e.log.Warn("command failed", "reason", reason, "exit_code", code, "err", err)
		}
	}
	ms := now.UnixMilli()
	c.out = append(c.out,
		Sample{Name: "hawk_exec_up", Help: "1 if the command's last run succeeded and its output parsed.", Type: wire.TypeGauge, Labels: cmdLabel, Own: true, T: ms, V: up},
		Sample{Name: "hawk_exec_exit_code", Help: "Exit code of the command's last run; -1 if it was killed.", Type: wire.TypeGauge, Labels: cmdLabel, Own: true, T: ms, V: float64(code)},
		Sample{Name: "hawk_exec_duration_seconds", Help: "Duration of the command's last run.", Type: wire.TypeGauge, Labels: cmdLabel, Own: true, T: ms, V: time.Since(now).Seconds()})
	return appendFailures(c.out, e.failures, e.kind(), e.name, ms)
}

// run runs the command once in its own process group. At the timeout the
// whole group is killed, so a hung pipeline leaves nothing behind.
func (e *execer) run(ctx context.Context, c *converter) (code int, reason string, err error) {
	ctx, cancel := context.WithTimeout(ctx, e.c.Timeout)
	defer cancel()
	cmd := shellCommand(ctx, e.c.Command, e.as)
	cmd.Env = e.env
	cmd.WaitDelay = time.Second // a descendant that left the group cannot hold the pipes open
	out := &cappedBuffer{max: e.maxOut}
	errOut := &cappedBuffer{max: 4 << 10}
	cmd.Stdout, cmd.Stderr = out, errOut
	err = cmd.Run()
	if errOut.b.Len() > 0 {
		e.logStderr(errOut.b.String())
	}
	switch {
	case ctx.Err() != nil:
		return -1, "timeout", fmt.Errorf("killed at its timeout of %s: %w", e.c.Timeout, ctx.Err())
	case err != nil:
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			return ee.ExitCode(), "exit-code", err
		}
		return -1, "start", err
	case out.over:
		return 0, "output-size-limit", fmt.Errorf("%w: output over %d bytes", errTooLarge, e.maxOut)
	}
	if _, err := readCapped(bytes.NewReader(out.b.Bytes()), nil, int64(e.maxOut), e.maxSeries); err != nil {
		return 0, "series-limit", err
	}
	if err := c.parse(e.parser, out.b.Bytes(), false); err != nil {
		if errors.Is(err, errTooManySeries) {
			return 0, "series-limit", err
		}
		return 0, "parse", err
	}
	return 0, "", nil
}

// logStderr logs a run's stderr, at most once per stderrEvery.
func (e *execer) logStderr(s string) {
	if time.Since(e.lastLog) < stderrEvery {
		e.muted++
		return
	}
	e.log.Warn("command stderr", "stderr", strings.TrimSpace(s), "not_logged_since_last", e.muted)
	e.lastLog, e.muted = time.Now(), 0
}

// cappedBuffer keeps the first max bytes written and notes whether more
// came; writes never fail, so the command is not killed by a full pipe.
type cappedBuffer struct {
	b    bytes.Buffer
	max  int
	over bool
}

func (c *cappedBuffer) Write(p []byte) (int, error) {
	room := c.max - c.b.Len()
	if len(p) > room {
		c.over = true
		if room > 0 {
			c.b.Write(p[:room])
		}
		return len(p), nil
	}
	c.b.Write(p)
	return len(p), nil
}
