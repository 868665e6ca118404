package agent

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"sync"
	"sync/atomic"
	"time"

	"hawk/internal/spool"
	"hawk/internal/wire"
)

// sendState is one session's sending side: the connection's dictionary,
// the cursor over the spool and the batches in flight.
type sendState struct {
	a          *Agent
	conn       net.Conn
	enc        *wire.Encoder
	cursor     *spool.Cursor
	window     int           // batches in flight at most
	maxPayload int           // frame payload limit
	maxAge     time.Duration // samples older than this are not sent (WELCOME's MaxSampleAge); 0: all
	ackc       chan uint64   // newest acknowledgement for the acker goroutine, see loop
	inflight   []uint64      // sequences sent and not acknowledged, ascending
	dict       *wire.Dict
	rec        wire.Record
	out        []byte
	rtt        time.Duration // last measured, for the heartbeat
	keep       *keepAlive
	quiet      quietConn // nil if the connection cannot go quiet
	isQuiet    bool
	// On a connection that goes quiet, only the echo of a heartbeat sent
	// with a batch is read as it arrives; timed is that heartbeat's
	// agent time (0: none awaited), timedAt when it was sent.
	timed    int64
	timedAt  time.Time
	rttEvery time.Duration // see rttEveryBeats
}

func (s *sendState) loop(ctx context.Context, events <-chan event, hbEvery time.Duration) error {
	s.keep = newKeepAlive(hbEvery)
	defer s.keep.close() // after its goroutine has ended (wg.Wait below)
	s.rttEvery = rttEveryBeats * hbEvery
	s.quiet, _ = s.conn.(quietConn)
	kctx, stop := context.WithCancel(ctx)
	var wg sync.WaitGroup
	wg.Add(1)
	go func() { defer wg.Done(); s.keep.run(kctx) }()
	// Acknowledgements reach the spool on their own goroutine: Ack waits
	// for the spool's writer lock, which an Append holds through a slow
	// write or fsync, and the loop must go on sending heartbeats and
	// reading replies meanwhile.
	s.ackc = make(chan uint64, 1)
	wg.Add(1)
	go func() {
		defer wg.Done()
		for seq := range s.ackc {
			if err := s.a.ackSpool(seq); err != nil {
				s.a.log.Warn("acknowledgement not recorded", "err", err)
			}
		}
	}()
	defer wg.Wait()
	defer close(s.ackc)
	defer stop()
	if err := s.heartbeat(); err != nil {
		return err
	}
	for {
		wait := s.a.spool.Wait() // before fill, so no append goes unnoticed
		if err := s.fill(); err != nil {
			return err
		}
		// Replies to batches, and the echo of a heartbeat sent with one,
		// are read as they come. Otherwise the connection goes quiet (see
		// rawConn.setQuiet): the echoes of heartbeats sent alone wait in
		// the socket until the next batch is sent (or until 4 KiB of them
		// have come), and tell nothing of the round trip then.
		s.setQuiet(len(s.inflight) == 0 && s.timed == 0)
		select {
		case <-ctx.Done():
			return ctx.Err()
		case ev, ok := <-events:
			if !ok {
				return errors.New("reader ended")
			}
			if err := s.handle(ev); err != nil {
				return err
			}
		case <-wait:
		case <-s.keep.c:
			if err := s.heartbeat(); err != nil {
				return err
			}
		}
	}
}

// rttEveryBeats: on a connection that goes quiet, a batch carries a
// heartbeat along, written before it, every this many heartbeat intervals;
// the server echoes it at once, while the batch keeps the connection
// awake, so round trip and clock offset stay measured.
const rttEveryBeats = 5

// A quietConn can keep small replies from waking the agent; rawConn is one.
type quietConn interface {
	setQuiet(bool) error
}

func (s *sendState) setQuiet(q bool) {
	if s.quiet == nil || s.isQuiet == q {
		return
	}
	if err := s.quiet.setQuiet(q); err != nil {
		// Not fatal: the reader is woken for every reply, as without it.
		s.a.log.Debug("quiet mode unavailable", "err", err)
		s.quiet = nil
		return
	}
	s.isQuiet = q
}

// keepAlive signals c when nothing has been written to the connection for
// a heartbeat interval. Any frame is a sign of life to the server
// (protocol rule 6), so, as MQTT's keep-alive does, the agent sends a
// heartbeat only on a link that is otherwise silent: a batch postpones the
// next one by a full interval.
type keepAlive struct {
	period time.Duration
	base   time.Time    // monotonic origin of last
	last   atomic.Int64 // time of the last write, ns since base
	sl     sleeper
	c      chan struct{}
}

func newKeepAlive(period time.Duration) *keepAlive {
	return &keepAlive{period: period, base: time.Now(), sl: newSleeper(), c: make(chan struct{}, 1)}
}

// rearmer is a sleeper whose running sleep can be moved by another
// goroutine; fdSleeper is one.
type rearmer interface{ rearm(d time.Duration) }

// wrote records a write. The running sleep is moved to a full interval
// from now, so that a write does not leave a wake-up behind for nothing;
// a sleeper that cannot be moved wakes early and sleeps again.
func (k *keepAlive) wrote() {
	k.last.Store(int64(time.Since(k.base)))
	if r, ok := k.sl.(rearmer); ok {
		r.rearm(k.period)
	}
}

// run signals until ctx ends, dropping signals the session is not ready
// for, as a time.Ticker does.
func (k *keepAlive) run(ctx context.Context) {
	for {
		d := k.period - (time.Since(k.base) - time.Duration(k.last.Load()))
		if d <= 0 {
			select {
			case k.c <- struct{}{}:
			default:
			}
			d = k.period // the heartbeat's write moves it again
		}
		if !k.sl.sleep(ctx, d) {
			return
		}
	}
}

