package bench

import (
	"context"
	"fmt"
	"math/rand/v2"
	"net"
	"sync"
	"sync/atomic"
	"time"

	"hawk/internal/wire"
)

// LoadConfig configures RunLoad. Zero fields take the defaults noted.
type LoadConfig struct {
	Addr     string        // server address, host:port
	Agents   int           // simulated agents, one connection each (default 1)
	Series   int           // series per agent (default 300)
	Interval time.Duration // time between an agent's batches; 0 sends as fast as the window allows
	Duration time.Duration // how long agents send (default 10s)
	Batches  int           // batches per agent at most; 0 means no limit but Duration
	Window   int           // unacknowledged batches per agent; 0 takes WELCOME's window
	Sources  int           // source addresses 127.0.0.2... to spread over; 0 binds none
	Connect  int           // handshakes in progress at once (default 64)
	Drain    time.Duration // how long to wait for outstanding ACKs after sending (default 10s)
	Job      string        // job label (default "node")
	Prefix   string        // agent id prefix (default "bench-")
	Seed     uint64        // seeds the series values
	PID      int           // server process to measure; 0 for none
	Proc     ProcReader
	Metrics  string // the server's /metrics URL; empty for none
	Counter  string // series on Metrics counting stored samples, read before and after
}

func (c *LoadConfig) setDefaults() {
	c.Agents = max(c.Agents, 1)
	if c.Series <= 0 {
		c.Series = 300
	}
	if c.Duration <= 0 {
		c.Duration = 10 * time.Second
	}
	if c.Connect <= 0 {
		c.Connect = 64
	}
	if c.Drain <= 0 {
		c.Drain = 10 * time.Second
	}
	if c.Job == "" {
		c.Job = "node"
	}
	if c.Prefix == "" {
		c.Prefix = "bench-"
	}
}

// LoadResult is what RunLoad measured.
type LoadResult struct {
	Agents, Connected int
	Send              time.Duration // length of the sending phase
	Wall              time.Duration // from the start of sending to the last ACK
	SentSamples       uint64
	AckedSamples      uint64
	SentBatches       uint64
	AckedBatches      uint64
	BytesWritten      uint64 // every byte the agents wrote after WELCOME, heartbeats included
	SteadyBytes       uint64 // bytes of batches that defined no series
	SteadySamples     uint64 // acknowledged samples of those batches
	Ack               *Hist  // from writing a batch to reading its ACK
	Echo              *Hist  // heartbeat round trips
	Errors            map[string]uint64
	Server            [2]ProcStat // at the start of sending and at the end
	ServerErr         error       // why Server is missing, if it is
	Client            [2]ProcStat
	Counted           [2]float64 // LoadConfig.Counter before and after
	CounterErr        error
}

// loadRun is the state shared by the agents of one RunLoad.
type loadRun struct {
	cfg   *LoadConfig
	start chan struct{} // closed when every agent has connected or failed
	ready sync.WaitGroup

	sentSamples, ackedSamples, sentBatches, ackedBatches atomic.Uint64
	bytes, steadyBytes, steadySamples                    atomic.Uint64
	connected                                            atomic.Int64
	lastAck                                              atomic.Int64 // Unix ns
	ack, echo                                            Hist
	errs                                                 errCounts
}

