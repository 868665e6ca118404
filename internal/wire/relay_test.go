package wire

import (
	"bytes"
	"errors"
	"fmt"
	"hash/maphash"
	"math"
	"math/rand/v2"
	"testing"
)

// TestRelaySeriesIdentity relays collections the way an agent does: each
// kept as a record, read back with DecodeRecord and encoded for the
// connection by AppendRecordBatch. Its frames must be, byte for byte,
// those of the decoded path (DecodeBatch, AppendBatch) on its own
// connection, and the server's Dict must find every sample's own series
// in them. Series come and go and shift position, labels and help texts
// change, and frames are small enough to split batches. The identity
// hash is the real one, one that every identity collides in, and one
// with two values: a collision must never give a series another's id.
func TestRelaySeriesIdentity(t *testing.T) {
	hashes := map[string]func(maphash.Seed, []byte, []byte) uint64{
		"maphash":   hashIdentity,
		"constant":  func(maphash.Seed, []byte, []byte) uint64 { return 42 },
		"two-value": func(_ maphash.Seed, _ []byte, labels []byte) uint64 { return uint64(len(labels) & 1) },
	}
	for name, h := range hashes {
		t.Run(name, func(t *testing.T) {
			rng := rand.New(rand.NewPCG(3, 5))
			var defs []SeriesDef
			for i := range 40 {
				defs = append(defs, testDef(i, 0))
			}
			relay, direct := NewEncoder(), NewEncoder()
			relay.rel.hash = h
			spool, plain, server := NewDict(1<<20), NewDict(1<<20), NewDict(1<<20)
			var rec Record
			var decoded, got Batch
			var keys []string // server dictionary: id → series key
			distinct := map[string]bool{}
			next := 40
			for step := range 300 {
				switch op := rng.IntN(7); {
				case op == 0 && len(defs) > 1:
					i := rng.IntN(len(defs))
					defs = append(defs[:i:i], defs[i+1:]...)
				case op == 1:
					i := rng.IntN(len(defs) + 1)
					defs = append(defs[:i:i], append([]SeriesDef{testDef(next, step)}, defs[i:]...)...)
					next++
				case op == 2:
					i := rng.IntN(len(defs))
					d := defs[i]
					d.Labels = append([]Label(nil), d.Labels...)
					d.Labels[0].Value = fmt.Sprintf("dev%d", rng.IntN(next)) // often one seen before
					defs = append(defs[:i:i], append([]SeriesDef{d}, defs[i+1:]...)...)
				case op == 3:
					i := rng.IntN(len(defs))
					defs[i].Help = fmt.Sprintf("help %d", step)
				case op == 4: // two series swap places
					i, j := rng.IntN(len(defs)), rng.IntN(len(defs))
					defs[i], defs[j] = defs[j], defs[i]
				}
				b := &Batch{}
				seen := map[string]bool{}
				for i := range defs {
					k := seriesKey(&defs[i])
					if seen[k] {
						continue // a collection has each series once
					}
					seen[k] = true
					distinct[k] = true
					b.Defs = append(b.Defs, defs[i])
					if rng.IntN(10) > 0 { // some definitions have no sample
						b.Samples = append(b.Samples, Sample{ID: uint32(len(b.Defs) - 1), T: int64(step) * 1000, V: float64(rng.IntN(1000)) / 4})
					}
				}
				p, err := AppendRecord(nil, b)
				if err != nil {
					t.Fatal(err)
				}
				maxPayload := 0
				if step%3 == 0 {
					maxPayload = 200 + rng.IntN(400)
				}
				if err := spool.DecodeRecord(p, &rec); err != nil {
					t.Fatalf("step %d: DecodeRecord: %v", step, err)
				}
				plain.Reset()
				if err := plain.DecodeBatch(p, &decoded); err != nil {
					t.Fatal(err)
				}
				out, err := relay.AppendRecordBatch(nil, uint64(step+1), &rec, maxPayload)
				if err != nil {
					t.Fatalf("step %d: AppendRecordBatch: %v", step, err)
				}
				want, err := direct.AppendBatch(nil, uint64(step+1), &decoded, maxPayload)
				if err != nil {
					t.Fatal(err)
				}
				if !bytes.Equal(out, want) {
					t.Fatalf("step %d: relayed frames differ from the decoded path's (%d bytes, want %d)", step, len(out), len(want))
				}
				j := 0
				for _, f := range decodeAll(t, out, []int{MaxFrame}) {
					if err := server.DecodeBatch([]byte(f), &got); err != nil {
						t.Fatalf("step %d: server decode: %v", step, err)
					}
					for k := range got.Defs {
						keys = append(keys, seriesKey(&got.Defs[k]))
					}
					for _, s := range got.Samples {
						w := b.Samples[j]
						if want := seriesKey(&b.Defs[w.ID]); keys[s.ID] != want || math.Float64bits(s.V) != math.Float64bits(w.V) {
							t.Fatalf("step %d sample %d: series %q value %v, want %q %v", step, j, keys[s.ID], s.V, want, w.V)
						}
						j++
					}
				}
				if j != len(b.Samples) {
					t.Fatalf("step %d: %d samples of %d", step, j, len(b.Samples))
				}
			}
			if relay.Len() != direct.Len() || relay.Len() > len(distinct) {
				t.Fatalf("%d series defined by the relay, %d by the decoded path, %d distinct", relay.Len(), direct.Len(), len(distinct))
			}
			if name == "constant" && len(relay.rel.collided) != relay.Len()-1 {
				t.Fatalf("%d identities in the collision table, want %d", len(relay.rel.collided), relay.Len()-1)
			}
		})
	}
}

