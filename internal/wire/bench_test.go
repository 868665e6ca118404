package wire

import (
	"bufio"
	"bytes"
	"fmt"
	"hash/crc32"
	"io"
	"math/rand/v2"
	"testing"
)

// baselineDecoder is the original demo server's decoder, kept here only as
// the baseline the Decoder is measured against: one buffered ReadByte per
// byte through a nine-state switch, a fresh payload slice per frame.
type baselineDecoder struct {
	r *bufio.Reader
}

const (
	bsHead1 = iota
	bsHead2
	bsLen1
	bsLen2
	bsBody
	bsCheck1
	bsCheck2
	bsTail1
	bsTail2
)

func (d *baselineDecoder) next() ([]byte, error) {
	state, n := bsHead1, 0
	var payload []byte
	var check uint16
	for {
		c, err := d.r.ReadByte()
		if err != nil {
			return nil, err
		}
		switch state {
		case bsHead1:
			if c == 0xFF {
				state = bsHead2
			}
		case bsHead2:
			if c == 0xFF {
				state = bsLen1
			} else {
				state = bsHead1
			}
		case bsLen1:
			n = int(c) << 8
			state = bsLen2
		case bsLen2:
			n |= int(c)
			payload = make([]byte, 0, n)
			state = bsBody
			if n == 0 {
				state = bsCheck1
			}
		case bsBody:
			payload = append(payload, c)
			if len(payload) == n {
				state = bsCheck1
			}
		case bsCheck1:
			check = uint16(c) << 8
			state = bsCheck2
		case bsCheck2:
			check |= uint16(c)
			state = bsTail1
		case bsTail1:
			state = bsHead1
			if c == 0xFF {
				state = bsTail2
			}
		case bsTail2:
			state = bsHead1
			if c == 0xFE && check == uint16(crc32.ChecksumIEEE(payload)>>16) {
				return payload, nil
			}
		}
	}
}

func benchStream(b *testing.B, size int) []byte {
	rng := rand.New(rand.NewPCG(1, uint64(size)))
	var s []byte
	for len(s) < 4<<20 {
		p := make([]byte, size)
		for i := range p {
			p[i] = byte(rng.Uint32())
		}
		var err error
		if s, err = AppendFrame(s, p); err != nil {
			b.Fatal(err)
		}
	}
	return s
}

// loopReader serves a stream over and over, in reads of at most chunk bytes,
// as a socket would.
type loopReader struct {
	s     []byte
	off   int
	chunk int
}

func (r *loopReader) Read(p []byte) (int, error) {
	if r.off == len(r.s) {
		r.off = 0
	}
	n := copy(p[:min(len(p), r.chunk)], r.s[r.off:])
	r.off += n
	return n, nil
}

var benchSizes = []int{64, 1024, 16384}

func BenchmarkDecoder(b *testing.B) {
	for _, size := range benchSizes {
		b.Run(fmt.Sprintf("%dB", size), func(b *testing.B) {
			r := &loopReader{s: benchStream(b, size), chunk: 64 << 10}
			var d Decoder
			b.SetBytes(int64(size + Overhead))
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; i < b.N; {
				p, ok := d.Next()
				if !ok {
					n, _ := r.Read(d.Space())
					d.Commit(n)
					continue
				}
				if len(p) != size {
					b.Fatalf("payload of %d bytes", len(p))
				}
				i++
			}
		})
	}
}

func BenchmarkBaseline(b *testing.B) {
	for _, size := range benchSizes {
		b.Run(fmt.Sprintf("%dB", size), func(b *testing.B) {
			d := baselineDecoder{r: bufio.NewReader(&loopReader{s: benchStream(b, size), chunk: 64 << 10})}
			b.SetBytes(int64(size + Overhead))
			b.ReportAllocs()
			b.ResetTimer()
			for range b.N {
				p, err := d.next()
				if err != nil || len(p) != size {
					b.Fatalf("payload of %d bytes, %v", len(p), err)
				}
			}
		})
	}
}

// TestBaselineAgrees keeps the baseline honest: on intact frames it finds
// what the Decoder finds.
func TestBaselineAgrees(t *testing.T) {
	stream := frames(t, "", "abc", "\xff\xff\x00\x02\xff\xfe", "end")
	d := baselineDecoder{r: bufio.NewReader(bytes.NewReader(stream))}
	var got []string
	for {
		p, err := d.next()
		if err == io.EOF {
			break
		}
		got = append(got, string(p))
	}
	if want := decodeAll(t, stream, []int{len(stream)}); !equal(got, want) {
		t.Fatalf("baseline %q, decoder %q", got, want)
	}
}

func BenchmarkEncodeBatch(b *testing.B) {
	rng := rand.New(rand.NewPCG(1, 2))
	batches := make([]*Batch, 16)
	for i := range batches {
		batches[i] = hostBatch(300, int64(i)*10000, i, rng)
	}
	enc := NewEncoder()
	var dst []byte
	b.ReportAllocs()
	b.ResetTimer()
	for i := range b.N {
		dst, _ = enc.AppendBatch(dst[:0], uint64(i), batches[i%len(batches)], 0)
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*300), "ns/sample")
}

func BenchmarkDecodeBatch(b *testing.B) {
	rng := rand.New(rand.NewPCG(1, 2))
	enc := NewEncoder()
	dict := NewDict(1 << 16)
	var payloads [][]byte
	var got Batch
	for i := range 17 {
		f, _ := enc.AppendBatch(nil, uint64(i), hostBatch(300, int64(i)*10000, i, rng), 0)
		p := f[HeaderLen : len(f)-TrailerLen]
		if i == 0 {
			if err := dict.DecodeBatch(p, &got); err != nil { // defines the series
				b.Fatal(err)
			}
			continue
		}
		payloads = append(payloads, p)
	}
	// Decoding the same steady batches again and again keeps the values in
	// step only for the first pass; the cost is what is measured here.
	b.ReportAllocs()
	b.ResetTimer()
	for i := range b.N {
		if err := dict.DecodeBatch(payloads[i%len(payloads)], &got); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*300), "ns/sample")
}