func (k *keepAlive) close() { k.sl.close() }

// fill sends spooled batches until the window is full or the spool has no
// more.
func (s *sendState) fill() error {
	for len(s.inflight) < s.window {
		seq, payload, err := s.cursor.Next()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("spool: %w", err)
		}
		if s.dict == nil {
			s.dict = wire.NewDict(1 << 30)
		}
		// The record's definitions stay encoded in payload; the encoder
		// copies those it has to send (see wire.Record).
		if err := s.dict.DecodeRecord(payload, &s.rec); err != nil {
			// A record that does not decode cannot be sent; skipping it
			// is the only way forward. It is logged and counted.
			s.a.log.Error("spooled batch unreadable; skipped", "seq", seq, "err", err)
			continue
		}
		s.dropTooOld()
		s.out = s.out[:0]
		if now := s.a.cfg.Now(); s.quiet != nil && now.Sub(s.timedAt) >= s.rttEvery {
			if s.out, s.timed, err = s.appendHeartbeat(s.out); err != nil {
				return err
			}
			s.timedAt = now
		}
		if s.out, err = s.enc.AppendRecordBatch(s.out, seq, &s.rec, s.maxPayload); err != nil {
			return fmt.Errorf("encode batch %d: %w", seq, err)
		}
		if err := s.write(s.out); err != nil {
			return err
		}
		s.inflight = append(s.inflight, seq)
		s.a.stats.sent.Add(1)
	}
	return nil
}

func (s *sendState) handle(ev event) error {
	if ev.err != nil {
		return ev.err
	}
	if ev.echo != nil {
		h := ev.echo
		if s.quiet != nil {
			if h.AgentTime != s.timed {
				return nil // may have waited in a quiet socket
			}
			s.timed = 0
		}
		rtt := (ev.t4 - h.AgentTime) - (h.ServerSend - h.ServerRecv)
		offset := ((h.AgentTime - h.ServerRecv) + (ev.t4 - h.ServerSend)) / 2
		s.a.stats.rtt.Store(rtt)
		s.a.stats.offset.Store(offset)
		s.rtt = time.Duration(rtt)
		return nil
	}
	i := 0
	for i < len(s.inflight) && s.inflight[i] <= ev.ack {
		i++
	}
	s.inflight = s.inflight[:copy(s.inflight, s.inflight[i:])]
	s.a.stats.acked.Store(ev.ack)
	// Hand the newest acknowledgement to the acker, replacing one it has
	// not taken yet (acknowledgements are cumulative). Only this goroutine
	// sends, so after the drain the send cannot block.
	select {
	case <-s.ackc:
	default:
	}
	s.ackc <- ev.ack
	return nil
}

// ackSpool records the server's acknowledgement in the spool. A write
// error there (META on a full disk) does not end the session: the
// acknowledgement is kept in memory and persisted with a later one, and a
// lagging one only makes the agent resend batches the server skips.
func (a *Agent) ackSpool(seq uint64) error {
	err := a.spool.Ack(seq)
	if err == nil || errors.Is(err, spool.ErrClosed) || errors.Is(err, spool.ErrUnknownSeq) {
		if err != nil {
			return fmt.Errorf("spool ack %d: %w", seq, err)
		}
		return nil
	}
	a.stats.disk.ackFailures.Add(1)
	a.log.Warn("acknowledgement not persisted; kept in memory", "seq", seq, "err", err)
	return nil
}

func (s *sendState) heartbeat() error {
	out, _, err := s.appendHeartbeat(s.out[:0])
	if err != nil {
		return err
	}
	s.out = out
	return s.write(out)
}

// appendHeartbeat appends a HEARTBEAT frame to out; t is its agent time.
func (s *sendState) appendHeartbeat(out []byte) (_ []byte, t int64, err error) {
	t = s.a.cfg.Now().UnixNano()
	out, start := wire.BeginFrame(out)
	out = wire.AppendHeartbeat(out, &wire.Heartbeat{AgentTime: t, RTT: int64(s.rtt), Offset: s.a.stats.offset.Load()}, false)
	out, err = wire.EndFrame(out, start)
	return out, t, err
}

// writeTimeout ends a session whose server takes no bytes for this long.
const writeTimeout = 10 * time.Second

func (s *sendState) write(b []byte) error {
	var err error
	if ww, ok := s.conn.(interface {
		writeWithin([]byte, time.Duration) (int, error)
	}); ok {
		_, err = ww.writeWithin(b, writeTimeout)
	} else if err = s.conn.SetWriteDeadline(s.a.cfg.Now().Add(writeTimeout)); err == nil {
		_, err = s.conn.Write(b)
	}
	if err != nil {
		return fmt.Errorf("write: %w", err)
	}
	if s.keep != nil {
		s.keep.wrote()
	}
	return nil
}

// dropTooOld removes from the batch the samples older than the server said
// it stores (WELCOME's MaxSampleAge, on the server's clock), counting them:
// the server would acknowledge them without storing them. The batch is
// still sent, so its sequence number is acknowledged as usual.
func (s *sendState) dropTooOld() {
	if s.maxAge <= 0 {
		return
	}
	// offset is agent clock minus server clock.
	cutoff := s.a.cfg.Now().Add(-time.Duration(s.a.stats.offset.Load())).Add(-s.maxAge).UnixMilli()
	kept := s.rec.Samples[:0]
	for _, smp := range s.rec.Samples {
		if smp.T >= cutoff {
			kept = append(kept, smp)
		}
	}
	if n := len(s.rec.Samples) - len(kept); n > 0 {
		s.a.stats.disk.tooOld.Add(uint64(n))
	}
	s.rec.Samples = kept
}
