package server

import (
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io/fs"
	"math/bits"
	"os"
	"time"

	"hawk/internal/atomicfile"
	"hawk/internal/wire"
)

// The fleet file, -data/hawk-fleet, keeps every agent the server has
// welcomed across restarts and upgrades. Layout (integers little-endian,
// "uv" an unsigned varint, "str" a uv length then that many bytes):
//
//	magic "HKFL", version byte (1), uv entry count, entries, CRC-32C
//	(Castagnoli, 4 bytes) of everything before it.
//	entry: str id, str hostname, str version, str protocol, str job,
//	       str instance, uv label count, (str name, str value)...,
//	       i64 last seen (Unix ns), i64 boot time (Unix s), byte flags
//	       (1 judged, 2 judged up, 4 the agent closed its last
//	       connection itself), i64 silent since (Unix ns, 0 none),
//	       4 × uv outage count by cause (network, reboot, agent-stopped,
//	       unknown), uv outages, (i64 start ns, i64 end ns, str cause)...
//
// It is written whole: temp file, fsync, rename, fsync of the directory,
// so a crash leaves the old or the new file. The liveness loop writes it
// when the fleet changed, at most every FleetSaveInterval, and on
// Shutdown; a process started by a SIGHUP upgrade opens it only after the
// old one exited, so it reads the old one's last word.
const (
	fleetMagic   = "HKFL"
	fleetVersion = 1
)

var fleetCRC = crc32.MakeTable(crc32.Castagnoli)

func appendStr(b []byte, s string) []byte {
	return append(binary.AppendUvarint(b, uint64(len(s))), s...)
}
func appendI64(b []byte, v int64) []byte { return binary.LittleEndian.AppendUint64(b, uint64(v)) }

func unixNano(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixNano()
}

func fromNano(n int64) time.Time {
	if n == 0 {
		return time.Time{}
	}
	return time.Unix(0, n)
}

// fileEntry is what the fleet file keeps of one agent, copied under the
// fleet's lock so that the file is sized and encoded outside it: with
// 6,000 agents of 3.6 KB identities the encode held the lock 70 to 82 ms
// every 2 s while the fleet changed, and HELLOs, closes, the liveness
// loop and fleet pages waited (docs/security.md, section 9, "A control").
type fileEntry struct {
	strs     [6]string    // id, hostname, version, protocol, job, instance
	labels   []wire.Label // shared: an agent's labels are replaced, never changed in place
	lastSeen int64
	boot     int64
	flags    byte
	silent   int64 // Unix ns, 0 none
	counts   [nCauses]uint64
	outages  []Outage // copied: a full list shifts in place (finishOutageLocked)
}

// fileEntriesLocked copies what the fleet file keeps of every agent; the
// outages go to one array shared by the entries. f.mu must be held.
func (f *Fleet) fileEntriesLocked() []fileEntry {
	es := make([]fileEntry, len(f.list))
	n := 0
	for _, a := range f.list {
		n += len(a.outages)
	}
	outages := make([]Outage, 0, n)
	for i, a := range f.list {
		e := &es[i]
		e.strs = [6]string{a.id, a.hostname, a.version, a.protocol, a.job, a.instance}
		e.labels, e.lastSeen, e.boot = a.labels, a.lastSeen.Load(), a.bootTime
		if a.judged {
			e.flags |= 1
		}
		if a.judgedUp {
			e.flags |= 2
		}
		if !a.closedAt.IsZero() {
			e.flags |= 4
		}
		e.silent, e.counts = unixNano(a.silentSince), a.outageCounts
		k := len(outages)
		outages = append(outages, a.outages...)
		e.outages = outages[k:len(outages):len(outages)]
	}
	return es
}

// encodeFleet encodes es in the layout above, into one buffer of the
// image's exact size: grown by append, a 22 MB image (6,000 agents with
// 3.6 KB of labels) was about five times its size in garbage every save,
// and the old and new buffers of each growth were live at once
// (docs/security.md, section 9, huge-hello).
func encodeFleet(es []fileEntry) []byte {
	b := make([]byte, 0, fleetImageSize(es))
	b = append(b, fleetMagic...)
	b = append(b, fleetVersion)
	b = binary.AppendUvarint(b, uint64(len(es)))
	for i := range es {
		e := &es[i]
		for _, s := range e.strs {
			b = appendStr(b, s)
		}
		b = binary.AppendUvarint(b, uint64(len(e.labels)))
		for _, l := range e.labels {
			b = appendStr(appendStr(b, l.Name), l.Value)
		}
		b = appendI64(b, e.lastSeen)
		b = appendI64(b, e.boot)
		b = append(b, e.flags)
		b = appendI64(b, e.silent)
		for _, n := range e.counts {
			b = binary.AppendUvarint(b, n)
		}
		b = binary.AppendUvarint(b, uint64(len(e.outages)))
		for _, o := range e.outages {
			b = appendStr(appendI64(appendI64(b, unixNano(o.Start)), unixNano(o.End)), o.Cause)
		}
	}
	return binary.LittleEndian.AppendUint32(b, crc32.Checksum(b, fleetCRC))
}

// fleetImageSize is the length of encodeFleet's image, counted in the
// same order as it is written.
func fleetImageSize(es []fileEntry) int {
	str := func(s string) int { return uvarintLen(uint64(len(s))) + len(s) }
	n := len(fleetMagic) + 1 + uvarintLen(uint64(len(es)))
	for i := range es {
		e := &es[i]
		for _, s := range e.strs {
			n += str(s)
		}
		n += uvarintLen(uint64(len(e.labels)))
		for _, l := range e.labels {
			n += str(l.Name) + str(l.Value)
		}
		n += 8 + 8 + 1 + 8 // last seen, boot time, flags, silent since
		for _, c := range e.counts {
			n += uvarintLen(c)
		}
		n += uvarintLen(uint64(len(e.outages)))
		for _, o := range e.outages {
			n += 8 + 8 + str(o.Cause)
		}
	}
	return n + 4 // CRC
}

