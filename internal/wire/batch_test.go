package wire

import (
	"bytes"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"runtime"
	"testing"
	"unsafe"
)

// hostBatch builds a batch shaped like one collection of a host: n series
// at time t with values derived from step.
func hostBatch(n int, t int64, step int, rng *rand.Rand) *Batch {
	b := &Batch{}
	for i := range n {
		b.Defs = append(b.Defs, SeriesDef{Type: TypeCounter, Name: fmt.Sprintf("node_metric_%d_total", i%40),
			Help: "help text", Labels: []Label{{"device", fmt.Sprintf("dev%d", i)}, {"instance", "web-01"}, {"job", "node"}}})
		var v float64
		switch i % 5 {
		case 0:
			v = float64(i * 1000) // constant
		case 1:
			v = float64(i*7 + step*rng.IntN(3000)) // integer counter
		case 2:
			v = float64(int64(i*1000+step*rng.IntN(200))) / 100 // centiseconds
		case 3:
			v = rng.Float64() * 1e9 // noise
		default:
			v = float64(step) * 0.25
		}
		b.Samples = append(b.Samples, Sample{ID: uint32(i), T: t, V: v})
	}
	return b
}

// roundTrip sends batches through an Encoder and a Dict as over one
// connection and checks every sample comes back bit for bit.
func roundTrip(t *testing.T, batches []*Batch, maxPayload int) (wireBytes, samples int) {
	t.Helper()
	enc := NewEncoder()
	dict := NewDict(1 << 20)
	var got Batch
	for seq, b := range batches {
		stream, err := enc.AppendBatch(nil, uint64(seq+1), b, maxPayload)
		if err != nil {
			t.Fatal(err)
		}
		wireBytes += len(stream)
		i, part := 0, uint32(0)
		for _, p := range decodeAll(t, stream, []int{MaxFrame}) {
			if err := dict.DecodeBatch([]byte(p), &got); err != nil {
				t.Fatalf("batch %d part %d: %v", seq, part, err)
			}
			if got.Seq != uint64(seq+1) || got.Part != part {
				t.Fatalf("seq %d part %d, want %d %d", got.Seq, got.Part, seq+1, part)
			}
			if h, err := PeekBatch([]byte(p)); err != nil || h != (BatchHead{got.Final, got.Seq, got.Part, len(got.Defs)}) ||
				len(got.Samples) > BatchMostSamples(len(p)) {
				t.Fatalf("batch %d part %d: PeekBatch %+v (%v), decoded %+v; %d samples from %d bytes, at most %d",
					seq, part, h, err, got, len(got.Samples), len(p), BatchMostSamples(len(p)))
			}
			for _, s := range got.Samples {
				w := b.Samples[i]
				if s.T != w.T || math.Float64bits(s.V) != math.Float64bits(w.V) {
					t.Fatalf("batch %d sample %d: got %v@%d, want %v@%d", seq, i, s.V, s.T, w.V, w.T)
				}
				i++
			}
			part++
			if got.Final != (i == len(b.Samples)) {
				t.Fatalf("final flag %v after %d of %d samples", got.Final, i, len(b.Samples))
			}
		}
		if i != len(b.Samples) {
			t.Fatalf("batch %d: %d samples back of %d", seq, i, len(b.Samples))
		}
		samples += i
	}
	return wireBytes, samples
}

func TestBatchRoundTrip(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	var batches []*Batch
	for step := range 30 {
		batches = append(batches, hostBatch(300, 1700000000000+int64(step)*10000, step, rng))
	}
	roundTrip(t, batches, 0)
}

func TestBatchSplitAcrossFrames(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	var batches []*Batch
	for step := range 5 {
		batches = append(batches, hostBatch(3000, int64(step)*1000, step, rng))
	}
	for _, limit := range []int{200, 1000, 0} {
		t.Run(fmt.Sprint(limit), func(t *testing.T) { roundTrip(t, batches, limit) })
	}
}

