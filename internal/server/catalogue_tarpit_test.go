package server

import (
	"errors"
	"log/slog"
	"net"
	"os"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"hawk/internal/wire"
)

// tarpitRows are the catalogue rows of issue 17 that make refused HELLOs
// cost their sender (docs/security.md, "Trust between peers"): the
// auth-failure delay, the per-source penalty and the refusal log's rate.
func tarpitRows() []catRow {
	enrolling := func(c *Config) {
		e, err := OpenEnrolments("", 0)
		if err != nil {
			panic(err)
		}
		c.Enrolment = e
	}
	impostor := func(k *cat) {
		k.t.Helper()
		c := dial(k.t, k.addr)
		c.send(wire.AppendHello(nil, &wire.Hello{Version: wire.ProtocolVersion, AgentID: "a"}))
		c.expectError(wire.CodeAuth)
	}
	// closedAtAccept dials and expects the server to close without a byte.
	closedAtAccept := func(k *cat) {
		k.t.Helper()
		before := k.refused("auth_penalty")
		expectEOF(k.t, k.rawConn())
		k.want("refused auth_penalty", k.refused("auth_penalty"), before+1)
	}
	return []catRow{
		{"trust/auth_failure_delayed", func(t *testing.T) {
			entered, release := make(chan time.Duration, 1), make(chan struct{})
			k := newCat(t, func(c *Config) {
				c.Auth, c.AuthFailureDelay = TokenAuth("s3cret", nil), 3*time.Second
				c.wait = func(d time.Duration, stop <-chan struct{}) {
					entered <- d
					select {
					case <-release:
					case <-stop:
					}
				}
			})
			c := dial(t, k.addr)
			c.send(wire.AppendHello(nil, &wire.Hello{Version: wire.ProtocolVersion, AgentID: "a", Token: "guess"}))
			select {
			case d := <-entered:
				if d != 3*time.Second {
					t.Fatalf("delay %v, want 3s", d)
				}
			case <-time.After(10 * time.Second):
				t.Fatal("the refusal was not delayed")
			}
			k.want("refused auth", k.refused("auth"), 1)
			c.c.SetReadDeadline(time.Now()) // nothing is answered while the delay lasts
			if n, err := c.c.Read(make([]byte, 1)); n != 0 || !errors.Is(err, os.ErrDeadlineExceeded) {
				t.Fatalf("read %d bytes (%v) during the delay, want none", n, err)
			}
			c.c.SetReadDeadline(time.Now().Add(10 * time.Second))
			close(release)
			c.expectError(wire.CodeAuth)
		}},
		{"trust/auth_failures_penalise_source", func(t *testing.T) {
			k := newCat(t, func(c *Config) { enrolling(c); c.MaxAuthFailures = 3 })
			good := dial(t, k.addr) // from the same address as the impostor
			good.hello("a")
			good.batch(1, oneSeriesSamples(1, nowMs()))
			if a := good.ack(); a != 1 {
				t.Fatalf("ack %d, want 1", a)
			}
			for range 3 {
				impostor(k)
			}
			k.want("refused enrolment", k.refused("enrolment"), 3)
			k.want("penalties", testutilCounter(k.s.m.authPenalties), 1)
			closedAtAccept(k)
			closedAtAccept(k)
			k.want("refused enrolment", k.refused("enrolment"), 3) // no HELLO was read
			// The agent's session is not cut: it is served and acknowledged.
			good.batch(2, oneSeriesSamples(1, nowMs()+1))
			if a := good.ack(); a != 2 {
				t.Fatalf("ack %d, want 2", a)
			}
			if got := k.sink.Get(`{__name__="m"}`); len(got) != 2 {
				t.Fatalf("stored %v, want both samples", got)
			}
			good.alive()
		}},
		{"trust/penalised_connection_held", func(t *testing.T) {
			var hold atomic.Bool
			entered, release := make(chan struct{}, 1), make(chan struct{})
			k := newCat(t, func(c *Config) {
				enrolling(c)
				c.MaxAuthFailures, c.AuthFailureDelay = 2, 3*time.Second
				c.wait = func(_ time.Duration, stop <-chan struct{}) {
					if !hold.Load() {
						return // the refusals' own delays pass at once here
					}
					entered <- struct{}{}
					select {
					case <-release:
					case <-stop:
					}
				}
			})
			k.v2("a")
			impostor(k)
			impostor(k)
			hold.Store(true)
			c := k.rawConn()
			select {
			case <-entered:
			case <-time.After(10 * time.Second):
				t.Fatal("the penalised connection was not held")
			}
			k.want("refused auth_penalty", k.refused("auth_penalty"), 1)
			c.SetReadDeadline(time.Now()) // neither a byte nor the end of the stream while held
			if n, err := c.Read(make([]byte, 1)); n != 0 || !errors.Is(err, os.ErrDeadlineExceeded) {
				t.Fatalf("read %d bytes (%v) while held, want nothing", n, err)
			}
			c.SetReadDeadline(time.Now().Add(10 * time.Second))
			close(release)
			expectEOF(t, c)
			k.want("refused enrolment", k.refused("enrolment"), 2)
		}},
		{"trust/auth_penalty_expires", func(t *testing.T) {
			clock := newTestClock()
			k := newCat(t, func(c *Config) {
				c.Auth, c.MaxAuthFailures, c.AuthFailurePenalty = TokenAuth("s3cret", nil), 2, time.Minute
				c.now = clock.now
			})
			for range 2 {
				c := dial(t, k.addr)
				c.send(wire.AppendHello(nil, &wire.Hello{Version: wire.ProtocolVersion, AgentID: "a", Token: "guess"}))
				c.expectError(wire.CodeAuth)
			}
			closedAtAccept(k)
			d := net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP("127.0.0.2")}, Timeout: 5 * time.Second}
			if nc, err := d.Dial("tcp", k.addr); err == nil { // another source is served meanwhile
				t.Cleanup(func() { nc.Close() })
				nc.SetDeadline(time.Now().Add(20 * time.Second))
				other := &client{t: t, c: nc, enc: wire.NewEncoder()}
				other.send(wire.AppendHello(nil, &wire.Hello{Version: wire.ProtocolVersion, AgentID: "b", Token: "s3cret"}))
				if _, err := wire.DecodeWelcome(other.recv()); err != nil {
					t.Fatalf("another source: %v", err)
				}
			}
			clock.advance(time.Minute)
			c := dial(t, k.addr)
			c.send(wire.AppendHello(nil, &wire.Hello{Version: wire.ProtocolVersion, AgentID: "a", Token: "s3cret"}))
			if _, err := wire.DecodeWelcome(c.recv()); err != nil {
				t.Fatalf("after the penalty: %v", err)
			}
			k.want("refused auth_penalty", k.refused("auth_penalty"), 1)
		}},
		{"trust/refusal_log_rate", func(t *testing.T) {
			clock, lines := newTestClock(), &logLines{}
			k := newCat(t, func(c *Config) {
				enrolling(c)
				c.now, c.Logger, c.RefusalLogsPerSecond = clock.now, slog.New(lines), 2
			})
			k.v2("a")
			for range 30 {
				impostor(k)
			}
			k.want("refused enrolment", k.refused("enrolment"), 30)
			clock.advance(time.Second)
			k.s.refusals.flush() // the liveness loop does this too; one of them writes the summary
			var got []string
			for _, l := range lines.take() {
				if strings.HasPrefix(l, "enrolment: ") {
					got = append(got, strings.TrimPrefix(l, "enrolment: "))
				}
			}
			want := []string{"agent refused: the agent id is enrolled with another secret",
				"agent refused: the agent id is enrolled with another secret", "28 more refused like this in the last 1s"}
			if strings.Join(got, "|") != strings.Join(want, "|") {
				t.Fatalf("logged %q, want %q", got, want)
			}
		}},
		{"trust/connection_rate", func(t *testing.T) {
			// -max-connection-rate 2: two connections at once, then the
			// accept loop waits half a second before the third.
			entered, release := make(chan time.Duration, 1), make(chan struct{})
			k := newCat(t, func(c *Config) {
				c.MaxConnRate = 2
				c.wait = func(d time.Duration, stop <-chan struct{}) {
					select {
					case entered <- d:
					case <-stop:
						return
					}
					select {
					case <-release:
					case <-stop:
					}
				}
			})
			k.v2("a")
			k.v2("b")
			c := dial(t, k.addr) // in the kernel's accept queue
			c.send(wire.AppendHello(nil, &wire.Hello{Version: wire.ProtocolVersion, AgentID: "c"}))
			select {
			case d := <-entered:
				if d <= 0 || d > 500*time.Millisecond {
					t.Fatalf("the accept loop waits %v, want up to 500ms", d)
				}
			case <-time.After(10 * time.Second):
				t.Fatal("the third connection was not paced")
			}
			c.c.SetReadDeadline(time.Now()) // nothing is answered while the accept loop waits
			if n, err := c.c.Read(make([]byte, 1)); n != 0 || !errors.Is(err, os.ErrDeadlineExceeded) {
				t.Fatalf("read %d bytes (%v) while the accept loop waits, want none", n, err)
			}
			if w := testutilCounter(k.s.m.acceptWait); w <= 0 {
				t.Fatalf("accept wait %v s, want more than 0", w)
			}
			c.c.SetReadDeadline(time.Now().Add(10 * time.Second))
			close(release)
			if _, err := wire.DecodeWelcome(c.recv()); err != nil {
				t.Fatalf("the third connection, once accepted: %v", err)
			}
		}},
	}
}
