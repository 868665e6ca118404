package spool

import (
	"fmt"
	"io"
	"os"
	"time"

	"hawk/internal/atomicfile"
	"hawk/internal/faultfs"
)

// Append assigns the next sequence number to payload and writes the record.
// With Options.Sync it returns only once the record is on stable storage.
// It may first drop the oldest segments to respect MaxBytes and MaxAge.
// Append does not retain payload. A write error is not sticky: the next
// Append, Sync or Ack first cuts the partial record it may have left (see
// heal) and goes on; only a failed cut is returned again.
func (s *Spool) Append(payload []byte) (uint64, error) {
	n := int64(headerSize + len(payload))
	if len(payload) > MaxPayload || n > s.opts.MaxBytes/4 {
		return 0, fmt.Errorf("%w: %d bytes", ErrTooLarge, len(payload))
	}
	s.wmu.Lock()
	defer s.wmu.Unlock()
	if s.closed {
		return 0, ErrClosed
	}
	if err := s.healLocked(); err != nil {
		return 0, err
	}
	seq, err := s.appendLocked(payload, n)
	if err != nil {
		s.failLocked(err)
		return 0, err
	}
	return seq, nil
}

// failLocked records a write error for the next writer to heal from, and
// counts it. The caller holds wmu.
func (s *Spool) failLocked(err error) {
	s.werr = err
	s.mu.Lock()
	s.stats.WriteErrors++
	s.mu.Unlock()
}

// healLocked recovers from the last write error, if any: the active
// segment is cut back to its last complete record (a failed write may have
// left part of one) and the file offset put there, so the next record
// follows the last good one. Records already written are kept; a failed
// META write or fsync needs nothing cut (the next one is tried again). The
// caller holds wmu.
func (s *Spool) healLocked() error {
	if s.werr == nil {
		return nil
	}
	if s.wf != nil {
		size := s.active.size
		err := s.opts.Fault.Fail(faultfs.OpTruncate, s.wf.Name())
		if err == nil {
			err = s.wf.Truncate(size)
		}
		if err == nil {
			_, err = s.wf.Seek(size, io.SeekStart)
		}
		if err != nil {
			return fmt.Errorf("spool: recover from %v: %w", s.werr, err)
		}
		s.dirty = true
	}
	s.log.Warn("spool: recovered from a write error", "err", s.werr)
	s.werr = nil
	s.mu.Lock()
	s.stats.Recovered++
	s.mu.Unlock()
	return nil
}

func (s *Spool) appendLocked(payload []byte, n int64) (uint64, error) {
	now := s.opts.Now()
	if a := s.active; a != nil && a.size > 0 && a.size+n > s.segSize {
		if err := s.sealLocked(); err != nil {
			return 0, err
		}
	}
	if err := s.dropLocked(now, n); err != nil {
		return 0, err
	}
	if s.active == nil {
		if err := s.createLocked(); err != nil {
			return 0, err
		}
	}
	seq := s.next
	if !s.opts.Sync && seq >= s.floor {
		if err := s.writeMetaLocked(meta{acked: s.acked, floor: seq + leaseSize}); err != nil {
			return 0, err
		}
	}
	ms := now.UnixMilli()
	s.wbuf = appendRecord(s.wbuf[:0], seq, ms, payload)
	if err := s.opts.Fault.Write(s.wf, s.wbuf); err != nil {
		return 0, fmt.Errorf("spool: append: %w", err)
	}
	if s.opts.Sync {
		if err := s.syncFile(s.wf); err != nil {
			return 0, fmt.Errorf("spool: append: fsync: %w", err)
		}
	} else {
		s.dirty = true
	}
	if cap(s.wbuf) > 4*windowSize {
		s.wbuf = nil
	}
	s.mu.Lock()
	a := s.active
	a.size += n
	a.count++
	a.last, a.newest = seq, ms
	s.bytes += n
	s.next = seq + 1
	if s.waited { // else nobody holds notify: save the allocation
		close(s.notify)
		s.notify = make(chan struct{})
		s.waited = false
	}
	s.mu.Unlock()
	return seq, nil
}

// Sync makes the records appended so far survive power loss, for a spool
// opened without Options.Sync: it fsyncs the active segment, and the
// directory if a segment was created since the last Sync. It does nothing
// when every record is already on stable storage. A failure is counted and
// returned; the next call tries again.
func (s *Spool) Sync() error {
	s.wmu.Lock()
	defer s.wmu.Unlock()
	if s.closed {
		return ErrClosed
	}
	if err := s.healLocked(); err != nil {
		return err
	}
	if s.newer {
		if err := atomicfile.SyncDir(s.dir); err != nil {
			s.failLocked(fmt.Errorf("spool: sync: %w", err))
			return s.werr
		}
		s.newer = false
	}
	if s.dirty && s.wf != nil {
		if err := s.syncFile(s.wf); err != nil {
			s.failLocked(fmt.Errorf("spool: sync: %w", err))
			return s.werr
		}
	}
	s.dirty = false
	return nil
}

// createLocked starts a new active segment named after the next seq.
func (s *Spool) createLocked() error {
	f, err := os.OpenFile(s.segPath(s.next), os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o640)
	if err != nil {
		return fmt.Errorf("spool: create segment: %w", err)
	}
	if s.opts.Sync {
		if err := atomicfile.SyncDir(s.dir); err != nil {
			_ = f.Close()
			return fmt.Errorf("spool: create segment: %w", err)
		}
	} else {
		s.newer = true
	}
	s.wf = f
	g := &segment{first: s.next}
	s.mu.Lock()
	s.segs = append(s.segs, g)
	s.active = g
	s.mu.Unlock()
	return nil
}

