package bench

import (
	"context"
	"fmt"
	"time"

	"hawk/internal/wire"
)

// BackfillConfig configures RunBackfill.
type BackfillConfig struct {
	Addr     string        // server address
	Instance string        // instance label and agent id suffix
	Job      string        // job label (default "node")
	Series   int           // series of the host (default 300)
	Span     time.Duration // how much history, ending now (default 24h)
	Step     time.Duration // time between samples of a series (default 15s)
	Window   int           // batches in flight (default the WELCOME window)
}

// RunBackfill sends Span of one host's history, a batch every Step of
// sample time, as fast as the server acknowledges, and returns once every
// batch is acknowledged. It gives a server (and its UI) a day of data in
// seconds. The server's out-of-order window must cover Span.
func RunBackfill(ctx context.Context, cfg BackfillConfig) (batches int, err error) {
	if cfg.Job == "" {
		cfg.Job = "node"
	}
	if cfg.Series <= 0 {
		cfg.Series = 300
	}
	if cfg.Span <= 0 {
		cfg.Span = 24 * time.Hour
	}
	if cfg.Step <= 0 {
		cfg.Step = 15 * time.Second
	}
	h := NewHostSet(cfg.Series, cfg.Job, cfg.Instance, 1)
	hello := helloFor("backfill-"+cfg.Instance, cfg.Job)
	hello.Hostname, hello.Labels[0].Value = cfg.Instance, cfg.Instance // the fleet lists it as that host
	c, fr, w, err := dialV2(ctx, cfg.Addr, nil, hello, 10*time.Second, 64<<10)
	if err != nil {
		return 0, err
	}
	defer c.Close()
	c.SetDeadline(time.Time{}) //nolint:errcheck // a closed conn fails below
	window := max(int(w.Window), 1)
	if cfg.Window > 0 {
		window = min(window, cfg.Window)
	}
	n := int(cfg.Span / cfg.Step)
	start := time.Now().Add(-cfg.Span).Truncate(cfg.Step)
	seq0 := w.LastSeq // an id used before continues its sequence
	acks := make(chan uint64, window)
	readErr := make(chan error, 1)
	go func() {
		for {
			p, err := fr.next()
			if err != nil {
				readErr <- err
				return
			}
			a, err := wire.DecodeAck(p)
			if err != nil {
				readErr <- fmt.Errorf("want ACK: %w", err)
				return
			}
			acks <- a.Seq
		}
	}()
	enc := wire.NewEncoder()
	b := &wire.Batch{Defs: h.Defs}
	var out []byte
	acked := seq0
	for i := 1; i <= n || acked < seq0+uint64(n); {
		for i <= n && uint64(i)-(acked-seq0) <= uint64(window) {
			h.Advance(cfg.Step.Seconds())
			ms := start.Add(time.Duration(i) * cfg.Step).UnixMilli()
			b.Samples = b.Samples[:0]
			for id, v := range h.Values() {
				b.Samples = append(b.Samples, wire.Sample{ID: uint32(id), T: ms, V: v})
			}
			if out, err = enc.AppendBatch(out[:0], seq0+uint64(i), b, 0); err != nil {
				return i - 1, err
			}
			if _, err := c.Write(out); err != nil {
				return i - 1, fmt.Errorf("write: %w", err)
			}
			i++
		}
		select {
		case a := <-acks:
			acked = max(acked, a)
		case err := <-readErr:
			return int(acked - seq0), err
		case <-ctx.Done():
			return int(acked - seq0), ctx.Err()
		}
	}
	return n, nil
}
