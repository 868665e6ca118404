package wire

import (
	"bytes"
	"encoding/hex"
	"math/rand/v2"
	"strings"
	"testing"
)

// The test vectors of PROTOCOL.md section 1.
var vectors = []struct{ name, payload, frame string }{
	{"empty", "", "ffff00000000fffe"},
	{"abc", "abc", "ffff00036162633524fffe"},
	{"legacy heartbeat",
		`{"PacketType":0,"PacketContent":"eyJ2ZXJzaW9uIjoiMS4wIiwidGltZXN0YW1wIjoxNzAwMDAwMDAwfQ=="}`,
		"ffff005b7b225061636b657454797065223a302c225061636b6574" +
			"436f6e74656e74223a2265794a325a584a7a61573975496a6f694d" +
			"5334774969776964476c745a584e3059573177496a6f784e7a4177" +
			"4d4441774d44417766513d3d227d991afffe"},
}

func TestVectorsEncode(t *testing.T) {
	for _, v := range vectors {
		t.Run(v.name, func(t *testing.T) {
			got, err := AppendFrame(nil, []byte(v.payload))
			if err != nil {
				t.Fatal(err)
			}
			if h := hex.EncodeToString(got); h != v.frame {
				t.Fatalf("frame\n got %s\nwant %s", h, v.frame)
			}
		})
	}
}

func TestVectorsDecode(t *testing.T) {
	for _, v := range vectors {
		t.Run(v.name, func(t *testing.T) {
			frame, _ := hex.DecodeString(v.frame)
			got := decodeAll(t, frame, []int{len(frame)})
			if len(got) != 1 || got[0] != v.payload {
				t.Fatalf("got %q, want [%q]", got, v.payload)
			}
		})
	}
}

func TestAppendFrameTooLarge(t *testing.T) {
	if _, err := AppendFrame(nil, make([]byte, MaxPayload+1)); err != ErrFrameTooLarge {
		t.Fatalf("err = %v, want ErrFrameTooLarge", err)
	}
	f, err := AppendFrame([]byte("x"), make([]byte, MaxPayload))
	if err != nil || len(f) != 1+MaxFrame {
		t.Fatalf("max payload: len %d err %v", len(f), err)
	}
}

// decodeAll feeds stream to a decoder in chunks of the given sizes (the last
// size repeats), drains it at the end as a session does at EOF, and returns
// the payloads.
func decodeAll(t testing.TB, stream []byte, chunks []int) []string {
	t.Helper()
	var d Decoder
	var out []string
	drain := func() {
		for p, ok := d.Next(); ok; p, ok = d.Next() {
			out = append(out, string(p))
		}
	}
	for i := 0; len(stream) > 0; i++ {
		n := chunks[min(i, len(chunks)-1)]
		n = min(n, len(stream))
		for n > 0 {
			k := d.Write(stream[:n])
			stream, n = stream[k:], n-k
			drain()
		}
	}
	for d.Resync() {
		drain()
	}
	d.Release()
	s := d.Stats()
	if s.Frames != uint64(len(out)) {
		t.Fatalf("stats count %d frames, got %d", s.Frames, len(out))
	}
	return out
}

func frames(t testing.TB, payloads ...string) []byte {
	var b []byte
	for _, p := range payloads {
		var err error
		if b, err = AppendFrame(b, []byte(p)); err != nil {
			t.Fatal(err)
		}
	}
	return b
}

func TestDecoderSplitEverywhere(t *testing.T) {
	payloads := []string{"", "abc", strings.Repeat("x", 300), "\xff\xff\x00\x01", "\xff\xfe", "last"}
	stream := frames(t, payloads...)
	for cut := 0; cut <= len(stream); cut++ {
		var d Decoder
		var got []string
		for _, part := range [][]byte{stream[:cut], stream[cut:]} {
			d.Write(part)
			for p, ok := d.Next(); ok; p, ok = d.Next() {
				got = append(got, string(p))
			}
		}
		if !equal(got, payloads) {
			t.Fatalf("cut at %d: got %q", cut, got)
		}
	}
	if got := decodeAll(t, stream, []int{1}); !equal(got, payloads) {
		t.Fatalf("byte by byte: got %q", got)
	}
}

