package wire

import (
	"bytes"
	"errors"
	"fmt"
	"hash/maphash"
)

// Record is a stored record (AppendRecord's payload) decoded for relaying
// over a connection (Encoder.AppendRecordBatch): its samples resolved as
// DecodeBatch resolves them, its definitions left as they are encoded, in
// the payload they alias. An agent re-sending its spool thus holds no
// decoded copy of its series: the Encoder keeps each series' encoded
// identity once, and a record's definitions are copied byte for byte into
// the frames that define them.
type Record struct {
	Samples []Sample // ids are definition indexes
	p       []byte
	defs    []defSpan
}

// defSpan locates one definition in a record's payload: p[start:end] is
// the whole encoded definition, p[start+1:help] its name and
// p[labels:end] its labels, both with their length prefixes. Name and
// labels are the series' identity, as appendKey has it for a SeriesDef.
type defSpan struct{ start, help, labels, end int }

// Len returns how many definitions the record has.
func (r *Record) Len() int { return len(r.defs) }

func (r *Record) identity(i int) (name, labels []byte) {
	d := &r.defs[i]
	return r.p[d.start+1 : d.help], r.p[d.labels:d.end]
}

// DecodeRecord decodes record p into rec with d, which starts afresh: a
// record carries its own dictionary. rec aliases p, which must stay
// unchanged while rec is in use.
func (d *Dict) DecodeRecord(p []byte, rec *Record) error {
	d.Reset()
	rec.p, rec.defs, rec.Samples = p, rec.defs[:0], rec.Samples[:0]
	r, err := open(p, KindBatch)
	if err != nil {
		return err
	}
	n := readHead(&r).Defs
	if r.err == nil && n > d.max {
		return fmt.Errorf("%w: %d more, limit %d", ErrDictFull, n, d.max)
	}
	for i := 0; i < n && r.err == nil; i++ {
		var s defSpan
		s.start = r.off
		r.byte1("type")
		r.str("series name")
		s.help = r.off
		r.str("series help")
		s.labels = r.off
		for j, k := 0, r.count("label count", 2); j < k && r.err == nil; j++ {
			r.str("label name")
			r.str("label value")
		}
		s.end = r.off
		rec.defs = append(rec.defs, s)
		d.prev = append(d.prev, 0)
	}
	rec.Samples = d.readGroups(&r, rec.Samples)
	return r.err
}

// errMixed: one Encoder relays Records or encodes Batches, not both, on
// one connection: the two keep their dictionaries differently.
var errMixed = errors.New("wire: an Encoder encodes either Batches or Records until Reset")

// AppendRecordBatch is AppendBatch for a record decoded by DecodeRecord:
// the frames it appends are those AppendBatch appends for the same record
// decoded by DecodeBatch. An Encoder used for one may not be used for the
// other until Reset.
func (e *Encoder) AppendRecordBatch(dst []byte, seq uint64, rec *Record, maxPayload int) ([]byte, error) {
	if maxPayload <= 0 || maxPayload > MaxPayload {
		maxPayload = MaxPayload
	}
	if len(e.rel.ends) != len(e.prev) {
		return dst, errMixed
	}
	e.rel.init()
	e.rdefs = recordDefs{&e.rel, rec}
	defer func() { e.rdefs.rec = nil }()
	return e.encode(dst, seq, rec.Samples, &e.rdefs, maxPayload, true)
}

// relayIDs is an Encoder's dictionary when it relays Records: the identity
// (encoded name and labels) of every id, end to end in keys, id i's ending
// at ends[i]; byHash finds an id by a 64-bit hash of its identity, and
// collided holds the ids whose identity hashed to a value another
// identity already had. A hit in byHash is checked against keys, so a
// collision costs a lookup in collided, never a wrong id. last is, by
// position, the id of each definition of the previous record: a sender of
// the same series record after record finds them by one comparison.
type relayIDs struct {
	keys     []byte
	ends     []uint32
	byHash   map[uint64]uint32
	collided map[string]uint32
	last     []uint32
	scratch  []byte
	seed     maphash.Seed
	hash     func(seed maphash.Seed, name, labels []byte) uint64 // a seam for tests
}

func (d *relayIDs) init() {
	if d.byHash == nil {
		d.byHash = make(map[uint64]uint32)
		d.seed = maphash.MakeSeed()
		if d.hash == nil {
			d.hash = hashIdentity
		}
	}
	if d.ends == nil {
		d.ends = make([]uint32, 0, 64)
	}
}

func (d *relayIDs) reset() {
	d.keys, d.ends, d.last = d.keys[:0], nil, d.last[:0]
	clear(d.byHash)
	d.collided = nil
}

func hashIdentity(seed maphash.Seed, name, labels []byte) uint64 {
	var h maphash.Hash
	h.SetSeed(seed)
	h.Write(name)   //nolint:errcheck // never fails
	h.Write(labels) //nolint:errcheck // never fails
	return h.Sum64()
}

// is reports whether id's identity is name and labels.
func (d *relayIDs) is(id uint32, name, labels []byte) bool {
	start := uint32(0)
	if id > 0 {
		start = d.ends[id-1]
	}
	k := d.keys[start:d.ends[id]]
	return len(k) == len(name)+len(labels) && bytes.Equal(k[:len(name)], name) && bytes.Equal(k[len(name):], labels)
}

// recordDefs are the encoded definitions of a Record.
type recordDefs struct {
	d   *relayIDs
	rec *Record
}

func (s *recordDefs) count() int { return len(s.rec.defs) }

func (s *recordDefs) appendDef(dst []byte, i int) []byte {
	sp := &s.rec.defs[i]
	return append(dst, s.rec.p[sp.start:sp.end]...)
}

func (s *recordDefs) known(i int) uint32 {
	d := s.d
	name, labels := s.rec.identity(i)
	if i < len(d.last) && d.last[i] != noID && d.is(d.last[i], name, labels) {
		return d.last[i]
	}
	id, ok := d.byHash[d.hash(d.seed, name, labels)]
	if !ok {
		return noID
	}
	if d.is(id, name, labels) {
		return id
	}
	d.scratch = append(append(d.scratch[:0], name...), labels...)
	if id, ok := d.collided[string(d.scratch)]; ok {
		return id
	}
	return noID
}

func (s *recordDefs) learn(i int, id uint32) {
	d := s.d
	name, labels := s.rec.identity(i)
	d.keys = append(append(d.keys, name...), labels...)
	d.ends = append(d.ends, uint32(len(d.keys)))
	h := d.hash(d.seed, name, labels)
	if _, taken := d.byHash[h]; !taken {
		d.byHash[h] = id
		return
	}
	if d.collided == nil {
		d.collided = make(map[string]uint32)
	}
	d.collided[string(d.keys[len(d.keys)-len(name)-len(labels):])] = id
}

func (s *recordDefs) remember(remap []uint32) {
	s.d.last = append(s.d.last[:0], remap...)
}
