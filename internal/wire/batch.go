package wire

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"math/bits"
)

// MetricType is a series' type. Frozen numbering.
type MetricType uint8

// Metric types, numbered as collect.ValueType numbers them.
const (
	TypeUntyped MetricType = 0
	TypeCounter MetricType = 1
	TypeGauge   MetricType = 2
)

// SeriesDef defines one series of a batch: its name, labels and metadata.
type SeriesDef struct {
	Type   MetricType
	Name   string
	Help   string
	Labels []Label // without __name__
}

// Sample is one value of one series. ID is the series' index in the
// connection's dictionary (as decoded) or in Batch.Defs (as encoded).
type Sample struct {
	ID uint32
	T  int64 // Unix milliseconds
	V  float64
}

// Batch is one BATCH message, or one part of a batch split over frames.
type Batch struct {
	Seq     uint64      // increases per agent, survives agent restarts
	Part    uint32      // 0 for the first part of a batch
	Final   bool        // last part of the batch
	Defs    []SeriesDef // series defined by this part, in dictionary order
	Samples []Sample

	labels []Label // backing store of the decoded Defs' label slices
}

// Reset empties b, keeping its slices' storage.
func (b *Batch) Reset() {
	b.Seq, b.Part, b.Final = 0, 0, false
	b.Defs = b.Defs[:0]
	b.Samples = b.Samples[:0]
	b.labels = b.labels[:0]
}

// ErrDictFull is returned when a batch defines more series than the
// dictionary may hold.
var ErrDictFull = errors.New("wire: series dictionary full")

// Value encodings of a sample, the low 3 bits of its head. Frozen.
const (
	modeSame  = 0 // the series' previous value, bit for bit
	modeInt   = 1 // zigzag varint delta from the previous value; both integers
	modeCenti = 2 // zigzag varint delta in hundredths from the previous value
	modeXOR   = 3 // XOR with the previous value's bits, zero bytes trimmed
	modeRaw   = 4 // the float64 bits, 8 bytes little-endian

	flagFinal = 0x01

	maxDelta = 1 << 28 // larger deltas take no fewer bytes than XOR
	maxExact = 1 << 53 // integers a float64 holds exactly
)

// Dict is the receiving side of one connection's series dictionary: how many
// series are defined and the last value of each, which the value encodings
// refer to. Not safe for concurrent use.
type Dict struct {
	prev []float64 // last value of each defined series, by id
	max  int       // most series it may hold
}

// NewDict returns a dictionary holding at most max series.
func NewDict(max int) *Dict { return &Dict{max: max} }

// Len returns how many series are defined.
func (d *Dict) Len() int { return len(d.prev) }

// Reset forgets every series, for a new connection.
func (d *Dict) Reset() { d.prev = d.prev[:0] }

// DecodeBatch decodes a BATCH payload into b, adding its definitions to d
// and resolving its values. The strings in b.Defs do not alias p; b's
// slices, the Defs' label slices among them, are reused by the next
// DecodeBatch into b. After an error d no longer matches the sender's state
// and the connection must end.
func (d *Dict) DecodeBatch(p []byte, b *Batch) error {
	r, err := open(p, KindBatch)
	if err != nil {
		return err
	}
	b.Reset()
	h := readHead(&r)
	b.Final, b.Seq, b.Part = h.Final, h.Seq, h.Part
	n := h.Defs
	if r.err == nil && len(d.prev)+n > d.max {
		return fmt.Errorf("%w: %d defined, %d more, limit %d", ErrDictFull, len(d.prev), n, d.max)
	}
	for i := 0; i < n && r.err == nil; i++ {
		b.Defs = append(b.Defs, d.readDef(&r, b))
		d.prev = append(d.prev, 0)
	}
	b.Samples = d.readGroups(&r, b.Samples)
	return r.err
}

// BatchHead is what the first fields of a BATCH payload say.
type BatchHead struct {
	Final bool   // the batch's last part
	Seq   uint64 // the batch's sequence
	Part  uint32 // the part's number
	Defs  int    // series the part defines
}

// PeekBatch reads the head of the BATCH payload p, not its definitions
// nor samples, so that a receiver can judge a part before decoding it (a
// part that leaves its batch unfinished; one that defines series). It
// checks only what it reads; DecodeBatch checks the rest.
func PeekBatch(p []byte) (BatchHead, error) {
	r, err := open(p, KindBatch)
	if err != nil {
		return BatchHead{}, err
	}
	h := readHead(&r)
	return h, r.err
}

// readHead reads a BATCH payload's head, the kind byte read already.
func readHead(r *reader) BatchHead {
	flags := r.byte1("flags")
	h := BatchHead{Final: flags&flagFinal != 0, Seq: r.uvarint("sequence"), Part: r.u32("part")}
	if flags&^flagFinal != 0 {
		r.fail("unknown flags")
	}
	h.Defs = r.count("definition count", 4)
	return h
}

// BatchMostSamples is the most samples a BATCH payload of n bytes can
// decode to: every sample takes at least one byte.
func BatchMostSamples(n int) int { return n }