func TestBatchSpecialValues(t *testing.T) {
	vals := []float64{0, math.Copysign(0, -1), 1, -1, math.NaN(), math.Float64frombits(0x7ff0000000000002), // Prometheus' stale marker
		math.Inf(1), math.Inf(-1), math.MaxFloat64, math.SmallestNonzeroFloat64, 1 << 53, 1<<53 + 2, -(1 << 53),
		0.1, 0.2, 0.30000000000000004, 12345.67, 12345.68, 1e300, -1e-300, 99.99, 100}
	b := &Batch{Defs: []SeriesDef{{Name: "x"}, {Name: "y", Labels: []Label{{"a", "b"}}}}}
	for i, v := range vals {
		for _, w := range vals {
			b.Samples = append(b.Samples, Sample{ID: uint32(i % 2), T: int64(i), V: v}, Sample{ID: uint32(i % 2), T: int64(i), V: w})
		}
	}
	roundTrip(t, []*Batch{b}, 0)
}

func TestBatchGroupsAndOrder(t *testing.T) {
	// Timestamps that go back and forth, ids in any order, repeats.
	b := &Batch{Defs: []SeriesDef{{Name: "a"}, {Name: "b"}, {Name: "c"}}}
	for i, id := range []uint32{2, 0, 1, 1, 2, 0, 0, 2, 1} {
		b.Samples = append(b.Samples, Sample{ID: id, T: []int64{5, 5, -3, 7, 7, 7, 1 << 40, 2, 2}[i], V: float64(i)})
	}
	roundTrip(t, []*Batch{b, b, b}, 0)
	roundTrip(t, []*Batch{b}, 60)
}

func TestRecordRoundTrip(t *testing.T) {
	b := hostBatch(50, 42, 1, rand.New(rand.NewPCG(1, 1)))
	rec, err := AppendRecord(nil, b)
	if err != nil {
		t.Fatal(err)
	}
	var got Batch
	if err := NewDict(1000).DecodeBatch(rec, &got); err != nil {
		t.Fatal(err)
	}
	if len(got.Defs) != 50 || len(got.Samples) != 50 || !got.Final {
		t.Fatalf("%d defs %d samples final %v", len(got.Defs), len(got.Samples), got.Final)
	}
	for i, s := range got.Samples {
		d := got.Defs[s.ID]
		w := b.Defs[b.Samples[i].ID]
		if d.Name != w.Name || d.Labels[0] != w.Labels[0] || d.Type != w.Type || d.Help != w.Help || s.V != b.Samples[i].V {
			t.Fatalf("sample %d: %+v %v, want %+v %v", i, d, s.V, w, b.Samples[i].V)
		}
	}
	// The record is connection-free: re-encoding it for a connection gives
	// the same samples.
	roundTrip(t, []*Batch{&got}, 0)
}

// A reused RecordEncoder writes each record exactly as a fresh one would,
// whatever it encoded before, and once warm it does not allocate.
func TestRecordEncoderReuse(t *testing.T) {
	rng := rand.New(rand.NewPCG(2, 2))
	var r RecordEncoder
	var out []byte
	for i, b := range []*Batch{hostBatch(50, 1, 1, rng), hostBatch(7, 2, 2, rng), hostBatch(50, 3, 3, rng)} {
		want, err := AppendRecord(nil, b)
		if err != nil {
			t.Fatal(err)
		}
		if out, err = r.Append(out[:0], b); err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(out, want) {
			t.Fatalf("record %d from the reused encoder differs from a fresh one's", i)
		}
		// A record, its definitions written straight into it, is the
		// payload a fresh connection's Encoder frames for the batch with
		// sequence 0: records spooled by earlier versions read the same.
		framed, err := NewEncoder().AppendBatch(nil, 0, b, 0)
		if err != nil {
			t.Fatal(err)
		}
		if p := decodeAll(t, framed, []int{MaxFrame}); len(p) != 1 || p[0] != string(out) {
			t.Fatalf("record %d differs from the framed batch's payload", i)
		}
	}
	b := hostBatch(300, 4, 4, rng)
	out, _ = r.Append(out[:0], b)
	if n := testing.AllocsPerRun(20, func() { out, _ = r.Append(out[:0], b) }); n != 0 {
		t.Fatalf("%v allocations per record once warm, want 0", n)
	}
}

