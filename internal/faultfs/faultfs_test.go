package faultfs

import (
	"errors"
	"os"
	"path/filepath"
	"testing"
)

func TestNilInjectsNothing(t *testing.T) {
	var in *Injector
	if n, err := in.Check(OpWrite, "x", 10); n != 10 || err != nil {
		t.Fatalf("nil Check = %d, %v", n, err)
	}
	if in.Injected() != 0 || in.Fail(OpSync, "x") != nil {
		t.Fatal("nil injector injected")
	}
}

func TestRules(t *testing.T) {
	in := New(
		Rule{Op: OpSync, PathContains: "seg", Skip: 2, Err: EIO},
		Rule{Op: OpWrite, PathContains: "seg", Budget: 25},
	)
	for i := range 2 {
		if err := in.Fail(OpSync, "a.seg"); err != nil {
			t.Fatalf("sync %d failed before Skip ran out: %v", i, err)
		}
	}
	if err := in.Fail(OpSync, "a.seg"); !errors.Is(err, EIO) {
		t.Fatalf("third sync: %v, want EIO", err)
	}
	if err := in.Fail(OpSync, "META"); err != nil {
		t.Fatalf("sync of another path: %v", err)
	}
	if n, err := in.Check(OpWrite, "a.seg", 20); n != 20 || err != nil {
		t.Fatalf("write within the budget: %d, %v", n, err)
	}
	if n, err := in.Check(OpWrite, "a.seg", 20); n != 5 || !errors.Is(err, ENOSPC) {
		t.Fatalf("write across the budget: %d, %v, want a short write of 5 and ENOSPC", n, err)
	}
	if n, err := in.Check(OpWrite, "a.seg", 1); n != 0 || !errors.Is(err, ENOSPC) {
		t.Fatalf("write after the budget: %d, %v", n, err)
	}
	if in.Injected() != 3 {
		t.Fatalf("Injected = %d, want 3", in.Injected())
	}
	in.Set()
	if n, err := in.Check(OpWrite, "a.seg", 7); n != 7 || err != nil {
		t.Fatalf("after Set(): %d, %v", n, err)
	}
}

func TestWriteShort(t *testing.T) {
	f, err := os.Create(filepath.Join(t.TempDir(), "f.seg"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	in := New(Rule{Op: OpWrite, Budget: 3})
	if err := in.Write(f, []byte("hello")); !errors.Is(err, ENOSPC) {
		t.Fatalf("Write = %v, want ENOSPC", err)
	}
	b, _ := os.ReadFile(f.Name())
	if string(b) != "hel" {
		t.Fatalf("file holds %q, want the 3 allowed bytes", b)
	}
}
