package wire

import (
	"encoding/binary"
	"fmt"
	"math"
)

// Encoder is the sending side of one connection's series dictionary. It
// turns batches into BATCH frames, defining each series the first time the
// connection carries it and sending only a small id and a value delta
// afterwards. Not safe for concurrent use. After an error the Encoder no
// longer matches what the peer holds: Reset it and end the connection.
type Encoder struct {
	ids  map[string]uint32 // series key → id on this connection
	prev []float64         // last value sent of each id

	remap []uint32 // Batch.Defs index → connection id, or noID
	// last holds, by position in Batch.Defs, the series last encoded there
	// and its id: a sender of the same series batch after batch finds them
	// by comparing strings, in place of hashing their keys.
	last  []lastDef
	key   []byte // scratch for series keys
	tmp   []byte // scratch: a definition (tmp[:split]) and a sample
	split int

	// direct is set while a record is written straight into dst (see
	// RecordEncoder): defs then holds dst, its header and the
	// definitions so far, and directN is how many the header counts.
	direct  bool
	directN int

	rel relayIDs // the dictionary when relaying Records, see relay.go
	// The definitions being encoded, as encode takes them: kept here so
	// that passing them as a defSource does not allocate.
	bdefs batchDefs
	rdefs recordDefs

	part   uint32 // number of the part being built
	ndefs  int    // definitions in the part
	defs   []byte // definitions of the part
	groups []byte // closed groups of the part
	ngroup int    // closed groups in the part
	cur    []byte // samples of the open group
	ncur   int    // samples in the open group
	curT   int64  // timestamp of the open group
	lastT  int64  // timestamp of the last closed group of the part
	prevID int64  // id of the last sample of the open group, -1 at its start
}

const (
	noID = math.MaxUint32
	// partOverhead bounds the bytes of a part that are not definitions or
	// samples: kind, flags, sequence, part number, the two counts, and
	// the open group's timestamp and count.
	partOverhead = 1 + 1 + binary.MaxVarintLen64 + 5 + 5 + 5 + binary.MaxVarintLen64 + 5
)

// NewEncoder returns an Encoder with an empty dictionary.
func NewEncoder() *Encoder { return &Encoder{ids: make(map[string]uint32)} }

// lastDef is a series identity (name and labels, in storage of its own)
// and the connection id it had.
type lastDef struct {
	name   string
	labels []Label
	id     uint32
}

func (l *lastDef) is(d *SeriesDef) bool {
	if l.name != d.Name || len(l.labels) != len(d.Labels) {
		return false
	}
	for i := range l.labels {
		if l.labels[i] != d.Labels[i] {
			return false
		}
	}
	return true
}

// Reset forgets every series, for a new connection.
func (e *Encoder) Reset() {
	clear(e.ids)
	e.prev = e.prev[:0]
	e.last = e.last[:0]
	e.rel.reset()
}

// Len returns how many series the dictionary holds.
func (e *Encoder) Len() int { return len(e.prev) }

// AppendBatch appends b as BATCH frames with sequence seq to dst, splitting
// it into parts of at most maxPayload bytes (MaxPayload when 0). b.Samples
// refer to b.Defs by index.
func (e *Encoder) AppendBatch(dst []byte, seq uint64, b *Batch, maxPayload int) ([]byte, error) {
	if maxPayload <= 0 || maxPayload > MaxPayload {
		maxPayload = MaxPayload
	}
	if e.rel.ends != nil {
		return dst, errMixed
	}
	e.bdefs = batchDefs{e, b}
	defer func() { e.bdefs.b = nil }()
	return e.encode(dst, seq, b.Samples, &e.bdefs, maxPayload, true)
}

// AppendRecord appends b to dst as one unframed BATCH payload with a
// dictionary of its own and sequence 0: the connection-free form in which an
// agent keeps a batch on disk. Dict.DecodeBatch with a fresh Dict reads it
// back with sample ids equal to the order of first use of each definition.
func AppendRecord(dst []byte, b *Batch) ([]byte, error) {
	var r RecordEncoder
	return r.Append(dst, b)
}

// RecordEncoder appends records as AppendRecord does, but keeps its scratch
// buffers from one call to the next, so that an agent encoding a collection
// of the same size each interval does not allocate. Not safe for concurrent
// use.
type RecordEncoder struct {
	e    Encoder  // no ids map: a record defines each of its Defs once, by index
	used []uint64 // scratch: a bit per definition that has a sample
}

