package store

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io/fs"
	"os"
	"slices"
	"sync"
	"time"

	"hawk/internal/atomicfile"
)

// ErrCorruptSequences marks a sequence file that fails its checksum or does
// not parse. The file is replaced atomically, so this means damage from
// outside, not a torn write.
var ErrCorruptSequences = errors.New("store: corrupt sequence file")

// DefaultSequenceFlushInterval is how often Sequences persists what changed.
const DefaultSequenceFlushInterval = time.Second

// Frozen layout of the sequence file (see doc.go).
const (
	seqMagic      = "HKSQ"
	seqVersion    = 1
	seqHeaderSize = 4 + 1 + 4 // magic, version, entry count
	maxAgentIDLen = 1 << 16
	maxSeqEntries = 1 << 24
)

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// Sequences remembers, per agent id, the highest batch sequence whose
// samples were committed to the sink. Last and Advance work on an in-memory
// map; a background goroutine persists a changed map every flush interval,
// and Sync and Close persist at once. After a crash the persisted value can
// lag behind what was acknowledged by up to one interval: the agent's resent
// batches are then appended again, which the TSDB deduplicates (see doc.go).
//
// Sequences is safe for concurrent use.
type Sequences struct {
	path string

	mu    sync.Mutex
	last  map[string]uint64 // guarded by mu
	dirty bool              // guarded by mu; last differs from the file

	writeMu sync.Mutex // serialises file writes; never held with mu during I/O

	stop      chan struct{}  // closed by Close to stop the flusher
	wg        sync.WaitGroup // the flusher goroutine
	closeOnce sync.Once
	closeErr  error // result of the one Close
}

// OpenSequences loads the sequence file at path (a missing file is an empty
// map) and starts persisting changes every DefaultSequenceFlushInterval.
func OpenSequences(path string) (*Sequences, error) {
	return OpenSequencesInterval(path, DefaultSequenceFlushInterval)
}

// OpenSequencesInterval is OpenSequences with a flush interval; an interval
// <= 0 starts no goroutine, leaving persistence to Sync and Close.
func OpenSequencesInterval(path string, interval time.Duration) (*Sequences, error) {
	last, err := readSequences(path)
	if err != nil {
		return nil, err
	}
	s := &Sequences{path: path, last: last, stop: make(chan struct{})}
	if interval > 0 {
		s.wg.Add(1)
		go s.flushLoop(interval)
	}
	return s, nil
}

// Last returns the highest sequence advanced to for agentID, 0 if none.
func (s *Sequences) Last(agentID string) uint64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.last[agentID]
}

// Advance raises agentID's sequence to seq; a lower or equal seq is a no-op.
// It does no I/O.
func (s *Sequences) Advance(agentID string, seq uint64) error {
	if len(agentID) >= maxAgentIDLen {
		return fmt.Errorf("store: advance sequence: agent id of %d bytes too long", len(agentID))
	}
	s.mu.Lock()
	if seq > s.last[agentID] {
		s.last[agentID] = seq
		s.dirty = true
	}
	s.mu.Unlock()
	return nil
}

// Sync persists the map if it changed since the last write.
func (s *Sequences) Sync() error {
	s.writeMu.Lock()
	defer s.writeMu.Unlock()
	s.mu.Lock()
	if !s.dirty {
		s.mu.Unlock()
		return nil
	}
	buf := appendSequences(nil, s.last)
	s.dirty = false
	s.mu.Unlock()
	if err := atomicfile.Write(s.path, buf, 0o644); err != nil {
		s.mu.Lock()
		s.dirty = true
		s.mu.Unlock()
		return fmt.Errorf("store: write sequences: %w", err)
	}
	return nil
}

// Close stops the flusher and persists what is pending. It is idempotent.
func (s *Sequences) Close() error {
	s.closeOnce.Do(func() {
		close(s.stop)
		s.wg.Wait()
		s.closeErr = s.Sync()
	})
	return s.closeErr
}

// flushLoop persists changes every interval until stop is closed. A failed
// write stays dirty and is retried on the next tick; Close reports it.
func (s *Sequences) flushLoop(interval time.Duration) {
	defer s.wg.Done()
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-s.stop:
			return
		case <-t.C:
			_ = s.Sync()
		}
	}
}

// appendSequences encodes the map, sorted by agent id, in the frozen layout.
func appendSequences(dst []byte, last map[string]uint64) []byte {
	ids := make([]string, 0, len(last))
	for id := range last {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	start := len(dst)
	dst = append(dst, seqMagic...)
	dst = append(dst, seqVersion)
	dst = binary.LittleEndian.AppendUint32(dst, uint32(len(ids)))
	for _, id := range ids {
		dst = binary.LittleEndian.AppendUint16(dst, uint16(len(id)))
		dst = append(dst, id...)
		dst = binary.LittleEndian.AppendUint64(dst, last[id])
	}
	return binary.LittleEndian.AppendUint32(dst, crc32.Checksum(dst[start:], castagnoli))
}

// parseSequences decodes a whole sequence file.
func parseSequences(b []byte) (map[string]uint64, error) {
	if len(b) < seqHeaderSize+4 || !bytes.HasPrefix(b, []byte(seqMagic)) || b[4] != seqVersion {
		return nil, fmt.Errorf("%w: bad header", ErrCorruptSequences)
	}
	body, sum := b[:len(b)-4], binary.LittleEndian.Uint32(b[len(b)-4:])
	if crc32.Checksum(body, castagnoli) != sum {
		return nil, fmt.Errorf("%w: checksum mismatch", ErrCorruptSequences)
	}
	n := binary.LittleEndian.Uint32(body[5:])
	if n > maxSeqEntries || int(n)*10 > len(body) {
		return nil, fmt.Errorf("%w: %d entries in %d bytes", ErrCorruptSequences, n, len(body))
	}
	last := make(map[string]uint64, n)
	p := body[seqHeaderSize:]
	for range n {
		if len(p) < 2 {
			return nil, fmt.Errorf("%w: truncated entry", ErrCorruptSequences)
		}
		l := int(binary.LittleEndian.Uint16(p))
		if len(p) < 2+l+8 {
			return nil, fmt.Errorf("%w: truncated entry", ErrCorruptSequences)
		}
		last[string(p[2:2+l])] = binary.LittleEndian.Uint64(p[2+l:])
		p = p[2+l+8:]
	}
	if len(p) != 0 {
		return nil, fmt.Errorf("%w: %d trailing bytes", ErrCorruptSequences, len(p))
	}
	return last, nil
}

// readSequences loads path; a missing file is an empty map.
func readSequences(path string) (map[string]uint64, error) {
	b, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return map[string]uint64{}, nil
	}
	if err != nil {
		return nil, fmt.Errorf("store: read sequences: %w", err)
	}
	last, err := parseSequences(b)
	if err != nil {
		return nil, fmt.Errorf("store: read sequences %q: %w", path, err)
	}
	return last, nil
}
