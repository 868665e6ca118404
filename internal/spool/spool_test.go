package spool

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"
	"time"

	"go.uber.org/goleak"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

type rec struct {
	seq     uint64
	payload []byte
}

func openT(t testing.TB, dir string, opts Options) *Spool {
	t.Helper()
	s, err := Open(dir, opts)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return s
}

func appendT(t testing.TB, s *Spool, p []byte) uint64 {
	t.Helper()
	seq, err := s.Append(p)
	if err != nil {
		t.Fatalf("Append: %v", err)
	}
	return seq
}

// readAll returns every record a fresh cursor yields from seq from.
func readAll(t testing.TB, s *Spool, from uint64) []rec {
	t.Helper()
	c := s.Cursor(from)
	defer c.Close()
	var out []rec
	for range 1 << 20 {
		seq, p, err := c.Next()
		if errors.Is(err, io.EOF) {
			return out
		}
		if err != nil {
			t.Fatalf("Next: %v", err)
		}
		out = append(out, rec{seq, bytes.Clone(p)})
	}
	t.Fatal("cursor did not end")
	return nil
}

// payloadFor is a deterministic payload for seq, 0..max-1 bytes long.
func payloadFor(seq uint64, max int) []byte {
	n := int(seq*7919) % max
	p := make([]byte, n)
	for i := range p {
		p[i] = byte(seq) + byte(i)*31
	}
	return p
}

func checkSeqs(t testing.TB, got []rec, want []uint64) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("got %d records %v, want %d %v", len(got), seqsOf(got), len(want), want)
	}
	for i := range got {
		if got[i].seq != want[i] {
			t.Fatalf("record %d: seq %d, want %d (got %v)", i, got[i].seq, want[i], seqsOf(got))
		}
	}
}

func seqsOf(rs []rec) []uint64 {
	out := make([]uint64, len(rs))
	for i, r := range rs {
		out[i] = r.seq
	}
	return out
}

func seqRange(lo, hi uint64) []uint64 {
	var out []uint64
	for s := lo; s <= hi; s++ {
		out = append(out, s)
	}
	return out
}

func TestRoundTrip(t *testing.T) {
	s := openT(t, t.TempDir(), Options{Sync: true, SegmentSize: 4096})
	for i := uint64(1); i <= 100; i++ {
		if seq := appendT(t, s, payloadFor(i, 300)); seq != i {
			t.Fatalf("Append %d got seq %d", i, seq)
		}
	}
	got := readAll(t, s, 0)
	checkSeqs(t, got, seqRange(1, 100))
	for _, r := range got {
		if !bytes.Equal(r.payload, payloadFor(r.seq, 300)) {
			t.Fatalf("seq %d: payload mismatch", r.seq)
		}
	}
	checkSeqs(t, readAll(t, s, 42), seqRange(42, 100))
	st := s.Stats()
	if st.Records != 100 || st.OldestSeq != 1 || st.NewestSeq != 100 || st.NextSeq != 101 || st.Segments < 2 {
		t.Fatalf("Stats = %+v", st)
	}
}

func TestSeqContinuityAcrossReopen(t *testing.T) {
	for _, sync := range []bool{true, false} {
		t.Run(fmt.Sprintf("sync=%v", sync), func(t *testing.T) {
			dir := t.TempDir()
			opts := Options{Sync: sync, SegmentSize: 512}
			s := openT(t, dir, opts)
			for range 10 {
				appendT(t, s, make([]byte, 100))
			}
			if err := s.Close(); err != nil {
				t.Fatal(err)
			}
			s = openT(t, dir, opts)
			if seq := appendT(t, s, nil); seq != 11 {
				t.Fatalf("after reopen seq = %d, want 11", seq)
			}
			if err := s.Ack(11); err != nil {
				t.Fatal(err)
			}
			if err := s.Close(); err != nil {
				t.Fatal(err)
			}
			// Everything acknowledged: every segment goes, the number stays.
			s = openT(t, dir, opts)
			if st := s.Stats(); st.Segments != 0 || st.Records != 0 || st.NextSeq != 12 || st.LastAcked != 11 {
				t.Fatalf("Stats = %+v", st)
			}
			if err := s.Close(); err != nil {
				t.Fatal(err)
			}
			s = openT(t, dir, opts)
			if seq := appendT(t, s, nil); seq != 12 {
				t.Fatalf("after full ack seq = %d, want 12", seq)
			}
		})
	}
}

