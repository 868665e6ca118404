package wire

import (
	"errors"
	"reflect"
	"runtime"
	"testing"
	"time"
)

func TestMessagesRoundTrip(t *testing.T) {
	hello := Hello{Version: 2, AgentID: "a1b2", Hostname: "web-01", AgentVersion: "0.1.0",
		Labels: []Label{{"dc", "fra"}, {"role", "db"}}, Token: "s3cret"}
	welcome := Welcome{Version: 2, ServerTime: 1700000000123456789, HeartbeatInterval: 2 * time.Second,
		LastSeq: 1 << 40, MaxBatchSamples: 100000, MaxSeries: 50000, Window: 64, ServerID: "srv-1"}
	hb := Heartbeat{AgentTime: 1700000000000000001, RTT: 350000, Offset: -2100000}
	echo := Heartbeat{AgentTime: -5, ServerRecv: 7, ServerSend: 9}
	gone := GoAway{ReconnectAfter: 1500 * time.Millisecond, Reason: "upgrade"}
	e := Error{Code: CodeAuth, Message: "bad token"}

	check := func(name string, got, want any, err error) {
		t.Helper()
		if err != nil || !reflect.DeepEqual(got, want) {
			t.Errorf("%s: got %+v (%v), want %+v", name, got, err, want)
		}
	}
	h, err := DecodeHello(AppendHello(nil, &hello))
	check("hello", h, hello, err)
	w, err := DecodeWelcome(AppendWelcome(nil, &welcome))
	check("welcome", w, welcome, err)
	b, err := DecodeHeartbeat(AppendHeartbeat(nil, &hb, false))
	check("heartbeat", b, hb, err)
	b, err = DecodeHeartbeat(AppendHeartbeat(nil, &echo, true))
	check("echo", b, echo, err)
	a, err := DecodeAck(AppendAck(nil, Ack{Seq: 77}))
	check("ack", a, Ack{Seq: 77}, err)
	g, err := DecodeGoAway(AppendGoAway(nil, &gone))
	check("goaway", g, gone, err)
	x, err := DecodeError(AppendError(nil, &e))
	check("error", x, e, err)
}

func TestMessagesTruncated(t *testing.T) {
	payloads := [][]byte{
		AppendHello(nil, &Hello{Version: 2, AgentID: "id", Hostname: "h", Labels: []Label{{"a", "b"}}, Token: "t"}),
		AppendWelcome(nil, &Welcome{Version: 2, ServerID: "s"}),
		AppendHeartbeat(nil, &Heartbeat{AgentTime: 1}, false),
		AppendHeartbeat(nil, &Heartbeat{AgentTime: 1}, true),
		AppendAck(nil, Ack{Seq: 300}),
		AppendGoAway(nil, &GoAway{Reason: "r"}),
		AppendError(nil, &Error{Code: 1, Message: "m"}),
	}
	for _, p := range payloads {
		k, _ := PeekKind(p)
		for n := 0; n < len(p); n++ {
			if err := decodeAny(p[:n]); err == nil {
				t.Errorf("%v cut to %d of %d bytes decoded without error", k, n, len(p))
			}
		}
		if err := decodeAny(p); err != nil {
			t.Errorf("%v: %v", k, err)
		}
	}
}

// decodeAny decodes a v2 payload of any kind.
func decodeAny(p []byte) error {
	k, err := PeekKind(p)
	if err != nil {
		return err
	}
	switch k {
	case KindHello:
		_, err = DecodeHello(p)
	case KindWelcome:
		_, err = DecodeWelcome(p)
	case KindHeartbeat, KindHeartbeatEcho:
		_, err = DecodeHeartbeat(p)
	case KindBatch:
		var b Batch
		err = NewDict(1<<16).DecodeBatch(p, &b)
	case KindAck:
		_, err = DecodeAck(p)
	case KindGoAway:
		_, err = DecodeGoAway(p)
	case KindError:
		_, err = DecodeError(p)
	}
	return err
}

