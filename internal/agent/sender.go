package agent

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"

	"hawk/internal/wire"
)

// goAway is a server's request to reconnect after a pause.
type goAway struct{ after time.Duration }

func (g *goAway) Error() string { return fmt.Sprintf("server asked to reconnect after %v", g.after) }

// sendLoop keeps a session with one of the servers, failing over in order
// from the agent's own first choice, until ctx ends.
func (a *Agent) sendLoop(ctx context.Context) {
	n := len(a.cfg.Servers)
	i := int(a.hash64("server") % uint64(n))
	failures := 0
	for ctx.Err() == nil {
		addr := a.cfg.Servers[i]
		start := a.cfg.Now()
		err := a.session(ctx, addr)
		a.stats.connected.Store(false)
		if ctx.Err() != nil {
			return
		}
		var ga *goAway
		var wait time.Duration
		switch {
		case errors.As(err, &ga):
			// A draining server: come back after the pause it asked for,
			// with jitter so that its agents do not return together.
			a.log.Info("server going away", "server", addr, "after", ga.after)
			wait = ga.after + jitter(ga.after+a.cfg.BackoffMin)
			failures = 0
		default:
			if a.cfg.Now().Sub(start) > 2*a.cfg.Interval {
				failures = 0 // the session was healthy for a while
			}
			failures++
			i = (i + 1) % n // try the next server
			wait = backoff(a.cfg.BackoffMin, a.cfg.BackoffMax, failures)
			var we *wire.Error
			if errors.As(err, &we) && (we.Code == wire.CodeAuth || we.Code == wire.CodeVersion) {
				a.log.Error("server refused this agent; check its token, TLS settings or version", "server", addr,
					"code", we.Code, "reason", we.Message, "retry_in", wait.Round(time.Millisecond))
				break
			}
			a.log.Warn("session ended", "server", addr, "err", err, "retry_in", wait.Round(time.Millisecond))
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(wait):
		}
	}
}

// backoff returns a delay drawn uniformly from [0, min(max, base·2^n))
// ("full jitter"): agents that lose a server together spread their returns
// over the whole window instead of arriving in waves.
func backoff(base, max time.Duration, n int) time.Duration {
	bound := max
	if n < 30 && base<<n < max {
		bound = base << n
	}
	return jitter(bound)
}

func jitter(bound time.Duration) time.Duration {
	if bound <= 0 {
		return 0
	}
	return time.Duration(rand.Int64N(int64(bound)))
}

// event is what the reader goroutine passes to the session loop.
type event struct {
	ack  uint64
	echo *wire.Heartbeat
	t4   int64 // when the echo was read, Unix ns
	err  error // GOAWAY, ERROR or the read error that ended the reader
}

// session runs one connection: handshake, then batches, heartbeats and
// acks until the connection ends or ctx does.
func (a *Agent) session(ctx context.Context, addr string) error {
	conn, err := a.cfg.Dial(ctx, addr)
	if err != nil {
		return fmt.Errorf("dial %s: %w", addr, err)
	}
	defer conn.Close()
	var dec wire.Decoder
	defer dec.Release()
	w, err := a.handshake(conn, &dec)
	if err != nil {
		return err
	}
	a.stats.connected.Store(true)
	a.stats.reconnect.Add(1)
	if w.LastSeq > 0 {
		if err := a.ackSpool(w.LastSeq); err != nil {
			return err
		}
	}
	a.log.Info("connected", "server", addr, "server_id", w.ServerID, "stored_seq", w.LastSeq)
	if w.MaxSampleAge > 0 && a.cfg.SpoolAge > w.MaxSampleAge {
		a.log.Warn("-spool-max-age is longer than the server stores samples back; older spooled samples are dropped, not sent",
			"spool_max_age", a.cfg.SpoolAge, "server_max_sample_age", w.MaxSampleAge)
	}

	events := make(chan event, 16)
	var wg sync.WaitGroup
	wg.Add(1)
	go func() { defer wg.Done(); a.readLoop(conn, &dec, events) }()
	defer wg.Wait()
	defer conn.Close() // ends the reader, before wg.Wait runs

	s := &sendState{a: a, conn: conn, enc: wire.NewEncoder(), window: int(max(w.Window, 1)),
		maxPayload: wire.MaxPayload, maxAge: w.MaxSampleAge, cursor: a.spool.Cursor(w.LastSeq + 1)}
	defer s.cursor.Close()
	return s.loop(ctx, events, max(w.HeartbeatInterval, 100*time.Millisecond))
}

