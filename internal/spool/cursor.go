package spool

import (
	"errors"
	"fmt"
	"io"
	"os"
)

// Cursor iterates over unacknowledged records in sequence order. A Cursor
// is for one goroutine; any number may exist alongside Append and Ack.
type Cursor struct {
	s    *Spool
	next uint64   // lowest seq still wanted
	seg  *segment // segment being read, nil between segments
	prev uint64   // first seq of the last segment read; the next one is newer
	r    segReader
	err  error // first error other than io.EOF; returned from then on
}

// Cursor returns a cursor over the unacknowledged records with seq >= from.
// It holds at most one open segment file; Close it when done.
func (s *Spool) Cursor(from uint64) *Cursor {
	return &Cursor{s: s, next: from}
}

// Next returns the next record. The payload is valid until the next call to
// Next or Close and must not be modified. At the end of the spool Next
// returns io.EOF; a later call returns records appended since (use
// Spool.Wait to learn of them). Records acknowledged or dropped while the
// cursor is behind them are skipped. After Spool.Close, Next returns
// ErrClosed; after any other error it returns that error from then on.
func (c *Cursor) Next() (seq uint64, payload []byte, err error) {
	if c.err == nil && c.s.closedA.Load() {
		c.closeSeg()
		c.err = ErrClosed
	}
	if c.err != nil {
		return 0, nil, c.err
	}
	for range maxSteps {
		if c.seg == nil {
			ok, err := c.open()
			if err != nil {
				c.err = err
				return 0, nil, err
			}
			if !ok {
				return 0, nil, io.EOF
			}
		}
		rec, err := c.r.next()
		switch {
		case err == nil:
			if rec.seq < c.next || rec.seq <= c.s.ackedA.Load() {
				continue
			}
			c.next = rec.seq + 1
			return rec.seq, rec.payload, nil
		case errors.Is(err, io.EOF), errors.Is(err, errTail):
			more, done := c.refresh()
			if more {
				continue
			}
			if !done {
				return 0, nil, io.EOF
			}
			c.closeSeg()
		default:
			c.err = err
			return 0, nil, err
		}
	}
	// Unreachable in practice: every step reads a record or a segment.
	c.err = fmt.Errorf("spool: cursor made no progress at seq %d", c.next)
	return 0, nil, c.err
}

// maxSteps bounds Next's loop: each step consumes a record or a segment.
const maxSteps = 1 << 30

// open picks the next segment to read: the newest one starting at or before
// c.next, among those newer than the last read; or else the oldest of them.
// ok is false when there is none.
func (c *Cursor) open() (ok bool, err error) {
	for range maxSteps {
		s := c.s
		s.mu.Lock()
		if s.closed {
			s.mu.Unlock()
			return false, ErrClosed
		}
		c.next = max(c.next, s.acked+1)
		var pick *segment
		for _, g := range s.segs {
			if g.first <= c.prev && c.prev != 0 {
				continue
			}
			if pick == nil || g.first <= c.next {
				pick = g
			}
		}
		var limit int64
		if pick != nil {
			limit = pick.size
		}
		s.mu.Unlock()
		if pick == nil {
			return false, nil
		}
		f, err := os.Open(s.segPath(pick.first))
		if errors.Is(err, os.ErrNotExist) {
			c.prev = pick.first // deleted under us: acknowledged or dropped
			continue
		}
		if err != nil {
			return false, fmt.Errorf("spool: cursor: %w", err)
		}
		c.seg, c.prev = pick, pick.first
		c.r.reset(f, pick.first, limit)
		return true, nil
	}
	return false, fmt.Errorf("spool: cursor made no progress at seq %d", c.next)
}

// refresh is called at the end of the readable part of c.seg. more means
// the segment grew; done means it is finished and the cursor moves on.
func (c *Cursor) refresh() (more, done bool) {
	s := c.s
	s.mu.Lock()
	defer s.mu.Unlock()
	g := c.seg
	if g.removed || s.closed {
		return false, true
	}
	if g.size > c.r.limit && c.r.off == c.r.limit {
		c.r.limit = g.size
		return true, false
	}
	if g != s.active {
		return false, true
	}
	return false, false
}

func (c *Cursor) closeSeg() {
	if c.seg != nil {
		_ = c.r.f.Close()
		c.seg = nil
	}
}

// Close releases the cursor's file. It does not affect the Spool.
func (c *Cursor) Close() error {
	c.closeSeg()
	if c.err == nil {
		c.err = ErrClosed
	}
	return nil
}
