package bench

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"hawk/internal/wire"
)

// AuditConfig configures RunAudit. Zero fields take the defaults noted.
type AuditConfig struct {
	Addr       string        // server address host:port, or a comma-separated failover list
	API        string        // query API base URL; empty skips the check
	Agents     int           // simulated agents (default 1)
	Series     int           // series per agent (default 300)
	Interval   time.Duration // time between batches, and between their timestamps (default 1s)
	Duration   time.Duration // how long batches are generated (default 30s)
	Drain      time.Duration // how long to wait for the last ACKs afterwards (default 60s)
	Window     int           // unacknowledged batches sent per connection; 0 takes WELCOME's
	Sources    int           // source addresses 127.0.0.2... to spread over; 0 binds none
	Connect    int           // handshakes in progress at once (default 64)
	BackoffMin time.Duration // first reconnect delay after a failure (default 100ms)
	BackoffMax time.Duration // longest reconnect delay (default 5s)
	Prefix     string        // agent id prefix; must be new to the server (default "audit-<unix time>-")
	Job        string        // job label (default "node")
	Progress   io.Writer     // a progress line every 5 s, when not nil
	HTTP       *http.Client  // for the check; http.DefaultClient when nil
	FlushURL   string        // fetched before the check when set (a store that buffers recent samples)
}

func (c *AuditConfig) setDefaults() {
	c.Agents = max(c.Agents, 1)
	if c.Series <= 0 {
		c.Series = 300
	}
	if c.Interval <= 0 {
		c.Interval = time.Second
	}
	if c.Duration <= 0 {
		c.Duration = 30 * time.Second
	}
	if c.Drain <= 0 {
		c.Drain = time.Minute
	}
	if c.Connect <= 0 {
		c.Connect = 64
	}
	if c.BackoffMin <= 0 {
		c.BackoffMin = 100 * time.Millisecond
	}
	if c.BackoffMax <= 0 {
		c.BackoffMax = 5 * time.Second
	}
	if c.Prefix == "" {
		c.Prefix = fmt.Sprintf("audit-%d-", time.Now().Unix())
	}
	if c.Job == "" {
		c.Job = "node"
	}
}

// AuditResult is what RunAudit counted.
type AuditResult struct {
	Agents       int
	Batches      uint64 // generated
	Samples      uint64 // generated
	AckedBatches uint64 // acknowledged, or reported stored by WELCOME
	Unacked      uint64 // batches still unacknowledged when the drain ended
	Refused      uint64 // connection attempts that failed to connect
	Connects     uint64 // WELCOMEs received
	GoAways      uint64
	Resent       uint64            // batches written more than once
	Errors       map[string]uint64 // ERRORs by code, dropped connections and the like
	LongestPause time.Duration
	PauseEnded   time.Time
	Ack          *Hist // from the last write of a batch to its ACK
	Check        CheckResult
	Checked      bool
	Elapsed      time.Duration // generation and drain
	First        time.Time     // timestamp of every agent's batch 1
}

// OK reports whether the audit found every sample stored exactly once.
func (r *AuditResult) OK() bool {
	return r.Checked && r.Check.OK() && r.Check.Expected == r.Samples
}

// auditRun is the state the agents of one RunAudit share.
type auditRun struct {
	cfg     *AuditConfig
	t0      time.Time // timestamp of batch 1
	addrs   []string  // the servers, in failover order
	batches int       // batches each agent generates
	sem     chan struct{}
	pause   PauseTracker
	ack     Hist
	errs    errCounts

	generated, acked, unacked, refused, connects, goaways, resent atomic.Uint64
	connected                                                     atomic.Int64
}

// auditDefs returns the series of an audit agent: the host set with a
// bench="audit" label that keeps them apart from the server's own series.
func auditDefs(n int, instance string) []wire.SeriesDef {
	defs := NewHostSet(n, "node", instance, 0).Defs
	for i := range defs {
		defs[i].Labels = append(defs[i].Labels, wire.Label{Name: "bench", Value: "audit"})
	}
	return defs
}