func TestAckPersists(t *testing.T) {
	dir := t.TempDir()
	opts := Options{Sync: true, SegmentSize: 256}
	s := openT(t, dir, opts)
	for range 20 {
		appendT(t, s, make([]byte, 40))
	}
	before := s.Stats().Segments
	if err := s.Ack(7); err != nil {
		t.Fatal(err)
	}
	if err := s.Ack(3); err != nil {
		t.Fatalf("Ack below acked: %v", err)
	}
	if err := s.Ack(21); !errors.Is(err, ErrUnknownSeq) {
		t.Fatalf("Ack(21) = %v, want ErrUnknownSeq", err)
	}
	if after := s.Stats().Segments; after >= before {
		t.Fatalf("segments %d -> %d: acknowledged segments not deleted", before, after)
	}
	checkSeqs(t, readAll(t, s, 0), seqRange(8, 20))
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s = openT(t, dir, opts)
	checkSeqs(t, readAll(t, s, 0), seqRange(8, 20))
	if st := s.Stats(); st.LastAcked != 7 || st.Records != 13 || st.OldestSeq != 8 {
		t.Fatalf("Stats = %+v", st)
	}
}

func TestSizeBoundDropsOldest(t *testing.T) {
	const total = 200
	s := openT(t, t.TempDir(), Options{SegmentSize: 1000, MaxBytes: 4000})
	for i := range total {
		appendT(t, s, make([]byte, 100))
		if st := s.Stats(); st.Bytes > 4000 {
			t.Fatalf("after %d appends Bytes = %d > 4000", i+1, st.Bytes)
		}
	}
	st := s.Stats()
	if st.DroppedSize == 0 || st.DroppedAge != 0 || int64(st.DroppedSize)+st.Records != total {
		t.Fatalf("Stats = %+v: dropped + records != %d", st, total)
	}
	got := readAll(t, s, 0)
	checkSeqs(t, got, seqRange(total-uint64(st.Records)+1, total))
	if st.OldestSeq != got[0].seq || st.NewestSeq != total {
		t.Fatalf("Stats = %+v, first record %d", st, got[0].seq)
	}
}