// Append appends b to dst as one record; see AppendRecord.
func (r *RecordEncoder) Append(dst []byte, b *Batch) ([]byte, error) {
	e := &r.e
	e.prev = e.prev[:0] // each record has a dictionary of its own
	// A record is one part, so its definitions are written straight into
	// dst, not into a scratch buffer first, after a header that counts
	// them: each definition with a sample is defined once.
	if words := (len(b.Defs) + 63) / 64; cap(r.used) < words {
		r.used = make([]uint64, words)
	} else {
		r.used = r.used[:words]
		clear(r.used)
	}
	n := 0
	for _, s := range b.Samples {
		if i := int(s.ID); i < len(b.Defs) && r.used[i/64]&(1<<(i%64)) == 0 {
			r.used[i/64] |= 1 << (i % 64)
			n++
		}
	}
	start := len(dst)
	dst = append(dst, byte(KindBatch), flagFinal, 0, 0) // sequence 0, part 0
	e.defs, e.direct, e.directN = appendUvarint(dst, uint64(n)), true, n
	e.bdefs = batchDefs{e, b}
	out, err := e.encode(dst, 0, b.Samples, &e.bdefs, math.MaxInt, false)
	e.bdefs.b, e.defs, e.direct = nil, nil, false
	if err != nil {
		return dst[:start], err
	}
	return out, nil
}

// defSource is what encode needs of a batch's definitions: how many there
// are, their encoding, and the ids the connection knows them by.
type defSource interface {
	count() int
	appendDef(dst []byte, i int) []byte
	known(i int) uint32      // connection id of definition i, or noID
	learn(i int, id uint32)  // definition i now has id on the connection
	remember(remap []uint32) // after the batch: the ids of its definitions
}

// batchDefs are the decoded definitions of a Batch.
type batchDefs struct {
	e *Encoder
	b *Batch
}

func (s *batchDefs) count() int                         { return len(s.b.Defs) }
func (s *batchDefs) appendDef(dst []byte, i int) []byte { return appendDef(dst, &s.b.Defs[i]) }
func (s *batchDefs) remember(remap []uint32) {
	if s.e.ids != nil {
		s.e.remember(s.b, remap)
	}
}

func (s *batchDefs) known(i int) uint32 {
	e := s.e
	if e.ids == nil {
		return noID
	}
	if i < len(e.last) && e.last[i].id != noID && e.last[i].is(&s.b.Defs[i]) {
		return e.last[i].id
	}
	e.key = appendKey(e.key[:0], &s.b.Defs[i])
	if known, ok := e.ids[string(e.key)]; ok {
		return known
	}
	return noID
}

func (s *batchDefs) learn(i int, id uint32) {
	if s.e.ids != nil {
		s.e.ids[string(appendKey(s.e.key[:0], &s.b.Defs[i]))] = id
	}
}

func (e *Encoder) encode(dst []byte, seq uint64, samples []Sample, src defSource, limit int, framed bool) ([]byte, error) {
	n := src.count()
	e.remap = e.remap[:0]
	for i := range n {
		e.remap = append(e.remap, src.known(i))
	}
	e.startPart(0)
	var err error
	for _, s := range samples {
		if int(s.ID) >= n {
			return dst, fmt.Errorf("wire: sample refers to definition %d of %d", s.ID, n)
		}
		if e.ncur > 0 && s.T != e.curT {
			e.closeGroup()
		}
		e.curT = s.T
		id, def := e.remap[s.ID], -1
		if id == noID {
			id, def = uint32(len(e.prev)), int(s.ID)
		}
		e.prepare(src, id, def, s.V)
		if e.size()+len(e.tmp) > limit && !e.empty() {
			if dst, err = e.flush(dst, seq, false, framed); err != nil {
				return dst, err
			}
			e.startPart(e.part + 1)
			e.curT = s.T
			e.prepare(src, id, def, s.V)
		}
		if e.size()+len(e.tmp) > limit {
			return dst, fmt.Errorf("%w: a series definition of %d bytes", ErrFrameTooLarge, len(e.tmp))
		}
		e.commit(src, id, def, s.V)
		if def >= 0 {
			e.remap[s.ID] = id
		}
	}
	e.closeGroup()
	src.remember(e.remap)
	return e.flush(dst, seq, true, framed)
}

