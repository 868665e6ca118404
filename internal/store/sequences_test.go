package store

import (
	"errors"
	"os"
	"path/filepath"
	"testing"
)

func openSeq(t testing.TB, path string) *Sequences {
	t.Helper()
	s, err := OpenSequencesInterval(path, 0)
	if err != nil {
		t.Fatalf("OpenSequences: %v", err)
	}
	return s
}

func TestSequencesPersistAcrossReopen(t *testing.T) {
	path := filepath.Join(t.TempDir(), "sequences")
	s := openSeq(t, path)
	if got := s.Last("a"); got != 0 {
		t.Fatalf("Last on empty = %d", got)
	}
	for _, adv := range []struct {
		id  string
		seq uint64
	}{{"a", 5}, {"b", 7}, {"a", 3}, {"a", 9}, {"", 1}} {
		if err := s.Advance(adv.id, adv.seq); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
	s2 := openSeq(t, path)
	defer s2.Close()
	for id, want := range map[string]uint64{"a": 9, "b": 7, "": 1, "c": 0} {
		if got := s2.Last(id); got != want {
			t.Errorf("Last(%q) = %d, want %d", id, got, want)
		}
	}
}

func TestSequencesSyncWritesOnlyWhenDirty(t *testing.T) {
	path := filepath.Join(t.TempDir(), "sequences")
	s := openSeq(t, path)
	defer s.Close()
	if err := s.Sync(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(path); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("clean Sync wrote a file: %v", err)
	}
	_ = s.Advance("a", 1)
	if err := s.Sync(); err != nil {
		t.Fatal(err)
	}
	last, err := readSequences(path)
	if err != nil || last["a"] != 1 {
		t.Fatalf("file = %v, %v", last, err)
	}
}

// TestSequencesFlusher checks the background flusher starts and stops
// cleanly (goleak) and that Close persists.
func TestSequencesFlusher(t *testing.T) {
	path := filepath.Join(t.TempDir(), "sequences")
	s, err := OpenSequences(path)
	if err != nil {
		t.Fatal(err)
	}
	_ = s.Advance("x", 42)
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if last, err := readSequences(path); err != nil || last["x"] != 42 {
		t.Fatalf("file = %v, %v", last, err)
	}
}

func TestSequencesCorrupt(t *testing.T) {
	good := appendSequences(nil, map[string]uint64{"agent-1": 10, "agent-2": 20})
	if last, err := parseSequences(good); err != nil || len(last) != 2 || last["agent-2"] != 20 {
		t.Fatalf("parse good = %v, %v", last, err)
	}
	for i := range good {
		flipped := append([]byte{}, good...)
		flipped[i] ^= 0x40
		if _, err := parseSequences(flipped); !errors.Is(err, ErrCorruptSequences) {
			t.Fatalf("byte %d flipped: err = %v, want ErrCorruptSequences", i, err)
		}
	}
	for n := range len(good) {
		if _, err := parseSequences(good[:n]); !errors.Is(err, ErrCorruptSequences) {
			t.Fatalf("truncated to %d: err = %v", n, err)
		}
	}
	path := filepath.Join(t.TempDir(), "sequences")
	if err := os.WriteFile(path, good[:len(good)-1], 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := OpenSequences(path); !errors.Is(err, ErrCorruptSequences) {
		t.Fatalf("OpenSequences(corrupt) = %v", err)
	}
}

func TestSequencesAgentIDTooLong(t *testing.T) {
	s := openSeq(t, filepath.Join(t.TempDir(), "sequences"))
	defer s.Close()
	if err := s.Advance(string(make([]byte, maxAgentIDLen)), 1); err == nil {
		t.Fatal("Advance with a 64 KiB id succeeded")
	}
}

func BenchmarkSequencesAdvance(b *testing.B) {
	s := openSeq(b, filepath.Join(b.TempDir(), "sequences"))
	defer s.Close()
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		var seq uint64
		for pb.Next() {
			seq++
			_ = s.Advance("agent", seq)
		}
	})
}
