package server

import (
	"strconv"
	"testing"

	"github.com/prometheus/prometheus/model/labels"

	"hawk/internal/store"
)

func seriesOf(ls labels.Labels) store.Series { return store.Series{Labels: ls} }

// TestSeriesDictAliases defines many series, then each again under a new
// id: the second id points to the first one's entry, both are marked
// aliased, and a series defined once stays ordinary.
func TestSeriesDictAliases(t *testing.T) {
	const n = 1000
	d := &seriesDict{}
	set := func(i int) labels.Labels { return labels.FromStrings("__name__", "m", "i", strconv.Itoa(i)) }
	for i := range n {
		ls := set(i)
		if !d.add(seriesOf(ls), ls.Hash()) {
			t.Fatalf("series %d: not fresh", i)
		}
	}
	base := cap(d.ids)*(dictIDBytes+dictValueBytes) + cap(d.kept)*dictSeriesBytes + d.strBytes
	if idx := d.memory() - base; idx < 2*n*dictIDBytes {
		t.Fatalf("index by labels counted as %d bytes, want at least %d (a slot at most half full)", idx, 2*n*dictIDBytes)
	}
	for i := range n - 1 { // the last one stays ordinary
		ls := set(i)
		if d.add(seriesOf(ls.Copy()), ls.Hash()) {
			t.Fatalf("series %d defined again: fresh, want an alias", i)
		}
	}
	if len(d.kept) != n {
		t.Fatalf("%d entries kept, want %d", len(d.kept), n)
	}
	for i := range n - 1 {
		first, bf := d.lookup(uint32(i))
		again, ba := d.lookup(uint32(n + i))
		if first != again || bf != seriesAliased || ba != seriesAliased || !labels.Equal(first.Labels, set(i)) {
			t.Fatalf("series %d: ids %d and %d give %v (%d) and %v (%d); want one entry, both aliased",
				i, i, n+i, first, bf, again, ba)
		}
	}
	if s, bad := d.lookup(n - 1); bad != seriesOK || !labels.Equal(s.Labels, set(n-1)) {
		t.Fatalf("series defined once: %v (%d), want it ordinary", s, bad)
	}
}

// TestSeriesDictAliasesHashCollision gives different label sets one hash:
// the index compares labels, so each is its own entry, and each defined
// again finds its own.
func TestSeriesDictAliasesHashCollision(t *testing.T) {
	d := &seriesDict{}
	a, b := labels.FromStrings("__name__", "a"), labels.FromStrings("__name__", "b")
	if !d.add(seriesOf(a), 7) || !d.add(seriesOf(b), 7) {
		t.Fatal("two label sets with one hash: want two entries")
	}
	if d.add(seriesOf(b), 7) || d.add(seriesOf(a), 7) {
		t.Fatal("a label set defined again: want an alias")
	}
	for id, want := range []labels.Labels{a, b, b, a} {
		if s, bad := d.lookup(uint32(id)); bad != seriesAliased || !labels.Equal(s.Labels, want) {
			t.Fatalf("id %d: %v (%d), want %v aliased", id, s.Labels, bad, want)
		}
	}
}

// TestSeriesDictRefusedNotIndexed checks that a refused definition is
// not an entry an accepted one could alias.
func TestSeriesDictRefusedNotIndexed(t *testing.T) {
	d := &seriesDict{}
	d.refuse(badSeriesLimit)
	ls := labels.FromStrings("__name__", "m")
	if !d.add(seriesOf(ls), ls.Hash()) {
		t.Fatal("after a refused definition: want a fresh entry")
	}
	if _, bad := d.lookup(0); bad != badSeriesLimit {
		t.Fatalf("refused id: %d, want %d", bad, badSeriesLimit)
	}
	if _, bad := d.lookup(1); bad != seriesOK {
		t.Fatalf("accepted id: %d, want ordinary", bad)
	}
}
