package spool

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"
)

// writeSegment makes a spool holding n records with payloadFor(seq, max),
// all in one segment, and returns its dir, the segment path and the
// offset at which each record starts.
func writeSegment(t *testing.T, n int, max int) (dir, path string, offs []int64) {
	t.Helper()
	dir = t.TempDir()
	s := openT(t, dir, Options{Sync: true})
	var off int64
	for i := 1; i <= n; i++ {
		p := payloadFor(uint64(i), max)
		appendT(t, s, p)
		offs = append(offs, off)
		off += int64(headerSize + len(p))
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	return dir, filepath.Join(dir, segName(1)), offs
}

// cloneDir copies the regular files of src into a new temp dir.
func cloneDir(t *testing.T, src string) string {
	t.Helper()
	dst := t.TempDir()
	ents, err := os.ReadDir(src)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range ents {
		b, err := os.ReadFile(filepath.Join(src, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dst, e.Name()), b, 0o640); err != nil {
			t.Fatal(err)
		}
	}
	return dst
}

// checkSurvivors opens dir and checks that exactly the records in want
// (seqs of payloadFor(seq, max)) are readable, and that the next Append
// gets a seq above minNext-1.
func checkSurvivors(t *testing.T, dir string, want []uint64, max int, minNext uint64) Stats {
	t.Helper()
	s, err := Open(dir, Options{Sync: true})
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	defer s.Close()
	got := readAll(t, s, 0)
	checkSeqs(t, got, want)
	for _, r := range got {
		if !bytes.Equal(r.payload, payloadFor(r.seq, max)) {
			t.Fatalf("seq %d: payload differs", r.seq)
		}
	}
	st := s.Stats()
	seq := appendT(t, s, []byte("after"))
	if seq < minNext {
		t.Fatalf("next seq %d after recovery, want >= %d", seq, minNext)
	}
	// The repaired spool reads back cleanly, new record included.
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s2 := openT(t, dir, Options{})
	checkSeqs(t, readAll(t, s2, 0), append(append([]uint64{}, want...), seq))
	if st2 := s2.Stats(); st2.Truncated != 0 {
		t.Fatalf("second recovery truncated again: %+v", st2)
	}
	return st
}

func TestTornTail(t *testing.T) {
	const n, max = 6, 200
	src, path, offs := writeSegment(t, n, max)
	full, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	last := offs[n-1]
	for cut := last; cut < int64(len(full)); cut++ {
		dir := cloneDir(t, src)
		if err := os.Truncate(filepath.Join(dir, segName(1)), cut); err != nil {
			t.Fatal(err)
		}
		minNext := uint64(n)
		if cut > last {
			minNext = n + 1 // the torn record may have been handed out
		}
		st := checkSurvivors(t, dir, seqRange(1, n-1), max, minNext)
		if wantTrunc := uint64(min(cut-last, 1)); st.Truncated != wantTrunc || st.Corrupt != 0 {
			t.Fatalf("cut %d: Stats %+v, want Truncated %d", cut, st, wantTrunc)
		}
	}
}

func TestFlippedBytes(t *testing.T) {
	const n, max = 4, 30
	src, path, offs := writeSegment(t, n, max)
	full, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	for i := range full {
		masks := []byte{0xff}
		for _, o := range offs {
			if int64(i) >= o && int64(i) < o+headerSize {
				masks = append(masks, 0x01) // single-bit flips in headers too
			}
		}
		for _, mask := range masks {
			dir := cloneDir(t, src)
			b := bytes.Clone(full)
			b[i] ^= mask
			if err := os.WriteFile(filepath.Join(dir, segName(1)), b, 0o640); err != nil {
				t.Fatal(err)
			}
			damaged := uint64(0)
			for k, o := range offs {
				if int64(i) >= o {
					damaged = uint64(k + 1)
				}
			}
			var want []uint64
			for s := uint64(1); s <= n; s++ {
				if s != damaged {
					want = append(want, s)
				}
			}
			st := checkSurvivors(t, dir, want, max, n+1)
			if damaged == n && (st.Truncated != 1 || st.Corrupt != 0) ||
				damaged < n && (st.Truncated != 0 || st.Corrupt != 1) {
				t.Fatalf("byte %d ^ %#x (record %d): Stats %+v", i, mask, damaged, st)
			}
		}
	}
}

// TestDamagedOlderSegment checks that a damaged record in a sealed segment
// is skipped by Open and by cursors without touching later segments.
func TestDamagedOlderSegment(t *testing.T) {
	dir := t.TempDir()
	s := openT(t, dir, Options{SegmentSize: 300})
	for i := uint64(1); i <= 20; i++ {
		appendT(t, s, payloadFor(i, 100))
	}
	segs := len(s.segs)
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, segName(1))
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	b[len(b)-1] ^= 0x10 // last record of the first segment
	if err := os.WriteFile(path, b, 0o640); err != nil {
		t.Fatal(err)
	}
	s = openT(t, dir, Options{SegmentSize: 300})
	got := readAll(t, s, 0)
	if len(got) != 19 || len(s.segs) != segs {
		t.Fatalf("got %d records in %d segments, want 19 in %d: %v", len(got), len(s.segs), segs, seqsOf(got))
	}
	for i := 1; i < len(got); i++ {
		if got[i].seq <= got[i-1].seq {
			t.Fatalf("out of order: %v", seqsOf(got))
		}
	}
}

// TestEmptyNewestSegment: a process killed between creating a segment and
// writing its first record leaves an empty file named after the next seq.
// Found by TestKill9.
func TestEmptyNewestSegment(t *testing.T) {
	dir := t.TempDir()
	s := openT(t, dir, Options{Sync: true})
	for range 3 {
		appendT(t, s, []byte("x"))
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, segName(4)), nil, 0o640); err != nil {
		t.Fatal(err)
	}
	s = openT(t, dir, Options{Sync: true})
	if seq, err := s.Append([]byte("y")); err != nil || seq != 4 {
		t.Fatalf("Append = %d, %v; want 4", seq, err)
	}
	checkSeqs(t, readAll(t, s, 0), seqRange(1, 4))
}
