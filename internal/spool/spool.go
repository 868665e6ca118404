package spool

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"hawk/internal/atomicfile"
	"hawk/internal/faultfs"
)

// Sentinel errors. Test with errors.Is.
var (
	// ErrClosed is returned by every method after Close.
	ErrClosed = errors.New("spool: closed")
	// ErrTooLarge is returned by Append for a payload over MaxPayload or
	// over a quarter of Options.MaxBytes.
	ErrTooLarge = errors.New("spool: payload too large")
	// ErrLocked is returned by Open when another Spool holds the directory.
	ErrLocked = errors.New("spool: directory locked by another spool")
	// ErrUnknownSeq is returned by Ack for a sequence not yet appended.
	ErrUnknownSeq = errors.New("spool: ack of a sequence never appended")
	// ErrBadID is returned by LoadOrCreateID when the id file is not an id.
	ErrBadID = errors.New("spool: malformed agent id file")
)

// Defaults for zero Options fields.
const (
	DefaultMaxBytes    = 512 << 20
	DefaultMaxAge      = 24 * time.Hour
	DefaultSegmentSize = 4 << 20
)

// ackSaveInterval is how often Ack rewrites META at most. A lagging META
// only makes the agent resend batches that the server then acknowledges
// without storing again, so one fsynced rewrite per batch is not worth its
// cost: after a crash the agent resends at most a minute of batches.
const ackSaveInterval = time.Minute

// leaseSize is how many sequence numbers Append reserves in META at a time
// when Options.Sync is off, so that records lost from the page cache by a
// machine crash never let a sequence number be assigned twice.
const leaseSize = 1024

// Options configure a Spool. The zero value is usable.
type Options struct {
	// MaxBytes bounds the segment files; the oldest segments are dropped
	// (counted in Stats.DroppedSize) to stay under it. Default 512 MiB.
	MaxBytes int64
	// MaxAge drops segments whose newest record is older. Default 24h.
	MaxAge time.Duration
	// SegmentSize is the size at which the active segment is sealed and a
	// new one started. Default 4 MiB; at most MaxBytes/4.
	SegmentSize int64
	// Sync makes Append fsync before it returns, so an appended record
	// survives power loss. Without it records survive a process crash
	// (kill -9) but a machine crash may lose the newest ones. See doc.go
	// for the cost.
	Sync bool
	// Now is the clock; default time.Now. A test seam.
	Now func() time.Time
	// Logger receives recovery and drop events; default discards.
	Logger *slog.Logger
	// Fault injects faults into record writes, fsyncs and the cut after a
	// failed write (tests only; nil in production).
	Fault *faultfs.Injector
}

func (o Options) withDefaults() Options {
	if o.MaxBytes <= 0 {
		o.MaxBytes = DefaultMaxBytes
	}
	if o.MaxAge <= 0 {
		o.MaxAge = DefaultMaxAge
	}
	if o.SegmentSize <= 0 {
		o.SegmentSize = DefaultSegmentSize
	}
	o.SegmentSize = min(o.SegmentSize, max(o.MaxBytes/4, 1))
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	return o
}

// segment is the in-memory summary of one segment file: the only per-record
// state the spool keeps is in these few words per file.
type segment struct {
	first   uint64 // seq in the file name; immutable
	last    uint64 // seq of the last valid record, 0 if none; guarded by mu
	count   int64  // valid records; guarded by mu
	size    int64  // bytes of complete records; guarded by mu
	newest  int64  // unix ms of the last record; guarded by mu
	removed bool   // file deleted; cursors move on; guarded by mu
}

// unackedLocked is how many records of g are above acked. Exact unless
// damaged records were skipped inside g.
func (g *segment) unackedLocked(acked uint64) int64 {
	switch {
	case g.count == 0 || g.last <= acked:
		return 0
	case acked < g.first:
		return g.count
	default:
		return min(g.count, int64(g.last-acked))
	}
}

// Spool is a crash-safe on-disk queue of unacknowledged records. All methods
// are safe for concurrent use; see the package documentation.
type Spool struct {
	dir  string
	opts Options
	log  *slog.Logger
	lock *os.File // holds the flock on LOCK until Close

	// wmu serialises writers (Append, Ack, Close) and is held during their
	// file I/O. Fields below are only touched with wmu held.
	wmu   sync.Mutex
	wf    *os.File // active segment, opened for writing; nil if none
	wbuf  []byte   // encode buffer, reused by Append
	floor uint64   // floor persisted in META
	werr  error    // last write error, not yet healed (see healLocked)
	dirty bool     // records appended without Sync and not yet fsynced
	newer bool     // segment created without Sync, its directory entry not fsynced

	// mu guards the fields below and is never held during I/O, so a cursor
	// or Stats never waits for an fsync. Fields marked "wmu+mu" are written
	// with both held and may be read with either.
	mu         sync.Mutex
	segs       []*segment    // oldest first (wmu+mu)
	active     *segment      // last of segs, being appended to; or nil (wmu+mu)
	next       uint64        // next seq to assign (wmu+mu)
	acked      uint64        // cumulative ack (wmu+mu); META may hold an older one
	savedAck   uint64        // acked as last written to META (wmu)
	ackSavedAt time.Time     // when META last recorded an ack (wmu)
	ackedA     atomic.Uint64 // copy of acked that cursors read per record
	bytes      int64         // sum of segs[i].size (wmu+mu)
	closed     bool          // Close was called (wmu+mu)
	closedA    atomic.Bool   // copy of closed that cursors read per record
	notify     chan struct{} // closed by Close, and by Append if waited
	waited     bool          // Wait handed out notify: Append must replace it
	stats      Stats         // counters only: Dropped*, Corrupt, Truncated
	segSize    int64         // SegmentSize after defaults
}

