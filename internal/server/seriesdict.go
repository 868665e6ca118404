package server

import (
	"unsafe"

	"hawk/internal/store"
)

// seriesDict is the server's side of one connection's series dictionary:
// for every id the agent defined, in order, the series its samples go to
// or why the definition was refused. A refused definition keeps 4 bytes
// here (and 8 in the wire.Dict for its last value) and nothing of its
// labels or help: the agent's dictionary stays in step with the server's,
// its samples are dropped and counted, and a peer that defines millions
// of series past the server's limits holds a few bytes for each, not a
// whole series entry.
type seriesDict struct {
	ids      []uint32       // by dictionary id: an index into kept, or refusedMark|reason
	kept     []store.Series // the accepted definitions, in order
	strBytes int            // label and help bytes of kept, bounded by MaxDictBytes
}

// refusedMark marks an id whose definition was refused; the low bits hold
// its badReason. Indexes into kept stay below it: a dictionary holds at
// most MaxSeries (uint32) ids, and a connection far fewer.
const refusedMark = 1 << 31

const (
	dictIDBytes     = int(unsafe.Sizeof(uint32(0)))
	dictSeriesBytes = int(unsafe.Sizeof(store.Series{}))
	// dictValueBytes is what the wire.Dict keeps per id: the series' last value.
	dictValueBytes = int(unsafe.Sizeof(float64(0)))
)

// add appends an accepted definition.
func (d *seriesDict) add(s store.Series) {
	d.ids = append(d.ids, uint32(len(d.kept)))
	d.kept = append(d.kept, s)
	d.strBytes += len(s.Meta.Help) + int(s.Labels.ByteSize())
}

// refuse appends a definition refused for why.
func (d *seriesDict) refuse(why badReason) { d.ids = append(d.ids, refusedMark|uint32(why)) }

// len is how many ids are defined.
func (d *seriesDict) len() int { return len(d.ids) }

// lookup returns the series of dictionary id, or nil and why its
// definition was refused.
func (d *seriesDict) lookup(id uint32) (*store.Series, badReason) {
	x := d.ids[id]
	if x&refusedMark != 0 {
		return nil, badReason(x &^ refusedMark)
	}
	return &d.kept[x], seriesOK
}

// memory is the bytes the dictionary holds on the server, the wire.Dict's
// last values included: its slices' capacity and the kept series' label
// and help text (shared with nothing else the session keeps).
func (d *seriesDict) memory() int {
	return cap(d.ids)*(dictIDBytes+dictValueBytes) + cap(d.kept)*dictSeriesBytes + d.strBytes
}