// readGroups decodes a batch's groups of samples, each at its timestamp
// (the first given whole, the others as deltas), appending them to
// samples.
func (d *Dict) readGroups(r *reader, samples []Sample) []Sample {
	groups := r.count("group count", 2)
	var t int64
	for g := 0; g < groups && r.err == nil; g++ {
		dt := r.varint("timestamp")
		if g == 0 {
			t = dt
		} else {
			t += dt
		}
		samples = d.readGroup(r, samples, t)
	}
	return samples
}

func (d *Dict) readDef(r *reader, b *Batch) SeriesDef {
	def := SeriesDef{Type: MetricType(r.byte1("type"))}
	def.Name = r.string("series name")
	def.Help = r.string("series help")
	n := r.count("label count", 2)
	start := len(b.labels)
	for i := 0; i < n && r.err == nil; i++ {
		b.labels = append(b.labels, Label{Name: r.string("label name"), Value: r.string("label value")})
	}
	def.Labels = b.labels[start:len(b.labels):len(b.labels)]
	return def
}

// readGroup decodes the samples of one group, all at time t, appending
// them to samples.
func (d *Dict) readGroup(r *reader, samples []Sample, t int64) []Sample {
	n := r.count("sample count", 1) // at most the payload's length
	// Room for the group's samples at once rather than a slice grown by
	// appends (about 5 times the final size allocated, at 1.25 times a
	// step): a receiver accounts and pools these buffers by their size.
	// Doubling at least keeps many small groups linear.
	if len(samples)+n > cap(samples) {
		s := make([]Sample, len(samples), max(len(samples)+n, 2*cap(samples)))
		samples = s[:copy(s, samples)]
	}
	prev := int64(-1)
	for i := 0; i < n && r.err == nil; i++ {
		head := r.uvarint("sample head")
		id := prev + 1 + unzigzag(head>>3)
		if id < 0 || id >= int64(len(d.prev)) {
			r.fail(fmt.Sprintf("series id %d undefined", id))
			return samples
		}
		v := readValue(r, int(head&7), d.prev[id])
		d.prev[id] = v
		samples = append(samples, Sample{ID: uint32(id), T: t, V: v})
		prev = id
	}
	return samples
}

func readValue(r *reader, mode int, prev float64) float64 {
	switch mode {
	case modeSame:
		return prev
	case modeInt:
		return float64(int64(prev) + r.varint("integer delta"))
	case modeCenti:
		return float64(int64(math.Round(prev*100))+r.varint("centi delta")) / 100
	case modeXOR:
		lt := r.byte1("xor length")
		lead, trail := int(lt>>4), int(lt&15)
		if lead+trail >= 8 {
			r.fail("xor length")
			return 0
		}
		var x uint64
		for _, c := range r.bytesN(8-lead-trail, "xor bytes") {
			x = x<<8 | uint64(c)
		}
		return math.Float64frombits(math.Float64bits(prev) ^ x<<(8*trail))
	case modeRaw:
		return math.Float64frombits(uint64(r.i64("raw value")))
	}
	r.fail(fmt.Sprintf("value mode %d", mode))
	return 0
}

func zigzag(v int64) uint64   { return uint64(v<<1) ^ uint64(v>>63) }
func unzigzag(u uint64) int64 { return int64(u>>1) ^ -int64(u&1) }

// appendValue appends a sample head (id delta zz) and value v, which follows
// prev, choosing the shortest encoding that gives back v bit for bit.
func appendValue(dst []byte, zz uint64, prev, v float64) []byte {
	pb, vb := math.Float64bits(prev), math.Float64bits(v)
	if pb == vb {
		return binary.AppendUvarint(dst, zz<<3|modeSame)
	}
	if d, ok := intDelta(prev, v, vb); ok {
		return binary.AppendVarint(binary.AppendUvarint(dst, zz<<3|modeInt), d)
	}
	if d, ok := centiDelta(prev, v, vb); ok {
		return binary.AppendVarint(binary.AppendUvarint(dst, zz<<3|modeCenti), d)
	}
	x := pb ^ vb
	lead, trail := bits.LeadingZeros64(x)/8, bits.TrailingZeros64(x)/8
	if lead+trail == 0 {
		dst = binary.AppendUvarint(dst, zz<<3|modeRaw)
		return binary.LittleEndian.AppendUint64(dst, vb)
	}
	dst = binary.AppendUvarint(dst, zz<<3|modeXOR)
	dst = append(dst, byte(lead<<4|trail))
	for i := 7 - lead; i >= trail; i-- {
		dst = append(dst, byte(x>>(8*i)))
	}
	return dst
}

func intDelta(prev, v float64, vb uint64) (int64, bool) {
	if !(math.Abs(prev) <= maxExact && math.Abs(v) <= maxExact) ||
		prev != math.Trunc(prev) || v != math.Trunc(v) {
		return 0, false
	}
	d := int64(v) - int64(prev)
	ok := d > -maxDelta && d < maxDelta && math.Float64bits(float64(int64(prev)+d)) == vb
	return d, ok
}

func centiDelta(prev, v float64, vb uint64) (int64, bool) {
	p, q := math.Round(prev*100), math.Round(v*100)
	if !(math.Abs(p) <= maxExact && math.Abs(q) <= maxExact) {
		return 0, false
	}
	d := int64(q) - int64(p)
	ok := d > -maxDelta && d < maxDelta && math.Float64bits(float64(int64(p)+d)/100) == vb
	return d, ok
}