// Stats is a snapshot of a Spool's state and counters.
type Stats struct {
	Records     int64  // unacknowledged records on disk
	Bytes       int64  // bytes in segment files, acknowledged records included
	Segments    int    // segment files
	OldestSeq   uint64 // oldest unacknowledged record, 0 if none
	NewestSeq   uint64 // newest unacknowledged record, 0 if none
	NextSeq     uint64 // seq the next Append will get
	LastAcked   uint64 // cumulative acknowledgement persisted
	DroppedSize uint64 // unacknowledged records dropped by MaxBytes
	DroppedAge  uint64 // unacknowledged records dropped by MaxAge
	Corrupt     uint64 // damaged records skipped by recovery in Open
	Truncated   uint64 // segment tails truncated by recovery in Open
	WriteErrors uint64 // failed writes and fsyncs (full or failing disk)
	Recovered   uint64 // write errors healed by a later call
}

// Open opens or creates the spool in dir and recovers it: torn tails are
// truncated, damaged records skipped and counted, acknowledged segments
// deleted and the size and age bounds applied. It fails only on I/O errors
// and when another Spool holds dir (ErrLocked).
func Open(dir string, opts Options) (*Spool, error) {
	opts = opts.withDefaults()
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return nil, fmt.Errorf("spool: create dir: %w", err)
	}
	lock, err := lockDir(filepath.Join(dir, lockName))
	if err != nil {
		return nil, err
	}
	s := &Spool{
		dir: dir, opts: opts, log: opts.Logger, lock: lock,
		notify: make(chan struct{}), segSize: opts.SegmentSize,
	}
	if err := s.recover(); err != nil {
		_ = lock.Close()
		return nil, err
	}
	return s, nil
}

// recover rebuilds the in-memory state from META and the segment files.
func (s *Spool) recover() error {
	m, err := s.readMeta()
	if err != nil {
		return err
	}
	s.acked, s.floor, s.savedAck = m.acked, m.floor, m.acked
	s.ackedA.Store(m.acked)
	names, err := s.segmentNames()
	if err != nil {
		return err
	}
	next := max(m.floor, m.acked+1, 1)
	var tails []tail
	var r segReader // one read window for all segments
	for _, first := range names {
		g, t, err := s.scan(&r, first)
		if err != nil {
			return err
		}
		s.segs = append(s.segs, g)
		s.bytes += g.size
		next = max(next, g.first, g.last+1, t.minNext)
		if t.bytes > 0 {
			tails = append(tails, t)
		}
	}
	s.next = next
	// Persist the floor before changing any file: a truncated tail or a
	// deleted segment must not let a seq it may have held be reused.
	// removeLocked does the same for deletions.
	if len(tails) > 0 {
		if err := s.ensureFloorLocked(); err != nil {
			return err
		}
	}
	for _, t := range tails {
		if err := s.truncate(t); err != nil {
			return err
		}
	}
	if err := s.removeEmpty(); err != nil {
		return err
	}
	return s.dropLocked(s.opts.Now(), 0)
}

// removeEmpty deletes segments without a valid record, wherever they are:
// typically the newest, when a process died between creating it and
// writing its first record. Its name would collide with the next segment.
func (s *Spool) removeEmpty() error {
	kept := s.segs[:0]
	for _, g := range s.segs {
		if g.count > 0 {
			kept = append(kept, g)
			continue
		}
		if err := s.ensureFloorLocked(); err != nil {
			return err
		}
		if err := os.Remove(s.segPath(g.first)); err != nil {
			return fmt.Errorf("spool: remove empty segment: %w", err)
		}
		s.bytes -= g.size
	}
	clear(s.segs[len(kept):])
	s.segs = kept
	return nil
}

