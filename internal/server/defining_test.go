package server

import "testing"

// TestDefiningTakesTurns: a batch that defines series waits for a place
// while every place is taken; one that carries only samples of known
// series takes none and is acknowledged meanwhile.
func TestDefiningTakesTurns(t *testing.T) {
	k, mt := newCat(t, nil), nowMs()
	known, fresh := k.v2("known"), k.v2("fresh")
	known.batch(1, testBatch(5, mt, 1))
	if got := known.ack(); got != 1 {
		t.Fatalf("ack %d, want 1", got)
	}
	held := 0
	leave := func() {
		for ; held > 0; held-- {
			k.s.defining.leave()
		}
	}
	t.Cleanup(leave) // before the server's shutdown: a session waiting in enter would hold it up
	for range cap(k.s.defining.places) {
		k.s.defining.enter()
		held++
	}
	fresh.batch(1, testBatch(5, mt, 1))
	waitFor(t, "the defining batch to wait for a place", func() bool { return testutilGauge(k.s.m.definingWaits) == 1 })
	known.batch(2, testBatch(5, mt+1000, 2)) // the encoder defines nothing twice: samples only
	if got := known.ack(); got != 2 {
		t.Fatalf("ack %d, want 2", got)
	}
	if w := testutilGauge(k.s.m.definingWaits); w != 1 {
		t.Fatalf("%v sessions waiting to define, want 1", w)
	}
	leave()
	if got := fresh.ack(); got != 1 {
		t.Fatalf("ack %d, want 1", got)
	}
	if w := testutilGauge(k.s.m.definingWaits); w != 0 {
		t.Fatalf("%v sessions waiting to define, want 0", w)
	}
}
