package server

import (
	"net/netip"
	"testing"
	"time"

	"hawk/internal/wire"
)

func TestAuthFailuresPenaliseAndExpire(t *testing.T) {
	a := newAuthFailures(3, time.Minute, 100)
	src, other := netip.MustParseAddr("192.0.2.1"), netip.MustParseAddr("192.0.2.2")
	t0 := time.Now()
	for i := range 2 {
		if a.fail(src, t0.Add(time.Duration(i)*time.Second)) {
			t.Fatalf("failure %d penalised the source", i+1)
		}
	}
	if a.penalised(src, t0.Add(2*time.Second)) {
		t.Fatal("penalised after 2 failures, limit 3")
	}
	if !a.fail(src, t0.Add(2*time.Second)) {
		t.Fatal("third failure did not penalise")
	}
	if !a.penalised(src, t0.Add(61*time.Second)) || a.penalised(other, t0.Add(3*time.Second)) {
		t.Fatal("want the failing source penalised, and only it")
	}
	if a.penalised(src, t0.Add(62*time.Second)) {
		t.Fatal("still penalised after the period")
	}
	// Failures spread wider than the period never add up.
	for i := range 10 {
		if a.fail(other, t0.Add(time.Duration(i)*40*time.Second)) {
			t.Fatalf("failure %d, 40 s apart, penalised", i+1)
		}
	}
}

func TestAuthFailuresTableBounded(t *testing.T) {
	a := newAuthFailures(2, time.Minute, 64)
	now := time.Now()
	penalised := netip.MustParseAddr("10.0.0.1")
	a.fail(penalised, now)
	a.fail(penalised, now)
	for i := range 10000 { // an attacker with many addresses, one failure each
		a.fail(netip.AddrFrom4([4]byte{10, 1, byte(i >> 8), byte(i)}), now)
		if n := a.len(); n > 2*64 {
			t.Fatalf("table holds %d addresses, bound 128", n)
		}
	}
	if a.penalised(penalised, now) {
		t.Fatal("the oldest source was not forgotten") // the price of the bound, documented
	}
	if off := newAuthFailures(0, time.Minute, 64); off.fail(penalised, now) || off.len() != 0 {
		t.Fatal("a limit of 0 must track nothing")
	}
}

// TestShutdownEndsAuthFailureWaits: a refusal waiting out its delay and a
// penalised connection held unread do not hold up Shutdown, however long
// the delay.
func TestShutdownEndsAuthFailureWaits(t *testing.T) {
	entered := make(chan struct{}, 2)
	_, addr, shutdown := startServing(t, Config{Auth: TokenAuth("s3cret", nil), AuthFailureDelay: time.Hour, MaxAuthFailures: 1,
		wait: func(d time.Duration, stop <-chan struct{}) {
			entered <- struct{}{}
			waitOrStop(d, stop)
		}})
	refused := dial(t, addr)
	refused.send(wire.AppendHello(nil, &wire.Hello{Version: wire.ProtocolVersion, AgentID: "a", Token: "guess"}))
	waitEntered := func(what string) {
		t.Helper()
		select {
		case <-entered:
		case <-time.After(10 * time.Second):
			t.Fatalf("%s: no wait began", what)
		}
	}
	waitEntered("the refusal")
	held := dial(t, addr)
	waitEntered("the penalised connection")
	shutdown()
	refused.expectError(wire.CodeAuth) // answered at the shutdown
	held.expectClosed()
}
