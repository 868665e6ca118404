package server

import (
	"context"
	"log/slog"
	"slices"
	"sync"
	"testing"
	"time"
)

// testClock is a clock a test moves by hand.
type testClock struct {
	mu sync.Mutex
	t  time.Time
}

func newTestClock() *testClock { return &testClock{t: time.Now()} }

func (c *testClock) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *testClock) advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// logLines collects the messages of the records logged, with their
// reason attribute.
type logLines struct {
	mu    sync.Mutex
	lines []string
}

func (l *logLines) Enabled(context.Context, slog.Level) bool { return true }
func (l *logLines) WithAttrs([]slog.Attr) slog.Handler       { return l }
func (l *logLines) WithGroup(string) slog.Handler            { return l }
func (l *logLines) Handle(_ context.Context, r slog.Record) error {
	reason := ""
	r.Attrs(func(a slog.Attr) bool {
		if a.Key == "reason" {
			reason = a.Value.String()
		}
		return true
	})
	l.mu.Lock()
	l.lines = append(l.lines, reason+": "+r.Message)
	l.mu.Unlock()
	return nil
}

func (l *logLines) take() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	out := l.lines
	l.lines = nil
	return out
}

func TestRefusalLogRateLimited(t *testing.T) {
	clock := newTestClock()
	lines := &logLines{}
	l := newRefusalLog(slog.New(lines), 2, time.Second, clock.now)
	want := func(what string, want ...string) {
		t.Helper()
		if got := lines.take(); !slices.Equal(got, want) {
			t.Fatalf("%s: logged %q, want %q", what, got, want)
		}
	}

	for range 50 {
		l.warn("auth", "bad token")
	}
	l.warn("enrolment", "no secret")
	want("a flood within a second", "auth: bad token", "auth: bad token", "enrolment: no secret")

	clock.advance(500 * time.Millisecond)
	l.warn("auth", "bad token")
	l.flush() // the second is not over: nothing to sum up yet
	want("within the same second")

	clock.advance(700 * time.Millisecond)
	l.warn("auth", "bad token")
	want("the next second", "auth: 49 more refused like this in the last 1.2s", "auth: bad token")

	for range 3 {
		l.warn("auth", "bad token")
	}
	want("the rest of the second's quota", "auth: bad token")
	clock.advance(2 * time.Second)
	l.flush()
	want("flushed after the flood", "auth: 2 more refused like this in the last 2s")
	l.flush()
	want("flushed again")

	quiet := newRefusalLog(slog.New(lines), 0, time.Second, clock.now)
	quiet.warn("auth", "bad token")
	clock.advance(time.Second)
	quiet.flush()
	want("0 lines a second", "auth: 1 more refused like this in the last 1s")
}
