package bench

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"hawk/internal/wire"
)

// ConnsConfig configures RunConns. Zero fields take the defaults noted.
type ConnsConfig struct {
	Addr      string        // server address, host:port
	Agents    int           // connections to open (default 1)
	Sources   int           // source addresses 127.0.0.2... to spread over; 0 binds none
	Connect   int           // handshakes in progress at once (default 256)
	Ramp      time.Duration // longest time to open them all (default 3m)
	Hold      time.Duration // how long to hold them once open (default 30s)
	Heartbeat time.Duration // heartbeat interval; 0 takes WELCOME's
	Prefix    string        // agent id prefix (default "idle-")
	Job       string        // job label (default "node")
	PID       int           // server process to measure; 0 for none
	Proc      ProcReader
	Progress  io.Writer // a progress line every 5 s while ramping, when not nil
}

func (c *ConnsConfig) setDefaults() {
	c.Agents = max(c.Agents, 1)
	if c.Connect <= 0 {
		c.Connect = 256
	}
	if c.Ramp <= 0 {
		c.Ramp = 3 * time.Minute
	}
	if c.Hold <= 0 {
		c.Hold = 30 * time.Second
	}
	if c.Prefix == "" {
		c.Prefix = "idle-"
	}
	if c.Job == "" {
		c.Job = "node"
	}
}

// ConnsResult is what RunConns measured.
type ConnsResult struct {
	Agents    int
	Connected int           // handshakes that succeeded
	Open      int           // connections open at the end of the hold
	Ramp      time.Duration // time to attempt every handshake
	Echo      *Hist         // heartbeat round trips during ramp and hold
	Errors    map[string]uint64
	Server    [3]ProcStat // before the ramp, after it, at the end of the hold
	ServerErr error
	Client    [3]ProcStat
}

// RunConns opens cfg.Agents idle v2 connections that heartbeat, holds them
// for cfg.Hold and closes them. Each costs one goroutine and a 64-byte read
// buffer; the connections are closed and every goroutine has ended when it
// returns.
func RunConns(ctx context.Context, cfg ConnsConfig) (*ConnsResult, error) {
	cfg.setDefaults()
	res := &ConnsResult{Agents: cfg.Agents, Echo: &Hist{}}
	self := os.Getpid()
	res.Client[0], _ = cfg.Proc.Read(self)
	if cfg.PID > 0 {
		res.Server[0], res.ServerErr = cfg.Proc.Read(cfg.PID)
	}
	holdCtx, closeAll := context.WithCancel(ctx)
	defer closeAll()
	rampCtx, rampDone := context.WithTimeout(holdCtx, cfg.Ramp)
	defer rampDone()

	var errs errCounts
	var connected, open atomic.Int64
	var attempted, wg sync.WaitGroup
	sem := make(chan struct{}, cfg.Connect)
	t0 := time.Now()
	attempted.Add(cfg.Agents)
	for i := range cfg.Agents {
		wg.Add(1)
		go func() {
			defer wg.Done()
			h := idleConn{cfg: &cfg, errs: &errs, echo: res.Echo}
			c, fr, w, err := h.dial(rampCtx, holdCtx, i, sem)
			attempted.Done()
			if err != nil {
				if rampCtx.Err() == nil {
					errs.add(reason(err), 1)
				} else {
					errs.add("ramp_timeout", 1)
				}
				return
			}
			connected.Add(1)
			open.Add(1)
			defer open.Add(-1)
			h.hold(holdCtx, c, fr, w)
		}()
	}
	allTried := make(chan struct{})
	go func() { attempted.Wait(); close(allTried) }()
	progress := time.NewTicker(5 * time.Second)
	defer progress.Stop()
wait:
	for {
		select {
		case <-allTried:
			break wait
		case <-progress.C:
			if cfg.Progress != nil {
				fmt.Fprintf(cfg.Progress, "conns: %v: %d connected, %d open, errors %s\n",
					time.Since(t0).Round(time.Second), connected.Load(), open.Load(), formatCounts(errs.snapshot()))
			}
		}
	}
	res.Ramp = time.Since(t0)
	res.Connected = int(connected.Load())
	if cfg.PID > 0 && res.ServerErr == nil {
		res.Server[1], res.ServerErr = cfg.Proc.Read(cfg.PID)
	}
	res.Client[1], _ = cfg.Proc.Read(self)
	hold := time.NewTimer(cfg.Hold)
	defer hold.Stop()
	select {
	case <-hold.C:
	case <-ctx.Done():
	}
	res.Open = int(open.Load())
	if cfg.PID > 0 && res.ServerErr == nil {
		res.Server[2], res.ServerErr = cfg.Proc.Read(cfg.PID)
	}
	res.Client[2], _ = cfg.Proc.Read(self)
	closeAll()
	wg.Wait()
	res.Errors = errs.snapshot()
	return res, nil
}

