package wire

import (
	"bytes"
	"encoding/hex"
	"math"
	"testing"
)

func seedFrames(f *testing.F) {
	for _, v := range vectors {
		b, _ := hex.DecodeString(v.frame)
		f.Add(b, uint16(3))
	}
	hb, _ := AppendFrame(nil, AppendHello(nil, &Hello{Version: 2, AgentID: "x", Labels: []Label{{"a", "b"}}}))
	f.Add(append(hb, 0xff, 0xff, 0x01), uint16(1))
}

// FuzzDecoder: whatever the bytes, no panic; the frames found do not depend
// on how the stream is cut; every frame found re-encodes to bytes that are
// in the stream.
func FuzzDecoder(f *testing.F) {
	seedFrames(f)
	f.Fuzz(func(t *testing.T, stream []byte, chunk uint16) {
		whole := decodeAll(t, stream, []int{len(stream) + 1})
		cut := decodeAll(t, stream, []int{int(chunk%512) + 1})
		if !equal(whole, cut) {
			t.Fatalf("whole stream gave %d frames, chunks of %d gave %d", len(whole), chunk%512+1, len(cut))
		}
		for _, p := range whole {
			fr, err := AppendFrame(nil, []byte(p))
			if err != nil || !bytes.Contains(stream, fr) {
				t.Fatalf("frame %q is not in the stream", p)
			}
		}
	})
}

// FuzzLegacy: no panic; what decodes re-encodes and decodes the same.
func FuzzLegacy(f *testing.F) {
	f.Add([]byte(vectors[2].payload))
	rep, _ := AppendLegacy(nil, LegacyReport, LegacyReportContent{Content: "x", Rand: 1, Timestamp: 2})
	f.Add(rep)
	f.Add([]byte(`{"PacketType":9}`))
	f.Fuzz(func(t *testing.T, p []byte) {
		m, err := DecodeLegacy(p)
		if err != nil {
			return
		}
		var content any = m.Heartbeat
		if m.Type == LegacyReport {
			content = m.Report
		}
		enc, err := AppendLegacy(nil, m.Type, content)
		if err != nil {
			t.Fatal(err)
		}
		m2, err := DecodeLegacy(enc)
		if err != nil || m2 != m {
			t.Fatalf("re-decoded %+v (%v), want %+v", m2, err, m)
		}
	})
}

// FuzzV2: no panic for any payload; a batch that decodes re-encodes, on a
// fresh connection, to samples that decode the same.
func FuzzV2(f *testing.F) {
	f.Add(AppendHello(nil, &Hello{Version: 2, AgentID: "id", Hostname: "h", Labels: []Label{{"a", "b"}}}))
	f.Add(AppendWelcome(nil, &Welcome{Version: 2}))
	f.Add(AppendHeartbeat(nil, &Heartbeat{AgentTime: 5, ServerRecv: 6, ServerSend: 7}, true))
	f.Add(AppendAck(nil, Ack{Seq: 9}))
	f.Add(AppendGoAway(nil, &GoAway{Reason: "r"}))
	f.Add(AppendError(nil, &Error{Code: 3, Message: "m"}))
	b := &Batch{Defs: []SeriesDef{{Name: "up", Labels: []Label{{"job", "node"}}}, {Name: "x"}}}
	for i, v := range []float64{1, 1, 2.5, 2.51, math.NaN(), 1e300, 7} {
		b.Samples = append(b.Samples, Sample{ID: uint32(i % 2), T: int64(i / 3), V: v})
	}
	rec, _ := AppendRecord(nil, b)
	f.Add(rec)
	f.Fuzz(func(t *testing.T, p []byte) {
		if err := decodeAny(p); err != nil || len(p) == 0 || Kind(p[0]) != KindBatch {
			return
		}
		var got Batch
		if err := NewDict(1<<16).DecodeBatch(p, &got); err != nil {
			t.Fatalf("decoded once, not twice: %v", err)
		}
		if h, err := PeekBatch(p); err != nil || h != (BatchHead{got.Final, got.Seq, got.Part, len(got.Defs)}) ||
			len(got.Samples) > BatchMostSamples(len(p)) {
			t.Fatalf("PeekBatch %+v (%v), decoded final %v seq %d part %d defs %d; %d samples from %d bytes",
				h, err, got.Final, got.Seq, got.Part, len(got.Defs), len(got.Samples), len(p))
		}
		// Relayed as an agent relays its records, the batch gives frames
		// that decode as the decoded path's do. (Not always the same
		// bytes: the relay copies definitions as they are, and a varint
		// may be encoded longer than the encoder writes it.)
		var relayed Record
		if err := NewDict(1<<16).DecodeRecord(p, &relayed); err != nil {
			t.Fatalf("DecodeBatch accepts, DecodeRecord refuses: %v", err)
		}
		want, werr := NewEncoder().AppendBatch(nil, 1, &got, 0)
		out, err := NewEncoder().AppendRecordBatch(nil, 1, &relayed, 0)
		if (err == nil) != (werr == nil) {
			t.Fatalf("relay: %v, decoded path: %v", err, werr)
		}
		if err == nil && !sameFrames(t, out, want) {
			t.Fatalf("relayed %x, want frames decoding as %x", out, want)
		}
		rec, err := AppendRecord(nil, &got)
		if err != nil {
			return // a definition too large for a frame is refused, not a bug
		}
		var again Batch
		if err := NewDict(1<<16).DecodeBatch(rec, &again); err != nil {
			t.Fatalf("re-encoded batch: %v", err)
		}
		if len(again.Samples) != len(got.Samples) {
			t.Fatalf("%d samples, want %d", len(again.Samples), len(got.Samples))
		}
		for i, s := range again.Samples {
			w := got.Samples[i]
			if s.T != w.T || math.Float64bits(s.V) != math.Float64bits(w.V) ||
				again.Defs[s.ID].Name != got.Defs[w.ID].Name {
				t.Fatalf("sample %d: %+v, want %+v", i, s, w)
			}
		}
	})
}

// sameFrames reports whether two streams of BATCH frames, each decoded by
// a fresh server Dict, give the same definitions and samples.
func sameFrames(t *testing.T, a, b []byte) bool {
	t.Helper()
	fa, fb := decodeAll(t, a, []int{MaxFrame}), decodeAll(t, b, []int{MaxFrame})
	if len(fa) != len(fb) {
		return false
	}
	da, db := NewDict(1<<16), NewDict(1<<16)
	var ba, bb Batch
	for i := range fa {
		if da.DecodeBatch([]byte(fa[i]), &ba) != nil || db.DecodeBatch([]byte(fb[i]), &bb) != nil ||
			len(ba.Defs) != len(bb.Defs) || len(ba.Samples) != len(bb.Samples) {
			return false
		}
		for j := range ba.Defs {
			x, y := &ba.Defs[j], &bb.Defs[j]
			if x.Type != y.Type || x.Help != y.Help || seriesKey(x) != seriesKey(y) {
				return false
			}
		}
		for j, s := range ba.Samples {
			w := bb.Samples[j]
			if s.ID != w.ID || s.T != w.T || math.Float64bits(s.V) != math.Float64bits(w.V) {
				return false
			}
		}
	}
	return true
}
