package bench

import (
	"sync"
	"testing"
	"time"
)

func TestHistIndexRoundTrip(t *testing.T) {
	for _, v := range []uint64{0, 1, 63, 64, 65, 127, 128, 1000, 123456789, 1 << 40, 1<<63 - 1} {
		i := histIndex(v)
		if i < 0 || i >= histBuckets {
			t.Fatalf("index %d of %d out of range", i, v)
		}
		mid := histValue(i)
		if d := float64(mid) - float64(v); d > float64(v)/64+1 || -d > float64(v)/64+1 {
			t.Errorf("value %d in bucket %d reads back %d", v, i, mid)
		}
	}
}

func TestHistQuantiles(t *testing.T) {
	var h Hist
	for i := 1; i <= 1000; i++ {
		h.Record(time.Duration(i) * time.Microsecond)
	}
	f := func(q float64, want time.Duration) {
		t.Helper()
		got := h.Quantile(q)
		if d := got - want; d > want/50 || -d > want/50 {
			t.Errorf("q%v = %v, want %v ±2%%", q, got, want)
		}
	}
	f(0.5, 500*time.Microsecond)
	f(0.99, 990*time.Microsecond)
	f(1, time.Millisecond)
	if h.Max() != time.Millisecond || h.Count() != 1000 {
		t.Fatalf("max %v count %d", h.Max(), h.Count())
	}
	if m := h.Mean(); m < 500*time.Microsecond || m > 501*time.Microsecond {
		t.Fatalf("mean %v", m)
	}
}

func TestHistEmptyAndSmall(t *testing.T) {
	var h Hist
	if h.Quantile(0.5) != 0 || h.Max() != 0 || h.Mean() != 0 {
		t.Fatal("empty histogram not zero")
	}
	h.Record(-5)
	h.Record(7)
	if h.Quantile(0.5) != 0 || h.Quantile(1) != 7 {
		t.Fatalf("got %v %v", h.Quantile(0.5), h.Quantile(1))
	}
}

func TestHistConcurrent(t *testing.T) {
	var h Hist
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 1000 {
				h.Record(time.Duration(g*1000 + i))
			}
		}()
	}
	wg.Wait()
	if h.Count() != 8000 || h.Max() != 7999 {
		t.Fatalf("count %d max %v", h.Count(), h.Max())
	}
}
