package wire

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
)

// TestAgentPathSeriesIdentity sends collections the way an agent does:
// each as a record (AppendRecord), read back with an interning Dict (its
// spool), re-encoded for the connection (Encoder), decoded by the server's
// Dict. Series come and go and shift position between collections, labels
// and help texts change, so that the position memos of the interning Dict
// and of the Encoder meet both hits and misses. Every sample must arrive
// with its own series' name, labels and value.
func TestAgentPathSeriesIdentity(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 9))
	var defs []SeriesDef
	for i := range 60 {
		defs = append(defs, testDef(i, 0))
	}
	spoolDict := NewDict(1 << 20)
	spoolDict.Intern()
	plain := NewDict(1 << 20)
	enc := NewEncoder()
	server := NewDict(1 << 20)
	var keys []string // server dictionary: id → series key
	var fromSpool, fromPlain, got Batch
	distinct := map[string]bool{}
	next := 60
	for step := range 200 {
		switch op := rng.IntN(6); {
		case op == 0 && len(defs) > 1: // a series goes away; the rest shift
			i := rng.IntN(len(defs))
			defs = append(defs[:i:i], defs[i+1:]...)
		case op == 1: // a new series appears somewhere
			i := rng.IntN(len(defs) + 1)
			defs = append(defs[:i:i], append([]SeriesDef{testDef(next, step)}, defs[i:]...)...)
			next++
		case op == 2: // a label value changes in place
			i := rng.IntN(len(defs))
			d := defs[i]
			d.Labels = append([]Label(nil), d.Labels...)
			d.Labels[0].Value = fmt.Sprintf("dev%d-%d", i, step)
			defs = append(defs[:i:i], append([]SeriesDef{d}, defs[i+1:]...)...)
		case op == 3: // only the help text changes: the same series
			i := rng.IntN(len(defs))
			defs[i].Help = fmt.Sprintf("help %d", step)
		}
		b := &Batch{Defs: defs}
		for i := range defs {
			distinct[seriesKey(&defs[i])] = true
		}
		for i := range defs {
			b.Samples = append(b.Samples, Sample{ID: uint32(i), T: int64(step) * 1000, V: float64(rng.IntN(1000)) / 4})
		}
		rec, err := AppendRecord(nil, b)
		if err != nil {
			t.Fatal(err)
		}
		spoolDict.Reset()
		if err := spoolDict.DecodeBatch(rec, &fromSpool); err != nil {
			t.Fatalf("step %d: spool decode: %v", step, err)
		}
		plain.Reset()
		if err := plain.DecodeBatch(rec, &fromPlain); err != nil {
			t.Fatal(err)
		}
		if len(fromSpool.Defs) != len(fromPlain.Defs) {
			t.Fatalf("step %d: %d defs with the memo, %d without", step, len(fromSpool.Defs), len(fromPlain.Defs))
		}
		for i := range fromSpool.Defs {
			a, w := &fromSpool.Defs[i], &fromPlain.Defs[i]
			if seriesKey(a) != seriesKey(w) || a.Help != w.Help || a.Type != w.Type {
				t.Fatalf("step %d def %d: memo gave %+v, want %+v", step, i, *a, *w)
			}
		}
		stream, err := enc.AppendBatch(nil, uint64(step+1), &fromSpool, 0)
		if err != nil {
			t.Fatal(err)
		}
		j := 0
		for _, p := range decodeAll(t, stream, []int{MaxFrame}) {
			if err := server.DecodeBatch([]byte(p), &got); err != nil {
				t.Fatalf("step %d: server decode: %v", step, err)
			}
			for k := range got.Defs {
				keys = append(keys, seriesKey(&got.Defs[k]))
			}
			for _, s := range got.Samples {
				w := b.Samples[j]
				if want := seriesKey(&defs[w.ID]); keys[s.ID] != want || math.Float64bits(s.V) != math.Float64bits(w.V) {
					t.Fatalf("step %d sample %d: series %q value %v, want %q %v", step, j, keys[s.ID], s.V, want, w.V)
				}
				j++
			}
		}
		if j != len(b.Samples) {
			t.Fatalf("step %d: %d samples of %d", step, j, len(b.Samples))
		}
	}
	if enc.Len() != len(distinct) {
		t.Fatalf("%d series defined on the connection for %d distinct ones", enc.Len(), len(distinct))
	}
}

func testDef(i, step int) SeriesDef {
	return SeriesDef{Type: TypeGauge, Name: fmt.Sprintf("node_m%d", i%7), Help: "h",
		Labels: []Label{{"device", fmt.Sprintf("dev%d", i)}, {"job", "node"}}}
}

func seriesKey(d *SeriesDef) string { return string(appendKey(nil, d)) }