// idleConn is one idle agent of RunConns, owned by its goroutine.
type idleConn struct {
	cfg  *ConnsConfig
	errs *errCounts
	echo *Hist
}

// dial waits for a handshake slot (until the ramp ends) and connects.
func (h *idleConn) dial(rampCtx, ctx context.Context, i int, sem chan struct{}) (net.Conn, *frameReader, wire.Welcome, error) {
	select {
	case sem <- struct{}{}:
	case <-rampCtx.Done():
		return nil, nil, wire.Welcome{}, rampCtx.Err()
	}
	defer func() { <-sem }()
	id := fmt.Sprintf("%s%07d", h.cfg.Prefix, i)
	return dialV2(rampCtx, h.cfg.Addr, Source(i, h.cfg.Sources), helloFor(id, h.cfg.Job), 30*time.Second, 64)
}

// hold heartbeats on c until ctx ends or the connection does.
func (h *idleConn) hold(ctx context.Context, c net.Conn, fr *frameReader, w wire.Welcome) {
	stop := context.AfterFunc(ctx, func() { c.Close() })
	defer stop()
	defer c.Close()
	defer fr.dec.Release()
	every := h.cfg.Heartbeat
	if every <= 0 {
		every = w.HeartbeatInterval
	}
	if every <= 0 {
		every = 2 * time.Second
	}
	next := time.Now().Add(rand.N(every))
	var out [64]byte
	for {
		if err := c.SetReadDeadline(next); err != nil {
			return
		}
		p, err := fr.next()
		now := time.Now()
		var ne net.Error
		switch {
		case err == nil:
			if k, _ := wire.PeekKind(p); k == wire.KindHeartbeatEcho {
				if m, err := wire.DecodeHeartbeat(p); err == nil {
					h.echo.Record(now.Sub(time.Unix(0, m.AgentTime)))
				}
				continue
			}
			if k, _ := wire.PeekKind(p); k == wire.KindGoAway || k == wire.KindError {
				h.errs.add("server_closed_"+k.String(), 1)
				return
			}
		case errors.As(err, &ne) && ne.Timeout():
			if _, _, err := writeFrame(c, out[:0], func(b []byte) []byte {
				return wire.AppendHeartbeat(b, &wire.Heartbeat{AgentTime: now.UnixNano()}, false)
			}); err != nil {
				if ctx.Err() == nil {
					h.errs.add("write_"+reason(err), 1)
				}
				return
			}
			next = next.Add(every)
			if next.Before(now) {
				next = now.Add(every)
			}
		default:
			if ctx.Err() == nil {
				h.errs.add("dropped_"+reason(err), 1)
			}
			return
		}
	}
}

// Print writes the result in the form docs/performance.md quotes.
func (r *ConnsResult) Print(w io.Writer) {
	fmt.Fprintf(w, "connections: %d of %d connected in %.1fs, %d open after the hold\n", r.Connected, r.Agents, r.Ramp.Seconds(), r.Open)
	fmt.Fprintf(w, "heartbeat echo: p50 %s p99 %s max %s (n=%d)\n", ms(r.Echo.Quantile(0.5)), ms(r.Echo.Quantile(0.99)), ms(r.Echo.Max()), r.Echo.Count())
	fmt.Fprintf(w, "errors: %s\n", formatCounts(r.Errors))
	for _, p := range []struct {
		who string
		st  [3]ProcStat
		err error
	}{{"server", r.Server, r.ServerErr}, {"client", r.Client, nil}} {
		if p.err != nil {
			fmt.Fprintf(w, "%s: not measured: %v\n", p.who, p.err)
			continue
		}
		if p.st[0].At.IsZero() {
			continue
		}
		grow := p.st[1].RSS - p.st[0].RSS
		per := 0.0
		if r.Connected > 0 {
			per = float64(grow) / float64(r.Connected)
		}
		hold := p.st[2].At.Sub(p.st[1].At).Seconds()
		fmt.Fprintf(w, "%s rss: %.1f MiB -> %.1f MiB after ramp (%.0f B/conn) -> %.1f MiB after hold; cpu during hold %.2f cores\n",
			p.who, float64(p.st[0].RSS)/(1<<20), float64(p.st[1].RSS)/(1<<20), per, float64(p.st[2].RSS)/(1<<20),
			(p.st[2].CPU-p.st[1].CPU).Seconds()/max(hold, 1e-9))
	}
}
