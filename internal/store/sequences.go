package store

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io/fs"
	"maps"
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
// Advance is on the path of every acknowledged batch, so a write holds mu
// only to take the entries advanced since the last one: it keeps its own
// copy of the map and of its sorted ids (under writeMu), and merges,
// sorts and encodes there. Holding mu for the whole encode made every
// agent's ACK wait, once a second, for the sort of the fleet's ids (tens
// of milliseconds at 100,000 agents; BenchmarkSequencesAdvanceWhileSyncing).
//
// Sequences is safe for concurrent use.
type Sequences struct {
	path string

	mu      sync.Mutex
	last    map[string]uint64 // guarded by mu
	changed map[string]uint64 // guarded by mu; entries of last advanced since a write took them

	writeMu sync.Mutex        // serialises file writes; mu is held only to swap changed
	written map[string]uint64 // guarded by writeMu; what the file holds once the pending write lands
	ids     []string          // guarded by writeMu; written's keys, sorted
	stale   bool              // guarded by writeMu; the file lags written (a write failed)
	buf     []byte            // guarded by writeMu; the file's image, reused

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
	s := &Sequences{path: path, last: last, changed: map[string]uint64{},
		written: maps.Clone(last), ids: slices.Sorted(maps.Keys(last)), stop: make(chan struct{})}
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
		s.changed[agentID] = seq
	}
	s.mu.Unlock()
	return nil
}

// Sync persists the map if it changed since the last write.
func (s *Sequences) Sync() error {
	s.writeMu.Lock()
	defer s.writeMu.Unlock()
	s.mu.Lock()
	var changed map[string]uint64
	if len(s.changed) > 0 {
		changed, s.changed = s.changed, map[string]uint64{}
	}
	s.mu.Unlock()
	if changed == nil && !s.stale {
		return nil
	}
	var fresh []string
	for id, seq := range changed {
		if _, ok := s.written[id]; !ok {
			fresh = append(fresh, id)
		}
		s.written[id] = seq
	}
	if len(fresh) > 0 {
		slices.Sort(fresh)
		s.ids = mergeSorted(s.ids, fresh)
	}
	s.buf = appendSequences(s.buf[:0], s.ids, s.written)
	if err := atomicfile.Write(s.path, s.buf, 0o644); err != nil {
		s.stale = true
		return fmt.Errorf("store: write sequences: %w", err)
	}
	s.stale = false
	return nil
}

// mergeSorted returns the sorted union of a and b, two sorted lists with
// no key in common; a's array is reused when it has room.
func mergeSorted(a, b []string) []string {
	n := len(a)
	a = slices.Grow(a, len(b))[:n+len(b)]
	// Fill from the end, so that a's elements are moved before they are
	// overwritten.
	i, j := n-1, len(b)-1
	for k := len(a) - 1; j >= 0; k-- {
		if i >= 0 && a[i] > b[j] {
			a[k] = a[i]
			i--
		} else {
			a[k] = b[j]
			j--
		}
	}
	return a
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

// appendSequences encodes last's entries, in the order of ids (sorted:
// the file's order), in the frozen layout.
func appendSequences(dst []byte, ids []string, last map[string]uint64) []byte {
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