// uvarintLen is the length of v as binary.AppendUvarint writes it.
func uvarintLen(v uint64) int { return (bits.Len64(v|1) + 6) / 7 }

// errCorruptFleet marks a fleet file that fails its checksum or does not parse.
var errCorruptFleet = errors.New("server: corrupt fleet file")

// fleetReader is a sticky-error reader of the fleet file.
type fleetReader struct {
	b   []byte
	err error
}

func (r *fleetReader) fail() {
	if r.err == nil {
		r.err = errCorruptFleet
	}
	r.b = nil
}

func (r *fleetReader) uv() uint64 {
	v, n := binary.Uvarint(r.b)
	if n <= 0 {
		r.fail()
		return 0
	}
	r.b = r.b[n:]
	return v
}

func (r *fleetReader) i64() int64 {
	if len(r.b) < 8 {
		r.fail()
		return 0
	}
	v := int64(binary.LittleEndian.Uint64(r.b))
	r.b = r.b[8:]
	return v
}

func (r *fleetReader) str() string {
	n := r.uv()
	if n > uint64(len(r.b)) {
		r.fail()
		return ""
	}
	s := string(r.b[:n])
	r.b = r.b[n:]
	return s
}

func (r *fleetReader) byte1() byte {
	if len(r.b) < 1 {
		r.fail()
		return 0
	}
	c := r.b[0]
	r.b = r.b[1:]
	return c
}

// decodeFleet parses a fleet file into entries.
func decodeFleet(b []byte, maxOutages int) ([]*Agent, error) {
	if len(b) < len(fleetMagic)+1+4 || string(b[:4]) != fleetMagic {
		return nil, fmt.Errorf("%w: bad header", errCorruptFleet)
	}
	if b[4] != fleetVersion {
		return nil, fmt.Errorf("%w: version %d, this server reads %d", errCorruptFleet, b[4], fleetVersion)
	}
	body := b[:len(b)-4]
	if crc32.Checksum(body, fleetCRC) != binary.LittleEndian.Uint32(b[len(b)-4:]) {
		return nil, fmt.Errorf("%w: checksum mismatch", errCorruptFleet)
	}
	r := &fleetReader{b: body[5:]}
	n := r.uv()
	if n > uint64(len(r.b)) {
		return nil, fmt.Errorf("%w: %d entries in %d bytes", errCorruptFleet, n, len(r.b))
	}
	out := make([]*Agent, 0, n)
	for i := uint64(0); i < n && r.err == nil; i++ {
		a := &Agent{id: r.str(), hostname: r.str(), version: r.str(), protocol: r.str(), job: r.str(), instance: r.str()}
		nl := r.uv()
		if nl > uint64(len(r.b)) {
			r.fail()
			break
		}
		for range nl {
			a.labels = append(a.labels, wire.Label{Name: r.str(), Value: r.str()})
		}
		a.lastSeen.Store(r.i64())
		a.bootTime = r.i64()
		flags := r.byte1()
		a.judged, a.judgedUp = flags&1 != 0, flags&2 != 0
		if flags&4 != 0 {
			a.closedAt = time.Unix(0, a.lastSeen.Load())
		}
		a.silentSince = fromNano(r.i64())
		for c := range a.outageCounts {
			a.outageCounts[c] = r.uv()
		}
		no := r.uv()
		if no > uint64(len(r.b)) {
			r.fail()
			break
		}
		for range no {
			o := Outage{Start: fromNano(r.i64()), End: fromNano(r.i64()), Cause: r.str()}
			a.outages = append(a.outages, o)
		}
		if len(a.outages) > maxOutages {
			a.outages = a.outages[len(a.outages)-maxOutages:]
		}
		out = append(out, a)
	}
	if r.err == nil && len(r.b) != 0 {
		r.fail()
	}
	return out, r.err
}

// load fills an empty fleet from its file; a missing file is an empty fleet.
func (f *Fleet) load(path string) error {
	b, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("server: read fleet: %w", err)
	}
	agents, err := decodeFleet(b, f.maxOutages)
	if err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	for _, a := range agents {
		a.row = newAgentRow(a.identityOf(), a.labels, f.maxEntry) // not yet shared: no lock
	}
	now := f.now()
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, a := range agents {
		if a.id == "" || f.agents[a.id] != nil {
			continue
		}
		if a.judgedUp && a.closedAt.IsZero() {
			// Up when the previous process stopped: the time the server
			// itself was away (an upgrade, a restart) is no outage of the
			// agent's. It has the usual offline time to reconnect.
			a.seen(now)
		}
		f.addLocked(a)
	}
	f.dirty = false
	return nil
}

// save writes the fleet file if the fleet changed since the last write.
func (f *Fleet) save(path string) error {
	f.mu.Lock()
	if !f.dirty {
		f.mu.Unlock()
		return nil
	}
	es := f.fileEntriesLocked()
	f.dirty = false
	f.mu.Unlock()
	b := encodeFleet(es)
	if err := atomicfile.Write(path, b, 0o644); err != nil {
		f.mu.Lock()
		f.dirty = true
		f.mu.Unlock()
		return err
	}
	return nil
}

func (s *Server) saveFleet() {
	if s.cfg.FleetFile == "" {
		return
	}
	if err := s.fleet.save(s.cfg.FleetFile); err != nil {
		s.m.errors.WithLabelValues("fleet_save").Inc()
		s.log.Warn("fleet not saved", "err", err)
	}
}
