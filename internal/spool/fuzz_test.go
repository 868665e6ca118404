package spool

import (
	"os"
	"path/filepath"
	"testing"
)

// FuzzRecover writes arbitrary bytes as a segment and opens the spool.
// Properties: no panic, no error, records come out in increasing order,
// the next seq is above all of them, and a second Open finds nothing to
// repair.
func FuzzRecover(f *testing.F) {
	var seg []byte
	for i := uint64(1); i <= 4; i++ {
		seg = appendRecord(seg, i, int64(i)*1000, payloadFor(i, 50))
	}
	f.Add(seg)
	f.Add(seg[:len(seg)-3])
	f.Add(append(append([]byte{}, seg[:30]...), seg[60:]...))
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, data []byte) {
		dir := t.TempDir()
		if err := os.WriteFile(filepath.Join(dir, segName(1)), data, 0o640); err != nil {
			t.Fatal(err)
		}
		s, err := Open(dir, Options{})
		if err != nil {
			t.Fatalf("Open: %v", err)
		}
		got := readAll(t, s, 0)
		for i := 1; i < len(got); i++ {
			if got[i].seq <= got[i-1].seq {
				t.Fatalf("out of order: %v", seqsOf(got))
			}
		}
		next := s.Stats().NextSeq
		if n := len(got); n > 0 && next <= got[n-1].seq {
			t.Fatalf("NextSeq %d <= last record %d", next, got[n-1].seq)
		}
		if err := s.Close(); err != nil {
			t.Fatal(err)
		}
		s, err = Open(dir, Options{})
		if err != nil {
			t.Fatalf("second Open: %v", err)
		}
		defer s.Close()
		if st := s.Stats(); st.Truncated != 0 || st.NextSeq < next {
			t.Fatalf("second Open: %+v, first NextSeq %d", st, next)
		}
		checkSeqs(t, readAll(t, s, 0), seqsOf(got))
	})
}
