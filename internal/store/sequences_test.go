package store

import (
	"bytes"
	"errors"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"
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

// TestSequencesWritesWhileAdvancing advances agents, new ones among them,
// from several goroutines while Sync writes again and again: the file
// then holds every agent's highest sequence, sorted by id, byte for byte
// what one encode of the final map gives.
func TestSequencesWritesWhileAdvancing(t *testing.T) {
	path := filepath.Join(t.TempDir(), "sequences")
	s := openSeq(t, path)
	const workers, perWorker = 4, 3000
	want := make([]map[string]uint64, workers)
	var wg sync.WaitGroup
	for w := range workers {
		want[w] = map[string]uint64{}
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range perWorker {
				id := fmt.Sprintf("w%d-agent-%d", w, (i*7919)%(perWorker/3)) // ids come back, out of order
				if err := s.Advance(id, uint64(i+1)); err != nil {
					t.Error(err)
					return
				}
				want[w][id] = uint64(i + 1)
			}
		}()
	}
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	for syncs := 0; ; syncs++ {
		if err := s.Sync(); err != nil {
			t.Fatal(err)
		}
		select {
		case <-done:
		default:
			continue
		}
		t.Logf("%d writes while advancing", syncs)
		break
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	all := map[string]uint64{}
	for _, m := range want {
		maps.Copy(all, m)
	}
	got, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if exp := appendSequences(nil, slices.Sorted(maps.Keys(all)), all); !bytes.Equal(got, exp) {
		last, err := parseSequences(got)
		t.Fatalf("file of %d bytes, want %d (%d entries); parsed %d entries, %v", len(got), len(exp), len(all), len(last), err)
	}
}

// TestSequencesFailedWriteRetried: a write that fails is made again by the
// next Sync, though nothing advanced in between.
func TestSequencesFailedWriteRetried(t *testing.T) {
	path := filepath.Join(t.TempDir(), "sequences")
	s := openSeq(t, path)
	defer s.Close()
	_ = s.Advance("a", 1)
	if err := s.Sync(); err != nil {
		t.Fatal(err)
	}
	_ = s.Advance("a", 2)
	// A directory in the file's place (not empty) fails the rename.
	if err := os.Remove(path); err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Join(path, "x"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := s.Sync(); err == nil {
		t.Fatal("Sync over a directory succeeded")
	}
	if err := os.RemoveAll(path); err != nil {
		t.Fatal(err)
	}
	if err := s.Sync(); err != nil {
		t.Fatal(err)
	}
	if last, err := readSequences(path); err != nil || last["a"] != 2 {
		t.Fatalf("after the retry the file holds %v, %v; want a=2", last, err)
	}
}

func TestSequencesCorrupt(t *testing.T) {
	good := appendSequences(nil, []string{"agent-1", "agent-2"}, map[string]uint64{"agent-1": 10, "agent-2": 20})
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

// BenchmarkSequencesAdvanceWhileSyncing times Advance, the call on every
// acknowledged batch's path, while Sync writes a fleet's sequences again
// and again (the flusher writes them every second while any agent sends):
// max-µs is the longest one Advance waited.
func BenchmarkSequencesAdvanceWhileSyncing(b *testing.B) {
	for _, agents := range []int{10_000, 100_000} {
		b.Run(fmt.Sprintf("agents=%d", agents), func(b *testing.B) {
			s := openSeq(b, filepath.Join(b.TempDir(), "sequences"))
			defer s.Close()
			for i := range agents {
				_ = s.Advance(fmt.Sprintf("host-%07d.example.org", i), 1)
			}
			stop := make(chan struct{})
			syncs := make(chan int)
			go func() {
				n := 0
				defer func() { syncs <- n }()
				for {
					select {
					case <-stop:
						return
					default:
					}
					if err := s.Sync(); err != nil {
						b.Error(err)
						return
					}
					n++
				}
			}()
			var worst time.Duration
			b.ResetTimer()
			for i := range b.N {
				t0 := time.Now()
				_ = s.Advance("host-0000000.example.org", uint64(i)+2)
				worst = max(worst, time.Since(t0))
			}
			b.StopTimer()
			close(stop)
			b.ReportMetric(float64(worst.Microseconds()), "max-µs")
			b.ReportMetric(float64(<-syncs), "syncs")
		})
	}
}
