package spool

import (
	"errors"
	"io"
	"os"
	"runtime"
	"testing"
	"time"
)

// TestFullSpoolMemory fills a spool to its default 512 MiB, reopens it and
// reads it through, and checks that the heap stays small: the spool keeps
// per-segment metadata only. It writes 512 MiB, so it only runs with
// HAWK_SPOOL_FULL=1.
func TestFullSpoolMemory(t *testing.T) {
	if os.Getenv("HAWK_SPOOL_FULL") == "" {
		t.Skip("set HAWK_SPOOL_FULL=1 to fill a 512 MiB spool")
	}
	dir := t.TempDir()
	s := openT(t, dir, Options{})
	p := make([]byte, 8<<10)
	for s.Stats().DroppedSize == 0 {
		if _, err := s.Append(p); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	runtime.GC()
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	start := time.Now()
	s = openT(t, dir, Options{})
	openTime := time.Since(start)
	c := s.Cursor(0)
	defer c.Close()
	n := 0
	for range 1 << 20 {
		_, _, err := c.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		n++
	}
	runtime.ReadMemStats(&after)
	st := s.Stats()
	t.Logf("%d records, %d MiB in %d segments; Open took %v (page cache warm); heap in use %d KiB, total allocated by Open and a full read %d KiB",
		n, st.Bytes>>20, st.Segments, openTime, after.HeapInuse>>10, (after.TotalAlloc-before.TotalAlloc)>>10)
	if int64(n) != st.Records || after.HeapInuse > 8<<20 || after.TotalAlloc-before.TotalAlloc > 4<<20 {
		t.Fatalf("read %d of %d records; heap %d B, allocated %d B", n, st.Records, after.HeapInuse, after.TotalAlloc-before.TotalAlloc)
	}
}