// RunLoad runs cfg.Agents agents against cfg.Addr until cfg.Duration has
// passed (or ctx ends), waits up to cfg.Drain for outstanding ACKs and
// returns the measurements. An agent whose connection ends (GOAWAY, ERROR,
// a read or write error) counts the reason in Errors and stops: load runs
// measure a steady server; RunAudit is the one that reconnects. Every
// goroutine it starts has ended when it returns.
func RunLoad(ctx context.Context, cfg LoadConfig) (*LoadResult, error) {
	cfg.setDefaults()
	r := &loadRun{cfg: &cfg, start: make(chan struct{})}
	sem := make(chan struct{}, cfg.Connect)
	var wg sync.WaitGroup
	runCtx, cancel := context.WithCancel(ctx)
	defer cancel()
	sendCtx, stopSending := context.WithCancel(runCtx)
	defer stopSending()
	r.ready.Add(cfg.Agents)
	for i := range cfg.Agents {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r.agent(runCtx, sendCtx, i, sem)
		}()
	}
	r.ready.Wait()
	res := &LoadResult{Agents: cfg.Agents, Connected: int(r.connected.Load()), Ack: &r.ack, Echo: &r.echo}
	if cfg.Metrics != "" {
		res.Counted[0], res.CounterErr = ScrapeCounter(ctx, cfg.Metrics, cfg.Counter)
	}
	res.Client[0], _ = cfg.Proc.Read(selfPID())
	if cfg.PID > 0 {
		res.Server[0], res.ServerErr = cfg.Proc.Read(cfg.PID)
	}
	t0 := time.Now()
	r.lastAck.Store(t0.UnixNano())
	close(r.start)
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	timer := time.NewTimer(cfg.Duration)
	defer timer.Stop()
	select {
	case <-timer.C:
	case <-ctx.Done():
	case <-done: // every agent sent its batches and had them acknowledged
	}
	stopSending()
	res.Send = time.Since(t0)
	<-done
	if cfg.PID > 0 && res.ServerErr == nil {
		res.Server[1], res.ServerErr = cfg.Proc.Read(cfg.PID)
	}
	res.Client[1], _ = cfg.Proc.Read(selfPID())
	if cfg.Metrics != "" && res.CounterErr == nil {
		res.Counted[1], res.CounterErr = ScrapeCounter(ctx, cfg.Metrics, cfg.Counter)
	}
	res.Wall = time.Duration(r.lastAck.Load() - t0.UnixNano())
	res.SentSamples, res.AckedSamples = r.sentSamples.Load(), r.ackedSamples.Load()
	res.SentBatches, res.AckedBatches = r.sentBatches.Load(), r.ackedBatches.Load()
	res.BytesWritten, res.SteadyBytes, res.SteadySamples = r.bytes.Load(), r.steadyBytes.Load(), r.steadySamples.Load()
	res.Errors = r.errs.snapshot()
	return res, nil
}

// inflight is a batch written and not yet acknowledged.
type inflight struct {
	seq     uint64
	at      time.Time
	samples int
	steady  bool // defined no series
}

// ackEvent is an ACK as the reader saw it.
type ackEvent struct {
	seq uint64
	at  time.Time
}

// loadAgent is one simulated agent of RunLoad, owned by its goroutine.
type loadAgent struct {
	r       *loadRun
	c       net.Conn
	hosts   *HostSet
	enc     *wire.Encoder
	batch   wire.Batch
	buf     []byte
	seq     uint64
	lastT   int64
	window  int
	flight  []inflight
	hbEvery time.Duration
	lastW   time.Time // last write
	sent    int       // batches sent
}