// handshake sends HELLO and waits for WELCOME or ERROR.
func (a *Agent) handshake(conn net.Conn, dec *wire.Decoder) (wire.Welcome, error) {
	conn.SetDeadline(a.cfg.Now().Add(10 * time.Second)) //nolint:errcheck // a failure shows in the I/O below
	defer conn.SetDeadline(time.Time{})                 //nolint:errcheck // as above
	secret, err := loadSecret(a.cfg.SpoolDir)
	if err != nil {
		return wire.Welcome{}, err
	}
	out, start := wire.BeginFrame(nil)
	out = wire.AppendHello(out, &wire.Hello{Version: wire.ProtocolVersion, AgentID: a.id, Hostname: a.cfg.Hostname,
		AgentVersion: a.cfg.Version, Labels: a.helloLabels(), Token: a.cfg.Token, Secret: secret, BootTime: a.bootTime()})
	out, err = wire.EndFrame(out, start)
	if err != nil {
		return wire.Welcome{}, err
	}
	if _, err := conn.Write(out); err != nil {
		return wire.Welcome{}, fmt.Errorf("send hello: %w", err)
	}
	p, err := readFrame(conn, dec)
	if err != nil {
		return wire.Welcome{}, fmt.Errorf("await welcome: %w", err)
	}
	if k, _ := wire.PeekKind(p); k == wire.KindError {
		e, _ := wire.DecodeError(p)
		return wire.Welcome{}, fmt.Errorf("server refused the session: %w", &e)
	}
	w, err := wire.DecodeWelcome(p)
	if err == nil && w.Secret != "" && w.Secret != secret {
		err = saveSecret(a.cfg.SpoolDir, w.Secret) // enrolled: keep the secret for every later HELLO
	}
	return w, err
}

// bootTime is the host's boot time for HELLO: the seam's, or btime from
// /proc/stat; 0 when unknown.
func (a *Agent) bootTime() int64 {
	if a.cfg.BootTime != nil {
		return a.cfg.BootTime()
	}
	return procBootTime("/proc/stat")
}

// procBootTime reads the btime line of a /proc/stat file.
func procBootTime(path string) int64 {
	b, err := os.ReadFile(path)
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "btime "); ok {
			n, _ := strconv.ParseInt(strings.TrimSpace(v), 10, 64)
			return n
		}
	}
	return 0
}

func (a *Agent) helloLabels() []wire.Label {
	ls := append([]wire.Label(nil), a.cfg.Labels...)
	return append(ls, wire.Label{Name: "job", Value: a.cfg.Job}, wire.Label{Name: "instance", Value: a.cfg.Instance})
}

// readFrame reads until dec yields a frame; the payload is a copy. While
// nothing is pending it reads into a small buffer, so that the reader,
// blocked between the server's replies, holds no frame-sized buffer.
func readFrame(conn net.Conn, dec *wire.Decoder) ([]byte, error) {
	var small [512]byte
	for {
		if p, ok := dec.Next(); ok {
			return append([]byte(nil), p...), nil
		}
		var n int
		var err error
		if dec.Pending() == 0 {
			n, err = conn.Read(small[:])
			dec.Write(small[:n])
		} else {
			n, err = conn.Read(dec.Space())
			dec.Commit(n)
		}
		if err != nil && n == 0 {
			if errors.Is(err, io.EOF) {
				return nil, io.ErrUnexpectedEOF
			}
			return nil, err
		}
	}
}

// readLoop turns the server's frames into events until the connection ends.
func (a *Agent) readLoop(conn net.Conn, dec *wire.Decoder, events chan<- event) {
	defer close(events)
	for {
		p, err := readFrame(conn, dec)
		if err != nil {
			events <- event{err: fmt.Errorf("read: %w", err)}
			return
		}
		k, err := wire.PeekKind(p)
		var ev event
		switch {
		case err != nil:
			ev.err = fmt.Errorf("from server: %w", err)
		case k == wire.KindAck:
			m, derr := wire.DecodeAck(p)
			ev.ack, ev.err = m.Seq, derr
		case k == wire.KindHeartbeatEcho:
			m, derr := wire.DecodeHeartbeat(p)
			ev.echo, ev.t4, ev.err = &m, a.cfg.Now().UnixNano(), derr
		case k == wire.KindGoAway:
			m, _ := wire.DecodeGoAway(p)
			ev.err = &goAway{after: m.ReconnectAfter}
		case k == wire.KindError:
			m, _ := wire.DecodeError(p)
			ev.err = fmt.Errorf("server error: %w", &m)
		default:
			ev.err = fmt.Errorf("unexpected %v from server", k)
		}
		events <- ev
		if ev.err != nil {
			return
		}
	}
}
