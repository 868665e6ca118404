package server

import (
	"bytes"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"hash/crc32"
	"io/fs"
	"os"
	"slices"
	"sync"

	"hawk/internal/atomicfile"
	"hawk/internal/wire"
)

// Enrolment binds an agent id to the agent that first used it. On the first
// HELLO for an id the server issues a secret in WELCOME; the agent keeps it
// in its spool directory, as a host keeps its SSH host key, and sends it in
// every later HELLO. A HELLO for an enrolled id without that secret is
// refused, whatever token it carries, so a peer that learned an agent id
// (they are shown in /api/v1/agents) cannot take the agent's place, kick it
// or move its stored sequence. A HELLO for an id not enrolled here that
// already carries a secret (issued by another server of the agent's list,
// or before this server lost its data directory) enrols that secret, so
// one secret serves an agent across its servers.
//
// Only SHA-256 digests of secrets are kept, in memory and in the file.
// Secrets are 256-bit random strings, so a plain digest is enough: there
// is nothing to guess.

// Frozen layout of the enrolment file: magic "HKEN", version 1, entry count
// (uint32 LE), then per entry the id length (uint16 LE), the id and the
// 32-byte SHA-256 of the secret, sorted by id; a CRC-32C (LE) of everything
// before it ends the file.
const (
	enrolMagic      = "HKEN"
	enrolVersion    = 1
	enrolHeaderSize = 4 + 1 + 4
	// MinSecretLen and MaxSecretLen bound a secret an agent brings.
	MinSecretLen = 32
	MaxSecretLen = 128
)

var crcTable = crc32.MakeTable(crc32.Castagnoli)

// ErrCorruptEnrolments marks an enrolment file that fails its checksum or
// does not parse.
var ErrCorruptEnrolments = errors.New("server: corrupt enrolment file")

// errEnrolled: another session enrolled the id first.
var errEnrolled = errors.New("server: agent id enrolled meanwhile")

// errEnrolmentsFull: the store holds its limit of ids.
var errEnrolmentsFull = errors.New("server: too many enrolled agents")

// Enrolments stores the digests of the agents' secrets, in memory and, when
// it has a path, in a file rewritten atomically on each change (concurrent
// changes share one write). Safe for concurrent use.
type Enrolments struct {
	path string
	max  int

	mu   sync.Mutex
	sums map[string][32]byte // guarded by mu
	gen  uint64              // guarded by mu; counts changes

	saveMu sync.Mutex // serialises file writes
	saved  uint64     // guarded by saveMu; gen the file holds
	// buf and ids are the last write's file image and sorted ids, kept
	// (up to maxKeptEnrolBytes each) for the next write: under a wave of
	// new agents the file is rewritten hundreds of times a second, and a
	// fresh image each time was most of the server's garbage (section 9
	// of docs/security.md, huge-hello). Guarded by saveMu.
	buf []byte
	ids []string
}

// maxKeptEnrolBytes bounds each buffer an Enrolments keeps between
// writes (4 MiB: about 60,000 ids of 30 bytes); a larger file is encoded
// into a buffer of its exact size and dropped after the write.
const maxKeptEnrolBytes = 4 << 20

// OpenEnrolments loads the enrolment file at path (missing: none enrolled);
// path "" keeps enrolments in memory only. At most max ids are enrolled (0:
// no limit).
func OpenEnrolments(path string, max int) (*Enrolments, error) {
	e := &Enrolments{path: path, max: max, sums: map[string][32]byte{}}
	if path == "" {
		return e, nil
	}
	b, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return e, nil
	}
	if err != nil {
		return nil, fmt.Errorf("server: read enrolments: %w", err)
	}
	if e.sums, err = parseEnrolments(b); err != nil {
		return nil, fmt.Errorf("server: read enrolments %q: %w", path, err)
	}
	return e, nil
}

// Len returns how many agent ids are enrolled.
func (e *Enrolments) Len() int {
	e.mu.Lock()
	defer e.mu.Unlock()
	return len(e.sums)
}

// check reports whether id is enrolled and, if so, whether secret is its
// secret (compared in constant time).
func (e *Enrolments) check(id, secret string) (enrolled, ok bool) {
	e.mu.Lock()
	want, enrolled := e.sums[id]
	e.mu.Unlock()
	if !enrolled {
		return false, false
	}
	got := sha256.Sum256([]byte(secret))
	return true, subtle.ConstantTimeCompare(got[:], want[:]) == 1
}

// enrol binds id to secret, or to a new random secret when secret is "",
// and persists the binding. It returns the secret issued ("" when the
// agent's own was enrolled).
func (e *Enrolments) enrol(id, secret string) (issued string, err error) {
	if secret == "" {
		var b [32]byte
		rand.Read(b[:]) //nolint:errcheck // crypto/rand.Read never fails (Go 1.24)
		secret = hex.EncodeToString(b[:])
		issued = secret
	}
	e.mu.Lock()
	if _, ok := e.sums[id]; ok {
		e.mu.Unlock()
		return "", errEnrolled
	}
	if e.max > 0 && len(e.sums) >= e.max {
		e.mu.Unlock()
		return "", errEnrolmentsFull
	}
	e.sums[id] = sha256.Sum256([]byte(secret))
	e.gen++
	e.mu.Unlock()
	return issued, e.save()
}

// Forget removes id's enrolment, so that the next HELLO for it enrols
// afresh (a reinstalled host that kept its agent id but lost its spool).
// It reports whether id was enrolled.
func (e *Enrolments) Forget(id string) (bool, error) {
	e.mu.Lock()
	_, ok := e.sums[id]
	delete(e.sums, id)
	if ok {
		e.gen++
	}
	e.mu.Unlock()
	if !ok {
		return false, nil
	}
	return true, e.save()
}