func (r *loadRun) agent(ctx, sendCtx context.Context, i int, sem chan struct{}) {
	cfg := r.cfg
	id := fmt.Sprintf("%s%06d", cfg.Prefix, i)
	sem <- struct{}{}
	c, fr, w, err := dialV2(ctx, cfg.Addr, Source(i, cfg.Sources), helloFor(id, cfg.Job), 30*time.Second, 4096)
	<-sem
	if err != nil {
		r.errs.add(reason(err), 1)
		r.ready.Done()
		return
	}
	defer c.Close()
	r.connected.Add(1)
	r.ready.Done()
	a := &loadAgent{r: r, c: c, hosts: NewHostSet(cfg.Series, cfg.Job, id, cfg.Seed+uint64(i)), enc: wire.NewEncoder(),
		seq: w.LastSeq, window: int(w.Window), hbEvery: w.HeartbeatInterval, lastW: time.Now()}
	if cfg.Window > 0 && (a.window == 0 || cfg.Window < a.window) {
		a.window = cfg.Window
	}
	a.window = max(a.window, 1)
	if a.hbEvery <= 0 {
		a.hbEvery = 2 * time.Second
	}
	acks := make(chan ackEvent, 64)
	readErr := make(chan error, 1)
	stop := make(chan struct{})
	var rwg sync.WaitGroup
	rwg.Add(1)
	go func() {
		defer rwg.Done()
		readErr <- readLoop(fr, acks, stop, &r.echo)
	}()
	err = a.loop(ctx, sendCtx, acks, readErr)
	close(stop)
	c.Close()
	rwg.Wait()
	if err != nil {
		r.errs.add(reason(err), 1)
	}
	if n := len(a.flight); n > 0 {
		r.errs.add("unacked_batches", uint64(n))
	}
}

// readLoop reads frames until the connection ends, passing ACKs on and
// recording heartbeat echoes. It returns the error that ended it; a GOAWAY
// or ERROR from the server ends it too.
func readLoop(fr *frameReader, acks chan<- ackEvent, stop <-chan struct{}, echo *Hist) error {
	defer fr.dec.Release()
	for {
		p, err := fr.next()
		if err != nil {
			return err
		}
		now := time.Now()
		k, err := wire.PeekKind(p)
		if err != nil {
			return err
		}
		switch k {
		case wire.KindAck:
			m, err := wire.DecodeAck(p)
			if err != nil {
				return err
			}
			select {
			case acks <- ackEvent{seq: m.Seq, at: now}:
			case <-stop:
				return nil
			}
		case wire.KindHeartbeatEcho:
			if m, err := wire.DecodeHeartbeat(p); err == nil {
				echo.Record(now.Sub(time.Unix(0, m.AgentTime)))
			}
		case wire.KindGoAway:
			m, _ := wire.DecodeGoAway(p)
			return &goAwayError{m}
		case wire.KindError:
			m, _ := wire.DecodeError(p)
			return &m
		default:
			return fmt.Errorf("unexpected %v from the server", k)
		}
	}
}

// goAwayError is a GOAWAY from the server, as an error that ends a
// connection.
type goAwayError struct{ m wire.GoAway }

func (e *goAwayError) Error() string {
	return fmt.Sprintf("goaway: %s (reconnect after %v)", e.m.Reason, e.m.ReconnectAfter)
}

// loop is the agent's select loop: it waits for the start, sends batches
// and heartbeats, and takes ACKs until sending ends and nothing is
// outstanding, or the drain time runs out.
func (a *loadAgent) loop(ctx, sendCtx context.Context, acks <-chan ackEvent, readErr <-chan error) error {
	cfg := a.r.cfg
	hb := time.NewTicker(a.hbEvery / 4)
	defer hb.Stop()
	startC, sendDone := a.r.start, (<-chan struct{})(nil)
	var next *time.Timer
	var due time.Time // when the next batch is due
	var nextC <-chan time.Time
	var drain <-chan time.Time
	sending := false
	for {
		for sending && cfg.Interval == 0 && len(a.flight) < a.window && a.more() {
			if err := a.sendBatch(); err != nil {
				return err
			}
		}
		if sending && !a.more() {
			sending, nextC = false, nil
		}
		if !sending && startC == nil && len(a.flight) == 0 {
			return nil
		}
		if !sending && startC == nil && drain == nil {
			t := time.NewTimer(cfg.Drain)
			defer t.Stop()
			drain = t.C
		}
		select {
		case <-startC:
			startC, sendDone, sending = nil, sendCtx.Done(), true
			if cfg.Interval > 0 {
				// Spread the agents' phases over the interval.
				due = time.Now().Add(rand.N(cfg.Interval))
				next = time.NewTimer(time.Until(due))
				defer next.Stop()
				nextC = next.C
			}
		case <-nextC:
			// Keep to the schedule: a late tick does not delay the next.
			due = due.Add(cfg.Interval)
			if now := time.Now(); due.Before(now) {
				due = now
			}
			next.Reset(time.Until(due))
			if len(a.flight) >= a.window {
				a.r.errs.add("window_full", 1)
				continue
			}
			if err := a.sendBatch(); err != nil {
				return err
			}
		case <-hb.C:
			if time.Since(a.lastW) >= a.hbEvery-a.hbEvery/8 { // about one per interval when idle
				if err := a.heartbeat(); err != nil {
					return err
				}
			}
		case ev := <-acks:
			a.acked(ev)
		case err := <-readErr:
			return err
		case <-sendDone:
			sending, sendDone, nextC = false, nil, nil
		case <-drain:
			return nil
		case <-ctx.Done():
			return nil
		}
	}
}