func TestPeekKind(t *testing.T) {
	for _, p := range [][]byte{nil, {0}, {9}, {'{'}, {0xff}} {
		if _, err := PeekKind(p); err == nil {
			t.Errorf("PeekKind(%x) accepted", p)
		}
	}
	if _, err := DecodeAck(AppendGoAway(nil, &GoAway{})); !errors.Is(err, ErrKind) {
		t.Errorf("ACK decoder took a GOAWAY: %v", err)
	}
}

func TestHelloLabelCountBounded(t *testing.T) {
	// A label count far beyond the payload must fail before allocating.
	p := []byte{byte(KindHello), 2, 0, 0, 0, 0xff, 0xff, 0xff, 0xff, 0x0f}
	if n := allocBytes(func() {
		if _, err := DecodeHello(p); !errors.Is(err, ErrMalformed) {
			t.Fatalf("err %v", err)
		}
	}); n > 1024 {
		t.Fatalf("%d bytes allocated for a hostile count", n)
	}
}

// allocBytes returns the bytes f allocates, on average over 100 runs.
func allocBytes(f func()) uint64 {
	const runs = 100
	var a, b runtime.MemStats
	f()
	runtime.ReadMemStats(&a)
	for range runs {
		f()
	}
	runtime.ReadMemStats(&b)
	return (b.TotalAlloc - a.TotalAlloc) / runs
}

// TestOptionalFields checks the fields appended to HELLO and WELCOME after
// revision 2's first layout: each combination round-trips, a message
// without them is byte for byte the original layout (so an older peer
// reads it), and a message cut inside an optional field is malformed.
func TestOptionalFields(t *testing.T) {
	base := Hello{Version: 2, AgentID: "a", Hostname: "h", AgentVersion: "v", Token: "t"}
	plain := AppendHello(nil, &base)
	for _, c := range []struct {
		secret string
		boot   int64
	}{{"", 0}, {"k3y", 0}, {"", 1700000000}, {"k3y", -1}} {
		m := base
		m.Secret, m.BootTime = c.secret, c.boot
		p := AppendHello(nil, &m)
		got, err := DecodeHello(p)
		if err != nil || !reflect.DeepEqual(got, m) {
			t.Errorf("hello %+v: got %+v (%v)", c, got, err)
		}
		if c == struct {
			secret string
			boot   int64
		}{} && string(p) != string(plain) {
			t.Errorf("hello without optional fields changed its layout")
		}
		// A cut right after the secret is a valid HELLO without a boot time.
		mid := len(appendString(append([]byte(nil), plain...), c.secret))
		for n := len(plain) + 1; n < len(p); n++ {
			if _, err := DecodeHello(p[:n]); err == nil && n != mid {
				t.Errorf("hello %+v cut to %d of %d bytes decoded without error", c, n, len(p))
			}
		}
	}
	wbase := Welcome{Version: 2, ServerTime: 1, HeartbeatInterval: time.Second, ServerID: "s"}
	wplain := AppendWelcome(nil, &wbase)
	for _, c := range []struct {
		age    time.Duration
		secret string
	}{{0, ""}, {6 * time.Hour, ""}, {0, "k3y"}, {time.Hour, "k3y"}} {
		m := wbase
		m.MaxSampleAge, m.Secret = c.age, c.secret
		p := AppendWelcome(nil, &m)
		got, err := DecodeWelcome(p)
		if err != nil || !reflect.DeepEqual(got, m) {
			t.Errorf("welcome %+v: got %+v (%v)", c, got, err)
		}
		if c.age == 0 && c.secret == "" && string(p) != string(wplain) {
			t.Errorf("welcome without optional fields changed its layout")
		}
		mid := len(appendUvarint(append([]byte(nil), wplain...), uint64(c.age.Milliseconds())))
		for n := len(wplain) + 1; n < len(p); n++ {
			if _, err := DecodeWelcome(p[:n]); err == nil && n != mid {
				t.Errorf("welcome %+v cut to %d of %d bytes decoded without error", c, n, len(p))
			}
		}
	}
}