// remember records the ids the series of b have on the connection, by
// position, for the next batch.
func (e *Encoder) remember(b *Batch, remap []uint32) {
	if len(e.last) < len(b.Defs) {
		e.last = append(e.last, make([]lastDef, len(b.Defs)-len(e.last))...)
	}
	e.last = e.last[:len(b.Defs)]
	for i := range b.Defs {
		l, d := &e.last[i], &b.Defs[i]
		if l.id == remap[i] && l.id != noID && l.is(d) {
			continue
		}
		l.name, l.labels, l.id = d.Name, append(l.labels[:0], d.Labels...), remap[i]
	}
}

// prepare encodes into tmp a sample (and definition def of src when def
// is not -1) as it would stand next in the open group.
func (e *Encoder) prepare(src defSource, id uint32, def int, v float64) {
	e.tmp = e.tmp[:0]
	if def >= 0 {
		e.tmp = src.appendDef(e.tmp, def)
	}
	e.split = len(e.tmp)
	prev := 0.0
	if int(id) < len(e.prev) {
		prev = e.prev[id]
	}
	e.tmp = appendValue(e.tmp, zigzag(int64(id)-e.prevID-1), prev, v)
}

// commit moves the prepared sample into the part and updates the
// dictionary.
func (e *Encoder) commit(src defSource, id uint32, def int, v float64) {
	if def >= 0 {
		e.defs = append(e.defs, e.tmp[:e.split]...)
		e.ndefs++
		src.learn(def, id)
		e.prev = append(e.prev, 0)
	}
	e.cur = append(e.cur, e.tmp[e.split:]...)
	e.ncur++
	e.prev[id] = v
	e.prevID = int64(id)
}

func (e *Encoder) startPart(n uint32) {
	e.part = n
	e.ndefs, e.ngroup, e.ncur = 0, 0, 0
	if !e.direct {
		e.defs = e.defs[:0]
	}
	e.groups, e.cur = e.groups[:0], e.cur[:0]
	e.prevID = -1
}

func (e *Encoder) empty() bool { return e.ndefs == 0 && e.ngroup == 0 && e.ncur == 0 }

// size bounds the payload size of the part as it stands.
func (e *Encoder) size() int { return partOverhead + len(e.defs) + len(e.groups) + len(e.cur) }

// closeGroup moves the open group, if it has samples, to the closed ones.
func (e *Encoder) closeGroup() {
	if e.ncur == 0 {
		return
	}
	dt := e.curT
	if e.ngroup > 0 {
		dt -= e.lastT
	}
	e.groups = binary.AppendVarint(e.groups, dt)
	e.groups = binary.AppendUvarint(e.groups, uint64(e.ncur))
	e.groups = append(e.groups, e.cur...)
	e.ngroup++
	e.lastT = e.curT
	e.cur, e.ncur, e.prevID = e.cur[:0], 0, -1
}

// flush appends the part built so far to dst.
func (e *Encoder) flush(dst []byte, seq uint64, final, framed bool) ([]byte, error) {
	e.closeGroup()
	if e.direct { // a record: header and definitions are in place
		if e.ndefs != e.directN || !final || framed {
			return dst, fmt.Errorf("wire: record of %d definitions, %d counted", e.ndefs, e.directN)
		}
		dst = binary.AppendUvarint(e.defs, uint64(e.ngroup))
		return append(dst, e.groups...), nil
	}
	start := 0
	if framed {
		dst, start = BeginFrame(dst)
	}
	flags := byte(0)
	if final {
		flags = flagFinal
	}
	dst = append(dst, byte(KindBatch), flags)
	dst = binary.AppendUvarint(dst, seq)
	dst = binary.AppendUvarint(dst, uint64(e.part))
	dst = binary.AppendUvarint(dst, uint64(e.ndefs))
	dst = append(dst, e.defs...)
	dst = binary.AppendUvarint(dst, uint64(e.ngroup))
	dst = append(dst, e.groups...)
	if framed {
		return EndFrame(dst, start)
	}
	return dst, nil
}

func appendDef(dst []byte, d *SeriesDef) []byte {
	dst = append(dst, byte(d.Type))
	dst = appendString(dst, d.Name)
	dst = appendString(dst, d.Help)
	return appendLabels(dst, d.Labels)
}

// appendKey appends the identity of a series, its name and labels, to dst.
func appendKey(dst []byte, d *SeriesDef) []byte {
	dst = append(dst, d.Name...)
	for _, l := range d.Labels {
		dst = append(dst, 0xFF)
		dst = append(dst, l.Name...)
		dst = append(dst, 0xFE)
		dst = append(dst, l.Value...)
	}
	return dst
}
