package agent

import (
	"testing"
	"time"
)

func TestSchedule(t *testing.T) {
	base := time.Date(2026, 11, 26, 10, 0, 0, 0, time.UTC)
	const iv, off = 10 * time.Second, 3 * time.Second
	if got := nextSlot(base, iv, off); !got.Equal(base.Add(3 * time.Second)) {
		t.Errorf("nextSlot %v", got)
	}
	if got := nextSlot(base.Add(3*time.Second), iv, off); !got.Equal(base.Add(13 * time.Second)) {
		t.Errorf("nextSlot at a slot must give the following one, got %v", got)
	}
	prev := base.Add(3 * time.Second)
	cases := []struct {
		now  time.Duration // after base
		want time.Duration
	}{
		{4 * time.Second, 13 * time.Second},  // on time: the following slot
		{15 * time.Second, 13 * time.Second}, // overran by 2 s: that slot at once, no gap
		{32 * time.Second, 13 * time.Second}, // late by 19 s (< 2 intervals): still that slot
		{40 * time.Second, 43 * time.Second}, // stopped for longer: skip to the next future slot
	}
	for _, c := range cases {
		if got := followingSlot(prev, base.Add(c.now), iv, off); !got.Equal(base.Add(c.want)) {
			t.Errorf("now +%v: slot %v, want +%v", c.now, got.Sub(base), c.want)
		}
	}
}