// sealLocked closes the active segment; it stays in segs until dropped or
// acknowledged. Without Sync it is fsynced here, which bounds what a
// machine crash can lose to the active segment.
func (s *Spool) sealLocked() error {
	var err error
	if !s.opts.Sync {
		err = s.wf.Sync()
		s.dirty = false
	}
	if cerr := s.wf.Close(); err == nil {
		err = cerr
	}
	s.wf = nil
	s.mu.Lock()
	s.active = nil
	s.mu.Unlock()
	if err != nil {
		return fmt.Errorf("spool: seal segment: %w", err)
	}
	return nil
}

// dropLocked deletes the oldest segments while they are older than MaxAge
// or while the segments plus incoming bytes exceed MaxBytes, and deletes
// sealed segments that are fully acknowledged. The caller holds wmu (or is
// Open, before the Spool is shared).
func (s *Spool) dropLocked(now time.Time, incoming int64) error {
	cutoff := now.Add(-s.opts.MaxAge).UnixMilli()
	for len(s.segs) > 0 {
		g := s.segs[0]
		s.mu.Lock()
		acked := g.count == 0 || g.last <= s.acked
		old := g.count > 0 && g.newest < cutoff
		full := s.bytes+incoming > s.opts.MaxBytes
		s.mu.Unlock()
		if g == s.active && (acked || !old) {
			return nil // an active segment is sealed only by size or age
		}
		if !acked && !old && !full {
			return nil
		}
		if g == s.active {
			if err := s.sealLocked(); err != nil {
				return err
			}
		}
		if err := s.removeLocked(g, old); err != nil {
			return err
		}
	}
	return nil
}

// removeLocked deletes the oldest segment g, counting its unacknowledged
// records as dropped by age or size.
func (s *Spool) removeLocked(g *segment, byAge bool) error {
	if err := s.ensureFloorLocked(); err != nil {
		return err
	}
	if err := os.Remove(s.segPath(g.first)); err != nil && !os.IsNotExist(err) {
		return fmt.Errorf("spool: remove segment: %w", err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if n := uint64(g.unackedLocked(s.acked)); n > 0 {
		if byAge {
			s.stats.DroppedAge += n
		} else {
			s.stats.DroppedSize += n
		}
		s.log.Warn("spool: dropped unacknowledged records", "segment", segName(g.first), "records", n, "by_age", byAge)
	}
	g.removed = true
	s.segs = s.segs[1:]
	s.bytes -= g.size
	return nil
}

// Ack records that the server has stored every record with seq <= seq. It
// is persisted before it returns, and segments holding only acknowledged
// records are deleted. Acknowledging an already acknowledged seq is a
// no-op; one never appended is ErrUnknownSeq.
func (s *Spool) Ack(seq uint64) error {
	s.wmu.Lock()
	defer s.wmu.Unlock()
	if s.closed {
		return ErrClosed
	}
	if err := s.healLocked(); err != nil {
		return err
	}
	if seq <= s.acked {
		return nil
	}
	if seq >= s.next {
		return fmt.Errorf("%w: ack %d, next %d", ErrUnknownSeq, seq, s.next)
	}
	s.mu.Lock()
	s.acked = seq
	s.ackedA.Store(seq)
	s.mu.Unlock()
	// The acknowledgement is persisted lazily: if it lags after a crash,
	// the agent resends batches the server already stored, and the server
	// acknowledges them without storing them again. Deleting a segment
	// persists it first (ensureFloorLocked), and so does Close.
	now := s.opts.Now()
	var err error
	if now.Sub(s.ackSavedAt) >= ackSaveInterval {
		err = s.writeMetaLocked(meta{acked: seq, floor: max(s.floor, s.next)})
	}
	if err == nil {
		err = s.dropLocked(now, 0)
	}
	if err != nil {
		s.failLocked(err)
	}
	return err
}

// syncFile fsyncs f, or fails as the fault seam says.
func (s *Spool) syncFile(f *os.File) error {
	if err := s.opts.Fault.Fail(faultfs.OpSync, f.Name()); err != nil {
		return err
	}
	return f.Sync()
}

// Close syncs and closes the spool and releases the directory. Cursors
// return ErrClosed afterwards. Close is idempotent.
func (s *Spool) Close() error {
	s.wmu.Lock()
	defer s.wmu.Unlock()
	if s.closed {
		return nil
	}
	s.mu.Lock()
	s.closed = true
	s.closedA.Store(true)
	close(s.notify)
	s.mu.Unlock()
	err := s.werr
	if s.wf != nil {
		if e := s.sealLocked(); err == nil {
			err = e
		}
	}
	if err == nil && !s.opts.Sync {
		// Everything is durable now: give back the unused lease so a clean
		// restart continues without a gap.
		err = atomicfile.SyncDir(s.dir)
		if err == nil {
			err = s.writeMetaLocked(meta{acked: s.acked, floor: s.next})
		}
	} else if err == nil && s.savedAck < s.acked {
		err = s.writeMetaLocked(meta{acked: s.acked, floor: max(s.floor, s.next)})
	}
	if e := s.lock.Close(); err == nil && e != nil {
		err = fmt.Errorf("spool: release lock: %w", e)
	}
	return err
}