// RunAudit runs the audit agents until every batch is acknowledged or the
// drain ends, then checks every sample through the query API (when
// cfg.API is set). Every goroutine it starts has ended when it returns.
func RunAudit(ctx context.Context, cfg AuditConfig) (*AuditResult, error) {
	cfg.setDefaults()
	batches := int(cfg.Duration / cfg.Interval)
	r := &auditRun{cfg: &cfg, batches: batches, sem: make(chan struct{}, cfg.Connect),
		t0: time.Now().Add(time.Second).Truncate(time.Second), addrs: strings.Split(cfg.Addr, ",")}
	start := time.Now()
	exps := make([]Expect, cfg.Agents)
	gens := make([]int, cfg.Agents)
	var wg sync.WaitGroup
	for i := range cfg.Agents {
		id := fmt.Sprintf("%s%06d", cfg.Prefix, i)
		exps[i] = Expect{Instance: id, Defs: auditDefs(cfg.Series, id), Start: r.t0, Interval: cfg.Interval}
		wg.Add(1)
		go func() {
			defer wg.Done()
			a := &auditAgent{r: r, i: i, id: id, defs: exps[i].Defs, server: i % len(r.addrs)}
			a.run(ctx)
			gens[i] = a.gen
		}()
	}
	stopProgress := r.progress(start)
	wg.Wait()
	stopProgress()
	res := &AuditResult{Agents: cfg.Agents, Batches: r.generated.Load(), AckedBatches: r.acked.Load(),
		Unacked: r.unacked.Load(), Refused: r.refused.Load(), Connects: r.connects.Load(), GoAways: r.goaways.Load(),
		Resent: r.resent.Load(), Errors: r.errs.snapshot(), Ack: &r.ack, Elapsed: time.Since(start), First: r.t0}
	res.Samples = res.Batches * uint64(cfg.Series)
	res.LongestPause, res.PauseEnded = r.pause.Longest(time.Now())
	if cfg.API == "" {
		return res, nil
	}
	for i := range exps {
		exps[i].Batches = gens[i]
	}
	if cfg.FlushURL != "" {
		if err := flush(ctx, cfg.HTTP, cfg.FlushURL); err != nil {
			return res, err
		}
	}
	ch := Checker{API: cfg.API, Client: cfg.HTTP}
	res.Check, res.Checked = ch.Check(ctx, exps), true
	return res, nil
}

// progress prints a line every 5 s until the returned func is called.
func (r *auditRun) progress(start time.Time) func() {
	if r.cfg.Progress == nil {
		return func() {}
	}
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		t := time.NewTicker(5 * time.Second)
		defer t.Stop()
		for {
			select {
			case <-done:
				return
			case <-t.C:
				fmt.Fprintf(r.cfg.Progress, "audit: %v: %d batches generated, %d acked, %d connected, %d refused, %d goaway, errors %s\n",
					time.Since(start).Round(time.Second), r.generated.Load(), r.acked.Load(), r.connected.Load(),
					r.refused.Load(), r.goaways.Load(), formatCounts(r.errs.snapshot()))
			}
		}
	}()
	return func() { close(done); wg.Wait() }
}

// auditBatch is a generated, unacknowledged batch: batch k has sequence k.
type auditBatch struct {
	seq    uint64
	sentAt time.Time // last write, zero if never written
}

// auditAgent is one simulated agent of RunAudit, owned by its goroutine
// but for the reader goroutine of its current connection.
type auditAgent struct {
	r    *auditRun
	i    int
	id   string
	defs []wire.SeriesDef

	gen     int          // batches generated
	pending []auditBatch // unacknowledged, oldest first
	sent    int          // pending[:sent] were written on the current connection

	c       net.Conn      // nil while disconnected
	enc     *wire.Encoder // fresh for each connection
	window  int
	hbEvery time.Duration
	lastW   time.Time
	buf     []byte
	batch   wire.Batch
	acks    chan ackEvent
	readErr chan error
	stop    chan struct{}
	rwg     sync.WaitGroup

	failures  int         // consecutive failed connects
	server    int         // index in the failover list of the server to dial
	reconnect *time.Timer // fires when it is time to connect
	drain     <-chan time.Time
}

func (a *auditAgent) run(ctx context.Context) {
	cfg := a.r.cfg
	defer a.disconnect()
	// Agents generate at the same timestamps, spread over the interval.
	phase := time.Duration(int64(cfg.Interval) * int64(a.i) / int64(cfg.Agents))
	gen := time.NewTimer(time.Until(a.r.t0.Add(phase)))
	defer gen.Stop()
	a.reconnect = time.NewTimer(0)
	defer a.reconnect.Stop()
	hb := time.NewTicker(250 * time.Millisecond)
	defer hb.Stop()
	genC := gen.C
	if a.r.batches == 0 {
		genC = nil
	}
	for {
		if a.gen == a.r.batches && len(a.pending) == 0 {
			return
		}
		if a.gen == a.r.batches && a.drain == nil {
			t := time.NewTimer(cfg.Drain)
			defer t.Stop()
			a.drain = t.C
		}
		select {
		case <-genC:
			a.generate()
			if a.gen < a.r.batches {
				gen.Reset(time.Until(a.r.t0.Add(phase + time.Duration(a.gen)*cfg.Interval)))
			} else {
				genC = nil
			}
		case <-a.reconnect.C:
			a.connect(ctx)
		case ev := <-a.acks:
			a.acked(ev.seq, ev.at)
		case err := <-a.readErr:
			a.lost(err)
		case <-hb.C:
			if a.c != nil && time.Since(a.lastW) >= a.hbEvery-a.hbEvery/8 {
				a.heartbeat()
			}
		case <-a.drain:
			a.r.unacked.Add(uint64(len(a.pending)))
			a.r.pause.Abandon(time.Now(), len(a.pending))
			return
		case <-ctx.Done():
			a.r.unacked.Add(uint64(len(a.pending)))
			a.r.pause.Abandon(time.Now(), len(a.pending))
			return
		}
	}
}