func TestDecoderResync(t *testing.T) {
	good := frames(t, "good")
	badCheck := frames(t, "bad check")
	badCheck[len(badCheck)-3] ^= 1
	badTail := frames(t, "bad tail")
	badTail[len(badTail)-1] = 0
	lenUp := frames(t, "length up")
	lenUp[2] = 0x7f // claims far more than is there: the good frames behind it are inside the claim
	lenDown := frames(t, "length down")
	lenDown[3] -= 3
	cases := []struct {
		name   string
		stream [][]byte
		want   []string
	}{
		{"garbage", [][]byte{[]byte("\x00\x01garbage\xff"), good, []byte("\xff\x00"), good}, []string{"good", "good"}},
		{"bad check", [][]byte{badCheck, good}, []string{"good"}},
		{"bad tail", [][]byte{badTail, good}, []string{"good"}},
		{"length corrupted up", [][]byte{lenUp, good, good}, []string{"good", "good"}},
		{"length corrupted down", [][]byte{lenDown, good}, []string{"good"}},
		{"preamble inside payload", [][]byte{frames(t, "\xff\xff\x00\x00\x00\x00\xff\xfe"), good}, []string{"\xff\xff\x00\x00\x00\x00\xff\xfe", "good"}},
		{"lone preamble byte at end", [][]byte{good, {0xff}}, []string{"good"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			stream := bytes.Join(c.stream, nil)
			for _, chunk := range []int{len(stream), 1, 3, 7} {
				if got := decodeAll(t, stream, []int{chunk}); !equal(got, c.want) {
					t.Fatalf("chunk %d: got %q, want %q", chunk, got, c.want)
				}
			}
		})
	}
}

func TestDecoderCounters(t *testing.T) {
	good := frames(t, "good")
	bad := frames(t, "bad")
	bad[len(bad)-3] ^= 1
	tail := frames(t, "tail")
	tail[len(tail)-2] = 0
	stream := bytes.Join([][]byte{[]byte("zz"), bad, good, tail}, nil)
	var d Decoder
	d.Write(stream)
	for _, ok := d.Next(); ok; _, ok = d.Next() {
	}
	s := d.Stats()
	want := DecoderStats{Frames: 1, Bytes: uint64(len(good)), BadCheck: 1, BadTail: 1,
		Skipped: uint64(len(stream) - len(good))}
	if s != want {
		t.Fatalf("stats %+v, want %+v", s, want)
	}
	if d.Pending() != 0 {
		t.Fatalf("pending %d after a clean end", d.Pending())
	}
}

// TestDecoderRandomChunks mixes intact frames with every kind of damage and
// feeds the stream in random chunk sizes: each intact frame comes out once,
// in order, and nothing else does.
func TestDecoderRandomChunks(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for round := 0; round < 50; round++ {
		stream, want := damagedStream(t, rng, 200)
		var chunks []int
		for range 64 {
			chunks = append(chunks, 1+rng.IntN(4096))
		}
		got := decodeAll(t, stream, chunks)
		if !equal(got, want) {
			t.Fatalf("round %d: got %d frames, want %d", round, len(got), len(want))
		}
	}
}

// damagedStream returns n frames, some intact (whose payloads it returns)
// and some damaged, with garbage between them. Intact payloads start with
// "ok" and hold no 0xFF, so that no damaged frame can turn into one of them.
func damagedStream(t testing.TB, rng *rand.Rand, n int) ([]byte, []string) {
	var stream []byte
	var want []string
	for i := range n {
		payload := make([]byte, rng.IntN(600))
		for j := range payload {
			payload[j] = byte(rng.IntN(255))
		}
		p := "ok" + string(payload)
		f := frames(t, p)
		switch rng.IntN(8) {
		case 0:
			f[len(f)-3] ^= byte(1 + rng.IntN(255)) // check
		case 1:
			f[len(f)-1] = byte(rng.IntN(0xFE)) // tail
		case 2:
			f[2] += byte(1 + rng.IntN(200)) // length up (by at least 256)
		case 3:
			f[3] = byte(len(p) - 1 - rng.IntN(min(len(p), 8)))
			f[2] = byte((len(p) - 1) >> 8) // length down
		case 4:
			stream = append(stream, make([]byte, rng.IntN(20))...) // garbage
			want = append(want, p)
		default:
			want = append(want, p)
		}
		stream = append(stream, f...)
		_ = i
	}
	return stream, want
}

func equal(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}
