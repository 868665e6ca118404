package spool

import (
	"errors"
	"syscall"
	"testing"

	"hawk/internal/faultfs"
)

// TestWriteErrorIsNotSticky reproduces issue 16's fourth defect: after one
// failed write (a full disk, with a short write before the failure) every
// later Append and Ack failed with the same error until the agent was
// restarted. Now the failed record's bytes are cut, the next call after
// space is freed succeeds, and nothing appended before or after is lost or
// damaged, in the open spool and after a reopen.
func TestWriteErrorIsNotSticky(t *testing.T) {
	for _, tc := range []struct {
		name string
		rule faultfs.Rule
	}{
		{"short write then ENOSPC", faultfs.Rule{Op: faultfs.OpWrite, PathContains: ".seg", Budget: 37}},
		{"ENOSPC", faultfs.Rule{Op: faultfs.OpWrite, PathContains: ".seg"}},
		{"EIO on fsync", faultfs.Rule{Op: faultfs.OpSync, PathContains: ".seg", Err: faultfs.EIO}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			fault := faultfs.New()
			s := openT(t, dir, Options{Fault: fault, Sync: tc.rule.Op == faultfs.OpSync})
			for i := uint64(1); i <= 3; i++ {
				appendT(t, s, payloadFor(i, 100))
			}
			fault.Set(tc.rule)
			for range 3 { // the disk stays full for a while
				if _, err := s.Append(payloadFor(99, 100)); err == nil {
					t.Fatal("Append succeeded on a full disk")
				} else if want := tc.rule.Err; want != nil && !errors.Is(err, want) || want == nil && !errors.Is(err, syscall.ENOSPC) {
					t.Fatalf("Append: %v", err)
				}
			}
			if err := s.Ack(1); err != nil && !errors.Is(err, syscall.ENOSPC) && !errors.Is(err, syscall.EIO) {
				t.Fatalf("Ack while full: %v", err)
			}
			fault.Set() // space freed
			var want []uint64
			for i := range 3 {
				seq, err := s.Append(payloadFor(uint64(100+i), 100))
				if err != nil {
					t.Fatalf("Append after the disk was freed: %v", err)
				}
				want = append(want, seq)
			}
			if err := s.Ack(1); err != nil {
				t.Fatalf("Ack after the disk was freed: %v", err)
			}
			st := s.Stats()
			if st.WriteErrors == 0 || st.Recovered == 0 {
				t.Fatalf("Stats %+v: want write errors and recoveries counted", st)
			}
			got := readAll(t, s, 2)
			checkSeqs(t, got, append([]uint64{2, 3}, want...))
			if err := s.Close(); err != nil {
				t.Fatalf("Close: %v", err)
			}
			s2 := openT(t, dir, Options{})
			if st := s2.Stats(); st.Corrupt != 0 || st.Truncated != 0 {
				t.Fatalf("reopened spool: %+v, want no damage", st)
			}
			checkSeqs(t, readAll(t, s2, 2), append([]uint64{2, 3}, want...))
		})
	}
}