// readMeta reads META; a missing file is a fresh spool, a damaged one is
// logged and treated as empty (resending acknowledged records is harmless).
func (s *Spool) readMeta() (meta, error) {
	_ = os.Remove(filepath.Join(s.dir, metaName+".tmp"))
	b, err := os.ReadFile(filepath.Join(s.dir, metaName))
	if errors.Is(err, fs.ErrNotExist) {
		return meta{}, nil
	}
	if err != nil {
		return meta{}, fmt.Errorf("spool: read META: %w", err)
	}
	m, err := decodeMeta(b)
	if err != nil {
		s.log.Error("spool: ignoring META, records may be resent", "dir", s.dir, "err", err)
		return meta{}, nil
	}
	return m, nil
}

// segmentNames lists the segment files in dir by first seq, oldest first.
func (s *Spool) segmentNames() ([]uint64, error) {
	ents, err := os.ReadDir(s.dir)
	if err != nil {
		return nil, fmt.Errorf("spool: list dir: %w", err)
	}
	var firsts []uint64
	for _, e := range ents {
		if first, ok := parseSegName(e.Name()); ok && e.Type().IsRegular() {
			firsts = append(firsts, first)
		}
	}
	slices.Sort(firsts)
	return firsts, nil
}

// errCorruptMeta marks an unreadable META file. Open logs it and recovers
// from the segments; it is never returned.
var errCorruptMeta = errors.New("spool: corrupt META")

// tail describes bytes at the end of a segment that hold no valid record.
type tail struct {
	first   uint64 // segment
	off     int64  // valid end; the file is truncated here
	bytes   int64  // bytes after off
	minNext uint64 // next seq must be at least this: the tail may have held seqs below it
}

// scan reads a whole segment file and summarises it.
func (s *Spool) scan(r *segReader, first uint64) (*segment, tail, error) {
	f, err := os.Open(s.segPath(first))
	if err != nil {
		return nil, tail{}, fmt.Errorf("spool: open segment: %w", err)
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, tail{}, fmt.Errorf("spool: stat segment: %w", err)
	}
	g := &segment{first: first}
	r.reset(f, first, fi.Size())
	for {
		rec, err := r.next()
		if err == nil {
			g.last, g.newest = rec.seq, rec.ms
			g.count++
			continue
		}
		g.size = r.off
		s.stats.Corrupt += r.skipped
		if r.skipped > 0 {
			s.log.Warn("spool: skipped damaged records", "segment", segName(first), "records", r.skipped)
		}
		switch {
		case errors.Is(err, io.EOF):
			return g, tail{}, nil
		case errors.Is(err, errTail):
			n := fi.Size() - r.off
			t := tail{first: first, off: r.off, bytes: n,
				minNext: r.expect + uint64((n+headerSize-1)/headerSize)}
			return g, t, nil
		default:
			return nil, tail{}, err
		}
	}
}

// truncate cuts a torn or damaged tail off a segment file.
func (s *Spool) truncate(t tail) error {
	s.log.Warn("spool: truncating segment tail", "segment", segName(t.first), "offset", t.off, "bytes", t.bytes)
	f, err := os.OpenFile(s.segPath(t.first), os.O_WRONLY, 0)
	if err != nil {
		return fmt.Errorf("spool: truncate: %w", err)
	}
	err = f.Truncate(t.off)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("spool: truncate %s: %w", segName(t.first), err)
	}
	s.stats.Truncated++
	return nil
}

func (s *Spool) segPath(first uint64) string {
	return filepath.Join(s.dir, segName(first))
}

// writeMetaLocked persists m atomically (temp, fsync, rename, fsync dir).
// The caller holds wmu.
func (s *Spool) writeMetaLocked(m meta) error {
	if err := atomicfile.Write(filepath.Join(s.dir, metaName), m.encode(), 0o640); err != nil {
		return fmt.Errorf("spool: write META: %w", err)
	}
	s.floor, s.savedAck, s.ackSavedAt = m.floor, m.acked, s.opts.Now()
	return nil
}

// ensureFloorLocked persists floor >= next, so that deleting or truncating
// files cannot make a seq assignable twice. The caller holds wmu.
func (s *Spool) ensureFloorLocked() error {
	if s.floor >= s.next {
		return nil
	}
	return s.writeMetaLocked(meta{acked: s.acked, floor: s.next})
}

// Stats returns a snapshot of the spool's state and counters.
func (s *Spool) Stats() Stats {
	s.mu.Lock()
	defer s.mu.Unlock()
	st := s.stats
	st.Bytes, st.Segments, st.NextSeq, st.LastAcked = s.bytes, len(s.segs), s.next, s.acked
	for _, g := range s.segs {
		n := g.unackedLocked(s.acked)
		if n == 0 {
			continue
		}
		st.Records += n
		if st.OldestSeq == 0 {
			st.OldestSeq = max(g.first, s.acked+1)
		}
		st.NewestSeq = g.last
	}
	return st
}

// Wait returns a channel that is closed by the next Append or by Close.
// Call it before reading to io.EOF, then wait on it, so no record is missed.
func (s *Spool) Wait() <-chan struct{} {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.waited = true
	return s.notify
}
