package agent

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"sync"
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
	window     int      // batches in flight at most
	maxPayload int      // frame payload limit
	inflight   []uint64 // sequences sent and not acknowledged, ascending
	dict       *wire.Dict
	batch      wire.Batch
	out        []byte
	rtt        time.Duration // last measured, for the heartbeat
}

func (s *sendState) loop(ctx context.Context, events <-chan event, hbEvery time.Duration) error {
	hb := make(chan struct{}, 1)
	tctx, stop := context.WithCancel(ctx)
	var wg sync.WaitGroup
	wg.Add(1)
	go func() { defer wg.Done(); tick(tctx, hbEvery, hb) }()
	defer wg.Wait()
	defer stop()
	if err := s.heartbeat(); err != nil {
		return err
	}
	for {
		wait := s.a.spool.Wait() // before fill, so no append goes unnoticed
		if err := s.fill(); err != nil {
			return err
		}
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
		case <-hb:
			if err := s.heartbeat(); err != nil {
				return err
			}
		}
	}
}

// tick sends on c every period until ctx ends, dropping ticks the
// receiver is not ready for, as a time.Ticker does. It sleeps on a
// sleeper, not a runtime timer: see fdSleeper.
func tick(ctx context.Context, period time.Duration, c chan<- struct{}) {
	sl := newSleeper()
	defer sl.close()
	next := time.Now().Add(period)
	for sl.sleep(ctx, time.Until(next)) {
		select {
		case c <- struct{}{}:
		default:
		}
		next = next.Add(period)
		if now := time.Now(); next.Before(now) {
			next = now.Add(period)
		}
	}
}

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
			s.dict.Intern() // the same definitions come back in every record
		}
		s.dict.Reset() // a record carries its own dictionary
		if err := s.dict.DecodeBatch(payload, &s.batch); err != nil {
			// A record that does not decode cannot be sent; skipping it
			// is the only way forward. It is logged and counted.
			s.a.log.Error("spooled batch unreadable; skipped", "seq", seq, "err", err)
			continue
		}
		if s.out, err = s.enc.AppendBatch(s.out[:0], seq, &s.batch, s.maxPayload); err != nil {
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
	if err := s.a.spool.Ack(ev.ack); err != nil {
		return fmt.Errorf("spool ack %d: %w", ev.ack, err)
	}
	return nil
}

func (s *sendState) heartbeat() error {
	now := s.a.cfg.Now().UnixNano()
	out, start := wire.BeginFrame(s.out[:0])
	out = wire.AppendHeartbeat(out, &wire.Heartbeat{AgentTime: now, RTT: int64(s.rtt), Offset: s.a.stats.offset.Load()}, false)
	out, err := wire.EndFrame(out, start)
	if err != nil {
		return err
	}
	s.out = out
	return s.write(out)
}

func (s *sendState) write(b []byte) error {
	if err := s.conn.SetWriteDeadline(s.a.cfg.Now().Add(10 * time.Second)); err != nil {
		return err
	}
	if _, err := s.conn.Write(b); err != nil {
		return fmt.Errorf("write: %w", err)
	}
	return nil
}
