package bench

import (
	"testing"
	"time"
)

func TestPauseTracker(t *testing.T) {
	t0 := time.Unix(1000, 0)
	at := func(ms int) time.Time { return t0.Add(time.Duration(ms) * time.Millisecond) }
	var p PauseTracker
	p.Outstanding(at(0), 2)
	p.Acked(at(100), 1) // 100 ms pause
	p.Outstanding(at(150), 1)
	p.Acked(at(400), 2)        // 300 ms since the last ACK
	p.Outstanding(at(5000), 1) // idle time with nothing outstanding is no pause
	p.Acked(at(5050), 1)
	if d, end := p.Longest(at(6000)); d != 300*time.Millisecond || !end.Equal(at(400)) {
		t.Fatalf("longest %v at %v", d, end)
	}
	p.Outstanding(at(7000), 1)
	if d, _ := p.Longest(at(8000)); d != time.Second {
		t.Fatalf("open pause: %v", d)
	}
	p.Acked(at(7100), 0) // retired nothing: still paused
	p.Abandon(at(9000), 1)
	if d, end := p.Longest(at(20000)); d != 2*time.Second || !end.Equal(at(9000)) {
		t.Fatalf("abandoned: %v at %v", d, end)
	}
}