// save writes the enrolments if they changed since the last write. A
// caller that finds a write under way waits for it and then writes what
// it left unwritten, if anything: many enrolments at once share writes.
func (e *Enrolments) save() error {
	if e.path == "" {
		return nil
	}
	e.saveMu.Lock()
	defer e.saveMu.Unlock()
	e.mu.Lock()
	gen := e.gen
	if gen == e.saved {
		e.mu.Unlock()
		return nil
	}
	b, ids := encodeEnrolments(e.buf[:0], e.ids[:0], e.sums)
	e.mu.Unlock()
	clear(ids) // the ids kept must not hold forgotten ones alive
	e.buf, e.ids = nil, nil
	if cap(b) <= maxKeptEnrolBytes {
		e.buf = b
	}
	if cap(ids) <= maxKeptEnrolBytes/16 { // a string header is 16 bytes
		e.ids = ids[:0]
	}
	if err := atomicfile.Write(e.path, b, 0o600); err != nil {
		return fmt.Errorf("server: write enrolments: %w", err)
	}
	e.saved = gen
	return nil
}

// encodeEnrolments appends the file image of sums to dst, growing it once
// to the image's exact size, and sorts the ids in ids; it returns both for
// reuse.
func encodeEnrolments(dst []byte, ids []string, sums map[string][32]byte) ([]byte, []string) {
	size := enrolHeaderSize + 4
	for id := range sums {
		ids = append(ids, id)
		size += 2 + len(id) + 32
	}
	slices.Sort(ids)
	dst = slices.Grow(dst, size)
	start := len(dst)
	dst = append(dst, enrolMagic...)
	dst = append(dst, enrolVersion)
	dst = binary.LittleEndian.AppendUint32(dst, uint32(len(ids)))
	for _, id := range ids {
		sum := sums[id]
		dst = binary.LittleEndian.AppendUint16(dst, uint16(len(id)))
		dst = append(dst, id...)
		dst = append(dst, sum[:]...)
	}
	return binary.LittleEndian.AppendUint32(dst, crc32.Checksum(dst[start:], crcTable)), ids
}

func parseEnrolments(b []byte) (map[string][32]byte, error) {
	if len(b) < enrolHeaderSize+4 || !bytes.HasPrefix(b, []byte(enrolMagic)) || b[4] != enrolVersion {
		return nil, fmt.Errorf("%w: bad header", ErrCorruptEnrolments)
	}
	body, sum := b[:len(b)-4], binary.LittleEndian.Uint32(b[len(b)-4:])
	if crc32.Checksum(body, crcTable) != sum {
		return nil, fmt.Errorf("%w: checksum mismatch", ErrCorruptEnrolments)
	}
	n := binary.LittleEndian.Uint32(body[5:])
	if int64(n)*(2+32) > int64(len(body)) {
		return nil, fmt.Errorf("%w: %d entries in %d bytes", ErrCorruptEnrolments, n, len(body))
	}
	sums := make(map[string][32]byte, n)
	p := body[enrolHeaderSize:]
	for range n {
		if len(p) < 2 {
			return nil, fmt.Errorf("%w: truncated entry", ErrCorruptEnrolments)
		}
		l := int(binary.LittleEndian.Uint16(p))
		if len(p) < 2+l+32 {
			return nil, fmt.Errorf("%w: truncated entry", ErrCorruptEnrolments)
		}
		sums[string(p[2:2+l])] = [32]byte(p[2+l : 2+l+32])
		p = p[2+l+32:]
	}
	if len(p) != 0 {
		return nil, fmt.Errorf("%w: %d trailing bytes", ErrCorruptEnrolments, len(p))
	}
	return sums, nil
}

// checkEnrolment refuses a HELLO for an enrolled agent id that lacks the
// id's secret, and reports whether the id is enrolled.
func (ss *session) checkEnrolment(h *wire.Hello) (enrolled bool, err error) {
	e := ss.srv.cfg.Enrolment
	if e == nil {
		return false, nil
	}
	enrolled, ok := e.check(h.AgentID, h.Secret)
	if enrolled && !ok {
		return true, ss.refuseCredentials("enrolment", "agent refused: the agent id is enrolled with another secret",
			[]any{"agent", snippet(h.AgentID), "secret_sent", h.Secret != ""}, "agent id %q is enrolled by another agent: this agent lacks its secret "+
				"(a reinstalled host: re-enrol it on the server, see docs/security.md)", snippet(h.AgentID))
	}
	return enrolled, nil
}

// enrol enrols the session's agent id with the secret its HELLO brought,
// if one fit to keep, or a new one, which it returns for WELCOME.
func (ss *session) enrol(id, secret string) (issued string, err error) {
	if len(secret) < MinSecretLen || len(secret) > MaxSecretLen {
		secret = ""
	}
	issued, err = ss.srv.cfg.Enrolment.enrol(id, secret)
	switch {
	case errors.Is(err, errEnrolled):
		ss.srv.refuse("enrolment", "agent refused: its id was enrolled by another connection just now", "agent", snippet(id), "remote", ss.remote)
		return "", protoErr(wire.CodeAuth, "agent id %q was enrolled by another connection just now", snippet(id))
	case errors.Is(err, errEnrolmentsFull):
		ss.srv.refuse("max_agents", "agent refused: -max-agents enrolled", "agent", snippet(id), "remote", ss.remote)
		return "", protoErr(wire.CodeOverload, "the server has enrolled its limit of agents")
	case err != nil:
		// The binding holds in memory; the file is rewritten at the next
		// enrolment. The agent is served.
		ss.srv.m.errors.WithLabelValues("enrolment_not_persisted").Inc()
		ss.srv.log.Error("enrolment not persisted", "agent", id, "err", err)
	}
	return issued, nil
}
