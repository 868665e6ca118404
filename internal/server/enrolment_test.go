package server

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"testing"
)

func TestEnrolmentsPersist(t *testing.T) {
	path := filepath.Join(t.TempDir(), "hawk-enrolments")
	e, err := OpenEnrolments(path, 3)
	if err != nil {
		t.Fatal(err)
	}
	issued, err := e.enrol("a", "")
	if err != nil || len(issued) != 64 {
		t.Fatalf("enrol a: %q %v", issued, err)
	}
	own := string(make([]byte, 40))
	if got, err := e.enrol("b", own); err != nil || got != "" {
		t.Fatalf("enrol b with its own secret: %q %v", got, err)
	}
	if _, err := e.enrol("a", ""); !errors.Is(err, errEnrolled) {
		t.Fatalf("second enrolment of a: %v", err)
	}
	if st, err := os.Stat(path); err != nil || st.Mode().Perm() != 0o600 {
		t.Fatalf("file: %v %v", st, err)
	}

	e2, err := OpenEnrolments(path, 3)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		id, secret string
		enrolled   bool
		ok         bool
	}{{"a", issued, true, true}, {"a", "", true, false}, {"b", own, true, true}, {"c", "", false, false}} {
		if enrolled, ok := e2.check(c.id, c.secret); enrolled != c.enrolled || ok != c.ok {
			t.Errorf("check(%s, %q) = %v %v, want %v %v", c.id, c.secret, enrolled, ok, c.enrolled, c.ok)
		}
	}
	if _, err := e2.enrol("c", ""); err != nil {
		t.Fatal(err)
	}
	if _, err := e2.enrol("d", ""); !errors.Is(err, errEnrolmentsFull) {
		t.Fatalf("enrol past the limit: %v", err)
	}
	if ok, err := e2.Forget("a"); !ok || err != nil {
		t.Fatalf("forget: %v %v", ok, err)
	}
	e3, err := OpenEnrolments(path, 0)
	if err != nil {
		t.Fatal(err)
	}
	if enrolled, _ := e3.check("a", issued); enrolled || e3.Len() != 2 {
		t.Fatalf("after forget: a enrolled %v, %d enrolled", enrolled, e3.Len())
	}

	b, _ := os.ReadFile(path)
	b[len(b)/2] ^= 1
	if err := os.WriteFile(path, b, 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := OpenEnrolments(path, 0); !errors.Is(err, ErrCorruptEnrolments) {
		t.Fatalf("damaged file: %v", err)
	}
}

// appendEnrolments appends the file image of sums to dst.
func appendEnrolments(dst []byte, sums map[string][32]byte) []byte {
	dst, _ = encodeEnrolments(dst, nil, sums)
	return dst
}

func FuzzEnrolmentFile(f *testing.F) {
	f.Add(appendEnrolments(nil, map[string][32]byte{"a": {1}, "bb": {2}}))
	f.Add([]byte("HKEN\x01\xff\xff\xff\xff"))
	f.Fuzz(func(t *testing.T, b []byte) {
		sums, err := parseEnrolments(b)
		if err != nil {
			return
		}
		if again, err := parseEnrolments(appendEnrolments(nil, sums)); err != nil || len(again) != len(sums) {
			t.Fatalf("round trip: %v, %d of %d", err, len(again), len(sums))
		}
	})
}

// TestEnrolmentsSaveReusesImage: a rewrite of the enrolment file encodes
// into the previous write's buffers, so a wave of enrolments (each a
// rewrite of the whole file) makes no garbage of file images; before, each
// write grew a fresh image by doubling and sorted a fresh id slice.
func TestEnrolmentsSaveReusesImage(t *testing.T) {
	e, err := OpenEnrolments(filepath.Join(t.TempDir(), "hawk-enrolments"), 0)
	if err != nil {
		t.Fatal(err)
	}
	for i := range 500 {
		if _, err := e.enrol(fmt.Sprintf("agent-%04d", i), ""); err != nil {
			t.Fatal(err)
		}
	}
	if e.buf == nil || e.ids == nil {
		t.Fatalf("no buffers kept after a write: buf %d, ids %d", cap(e.buf), cap(e.ids))
	}
	for _, id := range e.ids[:cap(e.ids)] {
		if id != "" {
			t.Fatalf("kept ids hold %q", id)
		}
	}
	want := appendEnrolments(nil, e.sums)
	var got []byte
	if n := testing.AllocsPerRun(20, func() {
		var ids []string
		got, ids = encodeEnrolments(e.buf[:0], e.ids[:0], e.sums)
		clear(ids)
	}); n != 0 {
		t.Errorf("encoding into kept buffers: %v allocations, want 0", n)
	}
	if !bytes.Equal(got, want) {
		t.Fatal("image encoded into kept buffers differs from a fresh one")
	}
	if sums, err := parseEnrolments(got); err != nil || len(sums) != 500 {
		t.Fatalf("parse: %d ids, %v", len(sums), err)
	}
}

// BenchmarkEnrolmentsSave: one rewrite of a file of 6,000 ids (huge-hello's
// three rounds), the write included.
func BenchmarkEnrolmentsSave(b *testing.B) {
	e, err := OpenEnrolments(filepath.Join(b.TempDir(), "hawk-enrolments"), 0)
	if err != nil {
		b.Fatal(err)
	}
	for i := range 6000 {
		e.sums[fmt.Sprintf("attack-hh-%05d", i)] = [32]byte{byte(i)}
	}
	b.ReportAllocs()
	for b.Loop() {
		e.mu.Lock()
		e.gen++
		e.mu.Unlock()
		if err := e.save(); err != nil {
			b.Fatal(err)
		}
	}
}