func TestBatchDictLimit(t *testing.T) {
	b := hostBatch(10, 0, 0, rand.New(rand.NewPCG(1, 1)))
	p, _ := NewEncoder().AppendBatch(nil, 1, b, 0)
	var d Decoder
	d.Write(p)
	payload, _ := d.Next()
	var got Batch
	if err := NewDict(9).DecodeBatch(payload, &got); !errors.Is(err, ErrDictFull) {
		t.Fatalf("err %v, want ErrDictFull", err)
	}
}

func TestBatchMalformed(t *testing.T) {
	b := hostBatch(5, 0, 0, rand.New(rand.NewPCG(1, 1)))
	p, _ := AppendRecord(nil, b)
	for n := 0; n < len(p); n++ {
		var got Batch
		if err := NewDict(100).DecodeBatch(p[:n], &got); err == nil {
			t.Fatalf("cut to %d of %d decoded", n, len(p))
		}
	}
	// A sample that refers to a series never defined.
	bad := []byte{byte(KindBatch), flagFinal, 1, 0, 0, 1, 0, 1, 5 << 3}
	var got Batch
	if err := NewDict(100).DecodeBatch(bad, &got); !errors.Is(err, ErrMalformed) {
		t.Fatalf("undefined id: %v", err)
	}
}

// TestBytesPerSample measures the steady state of a connection: after the
// first batch defined the series, a host-shaped batch costs few bytes per
// sample.
func TestBytesPerSample(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 8))
	enc := NewEncoder()
	var total, n int
	for step := range 20 {
		b := hostBatch(300, int64(step)*10000, step, rng)
		out, err := enc.AppendBatch(nil, uint64(step+1), b, 0)
		if err != nil {
			t.Fatal(err)
		}
		if step > 0 {
			total += len(out)
			n += len(b.Samples)
		}
	}
	t.Logf("steady state: %.2f bytes per sample on the wire (frames included)", float64(total)/float64(n))
	// One sample in five is random noise (8-9 bytes); the rest must be
	// small enough to keep the average under 4.
	if per := float64(total) / float64(n); per > 4 {
		t.Fatalf("%.2f bytes per sample", per)
	}
}

// TestDecodeBatchSizesSamplesOnce: a part of 65,000 one-byte samples (the
// open-batch attack of docs/security.md) is decoded into a fresh Batch
// with one allocation of its samples, not a slice grown by doubling: the
// server's accounting (24 bytes a sample) is then what it holds, and the
// buffer fits the pool it goes back to.
func TestDecodeBatchSizesSamplesOnce(t *testing.T) {
	const n = 65000
	b := &Batch{Defs: []SeriesDef{{Name: "m"}}}
	for range n {
		b.Samples = append(b.Samples, Sample{ID: 0, T: 1, V: 1})
	}
	stream, err := NewEncoder().AppendBatch(nil, 1, b, 0)
	if err != nil {
		t.Fatal(err)
	}
	p := decodeAll(t, stream, []int{MaxFrame})[0]
	var got Batch
	var m0, m1 runtime.MemStats
	runtime.ReadMemStats(&m0)
	if err := NewDict(10).DecodeBatch([]byte(p), &got); err != nil {
		t.Fatal(err)
	}
	runtime.ReadMemStats(&m1)
	size := int(unsafe.Sizeof(Sample{}))
	if alloc, most := m1.TotalAlloc-m0.TotalAlloc, uint64(len(got.Samples)*size*11/10+len(p)+4096); alloc > most {
		t.Fatalf("decoding %d samples allocated %d bytes, want at most %d (%d a sample)", len(got.Samples), alloc, most, size)
	}
	if cap(got.Samples) > 1<<16 {
		t.Fatalf("cap %d for %d samples", cap(got.Samples), len(got.Samples))
	}
}