func (a *auditAgent) generate() {
	a.gen++
	a.pending = append(a.pending, auditBatch{seq: uint64(a.gen)})
	a.r.generated.Add(1)
	a.r.pause.Outstanding(time.Now(), 1)
	a.send()
}

// connect dials, and on WELCOME drops what the server has stored and
// resends the rest from the oldest on a fresh dictionary.
func (a *auditAgent) connect(ctx context.Context) {
	select {
	case a.r.sem <- struct{}{}:
	case <-ctx.Done():
		return
	}
	cfg := a.r.cfg
	c, fr, w, err := dialV2(ctx, a.r.addrs[a.server], Source(a.i, cfg.Sources), helloFor(a.id, cfg.Job), 10*time.Second, 4096)
	<-a.r.sem
	if err != nil {
		if errors.Is(err, errDial) {
			a.r.refused.Add(1)
		} else {
			a.r.errs.add("handshake_"+reason(err), 1)
		}
		a.backoff()
		return
	}
	a.r.connects.Add(1)
	a.r.connected.Add(1)
	a.failures = 0
	a.c, a.enc, a.sent, a.lastW = c, wire.NewEncoder(), 0, time.Now()
	a.window, a.hbEvery = max(int(w.Window), 1), w.HeartbeatInterval
	if cfg.Window > 0 {
		a.window = min(a.window, cfg.Window)
	}
	if a.hbEvery <= 0 {
		a.hbEvery = 2 * time.Second
	}
	if w.LastSeq > uint64(a.gen) {
		a.r.errs.add("welcome_ahead", 1) // the id was used before: the check will tell
	}
	a.acks, a.readErr, a.stop = make(chan ackEvent, 64), make(chan error, 1), make(chan struct{})
	a.rwg.Add(1)
	go func(acks chan<- ackEvent, readErr chan<- error, stop <-chan struct{}) {
		defer a.rwg.Done()
		readErr <- readLoop(fr, acks, stop, &Hist{})
	}(a.acks, a.readErr, a.stop)
	a.acked(w.LastSeq, time.Time{})
	a.send()
}

// send writes pending batches not yet written on this connection, as far
// as the window allows.
func (a *auditAgent) send() {
	for a.c != nil && a.sent < len(a.pending) && a.sent < a.window {
		p := &a.pending[a.sent]
		if err := a.write(p.seq); err != nil {
			a.lost(err)
			return
		}
		if !p.sentAt.IsZero() {
			a.r.resent.Add(1)
		}
		p.sentAt = time.Now()
		a.sent++
	}
}

// write encodes batch seq: every series has value seq at its timestamp.
func (a *auditAgent) write(seq uint64) error {
	b := &a.batch
	b.Reset()
	b.Defs = a.defs
	ts := a.r.t0.Add(time.Duration(seq-1) * a.r.cfg.Interval).UnixMilli()
	for i := range a.defs {
		b.Samples = append(b.Samples, wire.Sample{ID: uint32(i), T: ts, V: float64(seq)})
	}
	out, err := a.enc.AppendBatch(a.buf[:0], seq, b, 0)
	a.buf = out
	if err != nil {
		return err
	}
	a.c.SetWriteDeadline(time.Now().Add(10 * time.Second)) //nolint:errcheck // a closed conn fails the write
	_, err = a.c.Write(out)
	a.lastW = time.Now()
	return err
}

func (a *auditAgent) heartbeat() {
	now := time.Now()
	out, _, err := writeFrame(a.c, a.buf, func(b []byte) []byte {
		return wire.AppendHeartbeat(b, &wire.Heartbeat{AgentTime: now.UnixNano()}, false)
	})
	a.buf, a.lastW = out, now
	if err != nil {
		a.lost(err)
	}
}

