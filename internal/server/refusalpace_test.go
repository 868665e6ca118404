package server

import (
	"testing"
	"time"
)

func TestRefusalPacer(t *testing.T) {
	p := newRefusalPacer(1000) // 1 ms a refusal, 1 s of burst
	t0 := time.Unix(1000, 0)
	for _, c := range []struct {
		n    int
		at   time.Duration
		want time.Duration
	}{
		{1000, 0, 0},                          // the burst
		{500, 0, 500 * time.Millisecond},      // past it
		{500, 0, time.Second},                 // the debt adds up
		{20000, 0, refusalMaxWait},            // capped
		{1, refusalMaxWait, time.Millisecond}, // the capped debt is paid by then
		{1000, time.Hour, 0},                  // a quiet while forgives it
	} {
		if got := p.delay(c.n, t0.Add(c.at)); got != c.want {
			t.Fatalf("delay(%d) at +%v = %v, want %v", c.n, c.at, got, c.want)
		}
	}
}