func TestSizeBoundAtOpen(t *testing.T) {
	dir := t.TempDir()
	s := openT(t, dir, Options{SegmentSize: 1000, MaxBytes: 100000})
	for range 100 {
		appendT(t, s, make([]byte, 100))
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s = openT(t, dir, Options{SegmentSize: 1000, MaxBytes: 4000})
	st := s.Stats()
	if st.Bytes > 4000 || st.DroppedSize == 0 || int64(st.DroppedSize)+st.Records != 100 || st.NewestSeq != 100 {
		t.Fatalf("Stats = %+v", st)
	}
}

func TestAgeBoundDropsOldest(t *testing.T) {
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	now := t0
	dir := t.TempDir()
	// 3 records of 100+24 bytes per segment.
	opts := Options{SegmentSize: 372, Now: func() time.Time { return now }}
	s := openT(t, dir, opts)
	for range 10 {
		appendT(t, s, make([]byte, 100)) // segments [1-3] [4-6] [7-9] [10..
	}
	now = t0.Add(23 * time.Hour)
	appendT(t, s, make([]byte, 100)) // 11 joins 10
	if st := s.Stats(); st.DroppedAge != 0 {
		t.Fatalf("dropped too early: %+v", st)
	}
	now = t0.Add(25 * time.Hour)
	appendT(t, s, make([]byte, 100)) // 12 starts a segment; [1-9] are too old
	st := s.Stats()
	if st.DroppedAge != 9 || st.DroppedSize != 0 || st.Records != 3 || st.OldestSeq != 10 {
		t.Fatalf("Stats = %+v, want 9 dropped by age, records 10-12", st)
	}
	checkSeqs(t, readAll(t, s, 0), seqRange(10, 12))
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	now = t0.Add(50 * time.Hour)
	s = openT(t, dir, opts)
	if st := s.Stats(); st.DroppedAge != 3 || st.Records != 0 || st.Segments != 0 {
		t.Fatalf("Stats after Open = %+v, want everything dropped by age", st)
	}
	if seq := appendT(t, s, nil); seq != 13 {
		t.Fatalf("seq after dropping everything = %d, want 13", seq)
	}
}

func TestSegmentBoundaries(t *testing.T) {
	const seg = 1000
	cases := [][]int{ // record sizes, header included
		{seg - 1}, {seg}, {seg + 1}, {3 * seg},
		{seg / 2, seg / 2}, {seg / 2, seg/2 + 1}, {seg / 2, seg/2 - 1},
		{seg - 1, 1 + headerSize - headerSize + headerSize}, {seg, headerSize}, {headerSize, seg},
		{headerSize, headerSize, seg - 2*headerSize}, {headerSize, headerSize, seg - 2*headerSize + 1},
	}
	for _, sizes := range cases {
		t.Run(fmt.Sprint(sizes), func(t *testing.T) {
			dir := t.TempDir()
			opts := Options{SegmentSize: seg}
			s := openT(t, dir, opts)
			var want []rec
			for round := range 3 {
				for i, n := range sizes {
					p := bytes.Repeat([]byte{byte(round*10 + i)}, n-headerSize)
					want = append(want, rec{appendT(t, s, p), p})
				}
			}
			check := func(s *Spool) {
				t.Helper()
				got := readAll(t, s, 0)
				checkSeqs(t, got, seqsOf(want))
				for i := range got {
					if !bytes.Equal(got[i].payload, want[i].payload) {
						t.Fatalf("seq %d: payload differs", got[i].seq)
					}
				}
				for _, g := range s.segs {
					if g.count > 1 && g.size > seg {
						t.Fatalf("segment %d holds %d bytes in %d records > %d", g.first, g.size, g.count, seg)
					}
				}
			}
			check(s)
			if err := s.Close(); err != nil {
				t.Fatal(err)
			}
			s = openT(t, dir, opts)
			check(s)
			if st := s.Stats(); st.Corrupt != 0 || st.Truncated != 0 {
				t.Fatalf("clean reopen reported damage: %+v", st)
			}
		})
	}
}

func TestTooLarge(t *testing.T) {
	s := openT(t, t.TempDir(), Options{MaxBytes: 4000})
	if _, err := s.Append(make([]byte, 1000)); !errors.Is(err, ErrTooLarge) {
		t.Fatalf("Append(1000 B) with MaxBytes 4000: %v, want ErrTooLarge", err)
	}
	s2 := openT(t, t.TempDir(), Options{})
	if _, err := s2.Append(make([]byte, MaxPayload+1)); !errors.Is(err, ErrTooLarge) {
		t.Fatalf("Append(MaxPayload+1): %v, want ErrTooLarge", err)
	}
	if seq := appendT(t, s, make([]byte, 900)); seq != 1 {
		t.Fatalf("a refused Append consumed a seq: got %d", seq)
	}
}

func TestLocked(t *testing.T) {
	dir := t.TempDir()
	s := openT(t, dir, Options{})
	if _, err := Open(dir, Options{}); !errors.Is(err, ErrLocked) {
		t.Fatalf("second Open: %v, want ErrLocked", err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
	if _, err := s.Append(nil); !errors.Is(err, ErrClosed) {
		t.Fatalf("Append after Close: %v", err)
	}
	openT(t, dir, Options{})
}

func TestWaitAndCursorAfterEOF(t *testing.T) {
	s := openT(t, t.TempDir(), Options{SegmentSize: 300})
	c := s.Cursor(0)
	defer c.Close()
	if _, _, err := c.Next(); !errors.Is(err, io.EOF) {
		t.Fatalf("empty spool: %v, want io.EOF", err)
	}
	for i := uint64(1); i <= 20; i++ {
		w := s.Wait()
		select {
		case <-w:
			t.Fatal("Wait channel closed before Append")
		default:
		}
		appendT(t, s, payloadFor(i, 100))
		select {
		case <-w:
		default:
			t.Fatal("Wait channel not closed by Append")
		}
		seq, p, err := c.Next()
		if err != nil || seq != i || !bytes.Equal(p, payloadFor(i, 100)) {
			t.Fatalf("Next = %d, %v; want %d", seq, err, i)
		}
		if _, _, err := c.Next(); !errors.Is(err, io.EOF) {
			t.Fatalf("Next at end = %v, want io.EOF", err)
		}
	}
	w := s.Wait()
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	select {
	case <-w:
	default:
		t.Fatal("Wait channel not closed by Close")
	}
	if _, _, err := c.Next(); !errors.Is(err, ErrClosed) {
		t.Fatalf("Next after Close: %v, want ErrClosed", err)
	}
}

// TestCursorConcurrentAppend is the normal agent shape: the collector
// appends and acknowledges while the sender reads. Run with -race.
func TestCursorConcurrentAppend(t *testing.T) {
	const n = 2000
	s := openT(t, t.TempDir(), Options{SegmentSize: 2048, MaxBytes: 1 << 30})
	done := make(chan error, 1)
	go func() {
		for i := uint64(1); i <= n; i++ {
			if _, err := s.Append(payloadFor(i, 200)); err != nil {
				done <- err
				return
			}
		}
		done <- nil
	}()
	c := s.Cursor(0)
	defer c.Close()
	var want uint64 = 1
	deadline := time.After(30 * time.Second)
	for want <= n {
		w := s.Wait()
		seq, p, err := c.Next()
		switch {
		case errors.Is(err, io.EOF):
			select {
			case <-w:
			case <-deadline:
				t.Fatalf("stuck waiting for seq %d", want)
			}
			continue
		case err != nil:
			t.Fatal(err)
		}
		if seq != want || !bytes.Equal(p, payloadFor(seq, 200)) {
			t.Fatalf("got seq %d, want %d (payload ok: %v)", seq, want, bytes.Equal(p, payloadFor(seq, 200)))
		}
		if seq%100 == 0 {
			if err := s.Ack(seq - 50); err != nil {
				t.Fatal(err)
			}
		}
		want++
	}
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}

// crash abandons s without Close, as a killed process would.
func crash(s *Spool) {
	if s.wf != nil {
		_ = s.wf.Close()
	}
	_ = s.lock.Close()
}

func TestNoSyncLeaseSkipsAfterCrash(t *testing.T) {
	dir := t.TempDir()
	s, err := Open(dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	for range 5 {
		appendT(t, s, []byte("x"))
	}
	crash(s)
	// The records survived (page cache); only the number jumps.
	s = openT(t, dir, Options{})
	checkSeqs(t, readAll(t, s, 0), seqRange(1, 5))
	if seq := appendT(t, s, nil); seq != 1+leaseSize {
		t.Fatalf("seq after crash without Sync = %d, want %d", seq, 1+leaseSize)
	}
}

func TestCorruptMetaIgnored(t *testing.T) {
	dir := t.TempDir()
	s := openT(t, dir, Options{Sync: true})
	for range 5 {
		appendT(t, s, []byte("x"))
	}
	if err := s.Ack(2); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, metaName), []byte("garbage"), 0o640); err != nil {
		t.Fatal(err)
	}
	s = openT(t, dir, Options{Sync: true})
	// Acknowledged records in kept segments come back; numbering goes on.
	if seq := appendT(t, s, nil); seq != 6 {
		t.Fatalf("seq = %d, want 6", seq)
	}
}

func TestLoadOrCreateID(t *testing.T) {
	dir := t.TempDir()
	id, err := LoadOrCreateID(dir)
	if err != nil || len(id) != 32 {
		t.Fatalf("LoadOrCreateID = %q, %v", id, err)
	}
	again, err := LoadOrCreateID(dir)
	if err != nil || again != id {
		t.Fatalf("second call = %q, %v; want %q", again, err, id)
	}
	other, err := LoadOrCreateID(t.TempDir())
	if err != nil || other == id {
		t.Fatalf("another dir got %q, %v", other, err)
	}
}

func TestLoadOrCreateIDBadFile(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, idName), []byte("not an id\n"), 0o640); err != nil {
		t.Fatal(err)
	}
	if _, err := LoadOrCreateID(dir); !errors.Is(err, ErrBadID) {
		t.Fatalf("LoadOrCreateID = %v, want ErrBadID", err)
	}
}