// acked retires the pending batches up to seq; at is zero for batches
// WELCOME reported stored.
func (a *auditAgent) acked(seq uint64, at time.Time) {
	n := 0
	for n < len(a.pending) && a.pending[n].seq <= seq {
		if !at.IsZero() && !a.pending[n].sentAt.IsZero() {
			a.r.ack.Record(at.Sub(a.pending[n].sentAt))
		}
		n++
	}
	if n == 0 {
		return
	}
	now := at
	if now.IsZero() {
		now = time.Now()
	}
	a.r.pause.Acked(now, n)
	a.r.acked.Add(uint64(n))
	a.pending = append(a.pending[:0], a.pending[n:]...)
	a.sent = max(0, a.sent-n)
	a.send()
}

// lost ends the connection after err and schedules a reconnect: after
// GOAWAY's delay plus jitter, or after a backoff.
func (a *auditAgent) lost(err error) {
	if a.c == nil {
		return
	}
	// ACKs the reader passed on before the error still count.
	var last ackEvent
	for more := true; more; {
		select {
		case ev := <-a.acks:
			last = ev
		default:
			more = false
		}
	}
	a.disconnect()
	a.acked(last.seq, last.at)
	var ga *goAwayError
	if errors.As(err, &ga) {
		a.r.goaways.Add(1)
		a.failures = 0
		d := ga.m.ReconnectAfter
		a.reconnect.Reset(d + rand.N(d+time.Millisecond))
		return
	}
	a.r.errs.add("conn_"+reason(err), 1)
	a.backoff()
}

// backoff schedules the next connect after a failure, to the next server
// of the failover list, as hawk-agent does.
func (a *auditAgent) backoff() {
	cfg := a.r.cfg
	a.server = (a.server + 1) % len(a.r.addrs)
	d := cfg.BackoffMin << min(a.failures, 20)
	d = min(d, cfg.BackoffMax)
	a.failures++
	a.reconnect.Reset(d/2 + rand.N(d/2+1))
}

// disconnect closes the connection and waits for its reader.
func (a *auditAgent) disconnect() {
	if a.c == nil {
		return
	}
	close(a.stop)
	a.c.Close()
	a.rwg.Wait()
	a.c, a.acks, a.readErr = nil, nil, nil
	a.r.connected.Add(-1)
}

// Print writes the result in the form docs/performance.md quotes.
func (r *AuditResult) Print(w io.Writer) {
	fmt.Fprintf(w, "sent: %d samples in %d batches from %d agents over %.1fs (%d resent batches)\n",
		r.Samples, r.Batches, r.Agents, r.Elapsed.Seconds(), r.Resent)
	fmt.Fprintf(w, "acked: %d batches, %d unacknowledged at the end\n", r.AckedBatches, r.Unacked)
	fmt.Fprintf(w, "connections: %d welcomed, %d refused, %d goaway, errors %s\n", r.Connects, r.Refused, r.GoAways, formatCounts(r.Errors))
	fmt.Fprintf(w, "longest ingest pause: %s (ended %s)\n", ms(r.LongestPause), r.PauseEnded.Format(time.RFC3339Nano))
	fmt.Fprintf(w, "ack latency: p50 %s p99 %s max %s (n=%d)\n", ms(r.Ack.Quantile(0.5)), ms(r.Ack.Quantile(0.99)), ms(r.Ack.Max()), r.Ack.Count())
	if !r.Checked {
		fmt.Fprintln(w, "check: skipped (no -api)")
		return
	}
	c := &r.Check
	fmt.Fprintf(w, "stored: %d of %d expected; missing %d, duplicated %d, unexpected %d, query errors %d\n",
		c.Stored, c.Expected, c.Missing, c.Duplicated, c.Unexpected, c.QueryErrors)
	if c.FirstError != "" {
		fmt.Fprintf(w, "first query error: %s\n", c.FirstError)
	}
	if r.OK() {
		fmt.Fprintln(w, "audit: OK, every sample stored exactly once")
	} else {
		fmt.Fprintln(w, "audit: FAILED")
	}
}

// flush fetches url, for a store that must write out buffered samples
// before a query sees them.
func flush(ctx context.Context, client *http.Client, url string) error {
	if client == nil {
		client = http.DefaultClient
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return err
	}
	resp, err := client.Do(req)
	if err != nil {
		return fmt.Errorf("flush %s: %w", url, err)
	}
	resp.Body.Close()
	if resp.StatusCode/100 != 2 {
		return fmt.Errorf("flush %s: %s", url, resp.Status)
	}
	return nil
}