// TestRelayOneDictionaryKind: an Encoder keeps a relay's dictionary and a
// batch encoder's differently; using one for both on a connection is
// refused, and Reset allows the other.
func TestRelayOneDictionaryKind(t *testing.T) {
	b := &Batch{Defs: []SeriesDef{{Name: "up"}}, Samples: []Sample{{ID: 0, T: 1, V: 1}}}
	p, err := AppendRecord(nil, b)
	if err != nil {
		t.Fatal(err)
	}
	var rec Record
	if err := NewDict(10).DecodeRecord(p, &rec); err != nil {
		t.Fatal(err)
	}
	e := NewEncoder()
	if _, err := e.AppendRecordBatch(nil, 1, &rec, 0); err != nil {
		t.Fatal(err)
	}
	if _, err := e.AppendBatch(nil, 2, b, 0); !errors.Is(err, errMixed) {
		t.Fatalf("AppendBatch after AppendRecordBatch: %v, want errMixed", err)
	}
	e.Reset()
	if _, err := e.AppendBatch(nil, 3, b, 0); err != nil {
		t.Fatal(err)
	}
	if _, err := e.AppendRecordBatch(nil, 4, &rec, 0); !errors.Is(err, errMixed) {
		t.Fatalf("AppendRecordBatch after AppendBatch: %v, want errMixed", err)
	}
}

// TestDecodeRecordRefuses: every truncation of a record, and a record with
// more definitions than the Dict may hold, is an error, as DecodeBatch has
// it.
func TestDecodeRecordRefuses(t *testing.T) {
	b := &Batch{Defs: []SeriesDef{testDef(1, 0), testDef(2, 0)},
		Samples: []Sample{{ID: 0, T: 5, V: 1.5}, {ID: 1, T: 5, V: 2}, {ID: 0, T: 6, V: 3}}}
	p, err := AppendRecord(nil, b)
	if err != nil {
		t.Fatal(err)
	}
	var rec Record
	for n := range len(p) {
		if err := NewDict(10).DecodeRecord(p[:n], &rec); err == nil {
			t.Fatalf("%d of %d bytes decoded", n, len(p))
		}
	}
	if err := NewDict(1).DecodeRecord(p, &rec); !errors.Is(err, ErrDictFull) {
		t.Fatalf("2 definitions into a Dict of 1: %v, want ErrDictFull", err)
	}
	if err := NewDict(2).DecodeRecord(p, &rec); err != nil || rec.Len() != 2 || len(rec.Samples) != 3 {
		t.Fatalf("decoded %d definitions, %d samples (%v), want 2, 3", rec.Len(), len(rec.Samples), err)
	}
}

func testDef(i, step int) SeriesDef {
	return SeriesDef{Type: TypeGauge, Name: fmt.Sprintf("node_m%d", i%7), Help: "h",
		Labels: []Label{{"device", fmt.Sprintf("dev%d", i)}, {"job", "node"}}}
}

func seriesKey(d *SeriesDef) string { return string(appendKey(nil, d)) }