// TestModel runs seeded random operations against a Spool and an in-memory
// model of it, reopening now and then.
func TestModel(t *testing.T) {
	seeds := uint64(8)
	if testing.Short() {
		seeds = 2
	}
	for seed := range seeds {
		t.Run(fmt.Sprint(seed), func(t *testing.T) {
			rng := rand.New(rand.NewPCG(seed, 42))
			dir := t.TempDir()
			opts := Options{Sync: seed%2 == 0, SegmentSize: int64(200 + rng.IntN(2000))}
			s := openT(t, dir, opts)
			var model []rec // unacknowledged, in order
			var next, acked uint64 = 1, 0
			cur := s.Cursor(0) // a long-lived cursor, like the sender's
			var curNext uint64 = 1
			defer func() { cur.Close() }()
			for op := range 600 {
				switch r := rng.IntN(100); {
				case r < 60:
					p := payloadFor(uint64(rng.IntN(1000)), 700)
					seq := appendT(t, s, p)
					if seq != next {
						t.Fatalf("op %d: Append seq %d, want %d", op, seq, next)
					}
					model = append(model, rec{seq, p})
					next++
				case r < 72 && next > acked+1:
					a := acked + 1 + uint64(rng.IntN(int(next-acked-1)))
					if err := s.Ack(a); err != nil {
						t.Fatal(err)
					}
					for len(model) > 0 && model[0].seq <= a {
						model = model[1:]
					}
					acked = a
				case r < 80:
					from := uint64(rng.IntN(int(next + 1)))
					got := readAll(t, s, from)
					var want []rec
					for _, m := range model {
						if m.seq >= from {
							want = append(want, m)
						}
					}
					checkSeqs(t, got, seqsOf(want))
					for i := range got {
						if !bytes.Equal(got[i].payload, want[i].payload) {
							t.Fatalf("seq %d payload differs", got[i].seq)
						}
					}
				case r < 95:
					var want *rec
					for i := range model {
						if model[i].seq >= curNext {
							want = &model[i]
							break
						}
					}
					seq, p, err := cur.Next()
					if errors.Is(err, io.EOF) {
						if want != nil {
							t.Fatalf("op %d: cursor EOF, want seq %d", op, want.seq)
						}
						continue
					}
					if err != nil {
						t.Fatal(err)
					}
					if want == nil || seq != want.seq || !bytes.Equal(p, want.payload) {
						t.Fatalf("op %d: cursor gave seq %d, want %v", op, seq, want)
					}
					curNext = seq + 1
				default:
					cur.Close()
					if err := s.Close(); err != nil {
						t.Fatal(err)
					}
					s = openT(t, dir, opts)
					cur = s.Cursor(0)
					curNext = acked + 1
				}
				st := s.Stats()
				if st.Records != int64(len(model)) || st.LastAcked != acked || st.NextSeq != next {
					t.Fatalf("op %d: Stats %+v, model records %d acked %d next %d", op, st, len(model), acked, next)
				}
			}
		})
	}
}