// more reports whether the agent may send another batch.
func (a *loadAgent) more() bool { return a.r.cfg.Batches == 0 || a.sent < a.r.cfg.Batches }

func (a *loadAgent) sendBatch() error {
	if a.sent > 0 {
		// Each batch is one 10 s scrape of the host, whatever the send
		// rate, so the deltas on the wire are those of a real fleet.
		a.hosts.Advance(10)
	}
	now := time.Now()
	ts := max(now.UnixMilli(), a.lastT+1)
	a.lastT = ts
	b := &a.batch
	b.Reset()
	b.Defs = a.hosts.Defs
	for i, v := range a.hosts.Values() {
		b.Samples = append(b.Samples, wire.Sample{ID: uint32(i), T: ts, V: v})
	}
	defined := a.enc.Len()
	a.seq++
	out, err := a.enc.AppendBatch(a.buf[:0], a.seq, b, 0)
	a.buf = out
	if err != nil {
		return err
	}
	steady := a.enc.Len() == defined
	// The ACK latency runs from here, the batch's frames handed to the
	// socket: the encoding before it is the agent's work, not the
	// server's, and on a loaded client it can take a scheduling slice.
	sent := time.Now()
	a.c.SetWriteDeadline(sent.Add(10 * time.Second)) //nolint:errcheck // a closed conn fails the write
	n, err := a.c.Write(out)
	a.r.bytes.Add(uint64(n))
	if err != nil {
		return err
	}
	if steady {
		a.r.steadyBytes.Add(uint64(n))
	}
	a.lastW = now
	a.sent++
	a.flight = append(a.flight, inflight{seq: a.seq, at: sent, samples: len(b.Samples), steady: steady})
	a.r.sentBatches.Add(1)
	a.r.sentSamples.Add(uint64(len(b.Samples)))
	return nil
}

func (a *loadAgent) heartbeat() error {
	now := time.Now()
	out, n, err := writeFrame(a.c, a.buf, func(b []byte) []byte {
		return wire.AppendHeartbeat(b, &wire.Heartbeat{AgentTime: now.UnixNano()}, false)
	})
	a.buf = out
	a.r.bytes.Add(uint64(n))
	a.lastW = now
	return err
}

// acked retires the batches an ACK covers.
func (a *loadAgent) acked(ev ackEvent) {
	n := 0
	for _, f := range a.flight {
		if f.seq > ev.seq {
			break
		}
		n++
		a.r.ack.Record(ev.at.Sub(f.at))
		a.r.ackedBatches.Add(1)
		a.r.ackedSamples.Add(uint64(f.samples))
		if f.steady {
			a.r.steadySamples.Add(uint64(f.samples))
		}
	}
	if n > 0 {
		a.flight = append(a.flight[:0], a.flight[n:]...)
		for {
			last := a.r.lastAck.Load()
			if ev.at.UnixNano() <= last || a.r.lastAck.CompareAndSwap(last, ev.at.UnixNano()) {
				break
			}
		}
	}
}
