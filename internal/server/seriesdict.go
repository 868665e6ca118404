package server

import (
	"hash/maphash"
	"unsafe"

	"github.com/prometheus/prometheus/model/labels"

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
//
// Two ids may name one label set: the session drops empty-valued labels,
// so m{a=""} and m{} are one series, and a peer may define a series
// twice. The second id then points to the first one's kept entry (one
// store.Series, one cached TSDB reference), and every id of that entry
// is marked aliased: the committer counts a second sample of the series
// at a timestamp it already has as a duplicate instead of as stored
// (the TSDB would keep one of the two, silently). Ordinary series pay
// nothing for this at commit.
type seriesDict struct {
	ids      []uint32       // by dictionary id: an index into kept, or'd with aliasMark; or refusedMark|reason
	kept     []store.Series // the accepted definitions, in order, each label set once
	strBytes int            // label and help bytes of kept, bounded by MaxDictBytes
	byLabels keptIndex      // the first id of each kept entry, by its labels
	// aliased holds, for each kept entry two ids or more point to that
	// has a committed sample, the highest timestamp committed for it in
	// this session. Only the committer's settle writes it.
	aliased map[uint32]int64
}

// refusedMark marks an id whose definition was refused; the low bits hold
// its badReason. aliasMark marks an id whose kept entry other ids point to
// too; the low bits hold the index into kept. Indexes into kept stay below
// both: a dictionary holds at most MaxSeries (uint32) ids, and a
// connection far fewer (MaxDictBytes).
const (
	refusedMark = 1 << 31
	aliasMark   = 1 << 30
)

// seriesAliased is not a reason: lookup returns it for an id whose series
// other ids name too.
const seriesAliased = nBadReasons

const (
	dictIDBytes     = int(unsafe.Sizeof(uint32(0)))
	dictSeriesBytes = int(unsafe.Sizeof(store.Series{}))
	// dictValueBytes is what the wire.Dict keeps per id: the series' last value.
	dictValueBytes = int(unsafe.Sizeof(float64(0)))
	// dictAliasBytes is about what an entry of seriesDict.aliased costs: a
	// map slot of key and value with its control byte, the map at most
	// half full.
	dictAliasBytes = 2 * (int(unsafe.Sizeof(uint32(0))+unsafe.Sizeof(int64(0))) + 1)
)

// add appends an accepted definition whose labels hash to h. It reports
// whether its label set is new to the dictionary (a new kept entry); if
// not, the id points to the entry already kept, whose labels and help
// stay as first defined.
func (d *seriesDict) add(s store.Series, h uint64) (fresh bool) {
	id := uint32(len(d.ids))
	if first, ok := d.byLabels.find(d, s.Labels, h); ok {
		d.ids[first] |= aliasMark
		d.ids = append(d.ids, d.ids[first])
		return false
	}
	d.ids = append(d.ids, uint32(len(d.kept)))
	d.kept = append(d.kept, s)
	d.strBytes += len(s.Meta.Help) + int(s.Labels.ByteSize())
	d.byLabels.insert(d, id, h)
	return true
}

// refuse appends a definition refused for why.
func (d *seriesDict) refuse(why badReason) { d.ids = append(d.ids, refusedMark|uint32(why)) }

// len is how many ids are defined.
func (d *seriesDict) len() int { return len(d.ids) }

// lookup returns the series of dictionary id, or nil and why its
// definition was refused.
// The series of an aliased id comes with seriesAliased; keptOf gives its
// index into kept. An ordinary id costs one comparison, as before there
// were aliases: only marked ids take a second branch.
func (d *seriesDict) lookup(id uint32) (*store.Series, badReason) {
	x := d.ids[id]
	if x < aliasMark {
		return &d.kept[x], seriesOK
	}
	return d.lookupMarked(x)
}

func (d *seriesDict) lookupMarked(x uint32) (*store.Series, badReason) {
	if x&refusedMark != 0 {
		return nil, badReason(x &^ refusedMark)
	}
	return &d.kept[x&^aliasMark], seriesAliased
}

// keptOf is the index into kept of an accepted id.
func (d *seriesDict) keptOf(id uint32) uint32 { return d.ids[id] &^ aliasMark }

// memory is the bytes the dictionary holds on the server, the wire.Dict's
// last values included: its slices' capacity, the kept series' label
// and help text (shared with nothing else the session keeps), the index
// by labels and the aliased entries' timestamps.
func (d *seriesDict) memory() int {
	return cap(d.ids)*(dictIDBytes+dictValueBytes) + cap(d.kept)*dictSeriesBytes + d.strBytes +
		cap(d.byLabels.slots)*dictIDBytes + len(d.aliased)*dictAliasBytes
}

// keptIndex finds a kept entry by its label set: an open-addressing table
// of the first id+1 of each kept entry (0: empty slot), at most half full
// and probed linearly from a seeded hash of the labels' hash, so that a
// peer cannot choose label sets that pile up in one run of slots. It
// holds 8 to 16 bytes per kept entry and no label hashes: a probe
// compares the labels of the kept entry it meets (hash lookups happen at
// definition time only).
type keptIndex struct {
	slots []uint32
	n     int // ids held
	seed  maphash.Seed
}

func (x *keptIndex) start(h uint64) int {
	return int(maphash.Comparable(x.seed, h) & uint64(len(x.slots)-1))
}

// find returns the first id of the kept entry whose labels are ls (whose
// hash is h).
func (x *keptIndex) find(d *seriesDict, ls labels.Labels, h uint64) (uint32, bool) {
	if x.n == 0 {
		return 0, false
	}
	mask := len(x.slots) - 1
	for i := x.start(h); x.slots[i] != 0; i = (i + 1) & mask {
		id := x.slots[i] - 1
		if labels.Equal(d.kept[d.keptOf(id)].Labels, ls) {
			return id, true
		}
	}
	return 0, false
}

// insert adds id, the first id of a new kept entry whose labels hash to h.
func (x *keptIndex) insert(d *seriesDict, id uint32, h uint64) {
	if 2*(x.n+1) > len(x.slots) {
		x.grow(d)
	}
	x.put(id, h)
	x.n++
}

func (x *keptIndex) put(id uint32, h uint64) {
	mask := len(x.slots) - 1
	i := x.start(h)
	for x.slots[i] != 0 {
		i = (i + 1) & mask
	}
	x.slots[i] = id + 1
}

// grow doubles the table, hashing the kept labels again: amortised, one
// hash a kept entry.
func (x *keptIndex) grow(d *seriesDict) {
	old := x.slots
	if old == nil {
		x.seed = maphash.MakeSeed()
	}
	x.slots = make([]uint32, max(16, 2*len(old)))
	for _, v := range old {
		if v != 0 {
			x.put(v-1, d.kept[d.keptOf(v-1)].Labels.Hash())
		}
	}
}
