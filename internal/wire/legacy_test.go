package wire

import (
	"errors"
	"testing"
)

func TestLegacyVector(t *testing.T) {
	p, err := DecodeLegacy([]byte(vectors[2].payload))
	if err != nil {
		t.Fatal(err)
	}
	if p.Type != LegacyHeartbeat || p.Heartbeat.Version != "1.0" || p.Heartbeat.Timestamp != 1700000000 {
		t.Fatalf("decoded %+v", p)
	}
	if p.Reply() != "heartBeat\n" || len(p.Reply()) != 10 {
		t.Fatalf("reply %q", p.Reply())
	}
	enc, err := AppendLegacy(nil, LegacyHeartbeat, LegacyHeartbeatContent{Version: "1.0", Timestamp: 1700000000})
	if err != nil || string(enc) != vectors[2].payload {
		t.Fatalf("encoded %s (%v)", enc, err)
	}
}

func TestLegacyReport(t *testing.T) {
	in := LegacyReportContent{Content: "cpu 3%", Rand: 42, Timestamp: 1700000001}
	enc, err := AppendLegacy(nil, LegacyReport, in)
	if err != nil {
		t.Fatal(err)
	}
	if !IsLegacy(enc) {
		t.Fatal("not recognised as legacy")
	}
	p, err := DecodeLegacy(enc)
	if err != nil || p.Type != LegacyReport || p.Report != in {
		t.Fatalf("decoded %+v, %v", p, err)
	}
	if r := p.Reply(); r != "Report data has recive\n" || len(r) != 23 {
		t.Fatalf("reply %q", r)
	}
}

func TestLegacyBad(t *testing.T) {
	cases := []struct {
		in   string
		want error
	}{
		{`{`, ErrLegacyMalformed},
		{`{}`, ErrLegacyMalformed},
		{`{"PacketType":"x"}`, ErrLegacyMalformed},
		{`{"PacketType":300}`, ErrLegacyMalformed},
		{`{"PacketType":7,"PacketContent":"e30="}`, ErrLegacyType},
		{`{"PacketType":0,"PacketContent":"not base64!"}`, ErrLegacyMalformed},
		{`{"PacketType":0,"PacketContent":"eyJ2ZXJzaW9uIjo="}`, ErrLegacyMalformed},             // {"version":
		{`{"PacketType":1,"PacketContent":"eyJ0aW1lc3RhbXAiOiJub3cifQ=="}`, ErrLegacyMalformed}, // {"timestamp":"now"}
		{`{"PacketType":0}`, ErrLegacyMalformed},
	}
	for _, c := range cases {
		if _, err := DecodeLegacy([]byte(c.in)); !errors.Is(err, c.want) {
			t.Errorf("%s: err %v, want %v", c.in, err, c.want)
		}
	}
}