// TestCursorSkipsAckedUnderIt acknowledges records, deleting the segment
// the cursor is reading, and checks that the cursor goes on with the first
// unacknowledged record.
func TestCursorSkipsAckedUnderIt(t *testing.T) {
	s := openT(t, t.TempDir(), Options{SegmentSize: 300})
	for i := uint64(1); i <= 30; i++ {
		appendT(t, s, payloadFor(i, 100))
	}
	c := s.Cursor(0)
	defer c.Close()
	if seq, _, err := c.Next(); err != nil || seq != 1 {
		t.Fatalf("Next = %d, %v", seq, err)
	}
	segs := s.Stats().Segments
	if err := s.Ack(17); err != nil {
		t.Fatal(err)
	}
	if st := s.Stats(); st.Segments >= segs {
		t.Fatalf("Ack(17) deleted no segment: %d -> %d", segs, st.Segments)
	}
	var got []rec
	for range 100 {
		seq, p, err := c.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(p, payloadFor(seq, 100)) {
			t.Fatalf("seq %d: payload differs", seq)
		}
		got = append(got, rec{seq, nil})
	}
	checkSeqs(t, got, seqRange(18, 30))
}

// Sync on a spool without Options.Sync fsyncs what Append left unsynced:
// the records and the directory entry of a new segment; then nothing is
// left to sync until the next Append.
func TestSyncOnDemand(t *testing.T) {
	dir := t.TempDir()
	s := openT(t, dir, Options{SegmentSize: 4096})
	if err := s.Sync(); err != nil {
		t.Fatalf("Sync of an empty spool: %v", err)
	}
	appendT(t, s, payloadFor(1, 300))
	if !s.dirty || !s.newer {
		t.Fatalf("after Append dirty=%v newer=%v, want both", s.dirty, s.newer)
	}
	if err := s.Sync(); err != nil {
		t.Fatal(err)
	}
	if s.dirty || s.newer {
		t.Fatalf("after Sync dirty=%v newer=%v, want neither", s.dirty, s.newer)
	}
	appendT(t, s, payloadFor(2, 300))
	if !s.dirty || s.newer {
		t.Fatalf("after a second Append dirty=%v newer=%v, want only dirty", s.dirty, s.newer)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if err := s.Sync(); !errors.Is(err, ErrClosed) {
		t.Fatalf("Sync after Close: %v, want ErrClosed", err)
	}
	s2 := openT(t, dir, Options{})
	checkSeqs(t, readAll(t, s2, 0), []uint64{1, 2})
}

// A spool with Options.Sync has nothing for Sync to do.
func TestSyncWithSyncOption(t *testing.T) {
	s := openT(t, t.TempDir(), Options{Sync: true})
	appendT(t, s, payloadFor(1, 300))
	if s.dirty || s.newer {
		t.Fatalf("Sync spool left dirty=%v newer=%v", s.dirty, s.newer)
	}
	if err := s.Sync(); err != nil {
		t.Fatal(err)
	}
}
